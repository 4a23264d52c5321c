//! The store against both backends: redb in a temporary folder, and the
//! PostgreSQL at `GOLIATH_TEST_POSTGRES_URL` (`.ci/run` starts one; without
//! the variable the PostgreSQL tests say they are skipped and pass).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use goliath_store::{Store, StoreError};
use serde_json::{json, Value};

/// A fresh folder, removed when dropped.
struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> TempDir {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "goliath-store-{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

fn postgres_url(test: &str) -> Option<String> {
    match std::env::var("GOLIATH_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            // Straight to standard error: the test harness captures only
            // print!/eprintln!, and a skip must be seen.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: GOLIATH_TEST_POSTGRES_URL is not set (.ci/run starts a PostgreSQL and sets it)"
            );
            None
        }
    }
}

/// A kind no other test (or earlier run) uses, so PostgreSQL tests can share
/// one database.
fn unique_kind(base: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{base}-{}-{nanos}", std::process::id())
}

// ---------------------------------------------------------------- shared checks

async fn check_basics(store: &Store, kind: &str) {
    assert_eq!(store.get(kind, "a").await.unwrap(), None);
    assert!(store.list(kind).await.unwrap().is_empty());

    store
        .put(kind, "b", &json!({"name": "Bea", "n": 2}))
        .await
        .unwrap();
    store
        .put(kind, "a", &json!({"name": "Ada", "n": 1}))
        .await
        .unwrap();
    store
        .put(kind, "c", &json!([1, "two", null]))
        .await
        .unwrap();
    // An upsert replaces.
    store
        .put(kind, "b", &json!({"name": "Bea", "n": 22}))
        .await
        .unwrap();
    // Another kind with the same keys stays apart.
    let other = format!("{kind}-other");
    store.put(&other, "a", &json!("elsewhere")).await.unwrap();

    assert_eq!(
        store.get(kind, "b").await.unwrap(),
        Some(json!({"name": "Bea", "n": 22}))
    );
    let listed = store.list(kind).await.unwrap();
    let keys: Vec<&str> = listed.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["a", "b", "c"], "ordered by key");
    assert_eq!(listed[2].1, json!([1, "two", null]));
    assert_eq!(
        store.list(&other).await.unwrap(),
        vec![("a".to_owned(), json!("elsewhere"))]
    );

    assert!(store.delete(kind, "a").await.unwrap());
    assert!(!store.delete(kind, "a").await.unwrap());
    assert_eq!(store.get(kind, "a").await.unwrap(), None);

    // Keys order by bytes, whatever the backend's collation.
    for key in ["Z", "a10", "a2", "é", "_"] {
        store.put(kind, key, &json!(key)).await.unwrap();
    }
    let keys: Vec<String> = store
        .list(kind)
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, ["Z", "_", "a10", "a2", "b", "c", "é"]);

    // put_many: all at once, last value wins for a repeated key.
    store
        .put_many(vec![
            (kind.to_owned(), "m1".to_owned(), json!(1)),
            (kind.to_owned(), "m2".to_owned(), json!(2)),
            (kind.to_owned(), "m1".to_owned(), json!(3)),
        ])
        .await
        .unwrap();
    assert_eq!(store.get(kind, "m1").await.unwrap(), Some(json!(3)));
    assert_eq!(store.get(kind, "m2").await.unwrap(), Some(json!(2)));

    // Typed access.
    #[derive(serde::Deserialize, serde::Serialize, Debug, PartialEq)]
    struct Person {
        name: String,
        n: u32,
    }
    store
        .put_as(
            kind,
            "p",
            &Person {
                name: "Pat".into(),
                n: 7,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store.get_as::<Person>(kind, "p").await.unwrap(),
        Some(Person {
            name: "Pat".into(),
            n: 7
        })
    );
    let err = store.get_as::<Person>(kind, "c").await.unwrap_err();
    assert!(matches!(err, StoreError::Decode { .. }), "{err}");
    assert!(err.to_string().contains(&format!("{kind}/c")), "{err}");
}

