//! The `headers:` section, in Apollo Router's shape so that its users can
//! copy theirs:
//!
//! ```yaml
//! headers:
//!   all:                      # every subgraph, applied first
//!     request:
//!       - propagate:
//!           named: authorization
//!       - propagate:
//!           named: x-user-id
//!           rename: account-id
//!           default: anonymous
//!       - propagate:
//!           matching: "^x-trace-.*"
//!       - insert:
//!           name: x-gateway
//!           value: goliath
//!       - remove:
//!           named: x-internal
//!   subgraphs:
//!     products:               # then this subgraph's own rules
//!       request:
//!         - remove:
//!             matching: "^x-trace-.*"
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

/// Which headers the router sends to subgraphs.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HeadersConfig {
    /// Rules for every subgraph, applied first.
    pub all: Option<SubgraphHeaders>,
    /// Rules for one subgraph, by name, applied after `all`'s.
    pub subgraphs: BTreeMap<String, SubgraphHeaders>,
}

/// The rules for the requests to one subgraph (or to all).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubgraphHeaders {
    /// The rules, in the order they apply.
    pub request: Vec<Rule>,
}

/// One rule: exactly one of its fields is set (in YAML, a map with one
/// key: `- propagate: {...}`, `- insert: {...}` or `- remove: {...}`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rule {
    /// Copies client request headers.
    pub propagate: Option<Propagate>,
    /// Sets a header to a fixed value.
    pub insert: Option<Insert>,
    /// Drops headers earlier rules added.
    pub remove: Option<Remove>,
}

/// `propagate`: one header by name (optionally renamed, with a default
/// when the client did not send it), or every header whose name matches a
/// regular expression.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Propagate {
    /// The client header to copy.
    pub named: Option<String>,
    /// A regular expression: copy every client header whose name it
    /// matches.
    pub matching: Option<String>,
    /// The name to send it under (with `named`).
    pub rename: Option<String>,
    /// The value to send when the client did not send the header (with
    /// `named`).
    pub default: Option<String>,
}

/// `insert`: a header with a fixed value.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Insert {
    /// The header's name.
    pub name: String,
    /// Its value.
    pub value: String,
}

/// `remove`: a header by name, or every header whose name matches a
/// regular expression, among those earlier rules added.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Remove {
    /// The header to drop.
    pub named: Option<String>,
    /// A regular expression: drop every header whose name it matches.
    pub matching: Option<String>,
}

impl HeadersConfig {
    /// Checks names, values and regular expressions: `(key, message)` for
    /// the first that is wrong.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if let Some(all) = &self.all {
            super::compile(&all.request, "headers.all.request")?;
        }
        for (name, rules) in &self.subgraphs {
            super::compile(&rules.request, &format!("headers.subgraphs.{name}.request"))?;
        }
        Ok(())
    }
}
