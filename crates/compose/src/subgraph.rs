//! One subgraph's schema, read from its SDL into the model composition works
//! on: types with their fields, keys and federation directives, under their
//! canonical names.
//!
//! Reading normalises what differs between subgraphs but means the same:
//! root types are renamed `Query`/`Mutation`/`Subscription`, type
//! definitions and extensions are combined, federation directives are
//! recognised under their imported or prefixed names, and the subgraph
//! machinery (`_service`, `_entities`, `_Any`, `FieldSet`, federation
//! directive definitions) is dropped. The federation rules that concern one
//! subgraph only are checked in [`crate::subgraph_checks`].

use std::collections::{HashMap, HashSet};

use apollo_compiler::ast::{self, OperationType};
use apollo_compiler::Node;
use indexmap::IndexMap;

use crate::access::{self, Access};
use crate::cost::{self, CostApp, ListSizeApp};
use crate::errors::{CompositionError, ErrorCode};
use crate::link::{Fed, Spec};
use crate::migrate::MigrateApp;
use crate::types::{is_builtin_scalar, TypeRef};

/// The input of composition: one subgraph's name, routing URL and SDL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubgraphInput {
    /// The subgraph's name (`join__Graph` values are derived from it).
    pub name: String,
    /// Where the router sends this subgraph's requests.
    pub url: String,
    /// The subgraph schema, as `_service { sdl }` returns it.
    pub sdl: String,
}

/// What kind of type a definition is (the supergraph model's own enum).
pub(crate) use goliath_supergraph::TypeKind as Kind;

/// The kind as Apollo names it in messages.
pub(crate) fn describe(kind: Kind) -> &'static str {
    match kind {
        Kind::Object => "Object Type",
        Kind::Interface => "Interface Type",
        Kind::Union => "Union Type",
        Kind::Enum => "Enum Type",
        Kind::InputObject => "Input Object Type",
        Kind::Scalar => "Scalar Type",
    }
}

/// A `@key` of a type.
#[derive(Debug, Clone)]
pub(crate) struct KeyDef {
    /// The `fields` text, as written.
    pub fields: String,
    /// False for `resolvable: false`.
    pub resolvable: bool,
    /// True once the field set has been checked against the subgraph.
    pub valid: bool,
}

/// A field argument or an input object field.
#[derive(Debug, Clone)]
pub(crate) struct InputValue {
    pub name: String,
    pub description: Option<String>,
    pub ty: TypeRef,
    /// The default value, printed.
    pub default: Option<String>,
    pub inaccessible: bool,
    /// Directives carried to the supergraph (`@tag`, `@deprecated`, composed ones), printed.
    pub directives: Vec<String>,
    /// `@cost`.
    pub cost: Option<CostApp>,
}

/// A field of an object or interface type.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub name: String,
    pub description: Option<String>,
    pub ty: TypeRef,
    pub args: IndexMap<String, InputValue>,
    /// `@external` on the field, or on the type definition that declares it.
    pub external: bool,
    /// `@shareable` on the field or the type definition that declares it, or
    /// implied (Federation 1).
    pub shareable: bool,
    pub provides: Option<String>,
    pub requires: Option<String>,
    pub override_from: Option<String>,
    pub override_label: Option<String>,
    pub inaccessible: bool,
    pub directives: Vec<String>,
    pub cost: Option<CostApp>,
    pub list_size: Option<ListSizeApp>,
    /// `@authenticated`, `@requiresScopes`, `@policy`.
    pub access: Access,
    /// `@migrate`: the field is taken over from another subgraph step by step.
    pub migrate: Option<MigrateApp>,
    /// Selected by a `@key` of this subgraph.
    pub used_as_key: bool,
    /// Selected by a `@key` of its own type, at the top level.
    pub in_own_key: bool,
    /// Selected by a `@requires` or `@provides` of this subgraph.
    pub used_in_requires_or_provides: bool,
    /// Selected by a `@requires` of this subgraph.
    pub used_in_requires: bool,
}

/// An enum value.
#[derive(Debug, Clone)]
pub(crate) struct EnumValue {
    pub name: String,
    pub description: Option<String>,
    pub inaccessible: bool,
    pub directives: Vec<String>,
}

