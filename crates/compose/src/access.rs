//! Access control: `@authenticated`, `@requiresScopes` and `@policy`
//! (Federation 2.5 and 2.6, carried into the supergraph by their own specs,
//! `https://specs.apollo.dev/{authenticated,requiresScopes,policy}/v0.1`,
//! each linked `for: SECURITY`).
//!
//! Subgraphs import them from the federation link under any name; the
//! supergraph always uses the spec names. Composition, as Apollo's:
//!
//! - reads each application ([`parse`]) on object types, interfaces, fields,
//!   scalars and enums, and refuses them on interfaces and their fields
//!   (`AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE`: they come from the
//!   implementations) and on `@external` fields;
//! - merges the applications on one element with AND ([`merge`]): any
//!   `@authenticated` makes the element authenticated, and the scope and
//!   policy lists, in disjunctive normal form (outer list OR, inner list
//!   AND), are combined by [`dnf_conjunction`] when they differ;
//! - propagates requirements to interfaces ([`propagate`]): an interface
//!   gets the AND of its implementations' type requirements, an interface
//!   field the AND of the implementations' field requirements, and the
//!   fields an `@interfaceObject` provides carry its requirements into the
//!   implementations;
//! - checks that a field with `@requires` demands at least what the fields
//!   its selection reaches demand ([`check_requires`],
//!   `MISSING_TRANSITIVE_AUTH_REQUIREMENTS`).

use std::collections::HashSet;

use apollo_compiler::ast;

use crate::emit::quote;
use crate::errors::{CompositionError, ErrorCode};
use crate::fieldset::{self, Sel};
use crate::link::Fed;
use crate::model::Composed;
use crate::subgraph::{print_value, Kind, Subgraph};

/// A requirement in disjunctive normal form: any inner list, all of its items.
pub(crate) type Dnf = Vec<Vec<String>>;

/// The `scopes:` of a `@requiresScopes` or the `policies:` of a `@policy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DnfApp {
    /// The value, coerced to a list of lists.
    pub value: Dnf,
    /// The value as printed (as written, or merged).
    pub printed: String,
}

/// The access requirements on one element.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Access {
    /// `@authenticated`.
    pub authenticated: bool,
    /// `@requiresScopes(scopes:)`.
    pub scopes: Option<DnfApp>,
    /// `@policy(policies:)`.
    pub policies: Option<DnfApp>,
}

impl Access {
    /// True when nothing is required.
    pub fn is_empty(&self) -> bool {
        !self.authenticated && self.scopes.is_none() && self.policies.is_none()
    }

    /// The directives as the supergraph prints them, in spec order.
    pub fn printed(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.authenticated {
            out.push("@authenticated".to_owned());
        }
        if let Some(s) = &self.scopes {
            out.push(format!("@requiresScopes(scopes: {})", s.printed));
        }
        if let Some(p) = &self.policies {
            out.push(format!("@policy(policies: {})", p.printed));
        }
        out
    }

    /// True when meeting `self` guarantees meeting `other` (`other` is
    /// implied: authenticated when it is, and every alternative of `self`
    /// contains an alternative of `other`).
    pub fn implies(&self, other: &Access) -> bool {
        (self.authenticated || !other.authenticated)
            && implies(
                self.scopes.as_ref().map(|a| &a.value),
                other.scopes.as_ref().map(|a| &a.value),
            )
            && implies(
                self.policies.as_ref().map(|a| &a.value),
                other.policies.as_ref().map(|a| &a.value),
            )
    }
}

/// `[]` means "always" for the router: it is `[[]]`.
fn non_empty(d: &Dnf) -> Dnf {
    if d.is_empty() {
        vec![Vec::new()]
    } else {
        d.clone()
    }
}

fn implies(first: Option<&Dnf>, second: Option<&Dnf>) -> bool {
    let always = vec![Vec::new()];
    let first = first.map_or_else(|| always.clone(), non_empty);
    let second = second.map_or_else(|| always.clone(), non_empty);
    first.iter().all(|f| {
        let set: HashSet<&String> = f.iter().collect();
        second.iter().any(|s| {
            s.iter().collect::<HashSet<_>>().len() <= set.len() && s.iter().all(|e| set.contains(e))
        })
    })
}

