//! No request can take the router down: each attack is refused with its
//! code, each limit holds at its boundary, and the router keeps serving.
//! Real subgraphs on loopback (see `support`).

#[allow(dead_code)]
mod support;

use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use support::{error_codes, raw_http, TestGraph};

/// A cheap query and its answer: the router is still serving.
const ME: &str = "{ me { name } }";

fn me() -> Value {
    json!({"data": {"me": {"name": "Ada Lovelace"}}})
}

/// The fragment bomb of the issue: `levels` fragments, each spreading the
/// next one twice. `3 * 2^levels - 1` selections once expanded.
fn bomb(levels: usize) -> String {
    let mut q = String::from("query Bomb { ...F0 }\n");
    for i in 0..levels {
        q.push_str(&format!(
            "fragment F{i} on Query {{ ...F{} ...F{} }}\n",
            i + 1,
            i + 1
        ));
    }
    q.push_str(&format!("fragment F{levels} on Query {{ __typename }}\n"));
    q
}

/// POSTs `query` and returns the status and body.
async fn post(graph: &TestGraph, query: &str) -> (StatusCode, Value) {
    graph.post(query, json!({})).await
}

#[tokio::test(flavor = "multi_thread")]
async fn fragment_bombs_are_refused_and_the_router_keeps_serving() {
    let graph = TestGraph::start().await;
    for levels in [20, 31, 64, 500] {
        let (status, body) = post(&graph, &bomb(levels)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{levels} levels: {body:#}");
        assert_eq!(error_codes(&body), ["MAX_RECURSIVE_SELECTIONS_LIMIT"]);
        assert!(body.get("data").is_none());
        assert_eq!(graph.query(ME).await, me());
    }
    assert!(graph.log.entries().iter().all(|(_, q)| !q.contains("F0")));
}

#[tokio::test(flavor = "multi_thread")]
async fn max_recursive_selections_at_its_boundary() {
    // 10 levels: 3 * 2^10 - 1 = 3071 selections.
    let query = bomb(10);
    let graph = TestGraph::start_with(|c| c.limits.max_recursive_selections = 3071).await;
    let body = graph.query(&query).await;
    assert_eq!(body, json!({"data": {"__typename": "Query"}}));
    let graph = TestGraph::start_with(|c| c.limits.max_recursive_selections = 3070).await;
    let (status, body) = post(&graph, &query).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["MAX_RECURSIVE_SELECTIONS_LIMIT"]);
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("3071 selections"), "{message}");
    // warn_only does not relax it: it is a safety limit.
    let graph = TestGraph::start_with(|c| {
        c.limits.max_recursive_selections = 3070;
        c.limits.warn_only = true;
    })
    .await;
    assert_eq!(post(&graph, &query).await.0, StatusCode::BAD_REQUEST);
}

/// Queries of depth 2, 3 and 4 (the last through a fragment).
const DEPTH_2: &str = "{ me { name } }";
const DEPTH_3: &str = "{ me { reviews { body } } }";
const DEPTH_4: &str = "{ me { ...R } } fragment R on User { reviews { product { upc } } }";

#[tokio::test(flavor = "multi_thread")]
async fn operation_limits_at_their_boundaries() {
    let graph = TestGraph::start_with(|c| c.limits.max_depth = 3).await;
    assert!(graph.query(DEPTH_2).await.get("errors").is_none());
    assert!(graph.query(DEPTH_3).await.get("errors").is_none());
    let (status, body) = post(&graph, DEPTH_4).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body:#}");
    assert_eq!(error_codes(&body), ["MAX_DEPTH_LIMIT"]);
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("depth: 4, max_depth: 3"));

    // Root fields: `me` and `topProducts` (a key repeated counts once).
    let graph = TestGraph::start_with(|c| c.limits.max_root_fields = Some(2)).await;
    let two = "{ me { name } me { name } topProducts(first: 1) { upc } }";
    assert!(graph.query(two).await.get("errors").is_none());
    let three = "{ me { name } topProducts(first: 1) { upc } product(upc: \"1\") { upc } }";
    let (status, body) = post(&graph, three).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["MAX_ROOT_FIELDS_LIMIT"]);

    // Aliases, counted at every spread of a fragment.
    let graph = TestGraph::start_with(|c| c.limits.max_aliases = Some(2)).await;
    let body = graph.query("{ a: me { n: name } }").await;
    assert_eq!(body, json!({"data": {"a": {"n": "Ada Lovelace"}}}));
    let spread_twice = "{ a: me { ...N } b: me { ...N } } fragment N on User { n: name }";
    let (status, body) = post(&graph, spread_twice).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["MAX_ALIASES_LIMIT"]);

    // Height: every distinct key of every selection set.
    let graph = TestGraph::start_with(|c| c.limits.max_height = Some(3)).await;
    assert!(graph
        .query("{ me { name username } }")
        .await
        .get("errors")
        .is_none());
    let (status, body) = post(&graph, "{ me { id name username } }").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["MAX_HEIGHT_LIMIT"]);

    // Several limits at once: one error each.
    let graph = TestGraph::start_with(|c| {
        c.limits.max_depth = 1;
        c.limits.max_aliases = Some(0);
    })
    .await;
    let (_, body) = post(&graph, "{ a: me { name } }").await;
    assert_eq!(error_codes(&body), ["MAX_DEPTH_LIMIT", "MAX_ALIASES_LIMIT"]);
    assert!(graph.log.entries().is_empty(), "no subgraph was asked");
}

