//! The shadow operation of a side-by-side comparison: the client's query
//! cut down to the paths that lead to migrating fields, so that asking
//! the other side for them fetches the same parent entities (by the same
//! keys, since the same planner plans it) and nothing the comparison does
//! not need.
//!
//! [`prune`] keeps, of each selection set, the migrating fields whole and
//! the fields on the way to one; fragment spreads become inline fragments
//! (so no fragment definition is left unused), `__typename` is added to
//! every selection set of an abstract type (so a comparison can tell
//! which type an object is), and only the variables still used are
//! declared. Aliases, arguments and directives are kept, so the shadow
//! answer has the client's response paths.

use std::collections::BTreeSet;
use std::fmt::Write;

use apollo_compiler::ast::Value;
use apollo_compiler::executable::{ExecutableDocument, Operation, Selection, SelectionSet};
use apollo_compiler::Schema;

/// The shadow query of `operation` (a query) for the fields for which
/// `is_migrating(type, field)` holds, as GraphQL text; `None` when the
/// operation is not a query or selects no migrating field. For a field
/// selected on an abstract type, `is_migrating` is asked with each
/// possible object type.
pub fn prune(
    schema: &Schema,
    doc: &ExecutableDocument,
    operation: &Operation,
    is_migrating: &dyn Fn(&str, &str) -> bool,
) -> Option<String> {
    if !operation.operation_type.is_query() {
        return None;
    }
    let mut pruner = Pruner {
        schema,
        doc,
        is_migrating,
        variables: BTreeSet::new(),
        depth: 0,
    };
    let body = pruner.set(&operation.selection_set)?;
    let dirs = directives(&operation.directives, &mut pruner.variables);
    let used = |name: &str| pruner.variables.contains(name);
    Some(query_text(operation, &used, &dirs, &body))
}

/// `query Name($used: T) @dirs BODY`: the variables `used` names only.
fn query_text(
    operation: &Operation,
    used: &dyn Fn(&str) -> bool,
    dirs: &str,
    body: &str,
) -> String {
    let mut out = String::from("query");
    if let Some(name) = &operation.name {
        let _ = write!(out, " {name}");
    }
    let vars: Vec<String> = operation
        .variables
        .iter()
        .filter(|v| used(v.name.as_str()))
        .map(|v| v.to_string())
        .collect();
    if !vars.is_empty() {
        let _ = write!(out, "({})", vars.join(", "));
    }
    out.push_str(dirs);
    out.push(' ');
    out.push_str(body);
    out
}

/// The client's operation, whole (fragments inlined), with the key fields
/// of each migrating field's parent added beside the field under aliases:
/// `__typename` and each `KEY` that `key_of(type, field)` gives (`None`:
/// that field gets nothing), under their own names: the fetch that resolves
/// the parent usually has them already (a client's alias that takes one of
/// these names makes the augmented operation invalid, and the caller falls
/// back). Executed
/// in place of the client's operation, it leaves in the merged answer what
/// a representation of each parent needs, so that the new subgraph can be
/// asked for the field of the very entities the client got (one
/// `_entities` request). `None` when nothing was added.
pub fn augment(
    schema: &Schema,
    doc: &ExecutableDocument,
    operation: &Operation,
    key_of: &dyn Fn(&str, &str) -> Option<Vec<String>>,
) -> Option<String> {
    if !operation.operation_type.is_query() {
        return None;
    }
    let mut pruner = Pruner {
        schema,
        doc,
        is_migrating: &|_, _| false,
        variables: BTreeSet::new(),
        depth: 0,
    };
    let mut added = false;
    let body = pruner.whole_with(&operation.selection_set, &mut |parent, field| {
        let keys = key_of(parent, field)?;
        added = true;
        let mut extra = String::from("__typename");
        for k in keys {
            let _ = write!(extra, " {k}");
        }
        Some(extra)
    })?;
    if !added {
        return None;
    }
    let dirs = directives(&operation.directives, &mut pruner.variables);
    Some(query_text(operation, &|_| true, &dirs, &body))
}

/// `field` as selection text for an `_entities` request (`alias:
/// name(args) { … }`, fragments inlined), or `None` when it (or anything
/// under it) uses a variable or a directive.
pub fn selection_text(
    schema: &Schema,
    doc: &ExecutableDocument,
    field: &apollo_compiler::executable::Field,
) -> Option<String> {
    let mut pruner = Pruner {
        schema,
        doc,
        is_migrating: &|_, _| false,
        variables: BTreeSet::new(),
        depth: 0,
    };
    let mut out = String::new();
    head(&mut out, field, &mut pruner.variables);
    if !field.directives.is_empty() {
        return None;
    }
    if !field.selection_set.selections.is_empty() {
        let mut directives_seen = false;
        let sub = pruner.whole_with(&field.selection_set, &mut |_, _| None)?;
        directives_seen |= sub.contains(" @");
        if directives_seen {
            return None;
        }
        out.push(' ');
        out.push_str(&sub);
    }
    pruner.variables.is_empty().then_some(out)
}

