//! The generated schema: its types and fields, and where each lives among
//! the subgraphs. One model serves both sides of the comparison: the
//! subgraphs (each sees its own part, with Federation's directives) and the
//! oracle (the whole schema, no directives). It is serialisable so that a
//! regression keeps its schema even when the generator changes.

use serde::{Deserialize, Serialize};

/// A generated schema, split across `subgraphs` subgraphs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Schema {
    /// The seed of the data (field values are a hash of it).
    pub seed: u64,
    /// How many subgraphs (named `s0`, `s1`, …).
    pub subgraphs: usize,
    /// Instances of each object type (`0..instances`).
    pub instances: u32,
    /// Object, interface and union types.
    pub types: Vec<TypeDef>,
    /// The root query fields.
    pub query: Vec<Field>,
}

/// What a named type is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    /// An object type.
    Object,
    /// An interface.
    Interface,
    /// A union.
    Union,
}

/// An object, interface or union type.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TypeDef {
    /// Its name.
    pub name: String,
    /// Object, interface or union.
    pub kind: Kind,
    /// Its fields (none for unions).
    pub fields: Vec<Field>,
    /// Entity keys, each a list of scalar field names; empty for a value
    /// type. An interface with keys is an entity interface.
    pub keys: Vec<Vec<String>>,
    /// Objects: the interfaces they implement. Unions: their members.
    /// Interfaces: their implementations.
    pub related: Vec<String>,
    /// Where the type is defined, one entry per subgraph that knows it.
    pub places: Vec<Place>,
}

/// How one subgraph defines a type.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Place {
    /// The subgraph's index.
    pub subgraph: usize,
    /// The keys it declares (indexes into [`TypeDef::keys`]).
    pub keys: Vec<usize>,
    /// `resolvable: false` on its keys when false.
    pub resolvable: bool,
    /// An interface defined here as an object with `@interfaceObject`.
    pub interface_object: bool,
    /// The union members or interface implementations it knows.
    pub related: Vec<String>,
}

/// A field of a type or of `Query`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Field {
    /// Its name (unique in the schema but for interface fields).
    pub name: String,
    /// `Int` arguments with a default.
    pub args: Vec<Arg>,
    /// Its type.
    pub ty: Ty,
    /// The subgraphs that define it and how.
    pub homes: Vec<Home>,
    /// For a field of abstract type: the object types its values have.
    pub runtime: Vec<String>,
    /// `@requires` of a field of the same type (in the field's only home).
    pub requires: Option<Requires>,
    /// `@provides` of a scalar field of the result type (in the field's
    /// only home).
    pub provides: Option<Provides>,
    /// Added to an entity interface by an `@interfaceObject`: on the
    /// interface's implementations it is only in the oracle's schema.
    #[serde(default)]
    pub interface_object: bool,
}

/// `@provides(fields: "field")`, or `"... on Type { field }"` on a field of
/// abstract type.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Provides {
    /// The type condition, for a field of abstract type.
    pub on: Option<String>,
    /// The provided field (a scalar without arguments).
    pub field: String,
}

impl Provides {
    /// The field set as written in `@provides(fields:)`.
    pub fn field_set(&self) -> String {
        match &self.on {
            Some(on) => format!("... on {on} {{ {} }}", self.field),
            None => self.field.clone(),
        }
    }
}

/// An `Int` argument with a default value.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Arg {
    /// Its name.
    pub name: String,
    /// Its default.
    pub default: i64,
}

/// A field's type: a named type, maybe in a list, maybe non-null.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ty {
    /// `Int`, `String`, `Boolean`, `Float`, `ID` or a type of the schema.
    pub name: String,
    /// `[name]`.
    pub list: bool,
    /// `name!` (the items, in a list).
    pub item_non_null: bool,
    /// `[name]!` (lists only).
    pub list_non_null: bool,
}

/// How a subgraph defines a field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum How {
    /// Defined and resolved here only.
    Own,
    /// `@shareable`: resolved here and in other subgraphs, same values.
    Shared,
    /// Part of a key this subgraph declares.
    Key,
    /// `@external`: known here for `@requires` or `@provides`; resolved
    /// here only on a path that provides it.
    External,
    /// `@override(from: "sN")`: moved here from that subgraph.
    OverrideFrom(usize),
    /// The field's old home, overridden by another subgraph: if the router
    /// asks here, it gets a wrong value.
    Overridden,
}

/// A subgraph that defines a field.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Home {
    /// The subgraph's index.
    pub subgraph: usize,
    /// How it defines it.
    pub how: How,
}

/// `@requires(fields: "field")` or `@requires(fields: "field(arg: value)")`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Requires {
    /// The required field (a scalar of the same type).
    pub field: String,
    /// Its argument and value, when it has one.
    pub arg: Option<(String, i64)>,
}

/// Scalar type names the generator uses.
pub const SCALARS: [&str; 5] = ["Int", "String", "Boolean", "Float", "ID"];

impl Ty {
    /// A scalar or object type as written in SDL.
    pub fn sdl(&self) -> String {
        let item = if self.item_non_null {
            format!("{}!", self.name)
        } else {
            self.name.clone()
        };
        if !self.list {
            return item;
        }
        if self.list_non_null {
            format!("[{item}]!")
        } else {
            format!("[{item}]")
        }
    }

    /// Whether the named type is a scalar.
    pub fn is_scalar(&self) -> bool {
        SCALARS.contains(&self.name.as_str())
    }
}

impl Schema {
    /// The type named `name`.
    pub fn ty(&self, name: &str) -> Option<&TypeDef> {
        self.types.iter().find(|t| t.name == name)
    }

    /// The subgraph names.
    pub fn subgraph_name(index: usize) -> String {
        format!("s{index}")
    }

    /// The fields of `type_name` (`Query` included).
    pub fn fields_of(&self, type_name: &str) -> &[Field] {
        if type_name == "Query" {
            return &self.query;
        }
        self.ty(type_name)
            .map(|t| t.fields.as_slice())
            .unwrap_or(&[])
    }

    /// The object types a value of named type `name` may have.
    pub fn possible(&self, name: &str) -> Vec<String> {
        match self.ty(name) {
            Some(t) if t.kind == Kind::Object => vec![t.name.clone()],
            Some(t) => t.related.clone(),
            None => Vec::new(),
        }
    }
}

impl TypeDef {
    /// How subgraph `s` defines the type, if it does.
    pub fn place(&self, s: usize) -> Option<&Place> {
        self.places.iter().find(|p| p.subgraph == s)
    }

    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Whether the type is an entity (has keys).
    pub fn is_entity(&self) -> bool {
        !self.keys.is_empty()
    }
}

impl Field {
    /// How subgraph `s` defines the field, if it does.
    pub fn home(&self, s: usize) -> Option<&How> {
        self.homes.iter().find(|h| h.subgraph == s).map(|h| &h.how)
    }
}
