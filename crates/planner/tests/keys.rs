//! Entity jumps and keys: composite keys, several keys, keys that need a
//! jump of their own, `resolvable: false`, and fields reached through
//! their parent when their type has no key.

mod common;

use common::*;

const USERS: &str = r#"
type Query @join__type(graph: A) @join__type(graph: B) @join__type(graph: C) {
  users: [User] @join__field(graph: A)
  newcomers: [User] @join__field(graph: C)
}
type User
  @join__type(graph: A, key: "id organization { id }")
  @join__type(graph: B, key: "id organization { id }")
  @join__type(graph: C, key: "handle")
  @join__type(graph: C, key: "email")
  @join__type(graph: C, key: "id organization { id }")
{
  id: ID!
  organization: Org
  name: String @join__field(graph: A)
  email: String @join__field(graph: A) @join__field(graph: C)
  handle: String @join__field(graph: C)
  bio: String @join__field(graph: B)
  avatar: String @join__field(graph: C)
}
type Org @join__type(graph: A) @join__type(graph: B) @join__type(graph: C) {
  id: ID!
}
"#;

#[test]
fn a_composite_key_is_fetched_whole_and_sent_whole() {
    let sg = supergraph(&["a", "b", "c"], USERS);
    let plan = plan(&sg, "{ users { name bio } }");
    assert_eq!(shape(&plan), "Seq[Fetch(a), Flatten(users.@, Fetch(b))]");
    assert_fetches(
        &plan,
        &[
            ("a", "query {users {name __typename id organization {id}}}"),
            ("b", &entities("{... on User {bio}}")),
        ],
    );
    assert_eq!(
        requires_text(only_fetch_to(&plan, "b")),
        "{... on User {__typename id organization {id}}}"
    );
}

#[test]
fn of_several_keys_the_one_the_current_subgraph_resolves_is_used() {
    let sg = supergraph(&["a", "b", "c"], USERS);
    // c has three keys; a cannot resolve `handle`, so it is not the way in.
    let plan = plan(&sg, "{ users { avatar } }");
    assert_eq!(fetches(&plan).len(), 2, "{plan}");
    let c = only_fetch_to(&plan, "c");
    let rep = requires_text(c);
    assert!(!rep.contains("handle"), "{plan}");
    assert!(
        rep == "{... on User {__typename email}}"
            || rep == "{... on User {__typename id organization {id}}}",
        "{plan}"
    );
    assert!(
        !only_fetch_to(&plan, "a").operation.contains("handle"),
        "{plan}"
    );

    // From c, the only key b accepts is the composite one, which c resolves.
    let plan = plan_with(&sg, "{ newcomers { handle bio } }", &[]);
    assert_eq!(
        shape(&plan),
        "Seq[Fetch(c), Flatten(newcomers.@, Fetch(b))]"
    );
    assert_eq!(
        only_fetch_to(&plan, "c").operation,
        "query {newcomers {handle __typename id organization {id}}}"
    );
    assert_eq!(
        requires_text(only_fetch_to(&plan, "b")),
        "{... on User {__typename id organization {id}}}"
    );
}

#[test]
fn a_key_the_current_subgraph_lacks_is_fetched_first() {
    let sg = supergraph(
        &["a", "b", "c"],
        r#"
type Query @join__type(graph: A) { users: [User] @join__field(graph: A) }
type User
  @join__type(graph: A, key: "id")
  @join__type(graph: B, key: "id organization { id }")
  @join__type(graph: C, key: "id")
{
  id: ID!
  organization: Org @join__field(graph: B) @join__field(graph: C)
  name: String @join__field(graph: A)
  bio: String @join__field(graph: B)
}
type Org @join__type(graph: B) @join__type(graph: C) { id: ID! }
"#,
    );
    let plan = plan(&sg, "{ users { name bio } }");
    assert_eq!(
        shape(&plan),
        "Seq[Fetch(a), Flatten(users.@, Fetch(c)), Flatten(users.@, Fetch(b))]"
    );
    assert_fetches(
        &plan,
        &[
            ("a", "query {users {name __typename id}}"),
            ("c", &entities("{... on User {organization {id}}}")),
            ("b", &entities("{... on User {bio}}")),
        ],
    );
    assert_eq!(
        requires_text(fetches(&plan)[1]),
        "{... on User {__typename id}}"
    );
    assert_eq!(
        requires_text(fetches(&plan)[2]),
        "{... on User {__typename id organization {id}}}"
    );
}

const REFS: &str = r#"
type Query @join__type(graph: A) @join__type(graph: B) {
  products: [Product] @join__field(graph: A)
  reviews: [Review] @join__field(graph: B)
}
type Product @join__type(graph: A, key: "id") @join__type(graph: B, key: "id", resolvable: false) {
  id: ID!
  name: String @join__field(graph: A)
  secret: String @join__field(graph: B)
}
type Review @join__type(graph: B) {
  body: String
  product: Product
}
"#;

