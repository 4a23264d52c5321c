//! End-to-end execution: real federated subgraphs (async-graphql) on
//! loopback, the goliath router in front of them, GraphQL over HTTP.

#[allow(dead_code)]
mod support;

use std::time::Duration;

use goliath_router::config::SubgraphConfig;
use goliath_router::{Config, Pipeline};
use http::{Method, StatusCode};
use serde_json::{json, Value};
use support::{
    closed_port_url, error_codes, raw_http, respond, serve_fn, serve_subgraph, stub_subgraph,
    subgraphs, RequestLog, TestGraph,
};

/// Points subgraph `name` at `url` in `config`.
fn override_url(config: &mut Config, name: &str, url: &str) {
    config.subgraphs.insert(
        name.to_string(),
        SubgraphConfig {
            url: Some(url.to_string()),
            timeout_ms: None,
            ..Default::default()
        },
    );
}

/// Asserts that `body` has errors, all with `code`.
fn assert_all_codes(body: &Value, code: &str) {
    let codes = error_codes(body);
    assert!(
        !codes.is_empty() && codes.iter().all(|c| c == code),
        "expected only {code}: {body:#}"
    );
}

/// The answer to `{ topProducts { name reviews { body author { username
/// name } } inStock shippingEstimate } }`.
fn top_products() -> Value {
    json!({"data": {"topProducts": [
        {
            "name": "Table",
            "reviews": [
                {"body": "Love it!", "author": {"username": "@ada", "name": "Ada Lovelace"}},
                {"body": "Too expensive.", "author": {"username": "@complete", "name": "Alan Turing"}}
            ],
            "inStock": true,
            "shippingEstimate": 50
        },
        {
            "name": "Couch",
            "reviews": [
                {"body": "Could be better.", "author": {"username": "@complete", "name": "Alan Turing"}}
            ],
            "inStock": false,
            "shippingEstimate": 0
        },
        {"name": "Chair", "reviews": [], "inStock": true, "shippingEstimate": 25}
    ]}})
}

const TOP_PRODUCTS: &str =
    "{ topProducts { name reviews { body author { username name } } inStock shippingEstimate } }";

// ------------------------------------------------------------- queries

