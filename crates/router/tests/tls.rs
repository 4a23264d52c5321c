//! `https://` subgraphs through the router, with real TLS on loopback:
//! a CA and certificates made in the test (`tls/server.rs`), the
//! `products` subgraph served over TLS (HTTP/1.1, or HTTP/2 when ALPN
//! picks it) and `inventory` over plain HTTP, so that one query crosses
//! both paths. Checks the trust settings (`tls.subgraph.all`, per
//! subgraph, `${file...}`), certificate errors, mutual TLS, HTTP/2, the
//! answer cap, compressed answers, requests never sent twice, the
//! subgraphs' `Cache-Control`, and the start-up errors for URLs and TLS
//! settings.

#[allow(dead_code)]
mod support;

#[path = "tls/server.rs"]
mod server;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use goliath_router::config::SubgraphConfig;
use goliath_router::tls::{ClientAuthentication, TlsClientConfig};
use goliath_router::{Config, Pipeline};
use http::{HeaderMap, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

use server::{json, serve_tls, serve_tls_hanging_up, Chunks, Options, Pki, Seen};
use support::{closed_port_url, error_codes, serve_subgraph, start_router, RequestLog};

/// Crosses `products` (over TLS) and `inventory` (plain HTTP, which
/// `@requires` the products' price and weight).
const QUERY: &str = "{ topProducts { name inStock } }";

fn answer() -> Value {
    json!({"data": {"topProducts": [
        {"name": "Table", "inStock": true},
        {"name": "Couch", "inStock": false},
        {"name": "Chair", "inStock": true}
    ]}})
}

/// Serves the `products` subgraph over TLS.
async fn serve_products(pki: &Pki, options: Options) -> (String, Seen) {
    let schema = support::subgraphs::products();
    serve_tls(pki, options, move |body| {
        let schema = schema.clone();
        async move {
            let request: async_graphql::Request = serde_json::from_slice(&body).unwrap();
            json(serde_json::to_vec(&schema.execute(request).await).unwrap())
        }
    })
    .await
}

/// A router with `products` at `products` (and `accounts` at `accounts`,
/// if given), `inventory` on plain HTTP, `reviews` nowhere.
async fn router(products: &str, accounts: Option<&str>, config: &Config) -> SocketAddr {
    let inventory = serve_subgraph(
        "inventory",
        support::subgraphs::inventory(),
        RequestLog::default(),
    )
    .await;
    let closed = closed_port_url().await;
    let urls = support::SubgraphUrls {
        accounts: accounts.unwrap_or(&closed).to_string(),
        inventory,
        products: products.to_string(),
        reviews: closed,
    };
    start_router(&urls.supergraph(), config).await
}

/// POSTs `query` to the router; the status and the JSON body.
async fn post(addr: SocketAddr, query: &str) -> (StatusCode, Value) {
    let (status, _, body) = post_seeing_headers(addr, query).await;
    (status, body)
}

/// [`post`], with the answer's headers.
async fn post_seeing_headers(addr: SocketAddr, query: &str) -> (StatusCode, HeaderMap, Value) {
    let client = Client::builder(TokioExecutor::new()).build_http();
    let body = json!({"query": query}).to_string();
    let request = http::Request::post(format!("http://{addr}/graphql"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let response = client.request(request).await.expect("the router answers");
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, serde_json::from_slice(&bytes).unwrap())
}

/// A config trusting `ca` for every subgraph.
fn trusting(ca: &str) -> Config {
    let mut config = Config::default();
    config.tls.subgraph.all.certificate_authorities = Some(ca.to_string());
    config
}

/// The one error of a failed `products` fetch: its code and message.
fn the_error(body: &Value) -> (String, String) {
    let codes = error_codes(body);
    assert_eq!(codes.len(), 1, "{body:#}");
    let message = body["errors"][0]["message"].as_str().unwrap().to_string();
    (codes[0].clone(), message)
}

#[tokio::test]
async fn a_ca_trusted_for_all_subgraphs_reaches_an_https_subgraph() {
    let pki = Pki::new("a");
    let (url, seen) = serve_products(&pki, Options::default()).await;
    let addr = router(&url, None, &trusting(&pki.ca)).await;
    for _ in 0..3 {
        let (status, body) = post(addr, QUERY).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, answer());
    }
    assert_eq!(seen.connections(), 1, "the connection is pooled");
    let versions = seen.versions();
    assert!(versions.len() >= 3, "{versions:?}");
    assert!(
        versions.iter().all(|v| *v == Version::HTTP_11),
        "{versions:?}"
    );
    for headers in seen.headers() {
        assert_eq!(headers["accept-encoding"], "identity");
        assert_eq!(headers["content-type"], "application/json");
        assert!(headers["host"].to_str().unwrap().starts_with("localhost:"));
    }
}

#[tokio::test]
async fn a_subgraphs_own_ca_from_a_file_replaces_the_one_for_all() {
    let pki = Pki::new("right");
    let other = Pki::new("wrong");
    let dir = tempfile::tempdir().unwrap();
    let (right, wrong) = (dir.path().join("right.pem"), dir.path().join("wrong.pem"));
    std::fs::write(&right, &pki.ca).unwrap();
    std::fs::write(&wrong, &other.ca).unwrap();
    let yaml = format!(
        "tls:\n  subgraph:\n    all:\n      certificate_authorities: \"${{file.{}}}\"\n    subgraphs:\n      products:\n        certificate_authorities: \"${{file.{}}}\"\n",
        wrong.display(),
        right.display()
    );
    let config = Config::from_yaml_str(&yaml).unwrap();
    assert_eq!(
        config.tls.subgraph.subgraphs["products"]
            .certificate_authorities
            .as_deref(),
        Some(pki.ca.as_str()),
        "the file's contents, PEM lines and all"
    );
    let (url, _) = serve_products(&pki, Options::default()).await;
    let addr = router(&url, None, &config).await;
    let (status, body) = post(addr, QUERY).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, answer());
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_subgraph_error() {
    let pki = Pki::new("server");
    let other = Pki::new("other");
    let (url, seen) = serve_products(&pki, Options::default()).await;
    // Another CA, then no CA at all (the web PKI roots only).
    for config in [trusting(&other.ca), Config::default()] {
        let addr = router(&url, None, &config).await;
        let (status, body) = post(addr, QUERY).await;
        assert_eq!(status, StatusCode::OK);
        let (code, message) = the_error(&body);
        assert_eq!(code, "SUBREQUEST_HTTP_ERROR");
        assert!(
            message.starts_with("HTTP fetch failed from 'products': TLS handshake with localhost:"),
            "{message}"
        );
        assert!(
            message.contains("invalid peer certificate: UnknownIssuer"),
            "{message}"
        );
        assert_eq!(body["data"]["topProducts"], Value::Null, "{body:#}");
    }
    assert!(seen.versions().is_empty(), "no request went out");
}

#[tokio::test]
async fn client_certificates_are_presented_when_configured() {
    let pki = Pki::new("mtls");
    let options = Options {
        require_client_cert: true,
        ..Options::default()
    };
    let (url, seen) = serve_products(&pki, options).await;
    let mut config = trusting(&pki.ca);
    config.tls.subgraph.all.client_authentication = Some(ClientAuthentication {
        certificate_chain: pki.client.cert.clone(),
        key: pki.client.key.clone(),
    });
    let addr = router(&url, None, &config).await;
    let (status, body) = post(addr, QUERY).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, answer());
    assert_eq!(seen.versions().len(), 1);
    // Without one, the server refuses the connection.
    let addr = router(&url, None, &trusting(&pki.ca)).await;
    let (status, body) = post(addr, QUERY).await;
    assert_eq!(status, StatusCode::OK);
    let (code, message) = the_error(&body);
    assert_eq!(code, "SUBREQUEST_HTTP_ERROR");
    assert!(
        message.to_lowercase().contains("certificate"),
        "the message says why: {message}"
    );
    assert_eq!(seen.versions().len(), 1, "no request got through");
}

