//! The state store's behaviour, one suite run against both backends: redb in
//! a temporary directory, and Redis: `GOLIATH_TEST_REDIS_URL` when set, else
//! a `redis-server` this test binary starts on a free loopback port (and
//! that stops when the binary exits), else the Redis tests print
//! `SKIPPED: no redis` and pass.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use goliath_router::store::{self, RedbStore, Store, StoreConfig};

/// Where one test's store lives; `open` gives a new handle to the same data.
enum Target {
    Redb(tempfile::TempDir),
    Redis { url: String, prefix: String },
}

impl Target {
    fn redb() -> Target {
        Target::Redb(tempfile::tempdir().expect("temp dir"))
    }

    /// A Redis target with a key prefix of its own, or `None` (after a loud
    /// line) when there is no Redis to test with.
    fn redis(test: &str) -> Option<Target> {
        let url = redis_url()?;
        let prefix = format!(
            "goliath-test:{test}:{}:{}:",
            std::process::id(),
            fastrand::u64(..)
        );
        Some(Target::Redis { url, prefix })
    }

    async fn open(&self) -> Arc<dyn Store> {
        match self {
            Target::Redb(dir) => store::open(&StoreConfig {
                dir: dir.path().to_owned(),
                ..StoreConfig::default()
            })
            .await
            .expect("open redb"),
            Target::Redis { url, prefix } => store::open(&StoreConfig {
                redis: Some(url.clone()),
                key_prefix: prefix.clone(),
                ..StoreConfig::default()
            })
            .await
            .expect("open redis"),
        }
    }

    /// Removes what the test left in a shared Redis.
    async fn cleanup(&self, store: &dyn Store) {
        if let Target::Redis { .. } = self {
            for key in store.keys("").await.expect("keys") {
                store.delete(&key).await.expect("delete");
            }
            assert_eq!(store.keys("").await.unwrap(), Vec::<String>::new());
        }
    }
}

/// The Redis URL to test with: `GOLIATH_TEST_REDIS_URL`, else a server of
/// our own when `redis-server` is on PATH, else `None` after a loud line.
fn redis_url() -> Option<String> {
    if let Ok(url) = std::env::var("GOLIATH_TEST_REDIS_URL") {
        if !url.is_empty() {
            return Some(url);
        }
    }
    static LOCAL: OnceLock<Option<LocalRedis>> = OnceLock::new();
    let local = LOCAL.get_or_init(|| {
        let local = LocalRedis::start();
        if local.is_none() {
            // Straight to stderr, past the test harness's capture, once.
            let _ = writeln!(
                std::io::stderr(),
                "\n\nSKIPPED: no redis (set GOLIATH_TEST_REDIS_URL or put redis-server \
                 on PATH): the Redis store tests pass without running\n"
            );
        }
        local
    });
    local.as_ref().map(|local| local.url.clone())
}

/// A `redis-server` started for this test binary, under a shell that kills
/// it when the binary exits (its standard input, held by `shell`, closes
/// then, whether the tests pass, fail or abort) or when `stop` is called.
struct LocalRedis {
    url: String,
    port: u16,
    shell: Child,
}

impl LocalRedis {
    /// Starts one on a free port, or `None` when `redis-server` is not on
    /// PATH.
    fn start() -> Option<LocalRedis> {
        let found = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !found {
            return None;
        }
        LocalRedis::start_on(free_port())
    }

    /// Starts one on `port`.
    fn start_on(port: u16) -> Option<LocalRedis> {
        let shell = Command::new("sh")
            .arg("-c")
            .arg(
                r#"redis-server --port "$1" --bind 127.0.0.1 --save "" --appendonly no >/dev/null 2>&1 &
                pid=$!
                read _ignored
                kill "$pid" 2>/dev/null
                wait "$pid""#,
            )
            .arg("sh")
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .spawn()
            .ok()?;
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not listen on 127.0.0.1:{port} within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(LocalRedis {
            url: format!("redis://127.0.0.1:{port}"),
            port,
            shell,
        })
    }

    /// Stops the server and waits until it is gone.
    fn stop(&mut self) {
        drop(self.shell.stdin.take());
        let _ = self.shell.wait();
    }
}

