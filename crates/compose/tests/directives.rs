//! Each federation directive, composed from hand-written Federation 2
//! subgraphs, and how the supergraph records it.

mod common;

use common::*;

#[test]
fn key_and_entity_fields_are_joined() {
    let a = fed2("\"@key\"")
        + r#"
        type Query { products: [Product] }
        type Product @key(fields: "id") { id: ID! name: String }
    "#;
    let b = fed2("\"@key\"")
        + r#"
        type Product @key(fields: "id") @key(fields: "sku", resolvable: false) { id: ID! sku: String! price: Int }
    "#;
    let sdl = compose_ok(&[("b", &b), ("a", &a)]);
    let product = definition(&sdl, "type", "Product");
    assert!(
        product.contains("@join__type(graph: A, key: \"id\")"),
        "{product}"
    );
    assert!(
        product.contains("@join__type(graph: B, key: \"id\")"),
        "{product}"
    );
    assert!(
        product.contains("@join__type(graph: B, key: \"sku\", resolvable: false)"),
        "{product}"
    );
    // In every subgraph of the type: no @join__field.
    assert_eq!(field_line(&sdl, "type", "Product", "id").trim(), "id: ID!");
    assert_eq!(
        field_line(&sdl, "type", "Product", "price").trim(),
        "price: Int @join__field(graph: B)"
    );
    // Subgraphs are sorted by name, join__Graph values upper-cased.
    assert!(sdl.contains(
        "enum join__Graph {\n  A @join__graph(name: \"a\", url: \"http://a:4000/graphql\")\n  B @join__graph(name: \"b\", url: \"http://b:4000/graphql\")\n}"
    ));
    assert!(sdl.contains("@link(url: \"https://specs.apollo.dev/join/v0.3\", for: EXECUTION)"));
}

#[test]
fn requires_and_external() {
    let a = fed2("\"@key\"")
        + r#"
        type Query { products: [Product] }
        type Product @key(fields: "id") { id: ID! weight: Int price: Int }
    "#;
    let b = fed2("\"@key\", \"@external\", \"@requires\"")
        + r#"
        type Product @key(fields: "id") {
          id: ID!
          weight: Int @external
          price: Int @external
          shipping: Int @requires(fields: "weight price")
        }
    "#;
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    assert_eq!(
        field_line(&sdl, "type", "Product", "weight").trim(),
        "weight: Int @join__field(graph: A) @join__field(graph: B, external: true)"
    );
    assert_eq!(
        field_line(&sdl, "type", "Product", "shipping").trim(),
        "shipping: Int @join__field(graph: B, requires: \"weight price\")"
    );
    let plan = plan(&sdl, "{ products { shipping } }");
    assert!(
        plan.contains("weight") && plan.contains("_entities") || plan.contains("Flatten"),
        "{plan}"
    );
}

#[test]
fn provides() {
    let a = fed2("\"@key\", \"@external\", \"@provides\"")
        + r#"
        type Query { reviews: [Review] }
        type Review { body: String author: User @provides(fields: "name") }
        type User @key(fields: "id") { id: ID! name: String @external }
    "#;
    let b = fed2("\"@key\", \"@shareable\"")
        + r#"
        type Query { me: User }
        type User @key(fields: "id") { id: ID! name: String @shareable }
    "#;
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    assert_eq!(
        field_line(&sdl, "type", "Review", "author").trim(),
        "author: User @join__field(graph: A, provides: \"name\")"
    );
    assert_eq!(
        field_line(&sdl, "type", "User", "name").trim(),
        "name: String @join__field(graph: A, external: true) @join__field(graph: B)"
    );
}

#[test]
fn shareable_fields_and_types() {
    let a = fed2("\"@shareable\"")
        + r#"
        type Query { position: Position @shareable }
        type Position @shareable { x: Int y: Int }
    "#;
    let b = fed2("\"@shareable\"")
        + r#"
        type Query { position: Position @shareable }
        type Position { x: Int @shareable y: Int @shareable }
    "#;
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    assert_eq!(field_line(&sdl, "type", "Position", "x").trim(), "x: Int");
    assert_eq!(
        field_line(&sdl, "type", "Query", "position").trim(),
        "position: Position"
    );
}

#[test]
fn override_drops_the_source_field() {
    let a = fed2("\"@key\"")
        + r#"
        type Query { posts: [Post] }
        type Post @key(fields: "id") { id: ID! title: String }
    "#;
    let b = fed2("\"@key\", \"@override\"")
        + r#"
        type Post @key(fields: "id") { id: ID! title: String @override(from: "a") }
    "#;
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    assert_eq!(
        field_line(&sdl, "type", "Post", "title").trim(),
        "title: String @join__field(graph: B, override: \"a\")"
    );
    let plan = plan(&sdl, "{ posts { title } }");
    assert!(plan.contains("\"b\""), "{plan}");
}

