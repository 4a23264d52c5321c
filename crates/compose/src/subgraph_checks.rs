//! The federation rules that concern one subgraph: `@key`, `@requires` and
//! `@provides` field sets, `@external` usage, `@override(from:)` and
//! interface keys. They also complete the model: which fields keys, requires
//! and provides use, which fields are effectively external, and the implicit
//! sharing of Federation 1.

use std::collections::HashSet;

use crate::errors::{CompositionError, ErrorCode};
use crate::fieldset::{self, Sel};
use crate::subgraph::{Kind, Subgraph};
use crate::types::TypeRef;

/// A field a field set selects: `(type, field, external ancestor)`.
struct Visit {
    ty: String,
    field: String,
    /// The field is selected directly on the directive's type.
    top_level: bool,
}

/// Which directive a field set belongs to (error codes and messages differ).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    Key,
    Requires,
    Provides,
}

impl Use {
    fn invalid(self) -> ErrorCode {
        match self {
            Use::Key => ErrorCode::KeyInvalidFields,
            Use::Requires => ErrorCode::RequiresInvalidFields,
            Use::Provides => ErrorCode::ProvidesInvalidFields,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Use::Key => "key",
            Use::Requires => "requires",
            Use::Provides => "provides",
        }
    }
}

/// Checks `sg` and completes its model. Returns the errors found.
pub(crate) fn check(sg: &mut Subgraph) -> Vec<CompositionError> {
    let mut errors = Vec::new();
    check_keys(sg, &mut errors);
    check_requires_provides(sg, &mut errors);
    check_overrides(sg, &mut errors);
    settle_external(sg, &mut errors);
    if !sg.is_fed2() {
        // Federation 1: every field may be resolved by several subgraphs.
        for t in sg.types.values_mut() {
            for f in t.fields.values_mut() {
                f.shareable = true;
            }
        }
    }
    errors
}

fn check_keys(sg: &mut Subgraph, errors: &mut Vec<CompositionError>) {
    let mut marks: Vec<(Visit, bool)> = Vec::new();
    let type_names: Vec<String> = sg.types.keys().cloned().collect();
    for name in &type_names {
        let t = &sg.types[name];
        let on_interface = t.kind == Kind::Interface;
        if on_interface && !t.keys.is_empty() && sg.is_fed2() && sg.spec.version < (2, 3) {
            errors.push(CompositionError::in_subgraph(
                ErrorCode::KeyUnsupportedOnInterface,
                &sg.name,
                format!("Cannot use @key on interface \"{name}\": @key is not yet supported on interfaces"),
            ));
            continue;
        }
        let mut valid = Vec::new();
        for key in &t.keys {
            let prefix = format!("On type \"{name}\", for @key(fields: \"{}\")", key.fields);
            match walk_fields(sg, name, &key.fields, Use::Key, &prefix) {
                Ok(visits) => {
                    valid.push(true);
                    marks.extend(visits.into_iter().map(|v| (v, true)));
                }
                Err(e) => {
                    valid.push(false);
                    errors.push(CompositionError::in_subgraph(e.0, &sg.name, e.1));
                }
            }
            if on_interface && sg.is_fed2() {
                for imp in sg.implementations(name) {
                    if !imp.keys.iter().any(|k| k.fields == key.fields) {
                        errors.push(CompositionError::in_subgraph(
                            ErrorCode::InterfaceKeyNotOnImplementation,
                            &sg.name,
                            format!(
                                "Key @key(fields: \"{}\") on interface type \"{name}\" is missing on implementation type \"{}\".",
                                key.fields, imp.name
                            ),
                        ));
                    }
                }
            }
        }
        let t = sg.types.get_mut(name).unwrap();
        for (k, ok) in t.keys.iter_mut().zip(valid) {
            k.valid = ok;
        }
    }
    for (v, _) in marks {
        if let Some(f) = sg
            .types
            .get_mut(&v.ty)
            .and_then(|t| t.fields.get_mut(&v.field))
        {
            f.used_as_key = true;
            f.in_own_key |= v.top_level;
        }
    }
}

