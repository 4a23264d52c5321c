//! The admin listener: every operator page and API, on a listener of its
//! own (`admin.listen`), never on the public one.
//!
//! Routes (`ROUTES`, a table: a new feature adds a row):
//!
//! | method | path | answer |
//! |---|---|---|
//! | `GET` | `/admin/` (and `/admin`) | 302 to `/admin/migrations.html`, keeping `?token=` |
//! | `GET` | `/admin/migrations` | the migration [`Report`] as JSON |
//! | `GET` | `/admin/migrations.html` | the same, as a server-rendered page ([`page`]) |
//! | `PUT` | `/admin/migrations/{Type.field}` | sets the field's state from `{"state", "percent", "reason"}`; answers its new report entry |
//! | `DELETE` | `/admin/migrations/{Type.field}` | drops the field's run-time state; answers its report entry |
//! | `GET` | `/admin/usage?days=N&field=Type.field&top=N` | the field usage report as JSON ([`usage`]) |
//! | `GET` | `/admin/usage.html` (same parameters) | the same, as a page |
//! | `POST` | `/admin/cache/invalidation` | purges the response cache; Apollo Router's invalidation body, answers `{"count": N}` ([`cache`]) |
//! | `GET` | `/metrics` (`telemetry.exporters.metrics.prometheus.path`) | the metrics, Prometheus text format; only when metrics are on, and with no token |
//!
//! Every route but the metrics needs the token (`admin.token`): `Authorization: Bearer
//! TOKEN`, or, for the pages a browser opens (`/admin/` and the HTML page),
//! `?token=TOKEN` as well. Tokens are compared in constant time. A missing
//! or wrong token is 401 with `WWW-Authenticate: Bearer` and a GraphQL-style
//! error (code `UNAUTHENTICATED`); an unknown path is 404, a known path with
//! another method 405 (with `Allow`), a body over 64 KiB 413, a bad `PUT`
//! body 400 and an unknown field 404, all with a GraphQL-style error body.

mod cache;
pub mod page;
mod usage;

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use goliath_supergraph::MigrationState;
use http::header::{HeaderValue, ALLOW, AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;

use crate::migrations::report::Report;
use crate::migrations::Migrations;
use crate::telemetry::Telemetry;

/// The largest request body read, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// How long a client may take to send a request head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long requests in flight may take to finish at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// `admin:` in the configuration. Without `listen` (the default) there is
/// no admin listener; with it, `token` is required.
///
/// ```yaml
/// admin:
///   listen: 127.0.0.1:9090
///   token: ${env.GOLIATH_ADMIN_TOKEN}
/// ```
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// The admin listener's socket address; unset: no admin listener.
    pub listen: Option<String>,
    /// The token every admin request must carry (`Authorization: Bearer`).
    pub token: Option<String>,
}

