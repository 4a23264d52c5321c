//! Field migrations: manual → side-by-side → canary → migrated.
//!
//! A layer the pipeline calls twice per request:
//!
//! 1. [`Migrations::route`] before planning: which subgraph serves each
//!    migrating field the operation selects (planner pins
//!    `Type.field=subgraph`, see `goliath_planner::plan`), and which
//!    fields to compare;
//! 2. [`Migrations::compare`] after the response is made: hands the
//!    comparison to a background task (bounded: `max_concurrency` running,
//!    `queue` waiting, the rest dropped and counted). The task asks the new
//!    side with the shadow operation (the client's query cut down to the
//!    migrating fields, `goliath_planner::shadow`), sometimes asks the old
//!    side again to learn which paths are nondeterministic, compares
//!    entity by entity ([`compare`]) and tallies what it found.
//!
//! The tallies go to the state store every `flush_interval_ms`
//! ([`record`]); the report ([`report`]) reads them back, summed over
//! every router sharing the store. Automatic steps ([`auto`]) run after
//! each flush. See `docs/migrations.md`.

mod auto;
mod batch;
pub mod compare;
mod config;
pub mod entities;
pub mod record;
pub mod report;
mod shadow;
mod table;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use bytes::Bytes;
use goliath_supergraph::{MigrationState, Supergraph};
use serde_json::{Map, Value};
use tokio::sync::{OnceCell, Semaphore};

use crate::store::{self, Store, StoreConfig};
pub use config::{AutoConfig, FieldConfig, MigrationsConfig};
use record::{Pending, Tally};
use report::{Event, FieldReport, Report, Sample};
pub use shadow::Job;
pub use table::{Active, Override, Table};

/// Runs an operation for a comparison, with the given planner labels and
/// no migration routing of its own: the pipeline.
pub trait Runner: Send + Sync + 'static {
    /// The response body of `query` (its `operation_name`) with these
    /// `variables`, planned with `labels`, as if the client had sent
    /// `headers`.
    fn run(
        &self,
        query: Arc<str>,
        operation_name: Option<String>,
        variables: Map<String, Value>,
        labels: Vec<String>,
        headers: http::HeaderMap,
    ) -> Pin<Box<dyn Future<Output = Result<Bytes, String>> + Send + '_>>;
}

/// What one operation selects of the migrating fields (memoised per
/// document, operation and table generation).
#[derive(Debug, Default)]
pub struct Touched {
    /// The table indices of the migrating fields it selects.
    pub fields: Vec<usize>,
    /// The shadow operation's text (`None`: not a query, or none selected).
    pub shadow_query: Option<Arc<str>>,
    /// The client's operation with the compared parents' keys added
    /// (`goliath_planner::shadow::augment`), when the direct comparison
    /// applies to some field.
    pub augmented: Option<Arc<str>>,
    /// The shadow operation, parsed and validated (for walking answers).
    pub shadow_doc:
        Option<Arc<apollo_compiler::validation::Valid<apollo_compiler::ExecutableDocument>>>,
}

/// One request's routing.
#[derive(Debug, Default)]
pub struct Route {
    /// Planner pins for the migrating fields the operation selects.
    pub pins: Vec<String>,
    /// Table indices of the fields to compare.
    pub compare: Vec<usize>,
    /// The table the route was made from.
    pub table: Arc<Table>,
    /// The shadow operation, when there is something to compare.
    pub shadow_query: Option<Arc<str>>,
    /// The augmented operation, to plan the request with (direct
    /// comparison).
    pub augmented: Option<Arc<str>>,
    /// The shadow operation, parsed.
    pub shadow_doc:
        Option<Arc<apollo_compiler::validation::Valid<apollo_compiler::ExecutableDocument>>>,
}

