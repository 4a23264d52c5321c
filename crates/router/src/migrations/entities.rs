//! The direct comparison: the new subgraph asked for the migrating field of
//! the very entities the client got, by their keys, in one `_entities`
//! request — no parent fetched twice.
//!
//! It applies when the new subgraph can be entered by a key made of plain
//! fields, needs no `@requires` for the field, and resolves everything the
//! client selects under the field itself, with no variables or directives
//! there. The client's operation is then planned augmented
//! (`goliath_planner::shadow::augment`: the key fields beside the field,
//! under aliases the client never sees); [`extract`] reads each parent's
//! representation and the field's value out of the merged answer before
//! the client's response is projected; [`run`] asks the new subgraph
//! (and, for noise, the old one) and compares. Otherwise the comparison
//! falls back to the shadow operation (`shadow.rs`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use apollo_compiler::executable::{ExecutableDocument, Field, Selection, SelectionSet};
use apollo_compiler::Node;
use goliath_executor::value::Val;
use goliath_supergraph::Supergraph;
use serde_json::{Map, Value};

use super::compare;
use super::record::{now_rfc3339, Tally, Witness, SAMPLES_PER_COMPARISON};
use super::table::{Active, Table};

/// The key fields by which `a.to` is asked for `a`'s field, when the
/// direct comparison applies to it.
pub fn key_fields(supergraph: &Supergraph, a: &Active) -> Option<Vec<String>> {
    let graph = |name: &str| supergraph.graphs.iter().position(|g| g.name == name);
    let to = graph(&a.to)?;
    let ty = supergraph.type_info(&a.type_name)?;
    let in_to = ty.in_graph(to)?;
    let key = in_to.keys.iter().find(|k| {
        k.resolvable
            && k.selection
                .selections
                .iter()
                .all(|s| matches!(s, Selection::Field(f) if f.selection_set.selections.is_empty()))
    })?;
    let field = supergraph.field_in_graph(&a.type_name, &a.field, to)?;
    if field.external || field.requires.is_some() {
        return None;
    }
    Some(key.selection.fields().map(|f| f.name.to_string()).collect())
}

/// Can `graph` resolve all of `set` (on `ty`) by itself?
fn local(
    supergraph: &Supergraph,
    graph: usize,
    ty: &str,
    set: &SelectionSet,
    depth: usize,
) -> bool {
    if depth > 64 {
        return false;
    }
    set.selections.iter().all(|s| match s {
        Selection::Field(f) => {
            if f.name.starts_with("__") {
                return true;
            }
            let resolves = match supergraph.type_info(ty) {
                Some(_) => supergraph
                    .field_in_graph(ty, &f.name, graph)
                    .is_some_and(|fig| !fig.external && fig.requires.is_none()),
                None => false,
            };
            resolves
                && (f.selection_set.selections.is_empty()
                    || local(
                        supergraph,
                        graph,
                        f.selection_set.ty.as_str(),
                        &f.selection_set,
                        depth + 1,
                    ))
        }
        Selection::InlineFragment(i) => local(
            supergraph,
            graph,
            i.type_condition.as_ref().map_or(ty, |t| t.as_str()),
            &i.selection_set,
            depth + 1,
        ),
        Selection::FragmentSpread(_) => false,
    })
}

/// One parent entity's migrating field as the client got it, with how
/// many places in the answer had the same entity and value (a list of
/// products often names one product many times): each counts as one
/// comparison, the entity is asked for once.
#[derive(Debug, Clone)]
pub struct Occurrence {
    /// The compared field's slot (index into the job's `compare`).
    pub slot: usize,
    /// The response path of the first such place.
    pub path: Vec<Value>,
    /// The parent's representation for the new subgraph.
    pub representation: Value,
    /// The field's value in the client's answer (`null` when absent).
    pub old: Value,
    /// The field as selection text (`alias: name(args) { … }`).
    pub selection: String,
    /// The field's response key.
    pub key: String,
    /// The field's selection, for shaping both values alike.
    pub field: Node<Field>,
    /// How many places had this entity and value.
    pub count: u64,
    /// The response paths of the places (the first few; only the first
    /// when the answer had no errors), for errors.
    pub paths: Vec<Vec<Value>>,
}

/// What the direct comparison read from one request's merged answer.
#[derive(Debug, Default)]
pub struct Extracted {
    /// Each distinct parent entity's field.
    pub occurrences: Vec<Occurrence>,
    /// Some occurrence cannot be compared directly (its selection needs
    /// other subgraphs, variables or directives): use the shadow operation.
    pub fallback: bool,
}

/// Paths of one distinct occurrence kept for matching errors.
const PATHS_KEPT: usize = 8;

