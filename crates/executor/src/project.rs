//! Writes the client's response from the merged subgraph data.
//!
//! The merged data holds everything the subgraphs returned, including key
//! and `@requires` fields the client never asked for. Projection walks the
//! client operation (with `@skip`/`@include` applied and fragments matched
//! on each object's runtime type) and writes exactly the selected fields,
//! in order, straight to JSON bytes, completing values as the GraphQL spec
//! says: a missing or null value for a non-null field nulls its parent, up
//! to the nearest nullable position, and is reported as an error. Nulling a
//! parent truncates what was written for it, so the common, error-free case
//! builds no intermediate tree.

use apollo_compiler::executable::{ExecutableDocument, Field, Selection, SelectionSet};
use apollo_compiler::schema::{ExtendedType, Type};
use apollo_compiler::validation::Valid;
use apollo_compiler::Schema;
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

/// Fields of one object grouped by response key, in order.
type Grouped<'a> = Vec<(&'a str, Vec<&'a Field>)>;

impl<'a> Projection<'a, '_> {
    /// Writes the `data` value for the root selection set of type
    /// `root_type` over `data`. Root fields in `verbatim` (response key →
    /// JSON text) are copied as they are: introspection answers.
    pub fn write_root(
        &mut self,
        root_type: &str,
        selection_set: &'a SelectionSet,
        data: &Value,
        verbatim: &[(String, Vec<u8>)],
    ) -> Vec<u8> {
        let empty = Map::new();
        let obj = data.as_object().unwrap_or(&empty);
        let mut out = Vec::with_capacity(4096);
        let mut path = vec![];
        if self
            .object(
                root_type,
                &[selection_set],
                obj,
                &mut path,
                verbatim,
                &mut out,
            )
            .is_err()
        {
            out.clear();
            out.extend_from_slice(b"null");
        }
        out
    }

    /// Projects into a `Value` (tests and callers that want a tree).
    pub fn project_root(
        &mut self,
        root_type: &str,
        selection_set: &'a SelectionSet,
        data: &Value,
    ) -> Value {
        let bytes = self.write_root(root_type, selection_set, data, &[]);
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    }

    #[allow(clippy::too_many_arguments)]
    fn object(
        &mut self,
        type_name: &str,
        sets: &[&'a SelectionSet],
        obj: &Map<String, Value>,
        path: &mut Vec<Value>,
        verbatim: &[(String, Vec<u8>)],
        out: &mut Vec<u8>,
    ) -> Result<(), Null> {
        let mut fields: Grouped<'a> = Vec::new();
        for set in sets {
            self.collect(type_name, set, &mut fields);
        }
        out.push(b'{');
        for (i, (key, group)) in fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(out, key);
            out.push(b':');
            let field = group[0];
            if field.name == "__typename" {
                write_str(out, type_name);
                continue;
            }
            if let Some((_, v)) = verbatim.iter().find(|(k, _)| k == key) {
                out.extend_from_slice(v);
                continue;
            }
            // The field's type on the runtime object type: it may be more
            // precise than on the interface the client selected it through.
            let ty = match self.schema.type_field(type_name, &field.name) {
                Ok(def) => &def.ty,
                Err(_) => &field.definition.ty,
            };
            let value = obj.get(*key).unwrap_or(&Value::Null);
            path.push(Value::String((*key).to_owned()));
            let mark = out.len();
            let completed = if group.len() == 1 {
                self.complete(
                    ty,
                    value,
                    &[&field.selection_set],
                    path,
                    type_name,
                    &field.name,
                    out,
                )
            } else {
                let sub: Vec<&'a SelectionSet> = group.iter().map(|f| &f.selection_set).collect();
                self.complete(ty, value, &sub, path, type_name, &field.name, out)
            };
            path.pop();
            if completed.is_err() {
                if ty.is_non_null() {
                    return Err(Null);
                }
                out.truncate(mark);
                out.extend_from_slice(b"null");
            }
        }
        out.push(b'}');
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn complete(
        &mut self,
        ty: &Type,
        value: &Value,
        sets: &[&'a SelectionSet],
        path: &mut Vec<Value>,
        parent: &str,
        field: &str,
        out: &mut Vec<u8>,
    ) -> Result<(), Null> {
        if value.is_null() {
            if ty.is_non_null() {
                self.non_null_error(path, parent, field);
                return Err(Null);
            }
            out.extend_from_slice(b"null");
            return Ok(());
        }
        if ty.is_list() {
            let Value::Array(items) = value else {
                self.add_error(
                    path,
                    format!("Invalid value for {parent}.{field}: expected a list"),
                );
                return self.null_for(ty, out);
            };
            let item_ty = ty.item_type();
            let start = out.len();
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                path.push(Value::from(i));
                let mark = out.len();
                let r = self.complete(item_ty, item, sets, path, parent, field, out);
                path.pop();
                if r.is_err() {
                    if item_ty.is_non_null() {
                        out.truncate(start);
                        return self.null_for(ty, out);
                    }
                    out.truncate(mark);
                    out.extend_from_slice(b"null");
                }
            }
            out.push(b']');
            return Ok(());
        }
        let named = ty.inner_named_type();
        match self.schema.types.get(named) {
            Some(ExtendedType::Object(_) | ExtendedType::Interface(_) | ExtendedType::Union(_)) => {
                let Value::Object(obj) = value else {
                    self.add_error(
                        path,
                        format!("Invalid value for {parent}.{field}: expected an object"),
                    );
                    return self.null_for(ty, out);
                };
                let runtime = match self.schema.types.get(named) {
                    Some(ExtendedType::Object(_)) => named.as_str(),
                    _ => match obj.get("__typename").and_then(Value::as_str) {
                        Some(t) if self.schema.get_object(t).is_some() => t,
                        // An @interfaceObject answered and no subgraph told
                        // the real type: the interface's own fields still apply.
                        Some(t) if t == named.as_str() => named.as_str(),
                        None => named.as_str(),
                        // A type the API schema does not show (@inaccessible).
                        _ => return self.null_for(ty, out),
                    },
                };
                let start = out.len();
                match self.object(runtime, sets, obj, path, &[], out) {
                    Ok(()) => Ok(()),
                    Err(Null) => {
                        out.truncate(start);
                        self.null_for(ty, out)
                    }
                }
            }
            Some(ExtendedType::Enum(e)) => match value.as_str() {
                Some(s) if e.values.contains_key(s) => {
                    write_str(out, s);
                    Ok(())
                }
                _ => {
                    self.add_error(path, format!("Invalid value for enum {named}"));
                    self.null_for(ty, out)
                }
            },
            _ => {
                write_value(out, value);
                Ok(())
            }
        }
    }

    /// `null` where the type allows it; otherwise the parent must absorb it.
    fn null_for(&mut self, ty: &Type, out: &mut Vec<u8>) -> Result<(), Null> {
        if ty.is_non_null() {
            Err(Null)
        } else {
            out.extend_from_slice(b"null");
            Ok(())
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

    fn collect(&self, type_name: &str, set: &'a SelectionSet, fields: &mut Grouped<'a>) {
        for sel in &set.selections {
            if !self.included(sel.directives()) {
                continue;
            }
            match sel {
                Selection::Field(f) => {
                    let key = f.response_key().as_str();
                    match fields.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, group)) => group.push(f),
                        None => fields.push((key, vec![f])),
                    }
                }
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

/// Writes a JSON string.
fn write_str(out: &mut Vec<u8>, s: &str) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Writes any JSON value (leaf values: scalars, custom-scalar JSON).
fn write_value(out: &mut Vec<u8>, v: &Value) {
    let _ = serde_json::to_writer(&mut *out, v);
}
