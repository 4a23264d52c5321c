//! The OpenAPI 3.1 document of the REST routes (served at
//! `rest.openapi.path`), generated from the routes and the API schema.
//!
//! - `paths`: one operation per route (by `Route::openapi_path()` and the
//!   lowercase method; a second route with the same method and path is
//!   left out, the first one answers). `operationId` is the route's id,
//!   made unique with `_2`, `_3`, … in route order; `summary` the route's,
//!   else the operation's name; `description` the root fields'.
//! - `parameters` and `requestBody` from the variables (`params`).
//! - `responses`: the route's status with the schema of the value at its
//!   data path (`response`), and `application/problem+json` answers
//!   (`Problem`, RFC 9457) for 400, 404, 500, 502 and each configured
//!   error status.
//! - `components.schemas`: enums and input objects (`types`), `Problem`
//!   and `GraphQLError`.
//!
//! Schemas use the JSON Schema 2020-12 dialect (OpenAPI 3.1's default),
//! and the output is deterministic (sorted maps).

mod params;
mod problem;
mod response;
mod types;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use apollo_compiler::validation::Valid;
use apollo_compiler::Schema;
use serde_json::{json, Map, Value};

use super::config::OpenApiConfig;
use super::route::Route;
use problem::PROBLEM;
use response::Output;
use types::{reference, Components};

/// The statuses every route may answer with besides its success status.
const ALWAYS: [u16; 4] = [400, 404, 500, 502];

/// The OpenAPI 3.1 document describing `routes` over `schema` (the API
/// schema), with `info` its title and version and `error_statuses` the
/// error statuses configured besides 400, 404, 500 and 502 (those outside
/// 400-599 are ignored).
pub fn document(
    schema: &Valid<Schema>,
    routes: &[Route],
    info: &OpenApiConfig,
    error_statuses: &[u16],
) -> Value {
    let mut components = Components::new(schema);
    let possible = response::possible_types(schema);
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut ids = BTreeSet::new();
    for route in routes {
        let Ok(operation) = route.doc.operations.get(route.operation_name.as_deref()) else {
            continue;
        };
        let item = paths.entry(route.openapi_path()).or_default();
        let method = route.method.as_str().to_ascii_lowercase();
        if item.contains_key(&method) {
            continue;
        }
        let id = unique_id(&route.id, &mut ids);
        let docs = params::variable_docs(&route.doc, operation);
        let mut op = json!({"operationId": id});
        if let Some(summary) = route.summary.as_ref().or(route.operation_name.as_ref()) {
            op["summary"] = json!(summary);
        }
        let mut descriptions: Vec<&str> = Vec::new();
        for field in operation.root_fields(&route.doc) {
            if let Some(text) = field.definition.description.as_deref() {
                if !descriptions.contains(&text) {
                    descriptions.push(text);
                }
            }
        }
        if !descriptions.is_empty() {
            op["description"] = json!(descriptions.join("\n\n"));
        }
        let parameters = params::parameters(&mut components, route, operation, &docs);
        if !parameters.is_empty() {
            op["parameters"] = json!(parameters);
        }
        if let Some(body) = params::request_body(&mut components, route, operation, &docs) {
            op["requestBody"] = body;
        }
        let success = Output {
            components: &mut components,
            doc: &route.doc,
            possible: &possible,
        }
        .success(route, operation);
        op["responses"] = responses(route.status, success, error_statuses);
        item.insert(method, op);
    }
    let mut schemas = components.schemas;
    problem::standard_components(&mut schemas);
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {"title": info.title, "version": info.version},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

/// `id`, or `id_2`, `id_3`, … when taken.
fn unique_id(id: &str, taken: &mut BTreeSet<String>) -> String {
    let mut candidate = id.to_owned();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{id}_{n}");
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

/// An operation's `responses`.
fn responses(status: u16, success: Value, error_statuses: &[u16]) -> Value {
    let mut out = Map::new();
    let mut ok = json!({"description": reason(status)});
    if status != 204 {
        ok["content"] = json!({"application/json": {"schema": success}});
    }
    out.insert(status.to_string(), ok);
    let configured = error_statuses
        .iter()
        .copied()
        .filter(|s| (400..=599).contains(s));
    for status in ALWAYS.into_iter().chain(configured) {
        out.entry(status.to_string()).or_insert_with(|| {
            json!({
                "description": error_description(status),
                "content": {"application/problem+json": {"schema": reference(PROBLEM)}},
            })
        });
    }
    Value::Object(out)
}

/// The canonical reason phrase of `status` (or `Status <n>`).
fn reason(status: u16) -> String {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map_or_else(|| format!("Status {status}"), str::to_owned)
}

/// What an error status means for a route.
fn error_description(status: u16) -> String {
    match status {
        400 => "Bad input: a parameter, header or body member is missing or does not \
                match the operation's variables (or an error mapped to 400)."
            .to_owned(),
        404 => {
            "Not found: nothing at the response's data path (or an error mapped to 404).".to_owned()
        }
        500 => "Internal error.".to_owned(),
        502 => "A subgraph failed and there is no data.".to_owned(),
        other => format!(
            "{}: an error whose `extensions.code` maps to {other}.",
            reason(other)
        ),
    }
}