impl Drop for LocalRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A loopback port nothing listens on (at the time of asking).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().unwrap().port()
}

fn counts(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
    pairs.iter().map(|(n, by)| (n.to_string(), *by)).collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The behaviour suite: each function takes a fresh target.
mod behaviour {
    use super::*;

    pub async fn counters_add_up(target: Target) {
        let store = target.open().await;
        assert_eq!(store.counters("c").await.unwrap(), BTreeMap::new());
        store
            .add("c", &counts(&[("a", 1), ("b", 2)]))
            .await
            .unwrap();
        store
            .add("c", &counts(&[("a", 5), ("c", -1), ("a", 10)]))
            .await
            .unwrap();
        store.add("c", &[]).await.unwrap();
        store.add("other", &counts(&[("a", 100)])).await.unwrap();
        let expected: BTreeMap<String, i64> = [
            ("a".to_owned(), 16),
            ("b".to_owned(), 2),
            ("c".to_owned(), -1),
        ]
        .into();
        assert_eq!(store.counters("c").await.unwrap(), expected);
        assert_eq!(
            store.counters("other").await.unwrap(),
            [("a".to_owned(), 100)].into()
        );
        // A key that is a prefix of another does not see its counters.
        assert_eq!(store.counters("ot").await.unwrap(), BTreeMap::new());
        // Adding nothing makes no key.
        store.add("empty", &[]).await.unwrap();
        assert_eq!(store.keys("").await.unwrap(), strings(&["c", "other"]));
        target.cleanup(&*store).await;
    }

    pub async fn counters_from_two_handles(target: Target) {
        const TASKS: i64 = 4;
        const ROUNDS: i64 = 25;
        let first = target.open().await;
        let second = target.open().await;
        let mut tasks = Vec::new();
        for handle in [&first, &second] {
            for _ in 0..TASKS {
                let store = Arc::clone(handle);
                tasks.push(tokio::spawn(async move {
                    for _ in 0..ROUNDS {
                        store
                            .add("shared", &counts(&[("hits", 1), ("bytes", 10)]))
                            .await
                            .unwrap();
                    }
                }));
            }
        }
        for task in tasks {
            task.await.unwrap();
        }
        let total = 2 * TASKS * ROUNDS;
        let expected: BTreeMap<String, i64> =
            [("bytes".to_owned(), 10 * total), ("hits".to_owned(), total)].into();
        assert_eq!(first.counters("shared").await.unwrap(), expected);
        assert_eq!(second.counters("shared").await.unwrap(), expected);
        target.cleanup(&*first).await;
    }

    pub async fn capped_list_keeps_newest(target: Target) {
        let store = target.open().await;
        let item = |i: u32| format!("item {i}").into_bytes();
        assert!(store.list("l").await.unwrap().is_empty());
        store
            .push_capped("l", &[item(1), item(2), item(3)], 5)
            .await
            .unwrap();
        assert_eq!(
            store.list("l").await.unwrap(),
            vec![item(1), item(2), item(3)]
        );
        store
            .push_capped("l", &[item(4), item(5), item(6), item(7)], 5)
            .await
            .unwrap();
        assert_eq!(
            store.list("l").await.unwrap(),
            (3..=7).map(item).collect::<Vec<_>>()
        );
        // More items than `keep` in one push: only the newest stay.
        store
            .push_capped("l", &(8..=20).map(item).collect::<Vec<_>>(), 3)
            .await
            .unwrap();
        assert_eq!(
            store.list("l").await.unwrap(),
            vec![item(18), item(19), item(20)]
        );
        // Pushing nothing still trims.
        store.push_capped("l", &[], 2).await.unwrap();
        assert_eq!(store.list("l").await.unwrap(), vec![item(19), item(20)]);
        // One at a time, many times.
        for i in 21..=60 {
            store.push_capped("l", &[item(i)], 4).await.unwrap();
        }
        assert_eq!(
            store.list("l").await.unwrap(),
            (57..=60).map(item).collect::<Vec<_>>()
        );
        // A huge cap keeps everything; empty and binary items survive.
        store
            .push_capped("m", &[vec![], vec![0, 255, 10, 13]], usize::MAX)
            .await
            .unwrap();
        assert_eq!(
            store.list("m").await.unwrap(),
            vec![vec![], vec![0, 255, 10, 13]]
        );
        // keep 0 empties the list.
        store.push_capped("l", &[item(61)], 0).await.unwrap();
        assert!(store.list("l").await.unwrap().is_empty());
        assert_eq!(store.keys("").await.unwrap(), strings(&["m"]));
        target.cleanup(&*store).await;
    }

    pub async fn sets(target: Target) {
        let store = target.open().await;
        assert!(store.set_members("s").await.unwrap().is_empty());
        store.set_add("s", &strings(&["b", "a"])).await.unwrap();
        store
            .set_add("s", &strings(&["b", "c", "c"]))
            .await
            .unwrap();
        store.set_add("s", &[]).await.unwrap();
        store.set_add("s2", &strings(&["z"])).await.unwrap();
        let expected: BTreeSet<String> = strings(&["a", "b", "c"]).into_iter().collect();
        assert_eq!(store.set_members("s").await.unwrap(), expected);
        assert_eq!(
            store.set_members("s2").await.unwrap(),
            strings(&["z"]).into_iter().collect()
        );
        target.cleanup(&*store).await;
    }

    pub async fn values(target: Target) {
        let store = target.open().await;
        assert_eq!(store.get("v").await.unwrap(), None);
        store.put("v", b"one", None).await.unwrap();
        assert_eq!(store.get("v").await.unwrap(), Some(b"one".to_vec()));
        store.put("v", b"two", None).await.unwrap();
        assert_eq!(store.get("v").await.unwrap(), Some(b"two".to_vec()));
        store.put("empty", b"", None).await.unwrap();
        assert_eq!(store.get("empty").await.unwrap(), Some(Vec::new()));
        store.put("bin", &[0, 1, 255, 0], None).await.unwrap();
        assert_eq!(store.get("bin").await.unwrap(), Some(vec![0, 1, 255, 0]));
        target.cleanup(&*store).await;
    }

    pub async fn ttl_expiry(target: Target) {
        let store = target.open().await;
        // Generous times, so that a loaded machine does not make it flaky.
        let ttl = Some(Duration::from_millis(1500));
        store.put("made-permanent", b"y", ttl).await.unwrap();
        store.put("made-permanent", b"z", None).await.unwrap();
        store
            .put("long", b"w", Some(Duration::from_secs(3600)))
            .await
            .unwrap();
        store.put("never", b"v", None).await.unwrap();
        store.put("zero", b"u", Some(Duration::ZERO)).await.unwrap();
        store
            .put("tiny", b"t", Some(Duration::from_micros(1)))
            .await
            .unwrap();
        let put_at = Instant::now();
        store.put("short", b"x", ttl).await.unwrap();
        assert_eq!(store.get("short").await.unwrap(), Some(b"x".to_vec()));
        assert_eq!(store.get("zero").await.unwrap(), None);
        // A 1 µs time to live rounds up to 1 ms: "tiny" may be gone already.
        let mut keys = store.keys("").await.unwrap();
        keys.retain(|k| k != "tiny");
        assert_eq!(keys, strings(&["long", "made-permanent", "never", "short"]));
        tokio::time::sleep(
            (put_at + Duration::from_millis(2000)).saturating_duration_since(Instant::now()),
        )
        .await;
        assert_eq!(store.get("short").await.unwrap(), None);
        assert_eq!(store.get("tiny").await.unwrap(), None);
        assert_eq!(store.get("long").await.unwrap(), Some(b"w".to_vec()));
        assert_eq!(
            store.get("made-permanent").await.unwrap(),
            Some(b"z".to_vec())
        );
        assert_eq!(store.get("never").await.unwrap(), Some(b"v".to_vec()));
        assert_eq!(
            store.keys("").await.unwrap(),
            strings(&["long", "made-permanent", "never"])
        );
        // An expired key can be set again.
        store.put("short", b"again", None).await.unwrap();
        assert_eq!(store.get("short").await.unwrap(), Some(b"again".to_vec()));
        target.cleanup(&*store).await;
    }

    pub async fn delete_every_kind(target: Target) {
        let store = target.open().await;
        store.add("c", &counts(&[("a", 1)])).await.unwrap();
        store.push_capped("l", &[b"x".to_vec()], 10).await.unwrap();
        store.set_add("s", &strings(&["m"])).await.unwrap();
        store.put("v", b"x", None).await.unwrap();
        store.put("keep", b"x", None).await.unwrap();
        // A key that has the deleted one as a prefix stays.
        store.add("cc", &counts(&[("a", 1)])).await.unwrap();
        for key in ["c", "l", "s", "v", "missing"] {
            store.delete(key).await.unwrap();
        }
        assert!(store.counters("c").await.unwrap().is_empty());
        assert!(store.list("l").await.unwrap().is_empty());
        assert!(store.set_members("s").await.unwrap().is_empty());
        assert_eq!(store.get("v").await.unwrap(), None);
        assert_eq!(store.keys("").await.unwrap(), strings(&["cc", "keep"]));
        // A deleted list starts over.
        store.push_capped("l", &[b"y".to_vec()], 10).await.unwrap();
        assert_eq!(store.list("l").await.unwrap(), vec![b"y".to_vec()]);
        target.cleanup(&*store).await;
    }

    pub async fn keys_by_prefix(target: Target) {
        let store = target.open().await;
        store
            .add("migration:a:counts", &counts(&[("x", 1)]))
            .await
            .unwrap();
        store
            .add("migration:b:counts", &counts(&[("x", 1)]))
            .await
            .unwrap();
        store
            .push_capped("migration:a:samples", &[b"s".to_vec()], 10)
            .await
            .unwrap();
        store
            .set_add("migration:a:fields", &strings(&["f"]))
            .await
            .unwrap();
        store.put("migration:a", b"v", None).await.unwrap();
        store.put("migrations", b"v", None).await.unwrap();
        store.put("apq:1", b"v", None).await.unwrap();
        assert_eq!(
            store.keys("migration:a:").await.unwrap(),
            strings(&[
                "migration:a:counts",
                "migration:a:fields",
                "migration:a:samples"
            ])
        );
        assert_eq!(
            store.keys("migration:").await.unwrap(),
            strings(&[
                "migration:a",
                "migration:a:counts",
                "migration:a:fields",
                "migration:a:samples",
                "migration:b:counts",
            ])
        );
        assert_eq!(
            store.keys("migration").await.unwrap(),
            strings(&[
                "migration:a",
                "migration:a:counts",
                "migration:a:fields",
                "migration:a:samples",
                "migration:b:counts",
                "migrations",
            ])
        );
        assert_eq!(store.keys("apq:").await.unwrap(), strings(&["apq:1"]));
        assert_eq!(store.keys("nothing").await.unwrap(), Vec::<String>::new());
        assert_eq!(store.keys("").await.unwrap().len(), 7);
        target.cleanup(&*store).await;
    }

    pub async fn large_values(target: Target) {
        let store = target.open().await;
        let big: Vec<u8> = (0..8 * 1024 * 1024u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        store.put("big", &big, None).await.unwrap();
        assert_eq!(store.get("big").await.unwrap().as_deref(), Some(&big[..]));
        let item = |n: u8| vec![n; 1024 * 1024];
        store
            .push_capped("big-list", &[item(1), item(2), item(3)], 2)
            .await
            .unwrap();
        assert_eq!(
            store.list("big-list").await.unwrap(),
            vec![item(2), item(3)]
        );
        let many: Vec<String> = (0..5000).map(|i| format!("member-{i:05}")).collect();
        store.set_add("big-set", &many).await.unwrap();
        assert_eq!(
            store.set_members("big-set").await.unwrap(),
            many.iter().cloned().collect()
        );
        let names: Vec<(String, i64)> = (0..2000).map(|i| (format!("n{i}"), i)).collect();
        store.add("big-counters", &names).await.unwrap();
        assert_eq!(store.counters("big-counters").await.unwrap().len(), 2000);
        target.cleanup(&*store).await;
    }

    pub async fn odd_keys(target: Target) {
        let store = target.open().await;
        let keys = [
            "",
            "a",
            "a:b",
            "a*",
            "a*b",
            "a?",
            "a[1]",
            "a]",
            "a\\x",
            "a^-",
            "with space",
            " leading",
            "ünïcødé",
            "日本語",
            "emoji 🦀",
            "new\nline",
        ];
        for (i, key) in keys.iter().enumerate() {
            store
                .put(key, format!("{i}").as_bytes(), None)
                .await
                .unwrap();
            store
                .set_add(&format!("set {key}"), &strings(&[key]))
                .await
                .unwrap();
        }
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(
                store.get(key).await.unwrap(),
                Some(format!("{i}").into_bytes()),
                "{key:?}"
            );
            assert_eq!(
                store.set_members(&format!("set {key}")).await.unwrap(),
                strings(&[key]).into_iter().collect(),
                "{key:?}"
            );
        }
        let all: BTreeSet<String> = keys
            .iter()
            .map(|k| k.to_string())
            .chain(keys.iter().map(|k| format!("set {k}")))
            .collect();
        assert_eq!(
            store.keys("").await.unwrap(),
            all.into_iter().collect::<Vec<_>>()
        );
        // Glob characters in the prefix match only themselves.
        assert_eq!(store.keys("a*").await.unwrap(), strings(&["a*", "a*b"]));
        assert_eq!(store.keys("a?").await.unwrap(), strings(&["a?"]));
        assert_eq!(store.keys("a[").await.unwrap(), strings(&["a[1]"]));
        assert_eq!(store.keys("a]").await.unwrap(), strings(&["a]"]));
        assert_eq!(store.keys("a\\").await.unwrap(), strings(&["a\\x"]));
        assert_eq!(store.keys("a^").await.unwrap(), strings(&["a^-"]));
        assert_eq!(store.keys("日本").await.unwrap(), strings(&["日本語"]));
        assert_eq!(
            store.keys("a").await.unwrap(),
            strings(&["a", "a*", "a*b", "a:b", "a?", "a[1]", "a\\x", "a]", "a^-"])
        );
        for key in keys {
            store.delete(key).await.unwrap();
            assert_eq!(store.get(key).await.unwrap(), None, "{key:?}");
        }
        target.cleanup(&*store).await;
    }
}

/// Runs each behaviour test against a backend: `$target` is an expression
/// giving `Option<Target>` for the test's name (`None`: skipped).
macro_rules! suite {
    ($backend:ident, $target:expr) => {
        mod $backend {
            use super::*;

            async fn target(test: &str) -> Option<Target> {
                #[allow(clippy::redundant_closure_call)]
                ($target)(test)
            }

            #[tokio::test]
            async fn counters_add_up() {
                if let Some(t) = target("counters_add_up").await {
                    behaviour::counters_add_up(t).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn counters_from_two_handles() {
                if let Some(t) = target("counters_from_two_handles").await {
                    behaviour::counters_from_two_handles(t).await;
                }
            }

            #[tokio::test]
            async fn capped_list_keeps_newest() {
                if let Some(t) = target("capped_list_keeps_newest").await {
                    behaviour::capped_list_keeps_newest(t).await;
                }
            }

            #[tokio::test]
            async fn sets() {
                if let Some(t) = target("sets").await {
                    behaviour::sets(t).await;
                }
            }

            #[tokio::test]
            async fn values() {
                if let Some(t) = target("values").await {
                    behaviour::values(t).await;
                }
            }

            #[tokio::test]
            async fn ttl_expiry() {
                if let Some(t) = target("ttl_expiry").await {
                    behaviour::ttl_expiry(t).await;
                }
            }

            #[tokio::test]
            async fn delete_every_kind() {
                if let Some(t) = target("delete_every_kind").await {
                    behaviour::delete_every_kind(t).await;
                }
            }

            #[tokio::test]
            async fn keys_by_prefix() {
                if let Some(t) = target("keys_by_prefix").await {
                    behaviour::keys_by_prefix(t).await;
                }
            }

            #[tokio::test]
            async fn large_values() {
                if let Some(t) = target("large_values").await {
                    behaviour::large_values(t).await;
                }
            }

            #[tokio::test]
            async fn odd_keys() {
                if let Some(t) = target("odd_keys").await {
                    behaviour::odd_keys(t).await;
                }
            }
        }
    };
}

suite!(redb, |_test: &str| Some(Target::redb()));
suite!(redis, |test: &str| Target::redis(test));

// --- redb only

/// redb lets one key hold several kinds; `keys` lists it once and `delete`
/// removes all of them.
#[tokio::test]
async fn redb_one_key_of_several_kinds() {
    let target = Target::redb();
    let store = target.open().await;
    store.add("k", &counts(&[("a", 1)])).await.unwrap();
    store.push_capped("k", &[b"x".to_vec()], 5).await.unwrap();
    store.set_add("k", &strings(&["m"])).await.unwrap();
    store.put("k", b"v", None).await.unwrap();
    assert_eq!(store.keys("").await.unwrap(), strings(&["k"]));
    store.delete("k").await.unwrap();
    assert_eq!(store.keys("").await.unwrap(), Vec::<String>::new());
    assert!(store.counters("k").await.unwrap().is_empty());
    assert!(store.list("k").await.unwrap().is_empty());
    assert!(store.set_members("k").await.unwrap().is_empty());
    assert_eq!(store.get("k").await.unwrap(), None);
}

/// Opening the same directory again shares the open file (no deadlock, no
/// "already open"), also from other threads and runtimes, and the data is
/// there after every handle is dropped and the file reopened.
#[tokio::test]
async fn redb_reopen_shares_and_persists() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("made").join("on demand");
    let config = StoreConfig {
        dir: nested.clone(),
        ..StoreConfig::default()
    };
    let first = store::open(&config).await.unwrap();
    first.add("c", &counts(&[("n", 1)])).await.unwrap();
    assert!(nested.join("goliath.redb").is_file());

    // The same file by another spelling of its path.
    let other_spelling = StoreConfig {
        dir: nested.join("..").join("on demand"),
        ..StoreConfig::default()
    };
    let second = store::open(&other_spelling).await.unwrap();
    second.add("c", &counts(&[("n", 1)])).await.unwrap();

    // From threads with runtimes of their own, at once.
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let config = config.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    let store = store::open(&config).await.unwrap();
                    store.add("c", &counts(&[("n", 1)])).await.unwrap();
                });
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(first.counters("c").await.unwrap()["n"], 6);
    drop(first);
    drop(second);

    // Closed and reopened, over and over: the data stays.
    for round in 0..20 {
        let store = store::open(&config).await.unwrap();
        assert_eq!(store.counters("c").await.unwrap()["n"], 6 + round);
        store.add("c", &counts(&[("n", 1)])).await.unwrap();
    }
}