/// The access directive definitions, by directive name.
pub(crate) fn definition(fed: Fed) -> (&'static str, &'static str) {
    match fed {
        Fed::Authenticated => (
            "authenticated",
            "directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM",
        ),
        Fed::RequiresScopes => (
            "requiresScopes",
            "directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM",
        ),
        _ => (
            "policy",
            "directive @policy(policies: [[policy__Policy!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM",
        ),
    }
}

/// The scalar a spec defines, if any: `(name, definition)`.
pub(crate) fn scalar(fed: Fed) -> Option<(&'static str, &'static str)> {
    match fed {
        Fed::RequiresScopes => Some(("requiresScopes__Scope", "scalar requiresScopes__Scope")),
        Fed::Policy => Some(("policy__Policy", "scalar policy__Policy")),
        _ => None,
    }
}

/// The spec's `@link` on the supergraph schema.
pub(crate) fn link(fed: Fed) -> String {
    format!(
        "@link(url: \"https://specs.apollo.dev/{}/v0.1\", for: SECURITY)",
        fed.name()
    )
}

/// The access directives, in the order Apollo links and applies them.
pub(crate) const ALL: [Fed; 3] = [Fed::Authenticated, Fed::RequiresScopes, Fed::Policy];

/// Reads an application of `fed` (one of [`ALL`]) into `access`; the error
/// says what is wrong with it.
pub(crate) fn parse(d: &ast::Directive, fed: Fed, access: &mut Access) -> Result<(), String> {
    let arg_name = match fed {
        Fed::Authenticated => {
            if let Some(a) = d.arguments.first() {
                return Err(format!(
                    "Unknown argument \"{}\" found on \"@{}\"",
                    a.name, d.name
                ));
            }
            access.authenticated = true;
            return Ok(());
        }
        Fed::RequiresScopes => "scopes",
        _ => "policies",
    };
    let mut value = None;
    for a in &d.arguments {
        if a.name != arg_name {
            return Err(format!(
                "Unknown argument \"{}\" found on \"@{}\"",
                a.name, d.name
            ));
        }
        value = Some(&*a.value);
    }
    let item = if fed == Fed::RequiresScopes {
        "requiresScopes__Scope"
    } else {
        "policy__Policy"
    };
    let invalid = || {
        format!(
            "Argument \"{arg_name}\" of \"@{}\" must be of type \"[[{item}!]!]!\" (a list of lists of strings)",
            d.name
        )
    };
    let value = value.ok_or_else(invalid)?;
    let dnf = to_dnf(value).ok_or_else(invalid)?;
    let app = DnfApp {
        value: dnf,
        printed: print_value(value),
    };
    if fed == Fed::RequiresScopes {
        access.scopes = Some(app);
    } else {
        access.policies = Some(app);
    }
    Ok(())
}

/// A `[[String!]!]!` value, with GraphQL's coercion of single items to lists.
fn to_dnf(v: &ast::Value) -> Option<Dnf> {
    match v {
        ast::Value::String(s) => Some(vec![vec![s.clone()]]),
        ast::Value::List(items) => items.iter().map(|i| crate::cost::strings(i)).collect(),
        _ => None,
    }
}

/// Prints a requirement: `[["a", "b"], ["c"]]`.
fn print_dnf(d: &Dnf) -> String {
    let inner: Vec<String> = d
        .iter()
        .map(|i| {
            let items: Vec<String> = i.iter().map(|s| quote(s)).collect();
            format!("[{}]", items.join(", "))
        })
        .collect();
    format!("[{}]", inner.join(", "))
}

/// The AND of requirements in disjunctive normal form, as Apollo computes
/// it: the lists are sorted and deduplicated, their product taken (the
/// union of one inner list of each, sorted, each combination once), and
/// inner lists that contain another inner list are dropped.
pub(crate) fn dnf_conjunction(values: &[Dnf]) -> Dnf {
    let mut filtered: Vec<Dnf> = Vec::new();
    for v in values {
        let mut v = non_empty(v);
        for inner in &mut v {
            inner.sort();
        }
        v.sort_by_key(|inner| json(inner));
        if !filtered.contains(&v) {
            filtered.push(v);
        }
    }
    let Some(first) = filtered.first() else {
        return Vec::new();
    };
    let mut result = first.clone();
    for current in &filtered[1..] {
        let mut product: Dnf = Vec::new();
        for acc in &result {
            for cur in current {
                let mut candidate = acc.clone();
                candidate.extend(cur.iter().filter(|e| !acc.contains(e)).cloned());
                candidate.sort();
                if !product.contains(&candidate) {
                    product.push(candidate);
                }
            }
        }
        // Shortest first (stable), then drop the supersets of a kept one.
        product.sort_by_key(Vec::len);
        let mut kept: Dnf = Vec::new();
        for candidate in product {
            if !kept.iter().any(|k| k.iter().all(|e| candidate.contains(e))) {
                kept.push(candidate);
            }
        }
        result = kept;
    }
    result
}

