//! Demand control through the router, with the `shop` subgraph on loopback
//! (`demand_control/shop.rs`): refusals at the boundary of `max` in
//! `enforce` mode, `measure` mode, the cost report, and nothing at all when
//! demand control is off (the default).

#[allow(dead_code)]
mod support;

#[path = "demand_control/shop.rs"]
mod shop;

use std::net::SocketAddr;

use bytes::Bytes;
use goliath_router::demand_control::{DemandControlConfig, Mode, StaticEstimated, StrategyConfig};
use goliath_router::Config;
use http::StatusCode;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

use support::{error_codes, serve_subgraph, start_router, RequestLog};

/// Estimated at 5 × (2 + 1) = 15; the shop returns 3 products: actual 9.
const PRODUCTS: &str = "{ products { id name } }";

/// A router over the shop with demand control configured as given.
struct Shop {
    addr: SocketAddr,
    log: RequestLog,
}

fn demand_control(mode: Mode, max: f64, report: bool) -> DemandControlConfig {
    DemandControlConfig {
        enabled: true,
        mode: Some(mode),
        strategy: Some(StrategyConfig {
            static_estimated: StaticEstimated { list_size: 10, max },
        }),
        include_in_response: report,
    }
}

impl Shop {
    async fn start(demand_control: Option<DemandControlConfig>) -> Shop {
        let log = RequestLog::default();
        let url = serve_subgraph("shop", shop::schema(), log.clone()).await;
        let mut config = Config::default();
        if let Some(dc) = demand_control {
            config.demand_control = dc;
        }
        let addr = start_router(&shop::supergraph(&url), &config).await;
        Shop { addr, log }
    }

    async fn post(&self, query: &str, variables: Value) -> (StatusCode, Value) {
        let client = Client::builder(TokioExecutor::new()).build_http();
        let body = json!({"query": query, "variables": variables}).to_string();
        let request = http::Request::post(format!("http://{}/graphql", self.addr))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let response = client.request(request).await.expect("the router answers");
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }
}

#[tokio::test]
async fn enforce_refuses_one_over_the_maximum_and_asks_no_subgraph() {
    // At the estimate: served.
    let shop = Shop::start(Some(demand_control(Mode::Enforce, 15.0, false))).await;
    let (status, body) = shop.post(PRODUCTS, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["data"]["products"].as_array().unwrap().len(), 3);
    // One less: refused before planning.
    let shop = Shop::start(Some(demand_control(Mode::Enforce, 14.0, false))).await;
    let (status, body) = shop.post(PRODUCTS, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body:#}");
    assert_eq!(error_codes(&body), ["COST_ESTIMATED_TOO_EXPENSIVE"]);
    let error = &body["errors"][0];
    assert_eq!(
        error["message"],
        "query estimated cost 15 exceeded configured maximum 14"
    );
    assert_eq!(error["extensions"]["cost.estimated"], 15);
    assert_eq!(error["extensions"]["cost.max"], 14);
    assert!(body.get("data").is_none(), "{body:#}");
    assert!(shop.log.entries().is_empty(), "{:?}", shop.log.entries());
    // Variables size lists: 2 products are within the maximum.
    let (status, body) = shop
        .post(
            "query($n: Int) { products(first: $n) { id name } }",
            json!({"n": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
}

#[tokio::test]
async fn enforce_refuses_missing_slicing_arguments() {
    let shop = Shop::start(Some(demand_control(Mode::Enforce, 1000.0, false))).await;
    let (status, body) = shop.post("{ page { items { id } } }", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body:#}");
    assert_eq!(error_codes(&body), ["COST_QUERY_PARSE_FAILURE"]);
    let (status, _) = shop
        .post("{ page(first: 2) { items { id } } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn measure_mode_runs_what_enforce_would_refuse() {
    let shop = Shop::start(Some(demand_control(Mode::Measure, 1.0, true))).await;
    let (status, body) = shop.post(PRODUCTS, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["data"]["products"][0]["name"], "product 1");
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(
        body["extensions"]["cost"],
        json!({"estimated": 15, "actual": 9, "max": 1, "mode": "measure", "result": "COST_ESTIMATED_TOO_EXPENSIVE"})
    );
    // Missing slicing arguments are logged, not refused.
    let (status, body) = shop.post("{ page { items { id } } }", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(
        body["extensions"]["cost"]["result"],
        "COST_QUERY_PARSE_FAILURE"
    );
}

#[tokio::test]
async fn the_report_has_the_estimated_and_the_actual_cost() {
    let shop = Shop::start(Some(demand_control(Mode::Enforce, 100.0, true))).await;
    // Lists come back shorter than estimated: 3 products of the 5 asked
    // (15 → 9), each with 2 reviews where 4 are assumed.
    let (status, body) = shop.post(PRODUCTS, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(
        body["extensions"]["cost"],
        json!({"estimated": 15, "actual": 9, "max": 100, "mode": "enforce", "result": "COST_OK"})
    );
    let (_, body) = shop
        .post("{ products(first: 3) { reviews { stars } } }", json!({}))
        .await;
    assert_eq!(body["extensions"]["cost"]["estimated"], 3 * (2 + 4));
    assert_eq!(body["extensions"]["cost"]["actual"], 3 * (2 + 2));
    // Abstract types: each result counts for its own type (Book 3 + author
    // 1, Movie 7 + director 1 + 1 of cast), where the estimate takes 2 of
    // the most expensive.
    let q = "{ search { ... on Book { author { name } } ... on Movie { director { name } cast { name } } } }";
    let (_, body) = shop.post(q, json!({})).await;
    assert_eq!(body["data"]["search"][1]["cast"][0]["name"], "Weaver");
    assert_eq!(body["extensions"]["cost"]["estimated"], 2 * (7 + 4));
    assert_eq!(body["extensions"]["cost"]["actual"], (3 + 1) + (7 + 1 + 1));
    // Mutations: 10 and the argument's weight, estimated and actual alike.
    let (_, body) = shop
        .post("mutation { addTag(name: \"x\") }", json!({}))
        .await;
    assert_eq!(body["data"]["addTag"], "x");
    assert_eq!(body["extensions"]["cost"]["estimated"], 13);
    assert_eq!(body["extensions"]["cost"]["actual"], 13);
    // A refusal reports too.
    let (status, body) = shop
        .post("{ products(first: 100) { id } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["extensions"]["cost"],
        json!({"estimated": 200, "actual": null, "max": 100, "mode": "enforce", "result": "COST_ESTIMATED_TOO_EXPENSIVE"})
    );
}

#[tokio::test]
async fn off_by_default() {
    let shop = Shop::start(None).await;
    let (status, body) = shop
        .post("{ products(first: 100000) { id name } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert!(body.get("extensions").is_none(), "{body:#}");
    // Enabled without the report: no extensions either.
    let shop = Shop::start(Some(demand_control(Mode::Enforce, 100.0, false))).await;
    let (_, body) = shop.post(PRODUCTS, json!({})).await;
    assert!(body.get("extensions").is_none(), "{body:#}");
}
