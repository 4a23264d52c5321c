//! How types merge across subgraphs: enums by usage, input objects,
//! interfaces, unions, arguments, field types and descriptions.

mod common;

use common::*;

#[test]
fn output_enums_take_the_union_of_values() {
    let a = fed2("") + "type Query { a: Color } enum Color { RED GREEN }";
    let b = fed2("") + "type Query { b: Color } enum Color { RED BLUE }";
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    let color = definition(&sdl, "enum", "Color");
    assert!(
        color.contains("RED @join__enumValue(graph: A) @join__enumValue(graph: B)"),
        "{color}"
    );
    assert!(
        color.contains("GREEN @join__enumValue(graph: A)\n"),
        "{color}"
    );
    assert!(color.contains("BLUE @join__enumValue(graph: B)"), "{color}");
}

#[test]
fn input_enums_take_the_intersection_of_values() {
    let a = fed2("") + "type Query { a(c: Color): Int } enum Color { RED GREEN }";
    let b = fed2("") + "type Query { b(c: Color): Int } enum Color { RED BLUE }";
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    let color = definition(&sdl, "enum", "Color");
    assert!(color.contains("RED"), "{color}");
    assert!(
        !color.contains("GREEN") && !color.contains("BLUE"),
        "{color}"
    );
}

#[test]
fn enums_used_both_ways_may_differ_by_inaccessible_values() {
    let a = fed2("") + "type Query { a(c: Color): Color } enum Color { RED }";
    let b = fed2("\"@inaccessible\"")
        + "type Query { b: Color } enum Color { RED SECRET @inaccessible }";
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    assert!(definition(&sdl, "enum", "Color")
        .contains("SECRET @inaccessible @join__enumValue(graph: B)"));
}

#[test]
fn input_objects_take_common_fields_with_the_strictest_types() {
    let a = fed2("") + "type Query { a(f: Filter): Int } input Filter { first: Int! offset: Int }";
    let b = fed2("") + "type Query { b(f: Filter): Int } input Filter { first: Int after: String }";
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    let filter = definition(&sdl, "input", "Filter");
    assert!(filter.contains("  first: Int!\n"), "{filter}");
    assert!(
        !filter.contains("offset") && !filter.contains("after"),
        "{filter}"
    );
    assert!(filter.contains("@join__type(graph: A)") && filter.contains("@join__type(graph: B)"));
}

#[test]
fn unions_merge_members_per_subgraph() {
    let a = fed2("") + "type Query { a: Media } union Media = Book | Song type Book { t: String } type Song { t: String }";
    let b = fed2("") + "type Query { b: Media } union Media = Movie type Movie { t: String }";
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    let media = definition(&sdl, "union", "Media");
    assert!(media.ends_with(" = Book | Song | Movie"), "{media}");
    assert!(
        media.contains("@join__unionMember(graph: A, member: \"Book\")"),
        "{media}"
    );
    assert!(
        media.contains("@join__unionMember(graph: B, member: \"Movie\")"),
        "{media}"
    );
}

#[test]
fn interfaces_and_implementations_per_subgraph() {
    let a = fed2("\"@key\"")
        + r#"type Query { nodes: [Node] }
             interface Node { id: ID! }
             type Product implements Node @key(fields: "id") { id: ID! }"#;
    let b = fed2("\"@key\"")
        + r#"interface Node { id: ID! }
             interface Named { name: String }
             type Product implements Node & Named @key(fields: "id") { id: ID! name: String }"#;
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    let product = definition(&sdl, "type", "Product");
    assert!(
        product.starts_with("type Product implements Node & Named\n"),
        "{product}"
    );
    assert!(product.contains("@join__implements(graph: A, interface: \"Node\")"));
    assert!(product.contains("@join__implements(graph: B, interface: \"Named\")"));
    let plan = plan(&sdl, "{ nodes { id ... on Product { name } } }");
    assert!(plan.contains("\"b\""), "{plan}");
}

#[test]
fn output_types_take_the_most_general_and_record_each() {
    let a = fed2("\"@shareable\"")
        + "type Query { a: T } type T @shareable { id: ID! tags: [String!] }";
    let b =
        fed2("\"@shareable\"") + "type Query { b: T } type T @shareable { id: ID tags: [String] }";
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    assert_eq!(
        field_line(&sdl, "type", "T", "id").trim(),
        "id: ID @join__field(graph: A, type: \"ID!\") @join__field(graph: B, type: \"ID\")"
    );
    assert!(field_line(&sdl, "type", "T", "tags").starts_with("  tags: [String] "));
}

