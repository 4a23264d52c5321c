//! The counts recorded since the last flush, split into shards so that
//! requests counted at the same time on different threads do not wait for
//! each other.
//!
//! Each thread is given an index once (a thread-local taken from a global
//! counter) and always records into shard `index % shards`. There are
//! [`shard_count`] shards, a power of two at least four times the available
//! parallelism, so the runtime's worker threads each have their own shard
//! and the lock a request takes is, in the common case, uncontended: its
//! cost is one atomic swap in and out. A flush takes every shard's
//! contents in turn (holding one shard's lock at a time, briefly).
//!
//! The bound on memory is global: at most [`MAX_PENDING`] (selection,
//! client, version) entries across the shards, kept with an atomic counter
//! that only recording a *new* entry touches (once per entry per flush
//! interval); counting into an existing entry touches only its shard and
//! does not allocate.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::Selected;

/// The most (selection, client, version) entries waiting for a flush,
/// across the shards; past it new ones are dropped (and logged at the
/// next flush) until the next flush.
pub const MAX_PENDING: usize = 50_000;

/// The most shards, whatever the parallelism.
const MAX_SHARDS: usize = 1024;

/// The counts since the last flush.
pub struct Pending {
    shards: Box<[Shard]>,
    /// Entries held across every shard (at most [`MAX_PENDING`]).
    entries: AtomicUsize,
}

/// One shard, on its own cache lines so that two threads' shards do not
/// share one.
#[repr(align(128))]
struct Shard(Mutex<Counts>);

/// One shard's counts, by selection (its address: the entry holds the
/// selection, so the address is not reused meanwhile).
#[derive(Default)]
struct Counts {
    by_selection: HashMap<usize, Entry>,
    /// This shard's share of [`Pending::entries`].
    entries: usize,
    /// Operations not counted for lack of room.
    dropped: u64,
}

/// One selection's counts by client and version.
pub struct Entry {
    /// What the operations selected.
    pub selected: Arc<Selected>,
    /// `(client, version, operations)`.
    pub clients: Vec<(Box<str>, Box<str>, u64)>,
}

/// What a flush takes: every shard's entries, and how many operations
/// were not counted.
#[derive(Default)]
pub struct Taken {
    /// The entries (one selection may have one per shard).
    pub entries: Vec<Entry>,
    /// Operations dropped for lack of room.
    pub dropped: u64,
}

/// The number of shards: the next power of two from four times the
/// available parallelism (at least 4, at most [`MAX_SHARDS`]).
pub fn shard_count() -> usize {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    threads
        .saturating_mul(4)
        .next_power_of_two()
        .clamp(4, MAX_SHARDS)
}

/// This thread's index: given once per thread, in the order threads
/// first record.
fn thread_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    INDEX.with(|i| *i)
}

impl Default for Pending {
    fn default() -> Self {
        Pending::with_shards(shard_count())
    }
}

impl Pending {
    /// Empty, with `shards` shards (rounded up to a power of two).
    pub fn with_shards(shards: usize) -> Pending {
        let n = shards.clamp(1, MAX_SHARDS).next_power_of_two();
        Pending {
            shards: (0..n).map(|_| Shard(Mutex::default())).collect(),
            entries: AtomicUsize::new(0),
        }
    }

    /// Counts one operation that selected `selected`, sent by `client` at
    /// `version`, in the calling thread's shard.
    pub fn record(&self, selected: &Arc<Selected>, client: &str, version: &str) {
        let shard = &self.shards[thread_index() & (self.shards.len() - 1)];
        let mut counts = super::lock(&shard.0);
        let counts = &mut *counts;
        let key = Arc::as_ptr(selected) as usize;
        if let Some(entry) = counts.by_selection.get_mut(&key) {
            if let Some((_, _, n)) = entry
                .clients
                .iter_mut()
                .find(|(c, v, _)| &**c == client && &**v == version)
            {
                *n += 1;
                return;
            }
        }
        if !self.reserve() {
            counts.dropped += 1;
            return;
        }
        counts.entries += 1;
        let entry = counts.by_selection.entry(key).or_insert_with(|| Entry {
            selected: selected.clone(),
            clients: vec![],
        });
        entry.clients.push((client.into(), version.into(), 1));
    }

