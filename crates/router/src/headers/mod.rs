//! Header propagation: which of the client's request headers, and which
//! fixed ones, go with the requests to each subgraph (the `headers:`
//! config, as Apollo Router's; see [`config`]).
//!
//! Rules apply in order, `all`'s first, then the subgraph's own, each to
//! the headers the earlier ones produced: `propagate` copies client
//! headers (every value of a repeated header), `insert` sets one, `remove`
//! drops what earlier rules added. Hop-by-hop headers (RFC 9110 §7.6.1:
//! `connection`, `keep-alive`, `te`, `trailer`, `transfer-encoding`,
//! `upgrade`, `proxy-*`, and any the client's `Connection` names) and the
//! headers the subgraph client writes itself (`host`, `content-length`,
//! `content-type`, `content-encoding`, `accept`, `accept-encoding`) are
//! never sent: `matching` skips them, and naming one in a rule is a
//! config error.
//!
//! Without rules nothing is computed per request.

pub mod config;

use std::sync::Arc;

use http::header::{HeaderMap, HeaderName, HeaderValue, CONNECTION};
use regex::Regex;

pub use config::HeadersConfig;
use config::Rule;

/// Headers the router never forwards: hop-by-hop headers, and those the
/// subgraph client sets itself.
const RESERVED: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "content-type",
    "content-encoding",
    "accept",
    "accept-encoding",
];

/// Whether `name` (lower case) is never forwarded.
/// The `name=value` pairs of a request's `Cookie` headers (for the
/// response cache's private scope and the JWT cookie source).
pub(crate) fn cookies(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            Some((name.trim(), value.trim()))
        })
}

fn reserved(name: &str) -> bool {
    RESERVED.contains(&name)
}

/// A rule ready to apply.
#[derive(Debug, Clone)]
enum Compiled {
    /// Copy `from` as `to`, or send `default` when the client did not.
    Named {
        from: HeaderName,
        to: HeaderName,
        default: Option<HeaderValue>,
    },
    /// Copy every client header whose name matches.
    Matching(Regex),
    /// Set a header.
    Insert(HeaderName, HeaderValue),
    /// Drop a header.
    RemoveNamed(HeaderName),
    /// Drop every header whose name matches.
    RemoveMatching(Regex),
}

/// The compiled rules for each subgraph of a supergraph.
#[derive(Debug, Default)]
pub struct Headers {
    /// By graph index: the rules for that subgraph (`all`'s, then its
    /// own), or `None` when it has none.
    by_graph: Vec<Option<Arc<[Compiled]>>>,
}

impl Headers {
    /// The rules of `config` for the subgraphs `graphs` (by graph index).
    /// Fails when `config` names a subgraph that is not among them, or
    /// holds a rule that does not compile (a config that passed
    /// [`HeadersConfig::validate`] always compiles).
    pub fn new(config: &HeadersConfig, graphs: &[&str]) -> Result<Headers, String> {
        let err = |(key, message): (String, String)| format!("{key}: {message}");
        if let Some(name) = config
            .subgraphs
            .keys()
            .find(|n| !graphs.contains(&n.as_str()))
        {
            return Err(format!(
                "headers.subgraphs.{name}: the supergraph has no subgraph named `{name}`"
            ));
        }
        let all = match &config.all {
            Some(all) => compile(&all.request, "headers.all.request").map_err(err)?,
            None => vec![],
        };
        let all: Arc<[Compiled]> = all.into();
        let mut by_graph = Vec::with_capacity(graphs.len());
        for name in graphs {
            let own = match config.subgraphs.get(*name) {
                Some(rules) => {
                    let key = format!("headers.subgraphs.{name}.request");
                    compile(&rules.request, &key).map_err(err)?
                }
                None => vec![],
            };
            by_graph.push(match (all.is_empty(), own.is_empty()) {
                (true, true) => None,
                (false, true) => Some(all.clone()),
                _ => {
                    // `all`'s rules again, then the subgraph's own.
                    let mut rules = all.to_vec();
                    rules.extend(own);
                    Some(rules.into())
                }
            });
        }
        Ok(Headers { by_graph })
    }

    /// Whether no subgraph has rules.
    pub fn is_empty(&self) -> bool {
        self.by_graph.iter().all(Option::is_none)
    }