impl fmt::Debug for AdminConfig {
    /// Never prints the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminConfig")
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl AdminConfig {
    /// Checks the section; the error is `(key, message)`. `public` is the
    /// public listener's address (`listen`), which the admin one must not
    /// share.
    pub fn validate(&self, public: &str) -> Result<(), (String, String)> {
        let Some(listen) = &self.listen else {
            return Ok(());
        };
        let addr: SocketAddr = listen.parse().map_err(|_| {
            (
                "admin.listen".to_owned(),
                format!("`{listen}` is not a socket address such as 127.0.0.1:9090"),
            )
        })?;
        if addr.port() != 0 && public.parse::<SocketAddr>().ok() == Some(addr) {
            return Err((
                "admin.listen".to_owned(),
                format!("`{listen}` is the public listener's address: the admin listener needs one of its own"),
            ));
        }
        match &self.token {
            None => Err((
                "admin.token".to_owned(),
                "required when admin.listen is set (e.g. `token: ${env.GOLIATH_ADMIN_TOKEN}`)"
                    .to_owned(),
            )),
            Some(t) if t.is_empty() => {
                Err(("admin.token".to_owned(), "must not be empty".to_owned()))
            }
            Some(t) if !t.bytes().all(|b| b.is_ascii_graphic()) => Err((
                "admin.token".to_owned(),
                "must be printable ASCII without spaces (it travels in an HTTP header)".to_owned(),
            )),
            Some(_) => Ok(()),
        }
    }

    /// The admin listener's address, when one is configured (checked when
    /// the config is loaded).
    pub fn listen_addr(&self) -> Option<Result<SocketAddr, std::net::AddrParseError>> {
        self.listen.as_deref().map(str::parse)
    }
}

/// What the admin routes work on: the token, and the router's migrations.
pub struct Admin {
    token: String,
    migrations: Arc<Migrations>,
    usage: Option<Arc<crate::usage::Usage>>,
    /// The response cache, when on.
    response_cache: Option<Arc<crate::response_cache::ResponseCache>>,
    /// The metrics and their path, when metrics are on.
    metrics: Option<MetricsRoute>,
}

/// Where the metrics are served, and what renders them.
struct MetricsRoute {
    path: String,
    telemetry: Telemetry,
}

impl Admin {
    /// The admin API for `migrations`, guarded by `token`.
    pub fn new(token: impl Into<String>, migrations: Arc<Migrations>) -> Admin {
        Admin {
            token: token.into(),
            migrations,
            usage: None,
            response_cache: None,
            metrics: None,
        }
    }

    /// Serves `telemetry`'s metrics too, at `path`, without a token
    /// (nothing is served when its metrics are off).
    pub fn with_metrics(mut self, telemetry: Telemetry, path: impl Into<String>) -> Admin {
        if telemetry.is_enabled() {
            self.metrics = Some(MetricsRoute {
                path: path.into(),
                telemetry,
            });
        }
        self
    }

    /// Serves the router's field usage too (`/admin/usage`).
    pub fn with_usage(mut self, usage: Arc<crate::usage::Usage>) -> Admin {
        self.usage = Some(usage);
        self
    }

    /// Purges `cache` too (`/admin/cache/invalidation`; without it, that
    /// route answers 404).
    pub fn with_response_cache(
        mut self,
        cache: Option<Arc<crate::response_cache::ResponseCache>>,
    ) -> Admin {
        self.response_cache = cache;
        self
    }

    /// The migrations the routes report on and change.
    pub fn migrations(&self) -> &Arc<Migrations> {
        &self.migrations
    }
}

/// Serves the admin routes (HTTP/1.1, keep-alive) on `listener` until
/// `shutdown` completes; then stops accepting and gives requests in flight
/// a few seconds.
pub async fn serve(listener: TcpListener, admin: Arc<Admin>, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .keep_alive(true)
        .max_buf_size(16 * 1024)
        .header_read_timeout(HEADER_READ_TIMEOUT);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("admin listener: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let admin = admin.clone();
        let service = service_fn(move |req| {
            let admin = admin.clone();
            async move { Ok::<_, Infallible>(handle(&admin, req).await) }
        });
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("admin connection error: {e}");
            }
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
}

/// An HTTP response.
pub type HttpResponse = http::Response<Full<Bytes>>;

/// What a route's handler gets.
struct Call {
    /// The path's parameter (`{Type.field}`), empty for exact paths.
    param: String,
    /// The `token` query parameter, if any.
    query_token: Option<String>,
    /// The query string (empty when none).
    query: String,
    /// The request body (at most [`MAX_BODY_BYTES`]).
    body: Bytes,
}

/// A route's handler.
type Handler =
    for<'a> fn(&'a Admin, Call) -> Pin<Box<dyn Future<Output = HttpResponse> + Send + 'a>>;

/// How a route accepts the token.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Auth {
    /// No token: the metrics, for scrapers that cannot send one (the admin
    /// listener must not be reachable from outside).
    Open,
    /// `Authorization: Bearer TOKEN` only.
    Bearer,
    /// That, or `?token=TOKEN` (pages a browser opens from a link).
    BearerOrQuery,
}

