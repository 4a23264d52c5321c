//! Persisted queries, in Apollo Router's shapes: the pipeline's
//! `persisted/safelist` stage, between decoding and parsing, which turns a
//! request into the operation text to run, or refuses it.
//!
//! - **APQ** (`apq:`, `apq.rs`): `extensions.persistedQuery {version: 1,
//!   sha256Hash}` with no `query` runs the text registered under the hash
//!   (`PERSISTED_QUERY_NOT_FOUND` when there is none, which makes Apollo
//!   clients send it again with the text); with a `query` whose SHA-256 is
//!   the hash, registers it (`PERSISTED_QUERY_HASH_MISMATCH` otherwise).
//! - **Manifests** (`persisted_queries:`, `manifest.rs`, `reload.rs`): the
//!   hash field carries an operation id from the manifests instead; its
//!   body runs. An id they do not have goes on to APQ when APQ is on, else
//!   is `PERSISTED_QUERY_NOT_IN_LIST`.
//! - **Safelist** (`safelist.rs`, `normalize.rs`): what happens to
//!   operations sent as text: run, logged when not in the manifests
//!   (`log_unknown`), refused when not in them (`safelist.enabled`,
//!   compared in a normal form without white space, commas and comments)
//!   or refused outright (`safelist.require_id`).
//!
//! Each error carries its HTTP status and `Cache-Control` (`errors.rs`,
//! `pipeline::Outcome::Rejected`). The router's own runs (a migration's
//! comparisons) skip the stage.

mod apq;
mod config;
mod errors;
mod manifest;
mod normalize;
mod reload;
mod safelist;

use std::ops::Deref;
use std::sync::Arc;

use serde_json::Value;

use crate::config::Config;
use crate::pipeline::{Request, Response};
pub use apq::sha256_hex;
use apq::Apq;
pub use config::{
    ApqCache, ApqConfig, ApqRedis, ApqRouter, InMemory, PersistedQueriesConfig, SafelistConfig,
};
use errors::Error;
use manifest::Manifest;
use reload::Manifests;
use safelist::Freeform;

/// The operation text a request runs.
#[derive(Debug, Clone)]
pub enum Query<'r> {
    /// The request's own `query`.
    Sent(&'r str),
    /// A persisted query's text: a manifest's body or an APQ
    /// registration.
    Stored(Arc<str>),
}

impl Deref for Query<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Query::Sent(text) => text,
            Query::Stored(text) => text,
        }
    }
}

/// The `persisted/safelist` stage for one pipeline.
pub struct Persisted {
    /// APQ registrations; `None` when `apq.enabled` is false.
    apq: Option<Apq>,
    /// The manifests; `None` when `persisted_queries.enabled` is false.
    manifests: Option<Arc<Manifests>>,
    /// What happens to operations sent as text.
    freeform: Freeform,
    /// With introspection on (exempt from the safelist), the parser's
    /// token limit.
    introspection: Option<usize>,
}

impl Persisted {
    /// The stage `config` describes; reads the manifests (an error names
    /// the file and entry).
    pub fn new(config: &Config) -> Result<Persisted, String> {
        let pq = &config.persisted_queries;
        let manifests = match pq.enabled {
            true => Some(Manifests::load(&pq.local_manifests, pq.hot_reload)?),
            false => None,
        };
        Ok(Persisted {
            apq: Apq::new(&config.apq),
            manifests,
            freeform: Freeform::new(pq),
            introspection: config
                .introspection
                .then_some(config.limits.parser_max_tokens),
        })
    }

    /// The body of the persisted query `id` in the manifests (for REST
    /// routes naming one).
    pub fn manifest_body(&self, id: &str) -> Option<String> {
        let manifests = self.manifests.as_ref()?;
        let body = manifests.current().body(id).map(|b| b.to_string());
        body
    }

    /// The text `req` runs, or the answer that refuses it. `from_client`
    /// is false for the router's own runs, which send their text and are
    /// not checked.
    #[allow(clippy::result_large_err)]
    pub async fn query<'r>(
        &self,
        req: &'r Request,
        from_client: bool,
    ) -> Result<Query<'r>, Response> {
        let sent = req.query.as_deref();
        let persisted = match req.extensions.get("persistedQuery") {
            Some(extension) if from_client => read_extension(extension),
            _ => None,
        };
        let Some((version, id)) = persisted else {
            let text = sent.ok_or_else(missing_query)?;
            // A REST route's text is the router's own configuration.
            if from_client && !req.configured {
                self.check_freeform(text)?;
            }
            return Ok(Query::Sent(text));
        };
        if version != 1 {
            return Err(Error::Version(version).response());
        }
        if let Some(manifests) = &self.manifests {
            match sent {
                Some(_) if self.apq.is_none() => return Err(Error::IdAndBody.response()),
                Some(_) => {}
                None => {
                    if let Some(body) = manifests.current().body(id) {
                        return Ok(Query::Stored(body.clone()));
                    }
                    if self.apq.is_none() {
                        return Err(Error::NotInList(id).response());
                    }
                }
            }
        }
        let Some(apq) = &self.apq else {
            return Err(Error::NotSupported.response());
        };
        let Some(text) = sent else {
            let text = apq
                .get(id)
                .await
                .ok_or_else(|| Error::NotFound.response())?;
            self.check_freeform(&text)?;
            return Ok(Query::Stored(text));
        };
        if !apq::hash_matches(id, text) {
            return Err(Error::HashMismatch.response());
        }
        apq.register(id, text).await;
        self.check_freeform(text)?;
        Ok(Query::Sent(text))
    }

    /// The safelist's verdict on `text`, which no manifest id named.
    #[allow(clippy::result_large_err)]
    fn check_freeform(&self, text: &str) -> Result<(), Response> {
        let manifest = || {
            self.manifests
                .as_ref()
                .map(|m| m.current())
                .unwrap_or_else(|| Arc::new(Manifest::default()))
        };
        self.freeform.check(text, manifest, self.introspection)
    }
}

/// `extensions.persistedQuery` as `(version, sha256Hash)`; `None` when it
/// does not have both (then it is ignored, as Apollo Router does).
fn read_extension(extension: &Value) -> Option<(u64, &str)> {
    let version = extension.get("version")?.as_u64()?;
    let id = extension.get("sha256Hash")?.as_str()?;
    Some((version, id))
}

/// The answer to a request with neither a query nor a persisted query.
fn missing_query() -> Response {
    Response::request_error("Must provide query string.", "MISSING_QUERY_STRING")
}
