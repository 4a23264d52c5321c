//! OpenTelemetry traces: a router exporting over OTLP to a receiver on
//! loopback (gRPC: the `opentelemetry-proto` service behind a tonic server;
//! HTTP: protobuf posted to a hyper server), in front of the test
//! subgraphs, each recording the headers it received. Checked: the span
//! tree of a federated request as the receiver saw it, the `traceparent`
//! each subgraph got (its parent is the router's fetch span), the client's
//! trace context joined, and sampling (ratio, parent-based, off).

#[allow(dead_code)]
mod support;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use goliath_router::Config;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value;
use prost::Message;
use serde_json::{json, Value};
use support::{serve_subgraph_seeing_headers, subgraphs, RequestLog, SeenHeaders};
use tokio::net::TcpListener;

/// A span as the receiver saw it.
#[derive(Clone, Debug)]
struct Received {
    trace_id: String,
    span_id: String,
    parent: String,
    name: String,
    attributes: HashMap<String, String>,
    /// `service.name` of the span's resource.
    service: String,
    failed: bool,
}

/// Every span the receiver got.
#[derive(Clone, Default)]
struct Collected(Arc<Mutex<Vec<Received>>>);

impl Collected {
    fn add(&self, request: ExportTraceServiceRequest) {
        let mut spans = self.0.lock().unwrap();
        for resource_spans in request.resource_spans {
            let resource = resource_spans
                .resource
                .map(|r| attributes(&r.attributes))
                .unwrap_or_default();
            let service = resource.get("service.name").cloned().unwrap_or_default();
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    spans.push(Received {
                        trace_id: hex(&span.trace_id),
                        span_id: hex(&span.span_id),
                        parent: hex(&span.parent_span_id),
                        name: span.name.clone(),
                        attributes: attributes(&span.attributes),
                        service: service.clone(),
                        // STATUS_CODE_ERROR = 2
                        failed: span.status.is_some_and(|s| s.code == 2),
                    });
                }
            }
        }
    }

    fn spans(&self) -> Vec<Received> {
        self.0.lock().unwrap().clone()
    }

    /// The spans of `trace_id`, once its `request` span is in (waits up to
    /// 10 s).
    async fn trace(&self, trace_id: &str) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let spans: Vec<Received> = self
                .spans()
                .into_iter()
                .filter(|s| s.trace_id == trace_id)
                .collect();
            if spans.iter().any(|s| s.name == "request") {
                return spans;
            }
            assert!(
                Instant::now() < deadline,
                "no request span for trace {trace_id}; got {:#?}",
                self.spans()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attributes(kvs: &[opentelemetry_proto::tonic::common::v1::KeyValue]) -> HashMap<String, String> {
    kvs.iter()
        .map(|kv| {
            let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                Some(any_value::Value::IntValue(i)) => i.to_string(),
                Some(any_value::Value::BoolValue(b)) => b.to_string(),
                Some(any_value::Value::DoubleValue(d)) => d.to_string(),
                other => format!("{other:?}"),
            };
            (kv.key.clone(), value)
        })
        .collect()
}

/// The gRPC receiver's service.
struct Receiver(Collected);

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.add(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// An OTLP/gRPC receiver on loopback: its address and what it collects.
async fn grpc_receiver() -> (SocketAddr, Collected) {
    let collected = Collected::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = TraceServiceServer::new(Receiver(collected.clone()));
    let incoming = tokio_stream_of(listener);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(incoming),
    );
    (addr, collected)
}

/// The accepted connections of `listener`, as tonic takes them.
fn tokio_stream_of(
    listener: TcpListener,
) -> impl futures_util::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    futures_util::stream::unfold(listener, |listener| async move {
        let accepted = listener.accept().await.map(|(stream, _)| stream);
        Some((accepted, listener))
    })
}