/// A list of strings as JSON, the key Apollo sorts inner lists by.
fn json(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_default()
}

/// One requirement from several applications: the first when they are all
/// the same, else their AND.
fn merge_dnf<'a>(apps: impl Iterator<Item = &'a DnfApp>) -> Option<DnfApp> {
    let mut distinct: Vec<&DnfApp> = Vec::new();
    for a in apps {
        if !distinct.iter().any(|d| d.value == a.value) {
            distinct.push(a);
        }
    }
    match distinct.as_slice() {
        [] => None,
        [one] => Some((*one).clone()),
        many => {
            let values: Vec<Dnf> = many.iter().map(|a| a.value.clone()).collect();
            let value = dnf_conjunction(&values);
            Some(DnfApp {
                printed: print_dnf(&value),
                value,
            })
        }
    }
}

/// The AND of the requirements of several applications to one element.
pub(crate) fn merge<'a>(apps: impl Iterator<Item = &'a Access> + Clone) -> Access {
    Access {
        authenticated: apps.clone().any(|a| a.authenticated),
        scopes: merge_dnf(apps.clone().filter_map(|a| a.scopes.as_ref())),
        policies: merge_dnf(apps.filter_map(|a| a.policies.as_ref())),
    }
}

/// The access specs some subgraph applies, in [`ALL`]'s order.
pub(crate) fn used_specs(subgraphs: &[Subgraph]) -> Vec<Fed> {
    let mut used = [false; 3];
    let mut note = |a: &Access| {
        used[0] |= a.authenticated;
        used[1] |= a.scopes.is_some();
        used[2] |= a.policies.is_some();
    };
    for s in subgraphs {
        for t in s.types.values() {
            note(&t.access);
            for f in t.fields.values() {
                note(&f.access);
            }
        }
    }
    ALL.iter()
        .zip(used)
        .filter(|(_, u)| *u)
        .map(|(f, _)| *f)
        .collect()
}

/// Sets the requirements of every type and field of the supergraph: the
/// AND of their subgraph applications (not counting `@external` fields),
/// propagated to interfaces from their implementations and from
/// `@interfaceObject` fields to the implementations.
pub(crate) fn propagate(subgraphs: &[Subgraph], c: &mut Composed) {
    let implementations = |c: &Composed, iface: &str| -> Vec<String> {
        c.types
            .values()
            .filter(|t| t.kind == Kind::Object && t.implements.iter().any(|i| i == iface))
            .map(|t| t.name.clone())
            .collect()
    };
    let mut type_access = Vec::new();
    let mut field_access = Vec::new();
    for t in c.types.values() {
        // The subgraph types standing for this one (objects, or @interfaceObjects).
        let defs: Vec<&crate::subgraph::Type> = subgraphs
            .iter()
            .filter_map(|s| s.types.get(&t.name))
            .collect();
        let mut apps: Vec<&Access> = defs.iter().map(|d| &d.access).collect();
        let impls = if t.kind == Kind::Interface {
            implementations(c, &t.name)
        } else {
            Vec::new()
        };
        for s in subgraphs {
            for i in &impls {
                if let Some(it) = s.types.get(i).filter(|it| !it.interface_object) {
                    apps.push(&it.access);
                }
            }
        }
        type_access.push((t.name.clone(), merge(apps.iter().copied())));
        for f in t.fields.values() {
            let mut apps: Vec<&Access> = Vec::new();
            for s in subgraphs {
                let Some(st) = s.types.get(&t.name) else {
                    continue;
                };
                if let Some(sf) = st.fields.get(&f.name).filter(|sf| !sf.external) {
                    apps.push(&sf.access);
                }
            }
            for s in subgraphs {
                // Upwards: the implementations' fields.
                for i in &impls {
                    let field = s
                        .types
                        .get(i)
                        .filter(|it| !it.interface_object)
                        .and_then(|it| it.fields.get(&f.name))
                        .filter(|sf| !sf.external);
                    apps.extend(field.map(|sf| &sf.access));
                }
                // Downwards from an @interfaceObject of one of the type's
                // interfaces, and upwards from it to the other interfaces of
                // its implementations.
                for io in s.types.values().filter(|io| io.interface_object) {
                    if io.name == t.name {
                        continue;
                    }
                    let reaches = match t.kind {
                        Kind::Object => t.implements.contains(&io.name),
                        Kind::Interface => impls.iter().any(|i| {
                            c.types
                                .get(i)
                                .is_some_and(|it| it.implements.contains(&io.name))
                        }),
                        _ => false,
                    };
                    if !reaches {
                        continue;
                    }
                    if let Some(sf) = io.fields.get(&f.name).filter(|sf| !sf.external) {
                        apps.push(&sf.access);
                    }
                }
            }
            field_access.push((t.name.clone(), f.name.clone(), merge(apps.iter().copied())));
        }
    }
    for (t, a) in type_access {
        if let Some(ty) = c.types.get_mut(&t) {
            ty.access = a;
        }
    }
    for (t, f, a) in field_access {
        if let Some(field) = c.types.get_mut(&t).and_then(|ty| ty.fields.get_mut(&f)) {
            field.access = a;
        }
    }
}

