//! The HTTP server: GraphQL over HTTP (graphql.github.io/graphql-over-http)
//! in front of a [`Handler`], normally the current [`Pipeline`].
//!
//! On the GraphQL path:
//!
//! - `POST` with `Content-Type: application/json` (any other type, or a
//!   charset other than UTF-8, is 415) and a JSON object body with `query`,
//!   `operationName`, `variables` and `extensions`; a body over
//!   `limits.max_body_bytes` is 413.
//! - `GET` with the same parameters in the query string, `variables` and
//!   `extensions` as JSON text (empty values count as absent).
//! - `GET {graphql_path}/{OperationName}?id=ID&variables=...`: a persisted
//!   query by id (a manifest id or an APQ hash, `crate::persisted`), the
//!   path form a CDN caches by URL; other parameters are ignored, other
//!   methods are 405 with `Allow: GET`.
//! - `OPTIONS` is a CORS preflight, answered 200 by [`crate::cors`]
//!   (which also adds the CORS headers to every other answer on the path).
//! - Any other method is 405 with `Allow: GET, POST`.
//! - With GraphiQL on, a `GET` whose `Accept` lists `text/html` gets the
//!   GraphiQL page, whose assets are under `{graphql_path}/graphiql/`
//!   ([`crate::graphiql`]).
//!
//! Request errors found here are `400` with a GraphQL error body whatever the
//! response media type, since such requests are not well-formed
//! GraphQL-over-HTTP requests:
//!
//! - code `BAD_REQUEST`: the body is not JSON, not an object, or a parameter
//!   has the wrong type (`query` and `operationName` must be strings or null,
//!   `variables` and `extensions` objects or null), or a GET parameter is
//!   repeated;
//! - code `MISSING_QUERY_STRING`, message "Must provide query string.": no
//!   `query` and no `extensions.persistedQuery` (as Apollo Router does). With
//!   a persisted query the [`Request`] is passed on with `query: None`.
//!
//! The response media type follows `Accept`: `application/graphql-response+json`
//! when listed (and not ranked below `application/json`), else
//! `application/json` when listed, matched by a wildcard, or when `Accept` is
//! absent; otherwise 406. The status for a [`Response`] is 200, except that
//! [`Outcome::RequestError`] is 400 with `application/graphql-response+json`
//! and [`Outcome::MethodNotAllowed`] is 405 with `Allow: POST`;
//! [`Outcome::Rejected`] (the persisted-query errors) has the status it
//! carries. A [`Response`] with a `cache_control` is sent with that
//! `Cache-Control` (the persisted-query errors, and every answer with
//! `cache_control.enabled`: [`crate::cache_control`]); a cacheable answer
//! to a `GET` also gets a strong `ETag`, and is `304 Not Modified`, with
//! no body, when the request's `If-None-Match` lists it.
//!
//! One deadline of `limits.request_timeout_ms` covers reading the body and
//! executing: when it passes while the body is still arriving the answer is
//! 408 (code `REQUEST_TIMEOUT`), during execution 504 (code `GATEWAY_TIMEOUT`,
//! message "request timed out").
//! Without a handler loaded the GraphQL path answers 503 and the health path
//! (`GET` only) answers 503 `{"status":"DOWN"}`, else 200 `{"status":"UP"}`.
//! Any other path is 404. A handler that panics yields a 500.
//!
//! Before any of that, on the GraphQL path, requests a browser could send
//! cross-site without a preflight are refused (`crate::csrf`: 400, code
//! `CSRF_ERROR`). Operations refused by the limits ([`Outcome::Refused`])
//! are 400 whatever the media type.
//!
//! Connections: a request head over `limits.http1_max_request_buf_size`
//! (or with more than `limits.http1_max_request_headers` fields) is 431; a
//! head not complete within `limits.http_header_read_timeout_ms` ends the
//! connection; at most `limits.max_connections` are open at once (past
//! that, accepting waits); a connection closed with request bytes unread
//! lingers so the client still reads the answer ([`linger`]).

