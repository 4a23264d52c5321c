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
//! - Any other method is 405 with `Allow: GET, POST`.
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
//! and [`Outcome::MethodNotAllowed`] is 405 with `Allow: POST`.
//!
//! One deadline of `limits.request_timeout_ms` covers reading the body and
//! executing: when it passes while the body is still arriving the answer is
//! 408 (code `REQUEST_TIMEOUT`), during execution 504 (code `GATEWAY_TIMEOUT`,
//! message "request timed out").
//! Without a handler loaded the GraphQL path answers 503 and the health path
//! (`GET` only) answers 503 `{"status":"DOWN"}`, else 200 `{"status":"UP"}`.
//! Any other path is 404. A handler that panics yields a 500.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, ACCEPT, ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;
use tokio::time::Instant;

use crate::config::Config;
use crate::pipeline::{Outcome, Pipeline, Request, Response};

/// Something that answers GraphQL requests: the [`Pipeline`], or a stand-in
/// in tests.
pub trait Handler: Send + Sync + 'static {
    /// Runs one GraphQL request to completion.
    fn execute(&self, req: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>>;
}

impl Handler for Pipeline {
    fn execute(&self, req: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
        Box::pin(Pipeline::execute(self, req))
    }
}

/// What the server needs: its settings and the current handler, which can
/// be replaced (or set for the first time) while the server runs.
pub struct ServerState {
    graphql_path: String,
    health_path: String,
    max_body_bytes: usize,
    request_timeout: Duration,
    handler: RwLock<Option<Arc<dyn Handler>>>,
}

impl ServerState {
    /// A state with the paths and limits of `config` and no handler yet.
    pub fn new(config: &Config) -> Self {
        ServerState {
            graphql_path: config.graphql_path.clone(),
            health_path: config.health_path.clone(),
            max_body_bytes: config.limits.max_body_bytes,
            request_timeout: config.limits.request_timeout(),
            handler: RwLock::new(None),
        }
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
}

/// Serves HTTP/1.1 (with keep-alive) on `listener` until `shutdown`
/// completes; then stops accepting, closes idle connections and waits up to
/// the request timeout for requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: Arc<ServerState>,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).keep_alive(true);
    tokio::pin!(shutdown);
    loop {
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
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection error: {e}");
            }
        });
    }
    drop(listener);
    let grace = state.request_timeout + Duration::from_secs(1);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after {grace:?}, closing them");
    }
}

/// An HTTP response with a JSON body.
type HttpResponse = http::Response<Full<Bytes>>;

/// The two response media types of GraphQL over HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaType {
    /// `application/json`, the legacy type: request errors are 200.
    Json,
    /// `application/graphql-response+json`: request errors are 400.
    GraphqlResponse,
}

impl MediaType {
    /// The `Content-Type` value for this type.
    fn content_type(self) -> &'static str {
        match self {
            MediaType::Json => "application/json; charset=utf-8",
            MediaType::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        }
    }
}

/// Routes one HTTP request.
async fn handle(state: &ServerState, req: http::Request<Incoming>) -> HttpResponse {
    let path = req.uri().path();
    if path == state.health_path {
        if req.method() != Method::GET {
            return with_allow(
                error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method not allowed",
                    "METHOD_NOT_ALLOWED",
                    MediaType::Json,
                ),
                "GET",
            );
        }
        return match state.handler() {
            Some(_) => json_response(StatusCode::OK, &json!({"status": "UP"}), MediaType::Json),
            None => json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({"status": "DOWN"}),
                MediaType::Json,
            ),
        };
    }
    if path != state.graphql_path {
        return error(
            StatusCode::NOT_FOUND,
            "not found",
            "NOT_FOUND",
            MediaType::Json,
        );
    }
    graphql(state, req).await
}

