//! Which federation spec a subgraph uses, and what its federation directives
//! are called there.
//!
//! A Federation 2 subgraph `@link`s `https://specs.apollo.dev/federation/v2.x`
//! and imports some of its directives, possibly renamed
//! (`{name: "@override", as: "@replace"}`); the others are still usable with
//! the link's prefix (`@federation__shareable`, or `@fed__shareable` with
//! `as: "fed"`). A Federation 1 subgraph has no such link and uses the plain
//! names.

use std::collections::HashMap;

use apollo_compiler::ast;

use crate::errors::{CompositionError, ErrorCode};

/// A federation directive, by its canonical name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Fed {
    Key,
    Requires,
    Provides,
    External,
    Shareable,
    Extends,
    Override,
    Inaccessible,
    Tag,
    InterfaceObject,
    ComposeDirective,
    Authenticated,
    RequiresScopes,
    Policy,
    Context,
    FromContext,
    Cost,
    ListSize,
    /// goliath's `@migrate` (not a federation directive: brought in by its
    /// own link or by a definition, see [`migrate_names`]).
    Migrate,
}

impl Fed {
    const ALL: [Fed; 18] = [
        Fed::Key,
        Fed::Requires,
        Fed::Provides,
        Fed::External,
        Fed::Shareable,
        Fed::Extends,
        Fed::Override,
        Fed::Inaccessible,
        Fed::Tag,
        Fed::InterfaceObject,
        Fed::ComposeDirective,
        Fed::Authenticated,
        Fed::RequiresScopes,
        Fed::Policy,
        Fed::Context,
        Fed::FromContext,
        Fed::Cost,
        Fed::ListSize,
    ];

    /// The directive's name in the federation spec.
    pub fn name(self) -> &'static str {
        match self {
            Fed::Key => "key",
            Fed::Requires => "requires",
            Fed::Provides => "provides",
            Fed::External => "external",
            Fed::Shareable => "shareable",
            Fed::Extends => "extends",
            Fed::Override => "override",
            Fed::Inaccessible => "inaccessible",
            Fed::Tag => "tag",
            Fed::InterfaceObject => "interfaceObject",
            Fed::ComposeDirective => "composeDirective",
            Fed::Authenticated => "authenticated",
            Fed::RequiresScopes => "requiresScopes",
            Fed::Policy => "policy",
            Fed::Context => "context",
            Fed::FromContext => "fromContext",
            Fed::Cost => "cost",
            Fed::ListSize => "listSize",
            Fed::Migrate => "migrate",
        }
    }

    /// The first federation version (minor of 2.x) defining the directive.
    fn since_minor(self) -> u32 {
        match self {
            Fed::ComposeDirective => 1,
            Fed::InterfaceObject => 3,
            Fed::Authenticated | Fed::RequiresScopes => 5,
            Fed::Policy => 6,
            Fed::Context | Fed::FromContext => 8,
            Fed::Cost | Fed::ListSize => 9,
            _ => 0,
        }
    }
}

/// Type names of the federation spec that may be imported.
const FED_TYPES: [&str; 6] = [
    "FieldSet",
    "Scope",
    "Policy",
    "ContextFieldValue",
    "_Any",
    "_Entity",
];

/// A `@link` to a spec other than federation and link (for `@composeDirective`).
#[derive(Debug, Clone)]
pub(crate) struct OtherLink {
    /// The spec URL.
    pub url: String,
    /// The `import:` argument, as written.
    pub import: Option<String>,
    /// Local directive names this link brings in (imports, with renames).
    pub directives: Vec<String>,
}

/// A subgraph's federation version and directive names.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    /// `(2, x)` for Federation 2, `(1, 0)` without a federation link.
    pub version: (u32, u32),
    /// Local directive name -> federation directive.
    names: HashMap<String, Fed>,
    /// Local names of imported federation types (`FieldSet`, ...) and the
    /// prefixed ones (`federation__FieldSet`).
    pub type_names: Vec<String>,
    /// Other specs this subgraph links.
    pub other_links: Vec<OtherLink>,
    /// The federation link's URL, if any.
    fed_url: Option<String>,
    /// The cost spec's link (`https://specs.apollo.dev/cost/v0.x`), if any,
    /// and the local names it gives `@cost` and `@listSize`.
    cost_link: Option<(String, Vec<String>)>,
}

impl Spec {
    /// True for Federation 2 subgraphs.
    pub fn is_fed2(&self) -> bool {
        self.version.0 >= 2
    }

