//! The `https://` path: TLS with rustls, then HTTP/2 when the subgraph
//! picks it over ALPN (the client offers `h2` and `http/1.1`), else
//! HTTP/1.1. `http://` subgraphs never come here (see [`super`]).
//!
//! It is built on tokio-rustls and hyper's connection API
//! (`hyper::client::conn::{http1, http2}`), with pools of its own, rather
//! than on hyper-util's pooled client with hyper-rustls, because:
//!
//! - the pools are per thread, as the plain path's are: a connection's
//!   task runs on the worker thread whose requests use it, with no lock
//!   and no wake-up across threads (hyper-util's pool is one per client,
//!   behind a mutex, and a connection serves whichever thread finds it);
//! - [`Resend`] is decided per request: hyper hands a request back when it
//!   never started writing it (`try_send_request`), and only then may a
//!   query go again, on a new connection; a mutation never does. With
//!   hyper-util, `retry_canceled_requests` is one switch per client, so
//!   queries and mutations would need two clients and two pools.
//!
//! The guarantees are the plain path's: `accept-encoding: identity` and
//! compressed answers (or transfer codings other than `chunked`) refused;
//! the body read through [`Limited`], so no more than
//! `max_response_bytes` of it is ever buffered (a `content-length` past
//! the cap is refused before any of it is read); the head is bounded by
//! hyper (64 KiB of header list over HTTP/2; hyper's own buffer limit over
//! HTTP/1.1) and does not count towards the cap. The caller's timeout
//! covers the handshake and the whole exchange.
//!
//! Connections: HTTP/1.1 ones are pooled like the plain path's (up to
//! `MAX_IDLE` idle per thread, none kept longer than `IDLE_TIMEOUT`); one
//! HTTP/2 connection per subgraph and thread carries every request of
//! that thread at once (streams), and is replaced when it closes or has
//! not been used for `IDLE_TIMEOUT`.

use std::cell::RefCell;
use std::error::Error as StdError;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Instant;

use bytes::Bytes;
use http::header::{
    ACCEPT, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, HOST, TRANSFER_ENCODING,
};
use http::{HeaderMap, HeaderValue, Method, Request, Response, Uri, Version};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body, Incoming};
use hyper::client::conn::{http1, http2, TrySendError};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustc_hash::FxHashMap;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::{finish, h1, FetchError, Reply, Resend, IDLE_TIMEOUT, MAX_IDLE};
use crate::cache_control::CacheControl;

/// The largest header list accepted in an HTTP/2 answer (the plain path
/// refuses heads over 64 KB too).
const MAX_HEADER_LIST: u32 = 64 * 1024;

/// Gives each [`TlsOrigin`] its own pools.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// An `https://` subgraph URL, ready to be connected to: where to connect,
/// the name its certificate must carry, the TLS settings (with the ALPN
/// protocols set here) and the request targets. Built once per endpoint
/// (see [`crate::SubgraphEndpoint::tls`]); its connections are pooled per
/// thread.
pub struct TlsOrigin {
    /// Identifies this origin's pools (a new config gets new pools).
    id: u64,
    connector: TlsConnector,
    server_name: ServerName<'static>,
    /// `host:port` to connect to.
    authority: Box<str>,
    /// The `host` header of HTTP/1.1 requests.
    host: HeaderValue,
    /// The target of HTTP/1.1 requests (`/path?query`).
    origin_form: Uri,
    /// The target of HTTP/2 requests (`https://host:port/path?query`).
    absolute: Uri,
}

impl fmt::Debug for TlsOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsOrigin")
            .field("authority", &self.authority)
            .field("target", &self.absolute)
            .finish_non_exhaustive()
    }
}

