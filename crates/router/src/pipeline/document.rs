//! The parse/validate stage: a document's text becomes a validated
//! [`Document`], measured for the operation limits, or the error response
//! that refuses it. Documents are cached by text, with the plans made for
//! them.

use crate::migrations::Touched;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use apollo_compiler::executable::ExecutableDocument;
use apollo_compiler::parser::Parser;
use apollo_compiler::validation::Valid;
use apollo_compiler::Name;
use goliath_planner::QueryPlan;
use goliath_supergraph::Supergraph;
use serde_json::{json, Value};

use crate::cache_control::HintPolicy;
use crate::config::Limits;
use crate::limits::{self, Measurement, Measurer, Refusal};
use crate::pipeline::{Outcome, Response};

/// A parsed and validated document, or the error response for it.
pub type Parsed = Result<Arc<Document>, Arc<Response>>;

/// A valid document, what each of its operations measures, and the plans
/// made for it by operation name and active override labels (usually one:
/// looked up without allocating).
pub struct Document {
    /// The validated document.
    pub doc: Valid<ExecutableDocument>,
    /// Each operation's measurement, by operation name.
    measurements: Vec<(Option<Name>, Measurement)>,
    plans: Mutex<Vec<CachedPlan>>,
    /// What each operation selects of the migrating fields, by operation
    /// name and migration table generation.
    touched: Mutex<Vec<TouchedMemo>>,
    /// What each operation selects, for field usage (`crate::usage`), by
    /// operation name: one cell per operation, set on its first execution
    /// and read without a lock after that.
    usage: Vec<(Option<Name>, OnceLock<Arc<crate::usage::Selected>>)>,
    /// What the `@cacheControl` hints allow each operation
    /// (`crate::cache_control::hints`), by operation name: set on its
    /// first cacheable answer.
    cache_hints: Vec<(Option<Name>, OnceLock<HintPolicy>)>,
}

/// One plan of a document: operation name, labels, and the plan or why
/// planning failed.
/// What one operation selects of the migrating fields: operation name,
/// migration table generation, and the answer.
type TouchedMemo = (Option<String>, u64, Arc<Touched>);

type CachedPlan = (Option<String>, Vec<String>, Result<Arc<QueryPlan>, String>);

/// How many plans one document keeps (operations × label combinations).
const PLANS_PER_DOCUMENT: usize = 64;

/// The document cache's budget, in weight units (about bytes).
const CACHE_BUDGET: u64 = 256 * 1024 * 1024;

/// A document cache whose entries weigh what their text does, times a
/// factor for the parsed forms, so that many large documents (each up to
/// `max_body_bytes`) cannot take more than about [`CACHE_BUDGET`] bytes
/// between them.
pub fn cache() -> moka::sync::Cache<String, Parsed> {
    moka::sync::Cache::builder()
        .max_capacity(CACHE_BUDGET)
        .weigher(|text: &String, _: &Parsed| {
            let weight = text.len().saturating_mul(16).saturating_add(4096);
            u32::try_from(weight).unwrap_or(u32::MAX)
        })
        .build()
}

impl Document {
    /// What the operation named `name` measures.
    pub fn measurement(&self, name: Option<&Name>) -> Option<&Measurement> {
        self.measurements
            .iter()
            .find(|(n, _)| n.as_ref() == name)
            .map(|(_, m)| m)
    }

    /// The cached plan for this operation and labels, if any.
    pub fn cached_plan(
        &self,
        operation_name: Option<&str>,
        labels: &[String],
    ) -> Option<Result<Arc<QueryPlan>, String>> {
        let plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        plans
            .iter()
            .find(|(op, l, _)| op.as_deref() == operation_name && l == labels)
            .map(|(_, _, plan)| plan.clone())
    }

