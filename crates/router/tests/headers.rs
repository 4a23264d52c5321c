//! Header propagation end to end: the router in front of the test
//! subgraphs on loopback, each recording the headers it received.

#[allow(dead_code)]
mod support;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use goliath_router::Config;
use http::HeaderMap;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use support::{respond, start_router, subgraphs, SubgraphUrls};

/// The headers each subgraph received, by subgraph name, last request
/// last.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<BTreeMap<String, Vec<HeaderMap>>>>);

impl Seen {
    /// The headers of the last request `subgraph` received.
    fn last(&self, subgraph: &str) -> HeaderMap {
        let seen = self.0.lock().unwrap();
        let requests = seen.get(subgraph).unwrap_or_else(|| {
            panic!("{subgraph} received no request");
        });
        requests.last().unwrap().clone()
    }

    /// The values of `name` in the last request to `subgraph`.
    fn values(&self, subgraph: &str, name: &str) -> Vec<String> {
        self.last(subgraph)
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }
}

/// Serves an async-graphql `schema` as `name`, recording each request's
/// headers in `seen`.
async fn serve<Q, M, S>(name: &str, schema: async_graphql::Schema<Q, M, S>, seen: Seen) -> String
where
    Q: async_graphql::ObjectType + 'static,
    M: async_graphql::ObjectType + 'static,
    S: async_graphql::SubscriptionType + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let name = name.to_string();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (schema, seen, name) = (schema.clone(), seen.clone(), name.clone());
            let service = service_fn(move |req: http::Request<Incoming>| {
                let (schema, seen, name) = (schema.clone(), seen.clone(), name.clone());
                async move {
                    let headers = req.headers().clone();
                    seen.0
                        .lock()
                        .unwrap()
                        .entry(name)
                        .or_default()
                        .push(headers);
                    let body = req.into_body().collect().await.unwrap().to_bytes();
                    let request: async_graphql::Request = serde_json::from_slice(&body).unwrap();
                    let response = schema.execute(request).await;
                    Ok::<_, Infallible>(respond(
                        200,
                        "application/json",
                        serde_json::to_vec(&response).unwrap(),
                    ))
                }
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}/graphql")
}

/// A router with the `headers:` section `yaml` in front of the test
/// subgraphs; its address and what the subgraphs saw.
async fn start(yaml: &str) -> (std::net::SocketAddr, Seen) {
    let seen = Seen::default();
    let urls = SubgraphUrls {
        accounts: serve("accounts", subgraphs::accounts(""), seen.clone()).await,
        inventory: serve("inventory", subgraphs::inventory(), seen.clone()).await,
        products: serve("products", subgraphs::products(), seen.clone()).await,
        reviews: serve("reviews", subgraphs::reviews(), seen.clone()).await,
    };
    let config = Config::from_yaml_str(yaml).unwrap();
    let addr = start_router(&urls.supergraph(), &config).await;
    (addr, seen)
}

