//! The cost rules, on the shop's supergraph (`demand_control/shop.rs`):
//! estimates before planning, with the default list size 10 unless said.

#[path = "demand_control/shop.rs"]
mod shop;

use apollo_compiler::ExecutableDocument;
use goliath_router::demand_control::estimate;
use goliath_supergraph::Supergraph;
use serde_json::{json, Map, Value};

fn supergraph() -> Supergraph {
    Supergraph::parse(&shop::supergraph("http://shop.invalid/graphql")).unwrap()
}

/// The estimate of `query` with `variables` and a default list size of 10,
/// and the `requireOneSlicingArgument` violations found.
fn estimated_with(query: &str, variables: Value) -> (f64, Vec<String>) {
    let sg = supergraph();
    let doc = ExecutableDocument::parse_and_validate(&sg.api_schema, query, "q.graphql")
        .unwrap_or_else(|e| panic!("{}", e.errors));
    let op = doc.operations.get(None).unwrap();
    let variables: Map<String, Value> = match variables {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let e = estimate(&sg, &doc, op, &variables, 10.0);
    (e.cost, e.violations)
}

fn cost(query: &str) -> f64 {
    let (cost, violations) = estimated_with(query, json!({}));
    assert!(violations.is_empty(), "{violations:?}");
    cost
}

#[test]
fn weights_of_fields_types_and_leaves() {
    // A leaf costs nothing unless weighted; @cost on the field.
    assert_eq!(cost("{ rating }"), 5.0);
    // A list of leaves: 10 × 0.
    assert_eq!(cost("{ tags }"), 0.0);
    // An enum weighted by its type: 10 × 4.
    assert_eq!(cost("{ genres }"), 40.0);
    // `__typename` is free.
    assert_eq!(cost("{ __typename rating }"), 5.0);
}

#[test]
fn list_sizes_from_slicing_arguments_literals_variables_and_defaults() {
    // Product weighs 2 (its type's @cost), name 1 (its own).
    assert_eq!(cost("{ products(first: 3) { id } }"), 3.0 * 2.0);
    assert_eq!(
        cost("{ products { id name } }"),
        5.0 * 3.0,
        "default first: 5"
    );
    let (c, _) = estimated_with(
        "query($n: Int) { products(first: $n) { name } }",
        json!({"n": 7}),
    );
    assert_eq!(c, 7.0 * 3.0);
    // assumedSize, and the default list size for lists @listSize ignores.
    assert_eq!(
        cost("{ products(first: 1) { reviews { stars } } }"),
        2.0 + 4.0 * 1.0
    );
}

#[test]
fn nested_lists_multiply() {
    // 2 products × (2 + 4 reviews × 1).
    assert_eq!(
        cost("{ products(first: 2) { id reviews { stars } } }"),
        2.0 * (2.0 + 4.0)
    );
}

#[test]
fn sized_fields_take_the_slicing_size() {
    // page is not a list: 1 × (1 + items 6 × 2).
    assert_eq!(
        cost("{ page(first: 6) { total items { id } } }"),
        1.0 + 12.0
    );
    // requireOneSlicingArgument (true by default): none or two are reported.
    let (c, violations) = estimated_with("{ page { items { id } } }", json!({}));
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].contains("Exactly one slicing argument is required, but found 0"));
    assert_eq!(c, 1.0 + 10.0 * 2.0, "no size: the default list size");
    let (c, violations) = estimated_with("{ page(first: 2, last: 8) { items { id } } }", json!({}));
    assert!(violations[0].contains("found 2"), "{violations:?}");
    assert_eq!(c, 1.0 + 8.0 * 2.0, "the largest slicing argument");
}

#[test]
fn abstract_types_count_their_most_expensive_runtime_type() {
    // search: 2 × (max(Book 3, Movie 7) + max(Book: author 1, Movie: director 1 + 3 cast × 1)).
    let q = "{ search { ... on Book { title author { name } } ... on Movie { director { name } cast { name } } } }";
    assert_eq!(cost(q), 2.0 * (7.0 + 4.0));
    // Named fragments, spread twice, count at each spread.
    let q = "{ search { ...B ...M } products(first: 1) { ...P ...P } }
             fragment B on Book { author { name } }
             fragment M on Movie { cast { name } }
             fragment P on Product { name }";
    assert_eq!(cost(q), 2.0 * (7.0 + 3.0) + (2.0 + 1.0 + 1.0));
    // A fragment on the object type itself applies.
    assert_eq!(
        cost("{ products(first: 1) { ... on Product { name } } }"),
        3.0
    );
}

#[test]
fn arguments_and_input_objects() {
    // rating 5 + an input object (1) with min (2) and max (0).
    assert_eq!(
        cost("{ rating(filter: {min: 1, max: 2}) }"),
        5.0 + 1.0 + 2.0
    );
    let (c, _) = estimated_with(
        "query($f: Filter) { rating(filter: $f) }",
        json!({"f": {"min": 1}}),
    );
    assert_eq!(c, 5.0 + 1.0 + 2.0);
    // null and lists of unweighted scalars cost nothing.
    assert_eq!(cost("{ rating(filter: null, ids: [\"a\", \"b\"]) }"), 5.0);
}

#[test]
fn mutations_add_ten() {
    // 10 + the argument's weight (3).
    assert_eq!(cost("mutation { addTag(name: \"x\") }"), 13.0);
}

#[test]
fn skip_and_include() {
    assert_eq!(cost("{ rating @skip(if: true) }"), 0.0);
    assert_eq!(cost("{ rating @include(if: false) tags }"), 0.0);
    let (c, _) = estimated_with(
        "query($yes: Boolean!) { rating ... @include(if: $yes) { products(first: 2) { id } } }",
        json!({"yes": false}),
    );
    assert_eq!(c, 5.0);
}

#[test]
fn the_default_list_size_applies_where_nothing_else_does() {
    let sg = supergraph();
    let doc =
        ExecutableDocument::parse_and_validate(&sg.api_schema, "{ genres }", "q.graphql").unwrap();
    let op = doc.operations.get(None).unwrap();
    assert_eq!(estimate(&sg, &doc, op, &Map::new(), 3.0).cost, 12.0);
}

#[test]
fn fragments_are_walked_at_each_spread_within_the_selection_limit() {
    // 2^15 spreads of `rating` (the default max_recursive_selections,
    // 100,000, lets it through): each one counts, as in Apollo Router.
    let mut q = String::from("{ ...F15 }\nfragment F0 on Query { rating }\n");
    for i in 1..=15 {
        q.push_str(&format!(
            "fragment F{i} on Query {{ ...F{} ...F{} }}\n",
            i - 1,
            i - 1
        ));
    }
    let started = std::time::Instant::now();
    assert_eq!(cost(&q), 5.0 * 32768.0);
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
}
