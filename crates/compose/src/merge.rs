//! Merging the subgraphs' types into the supergraph's.
//!
//! - Objects and interfaces: the union of their fields; each field's type is
//!   the most general of the subgraphs' (outputs), its arguments the ones
//!   every subgraph defines. `@override` decides which subgraph keeps a field.
//! - Input objects: the fields every subgraph defines, with the most
//!   restrictive types.
//! - Enums: by usage: input-only enums keep the values every subgraph
//!   defines, output-only ones all values, and enums used both ways must
//!   define the same values everywhere.
//! - Unions: the union of their members.
//! - Descriptions: the one most subgraphs agree on.

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;

use crate::access::{self, Access};
use crate::cost;
use crate::errors::{and_list, subgraphs_phrase, CompositionError, ErrorCode};
use crate::model::{
    Composed, ComposedDefinition, FieldEntry, Graph, MField, MInput, MType, MValue, TypeInGraph,
};
use crate::subgraph::{describe, Field, InputValue, Kind, Subgraph, Type};
use crate::types::TypeRef;

/// Merges checked subgraphs (sorted by name) into a supergraph model.
pub(crate) fn merge(subgraphs: &[Subgraph]) -> (Composed, Vec<CompositionError>) {
    let mut m = Merger {
        subgraphs,
        out: Composed {
            graphs: graphs(subgraphs),
            max_version: subgraphs
                .iter()
                .map(|s| {
                    // Linking the cost spec implies Federation 2.9 (Apollo upgrades).
                    if s.spec.links_cost_spec() {
                        s.spec.version.max((2, 9))
                    } else {
                        s.spec.version
                    }
                })
                .max()
                .unwrap_or((2, 0)),
            ..Default::default()
        },
        errors: Vec::new(),
        composed: composed_names(subgraphs),
    };
    m.composed_definitions();
    let order = type_order(subgraphs);
    for name in &order {
        m.merge_type_shell(name);
    }
    let usage = enum_usage(subgraphs);
    for name in &order {
        let Some(kind) = m.out.types.get(name).map(|t| t.kind) else {
            continue;
        };
        match kind {
            Kind::Object | Kind::Interface => m.merge_fields(name),
            Kind::InputObject => m.merge_input_fields(name),
            Kind::Enum => m.merge_values(name, usage.get(name)),
            Kind::Union | Kind::Scalar => {}
        }
    }
    m.interface_object_fields();
    m.out.cost_spec = cost::supergraph_use(subgraphs, &mut m.errors);
    m.out.access_specs = access::used_specs(subgraphs);
    access::propagate(subgraphs, &mut m.out);
    (m.out, m.errors)
}

/// The `join__Graph` values: subgraph names upper-cased, other characters as `_`.
fn graphs(subgraphs: &[Subgraph]) -> Vec<Graph> {
    let mut used = HashSet::new();
    subgraphs
        .iter()
        .map(|s| {
            let mut base: String = s
                .name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) {
                base.insert(0, '_');
            }
            let mut value = base.clone();
            let mut n = 1;
            while !used.insert(value.clone()) {
                value = format!("{base}_{n}");
                n += 1;
            }
            Graph {
                name: s.name.clone(),
                enum_value: value,
                url: s.url.clone(),
            }
        })
        .collect()
}

/// Type names in the order subgraphs (sorted by name) first define them.
fn type_order(subgraphs: &[Subgraph]) -> Vec<String> {
    let mut seen = IndexMap::new();
    for s in subgraphs {
        for name in s.types.keys() {
            seen.entry(name.clone()).or_insert(());
        }
    }
    seen.into_keys().collect()
}

/// Names of the directives some subgraph composes.
fn composed_names(subgraphs: &[Subgraph]) -> HashSet<String> {
    subgraphs
        .iter()
        .flat_map(|s| s.composed.iter().map(|c| c.name.clone()))
        .collect()
}

/// How each enum is used: (example input position, example output position).
type EnumUsage = HashMap<String, (Option<String>, Option<String>)>;

