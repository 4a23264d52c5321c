//! The in-memory backend: a `moka` cache bounded by the answers' total
//! size, each answer expiring after its own max-age, with an index from
//! each tag to the answers that carry it (for purges).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use moka::notification::RemovalCause;
use moka::sync::Cache;
use moka::Expiry;

use super::entry::Entry;
use super::key::Key;
use super::purge::Selector;

/// Which answers carry each tag.
type Index = HashMap<Arc<str>, HashSet<Key>>;

/// A kept answer and its tags.
struct Stored {
    entry: Entry,
    tags: Box<[Arc<str>]>,
}

/// The answers kept in this router's memory.
pub(super) struct Memory {
    cache: Cache<Key, Arc<Stored>>,
    index: Arc<Mutex<Index>>,
}

/// Each answer lives its own max-age.
struct MaxAge;

impl Expiry<Key, Arc<Stored>> for MaxAge {
    fn expire_after_create(&self, _: &Key, value: &Arc<Stored>, _: Instant) -> Option<Duration> {
        Some(value.entry.ttl())
    }
}

fn lock(index: &Mutex<Index>) -> MutexGuard<'_, Index> {
    index.lock().unwrap_or_else(|p| p.into_inner())
}

impl Memory {
    /// A cache of at most `max_bytes` of answers.
    pub(super) fn new(max_bytes: u64) -> Memory {
        let index: Arc<Mutex<Index>> = Arc::default();
        let unindex = index.clone();
        let cache = Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|_: &Key, stored: &Arc<Stored>| stored.entry.weight())
            .expire_after(MaxAge)
            .eviction_listener(move |key: Arc<Key>, stored: Arc<Stored>, cause| {
                // A replaced answer's key stays under its old tags: a purge
                // of one of them then removes the new answer too, which is
                // safe (never the other way round).
                if cause == RemovalCause::Replaced {
                    return;
                }
                let mut index = lock(&unindex);
                for tag in stored.tags.iter() {
                    if let Some(keys) = index.get_mut(tag) {
                        keys.remove(&*key);
                        if keys.is_empty() {
                            index.remove(tag);
                        }
                    }
                }
            })
            .build();
        Memory { cache, index }
    }

    /// The answer kept under `key`.
    pub(super) fn get(&self, key: &Key) -> Option<Entry> {
        self.cache.get(key).map(|stored| stored.entry.clone())
    }

    /// Keeps `entry` under `key`, indexed by `tags`.
    pub(super) fn put(&self, key: Key, entry: Entry, tags: &[String]) {
        let tags: Box<[Arc<str>]> = {
            let mut index = lock(&self.index);
            tags.iter()
                .map(|tag| {
                    let tag = match index.get_key_value(tag.as_str()) {
                        Some((shared, _)) => shared.clone(),
                        None => Arc::from(tag.as_str()),
                    };
                    index.entry(tag.clone()).or_default().insert(key);
                    tag
                })
                .collect()
        };
        self.cache.insert(key, Arc::new(Stored { entry, tags }));
    }

    /// Removes the answers `selector` picks; answers how many.
    pub(super) fn purge(&self, selector: &Selector) -> u64 {
        let keys: Vec<Key> = match selector {
            Selector::All => self.cache.iter().map(|(key, _)| *key).collect(),
            Selector::Tags { all_of, any_of } => {
                let index = lock(&self.index);
                let Some((first, rest)) = all_of.split_first() else {
                    return 0;
                };
                let Some(candidates) = index.get(first.as_str()) else {
                    return 0;
                };
                let has = |tag: &str, key: &Key| index.get(tag).is_some_and(|k| k.contains(key));
                candidates
                    .iter()
                    .filter(|key| rest.iter().all(|tag| has(tag, key)))
                    .filter(|key| any_of.is_empty() || any_of.iter().any(|tag| has(tag, key)))
                    .copied()
                    .collect()
            }
        };
        // The index is unlocked: removing takes it again (the listener).
        keys.iter()
            .filter(|key| self.cache.remove(*key).is_some())
            .count() as u64
    }

    /// How many answers are kept (after pending evictions).
    #[cfg(test)]
    pub(super) fn len(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.cache.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn entry(max_age: u32) -> Entry {
        Entry::new(Bytes::from_static(b"{\"data\":{}}"), max_age, false, None)
    }

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|t| t.to_string()).collect()
    }

    fn selector(all_of: &[&str], any_of: &[&str]) -> Selector {
        Selector::Tags {
            all_of: tags(all_of),
            any_of: tags(any_of),
        }
    }

    #[test]
    fn purges_by_tag_and_intersection() {
        let m = Memory::new(1 << 20);
        m.put([1; 32], entry(60), &tags(&["User", "User:1", "@sg:a"]));
        m.put([2; 32], entry(60), &tags(&["User", "User:2", "@sg:b"]));
        m.put([3; 32], entry(60), &tags(&["Post", "@sg:b"]));
        assert_eq!(m.purge(&selector(&["User:9"], &[])), 0);
        assert_eq!(m.purge(&selector(&["User", "@sg:b"], &[])), 1);
        assert!(m.get(&[2; 32]).is_none());
        assert!(m.get(&[1; 32]).is_some());
        assert_eq!(m.purge(&selector(&["User"], &["@sg:x", "@sg:a"])), 1);
        assert!(m.get(&[1; 32]).is_none());
        assert_eq!(m.purge(&Selector::All), 1);
        assert_eq!(m.len(), 0);
        assert!(
            lock(&m.index).is_empty(),
            "the index empties with the cache"
        );
    }

    #[test]
    fn bounded_by_size() {
        let m = Memory::new(1_000);
        for i in 0..200u8 {
            m.put([i; 32], entry(60), &tags(&["T"]));
        }
        assert!(m.len() < 200);
        let indexed = lock(&m.index).get("T").map_or(0, HashSet::len) as u64;
        assert_eq!(indexed, m.len(), "evicted answers leave the index");
    }

    #[test]
    fn answers_expire_after_their_max_age() {
        let m = Memory::new(1 << 20);
        m.put([1; 32], entry(1), &[]);
        assert!(m.get(&[1; 32]).is_some());
        std::thread::sleep(Duration::from_millis(1100));
        assert!(m.get(&[1; 32]).is_none());
    }
}