/// A named type of the subgraph.
#[derive(Debug, Clone)]
pub(crate) struct Type {
    pub name: String,
    pub kind: Kind,
    pub description: Option<String>,
    /// Only extended here (`extend type`, `@extends`), never defined.
    pub extension: bool,
    /// `@extends` is used on the type.
    pub extends: bool,
    pub keys: Vec<KeyDef>,
    /// `@shareable` on the type (its fields carry it).
    pub shareable: bool,
    /// `@external` on the type (its fields carry it).
    pub external: bool,
    /// `@interfaceObject`: an object here standing for an interface of the supergraph.
    pub interface_object: bool,
    pub inaccessible: bool,
    pub directives: Vec<String>,
    /// `@cost` (objects, enums and scalars).
    pub cost: Option<CostApp>,
    /// `@authenticated`, `@requiresScopes`, `@policy` (objects, interfaces,
    /// enums and scalars).
    pub access: Access,
    pub implements: Vec<String>,
    /// Object and interface fields.
    pub fields: IndexMap<String, Field>,
    /// Input object fields.
    pub input_fields: IndexMap<String, InputValue>,
    pub members: Vec<String>,
    pub values: IndexMap<String, EnumValue>,
}

impl Type {
    fn new(name: &str, kind: Kind) -> Type {
        Type {
            name: name.to_owned(),
            kind,
            description: None,
            extension: true,
            extends: false,
            keys: Vec::new(),
            shareable: false,
            external: false,
            interface_object: false,
            inaccessible: false,
            directives: Vec::new(),
            cost: None,
            access: Access::default(),
            implements: Vec::new(),
            fields: IndexMap::new(),
            input_fields: IndexMap::new(),
            members: Vec::new(),
            values: IndexMap::new(),
        }
    }
}

/// A directive composed into the supergraph with `@composeDirective`.
#[derive(Debug, Clone)]
pub(crate) struct ComposedDirective {
    /// The directive's name in this subgraph (without `@`).
    pub name: String,
    /// Its definition, printed.
    pub definition: String,
    /// The `@link` it comes from: (url, printed import list).
    pub link: Option<(String, Option<String>)>,
}

/// A subgraph schema, read and normalised.
#[derive(Debug, Clone)]
pub(crate) struct Subgraph {
    pub name: String,
    pub url: String,
    pub spec: Spec,
    pub types: IndexMap<String, Type>,
    /// Directives composed with `@composeDirective`.
    pub composed: Vec<ComposedDirective>,
    /// The names `@cost` and `@listSize` are applied under here (first use).
    pub demand_names: Vec<(Fed, String)>,
}

impl Subgraph {
    /// True for Federation 2 subgraphs.
    pub fn is_fed2(&self) -> bool {
        self.spec.is_fed2()
    }

    /// The field `ty.field`, if defined here.
    pub fn field(&self, ty: &str, field: &str) -> Option<&Field> {
        self.types.get(ty)?.fields.get(field)
    }

    /// The name `@cost` or `@listSize` (`fed`) is applied under here, if used.
    pub fn demand_name(&self, fed: Fed) -> Option<&str> {
        self.demand_names
            .iter()
            .find(|(f, _)| *f == fed)
            .map(|(_, n)| n.as_str())
    }

    /// Object types of this subgraph implementing interface `iface`.
    pub fn implementations(&self, iface: &str) -> Vec<&Type> {
        self.types
            .values()
            .filter(|t| t.kind == Kind::Object && t.implements.iter().any(|i| i == iface))
            .collect()
    }
}

/// Machinery types a subgraph SDL may contain that are not part of its schema.
fn is_machinery_type(name: &str, spec: &Spec) -> bool {
    matches!(name, "_Any" | "_Service" | "_Entity" | "_FieldSet")
        || name.starts_with("link__")
        || name.starts_with("federation__")
        || name.starts_with("join__")
        || spec.type_names.iter().any(|t| t == name)
}

