//! `goliath usage`, run as the built binary against a `goliath router`
//! child process (usage on, an admin listener) in front of the test's
//! subgraphs: the never-requested list, the top fields, `--field` with the
//! clients and operations that use it, `--json`, and a clear error without
//! the token.

#[allow(dead_code)]
mod common;

use std::net::SocketAddr;

use common::{cli, config_text, http, start_subgraphs, temp_dir, Bug, Router, TOKEN};
use serde_json::{json, Value};

/// Sends `query` as client `web` 3.0.
fn send_as_web(router: &Router, query: &str) {
    let (status, body) = http(
        router.graphql,
        "POST",
        "/graphql",
        &[
            ("content-type", "application/json"),
            ("apollographql-client-name", "web"),
            ("apollographql-client-version", "3.0"),
        ],
        &json!({ "query": query }).to_string(),
    );
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("\"errors\""), "{body}");
}

#[test]
fn usage_through_the_cli() {
    let dir = temp_dir("usage-cli");
    let supergraph = dir.join("supergraph.graphql");
    std::fs::write(&supergraph, start_subgraphs(&Bug::default())).unwrap();
    let config = dir.join("goliath.yaml");
    let text = format!(
        "{}usage:\n  enabled: true\n  flush_interval_ms: 50\n",
        config_text(&dir, "state: side-by-side")
    );
    std::fs::write(&config, text).unwrap();
    let router = Router::start(&supergraph, &config);
    let url = router.admin.clone();
    for _ in 0..2 {
        send_as_web(&router, "query Names { users { id name } }");
    }
    router.graphql("{ users { id } }");

    let (ok, out, err) = cli(
        &[
            "usage",
            "--router",
            &url,
            "--token",
            TOKEN,
            "--field",
            "User.name",
        ],
        &[],
    );
    assert!(ok, "{err}");
    assert!(out.starts_with("field usage "), "{out}");
    assert!(out.contains("(30 days, UTC): 4 schema fields"), "{out}");
    assert!(out.contains("User.name: 2 requests\n"), "{out}");
    let users: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("User.name:"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(users.len(), 2, "{out}");
    assert!(
        users[0]
            .split_whitespace()
            .eq(["CLIENT", "VERSION", "OPERATION", "REQUESTS"]),
        "{out}"
    );
    assert!(
        users[1].split_whitespace().eq(["web", "3.0", "Names", "2"]),
        "{out}"
    );
    assert!(
        out.contains("never requested (1):\n  User.score\n"),
        "{out}"
    );
    let top: Vec<Vec<&str>> = out
        .lines()
        .skip_while(|l| !l.starts_with("top fields"))
        .skip(2)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        top,
        [
            vec!["Query.users", "3"],
            vec!["User.id", "3"],
            vec!["User.name", "2"]
        ],
        "{out}"
    );

    // --json with the token from the environment, and --days/--top.
    let env = [("GOLIATH_ADMIN_TOKEN", TOKEN)];
    let (ok, raw, err) = cli(
        &[
            "usage", "--router", &url, "--days", "7", "--top", "1", "--json",
        ],
        &env,
    );
    assert!(ok, "{err}");
    let report: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(report["days"], json!(7));
    assert_eq!(
        report["top"],
        json!([{"field": "Query.users", "requests": 3, "in_schema": true, "deprecated": false}])
    );

    // Without the token: a clear error and a non-zero exit.
    let (ok, _, err) = cli(&["usage", "--router", &url], &[]);
    assert!(!ok);
    assert!(err.contains("GOLIATH_ADMIN_TOKEN"), "{err}");
    let _: SocketAddr = url.trim_start_matches("http://").parse().unwrap();
}
