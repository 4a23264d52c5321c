//! A REST answer from the pipeline's GraphQL response: the status, and the
//! body (the value at the route's data path, or an RFC 9457 problem).
//!
//! - success: the route's status (200, or e.g. 201), the value at the data
//!   path (partial data with errors is still a success; `include_errors`
//!   shows them);
//! - request errors (variable coercion, validation, limits): 400;
//! - an error whose `extensions.code` is mapped (`rest.status_codes`, and
//!   the defaults `NOT_FOUND` 404, `UNAUTHENTICATED` 401, `FORBIDDEN` 403,
//!   `BAD_USER_INPUT` 400): that status;
//! - no value at the data path: 502 when errors say why (a subgraph
//!   failed), 404 when there are none (nothing there);
//! - persisted-query refusals keep their status.
//!
//! Problems are `application/problem+json`: `{type, title, status, detail,
//! instance, errors}`, `errors` the GraphQL errors.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::route::Route;
use crate::pipeline::{Outcome, Response};

/// The `extensions.code`s with a status of their own unless configured.
pub const DEFAULT_STATUS_CODES: [(&str, u16); 4] = [
    ("NOT_FOUND", 404),
    ("UNAUTHENTICATED", 401),
    ("FORBIDDEN", 403),
    ("BAD_USER_INPUT", 400),
];

/// What the client gets.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: Value,
    /// Whether it is a problem (`application/problem+json`).
    pub problem: bool,
}

impl Answer {
    /// An RFC 9457 problem with `status`, `detail` and the GraphQL
    /// `errors`, for the request at `instance`.
    pub fn problem(status: u16, detail: &str, errors: Vec<Value>, instance: &str) -> Answer {
        let title = http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error");
        let mut body = json!({
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": instance,
        });
        if !errors.is_empty() {
            body["errors"] = Value::Array(errors);
        }
        Answer {
            status,
            body,
            problem: true,
        }
    }
}

impl Answer {
    /// This problem, for the request at `instance` (when it has none).
    pub fn with_instance(mut self, instance: &str) -> Answer {
        if self.problem && self.body["instance"].as_str().is_none_or(str::is_empty) {
            self.body["instance"] = Value::String(instance.to_owned());
        }
        self
    }
}

/// The answer to `route` from the pipeline's `response`, for the request
/// at `instance`, with `codes` mapping `extensions.code` to a status.
pub fn answer(
    route: &Route,
    response: &Response,
    codes: &BTreeMap<String, u16>,
    instance: &str,
) -> Answer {
    let mut body = response.body.to_value();
    let errors: Vec<Value> = match body.get_mut("errors").map(Value::take) {
        Some(Value::Array(errors)) => errors,
        _ => Vec::new(),
    };
    let first_message = || {
        errors
            .first()
            .and_then(|e| e["message"].as_str())
            .unwrap_or("the request failed")
            .to_owned()
    };
    match response.outcome {
        Outcome::Executed => {}
        Outcome::Rejected { status } => {
            return Answer::problem(status, &first_message(), errors, instance)
        }
        Outcome::RequestError | Outcome::Refused | Outcome::MethodNotAllowed => {
            return Answer::problem(400, &first_message(), errors, instance)
        }
    }
    if let Some(status) = mapped_status(&errors, codes) {
        return Answer::problem(status, &first_message(), errors, instance);
    }
    let mut value = body.get_mut("data").map(Value::take).unwrap_or(Value::Null);
    for key in &route.data_path {
        value = match value {
            Value::Object(mut map) => map.remove(key).unwrap_or(Value::Null),
            _ => Value::Null,
        };
    }
    if value.is_null() {
        return match errors.is_empty() {
            true => {
                let at = route.data_path.join(".");
                let detail = format!("nothing at `{}`", if at.is_empty() { "data" } else { &at });
                Answer::problem(404, &detail, errors, instance)
            }
            false => Answer::problem(502, &first_message(), errors, instance),
        };
    }
    let body = match route.include_errors {
        true if errors.is_empty() => json!({ "data": value }),
        true => json!({ "data": value, "errors": errors }),
        false => value,
    };
    Answer {
        status: route.status,
        body,
        problem: false,
    }
}

/// The status of the first error whose code is mapped.
fn mapped_status(errors: &[Value], codes: &BTreeMap<String, u16>) -> Option<u16> {
    errors.iter().find_map(|e| {
        let code = e["extensions"]["code"].as_str()?;
        codes.get(code).copied()
    })
}

/// The configured codes over the defaults.
pub fn status_codes(configured: &BTreeMap<String, u16>) -> BTreeMap<String, u16> {
    let mut codes: BTreeMap<String, u16> = DEFAULT_STATUS_CODES
        .iter()
        .map(|(code, status)| (code.to_string(), *status))
        .collect();
    codes.extend(configured.iter().map(|(k, v)| (k.clone(), *v)));
    codes
}
