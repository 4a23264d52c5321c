//! Operation limits (`limits:`): what an operation may cost before it is
//! planned.
//!
//! Every operation and fragment of a document is measured once, when the
//! document is parsed ([`measure`]): fragments are counted, never expanded,
//! so a document of fragments that spread into each other costs time linear
//! in its length. Two kinds of limits follow:
//!
//! - **safety limits**, checked before validation and always enforced
//!   (`warn_only` does not relax them): `max_recursive_selections` (the
//!   selections a walk that expands fragments would visit) and a fixed cap
//!   on nesting ([`MAX_NESTING`]), which keeps the recursive planner and
//!   projection within their stack;
//! - **operation limits**, Apollo Router's `max_depth`, `max_height`,
//!   `max_aliases` and `max_root_fields`, checked for the operation a
//!   request runs; with `warn_only` they are logged instead of refused.
//!
//! Parser limits (`parser_max_tokens`, `parser_max_recursion`) are applied
//! by the parser itself; [`parser_refusal`] names them.

pub mod measure;

use serde_json::{json, Value};

use crate::config::Limits;
pub use measure::{Measurement, Measurer};

/// The deepest nesting of selection sets (fields, inline fragments and
/// fragment spreads alike) that is ever planned, whatever the config says.
pub const MAX_NESTING: u32 = 512;

/// Why an operation is refused: an error code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The `extensions.code`, e.g. `MAX_DEPTH_LIMIT`.
    pub code: &'static str,
    /// What was measured against what limit.
    pub message: String,
}

impl Refusal {
    /// A GraphQL error object for this refusal.
    pub fn to_error(&self) -> Value {
        json!({"message": self.message, "extensions": {"code": self.code}})
    }
}

/// The safety limits, checked before a document is validated: refusals for
/// `m`, the measurement of an operation or fragment.
pub fn check_safety(m: &Measurement, limits: &Limits) -> Option<Refusal> {
    if m.nesting > MAX_NESTING {
        return Some(Refusal {
            code: "MAX_DEPTH_LIMIT",
            message: format!(
                "Maximum depth limit exceeded in this operation: selection sets nest more than \
                 {MAX_NESTING} levels deep (fields and fragments), the most goliath plans"
            ),
        });
    }
    if m.recursive_selections > limits.max_recursive_selections {
        let shown = if m.recursive_selections == u64::MAX {
            "more than 2^64".to_owned()
        } else {
            m.recursive_selections.to_string()
        };
        return Some(Refusal {
            code: "MAX_RECURSIVE_SELECTIONS_LIMIT",
            message: format!(
                "Maximum recursive selections limit exceeded in this operation: \
                 {shown} selections with fragments expanded, max_recursive_selections: {}",
                limits.max_recursive_selections
            ),
        });
    }
    None
}

/// The operation limits `m` exceeds (Apollo Router's codes and messages,
/// with the measured value and the limit).
pub fn check_operation(m: &Measurement, limits: &Limits) -> Vec<Refusal> {
    let checks = [
        (
            "depth",
            m.depth,
            Some(limits.max_depth as u32),
            "MAX_DEPTH_LIMIT",
            "Maximum depth limit exceeded in this operation",
        ),
        (
            "height",
            m.height,
            limits.max_height,
            "MAX_HEIGHT_LIMIT",
            "Maximum height (field count) limit exceeded in this operation",
        ),
        (
            "root_fields",
            m.root_fields,
            limits.max_root_fields,
            "MAX_ROOT_FIELDS_LIMIT",
            "Maximum root fields limit exceeded in this operation",
        ),
        (
            "aliases",
            m.aliases,
            limits.max_aliases,
            "MAX_ALIASES_LIMIT",
            "Maximum aliases limit exceeded in this operation",
        ),
    ];
    checks
        .into_iter()
        .filter_map(|(name, measured, max, code, text)| {
            let max = max?;
            (measured > max).then(|| Refusal {
                code,
                message: format!("{text} ({name}: {measured}, max_{name}: {max})"),
            })
        })
        .collect()
}