mod decode;
#[doc(hidden)]
pub mod fuzzing;
mod health;
mod linger;
mod settings;

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, AGE, ALLOW, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use http::{Method, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::cache_control::{etag, CachePolicy};
use crate::config::{Config, CsrfConfig, Limits};
use crate::pipeline::{Outcome, Pipeline, Request, Response};
use crate::response_cache::Status;
use decode::{decode_get, decode_get_by_id, negotiate, path_operation, read_post, MediaType};
use linger::Lingering;
pub use settings::Settings;

/// Something that answers GraphQL requests: the [`Pipeline`], or a stand-in
/// in tests.
pub trait Handler: Send + Sync + 'static {
    /// Runs one GraphQL request to completion.
    fn execute(&self, req: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>>;

    /// The REST gateway's routes (`rest:`), if any.
    fn rest(&self) -> Option<&crate::rest::Rest> {
        None
    }
}

impl Handler for Pipeline {
    fn execute(&self, req: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
        Box::pin(Pipeline::execute(self, req))
    }

    fn rest(&self) -> Option<&crate::rest::Rest> {
        Pipeline::rest(self)
    }
}

/// What the server needs: its settings and the current handler, which can
/// be replaced (or set for the first time) while the server runs.
pub struct ServerState {
    graphql_path: String,
    health_path: String,
    limits: Limits,
    request_timeout: Duration,
    csrf: CsrfConfig,
    /// CORS and GraphiQL, replaceable while the server runs.
    settings: RwLock<Arc<Settings>>,
    /// One permit per open connection (`limits.max_connections`).
    connections: Arc<Semaphore>,
    handler: RwLock<Option<Arc<dyn Handler>>>,
    /// Set when shutdown begins: readiness turns to 503.
    draining: AtomicBool,
    /// How long requests in flight may take to finish once shutdown
    /// begins.
    shutdown_timeout: Duration,
}

impl ServerState {
    /// A state with the paths and limits of `config` and no handler yet.
    pub fn new(config: &Config) -> Self {
        ServerState {
            graphql_path: config.graphql_path.clone(),
            health_path: config.health_path.clone(),
            limits: config.limits.clone(),
            request_timeout: config.limits.request_timeout(),
            csrf: config.csrf.clone(),
            settings: RwLock::new(Arc::new(Settings::new(config))),
            connections: Arc::new(Semaphore::new(
                config
                    .limits
                    .max_connections
                    .clamp(1, Semaphore::MAX_PERMITS),
            )),
            handler: RwLock::new(None),
            draining: AtomicBool::new(false),
            shutdown_timeout: Duration::from_millis(config.shutdown_timeout_ms),
        }
    }

    /// Marks the router as shutting down: readiness (`/health?ready`)
    /// answers 503 from now on.
    pub fn begin_shutdown(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Whether shutdown has begun.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// The current handler, if one is loaded.
    pub fn handler(&self) -> Option<Arc<dyn Handler>> {
        self.handler
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Installs `handler` for the requests that start from now on (requests
    /// already running finish with the old one) and returns the old one.
    pub fn set_handler(&self, handler: Option<Arc<dyn Handler>>) -> Option<Arc<dyn Handler>> {
        let mut slot = self
            .handler
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        std::mem::replace(&mut *slot, handler)
    }

    /// The CORS and GraphiQL settings in force.
    pub fn settings(&self) -> Arc<Settings> {
        self.settings
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Replaces the CORS and GraphiQL settings for the requests that start
    /// from now on.
    pub fn set_settings(&self, settings: Settings) {
        *self
            .settings
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(settings);
    }
}

/// Serves HTTP/1.1 (with keep-alive) on `listener` until `shutdown`
/// completes; then marks the state as shutting down, stops accepting,
/// closes idle connections and waits up to `shutdown_timeout_ms` for the
/// requests in flight (each connection closes once its request is
/// answered).
pub async fn serve(
    listener: TcpListener,
    state: Arc<ServerState>,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    let limits = &state.limits;
    builder
        .timer(TokioTimer::new())
        .keep_alive(true)
        .max_buf_size(limits.http1_max_request_buf_size.max(8192))
        .max_headers(limits.http1_max_request_headers)
        .header_read_timeout(limits.header_read_timeout());
    tokio::pin!(shutdown);
    loop {
        // A place among the open connections first: at the cap, new
        // connections wait in the kernel's accept queue.
        let permit = tokio::select! {
            permit = state.connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break, // never closed
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Typically out of file descriptors: back off, go on.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let state = state.clone();
        let service = service_fn(move |req| {
            let state = state.clone();
            async move { Ok::<_, Infallible>(handle(&state, req).await) }
        });
        let io = TokioIo::new(Lingering::new(stream, permit));
        let conn = graceful.watch(builder.serve_connection(io, service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection error: {e}");
            }
        });
    }
    state.begin_shutdown();
    drop(listener);
    let grace = state.shutdown_timeout;
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after {grace:?}, closing their connections");
    }
}

/// An HTTP response with a JSON body.
type HttpResponse = http::Response<Full<Bytes>>;

/// Routes one HTTP request.
async fn handle(state: &ServerState, req: http::Request<Incoming>) -> HttpResponse {
    let path = req.uri().path();
    if path == state.health_path {
        return health::answer(state, &req);
    }
    let settings = state.settings();
    if let Some(page) = settings.graphiql.as_ref().and_then(|g| g.serve(&req)) {
        return page;
    }
    if path != state.graphql_path && path_operation(path, &state.graphql_path).is_none() {
        // A REST route (or the OpenAPI document).
        if let Some(handler) = state.handler() {
            let known = handler.rest().is_some_and(|rest| {
                rest.find(req.method(), path).is_some()
                    || req.method() == Method::OPTIONS && rest.find(&Method::GET, path).is_some()
            });
            if known {
                let limits = crate::rest::serve::Limits {
                    max_body_bytes: state.limits.max_body_bytes,
                    timeout: state.request_timeout,
                    csrf: &state.csrf,
                };
                return settings
                    .cors
                    .wrap(req, |req| crate::rest::serve::serve(handler, req, limits))
                    .await;
            }
        }
        return error(
            StatusCode::NOT_FOUND,
            "not found",
            "NOT_FOUND",
            MediaType::Json,
        );
    }
    let version_parameter = settings.version_parameter.as_deref();
    settings
        .cors
        .wrap(req, |req| graphql(state, version_parameter, req))
        .await
}

/// Serves one request on the GraphQL path.
async fn graphql(
    state: &ServerState,
    version_parameter: Option<&str>,
    req: http::Request<Incoming>,
) -> HttpResponse {
    // A timeout too large for the clock means none, in effect.
    let deadline = Instant::now()
        .checked_add(state.request_timeout)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(100 * 365 * 86_400));
    // A persisted query's path form: `{graphql_path}/{OperationName}`.
    let by_id = path_operation(req.uri().path(), &state.graphql_path).map(str::to_owned);
    let is_get = match (req.method(), &by_id) {
        (&Method::GET, _) => true,
        (&Method::POST, None) => false,
        _ => {
            return with_allow(
                error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method not allowed",
                    "METHOD_NOT_ALLOWED",
                    MediaType::Json,
                ),
                if by_id.is_some() { "GET" } else { "GET, POST" },
            )
        }
    };
    let Some(media) = negotiate(req.headers()) else {
        let message = "Accept must allow application/graphql-response+json or application/json";
        return error(
            StatusCode::NOT_ACCEPTABLE,
            message,
            "NOT_ACCEPTABLE",
            MediaType::Json,
        );
    };
    if let Err(message) = state.csrf.check(req.headers()) {
        return error(StatusCode::BAD_REQUEST, &message, crate::csrf::CODE, media);
    }
    // A cacheable GET answer is compared with these (304 on a match).
    let if_none_match: Vec<HeaderValue> = if is_get {
        req.headers()
            .get_all(IF_NONE_MATCH)
            .iter()
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let content_version = version_parameter.and_then(|name| url_param(req.uri().query()?, name));
    let decoded = if is_get {
        let mut req = req;
        let query = req.uri().query().unwrap_or("");
        let decoded = match &by_id {
            Some(name) => decode_get_by_id(name, query),
            None => decode_get(query),
        };
        decoded.map(|mut r| {
            r.headers = std::mem::take(req.headers_mut());
            r
        })
    } else {
        match tokio::time::timeout_at(deadline, read_post(req, state.limits.max_body_bytes)).await {
            Ok(decoded) => decoded,
            Err(_) => {
                let message = "timed out reading the request body";
                return error(
                    StatusCode::REQUEST_TIMEOUT,
                    message,
                    "REQUEST_TIMEOUT",
                    media,
                );
            }
        }
    };
    let mut request = match decoded {
        Ok(request) => request,
        Err(e) => return error(e.status, &e.message, e.code, media),
    };
    request.deadline = Some(deadline.into_std());
    request.content_version = content_version;
    let Some(handler) = state.handler() else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "no supergraph is loaded",
            "SERVICE_UNAVAILABLE",
            media,
        );
    };
    let execution = CatchUnwind(handler.execute(request));
    let response = match tokio::time::timeout_at(deadline, execution).await {
        Err(_) => return timed_out(media),
        Ok(Err(())) => {
            tracing::error!("the request handler panicked");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal server error",
                "INTERNAL_SERVER_ERROR",
                media,
            );
        }
        Ok(Ok(response)) => response,
    };
    let status = match (response.outcome, media) {
        (Outcome::Executed, _) => StatusCode::OK,
        (Outcome::RequestError, MediaType::Json) => StatusCode::OK,
        (Outcome::RequestError, MediaType::GraphqlResponse) => StatusCode::BAD_REQUEST,
        (Outcome::MethodNotAllowed, _) => StatusCode::METHOD_NOT_ALLOWED,
        (Outcome::Refused, _) => StatusCode::BAD_REQUEST,
        (Outcome::Rejected { status }, _) => {
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST)
        }
    };
    let body = response.body.to_bytes();
    let mut http = match response.cache_control {
        Some(policy) => cached(status, body, media, policy, is_get, &if_none_match),
        None => bytes_response(status, body, media),
    };
    edge_headers(http.headers_mut(), response.edge);
    match response.outcome {
        Outcome::MethodNotAllowed => with_allow(http, "POST"),
        _ => http,
    }
}

