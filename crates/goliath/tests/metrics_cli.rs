//! `goliath router`'s metrics on its admin listener, with the built binary:
//! scraped without the token, the supergraph's load time set at start-up
//! and moved by a reload, reloads counted (a supergraph that loads, one
//! that does not), and requests counted across the swap.

#[allow(dead_code)]
mod common;

use std::net::SocketAddr;

use common::{config_text, http, start_subgraphs, temp_dir, Bug, Router, USERS};

/// The config of `common`, with metrics on.
fn config(dir: &std::path::Path) -> String {
    format!(
        "{}telemetry:\n  exporters:\n    metrics:\n      prometheus:\n        enabled: true\n        path: /metrics\n",
        config_text(dir, "state: side-by-side")
    )
}

/// The value of the series `series` (name and labels, as written) in the
/// router's `/metrics`, scraped without a token.
fn metric(router: &Router, series: &str) -> f64 {
    let addr: SocketAddr = router.admin.trim_start_matches("http://").parse().unwrap();
    let (status, text) = http(addr, "GET", "/metrics", &[], "");
    assert_eq!(status, 200, "{text}");
    text.lines()
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().unwrap())
        })
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

#[test]
fn reloads_are_counted_and_move_the_load_time() {
    let dir = temp_dir("metrics");
    let supergraph = dir.join("supergraph.graphql");
    let sdl = start_subgraphs(&Bug::default());
    std::fs::write(&supergraph, &sdl).unwrap();
    let config_file = dir.join("goliath.yaml");
    std::fs::write(&config_file, config(&dir)).unwrap();
    let mut router = Router::start(&supergraph, &config_file);

    let loaded = "goliath_supergraph_load_timestamp_seconds";
    let started = metric(&router, loaded);
    assert!(started > 1.7e9, "{started}");
    let ok = r#"goliath_reloads_total{what="supergraph",outcome="ok"}"#;
    let failed = r#"goliath_reloads_total{what="supergraph",outcome="error"}"#;
    assert_eq!((metric(&router, ok), metric(&router, failed)), (0.0, 0.0));
    let scores = r#"goliath_requests_total{operation_name="Scores",client_name="",client_version="",outcome="ok"}"#;
    router.graphql(USERS);
    assert_eq!(metric(&router, scores), 1.0);

    // A new supergraph (the same, edited): swapped in and counted.
    std::fs::write(&supergraph, format!("{sdl}\n# edited\n")).unwrap();
    router.wait_for_line("supergraph reload: ", 30);
    assert_eq!(metric(&router, ok), 1.0);
    assert!(metric(&router, loaded) > started);
    router.graphql(USERS);
    assert_eq!(metric(&router, scores), 2.0, "counts outlive the swap");

    // One that does not load: counted, the last good one kept.
    std::fs::write(&supergraph, "type Query { broken").unwrap();
    router.wait_for_line("keeping the last good supergraph", 30);
    assert_eq!((metric(&router, ok), metric(&router, failed)), (1.0, 1.0));
    router.graphql(USERS);
    assert_eq!(metric(&router, scores), 3.0);
}