/// Reads a subgraph SDL. Syntax and `@link` errors stop reading; other
/// errors (unknown types, duplicate fields, ...) come with the subgraph, so
/// that its other checks can run and every error is listed.
pub(crate) fn read(
    input: &SubgraphInput,
) -> Result<(Subgraph, Vec<CompositionError>), Vec<CompositionError>> {
    let name = input.name.as_str();
    let doc = ast::Document::parse(&input.sdl, format!("{name}.graphql")).map_err(|e| {
        e.errors
            .iter()
            .map(|d| {
                CompositionError::in_subgraph(
                    ErrorCode::InvalidGraphql,
                    name,
                    format!("Invalid GraphQL: {}", d.error),
                )
            })
            .collect::<Vec<_>>()
    })?;
    let spec = Spec::read(&doc, name)?;
    let mut reader = Reader {
        subgraph: name,
        spec: &spec,
        renames: root_renames(&doc),
        types: IndexMap::new(),
        errors: Vec::new(),
        compose_names: Vec::new(),
        directive_defs: HashMap::new(),
        demand_names: Vec::new(),
        unlinked_access: Vec::new(),
    };
    for def in &doc.definitions {
        reader.definition(def);
    }
    let Reader {
        mut types,
        mut errors,
        compose_names,
        directive_defs,
        demand_names,
        unlinked_access,
        ..
    } = reader;
    // `@authenticated` and co. without the federation version that defines
    // them (nor a definition of the subgraph's own) would be dropped: an
    // unknown directive, as for Apollo.
    for (name, what) in unlinked_access {
        if !directive_defs.contains_key(&name) {
            let since = if name == "policy" { "2.6" } else { "2.5" };
            errors.push(CompositionError::in_subgraph(
                ErrorCode::InvalidGraphql,
                &input.name,
                format!("Unknown directive \"@{name}\" (on \"{what}\"): it is defined by Federation {since}, import it from https://specs.apollo.dev/federation/v{since} or later"),
            ));
        }
    }
    types.retain(|n, _| !is_machinery_type(n, &spec));
    for root in ["Query", "Mutation", "Subscription"] {
        if let Some(t) = types.get_mut(root) {
            t.fields.shift_remove("_service");
            t.fields.shift_remove("_entities");
            t.extension = false;
            if t.fields.is_empty() && root != "Query" {
                types.shift_remove(root);
            }
        }
    }
    // Every subgraph has a query root (federation adds `_service` to it).
    if !types.contains_key("Query") {
        let mut q = Type::new("Query", Kind::Object);
        q.extension = false;
        types.insert("Query".into(), q);
    }
    check_references(name, &types, &mut errors);
    let composed = composed_directives(name, &spec, &compose_names, &directive_defs, &mut errors);
    let subgraph = Subgraph {
        name: input.name.clone(),
        url: input.url.clone(),
        spec,
        types,
        composed,
        demand_names,
    };
    Ok((subgraph, errors))
}

/// Root operation types not named `Query`/`Mutation`/`Subscription`, to rename.
fn root_renames(doc: &ast::Document) -> HashMap<String, String> {
    let mut renames = HashMap::new();
    for def in &doc.definitions {
        let roots = match def {
            ast::Definition::SchemaDefinition(s) => &s.root_operations,
            ast::Definition::SchemaExtension(s) => &s.root_operations,
            _ => continue,
        };
        for root in roots {
            let (op, ty) = &**root;
            let canonical = match op {
                OperationType::Query => "Query",
                OperationType::Mutation => "Mutation",
                OperationType::Subscription => "Subscription",
            };
            if ty.as_str() != canonical {
                renames.insert(ty.to_string(), canonical.to_owned());
            }
        }
    }
    renames
}

struct Reader<'a> {
    subgraph: &'a str,
    spec: &'a Spec,
    renames: HashMap<String, String>,
    types: IndexMap<String, Type>,
    errors: Vec<CompositionError>,
    compose_names: Vec<String>,
    directive_defs: HashMap<String, Node<ast::DirectiveDefinition>>,
    demand_names: Vec<(Fed, String)>,
    /// `@authenticated`, `@requiresScopes`, `@policy` applied where the
    /// federation version does not define them: (name, element).
    unlinked_access: Vec<(String, String)>,
}

