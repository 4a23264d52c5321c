//! `cache_control:` in `goliath.yaml` (goliath's own section; see
//! `docs/configuration.md`, "Cache-Control"):
//!
//! ```yaml
//! cache_control:
//!   enabled: true          # default false: no Cache-Control is set
//!   default_max_age: 0     # seconds, for a subgraph answer without max-age
//!   subgraph_headers: true # read the subgraphs' Cache-Control
//! ```

use serde::Deserialize;

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
}

impl Default for CacheControlConfig {
    fn default() -> Self {
        CacheControlConfig {
            enabled: false,
            default_max_age: 0,
            subgraph_headers: true,
        }
    }
}
