//! The planning algorithm.
//!
//! The planner walks the operation's selections with a *current fetch
//! group* (one future subgraph request). A field the group's subgraph can
//! resolve is added to the group. A field it cannot resolve needs an
//! *entity jump*: the parent object's key (and the field's `@requires`) are
//! planned at the same position, as if the client had selected them, and
//! the field goes into an `_entities` group of a subgraph that can resolve
//! it, which depends on the groups that provide the key and the required
//! fields. Abstract positions are split by runtime type, so that each
//! object type takes its own path. Groups for the same subgraph at the same
//! response path are merged unless merging would create a cycle. Finally
//! groups are ordered by their dependencies into sequence/parallel stages.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use apollo_compiler::ast::{DirectiveList, OperationType};
use apollo_compiler::executable::{ExecutableDocument, Operation};
use apollo_compiler::Name;
use goliath_supergraph::{FieldInGraph, FieldInfo, GraphId, Key, Supergraph, TypeKind};

use crate::plan::{ConditionNode, FetchNode, FlattenNode, PathElement, PlanNode, QueryPlan};
use crate::selection::{
    self, at_path, from_executable, merge_into, write_selections, Field, Fragment, Selection, Step,
};
use crate::PlanError;

mod assemble;
mod jump;
mod ownership;
pub(crate) mod search;
mod walk;

/// Prefix of the aliases the planner adds to resolve field conflicts.
pub const ALIAS_PREFIX: &str = "_goliath_alias_";

/// How deep entity jumps may nest while looking for keys and requirements.
const MAX_JUMP_DEPTH: usize = 24;

/// One future subgraph request.
#[derive(Debug)]
struct Group {
    graph: GraphId,
    /// `Some` for root fetches (on the query or mutation type).
    root_kind: Option<OperationType>,
    /// Response path of the entities this group fetches (entity groups).
    merge_path: Vec<PathElement>,
    /// More paths whose entities this group also fetches (sibling groups
    /// merged into it, so one request serves them all).
    also: Vec<Vec<PathElement>>,
    /// Merged into another group: not a fetch of its own.
    merged: bool,
    /// The selections: root fields, or `... on T` fragments for entities.
    selections: Vec<Selection>,
    /// Representation shape for entity groups.
    requires: Vec<Selection>,
    /// Groups whose results this group needs first.
    deps: BTreeSet<usize>,
    /// Types whose representations get another `__typename`.
    rewrites: Vec<(Name, Name)>,
    /// Index of the mutation root field this group serves (0 for queries).
    root_index: usize,
    /// Variable conditions common to every way into this group (`None`
    /// until the first entry).
    guards: Option<Vec<Guard>>,
}

/// Where the walk is: in which group, where inside its selections, and
/// where in the response.
#[derive(Clone)]
struct Ctx {
    group: usize,
    group_path: Vec<Step>,
    response_path: Vec<PathElement>,
    /// What `@provides` makes resolvable at this position.
    provided: Option<Rc<Vec<Selection>>>,
    /// `@skip`/`@include` of enclosing fragments at this level.
    conditions: Vec<DirectiveList>,
    /// Variable conditions that hold wherever this position is reached.
    guards: Vec<Guard>,
    /// The client's fields at this position, by response key: fields the
    /// planner adds for keys and requirements must not take their keys.
    client_keys: Rc<Vec<Field>>,
    /// True while planning keys and requirements (not client fields).
    internal: bool,
    /// Nesting of entity jumps made to satisfy keys and requirements.
    jump_depth: usize,
    root_index: usize,
    /// The position of the field this position is under, if any.
    parent: Option<Rc<ParentLink>>,
}

/// A variable condition: the selection runs only when `$variable == expected`.
pub(crate) type Guard = (Name, bool);

/// The variable conditions of `@skip(if: $v)` / `@include(if: $v)` in `directives`.
fn guards_of(directives: &DirectiveList) -> Vec<Guard> {
    let mut out = vec![];
    for d in directives.iter() {
        let expected = match d.name.as_str() {
            "include" => true,
            "skip" => false,
            _ => continue,
        };
        if let Some(v) = d
            .specified_argument_by_name("if")
            .and_then(|v| v.as_variable())
        {
            out.push((v.clone(), expected));
        }
    }
    out
}

impl Ctx {
    /// This position inside conditional fragments with these directives.
    fn under(&self, conditions: Vec<DirectiveList>) -> Ctx {
        let mut c = self.clone();
        for cond in conditions {
            c.guards.extend(guards_of(&cond));
            c.group_path.push(Step::Fragment(conditional(cond.clone())));
            c.conditions.push(cond);
        }
        c
    }
}

