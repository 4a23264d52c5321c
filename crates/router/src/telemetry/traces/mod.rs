//! Traces: OpenTelemetry spans for each client request, exported over OTLP
//! (`telemetry.exporters.tracing`, see [`config`]).
//!
//! A traced request has this span tree (each a child of `request`; the
//! `fetch` spans children of `execute`):
//!
//! ```text
//! request                      graphql.operation.name/type, goliath.outcome
//! ├── parse                    (on a document cache hit: goliath.cache.hit)
//! ├── validate                 (document cache misses only)
//! ├── plan                     goliath.cache.hit
//! ├── execute
//! │   └── fetch  (per request) subgraph.name, http.request.method, url.full,
//! │                            server.address, server.port, http.response.body.size
//! └── projection
//! ```
//!
//! The sampling decision is made once, when the request comes in
//! ([`Traces::request`]): by the client's `traceparent` sampled flag when
//! it sends one (`parent_based_sampler`), else by the ratio. A request that
//! is not sampled records nothing; its trace context (with the sampled
//! flag off) still goes to the subgraphs, so that they do not start traces
//! of their own. A sampled request's `fetch` spans each send their own
//! `traceparent`, so a subgraph's spans join the router's trace under the
//! fetch that called it.
//!
//! The pipeline calls [`RequestTrace`] at its stages; the executor knows
//! only [`goliath_executor::FetchTracer`]. The spans are batched and sent
//! by a thread of their own (`export`), off the request path.

pub mod config;
mod export;

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use goliath_executor::client::FetchError;
use goliath_executor::{FetchSpan, FetchTracer};
use http::{HeaderMap, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{Span as _, SpanKind, Status, TraceContextExt, TraceId, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

pub use config::TracingExporters;

/// The router's tracing: the tracer and its exporter. Made once per router
/// (traces are configured at start-up; a reload keeps them).
pub struct Traces {
    tracer: SdkTracer,
    provider: SdkTracerProvider,
    /// Reads and writes `traceparent` (`None`: propagation off).
    propagator: Option<TraceContextPropagator>,
    /// Stops the exporter's thread.
    stop: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

impl std::fmt::Debug for Traces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Traces")
    }
}

impl Traces {
    /// Starts the exporter `config` describes (its thread, and its
    /// connection to the collector, made lazily).
    pub fn start(config: &TracingExporters) -> Result<Arc<Traces>, String> {
        let (provider, stop) = export::start(config)?;
        Ok(Arc::new(Traces {
            tracer: opentelemetry::trace::TracerProvider::tracer(&provider, "goliath"),
            provider,
            propagator: config
                .propagation
                .trace_context
                .then(TraceContextPropagator::new),
            stop: Mutex::new(Some(stop)),
        }))
    }

    /// A client's request comes in with `headers`: its trace, sampled or
    /// not, under the client's trace context when it sends one.
    pub fn request(self: &Arc<Self>, headers: &HeaderMap, is_get: bool) -> RequestTrace {
        let parent = match &self.propagator {
            Some(p) => p.extract(&Headers(headers)),
            None => Context::new(),
        };
        let mut span = self
            .tracer
            .span_builder("request")
            .with_kind(SpanKind::Server)
            .start_with_context(&self.tracer, &parent);
        let recording = span.is_recording();
        if recording {
            let method = if is_get { "GET" } else { "POST" };
            span.set_attribute(KeyValue::new("http.request.method", method));
        }
        let cx = parent.with_span(span);
        let traceparent = self.traceparent(&cx);
        RequestTrace {
            traced: Some(Box::new(Traced {
                traces: self.clone(),
                cx,
                recording,
                traceparent,
                finished: false,
            })),
        }
    }

    /// The `traceparent` for the span of `cx`, when propagation is on.
    fn traceparent(&self, cx: &Context) -> Option<HeaderValue> {
        let propagator = self.propagator.as_ref()?;
        let mut out = Traceparent(None);
        propagator.inject_context(cx, &mut out);
        out.0
    }

    /// Sends the spans recorded so far (blocks until they are sent or the
    /// export times out).
    pub fn flush(&self) -> Result<(), String> {
        self.provider.force_flush().map_err(|e| e.to_string())
    }

    /// Sends the spans still waiting (within `max_export_timeout`), then
    /// stops the exporter and its thread; spans recorded after are
    /// dropped. Blocks: the router calls it once its requests are done.
    pub fn shutdown(&self) {
        let Some(stop) = self.stop.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return;
        };
        if let Err(e) = self.provider.shutdown() {
            tracing::warn!("traces: the exporter did not stop cleanly: {e}");
        }
        let _ = stop.send(());
    }
}