impl TlsOrigin {
    /// The origin of `url` (`https://host[:port][/path]`), reached with
    /// `config`'s roots and client certificate. The ALPN protocols are
    /// this client's own (`h2`, `http/1.1`), whatever `config` says.
    pub fn new(url: &str, config: &rustls::ClientConfig) -> Result<TlsOrigin, String> {
        let uri: Uri = url
            .parse()
            .map_err(|e| format!("invalid URL `{url}`: {e}"))?;
        if uri.scheme_str() != Some("https") {
            return Err(format!("`{url}` is not an https:// URL"));
        }
        let authority = uri
            .authority()
            .filter(|a| !a.host().is_empty())
            .ok_or_else(|| format!("invalid URL `{url}`: no host"))?;
        let host = authority.host();
        let port = authority.port_u16().unwrap_or(443);
        let name = host.trim_start_matches('[').trim_end_matches(']');
        let server_name = ServerName::try_from(name.to_owned())
            .map_err(|e| format!("invalid URL `{url}`: `{name}` is not a host name: {e}"))?;
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let path = if path.is_empty() { "/" } else { path };
        let bad = |e: &dyn fmt::Display| format!("invalid URL `{url}`: {e}");
        let origin_form: Uri = path.parse().map_err(|e| bad(&e))?;
        let absolute = Uri::builder()
            .scheme("https")
            .authority(authority.clone())
            .path_and_query(path)
            .build()
            .map_err(|e| bad(&e))?;
        let host_header = HeaderValue::from_str(authority.as_str()).map_err(|e| bad(&e))?;
        let mut config = config.clone();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsOrigin {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            connector: TlsConnector::from(Arc::new(config)),
            server_name,
            authority: format!("{host}:{port}").into(),
            host: host_header,
            origin_form,
            absolute,
        })
    }

    /// The request for `body` with the fixed headers, then `headers`.
    fn request(&self, h2: bool, headers: &HeaderMap, body: Bytes) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = Method::POST;
        if h2 {
            *request.uri_mut() = self.absolute.clone();
            *request.version_mut() = Version::HTTP_2;
        } else {
            *request.uri_mut() = self.origin_form.clone();
        }
        let fixed = request.headers_mut();
        if !h2 {
            fixed.insert(HOST, self.host.clone());
        }
        let json = HeaderValue::from_static("application/json");
        fixed.insert(CONTENT_TYPE, json.clone());
        fixed.insert(ACCEPT, json);
        fixed.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        for (name, value) in headers {
            fixed.append(name.clone(), value.clone());
        }
        request
    }
}

/// A connection to send a request on.
enum Conn {
    H1(http1::SendRequest<Full<Bytes>>),
    H2(http2::SendRequest<Full<Bytes>>),
}

type Sent = Result<Response<Incoming>, TrySendError<Request<Full<Bytes>>>>;

impl Conn {
    fn is_h2(&self) -> bool {
        matches!(self, Conn::H2(_))
    }

    /// Waits until the connection can take a request; an error when it
    /// has closed.
    async fn ready(&mut self) -> hyper::Result<()> {
        match self {
            Conn::H1(c) => c.ready().await,
            Conn::H2(c) => c.ready().await,
        }
    }

    async fn send(&mut self, request: Request<Full<Bytes>>) -> Sent {
        match self {
            Conn::H1(c) => c.try_send_request(request).await,
            Conn::H2(c) => c.try_send_request(request).await,
        }
    }
}

/// One origin's connections on one thread.
struct Pool {
    /// The origin, to drop the pools of origins nobody uses any more.
    owner: Weak<TlsOrigin>,
    /// The HTTP/2 connection and when it was last used.
    h2: Option<(http2::SendRequest<Full<Bytes>>, Instant)>,
    /// Idle HTTP/1.1 connections and when they became idle; the most
    /// recent last.
    h1: Vec<(http1::SendRequest<Full<Bytes>>, Instant)>,
}

thread_local! {
    /// This thread's pools, by [`TlsOrigin`] id.
    static POOLS: RefCell<FxHashMap<u64, Pool>> = RefCell::default();
}

/// A pooled connection that is still open, if there is one.
fn checkout(origin: &TlsOrigin) -> Option<Conn> {
    POOLS.with(|pools| {
        let mut pools = pools.borrow_mut();
        let pool = pools.get_mut(&origin.id)?;
        if let Some((conn, since)) = &pool.h2 {
            if !conn.is_closed() && since.elapsed() <= IDLE_TIMEOUT {
                return Some(Conn::H2(conn.clone()));
            }
            pool.h2 = None;
        }
        while let Some((conn, since)) = pool.h1.pop() {
            if since.elapsed() <= IDLE_TIMEOUT && conn.is_ready() {
                return Some(Conn::H1(conn));
            }
        }
        None
    })
}

