//! `cache_control:` in `goliath.yaml` (goliath's own section; see
//! `docs/configuration.md`, "Cache-Control"):
//!
//! ```yaml
//! cache_control:
//!   enabled: true          # default false: no Cache-Control is set
//!   default_max_age: 0     # seconds, for a subgraph answer without max-age
//!   subgraph_headers: true # read the subgraphs' Cache-Control
//!   version_parameter: v   # the URL parameter naming the content version
//!   surrogate_keys:        # the types and entities each answer holds
//!     enabled: true
//!     header: Surrogate-Key  # or Cache-Tag (comma-separated)
//!     max_bytes: 16384
//! ```

use serde::Deserialize;

pub use crate::surrogate_keys::SurrogateKeysConfig;

/// `Cache-Control` on the router's answers (`cache_control:`); off by
/// default.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheControlConfig {
    /// Set `Cache-Control` (and, on cacheable GET answers, `ETag`) on
    /// GraphQL answers (default false).
    pub enabled: bool,
    /// The max-age, in seconds, of a subgraph answer that gives none (no
    /// `Cache-Control`, or one without `max-age`), and of an answer no
    /// subgraph took part in (default 0: not cacheable).
    pub default_max_age: u32,
    /// Read the subgraphs' `Cache-Control` (default true); without it
    /// every answer is as if no subgraph had sent one.
    pub subgraph_headers: bool,
    /// The URL query parameter that names the content version (for
    /// example `v`, in `GET /graphql/Op?id=...&v=42`): part of the
    /// response cache's keys, so a new version starts new answers. Unset
    /// (the default): none.
    pub version_parameter: Option<String>,
    /// `Surrogate-Key` (or `Cache-Tag`) on cacheable answers.
    pub surrogate_keys: SurrogateKeysConfig,
}

impl Default for CacheControlConfig {
    fn default() -> Self {
        CacheControlConfig {
            enabled: false,
            default_max_age: 0,
            subgraph_headers: true,
            version_parameter: None,
            surrogate_keys: SurrogateKeysConfig::default(),
        }
    }
}

impl CacheControlConfig {
    /// Checks what serde cannot: `(key, message)` on failure.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if let Some(name) = &self.version_parameter {
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
            {
                return Err((
                    "cache_control.version_parameter".to_owned(),
                    format!(
                        "`{name}` is not a URL parameter name (letters, digits, `_`, `-`, `.`)"
                    ),
                ));
            }
            if ["query", "operationName", "variables", "extensions", "id"].contains(&name.as_str())
            {
                return Err((
                    "cache_control.version_parameter".to_owned(),
                    format!("`{name}` is a GraphQL-over-HTTP parameter already"),
                ));
            }
        }
        self.surrogate_keys
            .header_name()
            .map(|_| ())
            .map_err(|message| ("cache_control.surrogate_keys.header".to_owned(), message))
    }
}
