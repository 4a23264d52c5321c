//! Regression tests for planner bugs found while writing the test suite
//! (all fixed). Each test states the behaviour expected.

mod common;

use common::*;

/// A client alias that equals the response key of a field the planner adds
/// (a key or a required field) ends up holding the planner's field.
///
/// `{ products { id: name reviews { body } } }` is planned as
/// `query {products {id:name __typename _goliath_alias_1_id:id}}` with
/// `has_aliases`: the executor turns `_goliath_alias_1_id` back into `id`,
/// and merging it overwrites the client's `id` (the product's *name*) with
/// the product's id. Conflict aliases are only sound for two selections of
/// the same field; the planner's own key/required fields need a key of
/// their own when the client's response key is taken by another field.
#[test]
fn a_client_alias_never_shares_a_response_key_with_a_key_field() {
    let sg = shop();
    let plan = plan(&sg, "{ products { id: name reviews { body } } }");
    assert_response_keys_unambiguous(&plan);
}

/// Same bug, with a `@requires` field: the client's `price` (the product's
/// name) is overwritten by the required price.
#[test]
fn a_client_alias_never_shares_a_response_key_with_a_required_field() {
    let sg = shop();
    let plan = plan(&sg, "{ products { price: name shippingEstimate } }");
    assert_response_keys_unambiguous(&plan);
}

/// A subgraph that extends an entity with an `@external` key field (a
/// Federation 1 style extension) puts that key in the representations it
/// hands out, but clients do not get an external field from it: the client's
/// `id` comes from the owner, entered with the key b supplies. (This once
/// failed to plan: "keys never lead to themselves" also refused a key the
/// current subgraph can supply.)
#[test]
fn an_external_key_field_can_be_selected_where_it_is_external() {
    let sg = supergraph(
        &["a", "b"],
        r#"
type Query @join__type(graph: A) @join__type(graph: B) {
  products: [Product] @join__field(graph: A)
  topProducts: [Product] @join__field(graph: B)
}
type Product @join__type(graph: A, key: "id") @join__type(graph: B, key: "id", extension: true) {
  id: ID! @join__field(graph: A) @join__field(graph: B, external: true)
  name: String @join__field(graph: A)
  reviews: [String] @join__field(graph: B)
}
"#,
    );
    for query in [
        "{ topProducts { id } }",
        "{ topProducts { id name reviews } }",
    ] {
        let plan = match try_plan(&sg, query) {
            Ok(plan) => plan,
            Err(e) => panic!("{query}: {e}"),
        };
        assert_eq!(services(&plan)[0], "b", "{plan}");
        assert!(fetches(&plan).len() <= 2, "{plan}");
    }
}

/// Subgraph operations are meant to be compact, one line each
/// (`selection::write_selections`), but object and list argument values
/// are written with apollo-compiler's multi-line layout, which also breaks
/// the indentation of the plan's text form. The operation stays valid
/// GraphQL, so this is cosmetic.
#[test]
fn subgraph_operations_are_one_line() {
    let sg = supergraph(
        &["a"],
        r#"
type Query @join__type(graph: A) { search(filter: Filter): [String] @join__field(graph: A) }
input Filter @join__type(graph: A) { term: String tags: [String] }
"#,
    );
    let plan = plan(&sg, r#"{ search(filter: {term: "x", tags: ["a", "b"]}) }"#);
    let op = &only_fetch_to(&plan, "a").operation;
    assert!(!op.contains('\n'), "{op}");
    assert_eq!(
        op,
        r#"query {search(filter: {term: "x", tags: ["a", "b"]})}"#
    );
}