#[test]
fn override_of_a_field_used_by_a_key_keeps_it_as_used_overridden() {
    let a = fed2("\"@key\"")
        + r#"
        type Query { posts: [Post] }
        type Post @key(fields: "id slug") { id: ID! slug: String! }
    "#;
    let b = fed2("\"@key\", \"@override\"")
        + r#"
        type Post @key(fields: "id") { id: ID! slug: String! @override(from: "a") }
    "#;
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    assert_eq!(
        field_line(&sdl, "type", "Post", "slug").trim(),
        "slug: String! @join__field(graph: A, usedOverridden: true) @join__field(graph: B, override: \"a\")"
    );
}

#[test]
fn progressive_override_with_a_label() {
    let a = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.7\", import: [\"@key\"])\n"
        .to_owned()
        + r#"
        type Query { posts: [Post] }
        type Post @key(fields: "id") { id: ID! title: String }
    "#;
    let b = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.7\", import: [\"@key\", \"@override\"])\n".to_owned()
        + r#"
        type Post @key(fields: "id") { id: ID! title: String @override(from: "a", label: "percent(25)") }
    "#;
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    assert_eq!(
        field_line(&sdl, "type", "Post", "title").trim(),
        "title: String @join__field(graph: A, overrideLabel: \"percent(25)\") @join__field(graph: B, override: \"a\", overrideLabel: \"percent(25)\")"
    );
    assert!(sdl.contains("https://specs.apollo.dev/join/v0.5"));
    let off = plan(&sdl, "{ posts { title } }");
    let on = plan_with_labels(&sdl, "{ posts { title } }", &["percent(25)"]);
    assert!(!off.contains("\"b\""), "{off}");
    assert!(on.contains("\"b\""), "{on}");
}

#[test]
fn inaccessible_is_carried_with_its_link() {
    let a = fed2("\"@key\", \"@inaccessible\"")
        + r#"
        type Query { users(kind: Kind = ADMIN @inaccessible): [User] }
        type User @key(fields: "id") { id: ID! secret: String @inaccessible }
        enum Kind { ADMIN @inaccessible USER }
        type Hidden @inaccessible { x: Int }
    "#;
    let sdl = compose_ok(&[("a", &a)]);
    assert!(
        sdl.contains("@link(url: \"https://specs.apollo.dev/inaccessible/v0.2\", for: SECURITY)")
    );
    assert!(sdl.contains("directive @inaccessible on FIELD_DEFINITION"));
    assert!(field_line(&sdl, "type", "User", "secret").contains("@inaccessible"));
    assert!(field_line(&sdl, "type", "Query", "users").contains("kind: Kind = ADMIN @inaccessible"));
    assert!(
        definition(&sdl, "enum", "Kind").contains("ADMIN @inaccessible @join__enumValue(graph: A)")
    );
    assert!(definition(&sdl, "type", "Hidden").contains("@inaccessible"));
    let sg = goliath_supergraph::Supergraph::parse(&sdl).unwrap();
    assert!(sg.api_schema.types.get("Hidden").is_none());
}

#[test]
fn tag_is_carried_with_its_link() {
    let a = fed2("\"@key\", \"@tag\"")
        + r#"
        type Query { users: [User] @tag(name: "public") }
        type User @key(fields: "id") @tag(name: "entity") { id: ID! }
    "#;
    let b = fed2("\"@key\", \"@tag\"")
        + r#"
        type User @key(fields: "id") @tag(name: "entity") @tag(name: "b") { id: ID! name: String }
    "#;
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    assert!(sdl.contains("@link(url: \"https://specs.apollo.dev/tag/v0.3\")"));
    assert!(sdl.contains("directive @tag(name: String!) repeatable on"));
    let user = definition(&sdl, "type", "User");
    assert_eq!(user.matches("@tag(name: \"entity\")").count(), 1, "{user}");
    assert!(user.contains("@tag(name: \"b\")"), "{user}");
    assert!(field_line(&sdl, "type", "Query", "users").contains("@tag(name: \"public\")"));
}

#[test]
fn interface_object() {
    let a = fed2("\"@key\"")
        + r#"
        type Query { accounts: [Account] }
        interface Account @key(fields: "id") { id: ID! }
        type Admin implements Account @key(fields: "id") { id: ID! level: Int }
        type User implements Account @key(fields: "id") { id: ID! }
    "#;
    let b = fed2("\"@key\", \"@interfaceObject\"")
        + r#"
        type Account @key(fields: "id") @interfaceObject { id: ID! email: String }
    "#;
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    let account = definition(&sdl, "interface", "Account");
    assert!(
        account.contains("@join__type(graph: B, key: \"id\", isInterfaceObject: true)"),
        "{account}"
    );
    assert_eq!(
        field_line(&sdl, "interface", "Account", "email").trim(),
        "email: String @join__field(graph: B)"
    );
    // Implementations get the field with a bare @join__field.
    assert_eq!(
        field_line(&sdl, "type", "Admin", "email").trim(),
        "email: String @join__field"
    );
    let plan = plan(&sdl, "{ accounts { id email } }");
    assert!(plan.contains("\"b\""), "{plan}");
}

