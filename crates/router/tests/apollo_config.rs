//! A `router.yaml` written for Apollo Router loads as it is, wherever
//! goliath has the feature, and serves: the sections goliath reads in
//! Apollo's shape, and the ones it does not have refused by name.

#[allow(dead_code)]
mod support;

use std::time::Duration;

use goliath_router::Config;
use serde_json::json;

use support::{start_router, start_subgraphs, RequestLog};

/// Apollo Router's documented keys for the features goliath has.
const APOLLO: &str = r#"
supergraph:
  listen: 127.0.0.1:4100
  path: /api/graphql
  introspection: true
health_check:
  path: /healthz
sandbox:
  enabled: true
homepage:
  enabled: false
include_subgraph_errors:
  all: false
  subgraphs:
    products: true
override_subgraph_url:
  reviews: http://127.0.0.1:1/graphql
traffic_shaping:
  router:
    timeout: 20s
  all:
    timeout: 5s
  subgraphs:
    products:
      timeout: 1500ms
headers:
  all:
    request:
      - propagate:
          named: authorization
      - insert:
          name: x-gateway
          value: goliath
cors:
  origins:
    - https://studio.apollographql.com
  match_origins:
    - "^https://([a-z0-9]+[.])*example[.]com$"
  allow_credentials: true
  max_age: 24h
csrf:
  required_headers:
    - x-apollo-operation-name
    - apollo-require-preflight
limits:
  max_depth: 50
  max_height: 200
  max_aliases: 30
  max_root_fields: 20
  parser_max_tokens: 15000
  parser_max_recursion: 500
  http_max_request_bytes: 2000000
  http1_max_request_headers: 200
demand_control:
  enabled: true
  mode: measure
  strategy:
    static_estimated:
      list_size: 10
      max: 1000
"#;

#[test]
fn apollo_router_keys_are_read_into_goliaths() {
    let config = Config::from_yaml_str(APOLLO).unwrap();
    assert_eq!(config.listen, "127.0.0.1:4100");
    assert_eq!(config.graphql_path, "/api/graphql");
    assert!(config.introspection);
    assert_eq!(config.health_path, "/healthz");
    assert_eq!(config.graphiql, Some(true));
    assert!(!config.include_subgraph_errors.includes("accounts"));
    assert!(config.include_subgraph_errors.includes("products"));
    assert_eq!(
        config.subgraph_url("reviews"),
        Some("http://127.0.0.1:1/graphql")
    );
    assert_eq!(config.limits.request_timeout_ms, 20_000);
    assert_eq!(config.subgraph_timeout("accounts"), Duration::from_secs(5));
    assert_eq!(
        config.subgraph_timeout("products"),
        Duration::from_millis(1500)
    );
    assert_eq!(config.limits.max_depth, 50);
    assert_eq!(config.limits.max_body_bytes, 2_000_000);
    assert_eq!(config.cors.max_age, Some(Duration::from_secs(86_400)));
    assert!(config.demand_control.enabled);
}

#[test]
fn apollos_path_wildcard_is_the_path() {
    let config = Config::from_yaml_str("supergraph:\n  path: /graphql/*\n").unwrap();
    assert_eq!(config.graphql_path, "/graphql");
    let config = Config::from_yaml_str("supergraph:\n  path: /*\n").unwrap();
    assert_eq!(config.graphql_path, "/");
}

#[test]
fn goliaths_supergraph_file_still_reads() {
    let config = Config::from_yaml_str("supergraph: supergraph.graphql\n").unwrap();
    assert_eq!(config.supergraph.file, Some("supergraph.graphql".into()));
    assert_eq!(config.listen, "127.0.0.1:4000");
}

#[test]
fn the_same_setting_given_both_ways_must_agree() {
    // The same value twice is fine.
    let config =
        Config::from_yaml_str("listen: 0.0.0.0:4000\nsupergraph:\n  listen: 0.0.0.0:4000\n")
            .unwrap();
    assert_eq!(config.listen, "0.0.0.0:4000");
    for (yaml, key) in [
        (
            "listen: 0.0.0.0:4001\nsupergraph:\n  listen: 0.0.0.0:4002\n",
            "supergraph.listen",
        ),
        (
            "graphiql: false\nsandbox:\n  enabled: true\n",
            "sandbox.enabled",
        ),
        (
            "subgraphs:\n  a:\n    url: http://a\noverride_subgraph_url:\n  a: http://b\n",
            "override_subgraph_url.a",
        ),
        (
            "subgraphs:\n  a:\n    timeout_ms: 10\ntraffic_shaping:\n  subgraphs:\n    a:\n      timeout: 1s\n",
            "traffic_shaping.subgraphs.a.timeout",
        ),
    ] {
        let err = Config::from_yaml_str(yaml).unwrap_err().to_string();
        assert!(
            err.contains(key) && err.contains("conflicts"),
            "{yaml}: {err}"
        );
    }
}

#[test]
fn what_goliath_does_not_have_is_refused_by_name() {
    for (yaml, named) in [
        ("telemetry:\n  instrumentation: {}\n", "telemetry"),
        (
            "supergraph:\n  query_planning: {}\n",
            "supergraph.query_planning",
        ),
        (
            "traffic_shaping:\n  deduplicate_query: true\n",
            "traffic_shaping.deduplicate_query",
        ),
        (
            "health_check:\n  listen: 0.0.0.0:8088\n",
            "health_check.listen",
        ),
        ("health_check:\n  enabled: false\n", "health_check.enabled"),
        ("authentication:\n  router: {}\n", "authentication"),
    ] {
        let err = Config::from_yaml_str(yaml).unwrap_err().to_string();
        assert!(err.contains(named), "{yaml}: {err}");
    }
    // The health check on the main listener is fine.
    let config = Config::from_yaml_str(
        "supergraph:\n  listen: 0.0.0.0:4000\nhealth_check:\n  listen: 0.0.0.0:4000\n",
    )
    .unwrap();
    assert_eq!(config.health_path, "/health");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_router_started_from_an_apollo_config_serves_at_its_path() {
    let log = RequestLog::default();
    let urls = start_subgraphs(&log).await;
    let mut config = Config::from_yaml_str(APOLLO).unwrap();
    config.listen = "127.0.0.1:0".into();
    let addr = start_router(&urls.supergraph(), &config).await;
    let body = json!({"query": "{ me { name } }"}).to_string();
    let request = format!(
        "POST /api/graphql HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = support::raw_http(addr, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains(r#"{"data":{"me":{"name":"Ada Lovelace"}}"#),
        "{answer}"
    );
    let answer = support::raw_http(
        addr,
        format!("GET /healthz?ready HTTP/1.1\r\nhost: {addr}\r\n\r\n").as_bytes(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(r#"{"status":"UP"}"#), "{answer}");
}