/// Fragments deeper than this are not followed (a valid document has no
/// cycles; this only bounds a pathological one).
const MAX_DEPTH: usize = 512;

struct Pruner<'a> {
    schema: &'a Schema,
    doc: &'a ExecutableDocument,
    is_migrating: &'a dyn Fn(&str, &str) -> bool,
    /// Variables used by what is kept.
    variables: BTreeSet<String>,
    depth: usize,
}

impl Pruner<'_> {
    /// The kept part of `set` as `{ ... }`, or `None` when nothing is kept.
    fn set(&mut self, set: &SelectionSet) -> Option<String> {
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let mut kept = vec![];
        for selection in &set.selections {
            if let Some(text) = self.selection(set.ty.as_str(), selection) {
                kept.push(text);
            }
        }
        self.depth -= 1;
        if kept.is_empty() {
            return None;
        }
        if self.is_abstract(set.ty.as_str()) {
            kept.push("__typename".to_owned());
        }
        Some(format!("{{ {} }}", kept.join(" ")))
    }

    fn selection(&mut self, parent: &str, selection: &Selection) -> Option<String> {
        match selection {
            Selection::Field(f) => {
                let sub = if self.migrating(parent, f.name.as_str()) {
                    if f.selection_set.selections.is_empty() {
                        Some(String::new())
                    } else {
                        Some(self.whole(&f.selection_set)?)
                    }
                } else if f.selection_set.selections.is_empty() {
                    None
                } else {
                    Some(self.set(&f.selection_set)?)
                }?;
                let mut out = String::new();
                head(&mut out, f, &mut self.variables);
                out.push_str(&directives(&f.directives, &mut self.variables));
                if !sub.is_empty() {
                    out.push(' ');
                    out.push_str(&sub);
                }
                Some(out)
            }
            Selection::InlineFragment(inline) => {
                let body = self.set(&inline.selection_set)?;
                let condition = inline
                    .type_condition
                    .as_ref()
                    .map(|t| format!(" on {t}"))
                    .unwrap_or_default();
                let dirs = directives(&inline.directives, &mut self.variables);
                Some(format!("...{condition}{dirs} {body}"))
            }
            Selection::FragmentSpread(spread) => {
                let fragment = self.doc.fragments.get(&spread.fragment_name)?;
                let body = self.set(&fragment.selection_set)?;
                let dirs = directives(&spread.directives, &mut self.variables);
                Some(format!("... on {}{dirs} {body}", fragment.type_condition()))
            }
        }
    }

    /// All of `set`, fragments inlined, as `{ ... }`.
    fn whole(&mut self, set: &SelectionSet) -> Option<String> {
        self.whole_with(set, &mut |_, _| None)
    }

    /// [`Self::whole`], with `extra(parent, field)`'s text written after
    /// each field it gives some for.
    fn whole_with(
        &mut self,
        set: &SelectionSet,
        extra: &mut dyn FnMut(&str, &str) -> Option<String>,
    ) -> Option<String> {
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let mut kept = vec![];
        for selection in &set.selections {
            let text = match selection {
                Selection::Field(f) => {
                    let mut out = String::new();
                    head(&mut out, f, &mut self.variables);
                    out.push_str(&directives(&f.directives, &mut self.variables));
                    if !f.selection_set.selections.is_empty() {
                        out.push(' ');
                        out.push_str(&self.whole_with(&f.selection_set, extra)?);
                    }
                    if let Some(more) = extra(set.ty.as_str(), f.name.as_str()) {
                        out.push(' ');
                        out.push_str(&more);
                    }
                    out
                }
                Selection::InlineFragment(inline) => {
                    let condition = inline
                        .type_condition
                        .as_ref()
                        .map(|t| format!(" on {t}"))
                        .unwrap_or_default();
                    let dirs = directives(&inline.directives, &mut self.variables);
                    format!(
                        "...{condition}{dirs} {}",
                        self.whole_with(&inline.selection_set, extra)?
                    )
                }
                Selection::FragmentSpread(spread) => {
                    let fragment = self.doc.fragments.get(&spread.fragment_name)?;
                    let dirs = directives(&spread.directives, &mut self.variables);
                    format!(
                        "... on {}{dirs} {}",
                        fragment.type_condition(),
                        self.whole_with(&fragment.selection_set, extra)?
                    )
                }
            };
            kept.push(text);
        }
        self.depth -= 1;
        if self.is_abstract(set.ty.as_str()) {
            kept.push("__typename".to_owned());
        }
        Some(format!("{{ {} }}", kept.join(" ")))
    }

    /// Is `parent.field` migrating (for an abstract parent: on one of its
    /// object types)?
    fn migrating(&self, parent: &str, field: &str) -> bool {
        if field.starts_with("__") {
            return false;
        }
        if (self.is_migrating)(parent, field) {
            return true;
        }
        if !self.is_abstract(parent) {
            return false;
        }
        self.schema
            .types
            .values()
            .filter_map(|t| match t {
                apollo_compiler::schema::ExtendedType::Object(o) => Some(o),
                _ => None,
            })
            .filter(|o| {
                o.implements_interfaces.iter().any(|i| i.name == parent)
                    || matches!(
                        self.schema.types.get(parent),
                        Some(apollo_compiler::schema::ExtendedType::Union(u))
                            if u.members.iter().any(|m| m.name == o.name)
                    )
            })
            .any(|o| (self.is_migrating)(o.name.as_str(), field))
    }

    fn is_abstract(&self, ty: &str) -> bool {
        matches!(
            self.schema.types.get(ty),
            Some(
                apollo_compiler::schema::ExtendedType::Interface(_)
                    | apollo_compiler::schema::ExtendedType::Union(_)
            )
        )
    }
}

