//! JWT authentication (issue 18): tokens signed in the test, a JWKS served
//! on loopback, and the attacks JWT libraries are known for. Each token is
//! sent to a router in front of the test subgraphs and is accepted (200,
//! data) or refused (401, `UNAUTHENTICATED`) as `docs/auth.md` says.
//!
//! The keys in `tests/auth/` are test keys made for these tests
//! (`openssl genpkey`), never used anywhere else.

#[allow(dead_code)]
mod support;

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use goliath_router::auth::config::{JwksSource, JwtConfig, TokenSource};
use goliath_router::Config;
use http::{Method, StatusCode};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use support::{respond, serve_fn, start_router, start_subgraphs, RequestLog};

const RSA1: &str = include_str!("auth/rsa1.key.pem");
const RSA1_PUBLIC: &str = include_str!("auth/rsa1.pub.pem");
const RSA2: &str = include_str!("auth/rsa2.key.pem");
const EC1: &str = include_str!("auth/ec1.key.pem");

const ISSUER: &str = "https://idp.test/";
const AUDIENCE: &str = "goliath";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A public JWK for the private key `pem` with `kid`.
fn jwk(pem: &str, alg: Algorithm, kid: &str) -> Jwk {
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    };
    let mut jwk = Jwk::from_encoding_key(&key, alg).unwrap();
    jwk.common.key_id = Some(kid.into());
    jwk
}

/// A token signed with `pem` (`alg`), header `kid`, and `claims`.
fn sign(pem: &str, alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    };
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

/// Claims valid for an hour, from the right issuer for the right audience.
fn claims() -> Value {
    json!({
        "sub": "user-1",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": now() + 3600,
        "iat": now(),
        "scope": "read:reviews",
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

/// A JWKS server whose key set the test can replace; its URL.
async fn jwks_server(keys: Arc<Mutex<JwkSet>>) -> String {
    serve_fn(move |_, _| {
        let keys = keys.clone();
        async move {
            let body = serde_json::to_string(&*keys.lock().unwrap()).unwrap();
            respond(200, "application/json", body)
        }
    })
    .await
}

struct Fixture {
    graph: support::TestGraph,
}

impl Fixture {
    /// The test subgraphs behind a router checking tokens against a JWKS
    /// at `jwks_url`, with `configure` applied to the JWT settings.
    async fn start(jwks_url: &str, configure: impl FnOnce(&mut JwtConfig)) -> Fixture {
        let mut jwt = JwtConfig {
            jwks: vec![JwksSource {
                url: Some(jwks_url.to_owned()),
                ..Default::default()
            }],
            issuers: vec![ISSUER.into()],
            audiences: vec![AUDIENCE.into()],
            ..Default::default()
        };
        configure(&mut jwt);
        let graph = support::TestGraph::start_with(|c: &mut Config| {
            c.authentication.jwt = Some(jwt);
        })
        .await;
        Fixture { graph }
    }

    /// `{ me { name } }` with `headers`: the status and the body.
    async fn ask(&self, headers: &[(&str, &str)]) -> (StatusCode, Value) {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        let body = serde_json::to_vec(&json!({"query": "{ me { name } }"})).unwrap();
        let (status, _, body) = self.graph.send(Method::POST, "/graphql", &all, body).await;
        (status, body)
    }

    async fn with_token(&self, token: &str) -> (StatusCode, Value) {
        self.ask(&[("authorization", &format!("Bearer {token}"))])
            .await
    }
}

fn assert_accepted((status, body): (StatusCode, Value)) {
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["data"]["me"]["name"], "Ada Lovelace", "{body:#}");
}

fn assert_refused((status, body): (StatusCode, Value), why: &str) {
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body:#}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{body:#}"
    );
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains(why), "expected {why:?} in {message:?}");
    assert!(body.get("data").is_none(), "{body:#}");
}

fn key_set(keys: Vec<Jwk>) -> Arc<Mutex<JwkSet>> {
    Arc::new(Mutex::new(JwkSet { keys }))
}

