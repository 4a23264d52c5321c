//! `goliath router`: serves a supergraph, swaps in new versions of it and
//! of the config while serving, and shuts down gracefully.
//!
//! - **Reloading.** The supergraph file (`--supergraph`) and the config
//!   file (`--config`) are read again on `SIGHUP`, and whenever they change
//!   when hot reload is on (`--hot-reload` or `hot_reload: true`: their
//!   modification times are checked every second). With `--compose` the
//!   subgraphs are polled instead of a supergraph file. A new version that
//!   loads is swapped in for the requests that start from then on (those
//!   in flight finish on the old one); one that does not is logged with
//!   its error and the last good version keeps serving.
//! - **Shutting down.** On SIGTERM or SIGINT the router stops accepting,
//!   readiness (`/health?ready`) turns to 503, the requests in flight get
//!   up to `shutdown_timeout_ms` to finish, and the process exits 0.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use goliath_router::admin::{self, Admin};
use goliath_router::http::{ServerState, Settings};
use goliath_router::migrations::Migrations;
use goliath_router::pipeline::Parts;
use goliath_router::response_cache::ResponseCache;
use goliath_router::telemetry::{Reload, Telemetry};
use goliath_router::usage::Usage;
use goliath_router::workers::{self, Workers};
use goliath_router::{Config, Pipeline};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

/// The `router` subcommand's arguments.
pub struct Args {
    /// The supergraph SDL file (overrides `supergraph` in the config).
    pub supergraph: Option<PathBuf>,
    /// A supergraph.yaml whose subgraphs are composed and polled.
    pub compose: Option<PathBuf>,
    /// With `compose`: seconds between two polls.
    pub poll_interval: u64,
    /// The YAML config file.
    pub config: Option<PathBuf>,
    /// The address to listen on (overrides `listen` in the config).
    pub listen: Option<String>,
    /// Watch the files and reload them when they change.
    pub hot_reload: bool,
}

