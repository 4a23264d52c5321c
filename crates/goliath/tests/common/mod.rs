//! What the CLI tests share: two subgraphs served in-process (`old`, a
//! monolith with users' `name` and `score`, and `new`, taking `User.score`
//! over and getting user 2's score wrong when told to), a supergraph
//! naming them, a `goliath router` child process with an admin listener,
//! and small blocking HTTP and CLI helpers.

use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, Schema, ID};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

pub const GOLIATH: &str = env!("CARGO_BIN_EXE_goliath");

/// The admin token the routers are started with.
pub const TOKEN: &str = "cli-test-token";

/// The query the tests send.
pub const USERS: &str = "query Scores { users { id name score } }";

/// Whether the new subgraph gets user 2's score wrong (21 instead of 20).
#[derive(Clone, Default)]
pub struct Bug(pub Arc<AtomicBool>);

fn score_of(id: &str) -> i32 {
    id.parse::<i32>().unwrap_or(0) * 10
}

struct OldUser {
    id: String,
}

#[Object(name = "User")]
impl OldUser {
    async fn id(&self) -> ID {
        ID::from(self.id.clone())
    }
    async fn name(&self) -> String {
        format!("user {}", self.id)
    }
    async fn score(&self) -> i32 {
        score_of(&self.id)
    }
}

struct OldQuery;

#[Object(name = "Query")]
impl OldQuery {
    async fn users(&self) -> Vec<OldUser> {
        ["1", "2", "3"]
            .iter()
            .map(|id| OldUser { id: id.to_string() })
            .collect()
    }
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> OldUser {
        OldUser { id: id.to_string() }
    }
}

struct NewUser {
    id: String,
}

#[Object(name = "User")]
impl NewUser {
    async fn id(&self) -> ID {
        ID::from(self.id.clone())
    }
    async fn score(&self, ctx: &Context<'_>) -> i32 {
        let bug = ctx.data_unchecked::<Bug>().0.load(Ordering::SeqCst) && self.id == "2";
        score_of(&self.id) + i32::from(bug)
    }
}

struct NewQuery;

#[Object(name = "Query")]
impl NewQuery {
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> NewUser {
        NewUser { id: id.to_string() }
    }
}

/// Serves `schema` on a loopback port, on the runtime of the current
/// thread; returns its URL.
async fn serve<Q, M, S>(schema: Schema<Q, M, S>) -> String
where
    Q: async_graphql::ObjectType + 'static,
    M: async_graphql::ObjectType + 'static,
    S: async_graphql::SubscriptionType + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let schema = schema.clone();
            let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let schema = schema.clone();
                async move {
                    let body = req.into_body().collect().await.map(|b| b.to_bytes());
                    let answer = match body
                        .ok()
                        .and_then(|b| serde_json::from_slice::<async_graphql::Request>(&b).ok())
                    {
                        Some(request) => {
                            serde_json::to_vec(&schema.execute(request).await).unwrap()
                        }
                        None => br#"{"errors":[{"message":"bad request"}]}"#.to_vec(),
                    };
                    Ok::<_, Infallible>(
                        http::Response::builder()
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from(answer)))
                            .unwrap(),
                    )
                }
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}/graphql")
}

/// Starts both subgraphs on a thread of their own; returns the supergraph
/// SDL naming them.
pub fn start_subgraphs(bug: &Bug) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    let bug = bug.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let old = Schema::build(OldQuery, EmptyMutation, EmptySubscription)
                .enable_federation()
                .finish();
            let new = Schema::build(NewQuery, EmptyMutation, EmptySubscription)
                .data(bug)
                .enable_federation()
                .finish();
            let old = serve(old).await;
            let new = serve(new).await;
            tx.send(supergraph(&old, &new)).unwrap();
            std::future::pending::<()>().await;
        });
    });
    rx.recv().unwrap()
}

