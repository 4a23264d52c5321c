//! CORS (`cors:`), end to end on loopback: preflights and actual requests
//! from allowed and refused origins, in front of real subgraphs.

#[allow(dead_code)]
mod support;

use goliath_router::Config;
use http::{HeaderMap, Method, StatusCode};
use serde_json::json;
use support::{error_codes, TestGraph};

/// The router and subgraphs, with the router's config read from `yaml`.
async fn start(yaml: &str) -> TestGraph {
    let config = Config::from_yaml_str(yaml).expect("the config loads");
    TestGraph::start_with(move |c| *c = config).await
}

/// A preflight from `origin` for a POST with `request_headers`.
async fn preflight(graph: &TestGraph, origin: &str, request_headers: &str) -> HeaderMap {
    let mut headers = vec![
        ("origin", origin),
        ("access-control-request-method", "POST"),
    ];
    if !request_headers.is_empty() {
        headers.push(("access-control-request-headers", request_headers));
    }
    let (status, response, body) = graph.send(Method::OPTIONS, "/graphql", &headers, "").await;
    // Never a 405, never refused by CSRF prevention: 200 and no body.
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!(""));
    response
}

/// A JSON POST of `{ me { name } }` from `origin`: the headers, after
/// checking the subgraph's data came back.
async fn actual(graph: &TestGraph, origin: &str) -> HeaderMap {
    let (status, headers, body) = graph
        .send(
            Method::POST,
            "/graphql",
            &[("origin", origin), ("content-type", "application/json")],
            r#"{"query": "{ me { name } }"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"data": {"me": {"name": "Ada Lovelace"}}}));
    headers
}

/// The value of `name` in `headers`, "" when absent.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

/// Whether `headers` has any `Access-Control-*` header.
fn has_cors(headers: &HeaderMap) -> bool {
    headers
        .keys()
        .any(|name| name.as_str().starts_with("access-control-"))
}

#[tokio::test]
async fn listed_origin() {
    let graph = start("cors:\n  origins: [https://app.example]\n").await;
    let origin = "https://app.example";
    let headers = preflight(&graph, origin, "content-type,x-custom").await;
    assert_eq!(header(&headers, "access-control-allow-origin"), origin);
    assert_eq!(
        header(&headers, "access-control-allow-methods"),
        "GET, POST, OPTIONS"
    );
    // allow_headers empty: the requested ones are mirrored.
    assert_eq!(
        header(&headers, "access-control-allow-headers"),
        "content-type,x-custom"
    );
    assert!(header(&headers, "vary").contains("origin"));
    for absent in [
        "access-control-allow-credentials",
        "access-control-max-age",
        "access-control-expose-headers",
    ] {
        assert!(!headers.contains_key(absent), "{absent}: {headers:?}");
    }

    let headers = actual(&graph, origin).await;
    assert_eq!(header(&headers, "access-control-allow-origin"), origin);
    assert_eq!(header(&headers, "vary"), "origin");
    assert!(!headers.contains_key("access-control-allow-credentials"));
    assert!(!headers.contains_key("access-control-allow-methods"));

    // The default list is Apollo Router's: Apollo Studio only.
    let graph = start("").await;
    let studio = "https://studio.apollographql.com";
    let headers = preflight(&graph, studio, "").await;
    assert_eq!(header(&headers, "access-control-allow-origin"), studio);
    assert!(!headers.contains_key("access-control-allow-headers"));
    assert!(!has_cors(
        &preflight(&graph, "https://app.example", "").await
    ));
}

#[tokio::test]
async fn origins_matching_a_pattern() {
    let graph = start(
        "cors:\n  origins: [https://app.example]\n  match_origins: ['^https://[a-z0-9-]+\\.example\\.com$']\n",
    )
    .await;
    for origin in ["https://a.example.com", "https://ci-42.example.com"] {
        let headers = preflight(&graph, origin, "content-type").await;
        assert_eq!(header(&headers, "access-control-allow-origin"), origin);
        let headers = actual(&graph, origin).await;
        assert_eq!(header(&headers, "access-control-allow-origin"), origin);
    }
    // The list still applies alongside the patterns.
    let headers = actual(&graph, "https://app.example").await;
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        "https://app.example"
    );
    for origin in [
        "https://example.com",
        "https://a.example.com.evil.net",
        "http://a.example.com",
    ] {
        assert!(!has_cors(&preflight(&graph, origin, "content-type").await));
        assert!(!has_cors(&actual(&graph, origin).await));
    }
}