#[tokio::test]
async fn an_http2_only_subgraph_is_reached_over_http2() {
    let pki = Pki::new("h2");
    let options = Options {
        alpn: vec![b"h2"],
        ..Options::default()
    };
    let (url, seen) = serve_products(&pki, options).await;
    let addr = router(&url, None, &trusting(&pki.ca)).await;
    for _ in 0..3 {
        let (status, body) = post(addr, QUERY).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, answer());
    }
    let versions = seen.versions();
    assert!(versions.len() >= 3, "{versions:?}");
    assert!(
        versions.iter().all(|v| *v == Version::HTTP_2),
        "{versions:?}"
    );
    assert_eq!(seen.connections(), 1, "one connection carries them all");
    for headers in seen.headers() {
        assert_eq!(headers["accept-encoding"], "identity");
    }
}

#[tokio::test]
async fn cache_control_is_read_over_https_on_http1_and_http2() {
    for alpn in [&b"http/1.1"[..], &b"h2"[..]] {
        let pki = Pki::new("cache");
        let schema = support::subgraphs::products();
        let options = Options {
            alpn: vec![alpn],
            ..Options::default()
        };
        let (url, seen) = serve_tls(&pki, options, move |body| {
            let schema = schema.clone();
            async move {
                let request: async_graphql::Request = serde_json::from_slice(&body).unwrap();
                let mut answer = json(serde_json::to_vec(&schema.execute(request).await).unwrap());
                let value = http::HeaderValue::from_static("max-age=40, private");
                answer.headers_mut().insert("cache-control", value);
                answer
            }
        })
        .await;
        let mut config = trusting(&pki.ca);
        config.cache_control.enabled = true;
        let addr = router(&url, None, &config).await;
        let (_, headers, _) = post_seeing_headers(addr, "{ topProducts { name } }").await;
        let versions = seen.versions();
        assert_eq!(
            headers["cache-control"], "max-age=40, private",
            "{versions:?}"
        );
    }
}

