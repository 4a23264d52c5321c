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

/// `@provides` on a field of union type, on fields of two members:
///
/// ```graphql
/// # a
/// type Query { search: [Result] @provides(fields: "... on Book { title } ... on Movie { title }") }
/// union Result = Book | Movie
/// type Book @key(fields: "id") { id: ID! title: String @external }
/// type Movie @key(fields: "id") { id: ID! title: String @external }
/// # b
/// type Book @key(fields: "id") { id: ID! title: String year: Int }
/// type Movie @key(fields: "id") { id: ID! title: String }
/// ```
///
/// Each title comes from `a` (provided), only `Book.year` from `b`; the
/// field is never `null`.
#[tokio::test]
async fn provides_on_a_union_field() {
    let log = RequestLog::default();
    let a = stub_subgraph("a", log.clone(), |request| {
        let query = request["query"].as_str().unwrap_or_default();
        // The provided titles only when asked for.
        let title = |t: &str| {
            if query.contains("title") {
                json!(t)
            } else {
                json!("NOT ASKED")
            }
        };
        json!({"data": {"search": [
            {"__typename": "Book", "id": "b1", "title": title("Dune")},
            {"__typename": "Movie", "id": "m1", "title": title("Alien")},
        ]}})
    })
    .await;
    let b = stub_subgraph("b", log.clone(), |request| {
        let reps = request["variables"]["representations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let entities: Vec<Value> = reps
            .iter()
            .map(|rep| match rep["__typename"].as_str() {
                Some("Book") => json!({"__typename": "Book", "year": 1965}),
                _ => json!({"__typename": "Movie"}),
            })
            .collect();
        json!({"data": {"_entities": entities}})
    })
    .await;
    let sdl = include_str!("correctness/provides_on_union.graphql")
        .replace("A_URL", &a)
        .replace("B_URL", &b);
    let addr = start_router(&sdl, &Config::default()).await;
    let answer = post(
        addr,
        "{ search { __typename ... on Book { title year } ... on Movie { title } } }",
    )
    .await;
    assert_eq!(
        answer,
        json!({"data": {"search": [
            {"__typename": "Book", "title": "Dune", "year": 1965},
            {"__typename": "Movie", "title": "Alien"},
        ]}}),
        "{:#?}",
        log.entries()
    );
    // `b` is asked for the year only, never for a provided title.
    let to_b: Vec<String> = log
        .entries()
        .into_iter()
        .filter(|(s, _)| s == "b")
        .map(|(_, q)| q)
        .collect();
    assert_eq!(to_b.len(), 1, "{to_b:?}");
    assert!(
        to_b[0].contains("year") && !to_b[0].contains("title"),
        "{to_b:?}"
    );
}

/// A union each subgraph knows only in part, returned through a
/// `@shareable` wrapper type from a root field of each:
///
/// ```graphql
/// # a
/// type Query { feedA: Wrapper }
/// type Wrapper @shareable { item: Result }
/// union Result = Book | Song
/// type Book @key(fields: "id") { id: ID! title: String }
/// type Song @key(fields: "id") { id: ID! length: Int }
/// # b
/// type Query { feedB: Wrapper }
/// type Wrapper @shareable { item: Result }
/// union Result = Book | Movie
/// type Book @key(fields: "id") { id: ID! }
/// type Movie @key(fields: "id") { id: ID! title: String }
/// ```
///
/// `feedB` returns a `Book`, whose title only `a` has: the planner asks
/// `a` for it by key; `b` is never asked about `Song`, `a` never about
/// `Movie`.
#[tokio::test]
async fn a_partly_known_union_through_shared_wrappers() {
    let log = RequestLog::default();
    let a = stub_subgraph("a", log.clone(), |request| {
        let query = request["query"].as_str().unwrap_or_default();
        if query.contains("_entities") {
            let reps = request["variables"]["representations"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let entities: Vec<Value> = reps
                .iter()
                .map(|rep| json!({"__typename": "Book", "title": format!("title of {}", rep["id"].as_str().unwrap_or("?"))}))
                .collect();
            return json!({"data": {"_entities": entities}});
        }
        json!({"data": {"feedA": {"item": {"__typename": "Song", "id": "s1", "length": 180}}}})
    })
    .await;
    let b = stub_subgraph(
        "b",
        log.clone(),
        |_| json!({"data": {"feedB": {"item": {"__typename": "Book", "id": "b7"}}}}),
    )
    .await;
    let sdl = include_str!("correctness/partly_known_union.graphql")
        .replace("A_URL", &a)
        .replace("B_URL", &b);
    let addr = start_router(&sdl, &Config::default()).await;
    let selection =
        "item { __typename ... on Book { title } ... on Song { length } ... on Movie { title } }";
    let answer = post(
        addr,
        &format!("{{ feedA {{ {selection} }} feedB {{ {selection} }} }}"),
    )
    .await;
    assert_eq!(
        answer,
        json!({"data": {
            "feedA": {"item": {"__typename": "Song", "length": 180}},
            "feedB": {"item": {"__typename": "Book", "title": "title of b7"}},
        }}),
        "{:#?}",
        log.entries()
    );
    for (subgraph, query) in log.entries() {
        let foreign = if subgraph == "a" { "Movie" } else { "Song" };
        assert!(
            !query.contains(foreign),
            "{subgraph} asked about {foreign}: {query}"
        );
    }
}
