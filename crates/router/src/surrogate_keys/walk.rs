//! [`collect`]: the tags of an answer, from its merged execution data.
//!
//! The merged data is keyed by response key (alias or field name, see
//! `goliath_executor::project`), and also holds the fields the planner
//! added for its own use (keys, `__typename`, requirements) under their
//! field name, or `_goliath_key_<name>` when a client field already used
//! that name at the same position. The walk follows the client operation
//! over that tree as projection does (fragments matched on each object's
//! runtime type, `@skip`/`@include`), grouping each (selection sets,
//! runtime type) pair's fields once, so it is linear in the data.

use std::collections::HashMap;
use std::rc::Rc;

use apollo_compiler::executable::{ExecutableDocument, Field, Operation, Selection, SelectionSet};
use apollo_compiler::schema::ExtendedType;
use goliath_executor::value::{Obj, Val};
use goliath_supergraph::Supergraph;
use serde_json::{Map, Value};

use super::select::{included, lookup, Group};
use super::{encode_into, Tags, MAX_ENTITY_TAGS};

/// Walks the merged execution data of `operation` and collects the object
/// types (e.g. `User`) and entity keys (e.g. `User:42`) in it. Root
/// operation types are not tagged; an object of an abstract field is
/// typed by its `__typename` (no type tag when that is missing or unknown,
/// but its fields are still walked); an entity gets the tag of the first
/// key (in supergraph order) whose fields are all in the data.
pub fn collect<'a>(
    supergraph: &'a Supergraph,
    doc: &'a ExecutableDocument,
    operation: &'a Operation,
    variables: &'a Map<String, Value>,
    data: &Val<'_>,
) -> Tags {
    let mut w = Walker {
        supergraph,
        doc,
        variables,
        cache: HashMap::new(),
        tags: Tags::default(),
        scratch: String::new(),
    };
    if let Some(root) = data.as_obj() {
        let set = &operation.selection_set;
        let groups = w.grouped(set.ty.as_str(), &[set], set as *const SelectionSet as usize);
        w.object(&groups, root);
    }
    w.tags
}

/// A runtime type's groups, shared by every object of that type at a position.
type Grouped<'a> = Rc<Vec<Group<'a>>>;

struct Walker<'a> {
    supergraph: &'a Supergraph,
    doc: &'a ExecutableDocument,
    variables: &'a Map<String, Value>,
    /// By (selection sets' id, runtime type name's address and length).
    cache: HashMap<(usize, usize, usize), Grouped<'a>>,
    tags: Tags,
    /// The entity tag being written.
    scratch: String,
}

