//! The executor's hot data paths on the gateway benchmark's workload
//! (`bench/query.json` over `bench/supergraph.graphql`), without HTTP.
//!
//! Setup plans the workload query, then plays the plan against an in-memory
//! model of the benchmark's subgraphs (same records, same text lengths): each
//! fetch's subgraph operation is answered as the subgraph would answer it,
//! serialised to JSON bytes, and merged with the executor's public functions,
//! as `fetch.rs` does. The largest answer is the `_entities` response of the
//! fetch at `users.@` (reviews); the benches time, for that fetch:
//!
//! - `parse`: its JSON bytes into the executor's borrowed tree
//!   (`value::Val::parse`, what every answer goes through);
//! - `prepare`: building its request: the deduplicated representations at
//!   the fetch's paths, written into the body (`fetch::prepare`);
//! - `apply`: parsing its answer and merging the `_entities` into the
//!   response tree (`fetch::apply`), on a copy of the tree as it was before;
//!
//! and for the whole response:
//!
//! - `all_fetches`: preparing every fetch and applying its answer, in plan
//!   order;
//! - `project`: the client's `data` (~87 KB of JSON) written out of the
//!   merged tree (`project::Projection::write_root`, as the router does).
//!
//! and `cold/*`: preparing every fetch, and projecting, over 256 copies of
//! the merged tree in turn, so each walk starts with cold caches as in a
//! loaded gateway.
//!
//! Run: `cargo bench -p goliath-executor --bench merge` (add `-- --quick` for
//! a short run).

use std::collections::HashMap;
use std::hint::black_box;

use apollo_compiler::ast::{self, Definition, Document};
use apollo_compiler::ExecutableDocument;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use goliath_executor::fetch::{apply, prepare};
use goliath_executor::project::Projection;
use goliath_executor::value::{Alloc, Buffers, Val};
use goliath_executor::{State, SubgraphEndpoint};
use goliath_planner::plan::path_string;
use goliath_planner::{FetchNode, PathElement, PlanNode};
use goliath_supergraph::Supergraph;
use serde_json::{json, Map, Value};

/// The allocator the gateway binary uses, so allocation costs are as in
/// production.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SUPERGRAPH: &str = include_str!("../../../bench/supergraph.graphql");
const QUERY_JSON: &str = include_str!("../../../bench/query.json");

// ------------------------------------------------------------------ the data

/// (id, name, username)
const USERS: [(&str, &str, &str); 6] = [
    ("1", "Uri Goldshtein", "urigo"),
    ("2", "Dotan Simha", "dotansimha"),
    ("3", "Kamil Kisiela", "kamilkisiela"),
    ("4", "Arda Tanrikulu", "ardatan"),
    ("5", "Gil Gardosh", "gilgardosh"),
    ("6", "Laurin Quast", "laurin"),
];
const BIRTHDAY: i64 = 1_234_567_890;

/// (upc, name, price, weight, inStock)
const PRODUCTS: [(&str, &str, i64, i64, bool); 9] = [
    ("1", "Table", 899, 100, true),
    ("2", "Couch", 1299, 1000, false),
    ("3", "Glass", 15, 20, false),
    ("4", "Chair", 499, 100, false),
    ("5", "TV", 1299, 1000, true),
    ("6", "Lamp", 6999, 300, true),
    ("7", "Grill", 3999, 2000, true),
    ("8", "Fridge", 100_000, 6000, false),
    ("9", "Sofa", 9999, 800, true),
];

/// (id, length of the body text, upc of the product)
const REVIEWS: [(&str, usize, &str); 11] = [
    ("1", 445, "1"),
    ("2", 289, "1"),
    ("3", 275, "1"),
    ("4", 143, "1"),
    ("5", 445, "2"),
    ("6", 289, "2"),
    ("7", 275, "2"),
    ("8", 143, "2"),
    ("9", 143, "3"),
    ("10", 143, "4"),
    ("11", 844, "4"),
];

/// Lorem-ipsum-like text of `len` bytes.
fn body(len: usize) -> String {
    const WORDS: &str = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua ";
    WORDS.chars().cycle().take(len).collect()
}

/// An object of the workload's graph.
#[derive(Clone, Copy)]
enum Obj {
    Query,
    User(usize),
    Product(usize),
    Review(usize),
}

enum Out {
    Leaf(Value),
    One(Obj),
    Many(Vec<Obj>),
}

