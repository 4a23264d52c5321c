//! Printing the composed supergraph as SDL, laid out as Apollo composition
//! lays it out: the `schema` with its `@link`s, directive definitions, then
//! every type sorted by name, each with its `@join__*` directives.

use std::fmt::Write;

use crate::access;
use crate::cost::{self, CostApp, ListSizeApp};
use crate::migrate;
use crate::model::{Composed, FieldEntry, MField, MInput, MType};
use crate::subgraph::Kind;

const LINK_DEFINITIONS: &str = r#"directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA"#;

const LINK_TYPES: &str = r#"scalar link__Import

enum link__Purpose {
  """
  `SECURITY` features provide metadata necessary to securely resolve fields.
  """
  SECURITY

  """
  `EXECUTION` features provide metadata necessary for operation execution.
  """
  EXECUTION
}"#;

const INACCESSIBLE_DEFINITION: &str = "directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION";

const TAG_DEFINITION: &str = "directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION | SCHEMA";

/// The join spec version written: v0.3 unless progressive override labels
/// (or Federation 2.7+ subgraphs) need v0.5.
fn join_version(c: &Composed) -> &'static str {
    if c.uses_override_labels() || c.max_version >= (2, 7) {
        "v0.5"
    } else {
        "v0.3"
    }
}

fn join_definitions(version: &str) -> Vec<(String, String)> {
    let v05 = version == "v0.5";
    let mut defs = vec![
        (
            "join__enumValue".to_owned(),
            "directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE".to_owned(),
        ),
        (
            "join__field".to_owned(),
            if v05 {
                "directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean, overrideLabel: String, contextArguments: [join__ContextArgument!]) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION".to_owned()
            } else {
                "directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION".to_owned()
            },
        ),
        (
            "join__graph".to_owned(),
            "directive @join__graph(name: String!, url: String!) on ENUM_VALUE".to_owned(),
        ),
        (
            "join__implements".to_owned(),
            "directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE".to_owned(),
        ),
        (
            "join__type".to_owned(),
            "directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR".to_owned(),
        ),
        (
            "join__unionMember".to_owned(),
            "directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION".to_owned(),
        ),
    ];
    if v05 {
        defs.push((
            "join__directive".to_owned(),
            "directive @join__directive(graphs: [join__Graph!], name: String!, args: join__DirectiveArguments) repeatable on SCHEMA | OBJECT | INTERFACE | FIELD_DEFINITION".to_owned(),
        ));
    }
    defs
}

fn join_types(version: &str) -> Vec<(String, String)> {
    let mut types = vec![(
        "join__FieldSet".to_owned(),
        "scalar join__FieldSet".to_owned(),
    )];
    if version == "v0.5" {
        types.push((
            "join__ContextArgument".to_owned(),
            "input join__ContextArgument {\n  name: String!\n  type: String!\n  context: String!\n  selection: join__FieldValue!\n}".to_owned(),
        ));
        types.push((
            "join__DirectiveArguments".to_owned(),
            "scalar join__DirectiveArguments".to_owned(),
        ));
        types.push((
            "join__FieldValue".to_owned(),
            "scalar join__FieldValue".to_owned(),
        ));
    }
    types
}

