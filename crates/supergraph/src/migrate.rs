//! Field migrations recorded in the supergraph: `@migrate(from:, to:,
//! state:, percent:)` on a field that two subgraphs resolve, the old one
//! (`from`) and the new one (`to`). Composition writes it from the new
//! subgraph's `@migrate(from:, state:, percent:)` (see `docs/migrations.md`).

use std::fmt;
use std::str::FromStr;

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