#[tokio::test]
async fn valid_expired_and_not_yet_valid_tokens() {
    let keys = key_set(vec![
        jwk(RSA1, Algorithm::RS256, "rsa1"),
        jwk(EC1, Algorithm::ES256, "ec1"),
    ]);
    let f = Fixture::start(&jwks_server(keys).await, |_| {}).await;
    assert_accepted(
        f.with_token(&sign(RSA1, Algorithm::RS256, Some("rsa1"), &claims()))
            .await,
    );
    assert_accepted(
        f.with_token(&sign(EC1, Algorithm::ES256, Some("ec1"), &claims()))
            .await,
    );
    // Expired an hour ago; within the leeway (60 s) still good.
    let expired = with(claims(), "exp", json!(now() - 3600));
    assert_refused(
        f.with_token(&sign(RSA1, Algorithm::RS256, Some("rsa1"), &expired))
            .await,
        "expired",
    );
    let just_expired = with(claims(), "exp", json!(now() - 10));
    assert_accepted(
        f.with_token(&sign(RSA1, Algorithm::RS256, Some("rsa1"), &just_expired))
            .await,
    );
    // Not valid for another hour.
    let early = with(claims(), "nbf", json!(now() + 3600));
    assert_refused(
        f.with_token(&sign(RSA1, Algorithm::RS256, Some("rsa1"), &early))
            .await,
        "not valid yet",
    );
    // No `exp` at all.
    let mut forever = claims();
    forever.as_object_mut().unwrap().remove("exp");
    assert_refused(
        f.with_token(&sign(RSA1, Algorithm::RS256, Some("rsa1"), &forever))
            .await,
        "exp",
    );
    // Without a token: anonymous, and the query runs.
    assert_accepted(f.ask(&[]).await);
}

#[tokio::test]
async fn wrong_issuer_and_wrong_audience() {
    let keys = key_set(vec![jwk(RSA1, Algorithm::RS256, "rsa1")]);
    let f = Fixture::start(&jwks_server(keys).await, |_| {}).await;
    let issuer = with(claims(), "iss", json!("https://evil.test/"));
    assert_refused(
        f.with_token(&sign(RSA1, Algorithm::RS256, Some("rsa1"), &issuer))
            .await,
        "issuer",
    );
    let audience = with(claims(), "aud", json!("someone-else"));
    assert_refused(
        f.with_token(&sign(RSA1, Algorithm::RS256, Some("rsa1"), &audience))
            .await,
        "audience",
    );
    // One of several audiences is enough.
    let audiences = with(claims(), "aud", json!(["other", AUDIENCE]));
    assert_accepted(
        f.with_token(&sign(RSA1, Algorithm::RS256, Some("rsa1"), &audiences))
            .await,
    );
}

#[tokio::test]
async fn an_unknown_kid_then_a_jwks_rotation() {
    let keys = key_set(vec![jwk(RSA1, Algorithm::RS256, "rsa1")]);
    let f = Fixture::start(&jwks_server(keys.clone()).await, |_| {}).await;
    let token = sign(RSA2, Algorithm::RS256, Some("rsa2"), &claims());
    assert_refused(
        f.with_token(&token).await,
        "no key for the token's kid `rsa2`",
    );
    // A token naming a known kid but signed by another key.
    let forged = sign(RSA2, Algorithm::RS256, Some("rsa1"), &claims());
    assert_refused(f.with_token(&forged).await, "signature");
    // The identity provider rotates: rsa2 joins the set. The router fetches
    // again for the unknown kid (at most once a second).
    keys.lock()
        .unwrap()
        .keys
        .push(jwk(RSA2, Algorithm::RS256, "rsa2"));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_accepted(f.with_token(&token).await);
    // rsa1 leaves the set; the router keeps what it has until it polls.
    keys.lock().unwrap().keys.remove(0);
    assert_accepted(
        f.with_token(&sign(RSA1, Algorithm::RS256, Some("rsa1"), &claims()))
            .await,
    );
}

