//! The composed supergraph, before it is printed: every type with its
//! presence in each subgraph, as the `@join__*` directives will record it.

use indexmap::IndexMap;

use crate::access::Access;
use crate::cost::{CostApp, CostSpecUse, ListSizeApp};
use crate::link::Fed;
use crate::subgraph::{KeyDef, Kind};
use crate::types::TypeRef;

/// A subgraph of the supergraph (a value of `join__Graph`).
#[derive(Debug, Clone)]
pub(crate) struct Graph {
    pub name: String,
    /// The `join__Graph` enum value (`PRODUCTS` for `products`).
    pub enum_value: String,
    pub url: String,
}

/// A type's presence in one subgraph (`@join__type`).
#[derive(Debug, Clone)]
pub(crate) struct TypeInGraph {
    pub graph: usize,
    pub keys: Vec<KeyDef>,
    pub extension: bool,
    pub interface_object: bool,
}

/// A field's presence in one subgraph (`@join__field`).
#[derive(Debug, Clone)]
pub(crate) struct FieldEntry {
    pub graph: usize,
    /// The field's type in that subgraph.
    pub ty: TypeRef,
    /// True when `ty` must be recorded (types differ across subgraphs).
    pub record_type: bool,
    pub external: bool,
    pub requires: Option<String>,
    pub provides: Option<String>,
    pub override_from: Option<String>,
    pub override_label: Option<String>,
    pub used_overridden: bool,
}

impl FieldEntry {
    /// True when the entry says nothing beyond "the subgraph has the field".
    pub fn is_plain(&self) -> bool {
        !self.record_type
            && !self.external
            && self.requires.is_none()
            && self.provides.is_none()
            && self.override_from.is_none()
            && self.override_label.is_none()
            && !self.used_overridden
    }
}

/// An argument, or an input object field, once merged: the same shape as
/// in one subgraph.
pub(crate) type MInput = crate::subgraph::InputValue;

/// A field of an object or interface type.
#[derive(Debug, Clone)]
pub(crate) struct MField {
    pub name: String,
    pub description: Option<String>,
    pub ty: TypeRef,
    pub args: IndexMap<String, MInput>,
    pub entries: Vec<FieldEntry>,
    /// Added to an implementation by an `@interfaceObject` (a bare `@join__field`).
    pub via_interface_object: bool,
    pub inaccessible: bool,
    pub directives: Vec<String>,
    pub cost: Option<CostApp>,
    pub list_size: Option<ListSizeApp>,
    /// `@authenticated`, `@requiresScopes`, `@policy` (merged and propagated).
    pub access: Access,
    /// `@migrate`: the field moves from one subgraph to another.
    pub migrate: Option<goliath_supergraph::Migration>,
}

/// An enum value.
#[derive(Debug, Clone)]
pub(crate) struct MValue {
    pub name: String,
    pub description: Option<String>,
    pub graphs: Vec<usize>,
    pub inaccessible: bool,
    pub directives: Vec<String>,
}

/// A type of the supergraph.
#[derive(Debug, Clone)]
pub(crate) struct MType {
    pub name: String,
    pub kind: Kind,
    pub description: Option<String>,
    pub graphs: Vec<TypeInGraph>,
    pub implements: Vec<String>,
    /// `(graph, interface)` for `@join__implements`.
    pub join_implements: Vec<(usize, String)>,
    pub fields: IndexMap<String, MField>,
    pub input_fields: IndexMap<String, MInput>,
    pub members: Vec<String>,
    /// `(graph, member)` for `@join__unionMember`.
    pub join_members: Vec<(usize, String)>,
    pub values: IndexMap<String, MValue>,
    pub inaccessible: bool,
    pub directives: Vec<String>,
    pub cost: Option<CostApp>,
    /// `@authenticated`, `@requiresScopes`, `@policy` (merged and propagated).
    pub access: Access,
}

impl MType {
    /// An empty type of `kind`.
    pub fn new(name: &str, kind: Kind) -> MType {
        MType {
            name: name.to_owned(),
            kind,
            description: None,
            graphs: Vec::new(),
            implements: Vec::new(),
            join_implements: Vec::new(),
            fields: IndexMap::new(),
            input_fields: IndexMap::new(),
            members: Vec::new(),
            join_members: Vec::new(),
            values: IndexMap::new(),
            inaccessible: false,
            directives: Vec::new(),
            cost: None,
            access: Access::default(),
        }
    }

    /// True when `graph` defines this type.
    pub fn in_graph(&self, graph: usize) -> Option<&TypeInGraph> {
        self.graphs.iter().find(|t| t.graph == graph)
    }
}

/// A directive definition composed with `@composeDirective`.
#[derive(Debug, Clone)]
pub(crate) struct ComposedDefinition {
    pub name: String,
    pub definition: String,
    pub link: Option<(String, Option<String>)>,
}

/// The composed supergraph.
#[derive(Debug, Clone, Default)]
pub(crate) struct Composed {
    pub graphs: Vec<Graph>,
    pub types: IndexMap<String, MType>,
    pub composed_directives: Vec<ComposedDefinition>,
    /// The highest federation version among the subgraphs.
    pub max_version: (u32, u32),
    /// How the cost spec is linked, when a subgraph applies `@cost` or `@listSize`.
    pub cost_spec: Option<CostSpecUse>,
    /// The access specs linked (some subgraph applies their directive).
    pub access_specs: Vec<Fed>,
}

impl Composed {
    /// True when any element is `@inaccessible`.
    pub fn uses_inaccessible(&self) -> bool {
        self.types.values().any(|t| {
            t.inaccessible
                || t.fields
                    .values()
                    .any(|f| f.inaccessible || f.args.values().any(|a| a.inaccessible))
                || t.input_fields.values().any(|f| f.inaccessible)
                || t.values.values().any(|v| v.inaccessible)
        })
    }

    /// True when any element carries `@tag`.
    pub fn uses_tag(&self) -> bool {
        let tagged = |ds: &[String]| ds.iter().any(|d| d.starts_with("@tag("));
        self.types.values().any(|t| {
            tagged(&t.directives)
                || t.fields.values().any(|f| {
                    tagged(&f.directives) || f.args.values().any(|a| tagged(&a.directives))
                })
                || t.input_fields.values().any(|f| tagged(&f.directives))
                || t.values.values().any(|v| tagged(&v.directives))
        })
    }

    /// True when some field has `@migrate`.
    pub fn uses_migrate(&self) -> bool {
        self.types
            .values()
            .any(|t| t.fields.values().any(|f| f.migrate.is_some()))
    }

    /// True when a progressive `@override(label:)` is used.
    pub fn uses_override_labels(&self) -> bool {
        self.types.values().any(|t| {
            t.fields
                .values()
                .any(|f| f.entries.iter().any(|e| e.override_label.is_some()))
        })
    }

    /// True when named type `sub` can be returned where `sup` is expected:
    /// an implementation (direct or not) or a member.
    pub fn is_possible_type(&self, sub: &str, sup: &str) -> bool {
        let Some(s) = self.types.get(sup) else {
            return false;
        };
        match s.kind {
            Kind::Union => s.members.iter().any(|m| m == sub),
            Kind::Interface => {
                let mut stack = vec![sub.to_owned()];
                let mut seen = std::collections::HashSet::new();
                while let Some(t) = stack.pop() {
                    if !seen.insert(t.clone()) {
                        continue;
                    }
                    if let Some(ty) = self.types.get(&t) {
                        for i in &ty.implements {
                            if i == sup {
                                return true;
                            }
                            stack.push(i.clone());
                        }
                    }
                }
                false
            }
            _ => false,
        }
    }
}
