//! Access directives in a supergraph: `@authenticated`, `@requiresScopes`
//! and `@policy` on object types, interfaces, scalars, enums and fields,
//! read once when the supergraph loads.
//!
//! They are found by the names their links give them
//! (`@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for:
//! SECURITY)`, with `as:` or imports when a supergraph renames them), and
//! otherwise by the spec names. A supergraph without these links has no
//! requirements. The router's authorization (`crates/router/src/auth/`)
//! decides from them which fields a request may see.

use std::collections::HashMap;

use apollo_compiler::ast::Value;
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::{Name, Schema};

/// What one type or field requires of a request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Requirement {
    /// `@authenticated`: the request must carry a valid token.
    pub authenticated: bool,
    /// `@requiresScopes(scopes:)`: one of the inner lists must be held in
    /// full (OR of ANDs).
    pub scopes: Option<Vec<Vec<String>>>,
    /// `@policy(policies:)`: one of the inner lists must all pass (OR of
    /// ANDs).
    pub policies: Option<Vec<Vec<String>>>,
}

impl Requirement {
    /// True when nothing is required.
    pub fn is_empty(&self) -> bool {
        !self.authenticated && self.scopes.is_none() && self.policies.is_none()
    }
}

/// The names the access directives have in one supergraph.
#[derive(Debug, Clone, Default)]
pub struct AccessNames {
    /// `@authenticated`'s name, when its spec is linked.
    pub authenticated: Option<String>,
    /// `@requiresScopes`'s name, when its spec is linked.
    pub requires_scopes: Option<String>,
    /// `@policy`'s name, when its spec is linked.
    pub policy: Option<String>,
}

impl AccessNames {
    /// Reads the names from `schema`'s links.
    pub fn read(schema: &Schema) -> AccessNames {
        let mut names = AccessNames::default();
        for link in schema.schema_definition.directives.get_all("link") {
            let url = link
                .specified_argument_by_name("url")
                .and_then(|v| v.as_str())
                .unwrap_or("");
            let spec = ["authenticated", "requiresScopes", "policy"]
                .into_iter()
                .find(|s| url.contains(&format!("specs.apollo.dev/{s}/")));
            let Some(spec) = spec else { continue };
            let mut local = link
                .specified_argument_by_name("as")
                .and_then(|v| v.as_str())
                .unwrap_or(spec)
                .to_owned();
            for (element, alias) in crate::cost::link_imports(link) {
                if element.trim_start_matches('@') == spec {
                    local = alias.trim_start_matches('@').to_owned();
                }
            }
            match spec {
                "authenticated" => names.authenticated = Some(local),
                "requiresScopes" => names.requires_scopes = Some(local),
                _ => names.policy = Some(local),
            }
        }
        names
    }

    /// Every name in use.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        [&self.authenticated, &self.requires_scopes, &self.policy]
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// True when `ty` is one of the specs' own types (`requiresScopes__Scope`,
    /// `policy__Policy`), which the API schema leaves out.
    pub fn is_spec_type(&self, ty: &str) -> bool {
        (self.requires_scopes.is_some() && ty.starts_with("requiresScopes__"))
            || (self.policy.is_some() && ty.starts_with("policy__"))
    }
}

/// Every access requirement of a supergraph, by type and field.
#[derive(Debug, Clone, Default)]
pub struct AccessRules {
    /// The directives' names in this supergraph.
    pub names: AccessNames,
    types: HashMap<Name, Requirement>,
    fields: HashMap<Name, HashMap<Name, Requirement>>,
}

impl AccessRules {
    /// Reads the directives of `schema`.
    pub fn read(schema: &Schema) -> AccessRules {
        let names = AccessNames::read(schema);
        let mut rules = AccessRules {
            names,
            ..Default::default()
        };
        if rules.names.all().next().is_none() {
            return rules;
        }
        for (name, ty) in &schema.types {
            let r = rules.requirement(ty.directives().iter().map(|d| &***d));
            if !r.is_empty() {
                rules.types.insert(name.clone(), r);
            }
            let fields = match ty {
                ExtendedType::Object(o) => &o.fields,
                ExtendedType::Interface(i) => &i.fields,
                _ => continue,
            };
            for (f, def) in fields {
                let r = rules.requirement(def.directives.iter().map(|d| &**d));
                if !r.is_empty() {
                    let by_field = rules.fields.entry(name.clone()).or_default();
                    by_field.insert(f.clone(), r);
                }
            }
        }
        rules
    }

