//! The error bodies' components: `Problem` (RFC 9457 problem details,
//! `application/problem+json`) and `GraphQLError` (one GraphQL error, as
//! in the `errors` of a GraphQL response).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::types::reference;

/// The component of every error body.
pub(super) const PROBLEM: &str = "Problem";
/// The component describing one GraphQL error.
pub(super) const GRAPHQL_ERROR: &str = "GraphQLError";

/// The standard components: `Problem` (RFC 9457) and `GraphQLError`.
pub(super) fn standard_components(schemas: &mut BTreeMap<String, Value>) {
    schemas.insert(
        GRAPHQL_ERROR.to_owned(),
        json!({
            "type": "object",
            "description": "A GraphQL error, as the GraphQL endpoint gives it.",
            "properties": {
                "message": {"type": "string"},
                "path": {
                    "type": "array",
                    "items": {"type": ["string", "integer"]},
                },
                "locations": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "line": {"type": "integer"},
                            "column": {"type": "integer"},
                        },
                    },
                },
                "extensions": {"type": "object"},
            },
            "required": ["message"],
        }),
    );
    schemas.insert(
        PROBLEM.to_owned(),
        json!({
            "type": "object",
            "description": "An error (RFC 9457 problem details).",
            "properties": {
                "type": {"type": "string", "format": "uri-reference"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "instance": {"type": "string"},
                "errors": {"type": "array", "items": reference(GRAPHQL_ERROR)},
            },
            "required": ["title", "status"],
        }),
    );
}
