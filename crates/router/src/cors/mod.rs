//! CORS (`cors:`), with Apollo Router's configuration and the behaviour of
//! the tower-http `CorsLayer` it builds.
//!
//! On the GraphQL path:
//!
//! - An `OPTIONS` request is a preflight and is answered here, 200 with an
//!   empty body, before CSRF prevention and the method check. When its
//!   `Origin` is allowed the answer carries `Access-Control-Allow-Origin`,
//!   `-Allow-Credentials` (if configured), `-Allow-Methods`,
//!   `-Allow-Headers` (the configured list, or the preflight's
//!   `Access-Control-Request-Headers` mirrored when the list is empty) and
//!   `-Max-Age` (if configured); otherwise it carries none of them and the
//!   browser refuses to send the request.
//! - Every other answer (errors included) gets, for an allowed `Origin`,
//!   `Access-Control-Allow-Origin` (the origin itself, or `*` with
//!   `allow_any_origin`, sent whatever the `Origin`), `-Allow-Credentials`
//!   and `-Expose-Headers` as configured; a refused origin gets none, so
//!   the browser hides the answer from the page.
//! - `Vary: origin` (and, on preflights, the two request headers) tells
//!   caches that the answer depends on them.
//!
//! The configuration is checked when it is loaded ([`CorsConfig::validate`]):
//! Apollo Router's refusals (credentials with `allow_any_origin` or a `*`,
//! `*` in `origins`), regular expressions that do not compile, and header
//! names, methods and origins that are not well formed.

mod config;

use std::future::Future;

use bytes::Bytes;
use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_HEADERS, ORIGIN, VARY,
};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use regex::Regex;

pub use config::CorsConfig;

/// What a preflight's answer varies with.
const PREFLIGHT_VARY: &str =
    "origin, access-control-request-method, access-control-request-headers";

/// A compiled `cors:` section, ready to answer requests.
#[derive(Debug, Clone)]
pub struct Cors {
    any_origin: bool,
    origins: Vec<String>,
    match_origins: Vec<Regex>,
    credentials: bool,
    /// `None`: mirror `Access-Control-Request-Headers`.
    allow_headers: Option<HeaderValue>,
    expose_headers: Option<HeaderValue>,
    methods: HeaderValue,
    max_age: Option<HeaderValue>,
}

