//! Plans for plain queries: one subgraph, entity jumps by key, parallel
//! and sequential stages, aliases, fragments, `__typename` and names.

mod common;

use apollo_compiler::ast::OperationType;
use common::*;

#[test]
fn a_query_one_subgraph_answers_is_one_fetch() {
    let sg = shop();
    let plan = plan(&sg, "{ products { id name price } }");
    assert_eq!(
        plan.to_string(),
        "QueryPlan {\n  Fetch(service: \"products\") {\n    query {products {id name price}}\n  }\n}\n"
    );
    assert_eq!(shape(&plan), "Fetch(products)");
    let f = only_fetch_to(&plan, "products");
    assert_eq!(f.kind, OperationType::Query);
    assert!(!f.is_entity_fetch());
    assert!(f.requires.is_empty());
    assert!(f.variable_usages.is_empty());
    assert!(f.typename_rewrites.is_empty());
    assert!(!f.has_aliases);
    assert_eq!(f.graph, sg.graph_by_name("products").unwrap());
}

#[test]
fn a_field_of_another_subgraph_is_an_entity_jump_by_key() {
    let sg = shop();
    let plan = plan(&sg, "{ products { name reviews { body } } }");
    assert_eq!(
        plan.to_string(),
        r#"QueryPlan {
  Sequence {
    Fetch(service: "products") {
      query {products {name __typename id}}
    }
    Flatten(path: "products.@") {
      Fetch(service: "reviews") {
        {... on Product {__typename id}} =>
        query($representations: [_Any!]!) {_entities(representations: $representations) {... on Product {reviews {body}}}}
      }
    }
  }
}
"#
    );
    assert_eq!(
        shape(&plan),
        "Seq[Fetch(products), Flatten(products.@, Fetch(reviews))]"
    );
    let reviews = only_fetch_to(&plan, "reviews");
    assert!(reviews.is_entity_fetch());
    assert_eq!(reviews.kind, OperationType::Query);
    assert_eq!(requires_text(reviews), "{... on Product {__typename id}}");
}

#[test]
fn a_jump_from_a_single_object_flattens_at_its_field() {
    let sg = shop();
    let plan = plan(&sg, r#"{ product(id: "1") { name inStock } }"#);
    assert_eq!(
        shape(&plan),
        "Seq[Fetch(products), Flatten(product, Fetch(inventory))]"
    );
    assert_fetches(
        &plan,
        &[
            (
                "products",
                r#"query {product(id: "1") {name __typename id}}"#,
            ),
            ("inventory", &entities("{... on Product {inStock}}")),
        ],
    );
}

#[test]
fn jumps_to_two_subgraphs_from_one_place_run_in_parallel() {
    let sg = shop();
    let plan = plan(&sg, "{ topReviews { body product { name inStock } } }");
    assert_eq!(
        plan.to_string(),
        r#"QueryPlan {
  Sequence {
    Fetch(service: "reviews") {
      query {topReviews {body product {__typename id}}}
    }
    Parallel {
      Flatten(path: "topReviews.@.product") {
        Fetch(service: "products") {
          {... on Product {__typename id}} =>
          query($representations: [_Any!]!) {_entities(representations: $representations) {... on Product {name}}}
        }
      }
      Flatten(path: "topReviews.@.product") {
        Fetch(service: "inventory") {
          {... on Product {__typename id}} =>
          query($representations: [_Any!]!) {_entities(representations: $representations) {... on Product {inStock}}}
        }
      }
    }
  }
}
"#
    );
}

#[test]
fn fields_of_one_subgraph_at_one_place_share_a_fetch() {
    let sg = shop();
    let plan = plan(
        &sg,
        "{ products { inStock name reviews { body } price weight reviews { id } } }",
    );
    assert_eq!(fetches(&plan).len(), 3, "{plan}");
    let s = shape(&plan);
    assert!(s.starts_with("Seq[Fetch(products), Par["), "{s}");
    assert!(s.contains("Flatten(products.@, Fetch(inventory))"), "{s}");
    assert!(s.contains("Flatten(products.@, Fetch(reviews))"), "{s}");
    assert_eq!(
        only_fetch_to(&plan, "products").operation,
        "query {products {__typename id name price weight}}"
    );
    assert_eq!(
        only_fetch_to(&plan, "inventory").operation,
        entities("{... on Product {inStock}}")
    );
    assert_eq!(
        only_fetch_to(&plan, "reviews").operation,
        entities("{... on Product {reviews {body id}}}")
    );
}