    /// Takes room for one new entry; false when there is none.
    fn reserve(&self) -> bool {
        self.entries
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_PENDING).then_some(n + 1)
            })
            .is_ok()
    }

    /// Takes every shard's counts, leaving them empty.
    pub fn take(&self) -> Taken {
        let mut taken = Taken::default();
        for shard in self.shards.iter() {
            let counts = std::mem::take(&mut *super::lock(&shard.0));
            self.entries.fetch_sub(counts.entries, Ordering::AcqRel);
            taken.dropped += counts.dropped;
            taken.entries.extend(counts.by_selection.into_values());
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selected(operation: &str) -> Arc<Selected> {
        Arc::new(Selected {
            operation: operation.to_owned(),
            fields: vec!["Query.a".to_owned()],
        })
    }

    /// `(operation, client, version, n)`, sorted, with the entries of one
    /// selection in several shards added up.
    fn totals(taken: &Taken) -> Vec<(String, String, String, u64)> {
        let mut by: std::collections::BTreeMap<_, u64> = Default::default();
        for e in &taken.entries {
            for (c, v, n) in &e.clients {
                let key = (e.selected.operation.clone(), c.to_string(), v.to_string());
                *by.entry(key).or_default() += n;
            }
        }
        by.into_iter().map(|((o, c, v), n)| (o, c, v, n)).collect()
    }

    #[test]
    fn shards_are_a_power_of_two_and_enough_for_the_threads() {
        let n = shard_count();
        assert!(n.is_power_of_two() && n >= 4, "{n}");
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert!(n >= (4 * threads).min(MAX_SHARDS), "{n} for {threads}");
        assert_eq!(Pending::with_shards(5).shards.len(), 8);
    }

    #[test]
    fn counts_by_selection_client_and_version_and_take_empties() {
        let pending = Pending::with_shards(4);
        let (a, b) = (selected("A"), selected("B"));
        pending.record(&a, "web", "1");
        pending.record(&a, "web", "1");
        pending.record(&a, "web", "2");
        pending.record(&b, "ios", "");
        let taken = pending.take();
        assert_eq!(taken.dropped, 0);
        let s = |x: &str| x.to_owned();
        assert_eq!(
            totals(&taken),
            [
                (s("A"), s("web"), s("1"), 2),
                (s("A"), s("web"), s("2"), 1),
                (s("B"), s("ios"), s(""), 1),
            ]
        );
        assert!(pending.take().entries.is_empty());
        assert_eq!(pending.entries.load(Ordering::Acquire), 0);
    }

    #[test]
    fn threads_recording_at_once_lose_nothing() {
        let pending = Arc::new(Pending::with_shards(4));
        let a = selected("A");
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let (pending, a) = (pending.clone(), a.clone());
                std::thread::spawn(move || {
                    for i in 0..5_000 {
                        pending.record(&a, if i % 2 == 0 { "web" } else { "ios" }, "1");
                    }
                    t
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let taken = pending.take();
        let total: u64 = totals(&taken).iter().map(|t| t.3).sum();
        assert_eq!(total, 40_000);
        assert_eq!(taken.dropped, 0);
    }

    #[test]
    fn past_the_budget_new_entries_are_dropped_and_counted() {
        let pending = Pending::with_shards(4);
        let selections: Vec<_> = (0..MAX_PENDING + 3)
            .map(|i| selected(&i.to_string()))
            .collect();
        for s in &selections {
            pending.record(s, "web", "1");
        }
        // Existing entries still count.
        pending.record(&selections[0], "web", "1");
        let taken = pending.take();
        assert_eq!(taken.dropped, 3);
        assert_eq!(taken.entries.len(), MAX_PENDING);
        // Taking gives the room back.
        pending.record(&selections[0], "web", "1");
        assert_eq!(pending.take().entries.len(), 1);
    }
}
