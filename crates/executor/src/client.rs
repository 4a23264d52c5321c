//! The subgraph HTTP client: one JSON POST per fetch, a timeout and an
//! answer-size cap per subgraph. Parsing the answer is the caller's job
//! (see [`crate::value`]), so the parsed tree can borrow from its bytes.
//!
//! Two paths, picked once per subgraph when its [`SubgraphEndpoint`] is
//! built (its `tls` is set for `https://` URLs only; see [`Scheme::of`]):
//!
//! - `http://`, the fast path: pooled keep-alive HTTP/1.1 connections, one
//!   pool per thread. The exchange runs in the fetch's own task: the
//!   request is written with one `write`, the answer is read straight into
//!   one buffer sized from the last answer of that subgraph, and
//!   `httparse` reads the head. There is no connection task, no channel
//!   and no copy of the body. The wire format is in [`h1`].
//! - `https://`: TLS with rustls (ring; the web PKI roots plus the CA
//!   certificates and client certificate the router's `tls:` config
//!   gives), then HTTP/2 when the subgraph offers it over ALPN, else
//!   HTTP/1.1, through hyper's connection API with per-thread pools
//!   ([`TlsOrigin`], module `tls`).
//!
//! The subgraph is not trusted, on either path: answers are read up to
//! the subgraph's `max_response_bytes` and no further, compressed answers
//! are refused (requests say `accept-encoding: identity`), and a request
//! is sent a second time only when it provably never reached the subgraph
//! (see [`Resend`]).

pub(crate) mod h1;
mod tls;

pub use tls::TlsOrigin;

use std::cell::RefCell;
use std::io::ErrorKind;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rustc_hash::FxHashMap;
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::cache_control::CacheControl;
use crate::SubgraphEndpoint;
use h1::{Answer, ExchangeError};

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
    /// The answer was refused before its body was used: larger than the
    /// subgraph's `max_response_bytes`, badly framed, or compressed.
    #[error("{0}")]
    Malformed(String),
}

/// A subgraph's 2xx answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The body's bytes; the caller parses them.
    pub body: Bytes,
    /// The answer's `Cache-Control`, when it was asked for.
    pub cache_control: Option<CacheControl>,
}

/// Whether a request may be sent a second time when the first attempt
/// fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resend {
    /// Never (mutations): a request the subgraph may have acted on is not
    /// repeated, and one that failed is not sent again either.
    Never,
    /// Once, on a new connection, and only when writing the request to a
    /// pooled connection failed: the subgraph did not receive all of it,
    /// so it cannot have acted on it (queries). A request that was written
    /// is never sent again, whatever happens to its answer. (Over
    /// `https://`, where hyper writes it: only when hyper gives the
    /// request back as never written.)
    IfUnsent,
}

/// The URL schemes a subgraph can be reached at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `http://`: the plain HTTP/1.1 path.
    Http,
    /// `https://`: TLS, see [`TlsOrigin`].
    Https,
}

impl Scheme {
    /// The scheme of the subgraph URL `url`, once the URL is known to be
    /// usable. An error says what is wrong: a URL that does not parse, one
    /// without a host, or an unsupported scheme (``unsupported URL scheme
    /// `ftp` in ftp://x (http:// and https:// are supported)``). For
    /// checking URLs when endpoints are built, before any request.
    pub fn of(url: &str) -> Result<Scheme, String> {
        let uri: http::Uri = url
            .parse()
            .map_err(|e| format!("invalid URL `{url}`: {e}"))?;
        let scheme = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("http") => Scheme::Http,
            Some(s) if s.eq_ignore_ascii_case("https") => Scheme::Https,
            Some(s) => {
                return Err(format!(
                    "unsupported URL scheme `{s}` in {url} (http:// and https:// are supported)"
                ))
            }
            None => {
                return Err(format!(
                    "invalid URL `{url}`: no scheme (http:// and https:// are supported)"
                ))
            }
        };
        if uri.authority().is_none_or(|a| a.host().is_empty()) {
            return Err(format!("invalid URL `{url}`: no host"));
        }
        if scheme == Scheme::Http {
            Origin::new(url).map_err(|e| e.to_string())?;
        }
        Ok(scheme)
    }
}

/// Idle connections kept per subgraph URL and thread.
const MAX_IDLE: usize = 256;
/// Idle connections older than this are closed instead of reused.
/// Short, because a query written to a connection the subgraph closes at
/// that moment is not sent again (it may have reached the subgraph): the
/// pool drops connections before common server keep-alive timeouts (5 s
/// in Node.js) can close them under it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(4);
/// The first read buffer for a subgraph, before any answer sized it.
const FIRST_BUFFER: usize = 16 * 1024;
/// A thread's pools are swept at most this often: idle connections past
/// [`IDLE_TIMEOUT`] are closed, and the pools of URLs unused for
/// [`UNUSED_ORIGIN`] are dropped. Without it, a URL never asked again (a
/// subgraph moved by a reload, a changed `override_subgraph_url`) would
/// keep its idle sockets open for the life of the process.
const SWEEP_EVERY: Duration = IDLE_TIMEOUT;
/// How long a URL's pool outlives its last request.
const UNUSED_ORIGIN: Duration = Duration::from_secs(60);

