//! Field usage: which fields of the API schema operations select, by
//! client, so that a team can find the fields nobody uses any more.
//!
//! The pipeline calls [`Usage::record`] once per executed operation, after
//! execution. What the operation selects ([`select::Selected`]: its
//! `Type.field` coordinates through fragments, without `__typename` and
//! introspection) is computed once per document and operation and kept with
//! the document; per request there is one in-memory increment, keyed by
//! client name (`apollographql-client-name`, `unknown` when not sent),
//! client version (`apollographql-client-version`) and that memoised
//! selection. The counts are expanded into per-field counters and added to
//! the state store every `usage.flush_interval_ms`, in the background.
//!
//! Store layout: one counter map per UTC day and field, key
//! `usage:{YYYY-MM-DD}:{Type.field}`, counter names
//! `{client}\u{1f}{version}\u{1f}{operation}` (the operation's name, empty
//! when anonymous), each the number of operations that selected the field.
//! Routers sharing a Redis store add up. The report ([`report`]) reads
//! the last N days back. See `docs/usage.md`.

pub mod config;
pub mod page;
pub mod report;
pub mod select;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use apollo_compiler::executable::Operation;
use goliath_supergraph::Supergraph;
use tokio::sync::OnceCell;

use crate::pipeline::Document;
use crate::store::{self, Store, StoreConfig};
pub use config::UsageConfig;
use report::{Counts, ReportQuery, UsageReport};
pub use select::Selected;

/// The header naming the client.
pub const CLIENT_NAME_HEADER: &str = "apollographql-client-name";

/// The header naming the client's version.
pub const CLIENT_VERSION_HEADER: &str = "apollographql-client-version";

/// Separates client, version and operation in a counter's name.
pub const SEPARATOR: char = '\u{1f}';

/// The longest client name or version kept, in bytes (longer ones are cut).
const MAX_HEADER_BYTES: usize = 128;

/// The most (selection, client, version) entries waiting for a flush; past
/// it new ones are dropped (and logged) until the next flush.
const MAX_PENDING: usize = 50_000;

/// The store key of `field`'s counters on `date`.
pub fn key(date: &str, field: &str) -> String {
    format!("usage:{date}:{field}")
}

/// The field usage of one router: the counts not yet in the store. Made
/// once per router and shared by its pipelines (a new supergraph installs
/// itself with [`Usage::install`]).
pub struct Usage {
    enabled: AtomicBool,
    settings: RwLock<UsageConfig>,
    store_config: StoreConfig,
    store: OnceCell<Arc<dyn Store>>,
    supergraph: RwLock<Option<Arc<Supergraph>>>,
    pending: Mutex<Pending>,
    flusher: AtomicBool,
    flush_lock: tokio::sync::Mutex<()>,
    me: Weak<Usage>,
}

/// Counts since the last flush, by selection (its address: the entry holds
/// it, so the address is not reused meanwhile).
#[derive(Default)]
struct Pending {
    by_selection: HashMap<usize, Entry>,
    entries: usize,
    dropped: u64,
}

/// One selection's counts by client and version.
struct Entry {
    selected: Arc<Selected>,
    clients: Vec<(Box<str>, Box<str>, u64)>,
}

impl Usage {
    /// Usage counting with `settings`, into the store `store` describes
    /// (opened on the first flush).
    pub fn new(settings: &UsageConfig, store: &StoreConfig) -> Arc<Usage> {
        Arc::new_cyclic(|me| Usage {
            enabled: AtomicBool::new(settings.enabled),
            settings: RwLock::new(settings.clone()),
            store_config: store.clone(),
            store: OnceCell::new(),
            supergraph: RwLock::new(None),
            pending: Mutex::new(Pending::default()),
            flusher: AtomicBool::new(false),
            flush_lock: tokio::sync::Mutex::new(()),
            me: me.clone(),
        })
    }

    /// Uses `store` instead of opening one from the config.
    pub fn with_store(self: Arc<Self>, store: Arc<dyn Store>) -> Arc<Self> {
        let _ = self.store.set(store);
        self
    }

    /// Installs a supergraph (whose API schema the report lists) and
    /// settings: a new pipeline, or a config reload.
    pub fn install(&self, supergraph: Arc<Supergraph>, settings: &UsageConfig) {
        *write(&self.settings) = settings.clone();
        *write(&self.supergraph) = Some(supergraph);
        self.enabled.store(settings.enabled, Ordering::Relaxed);
    }

