//! Measuring an operation with its fragments expanded, without expanding
//! them: each named fragment is measured once and its measurement reused at
//! every spread, so the work is linear in the document however often the
//! fragments spread into each other.

use std::collections::HashMap;

use apollo_compiler::executable::{ExecutableDocument, Selection, SelectionSet};
use apollo_compiler::Name;

/// What an operation (or a fragment) measures once its fragments are
/// expanded. The first four are Apollo Router's operation limits, counted
/// as it counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Measurement {
    /// The deepest field nesting: `{ a { b } }` is 2.
    pub depth: u32,
    /// The number of distinct response keys in each selection set, added
    /// up over every selection set (a fragment counts at each spread).
    pub height: u32,
    /// The distinct response keys of the top-level selection set; fields of
    /// fragments there are added (an upper bound: the same key in two
    /// fragments counts twice).
    pub root_fields: u32,
    /// The aliased fields (a fragment counts at each spread).
    pub aliases: u32,
    /// Every selection (field, inline fragment, fragment spread) that a
    /// walk expanding the fragments would visit.
    pub recursive_selections: u64,
    /// The deepest nesting of selection sets, counting fields, inline
    /// fragments and fragment spreads alike: how deep the planner and the
    /// projection recurse.
    pub nesting: u32,
}

/// A fragment's measurement, or a mark that it is being measured (a spread
/// back into it is a cycle, which validation reports; it counts as empty).
enum Memo {
    InProgress,
    Done(Measurement),
}

/// Measures operations of one document, sharing the fragments' measurements.
pub struct Measurer<'a> {
    doc: &'a ExecutableDocument,
    fragments: HashMap<&'a Name, Memo>,
    /// Recursion stops below this nesting (the measurement then says
    /// `nesting > max_nesting`, which is refused), so measuring itself
    /// needs a bounded stack.
    max_nesting: u32,
}

impl<'a> Measurer<'a> {
    /// A measurer for `doc` that gives up below `max_nesting` levels.
    pub fn new(doc: &'a ExecutableDocument, max_nesting: u32) -> Self {
        Measurer {
            doc,
            fragments: HashMap::new(),
            max_nesting,
        }
    }

    /// Measures an operation's (or any) top-level selection set.
    pub fn measure(&mut self, set: &'a SelectionSet) -> Measurement {
        self.set(set, 0)
    }

    /// Measures `set`, found at nesting `level`.
    fn set(&mut self, set: &'a SelectionSet, level: u32) -> Measurement {
        let mut m = Measurement::default();
        if level > self.max_nesting {
            // Deeper than anything accepted: stop here. The measurement
            // says so by saturating, also wherever it is reused (another
            // operation reaching the same fragment higher up is refused
            // with it: a document that deep has no use).
            m.nesting = u32::MAX;
            return m;
        }
        // Response keys seen in this set: sets are small, a vector is
        // cheaper than hashing.
        let mut keys: Vec<&Name> = Vec::new();
        for selection in &set.selections {
            m.recursive_selections = m.recursive_selections.saturating_add(1);
            let nested = match selection {
                Selection::Field(field) => {
                    let nested = self.set(&field.selection_set, level + 1);
                    m.depth = m.depth.max(nested.depth.saturating_add(1));
                    let key = field.response_key();
                    if field.alias.is_some() {
                        m.aliases = m.aliases.saturating_add(1);
                    }
                    if !keys.contains(&key) {
                        keys.push(key);
                        m.height = m.height.saturating_add(1);
                        m.root_fields = m.root_fields.saturating_add(1);
                    }
                    nested
                }
                Selection::InlineFragment(inline) => {
                    let nested = self.set(&inline.selection_set, level + 1);
                    m.depth = m.depth.max(nested.depth);
                    m.root_fields = m.root_fields.saturating_add(nested.root_fields);
                    nested
                }
                Selection::FragmentSpread(spread) => {
                    let nested = self.fragment(&spread.fragment_name, level + 1);
                    m.depth = m.depth.max(nested.depth);
                    m.root_fields = m.root_fields.saturating_add(nested.root_fields);
                    nested
                }
            };
            m.height = m.height.saturating_add(nested.height);
            m.aliases = m.aliases.saturating_add(nested.aliases);
            m.recursive_selections = m
                .recursive_selections
                .saturating_add(nested.recursive_selections);
            m.nesting = m.nesting.max(nested.nesting.saturating_add(1));
        }
        m
    }

