//! Derives the API schema (what clients see) from a supergraph schema.
//!
//! Removed: the `join__*`/`link__*` machinery and linked spec directives
//! (`@link`, `@join__*`, `@inaccessible`, `@tag`), and every element marked
//! `@inaccessible` (types, fields, arguments, enum values, input fields,
//! union members and implemented interfaces that point at removed types).

use std::collections::HashSet;

use apollo_compiler::schema::{DirectiveList, ExtendedType};
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, Schema};

use crate::model::SupergraphError;

/// Directive definitions that belong to the supergraph machinery.
fn is_machinery_directive(name: &str, inaccessible: &str) -> bool {
    name.starts_with("join__")
        || name.starts_with("link__")
        || name == "link"
        || name == "core"
        || name == "tag"
        || name == inaccessible
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

fn strip(list: &mut DirectiveList, inaccessible: &str) {
    list.0
        .retain(|d| !is_machinery_directive(d.name.as_str(), inaccessible));
}

/// Builds the API schema of `supergraph`.
pub fn derive(supergraph: &Valid<Schema>) -> Result<Valid<Schema>, SupergraphError> {
    let inacc = inaccessible_name(supergraph);
    let mut schema: Schema = (**supergraph).clone();
    schema
        .directive_definitions
        .retain(|name, _| !is_machinery_directive(name.as_str(), &inacc));
    let removed: HashSet<Name> = schema
        .types
        .iter()
        .filter(|(name, ty)| {
            name.starts_with("join__")
                || name.starts_with("link__")
                || (!ty.is_built_in() && ty.directives().has(&inacc))
        })
        .map(|(n, _)| n.clone())
        .collect();
    schema.types.retain(|name, _| !removed.contains(name));
    strip(&mut schema.schema_definition.make_mut().directives, &inacc);
    for ty in schema.types.values_mut() {
        match ty {
            ExtendedType::Object(o) => {
                let o = o.make_mut();
                strip(&mut o.directives, &inacc);
                o.implements_interfaces
                    .retain(|i| !removed.contains(&i.name));
                o.fields.retain(|_, f| {
                    !f.directives.has(&inacc) && !removed.contains(f.ty.inner_named_type())
                });
                for f in o.fields.values_mut() {
                    let f = f.make_mut();
                    f.directives
                        .0
                        .retain(|d| !is_machinery_directive(d.name.as_str(), &inacc));
                    f.arguments.retain(|a| !a.directives.has(&inacc));
                }
            }
            ExtendedType::Interface(i) => {
                let i = i.make_mut();
                strip(&mut i.directives, &inacc);
                i.implements_interfaces
                    .retain(|x| !removed.contains(&x.name));
                i.fields.retain(|_, f| {
                    !f.directives.has(&inacc) && !removed.contains(f.ty.inner_named_type())
                });
                for f in i.fields.values_mut() {
                    let f = f.make_mut();
                    f.directives
                        .0
                        .retain(|d| !is_machinery_directive(d.name.as_str(), &inacc));
                    f.arguments.retain(|a| !a.directives.has(&inacc));
                }
            }
            ExtendedType::Union(u) => {
                let u = u.make_mut();
                strip(&mut u.directives, &inacc);
                u.members.retain(|m| !removed.contains(&m.name));
            }
            ExtendedType::Enum(e) => {
                let e = e.make_mut();
                strip(&mut e.directives, &inacc);
                e.values.retain(|_, v| !v.directives.has(&inacc));
                for v in e.values.values_mut() {
                    v.make_mut()
                        .directives
                        .0
                        .retain(|d| !is_machinery_directive(d.name.as_str(), &inacc));
                }
            }
            ExtendedType::InputObject(io) => {
                let io = io.make_mut();
                strip(&mut io.directives, &inacc);
                io.fields.retain(|_, f| !f.directives.has(&inacc));
            }
            ExtendedType::Scalar(s) => strip(&mut s.make_mut().directives, &inacc),
        }
    }
    schema.validate().map_err(|e| {
        SupergraphError::Invalid(format!(
            "the API schema derived from the supergraph is invalid:\n{}",
            e.errors
        ))
    })
}
