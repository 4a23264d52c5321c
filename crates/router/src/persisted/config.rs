//! `persisted_queries:` and `apq:`, in Apollo Router's shapes (so a
//! `router.yaml` loads as it is), and the checks Apollo Router makes on
//! them.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// `persisted_queries:`: operations known ahead of time, from manifest
/// files, sent by id; and what happens to the others (the safelist).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PersistedQueriesConfig {
    /// Read the manifests and run operations sent by their id (default
    /// false).
    pub enabled: bool,
    /// Log (`tracing::warn`) every operation sent as text that is not in
    /// the manifests (default false).
    pub log_unknown: bool,
    /// Refuse operations that are not in the manifests.
    pub safelist: SafelistConfig,
    /// The manifest files: Apollo's `apollo-persisted-query-manifest`
    /// format or Relay's `{id: text}` (relative to the working directory).
    pub local_manifests: Vec<PathBuf>,
    /// Read the manifests again when they change (default false).
    pub hot_reload: bool,
}

/// `persisted_queries.safelist:`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SafelistConfig {
    /// Refuse operations sent as text whose normalised text is not in the
    /// manifests: `QUERY_NOT_IN_SAFELIST` (default false).
    pub enabled: bool,
    /// Refuse every operation sent as text: `PERSISTED_QUERY_ID_REQUIRED`
    /// (default false; needs `enabled`).
    pub require_id: bool,
}

/// `apq:`: automatic persisted queries (on by default, as in Apollo
/// Router).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApqConfig {
    /// Register and run operations by their SHA-256 hash (default true).
    pub enabled: bool,
    /// Where registrations are kept.
    pub router: ApqRouter,
}

/// `apq.router:`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApqRouter {
    /// `apq.router.cache:`.
    pub cache: ApqCache,
}

/// `apq.router.cache:`: in memory, and in Redis when `redis` is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApqCache {
    /// The router's own cache.
    pub in_memory: InMemory,
    /// A Redis server shared by several routers, under the memory cache.
    pub redis: Option<ApqRedis>,
}

/// `apq.router.cache.in_memory:`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InMemory {
    /// The most registrations kept (default 512, as Apollo Router).
    pub limit: u64,
}

/// `apq.router.cache.redis:`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApqRedis {
    /// The server: one `redis://` URL (a cluster is not supported).
    pub urls: Vec<String>,
    /// How long a registration lives in Redis (`24h`, `30m`, seconds;
    /// default: no expiry).
    #[serde(default, deserialize_with = "crate::config::duration::optional")]
    pub ttl: Option<Duration>,
    /// What the keys start with: `{namespace}:apq:{hash}` (default
    /// `goliath`).
    #[serde(default)]
    pub namespace: Option<String>,
}

impl Default for ApqConfig {
    fn default() -> Self {
        ApqConfig {
            enabled: true,
            router: ApqRouter::default(),
        }
    }
}

impl Default for InMemory {
    fn default() -> Self {
        InMemory { limit: 512 }
    }
}

impl ApqRedis {
    /// The key prefix in the state store: `{namespace}:`.
    pub fn key_prefix(&self) -> String {
        format!("{}:", self.namespace.as_deref().unwrap_or("goliath"))
    }
}

impl PersistedQueriesConfig {
    /// The checks Apollo Router makes (safelisting needs APQ off,
    /// `require_id` needs the safelist, neither without `enabled`), and
    /// goliath's: a manifest to read, an APQ cache that can be built.
    /// `Err((key, message))`.
    pub fn validate(&self, apq: &ApqConfig) -> Result<(), (String, String)> {
        let invalid = |key: &str, message: &str| Err((key.to_owned(), message.to_owned()));
        apq.validate()?;
        if !self.enabled {
            for (key, on) in [
                ("persisted_queries.safelist.enabled", self.safelist.enabled),
                (
                    "persisted_queries.safelist.require_id",
                    self.safelist.require_id,
                ),
                ("persisted_queries.log_unknown", self.log_unknown),
            ] {
                if on {
                    return invalid(key, "needs persisted_queries.enabled: true");
                }
            }
            return Ok(());
        }
        if self.safelist.enabled && apq.enabled {
            return invalid(
                "persisted_queries.safelist.enabled",
                "apqs must be disabled to enable safelisting: set apq.enabled: false \
                 (as Apollo Router requires)",
            );
        }
        if self.safelist.require_id && !self.safelist.enabled {
            return invalid(
                "persisted_queries.safelist.require_id",
                "safelist must be enabled to require IDs: set persisted_queries.safelist.enabled: true",
            );
        }
        if self.local_manifests.is_empty() {
            return invalid(
                "persisted_queries.local_manifests",
                "persisted_queries.enabled needs at least one manifest file \
                 (goliath reads no GraphOS persisted query list)",
            );
        }
        Ok(())
    }
}

impl ApqConfig {
    fn validate(&self) -> Result<(), (String, String)> {
        let invalid = |key: &str, message: String| Err((key.to_owned(), message));
        if self.router.cache.in_memory.limit == 0 {
            return invalid(
                "apq.router.cache.in_memory.limit",
                "must be greater than 0".to_owned(),
            );
        }
        let Some(redis) = &self.router.cache.redis else {
            return Ok(());
        };
        match redis.urls.as_slice() {
            [url] if url.starts_with("redis://") || url.starts_with("rediss://") => {}
            [url] => {
                return invalid(
                    "apq.router.cache.redis.urls",
                    format!("`{url}` is not a redis:// URL"),
                )
            }
            urls => {
                return invalid(
                    "apq.router.cache.redis.urls",
                    format!(
                        "one URL is needed, not {} (Redis clusters are not supported)",
                        urls.len()
                    ),
                )
            }
        }
        if redis.ttl == Some(Duration::ZERO) {
            return invalid(
                "apq.router.cache.redis.ttl",
                "must be greater than 0".to_owned(),
            );
        }
        if redis.namespace.as_deref() == Some("") {
            return invalid(
                "apq.router.cache.redis.namespace",
                "must not be empty".to_owned(),
            );
        }
        Ok(())
    }
}