/// A pooled HTTP client for subgraph requests.
///
/// Each thread has its own connection pool: with one single-threaded
/// runtime per core (see `goliath router`), a request's subgraph
/// connections are driven by the thread that serves the request, with no
/// locks and no wake-ups across threads.
#[derive(Clone, Default)]
pub struct SubgraphClient {
    _private: (),
}

/// One subgraph URL's pool on one thread.
struct Origin {
    /// `host:port` to connect to.
    authority: Arc<str>,
    /// The request head's fixed part: the request line and the headers
    /// every request has (the request's own headers, `content-length` and
    /// the body follow).
    head: Box<[u8]>,
    /// Idle connections and when they became idle; the most recent last.
    idle: Vec<(TcpStream, Instant)>,
    /// How large answers have been lately (head and body): the size of
    /// the next read buffer.
    answer_size: usize,
    /// When a request last took a connection from this pool.
    last_used: Instant,
}

thread_local! {
    /// This thread's pools, by subgraph URL.
    static POOL: RefCell<FxHashMap<String, Origin>> = RefCell::default();
    /// When this thread's pools were last swept.
    static SWEPT: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

/// What a request needs from its pool: where to connect, the bytes to
/// send, a buffer size and, if one was idle, a connection.
struct Checkout {
    authority: Arc<str>,
    request: Vec<u8>,
    answer_size: usize,
    idle: Option<TcpStream>,
}

impl SubgraphClient {
    /// A client with keep-alive connection pooling.
    pub fn new() -> Self {
        SubgraphClient { _private: () }
    }

    /// POSTs `body` (a JSON GraphQL request) to the subgraph at
    /// `endpoint.url` with `headers` added to the fixed ones, and returns
    /// the answer's bytes (a 2xx status); the caller parses them. The
    /// caller filters `headers`: they are sent as given, after the
    /// `host`, `content-type`, `accept` and `accept-encoding` the client
    /// sets itself. The whole exchange takes at most
    /// `endpoint.timeout`; an answer larger than
    /// `endpoint.max_response_bytes` is refused
    /// ([`FetchError::Malformed`]) without being buffered. An endpoint
    /// with `tls` takes the `https://` path; any other, the plain one.
    pub async fn post(
        &self,
        endpoint: &SubgraphEndpoint,
        headers: &http::HeaderMap,
        body: Vec<u8>,
        resend: Resend,
    ) -> Result<Bytes, FetchError> {
        let reply = self.post_reply(endpoint, headers, body, resend, false);
        reply.await.map(|r| r.body)
    }

    /// [`SubgraphClient::post`], with the answer's `Cache-Control` read
    /// too when `cache_control` is set (otherwise it is not looked at).
    pub async fn post_reply(
        &self,
        endpoint: &SubgraphEndpoint,
        headers: &http::HeaderMap,
        body: Vec<u8>,
        resend: Resend,
        cache_control: bool,
    ) -> Result<Reply, FetchError> {
        if let Some(origin) = &endpoint.tls {
            // Boxed, so that the plain path's future stays as small as it
            // was.
            let max = endpoint.max_response_bytes;
            let exchange = Box::pin(tls::post(origin, headers, body, max, resend, cache_control));
            return match tokio::time::timeout(endpoint.timeout, exchange).await {
                Ok(r) => r,
                Err(_) => Err(FetchError::Timeout),
            };
        }
        let url = endpoint.url.as_str();
        let checkout = checkout(url, headers, &body)?;
        let max = endpoint.max_response_bytes;
        let exchange = exchange(url, checkout, max, resend, cache_control);
        match tokio::time::timeout(endpoint.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout),
        }
    }
}

/// Finds (or sets up) `url`'s pool, takes an idle connection that is still
/// open, and builds the bytes to send.
fn checkout(url: &str, headers: &http::HeaderMap, body: &[u8]) -> Result<Checkout, FetchError> {
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        let now = Instant::now();
        if SWEPT
            .get()
            .is_none_or(|t| now.duration_since(t) >= SWEEP_EVERY)
        {
            sweep(&mut pool, now);
            SWEPT.set(Some(now));
        }
        if !pool.contains_key(url) {
            pool.insert(url.to_owned(), Origin::new(url)?);
        }
        let Some(origin) = pool.get_mut(url) else {
            return Err(FetchError::BadUrl(url.to_owned()));
        };
        origin.last_used = now;
        let mut request = Vec::with_capacity(origin.head.len() + 40 + body.len());
        request.extend_from_slice(&origin.head);
        for (name, value) in headers {
            request.extend_from_slice(name.as_str().as_bytes());
            request.extend_from_slice(b": ");
            request.extend_from_slice(value.as_bytes());
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"content-length: ");
        request.extend_from_slice(body.len().to_string().as_bytes());
        request.extend_from_slice(b"\r\n\r\n");
        request.extend_from_slice(body);
        Ok(Checkout {
            authority: origin.authority.clone(),
            request,
            answer_size: origin.answer_size,
            idle: origin.take_idle(),
        })
    })
}

