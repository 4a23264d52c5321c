//! goliath's `@migrate`: a subgraph taking a field over from another one
//! step by step, `@migrate(from: "monolith", state: "side-by-side",
//! percent: 25)`.
//!
//! A subgraph declares the directive by linking its spec
//! (`@link(url: "https://goliath.dev/migrate/v0.1", import: ["@migrate"])`,
//! read in [`crate::link`]) or by defining it
//! (`directive @migrate(from: String!, state: String!, percent: Float) on
//! FIELD_DEFINITION`). Both subgraphs keep resolving the field (the
//! migration is exempt from `INVALID_FIELD_SHARING`, as `@override` is), and
//! the supergraph records the move as `@migrate(from:, to:, state:,
//! percent:)` on the field, for the router (see
//! [`goliath_supergraph::Migration`]).
//!
//! The rules, each with its own error code: the source is another subgraph
//! of the composition that resolves the field
//! (`MIGRATE_SOURCE_NOT_FOUND`, `MIGRATE_SOURCE_MISSING_FIELD`,
//! `MIGRATE_SOURCE_IS_SELF`), the state and percent are valid
//! (`MIGRATE_INVALID_STATE`, `MIGRATE_INVALID_PERCENT`), the field has no
//! `@override` (`MIGRATE_WITH_OVERRIDE`) and is a field of an object type
//! the migrating subgraph can be asked for: a root type, or an entity with a
//! resolvable key there (`MIGRATE_INVALID_LOCATION`); one subgraph at a time
//! migrates a field, the migrating field is not `@external`, and no other
//! `@override` takes the field from either subgraph (`MIGRATE_CONFLICT`).

use std::fmt::Write;

use apollo_compiler::ast;
use goliath_supergraph::{Migration, MigrationState, MIGRATE_SPEC_URL};
use indexmap::IndexMap;

use crate::emit::quote;
use crate::errors::{and_list, CompositionError, ErrorCode};
use crate::subgraph::{Kind, Subgraph};

/// The supergraph's definition of `@migrate`.
pub(crate) const DEFINITION: &str =
    "directive @migrate(from: String!, to: String!, state: String!, percent: Float) on FIELD_DEFINITION";

/// The supergraph's link to the migrate spec.
pub(crate) fn link() -> String {
    format!("@link(url: {})", quote(MIGRATE_SPEC_URL))
}

/// `@migrate(from:, state:, percent:)` on a subgraph field, as written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MigrateApp {
    /// The subgraph the field is taken from.
    pub from: String,
    /// The state, as written (checked in [`check_subgraph`]).
    pub state: String,
    /// The percentage, when given.
    pub percent: Option<f64>,
}

