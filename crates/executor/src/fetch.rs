//! One fetch: build its request (variables, deduplicated representations),
//! send it, and apply the answer to the response being built.

use std::collections::HashMap;
use std::sync::Mutex;

use goliath_planner::{FetchNode, PathElement};
use serde_json::{json, Map, Value};

use crate::client::FetchError;
use crate::errors::{http_error, malformed, subgraph_errors};
use crate::merge::{
    deep_merge, merge_object, representation, unalias, value_at_mut, visit_objects,
    visit_objects_mut, Seg,
};
use crate::{Executor, State, SubgraphEndpoint};

/// The objects an entity fetch was sent for: for each object found at the
/// fetch's path, its concrete path and the index of its representation.
pub(crate) struct Targets {
    /// `(representation index, path of the object)`.
    pub(crate) objects: Vec<(usize, Vec<Seg>)>,
    /// For every object visited at the fetch's paths, in visiting order,
    /// the index in `objects` of its target (`None`: it sent nothing).
    pub(crate) order: Vec<Option<usize>>,
    /// The paths visited.
    pub(crate) paths: Vec<Vec<PathElement>>,
    /// How many distinct representations were sent.
    pub(crate) sent: usize,
}

impl Targets {
    /// The paths of the objects that sent representation `i`.
    pub(crate) fn paths_of(&self, i: usize) -> impl Iterator<Item = &[Seg]> {
        self.objects
            .iter()
            .filter(move |(r, _)| *r == i)
            .map(|(_, p)| p.as_slice())
    }

    /// The path where a whole-fetch error is reported: the first object's.
    fn first_path(&self) -> Vec<Value> {
        self.objects
            .first()
            .map(|(_, p)| p.iter().map(Seg::to_json).collect())
            .unwrap_or_default()
    }
}