/// The paths a route answers.
enum RoutePath {
    /// Exactly this path.
    Exact(&'static str),
    /// This prefix and one non-empty segment after it (the parameter).
    Param(&'static str),
    /// The metrics path (`telemetry.exporters.metrics.prometheus.path`),
    /// when metrics are on.
    Metrics,
}

impl RoutePath {
    /// The parameter (empty for exact paths) when `path` is this route's.
    fn matches(&self, path: &str) -> Option<String> {
        match self {
            RoutePath::Exact(p) => (path == *p).then(String::new),
            RoutePath::Param(prefix) => path
                .strip_prefix(prefix)
                .filter(|rest| !rest.is_empty() && !rest.contains('/'))
                .map(str::to_owned),
            RoutePath::Metrics => None,
        }
    }

    /// [`RoutePath::matches`], with the paths `admin`'s settings give.
    fn matches_for(&self, path: &str, admin: &Admin) -> Option<String> {
        match self {
            RoutePath::Metrics => admin
                .metrics
                .as_ref()
                .filter(|m| m.path == path)
                .map(|_| String::new()),
            other => other.matches(path),
        }
    }
}

/// One row of the routing table.
struct Route {
    method: &'static str,
    path: RoutePath,
    auth: Auth,
    handler: Handler,
}

/// The admin routes. Add a row for a new page or API.
static ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: RoutePath::Exact("/admin/"),
        auth: Auth::BearerOrQuery,
        handler: index,
    },
    Route {
        method: "GET",
        path: RoutePath::Exact("/admin"),
        auth: Auth::BearerOrQuery,
        handler: index,
    },
    Route {
        method: "GET",
        path: RoutePath::Exact("/admin/migrations"),
        auth: Auth::Bearer,
        handler: migrations_json,
    },
    Route {
        method: "GET",
        path: RoutePath::Exact("/admin/migrations.html"),
        auth: Auth::BearerOrQuery,
        handler: migrations_html,
    },
    Route {
        method: "PUT",
        path: RoutePath::Param("/admin/migrations/"),
        auth: Auth::Bearer,
        handler: migration_set,
    },
    Route {
        method: "DELETE",
        path: RoutePath::Param("/admin/migrations/"),
        auth: Auth::Bearer,
        handler: migration_clear,
    },
    Route {
        method: "GET",
        path: RoutePath::Exact("/admin/usage"),
        auth: Auth::Bearer,
        handler: usage::json,
    },
    Route {
        method: "GET",
        path: RoutePath::Exact("/admin/usage.html"),
        auth: Auth::BearerOrQuery,
        handler: usage::html,
    },
    Route {
        method: "POST",
        path: RoutePath::Exact("/admin/cache/invalidation"),
        auth: Auth::Bearer,
        handler: cache::invalidation,
    },
    Route {
        method: "GET",
        path: RoutePath::Metrics,
        auth: Auth::Open,
        handler: metrics,
    },
];

/// Routes one request: path, method, token, body, then the handler.
async fn handle(admin: &Admin, req: http::Request<Incoming>) -> HttpResponse {
    let path = req.uri().path();
    let at_path: Vec<(&Route, String)> = ROUTES
        .iter()
        .filter_map(|r| r.path.matches_for(path, admin).map(|param| (r, param)))
        .collect();
    if at_path.is_empty() {
        return error(StatusCode::NOT_FOUND, "not found", "NOT_FOUND");
    }
    let Some((route, param)) = at_path
        .iter()
        .find(|(r, _)| r.method == req.method().as_str())
    else {
        let mut allow: Vec<&str> = at_path.iter().map(|(r, _)| r.method).collect();
        allow.dedup();
        let mut response = error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
            "METHOD_NOT_ALLOWED",
        );
        if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
            response.headers_mut().insert(ALLOW, v);
        }
        return response;
    };
    let query = req.uri().query().unwrap_or("").to_owned();
    let query_token = req.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
    });
    if let Err(response) = check_token(admin, route.auth, req.headers(), &query_token) {
        return response;
    }
    let body = match Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("the body is over {MAX_BODY_BYTES} bytes"),
                "PAYLOAD_TOO_LARGE",
            );
        }
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("cannot read the body: {e}"),
                "BAD_REQUEST",
            )
        }
    };
    let call = Call {
        param: param.clone(),
        query_token,
        query,
        body,
    };
    (route.handler)(admin, call).await
}