/// Prints the supergraph SDL.
pub(crate) fn emit(c: &Composed) -> String {
    let version = join_version(c);
    let mut out = String::new();

    // schema
    out.push_str("schema\n  @link(url: \"https://specs.apollo.dev/link/v1.0\")\n");
    let _ = writeln!(
        out,
        "  @link(url: \"https://specs.apollo.dev/join/{version}\", for: EXECUTION)"
    );
    if c.uses_tag() {
        out.push_str("  @link(url: \"https://specs.apollo.dev/tag/v0.3\")\n");
    }
    if c.uses_inaccessible() {
        out.push_str(
            "  @link(url: \"https://specs.apollo.dev/inaccessible/v0.2\", for: SECURITY)\n",
        );
    }
    for fed in &c.access_specs {
        let _ = writeln!(out, "  {}", access::link(*fed));
    }
    if let Some(spec) = &c.cost_spec {
        let _ = writeln!(out, "  {}", spec.link());
    }
    let mut links: Vec<String> = Vec::new();
    for d in &c.composed_directives {
        if let Some((url, import)) = &d.link {
            let link = match import {
                Some(i) => format!("  @link(url: {}, import: {i})", quote(url)),
                None => format!("  @link(url: {})", quote(url)),
            };
            if !links.contains(&link) {
                links.push(link);
            }
        }
    }
    for l in links {
        out.push_str(&l);
        out.push('\n');
    }
    if c.uses_migrate() {
        let _ = writeln!(out, "  {}", migrate::link());
    }
    out.push_str("{\n");
    for (op, ty) in [
        ("query", "Query"),
        ("mutation", "Mutation"),
        ("subscription", "Subscription"),
    ] {
        if c.types.contains_key(ty) {
            let _ = writeln!(out, "  {op}: {ty}");
        }
    }
    out.push_str("}\n");

    // directive definitions, sorted by name
    let mut directives: Vec<(String, String)> = join_definitions(version);
    directives.push(("link".into(), LINK_DEFINITIONS.into()));
    if c.uses_inaccessible() {
        directives.push(("inaccessible".into(), INACCESSIBLE_DEFINITION.into()));
    }
    if c.uses_tag() {
        directives.push(("tag".into(), TAG_DEFINITION.into()));
    }
    for d in &c.composed_directives {
        directives.push((d.name.clone(), d.definition.clone()));
    }
    if c.uses_migrate() {
        directives.push(("migrate".into(), migrate::DEFINITION.into()));
    }
    for fed in &c.access_specs {
        let (name, definition) = access::definition(*fed);
        directives.push((name.into(), definition.into()));
    }
    // Apollo adds both of the cost spec's directives when it links it.
    if let Some(spec) = &c.cost_spec {
        directives.push((spec.cost.clone(), cost::cost_definition(&spec.cost)));
        directives.push((
            spec.list_size.clone(),
            cost::list_size_definition(&spec.list_size),
        ));
    }
    directives.sort_by_key(|(n, _)| sort_key(n));
    for (_, d) in directives {
        out.push('\n');
        out.push_str(&d);
        out.push('\n');
    }

    // types, sorted by name
    let mut types: Vec<(String, String)> = join_types(version);
    types.push(("join__Graph".into(), graph_enum(c)));
    types.push(("link__Import".into(), "scalar link__Import".into()));
    types.push((
        "link__Purpose".into(),
        LINK_TYPES
            .trim_start_matches("scalar link__Import\n\n")
            .to_owned(),
    ));
    for fed in &c.access_specs {
        if let Some((name, definition)) = access::scalar(*fed) {
            types.push((name.into(), definition.into()));
        }
    }
    for t in c.types.values() {
        types.push((t.name.clone(), print_type(c, t)));
    }
    types.sort_by_key(|(n, _)| sort_key(n));
    for (_, t) in types {
        out.push('\n');
        out.push_str(&t);
        out.push('\n');
    }
    // As Apollo's: no newline after the last definition.
    out.pop();
    out
}

fn sort_key(name: &str) -> (String, String) {
    (name.to_lowercase(), name.to_owned())
}

fn graph_enum(c: &Composed) -> String {
    let mut s = String::from("enum join__Graph {\n");
    for g in &c.graphs {
        let _ = writeln!(
            s,
            "  {} @join__graph(name: {}, url: {})",
            g.enum_value,
            quote(&g.name),
            quote(&g.url)
        );
    }
    s.push('}');
    s
}

/// A GraphQL string literal.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A description as a block string, indented by `indent`.
fn description(d: &Option<String>, indent: &str) -> String {
    let Some(d) = d else {
        return String::new();
    };
    let escaped = d.replace("\"\"\"", "\\\"\"\"");
    if !escaped.contains('\n') && !escaped.ends_with('"') {
        format!("{indent}\"\"\"{escaped}\"\"\"\n")
    } else {
        let mut s = format!("{indent}\"\"\"\n");
        for line in escaped.lines() {
            if line.is_empty() {
                s.push('\n');
            } else {
                let _ = writeln!(s, "{indent}{line}");
            }
        }
        let _ = writeln!(s, "{indent}\"\"\"");
        s
    }
}

fn graph_name(c: &Composed, graph: usize) -> &str {
    &c.graphs[graph].enum_value
}

