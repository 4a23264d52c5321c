//! The goliath executor: runs query plans against subgraphs over HTTP,
//! merges their answers into one response tree, and projects the client's
//! response out of it (see [`project`]).

pub mod client;
pub mod merge;
pub mod project;

use std::sync::Mutex;
use std::time::Duration;

use futures_util::future::join_all;
use goliath_planner::{FetchNode, PathElement, PlanNode, QueryPlan};
use serde_json::{json, Map, Value};

use crate::client::{FetchError, SubgraphClient};
use crate::merge::{deep_merge, representation, unalias, value_at_mut, visit_objects, Seg};

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
}

/// Runs plans. One per loaded supergraph; cheap to share.
pub struct Executor {
    client: SubgraphClient,
    endpoints: Vec<SubgraphEndpoint>,
}

/// What running a plan produced: the merged data and the errors.
#[derive(Debug, Default)]
pub struct Execution {
    /// Everything the subgraphs returned, merged.
    pub data: Value,
    /// Errors, with paths in client terms.
    pub errors: Vec<Value>,
}

struct State {
    data: Value,
    errors: Vec<Value>,
}

impl Executor {
    /// An executor for these subgraphs (indexed as the supergraph's graphs).
    pub fn new(client: SubgraphClient, endpoints: Vec<SubgraphEndpoint>) -> Self {
        Executor { client, endpoints }
    }

    /// Runs `plan` with these (coerced) variables. `is_subtype(abstract,
    /// object)` answers type questions for representations.
    pub async fn execute(
        &self,
        plan: &QueryPlan,
        variables: &Map<String, Value>,
        is_subtype: &(dyn Fn(&str, &str) -> bool + Sync),
    ) -> Execution {
        let state = Mutex::new(State {
            data: Value::Object(Map::new()),
            errors: vec![],
        });
        if let Some(root) = &plan.root {
            self.run(root, &[], variables, is_subtype, &state).await;
        }
        let state = state.into_inner().unwrap_or_else(|e| e.into_inner());
        Execution {
            data: state.data,
            errors: state.errors,
        }
    }

