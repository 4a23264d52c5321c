//! SDL for each subgraph (its part of the schema, with Federation's
//! directives) and for the oracle (the whole schema, none).

use std::fmt::Write;

use crate::model::{Field, How, Kind, Schema, TypeDef};

const LINK: &str = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.3\", import: [\"@key\", \"@shareable\", \"@external\", \"@requires\", \"@provides\", \"@override\", \"@interfaceObject\"])\n";

fn args_sdl(field: &Field) -> String {
    if field.args.is_empty() {
        return String::new();
    }
    let args: Vec<String> = field
        .args
        .iter()
        .map(|a| format!("{}: Int = {}", a.name, a.default))
        .collect();
    format!("({})", args.join(", "))
}

/// A field's definition in subgraph `s` (`None`: the oracle).
fn field_sdl(field: &Field, s: Option<usize>, on_interface: bool) -> String {
    let mut out = format!("  {}{}: {}", field.name, args_sdl(field), field.ty.sdl());
    let Some(s) = s else {
        return out + "\n";
    };
    if !on_interface {
        match field.home(s) {
            Some(How::Shared) => out.push_str(" @shareable"),
            Some(How::External) => out.push_str(" @external"),
            Some(How::OverrideFrom(from)) => {
                let _ = write!(
                    out,
                    " @override(from: \"{}\")",
                    Schema::subgraph_name(*from)
                );
            }
            _ => {}
        }
        if let Some(r) = &field.requires {
            let set = match &r.arg {
                Some((name, value)) => format!("{}({name}: {value})", r.field),
                None => r.field.clone(),
            };
            let _ = write!(out, " @requires(fields: \"{set}\")");
        }
        if let Some(p) = &field.provides {
            let _ = write!(out, " @provides(fields: \"{}\")", p.field_set());
        }
    }
    out + "\n"
}

fn keys_sdl(t: &TypeDef, keys: &[usize], resolvable: bool) -> String {
    keys.iter()
        .map(|&k| {
            let fields = t.keys[k].join(" ");
            if resolvable {
                format!(" @key(fields: \"{fields}\")")
            } else {
                format!(" @key(fields: \"{fields}\", resolvable: false)")
            }
        })
        .collect()
}

/// The SDL of subgraph `s`.
pub fn subgraph(schema: &Schema, s: usize) -> String {
    let mut out = String::from(LINK);
    let root: Vec<&Field> = schema
        .query
        .iter()
        .filter(|f| f.home(s).is_some())
        .collect();
    if !root.is_empty() {
        out.push_str("\ntype Query {\n");
        for f in root {
            out.push_str(&field_sdl(f, Some(s), false));
        }
        out.push_str("}\n");
    }
    for t in &schema.types {
        let Some(place) = t.place(s) else { continue };
        let fields: String = t
            .fields
            .iter()
            .filter(|f| f.home(s).is_some() && !(f.interface_object && t.kind == Kind::Object))
            .map(|f| {
                field_sdl(
                    f,
                    Some(s),
                    t.kind == Kind::Interface && !place.interface_object,
                )
            })
            .collect();
        match t.kind {
            Kind::Object => {
                let implements: Vec<&str> = schema
                    .types
                    .iter()
                    .filter(|i| {
                        i.kind == Kind::Interface
                            && i.place(s)
                                .is_some_and(|p| !p.interface_object && p.related.contains(&t.name))
                    })
                    .map(|i| i.name.as_str())
                    .collect();
                let implements = if implements.is_empty() {
                    String::new()
                } else {
                    format!(" implements {}", implements.join(" & "))
                };
                let keys = keys_sdl(t, &place.keys, place.resolvable);
                let _ = write!(out, "\ntype {}{implements}{keys} {{\n{fields}}}\n", t.name);
            }
            Kind::Interface if place.interface_object => {
                let keys = keys_sdl(t, &place.keys, true);
                let _ = write!(
                    out,
                    "\ntype {}{keys} @interfaceObject {{\n{fields}}}\n",
                    t.name
                );
            }
            Kind::Interface => {
                let keys = keys_sdl(t, &place.keys, true);
                let _ = write!(out, "\ninterface {}{keys} {{\n{fields}}}\n", t.name);
            }
            Kind::Union => {
                let _ = write!(out, "\nunion {} = {}\n", t.name, place.related.join(" | "));
            }
        }
    }
    out
}

/// The SDL of the unsplit schema.
pub fn oracle(schema: &Schema) -> String {
    let mut out = String::from("type Query {\n");
    for f in &schema.query {
        out.push_str(&field_sdl(f, None, false));
    }
    out.push_str("}\n");
    for t in &schema.types {
        let fields: String = t.fields.iter().map(|f| field_sdl(f, None, false)).collect();
        match t.kind {
            Kind::Object => {
                let implements = if t.related.is_empty() {
                    String::new()
                } else {
                    format!(" implements {}", t.related.join(" & "))
                };
                let _ = write!(out, "\ntype {}{implements} {{\n{fields}}}\n", t.name);
            }
            Kind::Interface => {
                let _ = write!(out, "\ninterface {} {{\n{fields}}}\n", t.name);
            }
            Kind::Union => {
                let _ = write!(out, "\nunion {} = {}\n", t.name, t.related.join(" | "));
            }
        }
    }
    out
}
