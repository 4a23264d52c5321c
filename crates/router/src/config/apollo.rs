//! Apollo Router's config sections that goliath reads into its own, so a
//! `router.yaml` written for Apollo Router loads as it is wherever goliath
//! has the feature (`docs/migrating-from-apollo-router.md` lists them):
//!
//! - `supergraph: {listen, path, introspection}` → `listen`,
//!   `graphql_path`, `introspection` (goliath's own `supergraph:` is the
//!   supergraph file's path; either shape is read);
//! - `health_check: {path, enabled, listen}` → `health_path` (on the main
//!   listener: a `listen` of its own is refused with an explanation);
//! - `sandbox: {enabled}` → `graphiql` (goliath serves GraphiQL, offline,
//!   where Apollo serves Sandbox); `homepage: {enabled}` is read and has
//!   no effect (goliath has no landing page);
//! - `override_subgraph_url: {NAME: URL}` → `subgraphs.NAME.url`;
//! - `traffic_shaping: {router: {timeout}, all: {timeout}, subgraphs:
//!   {NAME: {timeout}}}` → `limits.request_timeout_ms`,
//!   `subgraph_defaults.timeout_ms`, `subgraphs.NAME.timeout_ms`;
//! - `authentication.router.jwt` and `authorization.{require_authentication,
//!   directives}` → `authentication.jwt` and `authorization`
//!   (`crate::auth::config::fold_apollo`).
//!
//! A setting given both ways with two different values is an error that
//! names both keys.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::{Config, ConfigErrorKind};

/// `supergraph:`: goliath's path to the supergraph file, or Apollo
/// Router's section (read into `listen`, `graphql_path` and
/// `introspection`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SupergraphSection {
    /// The supergraph SDL file (goliath's `supergraph: FILE`).
    pub file: Option<PathBuf>,
    /// Apollo's `supergraph.listen`.
    pub listen: Option<String>,
    /// Apollo's `supergraph.path`.
    pub path: Option<String>,
    /// Apollo's `supergraph.introspection`.
    pub introspection: Option<bool>,
}

/// Apollo Router's `supergraph:` keys that goliath reads.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApolloSupergraph {
    listen: Option<String>,
    path: Option<String>,
    introspection: Option<bool>,
}

impl<'de> Deserialize<'de> for SupergraphSection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Section;
        impl<'de> Visitor<'de> for Section {
            type Value = SupergraphSection;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "the supergraph file's path, or Apollo Router's {listen, path, introspection}",
                )
            }
            fn visit_str<E: de::Error>(self, file: &str) -> Result<Self::Value, E> {
                Ok(SupergraphSection {
                    file: Some(file.into()),
                    ..SupergraphSection::default()
                })
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(SupergraphSection::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let apollo =
                    ApolloSupergraph::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(SupergraphSection {
                    file: None,
                    listen: apollo.listen,
                    path: apollo.path,
                    introspection: apollo.introspection,
                })
            }
        }
        d.deserialize_any(Section)
    }
}

/// Apollo Router's `health_check:`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    /// Its own listener in Apollo; goliath serves health on the main one.
    pub listen: Option<String>,
    /// Whether it is served (goliath always serves it).
    pub enabled: Option<bool>,
    /// Its path.
    pub path: Option<String>,
}

/// Apollo Router's `sandbox:` and `homepage:`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enabled {
    /// On or off.
    pub enabled: bool,
}

/// Apollo Router's `traffic_shaping:` (its timeouts; its other keys are
/// refused by name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrafficShaping {
    /// The whole request.
    pub router: Option<Timeout>,
    /// Every subgraph request.
    pub all: Option<Timeout>,
    /// One subgraph's requests, by name.
    pub subgraphs: BTreeMap<String, Timeout>,
}

/// A `timeout:` in `traffic_shaping:`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeout {
    /// `30s`, `500ms`, …
    #[serde(default, deserialize_with = "super::duration::optional")]
    pub timeout: Option<Duration>,
}

/// Sets `*slot` to `value` unless it already holds another value than
/// `default`: then the two keys conflict.
fn set<T: PartialEq + fmt::Debug>(
    slot: &mut T,
    value: T,
    default: &T,
    ours: &str,
    theirs: &str,
) -> Result<(), ConfigErrorKind> {
    if *slot != *default && *slot != value {
        return Err(ConfigErrorKind::Invalid {
            key: theirs.to_string(),
            message: format!(
                "{value:?} conflicts with `{ours}: {slot:?}`; give one of the two (`{theirs}` is Apollo Router's name for `{ours}`)"
            ),
        });
    }
    *slot = value;
    Ok(())
}

