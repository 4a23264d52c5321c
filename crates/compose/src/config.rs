//! rover's `supergraph.yaml`: the subgraphs to compose.
//!
//! ```yaml
//! federation_version: 2          # optional
//! subgraphs:
//!   products:
//!     routing_url: http://products:4001/graphql
//!     schema:
//!       file: ./products.graphql  # relative to this file
//!   reviews:
//!     routing_url: http://reviews:4002/graphql
//!     schema:
//!       subgraph_url: http://reviews:4002/graphql   # `_service { sdl }`
//!   inline:
//!     routing_url: http://inline:4003/graphql
//!     schema:
//!       sdl: "type Query { hello: String }"
//! ```

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;

use crate::errors::ComposeError;
use crate::subgraph::SubgraphInput;

/// Fetches a running subgraph's SDL: `fetch(name, url)` is the SDL, or
/// why it could not be had.
pub type FetchSdl<'a> = dyn Fn(&str, &str) -> Result<String, String> + 'a;

/// Where a subgraph's schema comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum SchemaSource {
    /// A file, relative to the configuration file.
    File {
        /// The path to the SDL file.
        file: PathBuf,
    },
    /// A running subgraph, asked for `{ _service { sdl } }`.
    SubgraphUrl {
        /// The subgraph's GraphQL endpoint.
        subgraph_url: String,
    },
    /// The SDL itself.
    Sdl {
        /// The SDL text.
        sdl: String,
    },
}

/// One subgraph of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubgraphConfig {
    /// Where the router sends requests (defaults to `schema.subgraph_url`).
    #[serde(default)]
    pub routing_url: Option<String>,
    /// Where the schema comes from.
    pub schema: SchemaSource,
}

/// The `supergraph.yaml` configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SupergraphConfig {
    /// `2` (or rover's `=2.x.y`); Federation 1 supergraphs are not produced.
    #[serde(default)]
    pub federation_version: Option<serde_json::Value>,
    /// The subgraphs by name.
    pub subgraphs: IndexMap<String, SubgraphConfig>,
    /// The directory file paths are relative to.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

impl SupergraphConfig {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<SupergraphConfig, ComposeError> {
        let text = std::fs::read_to_string(path).map_err(|e| ComposeError::Config {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let mut config =
            SupergraphConfig::parse(&text).map_err(|message| ComposeError::Config {
                path: path.display().to_string(),
                message,
            })?;
        config.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(config)
    }

    /// Parses configuration text (file paths are relative to the current directory).
    pub fn parse(text: &str) -> Result<SupergraphConfig, String> {
        let config: SupergraphConfig = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        if let Some(v) = &config.federation_version {
            let text = match v {
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::String(s) => s.clone(),
                _ => String::new(),
            };
            let major = text.trim_start_matches('=').split('.').next().unwrap_or("");
            if major != "2" {
                return Err(format!(
                    "federation_version {text:?} is not supported: goliath composes Federation 2 supergraphs (Federation 1 subgraphs are accepted)"
                ));
            }
        }
        if config.subgraphs.is_empty() {
            return Err("no subgraphs are listed".into());
        }
        for (name, sub) in &config.subgraphs {
            if sub.routing_url.is_none() && !matches!(sub.schema, SchemaSource::SubgraphUrl { .. })
            {
                return Err(format!("subgraph \"{name}\" has no routing_url"));
            }
        }
        Ok(config)
    }

    /// The subgraphs given by URL: `(name, subgraph_url)`.
    pub fn polled_subgraphs(&self) -> Vec<(String, String)> {
        self.subgraphs
            .iter()
            .filter_map(|(name, s)| match &s.schema {
                SchemaSource::SubgraphUrl { subgraph_url } => {
                    Some((name.clone(), subgraph_url.clone()))
                }
                _ => None,
            })
            .collect()
    }

    /// Reads every subgraph's schema; those given by `subgraph_url` are
    /// asked for with `fetch(name, url)` (the router's subgraph client:
    /// `goliath_router::subgraph_sdl`; this crate does no I/O but files).
    pub fn resolve(&self, fetch: &FetchSdl<'_>) -> Result<Vec<SubgraphInput>, ComposeError> {
        self.subgraphs
            .iter()
            .map(|(name, s)| {
                let schema_error = |message: String| ComposeError::Schema {
                    subgraph: name.clone(),
                    message,
                };
                let sdl = match &s.schema {
                    SchemaSource::File { file } => {
                        let path = self.base_dir.join(file);
                        std::fs::read_to_string(&path).map_err(|e| {
                            schema_error(format!("cannot read {}: {e}", path.display()))
                        })?
                    }
                    SchemaSource::SubgraphUrl { subgraph_url } => {
                        fetch(name, subgraph_url).map_err(schema_error)?
                    }
                    SchemaSource::Sdl { sdl } => sdl.clone(),
                };
                let url = match (&s.routing_url, &s.schema) {
                    (Some(u), _) => u.clone(),
                    (None, SchemaSource::SubgraphUrl { subgraph_url }) => subgraph_url.clone(),
                    (None, _) => String::new(),
                };
                Ok(SubgraphInput {
                    name: name.clone(),
                    url,
                    sdl,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rover_config() {
        let c = SupergraphConfig::parse(
            r#"
federation_version: =2.3.2
subgraphs:
  products:
    routing_url: http://localhost:4001
    schema:
      file: ./products.graphql
  reviews:
    schema:
      subgraph_url: http://localhost:4002
  inline:
    routing_url: http://localhost:4003
    schema:
      sdl: "type Query { a: Int }"
"#,
        )
        .unwrap();
        assert_eq!(c.subgraphs.len(), 3);
        assert!(matches!(
            c.subgraphs["products"].schema,
            SchemaSource::File { .. }
        ));
        assert_eq!(
            c.polled_subgraphs(),
            vec![("reviews".into(), "http://localhost:4002".into())]
        );
        assert!(matches!(
            c.subgraphs["inline"].schema,
            SchemaSource::Sdl { .. }
        ));
    }

    #[test]
    fn rejects_fed1_and_missing_routing_url() {
        assert!(SupergraphConfig::parse("federation_version: 1\nsubgraphs:\n  a:\n    routing_url: x\n    schema:\n      sdl: s\n").is_err());
        assert!(SupergraphConfig::parse("subgraphs:\n  a:\n    schema:\n      sdl: s\n").is_err());
    }
}
