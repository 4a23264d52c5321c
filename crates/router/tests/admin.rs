//! The admin listener in front of the migration test world
//! (`migrations/world.rs`: an `old` and a `new` subgraph on loopback): the
//! token on every route, the report's JSON shape, state changes through
//! `PUT`/`DELETE` that route the next GraphQL request, refused bodies, and
//! the HTML page with the planted mismatch and a `<script>` value escaped.

#[allow(dead_code)]
mod support;

#[allow(dead_code)]
#[path = "migrations/world.rs"]
mod world;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use goliath_router::admin::{self, Admin};
use goliath_router::http::{serve, ServerState};
use goliath_router::migrations::report::Sample;
use goliath_router::migrations::{record, FieldConfig, Migrations};
use goliath_router::store::{self, Store, StoreConfig};
use goliath_router::{Config, Pipeline};
use goliath_supergraph::MigrationState;
use http::HeaderMap;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use world::World;

const TOKEN: &str = "t0ken-for-tests";

/// A router and its admin listener in front of the world.
struct Setup {
    graphql: SocketAddr,
    admin: SocketAddr,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

/// An answer: status, headers, body.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// The GraphQL-style error's message (and checks its code).
    fn error(&self, code: &str) -> String {
        let body = self.json();
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            json!(code),
            "{body}"
        );
        body["errors"][0]["message"].as_str().unwrap().to_owned()
    }
}

/// `User.score` and `User.seen` migrating from `old` to `new`, side by side.
fn config() -> Config {
    let mut config = Config::default();
    config.migrations.flush_interval_ms = 50;
    config.migrations.noise_sample = 0.0;
    for field in ["User.score", "User.seen"] {
        config.migrations.fields.insert(
            field.to_owned(),
            FieldConfig {
                state: Some(MigrationState::SideBySide),
                from: Some("old".into()),
                to: Some("new".into()),
                ready_after: Some(5),
                ..FieldConfig::default()
            },
        );
    }
    config
}

async fn start(world: &World) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(&StoreConfig {
        dir: dir.path().to_owned(),
        ..StoreConfig::default()
    })
    .await
    .unwrap();
    let config = config();
    let sdl = world.start().await;
    let migrations = Migrations::new(&config.migrations, &config.store).with_store(store.clone());
    let pipeline = Pipeline::with_migrations(&sdl, &config, migrations.clone()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let graphql = listener.local_addr().unwrap();
    let state = Arc::new(ServerState::new(&config));
    state.set_handler(Some(Arc::new(pipeline)));
    tokio::spawn(serve(listener, state, std::future::pending()));
    let admin_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = admin_listener.local_addr().unwrap();
    tokio::spawn(admin::serve(
        admin_listener,
        Arc::new(Admin::new(TOKEN, migrations)),
        std::future::pending(),
    ));
    Setup {
        graphql,
        admin,
        store,
        _dir: dir,
    }
}

