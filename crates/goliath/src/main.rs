//! The `goliath` command: `router` serves a supergraph, `plan` prints the
//! query plan for an operation, `compose` composes subgraphs into a
//! supergraph.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use goliath_router::http::{serve, ServerState};
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
        #[arg(long)]
        supergraph: Option<PathBuf>,
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
            config,
            listen,
        } => run_router(supergraph, config, listen),
        Command::Plan {
            supergraph,
            query,
            operation_name,
            labels,
        } => run_plan(supergraph, query, operation_name, labels),
        Command::Compose { config, output } => run_compose(config, output),
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
    let supergraph = supergraph
        .or_else(|| config.supergraph.clone())
        .ok_or("no supergraph: pass --supergraph FILE or set `supergraph` in the config")?;
    let addr = config
        .listen_addr()
        .map_err(|e| format!("invalid listen address {:?}: {e}", config.listen))?;
    let sdl = read(&supergraph)?;
    let pipeline =
        Pipeline::new(&sdl, &config).map_err(|e| format!("{}: {e}", supergraph.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Parsing, planning and projection recurse with the document's depth.
        .thread_stack_size(8 * 1024 * 1024)
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let state = Arc::new(ServerState::new(&config));
        state.set_handler(Some(Arc::new(pipeline)));
        tracing::info!(
            "goliath router serving {} on http://{addr}{}",
            supergraph.display(),
            config.graphql_path
        );
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        serve(listener, state, shutdown).await;
        Ok(())
    })
}
