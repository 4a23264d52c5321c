//! The request pipeline: one GraphQL request in, one GraphQL response out.
//!
//! The HTTP layer (`http.rs`) turns HTTP requests into [`Request`]s and
//! [`Response`]s back into HTTP responses; everything GraphQL happens here,
//! in this order: parse and validate (cached per document), pick the
//! operation, coerce variables, answer introspection, plan (cached per
//! document, operation and active override labels), execute, project.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apollo_compiler::executable::ExecutableDocument;
use apollo_compiler::parser::Parser;
use apollo_compiler::schema::Implementers;
use apollo_compiler::validation::Valid;
use apollo_compiler::Name;
use bytes::Bytes;
use goliath_executor::client::SubgraphClient;
use goliath_executor::project::Projection;
use goliath_executor::{Executor, SubgraphEndpoint};
use goliath_planner::QueryPlan;
use goliath_supergraph::Supergraph;
use moka::sync::Cache;
use serde_json::{json, Map, Value};

use crate::config::Config;

/// A GraphQL request as the HTTP layer decoded it (GraphQL-over-HTTP
/// `query`, `operationName`, `variables`, `extensions`).
#[derive(Debug, Default, Clone)]
pub struct Request {
    /// The document text. `None` when the request had no `query`.
    pub query: Option<String>,
    /// The operation to run when the document has several.
    pub operation_name: Option<String>,
    /// Variable values, as JSON.
    pub variables: Map<String, Value>,
    /// Request extensions (persisted queries and so on).
    pub extensions: Map<String, Value>,
    /// True for `GET`: only queries may run (a mutation gets 405).
    pub is_get: bool,
}

/// What the pipeline answers: a GraphQL response body and how it went.
#[derive(Debug, Clone)]
pub struct Response {
    /// The response body: an object with `data`, `errors`, `extensions`.
    pub body: Body,
    /// How the request ended, which decides the HTTP status code.
    pub outcome: Outcome,
}

/// A response body: a JSON value, or JSON text already written (executed
/// operations write their `data` straight to bytes).
#[derive(Debug, Clone)]
pub enum Body {
    /// A JSON value, serialized when sent.
    Json(Value),
    /// Serialized JSON.
    Raw(Bytes),
}

impl Body {
    /// The body as JSON text.
    pub fn to_bytes(&self) -> Bytes {
        match self {
            // Serializing a Value cannot fail (its map keys are strings).
            Body::Json(v) => Bytes::from(serde_json::to_vec(v).unwrap_or_default()),
            Body::Raw(b) => b.clone(),
        }
    }

    /// The body as a JSON value (parsed again when it is raw).
    pub fn to_value(&self) -> Value {
        match self {
            Body::Json(v) => v.clone(),
            Body::Raw(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
        }
    }
}

/// Compares the JSON the body holds (handy in tests).
impl PartialEq<Value> for Body {
    fn eq(&self, other: &Value) -> bool {
        self.to_value() == *other
    }
}

impl From<Value> for Body {
    fn from(v: Value) -> Self {
        Body::Json(v)
    }
}

/// How a request ended, for choosing the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Execution started: the body has a `data` key (possibly null).
    Executed,
    /// A request error before execution (parse, validation, variable
    /// coercion, unknown operation): the body has no `data` key.
    RequestError,
    /// A mutation (or subscription) was sent over GET.
    MethodNotAllowed,
}

impl Response {
    fn request_error(message: impl Into<String>, code: &str) -> Self {
        Response {
            body: json!({"errors": [{"message": message.into(), "extensions": {"code": code}}]})
                .into(),
            outcome: Outcome::RequestError,
        }
    }
}

/// A parsed and validated document, or the error response for it.
type Parsed = Result<Arc<Document>, Arc<Value>>;

/// A valid document and the plans made for it, by operation name and
/// active override labels (usually one: looked up without allocating).
pub struct Document {
    doc: Valid<ExecutableDocument>,
    plans: Mutex<Vec<CachedPlan>>,
}

/// One plan of a document: operation name, labels, and the plan or why
/// planning failed.
type CachedPlan = (Option<String>, Vec<String>, Result<Arc<QueryPlan>, String>);

/// How many plans one document keeps (operations × label combinations).
const PLANS_PER_DOCUMENT: usize = 64;