impl Setup {
    /// Sends `method path` to the admin listener, with a bearer token when
    /// given.
    async fn admin(&self, method: &str, path: &str, token: Option<&str>, body: &str) -> Answer {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.admin));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if !body.is_empty() {
            request = request.header("content-type", "application/json");
        }
        let response = client
            .request(
                request
                    .body(Full::new(Bytes::from(body.to_owned())))
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// `GET path` with the right token.
    async fn get(&self, path: &str) -> Answer {
        self.admin("GET", path, Some(TOKEN), "").await
    }

    /// The report's entry for `field`, as JSON.
    async fn field(&self, field: &str) -> Value {
        let answer = self.get("/admin/migrations").await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        let report = answer.json();
        report["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == json!(field))
            .cloned()
            .unwrap_or_else(|| panic!("{field} not in {report}"))
    }

    /// Waits (20 s at most) until `field` has `n` comparisons.
    async fn settle(&self, field: &str, n: u64) -> Value {
        for _ in 0..400 {
            let f = self.field(field).await;
            if f["compared"].as_u64().unwrap() >= n {
                return f;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "{field} never reached {n} comparisons: {}",
            self.field(field).await
        );
    }

    /// POSTs a GraphQL query to the router; returns the body.
    async fn graphql(&self, query: &str) -> Value {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let body = serde_json::to_vec(&json!({ "query": query })).unwrap();
        let response = client
            .request(
                http::Request::post(format!("http://{}/graphql", self.graphql))
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(body)))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    /// User 2's score as the router serves it (20 from the old side, 21
    /// from the new one with its bug).
    async fn score_of_user_2(&self) -> Value {
        self.graphql(USERS).await["data"]["users"][1]["score"].clone()
    }
}

const USERS: &str = "query Scores { users { id name score } }";

#[tokio::test]
async fn every_route_needs_the_token() {
    let world = World::default();
    let s = start(&world).await;
    for (method, path, body) in [
        ("GET", "/admin/migrations", ""),
        ("GET", "/admin/migrations.html", ""),
        ("GET", "/admin/", ""),
        (
            "PUT",
            "/admin/migrations/User.score",
            r#"{"state":"migrated"}"#,
        ),
        ("DELETE", "/admin/migrations/User.score", ""),
    ] {
        for token in [
            None,
            Some("wrong"),
            Some("t0ken-for-test"),
            Some("t0ken-for-testsX"),
        ] {
            let a = s.admin(method, path, token, body).await;
            assert_eq!(
                a.status,
                401,
                "{method} {path} with {token:?}: {}",
                a.text()
            );
            assert_eq!(a.header("www-authenticate"), "Bearer");
            assert_eq!(a.header("content-type"), "application/json");
            let message = a.error("UNAUTHENTICATED");
            assert!(message.contains("admin token"), "{message}");
        }
    }
    // Nothing was changed by the refused requests.
    assert_eq!(s.field("User.score").await["state"], json!("side-by-side"));
    // `?token=` works for the pages a browser opens, and only for them.
    let q = format!("?token={TOKEN}");
    let page = s
        .admin("GET", &format!("/admin/migrations.html{q}"), None, "")
        .await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    let index = s.admin("GET", &format!("/admin/{q}"), None, "").await;
    assert_eq!(index.status, 302);
    assert_eq!(
        index.header("location"),
        format!("/admin/migrations.html{q}")
    );
    let index = s.get("/admin/").await;
    assert_eq!(
        (index.status, index.header("location")),
        (302, "/admin/migrations.html")
    );
    let wrong = s
        .admin("GET", "/admin/migrations.html?token=nope", None, "")
        .await;
    assert_eq!(wrong.status, 401);
    let json_route = s
        .admin("GET", &format!("/admin/migrations{q}"), None, "")
        .await;
    assert_eq!(json_route.status, 401, "the JSON API takes the header only");
    let put = s
        .admin(
            "PUT",
            &format!("/admin/migrations/User.score{q}"),
            None,
            r#"{"state":"migrated"}"#,
        )
        .await;
    assert_eq!(put.status, 401);
    // Unknown paths and methods.
    let unknown = s.get("/admin/nothing").await;
    assert_eq!(unknown.status, 404);
    unknown.error("NOT_FOUND");
    assert_eq!(s.get("/graphql").await.status, 404);
    let post = s
        .admin("POST", "/admin/migrations", Some(TOKEN), "{}")
        .await;
    assert_eq!((post.status, post.header("allow")), (405, "GET"));
    let get_field = s.get("/admin/migrations/User.score").await;
    assert_eq!(
        (get_field.status, get_field.header("allow")),
        (405, "PUT, DELETE")
    );
}

#[tokio::test]
async fn the_json_report_has_the_documented_shape() {
    let world = World::default();
    world.mode.lock().unwrap().bug = true;
    let s = start(&world).await;
    for _ in 0..2 {
        s.graphql(USERS).await;
    }
    s.settle("User.score", 6).await;
    let answer = s.get("/admin/migrations").await;
    assert_eq!(answer.header("content-type"), "application/json");
    let report = answer.json();
    let fields = report["fields"].as_array().unwrap();
    assert_eq!(
        fields
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["User.score", "User.seen"]
    );
    let f = &fields[0];
    for key in [
        "field",
        "from",
        "to",
        "state",
        "percent",
        "source",
        "compared",
        "matched",
        "mismatched",
        "noise",
        "errors_old",
        "errors_new",
        "dropped",
        "served_new",
        "served_old",
        "latency_ms",
        "ready",
        "ready_after",
        "noisy_paths",
        "samples",
        "events",
    ] {
        assert!(f.get(key).is_some(), "{key} missing from {f}");
    }
    assert_eq!(f["from"], json!("old"));
    assert_eq!(f["to"], json!("new"));
    assert_eq!(f["state"], json!("side-by-side"));
    assert_eq!(f["percent"], Value::Null);
    assert_eq!(f["source"], json!("config"));
    assert_eq!(f["compared"], json!(6));
    assert_eq!(f["matched"], json!(4));
    assert_eq!(f["mismatched"], json!(2));
    for n in ["noise", "errors_old", "errors_new", "dropped", "served_new"] {
        assert_eq!(f[n], json!(0), "{n}");
    }
    assert_eq!(f["served_old"], json!(2));
    assert_eq!(f["ready"], json!(false));
    assert_eq!(f["ready_after"], json!(5));
    for side in ["old", "new"] {
        for p in ["p50", "p99"] {
            let ms = f["latency_ms"][side][p].as_f64().unwrap();
            assert!(ms > 0.0, "latency_ms.{side}.{p}: {f}");
        }
    }
    let sample = &f["samples"][0];
    assert_eq!(sample["path"], json!(["users", 1, "score"]));
    assert_eq!(
        (sample["old"].clone(), sample["new"].clone()),
        (json!(20), json!(21))
    );
    assert_eq!(sample["kind"], json!("value"));
    assert_eq!(sample["operation"], json!("Scores"));
    assert!(sample["at"].as_str().unwrap().ends_with('Z'), "{sample}");
}

#[tokio::test]
async fn put_and_delete_change_the_routing() {
    let world = World::default();
    world.mode.lock().unwrap().bug = true;
    let s = start(&world).await;
    assert_eq!(
        s.score_of_user_2().await,
        json!(20),
        "side-by-side: the old side serves"
    );
    let put = s
        .admin(
            "PUT",
            "/admin/migrations/User.score",
            Some(TOKEN),
            r#"{"state": "migrated", "reason": "looks good"}"#,
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.text());
    let entry = put.json();
    assert_eq!(entry["field"], json!("User.score"));
    assert_eq!(entry["state"], json!("migrated"));
    assert_eq!(entry["source"], json!("admin"));
    let event = entry["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(event["reason"], json!("looks good"));
    assert_eq!(
        (event["from_state"].clone(), event["to_state"].clone()),
        (json!("side-by-side"), json!("migrated"))
    );
    assert_eq!(
        s.score_of_user_2().await,
        json!(21),
        "migrated: the new side serves"
    );
    // Canary at 100%: the new side, with a percent in the entry; the
    // default reason is `admin`.
    let put = s
        .admin(
            "PUT",
            "/admin/migrations/User.score",
            Some(TOKEN),
            r#"{"state":"canary","percent":100}"#,
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.text());
    let entry = put.json();
    assert_eq!(
        (entry["state"].clone(), entry["percent"].clone()),
        (json!("canary"), json!(100.0))
    );
    assert_eq!(
        entry["events"].as_array().unwrap().last().unwrap()["reason"],
        json!("admin")
    );
    assert_eq!(s.score_of_user_2().await, json!(21));
    // DELETE: the config's state again.
    let delete = s
        .admin("DELETE", "/admin/migrations/User.score", Some(TOKEN), "")
        .await;
    assert_eq!(delete.status, 200, "{}", delete.text());
    let entry = delete.json();
    assert_eq!(
        (entry["state"].clone(), entry["source"].clone()),
        (json!("side-by-side"), json!("config"))
    );
    assert_eq!(s.score_of_user_2().await, json!(20));
    assert_eq!(s.field("User.score").await["state"], json!("side-by-side"));
}

#[tokio::test]
async fn bad_put_bodies_are_400_and_unknown_fields_404() {
    let world = World::default();
    let s = start(&world).await;
    let put =
        |body: &'static str| s.admin("PUT", "/admin/migrations/User.score", Some(TOKEN), body);
    for (body, needle) in [
        ("", "invalid body"),
        ("not json", "invalid body"),
        ("[]", "invalid body"),
        (r#"{"percent": 5}"#, "missing field `state`"),
        (
            r#"{"state": "canary", "percent": 5, "extra": 1}"#,
            "unknown field `extra`",
        ),
        (r#"{"state": 3}"#, "invalid body"),
        (
            r#"{"state": "sideways"}"#,
            "unknown migration state `sideways`",
        ),
        (r#"{"state": "canary"}"#, "canary needs a percent"),
        (
            r#"{"state": "canary", "percent": 150}"#,
            "150 is not a share between 0 and 100",
        ),
        (r#"{"state": "canary", "percent": -1}"#, "not a share"),
        (r#"{"state": "canary", "percent": "5"}"#, "invalid body"),
        (
            r#"{"state": "migrated", "percent": 5}"#,
            "a percent only goes with canary",
        ),
    ] {
        let a = put(body).await;
        assert_eq!(a.status, 400, "{body}: {}", a.text());
        let message = a.error("BAD_REQUEST");
        assert!(message.contains(needle), "{body}: {message}");
    }
    let unknown = s
        .admin(
            "PUT",
            "/admin/migrations/User.name",
            Some(TOKEN),
            r#"{"state":"migrated"}"#,
        )
        .await;
    assert_eq!(unknown.status, 404);
    let message = unknown.error("NOT_FOUND");
    assert!(
        message.contains("User.name is not a migrating field"),
        "{message}"
    );
    assert!(message.contains("User.score, User.seen"), "{message}");
    let unknown = s
        .admin("DELETE", "/admin/migrations/Nope.nope", Some(TOKEN), "")
        .await;
    assert_eq!(unknown.status, 404);
    // Bodies are limited.
    let huge = format!(
        r#"{{"state": "migrated", "reason": "{}"}}"#,
        "x".repeat(admin::MAX_BODY_BYTES)
    );
    let a = s
        .admin("PUT", "/admin/migrations/User.score", Some(TOKEN), &huge)
        .await;
    assert_eq!(a.status, 413, "{}", a.text());
    a.error("PAYLOAD_TOO_LARGE");
    // None of it changed anything.
    let f = s.field("User.score").await;
    assert_eq!(
        (f["state"].clone(), f["events"].clone()),
        (json!("side-by-side"), json!([]))
    );
}

#[tokio::test]
async fn the_page_shows_the_mismatch_and_escapes_subgraph_values() {
    let world = World::default();
    world.mode.lock().unwrap().bug = true;
    let s = start(&world).await;
    s.graphql(USERS).await;
    s.settle("User.score", 3).await;
    // A difference whose values came from a hostile subgraph, planted in
    // the store the report reads.
    let evil = Sample {
        path: vec![json!("users"), json!(0), json!("seen")],
        old: json!("<script>alert(1)</script>"),
        new: json!("</td><img src=x onerror=alert(2)>"),
        kind: "value".into(),
        operation: Some("<b>Op</b>".into()),
        at: "2025-01-01T00:00:00Z".into(),
    };
    s.store
        .push_capped(
            &record::key("User.seen", "samples"),
            &[serde_json::to_vec(&evil).unwrap()],
            20,
        )
        .await
        .unwrap();
    let page = s.get("/admin/migrations.html").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert!(page
        .header("content-security-policy")
        .contains("default-src 'none'"));
    let html = page.text();
    for needle in [
        "<meta http-equiv=\"refresh\" content=\"5\">",
        "User.score",
        "old → new",
        "side-by-side",
        "<code>users.1.score</code>",
        "<td class=\"v\">20</td><td class=\"v\">21</td>",
        "Scores",
        "not ready to advance",
        "ready after 5 comparisons",
        "<code>users.0.seen</code>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&lt;/td&gt;&lt;img src=x onerror=alert(2)&gt;",
        "&lt;b&gt;Op&lt;/b&gt;",
    ] {
        assert!(html.contains(needle), "{needle} missing from:\n{html}");
    }
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("<b>"), "{html}");
}
