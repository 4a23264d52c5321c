//! The typed model of a supergraph's `@join__*` directives.

use std::collections::HashMap;
use std::sync::Arc;

use apollo_compiler::ast::OperationType;
use apollo_compiler::executable::{FieldSet, SelectionSet};
use apollo_compiler::schema::{Directive, ExtendedType};
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, Schema};
use indexmap::IndexMap;

/// Index of a subgraph in [`Supergraph::graphs`].
pub type GraphId = usize;

/// Why a supergraph could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SupergraphError {
    /// The SDL does not parse or validate as a GraphQL schema.
    #[error("the supergraph is not a valid GraphQL schema:\n{0}")]
    InvalidSchema(String),
    /// The schema is valid GraphQL but not a supergraph goliath can serve.
    #[error("unsupported supergraph: {0}")]
    Unsupported(String),
    /// A `@join__*` directive is malformed.
    #[error("invalid supergraph: {0}")]
    Invalid(String),
}

/// One subgraph, from a value of the `join__Graph` enum.
#[derive(Debug, Clone)]
pub struct Graph {
    /// The subgraph's name, as given in `@join__graph(name:)`.
    pub name: String,
    /// The `join__Graph` enum value naming it in join directives.
    pub enum_value: Name,
    /// Where the subgraph is served (`@join__graph(url:)`).
    pub url: String,
}

/// What kind of GraphQL type a [`TypeInfo`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeKind {
    /// An object type.
    Object,
    /// An interface.
    Interface,
    /// A union.
    Union,
    /// An enum.
    Enum,
    /// An input object.
    InputObject,
    /// A scalar.
    Scalar,
}

/// A `@key` of a type in one subgraph.
#[derive(Debug, Clone)]
pub struct Key {
    /// The field set text, as written in the directive.
    pub fields: String,
    /// The parsed field set (on the key's type, in the supergraph schema).
    pub selection: Arc<SelectionSet>,
    /// False for `resolvable: false` keys: the subgraph cannot be entered by it.
    pub resolvable: bool,
}

/// A type's presence in one subgraph (`@join__type`).
#[derive(Debug, Clone)]
pub struct TypeInGraph {
    /// The subgraph.
    pub graph: GraphId,
    /// Its keys there (empty for value types).
    pub keys: Vec<Key>,
    /// True when the subgraph only extends the type.
    pub extension: bool,
    /// True when the subgraph defines this interface as an object (`@interfaceObject`).
    pub is_interface_object: bool,
}

/// A field's presence in one subgraph (`@join__field`).
#[derive(Debug, Clone, Default)]
pub struct FieldInGraph {
    /// The subgraph.
    pub graph: GraphId,
    /// `@requires` field set, parsed on the parent type.
    pub requires: Option<Arc<SelectionSet>>,
    /// `@provides` field set, parsed on the field's type.
    pub provides: Option<Arc<SelectionSet>>,
    /// The field's type in that subgraph when it differs from the supergraph's.
    pub ty: Option<String>,
    /// `@external` there: the subgraph cannot resolve it (unless provided).
    pub external: bool,
    /// `@override(from:)`: the subgraph this field was taken from.
    pub override_from: Option<String>,
    /// `@override(label:)`: the progressive-override label.
    pub override_label: Option<String>,
    /// The field is overridden in this subgraph but still used (for keys or requires).
    pub used_overridden: bool,
}

/// A field of an object or interface type.
#[derive(Debug, Clone)]
pub struct FieldInfo {
    /// The field's name.
    pub name: Name,
    /// Its parent type.
    pub parent: Name,
    /// The subgraphs where it is defined. When the supergraph has no
    /// `@join__field` for it, this lists every subgraph of the parent type.
    pub graphs: Vec<FieldInGraph>,
}

/// A named type and where it lives.
#[derive(Debug, Clone)]
pub struct TypeInfo {
    /// The type's name.
    pub name: Name,
    /// What kind of type it is.
    pub kind: TypeKind,
    /// Its presence in each subgraph that defines it.
    pub graphs: Vec<TypeInGraph>,
    /// Its fields (objects and interfaces only).
    pub fields: IndexMap<Name, FieldInfo>,
    /// `(graph, interface)` for each `@join__implements`.
    pub implements: Vec<(GraphId, Name)>,
    /// `(graph, member)` for each `@join__unionMember`.
    pub union_members: Vec<(GraphId, Name)>,
}

