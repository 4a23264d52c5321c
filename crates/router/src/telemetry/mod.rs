//! Telemetry: the router's metrics, in the Prometheus text format on the
//! admin listener (`telemetry.exporters.metrics.prometheus`, see
//! `docs/configuration.md`, "telemetry", for every metric and label), and
//! its traces, sent over OTLP (`telemetry.exporters.tracing`, [`traces`]).
//!
//! One [`Telemetry`] per router, made once like the router's `Migrations`
//! and handed to every pipeline built for it (`pipeline::Parts`), so the
//! counts outlive reloads. The pipeline calls it at named stages and knows
//! nothing of metric names or labels:
//!
//! - [`Telemetry::request`] when a client's request comes in: a
//!   [`RequestTelemetry`] that follows the request: its metrics
//!   ([`RequestMetrics`]) and its trace ([`traces::RequestTrace`], whose
//!   stages the pipeline records). It learns the operation
//!   ([`RequestTelemetry::operation`]) and whether the answer has errors
//!   ([`RequestTelemetry::errors`]), and counts the request when
//!   [`RequestTelemetry::finished`] (or, when the request is dropped
//!   unanswered, as a timeout or a cancelled request);
//! - [`Telemetry::document`] and [`Telemetry::plan`]: cache hits and
//!   misses;
//! - [`Telemetry::fetch_observer`]: what the executor tells about each
//!   subgraph request (`goliath_executor::FetchObserver`: the executor
//!   times the request and calls it; it keeps no metrics);
//! - [`Telemetry::supergraph_loaded`] and [`Telemetry::reloaded`]: called
//!   by `goliath router` when it loads or reloads.
//!
//! With metrics and traces off, a `Telemetry` holds nothing and every call
//! is one `Option` check.

mod config;
pub mod metrics;
pub mod traces;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use apollo_compiler::Name;
use goliath_executor::client::FetchError;
use goliath_executor::FetchObserver;
use http::header::HeaderName;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;

pub use config::{Exporters, MetricsExporters, PrometheusConfig, TelemetryConfig};
use metrics::{CacheName, Metrics, ReloadLabels, RequestLabels, SubgraphLabels, Text};
pub use traces::{RequestTrace, SubgraphTargets, Traces};

use crate::pipeline::{self, Request, Response};

/// The header naming the client (as Apollo Router reads it).
pub const CLIENT_NAME: HeaderName = HeaderName::from_static("apollographql-client-name");

/// The header naming the client's version.
pub const CLIENT_VERSION: HeaderName = HeaderName::from_static("apollographql-client-version");

/// The router's telemetry: its metrics and traces when they are on,
/// nothing when off. Cheap to clone (clones share them).
#[derive(Clone, Debug, Default)]
pub struct Telemetry {
    metrics: Option<Arc<Metrics>>,
    traces: Option<Arc<Traces>>,
}

/// How a client's request ended: `goliath_requests_total`'s `outcome`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Executed; the answer has no errors.
    Ok,
    /// Executed; the answer has errors (a subgraph failed or answered
    /// errors).
    Errors,
    /// Not executed: no query, a parse or validation error, an unknown
    /// operation, bad variables, a mutation over GET.
    RequestError,
    /// Refused by a limit (`goliath_refusals_total` has the code).
    Refused,
    /// Not answered within `limits.request_timeout_ms` (a 504).
    Timeout,
    /// Dropped unanswered before its deadline: the client went away (or
    /// the handler panicked).
    Cancelled,
}

