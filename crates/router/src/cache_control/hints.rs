//! An operation's cache policy from the supergraph's `@cacheControl`
//! hints, by Apollo Server's rules, worked out over the operation's
//! selections (with no data: every field it selects counts, whether or not
//! it resolves, so the answer is never kept longer than Apollo Server's
//! would be):
//!
//! - a field's max-age is its own hint's, else its type's (for a field
//!   returning an object, interface or union);
//! - without one, a root field or a field returning a composite type gets
//!   the default max-age; a scalar or enum field, or one with
//!   `inheritMaxAge`, takes its parent's;
//! - the operation's max-age is the lowest of its fields'; a `PRIVATE`
//!   scope on any field or returned type makes it private.

use apollo_compiler::executable::{ExecutableDocument, Operation, Selection, SelectionSet};
use goliath_supergraph::{CacheHints, Supergraph};

/// What the hints allow for one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HintPolicy {
    /// The lowest max-age of its fields, in seconds.
    pub max_age: u32,
    /// Some field or returned type is `PRIVATE`.
    pub private: bool,
}

/// The policy the hints give `operation` of `doc`, with `default_max_age`
/// for root and composite fields without a hint.
pub fn operation_policy(
    supergraph: &Supergraph,
    doc: &ExecutableDocument,
    operation: &Operation,
    default_max_age: u32,
) -> HintPolicy {
    let mut walk = Walk {
        supergraph,
        hints: &supergraph.cache_hints,
        doc,
        default_max_age,
        policy: HintPolicy {
            max_age: u32::MAX,
            private: false,
        },
    };
    walk.selections(&operation.selection_set, None);
    if walk.policy.max_age == u32::MAX {
        walk.policy.max_age = default_max_age;
    }
    walk.policy
}

struct Walk<'a> {
    supergraph: &'a Supergraph,
    hints: &'a CacheHints,
    doc: &'a ExecutableDocument,
    default_max_age: u32,
    policy: HintPolicy,
}

impl Walk<'_> {
    /// Walks `set`, whose fields' parent has `parent` max-age (`None`: the
    /// root).
    fn selections(&mut self, set: &SelectionSet, parent: Option<u32>) {
        for selection in &set.selections {
            match selection {
                Selection::Field(f) => {
                    if f.name.starts_with("__") {
                        continue;
                    }
                    let ty = f.definition.ty.inner_named_type();
                    let composite = self
                        .supergraph
                        .api_schema
                        .types
                        .get(ty)
                        .is_some_and(|t| t.is_object() || t.is_interface() || t.is_union());
                    let own = self.hints.of_field(&set.ty, &f.name).copied();
                    let of_type = composite.then(|| self.hints.of_type(ty).copied()).flatten();
                    let private =
                        own.is_some_and(|h| h.private) || of_type.is_some_and(|h| h.private);
                    let inherit = own.is_some_and(|h| h.inherit_max_age)
                        || (own.and_then(|h| h.max_age).is_none()
                            && of_type.is_some_and(|h| h.inherit_max_age));
                    let max_age = own
                        .and_then(|h| h.max_age)
                        .or(of_type.and_then(|h| h.max_age));
                    let max_age = match (max_age, parent) {
                        (Some(m), _) => m,
                        (None, Some(p)) if inherit || !composite => p,
                        (None, _) => self.default_max_age,
                    };
                    self.policy.max_age = self.policy.max_age.min(max_age);
                    self.policy.private |= private;
                    self.selections(&f.selection_set, Some(max_age));
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = self.doc.fragments.get(&spread.fragment_name) {
                        self.selections(&fragment.selection_set, parent);
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.selections(&inline.selection_set, parent);
                }
            }
        }
    }
}