/// Serves one request on the GraphQL path.
async fn graphql(state: &ServerState, req: http::Request<Incoming>) -> HttpResponse {
    // A timeout too large for the clock means none, in effect.
    let deadline = Instant::now()
        .checked_add(state.request_timeout)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(100 * 365 * 86_400));
    let is_get = match *req.method() {
        Method::GET => true,
        Method::POST => false,
        _ => {
            return with_allow(
                error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method not allowed",
                    "METHOD_NOT_ALLOWED",
                    MediaType::Json,
                ),
                "GET, POST",
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
    let decoded = if is_get {
        decode_get(req.uri().query().unwrap_or(""))
    } else {
        match tokio::time::timeout_at(deadline, read_post(req, state.max_body_bytes)).await {
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
    let request = match decoded {
        Ok(request) => request,
        Err(e) => return error(e.status, &e.message, e.code, media),
    };
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
    };
    let http = bytes_response(status, response.body.to_bytes(), media);
    if response.outcome == Outcome::MethodNotAllowed {
        return with_allow(http, "POST");
    }
    http
}

/// An HTTP-level failure to decode a GraphQL request.
#[derive(Debug)]
struct DecodeError {
    status: StatusCode,
    message: String,
    code: &'static str,
}

impl DecodeError {
    /// A 400 `BAD_REQUEST`.
    fn bad_request(message: impl Into<String>) -> Self {
        DecodeError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            code: "BAD_REQUEST",
        }
    }
}

/// Checks the content type and reads a POST body into a [`Request`].
async fn read_post(
    req: http::Request<Incoming>,
    max_body_bytes: usize,
) -> Result<Request, DecodeError> {
    if !is_json_content_type(req.headers()) {
        return Err(DecodeError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            message: "Content-Type must be application/json".into(),
            code: "UNSUPPORTED_MEDIA_TYPE",
        });
    }
    let too_large = || DecodeError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        message: format!("request body is larger than {max_body_bytes} bytes"),
        code: "PAYLOAD_TOO_LARGE",
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max_body_bytes as u64) {
        return Err(too_large());
    }
    let body = match Limited::new(req.into_body(), max_body_bytes)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => return Err(too_large()),
        Err(e) => {
            return Err(DecodeError::bad_request(format!(
                "cannot read the request body: {e}"
            )))
        }
    };
    let value: Value = serde_json::from_slice(&body).map_err(|e| {
        DecodeError::bad_request(format!("the request body is not valid JSON: {e}"))
    })?;
    let Value::Object(mut params) = value else {
        return Err(DecodeError::bad_request(
            "the request body must be a JSON object",
        ));
    };
    let mut param = |name: &str| params.remove(name).unwrap_or(Value::Null);
    build_request(
        string_param("query", param("query"))?,
        string_param("operationName", param("operationName"))?,
        object_param("variables", param("variables"))?,
        object_param("extensions", param("extensions"))?,
        false,
    )
}

/// Decodes the GET parameters from a URL query string.
fn decode_get(query: &str) -> Result<Request, DecodeError> {
    let mut params: Map<String, Value> = Map::new();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if !matches!(
            &*name,
            "query" | "operationName" | "variables" | "extensions"
        ) {
            continue;
        }
        if params.contains_key(&*name) {
            return Err(DecodeError::bad_request(format!(
                "parameter `{name}` is given more than once"
            )));
        }
        if !value.is_empty() {
            params.insert(name.into_owned(), Value::String(value.into_owned()));
        }
    }
    let mut param = |name: &str| params.remove(name).unwrap_or(Value::Null);
    let json_param = |name: &str, value: Value| match value {
        Value::String(text) => serde_json::from_str(&text).map_err(|e| {
            DecodeError::bad_request(format!("parameter `{name}` is not valid JSON: {e}"))
        }),
        other => Ok(other),
    };
    let variables = json_param("variables", param("variables"))?;
    let extensions = json_param("extensions", param("extensions"))?;
    build_request(
        string_param("query", param("query"))?,
        string_param("operationName", param("operationName"))?,
        object_param("variables", variables)?,
        object_param("extensions", extensions)?,
        true,
    )
}

/// Assembles a [`Request`], insisting on a query or a persisted query.
fn build_request(
    query: Option<String>,
    operation_name: Option<String>,
    variables: Map<String, Value>,
    extensions: Map<String, Value>,
    is_get: bool,
) -> Result<Request, DecodeError> {
    if query.is_none() && !extensions.contains_key("persistedQuery") {
        return Err(DecodeError {
            status: StatusCode::BAD_REQUEST,
            message: "Must provide query string.".into(),
            code: "MISSING_QUERY_STRING",
        });
    }
    Ok(Request {
        query,
        operation_name,
        variables,
        extensions,
        is_get,
    })
}

/// A string-or-null request parameter.
fn string_param(name: &str, value: Value) -> Result<Option<String>, DecodeError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(DecodeError::bad_request(format!(
            "`{name}` must be a string"
        ))),
    }
}

/// An object-or-null request parameter (null gives an empty map).
fn object_param(name: &str, value: Value) -> Result<Map<String, Value>, DecodeError> {
    match value {
        Value::Null => Ok(Map::new()),
        Value::Object(map) => Ok(map),
        _ => Err(DecodeError::bad_request(format!(
            "`{name}` must be an object"
        ))),
    }
}

/// Whether the request's `Content-Type` is `application/json`, with no
/// charset or UTF-8.
fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        && parts.all(|param| match param.split_once('=') {
            Some((key, value)) if key.trim().eq_ignore_ascii_case("charset") => {
                let value = value.trim().trim_matches('"');
                value.eq_ignore_ascii_case("utf-8") || value.eq_ignore_ascii_case("utf8")
            }
            _ => true,
        })
}

