//! `goliath migrate status|set|clear`, run as the built binary against a
//! `goliath router` child process (with an admin listener) in front of two
//! subgraphs served by the test: the table's content, state changes that
//! route the next request, and clear errors with a non-zero exit.

#[allow(dead_code)]
mod common;

use common::{cli, config_text, start_subgraphs, temp_dir, Bug, Router, TOKEN};
use serde_json::{json, Value};

/// A router with `User.score` side by side and the new side's bug on.
fn router(name: &str) -> (Router, Bug) {
    let bug = Bug::default();
    bug.0.store(true, std::sync::atomic::Ordering::SeqCst);
    let dir = temp_dir(name);
    let supergraph = dir.join("supergraph.graphql");
    std::fs::write(&supergraph, start_subgraphs(&bug)).unwrap();
    let config = dir.join("goliath.yaml");
    std::fs::write(&config, config_text(&dir, "state: side-by-side")).unwrap();
    (Router::start(&supergraph, &config), bug)
}

/// The cells of the table row for `field`.
fn row(table: &str, field: &str) -> Vec<String> {
    table
        .lines()
        .find(|l| l.starts_with(&format!("{field} ")))
        .unwrap_or_else(|| panic!("no row for {field}:\n{table}"))
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn status_set_and_clear_through_the_cli() {
    let (router, _bug) = router("status");
    let url = router.admin.clone();
    for _ in 0..2 {
        assert_eq!(router.score_of_user_2(), json!(20));
    }
    router.wait_for_report(30, |f| f["compared"] == json!(6));

    let (ok, table, err) = cli(
        &["migrate", "status", "--router", &url, "--token", TOKEN],
        &[],
    );
    assert!(ok, "{err}");
    let header = table.lines().next().unwrap();
    assert!(
        header.starts_with("FIELD") && header.ends_with("READY"),
        "{table}"
    );
    let cells = row(&table, "User.score");
    assert_eq!(
        cells[..9],
        [
            "User.score",
            "old→new",
            "side-by-side",
            "6",
            "4",
            "2",
            "0",
            "0/0",
            "0"
        ],
        "{table}"
    );
    assert!(cells[9].contains('/'), "p99 old/new: {table}");
    assert_eq!(cells[10], "no", "{table}");
    assert!(table.contains("latest differences:"), "{table}");
    assert!(
        table.contains("User.score: users.1.score  old 20  new 21  (value, Scores, "),
        "{table}"
    );

    // --json, with the token from the environment.
    let env = [("GOLIATH_ADMIN_TOKEN", TOKEN)];
    let (ok, raw, err) = cli(&["migrate", "status", "--router", &url, "--json"], &env);
    assert!(ok, "{err}");
    let report: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(report["fields"][0]["field"], json!("User.score"));
    assert_eq!(report["fields"][0]["mismatched"], json!(2));

    // set: canary 5%, then migrated (the new side serves), then clear.
    let (ok, out, err) = cli(
        &[
            "migrate",
            "set",
            "User.score",
            "canary",
            "5",
            "--router",
            &url,
            "--reason",
            "first step",
        ],
        &env,
    );
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "User.score: canary 5% (source admin)");
    let (_, table, _) = cli(&["migrate", "status", "--router", &url], &env);
    assert_eq!(row(&table, "User.score")[2], "canary 5%", "{table}");
    let f = router.score_report();
    assert_eq!(
        f["events"].as_array().unwrap().last().unwrap()["reason"],
        json!("first step")
    );

    let (ok, out, err) = cli(
        &["migrate", "set", "User.score", "migrated", "--router", &url],
        &env,
    );
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "User.score: migrated (source admin)");
    assert_eq!(router.score_of_user_2(), json!(21), "the new side serves");

    let (ok, out, err) = cli(
        &[
            "migrate",
            "clear",
            "User.score",
            "--router",
            &format!("{url}/"),
        ],
        &env,
    );
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        "User.score: run-time state cleared, now side-by-side (source config)"
    );
    assert_eq!(router.score_of_user_2(), json!(20), "the old side again");
}

#[test]
fn errors_are_clear_and_exit_non_zero() {
    let (router, _bug) = router("errors");
    let url = router.admin.clone();
    let env = [("GOLIATH_ADMIN_TOKEN", TOKEN)];

    let (ok, out, err) = cli(&["migrate", "status", "--router", &url], &[]);
    assert!(!ok);
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("401") && err.contains("--token") && err.contains("GOLIATH_ADMIN_TOKEN"),
        "{err}"
    );

    let (ok, _, err) = cli(
        &["migrate", "status", "--router", &url, "--token", "wrong"],
        &[],
    );
    assert!(!ok);
    assert!(err.contains("refused the admin token (401"), "{err}");

    for (args, needle) in [
        (
            vec!["set", "User.score", "sideways"],
            "(400): unknown migration state `sideways`",
        ),
        (
            vec!["set", "User.score", "canary"],
            "(400): canary needs a percent",
        ),
        (
            vec!["set", "User.score", "canary", "150"],
            "(400): percent 150 is not a share between 0 and 100",
        ),
        (
            vec!["set", "User.name", "migrated"],
            "(404): User.name is not a migrating field",
        ),
        (
            vec!["clear", "User.name"],
            "(404): User.name is not a migrating field",
        ),
        (
            vec!["set", "User", "migrated"],
            "`User` is not a field coordinate",
        ),
    ] {
        let mut full = vec!["migrate"];
        full.extend(&args);
        full.extend(["--router", &url]);
        let (ok, _, err) = cli(&full, &env);
        assert!(!ok, "{args:?} succeeded");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // Nothing changed.
    assert_eq!(router.score_report()["state"], json!("side-by-side"));

    // Nobody listening.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (ok, _, err) = cli(
        &[
            "migrate",
            "status",
            "--router",
            &format!("http://127.0.0.1:{port}"),
        ],
        &env,
    );
    assert!(!ok);
    assert!(err.contains("connection refused"), "{err}");
    let (ok, _, err) = cli(&["migrate", "status", "--router", "127.0.0.1:9090"], &env);
    assert!(!ok);
    assert!(err.contains("expected the admin listener's URL"), "{err}");
}