#[test]
fn renamed_imports_and_prefixed_directives() {
    let a = r#"
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.3",
          import: [{name: "@key", as: "@id"}, {name: "@shareable", as: "@shared"}])
        type Query { product: Product @shared }
        type Product @id(fields: "upc") { upc: ID! name: String @federation__shareable }
    "#;
    let b = r#"
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", as: "fed", import: ["@key"])
        type Query { product: Product @fed__shareable }
        type Product @key(fields: "upc") { upc: ID! name: String @fed__shareable }
    "#;
    let sdl = compose_ok(&[("a", a), ("b", b)]);
    assert!(definition(&sdl, "type", "Product").contains("@join__type(graph: A, key: \"upc\")"));
    assert_eq!(
        field_line(&sdl, "type", "Product", "name").trim(),
        "name: String"
    );
}

#[test]
fn compose_directive_carries_definition_and_usages() {
    let a = r#"
        extend schema
          @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@composeDirective"])
          @link(url: "https://example.com/cache/v1.0", import: ["@cacheControl"])
          @composeDirective(name: "@cacheControl")
        directive @cacheControl(maxAge: Int) on FIELD_DEFINITION | OBJECT
        type Query { products: [Product] @cacheControl(maxAge: 30) }
        type Product @key(fields: "id") { id: ID! }
    "#;
    let sdl = compose_ok(&[("a", a)]);
    assert!(
        sdl.contains("@link(url: \"https://example.com/cache/v1.0\", import: [\"@cacheControl\"])"),
        "{sdl}"
    );
    assert!(sdl.contains("directive @cacheControl(maxAge: Int) on FIELD_DEFINITION | OBJECT"));
    assert!(field_line(&sdl, "type", "Query", "products").contains("@cacheControl(maxAge: 30)"));
}

#[test]
fn uncomposed_custom_directives_are_dropped() {
    let a = fed2("\"@key\"")
        + r#"
        directive @internal on FIELD_DEFINITION
        type Query { products: [Product] @internal @deprecated(reason: "use items") }
        type Product @key(fields: "id") { id: ID! }
    "#;
    let sdl = compose_ok(&[("a", &a)]);
    let line = field_line(&sdl, "type", "Query", "products");
    assert!(!line.contains("@internal"), "{line}");
    assert!(
        line.contains("@deprecated(reason: \"use items\")"),
        "{line}"
    );
}

#[test]
fn extension_types_are_marked() {
    let a = fed2("\"@key\"")
        + r#"
        type Query { products: [Product] }
        type Product @key(fields: "id") { id: ID! }
    "#;
    let b = fed2("\"@key\", \"@external\"")
        + r#"
        extend type Product @key(fields: "id") { id: ID! @external price: Int }
    "#;
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    let product = definition(&sdl, "type", "Product");
    assert!(
        product.contains("@join__type(graph: B, key: \"id\", extension: true)"),
        "{product}"
    );
    // A key field of an extension is not external.
    assert_eq!(field_line(&sdl, "type", "Product", "id").trim(), "id: ID!");
}

#[test]
fn type_level_shareable_covers_its_own_definition_only() {
    let a = fed2("\"@shareable\"")
        + r#"type Query { a: P @shareable }
             type P @shareable { x: Int }
             extend type P { y: Int }"#;
    let b = fed2("\"@shareable\"")
        + r#"type Query { a: P @shareable } type P @shareable { x: Int y: Int }"#;
    let errors = compose_err(&[("a", &a), ("b", &b)]);
    assert_error(
        &errors,
        goliath_compose::ErrorCode::InvalidFieldSharing,
        &["\"P.y\"", "subgraph \"a\""],
    );
}

/// Apollo Server's `@cacheControl`, composed with `@composeDirective`,
/// reaches the supergraph model as hints and stays out of the API schema.
#[test]
fn composed_cache_control_hints_are_read_from_the_supergraph() {
    let a = r#"
        extend schema
          @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@composeDirective"])
          @link(url: "https://example.com/cache/v1.0", import: ["@cacheControl"])
          @composeDirective(name: "@cacheControl")
        enum CacheControlScope { PUBLIC PRIVATE }
        directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION
        type Query { products: [Product] @cacheControl(maxAge: 30) }
        type Product @key(fields: "id") @cacheControl(maxAge: 60, scope: PRIVATE) {
          id: ID!
          name: String @cacheControl(inheritMaxAge: true)
        }
    "#;
    let sdl = compose_ok(&[("a", a)]);
    let supergraph = goliath_supergraph::Supergraph::parse(&sdl).unwrap();
    let hints = &supergraph.cache_hints;
    let field = hints.of_field("Query", "products").unwrap();
    assert_eq!((field.max_age, field.private), (Some(30), false));
    let ty = hints.of_type("Product").unwrap();
    assert_eq!((ty.max_age, ty.private), (Some(60), true));
    assert!(hints.of_field("Product", "name").unwrap().inherit_max_age);
    assert!(hints.of_field("Product", "id").is_none());
    let api = supergraph.api_schema.to_string();
    assert!(!api.contains("cacheControl"), "{api}");
}