impl Executor {
    pub(crate) async fn fetch(
        &self,
        node: &FetchNode,
        paths: &[&[PathElement]],
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
        let mut targets = Targets {
            objects: vec![],
            order: vec![],
            paths: paths.iter().map(|p| p.to_vec()).collect(),
            sent: 0,
        };
        if node.is_entity_fetch() {
            let st = state.lock().unwrap_or_else(|e| e.into_inner());
            let reps = collect_representations(&st.data, node, paths, is_subtype, &mut targets);
            drop(st);
            if reps.is_empty() {
                return;
            }
            targets.sent = reps.len();
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
        match result {
            Ok(response) => apply_response(&mut st, endpoint, node, &targets, response),
            Err(e) => {
                let path = targets.first_path();
                st.errors.push(http_error(endpoint, &e, &path));
                if let FetchError::Status {
                    body: Some(body), ..
                } = e
                {
                    if let Some(Value::Array(errs)) = body.get("errors") {
                        for err in errs {
                            st.errors.extend(subgraph_errors(
                                endpoint,
                                err.clone(),
                                node,
                                &targets,
                            ));
                        }
                    }
                }
            }
        }
    }
}

/// The distinct representations of the objects at `paths` that the fetch
/// applies to, recording in `targets` which object sent which.
fn collect_representations(
    data: &Value,
    node: &FetchNode,
    paths: &[&[PathElement]],
    is_subtype: &(dyn Fn(&str, &str) -> bool + Sync),
    targets: &mut Targets,
) -> Vec<Value> {
    let mut reps: Vec<Value> = vec![];
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut concrete = vec![];
    for path in paths {
        visit_objects(data, path, &mut concrete, &mut |obj, at| {
            let Some(rep) =
                representation(obj, &node.requires, &node.typename_rewrites, &|a, b| {
                    is_subtype(a, b)
                })
            else {
                targets.order.push(None);
                return;
            };
            targets.order.push(Some(targets.objects.len()));
            let i = *index.entry(rep.to_string()).or_insert_with(|| {
                reps.push(rep);
                reps.len() - 1
            });
            targets.objects.push((i, at.to_vec()));
        });
    }
    reps
}

/// Checks a subgraph's GraphQL response and merges it into the response
/// being built. Anything malformed becomes an error, never a crash, and
/// never overwrites what other subgraphs returned.
fn apply_response(
    st: &mut State,
    endpoint: &SubgraphEndpoint,
    node: &FetchNode,
    targets: &Targets,
    response: Value,
) {
    let path = targets.first_path();
    let Value::Object(mut response) = response else {
        st.errors
            .push(malformed(endpoint, "the response is not an object", &path));
        return;
    };
    let had_errors = match response.remove("errors") {
        None | Some(Value::Null) => false,
        Some(Value::Array(errs)) => {
            let any = !errs.is_empty();
            for err in errs {
                st.errors
                    .extend(subgraph_errors(endpoint, err, node, targets));
            }
            any
        }
        Some(_) => {
            st.errors
                .push(malformed(endpoint, "`errors` is not a list", &path));
            true
        }
    };
    let mut data = match response.remove("data") {
        Some(Value::Null) | None if had_errors => return,
        Some(d @ Value::Object(_)) => d,
        None => {
            st.errors
                .push(malformed(endpoint, "the response has no `data`", &path));
            return;
        }
        Some(Value::Null) => {
            st.errors.push(malformed(
                endpoint,
                "`data` is null and there are no errors",
                &path,
            ));
            return;
        }
        Some(_) => {
            st.errors
                .push(malformed(endpoint, "`data` is not an object", &path));
            return;
        }
    };
    if node.has_aliases {
        unalias(&mut data);
    }
    if !node.is_entity_fetch() {
        deep_merge(&mut st.data, data);
        return;
    }
    let Value::Object(mut data) = data else {
        return;
    };
    let entities = match data.remove("_entities") {
        Some(Value::Array(e)) if e.len() == targets.sent => e,
        Some(Value::Array(e)) => {
            let why = format!(
                "`_entities` has {} items for {} representations",
                e.len(),
                targets.sent
            );
            st.errors.push(malformed(endpoint, &why, &path));
            return;
        }
        Some(Value::Null) | None if had_errors => return,
        _ => {
            st.errors.push(malformed(
                endpoint,
                "`_entities` is missing or not a list",
                &path,
            ));
            return;
        }
    };
    merge_entities(st, endpoint, node, targets, entities);
}

/// Merges each entity into every object that sent its representation.
fn merge_entities(
    st: &mut State,
    endpoint: &SubgraphEndpoint,
    node: &FetchNode,
    targets: &Targets,
    entities: Vec<Value>,
) {
    let mut entities: Vec<Option<Value>> = entities.into_iter().map(Some).collect();
    // The last object that uses an entity takes it without a copy.
    let mut last_use = vec![usize::MAX; entities.len()];
    for (t, (i, _)) in targets.objects.iter().enumerate() {
        last_use[*i] = t;
    }
    // What each target gets, in target order.
    let mut prepared: Vec<Option<Map<String, Value>>> = Vec::with_capacity(targets.objects.len());
    for (t, (i, at)) in targets.objects.iter().enumerate() {
        let entity = if last_use[*i] == t {
            entities[*i].take()
        } else {
            entities[*i].clone()
        };
        let mut entity = match entity {
            Some(Value::Object(e)) => e,
            Some(Value::Null) | None => {
                prepared.push(None);
                continue;
            }
            Some(_) => {
                let p: Vec<Value> = at.iter().map(Seg::to_json).collect();
                st.errors
                    .push(malformed(endpoint, "an entity is not an object", &p));
                prepared.push(None);
                continue;
            }
        };
        // An @interfaceObject answers with its interface name: the object
        // keeps the runtime type it has.
        let rewritten = entity
            .get("__typename")
            .and_then(Value::as_str)
            .is_some_and(|t| node.typename_rewrites.iter().any(|(_, to)| to == t));
        if rewritten {
            entity.remove("__typename");
        }
        prepared.push(Some(entity));
    }
    // One walk over the paths, in the order the representations were
    // collected; if the objects there changed meanwhile, by path instead.
    let mut seen = 0usize;
    for path in &targets.paths {
        visit_objects(&st.data, path, &mut Vec::new(), &mut |_, _| seen += 1);
    }
    if seen == targets.order.len() {
        let mut k = 0usize;
        for path in &targets.paths {
            visit_objects_mut(&mut st.data, path, &mut |obj| {
                if let Some(Some(t)) = targets.order.get(k) {
                    if let Some(entity) = prepared[*t].take() {
                        merge_object(obj, entity);
                    }
                }
                k += 1;
            });
        }
    } else {
        for (t, (_, at)) in targets.objects.iter().enumerate() {
            if let (Some(entity), Some(target)) =
                (prepared[t].take(), value_at_mut(&mut st.data, at))
            {
                deep_merge(target, Value::Object(entity));
            }
        }
    }
}