impl Outcome {
    /// Every outcome, in [`Outcome::index`] order.
    pub const ALL: [Outcome; 6] = [
        Outcome::Ok,
        Outcome::Errors,
        Outcome::RequestError,
        Outcome::Refused,
        Outcome::Timeout,
        Outcome::Cancelled,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Errors => "errors",
            Outcome::RequestError => "request_error",
            Outcome::Refused => "refused",
            Outcome::Timeout => "timeout",
            Outcome::Cancelled => "cancelled",
        }
    }

    /// How a request answered with `response` ended (`errors`: its answer
    /// has errors).
    pub fn of(response: &Response, errors: bool) -> Outcome {
        match response.outcome {
            pipeline::Outcome::Executed if errors => Outcome::Errors,
            pipeline::Outcome::Executed => Outcome::Ok,
            pipeline::Outcome::RequestError
            | pipeline::Outcome::MethodNotAllowed
            | pipeline::Outcome::Rejected { .. } => Outcome::RequestError,
            pipeline::Outcome::Refused => Outcome::Refused,
        }
    }

    /// The position in [`Outcome::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What was reloaded: `goliath_reloads_total`'s `what`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reload {
    /// The supergraph (its file, or a recomposition).
    Supergraph,
    /// The config file.
    Config,
}

impl Telemetry {
    /// The telemetry `config` asks for: metrics when
    /// `exporters.metrics.prometheus.enabled`, traces (and their exporter's
    /// thread) when `exporters.tracing.otlp.enabled`. Fails when the trace
    /// exporter cannot be made.
    pub fn new(config: &TelemetryConfig) -> Result<Telemetry, String> {
        let tracing = &config.exporters.tracing;
        Ok(Telemetry {
            metrics: config
                .prometheus()
                .enabled
                .then(|| Arc::new(Metrics::new())),
            traces: match tracing.enabled() {
                true => Some(Traces::start(tracing)?),
                false => None,
            },
        })
    }

    /// The router's traces, when they are on.
    pub fn traces(&self) -> Option<&Arc<Traces>> {
        self.traces.as_ref()
    }

    /// A client's request comes into the pipeline: its metrics (counted in
    /// flight until finished or dropped) and its trace.
    pub fn request(&self, req: &Request) -> RequestTelemetry {
        RequestTelemetry {
            metrics: self.request_started(req),
            trace: match &self.traces {
                Some(traces) => traces.request(&req.headers, req.is_get),
                None => RequestTrace::none(),
            },
            operation: None,
            errors: false,
        }
    }

    /// No telemetry: every call does nothing.
    pub fn disabled() -> Telemetry {
        Telemetry::default()
    }

    /// Whether metrics are collected.
    pub fn is_enabled(&self) -> bool {
        self.metrics.is_some()
    }

    /// Every metric in the Prometheus text format (version 0.0.4); `None`
    /// when metrics are off.
    pub fn render(&self) -> Option<String> {
        self.metrics.as_ref().map(|m| m.render())
    }

    /// A client's request comes into the pipeline: counted in flight until
    /// the returned value is finished or dropped.
    pub fn request_started(&self, req: &Request) -> RequestMetrics {
        let Some(metrics) = &self.metrics else {
            return RequestMetrics::none();
        };
        metrics.in_flight.inc();
        let header = |name: &HeaderName| match req.headers.get(name) {
            None => Text::Static(""),
            Some(v) => Text::owned(&String::from_utf8_lossy(v.as_bytes())),
        };
        RequestMetrics {
            active: Some(Active {
                metrics: metrics.clone(),
                started: Instant::now(),
                deadline: req.deadline,
                operation: Text::Static(""),
                client_name: header(&CLIENT_NAME),
                client_version: header(&CLIENT_VERSION),
                errors: false,
            }),
        }
    }

    /// A document cache lookup: `hit` or miss.
    pub fn document(&self, hit: bool) {
        if let Some(m) = &self.metrics {
            m.cache_lookup(CacheName::Document, hit);
        }
    }

    /// A plan cache lookup: `hit` or miss.
    pub fn plan(&self, hit: bool) {
        if let Some(m) = &self.metrics {
            m.cache_lookup(CacheName::Plan, hit);
        }
    }

    /// A response cache lookup: `hit` or miss.
    pub fn response_cache(&self, hit: bool) {
        if let Some(m) = &self.metrics {
            m.cache_lookup(CacheName::Response, hit);
        }
    }

    /// An entity cache lookup (one entity fetch): `hit` or miss.
    pub fn entity_cache(&self, hit: bool) {
        if let Some(m) = &self.metrics {
            m.cache_lookup(CacheName::Entity, hit);
        }
    }