    /// The federation directive a local directive name stands for.
    pub fn fed(&self, local: &str) -> Option<Fed> {
        self.names.get(local).copied()
    }

    /// True when `local` names a directive of the federation or link specs.
    pub fn is_spec_directive(&self, local: &str) -> bool {
        self.names.contains_key(local) || local == "link" || local.starts_with("link__")
    }

    /// True when the subgraph links the cost spec itself (which implies
    /// Federation 2.9, as Apollo upgrades such subgraphs).
    pub fn links_cost_spec(&self) -> bool {
        self.cost_link.is_some()
    }

    /// The URL of the link that defines `@cost`/`@listSize` name `local`.
    pub fn demand_url(&self, local: &str) -> &str {
        match &self.cost_link {
            Some((url, names)) if names.iter().any(|n| n == local) => url,
            _ => self.fed_url.as_deref().unwrap_or(COST_URL),
        }
    }

    /// Reads the `@link`s of a subgraph document.
    pub fn read(doc: &ast::Document, subgraph: &str) -> Result<Spec, Vec<CompositionError>> {
        let mut errors = Vec::new();
        let mut fed_link: Option<&ast::Directive> = None;
        let mut cost_link: Option<(String, Vec<(String, Fed)>)> = None;
        let mut other_links = Vec::new();
        let mut migrate_local: Vec<(String, Fed)> = Vec::new();
        for def in &doc.definitions {
            let directives = match def {
                ast::Definition::SchemaDefinition(s) => &s.directives,
                ast::Definition::SchemaExtension(s) => &s.directives,
                _ => continue,
            };
            for d in directives.iter() {
                if d.name != "link" {
                    continue;
                }
                let Some(url) = d.specified_argument_by_name("url").and_then(|v| v.as_str()) else {
                    errors.push(CompositionError::in_subgraph(
                        ErrorCode::InvalidLinkDirectiveUsage,
                        subgraph,
                        "@link is missing its url argument",
                    ));
                    continue;
                };
                if url.contains("specs.apollo.dev/federation/") {
                    fed_link = Some(d);
                } else if url.contains("specs.apollo.dev/cost/") {
                    match cost_names(d, url, subgraph) {
                        Ok(names) => cost_link = Some((url.to_owned(), names)),
                        Err(e) => errors.push(e),
                    }
                } else if is_migrate_url(url) {
                    match migrate_link_names(d, url, subgraph) {
                        Ok(names) => migrate_local.extend(names),
                        Err(e) => errors.push(e),
                    }
                } else if !url.contains("specs.apollo.dev/link/") {
                    let import = d.specified_argument_by_name("import");
                    let directives = import
                        .map(|v| imports(v).into_iter().map(|(_, local)| local).collect())
                        .unwrap_or_default();
                    other_links.push(OtherLink {
                        url: url.to_owned(),
                        import: import.map(|v| v.serialize().no_indent().to_string()),
                        directives,
                    });
                }
            }
        }
        let mut linked_names: Vec<(String, Fed)> = cost_link
            .as_ref()
            .map(|(_, names)| names.clone())
            .unwrap_or_default();
        // `@migrate` is goliath's: its names join the linked ones.
        linked_names.extend(migrate_local);
        linked_names.extend(migrate_definition(doc));
        let cost_link =
            cost_link.map(|(url, names)| (url, names.into_iter().map(|(n, _)| n).collect()));
        let Some(link) = fed_link else {
            if !errors.is_empty() {
                return Err(errors);
            }
            // Federation 1 knows no demand control nor access control:
            // `@cost` or `@authenticated` there is a directive of the
            // subgraph's own (unless a cost link says otherwise).
            let mut names: HashMap<String, Fed> = Fed::ALL
                .iter()
                .filter(|f| {
                    !matches!(
                        f,
                        Fed::Cost
                            | Fed::ListSize
                            | Fed::Authenticated
                            | Fed::RequiresScopes
                            | Fed::Policy
                    )
                })
                .map(|f| (f.name().to_owned(), *f))
                .collect();
            names.extend(linked_names);
            return Ok(Spec {
                version: (1, 0),
                names,
                type_names: vec!["_FieldSet".into(), "FieldSet".into()],
                other_links,
                fed_url: None,
                cost_link,
            });
        };
        let url = link
            .specified_argument_by_name("url")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let version = parse_version(url).ok_or_else(|| {
            vec![CompositionError::in_subgraph(
                ErrorCode::InvalidLinkDirectiveUsage,
                subgraph,
                format!("Expected a version string (of the form v1.2) in {url}"),
            )]
        })?;
        let prefix = link
            .specified_argument_by_name("as")
            .and_then(|v| v.as_str())
            .unwrap_or("federation")
            .to_owned();
        let imported = link
            .specified_argument_by_name("import")
            .map(|v| imports(v))
            .unwrap_or_default();
        let mut names = HashMap::new();
        let mut type_names = Vec::new();
        for (name, local) in &imported {
            let known_directive = Fed::ALL
                .iter()
                .find(|f| name.strip_prefix('@') == Some(f.name()));
            match known_directive {
                Some(f) if f.since_minor() <= version.1 => {
                    names.insert(local.clone(), *f);
                }
                _ if !name.starts_with('@') && FED_TYPES.contains(&name.as_str()) => {
                    type_names.push(local.clone());
                }
                _ => errors.push(CompositionError::in_subgraph(
                    ErrorCode::InvalidLinkDirectiveUsage,
                    subgraph,
                    format!("Cannot import unknown element \"{name}\"."),
                )),
            }
        }
        for f in Fed::ALL {
            if f.since_minor() <= version.1 {
                names.insert(format!("{prefix}__{}", f.name()), f);
            }
        }
        for t in FED_TYPES {
            type_names.push(format!("{prefix}__{t}"));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        names.extend(linked_names);
        Ok(Spec {
            version,
            names,
            type_names,
            other_links,
            fed_url: Some(url.to_owned()),
            cost_link,
        })
    }
}

/// The cost spec's URL, for messages about subgraphs that do not link it.
const COST_URL: &str = "https://specs.apollo.dev/cost/v0.1";

/// The local names a cost link gives `@cost` and `@listSize`: the imports
/// (possibly renamed), and `@cost` (the spec's own name, or its `as:`) and
/// `@cost__listSize` for the others.
fn cost_names(
    link: &ast::Directive,
    url: &str,
    subgraph: &str,
) -> Result<Vec<(String, Fed)>, CompositionError> {
    if !url.trim_end_matches('/').ends_with("/v0.1") {
        return Err(CompositionError::in_subgraph(
            ErrorCode::InvalidLinkDirectiveUsage,
            subgraph,
            format!("Unsupported version of the cost spec: {url} (goliath knows v0.1)"),
        ));
    }
    let prefix = link
        .specified_argument_by_name("as")
        .and_then(|v| v.as_str())
        .unwrap_or("cost");
    let mut names = Vec::new();
    let imported = link
        .specified_argument_by_name("import")
        .map(|v| imports(v))
        .unwrap_or_default();
    for (name, local) in imported {
        let fed = match name.as_str() {
            "@cost" => Fed::Cost,
            "@listSize" => Fed::ListSize,
            _ => {
                return Err(CompositionError::in_subgraph(
                    ErrorCode::InvalidLinkDirectiveUsage,
                    subgraph,
                    format!("Cannot import unknown element \"{name}\"."),
                ))
            }
        };
        names.push((local, fed));
    }
    for (default, fed) in [
        (prefix.to_owned(), Fed::Cost),
        (format!("{prefix}__listSize"), Fed::ListSize),
    ] {
        if !names.iter().any(|(_, f)| *f == fed) {
            names.push((default, fed));
        }
    }
    Ok(names)
}

/// True for a link to goliath's migrate spec (any version).
fn is_migrate_url(url: &str) -> bool {
    let base = goliath_supergraph::MIGRATE_SPEC_URL
        .rsplit_once('/')
        .map_or("", |(base, _)| base);
    url.strip_prefix(base)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// The local name a migrate link gives `@migrate`: its import (possibly
/// renamed), else the link's `as:`, else `migrate`. Versions `v0.x` are
/// read; importing anything but `@migrate` is an error.
fn migrate_link_names(
    link: &ast::Directive,
    url: &str,
    subgraph: &str,
) -> Result<Vec<(String, Fed)>, CompositionError> {
    let minor = parse_version(url).filter(|(major, _)| *major == 0);
    if minor.is_none() {
        return Err(CompositionError::in_subgraph(
            ErrorCode::InvalidLinkDirectiveUsage,
            subgraph,
            format!(
                "Unsupported version of the migrate spec: {url} (goliath knows v0.x, {})",
                goliath_supergraph::MIGRATE_SPEC_URL
            ),
        ));
    }
    let mut local = link
        .specified_argument_by_name("as")
        .and_then(|v| v.as_str())
        .unwrap_or("migrate")
        .to_owned();
    let imported = link
        .specified_argument_by_name("import")
        .map(|v| imports(v))
        .unwrap_or_default();
    for (name, alias) in imported {
        if name != "@migrate" {
            return Err(CompositionError::in_subgraph(
                ErrorCode::InvalidLinkDirectiveUsage,
                subgraph,
                format!("Cannot import unknown element \"{name}\" from {url}."),
            ));
        }
        local = alias;
    }
    Ok(vec![(local, Fed::Migrate)])
}

/// `@migrate` declared by a definition instead of a link:
/// `directive @migrate(from: String!, state: String!, percent: Float) on
/// FIELD_DEFINITION` (`percent` may be an `Int`, and may be left out). A
/// definition of another shape is the subgraph's own directive, as before
/// goliath knew `@migrate`.
fn migrate_definition(doc: &ast::Document) -> Option<(String, Fed)> {
    doc.definitions.iter().find_map(|def| {
        let ast::Definition::DirectiveDefinition(d) = def else {
            return None;
        };
        fn base(ty: &ast::Type) -> Option<&str> {
            match ty {
                ast::Type::Named(n) | ast::Type::NonNullNamed(n) => Some(n.as_str()),
                _ => None,
            }
        }
        let arg = |name: &str| d.arguments.iter().find(|a| a.name == name);
        let shaped = d.name == "migrate"
            && d.locations
                .contains(&ast::DirectiveLocation::FieldDefinition)
            && arg("from").is_some_and(|a| base(&a.ty) == Some("String"))
            && arg("state").is_some_and(|a| base(&a.ty) == Some("String"))
            && d.arguments.iter().all(|a| match a.name.as_str() {
                "from" | "state" => true,
                "percent" => matches!(base(&a.ty), Some("Float" | "Int")),
                _ => false,
            });
        shaped.then(|| ("migrate".to_owned(), Fed::Migrate))
    })
}

/// `v2.3` at the end of a spec URL.
fn parse_version(url: &str) -> Option<(u32, u32)> {
    let v = url.trim_end_matches('/').rsplit('/').next()?;
    let v = v.strip_prefix('v')?;
    let (major, minor) = v.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// The `(name, local name)` pairs of an `import:` list, without the `@`s on
/// local directive names.
fn imports(value: &ast::Value) -> Vec<(String, String)> {
    let items: Vec<&ast::Value> = match value {
        ast::Value::List(items) => items.iter().map(|v| &**v).collect(),
        other => vec![other],
    };
    let mut out = Vec::new();
    for item in items {
        match item {
            ast::Value::String(s) => out.push((s.clone(), s.trim_start_matches('@').to_owned())),
            ast::Value::Object(fields) => {
                let get = |k: &str| {
                    fields
                        .iter()
                        .find(|(n, _)| n == k)
                        .and_then(|(_, v)| v.as_str())
                        .map(str::to_owned)
                };
                if let Some(name) = get("name") {
                    let local = get("as").unwrap_or_else(|| name.clone());
                    out.push((name, local.trim_start_matches('@').to_owned()));
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(sdl: &str) -> Spec {
        let doc = ast::Document::parse(sdl, "s.graphql").unwrap();
        Spec::read(&doc, "s").unwrap()
    }

    #[test]
    fn renamed_and_prefixed_imports() {
        let s = spec(
            r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3",
                 import: ["@key", {name: "@override", as: "@replace"}])
               type Query { a: Int }"#,
        );
        assert_eq!(s.version, (2, 3));
        assert_eq!(s.fed("key"), Some(Fed::Key));
        assert_eq!(s.fed("replace"), Some(Fed::Override));
        assert_eq!(s.fed("override"), None);
        assert_eq!(s.fed("federation__shareable"), Some(Fed::Shareable));
        assert_eq!(s.fed("shareable"), None);
    }

    #[test]
    fn fed1_uses_plain_names() {
        let s = spec("type Query { a: Int }");
        assert!(!s.is_fed2());
        assert_eq!(s.fed("external"), Some(Fed::External));
    }

    #[test]
    fn link_as_prefix() {
        let s = spec(
            r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.0", as: "fed")
               type Query { a: Int }"#,
        );
        assert_eq!(s.fed("fed__key"), Some(Fed::Key));
        assert_eq!(s.fed("fed__interfaceObject"), None);
    }
}