/// The request pipeline for one loaded supergraph.
pub struct Pipeline {
    supergraph: Arc<Supergraph>,
    executor: Executor,
    implementers: apollo_compiler::collections::HashMap<Name, Implementers>,
    introspection: bool,
    max_depth: usize,
    /// Named labels switched on by config.
    config_labels: HashSet<String>,
    /// `percent(N)` labels in the supergraph, with N.
    percent_labels: Vec<(String, f64)>,
    /// Documents by text, each with its plans.
    documents: Cache<String, Parsed>,
}

impl Pipeline {
    /// Loads `sdl` as a supergraph and prepares to serve it with `config`.
    pub fn new(sdl: &str, config: &Config) -> Result<Pipeline, String> {
        let supergraph = Supergraph::parse(sdl).map_err(|e| e.to_string())?;
        let client = SubgraphClient::new();
        let endpoints = supergraph
            .graphs
            .iter()
            .map(|g| SubgraphEndpoint {
                name: g.name.clone(),
                url: config.subgraph_url(&g.name).unwrap_or(&g.url).to_owned(),
                timeout: config.subgraph_timeout(&g.name),
                include_errors: config.include_subgraph_errors.includes(&g.name),
                max_response_bytes: config.subgraph_max_response_bytes(&g.name),
            })
            .collect();
        let mut percent_labels: Vec<(String, f64)> = vec![];
        for ty in supergraph.types.values() {
            for f in ty.fields.values() {
                for fig in &f.graphs {
                    if let Some(label) = &fig.override_label {
                        if let Some(n) = parse_percent(label) {
                            if !percent_labels.iter().any(|(l, _)| l == label) {
                                percent_labels.push((label.clone(), n));
                            }
                        }
                    }
                }
            }
        }
        Ok(Pipeline {
            implementers: supergraph.api_schema.implementers_map(),
            supergraph: Arc::new(supergraph),
            executor: Executor::new(client, endpoints),
            introspection: config.introspection,
            // Validated configs never exceed the cap; a config built in
            // code might, and the parser's recursion must stay bounded.
            max_depth: config.limits.max_depth.min(crate::config::MAX_DEPTH_LIMIT),
            config_labels: config.override_labels.iter().cloned().collect(),
            percent_labels,
            documents: Cache::builder().max_capacity(4096).build(),
        })
    }

    /// The loaded supergraph.
    pub fn supergraph(&self) -> &Supergraph {
        &self.supergraph
    }

    /// Parses and validates `query` against the API schema (cached).
    fn parse(&self, query: &str) -> Parsed {
        if let Some(hit) = self.documents.get(query) {
            return hit;
        }
        let parsed = self.parse_uncached(query);
        self.documents.insert(query.to_owned(), parsed.clone());
        parsed
    }

    fn parse_uncached(&self, query: &str) -> Parsed {
        let schema = &self.supergraph.api_schema;
        let ast = Parser::new()
            .recursion_limit(self.max_depth.max(1))
            .token_limit(100_000)
            .parse_ast(query, "query.graphql");
        let ast = match ast {
            Ok(ast) => ast,
            Err(e) => return Err(Arc::new(errors_body(&e.errors, "GRAPHQL_PARSE_FAILED"))),
        };
        match ast.to_executable_validate(schema) {
            Ok(doc) => Ok(Arc::new(Document {
                doc,
                plans: Mutex::new(vec![]),
            })),
            Err(e) => Err(Arc::new(errors_body(
                &e.errors,
                "GRAPHQL_VALIDATION_FAILED",
            ))),
        }
    }

    /// The override labels active for one request: config's named labels,
    /// and each `percent(N)` label rolled once.
    fn active_labels(&self) -> Vec<String> {
        let mut labels: BTreeSet<String> = self.config_labels.iter().cloned().collect();
        for (label, percent) in &self.percent_labels {
            if fastrand::f64() * 100.0 < *percent {
                labels.insert(label.clone());
            }
        }
        labels.into_iter().collect()
    }

