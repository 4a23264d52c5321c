//! From fetch groups to a plan: subgraph operation text, aliases for
//! conflicting fields, and the ordering of groups into sequence and
//! parallel nodes.

use super::*;

impl<'a> Builder<'a> {
    pub(super) fn into_plan(
        mut self,
        operation: &Operation,
        kind: OperationType,
        roots: usize,
    ) -> Option<PlanNode> {
        self.merge_siblings();
        self.relax_guards();
        let nodes: Vec<PlanNode> = (0..self.groups.len())
            .map(|g| self.fetch_node(g, operation))
            .collect();
        let stage_plan = |members: Vec<usize>| self.schedule(&members, &nodes);
        if kind == OperationType::Mutation {
            let mut seq = vec![];
            for r in 0..roots {
                let members: Vec<usize> = (0..self.groups.len())
                    .filter(|&g| self.groups[g].root_index == r && !self.groups[g].merged)
                    .collect();
                seq.extend(stage_plan(members));
            }
            match seq.len() {
                0 => None,
                1 => seq.pop(),
                _ => Some(PlanNode::Sequence(seq)),
            }
        } else {
            stage_plan(
                (0..self.groups.len())
                    .filter(|&g| !self.groups[g].merged)
                    .collect(),
            )
        }
    }

    /// Merges entity groups of the same subgraph that run at the same
    /// depth of the plan (so neither waits for the other) and ask the same of
    /// their representations: one `_entities` request then serves every
    /// path, and an entity reached by several paths is sent once.
    fn merge_siblings(&mut self) {
        let n = self.groups.len();
        let mut level = vec![0usize; n];
        let mut changed = true;
        while changed {
            changed = false;
            for g in 0..n {
                let l = self.groups[g]
                    .deps
                    .iter()
                    .filter(|&&d| d != g)
                    .map(|&d| level[d] + 1)
                    .max()
                    .unwrap_or(0);
                if l != level[g] && l <= n {
                    level[g] = l;
                    changed = true;
                }
            }
        }
        for a in 0..n {
            for b in a + 1..n {
                let (ga, gb) = (&self.groups[a], &self.groups[b]);
                let mergeable = !ga.merged
                    && !gb.merged
                    && ga.root_kind.is_none()
                    && gb.root_kind.is_none()
                    && ga.graph == gb.graph
                    && ga.root_index == gb.root_index
                    && level[a] == level[b]
                    && (ga.requires == gb.requires
                        || (self.on_object_types(&ga.requires)
                            && self.on_object_types(&gb.requires)
                            && same_where_shared(&ga.requires, &gb.requires)))
                    && ga.rewrites == gb.rewrites
                    && ga.guards == gb.guards
                    && compatible(&ga.selections, &gb.selections);
                if !mergeable {
                    continue;
                }
                let taken = std::mem::take(&mut self.groups[b].selections);
                let requires = std::mem::take(&mut self.groups[b].requires);
                let deps = std::mem::take(&mut self.groups[b].deps);
                let mut paths = vec![self.groups[b].merge_path.clone()];
                paths.extend(std::mem::take(&mut self.groups[b].also));
                self.groups[b].merged = true;
                let ga = &mut self.groups[a];
                merge_into(&mut ga.selections, &taken);
                merge_into(&mut ga.requires, &requires);
                ga.deps.extend(deps);
                ga.deps.remove(&a);
                for p in paths {
                    if p != ga.merge_path && !ga.also.contains(&p) {
                        ga.also.push(p);
                    }
                }
                for g in &mut self.groups {
                    if g.deps.remove(&b) {
                        g.deps.insert(a);
                    }
                }
            }
        }
    }

    /// A fetch runs whenever a fetch that depends on it runs: its
    /// conditions shrink to those it shares with each dependent (a fetch of
    /// requirements for a skipped field still runs when the fetch that needs
    /// them runs anyway, for its other fields: its representations carry
    /// them). Found by the differential tester.
    fn relax_guards(&mut self) {
        let mut changed = true;
        while changed {
            changed = false;
            for d in 0..self.groups.len() {
                if self.groups[d].merged {
                    continue;
                }
                let dependent = self.groups[d].guards.clone().unwrap_or_default();
                for x in self.groups[d].deps.clone() {
                    if x == d {
                        continue;
                    }
                    let Some(guards) = self.groups[x].guards.as_mut() else {
                        continue;
                    };
                    let before = guards.len();
                    guards.retain(|g| dependent.contains(g));
                    changed |= guards.len() != before;
                }
            }
        }
    }