/// How the walk got to a position: through `field` of type `parent_type` at `ctx`.
struct ParentLink {
    ctx: Ctx,
    parent_type: Name,
    field: Field,
}

/// The pins among `labels`: `Type.field=subgraph` (a `=` is never in an
/// override label) routes the client's `Type.field` to `subgraph` alone.
fn pins_of(labels: &HashSet<String>) -> HashMap<(&str, &str), &str> {
    labels
        .iter()
        .filter_map(|l| {
            let (coordinate, graph) = l.split_once('=')?;
            let (ty, field) = coordinate.split_once('.')?;
            Some(((ty, field), graph))
        })
        .collect()
}

/// The planner's state for one operation.
pub(crate) struct Builder<'a> {
    sg: &'a Supergraph,
    labels: &'a HashSet<String>,
    /// Fields pinned to one subgraph (labels `Type.field=subgraph`), by
    /// `(type, field)`.
    pins: HashMap<(&'a str, &'a str), &'a str>,
    groups: Vec<Group>,
    /// Asked before each field is planned: true stops planning.
    cancelled: &'a dyn Fn() -> bool,
    /// Planning a path again from the root (`plan_via_root`): no second
    /// one inside it, or two subgraphs could send a field back and forth.
    via_root: bool,
    /// Subgraphs chosen for root fields by the search (`search.rs`), by
    /// response key; the others are chosen greedily.
    root_choices: HashMap<Name, GraphId>,
    /// Subgraphs chosen by the search for entity jumps, by decision
    /// (`Type.field@path`).
    jump_choices: HashMap<String, GraphId>,
    /// Root fields and jumps that had more than one subgraph to go to (read
    /// by the search).
    decisions: Rc<std::cell::RefCell<Vec<Decision>>>,
}

/// A choice the planner made among several subgraphs: what it was for,
/// the subgraph taken, and all of them.
pub(crate) type Decision = (Choice, GraphId, Vec<GraphId>);

/// What a choice among subgraphs was for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Choice {
    /// A root field, by response key.
    Root(Name),
    /// An entity jump, by `Type.field@path`.
    Jump(String),
}

impl<'a> Builder<'a> {
    pub(crate) fn new(
        sg: &'a Supergraph,
        labels: &'a HashSet<String>,
        cancelled: &'a dyn Fn() -> bool,
    ) -> Self {
        Builder {
            sg,
            labels,
            pins: pins_of(labels),
            groups: vec![],
            cancelled,
            via_root: false,
            root_choices: HashMap::new(),
            jump_choices: HashMap::new(),
            decisions: Rc::default(),
        }
    }

    /// Plans `operation` of `doc` (which must be valid against the API schema).
    pub(crate) fn plan(
        mut self,
        doc: &ExecutableDocument,
        operation: &Operation,
    ) -> Result<QueryPlan, PlanError> {
        let kind = operation.operation_type;
        let root_type = self
            .sg
            .root_type(kind)
            .ok_or_else(|| PlanError::new(format!("the schema has no {} type", kind.name())))?
            .clone();
        let selections = from_executable(&operation.selection_set, doc);
        let root_fields = self.collect_for_type(&root_type, &selections, &[]);
        let mut root_groups: Vec<usize> = vec![];
        for (field, conditions) in root_fields.iter() {
            if field.name == "__typename" || field.name == "__schema" || field.name == "__type" {
                continue; // answered by the router itself
            }
            let graph = self.choose_root_graph(&root_type, field)?;
            let group = match kind {
                OperationType::Mutation => match root_groups.last() {
                    Some(&g) if self.groups[g].graph == graph => g,
                    _ => self.new_group(graph, Some(kind), vec![], root_groups.len()),
                },
                _ => match root_groups.iter().find(|&&g| self.groups[g].graph == graph) {
                    Some(&g) => g,
                    None => self.new_group(graph, Some(kind), vec![], 0),
                },
            };
            if !root_groups.contains(&group) {
                root_groups.push(group);
            }
            let ctx = Ctx {
                group,
                group_path: vec![],
                response_path: vec![],
                provided: None,
                conditions: vec![],
                guards: vec![],
                client_keys: Rc::default(),
                internal: false,
                jump_depth: 0,
                root_index: self.groups[group].root_index,
                parent: None,
            };
            let ctx = ctx.under(conditions.clone());
            self.note_entry(group, &ctx, field);
            let fig = self.field_in_graph(&root_type, &field.name, graph);
            let mut touched = BTreeSet::new();
            self.add_local_field(&ctx, &root_type, field, fig.as_ref(), &mut touched)?;
        }
        Ok(QueryPlan {
            root: self
                .into_plan(operation, kind, root_groups.len())
                .map(assemble::normalize),
        })
    }

