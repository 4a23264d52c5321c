//! The request pipeline: one GraphQL request in, one GraphQL response out.
//!
//! The HTTP layer (`http.rs`) turns HTTP requests into [`Request`]s and
//! [`Response`]s back into HTTP responses. [`Pipeline::execute`] runs the
//! GraphQL stages in order, each a call into the module that owns it:
//!
//! - **authenticate** (`crate::auth`, when configured or the supergraph
//!   has access directives): the request's token, verified, or the 401;
//! 0. **persisted/safelist** (`crate::persisted`): the text to run (the
//!    request's own, a manifest's body by id, or an APQ registration by
//!    hash), or the refusal (safelist, unknown id or hash, with its HTTP
//!    status and `Cache-Control`);
//! 1. **document** ([`document`]): parse, measure (`crate::limits`) and
//!    validate; cached by text, computed off the event loop on a miss
//!    (`crate::compute`);
//! 2. **operation**: pick the operation, refuse mutations over GET;
//! 3. **limits** (`crate::limits`): the operation limits;
//! 4. **variables**: coerce them;
//! 5. **cost** (`crate::demand_control`, when enabled): estimate the
//!    operation's cost, refuse it over the maximum in `enforce` mode;
//! 6. **introspection** ([`introspection`]): answer `__schema`/`__type`;
//!    then **authorize** (`crate::auth`): the fields the request may not
//!    see; planned without them (or the 403 in `reject` mode);
//! 7. **route** (`crate::migrations`): roll the `percent(N)` override
//!    labels; pin each migrating field the operation selects to the
//!    subgraph its state routes it to; pick the fields to compare (and, for
//!    a compared request, the operation augmented with the parents' keys);
//!    then **lookup** (`edge.rs`, with `response_cache`): a query's kept
//!    answer for the same keys is served as it is;
//! 8. **plan**: cached per document, operation and labels, planned off the
//!    event loop on a miss;
//! 9. **execute** (`goliath_executor`): the fetches; for a compared
//!    request, read the compared fields' entities out of the merged answer
//!    (`crate::migrations::entities`);
//! 10. **project** (`goliath_executor::project`): the client's response
//!     (and, with demand control, the actual cost); denied fields are
//!     `null` with `UNAUTHORIZED_FIELD_OR_TYPE`;
//! 11. **cache/headers** (`crate::cache_control`, when enabled): the
//!     answer's `Cache-Control` from the operation type, the errors and
//!     the subgraphs' own (answers that never ran get `no-store`); then
//!     **keep** (`edge.rs`): a cacheable answer's surrogate keys, and the
//!     answer kept in the response cache (a mutation's purges);
//! 12. **usage** (`crate::usage`): count the fields the operation selects,
//!     by client (one in-memory increment; flushed in the background);
//! 13. **compare** (`crate::migrations`): hand the comparison to the
//!     background, off the client's path.
//!
//! The router's [`Telemetry`] is told along the way ([`Pipeline::execute`]
//! starts and finishes each client request, the document and plan stages
//! report cache hits, the executor times subgraph requests), and a traced
//! request's stages are recorded as spans (`parse`, `validate`, `plan`,
//! `execute` with a `fetch` per subgraph request, `projection`: see
//! `crate::telemetry::traces`); with metrics and traces off each call is
//! one `Option` check.

mod document;
mod edge;
#[doc(hidden)]
pub mod fuzzing;
mod introspection;
mod request;
mod stages;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use apollo_compiler::schema::Implementers;
use apollo_compiler::Name;
use bytes::Bytes;
use goliath_executor::client::{Scheme, SubgraphClient, TlsOrigin};
use goliath_executor::project::Projection;
use goliath_executor::{Executor, SubgraphEndpoint};
use goliath_planner::QueryPlan;
use goliath_supergraph::Supergraph;
use moka::sync::Cache;
use serde_json::{Map, Value};

use crate::auth::{Auth, Decision, Identity};
use crate::cache_control::{CacheControl, CachePolicy};
use crate::config::{Config, Limits};
use crate::demand_control::DemandControl;
use crate::headers::Headers;
use crate::migrations::{self, Migrations, Runner};
use crate::persisted::Persisted;
use crate::response_cache::entities::Entities;
use crate::response_cache::{KeyParts, ResponseCache};
use crate::rest::Rest;
use crate::surrogate_keys::SurrogateKeysConfig;
use crate::telemetry::{RequestTelemetry, SubgraphTargets, Telemetry};
use crate::usage::Usage;
pub use document::{Document, Parsed};
use introspection::Introspection;
pub use request::{Body, Edge, Outcome, Request, Response};
use sha2::Digest;

