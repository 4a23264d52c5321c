//! The router's life with the built binary: a supergraph swapped under a
//! steady stream of requests (hot reload) drops none of them, an invalid
//! one keeps the last good one, SIGHUP reloads without hot reload, and
//! SIGTERM lets slow requests finish before the process exits 0.

#[allow(dead_code)]
mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{config_text, http, start_subgraphs, temp_dir, Bug, Router, USERS};
use serde_json::{json, Value};

/// Waits until `router`'s log has `n` lines containing `needle`.
fn wait_for_count(router: &Router, needle: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while router.count_lines(needle) < n {
        assert!(
            Instant::now() < deadline,
            "fewer than {n} lines with {needle:?}:\n{}",
            router.log.lock().unwrap().join("\n")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends `USERS` in a loop from `threads` threads until `stop`; counts
/// the answers and those that were not a 200 with the users' data.
fn load(
    addr: SocketAddr,
    threads: usize,
    stop: &Arc<AtomicBool>,
) -> (
    Arc<AtomicUsize>,
    Arc<AtomicUsize>,
    Vec<std::thread::JoinHandle<()>>,
) {
    let (total, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let handles = (0..threads)
        .map(|_| {
            let (stop, total, failed) = (stop.clone(), total.clone(), failed.clone());
            std::thread::spawn(move || {
                let body = json!({ "query": USERS }).to_string();
                while !stop.load(Ordering::Relaxed) {
                    let (status, answer) = http(
                        addr,
                        "POST",
                        "/graphql",
                        &[("content-type", "application/json")],
                        &body,
                    );
                    let ok = status == 200
                        && serde_json::from_str::<Value>(&answer).is_ok_and(|v| {
                            v["data"]["users"][1]["name"].is_string() && v.get("errors").is_none()
                        });
                    total.fetch_add(1, Ordering::Relaxed);
                    if !ok {
                        failed.fetch_add(1, Ordering::Relaxed);
                        eprintln!("failed: {status} {answer}");
                    }
                }
            })
        })
        .collect();
    (total, failed, handles)
}

#[test]
fn a_supergraph_swapped_under_load_drops_no_request() {
    let sdl = start_subgraphs(&Bug::default());
    let dir = temp_dir("hot-reload");
    let supergraph = dir.join("supergraph.graphql");
    std::fs::write(&supergraph, &sdl).unwrap();
    let config = dir.join("goliath.yaml");
    std::fs::write(&config, config_text(&dir, "state: side-by-side")).unwrap();
    let mut router = Router::start(&supergraph, &config);

    let stop = Arc::new(AtomicBool::new(false));
    let (total, failed, handles) = load(router.graphql, 4, &stop);
    for i in 1..=6 {
        // Another version of the same supergraph (what changes is a
        // comment: the file is new, and so is the pipeline).
        std::fs::write(&supergraph, format!("{sdl}\n# version {i}\n")).unwrap();
        wait_for_count(&router, "supergraph reload: ", i);
        std::thread::sleep(Duration::from_millis(200));
    }
    // An invalid version: logged, the last good one keeps serving.
    std::fs::write(&supergraph, "type Query {").unwrap();
    router.wait_for_line("keeping the last good supergraph", 30);
    // The error (over several lines) starts with what failed to load.
    let line = router.wait_for_line("supergraph.graphql: ", 5);
    assert!(line.contains("supergraph reload: "), "{line}");
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().unwrap();
    }
    let (total, failed) = (
        total.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
    );
    assert!(total > 50, "only {total} requests were sent");
    assert_eq!(failed, 0, "{failed} of {total} requests failed");
    assert_eq!(router.count_lines("supergraph reload: "), 7);
    assert_eq!(router.score_of_user_2(), json!(20));
}

#[test]
fn sighup_reloads_without_hot_reload() {
    let sdl = start_subgraphs(&Bug::default());
    let dir = temp_dir("sighup");
    let supergraph = dir.join("supergraph.graphql");
    std::fs::write(&supergraph, &sdl).unwrap();
    let config = dir.join("goliath.yaml");
    std::fs::write(&config, config_text(&dir, "state: side-by-side")).unwrap();
    let router = Router::start_with(&supergraph, &config, &[]);
    std::fs::write(&config, config_text(&dir, "state: migrated")).unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        router.count_lines("reload"),
        0,
        "reloaded without hot reload"
    );
    assert_eq!(router.score_report()["state"], json!("side-by-side"));
    router.signal(libc::SIGHUP);
    wait_for_count(&router, "config reload: ", 1);
    router.wait_for_report(30, |f| f["state"] == json!("migrated"));
}

/// A subgraph answering `{"data":{"slow":"done"}}` to every request after
/// `delay`, one connection at a time per thread; its URL.
fn slow_subgraph(delay: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || loop {
                // Read one request: its head, then content-length bytes.
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                let body_start = loop {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                    if let Some(i) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&seen[..body_start]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                while seen.len() < body_start + length {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                std::thread::sleep(delay);
                let body = r#"{"data":{"slow":"done"}}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                if conn.write_all(answer.as_bytes()).is_err() {
                    return;
                }
            });
        }
    });
    format!("http://{addr}/graphql")
}

