//! Reading YAML into typed settings with `serde-saphyr` (a maintained,
//! panic-free YAML reader with limits on what a document may cost), its
//! errors prefixed by the key path (`serde_path_to_error`):
//! ``limits.foo: unknown field `foo`, expected one of … at line 3, column 3``.

use serde::de::DeserializeOwned;

/// Reads `text` as a `T`; the error names the key path and the position.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let mut path = String::new();
    let options = serde_saphyr::options! { with_snippet: false };
    serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            path = e.path().to_string();
            e.into_inner()
        })
    })
    .map_err(|e| match path.as_str() {
        "" | "." => e.to_string(),
        path => format!("{path}: {e}"),
    })
}