#[tokio::test]
async fn refused_origin_gets_no_cors_headers() {
    let graph = start("cors:\n  origins: [https://app.example]\n").await;
    let evil = "https://evil.example";
    let headers = preflight(&graph, evil, "content-type").await;
    assert!(!has_cors(&headers), "{headers:?}");
    // The request itself runs (the browser hides the answer), and the
    // answer says it depends on the origin.
    let headers = actual(&graph, evil).await;
    assert!(!has_cors(&headers), "{headers:?}");
    assert_eq!(header(&headers, "vary"), "origin");
    // No Origin at all (not a browser's cross-origin request): no headers.
    let (status, headers, _) = graph
        .send(
            Method::POST,
            "/graphql",
            &[("content-type", "application/json")],
            r#"{"query": "{ me { name } }"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!has_cors(&headers));
}

#[tokio::test]
async fn any_origin() {
    let graph = start("cors:\n  allow_any_origin: true\n  origins: []\n").await;
    let headers = preflight(&graph, "https://anywhere.example", "content-type").await;
    assert_eq!(header(&headers, "access-control-allow-origin"), "*");
    assert_eq!(
        header(&headers, "access-control-allow-headers"),
        "content-type"
    );
    let headers = actual(&graph, "https://anywhere.example").await;
    assert_eq!(header(&headers, "access-control-allow-origin"), "*");
    assert!(!headers.contains_key("access-control-allow-credentials"));
}

#[tokio::test]
async fn credentials_exposed_headers_allowed_headers_and_max_age() {
    let graph = start(
        r#"
cors:
  origins: [https://app.example]
  allow_credentials: true
  allow_headers: [content-type, authorization]
  expose_headers: [x-trace-id, x-cost]
  methods: [POST]
  max_age: 24h
"#,
    )
    .await;
    let origin = "https://app.example";
    let headers = preflight(&graph, origin, "content-type,x-other").await;
    assert_eq!(header(&headers, "access-control-allow-origin"), origin);
    assert_eq!(header(&headers, "access-control-allow-credentials"), "true");
    // A configured list is sent as is, whatever the preflight asks.
    assert_eq!(
        header(&headers, "access-control-allow-headers"),
        "content-type, authorization"
    );
    assert_eq!(header(&headers, "access-control-allow-methods"), "POST");
    assert_eq!(header(&headers, "access-control-max-age"), "86400");
    assert!(!headers.contains_key("access-control-expose-headers"));

    let headers = actual(&graph, origin).await;
    assert_eq!(header(&headers, "access-control-allow-origin"), origin);
    assert_eq!(header(&headers, "access-control-allow-credentials"), "true");
    assert_eq!(
        header(&headers, "access-control-expose-headers"),
        "x-trace-id, x-cost"
    );
    assert!(!headers.contains_key("access-control-max-age"));

    // Refused origins get no credentials either.
    assert!(!has_cors(
        &preflight(&graph, "https://evil.example", "").await
    ));

    // max_age as a number of seconds, or minutes.
    for (max_age, seconds) in [("600", "600"), ("10m", "600"), ("1h 30m", "5400")] {
        let graph = start(&format!(
            "cors:\n  allow_any_origin: true\n  max_age: {max_age}\n"
        ))
        .await;
        let headers = preflight(&graph, "https://app.example", "").await;
        assert_eq!(header(&headers, "access-control-max-age"), seconds);
    }
}

#[tokio::test]
async fn error_answers_carry_cors_headers() {
    let graph = start("cors:\n  origins: [https://app.example]\n").await;
    let origin = "https://app.example";
    // A GET without a preflight header: refused by CSRF prevention, and
    // the page may read why.
    let (status, headers, body) = graph
        .send(
            Method::GET,
            "/graphql?query=%7Bme%7Bname%7D%7D",
            &[("origin", origin)],
            "",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["CSRF_ERROR"]);
    assert_eq!(header(&headers, "access-control-allow-origin"), origin);
    // A method the path does not take, a body that is not JSON, an
    // unacceptable Accept.
    let (status, headers, _) = graph
        .send(Method::PUT, "/graphql", &[("origin", origin)], "")
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&headers, "access-control-allow-origin"), origin);
    let (status, headers, body) = graph
        .send(
            Method::POST,
            "/graphql",
            &[("origin", origin), ("content-type", "application/json")],
            "{not json",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["BAD_REQUEST"]);
    assert_eq!(header(&headers, "access-control-allow-origin"), origin);
    let (status, headers, _) = graph
        .send(
            Method::POST,
            "/graphql",
            &[
                ("origin", origin),
                ("content-type", "application/json"),
                ("accept", "text/plain"),
            ],
            r#"{"query": "{ me { name } }"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(header(&headers, "access-control-allow-origin"), origin);
    // A GraphQL error (200) too.
    let (status, headers, body) = graph
        .send(
            Method::POST,
            "/graphql",
            &[("origin", origin), ("content-type", "application/json")],
            r#"{"query": "{ nope }"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["errors"].is_array(), "{body}");
    assert_eq!(header(&headers, "access-control-allow-origin"), origin);
}

/// The message loading `yaml` fails with.
fn config_error(yaml: &str) -> String {
    Config::from_yaml_str(yaml).unwrap_err().to_string()
}

#[test]
fn config_errors() {
    let err = config_error("cors:\n  allow_any_origin: true\n  allow_credentials: true\n");
    assert_eq!(
        err,
        "config: cors.allow_any_origin: Invalid CORS configuration: Cannot combine \
         `Access-Control-Allow-Credentials: true` with `allow_any_origin: true`"
    );
    let err = config_error("cors:\n  match_origins: ['^https://ok$', '^https://(unclosed$']\n");
    assert!(
        err.starts_with(
            "config: cors.match_origins[1]: `^https://(unclosed$` is not a valid regular expression"
        ),
        "{err}"
    );
    let err = config_error("cors:\n  origins: ['*']\n");
    assert!(
        err.contains("cors.origins: Invalid CORS configuration: use `allow_any_origin: true`"),
        "{err}"
    );
    let err = config_error("cors:\n  origins: ['https://app.example/']\n");
    assert!(
        err.contains("cors.origins[0]: `https://app.example/` is not an origin: an origin has no path (write `https://app.example`)"),
        "{err}"
    );
    let err = config_error("cors:\n  allow_credentials: true\n  allow_headers: ['*']\n");
    assert!(err.contains("cors.allow_headers: "), "{err}");
    let err = config_error("cors:\n  allow_headers: ['not a header']\n");
    assert!(
        err.contains("cors.allow_headers[0]: `not a header` is not an HTTP header name"),
        "{err}"
    );
    let err = config_error("cors:\n  methods: [GET, 'PO ST']\n");
    assert!(err.contains("cors.methods[1]: "), "{err}");
    let err = config_error("cors:\n  max_age: 10 parsecs\n");
    assert!(err.contains("cors.max_age"), "{err}");
    assert!(err.contains("unknown time unit \"parsecs\""), "{err}");
    let err = config_error("cors:\n  max_age: -5\n");
    assert!(err.contains("cors.max_age"), "{err}");
    let err = config_error("cors:\n  allow_origins: []\n");
    assert!(
        err.contains("cors.allow_origins: unknown field `allow_origins`"),
        "{err}"
    );

    // Apollo Router's own example loads as is.
    let config = Config::from_yaml_str(
        r#"
cors:
  allow_any_origin: false
  origins: [https://studio.apollographql.com]
  match_origins: ["^https://.*\\.example\\.com$"]
  allow_credentials: false
  allow_headers: []
  expose_headers: []
  methods: [GET, POST, OPTIONS]
  max_age: 24h
"#,
    )
    .unwrap();
    assert_eq!(
        config.cors.max_age,
        Some(std::time::Duration::from_secs(86_400))
    );
    assert_eq!(config.cors.match_origins, ["^https://.*\\.example\\.com$"]);
    for empty in ["cors: {}", "cors: {max_age: null}"] {
        assert_eq!(
            Config::from_yaml_str(empty).unwrap().cors,
            Config::default().cors
        );
    }
}
