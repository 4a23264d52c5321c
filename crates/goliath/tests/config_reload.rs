//! Config hot reload, with the built binary: `goliath router --config F`
//! picks up an edited `migrations:` (the admin report and the routing
//! follow), keeps the running config when the new one is invalid or does
//! not fit the supergraph, and names settings that need a restart.

#[allow(dead_code)]
mod common;

use common::{config_text, start_subgraphs, temp_dir, Bug, Router};
use serde_json::json;

#[test]
fn an_edited_config_switches_the_migration_without_a_restart() {
    let bug = Bug::default();
    bug.0.store(true, std::sync::atomic::Ordering::SeqCst);
    let dir = temp_dir("reload");
    let supergraph = dir.join("supergraph.graphql");
    std::fs::write(&supergraph, start_subgraphs(&bug)).unwrap();
    let config = dir.join("goliath.yaml");
    std::fs::write(&config, config_text(&dir, "state: side-by-side")).unwrap();
    let mut router = Router::start(&supergraph, &config);
    let f = router.score_report();
    assert_eq!(
        (f["state"].clone(), f["source"].clone()),
        (json!("side-by-side"), json!("config"))
    );
    assert_eq!(router.score_of_user_2(), json!(20));

    // The operator steps the field forward in the file.
    std::fs::write(&config, config_text(&dir, "state: migrated")).unwrap();
    router.wait_for_report(30, |f| f["state"] == json!("migrated"));
    router.wait_for_line("config reload: ", 30);
    assert_eq!(router.score_of_user_2(), json!(21), "the new side serves");

    // An invalid file: logged, the running config kept.
    std::fs::write(&config, config_text(&dir, "state: migrated\nbogus_key: 1")).unwrap();
    let line = router.wait_for_line("unknown field `bogus_key`", 30);
    assert!(line.contains("keeping the running config"), "{line}");
    // A config whose migrations do not fit the supergraph: the same.
    let unfit = format!(
        "{}  User.name:\n    from: old\n    to: new\n    state: canary\n    percent: 50\n",
        config_text(&dir, "state: side-by-side")
    );
    std::fs::write(&config, unfit).unwrap();
    let line = router.wait_for_line("User.name", 30);
    assert!(line.contains("keeping the running config"), "{line}");
    assert_eq!(router.score_report()["state"], json!("migrated"));
    assert_eq!(router.score_of_user_2(), json!(21));

    // A change that needs a restart is named; the rest applies.
    let text = format!(
        "{}limits:\n  max_body_bytes: 5000\n",
        config_text(&dir, "state: canary\n    percent: 100")
    );
    std::fs::write(&config, text).unwrap();
    let line = router.wait_for_line("only take effect after a restart", 30);
    assert!(line.contains("limits.max_body_bytes"), "{line}");
    let f = router.wait_for_report(30, |f| f["state"] == json!("canary"));
    assert_eq!(f["percent"], json!(100.0));
    assert_eq!(router.score_of_user_2(), json!(21));
}
