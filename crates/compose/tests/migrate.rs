//! goliath's `@migrate`: a subgraph taking a field over from another one
//! step by step. Declared by a link or by a definition, recorded in the
//! supergraph as `@migrate(from:, to:, state:, percent:)`, read back by the
//! supergraph model and planned with both subgraphs resolving the field.

mod common;

use common::*;
use goliath_compose::ErrorCode;
use goliath_supergraph::{MigrationState, Supergraph};

const MONOLITH: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { me: User }
type User @key(fields: "id") { id: ID! name: String progress: Int }
"#;

const ACCOUNTS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type User @key(fields: "id") { id: ID! email: String }
"#;

const LINK: &str = r#"@link(url: "https://goliath.dev/migrate/v0.1", import: ["@migrate"])"#;

const DEFINITION: &str = "directive @migrate(from: String!, to: String!, state: String!, percent: Float) on FIELD_DEFINITION";

/// The `progress` subgraph: `User.progress` with `directives`, and `head`
/// (a link or a definition) declaring `@migrate`.
fn progress(head: &str, directives: &str) -> String {
    format!(
        r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@override", "@external"])
{head}
type User @key(fields: "id") {{ id: ID! progress: Int {directives} }}
"#
    )
}

fn linked(directives: &str) -> String {
    progress(&format!("extend schema {LINK}"), directives)
}

const SIDE_BY_SIDE: &str = r#"@migrate(from: "monolith", state: "side-by-side", percent: 25)"#;

#[test]
fn linked_migrate_is_recorded_after_the_join_fields() {
    let sdl = compose_ok(&[
        ("accounts", ACCOUNTS),
        ("monolith", MONOLITH),
        ("progress", &linked(SIDE_BY_SIDE)),
    ]);
    assert_eq!(
        field_line(&sdl, "type", "User", "progress"),
        r#"  progress: Int @join__field(graph: MONOLITH) @join__field(graph: PROGRESS) @migrate(from: "monolith", to: "progress", state: "side-by-side", percent: 25)"#
    );
    // The link comes after the other links, the definition among the others.
    assert!(
        sdl.starts_with(
            "schema\n  @link(url: \"https://specs.apollo.dev/link/v1.0\")\n  @link(url: \"https://specs.apollo.dev/join/v0.3\", for: EXECUTION)\n  @link(url: \"https://goliath.dev/migrate/v0.1\")\n{\n"
        ),
        "{sdl}"
    );
    let link_def = sdl.find("\ndirective @link(").unwrap();
    let migrate_def = sdl.find(&format!("\n{DEFINITION}\n")).expect(&sdl);
    assert!(link_def < migrate_def, "{sdl}");
    // Only the migrating field has it.
    assert_eq!(sdl.matches("@migrate(from: \"").count(), 1, "{sdl}");
}

