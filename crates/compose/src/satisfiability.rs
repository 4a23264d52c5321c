//! A basic satisfiability check: can every field a client may query be
//! resolved by some subgraph, once the query has got to its parent type?
//!
//! What is checked: starting from the root types in every subgraph, a type
//! is *reached in subgraph G* when a field G resolves returns it (for
//! abstract types: their implementations or members in G), or when it is
//! reached in some subgraph whose fields cover a resolvable `@key` of the
//! type in G (an entity jump; `@interfaceObject` types jump the same way
//! between an interface and its interface objects). Then every field of
//! every object type the API schema can reach must be resolvable (defined,
//! not `@external`, not overridden) in at least one subgraph where its type
//! is reached; fields that `@interfaceObject`s add to implementations need
//! the interface object's subgraph to be reached.
//!
//! What is not checked: that *every* path to a type can resolve each field
//! (a type reached in subgraph A through one path and in B through another
//! counts as reached in both), `@requires` conditions, and `@provides`
//! paths. These are the cases Apollo's full satisfiability check also
//! covers; goliath's planner reports them at query time instead.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::errors::{CompositionError, ErrorCode};
use crate::model::{Composed, MField, MType};
use crate::subgraph::Kind;

/// A type reached in a subgraph.
type State = (String, usize);

/// Checks that every API field can be resolved from where it is reached.
pub(crate) fn check(c: &Composed) -> Vec<CompositionError> {
    let reached = reach(c);
    let mut errors = Vec::new();
    for (path, t) in api_types(c) {
        if t.kind != Kind::Object || t.inaccessible {
            continue;
        }
        // A possible type of an abstract type no subgraph ever returns: a
        // fragment on it never matches, nothing to resolve.
        if !t
            .graphs
            .iter()
            .any(|g| reached.contains(&(t.name.clone(), g.graph)))
        {
            continue;
        }
        for f in t.fields.values() {
            if f.inaccessible || field_satisfied(c, &reached, t, f) {
                continue;
            }
            errors.push(error(c, &reached, &path, t, f));
        }
    }
    errors
}

/// Whether `graph` resolves `t.f` itself.
fn resolves(f: &MField, graph: usize) -> bool {
    f.entries
        .iter()
        .any(|e| e.graph == graph && !e.external && !e.used_overridden)
}

fn field_satisfied(c: &Composed, reached: &HashSet<State>, t: &MType, f: &MField) -> bool {
    if f.via_interface_object {
        return t.implements.iter().any(|i| {
            c.types.get(i).is_some_and(|it| {
                it.fields.get(&f.name).is_some_and(|iface_field| {
                    it.graphs.iter().any(|g| {
                        g.interface_object
                            && resolves(iface_field, g.graph)
                            && reached.contains(&(i.clone(), g.graph))
                    })
                })
            })
        });
    }
    t.graphs
        .iter()
        .any(|g| reached.contains(&(t.name.clone(), g.graph)) && resolves(f, g.graph))
}

/// Every (type, subgraph) pair a query can get to.
fn reach(c: &Composed) -> HashSet<State> {
    let mut reached: HashSet<State> = HashSet::new();
    let mut queue: VecDeque<State> = VecDeque::new();
    let push = |s: State, reached: &mut HashSet<State>, queue: &mut VecDeque<State>| {
        if reached.insert(s.clone()) {
            queue.push_back(s);
        }
    };
    for root in ["Query", "Mutation", "Subscription"] {
        if let Some(t) = c.types.get(root) {
            for g in &t.graphs {
                push((root.to_owned(), g.graph), &mut reached, &mut queue);
            }
        }
    }
    while let Some((name, graph)) = queue.pop_front() {
        let Some(t) = c.types.get(&name) else {
            continue;
        };
        let Some(here) = t.in_graph(graph) else {
            continue;
        };
        // Down the fields this subgraph resolves.
        for f in t.fields.values() {
            if !resolves(f, graph) {
                continue;
            }
            for s in entered(c, f.ty.base(), graph) {
                push(s, &mut reached, &mut queue);
            }
        }
        // A real interface reached: its implementations in this subgraph.
        if t.kind == Kind::Interface && !here.interface_object {
            for s in entered(c, &name, graph) {
                push(s, &mut reached, &mut queue);
            }
        }
        // Entity jumps to the other subgraphs of this type.
        let mut targets: Vec<&MType> = vec![t];
        for i in &t.implements {
            if let Some(it) = c.types.get(i) {
                targets.push(it);
            }
        }
        for target in targets {
            for tg in &target.graphs {
                if tg.graph == graph {
                    continue;
                }
                let covered = tg.keys.iter().any(|k| {
                    k.resolvable
                        && key_fields(&k.fields)
                            .iter()
                            .all(|kf| available(t, kf, graph))
                });
                if covered {
                    push((target.name.clone(), tg.graph), &mut reached, &mut queue);
                }
            }
        }
    }
    reached
}

/// The states a field returning `ty` in `graph` leads to.
fn entered(c: &Composed, ty: &str, graph: usize) -> Vec<State> {
    let Some(t) = c.types.get(ty) else {
        return vec![];
    };
    let Some(tg) = t.in_graph(graph) else {
        return vec![];
    };
    match t.kind {
        Kind::Object => vec![(ty.to_owned(), graph)],
        Kind::Interface => {
            let mut out = vec![(ty.to_owned(), graph)];
            if !tg.interface_object {
                for o in c.types.values() {
                    if o.join_implements
                        .iter()
                        .any(|(g, i)| *g == graph && i == ty)
                    {
                        out.push((o.name.clone(), graph));
                    }
                }
            }
            out
        }
        Kind::Union => t
            .join_members
            .iter()
            .filter(|(g, _)| *g == graph)
            .map(|(_, m)| (m.clone(), graph))
            .collect(),
        _ => vec![],
    }
}