impl Obj {
    fn typename(self) -> &'static str {
        match self {
            Obj::Query => "Query",
            Obj::User(_) => "User",
            Obj::Product(_) => "Product",
            Obj::Review(_) => "Review",
        }
    }

    /// The object a representation stands for.
    fn from_representation(rep: &Value) -> Obj {
        let key = |k: &str| rep[k].as_str().unwrap_or_default().to_owned();
        match rep["__typename"].as_str() {
            Some("User") => Obj::User(USERS.iter().position(|u| u.0 == key("id")).expect("a user")),
            Some("Product") => Obj::Product(
                PRODUCTS
                    .iter()
                    .position(|p| p.0 == key("upc"))
                    .expect("a product"),
            ),
            Some("Review") => Obj::Review(
                REVIEWS
                    .iter()
                    .position(|r| r.0 == key("id"))
                    .expect("a review"),
            ),
            other => panic!("unexpected representation type {other:?}"),
        }
    }

    /// Resolves `field` as the benchmark's subgraphs do.
    fn field(self, field: &str) -> Out {
        let leaf = |v: Value| Out::Leaf(v);
        match (self, field) {
            (_, "__typename") => leaf(json!(self.typename())),
            (Obj::Query, "users") => Out::Many((0..USERS.len()).map(Obj::User).collect()),
            (Obj::Query, "topProducts") => Out::Many((0..5).map(Obj::Product).collect()),
            (Obj::Query, "me") => Out::One(Obj::User(0)),
            (Obj::User(i), "id") => leaf(json!(USERS[i].0)),
            (Obj::User(i), "name") => leaf(json!(USERS[i].1)),
            (Obj::User(i), "username") => leaf(json!(USERS[i].2)),
            (Obj::User(_), "birthday") => leaf(json!(BIRTHDAY)),
            // Every user has written the first two reviews.
            (Obj::User(_), "reviews") => Out::Many(vec![Obj::Review(0), Obj::Review(1)]),
            (Obj::Product(i), "upc") => leaf(json!(PRODUCTS[i].0)),
            (Obj::Product(i), "name") => leaf(json!(PRODUCTS[i].1)),
            (Obj::Product(i), "price") => leaf(json!(PRODUCTS[i].2)),
            (Obj::Product(i), "weight") => leaf(json!(PRODUCTS[i].3)),
            (Obj::Product(i), "inStock") => leaf(json!(PRODUCTS[i].4)),
            // The workload's inventory subgraph answers null here.
            (Obj::Product(_), "shippingEstimate") => leaf(Value::Null),
            (Obj::Product(i), "reviews") => Out::Many(
                (0..REVIEWS.len())
                    .filter(|&r| REVIEWS[r].2 == PRODUCTS[i].0)
                    .map(Obj::Review)
                    .collect(),
            ),
            (Obj::Review(i), "id") => leaf(json!(REVIEWS[i].0)),
            (Obj::Review(i), "body") => leaf(json!(body(REVIEWS[i].1))),
            (Obj::Review(i), "product") => Out::One(Obj::Product(
                PRODUCTS
                    .iter()
                    .position(|p| p.0 == REVIEWS[i].2)
                    .expect("a product"),
            )),
            // The workload's author is always user 1.
            (Obj::Review(_), "author") => Out::One(Obj::User(0)),
            (o, f) => panic!("no field {}.{f} in the model", o.typename()),
        }
    }
}

/// Executes `selections` (an AST selection set; fragments from `fragments`)
/// on `obj`, into `out`.
fn resolve(
    obj: Obj,
    selections: &[ast::Selection],
    fragments: &HashMap<String, Vec<ast::Selection>>,
    out: &mut Map<String, Value>,
) {
    for sel in selections {
        match sel {
            ast::Selection::Field(f) => {
                let key = f.alias.as_ref().unwrap_or(&f.name).to_string();
                let value = match obj.field(&f.name) {
                    Out::Leaf(v) => v,
                    Out::One(o) => object(o, &f.selection_set, fragments),
                    Out::Many(os) => Value::Array(
                        os.into_iter()
                            .map(|o| object(o, &f.selection_set, fragments))
                            .collect(),
                    ),
                };
                match out.get_mut(&key) {
                    Some(existing) => json_merge(existing, value),
                    None => {
                        out.insert(key, value);
                    }
                }
            }
            ast::Selection::InlineFragment(fr) => {
                let applies = fr
                    .type_condition
                    .as_ref()
                    .is_none_or(|t| t.as_str() == obj.typename());
                if applies {
                    resolve(obj, &fr.selection_set, fragments, out);
                }
            }
            ast::Selection::FragmentSpread(sp) => {
                let set = &fragments[sp.fragment_name.as_str()];
                resolve(obj, set, fragments, out);
            }
        }
    }
}

