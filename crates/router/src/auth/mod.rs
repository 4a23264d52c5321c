//! Authentication and authorization: the pipeline's **auth** stages.
//!
//! - **authenticate** ([`Auth::authenticate`]): the request's JWT, if any,
//!   verified against the configured key sets ([`jwt`], [`jwks`]); a bad
//!   token is refused with 401 and `UNAUTHENTICATED`, and so is a request
//!   without one when `require_authentication` is set. The result is an
//!   [`Identity`]: the claims, and the scopes read from them.
//! - **authorize** ([`Auth::authorize`]): the fields of the operation the
//!   identity may not see under the supergraph's `@authenticated`,
//!   `@requiresScopes` and `@policy` ([`filter`], [`policy`]). In `filter`
//!   mode they are left out of the plan and answered `null` with an
//!   `UNAUTHORIZED_FIELD_OR_TYPE` error each; in `reject` mode the request
//!   is refused (403); with `dry_run` they are only logged.
//! - **forward**: the claims as a header to the subgraphs, when configured.
//!
//! See `docs/auth.md`.

pub mod config;
mod fetch;
pub mod filter;
pub mod jwks;
pub mod jwt;
pub mod policy;

use std::collections::HashSet;
use std::sync::Arc;

use apollo_compiler::executable::{ExecutableDocument, Operation};
use goliath_supergraph::Supergraph;
use serde_json::{json, Map, Value};

pub use config::{AuthenticationConfig, AuthorizationConfig, AuthorizationMode};
pub use filter::Denied;

use crate::config::Config;
use crate::pipeline::Response;

/// Who a request is.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    /// A valid token's claims; `None` for an anonymous request.
    pub claims: Option<Arc<Map<String, Value>>>,
    /// The scopes the claims grant.
    pub scopes: HashSet<String>,
}

/// The auth stages for one pipeline.
pub struct Auth {
    jwt: Option<jwt::Jwt>,
    require_authentication: bool,
    forward_header: Option<http::HeaderName>,
    /// The `extensions` key the claims are forwarded under.
    forward_extensions: Option<String>,
    mode: AuthorizationMode,
    dry_run: bool,
    scopes_claim: String,
    policies: policy::Policies,
    /// The policy names the supergraph uses.
    policy_names: Vec<String>,
    supergraph: Arc<Supergraph>,
}

/// What authorization decided for a request.
pub enum Decision {
    /// Every field may be seen (or dry run).
    Allowed,
    /// Some fields are denied: plan `filtered`, answer `denied` with nulls.
    Filtered {
        /// The denied fields.
        denied: Denied,
        /// The document without them, as text.
        filtered: String,
    },
}

impl Auth {
    /// The auth stages `config` asks for over `supergraph`; `None` when
    /// there is nothing to do (no JWT config and no access directive).
    pub fn new(config: &Config, supergraph: Arc<Supergraph>) -> Result<Option<Auth>, String> {
        let jwt_config = config.authentication.jwt.as_ref();
        if jwt_config.is_none() && supergraph.access.is_empty() {
            return Ok(None);
        }
        let jwt = match jwt_config {
            Some(c) => {
                let tls = config.tls.subgraph.client_config("")?;
                Some(jwt::Jwt::new(c, tls)?)
            }
            None => None,
        };
        let forward_header = match jwt_config.and_then(|c| c.forward_claims.header.as_deref()) {
            Some(h) => Some(
                http::HeaderName::from_bytes(h.to_ascii_lowercase().as_bytes())
                    .map_err(|e| format!("authentication.jwt.forward_claims.header: {e}"))?,
            ),
            None => None,
        };
        let authz = &config.authorization;
        let policies = policy::Policies::new(&authz.policies)?;
        let policy_names = supergraph.access.policy_names();
        for name in &policy_names {
            if !policies.defines(name) {
                tracing::warn!(
                    policy = name.as_str(),
                    "the supergraph uses @policy `{name}` and authorization.policies does not define it: it never passes"
                );
            }
        }
        Ok(Some(Auth {
            jwt,
            require_authentication: jwt_config.is_some_and(|c| c.require_authentication),
            forward_header,
            forward_extensions: jwt_config.and_then(|c| c.forward_claims.extensions.clone()),
            mode: authz.mode,
            dry_run: authz.dry_run,
            scopes_claim: authz.scopes_claim.clone().unwrap_or_else(|| "scope".into()),
            policies,
            policy_names,
            supergraph,
        }))
    }

    /// The request's identity, or the 401 refusing it.
    pub async fn authenticate(&self, headers: &http::HeaderMap) -> Result<Identity, Response> {
        let Some(jwt) = &self.jwt else {
            return Ok(Identity::default());
        };
        let token = jwt.token(headers).map_err(|e| unauthenticated(&e.0))?;
        let Some(token) = token else {
            if self.require_authentication {
                return Err(unauthenticated("the request has no token"));
            }
            return Ok(Identity::default());
        };
        let claims = jwt.verify(token).await.map_err(|e| unauthenticated(&e.0))?;
        let scopes = scopes_of(claims.get(&self.scopes_claim));
        Ok(Identity {
            claims: Some(Arc::new(claims)),
            scopes,
        })
    }