/// Closes the idle connections past [`IDLE_TIMEOUT`] and drops the pools
/// with none left whose URL has not been used for [`UNUSED_ORIGIN`].
fn sweep(pool: &mut FxHashMap<String, Origin>, now: Instant) {
    pool.retain(|_, origin| {
        origin
            .idle
            .retain(|(_, since)| now.saturating_duration_since(*since) <= IDLE_TIMEOUT);
        !origin.idle.is_empty() || now.saturating_duration_since(origin.last_used) < UNUSED_ORIGIN
    });
}

/// Gives a connection whose answer was read in full back to `url`'s pool,
/// and notes the answer's size.
fn checkin(url: &str, conn: Option<TcpStream>, answer_size: usize) {
    POOL.with(|pool| {
        if let Some(origin) = pool.borrow_mut().get_mut(url) {
            // Grow at once, shrink slowly: a subgraph answers fetches of
            // different sizes, and a buffer that is too small is copied.
            origin.answer_size = answer_size.max(origin.answer_size - origin.answer_size / 16);
            if let Some(conn) = conn {
                if origin.idle.len() < MAX_IDLE {
                    origin.idle.push((conn, Instant::now()));
                }
            }
        }
    })
}

/// Sends the request and reads an answer of at most `max` bytes.
///
/// A request is sent a second time only if `resend` allows it, only when
/// writing it to a pooled connection failed (the subgraph had closed the
/// connection, and did not receive the whole request), and only once, on a
/// new connection. Once the request is written, a connection closed
/// before or during the answer is an error: the subgraph may have acted
/// on the request. A connection whose answer failed or was refused is
/// dropped, never pooled.
async fn exchange(
    url: &str,
    checkout: Checkout,
    max: usize,
    resend: Resend,
    cache_control: bool,
) -> Result<Reply, FetchError> {
    let Checkout {
        authority,
        request,
        answer_size,
        idle,
    } = checkout;
    let (mut conn, mut reused) = match idle {
        Some(conn) => (conn, true),
        None => (connect(&authority).await?, false),
    };
    loop {
        let result = match conn.write_all(&request).await {
            Ok(()) => h1::read_answer(&mut conn, answer_size, max, cache_control).await,
            Err(e) => Err(ExchangeError::Unsent(e.to_string())),
        };
        let why = match result {
            Ok(Answer {
                status,
                body,
                size,
                reusable,
                cache_control,
            }) => {
                checkin(url, reusable.then_some(conn), size);
                return finish(status, body, cache_control);
            }
            Err(ExchangeError::Unsent(_)) if reused && resend == Resend::IfUnsent => {
                conn = connect(&authority).await?;
                reused = false;
                continue;
            }
            Err(ExchangeError::Unsent(why)) => format!("error sending the request: {why}"),
            Err(ExchangeError::Closed(why)) => {
                format!("connection closed before an answer: {why}")
            }
            Err(ExchangeError::Failed(why)) => why,
            Err(ExchangeError::Malformed(why)) => return Err(FetchError::Malformed(why)),
        };
        return Err(FetchError::Transport(why));
    }
}

/// Opens a connection to `authority` (`host:port`).
async fn connect(authority: &str) -> Result<TcpStream, FetchError> {
    let conn = TcpStream::connect(authority)
        .await
        .map_err(|e| FetchError::Transport(format!("error trying to connect: {e}")))?;
    // Requests are written whole; waiting for more bytes only adds latency.
    let _ = conn.set_nodelay(true);
    Ok(conn)
}

/// A 2xx answer, or the error a non-2xx status is.
fn finish(
    status: u16,
    body: Bytes,
    cache_control: Option<CacheControl>,
) -> Result<Reply, FetchError> {
    if (200..300).contains(&status) {
        return Ok(Reply {
            body,
            cache_control,
        });
    }
    let parsed: Result<Value, _> = serde_json::from_slice(&body);
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    Err(FetchError::Status {
        status: format!("{status}: {reason}"),
        body: parsed.ok().filter(Value::is_object),
    })
}

