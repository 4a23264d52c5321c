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
//!
//! Apollo Router's shape is read too ([`fold_apollo`]):
//! `authentication.router.jwt` (`jwks: [{url, issuer(s), audiences,
//! poll_interval, algorithms}]`, `header_name`, `header_value_prefix`,
//! `sources`) and `authorization.require_authentication` and
//! `authorization.directives.{enabled, dry_run, reject_unauthorized}`.

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
    /// Apollo Router's `authentication.router` (read into `jwt`).
    pub router: Option<ApolloRouterAuthentication>,
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
    /// Apollo Router's `authorization.require_authentication` (read into
    /// `authentication.jwt.require_authentication`).
    pub require_authentication: Option<bool>,
    /// Apollo Router's `authorization.directives` (read into `mode` and
    /// `dry_run`).
    pub directives: Option<ApolloDirectives>,
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

/// Apollo Router's `authentication.router`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApolloRouterAuthentication {
    /// `jwt:`.
    pub jwt: ApolloJwt,
}

/// Apollo Router's `authentication.router.jwt`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApolloJwt {
    /// The key sets, each with its own issuers, audiences and algorithms
    /// (goliath applies their union to every set).
    pub jwks: Vec<ApolloJwks>,
    /// The token's header (default `authorization`).
    pub header_name: Option<String>,
    /// Its prefix (default `Bearer`).
    pub header_value_prefix: Option<String>,
    /// Read; goliath refuses a header with another prefix either way.
    pub ignore_other_prefixes: Option<bool>,
    /// More places to look for the token.
    #[serde(default)]
    pub sources: Vec<ApolloSource>,
    /// `Error` (the default) is goliath's behaviour; `Continue` is refused.
    pub on_error: Option<String>,
}

/// One of Apollo Router's `jwks` entries.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApolloJwks {
    /// `https://…`, `http://…` or `file://…`.
    pub url: String,
    /// One accepted issuer.
    pub issuer: Option<String>,
    /// Accepted issuers.
    pub issuers: Option<Vec<String>>,
    /// Accepted audiences.
    pub audiences: Option<Vec<String>>,
    /// How often the URL is fetched again.
    #[serde(default, deserialize_with = "duration::optional")]
    pub poll_interval: Option<Duration>,
    /// Accepted algorithms.
    pub algorithms: Option<Vec<String>>,
}

/// One of Apollo Router's `sources`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum ApolloSource {
    /// `{type: header, name, value_prefix}`.
    Header {
        /// The header.
        name: String,
        /// Its prefix.
        value_prefix: Option<String>,
    },
    /// `{type: cookie, name}`.
    Cookie {
        /// The cookie.
        name: String,
    },
}

/// Apollo Router's `authorization.directives`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApolloDirectives {
    /// `false` is refused (goliath always enforces the directives).
    pub enabled: Option<bool>,
    /// → `dry_run`.
    pub dry_run: Option<bool>,
    /// → `mode: reject`.
    pub reject_unauthorized: Option<bool>,
}

