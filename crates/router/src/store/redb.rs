//! The embedded state store: one redb file, `goliath.redb`, in the
//! configured directory.
//!
//! Each value kind has its own table, keyed by the store key first so that
//! one key's entries sit together:
//!
//! | table | key | value |
//! |---|---|---|
//! | `counters` | (key, counter name) | `i64` |
//! | `lists` | (key, sequence number) | item bytes |
//! | `sets` | (key, member) | `()` |
//! | `values` | key | (expiry in ms since the Unix epoch, 0 for none; bytes) |
//!
//! A key may hold several kinds at once here (Redis refuses that); `delete`
//! removes it from every table and `keys` lists it once.
//!
//! Every operation is one redb transaction run with
//! [`tokio::task::spawn_blocking`] (redb blocks), and every write is
//! committed with redb's default durability (on disk when the call returns).
//! Expired values read as absent; `get` removes the one it finds expired,
//! and a `put` or `delete` replaces or removes it.
//!
//! redb allows one open handle per file. Opening the same directory again in
//! the same process shares the handle that is already open (a process-wide
//! map of open databases by canonical path), so tests and config reloads can
//! reopen freely; another process that has the file open makes `open` fail
//! with a [`StoreError`] saying so.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ::redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use async_trait::async_trait;

use super::{Store, StoreError};

/// The file's name in [`StoreConfig::dir`](super::StoreConfig::dir).
pub const FILE_NAME: &str = "goliath.redb";

const COUNTERS: TableDefinition<(&str, &str), i64> = TableDefinition::new("counters");
const LISTS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("lists");
const SETS: TableDefinition<(&str, &str), ()> = TableDefinition::new("sets");
const VALUES: TableDefinition<&str, (u64, &[u8])> = TableDefinition::new("values");

/// How long `open` waits for a handle of the same file that is being closed
/// (its last user dropped it a moment ago) before giving up.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// The state store in a redb file. Cheap to clone; clones (and other opens
/// of the same directory in this process) share one database handle.
#[derive(Clone)]
pub struct RedbStore {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore")
            .field("path", &self.shared.path)
            .finish()
    }
}

/// One open database, shared by every [`RedbStore`] of its file.
struct Shared {
    /// The canonical path of the file: the key in [`open_databases`].
    path: PathBuf,
    /// Always `Some` until dropped: taken in `drop` to close the file while
    /// the map is locked.
    db: Option<Database>,
}

impl Shared {
    fn db(&self) -> &Database {
        self.db
            .as_ref()
            .expect("the database is open until dropped")
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Close the file while holding the map, so that an `open` of the
        // same path never sees the file still open with no handle to share.
        let mut map = lock_open_databases();
        if map
            .get(&self.path)
            .is_some_and(|weak| weak.strong_count() == 0)
        {
            map.remove(&self.path);
        }
        drop(self.db.take());
        drop(map);
    }
}

type OpenDatabases = HashMap<PathBuf, Weak<Shared>>;

/// The databases open in this process, by canonical path.
fn open_databases() -> &'static Mutex<OpenDatabases> {
    static OPEN: OnceLock<Mutex<OpenDatabases>> = OnceLock::new();
    OPEN.get_or_init(Default::default)
}

fn lock_open_databases() -> std::sync::MutexGuard<'static, OpenDatabases> {
    // A panic while holding the map cannot leave it inconsistent (every
    // change is one insert or remove), so a poisoned lock is still usable.
    open_databases()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl RedbStore {
    /// Opens (creating it and `dir` when missing) the store file
    /// `dir/goliath.redb`, or shares the handle already open in this
    /// process for that file.
    pub async fn open(dir: &Path) -> Result<RedbStore, StoreError> {
        let dir = dir.to_owned();
        match tokio::task::spawn_blocking(move || open_blocking(&dir)).await {
            Ok(result) => result,
            Err(e) => Err(StoreError(format!("redb: opening the store failed: {e}"))),
        }
    }

    /// The store file's canonical path.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// Runs `work` on the blocking pool with the database.
    async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    {
        let shared = self.shared.clone();
        match tokio::task::spawn_blocking(move || work(shared.db())).await {
            Ok(result) => result,
            Err(e) => Err(StoreError(format!(
                "redb {}: the operation failed: {e}",
                self.shared.path.display()
            ))),
        }
    }
}

