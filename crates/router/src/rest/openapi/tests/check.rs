//! A structural check of a generated document (no validator crate is in
//! `Cargo.lock`; CI runs `crates/router/tests/openapi/validate.py`):
//! the required OpenAPI 3.1 members, path parameters matching the
//! templates, unique `operationId`s, responses with descriptions, every
//! `$ref` resolving, and JSON Schema keywords of the right shape.

use std::collections::BTreeSet;

use serde_json::Value;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
const TYPES: [&str; 7] = [
    "null", "boolean", "object", "array", "number", "string", "integer",
];

/// `Err` says what is wrong with `doc`, with its JSON pointer.
pub(super) fn structure(doc: &Value) -> Result<(), String> {
    if doc["openapi"] != "3.1.0" {
        return Err("/openapi: not 3.1.0".to_owned());
    }
    for key in ["title", "version"] {
        if !doc["info"][key].is_string() {
            return Err(format!("/info/{key}: not a string"));
        }
    }
    let schemas = doc["components"]["schemas"]
        .as_object()
        .ok_or("/components/schemas: not an object")?;
    for (name, schema) in schemas {
        check_schema(doc, schema, &format!("/components/schemas/{name}"))?;
    }
    let mut ids = BTreeSet::new();
    let paths = doc["paths"].as_object().ok_or("/paths: not an object")?;
    for (path, item) in paths {
        if !path.starts_with('/') {
            return Err(format!("{path}: does not start with `/`"));
        }
        let templated: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        for (method, op) in item.as_object().ok_or("a path item is not an object")? {
            let at = format!("/paths/{path}/{method}");
            if !METHODS.contains(&method.as_str()) {
                return Err(format!("{at}: not a method"));
            }
            let id = op["operationId"]
                .as_str()
                .ok_or(format!("{at}: no operationId"))?;
            if !ids.insert(id.to_owned()) {
                return Err(format!("{at}: operationId `{id}` twice"));
            }
            check_operation(doc, op, &at, &templated)?;
        }
    }
    Ok(())
}

fn check_operation(
    doc: &Value,
    op: &Value,
    at: &str,
    templated: &BTreeSet<&str>,
) -> Result<(), String> {
    let mut in_path = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for (i, param) in op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = format!("{at}/parameters/{i}");
        let name = param["name"].as_str().ok_or(format!("{at}: no name"))?;
        let place = param["in"].as_str().ok_or(format!("{at}: no in"))?;
        if !["path", "query", "header", "cookie"].contains(&place) {
            return Err(format!("{at}: in `{place}`"));
        }
        if !seen.insert((name, place)) {
            return Err(format!("{at}: `{name}` in {place} twice"));
        }
        if place == "path" {
            if param["required"] != true {
                return Err(format!("{at}: a path parameter must be required"));
            }
            in_path.insert(name);
        }
        check_schema(doc, &param["schema"], &format!("{at}/schema"))?;
    }
    if &in_path != templated {
        return Err(format!("{at}: path parameters {in_path:?} ≠ {templated:?}"));
    }
    if let Some(body) = op.get("requestBody") {
        let content = body["content"]
            .as_object()
            .ok_or(format!("{at}: no content"))?;
        for (media, m) in content {
            check_schema(doc, &m["schema"], &format!("{at}/requestBody/{media}"))?;
        }
    }
    let responses = op["responses"]
        .as_object()
        .ok_or(format!("{at}: no responses"))?;
    for (status, response) in responses {
        let at = format!("{at}/responses/{status}");
        let valid = status.len() == 3 && status.chars().all(|c| c.is_ascii_digit());
        if !valid || !response["description"].is_string() {
            return Err(format!("{at}: bad status or no description"));
        }
        for (media, m) in response["content"].as_object().into_iter().flatten() {
            check_schema(doc, &m["schema"], &format!("{at}/{media}"))?;
        }
    }
    Ok(())
}

/// The keywords used here have the shapes JSON Schema 2020-12 requires,
/// and `$ref`s point at components.
fn check_schema(doc: &Value, schema: &Value, at: &str) -> Result<(), String> {
    let object = match schema {
        Value::Bool(_) => return Ok(()),
        Value::Object(object) => object,
        _ => return Err(format!("{at}: a schema must be an object or a boolean")),
    };
    if let Some(target) = object.get("$ref") {
        let target = target.as_str().ok_or(format!("{at}: $ref not a string"))?;
        let name = target
            .strip_prefix("#/components/schemas/")
            .ok_or(format!("{at}: $ref `{target}` is not a component"))?;
        if doc["components"]["schemas"].get(name).is_none() {
            return Err(format!("{at}: $ref `{target}` resolves to nothing"));
        }
    }
    if let Some(ty) = object.get("type") {
        let types: Vec<&Value> = match ty {
            Value::Array(types) => types.iter().collect(),
            one => vec![one],
        };
        for t in types {
            if !t.as_str().is_some_and(|t| TYPES.contains(&t)) {
                return Err(format!("{at}: type {t}"));
            }
        }
    }
    if let Some(required) = object.get("required") {
        let names = required
            .as_array()
            .ok_or(format!("{at}: required not an array"))?;
        for name in names {
            let name = name
                .as_str()
                .ok_or(format!("{at}: required member not a string"))?;
            if object.get("properties").and_then(|p| p.get(name)).is_none() {
                return Err(format!("{at}: required `{name}` is not a property"));
            }
        }
    }
    for (key, sub) in object
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        check_schema(doc, sub, &format!("{at}/properties/{key}"))?;
    }
    for keyword in ["items", "not", "contentSchema", "additionalProperties"] {
        if let Some(sub) = object.get(keyword) {
            check_schema(doc, sub, &format!("{at}/{keyword}"))?;
        }
    }
    for keyword in ["oneOf", "anyOf", "allOf"] {
        if let Some(subs) = object.get(keyword) {
            let subs = subs.as_array().filter(|s| !s.is_empty());
            let subs = subs.ok_or(format!("{at}/{keyword}: not a non-empty array"))?;
            for (i, sub) in subs.iter().enumerate() {
                check_schema(doc, sub, &format!("{at}/{keyword}/{i}"))?;
            }
        }
    }
    if let Some(values) = object.get("enum") {
        if values.as_array().is_none_or(Vec::is_empty) {
            return Err(format!("{at}/enum: not a non-empty array"));
        }
    }
    Ok(())
}
