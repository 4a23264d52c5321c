//! Differential testing of goliath's federation (issue 17).
//!
//! For a seed, [`generate::generate`] makes a random schema and splits it
//! across 2 to 5 subgraphs the way Federation allows; [`serve`] serves every
//! subgraph and the unsplit schema (the oracle) from one dataset
//! ([`data`]) with `async-graphql` dynamic schemas on loopback;
//! [`harness::Harness`] composes the subgraphs with `goliath compose` and
//! serves the supergraph with the router; [`operation::generate`] makes
//! random operations; every answer of the router must equal the oracle's.
//! A difference is shrunk ([`shrink`]) and written out as a regression
//! case (`regressions/*.json`, replayed by `tests/regressions.rs`).
//!
//! `cargo run -p goliath-difftest -- --seeds 0..100` runs a batch;
//! `tests/fixed_seeds.rs` runs a fixed batch in the test suite.

pub mod data;
pub mod generate;
pub mod harness;
pub mod model;
pub mod operation;
pub mod rng;
pub mod sdl;
pub mod serve;
pub mod shrink;

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use harness::{Check, Harness, NotRun};
use model::Schema;

/// A difference found, shrunk, ready to be kept as a regression case.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Regression {
    /// The seed that found it.
    pub seed: u64,
    /// What went wrong, in words (written by hand).
    #[serde(default)]
    pub note: String,
    /// The operation (shrunk).
    pub operation: String,
    /// Its variables.
    pub variables: Value,
    /// The router's answer when found.
    pub router: Value,
    /// The oracle's answer.
    pub oracle: Value,
    /// The schema (kept whole, so the case survives generator changes).
    pub schema: Schema,
}

/// What a batch found.
#[derive(Debug, Default)]
pub struct Report {
    /// Seeds whose schema ran.
    pub cases: usize,
    /// Operations compared.
    pub operations: usize,
    /// Operations whose answers were equal.
    pub same: usize,
    /// Seeds `goliath compose` refused, with the first error line.
    pub refused: Vec<(u64, String)>,
    /// Seeds that could not be set up (generator bugs).
    pub setup_failures: Vec<(u64, String)>,
    /// Generated operations that did not validate or that the oracle
    /// answered with errors (generator bugs).
    pub generator_errors: Vec<(u64, String)>,
    /// Differences, shrunk.
    pub differences: Vec<Regression>,
}

impl Report {
    /// One line: the counts.
    pub fn summary(&self) -> String {
        format!(
            "difftest: {} schemas run, {} operations compared, {} equal, {} differences; {} schemas refused by composition, {} setup failures, {} generator errors",
            self.cases,
            self.operations,
            self.same,
            self.differences.len(),
            self.refused.len(),
            self.setup_failures.len(),
            self.generator_errors.len(),
        )
    }
}

/// Runs `operations` random operations against the schema of `seed`;
/// at most one difference per seed is shrunk and reported.
pub async fn run_seed(seed: u64, operations: usize, report: &mut Report) {
    let schema = generate::generate(seed);
    let harness = match Harness::start(schema).await {
        Ok(h) => h,
        Err(NotRun::Composition(e)) => {
            let first = e.lines().next().unwrap_or_default().to_owned();
            report.refused.push((seed, first));
            return;
        }
        Err(NotRun::Setup(e)) => {
            report.setup_failures.push((seed, e));
            return;
        }
    };
    report.cases += 1;
    for i in 0..operations {
        let op = operation::generate(&harness.schema, rng::hash(seed, &[&i.to_string()]));
        let (text, variables) = op.text();
        report.operations += 1;
        match harness.check(&text, &variables).await {
            Check::Same => report.same += 1,
            Check::Invalid(e) => report
                .generator_errors
                .push((seed, format!("invalid operation {text}: {e}"))),
            Check::OracleError(answer) => report
                .generator_errors
                .push((seed, format!("oracle error for {text}: {answer}"))),
            Check::Differ { .. } => {
                let small = shrink::shrink(&harness, op).await;
                let (text, variables) = small.text();
                if let Check::Differ { router, oracle } = harness.check(&text, &variables).await {
                    report.differences.push(Regression {
                        seed,
                        note: String::new(),
                        operation: text,
                        variables,
                        router,
                        oracle,
                        schema: (*harness.schema).clone(),
                    });
                }
                return;
            }
        }
    }
}

/// Replays a regression case: `Ok` when the router now answers as the
/// oracle does.
pub async fn replay(case: &Regression) -> Result<(), String> {
    let harness = Harness::start(case.schema.clone())
        .await
        .map_err(|e| format!("{e:?}"))?;
    match harness.check(&case.operation, &case.variables).await {
        Check::Same => Ok(()),
        Check::Differ { router, oracle } => Err(format!(
            "seed {}: {}\n router: {router}\n oracle: {oracle}\nsupergraph:\n{}",
            case.seed, case.operation, harness.supergraph
        )),
        other => Err(format!("seed {}: {other:?}", case.seed)),
    }
}

/// Runs one operation on the schema of `seed` and keeps it, with both
/// answers as they are now, as a regression case (for a difference found
/// and fixed before it was written out).
pub async fn record(seed: u64, operation: &str, variables: Value) -> Result<Regression, String> {
    let harness = Harness::start(generate::generate(seed))
        .await
        .map_err(|e| format!("{e:?}"))?;
    let (router, oracle) = harness.answers(operation, &variables).await;
    Ok(Regression {
        seed,
        note: String::new(),
        operation: operation.to_owned(),
        variables,
        router,
        oracle,
        schema: (*harness.schema).clone(),
    })
}

/// Writes a regression case to `dir/seed-N.json`; its path.
pub fn write_regression(dir: &Path, case: &Regression) -> std::io::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("seed-{}.json", case.seed));
    let text = serde_json::to_string_pretty(case).map_err(std::io::Error::other)?;
    std::fs::write(&path, text + "\n")?;
    Ok(path)
}
