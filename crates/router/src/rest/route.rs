//! A route compiled at start-up: its method and path template, its
//! operation validated against the API schema, and where each variable
//! comes from. A route that cannot be compiled stops start-up (or the
//! reload) with a message naming it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use apollo_compiler::ast::{OperationType, Type};
use apollo_compiler::executable::{Selection, SelectionSet};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};
use serde_json::Value;

use super::config::{RouteConfig, Source};

/// One segment of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A fixed segment.
    Literal(String),
    /// A parameter (`:id` or `{id}`), by name.
    Param(String),
}

/// A compiled route.
#[derive(Debug, Clone)]
pub struct Route {
    /// `GET /api/v1/users/:id`, as configured: for messages.
    pub label: String,
    /// The OpenAPI `operationId`: the operation's name, else made from the
    /// method and path.
    pub id: String,
    /// The HTTP method.
    pub method: http::Method,
    /// The path template's segments.
    pub segments: Vec<Segment>,
    /// The operation's text (run as the client's would be).
    pub query: Arc<str>,
    /// The operation's name, if the document names it.
    pub operation_name: Option<String>,
    /// The document, valid against the API schema.
    pub doc: Arc<Valid<ExecutableDocument>>,
    /// Whether the operation is a mutation.
    pub is_mutation: bool,
    /// Every variable of the operation, in its order.
    pub variables: Vec<Variable>,
    /// The response keys from `data` to the body's value.
    pub data_path: Vec<String>,
    /// Whether the body is `{"data", "errors"}` instead of the value.
    pub include_errors: bool,
    /// The status of a successful answer.
    pub status: u16,
    /// The OpenAPI summary.
    pub summary: Option<String>,
}

/// One variable of a route's operation.
#[derive(Debug, Clone)]
pub struct Variable {
    /// The variable's name (without `$`).
    pub name: String,
    /// Its GraphQL type.
    pub ty: Type,
    /// Where its value comes from (`None`: nowhere; it has a default or is
    /// nullable).
    pub source: Option<Source>,
    /// The path parameter's, query parameter's, header's or body member's
    /// name (`.`: the whole body).
    pub param: String,
    /// The route's default, when the request gives no value.
    pub default: Option<Value>,
    /// Whether the operation gives a default itself.
    pub has_operation_default: bool,
}

impl Variable {
    /// Whether a request must give it (non-null, no default anywhere).
    pub fn is_required(&self) -> bool {
        self.ty.is_non_null() && self.default.is_none() && !self.has_operation_default
    }
}

impl Route {
    /// The path in OpenAPI's form: `/api/v1/users/{id}`.
    pub fn openapi_path(&self) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            out.push('/');
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Param(name) => {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
            }
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }

    /// The path parameters' values, when `path` is this route's.
    pub fn matches<'p>(&self, path: &'p str) -> Option<Vec<(&str, &'p str)>> {
        let mut parts = path.strip_prefix('/')?.split('/');
        let mut params = Vec::new();
        for segment in &self.segments {
            let part = parts.next()?;
            match segment {
                Segment::Literal(text) if text == part => {}
                Segment::Literal(_) => return None,
                Segment::Param(_) if part.is_empty() => return None,
                Segment::Param(name) => params.push((name.as_str(), part)),
            }
        }
        match parts.next() {
            None => Some(params),
            // A trailing slash.
            Some("") if parts.next().is_none() => Some(params),
            Some(_) => None,
        }
    }
}

