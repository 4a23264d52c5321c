//! Which fields of an operation a request may not see, and the operation
//! without them.
//!
//! A field is denied when the request does not meet what is required by
//! the field itself (on an interface, also by the same field on each
//! implementation), by the type it is selected on, by the type it returns
//! (for an abstract type, also by each possible type), or by any field its
//! `@requires` selections reach (so a field computed from a hidden field
//! does not leak it). Whether a field is denied depends only on its parent
//! type and name, so a named fragment is filtered the same wherever it is
//! spread.
//!
//! The denied fields' nodes (by address) go to the projection, which
//! answers each with `null` and an `UNAUTHORIZED_FIELD_OR_TYPE` error at
//! its path; the filtered operation (denied fields removed, a selection
//! set left empty given `__typename`, variables left unused dropped) is
//! what gets planned, so no subgraph is asked for a denied field.

use std::collections::{HashMap, HashSet};

use apollo_compiler::ast::Value as AstValue;
use apollo_compiler::executable::{ExecutableDocument, Field, Operation, Selection, SelectionSet};
use apollo_compiler::{Name, Node};
use goliath_supergraph::{Requirement, Supergraph};

/// What a request holds.
pub struct Rights<'r> {
    /// It carries a valid token.
    pub authenticated: bool,
    /// The token's scopes.
    pub scopes: &'r HashSet<String>,
    /// Whether a policy passes: asked only when a field with `@policy`
    /// is met, so a request that selects none evaluates none.
    pub policy: &'r dyn Fn(&str) -> bool,
}

impl Rights<'_> {
    /// Whether these rights meet `r`.
    pub fn meet(&self, r: &Requirement) -> bool {
        if r.authenticated && !self.authenticated {
            return false;
        }
        if let Some(any) = &r.scopes {
            if !any
                .iter()
                .any(|all| all.iter().all(|s| self.scopes.contains(s)))
            {
                return false;
            }
        }
        if let Some(any) = &r.policies {
            if !any.iter().any(|all| all.iter().all(|p| (self.policy)(p))) {
                return false;
            }
        }
        true
    }
}

/// The fields of one operation a request may not see.
#[derive(Debug, Default)]
pub struct Denied {
    /// The denied field nodes of the client's document, by address.
    pub fields: HashSet<usize>,
    /// Where they are (response keys, dot-separated), for logs and
    /// refusals.
    pub paths: Vec<String>,
    /// The denied `Type.field`s, sorted and comma-separated: part of the
    /// plan's and the response cache's keys.
    pub key: String,
}

/// Decides field by field, remembering each `(type, field)`.
pub struct Checker<'a> {
    supergraph: &'a Supergraph,
    rights: Rights<'a>,
    memo: HashMap<(Name, Name), bool>,
}

