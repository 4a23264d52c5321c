//! The response cache as the executor's entity cache
//! (`goliath_executor::entity_cache`, `response_cache.entities: true`):
//! each entity a cacheable entity fetch answered, kept in the same memory
//! or Redis as whole answers and purged by the same requests. Its tags:
//! its type, its entity key (or, when the representation carries more
//! than a key, `@unkeyed:` its type, so any purge of its type's entities
//! takes it), and its subgraph.

use std::sync::Arc;

use bytes::Bytes;
use goliath_executor::entity_cache::{BoxFuture, EntityCache, EntityFetch, Kept};
use goliath_supergraph::Supergraph;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::entry::Entry;
use super::key::{field, Key};
use super::purge::{subgraph_tag, unkeyed_tag};
use super::ResponseCache;
use crate::surrogate_keys::{entity_tag, type_tag};
use crate::telemetry::Telemetry;

/// The entity cache of one pipeline.
pub struct Entities {
    cache: Arc<ResponseCache>,
    supergraph: Arc<Supergraph>,
    telemetry: Telemetry,
}

impl Entities {
    /// Entities kept in `cache`, tagged by `supergraph`'s keys; lookups
    /// counted in `telemetry`.
    pub fn new(
        cache: Arc<ResponseCache>,
        supergraph: Arc<Supergraph>,
        telemetry: Telemetry,
    ) -> Self {
        Entities {
            cache,
            supergraph,
            telemetry,
        }
    }

    /// The tags of an entity answering `representation` in `subgraph`.
    fn tags(&self, subgraph: &str, representation: &[u8]) -> Vec<String> {
        let mut tags = vec![subgraph_tag(subgraph)];
        let Ok(Value::Object(mut rep)) = serde_json::from_slice::<Value>(representation) else {
            return tags;
        };
        let Some(Value::String(type_name)) = rep.remove("__typename") else {
            return tags;
        };
        let ty = type_tag(&type_name);
        match entity_tag(&self.supergraph, &type_name, &rep) {
            Ok(tag) => tags.push(tag),
            Err(_) => tags.push(unkeyed_tag(&ty)),
        }
        tags.push(ty);
        tags
    }
}

/// The key of one entity of `fetch`.
fn key(fetch: &EntityFetch<'_>, representation: &[u8]) -> Key {
    let mut hash = Sha256::new();
    for part in [
        b"entity".as_slice(),
        fetch.subgraph.as_bytes(),
        fetch.operation.as_bytes(),
        fetch.variables,
        representation,
    ] {
        field(&mut hash, part);
    }
    hash.finalize().into()
}

impl EntityCache for Entities {
    fn get_all<'a>(
        &'a self,
        fetch: &'a EntityFetch<'a>,
        representations: &'a [&'a [u8]],
    ) -> BoxFuture<'a, Option<Vec<(Bytes, u32)>>> {
        Box::pin(async move {
            let mut found = Vec::with_capacity(representations.len());
            for rep in representations {
                let entry = self.cache.find(&key(fetch, rep)).await;
                let Some((entry, age)) = entry.and_then(|e| e.age().map(|age| (e, age))) else {
                    self.telemetry.entity_cache(false);
                    return None;
                };
                found.push((entry.body, entry.max_age.saturating_sub(age)));
            }
            self.telemetry.entity_cache(true);
            Some(found)
        })
    }

    fn put<'a>(
        &'a self,
        fetch: &'a EntityFetch<'a>,
        entities: Vec<Kept>,
        max_age: u32,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            for kept in entities {
                let tags = self.tags(fetch.subgraph, &kept.representation);
                let entry = Entry::new(kept.value, max_age, false, None);
                self.cache
                    .put_key(key(fetch, &kept.representation), entry, &tags)
                    .await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_is_in_the_key() {
        let fetch = |subgraph, operation, variables| EntityFetch {
            subgraph,
            operation,
            variables,
        };
        let base = key(&fetch("a", "q", b"[]"), b"{}");
        assert_eq!(base, key(&fetch("a", "q", b"[]"), b"{}"));
        assert_ne!(base, key(&fetch("b", "q", b"[]"), b"{}"));
        assert_ne!(base, key(&fetch("a", "r", b"[]"), b"{}"));
        assert_ne!(base, key(&fetch("a", "q", b"[1]"), b"{}"));
        assert_ne!(base, key(&fetch("a", "q", b"[]"), b"{ }"));
    }
}
