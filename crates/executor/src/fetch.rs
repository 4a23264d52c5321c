//! One fetch: build its request (variables, deduplicated representations),
//! send it, and apply the answer to the response being built.
//!
//! [`prepare`] and [`apply`] are the two halves around the HTTP call; they
//! are public so benchmarks can time them without a network.

use rustc_hash::FxHashMap;

use apollo_compiler::ast::OperationType;
use goliath_planner::{FetchNode, PathElement};
use serde_json::{Map, Value};

use bytes::Bytes;

use crate::client::{FetchError, Resend};
use crate::entity_cache::{self, EntityFetch};
use crate::errors::{http_error, malformed, subgraph_errors};
use crate::merge::{
    deep_merge, merge_object, merge_object_ref, objects_mut, representation_into, unalias,
    visit_objects, visit_paths, Seg,
};
use crate::value::{write_str, AVec, Alloc, Obj, Val};
use crate::{Executor, Run, State, SubgraphEndpoint};
use goliath_planner::selection::Selection;

/// Marks an object that sent no representation in [`Targets::order`].
const NONE: u32 = u32::MAX;

/// The objects an entity fetch was sent for, found again when its answer
/// comes back by walking the same paths: the walk visits the same objects
/// in the same order, unless the tree changed there meanwhile.
pub struct Targets<'p> {
    /// For every object visited at the fetch's paths, in visiting order,
    /// the index of the representation it sent ([`NONE`]: none).
    order: Vec<u32>,
    /// The paths visited.
    paths: Vec<&'p [PathElement]>,
    /// How many objects were visited at each path.
    per_path: Vec<usize>,
    /// The representations sent, as JSON text, and their indexes: to match
    /// objects by representation where the tree changed.
    index: FxHashMap<Vec<u8>, u32>,
    /// How many distinct representations were sent.
    sent: usize,
}

