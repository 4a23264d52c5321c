//! What goes in and out of the pipeline: a decoded GraphQL request, and a
//! response body with the outcome that decides its HTTP status.

use bytes::Bytes;
use serde_json::{json, Map, Value};

use crate::cache_control::CachePolicy;

/// A GraphQL request as the HTTP layer decoded it (GraphQL-over-HTTP
/// `query`, `operationName`, `variables`, `extensions`).
#[derive(Debug, Default, Clone)]
pub struct Request {
    /// The document text. `None` when the request had no `query`.
    pub query: Option<String>,
    /// The operation to run when the document has several.
    pub operation_name: Option<String>,
    /// Variable values, as JSON.
    pub variables: Map<String, Value>,
    /// Request extensions (persisted queries and so on).
    pub extensions: Map<String, Value>,
    /// True for `GET`: only queries may run (a mutation gets 405).
    pub is_get: bool,
    /// The HTTP request's headers (empty for requests made in code).
    pub headers: http::HeaderMap,
    /// When the HTTP layer stops waiting for the answer
    /// (`limits.request_timeout_ms` after the request came in); `None` for
    /// requests made in code. Telemetry tells a timeout from a client that
    /// went away by it.
    pub deadline: Option<std::time::Instant>,
    /// The content version the URL names
    /// (`cache_control.version_parameter`): part of the response cache's
    /// keys.
    pub content_version: Option<String>,
    /// The text comes from the router's configuration (a REST route), not
    /// from the client: the safelist does not apply to it.
    pub configured: bool,
}

/// What the pipeline answers: a GraphQL response body and how it went.
#[derive(Debug, Clone)]
pub struct Response {
    /// The response body: an object with `data`, `errors`, `extensions`.
    pub body: Body,
    /// How the request ended, which decides the HTTP status code.
    pub outcome: Outcome,
    /// The `Cache-Control` it is sent with (`None`: no header): set by
    /// the cache/headers stage (`crate::cache_control`) when
    /// `cache_control` is on, and by the persisted-query refusals.
    pub cache_control: Option<CachePolicy>,
    /// The edge headers: surrogate keys, and whether the answer came from
    /// the response cache (boxed: most answers have none).
    pub edge: Option<Box<Edge>>,
}

/// Headers for caches in front of the router (and operators), set by the
/// cache/headers stage.
#[derive(Debug, Clone, Default)]
pub struct Edge {
    /// `Surrogate-Key` (or the configured name) and its value: the types
    /// and entities the answer holds (`crate::surrogate_keys`).
    pub surrogate_keys: Option<(http::HeaderName, http::HeaderValue)>,
    /// The response cache's status header and the status
    /// (`crate::response_cache`).
    pub cache: Option<(http::HeaderName, crate::response_cache::Status)>,
}

/// A response body: a JSON value, or JSON text already written (executed
/// operations write their `data` straight to bytes).
#[derive(Debug, Clone)]
pub enum Body {
    /// A JSON value, serialized when sent.
    Json(Value),
    /// Serialized JSON.
    Raw(Bytes),
}

impl Body {
    /// The body as JSON text.
    pub fn to_bytes(&self) -> Bytes {
        match self {
            // Serializing a Value cannot fail (its map keys are strings).
            Body::Json(v) => Bytes::from(serde_json::to_vec(v).unwrap_or_default()),
            Body::Raw(b) => b.clone(),
        }
    }

    /// The body as a JSON value (parsed again when it is raw).
    pub fn to_value(&self) -> Value {
        match self {
            Body::Json(v) => v.clone(),
            Body::Raw(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
        }
    }
}

/// Compares the JSON the body holds (handy in tests).
impl PartialEq<Value> for Body {
    fn eq(&self, other: &Value) -> bool {
        self.to_value() == *other
    }
}

impl From<Value> for Body {
    fn from(v: Value) -> Self {
        Body::Json(v)
    }
}

/// How a request ended, for choosing the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Execution started: the body has a `data` key (possibly null).
    Executed,
    /// A request error before execution (parse, validation, variable
    /// coercion, unknown operation): the body has no `data` key.
    RequestError,
    /// A mutation (or subscription) was sent over GET.
    MethodNotAllowed,
    /// The request is over a limit (`limits:`): 400 whatever the media
    /// type, as Apollo Router answers.
    Refused,
    /// A request error answered with an HTTP status of its own, whatever
    /// the media type (the persisted-query errors, `crate::persisted`,
    /// which carry their `Cache-Control` in [`Response::cache_control`]):
    /// the body has no `data` key.
    Rejected {
        /// The HTTP status code.
        status: u16,
    },
}

impl Response {
    /// A request error (no `data`) with one error of `code`.
    pub fn request_error(message: impl Into<String>, code: &str) -> Self {
        Response::new(error_body(message.into(), code), Outcome::RequestError)
    }

    /// A response with no `Cache-Control` of its own.
    pub fn new(body: Body, outcome: Outcome) -> Self {
        Response {
            body,
            outcome,
            cache_control: None,
            edge: None,
        }
    }

    /// A request error with one error of `code`, answered with `status`
    /// ([`Outcome::Rejected`]) and `Cache-Control: cache_control`.
    pub fn rejected(
        message: impl Into<String>,
        code: &str,
        status: u16,
        cache_control: &'static str,
    ) -> Self {
        Response {
            body: error_body(message.into(), code),
            outcome: Outcome::Rejected { status },
            cache_control: Some(CachePolicy::Fixed(cache_control)),
            edge: None,
        }
    }
}

/// A body with one error of `code`.
fn error_body(message: String, code: &str) -> Body {
    json!({"errors": [{"message": message, "extensions": {"code": code}}]}).into()
}
