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

/// Spans still waiting when the router stops are sent before it exits:
/// with a batch delay of a minute, SIGTERM sends the request's spans to an
/// OTLP/HTTP receiver (here a plain HTTP server that keeps what it is
/// posted: the protobuf holds the span and service names as text).
#[test]
fn spans_waiting_at_shutdown_are_sent() {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let receiver = listener.local_addr().unwrap();
    let posted = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    {
        let posted = posted.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                posted.lock().unwrap().extend_from_slice(&body);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
    }
    let tracing = format!(
        "telemetry:\n  exporters:\n    tracing:\n      common:\n        service_name: goliath-shutdown-test\n      otlp:\n        enabled: true\n        protocol: http\n        endpoint: http://{receiver}\n        batch_processor:\n          scheduled_delay: 60s\n"
    );
    let mut router = router("trace-shutdown", &[], &tracing);
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        posted.lock().unwrap().is_empty(),
        "sent before the batch delay"
    );
    router.signal(libc::SIGTERM);
    assert!(router.wait_exit(30).success());
    let posted = posted.lock().unwrap();
    let text = String::from_utf8_lossy(&posted);
    assert!(text.contains("goliath-shutdown-test"), "{text:?}");
    assert!(text.contains("projection"), "{text:?}");
}