/// A store file that something else has open gives a clear error.
#[tokio::test]
async fn redb_file_open_elsewhere_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let _other = ::redb::Database::create(dir.path().join("goliath.redb")).unwrap();
    let started = Instant::now();
    let err = RedbStore::open(dir.path()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        err.to_string().contains("another process has it open"),
        "{err}"
    );
}

/// A directory that cannot be made is an error, not a panic.
#[tokio::test]
async fn redb_bad_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a file");
    std::fs::write(&file, b"not a directory").unwrap();
    let err = RedbStore::open(&file.join("below")).await.unwrap_err();
    assert!(
        err.to_string().contains("cannot create the directory"),
        "{err}"
    );
}

// --- Redis only

/// Nothing listening: an error within a few seconds, not a hang or a panic.
#[tokio::test]
async fn redis_nothing_listening_is_an_error() {
    let url = format!("redis://127.0.0.1:{}", free_port());
    let started = Instant::now();
    let result = store::open_redis(&url, "goliath-test:").await;
    let took = started.elapsed();
    let err = result.expect_err("nothing listens");
    eprintln!("nothing listening: {err} after {took:?}");
    assert!(took < Duration::from_secs(7), "took {took:?}");
    assert!(err.to_string().contains("127.0.0.1"), "{err}");
}