    /// What times the subgraph requests of an executor whose graphs (by
    /// index) are `subgraphs`; `None` when metrics are off (the executor
    /// then times nothing).
    pub fn fetch_observer(&self, subgraphs: &[&str]) -> Option<Arc<dyn FetchObserver>> {
        let metrics = self.metrics.clone()?;
        let names: Vec<Arc<str>> = subgraphs.iter().map(|&s| Arc::from(s)).collect();
        let ok = names
            .iter()
            .map(|name| {
                let labels = SubgraphLabels {
                    subgraph: name.clone(),
                    outcome: "ok",
                };
                (
                    metrics.subgraph_requests.get_or_create_owned(&labels),
                    metrics.subgraph_duration.get_or_create_owned(&labels),
                )
            })
            .collect();
        Some(Arc::new(Subgraphs { metrics, names, ok }))
    }

    /// A supergraph was loaded and serves from now on (at start-up, or
    /// by a reload that changed it): `goliath_supergraph_load_timestamp_seconds`.
    pub fn supergraph_loaded(&self) {
        if let Some(m) = &self.metrics {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            m.supergraph_loaded.set(now.as_secs_f64());
        }
    }

    /// A reload of `what` after start-up was tried: swapped in (`ok`) or
    /// not (it did not read, compose or build; the running version stays).
    pub fn reloaded(&self, what: Reload, ok: bool) {
        if let Some(m) = &self.metrics {
            let labels = ReloadLabels {
                what: match what {
                    Reload::Supergraph => "supergraph",
                    Reload::Config => "config",
                },
                outcome: if ok { "ok" } else { "error" },
            };
            m.reloads.get_or_create(&labels).inc();
        }
    }
}

/// One client request's telemetry: its metrics and its trace, from
/// [`Telemetry::request`] to [`RequestTelemetry::finished`].
pub struct RequestTelemetry {
    /// The request's metrics.
    pub metrics: RequestMetrics,
    /// The request's trace (the pipeline records its stages on it).
    pub trace: RequestTrace,
    /// The operation's name and type, once found (when traced).
    operation: Option<(Option<Name>, &'static str)>,
    /// Whether the answer has errors.
    errors: bool,
}

impl RequestTelemetry {
    /// Follows nothing (a request the router makes itself).
    pub fn none() -> RequestTelemetry {
        RequestTelemetry {
            metrics: RequestMetrics::none(),
            trace: RequestTrace::none(),
            operation: None,
            errors: false,
        }
    }

    /// The operation the request runs.
    pub fn operation(&mut self, operation: &apollo_compiler::executable::Operation) {
        self.metrics.operation(operation.name.as_ref());
        if self.trace.is_recording() {
            let kind = match operation.operation_type {
                apollo_compiler::executable::OperationType::Query => "query",
                apollo_compiler::executable::OperationType::Mutation => "mutation",
                apollo_compiler::executable::OperationType::Subscription => "subscription",
            };
            self.operation = Some((operation.name.clone(), kind));
        }
    }

    /// Whether the executed request's answer has errors.
    pub fn errors(&mut self, errors: bool) {
        self.errors = errors;
        self.metrics.errors(errors);
    }

    /// The request is answered with `response`: counts it, ends its trace.
    pub fn finished(self, response: &Response) {
        let RequestTelemetry {
            metrics,
            trace,
            operation,
            errors,
        } = self;
        metrics.finished(response);
        let outcome = Outcome::of(response, errors);
        let (name, kind) = match &operation {
            Some((name, kind)) => (name.as_ref().map(|n| n.as_str()), Some(*kind)),
            None => (None, None),
        };
        trace.finished(traces::Finished {
            operation_name: name,
            operation_type: kind,
            outcome: outcome.as_str(),
            errors,
        });
    }
}

/// One client request's metrics, from [`Telemetry::request_started`] to
/// [`RequestMetrics::finished`]; dropped unfinished, the request counts as
/// [`Outcome::Timeout`] when its deadline has passed, else
/// [`Outcome::Cancelled`]. Holds nothing when metrics are off.
#[derive(Debug)]
pub struct RequestMetrics {
    active: Option<Active>,
}

/// A request being followed.
#[derive(Debug)]
struct Active {
    metrics: Arc<Metrics>,
    started: Instant,
    deadline: Option<Instant>,
    operation: Text,
    client_name: Text,
    client_version: Text,
    errors: bool,
}

impl RequestMetrics {
    /// Follows nothing (metrics off, or a request the router makes itself).
    pub fn none() -> RequestMetrics {
        RequestMetrics { active: None }
    }

