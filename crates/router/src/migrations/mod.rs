//! Field migrations: manual → side-by-side → canary → migrated.
//!
//! See `docs/migrations.md`.

mod config;
pub mod report;

pub use config::{AutoConfig, FieldConfig, MigrationsConfig};