/// An OTLP/HTTP receiver (protobuf at `/v1/traces`) on loopback.
async fn http_receiver() -> (SocketAddr, Collected) {
    let collected = Collected::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shared = collected.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let collected = shared.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let collected = collected.clone();
                    async move {
                        let ok = req.uri().path() == "/v1/traces";
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let status = match ExportTraceServiceRequest::decode(body) {
                            Ok(request) if ok => {
                                collected.add(request);
                                200
                            }
                            _ => 400,
                        };
                        let answer = ExportTraceServiceResponse {
                            partial_success: None,
                        }
                        .encode_to_vec();
                        Ok::<_, Infallible>(
                            http::Response::builder()
                                .status(status)
                                .header("content-type", "application/x-protobuf")
                                .body(Full::new(Bytes::from(answer)))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, collected)
}

/// The test subgraphs, each keeping the headers it received.
struct Subgraphs {
    supergraph: String,
    seen: HashMap<&'static str, SeenHeaders>,
}

async fn start_subgraphs() -> Subgraphs {
    let log = RequestLog::default();
    let mut seen = HashMap::new();
    let mut urls = HashMap::new();
    for name in ["accounts", "inventory", "products", "reviews"] {
        let headers = SeenHeaders::default();
        let url = match name {
            "accounts" => {
                serve_subgraph_seeing_headers(
                    name,
                    subgraphs::accounts(""),
                    log.clone(),
                    headers.clone(),
                )
                .await
            }
            "inventory" => {
                serve_subgraph_seeing_headers(
                    name,
                    subgraphs::inventory(),
                    log.clone(),
                    headers.clone(),
                )
                .await
            }
            "products" => {
                serve_subgraph_seeing_headers(
                    name,
                    subgraphs::products(),
                    log.clone(),
                    headers.clone(),
                )
                .await
            }
            _ => {
                serve_subgraph_seeing_headers(
                    name,
                    subgraphs::reviews(),
                    log.clone(),
                    headers.clone(),
                )
                .await
            }
        };
        seen.insert(name, headers);
        urls.insert(name, url);
    }
    Subgraphs {
        supergraph: support::supergraph::sdl(
            &urls["accounts"],
            &urls["inventory"],
            &urls["products"],
            &urls["reviews"],
        ),
        seen,
    }
}

impl Subgraphs {
    /// Every `traceparent` the subgraphs received (`None`: a request
    /// without one), with the subgraph's name.
    fn traceparents(&self) -> Vec<(&'static str, Option<String>)> {
        let mut all = vec![];
        for (name, seen) in &self.seen {
            for value in seen.values("traceparent") {
                all.push((*name, value));
            }
        }
        all
    }

    fn clear(&self) {
        for seen in self.seen.values() {
            seen.0.lock().unwrap().clear();
        }
    }
}

/// A router config exporting to `receiver` over `protocol`, every 50 ms.
fn config(receiver: SocketAddr, protocol: &str, sampler: &str) -> Config {
    let path = if protocol == "http" { "/v1/traces" } else { "" };
    let yaml = format!(
        "telemetry:\n  exporters:\n    tracing:\n      common:\n        service_name: goliath-test\n        sampler: {sampler}\n        resource:\n          deployment.environment: test\n      otlp:\n        enabled: true\n        protocol: {protocol}\n        endpoint: http://{receiver}{path}\n        batch_processor:\n          scheduled_delay: 50ms\n"
    );
    Config::from_yaml_str(&yaml).unwrap()
}

/// The query of the test: products (root), their reviews (an entity
/// fetch), and their authors and stock (more entity fetches).
const QUERY: &str =
    "query TopProducts { topProducts { name inStock reviews { body author { name } } } }";

async fn post(router: SocketAddr, headers: &[(&str, &str)]) -> Value {
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let mut request = http::Request::post(format!("http://{router}/graphql"))
        .header("content-type", "application/json");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let body = serde_json::to_vec(&json!({"query": QUERY})).unwrap();
    let response = client
        .request(request.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

/// The span tree under the spans without a parent in `spans`, one line
/// per span, indented by depth.
fn tree(spans: &[Received]) -> String {
    fn walk(spans: &[Received], parent: &str, depth: usize, out: &mut String) {
        let mut children: Vec<&Received> = spans.iter().filter(|s| s.parent == parent).collect();
        children.sort_by_key(|s| (s.name.clone(), s.attributes.get("subgraph.name").cloned()));
        for span in children {
            let subgraph = span
                .attributes
                .get("subgraph.name")
                .map(|s| format!(" subgraph.name={s}"))
                .unwrap_or_default();
            out.push_str(&format!("{}{}{subgraph}\n", "  ".repeat(depth), span.name));
            walk(spans, &span.span_id, depth + 1, out);
        }
    }
    let ids: Vec<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
    let mut out = String::new();
    let roots: Vec<String> = spans
        .iter()
        .filter(|s| !ids.contains(&s.parent.as_str()))
        .map(|s| s.parent.clone())
        .collect();
    for root in roots.iter().take(1) {
        walk(spans, root, 0, &mut out);
    }
    out
}

const CLIENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN: &str = "00f067aa0ba902b7";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_federated_request_is_one_trace_that_the_subgraphs_join() {
    let (receiver, collected) = grpc_receiver().await;
    let subgraphs = start_subgraphs().await;
    let router =
        support::start_router(&subgraphs.supergraph, &config(receiver, "grpc", "0.0")).await;
    // The client's trace context, sampled: parent-based sampling records
    // it although the ratio is 0.
    let traceparent = format!("00-{CLIENT_TRACE}-{CLIENT_SPAN}-01");
    let body = post(router, &[("traceparent", &traceparent)]).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(body["data"]["topProducts"][0]["name"], "Table");

    let spans = collected.trace(CLIENT_TRACE).await;
    let tree = tree(&spans);
    eprintln!("the span tree as the receiver saw it:\n{tree}");
    let request = spans.iter().find(|s| s.name == "request").unwrap();
    assert_eq!(
        request.parent, CLIENT_SPAN,
        "the client's span is the parent"
    );
    assert_eq!(request.service, "goliath-test");
    assert_eq!(request.attributes["graphql.operation.name"], "TopProducts");
    assert_eq!(request.attributes["graphql.operation.type"], "query");
    assert_eq!(request.attributes["http.request.method"], "POST");
    assert_eq!(request.attributes["goliath.outcome"], "ok");
    assert!(!request.failed);
    let children = |parent: &Received| -> Vec<String> {
        let mut names: Vec<String> = spans
            .iter()
            .filter(|s| s.parent == parent.span_id)
            .map(|s| s.name.clone())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        children(request),
        ["execute", "parse", "plan", "projection", "validate"],
        "{tree}"
    );
    let execute = spans.iter().find(|s| s.name == "execute").unwrap();
    let fetches: Vec<&Received> = spans.iter().filter(|s| s.name == "fetch").collect();
    assert!(
        fetches.iter().all(|f| f.parent == execute.span_id),
        "{tree}"
    );
    // Each subgraph request was sent with its own fetch span's context.
    let sent = subgraphs.traceparents();
    assert_eq!(sent.len(), fetches.len(), "{sent:?}\n{tree}");
    for (subgraph, value) in &sent {
        let value = value
            .as_deref()
            .expect("every subgraph request has a traceparent");
        let parts: Vec<&str> = value.split('-').collect();
        assert_eq!(parts[1], CLIENT_TRACE, "{value}");
        assert_eq!(parts[3], "01", "{value}");
        let fetch = fetches
            .iter()
            .find(|f| f.span_id == parts[2])
            .unwrap_or_else(|| panic!("{subgraph} got {value}: no such fetch span\n{tree}"));
        assert_eq!(fetch.attributes["subgraph.name"], *subgraph);
        assert_eq!(fetch.attributes["http.request.method"], "POST");
        assert!(fetch.attributes["url.full"].starts_with("http://127.0.0.1:"));
        assert_eq!(fetch.attributes["server.address"], "127.0.0.1");
        assert!(fetch.attributes.contains_key("http.response.body.size"));
    }
    let mut asked: Vec<&str> = sent.iter().map(|(s, _)| *s).collect();
    asked.sort();
    asked.dedup();
    assert_eq!(asked, ["accounts", "inventory", "products", "reviews"]);
    let plan = spans.iter().find(|s| s.name == "plan").unwrap();
    assert_eq!(plan.attributes["goliath.cache.hit"], "false");

    // The same query again: parse and plan come from their caches.
    subgraphs.clear();
    let again = "0af7651916cd43dd8448eb211c80319c";
    post(
        router,
        &[("traceparent", &format!("00-{again}-b7ad6b7169203331-01"))],
    )
    .await;
    let spans = collected.trace(again).await;
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    assert!(!names.contains(&"validate"), "{names:?}");
    for name in ["parse", "plan"] {
        let span = spans.iter().find(|s| s.name == name).unwrap();
        assert_eq!(span.attributes["goliath.cache.hit"], "true", "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_go_over_http_too() {
    let (receiver, collected) = http_receiver().await;
    let subgraphs = start_subgraphs().await;
    let router = support::start_router(
        &subgraphs.supergraph,
        &config(receiver, "http", "always_on"),
    )
    .await;
    post(router, &[]).await;
    // A trace the router started: its id is the one the subgraphs got.
    let sent = subgraphs.traceparents();
    let value = sent[0].1.clone().expect("a traceparent");
    let trace_id = value.split('-').nth(1).unwrap().to_owned();
    let spans = collected.trace(&trace_id).await;
    let request = spans.iter().find(|s| s.name == "request").unwrap();
    assert_eq!(request.parent, "", "a root span");
    assert!(spans.iter().filter(|s| s.name == "fetch").count() >= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampling_decides_once_and_subgraphs_follow() {
    let (receiver, collected) = grpc_receiver().await;
    let subgraphs = start_subgraphs().await;
    let router =
        support::start_router(&subgraphs.supergraph, &config(receiver, "grpc", "0.25")).await;
    // 400 requests at 0.25: about 100 recorded.
    for _ in 0..400 {
        post(router, &[]).await;
    }
    // The client says "not sampled": never recorded, whatever the ratio.
    let unsampled = "11111111111111111111111111111111";
    for _ in 0..20 {
        post(
            router,
            &[(
                "traceparent",
                &format!("00-{unsampled}-2222222222222222-00"),
            )],
        )
        .await;
    }
    // Each request's subgraphs got the same decision in the sampled flag.
    let mut by_trace: HashMap<String, Vec<String>> = HashMap::new();
    for (_, value) in subgraphs.traceparents() {
        let value = value.expect("every request carries a traceparent");
        let parts: Vec<&str> = value.split('-').collect();
        by_trace
            .entry(parts[1].to_owned())
            .or_default()
            .push(parts[3].to_owned());
    }
    assert_eq!(by_trace.len(), 401, "one trace per request");
    let sampled: Vec<&String> = by_trace
        .iter()
        .filter(|(_, flags)| flags.iter().all(|f| f == "01"))
        .map(|(id, _)| id)
        .collect();
    let mixed = by_trace
        .values()
        .filter(|flags| flags.iter().any(|f| f == "01") && flags.iter().any(|f| f == "00"))
        .count();
    assert_eq!(mixed, 0, "one decision per request");
    assert!(
        (50..=150).contains(&sampled.len()),
        "{} of 400 sampled at 0.25",
        sampled.len()
    );
    assert!(by_trace[unsampled].iter().all(|f| f == "00"));
    // Exactly the sampled traces arrive.
    for id in &sampled {
        collected.trace(id).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut recorded: Vec<String> = collected
        .spans()
        .into_iter()
        .filter(|s| s.name == "request")
        .map(|s| s.trace_id)
        .collect();
    recorded.sort();
    let mut expected: Vec<String> = sampled.into_iter().cloned().collect();
    expected.sort();
    assert_eq!(recorded, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_propagation_no_traceparent_is_read_or_sent() {
    let (receiver, collected) = grpc_receiver().await;
    let subgraphs = start_subgraphs().await;
    let mut config = config(receiver, "grpc", "always_on");
    config.telemetry.exporters.tracing.propagation.trace_context = false;
    let router = support::start_router(&subgraphs.supergraph, &config).await;
    post(
        router,
        &[(
            "traceparent",
            &format!("00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"),
        )],
    )
    .await;
    assert!(subgraphs.traceparents().iter().all(|(_, v)| v.is_none()));
    // Recorded as a trace of its own, not the client's.
    let deadline = Instant::now() + Duration::from_secs(10);
    let request = loop {
        if let Some(s) = collected.spans().into_iter().find(|s| s.name == "request") {
            break s;
        }
        assert!(Instant::now() < deadline, "no request span");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_ne!(request.trace_id, CLIENT_TRACE);
    assert_eq!(request.parent, "");
}
