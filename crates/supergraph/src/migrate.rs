//! Field migrations recorded in the supergraph: `@migrate(from:, to:,
//! state:, percent:)` on a field that two subgraphs resolve, the old one
//! (`from`) and the new one (`to`). Composition writes it from the new
//! subgraph's `@migrate(from:, state:, percent:)` (see `docs/migrations.md`).
//!
//! A supergraph brings `@migrate` in with
//! `@link(url: "https://goliath.dev/migrate/v0.1")` (any `v0.x`; an import
//! or `as:` may rename it); without that link, a `@migrate` is someone
//! else's directive and is not read.

use std::fmt;
use std::str::FromStr;

use apollo_compiler::ast::Value;
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::{Name, Schema};
use indexmap::IndexMap;

use crate::model::{Graph, SupergraphError, TypeInfo};

/// The URL of the link that defines `@migrate` (the spec's name is the
/// directive's, so `@link(url: MIGRATE_SPEC_URL)` brings `@migrate` in).
pub const MIGRATE_SPEC_URL: &str = "https://goliath.dev/migrate/v0.1";

/// Where a migrating field is in its move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MigrationState {
    /// The old subgraph serves; the new one only requests that opt in.
    Manual,
    /// The old subgraph serves; the new one is asked too and compared.
    SideBySide,
    /// `percent` of requests are served by the new subgraph, the rest are
    /// compared side by side.
    Canary,
    /// The new subgraph serves; the old one is not asked.
    Migrated,
}

impl MigrationState {
    /// The state's name as written in SDL and config: `manual`,
    /// `side-by-side`, `canary`, `migrated`.
    pub fn as_str(self) -> &'static str {
        match self {
            MigrationState::Manual => "manual",
            MigrationState::SideBySide => "side-by-side",
            MigrationState::Canary => "canary",
            MigrationState::Migrated => "migrated",
        }
    }
}

impl fmt::Display for MigrationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MigrationState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "manual" => MigrationState::Manual,
            "side-by-side" | "side_by_side" | "sidebyside" => MigrationState::SideBySide,
            "canary" => MigrationState::Canary,
            "migrated" => MigrationState::Migrated,
            other => {
                return Err(format!(
                    "unknown migration state `{other}` (expected manual, side-by-side, canary or migrated)"
                ))
            }
        })
    }
}

/// One field's migration, as the supergraph records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    /// The parent type (an object type).
    pub type_name: String,
    /// The field.
    pub field: String,
    /// The old subgraph's name (as in `join__Graph`'s `name:`).
    pub from: String,
    /// The new subgraph's name.
    pub to: String,
    /// The state composition recorded.
    pub state: MigrationState,
    /// The canary share, 0–100 (`canary` only).
    pub percent: Option<f64>,
}

impl Migration {
    /// `Type.field`.
    pub fn coordinate(&self) -> String {
        format!("{}.{}", self.type_name, self.field)
    }
}

/// `https://goliath.dev/migrate/`: the spec's URL without its version.
fn spec_base() -> &'static str {
    MIGRATE_SPEC_URL
        .rsplit_once('/')
        .map(|(base, _)| base)
        .unwrap_or(MIGRATE_SPEC_URL)
}

/// For a `@link(url:)`: `Ok(true)` for the migrate spec at a version goliath
/// reads (`v0.x`), `Ok(false)` for other specs, an error for the migrate
/// spec at another version.
pub(crate) fn is_migrate_link(url: &str) -> Result<bool, SupergraphError> {
    let Some(version) = url
        .trim_end_matches('/')
        .strip_prefix(spec_base())
        .and_then(|rest| rest.strip_prefix('/'))
    else {
        return Ok(false);
    };
    let minor = version.strip_prefix("v0.").unwrap_or("");
    if minor.is_empty() || !minor.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SupergraphError::Unsupported(format!(
            "{url}: goliath reads the migrate spec at versions v0.x ({MIGRATE_SPEC_URL})"
        )));
    }
    Ok(true)
}

