//! Purge requests, in the shape of Apollo Router's invalidation endpoint:
//! a JSON list of
//!
//! ```json
//! [{"kind": "subgraph", "subgraph": "accounts"},
//!  {"kind": "type", "type": "User", "subgraph": "accounts"},
//!  {"kind": "entity", "type": "User", "key": {"id": "1"}},
//!  {"kind": "cache_tag", "cache_tag": "User:1", "subgraphs": ["accounts"]},
//!  {"kind": "all"}]
//! ```
//!
//! answered with `{"count": N}`, the number of answers removed. Each
//! request becomes a [`Selector`] over the tags answers are kept with: the
//! surrogate keys (`crate::surrogate_keys`: `Type`, `Type:key`) and
//! `@sg:{subgraph}` for each subgraph the answer came from. `subgraph` on
//! `type` and `entity` narrows to answers that came from it.

use goliath_supergraph::Supergraph;
use serde::Deserialize;
use serde_json::{Map, Value};

/// One purge request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Invalidation {
    /// Every kept answer.
    All,
    /// The answers a subgraph took part in.
    Subgraph {
        /// The subgraph's name.
        subgraph: String,
    },
    /// The answers holding an object of a type.
    Type {
        /// The type's name.
        #[serde(rename = "type")]
        type_name: String,
        /// Only those a subgraph took part in.
        #[serde(default)]
        subgraph: Option<String>,
    },
    /// The answers holding one entity, by its key fields.
    Entity {
        /// The entity's type.
        #[serde(rename = "type")]
        type_name: String,
        /// Its key fields' values, as in a representation.
        key: Map<String, Value>,
        /// Only those a subgraph took part in.
        #[serde(default)]
        subgraph: Option<String>,
    },
    /// The answers carrying a surrogate key.
    CacheTag {
        /// The key, as in the `Surrogate-Key` header.
        cache_tag: String,
        /// Only those one of these subgraphs took part in.
        #[serde(default)]
        subgraphs: Vec<String>,
    },
}

/// Which kept answers a purge removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// All of them.
    All,
    /// Those carrying every tag of `all_of` (at least one) and, when
    /// `any_of` is not empty, one of its tags.
    Tags {
        /// Tags all required.
        all_of: Vec<String>,
        /// Tags of which one is required.
        any_of: Vec<String>,
    },
}

/// The tag of answers a subgraph took part in.
pub fn subgraph_tag(name: &str) -> String {
    format!("@sg:{name}")
}

/// The tag of answers holding an object of the entity type `type_tag`
/// without its key (`crate::surrogate_keys::Tags::unkeyed`): a purge of
/// any entity of the type takes them too.
pub fn unkeyed_tag(type_tag: &str) -> String {
    format!("@unkeyed:{type_tag}")
}

/// The selectors that purge the entity tagged `entity_tag` of the type
/// tagged `type_tag`: the answers with its tag, and those holding an
/// object of its type without a key; each narrowed by `narrow` (tags all
/// required).
pub fn entity_selectors(entity_tag: &str, type_tag: &str, narrow: &[String]) -> [Selector; 2] {
    [entity_tag.to_owned(), unkeyed_tag(type_tag)].map(|tag| {
        let mut all_of = vec![tag];
        all_of.extend(narrow.iter().cloned());
        Selector::Tags {
            all_of,
            any_of: Vec::new(),
        }
    })
}

/// Parses a purge request body: a list of requests, or one.
pub fn parse(body: &[u8]) -> Result<Vec<Invalidation>, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let list = match value {
        Value::Array(list) => list,
        one @ Value::Object(_) => vec![one],
        _ => return Err("the body must be a list of invalidation requests".to_owned()),
    };
    list.into_iter()
        .enumerate()
        .map(|(i, item)| {
            serde_json::from_value(item).map_err(|e| format!("invalidation request {i}: {e}"))
        })
        .collect()
}

impl Invalidation {
    /// The answers this request removes (the union of what each selector
    /// picks), with the names checked against `supergraph`.
    pub fn selectors(&self, supergraph: &Supergraph) -> Result<Vec<Selector>, String> {
        let subgraph = |name: &str| {
            if supergraph.graphs.iter().any(|g| g.name == name) {
                Ok(subgraph_tag(name))
            } else {
                Err(format!("no subgraph `{name}` in the supergraph"))
            }
        };
        let type_exists = |name: &str| {
            if supergraph.api_schema.types.contains_key(name) {
                Ok(())
            } else {
                Err(format!("no type `{name}` in the supergraph"))
            }
        };
        let narrow = |by: &Option<String>| -> Result<Vec<String>, String> {
            by.as_deref().map(subgraph).into_iter().collect()
        };
        match self {
            Invalidation::All => Ok(vec![Selector::All]),
            Invalidation::Subgraph { subgraph: name } => Ok(vec![Selector::Tags {
                all_of: vec![subgraph(name)?],
                any_of: Vec::new(),
            }]),
            Invalidation::Type {
                type_name,
                subgraph,
            } => {
                type_exists(type_name)?;
                let mut all_of = vec![crate::surrogate_keys::type_tag(type_name)];
                all_of.extend(narrow(subgraph)?);
                Ok(vec![Selector::Tags {
                    all_of,
                    any_of: Vec::new(),
                }])
            }
            Invalidation::Entity {
                type_name,
                key,
                subgraph,
            } => {
                let tag = crate::surrogate_keys::entity_tag(supergraph, type_name, key)?;
                let type_tag = crate::surrogate_keys::type_tag(type_name);
                Ok(entity_selectors(&tag, &type_tag, &narrow(subgraph)?).into())
            }
            Invalidation::CacheTag {
                cache_tag,
                subgraphs,
            } => {
                if cache_tag.is_empty() {
                    return Err("`cache_tag` must not be empty".to_owned());
                }
                Ok(vec![Selector::Tags {
                    all_of: vec![cache_tag.clone()],
                    any_of: subgraphs
                        .iter()
                        .map(|name| subgraph(name))
                        .collect::<Result<_, _>>()?,
                }])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_apollo_shapes() {
        let body = br#"[{"kind":"subgraph","subgraph":"a"},
            {"kind":"type","type":"User","subgraph":"a"},
            {"kind":"entity","type":"User","key":{"id":"1"}},
            {"kind":"cache_tag","cache_tag":"User:1","subgraphs":["a"]},
            {"kind":"all"}]"#;
        let parsed = parse(body).unwrap();
        assert_eq!(parsed.len(), 5);
        assert_eq!(
            parsed[1],
            Invalidation::Type {
                type_name: "User".into(),
                subgraph: Some("a".into())
            }
        );
        assert_eq!(
            parse(br#"{"kind":"all"}"#).unwrap(),
            vec![Invalidation::All]
        );
    }

    #[test]
    fn refuses_bad_requests() {
        assert!(parse(b"nope").unwrap_err().contains("not JSON"));
        assert!(parse(b"3").unwrap_err().contains("list"));
        let unknown = parse(br#"[{"kind":"everything"}]"#).unwrap_err();
        assert!(unknown.contains("request 0"), "{unknown}");
        let missing = parse(br#"[{"kind":"all"},{"kind":"type"}]"#).unwrap_err();
        assert!(missing.contains("request 1"), "{missing}");
        assert!(parse(br#"[{"kind":"subgraph","subgraph":"a","x":1}]"#).is_err());
    }
}