/// Checks the token a request presents, as `auth` says it may come; the
/// 401 when it is missing or wrong. [`Auth::Open`] routes need none.
#[allow(clippy::result_large_err)]
fn check_token(
    admin: &Admin,
    auth: Auth,
    headers: &HeaderMap,
    query_token: &Option<String>,
) -> Result<(), HttpResponse> {
    let how = match auth {
        Auth::Open => return Ok(()),
        Auth::Bearer => "send `Authorization: Bearer TOKEN`",
        Auth::BearerOrQuery => "send `Authorization: Bearer TOKEN` or add `?token=TOKEN`",
    };
    let presented = bearer(headers).or(match auth {
        Auth::BearerOrQuery => query_token.clone(),
        Auth::Bearer | Auth::Open => None,
    });
    match presented {
        None => Err(unauthorized(&format!("missing admin token: {how}"))),
        Some(t) if !same(t.as_bytes(), admin.token.as_bytes()) => {
            Err(unauthorized("invalid admin token"))
        }
        Some(_) => Ok(()),
    }
}

/// `GET {telemetry.exporters.metrics.prometheus.path}`: the metrics in
/// the Prometheus text format (no token: see [`Auth::Open`]).
fn metrics(admin: &Admin, _: Call) -> Pin<Box<dyn Future<Output = HttpResponse> + Send + '_>> {
    Box::pin(async move {
        let Some(text) = admin.metrics.as_ref().and_then(|m| m.telemetry.render()) else {
            return error(StatusCode::NOT_FOUND, "not found", "NOT_FOUND");
        };
        let mut response = http::Response::new(Full::new(Bytes::from(text)));
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static(prometheus_client::encoding::prometheus_text::CONTENT_TYPE),
        );
        no_store(&mut response);
        response
    })
}

/// `GET /admin/`: to the migrations page, keeping the query's token.
fn index(_: &Admin, call: Call) -> Pin<Box<dyn Future<Output = HttpResponse> + Send + '_>> {
    Box::pin(async move {
        let mut location = "/admin/migrations.html".to_owned();
        if let Some(token) = &call.query_token {
            location.push('?');
            location.push_str(
                &url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("token", token)
                    .finish(),
            );
        }
        let mut response = http::Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::FOUND;
        if let Ok(v) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(LOCATION, v);
        }
        no_store(&mut response);
        response
    })
}

/// `GET /admin/migrations`: the report as JSON.
fn migrations_json(
    admin: &Admin,
    _: Call,
) -> Pin<Box<dyn Future<Output = HttpResponse> + Send + '_>> {
    Box::pin(async move {
        match report(admin).await {
            Ok(report) => json_response(StatusCode::OK, &report),
            Err(response) => response,
        }
    })
}

/// `GET /admin/migrations.html`: the report as a page.
fn migrations_html(
    admin: &Admin,
    _: Call,
) -> Pin<Box<dyn Future<Output = HttpResponse> + Send + '_>> {
    Box::pin(async move {
        let report = match report(admin).await {
            Ok(report) => report,
            Err(response) => return response,
        };
        html_page(page::render(
            &report,
            &crate::migrations::record::now_rfc3339(),
        ))
    })
}

