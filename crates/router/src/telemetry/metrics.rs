//! The metrics themselves: one `prometheus-client` [`Registry`] per router
//! and the metric families in it, rendered in the Prometheus text format
//! (version 0.0.4) on demand.
//!
//! Why `prometheus-client` and not the `metrics` crate: a `Registry` is a
//! plain value, so every router (and every test's router, many of them in
//! one test process) counts in its own, while `metrics`' recorder is
//! installed once per process and would mix the counts of every router in
//! it. Each metric is an atomic behind a label lookup; nothing is global.
//!
//! Labels a client chooses (operation name, client name and version) are
//! cut to [`MAX_LABEL_LEN`] bytes, and a family takes at most
//! [`MAX_SERIES`] label sets: past that, new ones are counted under the
//! value [`OVERFLOW`], so a client cannot grow the router's memory or the
//! scrape without bound.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use apollo_compiler::Name;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::Outcome;

/// The longest label value kept from a client's input, in bytes.
pub const MAX_LABEL_LEN: usize = 128;

/// The most label sets one family holds before new ones overflow.
pub const MAX_SERIES: usize = 2_000;

/// The value that stands for every label value past [`MAX_SERIES`].
pub const OVERFLOW: &str = "__overflow__";

/// Latency buckets, in seconds (Apollo Router's defaults).
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.015, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 1.0, 5.0, 10.0,
];

/// The caches whose lookups are counted (`goliath_cache_lookups_total`'s
/// `cache` label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheName {
    /// Parsed and validated documents, by text.
    Document = 0,
    /// Query plans.
    Plan = 1,
    /// Whole answers (`crate::response_cache`).
    Response = 2,
    /// Entity fetches (`crate::response_cache::entities`).
    Entity = 3,
}

/// A label value: a constant, an operation's name (shared with the
/// document, not copied) or a client's text. Compared and hashed as the
/// text, whatever the variant.
#[derive(Clone, Debug)]
pub enum Text {
    /// A constant.
    Static(&'static str),
    /// An operation's name.
    Name(Name),
    /// Text from the request (at most [`MAX_LABEL_LEN`] bytes).
    Owned(Box<str>),
}

impl Text {
    /// The text.
    pub fn as_str(&self) -> &str {
        match self {
            Text::Static(s) => s,
            Text::Name(n) => n.as_str(),
            Text::Owned(s) => s,
        }
    }

    /// `s`, cut to [`MAX_LABEL_LEN`] bytes at a character boundary.
    pub fn owned(s: &str) -> Text {
        let mut end = s.len().min(MAX_LABEL_LEN);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        Text::Owned(s[..end].into())
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl EncodeLabelValue for Text {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

/// `goliath_requests_total`'s labels.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RequestLabels {
    /// The operation's name (empty: anonymous, or not known yet).
    pub operation_name: Text,
    /// `apollographql-client-name` (empty: not sent).
    pub client_name: Text,
    /// `apollographql-client-version` (empty: not sent).
    pub client_version: Text,
    /// How the request ended ([`Outcome::as_str`]).
    pub outcome: &'static str,
}

/// Labels of one `outcome`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// How it ended.
    pub outcome: &'static str,
}

/// Labels of one subgraph request.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct SubgraphLabels {
    /// The subgraph's name.
    pub subgraph: Arc<str>,
    /// How the request ended.
    pub outcome: &'static str,
}

/// Labels of one cache lookup.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct CacheLabels {
    /// `document` or `plan`.
    pub cache: &'static str,
    /// `hit` or `miss`.
    pub result: &'static str,
}

/// Labels of one refusal.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct CodeLabels {
    /// The refusal's error code.
    pub code: Text,
}

/// Labels of one reload.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ReloadLabels {
    /// `supergraph` or `config`.
    pub what: &'static str,
    /// `ok` or `error`.
    pub outcome: &'static str,
}

/// Makes latency histograms with [`BUCKETS`].
#[derive(Clone, Copy, Debug)]
pub struct Buckets;

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(BUCKETS)
    }
}

