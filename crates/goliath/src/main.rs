//! The `goliath` command: `router` serves a supergraph, `plan` prints the
//! query plan for an operation, `compose` composes subgraphs into a
//! supergraph, `migrate` steers field migrations through a router's admin
//! listener.

mod demo;
mod migrate;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use clap::{Parser, Subcommand};
use goliath_router::admin::{self, Admin};
use goliath_router::http::ServerState;
use goliath_router::migrations::Migrations;
use goliath_router::workers::{self, Workers};
use goliath_router::{Config, Pipeline};

/// mimalloc: fewer and cheaper allocations per request than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "goliath", version, about = "A federated GraphQL router")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a supergraph over GraphQL-over-HTTP.
    Router {
        /// The supergraph SDL file (overrides `supergraph` in the config).
        #[arg(long, conflicts_with = "compose")]
        supergraph: Option<PathBuf>,
        /// Compose the subgraphs of this supergraph.yaml at start-up instead of
        /// reading a supergraph, and recompose when they change.
        #[arg(long)]
        compose: Option<PathBuf>,
        /// With --compose: seconds between two polls of the subgraphs.
        #[arg(long, default_value_t = 10)]
        poll_interval: u64,
        /// The YAML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
        /// The address to listen on (overrides `listen` in the config).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Print the query plan of an operation.
    Plan {
        /// The supergraph SDL file.
        #[arg(long)]
        supergraph: PathBuf,
        /// The file holding the operation.
        #[arg(long)]
        query: PathBuf,
        /// Which operation of the document to plan.
        #[arg(long)]
        operation_name: Option<String>,
        /// Progressive-override labels to treat as active.
        #[arg(long = "label")]
        labels: Vec<String>,
    },
    /// Compose subgraph schemas into a supergraph (rover's supergraph.yaml).
    Compose {
        /// The supergraph.yaml listing the subgraphs.
        #[arg(long)]
        config: PathBuf,
        /// Where to write the supergraph SDL (standard output by default).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Run the demo: a legacy monolith and two new services behind the
    /// router, on loopback (examples/). Ctrl-C stops it all.
    Demo(demo::DemoArgs),
    /// Field migrations through a running router's admin listener:
    /// status, set, clear.
    Migrate {
        #[command(subcommand)]
        command: migrate::MigrateCommand,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Router {
            supergraph,
            compose,
            poll_interval,
            config,
            listen,
        } => run_router(supergraph, compose, poll_interval, config, listen),
        Command::Plan {
            supergraph,
            query,
            operation_name,
            labels,
        } => run_plan(supergraph, query, operation_name, labels),
        Command::Compose { config, output } => run_compose(config, output),
        Command::Demo(args) => demo::run(args),
        Command::Migrate { command } => migrate::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("goliath: {message}");
            ExitCode::FAILURE
        }
    }
}

fn read(path: &PathBuf) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn run_plan(
    supergraph: PathBuf,
    query: PathBuf,
    operation_name: Option<String>,
    labels: Vec<String>,
) -> Result<(), String> {
    let sg = goliath_supergraph::Supergraph::parse(&read(&supergraph)?)
        .map_err(|e| format!("{}: {e}", supergraph.display()))?;
    let text = read(&query)?;
    let doc = apollo_compiler::ExecutableDocument::parse_and_validate(&sg.api_schema, text, &query)
        .map_err(|e| format!("invalid operation:\n{}", e.errors))?;
    let op = doc
        .operations
        .get(operation_name.as_deref())
        .map_err(|e| e.message().to_string())?;
    let plan = goliath_planner::plan(&sg, &doc, op, &labels.into_iter().collect())
        .map_err(|e| format!("planning failed: {e}"))?;
    print!("{plan}");
    Ok(())
}

fn run_compose(config: PathBuf, output: Option<PathBuf>) -> Result<(), String> {
    let config = goliath_compose::SupergraphConfig::load(&config).map_err(|e| e.to_string())?;
    let subgraphs = config.resolve().map_err(|e| e.to_string())?;
    let sdl = goliath_compose::compose(&subgraphs)
        .map_err(|errors| goliath_compose::ComposeError::Composition(errors).to_string())?;
    match output {
        Some(path) => {
            std::fs::write(&path, sdl).map_err(|e| format!("cannot write {}: {e}", path.display()))
        }
        None => {
            println!("{sdl}");
            Ok(())
        }
    }
}

/// What the recompose and config-reload loops share: the supergraph and
/// config in force, from which either builds the next pipeline.
struct Live {
    sdl: String,
    config: Config,
}

fn lock(live: &Mutex<Live>) -> std::sync::MutexGuard<'_, Live> {
    live.lock().unwrap_or_else(|e| e.into_inner())
}

