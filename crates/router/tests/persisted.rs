//! Persisted queries end to end: the test subgraphs (`support/`) on
//! loopback, a router in front with `apq:` and `persisted_queries:` from
//! YAML, GraphQL over HTTP. APQ (register, hit, miss, mismatch, version,
//! off; two routers sharing registrations through Redis), Apollo and
//! Relay manifests, the safelist modes, a manifest reloaded while the
//! router runs, the GET forms (extensions, and the path form
//! `/graphql/OperationName?id=`), the status and `Cache-Control` of every
//! error, and config errors by key.
//!
//! Redis: `GOLIATH_TEST_REDIS_URL`, else a `redis-server` on PATH started
//! here; without either the Redis test prints `SKIPPED: no redis` and
//! passes.

#[allow(dead_code)]
mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use goliath_router::persisted::sha256_hex;
use goliath_router::{store, Config, Pipeline};
use http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Value};
use support::{error_codes, TestGraph};

/// An operation on the test subgraphs, and its answer's data.
const TOP_NAMES: &str = "query TopNames { topProducts { name } }";

fn top_names() -> Value {
    json!({"topProducts": [{"name": "Table"}, {"name": "Couch"}, {"name": "Chair"}]})
}

/// An operation with a variable.
const PRODUCT: &str = "query Product($upc: String!) { product(upc: $upc) { name } }";

/// What the router answered: status, headers, body.
type Answer = (StatusCode, HeaderMap, Value);

/// A router over the test subgraphs with the config `yaml`.
async fn router(yaml: &str) -> TestGraph {
    let config = Config::from_yaml_str(yaml).unwrap_or_else(|e| panic!("{e}"));
    TestGraph::start_with(|c| *c = config).await
}

/// POSTs `body` (as JSON) to `/graphql`, accepting `accept`.
async fn post_accepting(graph: &TestGraph, body: &Value, accept: &str) -> Answer {
    let headers = [("content-type", "application/json"), ("accept", accept)];
    let body = serde_json::to_vec(body).unwrap();
    graph.send(Method::POST, "/graphql", &headers, body).await
}

/// POSTs `body` to `/graphql`.
async fn post(graph: &TestGraph, body: Value) -> Answer {
    post_accepting(graph, &body, "application/json").await
}

/// GETs `path_and_query` with a CSRF preflight header.
async fn get(graph: &TestGraph, path_and_query: &str) -> Answer {
    let headers = [("apollo-require-preflight", "true")];
    graph.send(Method::GET, path_and_query, &headers, "").await
}

/// `extensions.persistedQuery` with `id` (a hash or a manifest id).
fn by_id(id: &str) -> Value {
    json!({"persistedQuery": {"version": 1, "sha256Hash": id}})
}

/// A request with the text `query` and the id `id` (an APQ registration).
fn text_and_id(query: &str, id: &str) -> Value {
    json!({"query": query, "extensions": by_id(id)})
}

/// Asserts a successful answer with `data`, and no `Cache-Control`.
fn assert_data(answer: &Answer, data: &Value) {
    let (status, headers, body) = answer;
    assert_eq!(*status, StatusCode::OK, "{body:#}");
    assert_eq!(body, &json!({ "data": data }));
    assert!(headers.get("cache-control").is_none(), "{headers:?}");
}

/// Asserts one error of `code`, with `status` and `Cache-Control`.
fn assert_error(answer: &Answer, status: u16, code: &str, cache_control: &str) {
    let (got, headers, body) = answer;
    assert_eq!(error_codes(body), [code], "{body:#}");
    assert_eq!(got.as_u16(), status, "{code}: {body:#}");
    assert_eq!(
        headers.get("cache-control").map(|v| v.to_str().unwrap()),
        Some(cache_control),
        "{code}"
    );
    assert!(body.get("data").is_none(), "{body:#}");
}

const NO_STORE: &str = "no-store";

