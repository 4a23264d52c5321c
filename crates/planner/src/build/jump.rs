//! Leaving the current subgraph: entity jumps by key, fetching a field
//! through its parent, and choosing subgraphs for root fields.

use super::*;

impl<'a> Builder<'a> {
    /// Plans `field` through an `_entities` fetch to another subgraph (or to
    /// the same one, for `@requires`).
    pub(super) fn plan_jump(
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
        if entered_as.is_none() && self.plan_via_root(ctx, parent, field, target, touched)? {
            return Ok(());
        }
        self.jump_to(ctx, parent, field, target, &key, entered_as, touched)
    }

    /// Plans `field` (on `ty`, at `ctx`) by selecting its whole path again
    /// from the root in `target`, when `ctx` is still inside a query's root
    /// fetch and `target` resolves every field on the path (shared fields):
    /// a root fetch that runs beside the current one, where an entity fetch
    /// would wait for it. Not when an entity fetch to `target` is already
    /// planned at this path (the field joins it at no cost). Returns false
    /// when the path cannot be taken.
    fn plan_via_root(
        &mut self,
        ctx: &Ctx,
        ty: &Name,
        field: &Field,
        target: GraphId,
        touched: &mut BTreeSet<usize>,
    ) -> Result<bool, PlanError> {
        if ctx.internal
            || self.via_root
            || self.groups[ctx.group].root_kind != Some(OperationType::Query)
            || !self.resolvable(ty, &field.name, target, None)
            || self.groups.iter().any(|g| {
                g.graph == target
                    && g.root_kind.is_none()
                    && !g.merged
                    && g.merge_path == ctx.response_path
            })
        {
            return Ok(false);
        }
        let mut inner = wrap_conditions(Selection::Field(field.clone()), ctx.conditions.clone());
        let mut inner_ty = ty.clone();
        let mut link = ctx.parent.clone();
        while let Some(l) = link {
            if l.ctx.group != ctx.group
                || !self.resolvable(&l.parent_type, &l.field.name, target, None)
            {
                return Ok(false);
            }
            let Ok(def) = self.sg.schema.type_field(&l.parent_type, &l.field.name) else {
                return Ok(false);
            };
            let declared = def.ty.inner_named_type().clone();
            if declared != inner_ty {
                // Only a type the target may return there.
                if !self
                    .sg
                    .possible_types_in_graph(&declared, target)
                    .contains(&inner_ty)
                {
                    return Ok(false);
                }
                inner = typed(&inner_ty, inner);
            }
            let via = selected_through(&l.field, inner);
            if l.ctx.parent.is_none() {
                // At the root: a root fetch in `target`.
                self.via_root = true;
                let planned = self.plan_in_graph(&l.ctx, &l.parent_type, &via, target, touched);
                self.via_root = false;
                planned?;
                // The current fetch may have nothing else to select here.
                self.add_typename(ctx);
                return Ok(true);
            }
            inner = wrap_conditions(Selection::Field(via), l.ctx.conditions.clone());
            inner_ty = l.parent_type.clone();
            link = l.ctx.parent.clone();
        }
        Ok(false)
    }

    /// Fetches `field` of the `parent` objects at `ctx` from `target`,
    /// entered by `key` (as the `@interfaceObject` `entered_as`, if set).
    #[allow(clippy::too_many_arguments)]
    fn jump_to(
        &mut self,
        ctx: &Ctx,
        parent: &Name,
        field: &Field,
        target: GraphId,
        key: &Key,
        entered_as: Option<Name>,
        touched: &mut BTreeSet<usize>,
    ) -> Result<(), PlanError> {
        let as_type = entered_as.clone().unwrap_or_else(|| parent.clone());
        let fig = self.field_in_graph(&as_type, &field.name, target);
        let requires = fig.as_ref().and_then(|f| f.requires.clone());
        let inner = self.enter_entity(
            ctx,
            parent,
            target,
            key,
            entered_as,
            requires.as_deref(),
            &guards_of(&field.directives),
            touched,
        )?;
        self.note_entry(inner.group, &inner, field);
        self.add_local_field(&inner, &as_type, field, fig.as_ref(), touched)
    }

