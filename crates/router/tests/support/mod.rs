//! Test support: subgraph servers on loopback and a router in front of them.

pub mod subgraphs;
pub mod supergraph;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use goliath_router::http::{serve, ServerState};
use goliath_router::{Config, Pipeline};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// An HTTP response from a test server.
pub type HttpResponse = http::Response<Full<Bytes>>;

/// Serves HTTP/1.1 on a fresh loopback port, answering every request with
/// `answer(method, body)`; returns the server's URL. The server runs on the
/// test's runtime and stops with it.
pub async fn serve_fn<F, Fut>(answer: F) -> String
where
    F: Fn(Method, Bytes) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = HttpResponse> + Send + 'static,
{
    serve_fn_with_headers(move |method, _, body| answer(method, body)).await
}

/// [`serve_fn`], with the request's headers passed to `answer` too.
pub async fn serve_fn_with_headers<F, Fut>(answer: F) -> String
where
    F: Fn(Method, HeaderMap, Bytes) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = HttpResponse> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let answer = answer.clone();
            let service = service_fn(move |req: http::Request<Incoming>| {
                let answer = answer.clone();
                async move {
                    let method = req.method().clone();
                    let headers = req.headers().clone();
                    let body = req
                        .into_body()
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    Ok::<_, Infallible>(answer(method, headers, body).await)
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

/// Serves an async-graphql `schema`, counting its requests in `count` and
/// answering each with `Cache-Control: cache_control` (none when `None`).
pub async fn serve_schema_with_cache_control<Q, M, S>(
    schema: async_graphql::Schema<Q, M, S>,
    count: Arc<std::sync::atomic::AtomicUsize>,
    cache_control: Option<&'static str>,
) -> String
where
    Q: async_graphql::ObjectType + 'static,
    M: async_graphql::ObjectType + 'static,
    S: async_graphql::SubscriptionType + 'static,
{
    serve_fn_with_headers(move |_, _, body| {
        let (schema, count) = (schema.clone(), count.clone());
        async move {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let request: async_graphql::Request = serde_json::from_slice(&body).unwrap();
            let response = schema.execute(request).await;
            let mut http = respond(
                200,
                "application/json",
                serde_json::to_vec(&response).unwrap(),
            );
            if let Some(value) = cache_control {
                http.headers_mut()
                    .insert("cache-control", value.parse().unwrap());
            }
            http
        }
    })
    .await
}

/// A response with this status and body.
pub fn respond(status: u16, content_type: &str, body: impl Into<Bytes>) -> HttpResponse {
    http::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(body.into()))
        .unwrap()
}

/// The subgraph requests seen, in the order they arrived: (subgraph, query).
#[derive(Clone, Default)]
pub struct RequestLog(Arc<Mutex<Vec<(String, String)>>>);

impl RequestLog {
    fn push(&self, subgraph: &str, query: &str) {
        let mut log = self.0.lock().unwrap();
        log.push((subgraph.to_string(), query.to_string()));
    }

    /// A copy of the entries so far.
    pub fn entries(&self) -> Vec<(String, String)> {
        self.0.lock().unwrap().clone()
    }

    /// The entries so far, leaving the log empty.
    pub fn take(&self) -> Vec<(String, String)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    /// The subgraphs asked, in order.
    pub fn subgraphs(&self) -> Vec<String> {
        self.entries().into_iter().map(|(s, _)| s).collect()
    }
}

/// Serves an async-graphql `schema` as subgraph `name` (GraphQL over HTTP,
/// POST with a JSON body), logging each request's query in `log`.
pub async fn serve_subgraph<Q, M, S>(
    name: &str,
    schema: async_graphql::Schema<Q, M, S>,
    log: RequestLog,
) -> String
where
    Q: async_graphql::ObjectType + 'static,
    M: async_graphql::ObjectType + 'static,
    S: async_graphql::SubscriptionType + 'static,
{
    serve_subgraph_seeing_headers(name, schema, log, SeenHeaders::default()).await
}

/// The headers of each request a subgraph received, in order.
#[derive(Clone, Default)]
pub struct SeenHeaders(pub Arc<Mutex<Vec<HeaderMap>>>);

impl SeenHeaders {
    /// The values of `name` in each request, in order (`None`: not sent).
    pub fn values(&self, name: &str) -> Vec<Option<String>> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|h| h.get(name).map(|v| v.to_str().unwrap_or("").to_owned()))
            .collect()
    }
}

/// [`serve_subgraph`], keeping each request's headers in `seen`.
pub async fn serve_subgraph_seeing_headers<Q, M, S>(
    name: &str,
    schema: async_graphql::Schema<Q, M, S>,
    log: RequestLog,
    seen: SeenHeaders,
) -> String
where
    Q: async_graphql::ObjectType + 'static,
    M: async_graphql::ObjectType + 'static,
    S: async_graphql::SubscriptionType + 'static,
{
    let name = name.to_string();
    serve_fn_with_headers(move |_, headers, body| {
        seen.0.lock().unwrap().push(headers);
        let (schema, log, name) = (schema.clone(), log.clone(), name.clone());
        async move {
            let request: async_graphql::Request = match serde_json::from_slice(&body) {
                Ok(request) => request,
                Err(e) => return respond(400, "text/plain", e.to_string()),
            };
            log.push(&name, &request.query);
            let response = schema.execute(request).await;
            respond(
                200,
                "application/json",
                serde_json::to_vec(&response).unwrap(),
            )
        }
    })
    .await
}

