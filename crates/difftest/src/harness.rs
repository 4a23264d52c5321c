//! One generated schema, running: its subgraphs and the oracle on loopback,
//! the subgraphs composed by `goliath compose` and served by the router;
//! and the check of one operation against both.

use std::net::SocketAddr;
use std::sync::Arc;

use apollo_compiler::validation::Valid;
use apollo_compiler::ExecutableDocument;
use bytes::Bytes;
use goliath_compose::SubgraphInput;
use goliath_router::http::{serve, ServerState};
use goliath_router::{Config, Pipeline};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use tokio::task::JoinHandle;

use crate::model::Schema;
use crate::sdl;
use crate::serve::{self, Server};

/// Why a generated schema was not run.
#[derive(Debug)]
pub enum NotRun {
    /// `goliath compose` refused the subgraphs (the message).
    Composition(String),
    /// The generator made something a server or the router refused.
    Setup(String),
}

/// What one operation gave.
#[derive(Debug)]
pub enum Check {
    /// The router's answer equals the oracle's.
    Same,
    /// The operation does not validate against the unsplit schema (a
    /// generator bug).
    Invalid(String),
    /// The oracle answered with errors (a generator bug).
    OracleError(Value),
    /// The answers differ.
    Differ {
        /// The router's answer.
        router: Value,
        /// The oracle's answer.
        oracle: Value,
    },
}

/// A running case.
pub struct Harness {
    /// The schema.
    pub schema: Arc<Schema>,
    /// The supergraph `goliath compose` made.
    pub supergraph: String,
    /// The subgraphs' SDL.
    pub subgraph_sdl: Vec<String>,
    api: Valid<apollo_compiler::Schema>,
    _subgraphs: Vec<Server>,
    oracle: Server,
    router: SocketAddr,
    router_task: JoinHandle<()>,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.router_task.abort();
    }
}

impl Harness {
    /// Starts the subgraphs, the oracle and the router for `schema`.
    pub async fn start(schema: Schema) -> Result<Harness, NotRun> {
        let schema = Arc::new(schema);
        let oracle_sdl = sdl::oracle(&schema);
        let api = apollo_compiler::Schema::parse_and_validate(oracle_sdl, "oracle.graphql")
            .map_err(|e| NotRun::Setup(format!("the oracle's schema: {}", e.errors)))?;
        let mut subgraphs = Vec::new();
        let mut inputs = Vec::new();
        let mut subgraph_sdl = Vec::new();
        for s in 0..schema.subgraphs {
            let text = sdl::subgraph(&schema, s);
            let server = serve::start(schema.clone(), Some(s))
                .await
                .map_err(|e| NotRun::Setup(format!("subgraph s{s}: {e}")))?;
            inputs.push(SubgraphInput {
                name: Schema::subgraph_name(s),
                url: server.url.clone(),
                sdl: text.clone(),
            });
            subgraph_sdl.push(text);
            subgraphs.push(server);
        }
        let oracle = serve::start(schema.clone(), None)
            .await
            .map_err(|e| NotRun::Setup(format!("the oracle: {e}")))?;
        let supergraph = goliath_compose::compose(&inputs).map_err(|errors| {
            NotRun::Composition(
                errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        })?;
        let config = Config::default();
        let pipeline = Pipeline::new(&supergraph, &config)
            .map_err(|e| NotRun::Setup(format!("the router: {e}")))?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| NotRun::Setup(e.to_string()))?;
        let router = listener
            .local_addr()
            .map_err(|e| NotRun::Setup(e.to_string()))?;
        let state = Arc::new(ServerState::new(&config));
        state.set_handler(Some(Arc::new(pipeline)));
        let router_task = tokio::spawn(serve(listener, state, std::future::pending()));
        Ok(Harness {
            schema,
            supergraph,
            subgraph_sdl,
            api,
            _subgraphs: subgraphs,
            oracle,
            router,
            router_task,
            client: Client::builder(TokioExecutor::new()).build_http(),
        })
    }

    async fn post(&self, url: &str, query: &str, variables: &Value) -> Value {
        let body = json!({"query": query, "variables": variables});
        let request = http::Request::post(url)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .expect("a request");
        let response = match self.client.request(request).await {
            Ok(r) => r,
            Err(e) => return json!({"transport_error": e.to_string()}),
        };
        match response.into_body().collect().await {
            Ok(body) => serde_json::from_slice(&body.to_bytes())
                .unwrap_or_else(|e| json!({"not_json": e.to_string()})),
            Err(e) => json!({"transport_error": e.to_string()}),
        }
    }

    /// The router's and the oracle's answers to `query`.
    pub async fn answers(&self, query: &str, variables: &Value) -> (Value, Value) {
        let oracle = unmark(
            &self
                .post(&self.oracle.url, &oracle_text(query), variables)
                .await,
        );
        let router_url = format!("http://{}/graphql", self.router);
        let router = self.post(&router_url, query, variables).await;
        (router, oracle)
    }

    /// Runs `query` with `variables` on the router and on the oracle.
    pub async fn check(&self, query: &str, variables: &Value) -> Check {
        if let Err(e) = ExecutableDocument::parse_and_validate(&self.api, query, "op.graphql") {
            return Check::Invalid(e.errors.to_string());
        }
        let (router, oracle) = self.answers(query, variables).await;
        if oracle.get("errors").is_some() || oracle.get("data").is_none() {
            return Check::OracleError(oracle);
        }
        let same = router.get("errors").is_none() && router.get("data") == oracle.get("data");
        if same {
            Check::Same
        } else {
            Check::Differ { router, oracle }
        }
    }
}

/// The response key of the `__typename` the oracle is asked for in every
/// selection set.
const MARK: &str = "_difftest_typename";

/// `query` with `_difftest_typename: __typename` in every selection set.
/// async-graphql's dynamic schemas (the oracle) answer `null` for an object
/// none of whose fields were selected at run time (all skipped, or
/// fragments on other types), where GraphQL says `{}`, and then drop the
/// fields of a second selection of the same response key; with one field
/// always selected, no object is empty. The generated operations have no
/// `{` but selection sets' (arguments are numbers and variables).
fn oracle_text(query: &str) -> String {
    query.replace('{', &format!("{{ {MARK}: __typename "))
}

/// `value` without the [`MARK`] fields.
fn unmark(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| k.as_str() != MARK)
                .map(|(k, v)| (k.clone(), unmark(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(unmark).collect()),
        other => other.clone(),
    }
}