fn type_directives(c: &Composed, t: &MType) -> Vec<String> {
    let mut ds = Vec::new();
    for (g, i) in &t.join_implements {
        ds.push(format!(
            "@join__implements(graph: {}, interface: {})",
            graph_name(c, *g),
            quote(i)
        ));
    }
    for tg in &t.graphs {
        let extra = |s: &mut String| {
            if tg.extension {
                s.push_str(", extension: true");
            }
        };
        if tg.keys.is_empty() {
            let mut s = format!("@join__type(graph: {}", graph_name(c, tg.graph));
            extra(&mut s);
            if tg.interface_object {
                s.push_str(", isInterfaceObject: true");
            }
            s.push(')');
            ds.push(s);
        }
        for k in &tg.keys {
            let mut s = format!(
                "@join__type(graph: {}, key: {}",
                graph_name(c, tg.graph),
                quote(&k.fields)
            );
            extra(&mut s);
            if !k.resolvable {
                s.push_str(", resolvable: false");
            }
            if tg.interface_object {
                s.push_str(", isInterfaceObject: true");
            }
            s.push(')');
            ds.push(s);
        }
    }
    for (g, m) in sorted_members(t) {
        ds.push(format!(
            "@join__unionMember(graph: {}, member: {})",
            graph_name(c, g),
            quote(&m)
        ));
    }
    if t.inaccessible {
        ds.push("@inaccessible".into());
    }
    // Apollo merges an interface's access directives (propagated from its
    // implementations) before its other directives, and an object's, enum's
    // or scalar's with them (here after `@tag` and the composed ones).
    if t.kind == Kind::Interface {
        ds.extend(t.access.printed());
        ds.extend(t.directives.iter().cloned());
    } else {
        ds.extend(t.directives.iter().cloned());
        ds.extend(t.access.printed());
    }
    ds.extend(demand_directives(c, t.cost.as_ref(), None));
    ds
}

/// `@cost` and `@listSize` as the supergraph names them (Apollo adds them
/// after the join directives).
fn demand_directives(
    c: &Composed,
    cost: Option<&CostApp>,
    list_size: Option<&ListSizeApp>,
) -> Vec<String> {
    let Some(spec) = &c.cost_spec else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(app) = cost {
        out.push(format!("@{}{}", spec.cost, app.args));
    }
    if let Some(app) = list_size {
        out.push(format!("@{}{}", spec.list_size, app.args));
    }
    out
}

/// `@join__unionMember`s ordered by member, then subgraph.
fn sorted_members(t: &MType) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for m in &t.members {
        for (g, jm) in &t.join_members {
            if jm == m {
                out.push((*g, m.clone()));
            }
        }
    }
    out
}

fn print_type(c: &Composed, t: &MType) -> String {
    let mut s = description(&t.description, "");
    let keyword = match t.kind {
        Kind::Object => "type",
        Kind::Interface => "interface",
        Kind::Union => "union",
        Kind::Enum => "enum",
        Kind::InputObject => "input",
        Kind::Scalar => "scalar",
    };
    s.push_str(keyword);
    s.push(' ');
    s.push_str(&t.name);
    if !t.implements.is_empty() {
        s.push_str(" implements ");
        s.push_str(&t.implements.join(" & "));
    }
    for d in type_directives(c, t) {
        s.push_str("\n  ");
        s.push_str(&d);
    }
    match t.kind {
        Kind::Scalar => {}
        Kind::Union => {
            if !t.members.is_empty() {
                s.push_str("\n = ");
                s.push_str(&t.members.join(" | "));
            }
        }
        Kind::Enum => {
            s.push_str("\n{\n");
            let mut first = true;
            for v in t.values.values() {
                if v.description.is_some() && !first {
                    s.push('\n');
                }
                first = false;
                s.push_str(&description(&v.description, "  "));
                s.push_str("  ");
                s.push_str(&v.name);
                if v.inaccessible {
                    s.push_str(" @inaccessible");
                }
                for d in &v.directives {
                    s.push(' ');
                    s.push_str(d);
                }
                for g in &v.graphs {
                    let _ = write!(s, " @join__enumValue(graph: {})", graph_name(c, *g));
                }
                s.push('\n');
            }
            s.push('}');
        }
        Kind::InputObject => {
            s.push_str("\n{\n");
            let mut first = true;
            for f in t.input_fields.values() {
                if f.description.is_some() && !first {
                    s.push('\n');
                }
                first = false;
                s.push_str(&description(&f.description, "  "));
                s.push_str("  ");
                s.push_str(&input_value(c, f));
                s.push('\n');
            }
            s.push('}');
        }
        Kind::Object | Kind::Interface => {
            s.push_str("\n{\n");
            let graphs: Vec<usize> = t.graphs.iter().map(|g| g.graph).collect();
            let mut first = true;
            for f in t.fields.values() {
                if f.description.is_some() && !first {
                    s.push('\n');
                }
                first = false;
                s.push_str(&description(&f.description, "  "));
                s.push_str("  ");
                s.push_str(&field(c, f, &graphs));
                s.push('\n');
            }
            s.push('}');
        }
    }
    s
}

