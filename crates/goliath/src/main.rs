//! The `goliath` command: `router` serves a supergraph, `plan` prints the
//! query plan for an operation, `compose` composes subgraphs into a
//! supergraph.

mod demo;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use goliath_router::http::ServerState;
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
    if let Some(l) = listen {
        config.listen = l;
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
    let pipeline =
        Pipeline::new(&sdl, &config).map_err(|e| format!("{}: {e}", supergraph.display()))?;
    let workers = Workers::bind(addr, workers::default_count())
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let addr = workers.local_addr();
    let state = Arc::new(ServerState::new(&config));
    state.set_handler(Some(Arc::new(pipeline)));
    let setup = {
        let state = state.clone();
        move || {
            if let Some(recomposer) = recomposer {
                let every = std::time::Duration::from_secs(poll_interval.max(1));
                tokio::spawn(recompose_loop(recomposer, state, config.clone(), every));
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
    config: Config,
    every: std::time::Duration,
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
            Ok(Some(sdl)) => match Pipeline::new(&sdl, &config) {
                Ok(pipeline) => {
                    state.set_handler(Some(Arc::new(pipeline)));
                    tracing::info!("subgraphs changed: serving the recomposed supergraph");
                }
                Err(e) => tracing::error!(
                    "the recomposed supergraph does not load, keeping the last good one: {e}"
                ),
            },
            Err(e) => {
                tracing::warn!("recomposition failed, keeping the last good supergraph: {e}")
            }
        }
    }
}