/// A span attribute: whether a stage's answer came from its cache.
fn cache_hit(hit: bool) -> opentelemetry::KeyValue {
    opentelemetry::KeyValue::new("goliath.cache.hit", hit)
}

/// The request pipeline for one loaded supergraph.
pub struct Pipeline {
    core: Arc<Core>,
}

/// What a router keeps for its life and builds every pipeline on (the
/// first, and each one a reload or recomposition swaps in), so that what
/// they hold carries over: migration tallies and states, usage counts not
/// yet flushed, metrics.
#[derive(Clone)]
pub struct Parts {
    /// Field migrations.
    pub migrations: Arc<Migrations>,
    /// Field usage.
    pub usage: Arc<Usage>,
    /// Metrics (`telemetry:`).
    pub telemetry: Telemetry,
    /// The response cache (`response_cache:`), when on.
    pub response_cache: Option<Arc<ResponseCache>>,
}

impl Parts {
    /// New parts for `config`; fails when the trace exporter cannot be
    /// made.
    pub fn new(config: &Config) -> Result<Parts, String> {
        Ok(Parts {
            migrations: Migrations::new(&config.migrations, &config.store),
            usage: Usage::new(&config.usage, &config.store),
            telemetry: Telemetry::new(&config.telemetry)?,
            response_cache: ResponseCache::new(&config.response_cache),
        })
    }
}

/// The pipeline's state, shared with the comparisons it starts.
struct Core {
    supergraph: Arc<Supergraph>,
    executor: Arc<Executor>,
    implementers: apollo_compiler::collections::HashMap<Name, Implementers>,
    introspection: bool,
    limits: Arc<Limits>,
    /// Named labels switched on by config.
    config_labels: HashSet<String>,
    /// `percent(N)` labels in the supergraph, with N.
    percent_labels: Vec<(String, f64)>,
    /// Documents by text, each with its plans.
    documents: Cache<String, Parsed>,
    /// Demand control, when enabled.
    demand_control: Option<DemandControl>,
    /// The cache/headers stage, when enabled (or the response cache is).
    cache_control: Option<CacheControl>,
    /// Whether answers carry `Cache-Control` (`cache_control.enabled`).
    send_cache_control: bool,
    /// `cache_control.surrogate_keys`.
    surrogate_keys: SurrogateKeysConfig,
    /// The surrogate keys' header, when they are sent.
    surrogate_header: Option<http::HeaderName>,
    /// The response cache (the router's, outliving the pipeline).
    response_cache: Option<Arc<ResponseCache>>,
    /// The REST gateway's routes, compiled against this supergraph.
    rest: Option<Rest>,
    /// The SHA-256 of the supergraph's text (part of the cache keys).
    schema_hash: [u8; 32],
    /// Persisted queries (APQ, manifests) and the safelist.
    persisted: Persisted,
    /// Which headers go to each subgraph.
    headers: Headers,
    /// Field migrations (outlive the pipeline).
    migrations: Arc<Migrations>,
    /// Field usage counts (outlive the pipeline).
    usage: Arc<Usage>,
    /// The router's metrics and traces (outlive the pipeline).
    telemetry: Telemetry,
    /// The subgraphs' names and URLs for fetch spans.
    subgraph_targets: SubgraphTargets,
    /// The header naming the fields a request opts in to.
    opt_in_header: http::HeaderName,
    /// Authentication and authorization (`crate::auth`), when configured
    /// or the supergraph has access directives.
    auth: Option<Auth>,
    /// This core, for the comparisons it hands to the background.
    me: std::sync::Weak<Core>,
}

impl Pipeline {
    /// Loads `sdl` as a supergraph and prepares to serve it with `config`,
    /// with [`Parts`] of its own (migrations, usage, telemetry; see
    /// [`Pipeline::with_parts`]).
    pub fn new(sdl: &str, config: &Config) -> Result<Pipeline, String> {
        Pipeline::with_parts(sdl, config, Parts::new(config)?)
    }