#[tokio::test(flavor = "multi_thread")]
async fn cross_subgraph_query() {
    let graph = TestGraph::start().await;
    assert_eq!(graph.query(TOP_PRODUCTS).await, top_products());

    // One request per subgraph: the entity fetches are batched.
    let mut asked = graph.log.subgraphs();
    asked.sort();
    assert_eq!(asked, ["accounts", "inventory", "products", "reviews"]);
    // `reviews` provides `username`: only `name` comes from `accounts`.
    let (_, accounts_query) = graph
        .log
        .entries()
        .into_iter()
        .find(|(s, _)| s == "accounts")
        .unwrap();
    assert!(accounts_query.contains("name"), "{accounts_query}");
    assert!(!accounts_query.contains("username"), "{accounts_query}");
    // `inventory` got `price` and `weight`: the plan asked `products` for them.
    let (_, products_query) = graph
        .log
        .entries()
        .into_iter()
        .find(|(s, _)| s == "products")
        .unwrap();
    assert!(
        products_query.contains("price") && products_query.contains("weight"),
        "{products_query}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn aliases_fragments_variables_and_typename() {
    let graph = TestGraph::start().await;
    let query = r#"
        query Best($n: Int) {
          __typename
          best: topProducts(first: $n) {
            __typename
            title: name
            ...Stock
            reviews { ...ReviewParts }
          }
        }
        fragment Stock on Product { available: inStock cost: shippingEstimate }
        fragment ReviewParts on Review {
          text: body
          author { __typename handle: username ... on User { fullName: name } }
        }
    "#;
    let (status, body) = graph.post(query, json!({"n": 2})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"data": {
            "__typename": "Query",
            "best": [
                {
                    "__typename": "Product",
                    "title": "Table",
                    "available": true,
                    "cost": 50,
                    "reviews": [
                        {"text": "Love it!", "author": {"__typename": "User", "handle": "@ada", "fullName": "Ada Lovelace"}},
                        {"text": "Too expensive.", "author": {"__typename": "User", "handle": "@complete", "fullName": "Alan Turing"}}
                    ]
                },
                {
                    "__typename": "Product",
                    "title": "Couch",
                    "available": false,
                    "cost": 0,
                    "reviews": [
                        {"text": "Could be better.", "author": {"__typename": "User", "handle": "@complete", "fullName": "Alan Turing"}}
                    ]
                }
            ]
        }})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn same_field_under_two_aliases_with_different_arguments() {
    let graph = TestGraph::start().await;
    let body = graph
        .query(
            r#"{
                one: topProducts(first: 1) { name }
                two: topProducts(first: 2) { name inStock }
                table: product(upc: "1") { shippingEstimate }
                couch: product(upc: "2") { shippingEstimate }
            }"#,
        )
        .await;
    assert_eq!(
        body,
        json!({"data": {
            "one": [{"name": "Table"}],
            "two": [{"name": "Table", "inStock": true}, {"name": "Couch", "inStock": false}],
            "table": {"shippingEstimate": 50},
            "couch": {"shippingEstimate": 0}
        }})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn skip_and_include_with_variables() {
    let graph = TestGraph::start().await;
    let query = r#"
        query ($withReviews: Boolean!, $noStock: Boolean!) {
          topProducts(first: 2) {
            name
            reviews @include(if: $withReviews) { body }
            inStock @skip(if: $noStock)
          }
        }
    "#;
    let (_, body) = graph
        .post(query, json!({"withReviews": true, "noStock": true}))
        .await;
    assert_eq!(
        body,
        json!({"data": {"topProducts": [
            {"name": "Table", "reviews": [{"body": "Love it!"}, {"body": "Too expensive."}]},
            {"name": "Couch", "reviews": [{"body": "Could be better."}]}
        ]}})
    );
    let (_, body) = graph
        .post(query, json!({"withReviews": false, "noStock": false}))
        .await;
    assert_eq!(
        body,
        json!({"data": {"topProducts": [
            {"name": "Table", "inStock": true},
            {"name": "Couch", "inStock": false}
        ]}})
    );
    // On fragments, and on a field that needs `@requires`.
    let query = r#"
        query ($more: Boolean!) {
          topProducts(first: 2) {
            name
            ... @include(if: $more) { shippingEstimate reviews { author { name } } }
            ...Extra @include(if: $more)
          }
        }
        fragment Extra on Product { upc }
    "#;
    let (_, body) = graph.post(query, json!({"more": true})).await;
    assert_eq!(
        body,
        json!({"data": {"topProducts": [
            {"name": "Table", "shippingEstimate": 50, "reviews": [
                {"author": {"name": "Ada Lovelace"}}, {"author": {"name": "Alan Turing"}}
            ], "upc": "1"},
            {"name": "Couch", "shippingEstimate": 0, "reviews": [
                {"author": {"name": "Alan Turing"}}
            ], "upc": "2"}
        ]}})
    );
    let (_, body) = graph.post(query, json!({"more": false})).await;
    assert_eq!(
        body,
        json!({"data": {"topProducts": [{"name": "Table"}, {"name": "Couch"}]}})
    );
    // On a field that needs `@requires`, next to one that does not.
    let query = "query ($c: Boolean!) { topProducts(first: 2) { inStock shippingEstimate @include(if: $c) } }";
    let (_, body) = graph.post(query, json!({"c": false})).await;
    assert_eq!(
        body,
        json!({"data": {"topProducts": [{"inStock": true}, {"inStock": false}]}})
    );
    let (_, body) = graph.post(query, json!({"c": true})).await;
    assert_eq!(
        body,
        json!({"data": {"topProducts": [
            {"inStock": true, "shippingEstimate": 50},
            {"inStock": false, "shippingEstimate": 0}
        ]}})
    );
    // Literal conditions, and a skipped field that is selected again.
    let body = graph
        .query("{ topProducts(first: 1) { name @skip(if: true) name @include(if: false) upc } }")
        .await;
    assert_eq!(body, json!({"data": {"topProducts": [{"upc": "1"}]}}));
    let body = graph
        .query("{ __typename me @skip(if: true) { name } }")
        .await;
    assert_eq!(body, json!({"data": {"__typename": "Query"}}));
}

/// `shippingEstimate` (`@requires(fields: "price weight")`) sits in an
/// inline fragment with `@include(if: $c)`. The plan fetches `price weight`
/// from `products` under that condition only, yet the representation sent
/// to `inventory` always asks for them (`{__typename upc price weight}`),
/// also for the unconditional `inStock`. With `$c: false` no product has a
/// complete representation, `inventory` is never asked, and the non-null
/// `inStock` nulls every product. (With `@include` on the field itself
/// instead of on a fragment, the same query works.)
#[tokio::test(flavor = "multi_thread")]
async fn conditional_requires_field_next_to_unconditional_field() {
    let graph = TestGraph::start().await;
    let query = "query ($c: Boolean!) { topProducts(first: 2) { name inStock ... @include(if: $c) { shippingEstimate } } }";
    let (_, body) = graph.post(query, json!({"c": true})).await;
    assert_eq!(
        body,
        json!({"data": {"topProducts": [
            {"name": "Table", "inStock": true, "shippingEstimate": 50},
            {"name": "Couch", "inStock": false, "shippingEstimate": 0}
        ]}})
    );
    let (_, body) = graph.post(query, json!({"c": false})).await;
    assert_eq!(
        body,
        json!({"data": {"topProducts": [
            {"name": "Table", "inStock": true},
            {"name": "Couch", "inStock": false}
        ]}})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn entity_chain_through_all_subgraphs() {
    let graph = TestGraph::start().await;
    let body = graph
        .query(
            "{ me { name reviews { body product { name inStock reviews { author { name } } } } } }",
        )
        .await;
    assert_eq!(
        body,
        json!({"data": {"me": {
            "name": "Ada Lovelace",
            "reviews": [{
                "body": "Love it!",
                "product": {
                    "name": "Table",
                    "inStock": true,
                    "reviews": [
                        {"author": {"name": "Ada Lovelace"}},
                        {"author": {"name": "Alan Turing"}}
                    ]
                }
            }]
        }}})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn arguments_and_null_results() {
    let graph = TestGraph::start().await;
    let query = "query ($upc: String!) { product(upc: $upc) { upc name shippingEstimate } }";
    let (_, body) = graph.post(query, json!({"upc": "3"})).await;
    assert_eq!(
        body,
        json!({"data": {"product": {"upc": "3", "name": "Chair", "shippingEstimate": 25}}})
    );
    let (_, body) = graph.post(query, json!({"upc": "404"})).await;
    assert_eq!(body, json!({"data": {"product": null}}));
    let body = graph
        .query(r#"{ user(id: "2") { username } nobody: user(id: "9") { name } }"#)
        .await;
    assert_eq!(
        body,
        json!({"data": {"user": {"username": "@complete"}, "nobody": null}})
    );
    // A variable's default value reaches the subgraph.
    let (_, body) = graph
        .post(
            "query ($n: Int = 1) { topProducts(first: $n) { name } }",
            json!({}),
        )
        .await;
    assert_eq!(body, json!({"data": {"topProducts": [{"name": "Table"}]}}));
}

#[tokio::test(flavor = "multi_thread")]
async fn aliases_of_fields_the_router_also_needs() {
    let graph = TestGraph::start().await;
    let body = graph
        .query("{ topProducts(first: 2) { p1: price price p2: price shippingEstimate name: upc inStock } }")
        .await;
    assert_eq!(
        body,
        json!({"data": {"topProducts": [
            {"p1": 899, "price": 899, "p2": 899, "shippingEstimate": 50, "name": "1", "inStock": true},
            {"p1": 1299, "price": 1299, "p2": 1299, "shippingEstimate": 0, "name": "2", "inStock": false}
        ]}})
    );
    // An alias named like a field the other subgraph provides.
    let body = graph
        .query("{ topProducts(first: 1) { reviews { author { username: name } } } }")
        .await;
    assert_eq!(
        body,
        json!({"data": {"topProducts": [{"reviews": [
            {"author": {"username": "Ada Lovelace"}},
            {"author": {"username": "Alan Turing"}}
        ]}]}})
    );
}

/// The planner renames the key and `@requires` fields it adds when the
/// client already uses their name as an alias (`_goliath_alias_1_upc:upc`),
/// but the executor's `unalias` then merges them back under their own name,
/// over the client's value: `upc: name` answers the upc, not the name.
#[tokio::test(flavor = "multi_thread")]
async fn client_alias_named_like_a_key_or_required_field() {
    let graph = TestGraph::start().await;
    let body = graph
        .query("{ topProducts(first: 2) { upc: name inStock } }")
        .await;
    assert_eq!(
        body,
        json!({"data": {"topProducts": [
            {"upc": "Table", "inStock": true},
            {"upc": "Couch", "inStock": false}
        ]}})
    );
    let body = graph.query("{ me { id: name reviews { body } } }").await;
    assert_eq!(
        body,
        json!({"data": {"me": {"id": "Ada Lovelace", "reviews": [{"body": "Love it!"}]}}})
    );
    let body = graph
        .query("{ topProducts(first: 2) { price: weight weight: price shippingEstimate } }")
        .await;
    assert_eq!(
        body,
        json!({"data": {"topProducts": [
            {"price": 100, "weight": 899, "shippingEstimate": 50},
            {"price": 1000, "weight": 1299, "shippingEstimate": 0}
        ]}})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_get_their_own_answers() {
    let graph = std::sync::Arc::new(TestGraph::start().await);
    let query = "query ($upc: String!) { product(upc: $upc) { upc name inStock reviews { author { name } } } }";
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..30 {
        let graph = graph.clone();
        let upc = ["1", "2", "3"][i % 3];
        requests.spawn(async move { (upc, graph.post(query, json!({"upc": upc})).await) });
    }
    while let Some(answer) = requests.join_next().await {
        let (upc, (status, body)) = answer.unwrap();
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"]["product"]["upc"], upc, "{body:#}");
        assert!(body.get("errors").is_none(), "{body:#}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn operation_name_picks_the_operation() {
    let graph = TestGraph::start().await;
    let document = "query A { me { name } } query B { topProducts(first: 1) { name } }";
    let body = json!({"query": document, "operationName": "B"});
    let (status, body) = graph.post_json(&body, "application/json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"data": {"topProducts": [{"name": "Table"}]}}));
    // Same document, other operation: not the cached plan of `B`.
    let body = json!({"query": document, "operationName": "A"});
    let (_, body) = graph.post_json(&body, "application/json").await;
    assert_eq!(body, json!({"data": {"me": {"name": "Ada Lovelace"}}}));

    let body = json!({"query": document, "operationName": "C"});
    let (_, body) = graph.post_json(&body, "application/json").await;
    assert_eq!(error_codes(&body), ["GRAPHQL_UNKNOWN_OPERATION_NAME"]);
    let body = json!({"query": document});
    let (_, body) = graph.post_json(&body, "application/json").await;
    assert_eq!(error_codes(&body), ["GRAPHQL_VALIDATION_FAILED"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn query_over_get() {
    let graph = TestGraph::start().await;
    let (status, _, body) = graph
        .send(
            Method::GET,
            "/graphql?query=query(%24n%3AInt)%7BtopProducts(first%3A%24n)%7Bname%20inStock%7D%7D&variables=%7B%22n%22%3A1%7D",
            &[("apollo-require-preflight", "true")],
            "",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"data": {"topProducts": [{"name": "Table", "inStock": true}]}})
    );
}

// ------------------------------------------------------------ mutations

#[tokio::test(flavor = "multi_thread")]
async fn mutation_runs_fields_in_order() {
    let graph = TestGraph::start().await;
    let mutation = r#"
        mutation {
          first: updateName(id: "1", name: "Ada") { name }
          createReview(upc: "3", body: "Sturdy.") { id body author { name username } product { name } }
          second: updateName(id: "1", name: "Countess Ada") { name }
        }
    "#;
    let body = graph.query(mutation).await;
    // The review's author is read after the first rename and before the
    // second: each root field is complete before the next starts.
    assert_eq!(
        body,
        json!({"data": {
            "first": {"name": "Ada"},
            "createReview": {
                "id": "r4",
                "body": "Sturdy.",
                "author": {"name": "Ada", "username": "@ada"},
                "product": {"name": "Chair"}
            },
            "second": {"name": "Countess Ada"}
        }})
    );
    let order: Vec<String> = graph
        .log
        .entries()
        .into_iter()
        .filter(|(_, q)| q.contains("updateName") || q.contains("createReview"))
        .map(|(s, _)| s)
        .collect();
    assert_eq!(order, ["accounts", "reviews", "accounts"]);

    // The review is there for later queries.
    let body = graph
        .query("{ topProducts { upc reviews { body author { name } } } }")
        .await;
    assert_eq!(
        body["data"]["topProducts"][2],
        json!({"upc": "3", "reviews": [{"body": "Sturdy.", "author": {"name": "Countess Ada"}}]})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mutation_with_variables() {
    let graph = TestGraph::start().await;
    let mutation = "mutation Add($upc: String!, $body: String!) { createReview(upc: $upc, body: $body) { body product { upc name } } }";
    let (status, body) = graph
        .post(mutation, json!({"upc": "2", "body": "Comfy."}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"data": {"createReview": {"body": "Comfy.", "product": {"upc": "2", "name": "Couch"}}}})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mutation_goes_on_after_a_failed_field() {
    let graph = TestGraph::start().await;
    let body = graph
        .query(
            r#"mutation {
                a: updateName(id: "9", name: "Nobody") { name }
                b: updateName(id: "2", name: "Alan") { name }
                c: createReview(upc: "1", body: "Fine.") { author { name } }
            }"#,
        )
        .await;
    assert_eq!(
        body["data"],
        json!({"a": null, "b": {"name": "Alan"}, "c": {"author": {"name": "Ada Lovelace"}}})
    );
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body:#}");
    assert_eq!(errors[0]["message"], "no user 9");
    assert_eq!(errors[0]["path"], json!(["a"]));

    // A subgraph that is down fails its fields only.
    let down = closed_port_url().await;
    let graph = TestGraph::start_with(|config| override_url(config, "accounts", &down)).await;
    let body = graph
        .query(r#"mutation { updateName(id: "1", name: "x") { name } createReview(upc: "1", body: "z") { id body } }"#)
        .await;
    assert_eq!(
        body["data"],
        json!({"updateName": null, "createReview": {"id": "r4", "body": "z"}})
    );
    assert_eq!(error_codes(&body), ["SUBREQUEST_HTTP_ERROR"]);
}

// --------------------------------------------------------- introspection

#[tokio::test(flavor = "multi_thread")]
async fn introspection_answers_from_the_api_schema() {
    let graph = TestGraph::start().await;
    let body = graph
        .query(
            "{ __schema { queryType { name } mutationType { name } subscriptionType { name } } }",
        )
        .await;
    assert_eq!(
        body,
        json!({"data": {"__schema": {
            "queryType": {"name": "Query"},
            "mutationType": {"name": "Mutation"},
            "subscriptionType": null
        }}})
    );

    let body = graph
        .query(r#"{ __type(name: "Product") { name kind fields { name } } }"#)
        .await;
    assert_eq!(
        body,
        json!({"data": {"__type": {"name": "Product", "kind": "OBJECT", "fields": [
            {"name": "upc"}, {"name": "name"}, {"name": "price"}, {"name": "weight"},
            {"name": "inStock"}, {"name": "shippingEstimate"}, {"name": "reviews"}
        ]}}})
    );

    // No join__ or link__ types, no federation directives.
    let body = graph
        .query("{ __schema { types { name } directives { name } } }")
        .await;
    let types: Vec<&str> = body["data"]["__schema"]["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for expected in [
        "Query", "Mutation", "User", "Product", "Review", "String", "__Schema",
    ] {
        assert!(
            types.contains(&expected),
            "{expected} missing from {types:?}"
        );
    }
    for t in &types {
        assert!(
            !t.starts_with("join__") && !t.starts_with("link__"),
            "{t} is in the API schema"
        );
    }
    let directives = body["data"]["__schema"]["directives"].to_string();
    assert!(!directives.contains("join__"), "{directives}");
    assert!(!directives.contains("\"link\""), "{directives}");
    let body = graph
        .query(r#"{ __type(name: "join__Graph") { name } }"#)
        .await;
    assert_eq!(body, json!({"data": {"__type": null}}));
}

#[tokio::test(flavor = "multi_thread")]
async fn introspection_next_to_subgraph_fields() {
    let graph = TestGraph::start().await;
    let body = graph
        .query(r#"{ me { name } __type(name: "Review") { fields { name } } __typename }"#)
        .await;
    assert_eq!(
        body,
        json!({"data": {
            "me": {"name": "Ada Lovelace"},
            "__type": {"fields": [
                {"name": "id"}, {"name": "body"}, {"name": "rating"},
                {"name": "author"}, {"name": "product"}
            ]},
            "__typename": "Query"
        }})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn introspection_can_be_switched_off() {
    let graph = TestGraph::start_with(|config| config.introspection = false).await;
    let (status, body) = graph
        .post("{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("data").is_none(), "{body:#}");
    assert_eq!(error_codes(&body), ["INTROSPECTION_DISABLED"]);
    let (_, body) = graph
        .post(
            r#"{ me { name } __type(name: "User") { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&body), ["INTROSPECTION_DISABLED"]);
    // `__typename` is not introspection.
    let body = graph.query("{ __typename me { __typename name } }").await;
    assert_eq!(
        body,
        json!({"data": {"__typename": "Query", "me": {"__typename": "User", "name": "Ada Lovelace"}}})
    );
}

// -------------------------------------------------------- request errors

#[tokio::test(flavor = "multi_thread")]
async fn parse_errors() {
    let graph = TestGraph::start().await;
    let request = json!({"query": "{ topProducts { name "});
    let (status, body) = graph
        .post_json(&request, "application/graphql-response+json")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.get("data").is_none(), "{body:#}");
    assert_all_codes(&body, "GRAPHQL_PARSE_FAILED");
    assert!(body["errors"][0]["locations"].is_array(), "{body:#}");
    let (status, body) = graph.post_json(&request, "application/json").await;
    assert_eq!(status, StatusCode::OK);
    assert_all_codes(&body, "GRAPHQL_PARSE_FAILED");
    assert!(graph.log.entries().is_empty(), "no subgraph is asked");
}

#[tokio::test(flavor = "multi_thread")]
async fn validation_errors() {
    let graph = TestGraph::start().await;
    for query in [
        "{ topProducts { name color } }",
        "{ topProducts(sort: NAME) { name } }",
        "{ topProducts }",
        "{ me { name ...Missing } }",
        "query ($n: Int) { topProducts { name } }",
        // join__ types are not in the API schema.
        r#"query ($g: join__Graph) { me { name } }"#,
    ] {
        let request = json!({"query": query});
        let (status, body) = graph
            .post_json(&request, "application/graphql-response+json")
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body:#}");
        assert!(body.get("data").is_none(), "{query}: {body:#}");
        assert_all_codes(&body, "GRAPHQL_VALIDATION_FAILED");
    }
    assert!(graph.log.entries().is_empty(), "no subgraph is asked");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_variables() {
    let graph = TestGraph::start().await;
    let query = "query ($n: Int, $upc: String!) { topProducts(first: $n) { name } product(upc: $upc) { name } }";
    for variables in [
        json!({"n": "two", "upc": "1"}),
        json!({"n": 1.5, "upc": "1"}),
        json!({"n": 1}),
        json!({"n": 1, "upc": null}),
        json!({"n": 1, "upc": {"a": 1}}),
    ] {
        let request = json!({"query": query, "variables": variables});
        let (status, body) = graph
            .post_json(&request, "application/graphql-response+json")
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{variables}: {body:#}");
        assert!(body.get("data").is_none(), "{body:#}");
        assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{variables}");
    }
    let (_, body) = graph.post(query, json!({"n": 1, "upc": "2"})).await;
    assert_eq!(
        body,
        json!({"data": {"topProducts": [{"name": "Table"}], "product": {"name": "Couch"}}})
    );
    // Only that last request reached a subgraph.
    assert_eq!(graph.log.subgraphs(), ["products"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn mutation_over_get_is_refused() {
    let graph = TestGraph::start().await;
    let (status, headers, body) = graph
        .send(
            Method::GET,
            "/graphql?query=mutation%7BcreateReview(upc%3A%221%22%2Cbody%3A%22x%22)%7Bid%7D%7D",
            &[("apollo-require-preflight", "true")],
            "",
        )
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["allow"], "POST");
    assert_eq!(error_codes(&body), ["METHOD_NOT_ALLOWED"]);
    assert!(graph.log.entries().is_empty(), "the mutation did not run");
}

/// A hash nobody registered (APQ is on by default, as in Apollo Router):
/// 200 whatever the media type, so that the client registers it;
/// `tests/persisted.rs` has the rest.
#[tokio::test(flavor = "multi_thread")]
async fn persisted_query_without_query() {
    let graph = TestGraph::start().await;
    let request = json!({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38"}}});
    for accept in ["application/json", "application/graphql-response+json"] {
        let (status, body) = graph.post_json(&request, accept).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(error_codes(&body), ["PERSISTED_QUERY_NOT_FOUND"]);
    }
}

// ----------------------------------------------------- subgraph failures

#[tokio::test(flavor = "multi_thread")]
async fn subgraph_down_gives_partial_data() {
    let down = closed_port_url().await;
    let graph = TestGraph::start_with(|config| override_url(config, "accounts", &down)).await;
    let (status, body) = graph
        .post(
            "{ topProducts(first: 2) { name reviews { body author { username name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"],
        json!({"topProducts": [
            {"name": "Table", "reviews": [
                {"body": "Love it!", "author": {"username": "@ada", "name": null}},
                {"body": "Too expensive.", "author": {"username": "@complete", "name": null}}
            ]},
            {"name": "Couch", "reviews": [
                {"body": "Could be better.", "author": {"username": "@complete", "name": null}}
            ]}
        ]})
    );
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body:#}");
    assert_eq!(errors[0]["extensions"]["code"], "SUBREQUEST_HTTP_ERROR");
    assert_eq!(errors[0]["extensions"]["service"], "accounts");
    // The error points at the first object the fetch was for.
    assert_eq!(
        errors[0]["path"],
        json!(["topProducts", 0, "reviews", 0, "author"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn root_subgraph_down() {
    let down = closed_port_url().await;
    let graph = TestGraph::start_with(|config| override_url(config, "products", &down)).await;
    let (status, body) = graph
        .post("{ topProducts { name } me { name } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"],
        json!({"topProducts": null, "me": {"name": "Ada Lovelace"}})
    );
    assert_eq!(error_codes(&body), ["SUBREQUEST_HTTP_ERROR"]);
    assert_eq!(body["errors"][0]["extensions"]["service"], "products");
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_non_null_field_nulls_its_parent() {
    let down = closed_port_url().await;
    let graph = TestGraph::start_with(|config| override_url(config, "inventory", &down)).await;
    // `shippingEstimate` is nullable: it alone is null.
    let (_, body) = graph
        .post(
            "{ topProducts(first: 2) { name shippingEstimate } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["data"],
        json!({"topProducts": [
            {"name": "Table", "shippingEstimate": null},
            {"name": "Couch", "shippingEstimate": null}
        ]})
    );
    assert_eq!(error_codes(&body), ["SUBREQUEST_HTTP_ERROR"]);
    // `inStock` is `Boolean!`: each product is null instead (the list's
    // items are nullable).
    let (_, body) = graph
        .post("{ topProducts(first: 2) { name inStock } }", json!({}))
        .await;
    assert_eq!(body["data"], json!({"topProducts": [null, null]}));
    assert!(
        error_codes(&body).contains(&"SUBREQUEST_HTTP_ERROR".to_string()),
        "{body:#}"
    );
    // A single product: the nullable root field absorbs the null.
    let (_, body) = graph
        .post(r#"{ product(upc: "1") { inStock } }"#, json!({}))
        .await;
    assert_eq!(body["data"], json!({"product": null}));
}

/// A graph whose `inventory` is a server answering every request with
/// `status`, `content_type` and `body`.
async fn graph_with_broken_inventory(
    status: u16,
    content_type: &str,
    body: &'static str,
) -> TestGraph {
    let content_type = content_type.to_string();
    let broken = serve_fn(move |_, _| {
        let content_type = content_type.clone();
        async move { respond(status, &content_type, body) }
    })
    .await;
    TestGraph::start_with(|config| override_url(config, "inventory", &broken)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn subgraph_answering_500_or_garbage() {
    let cases = [
        (500, "text/plain", "internal error"),
        (502, "text/html", "<html>bad gateway</html>"),
        (200, "application/json", "<html>not json</html>"),
        (200, "application/json", "[1, 2, 3]"),
        (200, "application/json", "{\"data\": "),
        (200, "application/json", ""),
        (204, "application/json", ""),
    ];
    for (status, content_type, answer) in cases {
        let graph = graph_with_broken_inventory(status, content_type, answer).await;
        let (http_status, body) = graph
            .post(
                "{ topProducts(first: 2) { name shippingEstimate } }",
                json!({}),
            )
            .await;
        let case = format!("{status} {answer:?}");
        assert_eq!(http_status, StatusCode::OK, "{case}: {body:#}");
        assert_eq!(
            body["data"],
            json!({"topProducts": [
                {"name": "Table", "shippingEstimate": null},
                {"name": "Couch", "shippingEstimate": null}
            ]}),
            "{case}: {body:#}"
        );
        assert_eq!(error_codes(&body), ["SUBREQUEST_HTTP_ERROR"], "{case}");
        assert_eq!(body["errors"][0]["extensions"]["service"], "inventory");
    }
}

/// Subgraph answers that are JSON objects but not GraphQL responses, or
/// whose `_entities` does not match the representations sent, are taken
/// in silence: the fields are null and no error says why. A scalar in
/// `_entities` even replaces the object `products` had already returned.
#[tokio::test(flavor = "multi_thread")]
async fn malformed_subgraph_responses_are_errors() {
    let cases = [
        r#"{}"#,
        r#"{"data": null}"#,
        r#"{"data": {}}"#,
        r#"{"data": {"_entities": "nope"}}"#,
        r#"{"data": {"_entities": []}}"#,
        r#"{"data": {"_entities": [{"shippingEstimate": 1}]}}"#,
        r#"{"data": {"_entities": [1, "x"]}}"#,
        r#"{"errors": "not a list"}"#,
    ];
    for answer in cases {
        let graph = graph_with_broken_inventory(200, "application/json", answer).await;
        let (_, body) = graph
            .post(
                "{ topProducts(first: 2) { name shippingEstimate } }",
                json!({}),
            )
            .await;
        assert_eq!(
            body["data"]["topProducts"][1],
            json!({"name": "Couch", "shippingEstimate": null}),
            "{answer}: {body:#}"
        );
        assert_eq!(
            body["data"]["topProducts"][0]["name"], "Table",
            "{answer}: {body:#}"
        );
        assert!(
            body["errors"].as_array().is_some_and(|e| !e.is_empty()),
            "{answer}: no error explains the nulls: {body:#}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn subgraph_500_keeps_its_graphql_errors() {
    let graph = graph_with_broken_inventory(
        500,
        "application/json",
        r#"{"errors":[{"message":"database is down"}]}"#,
    )
    .await;
    let (_, body) = graph
        .post("{ topProducts(first: 1) { name inStock } }", json!({}))
        .await;
    assert_eq!(body["data"], json!({"topProducts": [null]}));
    let messages: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(messages.contains(&"database is down"), "{body:#}");
    assert!(error_codes(&body).contains(&"SUBREQUEST_HTTP_ERROR".to_string()));
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_subgraph_times_out() {
    let slow = serve_fn(|_, _| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        respond(200, "application/json", r#"{"data": {}}"#)
    })
    .await;
    let graph = TestGraph::start_with(|config| {
        config.subgraphs.insert(
            "inventory".into(),
            SubgraphConfig {
                url: Some(slow.clone()),
                timeout_ms: Some(300),
                ..Default::default()
            },
        );
    })
    .await;
    let started = std::time::Instant::now();
    let (status, body) = graph
        .post(
            "{ topProducts(first: 1) { name shippingEstimate } }",
            json!({}),
        )
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"],
        json!({"topProducts": [{"name": "Table", "shippingEstimate": null}]})
    );
    assert_eq!(error_codes(&body), ["SUBREQUEST_HTTP_ERROR"]);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("timed out"),
        "{body:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn request_timeout_covers_slow_subgraphs() {
    let slow = serve_fn(|_, _| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        respond(200, "application/json", r#"{"data": {}}"#)
    })
    .await;
    let graph = TestGraph::start_with(|config| {
        config.limits.request_timeout_ms = 300;
        override_url(config, "inventory", &slow);
    })
    .await;
    let (status, body) = graph
        .post("{ topProducts(first: 1) { name inStock } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(error_codes(&body), ["GATEWAY_TIMEOUT"]);
}

/// A stand-in for `reviews` that answers `Product` entity fetches: product
/// 1 has two reviews, the second one's rating failed; product 2 has one
/// review whose body (non-null) failed.
async fn reviews_with_errors() -> String {
    stub_subgraph("reviews", RequestLog::default(), |request| {
        let representations = request["variables"]["representations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut entities = vec![];
        let mut errors = vec![];
        for (i, rep) in representations.iter().enumerate() {
            match rep["upc"].as_str() {
                Some("1") => {
                    entities.push(json!({"reviews": [
                        {"body": "Love it!", "rating": 5},
                        {"body": "Too expensive.", "rating": null}
                    ]}));
                    errors.push(json!({
                        "message": "rating unavailable",
                        "path": ["_entities", i, "reviews", 1, "rating"],
                        "extensions": {"code": "RATING_DOWN"}
                    }));
                }
                Some("2") => {
                    entities.push(json!({"reviews": [{"body": null, "rating": 3}]}));
                    errors.push(json!({
                        "message": "body unavailable",
                        "path": ["_entities", i, "reviews", 0, "body"]
                    }));
                }
                _ => entities.push(json!({"reviews": []})),
            }
        }
        json!({"data": {"_entities": entities}, "errors": errors})
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn subgraph_errors_get_client_paths() {
    let stub = reviews_with_errors().await;
    let graph = TestGraph::start_with(|config| override_url(config, "reviews", &stub)).await;
    let body = graph
        .query("{ topProducts { name reviews { body rating } } }")
        .await;
    // The non-null `body` nulls its review; the subgraph's error explains
    // it, so no other error is added.
    assert_eq!(
        body,
        json!({
            "errors": [
                {
                    "message": "rating unavailable",
                    "path": ["topProducts", 0, "reviews", 1, "rating"],
                    "extensions": {"code": "RATING_DOWN", "service": "reviews"}
                },
                {
                    "message": "body unavailable",
                    "path": ["topProducts", 1, "reviews", 0, "body"],
                    "extensions": {"service": "reviews"}
                }
            ],
            "data": {"topProducts": [
                {"name": "Table", "reviews": [
                    {"body": "Love it!", "rating": 5},
                    {"body": "Too expensive.", "rating": null}
                ]},
                {"name": "Couch", "reviews": [null]},
                {"name": "Chair", "reviews": []}
            ]}
        })
    );
}

/// A stand-in for `accounts` whose user 2 has no name (an error).
async fn accounts_without_user_2() -> String {
    stub_subgraph("accounts", RequestLog::default(), |request| {
        let representations = request["variables"]["representations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut entities = vec![];
        let mut errors = vec![];
        for (i, rep) in representations.iter().enumerate() {
            if rep["id"] == "2" {
                entities.push(json!({"name": null}));
                errors.push(json!({
                    "message": "no name for user 2",
                    "locations": [{"line": 1, "column": 99}],
                    "path": ["_entities", i, "name"]
                }));
            } else {
                entities.push(json!({"name": "Ada Lovelace"}));
            }
        }
        json!({"data": {"_entities": entities}, "errors": errors})
    })
    .await
}

/// User 2 wrote reviews of products 1 and 2: the router sends one
/// representation for both, and the error for it only gets the first
/// client path (`topProducts.0.reviews.1.author.name`); the null at
/// `topProducts.1.reviews.0.author.name` has no error. Apollo Router
/// reports the error once per path the entity was used at.
#[tokio::test(flavor = "multi_thread")]
async fn error_for_a_shared_entity_reaches_every_path() {
    let stub = accounts_without_user_2().await;
    let graph = TestGraph::start_with(|config| override_url(config, "accounts", &stub)).await;
    let body = graph
        .query("{ topProducts(first: 2) { reviews { author { name } } } }")
        .await;
    assert_eq!(
        body["data"],
        json!({"topProducts": [
            {"reviews": [{"author": {"name": "Ada Lovelace"}}, {"author": {"name": null}}]},
            {"reviews": [{"author": {"name": null}}]}
        ]})
    );
    let paths: Vec<&Value> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["path"])
        .collect();
    assert_eq!(
        paths,
        [
            &json!(["topProducts", 0, "reviews", 1, "author", "name"]),
            &json!(["topProducts", 1, "reviews", 0, "author", "name"])
        ]
    );
}

/// A subgraph error's `locations` point into the operation the router
/// sent to the subgraph, which the client never saw (Apollo Router drops
/// them); here line 1, column 99 of a one-line client query 60 characters
/// long.
#[tokio::test(flavor = "multi_thread")]
async fn subgraph_error_locations_are_not_passed_on() {
    let stub = accounts_without_user_2().await;
    let graph = TestGraph::start_with(|config| override_url(config, "accounts", &stub)).await;
    let body = graph
        .query("{ topProducts(first: 1) { reviews { author { name } } } }")
        .await;
    assert_eq!(
        body["errors"],
        json!([{
            "message": "no name for user 2",
            "path": ["topProducts", 0, "reviews", 1, "author", "name"],
            "extensions": {"service": "accounts"}
        }])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn root_field_errors_pass_through() {
    let graph = TestGraph::start().await;
    // async-graphql's own error, at the root of a fetch.
    let body = graph
        .query("{ topProducts(first: -1) { name } me { name } }")
        .await;
    assert_eq!(
        body["data"],
        json!({"topProducts": null, "me": {"name": "Ada Lovelace"}})
    );
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body:#}");
    assert_eq!(errors[0]["message"], "`first` must not be negative");
    assert_eq!(errors[0]["path"], json!(["topProducts"]));
    assert_eq!(errors[0]["extensions"]["service"], "products");
}

#[tokio::test(flavor = "multi_thread")]
async fn subgraph_error_messages_can_be_masked() {
    let stub = reviews_with_errors().await;
    let graph = TestGraph::start_with(|config| {
        config.include_subgraph_errors.all = false;
        override_url(config, "reviews", &stub);
    })
    .await;
    let body = graph
        .query("{ topProducts(first: 1) { reviews { rating } } }")
        .await;
    assert_eq!(
        body,
        json!({
            "errors": [{
                "message": "Subgraph errors redacted",
                "path": ["topProducts", 0, "reviews", 1, "rating"],
                "extensions": {"service": "reviews"}
            }],
            "data": {"topProducts": [{"reviews": [{"rating": 5}, {"rating": null}]}]}
        })
    );
    // Per subgraph, the choice can be undone.
    let graph = TestGraph::start_with(|config| {
        config.include_subgraph_errors.all = false;
        config
            .include_subgraph_errors
            .subgraphs
            .insert("reviews".into(), true);
        override_url(config, "reviews", &stub);
    })
    .await;
    let body = graph
        .query("{ topProducts(first: 1) { reviews { rating } } }")
        .await;
    assert_eq!(body["errors"][0]["message"], "rating unavailable");
}

// ------------------------------------------------------------ bad input

#[tokio::test(flavor = "multi_thread")]
async fn malformed_bodies_are_400() {
    let graph = TestGraph::start().await;
    for body in [
        "{",
        "not json",
        "[]",
        "42",
        r#"{"query": 1}"#,
        r#"{"query": "{ me { name } }", "variables": []}"#,
        r#"{"query": "{ me { name } }", "variables": "{}"}"#,
        "\u{0}\u{1}\u{2}",
    ] {
        let (status, _, response) = graph
            .send(
                Method::POST,
                "/graphql",
                &[("content-type", "application/json")],
                body,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}: {response}");
        assert_eq!(error_codes(&response), ["BAD_REQUEST"], "{body:?}");
    }
    // Invalid UTF-8.
    let (status, _, _) = graph
        .send(
            Method::POST,
            "/graphql",
            &[("content-type", "application/json")],
            &b"{\"query\": \"\xff\xfe\"}"[..],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The router still works.
    assert_eq!(graph.query(TOP_PRODUCTS).await, top_products());
}

#[tokio::test(flavor = "multi_thread")]
async fn deeply_nested_queries_are_refused() {
    let graph = TestGraph::start().await;
    // Under the parser's recursion limit (500) it parses, and fails
    // validation (`a` is no field); over it, the parser stops.
    let query = format!("{}{}", "{a".repeat(100), "}".repeat(100));
    let (status, body) = graph.post(&query, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(error_codes(&body), ["GRAPHQL_VALIDATION_FAILED"]);
    for depth in [501, 4_000] {
        let query = format!("{}{}", "{a".repeat(depth), "}".repeat(depth));
        let (status, body) = graph.post(&query, json!({})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "depth {depth}");
        assert!(body.get("data").is_none(), "depth {depth}: {body:#}");
        assert_eq!(
            error_codes(&body),
            ["PARSER_MAX_RECURSION_LIMIT"],
            "depth {depth}"
        );
    }
    // Deep but valid: me.reviews.product.reviews.author.reviews... within
    // the default depth limit of 64 it runs.
    let mut query = String::from("{ me { ");
    for _ in 0..5 {
        query.push_str("reviews { product { reviews { author { ");
    }
    query.push_str("name");
    query.push_str(&" } } } }".repeat(5));
    query.push_str(" } }");
    let body = graph.query(&query).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert!(body.to_string().contains("Alan Turing"), "{body:#}");
    // Deeply nested values: in a list argument and in variables.
    let list = format!("{}\"1\"{}", "[".repeat(2_000), "]".repeat(2_000));
    let (_, body) = graph
        .post(&format!("{{ product(upc: {list}) {{ name }} }}"), json!({}))
        .await;
    assert!(body.get("data").is_none(), "{body:#}");
    let deep_json = format!(
        r#"{{"query": "query ($upc: String!) {{ product(upc: $upc) {{ name }} }}", "variables": {{"upc": {}1{}}}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let (status, _, body) = graph
        .send(
            Method::POST,
            "/graphql",
            &[("content-type", "application/json")],
            deep_json,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// Config files cap `limits.parser_max_recursion` (`MAX_PARSER_RECURSION`)
/// and `limits.max_depth`; a config built in code with huge values is
/// clamped by the pipeline, so a 4 000-deep `{a{a{...}}}` is refused instead
/// of overflowing a stack (which would abort the process: hence the query
/// is sent from a child process).
#[test]
fn deep_query_with_a_raised_depth_limit_does_not_abort() {
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "deep_query_child", "--ignored", "--nocapture"])
        .env("GOLIATH_DEEP_QUERY_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success(),
        "the router process died ({}):\n{}",
        child.status,
        String::from_utf8_lossy(&child.stderr)
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
}

/// Run by `deep_query_with_a_raised_depth_limit_does_not_abort`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "run by deep_query_with_a_raised_depth_limit_does_not_abort in a child process"]
async fn deep_query_child() {
    if std::env::var_os("GOLIATH_DEEP_QUERY_CHILD").is_none() {
        return;
    }
    let graph = TestGraph::start_with(|config| {
        config.limits.max_depth = 100_000;
        config.limits.parser_max_recursion = 100_000;
    })
    .await;
    let query = format!("{}{}", "{a".repeat(4_000), "}".repeat(4_000));
    let (status, body) = graph.post(&query, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["PARSER_MAX_RECURSION_LIMIT"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn huge_queries_are_refused_or_answered() {
    let graph = TestGraph::start().await;
    // Many fields: under the token limit it runs.
    let fields: String = (0..2_000).map(|i| format!("n{i}: name ")).collect();
    let body = graph
        .query(&format!("{{ topProducts(first: 1) {{ {fields} }} }}"))
        .await;
    let product = &body["data"]["topProducts"][0];
    assert_eq!(product.as_object().unwrap().len(), 2_000, "{body:#}");
    assert_eq!(product["n1999"], "Table");
    // Over the token limit (15 000 by default): refused by the parser.
    let fields: String = (0..60_000).map(|i| format!("n{i}: name ")).collect();
    let (status, body) = graph
        .post(&format!("{{ topProducts {{ {fields} }} }}"), json!({}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["PARSER_MAX_TOKENS_LIMIT"]);
    // Over the body limit: 413, from the declared length alone.
    let head = "POST /graphql HTTP/1.1\r\nhost: localhost\r\n\
                content-type: application/json\r\ncontent-length: 2100000\r\n\r\n";
    let answer = raw_http(graph.addr, head.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("PAYLOAD_TOO_LARGE"), "{answer}");
    // The same field many times over merges into one.
    let same = "name ".repeat(5_000);
    let body = graph.query(&format!("{{ me {{ {same} }} }}")).await;
    assert_eq!(body, json!({"data": {"me": {"name": "Ada Lovelace"}}}));
}

// -------------------------------------------------------- configuration

#[tokio::test(flavor = "multi_thread")]
async fn url_override_routes_to_another_server() {
    let log = RequestLog::default();
    let replica = serve_subgraph("replica", subgraphs::accounts(" (replica)"), log.clone()).await;
    let graph = TestGraph::start_with(|config| override_url(config, "accounts", &replica)).await;
    let body = graph
        .query("{ me { name } topProducts(first: 1) { reviews { author { name } } } }")
        .await;
    assert_eq!(
        body,
        json!({"data": {
            "me": {"name": "Ada Lovelace (replica)"},
            "topProducts": [{"reviews": [
                {"author": {"name": "Ada Lovelace (replica)"}},
                {"author": {"name": "Alan Turing (replica)"}}
            ]}]
        }})
    );
    assert!(!graph.log.subgraphs().contains(&"accounts".to_string()));
    assert_eq!(log.subgraphs(), ["replica", "replica"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn config_from_yaml() {
    let log = RequestLog::default();
    let replica = serve_subgraph("replica", subgraphs::accounts(" (yaml)"), log.clone()).await;
    let yaml = format!(
        "introspection: false\n\
         include_subgraph_errors:\n  all: false\n\
         subgraphs:\n  accounts:\n    url: {replica}\n    timeout_ms: 2000\n"
    );
    let config = Config::from_yaml_str(&yaml).unwrap();
    let graph = TestGraph::start_with(|c| *c = config).await;
    let body = graph
        .query("{ me { name } topProducts(first: -1) { name } }")
        .await;
    assert_eq!(
        body,
        json!({
            "errors": [{
                "message": "Subgraph errors redacted",
                "path": ["topProducts"],
                "extensions": {"service": "products"}
            }],
            "data": {"me": {"name": "Ada Lovelace (yaml)"}, "topProducts": null}
        })
    );
    let (_, body) = graph.post("{ __schema { __typename } }", json!({})).await;
    assert_eq!(error_codes(&body), ["INTROSPECTION_DISABLED"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_supergraphs_are_rejected() {
    let urls = support::SubgraphUrls {
        accounts: "http://127.0.0.1:1/graphql".into(),
        inventory: "http://127.0.0.1:1/graphql".into(),
        products: "http://127.0.0.1:1/graphql".into(),
        reviews: "http://127.0.0.1:1/graphql".into(),
    };
    let good = urls.supergraph();
    assert!(Pipeline::new(&good, &Config::default()).is_ok());
    let cases = [
        // Not GraphQL at all.
        (
            good.replacen("type Query", "type Query {", 1),
            "not a valid GraphQL schema",
        ),
        // Not a supergraph.
        (
            good.replace(
                "https://specs.apollo.dev/join/v0.3",
                "https://example.com/other/v1",
            ),
            "join",
        ),
        // A key naming a field that does not exist.
        (
            good.replace(
                r#"@join__type(graph: PRODUCTS, key: "upc")"#,
                r#"@join__type(graph: PRODUCTS, key: "sku")"#,
            ),
            "sku",
        ),
        // A graph that is not in join__Graph.
        (
            good.replace(
                "@join__field(graph: PRODUCTS)\n  price",
                "@join__field(graph: NOWHERE)\n  price",
            ),
            "NOWHERE",
        ),
        // join__Graph is missing.
        (
            {
                let start = good.find("enum join__Graph").unwrap();
                let end = start + good[start..].find('}').unwrap() + 1;
                format!("{}{}", &good[..start], &good[end..])
            },
            "join__Graph",
        ),
        // A required field set naming a missing field.
        (
            good.replace(r#"requires: "price weight""#, r#"requires: "price height""#),
            "height",
        ),
        (String::new(), ""),
    ];
    for (sdl, expected) in cases {
        match Pipeline::new(&sdl, &Config::default()) {
            Ok(_) => panic!("accepted a broken supergraph (expected {expected:?}):\n{sdl}"),
            Err(e) => assert!(e.contains(expected), "{expected:?} not in {e}"),
        }
    }
}
