//! The request pipeline: one GraphQL request in, one GraphQL response out.
//!
//! The HTTP layer (`http.rs`) turns HTTP requests into [`Request`]s and
//! [`Response`]s back into HTTP responses; everything GraphQL happens here.

use serde_json::{Map, Value};

/// A GraphQL request as the HTTP layer decoded it (GraphQL-over-HTTP
/// `query`, `operationName`, `variables`, `extensions`).
#[derive(Debug, Default, Clone)]
pub struct Request {
    /// The document text. `None` when the request had no `query`.
    pub query: Option<String>,
    /// The operation to run when the document has several.
    pub operation_name: Option<String>,
    /// Variable values, as JSON.
    pub variables: Map<String, Value>,
    /// Request extensions (persisted queries and so on).
    pub extensions: Map<String, Value>,
    /// True for `GET`: only queries may run (a mutation gets 405).
    pub is_get: bool,
}

/// What the pipeline answers: a GraphQL response body and how it went.
#[derive(Debug, Clone)]
pub struct Response {
    /// The response body: an object with `data`, `errors`, `extensions`.
    pub body: Value,
    /// How the request ended, which decides the HTTP status code.
    pub outcome: Outcome,
}

/// How a request ended, for choosing the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Execution started: the body has a `data` key (possibly null).
    Executed,
    /// A request error before execution (parse, validation, variable
    /// coercion, unknown operation): the body has no `data` key.
    RequestError,
    /// A mutation (or subscription) was sent over GET.
    MethodNotAllowed,
}

/// The request pipeline for one loaded supergraph. (Temporary stub: the real
/// one, with planning and execution, is being written.)
pub struct Pipeline {}

impl Pipeline {
    /// Runs one GraphQL request to completion.
    pub async fn execute(&self, req: Request) -> Response {
        let _ = req;
        Response {
            body: serde_json::json!({"data": null}),
            outcome: Outcome::Executed,
        }
    }
}