fn object(
    obj: Obj,
    selections: &[ast::Selection],
    fragments: &HashMap<String, Vec<ast::Selection>>,
) -> Value {
    let mut out = Map::new();
    resolve(obj, selections, fragments, &mut out);
    Value::Object(out)
}

/// The root selection set and fragment definitions of a GraphQL document.
fn operation_of(text: &str) -> (Vec<ast::Selection>, HashMap<String, Vec<ast::Selection>>) {
    let doc = Document::parse(text, "op.graphql").expect("a fetch operation parses");
    let mut root = None;
    let mut fragments = HashMap::new();
    for def in &doc.definitions {
        match def {
            Definition::OperationDefinition(op) => root = Some(op.selection_set.clone()),
            Definition::FragmentDefinition(fr) => {
                fragments.insert(fr.name.to_string(), fr.selection_set.clone());
            }
            _ => {}
        }
    }
    (root.expect("an operation"), fragments)
}

/// Merges two model answers (the same object selected twice).
fn json_merge(target: &mut Value, src: Value) {
    match (target, src) {
        (Value::Object(t), Value::Object(s)) => {
            for (k, v) in s {
                match t.get_mut(&k) {
                    Some(existing) => json_merge(existing, v),
                    None => {
                        t.insert(k, v);
                    }
                }
            }
        }
        (Value::Array(t), Value::Array(s)) if t.len() == s.len() => {
            for (a, b) in t.iter_mut().zip(s) {
                json_merge(a, b);
            }
        }
        (t, s) => *t = s,
    }
}

// ------------------------------------------------------------------ playing the plan

/// One fetch of the plan, answered.
struct Answered {
    fetch: FetchNode,
    /// The paths the fetch serves (one, or several for a merged fetch).
    path: Vec<Vec<PathElement>>,
    /// The subgraph's answer as JSON bytes.
    response: Vec<u8>,
}

impl Answered {
    fn paths(&self) -> Vec<&[PathElement]> {
        self.path.iter().map(Vec::as_slice).collect()
    }
}

fn fetches_in_order(
    node: &PlanNode,
    path: &[Vec<PathElement>],
    out: &mut Vec<(FetchNode, Vec<Vec<PathElement>>)>,
) {
    match node {
        PlanNode::Sequence(children) | PlanNode::Parallel(children) => {
            for c in children {
                fetches_in_order(c, path, out);
            }
        }
        PlanNode::Fetch(f) => out.push(((**f).clone(), path.to_vec())),
        PlanNode::Flatten(fl) => {
            let mut paths = vec![fl.path.clone()];
            paths.extend(fl.also.iter().cloned());
            fetches_in_order(&fl.node, &paths, out)
        }
        PlanNode::Condition(c) => fetches_in_order(&c.node, path, out),
    }
}

fn no_subtypes(_: &str, _: &str) -> bool {
    false
}

fn endpoint() -> SubgraphEndpoint {
    SubgraphEndpoint {
        name: "bench".into(),
        url: String::new(),
        timeout: std::time::Duration::from_secs(1),
        include_errors: true,
        max_response_bytes: 1 << 20,
        tls: None,
        foreign_types: None,
    }
}

/// Prepares and applies `answered`, in order, onto `st`, as the executor
/// does with each fetch.
fn replay<'a>(st: &mut State<'a>, alloc: &mut Alloc<'a>, answered: &'a [Answered]) {
    let variables = Map::new();
    let endpoint = endpoint();
    for a in answered {
        let paths = a.paths();
        if let Some(request) = prepare(
            &st.data,
            alloc,
            &a.fetch,
            &paths,
            &variables,
            &no_subtypes,
            None,
        ) {
            apply(
                st,
                alloc,
                &endpoint,
                &a.fetch,
                &no_subtypes,
                &request.targets,
                &a.response,
            );
        }
    }
    assert!(st.errors.is_empty(), "errors: {:?}", st.errors);
}

fn empty_state<'a>() -> State<'a> {
    State {
        data: Val::Obj(Default::default()),
        errors: vec![],
        cache_control: Default::default(),
    }
}