/// Milliseconds, saturating.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Reads Apollo Router's sections into goliath's settings.
pub(super) fn fold(config: &mut Config) -> Result<(), ConfigErrorKind> {
    crate::auth::config::fold_apollo(&mut config.authentication, &mut config.authorization)
        .map_err(|(key, message)| ConfigErrorKind::Invalid { key, message })?;
    let d = Config::default();
    let sg = config.supergraph.clone();
    if let Some(listen) = sg.listen {
        set(
            &mut config.listen,
            listen,
            &d.listen,
            "listen",
            "supergraph.listen",
        )?;
    }
    if let Some(path) = sg.path {
        let path = path.trim_end_matches("/*").to_string();
        let path = if path.is_empty() {
            "/".to_string()
        } else {
            path
        };
        let ours = "graphql_path";
        set(
            &mut config.graphql_path,
            path,
            &d.graphql_path,
            ours,
            "supergraph.path",
        )?;
    }
    if let Some(on) = sg.introspection {
        let ours = "introspection";
        set(
            &mut config.introspection,
            on,
            &d.introspection,
            ours,
            "supergraph.introspection",
        )?;
    }
    if let Some(health) = config.health_check.clone() {
        if let Some(path) = health.path {
            set(
                &mut config.health_path,
                path,
                &d.health_path,
                "health_path",
                "health_check.path",
            )?;
        }
        if health.enabled == Some(false) {
            return Err(ConfigErrorKind::Invalid {
                key: "health_check.enabled".into(),
                message: "goliath always serves the health check (on the main listener, at `health_path`)".into(),
            });
        }
        if let Some(listen) = health.listen.filter(|l| *l != config.listen) {
            return Err(ConfigErrorKind::Invalid {
                key: "health_check.listen".into(),
                message: format!(
                    "`{listen}`: goliath serves the health check on the main listener ({}), at `health_path` (`?ready` for readiness); remove `health_check.listen` and point the probes there",
                    config.listen
                ),
            });
        }
    }
    if let Some(sandbox) = &config.sandbox {
        if config.graphiql.is_some_and(|g| g != sandbox.enabled) {
            return Err(ConfigErrorKind::Invalid {
                key: "sandbox.enabled".into(),
                message: "conflicts with `graphiql`; give one of the two".into(),
            });
        }
        config.graphiql = Some(sandbox.enabled);
    }
    for (name, url) in config.override_subgraph_url.clone() {
        let sub = config.subgraphs.entry(name.clone()).or_default();
        let key = format!("override_subgraph_url.{name}");
        set(
            &mut sub.url,
            Some(url),
            &None,
            &format!("subgraphs.{name}.url"),
            &key,
        )?;
    }
    if let Some(shaping) = config.traffic_shaping.clone() {
        if let Some(t) = shaping.router.and_then(|r| r.timeout) {
            let (ours, theirs) = (
                "limits.request_timeout_ms",
                "traffic_shaping.router.timeout",
            );
            let default = &d.limits.request_timeout_ms;
            set(
                &mut config.limits.request_timeout_ms,
                millis(t),
                default,
                ours,
                theirs,
            )?;
        }
        if let Some(t) = shaping.all.and_then(|a| a.timeout) {
            let (ours, theirs) = (
                "subgraph_defaults.timeout_ms",
                "traffic_shaping.all.timeout",
            );
            let default = &d.subgraph_defaults.timeout_ms;
            set(
                &mut config.subgraph_defaults.timeout_ms,
                millis(t),
                default,
                ours,
                theirs,
            )?;
        }
        for (name, t) in shaping.subgraphs {
            if let Some(t) = t.timeout {
                let sub = config.subgraphs.entry(name.clone()).or_default();
                let ours = format!("subgraphs.{name}.timeout_ms");
                let theirs = format!("traffic_shaping.subgraphs.{name}.timeout");
                set(&mut sub.timeout_ms, Some(millis(t)), &None, &ours, &theirs)?;
            }
        }
    }
    Ok(())
}