    /// [`Pipeline::new`] with the router's migrations, which outlive
    /// pipelines (their tallies, queue and run-time states carry over when
    /// a new supergraph or config is loaded). Fails when the config's
    /// migrations do not fit the supergraph.
    pub fn with_migrations(
        sdl: &str,
        config: &Config,
        migrations: Arc<Migrations>,
    ) -> Result<Pipeline, String> {
        let usage = Usage::new(&config.usage, &config.store);
        Pipeline::with_usage(sdl, config, migrations, usage)
    }

    /// [`Pipeline::with_migrations`] with the router's field usage too,
    /// which outlives pipelines like the migrations (counts not yet
    /// flushed carry over), and telemetry of its own made from `config`
    /// (a router gives its own with [`Pipeline::with_parts`]).
    pub fn with_usage(
        sdl: &str,
        config: &Config,
        migrations: Arc<Migrations>,
        usage: Arc<Usage>,
    ) -> Result<Pipeline, String> {
        let telemetry = Telemetry::new(&config.telemetry)?;
        let parts = Parts {
            migrations,
            usage,
            telemetry,
            response_cache: ResponseCache::new(&config.response_cache),
        };
        Pipeline::with_parts(sdl, config, parts)
    }

    /// A pipeline for `sdl` and `config` built on the router's [`Parts`],
    /// which outlive pipelines: what they count and hold carries over when
    /// a new supergraph or config is loaded. Fails when the config's
    /// migrations do not fit the supergraph.
    pub fn with_parts(sdl: &str, config: &Config, parts: Parts) -> Result<Pipeline, String> {
        let Parts {
            migrations,
            usage,
            telemetry,
            response_cache,
        } = parts;
        let supergraph = Arc::new(Supergraph::parse(sdl).map_err(|e| e.to_string())?);
        migrations.install(supergraph.clone(), &config.migrations)?;
        let auth = Auth::new(config, supergraph.clone())?;
        let opt_in_header =
            http::HeaderName::from_bytes(config.migrations.opt_in_header.as_bytes())
                .map_err(|e| format!("migrations.opt_in_header: {e}"))?;
        let graph_names: Vec<&str> = supergraph.graphs.iter().map(|g| g.name.as_str()).collect();
        let headers = Headers::new(&config.headers, &graph_names)?;
        let persisted = Persisted::new(config)?;
        let rest = Rest::new(&config.rest, supergraph.clone(), |id| {
            persisted.manifest_body(id)
        })?;
        let client = SubgraphClient::new();
        let endpoints = supergraph
            .graphs
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let mut endpoint = endpoint(config, &g.name, &g.url)?;
                endpoint.foreign_types = Some(Arc::new(foreign_types(&supergraph, i)));
                Ok(endpoint)
            })
            .collect::<Result<Vec<_>, String>>()?;
        let subgraph_targets = SubgraphTargets::new(
            supergraph
                .graphs
                .iter()
                .zip(&endpoints)
                .map(|(g, e)| (g.name.as_str(), e.url.as_str())),
        );
        // The response cache needs the answers' policies, with or without
        // the header.
        let send_cache_control = config.cache_control.enabled;
        let mut policies = config.cache_control.clone();
        policies.enabled |= response_cache.is_some();
        let cache_control = CacheControl::new(&policies);
        let surrogate_keys = config.cache_control.surrogate_keys.clone();
        let surrogate_header = (send_cache_control && surrogate_keys.enabled)
            .then(|| surrogate_keys.header_name().ok())
            .flatten();
        if let Some(cache) = &response_cache {
            cache.install(supergraph.clone());
        }
        let reads_subgraphs = cache_control
            .as_ref()
            .is_some_and(CacheControl::reads_subgraphs);
        let mut executor = Executor::new(client, endpoints).with_cache_control(reads_subgraphs);
        if let Some(observer) = telemetry.fetch_observer(&graph_names) {
            executor = executor.with_observer(observer);
        }
        if let Some(cache) = response_cache.as_ref().filter(|c| c.keeps_entities()) {
            let entities = Entities::new(cache.clone(), supergraph.clone(), telemetry.clone());
            executor = executor.with_entity_cache(Arc::new(entities));
        }
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
        let mut limits = config.limits.clone();
        // Validated configs never exceed the caps; a config built in code
        // might, and the parser's recursion must stay bounded.
        limits.parser_max_recursion = limits
            .parser_max_recursion
            .min(crate::config::MAX_PARSER_RECURSION);
        limits.max_depth = limits.max_depth.min(crate::config::MAX_DEPTH_LIMIT);
        let core = Arc::new_cyclic(|me| Core {
            implementers: supergraph.api_schema.implementers_map(),
            supergraph,
            executor: Arc::new(executor),
            introspection: config.introspection,
            limits: Arc::new(limits),
            config_labels: config.override_labels.iter().cloned().collect(),
            percent_labels,
            documents: document::cache(),
            demand_control: DemandControl::new(&config.demand_control),
            cache_control,
            send_cache_control,
            surrogate_keys,
            surrogate_header,
            response_cache,
            rest,
            schema_hash: sha2::Sha256::digest(sdl.as_bytes()).into(),
            persisted,
            headers,
            migrations,
            usage: usage.clone(),
            telemetry,
            subgraph_targets,
            opt_in_header,
            auth,
            me: me.clone(),
        });
        usage.install(core.supergraph.clone(), &config.usage);
        Ok(Pipeline { core })
    }

    /// The loaded supergraph.
    pub fn supergraph(&self) -> &Supergraph {
        &self.core.supergraph
    }

    /// The router's migrations.
    pub fn migrations(&self) -> &Arc<Migrations> {
        &self.core.migrations
    }

    /// The router's field usage.
    pub fn usage(&self) -> &Arc<Usage> {
        &self.core.usage
    }

    /// The router's telemetry.
    pub fn telemetry(&self) -> &Telemetry {
        &self.core.telemetry
    }

    /// The REST gateway's routes, if any (`rest:`).
    pub fn rest(&self) -> Option<&Rest> {
        self.core.rest.as_ref()
    }

    /// Runs one GraphQL request to completion.
    pub async fn execute(&self, req: Request) -> Response {
        let mut telemetry = self.core.telemetry.request(&req);
        // A traced request's logs carry its trace id.
        let mut response = match telemetry.trace.trace_id() {
            Some(trace_id) => {
                let span = tracing::info_span!("request", trace_id = %trace_id);
                let run = self.core.execute(req, None, &mut telemetry);
                tracing::Instrument::instrument(run, span).await
            }
            None => self.core.execute(req, None, &mut telemetry).await,
        };
        if !self.core.send_cache_control {
            // The persisted-query refusals keep their own.
            if !matches!(response.cache_control, Some(CachePolicy::Fixed(_))) {
                response.cache_control = None;
            }
        } else if let (None, Some(cc)) = (&response.cache_control, &self.core.cache_control) {
            response.cache_control = Some(cc.uncacheable());
        }
        telemetry.finished(&response);
        response
    }
}

