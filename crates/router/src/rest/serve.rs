//! The HTTP side of the REST gateway: a request on a route's path becomes
//! one GraphQL request to the pipeline, within the router's request
//! timeout, and its answer a REST answer (`super::answer`) with the
//! pipeline's `Cache-Control`, surrogate keys and cache status on a
//! success. Requests other than `GET` pass the router's CSRF check (a JSON
//! `Content-Type` or a preflight header), as GraphQL requests do.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE};
use http::{HeaderValue, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde_json::Value;

use super::answer::{answer, Answer};
use super::extract::{self, Parts};
use super::{Found, Rest};
use crate::config::CsrfConfig;
use crate::http::{edge_headers, CatchUnwind, Handler};
use crate::pipeline::Request;

/// An HTTP response.
pub type HttpResponse = http::Response<Full<Bytes>>;

/// What serving a route needs from the server.
pub struct Limits<'a> {
    /// The largest body read.
    pub max_body_bytes: usize,
    /// How long the answer may take.
    pub timeout: Duration,
    /// The CSRF check for requests other than `GET`.
    pub csrf: &'a CsrfConfig,
}

/// Serves `req` (whose method and path `handler`'s gateway knows).
pub async fn serve(
    handler: Arc<dyn Handler>,
    req: http::Request<Incoming>,
    limits: Limits<'_>,
) -> HttpResponse {
    let Some(rest) = handler.rest() else {
        return reply(Answer::problem(404, "not found", vec![], req.uri().path()));
    };
    let path = req.uri().path().to_owned();
    let found = match rest.find(req.method(), &path) {
        Some(found) => found,
        None => return reply(Answer::problem(404, "not found", vec![], &path)),
    };
    let (route, params) = match found {
        Found::Route(route, params) => (route, params),
        Found::OpenApi => return openapi(rest),
        Found::OtherMethod(methods) => {
            let mut response = reply(Answer::problem(405, "method not allowed", vec![], &path));
            if let Ok(allow) = HeaderValue::from_str(&methods.join(", ")) {
                response.headers_mut().insert(ALLOW, allow);
            }
            return response;
        }
    };
    let deadline = Instant::now() + limits.timeout;
    if route.method != http::Method::GET {
        if let Err(message) = limits.csrf.check(req.headers()) {
            return reply(Answer::problem(400, &message, vec![], &path));
        }
    }
    let (head, body) = req.into_parts();
    let body = match read_body(&head.headers, body, limits.max_body_bytes, deadline).await {
        Ok(body) => body,
        Err(answer) => return reply(answer.with_instance(&path)),
    };
    let parts = Parts {
        path: params,
        query: head.uri.query().unwrap_or(""),
        headers: &head.headers,
        body: body.as_ref(),
    };
    let variables = match extract::variables(&rest.supergraph().api_schema, route, &parts) {
        Ok(variables) => variables,
        Err(bad) => return reply(Answer::problem(400, &bad.0, vec![], &path)),
    };
    let request = Request {
        query: Some(route.query.to_string()),
        operation_name: route.operation_name.clone(),
        variables,
        is_get: route.method == http::Method::GET,
        headers: head.headers.clone(),
        deadline: Some(deadline),
        configured: true,
        ..Request::default()
    };
    let execution = CatchUnwind(handler.execute(request));
    let response = match tokio::time::timeout_at(deadline.into(), execution).await {
        Err(_) => return reply(Answer::problem(504, "request timed out", vec![], &path)),
        Ok(Err(())) => {
            tracing::error!("the request handler panicked (rest route {})", route.label);
            return reply(Answer::problem(500, "internal server error", vec![], &path));
        }
        Ok(Ok(response)) => response,
    };
    let answer = answer(route, &response, rest.codes(), &path);
    let success = !answer.problem;
    let mut http = reply(answer);
    if success {
        if let Some(policy) = response.cache_control {
            http.headers_mut()
                .insert(http::header::CACHE_CONTROL, policy.header_value());
        }
        edge_headers(http.headers_mut(), response.edge);
    } else {
        http.headers_mut().insert(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        );
    }
    http
}

/// Reads a JSON body (none when empty); a problem when it is too large,
/// not JSON, or too slow.
async fn read_body(
    headers: &http::HeaderMap,
    body: Incoming,
    max: usize,
    deadline: Instant,
) -> Result<Option<Value>, Answer> {
    let read = Limited::new(body, max).collect();
    let bytes = match tokio::time::timeout_at(deadline.into(), read).await {
        Err(_) => {
            return Err(Answer::problem(
                408,
                "timed out reading the body",
                vec![],
                "",
            ))
        }
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            let detail = format!("the body is larger than {max} bytes");
            return Err(Answer::problem(413, &detail, vec![], ""));
        }
        Ok(Err(e)) => {
            let detail = format!("cannot read the body: {e}");
            return Err(Answer::problem(400, &detail, vec![], ""));
        }
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let media = v.split(';').next().unwrap_or("").trim();
            media.eq_ignore_ascii_case("application/json") || media.ends_with("+json")
        });
    if !json {
        return Err(Answer::problem(
            415,
            "the body must be JSON (Content-Type: application/json)",
            vec![],
            "",
        ));
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| Answer::problem(400, &format!("the body is not JSON: {e}"), vec![], ""))
}

/// The OpenAPI document.
fn openapi(rest: &Rest) -> HttpResponse {
    let mut response = http::Response::new(Full::new(rest.openapi().clone()));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    response
}

/// The HTTP response of `answer`.
fn reply(answer: Answer) -> HttpResponse {
    let bytes = serde_json::to_vec(&answer.body).unwrap_or_default();
    let mut response = http::Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let media = match answer.problem {
        true => "application/problem+json",
        false => "application/json",
    };
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(media));
    response
}