/// Every metric of one router, and the registry that renders them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// `goliath_requests_total`.
    pub requests: Capped<RequestLabels>,
    /// `goliath_request_duration_seconds`.
    pub request_duration: Family<OutcomeLabels, Histogram, Buckets>,
    /// `goliath_requests_in_flight`.
    pub in_flight: Gauge,
    /// `goliath_refusals_total`.
    pub refusals: Capped<CodeLabels>,
    /// `goliath_cache_lookups_total`.
    pub cache: Family<CacheLabels, Counter>,
    /// `goliath_subgraph_requests_total`.
    pub subgraph_requests: Family<SubgraphLabels, Counter>,
    /// `goliath_subgraph_request_duration_seconds`.
    pub subgraph_duration: Family<SubgraphLabels, Histogram, Buckets>,
    /// `goliath_reloads_total`.
    pub reloads: Family<ReloadLabels, Counter>,
    /// `goliath_supergraph_load_timestamp_seconds`.
    pub supergraph_loaded: Gauge<f64, std::sync::atomic::AtomicU64>,
    /// The cache counters, made once: `[document, plan, response, entity][hit, miss]`.
    cache_counters: [[Counter; 2]; 4],
    /// The request duration histograms, made once, by [`Outcome::index`].
    durations: Vec<Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A registry with every metric, all at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let metrics = Metrics {
            requests: Capped::default(),
            request_duration: Family::new_with_constructor(Buckets),
            in_flight: Gauge::default(),
            refusals: Capped::default(),
            cache: Family::default(),
            subgraph_requests: Family::default(),
            subgraph_duration: Family::new_with_constructor(Buckets),
            reloads: Family::default(),
            supergraph_loaded: Gauge::default(),
            cache_counters: Default::default(),
            durations: vec![],
            registry: Registry::default(),
        };
        registry.register(
            "goliath_requests",
            "GraphQL requests the pipeline answered, by operation name, client name and version, and outcome",
            metrics.requests.family.clone(),
        );
        registry.register(
            "goliath_request_duration_seconds",
            "Time from the pipeline taking a GraphQL request to its answer, by outcome",
            metrics.request_duration.clone(),
        );
        registry.register(
            "goliath_requests_in_flight",
            "GraphQL requests the pipeline is working on",
            metrics.in_flight.clone(),
        );
        registry.register(
            "goliath_refusals",
            "Requests refused by a limit, by the limit's error code",
            metrics.refusals.family.clone(),
        );
        registry.register(
            "goliath_cache_lookups",
            "Document and plan cache lookups, by cache and result (hit or miss)",
            metrics.cache.clone(),
        );
        registry.register(
            "goliath_subgraph_requests",
            "Requests to subgraphs, by subgraph and outcome",
            metrics.subgraph_requests.clone(),
        );
        registry.register(
            "goliath_subgraph_request_duration_seconds",
            "Time from sending a subgraph request to its answer or failure, by subgraph and outcome",
            metrics.subgraph_duration.clone(),
        );
        registry.register(
            "goliath_reloads",
            "Reloads of the supergraph or the config after start-up, by what and outcome",
            metrics.reloads.clone(),
        );
        registry.register(
            "goliath_supergraph_load_timestamp_seconds",
            "When the supergraph in force was loaded, in seconds since the Unix epoch",
            metrics.supergraph_loaded.clone(),
        );
        // The series that always exist, made now: they read 0 from the
        // first scrape, and the hot path finds them without a lookup.
        let cache_counters = ["document", "plan", "response", "entity"].map(|cache| {
            ["hit", "miss"].map(|result| {
                metrics
                    .cache
                    .get_or_create_owned(&CacheLabels { cache, result })
            })
        });
        for what in ["supergraph", "config"] {
            for outcome in ["ok", "error"] {
                let labels = ReloadLabels { what, outcome };
                drop(metrics.reloads.get_or_create(&labels));
            }
        }
        let durations = Outcome::ALL
            .iter()
            .map(|o| {
                metrics
                    .request_duration
                    .get_or_create_owned(&OutcomeLabels {
                        outcome: o.as_str(),
                    })
            })
            .collect();
        Metrics {
            registry,
            cache_counters,
            durations,
            ..metrics
        }
    }

    /// Counts one lookup in `cache`.
    pub fn cache_lookup(&self, cache: CacheName, hit: bool) {
        self.cache_counters[cache as usize][usize::from(!hit)].inc();
    }

    /// Every metric in the Prometheus text format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry);
        text
    }

    /// Counts one request that ended with `outcome` after `elapsed`.
    pub fn request(&self, labels: RequestLabels, outcome: Outcome, elapsed: Duration) {
        self.requests
            .counter(labels, |l| RequestLabels {
                operation_name: Text::Static(OVERFLOW),
                client_name: Text::Static(OVERFLOW),
                client_version: Text::Static(OVERFLOW),
                outcome: l.outcome,
            })
            .inc();
        self.durations[outcome.index()].observe(elapsed.as_secs_f64());
    }

    /// Counts one refusal with error `code`.
    pub fn refusal(&self, code: &str) {
        let labels = CodeLabels {
            code: Text::owned(code),
        };
        self.refusals
            .counter(labels, |_| CodeLabels {
                code: Text::Static(OVERFLOW),
            })
            .inc();
    }
}

