//! The REST gateway (`rest:`) end to end: routes in front of the test
//! subgraphs on loopback, one test per variable source, status mapping,
//! and start-up refusals.

#[allow(dead_code)]
mod support;

use bytes::Bytes;
use goliath_router::{Config, Pipeline};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

use support::{
    closed_port_url, start_router, start_subgraphs, stub_subgraph, RequestLog, SubgraphUrls,
};

/// The routes of most tests.
const ROUTES: &str = r#"
rest:
  status_codes: {SUBREQUEST_HTTP_ERROR: 503}
  routes:
    - method: GET
      path: /api/users/:id
      summary: A user and their reviews
      operation: |
        query User($id: ID!) { user(id: $id) { id name reviews { body product { name } } } }
      variables: {id: {from: path}}
      response: {data_path: user}
    - method: GET
      path: /api/products
      operation: |
        query Top($first: Int) { topProducts(first: $first) { upc name price } }
      variables: {first: {from: query, name: limit, default: 2}}
      response: {data_path: topProducts}
    - method: GET
      path: /api/me
      operation: |
        query Whoever($id: ID!) { user(id: $id) { name } }
      variables: {id: {from: header, name: x-user-id}}
      response: {data_path: user, include_errors: true}
    - method: POST
      path: /api/products/{upc}/reviews
      status: 201
      operation: |
        mutation Review($upc: String!, $body: String!) { createReview(upc: $upc, body: $body) { id body product { upc } } }
      variables: {upc: {from: path}, body: {from: body, name: text}}
      response: {data_path: createReview}
"#;

/// A router with `yaml` in front of the four subgraphs (products at
/// `products` when given).
async fn start(yaml: &str, products: Option<String>) -> (Graph, RequestLog) {
    let log = RequestLog::default();
    let mut urls: SubgraphUrls = start_subgraphs(&log).await;
    if let Some(products) = products {
        urls.products = products;
    }
    let config = Config::from_yaml_str(yaml).unwrap();
    let addr = start_router(&urls.supergraph(), &config).await;
    let graph = Graph {
        addr,
        client: Client::builder(TokioExecutor::new()).build_http(),
    };
    (graph, log)
}

struct Graph {
    addr: std::net::SocketAddr,
    client: Client<HttpConnector, Full<Bytes>>,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

impl Graph {
    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Answer {
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .client
            .request(
                request
                    .body(Full::new(Bytes::from(body.to_owned())))
                    .unwrap(),
            )
            .await
            .unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, &[], "").await
    }
}

/// Checks an RFC 9457 problem.
fn assert_problem(answer: &Answer, status: u16, detail: &str) {
    assert_eq!(answer.status.as_u16(), status, "{}", answer.body);
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(answer.body["status"], status);
    assert!(answer.body["title"].is_string());
    let got = answer.body["detail"].as_str().unwrap_or_default();
    assert!(got.contains(detail), "{got:?} should contain {detail:?}");
}

#[tokio::test]
async fn a_path_parameter_and_the_data_path() {
    let (graph, _) = start(ROUTES, None).await;
    let answer = graph.get("/api/users/1").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.body["id"], "1");
    assert_eq!(answer.body["name"], "Ada Lovelace");
    assert!(
        answer.body["reviews"][0]["product"]["name"].is_string(),
        "{}",
        answer.body
    );
    // HEAD answers as GET does, without the body.
    let head = graph.send(Method::HEAD, "/api/users/1", &[], "").await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.body, Value::Null);
    // Nothing there: 404.
    assert_problem(&graph.get("/api/users/404").await, 404, "nothing at `user`");
    // A trailing slash and percent-encoding.
    assert_eq!(graph.get("/api/users/1/").await.status, StatusCode::OK);
    assert_problem(&graph.get("/api/users/%31%").await, 400, "percent-encoded");
}

#[tokio::test]
async fn a_typed_query_parameter_with_a_default() {
    let (graph, _) = start(ROUTES, None).await;
    let answer = graph.get("/api/products?limit=3").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body.as_array().unwrap().len(), 3);
    // The route's default.
    let answer = graph.get("/api/products").await;
    assert_eq!(answer.body.as_array().unwrap().len(), 2);
    // Not an Int: 400, naming the parameter.
    let bad = graph.get("/api/products?limit=three").await;
    assert_problem(&bad, 400, "query parameter `limit` `three` is not an Int");
    // A GraphQL error from the subgraph without a mapped code and no data: 502.
    let negative = graph.get("/api/products?limit=-1").await;
    assert_problem(&negative, 502, "");
    assert!(negative.body["errors"].is_array());
}