#[tokio::test(flavor = "multi_thread")]
async fn warn_only_logs_instead_of_refusing() {
    let graph = TestGraph::start_with(|c| {
        c.limits.max_depth = 2;
        c.limits.max_aliases = Some(0);
        c.limits.warn_only = true;
    })
    .await;
    let body = graph.query(DEPTH_4).await;
    assert_eq!(
        body["data"]["me"]["reviews"][0]["product"]["upc"], "1",
        "{body:#}"
    );
    let body = graph.query("{ a: me { name } }").await;
    assert_eq!(body, json!({"data": {"a": {"name": "Ada Lovelace"}}}));
}

#[tokio::test(flavor = "multi_thread")]
async fn parser_limits_at_their_boundaries() {
    // `{ me { name } }`: 12 tokens, whitespace and the end included.
    let graph = TestGraph::start_with(|c| c.limits.parser_max_tokens = 12).await;
    assert_eq!(graph.query("{ me { name } }").await, me());
    let (status, body) = post(&graph, "{ me { name } } ").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["PARSER_MAX_TOKENS_LIMIT"]);

    let graph = TestGraph::start_with(|c| c.limits.parser_max_recursion = 3).await;
    assert!(graph.query(DEPTH_3).await.get("errors").is_none());
    let (status, body) = post(&graph, "{ me { reviews { product { upc } } } }").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body:#}");
    assert_eq!(error_codes(&body), ["PARSER_MAX_RECURSION_LIMIT"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_are_400_under_either_media_type() {
    let graph = TestGraph::start().await;
    let request = json!({"query": bomb(40)});
    for accept in ["application/json", "application/graphql-response+json"] {
        let (status, body) = graph.post_json(&request, accept).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{accept}");
        assert_eq!(error_codes(&body), ["MAX_RECURSIVE_SELECTIONS_LIMIT"]);
    }
}

/// A request that plans a large new document does not hold up the other
/// requests of its worker: here the router, its subgraphs and the client
/// all share the test's single thread, and a cached query is answered
/// while the large document is still being parsed and planned elsewhere.
#[tokio::test(flavor = "current_thread")]
async fn a_heavy_request_does_not_stall_its_worker() {
    let graph = std::sync::Arc::new(
        TestGraph::start_with(|c| c.limits.max_recursive_selections = 1_000_000).await,
    );
    assert_eq!(graph.query(ME).await, me());
    let heavy = {
        let graph = graph.clone();
        tokio::spawn(async move { post(&graph, &bomb(17)).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    for _ in 0..3 {
        assert_eq!(graph.query(ME).await, me());
    }
    assert!(
        !heavy.is_finished(),
        "the heavy request was still being worked on meanwhile"
    );
    let (status, body) = heavy.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body, json!({"data": {"__typename": "Query"}}));
}

// ------------------------------------------------------------------ HTTP

#[tokio::test(flavor = "multi_thread")]
async fn large_request_heads_are_431() {
    let graph = TestGraph::start().await;
    let big = "x".repeat(200 * 1024);
    let request = format!(
        "POST /graphql HTTP/1.1\r\nhost: x\r\nx-big: {big}\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{{}}"
    );
    let answer = raw_http(graph.addr, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.200}");
    let many: String = (0..101).map(|i| format!("x-h{i}: 1\r\n")).collect();
    let request = format!("GET /health HTTP/1.1\r\nhost: x\r\n{many}\r\n");
    let answer = raw_http(graph.addr, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.200}");
    // Just under both limits: served.
    let ok = format!(
        "GET /health HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
        "x".repeat(16 * 1024)
    );
    let answer = raw_http(graph.addr, ok.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:.200}");
}

/// A client that writes its whole 30 MB body before it reads still gets
/// the 413 (the router answers from `Content-Length`, then lingers).
#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_body_gets_its_413() {
    let graph = TestGraph::start().await;
    let mut stream = TcpStream::connect(graph.addr).await.unwrap();
    let head = "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
                content-length: 30000000\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..28 {
        stream
            .write_all(&chunk)
            .await
            .expect("the whole body is taken");
    }
    stream
        .write_all(&chunk[..30_000_000 - 28 * (1 << 20)])
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:.300}");
    assert!(answer.contains("PAYLOAD_TOO_LARGE"));
    assert_eq!(graph.query(ME).await, me());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_request_head_is_cut_off() {
    let graph = TestGraph::start_with(|c| c.limits.http_header_read_timeout_ms = 300).await;
    let mut stream = TcpStream::connect(graph.addr).await.unwrap();
    stream
        .write_all(b"POST /graphql HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the router closed the connection");
    assert_eq!(graph.query(ME).await, me());
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_past_the_cap_wait_their_turn() {
    let graph = TestGraph::start_with(|c| c.limits.max_connections = 2).await;
    // Two idle connections take both places (the test client's own
    // pooled connections are not open yet).
    let first = TcpStream::connect(graph.addr).await.unwrap();
    let _second = TcpStream::connect(graph.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut third = TcpStream::connect(graph.addr).await.unwrap();
    third
        .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(300), third.read(&mut buf)).await;
    assert!(early.is_err(), "no answer while both places are taken");
    drop(first);
    let n = tokio::time::timeout(Duration::from_secs(5), third.read(&mut buf))
        .await
        .expect("answered once a place is free")
        .unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
}

// ------------------------------------------------------------------ CSRF

#[tokio::test(flavor = "multi_thread")]
async fn csrf_prevention() {
    let graph = TestGraph::start().await;
    let get = "/graphql?query=%7B%20me%20%7B%20name%20%7D%20%7D";
    // A GET without a preflight header, and a POST a form could send.
    let (status, _, body) = graph.send(Method::GET, get, &[], "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["CSRF_ERROR"]);
    let form = json!({"query": ME}).to_string();
    let (status, _, body) = graph
        .send(
            Method::POST,
            "/graphql",
            &[("content-type", "text/plain")],
            form.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["CSRF_ERROR"]);
    assert!(graph.log.entries().is_empty());
    // With a required header, or a JSON content type, it runs.
    for header in ["apollo-require-preflight", "x-apollo-operation-name"] {
        let (status, _, body) = graph.send(Method::GET, get, &[(header, "1")], "").await;
        assert_eq!((status, body), (StatusCode::OK, me()));
    }
    assert_eq!(graph.query(ME).await, me());
    // Switched off.
    let graph = TestGraph::start_with(|c| c.csrf.unsafe_disabled = true).await;
    let (status, _, body) = graph.send(Method::GET, get, &[], "").await;
    assert_eq!((status, body), (StatusCode::OK, me()));
    // Other headers, from config.
    let graph = TestGraph::start_with(|c| c.csrf.required_headers = vec!["x-client".into()]).await;
    let (status, _, _) = graph
        .send(Method::GET, get, &[("x-client", "web")], "")
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = graph
        .send(Method::GET, get, &[("apollo-require-preflight", "1")], "")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

// ------------------------------------------------------------ subgraphs

/// An `accounts` subgraph on a raw socket: queries get a whole answer on a
/// keep-alive connection; mutations are counted, then the connection is
/// closed, with the first bytes of an answer written or none.
async fn accounts_that_break_mid_mutation(
    mutations: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    partial_answer: &'static [u8],
) -> String {
    use std::sync::atomic::Ordering;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                continue;
            };
            let mutations = mutations.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    // One request: the head, then content-length bytes.
                    let request = loop {
                        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                            let len: usize = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .and_then(|v| v.trim().parse().ok())
                                .unwrap_or(0);
                            if buf.len() >= end + 4 + len {
                                let body = buf[end + 4..end + 4 + len].to_vec();
                                buf.drain(..end + 4 + len);
                                break body;
                            }
                        }
                        let mut chunk = [0u8; 4096];
                        match conn.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    if String::from_utf8_lossy(&request).contains("mutation") {
                        mutations.fetch_add(1, Ordering::SeqCst);
                        let _ = conn.write_all(partial_answer).await;
                        return; // closed mid-answer
                    }
                    let body = r#"{"data":{"me":{"name":"Ada Lovelace"}}}"#;
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if conn.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}/graphql")
}

/// A subgraph that closes the connection in the middle of its answer to a
/// mutation, on a connection the router had pooled: the mutation reached
/// it exactly once, and the client gets an error, not a second attempt.
#[tokio::test(flavor = "current_thread")]
async fn a_mutation_reaches_a_failing_subgraph_exactly_once() {
    let half = b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"da";
    for partial_answer in [&half[..], b""] {
        mutation_once(partial_answer).await;
    }
}

async fn mutation_once(partial_answer: &'static [u8]) {
    let mutations = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let accounts = accounts_that_break_mid_mutation(mutations.clone(), partial_answer).await;
    let graph = TestGraph::start_with(|c| {
        c.subgraphs.insert(
            "accounts".into(),
            goliath_router::config::SubgraphConfig {
                url: Some(accounts.clone()),
                ..Default::default()
            },
        );
    })
    .await;
    // A query first, so that the router has a pooled connection to reuse.
    assert_eq!(graph.query(ME).await, me());
    let (status, body) = post(
        &graph,
        "mutation { updateName(id: \"1\", name: \"Grace\") { name } }",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(error_codes(&body), ["SUBREQUEST_HTTP_ERROR"], "{body:#}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(mutations.load(std::sync::atomic::Ordering::SeqCst), 1);
    // The router still serves.
    assert_eq!(graph.query(ME).await, me());
}