    /// Is every fragment of a representation shape on an object type? (Then
    /// an object matches exactly one fragment per type.)
    fn on_object_types(&self, requires: &[Selection]) -> bool {
        requires.iter().all(|s| match s {
            Selection::Fragment(f) => f.type_condition.as_ref().is_some_and(|t| {
                self.sg
                    .type_info(t)
                    .is_some_and(|i| i.kind == TypeKind::Object)
            }),
            Selection::Field(_) => false,
        })
    }

    /// Orders `members` by their dependencies: the nested order (see
    /// [`Self::schedule_nested`]) unless it takes more waves of requests
    /// than running the groups level by level, the fewest possible (the
    /// longest chain of dependencies).
    pub(super) fn schedule(&self, members: &[usize], nodes: &[PlanNode]) -> Option<PlanNode> {
        let nested = self.schedule_nested(members, nodes)?;
        let levels = self.schedule_levels(members, nodes)?;
        if waves(&levels) < waves(&nested) {
            Some(levels)
        } else {
            Some(nested)
        }
    }

    /// Every group in the stage of its level: one more than the highest
    /// level among its dependencies.
    fn schedule_levels(&self, members: &[usize], nodes: &[PlanNode]) -> Option<PlanNode> {
        let mut level: Vec<Option<usize>> = vec![None; self.groups.len()];
        let mut changed = true;
        let mut rounds = 0;
        while changed && rounds <= members.len() {
            changed = false;
            rounds += 1;
            for &g in members {
                let deps: Vec<usize> = self.groups[g]
                    .deps
                    .iter()
                    .copied()
                    .filter(|d| members.contains(d) && *d != g)
                    .collect();
                let l = deps
                    .iter()
                    .map(|&d| level[d].map(|x| x + 1))
                    .try_fold(0, |acc, x| x.map(|x| acc.max(x)));
                if l.is_some() && level[g] != l {
                    level[g] = l;
                    changed = true;
                }
            }
        }
        let mut stages: Vec<Vec<PlanNode>> = vec![];
        for &g in members {
            // A cycle (never built) leaves a group without a level: last.
            let l = level[g].unwrap_or(members.len());
            if stages.len() <= l {
                stages.resize_with(l + 1, Vec::new);
            }
            stages[l].push(nodes[g].clone());
        }
        let mut stages: Vec<PlanNode> = stages
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(parallel)
            .collect();
        match stages.len() {
            0 => None,
            1 => stages.pop(),
            _ => Some(PlanNode::Sequence(stages)),
        }
    }

    /// Orders `members` by their dependencies. A group that depends on one
    /// group only runs right after it (a `Sequence` under it), so a chain
    /// never waits for unrelated fetches; a group that depends on several
    /// runs in a later stage, once all of them are done.
    fn schedule_nested(&self, members: &[usize], nodes: &[PlanNode]) -> Option<PlanNode> {
        let deps_in = |g: usize| -> Vec<usize> {
            self.groups[g]
                .deps
                .iter()
                .copied()
                .filter(|d| members.contains(d) && *d != g)
                .collect()
        };
        let mut scheduled: BTreeSet<usize> = BTreeSet::new();
        let mut stages: Vec<PlanNode> = vec![];
        loop {
            let ready: Vec<usize> = members
                .iter()
                .copied()
                .filter(|g| !scheduled.contains(g))
                .filter(|&g| {
                    let d = deps_in(g);
                    d.len() != 1 && d.iter().all(|x| scheduled.contains(x))
                })
                .collect();
            if ready.is_empty() {
                break;
            }
            let mut here = vec![];
            for g in ready {
                here.push(self.subtree(g, members, nodes, &deps_in, &mut scheduled));
            }
            stages.push(parallel(here));
        }
        // Anything left waits on a cycle, which the planner never builds;
        // run it last rather than lose it.
        let left: Vec<PlanNode> = members
            .iter()
            .filter(|g| !scheduled.contains(g))
            .map(|&g| nodes[g].clone())
            .collect();
        if !left.is_empty() {
            stages.push(parallel(left));
        }
        match stages.len() {
            0 => None,
            1 => stages.pop(),
            _ => Some(PlanNode::Sequence(stages)),
        }
    }