    /// Plans `field` (on `ty`, at `ctx`) by selecting the parent field again
    /// from a subgraph that resolves both, one level up (or further).
    /// Returns false when no subgraph can.
    pub(super) fn plan_via_parent(
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
            inner = typed(ty, inner);
        }
        let via = selected_through(&link.field, inner);
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
    pub(super) fn plan_in_graph(
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
                self.jump_to(ctx, parent, field, target, &key, entered_as, touched)
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
    /// `field_guards` are the variable conditions of the field the entry is
    /// for.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn enter_entity(
        &mut self,
        ctx: &Ctx,
        parent: &Name,
        target: GraphId,
        key: &Key,
        entered_as: Option<Name>,
        requires: Option<&apollo_compiler::executable::SelectionSet>,
        field_guards: &[Guard],
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
        alias_taken_keys(&mut needed, &ctx.client_keys);
        let mut deps = BTreeSet::new();
        if let Some(already) = self.inputs_already_there(ctx, parent, &needed) {
            // The current group was entered with these very fields: the new
            // group can use them too, without waiting for the current group.
            deps = already;
        } else {
            // Keys and requirements are selected whatever this level's
            // @skip/@include say (another field may need them too), but a
            // fetch made only for them keeps the conditions of the field
            // they are for: groups remember the conditions every entry
            // shares, so one entered unconditionally too runs always.
            let mut sub = ctx.clone();
            let levels = sub.group_path.len() - sub.conditions.len();
            sub.group_path.truncate(levels);
            sub.conditions.clear();
            sub.guards.extend(field_guards.iter().cloned());
            sub.internal = true;
            sub.jump_depth += 1;
            self.plan_fields_here(&sub, parent, &needed, &mut deps)?;
        }
        touched.extend(deps.iter().copied());

        let group = self.entity_group(
            target,
            &ctx.response_path,
            &deps,
            ctx.root_index,
            (parent, &needed),
            entered_as.as_ref(),
            &[ctx.guards.as_slice(), field_guards].concat(),
        );
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
            client_keys: Rc::default(),
            internal: ctx.internal,
            jump_depth: ctx.jump_depth,
            root_index: ctx.root_index,
            parent: ctx.parent.clone(),
        };
        Ok(inner.under(ctx.conditions.clone()))
    }

    /// Picks the subgraph (and key) to fetch `parent.field` from, when the
    /// current group cannot. The third value is set when the target is
    /// entered as an `@interfaceObject` (representations use that name).
    pub(super) fn choose_jump(
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
        let mut options: Vec<(i64, GraphId, Key, Option<Name>)> = Vec::new();
        for (target, known_as, entered_as) in entries {
            let fig = self.sg.field_in_graph(&known_as, field, target);
            // The current subgraph again only for a `@requires`, or as the
            // `@interfaceObject` of an interface `parent` implements (it may
            // know `parent` as an entity of its own too).
            if target == from && known_as == *parent && fig.is_some_and(|f| f.requires.is_none()) {
                continue;
            }
            let keys: Vec<&Key> = self
                .sg
                .type_info(&known_as)
                .and_then(|t| t.in_graph(target))
                .map(|t| t.keys.iter().filter(|k| k.resolvable).collect())
                .unwrap_or_default();
            for key in keys {
                // A key that holds the field itself leads to it only when
                // the current subgraph can supply that key.
                let local = self.selection_local(from, parent, &key.selection);
                if !local && key.selection.fields().any(|f| f.name == field) {
                    continue;
                }
                let mut cost: i64 = 10;
                if !local {
                    cost += 100;
                }
                if self.groups.iter().any(|g| {
                    g.graph == target && g.root_kind.is_none() && g.merge_path == ctx.response_path
                }) {
                    cost -= 5;
                }
                options.push((cost, target, key.clone(), entered_as.clone()));
            }
        }
        // The cheapest way in, unless the search (`search.rs`) chose the
        // subgraph for this decision; every decision with more than one
        // subgraph to go to is recorded for it.
        let decision = format!("{parent}.{field}@{:?}", ctx.response_path);
        let chosen = self.jump_choices.get(&decision).copied();
        for option in &options {
            let preferred = chosen.is_some_and(|c| c == option.1);
            let better = match &best {
                None => true,
                Some(b) => {
                    let b_preferred = chosen.is_some_and(|c| c == b.1);
                    (preferred && !b_preferred) || (preferred == b_preferred && option.0 < b.0)
                }
            };
            if better {
                best = Some(option.clone());
            }
        }
        let mut targets: Vec<GraphId> = options.iter().map(|o| o.1).collect();
        targets.sort_unstable();
        targets.dedup();
        if targets.len() > 1 {
            if let Some(b) = &best {
                self.decisions
                    .borrow_mut()
                    .push((Choice::Jump(decision), b.1, targets));
            }
        }
        best.map(|(_, g, k, r)| (g, k, r)).ok_or_else(|| {
            PlanError::new(format!(
                "cannot plan {parent}.{field}: subgraph {} cannot resolve it and no other subgraph can be entered with a key",
                self.sg.graphs[from].name
            ))
        })
    }

    /// An entity group for `graph` at `path`, reused when that adds no cycle
    /// and its representations of `rep.0` can hold the fields `rep.1` (a
    /// representation holds one value per field name: two requirements of
    /// one field with different arguments need two fetches), that enters it
    /// the same way (`entered_as`) and, with another representation shape,
    /// under the same conditions (`guards`).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn entity_group(
        &mut self,
        graph: GraphId,
        path: &[PathElement],
        deps: &BTreeSet<usize>,
        root_index: usize,
        rep: (&Name, &[Selection]),
        entered_as: Option<&Name>,
        guards: &[Guard],
    ) -> usize {
        let existing = (0..self.groups.len()).find(|&g| {
            let group = &self.groups[g];
            group.graph == graph
                && group.root_kind.is_none()
                && group.merge_path == path
                && group.root_index == root_index
                && !deps.contains(&g)
                && !deps.iter().any(|&d| self.depends_on(d, g))
                && !representations_clash(&group.requires, rep.0, rep.1)
                && !entries_clash(group, rep.0, entered_as)
                && !conditions_clash(group, rep.0, rep.1, guards)
        });
        match existing {
            Some(g) => g,
            None => self.new_group(graph, None, path.to_vec(), root_index),
        }
    }

    /// Does group `a` (transitively) depend on group `b`?
    pub(super) fn depends_on(&self, a: usize, b: usize) -> bool {
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
    pub(super) fn choose_root_graph(
        &self,
        root: &Name,
        field: &Field,
    ) -> Result<GraphId, PlanError> {
        if let Some(&g) = self.root_choices.get(field.response_key()) {
            if self.resolvable(root, &field.name, g, None) {
                return Ok(g);
            }
        }
        let mut best: Option<(i64, GraphId)> = None;
        let mut candidates = Vec::new();
        for g in 0..self.sg.graphs.len() {
            if !self.resolvable(root, &field.name, g, None) {
                continue;
            }
            candidates.push(g);
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
        if let (Some(b), true) = (best, candidates.len() > 1) {
            // Recorded for the search (`search.rs`).
            let choice = Choice::Root(field.response_key().clone());
            self.decisions.borrow_mut().push((choice, b.1, candidates));
        }
        best.map(|b| b.1).ok_or_else(|| {
            PlanError::new(format!(
                "no subgraph can resolve the root field {root}.{}",
                field.name
            ))
        })
    }

    /// Roughly how many of `sels` subgraph `graph` resolves without a jump.
    pub(super) fn local_score(
        &self,
        graph: GraphId,
        ty: &str,
        sels: &[Selection],
        depth: usize,
    ) -> i64 {
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

    /// When `ctx` is the top of an entity group whose representations of
    /// `parent` already hold every field of `needed`, the groups those
    /// representations came from.
    fn inputs_already_there(
        &self,
        ctx: &Ctx,
        parent: &Name,
        needed: &[Selection],
    ) -> Option<BTreeSet<usize>> {
        let group = &self.groups[ctx.group];
        if group.root_kind.is_some()
            || group.merge_path != ctx.response_path
            || ctx.group_path.len() != 1 + ctx.conditions.len()
        {
            return None;
        }
        let rep = group.requires.iter().find_map(|s| match s {
            Selection::Fragment(f) if f.type_condition.as_ref() == Some(parent) => Some(f),
            _ => None,
        })?;
        selection_covers(&rep.selections, needed).then(|| group.deps.clone())
    }
}

/// Does `have` select everything `want` selects?
fn selection_covers(have: &[Selection], want: &[Selection]) -> bool {
    want.iter().all(|w| match w {
        Selection::Field(wf) => have.iter().any(|h| match h {
            Selection::Field(hf) => {
                hf.same_head(wf) && selection_covers(&hf.selections, &wf.selections)
            }
            _ => false,
        }),
        Selection::Fragment(wfr) => have.iter().any(|h| match h {
            Selection::Fragment(hfr) => {
                hfr.type_condition == wfr.type_condition
                    && hfr.directives == wfr.directives
                    && selection_covers(&hfr.selections, &wfr.selections)
            }
            _ => false,
        }),
    })
}

/// Whether `requires` (an entity group's representations, one fragment per
/// type) already holds, for `parent`, a field of the same name as one of
/// `needed` but with other arguments (another response key), at any depth:
/// the representation would carry one of the two values under that name.
/// Whether `group` already holds representations of `parent` sent under
/// another `__typename` than `entered_as` says: a subgraph that knows an
/// interface as an `@interfaceObject` and one of its implementations as an
/// entity is entered both ways, and one fetch carries one `__typename` per
/// type (issue 17's differential tester found them merged).
fn entries_clash(group: &super::Group, parent: &Name, entered_as: Option<&Name>) -> bool {
    let has_parent = group.requires.iter().any(
        |s| matches!(s, Selection::Fragment(fr) if fr.type_condition.as_ref() == Some(parent)),
    );
    let rewrite = group
        .rewrites
        .iter()
        .find(|(t, _)| t == parent)
        .map(|(_, as_type)| as_type);
    has_parent && rewrite != entered_as
}

/// Whether an entry under conditions `guards` would join `group`, entered
/// under other conditions, with another representation shape for
/// `parent`: the fields one entry needs may have been fetched only under
/// the other's conditions, and an object missing them is left out of the
/// fetch, for both entries' fields (issue 17's differential tester: a
/// sibling's non-null field came back `null`).
fn conditions_clash(
    group: &super::Group,
    parent: &Name,
    needed: &[Selection],
    guards: &[Guard],
) -> bool {
    let Some(group_guards) = &group.guards else {
        return false;
    };
    let same_conditions = group_guards.iter().all(|g| guards.contains(g))
        && guards.iter().all(|g| group_guards.contains(g));
    if same_conditions {
        return false;
    }
    group.requires.iter().any(|s| match s {
        Selection::Fragment(fr) if fr.type_condition.as_ref() == Some(parent) => {
            let has = |a: &[Selection], b: &Selection| a.contains(b);
            !(fr.selections.iter().all(|x| has(needed, x))
                && needed.iter().all(|x| has(&fr.selections, x)))
        }
        _ => false,
    })
}

fn representations_clash(requires: &[Selection], parent: &Name, needed: &[Selection]) -> bool {
    requires.iter().any(|s| match s {
        Selection::Fragment(fr) if fr.type_condition.as_ref() == Some(parent) => {
            fields_clash(&fr.selections, needed)
        }
        _ => false,
    })
}

/// Whether two selection lists of one object ask one field name under two
/// response keys (so with different arguments), here or below a shared key.
fn fields_clash(a: &[Selection], b: &[Selection]) -> bool {
    let (fa, fb) = (top_fields(a), top_fields(b));
    fa.iter().any(|x| {
        fb.iter().any(|y| {
            let key =
                |f: &crate::selection::Field| f.alias.clone().unwrap_or_else(|| f.name.clone());
            (x.name == y.name && key(x) != key(y))
                || (key(x) == key(y) && fields_clash(&x.selections, &y.selections))
        })
    })
}

/// The fields of a selection list, with those of untyped fragments.
fn top_fields(sels: &[Selection]) -> Vec<&crate::selection::Field> {
    let mut out = Vec::new();
    for s in sels {
        match s {
            Selection::Field(f) => out.push(f),
            Selection::Fragment(fr) if fr.type_condition.is_none() => {
                out.extend(top_fields(&fr.selections))
            }
            Selection::Fragment(_) => {}
        }
    }
    out
}

/// `inner` under `... on ty`.
fn typed(ty: &Name, inner: Selection) -> Selection {
    Selection::Fragment(Fragment {
        type_condition: Some(ty.clone()),
        directives: DirectiveList::new(),
        selections: vec![inner],
    })
}

/// `field` (its head: alias, arguments, directives) selecting `inner`, to
/// select a field again through its parent; with `__typename` when `inner`
/// may select nothing at run time.
fn selected_through(field: &Field, inner: Selection) -> Field {
    let mut via = field.clone();
    via.selections = vec![inner];
    crate::selection::guard_empty(&mut via.selections);
    via
}
