//! `@migrate` read from a supergraph (as `goliath compose` writes it) into
//! `Supergraph::migrations`, refused when it does not fit the join model,
//! and kept out of the API schema.

use goliath_supergraph::{MigrationState, Supergraph, SupergraphError};

/// The supergraph `goliath compose` writes for `accounts`, `monolith` and
/// `progress` (which migrates `User.progress` from the monolith), with
/// `link` as the migrate link and `progress` and `me` as the directives of
/// `User.progress` and `Query.me`.
fn supergraph(link: &str, progress: &str, me: &str) -> String {
    format!(
        r#"schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
  {link}
{{
  query: Query
}}

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE

directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION

directive @join__graph(name: String!, url: String!) on ENUM_VALUE

directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE

directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR

directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION

directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

directive @migrate(from: String!, to: String!, state: String!, percent: Float) on FIELD_DEFINITION

scalar join__FieldSet

enum join__Graph {{
  ACCOUNTS @join__graph(name: "accounts", url: "http://accounts:4000/graphql")
  MONOLITH @join__graph(name: "monolith", url: "http://monolith:4000/graphql")
  PROGRESS @join__graph(name: "progress", url: "http://progress:4000/graphql")
}}

scalar link__Import

enum link__Purpose {{
  """
  `SECURITY` features provide metadata necessary to securely resolve fields.
  """
  SECURITY

  """
  `EXECUTION` features provide metadata necessary for operation execution.
  """
  EXECUTION
}}

type Query
  @join__type(graph: ACCOUNTS)
  @join__type(graph: MONOLITH)
  @join__type(graph: PROGRESS)
{{
  me: User {me}
}}

type User
  @join__type(graph: ACCOUNTS, key: "id")
  @join__type(graph: MONOLITH, key: "id")
  @join__type(graph: PROGRESS, key: "id")
{{
  id: ID!
  email: String @join__field(graph: ACCOUNTS)
  name: String @join__field(graph: MONOLITH)
  progress: Int {progress}
}}"#
    )
}

const LINK: &str = r#"@link(url: "https://goliath.dev/migrate/v0.1")"#;

const JOINED: &str = "@join__field(graph: MONOLITH) @join__field(graph: PROGRESS)";

/// `User.progress` joined to the monolith and progress, then `migrate`.
fn progress(migrate: &str) -> String {
    format!("{JOINED} {migrate}")
}

fn composed() -> String {
    supergraph(
        LINK,
        &progress(
            r#"@migrate(from: "monolith", to: "progress", state: "side-by-side", percent: 25)"#,
        ),
        "@join__field(graph: MONOLITH)",
    )
}

