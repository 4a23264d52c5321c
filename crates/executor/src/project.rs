//! Builds the client's response from the merged subgraph data.
//!
//! The merged data holds everything the subgraphs returned, including key
//! and `@requires` fields the client never asked for. Projection walks the
//! client operation (with `@skip`/`@include` applied and fragments matched
//! on each object's runtime type) and copies exactly the selected fields,
//! in order, completing values as the GraphQL spec says: a missing or null
//! value for a non-null field nulls its parent, up to the nearest nullable
//! position, and is reported as an error.

use apollo_compiler::executable::{ExecutableDocument, Selection, SelectionSet};
use apollo_compiler::schema::{ExtendedType, Type};
use apollo_compiler::validation::Valid;
use apollo_compiler::Schema;
use indexmap::IndexMap;
use serde_json::{json, Map, Value};

/// The inputs a projection needs.
pub struct Projection<'a, 'e> {
    /// The API schema.
    pub schema: &'a Valid<Schema>,
    /// The client's document.
    pub doc: &'a ExecutableDocument,
    /// Coerced variable values.
    pub variables: &'a Map<String, Value>,
    /// Errors so far; non-null violations are added here.
    pub errors: &'e mut Vec<Value>,
}

/// Marker: this position became null and its parent must absorb it.
struct Null;

