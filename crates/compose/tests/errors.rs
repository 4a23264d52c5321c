//! Subgraph sets that do not compose: each error has Apollo's code and a
//! message naming the subgraph, type and field involved.

mod common;

use common::*;
use goliath_compose::ErrorCode;

#[test]
fn invalid_graphql_syntax() {
    let errors = compose_err(&[("broken", "type Query { a: Int ")]);
    assert_error(
        &errors,
        ErrorCode::InvalidGraphql,
        &["[broken]", "Invalid GraphQL"],
    );
}

#[test]
fn unknown_type() {
    let errors = compose_err(&[("a", "type Query { me: User }")]);
    assert_error(
        &errors,
        ErrorCode::InvalidGraphql,
        &["[a]", "Unknown type \"User\"", "Query.me"],
    );
}

#[test]
fn field_type_mismatch() {
    let a = fed2("\"@shareable\"") + "type Query { a: Int } type T @shareable { f: String }";
    let b = fed2("\"@shareable\"") + "type Query { b: T } type T @shareable { f: Int }";
    let errors = compose_err(&[("a", &a), ("b", &b)]);
    assert_error(
        &errors,
        ErrorCode::FieldTypeMismatch,
        &[
            "\"T.f\"",
            "type \"String\" in subgraph \"a\"",
            "type \"Int\" in subgraph \"b\"",
        ],
    );
}

#[test]
fn invalid_field_sharing() {
    let a = fed2("\"@key\"")
        + "type Query { a: T } type T @key(fields: \"id\") { id: ID! name: String }";
    let b = fed2("\"@key\"") + "type T @key(fields: \"id\") { id: ID! name: String }";
    let errors = compose_err(&[("a", &a), ("b", &b)]);
    assert_error(
        &errors,
        ErrorCode::InvalidFieldSharing,
        &[
            "Non-shareable field \"T.name\"",
            "\"a\" and \"b\"",
            "non-shareable in all of them",
        ],
    );
}

#[test]
fn external_missing_on_base() {
    let a = fed2("\"@key\", \"@external\", \"@requires\"")
        + r#"type Query { a: T }
             type T @key(fields: "id") { id: ID! w: Int @external x: Int @requires(fields: "w") }"#;
    let errors = compose_err(&[("a", &a)]);
    assert_error(
        &errors,
        ErrorCode::ExternalMissingOnBase,
        &[
            "Field \"T.w\"",
            "marked @external on all the subgraphs",
            "subgraph \"a\"",
        ],
    );
}

#[test]
fn key_fields_select_invalid_type() {
    let a = fed2("\"@key\"")
        + r#"type Query { a: T }
             interface Node { id: ID! }
             type N implements Node { id: ID! }
             type T @key(fields: "node { id }") { node: Node tags: [String] }"#;
    let errors = compose_err(&[("a", &a)]);
    assert_error(
        &errors,
        ErrorCode::KeyFieldsSelectInvalidType,
        &[
            "[a]",
            "On type \"T\"",
            "field \"T.node\" is a Interface type",
        ],
    );
}

#[test]
fn key_invalid_fields() {
    let a = fed2("\"@key\"") + r#"type Query { a: T } type T @key(fields: "uuid") { id: ID! }"#;
    let errors = compose_err(&[("a", &a)]);
    assert_error(
        &errors,
        ErrorCode::KeyInvalidFields,
        &[
            "[a]",
            "On type \"T\", for @key(fields: \"uuid\")",
            "Cannot query field \"uuid\" on type \"T\"",
        ],
    );
}

#[test]
fn key_fields_with_arguments() {
    let a = fed2("\"@key\"")
        + r#"type Query { a: T } type T @key(fields: "id(x: 1)") { id(x: Int): ID! }"#;
    let errors = compose_err(&[("a", &a)]);
    assert_error(&errors, ErrorCode::KeyFieldsHasArgs, &["[a]", "T.id"]);
}

#[test]
fn requires_fields_missing_external() {
    let a = fed2("\"@key\", \"@requires\"")
        + r#"type Query { users: [User] }
             type User @key(fields: "id") { id: ID! internalId: ID! profile: String @requires(fields: "internalId") }"#;
    let errors = compose_err(&[("users", &a)]);
    assert_error(
        &errors,
        ErrorCode::RequiresFieldsMissingExternal,
        &[
            "[users] On field \"User.profile\", for @requires(fields: \"internalId\")",
            "field \"User.internalId\" should not be part of a @requires",
        ],
    );
}