impl MigrateApp {
    /// Reads an application on `what` (`Type.field`); the error is an
    /// `INVALID_GRAPHQL` message.
    pub fn parse(d: &ast::Directive, what: &str) -> Result<MigrateApp, String> {
        let string = |name: &str| {
            match d.specified_argument_by_name(name).map(|v| &**v) {
            Some(ast::Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(format!(
                "Argument \"{name}\" of directive \"@{}\" (on \"{what}\") must be a String, not {}.",
                d.name,
                other.serialize().no_indent()
            )),
            None => Err(format!(
                "Directive \"@{}\" (on \"{what}\") is missing its required argument \"{name}\".",
                d.name
            )),
        }
        };
        let percent = match d.specified_argument_by_name("percent").map(|v| &**v) {
            None | Some(ast::Value::Null) => None,
            Some(ast::Value::Int(i)) => i.try_to_f64().ok(),
            Some(ast::Value::Float(f)) => f.try_to_f64().ok(),
            Some(other) => {
                return Err(format!(
                    "Argument \"percent\" of directive \"@{}\" (on \"{what}\") must be a number, not {}.",
                    d.name,
                    other.serialize().no_indent()
                ))
            }
        };
        Ok(MigrateApp {
            from: string("from")?,
            state: string("state")?,
            percent,
        })
    }
}

/// The rules that concern one subgraph: location, source not itself, state,
/// percent, no `@override` or `@external` with it.
pub(crate) fn check_subgraph(sg: &Subgraph) -> Vec<CompositionError> {
    let mut errors = Vec::new();
    let mut error = |code, message: String| {
        errors.push(CompositionError::in_subgraph(code, &sg.name, message));
    };
    for t in sg.types.values() {
        for f in t.fields.values() {
            let Some(m) = &f.migrate else { continue };
            let coordinate = format!("{}.{}", t.name, f.name);
            if t.kind != Kind::Object || t.interface_object {
                error(
                    ErrorCode::MigrateInvalidLocation,
                    format!(
                        "@migrate cannot be used on field \"{coordinate}\": \"{}\" is an interface{}, and only fields of object types can migrate.",
                        t.name,
                        if t.interface_object { " (@interfaceObject)" } else { "" }
                    ),
                );
                continue;
            }
            let root = matches!(t.name.as_str(), "Query" | "Mutation" | "Subscription");
            if !root && !t.keys.iter().any(|k| k.resolvable) {
                error(
                    ErrorCode::MigrateInvalidLocation,
                    format!(
                        "@migrate cannot be used on field \"{coordinate}\": type \"{}\" has no resolvable @key in subgraph \"{}\", so the router cannot ask \"{}\" for the field (only fields of root types and of entities can migrate).",
                        t.name, sg.name, sg.name
                    ),
                );
            }
            if m.from == sg.name {
                error(
                    ErrorCode::MigrateSourceIsSelf,
                    format!(
                        "Source and destination subgraphs \"{}\" are the same for migrated field \"{coordinate}\": @migrate(from:) must name the subgraph the field moves away from.",
                        sg.name
                    ),
                );
            }
            if let Err(e) = m.state.parse::<MigrationState>() {
                error(
                    ErrorCode::MigrateInvalidState,
                    format!("Invalid @migrate state on field \"{coordinate}\": {e}."),
                );
            }
            if let Some(p) = m.percent {
                if !(0.0..=100.0).contains(&p) {
                    error(
                        ErrorCode::MigrateInvalidPercent,
                        format!(
                            "Invalid @migrate percent {} on field \"{coordinate}\": it must be between 0 and 100 inclusive.",
                            format_percent(p)
                        ),
                    );
                }
            }
            if f.override_from.is_some() {
                error(
                    ErrorCode::MigrateWithOverride,
                    format!(
                        "Field \"{coordinate}\" has both @migrate and @override: use one of them (@override moves the field at once, @migrate step by step)."
                    ),
                );
            }
            if f.external {
                error(
                    ErrorCode::MigrateConflict,
                    format!(
                        "@migrate cannot be used on field \"{coordinate}\" since it is marked @external: the migrating subgraph must resolve the field."
                    ),
                );
            }
        }
    }
    errors
}

/// The rules across subgraphs: the source exists and resolves the field, a
/// field has one migration, and no `@override` takes the field from either
/// subgraph of a migration.
pub(crate) fn check_across(subgraphs: &[Subgraph]) -> Vec<CompositionError> {
    let mut errors = Vec::new();
    // (type, field) -> subgraphs migrating it.
    let mut migrating: IndexMap<(&str, &str), Vec<&str>> = IndexMap::new();
    for sg in subgraphs {
        for t in sg.types.values() {
            for f in t.fields.values() {
                let Some(m) = &f.migrate else { continue };
                migrating
                    .entry((t.name.as_str(), f.name.as_str()))
                    .or_default()
                    .push(sg.name.as_str());
                let coordinate = format!("{}.{}", t.name, f.name);
                if m.from == sg.name {
                    continue; // MIGRATE_SOURCE_IS_SELF
                }
                let Some(source) = subgraphs.iter().find(|s| s.name == m.from) else {
                    let names: Vec<&str> = subgraphs.iter().map(|s| s.name.as_str()).collect();
                    errors.push(CompositionError::in_subgraph(
                        ErrorCode::MigrateSourceNotFound,
                        &sg.name,
                        format!(
                            "@migrate on field \"{coordinate}\" migrates from subgraph \"{}\", which is not a subgraph of this composition (the subgraphs are {}).",
                            m.from,
                            and_list(&names)
                        ),
                    ));
                    continue;
                };
                match source.field(&t.name, &f.name) {
                    None => errors.push(CompositionError::in_subgraph(
                        ErrorCode::MigrateSourceMissingField,
                        &sg.name,
                        format!(
                            "@migrate on field \"{coordinate}\" migrates from subgraph \"{}\", which does not define \"{coordinate}\".",
                            m.from
                        ),
                    )),
                    Some(sf) if sf.external => errors.push(CompositionError::in_subgraph(
                        ErrorCode::MigrateSourceMissingField,
                        &sg.name,
                        format!(
                            "@migrate on field \"{coordinate}\" migrates from subgraph \"{}\", where \"{coordinate}\" is marked @external: the source subgraph must resolve the field.",
                            m.from
                        ),
                    )),
                    Some(_) => {}
                }
                for other in subgraphs {
                    let Some(from) = other
                        .field(&t.name, &f.name)
                        .and_then(|of| of.override_from.as_ref())
                    else {
                        continue;
                    };
                    if *from == m.from || *from == sg.name {
                        errors.push(CompositionError::in_subgraph(
                            ErrorCode::MigrateConflict,
                            &sg.name,
                            format!(
                                "Field \"{coordinate}\" is migrated from subgraph \"{}\" to subgraph \"{}\", but subgraph \"{}\" takes it from \"{from}\" with @override: a migration needs both subgraphs to keep resolving the field.",
                                m.from, sg.name, other.name
                            ),
                        ));
                    }
                }
            }
        }
    }
    for ((ty, field), names) in migrating {
        if names.len() > 1 {
            errors.push(CompositionError::new(
                ErrorCode::MigrateConflict,
                format!(
                    "Field \"{ty}.{field}\" is migrated with @migrate in subgraphs {}: a field has at most one migration at a time.",
                    and_list(&names)
                ),
            ));
        }
    }
    errors
}

/// The migration to record on `Type.field`, from the definition that has
/// `@migrate` (`to` is its subgraph). The checks have passed.
pub(crate) fn migration(
    type_name: &str,
    field: &str,
    subgraph: &str,
    app: &MigrateApp,
) -> Option<Migration> {
    Some(Migration {
        type_name: type_name.to_owned(),
        field: field.to_owned(),
        from: app.from.clone(),
        to: subgraph.to_owned(),
        state: app.state.parse().ok()?,
        percent: app.percent,
    })
}

/// `@migrate(from: "a", to: "b", state: "canary", percent: 25)`, as the
/// supergraph records it.
pub(crate) fn print(m: &Migration) -> String {
    let mut s = format!(
        "@migrate(from: {}, to: {}, state: {}",
        quote(&m.from),
        quote(&m.to),
        quote(m.state.as_str())
    );
    if let Some(p) = m.percent {
        let _ = write!(s, ", percent: {}", format_percent(p));
    }
    s.push(')');
    s
}

/// A percentage as a GraphQL number: `25`, `12.5`.
fn format_percent(p: f64) -> String {
    if p.fract() == 0.0 && p.abs() < 1e15 {
        format!("{}", p as i64)
    } else {
        format!("{p}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percents_print_as_numbers() {
        assert_eq!(format_percent(25.0), "25");
        assert_eq!(format_percent(12.5), "12.5");
        assert_eq!(format_percent(0.0), "0");
        assert_eq!(format_percent(100.0), "100");
    }

    #[test]
    fn printed_application() {
        let m = Migration {
            type_name: "User".into(),
            field: "progress".into(),
            from: "monolith".into(),
            to: "progress".into(),
            state: MigrationState::SideBySide,
            percent: None,
        };
        assert_eq!(
            print(&m),
            r#"@migrate(from: "monolith", to: "progress", state: "side-by-side")"#
        );
        let m = Migration {
            state: MigrationState::Canary,
            percent: Some(25.0),
            ..m
        };
        assert_eq!(
            print(&m),
            r#"@migrate(from: "monolith", to: "progress", state: "canary", percent: 25)"#
        );
    }
}
