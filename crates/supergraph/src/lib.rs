//! The supergraph model.
//!
//! A supergraph SDL (as Apollo composition or `goliath compose` writes it)
//! records, with `@join__*` directives, which subgraph owns what. This crate
//! reads those directives into a typed model ([`Supergraph`]) that the planner
//! queries ("can subgraph G resolve `T.f`?", "what are `T`'s keys in G?"), and
//! derives the API schema that clients see (no `join__`/`link__` elements,
//! `@inaccessible` elements removed). It also reads the demand control
//! directives (`@cost`, `@listSize`) into per-type and per-field lookups
//! ([`Costs`]), goliath's field migrations (`@migrate`) into
//! [`Migration`]s, and Apollo Server's `@cacheControl` hints into
//! [`CacheHints`], and the access directives (`@authenticated`,
//! `@requiresScopes`, `@policy`) into [`AccessRules`].

mod access;
mod api_schema;
mod cache_hints;
mod cost;
mod migrate;
mod model;

pub use access::{AccessNames, AccessRules, Requirement};
pub use cache_hints::{CacheHint, CacheHints, CACHE_CONTROL_DIRECTIVE};
pub use cost::{Costs, FieldCost, ListSize};
pub use migrate::{Migration, MigrationState, MIGRATE_SPEC_URL};

pub use model::{
    FieldInGraph, FieldInfo, Graph, GraphId, Key, Supergraph, SupergraphError, TypeInGraph,
    TypeInfo, TypeKind,
};