/// Runs the router until SIGTERM or SIGINT.
pub fn run(args: Args) -> Result<(), String> {
    let mut config = match &args.config {
        Some(p) => Config::load(p).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    if let Some(l) = &args.listen {
        config.listen = l.clone();
    }
    let addr = config
        .listen_addr()
        .map_err(|e| format!("invalid listen address {:?}: {e}", config.listen))?;
    let (source, sdl, recomposer) = match &args.compose {
        Some(path) => {
            let mut recomposer = goliath_compose::Recomposer::new(path);
            let sdl = recomposer
                .poll(&fetcher(&config))
                .map_err(|e| format!("{}: {e}", path.display()))?
                .ok_or("nothing to compose")?;
            (path.clone(), sdl, Some(recomposer))
        }
        None => {
            let path = args.supergraph.clone().or_else(|| config.supergraph.file.clone()).ok_or(
                "no supergraph: pass --supergraph FILE, --compose supergraph.yaml or set `supergraph` in the config",
            )?;
            let sdl = read(&path)?;
            (path, sdl, None)
        }
    };
    // One set of migrations for the router's life: every pipeline (a
    // recomposed supergraph, a reloaded config) is built on it.
    let migrations = Migrations::new(&config.migrations, &config.store);
    // Field usage too: counts not yet flushed carry over to new pipelines.
    let usage = Usage::new(&config.usage, &config.store);
    // And the metrics, counted across reloads.
    let telemetry = Telemetry::new(&config.telemetry)?;
    // And the response cache: purges reach answers kept by any pipeline.
    let response_cache = ResponseCache::new(&config.response_cache);
    let parts = Parts {
        migrations: migrations.clone(),
        usage: usage.clone(),
        telemetry: telemetry.clone(),
        response_cache: response_cache.clone(),
    };
    let pipeline = Pipeline::with_parts(&sdl, &config, parts)
        .map_err(|e| format!("{}: {e}", source.display()))?;
    telemetry.supergraph_loaded();
    // Kept to send the spans still waiting when the router stops.
    let traces = telemetry.traces().cloned();
    let workers = Workers::bind(addr, workers::default_count())
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let addr = workers.local_addr();
    let admin = admin_listener(&config, &migrations, &usage, &telemetry, &response_cache)?;
    let state = Arc::new(ServerState::new(&config));
    state.set_handler(Some(Arc::new(pipeline)));
    let hot_reload = args.hot_reload || config.hot_reload;
    let reloader = Arc::new(Reloader {
        supergraph_file: recomposer.is_none().then(|| source.clone()),
        config_file: args.config.clone(),
        listen: args.listen.clone(),
        state: state.clone(),
        migrations,
        usage,
        telemetry,
        response_cache,
        started: config.clone(),
        live: Mutex::new(Live { sdl, config }),
    });
    // Stops the admin listener when the router stops.
    let (stop, stopped) = watch::channel(false);
    let setup = {
        let (reloader, graphql_path) = (reloader.clone(), reloader.started.graphql_path.clone());
        move || {
            if let Some(recomposer) = recomposer {
                let every = Duration::from_secs(args.poll_interval.max(1));
                tokio::spawn(recompose_loop(recomposer, reloader.clone(), every));
            }
            if hot_reload {
                tokio::spawn(watch_loop(reloader.clone()));
            }
            match signal(SignalKind::hangup()) {
                Ok(mut hup) => {
                    let reloader = reloader.clone();
                    tokio::spawn(async move {
                        while hup.recv().await.is_some() {
                            tracing::info!("SIGHUP: reloading");
                            reloader.clone().reload_off_thread().await;
                        }
                    });
                }
                Err(e) => tracing::warn!("cannot listen for SIGHUP: {e}"),
            }
            if let Some((listener, admin)) = admin {
                spawn_admin(listener, admin, stopped);
            }
            tracing::info!(
                "goliath router serving {} on http://{addr}{graphql_path}{}",
                source.display(),
                if hot_reload { " (hot reload on)" } else { "" }
            );
        }
    };
    let shutdown = {
        let state = state.clone();
        async move {
            let why = shutdown_signal().await;
            state.begin_shutdown();
            tracing::info!(
                "{why}: shutting down; requests in flight have up to {} ms to finish",
                reloader.started.shutdown_timeout_ms
            );
            let _ = stop.send(true);
        }
    };
    workers
        .serve(state, setup, shutdown)
        .map_err(|e| format!("the server stopped: {e}"))?;
    if let Some(traces) = traces {
        traces.shutdown();
    }
    tracing::info!("goliath router stopped");
    Ok(())
}

/// Asks a subgraph for its SDL with the router's client and `config`'s
/// settings for it (`goliath_router::subgraph_sdl`).
fn fetcher(config: &Config) -> impl Fn(&str, &str) -> Result<String, String> + '_ {
    move |name, url| goliath_router::subgraph_sdl::fetch_blocking(config, name, url)
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Waits for SIGTERM or SIGINT; names the one that came.
async fn shutdown_signal() -> &'static str {
    let mut term = match signal(SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => {
            tracing::warn!("cannot listen for SIGTERM: {e}");
            let _ = tokio::signal::ctrl_c().await;
            return "SIGINT";
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}

/// The admin listener, bound now so that a bad address stops start-up.
fn admin_listener(
    config: &Config,
    migrations: &Arc<Migrations>,
    usage: &Arc<Usage>,
    telemetry: &Telemetry,
    response_cache: &Option<Arc<ResponseCache>>,
) -> Result<Option<(std::net::TcpListener, Arc<Admin>)>, String> {
    let Some(admin_addr) = config.admin.listen_addr() else {
        return Ok(None);
    };
    let admin_addr = admin_addr.map_err(|e| format!("admin.listen: {e}"))?;
    let token = config
        .admin
        .token
        .clone()
        .ok_or("admin.token: required when admin.listen is set")?;
    let listener = std::net::TcpListener::bind(admin_addr)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| format!("cannot listen on {admin_addr} (admin.listen): {e}"))?;
    Ok(Some((
        listener,
        Arc::new(
            Admin::new(token, migrations.clone())
                .with_usage(usage.clone())
                .with_response_cache(response_cache.clone())
                .with_metrics(telemetry.clone(), &config.telemetry.prometheus().path),
        ),
    )))
}

/// Serves the admin listener until `stopped` turns true.
fn spawn_admin(
    listener: std::net::TcpListener,
    admin: Arc<Admin>,
    mut stopped: watch::Receiver<bool>,
) {
    match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => {
            let admin_addr = listener
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default();
            tracing::info!(
                "admin listener on http://{admin_addr}/admin/ (migrations: http://{admin_addr}/admin/migrations.html, field usage: http://{admin_addr}/admin/usage.html)"
            );
            tokio::spawn(admin::serve(listener, admin, async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            }));
        }
        Err(e) => tracing::error!("admin listener: {e}"),
    }
}

/// The supergraph and config in force.
struct Live {
    sdl: String,
    config: Config,
}