impl Origin {
    /// The pool for `url` (`http://host[:port][/path]`).
    fn new(url: &str) -> Result<Self, FetchError> {
        let bad = || FetchError::BadUrl(url.to_owned());
        let uri: http::Uri = url.parse().map_err(|_| bad())?;
        if uri.scheme_str() != Some("http") {
            return Err(FetchError::BadUrl(format!(
                "{url} (the plain path takes http:// URLs; https:// needs the endpoint's `tls`)"
            )));
        }
        let authority = uri.authority().ok_or_else(bad)?;
        let host = authority.host();
        let port = authority.port_u16().unwrap_or(80);
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let path = if path.is_empty() { "/" } else { path };
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: {authority}\r\ncontent-type: application/json\r\naccept: application/json\r\naccept-encoding: identity\r\n"
        );
        Ok(Origin {
            authority: format!("{host}:{port}").into(),
            head: head.into_bytes().into(),
            idle: vec![],
            answer_size: FIRST_BUFFER,
            last_used: Instant::now(),
        })
    }

    /// The most recently used idle connection that is still open: not
    /// past the idle timeout, and neither closed by the subgraph nor
    /// holding bytes nobody asked for.
    fn take_idle(&mut self) -> Option<TcpStream> {
        while let Some((conn, since)) = self.idle.pop() {
            if since.elapsed() > IDLE_TIMEOUT {
                continue;
            }
            let mut probe = [0u8; 1];
            match conn.try_read(&mut probe) {
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Some(conn),
                _ => continue,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_become_request_heads() {
        let o = Origin::new("http://127.0.0.1:4200/reviews?x=1").unwrap();
        assert_eq!(&*o.authority, "127.0.0.1:4200");
        assert!(o
            .head
            .starts_with(b"POST /reviews?x=1 HTTP/1.1\r\nhost: 127.0.0.1:4200\r\n"));
        assert!(o.head.ends_with(b"\r\naccept-encoding: identity\r\n"));
        let o = Origin::new("http://example.com").unwrap();
        assert_eq!(&*o.authority, "example.com:80");
        assert!(o
            .head
            .starts_with(b"POST / HTTP/1.1\r\nhost: example.com\r\n"));
        assert!(matches!(
            Origin::new("https://example.com/graphql"),
            Err(FetchError::BadUrl(m)) if m.contains("needs the endpoint's `tls`")
        ));
        assert!(matches!(
            Origin::new("not a url"),
            Err(FetchError::BadUrl(_))
        ));
        assert!(matches!(
            Origin::new("/relative"),
            Err(FetchError::BadUrl(_))
        ));
    }

    /// Idle connections past the timeout are closed, and a URL nobody
    /// asks any more loses its pool (the leak a long difftest run found:
    /// every case's subgraphs on new ports, their sockets never closed).
    #[tokio::test]
    async fn sweeps_close_stale_connections_and_forget_unused_urls() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let now = Instant::now() + Duration::from_secs(120);
        let mut pool: FxHashMap<String, Origin> = FxHashMap::default();
        for (url, last_used, idle_ages) in [
            // Used a moment ago: fresh connections stay, stale ones go.
            ("http://a/", now, vec![1, 10]),
            // Unused for two minutes, one stale connection: gone.
            ("http://b/", now - Duration::from_secs(120), vec![10]),
            // Unused for two minutes but a fresh idle connection: kept.
            ("http://c/", now - Duration::from_secs(120), vec![1]),
            // Used 30 s ago, nothing idle: kept for its buffer size.
            ("http://d/", now - Duration::from_secs(30), vec![]),
        ] {
            let mut origin = Origin::new(url).unwrap();
            origin.last_used = last_used;
            for age in idle_ages {
                let conn = TcpStream::connect(addr).await.unwrap();
                origin.idle.push((conn, now - Duration::from_secs(age)));
            }
            pool.insert(url.to_owned(), origin);
        }
        sweep(&mut pool, now);
        let mut kept: Vec<(&str, usize)> = pool
            .iter()
            .map(|(url, o)| (url.as_str(), o.idle.len()))
            .collect();
        kept.sort();
        assert_eq!(kept, [("http://a/", 1), ("http://c/", 1), ("http://d/", 0)]);
    }

    #[test]
    fn schemes_are_checked_before_any_request() {
        assert_eq!(Scheme::of("http://127.0.0.1:4200/g"), Ok(Scheme::Http));
        assert_eq!(Scheme::of("https://example.com"), Ok(Scheme::Https));
        assert_eq!(Scheme::of("HTTPS://example.com/g"), Ok(Scheme::Https));
        assert_eq!(
            Scheme::of("ftp://x").unwrap_err(),
            "unsupported URL scheme `ftp` in ftp://x (http:// and https:// are supported)"
        );
        for (bad, why) in [
            ("not a url", "invalid URL `not a url`"),
            ("/relative", "no scheme"),
            ("", "invalid URL"),
            ("http:///path", "invalid URL"),
        ] {
            let e = Scheme::of(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }
}
