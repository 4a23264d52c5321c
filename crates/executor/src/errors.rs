//! Errors as clients see them: subgraph errors with paths in client terms,
//! and the router's own errors for failed or malformed fetches, with
//! Apollo's `extensions.code`s.

use serde_json::{json, Map, Value};

use crate::client::FetchError;
use crate::fetch::Targets;
use crate::value::Val;
use crate::SubgraphEndpoint;
use goliath_planner::FetchNode;

/// The message of masked subgraph errors (`include_subgraph_errors: false`).
const REDACTED: &str = "Subgraph errors redacted";

/// `SUBREQUEST_HTTP_ERROR`: the request failed (connection, timeout, status).
pub(crate) fn http_error(endpoint: &SubgraphEndpoint, e: &FetchError, path: &[Value]) -> Value {
    let service = &endpoint.name;
    let (message, reason) = if endpoint.include_errors {
        (
            format!("HTTP fetch failed from '{service}': {e}"),
            e.to_string(),
        )
    } else {
        (REDACTED.to_owned(), REDACTED.to_owned())
    };
    let mut err = json!({
        "message": message,
        "extensions": {"code": "SUBREQUEST_HTTP_ERROR", "service": service, "reason": reason}
    });
    if !path.is_empty() {
        err["path"] = Value::Array(path.to_vec());
    }
    err
}

/// `SUBREQUEST_MALFORMED_RESPONSE`: the answer is not a usable GraphQL
/// response, including answers the client refused before using them
/// ([`FetchError::Malformed`]: too large, badly framed, compressed).
pub(crate) fn malformed(endpoint: &SubgraphEndpoint, why: &str, path: &[Value]) -> Value {
    let service = &endpoint.name;
    let message = if endpoint.include_errors {
        format!("Subgraph '{service}' returned an invalid response: {why}")
    } else {
        REDACTED.to_owned()
    };
    let mut err = json!({
        "message": message,
        "extensions": {"code": "SUBREQUEST_MALFORMED_RESPONSE", "service": service}
    });
    if !path.is_empty() {
        err["path"] = Value::Array(path.to_vec());
    }
    err
}

/// A subgraph's GraphQL error as the client sees it: masked if config
/// says so, `locations` dropped (they point into the subgraph operation),
/// and for entity fetches one error per object path that sent the entity.
pub(crate) fn subgraph_errors(
    endpoint: &SubgraphEndpoint,
    err: Value,
    node: &FetchNode,
    targets: &Targets,
    data: &Val<'_>,
) -> Vec<Value> {
    let Value::Object(mut err) = err else {
        return vec![malformed(endpoint, "an error is not an object", &[])];
    };
    err.remove("locations");
    if !endpoint.include_errors {
        let mut masked = Map::new();
        masked.insert("message".into(), Value::String(REDACTED.into()));
        if let Some(p) = err.remove("path") {
            masked.insert("path".into(), p);
        }
        err = masked;
    }
    if !matches!(err.get("message"), Some(Value::String(_))) {
        err.insert("message".into(), Value::String("(no message)".into()));
    }
    let ext = err
        .entry("extensions")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(ext) = ext {
        ext.entry("service")
            .or_insert_with(|| Value::String(endpoint.name.clone()));
    }
    if !node.is_entity_fetch() {
        return vec![Value::Object(err)];
    }
    // `["_entities", i, rest...]` → every object path that sent entity i.
    let path = match err.remove("path") {
        Some(Value::Array(p)) => p,
        _ => return vec![Value::Object(err)],
    };
    let index = match (
        path.first().and_then(Value::as_str),
        path.get(1).and_then(Value::as_u64),
    ) {
        (Some("_entities"), Some(i)) => i as usize,
        _ => return vec![Value::Object(err)],
    };
    let mut out = vec![];
    for mut p in targets.paths_of(data, index) {
        let mut e = err.clone();
        p.extend(path[2..].iter().cloned());
        e.insert("path".into(), Value::Array(p));
        out.push(Value::Object(e));
    }
    if out.is_empty() {
        out.push(Value::Object(err));
    }
    out
}