/// A server that accepts but never answers: an error within a few seconds.
#[tokio::test]
async fn redis_silent_server_is_an_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "redis://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    let started = Instant::now();
    let outcome = match store::open_redis(&url, "goliath-test:").await {
        Err(e) => Err(e),
        Ok(store) => store.get("x").await.map(|_| ()),
    };
    let took = started.elapsed();
    eprintln!("silent server: {outcome:?} after {took:?}");
    assert!(outcome.is_err(), "a silent server gave {outcome:?}");
    assert!(took < Duration::from_secs(12), "took {took:?}");
    drop(listener);
}

/// Bad URLs are errors, and a password never shows in one.
#[tokio::test]
async fn redis_bad_urls_are_errors() {
    let err = store::open_redis("not a url", "p:").await.unwrap_err();
    assert!(err.to_string().starts_with("state store: redis"), "{err}");
    let err = store::open_redis("rediss://127.0.0.1:1", "p:")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("TLS"), "{err}");
    let url = format!("redis://user:s3cret@127.0.0.1:{}", free_port());
    let err = store::open_redis(&url, "p:").await.unwrap_err();
    assert!(!err.to_string().contains("s3cret"), "{err}");
}

/// Two stores with different key prefixes on one server do not see each
/// other's keys.
#[tokio::test]
async fn redis_key_prefixes_keep_stores_apart() {
    let Some(url) = redis_url() else { return };
    let a_prefix = format!("goliath-test:a:{}:", fastrand::u64(..));
    let b_prefix = format!("{a_prefix}b:");
    let a = store::open_redis(&url, &a_prefix).await.unwrap();
    let b = store::open_redis(&url, &b_prefix).await.unwrap();
    a.put("x", b"a", None).await.unwrap();
    b.put("x", b"b", None).await.unwrap();
    assert_eq!(a.get("x").await.unwrap(), Some(b"a".to_vec()));
    assert_eq!(b.get("x").await.unwrap(), Some(b"b".to_vec()));
    // `a` sees b's key under its own prefix: that is what prefixes mean.
    assert_eq!(a.keys("").await.unwrap(), strings(&["b:x", "x"]));
    assert_eq!(b.keys("").await.unwrap(), strings(&["x"]));
    a.delete("x").await.unwrap();
    b.delete("x").await.unwrap();
}

