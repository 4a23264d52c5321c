//! Type references (`[User!]!`) and the subtyping rules used to merge field
//! types across subgraphs.

use std::fmt;

use apollo_compiler::ast;

/// A reference to a type, as written in a field or argument definition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum TypeRef {
    /// `Foo`
    Named(String),
    /// `[T]`
    List(Box<TypeRef>),
    /// `T!`
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    /// Converts an AST type, renaming named types with `rename`.
    pub fn from_ast(ty: &ast::Type, rename: &dyn Fn(&str) -> String) -> TypeRef {
        match ty {
            ast::Type::Named(n) => TypeRef::Named(rename(n.as_str())),
            ast::Type::NonNullNamed(n) => {
                TypeRef::NonNull(Box::new(TypeRef::Named(rename(n.as_str()))))
            }
            ast::Type::List(inner) => TypeRef::List(Box::new(TypeRef::from_ast(inner, rename))),
            ast::Type::NonNullList(inner) => TypeRef::NonNull(Box::new(TypeRef::List(Box::new(
                TypeRef::from_ast(inner, rename),
            )))),
        }
    }

    /// The named type at the bottom of lists and non-nulls.
    pub fn base(&self) -> &str {
        match self {
            TypeRef::Named(n) => n,
            TypeRef::List(t) | TypeRef::NonNull(t) => t.base(),
        }
    }

    /// True for `T!`.
    pub fn is_non_null(&self) -> bool {
        matches!(self, TypeRef::NonNull(_))
    }

    /// True for lists (`[T]`, `[T]!`).
    pub fn is_list(&self) -> bool {
        match self {
            TypeRef::List(_) => true,
            TypeRef::NonNull(t) => t.is_list(),
            TypeRef::Named(_) => false,
        }
    }

    /// True when a value of `self` can be used where `sup` is expected, for
    /// output positions: `sub_of(a, b)` tells whether named type `a` is an
    /// implementation or a member of `b`.
    pub fn is_output_subtype_of(&self, sup: &TypeRef, sub_of: &dyn Fn(&str, &str) -> bool) -> bool {
        match (self, sup) {
            (TypeRef::NonNull(a), TypeRef::NonNull(b)) => a.is_output_subtype_of(b, sub_of),
            (TypeRef::NonNull(a), b) => a.is_output_subtype_of(b, sub_of),
            (_, TypeRef::NonNull(_)) => false,
            (TypeRef::List(a), TypeRef::List(b)) => a.is_output_subtype_of(b, sub_of),
            (TypeRef::Named(a), TypeRef::Named(b)) => a == b || sub_of(a, b),
            _ => false,
        }
    }

    /// True when `self` is `other` with some nullability removed (inputs:
    /// the more restrictive type accepts fewer values).
    pub fn is_input_subtype_of(&self, other: &TypeRef) -> bool {
        match (self, other) {
            (TypeRef::NonNull(a), TypeRef::NonNull(b)) => a.is_input_subtype_of(b),
            (TypeRef::NonNull(a), b) => a.is_input_subtype_of(b),
            (_, TypeRef::NonNull(_)) => false,
            (TypeRef::List(a), TypeRef::List(b)) => a.is_input_subtype_of(b),
            (TypeRef::Named(a), TypeRef::Named(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Display for TypeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeRef::Named(n) => f.write_str(n),
            TypeRef::List(t) => write!(f, "[{t}]"),
            TypeRef::NonNull(t) => write!(f, "{t}!"),
        }
    }
}

/// Names of the scalars every GraphQL schema has.
pub(crate) fn is_builtin_scalar(name: &str) -> bool {
    matches!(name, "String" | "Int" | "Float" | "Boolean" | "ID")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(n: &str) -> TypeRef {
        TypeRef::Named(n.into())
    }
    fn nn(t: TypeRef) -> TypeRef {
        TypeRef::NonNull(Box::new(t))
    }
    fn list(t: TypeRef) -> TypeRef {
        TypeRef::List(Box::new(t))
    }

    #[test]
    fn output_subtyping() {
        let none = |_: &str, _: &str| false;
        assert!(nn(named("ID")).is_output_subtype_of(&named("ID"), &none));
        assert!(!named("ID").is_output_subtype_of(&nn(named("ID")), &none));
        assert!(list(nn(named("A"))).is_output_subtype_of(&list(named("A")), &none));
        let member = |a: &str, b: &str| a == "Book" && b == "Media";
        assert!(named("Book").is_output_subtype_of(&named("Media"), &member));
        assert_eq!(nn(list(named("A"))).to_string(), "[A]!");
    }

    #[test]
    fn input_subtyping() {
        assert!(nn(named("Int")).is_input_subtype_of(&named("Int")));
        assert!(!named("Int").is_input_subtype_of(&nn(named("Int"))));
    }
}
