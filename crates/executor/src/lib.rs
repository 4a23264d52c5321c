//! The goliath executor: runs query plans against subgraphs over HTTP,
//! merges their answers into one response tree, and projects the client's
//! response out of it (see [`project`]).

pub mod arena;
pub mod cache_control;
pub mod client;
pub mod entity_cache;
mod errors;
pub mod fetch;
#[doc(hidden)]
pub mod fuzzing;
pub mod merge;
pub mod parse;
pub mod project;
pub mod value;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::join_all;
use goliath_planner::{PathElement, PlanNode, QueryPlan};
use serde_json::{Map, Value};

use crate::client::SubgraphClient;
use crate::value::{Buffers, Obj, Val};

/// Where and how to reach one subgraph.
#[derive(Debug, Clone)]
pub struct SubgraphEndpoint {
    /// The subgraph's name.
    pub name: String,
    /// Its GraphQL endpoint.
    pub url: String,
    /// How long one request may take.
    pub timeout: Duration,
    /// Whether its error messages reach clients (otherwise they are masked).
    pub include_errors: bool,
    /// The largest answer (head and body) read from it, in bytes; a larger
    /// one is refused as malformed before it is buffered. (Over
    /// `https://`, the body alone: hyper bounds the head.)
    pub max_response_bytes: usize,
    /// How an `https://` subgraph is reached (TLS settings and the
    /// connection pools' identity, shared by clones); `None` for an
    /// `http://` one, which takes the plain HTTP/1.1 path. Set when the
    /// endpoint is built, after [`client::Scheme::of`] has checked the URL.
    pub tls: Option<Arc<client::TlsOrigin>>,
    /// The types other subgraphs define and this one does not (`None`: not
    /// checked). An object it answers a root fetch with, at a position with
    /// type conditions, whose `__typename` is one of them is refused:
    /// nulled, with an error (a subgraph cannot answer for a type it does
    /// not own).
    pub foreign_types: Option<Arc<std::collections::HashSet<String>>>,
}

/// Runs plans. One per loaded supergraph; cheap to share.
pub struct Executor {
    client: SubgraphClient,
    endpoints: Vec<SubgraphEndpoint>,
    /// Told about each subgraph request a plan makes; none by default.
    observer: Option<Arc<dyn FetchObserver>>,
    /// Whether the subgraphs' `Cache-Control` is read (off by default).
    read_cache_control: bool,
    /// Where entity fetches' answers are kept, when they are.
    entity_cache: Option<Arc<dyn entity_cache::EntityCache>>,
}

/// Told about every subgraph request a plan makes (the router times
/// subgraphs with it; the executor keeps no statistics of its own).
/// Called on the fetch's task, once the answer or the failure is in, so an
/// implementation must be quick and must not block.
pub trait FetchObserver: Send + Sync {
    /// Subgraph `graph` (the supergraph's graph index) answered after
    /// `elapsed` (`error: None`: a 2xx answer, not yet parsed), or the
    /// request failed with `error`.
    fn fetched(&self, graph: usize, elapsed: Duration, error: Option<&client::FetchError>);
}

/// Traces one client request's subgraph requests (the router's telemetry,
/// when that request is traced). Called on the fetch's task, so an
/// implementation must be quick and must not block.
pub trait FetchTracer: Send + Sync {
    /// A request to subgraph `graph` (the supergraph's graph index) is
    /// about to be sent: the W3C `traceparent` it carries (`None`: none),
    /// and the span to end when the answer is in (`None`: nothing is
    /// recorded, the trace context is only passed on).
    fn start(&self, graph: usize) -> (Option<http::HeaderValue>, Option<Box<dyn FetchSpan>>);
}

/// One subgraph request's span, from [`FetchTracer::start`].
pub trait FetchSpan: Send {
    /// The answer is in: `Ok(its size in bytes)` (a 2xx answer, not yet
    /// parsed), or the request failed.
    fn end(self: Box<Self>, outcome: Result<usize, &client::FetchError>);
}

/// The W3C trace context header.
pub const TRACEPARENT: http::HeaderName = http::HeaderName::from_static("traceparent");

/// The response being built while a plan runs, and what running it
/// produced: the merged data (borrowing from the subgraphs' answers, kept
/// in a [`Buffers`]) and the errors.
#[derive(Debug, Default)]
pub struct State<'a> {
    /// Everything the subgraphs returned, merged.
    pub data: Val<'a>,
    /// Errors, with paths in client terms.
    pub errors: Vec<Value>,
    /// What the `Cache-Control` of the subgraphs' 2xx answers allows, all
    /// merged (only read with [`Executor::with_cache_control`]; otherwise,
    /// and when no subgraph answered, the default: nothing said).
    pub cache_control: cache_control::CacheControl,
}

/// What running a plan produced.
pub type Execution<'a> = State<'a>;

impl Executor {
    /// An executor for these subgraphs (indexed as the supergraph's graphs).
    pub fn new(client: SubgraphClient, endpoints: Vec<SubgraphEndpoint>) -> Self {
        Executor {
            client,
            endpoints,
            observer: None,
            read_cache_control: false,
            entity_cache: None,
        }
    }

