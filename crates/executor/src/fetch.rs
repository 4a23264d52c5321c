//! One fetch: build its request (variables, deduplicated representations),
//! send it, and apply the answer to the response being built.
//!
//! [`prepare`] and [`apply`] are the two halves around the HTTP call; they
//! are public so benchmarks can time them without a network.

use rustc_hash::FxHashMap;
use std::sync::Mutex;

use goliath_planner::{FetchNode, PathElement};
use serde_json::{Map, Value};

use crate::client::FetchError;
use crate::errors::{http_error, malformed, subgraph_errors};
use crate::merge::{
    deep_merge, merge_object, merge_object_ref, objects_mut, representation_into, unalias,
    value_at_mut, visit_objects, PathTree, Seg,
};
use crate::value::{write_str, AVec, Alloc, Buffers, Obj, Val};
use crate::{Executor, State, SubgraphEndpoint};

/// The objects an entity fetch was sent for: for each object found at the
/// fetch's paths, its concrete path and the index of its representation.
pub struct Targets<'p> {
    /// `(representation index, node of the object's path in `tree`)`.
    objects: Vec<(usize, u32)>,
    /// The concrete paths of the objects visited.
    tree: PathTree<'p>,
    /// For every object visited at the fetch's paths, in visiting order,
    /// the index in `objects` of its target (`None`: it sent nothing).
    order: Vec<Option<usize>>,
    /// The paths visited.
    paths: Vec<&'p [PathElement]>,
    /// How many objects were visited at each path.
    per_path: Vec<usize>,
    /// How many distinct representations were sent.
    sent: usize,
}

impl<'p> Targets<'p> {
    fn new(paths: &[&'p [PathElement]]) -> Self {
        Targets {
            objects: vec![],
            tree: PathTree::default(),
            order: vec![],
            paths: paths.to_vec(),
            per_path: Vec::with_capacity(paths.len()),
            sent: 0,
        }
    }

    /// The concrete path of target `t`.
    fn path_of(&self, t: usize) -> Vec<Seg<'p>> {
        self.tree.path(self.objects[t].1)
    }

    /// The paths of the objects that sent representation `i`.
    pub(crate) fn paths_of(&self, i: usize) -> impl Iterator<Item = Vec<Seg<'p>>> + '_ {
        self.objects
            .iter()
            .filter(move |(r, _)| *r == i)
            .map(|(_, node)| self.tree.path(*node))
    }

    /// The path where a whole-fetch error is reported: the first object's.
    fn first_path(&self) -> Vec<Value> {
        if self.objects.is_empty() {
            return vec![];
        }
        self.path_of(0).iter().map(Seg::to_json).collect()
    }
}

/// A fetch's request, ready to send.
pub struct Request<'p> {
    /// The JSON body: `{"query": ..., "variables": {...}}`.
    pub body: Vec<u8>,
    /// Which objects the answer's entities go to.
    pub targets: Targets<'p>,
}

impl Executor {
    /// Runs one fetch: prepare, send, apply.
    pub(crate) async fn fetch<'s, 'a: 's>(
        &'s self,
        node: &'s FetchNode,
        paths: &[&'s [PathElement]],
        variables: &'s Map<String, Value>,
        is_subtype: &'s (dyn Fn(&str, &str) -> bool + Sync),
        buffers: &'a Buffers,
        state: &'s Mutex<State<'a>>,
    ) {
        let request = {
            let st = state.lock().unwrap_or_else(|e| e.into_inner());
            prepare(
                &st.data,
                &mut buffers.alloc(),
                node,
                paths,
                variables,
                is_subtype,
            )
        };
        let Some(Request { body, targets }) = request else {
            return;
        };
        let endpoint = &self.endpoints[node.graph];
        let result = self
            .client
            .post(&endpoint.url, body, endpoint.timeout)
            .await;
        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(bytes) => {
                let bytes = buffers.keep(bytes);
                apply(
                    &mut st,
                    &mut buffers.alloc(),
                    endpoint,
                    node,
                    &targets,
                    bytes,
                )
            }
            Err(e) => failed(&mut st, endpoint, node, &targets, e),
        }
    }
}