/// Writes `text` to `path` whole: a temporary file renamed over it.
fn write_file(path: &Path, text: &str) {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

/// An Apollo manifest of `(id, body)`.
fn apollo_manifest(operations: &[(&str, &str)]) -> String {
    let operations: Vec<Value> = operations
        .iter()
        .map(|(id, body)| json!({"id": id, "body": body, "name": "X", "type": "query"}))
        .collect();
    json!({"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations})
        .to_string()
}

/// A folder with `manifest.json` (Apollo's format) holding `operations`.
fn manifest_dir(operations: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("manifest.json");
    write_file(&path, &apollo_manifest(operations));
    (dir, path)
}

/// APQ off: needed for the safelist, and for ids that are not in the
/// manifests to be refused.
const APQ_OFF: &str = "apq: {enabled: false}\n";

/// A config with persisted queries on over the manifest `path`, `keys`
/// under `persisted_queries:` and `rest` after it.
fn pq_config(path: &Path, keys: &[&str], rest: &str) -> String {
    let mut yaml = format!(
        "persisted_queries:\n  enabled: true\n  local_manifests: [{}]\n",
        path.display()
    );
    for key in keys {
        yaml.push_str(&format!("  {key}\n"));
    }
    yaml + rest
}

/// A manifest of `operations` and a router with persisted queries on over
/// it (see [`pq_config`]); the folder lives as long as the first value.
async fn pq_router(
    operations: &[(&str, &str)],
    keys: &[&str],
    rest: &str,
) -> (tempfile::TempDir, PathBuf, TestGraph) {
    let (dir, path) = manifest_dir(operations);
    let graph = router(&pq_config(&path, keys, rest)).await;
    (dir, path, graph)
}

// ------------------------------------------------------------------ APQ

#[tokio::test(flavor = "multi_thread")]
async fn apq_registers_then_runs_by_hash() {
    let graph = router("").await;
    let hash = sha256_hex(TOP_NAMES);
    // Not registered yet: 200 whatever the media type, never cached.
    let miss = post(&graph, json!({"extensions": by_id(&hash)})).await;
    assert_error(&miss, 200, "PERSISTED_QUERY_NOT_FOUND", NO_STORE);
    let body = json!({"extensions": by_id(&hash)});
    let miss = post_accepting(&graph, &body, "application/graphql-response+json").await;
    assert_error(&miss, 200, "PERSISTED_QUERY_NOT_FOUND", NO_STORE);
    assert!(graph.log.entries().is_empty());
    // A text that does not have the hash is refused, and not registered.
    let other = "{ topProducts { upc } }";
    let wrong = post(&graph, text_and_id(other, &hash)).await;
    assert_error(&wrong, 400, "PERSISTED_QUERY_HASH_MISMATCH", NO_STORE);
    assert_eq!(
        wrong.2["errors"][0]["message"],
        "provided sha does not match query"
    );
    let miss = post(&graph, json!({"extensions": by_id(&hash)})).await;
    assert_error(&miss, 200, "PERSISTED_QUERY_NOT_FOUND", NO_STORE);
    // Registered with its text; then the hash alone runs it.
    let registered = post(&graph, text_and_id(TOP_NAMES, &hash)).await;
    assert_data(&registered, &top_names());
    let hit = post(&graph, json!({"extensions": by_id(&hash)})).await;
    assert_data(&hit, &top_names());
    let upper = post(&graph, json!({"extensions": by_id(&hash.to_uppercase())})).await;
    assert_data(&upper, &top_names());
    // With variables and an operation name, as any request.
    let hash = sha256_hex(PRODUCT);
    post(
        &graph,
        json!({"query": PRODUCT, "extensions": by_id(&hash), "variables": {"upc": "1"}}),
    )
    .await;
    let hit = post(
        &graph,
        json!({"extensions": by_id(&hash), "variables": {"upc": "2"}, "operationName": "Product"}),
    )
    .await;
    assert_data(&hit, &json!({"product": {"name": "Couch"}}));
}

#[tokio::test(flavor = "multi_thread")]
async fn apq_versions_and_apq_off() {
    let graph = router("").await;
    let hash = sha256_hex(TOP_NAMES);
    let extensions = json!({"persistedQuery": {"version": 2, "sha256Hash": hash}});
    let answer = post(
        &graph,
        json!({"query": TOP_NAMES, "extensions": extensions}),
    )
    .await;
    assert_error(&answer, 400, "PERSISTED_QUERY_NOT_SUPPORTED", NO_STORE);
    // An extension without a hash is ignored (as Apollo Router does).
    let extensions = json!({"persistedQuery": {"version": 1}});
    let answer = post(
        &graph,
        json!({"query": TOP_NAMES, "extensions": extensions}),
    )
    .await;
    assert_data(&answer, &top_names());

    let graph = router("apq:\n  enabled: false\n").await;
    let answer = post(&graph, json!({"extensions": by_id(&hash)})).await;
    assert_error(&answer, 400, "PERSISTED_QUERY_NOT_SUPPORTED", NO_STORE);
    let answer = post(&graph, text_and_id(TOP_NAMES, &hash)).await;
    assert_error(&answer, 400, "PERSISTED_QUERY_NOT_SUPPORTED", NO_STORE);
    let answer = post(&graph, json!({"query": TOP_NAMES})).await;
    assert_data(&answer, &top_names());
}

/// A Redis server: `GOLIATH_TEST_REDIS_URL`, or one started here (stopped
/// when dropped).
struct Redis {
    url: String,
    child: Option<std::process::Child>,
}

impl Redis {
    fn start() -> Option<Redis> {
        if let Ok(url) = std::env::var("GOLIATH_TEST_REDIS_URL") {
            if !url.is_empty() {
                return Some(Redis { url, child: None });
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let redis = Redis {
            url: format!("redis://127.0.0.1:{port}"),
            child: Some(child),
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > Duration::from_secs(10) {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(redis)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn apq_registrations_are_shared_through_redis() {
    let Some(redis) = Redis::start() else {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: no redis (set GOLIATH_TEST_REDIS_URL or put redis-server on PATH): \
             apq_registrations_are_shared_through_redis did not run"
        );
        return;
    };
    let namespace = format!(
        "goliath-test-apq-{}-{}",
        std::process::id(),
        fastrand::u32(..)
    );
    let yaml = format!(
        "apq:\n  router:\n    cache:\n      in_memory: {{limit: 10}}\n      redis:\n        \
         urls: [\"{}\"]\n        ttl: 1h\n        namespace: {namespace}\n",
        redis.url
    );
    let (a, b) = (router(&yaml).await, router(&yaml).await);
    let hash = sha256_hex(TOP_NAMES);
    let miss = post(&b, json!({"extensions": by_id(&hash)})).await;
    assert_error(&miss, 200, "PERSISTED_QUERY_NOT_FOUND", NO_STORE);
    let registered = post(&a, text_and_id(TOP_NAMES, &hash)).await;
    assert_data(&registered, &top_names());
    // The other router has it from Redis, under the namespace.
    let hit = post(&b, json!({"extensions": by_id(&hash)})).await;
    assert_data(&hit, &top_names());
    let redis_store = store::open_redis(&redis.url, &format!("{namespace}:"))
        .await
        .unwrap();
    let key = format!("apq:{hash}");
    let stored = redis_store.get(&key).await.unwrap();
    assert_eq!(stored.as_deref(), Some(TOP_NAMES.as_bytes()));
    redis_store.delete(&key).await.unwrap();
}

// ------------------------------------------------------------ manifests

#[tokio::test(flavor = "multi_thread")]
async fn apollo_and_relay_manifests_run_by_id() {
    let (dir, apollo) = manifest_dir(&[("top-names", TOP_NAMES)]);
    let relay = dir.path().join("relay.json");
    write_file(&relay, &json!({ "relay-product": PRODUCT }).to_string());
    let yaml = format!(
        "persisted_queries:\n  enabled: true\n  local_manifests: [{}, {}]\n",
        apollo.display(),
        relay.display()
    );
    let graph = router(&yaml).await;
    let answer = post(&graph, json!({"extensions": by_id("top-names")})).await;
    assert_data(&answer, &top_names());
    let body = json!({"extensions": by_id("relay-product"), "variables": {"upc": "3"}});
    assert_data(
        &post(&graph, body).await,
        &json!({"product": {"name": "Chair"}}),
    );
    // Not in the manifests: APQ (on by default) has the last word.
    let answer = post(&graph, json!({"extensions": by_id("nope")})).await;
    assert_error(&answer, 200, "PERSISTED_QUERY_NOT_FOUND", NO_STORE);
    // Operations sent as text still run (no safelist).
    assert_data(
        &post(&graph, json!({"query": "{ topProducts { name } }"})).await,
        &top_names(),
    );

    let graph = router(&format!("{yaml}apq:\n  enabled: false\n")).await;
    let answer = post(&graph, json!({"extensions": by_id("top-names")})).await;
    assert_data(&answer, &top_names());
    let answer = post(&graph, json!({"extensions": by_id("nope")})).await;
    assert_error(&answer, 404, "PERSISTED_QUERY_NOT_IN_LIST", NO_STORE);
    assert_eq!(
        answer.2["errors"][0]["message"],
        "Persisted query 'nope' not found in the persisted query list"
    );
    let body = text_and_id(TOP_NAMES, "top-names");
    let answer = post(&graph, body).await;
    assert_error(&answer, 400, "CANNOT_SEND_PQ_ID_AND_BODY", NO_STORE);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_manifest_is_reloaded_when_it_changes() {
    let (_dir, path, graph) =
        pq_router(&[("one", TOP_NAMES)], &["hot_reload: true"], APQ_OFF).await;
    let two = json!({"extensions": by_id("two"), "variables": {"upc": "1"}});
    assert_data(
        &post(&graph, json!({"extensions": by_id("one")})).await,
        &top_names(),
    );
    assert_error(
        &post(&graph, two.clone()).await,
        404,
        "PERSISTED_QUERY_NOT_IN_LIST",
        NO_STORE,
    );
    write_file(
        &path,
        &apollo_manifest(&[("one", TOP_NAMES), ("two", PRODUCT)]),
    );
    let table = json!({"product": {"name": "Table"}});
    let started = Instant::now();
    loop {
        let answer = post(&graph, two.clone()).await;
        if answer.0 == StatusCode::OK {
            assert_data(&answer, &table);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "not reloaded: {:?}",
            answer.2
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A version that does not read keeps the last good one.
    write_file(&path, "{ not json");
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(2500) {
        assert_data(&post(&graph, two.clone()).await, &table);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // And a good one after it is read.
    write_file(&path, &apollo_manifest(&[("three", TOP_NAMES)]));
    let started = Instant::now();
    while post(&graph, json!({"extensions": by_id("three")})).await.0 != StatusCode::OK {
        assert!(started.elapsed() < Duration::from_secs(5), "not reloaded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_error(
        &post(&graph, two).await,
        404,
        "PERSISTED_QUERY_NOT_IN_LIST",
        NO_STORE,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_hot_reload_a_manifest_stays() {
    let (_dir, path, graph) = pq_router(&[("one", TOP_NAMES)], &[], APQ_OFF).await;
    write_file(&path, &apollo_manifest(&[("two", TOP_NAMES)]));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for _ in 0..3 {
        assert_data(
            &post(&graph, json!({"extensions": by_id("one")})).await,
            &top_names(),
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// ------------------------------------------------------------- safelist

/// Every log line the tests of this binary write (the first call installs
/// the subscriber).
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::WARN)
            .with_writer(move || Captured(writer.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
    .clone()
}

/// A writer into the captured logs.
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether a log line has `text` (as `tracing` writes a field's value).
fn logged(logs: &Arc<Mutex<Vec<u8>>>, text: &str) -> bool {
    let logs = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    logs.lines()
        .any(|line| line.contains("unknown operation") && line.contains(text))
}

#[tokio::test(flavor = "multi_thread")]
async fn log_unknown_logs_operations_not_in_the_list() {
    let logs = logs();
    let (_dir, _, graph) = pq_router(&[("top-names", TOP_NAMES)], &["log_unknown: true"], "").await;
    let unknown = "{ logUnknownMarker: topProducts { name } }";
    let answer = post(&graph, json!({"query": unknown})).await;
    assert_data(
        &answer,
        &json!({"logUnknownMarker": top_names()["topProducts"]}),
    );
    assert!(logged(&logs, "logUnknownMarker"), "not logged");
    // The listed operation, in other white space, is not logged.
    let known = "query TopNames {\n  topProducts { name } # logKnownMarker\n}";
    assert_data(&post(&graph, json!({"query": known})).await, &top_names());
    assert!(
        !logged(&logs, "logKnownMarker"),
        "logged a listed operation"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_safelist_refuses_what_is_not_listed() {
    let safelist = ["safelist: {enabled: true}"];
    let (_dir, path, graph) = pq_router(&[("top-names", TOP_NAMES)], &safelist, APQ_OFF).await;
    // The same operation in other white space, commas and comments.
    let same = "# the top products\nquery TopNames{topProducts,{name}}\n";
    assert_data(&post(&graph, json!({"query": same})).await, &top_names());
    assert_data(
        &post(&graph, json!({"extensions": by_id("top-names")})).await,
        &top_names(),
    );
    // Another operation: refused before any subgraph is asked.
    let requests = graph.log.entries().len();
    for other in [
        "query TopNames { topProducts { name upc } }",
        "{ topProducts { name } }",
    ] {
        let answer = post(&graph, json!({"query": other})).await;
        assert_error(&answer, 403, "QUERY_NOT_IN_SAFELIST", NO_STORE);
        assert_eq!(
            answer.2["errors"][0]["message"],
            "The operation body was not found in the persisted query safelist"
        );
    }
    assert_eq!(graph.log.entries().len(), requests);
    // Introspection passes while it is on (as in Apollo Router).
    let answer = post(
        &graph,
        json!({"query": "{ __schema { queryType { name } } }"}),
    )
    .await;
    assert_data(
        &answer,
        &json!({"__schema": {"queryType": {"name": "Query"}}}),
    );
    let yaml = pq_config(
        &path,
        &safelist,
        &format!("{APQ_OFF}introspection: false\n"),
    );
    let graph = router(&yaml).await;
    let answer = post(&graph, json!({"query": "{ __typename }"})).await;
    assert_error(&answer, 403, "QUERY_NOT_IN_SAFELIST", NO_STORE);
}

#[tokio::test(flavor = "multi_thread")]
async fn require_id_refuses_every_operation_sent_as_text() {
    let safelist = ["safelist: {enabled: true, require_id: true}"];
    let (_dir, _, graph) = pq_router(&[("top-names", TOP_NAMES)], &safelist, APQ_OFF).await;
    for text in [TOP_NAMES, "{ __typename }"] {
        let answer = post(&graph, json!({"query": text})).await;
        assert_error(&answer, 400, "PERSISTED_QUERY_ID_REQUIRED", NO_STORE);
    }
    assert_data(
        &post(&graph, json!({"extensions": by_id("top-names")})).await,
        &top_names(),
    );
    assert!(graph.log.entries().len() == 1, "{:?}", graph.log.entries());
}

// ------------------------------------------------------------ GET forms

#[tokio::test(flavor = "multi_thread")]
async fn get_with_extensions() {
    let (_dir, _, graph) = pq_router(&[("top-names", TOP_NAMES)], &[], "").await;
    let encode = |v: &Value| {
        url::form_urlencoded::byte_serialize(v.to_string().as_bytes()).collect::<String>()
    };
    // A manifest id.
    let answer = get(
        &graph,
        &format!("/graphql?extensions={}", encode(&by_id("top-names"))),
    )
    .await;
    assert_data(&answer, &top_names());
    // APQ: a miss, then registered over GET (as Apollo Client does with
    // useGETForHashedQueries), then the hash alone, with variables.
    let hash = sha256_hex(PRODUCT);
    let variables = encode(&json!({"upc": "2"}));
    let by_hash = format!(
        "/graphql?extensions={}&variables={variables}",
        encode(&by_id(&hash))
    );
    assert_error(
        &get(&graph, &by_hash).await,
        200,
        "PERSISTED_QUERY_NOT_FOUND",
        NO_STORE,
    );
    let query = url::form_urlencoded::byte_serialize(PRODUCT.as_bytes()).collect::<String>();
    let couch = json!({"product": {"name": "Couch"}});
    assert_data(
        &get(&graph, &format!("{by_hash}&query={query}")).await,
        &couch,
    );
    assert_data(&get(&graph, &by_hash).await, &couch);
    // CSRF prevention stays: a GET without a preflight header is refused.
    let (status, _, body) = graph.send(Method::GET, &by_hash, &[], "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["CSRF_ERROR"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn get_path_form() {
    let operations = [("top-names", TOP_NAMES), ("product", PRODUCT)];
    let (_dir, path, graph) = pq_router(&operations, &[], "").await;
    // A manifest id; unknown parameters (a CDN's version) are ignored.
    let answer = get(&graph, "/graphql/TopNames?id=top-names&v=20240101").await;
    assert_data(&answer, &top_names());
    let answer = get(
        &graph,
        "/graphql/Product?id=product&variables=%7B%22upc%22%3A%223%22%7D",
    )
    .await;
    assert_data(&answer, &json!({"product": {"name": "Chair"}}));
    // The path names the operation.
    let (status, _, body) = get(&graph, "/graphql/Other?id=top-names").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(error_codes(&body), ["GRAPHQL_UNKNOWN_OPERATION_NAME"]);
    // An APQ hash, registered first.
    let text = "query Upcs { topProducts { upc } }";
    let hash = sha256_hex(text);
    let path_form = format!("/graphql/Upcs?id={hash}");
    assert_error(
        &get(&graph, &path_form).await,
        200,
        "PERSISTED_QUERY_NOT_FOUND",
        NO_STORE,
    );
    post(&graph, text_and_id(text, &hash)).await;
    let upcs = json!({"topProducts": [{"upc": "1"}, {"upc": "2"}, {"upc": "3"}]});
    assert_data(&get(&graph, &path_form).await, &upcs);
    // Only GET, only with an id, only under the GraphQL path.
    let headers = [("content-type", "application/json")];
    let (status, headers, _) = graph.send(Method::POST, &path_form, &headers, "{}").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["allow"], "GET");
    let (status, _, body) = get(&graph, "/graphql/TopNames?variables=%7B%7D").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["BAD_REQUEST"]);
    for elsewhere in [
        "/other/TopNames?id=top-names",
        "/graphql/a/b?id=top-names",
        "/graphql/x.js?id=1",
    ] {
        assert_eq!(
            get(&graph, elsewhere).await.0,
            StatusCode::NOT_FOUND,
            "{elsewhere}"
        );
    }
    // Under a GraphQL path of another name.
    let graph = router(&pq_config(&path, &[], "graphql_path: /api\n")).await;
    assert_data(
        &get(&graph, "/api/TopNames?id=top-names").await,
        &top_names(),
    );
    assert_eq!(
        get(&graph, "/graphql/TopNames?id=top-names").await.0,
        StatusCode::NOT_FOUND
    );
    // With apq off and an unknown id: 404, not stored.
    let graph = router(&pq_config(&path, &[], APQ_OFF)).await;
    let answer = get(&graph, "/graphql/TopNames?id=nope").await;
    assert_error(&answer, 404, "PERSISTED_QUERY_NOT_IN_LIST", NO_STORE);
}

// --------------------------------------------------------------- errors

#[tokio::test(flavor = "multi_thread")]
async fn every_error_has_its_status_and_cache_control_whatever_the_media_type() {
    let (_dir, path) = manifest_dir(&[("top-names", TOP_NAMES)]);
    let listed = pq_config(&path, &[], APQ_OFF);
    let safelist = pq_config(&path, &["safelist: {enabled: true}"], APQ_OFF);
    let require_id = pq_config(
        &path,
        &["safelist: {enabled: true, require_id: true}"],
        APQ_OFF,
    );
    let hash = sha256_hex(TOP_NAMES);
    let v2 = json!({"persistedQuery": {"version": 2, "sha256Hash": hash}});
    let other = "{ topProducts { upc } }";
    let cases = [
        (
            "",
            json!({"extensions": by_id(&hash)}),
            200,
            "PERSISTED_QUERY_NOT_FOUND",
            NO_STORE,
        ),
        (
            "",
            json!({"extensions": v2}),
            400,
            "PERSISTED_QUERY_NOT_SUPPORTED",
            NO_STORE,
        ),
        (
            "",
            text_and_id(other, &hash),
            400,
            "PERSISTED_QUERY_HASH_MISMATCH",
            NO_STORE,
        ),
        (
            APQ_OFF,
            json!({"extensions": by_id(&hash)}),
            400,
            "PERSISTED_QUERY_NOT_SUPPORTED",
            NO_STORE,
        ),
        (
            listed.as_str(),
            json!({"extensions": by_id("nope")}),
            404,
            "PERSISTED_QUERY_NOT_IN_LIST",
            NO_STORE,
        ),
        (
            listed.as_str(),
            text_and_id(TOP_NAMES, "top-names"),
            400,
            "CANNOT_SEND_PQ_ID_AND_BODY",
            NO_STORE,
        ),
        (
            safelist.as_str(),
            json!({"query": other}),
            403,
            "QUERY_NOT_IN_SAFELIST",
            NO_STORE,
        ),
        (
            require_id.as_str(),
            json!({"query": TOP_NAMES}),
            400,
            "PERSISTED_QUERY_ID_REQUIRED",
            NO_STORE,
        ),
    ];
    for (yaml, body, status, code, cache_control) in cases {
        let graph = router(yaml).await;
        for accept in ["application/json", "application/graphql-response+json"] {
            let answer = post_accepting(&graph, &body, accept).await;
            assert_error(&answer, status, code, cache_control);
        }
    }
}

#[test]
fn config_errors_name_the_key() {
    let cases = [
        ("apq:\n  enabled: true\n  subgraph: {}\n", "apq.subgraph: unknown field `subgraph`"),
        ("apq:\n  router:\n    cache:\n      in_memory: {limit: 0}\n", "apq.router.cache.in_memory.limit: must be greater than 0"),
        ("apq:\n  router:\n    cache:\n      redis: {urls: [\"http://x\"]}\n", "apq.router.cache.redis.urls: `http://x` is not a redis:// URL"),
        ("apq:\n  router:\n    cache:\n      redis: {urls: [\"redis://a\", \"redis://b\"]}\n", "apq.router.cache.redis.urls: one URL is needed, not 2"),
        ("apq:\n  router:\n    cache:\n      redis: {urls: [\"redis://a\"], ttl: soon}\n", "apq.router.cache.redis.ttl"),
        ("apq:\n  router:\n    cache:\n      redis: {urls: [\"redis://a\"], timeout: 5s}\n", "unknown field `timeout`"),
        ("persisted_queries:\n  enabled: true\n  experimental_prewarm_query_plan_cache: true\n", "persisted_queries.experimental_prewarm_query_plan_cache: unknown field"),
        ("persisted_queries:\n  enabled: true\n  safelist: {enabled: true}\n  local_manifests: [m.json]\n", "persisted_queries.safelist.enabled: apqs must be disabled to enable safelisting"),
        ("persisted_queries:\n  enabled: true\n  safelist: {require_id: true}\n  local_manifests: [m.json]\n", "persisted_queries.safelist.require_id: safelist must be enabled to require IDs"),
        ("persisted_queries:\n  enabled: true\n", "persisted_queries.local_manifests: persisted_queries.enabled needs at least one manifest file"),
        ("persisted_queries:\n  log_unknown: true\n", "persisted_queries.log_unknown: needs persisted_queries.enabled: true"),
        ("persisted_queries:\n  safelist: {enabled: true}\napq: {enabled: false}\n", "persisted_queries.safelist.enabled: needs persisted_queries.enabled: true"),
        ("persisted_queries:\n  safelist: {enabled: yes please}\n", "persisted_queries.safelist.enabled"),
    ];
    for (yaml, expected) in cases {
        let error = Config::from_yaml_str(yaml).unwrap_err().to_string();
        assert!(error.contains(expected), "{yaml}: {error}");
    }
    // Apollo Router's shapes load as they are.
    let config = Config::from_yaml_str(
        "apq:\n  enabled: true\n  router:\n    cache:\n      in_memory:\n        limit: 100\n      \
         redis:\n        urls: [\"redis://127.0.0.1:6379\"]\n        ttl: 24h\n        namespace: prod\n\
         persisted_queries:\n  enabled: false\n  log_unknown: false\n  safelist:\n    enabled: false\n    \
         require_id: false\n  local_manifests: []\n  hot_reload: false\n",
    )
    .unwrap();
    assert_eq!(config.apq.router.cache.in_memory.limit, 100);
    let redis = config.apq.router.cache.redis.as_ref().unwrap();
    assert_eq!(redis.ttl, Some(Duration::from_secs(86_400)));
    assert_eq!(redis.key_prefix(), "prod:");
    assert!(config.apq.enabled && !config.persisted_queries.enabled);
    // Defaults: APQ on, manifests off.
    let config = Config::default();
    assert!(config.apq.enabled && config.apq.router.cache.redis.is_none());
    assert_eq!(config.apq.router.cache.in_memory.limit, 512);
}

#[test]
fn a_bad_manifest_stops_the_pipeline_naming_the_file_and_entry() {
    let sdl = support::supergraph::sdl("http://a", "http://b", "http://c", "http://d");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    let config = Config::from_yaml_str(&pq_config(&path, &[], "")).unwrap();
    let load = || Pipeline::new(&sdl, &config).err().unwrap_or_default();
    let write = |text: &str| {
        write_file(&path, text);
        load()
    };
    let error = write(
        r#"{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id": "a", "body": "{a}"}, {"body": "{b}"}]}"#,
    );
    assert!(
        error.contains("bad.json") && error.contains("operations[1]: `id` is missing"),
        "{error}"
    );
    let error = write("[1]");
    assert!(
        error.contains("bad.json") && error.contains("neither an Apollo manifest"),
        "{error}"
    );
    std::fs::remove_file(&path).unwrap();
    let error = load();
    assert!(error.contains("bad.json: cannot read"), "{error}");
}