    /// Whether operations are counted.
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Counts one executed operation: `operation` of `document`, sent with
    /// `headers`. The selection is computed on the document's first
    /// execution of the operation, then reused.
    pub fn record(&self, document: &Document, operation: &Operation, headers: &http::HeaderMap) {
        if !self.enabled() {
            return;
        }
        let selected = document.usage(operation.name.as_ref(), || {
            select::selected(&document.doc, operation)
        });
        let client = header(headers, CLIENT_NAME_HEADER).unwrap_or("unknown");
        let version = header(headers, CLIENT_VERSION_HEADER).unwrap_or("");
        let mut guard = lock(&self.pending);
        let pending = &mut *guard;
        let entry = pending.by_selection.entry(Arc::as_ptr(&selected) as usize);
        let entry = match entry {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                if pending.entries >= MAX_PENDING {
                    pending.dropped += 1;
                    return;
                }
                e.insert(Entry {
                    selected: selected.clone(),
                    clients: vec![],
                })
            }
        };
        match entry
            .clients
            .iter_mut()
            .find(|(c, v, _)| &**c == client && &**v == version)
        {
            Some((_, _, n)) => *n += 1,
            None if pending.entries >= MAX_PENDING => pending.dropped += 1,
            None => {
                entry.clients.push((client.into(), version.into(), 1));
                pending.entries += 1;
            }
        }
        drop(guard);
        self.start_flusher();
    }

    /// Opens the store on first use.
    async fn store(&self) -> Result<Arc<dyn Store>, String> {
        self.store
            .get_or_try_init(|| store::open(&self.store_config))
            .await
            .cloned()
            .map_err(|e| e.to_string())
    }

    fn start_flusher(&self) {
        if self.flusher.load(Ordering::Relaxed) || self.flusher.swap(true, Ordering::AcqRel) {
            return;
        }
        store::flusher::spawn(self.me.clone());
    }

    /// Adds the counts since the last flush to today's counters in the
    /// store (what a failed write held is lost, and the error returned).
    pub async fn flush(&self) -> Result<(), String> {
        let _one = self.flush_lock.lock().await;
        let pending = std::mem::take(&mut *lock(&self.pending));
        if pending.dropped > 0 {
            tracing::warn!(
                "usage: {} operations not counted: over {MAX_PENDING} clients and operations between two flushes",
                pending.dropped
            );
        }
        if pending.by_selection.is_empty() {
            return Ok(());
        }
        let store = self.store().await?;
        let date = report::date(now_secs());
        let mut by_field: BTreeMap<&str, BTreeMap<String, i64>> = BTreeMap::new();
        for entry in pending.by_selection.values() {
            for (client, version, n) in &entry.clients {
                let name = format!(
                    "{client}{SEPARATOR}{version}{SEPARATOR}{}",
                    entry.selected.operation
                );
                for field in &entry.selected.fields {
                    *by_field
                        .entry(field)
                        .or_default()
                        .entry(name.clone())
                        .or_default() += i64::try_from(*n).unwrap_or(i64::MAX);
                }
            }
        }
        let mut failed = None;
        for (field, counts) in by_field {
            let counts: Vec<(String, i64)> = counts.into_iter().collect();
            if let Err(e) = store.add(&key(&date, field), &counts).await {
                failed = Some(e.to_string());
            }
        }
        failed.map_or(Ok(()), Err)
    }

    /// The report for `query`: flushes, then reads the period's counters
    /// (every router's, when they share the store) and lists them against
    /// the API schema of the supergraph in force.
    pub async fn report(&self, query: &ReportQuery) -> Result<UsageReport, String> {
        self.flush().await?;
        let store = self.store().await?;
        let days = report::dates(now_secs(), query.days.clamp(1, report::MAX_DAYS));
        let mut counts = Counts::default();
        for date in &days {
            let prefix = key(date, "");
            for k in store.keys(&prefix).await.map_err(|e| e.to_string())? {
                let field = &k[prefix.len()..];
                let counters = store.counters(&k).await.map_err(|e| e.to_string())?;
                let total: i64 = counters.values().map(|n| (*n).max(0)).sum();
                *counts.by_field.entry(field.to_owned()).or_default() += total as u64;
                if query.field.as_deref() == Some(field) {
                    for (name, n) in counters {
                        *counts.users.entry(name).or_default() += n.max(0) as u64;
                    }
                }
            }
        }
        let fields = match read(&self.supergraph).as_ref() {
            Some(s) => report::schema_fields(&s.api_schema),
            None => vec![],
        };
        Ok(report::build(query, &days, &fields, &counts))
    }
}

/// A header's value, cut to [`MAX_HEADER_BYTES`]; `None` when missing,
/// empty or not text.
fn header<'h>(headers: &'h http::HeaderMap, name: &str) -> Option<&'h str> {
    let value = headers.get(name)?.to_str().ok()?.trim();
    if value.is_empty() {
        return None;
    }
    let mut end = value.len().min(MAX_HEADER_BYTES);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    Some(&value[..end])
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

fn lock<T>(l: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    l.lock().unwrap_or_else(|e| e.into_inner())
}

/// Flushed in the background like the migrations' tallies.
impl store::flusher::Flushes for Usage {
    const NAME: &'static str = "usage";

    fn flush_interval(&self) -> Duration {
        Duration::from_millis(read(&self.settings).flush_interval_ms)
    }

    fn flush_to_store(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(self.flush())
    }
}