/// What the federation directives on one element say.
#[derive(Default)]
struct Marks {
    keys: Vec<KeyDef>,
    shareable: bool,
    external: bool,
    extends: bool,
    interface_object: bool,
    inaccessible: bool,
    provides: Option<String>,
    requires: Option<String>,
    override_from: Option<String>,
    override_label: Option<String>,
    carried: Vec<String>,
    cost: Option<CostApp>,
    list_size: Option<ListSizeApp>,
    /// `@authenticated`, `@requiresScopes`, `@policy`.
    access: Access,
    /// The names the access directives are applied under (for messages).
    access_names: Vec<String>,
    /// `@migrate`, with the element it is on (for messages).
    migrate: Option<(MigrateApp, String)>,
}

impl Reader<'_> {
    fn rename(&self, name: &str) -> String {
        self.renames
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_owned())
    }

    fn error(&mut self, code: ErrorCode, message: String) {
        self.errors
            .push(CompositionError::in_subgraph(code, self.subgraph, message));
    }

    /// Reads a `@cost`/`@listSize` application into `m`, noting the name
    /// it is applied under.
    fn demand(&mut self, d: &ast::Directive, fed: Fed, m: &mut Marks, what: &str) {
        let parsed = match fed {
            Fed::Cost => cost::parse_cost(d).map(|c| m.cost = Some(c)),
            _ => cost::parse_list_size(d).map(|l| m.list_size = Some(l)),
        };
        match parsed {
            Ok(()) if !self.demand_names.iter().any(|(f, _)| *f == fed) => {
                self.demand_names.push((fed, d.name.to_string()))
            }
            Ok(()) => {}
            Err(e) => self.error(ErrorCode::InvalidGraphql, format!("{e} (on \"{what}\")")),
        }
    }

    /// Refuses `@cost`/`@listSize` where their definitions do not allow them,
    /// and `@migrate` (this is called for every element but fields of
    /// objects and interfaces, the only places `@migrate` may be).
    fn demand_location(&mut self, m: &mut Marks, location: &str, cost: bool, list_size: bool) {
        if let Some((_, what)) = m.migrate.take() {
            self.error(
                ErrorCode::MigrateInvalidLocation,
                format!("@migrate cannot be used on \"{what}\" ({location}): only fields of object types can migrate."),
            );
        }
        let mut misplaced = Vec::new();
        if !matches!(location, "OBJECT" | "INTERFACE" | "SCALAR" | "ENUM") {
            misplaced.append(&mut m.access_names);
            m.access = Access::default();
        }
        if !cost {
            misplaced.extend(m.cost.take().map(|c| c.name));
        }
        if !list_size {
            misplaced.extend(m.list_size.take().map(|l| l.name));
        }
        for name in misplaced {
            self.error(
                ErrorCode::InvalidGraphql,
                format!("Directive \"@{name}\" may not be used on {location}."),
            );
        }
    }

    /// Reads the directives of an element: federation ones into marks, the
    /// ones carried to the supergraph printed (with canonical names).
    fn marks(&mut self, directives: &ast::DirectiveList, what: &str) -> Marks {
        let mut m = Marks::default();
        for d in directives.iter() {
            let str_arg = |n: &str| {
                d.specified_argument_by_name(n)
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            };
            match self.spec.fed(d.name.as_str()) {
                Some(Fed::Key) => {
                    let fields = match d.specified_argument_by_name("fields").map(|v| &**v) {
                        Some(ast::Value::String(s)) => Some(s.clone()),
                        // Federation 1 accepted a list of strings.
                        Some(ast::Value::List(items)) if !self.spec.is_fed2() => Some(
                            items
                                .iter()
                                .filter_map(|v| v.as_str())
                                .collect::<Vec<_>>()
                                .join(" "),
                        ),
                        _ => None,
                    };
                    match fields {
                        Some(fields) => m.keys.push(KeyDef {
                            fields,
                            resolvable: d
                                .specified_argument_by_name("resolvable")
                                .and_then(|v| v.to_bool())
                                .unwrap_or(true),
                            valid: false,
                        }),
                        None => self.error(
                            ErrorCode::KeyInvalidFields,
                            format!("On type \"{what}\", @key(fields:) must be a string."),
                        ),
                    }
                }
                Some(Fed::Shareable) => m.shareable = true,
                Some(Fed::External) => m.external = true,
                Some(Fed::Extends) => m.extends = true,
                Some(Fed::InterfaceObject) => m.interface_object = true,
                Some(Fed::Inaccessible) => m.inaccessible = true,
                Some(Fed::Provides) => m.provides = str_arg("fields"),
                Some(Fed::Requires) => m.requires = str_arg("fields"),
                Some(Fed::Override) => {
                    m.override_from = str_arg("from");
                    m.override_label = str_arg("label");
                }
                Some(Fed::Tag) => {
                    let mut tag = (**d).clone();
                    tag.name = apollo_compiler::name!("tag");
                    m.carried.push(print_directive(&tag));
                }
                Some(Fed::ComposeDirective) => {
                    if let Some(n) = str_arg("name") {
                        self.compose_names
                            .push(n.trim_start_matches('@').to_owned());
                    }
                }
                Some(f @ (Fed::Authenticated | Fed::RequiresScopes | Fed::Policy)) => {
                    match access::parse(d, f, &mut m.access) {
                        Ok(()) => m.access_names.push(d.name.to_string()),
                        Err(e) => {
                            self.error(ErrorCode::InvalidGraphql, format!("{e} (on \"{what}\")"))
                        }
                    }
                }
                // Context directives change what a field receives: dropping
                // them silently would be wrong, and goliath's router does not
                // implement them.
                Some(f @ (Fed::Context | Fed::FromContext)) => self.error(
                    ErrorCode::UnsupportedFeature,
                    format!(
                        "@{} (on \"{what}\") is not supported: goliath does not enforce it, and composing without it would change what clients can query",
                        f.name()
                    ),
                ),
                Some(f @ (Fed::Cost | Fed::ListSize)) => self.demand(d, f, &mut m, what),
                Some(Fed::Migrate) => match MigrateApp::parse(d, what) {
                    Ok(app) => m.migrate = Some((app, what.to_owned())),
                    Err(e) => self.error(ErrorCode::InvalidGraphql, e),
                },
                None if matches!(d.name.as_str(), "authenticated" | "requiresScopes" | "policy") => {
                    self.unlinked_access
                        .push((d.name.to_string(), what.to_owned()));
                    m.carried.push(print_directive(d));
                }
                None if d.name == "deprecated" || d.name == "specifiedBy" => {
                    m.carried.push(print_directive(d));
                }
                None if self.spec.is_spec_directive(d.name.as_str()) => {}
                // Custom directives: kept for @composeDirective, filtered later.
                None => m.carried.push(print_directive(d)),
            }
        }
        m
    }

    fn entry(&mut self, name: &str, kind: Kind) -> Option<&mut Type> {
        let name = self.rename(name);
        if let Some(existing) = self.types.get(&name) {
            let existing_kind = existing.kind;
            if existing_kind != kind {
                self.error(
                    ErrorCode::InvalidGraphql,
                    format!(
                        "Type \"{name}\" is defined as both {} and {}",
                        describe(existing_kind),
                        describe(kind)
                    ),
                );
                return None;
            }
        }
        Some(
            self.types
                .entry(name.clone())
                .or_insert_with(|| Type::new(&name, kind)),
        )
    }

    fn apply_type_marks(&mut self, name: &str, kind: Kind, m: Marks, is_definition: bool) {
        let Some(t) = self.entry(name, kind) else {
            return;
        };
        if is_definition && !m.extends {
            t.extension = false;
        }
        t.extends |= m.extends;
        t.keys.extend(m.keys);
        t.shareable |= m.shareable;
        t.external |= m.external;
        t.interface_object |= m.interface_object;
        t.inaccessible |= m.inaccessible;
        t.directives.extend(m.carried);
        if t.cost.is_none() {
            t.cost = m.cost;
        }
        // A type's definition and extensions add up.
        t.access = access::merge([&t.access, &m.access].into_iter());
    }

    fn definition(&mut self, def: &ast::Definition) {
        use ast::Definition as D;
        match def {
            D::DirectiveDefinition(d) => {
                self.directive_defs.insert(d.name.to_string(), d.clone());
            }
            // Schema directives: only @composeDirective matters here.
            D::SchemaDefinition(s) => {
                let mut m = self.marks(&s.directives, "schema");
                self.demand_location(&mut m, "SCHEMA", false, false);
            }
            D::SchemaExtension(s) => {
                let mut m = self.marks(&s.directives, "schema");
                self.demand_location(&mut m, "SCHEMA", false, false);
            }
            D::OperationDefinition(_) | D::FragmentDefinition(_) => self.error(
                ErrorCode::InvalidGraphql,
                "a subgraph schema cannot contain operations or fragments".into(),
            ),
            D::ScalarTypeDefinition(s) => {
                self.scalar(&s.name, s.description.as_deref(), &s.directives, true)
            }
            D::ScalarTypeExtension(s) => self.scalar(&s.name, None, &s.directives, false),
            D::ObjectTypeDefinition(o) => self.object(
                &o.name,
                Kind::Object,
                o.description.as_deref(),
                &o.implements_interfaces,
                &o.directives,
                &o.fields,
                true,
            ),
            D::ObjectTypeExtension(o) => self.object(
                &o.name,
                Kind::Object,
                None,
                &o.implements_interfaces,
                &o.directives,
                &o.fields,
                false,
            ),
            D::InterfaceTypeDefinition(o) => self.object(
                &o.name,
                Kind::Interface,
                o.description.as_deref(),
                &o.implements_interfaces,
                &o.directives,
                &o.fields,
                true,
            ),
            D::InterfaceTypeExtension(o) => self.object(
                &o.name,
                Kind::Interface,
                None,
                &o.implements_interfaces,
                &o.directives,
                &o.fields,
                false,
            ),
            D::UnionTypeDefinition(u) => self.union(
                &u.name,
                u.description.as_deref(),
                &u.directives,
                &u.members,
                true,
            ),
            D::UnionTypeExtension(u) => self.union(&u.name, None, &u.directives, &u.members, false),
            D::EnumTypeDefinition(e) => self.enumeration(
                &e.name,
                e.description.as_deref(),
                &e.directives,
                &e.values,
                true,
            ),
            D::EnumTypeExtension(e) => {
                self.enumeration(&e.name, None, &e.directives, &e.values, false)
            }
            D::InputObjectTypeDefinition(i) => self.input_object(
                &i.name,
                i.description.as_deref(),
                &i.directives,
                &i.fields,
                true,
            ),
            D::InputObjectTypeExtension(i) => {
                self.input_object(&i.name, None, &i.directives, &i.fields, false)
            }
        }
    }

    fn set_description(&mut self, name: &str, description: Option<&str>) {
        if let (Some(d), Some(t)) = (description, self.types.get_mut(&self.rename(name))) {
            t.description = Some(d.to_owned());
        }
    }

    fn scalar(
        &mut self,
        name: &str,
        description: Option<&str>,
        directives: &ast::DirectiveList,
        is_definition: bool,
    ) {
        if is_builtin_scalar(name) {
            return;
        }
        let mut m = self.marks(directives, name);
        self.demand_location(&mut m, "SCALAR", true, false);
        self.apply_type_marks(name, Kind::Scalar, m, is_definition);
        self.set_description(name, description);
    }

    #[allow(clippy::too_many_arguments)]
    fn object(
        &mut self,
        name: &str,
        kind: Kind,
        description: Option<&str>,
        implements: &[apollo_compiler::Name],
        directives: &ast::DirectiveList,
        fields: &[Node<ast::FieldDefinition>],
        is_definition: bool,
    ) {
        let mut m = self.marks(directives, name);
        let location = if kind == Kind::Interface {
            "INTERFACE"
        } else {
            "OBJECT"
        };
        self.demand_location(&mut m, location, kind == Kind::Object, false);
        // Type-level @shareable and @external apply to the fields of this
        // definition or extension only, as in Apollo.
        let (block_shareable, block_external) = (m.shareable, m.external);
        // An @interfaceObject is an object type here but an interface in the supergraph.
        self.apply_type_marks(name, kind, m, is_definition);
        self.set_description(name, description);
        let renamed: Vec<String> = implements.iter().map(|i| self.rename(i)).collect();
        let mut read_fields = Vec::new();
        for f in fields {
            let what = format!("{}.{}", self.rename(name), f.name);
            let fm = self.marks(&f.directives, &what);
            let args = self.arguments(&f.arguments, &what, "ARGUMENT_DEFINITION");
            read_fields.push(Field {
                name: f.name.to_string(),
                description: f.description.as_deref().map(str::to_owned),
                ty: TypeRef::from_ast(&f.ty, &|n| self.rename(n)),
                args,
                external: fm.external || block_external,
                shareable: fm.shareable || block_shareable,
                provides: fm.provides,
                requires: fm.requires,
                override_from: fm.override_from,
                override_label: fm.override_label,
                inaccessible: fm.inaccessible,
                directives: fm.carried,
                cost: fm.cost,
                list_size: fm.list_size,
                access: fm.access,
                migrate: fm.migrate.map(|(app, _)| app),
                used_as_key: false,
                in_own_key: false,
                used_in_requires_or_provides: false,
                used_in_requires: false,
            });
        }
        let subgraph = self.subgraph.to_owned();
        let Some(t) = self.types.get_mut(&self.rename(name)) else {
            return;
        };
        for i in renamed {
            if !t.implements.contains(&i) {
                t.implements.push(i);
            }
        }
        let mut duplicates = Vec::new();
        for f in read_fields {
            if t.fields.contains_key(&f.name) {
                duplicates.push(format!("{}.{}", t.name, f.name));
                continue;
            }
            t.fields.insert(f.name.clone(), f);
        }
        for d in duplicates {
            self.errors.push(CompositionError::in_subgraph(
                ErrorCode::InvalidGraphql,
                &subgraph,
                format!("Field \"{d}\" can only be defined once."),
            ));
        }
    }

    fn arguments(
        &mut self,
        args: &[Node<ast::InputValueDefinition>],
        what: &str,
        location: &str,
    ) -> IndexMap<String, InputValue> {
        let mut out = IndexMap::new();
        for a in args {
            let mut m = self.marks(&a.directives, &format!("{what}({}:)", a.name));
            self.demand_location(&mut m, location, true, false);
            out.insert(
                a.name.to_string(),
                InputValue {
                    name: a.name.to_string(),
                    description: a.description.as_deref().map(str::to_owned),
                    ty: TypeRef::from_ast(&a.ty, &|n| self.rename(n)),
                    default: a.default_value.as_ref().map(|v| print_value(v)),
                    inaccessible: m.inaccessible,
                    directives: m.carried,
                    cost: m.cost,
                },
            );
        }
        out
    }

    fn union(
        &mut self,
        name: &str,
        description: Option<&str>,
        directives: &ast::DirectiveList,
        members: &[apollo_compiler::Name],
        is_definition: bool,
    ) {
        let mut m = self.marks(directives, name);
        self.demand_location(&mut m, "UNION", false, false);
        self.apply_type_marks(name, Kind::Union, m, is_definition);
        self.set_description(name, description);
        let renamed: Vec<String> = members.iter().map(|n| self.rename(n)).collect();
        if let Some(t) = self.types.get_mut(&self.rename(name)) {
            for n in renamed {
                if !t.members.contains(&n) {
                    t.members.push(n);
                }
            }
        }
    }

    fn enumeration(
        &mut self,
        name: &str,
        description: Option<&str>,
        directives: &ast::DirectiveList,
        values: &[Node<ast::EnumValueDefinition>],
        is_definition: bool,
    ) {
        let mut m = self.marks(directives, name);
        self.demand_location(&mut m, "ENUM", true, false);
        self.apply_type_marks(name, Kind::Enum, m, is_definition);
        self.set_description(name, description);
        let mut read = Vec::new();
        for v in values {
            let mut vm = self.marks(&v.directives, &format!("{name}.{}", v.value));
            self.demand_location(&mut vm, "ENUM_VALUE", false, false);
            read.push(EnumValue {
                name: v.value.to_string(),
                description: v.description.as_deref().map(str::to_owned),
                inaccessible: vm.inaccessible,
                directives: vm.carried,
            });
        }
        if let Some(t) = self.types.get_mut(&self.rename(name)) {
            for v in read {
                t.values.insert(v.name.clone(), v);
            }
        }
    }

    fn input_object(
        &mut self,
        name: &str,
        description: Option<&str>,
        directives: &ast::DirectiveList,
        fields: &[Node<ast::InputValueDefinition>],
        is_definition: bool,
    ) {
        let mut m = self.marks(directives, name);
        self.demand_location(&mut m, "INPUT_OBJECT", false, false);
        self.apply_type_marks(name, Kind::InputObject, m, is_definition);
        self.set_description(name, description);
        let read = self.arguments(fields, name, "INPUT_FIELD_DEFINITION");
        if let Some(t) = self.types.get_mut(&self.rename(name)) {
            t.input_fields.extend(read);
        }
    }
}