/// Reads the compared fields' occurrences out of the merged `data` of the
/// augmented operation, walking the client's `operation` of `doc`. With
/// `has_errors`, every place's path is kept (up to a few) to match the
/// errors against.
pub fn extract(
    supergraph: &Supergraph,
    doc: &ExecutableDocument,
    operation: &apollo_compiler::executable::Operation,
    data: &Val<'_>,
    table: &Table,
    compare: &[usize],
    has_errors: bool,
) -> Extracted {
    let mut walker = Walker {
        keep_paths: has_errors,
        keys: HashMap::new(),
        supergraph,
        doc,
        table,
        compare,
        out: Extracted::default(),
        local_memo: HashMap::new(),
        seen: HashMap::new(),
        scratch: Vec::new(),
    };
    let mut path = vec![];
    walker.value(&operation.selection_set, data, &mut path, 0);
    walker.out
}

/// A step of a response path, borrowed while walking.
#[derive(Clone, Copy)]
enum Seg<'d> {
    Key(&'d str),
    Index(usize),
}

fn to_path(path: &[Seg<'_>]) -> Vec<Value> {
    path.iter()
        .map(|s| match s {
            Seg::Key(k) => Value::String((*k).to_owned()),
            Seg::Index(i) => Value::from(*i),
        })
        .collect()
}

struct Walker<'a> {
    supergraph: &'a Supergraph,
    doc: &'a ExecutableDocument,
    table: &'a Table,
    compare: &'a [usize],
    out: Extracted,
    /// Selection text (or `None`: not direct) by field node address.
    local_memo: HashMap<usize, Option<String>>,
    /// Distinct occurrences by slot, field node, representation and value
    /// (as bytes).
    seen: HashMap<Vec<u8>, usize>,
    /// Keep every place's path (the answer has errors to match).
    keep_paths: bool,
    /// Each compared slot's key fields.
    keys: HashMap<usize, Vec<String>>,
    scratch: Vec<u8>,
}

