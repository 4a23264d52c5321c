//! The schema of a successful answer, from the operation's selection set.
//!
//! Choices:
//! - An object is inline: `properties` per response key (alias or name;
//!   fields selected several times, directly or through fragments, are
//!   merged), all `required` except those under `@skip`, `@include` or
//!   `@defer` (which may be absent), and `additionalProperties: false`.
//! - A field's type uses the concrete object type's definition (more
//!   precise than an interface's), and its description.
//! - An interface or union is one object schema per possible type (in
//!   name order; the fragments that apply to it plus the common fields),
//!   identical ones merged: `oneOf` when each has a required `__typename`
//!   `const` (they cannot overlap), else `anyOf`.
//! - At `data_path`: the merged fields with that key (through fragments),
//!   in their non-null form (the gateway answers 404 for a `null` there).

use std::collections::BTreeMap;

use apollo_compiler::ast::{DirectiveList, Type};
use apollo_compiler::collections::IndexMap;
use apollo_compiler::executable::{Field, Operation, Selection, SelectionSet};
use apollo_compiler::schema::{ExtendedType, FieldDefinition};
use apollo_compiler::{ExecutableDocument, Schema};
use serde_json::{json, Map, Value};

use super::problem::GRAPHQL_ERROR;
use super::types::{closed_object, describe, nullable, reference, Components, Place};
use crate::rest::route::Route;

/// Each interface's and union's possible object types, by name.
pub(super) fn possible_types(schema: &Schema) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let implementers = schema.implementers_map();
    for (name, ty) in &schema.types {
        let mut names: Vec<String> = match ty {
            ExtendedType::Union(def) => def.members.iter().map(|m| m.to_string()).collect(),
            ExtendedType::Interface(_) => implementers
                .get(name)
                .map(|i| i.objects.iter().map(|o| o.to_string()).collect())
                .unwrap_or_default(),
            _ => continue,
        };
        names.sort();
        out.insert(name.to_string(), names);
    }
    out
}

/// Builds response schemas for one route's document.
pub(super) struct Output<'a, 's> {
    pub(super) components: &'a mut Components<'s>,
    pub(super) doc: &'a ExecutableDocument,
    pub(super) possible: &'a BTreeMap<String, Vec<String>>,
}

/// The fields with one response key in one object type's context.
#[derive(Default)]
struct Entry<'d> {
    fields: Vec<&'d Field>,
    /// Whether one of them is selected unconditionally.
    always: bool,
}

impl<'a, 's> Output<'a, 's> {
    /// The schema of route's success body.
    pub(super) fn success(&mut self, route: &Route, operation: &'a Operation) -> Value {
        let value = if route.data_path.is_empty() {
            let root = operation.selection_set.ty.to_string();
            self.object(&[&operation.selection_set], &root)
        } else {
            self.at_path(operation, &route.data_path)
        };
        if !route.include_errors {
            return value;
        }
        json!({
            "type": "object",
            "properties": {
                "data": nullable(value),
                "errors": {"type": "array", "items": reference(GRAPHQL_ERROR)},
            },
            "required": ["data"],
        })
    }

    /// The non-null schema of the value at `path` (response keys).
    fn at_path(&mut self, operation: &'a Operation, path: &[String]) -> Value {
        let mut sets: Vec<&'a SelectionSet> = vec![&operation.selection_set];
        let mut fields: Vec<&'a Field> = Vec::new();
        for key in path {
            fields = Vec::new();
            for set in &sets {
                self.gather(set, key, &mut fields);
            }
            sets = fields.iter().map(|f| &f.selection_set).collect();
        }
        let Some(first) = fields.first() else {
            return json!({});
        };
        let ty = first.definition.ty.clone().non_null();
        let mut schema = self.output(&ty, &sets);
        describe(&mut schema, first.definition.description.as_deref());
        schema
    }

