//! The subgraph HTTP client: pooled keep-alive connections, one JSON POST
//! per fetch, a timeout per subgraph. Parsing the answer is the caller's
//! job (see [`crate::value`]), so the parsed tree can borrow from its bytes.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// Why a subgraph request failed before a GraphQL response came back.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL is not usable.
    #[error("invalid subgraph URL {0}")]
    BadUrl(String),
    /// Connecting, sending or reading failed.
    #[error("{0}")]
    Transport(String),
    /// No answer within the subgraph's timeout.
    #[error("request timed out")]
    Timeout,
    /// A non-2xx status; the body, if it was a GraphQL response, is kept.
    #[error("{status}")]
    Status {
        /// The HTTP status line.
        status: String,
        /// The body as a GraphQL response, when it parsed as one.
        body: Option<Value>,
    },
    /// The body is not a JSON object.
    #[error("invalid JSON in the subgraph response: {0}")]
    BadJson(String),
}

/// A pooled HTTP client for subgraph requests.
///
/// Each thread has its own connection pool: with one single-threaded
/// runtime per core (see `goliath router`), a request's subgraph
/// connections are driven by the thread that serves the request, with no
/// wake-ups across threads.
#[derive(Clone, Default)]
pub struct SubgraphClient {
    _private: (),
}

type Pooled = Client<HttpConnector, Full<Bytes>>;

thread_local! {
    static POOL: Pooled = build_pool();
}

/// A keep-alive pool of subgraph connections.
fn build_pool() -> Pooled {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_keepalive(Some(Duration::from_secs(60)));
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(256)
        .build(connector)
}

impl SubgraphClient {
    /// A client with keep-alive connection pooling.
    pub fn new() -> Self {
        SubgraphClient { _private: () }
    }

    /// POSTs `body` (a JSON GraphQL request) to `url` and returns the
    /// answer's bytes (a 2xx status); the caller parses them.
    pub async fn post(
        &self,
        url: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Bytes, FetchError> {
        let uri: http::Uri = url
            .parse()
            .map_err(|_| FetchError::BadUrl(url.to_owned()))?;
        let request = http::Request::builder()
            .method(http::Method::POST)
            .uri(uri)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| FetchError::Transport(e.to_string()))?;
        let work = async {
            let response = POOL
                .with(Pooled::clone)
                .request(request)
                .await
                .map_err(|e| FetchError::Transport(error_chain(&e)))?;
            let status = response.status();
            let bytes = response
                .into_body()
                .collect()
                .await
                .map_err(|e| FetchError::Transport(e.to_string()))?
                .to_bytes();
            if !status.is_success() {
                let parsed: Result<Value, _> = serde_json::from_slice(&bytes);
                return Err(FetchError::Status {
                    status: format!(
                        "{}: {}",
                        status.as_u16(),
                        status.canonical_reason().unwrap_or("")
                    ),
                    body: parsed.ok().filter(Value::is_object),
                });
            }
            Ok(bytes)
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout),
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