/// Builds and swaps in new pipelines from new versions of the supergraph
/// and the config.
struct Reloader {
    /// The supergraph file, when the supergraph comes from one (not from
    /// `--compose`).
    supergraph_file: Option<PathBuf>,
    /// The config file, if any.
    config_file: Option<PathBuf>,
    /// `--listen`, which overrides the file's `listen`.
    listen: Option<String>,
    state: Arc<ServerState>,
    migrations: Arc<Migrations>,
    /// The router's field usage, shared by every pipeline.
    usage: Arc<Usage>,
    /// The router's metrics, shared by every pipeline; told of reloads.
    telemetry: Telemetry,
    /// The router's response cache, shared by every pipeline.
    response_cache: Option<Arc<ResponseCache>>,
    /// The config the router started with (for settings read only then).
    started: Config,
    live: Mutex<Live>,
}

impl Reloader {
    fn live(&self) -> std::sync::MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// [`Reloader::reload`] on a blocking thread: reading the files and
    /// building a pipeline (parsing a large supergraph) must not hold up
    /// the requests of the worker that runs the reload loops.
    async fn reload_off_thread(self: Arc<Self>) {
        if let Err(e) = tokio::task::spawn_blocking(move || self.reload()).await {
            tracing::error!("reload failed: {e}");
        }
    }

    /// Reads the config file and the supergraph file again and swaps in a
    /// pipeline built from them if either changed and they load.
    fn reload(&self) {
        let config = match &self.config_file {
            None => None,
            Some(path) => match Config::load(path) {
                Ok(mut config) => {
                    if let Some(l) = &self.listen {
                        config.listen = l.clone();
                    }
                    Some(config)
                }
                Err(e) => {
                    tracing::error!("config reload: {e}; keeping the running config");
                    self.telemetry.reloaded(Reload::Config, false);
                    None
                }
            },
        };
        let sdl = match &self.supergraph_file {
            None => None,
            Some(path) => match read(path) {
                Ok(sdl) => Some(sdl),
                Err(e) => {
                    tracing::error!("supergraph reload: {e}; keeping the last good supergraph");
                    self.telemetry.reloaded(Reload::Supergraph, false);
                    None
                }
            },
        };
        self.swap(sdl, config);
    }

    /// Swaps in a pipeline built from `sdl` (or the supergraph in force)
    /// and `config` (or the config in force), if either is new.
    fn swap(&self, sdl: Option<String>, config: Option<Config>) {
        let mut live = self.live();
        let sdl = sdl.filter(|s| *s != live.sdl);
        let config = config.filter(|c| *c != live.config);
        if sdl.is_none() && config.is_none() {
            return;
        }
        let what = match (&sdl, &config) {
            (Some(_), None) => "supergraph reload",
            (None, _) => "config reload",
            (Some(_), Some(_)) => "supergraph and config reload",
        };
        let new_sdl = sdl.as_deref().unwrap_or(&live.sdl);
        let new_config = config.as_ref().unwrap_or(&live.config);
        let parts = Parts {
            migrations: self.migrations.clone(),
            usage: self.usage.clone(),
            telemetry: self.telemetry.clone(),
            response_cache: self.response_cache.clone(),
        };
        let built = Pipeline::with_parts(new_sdl, new_config, parts);
        if sdl.is_some() {
            self.telemetry.reloaded(Reload::Supergraph, built.is_ok());
        }
        if config.is_some() {
            self.telemetry.reloaded(Reload::Config, built.is_ok());
        }
        match built {
            Ok(pipeline) => {
                self.state.set_handler(Some(Arc::new(pipeline)));
                if sdl.is_some() {
                    self.telemetry.supergraph_loaded();
                }
                if let Some(config) = config {
                    self.state.set_settings(Settings::new(&config));
                    self.note_config(&config);
                    live.config = config;
                }
                if let Some(sdl) = sdl {
                    live.sdl = sdl;
                }
                let files: Vec<String> = [&self.supergraph_file, &self.config_file]
                    .into_iter()
                    .flatten()
                    .map(|p| p.display().to_string())
                    .collect();
                tracing::info!("{what}: {} loaded", files.join(", "));
            }
            Err(e) => {
                let file = match (&sdl, &self.supergraph_file, &self.config_file) {
                    (Some(_), Some(path), _) | (None, _, Some(path)) => path.display().to_string(),
                    _ => "the new version".to_string(),
                };
                let keeping = match (&sdl, &config) {
                    (Some(_), None) => "keeping the last good supergraph",
                    (None, _) => "keeping the running config",
                    (Some(_), Some(_)) => "keeping the running config and the last good supergraph",
                };
                tracing::error!("{what}: {file}: {e}; {keeping}")
            }
        }
    }