#[tokio::test]
async fn connections_the_subgraph_closed_are_replaced() {
    let pki = Pki::new("lifetime");
    for alpn in [&b"http/1.1"[..], b"h2"] {
        let options = Options {
            alpn: vec![alpn],
            lifetime: Some(Duration::from_millis(300)),
            ..Options::default()
        };
        let (url, seen) = serve_products(&pki, options).await;
        let addr = router(&url, None, &trusting(&pki.ca)).await;
        for _ in 0..2 {
            let (status, body) = post(addr, QUERY).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body, answer());
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        assert_eq!(seen.connections(), 2, "{:?}", seen.versions());
    }
}

#[tokio::test]
async fn the_answer_cap_applies_over_https() {
    let pki = Pki::new("cap");
    let big = format!("{{\"data\":null,\"pad\":\"{}\"}}", "x".repeat(1000));
    for alpn in [&b"http/1.1"[..], b"h2"] {
        for with_length in [true, false] {
            let options = Options {
                alpn: vec![alpn],
                ..Options::default()
            };
            let big = Bytes::from(big.clone());
            let (url, seen) = serve_tls(&pki, options, move |_| {
                let big = big.clone();
                async move {
                    if with_length {
                        return json(big);
                    }
                    // In pieces, with no length said in advance.
                    let pieces: VecDeque<Bytes> = (0..big.len())
                        .step_by(64)
                        .map(|i| big.slice(i..(i + 64).min(big.len())))
                        .collect();
                    http::Response::builder()
                        .header("content-type", "application/json")
                        .body(Chunks(pieces).boxed())
                        .unwrap()
                }
            })
            .await;
            let mut config = trusting(&pki.ca);
            let products = SubgraphConfig {
                max_response_bytes: Some(100),
                ..SubgraphConfig::default()
            };
            config.subgraphs.insert("products".into(), products);
            let addr = router(&url, None, &config).await;
            let (status, body) = post(addr, QUERY).await;
            assert_eq!(status, StatusCode::OK);
            let (code, message) = the_error(&body);
            let case = format!("{:?} length {with_length}", seen.versions());
            assert_eq!(code, "SUBREQUEST_MALFORMED_RESPONSE", "{case}");
            assert_eq!(
                message,
                "Subgraph 'products' returned an invalid response: the answer is larger than 100 bytes (subgraph max_response_bytes)",
                "{case}"
            );
        }
    }
}

#[tokio::test]
async fn compressed_answers_are_refused_over_https() {
    let pki = Pki::new("gzip");
    let (url, _) = serve_tls(&pki, Options::default(), |_| async {
        http::Response::builder()
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(Full::new(Bytes::from_static(b"\x1f\x8b")).boxed())
            .unwrap()
    })
    .await;
    let addr = router(&url, None, &trusting(&pki.ca)).await;
    let (_, body) = post(addr, QUERY).await;
    let (code, message) = the_error(&body);
    assert_eq!(code, "SUBREQUEST_MALFORMED_RESPONSE");
    assert!(
        message.ends_with("compressed answers (content-encoding: gzip) are not accepted"),
        "{message}"
    );
}

