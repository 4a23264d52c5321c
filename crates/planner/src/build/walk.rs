//! The walk over the operation's selections: fields stay in the current
//! group when its subgraph resolves them; abstract positions are split by
//! runtime type; interface objects get their real type from elsewhere.

use super::*;

impl<'a> Builder<'a> {
    /// Flattens `sels` for objects of type `ty`: fields with the conditions
    /// of the fragments they sit in.
    pub(super) fn collect_for_type(
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
    pub(super) fn plan_set(
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
        self.plan_object_fields(ctx, parent, sels, touched)
    }

    /// Plans `sels` field by field on objects of type `parent`.
    fn plan_object_fields(
        &mut self,
        ctx: &Ctx,
        parent: &Name,
        sels: &[Selection],
        touched: &mut BTreeSet<usize>,
    ) -> Result<(), PlanError> {
        let fields = self.collect_for_type(parent, sels, &[]);
        let mut base = ctx.clone();
        if !ctx.internal {
            base.client_keys = Rc::new(fields.iter().map(|(f, _)| f.head()).collect());
        }
        for (field, conditions) in fields {
            let c = base.under(conditions);
            self.plan_field(&c, parent, &field, touched)?;
        }
        Ok(())
    }

    /// Splits an abstract position by the runtime types its subgraph may return.
    pub(super) fn plan_abstract(
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

    pub(super) fn add_typename(&mut self, ctx: &Ctx) {
        let group = &mut self.groups[ctx.group];
        let set = at_path(&mut group.selections, &ctx.group_path);
        selection::field_index(set, &Field::leaf(name("__typename")));
    }

    /// Plans one field on objects of type `parent`.
    pub(super) fn plan_field(
        &mut self,
        ctx: &Ctx,
        parent: &Name,
        field: &Field,
        touched: &mut BTreeSet<usize>,
    ) -> Result<(), PlanError> {
        if (self.cancelled)() {
            return Err(PlanError::new("planning was cancelled"));
        }
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
    pub(super) fn add_local_field(
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

    /// Plans `sels` on `parent` as plain fields of the current position,
    /// without splitting an abstract type by runtime type.
    pub(super) fn plan_fields_here(
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
        self.plan_object_fields(ctx, parent, sels, touched)
    }

    /// Plans an abstract position that the current subgraph knows as an
    /// `@interfaceObject`: it resolves the interface's own fields, and
    /// another subgraph that knows the real implementations tells the
    /// runtime type and resolves the rest.
    pub(super) fn plan_interface_object(
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
        let inner = self.enter_entity(ctx, parent, target, &key, None, None, &[], touched)?;
        self.note_entry(inner.group, &inner, &Field::leaf(name("__typename")));
        self.add_typename(&inner);
        self.plan_abstract(&inner, parent, &remote, touched)
    }

    /// Sorts the selections on an interface object into what its subgraph
    /// resolves itself and what needs the real implementations.
    pub(super) fn split_interface_object(
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
}
