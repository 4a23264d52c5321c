//! Recomposition when subgraphs change, for `goliath router --compose`.
//!
//! [`Recomposer::poll`] re-reads the configuration, reads the schema files
//! and fetches the schemas of subgraphs given by URL; when any schema (or
//! the list of subgraphs) differs from the last composition, it composes
//! again. A failure (a subgraph down, a composition error) is reported once
//! per set of schemas and leaves the last good supergraph in place: the
//! caller keeps serving it.

use std::path::{Path, PathBuf};

use crate::config::{FetchSdl, SupergraphConfig};
use crate::errors::ComposeError;
use crate::subgraph::SubgraphInput;

/// Composes a `supergraph.yaml` again whenever its subgraphs change.
#[derive(Debug)]
pub struct Recomposer {
    path: PathBuf,
    /// The schemas of the last attempt (successful or not).
    last_inputs: Option<Vec<SubgraphInput>>,
}

impl Recomposer {
    /// A recomposer for the configuration at `path`; nothing is read yet.
    pub fn new(path: &Path) -> Recomposer {
        Recomposer {
            path: path.to_path_buf(),
            last_inputs: None,
        }
    }

    /// Reads the subgraphs and composes them if they changed since the last
    /// call: `Ok(Some(sdl))` for a new supergraph, `Ok(None)` when nothing
    /// changed (or the change already failed to compose), `Err` when the
    /// schemas cannot be read or do not compose.
    /// Subgraphs given by URL are asked with `fetch` (see
    /// [`SupergraphConfig::resolve`]).
    pub fn poll(&mut self, fetch: &FetchSdl<'_>) -> Result<Option<String>, ComposeError> {
        let config = SupergraphConfig::load(&self.path)?;
        let inputs = config.resolve(fetch)?;
        if self.last_inputs.as_ref() == Some(&inputs) {
            return Ok(None);
        }
        let result = crate::compose(&inputs);
        self.last_inputs = Some(inputs);
        result.map(Some).map_err(ComposeError::Composition)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Files only: nothing is fetched.
    fn no_fetch(_: &str, _: &str) -> Result<String, String> {
        Err("no fetching here".into())
    }

    #[test]
    fn composes_on_change_only_and_reports_failures_once() {
        let dir = std::env::temp_dir().join(format!("goliath-recompose-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("supergraph.yaml");
        std::fs::write(
            &config,
            "subgraphs:\n  a:\n    routing_url: http://a\n    schema:\n      file: a.graphql\n",
        )
        .unwrap();
        let schema = dir.join("a.graphql");
        std::fs::write(&schema, "type Query { a: Int }").unwrap();
        let mut r = Recomposer::new(&config);
        assert!(r.poll(&no_fetch).unwrap().unwrap().contains("a: Int"));
        assert!(r.poll(&no_fetch).unwrap().is_none());
        std::fs::write(&schema, "type Query { a: Int b: String }").unwrap();
        assert!(r.poll(&no_fetch).unwrap().unwrap().contains("b: String"));
        std::fs::write(&schema, "type Query { a: Unknown }").unwrap();
        assert!(matches!(
            r.poll(&no_fetch),
            Err(ComposeError::Composition(_))
        ));
        assert!(
            r.poll(&no_fetch).unwrap().is_none(),
            "the same failure is reported once"
        );
        std::fs::remove_file(&schema).unwrap();
        assert!(matches!(
            r.poll(&no_fetch),
            Err(ComposeError::Schema { .. })
        ));
        std::fs::remove_dir_all(&dir).ok();
    }
}