    /// The fields of `set` (through fragments, whatever their type
    /// condition) whose response key is `key`.
    fn gather(&self, set: &'a SelectionSet, key: &str, out: &mut Vec<&'a Field>) {
        for selection in &set.selections {
            match selection {
                Selection::Field(f) if f.response_key() == key => out.push(f),
                Selection::Field(_) => {}
                Selection::InlineFragment(inline) => self.gather(&inline.selection_set, key, out),
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = self.doc.fragments.get(&spread.fragment_name) {
                        self.gather(&fragment.selection_set, key, out);
                    }
                }
            }
        }
    }

    /// The schema of output type `ty` with sub-selections `sets`.
    fn output(&mut self, ty: &Type, sets: &[&'a SelectionSet]) -> Value {
        match ty {
            Type::NonNullNamed(name) => self.named(name, sets),
            Type::Named(name) => nullable(self.named(name, sets)),
            Type::NonNullList(item) => json!({"type": "array", "items": self.output(item, sets)}),
            Type::List(item) => {
                nullable(json!({"type": "array", "items": self.output(item, sets)}))
            }
        }
    }

    /// The non-null schema of named output type `name`.
    fn named(&mut self, name: &str, sets: &[&'a SelectionSet]) -> Value {
        match self.components.schema.types.get(name) {
            Some(ExtendedType::Object(_)) => self.object(sets, name),
            Some(ExtendedType::Interface(_) | ExtendedType::Union(_)) => self.abstract_(sets, name),
            _ => self.components.named(name, Place::Json),
        }
    }

    /// One object schema per possible type of interface or union `name`.
    fn abstract_(&mut self, sets: &[&'a SelectionSet], name: &str) -> Value {
        let types = self.possible.get(name).cloned().unwrap_or_default();
        let mut branches: Vec<Value> = Vec::new();
        for ty in &types {
            let branch = self.object(sets, ty);
            if !branches.contains(&branch) {
                branches.push(branch);
            }
        }
        if branches.len() <= 1 {
            // No possible type: only `null` could be there.
            return branches.pop().unwrap_or_else(|| json!({"not": {}}));
        }
        let combinator = if branches.iter().all(is_tagged) {
            "oneOf"
        } else {
            "anyOf"
        };
        json!({ combinator: branches })
    }

    /// The schema of object type `name` with selections `sets`.
    fn object(&mut self, sets: &[&'a SelectionSet], name: &str) -> Value {
        let mut entries: IndexMap<String, Entry<'a>> = IndexMap::default();
        for set in sets {
            self.collect(set, name, false, &mut entries);
        }
        let mut properties = Map::new();
        let mut required = Vec::new();
        for (key, entry) in &entries {
            let field = entry.fields[0];
            let schema = if field.name == "__typename" {
                json!({"type": "string", "const": name})
            } else {
                let schema_ref = self.components.schema;
                let definition: &FieldDefinition = match schema_ref.type_field(name, &field.name) {
                    Ok(definition) => definition,
                    Err(_) => &field.definition,
                };
                let subsets: Vec<&'a SelectionSet> =
                    entry.fields.iter().map(|f| &f.selection_set).collect();
                let mut schema = self.output(&definition.ty, &subsets);
                describe(&mut schema, definition.description.as_deref());
                if definition.directives.has("deprecated") {
                    schema["deprecated"] = json!(true);
                }
                schema
            };
            properties.insert(key.clone(), schema);
            if entry.always {
                required.push(key.as_str());
            }
        }
        closed_object(properties, &required)
    }

    /// Adds the fields of `set` that apply to object type `name`, by
    /// response key.
    fn collect(
        &self,
        set: &'a SelectionSet,
        name: &str,
        conditional: bool,
        entries: &mut IndexMap<String, Entry<'a>>,
    ) {
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => {
                    let entry = entries.entry(field.response_key().to_string()).or_default();
                    entry.fields.push(field);
                    entry.always |= !(conditional || is_conditional(&field.directives));
                }
                Selection::InlineFragment(inline) => {
                    if self.applies(inline.type_condition.as_deref(), name) {
                        let conditional = conditional || is_conditional(&inline.directives);
                        self.collect(&inline.selection_set, name, conditional, entries);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let Some(fragment) = self.doc.fragments.get(&spread.fragment_name) else {
                        continue;
                    };
                    if self.applies(Some(fragment.type_condition()), name) {
                        let conditional = conditional || is_conditional(&spread.directives);
                        self.collect(&fragment.selection_set, name, conditional, entries);
                    }
                }
            }
        }
    }

    /// Whether a fragment on `condition` applies to object type `name`.
    fn applies(&self, condition: Option<&str>, name: &str) -> bool {
        match condition {
            None => true,
            Some(c) => c == name || self.components.schema.is_subtype(c, name),
        }
    }
}

/// `@skip`, `@include` or `@defer`: the keys under it may be absent.
fn is_conditional(directives: &DirectiveList) -> bool {
    ["skip", "include", "defer"]
        .iter()
        .any(|d| directives.has(d))
}

/// Whether object schema `branch` has a required `const` property (a
/// `__typename`), which sets it apart from the other types'.
fn is_tagged(branch: &Value) -> bool {
    let required = branch["required"].as_array().cloned().unwrap_or_default();
    branch["properties"].as_object().is_some_and(|properties| {
        properties
            .iter()
            .any(|(key, p)| p.get("const").is_some() && required.contains(&json!(key)))
    })
}
