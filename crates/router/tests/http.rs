//! GraphQL over HTTP, end to end on loopback, against a stand-in handler.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use goliath_router::config::{Config, Limits};
use goliath_router::http::{serve, Handler, ServerState};
use goliath_router::pipeline::Outcome;
use goliath_router::{Request, Response};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// Echoes the request as `data`; some queries behave specially:
/// `bad` is a request error, `slow` sleeps, `panic` panics, and a GET
/// `mutation...` is refused.
struct Echo;

impl Handler for Echo {
    fn execute(&self, req: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
        Box::pin(async move {
            let query = req.query.clone().unwrap_or_default();
            if query == "bad" {
                return Response {
                    body: json!({"errors": [{"message": "bad query"}]}).into(),
                    outcome: Outcome::RequestError,
                    cache_control: None,
                    edge: None,
                };
            }
            if req.is_get && query.starts_with("mutation") {
                return Response {
                    body: json!({"errors": [{"message": "mutations need POST"}]}).into(),
                    outcome: Outcome::MethodNotAllowed,
                    cache_control: None,
                    edge: None,
                };
            }
            if query == "slow" {
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
            if query == "panic" {
                panic!("the handler broke");
            }
            Response {
                body: json!({"data": {
                    "query": req.query,
                    "operationName": req.operation_name,
                    "variables": req.variables,
                    "extensions": req.extensions,
                    "isGet": req.is_get,
                }})
                .into(),
                outcome: Outcome::Executed,
                cache_control: None,
                edge: None,
            }
        })
    }
}

/// The header that lets a GET through CSRF prevention.
const PREFLIGHT: &[(&str, &str)] = &[("apollo-require-preflight", "true")];

/// A running server and what is needed to talk to it and stop it.
struct Server {
    addr: SocketAddr,
    state: Arc<ServerState>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Starts a server with `config` and the [`Echo`] handler.
    async fn start(config: Config) -> Server {
        let server = Server::start_empty(config).await;
        server.state.set_handler(Some(Arc::new(Echo)));
        server
    }

    /// Starts a server with `config` and no handler.
    async fn start_empty(config: Config) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(ServerState::new(&config));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        Server {
            addr,
            state,
            stop: Some(stop),
            task,
        }
    }

    /// Sends a request and returns the status, headers and body (as JSON).
    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> (StatusCode, HeaderMap, Value) {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let mut builder = http::Request::builder()
            .method(method)
            .uri(format!("http://{}{}", self.addr, path_and_query));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(Full::new(body.into())).unwrap();
        let response = client.request(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("body {bytes:?} is not JSON: {e}"));
        (status, headers, body)
    }

    /// POSTs `body` as `application/json` to `/graphql`.
    async fn post(&self, body: &str, extra: &[(&str, &str)]) -> (StatusCode, HeaderMap, Value) {
        let mut headers = vec![("content-type", "application/json")];
        headers.extend_from_slice(extra);
        self.send(Method::POST, "/graphql", &headers, body.to_string())
            .await
    }

    /// Stops the server and waits for it to finish.
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("the server stops")
            .unwrap();
    }
}

/// The `code` of the first error in `body`.
fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

/// The `Content-Type` of a response.
fn content_type(headers: &HeaderMap) -> &str {
    headers["content-type"].to_str().unwrap()
}

#[tokio::test]
async fn post_json() {
    let server = Server::start(Config::default()).await;
    let body =
        r#"{"query":"{ a }","operationName":"Op","variables":{"x":1},"extensions":{"e":true}}"#;
    let (status, headers, body) = server
        .post(body, &[("content-type", "application/json; charset=utf-8")])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type(&headers), "application/json; charset=utf-8");
    assert_eq!(
        body,
        json!({"data": {"query": "{ a }", "operationName": "Op", "variables": {"x": 1},
                        "extensions": {"e": true}, "isGet": false}})
    );
    // Nulls count as absent.
    let (status, _, body) = server
        .post(
            r#"{"query":"{ a }","operationName":null,"variables":null,"extensions":null}"#,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["operationName"], Value::Null);
    assert_eq!(body["data"]["variables"], json!({}));
    server.stop().await;
}

