//! Derives the API schema (what clients see) from a supergraph schema.
//!
//! Removed: the `join__*`/`link__*` machinery and linked spec directives
//! (`@link`, `@join__*`, `@inaccessible`, `@tag`, `@cost`, `@listSize`
//! under the names the cost link gives them, `@migrate` under the name the
//! migrate link gives it, `@cacheControl`, the access directives and
//! their scalars), and every element marked
//! `@inaccessible` (types, fields, arguments, enum values, input fields,
//! union members and implemented interfaces that point at removed types).

use std::collections::HashSet;

use apollo_compiler::schema::{DirectiveList, ExtendedType};
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, Schema};

use crate::model::SupergraphError;

/// The names of the directives to remove besides the join/link machinery.
struct Removed {
    inaccessible: String,
    /// `@cost` and `@listSize`, when the supergraph links the cost spec.
    cost: Vec<String>,
    /// `@migrate`, when the supergraph links the migrate spec.
    migrate: Option<String>,
    /// `@authenticated`, `@requiresScopes`, `@policy`, when linked.
    access: crate::AccessNames,
}

/// Directive definitions that belong to the supergraph machinery.
fn is_machinery_directive(name: &str, removed: &Removed) -> bool {
    name.starts_with("join__")
        || name.starts_with("link__")
        || name == "link"
        || name == "core"
        || name == "tag"
        || name == removed.inaccessible
        || removed.cost.iter().any(|c| c == name)
        || removed.migrate.as_deref() == Some(name)
        || removed.access.all().any(|a| a == name)
        || name == crate::CACHE_CONTROL_DIRECTIVE
}

/// The name `@inaccessible` has in this supergraph (it may be renamed by `@link(as:)`).
fn inaccessible_name(schema: &Schema) -> String {
    for d in schema.schema_definition.directives.iter() {
        if d.name != "link" {
            continue;
        }
        let url = d
            .specified_argument_by_name("url")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        if url.contains("/inaccessible/") {
            if let Some(alias) = d.specified_argument_by_name("as").and_then(|v| v.as_str()) {
                return alias.to_owned();
            }
        }
    }
    "inaccessible".to_owned()
}

fn strip(list: &mut DirectiveList, removed: &Removed) {
    list.0
        .retain(|d| !is_machinery_directive(d.name.as_str(), removed));
}

/// Removes `@cost` from arguments and input fields.
fn strip_cost(list: &mut apollo_compiler::ast::DirectiveList, removed: &Removed) {
    if !removed.cost.is_empty() {
        list.0
            .retain(|d| !removed.cost.iter().any(|c| c == d.name.as_str()));
    }
}

/// Builds the API schema of `supergraph`.
pub fn derive(supergraph: &Valid<Schema>) -> Result<Valid<Schema>, SupergraphError> {
    let (cost, list_size) = crate::cost::directive_names(supergraph);
    let machinery = Removed {
        inaccessible: inaccessible_name(supergraph),
        cost: cost.into_iter().chain(list_size).collect(),
        migrate: crate::migrate::directive_name(supergraph),
        access: crate::AccessNames::read(supergraph),
    };
    let m = &machinery;
    let inacc = machinery.inaccessible.as_str();
    let mut schema: Schema = (**supergraph).clone();
    schema
        .directive_definitions
        .retain(|name, _| !is_machinery_directive(name.as_str(), m));
    let removed: HashSet<Name> = schema
        .types
        .iter()
        .filter(|(name, ty)| {
            name.starts_with("join__")
                || name.starts_with("link__")
                || m.access.is_spec_type(name)
                || (!ty.is_built_in() && ty.directives().has(inacc))
        })
        .map(|(n, _)| n.clone())
        .collect();
    schema.types.retain(|name, _| !removed.contains(name));
    strip(&mut schema.schema_definition.make_mut().directives, m);
    for ty in schema.types.values_mut() {
        match ty {
            ExtendedType::Object(o) => {
                let o = o.make_mut();
                strip(&mut o.directives, m);
                o.implements_interfaces
                    .retain(|i| !removed.contains(&i.name));
                o.fields.retain(|_, f| {
                    !f.directives.has(inacc) && !removed.contains(f.ty.inner_named_type())
                });
                for f in o.fields.values_mut() {
                    let f = f.make_mut();
                    f.directives
                        .0
                        .retain(|d| !is_machinery_directive(d.name.as_str(), m));
                    f.arguments.retain(|a| !a.directives.has(inacc));
                    for a in &mut f.arguments {
                        strip_cost(&mut a.make_mut().directives, m);
                    }
                }
            }
            ExtendedType::Interface(i) => {
                let i = i.make_mut();
                strip(&mut i.directives, m);
                i.implements_interfaces
                    .retain(|x| !removed.contains(&x.name));
                i.fields.retain(|_, f| {
                    !f.directives.has(inacc) && !removed.contains(f.ty.inner_named_type())
                });
                for f in i.fields.values_mut() {
                    let f = f.make_mut();
                    f.directives
                        .0
                        .retain(|d| !is_machinery_directive(d.name.as_str(), m));
                    f.arguments.retain(|a| !a.directives.has(inacc));
                    for a in &mut f.arguments {
                        strip_cost(&mut a.make_mut().directives, m);
                    }
                }
            }
            ExtendedType::Union(u) => {
                let u = u.make_mut();
                strip(&mut u.directives, m);
                u.members.retain(|m| !removed.contains(&m.name));
            }
            ExtendedType::Enum(e) => {
                let e = e.make_mut();
                strip(&mut e.directives, m);
                e.values.retain(|_, v| !v.directives.has(inacc));
                for v in e.values.values_mut() {
                    v.make_mut()
                        .directives
                        .0
                        .retain(|d| !is_machinery_directive(d.name.as_str(), m));
                }
            }
            ExtendedType::InputObject(io) => {
                let io = io.make_mut();
                strip(&mut io.directives, m);
                io.fields.retain(|_, f| !f.directives.has(inacc));
                for f in io.fields.values_mut() {
                    strip_cost(&mut f.make_mut().directives, m);
                }
            }
            ExtendedType::Scalar(s) => strip(&mut s.make_mut().directives, m),
        }
    }
    schema.validate().map_err(|e| {
        SupergraphError::Invalid(format!(
            "the API schema derived from the supergraph is invalid:\n{}",
            e.errors
        ))
    })
}