impl Runner for Core {
    fn run(
        &self,
        query: Arc<str>,
        operation_name: Option<String>,
        variables: Map<String, Value>,
        labels: Vec<String>,
        headers: http::HeaderMap,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Bytes, String>> + Send + '_>>
    {
        Box::pin(async move {
            let req = Request {
                query: Some(query.to_string()),
                operation_name,
                variables,
                headers,
                ..Request::default()
            };
            // A comparison's run is the router's own: not a client request.
            let response = self
                .execute(req, Some(labels), &mut RequestTelemetry::none())
                .await;
            Ok(response.body.to_bytes())
        })
    }
}

impl Core {
    /// Runs one GraphQL request to completion. `forced` labels (a
    /// comparison's run) replace the override labels and migration routing.
    /// `telemetry` learns the operation and whether the answer has errors,
    /// and records each stage in the request's trace.
    async fn execute(
        &self,
        req: Request,
        forced: Option<Vec<String>>,
        telemetry: &mut RequestTelemetry,
    ) -> Response {
        let started = std::time::Instant::now();
        let identity = match &self.auth {
            Some(auth) => match auth.authenticate(&req.headers).await {
                Ok(identity) => identity,
                Err(response) => return response,
            },
            None => Identity::default(),
        };
        let query = match self.persisted.query(&req, forced.is_none()).await {
            Ok(query) => query,
            Err(response) => return response,
        };
        let document = match self.document(&query, &telemetry.trace).await {
            Ok(document) => document,
            Err(response) => return (*response).clone(),
        };
        let doc = &document.doc;
        let operation = match self.operation(&document, &req) {
            Ok(operation) => operation,
            Err(response) => return response,
        };
        telemetry.operation(operation);
        if let Err(response) = self.check_limits(&document, operation, &req) {
            return response;
        }
        // The response cache's keys need the text after the request's
        // variables are taken.
        let text = self.response_cache.as_ref().map(|_| query.to_string());
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
        let mut cost = match self.check_cost(doc, operation, &variables) {
            Ok(cost) => cost,
            Err(response) => return response,
        };
        let introspection = Introspection {
            schema: &self.supergraph.api_schema,
            implementers: &self.implementers,
            enabled: self.introspection,
        };
        let answers = introspection.answer(doc, operation, || match coerced {
            Some(c) => Ok(c),
            None => self.coerce_all(operation, &Default::default()),
        });
        let introspection::Answers {
            verbatim,
            mut errors,
        } = match answers {
            Ok(answers) => answers,
            Err(response) => return response,
        };
        // The fields the request may not see, and the document without
        // them (planned instead of the client's).
        let decision = match &self.auth {
            Some(auth) => match auth.authorize(doc, operation, &identity, &req.headers) {
                Ok(decision) => decision,
                Err(response) => return response,
            },
            None => Decision::Allowed,
        };
        let (denied, filtered) = match decision {
            Decision::Allowed => (None, None),
            Decision::Filtered { denied, filtered } => {
                match self.document(&filtered, &telemetry.trace).await {
                    Ok(filtered) => (Some(denied), Some(filtered)),
                    Err(response) => return (*response).clone(),
                }
            }
        };
        // A comparison's run is not the client's: not counted as usage.
        let from_client = forced.is_none();
        let (labels, route) = match forced {
            Some(labels) => (labels, None),
            None => self.route(
                &document,
                operation,
                req.operation_name.as_deref(),
                &req.headers,
            ),
        };
        // A compared request is planned with its operation augmented by
        // the compared parents' keys (`crate::migrations::entities`).
        // A filtered request is not compared.
        let route = route.filter(|_| denied.is_none());
        let augmented = match route.as_ref().and_then(|r| r.augmented.as_deref()) {
            Some(text) if route.as_ref().is_some_and(|r| !r.compare.is_empty()) => {
                self.document(text, &telemetry.trace).await.ok()
            }
            _ => None,
        };
        let access_key = match (&self.auth, &text) {
            (Some(auth), Some(_)) => auth.cache_key(&identity, denied.as_ref()),
            _ => String::new(),
        };
        let parts = text.as_deref().map(|query| KeyParts {
            query,
            operation_name: req.operation_name.as_deref(),
            variables: &variables,
            version: req.content_version.as_deref(),
            labels: &labels,
            denied: &access_key,
        });
        let cache_keys = self.cache_keys(parts, &req.headers, operation, from_client);
        if let Some(hit) = self.cache_lookup(cache_keys.as_ref()).await {
            self.usage.record(&document, operation, &req.headers);
            return hit;
        }
        let planned = filtered
            .as_ref()
            .or(augmented.as_ref())
            .unwrap_or(&document);
        let plan = match self
            .plan(
                planned,
                req.operation_name.as_deref(),
                &labels,
                &telemetry.trace,
            )
            .await
        {
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
        let mut headers = self.headers.for_request(&req.headers);
        let mut extensions = None;
        if let Some(auth) = &self.auth {
            auth.forward(&identity, &mut headers);
            extensions = auth.extensions(&identity);
        }
        let trace = &telemetry.trace;
        let stage = trace.stage("execute");
        let fetches = trace.fetches(stage.as_ref(), &self.subgraph_targets);
        let execution = self
            .executor
            .execute(
                &buffers,
                &plan,
                &variables,
                &is_subtype,
                &headers,
                fetches
                    .as_ref()
                    .map(|f| f as &dyn goliath_executor::FetchTracer),
                extensions.as_deref(),
            )
            .await;
        if let Some(stage) = stage {
            stage.end();
        }
        let projecting = trace.now();
        let direct = match (&route, &augmented) {
            (Some(route), Some(_)) if !route.compare.is_empty() => {
                Some(migrations::entities::extract(
                    &self.supergraph,
                    doc,
                    operation,
                    &execution.data,
                    &route.table,
                    &route.compare,
                    !execution.errors.is_empty(),
                ))
            }
            _ => None,
        };
        errors.extend(execution.errors);
        let mut projection = Projection {
            schema: &self.supergraph.api_schema,
            doc,
            variables: &variables,
            errors: &mut errors,
            denied: denied.as_ref().map(|d| &d.fields),
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
        telemetry.trace.span("projection", projecting, Vec::new);
        telemetry.errors(!errors.is_empty());
        let subgraphs = &execution.cache_control;
        let cache_control = self.cache_headers(&document, operation, !errors.is_empty(), subgraphs);
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
        if let (Some(dc), Some(cost)) = (&self.demand_control, cost.as_mut()) {
            dc.measure(
                &self.supergraph,
                doc,
                operation,
                &variables,
                &execution.data,
                cost,
            );
            if dc.include_in_response {
                // `{...}` becomes `{...,"extensions":{"cost":{...}}}`.
                body.pop();
                body.extend_from_slice(b",\"extensions\":{\"cost\":");
                let _ = serde_json::to_writer(&mut body, &dc.report(cost));
                body.extend_from_slice(b"}}");
            }
        }
        let body = Bytes::from(body);
        let executed = edge::Executed {
            doc,
            operation,
            variables: &variables,
            data: &execution.data,
            plan: &plan,
            has_errors: !errors.is_empty(),
        };
        let edge = self.keep(executed, cache_control, cache_keys, &body).await;
        if from_client {
            self.usage.record(&document, operation, &req.headers);
        }
        if let Some(route) = route.filter(|r| !r.compare.is_empty()) {
            if let Some(runner) = self.me.upgrade() {
                self.migrations.compare(migrations::Job {
                    runner,
                    supergraph: self.supergraph.clone(),
                    route,
                    labels,
                    operation_name: operation.name.as_ref().map(|n| n.to_string()),
                    variables,
                    // The direct comparison reads no body: none is kept.
                    served: if direct.as_ref().is_some_and(|d| !d.fallback) {
                        Bytes::new()
                    } else {
                        body.clone()
                    },
                    direct,
                    executor: self.executor.clone(),
                    client_headers: req.headers,
                    subgraph_headers: headers,
                    served_errors: errors
                        .iter()
                        .map(|e| {
                            e.get("path")
                                .and_then(Value::as_array)
                                .cloned()
                                .unwrap_or_default()
                        })
                        .collect(),
                    served_in: started.elapsed(),
                });
            }
        }
        Response {
            body: Body::Raw(body),
            outcome: Outcome::Executed,
            cache_control,
            edge,
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

/// How to reach the subgraph `name` (at `url` unless config says
/// otherwise). Its URL is checked here, before any request: an
/// unsupported scheme or a URL that does not parse stops the pipeline with
/// a message naming the subgraph, and so do TLS settings that do not make
/// a client config. `https://` subgraphs get their TLS settings
/// (`crate::tls`); `http://` ones take the executor's plain path.
pub(crate) fn endpoint(config: &Config, name: &str, url: &str) -> Result<SubgraphEndpoint, String> {
    let url = config.subgraph_url(name).unwrap_or(url);
    let tls = match Scheme::of(url).map_err(|e| format!("subgraph `{name}`: {e}"))? {
        Scheme::Http => None,
        Scheme::Https => {
            let settings = config.tls.subgraph.client_config(name)?;
            let origin =
                TlsOrigin::new(url, &settings).map_err(|e| format!("subgraph `{name}`: {e}"))?;
            Some(Arc::new(origin))
        }
    };
    Ok(SubgraphEndpoint {
        name: name.to_owned(),
        url: url.to_owned(),
        timeout: config.subgraph_timeout(name),
        include_errors: config.include_subgraph_errors.includes(name),
        max_response_bytes: config.subgraph_max_response_bytes(name),
        tls,
        foreign_types: None,
    })
}

/// The names of the types other subgraphs define and `graph` does not
/// (`@join__type`).
fn foreign_types(supergraph: &Supergraph, graph: usize) -> std::collections::HashSet<String> {
    supergraph
        .types
        .values()
        .filter(|t| !t.graphs.is_empty() && t.in_graph(graph).is_none())
        .map(|t| t.name.to_string())
        .collect()
}

/// Parses `percent(N)` (N may have a fraction).
fn parse_percent(label: &str) -> Option<f64> {
    let n = label.strip_prefix("percent(")?.strip_suffix(')')?;
    n.trim()
        .parse()
        .ok()
        .filter(|n: &f64| (0.0..=100.0).contains(n))
}

/// How long the executor may wait for a subgraph when config says nothing.
pub const DEFAULT_SUBGRAPH_TIMEOUT: Duration = Duration::from_secs(30);