fn open_blocking(dir: &Path) -> Result<RedbStore, StoreError> {
    std::fs::create_dir_all(dir).map_err(|e| {
        StoreError(format!(
            "redb: cannot create the directory {}: {e}",
            dir.display()
        ))
    })?;
    let dir = dir.canonicalize().map_err(|e| {
        StoreError(format!(
            "redb: cannot resolve the directory {}: {e}",
            dir.display()
        ))
    })?;
    let path = dir.join(FILE_NAME);
    let started = Instant::now();
    loop {
        let mut map = lock_open_databases();
        match map.get(&path).map(Weak::upgrade) {
            Some(Some(shared)) => return Ok(RedbStore { shared }),
            Some(None) => {
                // Its last handle is being dropped: wait for the file to close.
                drop(map);
                if started.elapsed() > CLOSE_WAIT {
                    return Err(StoreError(format!(
                        "redb {}: the previous handle did not close within {CLOSE_WAIT:?}",
                        path.display()
                    )));
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            None => {
                // Nothing that could drop a `Shared` (and so lock the map
                // again) happens before the insert.
                let db = create(&path)?;
                let shared = Arc::new(Shared {
                    path: path.clone(),
                    db: Some(db),
                });
                map.insert(path, Arc::downgrade(&shared));
                return Ok(RedbStore { shared });
            }
        }
    }
}

/// Opens or creates the file and makes every table, so that reads never
/// meet a missing one.
fn create(path: &Path) -> Result<Database, StoreError> {
    let db = Database::create(path).map_err(|e| {
        let why = match e {
            ::redb::DatabaseError::DatabaseAlreadyOpen => "another process has it open \
                 (one router per store file; use `store.redis` to share state between routers)"
                .to_owned(),
            other => other.to_string(),
        };
        StoreError(format!("redb: cannot open {}: {why}", path.display()))
    })?;
    let txn = db.begin_write().map_err(fail)?;
    txn.open_table(COUNTERS).map_err(fail)?;
    txn.open_table(LISTS).map_err(fail)?;
    txn.open_table(SETS).map_err(fail)?;
    txn.open_table(VALUES).map_err(fail)?;
    txn.commit().map_err(fail)?;
    Ok(db)
}

/// A redb error as a [`StoreError`].
fn fail(e: impl Into<::redb::Error>) -> StoreError {
    StoreError(format!("redb: {}", e.into()))
}

/// Now, in milliseconds since the Unix epoch.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis().try_into().unwrap_or(u64::MAX))
}

/// Whether a value with this expiry (0: none) has expired at `now`.
fn expired(expires_ms: u64, now: u64) -> bool {
    expires_ms != 0 && expires_ms <= now
}

/// The smallest string greater than `key` (`key` followed by NUL), so that
/// `(successor(key), smallest)` is the first tuple after all of `key`'s.
fn successor(key: &str) -> String {
    let mut next = String::with_capacity(key.len() + 1);
    next.push_str(key);
    next.push('\0');
    next
}

/// Adds to `out` every distinct first element starting with `prefix` of a
/// table keyed by `(&str, &str)`, jumping from one key to the next.
fn distinct_str_keys<V: ::redb::Value + 'static>(
    table: &impl ReadableTable<(&'static str, &'static str), V>,
    prefix: &str,
    out: &mut BTreeSet<String>,
) -> Result<(), StoreError> {
    let mut from = prefix.to_owned();
    loop {
        let next = match table.range((from.as_str(), "")..).map_err(fail)?.next() {
            Some(entry) => entry.map_err(fail)?.0.value().0.to_owned(),
            None => return Ok(()),
        };
        if !next.starts_with(prefix) {
            return Ok(());
        }
        from = successor(&next);
        out.insert(next);
    }
}

/// [`distinct_str_keys`] for a table keyed by `(&str, u64)`.
fn distinct_seq_keys<V: ::redb::Value + 'static>(
    table: &impl ReadableTable<(&'static str, u64), V>,
    prefix: &str,
    out: &mut BTreeSet<String>,
) -> Result<(), StoreError> {
    let mut from = prefix.to_owned();
    loop {
        let next = match table.range((from.as_str(), 0u64)..).map_err(fail)?.next() {
            Some(entry) => entry.map_err(fail)?.0.value().0.to_owned(),
            None => return Ok(()),
        };
        if !next.starts_with(prefix) {
            return Ok(());
        }
        from = successor(&next);
        out.insert(next);
    }
}