    /// `g`, then (in parallel) every group that depends on `g` alone.
    fn subtree(
        &self,
        g: usize,
        members: &[usize],
        nodes: &[PlanNode],
        deps_in: &dyn Fn(usize) -> Vec<usize>,
        scheduled: &mut BTreeSet<usize>,
    ) -> PlanNode {
        scheduled.insert(g);
        let children: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&c| !scheduled.contains(&c) && deps_in(c) == [g])
            .collect();
        if children.is_empty() {
            return nodes[g].clone();
        }
        let mut after = vec![];
        for c in children {
            after.push(self.subtree(c, members, nodes, deps_in, scheduled));
        }
        PlanNode::Sequence(vec![nodes[g].clone(), parallel(after)])
    }

    /// Aliases fields that share a response key but not a type in this
    /// subgraph (a subgraph would reject the operation otherwise). The
    /// executor strips [`ALIAS_PREFIX`] from response keys.
    pub(super) fn alias_conflicts(
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

    pub(super) fn fetch_node(&self, g: usize, operation: &Operation) -> PlanNode {
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
        if group.root_kind.is_some() {
            // Every root field conditional: never an empty operation (see
            // `may_be_empty`; async-graphql answers `"data": null` to one).
            selection::guard_empty(&mut selections);
        }
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
        let has_type_conditions = text.contains("... on ");
        let fetch = PlanNode::Fetch(Box::new(FetchNode {
            service: self.sg.graphs[group.graph].name.clone(),
            graph: group.graph,
            kind,
            operation: text,
            variable_usages: used,
            requires: group.requires.clone(),
            typename_rewrites: group.rewrites.clone(),
            has_aliases,
            has_type_conditions,
        }));
        let node = if entity {
            PlanNode::Flatten(FlattenNode {
                path: group.merge_path.clone(),
                also: group.also.clone(),
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

/// One node, or a `Parallel` of several.
/// How many waves of subgraph requests `node` takes: requests that must
/// wait for others' answers, counted along the longest chain.
pub(super) fn waves(node: &PlanNode) -> usize {
    match node {
        PlanNode::Fetch(_) => 1,
        PlanNode::Flatten(f) => waves(&f.node),
        PlanNode::Condition(c) => waves(&c.node),
        PlanNode::Sequence(nodes) => nodes.iter().map(waves).sum(),
        PlanNode::Parallel(nodes) => nodes.iter().map(waves).max().unwrap_or(0),
    }
}

fn parallel(mut nodes: Vec<PlanNode>) -> PlanNode {
    if nodes.len() == 1 {
        nodes.pop().unwrap()
    } else {
        PlanNode::Parallel(nodes)
    }
}

/// Flattens a `Sequence` inside a `Sequence` and a `Parallel` inside a `Parallel`.
pub(super) fn normalize(node: PlanNode) -> PlanNode {
    match node {
        PlanNode::Sequence(children) => {
            let mut out = vec![];
            for c in children.into_iter().map(normalize) {
                match c {
                    PlanNode::Sequence(inner) => out.extend(inner),
                    other => out.push(other),
                }
            }
            PlanNode::Sequence(out)
        }
        PlanNode::Parallel(children) => {
            let mut out = vec![];
            for c in children.into_iter().map(normalize) {
                match c {
                    PlanNode::Parallel(inner) => out.extend(inner),
                    other => out.push(other),
                }
            }
            PlanNode::Parallel(out)
        }
        PlanNode::Condition(mut c) => {
            c.node = Box::new(normalize(*c.node));
            PlanNode::Condition(c)
        }
        other => other,
    }
}

/// Do two representation shapes agree on every type they both have? (An
/// object gets the shape of its type; a type whose shapes differ would make
/// some objects miss fields the merged shape asks for.)
fn same_where_shared(a: &[Selection], b: &[Selection]) -> bool {
    a.iter().all(|sa| match sa {
        Selection::Fragment(x) => b.iter().all(|sb| match sb {
            Selection::Fragment(y) if y.type_condition == x.type_condition => x == y,
            _ => true,
        }),
        _ => false,
    }) && b.iter().all(|sb| matches!(sb, Selection::Fragment(_)))
}

/// Can two groups' selections share one operation? Fields under the same
/// response key must be the same field (arguments, directives included).
fn compatible(a: &[Selection], b: &[Selection]) -> bool {
    a.iter().all(|sa| {
        b.iter().all(|sb| match (sa, sb) {
            (Selection::Field(fa), Selection::Field(fb))
                if fa.response_key() == fb.response_key() =>
            {
                fa.same_head(fb) && compatible(&fa.selections, &fb.selections)
            }
            (Selection::Fragment(x), Selection::Fragment(y))
                if x.type_condition == y.type_condition =>
            {
                compatible(&x.selections, &y.selections)
            }
            _ => true,
        })
    })
}