/// The migrations of one router: the table in force, the comparisons in
/// flight and the tallies not yet in the store. Outlives pipelines (a new
/// supergraph installs itself with [`Migrations::install`]).
pub struct Migrations {
    settings: RwLock<Arc<MigrationsConfig>>,
    store_config: StoreConfig,
    supergraph: RwLock<Option<Arc<Supergraph>>>,
    overrides: RwLock<BTreeMap<String, Override>>,
    table: RwLock<Arc<Table>>,
    generation: AtomicU64,
    store: OnceCell<Arc<dyn Store>>,
    pending: Mutex<Pending>,
    /// Known nondeterministic path patterns, by field.
    noise: RwLock<BTreeMap<String, BTreeSet<String>>>,
    /// Comparisons waiting or running.
    jobs: AtomicUsize,
    running: Arc<Semaphore>,
    flusher: AtomicBool,
    flush_lock: tokio::sync::Mutex<()>,
    /// Batches the direct comparisons' `_entities` requests.
    batcher: Arc<batch::Batcher>,
    me: Weak<Migrations>,
}

impl Migrations {
    /// Migrations with these settings, recording into the store `store`
    /// describes (`migrations.store` overrides it), opened when first needed.
    pub fn new(settings: &MigrationsConfig, store: &StoreConfig) -> Arc<Migrations> {
        Arc::new_cyclic(|me| Migrations {
            settings: RwLock::new(Arc::new(settings.clone())),
            store_config: store.clone(),
            supergraph: RwLock::new(None),
            overrides: RwLock::new(BTreeMap::new()),
            table: RwLock::new(Arc::new(Table::default())),
            generation: AtomicU64::new(1),
            store: OnceCell::new(),
            pending: Mutex::new(Pending::default()),
            noise: RwLock::new(BTreeMap::new()),
            jobs: AtomicUsize::new(0),
            running: Arc::new(Semaphore::new(settings.max_concurrency.max(1))),
            flusher: AtomicBool::new(false),
            flush_lock: tokio::sync::Mutex::new(()),
            batcher: Arc::new(batch::Batcher::default()),
            me: me.clone(),
        })
    }

    /// Uses `store` instead of opening one from the config.
    pub fn with_store(self: Arc<Self>, store: Arc<dyn Store>) -> Arc<Self> {
        let _ = self.store.set(store);
        self
    }

    /// Installs a supergraph and settings (a new pipeline, or a config
    /// reload): rebuilds the table. Fails, changing nothing, when the
    /// config's migrations do not fit the supergraph.
    pub fn install(
        &self,
        supergraph: Arc<Supergraph>,
        settings: &MigrationsConfig,
    ) -> Result<(), String> {
        let overrides = read(&self.overrides).clone();
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let table = Table::build(&supergraph, settings, &overrides, generation)?;
        *write(&self.settings) = Arc::new(settings.clone());
        *write(&self.supergraph) = Some(supergraph);
        *write(&self.table) = Arc::new(table);
        Ok(())
    }

    /// The table in force.
    pub fn table(&self) -> Arc<Table> {
        read(&self.table).clone()
    }

    fn rebuild(&self) {
        let Some(supergraph) = read(&self.supergraph).clone() else {
            return;
        };
        let settings = read(&self.settings).clone();
        let overrides = read(&self.overrides).clone();
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        match Table::build(&supergraph, &settings, &overrides, generation) {
            Ok(table) => *write(&self.table) = Arc::new(table),
            Err(e) => tracing::error!("migrations: {e}"),
        }
    }