/// Reads Apollo Router's keys into goliath's; an error names the key.
pub fn fold_apollo(
    authn: &mut AuthenticationConfig,
    authz: &mut AuthorizationConfig,
) -> Result<(), (String, String)> {
    if let Some(apollo) = authn.router.take() {
        if authn.jwt.is_some() {
            return Err((
                "authentication.router".into(),
                "give `authentication.jwt` or Apollo Router's `authentication.router.jwt`, not both"
                    .into(),
            ));
        }
        let a = apollo.jwt;
        if a.on_error.as_deref().is_some_and(|e| e != "Error") {
            return Err((
                "authentication.router.jwt.on_error".into(),
                "only `Error` is supported: a bad token is refused".into(),
            ));
        }
        let mut jwt = JwtConfig::default();
        for set in &a.jwks {
            let source = match set.url.strip_prefix("file://") {
                Some(path) => JwksSource {
                    file: Some(PathBuf::from(path)),
                    ..Default::default()
                },
                None => JwksSource {
                    url: Some(set.url.clone()),
                    poll_interval: set.poll_interval,
                    ..Default::default()
                },
            };
            jwt.jwks.push(source);
            let issuers = set.issuer.iter().chain(set.issuers.iter().flatten());
            for (list, items) in [
                (&mut jwt.issuers, issuers.cloned().collect::<Vec<_>>()),
                (
                    &mut jwt.audiences,
                    set.audiences.clone().unwrap_or_default(),
                ),
                (
                    &mut jwt.algorithms,
                    set.algorithms.clone().unwrap_or_default(),
                ),
            ] {
                for item in items {
                    if !list.contains(&item) {
                        list.push(item);
                    }
                }
            }
        }
        jwt.from = vec![TokenSource {
            header: Some(a.header_name.unwrap_or_else(|| "authorization".into())),
            prefix: Some(a.header_value_prefix.unwrap_or_else(|| "Bearer".into())),
            cookie: None,
        }];
        for source in a.sources {
            jwt.from.push(match source {
                ApolloSource::Header { name, value_prefix } => TokenSource {
                    header: Some(name),
                    prefix: value_prefix,
                    cookie: None,
                },
                ApolloSource::Cookie { name } => TokenSource {
                    cookie: Some(name),
                    ..Default::default()
                },
            });
        }
        authn.jwt = Some(jwt);
    }
    if let Some(required) = authz.require_authentication.take() {
        match authn.jwt.as_mut() {
            Some(jwt) => jwt.require_authentication |= required,
            None if required => {
                return Err((
                    "authorization.require_authentication".into(),
                    "needs `authentication.jwt` (or `authentication.router.jwt`)".into(),
                ))
            }
            None => {}
        }
    }
    if let Some(d) = authz.directives.take() {
        if d.enabled == Some(false) {
            return Err((
                "authorization.directives.enabled".into(),
                "goliath always enforces @authenticated, @requiresScopes and @policy; use `dry_run: true` to only log".into(),
            ));
        }
        authz.dry_run |= d.dry_run.unwrap_or(false);
        if d.reject_unauthorized == Some(true) {
            authz.mode = AuthorizationMode::Reject;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apollo_router_keys_are_read_into_goliaths() {
        let yaml = r#"
authentication:
  router:
    jwt:
      header_name: X-Token
      header_value_prefix: Token
      jwks:
        - url: https://idp.example.com/jwks.json
          issuers: [https://idp.example.com/]
          audiences: [api]
          poll_interval: 5m
          algorithms: [RS256]
        - url: file:///etc/keys.json
          issuer: https://other.example.com/
      sources:
        - type: cookie
          name: session
authorization:
  require_authentication: true
  directives:
    dry_run: true
    reject_unauthorized: true
"#;
        let config = crate::Config::from_yaml_str(yaml).unwrap();
        let jwt = config.authentication.jwt.as_ref().unwrap();
        assert_eq!(jwt.jwks.len(), 2);
        assert_eq!(jwt.jwks[0].poll_interval, Some(Duration::from_secs(300)));
        assert_eq!(jwt.jwks[1].file, Some(PathBuf::from("/etc/keys.json")));
        assert_eq!(
            jwt.issuers,
            ["https://idp.example.com/", "https://other.example.com/"]
        );
        assert_eq!(jwt.audiences, ["api"]);
        assert_eq!(jwt.algorithms, ["RS256"]);
        assert_eq!(jwt.from[0].header.as_deref(), Some("X-Token"));
        assert_eq!(jwt.from[0].prefix.as_deref(), Some("Token"));
        assert_eq!(jwt.from[1].cookie.as_deref(), Some("session"));
        assert!(jwt.require_authentication);
        assert!(config.authorization.dry_run);
        assert_eq!(config.authorization.mode, AuthorizationMode::Reject);
    }

    #[test]
    fn both_shapes_at_once_is_an_error() {
        let yaml = "authentication: {jwt: {jwks: [{file: a.json}]}, router: {jwt: {jwks: [{url: 'file:///b.json'}]}}}";
        let e = crate::Config::from_yaml_str(yaml).unwrap_err().to_string();
        assert!(e.contains("authentication.router"), "{e}");
        let yaml = "authorization: {directives: {enabled: false}}";
        let e = crate::Config::from_yaml_str(yaml).unwrap_err().to_string();
        assert!(e.contains("authorization.directives.enabled"), "{e}");
    }
}