/// Compiles route `config` (the `index`th) against `schema`, with `text`
/// its operation (read by the caller from the config, a file or a
/// manifest).
pub fn compile(schema: &Valid<Schema>, config: &RouteConfig, text: &str) -> Result<Route, String> {
    let label = format!("{} {}", config.method.to_ascii_uppercase(), config.path);
    let fail = |message: String| format!("rest route `{label}`: {message}");
    let method = match config.method.to_ascii_uppercase().as_str() {
        "GET" => http::Method::GET,
        "POST" => http::Method::POST,
        "PUT" => http::Method::PUT,
        "PATCH" => http::Method::PATCH,
        "DELETE" => http::Method::DELETE,
        other => {
            return Err(fail(format!(
                "method `{other}` is not GET, POST, PUT, PATCH or DELETE"
            )))
        }
    };
    let segments = segments(&config.path).map_err(fail)?;
    let doc = ExecutableDocument::parse_and_validate(schema, text, "route.graphql")
        .map_err(|e| fail(format!("the operation is not valid: {}", e.errors)))?;
    let operation = doc
        .operations
        .get(config.operation_name.as_deref())
        .map_err(|e| fail(e.message().to_string()))?;
    if operation.operation_type == OperationType::Subscription {
        return Err(fail("subscriptions cannot be routes".to_owned()));
    }
    let is_mutation = operation.operation_type == OperationType::Mutation;
    if is_mutation && method == http::Method::GET {
        return Err(fail("a mutation cannot be a GET route".to_owned()));
    }
    let known: BTreeSet<&str> = operation
        .variables
        .iter()
        .map(|v| v.name.as_str())
        .collect();
    if let Some(name) = config
        .variables
        .keys()
        .find(|n| !known.contains(n.as_str()))
    {
        return Err(fail(format!("the operation has no variable `${name}`")));
    }
    let mut variables = Vec::new();
    for v in &operation.variables {
        let name = v.name.to_string();
        let mapped = config.variables.get(&name);
        let variable = Variable {
            param: mapped
                .and_then(|m| m.name.clone())
                .unwrap_or_else(|| name.clone()),
            ty: (*v.ty).clone(),
            source: mapped.map(|m| m.from),
            default: mapped.and_then(|m| m.default.clone()),
            has_operation_default: v.default_value.is_some(),
            name,
        };
        if variable.source.is_none() && variable.is_required() {
            return Err(fail(format!(
                "variable `${}` ({}) is not mapped: give it a source in `variables` (path, query, body or header)",
                variable.name, variable.ty
            )));
        }
        variables.push(variable);
    }
    check_path_params(&segments, &variables).map_err(fail)?;
    let data_path: Vec<String> = match &config.response.data_path {
        Some(path) if !path.is_empty() => path.split('.').map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    check_data_path(&operation.selection_set, &data_path).map_err(fail)?;
    let status = config.status.unwrap_or(200);
    if !(200..=299).contains(&status) {
        return Err(fail(format!(
            "status {status} is not a success status (200-299)"
        )));
    }
    let id = match &operation.name {
        Some(name) => name.to_string(),
        None => operation_id(&method, &segments),
    };
    Ok(Route {
        label,
        id,
        method,
        segments,
        query: Arc::from(text),
        operation_name: operation.name.as_ref().map(|n| n.to_string()),
        is_mutation,
        variables,
        data_path,
        include_errors: config.response.include_errors,
        status,
        summary: config.summary.clone(),
        doc: Arc::new(doc),
    })
}

/// The segments of a path template; an error says what is wrong.
fn segments(path: &str) -> Result<Vec<Segment>, String> {
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!("the path `{path}` must start with `/`"));
    };
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for part in rest.split('/').filter(|p| !p.is_empty()) {
        let param = part
            .strip_prefix(':')
            .or_else(|| part.strip_prefix('{').and_then(|p| p.strip_suffix('}')));
        match param {
            Some(name) => {
                let valid =
                    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !valid {
                    return Err(format!("`{part}` is not a path parameter such as `:id`"));
                }
                if !seen.insert(name.to_owned()) {
                    return Err(format!("the path parameter `{name}` appears twice"));
                }
                out.push(Segment::Param(name.to_owned()));
            }
            None => {
                if part.contains(['{', '}', ':', '?', '#', '*']) {
                    return Err(format!(
                        "the path segment `{part}` has a reserved character"
                    ));
                }
                out.push(Segment::Literal(part.to_owned()));
            }
        }
    }
    Ok(out)
}

/// Every path parameter feeds one variable, and every `from: path`
/// variable names a parameter of the template.
fn check_path_params(segments: &[Segment], variables: &[Variable]) -> Result<(), String> {
    let params: BTreeSet<&str> = segments
        .iter()
        .filter_map(|s| match s {
            Segment::Param(name) => Some(name.as_str()),
            Segment::Literal(_) => None,
        })
        .collect();
    let mut fed: BTreeMap<&str, &str> = BTreeMap::new();
    for v in variables.iter().filter(|v| v.source == Some(Source::Path)) {
        if !params.contains(v.param.as_str()) {
            return Err(format!(
                "variable `${}` comes from the path parameter `{}`, which the path does not have",
                v.name, v.param
            ));
        }
        if let Some(other) = fed.insert(&v.param, &v.name) {
            return Err(format!(
                "the path parameter `{}` feeds both `${other}` and `${}`",
                v.param, v.name
            ));
        }
    }
    if let Some(unused) = params.iter().find(|p| !fed.contains_key(*p)) {
        return Err(format!(
            "the path parameter `{unused}` feeds no variable (add `variables: {{NAME: {{from: path, name: {unused}}}}}`)"
        ));
    }
    Ok(())
}

/// `path` follows response keys of `set` (through fields only).
fn check_data_path(set: &SelectionSet, path: &[String]) -> Result<(), String> {
    let mut set = set;
    for (i, key) in path.iter().enumerate() {
        let field = set.selections.iter().find_map(|s| match s {
            Selection::Field(f) if f.response_key().as_str() == key => Some(f),
            _ => None,
        });
        let Some(field) = field else {
            return Err(format!(
                "response.data_path `{}`: the operation selects no `{key}` there",
                path[..=i].join(".")
            ));
        };
        set = &field.selection_set;
    }
    Ok(())
}

/// An `operationId` for an operation without a name: `get_api_v1_users_id`.
fn operation_id(method: &http::Method, segments: &[Segment]) -> String {
    let mut id = method.as_str().to_ascii_lowercase();
    for segment in segments {
        id.push('_');
        let text = match segment {
            Segment::Literal(t) | Segment::Param(t) => t,
        };
        id.extend(
            text.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
        );
    }
    id
}