/// The answer with its `Cache-Control`; a cacheable GET answer also gets
/// its `ETag`, and is a bodiless 304 when `if_none_match` lists it.
fn cached(
    status: StatusCode,
    body: Bytes,
    media: MediaType,
    policy: CachePolicy,
    is_get: bool,
    if_none_match: &[HeaderValue],
) -> HttpResponse {
    let tag =
        (is_get && status == StatusCode::OK && policy.is_cacheable()).then(|| etag::etag(&body));
    let mut http = match &tag {
        Some(tag) if etag::none_match(if_none_match, tag) => {
            let mut http = http::Response::new(Full::new(Bytes::new()));
            *http.status_mut() = StatusCode::NOT_MODIFIED;
            http
        }
        _ => bytes_response(status, body, media),
    };
    let headers = http.headers_mut();
    headers.insert(CACHE_CONTROL, policy.header_value());
    if let Some(tag) = tag {
        headers.insert(ETAG, tag);
    }
    http
}

/// Adds the surrogate keys and the response cache's status (with `Age` on
/// a hit).
pub(crate) fn edge_headers(
    headers: &mut http::HeaderMap,
    edge: Option<Box<crate::pipeline::Edge>>,
) {
    let Some(edge) = edge else {
        return;
    };
    if let Some((name, value)) = edge.surrogate_keys {
        headers.insert(name, value);
    }
    match edge.cache {
        Some((name, Status::Hit { age })) => {
            headers.insert(name, HeaderValue::from_static("HIT"));
            headers.insert(AGE, HeaderValue::from(age));
        }
        Some((name, Status::Miss)) => {
            headers.insert(name, HeaderValue::from_static("MISS"));
        }
        None => {}
    }
}

