//! Reading entity representations out of the response being built, and
//! merging subgraph data back into it.

use goliath_planner::selection::Selection;
use goliath_planner::PathElement;
use serde_json::{Map, Value};

/// One step of a concrete path into the response data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// An object key (a `Name`: cloning it does not allocate).
    Key(apollo_compiler::Name),
    /// A list index.
    Index(usize),
}

impl Seg {
    /// As a GraphQL error path element.
    pub fn to_json(&self) -> Value {
        match self {
            Seg::Key(k) => Value::String(k.to_string()),
            Seg::Index(i) => Value::from(*i),
        }
    }
}

/// Calls `f` with every object found at `path` (with `@` expanding lists),
/// and the concrete path to it.
pub fn visit_objects<'a>(
    value: &'a Value,
    path: &[PathElement],
    concrete: &mut Vec<Seg>,
    f: &mut impl FnMut(&'a Map<String, Value>, &[Seg]),
) {
    match (path.first(), value) {
        (None, Value::Object(o)) => f(o, concrete),
        (None, Value::Array(items)) => {
            // A list where an object was expected (e.g. a list field whose
            // path ended early): visit its objects.
            for (i, item) in items.iter().enumerate() {
                concrete.push(Seg::Index(i));
                visit_objects(item, path, concrete, f);
                concrete.pop();
            }
        }
        (Some(PathElement::Key(k)), Value::Object(o)) => {
            if let Some(child) = o.get(k.as_str()) {
                concrete.push(Seg::Key(k.clone()));
                visit_objects(child, &path[1..], concrete, f);
                concrete.pop();
            }
        }
        (Some(PathElement::List), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                concrete.push(Seg::Index(i));
                visit_objects(item, &path[1..], concrete, f);
                concrete.pop();
            }
        }
        (Some(PathElement::Key(_)), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                concrete.push(Seg::Index(i));
                visit_objects(item, path, concrete, f);
                concrete.pop();
            }
        }
        _ => {}
    }
}

/// Calls `f` with every object at `path`, for writing, in the order
/// [`visit_objects`] visits them.
pub fn visit_objects_mut(
    value: &mut Value,
    path: &[PathElement],
    f: &mut impl FnMut(&mut Map<String, Value>),
) {
    match (path.first(), value) {
        (None, Value::Object(o)) => f(o),
        (None, Value::Array(items)) => {
            for item in items {
                visit_objects_mut(item, path, f);
            }
        }
        (Some(PathElement::Key(k)), Value::Object(o)) => {
            if let Some(child) = o.get_mut(k.as_str()) {
                visit_objects_mut(child, &path[1..], f);
            }
        }
        (Some(PathElement::List), Value::Array(items)) => {
            for item in items {
                visit_objects_mut(item, &path[1..], f);
            }
        }
        (Some(PathElement::Key(_)), Value::Array(items)) => {
            for item in items {
                visit_objects_mut(item, path, f);
            }
        }
        _ => {}
    }
}

