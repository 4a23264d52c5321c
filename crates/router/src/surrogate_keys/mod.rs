//! Surrogate keys (cache tags): the object types and entities a cacheable
//! answer contains, so that a CDN (Fastly's `Surrogate-Key`, space-separated;
//! Cloudflare's `Cache-Tag`, comma-separated) or the router's own response
//! cache can purge exactly the answers holding an entity that changed.
//!
//! A type's tag is its name (`User`); an entity's is its type and the
//! values of one of its `@key` field sets, in the key's field order, nested
//! selections flattened depth-first (`User:42`, `Variant:1:a`). Values are
//! percent-encoded (`%XX`, uppercase, UTF-8 bytes) outside
//! `[A-Za-z0-9_.~-]`, so a value never holds a space, comma or colon.
//!
//! - [`collect`] walks an answer's merged execution data (`walk.rs`);
//! - [`Tags::header_value`] writes the header under its byte cap (`header.rs`);
//! - [`entity_tag`] and [`type_tag`] give the tag a purge request names.

mod config;
mod header;
mod select;
mod walk;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_walk;

use std::collections::BTreeSet;

use apollo_compiler::executable::{Selection, SelectionSet};
use goliath_supergraph::Supergraph;
use serde_json::{Map, Value};

pub use config::SurrogateKeysConfig;
pub use walk::collect;

/// The most entity tags one answer gets: a huge list cannot grow memory
/// without bound (types are few and always kept).
pub const MAX_ENTITY_TAGS: usize = 10_000;

/// The tags of one answer.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tags {
    /// The object types in the answer (`User`), root operation types excluded.
    pub types: BTreeSet<String>,
    /// The entities in the answer (`User:42`), at most [`MAX_ENTITY_TAGS`].
    pub entities: BTreeSet<String>,
    /// The entity types with an object in the answer that has no entity
    /// tag (its key fields were not fetched, or past the cap): a purge of
    /// any entity of such a type must take the answer too. Not sent in
    /// the header.
    pub unkeyed: BTreeSet<String>,
}

impl Tags {
    /// Every tag, types first, then entities (each group sorted).
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.types
            .iter()
            .chain(self.entities.iter())
            .map(String::as_str)
    }

    /// True when the answer has no tag at all.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty() && self.entities.is_empty()
    }
}

/// The tag of a type: its name, encoded as entity key values are.
pub fn type_tag(type_name: &str) -> String {
    let mut out = String::with_capacity(type_name.len());
    encode_into(&mut out, type_name);
    out
}

/// The tag of an entity of `type_name` with `key` (a JSON object holding the
/// key fields, e.g. `{"id": "42"}`, `{"upc": "1", "sku": "a"}` or nested
/// `{"org": {"id": 1}, "id": 2}`), exactly as [`collect`] writes it. An
/// error says why when the type is unknown or not an entity, or when `key`
/// does not match one of its `@key` field sets (the same fields, no more,
/// each a string, number or boolean).
pub fn entity_tag(
    supergraph: &Supergraph,
    type_name: &str,
    key: &Map<String, Value>,
) -> Result<String, String> {
    let info = supergraph
        .type_info(type_name)
        .ok_or_else(|| format!("unknown type {type_name:?}"))?;
    if !info.is_entity() {
        return Err(format!(
            "type {type_name:?} is not an entity: no subgraph declares a @key for it"
        ));
    }
    let mut expected: Vec<&str> = Vec::new();
    let mut bad_value = None;
    for k in info.graphs.iter().flat_map(|g| g.keys.iter()) {
        let mut tag = type_tag(type_name);
        match key_from_json(&k.selection, key, &mut tag) {
            Ok(()) => return Ok(tag),
            Err(Mismatch::Value(field)) => {
                bad_value.get_or_insert(field);
            }
            Err(Mismatch::Shape) => {}
        }
        if !expected.contains(&k.fields.as_str()) {
            expected.push(&k.fields);
        }
    }
    if let Some(field) = bad_value {
        return Err(format!(
            "key field {field:?} of {type_name} must be a string, number or boolean"
        ));
    }
    let expected: Vec<String> = expected.iter().map(|f| format!("{{{f}}}")).collect();
    Err(format!(
        "key {} does not match a @key of {type_name}: expected the fields of one of {}",
        Value::Object(key.clone()),
        expected.join(", ")
    ))
}

/// Why a JSON key does not fit a key field set.
enum Mismatch {
    /// Fields missing, extra, or of the wrong nesting.
    Shape,
    /// This leaf field's value is null, a list, or an object.
    Value(String),
}

/// Appends `:value` to `tag` for each leaf of `set`, depth-first, read from `key`.
fn key_from_json(
    set: &SelectionSet,
    key: &Map<String, Value>,
    tag: &mut String,
) -> Result<(), Mismatch> {
    let mut count = 0;
    for sel in &set.selections {
        let Selection::Field(f) = sel else {
            return Err(Mismatch::Shape);
        };
        count += 1;
        let value = key.get(f.name.as_str()).ok_or(Mismatch::Shape)?;
        if f.selection_set.selections.is_empty() {
            let bad = || Mismatch::Value(f.name.to_string());
            tag.push(':');
            match value {
                Value::String(s) => encode_into(tag, s),
                Value::Number(n) => encode_into(tag, &n.to_string()),
                Value::Bool(b) => tag.push_str(if *b { "true" } else { "false" }),
                Value::Object(_) => return Err(Mismatch::Shape),
                Value::Null | Value::Array(_) => return Err(bad()),
            }
        } else {
            let Value::Object(inner) = value else {
                return Err(Mismatch::Shape);
            };
            key_from_json(&f.selection_set, inner, tag)?;
        }
    }
    if count == key.len() {
        Ok(())
    } else {
        Err(Mismatch::Shape)
    }
}

/// Appends `value` percent-encoded: every byte outside `[A-Za-z0-9_.~-]`
/// as `%XX` (uppercase hex).
pub(crate) fn encode_into(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'~' | b'-') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}
