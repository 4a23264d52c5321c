//! Comparing two answers to the same shadow operation, field by field and
//! entity by entity. Pure: JSON in, findings out.
//!
//! [`occurrences`] walks the shadow operation over both answers and yields
//! each place a migrating field was resolved (one per parent entity: the
//! "entity-field pairs"). [`diff`] compares one pair's two values under the
//! field's rules: object key order never counts, ignored paths are skipped,
//! lists may be compared as unordered, numbers within a tolerance are
//! equal. Paths inside a field are written as patterns (`items.*.at`, list
//! indices as `*`) for the rules and for the noise a field has shown.

use apollo_compiler::executable::{ExecutableDocument, Selection, SelectionSet};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::Schema;
use serde_json::Value;

/// How to compare one field (`migrations.Type.field` in the config).
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// Patterns of paths never compared.
    pub ignore: Vec<String>,
    /// Patterns of lists compared as multisets (`""`: the field itself).
    pub unordered: Vec<String>,
    /// Numbers closer than this are equal.
    pub float_tolerance: f64,
}

/// One place a migrating field was resolved: the same response path in
/// both answers.
#[derive(Debug)]
pub struct Occurrence<'v> {
    /// Which migrating field (the caller's index).
    pub field: usize,
    /// The response path of the field.
    pub path: Vec<Value>,
    /// The value in the old answer (`None`: absent).
    pub old: Option<&'v Value>,
    /// The value in the new answer.
    pub new: Option<&'v Value>,
}

/// One difference inside a field's value.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// The path below the field.
    pub path: Vec<Value>,
    /// The old value there (`null` when absent).
    pub old: Value,
    /// The new value there.
    pub new: Value,
}

/// The most differences kept for one entity-field pair.
pub const MAX_DIFFERENCES: usize = 16;

/// Walks `doc`'s operation `operation_name` over the `data` of two
/// answers. `migrating(type, field)` gives the caller's index of a
/// migrating field. The walk follows the shape of `new` (whose abstract
/// selections carry `__typename`, see `goliath_planner::shadow`).
pub fn occurrences<'v>(
    schema: &Schema,
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    old: &'v Value,
    new: &'v Value,
    migrating: &dyn Fn(&str, &str) -> Option<usize>,
) -> Vec<Occurrence<'v>> {
    let mut out = vec![];
    let Ok(op) = doc.operations.get(operation_name) else {
        return out;
    };
    let walker = Walker {
        schema,
        doc,
        migrating,
    };
    let mut path = vec![];
    walker.object(
        &op.selection_set,
        Some(old),
        Some(new),
        &mut path,
        &mut out,
        0,
    );
    out
}

struct Walker<'a> {
    schema: &'a Schema,
    doc: &'a ExecutableDocument,
    migrating: &'a dyn Fn(&str, &str) -> Option<usize>,
}

/// Deeper than this the walk stops (answers are depth-limited anyway).
const MAX_WALK_DEPTH: usize = 256;