/// The name `@migrate` has in `schema`, when the schema links the migrate
/// spec: its import (renamed or not), else the link's `as:`, else `migrate`.
pub(crate) fn directive_name(schema: &Schema) -> Option<String> {
    for link in schema.schema_definition.directives.get_all("link") {
        let url = link
            .specified_argument_by_name("url")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        if !matches!(is_migrate_link(url), Ok(true)) {
            continue;
        }
        let mut name = link
            .specified_argument_by_name("as")
            .and_then(|v| v.as_str())
            .unwrap_or("migrate")
            .to_owned();
        for (element, alias) in crate::cost::link_imports(link) {
            if element == "@migrate" {
                name = alias.trim_start_matches('@').to_owned();
            }
        }
        return Some(name);
    }
    None
}

/// Reads every `@migrate` on object fields, in schema order, and checks it
/// against the join model: `from` and `to` must be two subgraphs that
/// resolve the field, and `state` one of the four states.
pub(crate) fn read(
    schema: &Schema,
    graphs: &[Graph],
    types: &IndexMap<Name, TypeInfo>,
) -> Result<Vec<Migration>, SupergraphError> {
    let Some(directive) = directive_name(schema) else {
        return Ok(Vec::new());
    };
    let mut migrations = Vec::new();
    for (type_name, ty) in &schema.types {
        let (fields, object) = match ty {
            ExtendedType::Object(o) => (&o.fields, true),
            ExtendedType::Interface(i) => (&i.fields, false),
            _ => continue,
        };
        for (field, def) in fields {
            let mut applications = def.directives.get_all(directive.as_str());
            let Some(d) = applications.next() else {
                continue;
            };
            let coordinate = format!("{type_name}.{field}");
            let invalid =
                |m: String| SupergraphError::Invalid(format!("@{directive} on {coordinate}: {m}"));
            if !object {
                return Err(invalid(format!(
                    "{type_name} is an interface; only fields of object types can migrate"
                )));
            }
            if applications.next().is_some() {
                return Err(invalid("a field has at most one migration".into()));
            }
            let string = |arg: &str| {
                d.specified_argument_by_name(arg)
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
                    .ok_or_else(|| invalid(format!("{arg}: is missing or not a string")))
            };
            let (from, to, state) = (string("from")?, string("to")?, string("state")?);
            let state: MigrationState = state.parse().map_err(invalid)?;
            let percent = match d.specified_argument_by_name("percent").map(|v| &**v) {
                None | Some(Value::Null) => None,
                Some(Value::Int(i)) => i.try_to_f64().ok(),
                Some(Value::Float(f)) => f.try_to_f64().ok(),
                Some(other) => {
                    return Err(invalid(format!("percent: {other} is not a number")));
                }
            };
            if let Some(p) = percent {
                if !(0.0..=100.0).contains(&p) {
                    return Err(invalid(format!("percent: {p} is not between 0 and 100")));
                }
            }
            if from == to {
                return Err(invalid(format!(
                    "from and to are both \"{from}\": a field migrates between two subgraphs"
                )));
            }
            let in_graphs = types
                .get(type_name)
                .and_then(|t| t.fields.get(field))
                .map(|f| f.graphs.as_slice())
                .unwrap_or_default();
            for (arg, subgraph) in [("from", &from), ("to", &to)] {
                let Some(graph) = graphs.iter().position(|g| g.name == *subgraph) else {
                    return Err(invalid(format!(
                        "{arg}: \"{subgraph}\" is not a subgraph of this supergraph (no join__Graph value has that name)"
                    )));
                };
                match in_graphs.iter().find(|f| f.graph == graph) {
                    None => {
                        return Err(invalid(format!(
                            "{arg}: subgraph \"{subgraph}\" does not define {coordinate} (it has no @join__field for it)"
                        )))
                    }
                    Some(f) if f.external => {
                        return Err(invalid(format!(
                            "{arg}: subgraph \"{subgraph}\" does not resolve {coordinate} (its @join__field is external)"
                        )))
                    }
                    Some(_) => {}
                }
            }
            migrations.push(Migration {
                type_name: type_name.to_string(),
                field: field.to_string(),
                from,
                to,
                state,
                percent,
            });
        }
    }
    Ok(migrations)
}
