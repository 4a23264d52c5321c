//! Field migrations through the router, with real subgraphs on loopback
//! (`migrations/world.rs`): each state routes as specified, side-by-side
//! finds planted differences at the right paths without touching the
//! client's answer (even when the new side fails or hangs), noise stays out
//! of the mismatches, mutations run once, states change at run time, the
//! bounded queue drops and counts, the automatic steps advance and roll
//! back, and both stores work (redb; Redis with two routers adding up).

#[allow(dead_code)]
mod support;

#[path = "migrations/world.rs"]
mod world;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use goliath_router::http::{serve, ServerState};
use goliath_router::migrations::report::{FieldReport, Report};
use goliath_router::migrations::{AutoConfig, FieldConfig, Migrations};
use goliath_router::store::{self, Store, StoreConfig};
use goliath_router::{Config, Pipeline};
use goliath_supergraph::MigrationState;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use world::World;

/// A router in front of the world, with its migrations.
struct Router {
    addr: SocketAddr,
    migrations: Arc<Migrations>,
    state: Arc<ServerState>,
    sdl: String,
    _dir: Option<tempfile::TempDir>,
}

/// A config migrating `User.score` and `User.seen` (and `Mutation.bump`)
/// from `old` to `new`, in `state`.
fn config(state: MigrationState, percent: Option<f64>) -> Config {
    let mut config = Config::default();
    config.migrations.flush_interval_ms = 50;
    config.migrations.noise_sample = 0.0;
    for field in ["User.score", "User.seen", "Mutation.bump"] {
        config.migrations.fields.insert(
            field.to_owned(),
            FieldConfig {
                state: Some(state),
                percent,
                from: Some("old".into()),
                to: Some("new".into()),
                ready_after: Some(5),
                ..FieldConfig::default()
            },
        );
    }
    config
}

async fn start(world: &World, config: Config) -> Router {
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(&StoreConfig {
        dir: dir.path().to_owned(),
        ..StoreConfig::default()
    })
    .await
    .unwrap();
    let mut router = start_with_store(world, config, store).await;
    router._dir = Some(dir);
    router
}