impl Drop for Traces {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// One client request's trace: from [`Traces::request`] to
/// [`RequestTrace::finished`] (dropped unfinished: ended as cancelled).
/// Holds nothing when tracing is off.
#[derive(Default)]
pub struct RequestTrace {
    traced: Option<Box<Traced>>,
}

/// A request being traced.
struct Traced {
    traces: Arc<Traces>,
    /// The client's trace context with the `request` span.
    cx: Context,
    /// Whether the request is sampled (its spans recorded).
    recording: bool,
    /// The `request` span's trace context, for subgraphs (propagation on).
    traceparent: Option<HeaderValue>,
    finished: bool,
}

/// What the `request` span learns when the request is answered.
pub struct Finished<'a> {
    /// The operation's name, if it has one and was found.
    pub operation_name: Option<&'a str>,
    /// `query` or `mutation`, once the operation was found.
    pub operation_type: Option<&'static str>,
    /// How it ended (`goliath_requests_total`'s outcome).
    pub outcome: &'static str,
    /// Whether the answer has errors.
    pub errors: bool,
}

impl RequestTrace {
    /// No trace (tracing off, or a request the router makes itself).
    pub fn none() -> RequestTrace {
        RequestTrace { traced: None }
    }

    /// The trace id, when the request has a trace (sampled or not).
    pub fn trace_id(&self) -> Option<TraceId> {
        let traced = self.traced.as_ref()?;
        let id = traced.cx.span().span_context().trace_id();
        (id != TraceId::INVALID).then_some(id)
    }

    /// Whether the request's spans are recorded.
    pub fn is_recording(&self) -> bool {
        self.recording().is_some()
    }

    fn recording(&self) -> Option<&Traced> {
        self.traced.as_deref().filter(|t| t.recording)
    }

    /// The time now, when the request is recorded (a stage's start); `None`
    /// otherwise, for nothing.
    pub fn now(&self) -> Option<SystemTime> {
        self.recording().map(|_| SystemTime::now())
    }

    /// Records the stage `name` from `start` (from [`RequestTrace::now`])
    /// to now, with the attributes `attributes` makes (only called when
    /// the request is recorded).
    pub fn span(
        &self,
        name: &'static str,
        start: Option<SystemTime>,
        attributes: impl FnOnce() -> Vec<KeyValue>,
    ) {
        if let Some(start) = start {
            self.span_between(name, start, SystemTime::now(), attributes);
        }
    }

    /// Records the stage `name` from `start` to `end`.
    pub fn span_between(
        &self,
        name: &'static str,
        start: SystemTime,
        end: SystemTime,
        attributes: impl FnOnce() -> Vec<KeyValue>,
    ) {
        let Some(traced) = self.recording() else {
            return;
        };
        let tracer = &traced.traces.tracer;
        let mut span = tracer
            .span_builder(name)
            .with_start_time(start)
            .with_attributes(attributes())
            .start_with_context(tracer, &traced.cx);
        span.end_with_timestamp(end);
    }

    /// Starts the stage `name` whose children are recorded under it (the
    /// `execute` span, whose children are the fetches); `None` when the
    /// request is not recorded. End it with [`Stage::end`].
    pub fn stage(&self, name: &'static str) -> Option<Stage> {
        let traced = self.recording()?;
        let tracer = &traced.traces.tracer;
        let span = tracer
            .span_builder(name)
            .start_with_context(tracer, &traced.cx);
        Some(Stage {
            cx: traced.cx.with_span(span),
        })
    }

    /// What traces the subgraph requests of a stage (`stage`: the span
    /// they go under, `None` when not recorded), for the executor; `None`
    /// when there is nothing to do (no trace, or propagation off and not
    /// recorded).
    pub fn fetches<'r>(
        &'r self,
        stage: Option<&'r Stage>,
        subgraphs: &'r SubgraphTargets,
    ) -> Option<Fetches<'r>> {
        let traced = self.traced.as_deref()?;
        if stage.is_none() && traced.traceparent.is_none() {
            return None;
        }
        Some(Fetches {
            traced,
            parent: stage.map(|s| &s.cx),
            subgraphs,
        })
    }

    /// The request is answered: ends the `request` span.
    pub fn finished(mut self, finished: Finished<'_>) {
        let Some(traced) = self.traced.as_mut() else {
            return;
        };
        traced.finished = true;
        if !traced.recording {
            return;
        }
        let span = traced.cx.span();
        if let Some(name) = finished.operation_name {
            span.set_attribute(KeyValue::new("graphql.operation.name", name.to_owned()));
        }
        if let Some(kind) = finished.operation_type {
            span.set_attribute(KeyValue::new("graphql.operation.type", kind));
        }
        span.set_attribute(KeyValue::new("goliath.outcome", finished.outcome));
        if finished.errors || finished.outcome != "ok" {
            span.set_status(Status::error(finished.outcome));
        }
        span.end();
    }
}