impl<'a> Projection<'a, '_> {
    /// Projects the root selection set of type `root_type` over `data`.
    /// Root fields named in `verbatim` are copied as they are (introspection).
    pub fn project_root(
        &mut self,
        root_type: &str,
        selection_set: &'a SelectionSet,
        data: &Value,
        verbatim: &Map<String, Value>,
    ) -> Value {
        let empty = Map::new();
        let obj = data.as_object().unwrap_or(&empty);
        let mut path = vec![];
        match self.object(
            root_type,
            selection_set_list(selection_set),
            obj,
            &mut path,
            Some(verbatim),
        ) {
            Ok(v) => Value::Object(v),
            Err(Null) => Value::Null,
        }
    }

    fn object(
        &mut self,
        type_name: &str,
        sets: Vec<&'a SelectionSet>,
        obj: &Map<String, Value>,
        path: &mut Vec<Value>,
        verbatim: Option<&Map<String, Value>>,
    ) -> Result<Map<String, Value>, Null> {
        let mut fields: IndexMap<&'a str, Vec<&'a apollo_compiler::executable::Field>> =
            IndexMap::new();
        for set in sets {
            self.collect(type_name, set, &mut fields);
        }
        let mut out = Map::with_capacity(fields.len());
        for (key, group) in fields {
            let field = group[0];
            if field.name == "__typename" {
                out.insert(key.to_owned(), Value::String(type_name.to_owned()));
                continue;
            }
            if let Some(v) = verbatim.and_then(|m| m.get(key)) {
                out.insert(key.to_owned(), v.clone());
                continue;
            }
            // The field's type on the runtime object type: it may be more
            // precise than on the interface the client selected it through.
            let ty = match self.schema.type_field(type_name, &field.name) {
                Ok(def) => &def.ty,
                Err(_) => &field.definition.ty,
            };
            let value = obj.get(key).unwrap_or(&Value::Null);
            path.push(Value::String(key.to_owned()));
            let sub: Vec<&'a SelectionSet> = group.iter().map(|f| &f.selection_set).collect();
            let completed = self.complete(ty, value, sub, path, type_name, &field.name);
            path.pop();
            match completed {
                Ok(v) => {
                    out.insert(key.to_owned(), v);
                }
                Err(Null) => {
                    if ty.is_non_null() {
                        return Err(Null);
                    }
                    out.insert(key.to_owned(), Value::Null);
                }
            }
        }
        Ok(out)
    }

    fn complete(
        &mut self,
        ty: &Type,
        value: &Value,
        sets: Vec<&'a SelectionSet>,
        path: &mut Vec<Value>,
        parent: &str,
        field: &str,
    ) -> Result<Value, Null> {
        if value.is_null() {
            if ty.is_non_null() {
                self.non_null_error(path, parent, field);
                return Err(Null);
            }
            return Ok(Value::Null);
        }
        if ty.is_list() {
            let Value::Array(items) = value else {
                self.add_error(
                    path,
                    format!("Invalid value for {parent}.{field}: expected a list"),
                );
                return self.null_for(ty);
            };
            let item_ty = ty.item_type();
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push(Value::from(i));
                let r = self.complete(item_ty, item, sets.clone(), path, parent, field);
                path.pop();
                match r {
                    Ok(v) => out.push(v),
                    Err(Null) if item_ty.is_non_null() => return self.null_for(ty),
                    Err(Null) => out.push(Value::Null),
                }
            }
            return Ok(Value::Array(out));
        }
        let named = ty.inner_named_type();
        match self.schema.types.get(named) {
            Some(ExtendedType::Object(_))
            | Some(ExtendedType::Interface(_))
            | Some(ExtendedType::Union(_)) => {
                let Value::Object(obj) = value else {
                    self.add_error(
                        path,
                        format!("Invalid value for {parent}.{field}: expected an object"),
                    );
                    return self.null_for(ty);
                };
                let runtime = match self.schema.types.get(named) {
                    Some(ExtendedType::Object(_)) => named.as_str(),
                    _ => match obj.get("__typename").and_then(Value::as_str) {
                        Some(t) if self.schema.get_object(t).is_some() => t,
                        // An @interfaceObject answered and no subgraph told
                        // the real type: the interface's own fields still apply.
                        Some(t) if t == named.as_str() => named.as_str(),
                        None => named.as_str(),
                        _ => {
                            // The object's type is unknown to the API schema
                            // (e.g. @inaccessible): it cannot be shown.
                            return self.null_for(ty);
                        }
                    },
                };
                let runtime = runtime.to_owned();
                match self.object(&runtime, sets, obj, path, None) {
                    Ok(m) => Ok(Value::Object(m)),
                    Err(Null) => self.null_for(ty),
                }
            }
            Some(ExtendedType::Enum(e)) => match value.as_str() {
                Some(s) if e.values.contains_key(s) => Ok(value.clone()),
                _ => {
                    self.add_error(path, format!("Invalid value for enum {named}"));
                    self.null_for(ty)
                }
            },
            _ => Ok(value.clone()),
        }
    }

    fn null_for(&mut self, ty: &Type) -> Result<Value, Null> {
        if ty.is_non_null() {
            Err(Null)
        } else {
            Ok(Value::Null)
        }
    }

    fn non_null_error(&mut self, path: &[Value], parent: &str, field: &str) {
        // A subgraph error already explains this null: don't add another.
        let explained = self
            .errors
            .iter()
            .any(|e| match e.get("path").and_then(Value::as_array) {
                Some(p) => p.len() <= path.len() && p.iter().zip(path).all(|(a, b)| a == b),
                None => true,
            });
        if !explained {
            self.add_error(
                path,
                format!("Cannot return null for non-nullable field {parent}.{field}."),
            );
        }
    }

    fn add_error(&mut self, path: &[Value], message: String) {
        self.errors.push(json!({"message": message, "path": path}));
    }

    fn collect(
        &self,
        type_name: &str,
        set: &'a SelectionSet,
        fields: &mut IndexMap<&'a str, Vec<&'a apollo_compiler::executable::Field>>,
    ) {
        for sel in &set.selections {
            if !self.included(sel.directives()) {
                continue;
            }
            match sel {
                Selection::Field(f) => fields.entry(f.response_key().as_str()).or_default().push(f),
                Selection::InlineFragment(i) => {
                    if i.type_condition
                        .as_ref()
                        .is_none_or(|t| self.applies(t, type_name))
                    {
                        self.collect(type_name, &i.selection_set, fields);
                    }
                }
                Selection::FragmentSpread(s) => {
                    if let Some(def) = self.doc.fragments.get(&s.fragment_name) {
                        if self.applies(def.type_condition(), type_name) {
                            self.collect(type_name, &def.selection_set, fields);
                        }
                    }
                }
            }
        }
    }

    fn applies(&self, condition: &str, type_name: &str) -> bool {
        condition == type_name || self.schema.is_subtype(condition, type_name)
    }

    fn included(&self, directives: &apollo_compiler::executable::DirectiveList) -> bool {
        for d in directives.iter() {
            let want = match d.name.as_str() {
                "skip" => false,
                "include" => true,
                _ => continue,
            };
            let Some(arg) = d.specified_argument_by_name("if") else {
                continue;
            };
            let value = match &**arg {
                apollo_compiler::ast::Value::Boolean(b) => *b,
                apollo_compiler::ast::Value::Variable(v) => self
                    .variables
                    .get(v.as_str())
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                _ => continue,
            };
            if value != want {
                return false;
            }
        }
        true
    }
}

fn selection_set_list(set: &SelectionSet) -> Vec<&SelectionSet> {
    vec![set]
}