#[test]
fn requires_invalid_fields() {
    let a = fed2("\"@key\", \"@requires\"")
        + r#"type Query { a: T } type T @key(fields: "id") { id: ID! x: Int @requires(fields: "nope") }"#;
    let errors = compose_err(&[("a", &a)]);
    assert_error(
        &errors,
        ErrorCode::RequiresInvalidFields,
        &["[a]", "T.x", "\"nope\""],
    );
}

#[test]
fn provides_fields_missing_external() {
    let a =
        fed2("\"@provides\"") + r#"type Query { t: T @provides(fields: "f") } type T { f: Int }"#;
    let errors = compose_err(&[("s", &a)]);
    assert_error(
        &errors,
        ErrorCode::ProvidesFieldsMissingExternal,
        &["[s] On field \"Query.t\", for @provides(fields: \"f\"): field \"T.f\" should not be part of a @provides"],
    );
}

#[test]
fn provides_on_non_object_field() {
    let a = fed2("\"@provides\"") + r#"type Query { t: String @provides(fields: "f") }"#;
    let errors = compose_err(&[("s", &a)]);
    assert_error(
        &errors,
        ErrorCode::ProvidesOnNonObjectField,
        &["[s]", "\"Query.t\""],
    );
}

#[test]
fn override_source_has_override() {
    let a = fed2("\"@key\", \"@override\"")
        + r#"type Query { a: T } type T @key(fields: "id") { id: ID! f: Int @override(from: "b") }"#;
    let b = fed2("\"@key\", \"@override\"")
        + r#"type T @key(fields: "id") { id: ID! f: Int @override(from: "a") }"#;
    let errors = compose_err(&[("a", &a), ("b", &b)]);
    assert_error(
        &errors,
        ErrorCode::OverrideSourceHasOverride,
        &[
            "Field \"T.f\" on subgraph",
            "also marked with directive @override",
        ],
    );
}

#[test]
fn override_from_self() {
    let a = fed2("\"@key\", \"@override\"")
        + r#"type Query { a: T } type T @key(fields: "id") { id: ID! f: Int @override(from: "a") }"#;
    let errors = compose_err(&[("a", &a)]);
    assert_error(
        &errors,
        ErrorCode::OverrideFromSelfError,
        &["[a]", "\"T.f\""],
    );
}

#[test]
fn override_collision_with_requires() {
    let a = fed2("\"@key\", \"@external\", \"@requires\"")
        + r#"type Query { a: T } type T @key(fields: "id") { id: ID! w: Int @external f: Int @requires(fields: "w") }"#;
    let b = fed2("\"@key\", \"@override\"")
        + r#"type T @key(fields: "id") { id: ID! w: Int f: Int @override(from: "a") }"#;
    let errors = compose_err(&[("a", &a), ("b", &b)]);
    assert_error(
        &errors,
        ErrorCode::OverrideCollisionWithAnotherDirective,
        &["\"T.f\"", "subgraph \"b\"", "@requires"],
    );
}

#[test]
fn empty_merged_enum_type() {
    let a = fed2("") + "type Query { a(s: Size): Int } enum Size { S }";
    let b = fed2("") + "type Query { b(s: Size): Int } enum Size { L }";
    let errors = compose_err(&[("a", &a), ("b", &b)]);
    assert_error(
        &errors,
        ErrorCode::EmptyMergedEnumType,
        &["enum type \"Size\""],
    );
}

#[test]
fn enum_value_mismatch() {
    let a = fed2("") + "type Query { a(s: Size): Size } enum Size { S M }";
    let b = fed2("") + "type Query { b: Size } enum Size { S }";
    let errors = compose_err(&[("a", &a), ("b", &b)]);
    assert_error(
        &errors,
        ErrorCode::EnumValueMismatch,
        &[
            "Enum type \"Size\"",
            "value \"M\"",
            "subgraph \"a\" but not in subgraph \"b\"",
        ],
    );
}

#[test]
fn empty_merged_input_type() {
    let a = fed2("") + "type Query { a(f: Filter): Int } input Filter { x: Int }";
    let b = fed2("") + "type Query { b(f: Filter): Int } input Filter { y: Int }";
    let errors = compose_err(&[("a", &a), ("b", &b)]);
    assert_error(
        &errors,
        ErrorCode::EmptyMergedInputType,
        &["input object type \"Filter\""],
    );
}

#[test]
fn required_input_field_missing() {
    let a = fed2("") + "type Query { a(f: Filter): Int } input Filter { x: Int y: Int! }";
    let b = fed2("") + "type Query { b(f: Filter): Int } input Filter { x: Int }";
    let errors = compose_err(&[("a", &a), ("b", &b)]);
    assert_error(
        &errors,
        ErrorCode::RequiredInputFieldMissingInSomeSubgraph,
        &[
            "\"Filter.y\"",
            "required in subgraph \"a\"",
            "does not appear in subgraph \"b\"",
        ],
    );
}