fn enum_usage(subgraphs: &[Subgraph]) -> EnumUsage {
    let mut usage: EnumUsage = HashMap::new();
    for s in subgraphs {
        let enums: HashSet<&str> = s
            .types
            .values()
            .filter(|t| t.kind == Kind::Enum)
            .map(|t| t.name.as_str())
            .collect();
        for t in s.types.values() {
            for f in t.fields.values() {
                if enums.contains(f.ty.base()) {
                    usage
                        .entry(f.ty.base().to_owned())
                        .or_default()
                        .1
                        .get_or_insert_with(|| format!("{}.{}", t.name, f.name));
                }
                for a in f.args.values() {
                    if enums.contains(a.ty.base()) {
                        usage
                            .entry(a.ty.base().to_owned())
                            .or_default()
                            .0
                            .get_or_insert_with(|| format!("{}.{}({}:)", t.name, f.name, a.name));
                    }
                }
            }
            for f in t.input_fields.values() {
                if enums.contains(f.ty.base()) {
                    usage
                        .entry(f.ty.base().to_owned())
                        .or_default()
                        .0
                        .get_or_insert_with(|| format!("{}.{}", t.name, f.name));
                }
            }
        }
    }
    usage
}

/// The description most definitions agree on (the first one on ties).
fn pick_description<'a>(descriptions: impl Iterator<Item = Option<&'a String>>) -> Option<String> {
    let mut counts: IndexMap<&String, usize> = IndexMap::new();
    for d in descriptions.flatten() {
        if !d.trim().is_empty() {
            *counts.entry(d).or_default() += 1;
        }
    }
    let max = counts.values().copied().max()?;
    counts
        .into_iter()
        .find(|(_, n)| *n == max)
        .map(|(d, _)| d.clone())
}

struct Merger<'a> {
    subgraphs: &'a [Subgraph],
    out: Composed,
    errors: Vec<CompositionError>,
    composed: HashSet<String>,
}