impl<'a> Checker<'a> {
    /// A checker for `rights` over `supergraph`'s access rules.
    pub fn new(supergraph: &'a Supergraph, rights: Rights<'a>) -> Checker<'a> {
        Checker {
            supergraph,
            rights,
            memo: HashMap::new(),
        }
    }

    /// The denied fields of `operation` in `doc`.
    pub fn denied(&mut self, doc: &ExecutableDocument, operation: &Operation) -> Denied {
        let mut out = Denied::default();
        let mut pairs = std::collections::BTreeSet::new();
        let mut seen = HashSet::new();
        let mut path = Vec::new();
        self.walk(
            doc,
            &operation.selection_set,
            &mut path,
            &mut seen,
            &mut out,
            &mut pairs,
        );
        out.key = pairs.into_iter().collect::<Vec<_>>().join(",");
        out
    }

    fn walk<'d>(
        &mut self,
        doc: &'d ExecutableDocument,
        set: &'d SelectionSet,
        path: &mut Vec<&'d str>,
        seen: &mut HashSet<&'d Name>,
        out: &mut Denied,
        pairs: &mut std::collections::BTreeSet<String>,
    ) {
        for selection in &set.selections {
            match selection {
                Selection::Field(f) => {
                    let key = f.response_key().as_str();
                    if !self.field_allowed(&set.ty, &f.name) {
                        out.fields.insert(address(f));
                        let mut p = path.join(".");
                        if !p.is_empty() {
                            p.push('.');
                        }
                        p.push_str(key);
                        out.paths.push(p);
                        pairs.insert(format!("{}.{}", set.ty, f.name));
                        continue;
                    }
                    path.push(key);
                    self.walk(doc, &f.selection_set, path, seen, out, pairs);
                    path.pop();
                }
                Selection::InlineFragment(i) => {
                    self.walk(doc, &i.selection_set, path, seen, out, pairs)
                }
                Selection::FragmentSpread(s) => {
                    if let Some(fragment) = doc.fragments.get(&s.fragment_name) {
                        if seen.insert(&s.fragment_name) {
                            self.walk(doc, &fragment.selection_set, path, seen, out, pairs);
                        }
                    }
                }
            }
        }
    }

    /// Whether field `field` selected on `parent` is allowed.
    pub fn field_allowed(&mut self, parent: &Name, field: &Name) -> bool {
        if field.starts_with("__") {
            return true;
        }
        let key = (parent.clone(), field.clone());
        if let Some(&known) = self.memo.get(&key) {
            return known;
        }
        // A cycle through `@requires` is decided by the other checks.
        self.memo.insert(key.clone(), true);
        let allowed = self.decide(parent, field);
        self.memo.insert(key, allowed);
        allowed
    }

    fn decide(&mut self, parent: &Name, field: &Name) -> bool {
        let sg = self.supergraph;
        let rules = &sg.access;
        let own = rules.of_field(parent, field).into_iter();
        let implementations = if sg.is_abstract(parent) {
            sg.possible_types(parent)
        } else {
            Vec::new()
        };
        let on_implementations: Vec<&Requirement> = implementations
            .iter()
            .filter_map(|t| rules.of_field(t, field))
            .collect();
        let on_parent = rules.of_type(parent).into_iter();
        if !own
            .chain(on_implementations)
            .chain(on_parent)
            .all(|r| self.rights.meet(r))
        {
            return false;
        }
        if let Ok(def) = sg.schema.type_field(parent, field) {
            if !self.type_allowed(def.ty.inner_named_type()) {
                return false;
            }
        }
        let requires: Vec<_> = sg
            .type_info(parent)
            .and_then(|t| t.fields.get(field))
            .map(|f| f.graphs.iter().filter_map(|g| g.requires.clone()).collect())
            .unwrap_or_default();
        requires.iter().all(|set| self.set_allowed(set))
    }

    /// Whether every field `set` selects (nested too) is allowed.
    fn set_allowed(&mut self, set: &SelectionSet) -> bool {
        set.selections.iter().all(|s| match s {
            Selection::Field(f) => {
                self.field_allowed(&set.ty, &f.name) && self.set_allowed(&f.selection_set)
            }
            Selection::InlineFragment(i) => self.set_allowed(&i.selection_set),
            Selection::FragmentSpread(_) => true,
        })
    }

    /// Whether type `ty` (and, abstract, each possible type) is allowed.
    fn type_allowed(&self, ty: &str) -> bool {
        let rules = &self.supergraph.access;
        let meets = |t: &str| rules.of_type(t).is_none_or(|r| self.rights.meet(r));
        if !meets(ty) {
            return false;
        }
        !self.supergraph.is_abstract(ty)
            || self.supergraph.possible_types(ty).iter().all(|t| meets(t))
    }

    /// `doc` without the fields this checker denies: see the module doc.
    pub fn filtered(&mut self, doc: &ExecutableDocument) -> ExecutableDocument {
        let schema = &self.supergraph.api_schema;
        let mut out = doc.clone();
        for fragment in out.fragments.values_mut() {
            self.filter_set(schema, &mut fragment.make_mut().selection_set);
        }
        let operations = out
            .operations
            .anonymous
            .iter_mut()
            .chain(out.operations.named.values_mut());
        for operation in operations {
            self.filter_set(schema, &mut operation.make_mut().selection_set);
        }
        let fragments = out.fragments.clone();
        let operations = out
            .operations
            .anonymous
            .iter_mut()
            .chain(out.operations.named.values_mut());
        for operation in operations {
            let mut used = HashSet::new();
            let mut seen = HashSet::new();
            variables_in_directives(&operation.directives, &mut used);
            variables_in_set(&operation.selection_set, &fragments, &mut seen, &mut used);
            if operation.variables.iter().any(|v| !used.contains(&v.name)) {
                operation
                    .make_mut()
                    .variables
                    .retain(|v| used.contains(&v.name));
            }
        }
        out
    }

    fn filter_set(&mut self, schema: &apollo_compiler::Schema, set: &mut SelectionSet) {
        let ty = set.ty.clone();
        set.selections.retain(|s| match s {
            Selection::Field(f) => self.field_allowed(&ty, &f.name),
            _ => true,
        });
        for selection in &mut set.selections {
            match selection {
                Selection::Field(f) if !f.selection_set.selections.is_empty() => {
                    self.filter_set(schema, &mut f.make_mut().selection_set)
                }
                Selection::InlineFragment(i) => {
                    self.filter_set(schema, &mut i.make_mut().selection_set)
                }
                _ => {}
            }
        }
        if set.selections.is_empty() {
            if let Ok(typename) = set.new_field(schema, apollo_compiler::name!("__typename")) {
                set.push(typename);
            }
        }
    }
}

/// The address that identifies a field node.
pub fn address(f: &Node<Field>) -> usize {
    &**f as *const Field as usize
}

fn variables_in_set<'d>(
    set: &'d SelectionSet,
    fragments: &'d apollo_compiler::executable::FragmentMap,
    seen: &mut HashSet<&'d Name>,
    used: &mut HashSet<Name>,
) {
    for selection in &set.selections {
        match selection {
            Selection::Field(f) => {
                for a in &f.arguments {
                    variables_in_value(&a.value, used);
                }
                variables_in_directives(&f.directives, used);
                variables_in_set(&f.selection_set, fragments, seen, used);
            }
            Selection::InlineFragment(i) => {
                variables_in_directives(&i.directives, used);
                variables_in_set(&i.selection_set, fragments, seen, used);
            }
            Selection::FragmentSpread(s) => {
                variables_in_directives(&s.directives, used);
                if let Some(fragment) = fragments.get(&s.fragment_name) {
                    if seen.insert(&s.fragment_name) {
                        variables_in_directives(&fragment.directives, used);
                        variables_in_set(&fragment.selection_set, fragments, seen, used);
                    }
                }
            }
        }
    }
}

fn variables_in_directives(
    list: &apollo_compiler::executable::DirectiveList,
    used: &mut HashSet<Name>,
) {
    for d in list.iter() {
        for a in &d.arguments {
            variables_in_value(&a.value, used);
        }
    }
}

fn variables_in_value(v: &AstValue, used: &mut HashSet<Name>) {
    match v {
        AstValue::Variable(name) => {
            used.insert(name.clone());
        }
        AstValue::List(items) => items.iter().for_each(|i| variables_in_value(i, used)),
        AstValue::Object(fields) => fields.iter().for_each(|(_, i)| variables_in_value(i, used)),
        _ => {}
    }
}
