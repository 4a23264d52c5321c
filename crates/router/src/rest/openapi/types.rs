//! JSON Schemas of GraphQL types shared by parameters, bodies and
//! responses, and `components.schemas`, which holds the named ones.
//!
//! Choices:
//! - Enums and input objects are components (`$ref`), everywhere (bodies,
//!   responses and parameters alike); output object types are inlined,
//!   since each selection set picks its own fields.
//! - `Int` carries its 32-bit range (`minimum`/`maximum`) besides
//!   `format: int32`, so generated requests stay inside what GraphQL
//!   accepts. `ID` is a string in responses (they always serialize it
//!   so) and in a path, query or header; in a body it is a string or an
//!   integer (64-bit), what GraphQL's input coercion takes for it (so a
//!   body's `{"id": 4}` is valid input, as it is in GraphQL variables).
//! - A custom scalar is any JSON value but `null` (`not: {type: null}`;
//!   `{}` when nullable) in a body or a response, a string in a path,
//!   query or header, with a description naming it.
//! - Nullable: `type: [X, "null"]` when the schema has a `type`, else
//!   `oneOf: [X, {type: "null"}]` (for `$ref`s and `oneOf`/`anyOf`s, none
//!   of which accepts `null` itself).

use std::collections::BTreeMap;

use apollo_compiler::ast::{Type, Value as GqlValue};
use apollo_compiler::schema::{ExtendedType, InputObjectType};
use apollo_compiler::Schema;
use serde_json::{json, Map, Value};

use super::problem::{GRAPHQL_ERROR, PROBLEM};

/// An object schema with exactly these `properties`, `required` listing
/// those always present (left out when none).
pub(super) fn closed_object(properties: Map<String, Value>, required: &[&str]) -> Value {
    let mut out = json!({
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    });
    if !required.is_empty() {
        out["required"] = json!(required);
    }
    out
}

/// Where a value travels: a JSON document, or a URL/header string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// A request body or a response: JSON values.
    Json,
    /// A path segment, query parameter or header: text.
    Text,
}

/// `components.schemas` being filled while the routes are described.
pub(super) struct Components<'s> {
    pub(super) schema: &'s Schema,
    /// By component name; `Value::Null` while an input object is being
    /// built (a recursive reference finds it there and stops).
    pub(super) schemas: BTreeMap<String, Value>,
}

impl<'s> Components<'s> {
    /// No component yet.
    pub(super) fn new(schema: &'s Schema) -> Self {
        Components {
            schema,
            schemas: BTreeMap::new(),
        }
    }

    /// The schema of a value of input type `ty` in a JSON body (`null`
    /// allowed where the type is nullable).
    pub(super) fn input(&mut self, ty: &Type) -> Value {
        match ty {
            Type::NonNullNamed(name) => self.input_named(name),
            Type::Named(name) => nullable(self.input_named(name)),
            Type::NonNullList(item) => json!({"type": "array", "items": self.input(item)}),
            Type::List(item) => nullable(json!({"type": "array", "items": self.input(item)})),
        }
    }

    /// The schema of named input type `name` in a JSON body (never
    /// `null`): as [`Self::named`]'s, but an `ID` is a string or a 64-bit
    /// integer, as GraphQL's input coercion (the pipeline's) takes it.
    fn input_named(&mut self, name: &str) -> Value {
        match name {
            "ID" => json!({
                "type": ["string", "integer"],
                "minimum": i64::MIN,
                "maximum": i64::MAX,
            }),
            _ => self.named(name, Place::Json),
        }
    }

    /// The schema of named type `name` (never `null`): a scalar's, or a
    /// `$ref` to an enum or input object component. Output object types
    /// are not named here (see `response`).
    pub(super) fn named(&mut self, name: &str, place: Place) -> Value {
        match self.schema.types.get(name) {
            Some(ExtendedType::Enum(_)) => self.enum_ref(name),
            Some(ExtendedType::InputObject(def)) => {
                let reference = self.input_object_ref(def);
                match place {
                    Place::Json => reference,
                    Place::Text => json!({
                        "type": "string",
                        "contentMediaType": "application/json",
                        "contentSchema": reference,
                        "description": format!("`{name}` as JSON text"),
                    }),
                }
            }
            _ => self.scalar(name, place),
        }
    }

    /// A scalar's schema.
    pub(super) fn scalar(&self, name: &str, place: Place) -> Value {
        match name {
            "Int" => json!({
                "type": "integer",
                "format": "int32",
                "minimum": i32::MIN,
                "maximum": i32::MAX,
            }),
            "Float" => json!({"type": "number", "format": "double"}),
            "Boolean" => json!({"type": "boolean"}),
            "String" | "ID" => json!({"type": "string"}),
            custom => {
                let mut description = format!("GraphQL scalar `{custom}`");
                if let Some(ExtendedType::Scalar(def)) = self.schema.types.get(custom) {
                    if let Some(text) = &def.description {
                        description.push_str(": ");
                        description.push_str(text);
                    }
                }
                match place {
                    // Any JSON value but `null` (which `nullable` allows).
                    Place::Json => json!({"description": description, "not": {"type": "null"}}),
                    Place::Text => json!({"type": "string", "description": description}),
                }
            }
        }
    }

