//! GraphiQL (`graphiql:`): a browser that opens the GraphQL path gets an
//! IDE to write and run queries, served by the router itself so that it
//! works offline.
//!
//! A `GET` on the GraphQL path whose `Accept` lists `text/html` (as a
//! browser's navigation does) is answered with `index.html`; its scripts
//! and style sheet, GraphiQL 3 and React 18 as published on npm
//! (`assets/README.md`), are built into the binary and served under
//! `{graphql_path}/graphiql/`, which the page names relatively (so it
//! also works behind a proxy that adds a path prefix). The page loads
//! nothing else: its `Content-Security-Policy` allows only its own origin.
//! GraphiQL posts to the page's own path with `Content-Type:
//! application/json`, which CSRF prevention lets through.
//!
//! On when `graphiql: true`, off when `graphiql: false`; unset, it follows
//! `introspection` (GraphiQL needs the schema to help). When off, such
//! requests are answered as before (406 for an `Accept` with no JSON type).

use std::hash::{DefaultHasher, Hasher};
use std::sync::OnceLock;

use bytes::Bytes;
use http::header::{
    ACCEPT, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, VARY, X_CONTENT_TYPE_OPTIONS,
};
use http::{HeaderMap, HeaderValue, Method, Request, Response};
use http_body_util::Full;

use crate::Config;

/// One file served under `{graphql_path}/graphiql/`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

/// Every file the page loads.
const ASSETS: [Asset; 5] = [
    Asset {
        name: "graphiql.min.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("assets/graphiql.min.css"),
    },
    Asset {
        name: "react.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/react.production.min.js"),
    },
    Asset {
        name: "react-dom.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/react-dom.production.min.js"),
    },
    Asset {
        name: "graphiql.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/graphiql.min.js"),
    },
    Asset {
        name: "init.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("init.js"),
    },
];

/// The page, with `{{ASSETS}}` (the assets' folder, relative) and
/// `{{VERSION}}` (a digest of the assets, so that a cached copy of an old
/// one is never used) to fill in.
const PAGE: &str = include_str!("index.html");

/// What the page may load: its own origin's files, and the `data:` URLs
/// of GraphiQL's fonts and icons.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; \
    connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The GraphiQL page and its assets, for one GraphQL path.
#[derive(Debug, Clone)]
pub struct Graphiql {
    page_path: String,
    /// `{graphql_path}/graphiql/`, where the assets are.
    asset_prefix: String,
    page: Bytes,
}

impl Graphiql {
    /// Whether `config` turns GraphiQL on: `graphiql`, else `introspection`.
    pub fn enabled(config: &Config) -> bool {
        config.graphiql.unwrap_or(config.introspection)
    }

    /// GraphiQL on `config.graphql_path`, or `None` when it is off.
    pub fn new(config: &Config) -> Option<Graphiql> {
        if !Graphiql::enabled(config) {
            return None;
        }
        let path = &config.graphql_path;
        // The page is at `.../{last}`: relative to it, its assets are in
        // `./{last}/graphiql/` (`./graphiql/` when the path ends with `/`).
        let last = path.rsplit('/').next().unwrap_or_default();
        let relative = if last.is_empty() {
            "./graphiql/".to_string()
        } else {
            format!("./{}/graphiql/", crate::admin::page::escape(last))
        };
        let page = PAGE
            .replace("{{ASSETS}}", &relative)
            .replace("{{VERSION}}", version());
        Some(Graphiql {
            page_path: path.clone(),
            asset_prefix: format!("{}/graphiql/", path.trim_end_matches('/')),
            page: Bytes::from(page),
        })
    }

    /// The page or an asset when `req` asks for one, else `None` (the
    /// request is for someone else).
    pub fn serve<B>(&self, req: &Request<B>) -> Option<Response<Full<Bytes>>> {
        if req.method() != Method::GET {
            return None;
        }
        let path = req.uri().path();
        if path == self.page_path {
            if !accepts_html(req.headers()) {
                return None;
            }
            let mut response = respond(self.page.clone(), "text/html; charset=utf-8", "no-cache");
            let headers = response.headers_mut();
            headers.insert(VARY, HeaderValue::from_static("accept"));
            headers.insert(
                CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PAGE_POLICY),
            );
            return Some(response);
        }
        let name = path.strip_prefix(&self.asset_prefix)?;
        let asset = ASSETS.iter().find(|asset| asset.name == name)?;
        Some(respond(
            Bytes::from_static(asset.bytes),
            asset.content_type,
            // The page names each asset with the digest of them all.
            "public, max-age=31536000, immutable",
        ))
    }
}

/// True when `Accept` lists `text/html` (with a `q` above 0), as a
/// browser's navigation does (`text/html,application/xhtml+xml,...`).
pub fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|entry| {
            let mut parts = entry.split(';');
            let range = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|param| {
                param.split_once('=').is_some_and(|(key, value)| {
                    key.trim().eq_ignore_ascii_case("q")
                        && value.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)
                })
            });
            range.eq_ignore_ascii_case("text/html") && !refused
        })
}

/// A 200 with `body` and these `Content-Type` and `Cache-Control`.
fn respond(body: Bytes, content_type: &'static str, cache: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// A digest of the assets (hex), computed once.
fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hasher = DefaultHasher::new();
        for asset in &ASSETS {
            hasher.write(asset.name.as_bytes());
            hasher.write(asset.bytes);
        }
        format!("{:016x}", hasher.finish())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn html_is_what_browsers_ask_for() {
        assert!(accepts_html(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(accepts_html(&accept("Text/HTML; q=0.5")));
        assert!(!accepts_html(&accept("text/html;q=0")));
        assert!(!accepts_html(&accept("application/json, */*")));
        assert!(!accepts_html(&HeaderMap::new()));
    }

    #[test]
    fn assets_are_named_relative_to_the_page() {
        let page = |path: &str| {
            let config = Config {
                graphql_path: path.to_string(),
                ..Config::default()
            };
            let graphiql = Graphiql::new(&config).unwrap();
            let html = String::from_utf8(graphiql.page.to_vec()).unwrap();
            (graphiql.asset_prefix, html)
        };
        let (prefix, html) = page("/graphql");
        assert_eq!(prefix, "/graphql/graphiql/");
        assert!(html.contains("src=\"./graphql/graphiql/graphiql.min.js?v="));
        let (prefix, html) = page("/");
        assert_eq!(prefix, "/graphiql/");
        assert!(html.contains("src=\"./graphiql/init.js?v="));
        let (prefix, html) = page("/api/gql/");
        assert_eq!(prefix, "/api/gql/graphiql/");
        assert!(html.contains("href=\"./graphiql/graphiql.min.css?v="));
        let (_, html) = page("/a\"b");
        assert!(html.contains("./a&quot;b/graphiql/"));
        assert!(!html.contains("{{"));
    }

    #[test]
    fn on_and_off() {
        let config = |introspection, graphiql| Config {
            introspection,
            graphiql,
            ..Config::default()
        };
        assert!(Graphiql::enabled(&config(true, None)));
        assert!(!Graphiql::enabled(&config(false, None)));
        assert!(Graphiql::enabled(&config(false, Some(true))));
        assert!(!Graphiql::enabled(&config(true, Some(false))));
    }
}