/// An operator page: `html` with headers that let nothing but its inline
/// style load or run, whatever a value in it holds, that keep the URL
/// (which may hold the token) out of referrers, and that forbid caching.
pub(super) fn html_page(html: String) -> HttpResponse {
    let mut response = http::Response::new(Full::new(Bytes::from(html)));
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    no_store(&mut response);
    response
}

/// The body of `PUT /admin/migrations/{Type.field}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetBody {
    state: String,
    #[serde(default)]
    percent: Option<f64>,
    #[serde(default)]
    reason: Option<String>,
}

/// `PUT /admin/migrations/{Type.field}`: sets the field's state.
fn migration_set(
    admin: &Admin,
    call: Call,
) -> Pin<Box<dyn Future<Output = HttpResponse> + Send + '_>> {
    Box::pin(async move {
        let field = call.param;
        let body: SetBody = match serde_json::from_slice(&call.body) {
            Ok(body) => body,
            Err(e) => {
                return bad_request(&format!(
                    "invalid body ({e}): expected a JSON object such as \
                     {{\"state\": \"canary\", \"percent\": 5, \"reason\": \"why\"}}"
                ))
            }
        };
        let state: MigrationState = match body.state.parse() {
            Ok(state) => state,
            Err(e) => return bad_request(&e),
        };
        match (state, body.percent) {
            (MigrationState::Canary, None) => {
                return bad_request("canary needs a percent (0 to 100)");
            }
            (MigrationState::Canary, Some(p)) if !(0.0..=100.0).contains(&p) => {
                return bad_request(&format!("percent {p} is not a share between 0 and 100"));
            }
            (MigrationState::Canary, Some(_)) | (_, None) => {}
            (other, Some(_)) => {
                return bad_request(&format!("a percent only goes with canary, not {other}"));
            }
        }
        if let Some(response) = unknown_field(admin, &field) {
            return response;
        }
        let reason = body
            .reason
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| "admin".to_owned());
        if let Err(e) = admin
            .migrations
            .set(&field, state, body.percent, "admin", &reason)
            .await
        {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("cannot set {field}: {e}"),
                "INTERNAL_SERVER_ERROR",
            );
        }
        field_entry(admin, &field).await
    })
}

/// `DELETE /admin/migrations/{Type.field}`: drops the field's run-time
/// state.
fn migration_clear(
    admin: &Admin,
    call: Call,
) -> Pin<Box<dyn Future<Output = HttpResponse> + Send + '_>> {
    Box::pin(async move {
        let field = call.param;
        if let Some(response) = unknown_field(admin, &field) {
            return response;
        }
        if let Err(e) = admin.migrations.clear(&field).await {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("cannot clear {field}: {e}"),
                "INTERNAL_SERVER_ERROR",
            );
        }
        field_entry(admin, &field).await
    })
}

/// The 404 for `field` unless it is a migrating field.
fn unknown_field(admin: &Admin, field: &str) -> Option<HttpResponse> {
    let table = admin.migrations.table();
    if table.fields.iter().any(|a| a.coordinate == field) {
        return None;
    }
    let known: Vec<&str> = table.fields.iter().map(|a| a.coordinate.as_str()).collect();
    let known = if known.is_empty() {
        "there are none".to_owned()
    } else {
        format!("they are {}", known.join(", "))
    };
    Some(error(
        StatusCode::NOT_FOUND,
        &format!("{field} is not a migrating field ({known})"),
        "NOT_FOUND",
    ))
}

/// 200 with `field`'s report entry.
async fn field_entry(admin: &Admin, field: &str) -> HttpResponse {
    match report(admin).await {
        Ok(report) => match report.fields.iter().find(|f| f.field == field) {
            Some(entry) => json_response(StatusCode::OK, entry),
            None => error(
                StatusCode::NOT_FOUND,
                &format!("{field} is not a migrating field"),
                "NOT_FOUND",
            ),
        },
        Err(response) => response,
    }
}

