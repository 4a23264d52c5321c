//! The pipeline's smaller stages, each a method of [`Core`] that
//! `Core::execute` calls in order: document, operation, limits, cost,
//! route (migrations), plan, variables, and the cache/headers stage's
//! policy.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use apollo_compiler::executable::Operation;
use apollo_compiler::validation::Valid;
use goliath_planner::QueryPlan;
use serde_json::{json, Map, Value};

use super::{cache_hit, document, Body, Core, Document, Outcome, Parsed, Request, Response};
use crate::cache_control::{hints, CachePolicy};
use crate::compute;
use crate::demand_control::Cost;
use crate::limits;
use crate::migrations::{Migrations, Route};
use crate::telemetry::RequestTrace;

impl Core {
    /// The cache/headers stage: the executed answer's `Cache-Control`
    /// (`None` when `cache_control` is off).
    pub(super) fn cache_headers(
        &self,
        document: &Document,
        operation: &Operation,
        has_errors: bool,
        subgraphs: &goliath_executor::cache_control::CacheControl,
    ) -> Option<CachePolicy> {
        let cc = self.cache_control.as_ref()?;
        let is_query = operation.operation_type.is_query();
        let hints =
            (is_query && !has_errors && !self.supergraph.cache_hints.is_empty()).then(|| {
                document.cache_hints(operation.name.as_ref(), || {
                    let default = cc.default_max_age();
                    hints::operation_policy(&self.supergraph, &document.doc, operation, default)
                })
            });
        Some(cc.policy(is_query, has_errors, subgraphs, hints))
    }

    /// The migrations stage: the override labels rolled for this request,
    /// with the pins that route each migrating field it selects, and the
    /// fields to compare (see `crate::migrations`).
    pub(super) fn route(
        &self,
        document: &Arc<Document>,
        operation: &Operation,
        operation_name: Option<&str>,
        headers: &http::HeaderMap,
    ) -> (Vec<String>, Option<Route>) {
        let mut labels = self.active_labels();
        let table = self.migrations.table();
        if table.fields.is_empty() {
            return (labels, None);
        }
        let touched = document.touched(operation_name, table.generation, || {
            Migrations::touched(&table, &self.supergraph, &document.doc, operation)
        });
        if touched.fields.is_empty() {
            return (labels, None);
        }
        let opt_in = headers
            .get(&self.opt_in_header)
            .and_then(|v| v.to_str().ok());
        let route =
            self.migrations
                .route(table, &touched, opt_in, operation.operation_type.is_query());
        labels.extend(route.pins.iter().cloned());
        labels.sort();
        (labels, Some(route))
    }

    /// The document stage: the parsed, measured and validated document for
    /// `query`, from the cache or made off the event loop.
    pub(super) async fn document(&self, query: &str, trace: &RequestTrace) -> Parsed {
        let looking = trace.now();
        if let Some(hit) = self.documents.get(query) {
            self.telemetry.document(true);
            trace.span("parse", looking, || vec![cache_hit(true)]);
            return hit;
        }
        self.telemetry.document(false);
        let (supergraph, limits, text) = (
            self.supergraph.clone(),
            self.limits.clone(),
            query.to_owned(),
        );
        let (parsed, times) = compute::run(move |_| {
            let mut times = document::Times::started();
            let parsed = document::parse_timed(&supergraph, &limits, &text, &mut times);
            (parsed, Some(times))
        })
        .await
        .unwrap_or_else(|_| {
            let error = Response::request_error(
                "internal error while parsing the operation",
                "INTERNAL_SERVER_ERROR",
            );
            (Err(Arc::new(error)), None)
        });
        if let Some(times) = times.filter(|_| trace.is_recording()) {
            let end = times.validating.unwrap_or(times.done);
            trace.span_between("parse", times.started, end, || vec![cache_hit(false)]);
            if let Some(validating) = times.validating {
                trace.span_between("validate", validating, times.done, Vec::new);
            }
        }
        self.documents.insert(query.to_owned(), parsed.clone());
        parsed
    }