#[async_trait]
impl Store for RedbStore {
    async fn add(&self, key: &str, counts: &[(String, i64)]) -> Result<(), StoreError> {
        if counts.is_empty() {
            return Ok(());
        }
        let key = key.to_owned();
        let counts = counts.to_vec();
        self.run(move |db| {
            let txn = db.begin_write().map_err(fail)?;
            {
                let mut table = txn.open_table(COUNTERS).map_err(fail)?;
                for (name, by) in &counts {
                    let old = table
                        .get((key.as_str(), name.as_str()))
                        .map_err(fail)?
                        .map_or(0, |v| v.value());
                    let new = old.checked_add(*by).ok_or_else(|| {
                        StoreError(format!(
                            "redb: counter `{name}` of `{key}` would overflow ({old} + {by})"
                        ))
                    })?;
                    table
                        .insert((key.as_str(), name.as_str()), new)
                        .map_err(fail)?;
                }
            }
            txn.commit().map_err(fail)
        })
        .await
    }

    async fn counters(&self, key: &str) -> Result<BTreeMap<String, i64>, StoreError> {
        let key = key.to_owned();
        self.run(move |db| {
            let txn = db.begin_read().map_err(fail)?;
            let table = txn.open_table(COUNTERS).map_err(fail)?;
            let end = successor(&key);
            let mut out = BTreeMap::new();
            for entry in table
                .range((key.as_str(), "")..(end.as_str(), ""))
                .map_err(fail)?
            {
                let (k, v) = entry.map_err(fail)?;
                out.insert(k.value().1.to_owned(), v.value());
            }
            Ok(out)
        })
        .await
    }

    async fn push_capped(
        &self,
        key: &str,
        items: &[Vec<u8>],
        keep: usize,
    ) -> Result<(), StoreError> {
        let key = key.to_owned();
        let items = items.to_vec();
        let keep = u64::try_from(keep).unwrap_or(u64::MAX);
        self.run(move |db| {
            let txn = db.begin_write().map_err(fail)?;
            {
                let mut table = txn.open_table(LISTS).map_err(fail)?;
                let all = (key.as_str(), 0u64)..=(key.as_str(), u64::MAX);
                // The sequence numbers of a list are contiguous: items are
                // appended after the last and trimmed from the first.
                let (first, end) = {
                    let mut range = table.range(all.clone()).map_err(fail)?;
                    match (range.next(), range.next_back()) {
                        (Some(first), last) => {
                            let first = first.map_err(fail)?.0.value().1;
                            let last = match last {
                                Some(last) => last.map_err(fail)?.0.value().1,
                                None => first,
                            };
                            (first, last + 1)
                        }
                        (None, _) => (0, 0),
                    }
                };
                let mut next = end;
                for item in &items {
                    table
                        .insert((key.as_str(), next), item.as_slice())
                        .map_err(fail)?;
                    next += 1;
                }
                let len = next - first;
                if len > keep {
                    let cut = first + (len - keep);
                    table
                        .retain_in((key.as_str(), first)..(key.as_str(), cut), |_, _| false)
                        .map_err(fail)?;
                }
            }
            txn.commit().map_err(fail)
        })
        .await
    }

    async fn list(&self, key: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        let key = key.to_owned();
        self.run(move |db| {
            let txn = db.begin_read().map_err(fail)?;
            let table = txn.open_table(LISTS).map_err(fail)?;
            let mut out = Vec::new();
            for entry in table
                .range((key.as_str(), 0u64)..=(key.as_str(), u64::MAX))
                .map_err(fail)?
            {
                out.push(entry.map_err(fail)?.1.value().to_vec());
            }
            Ok(out)
        })
        .await
    }

    async fn set_add(&self, key: &str, members: &[String]) -> Result<(), StoreError> {
        if members.is_empty() {
            return Ok(());
        }
        let key = key.to_owned();
        let members = members.to_vec();
        self.run(move |db| {
            let txn = db.begin_write().map_err(fail)?;
            {
                let mut table = txn.open_table(SETS).map_err(fail)?;
                for member in &members {
                    table
                        .insert((key.as_str(), member.as_str()), ())
                        .map_err(fail)?;
                }
            }
            txn.commit().map_err(fail)
        })
        .await
    }