impl<'p> Targets<'p> {
    fn new(paths: &[&'p [PathElement]]) -> Self {
        Targets {
            order: vec![],
            paths: paths.to_vec(),
            per_path: Vec::with_capacity(paths.len()),
            index: FxHashMap::default(),
            sent: 0,
        }
    }

    /// The concrete paths in `data` of the objects that sent a
    /// representation `wanted` accepts (worked out again by walking: only
    /// errors need paths).
    fn paths_where(&self, data: &Val<'_>, wanted: impl Fn(u32) -> bool) -> Vec<Vec<Value>> {
        let mut out = vec![];
        let mut k = 0;
        for path in self.paths.iter().copied() {
            visit_paths(data, path, &mut vec![], &mut |_, at| {
                if self.order.get(k).is_some_and(|&i| i != NONE && wanted(i)) {
                    out.push(at.iter().map(Seg::to_json).collect());
                }
                k += 1;
            });
        }
        out
    }

    /// The paths of the objects that sent representation `i`.
    pub(crate) fn paths_of(&self, data: &Val<'_>, i: usize) -> Vec<Vec<Value>> {
        self.paths_where(data, |r| r as usize == i)
    }

    /// The representations sent, in the order sent.
    fn representations(&self) -> Vec<&[u8]> {
        let mut out: Vec<&[u8]> = vec![&[]; self.index.len()];
        for (rep, &i) in &self.index {
            if let Some(slot) = out.get_mut(i as usize) {
                *slot = rep;
            }
        }
        out
    }

    /// The path where a whole-fetch error is reported: the first object's.
    fn first_path(&self, data: &Val<'_>) -> Vec<Value> {
        self.paths_where(data, |_| true)
            .into_iter()
            .next()
            .unwrap_or_default()
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
        run: &Run<'s, 'a>,
    ) {
        let Run {
            variables,
            is_subtype,
            buffers,
            state,
            headers,
            tracer,
            extensions,
        } = *run;
        let request = {
            let st = state.lock().unwrap_or_else(|e| e.into_inner());
            prepare(
                &st.data,
                &mut buffers.alloc(),
                node,
                paths,
                variables,
                is_subtype,
                extensions,
            )
        };
        let Some(Request { body, targets }) = request else {
            return;
        };
        let endpoint = &self.endpoints[node.graph];
        // An entity fetch whose every entity is kept is not sent.
        let cache = self
            .entity_cache
            .as_deref()
            .filter(|_| node.is_entity_fetch());
        let (used, representations) = match cache {
            Some(_) => (used_variables(node, variables), targets.representations()),
            None => (Vec::new(), Vec::new()),
        };
        let cached = EntityFetch {
            subgraph: &endpoint.name,
            operation: &node.operation,
            variables: &used,
        };
        if let Some(cache) = cache {
            if let Some(hit) = cache.get_all(&cached, &representations).await {
                let answer = buffers.keep(Bytes::from(entity_cache::answer_of(&hit)));
                let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
                st.cache_control
                    .merge(&entity_cache::cache_control_of(&hit));
                let alloc = &mut buffers.alloc();
                apply(&mut st, alloc, endpoint, node, is_subtype, &targets, answer);
                return;
            }
        }
        // A mutation is never sent twice; a query (entity fetches are
        // queries) only when it provably did not reach the subgraph.
        let resend = match node.kind {
            OperationType::Query => Resend::IfUnsent,
            _ => Resend::Never,
        };
        let none = http::HeaderMap::new();
        let mut headers = headers.get(node.graph).unwrap_or(&none);
        // A traced request passes its trace context on.
        let traced;
        let span = match tracer {
            Some(tracer) => {
                let (traceparent, span) = tracer.start(node.graph);
                if let Some(traceparent) = traceparent {
                    let mut with = headers.clone();
                    with.insert(crate::TRACEPARENT, traceparent);
                    traced = with;
                    headers = &traced;
                }
                span
            }
            None => None,
        };
        let started = self.observer.as_ref().map(|_| std::time::Instant::now());
        let read_cc = self.read_cache_control || cache.is_some();
        let result = self
            .client
            .post_reply(endpoint, headers, body, resend, read_cc)
            .await;
        if let (Some(observer), Some(started)) = (&self.observer, started) {
            observer.fetched(node.graph, started.elapsed(), result.as_ref().err());
        }
        if let Some(span) = span {
            span.end(result.as_ref().map(|r| r.body.len()));
        }
        if let (Some(cache), Ok(reply)) = (cache, &result) {
            if let Some(max_age) = entity_cache::keepable(reply.cache_control.as_ref()) {
                if let Some(entities) = entity_cache::entities_of(&reply.body, &representations) {
                    cache.put(&cached, entities, max_age).await;
                }
            }
        }
        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(reply) => {
                if let Some(cc) = &reply.cache_control {
                    st.cache_control.merge(cc);
                }
                let bytes = buffers.keep(reply.body);
                apply(
                    &mut st,
                    &mut buffers.alloc(),
                    endpoint,
                    node,
                    is_subtype,
                    &targets,
                    bytes,
                )
            }
            Err(e) => failed(&mut st, endpoint, node, &targets, e),
        }
    }
}

/// The values of the client variables `node`'s operation uses, as JSON
/// text (part of a kept entity's key).
fn used_variables(node: &FetchNode, variables: &Map<String, Value>) -> Vec<u8> {
    let used: Vec<(&str, Option<&Value>)> = node
        .variable_usages
        .iter()
        .map(|v| (v.as_str(), variables.get(v.as_str())))
        .collect();
    serde_json::to_vec(&used).unwrap_or_default()
}

/// Builds the request for `node` at `paths` over the response so far
/// (scratch values are allocated with `alloc`), with `extensions` (a JSON
/// object's text) as the request's `extensions` when given.
/// `None`: an entity fetch found no object to send, so nothing is sent.
pub fn prepare<'p>(
    data: &Val<'_>,
    alloc: &mut Alloc<'_>,
    node: &FetchNode,
    paths: &[&'p [PathElement]],
    variables: &Map<String, Value>,
    is_subtype: &(dyn Fn(&str, &str) -> bool + Sync),
    extensions: Option<&str>,
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
    body.push(b'}');
    if let Some(extensions) = extensions {
        body.extend_from_slice(b",\"extensions\":");
        body.extend_from_slice(extensions.as_bytes());
    }
    body.push(b'}');
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
    let shape = Representation::new(node);
    let mut scratch = Vec::with_capacity(64);
    // The last representation written, and its index.
    let (mut last, mut last_i) = (Vec::with_capacity(64), NONE);
    let mut rep = Obj::new();
    let Targets {
        order,
        paths,
        per_path,
        index,
        ..
    } = targets;
    for path in paths.iter().copied() {
        let before = order.len();
        visit_objects(data, path, &mut |obj| {
            if !shape.write(obj, is_subtype, alloc, &mut rep, &mut scratch) {
                order.push(NONE);
                return;
            }
            // Objects next to each other often send the same
            // representation: compare with the last one before hashing.
            let i = if last_i != NONE && last == scratch {
                last_i
            } else if let Some(&i) = index.get(&scratch) {
                i
            } else {
                let i = index.len() as u32;
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(&scratch);
                index.insert(scratch.clone(), i);
                i
            };
            order.push(i);
            last.clone_from(&scratch);
            last_i = i;
        });
        per_path.push(order.len() - before);
    }
    index.len()
}