    /// Plans `operation_name` of `document` with these labels (cached in
    /// the document).
    pub fn plan(
        &self,
        document: &Document,
        operation_name: Option<&str>,
        labels: Vec<String>,
    ) -> Result<Arc<QueryPlan>, String> {
        {
            let plans = document.plans.lock().unwrap_or_else(|e| e.into_inner());
            let hit = plans
                .iter()
                .find(|(op, l, _)| op.as_deref() == operation_name && *l == labels);
            if let Some((_, _, plan)) = hit {
                return plan.clone();
            }
        }
        let operation = document
            .doc
            .operations
            .get(operation_name)
            .map_err(|e| e.message().to_string())?;
        let active: HashSet<String> = labels.iter().cloned().collect();
        let plan = goliath_planner::plan(&self.supergraph, &document.doc, operation, &active)
            .map(Arc::new)
            .map_err(|e| e.message);
        let mut plans = document.plans.lock().unwrap_or_else(|e| e.into_inner());
        if plans.len() >= PLANS_PER_DOCUMENT {
            drop(plans.remove(0));
        }
        plans.push((operation_name.map(str::to_owned), labels, plan.clone()));
        plan
    }

    /// Coerces the request's variables for `operation`; `None` when there
    /// are none (the common case costs nothing).
    #[allow(clippy::result_large_err)]
    fn coerce(
        &self,
        operation: &apollo_compiler::executable::Operation,
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
    fn coerce_all(
        &self,
        operation: &apollo_compiler::executable::Operation,
        input: &apollo_compiler::response::JsonMap,
    ) -> Result<Valid<apollo_compiler::response::JsonMap>, Response> {
        apollo_compiler::request::coerce_variable_values(
            &self.supergraph.api_schema,
            operation,
            input,
        )
        .map_err(|e| Response::request_error(e.message().to_string(), "BAD_USER_INPUT"))
    }

    /// Runs one GraphQL request to completion.
    pub async fn execute(&self, req: Request) -> Response {
        let Some(query) = req.query.as_deref() else {
            if req.extensions.contains_key("persistedQuery") {
                return Response::request_error(
                    "PersistedQueryNotSupported",
                    "PERSISTED_QUERY_NOT_SUPPORTED",
                );
            }
            return Response::request_error("Must provide query string.", "MISSING_QUERY_STRING");
        };
        let document = match self.parse(query) {
            Ok(document) => document,
            Err(body) => {
                return Response {
                    body: Body::Json((*body).clone()),
                    outcome: Outcome::RequestError,
                }
            }
        };
        let doc = &document.doc;
        let operation = match doc.operations.get(req.operation_name.as_deref()) {
            Ok(op) => op,
            Err(e) => {
                let code = if req.operation_name.is_some() {
                    "GRAPHQL_UNKNOWN_OPERATION_NAME"
                } else {
                    "GRAPHQL_VALIDATION_FAILED"
                };
                return Response::request_error(e.message().to_string(), code);
            }
        };
        if req.is_get && !operation.operation_type.is_query() {
            return Response {
                body: Body::Json(json!({"errors": [{
                    "message": format!("{} operations are not allowed over GET", operation.operation_type.name()),
                    "extensions": {"code": "METHOD_NOT_ALLOWED"}
                }]})),
                outcome: Outcome::MethodNotAllowed,
            };
        }
        if operation.operation_type.is_subscription() {
            return Response::request_error(
                "subscriptions are not supported",
                "SUBSCRIPTION_NOT_SUPPORTED",
            );
        }
        let schema = &self.supergraph.api_schema;
        let coerced = match self.coerce(operation, req.variables) {
            Ok(c) => c,
            Err(response) => return response,
        };
        let variables: Map<String, Value> = match &coerced {
            None => Map::new(),
            Some(c) => match serde_json::to_value(&**c) {
                Ok(Value::Object(m)) => m,
                _ => Map::new(),
            },
        };

        // Introspection meta-fields are answered here, from the API schema.
        let mut verbatim: Vec<(String, Vec<u8>)> = vec![];
        let mut errors: Vec<Value> = vec![];
        let has_introspection = operation
            .root_fields(doc)
            .any(|f| f.name == "__schema" || f.name == "__type");
        if has_introspection {
            if !self.introspection {
                return Response::request_error(
                    "GraphQL introspection is not allowed, but the query contained __schema or __type",
                    "INTROSPECTION_DISABLED",
                );
            }
            if let Err(e) = apollo_compiler::introspection::check_max_depth(doc, operation) {
                return Response::request_error(
                    e.message().to_string(),
                    "GRAPHQL_VALIDATION_FAILED",
                );
            }
            let coerced = match coerced {
                Some(c) => c,
                None => match self.coerce_all(operation, &Default::default()) {
                    Ok(c) => c,
                    Err(response) => return response,
                },
            };
            match apollo_compiler::introspection::partial_execute(
                schema,
                &self.implementers,
                doc,
                operation,
                &coerced,
            ) {
                Ok(resp) => {
                    // Kept as JSON text: apollo-compiler's maps keep the
                    // order the client asked for.
                    for (key, value) in resp.data.iter().flatten() {
                        if let Ok(text) = serde_json::to_vec(value) {
                            verbatim.push((key.as_str().to_owned(), text));
                        }
                    }
                    for e in resp.errors {
                        if let Ok(v) = serde_json::to_value(&e) {
                            errors.push(v);
                        }
                    }
                }
                Err(e) => {
                    return Response::request_error(
                        e.message().to_string(),
                        "GRAPHQL_VALIDATION_FAILED",
                    )
                }
            }
        }

        let plan = match self.plan(
            &document,
            req.operation_name.as_deref(),
            self.active_labels(),
        ) {
            Ok(p) => p,
            Err(message) => {
                return Response::request_error(
                    format!("query planning failed: {message}"),
                    "QUERY_PLANNING_FAILED",
                )
            }
        };
        let is_subtype =
            |abstract_ty: &str, object: &str| self.supergraph.is_possible_type(abstract_ty, object);
        // The subgraphs' answers, which the merged data borrows from.
        let buffers = goliath_executor::value::Buffers::new();
        let execution = self
            .executor
            .execute(&buffers, &plan, &variables, &is_subtype)
            .await;
        errors.extend(execution.errors);
        let mut projection = Projection {
            schema,
            doc,
            variables: &variables,
            errors: &mut errors,
        };
        // The answer is about as large as what the subgraphs sent, or as
        // the last answer to this plan on this thread, if that was larger.
        let size_hint = answer_size_hint(&plan);
        let mut body = Vec::with_capacity((buffers.total_len() + 256).max(size_hint));
        body.extend_from_slice(b"{\"data\":");
        projection.write_root(
            operation.object_type(),
            &operation.selection_set,
            &execution.data,
            &verbatim,
            &mut body,
        );
        body.push(b'}');
        note_answer_size(&plan, body.len());
        if !errors.is_empty() {
            // Errors come first; rare enough to pay for a copy.
            let mut with_errors = Vec::with_capacity(body.len() + 256);
            with_errors.extend_from_slice(b"{\"errors\":");
            // Serializing a Value into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut with_errors, &errors);
            with_errors.push(b',');
            with_errors.extend_from_slice(&body[1..]);
            body = with_errors;
        }
        Response {
            body: Body::Raw(Bytes::from(body)),
            outcome: Outcome::Executed,
        }
    }
}

thread_local! {
    /// The size of the last answer to each plan (by the plan's address) on
    /// this thread: a buffer that large is never copied while it grows.
    static ANSWER_SIZES: std::cell::RefCell<std::collections::HashMap<usize, usize>> =
        Default::default();
}

/// Plans whose answer sizes are kept per thread; past this, the sizes start
/// over (a stale size only sizes a buffer).
const ANSWER_SIZES_KEPT: usize = 4096;

fn answer_size_hint(plan: &Arc<QueryPlan>) -> usize {
    let key = Arc::as_ptr(plan) as usize;
    ANSWER_SIZES.with(|m| m.borrow().get(&key).copied().unwrap_or(0))
}

fn note_answer_size(plan: &Arc<QueryPlan>, size: usize) {
    let key = Arc::as_ptr(plan) as usize;
    ANSWER_SIZES.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= ANSWER_SIZES_KEPT && !m.contains_key(&key) {
            m.clear();
        }
        m.insert(key, size);
    })
}

/// Parses `percent(N)` (N may have a fraction).
fn parse_percent(label: &str) -> Option<f64> {
    let n = label.strip_prefix("percent(")?.strip_suffix(')')?;
    n.trim()
        .parse()
        .ok()
        .filter(|n: &f64| (0.0..=100.0).contains(n))
}

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

/// How long the executor may wait for a subgraph when config says nothing.
pub const DEFAULT_SUBGRAPH_TIMEOUT: Duration = Duration::from_secs(30);
