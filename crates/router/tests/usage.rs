//! Field usage over real HTTP and a real store: traffic from two clients
//! over the test subgraphs (`support/`), then the admin listener's report
//! (`GET /admin/usage`): the never-requested list is exactly the API
//! schema's fields minus those the queries selected, `field=` lists the
//! clients and operations that used a field, two routers sharing one Redis
//! store add up, and the HTML page loads in headless Chromium.
//!
//! Redis: `GOLIATH_TEST_REDIS_URL`, else a `redis-server` on PATH started
//! here; without either the Redis test fails and says so.

#[allow(dead_code)]
mod support;

use std::collections::BTreeSet;
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use apollo_compiler::schema::ExtendedType;
use bytes::Bytes;
use goliath_router::admin::{self, Admin};
use goliath_router::http::{serve, ServerState};
use goliath_router::migrations::Migrations;
use goliath_router::store::{self, Store, StoreConfig};
use goliath_router::usage::Usage;
use goliath_router::{Config, Pipeline};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use support::{start_subgraphs, RequestLog};
use tokio::net::TcpListener;

const TOKEN: &str = "usage-t0ken";

/// A router with its admin listener.
struct Router {
    graphql: SocketAddr,
    admin: SocketAddr,
    usage: Arc<Usage>,
}

fn config() -> Config {
    let mut config = Config::default();
    config.usage.enabled = true;
    // Flushed by the report (and by hand); the timer stays out of the way.
    config.usage.flush_interval_ms = 60_000;
    config
}

async fn start_router(sdl: &str, store: Arc<dyn Store>) -> Router {
    let config = config();
    let migrations = Migrations::new(&config.migrations, &config.store);
    let usage = Usage::new(&config.usage, &config.store).with_store(store);
    let pipeline = Pipeline::with_usage(sdl, &config, migrations.clone(), usage.clone()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let graphql = listener.local_addr().unwrap();
    let state = Arc::new(ServerState::new(&config));
    state.set_handler(Some(Arc::new(pipeline)));
    tokio::spawn(serve(listener, state, std::future::pending()));
    let admin_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = admin_listener.local_addr().unwrap();
    tokio::spawn(admin::serve(
        admin_listener,
        Arc::new(Admin::new(TOKEN, migrations).with_usage(usage.clone())),
        std::future::pending(),
    ));
    Router {
        graphql,
        admin,
        usage,
    }
}

/// GET or POST; the status and body.
async fn http(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Bytes) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut request = http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let response = client
        .request(request.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        response.into_body().collect().await.unwrap().to_bytes(),
    )
}

/// Sends `query` as `client` (name, version), expecting data without errors.
async fn send(router: &Router, client: Option<(&str, &str)>, query: &str) {
    let mut headers = vec![("content-type", "application/json")];
    if let Some((name, version)) = client {
        headers.push(("apollographql-client-name", name));
        headers.push(("apollographql-client-version", version));
    }
    let url = format!("http://{}/graphql", router.graphql);
    let (status, body) = http("POST", &url, &headers, Some(json!({ "query": query }))).await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
}

/// `GET /admin/usage?{query}` with the token.
async fn report(router: &Router, query: &str) -> Value {
    let url = format!("http://{}/admin/usage?{query}", router.admin);
    let auth = format!("Bearer {TOKEN}");
    let (status, body) = http("GET", &url, &[("authorization", &auth)], None).await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status, 200, "{text}");
    serde_json::from_slice(&body).unwrap()
}

const ME: &str = "query Me { me { id name } }";
const TOP: &str =
    "query Top { topProducts { upc name price reviews { body author { username } } } }";
const PRODUCT: &str =
    "{ __typename product(upc: \"1\") { ...P __typename } } fragment P on Product { inStock }";