/// Serves a hand-written subgraph `name`: `answer` turns each request
/// (the JSON body) into the JSON response. For answers async-graphql does
/// not give, such as errors inside `_entities` with their full path.
pub async fn stub_subgraph(
    name: &str,
    log: RequestLog,
    answer: impl Fn(&Value) -> Value + Send + Sync + 'static,
) -> String {
    let name = name.to_string();
    let answer = Arc::new(answer);
    serve_fn(move |_, body| {
        let (answer, log, name) = (answer.clone(), log.clone(), name.clone());
        async move {
            let request: Value = serde_json::from_slice(&body).unwrap_or_default();
            log.push(&name, request["query"].as_str().unwrap_or_default());
            let response = answer(&request);
            respond(200, "application/json", response.to_string())
        }
    })
    .await
}

/// Writes `request` on a new connection to `addr` and reads until the
/// server closes it or has sent a full response head and `Content-Length`
/// bytes of body; returns what was read.
pub async fn raw_http(addr: SocketAddr, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        received.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&received);
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length = text[..head_end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if received.len() >= head_end + 4 + length {
                break;
            }
        }
    }
    String::from_utf8_lossy(&received).into_owned()
}

/// A URL on which nothing listens (a port that was bound, then closed).
pub async fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/graphql")
}

/// The four subgraphs of `supergraph.rs`, by URL.
#[derive(Clone, Debug)]
pub struct SubgraphUrls {
    pub accounts: String,
    pub inventory: String,
    pub products: String,
    pub reviews: String,
}

impl SubgraphUrls {
    /// The supergraph SDL pointing at these URLs.
    pub fn supergraph(&self) -> String {
        supergraph::sdl(
            &self.accounts,
            &self.inventory,
            &self.products,
            &self.reviews,
        )
    }
}

/// Starts the four subgraphs on loopback ports.
pub async fn start_subgraphs(log: &RequestLog) -> SubgraphUrls {
    SubgraphUrls {
        accounts: serve_subgraph("accounts", subgraphs::accounts(""), log.clone()).await,
        inventory: serve_subgraph("inventory", subgraphs::inventory(), log.clone()).await,
        products: serve_subgraph("products", subgraphs::products(), log.clone()).await,
        reviews: serve_subgraph("reviews", subgraphs::reviews(), log.clone()).await,
    }
}

/// A router serving `supergraph` with `config` on a loopback port; returns
/// its address.
pub async fn start_router(supergraph: &str, config: &Config) -> SocketAddr {
    let pipeline = Pipeline::new(supergraph, config).expect("the supergraph loads");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = Arc::new(ServerState::new(config));
    state.set_handler(Some(Arc::new(pipeline)));
    tokio::spawn(serve(listener, state, std::future::pending()));
    addr
}

/// The subgraphs and a router in front of them, and an HTTP client.
pub struct TestGraph {
    /// The router's address.
    pub addr: SocketAddr,
    /// Every request the subgraphs received.
    pub log: RequestLog,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl TestGraph {
    /// Starts everything with the default configuration.
    pub async fn start() -> TestGraph {
        TestGraph::start_with(|_| {}).await
    }

    /// Starts everything; `configure` adjusts the router's configuration.
    pub async fn start_with(configure: impl FnOnce(&mut Config)) -> TestGraph {
        let log = RequestLog::default();
        let subgraphs = start_subgraphs(&log).await;
        let mut config = Config::default();
        configure(&mut config);
        let addr = start_router(&subgraphs.supergraph(), &config).await;
        TestGraph {
            addr,
            log,
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Sends an HTTP request to the router; returns the status, the headers
    /// and the body (JSON, or a string when it is not JSON).
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> (StatusCode, HeaderMap, Value) {
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("http://{}{path_and_query}", self.addr));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(body.into())).unwrap();
        let response = self
            .client
            .request(request)
            .await
            .expect("the router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, headers, body)
    }

    /// POSTs a JSON request body to `/graphql` with `accept`.
    pub async fn post_json(&self, body: &Value, accept: &str) -> (StatusCode, Value) {
        let (status, _, body) = self
            .send(
                Method::POST,
                "/graphql",
                &[("content-type", "application/json"), ("accept", accept)],
                serde_json::to_vec(body).unwrap(),
            )
            .await;
        (status, body)
    }

    /// POSTs `query` with `variables` (`application/json` responses).
    pub async fn post(&self, query: &str, variables: Value) -> (StatusCode, Value) {
        let body = json!({"query": query, "variables": variables});
        self.post_json(&body, "application/json").await
    }

    /// POSTs `query` without variables and expects a 200.
    pub async fn query(&self, query: &str) -> Value {
        let (status, body) = self.post(query, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body:#}");
        body
    }
}

/// The `extensions.code` of each error in `body`.
pub fn error_codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {body:#}"))
        .iter()
        .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_string())
        .collect()
}
