//! Persisted query manifests: the operations a client ships, by id.
//!
//! Two formats, told apart by their shape:
//!
//! - Apollo's (`rover persisted-queries publish`, the
//!   `generate-persisted-query-manifest` tool):
//!   `{"format": "apollo-persisted-query-manifest", "version": 1,
//!   "operations": [{"id", "body", "name", "type"}, ...]}`;
//! - Relay's (`relay-compiler` with `persistConfig` writing a file):
//!   `{"<id>": "<query text>", ...}`.
//!
//! Every file is read whole, and the files together make one [`Manifest`]:
//! an id used twice with two bodies is an error that names both places.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::normalize::normalize;

/// The `format` of Apollo's manifests.
const APOLLO_FORMAT: &str = "apollo-persisted-query-manifest";

/// The operations of every manifest file: bodies by id, and the normal
/// forms of the bodies (the safelist), made once here.
#[derive(Debug, Default)]
pub(super) struct Manifest {
    /// Each body by id, with where it was read (for messages).
    operations: HashMap<String, (Arc<str>, String)>,
    /// The normal form of every body.
    normalized: HashSet<String>,
}

impl Manifest {
    /// Reads and checks every file in `paths`; the error names the file
    /// (and the entry).
    pub(super) fn read(paths: &[impl AsRef<Path>]) -> Result<Manifest, String> {
        let mut manifest = Manifest::default();
        for path in paths {
            let path = path.as_ref();
            let origin = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("persisted query manifest {origin}: cannot read: {e}"))?;
            manifest
                .add_file(&text, &origin)
                .map_err(|e| format!("persisted query manifest {origin}: {e}"))?;
        }
        Ok(manifest)
    }

    /// The body of the operation `id`.
    pub(super) fn body(&self, id: &str) -> Option<&Arc<str>> {
        self.operations.get(id).map(|(body, _)| body)
    }

    /// Whether the normal form of `text` is one of the bodies'.
    pub(super) fn allows(&self, text: &str) -> bool {
        self.normalized.contains(&normalize(text))
    }

    /// How many operations there are.
    pub(super) fn len(&self) -> usize {
        self.operations.len()
    }

    /// Adds one file's operations, in whichever format it is.
    fn add_file(&mut self, text: &str, origin: &str) -> Result<(), String> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let Value::Object(fields) = value else {
            return Err(not_a_manifest());
        };
        if fields.get("format").and_then(Value::as_str) == Some(APOLLO_FORMAT) {
            return self.add_apollo(&fields, origin);
        }
        if fields.values().all(Value::is_string) {
            for (id, body) in &fields {
                let body = body.as_str().unwrap_or_default();
                self.add(id, body, format!("{origin}, `{id}`"))?;
            }
            return Ok(());
        }
        Err(match fields.get("format") {
            Some(format) => format!("unknown `format` {format} (expected `{APOLLO_FORMAT}`)"),
            None => not_a_manifest(),
        })
    }

    /// Adds the operations of an Apollo manifest.
    fn add_apollo(&mut self, fields: &Map<String, Value>, origin: &str) -> Result<(), String> {
        match fields.get("version") {
            Some(v) if v.as_u64() == Some(1) => {}
            Some(v) => return Err(format!("unsupported `version` {v} (expected 1)")),
            None => return Err("`version` is missing (expected 1)".to_owned()),
        }
        let Some(operations) = fields.get("operations").and_then(Value::as_array) else {
            return Err("`operations` must be a list".to_owned());
        };
        for (i, operation) in operations.iter().enumerate() {
            let string = |key: &str| match operation.get(key) {
                Some(Value::String(s)) => Ok(s.as_str()),
                Some(_) => Err(format!("operations[{i}]: `{key}` must be a string")),
                None => Err(format!("operations[{i}]: `{key}` is missing")),
            };
            if !operation.is_object() {
                return Err(format!("operations[{i}]: must be an object"));
            }
            let (id, body) = (string("id")?, string("body")?);
            if id.is_empty() {
                return Err(format!("operations[{i}]: `id` is empty"));
            }
            self.add(id, body, format!("{origin}, operations[{i}]"))?;
        }
        Ok(())
    }

    /// Adds one operation read at `place`.
    fn add(&mut self, id: &str, body: &str, place: String) -> Result<(), String> {
        if let Some((known, first)) = self.operations.get(id) {
            if **known != *body {
                return Err(format!(
                    "id `{id}` at {place} has another body than at {first}"
                ));
            }
            return Ok(());
        }
        self.normalized.insert(normalize(body));
        self.operations
            .insert(id.to_owned(), (Arc::from(body), place));
        Ok(())
    }
}

/// The message for a file of neither format.
fn not_a_manifest() -> String {
    format!(
        "neither an Apollo manifest (`\"format\": \"{APOLLO_FORMAT}\"`) \
         nor a Relay one (an object of id: query text)"
    )
}

#[cfg(test)]
mod tests {
    use super::Manifest;

    fn read(text: &str) -> Result<Manifest, String> {
        let mut manifest = Manifest::default();
        manifest.add_file(text, "m.json").map(|()| manifest)
    }

    #[test]
    fn apollo_and_relay() {
        let apollo = read(
            r#"{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [
                {"id": "a1", "body": "query A { a }", "name": "A", "type": "query"}]}"#,
        )
        .unwrap();
        assert_eq!(apollo.body("a1").map(|b| &**b), Some("query A { a }"));
        assert!(apollo.allows("query A {\n  a # comment\n}"));
        assert!(!apollo.allows("query A { b }"));
        let relay = read(r#"{"r1": "{ a }", "r2": "{ b }"}"#).unwrap();
        assert_eq!(relay.len(), 2);
        assert_eq!(relay.body("r2").map(|b| &**b), Some("{ b }"));
    }

    #[test]
    fn errors_name_the_entry() {
        let cases = [
            ("[]", "neither an Apollo manifest"),
            ("{", "not valid JSON"),
            (r#"{"a": 1}"#, "neither an Apollo manifest"),
            (
                r#"{"format": "other", "operations": []}"#,
                "unknown `format` \"other\"",
            ),
            (
                r#"{"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}"#,
                "unsupported `version` 2",
            ),
            (
                r#"{"format": "apollo-persisted-query-manifest", "version": 1}"#,
                "`operations` must be a list",
            ),
            (
                r#"{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [
                    {"id": "a", "body": "{a}"}, {"id": "b"}]}"#,
                "operations[1]: `body` is missing",
            ),
            (
                r#"{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [
                    {"id": 7, "body": "{a}"}]}"#,
                "operations[0]: `id` must be a string",
            ),
            (
                r#"{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [
                    {"id": "a", "body": "{a}"}, {"id": "a", "body": "{b}"}]}"#,
                "id `a` at m.json, operations[1] has another body than at m.json, operations[0]",
            ),
        ];
        for (text, expected) in cases {
            let error = read(text).unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