    /// The measurement of fragment `name` (measured once), found at
    /// nesting `level`. Unknown fragments and cycles count as empty:
    /// validation refuses such documents.
    fn fragment(&mut self, name: &'a Name, level: u32) -> Measurement {
        match self.fragments.get(name) {
            Some(Memo::Done(m)) => return *m,
            Some(Memo::InProgress) => return Measurement::default(),
            None => {}
        }
        let Some(definition) = self.doc.fragments.get(name) else {
            return Measurement::default();
        };
        self.fragments.insert(name, Memo::InProgress);
        let m = self.set(&definition.selection_set, level);
        self.fragments.insert(name, Memo::Done(m));
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apollo_compiler::Schema;

    const SCHEMA: &str =
        "type Query { a: A, b: A, s: String } type A { a: A, s: String, t: String }";

    fn measure(query: &str) -> Measurement {
        let schema = Schema::parse_and_validate(SCHEMA, "schema.graphql").unwrap();
        let doc = ExecutableDocument::parse_and_validate(&schema, query, "q.graphql").unwrap();
        let op = doc.operations.get(None).unwrap();
        Measurer::new(&doc, 1000).measure(&op.selection_set)
    }

    #[test]
    fn plain_operations() {
        let m = measure("{ a { a { s } } s }");
        assert_eq!((m.depth, m.height, m.root_fields, m.aliases), (3, 4, 2, 0));
        assert_eq!((m.recursive_selections, m.nesting), (4, 3));
        let m = measure("{ x: s y: s s a { s t } }");
        assert_eq!((m.depth, m.height, m.root_fields, m.aliases), (2, 6, 4, 2));
    }

    #[test]
    fn repeated_keys_count_once_for_height_and_root_fields() {
        let m = measure("{ s s a { s } a { t } }");
        assert_eq!((m.height, m.root_fields), (4, 2));
        assert_eq!(m.recursive_selections, 6);
    }

    #[test]
    fn fragments_count_at_every_spread() {
        let m = measure("{ a { ...F } b { ...F } } fragment F on A { x: s a { s } }");
        assert_eq!((m.depth, m.aliases), (3, 2));
        // a, spread, x, a, s, b, spread, x, a, s
        assert_eq!(m.recursive_selections, 10);
        assert_eq!(m.nesting, 4);
        let m = measure("{ ... on Query { a { ... on A { s } } } }");
        assert_eq!((m.depth, m.nesting, m.recursive_selections), (2, 4, 4));
        assert_eq!(m.root_fields, 1);
    }

    #[test]
    fn fragment_bombs_are_counted_not_expanded() {
        let n = 70;
        let mut q = String::from("query { ...F0 }\n");
        for i in 0..n {
            q.push_str(&format!(
                "fragment F{i} on Query {{ ...F{} ...F{} }}\n",
                i + 1,
                i + 1
            ));
        }
        q.push_str(&format!("fragment F{n} on Query {{ s }}\n"));
        let m = measure(&q);
        assert_eq!(m.recursive_selections, u64::MAX, "2^71 selections saturate");
        assert_eq!(m.nesting as usize, n + 2);
        assert_eq!(m.depth, 1);
        assert_eq!(m.root_fields, u32::MAX, "each spread adds its root fields");
    }

    #[test]
    fn deep_nesting_stops_at_the_cap() {
        let schema = Schema::parse_and_validate(SCHEMA, "schema.graphql").unwrap();
        let q = format!("{{ {} s {} }}", "a {".repeat(50), "}".repeat(50));
        let doc = ExecutableDocument::parse_and_validate(&schema, q, "q.graphql").unwrap();
        let op = doc.operations.get(None).unwrap();
        let m = Measurer::new(&doc, 10).measure(&op.selection_set);
        assert_eq!(m.nesting, u32::MAX, "{m:?}");
        let m = Measurer::new(&doc, 100).measure(&op.selection_set);
        assert_eq!(m.nesting, 51);
    }
}