impl TypeInfo {
    /// This type's presence in `graph`, if it has one.
    pub fn in_graph(&self, graph: GraphId) -> Option<&TypeInGraph> {
        self.graphs.iter().find(|t| t.graph == graph)
    }

    /// True when some subgraph declares a key for this type.
    pub fn is_entity(&self) -> bool {
        self.graphs.iter().any(|t| !t.keys.is_empty())
    }
}

/// A loaded supergraph: the schema, the API schema and the join model.
#[derive(Debug)]
pub struct Supergraph {
    /// The supergraph schema, with its join directives.
    pub schema: Valid<Schema>,
    /// The schema clients see.
    pub api_schema: Valid<Schema>,
    /// The subgraphs, indexed by [`GraphId`].
    pub graphs: Vec<Graph>,
    /// Every named type (built-ins excluded), with its join information.
    pub types: IndexMap<Name, TypeInfo>,
    /// The demand control directives (`@cost`, `@listSize`).
    pub costs: crate::cost::Costs,
    /// The field migrations (`@migrate`), in schema order.
    pub migrations: Vec<crate::Migration>,
    /// The `@cacheControl` hints on types and fields.
    pub cache_hints: crate::CacheHints,
    /// The access directives (`@authenticated`, `@requiresScopes`,
    /// `@policy`) on types and fields.
    pub access: crate::AccessRules,
    /// Possible runtime types of each abstract type, in the supergraph.
    possible: HashMap<Name, Vec<Name>>,
}

impl Supergraph {
    /// Parses and loads a supergraph SDL.
    pub fn parse(sdl: &str) -> Result<Self, SupergraphError> {
        let schema = Schema::parse_and_validate(sdl, "supergraph.graphql")
            .map_err(|e| SupergraphError::InvalidSchema(e.errors.to_string()))?;
        check_links(&schema)?;
        let graphs = read_graphs(&schema)?;
        let graph_ids: HashMap<Name, GraphId> = graphs
            .iter()
            .enumerate()
            .map(|(i, g)| (g.enum_value.clone(), i))
            .collect();
        let mut types = IndexMap::new();
        for (name, ty) in &schema.types {
            if ty.is_built_in() || is_join_machinery(name) {
                continue;
            }
            types.insert(name.clone(), read_type(&schema, &graph_ids, name, ty)?);
        }
        let api_schema = crate::api_schema::derive(&schema)?;
        let costs = crate::cost::Costs::read(&schema);
        let migrations = crate::migrate::read(&schema, &graphs, &types)?;
        let cache_hints = crate::CacheHints::read(&schema);
        let access = crate::AccessRules::read(&schema);
        let mut possible: HashMap<Name, Vec<Name>> = HashMap::new();
        for (name, ty) in &schema.types {
            match ty {
                ExtendedType::Object(o) => {
                    for i in &o.implements_interfaces {
                        possible
                            .entry(i.name.clone())
                            .or_default()
                            .push(name.clone());
                    }
                }
                ExtendedType::Union(u) => {
                    let members = u.members.iter().map(|m| m.name.clone()).collect();
                    possible.insert(name.clone(), members);
                }
                _ => {}
            }
        }
        Ok(Supergraph {
            schema,
            api_schema,
            graphs,
            types,
            costs,
            migrations,
            cache_hints,
            access,
            possible,
        })
    }

    /// The type named `name`.
    pub fn type_info(&self, name: &str) -> Option<&TypeInfo> {
        self.types.get(name)
    }

    /// The subgraph named `name` (by subgraph name, not enum value).
    pub fn graph_by_name(&self, name: &str) -> Option<GraphId> {
        self.graphs.iter().position(|g| g.name == name)
    }

    /// The root type for an operation kind, if the schema has one.
    pub fn root_type(&self, op: OperationType) -> Option<&Name> {
        self.schema.root_operation(op)
    }