#[test]
fn required_argument_missing_in_some_subgraph() {
    let a = fed2("\"@shareable\"") + "type Query { t(id: ID!): Int @shareable }";
    let b = fed2("\"@shareable\"") + "type Query { t: Int @shareable }";
    let errors = compose_err(&[("a", &a), ("b", &b)]);
    assert_error(
        &errors,
        ErrorCode::RequiredArgumentMissingInSomeSubgraph,
        &[
            "\"Query.t(id:)\"",
            "required in subgraph \"a\"",
            "subgraph \"b\"",
        ],
    );
}

#[test]
fn field_argument_type_mismatch() {
    let a = fed2("\"@shareable\"") + "type Query { t(id: ID): Int @shareable }";
    let b = fed2("\"@shareable\"") + "type Query { t(id: Int): Int @shareable }";
    let errors = compose_err(&[("a", &a), ("b", &b)]);
    assert_error(
        &errors,
        ErrorCode::FieldArgumentTypeMismatch,
        &["\"Query.t(id:)\"", "\"a\"", "\"b\""],
    );
}

#[test]
fn type_kind_mismatch() {
    let a = fed2("") + "type Query { a: Thing } type Thing { x: Int }";
    let b = fed2("") + "type Query { b: Thing } interface Thing { x: Int }";
    let errors = compose_err(&[("a", &a), ("b", &b)]);
    assert_error(
        &errors,
        ErrorCode::TypeKindMismatch,
        &[
            "Type \"Thing\"",
            "Object Type in subgraph \"a\"",
            "Interface Type in subgraph \"b\"",
        ],
    );
}

#[test]
fn external_unused() {
    let a = fed2("\"@key\", \"@external\"")
        + r#"type Query { a: T } type T @key(fields: "id") { id: ID! w: Int @external }"#;
    let b = fed2("\"@key\"") + r#"type T @key(fields: "id") { id: ID! w: Int }"#;
    let errors = compose_err(&[("a", &a), ("b", &b)]);
    assert_error(
        &errors,
        ErrorCode::ExternalUnused,
        &["[a]", "Field \"T.w\" is marked @external"],
    );
}

#[test]
fn unknown_federation_import() {
    let a = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.3\", import: [\"@key\", \"@frobnicate\"])\ntype Query { a: Int }";
    let errors = compose_err(&[("a", a)]);
    assert_error(
        &errors,
        ErrorCode::InvalidLinkDirectiveUsage,
        &["[a]", "\"@frobnicate\""],
    );
}

#[test]
fn key_on_interface_before_2_3() {
    let a = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.2", import: ["@key"])
        type Query { a: I } interface I @key(fields: "id") { id: ID! }"#;
    let errors = compose_err(&[("a", a)]);
    assert_error(
        &errors,
        ErrorCode::KeyUnsupportedOnInterface,
        &["[a]", "interface \"I\""],
    );
}

#[test]
fn interface_field_not_implemented() {
    let a =
        fed2("") + "type Query { a: I } interface I { id: ID! } type A implements I { id: ID! }";
    let b = fed2("")
        + "interface I { id: ID! name: String } type B implements I { id: ID! name: String }";
    let errors = compose_err(&[("a", &a), ("b", &b)]);
    assert_error(
        &errors,
        ErrorCode::InterfaceFieldNoImplementation,
        &["\"I.name\"", "type \"A\"", "subgraph \"a\""],
    );
}

#[test]
fn interface_object_without_interface() {
    let a = fed2("\"@key\", \"@interfaceObject\"")
        + r#"type Query { a: I } type I @key(fields: "id") @interfaceObject { id: ID! }"#;
    let errors = compose_err(&[("a", &a)]);
    assert_error(
        &errors,
        ErrorCode::InterfaceObjectUsageError,
        &["\"I\"", "subgraph \"a\""],
    );
}

#[test]
fn no_queries() {
    let a = fed2("") + "type Mutation { a: Int }";
    let errors = compose_err(&[("a", &a)]);
    assert_error(&errors, ErrorCode::NoQueries, &["No queries found"]);
}

#[test]
fn unsatisfiable_value_type_field() {
    // `Position.z` lives only in b, and no b field ever returns a Position.
    let a = fed2("\"@shareable\"")
        + "type Query { here: Position } type Position @shareable { x: Int }";
    let b = fed2("\"@shareable\"")
        + "type Query { other: Int } type Position @shareable { x: Int z: Int }";
    let errors = compose_err(&[("a", &a), ("b", &b)]);
    assert_error(
        &errors,
        ErrorCode::SatisfiabilityError,
        &[
            "here {",
            "z",
            "cannot be satisfied",
            "from subgraph \"a\": cannot find field \"Position.z\"",
            "subgraph \"b\"",
        ],
    );
}