/// 16 tasks × 25 writes: each task its own keys, and all of them the same
/// shared key. Every own key is there afterwards, with its last value, and
/// the shared key holds one of the values written.
async fn check_concurrent_writers(stores: Vec<Store>, kind: &str) {
    const TASKS: usize = 16;
    const WRITES: usize = 25;
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let store = stores[task % stores.len()].clone();
        let kind = kind.to_owned();
        handles.push(tokio::spawn(async move {
            for i in 0..WRITES {
                store
                    .put(
                        &kind,
                        &format!("t{task:02}-k{i:02}"),
                        &json!({"task": task, "i": i}),
                    )
                    .await
                    .unwrap();
                store
                    .put(
                        &kind,
                        &format!("t{task:02}-last"),
                        &json!({"task": task, "i": i}),
                    )
                    .await
                    .unwrap();
                store
                    .put(&kind, "shared", &json!({"task": task, "i": i}))
                    .await
                    .unwrap();
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let store = &stores[0];
    let all = store.list(kind).await.unwrap();
    assert_eq!(all.len(), TASKS * WRITES + TASKS + 1);
    for task in 0..TASKS {
        for i in 0..WRITES {
            assert_eq!(
                store
                    .get(kind, &format!("t{task:02}-k{i:02}"))
                    .await
                    .unwrap(),
                Some(json!({"task": task, "i": i}))
            );
        }
        assert_eq!(
            store.get(kind, &format!("t{task:02}-last")).await.unwrap(),
            Some(json!({"task": task, "i": WRITES - 1})),
            "a task's own key holds its last write"
        );
    }
    let shared = store.get(kind, "shared").await.unwrap().unwrap();
    let task = shared["task"].as_u64().unwrap() as usize;
    assert!(task < TASKS);
    assert_eq!(
        shared["i"],
        json!(WRITES - 1),
        "the last write of some task: {shared}"
    );
}

// ---------------------------------------------------------------- redb

#[tokio::test]
async fn redb_basics() {
    let dir = temp_dir("basics");
    let store = Store::open_redb(dir.join("s.redb")).await.unwrap();
    check_basics(&store, "Thing").await;
}

#[tokio::test]
async fn redb_writes_survive_a_reopen() {
    let dir = temp_dir("reopen");
    let path = dir.join("s.redb");
    {
        let store = Store::open_redb(&path).await.unwrap();
        store
            .put("User", "u1", &json!({"name": "Ada"}))
            .await
            .unwrap();
        store
            .put("User", "u2", &json!({"name": "Grace"}))
            .await
            .unwrap();
        store.delete("User", "u2").await.unwrap();
    }
    let store = Store::open_redb(&path).await.unwrap();
    assert_eq!(
        store.list("User").await.unwrap(),
        vec![("u1".to_owned(), json!({"name": "Ada"}))]
    );
}

/// A write is durable once `put` returns, even if the process dies without
/// closing the database: a child process writes and is killed.
#[test]
fn redb_writes_survive_a_killed_process() {
    if let Ok(path) = std::env::var("GOLIATH_STORE_TEST_WRITER") {
        // The child: write, say so, then wait to be killed.
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let store = Store::open_redb(&path).await.unwrap();
            for i in 0..20 {
                store
                    .put("Event", &format!("e{i:02}"), &json!(i))
                    .await
                    .unwrap();
            }
            println!("WRITTEN");
            use std::io::Write;
            std::io::stdout().flush().unwrap();
            std::thread::sleep(std::time::Duration::from_secs(60));
        });
        return;
    }
    let dir = temp_dir("killed");
    let path = dir.join("s.redb");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "redb_writes_survive_a_killed_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("GOLIATH_STORE_TEST_WRITER", &path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        let n = std::io::BufRead::read_line(&mut out, &mut line).unwrap();
        assert!(n > 0, "the writer ended before writing");
        if line.contains("WRITTEN") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open_redb(&path).await.unwrap();
        let events = store.list("Event").await.unwrap();
        assert_eq!(events.len(), 20);
        assert_eq!(events[19], ("e19".to_owned(), json!(19)));
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redb_concurrent_writers() {
    let dir = temp_dir("concurrent");
    let store = Store::open_redb(dir.join("s.redb")).await.unwrap();
    check_concurrent_writers(vec![store], "Counter").await;
}

#[tokio::test]
async fn redb_missing_folder_is_a_clear_error() {
    let dir = temp_dir("missing");
    let path = dir.join("no/such/folder/s.redb");
    let err = Store::open_redb(&path).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("cannot open store at {}", path.display())),
        "{text}"
    );
    assert!(text.contains("does not exist"), "{text}");
}

#[tokio::test]
async fn redb_corrupt_file_is_a_clear_error() {
    let dir = temp_dir("corrupt");
    // Not a redb file at all.
    let path = dir.join("notes.redb");
    std::fs::write(&path, "this is a text file, not a database\n".repeat(200)).unwrap();
    let err = Store::open_redb(&path).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("cannot open store at {}", path.display())),
        "{text}"
    );
    assert!(text.contains("corrupt"), "{text}");
    // The file is left as it was.
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .starts_with("this is a text file"));

    // A real store whose pages were overwritten: opening or reading fails
    // with an error, never a panic.
    let path = dir.join("damaged.redb");
    {
        let store = Store::open_redb(&path).await.unwrap();
        for i in 0..200 {
            store
                .put(
                    "K",
                    &format!("k{i}"),
                    &json!({"i": i, "pad": "x".repeat(100)}),
                )
                .await
                .unwrap();
        }
    }
    let mut bytes = std::fs::read(&path).unwrap();
    let len = bytes.len();
    for b in &mut bytes[..len.min(4096)] {
        *b ^= 0x5a;
    }
    std::fs::write(&path, &bytes).unwrap();
    match Store::open_redb(&path).await {
        Err(e) => assert!(e.to_string().starts_with("cannot open store at"), "{e}"),
        Ok(store) => {
            let _ = store.list("K").await; // an error or data, no panic
        }
    }

    // A folder where the file should be.
    let err = Store::open_redb(&*dir).await.unwrap_err();
    assert!(err.to_string().contains("folder"), "{err}");
}