/// How one entity fetch's representations are written, worked out once
/// per fetch.
struct Representation<'n> {
    node: &'n FetchNode,
    /// When every `... on T` fragment of the fetch's `requires` selects
    /// only leaf fields under their own names (each once) and no
    /// `__typename` is rewritten: each fragment's type condition and field
    /// names. Such representations are written straight from the object.
    flat: Option<Vec<(Option<&'n str>, Vec<&'n str>)>>,
}

impl<'n> Representation<'n> {
    fn new(node: &'n FetchNode) -> Self {
        let flat = || {
            if !node.typename_rewrites.is_empty() {
                return None;
            }
            let mut flat = vec![];
            for sel in &node.requires {
                let Selection::Fragment(fr) = sel else {
                    continue;
                };
                let mut names: Vec<&str> = vec![];
                for sel in &fr.selections {
                    match sel {
                        Selection::Field(f)
                            if f.alias.is_none()
                                && f.selections.is_empty()
                                && !names.contains(&f.name.as_str()) =>
                        {
                            names.push(f.name.as_str())
                        }
                        _ => return None,
                    }
                }
                flat.push((fr.type_condition.as_ref().map(|t| t.as_str()), names));
            }
            Some(flat)
        };
        Representation { node, flat: flat() }
    }

    /// Writes `object`'s representation to `out` (cleared first); `false`
    /// when it sends none. `rep` is scratch space for the general case.
    fn write<'r, 'b: 'r>(
        &self,
        object: &'r Obj<'_>,
        is_subtype: &(dyn Fn(&str, &str) -> bool + Sync),
        alloc: &mut Alloc<'b>,
        rep: &mut Obj<'r>,
        out: &mut Vec<u8>,
    ) -> bool
    where
        'n: 'r,
    {
        out.clear();
        if let Some(sent) = self.write_flat(object, is_subtype, out) {
            return sent;
        }
        // The general case: the representation is built as an object first.
        let found = representation_into(
            object,
            &self.node.requires,
            &self.node.typename_rewrites,
            &|a, b| is_subtype(a, b),
            alloc,
            rep,
        );
        if found {
            rep.write(out);
        }
        found
    }

    /// The flat case of [`Representation::write`]; `None` when it does not
    /// apply (not flat, or several fragments apply to the object's type).
    fn write_flat(
        &self,
        object: &Obj<'_>,
        is_subtype: &(dyn Fn(&str, &str) -> bool + Sync),
        out: &mut Vec<u8>,
    ) -> Option<bool> {
        let flat = self.flat.as_ref()?;
        let Some(typename) = object.get("__typename").and_then(Val::as_str) else {
            return Some(false);
        };
        let mut matching = flat.iter().filter(|(t, _)| match t {
            Some(t) => *t == typename || is_subtype(t, typename),
            None => true,
        });
        let fields = match (matching.next(), matching.next()) {
            (None, _) => return Some(false),
            (Some((_, fields)), None) => fields,
            (Some(_), Some(_)) => return None,
        };
        out.push(b'{');
        for (i, name) in fields.iter().enumerate() {
            let Some(v) = object.get(name) else {
                return Some(false);
            };
            if i > 0 {
                out.push(b',');
            }
            write_str(out, name);
            out.push(b':');
            v.write(out);
        }
        out.push(b'}');
        Some(true)
    }
}

