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
//! selection, in the recording thread's shard of the pending counts
//! (`pending.rs`: requests on different threads do not share a lock). The
//! counts are expanded into per-field counters (`batch.rs`) and added to
//! the state store every `usage.flush_interval_ms`, in the background.
//!
//! Store layout: one counter map per UTC day and field, key
//! `usage:{YYYY-MM-DD}:{Type.field}`, counter names
//! `{client}\u{1f}{version}\u{1f}{operation}` (the operation's name, empty
//! when anonymous), each the number of operations that selected the field.
//! Routers sharing a Redis store add up. The report ([`report`]) reads
//! the last N days back.
//!
//! A flush whose writes fail keeps their counts, under the day they were
//! counted, for the next flush (bounded). The days older than
//! `usage.retention_days` are deleted on a router's first flush and then
//! once per UTC day (`retention.rs`). See `docs/usage.md`.

pub mod config;
pub mod page;
pub mod report;
pub mod select;

mod batch;
mod pending;
mod retention;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use apollo_compiler::executable::Operation;
use goliath_supergraph::Supergraph;
use http::HeaderName;
use tokio::sync::OnceCell;

use crate::pipeline::Document;
use crate::store::{self, Store, StoreConfig};
use batch::{Batch, MAX_RETRY};
pub use config::UsageConfig;
use pending::{Pending, MAX_PENDING};
use report::{Counts, ReportQuery, UsageReport};
pub use select::Selected;
// The client's name and version headers, as the metrics read them.
use crate::telemetry::{CLIENT_NAME, CLIENT_VERSION};

/// Separates client, version and operation in a counter's name.
pub const SEPARATOR: char = '\u{1f}';

/// The longest client name or version kept, in bytes (longer ones are cut).
const MAX_HEADER_BYTES: usize = 128;

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
    /// The counts since the last flush (sharded: see [`pending`]).
    pending: Pending,
    flusher: AtomicBool,
    /// One flush at a time, and what flushes keep between them.
    flushes: tokio::sync::Mutex<Flushed>,
    /// The clock, fixed by tests (seconds since the epoch; 0: the system's).
    now: AtomicU64,
    me: Weak<Usage>,
}