impl<'a> Merger<'a> {
    fn name(&self, graph: usize) -> &'a str {
        &self.subgraphs[graph].name
    }

    fn defs(&self, type_name: &str) -> Vec<(usize, &'a Type)> {
        let subgraphs: &'a [Subgraph] = self.subgraphs;
        subgraphs
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.types.get(type_name).map(|t| (i, t)))
            .collect()
    }

    /// Keeps the directives the supergraph carries: `@tag`, `@deprecated`,
    /// `@specifiedBy` and composed ones, without duplicates.
    /// A directive that is not repeatable appears once: the first
    /// subgraph's application wins.
    fn carry<'s>(&self, lists: impl Iterator<Item = &'s Vec<String>>) -> Vec<String> {
        let name_of = |d: &str| {
            d.trim_start_matches('@')
                .split(|c: char| c == '(' || c.is_whitespace())
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        let mut out: Vec<String> = Vec::new();
        for list in lists {
            for d in list {
                let name = name_of(d);
                let keep = matches!(name.as_str(), "tag" | "deprecated" | "specifiedBy")
                    || self.composed.contains(&name);
                if !keep || out.contains(d) {
                    continue;
                }
                let repeatable = name == "tag"
                    || self
                        .out
                        .composed_directives
                        .iter()
                        .any(|c| c.name == name && c.definition.contains(" repeatable "));
                if !repeatable && out.iter().any(|o| name_of(o) == name) {
                    continue;
                }
                out.push(d.clone());
            }
        }
        out
    }

    fn composed_definitions(&mut self) {
        let mut by_name: IndexMap<String, Vec<(usize, &crate::subgraph::ComposedDirective)>> =
            IndexMap::new();
        for (i, s) in self.subgraphs.iter().enumerate() {
            for c in &s.composed {
                by_name.entry(c.name.clone()).or_default().push((i, c));
            }
        }
        for (name, defs) in by_name {
            let first = defs[0].1;
            let urls: Vec<String> = defs
                .iter()
                .filter_map(|(_, c)| c.link.as_ref().map(|l| spec_identity(&l.0)))
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            if urls.len() > 1 {
                self.errors.push(CompositionError::new(
                    ErrorCode::DirectiveCompositionError,
                    format!(
                        "Composed directive \"@{name}\" is linked from different specs ({}) in {}",
                        and_list(&urls),
                        subgraphs_phrase(
                            &defs
                                .iter()
                                .map(|(g, _)| self.name(*g).to_owned())
                                .collect::<Vec<_>>()
                        )
                    ),
                ));
                continue;
            }
            // The highest version of the spec among the subgraphs.
            let link = defs
                .iter()
                .filter_map(|(_, c)| c.link.clone())
                .max_by(|a, b| a.0.cmp(&b.0));
            self.out.composed_directives.push(ComposedDefinition {
                name,
                definition: first.definition.clone(),
                link,
            });
        }
    }

    /// Creates the type with its kind, subgraphs, interfaces and members.
    fn merge_type_shell(&mut self, name: &str) {
        let defs = self.defs(name);
        let kind_of = |t: &Type| {
            if t.interface_object {
                Kind::Interface
            } else {
                t.kind
            }
        };
        let kind = kind_of(defs[0].1);
        if defs.iter().any(|(_, t)| kind_of(t) != kind) {
            let mut groups: IndexMap<&str, Vec<&str>> = IndexMap::new();
            for (g, t) in &defs {
                groups
                    .entry(describe(kind_of(t)))
                    .or_default()
                    .push(self.name(*g));
            }
            let parts: Vec<String> = groups
                .iter()
                .map(|(k, gs)| format!("{k} in {}", subgraphs_phrase(gs)))
                .collect();
            self.errors.push(CompositionError::new(
                ErrorCode::TypeKindMismatch,
                format!(
                    "Type \"{name}\" has mismatched kind: it is defined as {}",
                    parts.join(" but ")
                ),
            ));
            return;
        }
        if kind == Kind::Interface && defs.iter().all(|(_, t)| t.interface_object) {
            let names: Vec<&str> = defs.iter().map(|(g, _)| self.name(*g)).collect();
            self.errors.push(CompositionError::new(
                ErrorCode::InterfaceObjectUsageError,
                format!(
                    "Type \"{name}\" is declared with @interfaceObject in all the subgraphs in which is is defined (it is defined in {} but should be defined as an interface in at least one subgraph)",
                    subgraphs_phrase(&names)
                ),
            ));
            return;
        }
        let mut ty = MType::new(name, kind);
        ty.description = pick_description(defs.iter().map(|(_, t)| t.description.as_ref()));
        ty.inaccessible = defs.iter().any(|(_, t)| t.inaccessible);
        ty.directives = self.carry(defs.iter().map(|(_, t)| &t.directives));
        // `@cost` may apply to objects, enums and scalars (not to the
        // interface an @interfaceObject stands for).
        if matches!(kind, Kind::Object | Kind::Enum | Kind::Scalar) {
            ty.cost = cost::merge_cost(defs.iter().filter_map(|(_, t)| t.cost.as_ref()));
        }
        let is_root = matches!(name, "Query" | "Mutation" | "Subscription");
        for (g, t) in &defs {
            // Federation 1 `extend type`s are definitions for Apollo (only
            // `@extends` marks an extension there).
            let extension = if self.subgraphs[*g].is_fed2() {
                t.extension
            } else {
                t.extends
            };
            ty.graphs.push(TypeInGraph {
                graph: *g,
                keys: t.keys.iter().filter(|k| k.valid).cloned().collect(),
                extension: extension && !is_root && matches!(kind, Kind::Object | Kind::Interface),
                interface_object: t.interface_object,
            });
            if !t.interface_object {
                for i in &t.implements {
                    if !ty.implements.contains(i) {
                        ty.implements.push(i.clone());
                    }
                    ty.join_implements.push((*g, i.clone()));
                }
            }
            for m in &t.members {
                if !ty.members.contains(m) {
                    ty.members.push(m.clone());
                }
            }
        }
        for m in ty.members.clone() {
            for (g, t) in &defs {
                if t.members.contains(&m) {
                    ty.join_members.push((*g, m.clone()));
                }
            }
        }
        self.out.types.insert(name.to_owned(), ty);
    }

    fn merge_fields(&mut self, type_name: &str) {
        let defs = self.defs(type_name);
        let mut order: IndexMap<String, Vec<(usize, &Type, &Field)>> = IndexMap::new();
        for (g, t) in &defs {
            for f in t.fields.values() {
                order.entry(f.name.clone()).or_default().push((*g, *t, f));
            }
        }
        let kind = self.out.types[type_name].kind;
        let is_subscription = type_name == "Subscription";
        let mut fields = IndexMap::new();
        for (name, defs) in order {
            let coordinate = format!("{type_name}.{name}");
            if kind == Kind::Object {
                let through = self.interface_object_definitions(type_name, &name);
                self.check_sharing(&coordinate, &defs, &through, is_subscription);
            }
            if let Some(field) = self.merge_field(&coordinate, &name, &defs) {
                fields.insert(name, field);
            }
        }
        for f in fields.values_mut() {
            self.resolve_overrides(type_name, f);
        }
        for f in fields.values() {
            if kind == Kind::Object && !f.entries.is_empty() && f.entries.iter().all(|e| e.external)
            {
                let names: Vec<&str> = f.entries.iter().map(|e| self.name(e.graph)).collect();
                if !self.provided_by_interface_object(type_name, &f.name) {
                    self.errors.push(CompositionError::new(
                        ErrorCode::ExternalMissingOnBase,
                        format!(
                            "Field \"{type_name}.{}\" is marked @external on all the subgraphs in which it is listed ({}).",
                            f.name,
                            subgraphs_phrase(&names)
                        ),
                    ));
                }
            }
        }
        self.out.types.get_mut(type_name).unwrap().fields = fields;
    }

    fn provided_by_interface_object(&self, type_name: &str, field: &str) -> bool {
        let Some(t) = self.out.types.get(type_name) else {
            return false;
        };
        t.implements.iter().any(|i| {
            self.subgraphs.iter().any(|s| {
                s.types.get(i).is_some_and(|it| {
                    it.interface_object && it.fields.get(field).is_some_and(|f| !f.external)
                })
            })
        })
    }

    /// INVALID_FIELD_SHARING: a field resolved by several subgraphs must be
    /// shareable in all of them (key fields and Federation 1 fields are).
    /// The definitions of `type_name.field` that `@interfaceObject`s of the
    /// type's interfaces provide: `(graph, interface, field)`.
    fn interface_object_definitions(
        &self,
        type_name: &str,
        field: &str,
    ) -> Vec<(usize, String, &'a Field)> {
        let subgraphs: &'a [Subgraph] = self.subgraphs;
        let implements = &self.out.types[type_name].implements;
        let mut out = Vec::new();
        for (g, s) in subgraphs.iter().enumerate() {
            for i in implements {
                if let Some(f) = s
                    .types
                    .get(i)
                    .filter(|t| t.interface_object)
                    .and_then(|t| t.fields.get(field))
                {
                    out.push((g, i.clone(), f));
                }
            }
        }
        out
    }

    fn check_sharing(
        &mut self,
        coordinate: &str,
        defs: &[(usize, &Type, &Field)],
        through: &[(usize, String, &Field)],
        subscription: bool,
    ) {
        if subscription {
            if defs.len() > 1 {
                self.errors.push(CompositionError::new(
                    ErrorCode::InvalidFieldSharing,
                    format!("Fields on root level subscription object cannot be marked as shareable (field \"{coordinate}\" is defined in {})",
                        subgraphs_phrase(&defs.iter().map(|(g, _, _)| self.name(*g)).collect::<Vec<_>>())),
                ));
            }
            return;
        }
        if defs.iter().all(|(_, _, f)| f.used_as_key) {
            return;
        }
        let mut resolvable = Vec::new();
        let mut non_shareable = Vec::new();
        for (g, _, f) in defs {
            if f.external {
                continue;
            }
            if let Some(from) = &f.override_from {
                if defs.iter().any(|(og, _, _)| self.name(*og) == from) {
                    continue;
                }
            }
            // A migration's new subgraph shares the field with its source.
            if let Some(m) = &f.migrate {
                if defs.iter().any(|(og, _, _)| self.name(*og) == m.from) {
                    continue;
                }
            }
            resolvable.push(format!("\"{}\"", self.name(*g)));
            if !(f.shareable || f.used_as_key) {
                non_shareable.push(self.name(*g));
            }
        }
        if !non_shareable.is_empty() || through.iter().any(|(_, _, f)| !f.shareable) {
            for (g, iface, f) in through {
                if f.external || f.used_as_key {
                    continue;
                }
                let field = coordinate.rsplit('.').next().unwrap_or_default();
                resolvable.push(format!(
                    "\"{}\" (through @interfaceObject field \"{iface}.{field}\")",
                    self.name(*g)
                ));
                if !f.shareable {
                    non_shareable.push(self.name(*g));
                }
            }
        }
        if !non_shareable.is_empty() && resolvable.len() > 1 {
            let which = if non_shareable.len() == resolvable.len() {
                "all of them".to_owned()
            } else {
                subgraphs_phrase(&non_shareable)
            };
            self.errors.push(CompositionError::new(
                ErrorCode::InvalidFieldSharing,
                format!(
                    "Non-shareable field \"{coordinate}\" is resolved from multiple subgraphs: it is resolved from subgraphs {} and defined as non-shareable in {which}",
                    join_and(&resolvable)
                ),
            ));
        }
    }

    fn merge_field(
        &mut self,
        coordinate: &str,
        name: &str,
        defs: &[(usize, &Type, &Field)],
    ) -> Option<MField> {
        let resolving: Vec<&(usize, &Type, &Field)> =
            defs.iter().filter(|(_, _, f)| !f.external).collect();
        let candidates: Vec<&(usize, &Type, &Field)> = if resolving.is_empty() {
            defs.iter().collect()
        } else {
            resolving
        };
        let sub_of = |a: &str, b: &str| self.out.is_possible_type(a, b);
        let ty = candidates
            .iter()
            .map(|(_, _, f)| &f.ty)
            .find(|sup| {
                candidates
                    .iter()
                    .all(|(_, _, f)| f.ty.is_output_subtype_of(sup, &sub_of))
            })
            .cloned();
        let Some(ty) = ty else {
            self.errors.push(CompositionError::new(
                ErrorCode::FieldTypeMismatch,
                type_mismatch_message(
                    coordinate,
                    candidates.iter().map(|(g, _, f)| (self.name(*g), &f.ty)),
                ),
            ));
            return None;
        };
        let record_type = defs.iter().any(|(_, _, f)| f.ty != ty);
        let entries = defs
            .iter()
            .map(|(g, _, f)| FieldEntry {
                graph: *g,
                ty: f.ty.clone(),
                record_type,
                external: f.external,
                requires: f.requires.clone(),
                provides: f.provides.clone(),
                override_from: f.override_from.clone(),
                override_label: f.override_label.clone(),
                used_overridden: false,
            })
            .collect();
        let arg_defs: Vec<(usize, &IndexMap<String, InputValue>)> =
            candidates.iter().map(|(g, _, f)| (*g, &f.args)).collect();
        let args = self.merge_inputs(coordinate, &arg_defs, InputsOf::Arguments);
        let type_name = coordinate.split('.').next().unwrap_or_default();
        let migrate = defs.iter().find_map(|(g, _, f)| {
            let app = f.migrate.as_ref()?;
            crate::migrate::migration(type_name, name, self.name(*g), app)
        });
        Some(MField {
            name: name.to_owned(),
            description: pick_description(defs.iter().map(|(_, _, f)| f.description.as_ref())),
            ty,
            args,
            entries,
            via_interface_object: false,
            inaccessible: defs.iter().any(|(_, _, f)| f.inaccessible),
            directives: self.carry(defs.iter().map(|(_, _, f)| &f.directives)),
            // As Apollo: from the definitions that resolve the field.
            cost: cost::merge_cost(candidates.iter().filter_map(|(_, _, f)| f.cost.as_ref())),
            list_size: cost::merge_list_size(
                candidates
                    .iter()
                    .filter_map(|(_, _, f)| f.list_size.as_ref()),
            ),
            // Set with the propagation, once every type is merged.
            access: Access::default(),
            migrate,
        })
    }

    /// Merges arguments or input fields: those every definition has, with the
    /// most restrictive type.
    fn merge_inputs(
        &mut self,
        owner: &str,
        defs: &[(usize, &IndexMap<String, InputValue>)],
        of: InputsOf,
    ) -> IndexMap<String, MInput> {
        let mut order: IndexMap<&str, Vec<(usize, &InputValue)>> = IndexMap::new();
        for (g, inputs) in defs {
            for v in inputs.values() {
                order.entry(v.name.as_str()).or_default().push((*g, v));
            }
        }
        let mut out = IndexMap::new();
        for (name, present) in order {
            let coordinate = match of {
                InputsOf::Arguments => format!("{owner}({name}:)"),
                InputsOf::InputFields => format!("{owner}.{name}"),
            };
            if present.len() < defs.len() {
                let required: Vec<&str> = present
                    .iter()
                    .filter(|(_, v)| v.ty.is_non_null() && v.default.is_none())
                    .map(|(g, _)| self.name(*g))
                    .collect();
                if !required.is_empty() {
                    let missing: Vec<&str> = defs
                        .iter()
                        .filter(|(g, _)| !present.iter().any(|(pg, _)| pg == g))
                        .map(|(g, _)| self.name(*g))
                        .collect();
                    let (code, what) = match of {
                        InputsOf::Arguments => {
                            (ErrorCode::RequiredArgumentMissingInSomeSubgraph, "Argument")
                        }
                        InputsOf::InputFields => (
                            ErrorCode::RequiredInputFieldMissingInSomeSubgraph,
                            "Input object field",
                        ),
                    };
                    self.errors.push(CompositionError::new(
                        code,
                        format!(
                            "{what} \"{coordinate}\" is required in some subgraphs but does not appear in all subgraphs: it is required in {} but does not appear in {}",
                            subgraphs_phrase(&required),
                            subgraphs_phrase(&missing)
                        ),
                    ));
                }
                continue;
            }
            let ty = present
                .iter()
                .map(|(_, v)| &v.ty)
                .find(|sub| present.iter().all(|(_, v)| sub.is_input_subtype_of(&v.ty)))
                .cloned();
            let Some(ty) = ty else {
                let code = match of {
                    InputsOf::Arguments => ErrorCode::FieldArgumentTypeMismatch,
                    InputsOf::InputFields => ErrorCode::FieldTypeMismatch,
                };
                let message = match of {
                    InputsOf::Arguments => format!(
                        "Type of argument \"{coordinate}\" is incompatible across subgraphs: it has {}",
                        type_groups(present.iter().map(|(g, v)| (self.name(*g), &v.ty)))
                    ),
                    InputsOf::InputFields => type_mismatch_message(
                        &coordinate,
                        present.iter().map(|(g, v)| (self.name(*g), &v.ty)),
                    ),
                };
                self.errors.push(CompositionError::new(code, message));
                continue;
            };
            let defaults: Vec<&String> = present
                .iter()
                .filter_map(|(_, v)| v.default.as_ref())
                .collect::<Vec<_>>();
            let mut distinct = defaults.clone();
            distinct.dedup();
            if distinct.len() > 1 || (!defaults.is_empty() && defaults.len() < present.len()) {
                let code = match of {
                    InputsOf::Arguments => ErrorCode::FieldArgumentDefaultMismatch,
                    InputsOf::InputFields => ErrorCode::InputFieldDefaultMismatch,
                };
                let parts: Vec<String> = present
                    .iter()
                    .map(|(g, v)| match &v.default {
                        Some(d) => format!("default value {d} in subgraph \"{}\"", self.name(*g)),
                        None => format!("no default value in subgraph \"{}\"", self.name(*g)),
                    })
                    .collect();
                self.errors.push(CompositionError::new(
                    code,
                    format!(
                        "{} \"{coordinate}\" has incompatible default values across subgraphs: it has {}",
                        match of {
                            InputsOf::Arguments => "Argument",
                            InputsOf::InputFields => "Input field",
                        },
                        parts.join(" but ")
                    ),
                ));
            }
            out.insert(
                name.to_owned(),
                MInput {
                    name: name.to_owned(),
                    description: pick_description(
                        present.iter().map(|(_, v)| v.description.as_ref()),
                    ),
                    ty,
                    default: defaults.first().map(|d| (*d).clone()),
                    inaccessible: present.iter().any(|(_, v)| v.inaccessible),
                    directives: self.carry(present.iter().map(|(_, v)| &v.directives)),
                    cost: cost::merge_cost(present.iter().filter_map(|(_, v)| v.cost.as_ref())),
                },
            );
        }
        out
    }

    /// Applies `@override`: the overridden subgraph loses the field (or keeps
    /// it with `usedOverridden` when its keys, requires or interfaces use it,
    /// or with the label for progressive overrides).
    fn resolve_overrides(&mut self, type_name: &str, field: &mut MField) {
        let coordinate = format!("{type_name}.{}", field.name);
        let overriding: Vec<usize> = (0..field.entries.len())
            .filter(|i| field.entries[*i].override_from.is_some())
            .collect();
        let mut remove = Vec::new();
        for i in overriding {
            let from = field.entries[i].override_from.clone().unwrap();
            let target = field.entries[i].graph;
            let Some(src_graph) = self.subgraphs.iter().position(|s| s.name == from) else {
                // Overriding a subgraph that does not exist: nothing to take over.
                field.entries[i].override_from = None;
                field.entries[i].override_label = None;
                continue;
            };
            if src_graph == target {
                field.entries[i].override_from = None;
                field.entries[i].override_label = None;
                continue;
            }
            let Some(j) = field.entries.iter().position(|e| e.graph == src_graph) else {
                continue;
            };
            if field.entries[j].override_from.is_some() {
                self.errors.push(CompositionError::new(
                    ErrorCode::OverrideSourceHasOverride,
                    format!(
                        "Field \"{coordinate}\" on subgraph \"{}\" is also marked with directive @override in subgraph \"{from}\". Only one @override directive is allowed per field.",
                        self.name(target)
                    ),
                ));
                continue;
            }
            let src = &field.entries[j];
            let collision = if src.requires.is_some() {
                Some("@requires")
            } else if src.provides.is_some() {
                Some("@provides")
            } else {
                None
            };
            if let Some(directive) = collision {
                self.errors.push(CompositionError::new(
                    ErrorCode::OverrideCollisionWithAnotherDirective,
                    format!(
                        "@override cannot be used on field \"{coordinate}\" on subgraph \"{}\" since \"{coordinate}\" on \"{from}\" is marked with directive \"{directive}\"",
                        self.name(target)
                    ),
                ));
                continue;
            }
            if let Some(label) = field.entries[i].override_label.clone() {
                field.entries[j].override_label = Some(label);
            } else if self.used_in_subgraph(src_graph, type_name, &field.name) {
                field.entries[j].used_overridden = true;
            } else {
                remove.push(src_graph);
            }
        }
        field.entries.retain(|e| !remove.contains(&e.graph));
    }

    /// Does subgraph `graph` use `type_name.field` itself (keys, requires, interfaces)?
    fn used_in_subgraph(&self, graph: usize, type_name: &str, field: &str) -> bool {
        let s = &self.subgraphs[graph];
        let Some(t) = s.types.get(type_name) else {
            return false;
        };
        let Some(f) = t.fields.get(field) else {
            return false;
        };
        f.used_as_key
            || f.used_in_requires
            || t.implements.iter().any(|i| s.field(i, field).is_some())
    }

    fn merge_input_fields(&mut self, type_name: &str) {
        let defs = self.defs(type_name);
        let inputs: Vec<(usize, &IndexMap<String, InputValue>)> =
            defs.iter().map(|(g, t)| (*g, &t.input_fields)).collect();
        let fields = self.merge_inputs(type_name, &inputs, InputsOf::InputFields);
        if fields.is_empty() {
            self.errors.push(CompositionError::new(
                ErrorCode::EmptyMergedInputType,
                format!(
                    "None of the fields of input object type \"{type_name}\" are consistently defined in all the subgraphs defining that type. As only fields common to all subgraphs are merged, this would result in an empty type."
                ),
            ));
        }
        self.out.types.get_mut(type_name).unwrap().input_fields = fields;
    }

    fn merge_values(&mut self, type_name: &str, usage: Option<&(Option<String>, Option<String>)>) {
        let defs = self.defs(type_name);
        let (input, output) = usage.cloned().unwrap_or_default();
        let mut order: IndexMap<String, Vec<(usize, &crate::subgraph::EnumValue)>> =
            IndexMap::new();
        for (g, t) in &defs {
            for v in t.values.values() {
                order.entry(v.name.clone()).or_default().push((*g, v));
            }
        }
        let mut values = IndexMap::new();
        for (name, present) in order {
            let everywhere = present.len() == defs.len();
            let inaccessible = present.iter().any(|(_, v)| v.inaccessible);
            match (&input, &output) {
                (Some(_), None) if !everywhere => continue,
                (Some(i), Some(o)) if !everywhere && !inaccessible => {
                    let missing: Vec<&str> = defs
                        .iter()
                        .filter(|(g, _)| !present.iter().any(|(pg, _)| pg == g))
                        .map(|(g, _)| self.name(*g))
                        .collect();
                    let has: Vec<&str> = present.iter().map(|(g, _)| self.name(*g)).collect();
                    self.errors.push(CompositionError::new(
                        ErrorCode::EnumValueMismatch,
                        format!(
                            "Enum type \"{type_name}\" is used as both input type (for example, as type of \"{i}\") and output type (for example, as type of \"{o}\"), but value \"{name}\" is not defined in all the subgraphs defining \"{type_name}\": \"{name}\" is defined in {} but not in {}",
                            subgraphs_phrase(&has),
                            subgraphs_phrase(&missing)
                        ),
                    ));
                }
                _ => {}
            }
            values.insert(
                name.clone(),
                MValue {
                    name,
                    description: pick_description(
                        present.iter().map(|(_, v)| v.description.as_ref()),
                    ),
                    graphs: present.iter().map(|(g, _)| *g).collect(),
                    inaccessible,
                    directives: self.carry(present.iter().map(|(_, v)| &v.directives)),
                },
            );
        }
        if values.is_empty() {
            self.errors.push(CompositionError::new(
                ErrorCode::EmptyMergedEnumType,
                format!(
                    "None of the values of enum type \"{type_name}\" are defined consistently in all the subgraphs defining that type. As only values common to all subgraphs are merged, this would result in an empty type."
                ),
            ));
        }
        self.out.types.get_mut(type_name).unwrap().values = values;
    }

    /// Fields an `@interfaceObject` adds to an interface are added to every
    /// implementation that lacks them, with a bare `@join__field`.
    fn interface_object_fields(&mut self) {
        let mut additions: Vec<(String, MField)> = Vec::new();
        for iface in self.out.types.values() {
            if iface.kind != Kind::Interface || !iface.graphs.iter().any(|g| g.interface_object) {
                continue;
            }
            let io_graphs: HashSet<usize> = iface
                .graphs
                .iter()
                .filter(|g| g.interface_object)
                .map(|g| g.graph)
                .collect();
            for obj in self.out.types.values() {
                if obj.kind != Kind::Object || !obj.implements.contains(&iface.name) {
                    continue;
                }
                for f in iface.fields.values() {
                    if obj.fields.contains_key(&f.name)
                        || !f.entries.iter().any(|e| io_graphs.contains(&e.graph))
                    {
                        continue;
                    }
                    let mut added = f.clone();
                    added.entries.clear();
                    added.via_interface_object = true;
                    additions.push((obj.name.clone(), added));
                }
            }
        }
        for (obj, f) in additions {
            let t = self.out.types.get_mut(&obj).unwrap();
            t.fields.entry(f.name.clone()).or_insert(f);
        }
    }
}

