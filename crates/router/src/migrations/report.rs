//! The migration report: what `GET /admin/migrations` answers, what the
//! HTML page shows and what `goliath migrate status` prints. Tools read
//! this shape; `docs/migrations.md` documents it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The report: one entry per migrating field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The fields, in `Type.field` order.
    pub fields: Vec<FieldReport>,
}

/// One migrating field's state and comparison figures, summed over every
/// router sharing the store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldReport {
    /// `Type.field`.
    pub field: String,
    /// The old subgraph.
    pub from: String,
    /// The new subgraph.
    pub to: String,
    /// `manual`, `side-by-side`, `canary` or `migrated`.
    pub state: String,
    /// The canary share (0–100), `null` outside canary.
    pub percent: Option<f64>,
    /// Where the state comes from: `supergraph`, `config` or `admin`.
    #[serde(default)]
    pub source: String,
    /// Entity-field pairs compared.
    pub compared: u64,
    /// Pairs with no difference.
    pub matched: u64,
    /// Pairs with a difference that is not noise (errors on one side
    /// included).
    pub mismatched: u64,
    /// Pairs whose differences were all at nondeterministic paths.
    pub noise: u64,
    /// Comparisons where only the old side failed (error or timeout).
    pub errors_old: u64,
    /// Comparisons where only the new side failed (error or timeout).
    pub errors_new: u64,
    /// Comparisons dropped because the shadow queue was full.
    pub dropped: u64,
    /// Requests served by the new subgraph for this field.
    #[serde(default)]
    pub served_new: u64,
    /// Requests served by the old subgraph for this field.
    #[serde(default)]
    pub served_old: u64,
    /// Latency per side, in milliseconds.
    pub latency_ms: Latencies,
    /// Whether the field has had `ready_after` comparisons and no mismatch.
    pub ready: bool,
    /// The comparisons `ready` needs.
    #[serde(default)]
    pub ready_after: u64,
    /// Paths (relative to the field, list indices as `*`) found
    /// nondeterministic on the old side.
    #[serde(default)]
    pub noisy_paths: Vec<String>,
    /// The newest differences, newest last.
    pub samples: Vec<Sample>,
    /// Automatic steps and rollbacks, and operator changes, newest last.
    #[serde(default)]
    pub events: Vec<Event>,
}

/// p50 and p99 for each side.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Latencies {
    /// The old subgraph's side.
    pub old: Percentiles,
    /// The new subgraph's side.
    pub new: Percentiles,
}

/// Two percentiles, in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// The median.
    pub p50: f64,
    /// The 99th percentile.
    pub p99: f64,
}

/// One recorded difference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// The response path of the difference (keys and list indices).
    pub path: Vec<Value>,
    /// The old side's value (`null` when absent).
    pub old: Value,
    /// The new side's value (`null` when absent).
    pub new: Value,
    /// `value` for a difference in the data, `error` when one side failed.
    #[serde(default = "value_kind")]
    pub kind: String,
    /// The operation's name, if it had one.
    pub operation: Option<String>,
    /// When, as an RFC 3339 time.
    pub at: String,
}

fn value_kind() -> String {
    "value".to_owned()
}

/// A state change: an automatic step, a rollback, or an operator's `set`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When, as an RFC 3339 time.
    pub at: String,
    /// The state before.
    pub from_state: String,
    /// The canary share before.
    pub from_percent: Option<f64>,
    /// The state after.
    pub to_state: String,
    /// The canary share after.
    pub to_percent: Option<f64>,
    /// Why: `step: …`, `rollback: …` or `admin`.
    pub reason: String,
}