impl Drop for RequestTrace {
    fn drop(&mut self) {
        if let Some(traced) = &self.traced {
            if traced.recording && !traced.finished {
                let span = traced.cx.span();
                span.set_attribute(KeyValue::new("goliath.outcome", "cancelled"));
                span.set_status(Status::error("cancelled"));
                span.end();
            }
        }
    }
}

/// A stage span with children, from [`RequestTrace::stage`].
pub struct Stage {
    cx: Context,
}

impl Stage {
    /// Ends the stage's span now.
    pub fn end(self) {
        self.cx.span().end();
    }
}

/// Each subgraph's name and URL by graph index, for fetch spans. Made once
/// per pipeline.
#[derive(Debug, Default)]
pub struct SubgraphTargets {
    targets: Vec<Target>,
}

/// One subgraph's fixed span attributes.
#[derive(Debug)]
struct Target {
    attributes: Vec<KeyValue>,
}

impl SubgraphTargets {
    /// The targets of graphs `(name, url)`, by graph index.
    pub fn new<'a>(graphs: impl IntoIterator<Item = (&'a str, &'a str)>) -> SubgraphTargets {
        let targets = graphs
            .into_iter()
            .map(|(name, url)| {
                let mut attributes = vec![
                    KeyValue::new("subgraph.name", name.to_owned()),
                    KeyValue::new("http.request.method", "POST"),
                    KeyValue::new("url.full", url.to_owned()),
                ];
                if let Ok(uri) = url.parse::<http::Uri>() {
                    if let Some(host) = uri.host() {
                        attributes.push(KeyValue::new("server.address", host.to_owned()));
                    }
                    let port = uri.port_u16().or(match uri.scheme_str() {
                        Some("https") => Some(443),
                        Some("http") => Some(80),
                        _ => None,
                    });
                    if let Some(port) = port {
                        attributes.push(KeyValue::new("server.port", i64::from(port)));
                    }
                }
                Target { attributes }
            })
            .collect();
        SubgraphTargets { targets }
    }
}

/// Traces one request's subgraph requests (see [`RequestTrace::fetches`]).
pub struct Fetches<'r> {
    traced: &'r Traced,
    /// The span the fetches go under, when recorded.
    parent: Option<&'r Context>,
    subgraphs: &'r SubgraphTargets,
}

impl FetchTracer for Fetches<'_> {
    fn start(&self, graph: usize) -> (Option<HeaderValue>, Option<Box<dyn FetchSpan>>) {
        let Some(parent) = self.parent else {
            return (self.traced.traceparent.clone(), None);
        };
        let tracer = &self.traced.traces.tracer;
        let attributes = self
            .subgraphs
            .targets
            .get(graph)
            .map(|t| t.attributes.clone())
            .unwrap_or_default();
        let span = tracer
            .span_builder("fetch")
            .with_kind(SpanKind::Client)
            .with_attributes(attributes)
            .start_with_context(tracer, parent);
        let cx = parent.with_span(span);
        let traceparent = self.traced.traces.traceparent(&cx);
        (traceparent, Some(Box::new(Fetch { cx })))
    }
}

/// One subgraph request's span.
struct Fetch {
    cx: Context,
}

impl FetchSpan for Fetch {
    fn end(self: Box<Self>, outcome: Result<usize, &FetchError>) {
        let span = self.cx.span();
        match outcome {
            Ok(bytes) => {
                let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
                span.set_attribute(KeyValue::new("http.response.body.size", bytes));
            }
            Err(error) => {
                span.set_attribute(KeyValue::new("error.type", super::fetch_outcome(error)));
                if let FetchError::Status { status, .. } = error {
                    if let Some(code) = status.split(' ').next().and_then(|c| c.parse::<i64>().ok())
                    {
                        span.set_attribute(KeyValue::new("http.response.status_code", code));
                    }
                }
                span.set_status(Status::error(error.to_string()));
            }
        }
        span.end();
    }
}

/// Reads trace context from request headers.
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// Takes the `traceparent` a propagator writes (`tracestate` is not sent).
struct Traceparent(Option<HeaderValue>);

impl Injector for Traceparent {
    fn set(&mut self, key: &str, value: String) {
        if key == "traceparent" {
            self.0 = HeaderValue::from_str(&value).ok();
        }
    }
}