#[tokio::test]
async fn a_request_that_may_have_arrived_is_never_sent_again() {
    let pki = Pki::new("hangup");
    let (accounts, requests) = serve_tls_hanging_up(&pki).await;
    let (products, _) = serve_products(&pki, Options::default()).await;
    let addr = router(&products, Some(&accounts), &trusting(&pki.ca)).await;
    let (_, body) = post(
        addr,
        r#"mutation { updateName(id: "1", name: "X") { name } }"#,
    )
    .await;
    let (code, message) = the_error(&body);
    assert_eq!(code, "SUBREQUEST_HTTP_ERROR");
    assert!(
        message.starts_with("HTTP fetch failed from 'accounts': "),
        "{message}"
    );
    let (_, body) = post(addr, r#"{ me { name } }"#).await;
    assert_eq!(the_error(&body).0, "SUBREQUEST_HTTP_ERROR");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(requests.load(Ordering::SeqCst), 2, "each sent once");
}

#[tokio::test]
async fn unsupported_or_broken_urls_stop_the_pipeline() {
    let closed = closed_port_url().await;
    let urls = |products: &str| support::SubgraphUrls {
        accounts: closed.clone(),
        inventory: closed.clone(),
        products: products.to_string(),
        reviews: closed.clone(),
    };
    let error = |products: &str, config: &Config| {
        Pipeline::new(&urls(products).supergraph(), config)
            .err()
            .expect("refused")
    };
    assert_eq!(
        error("ftp://x/graphql", &Config::default()),
        "subgraph `products`: unsupported URL scheme `ftp` in ftp://x/graphql (http:// and https:// are supported)"
    );
    let e = error("not a url", &Config::default());
    assert!(
        e.starts_with("subgraph `products`: invalid URL `not a url`"),
        "{e}"
    );
    let e = error("/graphql", &Config::default());
    assert!(
        e.starts_with("subgraph `products`: invalid URL `/graphql`: no scheme"),
        "{e}"
    );
    // TLS settings that do not make a client config (a config built in
    // code: loaded ones are checked when loading, below).
    let mut config = Config::default();
    config.tls.subgraph.subgraphs.insert(
        "products".into(),
        TlsClientConfig {
            certificate_authorities: Some("not PEM".into()),
            client_authentication: None,
        },
    );
    assert_eq!(
        error("https://localhost:1/graphql", &config),
        "subgraph `products`: tls.subgraph.subgraphs.products.certificate_authorities: no certificate in the PEM text (expected -----BEGIN CERTIFICATE-----)"
    );
    // Only https:// subgraphs use them.
    assert!(Pipeline::new(&urls(&closed).supergraph(), &config).is_ok());
}

#[test]
fn bad_tls_settings_are_config_errors_naming_the_key() {
    let pki = Pki::new("config");
    let error = |yaml: &str| Config::from_yaml_str(yaml).unwrap_err().to_string();
    let e = error("tls:\n  subgraph:\n    all:\n      certificate_authorities: nonsense\n");
    assert_eq!(
        e,
        "config: tls.subgraph.all.certificate_authorities: no certificate in the PEM text (expected -----BEGIN CERTIFICATE-----)"
    );
    let broken = "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n";
    let e = error(&format!(
        "tls:\n  subgraph:\n    all:\n      certificate_authorities: {}\n",
        serde_json::to_string(broken).unwrap()
    ));
    assert!(
        e.starts_with("config: tls.subgraph.all.certificate_authorities: invalid PEM"),
        "{e}"
    );
    let chain = serde_json::to_string(&pki.client.cert).unwrap();
    let e = error(&format!(
        "tls:\n  subgraph:\n    subgraphs:\n      products:\n        client_authentication:\n          certificate_chain: {chain}\n          key: {chain}\n"
    ));
    assert!(
        e.starts_with(
            "config: tls.subgraph.subgraphs.products.client_authentication.key: no private key"
        ),
        "{e}"
    );
    let e = error("tls:\n  subgraph:\n    all:\n      client_authentication:\n        key: x\n");
    assert!(e.contains("missing field `certificate_chain`"), "{e}");
    let e = error("tls:\n  supergraph: {}\n");
    assert!(
        e.contains("tls.supergraph: unknown field `supergraph`"),
        "{e}"
    );
    let e = error(
        "tls:\n  subgraph:\n    all:\n      certificate_authorities: ${file./nowhere/ca.pem}\n",
    );
    assert!(e.contains("cannot read the file `/nowhere/ca.pem`"), "{e}");
    // A good one loads, and its Debug form leaves the key out.
    let key = serde_json::to_string(&pki.client.key).unwrap();
    let config = Config::from_yaml_str(&format!(
        "tls:\n  subgraph:\n    all:\n      certificate_authorities: {}\n      client_authentication:\n        certificate_chain: {chain}\n        key: {key}\n",
        serde_json::to_string(&pki.ca).unwrap()
    ))
    .unwrap();
    assert!(config.tls.subgraph.all.client_authentication.is_some());
    let debug = format!("{config:?}");
    assert!(!debug.contains("PRIVATE KEY"), "{debug}");
}
