//! The goliath query planner.
//!
//! A pure library: an operation and a supergraph (and the active
//! progressive-override labels) go in, a [`QueryPlan`] comes out. No I/O.
//! See `build/mod.rs` for the algorithm.

pub mod build;
pub mod plan;
pub mod selection;
pub mod shadow;

use std::collections::HashSet;

use apollo_compiler::executable::{ExecutableDocument, Operation};
use goliath_supergraph::Supergraph;

pub use plan::{ConditionNode, FetchNode, FlattenNode, PathElement, PlanNode, QueryPlan};

/// Why an operation could not be planned.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct PlanError {
    /// What went wrong.
    pub message: String,
}

impl PlanError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        PlanError {
            message: message.into(),
        }
    }
}

/// Plans `operation` (from `doc`, valid against the API schema) over
/// `supergraph`. `labels` are the progressive-override labels switched on
/// for this request, and pins: a label `Type.field=subgraph` plans the
/// client's `Type.field` to `subgraph` only (keys and requirements may
/// still come from anywhere). The router pins migrating fields this way.
pub fn plan(
    supergraph: &Supergraph,
    doc: &ExecutableDocument,
    operation: &Operation,
    labels: &HashSet<String>,
) -> Result<QueryPlan, PlanError> {
    build::search::plan(supergraph, doc, operation, labels, &|| false)
}

/// [`plan`], stopping with an error as soon as `cancelled` returns true
/// (it is asked before each field is planned): the caller's way to end
/// planning for a request that has given up.
pub fn plan_cancellable(
    supergraph: &Supergraph,
    doc: &ExecutableDocument,
    operation: &Operation,
    labels: &HashSet<String>,
    cancelled: &dyn Fn() -> bool,
) -> Result<QueryPlan, PlanError> {
    build::search::plan(supergraph, doc, operation, labels, cancelled)
}