impl Cors {
    /// Compiles `config`; `Err((key, message))` names the first key that
    /// is not acceptable (e.g. `cors.match_origins[1]`).
    pub fn new(config: &CorsConfig) -> Result<Cors, (String, String)> {
        config.check_combinations()?;
        for (i, origin) in config.origins.iter().enumerate() {
            check_origin(origin).map_err(|message| (format!("cors.origins[{i}]"), message))?;
        }
        let match_origins = config
            .match_origins
            .iter()
            .enumerate()
            .map(|(i, pattern)| {
                Regex::new(pattern).map_err(|e| {
                    (
                        format!("cors.match_origins[{i}]"),
                        format!("`{pattern}` is not a valid regular expression: {e}"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let allow_headers = header_names("allow_headers", &config.allow_headers)?;
        let expose_headers = header_names("expose_headers", &config.expose_headers)?;
        for (i, method) in config.methods.iter().enumerate() {
            if Method::from_bytes(method.as_bytes()).is_err() {
                return Err((
                    format!("cors.methods[{i}]"),
                    format!("`{method}` is not an HTTP method"),
                ));
            }
        }
        Ok(Cors {
            any_origin: config.allow_any_origin,
            origins: config.origins.clone(),
            match_origins,
            credentials: config.allow_credentials,
            allow_headers,
            expose_headers,
            methods: joined(&config.methods).unwrap_or(HeaderValue::from_static("")),
            max_age: config.max_age.map(|age| HeaderValue::from(age.as_secs())),
        })
    }

    /// A `Cors` that allows no origin: what a server gets from a
    /// configuration that was never validated and does not compile.
    pub fn deny_all() -> Cors {
        Cors {
            any_origin: false,
            origins: Vec::new(),
            match_origins: Vec::new(),
            credentials: false,
            allow_headers: None,
            expose_headers: None,
            methods: HeaderValue::from_static(""),
            max_age: None,
        }
    }

    /// Serves `req` with CORS: answers a preflight (`OPTIONS`) itself;
    /// otherwise runs `next` and adds the CORS headers to its answer.
    pub async fn wrap<B, F, Fut>(&self, req: Request<B>, next: F) -> Response<Full<Bytes>>
    where
        F: FnOnce(Request<B>) -> Fut,
        Fut: Future<Output = Response<Full<Bytes>>>,
    {
        if req.method() == Method::OPTIONS {
            return self.preflight(req.headers());
        }
        let origin = req.headers().get(ORIGIN).cloned();
        let mut response = next(req).await;
        self.decorate(origin.as_ref(), response.headers_mut());
        response
    }

    /// The answer to a preflight with these request headers: 200, no body.
    pub fn preflight(&self, request: &HeaderMap) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::OK;
        let headers = response.headers_mut();
        headers.insert(VARY, HeaderValue::from_static(PREFLIGHT_VARY));
        let Some(allow_origin) = self.allow_origin(request.get(ORIGIN)) else {
            return response;
        };
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
        if self.credentials {
            headers.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if !self.methods.is_empty() {
            headers.insert(ACCESS_CONTROL_ALLOW_METHODS, self.methods.clone());
        }
        let allow_headers = match &self.allow_headers {
            Some(list) => Some(list.clone()),
            None => request.get(ACCESS_CONTROL_REQUEST_HEADERS).cloned(),
        };
        if let Some(allow_headers) = allow_headers {
            headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, allow_headers);
        }
        if let Some(max_age) = &self.max_age {
            headers.insert(ACCESS_CONTROL_MAX_AGE, max_age.clone());
        }
        response
    }

    /// Adds to `headers`, the answer to a request that came with `origin`,
    /// the CORS headers an actual (not preflight) request gets.
    pub fn decorate(&self, origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
        if !self.any_origin {
            headers.append(VARY, HeaderValue::from_static("origin"));
        }
        let Some(allow_origin) = self.allow_origin(origin) else {
            return;
        };
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
        if self.credentials {
            headers.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if let Some(expose) = &self.expose_headers {
            headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, expose.clone());
        }
    }

    /// The `Access-Control-Allow-Origin` value for a request from
    /// `origin`, or `None` when that origin is not allowed.
    fn allow_origin(&self, origin: Option<&HeaderValue>) -> Option<HeaderValue> {
        if self.any_origin {
            return Some(HeaderValue::from_static("*"));
        }
        let origin = origin?;
        let text = origin.to_str().ok()?;
        let allowed = self.origins.iter().any(|o| o == text)
            || self.match_origins.iter().any(|r| r.is_match(text));
        allowed.then(|| origin.clone())
    }
}

/// Checks that `origin` can match a browser's `Origin`: a header value,
/// with no path after the host.
fn check_origin(origin: &str) -> Result<(), String> {
    if HeaderValue::from_str(origin).is_err() || origin.is_empty() {
        return Err(format!("`{origin}` is not an origin"));
    }
    if let Some((scheme, rest)) = origin.split_once("://") {
        if rest.contains('/') {
            let host = rest.split('/').next().unwrap_or_default();
            return Err(format!(
                "`{origin}` is not an origin: an origin has no path (write `{scheme}://{host}`)"
            ));
        }
    }
    Ok(())
}

/// Checks `names` (the list under `cors.{key}`) are header names; the
/// list as one header value, `None` when empty.
fn header_names(key: &str, names: &[String]) -> Result<Option<HeaderValue>, (String, String)> {
    for (i, name) in names.iter().enumerate() {
        if HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err((
                format!("cors.{key}[{i}]"),
                format!("`{name}` is not an HTTP header name"),
            ));
        }
    }
    Ok(joined(names))
}

/// `items` joined with `, ` as a header value; `None` when empty (the
/// items are tokens, checked before).
fn joined(items: &[String]) -> Option<HeaderValue> {
    if items.is_empty() {
        return None;
    }
    HeaderValue::from_str(&items.join(", ")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors(yaml: &str) -> Result<Cors, (String, String)> {
        let config: CorsConfig = crate::config::yaml::from_str(yaml).unwrap();
        Cors::new(&config)
    }

    fn origin(value: &'static str) -> Option<HeaderValue> {
        Some(HeaderValue::from_static(value))
    }

    #[test]
    fn origins_lists_and_patterns() {
        let cors =
            cors("origins: [https://a.example]\nmatch_origins: ['^https://[a-z]+\\.b\\.example$']")
                .unwrap();
        let allowed = |o| cors.allow_origin(origin(o).as_ref());
        assert_eq!(allowed("https://a.example"), origin("https://a.example"));
        assert_eq!(
            allowed("https://x.b.example"),
            origin("https://x.b.example")
        );
        assert_eq!(allowed("https://a.example.evil"), None);
        assert_eq!(allowed("https://x.b.example.evil"), None);
        assert_eq!(cors.allow_origin(None), None);
        let any = self::cors("allow_any_origin: true").unwrap();
        assert_eq!(any.allow_origin(None), origin("*"));
    }

    #[test]
    fn refused_configurations_name_their_key() {
        let key = |yaml| cors(yaml).unwrap_err().0;
        assert_eq!(
            key("allow_any_origin: true\nallow_credentials: true"),
            "cors.allow_any_origin"
        );
        assert_eq!(key("origins: ['*']"), "cors.origins");
        assert_eq!(key("origins: ['https://a.example/']"), "cors.origins[0]");
        assert_eq!(key("match_origins: ['ok', '(']"), "cors.match_origins[1]");
        assert_eq!(key("allow_headers: ['a b']"), "cors.allow_headers[0]");
        assert_eq!(key("expose_headers: ['x', '']"), "cors.expose_headers[1]");
        assert_eq!(key("methods: ['GET', 'P O']"), "cors.methods[1]");
        assert_eq!(
            key("allow_credentials: true\nallow_headers: ['*']"),
            "cors.allow_headers"
        );
    }
}