/// Keeps `conn` for the next requests to `origin` on this thread.
fn checkin(origin: &Arc<TlsOrigin>, conn: Conn) {
    POOLS.with(|pools| {
        let mut pools = pools.borrow_mut();
        if !pools.contains_key(&origin.id) {
            // A new origin on this thread (start-up, or a reloaded config):
            // the pools of the origins it replaced go, with their
            // connections.
            pools.retain(|_, p| p.owner.strong_count() > 0);
        }
        let pool = pools.entry(origin.id).or_insert_with(|| Pool {
            owner: Arc::downgrade(origin),
            h2: None,
            h1: vec![],
        });
        let now = Instant::now();
        match conn {
            Conn::H2(conn) => pool.h2 = Some((conn, now)),
            Conn::H1(conn) => {
                if pool.h1.len() < MAX_IDLE {
                    pool.h1.push((conn, now));
                }
            }
        }
    })
}

/// POSTs `body` to `origin` and reads an answer whose body is at most
/// `max` bytes. A request goes a second time only if `resend` allows it,
/// only when it went to a pooled connection and hyper gave it back
/// unwritten, and only once, on a new connection.
pub(crate) async fn post(
    origin: &Arc<TlsOrigin>,
    headers: &HeaderMap,
    body: Vec<u8>,
    max: usize,
    resend: Resend,
    cache_control: bool,
) -> Result<Reply, FetchError> {
    let body = Bytes::from(body);
    let (mut conn, mut reused) = match checkout(origin) {
        Some(conn) => (conn, true),
        None => (connect(origin).await?, false),
    };
    loop {
        if let Err(e) = conn.ready().await {
            if reused {
                // Closed while idle: nothing was sent on it.
                conn = connect(origin).await?;
                reused = false;
                continue;
            }
            return Err(FetchError::Transport(format!(
                "connection closed before the request was sent: {}",
                chain(&e)
            )));
        }
        let request = origin.request(conn.is_h2(), headers, body.clone());
        let response = match conn.send(request).await {
            Ok(response) => response,
            Err(e) if e.message().is_some() => {
                // Handed back unwritten: the subgraph never saw it.
                if reused && resend == Resend::IfUnsent {
                    conn = connect(origin).await?;
                    reused = false;
                    continue;
                }
                return Err(FetchError::Transport(format!(
                    "error sending the request: {}",
                    chain(e.error())
                )));
            }
            Err(e) => return Err(FetchError::Transport(chain(e.error()))),
        };
        let (head, body) = response.into_parts();
        check_head(&head, &body, max)?;
        let body = read_body(body, max).await?;
        checkin(origin, conn);
        let cache_control = cache_control.then(|| {
            let values = head.headers.get_all(http::header::CACHE_CONTROL);
            CacheControl::parse(values.iter().map(HeaderValue::as_bytes))
        });
        return finish(head.status.as_u16(), body, cache_control);
    }
}

/// Connects to `origin`: TCP, the TLS handshake (certificates checked),
/// then HTTP/2 if ALPN picked it, else HTTP/1.1. The connection's task is
/// spawned on the current runtime; an HTTP/2 connection is pooled at once,
/// so that the thread's next requests share it.
async fn connect(origin: &Arc<TlsOrigin>) -> Result<Conn, FetchError> {
    let tcp = TcpStream::connect(&*origin.authority)
        .await
        .map_err(|e| FetchError::Transport(format!("error trying to connect: {e}")))?;
    // Requests are written whole; waiting for more bytes only adds latency.
    let _ = tcp.set_nodelay(true);
    let tls = origin
        .connector
        .connect(origin.server_name.clone(), tcp)
        .await
        .map_err(|e| {
            FetchError::Transport(format!(
                "TLS handshake with {} failed: {}",
                origin.authority,
                chain(&e)
            ))
        })?;
    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
    let io = TokioIo::new(tls);
    let failed = |e: hyper::Error| {
        FetchError::Transport(format!(
            "HTTP handshake with {} failed: {}",
            origin.authority,
            chain(&e)
        ))
    };
    if h2 {
        let (sender, conn) = http2::Builder::new(TokioExecutor::new())
            .max_header_list_size(MAX_HEADER_LIST)
            .handshake(io)
            .await
            .map_err(failed)?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        checkin(origin, Conn::H2(sender.clone()));
        Ok(Conn::H2(sender))
    } else {
        let (sender, conn) = http1::Builder::new().handshake(io).await.map_err(failed)?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn::H1(sender))
    }
}

