//! Variables, mutations, `@skip`/`@include`, and planning errors.

mod common;

use apollo_compiler::ast::OperationType;
use common::*;

fn usages(f: &goliath_planner::FetchNode) -> Vec<String> {
    f.variable_usages.iter().map(|v| v.to_string()).collect()
}

#[test]
fn each_fetch_declares_only_the_variables_it_uses_with_their_defaults() {
    let sg = shop();
    let plan = plan(
        &sg,
        "query Q($n: Int = 3, $x: ID!) { topReviews(first: $n) { body } product(id: $x) { name } }",
    );
    assert_eq!(shape(&plan), "Par[Fetch(reviews), Fetch(products)]");
    assert_fetches(
        &plan,
        &[
            (
                "reviews",
                "query Q__reviews__0($n: Int = 3) {topReviews(first: $n) {body}}",
            ),
            (
                "products",
                "query Q__products__1($x: ID!) {product(id: $x) {name}}",
            ),
        ],
    );
    assert_eq!(usages(fetches(&plan)[0]), ["n"]);
    assert_eq!(usages(fetches(&plan)[1]), ["x"]);
}

#[test]
fn an_entity_fetch_declares_the_variables_of_its_fields() {
    let sg = shop();
    let plan = plan(
        &sg,
        "query($x: ID!, $n: Int = 2) { product(id: $x) { name reviews(first: $n) { body } } }",
    );
    assert_fetches(
        &plan,
        &[
            ("products", "query($x: ID!) {product(id: $x) {name __typename id}}"),
            (
                "reviews",
                "query($representations: [_Any!]!, $n: Int = 2) {_entities(representations: $representations) {... on Product {reviews(first: $n) {body}}}}",
            ),
        ],
    );
    assert_eq!(usages(fetches(&plan)[0]), ["x"]);
    assert_eq!(usages(fetches(&plan)[1]), ["n"]);
}

#[test]
fn variables_inside_list_and_object_arguments_are_declared() {
    let sg = supergraph(
        &["a"],
        r#"
type Query @join__type(graph: A) { search(filter: Filter): [String] @join__field(graph: A) }
input Filter @join__type(graph: A) { term: String tags: [String] }
"#,
    );
    let plan = plan(
        &sg,
        "query($t: String, $x: String) { search(filter: {term: $t, tags: [\"a\", $x]}) }",
    );
    let f = only_fetch_to(&plan, "a");
    assert!(
        f.operation
            .starts_with("query($t: String, $x: String) {search(filter: {"),
        "{}",
        f.operation
    );
    assert_eq!(usages(f), ["t", "x"]);
}

#[test]
fn mutation_root_fields_are_grouped_only_while_consecutive() {
    let sg = shop();
    let plan = plan(
        &sg,
        r#"mutation {
          one: addProduct(name: "a") { id }
          two: renameProduct(id: "1", name: "b") { name }
          three: addReview(productId: "1", body: "c") { id }
          four: addProduct(name: "d") { id }
        }"#,
    );
    assert_eq!(
        shape(&plan),
        "Seq[Fetch(products), Fetch(reviews), Fetch(products)]"
    );
    assert_fetches(
        &plan,
        &[
            (
                "products",
                r#"mutation {one:addProduct(name: "a") {id} two:renameProduct(id: "1", name: "b") {name}}"#,
            ),
            (
                "reviews",
                r#"mutation {three:addReview(productId: "1", body: "c") {id}}"#,
            ),
            ("products", r#"mutation {four:addProduct(name: "d") {id}}"#),
        ],
    );
    assert!(fetches(&plan)
        .iter()
        .all(|f| f.kind == OperationType::Mutation));
}

#[test]
fn a_mutation_result_is_completed_before_the_next_mutation() {
    let sg = shop();
    let plan = plan(
        &sg,
        r#"mutation {
          first: addProduct(name: "a") { name inStock }
          second: addReview(productId: "1", body: "b") { body }
        }"#,
    );
    // Nested sequences may be flattened: both read the same.
    let s = shape(&plan);
    assert!(
        s == "Seq[Seq[Fetch(products), Flatten(first, Fetch(inventory))], Fetch(reviews)]"
            || s == "Seq[Fetch(products), Flatten(first, Fetch(inventory)), Fetch(reviews)]",
        "{plan}"
    );
    let kinds: Vec<OperationType> = fetches(&plan).iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [
            OperationType::Mutation,
            OperationType::Query,
            OperationType::Mutation
        ]
    );
    assert_eq!(
        fetches(&plan)[1].operation,
        entities("{... on Product {inStock}}")
    );
}