/// Chooses the response media type from the `Accept` headers, or `None`
/// when neither type is acceptable.
fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
    let values = headers.get_all(ACCEPT);
    if values.iter().all(|v| v.as_bytes().trim_ascii().is_empty()) {
        return Some(MediaType::Json);
    }
    let ranges: Vec<(String, f32)> = values
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(parse_media_range)
        .collect();
    // The quality of the most specific range that matches `wanted`.
    let quality = |wanted: &str, wildcards: &[&str]| {
        std::iter::once(wanted)
            .chain(wildcards.iter().copied())
            .find_map(|pattern| {
                ranges
                    .iter()
                    .find(|(range, _)| range == pattern)
                    .map(|(_, q)| *q)
            })
            .unwrap_or(0.0)
    };
    let graphql = quality("application/graphql-response+json", &[]);
    let json = quality("application/json", &["application/*", "*/*"]);
    if graphql > 0.0 && graphql >= json {
        Some(MediaType::GraphqlResponse)
    } else if json > 0.0 {
        Some(MediaType::Json)
    } else {
        None
    }
}

/// Parses one `Accept` entry into a lower-cased `type/subtype` and its `q`;
/// `None` for an empty entry or an unreadable `q`.
fn parse_media_range(entry: &str) -> Option<(String, f32)> {
    let mut parts = entry.split(';');
    let range = parts.next()?.trim().to_ascii_lowercase();
    if range.is_empty() {
        return None;
    }
    let mut q = 1.0;
    for param in parts {
        if let Some((key, value)) = param.split_once('=') {
            if key.trim().eq_ignore_ascii_case("q") {
                q = value
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))?;
            }
        }
    }
    Some((range, q))
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
struct CatchUnwind<F>(F);

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

#[cfg(test)]
mod tests {
    use super::*;

    /// Headers with the given `Accept` values.
    fn accept(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(ACCEPT, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn negotiation() {
        use MediaType::*;
        let cases: &[(&[&str], Option<MediaType>)] = &[
            (&[], Some(Json)),
            (&["*/*"], Some(Json)),
            (&["application/*"], Some(Json)),
            (&["application/json"], Some(Json)),
            (
                &["application/graphql-response+json"],
                Some(GraphqlResponse),
            ),
            (
                &["application/graphql-response+json, application/json;q=0.9"],
                Some(GraphqlResponse),
            ),
            (
                &["application/json", "application/graphql-response+json"],
                Some(GraphqlResponse),
            ),
            (
                &["application/json, application/graphql-response+json;q=0.5"],
                Some(Json),
            ),
            (&["Application/JSON; charset=utf-8"], Some(Json)),
            (&["text/html"], None),
            (&["application/json;q=0"], None),
            (&["*/*;q=0.5, application/json;q=0"], None),
            (&["application/graphql-response+json;q=0, */*"], Some(Json)),
            (&["application/json;q=bogus"], None),
        ];
        for (values, expected) in cases {
            assert_eq!(negotiate(&accept(values)), *expected, "{values:?}");
        }
    }

    #[test]
    fn content_types() {
        let check = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
            is_json_content_type(&headers)
        };
        assert!(check("application/json"));
        assert!(check("application/json; charset=utf-8"));
        assert!(check("Application/Json;charset=\"UTF-8\""));
        assert!(!check("application/json; charset=latin1"));
        assert!(!check("application/graphql"));
        assert!(!check("text/plain"));
        assert!(!is_json_content_type(&HeaderMap::new()));
    }

    #[test]
    fn get_parameters() {
        let req =
            decode_get("query=%7B+a+%7D&operationName=Op&variables=%7B%22x%22%3A1%7D&other=1")
                .unwrap();
        assert_eq!(req.query.as_deref(), Some("{ a }"));
        assert_eq!(req.operation_name.as_deref(), Some("Op"));
        assert_eq!(req.variables["x"], 1);
        assert!(req.is_get);
        let req = decode_get("query=%7Ba%7D&variables=&operationName=&extensions=null").unwrap();
        assert_eq!(req.operation_name, None);
        assert!(req.variables.is_empty() && req.extensions.is_empty());
        assert_eq!(decode_get("").unwrap_err().code, "MISSING_QUERY_STRING");
        assert_eq!(
            decode_get("query=a&query=b").unwrap_err().code,
            "BAD_REQUEST"
        );
        assert_eq!(
            decode_get("query=a&variables=%5B%5D").unwrap_err().code,
            "BAD_REQUEST"
        );
        assert_eq!(
            decode_get("query=a&variables={").unwrap_err().code,
            "BAD_REQUEST"
        );
        let req = decode_get("extensions=%7B%22persistedQuery%22%3A%7B%7D%7D").unwrap();
        assert_eq!(req.query, None);
    }
}