fn run_router(
    supergraph: Option<PathBuf>,
    compose: Option<PathBuf>,
    poll_interval: u64,
    config_path: Option<PathBuf>,
    listen: Option<String>,
) -> Result<(), String> {
    let mut config = match &config_path {
        Some(p) => Config::load(p).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    if let Some(l) = &listen {
        config.listen = l.clone();
    }
    let addr = config
        .listen_addr()
        .map_err(|e| format!("invalid listen address {:?}: {e}", config.listen))?;
    let (supergraph, sdl, recomposer) = match compose {
        Some(path) => {
            let mut recomposer = goliath_compose::Recomposer::new(&path);
            let sdl = recomposer
                .poll()
                .map_err(|e| format!("{}: {e}", path.display()))?
                .ok_or("nothing to compose")?;
            (path, sdl, Some(recomposer))
        }
        None => {
            let path = supergraph.or_else(|| config.supergraph.clone()).ok_or(
                "no supergraph: pass --supergraph FILE, --compose supergraph.yaml or set `supergraph` in the config",
            )?;
            let sdl = read(&path)?;
            (path, sdl, None)
        }
    };
    // One set of migrations for the router's life: every pipeline (a
    // recomposed supergraph, a reloaded config) is built on it.
    let migrations = Migrations::new(&config.migrations, &config.store);
    let pipeline = Pipeline::with_migrations(&sdl, &config, migrations.clone())
        .map_err(|e| format!("{}: {e}", supergraph.display()))?;
    let workers = Workers::bind(addr, workers::default_count())
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let addr = workers.local_addr();
    let admin = match config.admin.listen_addr() {
        None => None,
        Some(admin_addr) => {
            let admin_addr = admin_addr.map_err(|e| format!("admin.listen: {e}"))?;
            let token = config
                .admin
                .token
                .clone()
                .ok_or("admin.token: required when admin.listen is set")?;
            let listener = std::net::TcpListener::bind(admin_addr)
                .and_then(|l| l.set_nonblocking(true).map(|()| l))
                .map_err(|e| format!("cannot listen on {admin_addr} (admin.listen): {e}"))?;
            Some((listener, Arc::new(Admin::new(token, migrations.clone()))))
        }
    };
    let state = Arc::new(ServerState::new(&config));
    state.set_handler(Some(Arc::new(pipeline)));
    let live = Arc::new(Mutex::new(Live {
        sdl,
        config: config.clone(),
    }));
    let setup = {
        let state = state.clone();
        move || {
            if let Some(recomposer) = recomposer {
                let every = Duration::from_secs(poll_interval.max(1));
                tokio::spawn(recompose_loop(
                    recomposer,
                    state.clone(),
                    migrations.clone(),
                    live.clone(),
                    every,
                ));
            }
            if let Some(path) = config_path {
                tokio::spawn(reload_loop(
                    path,
                    listen,
                    state.clone(),
                    migrations.clone(),
                    live.clone(),
                ));
            }
            if let Some((listener, admin)) = admin {
                match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => {
                        let admin_addr = listener
                            .local_addr()
                            .map(|a| a.to_string())
                            .unwrap_or_default();
                        tracing::info!(
                            "admin listener on http://{admin_addr}/admin/ (migrations: http://{admin_addr}/admin/migrations.html)"
                        );
                        tokio::spawn(admin::serve(listener, admin, async {
                            let _ = tokio::signal::ctrl_c().await;
                        }));
                    }
                    Err(e) => tracing::error!("admin listener: {e}"),
                }
            }
            tracing::info!(
                "goliath router serving {} on http://{addr}{}",
                supergraph.display(),
                config.graphql_path
            );
        }
    };
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    workers
        .serve(state, setup, shutdown)
        .map_err(|e| format!("the server stopped: {e}"))
}

/// Polls the subgraphs of `--compose` and swaps in a new supergraph when they
/// change. Requests in flight finish on the pipeline they started with; a
/// failed composition keeps the last good supergraph.
async fn recompose_loop(
    mut recomposer: goliath_compose::Recomposer,
    state: Arc<ServerState>,
    migrations: Arc<Migrations>,
    live: Arc<Mutex<Live>>,
    every: Duration,
) {
    loop {
        tokio::time::sleep(every).await;
        let polled = tokio::task::spawn_blocking(move || {
            let result = recomposer.poll();
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
                let mut live = lock(&live);
                match Pipeline::with_migrations(&sdl, &live.config, migrations.clone()) {
                    Ok(pipeline) => {
                        state.set_handler(Some(Arc::new(pipeline)));
                        live.sdl = sdl;
                        tracing::info!("subgraphs changed: serving the recomposed supergraph");
                    }
                    Err(e) => tracing::error!(
                        "the recomposed supergraph does not load, keeping the last good one: {e}"
                    ),
                }
            }
            Err(e) => {
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

/// Watches `--config` (its modification time, every second) and, when it
/// changes, loads it and swaps in a pipeline built from it and the
/// supergraph in force. An invalid config, or one the supergraph does not
/// fit, is logged and the running one kept. Settings read only at start are
/// named when they change.
async fn reload_loop(
    path: PathBuf,
    listen: Option<String>,
    state: Arc<ServerState>,
    migrations: Arc<Migrations>,
    live: Arc<Mutex<Live>>,
) {
    let started = lock(&live).config.clone();
    let mut last = stamp(&path);
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = stamp(&path);
        if now == last || now.is_none() {
            continue;
        }
        last = now;
        let mut config = match Config::load(&path) {
            Ok(config) => config,
            Err(e) => {
                tracing::error!("config reload: {e}; keeping the running config");
                continue;
            }
        };
        if let Some(l) = &listen {
            config.listen = l.clone();
        }
        let mut live = lock(&live);
        if config == live.config {
            continue;
        }
        match Pipeline::with_migrations(&live.sdl, &config, migrations.clone()) {
            Ok(pipeline) => {
                state.set_handler(Some(Arc::new(pipeline)));
                tracing::info!("config reload: {} loaded", path.display());
                let fixed = restart_only(&started, &config);
                if !fixed.is_empty() {
                    tracing::warn!(
                        "config reload: {} changed but only take effect after a restart",
                        fixed.join(", ")
                    );
                }
                for a in &migrations.table().fields {
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
                live.config = config;
            }
            Err(e) => tracing::error!(
                "config reload: {}: {e}; keeping the running config",
                path.display()
            ),
        }
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
    check("store", a.store == b.store);
    check("migrations.store", a.migrations.store == b.migrations.store);
    check(
        "migrations.max_concurrency",
        a.migrations.max_concurrency == b.migrations.max_concurrency,
    );
    changed
}