#[test]
fn a_jump_back_to_the_first_subgraph_is_a_third_stage() {
    let sg = shop();
    let plan = plan(
        &sg,
        "{ products { name reviews { body author { name } } } }",
    );
    assert_eq!(
        shape(&plan),
        "Seq[Fetch(products), Flatten(products.@, Fetch(reviews)), Flatten(products.@.reviews.@.author, Fetch(products))]"
    );
    assert_fetches(
        &plan,
        &[
            ("products", "query {products {name __typename id}}"),
            (
                "reviews",
                &entities("{... on Product {reviews {body author {__typename id}}}}"),
            ),
            ("products", &entities("{... on User {name}}")),
        ],
    );
    assert_eq!(
        requires_text(fetches(&plan)[2]),
        "{... on User {__typename id}}"
    );
}

#[test]
fn root_fields_are_grouped_by_subgraph_and_run_in_parallel() {
    let sg = shop();
    let plan = plan(
        &sg,
        r#"{ products { id } topReviews { body } product(id: "2") { name } }"#,
    );
    assert_eq!(shape(&plan), "Par[Fetch(products), Fetch(reviews)]");
    assert_fetches(
        &plan,
        &[
            (
                "products",
                r#"query {products {id} product(id: "2") {name}}"#,
            ),
            ("reviews", "query {topReviews {body}}"),
        ],
    );
}

#[test]
fn a_shared_root_field_goes_where_its_selection_is_local() {
    let sg = shop();
    let p = plan(&sg, "{ me { id name } }");
    assert_fetches(&p, &[("products", "query {me {id name}}")]);
    let p = plan(&sg, "{ me { id reviews { body } } }");
    assert_fetches(&p, &[("reviews", "query {me {id reviews {body}}}")]);
}

#[test]
fn typename_only_needs_no_fetch() {
    let sg = shop();
    let plan = plan(&sg, "{ __typename }");
    assert!(plan.root.is_none());
    assert_eq!(plan.to_string(), "QueryPlan {\n}\n");
    let plan = plan_with(&sg, "{ t: __typename }", &[]);
    assert!(plan.root.is_none());
}

#[test]
fn typename_is_asked_where_it_is_selected_and_not_twice() {
    let sg = shop();
    let p = plan(&sg, "{ __typename products { __typename name } }");
    assert_fetches(&p, &[("products", "query {products {__typename name}}")]);

    // The key's __typename and the client's are one field.
    let p = plan(&sg, "{ products { __typename inStock } }");
    assert_fetches(
        &p,
        &[
            ("products", "query {products {__typename id}}"),
            ("inventory", &entities("{... on Product {inStock}}")),
        ],
    );
}

#[test]
fn aliases_are_kept_in_fetches_and_paths() {
    let sg = shop();
    let plan = plan(&sg, "{ cheap: products { label: name stock: inStock } }");
    assert_eq!(
        shape(&plan),
        "Seq[Fetch(products), Flatten(cheap.@, Fetch(inventory))]"
    );
    assert_fetches(
        &plan,
        &[
            (
                "products",
                "query {cheap:products {label:name __typename id}}",
            ),
            ("inventory", &entities("{... on Product {stock:inStock}}")),
        ],
    );
    assert!(fetches(&plan).iter().all(|f| !f.has_aliases));
}

#[test]
fn one_root_field_under_two_aliases_shares_one_entity_fetch() {
    let sg = shop();
    let plan = plan(&sg, "{ a: products { inStock } b: products { inStock } }");
    assert_eq!(
        only_fetch_to(&plan, "products").operation,
        "query {a:products {__typename id} b:products {__typename id}}"
    );
    // Both paths' entities go to inventory in one request.
    assert_eq!(
        shape(&plan),
        "Seq[Fetch(products), Flatten(a.@|b.@, Fetch(inventory))]"
    );
    assert_eq!(fetches(&plan).len(), 2);
}