#[test]
fn every_error_is_listed() {
    let a = fed2("\"@key\"")
        + r#"type Query { a: T } type T @key(fields: "nope") { id: ID! } type U @key(fields: "missing") { id: ID! }"#;
    let b = "type Query { b: Unknown }";
    let errors = compose_err(&[("a", &a), ("b", b)]);
    assert_error(&errors, ErrorCode::KeyInvalidFields, &["[a]", "\"T\""]);
    assert_error(&errors, ErrorCode::KeyInvalidFields, &["[a]", "\"U\""]);
    assert_error(&errors, ErrorCode::InvalidGraphql, &["[b]", "Unknown"]);
}

#[test]
fn referenced_inaccessible_type() {
    let a = fed2("\"@inaccessible\"")
        + "type Query { secret: Secret } type Secret @inaccessible { x: Int }";
    let errors = compose_err(&[("a", &a)]);
    assert_error(
        &errors,
        ErrorCode::ReferencedInaccessible,
        &["Type \"Secret\" is @inaccessible", "\"Query.secret\""],
    );
}

#[test]
fn required_argument_inaccessible() {
    let a = fed2("\"@inaccessible\"") + "type Query { f(id: ID! @inaccessible): Int }";
    let errors = compose_err(&[("a", &a)]);
    assert_error(
        &errors,
        ErrorCode::RequiredInaccessible,
        &["\"Query.f(id:)\""],
    );
}

#[test]
fn only_inaccessible_children() {
    let a = fed2("\"@inaccessible\"") + "type Query { f: T } type T { x: Int @inaccessible }";
    let errors = compose_err(&[("a", &a)]);
    assert_error(
        &errors,
        ErrorCode::OnlyInaccessibleChildren,
        &["Type \"T\"", "fields"],
    );
}

#[test]
fn invalid_override_label() {
    let a = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.7\", import: [\"@key\", \"@override\"])\n".to_owned()
        + r#"type Query { a: T } type T @key(fields: "id") { id: ID! f: Int @override(from: "b", label: "percent(101)") }"#;
    let b = fed2("\"@key\"") + r#"type T @key(fields: "id") { id: ID! f: Int }"#;
    let errors = compose_err(&[("a", &a), ("b", &b)]);
    assert_error(
        &errors,
        ErrorCode::OverrideLabelInvalid,
        &["[a] Invalid @override label \"percent(101)\" on field \"T.f\""],
    );
}

#[test]
fn override_label_needs_federation_2_7() {
    let a = fed2("\"@key\", \"@override\"")
        + r#"type Query { a: T } type T @key(fields: "id") { id: ID! f: Int @override(from: "b", label: "x") }"#;
    let b = fed2("\"@key\"") + r#"type T @key(fields: "id") { id: ID! f: Int }"#;
    let errors = compose_err(&[("a", &a), ("b", &b)]);
    assert_error(
        &errors,
        ErrorCode::InvalidGraphql,
        &["[a]", "\"label\"", "T.f"],
    );
}

#[test]
fn invalid_field_sharing_through_an_interface_object() {
    let a = fed2("\"@key\"")
        + r#"type Query { accounts: [Account] }
             interface Account @key(fields: "id") { id: ID! }
             type Admin implements Account @key(fields: "id") { id: ID! active: Boolean }"#;
    let b = fed2("\"@key\", \"@interfaceObject\"")
        + r#"type Account @key(fields: "id") @interfaceObject { id: ID! active: Boolean }"#;
    let errors = compose_err(&[("a", &a), ("b", &b)]);
    assert_error(
        &errors,
        ErrorCode::InvalidFieldSharing,
        &[
            "\"Admin.active\"",
            "\"b\" (through @interfaceObject field \"Account.active\")",
        ],
    );
}

#[test]
fn reserved_subgraph_name() {
    let errors = compose_err(&[("_", "type Query { a: Int }")]);
    assert_error(&errors, ErrorCode::InvalidSubgraphName, &["\"_\""]);
}

#[test]
fn context_directives_are_refused() {
    let a = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.8\", import: [\"@key\", \"@context\"])\n"
        .to_owned()
        + "type Query { t: T }\ntype T @key(fields: \"id\") @context(name: \"c\") { id: ID! }";
    let errors = compose_err(&[("a", &a)]);
    assert_error(
        &errors,
        ErrorCode::UnsupportedFeature,
        &["[a] @context", "\"T\""],
    );
}
