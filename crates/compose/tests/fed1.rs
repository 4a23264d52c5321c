//! Federation 1 subgraphs (no `@link`): `extend type`, `@extends`, external
//! key fields, implicit sharing, and mixing with Federation 2 subgraphs.

mod common;

use common::*;

const ACCOUNTS: &str = r#"
    type Query { me: User }
    type User @key(fields: "id") { id: ID! name: String username: String }
"#;

const REVIEWS: &str = r#"
    type Review { body: String author: User @provides(fields: "username") }
    extend type User @key(fields: "id") {
      id: ID! @external
      username: String @external
      reviews: [Review]
    }
    extend type Query { topReviews: [Review] }
"#;

#[test]
fn extend_type_with_external_keys() {
    let sdl = compose_ok(&[("accounts", ACCOUNTS), ("reviews", REVIEWS)]);
    // A Federation 1 `extend type` is not recorded as an extension (as Apollo).
    let user = definition(&sdl, "type", "User");
    assert!(
        user.contains("@join__type(graph: REVIEWS, key: \"id\")"),
        "{user}"
    );
    assert!(!user.contains("extension"), "{user}");
    // The external key field of an extension is not external.
    assert_eq!(field_line(&sdl, "type", "User", "id").trim(), "id: ID!");
    assert_eq!(
        field_line(&sdl, "type", "User", "username").trim(),
        "username: String @join__field(graph: ACCOUNTS) @join__field(graph: REVIEWS, external: true)"
    );
    assert_eq!(
        field_line(&sdl, "type", "Review", "author").trim(),
        "author: User @join__field(graph: REVIEWS, provides: \"username\")"
    );
    // `extend type Query` is a root type like any other.
    let query = definition(&sdl, "type", "Query");
    assert!(query.contains("@join__type(graph: REVIEWS)\n"), "{query}");
    let plan = plan(&sdl, "{ topReviews { author { name } } }");
    assert!(
        plan.contains("\"accounts\"") && plan.contains("\"reviews\""),
        "{plan}"
    );
}

#[test]
fn extends_directive_marks_an_extension() {
    let b = r#"
        type Query { randomUser: User }
        type User @key(fields: "id") @extends { id: ID! @external nickname: String }
    "#;
    let sdl = compose_ok(&[("accounts", ACCOUNTS), ("b", b)]);
    assert!(definition(&sdl, "type", "User")
        .contains("@join__type(graph: B, key: \"id\", extension: true)"));
}

#[test]
fn fields_are_implicitly_shareable() {
    let a = r#"type Query { a: Position } type Position { x: Int y: Int }"#;
    let b = r#"type Query { b: Position } type Position { x: Int y: Int }"#;
    let sdl = compose_ok(&[("a", a), ("b", b)]);
    assert_eq!(field_line(&sdl, "type", "Position", "x").trim(), "x: Int");
}

#[test]
fn unused_externals_are_dropped() {
    let b = r#"
        extend type User @key(fields: "id") { id: ID! @external name: String @external age: Int }
    "#;
    let sdl = compose_ok(&[("accounts", ACCOUNTS), ("b", b)]);
    assert_eq!(
        field_line(&sdl, "type", "User", "name").trim(),
        "name: String @join__field(graph: ACCOUNTS)"
    );
}

#[test]
fn key_fields_as_a_list_of_strings() {
    let a = r#"type Query { a: T } type T @key(fields: ["id", "kind"]) { id: ID! kind: String! }"#;
    let sdl = compose_ok(&[("a", a)]);
    assert!(definition(&sdl, "type", "T").contains("key: \"id kind\""));
}

#[test]
fn fed1_and_fed2_subgraphs_together() {
    let fed2_products = fed2("\"@key\", \"@shareable\"")
        + r#"
        type Query { products: [Product] }
        type Product @key(fields: "upc") { upc: String! name: String @shareable createdBy: User }
        type User @key(fields: "id") { id: ID! }
    "#;
    let fed1_inventory = r#"
        extend type Product @key(fields: "upc") { upc: String! @external name: String inStock: Boolean }
    "#;
    let sdl = compose_ok(&[
        ("products", &fed2_products),
        ("inventory", fed1_inventory),
        ("accounts", ACCOUNTS),
    ]);
    assert_eq!(
        field_line(&sdl, "type", "Product", "name").trim(),
        "name: String"
    );
    let plan = plan(&sdl, "{ products { inStock createdBy { name } } }");
    assert!(
        plan.contains("\"inventory\"") && plan.contains("\"accounts\""),
        "{plan}"
    );
}
