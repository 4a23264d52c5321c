//! What an operation selects: the `Type.field` coordinates of every field
//! it asks for, through fragments, without `__typename` and the
//! introspection fields. Computed once per document and operation (the
//! pipeline keeps it with the document).

use std::collections::{BTreeSet, HashSet};

use apollo_compiler::executable::{Operation, Selection, SelectionSet};
use apollo_compiler::{ExecutableDocument, Name};

/// Nesting past which a selection is not followed (validated operations
/// within the depth limit never get there).
const MAX_NESTING: usize = 512;

/// The fields one operation selects.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Selected {
    /// The operation's name (`""` when anonymous).
    pub operation: String,
    /// The coordinates (`Type.field`, the type being the selection set's:
    /// an interface's field selected on the interface is `Interface.field`),
    /// sorted, each once.
    pub fields: Vec<String>,
}

/// What `operation` of `doc` selects.
pub fn selected(doc: &ExecutableDocument, operation: &Operation) -> Selected {
    let mut fields = BTreeSet::new();
    let mut fragments = HashSet::new();
    walk(
        doc,
        &operation.selection_set,
        &mut fields,
        &mut fragments,
        0,
    );
    Selected {
        operation: operation
            .name
            .as_ref()
            .map(|n| n.to_string())
            .unwrap_or_default(),
        fields: fields.into_iter().collect(),
    }
}

/// Adds what `set` selects to `out`. A fragment's coordinates do not depend
/// on where it is spread: each is walked once.
fn walk(
    doc: &ExecutableDocument,
    set: &SelectionSet,
    out: &mut BTreeSet<String>,
    fragments: &mut HashSet<Name>,
    depth: usize,
) {
    if depth > MAX_NESTING {
        return;
    }
    for selection in &set.selections {
        match selection {
            Selection::Field(f) => {
                if f.name.starts_with("__") {
                    continue;
                }
                out.insert(format!("{}.{}", set.ty, f.name));
                walk(doc, &f.selection_set, out, fragments, depth + 1);
            }
            Selection::InlineFragment(i) => {
                walk(doc, &i.selection_set, out, fragments, depth + 1);
            }
            Selection::FragmentSpread(spread) => {
                if fragments.insert(spread.fragment_name.clone()) {
                    if let Some(fragment) = doc.fragments.get(&spread.fragment_name) {
                        walk(doc, &fragment.selection_set, out, fragments, depth + 1);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"
        type Query { me: User, node(id: ID!): Node }
        interface Node { id: ID! }
        type User implements Node { id: ID!, name: String, friends: [User] }
    "#;

    #[test]
    fn fields_are_found_through_fragments_without_meta_fields() {
        let schema = apollo_compiler::Schema::parse_and_validate(SCHEMA, "s.graphql").unwrap();
        let doc = ExecutableDocument::parse_and_validate(
            &schema,
            r#"query Me {
                __typename
                __schema { types { name } }
                me { ...F friends { ...F } }
                node(id: "1") { id ... on User { name } }
            }
            fragment F on User { __typename id }"#,
            "q.graphql",
        )
        .unwrap();
        let op = doc.operations.get(None).unwrap();
        let s = selected(&doc, op);
        assert_eq!(s.operation, "Me");
        assert_eq!(
            s.fields,
            [
                "Node.id",
                "Query.me",
                "Query.node",
                "User.friends",
                "User.id",
                "User.name"
            ]
        );
        let anonymous =
            ExecutableDocument::parse_and_validate(&schema, "{ me { id } }", "q.graphql").unwrap();
        let s = selected(&anonymous, anonymous.operations.get(None).unwrap());
        assert_eq!(s.operation, "");
        assert_eq!(s.fields, ["Query.me", "User.id"]);
    }
}