/// POSTs `{ me { name } topProducts { name } }` (accounts and products)
/// with the extra request headers `headers`, raw, so that hop-by-hop
/// headers go out as written.
async fn query(addr: std::net::SocketAddr, headers: &[(&str, &str)]) -> Value {
    let body = json!({"query": "{ me { name } topProducts(first: 1) { name } }"}).to_string();
    let mut request = format!(
        "POST /graphql HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    let answer = support::raw_http(addr, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let body = &answer[answer.find("\r\n\r\n").unwrap() + 4..];
    let body: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(body["data"]["me"]["name"], "Ada Lovelace", "{body:#}");
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn without_rules_no_client_header_reaches_a_subgraph() {
    let (addr, seen) = start("").await;
    query(addr, &[("authorization", "Bearer t"), ("x-custom", "1")]).await;
    for subgraph in ["accounts", "products"] {
        assert!(seen.values(subgraph, "authorization").is_empty());
        assert!(seen.values(subgraph, "x-custom").is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn propagate_named_rename_and_default() {
    let (addr, seen) = start(
        "headers:\n  all:\n    request:\n      - propagate: {named: authorization}\n      - propagate: {named: x-user-id, rename: account-id, default: anonymous}\n",
    )
    .await;
    query(addr, &[("authorization", "Bearer t"), ("x-user-id", "42")]).await;
    for subgraph in ["accounts", "products"] {
        assert_eq!(seen.values(subgraph, "authorization"), ["Bearer t"]);
        assert_eq!(seen.values(subgraph, "account-id"), ["42"]);
        assert!(seen.values(subgraph, "x-user-id").is_empty());
    }
    query(addr, &[]).await;
    assert!(seen.values("accounts", "authorization").is_empty());
    assert_eq!(seen.values("accounts", "account-id"), ["anonymous"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn propagate_matching_keeps_repeated_values() {
    let (addr, seen) =
        start("headers:\n  all:\n    request:\n      - propagate: {matching: '^x-trace-'}\n").await;
    query(
        addr,
        &[
            ("x-trace-id", "a"),
            ("x-trace-tag", "1"),
            ("x-trace-tag", "2"),
            ("x-other", "o"),
        ],
    )
    .await;
    assert_eq!(seen.values("products", "x-trace-id"), ["a"]);
    assert_eq!(seen.values("products", "x-trace-tag"), ["1", "2"]);
    assert!(seen.values("products", "x-other").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn insert_and_remove_per_subgraph() {
    let (addr, seen) = start(
        "headers:\n  all:\n    request:\n      - propagate: {matching: '.*'}\n      - insert: {name: x-gateway, value: goliath}\n  subgraphs:\n    products:\n      request:\n        - remove: {named: x-secret}\n        - remove: {matching: '^x-gate'}\n        - insert: {name: x-products-only, value: 'yes'}\n",
    )
    .await;
    query(addr, &[("x-secret", "s")]).await;
    assert_eq!(seen.values("accounts", "x-secret"), ["s"]);
    assert_eq!(seen.values("accounts", "x-gateway"), ["goliath"]);
    assert!(seen.values("accounts", "x-products-only").is_empty());
    assert!(seen.values("products", "x-secret").is_empty());
    assert!(seen.values("products", "x-gateway").is_empty());
    assert_eq!(seen.values("products", "x-products-only"), ["yes"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn hop_by_hop_headers_never_arrive() {
    let (addr, seen) =
        start("headers:\n  all:\n    request:\n      - propagate: {matching: '.*'}\n").await;
    query(
        addr,
        &[
            ("connection", "keep-alive, x-nominated"),
            ("x-nominated", "n"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("trailer", "x-t"),
            ("upgrade", "websocket"),
            ("proxy-authorization", "Basic x"),
            ("accept-encoding", "gzip"),
            ("x-fine", "f"),
        ],
    )
    .await;
    let last = seen.last("accounts");
    assert_eq!(seen.values("accounts", "x-fine"), ["f"]);
    for name in [
        "x-nominated",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "proxy-authorization",
        "transfer-encoding",
    ] {
        assert!(last.get(name).is_none(), "{name} arrived: {last:?}");
    }
    // The router's own values, not the client's.
    assert_eq!(seen.values("accounts", "accept-encoding"), ["identity"]);
    assert_eq!(
        seen.values("accounts", "content-type"),
        ["application/json"]
    );
    assert_ne!(seen.values("accounts", "host"), [addr.to_string()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_rules_are_refused_at_load() {
    for (yaml, key) in [
        (
            "headers:\n  all:\n    request:\n      - propagate: {named: connection}\n",
            "headers.all.request[0].propagate.named",
        ),
        (
            "headers:\n  all:\n    request:\n      - insert: {name: x-a}\n",
            "value",
        ),
        (
            "headers:\n  subgraphs:\n    products:\n      request:\n        - remove: {matching: '['}\n",
            "headers.subgraphs.products.request[0].remove.matching",
        ),
    ] {
        let err = Config::from_yaml_str(yaml).unwrap_err().to_string();
        assert!(err.contains(key), "{yaml}: {err}");
    }
    // A subgraph the supergraph does not have.
    let urls = SubgraphUrls {
        accounts: "http://127.0.0.1:1/graphql".into(),
        inventory: "http://127.0.0.1:1/graphql".into(),
        products: "http://127.0.0.1:1/graphql".into(),
        reviews: "http://127.0.0.1:1/graphql".into(),
    };
    let config =
        Config::from_yaml_str("headers:\n  subgraphs:\n    nowhere:\n      request: []\n").unwrap();
    let err = goliath_router::Pipeline::new(&urls.supergraph(), &config)
        .err()
        .unwrap();
    assert!(err.contains("headers.subgraphs.nowhere"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn headers_reach_the_router_by_get_too() {
    let (addr, seen) =
        start("headers:\n  all:\n    request:\n      - propagate: {named: authorization}\n").await;
    let query = "%7B%20me%20%7B%20name%20%7D%20%7D";
    let request = format!(
        "GET /graphql?query={query} HTTP/1.1\r\nhost: {addr}\r\napollo-require-preflight: true\r\nauthorization: Bearer g\r\n\r\n"
    );
    let answer = support::raw_http(addr, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(seen.values("accounts", "authorization"), ["Bearer g"]);
}
