//! `rest:` in `goliath.yaml`: REST routes backed by GraphQL operations
//! (see `docs/rest.md`):
//!
//! ```yaml
//! rest:
//!   dir: rest/                 # also read every .graphql file here (header comments)
//!   openapi: {path: /openapi.json, title: Learning API, version: "1"}
//!   status_codes: {NOT_FOUND: 404, UNAUTHENTICATED: 401, FORBIDDEN: 403}
//!   routes:
//!     - method: GET
//!       path: /api/v1/users/:id/progress
//!       operation: |
//!         query UserProgress($id: ID!, $first: Int = 10) {
//!           user(id: $id) { progress(first: $first) { course correct } }
//!         }
//!       variables:
//!         id: {from: path}
//!         first: {from: query, name: limit}
//!       response: {data_path: user.progress}
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::Value;

/// `rest:`: the REST front door (no routes: none).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RestConfig {
    /// The routes.
    pub routes: Vec<RouteConfig>,
    /// A folder of `.graphql` files, each one route described by its
    /// header comment (`rest::files`), read at start-up and on reload.
    pub dir: Option<PathBuf>,
    /// The generated OpenAPI document.
    pub openapi: OpenApiConfig,
    /// An error's `extensions.code` → the HTTP status of the answer
    /// (added to the defaults: `NOT_FOUND` 404, `UNAUTHENTICATED` 401,
    /// `FORBIDDEN` 403, `BAD_USER_INPUT` 400).
    pub status_codes: BTreeMap<String, u16>,
}

/// `rest.openapi:`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpenApiConfig {
    /// Where the document is served (default `/openapi.json`).
    pub path: String,
    /// `info.title` (default `goliath REST API`).
    pub title: String,
    /// `info.version` (default `1`).
    pub version: String,
}

impl Default for OpenApiConfig {
    fn default() -> Self {
        OpenApiConfig {
            path: "/openapi.json".to_owned(),
            title: "goliath REST API".to_owned(),
            version: "1".to_owned(),
        }
    }
}

/// One route.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: String,
    /// The path template: `/api/v1/users/:id` (or `{id}`).
    pub path: String,
    /// The operation's text.
    #[serde(default)]
    pub operation: Option<String>,
    /// A file holding the operation (relative to the working directory).
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// A persisted query's id (a manifest's, `persisted_queries:`).
    #[serde(default)]
    pub persisted_id: Option<String>,
    /// Which operation of the document (when it has several).
    #[serde(default)]
    pub operation_name: Option<String>,
    /// Where each variable comes from (every variable of the operation
    /// without a default needs one).
    #[serde(default)]
    pub variables: BTreeMap<String, VariableSource>,
    /// How the answer is shaped.
    #[serde(default)]
    pub response: ResponseConfig,
    /// The status of a successful answer (default 200; 201 for a mutation
    /// that creates).
    #[serde(default)]
    pub status: Option<u16>,
    /// A summary for the OpenAPI document.
    #[serde(default)]
    pub summary: Option<String>,
}

/// Where a variable's value comes from.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableSource {
    /// `path`, `query`, `body` or `header`.
    pub from: Source,
    /// The parameter's, header's or body member's name (default: the
    /// variable's). For `body`, `name: "."` takes the whole JSON body.
    #[serde(default)]
    pub name: Option<String>,
    /// The value when the request does not give one.
    #[serde(default)]
    pub default: Option<Value>,
}

/// The parts of an HTTP request a variable can come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A `:name` segment of the path.
    Path,
    /// A URL query parameter, typed by the variable (numbers, booleans,
    /// lists as repeated parameters or comma-separated).
    Query,
    /// A member of the JSON body (or the whole body, name `.`).
    Body,
    /// A request header.
    Header,
}

/// `response:` of a route.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResponseConfig {
    /// The dot-separated path in `data` whose value is the body (default:
    /// the whole `data`).
    pub data_path: Option<String>,
    /// Answer `{"data": ..., "errors": [...]}` instead of the value alone.
    pub include_errors: bool,
}

impl RestConfig {
    /// Whether any route may be configured (routes or a folder).
    pub fn is_enabled(&self) -> bool {
        !self.routes.is_empty() || self.dir.is_some()
    }

    /// Checks what serde cannot: `(key, message)` on failure.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if !self.openapi.path.starts_with('/') {
            return Err((
                "rest.openapi.path".to_owned(),
                format!("`{}` must start with `/`", self.openapi.path),
            ));
        }
        for (code, status) in &self.status_codes {
            if !(400..=599).contains(status) {
                return Err((
                    format!("rest.status_codes.{code}"),
                    format!("{status} is not an HTTP error status (400-599)"),
                ));
            }
        }
        Ok(())
    }
}