impl<'a> Walker<'a> {
    /// Walks the fields of `obj`, grouped for its runtime type.
    fn object(&mut self, groups: &[Group<'a>], obj: &Obj<'_>) {
        for g in groups {
            if g.name.starts_with("__") || g.sets.iter().all(|s| s.selections.is_empty()) {
                continue;
            }
            if let Some(value) = obj.get(g.key) {
                self.value(g, value);
            }
        }
    }

    fn value(&mut self, g: &Group<'a>, value: &Val<'_>) {
        match value {
            Val::List(items) => items.iter().for_each(|item| self.value(g, item)),
            Val::Obj(obj) => {
                let (runtime, known) = match g.kind {
                    Some(ExtendedType::Interface(_) | ExtendedType::Union(_)) => {
                        self.runtime_type(g, obj)
                    }
                    _ => (g.ty, true),
                };
                let id = g as *const Group as usize;
                let groups = self.grouped(runtime, &g.sets, id);
                if known {
                    self.tag(runtime, obj, &groups);
                }
                self.object(&groups, obj);
            }
            _ => {}
        }
    }

    /// The concrete type of an object at an abstract position, from its
    /// `__typename`, and whether it is known (else the abstract type, to
    /// walk its fields by, and false).
    fn runtime_type(&mut self, g: &Group<'a>, obj: &Obj<'_>) -> (&'a str, bool) {
        let mut typename = obj.get("__typename").and_then(Val::as_str);
        if typename.is_none() {
            // The client's own `__typename`, aliased.
            let groups = self.grouped(g.ty, &g.sets, g as *const Group as usize);
            let alias = groups.iter().find(|c| c.name == "__typename");
            typename = alias.and_then(|c| obj.get(c.key)).and_then(Val::as_str);
        }
        let schema = &self.supergraph.api_schema;
        match typename.and_then(|t| schema.types.get_key_value(t)) {
            Some((name, ExtendedType::Object(_))) => (name.as_str(), true),
            // An @interfaceObject answered without the real type.
            Some((name, _)) if name == g.ty => (g.ty, true),
            _ => (g.ty, false),
        }
    }

    /// Adds the type tag of an object of `type_name` and, for an entity,
    /// its entity tag.
    fn tag(&mut self, type_name: &'a str, obj: &Obj<'_>, groups: &[Group<'a>]) {
        if self.is_root(type_name) {
            return;
        }
        if !self.tags.types.contains(type_name) {
            self.tags.types.insert(super::type_tag(type_name));
        }
        let Some(info) = self.supergraph.type_info(type_name) else {
            return;
        };
        let mut keys = info.graphs.iter().flat_map(|t| t.keys.iter()).peekable();
        if keys.peek().is_none() {
            return;
        }
        if self.tags.entities.len() < MAX_ENTITY_TAGS {
            for key in keys {
                self.scratch.clear();
                encode_into(&mut self.scratch, type_name);
                if self.key_values(&key.selection, obj, groups) {
                    if !self.tags.entities.contains(self.scratch.as_str()) {
                        self.tags.entities.insert(self.scratch.clone());
                    }
                    return;
                }
            }
        }
        if !self.tags.unkeyed.contains(type_name) {
            self.tags.unkeyed.insert(super::type_tag(type_name));
        }
    }

    /// Appends `:value` to the scratch tag for each leaf of the key field
    /// set `key`, depth-first, read from `obj`; false when one is missing
    /// or not a string, number or boolean. `client` is the client's
    /// grouping of `obj`, to find key fields it aliased.
    fn key_values(&mut self, key: &'a SelectionSet, obj: &Obj<'_>, client: &[Group<'a>]) -> bool {
        for sel in &key.selections {
            let Selection::Field(f) = sel else {
                return false;
            };
            let Some((value, group)) = lookup(obj, f.name.as_str(), client) else {
                return false;
            };
            if f.selection_set.selections.is_empty() {
                self.scratch.push(':');
                match value {
                    Val::Str(s) | Val::Num(s) => encode_into(&mut self.scratch, s),
                    Val::Bool(b) => self.scratch.push_str(if *b { "true" } else { "false" }),
                    _ => return false,
                }
                continue;
            }
            let Val::Obj(inner) = value else {
                return false;
            };
            let nested = group.map(|g| {
                let id = g as *const Group as usize;
                self.grouped(f.selection_set.ty.as_str(), &g.sets, id)
            });
            let nested = nested.as_deref().map(Vec::as_slice).unwrap_or(&[]);
            if !self.key_values(&f.selection_set, inner, nested) {
                return false;
            }
        }
        true
    }

    fn is_root(&self, type_name: &str) -> bool {
        let def = &self.supergraph.api_schema.schema_definition;
        [&def.query, &def.mutation, &def.subscription]
            .into_iter()
            .any(|r| r.as_ref().is_some_and(|r| r.name == type_name))
    }

    /// The fields of objects of `type_name` under `sets` (cached).
    fn grouped(&mut self, type_name: &'a str, sets: &[&'a SelectionSet], id: usize) -> Grouped<'a> {
        let cache_key = (id, type_name.as_ptr() as usize, type_name.len());
        if let Some(g) = self.cache.get(&cache_key) {
            return g.clone();
        }
        let mut fields: Vec<(&'a str, Vec<&'a Field>)> = Vec::new();
        for set in sets {
            self.fields(type_name, set, &mut fields, 0);
        }
        let schema = &self.supergraph.api_schema;
        let groups: Vec<Group<'a>> = fields
            .into_iter()
            .map(|(key, fields)| {
                let ty = match schema.type_field(type_name, &fields[0].name) {
                    Ok(def) => def.ty.inner_named_type().as_str(),
                    Err(_) => fields[0].definition.ty.inner_named_type().as_str(),
                };
                Group {
                    key,
                    name: fields[0].name.as_str(),
                    sets: fields.iter().map(|f| &f.selection_set).collect(),
                    ty,
                    kind: schema.types.get(ty),
                }
            })
            .collect();
        let g = Rc::new(groups);
        self.cache.insert(cache_key, g.clone());
        g
    }

    /// The fields of `set` that apply to `type_name`, by response key.
    fn fields(
        &self,
        type_name: &str,
        set: &'a SelectionSet,
        out: &mut Vec<(&'a str, Vec<&'a Field>)>,
        depth: usize,
    ) {
        // Validated documents have no fragment cycles; this guards the rest.
        if depth > 256 {
            return;
        }
        for sel in &set.selections {
            if !included(sel.directives(), self.variables) {
                continue;
            }
            match sel {
                Selection::Field(f) => {
                    let key = f.response_key().as_str();
                    match out.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, group)) => group.push(f),
                        None => out.push((key, vec![f])),
                    }
                }
                Selection::InlineFragment(i) => {
                    if i.type_condition
                        .as_ref()
                        .is_none_or(|t| self.applies(t, type_name))
                    {
                        self.fields(type_name, &i.selection_set, out, depth + 1);
                    }
                }
                Selection::FragmentSpread(s) => {
                    if let Some(def) = self.doc.fragments.get(&s.fragment_name) {
                        if self.applies(def.type_condition(), type_name) {
                            self.fields(type_name, &def.selection_set, out, depth + 1);
                        }
                    }
                }
            }
        }
    }

    fn applies(&self, condition: &str, type_name: &str) -> bool {
        condition == type_name || self.supergraph.api_schema.is_subtype(condition, type_name)
    }
}
