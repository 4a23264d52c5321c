//! The pipeline's synchronous stages, for the fuzz targets in `fuzz/`
//! (see `docs/fuzzing.md`). Not a stable API.

use std::collections::HashSet;

use apollo_compiler::schema::Implementers;
use apollo_compiler::Name;
use goliath_planner::QueryPlan;
use goliath_supergraph::Supergraph;

use super::introspection::Introspection;
use super::{document, Response};
use crate::config::Limits;
use crate::limits;

/// A loaded supergraph with what the stages need, as [`super::Pipeline`]
/// keeps them.
pub struct Stages {
    supergraph: Supergraph,
    implementers: apollo_compiler::collections::HashMap<Name, Implementers>,
    limits: Limits,
}

/// How far one document went.
#[derive(Debug)]
pub enum Prepared {
    /// Refused or rejected by the document stage (parse, safety limits,
    /// validation): the error response.
    Rejected(Response),
    /// Valid: what each operation came to.
    Operations(Vec<OperationOutcome>),
}

/// What one operation of a valid document came to.
#[derive(Debug)]
pub enum OperationOutcome {
    /// Over an operation limit (`max_depth`, ...): the error codes.
    Refused(Vec<&'static str>),
    /// Introspection or a subscription refused it.
    RequestError(Response),
    /// Planned, or why planning failed.
    Planned(Result<QueryPlan, String>),
}

impl Stages {
    /// Loads `sdl` with the default limits (clamped as `Pipeline::new`
    /// clamps them).
    pub fn new(sdl: &str) -> Result<Stages, String> {
        Self::with_limits(sdl, Limits::default())
    }

    /// Loads `sdl` with these limits.
    pub fn with_limits(sdl: &str, mut limits: Limits) -> Result<Stages, String> {
        let supergraph = Supergraph::parse(sdl).map_err(|e| e.to_string())?;
        limits.parser_max_recursion = limits
            .parser_max_recursion
            .min(crate::config::MAX_PARSER_RECURSION);
        limits.max_depth = limits.max_depth.min(crate::config::MAX_DEPTH_LIMIT);
        Ok(Stages {
            implementers: supergraph.api_schema.implementers_map(),
            supergraph,
            limits,
        })
    }

    /// The loaded supergraph.
    pub fn supergraph(&self) -> &Supergraph {
        &self.supergraph
    }

    /// Runs the synchronous stages on `query` as the pipeline does: parse,
    /// measure and validate; then, for each operation: the operation
    /// limits, introspection (enabled), and planning with `labels`.
    pub fn prepare(&self, query: &str, labels: &HashSet<String>) -> Prepared {
        let document = match document::parse(&self.supergraph, &self.limits, query) {
            Ok(document) => document,
            Err(response) => return Prepared::Rejected((*response).clone()),
        };
        let doc = &document.doc;
        let introspection = Introspection {
            schema: &self.supergraph.api_schema,
            implementers: &self.implementers,
            enabled: true,
        };
        let mut outcomes = Vec::with_capacity(doc.operations.len());
        for operation in doc.operations.iter() {
            if let Some(measured) = document.measurement(operation.name.as_ref()) {
                let refusals = limits::check_operation(measured, &self.limits);
                if !refusals.is_empty() {
                    outcomes.push(OperationOutcome::Refused(
                        refusals.iter().map(|r| r.code).collect(),
                    ));
                    continue;
                }
            }
            if operation.operation_type.is_subscription() {
                outcomes.push(OperationOutcome::RequestError(Response::request_error(
                    "subscriptions are not supported",
                    "SUBSCRIPTION_NOT_SUPPORTED",
                )));
                continue;
            }
            let answers = introspection.answer(doc, operation, || {
                apollo_compiler::request::coerce_variable_values(
                    &self.supergraph.api_schema,
                    operation,
                    &Default::default(),
                )
                .map_err(|e| Response::request_error(e.message().to_string(), "BAD_USER_INPUT"))
            });
            if let Err(response) = answers {
                outcomes.push(OperationOutcome::RequestError(response));
                continue;
            }
            let plan = goliath_planner::plan(&self.supergraph, doc, operation, labels)
                .map_err(|e| e.message);
            outcomes.push(OperationOutcome::Planned(plan));
        }
        Prepared::Operations(outcomes)
    }
}