    /// The headers to send to each subgraph (by graph index) for a request
    /// with the client headers `client`; empty when there are no rules.
    pub fn for_request(&self, client: &HeaderMap) -> Vec<HeaderMap> {
        if self.is_empty() {
            return vec![];
        }
        // Headers the client's `Connection` names are hop-by-hop too.
        let nominated: Vec<String> = client
            .get_all(CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        let forwardable = |name: &HeaderName| {
            !reserved(name.as_str()) && !nominated.iter().any(|n| n == name.as_str())
        };
        let mut out: Vec<HeaderMap> = Vec::with_capacity(self.by_graph.len());
        for (i, rules) in self.by_graph.iter().enumerate() {
            let Some(rules) = rules else {
                out.push(HeaderMap::new());
                continue;
            };
            // Subgraphs with the same rules get the same headers.
            let same = self.by_graph[..i]
                .iter()
                .position(|r| r.as_ref().is_some_and(|r| Arc::ptr_eq(r, rules)));
            if let Some(j) = same {
                let copy = out[j].clone();
                out.push(copy);
                continue;
            }
            out.push(apply(rules, client, &forwardable));
        }
        out
    }
}

/// The headers `rules` produce from the client's headers.
fn apply(
    rules: &[Compiled],
    client: &HeaderMap,
    forwardable: &dyn Fn(&HeaderName) -> bool,
) -> HeaderMap {
    let mut out = HeaderMap::new();
    for rule in rules {
        match rule {
            Compiled::Named { from, to, default } => {
                let mut values = client.get_all(from).iter().peekable();
                if values.peek().is_some() && forwardable(from) {
                    out.remove(to);
                    for v in values {
                        out.append(to.clone(), v.clone());
                    }
                } else if let Some(default) = default {
                    out.insert(to.clone(), default.clone());
                }
            }
            Compiled::Matching(re) => {
                for name in client.keys() {
                    if forwardable(name) && re.is_match(name.as_str()) {
                        out.remove(name);
                        for v in client.get_all(name) {
                            out.append(name.clone(), v.clone());
                        }
                    }
                }
            }
            Compiled::Insert(name, value) => {
                out.insert(name.clone(), value.clone());
            }
            Compiled::RemoveNamed(name) => {
                out.remove(name);
            }
            Compiled::RemoveMatching(re) => {
                let names: Vec<HeaderName> = out
                    .keys()
                    .filter(|n| re.is_match(n.as_str()))
                    .cloned()
                    .collect();
                for name in names {
                    out.remove(&name);
                }
            }
        }
    }
    out
}

/// Compiles `rules` (found under `key`): `(key, message)` for the first
/// that is wrong.
fn compile(rules: &[Rule], key: &str) -> Result<Vec<Compiled>, (String, String)> {
    let mut out = Vec::with_capacity(rules.len());
    for (i, rule) in rules.iter().enumerate() {
        let at = |what: &str| format!("{key}[{i}].{what}");
        let name = |what: &str, text: &str| -> Result<HeaderName, (String, String)> {
            let name = HeaderName::from_bytes(text.as_bytes())
                .map_err(|_| (at(what), format!("`{text}` is not an HTTP header name")))?;
            if reserved(name.as_str()) {
                return Err((
                    at(what),
                    format!("`{text}` is a hop-by-hop or router-set header and is never sent to subgraphs"),
                ));
            }
            Ok(name)
        };
        let value = |what: &str, text: &str| {
            HeaderValue::from_str(text)
                .map_err(|_| (at(what), format!("`{text}` is not a valid header value")))
        };
        let regex = |what: &str, text: &str| {
            Regex::new(text).map_err(|e| (at(what), format!("invalid regular expression: {e}")))
        };
        let compiled = match (&rule.propagate, &rule.insert, &rule.remove) {
            (Some(p), None, None) => match (&p.named, &p.matching) {
                (Some(named), None) => {
                    let from = name("propagate.named", named)?;
                    let to = match &p.rename {
                        Some(r) => name("propagate.rename", r)?,
                        None => from.clone(),
                    };
                    let default = match &p.default {
                        Some(d) => Some(value("propagate.default", d)?),
                        None => None,
                    };
                    Compiled::Named { from, to, default }
                }
                (None, Some(matching)) => {
                    if p.rename.is_some() || p.default.is_some() {
                        return Err((
                            at("propagate"),
                            "`rename` and `default` go with `named`, not `matching`".into(),
                        ));
                    }
                    Compiled::Matching(regex("propagate.matching", matching)?)
                }
                _ => {
                    return Err((
                        at("propagate"),
                        "give exactly one of `named` and `matching`".into(),
                    ))
                }
            },
            (None, Some(ins), None) => Compiled::Insert(
                name("insert.name", &ins.name)?,
                value("insert.value", &ins.value)?,
            ),
            (None, None, Some(r)) => match (&r.named, &r.matching) {
                (Some(named), None) => {
                    let named = HeaderName::from_bytes(named.as_bytes()).map_err(|_| {
                        (
                            at("remove.named"),
                            format!("`{named}` is not an HTTP header name"),
                        )
                    })?;
                    Compiled::RemoveNamed(named)
                }
                (None, Some(matching)) => {
                    Compiled::RemoveMatching(regex("remove.matching", matching)?)
                }
                _ => {
                    return Err((
                        at("remove"),
                        "give exactly one of `named` and `matching`".into(),
                    ))
                }
            },
            _ => {
                return Err((
                    format!("{key}[{i}]"),
                    "a rule is one of `propagate`, `insert` and `remove`".into(),
                ))
            }
        };
        out.push(compiled);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