/// Can `graph` give the value of `t.field` for a representation?
fn available(t: &MType, field: &str, graph: usize) -> bool {
    if field == "__typename" {
        return true;
    }
    t.fields
        .get(field)
        .is_some_and(|f| f.entries.iter().any(|e| e.graph == graph) || t.graphs.len() == 1)
}

/// The top-level field names of a key's field set.
fn key_fields(fields: &str) -> Vec<String> {
    match crate::fieldset::parse(fields) {
        Ok(sels) => sels
            .iter()
            .filter_map(|s| match s {
                crate::fieldset::Sel::Field { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect(),
        Err(_) => vec![],
    }
}

/// A path from a root field.
#[derive(Clone, Default)]
struct Path(Vec<(String, Option<String>)>);

/// API-reachable types (from the roots, following fields, implementations
/// and members), each with one path that reaches it.
fn api_types(c: &Composed) -> Vec<(Path, &MType)> {
    let mut seen: HashMap<String, Path> = HashMap::new();
    let mut order = Vec::new();
    let mut queue: VecDeque<String> = VecDeque::new();
    for root in ["Query", "Mutation", "Subscription"] {
        if c.types.contains_key(root) {
            let mut p = Path::default();
            p.0.push((root.to_lowercase(), None));
            seen.insert(root.to_owned(), p);
            order.push(root.to_owned());
            queue.push_back(root.to_owned());
        }
    }
    while let Some(name) = queue.pop_front() {
        let t = &c.types[&name];
        let path = seen[&name].clone();
        let mut next: Vec<(String, Path)> = Vec::new();
        for f in t.fields.values() {
            if f.inaccessible {
                continue;
            }
            let mut p = path.clone();
            p.0.push((f.name.clone(), None));
            next.push((f.ty.base().to_owned(), p));
        }
        let possible: Vec<String> = match t.kind {
            Kind::Union => t.members.clone(),
            Kind::Interface => c
                .types
                .values()
                .filter(|o| o.kind == Kind::Object && o.implements.contains(&name))
                .map(|o| o.name.clone())
                .collect(),
            _ => vec![],
        };
        for o in possible {
            let mut p = path.clone();
            if let Some(last) = p.0.last_mut() {
                last.1 = Some(o.clone());
            }
            next.push((o, p));
        }
        for (ty, p) in next {
            let Some(target) = c.types.get(&ty) else {
                continue;
            };
            if target.inaccessible
                || !matches!(target.kind, Kind::Object | Kind::Interface | Kind::Union)
            {
                continue;
            }
            if !seen.contains_key(&ty) {
                seen.insert(ty.clone(), p);
                order.push(ty.clone());
                queue.push_back(ty);
            }
        }
    }
    order
        .into_iter()
        .map(|n| (seen[&n].clone(), &c.types[&n]))
        .collect()
}

fn error(
    c: &Composed,
    reached: &HashSet<State>,
    path: &Path,
    t: &MType,
    f: &MField,
) -> CompositionError {
    // The example query: the path's fields nested, ending with the field.
    let mut steps: Vec<String> = Vec::new();
    for (i, (name, on)) in path.0.iter().enumerate() {
        if i > 0 {
            steps.push(name.clone());
        }
        if let Some(o) = on {
            steps.push(format!("... on {o}"));
        }
    }
    steps.push(f.name.clone());
    let mut query = String::from("{\n");
    for (depth, s) in steps.iter().enumerate() {
        let indent = "  ".repeat(depth + 1);
        if depth + 1 == steps.len() {
            query.push_str(&format!("{indent}{s}\n"));
        } else {
            query.push_str(&format!("{indent}{s} {{\n"));
        }
    }
    for depth in (0..steps.len().saturating_sub(1)).rev() {
        query.push_str(&format!("{}}}\n", "  ".repeat(depth + 1)));
    }
    query.push('}');
    let mut reasons = Vec::new();
    for tg in &t.graphs {
        let g = &c.graphs[tg.graph].name;
        let is_reached = reached.contains(&(t.name.clone(), tg.graph));
        if is_reached {
            reasons.push(format!(
                "- from subgraph \"{g}\": cannot find field \"{}.{}\".",
                t.name, f.name
            ));
        } else if resolves(f, tg.graph) {
            reasons.push(format!(
                "- from subgraph \"{g}\": type \"{}\" is never reached in subgraph \"{g}\" (no field of \"{g}\" returns it, and no key of \"{}\" in \"{g}\" can be resolved from the subgraphs where it is reached), so field \"{}.{}\" cannot be resolved there.",
                t.name, t.name, t.name, f.name
            ));
        }
    }
    if f.via_interface_object {
        reasons.push(format!(
            "- field \"{}.{}\" comes from an @interfaceObject whose subgraph cannot be reached.",
            t.name, f.name
        ));
    }
    CompositionError::new(
        ErrorCode::SatisfiabilityError,
        format!(
            "The following supergraph API query:\n{query}\ncannot be satisfied by the subgraphs because:\n{}",
            reasons.join("\n")
        ),
    )
}