fn input_value(c: &Composed, v: &MInput) -> String {
    let mut s = format!("{}: {}", v.name, v.ty);
    if let Some(d) = &v.default {
        let _ = write!(s, " = {d}");
    }
    if v.inaccessible {
        s.push_str(" @inaccessible");
    }
    for d in &v.directives {
        s.push(' ');
        s.push_str(d);
    }
    for d in demand_directives(c, v.cost.as_ref(), None) {
        s.push(' ');
        s.push_str(&d);
    }
    s
}

fn field(c: &Composed, f: &MField, type_graphs: &[usize]) -> String {
    let mut s = f.name.clone();
    if f.args.values().any(|a| a.description.is_some()) {
        // With descriptions, one argument per line (as graphql-js prints them).
        s.push_str("(\n");
        for a in f.args.values() {
            s.push_str(&description(&a.description, "    "));
            let _ = writeln!(s, "    {}", input_value(c, a));
        }
        s.push_str("  )");
    } else if !f.args.is_empty() {
        let args: Vec<String> = f.args.values().map(|a| input_value(c, a)).collect();
        let _ = write!(s, "({})", args.join(", "));
    }
    let _ = write!(s, ": {}", f.ty);
    let access = f.access.printed();
    if f.via_interface_object {
        // Apollo sets the access directives (from the @interfaceObject
        // fields), then copies the interface field's other directives,
        // then joins.
        for d in &access {
            s.push(' ');
            s.push_str(d);
        }
    }
    if f.inaccessible {
        s.push_str(" @inaccessible");
    }
    for d in &f.directives {
        s.push(' ');
        s.push_str(d);
    }
    // Access directives come first among those Apollo merges after `@join__field`.
    let mut demand = if f.via_interface_object {
        Vec::new()
    } else {
        access
    };
    demand.extend(demand_directives(c, f.cost.as_ref(), f.list_size.as_ref()));
    let push_demand = |s: &mut String| {
        for d in &demand {
            s.push(' ');
            s.push_str(d);
        }
    };
    if f.via_interface_object {
        // Copied from the interface with its directives, then joined.
        push_demand(&mut s);
        s.push_str(" @join__field");
        return s;
    }
    let everywhere = f.entries.len() == type_graphs.len()
        && type_graphs
            .iter()
            .all(|g| f.entries.iter().any(|e| e.graph == *g));
    if !(everywhere && f.entries.iter().all(FieldEntry::is_plain)) {
        for e in &f.entries {
            s.push(' ');
            s.push_str(&join_field(c, e));
        }
    }
    push_demand(&mut s);
    // goliath's own directive, after Apollo's.
    if let Some(m) = &f.migrate {
        s.push(' ');
        s.push_str(&migrate::print(m));
    }
    s
}

fn join_field(c: &Composed, e: &FieldEntry) -> String {
    let mut s = format!("@join__field(graph: {}", graph_name(c, e.graph));
    if let Some(r) = &e.requires {
        let _ = write!(s, ", requires: {}", quote(r));
    }
    if let Some(p) = &e.provides {
        let _ = write!(s, ", provides: {}", quote(p));
    }
    if e.record_type {
        let _ = write!(s, ", type: {}", quote(&e.ty.to_string()));
    }
    if e.external {
        s.push_str(", external: true");
    }
    if let Some(o) = &e.override_from {
        let _ = write!(s, ", override: {}", quote(o));
    }
    if e.used_overridden {
        s.push_str(", usedOverridden: true");
    }
    if let Some(l) = &e.override_label {
        let _ = write!(s, ", overrideLabel: {}", quote(l));
    }
    s.push(')');
    s
}
