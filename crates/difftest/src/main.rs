//! `goliath-difftest`: runs the differential tester over a range of seeds.
//!
//! ```text
//! cargo run -p goliath-difftest --release -- --seeds 0..1000 --operations 30 --out crates/difftest/regressions
//! ```

use std::path::PathBuf;

use clap::Parser;

/// Random federated schemas and operations: the router's answers against
/// the unsplit schema's.
#[derive(Parser)]
struct Args {
    /// Seeds to run, `A..B` (B excluded).
    #[arg(long, default_value = "0..100")]
    seeds: String,
    /// Operations per schema.
    #[arg(long, default_value_t = 30)]
    operations: usize,
    /// Where to write shrunk differences as regression cases.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print each seed's generated subgraphs (to look at one case).
    #[arg(long)]
    show: bool,
    /// Keep this operation, run on the first seed's schema, as a regression
    /// case in `--out` (for a difference fixed before it was written out).
    #[arg(long, requires = "out")]
    record: Option<String>,
    /// The recorded operation's variables (JSON).
    #[arg(long, default_value = "{}")]
    variables: String,
    /// Write each seed's subgraphs and supergraph (composed with
    /// placeholder URLs) to this folder, for `goliath plan`.
    #[arg(long)]
    dump: Option<PathBuf>,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let (a, b) = args.seeds.split_once("..").expect("--seeds A..B");
    let (a, b): (u64, u64) = (a.parse().expect("a number"), b.parse().expect("a number"));
    if let (Some(operation), Some(dir)) = (&args.record, &args.out) {
        let variables = serde_json::from_str(&args.variables).expect("--variables is JSON");
        let case = goliath_difftest::record(a, operation, variables)
            .await
            .expect("the case runs");
        let path = goliath_difftest::write_regression(dir, &case).expect("written");
        println!(
            "router {}\noracle {}\nwritten to {}",
            case.router,
            case.oracle,
            path.display()
        );
        return;
    }
    let mut report = goliath_difftest::Report::default();
    for seed in a..b {
        if args.show {
            let schema = goliath_difftest::generate::generate(seed);
            for s in 0..schema.subgraphs {
                println!(
                    "# seed {seed} subgraph s{s}\n{}",
                    goliath_difftest::sdl::subgraph(&schema, s)
                );
            }
        }
        if let Some(dir) = &args.dump {
            dump(dir, seed);
        }
        let before = report.differences.len();
        goliath_difftest::run_seed(seed, args.operations, &mut report).await;
        for case in &report.differences[before..] {
            println!(
                "DIFFERENCE seed {seed}: {}\n  variables {}\n  router {}\n  oracle {}",
                case.operation, case.variables, case.router, case.oracle
            );
            if let Some(dir) = &args.out {
                match goliath_difftest::write_regression(dir, case) {
                    Ok(path) => println!("  written to {}", path.display()),
                    Err(e) => println!("  not written: {e}"),
                }
            }
        }
    }
    for (seed, e) in &report.refused {
        println!("refused seed {seed}: {e}");
    }
    for (seed, e) in &report.setup_failures {
        println!("setup failure seed {seed}: {e}");
    }
    for (seed, e) in report.generator_errors.iter().take(20) {
        println!("generator error seed {seed}: {e}");
    }
    println!("{}", report.summary());
}

/// Writes seed `seed`'s subgraphs and supergraph to `dir`.
fn dump(dir: &std::path::Path, seed: u64) {
    let schema = goliath_difftest::generate::generate(seed);
    let _ = std::fs::create_dir_all(dir);
    let mut inputs = Vec::new();
    for s in 0..schema.subgraphs {
        let sdl = goliath_difftest::sdl::subgraph(&schema, s);
        let _ = std::fs::write(dir.join(format!("seed-{seed}-s{s}.graphql")), &sdl);
        inputs.push(goliath_compose::SubgraphInput {
            name: format!("s{s}"),
            url: format!("http://s{s}.invalid/graphql"),
            sdl,
        });
    }
    let _ = std::fs::write(
        dir.join(format!("seed-{seed}-oracle.graphql")),
        goliath_difftest::sdl::oracle(&schema),
    );
    match goliath_compose::compose(&inputs) {
        Ok(sg) => {
            let _ = std::fs::write(dir.join(format!("seed-{seed}-supergraph.graphql")), sg);
        }
        Err(e) => println!("seed {seed}: composition refused: {e:?}"),
    }
}
