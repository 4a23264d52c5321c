//! goliath behind a real CDN: Varnish (`varnishd`, started by this test on
//! a free loopback port) in front of a router serving the router tests'
//! four subgraphs (`crates/router/tests/support`), with `cache_control` on
//! and a persisted query sent in the GET path form
//! (`GET /graphql/ProductCard?id=product-card&variables=...`).
//!
//! The VCL (`tests/varnish/goliath.vcl`) caches by URL for as long as the
//! router's `Cache-Control` says, marks each answer `X-Cache: HIT` or
//! `MISS`, and purges Fastly-style: `PURGE` with `Surrogate-Key: KEY` bans
//! every cached answer whose `Surrogate-Key` header lists `KEY`.
//!
//! varnishd: `GOLIATH_TEST_VARNISHD` when set (then it must start, or the
//! test fails), else `varnishd` in /usr/sbin, /usr/local/sbin or on PATH,
//! else the test prints `SKIPPED: no varnishd` and passes (`.ci/run`
//! installs Debian's `varnish` and sets the variable).
//!
//! `cargo test -p goliath --test varnish -- --nocapture` prints the
//! transcript: each request through Varnish with its status and the
//! `X-Cache`, `Age`, `Cache-Control` and `Surrogate-Key` headers.

#[allow(dead_code)]
#[path = "../../router/tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use goliath_router::Config;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

use support::{start_router, start_subgraphs, RequestLog};

/// The VCL, with `GOLIATH_HOST` and `GOLIATH_PORT` in its backend.
const VCL: &str = include_str!("varnish/goliath.vcl");

/// The persisted query (manifest id `product-card`).
const PRODUCT_CARD: &str =
    "query ProductCard($upc: String!) { product(upc: $upc) { upc name price inStock } }";