/// A supergraph with one subgraph, `slow`, at `url`, serving `Query.slow`.
fn slow_supergraph(url: &str) -> String {
    format!(
        r#"schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
{{
  query: Query
}}

directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

scalar join__FieldSet
scalar link__Import
enum link__Purpose {{ SECURITY EXECUTION }}

enum join__Graph {{
  SLOW @join__graph(name: "slow", url: "{url}")
}}

type Query @join__type(graph: SLOW) {{
  slow: String
}}
"#
    )
}

/// Starts a router in front of a subgraph that takes `delay` to answer.
fn slow_router(dir: &Path, delay: Duration, shutdown_timeout_ms: u64) -> Router {
    let supergraph = dir.join("supergraph.graphql");
    std::fs::write(&supergraph, slow_supergraph(&slow_subgraph(delay))).unwrap();
    let config = dir.join("goliath.yaml");
    std::fs::write(
        &config,
        format!(
            "listen: 127.0.0.1:0\nshutdown_timeout_ms: {shutdown_timeout_ms}\n\
             admin:\n  listen: 127.0.0.1:0\n  token: ${{env.GOLIATH_ADMIN_TOKEN}}\n"
        ),
    )
    .unwrap();
    Router::start_with(&supergraph, &config, &[])
}

/// Sends `{ slow }` from `n` threads; their (status, body).
fn slow_requests(addr: SocketAddr, n: usize) -> Vec<std::thread::JoinHandle<(u16, String)>> {
    (0..n)
        .map(|_| {
            std::thread::spawn(move || {
                http(
                    addr,
                    "POST",
                    "/graphql",
                    &[("content-type", "application/json")],
                    r#"{"query":"{ slow }"}"#,
                )
            })
        })
        .collect()
}

#[test]
fn sigterm_lets_requests_in_flight_finish_then_exits_0() {
    let dir = temp_dir("sigterm");
    let mut router = slow_router(&dir, Duration::from_millis(1500), 10_000);
    let addr = router.graphql;
    let (status, ready) = http(addr, "GET", "/health?ready", &[], "");
    assert_eq!((status, ready.as_str()), (200, r#"{"status":"UP"}"#));
    let requests = slow_requests(addr, 3);
    std::thread::sleep(Duration::from_millis(400));
    let sent = Instant::now();
    router.signal(libc::SIGTERM);
    router.wait_for_line("SIGTERM: shutting down", 10);
    // No new connection is accepted.
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        TcpStream::connect(addr).is_err(),
        "a connection was accepted after SIGTERM"
    );
    for r in requests {
        let (status, body) = r.join().unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, r#"{"data":{"slow":"done"}}"#);
    }
    let status = router.wait_exit(15);
    assert!(status.success(), "exit status {status}");
    assert!(
        sent.elapsed() < Duration::from_secs(8),
        "{:?}",
        sent.elapsed()
    );
    router.wait_for_line("goliath router stopped", 5);
}

#[test]
fn sigterm_gives_up_on_requests_past_the_deadline() {
    let dir = temp_dir("sigterm-deadline");
    let mut router = slow_router(&dir, Duration::from_secs(30), 500);
    let requests = slow_requests(router.graphql, 1);
    std::thread::sleep(Duration::from_millis(300));
    let sent = Instant::now();
    router.signal(libc::SIGINT);
    let status = router.wait_exit(10);
    assert!(status.success(), "exit status {status}");
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "{:?}",
        sent.elapsed()
    );
    let line = router.wait_for_line("still in flight", 5);
    assert!(line.contains("500ms"), "{line}");
    let (status, _) = requests.into_iter().next().unwrap().join().unwrap();
    assert_ne!(status, 200);
}
