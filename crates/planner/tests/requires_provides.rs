//! `@requires`, `@provides`, `@external` and shared (`@shareable`) fields.

mod common;

use common::*;

#[test]
fn required_fields_are_fetched_from_their_owner_first() {
    let sg = shop();
    let plan = plan(&sg, "{ products { name shippingEstimate } }");
    assert_eq!(
        shape(&plan),
        "Seq[Fetch(products), Flatten(products.@, Fetch(inventory))]"
    );
    assert_fetches(
        &plan,
        &[
            (
                "products",
                "query {products {name __typename id price weight}}",
            ),
            (
                "inventory",
                &entities("{... on Product {shippingEstimate}}"),
            ),
        ],
    );
    assert_eq!(
        requires_text(only_fetch_to(&plan, "inventory")),
        "{... on Product {__typename id price weight}}"
    );
}

#[test]
fn a_required_field_the_client_selects_too_is_asked_once() {
    let sg = shop();
    let plan = plan(&sg, "{ products { price shippingEstimate weight } }");
    let products = only_fetch_to(&plan, "products");
    assert_eq!(
        products.operation,
        "query {products {price __typename id weight}}"
    );
    assert_eq!(fetches(&plan).len(), 2);
}

#[test]
fn a_required_field_joins_the_other_fields_of_its_subgraph() {
    let sg = shop();
    let plan = plan(&sg, "{ products { shippingEstimate inStock } }");
    assert_fetches(
        &plan,
        &[
            ("products", "query {products {__typename id price weight}}"),
            (
                "inventory",
                &entities("{... on Product {shippingEstimate inStock}}"),
            ),
        ],
    );
}

#[test]
fn requires_from_the_requiring_subgraph_goes_out_and_back() {
    let sg = shop();
    let plan = plan(&sg, "{ warehouse { inStock shippingEstimate } }");
    assert_eq!(
        shape(&plan),
        "Seq[Fetch(inventory), Flatten(warehouse.@, Fetch(products)), Flatten(warehouse.@, Fetch(inventory))]"
    );
    assert_fetches(
        &plan,
        &[
            ("inventory", "query {warehouse {inStock __typename id}}"),
            ("products", &entities("{... on Product {price weight}}")),
            (
                "inventory",
                &entities("{... on Product {shippingEstimate}}"),
            ),
        ],
    );
    assert_eq!(
        requires_text(fetches(&plan)[2]),
        "{... on Product {__typename id price weight}}"
    );
}

const CHAIN: &str = r#"
type Query @join__type(graph: A) { products: [Product] @join__field(graph: A) }
type Product @join__type(graph: A, key: "id") @join__type(graph: B, key: "id") @join__type(graph: C, key: "id") {
  id: ID!
  name: String @join__field(graph: A)
  weight: Int @join__field(graph: A) @join__field(graph: C, external: true)
  shipping: Int @join__field(graph: B, external: true) @join__field(graph: C, requires: "weight")
  insurance: Int @join__field(graph: B, requires: "shipping")
  price(currency: String = "USD"): Int @join__field(graph: A) @join__field(graph: C, external: true)
  tax: Int @join__field(graph: C, requires: "price(currency: \"EUR\")")
  duty: Int @join__field(graph: C, requires: "price(currency: \"GBP\")")
  dims: Dims @join__field(graph: A) @join__field(graph: C, external: true)
  volume: Int @join__field(graph: C, requires: "dims { width height }")
}
type Dims @join__type(graph: A) @join__type(graph: C) {
  width: Int
  height: Int
  depth: Int @join__field(graph: A)
}
"#;

#[test]
fn a_requires_chain_runs_in_order() {
    let sg = supergraph(&["a", "b", "c"], CHAIN);
    let plan = plan(&sg, "{ products { name insurance } }");
    assert_eq!(
        shape(&plan),
        "Seq[Fetch(a), Flatten(products.@, Fetch(c)), Flatten(products.@, Fetch(b))]"
    );
    assert_fetches(
        &plan,
        &[
            ("a", "query {products {name __typename id weight}}"),
            ("c", &entities("{... on Product {shipping}}")),
            ("b", &entities("{... on Product {insurance}}")),
        ],
    );
    assert_eq!(
        requires_text(fetches(&plan)[1]),
        "{... on Product {__typename id weight}}"
    );
    assert_eq!(
        requires_text(fetches(&plan)[2]),
        "{... on Product {__typename id shipping}}"
    );
}