impl Walker<'_> {
    fn object<'v>(
        &self,
        set: &SelectionSet,
        old: Option<&'v Value>,
        new: Option<&'v Value>,
        path: &mut Vec<Value>,
        out: &mut Vec<Occurrence<'v>>,
        depth: usize,
    ) {
        if depth > MAX_WALK_DEPTH {
            return;
        }
        let runtime = new
            .and_then(|n| n.get("__typename"))
            .and_then(Value::as_str)
            .unwrap_or(set.ty.as_str())
            .to_owned();
        for selection in &set.selections {
            match selection {
                Selection::Field(f) => {
                    let key = f.response_key().as_str();
                    let (o, n) = (old.and_then(|v| v.get(key)), new.and_then(|v| v.get(key)));
                    path.push(Value::String(key.to_owned()));
                    if let Some(field) = (self.migrating)(&runtime, f.name.as_str()) {
                        out.push(Occurrence {
                            field,
                            path: path.clone(),
                            old: o,
                            new: n,
                        });
                    } else if !f.selection_set.selections.is_empty() {
                        self.value(&f.selection_set, o, n, path, out, depth + 1);
                    }
                    path.pop();
                }
                Selection::InlineFragment(inline) => {
                    let applies = inline
                        .type_condition
                        .as_ref()
                        .is_none_or(|c| self.applies(c.as_str(), &runtime));
                    if applies {
                        self.object(&inline.selection_set, old, new, path, out, depth + 1);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = self.doc.fragments.get(&spread.fragment_name) {
                        if self.applies(fragment.type_condition().as_str(), &runtime) {
                            self.object(&fragment.selection_set, old, new, path, out, depth + 1);
                        }
                    }
                }
            }
        }
    }

    fn value<'v>(
        &self,
        set: &SelectionSet,
        old: Option<&'v Value>,
        new: Option<&'v Value>,
        path: &mut Vec<Value>,
        out: &mut Vec<Occurrence<'v>>,
        depth: usize,
    ) {
        match (old, new) {
            (Some(Value::Array(o)), Some(Value::Array(n))) => {
                for (i, (o, n)) in o.iter().zip(n).enumerate() {
                    path.push(Value::from(i));
                    self.value(set, Some(o), Some(n), path, out, depth + 1);
                    path.pop();
                }
            }
            (Some(o @ Value::Object(_)), Some(n @ Value::Object(_))) => {
                self.object(set, Some(o), Some(n), path, out, depth)
            }
            // The parents differ or are missing on one side: their fields
            // cannot be paired.
            _ => {}
        }
    }

    /// Does type condition `condition` hold for an object of type `ty`?
    fn applies(&self, condition: &str, ty: &str) -> bool {
        if condition == ty {
            return true;
        }
        match self.schema.types.get(condition) {
            Some(ExtendedType::Interface(_)) => self
                .schema
                .get_object(ty)
                .is_some_and(|o| o.implements_interfaces.iter().any(|i| i.name == condition)),
            Some(ExtendedType::Union(u)) => u.members.iter().any(|m| m.name == ty),
            _ => false,
        }
    }
}

/// The differences between `old` and `new` under `rules` (at most
/// [`MAX_DIFFERENCES`]).
pub fn diff(old: &Value, new: &Value, rules: &Rules) -> Vec<Difference> {
    let mut out = vec![];
    let mut path = vec![];
    diff_at(old, new, rules, &mut path, &mut out);
    out
}

fn diff_at(
    old: &Value,
    new: &Value,
    rules: &Rules,
    path: &mut Vec<Value>,
    out: &mut Vec<Difference>,
) {
    if out.len() >= MAX_DIFFERENCES {
        return;
    }
    if !rules.ignore.is_empty() && rules.ignore.iter().any(|p| matches(p, path)) {
        return;
    }
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            for (k, ov) in o {
                path.push(Value::String(k.clone()));
                diff_at(ov, n.get(k).unwrap_or(&Value::Null), rules, path, out);
                path.pop();
            }
            for (k, nv) in n {
                if !o.contains_key(k) {
                    path.push(Value::String(k.clone()));
                    diff_at(&Value::Null, nv, rules, path, out);
                    path.pop();
                }
            }
        }
        (Value::Array(o), Value::Array(n)) => {
            if rules.unordered.iter().any(|p| matches(p, path)) {
                if !same_multiset(o, n, rules, path) {
                    push(out, path, old, new);
                }
                return;
            }
            for i in 0..o.len().max(n.len()) {
                path.push(Value::from(i));
                diff_at(
                    o.get(i).unwrap_or(&Value::Null),
                    n.get(i).unwrap_or(&Value::Null),
                    rules,
                    path,
                    out,
                );
                path.pop();
            }
        }
        (Value::Number(o), Value::Number(n)) => {
            let (a, b) = (o.as_f64(), n.as_f64());
            let equal = match (a, b) {
                _ if o == n => true,
                (Some(a), Some(b)) => a == b || (a - b).abs() <= rules.float_tolerance,
                _ => false,
            };
            if !equal {
                push(out, path, old, new);
            }
        }
        _ => {
            if old != new {
                push(out, path, old, new);
            }
        }
    }
}

fn push(out: &mut Vec<Difference>, path: &[Value], old: &Value, new: &Value) {
    out.push(Difference {
        path: path.to_vec(),
        old: old.clone(),
        new: new.clone(),
    });
}