impl<'a> Walker<'a> {
    fn value<'d>(
        &mut self,
        set: &'d SelectionSet,
        val: &Val<'_>,
        path: &mut Vec<Seg<'d>>,
        depth: usize,
    ) where
        'a: 'd,
    {
        if depth > 256 {
            return;
        }
        match val {
            Val::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(Seg::Index(i));
                    self.value(set, item, path, depth + 1);
                    path.pop();
                }
            }
            Val::Obj(_) => self.object(set, val, path, depth),
            _ => {}
        }
    }

    fn object<'d>(
        &mut self,
        set: &'d SelectionSet,
        obj: &Val<'_>,
        path: &mut Vec<Seg<'d>>,
        depth: usize,
    ) where
        'a: 'd,
    {
        let Some(o) = obj.as_obj() else { return };
        let runtime: &str = o
            .get("__typename")
            .and_then(Val::as_str)
            .unwrap_or(set.ty.as_str());
        for selection in &set.selections {
            match selection {
                Selection::Field(f) => {
                    let key = f.response_key().as_str();
                    let slot = self
                        .table
                        .index(runtime, &f.name)
                        .and_then(|i| self.compare.iter().position(|&c| c == i));
                    let value = o.get(key).unwrap_or(&goliath_executor::value::NULL);
                    path.push(Seg::Key(key));
                    match slot {
                        Some(slot) => self.occurrence(slot, f, o, value, path),
                        None if !f.selection_set.selections.is_empty() => {
                            self.value(&f.selection_set, value, path, depth + 1)
                        }
                        None => {}
                    }
                    path.pop();
                }
                Selection::InlineFragment(inline) => {
                    let applies = inline.type_condition.as_ref().is_none_or(|c| {
                        c.as_str() == runtime || self.supergraph.is_possible_type(c, runtime)
                    });
                    if applies {
                        self.object(&inline.selection_set, obj, path, depth + 1);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = self.doc.fragments.get(&spread.fragment_name) {
                        let c = fragment.type_condition();
                        if c.as_str() == runtime || self.supergraph.is_possible_type(c, runtime) {
                            self.object(&fragment.selection_set, obj, path, depth + 1);
                        }
                    }
                }
            }
        }
    }

    fn occurrence(
        &mut self,
        slot: usize,
        f: &Node<Field>,
        o: &goliath_executor::value::Obj<'_>,
        value: &Val<'_>,
        path: &[Seg<'_>],
    ) {
        let a = &self.table.fields[self.compare[slot]];
        let Some(typename) = o.get("__typename").and_then(Val::as_str) else {
            // Not fetched by the augmented operation (say, an abstract
            // parent): the shadow operation compares it.
            self.out.fallback = true;
            return;
        };
        let keys = self
            .keys
            .entry(slot)
            .or_insert_with(|| key_fields(self.supergraph, a).unwrap_or_default())
            .clone();
        let node = &**f as *const Field as usize;
        // The same entity and value seen before: one more place.
        self.scratch.clear();
        self.scratch.extend_from_slice(&slot.to_le_bytes());
        self.scratch.extend_from_slice(&node.to_le_bytes());
        self.scratch.extend_from_slice(typename.as_bytes());
        for k in &keys {
            let Some(v) = o.get(k) else {
                self.out.fallback = true;
                return;
            };
            self.scratch.push(0);
            v.write(&mut self.scratch);
        }
        self.scratch.push(1);
        value.write(&mut self.scratch);
        if let Some(&i) = self.seen.get(self.scratch.as_slice()) {
            let occurrence = &mut self.out.occurrences[i];
            occurrence.count += 1;
            if self.keep_paths && occurrence.paths.len() < PATHS_KEPT {
                occurrence.paths.push(to_path(path));
            }
            return;
        }
        let supergraph = self.supergraph;
        let doc = self.doc;
        let selection = self
            .local_memo
            .entry(node)
            .or_insert_with(|| {
                let to = supergraph.graphs.iter().position(|g| g.name == a.to)?;
                if !f.selection_set.selections.is_empty()
                    && !local(
                        supergraph,
                        to,
                        f.selection_set.ty.as_str(),
                        &f.selection_set,
                        0,
                    )
                {
                    return None;
                }
                goliath_planner::shadow::selection_text(&supergraph.api_schema, doc, f)
            })
            .clone();
        let Some(selection) = selection else {
            self.out.fallback = true;
            return;
        };
        let mut representation = Map::new();
        representation.insert("__typename".into(), Value::String(typename.to_owned()));
        for k in &keys {
            if let Some(v) = o.get(k) {
                representation.insert(k.clone(), v.to_json());
            }
        }
        let first = to_path(path);
        self.seen
            .insert(self.scratch.clone(), self.out.occurrences.len());
        self.out.occurrences.push(Occurrence {
            slot,
            path: first.clone(),
            representation: Value::Object(representation),
            old: value.to_json(),
            selection,
            key: f.response_key().to_string(),
            field: f.clone(),
            count: 1,
            paths: vec![first],
        });
    }
}

/// Asks `subgraph` for each occurrence's field of its entity (through the
/// batcher); the answers in occurrence order (`Err` for an occurrence
/// whose entity failed), and how long the slowest request took.
async fn ask(
    ctx: &Direct<'_>,
    subgraph: &str,
    table_type: &str,
    occurrences: &[Occurrence],
) -> Result<(Vec<Result<Value, String>>, Duration), String> {
    // One ask per distinct selection, one representation per entity.
    let mut groups: Vec<(String, Vec<Value>, HashMap<String, usize>)> = vec![];
    let mut index: Vec<(usize, usize)> = Vec::with_capacity(occurrences.len());
    for o in occurrences {
        let g = match groups.iter().position(|(s, _, _)| *s == o.selection) {
            Some(g) => g,
            None => {
                groups.push((o.selection.clone(), vec![], HashMap::new()));
                groups.len() - 1
            }
        };
        let text = o.representation.to_string();
        let (_, reps, seen) = &mut groups[g];
        let r = *seen.entry(text).or_insert_with(|| {
            reps.push(o.representation.clone());
            reps.len() - 1
        });
        index.push((g, r));
    }
    let mut answers: Vec<Vec<Result<Value, String>>> = vec![];
    let mut took = Duration::ZERO;
    for (selection, reps, _) in groups {
        let (group, t) = ctx
            .batcher
            .ask(
                ctx.executor,
                subgraph,
                ctx.headers(subgraph),
                table_type,
                &selection,
                reps,
                ctx.window,
                ctx.timeout,
            )
            .await?;
        took = took.max(t);
        answers.push(group);
    }
    Ok((
        index
            .into_iter()
            .map(|(g, r)| answers[g][r].clone())
            .collect(),
        took,
    ))
}

/// What a direct comparison's requests go through.
pub struct Direct<'a> {
    /// The executor (subgraph endpoints and client).
    pub executor: &'a Arc<goliath_executor::Executor>,
    /// The batcher of `_entities` requests.
    pub batcher: &'a Arc<super::batch::Batcher>,
    /// How long a batch gathers asks.
    pub window: Duration,
    /// How long one request may take.
    pub timeout: Duration,
    /// The subgraphs' names, by graph index.
    pub graphs: &'a [goliath_supergraph::Graph],
    /// The client request's headers for each subgraph, by graph index
    /// (`crate::headers`; empty without rules).
    pub headers: &'a [http::HeaderMap],
}

