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

use std::collections::{BTreeSet, HashSet};
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

/// The planner's state for one operation.
pub(crate) struct Builder<'a> {
    sg: &'a Supergraph,
    labels: &'a HashSet<String>,
    groups: Vec<Group>,
}

impl<'a> Builder<'a> {
    pub(crate) fn new(sg: &'a Supergraph, labels: &'a HashSet<String>) -> Self {
        Builder {
            sg,
            labels,
            groups: vec![],
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
            root: self.into_plan(operation, kind, root_groups.len()),
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

    fn field_info(&self, parent: &str, field: &str) -> Option<&'a FieldInfo> {
        self.sg.type_info(parent)?.fields.get(field)
    }

    fn field_in_graph(&self, parent: &str, field: &str, graph: GraphId) -> Option<FieldInGraph> {
        self.sg.field_in_graph(parent, field, graph).cloned()
    }

    /// Whether `@override` lets `fig`'s subgraph resolve the field.
    fn override_allows(&self, info: &FieldInfo, fig: &FieldInGraph, internal: bool) -> bool {
        if let Some(label) = &fig.override_label {
            let active = self.labels.contains(label);
            return if fig.override_from.is_some() {
                active
            } else {
                !active
            };
        }
        if fig.used_overridden {
            return internal;
        }
        let name = &self.sg.graphs[fig.graph].name;
        !info.graphs.iter().any(|o| {
            o.override_from.as_deref() == Some(name.as_str()) && o.override_label.is_none()
        })
    }

    /// Can subgraph `graph` resolve `parent.field` where the walk is?
    fn resolvable(&self, parent: &str, field: &str, graph: GraphId, ctx: Option<&Ctx>) -> bool {
        let Some(info) = self.field_info(parent, field) else {
            return false;
        };
        let Some(fig) = info.graphs.iter().find(|f| f.graph == graph) else {
            return false;
        };
        let internal = ctx.is_some_and(|c| c.internal);
        if !self.override_allows(info, fig, internal) {
            return false;
        }
        if fig.external {
            let provided = ctx.and_then(|c| c.provided.as_deref());
            if provided.is_some_and(|p| self.provided_child(p, parent, field).is_some()) {
                return true;
            }
            // An external key field is known to the subgraph that declares
            // the key: it comes back from the representation.
            return internal && self.is_key_field(parent, field, graph);
        }
        true
    }

    /// Is `field` a top-level field of one of `parent`'s keys in `graph`?
    fn is_key_field(&self, parent: &str, field: &str, graph: GraphId) -> bool {
        self.sg
            .type_info(parent)
            .and_then(|t| t.in_graph(graph))
            .is_some_and(|t| {
                t.keys
                    .iter()
                    .any(|k| k.selection.fields().any(|f| f.name == field))
            })
    }

    /// The `@provides` sub-selection of `field` at this level, if provided.
    fn provided_child(
        &self,
        provided: &[Selection],
        parent: &str,
        field: &str,
    ) -> Option<Vec<Selection>> {
        let mut found: Option<Vec<Selection>> = None;
        for s in provided {
            match s {
                Selection::Field(f) if f.name == field => {
                    found
                        .get_or_insert_with(Vec::new)
                        .extend(f.selections.iter().cloned());
                }
                Selection::Fragment(fr) if self.applies(fr.type_condition.as_deref(), parent) => {
                    if let Some(inner) = self.provided_child(&fr.selections, parent, field) {
                        found.get_or_insert_with(Vec::new).extend(inner);
                    }
                }
                _ => {}
            }
        }
        found
    }

    /// Does a type condition apply to objects of type `ty`?
    fn applies(&self, condition: Option<&str>, ty: &str) -> bool {
        match condition {
            None => true,
            Some(c) if c == ty => true,
            Some(c) => {
                self.sg.possible_types(c).iter().any(|p| p == ty)
                    || self
                        .sg
                        .possible_types(ty)
                        .iter()
                        .all(|p| self.sg.possible_types(c).contains(p))
                        && !self.sg.possible_types(ty).is_empty()
            }
        }
    }

    fn is_interface_object(&self, ty: &str, graph: GraphId) -> bool {
        self.sg
            .type_info(ty)
            .and_then(|t| t.in_graph(graph))
            .is_some_and(|t| t.is_interface_object)
    }

    // ----- the walk -----------------------------------------------------------

    /// Flattens `sels` for objects of type `ty`: fields with the conditions
    /// of the fragments they sit in.
    fn collect_for_type(
        &self,
        ty: &str,
        sels: &[Selection],
        conditions: &[DirectiveList],
    ) -> Vec<(Field, Vec<DirectiveList>)> {
        let mut out = vec![];
        for s in sels {
            match s {
                Selection::Field(f) => out.push((f.clone(), conditions.to_vec())),
                Selection::Fragment(fr) => {
                    if !self.applies(fr.type_condition.as_deref(), ty) {
                        continue;
                    }
                    let mut inner = conditions.to_vec();
                    if !fr.directives.is_empty() {
                        inner.push(fr.directives.clone());
                    }
                    out.extend(self.collect_for_type(ty, &fr.selections, &inner));
                }
            }
        }
        out
    }

    /// Plans `sels` on objects of type `parent` at `ctx`.
    fn plan_set(
        &mut self,
        ctx: &Ctx,
        parent: &Name,
        sels: &[Selection],
        touched: &mut BTreeSet<usize>,
    ) -> Result<(), PlanError> {
        let graph = self.groups[ctx.group].graph;
        if self.sg.is_abstract(parent) {
            if self.is_interface_object(parent, graph) {
                return self.plan_interface_object(ctx, parent, sels, touched);
            }
            return self.plan_abstract(ctx, parent, sels, touched);
        }
        for (field, conditions) in self.collect_for_type(parent, sels, &[]) {
            let c = ctx.under(conditions);
            self.plan_field(&c, parent, &field, touched)?;
        }
        Ok(())
    }

    /// Splits an abstract position by the runtime types its subgraph may return.
    fn plan_abstract(
        &mut self,
        ctx: &Ctx,
        parent: &Name,
        sels: &[Selection],
        touched: &mut BTreeSet<usize>,
    ) -> Result<(), PlanError> {
        let graph = self.groups[ctx.group].graph;
        self.add_typename(ctx);
        touched.insert(ctx.group);
        let possible = self.sg.possible_types_in_graph(parent, graph);
        if possible.is_empty() {
            // The subgraph knows no implementation: what it answers can only
            // be planned on the interface itself.
            for (field, conditions) in self.collect_for_type(parent, sels, &[]) {
                if field.name == "__typename" {
                    continue;
                }
                let c = ctx.under(conditions);
                self.plan_field(&c, parent, &field, touched)?;
            }
            return Ok(());
        }
        for ty in possible {
            let fields = self.collect_for_type(&ty, sels, &[]);
            if fields.iter().all(|(f, _)| f.name == "__typename") {
                continue; // `__typename` is already fetched at the abstract level
            }
            let mut c = ctx.clone();
            c.group_path.push(Step::Fragment(on_type(ty.clone())));
            c.conditions.clear();
            let sels: Vec<Selection> = fields
                .into_iter()
                .map(|(f, conds)| wrap_conditions(Selection::Field(f), conds))
                .collect();
            self.plan_set(&c, &ty, &sels, touched)?;
        }
        Ok(())
    }

    fn add_typename(&mut self, ctx: &Ctx) {
        let group = &mut self.groups[ctx.group];
        let set = at_path(&mut group.selections, &ctx.group_path);
        selection::field_index(set, &Field::leaf(name("__typename")));
    }

    /// Plans one field on objects of type `parent`.
    fn plan_field(
        &mut self,
        ctx: &Ctx,
        parent: &Name,
        field: &Field,
        touched: &mut BTreeSet<usize>,
    ) -> Result<(), PlanError> {
        let graph = self.groups[ctx.group].graph;
        if field.name == "__typename" {
            let group = &mut self.groups[ctx.group];
            let set = at_path(&mut group.selections, &ctx.group_path);
            selection::field_index(set, field);
            touched.insert(ctx.group);
            return Ok(());
        }
        let fig = self.field_in_graph(parent, &field.name, graph);
        if self.resolvable(parent, &field.name, graph, Some(ctx))
            && fig.as_ref().is_some_and(|f| f.requires.is_none())
        {
            return self.add_local_field(ctx, parent, field, fig.as_ref(), touched);
        }
        self.plan_jump(ctx, parent, field, touched)
    }

    /// Adds `field` to the current group and plans its sub-selections there.
    fn add_local_field(
        &mut self,
        ctx: &Ctx,
        parent: &Name,
        field: &Field,
        fig: Option<&FieldInGraph>,
        touched: &mut BTreeSet<usize>,
    ) -> Result<(), PlanError> {
        {
            let group = &mut self.groups[ctx.group];
            let set = at_path(&mut group.selections, &ctx.group_path);
            selection::field_index(set, field);
        }
        touched.insert(ctx.group);
        if field.selections.is_empty() {
            return Ok(());
        }
        let def = self
            .sg
            .schema
            .type_field(parent, &field.name)
            .map_err(|_| PlanError::new(format!("unknown field {parent}.{}", field.name)))?;
        let child_type = def.ty.inner_named_type().clone();
        let mut provided: Option<Vec<Selection>> = ctx
            .provided
            .as_deref()
            .and_then(|p| self.provided_child(p, parent, &field.name));
        if let Some(p) = fig.and_then(|f| f.provides.as_ref()) {
            let doc = ExecutableDocument::new();
            merge_into(
                provided.get_or_insert_with(Vec::new),
                &from_executable(p, &doc),
            );
        }
        let mut child = ctx.clone();
        child.group_path.push(Step::Field(field.head()));
        child
            .response_path
            .push(PathElement::Key(field.response_key().clone()));
        let mut ty = &def.ty;
        while ty.is_list() {
            child.response_path.push(PathElement::List);
            ty = ty.item_type();
        }
        child.provided = provided.map(Rc::new);
        child.conditions.clear();
        child.guards.extend(guards_of(&field.directives));
        child.parent = Some(Rc::new(ParentLink {
            ctx: ctx.clone(),
            parent_type: parent.clone(),
            field: field.head(),
        }));
        // The subgraph may declare a narrower type (an object where the
        // supergraph has a union): plan for what it can return.
        let declared = fig
            .and_then(|f| f.ty.as_deref())
            .map(|t| t.trim_matches(|c| c == '[' || c == ']' || c == '!'))
            .filter(|t| *t != child_type.as_str() && self.sg.type_info(t).is_some())
            .map(name);
        if let Some(narrow) = declared {
            if self.sg.is_abstract(&child_type) {
                self.add_typename(&child);
            }
            return self.plan_set(&child, &narrow, &field.selections, touched);
        }
        self.plan_set(&child, &child_type, &field.selections, touched)
    }

    /// Plans `field` through an `_entities` fetch to another subgraph (or to
    /// the same one, for `@requires`).
    fn plan_jump(
        &mut self,
        ctx: &Ctx,
        parent: &Name,
        field: &Field,
        touched: &mut BTreeSet<usize>,
    ) -> Result<(), PlanError> {
        let from = self.groups[ctx.group].graph;
        if ctx.jump_depth > MAX_JUMP_DEPTH {
            return Err(PlanError::new(format!(
                "cannot plan {parent}.{}: no way to reach it from subgraph {}",
                field.name, self.sg.graphs[from].name
            )));
        }
        let (target, key, entered_as) = match self.choose_jump(ctx, parent, &field.name) {
            Ok(choice) => choice,
            Err(e) => {
                // No way in by a key here: fetch the field through its
                // parent, from a subgraph that resolves both.
                return match self.plan_via_parent(ctx, parent, field, touched)? {
                    true => Ok(()),
                    false => Err(e),
                };
            }
        };
        let as_type = entered_as.clone().unwrap_or_else(|| parent.clone());
        let target_fig = self.field_in_graph(&as_type, &field.name, target);
        let requires = target_fig.as_ref().and_then(|f| f.requires.clone());
        let inner = self.enter_entity(
            ctx,
            parent,
            target,
            &key,
            entered_as,
            requires.as_deref(),
            touched,
        )?;
        self.note_entry(inner.group, &inner, field);
        self.add_local_field(&inner, &as_type, field, target_fig.as_ref(), touched)
    }

    /// Plans `field` (on `ty`, at `ctx`) by selecting the parent field again
    /// from a subgraph that resolves both, one level up (or further).
    /// Returns false when no subgraph can.
    fn plan_via_parent(
        &mut self,
        ctx: &Ctx,
        ty: &Name,
        field: &Field,
        touched: &mut BTreeSet<usize>,
    ) -> Result<bool, PlanError> {
        let Some(link) = ctx.parent.clone() else {
            return Ok(false);
        };
        let current = self.groups[ctx.group].graph;
        let declared = self
            .sg
            .schema
            .type_field(&link.parent_type, &link.field.name)
            .map(|d| d.ty.inner_named_type().clone())
            .ok();
        let mut inner = wrap_conditions(Selection::Field(field.clone()), ctx.conditions.clone());
        if declared.as_ref() != Some(ty) {
            inner = Selection::Fragment(Fragment {
                type_condition: Some(ty.clone()),
                directives: DirectiveList::new(),
                selections: vec![inner],
            });
        }
        let mut via = link.field.clone();
        via.selections = vec![inner];
        for target in 0..self.sg.graphs.len() {
            if target == current
                || !self.resolvable(&link.parent_type, &via.name, target, None)
                || !self.resolvable(ty, &field.name, target, None)
            {
                continue;
            }
            self.plan_in_graph(&link.ctx, &link.parent_type, &via, target, touched)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Plans `field` of `parent` at `ctx` in subgraph `target`: a root
    /// fetch at the root, else an entity jump (or, without a key, one more
    /// level up).
    fn plan_in_graph(
        &mut self,
        ctx: &Ctx,
        parent: &Name,
        field: &Field,
        target: GraphId,
        touched: &mut BTreeSet<usize>,
    ) -> Result<(), PlanError> {
        let fig = self.field_in_graph(parent, &field.name, target);
        let group = &self.groups[ctx.group];
        if ctx.response_path.is_empty() && group.root_kind.is_some() {
            if group.root_kind != Some(OperationType::Query) {
                return Err(PlanError::new(format!(
                    "cannot plan {parent}.{}: it would run the mutation twice",
                    field.name
                )));
            }
            let root = match self
                .groups
                .iter()
                .position(|g| g.graph == target && g.root_kind.is_some())
            {
                Some(g) => g,
                None => self.new_group(target, Some(OperationType::Query), vec![], 0),
            };
            let mut c = ctx.clone();
            c.group = root;
            self.note_entry(root, &c, field);
            return self.add_local_field(&c, parent, field, fig.as_ref(), touched);
        }
        let key = self
            .sg
            .type_info(parent)
            .and_then(|t| t.in_graph(target))
            .and_then(|t| t.keys.iter().find(|k| k.resolvable).cloned());
        match key {
            Some(key) => {
                let entered_as = self
                    .is_interface_object(parent, target)
                    .then(|| parent.clone());
                let requires = fig.as_ref().and_then(|f| f.requires.clone());
                let inner = self.enter_entity(
                    ctx,
                    parent,
                    target,
                    &key,
                    entered_as,
                    requires.as_deref(),
                    touched,
                )?;
                self.note_entry(inner.group, &inner, field);
                self.add_local_field(&inner, parent, field, fig.as_ref(), touched)
            }
            None => match self.plan_via_parent(ctx, parent, field, touched)? {
                true => Ok(()),
                false => Err(PlanError::new(format!(
                    "cannot plan {parent}.{} in subgraph {}",
                    field.name, self.sg.graphs[target].name
                ))),
            },
        }
    }

    /// Sets up an `_entities` fetch to `target` for the objects of type
    /// `parent` at `ctx`: plans their key (and `requires`) where they are,
    /// and returns the position inside the entity group to plan into.
    /// With `entered_as`, the target knows the type as that `@interfaceObject`.
    #[allow(clippy::too_many_arguments)]
    fn enter_entity(
        &mut self,
        ctx: &Ctx,
        parent: &Name,
        target: GraphId,
        key: &Key,
        entered_as: Option<Name>,
        requires: Option<&apollo_compiler::executable::SelectionSet>,
        touched: &mut BTreeSet<usize>,
    ) -> Result<Ctx, PlanError> {
        // What the target needs in each representation.
        let mut needed = vec![Selection::Field(Field::leaf(name("__typename")))];
        let doc = ExecutableDocument::new();
        merge_into(&mut needed, &from_executable(&key.selection, &doc));
        if let Some(req) = requires {
            let mut req = from_executable(req, &doc);
            alias_argument_fields(&mut req);
            merge_into(&mut needed, &req);
        }
        let mut deps = BTreeSet::new();
        let mut sub = ctx.clone();
        sub.internal = true;
        sub.jump_depth += 1;
        // The key's own `__typename` is the object's: an interface-object
        // position asks for it as a plain field.
        self.plan_fields_here(&sub, parent, &needed, &mut deps)?;
        touched.extend(deps.iter().copied());

        let group = self.entity_group(target, &ctx.response_path, &deps, ctx.root_index);
        touched.insert(group);
        let in_target = entered_as.clone().unwrap_or_else(|| parent.clone());
        {
            let g = &mut self.groups[group];
            g.deps.extend(deps.iter().copied());
            let rep = Selection::Fragment(Fragment {
                type_condition: Some(parent.clone()),
                directives: DirectiveList::new(),
                selections: needed,
            });
            merge_into(&mut g.requires, &[rep]);
            if let Some(as_type) = entered_as {
                if !g.rewrites.iter().any(|(t, _)| t == parent) {
                    g.rewrites.push((parent.clone(), as_type));
                }
            }
        }
        let inner = Ctx {
            group,
            group_path: vec![Step::Fragment(on_type(in_target))],
            response_path: ctx.response_path.clone(),
            provided: None,
            conditions: vec![],
            guards: ctx.guards.clone(),
            internal: ctx.internal,
            jump_depth: ctx.jump_depth,
            root_index: ctx.root_index,
            parent: ctx.parent.clone(),
        };
        Ok(inner.under(ctx.conditions.clone()))
    }

    /// Plans `sels` on `parent` as plain fields of the current position,
    /// without splitting an abstract type by runtime type.
    fn plan_fields_here(
        &mut self,
        ctx: &Ctx,
        parent: &Name,
        sels: &[Selection],
        touched: &mut BTreeSet<usize>,
    ) -> Result<(), PlanError> {
        let graph = self.groups[ctx.group].graph;
        if self.sg.is_abstract(parent) && !self.is_interface_object(parent, graph) {
            // A real interface here: its key fields are interface fields.
            for s in sels {
                if let Selection::Field(f) = s {
                    if f.name == "__typename" {
                        self.add_typename(ctx);
                        touched.insert(ctx.group);
                        continue;
                    }
                }
            }
            let rest: Vec<Selection> = sels
                .iter()
                .filter(|s| !matches!(s, Selection::Field(f) if f.name == "__typename"))
                .cloned()
                .collect();
            return self.plan_abstract(ctx, parent, &rest, touched);
        }
        for (field, conditions) in self.collect_for_type(parent, sels, &[]) {
            let c = ctx.under(conditions);
            self.plan_field(&c, parent, &field, touched)?;
        }
        Ok(())
    }

    /// Plans an abstract position that the current subgraph knows as an
    /// `@interfaceObject`: it resolves the interface's own fields, and
    /// another subgraph that knows the real implementations tells the
    /// runtime type and resolves the rest.
    fn plan_interface_object(
        &mut self,
        ctx: &Ctx,
        parent: &Name,
        sels: &[Selection],
        touched: &mut BTreeSet<usize>,
    ) -> Result<(), PlanError> {
        let graph = self.groups[ctx.group].graph;
        let mut local: Vec<(Field, Vec<DirectiveList>)> = vec![];
        let mut remote: Vec<Selection> = vec![];
        self.split_interface_object(parent, graph, sels, &[], &mut local, &mut remote);
        // Interface fields that another subgraph resolves for the interface
        // as a whole go there directly; the runtime type is not needed.
        let mut typed: Vec<Selection> = vec![];
        for sel in remote {
            let (inner, conditions) = unwrap_conditions(&sel);
            match inner {
                Selection::Field(f)
                    if f.name != "__typename" && self.resolvable_elsewhere(parent, &f.name) =>
                {
                    local.push((f.clone(), conditions))
                }
                _ => typed.push(sel),
            }
        }
        let remote = typed;
        for (field, conditions) in local {
            let c = ctx.under(conditions);
            self.plan_field(&c, parent, &field, touched)?;
        }
        if remote.is_empty() {
            return Ok(());
        }
        // The runtime type comes from a subgraph with the real interface.
        let info = self.sg.type_info(parent);
        let mut choice: Option<(GraphId, Key)> = None;
        for t in info.map(|i| i.graphs.as_slice()).unwrap_or(&[]) {
            if t.is_interface_object || t.graph == graph {
                continue;
            }
            if let Some(k) = t.keys.iter().find(|k| k.resolvable) {
                if self.selection_local(graph, parent, &k.selection) {
                    choice = Some((t.graph, k.clone()));
                    break;
                }
                choice.get_or_insert((t.graph, k.clone()));
            }
        }
        let Some((target, key)) = choice else {
            if remote.is_empty() {
                return Ok(());
            }
            return Err(PlanError::new(format!(
                "cannot plan selections on {parent}: subgraph {} knows it only as an @interfaceObject and no subgraph that implements it can be entered with a key",
                self.sg.graphs[graph].name
            )));
        };
        let inner = self.enter_entity(ctx, parent, target, &key, None, None, touched)?;
        self.note_entry(inner.group, &inner, &Field::leaf(name("__typename")));
        self.add_typename(&inner);
        self.plan_abstract(&inner, parent, &remote, touched)
    }

    /// Can some subgraph resolve `parent.field` on the interface itself,
    /// entered by a resolvable key?
    fn resolvable_elsewhere(&self, parent: &str, field: &str) -> bool {
        let Some(info) = self.sg.type_info(parent) else {
            return false;
        };
        info.graphs.iter().any(|t| {
            t.keys.iter().any(|k| k.resolvable) && self.resolvable(parent, field, t.graph, None)
        })
    }

    /// Sorts the selections on an interface object into what its subgraph
    /// resolves itself and what needs the real implementations.
    fn split_interface_object(
        &self,
        parent: &Name,
        graph: GraphId,
        sels: &[Selection],
        conditions: &[DirectiveList],
        local: &mut Vec<(Field, Vec<DirectiveList>)>,
        remote: &mut Vec<Selection>,
    ) {
        for s in sels {
            match s {
                Selection::Field(f) => {
                    let here = f.name != "__typename"
                        && self.resolvable(parent, &f.name, graph, None)
                        && self
                            .sg
                            .field_in_graph(parent, &f.name, graph)
                            .is_some_and(|x| x.requires.is_none());
                    if here {
                        local.push((f.clone(), conditions.to_vec()));
                    } else {
                        remote.push(wrap_conditions(s.clone(), conditions.to_vec()));
                    }
                }
                Selection::Fragment(fr)
                    if fr.type_condition.as_ref().is_none_or(|t| t == parent) =>
                {
                    let mut inner = conditions.to_vec();
                    if !fr.directives.is_empty() {
                        inner.push(fr.directives.clone());
                    }
                    self.split_interface_object(
                        parent,
                        graph,
                        &fr.selections,
                        &inner,
                        local,
                        remote,
                    );
                }
                Selection::Fragment(_) => {
                    remote.push(wrap_conditions(s.clone(), conditions.to_vec()))
                }
            }
        }
    }

    /// Picks the subgraph (and key) to fetch `parent.field` from, when the
    /// current group cannot. The third value is set when the target is
    /// entered as an `@interfaceObject` (representations use that name).
    fn choose_jump(
        &self,
        ctx: &Ctx,
        parent: &Name,
        field: &str,
    ) -> Result<(GraphId, Key, Option<Name>), PlanError> {
        let from = self.groups[ctx.group].graph;
        let plain = Ctx {
            provided: None,
            ..ctx.clone()
        };
        // Each way in: (target, the type the target knows, entered as).
        let mut entries: Vec<(GraphId, Name, Option<Name>)> = vec![];
        for target in 0..self.sg.graphs.len() {
            if self.resolvable(parent, field, target, Some(&plain)) {
                let entered_as = self
                    .is_interface_object(parent, target)
                    .then(|| parent.clone());
                entries.push((target, parent.clone(), entered_as));
            }
            // Through an @interfaceObject of an interface `parent` implements.
            if self
                .sg
                .type_info(parent)
                .is_some_and(|t| t.kind == TypeKind::Object)
            {
                for i in self.interfaces_of(parent) {
                    if self.is_interface_object(&i, target)
                        && self.resolvable(&i, field, target, Some(&plain))
                    {
                        entries.push((target, i.clone(), Some(i)));
                    }
                }
            }
        }
        let mut best: Option<(i64, GraphId, Key, Option<Name>)> = None;
        for (target, known_as, entered_as) in entries {
            let fig = self.sg.field_in_graph(&known_as, field, target);
            if target == from && fig.is_some_and(|f| f.requires.is_none()) {
                continue;
            }
            let keys: Vec<&Key> = self
                .sg
                .type_info(&known_as)
                .and_then(|t| t.in_graph(target))
                .map(|t| t.keys.iter().filter(|k| k.resolvable).collect())
                .unwrap_or_default();
            for key in keys {
                // A key that holds the field itself cannot lead to it.
                if key.selection.fields().any(|f| f.name == field) {
                    continue;
                }
                let mut cost: i64 = 10;
                if !self.selection_local(from, parent, &key.selection) {
                    cost += 100;
                }
                if self.groups.iter().any(|g| {
                    g.graph == target && g.root_kind.is_none() && g.merge_path == ctx.response_path
                }) {
                    cost -= 5;
                }
                if best.as_ref().is_none_or(|b| cost < b.0) {
                    best = Some((cost, target, key.clone(), entered_as.clone()));
                }
            }
        }
        best.map(|(_, g, k, r)| (g, k, r)).ok_or_else(|| {
            PlanError::new(format!(
                "cannot plan {parent}.{field}: subgraph {} cannot resolve it and no other subgraph can be entered with a key",
                self.sg.graphs[from].name
            ))
        })
    }

    /// The interfaces an object type implements, in the supergraph.
    fn interfaces_of(&self, ty: &str) -> Vec<Name> {
        self.sg
            .schema
            .get_object(ty)
            .map(|o| {
                o.implements_interfaces
                    .iter()
                    .map(|i| i.name.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Can `graph` resolve every field of a key field set by itself?
    fn selection_local(
        &self,
        graph: GraphId,
        parent: &str,
        set: &apollo_compiler::executable::SelectionSet,
    ) -> bool {
        set.fields().all(|f| {
            self.resolvable(parent, &f.name, graph, None)
                && (f.selection_set.selections.is_empty()
                    || self.selection_local(graph, f.selection_set.ty.as_str(), &f.selection_set))
        })
    }

    /// An entity group for `graph` at `path`, reused when that adds no cycle.
    fn entity_group(
        &mut self,
        graph: GraphId,
        path: &[PathElement],
        deps: &BTreeSet<usize>,
        root_index: usize,
    ) -> usize {
        let existing = (0..self.groups.len()).find(|&g| {
            let group = &self.groups[g];
            group.graph == graph
                && group.root_kind.is_none()
                && group.merge_path == path
                && group.root_index == root_index
                && !deps.contains(&g)
                && !deps.iter().any(|&d| self.depends_on(d, g))
        });
        match existing {
            Some(g) => g,
            None => self.new_group(graph, None, path.to_vec(), root_index),
        }
    }

    /// Does group `a` (transitively) depend on group `b`?
    fn depends_on(&self, a: usize, b: usize) -> bool {
        let mut stack = vec![a];
        let mut seen = BTreeSet::new();
        while let Some(g) = stack.pop() {
            if g == b {
                return true;
            }
            if seen.insert(g) {
                stack.extend(self.groups[g].deps.iter().copied());
            }
        }
        false
    }

    /// Picks the subgraph for a root field: the one that can resolve most of
    /// its sub-selections by itself, preferring one already queried.
    fn choose_root_graph(&self, root: &Name, field: &Field) -> Result<GraphId, PlanError> {
        let mut best: Option<(i64, GraphId)> = None;
        for g in 0..self.sg.graphs.len() {
            if !self.resolvable(root, &field.name, g, None) {
                continue;
            }
            let def = self.sg.schema.type_field(root, &field.name).ok();
            let mut score = match def {
                Some(d) => self.local_score(g, d.ty.inner_named_type(), &field.selections, 0),
                None => 0,
            };
            if self
                .groups
                .iter()
                .any(|x| x.graph == g && x.root_kind.is_some())
            {
                score += 1;
            }
            if best.is_none_or(|b| score > b.0) {
                best = Some((score, g));
            }
        }
        best.map(|b| b.1).ok_or_else(|| {
            PlanError::new(format!(
                "no subgraph can resolve the root field {root}.{}",
                field.name
            ))
        })
    }

    /// Roughly how many of `sels` subgraph `graph` resolves without a jump.
    fn local_score(&self, graph: GraphId, ty: &str, sels: &[Selection], depth: usize) -> i64 {
        if depth > 8 {
            return 0;
        }
        let mut score = 0;
        let types = if self.sg.is_abstract(ty) {
            self.sg.possible_types_in_graph(ty, graph)
        } else {
            vec![name(ty)]
        };
        for t in &types {
            for (f, _) in self.collect_for_type(t, sels, &[]) {
                if f.name == "__typename" {
                    continue;
                }
                if self.resolvable(t, &f.name, graph, None) {
                    score += 2;
                    if let Ok(def) = self.sg.schema.type_field(t, &f.name) {
                        score += self.local_score(
                            graph,
                            def.ty.inner_named_type(),
                            &f.selections,
                            depth + 1,
                        );
                    }
                } else {
                    score -= 1;
                }
            }
        }
        score
    }

    // ----- from groups to a plan --------------------------------------------

    fn into_plan(
        self,
        operation: &Operation,
        kind: OperationType,
        roots: usize,
    ) -> Option<PlanNode> {
        let nodes: Vec<PlanNode> = (0..self.groups.len())
            .map(|g| self.fetch_node(g, operation))
            .collect();
        let stage_plan = |members: Vec<usize>| -> Option<PlanNode> {
            let mut level = vec![0usize; self.groups.len()];
            // Groups are created after the groups they depend on, except
            // merged groups: iterate to a fixed point.
            let mut changed = true;
            while changed {
                changed = false;
                for &g in &members {
                    let l = self.groups[g]
                        .deps
                        .iter()
                        .filter(|d| members.contains(d))
                        .map(|&d| level[d] + 1)
                        .max()
                        .unwrap_or(0);
                    if l != level[g] {
                        level[g] = l;
                        changed = true;
                    }
                }
            }
            let max = members.iter().map(|&g| level[g]).max()?;
            let mut stages = vec![];
            for l in 0..=max {
                let mut nodes_here: Vec<PlanNode> = members
                    .iter()
                    .filter(|&&g| level[g] == l)
                    .map(|&g| nodes[g].clone())
                    .collect();
                match nodes_here.len() {
                    0 => {}
                    1 => stages.push(nodes_here.pop().unwrap()),
                    _ => stages.push(PlanNode::Parallel(nodes_here)),
                }
            }
            Some(if stages.len() == 1 {
                stages.pop().unwrap()
            } else {
                PlanNode::Sequence(stages)
            })
        };
        if kind == OperationType::Mutation {
            let mut seq = vec![];
            for r in 0..roots {
                let members: Vec<usize> = (0..self.groups.len())
                    .filter(|&g| self.groups[g].root_index == r)
                    .collect();
                seq.extend(stage_plan(members));
            }
            match seq.len() {
                0 => None,
                1 => seq.pop(),
                _ => Some(PlanNode::Sequence(seq)),
            }
        } else {
            stage_plan((0..self.groups.len()).collect())
        }
    }

    /// Aliases fields that share a response key but not a type in this
    /// subgraph (a subgraph would reject the operation otherwise). The
    /// executor strips [`ALIAS_PREFIX`] from response keys.
    fn alias_conflicts(
        &self,
        sels: &mut [Selection],
        parent: &str,
        graph: GraphId,
        seen: &mut std::collections::HashMap<Name, (Name, String)>,
        counter: &mut usize,
    ) -> bool {
        let mut changed = false;
        for sel in sels.iter_mut() {
            match sel {
                Selection::Field(f) => {
                    let ty = self.subgraph_type(parent, &f.name, graph);
                    let key = f.response_key().clone();
                    let this = (f.name.clone(), ty.clone().unwrap_or_default());
                    match seen.get(&key) {
                        None => {
                            seen.insert(key, this);
                        }
                        Some(prev) if *prev == this => {}
                        Some(_) => {
                            *counter += 1;
                            f.alias = Some(name(&format!("{ALIAS_PREFIX}{counter}_{key}")));
                            changed = true;
                        }
                    }
                    if !f.selections.is_empty() {
                        if let Ok(def) = self.sg.schema.type_field(parent, &f.name) {
                            let child = def.ty.inner_named_type().clone();
                            let mut inner = Default::default();
                            changed |= self.alias_conflicts(
                                &mut f.selections,
                                &child,
                                graph,
                                &mut inner,
                                counter,
                            );
                        }
                    }
                }
                Selection::Fragment(fr) => {
                    let ty = fr.type_condition.clone().unwrap_or_else(|| name(parent));
                    changed |= self.alias_conflicts(&mut fr.selections, &ty, graph, seen, counter);
                }
            }
        }
        changed
    }

    /// The type of `parent.field` as subgraph `graph` declares it.
    fn subgraph_type(&self, parent: &str, field: &str, graph: GraphId) -> Option<String> {
        if field == "__typename" {
            return Some("String!".into());
        }
        if let Some(t) = self
            .sg
            .field_in_graph(parent, field, graph)
            .and_then(|f| f.ty.clone())
        {
            return Some(t);
        }
        self.sg
            .schema
            .type_field(parent, field)
            .ok()
            .map(|d| d.ty.to_string())
    }

    fn fetch_node(&self, g: usize, operation: &Operation) -> PlanNode {
        let group = &self.groups[g];
        let mut selections = group.selections.clone();
        let parent = match group.root_kind {
            Some(kind) => self
                .sg
                .root_type(kind)
                .map(|n| n.to_string())
                .unwrap_or_default(),
            None => "_Entity".to_owned(),
        };
        let has_aliases = self.alias_conflicts(
            &mut selections,
            &parent,
            group.graph,
            &mut Default::default(),
            &mut 0,
        );
        let mut used: Vec<Name> = vec![];
        selection::visit_variables(&group.selections, &mut |n| {
            if !used.contains(n) {
                used.push(n.clone())
            }
        });
        let mut var_defs = String::new();
        let entity = group.root_kind.is_none();
        if entity {
            var_defs.push_str("$representations: [_Any!]!");
        }
        for v in &used {
            if let Some(def) = operation.variables.iter().find(|d| &d.name == v) {
                if !var_defs.is_empty() {
                    var_defs.push_str(", ");
                }
                var_defs.push_str(&format!("${}: {}", v, def.ty));
                if let Some(default) = &def.default_value {
                    var_defs.push_str(&format!(" = {default}"));
                }
            }
        }
        let kind = group.root_kind.unwrap_or(OperationType::Query);
        let mut text = String::from(kind.name());
        if let Some(op_name) = &operation.name {
            text.push_str(&format!(
                " {op_name}__{}__{g}",
                self.sg.graphs[group.graph].name.replace('-', "_")
            ));
        }
        if !var_defs.is_empty() {
            text.push_str(&format!("({var_defs})"));
        }
        text.push(' ');
        if entity {
            text.push_str("{_entities(representations: $representations) ");
            write_selections(&mut text, &selections);
            text.push('}');
        } else {
            write_selections(&mut text, &selections);
        }
        let fetch = PlanNode::Fetch(Box::new(FetchNode {
            service: self.sg.graphs[group.graph].name.clone(),
            graph: group.graph,
            kind,
            operation: text,
            variable_usages: used,
            requires: group.requires.clone(),
            typename_rewrites: group.rewrites.clone(),
            has_aliases,
        }));
        let node = if entity {
            PlanNode::Flatten(FlattenNode {
                path: group.merge_path.clone(),
                node: Box::new(fetch),
            })
        } else {
            fetch
        };
        let mut guards = group.guards.clone().unwrap_or_default();
        guards.dedup();
        guards
            .into_iter()
            .rev()
            .fold(node, |inner, (variable, expected)| {
                PlanNode::Condition(ConditionNode {
                    variable,
                    expected,
                    node: Box::new(inner),
                })
            })
    }
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
                        args.push_str(&format!("{}:{},", a.name, a.value));
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