/// `User.score` in both subgraphs (migrated from `old` to `new` by the
/// router's config).
fn supergraph(old: &str, new: &str) -> String {
    format!(
        r#"
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
{{
  query: Query
}}

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE
directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

scalar join__FieldSet
scalar link__Import
enum link__Purpose {{ SECURITY EXECUTION }}

enum join__Graph {{
  NEW @join__graph(name: "new", url: "{new}")
  OLD @join__graph(name: "old", url: "{old}")
}}

type Query @join__type(graph: NEW) @join__type(graph: OLD) {{
  users: [User] @join__field(graph: OLD)
}}

type User @join__type(graph: NEW, key: "id") @join__type(graph: OLD, key: "id") {{
  id: ID!
  name: String @join__field(graph: OLD)
  score: Int @join__field(graph: NEW) @join__field(graph: OLD)
}}
"#
    )
}

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("goliath-migrate-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A router config with an admin listener (token from the environment)
/// and `User.score` migrating in `state` (YAML text, e.g. `side-by-side`
/// or `{state: canary, percent: 5}`'s inside).
pub fn config_text(dir: &Path, state_fields: &str) -> String {
    format!(
        "listen: 127.0.0.1:0\n\
         store:\n  dir: {store}\n\
         admin:\n  listen: 127.0.0.1:0\n  token: ${{env.GOLIATH_ADMIN_TOKEN}}\n\
         migrations:\n  flush_interval_ms: 50\n  noise_sample: 0\n  \
         User.score:\n    from: old\n    to: new\n    ready_after: 5\n    {state_fields}\n",
        store = dir.join("store").display()
    )
}

/// A `goliath router` child process.
pub struct Router {
    child: Child,
    /// Its log lines so far.
    pub log: Arc<Mutex<Vec<String>>>,
    /// `http://127.0.0.1:PORT/graphql`.
    pub graphql: SocketAddr,
    /// `http://127.0.0.1:PORT`: the admin listener.
    pub admin: String,
}

impl Router {
    /// Starts `goliath router --supergraph SUPERGRAPH --config CONFIG
    /// --hot-reload` and waits for both listeners (60 s at most).
    pub fn start(supergraph: &Path, config: &Path) -> Router {
        Router::start_with(supergraph, config, &["--hot-reload"])
    }

    /// [`Router::start`] with other extra arguments than `--hot-reload`.
    pub fn start_with(supergraph: &Path, config: &Path, extra: &[&str]) -> Router {
        let mut child = Command::new(GOLIATH)
            .args(["router", "--supergraph"])
            .arg(supergraph)
            .arg("--config")
            .arg(config)
            .args(extra)
            .env("GOLIATH_ADMIN_TOKEN", TOKEN)
            .env("GOLIATH_WORKERS", "1")
            .env_remove("NO_COLOR")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    log.lock().unwrap().push(line);
                }
            });
        }
        let mut router = Router {
            child,
            log,
            graphql: "127.0.0.1:0".parse().unwrap(),
            admin: String::new(),
        };
        let admin = router.wait_for_line("admin listener on http://", 60);
        let graphql = router.wait_for_line("goliath router serving", 60);
        router.admin = format!(
            "http://{}",
            address_after(&admin, "admin listener on http://")
        );
        router.graphql = address_after(&graphql, " on http://").parse().unwrap();
        router
    }

    /// The first log line containing `needle`; panics after `seconds`.
    pub fn wait_for_line(&mut self, needle: &str, seconds: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            if let Some(line) = self.log.lock().unwrap().iter().find(|l| l.contains(needle)) {
                return line.clone();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the router exited ({status}):\n{}",
                    self.log.lock().unwrap().join("\n")
                );
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {needle:?} within {seconds} s:\n{}",
                self.log.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// How many log lines so far contain `needle`.
    pub fn count_lines(&self, needle: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    /// Sends `signal` (e.g. `libc::SIGTERM`) to the router.
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on the child this test started.
        let r = unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        assert_eq!(r, 0, "kill failed");
    }

    /// Waits up to `seconds` for the router to exit; its exit status.
    pub fn wait_exit(&mut self, seconds: u64) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the router did not exit within {seconds} s:\n{}",
                self.log.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// POSTs `query`; returns the response body.
    pub fn graphql(&self, query: &str) -> Value {
        let (status, body) = http(
            self.graphql,
            "POST",
            "/graphql",
            &[("content-type", "application/json")],
            &json!({ "query": query }).to_string(),
        );
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// User 2's score as served: 20 from the old side, 21 from the new.
    pub fn score_of_user_2(&self) -> Value {
        self.graphql(USERS)["data"]["users"][1]["score"].clone()
    }

    /// The admin report's entry for `User.score`.
    pub fn score_report(&self) -> Value {
        let addr: SocketAddr = self.admin.trim_start_matches("http://").parse().unwrap();
        let (status, body) = http(
            addr,
            "GET",
            "/admin/migrations",
            &[("authorization", &format!("Bearer {TOKEN}"))],
            "",
        );
        assert_eq!(status, 200, "{body}");
        let report: Value = serde_json::from_str(&body).unwrap();
        report["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == json!("User.score"))
            .cloned()
            .unwrap_or_else(|| panic!("User.score not in {report}"))
    }

    /// Waits until `User.score`'s report entry satisfies `ok`; panics after
    /// `seconds` with the last entry.
    pub fn wait_for_report(&self, seconds: u64, ok: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let f = self.score_report();
            if ok(&f) {
                return f;
            }
            assert!(
                Instant::now() < deadline,
                "User.score never got there: {f:#}\nlog:\n{}",
                self.log.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `127.0.0.1:PORT` right after `marker` in a log line.
fn address_after(line: &str, marker: &str) -> String {
    let rest = &line[line.find(marker).unwrap() + marker.len()..];
    rest.chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
        .collect()
}

/// One HTTP/1.1 request on a fresh connection; returns status and body.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_owned())
}

/// Runs `goliath ARGS` with `env` (and no `GOLIATH_ADMIN_TOKEN` otherwise);
/// returns (success, stdout, stderr).
pub fn cli(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut command = Command::new(GOLIATH);
    command.args(args).env_remove("GOLIATH_ADMIN_TOKEN");
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