#[test]
fn percent_is_written_only_when_given() {
    let sdl = compose_ok(&[
        ("monolith", MONOLITH),
        (
            "progress",
            &linked(r#"@migrate(from: "monolith", state: "manual")"#),
        ),
    ]);
    // User is in both subgraphs, which both define the field: as for a
    // shared field, no @join__field.
    assert_eq!(
        field_line(&sdl, "type", "User", "progress"),
        r#"  progress: Int @migrate(from: "monolith", to: "progress", state: "manual")"#
    );
}

#[test]
fn the_supergraph_is_the_shared_fields_plus_the_record() {
    let migrating = compose_ok(&[
        ("accounts", ACCOUNTS),
        ("monolith", MONOLITH),
        ("progress", &linked(SIDE_BY_SIDE)),
    ]);
    let shared_monolith = MONOLITH
        .replace("[\"@key\"]", "[\"@key\", \"@shareable\"]")
        .replace("progress: Int", "progress: Int @shareable");
    let shared = compose_ok(&[
        ("accounts", ACCOUNTS),
        ("monolith", &shared_monolith),
        ("progress", &progress("", "@shareable")),
    ]);
    let stripped = migrating
        .replace("  @link(url: \"https://goliath.dev/migrate/v0.1\")\n", "")
        .replace(&format!("\n{DEFINITION}\n"), "")
        .replace(
            r#" @migrate(from: "monolith", to: "progress", state: "side-by-side", percent: 25)"#,
            "",
        );
    assert_eq!(stripped, shared);
}

#[test]
fn a_definition_declares_it_as_the_link_does() {
    let by_link = compose_ok(&[("monolith", MONOLITH), ("progress", &linked(SIDE_BY_SIDE))]);
    for percent in ["Float", "Int", "Float!"] {
        let head = format!(
            "directive @migrate(from: String!, state: String!, percent: {percent}) on FIELD_DEFINITION"
        );
        let by_definition = compose_ok(&[
            ("monolith", MONOLITH),
            ("progress", &progress(&head, SIDE_BY_SIDE)),
        ]);
        assert_eq!(by_definition, by_link, "percent: {percent}");
    }
}

#[test]
fn a_linked_definition_and_a_renamed_import_mean_the_same() {
    let by_link = compose_ok(&[("monolith", MONOLITH), ("progress", &linked(SIDE_BY_SIDE))]);
    // The link with the definition present too.
    let both = progress(
        &format!(
            "extend schema {LINK}\ndirective @migrate(from: String!, state: String!, percent: Float) on FIELD_DEFINITION"
        ),
        SIDE_BY_SIDE,
    );
    assert_eq!(
        compose_ok(&[("monolith", MONOLITH), ("progress", &both)]),
        by_link
    );
    let renamed = progress(
        r#"extend schema @link(url: "https://goliath.dev/migrate/v0.1", import: [{name: "@migrate", as: "@move"}])"#,
        &SIDE_BY_SIDE.replace("@migrate", "@move"),
    );
    assert_eq!(
        compose_ok(&[("monolith", MONOLITH), ("progress", &renamed)]),
        by_link
    );
}

#[test]
fn a_federation_1_subgraph_may_migrate() {
    let fed1 = format!(
        r#"
directive @migrate(from: String!, state: String!, percent: Int) on FIELD_DEFINITION
extend type User @key(fields: "id") {{ id: ID! @external progress: Int {SIDE_BY_SIDE} }}
"#
    );
    let sdl = compose_ok(&[("monolith", MONOLITH), ("progress", &fed1)]);
    assert!(
        field_line(&sdl, "type", "User", "progress").ends_with(
            r#" @migrate(from: "monolith", to: "progress", state: "side-by-side", percent: 25)"#
        ),
        "{sdl}"
    );
}

#[test]
fn states_are_written_by_their_names() {
    for (written, recorded) in [
        ("manual", "manual"),
        ("side-by-side", "side-by-side"),
        ("side_by_side", "side-by-side"),
        ("canary", "canary"),
        ("migrated", "migrated"),
    ] {
        let app = format!(r#"@migrate(from: "monolith", state: "{written}", percent: 12.5)"#);
        let sdl = compose_ok(&[("monolith", MONOLITH), ("progress", &linked(&app))]);
        assert_eq!(
            field_line(&sdl, "type", "User", "progress"),
            format!(
                r#"  progress: Int @migrate(from: "monolith", to: "progress", state: "{recorded}", percent: 12.5)"#
            )
        );
    }
}

#[test]
fn linking_the_spec_without_using_it_changes_nothing() {
    let shared_monolith = MONOLITH
        .replace("[\"@key\"]", "[\"@key\", \"@shareable\"]")
        .replace("progress: Int", "progress: Int @shareable");
    let with_link = compose_ok(&[
        ("monolith", &shared_monolith),
        ("progress", &linked("@shareable")),
    ]);
    let without = compose_ok(&[
        ("monolith", &shared_monolith),
        ("progress", &progress("", "@shareable")),
    ]);
    assert_eq!(with_link, without);
    assert!(!with_link.contains("migrate"), "{with_link}");
}

#[test]
fn undeclared_migrate_is_an_unknown_directive() {
    // Without the link or the definition, `@migrate` is the subgraph's own
    // directive: dropped, and the field is shared without being shareable.
    let errors = compose_err(&[
        ("monolith", MONOLITH),
        ("progress", &progress("", SIDE_BY_SIDE)),
    ]);
    assert_error(
        &errors,
        ErrorCode::InvalidFieldSharing,
        &["\"User.progress\""],
    );
    // A definition of another shape is not goliath's either.
    let other = progress(
        "directive @migrate(to: String) on FIELD_DEFINITION",
        SIDE_BY_SIDE,
    );
    let errors = compose_err(&[("monolith", MONOLITH), ("progress", &other)]);
    assert_error(
        &errors,
        ErrorCode::InvalidFieldSharing,
        &["\"User.progress\""],
    );
}

#[test]
fn round_trip_to_the_model_and_the_planner() {
    let sdl = compose_ok(&[
        ("accounts", ACCOUNTS),
        ("monolith", MONOLITH),
        ("progress", &linked(SIDE_BY_SIDE)),
    ]);
    let sg = Supergraph::parse(&sdl).unwrap();
    assert_eq!(sg.migrations.len(), 1);
    let m = &sg.migrations[0];
    assert_eq!(m.coordinate(), "User.progress");
    assert_eq!((m.from.as_str(), m.to.as_str()), ("monolith", "progress"));
    assert_eq!(m.state, MigrationState::SideBySide);
    assert_eq!(m.percent, Some(25.0));
    // The API schema has neither the directive nor its definition.
    assert!(!sg.api_schema.directive_definitions.contains_key("migrate"));
    let api = sg.api_schema.to_string();
    assert!(!api.contains("migrate"), "{api}");
    // Both subgraphs resolve the field: the planner plans it as before.
    let plan = plan(&sdl, "{ me { name progress } }");
    assert!(plan.contains("\"monolith\""), "{plan}");
}

// Errors: one per code, each naming the subgraph, the type and the field.

fn migrate_err(progress_sdl: &str) -> Vec<goliath_compose::CompositionError> {
    compose_err(&[("monolith", MONOLITH), ("progress", progress_sdl)])
}

#[test]
fn source_not_found() {
    let errors = migrate_err(&linked(r#"@migrate(from: "monolyth", state: "manual")"#));
    assert_error(
        &errors,
        ErrorCode::MigrateSourceNotFound,
        &["[progress]", "\"User.progress\"", "\"monolyth\""],
    );
}

#[test]
fn source_missing_field() {
    let errors = compose_err(&[
        ("accounts", ACCOUNTS),
        ("monolith", MONOLITH),
        (
            "progress",
            &linked(r#"@migrate(from: "accounts", state: "manual")"#),
        ),
    ]);
    assert_error(
        &errors,
        ErrorCode::MigrateSourceMissingField,
        &[
            "[progress]",
            "\"User.progress\"",
            "\"accounts\"",
            "does not define",
        ],
    );
}

#[test]
fn source_field_external() {
    let external = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@external", "@requires"])
type User @key(fields: "id") { id: ID! progress: Int @external summary: String @requires(fields: "progress") }
"#;
    let errors = compose_err(&[
        ("external", external),
        ("monolith", MONOLITH),
        (
            "progress",
            &linked(r#"@migrate(from: "external", state: "manual")"#),
        ),
    ]);
    assert_error(
        &errors,
        ErrorCode::MigrateSourceMissingField,
        &[
            "[progress]",
            "\"User.progress\"",
            "\"external\"",
            "@external",
        ],
    );
}

#[test]
fn source_is_self() {
    let errors = migrate_err(&linked(r#"@migrate(from: "progress", state: "manual")"#));
    assert_error(
        &errors,
        ErrorCode::MigrateSourceIsSelf,
        &["[progress]", "\"User.progress\"", "\"progress\""],
    );
}

#[test]
fn invalid_state() {
    let errors = migrate_err(&linked(r#"@migrate(from: "monolith", state: "halfway")"#));
    assert_error(
        &errors,
        ErrorCode::MigrateInvalidState,
        &["[progress]", "\"User.progress\"", "halfway"],
    );
}

#[test]
fn invalid_percent() {
    for percent in ["101", "-1", "100.5"] {
        let app = format!(r#"@migrate(from: "monolith", state: "canary", percent: {percent})"#);
        let errors = migrate_err(&linked(&app));
        assert_error(
            &errors,
            ErrorCode::MigrateInvalidPercent,
            &["[progress]", "\"User.progress\"", percent],
        );
    }
}

#[test]
fn with_override() {
    let errors = migrate_err(&linked(
        r#"@override(from: "monolith") @migrate(from: "monolith", state: "manual")"#,
    ));
    assert_error(
        &errors,
        ErrorCode::MigrateWithOverride,
        &["[progress]", "\"User.progress\"", "@override"],
    );
}

#[test]
fn invalid_location_interface() {
    let monolith = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { me: User node: Node }
interface Node { progress: Int }
type User implements Node @key(fields: "id") { id: ID! progress: Int }
"#;
    let progress = format!(
        r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])
extend schema {LINK}
interface Node {{ progress: Int @migrate(from: "monolith", state: "manual") }}
type User implements Node @key(fields: "id") {{ id: ID! progress: Int @shareable }}
"#
    );
    let errors = compose_err(&[("monolith", monolith), ("progress", &progress)]);
    assert_error(
        &errors,
        ErrorCode::MigrateInvalidLocation,
        &["[progress]", "\"Node.progress\"", "interface"],
    );
}

#[test]
fn invalid_location_input_field_and_value_type() {
    let progress = format!(
        r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
extend schema {LINK}
type Query {{ search(filter: Filter): Int }}
input Filter {{ min: Int @migrate(from: "monolith", state: "manual") }}
"#
    );
    let errors = migrate_err(&progress);
    assert_error(
        &errors,
        ErrorCode::MigrateInvalidLocation,
        &["[progress]", "\"Filter(min:)\"", "INPUT_FIELD_DEFINITION"],
    );
    // A value type: the router could not ask the new subgraph for the field.
    let monolith = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@shareable"])
type Query { stats: Stats @shareable }
type Stats @shareable { total: Int visits: Int }
"#;
    let progress = format!(
        r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@shareable"])
extend schema {LINK}
type Query {{ stats: Stats @shareable }}
type Stats {{ total: Int @shareable visits: Int @migrate(from: "monolith", state: "manual") }}
"#
    );
    let errors = compose_err(&[("monolith", monolith), ("progress", &progress)]);
    assert_error(
        &errors,
        ErrorCode::MigrateInvalidLocation,
        &["[progress]", "\"Stats.visits\"", "@key"],
    );
}

#[test]
fn root_fields_may_migrate() {
    let progress = format!(
        r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
extend schema {LINK}
type Query {{ me: User @migrate(from: "monolith", state: "canary", percent: 10) }}
type User @key(fields: "id") {{ id: ID! }}
"#
    );
    // With a third subgraph, Query's fields that two subgraphs define get
    // their @join__fields.
    let sdl = compose_ok(&[
        ("accounts", ACCOUNTS),
        ("monolith", MONOLITH),
        ("progress", &progress),
    ]);
    assert_eq!(
        field_line(&sdl, "type", "Query", "me"),
        r#"  me: User @join__field(graph: MONOLITH) @join__field(graph: PROGRESS) @migrate(from: "monolith", to: "progress", state: "canary", percent: 10)"#
    );
    let plan = plan(&sdl, "{ me { id } }");
    assert!(plan.contains("Fetch"), "{plan}");
}

#[test]
fn conflicts() {
    // Two subgraphs migrating the same field.
    let errors = compose_err(&[
        ("monolith", MONOLITH),
        ("progress", &linked(SIDE_BY_SIDE)),
        ("progress2", &linked(SIDE_BY_SIDE)),
    ]);
    assert_error(
        &errors,
        ErrorCode::MigrateConflict,
        &["\"User.progress\"", "\"progress\" and \"progress2\""],
    );
    // A migrating field that is @external.
    let external = progress(
        &format!("extend schema {LINK}"),
        r#"@external @migrate(from: "monolith", state: "manual")"#,
    );
    let errors = migrate_err(&external);
    assert_error(
        &errors,
        ErrorCode::MigrateConflict,
        &["[progress]", "\"User.progress\"", "@external"],
    );
    // Another subgraph overriding the field from the migration's source.
    let takeover = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@override"])
type User @key(fields: "id") { id: ID! progress: Int @override(from: "monolith") }
"#;
    let errors = compose_err(&[
        ("monolith", MONOLITH),
        ("progress", &linked(SIDE_BY_SIDE)),
        ("takeover", takeover),
    ]);
    assert_error(
        &errors,
        ErrorCode::MigrateConflict,
        &["[progress]", "\"User.progress\"", "\"takeover\""],
    );
}

#[test]
fn malformed_applications_and_links() {
    let errors = migrate_err(&linked(r#"@migrate(state: "manual")"#));
    assert_error(
        &errors,
        ErrorCode::InvalidGraphql,
        &["[progress]", "User.progress", "\"from\""],
    );
    let errors = migrate_err(&linked(
        r#"@migrate(from: "monolith", state: "canary", percent: "25")"#,
    ));
    assert_error(
        &errors,
        ErrorCode::InvalidGraphql,
        &["[progress]", "User.progress", "\"percent\""],
    );
    let v1 = progress(
        r#"extend schema @link(url: "https://goliath.dev/migrate/v1.0", import: ["@migrate"])"#,
        SIDE_BY_SIDE,
    );
    let errors = migrate_err(&v1);
    assert_error(
        &errors,
        ErrorCode::InvalidLinkDirectiveUsage,
        &["[progress]", "migrate/v1.0"],
    );
    let unknown = progress(
        r#"extend schema @link(url: "https://goliath.dev/migrate/v0.1", import: ["@migrate", "@move"])"#,
        SIDE_BY_SIDE,
    );
    let errors = migrate_err(&unknown);
    assert_error(
        &errors,
        ErrorCode::InvalidLinkDirectiveUsage,
        &["[progress]", "\"@move\""],
    );
}
