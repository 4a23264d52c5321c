//! JWT authentication: finding a request's token and verifying it with
//! `jsonwebtoken` against the configured key sets.
//!
//! The checks, in order: the token has three base64url parts and a JSON
//! header (else "malformed"); its `alg` is one config accepts (`none` is
//! never an algorithm, so an unsigned token is malformed); a key with the
//! token's `kid` (or any key, without one) whose own `alg`, or type, fits
//! the token's `alg` (so an `HS256` token cannot be checked against an RSA
//! key's bytes: the algorithm-confusion attack); the signature; then `exp`
//! (required), `nbf`, `iss` and `aud` with the configured leeway.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};

use super::config::{JwtConfig, TokenSource};
use super::jwks::KeySets;

/// The algorithms accepted when config lists none: the asymmetric ones.
const DEFAULT_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Why a token was refused (the message sent with `UNAUTHENTICATED`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

/// Verifies tokens for one config.
pub struct Jwt {
    keys: Arc<KeySets>,
    /// The accepted algorithms, each with its checks (made once).
    validations: Vec<(Algorithm, Validation)>,
    sources: Vec<Source>,
}

/// A [`TokenSource`], checked.
enum Source {
    Header {
        name: http::HeaderName,
        prefix: Option<String>,
    },
    Cookie(String),
}

impl Jwt {
    /// Checks `config` and reads its key files.
    pub fn new(config: &JwtConfig, tls: Arc<rustls::ClientConfig>) -> Result<Jwt, String> {
        if config.jwks.is_empty() {
            return Err(
                "authentication.jwt.jwks: give at least one key set (`url` or `file`)".into(),
            );
        }
        let algorithms = if config.algorithms.is_empty() {
            DEFAULT_ALGORITHMS.to_vec()
        } else {
            config
                .algorithms
                .iter()
                .map(|a| {
                    Algorithm::from_str(a).map_err(|_| {
                        format!(
                            "authentication.jwt.algorithms: `{a}` is not a JWT signing algorithm"
                        )
                    })
                })
                .collect::<Result<_, _>>()?
        };
        let sources = config
            .from
            .iter()
            .enumerate()
            .map(|(i, s)| source(i, s))
            .collect::<Result<_, _>>()?;
        let keys = KeySets::new(&config.jwks, tls)?;
        keys.start();
        Ok(Jwt {
            keys,
            validations: algorithms
                .into_iter()
                .map(|alg| (alg, validation(alg, config)))
                .collect(),
            sources,
        })
    }

    /// The request's token: the first configured place that has one.
    /// `Err` when a header is there but not in the configured form.
    pub fn token<'h>(&self, headers: &'h http::HeaderMap) -> Result<Option<&'h str>, Refused> {
        for source in &self.sources {
            match source {
                Source::Header { name, prefix } => {
                    let Some(value) = headers.get(name) else {
                        continue;
                    };
                    let value = value
                        .to_str()
                        .map_err(|_| Refused(format!("the {name} header is not text")))?
                        .trim();
                    let token = match prefix {
                        None => value,
                        Some(prefix) => {
                            let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
                            if !scheme.eq_ignore_ascii_case(prefix) || rest.trim().is_empty() {
                                return Err(Refused(format!(
                                    "the {name} header is not `{prefix} <token>`"
                                )));
                            }
                            rest.trim()
                        }
                    };
                    return Ok(Some(token));
                }
                Source::Cookie(cookie) => {
                    if let Some(token) = cookie_value(headers, cookie) {
                        return Ok(Some(token));
                    }
                }
            }
        }
        Ok(None)
    }

    /// Verifies `token` and returns its claims.
    pub async fn verify(&self, token: &str) -> Result<Map<String, Value>, Refused> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| Refused(format!("the token is malformed: {e}")))?;
        let Some((_, validation)) = self.validations.iter().find(|(a, _)| *a == header.alg) else {
            return Err(Refused(format!(
                "the token's algorithm {:?} is not accepted",
                header.alg
            )));
        };
        let mut last: Option<Refused> = None;
        let found = self
            .keys
            .with_candidates(header.kid.as_deref(), header.alg, |key| {
                match jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, validation) {
                    Ok(data) => Some(Ok(data.claims)),
                    // Another key with no `kid` may have signed it.
                    Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => {
                        last = Some(Refused("the token's signature is invalid".into()));
                        None
                    }
                    Err(e) => Some(Err(refused(e.kind()))),
                }
            })
            .await;
        match found {
            Some(result) => result,
            None => Err(last.unwrap_or_else(|| match header.kid {
                Some(kid) => Refused(format!("no key for the token's kid `{kid}`")),
                None => Refused("no key fits the token".into()),
            })),
        }
    }
}

/// The checks of a token signed with `alg`: `exp` required, `nbf`, the
/// configured issuers and audiences, the leeway (default 60 s).
fn validation(alg: Algorithm, config: &JwtConfig) -> Validation {
    let mut validation = Validation::new(alg);
    validation.leeway = config.leeway.unwrap_or(Duration::from_secs(60)).as_secs();
    validation.validate_nbf = true;
    if config.issuers.is_empty() {
        validation.iss = None;
    } else {
        validation.set_issuer(&config.issuers);
    }
    if config.audiences.is_empty() {
        validation.validate_aud = false;
    } else {
        validation.set_audience(&config.audiences);
    }
    validation
}

/// The message for a token `jsonwebtoken` refused.
fn refused(kind: &ErrorKind) -> Refused {
    Refused(
        match kind {
            ErrorKind::ExpiredSignature => "the token has expired",
            ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)",
            ErrorKind::InvalidIssuer => "the token's issuer is not accepted",
            ErrorKind::InvalidAudience => "the token's audience is not accepted",
            ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim (exp)",
            ErrorKind::InvalidAlgorithm => "the token's algorithm does not fit the key",
            ErrorKind::InvalidSignature => "the token's signature is invalid",
            _ => "the token is malformed",
        }
        .to_owned(),
    )
}

fn source(i: usize, s: &TokenSource) -> Result<Source, String> {
    match (&s.header, &s.cookie) {
        (Some(name), None) => Ok(Source::Header {
            name: http::HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
                .map_err(|e| format!("authentication.jwt.from[{i}].header: {e}"))?,
            prefix: s.prefix.clone().filter(|p| !p.is_empty()),
        }),
        (None, Some(name)) if s.prefix.is_none() => Ok(Source::Cookie(name.clone())),
        _ => Err(format!(
            "authentication.jwt.from[{i}]: give `header` (and an optional `prefix`) or `cookie`"
        )),
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie_value<'h>(headers: &'h http::HeaderMap, name: &str) -> Option<&'h str> {
    crate::headers::cookies(headers)
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = http::HeaderMap::new();
        h.append(
            http::header::COOKIE,
            "a=1; token=abc.def.ghi".parse().unwrap(),
        );
        assert_eq!(cookie_value(&h, "token"), Some("abc.def.ghi"));
        assert_eq!(cookie_value(&h, "b"), None);
    }
}