/// What the queries above select.
const SELECTED: &[&str] = &[
    "Query.me",
    "User.id",
    "User.name",
    "Query.topProducts",
    "Product.upc",
    "Product.name",
    "Product.price",
    "Product.reviews",
    "Review.body",
    "Review.author",
    "User.username",
    "Query.product",
    "Product.inStock",
];

/// The API schema's object and interface fields, minus `SELECTED`.
fn expected_never_requested(sdl: &str) -> Vec<String> {
    let supergraph = goliath_supergraph::Supergraph::parse(sdl).unwrap();
    let mut all = BTreeSet::new();
    for (name, ty) in &supergraph.api_schema.types {
        if ty.is_built_in() {
            continue;
        }
        let fields = match ty {
            ExtendedType::Object(o) => o.fields.keys().collect::<Vec<_>>(),
            ExtendedType::Interface(i) => i.fields.keys().collect(),
            _ => continue,
        };
        for f in fields {
            all.insert(format!("{name}.{f}"));
        }
    }
    assert!(all.len() > SELECTED.len(), "{all:?}");
    for s in SELECTED {
        assert!(all.contains(*s), "{s} is not in the API schema");
        all.remove(*s);
    }
    all.into_iter().collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|u| u["field"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_report_lists_unused_fields_and_who_uses_a_field() {
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(&StoreConfig {
        dir: dir.path().to_owned(),
        ..StoreConfig::default()
    })
    .await
    .unwrap();
    let subgraphs = start_subgraphs(&RequestLog::default()).await;
    let sdl = subgraphs.supergraph();
    let router = start_router(&sdl, store).await;
    for _ in 0..3 {
        send(&router, Some(("web", "1.0")), ME).await;
    }
    send(&router, Some(("ios", "2.1")), ME).await;
    send(&router, Some(("ios", "2.1")), TOP).await;
    send(&router, None, PRODUCT).await;
    // Refused before execution: not counted.
    let url = format!("http://{}/graphql", router.graphql);
    let (_, body) = http(
        "POST",
        &url,
        &[("content-type", "application/json")],
        Some(json!({"query": "{ me { nope } }"})),
    )
    .await;
    assert!(String::from_utf8_lossy(&body).contains("GRAPHQL_VALIDATION_FAILED"));
    router.usage.flush().await.unwrap();

    let r = report(&router, "days=30&top=100&field=User.name").await;
    assert_eq!(r["days"], json!(30));
    assert_eq!(
        strings(&r["never_requested"]),
        expected_never_requested(&sdl),
        "{r:#}"
    );
    let top: Vec<(String, u64)> = r["top"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["field"].as_str().unwrap().to_owned(),
                t["requests"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(top.len(), SELECTED.len(), "{top:?}");
    assert_eq!(top[0], ("Query.me".to_owned(), 4));
    assert!(top.contains(&("User.name".to_owned(), 4)), "{top:?}");
    assert!(top.contains(&("Product.inStock".to_owned(), 1)), "{top:?}");
    assert_eq!(r["field"]["field"], json!("User.name"));
    assert_eq!(r["field"]["requests"], json!(4));
    assert_eq!(
        r["field"]["users"],
        json!([
            {"client": "web", "version": "1.0", "operation": "Me", "requests": 3},
            {"client": "ios", "version": "2.1", "operation": "Me", "requests": 1},
        ])
    );
    // The anonymous operation of a client that sent no name.
    let r = report(&router, "field=Product.inStock").await;
    assert_eq!(
        r["field"]["users"],
        json!([{"client": "unknown", "version": "", "operation": "", "requests": 1}])
    );
    // More traffic later adds up; the top list is cut at `top`.
    send(&router, Some(("web", "1.1")), TOP).await;
    let r = report(&router, "top=2&field=Product.price").await;
    assert_eq!(r["top"].as_array().unwrap().len(), 2);
    assert_eq!(r["field"]["requests"], json!(2));
    assert_eq!(r["field"]["users"].as_array().unwrap().len(), 2);
    // The token and the parameters are checked.
    let url = format!("http://{}/admin/usage", router.admin);
    assert_eq!(http("GET", &url, &[], None).await.0, 401);
    let url = format!("http://{}/admin/usage?days=0", router.admin);
    let auth = format!("Bearer {TOKEN}");
    assert_eq!(
        http("GET", &url, &[("authorization", &auth)], None).await.0,
        400
    );
}

/// A Redis URL: `GOLIATH_TEST_REDIS_URL`, else a `redis-server` started
/// here (killed when the guard drops); fails clearly without either.
fn redis() -> (String, Option<KillOnDrop>) {
    if let Ok(url) = std::env::var("GOLIATH_TEST_REDIS_URL") {
        if !url.is_empty() {
            return (url, None);
        }
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "this test needs Redis: set GOLIATH_TEST_REDIS_URL or put redis-server on PATH ({e})"
            )
        });
    let guard = KillOnDrop(child);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "redis-server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (format!("redis://127.0.0.1:{port}"), Some(guard))
}

/// A child process killed when dropped.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn two_routers_sharing_redis_add_up() {
    let (url, _server) = redis();
    let prefix = format!(
        "goliath-usage-test:{}:{}:",
        std::process::id(),
        fastrand::u64(..)
    );
    let subgraphs = start_subgraphs(&RequestLog::default()).await;
    let sdl = subgraphs.supergraph();
    let a = start_router(&sdl, store::open_redis(&url, &prefix).await.unwrap()).await;
    let b = start_router(&sdl, store::open_redis(&url, &prefix).await.unwrap()).await;
    for _ in 0..2 {
        send(&a, Some(("web", "1.0")), ME).await;
    }
    send(&b, Some(("web", "1.0")), ME).await;
    send(&b, Some(("ios", "2.1")), ME).await;
    a.usage.flush().await.unwrap();
    b.usage.flush().await.unwrap();
    let r = report(&a, "field=User.name").await;
    assert_eq!(r["field"]["requests"], json!(4), "{r:#}");
    assert_eq!(
        r["field"]["users"],
        json!([
            {"client": "web", "version": "1.0", "operation": "Me", "requests": 3},
            {"client": "ios", "version": "2.1", "operation": "Me", "requests": 1},
        ])
    );
    assert_eq!(report(&b, "field=User.name").await["field"], r["field"]);
    let store = store::open_redis(&url, &prefix).await.unwrap();
    for key in store.keys("").await.unwrap() {
        store.delete(&key).await.unwrap();
    }
}

/// Chromium: `$CHROMIUM`, else `/usr/bin/chromium`; fails clearly without.
fn chromium() -> PathBuf {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.is_file(),
        "Chromium is missing at {}: this test needs it (`apt-get install -y chromium`), \
         or set CHROMIUM to its path",
        path.display()
    );
    path
}

/// The DOM Chromium builds for `url` (`--dump-dom`).
fn dump_dom(url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let guard = KillOnDrop(child);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut guard = guard;
    loop {
        if guard.0.try_wait().unwrap().is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "chromium did not finish");
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_loads_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(&StoreConfig {
        dir: dir.path().to_owned(),
        ..StoreConfig::default()
    })
    .await
    .unwrap();
    let subgraphs = start_subgraphs(&RequestLog::default()).await;
    let router = start_router(&subgraphs.supergraph(), store).await;
    send(&router, Some(("web<b>", "1.0")), ME).await;
    let url = format!(
        "http://{}/admin/usage.html?token={TOKEN}&field=User.name",
        router.admin
    );
    let dom = tokio::task::spawn_blocking(move || dump_dom(&url))
        .await
        .unwrap();
    assert!(dom.contains("Field usage"), "{dom}");
    assert!(dom.contains("Who uses <code>User.name</code>"), "{dom}");
    assert!(dom.contains("<code>Product.weight</code>"), "{dom}");
    assert!(dom.contains("web&lt;b&gt;"), "{dom}");
}
