//! `cache_control.surrogate_keys` in goliath.yaml:
//!
//! ```yaml
//! cache_control:
//!   enabled: true
//!   surrogate_keys:
//!     enabled: true            # default true (acts only with cache_control.enabled)
//!     header: Surrogate-Key    # default; "Cache-Tag" (any case) joins tags with commas
//!     max_bytes: 16384         # default: the cap on the header value
//! ```

use serde::Deserialize;

/// The name Cloudflare reads tags from; its tags are comma-separated.
const CACHE_TAG: &str = "cache-tag";

/// How the answer's tags are announced to a CDN.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SurrogateKeysConfig {
    /// Tag cacheable answers (default true; only acts when
    /// `cache_control.enabled` is set).
    pub enabled: bool,
    /// The header the tags go in (default `Surrogate-Key`, Fastly's,
    /// space-separated); `Cache-Tag` (Cloudflare's, any case) is
    /// comma-separated, any other name space-separated.
    pub header: String,
    /// The cap on the header value, in bytes (default 16384); tags that do
    /// not fit are left out, types before entities kept.
    pub max_bytes: usize,
}

impl Default for SurrogateKeysConfig {
    fn default() -> Self {
        SurrogateKeysConfig {
            enabled: true,
            header: "Surrogate-Key".to_owned(),
            max_bytes: 16384,
        }
    }
}

impl SurrogateKeysConfig {
    /// The header's name, checked. The error names the bad value but not
    /// the config key (`cache_control.surrogate_keys.header`): the caller
    /// adds it.
    pub fn header_name(&self) -> Result<http::HeaderName, String> {
        if self.header.is_empty() {
            return Err("the header name must not be empty".to_owned());
        }
        http::HeaderName::from_bytes(self.header.as_bytes())
            .map_err(|_| format!("`{}` is not a valid HTTP header name", self.header))
    }

    /// What goes between two tags in the header: `,` for `Cache-Tag`, a
    /// space otherwise.
    pub(super) fn separator(&self) -> u8 {
        if self.header.eq_ignore_ascii_case(CACHE_TAG) {
            b','
        } else {
            b' '
        }
    }
}
