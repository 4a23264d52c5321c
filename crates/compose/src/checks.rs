//! Checks on the merged supergraph: a query root, interface fields
//! implemented, and `@inaccessible` leaving a valid API schema.

use crate::errors::{subgraphs_phrase, CompositionError, ErrorCode};
use crate::model::{Composed, MType};
use crate::subgraph::Kind;

/// Runs the supergraph-level checks (satisfiability apart).
pub(crate) fn check(c: &Composed) -> Vec<CompositionError> {
    let mut errors = Vec::new();
    if c.types.get("Query").is_none_or(|q| q.fields.is_empty()) {
        errors.push(CompositionError::new(
            ErrorCode::NoQueries,
            "No queries found in any subgraph: a supergraph must have a query root type.",
        ));
    }
    interfaces_implemented(c, &mut errors);
    inaccessible(c, &mut errors);
    errors
}

/// INTERFACE_FIELD_NO_IMPLEMENTATION: every implementation has the interface's fields.
fn interfaces_implemented(c: &Composed, errors: &mut Vec<CompositionError>) {
    for t in c.types.values() {
        if !matches!(t.kind, Kind::Object | Kind::Interface) {
            continue;
        }
        for i in &t.implements {
            let Some(iface) = c.types.get(i) else {
                continue;
            };
            for f in iface.fields.values() {
                if t.fields.contains_key(&f.name) {
                    continue;
                }
                let declared: Vec<&str> = f
                    .entries
                    .iter()
                    .map(|e| c.graphs[e.graph].name.as_str())
                    .collect();
                let implemented: Vec<&str> = t
                    .join_implements
                    .iter()
                    .filter(|(_, ji)| ji == i)
                    .map(|(g, _)| c.graphs[*g].name.as_str())
                    .collect();
                errors.push(CompositionError::new(
                    ErrorCode::InterfaceFieldNoImplementation,
                    format!(
                        "Interface field \"{i}.{}\" is declared in {} but type \"{}\", which implements \"{i}\" in {}, does not have field \"{}\".",
                        f.name,
                        subgraphs_phrase(&declared),
                        t.name,
                        subgraphs_phrase(&implemented),
                        f.name
                    ),
                ));
            }
        }
    }
}

fn is_hidden(c: &Composed, ty: &str) -> bool {
    c.types.get(ty).is_some_and(|t| t.inaccessible)
}

/// The `@inaccessible` rules: what stays in the API schema must not point at
/// what is removed, required inputs cannot be removed, and no type may lose
/// all its fields, values or members.
fn inaccessible(c: &Composed, errors: &mut Vec<CompositionError>) {
    for root in ["Query", "Mutation", "Subscription"] {
        if is_hidden(c, root) {
            errors.push(CompositionError::new(
                ErrorCode::QueryRootTypeInaccessible,
                format!("Type \"{root}\" is @inaccessible but is the root {} type, which must be in the API schema.", root.to_lowercase()),
            ));
        }
    }
    for t in c.types.values().filter(|t| !t.inaccessible) {
        let referenced = |ty: &str, by: String, errors: &mut Vec<CompositionError>| {
            if is_hidden(c, ty) {
                errors.push(CompositionError::new(
                    ErrorCode::ReferencedInaccessible,
                    format!("Type \"{ty}\" is @inaccessible but is referenced by \"{by}\", which is in the API schema."),
                ));
            }
        };
        for f in t.fields.values().filter(|f| !f.inaccessible) {
            referenced(f.ty.base(), format!("{}.{}", t.name, f.name), errors);
            for a in f.args.values() {
                let coordinate = format!("{}.{}({}:)", t.name, f.name, a.name);
                if a.inaccessible {
                    if a.ty.is_non_null() && a.default.is_none() {
                        errors.push(CompositionError::new(
                            ErrorCode::RequiredInaccessible,
                            format!("Argument \"{coordinate}\" is @inaccessible but is a required argument of its field."),
                        ));
                    }
                } else {
                    referenced(a.ty.base(), coordinate, errors);
                }
            }
        }
        for f in t.input_fields.values() {
            let coordinate = format!("{}.{}", t.name, f.name);
            if f.inaccessible {
                if f.ty.is_non_null() && f.default.is_none() {
                    errors.push(CompositionError::new(
                        ErrorCode::RequiredInaccessible,
                        format!("Input field \"{coordinate}\" is @inaccessible but is a required input field of its type."),
                    ));
                }
            } else {
                referenced(f.ty.base(), coordinate, errors);
            }
        }
        only_inaccessible_children(c, t, errors);
    }
}

fn only_inaccessible_children(c: &Composed, t: &MType, errors: &mut Vec<CompositionError>) {
    let (children, all_hidden) = match t.kind {
        Kind::Object | Kind::Interface => (
            "fields",
            !t.fields.is_empty() && t.fields.values().all(|f| f.inaccessible),
        ),
        Kind::InputObject => (
            "input fields",
            !t.input_fields.is_empty() && t.input_fields.values().all(|f| f.inaccessible),
        ),
        Kind::Enum => (
            "values",
            !t.values.is_empty() && t.values.values().all(|v| v.inaccessible),
        ),
        Kind::Union => (
            "members",
            !t.members.is_empty() && t.members.iter().all(|m| is_hidden(c, m)),
        ),
        Kind::Scalar => return,
    };
    if all_hidden {
        errors.push(CompositionError::new(
            ErrorCode::OnlyInaccessibleChildren,
            format!(
                "Type \"{}\" is in the API schema but all of its {children} are @inaccessible.",
                t.name
            ),
        ));
    }
}
