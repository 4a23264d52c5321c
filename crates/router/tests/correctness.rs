//! Federation correctness beyond the audit (issue 17): supergraphs that got
//! wrong answers with no error, each served by hand-written subgraphs on
//! loopback. The supergraphs are `goliath compose`'s output for the
//! subgraph SDL in each test's comment (`tests/correctness/`).

#[allow(dead_code)]
mod support;

use goliath_router::Config;
use serde_json::{json, Value};

use support::{start_router, stub_subgraph, RequestLog};

/// POSTs `query` to the router at `addr`; the JSON answer.
async fn post(addr: std::net::SocketAddr, query: &str) -> Value {
    let client = reqwest_like::Client::new();
    client.post(addr, query).await
}

/// A tiny HTTP client for the tests (hyper's).
mod reqwest_like {
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;
    use serde_json::{json, Value};

    pub struct Client(hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>);

    impl Client {
        pub fn new() -> Client {
            Client(hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http())
        }

        pub async fn post(&self, addr: std::net::SocketAddr, query: &str) -> Value {
            let body = serde_json::to_vec(&json!({ "query": query })).unwrap();
            let request = http::Request::post(format!("http://{addr}/graphql"))
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body)))
                .unwrap();
            let response = self.0.request(request).await.unwrap();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            serde_json::from_slice(&bytes).unwrap()
        }
    }
}

/// Two fields of `Product` in subgraph `b` each `@requires` the external
/// `price` with another argument:
///
/// ```graphql
/// # a
/// type Query { products: [Product] }
/// type Product @key(fields: "id") { id: ID! price(currency: String!): Float }
/// # b
/// type Product @key(fields: "id") {
///   id: ID!
///   price(currency: String!): Float @external
///   usdLabel: String @requires(fields: "price(currency: \"USD\")")
///   eurLabel: String @requires(fields: "price(currency: \"EUR\")")
/// }
/// ```
///
/// A representation holds one `price`: each requirement needs a fetch of its
/// own, or one label is computed from the other's price.
#[tokio::test]
async fn requires_of_one_field_with_different_arguments() {
    let log = RequestLog::default();
    // a: USD 10, EUR 9 for every product, under the aliases the router asks.
    let a = stub_subgraph("a", log.clone(), |request| {
        let query = request["query"].as_str().unwrap_or_default();
        let mut product = json!({"__typename": "Product", "id": "1"});
        for part in query.split_whitespace() {
            // `ALIAS:price(currency:` then `"USD")}`: the alias and currency.
            if let Some((alias, _)) = part.split_once(":price(") {
                let currency = if query[query.find(part).unwrap()..]
                    .starts_with(&format!("{alias}:price(currency: \"USD\""))
                {
                    10.0
                } else {
                    9.0
                };
                product[alias] = json!(currency);
            }
        }
        json!({"data": {"products": [product]}})
    })
    .await;
    // b: each label from the representation's `price`.
    let b = stub_subgraph("b", log.clone(), |request| {
        let query = request["query"].as_str().unwrap_or_default().to_owned();
        let reps = request["variables"]["representations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let entities: Vec<Value> = reps
            .iter()
            .map(|rep| {
                let price = rep["price"].as_f64().unwrap_or(-1.0);
                let mut out = json!({"__typename": "Product"});
                if query.contains("usdLabel") {
                    out["usdLabel"] = json!(format!("${price}"));
                }
                if query.contains("eurLabel") {
                    out["eurLabel"] = json!(format!("€{price}"));
                }
                out
            })
            .collect();
        json!({"data": {"_entities": entities}})
    })
    .await;
    let sdl = include_str!("correctness/requires_arguments.graphql")
        .replace("A_URL", &a)
        .replace("B_URL", &b);
    let addr = start_router(&sdl, &Config::default()).await;
    let answer = post(addr, "{ products { usdLabel eurLabel } }").await;
    assert_eq!(
        answer,
        json!({"data": {"products": [{"usdLabel": "$10", "eurLabel": "€9"}]}}),
        "{:#?}",
        log.entries()
    );
    // Two fetches to b, one per requirement.
    assert_eq!(log.subgraphs().iter().filter(|s| *s == "b").count(), 2);
}

/// `node(id:)` is a shared root field of two subgraphs, each implementing
/// one of the interface's types:
///
/// ```graphql
/// # a
/// interface Node { id: ID! }
/// type Query { node(id: ID!): Node @shareable }
/// type User implements Node @key(fields: "id") { id: ID! name: String }
/// # b: the same, with `type Post implements Node @key(fields: "id") { id: ID! title: String }`
/// ```
///
/// The subgraph the planner asks cannot answer for the other's type: an
/// object it made up of a type it does not define is refused with an
/// error, not served.
#[tokio::test]
async fn a_shared_interface_root_field_answered_with_a_foreign_type() {
    let log = RequestLog::default();
    // Each answers with the other's type (`made_up`), or its own.
    let stub = |own: &'static str, other: &'static str, made_up: bool| {
        move |_: &Value| {
            let ty = if made_up { other } else { own };
            json!({"data": {"node": {"__typename": ty, "id": "x1", "name": "Ada", "title": "Hi"}}})
        }
    };
    let sdl = include_str!("correctness/shared_interface_root.graphql");
    let query = "{ node(id: \"x1\") { id ... on Post { title } ... on User { name } } }";
    for made_up in [true, false] {
        let a = stub_subgraph("a", log.clone(), stub("User", "Post", made_up)).await;
        let b = stub_subgraph("b", log.clone(), stub("Post", "User", made_up)).await;
        let sdl = sdl.replace("A_URL", &a).replace("B_URL", &b);
        let addr = start_router(&sdl, &Config::default()).await;
        let answer = post(addr, query).await;
        if made_up {
            assert_eq!(answer["data"], json!({"node": null}), "{answer}");
            let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
            assert!(
                message.contains("which the subgraph does not define"),
                "{answer}"
            );
            assert_eq!(answer["errors"][0]["path"], json!(["node"]), "{answer}");
        } else {
            let node = &answer["data"]["node"];
            assert!(answer["errors"].is_null(), "{answer}");
            assert!(
                node == &json!({"id": "x1", "name": "Ada"})
                    || node == &json!({"id": "x1", "title": "Hi"}),
                "{answer}"
            );
        }
    }
}
