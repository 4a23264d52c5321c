//! Demand control directives (`@cost`, `@listSize`) through composition:
//! imported from Federation 2.9 or from the cost spec's own link, renamed or
//! not, merged across subgraphs and written as Apollo composition writes
//! them (expected texts follow Apollo's rules: the cost link imports only
//! names that differ from the spec's defaults, both definitions are added,
//! applications come after the join directives, weights merge by max,
//! `@listSize` by max / union / AND).

mod common;

use common::*;
use goliath_compose::ErrorCode;
use goliath_supergraph::Supergraph;

/// `@cost`/`@listSize` imported from Federation 2.9.
const FED29: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@cost", "@listSize"])
type Query {
  books(first: Int = 10): [Book] @listSize(slicingArguments: ["first"], requireOneSlicingArgument: false)
  shelf: Shelf @shareable
}
type Book @key(fields: "id") @cost(weight: 2) { id: ID! title: String @cost(weight: 1) }
type Shelf @shareable { books: [Book] @listSize(assumedSize: 5) }
"#;

/// The same directives from the cost spec's link, in a Federation 2.3 subgraph.
const COST_LINK: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])
  @link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@cost", "@listSize"])
type Query { shelf: Shelf @shareable @cost(weight: 3) }
type Shelf @shareable { books: [Book] @listSize(assumedSize: 8) }
type Book @key(fields: "id") { id: ID! rating(scale: Int @cost(weight: 4)): Int }
"#;

const EXPECTED: &str = r#"schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)
  @link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])
{
  query: Query
}

directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR

directive @join__directive(graphs: [join__Graph!], name: String!, args: join__DirectiveArguments) repeatable on SCHEMA | OBJECT | INTERFACE | FIELD_DEFINITION

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE

directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean, overrideLabel: String, contextArguments: [join__ContextArgument!]) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION

directive @join__graph(name: String!, url: String!) on ENUM_VALUE

directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE

directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR

directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION

directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION

type Book
  @join__type(graph: A, key: "id")
  @join__type(graph: B, key: "id")
  @cost(weight: 2)
{
  id: ID!
  title: String @join__field(graph: A) @cost(weight: 1)
  rating(scale: Int @cost(weight: 4)): Int @join__field(graph: B)
}

input join__ContextArgument {
  name: String!
  type: String!
  context: String!
  selection: join__FieldValue!
}

scalar join__DirectiveArguments

scalar join__FieldSet

scalar join__FieldValue

enum join__Graph {
  A @join__graph(name: "a", url: "http://a:4000/graphql")
  B @join__graph(name: "b", url: "http://b:4000/graphql")
}

scalar link__Import

enum link__Purpose {
  """
  `SECURITY` features provide metadata necessary to securely resolve fields.
  """
  SECURITY

  """
  `EXECUTION` features provide metadata necessary for operation execution.
  """
  EXECUTION
}

type Query
  @join__type(graph: A)
  @join__type(graph: B)
{
  books(first: Int = 10): [Book] @join__field(graph: A) @listSize(slicingArguments: ["first"], requireOneSlicingArgument: false)
  shelf: Shelf @cost(weight: 3)
}

type Shelf
  @join__type(graph: A)
  @join__type(graph: B)
{
  books: [Book] @listSize(assumedSize: 8, requireOneSlicingArgument: true)
}"#;

#[test]
fn federation_import_and_cost_link_compose_as_apollo_writes_them() {
    let sdl = compose_ok(&[("b", COST_LINK), ("a", FED29)]);
    assert_eq!(sdl, EXPECTED);
    // The router's model reads them back, and clients never see them.
    let sg = Supergraph::parse(&sdl).unwrap();
    assert_eq!(sg.costs.type_weight("Book"), Some(2.0));
    let api = sg.api_schema.to_string();
    assert!(!api.contains("@cost") && !api.contains("listSize"), "{api}");
}

