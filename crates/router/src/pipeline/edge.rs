//! The edge stages of the pipeline, for caches in front of the router and
//! the router's own (`crate::response_cache`, `crate::surrogate_keys`):
//!
//! - **lookup** (after routing, before planning): a query's answer kept
//!   for the same keys is served as it is ([`Core::cache_lookup`]);
//! - **keep** (after the cache/headers stage): a cacheable answer gets its
//!   surrogate keys and is kept ([`Core::keep`]); a mutation's answer, with
//!   `invalidation.mutations`, purges the entities it holds.

use apollo_compiler::executable::Operation;
use apollo_compiler::ExecutableDocument;
use bytes::Bytes;
use goliath_executor::value::Val;
use goliath_planner::QueryPlan;
use serde_json::{Map, Value};

use super::{Body, Core, Edge, Outcome, Response};
use crate::cache_control::CachePolicy;
use crate::response_cache::{purge, Entry, Hit, KeyParts, Keys, Selector, Status};
use crate::surrogate_keys::{self, Tags};

/// What the keep stage needs of an executed answer.
pub(super) struct Executed<'a, 'd> {
    pub doc: &'a ExecutableDocument,
    pub operation: &'a Operation,
    pub variables: &'a Map<String, Value>,
    pub data: &'a Val<'d>,
    pub plan: &'a QueryPlan,
    pub has_errors: bool,
}

impl Core {
    /// The response cache's keys for a client's query (`parts`: `None`
    /// when the cache is off) sent with `headers` (`None`: this answer is
    /// neither looked up nor kept).
    pub(super) fn cache_keys(
        &self,
        parts: Option<KeyParts<'_>>,
        headers: &http::HeaderMap,
        operation: &Operation,
        from_client: bool,
    ) -> Option<Keys> {
        let (cache, parts) = (self.response_cache.as_ref()?, parts?);
        if !from_client || !operation.operation_type.is_query() {
            return None;
        }
        Some(cache.keys(&self.schema_hash, &parts, headers))
    }

    /// The lookup stage: the kept answer for `keys`, as the response.
    pub(super) async fn cache_lookup(&self, keys: Option<&Keys>) -> Option<Response> {
        let (cache, keys) = (self.response_cache.as_ref()?, keys?);
        let hit = cache.get(keys).await;
        self.telemetry.response_cache(hit.is_some());
        let Hit { entry, age } = hit?;
        let mut edge = Edge {
            surrogate_keys: None,
            cache: Some((cache.status_header().clone(), Status::Hit { age })),
        };
        if let (Some(value), Some(name)) = (&entry.surrogate_keys, &self.surrogate_header) {
            if let Ok(value) = http::HeaderValue::from_str(value) {
                edge.surrogate_keys = Some((name.clone(), value));
            }
        }
        Some(Response {
            body: Body::Raw(entry.body),
            outcome: Outcome::Executed,
            cache_control: Some(CachePolicy::MaxAge {
                seconds: entry.max_age,
                private: entry.private,
            }),
            edge: Some(Box::new(edge)),
        })
    }

    /// The keep stage: for a cacheable answer, its surrogate keys (when
    /// `cache_control.surrogate_keys` is on) and, with `keys`, keeping it;
    /// for a mutation's answer, the purges it calls for.
    pub(super) async fn keep(
        &self,
        executed: Executed<'_, '_>,
        policy: Option<CachePolicy>,
        keys: Option<Keys>,
        body: &Bytes,
    ) -> Option<Box<Edge>> {
        let edge = self.keep_answer(executed, policy, keys, body).await;
        (edge.surrogate_keys.is_some() || edge.cache.is_some()).then(|| Box::new(edge))
    }

    async fn keep_answer(
        &self,
        executed: Executed<'_, '_>,
        policy: Option<CachePolicy>,
        keys: Option<Keys>,
        body: &Bytes,
    ) -> Edge {
        let mut edge = Edge::default();
        let cache = self.response_cache.as_ref();
        if let (Some(cache), Some(_)) = (cache, &keys) {
            edge.cache = Some((cache.status_header().clone(), Status::Miss));
        }
        let is_mutation = executed.operation.operation_type.is_mutation();
        let purges =
            is_mutation && !executed.has_errors && cache.is_some_and(|c| c.purges_on_mutations());
        let Some(CachePolicy::MaxAge { seconds, private }) = policy else {
            if purges {
                self.purge_entities(&self.tags(&executed)).await;
            }
            return edge;
        };
        if self.surrogate_header.is_none() && keys.is_none() {
            return edge;
        }
        let tags = self.tags(&executed);
        let header = self
            .surrogate_header
            .as_ref()
            .and_then(|name| Some((name.clone(), tags.header_value(&self.surrogate_keys)?)));
        if let (Some(cache), Some(keys)) = (cache, keys) {
            let mut all: Vec<String> = tags.iter().map(str::to_owned).collect();
            all.extend(tags.unkeyed.iter().map(|t| purge::unkeyed_tag(t)));
            all.extend(subgraph_tags(executed.plan));
            let surrogate = header
                .as_ref()
                .and_then(|(_, v)| v.to_str().ok().map(str::to_owned));
            let entry = Entry::new(body.clone(), seconds, private, surrogate);
            cache.put(&keys, entry, &all).await;
        }
        edge.surrogate_keys = header;
        edge
    }

    /// The tags of an executed answer.
    fn tags(&self, executed: &Executed<'_, '_>) -> Tags {
        surrogate_keys::collect(
            &self.supergraph,
            executed.doc,
            executed.operation,
            executed.variables,
            executed.data,
        )
    }

    /// Purges the kept answers holding the entities in `tags` (a
    /// mutation's answer), and, for an entity returned without its key,
    /// those holding its type.
    async fn purge_entities(&self, tags: &Tags) {
        let Some(cache) = &self.response_cache else {
            return;
        };
        let selectors: Vec<Selector> = tags
            .entities
            .iter()
            .filter_map(|tag| {
                let type_tag = tag.split(':').next()?;
                Some(purge::entity_selectors(tag, type_tag, &[]))
            })
            .flatten()
            // An object returned without its key: which one is unknown, so
            // every answer holding its type.
            .chain(tags.unkeyed.iter().map(|t| Selector::Tags {
                all_of: vec![t.clone()],
                any_of: Vec::new(),
            }))
            .collect();
        if selectors.is_empty() {
            return;
        }
        match cache.remove(&selectors).await {
            Ok(count) => tracing::debug!("a mutation purged {count} kept answers"),
            Err(e) => tracing::warn!("a mutation's purge failed: {e}"),
        }
    }
}

/// The tags of the subgraphs a plan fetches from.
fn subgraph_tags(plan: &QueryPlan) -> Vec<String> {
    let mut names: Vec<&str> = plan
        .root
        .as_ref()
        .map(|root| {
            root.fetches()
                .into_iter()
                .map(|f| f.service.as_str())
                .collect()
        })
        .unwrap_or_default();
    names.sort_unstable();
    names.dedup();
    names.into_iter().map(purge::subgraph_tag).collect()
}