/// Refuses access directives on interfaces, their fields and
/// `@interfaceObject` types (Apollo computes those from the
/// implementations), and on `@external` fields (which merged directives
/// may not be applied to).
pub(crate) fn check_subgraph(sg: &Subgraph) -> Vec<CompositionError> {
    let mut errors = Vec::new();
    let names = |a: &Access| -> Vec<&'static str> {
        let mut n = Vec::new();
        if a.authenticated {
            n.push("authenticated");
        }
        if a.scopes.is_some() {
            n.push("requiresScopes");
        }
        if a.policies.is_some() {
            n.push("policy");
        }
        n
    };
    for t in sg.types.values() {
        let what = if t.kind == Kind::Interface {
            Some("interface")
        } else if t.interface_object {
            Some("interface object")
        } else {
            None
        };
        if let Some(what) = what {
            for d in names(&t.access) {
                errors.push(CompositionError::in_subgraph(
                    ErrorCode::AuthRequirementsAppliedOnInterface,
                    &sg.name,
                    format!("Invalid use of @{d} on {what} \"{}\": @{d} cannot be applied on interfaces, interface fields and interface objects", t.name),
                ));
            }
        }
        for f in t.fields.values() {
            if t.kind == Kind::Interface {
                for d in names(&f.access) {
                    errors.push(CompositionError::in_subgraph(
                        ErrorCode::AuthRequirementsAppliedOnInterface,
                        &sg.name,
                        format!("Invalid use of @{d} on field \"{}.{}\": @{d} cannot be applied on interfaces, interface fields and interface objects", t.name, f.name),
                    ));
                }
            } else if f.external {
                for d in f.access.printed() {
                    errors.push(CompositionError::in_subgraph(
                        ErrorCode::MergedDirectiveApplicationOnExternal,
                        &sg.name,
                        format!(
                            "Cannot apply merged directive {d} to external field \"{}.{}\"",
                            t.name, f.name
                        ),
                    ));
                }
            }
        }
    }
    errors
}

/// MISSING_TRANSITIVE_AUTH_REQUIREMENTS: a field with `@requires` must
/// demand (with its type's requirements) at least what every field its
/// selection reaches demands, with the requirements of their types and of
/// the inline fragments' type conditions.
pub(crate) fn check_requires(subgraphs: &[Subgraph], c: &Composed) -> Vec<CompositionError> {
    let mut errors = Vec::new();
    if !c
        .types
        .values()
        .any(|t| !t.access.is_empty() || t.fields.values().any(|f| !f.access.is_empty()))
    {
        return errors;
    }
    for s in subgraphs {
        for t in s.types.values() {
            for f in t.fields.values() {
                let Some(requires) = &f.requires else {
                    continue;
                };
                let Some(mt) = c.types.get(&t.name) else {
                    continue;
                };
                let Some(mf) = mt.fields.get(&f.name) else {
                    continue;
                };
                let Ok(sels) = fieldset::parse(requires) else {
                    continue;
                };
                let own = and(&mt.access, &mf.access);
                let coordinate = format!("{}.{}", t.name, f.name);
                if let Err(what) = verify(c, &own, &t.name, &sels) {
                    errors.push(CompositionError::in_subgraph(
                        ErrorCode::MissingTransitiveAuthRequirements,
                        &s.name,
                        format!("Field \"{coordinate}\" does not specify necessary @authenticated, @requiresScopes and/or @policy auth requirements to access the transitive {what} from @requires selection set."),
                    ));
                }
            }
        }
    }
    errors
}

