//! Field sets: the `fields` of `@key`, `@requires` and `@provides`.
//!
//! A field set is a selection set without its braces. It is parsed as the
//! selection set of an anonymous operation, so GraphQL's own syntax rules
//! apply.

use apollo_compiler::ast;

/// One selection of a field set.
#[derive(Debug, Clone)]
pub(crate) enum Sel {
    /// `name(args) { children }`
    Field {
        /// The field's name.
        name: String,
        /// True when arguments are given.
        has_args: bool,
        /// True when the field has an alias.
        aliased: bool,
        /// Directive names applied to the field.
        directives: Vec<String>,
        /// The sub-selections (empty for leaves).
        children: Vec<Sel>,
    },
    /// `... on Type { children }` (or `... { children }`)
    Fragment {
        /// The type condition.
        on: Option<String>,
        /// The selections.
        children: Vec<Sel>,
    },
}

/// Parses a field set.
pub(crate) fn parse(fields: &str) -> Result<Vec<Sel>, String> {
    let text = format!("{{ {fields} \n}}");
    let doc = ast::Document::parse(text, "fields.graphql").map_err(|e| {
        e.errors
            .iter()
            .map(|d| d.error.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let mut op = None;
    for def in &doc.definitions {
        match def {
            ast::Definition::OperationDefinition(o) if op.is_none() => op = Some(o),
            _ => return Err("a field set must be a single selection set".into()),
        }
    }
    let op = op.ok_or("empty field set")?;
    if op.selection_set.is_empty() {
        return Err("empty field set".into());
    }
    convert(&op.selection_set)
}

fn convert(set: &[ast::Selection]) -> Result<Vec<Sel>, String> {
    set.iter()
        .map(|s| match s {
            ast::Selection::Field(f) => Ok(Sel::Field {
                name: f.name.to_string(),
                has_args: !f.arguments.is_empty(),
                aliased: f.alias.is_some(),
                directives: f.directives.iter().map(|d| d.name.to_string()).collect(),
                children: convert(&f.selection_set)?,
            }),
            ast::Selection::InlineFragment(f) => Ok(Sel::Fragment {
                on: f.type_condition.as_ref().map(|t| t.to_string()),
                children: convert(&f.selection_set)?,
            }),
            ast::Selection::FragmentSpread(s) => Err(format!(
                "fragment spreads are not allowed in field sets (found ...{})",
                s.fragment_name
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_fields_and_fragments() {
        let sels =
            parse("id products { id ... on Book { isbn } } price(currency: \"USD\")").unwrap();
        assert_eq!(sels.len(), 3);
        match &sels[1] {
            Sel::Field { name, children, .. } => {
                assert_eq!(name, "products");
                assert!(matches!(&children[1], Sel::Fragment { on: Some(t), .. } if t == "Book"));
            }
            _ => panic!(),
        }
        assert!(matches!(&sels[2], Sel::Field { has_args: true, .. }));
    }

    #[test]
    fn rejects_bad_syntax() {
        assert!(parse("id {").is_err());
        assert!(parse("").is_err());
    }
}