    /// `$ref` to enum `name`'s component, added on first use.
    pub(super) fn enum_ref(&mut self, name: &str) -> Value {
        let key = component_name(name);
        if !self.schemas.contains_key(&key) {
            if let Some(ExtendedType::Enum(def)) = self.schema.types.get(name) {
                let values: Vec<&str> = def.values.keys().map(|v| v.as_str()).collect();
                let mut out = json!({"type": "string", "enum": values});
                describe(&mut out, def.description.as_deref());
                self.schemas.insert(key.clone(), out);
            }
        }
        reference(&key)
    }

    /// `$ref` to input object `def`'s component, added (with the input
    /// objects it holds) on first use.
    fn input_object_ref(&mut self, def: &InputObjectType) -> Value {
        let key = component_name(&def.name);
        if self.schemas.contains_key(&key) {
            return reference(&key);
        }
        self.schemas.insert(key.clone(), Value::Null);
        let one_of = def.directives.has("oneOf");
        let mut properties = Map::new();
        let mut required = Vec::new();
        for (name, field) in &def.fields {
            let mut schema = if one_of {
                // `@oneOf`: exactly one member, never `null`.
                self.input(&(*field.ty).clone().non_null())
            } else {
                self.input(&field.ty)
            };
            describe(&mut schema, field.description.as_deref());
            if let Some(default) = &field.default_value {
                schema["default"] = to_json(default);
            }
            if field.directives.has("deprecated") {
                schema["deprecated"] = json!(true);
            }
            if field.ty.is_non_null() && field.default_value.is_none() && !one_of {
                required.push(name.as_str());
            }
            properties.insert(name.to_string(), schema);
        }
        let mut out = closed_object(properties, &required);
        if one_of {
            out["minProperties"] = json!(1);
            out["maxProperties"] = json!(1);
        }
        describe(&mut out, def.description.as_deref());
        self.schemas.insert(key.clone(), out);
        reference(&key)
    }
}

/// The component name of GraphQL type `name`: the name itself, unless it
/// is one of this document's own components (`Problem`, `GraphQLError`),
/// then `<name>Type`.
pub(super) fn component_name(name: &str) -> String {
    if name == PROBLEM || name == GRAPHQL_ERROR {
        format!("{name}Type")
    } else {
        name.to_owned()
    }
}

/// `{"$ref": "#/components/schemas/<key>"}`.
pub(super) fn reference(key: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{key}")})
}

/// Sets `description` when there is one (and it is not blank).
pub(super) fn describe(schema: &mut Value, description: Option<&str>) {
    if let (Some(text), Some(object)) = (description, schema.as_object_mut()) {
        if !text.trim().is_empty() {
            object.insert("description".to_owned(), json!(text));
        }
    }
}

/// `schema`, also accepting `null`: `type: [X, "null"]` when it has a
/// `type`; without its `not: {type: null}` (a custom scalar's); itself
/// when it accepts anything already; else `oneOf: [X, {type: null}]`
/// (the description moves to the outer schema).
pub(super) fn nullable(mut schema: Value) -> Value {
    let Some(object) = schema.as_object_mut() else {
        return schema;
    };
    if !object.contains_key("type") && object.get("not") == Some(&json!({"type": "null"})) {
        // A custom scalar: anything but `null`, now anything.
        object.remove("not");
        return schema;
    }
    match object.get_mut("type") {
        Some(Value::String(ty)) => {
            let ty = std::mem::take(ty);
            object.insert("type".to_owned(), json!([ty, "null"]));
            schema
        }
        Some(Value::Array(types)) => {
            if !types.iter().any(|t| t == "null") {
                types.push(json!("null"));
            }
            schema
        }
        _ => {
            let constrained = ["$ref", "oneOf", "anyOf", "allOf", "const", "enum", "not"]
                .iter()
                .any(|k| object.contains_key(*k));
            if !constrained {
                return schema;
            }
            let description = object.remove("description");
            let mut out = json!({"oneOf": [schema, {"type": "null"}]});
            if let Some(description) = description {
                out["description"] = description;
            }
            out
        }
    }
}

/// A GraphQL literal (a default value) as JSON.
pub(super) fn to_json(value: &GqlValue) -> Value {
    match value {
        GqlValue::Null | GqlValue::Variable(_) => Value::Null,
        GqlValue::Enum(name) => json!(name.as_str()),
        GqlValue::String(text) => json!(text),
        GqlValue::Boolean(b) => json!(b),
        GqlValue::Int(i) => i
            .try_to_i32()
            .map(|i| json!(i))
            .or_else(|_| i.try_to_f64().map(|f| json!(f)))
            .unwrap_or(Value::Null),
        GqlValue::Float(f) => f.try_to_f64().map(|f| json!(f)).unwrap_or(Value::Null),
        GqlValue::List(items) => Value::Array(items.iter().map(|v| to_json(v)).collect()),
        GqlValue::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), to_json(v)))
                .collect(),
        ),
    }
}

/// Whether `ty` is a list, at its outer level.
pub(super) fn is_list(ty: &Type) -> bool {
    matches!(ty, Type::List(_) | Type::NonNullList(_))
}
