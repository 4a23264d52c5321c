//! Entity fetches answered from a cache (the router's response cache,
//! behind [`EntityCache`]): an entity fetch whose every representation has
//! a kept answer is not sent at all; one that is sent keeps each entity of
//! a cacheable, error-free answer for the next.
//!
//! All or nothing per fetch: a fetch with one representation missing is
//! sent whole (as without a cache), so errors and their paths are the
//! subgraph's own; its entities are then kept one by one, and a later
//! fetch of any subset of them is a hit.
//!
//! An entity's key is its subgraph, the fetch's operation text, the values
//! of the client variables that operation uses, and the representation;
//! its lifetime the answer's `max-age`. Answers that are `private`,
//! `no-store`, `no-cache` or without a `max-age` are never kept.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use serde_json::Value;

use crate::cache_control::CacheControl;

/// A boxed future, for the trait's methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One entity fetch, as the cache sees it.
pub struct EntityFetch<'a> {
    /// The subgraph's name.
    pub subgraph: &'a str,
    /// The fetch's operation text.
    pub operation: &'a str,
    /// The client variables the operation uses, as JSON text.
    pub variables: &'a [u8],
}

/// One entity's answer to keep.
pub struct Kept {
    /// The representation it answers (JSON text).
    pub representation: Vec<u8>,
    /// The entity's JSON text, as `_entities` held it.
    pub value: Bytes,
}

/// Where entities are kept (implemented by the router).
pub trait EntityCache: Send + Sync {
    /// The kept answers of `fetch` for every one of `representations`
    /// (JSON texts), in order, with the seconds each has left; `None` when
    /// any is missing.
    fn get_all<'a>(
        &'a self,
        fetch: &'a EntityFetch<'a>,
        representations: &'a [&'a [u8]],
    ) -> BoxFuture<'a, Option<Vec<(Bytes, u32)>>>;

    /// Keeps these answers of `fetch` for `max_age` seconds.
    fn put<'a>(
        &'a self,
        fetch: &'a EntityFetch<'a>,
        entities: Vec<Kept>,
        max_age: u32,
    ) -> BoxFuture<'a, ()>;
}

/// The `max-age` an answer with this `Cache-Control` may be kept for, if
/// any.
pub fn keepable(cache_control: Option<&CacheControl>) -> Option<u32> {
    let cc = cache_control?;
    if cc.private || cc.no_store || cc.no_cache || cc.missing_max_age {
        return None;
    }
    cc.max_age.filter(|&age| age > 0)
}

/// A subgraph answer made of kept entities: `{"data":{"_entities":[...]}}`.
pub fn answer_of(entities: &[(Bytes, u32)]) -> Vec<u8> {
    let size: usize = entities.iter().map(|(v, _)| v.len() + 1).sum();
    let mut out = Vec::with_capacity(size + 32);
    out.extend_from_slice(b"{\"data\":{\"_entities\":[");
    for (i, (value, _)) in entities.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(value);
    }
    out.extend_from_slice(b"]}}");
    out
}

/// The entities of an answer to keep, one per representation: `None`
/// when the answer has errors, or its `_entities` is not a list of
/// objects as long as `representations`.
pub fn entities_of(answer: &[u8], representations: &[&[u8]]) -> Option<Vec<Kept>> {
    let mut value: Value = serde_json::from_slice(answer).ok()?;
    if value.get("errors").is_some_and(|e| !e.is_null()) {
        return None;
    }
    let Value::Array(list) = value.get_mut("data")?.get_mut("_entities")?.take() else {
        return None;
    };
    if list.len() != representations.len() || !list.iter().all(Value::is_object) {
        return None;
    }
    Some(
        list.into_iter()
            .zip(representations)
            .map(|(entity, rep)| Kept {
                representation: rep.to_vec(),
                value: Bytes::from(serde_json::to_vec(&entity).unwrap_or_default()),
            })
            .collect(),
    )
}

/// What cached entities allow, as one answer's `Cache-Control`: the
/// least time any of them has left.
pub fn cache_control_of(entities: &[(Bytes, u32)]) -> CacheControl {
    CacheControl {
        max_age: entities.iter().map(|(_, left)| *left).min(),
        ..CacheControl::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_answers_with_a_max_age_are_kept() {
        let cc = |v: &str| CacheControl::parse([v.as_bytes()]);
        assert_eq!(keepable(Some(&cc("max-age=60"))), Some(60));
        assert_eq!(keepable(Some(&cc("max-age=60, private"))), None);
        assert_eq!(keepable(Some(&cc("no-store"))), None);
        assert_eq!(keepable(Some(&cc("max-age=0"))), None);
        assert_eq!(keepable(Some(&cc("public"))), None);
        assert_eq!(keepable(None), None);
    }

    #[test]
    fn answers_are_split_and_joined_by_entity() {
        let reps: [&[u8]; 2] = [
            b"{\"__typename\":\"U\",\"id\":\"1\"}",
            b"{\"__typename\":\"U\",\"id\":\"2\"}",
        ];
        let answer = br#"{"data":{"_entities":[{"n":"a"},{"n":"b"}]}}"#;
        let kept = entities_of(answer, &reps).unwrap();
        assert_eq!(kept[1].value, Bytes::from_static(br#"{"n":"b"}"#));
        assert_eq!(kept[0].representation, reps[0]);
        let joined = answer_of(&[(kept[0].value.clone(), 5), (kept[1].value.clone(), 3)]);
        assert_eq!(joined, answer.to_vec());
        assert_eq!(
            cache_control_of(&[(Bytes::new(), 5), (Bytes::new(), 3)]).max_age,
            Some(3)
        );
        // Errors, a wrong length, a null entity: nothing kept.
        assert!(entities_of(br#"{"data":{"_entities":[{},{}]},"errors":[{}]}"#, &reps).is_none());
        assert!(entities_of(br#"{"data":{"_entities":[{}]}}"#, &reps).is_none());
        assert!(entities_of(br#"{"data":{"_entities":[{},null]}}"#, &reps).is_none());
        assert!(entities_of(b"nope", &reps).is_none());
    }
}
