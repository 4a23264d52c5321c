//! Apollo Federation v2 composition: subgraph schemas into a supergraph SDL.
//!
//! [`compose`] reads each subgraph (Federation 1 or 2), checks the rules
//! that concern one subgraph (`@key`/`@requires`/`@provides` field sets,
//! `@external` usage, `@override`, goliath's `@migrate`), merges the types
//! (see [`merge`]), checks the rules across subgraphs (field sharing, types,
//! enums, input objects, satisfiability) and prints the supergraph with
//! `@join__*` directives as Apollo composition does. Errors carry Apollo's
//! error codes (and goliath's own `MIGRATE_*` codes for `@migrate`).
//!
//! The output is parsed back with [`goliath_supergraph::Supergraph::parse`]
//! before it is returned, so what `compose` returns the router can serve.
//!
//! [`SupergraphConfig`] reads rover's `supergraph.yaml` and fetches or reads
//! the subgraph schemas it lists; [`Recomposer`] composes again when they
//! change (`goliath router --compose`).

mod access;
mod checks;
mod config;
mod cost;
mod emit;
mod errors;
mod fieldset;
mod link;
mod merge;
mod migrate;
mod model;
mod reload;
mod satisfiability;
mod subgraph;
mod subgraph_checks;
mod types;

pub use config::{FetchSdl, SchemaSource, SubgraphConfig, SupergraphConfig};
pub use errors::{ComposeError, CompositionError, ErrorCode};
pub use reload::Recomposer;
pub use subgraph::SubgraphInput;

/// Composes subgraphs into a supergraph SDL, or lists every error found.
pub fn compose(inputs: &[SubgraphInput]) -> Result<String, Vec<CompositionError>> {
    let mut errors = Vec::new();
    let mut names = std::collections::HashSet::new();
    for input in inputs {
        if input.name.is_empty() || input.name == "_" {
            errors.push(CompositionError::new(
                ErrorCode::InvalidSubgraphName,
                format!(
                    "Invalid name \"{}\" for a subgraph: this name is reserved",
                    input.name
                ),
            ));
        }
        if !names.insert(input.name.as_str()) {
            errors.push(CompositionError::new(
                ErrorCode::InvalidGraphql,
                format!("A subgraph named \"{}\" is listed twice", input.name),
            ));
        }
    }
    if inputs.is_empty() {
        errors.push(CompositionError::new(
            ErrorCode::NoQueries,
            "No subgraphs to compose",
        ));
    }
    let mut sorted: Vec<&SubgraphInput> = inputs.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut subgraphs = Vec::new();
    for input in sorted {
        match subgraph::read(input) {
            Ok((mut sg, read_errors)) => {
                errors.extend(read_errors);
                errors.extend(subgraph_checks::check(&mut sg));
                errors.extend(cost::check(&sg));
                errors.extend(access::check_subgraph(&sg));
                errors.extend(migrate::check_subgraph(&sg));
                subgraphs.push(sg);
            }
            Err(e) => errors.extend(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    errors.extend(migrate::check_across(&subgraphs));
    if !errors.is_empty() {
        return Err(errors);
    }
    let (composed, merge_errors) = merge::merge(&subgraphs);
    errors.extend(merge_errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    errors.extend(access::check_requires(&subgraphs, &composed));
    if !errors.is_empty() {
        return Err(errors);
    }
    errors.extend(checks::check(&composed));
    if !errors.is_empty() {
        return Err(errors);
    }
    errors.extend(satisfiability::check(&composed));
    if !errors.is_empty() {
        return Err(errors);
    }
    let sdl = emit::emit(&composed);
    if let Err(e) = goliath_supergraph::Supergraph::parse(&sdl) {
        return Err(vec![CompositionError::new(
            ErrorCode::InvalidSupergraph,
            format!("the composed supergraph does not load: {e}"),
        )]);
    }
    Ok(sdl)
}
