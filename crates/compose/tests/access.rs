//! Access control directives (`@authenticated`, `@requiresScopes`,
//! `@policy`) through composition: imported from Federation 2.5/2.6
//! (renamed or not), carried into the supergraph under their spec names
//! with one `for: SECURITY` link per spec, merged across subgraphs with AND
//! (disjunctive normal form product), propagated to interfaces, and checked
//! against `@requires` selections. Expected texts are written by hand from
//! Apollo's rules.

mod common;

use common::*;
use goliath_compose::ErrorCode;

/// Federation 2.6, `@requiresScopes` imported as `@scopes`.
const A: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key", "@shareable", "@authenticated", {name: "@requiresScopes", as: "@scopes"}, "@policy"])
type Query {
  node: Node
  me: User @authenticated
}
interface Node { id: ID! }
type User implements Node @key(fields: "id") @scopes(scopes: [["S1"], ["S2"]]) {
  id: ID!
  name: String @shareable @policy(policies: [["P1"]])
  level: Level
  token: Secret
}
type Org implements Node @key(fields: "id") @policy(policies: [["P2"]]) { id: ID! }
scalar Secret @authenticated
enum Level @scopes(scopes: [["admin"]]) { LOW HIGH }
"#;

/// Federation 2.5, plain imports.
const B: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@shareable", "@authenticated", "@requiresScopes"])
type User @key(fields: "id") @requiresScopes(scopes: [["S1"], ["S2", "S3"]]) {
  id: ID!
  name: String @shareable @authenticated @requiresScopes(scopes: [["S4"]])
}
"#;

const EXPECTED: &str = r#"schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
  @link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)
  @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)
  @link(url: "https://specs.apollo.dev/policy/v0.1", for: SECURITY)
{
  query: Query
}

directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE

directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION

directive @join__graph(name: String!, url: String!) on ENUM_VALUE

directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE

directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR

directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION

directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