    /// The operation stage: the operation the request names, which must
    /// be a query over GET, and not a subscription.
    #[allow(clippy::result_large_err)]
    pub(super) fn operation<'d>(
        &self,
        document: &'d Document,
        req: &Request,
    ) -> Result<&'d Operation, Response> {
        let operation = match document.doc.operations.get(req.operation_name.as_deref()) {
            Ok(op) => op,
            Err(e) => {
                let code = if req.operation_name.is_some() {
                    "GRAPHQL_UNKNOWN_OPERATION_NAME"
                } else {
                    "GRAPHQL_VALIDATION_FAILED"
                };
                return Err(Response::request_error(e.message().to_string(), code));
            }
        };
        if req.is_get && !operation.operation_type.is_query() {
            return Err(Response {
                body: Body::Json(json!({"errors": [{
                    "message": format!("{} operations are not allowed over GET", operation.operation_type.name()),
                    "extensions": {"code": "METHOD_NOT_ALLOWED"}
                }]})),
                outcome: Outcome::MethodNotAllowed,
                cache_control: None,
                edge: None,
            });
        }
        if operation.operation_type.is_subscription() {
            return Err(Response::request_error(
                "subscriptions are not supported",
                "SUBSCRIPTION_NOT_SUPPORTED",
            ));
        }
        Ok(operation)
    }

    /// The limits stage: refuses an operation over `max_depth`,
    /// `max_height`, `max_aliases` or `max_root_fields` (logs it instead
    /// with `warn_only`).
    #[allow(clippy::result_large_err)]
    pub(super) fn check_limits(
        &self,
        document: &Document,
        operation: &Operation,
        req: &Request,
    ) -> Result<(), Response> {
        let Some(measured) = document.measurement(operation.name.as_ref()) else {
            return Ok(());
        };
        let refusals = limits::check_operation(measured, &self.limits);
        if refusals.is_empty() {
            return Ok(());
        }
        let messages: Vec<&str> = refusals.iter().map(|r| r.message.as_str()).collect();
        if self.limits.warn_only {
            tracing::warn!(
                operation_name = ?req.operation_name,
                "operation over its limits (warn_only): {}",
                messages.join("; ")
            );
            return Ok(());
        }
        tracing::debug!(operation_name = ?req.operation_name, "operation refused: {}", messages.join("; "));
        let errors: Vec<Value> = refusals.iter().map(limits::Refusal::to_error).collect();
        Err(Response {
            body: json!({ "errors": errors }).into(),
            outcome: Outcome::Refused,
            cache_control: None,
            edge: None,
        })
    }

    /// The cost stage: the operation's estimated cost (`None` when demand
    /// control is off), or its refusal in `enforce` mode.
    #[allow(clippy::result_large_err)]
    pub(super) fn check_cost(
        &self,
        doc: &apollo_compiler::ExecutableDocument,
        operation: &Operation,
        variables: &Map<String, Value>,
    ) -> Result<Option<Cost>, Response> {
        let Some(dc) = &self.demand_control else {
            return Ok(None);
        };
        match dc.check(&self.supergraph, doc, operation, variables) {
            Ok(cost) => Ok(Some(cost)),
            Err(refusal) => Err(Response {
                body: dc.refusal_body(&refusal).into(),
                outcome: Outcome::Refused,
                cache_control: None,
                edge: None,
            }),
        }
    }

    /// The override labels active for one request: config's named labels,
    /// and each `percent(N)` label rolled once.
    pub(super) fn active_labels(&self) -> Vec<String> {
        let mut labels: BTreeSet<String> = self.config_labels.iter().cloned().collect();
        for (label, percent) in &self.percent_labels {
            if fastrand::f64() * 100.0 < *percent {
                labels.insert(label.clone());
            }
        }
        labels.into_iter().collect()
    }

    /// The plan stage: plans `operation_name` of `document` with these
    /// labels (cached in the document; planned off the event loop on a
    /// miss, and stopped if the request gives up meanwhile).
    pub(super) async fn plan(
        &self,
        document: &Arc<Document>,
        operation_name: Option<&str>,
        labels: &[String],
        trace: &RequestTrace,
    ) -> Result<Arc<QueryPlan>, String> {
        let planning = trace.now();
        if let Some(plan) = document.cached_plan(operation_name, labels) {
            self.telemetry.plan(true);
            trace.span("plan", planning, || vec![cache_hit(true)]);
            return plan;
        }
        self.telemetry.plan(false);
        let labels = labels.to_vec();
        let (supergraph, job_document, name) = (
            self.supergraph.clone(),
            document.clone(),
            operation_name.map(str::to_owned),
        );
        let active: HashSet<String> = labels.iter().cloned().collect();
        let job = compute::run(move |cancel| {
            let document = &job_document;
            let operation = document
                .doc
                .operations
                .get(name.as_deref())
                .map_err(|e| e.message().to_string())?;
            let cancelled = || cancel.is_cancelled();
            let plan = goliath_planner::plan_cancellable(
                &supergraph,
                &document.doc,
                operation,
                &active,
                &cancelled,
            );
            if cancel.is_cancelled() {
                // Nobody waits for it, and it may be cut short: not kept.
                return Err("cancelled".to_owned());
            }
            let plan = plan.map(Arc::new).map_err(|e| e.message);
            document.cache_plan(name.as_deref(), labels, plan.clone());
            plan
        });
        let plan = job
            .await
            .unwrap_or_else(|_| Err("internal error while planning".to_owned()));
        trace.span("plan", planning, || vec![cache_hit(false)]);
        plan
    }

    /// Coerces the request's variables for `operation`; `None` when there
    /// are none (the common case costs nothing).
    #[allow(clippy::result_large_err)]
    pub(super) fn coerce(
        &self,
        operation: &Operation,
        variables: Map<String, Value>,
    ) -> Result<Option<Valid<apollo_compiler::response::JsonMap>>, Response> {
        if variables.is_empty() && operation.variables.is_empty() {
            return Ok(None);
        }
        let input: apollo_compiler::response::JsonMap =
            serde_json::from_value(Value::Object(variables))
                .map_err(|e| Response::request_error(e.to_string(), "BAD_USER_INPUT"))?;
        self.coerce_all(operation, &input).map(Some)
    }

    #[allow(clippy::result_large_err)]
    pub(super) fn coerce_all(
        &self,
        operation: &Operation,
        input: &apollo_compiler::response::JsonMap,
    ) -> Result<Valid<apollo_compiler::response::JsonMap>, Response> {
        apollo_compiler::request::coerce_variable_values(
            &self.supergraph.api_schema,
            operation,
            input,
        )
        .map_err(|e| Response::request_error(e.message().to_string(), "BAD_USER_INPUT"))
    }
}