/// One subgraph: the `@cost` on `Query.total` and `@listSize` on `Query.items`.
fn one(link: &str, cost: &str, list_size: &str) -> String {
    format!(
        "extend schema {link}\n\
         type Query {{ total: Int @{cost}(weight: 5) items(first: Int): [Int] @{list_size}(slicingArguments: [\"first\"]) }}"
    )
}

#[test]
fn renamed_imports_keep_their_names() {
    let link = r#"@link(url: "https://specs.apollo.dev/federation/v2.9", import: [{name: "@cost", as: "@price"}, {name: "@listSize", as: "@cartSize"}])"#;
    let sdl = compose_ok(&[("a", &one(link, "price", "cartSize"))]);
    assert!(sdl.contains(
        "  @link(url: \"https://specs.apollo.dev/cost/v0.1\", import: [{name: \"@cost\", as: \"@price\"}, {name: \"@listSize\", as: \"@cartSize\"}])\n"
    ), "{sdl}");
    assert!(sdl.contains("\ndirective @price(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR\n"));
    assert!(sdl.contains("\ndirective @cartSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION\n"));
    assert_eq!(
        field_line(&sdl, "type", "Query", "total").trim(),
        "total: Int @price(weight: 5)"
    );
    assert_eq!(
        field_line(&sdl, "type", "Query", "items").trim(),
        "items(first: Int): [Int] @cartSize(slicingArguments: [\"first\"])"
    );
    let sg = Supergraph::parse(&sdl).unwrap();
    assert_eq!(sg.costs.field("Query", "total").unwrap().weight, Some(5.0));
    assert!(sg
        .costs
        .field("Query", "items")
        .unwrap()
        .list_size
        .is_some());
    assert!(!sg.api_schema.to_string().contains("price"));
}

#[test]
fn prefixed_and_standalone_names() {
    // Not imported: the federation prefix is the name, imported as such.
    let link = r#"@link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])"#;
    let sdl = compose_ok(&[("a", &one(link, "federation__cost", "federation__listSize"))]);
    assert!(sdl.contains("import: [{name: \"@cost\", as: \"@federation__cost\"}, {name: \"@listSize\", as: \"@federation__listSize\"}])"), "{sdl}");
    // The cost link without imports: `@cost` and `@cost__listSize`, which
    // need no import.
    let link = r#"@link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"]) @link(url: "https://specs.apollo.dev/cost/v0.1")"#;
    let sdl = compose_ok(&[("a", &one(link, "cost", "cost__listSize"))]);
    assert!(
        sdl.contains("  @link(url: \"https://specs.apollo.dev/cost/v0.1\")\n"),
        "{sdl}"
    );
    assert!(sdl.contains("@link(url: \"https://specs.apollo.dev/join/v0.5\", for: EXECUTION)"));
    assert!(sdl.contains("\ndirective @cost__listSize(assumedSize: Int"));
    assert!(field_line(&sdl, "type", "Query", "items")
        .ends_with("@cost__listSize(slicingArguments: [\"first\"])"));
    let sg = Supergraph::parse(&sdl).unwrap();
    assert!(sg
        .costs
        .field("Query", "items")
        .unwrap()
        .list_size
        .is_some());
}

#[test]
fn only_cost_adds_both_definitions_and_no_import() {
    let a = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@cost"])
        type Query { total: Int @cost(weight: 5) }"#;
    let sdl = compose_ok(&[("a", a)]);
    assert!(
        sdl.contains("  @link(url: \"https://specs.apollo.dev/cost/v0.1\")\n"),
        "{sdl}"
    );
    assert!(sdl.contains("\ndirective @cost(weight: Int!)"));
    assert!(sdl.contains("\ndirective @cost__listSize(assumedSize: Int"));
}

