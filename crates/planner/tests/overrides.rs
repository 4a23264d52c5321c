//! `@override`, and progressive `@override` with labels.

mod common;

use common::*;

const OVERRIDES: &str = r#"
type Query @join__type(graph: A) @join__type(graph: B) {
  products: [Product] @join__field(graph: B)
  catalog: [Product] @join__field(graph: A)
  flag: Boolean @join__field(graph: A, override: "b", overrideLabel: "percent(10)") @join__field(graph: B, overrideLabel: "percent(10)")
}
type Product @join__type(graph: A, key: "id") @join__type(graph: B, key: "id") {
  id: ID!
  name: String @join__field(graph: B)
  price: Int @join__field(graph: A, override: "b") @join__field(graph: B, usedOverridden: true)
  stock: Int @join__field(graph: A, override: "b")
  rating: Int @join__field(graph: A, override: "b") @join__field(graph: B)
  weight: Int @join__field(graph: A, override: "b", overrideLabel: "percent(50)") @join__field(graph: B, overrideLabel: "percent(50)")
}
"#;

#[test]
fn an_overridden_field_goes_to_the_overriding_subgraph() {
    let sg = supergraph(&["a", "b"], OVERRIDES);
    // b still defines `price` (used overridden), but a took it over.
    let plan = plan(&sg, "{ products { name price stock } }");
    assert_eq!(shape(&plan), "Seq[Fetch(b), Flatten(products.@, Fetch(a))]");
    assert_fetches(
        &plan,
        &[
            ("b", "query {products {name __typename id}}"),
            ("a", &entities("{... on Product {price stock}}")),
        ],
    );
}

#[test]
fn an_overridden_field_is_not_taken_from_the_old_owner_even_if_listed() {
    let sg = supergraph(&["a", "b"], OVERRIDES);
    // b still has a plain @join__field for `rating`: the override wins.
    let plan = plan(&sg, "{ products { name rating } }");
    assert_fetches(
        &plan,
        &[
            ("b", "query {products {name __typename id}}"),
            ("a", &entities("{... on Product {rating}}")),
        ],
    );
}

#[test]
fn an_overriding_subgraph_resolves_the_field_itself() {
    let sg = supergraph(&["a", "b"], OVERRIDES);
    let plan = plan(&sg, "{ catalog { price stock } }");
    assert_fetches(&plan, &[("a", "query {catalog {price stock}}")]);
}

#[test]
fn progressive_override_follows_the_label() {
    let sg = supergraph(&["a", "b"], OVERRIDES);
    let query = "{ products { name weight } }";

    // Label off: the field stays in b, the subgraph it is taken from.
    let off = plan_with(&sg, query, &[]);
    assert_fetches(&off, &[("b", "query {products {name weight}}")]);

    // Label on: a has it.
    let on = plan_with(&sg, query, &["percent(50)"]);
    assert_eq!(shape(&on), "Seq[Fetch(b), Flatten(products.@, Fetch(a))]");
    assert_fetches(
        &on,
        &[
            ("b", "query {products {name __typename id}}"),
            ("a", &entities("{... on Product {weight}}")),
        ],
    );

    // Another label changes nothing.
    let other = plan_with(&sg, query, &["percent(10)"]);
    assert_eq!(fetch_list(&other), fetch_list(&off));

    // From a, the label decides whether a keeps the field or asks b.
    let on = plan_with(&sg, "{ catalog { weight } }", &["percent(50)"]);
    assert_fetches(&on, &[("a", "query {catalog {weight}}")]);
    let off = plan_with(&sg, "{ catalog { weight } }", &[]);
    assert_eq!(shape(&off), "Seq[Fetch(a), Flatten(catalog.@, Fetch(b))]");
    assert_eq!(
        only_fetch_to(&off, "b").operation,
        entities("{... on Product {weight}}")
    );
}

#[test]
fn progressive_override_of_a_root_field() {
    let sg = supergraph(&["a", "b"], OVERRIDES);
    let off = plan_with(&sg, "{ flag }", &[]);
    assert_fetches(&off, &[("b", "query {flag}")]);
    let on = plan_with(&sg, "{ flag }", &["percent(10)", "percent(50)"]);
    assert_fetches(&on, &[("a", "query {flag}")]);
}

/// A field both subgraphs resolve (a migration's old and new owner).
const MIGRATING: &str = r#"
type Query @join__type(graph: A) @join__type(graph: B) {
  products: [Product] @join__field(graph: A)
}
type Product @join__type(graph: A, key: "id") @join__type(graph: B, key: "id") {
  id: ID!
  name: String @join__field(graph: A)
  score: Int @join__field(graph: A) @join__field(graph: B)
}
"#;

#[test]
fn a_pin_routes_the_clients_field_to_one_subgraph() {
    let sg = supergraph(&["a", "b"], MIGRATING);
    let old = plan_with(&sg, "{ products { name score } }", &["Product.score=a"]);
    assert_fetches(&old, &[("a", "query {products {name score}}")]);
    let new = plan_with(&sg, "{ products { name score } }", &["Product.score=b"]);
    assert_fetches(
        &new,
        &[
            ("a", "query {products {name __typename id}}"),
            ("b", &entities("{... on Product {score}}")),
        ],
    );
    // A pin names a coordinate: other fields and labels are untouched.
    let other = plan_with(&sg, "{ products { name } }", &["Product.score=b"]);
    assert_fetches(&other, &[("a", "query {products {name}}")]);
}