/// The report, or the 500 saying why there is none.
async fn report(admin: &Admin) -> Result<Report, HttpResponse> {
    admin.migrations.report().await.map_err(|e| {
        tracing::error!("admin: cannot read the migration report: {e}");
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("cannot read the migration report: {e}"),
            "INTERNAL_SERVER_ERROR",
        )
    })
}

/// The token of `Authorization: Bearer TOKEN`, if present.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// Whether `a` and `b` are equal, in a time that depends on their lengths
/// only.
fn same(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

/// A 200-style JSON response.
fn json_response<T: serde::Serialize>(status: StatusCode, body: &T) -> HttpResponse {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = http::Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    no_store(&mut response);
    response
}

/// A GraphQL-style error: `{"errors":[{"message", "extensions":{"code"}}]}`.
fn error(status: StatusCode, message: &str, code: &str) -> HttpResponse {
    json_response(
        status,
        &json!({"errors": [{"message": message, "extensions": {"code": code}}]}),
    )
}

/// A 400 with code `BAD_REQUEST`.
fn bad_request(message: &str) -> HttpResponse {
    error(StatusCode::BAD_REQUEST, message, "BAD_REQUEST")
}

/// A 401 asking for a bearer token.
fn unauthorized(message: &str) -> HttpResponse {
    let mut response = error(StatusCode::UNAUTHORIZED, message, "UNAUTHENTICATED");
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Marks a response as not to be cached.
fn no_store(response: &mut HttpResponse) {
    response
        .headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-store"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_by_value() {
        assert!(same(b"secret", b"secret"));
        assert!(!same(b"secret", b"secreT"));
        assert!(!same(b"secret", b"secret2"));
        assert!(!same(b"", b"x"));
        assert!(same(b"", b""));
    }

    #[test]
    fn bearer_tokens_are_read_from_the_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
        assert_eq!(bearer(&headers).as_deref(), Some("abc"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("bearer  abc "));
        assert_eq!(bearer(&headers).as_deref(), Some("abc"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
    }

    #[test]
    fn paths_match_exactly_or_with_one_parameter() {
        assert_eq!(
            RoutePath::Exact("/admin/migrations").matches("/admin/migrations"),
            Some(String::new())
        );
        assert_eq!(
            RoutePath::Exact("/admin/migrations").matches("/admin/migrations/"),
            None
        );
        let p = RoutePath::Param("/admin/migrations/");
        assert_eq!(
            p.matches("/admin/migrations/User.score").as_deref(),
            Some("User.score")
        );
        assert_eq!(p.matches("/admin/migrations/"), None);
        assert_eq!(p.matches("/admin/migrations/a/b"), None);
    }

    #[test]
    fn config_needs_a_token_with_a_listener() {
        let none = AdminConfig::default();
        assert!(none.validate("127.0.0.1:4000").is_ok());
        let no_token = AdminConfig {
            listen: Some("127.0.0.1:9090".into()),
            token: None,
        };
        assert_eq!(
            no_token.validate("127.0.0.1:4000").unwrap_err().0,
            "admin.token"
        );
        let ok = AdminConfig {
            listen: Some("127.0.0.1:9090".into()),
            token: Some("s3cret".into()),
        };
        assert!(ok.validate("127.0.0.1:4000").is_ok());
        assert_eq!(ok.validate("127.0.0.1:9090").unwrap_err().0, "admin.listen");
        assert!(!format!("{ok:?}").contains("s3cret"));
        let bad = AdminConfig {
            listen: Some("localhost".into()),
            token: Some("x".into()),
        };
        assert_eq!(
            bad.validate("127.0.0.1:4000").unwrap_err().0,
            "admin.listen"
        );
        let spaced = AdminConfig {
            token: Some("a b".into()),
            ..ok
        };
        assert_eq!(
            spaced.validate("127.0.0.1:4000").unwrap_err().0,
            "admin.token"
        );
    }
}