/// A store opened on a runtime keeps working from other runtimes after that
/// one is gone (the router's workers are current-thread runtimes).
#[test]
fn redis_store_outlives_the_runtime_that_opened_it() {
    let Some(url) = redis_url() else { return };
    let prefix = format!("goliath-test:runtimes:{}:", fastrand::u64(..));
    let opener = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = opener.block_on(store::open_redis(&url, &prefix)).unwrap();
    opener
        .block_on(store.add("c", &counts(&[("n", 1)])))
        .unwrap();
    drop(opener);
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    for _ in 0..10 {
                        store.add("c", &counts(&[("n", 1)])).await.unwrap();
                    }
                });
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        assert_eq!(store.counters("c").await.unwrap()["n"], 31);
        store.delete("c").await.unwrap();
    });
}

/// A Redis server that restarts: commands fail while it is down, and work
/// again once it is back, on the same store (the connection reopens).
/// Needs `redis-server` on PATH, to stop and start a server of its own.
#[tokio::test]
async fn redis_reconnects_after_a_restart() {
    let Some(mut server) = LocalRedis::start() else {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: no redis-server on PATH: redis_reconnects_after_a_restart did not run"
        );
        return;
    };
    let store = store::open_redis(&server.url, "goliath-test:restart:")
        .await
        .unwrap();
    store.add("c", &counts(&[("n", 1)])).await.unwrap();
    let port = server.port;
    server.stop();
    let started = Instant::now();
    assert!(store.add("c", &counts(&[("n", 1)])).await.is_err());
    assert!(started.elapsed() < Duration::from_secs(12));
    let _server = LocalRedis::start_on(port).expect("restart redis-server");
    // The server came back empty (no persistence): the counter starts over.
    let started = Instant::now();
    loop {
        match store.add("c", &counts(&[("n", 1)])).await {
            Ok(()) => break,
            Err(e) => assert!(
                started.elapsed() < Duration::from_secs(15),
                "no reconnection: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(store.counters("c").await.unwrap()["n"], 1);
}

/// A store whose key holds another Redis type reports Redis's error.
#[tokio::test]
async fn redis_wrong_kind_is_an_error() {
    let Some(target) = Target::redis("wrong_kind") else {
        return;
    };
    let store = target.open().await;
    store.put("k", b"v", None).await.unwrap();
    let err = store.add("k", &counts(&[("a", 1)])).await.unwrap_err();
    assert!(err.to_string().contains("WRONGTYPE"), "{err}");
    target.cleanup(&*store).await;
}