fn check_requires_provides(sg: &mut Subgraph, errors: &mut Vec<CompositionError>) {
    let mut used: Vec<(String, String, bool)> = Vec::new();
    for t in sg.types.values() {
        for f in t.fields.values() {
            let coordinate = format!("{}.{}", t.name, f.name);
            if let Some(requires) = &f.requires {
                let prefix =
                    format!("On field \"{coordinate}\", for @requires(fields: \"{requires}\")");
                match walk_fields(sg, &t.name, requires, Use::Requires, &prefix) {
                    Ok(visits) => {
                        if sg.is_fed2() {
                            check_external_leaves(
                                sg,
                                requires,
                                &t.name,
                                Use::Requires,
                                &prefix,
                                errors,
                            );
                        }
                        used.extend(visits.into_iter().map(|v| (v.ty, v.field, true)));
                    }
                    Err(e) => errors.push(CompositionError::in_subgraph(e.0, &sg.name, e.1)),
                }
            }
            if let Some(provides) = &f.provides {
                let target = f.ty.base();
                let target_kind = sg.types.get(target).map(|t| t.kind);
                if !matches!(
                    target_kind,
                    Some(Kind::Object | Kind::Interface | Kind::Union)
                ) {
                    errors.push(CompositionError::in_subgraph(
                        ErrorCode::ProvidesOnNonObjectField,
                        &sg.name,
                        format!(
                            "Invalid @provides directive on field \"{coordinate}\": field has type \"{}\" which is not a Composite Type",
                            f.ty
                        ),
                    ));
                    continue;
                }
                let prefix =
                    format!("On field \"{coordinate}\", for @provides(fields: \"{provides}\")");
                match walk_fields(sg, target, provides, Use::Provides, &prefix) {
                    Ok(visits) => {
                        if sg.is_fed2() {
                            check_external_leaves(
                                sg,
                                provides,
                                target,
                                Use::Provides,
                                &prefix,
                                errors,
                            );
                        }
                        used.extend(visits.into_iter().map(|v| (v.ty, v.field, false)));
                    }
                    Err(e) => errors.push(CompositionError::in_subgraph(e.0, &sg.name, e.1)),
                }
            }
        }
    }
    // A field selected on an interface is used in each implementation too.
    let mut expanded = Vec::new();
    for (ty, field, req) in used {
        if sg.types.get(&ty).map(|t| t.kind) == Some(Kind::Interface) {
            for imp in sg.implementations(&ty) {
                expanded.push((imp.name.clone(), field.clone(), req));
            }
        }
        expanded.push((ty, field, req));
    }
    for (ty, field, req) in expanded {
        if let Some(f) = sg.types.get_mut(&ty).and_then(|t| t.fields.get_mut(&field)) {
            f.used_in_requires_or_provides = true;
            f.used_in_requires |= req;
        }
    }
}

/// In Federation 2, the leaves a `@requires`/`@provides` selects must be
/// `@external` (unless selected below an external field).
fn check_external_leaves(
    sg: &Subgraph,
    fields: &str,
    ty: &str,
    usage: Use,
    prefix: &str,
    errors: &mut Vec<CompositionError>,
) {
    let Ok(sels) = fieldset::parse(fields) else {
        return;
    };
    let code = match usage {
        Use::Requires => ErrorCode::RequiresFieldsMissingExternal,
        _ => ErrorCode::ProvidesFieldsMissingExternal,
    };
    let mut bad = Vec::new();
    leaves(sg, ty, &sels, false, &mut bad);
    for coordinate in bad {
        errors.push(CompositionError::in_subgraph(
            code,
            &sg.name,
            format!(
                "{prefix}: field \"{coordinate}\" should not be part of a @{} since it is already provided by this subgraph (it is not marked @external)",
                usage.name()
            ),
        ));
    }
}

fn leaves(sg: &Subgraph, ty: &str, sels: &[Sel], under_external: bool, bad: &mut Vec<String>) {
    let Some(t) = sg.types.get(ty) else { return };
    for s in sels {
        match s {
            Sel::Field { name, children, .. } => {
                let Some(f) = t.fields.get(name) else {
                    continue;
                };
                let external = f.external;
                if children.is_empty() {
                    if !external && !under_external && t.kind != Kind::Interface {
                        bad.push(format!("{ty}.{name}"));
                    }
                } else {
                    leaves(sg, f.ty.base(), children, under_external || external, bad);
                }
            }
            Sel::Fragment { on, children } => {
                leaves(
                    sg,
                    on.as_deref().unwrap_or(ty),
                    children,
                    under_external,
                    bad,
                );
            }
        }
    }
}