/// Every type a subgraph references must be defined there.
fn check_references(
    subgraph: &str,
    types: &IndexMap<String, Type>,
    errors: &mut Vec<CompositionError>,
) {
    let known = |n: &str| is_builtin_scalar(n) || types.contains_key(n);
    let mut missing: Vec<(String, String)> = Vec::new();
    for t in types.values() {
        for f in t.fields.values() {
            if !known(f.ty.base()) {
                missing.push((f.ty.base().to_owned(), format!("{}.{}", t.name, f.name)));
            }
            for a in f.args.values() {
                if !known(a.ty.base()) {
                    missing.push((
                        a.ty.base().to_owned(),
                        format!("{}.{}({}:)", t.name, f.name, a.name),
                    ));
                }
            }
        }
        for f in t.input_fields.values() {
            if !known(f.ty.base()) {
                missing.push((f.ty.base().to_owned(), format!("{}.{}", t.name, f.name)));
            }
        }
        for m in t.members.iter().chain(&t.implements) {
            if !known(m) {
                missing.push((m.clone(), t.name.clone()));
            }
        }
    }
    let mut seen = HashSet::new();
    for (ty, at) in missing {
        if seen.insert(ty.clone()) {
            errors.push(CompositionError::in_subgraph(
                ErrorCode::InvalidGraphql,
                subgraph,
                format!("Unknown type \"{ty}\" (referenced by \"{at}\")."),
            ));
        }
    }
}

