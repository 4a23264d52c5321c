//! TLS for the tests: a CA, server and client certificates made with
//! rcgen, and subgraph servers on loopback that speak TLS (tokio-rustls)
//! and then HTTP/1.1 or HTTP/2 (hyper), as their ALPN settings say.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Response, Version};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// A certificate and its key, as PEM text.
#[derive(Clone)]
pub struct Pem {
    pub cert: String,
    pub key: String,
}

/// A CA, with a server certificate for `localhost` and `127.0.0.1` and a
/// client certificate, both signed by it.
pub struct Pki {
    /// The CA certificate (PEM).
    pub ca: String,
    pub server: Pem,
    pub client: Pem,
}

impl Pki {
    /// A new CA and its two certificates.
    pub fn new(name: &str) -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, format!("goliath test CA {name}"));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().unwrap();
        let ca = params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(params, ca_key);
        let leaf = |names: Vec<String>, usage: ExtendedKeyUsagePurpose| {
            let mut params = CertificateParams::new(names).unwrap();
            params
                .distinguished_name
                .push(DnType::CommonName, "goliath test");
            params.use_authority_key_identifier_extension = true;
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            params.extended_key_usages = vec![usage];
            let key = KeyPair::generate().unwrap();
            let cert = params.signed_by(&key, &issuer).unwrap();
            Pem {
                cert: cert.pem(),
                key: key.serialize_pem(),
            }
        };
        Pki {
            ca: ca.pem(),
            server: leaf(
                vec!["localhost".into(), "127.0.0.1".into()],
                ExtendedKeyUsagePurpose::ServerAuth,
            ),
            client: leaf(
                vec!["client.goliath.test".into()],
                ExtendedKeyUsagePurpose::ClientAuth,
            ),
        }
    }
}

/// How a TLS subgraph server behaves.
#[derive(Clone)]
pub struct Options {
    /// The ALPN protocols it accepts, most preferred first; `h2` alone
    /// makes an HTTP/2-only server.
    pub alpn: Vec<&'static [u8]>,
    /// Client certificates signed by the PKI's CA are required.
    pub require_client_cert: bool,
    /// Close each connection this long after it was opened, silently
    /// (as a server's idle timeout does).
    pub lifetime: Option<std::time::Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            alpn: vec![b"http/1.1"],
            require_client_cert: false,
            lifetime: None,
        }
    }
}

/// What a TLS subgraph server saw.
#[derive(Clone, Default)]
pub struct Seen {
    /// TLS connections accepted (handshake done).
    pub connections: Arc<AtomicUsize>,
    /// The HTTP version of each request.
    pub versions: Arc<Mutex<Vec<Version>>>,
    /// The headers of each request.
    pub headers: Arc<Mutex<Vec<http::HeaderMap>>>,
}

impl Seen {
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn versions(&self) -> Vec<Version> {
        self.versions.lock().unwrap().clone()
    }

    pub fn headers(&self) -> Vec<http::HeaderMap> {
        self.headers.lock().unwrap().clone()
    }
}

/// A body of these chunks, whose length is not known in advance (chunked
/// over HTTP/1.1, no `content-length` over HTTP/2).
pub struct Chunks(pub VecDeque<Bytes>);

impl Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
    }
}

/// A response from a TLS test server.
pub type TlsResponse = Response<http_body_util::combinators::BoxBody<Bytes, Infallible>>;

/// A `200` JSON response with a `content-length`.
pub fn json(body: impl Into<Bytes>) -> TlsResponse {
    Response::builder()
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(body.into()).boxed())
        .unwrap()
}

/// The rustls server settings for `pki`'s server certificate.
fn server_config(pki: &Pki, options: &Options) -> ServerConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if options.require_client_cert {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(pki.ca.as_bytes()).unwrap())
            .unwrap();
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let chain = vec![CertificateDer::from_pem_slice(pki.server.cert.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(pki.server.key.as_bytes()).unwrap();
    let mut config = builder.with_single_cert(chain, key).unwrap();
    config.alpn_protocols = options.alpn.iter().map(|p| p.to_vec()).collect();
    config
}

/// Serves HTTPS on a fresh loopback port with `pki`'s server certificate:
/// HTTP/2 on connections where ALPN picked `h2`, HTTP/1.1 on the others;
/// every request is answered with `answer(body)`. Returns the URL
/// (`https://localhost:PORT/graphql`) and what the server sees.
pub async fn serve_tls<F, Fut>(pki: &Pki, options: Options, answer: F) -> (String, Seen)
where
    F: Fn(Bytes) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = TlsResponse> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = TlsAcceptor::from(Arc::new(server_config(pki, &options)));
    let seen = Seen::default();
    let server_seen = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (acceptor, answer, seen) = (acceptor.clone(), answer.clone(), server_seen.clone());
            let lifetime = options
                .lifetime
                .unwrap_or(std::time::Duration::from_secs(3600));
            let connection = async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                seen.connections.fetch_add(1, Ordering::SeqCst);
                let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                let service = service_fn(move |req: http::Request<Incoming>| {
                    let (answer, seen) = (answer.clone(), seen.clone());
                    async move {
                        seen.versions.lock().unwrap().push(req.version());
                        seen.headers.lock().unwrap().push(req.headers().clone());
                        let body = req
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        Ok::<_, Infallible>(answer(body).await)
                    }
                });
                let io = TokioIo::new(tls);
                if h2 {
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(io, service)
                        .await;
                } else {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                }
            };
            tokio::spawn(async move {
                let _ = tokio::time::timeout(lifetime, connection).await;
            });
        }
    });
    (format!("https://localhost:{port}/graphql"), seen)
}

/// Serves HTTPS (HTTP/1.1) that reads each request's first bytes, counts
/// the request and closes the connection without answering. Returns the
/// URL and the count.
pub async fn serve_tls_hanging_up(pki: &Pki) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = TlsAcceptor::from(Arc::new(server_config(pki, &Options::default())));
    let requests = Arc::new(AtomicUsize::new(0));
    let count = requests.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (acceptor, count) = (acceptor.clone(), count.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut buf = [0u8; 4096];
                if matches!(tls.read(&mut buf).await, Ok(n) if n > 0) {
                    count.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });
    (format!("https://127.0.0.1:{port}/graphql"), requests)
}
