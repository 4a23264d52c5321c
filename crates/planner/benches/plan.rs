//! Planning the gateway benchmark's query (`bench/query.json`) over its
//! supergraph (`bench/supergraph.graphql`).
//!
//! - `parse_validate`: the client document parsed and validated against the
//!   API schema (the router caches this per document text).
//! - `plan_cold`: `goliath_planner::plan` from scratch, every iteration.
//! - `plan_cached`: what a plan-cache hit costs in the router's pipeline: the
//!   key built from the request (query text, operation name, labels) and a
//!   map lookup returning the shared plan. The router's cache is a `moka`
//!   cache; a `HashMap` stands in for it here, so this is a lower bound.
//!
//! Run: `cargo bench -p goliath-planner --bench plan` (add `-- --quick` for a
//! short run).

use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::sync::Arc;

use apollo_compiler::ExecutableDocument;
use criterion::{criterion_group, criterion_main, Criterion};
use goliath_planner::QueryPlan;
use goliath_supergraph::Supergraph;

const SUPERGRAPH: &str = include_str!("../../../bench/supergraph.graphql");
const QUERY_JSON: &str = include_str!("../../../bench/query.json");

fn workload_query() -> String {
    let body: serde_json::Value =
        serde_json::from_str(QUERY_JSON).expect("bench/query.json is JSON");
    body["query"]
        .as_str()
        .expect("bench/query.json has a `query` string")
        .to_owned()
}

type PlanKey = (String, Option<String>, Vec<String>);

fn benches(c: &mut Criterion) {
    let supergraph = Supergraph::parse(SUPERGRAPH).expect("the bench supergraph loads");
    let query = workload_query();
    let parse = || {
        ExecutableDocument::parse_and_validate(
            &supergraph.api_schema,
            query.as_str(),
            "query.graphql",
        )
        .expect("the workload query validates")
    };
    let doc = parse();
    let operation = doc
        .operations
        .get(None)
        .expect("the workload query has one operation");
    let labels = HashSet::new();

    let mut group = c.benchmark_group("workload");

    group.bench_function("parse_validate", |b| b.iter(|| black_box(parse())));

    group.bench_function("plan_cold", |b| {
        b.iter(|| {
            goliath_planner::plan(
                black_box(&supergraph),
                black_box(&doc),
                black_box(operation),
                &labels,
            )
            .expect("the workload query plans")
        })
    });

    let plan =
        Arc::new(goliath_planner::plan(&supergraph, &doc, operation, &labels).expect("plans"));
    let mut cache: HashMap<PlanKey, Arc<QueryPlan>> = HashMap::new();
    cache.insert((query.clone(), None, vec![]), plan);
    group.bench_function("plan_cached", |b| {
        b.iter(|| {
            let key: PlanKey = (black_box(query.as_str()).to_owned(), None, vec![]);
            cache.get(&key).cloned().expect("a cache hit")
        })
    });

    group.finish();
}

criterion_group!(plan, benches);
criterion_main!(plan);
