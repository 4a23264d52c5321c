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

/// With traces on, a request's log lines carry its trace id (here the
/// client's, from its `traceparent`): a `warn_only` limit logs one.
#[test]
fn a_requests_log_lines_carry_its_trace_id() {
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    // No collector listens there: spans are dropped, logs still name them.
    let tracing = "telemetry:\n  exporters:\n    tracing:\n      otlp:\n        enabled: true\n        endpoint: http://127.0.0.1:9\n";
    let limits = "limits:\n  max_aliases: 1\n  warn_only: true\n";
    for format in ["json", "text"] {
        let config = format!("{tracing}{limits}");
        let mut router = router(
            &format!("log-trace-{format}"),
            &["--log-format", format],
            &config,
        );
        let (status, body) = common::http(
            router.graphql,
            "POST",
            "/graphql",
            &[
                ("content-type", "application/json"),
                ("traceparent", &format!("00-{trace_id}-00f067aa0ba902b7-01")),
            ],
            r#"{"query":"{ a: users { id } b: users { id } }"}"#,
        );
        assert_eq!(status, 200, "{body}");
        let line = router.wait_for_line("over its limits", 10);
        match format {
            "json" => {
                let v: Value = serde_json::from_str(&line).unwrap();
                assert_eq!(v["span"]["trace_id"], trace_id, "{line}");
                assert_eq!(v["span"]["name"], "request", "{line}");
            }
            _ => assert!(line.contains(&format!("trace_id={trace_id}")), "{line}"),
        }
    }
}