#[test]
fn a_resolvable_false_key_is_never_entered() {
    let sg = supergraph(&["a", "b"], REFS);
    // b references products; a resolves them.
    let plan = plan(&sg, "{ reviews { body product { name } } }");
    assert_eq!(
        shape(&plan),
        "Seq[Fetch(b), Flatten(reviews.@.product, Fetch(a))]"
    );
    assert_fetches(
        &plan,
        &[
            ("b", "query {reviews {body product {__typename id}}}"),
            ("a", &entities("{... on Product {name}}")),
        ],
    );
    // b knows the id of what it references: no jump at all.
    let plan = plan_with(&sg, "{ reviews { product { id } } }", &[]);
    assert_fetches(&plan, &[("b", "query {reviews {product {id}}}")]);
}

#[test]
fn a_field_behind_a_resolvable_false_key_cannot_be_planned() {
    let sg = supergraph(&["a", "b"], REFS);
    let err = try_plan(&sg, "{ products { name secret } }").unwrap_err();
    assert!(
        err.message.contains("Product.secret"),
        "the error names the field: {err}"
    );
    // Nothing else is wrong with the supergraph.
    let ok = plan(&sg, "{ products { name } }");
    assert_fetches(&ok, &[("a", "query {products {name}}")]);
}

const NESTED_VALUES: &str = r#"
type Query @join__type(graph: A) @join__type(graph: B) @join__type(graph: C) {
  products: [Product] @join__field(graph: A)
  config: Config @join__field(graph: A) @join__field(graph: B)
}
type Product @join__type(graph: A, key: "id") @join__type(graph: C, key: "id") {
  id: ID!
  name: String @join__field(graph: A)
  category: Category @join__field(graph: A) @join__field(graph: C)
}
type Category @join__type(graph: A) @join__type(graph: C) {
  title: String @join__field(graph: A)
  label: String @join__field(graph: C)
  meta: Meta @join__field(graph: A) @join__field(graph: C)
}
type Meta @join__type(graph: A) @join__type(graph: C) {
  x: String @join__field(graph: A)
  details: String @join__field(graph: C)
}
type Config @join__type(graph: A) @join__type(graph: B) {
  a: String @join__field(graph: A)
  b: String @join__field(graph: B)
}
"#;

#[test]
fn a_field_of_a_type_without_key_is_fetched_through_its_parent_entity() {
    let sg = supergraph(&["a", "b", "c"], NESTED_VALUES);
    let plan = plan(&sg, "{ products { name category { title label } } }");
    // The jump is at the parent entity's path, not at `category`.
    assert_eq!(shape(&plan), "Seq[Fetch(a), Flatten(products.@, Fetch(c))]");
    assert_fetches(
        &plan,
        &[
            (
                "a",
                "query {products {name category {title} __typename id}}",
            ),
            ("c", &entities("{... on Product {category {label}}}")),
        ],
    );
    assert_eq!(
        requires_text(only_fetch_to(&plan, "c")),
        "{... on Product {__typename id}}"
    );
}

#[test]
fn a_parent_entity_call_can_go_up_several_levels() {
    let sg = supergraph(&["a", "b", "c"], NESTED_VALUES);
    let plan = plan(&sg, "{ products { category { meta { x details } } } }");
    assert_eq!(shape(&plan), "Seq[Fetch(a), Flatten(products.@, Fetch(c))]");
    assert_fetches(
        &plan,
        &[
            ("a", "query {products {category {meta {x}} __typename id}}"),
            (
                "c",
                &entities("{... on Product {category {meta {details}}}}"),
            ),
        ],
    );
}

#[test]
fn a_shared_root_field_is_asked_of_each_subgraph_for_its_part() {
    let sg = supergraph(&["a", "b", "c"], NESTED_VALUES);
    let plan = plan(&sg, "{ config { a b } }");
    assert_eq!(shape(&plan), "Par[Fetch(a), Fetch(b)]");
    assert_fetches(
        &plan,
        &[("a", "query {config {a}}"), ("b", "query {config {b}}")],
    );
}

#[test]
fn a_parent_entity_call_never_enters_a_resolvable_false_key() {
    let sg = supergraph(
        &["a", "c"],
        r#"
type Query @join__type(graph: A) @join__type(graph: C) { products: [Product] @join__field(graph: A) }
type Product @join__type(graph: A, key: "id") @join__type(graph: C, key: "id", resolvable: false) {
  id: ID!
  category: Category @join__field(graph: A) @join__field(graph: C)
}
type Category @join__type(graph: A) @join__type(graph: C) {
  title: String @join__field(graph: A)
  label: String @join__field(graph: C)
}
"#,
    );
    // c resolves `category { label }` but cannot be entered for products.
    let err = try_plan(&sg, "{ products { category { title label } } }").unwrap_err();
    // (Today the message names the parent field it tried to go through:
    // "cannot plan Product.category in subgraph c".)
    assert!(
        err.message.contains("Category.label") || err.message.contains("Product.category"),
        "{err}"
    );
    let ok = plan(&sg, "{ products { category { title } } }");
    assert_fetches(&ok, &[("a", "query {products {category {title}}}")]);
}