/// Refuses an answer from its head: compressed, a transfer coding other
/// than `chunked`, or a body that says it is larger than `max`.
fn check_head(head: &http::response::Parts, body: &Incoming, max: usize) -> Result<(), FetchError> {
    let malformed = |why| Err(FetchError::Malformed(why));
    let bodiless = matches!(head.status.as_u16(), 204 | 304);
    for value in head.headers.get_all(CONTENT_ENCODING) {
        let identity = value
            .as_bytes()
            .split(|&b| b == b',')
            .map(<[u8]>::trim_ascii)
            .all(|c| c.is_empty() || c.eq_ignore_ascii_case(b"identity"));
        if !identity && !bodiless {
            return malformed(h1::compressed_message(&h1::quoted(value.as_bytes())));
        }
    }
    let mut chunked = false;
    for value in head.headers.get_all(TRANSFER_ENCODING) {
        for coding in value
            .as_bytes()
            .split(|&b| b == b',')
            .map(<[u8]>::trim_ascii)
        {
            if coding.is_empty() {
                continue;
            }
            if chunked || !coding.eq_ignore_ascii_case(b"chunked") {
                return malformed(h1::transfer_encoding_message(&h1::quoted(value.as_bytes())));
            }
            chunked = true;
        }
    }
    // Refused from the head alone: nothing is read of a body that says
    // it is over the cap.
    if body.size_hint().lower() > max as u64 {
        return malformed(h1::too_large_message(max));
    }
    Ok(())
}

/// Reads the body, up to `max` bytes: past that, the answer is refused
/// and what was read of it dropped.
async fn read_body(body: Incoming, max: usize) -> Result<Bytes, FetchError> {
    match Limited::new(body, max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => {
            Err(FetchError::Malformed(h1::too_large_message(max)))
        }
        Err(e) => Err(FetchError::Transport(format!(
            "error reading the answer: {}",
            chain(&*e)
        ))),
    }
}

/// An error and its sources, as one line: hyper's errors say what failed
/// (`connection error`) and their sources why (`received fatal alert:
/// CertificateRequired`).
fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let why = inner.to_string();
        if !text.contains(&why) {
            text.push_str(": ");
            text.push_str(&why);
        }
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> rustls::ClientConfig {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth()
    }

    #[test]
    fn urls_become_targets() {
        let o = TlsOrigin::new("https://127.0.0.1:4200/reviews?x=1", &config()).unwrap();
        assert_eq!(&*o.authority, "127.0.0.1:4200");
        assert_eq!(o.origin_form, "/reviews?x=1");
        assert_eq!(o.absolute, "https://127.0.0.1:4200/reviews?x=1");
        assert_eq!(o.host, "127.0.0.1:4200");
        assert!(matches!(o.server_name, ServerName::IpAddress(_)));
        let o = TlsOrigin::new("https://example.com", &config()).unwrap();
        assert_eq!(&*o.authority, "example.com:443");
        assert_eq!(o.origin_form, "/");
        assert_eq!(o.server_name, ServerName::try_from("example.com").unwrap());
        let o = TlsOrigin::new("https://[::1]:8443/g", &config()).unwrap();
        assert_eq!(&*o.authority, "[::1]:8443");
        assert!(matches!(o.server_name, ServerName::IpAddress(_)));
        assert_ne!(
            TlsOrigin::new("https://a/", &config()).unwrap().id,
            TlsOrigin::new("https://a/", &config()).unwrap().id,
            "each origin has pools of its own"
        );
        for bad in ["http://example.com", "not a url", "/relative", "https:///x"] {
            assert!(TlsOrigin::new(bad, &config()).is_err(), "{bad}");
        }
    }

    #[test]
    fn requests_carry_the_fixed_headers_then_the_callers() {
        let o = TlsOrigin::new("https://example.com/graphql", &config()).unwrap();
        let mut extra = HeaderMap::new();
        extra.insert("x-trace", HeaderValue::from_static("1"));
        let r = o.request(false, &extra, Bytes::from_static(b"{}"));
        assert_eq!(r.uri(), "/graphql");
        assert_eq!(r.version(), Version::HTTP_11);
        assert_eq!(r.headers()[HOST], "example.com");
        assert_eq!(r.headers()[ACCEPT_ENCODING], "identity");
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(r.headers()["x-trace"], "1");
        let r = o.request(true, &extra, Bytes::from_static(b"{}"));
        assert_eq!(r.uri(), "https://example.com/graphql");
        assert_eq!(r.version(), Version::HTTP_2);
        assert!(r.headers().get(HOST).is_none());
    }
}