    /// What `operation_name` selects of the migrating fields of the table
    /// of `generation`, made by `make` on the first ask.
    pub fn touched(
        &self,
        operation_name: Option<&str>,
        generation: u64,
        make: impl FnOnce() -> Touched,
    ) -> Arc<Touched> {
        let mut memo = self.touched.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, _, t)) = memo
            .iter()
            .find(|(op, g, _)| op.as_deref() == operation_name && *g == generation)
        {
            return t.clone();
        }
        let t = Arc::new(make());
        memo.retain(|(_, g, _)| *g == generation);
        if memo.len() >= PLANS_PER_DOCUMENT {
            memo.remove(0);
        }
        memo.push((operation_name.map(str::to_owned), generation, t.clone()));
        t
    }

    /// What the operation named `name` selects, for field usage, made by
    /// `make` on the first ask.
    pub fn usage(
        &self,
        name: Option<&Name>,
        make: impl FnOnce() -> crate::usage::Selected,
    ) -> Arc<crate::usage::Selected> {
        match self.usage.iter().find(|(n, _)| n.as_ref() == name) {
            Some((_, cell)) => cell.get_or_init(|| Arc::new(make())).clone(),
            // Not an operation of this document (cannot happen: the
            // pipeline found it there).
            None => Arc::new(make()),
        }
    }

    /// What the `@cacheControl` hints allow the operation named `name`,
    /// made by `make` on the first ask.
    pub fn cache_hints(
        &self,
        name: Option<&Name>,
        make: impl FnOnce() -> HintPolicy,
    ) -> HintPolicy {
        match self.cache_hints.iter().find(|(n, _)| n.as_ref() == name) {
            Some((_, cell)) => *cell.get_or_init(make),
            None => make(),
        }
    }

    /// Remembers a plan (the oldest goes when the document has many).
    pub fn cache_plan(
        &self,
        operation_name: Option<&str>,
        labels: Vec<String>,
        plan: Result<Arc<QueryPlan>, String>,
    ) {
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        if plans.len() >= PLANS_PER_DOCUMENT {
            drop(plans.remove(0));
        }
        plans.push((operation_name.map(str::to_owned), labels, plan));
    }
}

/// When a document's stages ran: for its trace's `parse` and `validate`
/// spans.
#[derive(Debug, Clone, Copy)]
pub struct Times {
    /// Parsing started.
    pub started: SystemTime,
    /// Validation started (`None`: parsing or measuring refused it).
    pub validating: Option<SystemTime>,
    /// Done.
    pub done: SystemTime,
}

impl Times {
    /// Starting now.
    pub fn started() -> Times {
        let now = SystemTime::now();
        Times {
            started: now,
            validating: None,
            done: now,
        }
    }
}

/// [`parse`], noting in `times` when validation started and when it was
/// done.
pub fn parse_timed(
    supergraph: &Supergraph,
    limits: &Limits,
    query: &str,
    times: &mut Times,
) -> Parsed {
    let parsed = parse_noting(supergraph, limits, query, &mut times.validating);
    times.done = SystemTime::now();
    parsed
}

/// Parses `query`, measures it and validates it against the API schema.
///
/// In this order, so that each step only sees what the one before
/// bounded: the parser stops at `parser_max_tokens` and
/// `parser_max_recursion`; the document is built (no validation yet) and
/// every operation and fragment measured with fragments counted, never
/// expanded; the safety limits refuse what is too large to validate or
/// plan; only then is the document validated.
pub fn parse(supergraph: &Supergraph, limits: &Limits, query: &str) -> Parsed {
    parse_noting(supergraph, limits, query, &mut None)
}