#[test]
fn required_fields_with_arguments_are_aliased() {
    let sg = supergraph(&["a", "b", "c"], CHAIN);
    let plan = plan(&sg, r#"{ products { tax price(currency: "USD") } }"#);
    assert_eq!(shape(&plan), "Seq[Fetch(a), Flatten(products.@, Fetch(c))]");
    let a = only_fetch_to(&plan, "a");
    // The client's own price stays as it is; the required one is aliased.
    let ops = &a.operation;
    assert!(ops.contains(r#" price(currency: "USD")"#), "{plan}");
    let start = ops
        .find("_goliath_req_")
        .expect("an aliased required field");
    let alias_end = ops[start..].find(':').unwrap() + start;
    let alias = &ops[start..alias_end];
    assert!(alias.ends_with("_price"), "{alias}");
    let hash = &alias["_goliath_req_".len()..alias.len() - "_price".len()];
    assert!(
        !hash.is_empty() && hash.chars().all(|c| c.is_ascii_hexdigit()),
        "{alias}"
    );
    assert!(
        ops.contains(&format!(r#"{alias}:price(currency: "EUR")"#)),
        "{plan}"
    );
    // The representation holds the aliased field.
    let c = only_fetch_to(&plan, "c");
    assert_eq!(
        requires_text(c),
        format!(r#"{{... on Product {{__typename id {alias}:price(currency: "EUR")}}}}"#)
    );
    assert_eq!(c.operation, entities("{... on Product {tax}}"));
    assert!(!a.has_aliases, "requires aliases are not conflict aliases");

    // The same arguments give the same alias; other arguments another one.
    let again = plan_with(&sg, r#"{ products { tax } }"#, &[]);
    assert!(only_fetch_to(&again, "a").operation.contains(alias));
    let both = plan_with(&sg, "{ products { tax duty } }", &[]);
    let a = &only_fetch_to(&both, "a").operation;
    assert_eq!(a.matches("_goliath_req_").count(), 2, "{both}");
    assert!(a.contains(r#"price(currency: "GBP")"#), "{both}");
    assert!(a.contains(r#"price(currency: "EUR")"#), "{both}");
    // A representation holds one `price`: each requirement has a fetch of
    // its own, or one would be computed from the other's price.
    assert_eq!(fetches(&both).len(), 3, "{both}");
    for c in fetches(&both).iter().filter(|f| f.service == "c") {
        assert_eq!(
            requires_text(c).matches("_goliath_req_").count(),
            1,
            "{both}"
        );
    }
}

#[test]
fn a_nested_required_selection_is_merged_with_the_clients() {
    let sg = supergraph(&["a", "b", "c"], CHAIN);
    let plan = plan(&sg, "{ products { dims { depth width } volume } }");
    assert_fetches(
        &plan,
        &[
            (
                "a",
                "query {products {dims {depth width height} __typename id}}",
            ),
            ("c", &entities("{... on Product {volume}}")),
        ],
    );
    assert_eq!(
        requires_text(only_fetch_to(&plan, "c")),
        "{... on Product {__typename id dims {width height}}}"
    );
}

const REVIEWS: &str = r#"
type Query @join__type(graph: A) @join__type(graph: B) {
  topReviews: [Review] @join__field(graph: B)
  me: User @join__field(graph: A)
}
type Review @join__type(graph: B, key: "id") {
  id: ID!
  body: String
  author: User @join__field(graph: B, provides: "name")
  coauthors: [User] @join__field(graph: B, provides: "name")
  editor: User @join__field(graph: B)
  product: Product @join__field(graph: B, provides: "maker { name }")
  other: Product @join__field(graph: B)
}
type User @join__type(graph: A, key: "id") @join__type(graph: B, key: "id") {
  id: ID!
  name: String @join__field(graph: A) @join__field(graph: B, external: true)
  email: String @join__field(graph: A)
  nick: String @join__field(graph: A) @join__field(graph: B)
}
type Product @join__type(graph: A, key: "id") @join__type(graph: B, key: "id") {
  id: ID!
  maker: User @join__field(graph: A) @join__field(graph: B, external: true)
}
"#;

#[test]
fn a_provided_external_field_is_not_fetched_again() {
    let sg = supergraph(&["a", "b"], REVIEWS);
    let plan = plan(&sg, "{ topReviews { body author { name } } }");
    assert_fetches(&plan, &[("b", "query {topReviews {body author {name}}}")]);
    // On a list field too.
    let plan = plan_with(&sg, "{ topReviews { coauthors { id name } } }", &[]);
    assert_fetches(&plan, &[("b", "query {topReviews {coauthors {id name}}}")]);
}

#[test]
fn without_the_provides_path_the_external_field_comes_from_its_owner() {
    let sg = supergraph(&["a", "b"], REVIEWS);
    let plan = plan(&sg, "{ topReviews { editor { name } } }");
    assert_eq!(
        shape(&plan),
        "Seq[Fetch(b), Flatten(topReviews.@.editor, Fetch(a))]"
    );
    assert_fetches(
        &plan,
        &[
            ("b", "query {topReviews {editor {__typename id}}}"),
            ("a", &entities("{... on User {name}}")),
        ],
    );
}

#[test]
fn only_what_is_provided_stays_local() {
    let sg = supergraph(&["a", "b"], REVIEWS);
    let plan = plan(&sg, "{ topReviews { author { name email } } }");
    assert_fetches(
        &plan,
        &[
            ("b", "query {topReviews {author {name __typename id}}}"),
            ("a", &entities("{... on User {email}}")),
        ],
    );
}

#[test]
fn a_nested_provides_covers_its_whole_path() {
    let sg = supergraph(&["a", "b"], REVIEWS);
    let plan = plan(&sg, "{ topReviews { product { maker { name } } } }");
    assert_fetches(
        &plan,
        &[("b", "query {topReviews {product {maker {name}}}}")],
    );

    let plan = plan_with(&sg, "{ topReviews { other { maker { name } } } }", &[]);
    assert_eq!(
        shape(&plan),
        "Seq[Fetch(b), Flatten(topReviews.@.other, Fetch(a))]"
    );
    assert_eq!(
        only_fetch_to(&plan, "a").operation,
        entities("{... on Product {maker {name}}}")
    );
}

#[test]
fn a_shared_field_stays_in_the_current_subgraph() {
    let sg = supergraph(&["a", "b"], REVIEWS);
    // `nick` is resolvable in both: each side keeps it local.
    let plan = plan(&sg, "{ topReviews { editor { nick } } }");
    assert_fetches(&plan, &[("b", "query {topReviews {editor {nick}}}")]);
    let plan = plan_with(&sg, "{ me { nick } }", &[]);
    assert_fetches(&plan, &[("a", "query {me {nick}}")]);
    // Next to a field of the other subgraph, it still stays where it is.
    let plan = plan_with(&sg, "{ topReviews { editor { nick email } } }", &[]);
    assert_fetches(
        &plan,
        &[
            ("b", "query {topReviews {editor {nick __typename id}}}"),
            ("a", &entities("{... on User {email}}")),
        ],
    );
}

#[test]
fn an_external_key_field_is_sent_in_representations() {
    let sg = supergraph(
        &["a", "b"],
        r#"
type Query @join__type(graph: A) @join__type(graph: B) {
  products: [Product] @join__field(graph: A)
}
type Product @join__type(graph: A, key: "id") @join__type(graph: B, key: "id", extension: true) {
  id: ID! @join__field(graph: A) @join__field(graph: B, external: true)
  name: String @join__field(graph: A)
  reviews: [String] @join__field(graph: B)
}
"#,
    );
    let plan = plan(&sg, "{ products { name reviews } }");
    assert_fetches(
        &plan,
        &[
            ("a", "query {products {name __typename id}}"),
            ("b", &entities("{... on Product {reviews}}")),
        ],
    );
    assert_eq!(
        requires_text(only_fetch_to(&plan, "b")),
        "{... on Product {__typename id}}"
    );
}

#[test]
fn a_subgraph_needed_before_and_after_another_is_fetched_twice() {
    let sg = supergraph(
        &["a", "b", "c"],
        r#"
type Query @join__type(graph: A) { products: [Product] @join__field(graph: A) }
type Product @join__type(graph: A, key: "id") @join__type(graph: B, key: "id") @join__type(graph: C, key: "id") {
  id: ID!
  name: String @join__field(graph: A)
  inStock: Boolean @join__field(graph: B, external: true) @join__field(graph: C)
  restock: String @join__field(graph: B, requires: "inStock") @join__field(graph: C, external: true)
  eta: String @join__field(graph: C, requires: "restock")
}
"#,
    );
    // c answers inStock, b needs it for restock, c needs restock for eta:
    // one c fetch cannot do both.
    let plan = plan(&sg, "{ products { name inStock eta } }");
    assert_eq!(
        shape(&plan),
        "Seq[Fetch(a), Flatten(products.@, Fetch(c)), Flatten(products.@, Fetch(b)), Flatten(products.@, Fetch(c))]"
    );
    assert_fetches(
        &plan,
        &[
            ("a", "query {products {name __typename id}}"),
            ("c", &entities("{... on Product {inStock}}")),
            ("b", &entities("{... on Product {restock}}")),
            ("c", &entities("{... on Product {eta}}")),
        ],
    );
    assert_eq!(
        requires_text(fetches(&plan)[2]),
        "{... on Product {__typename id inStock}}"
    );
    assert_eq!(
        requires_text(fetches(&plan)[3]),
        "{... on Product {__typename id restock}}"
    );
}