#[test]
fn shared_elements_merge_weights_by_max() {
    let sub = |field: u32, ty: u32, arg: u32, input: u32, scalar: u32| {
        format!(
            r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@shareable", "@cost"])
            type Query {{ price(currency: Currency @cost(weight: {arg}), filter: Filter): Money @shareable @cost(weight: {field}) }}
            type Money @shareable @cost(weight: {ty}) {{ amount: Int }}
            enum Currency @cost(weight: 1) {{ EUR USD }}
            input Filter {{ min: Int @cost(weight: {input}) }}
            scalar Big @cost(weight: {scalar})"#
        )
    };
    let sdl = compose_ok(&[("a", &sub(5, 2, 1, 7, 3)), ("b", &sub(10, 1, 4, 2, 3))]);
    assert_eq!(
        field_line(&sdl, "type", "Query", "price").trim(),
        "price(currency: Currency @cost(weight: 4), filter: Filter): Money @cost(weight: 10)"
    );
    assert!(definition(&sdl, "type", "Money")
        .contains("  @join__type(graph: B)\n  @cost(weight: 2)\n{"));
    assert!(definition(&sdl, "enum", "Currency").contains("@cost(weight: 1)"));
    assert!(definition(&sdl, "input", "Filter").contains("  min: Int @cost(weight: 7)\n"));
    assert!(
        definition(&sdl, "scalar", "Big").ends_with("@join__type(graph: B)\n  @cost(weight: 3)")
    );
}

