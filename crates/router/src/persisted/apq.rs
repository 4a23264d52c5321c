//! Automatic persisted queries (Apollo's APQ): operation texts registered
//! by their SHA-256 hash, kept in a bounded in-memory cache and, with
//! `apq.router.cache.redis`, in Redis through the state store
//! (`crate::store::open_redis`), so that routers sharing the server share
//! registrations. Redis is read on a memory miss and written on a new
//! registration; its errors are logged and count as misses.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use sha2::{Digest, Sha256};

use super::config::{ApqConfig, ApqRedis};
use crate::store::lazy::LazyRedis;
use crate::store::Store;

/// The registrations.
pub(super) struct Apq {
    memory: Cache<String, Arc<str>>,
    redis: Option<Shared>,
}

/// The Redis side, opened on first use.
struct Shared {
    redis: LazyRedis,
    ttl: Option<Duration>,
}

impl Apq {
    /// The cache `config` describes; `None` when APQ is off.
    pub(super) fn new(config: &ApqConfig) -> Option<Apq> {
        if !config.enabled {
            return None;
        }
        let cache = &config.router.cache;
        Some(Apq {
            memory: Cache::new(cache.in_memory.limit),
            redis: cache.redis.as_ref().map(Shared::new),
        })
    }

    /// The text registered under `hash`.
    pub(super) async fn get(&self, hash: &str) -> Option<Arc<str>> {
        let key = hash.to_ascii_lowercase();
        if let Some(text) = self.memory.get(&key) {
            return Some(text);
        }
        let redis = self.redis.as_ref()?;
        let bytes = redis.get(&key).await?;
        let text: Arc<str> = String::from_utf8(bytes).ok()?.into();
        self.memory.insert(key, text.clone());
        Some(text)
    }

    /// Registers `text` under `hash` (which the caller checked).
    pub(super) async fn register(&self, hash: &str, text: &str) {
        let key = hash.to_ascii_lowercase();
        if self.memory.contains_key(&key) {
            return;
        }
        self.memory.insert(key.clone(), Arc::from(text));
        if let Some(redis) = &self.redis {
            redis.put(&key, text).await;
        }
    }
}

impl Shared {
    fn new(config: &ApqRedis) -> Shared {
        let url = config.urls.first().cloned().unwrap_or_default();
        Shared {
            redis: LazyRedis::new("APQ", &url, &config.key_prefix()),
            ttl: config.ttl,
        }
    }

    async fn get(&self, hash: &str) -> Option<Vec<u8>> {
        let store = self.store().await?;
        match store.get(&redis_key(hash)).await {
            Ok(value) => value,
            Err(e) => {
                tracing::warn!("APQ: reading a registration from Redis failed: {e}");
                None
            }
        }
    }

    async fn put(&self, hash: &str, text: &str) {
        let Some(store) = self.store().await else {
            return;
        };
        if let Err(e) = store.put(&redis_key(hash), text.as_bytes(), self.ttl).await {
            tracing::warn!("APQ: writing a registration to Redis failed: {e}");
        }
    }

    async fn store(&self) -> Option<Arc<dyn Store>> {
        self.redis.get().await
    }
}

/// The Redis key of a registration (after the namespace).
fn redis_key(hash: &str) -> String {
    format!("apq:{hash}")
}

/// Whether `hash` is the SHA-256 of `text`, in hexadecimal (either case).
pub(super) fn hash_matches(hash: &str, text: &str) -> bool {
    sha256_hex(text).eq_ignore_ascii_case(hash)
}

/// The SHA-256 of `text`, in lower-case hexadecimal.
pub fn sha256_hex(text: &str) -> String {
    use std::fmt::Write;
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest.iter() {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_texts() {
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex("{__typename}"),
            "ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38"
        );
        assert!(hash_matches(
            "ECF4EDB46DB40B5132295C0291D62FB65D6759A9EEDFA4D5D612DD5EC54A6B38",
            "{__typename}"
        ));
        assert!(!hash_matches("ecf4", "{__typename}"));
    }

    #[tokio::test]
    async fn memory_cache_is_bounded() {
        let mut config = ApqConfig::default();
        config.router.cache.in_memory.limit = 2;
        let apq = Apq::new(&config).unwrap();
        for i in 0..50 {
            apq.register(&format!("h{i}"), "{a}").await;
        }
        apq.memory.run_pending_tasks();
        assert!(apq.memory.entry_count() <= 2);
        assert!(Apq::new(&ApqConfig {
            enabled: false,
            ..ApqConfig::default()
        })
        .is_none());
    }
}
