//! One HTTP GET of a JWKS: `http://`, or `https://` with the subgraphs'
//! TLS roots (`tls.subgraph.all`: the web PKI plus configured CAs), over
//! hyper's HTTP/1.1 connection API. Bounded: 10 s for the whole exchange,
//! 1 MiB for the answer.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;

/// The longest a fetch may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The largest JWKS accepted.
const MAX_BYTES: usize = 1 << 20;

/// Checks that `url` is an `http://` or `https://` URL with a host.
pub fn check_url(url: &str) -> Result<url::Url, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!("`{url}` is not an http:// or https:// URL"));
    }
    Ok(parsed)
}

/// GETs `url` and returns a 2xx answer's body.
pub async fn get(url: &str, tls: &Arc<rustls::ClientConfig>) -> Result<Vec<u8>, String> {
    match tokio::time::timeout(TIMEOUT, exchange(url, tls)).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {TIMEOUT:?}")),
    }
}

async fn exchange(url: &str, tls: &Arc<rustls::ClientConfig>) -> Result<Vec<u8>, String> {
    let parsed = check_url(url)?;
    let host = parsed.host_str().unwrap_or_default().to_owned();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let tcp = tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let target = match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_owned(),
    };
    let authority = match parsed.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let request = http::Request::get(target)
        .header(http::header::HOST, authority)
        .header(http::header::ACCEPT, "application/json")
        .body(Empty::<bytes::Bytes>::new())
        .map_err(|e| e.to_string())?;
    if parsed.scheme() == "https" {
        let name = ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
            .map_err(|e| format!("bad server name: {e}"))?;
        let stream = tokio_rustls::TlsConnector::from(tls.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS: {e}"))?;
        send(TokioIo::new(stream), request).await
    } else {
        send(TokioIo::new(tcp), request).await
    }
}

async fn send<S>(io: S, request: http::Request<Empty<bytes::Bytes>>) -> Result<Vec<u8>, String>
where
    S: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let answer = sender
        .send_request(request)
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    let status = answer.status();
    if !status.is_success() {
        return Err(format!("HTTP status {status}"));
    }
    let body = Limited::new(answer.into_body(), MAX_BYTES)
        .collect()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?;
    Ok(body.to_bytes().to_vec())
}