/// Builds the request for `node` at `paths` over the response so far
/// (scratch values are allocated with `alloc`).
/// `None`: an entity fetch found no object to send, so nothing is sent.
pub fn prepare<'p>(
    data: &Val<'_>,
    alloc: &mut Alloc<'_>,
    node: &FetchNode,
    paths: &[&'p [PathElement]],
    variables: &Map<String, Value>,
    is_subtype: &(dyn Fn(&str, &str) -> bool + Sync),
) -> Option<Request<'p>> {
    let mut targets = Targets::new(paths);
    let mut body = Vec::with_capacity(node.operation.len() + 256);
    body.extend_from_slice(b"{\"query\":");
    write_str(&mut body, &node.operation);
    body.extend_from_slice(b",\"variables\":{");
    let mut first = true;
    for v in &node.variable_usages {
        if let Some(value) = variables.get(v.as_str()) {
            if !first {
                body.push(b',');
            }
            first = false;
            write_str(&mut body, v);
            body.push(b':');
            // Writing to a Vec cannot fail.
            let _ = serde_json::to_writer(&mut body, value);
        }
    }
    if node.is_entity_fetch() {
        if !first {
            body.push(b',');
        }
        body.extend_from_slice(b"\"representations\":[");
        targets.sent =
            write_representations(data, alloc, node, is_subtype, &mut targets, &mut body);
        if targets.sent == 0 {
            return None;
        }
        body.push(b']');
    }
    body.extend_from_slice(b"}}");
    Some(Request { body, targets })
}

/// Writes the distinct representations of the objects at the targets'
/// paths that the fetch applies to, comma-separated, recording in
/// `targets` which object sent which. Returns how many were written.
fn write_representations(
    data: &Val<'_>,
    alloc: &mut Alloc<'_>,
    node: &FetchNode,
    is_subtype: &(dyn Fn(&str, &str) -> bool + Sync),
    targets: &mut Targets<'_>,
    out: &mut Vec<u8>,
) -> usize {
    let mut index: FxHashMap<Vec<u8>, usize> = FxHashMap::default();
    let mut scratch = Vec::with_capacity(64);
    let mut rep = Obj::new();
    let Targets {
        objects,
        tree,
        order,
        paths,
        per_path,
        ..
    } = targets;
    for path in paths.iter().copied() {
        let before = order.len();
        visit_objects(data, path, tree, &mut |obj, at| {
            let found = representation_into(
                obj,
                &node.requires,
                &node.typename_rewrites,
                &|a, b| is_subtype(a, b),
                alloc,
                &mut rep,
            );
            if !found {
                order.push(None);
                return;
            }
            scratch.clear();
            rep.write(&mut scratch);
            let next = index.len();
            let i = match index.get(scratch.as_slice()) {
                Some(i) => *i,
                None => {
                    if next > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(&scratch);
                    index.insert(scratch.clone(), next);
                    next
                }
            };
            order.push(Some(objects.len()));
            objects.push((i, at));
        });
        per_path.push(order.len() - before);
    }
    index.len()
}

/// Records a fetch that brought no GraphQL answer.
fn failed(
    st: &mut State<'_>,
    endpoint: &SubgraphEndpoint,
    node: &FetchNode,
    targets: &Targets<'_>,
    e: FetchError,
) {
    let path = targets.first_path();
    st.errors.push(http_error(endpoint, &e, &path));
    if let FetchError::Status {
        body: Some(body), ..
    } = e
    {
        if let Some(Value::Array(errs)) = body.get("errors") {
            for err in errs {
                st.errors
                    .extend(subgraph_errors(endpoint, err.clone(), node, targets));
            }
        }
    }
}

