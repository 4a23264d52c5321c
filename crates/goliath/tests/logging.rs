//! The router's log with the built binary: JSON lines with `--log-format
//! json` (or `log_format: json`), and plain text without escape codes when
//! standard error is not a terminal.

#[allow(dead_code)]
mod common;

use common::{config_text, start_subgraphs, temp_dir, Bug, Router};
use serde_json::Value;

/// Starts a router with `extra` arguments and config lines; returns it
/// after it has served one request.
fn router(name: &str, extra: &[&str], config_lines: &str) -> Router {
    let sdl = start_subgraphs(&Bug::default());
    let dir = temp_dir(name);
    let supergraph = dir.join("supergraph.graphql");
    std::fs::write(&supergraph, sdl).unwrap();
    let config = dir.join("goliath.yaml");
    let text = format!("{config_lines}{}", config_text(&dir, "state: side-by-side"));
    std::fs::write(&config, text).unwrap();
    let router = Router::start_with(&supergraph, &config, extra);
    router.score_of_user_2();
    router
}

/// Every line is a JSON object with a time, a level and a message.
fn assert_json_lines(router: &Router) {
    let lines = router.log.lock().unwrap().clone();
    assert!(lines.len() >= 2, "{lines:?}");
    for line in &lines {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["timestamp"].is_string(), "{line}");
        assert!(v["level"].is_string(), "{line}");
        assert!(v["message"].is_string(), "{line}");
    }
    assert!(
        lines.iter().any(|l| l.contains("goliath router serving")),
        "{lines:?}"
    );
}

#[test]
fn log_format_json_from_the_flag() {
    let router = router("log-json-flag", &["--log-format", "json"], "");
    assert_json_lines(&router);
}

#[test]
fn log_format_json_from_the_config() {
    let router = router("log-json-config", &[], "log_format: json\n");
    assert_json_lines(&router);
}

#[test]
fn text_logs_to_a_pipe_have_no_escape_codes() {
    let router = router("log-text", &[], "");
    let lines = router.log.lock().unwrap().clone();
    assert!(
        lines.iter().any(|l| l.contains("goliath router serving")),
        "{lines:?}"
    );
    for line in &lines {
        assert!(!line.contains('\u{1b}'), "an escape code in {line:?}");
        assert!(serde_json::from_str::<Value>(line).is_err(), "{line}");
    }
}
