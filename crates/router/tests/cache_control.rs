//! `cache_control:` end to end: the router in front of the test subgraphs
//! on loopback, each answering with the `Cache-Control` a test picks.

#[allow(dead_code)]
mod support;

use bytes::Bytes;
use goliath_router::Config;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

use support::{
    closed_port_url, serve_schema_with_cache_control, start_router, subgraphs, SubgraphUrls,
};

/// `{ me { name } topProducts { name } }`: accounts and products.
const BOTH: &str = "{ me { name } topProducts(first: 1) { name } }";
/// `{ me { name } }`, URL-encoded for a GET.
const ME_GET: &str = "/graphql?query=%7B%20me%20%7B%20name%20%7D%20%7D";

/// Serves an async-graphql `schema`, every answer with `Cache-Control:
/// cache_control` (none when `None`).
async fn serve<Q, M, S>(
    schema: async_graphql::Schema<Q, M, S>,
    cache_control: Option<&'static str>,
) -> String
where
    Q: async_graphql::ObjectType + 'static,
    M: async_graphql::ObjectType + 'static,
    S: async_graphql::SubscriptionType + 'static,
{
    serve_schema_with_cache_control(schema, Default::default(), cache_control).await
}

/// A router in front of the subgraphs, and a client.
struct Graph {
    addr: std::net::SocketAddr,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// A router with the config `yaml` in front of the subgraphs, accounts
/// and products answering with these `Cache-Control` values (none when
/// `None`); with `products_down`, products cannot be reached.
async fn start(
    yaml: &str,
    accounts: Option<&'static str>,
    products: Option<&'static str>,
    products_down: bool,
) -> Graph {
    let products = if products_down {
        closed_port_url().await
    } else {
        serve(subgraphs::products(), products).await
    };
    let urls = SubgraphUrls {
        accounts: serve(subgraphs::accounts(""), accounts).await,
        inventory: serve(subgraphs::inventory(), Some("max-age=600")).await,
        products,
        reviews: serve(subgraphs::reviews(), Some("max-age=600")).await,
    };
    router(yaml, &urls.supergraph()).await
}

/// A router with the config `yaml` serving `supergraph`.
async fn router(yaml: &str, supergraph: &str) -> Graph {
    let config = Config::from_yaml_str(yaml).unwrap();
    Graph {
        addr: start_router(supergraph, &config).await,
        client: Client::builder(TokioExecutor::new()).build_http(),
    }
}

/// [`start`] with `@cacheControl` hints in the supergraph: `Query.me`
/// 20 s PRIVATE, `Query.topProducts` 50 s, type `Product` 40 s,
/// `Product.price` 10 s; every subgraph answers with `Cache-Control:
/// subgraphs`.
async fn start_hinted(yaml: &str, subgraphs: Option<&'static str>) -> Graph {
    let urls = SubgraphUrls {
        accounts: serve(subgraphs::accounts(""), subgraphs).await,
        inventory: serve(subgraphs::inventory(), subgraphs).await,
        products: serve(subgraphs::products(), subgraphs).await,
        reviews: serve(subgraphs::reviews(), subgraphs).await,
    };
    let mut sdl = urls.supergraph();
    for (from, to) in [
        (
            "\nschema\n",
            "\ndirective @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION\n\nenum CacheControlScope @join__type(graph: ACCOUNTS) { PUBLIC PRIVATE }\n\nschema\n",
        ),
        (
            "me: User @join__field(graph: ACCOUNTS)",
            "me: User @join__field(graph: ACCOUNTS) @cacheControl(maxAge: 20, scope: PRIVATE)",
        ),
        (
            "[Product] @join__field(graph: PRODUCTS)\n  product",
            "[Product] @join__field(graph: PRODUCTS) @cacheControl(maxAge: 50)\n  product",
        ),
        (
            "type Product\n",
            "type Product @cacheControl(maxAge: 40)\n",
        ),
        (
            "price: Int @join__field(graph: INVENTORY, external: true) @join__field(graph: PRODUCTS)",
            "price: Int @join__field(graph: INVENTORY, external: true) @join__field(graph: PRODUCTS) @cacheControl(maxAge: 10)",
        ),
    ] {
        assert_eq!(sdl.matches(from).count(), 1, "{from}");
        sdl = sdl.replace(from, to);
    }
    router(yaml, &sdl).await
}

const ON: &str = "cache_control: {enabled: true}";

impl Graph {
    /// Sends a request; the status, headers and body (raw).
    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (StatusCode, HeaderMap, Bytes) {
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr))
            .header("apollo-require-preflight", "true");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .client
            .request(request.body(Full::new(Bytes::from(body))).unwrap())
            .await
            .unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, headers, body)
    }

    /// POSTs `query`; the answer's headers and JSON body.
    async fn post(&self, query: &str) -> (HeaderMap, Value) {
        let body = serde_json::to_vec(&json!({ "query": query })).unwrap();
        let json = [("content-type", "application/json")];
        let (status, headers, body) = self.send(Method::POST, "/graphql", &json, body).await;
        assert_eq!(status, StatusCode::OK);
        (headers, serde_json::from_slice(&body).unwrap())
    }

    /// The `Cache-Control` of the answer to `query` (POSTed).
    async fn cache_control(&self, query: &str) -> Option<String> {
        let (headers, body) = self.post(query).await;
        assert!(body["data"].is_object(), "{body}");
        header(&headers, "cache-control")
    }

    /// Checks that the answer to `query` has `Cache-Control: want`.
    async fn assert_policy(&self, query: &str, want: &str) {
        let got = self.cache_control(query).await;
        assert_eq!(got.as_deref(), Some(want), "{query}");
    }

    /// GETs `{ me { name } }` with these headers.
    async fn get_me(&self, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, Bytes) {
        self.send(Method::GET, ME_GET, headers, vec![]).await
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn off_by_default_no_header_is_set() {
    let graph = start("{}", Some("max-age=60"), Some("max-age=60"), false).await;
    let (headers, body) = graph.post(BOTH).await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(header(&headers, "cache-control"), None);
    let (status, headers, _) = graph.get_me(&[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "cache-control"), None);
    assert_eq!(header(&headers, "etag"), None);
}

#[tokio::test]
async fn the_lowest_max_age_wins() {
    let graph = start(ON, Some("max-age=60"), Some("public, max-age=30"), false).await;
    graph.assert_policy(BOTH, "max-age=30, public").await;
    // One subgraph alone: its own.
    graph
        .assert_policy("{ me { name } }", "max-age=60, public")
        .await;
}

#[tokio::test]
async fn private_wins() {
    let graph = start(ON, Some("max-age=60, private"), Some("max-age=30"), false).await;
    graph.assert_policy(BOTH, "max-age=30, private").await;
}

#[tokio::test]
async fn no_store_wins() {
    let graph = start(ON, Some("no-store"), Some("max-age=30"), false).await;
    graph.assert_policy(BOTH, "no-store").await;
    graph
        .assert_policy("{ topProducts { name } }", "max-age=30, public")
        .await;
}

#[tokio::test]
async fn a_subgraph_without_the_header_counts_as_default_max_age() {
    let graph = start(ON, None, Some("max-age=30"), false).await;
    graph.assert_policy(BOTH, "no-store").await;
    let yaml = "cache_control: {enabled: true, default_max_age: 10}";
    let graph = start(yaml, None, Some("max-age=30"), false).await;
    graph.assert_policy(BOTH, "max-age=10, public").await;
    // Not reading the subgraphs' headers: the default for everything.
    let yaml = "cache_control: {enabled: true, default_max_age: 10, subgraph_headers: false}";
    let graph = start(yaml, Some("max-age=5, private"), Some("max-age=5"), false).await;
    graph.assert_policy(BOTH, "max-age=10, public").await;
}

#[tokio::test]
async fn a_mutation_is_never_cacheable() {
    let graph = start(ON, Some("max-age=60"), Some("max-age=60"), false).await;
    let mutation = r#"mutation { updateName(id: "1", name: "Ada") { name } }"#;
    graph.assert_policy(mutation, "no-store").await;
    // Nor is a request error.
    let (headers, body) = graph.post("{ nope }").await;
    assert!(body["data"].is_null(), "{body}");
    assert_eq!(
        header(&headers, "cache-control").as_deref(),
        Some("no-store")
    );
}

#[tokio::test]
async fn an_answer_with_errors_is_never_cacheable() {
    let graph = start(ON, Some("max-age=60"), None, true).await;
    let (headers, body) = graph.post(BOTH).await;
    assert!(body["errors"].is_array(), "{body}");
    assert_eq!(body["data"]["me"]["name"], "Ada Lovelace");
    assert_eq!(
        header(&headers, "cache-control").as_deref(),
        Some("no-store")
    );
}

#[tokio::test]
async fn a_cacheable_get_has_an_etag_and_a_matching_if_none_match_is_304() {
    let graph = start(ON, Some("max-age=60"), None, false).await;
    let (status, headers, body) = graph.get_me(&[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header(&headers, "cache-control").as_deref(),
        Some("max-age=60, public")
    );
    let etag = header(&headers, "etag").expect("an ETag");
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let (status, again, empty) = graph.get_me(&[("if-none-match", &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(empty.is_empty(), "{empty:?}");
    assert_eq!(header(&again, "etag").as_deref(), Some(etag.as_str()));
    assert_eq!(
        header(&again, "cache-control").as_deref(),
        Some("max-age=60, public")
    );
    // Another tag: the whole answer.
    let (status, _, same) = graph.get_me(&[("if-none-match", "\"other\"")]).await;
    assert_eq!((status, &same), (StatusCode::OK, &body));
    // POST answers have no ETag.
    let (headers, _) = graph.post("{ me { name } }").await;
    assert_eq!(header(&headers, "etag"), None);
}

#[tokio::test]
async fn a_different_body_has_a_different_etag() {
    let graph = start(ON, Some("max-age=60"), None, false).await;
    let (_, headers, _) = graph.get_me(&[]).await;
    let first = header(&headers, "etag").expect("an ETag");
    graph
        .post(r#"mutation { updateName(id: "1", name: "Ada King") { name } }"#)
        .await;
    let (status, headers, body) = graph.get_me(&[("if-none-match", &first)]).await;
    assert_eq!(status, StatusCode::OK, "a new body is not 304");
    assert!(String::from_utf8_lossy(&body).contains("Ada King"));
    let second = header(&headers, "etag").expect("an ETag");
    assert_ne!(first, second);
}

#[tokio::test]
async fn an_uncacheable_get_has_no_etag() {
    let graph = start(ON, None, None, false).await;
    let (status, headers, _) = graph.get_me(&[("if-none-match", "*")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header(&headers, "cache-control").as_deref(),
        Some("no-store")
    );
    assert_eq!(header(&headers, "etag"), None);
}

/// Hints only: the subgraphs' headers are not read.
const HINTS_ONLY: &str =
    "cache_control: {enabled: true, default_max_age: 3600, subgraph_headers: false}";

#[tokio::test]
async fn cache_control_hints_give_the_operations_policy() {
    let graph = start_hinted(HINTS_ONLY, None).await;
    for (query, want) in [
        // The field's own hint over its type's; a leaf inherits.
        ("{ topProducts { name } }", "max-age=50, public"),
        // A leaf's own hint is lower.
        ("{ topProducts { name price } }", "max-age=10, public"),
        // A root field without a hint of its own: its type's.
        ("{ product(upc: \"1\") { name } }", "max-age=40, public"),
        // The lowest wins, PRIVATE wins.
        (
            "{ me { name } topProducts { name } }",
            "max-age=20, private",
        ),
        // Nothing hinted: the default for root and composite fields.
        ("{ user(id: \"1\") { name } }", "max-age=3600, public"),
        // Through fragments, inline and named.
        (
            "{ ... on Query { topProducts { ...P } } } fragment P on Product { price }",
            "max-age=10, public",
        ),
    ] {
        graph.assert_policy(query, want).await;
    }
    // The directive is not part of the API schema.
    let (_, body) = graph.post("{ __schema { directives { name } } }").await;
    let names: Vec<&str> = body["data"]["__schema"]["directives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"deprecated"), "{names:?}");
    assert!(!names.contains(&"cacheControl"), "{names:?}");
}

#[tokio::test]
async fn cache_control_hints_and_subgraph_headers_the_lower_wins() {
    let yaml = "cache_control: {enabled: true}";
    let graph = start_hinted(yaml, Some("max-age=30")).await;
    graph
        .assert_policy("{ topProducts { name } }", "max-age=30, public")
        .await;
    graph
        .assert_policy("{ topProducts { price } }", "max-age=10, public")
        .await;
    // A mutation stays uncacheable whatever the hints say.
    let mutation = r#"mutation { updateName(id: "1", name: "Ada") { name } }"#;
    graph.assert_policy(mutation, "no-store").await;
}
