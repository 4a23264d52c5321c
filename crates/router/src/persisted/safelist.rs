//! What happens to operations sent as text (or registered by APQ) rather
//! than by a manifest id, as Apollo Router decides it from
//! `persisted_queries:`.

use apollo_compiler::ast::{Definition, Selection};
use apollo_compiler::collections::{HashMap, HashSet};
use apollo_compiler::parser::Parser;

use super::config::PersistedQueriesConfig;
use super::errors::Error;
use super::manifest::Manifest;
use crate::pipeline::Response;

/// The policy for operations that were not sent by a manifest id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Freeform {
    /// Run them (persisted queries off, or neither logging nor safelist).
    Allow,
    /// Run them; log those not in the manifests (`log_unknown`).
    LogUnknown,
    /// Refuse those not in the manifests (`safelist.enabled`), but
    /// introspection when it is on; log them with `log_unknown`.
    Safelist {
        /// `log_unknown`.
        log: bool,
    },
    /// Refuse them all (`safelist.require_id`); log them with
    /// `log_unknown`.
    RequireId {
        /// `log_unknown`.
        log: bool,
    },
}

impl Freeform {
    /// The policy `config` sets.
    pub(super) fn new(config: &PersistedQueriesConfig) -> Freeform {
        let log = config.log_unknown;
        match (
            config.enabled,
            config.safelist.enabled,
            config.safelist.require_id,
        ) {
            (false, ..) => Freeform::Allow,
            (true, true, true) => Freeform::RequireId { log },
            (true, true, false) => Freeform::Safelist { log },
            (true, false, _) if log => Freeform::LogUnknown,
            (true, false, _) => Freeform::Allow,
        }
    }

    /// Whether `text` may run; `Err` with the refusal. Reads the manifest
    /// only when the policy needs it. `introspection`: introspection is on
    /// (and exempt from the safelist), with the parser's token limit.
    #[allow(clippy::result_large_err)]
    pub(super) fn check(
        self,
        text: &str,
        manifest: impl FnOnce() -> std::sync::Arc<Manifest>,
        introspection: Option<usize>,
    ) -> Result<(), Response> {
        match self {
            Freeform::Allow => Ok(()),
            Freeform::LogUnknown => {
                if !manifest().allows(text) {
                    log_unknown(text);
                }
                Ok(())
            }
            Freeform::RequireId { log } => {
                if log {
                    log_unknown(text);
                }
                Err(Error::IdRequired.response())
            }
            Freeform::Safelist { log } => {
                let introspects = |max_tokens| is_introspection(text, max_tokens);
                if manifest().allows(text) || introspection.is_some_and(introspects) {
                    return Ok(());
                }
                if log {
                    log_unknown(text);
                }
                Err(Error::NotInSafelist.response())
            }
        }
    }
}

/// Logs an operation the manifests do not have, as Apollo Router does.
fn log_unknown(text: &str) {
    tracing::warn!(
        operation_body = text,
        "persisted queries: unknown operation (not in the persisted query list)"
    );
}

/// Whether every operation of `text` selects only `__schema`, `__type` and
/// `__typename` at its root (fragments followed), as Apollo Router lets
/// through a safelist when introspection is on. False when it does not
/// parse within `max_tokens`.
fn is_introspection(text: &str, max_tokens: usize) -> bool {
    let parsed = Parser::new()
        .token_limit(max_tokens)
        .parse_ast(text, "operation");
    let Ok(document) = parsed else {
        return false;
    };
    let mut pending: Vec<&Selection> = vec![];
    let mut fragments = HashMap::default();
    for definition in &document.definitions {
        match definition {
            Definition::OperationDefinition(op) => pending.extend(&op.selection_set),
            Definition::FragmentDefinition(f) => {
                fragments.insert(&f.name, &f.selection_set);
            }
            _ => {}
        }
    }
    let any = !pending.is_empty();
    let mut followed = HashSet::default();
    while let Some(selection) = pending.pop() {
        match selection {
            Selection::Field(field) => {
                if !matches!(field.name.as_str(), "__schema" | "__type" | "__typename") {
                    return false;
                }
            }
            Selection::InlineFragment(inline) => pending.extend(&inline.selection_set),
            Selection::FragmentSpread(spread) => {
                if !followed.insert(&spread.fragment_name) {
                    continue;
                }
                match fragments.get(&spread.fragment_name) {
                    Some(selections) => pending.extend(selections.iter()),
                    None => return false,
                }
            }
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persisted::config::SafelistConfig;

    #[test]
    fn policies_as_apollo_router_sets_them() {
        let config = |enabled, log_unknown, safelist, require_id| PersistedQueriesConfig {
            enabled,
            log_unknown,
            safelist: SafelistConfig {
                enabled: safelist,
                require_id,
            },
            ..PersistedQueriesConfig::default()
        };
        assert_eq!(
            Freeform::new(&config(false, true, true, true)),
            Freeform::Allow
        );
        assert_eq!(
            Freeform::new(&config(true, false, false, false)),
            Freeform::Allow
        );
        assert_eq!(
            Freeform::new(&config(true, true, false, false)),
            Freeform::LogUnknown
        );
        assert_eq!(
            Freeform::new(&config(true, true, true, false)),
            Freeform::Safelist { log: true }
        );
        assert_eq!(
            Freeform::new(&config(true, false, true, true)),
            Freeform::RequireId { log: false }
        );
    }

    #[test]
    fn introspection_only() {
        let is_introspection = |text| is_introspection(text, 15_000);
        assert!(is_introspection("{ __typename }"));
        assert!(is_introspection(
            "query I { __schema { types { name } } ...F } fragment F on Query { __type(name: \"A\") { name } }"
        ));
        assert!(!is_introspection("{ __typename me { id } }"));
        assert!(!is_introspection(
            "{ ...F } fragment F on Query { me { id } }"
        ));
        assert!(!is_introspection("{ ...Missing }"));
        assert!(!is_introspection("fragment F on Query { __typename }"));
        assert!(!is_introspection("{ __typename"));
        assert!(!super::is_introspection("{ __typename }", 2));
        // A spread cycle ends.
        assert!(is_introspection(
            "{ ...A } fragment A on Query { __typename ...B } fragment B on Query { ...A }"
        ));
    }
}