    /// Routes one request: pins for the fields `touched` selects, and the
    /// fields to compare. `opt_in` is the opt-in header's value.
    pub fn route(
        &self,
        table: Arc<Table>,
        touched: &Touched,
        opt_in: Option<&str>,
        is_query: bool,
    ) -> Route {
        let opted: Vec<&str> = opt_in
            .map(|h| {
                h.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let all = opted.contains(&"all");
        let mut route = Route {
            pins: Vec::with_capacity(touched.fields.len()),
            ..Route::default()
        };
        let mut pending = lock(&self.pending);
        for &i in &touched.fields {
            let a = &table.fields[i];
            let new = match a.state {
                MigrationState::Migrated => true,
                MigrationState::Canary => fastrand::f64() * 100.0 < a.percent.unwrap_or(0.0),
                MigrationState::Manual | MigrationState::SideBySide => false,
            } || all
                || opted.contains(&a.coordinate.as_str());
            route.pins.push(if new {
                a.pin_new.clone()
            } else {
                a.pin_old.clone()
            });
            let served = if new { "served_new" } else { "served_old" };
            match pending.fields.get_mut(&a.coordinate) {
                Some(tally) => tally.count(served, 1),
                None => {
                    let mut tally = Tally::default();
                    tally.count(served, 1);
                    pending.fields.insert(a.coordinate.clone(), tally);
                }
            }
            let compared = !new
                && is_query
                && matches!(a.state, MigrationState::SideBySide | MigrationState::Canary)
                && (a.sample >= 100.0 || fastrand::f64() * 100.0 < a.sample);
            if compared {
                route.compare.push(i);
            }
        }
        drop(pending);
        if !route.compare.is_empty() {
            route.shadow_query = touched.shadow_query.clone();
            route.shadow_doc = touched.shadow_doc.clone();
            route.augmented = touched.augmented.clone();
            self.start_flusher();
        } else if !touched.fields.is_empty() {
            self.start_flusher();
        }
        route.table = table;
        route
    }

    /// What `operation` of `doc` selects of the migrating fields of `table`.
    pub fn touched(
        table: &Table,
        supergraph: &Supergraph,
        doc: &apollo_compiler::ExecutableDocument,
        operation: &apollo_compiler::executable::Operation,
    ) -> Touched {
        let schema = &supergraph.api_schema;
        if table.fields.is_empty() {
            return Touched::default();
        }
        let seen = Mutex::new(BTreeSet::new());
        let shadow = goliath_planner::shadow::prune(schema, doc, operation, &|t, f| match table
            .index(t, f)
        {
            Some(i) => {
                lock(&seen).insert(i);
                true
            }
            None => false,
        });
        let fields: Vec<usize> = seen.into_inner().unwrap_or_default().into_iter().collect();
        if !operation.operation_type.is_query() && fields.is_empty() {
            // `prune` does not walk mutations: find their fields here.
            let mut found = BTreeSet::new();
            collect_fields(table, doc, &operation.selection_set, &mut found, 0);
            return Touched {
                fields: found.into_iter().collect(),
                ..Touched::default()
            };
        }
        let shadow_doc = shadow.as_deref().and_then(|text| {
            apollo_compiler::ExecutableDocument::parse_and_validate(schema, text, "shadow.graphql")
                .map_err(|e| {
                    tracing::warn!("migrations: the shadow operation does not validate: {e}")
                })
                .ok()
                .map(Arc::new)
        });
        let augmented = goliath_planner::shadow::augment(schema, doc, operation, &|t, f| {
            let a = &table.fields[table.index(t, f)?];
            entities::key_fields(supergraph, a)
        });
        Touched {
            fields,
            shadow_query: shadow.filter(|_| shadow_doc.is_some()).map(Arc::from),
            shadow_doc,
            augmented: augmented.map(Arc::from),
        }
    }

    /// Hands a comparison to the background (or counts it dropped when
    /// the queue is full).
    pub fn compare(&self, job: shadow::Job) {
        let settings = read(&self.settings).clone();
        let cap = settings.max_concurrency.max(1) + settings.queue;
        if self.jobs.fetch_add(1, Ordering::AcqRel) >= cap {
            self.jobs.fetch_sub(1, Ordering::AcqRel);
            let mut pending = lock(&self.pending);
            for &i in &job.route.compare {
                let coordinate = &job.route.table.fields[i].coordinate;
                pending
                    .fields
                    .entry(coordinate.clone())
                    .or_default()
                    .count("dropped", 1);
            }
            return;
        }
        let Some(me) = self.me.upgrade() else {
            self.jobs.fetch_sub(1, Ordering::AcqRel);
            return;
        };
        tokio::spawn(async move {
            let permit = me.running.clone().acquire_owned().await;
            let noise_roll = fastrand::f64() * 100.0 < settings.noise_sample;
            let timeout = Duration::from_millis(settings.shadow_timeout_ms);
            let found = shadow::run(&me, job, noise_roll, timeout, settings.samples_kept).await;
            me.tally(found);
            drop(permit);
            me.jobs.fetch_sub(1, Ordering::AcqRel);
        });
    }

    /// The known noisy patterns of a field.
    fn noisy(&self, coordinate: &str) -> BTreeSet<String> {
        read(&self.noise)
            .get(coordinate)
            .cloned()
            .unwrap_or_default()
    }

    fn tally(&self, found: Vec<(String, Tally)>) {
        let mut pending = lock(&self.pending);
        for (coordinate, t) in found {
            if !t.noise.is_empty() {
                write(&self.noise)
                    .entry(coordinate.clone())
                    .or_default()
                    .extend(t.noise.iter().cloned());
            }
            let into = pending.fields.entry(coordinate).or_default();
            for (k, v) in t.counts {
                *into.counts.entry(k).or_default() += v;
            }
            into.samples.extend(t.samples);
            into.noise.extend(t.noise);
            into.events.extend(t.events);
        }
    }

    /// Opens the store on first use.
    async fn store(&self) -> Result<Arc<dyn Store>, String> {
        let settings = read(&self.settings).clone();
        self.store
            .get_or_try_init(|| async {
                match &settings.store {
                    Some(url) => store::open_redis(url, &self.store_config.key_prefix).await,
                    None => store::open(&self.store_config).await,
                }
            })
            .await
            .cloned()
            .map_err(|e| e.to_string())
    }

    fn start_flusher(&self) {
        if self.flusher.swap(true, Ordering::AcqRel) {
            return;
        }
        store::flusher::spawn(self.me.clone());
    }

    /// Writes the tallies to the store, reads back what other routers
    /// learned (noise, overrides) and runs the automatic steps.
    pub async fn flush(&self) -> Result<(), String> {
        let _one = self.flush_lock.lock().await;
        let store = self.store().await?;
        let settings = read(&self.settings).clone();
        let pending = std::mem::take(&mut *lock(&self.pending));
        let mut failed = None;
        for (coordinate, t) in pending.fields {
            let counts: Vec<(String, i64)> = t.counts.into_iter().collect();
            let result = async {
                if !counts.is_empty() {
                    store
                        .add(&record::key(&coordinate, "counts"), &counts)
                        .await?;
                }
                if !t.samples.is_empty() {
                    let items: Vec<Vec<u8>> = t
                        .samples
                        .iter()
                        .map(|s| serde_json::to_vec(s).unwrap_or_default())
                        .collect();
                    store
                        .push_capped(
                            &record::key(&coordinate, "samples"),
                            &items,
                            settings.samples_kept,
                        )
                        .await?;
                }
                if !t.noise.is_empty() {
                    let members: Vec<String> = t.noise.into_iter().collect();
                    store
                        .set_add(&record::key(&coordinate, "noise"), &members)
                        .await?;
                }
                if !t.events.is_empty() {
                    let items: Vec<Vec<u8>> = t
                        .events
                        .iter()
                        .map(|e| serde_json::to_vec(e).unwrap_or_default())
                        .collect();
                    store
                        .push_capped(&record::key(&coordinate, "events"), &items, 100)
                        .await?;
                }
                Ok::<(), store::StoreError>(())
            }
            .await;
            if let Err(e) = result {
                failed = Some(e.to_string());
            }
        }
        // What other routers learned.
        let table = self.table();
        for a in &table.fields {
            if let Ok(members) = store
                .set_members(&record::key(&a.coordinate, "noise"))
                .await
            {
                if !members.is_empty() {
                    write(&self.noise).insert(a.coordinate.clone(), members);
                }
            }
        }
        let stored: BTreeMap<String, Override> = match store.get(record::OVERRIDES_KEY).await {
            Ok(Some(bytes)) => serde_json::from_slice(&bytes).unwrap_or_default(),
            _ => BTreeMap::new(),
        };
        if stored != *read(&self.overrides) {
            *write(&self.overrides) = stored;
            self.rebuild();
        }
        auto::step(self, &store).await;
        failed.map_or(Ok(()), Err)
    }

    /// The report: every migrating field, with what the store has.
    pub async fn report(&self) -> Result<Report, String> {
        self.flush().await?;
        let store = self.store().await?;
        let table = self.table();
        let mut fields = vec![];
        for a in &table.fields {
            let counts = store
                .counters(&record::key(&a.coordinate, "counts"))
                .await
                .map_err(|e| e.to_string())?;
            let get = |k: &str| counts.get(k).copied().unwrap_or(0).max(0) as u64;
            let samples: Vec<Sample> = store
                .list(&record::key(&a.coordinate, "samples"))
                .await
                .map_err(|e| e.to_string())?
                .iter()
                .filter_map(|b| serde_json::from_slice(b).ok())
                .collect();
            let events: Vec<Event> = store
                .list(&record::key(&a.coordinate, "events"))
                .await
                .map_err(|e| e.to_string())?
                .iter()
                .filter_map(|b| serde_json::from_slice(b).ok())
                .collect();
            let noisy: Vec<String> = store
                .set_members(&record::key(&a.coordinate, "noise"))
                .await
                .map_err(|e| e.to_string())?
                .into_iter()
                .collect();
            let compared = get("compared");
            let mismatched = get("mismatched");
            fields.push(FieldReport {
                field: a.coordinate.clone(),
                from: a.from.clone(),
                to: a.to.clone(),
                state: a.state.as_str().to_owned(),
                percent: if a.state == MigrationState::Canary {
                    a.percent
                } else {
                    None
                },
                source: a.source.clone(),
                compared,
                matched: get("matched"),
                mismatched,
                noise: get("noise"),
                errors_old: get("errors_old"),
                errors_new: get("errors_new"),
                dropped: get("dropped"),
                served_new: get("served_new"),
                served_old: get("served_old"),
                latency_ms: report::Latencies {
                    old: record::percentiles(&counts, "old"),
                    new: record::percentiles(&counts, "new"),
                },
                ready: compared >= a.ready_after && mismatched == 0,
                ready_after: a.ready_after,
                noisy_paths: noisy,
                samples,
                events,
            });
        }
        Ok(Report { fields })
    }

    /// Sets a field's state at run time (every router sharing the store
    /// follows within a flush interval).
    pub async fn set(
        &self,
        coordinate: &str,
        state: MigrationState,
        percent: Option<f64>,
        source: &str,
        reason: &str,
    ) -> Result<(), String> {
        let table = self.table();
        let Some(a) = table.fields.iter().find(|a| a.coordinate == coordinate) else {
            return Err(format!("{coordinate} is not a migrating field"));
        };
        if let Some(p) = percent {
            if !(0.0..=100.0).contains(&p) {
                return Err(format!("{p} is not a share between 0 and 100"));
            }
        }
        if state == MigrationState::Canary && percent.is_none() {
            return Err("canary needs a percent".to_owned());
        }
        let store = self.store().await?;
        let baseline = store
            .counters(&record::key(coordinate, "counts"))
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|(k, _)| !k.starts_with("lat_"))
            .collect();
        let at = record::now_rfc3339();
        let event = Event {
            at: at.clone(),
            from_state: a.state.as_str().to_owned(),
            from_percent: a.percent,
            to_state: state.as_str().to_owned(),
            to_percent: percent,
            reason: reason.to_owned(),
        };
        tracing::info!(
            "migration {coordinate}: {} → {} ({reason})",
            describe(a.state, a.percent),
            describe(state, percent)
        );
        let mut overrides = read(&self.overrides).clone();
        overrides.insert(
            coordinate.to_owned(),
            Override {
                state,
                percent: if state == MigrationState::Canary {
                    percent
                } else {
                    None
                },
                source: source.to_owned(),
                at,
                baseline,
                paused: source == "auto" && reason.starts_with("rollback"),
            },
        );
        let bytes = serde_json::to_vec(&overrides).map_err(|e| e.to_string())?;
        store
            .put(record::OVERRIDES_KEY, &bytes, None)
            .await
            .map_err(|e| e.to_string())?;
        let item = serde_json::to_vec(&event).map_err(|e| e.to_string())?;
        store
            .push_capped(&record::key(coordinate, "events"), &[item], 100)
            .await
            .map_err(|e| e.to_string())?;
        *write(&self.overrides) = overrides;
        self.rebuild();
        Ok(())
    }

    /// Drops a field's run-time state: the config's (or supergraph's)
    /// applies again.
    pub async fn clear(&self, coordinate: &str) -> Result<(), String> {
        let store = self.store().await?;
        let mut overrides = read(&self.overrides).clone();
        if overrides.remove(coordinate).is_none() {
            return Ok(());
        }
        let bytes = serde_json::to_vec(&overrides).map_err(|e| e.to_string())?;
        store
            .put(record::OVERRIDES_KEY, &bytes, None)
            .await
            .map_err(|e| e.to_string())?;
        *write(&self.overrides) = overrides;
        self.rebuild();
        Ok(())
    }

    /// The settings in force.
    pub fn settings(&self) -> Arc<MigrationsConfig> {
        read(&self.settings).clone()
    }

    /// The run-time override of a field, if any.
    fn override_of(&self, coordinate: &str) -> Option<Override> {
        read(&self.overrides).get(coordinate).cloned()
    }
}

/// `canary 5%`, `side-by-side`, …
fn describe(state: MigrationState, percent: Option<f64>) -> String {
    match (state, percent) {
        (MigrationState::Canary, Some(p)) => format!("canary {p}%"),
        (s, _) => s.as_str().to_owned(),
    }
}

/// The migrating fields a mutation's root selects (mutations are routed,
/// never compared).
fn collect_fields(
    table: &Table,
    doc: &apollo_compiler::ExecutableDocument,
    set: &apollo_compiler::executable::SelectionSet,
    out: &mut BTreeSet<usize>,
    depth: usize,
) {
    if depth > 64 {
        return;
    }
    for s in &set.selections {
        match s {
            apollo_compiler::executable::Selection::Field(f) => {
                if let Some(i) = table.index(set.ty.as_str(), f.name.as_str()) {
                    out.insert(i);
                }
                collect_fields(table, doc, &f.selection_set, out, depth + 1);
            }
            apollo_compiler::executable::Selection::InlineFragment(i) => {
                collect_fields(table, doc, &i.selection_set, out, depth + 1)
            }
            apollo_compiler::executable::Selection::FragmentSpread(sp) => {
                if let Some(f) = doc.fragments.get(&sp.fragment_name) {
                    collect_fields(table, doc, &f.selection_set, out, depth + 1)
                }
            }
        }
    }
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

/// The tallies are written every `flush_interval_ms`.
impl store::flusher::Flushes for Migrations {
    const NAME: &'static str = "migrations";

    fn flush_interval(&self) -> Duration {
        Duration::from_millis(read(&self.settings).flush_interval_ms)
    }

    fn flush_to_store(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(self.flush())
    }
}
