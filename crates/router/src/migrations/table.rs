//! The migrations in force: the supergraph's `@migrate` records, overridden
//! by `migrations:` in the config, overridden by an operator's (or the
//! automatic steps') changes through the admin API.

use std::collections::BTreeMap;

use goliath_supergraph::{Migration, MigrationState, Supergraph};
use serde::{Deserialize, Serialize};

use super::compare::Rules;
use super::config::{AutoConfig, MigrationsConfig};

/// One migrating field as it is routed now.
#[derive(Debug, Clone)]
pub struct Active {
    /// `Type.field`.
    pub coordinate: String,
    /// The parent type.
    pub type_name: String,
    /// The field.
    pub field: String,
    /// The old subgraph.
    pub from: String,
    /// The new subgraph.
    pub to: String,
    /// The state.
    pub state: MigrationState,
    /// The canary share (canary only).
    pub percent: Option<f64>,
    /// `supergraph`, `config`, `admin` or `auto`.
    pub source: String,
    /// The comparison rules.
    pub rules: Rules,
    /// The share of eligible requests compared.
    pub sample: f64,
    /// Comparisons without mismatch that make the field ready.
    pub ready_after: u64,
    /// Automatic steps, if configured.
    pub auto: Option<AutoConfig>,
    /// The planner pin that routes the field to the old subgraph.
    pub pin_old: String,
    /// The planner pin that routes the field to the new subgraph.
    pub pin_new: String,
}

/// A state set at run time (`goliath migrate set`, or an automatic step),
/// kept in the store so that every router sharing it follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Override {
    /// The state.
    #[serde(with = "state_text")]
    pub state: MigrationState,
    /// The canary share.
    pub percent: Option<f64>,
    /// `admin` or `auto`.
    pub source: String,
    /// When it was set (RFC 3339).
    pub at: String,
    /// The counters when it was set: automatic steps judge what came after.
    #[serde(default)]
    pub baseline: BTreeMap<String, i64>,
    /// Automatic steps are paused (after a rollback, until an operator sets
    /// the field again).
    #[serde(default)]
    pub paused: bool,
}

/// [`MigrationState`] as its text form, for serde.
mod state_text {
    use goliath_supergraph::MigrationState;
    use serde::Deserialize;

    pub fn serialize<S: serde::Serializer>(s: &MigrationState, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(s.as_str())
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<MigrationState, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The fields in force, in `Type.field` order.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The fields.
    pub fields: Vec<Active>,
    /// Changes whenever the table is rebuilt (memoised per-document work
    /// keys on it).
    pub generation: u64,
}

impl Table {
    /// Builds the table from the supergraph's records, the config and the
    /// run-time overrides; fails when the config names a field the two
    /// subgraphs cannot both resolve.
    pub fn build(
        supergraph: &Supergraph,
        config: &MigrationsConfig,
        overrides: &BTreeMap<String, Override>,
        generation: u64,
    ) -> Result<Table, String> {
        let mut fields: BTreeMap<String, Active> = BTreeMap::new();
        for m in &supergraph.migrations {
            fields.insert(m.coordinate(), active(m, "supergraph", config));
        }
        for (coordinate, fc) in &config.fields {
            let (type_name, field) = coordinate
                .split_once('.')
                .ok_or_else(|| format!("migrations.{coordinate}: the key is `Type.field`"))?;
            let entry = match fields.remove(coordinate) {
                Some(mut a) => {
                    if let (Some(from), Some(to)) = (&fc.from, &fc.to) {
                        a.from = from.clone();
                        a.to = to.clone();
                    }
                    a
                }
                None => {
                    let (Some(from), Some(to)) = (&fc.from, &fc.to) else {
                        return Err(format!(
                            "migrations.{coordinate}: the supergraph has no @migrate on {coordinate}; give `from` and `to`"
                        ));
                    };
                    let m = Migration {
                        type_name: type_name.to_owned(),
                        field: field.to_owned(),
                        from: from.clone(),
                        to: to.clone(),
                        state: fc.state.unwrap_or(MigrationState::SideBySide),
                        percent: fc.percent,
                    };
                    active(&m, "config", config)
                }
            };
            let mut a = entry;
            if let Some(state) = fc.state {
                a.state = state;
                a.percent = fc.percent;
                a.source = "config".to_owned();
            } else if fc.percent.is_some() {
                a.percent = fc.percent;
                a.source = "config".to_owned();
            }
            a.rules = Rules {
                ignore: fc.ignore.clone(),
                unordered: fc.unordered.clone(),
                float_tolerance: fc.float_tolerance,
            };
            a.sample = fc.sample.unwrap_or(config.sample);
            a.ready_after = fc.ready_after.unwrap_or(config.ready_after);
            a.auto = fc.auto.clone();
            check_resolvable(supergraph, &a)?;
            fields.insert(coordinate.clone(), a);
        }
        for (coordinate, o) in overrides {
            if let Some(a) = fields.get_mut(coordinate) {
                a.state = o.state;
                a.percent = o.percent;
                a.source = o.source.clone();
            }
        }
        for a in fields.values_mut() {
            a.pin_old = format!("{}={}", a.coordinate, a.from);
            a.pin_new = format!("{}={}", a.coordinate, a.to);
        }
        Ok(Table {
            fields: fields.into_values().collect(),
            generation,
        })
    }

    /// The index of the field `type_name.field`, if it is migrating.
    pub fn index(&self, type_name: &str, field: &str) -> Option<usize> {
        self.fields
            .iter()
            .position(|a| a.type_name == type_name && a.field == field)
    }
}

fn active(m: &Migration, source: &str, config: &MigrationsConfig) -> Active {
    Active {
        coordinate: m.coordinate(),
        type_name: m.type_name.clone(),
        field: m.field.clone(),
        from: m.from.clone(),
        to: m.to.clone(),
        state: m.state,
        percent: m.percent,
        source: source.to_owned(),
        rules: Rules::default(),
        sample: config.sample,
        ready_after: config.ready_after,
        auto: None,
        pin_old: String::new(),
        pin_new: String::new(),
    }
}

/// Both subgraphs of a config-declared migration must resolve the field.
fn check_resolvable(supergraph: &Supergraph, a: &Active) -> Result<(), String> {
    for side in [&a.from, &a.to] {
        let graph = supergraph
            .graphs
            .iter()
            .position(|g| &g.name == side)
            .ok_or_else(|| format!("migrations.{}: no subgraph named `{side}`", a.coordinate))?;
        let resolves = supergraph
            .field_in_graph(&a.type_name, &a.field, graph)
            .is_some_and(|f| !f.external);
        if !resolves {
            return Err(format!(
                "migrations.{}: subgraph `{side}` does not resolve {}",
                a.coordinate, a.coordinate
            ));
        }
    }
    Ok(())
}
