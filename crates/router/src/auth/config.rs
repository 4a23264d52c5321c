//! The `authentication:` and `authorization:` config sections.
//!
//! ```yaml
//! authentication:
//!   jwt:
//!     jwks:
//!       - url: https://idp.example.com/.well-known/jwks.json
//!         poll_interval: 5m
//!       - file: keys/jwks.json
//!     issuers: [https://idp.example.com/]
//!     audiences: [goliath]
//!     algorithms: [RS256, ES256]
//!     from:
//!       - header: Authorization
//!         prefix: Bearer
//!       - cookie: session
//!     leeway: 60s
//!     require_authentication: false
//!     forward_claims:
//!       header: x-goliath-claims
//!       extensions: claims
//! authorization:
//!   mode: filter          # or reject
//!   dry_run: false
//!   scopes_claim: scope
//!   policies:
//!     teacher: 'claims.role == "teacher"'
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::config::duration;

/// `authentication:`: how requests prove who they are.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthenticationConfig {
    /// JWT bearer tokens checked against JSON Web Key Sets (off when
    /// absent).
    pub jwt: Option<JwtConfig>,
}

/// `authentication.jwt:`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JwtConfig {
    /// Where the verification keys come from: URLs (fetched at start,
    /// polled, and fetched again when a token names an unknown `kid`) and
    /// files.
    pub jwks: Vec<JwksSource>,
    /// Accepted `iss` values; empty accepts any (and a token without one).
    pub issuers: Vec<String>,
    /// Accepted `aud` values (one must match); empty accepts any.
    pub audiences: Vec<String>,
    /// Accepted `alg` values (default: the asymmetric ones, RS256 RS384
    /// RS512 PS256 PS384 PS512 ES256 ES384 EdDSA). `HS*` only when listed,
    /// and then only with `oct` keys.
    pub algorithms: Vec<String>,
    /// Where the token is looked for, in order (default: the
    /// `Authorization` header with the `Bearer` prefix).
    pub from: Vec<TokenSource>,
    /// Clock skew allowed on `exp` and `nbf` (default 60 s).
    #[serde(deserialize_with = "duration::optional")]
    pub leeway: Option<Duration>,
    /// Refuse requests without a token (401, `UNAUTHENTICATED`); by default
    /// they run as anonymous.
    pub require_authentication: bool,
    /// Pass a valid token's claims on to the subgraphs.
    pub forward_claims: ForwardClaims,
}

impl Default for JwtConfig {
    fn default() -> Self {
        JwtConfig {
            jwks: Vec::new(),
            issuers: Vec::new(),
            audiences: Vec::new(),
            algorithms: Vec::new(),
            from: vec![TokenSource {
                header: Some("authorization".into()),
                prefix: Some("Bearer".into()),
                cookie: None,
            }],
            leeway: None,
            require_authentication: false,
            forward_claims: ForwardClaims::default(),
        }
    }
}

/// One key set: `url:` (with `poll_interval:`) or `file:`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JwksSource {
    /// An `http://` or `https://` URL serving a JWKS (`{"keys": [...]}`).
    pub url: Option<String>,
    /// A file holding a JWKS.
    pub file: Option<PathBuf>,
    /// How often a URL is fetched again (default 60 s).
    #[serde(deserialize_with = "duration::optional")]
    pub poll_interval: Option<Duration>,
}

/// Where a token is looked for: `header:` (with an optional `prefix:`) or
/// `cookie:`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenSource {
    /// A request header's name.
    pub header: Option<String>,
    /// The scheme before the token in the header (`Bearer`); a value
    /// without it is not taken. Empty or absent: the whole value.
    pub prefix: Option<String>,
    /// A cookie's name.
    pub cookie: Option<String>,
}

/// `authentication.jwt.forward_claims:`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForwardClaims {
    /// A header sent to every subgraph with the claims as JSON.
    pub header: Option<String>,
    /// A key of the subgraph requests' `extensions` holding the claims.
    pub extensions: Option<String>,
}

/// `authorization:`: what the access directives (`@authenticated`,
/// `@requiresScopes`, `@policy`) do to a request.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthorizationConfig {
    /// `filter` (default): unauthorized fields are left out of the plan
    /// and answered `null` with an `UNAUTHORIZED_FIELD_OR_TYPE` error each;
    /// `reject`: a request selecting any is refused whole (403).
    pub mode: AuthorizationMode,
    /// Log what would be filtered or refused, and do neither.
    pub dry_run: bool,
    /// The claim holding the token's scopes: a space-separated string or
    /// a list of strings (default `scope`).
    pub scopes_claim: Option<String>,
    /// `@policy` names and the CEL expression deciding each, over `claims`
    /// (the token's claims, `{}` when anonymous), `authenticated` (bool)
    /// and `headers` (request headers, lower-case names). A policy the
    /// supergraph uses and this map does not name never passes.
    pub policies: BTreeMap<String, String>,
}

/// `authorization.mode:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthorizationMode {
    /// Leave unauthorized fields out, answer the rest.
    #[default]
    Filter,
    /// Refuse a request that selects an unauthorized field.
    Reject,
}