    fn new_group(
        &mut self,
        graph: GraphId,
        root_kind: Option<OperationType>,
        merge_path: Vec<PathElement>,
        root_index: usize,
    ) -> usize {
        self.groups.push(Group {
            graph,
            root_kind,
            merge_path,
            also: vec![],
            merged: false,
            selections: vec![],
            requires: vec![],
            deps: BTreeSet::new(),
            rewrites: vec![],
            root_index,
            guards: None,
        });
        self.groups.len() - 1
    }

    /// Records an entry into `group` at `ctx` for `field`: the group keeps
    /// only the conditions every entry shares.
    fn note_entry(&mut self, group: usize, ctx: &Ctx, field: &Field) {
        let mut entry = ctx.guards.clone();
        entry.extend(guards_of(&field.directives));
        let g = &mut self.groups[group];
        g.guards = Some(match g.guards.take() {
            None => entry,
            Some(old) => old.into_iter().filter(|x| entry.contains(x)).collect(),
        });
    }

    // ----- ownership questions ------------------------------------------------

    // ----- the walk -----------------------------------------------------------

    // ----- from groups to a plan --------------------------------------------
}

fn name(s: &str) -> Name {
    Name::new(s).expect("valid GraphQL name")
}

fn on_type(ty: Name) -> Fragment {
    Fragment {
        type_condition: Some(ty),
        directives: DirectiveList::new(),
        selections: vec![],
    }
}

fn conditional(directives: DirectiveList) -> Fragment {
    Fragment {
        type_condition: None,
        directives,
        selections: vec![],
    }
}

/// Prefix of the aliases given to key and required fields whose name a
/// client field uses as its response key at the same position.
pub const KEY_ALIAS_PREFIX: &str = "_goliath_key_";

/// Aliases the top-level fields of `needed` whose response key a different
/// client field already uses there.
fn alias_taken_keys(needed: &mut [Selection], client: &[Field]) {
    for s in needed {
        if let Selection::Field(f) = s {
            let taken = client.iter().any(|c| {
                c.response_key() == f.response_key()
                    && (c.name != f.name || c.arguments != f.arguments)
            });
            if taken {
                f.alias = Some(name(&format!("{KEY_ALIAS_PREFIX}{}", f.name)));
            }
        }
    }
}

/// Prefix of the aliases given to required fields that take arguments, so
/// that they never collide with the client's own selection of the field.
pub const REQUIRES_ALIAS_PREFIX: &str = "_goliath_req_";

/// Aliases every field with arguments in a `@requires` selection
/// (`_goliath_req_<hash>_<name>`); the alias stays in the merged response,
/// and representations use the field's name.
fn alias_argument_fields(sels: &mut [Selection]) {
    for s in sels {
        match s {
            Selection::Field(f) => {
                if !f.arguments.is_empty() {
                    let mut args = String::new();
                    for a in &f.arguments {
                        args.push_str(&format!("{}:{},", a.name, a.value.serialize().no_indent()));
                    }
                    // FNV-1a: stable across runs and builds.
                    let mut h: u64 = 0xcbf29ce484222325;
                    for b in args.bytes() {
                        h ^= b as u64;
                        h = h.wrapping_mul(0x100000001b3);
                    }
                    f.alias = Some(name(&format!("{REQUIRES_ALIAS_PREFIX}{h:x}_{}", f.name)));
                }
                alias_argument_fields(&mut f.selections);
            }
            Selection::Fragment(fr) => alias_argument_fields(&mut fr.selections),
        }
    }
}

/// The inverse of [`wrap_conditions`]: the selection inside conditional
/// fragments, and their conditions.
fn unwrap_conditions(sel: &Selection) -> (&Selection, Vec<DirectiveList>) {
    let mut conditions = vec![];
    let mut cur = sel;
    while let Selection::Fragment(fr) = cur {
        if fr.type_condition.is_some() || fr.selections.len() != 1 || fr.directives.is_empty() {
            break;
        }
        conditions.push(fr.directives.clone());
        cur = &fr.selections[0];
    }
    (cur, conditions)
}

fn wrap_conditions(sel: Selection, conditions: Vec<DirectiveList>) -> Selection {
    conditions.into_iter().rev().fold(sel, |inner, c| {
        Selection::Fragment(Fragment {
            type_condition: None,
            directives: c,
            selections: vec![inner],
        })
    })
}
