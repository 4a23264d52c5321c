//! The cache key of an answer: a SHA-256 over everything that can change
//! it, so that two requests share a key only when they must get the same
//! answer:
//!
//! - the supergraph (a new one starts a new cache);
//! - the operation's text and name, and its coerced variables (serialized
//!   with sorted object keys, so their order does not matter);
//! - the content version the request names (`cache_control.version_parameter`);
//! - the active override labels and migration pins (a canary's answers
//!   never serve the control group, and the reverse);
//! - the fields authorization denied the request (`crate::auth`): two users
//!   whose rights hide different fields never share an answer;
//! - for a `private` answer, the user's scope ([`Scope`]).
//!
//! A cryptographic hash, so that nobody can write an operation whose key
//! is another's and plant its answer there.

use http::HeaderMap;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::config::PrivateScopeConfig;

/// A cache key.
pub type Key = [u8; 32];

/// What one request's answer depends on.
pub struct KeyParts<'a> {
    /// The operation's text.
    pub query: &'a str,
    /// The operation's name, if the request gave one.
    pub operation_name: Option<&'a str>,
    /// The coerced variables.
    pub variables: &'a Map<String, Value>,
    /// The content version the request names.
    pub version: Option<&'a str>,
    /// The override labels and migration pins of this request (sorted).
    pub labels: &'a [String],
    /// The fields authorization denied (`auth::Denied::key`; empty: none).
    pub denied: &'a str,
}

/// The keys one request may find its answer under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keys {
    /// For an answer anyone may get.
    pub public: Key,
    /// For an answer only this user may get; `None` when the request
    /// carries no scope (its private answers are never kept).
    pub private: Option<Key>,
}

/// Tells users apart for `private` answers: the values of the configured
/// headers and cookies.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    headers: Vec<http::HeaderName>,
    cookies: Vec<String>,
}

impl Scope {
    /// The scope `config` describes (its header names were validated).
    pub fn new(config: &PrivateScopeConfig) -> Scope {
        Scope {
            headers: config
                .headers
                .iter()
                .filter_map(|h| http::HeaderName::from_bytes(h.as_bytes()).ok())
                .collect(),
            cookies: config.cookies.clone(),
        }
    }

    /// A hash of this request's scope values; `None` when it has none.
    pub fn of(&self, headers: &HeaderMap) -> Option<[u8; 32]> {
        let mut hash = Sha256::new();
        let mut any = false;
        for name in &self.headers {
            for value in headers.get_all(name) {
                any = true;
                field(&mut hash, name.as_str().as_bytes());
                field(&mut hash, value.as_bytes());
            }
        }
        if !self.cookies.is_empty() {
            for (name, value) in crate::headers::cookies(headers) {
                if self.cookies.iter().any(|c| c == name) {
                    any = true;
                    field(&mut hash, b"cookie");
                    field(&mut hash, name.as_bytes());
                    field(&mut hash, value.as_bytes());
                }
            }
        }
        any.then(|| hash.finalize().into())
    }
}

/// The keys of a request with `parts`, under the supergraph `schema`
/// (its hash), with the user's `scope`.
pub fn keys(schema: &[u8; 32], parts: &KeyParts<'_>, scope: Option<[u8; 32]>) -> Keys {
    let mut hash = Sha256::new();
    field(&mut hash, schema);
    field(&mut hash, parts.query.as_bytes());
    field(&mut hash, parts.operation_name.unwrap_or("").as_bytes());
    // A map without `preserve_order` serializes its keys sorted.
    let variables = serde_json::to_vec(parts.variables).unwrap_or_default();
    field(&mut hash, &variables);
    match parts.version {
        Some(version) => {
            field(&mut hash, b"v");
            field(&mut hash, version.as_bytes());
        }
        None => field(&mut hash, b""),
    }
    for label in parts.labels {
        field(&mut hash, label.as_bytes());
    }
    if !parts.denied.is_empty() {
        field(&mut hash, b"denied");
        field(&mut hash, parts.denied.as_bytes());
    }
    let base = hash.clone();
    field(&mut hash, b"public");
    let public = hash.finalize().into();
    let private = scope.map(|scope| {
        let mut hash = base;
        field(&mut hash, b"private");
        field(&mut hash, &scope);
        hash.finalize().into()
    });
    Keys { public, private }
}