    fn requirement<'d>(
        &self,
        directives: impl Iterator<Item = &'d apollo_compiler::ast::Directive>,
    ) -> Requirement {
        let mut r = Requirement::default();
        let is = |d: &apollo_compiler::ast::Directive, n: &Option<String>| {
            n.as_deref() == Some(d.name.as_str())
        };
        for d in directives {
            if is(d, &self.names.authenticated) {
                r.authenticated = true;
            } else if is(d, &self.names.requires_scopes) {
                r.scopes = Some(nested_strings(d.specified_argument_by_name("scopes")));
            } else if is(d, &self.names.policy) {
                r.policies = Some(nested_strings(d.specified_argument_by_name("policies")));
            }
        }
        r
    }

    /// True when the supergraph has no access requirement at all.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty() && self.fields.is_empty()
    }

    /// What type `ty` requires (on the type itself).
    pub fn of_type(&self, ty: &str) -> Option<&Requirement> {
        self.types.get(ty)
    }

    /// What field `field` of `ty` requires (on the field itself).
    pub fn of_field(&self, ty: &str, field: &str) -> Option<&Requirement> {
        self.fields.get(ty)?.get(field)
    }

    /// Every policy name used anywhere, sorted and deduplicated.
    pub fn policy_names(&self) -> Vec<String> {
        let all = self
            .types
            .values()
            .chain(self.fields.values().flat_map(|f| f.values()));
        let mut names: Vec<String> = all
            .filter_map(|r| r.policies.as_ref())
            .flatten()
            .flatten()
            .cloned()
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// `[[String]]` argument values; anything else reads as no entries (a
/// requirement no request can meet when the outer list is empty).
fn nested_strings(v: Option<&apollo_compiler::Node<Value>>) -> Vec<Vec<String>> {
    let Some(Value::List(outer)) = v.map(|v| &**v) else {
        return Vec::new();
    };
    outer
        .iter()
        .map(|inner| match &**inner {
            Value::List(items) => items
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect(),
            Value::String(s) => vec![s.to_string()],
            _ => Vec::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = r#"
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
  @link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)
  @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)
  @link(url: "https://specs.apollo.dev/policy/v0.1", for: SECURITY)
{ query: Query }
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
directive @policy(policies: [[policy__Policy!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
scalar requiresScopes__Scope
scalar policy__Policy
scalar link__Import
enum link__Purpose { SECURITY EXECUTION }
type Query { me: User @authenticated grades: [Int] @requiresScopes(scopes: [["read:grades"], ["admin"]]) }
type User @policy(policies: [["self", "staff"]]) { id: ID }
"#;

    #[test]
    fn reads_requirements_by_type_and_field() {
        let schema = Schema::parse(SDL, "s.graphql").unwrap();
        let rules = AccessRules::read(&schema);
        assert!(rules.of_field("Query", "me").unwrap().authenticated);
        assert_eq!(
            rules.of_field("Query", "grades").unwrap().scopes,
            Some(vec![
                vec!["read:grades".to_owned()],
                vec!["admin".to_owned()]
            ])
        );
        assert_eq!(
            rules.of_type("User").unwrap().policies,
            Some(vec![vec!["self".to_owned(), "staff".to_owned()]])
        );
        assert!(rules.of_field("User", "id").is_none());
        assert_eq!(rules.policy_names(), vec!["self", "staff"]);
        assert!(rules.names.is_spec_type("requiresScopes__Scope"));
    }

    #[test]
    fn no_links_means_no_requirements() {
        let sdl = SDL.replace(
            "@link(url: \"https://specs.apollo.dev/authenticated/v0.1\", for: SECURITY)",
            "",
        );
        let schema = Schema::parse(sdl, "s.graphql").unwrap();
        let rules = AccessRules::read(&schema);
        assert!(rules.of_field("Query", "me").is_none());
        assert!(rules.of_field("Query", "grades").is_some());
    }
}