#[test]
fn list_sizes_merge_by_max_union_and_and() {
    let sub = |list_size: &str| {
        format!(
            r#"extend schema @link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])
              @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@shareable"])
            type Query {{ page(first: Int, last: Int): Page @shareable {list_size} }}
            type Page @shareable {{ items: [Int] more: [Int] }}"#
        )
    };
    let a =
        sub(r#"@listSize(assumedSize: 10, slicingArguments: ["first"], sizedFields: ["items"])"#);
    let b = sub(
        r#"@listSize(slicingArguments: ["last", "first"], sizedFields: ["more"], requireOneSlicingArgument: false)"#,
    );
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    assert_eq!(
        field_line(&sdl, "type", "Query", "page").trim(),
        "page(first: Int, last: Int): Page @listSize(assumedSize: 10, slicingArguments: [\"first\", \"last\"], sizedFields: [\"items\", \"more\"], requireOneSlicingArgument: false)"
    );
    // Applications equal once defaults are filled in: the first, as written.
    let a = sub(r#"@listSize(sizedFields: ["items"], assumedSize: 3)"#);
    let b = sub(
        r#"@listSize(assumedSize: 3, sizedFields: ["items"], requireOneSlicingArgument: true)"#,
    );
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    assert!(
        field_line(&sdl, "type", "Query", "page")
            .ends_with("@listSize(sizedFields: [\"items\"], assumedSize: 3)"),
        "{sdl}"
    );
}

#[test]
fn interface_object_fields_carry_list_size() {
    let a = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
        type Query { node(id: ID!): Node }
        interface Node @key(fields: "id") { id: ID! }
        type User implements Node @key(fields: "id") { id: ID! }"#;
    let b = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@interfaceObject", "@listSize"])
        type Node @key(fields: "id") @interfaceObject { id: ID! tags: [String] @listSize(assumedSize: 10) }"#;
    let sdl = compose_ok(&[("a", a), ("b", b)]);
    assert_eq!(
        field_line(&sdl, "interface", "Node", "tags").trim(),
        "tags: [String] @join__field(graph: B) @listSize(assumedSize: 10)"
    );
    assert_eq!(
        field_line(&sdl, "type", "User", "tags").trim(),
        "tags: [String] @listSize(assumedSize: 10) @join__field"
    );
}

#[test]
fn names_must_agree_across_subgraphs() {
    let a = r#"extend schema @link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@cost"])
        @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@shareable"])
        type Query { a: Int @cost(weight: 5) }"#;
    let b = r#"extend schema @link(url: "https://specs.apollo.dev/cost/v0.1", import: [{name: "@cost", as: "@renamedCost"}])
        @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@shareable"])
        type Query { b: Int @renamedCost(weight: 10) }"#;
    let errors = compose_err(&[
        ("subgraphWithDefaultName", a),
        ("subgraphWithDifferentName", b),
    ]);
    assert_error(
        &errors,
        ErrorCode::LinkImportNameMismatch,
        &["The \"@cost\" directive (from https://specs.apollo.dev/cost/v0.1) is imported with mismatched name between subgraphs: it is imported as \"@renamedCost\" in subgraph \"subgraphWithDifferentName\" but \"@cost\" in subgraph \"subgraphWithDefaultName\""],
    );
}

#[test]
fn misuses_are_refused_with_apollos_codes() {
    let sub = |body: &str| {
        format!(
            "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.9\", import: [\"@cost\", \"@listSize\"])\n{body}"
        )
    };
    let cases = [
        (
            "type Query { a: A } interface A { x: Int @cost(weight: 10) } type B implements A { x: Int }",
            ErrorCode::CostAppliedToInterfaceField,
            "[s] @cost cannot be applied to interface \"A.x\"",
        ),
        (
            "type Query { a: A } interface A @cost(weight: 1) { x: Int } type B implements A { x: Int }",
            ErrorCode::InvalidGraphql,
            "[s] Directive \"@cost\" may not be used on INTERFACE.",
        ),
        (
            "type Query { a: [Int] @listSize(assumedSize: -5) }",
            ErrorCode::ListSizeInvalidAssumedSize,
            "[s] Assumed size of \"Query.a\" cannot be negative",
        ),
        (
            "type Query { a: A @listSize(assumedSize: 5) } type A { ints: [Int] }",
            ErrorCode::ListSizeAppliedToNonList,
            "[s] \"Query.a\" is not a list",
        ),
        (
            "type Query { s(first: String): [Int] @listSize(slicingArguments: [\"first\"]) }",
            ErrorCode::ListSizeInvalidSlicingArgument,
            "[s] Slicing argument \"Query.s(first:)\" must be Int or Int!",
        ),
        (
            "type Query { s(first: Int): [Int] @listSize(slicingArguments: [\"last\"]) }",
            ErrorCode::ListSizeInvalidSlicingArgument,
            "[s] Slicing argument \"last\" is not an argument of \"Query.s\"",
        ),
        (
            "type Query { s(first: Int): [String] @listSize(slicingArguments: [\"first\"], sizedFields: [\"edges\"]) }",
            ErrorCode::ListSizeInvalidSizedField,
            "[s] Sized fields cannot be used because \"[String]\" is not a composite type",
        ),
        (
            "type Query { s(first: Int): C @listSize(slicingArguments: [\"first\"], sizedFields: [\"discount\"]) } type C { edges: [String] count: Int }",
            ErrorCode::ListSizeInvalidSizedField,
            "[s] Sized field \"discount\" is not a field on type \"C\"",
        ),
        (
            "type Query { s(first: Int): C @listSize(slicingArguments: [\"first\"], sizedFields: [\"count\"]) } type C { edges: [String] count: Int }",
            ErrorCode::ListSizeAppliedToNonList,
            "[s] Sized field \"C.count\" is not a list",
        ),
    ];
    for (body, code, message) in cases {
        let errors = compose_err(&[("s", &sub(body))]);
        assert_error(&errors, code, &[message]);
    }
    // Before Federation 2.9 the federation spec has no @cost.
    let old = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.8\", import: [\"@cost\"])\ntype Query { a: Int }";
    assert_error(
        &compose_err(&[("s", old)]),
        ErrorCode::InvalidLinkDirectiveUsage,
        &["Cannot import unknown element \"@cost\""],
    );
}

#[test]
fn federation_1_cost_is_a_directive_of_its_own() {
    // Federation 1 knows no demand control: a `@cost` there is not composed.
    let a =
        "directive @cost(weight: Int!) on FIELD_DEFINITION\ntype Query { a: Int @cost(weight: 1) }";
    let sdl = compose_ok(&[("a", a)]);
    assert!(!sdl.contains("cost"), "{sdl}");
}