    /// The object types an abstract type may be at run time (an object type is its own).
    pub fn possible_types(&self, name: &str) -> Vec<Name> {
        match self.types.get(name).map(|t| t.kind) {
            Some(TypeKind::Object) => vec![self.types.get_key_value(name).unwrap().0.clone()],
            _ => self.possible.get(name).cloned().unwrap_or_default(),
        }
    }

    /// True when `object` is `ty` or one of its possible runtime types.
    /// Allocation-free: used per object at run time.
    pub fn is_possible_type(&self, ty: &str, object: &str) -> bool {
        ty == object
            || self
                .possible
                .get(ty)
                .is_some_and(|p| p.iter().any(|t| t == object))
    }

    /// True when `ty` is an interface or a union.
    pub fn is_abstract(&self, ty: &str) -> bool {
        matches!(
            self.types.get(ty).map(|t| t.kind),
            Some(TypeKind::Interface | TypeKind::Union)
        )
    }

    /// The object types that subgraph `graph` may return for a position of
    /// abstract type `ty` (its own implementations or union members).
    pub fn possible_types_in_graph(&self, ty: &str, graph: GraphId) -> Vec<Name> {
        let Some(info) = self.types.get(ty) else {
            return vec![];
        };
        match info.kind {
            TypeKind::Object => vec![info.name.clone()],
            TypeKind::Union => info
                .union_members
                .iter()
                .filter(|(g, _)| *g == graph)
                .map(|(_, m)| m.clone())
                .collect(),
            TypeKind::Interface => self
                .possible_types(ty)
                .into_iter()
                .filter(|o| {
                    self.types
                        .get(o)
                        .is_some_and(|oi| oi.implements.iter().any(|(g, i)| *g == graph && i == ty))
                })
                .collect(),
            _ => vec![],
        }
    }

    /// How subgraph `graph` defines field `field` of type `parent`, if at all.
    pub fn field_in_graph(
        &self,
        parent: &str,
        field: &str,
        graph: GraphId,
    ) -> Option<&FieldInGraph> {
        self.types
            .get(parent)?
            .fields
            .get(field)?
            .graphs
            .iter()
            .find(|f| f.graph == graph)
    }
}

fn is_join_machinery(name: &str) -> bool {
    name.starts_with("join__") || name.starts_with("link__")
}

/// Checks the `@link`s: join must be there, the migrate spec (goliath's
/// own) only at a version goliath reads, and no feature we do not know may
/// be `for: EXECUTION` or `for: SECURITY`.
fn check_links(schema: &Schema) -> Result<(), SupergraphError> {
    let links: Vec<&Directive> = schema
        .schema_definition
        .directives
        .iter()
        .filter(|d| d.name == "link" || d.name == "core")
        .map(|d| &***d)
        .collect();
    let url_of = |d: &Directive| {
        d.specified_argument_by_name("url")
            .or_else(|| d.specified_argument_by_name("feature"))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    if !links
        .iter()
        .filter_map(|d| url_of(d))
        .any(|u| u.contains("specs.apollo.dev/join/"))
    {
        return Err(SupergraphError::Unsupported(
            "no @link to the join spec (https://specs.apollo.dev/join/v0.x): this is not a supergraph"
                .into(),
        ));
    }
    for d in &links {
        let Some(url) = url_of(d) else { continue };
        let purpose = d
            .specified_argument_by_name("for")
            .and_then(|v| v.as_enum())
            .map(|n| n.as_str().to_owned());
        let known = [
            "/link/",
            "/core/",
            "/join/",
            "/inaccessible/",
            "/tag/",
            "/authenticated/",
            "/requiresScopes/",
            "/policy/",
        ]
        .iter()
        .any(|k| url.contains(k))
            || crate::migrate::is_migrate_link(&url)?;
        if !known && matches!(purpose.as_deref(), Some("EXECUTION" | "SECURITY")) {
            return Err(SupergraphError::Unsupported(format!(
                "feature {url} is linked for {} and goliath does not implement it",
                purpose.unwrap_or_default()
            )));
        }
    }
    Ok(())
}

fn read_graphs(schema: &Schema) -> Result<Vec<Graph>, SupergraphError> {
    let Some(graph_enum) = schema.get_enum("join__Graph") else {
        return Err(SupergraphError::Invalid(
            "enum join__Graph is missing".into(),
        ));
    };
    let mut graphs = Vec::new();
    for (value, def) in &graph_enum.values {
        let d = def.directives.get("join__graph").ok_or_else(|| {
            SupergraphError::Invalid(format!("join__Graph.{value} has no @join__graph"))
        })?;
        let name = d
            .specified_argument_by_name("name")
            .and_then(|v| v.as_str())
            .unwrap_or(value.as_str())
            .to_owned();
        let url = d
            .specified_argument_by_name("url")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned();
        graphs.push(Graph {
            name,
            enum_value: value.clone(),
            url,
        });
    }
    Ok(graphs)
}

fn graph_arg(
    d: &Directive,
    ids: &HashMap<Name, GraphId>,
    what: &str,
) -> Result<Option<GraphId>, SupergraphError> {
    let Some(v) = d.specified_argument_by_name("graph") else {
        return Ok(None);
    };
    let name = v.as_enum().ok_or_else(|| {
        SupergraphError::Invalid(format!("{what}: graph argument is not a join__Graph value"))
    })?;
    ids.get(name)
        .copied()
        .map(Some)
        .ok_or_else(|| SupergraphError::Invalid(format!("{what}: unknown graph {name}")))
}

fn str_arg<'a>(d: &'a Directive, name: &str) -> Option<&'a str> {
    d.specified_argument_by_name(name).and_then(|v| v.as_str())
}