/// Plays every fetch of the plan against the model; returns the answers.
fn play(fetches: &[(FetchNode, Vec<Vec<PathElement>>)]) -> Vec<Answered> {
    let mut answered: Vec<Answered> = vec![];
    let variables = Map::new();
    for (fetch, path) in fetches {
        let (root, fragments) = operation_of(&fetch.operation);
        let response = {
            let buffers = Buffers::new();
            let mut alloc = buffers.alloc();
            let mut st = empty_state();
            replay(&mut st, &mut alloc, &answered);
            let paths: Vec<&[PathElement]> = path.iter().map(Vec::as_slice).collect();
            let request = prepare(
                &st.data,
                &mut alloc,
                fetch,
                &paths,
                &variables,
                &no_subtypes,
                None,
            )
            .expect("every fetch of the workload sends something");
            let body: Value = serde_json::from_slice(&request.body).expect("the body is JSON");
            if fetch.is_entity_fetch() {
                let entities_field = root
                    .iter()
                    .find_map(|s| match s {
                        ast::Selection::Field(f) if f.name == "_entities" => {
                            Some(f.selection_set.clone())
                        }
                        _ => None,
                    })
                    .expect("an entity fetch selects _entities");
                let reps = body["variables"]["representations"]
                    .as_array()
                    .expect("representations")
                    .clone();
                let entities: Vec<Value> = reps
                    .iter()
                    .map(|rep| object(Obj::from_representation(rep), &entities_field, &fragments))
                    .collect();
                json!({"data": {"_entities": entities}})
            } else {
                json!({"data": object(Obj::Query, &root, &fragments)})
            }
        };
        answered.push(Answered {
            fetch: fetch.clone(),
            path: path.clone(),
            response: serde_json::to_vec(&response).expect("serialises"),
        });
    }
    answered
}

fn path_text(paths: &[Vec<PathElement>]) -> String {
    paths
        .iter()
        .map(|p| path_string(p))
        .collect::<Vec<_>>()
        .join("|")
}

// ------------------------------------------------------------------ benches

