//! The `goliath compose` command and `goliath router --compose`, run as the
//! built binary against subgraphs served by the test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const GOLIATH: &str = env!("CARGO_BIN_EXE_goliath");

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("goliath-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A subgraph answering `_service { sdl }` with the current `sdl` and any
/// other query with `{"data": {"hello": "world"}}`.
fn subgraph(sdl: Arc<Mutex<String>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let sdl = sdl.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(&mut stream);
                let mut length = 0;
                let mut line = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let request = String::from_utf8_lossy(&body);
                let answer = if request.contains("_service") {
                    let sdl = sdl.lock().unwrap().clone();
                    format!("{{\"data\":{{\"_service\":{{\"sdl\":{sdl:?}}}}}}}")
                } else {
                    "{\"data\":{\"hello\":\"world\"}}".to_owned()
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            });
        }
    });
    format!("http://{addr}/graphql")
}

/// POSTs a GraphQL query to the router; `None` while it is not up.
fn query(port: u16, query: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    let body = format!("{{\"query\":{query:?}}}");
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut out = String::new();
    stream.read_to_string(&mut out).ok()?;
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())
}

struct Router(Child);

impl Drop for Router {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(port: u16, q: &str, want: &str) -> String {
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < Duration::from_secs(20) {
        if let Some(answer) = query(port, q) {
            if answer.contains(want) {
                return answer;
            }
            last = answer;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the router never answered {want:?}; last answer: {last}");
}

#[test]
fn compose_writes_the_supergraph_or_lists_errors() {
    let dir = temp_dir("compose");
    std::fs::write(dir.join("a.graphql"), "type Query { hello: String }").unwrap();
    std::fs::write(
        dir.join("supergraph.yaml"),
        "subgraphs:\n  a:\n    routing_url: http://a:4001\n    schema:\n      file: a.graphql\n",
    )
    .unwrap();
    let out = dir.join("supergraph.graphql");
    let status = Command::new(GOLIATH)
        .args(["compose", "--config"])
        .arg(dir.join("supergraph.yaml"))
        .arg("--output")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let sdl = std::fs::read_to_string(&out).unwrap();
    assert!(
        sdl.contains("A @join__graph(name: \"a\", url: \"http://a:4001\")"),
        "{sdl}"
    );

    std::fs::remove_file(&out).unwrap();
    std::fs::write(
        dir.join("a.graphql"),
        "type Query { hello: Nope } type T @key(fields: \"x\") { id: ID }",
    )
    .unwrap();
    let result = Command::new(GOLIATH)
        .args(["compose", "--config"])
        .arg(dir.join("supergraph.yaml"))
        .arg("--output")
        .arg(&out)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("INVALID_GRAPHQL: [a] Unknown type \"Nope\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("KEY_INVALID_FIELDS: [a] On type \"T\""),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing is written on errors");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn router_recomposes_when_a_subgraph_changes() {
    let sdl = Arc::new(Mutex::new("type Query { hello: String }".to_owned()));
    let url = subgraph(sdl.clone());
    let dir = temp_dir("recompose");
    std::fs::write(
        dir.join("supergraph.yaml"),
        format!("subgraphs:\n  a:\n    schema:\n      subgraph_url: {url}\n"),
    )
    .unwrap();
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let _router = Router(
        Command::new(GOLIATH)
            .args(["router", "--compose"])
            .arg(dir.join("supergraph.yaml"))
            .args(["--poll-interval", "1", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let fields = "{ __type(name: \"Query\") { fields { name } } }";
    wait_for(port, "{ hello }", "\"hello\":\"world\"");

    // A subgraph change is picked up...
    *sdl.lock().unwrap() = "type Query { hello: String extra: Int }".to_owned();
    wait_for(port, fields, "\"extra\"");

    // ...and a change that does not compose keeps the last good supergraph.
    *sdl.lock().unwrap() = "type Query { hello: Nope }".to_owned();
    std::thread::sleep(Duration::from_millis(2500));
    let answer = query(port, fields).unwrap();
    assert!(answer.contains("\"extra\""), "{answer}");
    std::fs::remove_dir_all(&dir).ok();
}
