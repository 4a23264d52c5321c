//! Every case the differential tester found (`regressions/*.json`: the
//! schema, the shrunk operation, the answers when found) is replayed: the
//! router must now answer as the unsplit schema does.

use std::path::Path;

use goliath_difftest::{replay, Regression};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_regression_case_now_agrees_with_the_oracle() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("the regressions folder")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no regression cases in {}",
        dir.display()
    );
    let mut failures = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).expect("readable");
        let case: Regression =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if let Err(e) = replay(&case).await {
            failures.push(format!("{}: {e}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    println!("{} regression cases agree", paths.len());
}