#[tokio::test]
async fn polling_drops_a_key_the_set_no_longer_holds() {
    let keys = key_set(vec![jwk(RSA1, Algorithm::RS256, "rsa1")]);
    let f = Fixture::start(&jwks_server(keys.clone()).await, |jwt| {
        jwt.jwks[0].poll_interval = Some(std::time::Duration::from_secs(1));
    })
    .await;
    let token = sign(RSA1, Algorithm::RS256, Some("rsa1"), &claims());
    assert_accepted(f.with_token(&token).await);
    // The identity provider replaces rsa1 with rsa2; the next poll sees it.
    keys.lock().unwrap().keys = vec![jwk(RSA2, Algorithm::RS256, "rsa2")];
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    assert_refused(
        f.with_token(&token).await,
        "no key for the token's kid `rsa1`",
    );
    let rsa2 = sign(RSA2, Algorithm::RS256, Some("rsa2"), &claims());
    assert_accepted(f.with_token(&rsa2).await);
}

#[tokio::test]
async fn alg_none_and_algorithm_confusion_are_refused() {
    let keys = key_set(vec![jwk(RSA1, Algorithm::RS256, "rsa1")]);
    let url = jwks_server(keys).await;
    let f = Fixture::start(&url, |_| {}).await;
    let b64 = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };
    // `alg: none`, no signature (and with an empty one, and one copied).
    let none_header = json!({"alg": "none", "typ": "JWT", "kid": "rsa1"});
    let unsigned = format!("{}.{}.", b64(&none_header), b64(&claims()));
    assert_refused(f.with_token(&unsigned).await, "malformed");
    let none_cased = json!({"alg": "None", "typ": "JWT"});
    assert_refused(
        f.with_token(&format!("{}.{}.", b64(&none_cased), b64(&claims())))
            .await,
        "malformed",
    );
    // HS256 signed with the RSA public key's PEM bytes as the HMAC secret:
    // refused whether HS256 is configured or not.
    let hs = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("rsa1".into());
        let key = EncodingKey::from_secret(RSA1_PUBLIC.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, &claims(), &key).unwrap()
    };
    assert_refused(f.with_token(&hs).await, "algorithm");
    let lenient = Fixture::start(&url, |jwt| {
        jwt.algorithms = vec!["RS256".into(), "HS256".into()];
    })
    .await;
    assert_refused(lenient.with_token(&hs).await, "no key");
    assert_accepted(
        lenient
            .with_token(&sign(RSA1, Algorithm::RS256, Some("rsa1"), &claims()))
            .await,
    );
    // Only ES256 accepted: an RS256 token is refused for its algorithm.
    let strict = Fixture::start(&url, |jwt| jwt.algorithms = vec!["ES256".into()]).await;
    assert_refused(
        strict
            .with_token(&sign(RSA1, Algorithm::RS256, Some("rsa1"), &claims()))
            .await,
        "algorithm",
    );
}

#[tokio::test]
async fn malformed_tokens_and_headers() {
    let keys = key_set(vec![jwk(RSA1, Algorithm::RS256, "rsa1")]);
    let f = Fixture::start(&jwks_server(keys).await, |_| {}).await;
    for bad in ["not-a-token", "a.b.c", "e30.e30.e30", ".."] {
        assert_refused(f.with_token(bad).await, "malformed");
    }
    // A good header over garbage: no key's signature fits.
    assert_refused(
        f.with_token("eyJhbGciOiJSUzI1NiJ9.%%%.sig").await,
        "signature",
    );
    // A valid token with its payload swapped: the signature no longer fits.
    let good = sign(RSA1, Algorithm::RS256, Some("rsa1"), &claims());
    let parts: Vec<&str> = good.split('.').collect();
    let admin = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&with(claims(), "scope", json!("admin"))).unwrap());
    let swapped = format!("{}.{}.{}", parts[0], admin, parts[2]);
    assert_refused(f.with_token(&swapped).await, "signature");
    // The header without the scheme, or with another one.
    assert_refused(f.ask(&[("authorization", &good)]).await, "Bearer");
    assert_refused(
        f.ask(&[("authorization", &format!("Basic {good}"))]).await,
        "Bearer",
    );
    // The scheme is case-insensitive.
    assert_accepted(f.ask(&[("authorization", &format!("bearer {good}"))]).await);
}

