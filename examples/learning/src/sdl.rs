//! Directives async-graphql cannot write, added to the SDL a service
//! reports.
//!
//! - Progressive override labels: async-graphql 7 writes
//!   `@override(from: "monolith")` for a field marked
//!   `#[graphql(override_from = "monolith")]`, but has no way to add the
//!   `label:` argument of Federation 2.7, and it links Federation v2.5. So a
//!   service that moves a field progressively marks it with `override_from`
//!   as usual and lists it in [`Label`]; the `_service { sdl }` answer is
//!   then rewritten: the link becomes v2.7 and that field's directive becomes
//!   `@override(from: "monolith", label: "percent(25)")`.
//! - goliath's `@migrate`: async-graphql knows nothing of it. A service
//!   that takes a field over with a migration serves the field plainly (no
//!   `override_from`) and lists it in [`Migrate`]; the answer then links the
//!   migrate spec (`extend schema @link(url:
//!   "https://goliath.dev/migrate/v0.1", import: ["@migrate"])`) and the
//!   field carries `@migrate(from: "monolith", state: "side-by-side")` (with
//!   `percent:` for a canary).
//!
//! - Apollo Server's `@cacheControl(maxAge:, scope:)` hints, which
//!   async-graphql cannot write either. A service lists them in
//!   [`CacheHint`]; the answer then defines the directive and its
//!   `CacheControlScope` enum, links it and asks for it to be composed
//!   ([`CACHE_CONTROL_DEFINITIONS`]: `@composeDirective(name:
//!   "@cacheControl")`), and the listed types and fields carry it
//!   (`type Course @key(fields: "id") @cacheControl(maxAge: 300) {`,
//!   `courses: [Course!]! @cacheControl(maxAge: 60)`). The router reads the
//!   composed hints from the supergraph (`docs/configuration.md`,
//!   "`@cacheControl` hints").
//!
//! [`rewrite`] does all three. A listed field the SDL does not have (or, for
//! a label, a field without `@override`; for a migration, one with
//! `@override`), or a hinted type or field it does not have, is an error,
//! which stops the service at start-up: the service would otherwise
//! silently move all of the field, or none of it, or lose its hint.

/// A field taken over progressively: `Type.field` with this `label`.
#[derive(Clone, Copy, Debug)]
pub struct Label {
    /// The field's parent type.
    pub type_name: &'static str,
    /// The field.
    pub field: &'static str,
    /// The override label, `percent(N)`.
    pub label: &'static str,
}

/// A field taken over with goliath's `@migrate`: `Type.field`, taken from
/// subgraph `from`, in `state` (`manual`, `side-by-side`, `canary`,
/// `migrated`), with `percent` for a canary.
#[derive(Clone, Copy, Debug)]
pub struct Migrate {
    /// The field's parent type.
    pub type_name: &'static str,
    /// The field.
    pub field: &'static str,
    /// The subgraph that serves the field today (`monolith`).
    pub from: &'static str,
    /// The migration's state.
    pub state: &'static str,
    /// The canary's share of requests served by this service, 0–100.
    pub percent: Option<f64>,
}

impl Migrate {
    /// The directive as the SDL carries it:
    /// `@migrate(from: "monolith", state: "canary", percent: 25)`.
    pub fn directive(&self) -> String {
        let mut out = format!(
            "@migrate(from: \"{}\", state: \"{}\"",
            self.from, self.state
        );
        if let Some(p) = self.percent {
            out.push_str(&format!(", percent: {p}"));
        }
        out.push(')');
        out
    }
}

/// An Apollo Server `@cacheControl` hint on a type (`field: None`) or on a
/// field: `maxAge` in seconds, `scope: PRIVATE` when `private`.
#[derive(Clone, Copy, Debug)]
pub struct CacheHint {
    /// The type, or the field's parent type.
    pub type_name: &'static str,
    /// The field; `None` for a hint on the type itself.
    pub field: Option<&'static str>,
    /// `maxAge:`, in seconds.
    pub max_age: Option<u32>,
    /// `scope: PRIVATE`: only the client's own cache may keep the answer.
    pub private: bool,
}