impl Direct<'_> {
    /// The headers for requests to `subgraph`.
    fn headers(&self, subgraph: &str) -> &http::HeaderMap {
        static NONE: std::sync::OnceLock<http::HeaderMap> = std::sync::OnceLock::new();
        self.graphs
            .iter()
            .position(|g| g.name == subgraph)
            .and_then(|i| self.headers.get(i))
            .unwrap_or_else(|| NONE.get_or_init(http::HeaderMap::new))
    }
}

/// The value of an occurrence's field in an entity answer.
fn field_of(entity: &Value, o: &Occurrence) -> Value {
    entity.get(&o.key).cloned().unwrap_or(Value::Null)
}

/// Keeps of `value` only what `set` selects (merged answers carry keys and
/// `__typename`s the client did not ask for).
fn shape(value: &Value, set: &SelectionSet, depth: usize) -> Value {
    if set.selections.is_empty() || depth > 256 {
        return value.clone();
    }
    match value {
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| shape(v, set, depth + 1)).collect())
        }
        Value::Object(m) => {
            let mut out = Map::new();
            shape_into(m, set, &mut out, depth);
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn shape_into(
    m: &Map<String, Value>,
    set: &SelectionSet,
    out: &mut Map<String, Value>,
    depth: usize,
) {
    for s in &set.selections {
        match s {
            Selection::Field(f) => {
                let key = f.response_key().as_str();
                if let Some(v) = m.get(key) {
                    out.insert(key.to_owned(), shape(v, &f.selection_set, depth + 1));
                }
            }
            Selection::InlineFragment(i) => shape_into(m, &i.selection_set, out, depth + 1),
            Selection::FragmentSpread(_) => {}
        }
    }
}

/// Runs a direct comparison; returns the tallies by field slot.
#[allow(clippy::too_many_arguments)]
pub(super) async fn run(
    ctx: &Direct<'_>,
    table: &Table,
    compare: &[usize],
    occurrences: &[Occurrence],
    noisy: &(dyn Fn(&str) -> std::collections::BTreeSet<String> + Sync),
    noise_roll: bool,
    samples_kept: usize,
    served_in: Duration,
    operation_name: Option<&str>,
    tallies: &mut [(String, Tally)],
) {
    let now = now_rfc3339();
    for (slot, &i) in compare.iter().enumerate() {
        let a = &table.fields[i];
        let mine: Vec<Occurrence> = occurrences
            .iter()
            .filter(|o| o.slot == slot)
            .cloned()
            .collect();
        if mine.is_empty() {
            continue;
        }
        let t = &mut tallies[slot].1;
        let mut witness = Witness {
            operation: operation_name,
            at: &now,
            left: samples_kept.min(SAMPLES_PER_COMPARISON),
        };
        let new = ask(ctx, &a.to, &a.type_name, &mine).await;
        let mut old_in = served_in;
        let again = if noise_roll {
            match ask(ctx, &a.from, &a.type_name, &mine).await {
                Ok((again, took)) => {
                    old_in = took;
                    Some(again)
                }
                Err(_) => None,
            }
        } else {
            None
        };
        t.latency("old", old_in.as_secs_f64() * 1000.0);
        let new = match new {
            Ok((new, new_in)) => {
                t.latency("new", new_in.as_secs_f64() * 1000.0);
                new
            }
            Err(message) => {
                let new = Value::String(message);
                t.failed(
                    1,
                    "errors_new",
                    mine[0].path.clone(),
                    Value::Null,
                    new,
                    &mut witness,
                );
                continue;
            }
        };
        fn set(o: &Occurrence) -> &SelectionSet {
            &o.field.selection_set
        }
        if let Some(again) = &again {
            for (o, a2) in mine.iter().zip(again) {
                if let Ok(entity) = a2 {
                    let old = shape(&o.old, set(o), 0);
                    let old2 = shape(&field_of(entity, o), set(o), 0);
                    for d in compare::diff(&old, &old2, &a.rules) {
                        t.noise.insert(compare::pattern(&d.path));
                    }
                }
            }
        }
        let mut noise = noisy(&a.coordinate);
        noise.extend(t.noise.iter().cloned());
        for (o, n) in mine.iter().zip(new) {
            let places = o.count as i64;
            let old = shape(&o.old, set(o), 0);
            match n {
                Ok(entity) => {
                    let new = shape(&field_of(&entity, o), set(o), 0);
                    t.judge(places, &o.path, &old, &new, &a.rules, &noise, &mut witness);
                }
                Err(message) => {
                    let (path, new) = (o.path.clone(), Value::String(message));
                    t.failed(places, "errors_new", path, o.old.clone(), new, &mut witness);
                }
            }
        }
    }
}