/// The refusal for a parse that stopped at a parser limit, if it did:
/// `tokens` and `recursion` are what the parser reached (past the limit
/// when it stopped there).
pub fn parser_refusal(tokens: usize, recursion: usize, limits: &Limits) -> Option<Refusal> {
    if tokens > limits.parser_max_tokens {
        return Some(Refusal {
            code: "PARSER_MAX_TOKENS_LIMIT",
            message: format!(
                "The operation has more than parser_max_tokens ({}) tokens",
                limits.parser_max_tokens
            ),
        });
    }
    if recursion > limits.parser_max_recursion {
        return Some(Refusal {
            code: "PARSER_MAX_RECURSION_LIMIT",
            message: format!(
                "The operation nests deeper than parser_max_recursion ({})",
                limits.parser_max_recursion
            ),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(depth: u32, height: u32, root_fields: u32, aliases: u32) -> Measurement {
        Measurement {
            depth,
            height,
            root_fields,
            aliases,
            recursive_selections: 1,
            nesting: depth,
        }
    }

    #[test]
    fn operation_limits_at_their_boundaries() {
        let limits = Limits {
            max_depth: 3,
            max_height: Some(10),
            max_root_fields: Some(2),
            max_aliases: Some(1),
            ..Limits::default()
        };
        assert!(check_operation(&measured(3, 10, 2, 1), &limits).is_empty());
        let codes = |m| -> Vec<&str> {
            check_operation(&m, &limits)
                .iter()
                .map(|r| r.code)
                .collect()
        };
        assert_eq!(codes(measured(4, 10, 2, 1)), ["MAX_DEPTH_LIMIT"]);
        assert_eq!(codes(measured(3, 11, 2, 1)), ["MAX_HEIGHT_LIMIT"]);
        assert_eq!(codes(measured(3, 10, 3, 1)), ["MAX_ROOT_FIELDS_LIMIT"]);
        assert_eq!(codes(measured(3, 10, 2, 2)), ["MAX_ALIASES_LIMIT"]);
        assert_eq!(codes(measured(4, 11, 3, 2)).len(), 4);
        let message = &check_operation(&measured(4, 1, 1, 0), &limits)[0].message;
        assert!(message.contains("depth: 4, max_depth: 3"), "{message}");
    }

    #[test]
    fn unset_limits_are_not_checked() {
        let limits = Limits::default();
        assert_eq!(limits.max_height, None);
        assert!(check_operation(&measured(1, u32::MAX, u32::MAX, u32::MAX), &limits).is_empty());
    }

    #[test]
    fn safety_limits() {
        let limits = Limits {
            max_recursive_selections: 100,
            ..Limits::default()
        };
        let mut m = measured(1, 1, 1, 0);
        m.recursive_selections = 100;
        assert_eq!(check_safety(&m, &limits), None);
        m.recursive_selections = 101;
        assert_eq!(
            check_safety(&m, &limits).unwrap().code,
            "MAX_RECURSIVE_SELECTIONS_LIMIT"
        );
        m.recursive_selections = 1;
        m.nesting = MAX_NESTING;
        assert_eq!(check_safety(&m, &limits), None);
        m.nesting = MAX_NESTING + 1;
        assert_eq!(check_safety(&m, &limits).unwrap().code, "MAX_DEPTH_LIMIT");
    }

    #[test]
    fn parser_limits() {
        let limits = Limits::default();
        let (tokens, recursion) = (limits.parser_max_tokens, limits.parser_max_recursion);
        assert_eq!(parser_refusal(tokens, recursion, &limits), None);
        let r = parser_refusal(tokens + 1, 1, &limits).unwrap();
        assert_eq!(r.code, "PARSER_MAX_TOKENS_LIMIT");
        let r = parser_refusal(1, recursion + 1, &limits).unwrap();
        assert_eq!(r.code, "PARSER_MAX_RECURSION_LIMIT");
    }
}
