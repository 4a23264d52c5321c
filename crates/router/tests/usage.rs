//! Field usage over real HTTP and a real store: traffic from two clients
//! over the test subgraphs (`support/`), then the admin listener's report
//! (`GET /admin/usage`): the never-requested list is exactly the API
//! schema's fields minus those the queries selected, `field=` lists the
//! clients and operations that used a field, two routers sharing one Redis
//! store add up, and the HTML page loads in headless Chromium. Then the
//! flushes: counts a failed write left are written by the next flush under
//! the day they were counted (a store that fails on demand), days older
//! than `usage.retention_days` are deleted once a day, and counting from
//! many threads and requests at once, while flushing, loses nothing.
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

/// The embedded store in `dir`.
async fn redb_store(dir: &tempfile::TempDir) -> Arc<dyn Store> {
    store::open(&StoreConfig {
        dir: dir.path().to_owned(),
        ..StoreConfig::default()
    })
    .await
    .unwrap()
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
    let store = redb_store(&dir).await;
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
    let store = redb_store(&dir).await;
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

/// A redb store whose `add` fails while `failing` names a part of the key
/// (`Some("")`: every key).
struct FlakyStore {
    inner: store::RedbStore,
    failing: std::sync::Mutex<Option<String>>,
}

impl FlakyStore {
    async fn open(dir: &std::path::Path) -> Arc<FlakyStore> {
        Arc::new(FlakyStore {
            inner: store::RedbStore::open(dir).await.unwrap(),
            failing: std::sync::Mutex::new(None),
        })
    }

    fn fail(&self, part: Option<&str>) {
        *self.failing.lock().unwrap() = part.map(str::to_owned);
    }
}

#[async_trait::async_trait]
impl Store for FlakyStore {
    async fn add(&self, key: &str, counts: &[(String, i64)]) -> Result<(), store::StoreError> {
        let failing = self.failing.lock().unwrap().clone();
        if failing.is_some_and(|part| key.contains(&part)) {
            return Err(store::StoreError(format!("refusing {key}")));
        }
        self.inner.add(key, counts).await
    }
    async fn counters(
        &self,
        key: &str,
    ) -> Result<std::collections::BTreeMap<String, i64>, store::StoreError> {
        self.inner.counters(key).await
    }
    async fn push_capped(
        &self,
        key: &str,
        items: &[Vec<u8>],
        keep: usize,
    ) -> Result<(), store::StoreError> {
        self.inner.push_capped(key, items, keep).await
    }
    async fn list(&self, key: &str) -> Result<Vec<Vec<u8>>, store::StoreError> {
        self.inner.list(key).await
    }
    async fn set_add(&self, key: &str, members: &[String]) -> Result<(), store::StoreError> {
        self.inner.set_add(key, members).await
    }
    async fn set_members(&self, key: &str) -> Result<BTreeSet<String>, store::StoreError> {
        self.inner.set_members(key).await
    }
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, store::StoreError> {
        self.inner.get(key).await
    }
    async fn put(
        &self,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<(), store::StoreError> {
        self.inner.put(key, value, ttl).await
    }
    async fn delete(&self, key: &str) -> Result<(), store::StoreError> {
        self.inner.delete(key).await
    }
    async fn keys(&self, prefix: &str) -> Result<Vec<String>, store::StoreError> {
        self.inner.keys(prefix).await
    }
}

/// 2024-03-01T12:00:00Z, and a day in seconds.
const MARCH_1: u64 = 1_709_294_400;
const DAY: u64 = 86_400;

/// The counters of `field` on `date`, as `(name, n)` with `␟` shown as `/`.
async fn counters(store: &dyn Store, date: &str, field: &str) -> Vec<(String, i64)> {
    let key = goliath_router::usage::key(date, field);
    store
        .counters(&key)
        .await
        .unwrap()
        .into_iter()
        .map(|(name, n)| (name.replace('\u{1f}', "/"), n))
        .collect()
}

fn named(counts: &[(&str, i64)]) -> Vec<(String, i64)> {
    counts.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect()
}

#[tokio::test]
async fn a_failed_flush_keeps_the_counts_under_their_day_for_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let flaky = FlakyStore::open(dir.path()).await;
    let subgraphs = start_subgraphs(&RequestLog::default()).await;
    let router = start_router(&subgraphs.supergraph(), flaky.clone()).await;
    router.usage.set_now(MARCH_1);
    for _ in 0..3 {
        send(&router, Some(("web", "1.0")), ME).await;
    }
    flaky.fail(Some(""));
    let e = router.usage.flush().await.unwrap_err();
    assert!(e.contains("refusing usage:2024-03-01:"), "{e}");
    assert!(flaky.keys("usage:").await.unwrap().is_empty());
    // Still failing: the kept counts are not lost by a second failure.
    send(&router, Some(("ios", "2.1")), ME).await;
    router.usage.flush().await.unwrap_err();
    // The store is back the next day: the counts land on the day counted.
    router.usage.set_now(MARCH_1 + DAY);
    send(&router, Some(("web", "1.0")), ME).await;
    flaky.fail(None);
    router.usage.flush().await.unwrap();
    assert_eq!(
        counters(&*flaky, "2024-03-01", "User.name").await,
        named(&[("ios/2.1/Me", 1), ("web/1.0/Me", 3)])
    );
    assert_eq!(
        counters(&*flaky, "2024-03-02", "User.name").await,
        named(&[("web/1.0/Me", 1)])
    );
    // Written once: a flush with nothing new writes nothing again.
    router.usage.flush().await.unwrap();
    let r = report(&router, "days=2&field=User.name").await;
    assert_eq!(r["field"]["requests"], json!(5), "{r:#}");
}

#[tokio::test]
async fn only_the_fields_whose_write_failed_are_written_again() {
    let dir = tempfile::tempdir().unwrap();
    let flaky = FlakyStore::open(dir.path()).await;
    let subgraphs = start_subgraphs(&RequestLog::default()).await;
    let router = start_router(&subgraphs.supergraph(), flaky.clone()).await;
    router.usage.set_now(MARCH_1);
    send(&router, Some(("web", "1.0")), ME).await;
    send(&router, Some(("web", "1.0")), ME).await;
    flaky.fail(Some(":User.name"));
    router.usage.flush().await.unwrap_err();
    assert_eq!(
        counters(&*flaky, "2024-03-01", "Query.me").await,
        named(&[("web/1.0/Me", 2)])
    );
    assert!(counters(&*flaky, "2024-03-01", "User.name")
        .await
        .is_empty());
    flaky.fail(None);
    send(&router, Some(("web", "1.0")), ME).await;
    router.usage.flush().await.unwrap();
    for field in ["Query.me", "User.id", "User.name"] {
        assert_eq!(
            counters(&*flaky, "2024-03-01", field).await,
            named(&[("web/1.0/Me", 3)]),
            "{field}"
        );
    }
}

#[tokio::test]
async fn days_older_than_the_retention_are_deleted_once_a_day() {
    let dir = tempfile::tempdir().unwrap();
    let store = redb_store(&dir).await;
    let mut config = config();
    config.usage.retention_days = 3;
    let usage = Usage::new(&config.usage, &config.store).with_store(store.clone());
    usage.set_now(MARCH_1);
    let put = |date: &'static str| {
        let store = store.clone();
        async move {
            let key = goliath_router::usage::key(date, "Query.me");
            store.add(&key, &[("web".to_owned(), 1)]).await.unwrap();
        }
    };
    for date in [
        "2023-12-31",
        "2024-02-27",
        "2024-02-28",
        "2024-03-01",
        "2024-03-02",
    ] {
        put(date).await;
    }
    store
        .add("other:2020-01-01", &[("x".to_owned(), 1)])
        .await
        .unwrap();
    // The first flush deletes, even with nothing to write.
    usage.flush().await.unwrap();
    let kept = |dates: &[&str]| -> Vec<String> {
        dates
            .iter()
            .map(|d| goliath_router::usage::key(d, "Query.me"))
            .collect()
    };
    assert_eq!(
        store.keys("usage:").await.unwrap(),
        kept(&["2024-02-28", "2024-03-01", "2024-03-02"])
    );
    assert_eq!(store.keys("other:").await.unwrap().len(), 1);
    // Not again the same day.
    put("2024-02-01").await;
    usage.flush().await.unwrap();
    assert_eq!(store.keys("usage:").await.unwrap().len(), 4);
    // The next day: 2024-02-29 is the oldest kept.
    usage.set_now(MARCH_1 + DAY);
    usage.flush().await.unwrap();
    assert_eq!(
        store.keys("usage:").await.unwrap(),
        kept(&["2024-03-01", "2024-03-02"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counting_from_many_threads_while_flushing_loses_nothing() {
    const THREADS: usize = 8;
    const EACH: usize = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let store = redb_store(&dir).await;
    let config = config();
    let usage = Usage::new(&config.usage, &config.store).with_store(store.clone());
    usage.set_now(MARCH_1);
    let me = Arc::new(goliath_router::usage::Selected {
        operation: "Me".to_owned(),
        fields: vec!["Query.me".to_owned(), "User.name".to_owned()],
    });
    let top = Arc::new(goliath_router::usage::Selected {
        operation: "Top".to_owned(),
        fields: vec!["Query.topProducts".to_owned(), "User.name".to_owned()],
    });
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (usage, me, top) = (usage.clone(), me.clone(), top.clone());
            std::thread::spawn(move || {
                let mut headers = http::HeaderMap::new();
                let client = if t % 2 == 0 { "web" } else { "ios" };
                headers.insert("apollographql-client-name", client.parse().unwrap());
                for i in 0..EACH {
                    let selected = if i % 4 == 0 { &top } else { &me };
                    usage.record_selected(selected, &headers);
                }
            })
        })
        .collect();
    // Flushes while the threads count.
    let mut flushes = 0;
    while !threads.iter().all(|t| t.is_finished()) {
        usage.flush().await.unwrap();
        flushes += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for t in threads {
        t.join().unwrap();
    }
    usage.flush().await.unwrap();
    assert!(flushes > 0);
    let total = (THREADS * EACH) as i64;
    let half = total / 2;
    assert_eq!(
        counters(&*store, "2024-03-01", "User.name").await,
        named(&[
            ("ios//Me", half * 3 / 4),
            ("ios//Top", half / 4),
            ("web//Me", half * 3 / 4),
            ("web//Top", half / 4),
        ])
    );
    let sum = |c: Vec<(String, i64)>| c.iter().map(|(_, n)| n).sum::<i64>();
    assert_eq!(
        sum(counters(&*store, "2024-03-01", "User.name").await),
        total
    );
    assert_eq!(
        sum(counters(&*store, "2024-03-01", "Query.me").await),
        total * 3 / 4
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_are_all_counted() {
    let dir = tempfile::tempdir().unwrap();
    let store = redb_store(&dir).await;
    let subgraphs = start_subgraphs(&RequestLog::default()).await;
    let router = Arc::new(start_router(&subgraphs.supergraph(), store).await);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let router = router.clone();
            tokio::spawn(async move {
                for _ in 0..25 {
                    send(&router, Some(("web", "1.0")), ME).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let r = report(&router, "field=User.name").await;
    assert_eq!(r["field"]["requests"], json!(200), "{r:#}");
}
