//! The REST gateway (`rest:`): REST routes backed by GraphQL operations.
//! It is a front door onto the same pipeline: a route's request becomes a
//! GraphQL request (its operation, variables read from the path, query
//! string, body or headers) that runs through every stage (limits, cache,
//! telemetry), and its answer becomes a REST answer.
//!
//! - [`config`]: the routes in `goliath.yaml`; [`files`]: routes from a
//!   folder of `.graphql` files with a header comment;
//! - [`route`]: each route compiled at start-up against the API schema
//!   (a route that does not compile stops start-up, naming it);
//! - [`extract`]: a request's variables; [`answer`]: the status and body
//!   (RFC 9457 problems for errors);
//! - [`openapi`]: the OpenAPI 3.1 document of the routes, served at
//!   `rest.openapi.path`;
//! - [`serve`]: the HTTP side.

pub mod answer;
pub mod config;
pub mod extract;
pub mod files;
pub mod openapi;
pub mod route;
pub mod serve;

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use goliath_supergraph::Supergraph;

pub use config::RestConfig;
use route::Route;

/// The compiled routes of one pipeline.
pub struct Rest {
    supergraph: Arc<Supergraph>,
    routes: Vec<Route>,
    /// `extensions.code` → status.
    codes: BTreeMap<String, u16>,
    /// Where the OpenAPI document is served, and the document.
    openapi_path: String,
    openapi: Bytes,
}

/// What a request's method and path are, for the gateway.
pub enum Found<'r> {
    /// A route, with the path parameters' values.
    Route(&'r Route, Vec<(&'r str, &'r str)>),
    /// The OpenAPI document.
    OpenApi,
    /// A route's path with another method: the methods it takes.
    OtherMethod(Vec<&'r str>),
}

impl Rest {
    /// The routes `config` describes, compiled against `supergraph`'s API
    /// schema;
    /// `persisted` gives the text of routes naming a persisted query's id.
    /// `None` when there are none; an error names the route.
    pub fn new(
        config: &RestConfig,
        supergraph: Arc<Supergraph>,
        persisted: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Rest>, String> {
        if !config.is_enabled() {
            return Ok(None);
        }
        let schema = &supergraph.api_schema;
        let mut configs: Vec<(config::RouteConfig, String)> = Vec::new();
        for r in &config.routes {
            let text = match (&r.operation, &r.file, &r.persisted_id) {
                (Some(text), None, None) => text.clone(),
                (None, Some(path), None) => std::fs::read_to_string(path).map_err(|e| {
                    format!("rest route `{} {}`: {}: {e}", r.method, r.path, path.display())
                })?,
                (None, None, Some(id)) => persisted(id).ok_or_else(|| {
                    format!(
                        "rest route `{} {}`: no persisted query `{id}` in the manifests",
                        r.method, r.path
                    )
                })?,
                _ => {
                    return Err(format!(
                        "rest route `{} {}`: give exactly one of `operation`, `file` and `persisted_id`",
                        r.method, r.path
                    ))
                }
            };
            configs.push((r.clone(), text));
        }
        if let Some(dir) = &config.dir {
            configs.extend(files::read_dir(dir)?);
        }
        let mut routes: Vec<Route> = Vec::with_capacity(configs.len());
        for (config, text) in &configs {
            let route = route::compile(schema, config, text)?;
            let clash = routes
                .iter()
                .find(|r| r.method == route.method && r.openapi_path() == route.openapi_path());
            if let Some(other) = clash {
                return Err(format!(
                    "rest route `{}`: the same method and path as `{}`",
                    route.label, other.label
                ));
            }
            routes.push(route);
        }
        let codes = answer::status_codes(&config.status_codes);
        let mut statuses: Vec<u16> = codes.values().copied().collect();
        statuses.sort_unstable();
        statuses.dedup();
        let document = openapi::document(schema, &routes, &config.openapi, &statuses);
        Ok(Some(Rest {
            supergraph,
            routes,
            codes,
            openapi_path: config.openapi.path.clone(),
            openapi: Bytes::from(serde_json::to_vec_pretty(&document).unwrap_or_default()),
        }))
    }

    /// What `method` and `path` are for the gateway; `None`: not its.
    pub fn find<'r>(&'r self, method: &http::Method, path: &'r str) -> Option<Found<'r>> {
        if path == self.openapi_path {
            return Some(match *method {
                http::Method::GET | http::Method::HEAD => Found::OpenApi,
                _ => Found::OtherMethod(vec!["GET"]),
            });
        }
        let mut methods = Vec::new();
        for route in &self.routes {
            if let Some(params) = route.matches(path) {
                // HEAD runs the GET route (hyper sends no body).
                let head_of_get =
                    *method == http::Method::HEAD && route.method == http::Method::GET;
                if route.method == *method || head_of_get {
                    return Some(Found::Route(route, params));
                }
                methods.push(route.method.as_str());
            }
        }
        (!methods.is_empty()).then_some(Found::OtherMethod(methods))
    }

    /// The supergraph the routes run on.
    pub fn supergraph(&self) -> &Supergraph {
        &self.supergraph
    }

    /// The routes.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The OpenAPI document's JSON.
    pub fn openapi(&self) -> &Bytes {
        &self.openapi
    }

    /// `extensions.code` → status.
    pub fn codes(&self) -> &BTreeMap<String, u16> {
        &self.codes
    }
}