/// Resolves the `@composeDirective(name:)`s of a subgraph to definitions.
fn composed_directives(
    subgraph: &str,
    spec: &Spec,
    names: &[String],
    defs: &HashMap<String, Node<ast::DirectiveDefinition>>,
    errors: &mut Vec<CompositionError>,
) -> Vec<ComposedDirective> {
    let mut out = Vec::new();
    for name in names {
        if spec.is_spec_directive(name) || matches!(name.as_str(), "deprecated" | "specifiedBy") {
            errors.push(CompositionError::in_subgraph(
                ErrorCode::DirectiveCompositionError,
                subgraph,
                format!("Directive \"@{name}\" should not be explicitly manually composed since it is a federation directive composed by default"),
            ));
            continue;
        }
        let Some(def) = defs.get(name) else {
            errors.push(CompositionError::in_subgraph(
                ErrorCode::DirectiveCompositionError,
                subgraph,
                format!("Could not find matching directive definition for argument to @composeDirective \"@{name}\"."),
            ));
            continue;
        };
        let link = spec
            .other_links
            .iter()
            .find(|l| l.directives.iter().any(|d| d == name))
            .map(|l| (l.url.clone(), l.import.clone()));
        if link.is_none() && spec.is_fed2() {
            errors.push(CompositionError::in_subgraph(
                ErrorCode::DirectiveCompositionError,
                subgraph,
                format!("Directive \"@{name}\" in subgraph \"{subgraph}\" cannot be composed because it is not a member of a core feature (imported with @link)"),
            ));
            continue;
        }
        out.push(ComposedDirective {
            name: name.clone(),
            definition: def.serialize().no_indent().to_string(),
            link,
        });
    }
    out
}

/// Prints a directive application on one line.
pub(crate) fn print_directive(d: &ast::Directive) -> String {
    d.serialize().no_indent().to_string()
}

/// Prints a value on one line.
pub(crate) fn print_value(v: &ast::Value) -> String {
    v.serialize().no_indent().to_string()
}