#[test]
fn named_fragments_are_inlined() {
    let sg = shop();
    let plan = plan(
        &sg,
        r#"
        query {
          products { ...ProductCard }
          ...Reviews
        }
        fragment ProductCard on Product { name ...Stock }
        fragment Stock on Product { inStock }
        fragment Reviews on Query { topReviews { body } }
        "#,
    );
    for f in fetches(&plan) {
        assert!(
            !f.operation.contains("fragment") && !f.operation.contains("...ProductCard"),
            "a fragment was not inlined: {}",
            f.operation
        );
    }
    assert_eq!(
        only_fetch_to(&plan, "products").operation,
        "query {products {name __typename id}}"
    );
    assert_eq!(
        only_fetch_to(&plan, "inventory").operation,
        entities("{... on Product {inStock}}")
    );
    assert_eq!(
        only_fetch_to(&plan, "reviews").operation,
        "query {topReviews {body}}"
    );
    assert_eq!(fetches(&plan).len(), 3);
}

#[test]
fn inline_fragments_on_the_object_type_are_flattened() {
    let sg = shop();
    let plan = plan(
        &sg,
        "{ products { ... on Product { name } ... { price } } }",
    );
    assert_fetches(&plan, &[("products", "query {products {name price}}")]);
}

#[test]
fn named_operations_name_their_fetches() {
    let sg = supergraph(
        &["my-products", "stock"],
        r#"
type Query @join__type(graph: MY_PRODUCTS) { products: [Product] @join__field(graph: MY_PRODUCTS) }
type Product @join__type(graph: MY_PRODUCTS, key: "id") @join__type(graph: STOCK, key: "id") {
  id: ID!
  inStock: Boolean @join__field(graph: STOCK)
}
"#,
    );
    let plan = plan(&sg, "query Shop { products { inStock } }");
    assert_fetches(
        &plan,
        &[
            ("my-products", "query Shop__my_products__0 {products {__typename id}}"),
            (
                "stock",
                "query Shop__stock__1($representations: [_Any!]!) {_entities(representations: $representations) {... on Product {inStock}}}",
            ),
        ],
    );
}

#[test]
fn the_operation_to_plan_is_the_one_given() {
    let sg = shop();
    let doc = document(
        &sg,
        "query A { products { name } } query B { topReviews { body } }",
    );
    let labels = Default::default();
    let b = doc.operations.get(Some("B")).unwrap();
    let plan = goliath_planner::plan(&sg, &doc, b, &labels).unwrap();
    assert_fetches(
        &plan,
        &[("reviews", "query B__reviews__0 {topReviews {body}}")],
    );
}

#[test]
fn entity_fetches_for_different_types_to_one_subgraph_share_a_request() {
    let sg = supergraph(
        &["accounts", "products", "reviews"],
        r#"
type Query @join__type(graph: ACCOUNTS) @join__type(graph: PRODUCTS) @join__type(graph: REVIEWS) {
  users: [User] @join__field(graph: ACCOUNTS)
  products: [Product] @join__field(graph: PRODUCTS)
}
type User @join__type(graph: ACCOUNTS, key: "id") @join__type(graph: REVIEWS, key: "id") {
  id: ID!
  reviews: [String] @join__field(graph: REVIEWS)
}
type Product @join__type(graph: PRODUCTS, key: "upc") @join__type(graph: REVIEWS, key: "upc") {
  upc: String!
  reviews: [String] @join__field(graph: REVIEWS)
}
"#,
    );
    let plan = plan(&sg, "{ users { reviews } products { reviews } }");
    // Users' and products' reviews come from one reviews request at both paths.
    assert_eq!(fetches(&plan).len(), 3, "{plan}");
    let reviews = only_fetch_to(&plan, "reviews");
    assert!(
        reviews.operation.contains("... on User {reviews}")
            && reviews.operation.contains("... on Product {reviews}"),
        "{plan}"
    );
    assert!(
        plan.to_string()
            .contains("Flatten(path: \"users.@\", \"products.@\")")
            || plan
                .to_string()
                .contains("Flatten(path: \"products.@\", \"users.@\")"),
        "{plan}"
    );
}
