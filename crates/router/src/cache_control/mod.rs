//! `Cache-Control` on the router's answers (`cache_control:`, off by
//! default), as Apollo Server and Apollo Router answer: a cacheable answer
//! gets `max-age=N, public` (or `private`), every other GraphQL answer
//! `no-store`.
//!
//! The pipeline's "cache/headers" stage ([`CacheControl::policy`], after
//! projection) works out an executed answer's [`CachePolicy`] from what
//! the subgraphs' answers allowed (read by the executor into
//! [`goliath_executor::cache_control::CacheControl`], merged strictest
//! first) and the configuration:
//!
//! - only a query whose answer has no errors can be cacheable (never a
//!   mutation);
//! - its max-age is the lowest the subgraphs gave; a subgraph answer
//!   without one counts as `default_max_age` (0 unless configured, so a
//!   subgraph without `Cache-Control` makes the answer not cacheable, as
//!   Apollo Router's response cache treats it), and so does an answer no
//!   subgraph took part in;
//! - `private` from any subgraph makes it private; `no-store` or
//!   `no-cache` from any, or a max-age of 0, makes it `no-store`;
//! - when the supergraph has `@cacheControl` hints, the operation's policy
//!   by Apollo Server's rules ([`hints`]) too: the lower max-age wins, and
//!   a `PRIVATE` hint makes it private. With `subgraph_headers: false` the
//!   hints alone decide (their walk gives an unhinted root or composite
//!   field `default_max_age`, as Apollo Server's `defaultMaxAge`); without
//!   hints, every cacheable answer gets `default_max_age`.
//!
//! Answers that never ran ([`CacheControl::uncacheable`]: request errors,
//! refusals) are `no-store`; the persisted-query refusals keep their own
//! value ([`CachePolicy::Fixed`]). The HTTP layer sets the header and,
//! for a cacheable GET answer, a strong `ETag` ([`etag`]), answering 304
//! to a matching `If-None-Match`.

pub mod config;
pub mod etag;
pub mod hints;

use goliath_executor::cache_control::CacheControl as Subgraphs;
use http::HeaderValue;

pub use config::CacheControlConfig;
pub use hints::HintPolicy;

/// The `Cache-Control` an answer is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachePolicy {
    /// Not cacheable: `no-store`.
    NoStore,
    /// Cacheable for `seconds` (more than 0): `max-age=N, public` or
    /// `max-age=N, private`.
    MaxAge {
        /// How long, in seconds.
        seconds: u32,
        /// Only the client's own cache may keep it.
        private: bool,
    },
    /// A value of its own (the persisted-query refusals).
    Fixed(&'static str),
}

impl CachePolicy {
    /// The header's value.
    pub fn header_value(&self) -> HeaderValue {
        match *self {
            CachePolicy::NoStore => HeaderValue::from_static("no-store"),
            CachePolicy::Fixed(value) => HeaderValue::from_static(value),
            CachePolicy::MaxAge { seconds, private } => {
                let scope = if private { "private" } else { "public" };
                HeaderValue::from_str(&format!("max-age={seconds}, {scope}"))
                    .unwrap_or_else(|_| HeaderValue::from_static("no-store"))
            }
        }
    }

    /// Whether a cache may keep the answer ([`CachePolicy::MaxAge`]).
    pub fn is_cacheable(&self) -> bool {
        matches!(self, CachePolicy::MaxAge { .. })
    }
}

/// The cache/headers stage of one pipeline (only when enabled).
#[derive(Debug, Clone)]
pub struct CacheControl {
    config: CacheControlConfig,
}

impl CacheControl {
    /// The stage for `config`; `None` when it is off.
    pub fn new(config: &CacheControlConfig) -> Option<CacheControl> {
        config.enabled.then(|| CacheControl {
            config: config.clone(),
        })
    }

    /// Whether the executor should read the subgraphs' `Cache-Control`.
    pub fn reads_subgraphs(&self) -> bool {
        self.config.subgraph_headers
    }

    /// The max-age of what says none (`default_max_age`).
    pub fn default_max_age(&self) -> u32 {
        self.config.default_max_age
    }

    /// The policy of an executed answer: a query (`is_query`) without
    /// errors, given what its subgraph answers allowed and, when the
    /// supergraph has `@cacheControl` hints, what they allow for the
    /// operation.
    pub fn policy(
        &self,
        is_query: bool,
        has_errors: bool,
        subgraphs: &Subgraphs,
        hints: Option<HintPolicy>,
    ) -> CachePolicy {
        if !is_query || has_errors {
            return CachePolicy::NoStore;
        }
        let default = self.config.default_max_age;
        let none = Subgraphs::default();
        let subgraphs = if self.config.subgraph_headers {
            subgraphs
        } else {
            &none
        };
        if subgraphs.no_store || subgraphs.no_cache {
            return CachePolicy::NoStore;
        }
        let mut seconds = match subgraphs.max_age {
            // Hints alone: they already give what no hint covers the default.
            _ if !self.config.subgraph_headers && hints.is_some() => u32::MAX,
            Some(max_age) if subgraphs.missing_max_age => max_age.min(default),
            Some(max_age) => max_age,
            None => default,
        };
        let mut private = subgraphs.private;
        if let Some(hints) = hints {
            seconds = seconds.min(hints.max_age);
            private |= hints.private;
        }
        if seconds == 0 {
            return CachePolicy::NoStore;
        }
        CachePolicy::MaxAge { seconds, private }
    }

