//! `parameters` (path, query, header) and `requestBody` (body) of a
//! route's operation, from its variables.
//!
//! Choices:
//! - A parameter's schema is its type's non-null form: a URL cannot say
//!   `null`, a nullable variable is simply not required.
//! - A list in a query string is `style: form, explode: true` (repeated
//!   parameters; the gateway also takes comma-separated values).
//! - An input object outside the body is JSON text (`contentMediaType`,
//!   `contentSchema`).
//! - The default is the route's, else the operation's.
//! - A parameter's description is that of the field argument the
//!   variable is given to (the first one found), when described.
//! - The body is an object with one member per body variable, closed
//!   (`additionalProperties: false`: the handler refuses unknown members);
//!   a variable taking the whole body (`.`) makes its type's schema the
//!   body's (other body variables are then not described).

use std::collections::BTreeMap;

use apollo_compiler::ast::{Type, Value as GqlValue};
use apollo_compiler::executable::{Operation, Selection, SelectionSet};
use apollo_compiler::ExecutableDocument;
use serde_json::{json, Map, Value};

use super::types::{closed_object, describe, is_list, to_json, Components, Place};
use crate::rest::config::Source;
use crate::rest::route::{Route, Variable};

/// The route's `parameters`: path, then query, then header, each in the
/// operation's variable order.
pub(super) fn parameters(
    components: &mut Components,
    route: &Route,
    operation: &Operation,
    docs: &BTreeMap<String, String>,
) -> Vec<Value> {
    let mut out = Vec::new();
    for (source, place) in [
        (Source::Path, "path"),
        (Source::Query, "query"),
        (Source::Header, "header"),
    ] {
        for variable in route.variables.iter().filter(|v| v.source == Some(source)) {
            let mut schema = param_schema(components, &variable.ty);
            if let Some(default) = default_of(variable, operation) {
                schema["default"] = default;
            }
            let mut param = json!({
                "name": variable.param,
                "in": place,
                "required": source == Source::Path || variable.is_required(),
                "schema": schema,
            });
            if source == Source::Query && is_list(&variable.ty) {
                param["style"] = json!("form");
                param["explode"] = json!(true);
            }
            describe(&mut param, docs.get(&variable.name).map(String::as_str));
            out.push(param);
        }
    }
    out
}

/// The route's `requestBody`, when a variable comes from the body.
pub(super) fn request_body(
    components: &mut Components,
    route: &Route,
    operation: &Operation,
    docs: &BTreeMap<String, String>,
) -> Option<Value> {
    let body: Vec<&Variable> = route
        .variables
        .iter()
        .filter(|v| v.source == Some(Source::Body))
        .collect();
    if body.is_empty() {
        return None;
    }
    let (schema, required) = match body.iter().find(|v| v.param == ".") {
        Some(whole) => {
            let mut schema = member_schema(components, whole, operation, docs);
            describe(&mut schema, docs.get(&whole.name).map(String::as_str));
            (schema, whole.is_required())
        }
        None => {
            let mut properties = Map::new();
            let mut required = Vec::new();
            for variable in &body {
                let schema = member_schema(components, variable, operation, docs);
                properties.insert(variable.param.clone(), schema);
                if variable.is_required() {
                    required.push(variable.param.as_str());
                }
            }
            (closed_object(properties, &required), !required.is_empty())
        }
    };
    Some(json!({
        "required": required,
        "content": {"application/json": {"schema": schema}},
    }))
}

/// A body member's schema: its type's (`null` allowed when nullable), its
/// default and its description.
fn member_schema(
    components: &mut Components,
    variable: &Variable,
    operation: &Operation,
    docs: &BTreeMap<String, String>,
) -> Value {
    let mut schema = components.input(&variable.ty);
    if let Some(default) = default_of(variable, operation) {
        // Next to a `$ref` too: 3.1 schemas allow `$ref` siblings.
        schema["default"] = default;
    }
    describe(&mut schema, docs.get(&variable.name).map(String::as_str));
    schema
}

/// A path, query or header parameter's schema (never `null`).
fn param_schema(components: &mut Components, ty: &Type) -> Value {
    match ty {
        Type::Named(name) | Type::NonNullNamed(name) => components.named(name, Place::Text),
        Type::List(item) | Type::NonNullList(item) => {
            json!({"type": "array", "items": param_schema(components, item)})
        }
    }
}

/// The variable's default: the route's, else the operation's.
fn default_of(variable: &Variable, operation: &Operation) -> Option<Value> {
    if let Some(default) = &variable.default {
        return Some(default.clone());
    }
    operation
        .variables
        .iter()
        .find(|v| v.name == variable.name.as_str())
        .and_then(|v| v.default_value.as_ref())
        .map(|v| to_json(v))
}

/// Each variable's description: that of the first field argument it is
/// given to (`user(id: $id)`: `Query.user(id:)`'s), when described.
pub(super) fn variable_docs(
    doc: &ExecutableDocument,
    operation: &Operation,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut seen_fragments = Vec::new();
    walk(doc, &operation.selection_set, &mut out, &mut seen_fragments);
    out
}

/// Adds the argument descriptions of the variables used in `set`.
fn walk<'d>(
    doc: &'d ExecutableDocument,
    set: &'d SelectionSet,
    out: &mut BTreeMap<String, String>,
    seen: &mut Vec<&'d str>,
) {
    for selection in &set.selections {
        match selection {
            Selection::Field(field) => {
                for argument in &field.arguments {
                    let GqlValue::Variable(variable) = &*argument.value else {
                        continue;
                    };
                    let description = field
                        .definition
                        .argument_by_name(&argument.name)
                        .and_then(|d| d.description.as_deref());
                    if let Some(text) = description {
                        out.entry(variable.to_string())
                            .or_insert_with(|| text.to_owned());
                    }
                }
                walk(doc, &field.selection_set, out, seen);
            }
            Selection::InlineFragment(inline) => walk(doc, &inline.selection_set, out, seen),
            Selection::FragmentSpread(spread) => {
                let name = spread.fragment_name.as_str();
                if seen.contains(&name) {
                    continue;
                }
                seen.push(name);
                if let Some(fragment) = doc.fragments.get(name) {
                    walk(doc, &fragment.selection_set, out, seen);
                }
            }
        }
    }
}
