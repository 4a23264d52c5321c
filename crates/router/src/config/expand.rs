//! References in a config: `${env.NAME}`, `${env.NAME:-default}` and
//! `${file.PATH}`, as Apollo Router writes them.
//!
//! Environment references are replaced in the text, before the YAML is
//! read, so they work anywhere (inside comments too). File references are
//! replaced in the parsed document's string values: a file's contents (a
//! PEM, several lines) pasted into the text would break the YAML around
//! them. The expanded document is written back out and read as usual, so
//! errors keep their key paths (their line numbers are then the expanded
//! document's).

use std::borrow::Cow;

use serde_json::Value;

use super::ConfigErrorKind;

/// What starts an environment reference.
const ENV_OPEN: &str = "${env.";
/// What starts a file reference.
const FILE_OPEN: &str = "${file.";

/// Replaces every `open…}` reference in `text` with what `resolve` makes
/// of its body (the text between `open` and `}`).
fn replace(
    text: &str,
    open: &str,
    resolve: &dyn Fn(&str) -> Result<String, ConfigErrorKind>,
) -> Result<String, ConfigErrorKind> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        out.push_str(&rest[..start]);
        let after = &rest[start + open.len()..];
        let end = after
            .find('}')
            .ok_or_else(|| ConfigErrorKind::BadReference {
                reference: rest[start..].lines().next().unwrap_or_default().to_string(),
                message: "missing closing `}`".to_string(),
            })?;
        out.push_str(&resolve(&after[..end])?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Replaces `${env.NAME}` and `${env.NAME:-default}` in `text`, looking
/// variables up with `env`.
pub(super) fn env(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ConfigErrorKind> {
    replace(text, ENV_OPEN, &|body| {
        let (name, default) = match body.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (body, None),
        };
        if name.is_empty() || name.contains(|c: char| c.is_whitespace() || c == '$') {
            return Err(ConfigErrorKind::BadReference {
                reference: format!("{ENV_OPEN}{body}}}"),
                message: "expected a variable name".to_string(),
            });
        }
        match (env(name), default) {
            (Some(value), Some(default)) if value.is_empty() => Ok(default.to_string()),
            (Some(value), _) => Ok(value),
            (None, Some(default)) => Ok(default.to_string()),
            (None, None) => Err(ConfigErrorKind::MissingEnv {
                name: name.to_string(),
            }),
        }
    })
}

/// Replaces `${file.PATH}` in the document's string values by the
/// contents of the file `PATH` (relative to the current directory), as
/// Apollo Router does: `certificate_authorities: "${file./etc/ca.pem}"`.
/// Text without a file reference in a value is returned as it is.
pub(super) fn files(text: &str) -> Result<Cow<'_, str>, ConfigErrorKind> {
    if !text.contains(FILE_OPEN) {
        return Ok(Cow::Borrowed(text));
    }
    let mut document: Value = super::yaml::from_str(text).map_err(ConfigErrorKind::Parse)?;
    if !files_in(&mut document)? {
        // Only in comments (or keys): nothing to write back.
        return Ok(Cow::Borrowed(text));
    }
    serde_saphyr::to_string(&document)
        .map(Cow::Owned)
        .map_err(|e| ConfigErrorKind::Parse(e.to_string()))
}

/// Expands the file references in `value`'s strings; whether there were any.
fn files_in(value: &mut Value) -> Result<bool, ConfigErrorKind> {
    Ok(match value {
        Value::String(s) if s.contains(FILE_OPEN) => {
            *s = replace(s, FILE_OPEN, &read_file)?;
            true
        }
        Value::Array(items) => {
            let mut any = false;
            for item in items {
                any |= files_in(item)?;
            }
            any
        }
        Value::Object(map) => {
            let mut any = false;
            for item in map.values_mut() {
                any |= files_in(item)?;
            }
            any
        }
        _ => false,
    })
}

/// The contents of the file a `${file.PATH}` reference names.
fn read_file(path: &str) -> Result<String, ConfigErrorKind> {
    if path.trim().is_empty() {
        return Err(ConfigErrorKind::BadReference {
            reference: format!("{FILE_OPEN}{path}}}"),
            message: "expected a file path".to_string(),
        });
    }
    std::fs::read_to_string(path).map_err(|e| ConfigErrorKind::File {
        path: path.to_string(),
        message: e.to_string(),
    })
}
