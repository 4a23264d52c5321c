//! Who can resolve what: ownership questions answered from the supergraph
//! model, with `@external`, `@provides`, `@override` and labels applied.

use super::*;

impl<'a> Builder<'a> {
    pub(super) fn field_info(&self, parent: &str, field: &str) -> Option<&'a FieldInfo> {
        self.sg.type_info(parent)?.fields.get(field)
    }

    pub(super) fn field_in_graph(
        &self,
        parent: &str,
        field: &str,
        graph: GraphId,
    ) -> Option<FieldInGraph> {
        self.sg.field_in_graph(parent, field, graph).cloned()
    }

    /// Whether `@override` lets `fig`'s subgraph resolve the field.
    pub(super) fn override_allows(
        &self,
        info: &FieldInfo,
        fig: &FieldInGraph,
        internal: bool,
    ) -> bool {
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
    pub(super) fn resolvable(
        &self,
        parent: &str,
        field: &str,
        graph: GraphId,
        ctx: Option<&Ctx>,
    ) -> bool {
        let internal = ctx.is_some_and(|c| c.internal);
        let provided = ctx.and_then(|c| c.provided.as_deref()).map(Vec::as_slice);
        self.resolvable_with(parent, field, graph, provided, internal)
    }

    /// [`Self::resolvable`] with its inputs spelled out: what `@provides`
    /// covers here, and whether the field is wanted for a key or a
    /// requirement (`internal`) rather than by the client.
    pub(super) fn resolvable_with(
        &self,
        parent: &str,
        field: &str,
        graph: GraphId,
        provided: Option<&[Selection]>,
        internal: bool,
    ) -> bool {
        let Some(info) = self.field_info(parent, field) else {
            return false;
        };
        let Some(fig) = info.graphs.iter().find(|f| f.graph == graph) else {
            return false;
        };
        if !self.override_allows(info, fig, internal) {
            return false;
        }
        if !internal {
            if let Some(pinned) = self.pins.get(&(parent, field)) {
                if self.sg.graphs[graph].name != *pinned {
                    return false;
                }
            }
        }
        if fig.external {
            if provided.is_some_and(|p| self.provided_child(p, parent, field).is_some()) {
                return true;
            }
            // An external key field is known to the subgraph that declares
            // the key when it builds a representation; clients cannot ask
            // that subgraph for it.
            return internal && self.is_key_field(parent, field, graph);
        }
        true
    }

    /// Is `field` a top-level field of one of `parent`'s keys in `graph`?
    pub(super) fn is_key_field(&self, parent: &str, field: &str, graph: GraphId) -> bool {
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
    pub(super) fn provided_child(
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
    pub(super) fn applies(&self, condition: Option<&str>, ty: &str) -> bool {
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

    pub(super) fn is_interface_object(&self, ty: &str, graph: GraphId) -> bool {
        self.sg
            .type_info(ty)
            .and_then(|t| t.in_graph(graph))
            .is_some_and(|t| t.is_interface_object)
    }

    /// Can some subgraph resolve `parent.field` on the interface itself,
    /// entered by a resolvable key?
    pub(super) fn resolvable_elsewhere(&self, parent: &str, field: &str) -> bool {
        let Some(info) = self.sg.type_info(parent) else {
            return false;
        };
        info.graphs.iter().any(|t| {
            t.keys.iter().any(|k| k.resolvable)
                && self.resolvable(parent, field, t.graph, None)
                && (t.is_interface_object || self.implementations_agree(parent, field, t.graph))
        })
    }

    /// Whether `graph` resolves `field` for every implementation of
    /// interface `parent` it knows: an implementation whose field was
    /// `@override`n away from `graph` must not be answered through the
    /// interface there (issue 17's differential tester found one).
    fn implementations_agree(&self, parent: &str, field: &str, graph: GraphId) -> bool {
        self.sg
            .possible_types_in_graph(parent, graph)
            .iter()
            .all(|t| self.resolvable(t, field, graph, None))
    }

    /// The interfaces an object type implements, in the supergraph.
    pub(super) fn interfaces_of(&self, ty: &str) -> Vec<Name> {
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
    pub(super) fn selection_local(
        &self,
        graph: GraphId,
        parent: &str,
        set: &apollo_compiler::executable::SelectionSet,
    ) -> bool {
        set.fields().all(|f| {
            self.resolvable_with(parent, &f.name, graph, None, true)
                && (f.selection_set.selections.is_empty()
                    || self.selection_local(graph, f.selection_set.ty.as_str(), &f.selection_set))
        })
    }

    /// The type of `parent.field` as subgraph `graph` declares it.
    pub(super) fn subgraph_type(
        &self,
        parent: &str,
        field: &str,
        graph: GraphId,
    ) -> Option<String> {
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
}