/// Writes `alias: name(args)` of `field` to `out`, noting the variables
/// its arguments use.
fn head(
    out: &mut String,
    field: &apollo_compiler::executable::Field,
    variables: &mut BTreeSet<String>,
) {
    if let Some(alias) = &field.alias {
        let _ = write!(out, "{alias}: ");
    }
    out.push_str(field.name.as_str());
    if !field.arguments.is_empty() {
        let args: Vec<String> = field
            .arguments
            .iter()
            .map(|a| {
                used_variables(&a.value, variables);
                format!("{}: {}", a.name, a.value)
            })
            .collect();
        let _ = write!(out, "({})", args.join(", "));
    }
}

/// ` @a(x: 1) @b` for `list` (empty when none), noting the variables used.
fn directives(
    list: &apollo_compiler::executable::DirectiveList,
    variables: &mut BTreeSet<String>,
) -> String {
    let mut out = String::new();
    for d in list.iter() {
        for a in &d.arguments {
            used_variables(&a.value, variables);
        }
        let _ = write!(out, " {d}");
    }
    out
}

fn used_variables(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Variable(name) => {
            out.insert(name.to_string());
        }
        Value::List(items) => items.iter().for_each(|v| used_variables(v, out)),
        Value::Object(fields) => fields.iter().for_each(|(_, v)| used_variables(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = r#"
        type Query { user(id: ID!): User users: [User] node(id: ID!): Node }
        interface Node { id: ID! }
        type User implements Node { id: ID! name: String progress(n: Int): [Progress] }
        type Progress { exercise: String correct: Int at: String }
    "#;

    fn pruned(query: &str) -> Option<String> {
        let schema = Schema::parse_and_validate(SDL, "s.graphql").unwrap();
        let doc = ExecutableDocument::parse_and_validate(&schema, query, "q.graphql").unwrap();
        let op = doc.operations.get(None).unwrap();
        prune(&schema, &doc, op, &|t, f| t == "User" && f == "progress")
    }

    #[test]
    fn keeps_the_paths_to_migrating_fields_only() {
        let q = "query Q($id: ID!, $n: Int, $s: Boolean!) { user(id: $id) { name progress(n: $n) { ...P } } users @skip(if: $s) { name } }
                 fragment P on Progress { exercise correct }";
        assert_eq!(
            pruned(q).unwrap(),
            "query Q($id: ID!, $n: Int) { user(id: $id) { progress(n: $n) { ... on Progress { exercise correct } } } }"
        );
    }

    #[test]
    fn abstract_parents_get_typename_and_fragments_are_inlined() {
        let q = "{ node(id: 1) { id ... on User { p: progress @include(if: true) { at } } } }";
        assert_eq!(
            pruned(q).unwrap(),
            "query { node(id: 1) { ... on User { p: progress @include(if: true) { at } } __typename } }"
        );
    }

    #[test]
    fn augment_adds_the_parents_keys_beside_the_field() {
        let schema = Schema::parse_and_validate(SDL, "s.graphql").unwrap();
        let q = "query Q($id: ID!) { user(id: $id) { name ...F } } fragment F on User { progress(n: 2) { at } }";
        let doc = ExecutableDocument::parse_and_validate(&schema, q, "q.graphql").unwrap();
        let op = doc.operations.get(None).unwrap();
        let key_of =
            |t: &str, f: &str| (t == "User" && f == "progress").then(|| vec!["id".to_owned()]);
        assert_eq!(
            augment(&schema, &doc, op, &key_of).unwrap(),
            "query Q($id: ID!) { user(id: $id) { name ... on User { progress(n: 2) { at } __typename id } } }"
        );
        let field = match &doc.fragments["F"].selection_set.selections[0] {
            Selection::Field(f) => f.clone(),
            _ => unreachable!(),
        };
        assert_eq!(
            selection_text(&schema, &doc, &field).unwrap(),
            "progress(n: 2) { at }"
        );
    }

    #[test]
    fn nothing_migrating_or_a_mutation_gives_none() {
        assert_eq!(pruned("{ users { name } }"), None);
    }
}