/// The value at a concrete path, for writing.
pub fn value_at_mut<'a>(mut value: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    for seg in path {
        value = match (seg, value) {
            (Seg::Key(k), Value::Object(o)) => o.get_mut(k.as_str())?,
            (Seg::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(value)
}

/// Builds the representation of `object` for an entity fetch whose
/// representation shape is `requires` (`... on T { ... }` fragments).
/// `None` when the object's type is not fetched or a key field is missing.
pub fn representation(
    object: &Map<String, Value>,
    requires: &[Selection],
    rewrites: &[(apollo_compiler::Name, apollo_compiler::Name)],
    is_subtype: &impl Fn(&str, &str) -> bool,
) -> Option<Value> {
    let typename = object.get("__typename")?.as_str()?;
    let mut out = Map::new();
    let mut matched = false;
    for sel in requires {
        if let Selection::Fragment(fr) = sel {
            let applies = match &fr.type_condition {
                Some(t) => t == typename || is_subtype(t, typename),
                None => true,
            };
            if applies {
                matched = true;
                select_into(object, &fr.selections, &mut out, is_subtype)?;
            }
        }
    }
    if !matched {
        return None;
    }
    if let Some((_, to)) = rewrites
        .iter()
        .find(|(from, _)| from == typename || is_subtype(from, typename))
    {
        out.insert("__typename".into(), Value::String(to.to_string()));
    }
    Some(Value::Object(out))
}

fn select_into(
    object: &Map<String, Value>,
    set: &[Selection],
    out: &mut Map<String, Value>,
    is_subtype: &impl Fn(&str, &str) -> bool,
) -> Option<()> {
    for sel in set {
        match sel {
            Selection::Field(f) => {
                // Read by response key (required fields with arguments are
                // aliased), write by field name, as subgraphs expect.
                let v = object.get(f.response_key().as_str())?;
                let selected = if f.selections.is_empty() {
                    v.clone()
                } else {
                    select_value(v, &f.selections, is_subtype)?
                };
                out.insert(f.name.to_string(), selected);
            }
            Selection::Fragment(fr) => {
                let applies = match (
                    &fr.type_condition,
                    object.get("__typename").and_then(Value::as_str),
                ) {
                    (None, _) => true,
                    (Some(t), Some(actual)) => t == actual || is_subtype(t, actual),
                    (Some(_), None) => true,
                };
                if applies {
                    select_into(object, &fr.selections, out, is_subtype)?;
                }
            }
        }
    }
    Some(())
}

fn select_value(
    v: &Value,
    set: &[Selection],
    is_subtype: &impl Fn(&str, &str) -> bool,
) -> Option<Value> {
    match v {
        Value::Null => Some(Value::Null),
        Value::Array(items) => items
            .iter()
            .map(|i| select_value(i, set, is_subtype))
            .collect::<Option<Vec<_>>>()
            .map(Value::Array),
        Value::Object(o) => {
            let mut out = Map::new();
            select_into(o, set, &mut out, is_subtype)?;
            Some(Value::Object(out))
        }
        other => Some(other.clone()),
    }
}

/// Deep-merges the fields of `src` into the object `target`.
pub fn merge_object(target: &mut Map<String, Value>, src: Map<String, Value>) {
    for (k, v) in src {
        match target.get_mut(&k) {
            Some(existing) => deep_merge(existing, v),
            None => {
                target.insert(k, v);
            }
        }
    }
}

/// Deep-merges `src` into `target`. Objects merge key by key, lists
/// element by element; a `null` never replaces a value.
pub fn deep_merge(target: &mut Value, src: Value) {
    match (target, src) {
        (Value::Object(t), Value::Object(s)) => {
            for (k, v) in s {
                match t.get_mut(&k) {
                    Some(existing) => deep_merge(existing, v),
                    None => {
                        t.insert(k, v);
                    }
                }
            }
        }
        (Value::Array(t), Value::Array(s)) if t.len() == s.len() => {
            for (a, b) in t.iter_mut().zip(s) {
                deep_merge(a, b);
            }
        }
        (_, Value::Null) => {}
        (t, s) => *t = s,
    }
}

/// Restores response keys the planner aliased (`_goliath_alias_N_key` → `key`).
pub fn unalias(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let aliased: Vec<String> = map
                .keys()
                .filter(|k| k.starts_with(goliath_planner::build::ALIAS_PREFIX))
                .cloned()
                .collect();
            for k in aliased {
                if let Some(v) = map.remove(&k) {
                    let rest = &k[goliath_planner::build::ALIAS_PREFIX.len()..];
                    let original = rest.split_once('_').map(|(_, key)| key).unwrap_or(rest);
                    match map.get_mut(original) {
                        Some(existing) => deep_merge(existing, v),
                        None => {
                            map.insert(original.to_owned(), v);
                        }
                    }
                }
            }
            for v in map.values_mut() {
                unalias(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(unalias),
        _ => {}
    }
}