/// Records a fetch that brought no GraphQL answer.
fn failed(
    st: &mut State<'_>,
    endpoint: &SubgraphEndpoint,
    node: &FetchNode,
    targets: &Targets<'_>,
    e: FetchError,
) {
    let path = targets.first_path(&st.data);
    if let FetchError::Malformed(why) = &e {
        st.errors.push(malformed(endpoint, why, &path));
        return;
    }
    st.errors.push(http_error(endpoint, &e, &path));
    if let FetchError::Status {
        body: Some(body), ..
    } = e
    {
        if let Some(Value::Array(errs)) = body.get("errors") {
            for err in errs {
                let errs = subgraph_errors(endpoint, err.clone(), node, targets, &st.data);
                st.errors.extend(errs);
            }
        }
    }
}

/// Parses a subgraph's answer (the body of a 2xx response), checks it and
/// merges it into the response being built. Anything malformed becomes an
/// error, never a crash, and never overwrites what other subgraphs returned.
#[allow(clippy::too_many_arguments)]
pub fn apply<'a, 'b: 'a>(
    st: &mut State<'a>,
    alloc: &mut Alloc<'b>,
    endpoint: &SubgraphEndpoint,
    node: &FetchNode,
    is_subtype: &(dyn Fn(&str, &str) -> bool + Sync),
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
    let bad = |why: &str, data: &Val<'_>| malformed(endpoint, why, &targets.first_path(data));
    let had_errors = match response.remove("errors") {
        None | Some(Val::Null) => false,
        Some(Val::List(errs)) => {
            let any = !errs.is_empty();
            for err in errs {
                let errs = subgraph_errors(endpoint, err.to_json(), node, targets, &st.data);
                st.errors.extend(errs);
            }
            any
        }
        Some(_) => {
            let e = bad("`errors` is not a list", &st.data);
            st.errors.push(e);
            true
        }
    };
    let mut data = match response.remove("data") {
        Some(Val::Null) | None if had_errors => return,
        Some(d @ Val::Obj(_)) => d,
        None => {
            let e = bad("the response has no `data`", &st.data);
            st.errors.push(e);
            return;
        }
        Some(Val::Null) => {
            let e = bad("`data` is null and there are no errors", &st.data);
            st.errors.push(e);
            return;
        }
        Some(_) => {
            let e = bad("`data` is not an object", &st.data);
            st.errors.push(e);
            return;
        }
    };
    if node.has_aliases {
        unalias(alloc, &mut data);
    }
    if !node.is_entity_fetch() {
        // Only a selection with type conditions can meet a type the
        // subgraph does not define.
        if let Some(types) = endpoint.foreign_types.as_deref() {
            if node.has_type_conditions {
                let mut path = Vec::new();
                refuse_foreign_types(&mut data, types, endpoint, &mut path, &mut st.errors);
            }
        }
        deep_merge(alloc, &mut st.data, data, is_subtype);
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
            let e = bad(&why, &st.data);
            st.errors.push(e);
            return;
        }
        Some(Val::Null) | None if had_errors => return,
        _ => {
            let e = bad("`_entities` is missing or not a list", &st.data);
            st.errors.push(e);
            return;
        }
    };
    merge_entities(st, alloc, endpoint, node, is_subtype, targets, entities);
}