#[tokio::test]
async fn get_with_parameters() {
    let server = Server::start(Config::default()).await;
    let (status, _, body) = server
        .send(
            Method::GET,
            "/graphql?query=%7B%20a%20%7D&operationName=Op&variables=%7B%22x%22%3A%5B1%5D%7D&extensions=%7B%7D",
            PREFLIGHT,
            "",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"data": {"query": "{ a }", "operationName": "Op", "variables": {"x": [1]},
                        "extensions": {}, "isGet": true}})
    );
    let (status, headers, body) = server
        .send(
            Method::GET,
            "/graphql?query=mutation+%7Bm%7D",
            PREFLIGHT,
            "",
        )
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["allow"], "POST");
    assert_eq!(body["errors"][0]["message"], "mutations need POST");
    let (status, _, body) = server
        .send(Method::GET, "/graphql?query=x&variables=%7B", PREFLIGHT, "")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "BAD_REQUEST");
    server.stop().await;
}

#[tokio::test]
async fn malformed_requests_are_400() {
    let server = Server::start(Config::default()).await;
    for body in [
        "{not json",
        "[]",
        "\"query\"",
        r#"{"query": 1}"#,
        r#"{"query": "{a}", "variables": [1]}"#,
        r#"{"query": "{a}", "operationName": {}}"#,
        r#"{"query": "{a}", "extensions": "x"}"#,
    ] {
        let (status, headers, response) = server.post(body, &[]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(code(&response), "BAD_REQUEST", "{body}");
        assert!(response.get("data").is_none());
        assert_eq!(content_type(&headers), "application/json; charset=utf-8");
    }
    let (status, _, response) = server.post(r#"{"qeury": "{a}"}"#, &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&response), "MISSING_QUERY_STRING");
    assert_eq!(
        response["errors"][0]["message"],
        "Must provide query string."
    );
    // A persisted query needs no query text.
    let (status, _, response) = server
        .post(r#"{"extensions": {"persistedQuery": {"version": 1}}}"#, &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response["data"]["query"], Value::Null);
    server.stop().await;
}

#[tokio::test]
async fn content_type_and_method_checks() {
    let server = Server::start(Config::default()).await;
    // Types a browser sends without a preflight are CSRF-refused first;
    // with a preflight header they are unsupported all the same.
    for content_type in [None, Some("text/plain")] {
        let headers: Vec<(&str, &str)> = content_type
            .map(|t| ("content-type", t))
            .into_iter()
            .collect();
        let (status, _, body) = server
            .send(Method::POST, "/graphql", &headers, r#"{"query":"{a}"}"#)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{content_type:?}");
        assert_eq!(code(&body), "CSRF_ERROR");
    }
    for content_type in [None, Some("text/plain"), Some("application/graphql")] {
        let mut headers: Vec<(&str, &str)> = content_type
            .map(|t| ("content-type", t))
            .into_iter()
            .collect();
        headers.extend_from_slice(PREFLIGHT);
        let (status, _, body) = server
            .send(Method::POST, "/graphql", &headers, r#"{"query":"{a}"}"#)
            .await;
        assert_eq!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        assert_eq!(code(&body), "UNSUPPORTED_MEDIA_TYPE");
    }
    for method in [Method::PUT, Method::DELETE, Method::PATCH] {
        let (status, headers, _) = server.send(method, "/graphql", &[], "").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(headers["allow"], "GET, POST");
    }
    let (status, _, body) = server.send(Method::GET, "/elsewhere", &[], "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&body), "NOT_FOUND");
    server.stop().await;
}

#[tokio::test]
async fn accept_header_picks_media_type_and_status() {
    let server = Server::start(Config::default()).await;
    let graphql_response = "application/graphql-response+json; charset=utf-8";
    let json = "application/json; charset=utf-8";
    let cases = [
        // (Accept, query, expected status, expected content type)
        (None, "{a}", StatusCode::OK, json),
        (None, "bad", StatusCode::OK, json),
        (Some("*/*"), "bad", StatusCode::OK, json),
        (Some("application/json"), "bad", StatusCode::OK, json),
        (
            Some("application/graphql-response+json"),
            "{a}",
            StatusCode::OK,
            graphql_response,
        ),
        (
            Some("application/graphql-response+json"),
            "bad",
            StatusCode::BAD_REQUEST,
            graphql_response,
        ),
        (
            Some("application/graphql-response+json, application/json;q=0.9"),
            "bad",
            StatusCode::BAD_REQUEST,
            graphql_response,
        ),
    ];
    for (accept, query, expected_status, expected_type) in cases {
        let headers: Vec<(&str, &str)> = accept.map(|a| ("accept", a)).into_iter().collect();
        let body = json!({ "query": query }).to_string();
        let (status, headers, response) = server.post(&body, &headers).await;
        assert_eq!(status, expected_status, "{accept:?} {query}");
        assert_eq!(content_type(&headers), expected_type, "{accept:?} {query}");
        if query == "bad" {
            assert_eq!(response["errors"][0]["message"], "bad query");
        }
    }
    // The mutation-over-GET refusal is 405 under either media type.
    let (status, headers, _) = server
        .send(
            Method::GET,
            "/graphql?query=mutation%7Bm%7D",
            &[
                ("accept", "application/graphql-response+json"),
                ("apollo-require-preflight", "true"),
            ],
            "",
        )
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["allow"], "POST");
    assert_eq!(content_type(&headers), graphql_response);
    // Nothing acceptable.
    let (status, _, body) = server
        .post(r#"{"query":"{a}"}"#, &[("accept", "text/html")])
        .await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(code(&body), "NOT_ACCEPTABLE");
    server.stop().await;
}

#[tokio::test]
async fn body_size_limit() {
    let config = Config {
        limits: Limits {
            max_body_bytes: 100,
            ..Limits::default()
        },
        ..Config::default()
    };
    let server = Server::start(config).await;
    let small = json!({"query": "{a}"}).to_string();
    assert_eq!(server.post(&small, &[]).await.0, StatusCode::OK);
    let large = json!({"query": "x".repeat(200)}).to_string();
    let (status, _, body) = server.post(&large, &[]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(code(&body), "PAYLOAD_TOO_LARGE");
    server.stop().await;
}

#[tokio::test]
async fn slow_requests_time_out() {
    let config = Config {
        limits: Limits {
            request_timeout_ms: 200,
            ..Limits::default()
        },
        ..Config::default()
    };
    let server = Server::start(config).await;
    let started = std::time::Instant::now();
    let (status, _, body) = server.post(r#"{"query":"slow"}"#, &[]).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        body,
        json!({"errors": [{"message": "request timed out", "extensions": {"code": "GATEWAY_TIMEOUT"}}]})
    );
    server.stop().await;
}

#[tokio::test]
async fn a_panicking_handler_gives_500() {
    let server = Server::start(Config::default()).await;
    let (status, _, body) = server.post(r#"{"query":"panic"}"#, &[]).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(code(&body), "INTERNAL_SERVER_ERROR");
    // The server is still up.
    assert_eq!(
        server.post(r#"{"query":"{a}"}"#, &[]).await.0,
        StatusCode::OK
    );
    server.stop().await;
}

#[tokio::test]
async fn health_follows_the_handler() {
    let server = Server::start_empty(Config::default()).await;
    let (status, _, body) = server.send(Method::GET, "/health", &[], "").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, json!({"status": "DOWN"}));
    let (status, _, body) = server.post(r#"{"query":"{a}"}"#, &[]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(code(&body), "SERVICE_UNAVAILABLE");

    assert!(server.state.set_handler(Some(Arc::new(Echo))).is_none());
    let (status, _, body) = server.send(Method::GET, "/health", &[], "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "UP"}));
    assert_eq!(
        server.post(r#"{"query":"{a}"}"#, &[]).await.0,
        StatusCode::OK
    );
    // Unloading takes the router down again.
    assert!(server.state.set_handler(None).is_some());
    let (status, _, _) = server.send(Method::GET, "/health", &[], "").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    let (status, headers, _) = server.send(Method::POST, "/health", &[], "").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["allow"], "GET");
    server.stop().await;
}

#[tokio::test]
async fn readiness_and_liveness() {
    let server = Server::start_empty(Config::default()).await;
    let get = |path: &'static str| {
        let server = &server;
        async move {
            let (status, _, body) = server.send(Method::GET, path, &[], "").await;
            (
                status.as_u16(),
                body["status"].as_str().unwrap_or("").to_owned(),
            )
        }
    };
    // Nothing loaded: alive, not ready.
    assert_eq!(get("/health?live").await, (200, "UP".into()));
    assert_eq!(get("/health?ready").await, (503, "DOWN".into()));
    server.state.set_handler(Some(Arc::new(Echo)));
    assert_eq!(get("/health?ready").await, (200, "UP".into()));
    assert_eq!(get("/health?ready=true").await, (200, "UP".into()));
    // Shutting down: still alive, no longer ready, still serving.
    server.state.begin_shutdown();
    assert!(server.state.is_draining());
    assert_eq!(get("/health?ready").await, (503, "DOWN".into()));
    assert_eq!(get("/health?live").await, (200, "UP".into()));
    assert_eq!(get("/health").await, (200, "UP".into()));
    assert_eq!(
        server.post(r#"{"query":"{a}"}"#, &[]).await.0,
        StatusCode::OK
    );
    server.stop().await;
}

#[tokio::test]
async fn custom_paths() {
    let config = Config::from_yaml_str("graphql_path: /api\nhealth_path: /up").unwrap();
    let server = Server::start(config).await;
    assert_eq!(
        server.send(Method::GET, "/up", &[], "").await.0,
        StatusCode::OK
    );
    assert_eq!(
        server
            .send(Method::GET, "/api?query=%7Ba%7D", PREFLIGHT, "")
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        server
            .send(Method::GET, "/graphql?query=%7Ba%7D", &[], "")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    server.stop().await;
}

#[tokio::test]
async fn keep_alive_serves_several_requests_on_one_connection() {
    let server = Server::start(Config::default()).await;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    for i in 0..3 {
        let request = graphql_post(server.addr, &format!("q{i}"));
        let response = client.request(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.into_body().collect().await.unwrap();
    }
    server.stop().await;
}

/// A JSON POST of `query` to the server's `/graphql`.
fn graphql_post(addr: SocketAddr, query: &str) -> http::Request<Full<Bytes>> {
    http::Request::post(format!("http://{addr}/graphql"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(
            json!({ "query": query }).to_string(),
        )))
        .unwrap()
}

/// Writes `raw` to a fresh connection and returns everything read back.
async fn raw_exchange(addr: SocketAddr, raw: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(raw).await.unwrap();
    let mut out = Vec::new();
    let read = stream.read_to_end(&mut out);
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("the server answers and closes")
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn chunked_body_over_the_limit_is_413() {
    let config = Config {
        limits: Limits {
            max_body_bytes: 100,
            ..Limits::default()
        },
        ..Config::default()
    };
    let server = Server::start(config).await;
    let chunk = "x".repeat(150);
    let raw = format!(
        "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         transfer-encoding: chunked\r\nconnection: close\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    let response = raw_exchange(server.addr, raw.as_bytes()).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains("PAYLOAD_TOO_LARGE"), "{response}");
    server.stop().await;
}

#[tokio::test]
async fn garbage_does_not_take_the_server_down() {
    let server = Server::start(Config::default()).await;
    let response = raw_exchange(server.addr, b"\x00\xffNOT HTTP\r\n\r\n").await;
    assert!(
        response.is_empty() || response.starts_with("HTTP/1.1 400"),
        "{response}"
    );
    let raw = b"GET /graphql?query=%ff%fe&variables=%7B%22a%22:%5B HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
    let response = raw_exchange(server.addr, raw).await;
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert_eq!(
        server.post(r#"{"query":"{a}"}"#, &[]).await.0,
        StatusCode::OK
    );
    server.stop().await;
}

#[tokio::test]
async fn a_body_that_never_arrives_is_408() {
    let config = Config {
        limits: Limits {
            request_timeout_ms: 200,
            ..Limits::default()
        },
        ..Config::default()
    };
    let server = Server::start(config).await;
    let raw = b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
                content-length: 50\r\n\r\n{\"query\":";
    let response = raw_exchange(server.addr, raw).await;
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("REQUEST_TIMEOUT"), "{response}");
    server.stop().await;
}

/// Several workers share one port (port 0: the kernel picks it, the same for
/// all); requests on many fresh connections are all answered, and every
/// worker stops when the shutdown future completes.
#[test]
fn workers_share_one_port_and_stop_together() {
    use goliath_router::workers::Workers;
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let workers = Workers::bind(addr, 3).expect("three sockets bind to one port");
    let addr = workers.local_addr();
    assert_ne!(addr.port(), 0);
    let state = Arc::new(ServerState::new(&Config::default()));
    state.set_handler(Some(Arc::new(Echo)));
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let (setup_ran, setup_seen) = std::sync::mpsc::channel::<()>();
    let shutdown = async move {
        // Waits on a thread of its own so that the worker's runtime runs on.
        let _ = tokio::task::spawn_blocking(move || stopped.recv()).await;
    };
    let server = std::thread::spawn(move || {
        workers.serve(
            state,
            move || {
                let _ = setup_ran.send(());
            },
            shutdown,
        )
    });
    setup_seen
        .recv_timeout(Duration::from_secs(10))
        .expect("setup runs before serving");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        for i in 0..24 {
            // A fresh connection each time, so the kernel spreads them.
            let client = Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(0)
                .build_http::<Full<Bytes>>();
            let request = graphql_post(addr, &format!("q{i}"));
            let response = client.request(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let body = response.into_body().collect().await.unwrap().to_bytes();
            let body: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["data"]["query"], format!("q{i}"));
        }
    });
    stop.send(()).unwrap();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(server.join()));
    let result = finished
        .recv_timeout(Duration::from_secs(20))
        .expect("every worker stops after shutdown");
    result
        .expect("no worker panicked")
        .expect("serving ended cleanly");
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "nothing listens on {addr} any more"
    );
}
