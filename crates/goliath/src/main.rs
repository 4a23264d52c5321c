//! The `goliath` command: `router` serves a supergraph, `plan` prints the
//! query plan for an operation, `compose` composes subgraphs into a
//! supergraph, `migrate` steers field migrations through a router's admin
//! listener, `usage` reports which fields clients select (and which none
//! does) through it.

mod cache;
mod demo;
mod logging;
mod migrate;
mod router;
mod usage;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use goliath_router::config::LogFormat;

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
        /// Watch the supergraph file and the config file, and swap in new
        /// versions as they change (as `hot_reload: true`). SIGHUP reloads
        /// both either way.
        #[arg(long)]
        hot_reload: bool,
        /// `text` (the default) or `json` lines (as `log_format` in the
        /// config, or GOLIATH_LOG_FORMAT).
        #[arg(long)]
        log_format: Option<LogFormat>,
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
    /// Field usage through a running router's admin listener: the fields
    /// never requested, the top fields, and who uses a field (--field).
    Usage(usage::UsageArgs),
    /// The response cache through a running router's admin listener:
    /// purge all, or by subgraph, type, entity or surrogate key.
    Cache {
        #[command(subcommand)]
        command: cache::CacheCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = match &cli.command {
        Command::Router {
            log_format, config, ..
        } => logging::format(*log_format, config.as_deref()),
        _ => logging::format(None, None),
    };
    logging::init(format);
    let result = match cli.command {
        Command::Router {
            supergraph,
            compose,
            poll_interval,
            config,
            listen,
            hot_reload,
            log_format: _,
        } => router::run(router::Args {
            supergraph,
            compose,
            poll_interval,
            config,
            listen,
            hot_reload,
        }),
        Command::Plan {
            supergraph,
            query,
            operation_name,
            labels,
        } => run_plan(supergraph, query, operation_name, labels),
        Command::Compose { config, output } => run_compose(config, output),
        Command::Demo(args) => demo::run(args),
        Command::Migrate { command } => migrate::run(command),
        Command::Usage(args) => usage::run(args),
        Command::Cache { command } => cache::run(command),
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
    // A closed pipe (`goliath plan … | head`) ends the output quietly.
    use std::io::Write;
    let _ = write!(std::io::stdout().lock(), "{plan}");
    Ok(())
}

fn run_compose(config: PathBuf, output: Option<PathBuf>) -> Result<(), String> {
    let config = goliath_compose::SupergraphConfig::load(&config).map_err(|e| e.to_string())?;
    // Subgraphs given by URL are asked with the router's client and its
    // default settings (web PKI roots for https).
    let settings = goliath_router::Config::default();
    let fetch =
        |name: &str, url: &str| goliath_router::subgraph_sdl::fetch_blocking(&settings, name, url);
    let subgraphs = config.resolve(&fetch).map_err(|e| e.to_string())?;
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