/// Nulls every object in `value` whose `__typename` is one of the
/// `foreign` types (that the subgraph does not define), with an error at
/// its path.
fn refuse_foreign_types(
    value: &mut Val<'_>,
    foreign: &std::collections::HashSet<String>,
    endpoint: &SubgraphEndpoint,
    path: &mut Vec<Value>,
    errors: &mut Vec<Value>,
) {
    match value {
        Val::Obj(obj) => {
            let not_ours = obj
                .get("__typename")
                .and_then(Val::as_str)
                .filter(|t| foreign.contains(*t))
                .map(str::to_owned);
            if let Some(typename) = not_ours {
                let why =
                    format!("an object of type `{typename}`, which the subgraph does not define");
                errors.push(malformed(endpoint, &why, path));
                *value = Val::Null;
                return;
            }
            for (key, child) in obj.iter_mut() {
                path.push(Value::String(key.to_owned()));
                refuse_foreign_types(child, foreign, endpoint, path, errors);
                path.pop();
            }
        }
        Val::List(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(Value::from(i));
                refuse_foreign_types(item, foreign, endpoint, path, errors);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Merges each entity into every object that sent its representation.
fn merge_entities<'a, 'b: 'a>(
    st: &mut State<'a>,
    alloc: &mut Alloc<'b>,
    endpoint: &SubgraphEndpoint,
    node: &FetchNode,
    is_subtype: &(dyn Fn(&str, &str) -> bool + Sync),
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
                for p in targets.paths_of(&st.data, i) {
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
    for (k, &i) in targets.order.iter().enumerate() {
        if i != NONE {
            last_use[i as usize] = k;
        }
    }
    // One walk per path finds its objects, in the order the
    // representations were collected.
    let mut from = 0;
    for (path, &count) in targets.paths.iter().zip(&targets.per_path) {
        let order = &targets.order[from..from + count];
        let mut objects = Vec::with_capacity(count);
        objects_mut(&mut st.data, path, &mut objects);
        if objects.len() == order.len() {
            for (k, (obj, &i)) in (from..).zip(objects.into_iter().zip(order)) {
                if i == NONE {
                    continue;
                }
                let i = i as usize;
                if last_use[i] == k {
                    if let Some(entity) = entities[i].take() {
                        merge_object(alloc, obj, entity, is_subtype);
                    }
                } else if let Some(entity) = &entities[i] {
                    merge_object_ref(alloc, obj, entity, is_subtype);
                }
            }
        } else {
            // The objects here changed meanwhile (another fetch added or
            // removed some): each object takes the entity its
            // representation asks for now, if that entity is still here.
            let shape = Representation::new(node);
            let mut scratch = vec![];
            for obj in objects {
                let mut rep = Obj::new();
                if !shape.write(obj, is_subtype, alloc, &mut rep, &mut scratch) {
                    continue;
                }
                let entity = targets
                    .index
                    .get(&scratch)
                    .and_then(|&i| entities[i as usize].as_ref());
                if let Some(entity) = entity {
                    merge_object_ref(alloc, obj, entity, is_subtype);
                }
            }
        }
        from += count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Buffers;
    use apollo_compiler::ast::{DirectiveList, OperationType};
    use apollo_compiler::Name;
    use goliath_planner::selection::{Field, Fragment};
    use serde_json::json;

    fn leaf(name: &str) -> Selection {
        Selection::Field(Field::leaf(Name::new(name).unwrap()))
    }

    fn on(ty: &str, selections: Vec<Selection>) -> Selection {
        Selection::Fragment(Fragment {
            type_condition: Some(Name::new(ty).unwrap()),
            directives: DirectiveList::new(),
            selections,
        })
    }

    fn entity_fetch(requires: Vec<Selection>) -> FetchNode {
        FetchNode {
            service: "s".into(),
            graph: 0,
            kind: OperationType::Query,
            operation: "query($representations:[_Any!]!){_entities(representations:$representations){... on P{n}}}".into(),
            variable_usages: vec![],
            requires,
            typename_rewrites: vec![],
            has_aliases: false,
            has_type_conditions: false,
        }
    }

    fn endpoint() -> SubgraphEndpoint {
        SubgraphEndpoint {
            name: "s".into(),
            url: "http://127.0.0.1:1/".into(),
            timeout: std::time::Duration::from_secs(1),
            include_errors: true,
            max_response_bytes: 1 << 20,
            tls: None,
            foreign_types: None,
        }
    }

    /// Only `Node` is abstract here, and `P` implements it.
    fn is_subtype(a: &str, b: &str) -> bool {
        a == "Node" && b == "P"
    }

    fn representations(node: &FetchNode, data: &str) -> (Value, Vec<u32>) {
        let buffers = Buffers::new();
        let data = Val::parse(data.as_bytes(), &mut buffers.alloc()).unwrap();
        let vars = Map::new();
        let path = [PathElement::Key(Name::new("a").unwrap()), PathElement::List];
        let request = prepare(
            &data,
            &mut buffers.alloc(),
            node,
            &[&path],
            &vars,
            &is_subtype,
            None,
        )
        .unwrap();
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        (
            body["variables"]["representations"].clone(),
            request.targets.order.clone(),
        )
    }

    #[test]
    fn flat_representations_are_written_as_the_general_case_writes_them() {
        let data = r#"{"a":[
            {"__typename":"P","id":"1","n":1,"x":true},
            {"__typename":"P","id":"2"},
            {"__typename":"Q","id":"1","n":2},
            {"__typename":"P","n":3},
            {"__typename":"P","id":"1","n":1},
            {"id":"9"}
        ]}"#;
        let flat = entity_fetch(vec![on("P", vec![leaf("__typename"), leaf("id")])]);
        assert!(Representation::new(&flat).flat.is_some());
        let (reps, order) = representations(&flat, data);
        assert_eq!(
            reps,
            json!([{"__typename":"P","id":"1"},{"__typename":"P","id":"2"}])
        );
        assert_eq!(order, [0, 1, NONE, NONE, 0, NONE]);

        // An abstract condition as well: two fragments apply to `P`, and
        // their fields are merged (the general case).
        let both = entity_fetch(vec![
            on("Node", vec![leaf("__typename"), leaf("id")]),
            on("P", vec![leaf("__typename"), leaf("n")]),
        ]);
        let (reps, order) = representations(&both, data);
        assert_eq!(reps, json!([{"__typename":"P","id":"1","n":1}]));
        assert_eq!(order, [0, NONE, NONE, NONE, 0, NONE]);

        // A fragment inside a fragment is never flat; the answer is the
        // same as with both fragments side by side.
        let nested = entity_fetch(vec![on(
            "P",
            vec![leaf("__typename"), leaf("id"), on("P", vec![leaf("n")])],
        )]);
        assert!(Representation::new(&nested).flat.is_none());
        let (reps, _) = representations(&nested, data);
        assert_eq!(reps, json!([{"__typename":"P","id":"1","n":1}]));
    }

    #[test]
    fn objects_added_at_a_path_meanwhile_are_matched_by_representation() {
        let buffers = Buffers::new();
        let text = br#"{"a":[{"__typename":"P","id":"1"},{"__typename":"P","id":"2"}]}"#;
        let mut st = State {
            data: Val::parse(text, &mut buffers.alloc()).unwrap(),
            errors: vec![],
            cache_control: Default::default(),
        };
        let node = entity_fetch(vec![on("P", vec![leaf("__typename"), leaf("id")])]);
        let path = [PathElement::Key(Name::new("a").unwrap()), PathElement::List];
        let vars = Map::new();
        let request = prepare(
            &st.data,
            &mut buffers.alloc(),
            &node,
            &[&path],
            &vars,
            &is_subtype,
            None,
        )
        .unwrap();
        // Another fetch puts a third object in front of the two.
        let more = br#"{"a":[{"__typename":"P","id":"2"},{"__typename":"P","id":"1"},{"__typename":"P","id":"3"}]}"#;
        st.data = Val::parse(more, &mut buffers.alloc()).unwrap();
        let answer = buffers.keep(bytes::Bytes::from_static(
            br#"{"data":{"_entities":[{"n":"one"},{"n":"two"}]}}"#,
        ));
        apply(
            &mut st,
            &mut buffers.alloc(),
            &endpoint(),
            &node,
            &is_subtype,
            &request.targets,
            answer,
        );
        assert!(st.errors.is_empty(), "{:?}", st.errors);
        assert_eq!(
            st.data.to_json(),
            json!({"a":[
                {"__typename":"P","id":"2","n":"two"},
                {"__typename":"P","id":"1","n":"one"},
                {"__typename":"P","id":"3"}
            ]})
        );
    }

    #[test]
    fn error_paths_are_found_by_walking_again() {
        let buffers = Buffers::new();
        let text = br#"{"a":[{"__typename":"P","id":"1"},{"__typename":"Q"},{"__typename":"P","id":"1"}]}"#;
        let data = Val::parse(text, &mut buffers.alloc()).unwrap();
        let node = entity_fetch(vec![on("P", vec![leaf("__typename"), leaf("id")])]);
        let path = [PathElement::Key(Name::new("a").unwrap()), PathElement::List];
        let request = prepare(
            &data,
            &mut buffers.alloc(),
            &node,
            &[&path],
            &Map::new(),
            &is_subtype,
            None,
        )
        .unwrap();
        assert_eq!(
            request.targets.paths_of(&data, 0),
            [json!(["a", 0]), json!(["a", 2])].map(|p| p.as_array().unwrap().clone())
        );
        assert_eq!(
            request.targets.first_path(&data),
            vec![json!("a"), json!(0)]
        );
    }
}