#[derive(Clone, Copy)]
enum InputsOf {
    Arguments,
    InputFields,
}

/// `https://example.com/spec` for `https://example.com/spec/v1.0`.
fn spec_identity(url: &str) -> String {
    match url.rsplit_once('/') {
        Some((base, v)) if v.starts_with('v') => base.to_owned(),
        _ => url.to_owned(),
    }
}

/// `type "A" in subgraph "x" but type "B" in subgraphs "y" and "z"`.
fn type_groups<'a>(types: impl Iterator<Item = (&'a str, &'a TypeRef)>) -> String {
    let mut groups: IndexMap<String, Vec<&str>> = IndexMap::new();
    for (g, t) in types {
        groups.entry(t.to_string()).or_default().push(g);
    }
    groups
        .iter()
        .map(|(t, gs)| format!("type \"{t}\" in {}", subgraphs_phrase(gs)))
        .collect::<Vec<_>>()
        .join(" but ")
}

fn type_mismatch_message<'a>(
    coordinate: &str,
    types: impl Iterator<Item = (&'a str, &'a TypeRef)>,
) -> String {
    format!(
        "Type of field \"{coordinate}\" is incompatible across subgraphs: it has {}",
        type_groups(types)
    )
}

/// `a, b and c` (items already quoted).
fn join_and(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
    }
}
