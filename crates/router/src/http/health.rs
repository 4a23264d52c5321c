//! The health path, answered as Apollo Router answers it:
//!
//! - `GET /health?live`: liveness, 200 `{"status":"UP"}` as long as the
//!   process serves HTTP;
//! - `GET /health?ready`: readiness, 200 `{"status":"UP"}` when a
//!   supergraph is loaded and the router is not shutting down, else 503
//!   `{"status":"DOWN"}` (load balancers stop sending it requests);
//! - `GET /health`: 200 `{"status":"UP"}` when a supergraph is loaded,
//!   else 503 `{"status":"DOWN"}`.
//!
//! Any other method is 405.

use http::{Method, StatusCode};
use hyper::body::Incoming;
use serde_json::json;

use super::decode::MediaType;
use super::{error, json_response, with_allow, HttpResponse, ServerState};

/// Answers a request on the health path.
pub(super) fn answer(state: &ServerState, req: &http::Request<Incoming>) -> HttpResponse {
    if req.method() != Method::GET {
        return with_allow(
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed",
                "METHOD_NOT_ALLOWED",
                MediaType::Json,
            ),
            "GET",
        );
    }
    let asks = |name: &str| {
        req.uri().query().is_some_and(|q| {
            q.split('&')
                .any(|p| p == name || p.strip_prefix(name).is_some_and(|r| r.starts_with('=')))
        })
    };
    let up = if asks("ready") {
        state.handler().is_some() && !state.is_draining()
    } else if asks("live") {
        true
    } else {
        state.handler().is_some()
    };
    let (status, body) = if up {
        (StatusCode::OK, json!({"status": "UP"}))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, json!({"status": "DOWN"}))
    };
    json_response(status, &body, MediaType::Json)
}