#[tokio::test]
async fn a_token_from_a_cookie_and_required_authentication() {
    let keys = key_set(vec![jwk(RSA1, Algorithm::RS256, "rsa1")]);
    let f = Fixture::start(&jwks_server(keys).await, |jwt| {
        jwt.from = vec![TokenSource {
            cookie: Some("session".into()),
            ..Default::default()
        }];
        jwt.require_authentication = true;
    })
    .await;
    let good = sign(RSA1, Algorithm::RS256, Some("rsa1"), &claims());
    assert_accepted(
        f.ask(&[("cookie", &format!("theme=dark; session={good}"))])
            .await,
    );
    let expired = sign(
        RSA1,
        Algorithm::RS256,
        Some("rsa1"),
        &with(claims(), "exp", json!(now() - 3600)),
    );
    assert_refused(
        f.ask(&[("cookie", &format!("session={expired}"))]).await,
        "expired",
    );
    // Required: no cookie is refused; a bearer header is not looked at.
    assert_refused(f.ask(&[]).await, "no token");
    assert_refused(f.with_token(&good).await, "no token");
}

#[tokio::test]
async fn keys_from_a_file_and_claims_forwarded_to_subgraphs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwks.json");
    let set = JwkSet {
        keys: vec![jwk(EC1, Algorithm::ES256, "ec1")],
    };
    std::fs::write(&path, serde_json::to_string(&set).unwrap()).unwrap();
    let log = RequestLog::default();
    let subgraphs = start_subgraphs(&log).await;
    // The accounts subgraph, keeping each request's headers and body.
    type Seen = Arc<Mutex<Vec<(http::HeaderMap, Value)>>>;
    let seen: Seen = Arc::default();
    let schema = support::subgraphs::accounts("");
    let kept = seen.clone();
    let accounts = support::serve_fn_with_headers(move |_, headers, body| {
        let (schema, kept) = (schema.clone(), kept.clone());
        async move {
            let json: Value = serde_json::from_slice(&body).unwrap();
            kept.lock().unwrap().push((headers, json));
            let request: async_graphql::Request = serde_json::from_slice(&body).unwrap();
            let answer = serde_json::to_vec(&schema.execute(request).await).unwrap();
            respond(200, "application/json", answer)
        }
    })
    .await;
    let supergraph = subgraphs
        .supergraph()
        .replace(&subgraphs.accounts, &accounts);
    let mut config = Config::default();
    config.authentication.jwt = Some(JwtConfig {
        jwks: vec![JwksSource {
            file: Some(path.clone()),
            ..Default::default()
        }],
        forward_claims: goliath_router::auth::config::ForwardClaims {
            header: Some("x-claims".into()),
            extensions: Some("claims".into()),
        },
        ..Default::default()
    });
    let addr = start_router(&supergraph, &config).await;
    let token = sign(
        EC1,
        Algorithm::ES256,
        Some("ec1"),
        &with(claims(), "name", json!("Zoë")),
    );
    let answer = support::raw_http(
        addr,
        format!(
            "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nauthorization: Bearer {token}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
            r#"{"query":"{ me { name } }"}"#.len(),
            r#"{"query":"{ me { name } }"}"#
        )
        .as_bytes(),
    )
    .await;
    assert!(answer.contains("Ada Lovelace"), "{answer}");
    let (headers, body) = seen.lock().unwrap()[0].clone();
    let forwarded = headers
        .get("x-claims")
        .expect("the claims header reached the accounts subgraph");
    let claims: Value = serde_json::from_str(forwarded.to_str().unwrap()).unwrap();
    assert_eq!(claims["sub"], "user-1");
    assert_eq!(claims["name"], "Zoë");
    assert_eq!(body["extensions"]["claims"], claims, "{body:#}");
    // A bad file fails the config.
    std::fs::write(&path, "{\"nope\": 1}").unwrap();
    let error = goliath_router::Pipeline::new(&supergraph, &config)
        .err()
        .unwrap();
    assert!(error.contains("jwks[0].file"), "{error}");
}