/// A counter family whose label sets a client chooses: at most about
/// [`MAX_SERIES`] of them (two requests with new labels at the same moment
/// may both be let in).
#[derive(Debug)]
pub struct Capped<L> {
    /// The family.
    pub family: Family<L, Counter>,
    /// How many label sets it has been given.
    series: AtomicUsize,
}

impl<L> Default for Capped<L>
where
    L: Clone + Hash + Eq,
{
    fn default() -> Self {
        Capped {
            family: Family::default(),
            series: AtomicUsize::new(0),
        }
    }
}

impl<L: Clone + Hash + Eq> Capped<L> {
    /// The counter of `labels`, or of `overflow(labels)` when the family is
    /// full and `labels` is new.
    pub fn counter(&self, labels: L, overflow: impl FnOnce(L) -> L) -> Counter {
        if let Some(counter) = self.family.get(&labels) {
            return counter.clone();
        }
        let labels = if self.series.fetch_add(1, Ordering::Relaxed) >= MAX_SERIES {
            self.series.fetch_sub(1, Ordering::Relaxed);
            overflow(labels)
        } else {
            labels
        };
        self.family.get_or_create_owned(&labels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(operation: &str) -> RequestLabels {
        RequestLabels {
            operation_name: Text::owned(operation),
            client_name: Text::Static(""),
            client_version: Text::Static(""),
            outcome: "ok",
        }
    }

    #[test]
    fn texts_compare_by_value_and_are_cut() {
        assert_eq!(Text::Static("a"), Text::owned("a"));
        let long = "é".repeat(100);
        let cut = Text::owned(&long);
        assert!(cut.as_str().len() <= MAX_LABEL_LEN);
        assert!(long.starts_with(cut.as_str()));
    }

    #[test]
    fn client_chosen_labels_overflow_past_the_cap() {
        let metrics = Metrics::new();
        for i in 0..MAX_SERIES + 10 {
            let op = labels(&format!("Op{i}"));
            metrics.request(op, Outcome::Ok, Duration::from_millis(1));
        }
        // A known label set still counts under its own labels.
        metrics.request(labels("Op0"), Outcome::Ok, Duration::from_millis(1));
        let count = |l: &RequestLabels| metrics.requests.family.get(l).map(|c| c.get());
        assert_eq!(count(&labels("Op0")), Some(2));
        assert_eq!(count(&labels(&format!("Op{MAX_SERIES}"))), None);
        let overflow = RequestLabels {
            operation_name: Text::Static(OVERFLOW),
            client_name: Text::Static(OVERFLOW),
            client_version: Text::Static(OVERFLOW),
            outcome: "ok",
        };
        assert_eq!(count(&overflow), Some(10));
    }

    #[test]
    fn the_text_format_names_every_metric() {
        let metrics = Metrics::new();
        metrics.request(labels("Op"), Outcome::Ok, Duration::from_millis(3));
        let text = metrics.render();
        for name in [
            "goliath_requests_total{operation_name=\"Op\",client_name=\"\",client_version=\"\",outcome=\"ok\"} 1",
            "# TYPE goliath_request_duration_seconds histogram",
            "# TYPE goliath_requests_in_flight gauge",
            "# TYPE goliath_supergraph_load_timestamp_seconds gauge",
        ] {
            assert!(text.contains(name), "{name} not in\n{text}");
        }
    }
}
