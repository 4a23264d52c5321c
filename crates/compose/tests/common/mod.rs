//! Helpers shared by the composition tests.
#![allow(dead_code)]

use std::collections::HashSet;

use goliath_compose::{compose, CompositionError, ErrorCode, SubgraphInput};
use goliath_supergraph::Supergraph;

/// `extend schema @link(...)` importing `imports` from federation v2.3.
pub fn fed2(imports: &str) -> String {
    format!(
        "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.3\", import: [{imports}])\n"
    )
}

/// Subgraph inputs named as given, served at `http://<name>:4000/graphql`.
pub fn inputs(subgraphs: &[(&str, &str)]) -> Vec<SubgraphInput> {
    subgraphs
        .iter()
        .map(|(name, sdl)| SubgraphInput {
            name: (*name).to_owned(),
            url: format!("http://{name}:4000/graphql"),
            sdl: (*sdl).to_owned(),
        })
        .collect()
}

/// Composes, panicking with the errors when composition fails.
pub fn compose_ok(subgraphs: &[(&str, &str)]) -> String {
    match compose(&inputs(subgraphs)) {
        Ok(sdl) => sdl,
        Err(errors) => panic!(
            "composition failed:\n{}",
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

/// Composes, panicking when composition succeeds.
pub fn compose_err(subgraphs: &[(&str, &str)]) -> Vec<CompositionError> {
    match compose(&inputs(subgraphs)) {
        Ok(sdl) => panic!("composition succeeded:\n{sdl}"),
        Err(errors) => errors,
    }
}

/// Asserts one of `errors` has `code` and a message containing every `part`.
pub fn assert_error(errors: &[CompositionError], code: ErrorCode, parts: &[&str]) {
    let found = errors
        .iter()
        .any(|e| e.code == code && parts.iter().all(|p| e.message.contains(p)));
    assert!(
        found,
        "no {code} error mentioning {parts:?}; got:\n{}",
        errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The printed definition of `name` (type, enum, ...) in a supergraph.
pub fn definition<'a>(sdl: &'a str, keyword: &str, name: &str) -> &'a str {
    let start = sdl
        .find(&format!("\n{keyword} {name}\n"))
        .or_else(|| sdl.find(&format!("\n{keyword} {name} ")))
        .unwrap_or_else(|| panic!("no {keyword} {name} in:\n{sdl}"));
    let rest = &sdl[start + 1..];
    let end = rest.find("\n\n").unwrap_or(rest.len());
    &rest[..end]
}

/// The line defining field `field` in the definition of `ty`.
pub fn field_line<'a>(sdl: &'a str, keyword: &str, ty: &str, field: &str) -> &'a str {
    let def = definition(sdl, keyword, ty);
    def.lines()
        .find(|l| {
            let l = l.trim_start();
            l.starts_with(&format!("{field}:")) || l.starts_with(&format!("{field}("))
        })
        .unwrap_or_else(|| panic!("no field {field} in:\n{def}"))
}

/// Loads the supergraph and plans `query` on it, returning the plan's text.
pub fn plan(sdl: &str, query: &str) -> String {
    plan_with_labels(sdl, query, &[])
}

/// Like [`plan`], with progressive-override labels active.
pub fn plan_with_labels(sdl: &str, query: &str, labels: &[&str]) -> String {
    let sg = Supergraph::parse(sdl).unwrap_or_else(|e| panic!("{e}\n{sdl}"));
    let doc = apollo_compiler::ExecutableDocument::parse_and_validate(
        &sg.api_schema,
        query,
        "query.graphql",
    )
    .unwrap_or_else(|e| panic!("{}", e.errors));
    let op = doc.operations.get(None).unwrap();
    let labels: HashSet<String> = labels.iter().map(|l| (*l).to_owned()).collect();
    goliath_planner::plan(&sg, &doc, op, &labels)
        .unwrap_or_else(|e| panic!("planning failed: {e}"))
        .to_string()
}