/// The varnishd to run: see the module's comment.
fn varnishd() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("GOLIATH_TEST_VARNISHD") {
        return Some(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("varnishd"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    [
        PathBuf::from("/usr/sbin/varnishd"),
        PathBuf::from("/usr/local/sbin/varnishd"),
    ]
    .into_iter()
    .chain(on_path)
    .find(|path| path.is_file())
}

/// A directory of this test's own under the system's temporary directory,
/// removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let path = std::env::temp_dir().join(format!(
            "goliath-varnish-test.{}.{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `varnishd -F` child in a process group of its own (its manager and
/// cache processes), stopped on drop (SIGTERM to the group, SIGKILL after
/// 5 s) and told by the kernel to stop (SIGTERM) if the test thread dies
/// first; its working directory (`-n`) is removed after it.
struct Varnish {
    addr: SocketAddr,
    child: Child,
    /// `-n` and the VCL; removed after the process is gone (fields drop
    /// after `Drop::drop`).
    _dir: TempDir,
}

impl Varnish {
    /// Starts `varnishd` with the VCL pointing at `backend`; waits until it
    /// listens. Panics (the test fails) when it does not start.
    fn start(varnishd: &Path, backend: SocketAddr) -> Varnish {
        let dir = TempDir::new();
        let vcl = dir.0.join("goliath.vcl");
        std::fs::write(
            &vcl,
            VCL.replace("GOLIATH_HOST", &backend.ip().to_string())
                .replace("GOLIATH_PORT", &backend.port().to_string()),
        )
        .unwrap();
        let log = dir.0.join("varnishd.log");
        let log_file = std::fs::File::create(&log).unwrap();
        let port = free_port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut command = Command::new(varnishd);
        command
            .arg("-F")
            .arg("-n")
            .arg(dir.0.join("work"))
            .arg("-a")
            .arg(addr.to_string())
            .arg("-f")
            .arg(&vcl)
            // No jail: runs as whoever runs the test (root in CI, where the
            // default `unix` jail would want the `varnish` user's files).
            .args(["-j", "none"])
            // No management port: nothing talks to it.
            .args(["-T", "none"])
            .args(["-s", "malloc,32m"])
            // An answer without max-age is not kept.
            .args(["-p", "default_ttl=0", "-p", "default_grace=0"])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file);
        {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
            // SAFETY: prctl is async-signal-safe; nothing else runs between
            // fork and exec.
            unsafe {
                command.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                    Ok(())
                });
            }
        }
        let child = command.spawn().unwrap_or_else(|e| {
            panic!("cannot start {}: {e}", varnishd.display());
        });
        let mut varnish = Varnish {
            addr,
            child,
            _dir: dir,
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            if let Ok(Some(status)) = varnish.child.try_wait() {
                panic!(
                    "varnishd exited ({status}) before listening on {addr}:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            if started.elapsed() > Duration::from_secs(60) {
                panic!(
                    "varnishd did not listen on {addr} within 60 s:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        varnish
    }
}

impl Drop for Varnish {
    fn drop(&mut self) {
        let group = self.child.id() as i32;
        // SAFETY: signals to the process group this test created.
        unsafe { libc::kill(-group, libc::SIGTERM) };
        let started = Instant::now();
        while !matches!(self.child.try_wait(), Ok(Some(_))) {
            if started.elapsed() > Duration::from_secs(5) {
                unsafe { libc::kill(-group, libc::SIGKILL) };
                let _ = self.child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // The cache process may outlive the manager by a moment.
        let started = Instant::now();
        while unsafe { libc::kill(-group, 0) } == 0 && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        unsafe { libc::kill(-group, libc::SIGKILL) };
    }
}

/// A loopback port nothing listens on (at the time of asking).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().unwrap().port()
}

/// One answer through Varnish.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap_or("(not UTF-8)"))
            .unwrap_or("")
    }

    /// The `Surrogate-Key` tags.
    fn surrogate_keys(&self) -> Vec<&str> {
        self.header("surrogate-key").split_whitespace().collect()
    }
}

/// The router, its subgraphs and Varnish in front, and a client.
struct Cdn {
    varnish: Varnish,
    log: RequestLog,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Cdn {
    /// How many requests the subgraphs have received.
    fn subgraph_calls(&self) -> usize {
        self.log.entries().len()
    }

    /// Sends `method path` to Varnish with `headers`; prints the step.
    async fn send(
        &self,
        step: &str,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = http::Request::builder()
            .method(method.clone())
            .uri(format!("http://{}{path}", self.varnish.addr));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .client
            .request(request.body(Full::new(Bytes::new())).unwrap())
            .await
            .expect("varnish answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        let answer = Answer {
            status,
            headers,
            body,
        };
        let mut line = format!("varnish: {step}: {method} {path} -> {status}");
        for name in ["X-Cache", "Age", "Cache-Control", "Surrogate-Key"] {
            let value = answer.header(name);
            if !value.is_empty() {
                line.push_str(&format!(" | {name}: {value}"));
            }
        }
        line.push_str(&format!(
            " | subgraph calls so far: {}",
            self.subgraph_calls()
        ));
        eprintln!("{line}");
        answer
    }

    /// GETs the persisted query for product `upc` (the path form).
    async fn get_product(&self, step: &str, upc: &str) -> Answer {
        let path =
            format!("/graphql/ProductCard?id=product-card&variables=%7B%22upc%22%3A%22{upc}%22%7D");
        self.send(
            step,
            Method::GET,
            &path,
            &[("apollo-require-preflight", "true")],
        )
        .await
    }

    /// `PURGE` with `Surrogate-Key: keys`.
    async fn purge(&self, step: &str, keys: &str) -> Answer {
        let purge = Method::from_bytes(b"PURGE").unwrap();
        self.send(step, purge, "/", &[("surrogate-key", keys)])
            .await
    }
}

/// Asserts a fresh answer from the router (through Varnish) for product
/// `upc`: 200, `X-Cache: expected`, a cacheable `Cache-Control`, the data.
fn assert_answer(answer: &Answer, expected_cache: &str, data: &Value) {
    assert_eq!(answer.status, StatusCode::OK, "{:#}", answer.body);
    assert_eq!(
        answer.header("x-cache"),
        expected_cache,
        "{:#}",
        answer.body
    );
    let cache_control = answer.header("cache-control");
    assert!(
        cache_control.contains("max-age=60") && cache_control.contains("public"),
        "Cache-Control: {cache_control:?}"
    );
    assert_eq!(answer.body, json!({ "data": data }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn varnish_caches_goliath_answers_and_purges_by_surrogate_key() {
    let Some(varnishd) = varnishd() else {
        let _ = writeln!(
            std::io::stderr(),
            "\n\nSKIPPED: no varnishd (set GOLIATH_TEST_VARNISHD or install Debian's \
             varnish): the Varnish test passes without running\n"
        );
        return;
    };

    // The router: every subgraph answer counts as max-age=60 (the test
    // subgraphs send no Cache-Control); the query persisted by a manifest.
    let files = TempDir::new();
    let manifest = files.0.join("manifest.json");
    std::fs::write(
        &manifest,
        json!({
            "format": "apollo-persisted-query-manifest",
            "version": 1,
            "operations": [
                {"id": "product-card", "body": PRODUCT_CARD, "name": "ProductCard", "type": "query"}
            ]
        })
        .to_string(),
    )
    .unwrap();
    // `cache_control.surrogate_keys` is left at its default (on, once it
    // exists).
    let yaml = format!(
        "cache_control:\n  enabled: true\n  default_max_age: 60\n\
         persisted_queries:\n  enabled: true\n  local_manifests: [{}]\n",
        manifest.display()
    );
    let config = Config::from_yaml_str(&yaml).unwrap();
    let log = RequestLog::default();
    let subgraphs = start_subgraphs(&log).await;
    let router = start_router(&subgraphs.supergraph(), &config).await;

    let varnish = tokio::task::block_in_place(|| Varnish::start(&varnishd, router));
    eprintln!(
        "varnish: {} (-j none, default_ttl=0) on {}, in front of goliath on {router}",
        varnishd.display(),
        varnish.addr
    );
    let cdn = Cdn {
        varnish,
        log,
        client: Client::builder(TokioExecutor::new()).build_http(),
    };
    let table = json!({"product": {"upc": "1", "name": "Table", "price": 899, "inStock": true}});
    let couch = json!({"product": {"upc": "2", "name": "Couch", "price": 1299, "inStock": false}});

    // 1. A MISS: the router answers, the subgraphs are asked.
    let first = cdn.get_product("1 first GET, product 1", "1").await;
    assert_answer(&first, "MISS", &table);
    let calls = cdn.subgraph_calls();
    assert!(calls > 0, "the subgraphs were not asked");

    // 2. The same URL: a HIT, the subgraphs are not asked again.
    let second = cdn.get_product("2 same GET again", "1").await;
    assert_answer(&second, "HIT", &table);
    assert_eq!(cdn.subgraph_calls(), calls, "a HIT reached the subgraphs");

    // 3. Other variables, another URL: a MISS.
    let other = cdn
        .get_product("3 GET, product 2 (other variables)", "2")
        .await;
    assert_answer(&other, "MISS", &couch);
    assert!(
        cdn.subgraph_calls() > calls,
        "a MISS did not reach the subgraphs"
    );
    let calls = cdn.subgraph_calls();

    // 4. A PURGE without a key is refused, and purges nothing.
    let refused = cdn
        .send(
            "4 PURGE without Surrogate-Key",
            Method::from_bytes(b"PURGE").unwrap(),
            "/",
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);

    // ---- Purging by surrogate key: the router's `Surrogate-Key` header
    // on cacheable answers (`cache_control.surrogate_keys`).
    let first_keys = first.surrogate_keys();
    let other_keys = other.surrogate_keys();
    assert!(
        !first_keys.is_empty(),
        "the router sent no Surrogate-Key with a cacheable answer \
         (cache_control.surrogate_keys): headers {:?}",
        first.headers
    );
    // A key of product 1's answer that product 2's answer does not have:
    // its entity key (`Product:1`) if it is there.
    let key = first_keys
        .iter()
        .filter(|k| !other_keys.contains(k))
        .max_by_key(|k| k.contains("Product"))
        .copied()
        .unwrap_or_else(|| {
            panic!("no key only in product 1's answer: {first_keys:?} vs {other_keys:?}")
        })
        .to_owned();

    // 5. Ban by that key.
    let purged = cdn
        .purge(&format!("5 PURGE Surrogate-Key: {key}"), &key)
        .await;
    assert_eq!(purged.status, StatusCode::OK, "{:#}", purged.body);

    // 6. Product 1's answer is gone: a MISS, the subgraphs asked again.
    let again = cdn
        .get_product("6 GET product 1 after the purge", "1")
        .await;
    assert_answer(&again, "MISS", &table);
    assert!(
        cdn.subgraph_calls() > calls,
        "a MISS after the purge did not reach the subgraphs"
    );
    let calls = cdn.subgraph_calls();

    // 7. Product 2's answer, without that key, stays cached.
    let kept = cdn
        .get_product("7 GET product 2 after the purge", "2")
        .await;
    assert_answer(&kept, "HIT", &couch);
    assert_eq!(cdn.subgraph_calls(), calls, "a HIT reached the subgraphs");

    // 8. And product 1's new answer is cached again.
    let cached = cdn.get_product("8 GET product 1 once more", "1").await;
    assert_answer(&cached, "HIT", &table);
    assert_eq!(cdn.subgraph_calls(), calls, "a HIT reached the subgraphs");

    drop(cdn);
    drop(files);
}