fn benches(c: &mut Criterion) {
    let supergraph = Supergraph::parse(SUPERGRAPH).expect("the bench supergraph loads");
    let body: Value = serde_json::from_str(QUERY_JSON).expect("bench/query.json is JSON");
    let query = body["query"].as_str().expect("a query string");
    let doc =
        ExecutableDocument::parse_and_validate(&supergraph.api_schema, query, "query.graphql")
            .expect("the workload query validates");
    let operation = doc.operations.get(None).expect("one operation");
    let plan = goliath_planner::plan(&supergraph, &doc, operation, &Default::default())
        .expect("the workload query plans");
    let mut fetches = vec![];
    if let Some(root) = &plan.root {
        fetches_in_order(root, &[vec![]], &mut fetches);
    }
    let answered = play(&fetches);
    for a in &answered {
        eprintln!(
            "fetch {:<9} at {:<42} answer {:>6} bytes",
            a.fetch.service,
            if a.path.iter().all(Vec::is_empty) {
                "(root)".to_owned()
            } else {
                path_text(&a.path)
            },
            a.response.len()
        );
    }
    let merged_buffers = Buffers::new();
    let mut merged = empty_state();
    replay(&mut merged, &mut merged_buffers.alloc(), &answered);

    let project = |data: &Val<'_>| {
        let mut errors = vec![];
        let variables = Map::new();
        let mut projection = Projection {
            denied: None,
            schema: &supergraph.api_schema,
            doc: &doc,
            variables: &variables,
            errors: &mut errors,
        };
        let mut out = Vec::with_capacity(128 * 1024);
        projection.write_root("Query", &operation.selection_set, data, &[], &mut out);
        assert!(errors.is_empty(), "projection errors: {errors:?}");
        out
    };
    let data_bytes = project(&merged.data);
    let response: Value = serde_json::from_slice(&data_bytes).expect("projection writes JSON");
    assert!(response.is_object(), "the workload's data is not null");
    eprintln!("client response data {} bytes", data_bytes.len());

    // The fetch the benches focus on: the largest _entities answer.
    let big_at = (0..answered.len())
        .filter(|&i| answered[i].fetch.is_entity_fetch())
        .max_by_key(|&i| answered[i].response.len())
        .expect("the plan has entity fetches");
    let big = &answered[big_at];
    let before_buffers = Buffers::new();
    let mut before = empty_state();
    replay(
        &mut before,
        &mut before_buffers.alloc(),
        &answered[..big_at],
    );
    let big_paths = big.paths();
    let variables = Map::new();
    let endpoint = endpoint();
    let request = prepare(
        &before.data,
        &mut before_buffers.alloc(),
        &big.fetch,
        &big_paths,
        &variables,
        &no_subtypes,
        None,
    )
    .expect("the fetch sends representations");
    eprintln!(
        "largest _entities answer: {} at {}, {} bytes, request {} bytes",
        big.fetch.service,
        path_text(&big.path),
        big.response.len(),
        request.body.len(),
    );

    let mut g = c.benchmark_group("entities");
    g.throughput(Throughput::Bytes(big.response.len() as u64));
    // Each iteration takes a request's arena (from the thread's pool) and
    // gives it back, as a request does.
    g.bench_function("parse", |b| {
        b.iter(|| {
            let buffers = Buffers::new();
            let v = Val::parse(black_box(&big.response), &mut buffers.alloc()).expect("parses");
            v.as_obj().map(|o| o.len())
        })
    });
    g.bench_function("prepare", |b| {
        b.iter(|| {
            let buffers = Buffers::new();
            let mut alloc = buffers.alloc();
            let request = prepare(
                black_box(&before.data),
                &mut alloc,
                &big.fetch,
                &big_paths,
                &variables,
                &no_subtypes,
                None,
            );
            request.map(|r| r.body.len())
        })
    });
    // Includes copying the tree as it was before the fetch (`copy_tree`
    // alone is timed next).
    g.bench_function("apply", |b| {
        b.iter(|| {
            let buffers = Buffers::new();
            let mut alloc = buffers.alloc();
            let mut st = State {
                data: before.data.clone_in(&mut alloc),
                errors: vec![],
                cache_control: Default::default(),
            };
            apply(
                &mut st,
                &mut alloc,
                &endpoint,
                &big.fetch,
                &no_subtypes,
                &request.targets,
                &big.response,
            );
            st.errors.len()
        })
    });
    g.bench_function("copy_tree", |b| {
        b.iter(|| {
            let buffers = Buffers::new();
            let copy = before.data.clone_in(&mut buffers.alloc());
            copy.as_obj().map(|o| o.len())
        })
    });
    g.finish();

    let mut g = c.benchmark_group("response");
    g.throughput(Throughput::Bytes(data_bytes.len() as u64));
    g.bench_function("all_fetches", |b| {
        b.iter(|| {
            let buffers = Buffers::new();
            let mut st = empty_state();
            replay(&mut st, &mut buffers.alloc(), &answered);
            st.errors.len()
        })
    });
    g.bench_function("project", |b| b.iter(|| project(black_box(&merged.data))));
    g.finish();

    // The same work over many response trees in turn, as a gateway serving
    // many requests at once sees it: each tree is cold in the CPU's caches
    // when it is walked, and the walks are bound by memory latency.
    let arenas: Vec<Buffers> = (0..COLD_COPIES).map(|_| Buffers::new()).collect();
    let copies: Vec<State<'_>> = arenas
        .iter()
        .map(|buffers| {
            let mut st = empty_state();
            replay(&mut st, &mut buffers.alloc(), &answered);
            st
        })
        .collect();
    let (total, used) = arenas[0].arena_bytes();
    eprintln!("arena per tree: {used} bytes used of {total}");
    let mut g = c.benchmark_group("cold");
    g.throughput(Throughput::Bytes(data_bytes.len() as u64));
    let mut next = 0usize;
    g.bench_function("prepare_every_fetch", |b| {
        b.iter(|| {
            next = (next + 1) % COLD_COPIES;
            let data = &copies[next].data;
            let buffers = Buffers::new();
            let mut alloc = buffers.alloc();
            answered
                .iter()
                .filter_map(|a| {
                    let paths = a.paths();
                    prepare(
                        data,
                        &mut alloc,
                        &a.fetch,
                        &paths,
                        &variables,
                        &no_subtypes,
                        None,
                    )
                    .map(|r| r.body.len())
                })
                .sum::<usize>()
        })
    });
    g.bench_function("project", |b| {
        b.iter(|| {
            next = (next + 1) % COLD_COPIES;
            project(&copies[next].data)
        })
    });
    g.finish();
}

/// How many response trees the `cold` benches cycle through (about 100 KB
/// of tree each: together far more than the CPU's caches).
const COLD_COPIES: usize = 256;

criterion_group!(merge, benches);
criterion_main!(merge);