#[test]
fn union_member_return_types_are_compatible() {
    let a = fed2("\"@shareable\"")
        + "type Query { pick: Book @shareable } union Media = Book type Book @shareable { t: String }";
    let b = fed2("\"@shareable\"")
        + "type Query { pick: Media @shareable } union Media = Book type Book @shareable { t: String }";
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    assert_eq!(
        field_line(&sdl, "type", "Query", "pick").trim(),
        "pick: Media @join__field(graph: A, type: \"Book\") @join__field(graph: B, type: \"Media\")"
    );
}

#[test]
fn arguments_are_intersected() {
    let a = fed2("\"@shareable\"")
        + "type Query { search(q: String, limit: Int): [String] @shareable }";
    let b = fed2("\"@shareable\"") + "type Query { search(q: String!): [String] @shareable }";
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    assert_eq!(
        field_line(&sdl, "type", "Query", "search").trim(),
        "search(q: String!): [String]"
    );
}

#[test]
fn descriptions_are_merged() {
    let a = fed2("\"@shareable\"")
        + r#""The user" type Query { "who" me: User @shareable } type User @shareable { "display" name: String }"#;
    let b = fed2("\"@shareable\"")
        + r#"type Query { me: User @shareable } """
The person
using the app
""" type User @shareable { name: String }"#;
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    assert!(
        sdl.contains("\"\"\"\nThe person\nusing the app\n\"\"\"\ntype User"),
        "{sdl}"
    );
    assert!(
        sdl.contains("  \"\"\"display\"\"\"\n  name: String"),
        "{sdl}"
    );
    assert!(sdl.contains("\"\"\"The user\"\"\"\ntype Query"), "{sdl}");
}

#[test]
fn root_types_are_renamed() {
    let a = fed2("\"@key\"")
        + r#"schema { query: RootQuery mutation: RootMutation }
             type RootQuery { a: T } type RootMutation { setA(x: Int): T }
             type T @key(fields: "id") { id: ID! }"#;
    let b =
        fed2("\"@key\"") + r#"type Query { b: T } type T @key(fields: "id") { id: ID! x: Int }"#;
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    assert!(
        sdl.contains("{\n  query: Query\n  mutation: Mutation\n}"),
        "{sdl}"
    );
    assert!(field_line(&sdl, "type", "Query", "a").contains("@join__field(graph: A)"));
    assert!(definition(&sdl, "type", "Mutation").contains("setA(x: Int): T"));
    assert!(!sdl.contains("RootQuery"));
}

#[test]
fn subgraph_machinery_is_ignored() {
    let a = fed2("\"@key\"")
        + r#"
        scalar _Any
        scalar FieldSet
        type _Service { sdl: String }
        union _Entity = T
        directive @key(fields: FieldSet!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE
        type Query { a: T _service: _Service! _entities(representations: [_Any!]!): [_Entity]! }
        type T @key(fields: "id") { id: ID! }
    "#;
    let sdl = compose_ok(&[("a", &a)]);
    assert!(
        !sdl.contains("_service") && !sdl.contains("_Any") && !sdl.contains("_Entity"),
        "{sdl}"
    );
}

#[test]
fn every_subgraph_joins_the_query_type() {
    let a = fed2("\"@key\"") + r#"type Query { a: T } type T @key(fields: "id") { id: ID! }"#;
    let b = fed2("\"@key\"") + r#"type T @key(fields: "id") { id: ID! b: Int }"#;
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    let query = definition(&sdl, "type", "Query");
    assert!(query.contains("@join__type(graph: B)"), "{query}");
}

#[test]
fn argument_descriptions_put_one_argument_per_line() {
    let a =
        fed2("") + r#"type Query { search("what to look for" q: String, limit: Int): [String] }"#;
    let sdl = compose_ok(&[("a", &a)]);
    assert!(
        sdl.contains("  search(\n    \"\"\"what to look for\"\"\"\n    q: String\n    limit: Int\n  ): [String]\n"),
        "{sdl}"
    );
}

#[test]
fn a_non_repeatable_directive_is_carried_once() {
    let a = fed2("\"@shareable\"")
        + r#"type Query { old: Int @shareable @deprecated(reason: "use new") }"#;
    let b = fed2("\"@shareable\"")
        + r#"type Query { old: Int @shareable @deprecated(reason: "gone soon") }"#;
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    assert_eq!(
        field_line(&sdl, "type", "Query", "old").trim(),
        "old: Int @deprecated(reason: \"use new\")"
    );
}