#[tokio::test]
async fn a_header_and_errors_included() {
    let (graph, _) = start(ROUTES, None).await;
    let answer = graph
        .send(Method::GET, "/api/me", &[("x-user-id", "2")], "")
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body, json!({"data": {"name": "Alan Turing"}}));
    // The header is required: the variable is `ID!`.
    assert_problem(
        &graph.get("/api/me").await,
        400,
        "header `x-user-id` is required",
    );
}

#[tokio::test]
async fn a_json_body_and_a_created_status() {
    let (graph, log) = start(ROUTES, None).await;
    let json = [("content-type", "application/json")];
    let answer = graph
        .send(
            Method::POST,
            "/api/products/2/reviews",
            &json,
            r#"{"text": "Great"}"#,
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    assert_eq!(answer.body["body"], "Great");
    assert_eq!(answer.body["product"]["upc"], "2");
    assert!(log.subgraphs().contains(&"reviews".to_string()));
    // No body member: the variable is required.
    let missing = graph
        .send(Method::POST, "/api/products/2/reviews", &json, "{}")
        .await;
    assert_problem(&missing, 400, "body member `text` is required");
    // Not JSON.
    let broken = graph
        .send(Method::POST, "/api/products/2/reviews", &json, "{")
        .await;
    assert_problem(&broken, 400, "not JSON");
    // Not a JSON content type: refused (and the CSRF check).
    let text = [("content-type", "text/plain")];
    let plain = graph
        .send(Method::POST, "/api/products/2/reviews", &text, "x")
        .await;
    assert_eq!(plain.status, StatusCode::BAD_REQUEST, "{}", plain.body);
    // A body of another type, past the CSRF check: 415.
    let other_type = [
        ("content-type", "text/plain"),
        ("apollo-require-preflight", "1"),
    ];
    let plain = graph
        .send(Method::POST, "/api/products/2/reviews", &other_type, "x")
        .await;
    assert_problem(&plain, 415, "must be JSON");
    // Another method on a route's path: 405 with Allow.
    let other = graph
        .send(Method::DELETE, "/api/products/2/reviews", &[], "")
        .await;
    assert_eq!(other.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(other.header("allow"), Some("POST"));
    // An unknown path stays the router's 404.
    assert_eq!(graph.get("/api/nope").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let yaml = format!("limits: {{max_body_bytes: 64}}\n{ROUTES}");
    let (graph, _) = start(&yaml, None).await;
    let json = [("content-type", "application/json")];
    let big = format!(r#"{{"text": "{}"}}"#, "x".repeat(100));
    let answer = graph
        .send(Method::POST, "/api/products/2/reviews", &json, &big)
        .await;
    assert_problem(&answer, 413, "larger than 64 bytes");
}

#[tokio::test]
async fn status_codes_from_error_codes() {
    // products down: SUBREQUEST_HTTP_ERROR, mapped to 503 by the config.
    let (graph, _) = start(ROUTES, Some(closed_port_url().await)).await;
    let answer = graph.get("/api/products").await;
    assert_problem(&answer, 503, "");
    assert_eq!(
        answer.body["errors"][0]["extensions"]["code"],
        "SUBREQUEST_HTTP_ERROR"
    );
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    // A subgraph's own codes (with its errors included): NOT_FOUND is 404
    // and FORBIDDEN 403 by default.
    for (code, status) in [
        ("NOT_FOUND", 404),
        ("FORBIDDEN", 403),
        ("UNAUTHENTICATED", 401),
    ] {
        let log = RequestLog::default();
        let products = stub_subgraph("products", log, move |_| {
            json!({"data": {"topProducts": null}, "errors": [{"message": "nope", "extensions": {"code": code}}]})
        })
        .await;
        let yaml = format!("include_subgraph_errors: {{all: true}}\n{ROUTES}");
        let (graph, _) = start(&yaml, Some(products)).await;
        assert_problem(&graph.get("/api/products").await, status, "nope");
    }
}

#[tokio::test]
async fn cache_control_and_the_response_cache_apply_to_get_routes() {
    let yaml = format!(
        "cache_control: {{enabled: true, default_max_age: 30}}\nresponse_cache: {{enabled: true}}\n{ROUTES}"
    );
    let (graph, log) = start(&yaml, None).await;
    let first = graph.get("/api/products?limit=1").await;
    assert_eq!(first.header("cache-control"), Some("max-age=30, public"));
    assert_eq!(first.header("x-goliath-cache"), Some("MISS"));
    assert!(first.header("surrogate-key").unwrap().contains("Product:1"));
    let asked = log.entries().len();
    let second = graph.get("/api/products?limit=1").await;
    assert_eq!(second.header("x-goliath-cache"), Some("HIT"));
    assert_eq!(second.body, first.body);
    assert_eq!(log.entries().len(), asked, "no subgraph asked");
}

#[tokio::test]
async fn the_openapi_document_is_served_and_valid() {
    let (graph, _) = start(ROUTES, None).await;
    let answer = graph.get("/openapi.json").await;
    assert_eq!(answer.status, StatusCode::OK);
    let doc = &answer.body;
    assert_eq!(doc["openapi"], "3.1.0");
    let user = &doc["paths"]["/api/users/{id}"]["get"];
    assert_eq!(user["operationId"], "User");
    assert_eq!(user["parameters"][0]["in"], "path");
    let ok = &user["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(
        ok["properties"]["reviews"]["type"],
        json!(["array", "null"])
    );
    let created = &doc["paths"]["/api/products/{upc}/reviews"]["post"];
    assert!(created["responses"]["201"].is_object());
    assert!(
        created["requestBody"]["content"]["application/json"]["schema"]["properties"]["text"]
            .is_object()
    );
    let header = &doc["paths"]["/api/me"]["get"]["parameters"][0];
    assert_eq!(
        (header["in"].as_str(), header["name"].as_str()),
        (Some("header"), Some("x-user-id"))
    );
    assert_eq!(
        doc["paths"]["/api/products"]["get"]["responses"]["503"]["content"]
            ["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
    // openapi-spec-validator (PyPI; `.ci/run` installs it), when present.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(doc).unwrap()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openapi/validate.py");
    match std::process::Command::new("python3")
        .arg(script)
        .arg(file.path())
        .output()
    {
        Ok(out) if out.status.success() => {}
        Ok(out) if String::from_utf8_lossy(&out.stderr).contains("No module named") => {
            if std::env::var_os("GOLIATH_REQUIRE_OPENAPI_VALIDATOR").is_some() {
                panic!("openapi-spec-validator is not installed");
            }
            eprintln!("SKIPPED: no openapi-spec-validator (pip install openapi-spec-validator)");
        }
        Ok(out) => panic!(
            "openapi-spec-validator refused the document:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => eprintln!("SKIPPED: no python3 ({e})"),
    }
}

#[tokio::test]
async fn routes_from_a_folder_of_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("product.graphql"),
        "# GET /api/products/:upc\n# upc: path\n# response: product\nquery Product($upc: String!) { product(upc: $upc) { upc name } }\n",
    )
    .unwrap();
    let yaml = format!("rest: {{dir: {:?}}}", dir.path());
    let (graph, _) = start(&yaml, None).await;
    let answer = graph.get("/api/products/1").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["upc"], "1");
    assert_problem(
        &graph.get("/api/products/9").await,
        404,
        "nothing at `product`",
    );
}

#[tokio::test]
async fn a_bad_route_stops_start_up_naming_it() {
    let log = RequestLog::default();
    let sdl = start_subgraphs(&log).await.supergraph();
    let refused = |routes: &str| {
        let yaml = format!("rest:\n  routes:\n{routes}");
        let config = Config::from_yaml_str(&yaml).unwrap();
        match Pipeline::new(&sdl, &config) {
            Ok(_) => panic!("accepted: {routes}"),
            Err(e) => e,
        }
    };
    let cases = [
        (
            "    - {method: GET, path: /a, operation: '{ nope }'}",
            "rest route `GET /a`: the operation is not valid",
        ),
        (
            "    - {method: GET, path: /a/:id, operation: 'query($id: ID!) { user(id: $id) { name } }'}",
            "variable `$id` (ID!) is not mapped",
        ),
        (
            "    - {method: GET, path: /a/:x, operation: '{ me { name } }'}",
            "the path parameter `x` feeds no variable",
        ),
        (
            "    - {method: GET, path: /a, operation: 'query($id: ID!) { user(id: $id) { name } }', variables: {id: {from: path}}}",
            "which the path does not have",
        ),
        (
            "    - {method: GET, path: /a, operation: '{ me { name } }', variables: {x: {from: query}}}",
            "the operation has no variable `$x`",
        ),
        (
            "    - {method: GET, path: /a, operation: 'mutation { updateName(id: 1, name: \"x\") { name } }'}",
            "a mutation cannot be a GET route",
        ),
        (
            "    - {method: GET, path: /a, operation: '{ me { name } }', response: {data_path: me.nope}}",
            "`me.nope`",
        ),
        (
            "    - {method: FETCH, path: /a, operation: '{ me { name } }'}",
            "method `FETCH`",
        ),
        (
            "    - {method: GET, path: /a, operation: '{ me { name } }'}\n    - {method: get, path: /a, operation: '{ me { id } }'}",
            "the same method and path",
        ),
        (
            "    - {method: GET, path: /a, persisted_id: abc}",
            "no persisted query `abc`",
        ),
        (
            "    - {method: GET, path: /a}",
            "exactly one of `operation`, `file` and `persisted_id`",
        ),
    ];
    for (routes, needle) in cases {
        let e = refused(routes);
        assert!(e.contains(needle), "{routes}\n{e}");
    }
}
