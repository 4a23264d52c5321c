//! `response_cache:` in `goliath.yaml` (see `docs/configuration.md`,
//! "Response cache"):
//!
//! ```yaml
//! response_cache:
//!   enabled: true              # default false
//!   max_bytes: 67108864        # in memory: the answers' total size cap
//!   redis:                     # shared by every router naming it
//!     urls: [redis://127.0.0.1:6379]
//!     key_prefix: "goliath:"   # then `rc:...`
//!   private_scope:             # what tells users apart for PRIVATE answers
//!     headers: [authorization]
//!     cookies: [session]
//!   status_header: x-goliath-cache   # HIT or MISS
//!   invalidation:
//!     mutations: false         # a mutation purges the entities it returns
//!   entities: false            # keep entity fetches' answers too
//! ```

use serde::Deserialize;

/// `response_cache:`: whole answers kept by the router (off by default).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResponseCacheConfig {
    /// Keep cacheable answers and serve them again (default false).
    pub enabled: bool,
    /// In memory (without `redis`): the total size of the kept answers, in
    /// bytes (default 64 MiB); the least used go first.
    pub max_bytes: u64,
    /// Keep answers in Redis instead, shared by the routers that name it.
    pub redis: Option<RedisCacheConfig>,
    /// What makes an answer marked `private` one user's own.
    pub private_scope: PrivateScopeConfig,
    /// The answer header saying `HIT` or `MISS` (default
    /// `x-goliath-cache`).
    pub status_header: String,
    /// Purges besides the admin API's.
    pub invalidation: InvalidationConfig,
    /// Keep the answers of cacheable entity fetches too, entity by entity
    /// (default false).
    pub entities: bool,
}

impl Default for ResponseCacheConfig {
    fn default() -> Self {
        ResponseCacheConfig {
            enabled: false,
            max_bytes: 64 * 1024 * 1024,
            redis: None,
            private_scope: PrivateScopeConfig::default(),
            status_header: "x-goliath-cache".to_owned(),
            invalidation: InvalidationConfig::default(),
            entities: false,
        }
    }
}

/// `response_cache.redis:`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisCacheConfig {
    /// The server: one `redis://` URL (a cluster is not supported).
    pub urls: Vec<String>,
    /// What every key starts with (default `goliath:`); the cache's keys
    /// then start with `rc:`.
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
}

fn default_key_prefix() -> String {
    "goliath:".to_owned()
}

/// `response_cache.private_scope:`: a `private` answer is kept for the
/// values of these request headers and cookies together; a request that
/// has none of them gets no `private` answer from the cache, and its own
/// is not kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivateScopeConfig {
    /// Header names (for example `authorization`).
    pub headers: Vec<String>,
    /// Cookie names (for example `session`).
    pub cookies: Vec<String>,
}

/// `response_cache.invalidation:`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InvalidationConfig {
    /// After a mutation without errors, purge every kept answer holding an
    /// entity the mutation's answer holds (by its key; default false).
    pub mutations: bool,
}

impl ResponseCacheConfig {
    /// Checks what serde cannot: `(key, message)` on failure.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let invalid = |key: &str, message: String| Err((key.to_owned(), message));
        if http::HeaderName::from_bytes(self.status_header.as_bytes()).is_err() {
            return invalid(
                "response_cache.status_header",
                format!("`{}` is not an HTTP header name", self.status_header),
            );
        }
        for (i, name) in self.private_scope.headers.iter().enumerate() {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return invalid(
                    &format!("response_cache.private_scope.headers[{i}]"),
                    format!("`{name}` is not an HTTP header name"),
                );
            }
        }
        if let Some(redis) = &self.redis {
            match redis.urls.as_slice() {
                [url] if url.starts_with("redis://") => {}
                [url] => {
                    return invalid(
                        "response_cache.redis.urls",
                        format!("`{url}` is not a redis:// URL"),
                    )
                }
                _ => {
                    return invalid(
                        "response_cache.redis.urls",
                        "give exactly one redis:// URL".to_owned(),
                    )
                }
            }
        } else if self.enabled && self.max_bytes == 0 {
            return invalid("response_cache.max_bytes", "must be more than 0".to_owned());
        }
        Ok(())
    }
}