/// [`parse`], setting `validating` to the time validation starts.
fn parse_noting(
    supergraph: &Supergraph,
    limits: &Limits,
    query: &str,
    validating: &mut Option<SystemTime>,
) -> Parsed {
    let schema = &supergraph.api_schema;
    let mut parser = Parser::new()
        .recursion_limit(limits.parser_max_recursion)
        .token_limit(limits.parser_max_tokens);
    let ast = match parser.parse_ast(query, "query.graphql") {
        Ok(ast) => ast,
        Err(e) => {
            let reached = (parser.tokens_reached(), parser.recursion_reached());
            if let Some(refusal) = limits::parser_refusal(reached.0, reached.1, limits) {
                return Err(refused(&refusal));
            }
            return Err(request_error(&e.errors, "GRAPHQL_PARSE_FAILED"));
        }
    };
    let doc = match ast.to_executable(schema) {
        Ok(doc) => doc,
        Err(e) => return Err(request_error(&e.errors, "GRAPHQL_VALIDATION_FAILED")),
    };
    let mut measurer = Measurer::new(&doc, limits::MAX_NESTING);
    // Fragments first: validation walks every one, used or not.
    for fragment in doc.fragments.values() {
        let m = measurer.measure(&fragment.selection_set);
        if let Some(refusal) = limits::check_safety(&m, limits) {
            return Err(refused(&refusal));
        }
    }
    let mut measurements = Vec::with_capacity(doc.operations.len());
    for operation in doc.operations.iter() {
        let m = measurer.measure(&operation.selection_set);
        if let Some(refusal) = limits::check_safety(&m, limits) {
            return Err(refused(&refusal));
        }
        measurements.push((operation.name.clone(), m));
    }
    let usage = measurements
        .iter()
        .map(|(name, _)| (name.clone(), OnceLock::new()))
        .collect();
    let cache_hints = measurements
        .iter()
        .map(|(name, _)| (name.clone(), OnceLock::new()))
        .collect();
    *validating = Some(SystemTime::now());
    match doc.validate(schema) {
        Ok(doc) => Ok(Arc::new(Document {
            doc,
            measurements,
            plans: Mutex::new(vec![]),
            touched: Mutex::new(vec![]),
            usage,
            cache_hints,
        })),
        Err(e) => Err(request_error(&e.errors, "GRAPHQL_VALIDATION_FAILED")),
    }
}

/// The response for a document over a limit.
fn refused(refusal: &Refusal) -> Arc<Response> {
    Arc::new(Response {
        body: json!({ "errors": [refusal.to_error()] }).into(),
        outcome: Outcome::Refused,
        cache_control: None,
        edge: None,
    })
}

/// The response for parse or validation diagnostics, all with `code`.
fn request_error(
    diagnostics: &apollo_compiler::validation::DiagnosticList,
    code: &str,
) -> Arc<Response> {
    Arc::new(Response {
        body: errors_body(diagnostics, code).into(),
        outcome: Outcome::RequestError,
        cache_control: None,
        edge: None,
    })
}

/// The error body for parse or validation diagnostics, all with `code`.
fn errors_body(diagnostics: &apollo_compiler::validation::DiagnosticList, code: &str) -> Value {
    let errors: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let gql = d.unstable_to_json_compat();
            let mut v = serde_json::to_value(&gql)
                .unwrap_or_else(|_| json!({"message": d.error.to_string()}));
            v["extensions"] = json!({"code": code});
            v
        })
        .collect();
    json!({ "errors": errors })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_is_bounded_by_the_size_of_its_documents() {
        let cache = cache();
        let refused: Parsed = Err(Arc::new(Response::request_error("x", "X")));
        // 200 documents of 1 MB: 3.2 GB by weight, far over the budget.
        for i in 0..200 {
            let text = format!("{i}{}", " ".repeat(1 << 20));
            cache.insert(text, refused.clone());
        }
        cache.run_pending_tasks();
        assert!(
            cache.weighted_size() <= CACHE_BUDGET,
            "{}",
            cache.weighted_size()
        );
        assert!(cache.entry_count() < 20, "{}", cache.entry_count());
        // Small documents: thousands fit.
        let cache = super::cache();
        for i in 0..5_000 {
            cache.insert(format!("{{ f{i} }}"), refused.clone());
        }
        cache.run_pending_tasks();
        assert_eq!(cache.entry_count(), 5_000);
    }
}