directive @policy(policies: [[policy__Policy!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM

directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM

scalar join__FieldSet

enum join__Graph {
  A @join__graph(name: "a", url: "http://a:4000/graphql")
  B @join__graph(name: "b", url: "http://b:4000/graphql")
}

enum Level
  @join__type(graph: A)
  @requiresScopes(scopes: [["admin"]])
{
  LOW @join__enumValue(graph: A)
  HIGH @join__enumValue(graph: A)
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

interface Node
  @join__type(graph: A)
  @requiresScopes(scopes: [["S1"], ["S2", "S3"]])
  @policy(policies: [["P2"]])
{
  id: ID!
}

type Org implements Node
  @join__implements(graph: A, interface: "Node")
  @join__type(graph: A, key: "id")
  @policy(policies: [["P2"]])
{
  id: ID!
}

scalar policy__Policy

type Query
  @join__type(graph: A)
  @join__type(graph: B)
{
  node: Node @join__field(graph: A)
  me: User @join__field(graph: A) @authenticated
}

scalar requiresScopes__Scope

scalar Secret
  @join__type(graph: A)
  @authenticated

type User implements Node
  @join__implements(graph: A, interface: "Node")
  @join__type(graph: A, key: "id")
  @join__type(graph: B, key: "id")
  @requiresScopes(scopes: [["S1"], ["S2", "S3"]])
{
  id: ID!
  name: String @authenticated @requiresScopes(scopes: [["S4"]]) @policy(policies: [["P1"]])
  level: Level @join__field(graph: A)
  token: Secret @join__field(graph: A)
}"#;

#[test]
fn carried_and_merged_into_the_supergraph() {
    let sdl = compose_ok(&[("a", A), ("b", B)]);
    assert_eq!(sdl, EXPECTED, "\n--- got ---\n{sdl}\n");
}

#[test]
fn supergraph_loads_with_access_rules() {
    let sdl = compose_ok(&[("a", A), ("b", B)]);
    goliath_supergraph::Supergraph::parse(&sdl).expect("the supergraph loads");
}

fn fed26(imports: &str) -> String {
    format!(
        "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.6\", import: [{imports}])\n"
    )
}

#[test]
fn interfaces_get_the_and_of_their_implementations() {
    let a = fed26(r#""@key", "@shareable", "@authenticated", "@requiresScopes", "@policy""#)
        + r#"
type Query { i: I! }
interface I { id: ID f: Int g: String }
type T implements I @key(fields: "id") @requiresScopes(scopes: [["S1"], ["S2"]]) @policy(policies: [["P1"]]) {
  id: ID f: Int @requiresScopes(scopes: [["S1"]]) g: String @shareable
}
type U implements I @key(fields: "id") @requiresScopes(scopes: [["S1"], ["S2", "S3"]]) @policy(policies: [["P2"]]) @authenticated {
  id: ID f: Int @requiresScopes(scopes: [["S1", "S2"]]) g: String
}
type V implements I @key(fields: "id") { id: ID f: Int g: String }
"#;
    let b = fed26(r#""@key", "@shareable", "@authenticated""#)
        + r#"
type Query { t: T }
type T @key(fields: "id") { id: ID! g: String @shareable @authenticated }
"#;
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    assert_eq!(
        definition(&sdl, "interface", "I"),
        r#"interface I
  @join__type(graph: A)
  @authenticated
  @requiresScopes(scopes: [["S1"], ["S2", "S3"]])
  @policy(policies: [["P1", "P2"]])
{
  id: ID
  f: Int @requiresScopes(scopes: [["S1", "S2"]])
  g: String @authenticated
}"#
    );
    // The implementations keep their own requirements.
    assert_eq!(
        field_line(&sdl, "type", "T", "g"),
        "  g: String @authenticated"
    );
    assert_eq!(field_line(&sdl, "type", "V", "f"), "  f: Int");
}

#[test]
fn same_requirements_are_kept_as_written() {
    let a = fed26(r#""@key", "@shareable", "@requiresScopes""#)
        + r#"type Query { t: T @shareable @requiresScopes(scopes: [["b", "a"]]) }
type T @key(fields: "id") { id: ID! }"#;
    let b = fed26(r#""@shareable", "@requiresScopes""#)
        + r#"type Query { t: T @shareable @requiresScopes(scopes: [["b", "a"]]) }
type T { id: ID! @shareable }"#;
    let sdl = compose_ok(&[("a", &a), ("b", &b)]);
    assert_eq!(
        field_line(&sdl, "type", "Query", "t"),
        r#"  t: T @requiresScopes(scopes: [["b", "a"]])"#
    );
}

#[test]
fn misplaced_applications_are_refused() {
    let sg = fed26(r#""@key", "@authenticated", "@policy""#)
        + r#"
type Query { i: I u: U }
interface I @authenticated { id: ID @policy(policies: [["P"]]) }
type T implements I @key(fields: "id") { id: ID }
union U @authenticated = T
"#;
    let errors = compose_err(&[("a", &sg)]);
    assert_error(
        &errors,
        ErrorCode::AuthRequirementsAppliedOnInterface,
        &["[a] Invalid use of @authenticated on interface \"I\""],
    );
    assert_error(
        &errors,
        ErrorCode::AuthRequirementsAppliedOnInterface,
        &["Invalid use of @policy on field \"I.id\""],
    );
    assert_error(
        &errors,
        ErrorCode::InvalidGraphql,
        &["Directive \"@authenticated\" may not be used on UNION."],
    );
}

#[test]
fn invalid_arguments_are_refused() {
    let sg = fed26(r#""@requiresScopes""#) + r#"type Query { a: Int @requiresScopes(scopes: 3) }"#;
    let errors = compose_err(&[("a", &sg)]);
    assert_error(
        &errors,
        ErrorCode::InvalidGraphql,
        &["Argument \"scopes\" of \"@requiresScopes\"", "Query.a"],
    );
}

#[test]
fn policy_needs_federation_2_6() {
    let sg = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@policy"])
type Query { a: Int }"#;
    let errors = compose_err(&[("a", sg)]);
    assert_error(
        &errors,
        ErrorCode::InvalidLinkDirectiveUsage,
        &["Cannot import unknown element \"@policy\"."],
    );
}

/// Before Federation 2.5 the names are unknown directives: refused, rather
/// than dropped, unless the subgraph defines a directive of its own by
/// that name (which, as any directive that is not composed, does not reach
/// the supergraph).
#[test]
fn before_federation_2_5_they_are_not_access_directives() {
    let sg = fed2(r#""@key""#)
        + r#"type Query { a: Int @authenticated b: Int @policy(policies: [["P"]]) }"#;
    let errors = compose_err(&[("a", &sg)]);
    assert_error(
        &errors,
        ErrorCode::InvalidGraphql,
        &[
            "[a] Unknown directive \"@authenticated\" (on \"Query.a\")",
            "Federation 2.5",
        ],
    );
    assert_error(
        &errors,
        ErrorCode::InvalidGraphql,
        &[
            "[a] Unknown directive \"@policy\" (on \"Query.b\")",
            "Federation 2.6",
        ],
    );
    // Federation 1 alike.
    let errors = compose_err(&[("a", "type Query { a: Int @authenticated }")]);
    assert_error(
        &errors,
        ErrorCode::InvalidGraphql,
        &["Unknown directive \"@authenticated\""],
    );

    let sg = fed2(r#""@key""#)
        + r#"directive @authenticated on FIELD_DEFINITION
type Query { a: Int @authenticated }"#;
    let sdl = compose_ok(&[("a", &sg)]);
    assert!(!sdl.contains("authenticated"), "{sdl}");
}

fn requires_case(extra_requirement: &str, requires_requirement: &str) -> Vec<(String, String)> {
    let a = fed26(
        r#""@key", "@external", "@requires", "@authenticated", "@requiresScopes", "@policy""#,
    ) + &format!(
        r#"type Query {{ t: T }}
type T @key(fields: "id") {{
  id: ID
  extra: String @external
  requiresExtra: String @requires(fields: "extra") {requires_requirement}
}}"#
    );
    let b = fed26(r#""@key", "@authenticated", "@requiresScopes", "@policy""#)
        + &format!(
            r#"type T @key(fields: "id") {{
  id: ID
  extra: String {extra_requirement}
}}"#
        );
    vec![("Subgraph1".into(), a), ("Subgraph2".into(), b)]
}

fn compose_pairs(
    pairs: &[(String, String)],
) -> Result<String, Vec<goliath_compose::CompositionError>> {
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(n, s)| (n.as_str(), s.as_str()))
        .collect();
    goliath_compose::compose(&inputs(&refs))
}

#[test]
fn requires_must_carry_the_requirements_it_reads() {
    let errors = compose_pairs(&requires_case("@authenticated", "")).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].code, ErrorCode::MissingTransitiveAuthRequirements);
    assert_eq!(
        errors[0].message,
        "[Subgraph1] Field \"T.requiresExtra\" does not specify necessary @authenticated, @requiresScopes and/or @policy auth requirements to access the transitive field \"T.extra\" data from @requires selection set."
    );
    let errors = compose_pairs(&requires_case(
        r#"@requiresScopes(scopes: [["S1", "S2"]])"#,
        r#"@requiresScopes(scopes: [["S1"]])"#,
    ))
    .unwrap_err();
    assert_eq!(errors[0].code, ErrorCode::MissingTransitiveAuthRequirements);

    compose_pairs(&requires_case("@authenticated", "@authenticated")).expect("explicit auth");
    compose_pairs(&requires_case(
        r#"@requiresScopes(scopes: [["S1", "S2"], ["S3"]])"#,
        r#"@requiresScopes(scopes: [["S2", "S1"]])"#,
    ))
    .expect("a subset of the alternatives");
}

#[test]
fn requires_counts_type_requirements_and_nested_selections() {
    // The requiring field's type carries the policy.
    let a = fed26(r#""@key", "@external", "@requires", "@policy""#)
        + r#"type Query { t: T }
type T @key(fields: "id") @policy(policies: [["P1"]]) {
  id: ID
  extra: String @external
  requiresExtra: String @requires(fields: "extra")
}"#;
    let b = fed26(r#""@key", "@policy""#)
        + r#"type T @key(fields: "id") { id: ID extra: String @policy(policies: [["P1"]]) }"#;
    compose_ok(&[("Subgraph1", &a), ("Subgraph2", &b)]);

    // A nested field's requirement.
    let a = fed26(r#""@key", "@external", "@requires""#)
        + r#"type Query { t: T }
type T @key(fields: "id") {
  id: ID
  extra: E @external
  requiresExtra: String @requires(fields: "extra { secret }")
}
type E @external { secret: String }"#;
    let b = fed26(r#""@key", "@policy""#)
        + r#"type T @key(fields: "id") { id: ID extra: E }
type E { secret: String @policy(policies: [["P1"]]) }"#;
    let errors = compose_err(&[("Subgraph1", &a), ("Subgraph2", &b)]);
    assert_error(
        &errors,
        ErrorCode::MissingTransitiveAuthRequirements,
        &[
            "[Subgraph1] Field \"T.requiresExtra\"",
            "transitive field \"E.secret\" data",
        ],
    );
}

#[test]
fn external_fields_cannot_carry_them() {
    let a = fed26(r#""@key", "@external", "@requires", "@authenticated""#)
        + r#"type Query { t: T }
type T @key(fields: "id") {
  id: ID
  extra: String @external @authenticated
  requiresExtra: String @requires(fields: "extra") @authenticated
}"#;
    let b = fed26(r#""@key", "@authenticated""#)
        + r#"type T @key(fields: "id") { id: ID extra: String @authenticated }"#;
    let errors = compose_err(&[("a", &a), ("b", &b)]);
    assert_error(
        &errors,
        ErrorCode::MergedDirectiveApplicationOnExternal,
        &["[a] Cannot apply merged directive @authenticated to external field \"T.extra\""],
    );
}

/// Requirements on `@interfaceObject` fields reach the implementations
/// (and, from the implementations, the interface): Apollo's "shareable
/// interface object fields" case.
#[test]
fn interface_object_fields_carry_their_requirements() {
    let s1 = fed26(r#""@key", "@interfaceObject", "@shareable", "@requiresScopes""#)
        + r#"type Query { i: I }
type I @interfaceObject @key(fields: "id") {
  id: ID!
  secret: String @requiresScopes(scopes: [["S1"]]) @shareable
}"#;
    let s2 = fed26(r#""@key", "@authenticated""#)
        + r#"interface I @key(fields: "id") { id: ID! extra: String }
type T implements I @key(fields: "id") { id: ID! extra: String @authenticated }
type U implements I @key(fields: "id") { id: ID! extra: String }"#;
    let s3 = fed26(r#""@key", "@shareable", "@requiresScopes""#)
        + r#"type T @key(fields: "id") { id: ID! secret: String @requiresScopes(scopes: [["S2"]]) @shareable }"#;
    let sdl = compose_ok(&[("s1", &s1), ("s2", &s2), ("s3", &s3)]);
    let line =
        |ty: &str, f: &str, keyword: &str| field_line(&sdl, keyword, ty, f).trim().to_owned();
    assert_eq!(
        line("I", "secret", "interface"),
        r#"secret: String @join__field(graph: S1) @requiresScopes(scopes: [["S1", "S2"]])"#
    );
    assert_eq!(
        line("I", "extra", "interface"),
        r#"extra: String @join__field(graph: S2) @authenticated"#
    );
    assert_eq!(
        line("T", "secret", "type"),
        r#"secret: String @join__field(graph: S3) @requiresScopes(scopes: [["S1", "S2"]])"#
    );
    // Added by the @interfaceObject: its requirement only (as Apollo's
    // current composition computes it).
    assert_eq!(
        line("U", "secret", "type"),
        r#"secret: String @requiresScopes(scopes: [["S1"]]) @join__field"#
    );
    assert_eq!(line("U", "extra", "type"), "extra: String");
}