    /// The operation the request runs (`None`: anonymous).
    pub fn operation(&mut self, name: Option<&Name>) {
        if let (Some(a), Some(name)) = (&mut self.active, name) {
            a.operation = Text::Name(name.clone());
        }
    }

    /// Whether the executed request's answer has errors.
    pub fn errors(&mut self, errors: bool) {
        if let Some(a) = &mut self.active {
            a.errors = errors;
        }
    }

    /// The request is answered with `response`: counts it, and each limit
    /// that refused it.
    pub fn finished(mut self, response: &Response) {
        let Some(active) = self.active.take() else {
            return;
        };
        let outcome = Outcome::of(response, active.errors);
        if outcome == Outcome::Refused {
            for code in refusal_codes(response) {
                active.metrics.refusal(&code);
            }
        }
        active.end(outcome);
    }
}

impl Drop for RequestMetrics {
    fn drop(&mut self) {
        if let Some(active) = self.active.take() {
            let timed_out = active.deadline.is_some_and(|d| Instant::now() >= d);
            active.end(if timed_out {
                Outcome::Timeout
            } else {
                Outcome::Cancelled
            });
        }
    }
}

impl Active {
    /// Counts the request as ended with `outcome`.
    fn end(self, outcome: Outcome) {
        self.metrics.in_flight.dec();
        let labels = RequestLabels {
            operation_name: self.operation,
            client_name: self.client_name,
            client_version: self.client_version,
            outcome: outcome.as_str(),
        };
        self.metrics
            .request(labels, outcome, self.started.elapsed());
    }
}

/// The error codes of a refusal's body (one per limit it is over).
fn refusal_codes(response: &Response) -> Vec<String> {
    let body = response.body.to_value();
    let codes: Vec<String> = body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_owned))
        .collect();
    if codes.is_empty() {
        return vec!["UNKNOWN".to_owned()];
    }
    codes
}

/// The subgraph metrics of one executor: its graphs' names by index, and
/// their `ok` series, made once.
struct Subgraphs {
    metrics: Arc<Metrics>,
    names: Vec<Arc<str>>,
    ok: Vec<(Counter, Histogram)>,
}

impl FetchObserver for Subgraphs {
    fn fetched(&self, graph: usize, elapsed: Duration, error: Option<&FetchError>) {
        let seconds = elapsed.as_secs_f64();
        let Some(error) = error else {
            if let Some((count, duration)) = self.ok.get(graph) {
                count.inc();
                duration.observe(seconds);
            }
            return;
        };
        let Some(name) = self.names.get(graph) else {
            return;
        };
        let labels = SubgraphLabels {
            subgraph: name.clone(),
            outcome: fetch_outcome(error),
        };
        self.metrics.subgraph_requests.get_or_create(&labels).inc();
        self.metrics
            .subgraph_duration
            .get_or_create(&labels)
            .observe(seconds);
    }
}