    /// This executor, reading the `Cache-Control` of every subgraph
    /// answer its plans get into [`State::cache_control`] when `read` is
    /// set (not [`Executor::post`]'s). Off by default: the header is not
    /// looked at.
    pub fn with_cache_control(mut self, read: bool) -> Self {
        self.read_cache_control = read;
        self
    }

    /// This executor, answering entity fetches from `cache` where it can
    /// and keeping their cacheable answers there ([`entity_cache`]).
    pub fn with_entity_cache(mut self, cache: Arc<dyn entity_cache::EntityCache>) -> Self {
        self.entity_cache = Some(cache);
        self
    }

    /// This executor, telling `observer` about every subgraph request its
    /// plans make (not [`Executor::post`]'s). Without one, nothing is timed.
    pub fn with_observer(mut self, observer: Arc<dyn FetchObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// POSTs a GraphQL request body with these headers to the subgraph
    /// named `subgraph` (never re-sent) and returns the answer's bytes: for
    /// requests made outside a plan, such as a migration's comparison.
    pub async fn post(
        &self,
        subgraph: &str,
        headers: &http::HeaderMap,
        body: Vec<u8>,
    ) -> Result<bytes::Bytes, client::FetchError> {
        let endpoint = self
            .endpoints
            .iter()
            .find(|e| e.name == subgraph)
            .ok_or_else(|| client::FetchError::BadUrl(format!("no subgraph named {subgraph}")))?;
        self.client
            .post(endpoint, headers, body, client::Resend::Never)
            .await
    }

    /// Runs `plan` with these (coerced) variables. `is_subtype(abstract,
    /// object)` answers type questions for representations. `headers[i]`
    /// are the headers sent with every request to subgraph `i` (the
    /// supergraph's graph index; none for a subgraph past the slice's end).
    /// The subgraphs' answers are kept in `buffers`, which the result
    /// borrows from. `tracer`, when given, traces each subgraph request
    /// (and gives the `traceparent` it is sent with). `extensions`, a JSON
    /// object's text, is sent as each subgraph request's `extensions`.
    #[allow(clippy::too_many_arguments)]
    pub async fn execute<'a>(
        &self,
        buffers: &'a Buffers,
        plan: &QueryPlan,
        variables: &Map<String, Value>,
        is_subtype: &(dyn Fn(&str, &str) -> bool + Sync),
        headers: &[http::HeaderMap],
        tracer: Option<&dyn FetchTracer>,
        extensions: Option<&str>,
    ) -> Execution<'a> {
        let state = Mutex::new(State {
            data: Val::Obj(Obj::new()),
            errors: vec![],
            cache_control: Default::default(),
        });
        let run = Run {
            variables,
            is_subtype,
            buffers,
            state: &state,
            headers,
            tracer,
            extensions,
        };
        if let Some(root) = &plan.root {
            self.run(root, &[], &run).await;
        }
        state.into_inner().unwrap_or_else(|e| e.into_inner())
    }

    fn run<'s, 'a: 's>(
        &'s self,
        node: &'s PlanNode,
        path: &'s [PathElement],
        run: &'s Run<'s, 'a>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 's>> {
        Box::pin(async move {
            match node {
                PlanNode::Sequence(children) => {
                    for c in children {
                        self.run(c, path, run).await;
                    }
                }
                PlanNode::Parallel(children) => {
                    join_all(children.iter().map(|c| self.run(c, path, run))).await;
                }
                PlanNode::Condition(c) => {
                    let value = run
                        .variables
                        .get(c.variable.as_str())
                        .and_then(Value::as_bool);
                    if value == Some(c.expected) {
                        self.run(&c.node, path, run).await;
                    }
                }
                PlanNode::Flatten(fl) => match &*fl.node {
                    PlanNode::Fetch(fetch) => {
                        let mut paths = vec![fl.path.as_slice()];
                        paths.extend(fl.also.iter().map(Vec::as_slice));
                        self.fetch(fetch, &paths, run).await;
                    }
                    other => self.run(other, &fl.path, run).await,
                },
                PlanNode::Fetch(fetch) => self.fetch(fetch, &[path], run).await,
            }
        })
    }
}

/// What every node of one plan's run shares.
pub(crate) struct Run<'s, 'a> {
    /// The operation's (coerced) variables.
    pub variables: &'s Map<String, Value>,
    /// Answers type questions for representations.
    pub is_subtype: &'s (dyn Fn(&str, &str) -> bool + Sync),
    /// Where the subgraphs' answers are kept.
    pub buffers: &'a Buffers,
    /// The response being built.
    pub state: &'s Mutex<State<'a>>,
    /// The headers for each subgraph, by graph index.
    pub headers: &'s [http::HeaderMap],
    /// Traces the subgraph requests, when the client's request is traced.
    pub tracer: Option<&'s dyn FetchTracer>,
    /// A JSON object sent as every subgraph request's `extensions`.
    pub extensions: Option<&'s str>,
}