    /// Logs what a newly loaded config cannot change.
    fn note_config(&self, config: &Config) {
        let fixed = restart_only(&self.started, config);
        if !fixed.is_empty() {
            tracing::warn!(
                "config reload: {} changed but only take effect after a restart",
                fixed.join(", ")
            );
        }
        for a in &self.migrations.table().fields {
            let configured = config
                .migrations
                .fields
                .get(&a.coordinate)
                .and_then(|f| f.state);
            if configured.is_some_and(|s| s != a.state) && a.source != "config" {
                tracing::warn!(
                    "config reload: {} stays {} (set at run time by {}); \
                     `goliath migrate clear {}` hands it back to the config",
                    a.coordinate,
                    a.state,
                    a.source,
                    a.coordinate
                );
            }
        }
    }
}

/// Polls the subgraphs of `--compose` and swaps in a new supergraph when
/// they change; a failed composition keeps the last good supergraph.
async fn recompose_loop(
    mut recomposer: goliath_compose::Recomposer,
    reloader: Arc<Reloader>,
    every: Duration,
) {
    loop {
        tokio::time::sleep(every).await;
        // The subgraphs are asked with the settings in force (TLS).
        let config = reloader.live().config.clone();
        let polled = tokio::task::spawn_blocking(move || {
            let result = recomposer.poll(&fetcher(&config));
            (recomposer, result)
        })
        .await;
        let result;
        (recomposer, result) = match polled {
            Ok(polled) => polled,
            Err(e) => {
                tracing::error!("recomposition stopped: {e}");
                return;
            }
        };
        match result {
            Ok(None) => {}
            Ok(Some(sdl)) => {
                tracing::info!("subgraphs changed: loading the recomposed supergraph");
                let reloader = reloader.clone();
                let _ = tokio::task::spawn_blocking(move || reloader.swap(Some(sdl), None)).await;
            }
            Err(e) => {
                reloader.telemetry.reloaded(Reload::Supergraph, false);
                tracing::warn!("recomposition failed, keeping the last good supergraph: {e}")
            }
        }
    }
}

/// A file's modification time and size: what changes when it is edited.
fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Hot reload: checks the supergraph and config files every second and
/// reloads when either changed.
async fn watch_loop(reloader: Arc<Reloader>) {
    let files: Vec<PathBuf> = [&reloader.supergraph_file, &reloader.config_file]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let mut last: Vec<_> = files.iter().map(|f| stamp(f)).collect();
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now: Vec<_> = files.iter().map(|f| stamp(f)).collect();
        if now == last || now.iter().any(Option::is_none) {
            continue;
        }
        last = now;
        reloader.clone().reload_off_thread().await;
    }
}

/// The settings read only when the router starts that differ between
/// `started` and `new`.
fn restart_only(started: &Config, new: &Config) -> Vec<&'static str> {
    let (a, b) = (started, new);
    let mut changed = vec![];
    let mut check = |name: &'static str, same: bool| {
        if !same {
            changed.push(name);
        }
    };
    check("listen", a.listen == b.listen);
    check("supergraph", a.supergraph == b.supergraph);
    check("graphql_path", a.graphql_path == b.graphql_path);
    check("health_path", a.health_path == b.health_path);
    check("hot_reload", a.hot_reload == b.hot_reload);
    check("log_format", a.log_format == b.log_format);
    check(
        "shutdown_timeout_ms",
        a.shutdown_timeout_ms == b.shutdown_timeout_ms,
    );
    check("csrf", a.csrf == b.csrf);
    check(
        "limits.max_body_bytes",
        a.limits.max_body_bytes == b.limits.max_body_bytes,
    );
    check(
        "limits.http1_max_request_buf_size",
        a.limits.http1_max_request_buf_size == b.limits.http1_max_request_buf_size,
    );
    check(
        "limits.http1_max_request_headers",
        a.limits.http1_max_request_headers == b.limits.http1_max_request_headers,
    );
    check(
        "limits.http_header_read_timeout_ms",
        a.limits.http_header_read_timeout_ms == b.limits.http_header_read_timeout_ms,
    );
    check(
        "limits.max_connections",
        a.limits.max_connections == b.limits.max_connections,
    );
    check(
        "limits.request_timeout_ms",
        a.limits.request_timeout_ms == b.limits.request_timeout_ms,
    );
    check("admin", a.admin == b.admin);
    check("telemetry", a.telemetry == b.telemetry);
    check("response_cache", a.response_cache == b.response_cache);
    check("store", a.store == b.store);
    check("migrations.store", a.migrations.store == b.migrations.store);
    check(
        "migrations.max_concurrency",
        a.migrations.max_concurrency == b.migrations.max_concurrency,
    );
    changed
}