    /// The policy of an answer that did not run (a request error, a
    /// refusal).
    pub fn uncacheable(&self) -> CachePolicy {
        CachePolicy::NoStore
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(default_max_age: u32, subgraph_headers: bool) -> CacheControl {
        CacheControl::new(&CacheControlConfig {
            enabled: true,
            default_max_age,
            subgraph_headers,
            ..CacheControlConfig::default()
        })
        .unwrap()
    }

    fn answers(values: &[&str]) -> Subgraphs {
        let mut all = Subgraphs::default();
        for v in values {
            all.merge(&Subgraphs::parse(
                [v.as_bytes()].into_iter().filter(|v| !v.is_empty()),
            ));
        }
        all
    }

    fn max_age(seconds: u32, private: bool) -> CachePolicy {
        CachePolicy::MaxAge { seconds, private }
    }

    #[test]
    fn off_by_default() {
        assert!(CacheControl::new(&CacheControlConfig::default()).is_none());
    }

    #[test]
    fn the_strictest_subgraph_wins() {
        let s = stage(0, true);
        let p = |v: &[&str]| s.policy(true, false, &answers(v), None);
        assert_eq!(p(&["max-age=60", "max-age=30"]), max_age(30, false));
        assert_eq!(p(&["max-age=60", "max-age=30, private"]), max_age(30, true));
        assert_eq!(p(&["max-age=60", "no-store"]), CachePolicy::NoStore);
        assert_eq!(p(&["max-age=60", "no-cache"]), CachePolicy::NoStore);
        assert_eq!(p(&["max-age=60", ""]), CachePolicy::NoStore);
        assert_eq!(p(&["max-age=0"]), CachePolicy::NoStore);
        assert_eq!(p(&[]), CachePolicy::NoStore);
    }

    #[test]
    fn the_default_stands_for_answers_without_max_age() {
        let s = stage(20, true);
        let p = |v: &[&str]| s.policy(true, false, &answers(v), None);
        assert_eq!(p(&["max-age=60", ""]), max_age(20, false));
        assert_eq!(p(&["max-age=10", "private"]), max_age(10, true));
        assert_eq!(p(&[]), max_age(20, false));
        let ignored = stage(20, false);
        assert_eq!(
            ignored.policy(true, false, &answers(&["max-age=5, private"]), None),
            max_age(20, false)
        );
    }

    #[test]
    fn mutations_and_errors_are_never_cacheable() {
        let s = stage(60, true);
        let ok = answers(&["max-age=60"]);
        assert_eq!(s.policy(true, false, &ok, None), max_age(60, false));
        assert_eq!(s.policy(false, false, &ok, None), CachePolicy::NoStore);
        assert_eq!(s.policy(true, true, &ok, None), CachePolicy::NoStore);
    }

    #[test]
    fn hints_and_subgraphs_the_lower_wins() {
        let s = stage(0, true);
        let ok = answers(&["max-age=60"]);
        let hint = |max_age, private| Some(HintPolicy { max_age, private });
        assert_eq!(
            s.policy(true, false, &ok, hint(30, false)),
            max_age(30, false)
        );
        assert_eq!(
            s.policy(true, false, &ok, hint(90, true)),
            max_age(60, true)
        );
        assert_eq!(
            s.policy(true, false, &ok, hint(0, false)),
            CachePolicy::NoStore
        );
        // Hints alone: a default of 0 does not cap them (their walk gives
        // unhinted root and composite fields the default already).
        let only_hints = stage(0, false);
        assert_eq!(
            only_hints.policy(true, false, &ok, hint(30, false)),
            max_age(30, false)
        );
        assert_eq!(
            only_hints.policy(true, false, &ok, hint(0, false)),
            CachePolicy::NoStore
        );
        // Without hints, the default.
        assert_eq!(
            only_hints.policy(true, false, &ok, None),
            CachePolicy::NoStore
        );
        let only_hints = stage(3600, false);
        assert_eq!(
            only_hints.policy(true, false, &ok, hint(30, true)),
            max_age(30, true)
        );
    }

    #[test]
    fn header_values() {
        assert_eq!(max_age(30, false).header_value(), "max-age=30, public");
        assert_eq!(max_age(30, true).header_value(), "max-age=30, private");
        assert_eq!(CachePolicy::NoStore.header_value(), "no-store");
        assert_eq!(
            CachePolicy::Fixed("private, no-cache").header_value(),
            "private, no-cache"
        );
        assert!(max_age(1, true).is_cacheable());
        assert!(!CachePolicy::NoStore.is_cacheable());
    }
}