fn bool_arg(d: &Directive, name: &str) -> Option<bool> {
    d.specified_argument_by_name(name).and_then(|v| v.to_bool())
}

fn parse_field_set(
    schema: &Valid<Schema>,
    ty: &Name,
    fields: &str,
    what: &str,
) -> Result<Arc<SelectionSet>, SupergraphError> {
    FieldSet::parse(schema, ty.clone(), fields, "field_set.graphql")
        .map(|fs| Arc::new(fs.selection_set))
        .map_err(|e| {
            SupergraphError::Invalid(format!(
                "{what}: field set \"{fields}\" on {ty} is invalid: {}",
                e.errors
            ))
        })
}

fn read_type(
    schema: &Valid<Schema>,
    ids: &HashMap<Name, GraphId>,
    name: &Name,
    ty: &ExtendedType,
) -> Result<TypeInfo, SupergraphError> {
    let kind = match ty {
        ExtendedType::Object(_) => TypeKind::Object,
        ExtendedType::Interface(_) => TypeKind::Interface,
        ExtendedType::Union(_) => TypeKind::Union,
        ExtendedType::Enum(_) => TypeKind::Enum,
        ExtendedType::InputObject(_) => TypeKind::InputObject,
        ExtendedType::Scalar(_) => TypeKind::Scalar,
    };
    let mut graphs: Vec<TypeInGraph> = Vec::new();
    for d in ty.directives().get_all("join__type") {
        let what = format!("@join__type on {name}");
        let Some(graph) = graph_arg(d, ids, &what)? else {
            continue;
        };
        let key = match str_arg(d, "key") {
            Some(fields) => Some(Key {
                fields: fields.to_owned(),
                selection: parse_field_set(schema, name, fields, &what)?,
                resolvable: bool_arg(d, "resolvable").unwrap_or(true),
            }),
            None => None,
        };
        let extension = bool_arg(d, "extension").unwrap_or(false);
        let is_interface_object = bool_arg(d, "isInterfaceObject").unwrap_or(false);
        match graphs.iter_mut().find(|t| t.graph == graph) {
            Some(t) => {
                t.keys.extend(key);
                t.extension |= extension;
                t.is_interface_object |= is_interface_object;
            }
            None => graphs.push(TypeInGraph {
                graph,
                keys: key.into_iter().collect(),
                extension,
                is_interface_object,
            }),
        }
    }
    // join v0.1 supergraphs may omit @join__type on value types: then every
    // subgraph is assumed to know the type.
    if graphs.is_empty()
        && !matches!(
            kind,
            TypeKind::Scalar | TypeKind::InputObject | TypeKind::Enum
        )
    {
        graphs = (0..ids.len())
            .map(|graph| TypeInGraph {
                graph,
                keys: vec![],
                extension: false,
                is_interface_object: false,
            })
            .collect();
    }
    let mut implements = Vec::new();
    for d in ty.directives().get_all("join__implements") {
        let what = format!("@join__implements on {name}");
        if let (Some(g), Some(i)) = (graph_arg(d, ids, &what)?, str_arg(d, "interface")) {
            let i = Name::new(i).map_err(|_| SupergraphError::Invalid(what.clone()))?;
            implements.push((g, i));
        }
    }
    let mut union_members = Vec::new();
    for d in ty.directives().get_all("join__unionMember") {
        let what = format!("@join__unionMember on {name}");
        if let (Some(g), Some(m)) = (graph_arg(d, ids, &what)?, str_arg(d, "member")) {
            let m = Name::new(m).map_err(|_| SupergraphError::Invalid(what.clone()))?;
            union_members.push((g, m));
        }
    }
    // Supergraphs without @join__implements (join v0.1): implementations are everywhere.
    if let ExtendedType::Object(o) = ty {
        if implements.is_empty() && !schema.types.values().any(has_join_implements) {
            for i in &o.implements_interfaces {
                for t in &graphs {
                    implements.push((t.graph, i.name.clone()));
                }
            }
        }
    }
    if let ExtendedType::Union(u) = ty {
        if union_members.is_empty() {
            for m in &u.members {
                let member_graphs: Vec<GraphId> = schema
                    .types
                    .get(&m.name)
                    .map(|t| {
                        t.directives()
                            .get_all("join__type")
                            .filter_map(|d| graph_arg(d, ids, "").ok().flatten())
                            .collect()
                    })
                    .unwrap_or_default();
                for g in member_graphs {
                    union_members.push((g, m.name.clone()));
                }
            }
        }
    }
    let mut fields = IndexMap::new();
    let field_defs: Vec<_> = match ty {
        ExtendedType::Object(o) => o.fields.values().cloned().collect(),
        ExtendedType::Interface(i) => i.fields.values().cloned().collect(),
        _ => vec![],
    };
    for def in field_defs {
        let what = format!("@join__field on {name}.{}", def.name);
        let mut in_graphs: Vec<FieldInGraph> = Vec::new();
        let mut saw_join_field = false;
        for d in def.directives.get_all("join__field") {
            saw_join_field = true;
            // A @join__field without graph only marks the field as belonging to no subgraph in particular.
            let Some(graph) = graph_arg(d, ids, &what)? else {
                continue;
            };
            let requires = match str_arg(d, "requires") {
                Some(f) => Some(parse_field_set(schema, name, f, &what)?),
                None => None,
            };
            let provides = match str_arg(d, "provides") {
                Some(f) => {
                    let target = def.ty.inner_named_type();
                    Some(parse_field_set(schema, target, f, &what)?)
                }
                None => None,
            };
            in_graphs.push(FieldInGraph {
                graph,
                requires,
                provides,
                ty: str_arg(d, "type").map(str::to_owned),
                external: bool_arg(d, "external").unwrap_or(false),
                override_from: str_arg(d, "override").map(str::to_owned),
                override_label: str_arg(d, "overrideLabel").map(str::to_owned),
                used_overridden: bool_arg(d, "usedOverridden").unwrap_or(false),
            });
        }
        if !saw_join_field {
            in_graphs = graphs
                .iter()
                .map(|t| FieldInGraph {
                    graph: t.graph,
                    ..Default::default()
                })
                .collect();
        }
        fields.insert(
            def.name.clone(),
            FieldInfo {
                name: def.name.clone(),
                parent: name.clone(),
                graphs: in_graphs,
            },
        );
    }
    Ok(TypeInfo {
        name: name.clone(),
        kind,
        graphs,
        fields,
        implements,
        union_members,
    })
}

fn has_join_implements(ty: &ExtendedType) -> bool {
    ty.directives().has("join__implements")
}
