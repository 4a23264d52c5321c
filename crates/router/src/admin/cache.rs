//! `POST /admin/cache/invalidation`: purges the response cache
//! (`crate::response_cache::purge`). The body is Apollo Router's
//! invalidation shape, a list of `{"kind": "subgraph" | "type" | "entity"
//! | "cache_tag" | "all", ...}`; the answer `{"count": N}`, the number of
//! kept answers removed. A request that names an unknown subgraph or
//! type, or an entity by a key that is not one of its `@key`s, is 400 and
//! nothing is removed; with the cache off, 404.

use std::future::Future;
use std::pin::Pin;

use http::StatusCode;
use serde_json::json;

use super::{bad_request, error, json_response, Admin, Call, HttpResponse};
use crate::response_cache::purge;

/// `POST /admin/cache/invalidation`.
pub(super) fn invalidation(
    admin: &Admin,
    call: Call,
) -> Pin<Box<dyn Future<Output = HttpResponse> + Send + '_>> {
    Box::pin(async move {
        let Some(cache) = &admin.response_cache else {
            return error(
                StatusCode::NOT_FOUND,
                "the response cache is off (response_cache.enabled)",
                "NOT_FOUND",
            );
        };
        let requests = match purge::parse(&call.body) {
            Ok(requests) => requests,
            Err(message) => return bad_request(&message),
        };
        match cache.purge(&requests).await {
            Ok(count) => {
                tracing::info!("response cache: purged {count} answers");
                json_response(StatusCode::OK, &json!({ "count": count }))
            }
            Err(message) if message.contains("Redis") => error(
                StatusCode::SERVICE_UNAVAILABLE,
                &message,
                "SERVICE_UNAVAILABLE",
            ),
            Err(message) => bad_request(&message),
        }
    })
}
