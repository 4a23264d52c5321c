//! The Prometheus metrics on the admin listener: known traffic (queries
//! from a named client, a request refused by a limit, a request with a
//! subgraph down, a request error, a request past its deadline) scraped
//! over HTTP without a token, read with a Prometheus text-format parser,
//! and counted exactly; with metrics off, no `/metrics`.

#[allow(dead_code)]
mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use goliath_router::admin::{self, Admin};
use goliath_router::config::SubgraphConfig;
use goliath_router::http::{serve, ServerState};
use goliath_router::{Config, Pipeline};
use http::StatusCode;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use prometheus_parse::{Sample, Scrape, Value as Metric};
use serde_json::{json, Value};
use support::{closed_port_url, error_codes, start_subgraphs, RequestLog};
use tokio::net::TcpListener;

const TOKEN: &str = "t0ken-for-tests";

/// A router with metrics (or not) and its admin listener.
struct Setup {
    graphql: SocketAddr,
    admin: SocketAddr,
}

/// The four test subgraphs, `reviews` pointed at a closed port (down), and
/// `limits.max_aliases: 2`.
async fn start(metrics: bool, configure: impl FnOnce(&mut Config)) -> Setup {
    let log = RequestLog::default();
    let urls = start_subgraphs(&log).await;
    let mut config = Config::default();
    config.telemetry.exporters.metrics.prometheus.enabled = metrics;
    config.limits.max_aliases = Some(2);
    config.subgraphs.insert(
        "reviews".into(),
        SubgraphConfig {
            url: Some(closed_port_url().await),
            ..SubgraphConfig::default()
        },
    );
    configure(&mut config);
    let pipeline = Pipeline::new(&urls.supergraph(), &config).unwrap();
    let admin = Admin::new(TOKEN, pipeline.migrations().clone()).with_metrics(
        pipeline.telemetry().clone(),
        &config.telemetry.exporters.metrics.prometheus.path,
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let graphql = listener.local_addr().unwrap();
    let state = Arc::new(ServerState::new(&config));
    state.set_handler(Some(Arc::new(pipeline)));
    tokio::spawn(serve(listener, state, std::future::pending()));
    let admin_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin_addr = admin_listener.local_addr().unwrap();
    tokio::spawn(admin::serve(
        admin_listener,
        Arc::new(admin),
        std::future::pending(),
    ));
    Setup {
        graphql,
        admin: admin_addr,
    }
}

impl Setup {
    /// POSTs `query` with these headers; status and body.
    async fn post(&self, query: &str, headers: &[(&str, &str)]) -> (StatusCode, Value) {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let mut request = http::Request::post(format!("http://{}/graphql", self.graphql))
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = serde_json::to_vec(&json!({ "query": query })).unwrap();
        let response = client
            .request(request.body(Full::new(Bytes::from(body))).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    /// `GET path` on the admin listener, without a token: status,
    /// content type, body.
    async fn scrape_raw(&self, path: &str) -> (StatusCode, String, String) {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let response = client
            .request(
                http::Request::get(format!("http://{}{path}", self.admin))
                    .body(Full::new(Bytes::new()))
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            content_type,
            String::from_utf8(bytes.to_vec()).unwrap(),
        )
    }

    /// `/metrics`, parsed.
    async fn scrape(&self) -> Metrics {
        let (status, content_type, text) = self.scrape_raw("/metrics").await;
        assert_eq!(status, StatusCode::OK, "{text}");
        assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
        let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
        Metrics { scrape, text }
    }
}

/// One scrape.
struct Metrics {
    scrape: Scrape,
    text: String,
}

impl Metrics {
    /// The samples of `name` whose labels are exactly `labels`.
    fn find(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        let wanted: HashMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.scrape
            .samples
            .iter()
            .filter(|s| s.metric == name && *s.labels == wanted)
            .collect()
    }

    /// The value of the counter or gauge `name` with exactly `labels`
    /// (0 when the series does not exist).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        match self.find(name, labels).as_slice() {
            [] => 0.0,
            [sample] => match sample.value {
                Metric::Counter(v) | Metric::Gauge(v) | Metric::Untyped(v) => v,
                ref other => panic!("{name}: not a number: {other:?}"),
            },
            more => panic!("{name} {labels:?}: {} samples\n{}", more.len(), self.text),
        }
    }

    /// The number of observations in the histogram `name` with `labels`
    /// (its `+Inf` bucket, checked against `_count`).
    fn observations(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let samples = self.find(name, labels);
        let [sample] = samples.as_slice() else {
            panic!("no histogram {name} {labels:?}\n{}", self.text);
        };
        let Metric::Histogram(buckets) = &sample.value else {
            panic!("{name}: not a histogram");
        };
        assert_eq!(buckets.len(), 13, "12 buckets and +Inf: {buckets:?}");
        let inf = buckets
            .iter()
            .find(|b| b.less_than.is_infinite())
            .expect("a +Inf bucket")
            .count;
        assert_eq!(inf, self.value(&format!("{name}_count"), labels));
        inf
    }
}

const ME: &str = "query Me { me { name } }";

#[tokio::test(flavor = "multi_thread")]
async fn known_traffic_is_counted_exactly() {
    let s = start(true, |_| {}).await;
    let web = [
        ("apollographql-client-name", "web"),
        ("apollographql-client-version", "1.2"),
    ];
    for _ in 0..3 {
        let (status, body) = s.post(ME, &web).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({"data": {"me": {"name": "Ada Lovelace"}}}));
    }
    // Over `max_aliases`.
    let (status, body) = s
        .post(
            "query TooMany { a: me { name } b: me { name } c: me { name } }",
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_codes(&body), ["MAX_ALIASES_LIMIT"]);
    // `reviews` is down: executed, with an error.
    let (status, body) = s
        .post(
            "query Reviews { topProducts(first: 1) { name reviews { body } } }",
            &[("apollographql-client-name", "ios")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(error_codes(&body), ["SUBREQUEST_HTTP_ERROR"]);
    // Not valid.
    let (status, _) = s.post("{ nope }", &web).await;
    assert_eq!(status, StatusCode::OK);

    let m = s.scrape().await;
    let requests = "goliath_requests_total";
    let request = |op: &'static str, client: &'static str, version: &'static str, outcome| {
        [
            ("operation_name", op),
            ("client_name", client),
            ("client_version", version),
            ("outcome", outcome),
        ]
    };
    assert_eq!(m.value(requests, &request("Me", "web", "1.2", "ok")), 3.0);
    assert_eq!(
        m.value(requests, &request("TooMany", "", "", "refused")),
        1.0
    );
    assert_eq!(
        m.value(requests, &request("Reviews", "ios", "", "errors")),
        1.0
    );
    assert_eq!(
        m.value(requests, &request("", "web", "1.2", "request_error")),
        1.0
    );
    let all: f64 = m
        .scrape
        .samples
        .iter()
        .filter(|s| s.metric == requests)
        .map(|s| match s.value {
            Metric::Counter(v) => v,
            _ => 0.0,
        })
        .sum();
    assert_eq!(all, 6.0, "no other request counted\n{}", m.text);
    assert_eq!(m.value("goliath_requests_in_flight", &[]), 0.0);
    assert_eq!(
        m.value("goliath_refusals_total", &[("code", "MAX_ALIASES_LIMIT")]),
        1.0
    );

    // Latency histograms, by outcome.
    let duration = "goliath_request_duration_seconds";
    assert_eq!(m.observations(duration, &[("outcome", "ok")]), 3.0);
    assert_eq!(m.observations(duration, &[("outcome", "refused")]), 1.0);
    assert_eq!(m.observations(duration, &[("outcome", "errors")]), 1.0);
    assert_eq!(
        m.observations(duration, &[("outcome", "request_error")]),
        1.0
    );
    assert_eq!(m.observations(duration, &[("outcome", "timeout")]), 0.0);

    // Caches: `Me` missed once then hit twice; the three others missed
    // the document cache; `Me` and `Reviews` were planned.
    let cache = "goliath_cache_lookups_total";
    let lookups = |c, r| m.value(cache, &[("cache", c), ("result", r)]);
    assert_eq!(lookups("document", "hit"), 2.0);
    assert_eq!(lookups("document", "miss"), 4.0);
    assert_eq!(lookups("plan", "hit"), 2.0);
    assert_eq!(lookups("plan", "miss"), 2.0);

    // Subgraphs: accounts three times, products once, reviews down once.
    let fetches = "goliath_subgraph_requests_total";
    let fetch =
        |subgraph, outcome| m.value(fetches, &[("subgraph", subgraph), ("outcome", outcome)]);
    assert_eq!(fetch("accounts", "ok"), 3.0);
    assert_eq!(fetch("products", "ok"), 1.0);
    assert_eq!(fetch("reviews", "transport_error"), 1.0);
    assert_eq!(fetch("reviews", "ok"), 0.0);
    assert_eq!(fetch("inventory", "ok"), 0.0);
    let fetch_duration = "goliath_subgraph_request_duration_seconds";
    let timed = |subgraph, outcome| {
        m.observations(
            fetch_duration,
            &[("subgraph", subgraph), ("outcome", outcome)],
        )
    };
    assert_eq!(timed("accounts", "ok"), 3.0);
    assert_eq!(timed("products", "ok"), 1.0);
    assert_eq!(timed("reviews", "transport_error"), 1.0);

    // Reloads are the CLI's (crates/goliath/tests/metrics_cli.rs): none
    // here, and no supergraph load time.
    assert_eq!(
        m.value("goliath_supergraph_load_timestamp_seconds", &[]),
        0.0
    );
    for what in ["supergraph", "config"] {
        for outcome in ["ok", "error"] {
            let labels = [("what", what), ("outcome", outcome)];
            assert_eq!(m.find("goliath_reloads_total", &labels).len(), 1);
            assert_eq!(m.value("goliath_reloads_total", &labels), 0.0);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_past_its_deadline_counts_as_a_timeout() {
    // `accounts` answers after 5 s; requests may take 300 ms.
    let slow = support::serve_fn(|_, _| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        support::respond(200, "application/json", r#"{"data":{"me":null}}"#)
    })
    .await;
    let s = start(true, |c| {
        c.limits.request_timeout_ms = 300;
        c.subgraphs.insert(
            "accounts".into(),
            SubgraphConfig {
                url: Some(slow),
                ..SubgraphConfig::default()
            },
        );
    })
    .await;
    let (status, body) = s.post(ME, &[]).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    let m = s.scrape().await;
    let labels = [
        ("operation_name", "Me"),
        ("client_name", ""),
        ("client_version", ""),
        ("outcome", "timeout"),
    ];
    assert_eq!(m.value("goliath_requests_total", &labels), 1.0);
    assert_eq!(m.value("goliath_requests_in_flight", &[]), 0.0);
    // The fetch was dropped with the request: never answered, not timed.
    assert_eq!(
        m.value(
            "goliath_subgraph_requests_total",
            &[("subgraph", "accounts"), ("outcome", "ok")]
        ),
        0.0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn scraping_needs_no_token_but_the_admin_routes_still_do() {
    let s = start(true, |c| {
        c.telemetry.exporters.metrics.prometheus.path = "/prom".into()
    })
    .await;
    let (status, _, text) = s.scrape_raw("/prom").await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("goliath_requests_in_flight 0"), "{text}");
    let (status, _, _) = s.scrape_raw("/metrics").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = s.scrape_raw("/admin/migrations").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_metrics_off_there_is_no_metrics_path() {
    let s = start(false, |_| {}).await;
    let (status, body) = s.post(ME, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, text) = s.scrape_raw("/metrics").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{text}");
}