/// The value of the URL query parameter `name`, if given and not empty.
fn url_param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(n, _)| n == name)
        .map(|(_, value)| value.into_owned())
        .filter(|value| !value.is_empty())
}

/// A response with `body` serialized as JSON of type `media`.
fn json_response(status: StatusCode, body: &Value, media: MediaType) -> HttpResponse {
    // Serializing a `Value` cannot fail (its map keys are strings).
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    bytes_response(status, Bytes::from(bytes), media)
}

/// A response with this JSON text as its body.
fn bytes_response(status: StatusCode, bytes: Bytes, media: MediaType) -> HttpResponse {
    let mut response = http::Response::new(Full::new(bytes));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    response
}

/// A response whose body is one GraphQL error with `message` and `code`.
fn error(status: StatusCode, message: &str, code: &str, media: MediaType) -> HttpResponse {
    let body = json!({"errors": [{"message": message, "extensions": {"code": code}}]});
    json_response(status, &body, media)
}

/// The 504 for a request that ran past its deadline.
fn timed_out(media: MediaType) -> HttpResponse {
    error(
        StatusCode::GATEWAY_TIMEOUT,
        "request timed out",
        "GATEWAY_TIMEOUT",
        media,
    )
}

/// Adds an `Allow` header listing `methods`.
fn with_allow(mut response: HttpResponse, methods: &'static str) -> HttpResponse {
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(methods));
    response
}

/// A future that turns a panic while polling `F` into `Err(())`.
pub(crate) struct CatchUnwind<F>(pub(crate) F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, ()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(_) => Poll::Ready(Err(())),
        }
    }
}