#[tokio::test]
async fn redb_second_opener_gets_a_clear_error_or_shares() {
    let dir = temp_dir("twice");
    let path = dir.join("s.redb");
    let first = Store::open_redb(&path).await.unwrap();
    first.put("K", "a", &json!(1)).await.unwrap();
    // In one process redb refuses a second handle on an open file.
    match Store::open_redb(&path).await {
        Err(e) => assert!(e.to_string().starts_with("cannot open store at"), "{e}"),
        Ok(second) => assert_eq!(second.get("K", "a").await.unwrap(), Some(json!(1))),
    }
}

// ---------------------------------------------------------------- PostgreSQL

#[tokio::test]
async fn postgres_basics() {
    let Some(url) = postgres_url("postgres_basics") else {
        return;
    };
    let store = Store::connect_postgres(&url).await.unwrap();
    check_basics(&store, &unique_kind("Thing")).await;
}

#[tokio::test]
async fn postgres_writes_survive_a_new_connection() {
    let Some(url) = postgres_url("postgres_writes_survive_a_new_connection") else {
        return;
    };
    let kind = unique_kind("User");
    {
        let store = Store::connect_postgres(&url).await.unwrap();
        store
            .put(&kind, "u1", &json!({"name": "Ada"}))
            .await
            .unwrap();
        store
            .put(&kind, "u2", &json!({"name": "Grace"}))
            .await
            .unwrap();
        store.delete(&kind, "u2").await.unwrap();
    }
    let store = Store::connect_postgres(&url).await.unwrap();
    assert_eq!(
        store.list(&kind).await.unwrap(),
        vec![("u1".to_owned(), json!({"name": "Ada"}))]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_writers() {
    let Some(url) = postgres_url("postgres_concurrent_writers") else {
        return;
    };
    // Four connections, as four instances of a service sharing the database,
    // opened at once (the table creation must not collide).
    let mut opening = Vec::new();
    for _ in 0..4 {
        let url = url.clone();
        opening.push(tokio::spawn(async move {
            Store::connect_postgres(&url).await.unwrap()
        }));
    }
    let mut stores = Vec::new();
    for o in opening {
        stores.push(o.await.unwrap());
    }
    check_concurrent_writers(stores, &unique_kind("Counter")).await;
}

#[tokio::test]
async fn postgres_unreachable_is_a_clear_error() {
    // A port nothing listens on: the error names the address, hides the password.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let err = Store::connect_postgres(&format!("postgres://me:secret@127.0.0.1:{port}/db"))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "cannot connect to the store at postgres://me:***@127.0.0.1:{port}/db"
        )),
        "{text}"
    );
    assert!(!text.contains("secret"), "{text}");
}

#[tokio::test]
async fn json_values_round_trip_alike_on_both_backends() {
    let value: Value = json!({"z": 1, "a": [true, null, 1.5, "é"], "nested": {"k": "v"}});
    let dir = temp_dir("roundtrip");
    let redb = Store::open_redb(dir.join("s.redb")).await.unwrap();
    redb.put("V", "v", &value).await.unwrap();
    assert_eq!(redb.get("V", "v").await.unwrap(), Some(value.clone()));
    if let Some(url) = postgres_url("json_values_round_trip_alike_on_both_backends (postgres half)")
    {
        let pg = Store::connect_postgres(&url).await.unwrap();
        let kind = unique_kind("V");
        pg.put(&kind, "v", &value).await.unwrap();
        assert_eq!(pg.get(&kind, "v").await.unwrap(), Some(value));
    }
}