/// Hashes `bytes` with its length first, so that parts never run into
/// each other.
pub(super) fn field(hash: &mut Sha256, bytes: &[u8]) {
    hash.update((bytes.len() as u64).to_le_bytes());
    hash.update(bytes);
}

/// A key in lower-case hexadecimal (Redis's keys).
pub fn hex(key: &Key) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(64);
    for byte in key {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn key_of(query: &str, variables: Value, version: Option<&str>, labels: &[&str]) -> Keys {
        let labels: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
        let variables = vars(variables);
        let parts = KeyParts {
            query,
            operation_name: None,
            variables: &variables,
            version,
            labels: &labels,
            denied: "",
        };
        keys(&[0; 32], &parts, None)
    }

    #[test]
    fn every_part_changes_the_key() {
        let base = key_of("{a}", json!({"x": 1}), None, &[]);
        assert_eq!(base, key_of("{a}", json!({"x": 1}), None, &[]));
        assert_ne!(base, key_of("{b}", json!({"x": 1}), None, &[]));
        assert_ne!(base, key_of("{a}", json!({"x": 2}), None, &[]));
        assert_ne!(base, key_of("{a}", json!({"x": 1}), Some("7"), &[]));
        assert_ne!(
            key_of("{a}", json!({}), Some("7"), &[]),
            key_of("{a}", json!({}), Some("8"), &[])
        );
        assert_ne!(base, key_of("{a}", json!({"x": 1}), None, &["canary"]));
        // Parts never run into each other.
        assert_ne!(
            key_of("{a}", json!({}), None, &["ab"]),
            key_of("{a}", json!({}), None, &["a", "b"])
        );
        let vars = Map::new();
        let denied = |denied| {
            let parts = KeyParts {
                query: "{a}",
                operation_name: None,
                variables: &vars,
                version: None,
                labels: &[],
                denied,
            };
            keys(&[0; 32], &parts, None)
        };
        assert_ne!(denied(""), denied("Query.a"));
        assert_ne!(denied("Query.a"), denied("Query.b"));
    }

    #[test]
    fn variables_in_any_order() {
        assert_eq!(
            key_of("{a}", json!({"x": 1, "y": {"b": 1, "a": 2}}), None, &[]),
            key_of("{a}", json!({"y": {"a": 2, "b": 1}, "x": 1}), None, &[])
        );
    }

    #[test]
    fn scopes_from_headers_and_cookies() {
        let scope = Scope::new(&PrivateScopeConfig {
            headers: vec!["authorization".into()],
            cookies: vec!["session".into()],
        });
        let mut a = HeaderMap::new();
        assert_eq!(scope.of(&a), None);
        a.insert("authorization", "Bearer a".parse().unwrap());
        let mut b = HeaderMap::new();
        b.insert("authorization", "Bearer b".parse().unwrap());
        assert!(scope.of(&a).is_some());
        assert_ne!(scope.of(&a), scope.of(&b));
        let mut c = HeaderMap::new();
        c.insert("cookie", "theme=dark; session=s1".parse().unwrap());
        let mut d = HeaderMap::new();
        d.insert("cookie", "session=s2; theme=dark".parse().unwrap());
        let mut other = HeaderMap::new();
        other.insert("cookie", "theme=dark".parse().unwrap());
        assert!(scope.of(&c).is_some());
        assert_ne!(scope.of(&c), scope.of(&d));
        assert_eq!(scope.of(&other), None);
        let vars = Map::new();
        let parts = KeyParts {
            query: "{a}",
            operation_name: None,
            variables: &vars,
            version: None,
            labels: &[],
            denied: "",
        };
        let ka = keys(&[0; 32], &parts, scope.of(&a));
        let kb = keys(&[0; 32], &parts, scope.of(&b));
        assert_eq!(ka.public, kb.public);
        assert_ne!(ka.private, kb.private);
        assert_ne!(Some(ka.public), ka.private);
    }
}