async fn start_with_store(world: &World, config: Config, store: Arc<dyn Store>) -> Router {
    let sdl = world.start().await;
    let migrations = Migrations::new(&config.migrations, &config.store).with_store(store);
    let pipeline = Pipeline::with_migrations(&sdl, &config, migrations.clone()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = Arc::new(ServerState::new(&config));
    state.set_handler(Some(Arc::new(pipeline)));
    tokio::spawn(serve(listener, state.clone(), std::future::pending()));
    Router {
        addr,
        migrations,
        state,
        sdl,
        _dir: None,
    }
}

impl Router {
    /// POSTs `query`, with extra headers; returns the response body.
    async fn post(&self, query: &str, headers: &[(&str, &str)]) -> Value {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let mut request = http::Request::post(format!("http://{}/graphql", self.addr))
            .header("content-type", "application/json");
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let body = serde_json::to_vec(&json!({ "query": query })).unwrap();
        let response = client
            .request(request.body(Full::new(Bytes::from(body))).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    /// The report's entry for `field`.
    async fn field(&self, field: &str) -> FieldReport {
        report_field(&self.migrations.report().await.unwrap(), field)
    }

    /// Waits until `field` has `n` comparisons (plus drops); panics after
    /// 20 s.
    async fn settle(&self, field: &str, n: u64) -> FieldReport {
        for _ in 0..400 {
            let f = self.field(field).await;
            if f.compared + f.dropped >= n {
                return f;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "{field} never reached {n} comparisons: {:#?}",
            self.field(field).await
        );
    }
}

fn report_field(report: &Report, field: &str) -> FieldReport {
    report
        .fields
        .iter()
        .find(|f| f.field == field)
        .cloned()
        .unwrap_or_else(|| panic!("{field} not in the report: {report:#?}"))
}

const USERS: &str = "query Scores { users { id name score } }";

fn old_scores() -> Value {
    json!({"data": {"users": [
        {"id": "1", "name": "user 1", "score": 10},
        {"id": "2", "name": "user 2", "score": 20},
        {"id": "3", "name": "user 3", "score": 30},
    ]}})
}

#[tokio::test]
async fn side_by_side_serves_the_old_side_and_records_each_difference() {
    let world = World::default();
    world.mode.lock().unwrap().bug = true;
    let router = start(&world, config(MigrationState::SideBySide, None)).await;
    for _ in 0..4 {
        assert_eq!(router.post(USERS, &[]).await, old_scores());
    }
    let f = router.settle("User.score", 12).await;
    assert_eq!(
        (f.compared, f.matched, f.mismatched, f.noise),
        (12, 8, 4, 0),
        "{f:#?}"
    );
    assert_eq!((f.errors_old, f.errors_new, f.dropped), (0, 0, 0));
    assert_eq!(
        (f.state.as_str(), f.from.as_str(), f.to.as_str()),
        ("side-by-side", "old", "new")
    );
    assert!(!f.ready, "a field with mismatches is not ready");
    let sample = f.samples.last().unwrap();
    assert_eq!(sample.path, vec![json!("users"), json!(1), json!("score")]);
    assert_eq!(
        (sample.old.clone(), sample.new.clone()),
        (json!(20), json!(21))
    );
    assert_eq!(sample.operation.as_deref(), Some("Scores"));
    assert_eq!(sample.kind, "value");
    assert!(
        f.latency_ms.old.p50 > 0.0 && f.latency_ms.new.p50 > 0.0,
        "{f:#?}"
    );
    // The old side answered every client request, once: the new side was
    // asked for the same users by their keys, in `_entities` requests
    // (comparisons close together share one).
    assert!((1..=4).contains(&world.calls("new", "_entities")));
    assert_eq!(world.calls("old", "users"), 4, "no parent is fetched twice");
    assert_eq!(f.served_old, 4);
    assert_eq!(f.served_new, 0);
}

#[tokio::test]
async fn a_selection_the_direct_comparison_cannot_take_uses_the_shadow_operation() {
    let world = World::default();
    world.mode.lock().unwrap().bug = true;
    let router = start(&world, config(MigrationState::SideBySide, None)).await;
    // A directive under the field: compared with the shadow operation,
    // which asks the old side for the users again.
    let query = "query Scores { users { id name score @include(if: true) } }";
    assert_eq!(router.post(query, &[]).await, old_scores());
    let f = router.settle("User.score", 3).await;
    assert_eq!((f.matched, f.mismatched), (2, 1), "{f:#?}");
    assert_eq!(
        f.samples[0].path,
        vec![json!("users"), json!(1), json!("score")]
    );
    assert_eq!(world.calls("old", "users"), 2);
}

/// `config` with the client's `authorization` propagated to every
/// subgraph.
fn propagating_authorization(mut config: Config) -> Config {
    config.headers = goliath_router::config::yaml::from_str(
        "all:\n  request:\n    - propagate: {named: authorization}\n",
    )
    .unwrap();
    config
}

#[tokio::test]
async fn comparisons_carry_the_clients_headers_to_the_new_side() {
    let world = World::default();
    let config = propagating_authorization(config(MigrationState::SideBySide, None));
    let router = start(&world, config).await;
    // The direct comparison: one `_entities` request to the new side.
    let auth = [("authorization", "Bearer ada")];
    assert_eq!(router.post(USERS, &auth).await, old_scores());
    router.settle("User.score", 3).await;
    assert_eq!(
        world.new_headers.values("authorization"),
        [Some("Bearer ada".into())]
    );
    // The shadow operation (a directive under the field), run as if the
    // client had sent the same headers.
    let query = "query Scores { users { id name score @include(if: true) } }";
    let auth = [("authorization", "Bearer grace")];
    assert_eq!(router.post(query, &auth).await, old_scores());
    router.settle("User.score", 6).await;
    let seen = world.new_headers.values("authorization");
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[1].as_deref(), Some("Bearer grace"));
}

#[tokio::test]
async fn comparisons_with_different_headers_are_not_batched_together() {
    let world = World::default();
    let mut config = propagating_authorization(config(MigrationState::SideBySide, None));
    config.migrations.batch_window_ms = 300;
    let router = start(&world, config).await;
    let (a, b) = (
        [("authorization", "Bearer ada")],
        [("authorization", "Bearer grace")],
    );
    let (ra, rb, ra2) = tokio::join!(
        router.post(USERS, &a),
        router.post(USERS, &b),
        router.post(USERS, &a)
    );
    assert_eq!((ra.clone(), rb), (old_scores(), old_scores()));
    assert_eq!(ra2, ra);
    router.settle("User.score", 9).await;
    let mut seen: Vec<Option<String>> = world.new_headers.values("authorization");
    seen.sort();
    // Ada's two requests share a batch; Grace's has its own.
    assert_eq!(
        seen,
        [Some("Bearer ada".into()), Some("Bearer grace".into())]
    );
}

#[tokio::test]
async fn comparisons_close_together_share_one_entities_request() {
    let world = World::default();
    let mut config = config(MigrationState::SideBySide, None);
    config.migrations.batch_window_ms = 300;
    let router = start(&world, config).await;
    let requests: Vec<_> = (0..4).map(|_| router.post(USERS, &[])).collect();
    for body in futures_join_all(requests).await {
        assert_eq!(body, old_scores());
    }
    let f = router.settle("User.score", 12).await;
    assert_eq!((f.compared, f.matched), (12, 12));
    assert_eq!(world.calls("new", "_entities"), 1, "one batch for the four");
}

/// Runs the futures concurrently, in order.
async fn futures_join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut handles = vec![];
    for f in futures {
        handles.push(Box::pin(f));
    }
    let mut out = vec![];
    // Poll them together: the first request's batch window is still open
    // when the others arrive.
    let joined = async {
        let mut results: Vec<Option<F::Output>> = (0..handles.len()).map(|_| None).collect();
        std::future::poll_fn(|cx| {
            let mut pending = false;
            for (i, h) in handles.iter_mut().enumerate() {
                if results[i].is_none() {
                    match h.as_mut().poll(cx) {
                        std::task::Poll::Ready(v) => results[i] = Some(v),
                        std::task::Poll::Pending => pending = true,
                    }
                }
            }
            if pending {
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(())
            }
        })
        .await;
        results
    };
    for r in joined.await {
        out.extend(r);
    }
    out
}

#[tokio::test]
async fn a_clean_field_becomes_ready() {
    let world = World::default();
    let router = start(&world, config(MigrationState::SideBySide, None)).await;
    for _ in 0..2 {
        router.post(USERS, &[]).await;
    }
    let f = router.settle("User.score", 6).await;
    assert_eq!((f.matched, f.mismatched), (6, 0));
    assert!(
        f.ready,
        "6 comparisons ≥ ready_after 5 and no mismatch: {f:#?}"
    );
}

#[tokio::test]
async fn new_side_errors_are_mismatches_of_kind_error_and_the_client_never_sees_them() {
    let world = World::default();
    world.mode.lock().unwrap().fail = true;
    let router = start(&world, config(MigrationState::SideBySide, None)).await;
    assert_eq!(router.post(USERS, &[]).await, old_scores());
    let f = router.settle("User.score", 3).await;
    assert_eq!(
        (f.compared, f.mismatched, f.errors_new, f.errors_old),
        (3, 3, 3, 0),
        "{f:#?}"
    );
    assert!(f.samples.iter().all(|s| s.kind == "error"));
}

#[tokio::test]
async fn a_hanging_new_side_does_not_hold_the_client() {
    let world = World::default();
    let gate = Arc::new(Semaphore::new(0));
    world.mode.lock().unwrap().hang = Some(gate.clone());
    let mut config = config(MigrationState::SideBySide, None);
    config.migrations.shadow_timeout_ms = 60_000;
    let router = start(&world, config).await;
    assert_eq!(router.post(USERS, &[]).await, old_scores());
    // The client has its answer while the new side is still working.
    for _ in 0..200 {
        if world.new_in_flight.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(world.new_in_flight.load(Ordering::SeqCst) > 0);
    assert_eq!(router.field("User.score").await.compared, 0);
    gate.add_permits(10);
    let f = router.settle("User.score", 3).await;
    assert_eq!(f.matched, 3);
}

#[tokio::test]
async fn a_timeout_on_the_new_side_is_an_error() {
    let world = World::default();
    world.mode.lock().unwrap().hang = Some(Arc::new(Semaphore::new(0)));
    let mut config = config(MigrationState::SideBySide, None);
    config.migrations.shadow_timeout_ms = 200;
    let router = start(&world, config).await;
    assert_eq!(router.post(USERS, &[]).await, old_scores());
    let f = router.settle("User.score", 1).await;
    assert_eq!((f.errors_new, f.mismatched), (1, 1), "{f:#?}");
    assert!(f.samples[0].new.as_str().unwrap().contains("timed out"));
}

#[tokio::test]
async fn nondeterministic_paths_are_noise_not_mismatches() {
    let world = World::default();
    let mut config = config(MigrationState::SideBySide, None);
    config.migrations.noise_sample = 100.0;
    let router = start(&world, config).await;
    for _ in 0..3 {
        router.post("{ users { id seen } }", &[]).await;
    }
    let f = router.settle("User.seen", 9).await;
    assert_eq!((f.noise, f.mismatched, f.matched), (9, 0, 0), "{f:#?}");
    assert_eq!(f.noisy_paths, vec![String::new()]);
    // Learned noise holds for comparisons that do not ask twice.
    router
        .migrations
        .install(
            Arc::new(goliath_supergraph::Supergraph::parse(&router.sdl).unwrap()),
            &{
                let mut c = crate::config(MigrationState::SideBySide, None);
                c.migrations.noise_sample = 0.0;
                c.migrations
            },
        )
        .unwrap();
    router.post("{ users { id seen } }", &[]).await;
    let f = router.settle("User.seen", 12).await;
    assert_eq!((f.noise, f.mismatched), (12, 0), "{f:#?}");
}

#[tokio::test]
async fn manual_serves_the_old_side_unless_the_request_opts_in() {
    let world = World::default();
    world.mode.lock().unwrap().bug = true;
    let router = start(&world, config(MigrationState::Manual, None)).await;
    assert_eq!(router.post(USERS, &[]).await, old_scores());
    assert_eq!(world.calls("new", "score"), 0);
    let opted = router
        .post(USERS, &[("x-goliath-migrate", "User.score")])
        .await;
    assert_eq!(
        opted["data"]["users"][1]["score"],
        json!(21),
        "served by the new side"
    );
    let all = router.post(USERS, &[("x-goliath-migrate", "all")]).await;
    assert_eq!(all["data"]["users"][1]["score"], json!(21));
    let other = router
        .post(USERS, &[("x-goliath-migrate", "User.seen")])
        .await;
    assert_eq!(other, old_scores());
    let f = router.field("User.score").await;
    assert_eq!((f.served_new, f.served_old, f.compared), (2, 2, 0));
}

#[tokio::test]
async fn canary_serves_its_share_from_the_new_side_and_compares_the_rest() {
    let world = World::default();
    world.mode.lock().unwrap().bug = true;
    let router = start(&world, config(MigrationState::Canary, Some(50.0))).await;
    let mut new = 0;
    for _ in 0..40 {
        let body = router.post(USERS, &[]).await;
        if body["data"]["users"][1]["score"] == json!(21) {
            new += 1;
        }
    }
    assert!(
        (5..=35).contains(&new),
        "about half of 40 from the new side: {new}"
    );
    let f = router.settle("User.score", 3 * (40 - new)).await;
    assert_eq!(f.served_new, new);
    assert_eq!(f.served_old, 40 - new);
    assert_eq!(
        f.compared,
        3 * (40 - new),
        "only requests the old side served are compared"
    );
    assert_eq!(f.percent, Some(50.0));
}

#[tokio::test]
async fn migrated_never_asks_the_old_side_for_the_field() {
    let world = World::default();
    let router = start(&world, config(MigrationState::Migrated, None)).await;
    router.post(USERS, &[]).await;
    assert_eq!(world.calls("new", "score"), 1);
    assert!(world
        .log
        .entries()
        .iter()
        .filter(|(s, _)| s == "old")
        .all(|(_, q)| !q.contains("score")));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(router.field("User.score").await.compared, 0);
}

#[tokio::test]
async fn mutations_run_once_on_the_side_the_state_routes_them_to() {
    let world = World::default();
    let router = start(&world, config(MigrationState::SideBySide, None)).await;
    let body = router.post("mutation { bump(id: \"1\") }", &[]).await;
    assert_eq!(body["data"]["bump"], json!(11));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(world.old_bumps.load(Ordering::SeqCst), 1);
    assert_eq!(world.new_bumps.load(Ordering::SeqCst), 0);
    router
        .migrations
        .set(
            "Mutation.bump",
            MigrationState::Migrated,
            None,
            "admin",
            "test",
        )
        .await
        .unwrap();
    router.post("mutation { bump(id: \"1\") }", &[]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(world.old_bumps.load(Ordering::SeqCst), 1);
    assert_eq!(world.new_bumps.load(Ordering::SeqCst), 1);
    assert_eq!(router.field("Mutation.bump").await.compared, 0);
}

#[tokio::test]
async fn a_state_switch_takes_effect_without_a_restart() {
    let world = World::default();
    world.mode.lock().unwrap().bug = true;
    let router = start(&world, config(MigrationState::SideBySide, None)).await;
    assert_eq!(router.post(USERS, &[]).await, old_scores());
    // Through the admin API's call.
    router
        .migrations
        .set(
            "User.score",
            MigrationState::Migrated,
            None,
            "admin",
            "test",
        )
        .await
        .unwrap();
    let body = router.post(USERS, &[]).await;
    assert_eq!(body["data"]["users"][1]["score"], json!(21));
    let f = router.field("User.score").await;
    assert_eq!((f.state.as_str(), f.source.as_str()), ("migrated", "admin"));
    assert_eq!(f.events.last().unwrap().to_state, "migrated");
    // Clearing it gives the config's state back; a config reload (a new
    // pipeline on the same migrations) switches too.
    router.migrations.clear("User.score").await.unwrap();
    assert_eq!(router.post(USERS, &[]).await, old_scores());
    let reloaded = config(MigrationState::Canary, Some(100.0));
    let pipeline =
        Pipeline::with_migrations(&router.sdl, &reloaded, router.migrations.clone()).unwrap();
    router.state.set_handler(Some(Arc::new(pipeline)));
    let body = router.post(USERS, &[]).await;
    assert_eq!(body["data"]["users"][1]["score"], json!(21));
}

#[tokio::test]
async fn a_full_queue_drops_and_counts() {
    let world = World::default();
    let gate = Arc::new(Semaphore::new(0));
    world.mode.lock().unwrap().hang = Some(gate.clone());
    let mut config = config(MigrationState::SideBySide, None);
    config.migrations.max_concurrency = 1;
    config.migrations.queue = 1;
    config.migrations.shadow_timeout_ms = 60_000;
    let router = start(&world, config).await;
    for _ in 0..5 {
        assert_eq!(router.post(USERS, &[]).await, old_scores());
    }
    // One running, one waiting, three dropped.
    let f = router.field("User.score").await;
    assert_eq!(f.dropped, 3, "{f:#?}");
    gate.add_permits(100);
    let f = router.settle("User.score", 3 + 6).await;
    assert_eq!((f.compared, f.dropped), (6, 3));
}

#[tokio::test]
async fn automatic_steps_advance_a_clean_field_and_roll_back_on_a_mismatch() {
    let world = World::default();
    let mut config = config(MigrationState::SideBySide, None);
    let auto = AutoConfig {
        steps: vec![50.0, 100.0],
        interval_s: 0,
        min_compared: 3,
        // The new side's run fetches the parents again: not a latency test.
        max_p99_ratio: 1000.0,
        ..AutoConfig::default()
    };
    config.migrations.fields.get_mut("User.score").unwrap().auto = Some(auto);
    let router = start(&world, config).await;
    // Clean: side-by-side → canary 50 → canary 100 → migrated.
    let mut seen = vec![];
    for _ in 0..200 {
        router.post(USERS, &[]).await;
        let f = router.field("User.score").await;
        let step = format!("{} {:?}", f.state, f.percent);
        if seen.last() != Some(&step) {
            seen.push(step);
        }
        if f.state == "migrated" || f.state == "canary" && f.percent == Some(100.0) {
            break;
        }
    }
    assert_eq!(
        seen[..2],
        ["side-by-side None", "canary Some(50.0)"],
        "{seen:?}"
    );
    let f = router.field("User.score").await;
    assert!(
        f.events.iter().all(|e| e.reason.starts_with("step:")),
        "{f:#?}"
    );
    // A mismatch at canary: back to side-by-side at once, and paused.
    // (The bug first, and the comparisons of earlier requests done, so that
    // none of them counts at the new step.)
    world.mode.lock().unwrap().bug = true;
    tokio::time::sleep(Duration::from_millis(300)).await;
    router.migrations.flush().await.unwrap();
    router
        .migrations
        .set(
            "User.score",
            MigrationState::Canary,
            Some(50.0),
            "admin",
            "test",
        )
        .await
        .unwrap();
    let mut rolled_back = false;
    for _ in 0..200 {
        router.post(USERS, &[]).await;
        let f = router.field("User.score").await;
        if f.state == "side-by-side" {
            rolled_back = true;
            assert!(
                f.events.last().unwrap().reason.starts_with("rollback:"),
                "{f:#?}"
            );
            break;
        }
    }
    assert!(rolled_back);
}

#[tokio::test]
async fn the_redb_store_keeps_the_figures_across_restarts() {
    let world = World::default();
    world.mode.lock().unwrap().bug = true;
    let dir = tempfile::tempdir().unwrap();
    let config_store = StoreConfig {
        dir: dir.path().to_owned(),
        ..StoreConfig::default()
    };
    let store = store::open(&config_store).await.unwrap();
    let router = start_with_store(&world, config(MigrationState::SideBySide, None), store).await;
    router.post(USERS, &[]).await;
    router.settle("User.score", 3).await;
    drop(router);
    // A new router on the same directory reads the same figures.
    let store = store::open(&config_store).await.unwrap();
    let again = start_with_store(&world, config(MigrationState::SideBySide, None), store).await;
    let f = again.field("User.score").await;
    assert_eq!((f.compared, f.mismatched), (3, 1));
}

/// A Redis server: `GOLIATH_TEST_REDIS_URL`, or one started here.
async fn redis_url() -> Option<(String, Option<std::process::Child>)> {
    if let Ok(url) = std::env::var("GOLIATH_TEST_REDIS_URL") {
        return Some((url, None));
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").ok()?;
        l.local_addr().ok()?.port()
    };
    let child = std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .ok()?;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((format!("redis://127.0.0.1:{port}"), Some(child)));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[tokio::test]
async fn two_routers_sharing_redis_add_up_into_one_report() {
    let Some((url, child)) = redis_url().await else {
        eprintln!("SKIPPED: no redis (set GOLIATH_TEST_REDIS_URL or install redis-server)");
        return;
    };
    let prefix = format!("goliath-test-{}:", std::process::id());
    let world = World::default();
    world.mode.lock().unwrap().bug = true;
    let a = start_with_store(
        &world,
        config(MigrationState::SideBySide, None),
        store::open_redis(&url, &prefix).await.unwrap(),
    )
    .await;
    let b = start_with_store(
        &world,
        config(MigrationState::SideBySide, None),
        store::open_redis(&url, &prefix).await.unwrap(),
    )
    .await;
    a.post(USERS, &[]).await;
    b.post(USERS, &[]).await;
    b.post(USERS, &[]).await;
    b.settle("User.score", 6).await;
    let fa = a.settle("User.score", 9).await;
    let fb = b.field("User.score").await;
    assert_eq!((fa.compared, fa.mismatched), (9, 3), "{fa:#?}");
    assert_eq!((fb.compared, fb.mismatched), (9, 3));
    // A state set on one router reaches the other through the store.
    a.migrations
        .set(
            "User.score",
            MigrationState::Migrated,
            None,
            "admin",
            "test",
        )
        .await
        .unwrap();
    let mut followed = false;
    for _ in 0..100 {
        let body = b.post(USERS, &[]).await;
        if body["data"]["users"][1]["score"] == json!(21) {
            followed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(followed, "router b follows a's state");
    if let Some(mut child) = child {
        let _ = child.kill();
    }
}

/// The world's supergraph with `@migrate` on `User.score`, as composition
/// writes it.
fn with_migrate_directive(sdl: &str, state: &str) -> String {
    sdl.replace(
        "@link(url: \"https://specs.apollo.dev/join/v0.3\", for: EXECUTION)",
        "@link(url: \"https://specs.apollo.dev/join/v0.3\", for: EXECUTION)\n  @link(url: \"https://goliath.dev/migrate/v0.1\")",
    )
    .replace(
        "scalar join__FieldSet",
        "directive @migrate(from: String!, to: String!, state: String!, percent: Float) on FIELD_DEFINITION\nscalar join__FieldSet",
    )
    .replace(
        "score: Int @join__field(graph: NEW) @join__field(graph: OLD)",
        &format!("score: Int @join__field(graph: NEW) @join__field(graph: OLD) @migrate(from: \"old\", to: \"new\", state: \"{state}\")"),
    )
}

#[tokio::test]
async fn the_supergraphs_migrate_directive_routes_and_config_overrides_it() {
    let world = World::default();
    world.mode.lock().unwrap().bug = true;
    let sdl = with_migrate_directive(&world.start().await, "side-by-side");
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.migrations.flush_interval_ms = 50;
    config.migrations.noise_sample = 0.0;
    config.store.dir = dir.path().to_owned();
    let migrations = Migrations::new(&config.migrations, &config.store);
    let pipeline = Pipeline::with_migrations(&sdl, &config, migrations.clone()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let state = Arc::new(ServerState::new(&config));
    let router = Router {
        addr: listener.local_addr().unwrap(),
        migrations,
        state: state.clone(),
        sdl: sdl.clone(),
        _dir: None,
    };
    state.set_handler(Some(Arc::new(pipeline)));
    tokio::spawn(serve(listener, state, std::future::pending()));
    assert_eq!(router.post(USERS, &[]).await, old_scores());
    let f = router.settle("User.score", 3).await;
    assert_eq!(
        (f.source.as_str(), f.state.as_str()),
        ("supergraph", "side-by-side")
    );
    assert_eq!(f.mismatched, 1);
    // `migrations:` in the config overrides the supergraph's state.
    config.migrations.fields.insert(
        "User.score".into(),
        FieldConfig {
            state: Some(MigrationState::Migrated),
            ..FieldConfig::default()
        },
    );
    let pipeline = Pipeline::with_migrations(&sdl, &config, router.migrations.clone()).unwrap();
    router.state.set_handler(Some(Arc::new(pipeline)));
    let body = router.post(USERS, &[]).await;
    assert_eq!(body["data"]["users"][1]["score"], json!(21));
    assert_eq!(router.field("User.score").await.source, "config");
}

#[tokio::test]
async fn a_config_migration_the_subgraphs_cannot_serve_is_refused() {
    let world = World::default();
    let sdl = world.start().await;
    let mut config = Config::default();
    config.migrations.fields.insert(
        "User.name".into(),
        FieldConfig {
            from: Some("old".into()),
            to: Some("new".into()),
            ..FieldConfig::default()
        },
    );
    let err = Pipeline::new(&sdl, &config).err().unwrap();
    assert!(err.contains("`new` does not resolve User.name"), "{err}");
    config.migrations.fields.clear();
    config
        .migrations
        .fields
        .insert("User.score".into(), FieldConfig::default());
    let err = Pipeline::new(&sdl, &config).err().unwrap();
    assert!(err.contains("give `from` and `to`"), "{err}");
}