/// Parses a subgraph's answer (the body of a 2xx response), checks it and
/// merges it into the response being built. Anything malformed becomes an
/// error, never a crash, and never overwrites what other subgraphs returned.
pub fn apply<'a, 'b: 'a>(
    st: &mut State<'a>,
    alloc: &mut Alloc<'b>,
    endpoint: &SubgraphEndpoint,
    node: &FetchNode,
    targets: &Targets<'_>,
    bytes: &'a [u8],
) {
    let mut response = match Val::parse(bytes, alloc) {
        Ok(Val::Obj(o)) => o,
        Ok(_) => {
            let e = FetchError::BadJson("not an object".into());
            return failed(st, endpoint, node, targets, e);
        }
        Err(e) => {
            let e = FetchError::BadJson(e.to_string());
            return failed(st, endpoint, node, targets, e);
        }
    };
    // The error for a malformed answer, at the first object's path (only
    // worked out when there is an error).
    let bad = |why: &str| malformed(endpoint, why, &targets.first_path());
    let had_errors = match response.remove("errors") {
        None | Some(Val::Null) => false,
        Some(Val::List(errs)) => {
            let any = !errs.is_empty();
            for err in errs {
                st.errors
                    .extend(subgraph_errors(endpoint, err.to_json(), node, targets));
            }
            any
        }
        Some(_) => {
            st.errors.push(bad("`errors` is not a list"));
            true
        }
    };
    let mut data = match response.remove("data") {
        Some(Val::Null) | None if had_errors => return,
        Some(d @ Val::Obj(_)) => d,
        None => {
            st.errors.push(bad("the response has no `data`"));
            return;
        }
        Some(Val::Null) => {
            st.errors
                .push(bad("`data` is null and there are no errors"));
            return;
        }
        Some(_) => {
            st.errors.push(bad("`data` is not an object"));
            return;
        }
    };
    if node.has_aliases {
        unalias(alloc, &mut data);
    }
    if !node.is_entity_fetch() {
        deep_merge(alloc, &mut st.data, data);
        return;
    }
    let Val::Obj(mut data) = data else {
        return;
    };
    let entities = match data.remove("_entities") {
        Some(Val::List(e)) if e.len() == targets.sent => e,
        Some(Val::List(e)) => {
            let why = format!(
                "`_entities` has {} items for {} representations",
                e.len(),
                targets.sent
            );
            st.errors.push(bad(&why));
            return;
        }
        Some(Val::Null) | None if had_errors => return,
        _ => {
            st.errors.push(bad("`_entities` is missing or not a list"));
            return;
        }
    };
    merge_entities(st, alloc, endpoint, node, targets, entities);
}

/// Merges each entity into every object that sent its representation.
fn merge_entities<'a, 'b: 'a>(
    st: &mut State<'a>,
    alloc: &mut Alloc<'b>,
    endpoint: &SubgraphEndpoint,
    node: &FetchNode,
    targets: &Targets<'_>,
    entities: AVec<'a, Val<'a>>,
) {
    // Entities that are not objects: null merges nothing; anything else is
    // an error at every object that sent its representation.
    let mut entities: Vec<Option<Obj<'a>>> = entities
        .into_iter()
        .enumerate()
        .map(|(i, entity)| match entity {
            Val::Obj(mut e) => {
                // An @interfaceObject answers with its interface name: the
                // object keeps the runtime type it has.
                let rewritten = e
                    .get("__typename")
                    .and_then(Val::as_str)
                    .is_some_and(|t| node.typename_rewrites.iter().any(|(_, to)| to == t));
                if rewritten {
                    e.remove("__typename");
                }
                Some(e)
            }
            Val::Null => None,
            _ => {
                for (t, _) in targets.objects.iter().enumerate().filter(|(_, o)| o.0 == i) {
                    let p: Vec<Value> = targets.path_of(t).iter().map(Seg::to_json).collect();
                    st.errors
                        .push(malformed(endpoint, "an entity is not an object", &p));
                }
                None
            }
        })
        .collect();
    // The last object that uses an entity takes it; the others get copies
    // of its fields.
    let mut last_use = vec![usize::MAX; entities.len()];
    for (t, (i, _)) in targets.objects.iter().enumerate() {
        last_use[*i] = t;
    }
    let mut merge_into = |obj: &mut Obj<'a>, t: usize| {
        let i = targets.objects[t].0;
        if last_use[i] == t {
            if let Some(entity) = entities[i].take() {
                merge_object(alloc, obj, entity);
            }
        } else if let Some(entity) = &entities[i] {
            merge_object_ref(alloc, obj, entity);
        }
    };
    // One walk per path finds its objects, in the order the
    // representations were collected; if the objects there changed
    // meanwhile, that path's entities are merged by concrete path instead.
    let mut from = 0;
    for (path, &count) in targets.paths.iter().zip(&targets.per_path) {
        let order = &targets.order[from..from + count];
        from += count;
        let mut objects = Vec::with_capacity(count);
        objects_mut(&mut st.data, path, &mut objects);
        if objects.len() == order.len() {
            for (obj, t) in objects.into_iter().zip(order) {
                if let Some(t) = t {
                    merge_into(obj, *t);
                }
            }
            continue;
        }
        drop(objects);
        for t in order.iter().flatten() {
            if let Some(Val::Obj(target)) = value_at_mut(&mut st.data, &targets.path_of(*t)) {
                merge_into(target, *t);
            }
        }
    }
}
