//! The Redis backend, shared by every router naming the server, through
//! the state store (`crate::store`): an answer is the value
//! `rc:e:{key}` (expiring after its max-age), and each tag a set
//! `rc:t:{tag}` of the keys of the answers carrying it (living as long as
//! its longest-lived answer). Redis's errors are logged and count as a
//! miss (or, for a purge, fail it).

use std::collections::BTreeSet;

use super::entry::Entry;
use super::key::{hex, Key};
use super::purge::Selector;
use crate::store::lazy::LazyRedis;
use crate::store::StoreError;

/// The answers kept in Redis.
pub(super) struct Shared {
    redis: LazyRedis,
}

/// How many tag writes are in flight at once.
const TAGS_AT_ONCE: usize = 64;

fn entry_key(hex: &str) -> String {
    format!("rc:e:{hex}")
}

fn tag_key(tag: &str) -> String {
    format!("rc:t:{tag}")
}

impl Shared {
    /// The server at `url`, every key prefixed with `key_prefix`.
    pub(super) fn new(url: &str, key_prefix: &str) -> Shared {
        Shared {
            redis: LazyRedis::new("response cache", url, key_prefix),
        }
    }

    /// The answer kept under `key`.
    pub(super) async fn get(&self, key: &Key) -> Option<Entry> {
        let store = self.redis.get().await?;
        match store.get(&entry_key(&hex(key))).await {
            Ok(bytes) => Entry::decode(&bytes?),
            Err(e) => {
                tracing::warn!("response cache: reading from Redis failed: {e}");
                None
            }
        }
    }

    /// Keeps `entry` under `key`, indexed by `tags`.
    pub(super) async fn put(&self, key: Key, entry: Entry, tags: &[String]) {
        let Some(store) = self.redis.get().await else {
            return;
        };
        let hex = hex(&key);
        let ttl = entry.ttl();
        // Tags first, so that an answer is never findable before a purge
        // can find it; many at a time on the multiplexed connection.
        for chunk in tags.chunks(TAGS_AT_ONCE) {
            let mut writes = tokio::task::JoinSet::new();
            for tag in chunk {
                let (store, tag, members) = (store.clone(), tag_key(tag), [hex.clone()]);
                writes.spawn(async move { store.set_add_expiring(&tag, &members, ttl).await });
            }
            while let Some(written) = writes.join_next().await {
                if let Ok(Err(e)) = written {
                    tracing::warn!("response cache: writing a tag to Redis failed: {e}");
                    return;
                }
            }
        }
        if let Err(e) = store
            .put(&entry_key(&hex), &entry.encode(), Some(ttl))
            .await
        {
            tracing::warn!("response cache: writing to Redis failed: {e}");
        }
    }

    /// Removes the answers `selector` picks; answers how many.
    pub(super) async fn purge(&self, selector: &Selector) -> Result<u64, StoreError> {
        let Some(store) = self.redis.get().await else {
            return Err(StoreError("response cache: Redis cannot be reached".into()));
        };
        match selector {
            Selector::All => {
                let entries = store.keys("rc:e:").await?;
                let count = store.delete_counting(&entries).await?;
                for tag in store.keys("rc:t:").await? {
                    store.delete(&tag).await?;
                }
                Ok(count)
            }
            Selector::Tags { all_of, any_of } => {
                let Some((first, rest)) = all_of.split_first() else {
                    return Ok(0);
                };
                let mut keys = store.set_members(&tag_key(first)).await?;
                for tag in rest {
                    let other = store.set_members(&tag_key(tag)).await?;
                    keys.retain(|k| other.contains(k));
                }
                if !any_of.is_empty() {
                    let mut some = BTreeSet::new();
                    for tag in any_of {
                        some.extend(store.set_members(&tag_key(tag)).await?);
                    }
                    keys.retain(|k| some.contains(k));
                }
                let entries: Vec<String> = keys.iter().map(|k| entry_key(k)).collect();
                let count = store.delete_counting(&entries).await?;
                if rest.is_empty() && any_of.is_empty() {
                    store.delete(&tag_key(first)).await?;
                }
                Ok(count)
            }
        }
    }
}