/// Are two lists the same multiset (each element of one pairs with an
/// equal element of the other, under `rules`)?
fn same_multiset(o: &[Value], n: &[Value], rules: &Rules, path: &mut Vec<Value>) -> bool {
    if o.len() != n.len() {
        return false;
    }
    let mut used = vec![false; n.len()];
    'outer: for a in o {
        for (j, b) in n.iter().enumerate() {
            if !used[j] {
                path.push(Value::from(j));
                let mut d = vec![];
                diff_at(a, b, rules, path, &mut d);
                path.pop();
                if d.is_empty() {
                    used[j] = true;
                    continue 'outer;
                }
            }
        }
        return false;
    }
    true
}

/// A path below a field as a pattern: keys joined by `.`, list indices
/// as `*` (the field itself is `""`).
pub fn pattern(path: &[Value]) -> String {
    let parts: Vec<&str> = path
        .iter()
        .map(|p| match p {
            Value::String(s) => s.as_str(),
            _ => "*",
        })
        .collect();
    parts.join(".")
}

/// Does `pattern` (`a.*.b`; `*` is any key or index) match `path`
/// exactly? A pattern also matches everything below the path it names.
pub fn matches(pattern: &str, path: &[Value]) -> bool {
    if pattern.is_empty() {
        return path.is_empty();
    }
    let parts: Vec<&str> = pattern.split('.').collect();
    if parts.len() > path.len() {
        return false;
    }
    parts.iter().zip(path).all(|(p, v)| match v {
        _ if *p == "*" => true,
        Value::String(s) => s == p,
        Value::Number(n) => n.to_string() == *p,
        _ => false,
    }) && (parts.len() == path.len() || !pattern.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_never_counts() {
        let d = diff(
            &json!({"a": 1, "b": 2}),
            &json!({"b": 2, "a": 1}),
            &Rules::default(),
        );
        assert!(d.is_empty());
    }

    #[test]
    fn differences_have_paths_and_both_values() {
        let d = diff(
            &json!([{"correct": 4}, {"correct": 1}]),
            &json!([{"correct": 5}, {"correct": 1}]),
            &Rules::default(),
        );
        assert_eq!(
            d,
            vec![Difference {
                path: vec![json!(0), json!("correct")],
                old: json!(4),
                new: json!(5)
            }]
        );
        assert_eq!(pattern(&d[0].path), "*.correct");
    }

    #[test]
    fn rules_ignore_unordered_and_tolerance() {
        let rules = Rules {
            ignore: vec!["*.at".into()],
            unordered: vec!["".into()],
            float_tolerance: 0.01,
        };
        let old = json!([{"x": 1.0, "at": "1"}, {"x": 2.0, "at": "2"}]);
        let new = json!([{"x": 2.001, "at": "9"}, {"x": 1, "at": "8"}]);
        assert!(diff(&old, &new, &rules).is_empty());
        let new = json!([{"x": 2.5, "at": "9"}, {"x": 1, "at": "8"}]);
        assert_eq!(diff(&old, &new, &rules).len(), 1);
        // Lengths differ: one difference at the list.
        assert_eq!(
            diff(&json!([1]), &json!([1, 2]), &Rules::default())[0].path,
            vec![json!(1)]
        );
    }

    #[test]
    fn patterns_match_below_too() {
        assert!(matches("a.*", &[json!("a"), json!(3)]));
        assert!(matches("a", &[json!("a"), json!("b")]));
        assert!(!matches("a.b", &[json!("a")]));
        assert!(matches("", &[]));
        assert!(!matches("", &[json!("a")]));
    }

    #[test]
    fn occurrences_pair_each_entity() {
        let schema = Schema::parse_and_validate(
            "type Query { users: [User] } type User { id: ID name: String progress: [Int] }",
            "s.graphql",
        )
        .unwrap();
        let doc = ExecutableDocument::parse_and_validate(
            &schema,
            "query Q { users { p: progress } }",
            "q.graphql",
        )
        .unwrap();
        let old = json!({"users": [{"p": [1]}, {"p": [2]}]});
        let new = json!({"users": [{"p": [1]}, {"p": [3]}]});
        let found = occurrences(&schema, &doc, None, &old, &new, &|t, f| {
            (t == "User" && f == "progress").then_some(7)
        });
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].path, vec![json!("users"), json!(1), json!("p")]);
        assert_eq!(found[1].field, 7);
        assert_eq!(found[1].new, Some(&json!([3])));
    }
}