    async fn set_members(&self, key: &str) -> Result<BTreeSet<String>, StoreError> {
        let key = key.to_owned();
        self.run(move |db| {
            let txn = db.begin_read().map_err(fail)?;
            let table = txn.open_table(SETS).map_err(fail)?;
            let end = successor(&key);
            let mut out = BTreeSet::new();
            for entry in table
                .range((key.as_str(), "")..(end.as_str(), ""))
                .map_err(fail)?
            {
                out.insert(entry.map_err(fail)?.0.value().1.to_owned());
            }
            Ok(out)
        })
        .await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.to_owned();
        self.run(move |db| {
            let found = {
                let txn = db.begin_read().map_err(fail)?;
                let table = txn.open_table(VALUES).map_err(fail)?;
                let entry = table.get(key.as_str()).map_err(fail)?;
                entry.map(|v| {
                    let (expires, bytes) = v.value();
                    (expires, bytes.to_vec())
                })
            };
            match found {
                None => Ok(None),
                Some((expires, bytes)) if !expired(expires, now_ms()) => Ok(Some(bytes)),
                Some(_) => {
                    // Expired: remove it, unless it was replaced meanwhile.
                    let txn = db.begin_write().map_err(fail)?;
                    {
                        let mut table = txn.open_table(VALUES).map_err(fail)?;
                        let still_expired = table
                            .get(key.as_str())
                            .map_err(fail)?
                            .is_some_and(|v| expired(v.value().0, now_ms()));
                        if still_expired {
                            table.remove(key.as_str()).map_err(fail)?;
                        }
                    }
                    txn.commit().map_err(fail)?;
                    Ok(None)
                }
            }
        })
        .await
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        let key = key.to_owned();
        let value = value.to_vec();
        self.run(move |db| {
            let expires = match ttl {
                None => 0,
                // At least 1: 0 means "never".
                Some(ttl) => now_ms()
                    .saturating_add(ttl.as_millis().try_into().unwrap_or(u64::MAX))
                    .max(1),
            };
            let txn = db.begin_write().map_err(fail)?;
            {
                let mut table = txn.open_table(VALUES).map_err(fail)?;
                if ttl.is_some_and(|ttl| ttl.is_zero()) {
                    table.remove(key.as_str()).map_err(fail)?;
                } else {
                    table
                        .insert(key.as_str(), (expires, value.as_slice()))
                        .map_err(fail)?;
                }
            }
            txn.commit().map_err(fail)
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.run(move |db| {
            let end = successor(&key);
            let txn = db.begin_write().map_err(fail)?;
            {
                let mut counters = txn.open_table(COUNTERS).map_err(fail)?;
                counters
                    .retain_in((key.as_str(), "")..(end.as_str(), ""), |_, _| false)
                    .map_err(fail)?;
                let mut lists = txn.open_table(LISTS).map_err(fail)?;
                lists
                    .retain_in((key.as_str(), 0u64)..=(key.as_str(), u64::MAX), |_, _| {
                        false
                    })
                    .map_err(fail)?;
                let mut sets = txn.open_table(SETS).map_err(fail)?;
                sets.retain_in((key.as_str(), "")..(end.as_str(), ""), |_, _| false)
                    .map_err(fail)?;
                let mut values = txn.open_table(VALUES).map_err(fail)?;
                values.remove(key.as_str()).map_err(fail)?;
            }
            txn.commit().map_err(fail)
        })
        .await
    }

    async fn keys(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let prefix = prefix.to_owned();
        self.run(move |db| {
            let txn = db.begin_read().map_err(fail)?;
            let mut out = BTreeSet::new();
            distinct_str_keys(&txn.open_table(COUNTERS).map_err(fail)?, &prefix, &mut out)?;
            distinct_seq_keys(&txn.open_table(LISTS).map_err(fail)?, &prefix, &mut out)?;
            distinct_str_keys(&txn.open_table(SETS).map_err(fail)?, &prefix, &mut out)?;
            let values = txn.open_table(VALUES).map_err(fail)?;
            let now = now_ms();
            for entry in values.range(prefix.as_str()..).map_err(fail)? {
                let (k, v) = entry.map_err(fail)?;
                let k = k.value();
                if !k.starts_with(prefix.as_str()) {
                    break;
                }
                if !expired(v.value().0, now) {
                    out.insert(k.to_owned());
                }
            }
            Ok(out.into_iter().collect())
        })
        .await
    }
}