    fn run<'a>(
        &'a self,
        node: &'a PlanNode,
        path: &'a [PathElement],
        variables: &'a Map<String, Value>,
        is_subtype: &'a (dyn Fn(&str, &str) -> bool + Sync),
        state: &'a Mutex<State>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            match node {
                PlanNode::Sequence(children) => {
                    for c in children {
                        self.run(c, path, variables, is_subtype, state).await;
                    }
                }
                PlanNode::Parallel(children) => {
                    join_all(
                        children
                            .iter()
                            .map(|c| self.run(c, path, variables, is_subtype, state)),
                    )
                    .await;
                }
                PlanNode::Condition(c) => {
                    let value = variables.get(c.variable.as_str()).and_then(Value::as_bool);
                    if value == Some(c.expected) {
                        self.run(&c.node, path, variables, is_subtype, state).await;
                    }
                }
                PlanNode::Flatten(fl) => {
                    self.run(&fl.node, &fl.path, variables, is_subtype, state)
                        .await;
                }
                PlanNode::Fetch(fetch) => {
                    self.fetch(fetch, path, variables, is_subtype, state).await;
                }
            }
        })
    }

    async fn fetch(
        &self,
        node: &FetchNode,
        path: &[PathElement],
        variables: &Map<String, Value>,
        is_subtype: &(dyn Fn(&str, &str) -> bool + Sync),
        state: &Mutex<State>,
    ) {
        let mut vars = Map::new();
        for v in &node.variable_usages {
            if let Some(value) = variables.get(v.as_str()) {
                vars.insert(v.to_string(), value.clone());
            }
        }
        // For entity fetches: the representations, and for each object
        // found at `path`, which representation it sent.
        let mut targets: Vec<(usize, Vec<Seg>)> = vec![];
        if node.is_entity_fetch() {
            let st = state.lock().unwrap_or_else(|e| e.into_inner());
            let mut reps: Vec<Value> = vec![];
            let mut index: std::collections::HashMap<String, usize> = Default::default();
            let mut concrete = vec![];
            visit_objects(&st.data, path, &mut concrete, &mut |obj, at| {
                let Some(rep) =
                    representation(obj, &node.requires, &node.typename_rewrites, &|a, b| {
                        is_subtype(a, b)
                    })
                else {
                    return;
                };
                let text = rep.to_string();
                let i = *index.entry(text).or_insert_with(|| {
                    reps.push(rep);
                    reps.len() - 1
                });
                targets.push((i, at.to_vec()));
            });
            if reps.is_empty() {
                return;
            }
            vars.insert("representations".into(), Value::Array(reps));
        }
        let endpoint = &self.endpoints[node.graph];
        let body = json!({"query": node.operation, "variables": vars});
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let result = self
            .client
            .post(&endpoint.url, body, endpoint.timeout)
            .await;
        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
        let error_path: Vec<Value> = if node.is_entity_fetch() {
            targets
                .first()
                .map(|(_, p)| p.iter().map(Seg::to_json).collect())
                .unwrap_or_default()
        } else {
            vec![]
        };
        let response = match result {
            Ok(r) => r,
            Err(e) => {
                let body_errors = match &e {
                    FetchError::Status { body: Some(b), .. } => b.get("errors").cloned(),
                    _ => None,
                };
                st.errors.push(http_error(&endpoint.name, &e, &error_path));
                if let Some(Value::Array(errs)) = body_errors {
                    for err in errs {
                        let err = self.subgraph_error(endpoint, err, node, &targets);
                        st.errors.push(err);
                    }
                }
                return;
            }
        };
        let Value::Object(mut response) = response else {
            return;
        };
        if let Some(Value::Array(errs)) = response.remove("errors") {
            for err in errs {
                let err = self.subgraph_error(endpoint, err, node, &targets);
                st.errors.push(err);
            }
        }
        let mut data = response.remove("data").unwrap_or(Value::Null);
        if node.has_aliases {
            unalias(&mut data);
        }
        if node.is_entity_fetch() {
            let Value::Object(mut data) = data else {
                return;
            };
            let Some(Value::Array(entities)) = data.remove("_entities") else {
                return;
            };
            let mut entities: Vec<Option<Value>> = entities.into_iter().map(Some).collect();
            // An entity sent for several objects is merged into each; the
            // last use takes it without a copy.
            let mut last_use = vec![usize::MAX; entities.len()];
            for (t, (i, _)) in targets.iter().enumerate() {
                if *i < last_use.len() {
                    last_use[*i] = t;
                }
            }
            for (t, (i, at)) in targets.iter().enumerate() {
                let Some(slot) = entities.get_mut(*i) else {
                    continue;
                };
                let entity = if last_use[*i] == t {
                    slot.take()
                } else {
                    slot.clone()
                };
                let Some(mut entity) = entity else { continue };
                // An @interfaceObject answers with its interface name: the
                // object keeps the runtime type it has.
                if !node.typename_rewrites.is_empty() {
                    if let Value::Object(e) = &mut entity {
                        let rewritten = e
                            .get("__typename")
                            .and_then(Value::as_str)
                            .is_some_and(|t| node.typename_rewrites.iter().any(|(_, to)| to == t));
                        if rewritten {
                            e.remove("__typename");
                        }
                    }
                }
                if let Some(target) = value_at_mut(&mut st.data, at) {
                    deep_merge(target, entity);
                }
            }
        } else {
            deep_merge(&mut st.data, data);
        }
    }

    /// A subgraph's GraphQL error, with its path rewritten for the client.
    fn subgraph_error(
        &self,
        endpoint: &SubgraphEndpoint,
        err: Value,
        node: &FetchNode,
        targets: &[(usize, Vec<Seg>)],
    ) -> Value {
        let Value::Object(mut err) = err else {
            return json!({"message": "invalid error from subgraph", "extensions": {"code": "SUBREQUEST_MALFORMED_RESPONSE", "service": endpoint.name}});
        };
        if !endpoint.include_errors {
            let mut masked = Map::new();
            masked.insert(
                "message".into(),
                Value::String("Subgraph errors redacted".into()),
            );
            if let Some(p) = err.remove("path") {
                masked.insert("path".into(), p);
            }
            err = masked;
        }
        if node.is_entity_fetch() {
            if let Some(Value::Array(p)) = err.get("path").cloned() {
                let rewritten = match (
                    p.first().and_then(Value::as_str),
                    p.get(1).and_then(Value::as_u64),
                ) {
                    (Some("_entities"), Some(i)) => {
                        targets.iter().find(|(r, _)| *r as u64 == i).map(|(_, at)| {
                            let mut out: Vec<Value> = at.iter().map(Seg::to_json).collect();
                            out.extend(p[2..].iter().cloned());
                            out
                        })
                    }
                    _ => None,
                };
                match rewritten {
                    Some(r) => {
                        err.insert("path".into(), Value::Array(r));
                    }
                    None => {
                        err.remove("path");
                    }
                }
            }
        }
        let ext = err
            .entry("extensions")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(ext) = ext {
            ext.entry("service")
                .or_insert_with(|| Value::String(endpoint.name.clone()));
        }
        Value::Object(err)
    }
}

fn http_error(service: &str, e: &FetchError, path: &[Value]) -> Value {
    let mut err = json!({
        "message": format!("HTTP fetch failed from '{service}': {e}"),
        "extensions": {"code": "SUBREQUEST_HTTP_ERROR", "service": service, "reason": e.to_string()}
    });
    if !path.is_empty() {
        err["path"] = Value::Array(path.to_vec());
    }
    err
}
