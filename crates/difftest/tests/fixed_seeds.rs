//! A fixed batch of the differential tester: 300 generated schemas, 20
//! operations each. Every answer of the router must equal the unsplit
//! schema's, every schema must compose, and the generator must make only
//! valid operations. A failure prints the shrunk operation; keep it with
//! `cargo run -p goliath-difftest -- --seeds N..N+1 --out crates/difftest/regressions`.

use goliath_difftest::{run_seed, Report};

const SEEDS: std::ops::Range<u64> = 0..300;
const OPERATIONS: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_agrees_with_the_unsplit_schema_on_a_fixed_batch() {
    let mut report = Report::default();
    for seed in SEEDS {
        run_seed(seed, OPERATIONS, &mut report).await;
    }
    println!("{}", report.summary());
    let differences: Vec<String> = report
        .differences
        .iter()
        .map(|d| {
            format!(
                "seed {}: {}\n  variables {}\n  router {}\n  oracle {}",
                d.seed, d.operation, d.variables, d.router, d.oracle
            )
        })
        .collect();
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    assert!(report.refused.is_empty(), "refused: {:?}", report.refused);
    assert!(
        report.setup_failures.is_empty(),
        "setup failures: {:?}",
        report.setup_failures
    );
    assert!(
        report.generator_errors.is_empty(),
        "generator errors: {:?}",
        report.generator_errors
    );
    assert_eq!(report.cases, SEEDS.count());
    assert_eq!(report.same, report.operations);
}