#[test]
fn a_mutation_is_never_planned_to_run_twice() {
    let sg = supergraph(
        &["a", "b"],
        r#"
type Query @join__type(graph: A) @join__type(graph: B) { ok: Boolean @join__field(graph: A) }
type Mutation @join__type(graph: A) @join__type(graph: B) {
  update: Config @join__field(graph: A) @join__field(graph: B)
}
type Config @join__type(graph: A) @join__type(graph: B) {
  a: String @join__field(graph: A)
  b: String @join__field(graph: B)
}
"#,
    );
    // `b` could only come from running `update` again in b.
    let err = try_plan(&sg, "mutation { update { a b } }").unwrap_err();
    assert!(err.message.contains("twice"), "{err}");
    // One side at a time is fine.
    let plan = plan(&sg, "mutation { update { b } }");
    assert_fetches(&plan, &[("b", "mutation {update {b}}")]);
}

#[test]
fn skip_and_include_on_fields_are_carried_into_subgraph_operations() {
    let sg = shop();
    let plan = plan(
        &sg,
        "query($s: Boolean!, $i: Boolean!) { products { name @skip(if: $s) reviews @include(if: $i) { body } } }",
    );
    assert_eq!(
        only_fetch_to(&plan, "products").operation,
        "query($s: Boolean!) {products {name @skip(if: $s) __typename id}}"
    );
    assert_eq!(
        only_fetch_to(&plan, "reviews").operation,
        "query($representations: [_Any!]!, $i: Boolean!) {_entities(representations: $representations) {... on Product {reviews @include(if: $i) {body}}}}"
    );
    assert_eq!(fetches(&plan).len(), 2);
}

#[test]
fn skip_and_include_on_fragments_are_carried_into_subgraph_operations() {
    let sg = shop();
    let plan = plan(
        &sg,
        "query($s: Boolean!, $i: Boolean = true) { products { id @skip(if: $s) ... on Product @include(if: $i) { inStock } } }",
    );
    assert_eq!(
        only_fetch_to(&plan, "products").operation,
        // Keys are fetched whatever the conditions say (another entry into
        // the entity fetch may need them); the entity fetch itself is guarded.
        "query($s: Boolean!) {products {id @skip(if: $s) __typename id}}"
    );
    assert!(
        plan.to_string().contains("Include(if: $i) {"),
        "the inventory fetch runs only when $i is true:\n{plan}"
    );
    assert_eq!(
        only_fetch_to(&plan, "inventory").operation,
        "query($representations: [_Any!]!, $i: Boolean = true) {_entities(representations: $representations) {... on Product {... @include(if: $i) {inStock}}}}"
    );
    // On a named fragment spread too.
    let plan = plan_with(
        &sg,
        "query($s: Boolean!) { products { ...F @skip(if: $s) } } fragment F on Product { inStock name }",
        &[],
    );
    assert_eq!(
        only_fetch_to(&plan, "products").operation,
        "query($s: Boolean!) {products {__typename id ... @skip(if: $s) {name}}}"
    );
    assert_eq!(
        only_fetch_to(&plan, "inventory").operation,
        "query($representations: [_Any!]!, $s: Boolean!) {_entities(representations: $representations) {... on Product {... @skip(if: $s) {inStock}}}}"
    );
}

#[test]
fn a_root_field_no_subgraph_resolves_is_an_error_naming_it() {
    let sg = supergraph(
        &["a"],
        r#"
type Query @join__type(graph: A) {
  ok: String @join__field(graph: A)
  orphan: String @join__field
}
"#,
    );
    let err = try_plan(&sg, "{ ok orphan }").unwrap_err();
    assert!(err.message.contains("Query.orphan"), "{err}");
    assert_eq!(err.to_string(), err.message);
    assert!(try_plan(&sg, "{ ok }").is_ok());
}

#[test]
fn an_unreachable_entity_field_is_an_error_naming_it() {
    let sg = supergraph(
        &["a", "b"],
        r#"
type Query @join__type(graph: A) @join__type(graph: B) { items: [Item] @join__field(graph: A) }
type Item @join__type(graph: A) @join__type(graph: B) {
  name: String @join__field(graph: A)
  extra: String @join__field(graph: B)
}
"#,
    );
    // Item has no key, and b cannot resolve `items`.
    let err = try_plan(&sg, "{ items { name extra } }").unwrap_err();
    assert!(err.message.contains("Item.extra"), "{err}");
}

#[test]
fn a_query_without_a_mutation_type_cannot_plan_mutations() {
    let sg = shop();
    let doc = document(&sg, "{ products { id } }");
    let op = doc.operations.iter().next().unwrap();
    // A supergraph without Mutation: planning a mutation (built from another
    // schema's document) is refused rather than sent somewhere.
    let no_mutation = supergraph(
        &["a"],
        "type Query @join__type(graph: A) { products: [P] @join__field(graph: A) } type P @join__type(graph: A) { id: ID }",
    );
    let m = document(&sg, r#"mutation { addProduct(name: "x") { id } }"#);
    let m_op = m.operations.iter().next().unwrap();
    let err = goliath_planner::plan(&no_mutation, &m, m_op, &Default::default()).unwrap_err();
    assert!(err.message.contains("mutation"), "{err}");
    assert!(goliath_planner::plan(&sg, &doc, op, &Default::default()).is_ok());
}