/// Parses `fields` and checks it against type `ty` of the subgraph.
fn walk_fields(
    sg: &Subgraph,
    ty: &str,
    fields: &str,
    usage: Use,
    prefix: &str,
) -> Result<Vec<Visit>, (ErrorCode, String)> {
    let sels = fieldset::parse(fields).map_err(|e| (usage.invalid(), format!("{prefix}: {e}")))?;
    let mut visits = Vec::new();
    walk(sg, ty, &sels, usage, prefix, true, &mut visits)?;
    Ok(visits)
}

fn walk(
    sg: &Subgraph,
    ty: &str,
    sels: &[Sel],
    usage: Use,
    prefix: &str,
    top_level: bool,
    visits: &mut Vec<Visit>,
) -> Result<(), (ErrorCode, String)> {
    let invalid = |m: String| (usage.invalid(), format!("{prefix}: {m}"));
    let t = sg
        .types
        .get(ty)
        .ok_or_else(|| invalid(format!("Unknown type \"{ty}\"")))?;
    for s in sels {
        match s {
            Sel::Field {
                name,
                has_args,
                aliased,
                directives,
                children,
            } => {
                if *aliased {
                    return Err(invalid(format!("Cannot use alias for \"{name}\": aliases are not currently supported in @{}", usage.name())));
                }
                if let Some(d) = directives.first() {
                    return Err(invalid(format!(
                        "cannot have directive applications in the @{}(fields:) argument but found @{d}.",
                        usage.name()
                    )));
                }
                if name == "__typename" {
                    continue;
                }
                let Some(f) = t.fields.get(name) else {
                    return Err(invalid(format!(
                        "Cannot query field \"{name}\" on type \"{ty}\" (if the field is defined in another subgraph, you need to add it to this subgraph with @external)."
                    )));
                };
                let target = sg.types.get(f.ty.base());
                let target_kind = target.map(|t| t.kind);
                if usage == Use::Key {
                    if *has_args {
                        return Err((
                            ErrorCode::KeyFieldsHasArgs,
                            format!("{prefix}: field {ty}.{name} cannot be included because it has arguments (fields with argument are not allowed in @key)"),
                        ));
                    }
                    // As Apollo: the field's own type is checked, so `[T]!`
                    // and `Node!` pass where `[T]` and `Node` do not.
                    let bad_kind = match (&f.ty, target_kind) {
                        (TypeRef::NonNull(_), _) => None,
                        (TypeRef::List(_), _) => Some("List"),
                        (_, Some(Kind::Interface)) => Some("Interface"),
                        (_, Some(Kind::Union)) => Some("Union"),
                        _ => None,
                    };
                    if let Some(kind) = bad_kind {
                        return Err((
                            ErrorCode::KeyFieldsSelectInvalidType,
                            format!("{prefix}: field \"{ty}.{name}\" is a {kind} type which is not allowed in @key"),
                        ));
                    }
                }
                let composite = matches!(
                    target_kind,
                    Some(Kind::Object | Kind::Interface | Kind::Union)
                );
                if composite && children.is_empty() {
                    return Err(invalid(format!(
                        "Invalid empty selection set for field \"{ty}.{name}\" of non-leaf type {}",
                        f.ty
                    )));
                }
                if !composite && !children.is_empty() {
                    return Err(invalid(format!(
                        "Field \"{name}\" must not have a selection since type \"{}\" has no subfields.",
                        f.ty
                    )));
                }
                visits.push(Visit {
                    ty: ty.to_owned(),
                    field: name.clone(),
                    top_level,
                });
                if composite {
                    walk(sg, f.ty.base(), children, usage, prefix, false, visits)?;
                }
            }
            Sel::Fragment { on, children } => {
                let on = on.as_deref().unwrap_or(ty);
                if !sg.types.contains_key(on) {
                    return Err(invalid(format!("Unknown type \"{on}\"")));
                }
                walk(sg, on, children, usage, prefix, false, visits)?;
            }
        }
    }
    Ok(())
}