/// `goliath_subgraph_requests_total`'s `outcome` for a failed request.
fn fetch_outcome(error: &FetchError) -> &'static str {
    match error {
        FetchError::Timeout => "timeout",
        FetchError::Transport(_) => "transport_error",
        FetchError::Status { .. } => "http_status",
        FetchError::BadJson(_) | FetchError::Malformed(_) => "malformed",
        FetchError::BadUrl(_) => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled() -> Telemetry {
        let mut config = TelemetryConfig::default();
        config.exporters.metrics.prometheus.enabled = true;
        Telemetry::new(&config).unwrap()
    }

    /// The line of `series` in `telemetry`'s text.
    fn line(telemetry: &Telemetry, series: &str) -> String {
        let text = telemetry.render().unwrap();
        text.lines()
            .find(|l| l.rsplit_once(' ').is_some_and(|(name, _)| name == series))
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
            .to_owned()
    }

    #[test]
    fn off_means_nothing_is_kept() {
        let telemetry = Telemetry::new(&TelemetryConfig::default()).unwrap();
        assert!(!telemetry.is_enabled());
        assert!(telemetry.render().is_none());
        assert!(telemetry.fetch_observer(&["a"]).is_none());
        assert!(telemetry.traces().is_none());
        let metrics = telemetry.request_started(&Request::default());
        assert!(metrics.active.is_none());
        telemetry.reloaded(Reload::Config, true);
    }

    #[test]
    fn a_request_dropped_unanswered_is_cancelled_or_timed_out() {
        let telemetry = enabled();
        let request = Request {
            deadline: Some(Instant::now() + Duration::from_secs(60)),
            ..Request::default()
        };
        let mut metrics = telemetry.request_started(&request);
        metrics.operation(Some(&Name::new("Op").unwrap()));
        assert_eq!(
            line(&telemetry, "goliath_requests_in_flight"),
            "goliath_requests_in_flight 1"
        );
        drop(metrics);
        let past = Request {
            deadline: Some(Instant::now()),
            ..Request::default()
        };
        drop(telemetry.request_started(&past));
        let series = |op: &str, outcome: &str| {
            format!("goliath_requests_total{{operation_name=\"{op}\",client_name=\"\",client_version=\"\",outcome=\"{outcome}\"}}")
        };
        assert!(line(&telemetry, &series("Op", "cancelled")).ends_with(" 1"));
        assert!(line(&telemetry, &series("", "timeout")).ends_with(" 1"));
        assert_eq!(
            line(&telemetry, "goliath_requests_in_flight"),
            "goliath_requests_in_flight 0"
        );
    }

    #[test]
    fn reloads_and_loads_are_recorded() {
        let telemetry = enabled();
        telemetry.supergraph_loaded();
        telemetry.reloaded(Reload::Supergraph, true);
        telemetry.reloaded(Reload::Config, false);
        telemetry.reloaded(Reload::Config, false);
        let ok = line(
            &telemetry,
            "goliath_reloads_total{what=\"supergraph\",outcome=\"ok\"}",
        );
        assert!(ok.ends_with(" 1"), "{ok}");
        let failed = line(
            &telemetry,
            "goliath_reloads_total{what=\"config\",outcome=\"error\"}",
        );
        assert!(failed.ends_with(" 2"), "{failed}");
        let loaded = line(&telemetry, "goliath_supergraph_load_timestamp_seconds");
        let seconds: f64 = loaded.rsplit_once(' ').unwrap().1.parse().unwrap();
        assert!(seconds > 1.7e9, "{loaded}");
    }

    #[test]
    fn failed_fetches_are_told_apart() {
        let telemetry = enabled();
        let observer = telemetry.fetch_observer(&["a", "b"]).unwrap();
        observer.fetched(0, Duration::from_millis(2), None);
        observer.fetched(1, Duration::from_millis(2), Some(&FetchError::Timeout));
        let status = FetchError::Status {
            status: "500 Internal Server Error".into(),
            body: None,
        };
        observer.fetched(1, Duration::from_millis(2), Some(&status));
        // An index past the graphs (cannot happen) is ignored.
        observer.fetched(7, Duration::from_millis(2), None);
        for (series, n) in [
            (
                "goliath_subgraph_requests_total{subgraph=\"a\",outcome=\"ok\"}",
                1,
            ),
            (
                "goliath_subgraph_requests_total{subgraph=\"b\",outcome=\"ok\"}",
                0,
            ),
            (
                "goliath_subgraph_requests_total{subgraph=\"b\",outcome=\"timeout\"}",
                1,
            ),
            (
                "goliath_subgraph_requests_total{subgraph=\"b\",outcome=\"http_status\"}",
                1,
            ),
        ] {
            assert!(
                line(&telemetry, series).ends_with(&format!(" {n}")),
                "{series}"
            );
        }
    }
}
