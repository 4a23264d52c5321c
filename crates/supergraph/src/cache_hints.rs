//! Apollo Server's `@cacheControl(maxAge: Int, scope: PUBLIC|PRIVATE,
//! inheritMaxAge: Boolean)` hints on types and fields, as a composition
//! carries them into the supergraph (`@composeDirective(name:
//! "@cacheControl")`, with Apollo's composition or `goliath compose`), read
//! once when the supergraph loads. The directive is found by its name,
//! `cacheControl`; a supergraph without it has no hints. It is not part of
//! the API schema.

use std::collections::HashMap;

use apollo_compiler::ast::{Directive, Value};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::{Name, Schema};

/// The directive's name.
pub const CACHE_CONTROL_DIRECTIVE: &str = "cacheControl";

/// One `@cacheControl` application.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheHint {
    /// `maxAge:`, in seconds (a negative value counts as 0).
    pub max_age: Option<u32>,
    /// `scope: PRIVATE`.
    pub private: bool,
    /// `inheritMaxAge: true`: the field takes its parent's max-age.
    pub inherit_max_age: bool,
}

/// Every `@cacheControl` of a supergraph, on types and on fields.
#[derive(Debug, Clone, Default)]
pub struct CacheHints {
    types: HashMap<Name, CacheHint>,
    fields: HashMap<Name, HashMap<Name, CacheHint>>,
}

impl CacheHints {
    /// Reads the hints of `schema`.
    pub fn read(schema: &Schema) -> CacheHints {
        let mut hints = CacheHints::default();
        if !schema
            .directive_definitions
            .contains_key(CACHE_CONTROL_DIRECTIVE)
        {
            return hints;
        }
        for (name, ty) in &schema.types {
            if let Some(hint) = hint(
                ty.directives()
                    .get(CACHE_CONTROL_DIRECTIVE)
                    .map(|d| -> &Directive { d }),
            ) {
                hints.types.insert(name.clone(), hint);
            }
            let fields = match ty {
                ExtendedType::Object(o) => &o.fields,
                ExtendedType::Interface(i) => &i.fields,
                _ => continue,
            };
            for (field, def) in fields {
                if let Some(hint) = hint(def.directives.get(CACHE_CONTROL_DIRECTIVE).map(|d| &**d))
                {
                    let by_field = hints.fields.entry(name.clone()).or_default();
                    by_field.insert(field.clone(), hint);
                }
            }
        }
        hints
    }

    /// Whether the supergraph has no hint at all.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty() && self.fields.is_empty()
    }

    /// The hint on type `ty`.
    pub fn of_type(&self, ty: &str) -> Option<&CacheHint> {
        self.types.get(ty)
    }

    /// The hint on field `field` of `ty`.
    pub fn of_field(&self, ty: &str, field: &str) -> Option<&CacheHint> {
        self.fields.get(ty)?.get(field)
    }
}

/// The hint a `@cacheControl` application gives.
fn hint(d: Option<&Directive>) -> Option<CacheHint> {
    let d = d?;
    let arg = |name: &str| d.specified_argument_by_name(name).map(|v| &**v);
    let max_age = match arg("maxAge") {
        Some(Value::Int(i)) => i.try_to_i32().ok().map(|n| n.max(0) as u32),
        _ => None,
    };
    let private = matches!(arg("scope"), Some(Value::Enum(e)) if e == "PRIVATE");
    let inherit_max_age = matches!(arg("inheritMaxAge"), Some(Value::Boolean(true)));
    Some(CacheHint {
        max_age,
        private,
        inherit_max_age,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(sdl: &str) -> CacheHints {
        CacheHints::read(&Schema::parse(sdl, "t.graphql").unwrap())
    }

    #[test]
    fn hints_are_read_and_odd_values_tolerated() {
        let hints = read(
            r#"
            enum CacheControlScope { PUBLIC PRIVATE }
            directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION
            type Query { a: Int @cacheControl(maxAge: -5) b: T c: I @cacheControl }
            type T @cacheControl(scope: PRIVATE, inheritMaxAge: true) { x: Int }
            interface I { y: Int @cacheControl(maxAge: 7) }
            "#,
        );
        assert_eq!(hints.of_field("Query", "a").unwrap().max_age, Some(0));
        assert!(hints.of_field("Query", "b").is_none());
        assert_eq!(
            hints.of_field("Query", "c"),
            Some(&CacheHint::default()),
            "no arguments: no constraint"
        );
        let t = hints.of_type("T").unwrap();
        assert!(t.private && t.inherit_max_age && t.max_age.is_none());
        assert_eq!(hints.of_field("I", "y").unwrap().max_age, Some(7));
        assert!(!hints.is_empty());
    }

    #[test]
    fn without_the_directive_there_are_no_hints() {
        let hints = read("type Query { a: Int }");
        assert!(hints.is_empty());
        assert!(hints.of_type("Query").is_none());
    }
}