/// What flushes keep between them.
#[derive(Default)]
struct Flushed {
    /// Counts whose write failed, under the day they were counted: the
    /// next flush writes them with its own (at most [`MAX_RETRY`]
    /// counters).
    retry: Batch,
    /// The UTC date the old days were last deleted on.
    purged_on: Option<String>,
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
            pending: Pending::default(),
            flusher: AtomicBool::new(false),
            flushes: tokio::sync::Mutex::new(Flushed::default()),
            now: AtomicU64::new(0),
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
        self.count(&selected, headers);
    }

    /// Counts one operation that selected `selected`, sent with `headers`
    /// ([`Usage::record`] without a document: for tests and benchmarks).
    #[doc(hidden)]
    pub fn record_selected(&self, selected: &Arc<Selected>, headers: &http::HeaderMap) {
        if self.enabled() {
            self.count(selected, headers);
        }
    }

    fn count(&self, selected: &Arc<Selected>, headers: &http::HeaderMap) {
        let client = header(headers, &CLIENT_NAME).unwrap_or("unknown");
        let version = header(headers, &CLIENT_VERSION).unwrap_or("");
        self.pending.record(selected, client, version);
        self.start_flusher();
    }

    /// Fixes the clock flushes and reports read, in seconds since the
    /// epoch (0: the system clock again). For tests.
    #[doc(hidden)]
    pub fn set_now(&self, secs: u64) {
        self.now.store(secs, Ordering::Relaxed);
    }

    fn now(&self) -> u64 {
        match self.now.load(Ordering::Relaxed) {
            0 => now_secs(),
            fixed => fixed,
        }
    }

    /// Opens the store on first use.
    async fn store(&self) -> Result<Arc<dyn Store>, String> {
        self.store
            .get_or_try_init(|| store::open(&self.store_config))
            .await
            .cloned()
            .map_err(|e| e.to_string())
    }

    /// Starts the background flushes on the first count made on a tokio
    /// runtime (a count on a thread of its own waits for one).
    fn start_flusher(&self) {
        if self.flusher.load(Ordering::Relaxed)
            || tokio::runtime::Handle::try_current().is_err()
            || self.flusher.swap(true, Ordering::AcqRel)
        {
            return;
        }
        store::flusher::spawn(self.me.clone());
    }

    /// Adds the counts since the last flush to today's counters in the
    /// store, with those a failed flush kept (under the day they were
    /// counted); what fails to be written now is kept for the next flush,
    /// and the error returned. On the first flush of each UTC day, also
    /// deletes the days older than `usage.retention_days`.
    pub async fn flush(&self) -> Result<(), String> {
        let mut flushed = self.flushes.lock().await;
        let now = self.now();
        let today = report::date(now);
        let mut batch = std::mem::take(&mut flushed.retry);
        batch.add_taken(&today, &self.take_pending());
        let purge = flushed.purged_on.as_deref() != Some(today.as_str());
        if batch.is_empty() && !purge {
            return Ok(());
        }
        let store = match self.store().await {
            Ok(store) => store,
            Err(e) => {
                log_not_kept(flushed.retry.keep_all(batch, MAX_RETRY));
                return Err(kept(e, &flushed.retry));
            }
        };
        let written = write_batch(&*store, batch, &mut flushed.retry).await;
        let purged = if purge {
            self.purge(&*store, now).await
        } else {
            Ok(())
        };
        if purge && purged.is_ok() {
            flushed.purged_on = Some(today);
        }
        written.and(purged)
    }

    /// Deletes the days older than `usage.retention_days` at `now`.
    async fn purge(&self, store: &dyn Store, now: u64) -> Result<(), String> {
        let days = read(&self.settings).retention_days;
        let deleted = retention::purge(store, now, days)
            .await
            .map_err(|e| e.to_string())?;
        if deleted > 0 {
            tracing::info!("usage: deleted {deleted} counter maps older than {days} days");
        }
        Ok(())
    }

    /// Takes the counts since the last flush, logging those not counted.
    fn take_pending(&self) -> pending::Taken {
        let taken = self.pending.take();
        if taken.dropped > 0 {
            tracing::warn!(
                "usage: {} operations not counted: over {MAX_PENDING} clients and operations between two flushes",
                taken.dropped
            );
        }
        taken
    }

    /// The report for `query`: flushes, then reads the period's counters
    /// (every router's, when they share the store) and lists them against
    /// the API schema of the supergraph in force.
    pub async fn report(&self, query: &ReportQuery) -> Result<UsageReport, String> {
        self.flush().await?;
        let store = self.store().await?;
        let days = report::dates(self.now(), query.days.clamp(1, report::MAX_DAYS));
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

/// Writes `batch` to `store`, one key per date and field; the counters of
/// a key whose write fails are kept in `retry` (up to [`MAX_RETRY`]).
/// Returns the last error, with the size of `retry`.
async fn write_batch(store: &dyn Store, batch: Batch, retry: &mut Batch) -> Result<(), String> {
    let mut failed = None;
    let mut not_kept = 0u64;
    for ((date, field), counts) in batch {
        if let Err(e) = store.add(&key(&date, &field), &counts).await {
            not_kept = not_kept.saturating_add(retry.keep((date, field), counts, MAX_RETRY));
            failed = Some(e.to_string());
        }
    }
    log_not_kept(not_kept);
    failed.map_or(Ok(()), |e| Err(kept(e, retry)))
}

/// `error`, saying what waits for the next flush.
fn kept(error: String, retry: &Batch) -> String {
    format!(
        "{error} ({} counters kept for the next flush)",
        retry.counters()
    )
}

/// Logs the counts a failed write could not keep for the next flush.
fn log_not_kept(dropped: u64) {
    if dropped > 0 {
        tracing::warn!(
            "usage: {dropped} field counts lost: the state store failed and over {MAX_RETRY} counters wait to be written"
        );
    }
}

/// A header's value, cut to [`MAX_HEADER_BYTES`]; `None` when missing,
/// empty or not text.
fn header<'h>(headers: &'h http::HeaderMap, name: &HeaderName) -> Option<&'h str> {
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