fn refused(sdl: &str) -> String {
    match Supergraph::parse(sdl) {
        Ok(_) => panic!("the supergraph loads:\n{sdl}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn composed_migrations_are_read() {
    let sg = Supergraph::parse(&composed()).unwrap();
    assert_eq!(sg.migrations.len(), 1);
    let m = &sg.migrations[0];
    assert_eq!(m.type_name, "User");
    assert_eq!(m.field, "progress");
    assert_eq!(m.coordinate(), "User.progress");
    assert_eq!(m.from, "monolith");
    assert_eq!(m.to, "progress");
    assert_eq!(m.state, MigrationState::SideBySide);
    assert_eq!(m.percent, Some(25.0));
}

#[test]
fn migrations_are_in_schema_order() {
    let sdl = supergraph(
        LINK,
        &progress(r#"@migrate(from: "monolith", to: "progress", state: "canary", percent: 12.5)"#),
        &format!(
            "{JOINED} {}",
            r#"@migrate(from: "monolith", to: "progress", state: "manual")"#
        ),
    );
    let sg = Supergraph::parse(&sdl).unwrap();
    let read: Vec<(String, MigrationState, Option<f64>)> = sg
        .migrations
        .iter()
        .map(|m| (m.coordinate(), m.state, m.percent))
        .collect();
    assert_eq!(
        read,
        vec![
            ("Query.me".to_owned(), MigrationState::Manual, None),
            (
                "User.progress".to_owned(),
                MigrationState::Canary,
                Some(12.5)
            ),
        ]
    );
}

#[test]
fn without_join_fields_the_types_graphs_count() {
    // A field every subgraph of its type defines has no @join__field.
    let sdl = supergraph(
        LINK,
        &progress(r#"@migrate(from: "monolith", to: "progress", state: "migrated")"#),
        r#"@migrate(from: "accounts", to: "monolith", state: "migrated")"#,
    );
    let sg = Supergraph::parse(&sdl).unwrap();
    assert_eq!(sg.migrations[0].coordinate(), "Query.me");
    assert_eq!(sg.migrations[0].from, "accounts");
}

#[test]
fn any_v0_minor_version_and_renames_are_read() {
    let sdl = composed().replace("migrate/v0.1", "migrate/v0.7");
    assert_eq!(Supergraph::parse(&sdl).unwrap().migrations.len(), 1);
    let renamed = composed()
        .replace(
            LINK,
            r#"@link(url: "https://goliath.dev/migrate/v0.1", import: [{name: "@migrate", as: "@move"}])"#,
        )
        .replace("@migrate(", "@move(");
    let sg = Supergraph::parse(&renamed).unwrap();
    assert_eq!(sg.migrations.len(), 1);
    assert!(!sg.api_schema.to_string().contains("move"));
}

#[test]
fn without_the_link_migrate_is_not_read() {
    let sdl = composed().replace(LINK, "");
    let sg = Supergraph::parse(&sdl).unwrap();
    assert!(sg.migrations.is_empty());
}

#[test]
fn the_api_schema_has_no_migrate() {
    let sg = Supergraph::parse(&composed()).unwrap();
    assert!(!sg.api_schema.directive_definitions.contains_key("migrate"));
    let api = sg.api_schema.to_string();
    assert!(!api.contains("migrate"), "{api}");
    assert!(api.contains("progress: Int"), "{api}");
}

#[test]
fn other_versions_are_refused() {
    for version in ["v1.0", "v0", "v0.x"] {
        let sdl = composed().replace("migrate/v0.1", &format!("migrate/{version}"));
        let e = refused(&sdl);
        assert!(e.contains(&format!("migrate/{version}")), "{e}");
    }
}

#[test]
fn unknown_subgraphs_are_refused() {
    for (args, named) in [
        (r#"from: "monolyth", to: "progress""#, "monolyth"),
        (r#"from: "monolith", to: "progres""#, "progres"),
    ] {
        let sdl = supergraph(
            LINK,
            &progress(&format!("@migrate({args}, state: \"manual\")")),
            "@join__field(graph: MONOLITH)",
        );
        let e = refused(&sdl);
        assert!(e.contains("User.progress") && e.contains(named), "{e}");
        assert!(matches!(
            Supergraph::parse(&sdl),
            Err(SupergraphError::Invalid(_))
        ));
    }
}

#[test]
fn subgraphs_without_the_field_are_refused() {
    // `accounts` is a subgraph, but has no @join__field for User.progress.
    let sdl = supergraph(
        LINK,
        &progress(r#"@migrate(from: "accounts", to: "progress", state: "manual")"#),
        "@join__field(graph: MONOLITH)",
    );
    let e = refused(&sdl);
    assert!(
        e.contains("User.progress") && e.contains("\"accounts\"") && e.contains("join__field"),
        "{e}"
    );
    // Nor does an external @join__field resolve it.
    let sdl = supergraph(
        LINK,
        r#"@join__field(graph: MONOLITH) @join__field(graph: PROGRESS, external: true) @migrate(from: "monolith", to: "progress", state: "manual")"#,
        "@join__field(graph: MONOLITH)",
    );
    let e = refused(&sdl);
    assert!(e.contains("User.progress") && e.contains("external"), "{e}");
    // Nor is a migration from a subgraph to itself one.
    let sdl = supergraph(
        LINK,
        &progress(r#"@migrate(from: "progress", to: "progress", state: "manual")"#),
        "@join__field(graph: MONOLITH)",
    );
    let e = refused(&sdl);
    assert!(e.contains("User.progress"), "{e}");
}

#[test]
fn unknown_states_and_bad_percents_are_refused() {
    let sdl = supergraph(
        LINK,
        &progress(r#"@migrate(from: "monolith", to: "progress", state: "halfway")"#),
        "@join__field(graph: MONOLITH)",
    );
    let e = refused(&sdl);
    assert!(e.contains("User.progress") && e.contains("halfway"), "{e}");
    let sdl = supergraph(
        LINK,
        &progress(r#"@migrate(from: "monolith", to: "progress", state: "canary", percent: 101)"#),
        "@join__field(graph: MONOLITH)",
    );
    let e = refused(&sdl);
    assert!(e.contains("User.progress") && e.contains("101"), "{e}");
}