fn check_overrides(sg: &Subgraph, errors: &mut Vec<CompositionError>) {
    for t in sg.types.values() {
        for f in t.fields.values() {
            let Some(from) = &f.override_from else {
                continue;
            };
            let coordinate = format!("{}.{}", t.name, f.name);
            if *from == sg.name {
                errors.push(CompositionError::in_subgraph(
                    ErrorCode::OverrideFromSelfError,
                    &sg.name,
                    format!("Source and destination subgraphs \"{from}\" are the same for overridden field \"{coordinate}\""),
                ));
            }
            if let Some(label) = &f.override_label {
                if sg.is_fed2() && sg.spec.version < (2, 7) {
                    errors.push(CompositionError::in_subgraph(
                        ErrorCode::InvalidGraphql,
                        &sg.name,
                        format!("Unknown argument \"label\" on directive \"@override\" (field \"{coordinate}\"): labels need Federation 2.7."),
                    ));
                } else if !valid_override_label(label) {
                    errors.push(CompositionError::in_subgraph(
                        ErrorCode::OverrideLabelInvalid,
                        &sg.name,
                        format!("Invalid @override label \"{label}\" on field \"{coordinate}\" on subgraph \"{}\": labels must start with a letter and after that may contain alphanumerics, underscores, minuses, colons, periods, or slashes. Alternatively, labels may be of the form \"percent(x)\" where x is a float between 0-100 inclusive.", sg.name),
                    ));
                }
            }
            if f.external {
                errors.push(CompositionError::in_subgraph(
                    ErrorCode::OverrideCollisionWithAnotherDirective,
                    &sg.name,
                    format!("@override cannot be used on field \"{coordinate}\" on subgraph \"{}\" since \"{coordinate}\" on \"{}\" is marked with directive \"@external\"", sg.name, sg.name),
                ));
            }
        }
    }
}

/// `percent(x)` with 0 <= x <= 100 (at most 8 decimals, `100` itself without
/// any), or a name: a letter, then letters, digits and `_-:./`.
fn valid_override_label(label: &str) -> bool {
    if let Some(n) = label
        .strip_prefix("percent(")
        .and_then(|r| r.strip_suffix(')'))
    {
        if n == "100" {
            return true;
        }
        let (int, frac) = n.split_once('.').unwrap_or((n, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        return (1..=2).contains(&int.len())
            && digits(int)
            && digits(frac)
            && frac.len() <= 8
            && (frac.is_empty() != n.contains('.'));
    }
    let mut chars = label.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_-:./".contains(c))
}

/// Decides which fields are external, and reports or drops unused ones.
///
/// Key fields of a type extension are not external, whatever they say
/// (Federation 1 required `@external` on them). Unused `@external` fields are
/// an error in Federation 2 and silently dropped in Federation 1.
fn settle_external(sg: &mut Subgraph, errors: &mut Vec<CompositionError>) {
    let fed2 = sg.is_fed2();
    let interface_fields: HashSet<(String, String)> = sg
        .types
        .values()
        .filter(|t| t.kind == Kind::Interface)
        .flat_map(|t| t.fields.keys().map(|f| (t.name.clone(), f.clone())))
        .collect();
    let subgraph = sg.name.clone();
    for t in sg.types.values_mut() {
        let extension = t.extension;
        let implements = t.implements.clone();
        let mut drop = Vec::new();
        for f in t.fields.values_mut() {
            if !f.external {
                continue;
            }
            if f.in_own_key && extension {
                f.external = false;
                continue;
            }
            let for_interface = implements
                .iter()
                .any(|i| interface_fields.contains(&(i.clone(), f.name.clone())));
            if f.used_as_key || f.used_in_requires_or_provides || for_interface {
                continue;
            }
            if fed2 {
                errors.push(CompositionError::in_subgraph(
                    ErrorCode::ExternalUnused,
                    &subgraph,
                    format!(
                        "Field \"{}.{}\" is marked @external but is not used in any federation directive (@key, @provides, @requires) or to satisfy an interface; the field declaration has no use and should be removed (or the field should not be @external).",
                        t.name, f.name
                    ),
                ));
            } else {
                drop.push(f.name.clone());
            }
        }
        for name in drop {
            t.fields.shift_remove(&name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::valid_override_label;

    #[test]
    fn override_labels() {
        for ok in [
            "percent(0)",
            "percent(1.00)",
            "percent(1.12345678)",
            "percent(100)",
            "foo",
            "f:b/c.d-e_f",
            "percent1",
        ] {
            assert!(valid_override_label(ok), "{ok}");
        }
        for bad in [
            "percent(100.00)",
            "percent(101)",
            "percent(-1)",
            "percent(1.123456789)",
            "percent(1.)",
            "0foo",
            "_foo",
            "foo bar",
            "foo(",
            "",
        ] {
            assert!(!valid_override_label(bad), "{bad}");
        }
    }
}