impl CacheHint {
    /// `@cacheControl(maxAge: max_age)` on type `type_name`.
    pub const fn on_type(type_name: &'static str, max_age: u32) -> CacheHint {
        CacheHint {
            type_name,
            field: None,
            max_age: Some(max_age),
            private: false,
        }
    }

    /// `@cacheControl(maxAge: max_age)` on field `type_name.field`.
    pub const fn on_field(type_name: &'static str, field: &'static str, max_age: u32) -> CacheHint {
        CacheHint {
            type_name,
            field: Some(field),
            max_age: Some(max_age),
            private: false,
        }
    }

    /// `@cacheControl(scope: PRIVATE)` on field `type_name.field`: whatever
    /// selects it is never shared between users.
    pub const fn private_field(type_name: &'static str, field: &'static str) -> CacheHint {
        CacheHint {
            type_name,
            field: Some(field),
            max_age: None,
            private: true,
        }
    }

    /// `Type` or `Type.field`.
    pub fn coordinate(&self) -> String {
        match self.field {
            Some(field) => format!("{}.{field}", self.type_name),
            None => self.type_name.to_owned(),
        }
    }

    /// The directive as the SDL carries it: `@cacheControl(maxAge: 300)`,
    /// `@cacheControl(scope: PRIVATE)`.
    pub fn directive(&self) -> String {
        let mut args = Vec::new();
        if let Some(age) = self.max_age {
            args.push(format!("maxAge: {age}"));
        }
        if self.private {
            args.push("scope: PRIVATE".to_owned());
        }
        if args.is_empty() {
            "@cacheControl".to_owned()
        } else {
            format!("@cacheControl({})", args.join(", "))
        }
    }
}

/// What a service with cache hints adds to its SDL: Apollo Server's
/// definitions of the directive and its scope, a link that imports it (a
/// composed directive must come from a linked spec) and the request to
/// compose it into the supergraph.
pub const CACHE_CONTROL_DEFINITIONS: &str = "enum CacheControlScope {
	PUBLIC
	PRIVATE
}

directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION

extend schema @link(url: \"https://goliath.dev/cache-control/v0.1\", import: [\"@cacheControl\"]) @composeDirective(name: \"@cacheControl\")
";

/// The link a service with migrations adds to its SDL.
pub const MIGRATE_LINK: &str =
    "extend schema @link(url: \"https://goliath.dev/migrate/v0.1\", import: [\"@migrate\"])";

const V25: &str = "https://specs.apollo.dev/federation/v2.5";
const V27: &str = "https://specs.apollo.dev/federation/v2.7";

/// Adds the labels to `sdl`. An error names a label whose field has no
/// `@override` in the SDL (the service would silently move all of it).
pub fn add_labels(sdl: &str, labels: &[Label]) -> Result<String, String> {
    rewrite(sdl, labels, &[], &[])
}

/// Adds the labels, the migrations and the cache hints to `sdl` (the answer
/// to `_service { sdl }`). An error names the first listed field that
/// cannot be rewritten: a label whose field has no `@override`, a migration
/// whose field is missing or already has an `@override` (a field moves one
/// way or the other, not both), a hint whose type or field is missing.
pub fn rewrite(
    sdl: &str,
    labels: &[Label],
    migrations: &[Migrate],
    hints: &[CacheHint],
) -> Result<String, String> {
    if labels.is_empty() && migrations.is_empty() && hints.is_empty() {
        return Ok(sdl.to_owned());
    }
    let mut labelled = vec![false; labels.len()];
    let mut migrated = vec![false; migrations.len()];
    let mut hinted = vec![false; hints.len()];
    let mut current_type: Option<String> = None;
    // Inside a `"""` description (whose lines are not fields).
    let mut in_description = false;
    let mut out = String::with_capacity(sdl.len() + 128);
    for line in sdl.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let quotes = trimmed.matches("\"\"\"").count();
        if in_description || quotes > 0 {
            if quotes % 2 == 1 {
                in_description = !in_description;
            }
            out.push_str(line);
            continue;
        }
        let indented = trimmed.len() != line.len();
        if !indented {
            // `type X ... {`, `extend type X ... {`, `interface X {`, or `}`.
            let mut words = trimmed.split_whitespace();
            let mut word = words.next();
            if word == Some("extend") {
                word = words.next();
            }
            current_type = match word {
                Some("type" | "interface") => {
                    words.next().map(|n| n.trim_end_matches('{').to_owned())
                }
                _ => None,
            };
            let mut line = line.to_owned();
            for (i, hint) in hints.iter().enumerate() {
                if hint.field.is_none() && current_type.as_deref() == Some(hint.type_name) {
                    // Before the `{` that opens the fields, if any.
                    let body = line.trim_end();
                    let at = match body.strip_suffix('{') {
                        Some(head) => head.trim_end().len(),
                        None => body.len(),
                    };
                    line.insert_str(at, &format!(" {}", hint.directive()));
                    hinted[i] = true;
                }
            }
            out.push_str(&line);
            continue;
        }
        let field = trimmed
            .split(|c: char| c == ':' || c == '(' || c.is_whitespace())
            .next()
            .unwrap_or("");
        let here = |type_name: &str, name: &str| {
            current_type.as_deref() == Some(type_name) && field == name
        };
        let mut line = line.to_owned();
        for (i, label) in labels.iter().enumerate() {
            if here(label.type_name, label.field) {
                let Some(at) = line.find("@override(from: \"") else {
                    continue;
                };
                let Some(close) = line[at..].find(')') else {
                    continue;
                };
                let close = at + close;
                line.insert_str(close, &format!(", label: \"{}\"", label.label));
                labelled[i] = true;
            }
        }
        for (i, m) in migrations.iter().enumerate() {
            if here(m.type_name, m.field) {
                if line.contains("@override(") {
                    return Err(format!(
                        "{}.{} has both @override and {}: a field moves with one of them",
                        m.type_name,
                        m.field,
                        m.directive()
                    ));
                }
                let end = line.trim_end().len();
                line.insert_str(end, &format!(" {}", m.directive()));
                migrated[i] = true;
            }
        }
        for (i, hint) in hints.iter().enumerate() {
            let Some(name) = hint.field else { continue };
            if here(hint.type_name, name) {
                if line.trim_end().ends_with('(') {
                    return Err(format!(
                        "{} has its arguments on several lines: cannot mark it {}",
                        hint.coordinate(),
                        hint.directive()
                    ));
                }
                let end = line.trim_end().len();
                line.insert_str(end, &format!(" {}", hint.directive()));
                hinted[i] = true;
            }
        }
        out.push_str(&line);
    }
    if let Some(i) = labelled.iter().position(|d| !d) {
        let l = labels[i];
        return Err(format!(
            "{}.{} has no @override to label {:?}: mark it #[graphql(override_from = \"...\")]",
            l.type_name, l.field, l.label
        ));
    }
    if let Some(i) = migrated.iter().position(|d| !d) {
        let m = migrations[i];
        return Err(format!(
            "{}.{} is not a field of this service: cannot mark it {}",
            m.type_name,
            m.field,
            m.directive()
        ));
    }
    if let Some(i) = hinted.iter().position(|d| !d) {
        let h = hints[i];
        return Err(format!(
            "{} is not a {} of this service: cannot mark it {}",
            h.coordinate(),
            if h.field.is_some() { "field" } else { "type" },
            h.directive()
        ));
    }
    let mut out = if labels.is_empty() {
        out
    } else {
        out.replace(V25, V27)
    };
    if !migrations.is_empty() {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(MIGRATE_LINK);
        out.push('\n');
    }
    if !hints.is_empty() {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(CACHE_CONTROL_DEFINITIONS);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = "extend schema @link(\n\turl: \"https://specs.apollo.dev/federation/v2.5\",\n\timport: [\"@key\", \"@override\"]\n)\n\ntype User @key(fields: \"id\") {\n\tid: ID!\n\tprogress: [ExerciseProgress!]! @override(from: \"monolith\")\n\tname(style: Int): String! @override(from: \"monolith\")\n}\n\ntype Other {\n\tprogress: Int! @override(from: \"monolith\")\n}\n";

    /// As async-graphql writes it: descriptions in `"""` blocks.
    const PLAIN: &str = "type Course @key(fields: \"id\") {\n\tid: ID!\n\t\"\"\"\n\tdescription is moving.\n\t\"\"\"\n\tdescription: String!\n\ttitle: String! @override(from: \"monolith\")\n}\n\ntype User @key(fields: \"id\") {\n\tid: ID!\n\t\"\"\"\n\tlastSeen\n\t\"\"\"\n\tlastSeen: String!\n}\n";

    #[test]
    fn labels_the_listed_field_only() {
        let out = add_labels(
            SDL,
            &[Label {
                type_name: "User",
                field: "progress",
                label: "percent(25)",
            }],
        )
        .unwrap();
        assert!(out.contains("federation/v2.7"));
        assert!(out.contains(
            "\tprogress: [ExerciseProgress!]! @override(from: \"monolith\", label: \"percent(25)\")\n"
        ));
        assert!(out.contains("\tname(style: Int): String! @override(from: \"monolith\")\n"));
        assert!(out.contains("\tprogress: Int! @override(from: \"monolith\")\n"));
    }

    #[test]
    fn a_label_without_override_is_an_error() {
        let err = add_labels(
            SDL,
            &[Label {
                type_name: "User",
                field: "id",
                label: "x",
            }],
        )
        .unwrap_err();
        assert!(err.contains("User.id"), "{err}");
    }

    #[test]
    fn no_labels_no_change() {
        assert_eq!(add_labels(SDL, &[]).unwrap(), SDL);
        assert_eq!(rewrite(SDL, &[], &[], &[]).unwrap(), SDL);
    }

    #[test]
    fn migrations_mark_the_field_and_link_the_spec() {
        let out = rewrite(
            PLAIN,
            &[],
            &[
                Migrate {
                    type_name: "Course",
                    field: "description",
                    from: "monolith",
                    state: "canary",
                    percent: Some(25.0),
                },
                Migrate {
                    type_name: "User",
                    field: "lastSeen",
                    from: "monolith",
                    state: "side-by-side",
                    percent: None,
                },
            ],
            &[],
        )
        .unwrap();
        assert!(out.contains(
            "\tdescription: String! @migrate(from: \"monolith\", state: \"canary\", percent: 25)\n"
        ));
        assert!(out.contains(
            "\tlastSeen: String! @migrate(from: \"monolith\", state: \"side-by-side\")\n"
        ));
        // The descriptions' text is not a field.
        assert!(out.contains("\t\"\"\"\n\tlastSeen\n\t\"\"\"\n"));
        assert!(out.contains("\tdescription is moving.\n"));
        assert!(out.ends_with(&format!("{MIGRATE_LINK}\n")));
        // Each listed field once.
        assert_eq!(out.matches("@migrate(").count(), 2);
    }

    #[test]
    fn a_migration_of_a_missing_field_is_an_error() {
        let err = rewrite(
            PLAIN,
            &[],
            &[Migrate {
                type_name: "Course",
                field: "summary",
                from: "monolith",
                state: "side-by-side",
                percent: None,
            }],
            &[],
        )
        .unwrap_err();
        assert!(err.contains("Course.summary"), "{err}");
        // A type's field is not another type's.
        let err = rewrite(
            PLAIN,
            &[],
            &[Migrate {
                type_name: "Course",
                field: "lastSeen",
                from: "monolith",
                state: "side-by-side",
                percent: None,
            }],
            &[],
        )
        .unwrap_err();
        assert!(err.contains("Course.lastSeen"), "{err}");
    }

    #[test]
    fn a_migration_with_override_is_an_error() {
        let err = rewrite(
            PLAIN,
            &[],
            &[Migrate {
                type_name: "Course",
                field: "title",
                from: "monolith",
                state: "migrated",
                percent: None,
            }],
            &[],
        )
        .unwrap_err();
        assert!(err.contains("Course.title has both @override"), "{err}");
    }

    /// As async-graphql writes the content service's types.
    const CONTENT: &str = "type Course @key(fields: \"id\") {\n\tid: ID!\n\ttitle: String! @override(from: \"monolith\")\n\tdescription: String!\n}\n\ntype Query {\n\t\"\"\"\n\tEvery course.\n\t\"\"\"\n\tcourses: [Course!]! @override(from: \"monolith\")\n\tcourse(id: ID!): Course @override(from: \"monolith\")\n}\n\ntype User @key(fields: \"id\") {\n\tid: ID!\n\tprogress: [Int!]!\n}\n\nextend schema @link(\n\turl: \"https://specs.apollo.dev/federation/v2.5\",\n\timport: [\"@key\", \"@override\", \"@composeDirective\"]\n)\n";

    #[test]
    fn cache_hints_mark_types_and_fields_and_define_the_directive() {
        let out = rewrite(
            CONTENT,
            &[],
            &[Migrate {
                type_name: "Course",
                field: "description",
                from: "monolith",
                state: "canary",
                percent: Some(25.0),
            }],
            &[
                CacheHint::on_type("Course", 300),
                CacheHint::on_field("Query", "courses", 60),
                CacheHint::on_field("Query", "course", 60),
                CacheHint::private_field("User", "progress"),
            ],
        )
        .unwrap();
        assert!(
            out.contains("type Course @key(fields: \"id\") @cacheControl(maxAge: 300) {\n"),
            "{out}"
        );
        assert!(out.contains(
            "\tcourses: [Course!]! @override(from: \"monolith\") @cacheControl(maxAge: 60)\n"
        ));
        assert!(out.contains(
            "\tcourse(id: ID!): Course @override(from: \"monolith\") @cacheControl(maxAge: 60)\n"
        ));
        assert!(out.contains("\tprogress: [Int!]! @cacheControl(scope: PRIVATE)\n"));
        // The description's text is not the field; the migration is kept.
        assert!(out.contains("\tEvery course.\n"));
        assert!(out.contains(
            "\tdescription: String! @migrate(from: \"monolith\", state: \"canary\", percent: 25)\n"
        ));
        assert_eq!(out.matches("@cacheControl(").count(), 4 + 1);
        assert!(out.contains(MIGRATE_LINK));
        assert!(out.ends_with(CACHE_CONTROL_DEFINITIONS));
    }

    #[test]
    fn the_hinted_sdl_parses_as_a_subgraph() {
        let out = rewrite(CONTENT, &[], &[], &[CacheHint::on_type("Course", 300)]).unwrap();
        let doc = async_graphql::parser::parse_schema(&out);
        assert!(doc.is_ok(), "{:?}\n{out}", doc.err());
    }

    #[test]
    fn a_hint_on_a_missing_type_or_field_is_an_error() {
        let err = rewrite(CONTENT, &[], &[], &[CacheHint::on_type("Unit", 300)]).unwrap_err();
        assert!(err.contains("Unit is not a type"), "{err}");
        let err = rewrite(
            CONTENT,
            &[],
            &[],
            &[CacheHint::on_field("Course", "units", 300)],
        )
        .unwrap_err();
        assert!(err.contains("Course.units is not a field"), "{err}");
        // A type's field is not another type's.
        let err = rewrite(
            CONTENT,
            &[],
            &[],
            &[CacheHint::on_field("User", "courses", 1)],
        )
        .unwrap_err();
        assert!(err.contains("User.courses"), "{err}");
    }
}