/// The requirements of a type and of one of its fields together.
fn and(a: &Access, b: &Access) -> Access {
    let both = |x: &Option<DnfApp>, y: &Option<DnfApp>| -> Option<DnfApp> {
        let values: Vec<Dnf> = [x, y]
            .into_iter()
            .flatten()
            .map(|a| a.value.clone())
            .collect();
        (!values.is_empty()).then(|| {
            let value = dnf_conjunction(&values);
            DnfApp {
                printed: print_dnf(&value),
                value,
            }
        })
    };
    Access {
        authenticated: a.authenticated || b.authenticated,
        scopes: both(&a.scopes, &b.scopes),
        policies: both(&a.policies, &b.policies),
    }
}

/// Checks the selections `sels` on type `parent`; the error names what is
/// not covered (`field "T.f" data`, or an inline fragment's condition).
fn verify(c: &Composed, own: &Access, parent: &str, sels: &[Sel]) -> Result<(), String> {
    for sel in sels {
        match sel {
            Sel::Field { name, children, .. } => {
                let Some(field) = c.types.get(parent).and_then(|t| t.fields.get(name)) else {
                    continue;
                };
                let returned = c
                    .types
                    .get(field.ty.base())
                    .map(|t| &t.access)
                    .cloned()
                    .unwrap_or_default();
                if !own.implies(&field.access) || !own.implies(&returned) {
                    return Err(format!("field \"{parent}.{name}\" data"));
                }
                verify(c, own, field.ty.base(), children)?;
            }
            Sel::Fragment { on, children } => {
                let target = on.as_deref().unwrap_or(parent);
                if let Some(cond) = on {
                    let required = c
                        .types
                        .get(cond)
                        .map(|t| t.access.clone())
                        .unwrap_or_default();
                    if !own.implies(&required) {
                        return Err(format!("data in inline fragment type condition \"{cond}\""));
                    }
                }
                verify(c, own, target, children)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dnf(v: &[&[&str]]) -> Dnf {
        v.iter()
            .map(|i| i.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn conjunction_as_apollo() {
        assert_eq!(
            dnf_conjunction(&[dnf(&[&["S1"], &["S2"]]), dnf(&[&["S1"], &["S2", "S3"]])]),
            dnf(&[&["S1"], &["S2", "S3"]])
        );
        assert_eq!(
            dnf_conjunction(&[dnf(&[&["P1"]]), dnf(&[&["P2"]])]),
            dnf(&[&["P1", "P2"]])
        );
        assert_eq!(
            dnf_conjunction(&[dnf(&[&["S1"]]), dnf(&[&["S1", "S2"]])]),
            dnf(&[&["S1", "S2"]])
        );
        assert_eq!(
            dnf_conjunction(&[dnf(&[&["b", "a"]]), dnf(&[&["a", "b"]])]),
            dnf(&[&["a", "b"]])
        );
    }

    #[test]
    fn implication() {
        let req = |s: &[&[&str]]| Access {
            scopes: Some(DnfApp {
                value: dnf(s),
                printed: String::new(),
            }),
            ..Access::default()
        };
        assert!(req(&[&["S1", "S2"]]).implies(&req(&[&["S1", "S2"], &["S3"]])));
        assert!(!req(&[&["S1"]]).implies(&req(&[&["S1", "S2"]])));
        assert!(req(&[&["S1"]]).implies(&Access::default()));
        assert!(!Access::default().implies(&req(&[&["S1"]])));
        let auth = Access {
            authenticated: true,
            ..Access::default()
        };
        assert!(!Access::default().implies(&auth));
    }
}