    /// What `identity` may see of `operation`: `Err` is the refusal in
    /// `reject` mode.
    pub fn authorize(
        &self,
        doc: &ExecutableDocument,
        operation: &Operation,
        identity: &Identity,
        headers: &http::HeaderMap,
    ) -> Result<Decision, Response> {
        if self.supergraph.access.is_empty() {
            return Ok(Decision::Allowed);
        }
        // Every policy the supergraph uses, decided together the first time
        // a field needs one (one CEL context per request).
        let decided = std::cell::OnceCell::new();
        let policy = |name: &str| {
            let decided = decided.get_or_init(|| {
                let claims = identity.claims.as_deref();
                self.policies.decide(&self.policy_names, claims, headers)
            });
            decided.get(name).copied().unwrap_or(false)
        };
        let rights = filter::Rights {
            authenticated: identity.claims.is_some(),
            scopes: &identity.scopes,
            policy: &policy,
        };
        let mut checker = filter::Checker::new(&self.supergraph, rights);
        let denied = checker.denied(doc, operation);
        if denied.fields.is_empty() {
            return Ok(Decision::Allowed);
        }
        if self.dry_run {
            tracing::info!(
                fields = ?denied.paths,
                mode = ?self.mode,
                "authorization dry run: these fields would be denied"
            );
            return Ok(Decision::Allowed);
        }
        if self.mode == AuthorizationMode::Reject {
            let errors: Vec<Value> = denied
                .paths
                .iter()
                .map(|p| {
                    json!({
                        "message": format!("Unauthorized field or type: {p}"),
                        "path": p.split('.').collect::<Vec<_>>(),
                        "extensions": {"code": "UNAUTHORIZED_FIELD_OR_TYPE"},
                    })
                })
                .collect();
            return Err(Response::new(
                crate::pipeline::Body::Json(json!({ "errors": errors })),
                crate::pipeline::Outcome::Rejected { status: 403 },
            ));
        }
        let filtered = checker.filtered(doc).to_string();
        Ok(Decision::Filtered { denied, filtered })
    }

    /// Adds the claims header to each subgraph's headers, when configured
    /// and the request has claims.
    pub fn forward(&self, identity: &Identity, headers: &mut Vec<http::HeaderMap>) {
        let (Some(name), Some(claims)) = (&self.forward_header, &identity.claims) else {
            return;
        };
        let Ok(value) = http::HeaderValue::from_str(&ascii_json(claims)) else {
            return;
        };
        if headers.is_empty() {
            headers.resize(self.supergraph.graphs.len(), http::HeaderMap::new());
        }
        for h in headers.iter_mut() {
            h.insert(name.clone(), value.clone());
        }
    }
}

impl Auth {
    /// What the response cache's keys take from authorization: the denied
    /// fields, and when the claims go to the subgraphs (whose answers may
    /// then depend on them) the claims themselves, so that no answer made
    /// for one token is served to another.
    pub fn cache_key(&self, identity: &Identity, denied: Option<&Denied>) -> String {
        let mut key = denied.map(|d| d.key.clone()).unwrap_or_default();
        let forwards = self.forward_header.is_some() || self.forward_extensions.is_some();
        if let (true, Some(claims)) = (forwards, &identity.claims) {
            key.push_str("|claims:");
            key.push_str(&serde_json::to_string(&**claims).unwrap_or_default());
        }
        key
    }

    /// The subgraph requests' `extensions` (a JSON object's text) holding
    /// the claims, when configured and the request has claims.
    pub fn extensions(&self, identity: &Identity) -> Option<String> {
        let key = self.forward_extensions.as_ref()?;
        let claims = identity.claims.as_ref()?;
        let mut object = Map::new();
        object.insert(key.clone(), Value::Object((**claims).clone()));
        serde_json::to_string(&object).ok()
    }
}

/// The 401 refusal.
fn unauthenticated(message: &str) -> Response {
    Response::rejected(message.to_owned(), "UNAUTHENTICATED", 401, "no-store")
}

/// The scopes in a claim: a space-separated string or a list of strings.
pub fn scopes_of(claim: Option<&Value>) -> HashSet<String> {
    match claim {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => HashSet::new(),
    }
}

/// JSON text with every non-ASCII character escaped, so it fits a header.
fn ascii_json(claims: &Map<String, Value>) -> String {
    let text = serde_json::to_string(claims).unwrap_or_default();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{:04x}", u));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_from_a_string_or_a_list() {
        let s = scopes_of(Some(&json!("read:a  write:b")));
        assert!(s.contains("read:a") && s.contains("write:b") && s.len() == 2);
        let l = scopes_of(Some(&json!(["x", 3, "y"])));
        assert_eq!(l.len(), 2);
        assert!(scopes_of(Some(&json!(7))).is_empty());
    }

    #[test]
    fn claims_in_a_header_are_ascii() {
        let claims: Map<String, Value> = serde_json::from_str(r#"{"name":"Zoë"}"#).unwrap();
        assert_eq!(ascii_json(&claims), r#"{"name":"Zo\u00eb"}"#);
    }
}
