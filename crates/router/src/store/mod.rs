//! The state store: what the router remembers between requests (migration
//! counters and samples, field-usage counts; APQ registrations and the
//! response cache in Redis). One trait, two backends:
//!
//! - [`redb`] (the default): an embedded file `goliath.redb` in
//!   the configured directory; one router per file.
//! - [`redis`]: a Redis server, so several routers add up into
//!   one view.
//!
//! Keys are plain strings; each backend namespaces them (`key_prefix`).
//! Every value kind has its own operations: counters (a map of named
//! integers under a key, added to atomically), capped lists (the newest
//! `keep` items), sets of strings, and plain values with an optional
//! time to live.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub mod flusher;
pub mod lazy;
pub mod redb;
pub mod redis;

pub use self::redb::RedbStore;
pub use self::redis::RedisStore;

/// A store operation that failed: the backend's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state store: {0}")]
pub struct StoreError(pub String);

/// The state store's operations. Implementations are cheap to share
/// (`Arc<dyn Store>`) and safe to call from any task.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Adds each `(name, by)` to the counter `name` of `key` (a missing
    /// counter starts at 0), all in one atomic step.
    async fn add(&self, key: &str, counts: &[(String, i64)]) -> Result<(), StoreError>;

    /// Every counter of `key` (empty when none).
    async fn counters(&self, key: &str) -> Result<BTreeMap<String, i64>, StoreError>;

    /// Appends `items` to the list `key`, then keeps only its newest `keep`.
    async fn push_capped(
        &self,
        key: &str,
        items: &[Vec<u8>],
        keep: usize,
    ) -> Result<(), StoreError>;

    /// The list `key`, oldest first (empty when none).
    async fn list(&self, key: &str) -> Result<Vec<Vec<u8>>, StoreError>;

    /// Adds `members` to the set `key`.
    async fn set_add(&self, key: &str, members: &[String]) -> Result<(), StoreError>;

    /// The members of the set `key` (empty when none).
    async fn set_members(&self, key: &str) -> Result<BTreeSet<String>, StoreError>;

    /// The value `key`, if set and not expired.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Sets `key` to `value`, expiring after `ttl` when given.
    async fn put(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError>;

    /// Removes `key`, whatever kind of value it holds.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;

    /// The keys (of any kind) that start with `prefix`, sorted.
    async fn keys(&self, prefix: &str) -> Result<Vec<String>, StoreError>;

    /// Adds `members` to the set `key`, which then lives at least `ttl`
    /// more (a backend without expiring sets keeps it: the default).
    async fn set_add_expiring(
        &self,
        key: &str,
        members: &[String],
        _ttl: Duration,
    ) -> Result<(), StoreError> {
        self.set_add(key, members).await
    }

    /// Removes the values `keys`, answering how many of them were set (the
    /// default reads each before removing it; Redis counts in one `DEL`).
    async fn delete_counting(&self, keys: &[String]) -> Result<u64, StoreError> {
        let mut count = 0;
        for key in keys {
            if self.get(key).await?.is_some() {
                count += 1;
            }
            self.delete(key).await?;
        }
        Ok(count)
    }
}

/// So that `Result<Arc<dyn Store>, _>` can be unwrapped and printed.
impl std::fmt::Debug for dyn Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dyn Store")
    }
}

/// Where the state store lives (`store:` in the config).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// The directory of the embedded store's file, `goliath.redb`
    /// (default `goliath-data`, relative to the working directory; made
    /// when a feature first needs the store).
    pub dir: std::path::PathBuf,
    /// A `redis://` (or `rediss://`) URL: when set, Redis is the store,
    /// shared by every router that names it.
    pub redis: Option<String>,
    /// What every key starts with in Redis (default `goliath:`).
    pub key_prefix: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            dir: "goliath-data".into(),
            redis: None,
            key_prefix: "goliath:".to_owned(),
        }
    }
}

/// Opens the store `config` names: Redis when `config.redis` is set (keys
/// prefixed with `config.key_prefix`), else the redb file `goliath.redb` in
/// `config.dir` (made when missing).
pub async fn open(config: &StoreConfig) -> Result<Arc<dyn Store>, StoreError> {
    match &config.redis {
        Some(url) => open_redis(url, &config.key_prefix).await,
        None => Ok(Arc::new(RedbStore::open(&config.dir).await?)),
    }
}

/// Opens a Redis store at `url` with its own `key_prefix`, for a feature
/// that names its own server instead of `store:`'s.
pub async fn open_redis(url: &str, key_prefix: &str) -> Result<Arc<dyn Store>, StoreError> {
    Ok(Arc::new(RedisStore::open(url, key_prefix).await?))
}
