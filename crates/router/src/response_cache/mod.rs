//! The response cache (`response_cache:`, off by default): whole answers
//! kept by the router and served again without asking any subgraph.
//!
//! - **What is kept**: a query's answer without errors whose policy
//!   (`crate::cache_control`: hints and the subgraphs' `Cache-Control`) is
//!   cacheable, for its max-age. A `private` answer is kept only for a
//!   request that carries a scope (configured headers or cookies), and
//!   served only to requests with the same scope.
//! - **Keys** ([`key`]): the supergraph, the operation, its variables, the
//!   content version, the override labels and migration pins, and, for a
//!   private answer, the scope.
//! - **Where**: in memory (`moka`, bounded by size; [`memory`]), or in
//!   Redis, shared by several routers ([`shared`]).
//! - **Served**: a hit is answered with the body kept, its `Cache-Control`
//!   max-age, an `Age`, the same surrogate keys, and the status header
//!   (`x-goliath-cache: HIT`; `MISS` on answers that ran).
//! - **Entities** ([`entities`], with `entities: true`): the answers of
//!   cacheable entity fetches, entity by entity, so that an entity fetch
//!   whose every entity is kept is not sent.
//! - **Purged** ([`purge`]): by subgraph, type, entity key, surrogate key,
//!   or all, from the admin listener (`POST /admin/cache/invalidation`)
//!   or `goliath cache purge`; and, with `invalidation.mutations`, by the
//!   entities a mutation returns.

pub mod config;
pub mod entities;
pub mod entry;
pub mod key;
mod memory;
pub mod purge;
mod shared;

use std::sync::{Arc, RwLock};

use goliath_supergraph::Supergraph;
use http::{HeaderMap, HeaderName};

pub use config::ResponseCacheConfig;
pub use entry::Entry;
pub use key::{KeyParts, Keys};
pub use purge::{Invalidation, Selector};

use key::Scope;
use memory::Memory;
use shared::Shared;

/// Where answers are kept.
enum Backend {
    Memory(Memory),
    Shared(Shared),
}

/// The router's response cache. It outlives pipelines (a new supergraph
/// starts new keys; purges reach every answer kept).
pub struct ResponseCache {
    backend: Backend,
    scope: Scope,
    status_header: HeaderName,
    purge_on_mutations: bool,
    /// Whether entity fetches are kept too.
    entities: bool,
    /// The supergraph in force, for purges naming types and subgraphs.
    supergraph: RwLock<Option<Arc<Supergraph>>>,
}

/// A cache hit.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The kept answer.
    pub entry: Entry,
    /// Its age, in seconds.
    pub age: u32,
}

/// Whether an answer came from the cache (the status header's value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Served from the cache, `age` seconds old.
    Hit {
        /// Seconds since it was kept.
        age: u32,
    },
    /// Not found in the cache; ran.
    Miss,
}

impl ResponseCache {
    /// The cache `config` describes; `None` when it is off.
    pub fn new(config: &ResponseCacheConfig) -> Option<Arc<ResponseCache>> {
        if !config.enabled {
            return None;
        }
        let backend = match &config.redis {
            Some(redis) => Backend::Shared(Shared::new(
                redis.urls.first().map_or("", String::as_str),
                &redis.key_prefix,
            )),
            None => Backend::Memory(Memory::new(config.max_bytes)),
        };
        Some(Arc::new(ResponseCache {
            backend,
            scope: Scope::new(&config.private_scope),
            status_header: HeaderName::from_bytes(config.status_header.as_bytes())
                .unwrap_or_else(|_| HeaderName::from_static("x-goliath-cache")),
            purge_on_mutations: config.invalidation.mutations,
            entities: config.entities,
            supergraph: RwLock::new(None),
        }))
    }

    /// Makes `supergraph` the one purges are checked against.
    pub fn install(&self, supergraph: Arc<Supergraph>) {
        *self.supergraph.write().unwrap_or_else(|p| p.into_inner()) = Some(supergraph);
    }

    /// The header saying `HIT` or `MISS`.
    pub fn status_header(&self) -> &HeaderName {
        &self.status_header
    }

    /// Whether mutations purge the entities they return.
    pub fn purges_on_mutations(&self) -> bool {
        self.purge_on_mutations
    }

    /// The keys a request with `parts` and `headers` may find its answer
    /// under, with the supergraph `schema` (its hash).
    pub fn keys(&self, schema: &[u8; 32], parts: &KeyParts<'_>, headers: &HeaderMap) -> Keys {
        key::keys(schema, parts, self.scope.of(headers))
    }

    /// The answer kept for `keys`: the public one, else this user's own.
    pub async fn get(&self, keys: &Keys) -> Option<Hit> {
        let found = match self.find(&keys.public).await {
            Some(entry) if !entry.private => Some(entry),
            _ => match &keys.private {
                Some(private) => self.find(private).await.filter(|e| e.private),
                None => None,
            },
        }?;
        let age = found.age()?;
        Some(Hit { entry: found, age })
    }

    /// The entry kept under `key`.
    pub(crate) async fn find(&self, key: &key::Key) -> Option<Entry> {
        match &self.backend {
            Backend::Memory(memory) => memory.get(key),
            Backend::Shared(shared) => shared.get(key).await,
        }
    }

    /// Keeps `entry` for `keys` (a private one only when the request had a
    /// scope), indexed by `tags`.
    pub async fn put(&self, keys: &Keys, entry: Entry, tags: &[String]) {
        let key = match (entry.private, keys.private) {
            (false, _) => keys.public,
            (true, Some(private)) => private,
            (true, None) => return,
        };
        self.put_key(key, entry, tags).await
    }

    /// Keeps `entry` under `key`, indexed by `tags`.
    pub(crate) async fn put_key(&self, key: key::Key, entry: Entry, tags: &[String]) {
        match &self.backend {
            Backend::Memory(memory) => memory.put(key, entry, tags),
            Backend::Shared(shared) => shared.put(key, entry, tags).await,
        }
    }

    /// Whether entity fetches are kept too (`entities`).
    pub fn keeps_entities(&self) -> bool {
        self.entities
    }

    /// Runs purge `requests`: answers how many answers were removed, or
    /// what is wrong with a request (nothing is removed then).
    pub async fn purge(&self, requests: &[Invalidation]) -> Result<u64, String> {
        let supergraph = self
            .supergraph
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or("no supergraph is loaded")?;
        let mut selectors = Vec::new();
        for request in requests {
            selectors.extend(request.selectors(&supergraph)?);
        }
        self.remove(&selectors).await
    }

    /// Removes the answers each selector picks; answers how many.
    pub async fn remove(&self, selectors: &[Selector]) -> Result<u64, String> {
        let mut count = 0;
        for selector in selectors {
            count += match &self.backend {
                Backend::Memory(memory) => memory.purge(selector),
                Backend::Shared(shared) => shared.purge(selector).await.map_err(|e| e.0)?,
            };
        }
        Ok(count)
    }
}
