//! Reading entity representations out of the response being built, and
//! merging subgraph data back into it.

use goliath_planner::selection::Selection;
use goliath_planner::PathElement;
use serde_json::Value;

use crate::value::{prefetch, AVec, Alloc, Obj, Val};

/// One step of a concrete path into the response data. Keys borrow from
/// the plan's paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg<'p> {
    /// An object key.
    Key(&'p str),
    /// A list index.
    Index(usize),
}

impl Seg<'_> {
    /// As a GraphQL error path element.
    pub fn to_json(&self) -> Value {
        match self {
            Seg::Key(k) => Value::String((*k).to_owned()),
            Seg::Index(i) => Value::from(*i),
        }
    }
}

/// Calls `f` with every object found at `path` (with `@` expanding lists),
/// in document order. [`visit_paths`] and [`objects_mut`] visit the same
/// objects in the same order.
pub fn visit_objects<'v, 'a>(
    value: &'v Val<'a>,
    path: &[PathElement],
    f: &mut impl FnMut(&'v Obj<'a>),
) {
    match (path.first(), value) {
        (None, Val::Obj(o)) => f(o),
        (Some(PathElement::Key(k)), Val::Obj(o)) => {
            if let Some(child) = o.get(k.as_str()) {
                visit_objects(child, &path[1..], f);
            }
        }
        // A list: `@` steps into its items; any other step (a list where
        // an object was expected, e.g. a list field whose path ended
        // early) applies to each item.
        (step, Val::List(items)) => {
            let rest = match step {
                Some(PathElement::List) => &path[1..],
                _ => path,
            };
            for (i, item) in items.iter().enumerate() {
                if let Some(next) = items.get(i + 1) {
                    prefetch(next);
                }
                visit_objects(item, rest, f);
            }
        }
        _ => {}
    }
}

/// Like [`visit_objects`], and passes each object's concrete path too (for
/// error paths: slower, as it keeps the path as it goes).
pub fn visit_paths<'v, 'a, 'p>(
    value: &'v Val<'a>,
    path: &'p [PathElement],
    at: &mut Vec<Seg<'p>>,
    f: &mut impl FnMut(&'v Obj<'a>, &[Seg<'p>]),
) {
    match (path.first(), value) {
        (None, Val::Obj(o)) => f(o, at),
        (Some(PathElement::Key(k)), Val::Obj(o)) => {
            if let Some(child) = o.get(k.as_str()) {
                at.push(Seg::Key(k.as_str()));
                visit_paths(child, &path[1..], at, f);
                at.pop();
            }
        }
        (step, Val::List(items)) => {
            let rest = match step {
                Some(PathElement::List) => &path[1..],
                _ => path,
            };
            for (i, item) in items.iter().enumerate() {
                at.push(Seg::Index(i));
                visit_paths(item, rest, at, f);
                at.pop();
            }
        }
        _ => {}
    }
}

/// Every object at `path`, for writing, in the order [`visit_objects`]
/// visits them.
pub fn objects_mut<'v, 'a>(
    value: &'v mut Val<'a>,
    path: &[PathElement],
    out: &mut Vec<&'v mut Obj<'a>>,
) {
    match (path.first(), value) {
        (None, Val::Obj(o)) => out.push(o),
        (None, Val::List(items)) | (Some(PathElement::Key(_)), Val::List(items)) => {
            for_each_prefetched(items, |item| objects_mut(item, path, out));
        }
        (Some(PathElement::Key(k)), Val::Obj(o)) => {
            if let Some(child) = o.get_mut(k.as_str()) {
                objects_mut(child, &path[1..], out);
            }
        }
        (Some(PathElement::List), Val::List(items)) => {
            for_each_prefetched(items, |item| objects_mut(item, &path[1..], out));
        }
        _ => {}
    }
}

/// Calls `f` with each item, prefetching the next one's fields first.
fn for_each_prefetched<'v, 'a>(items: &'v mut [Val<'a>], mut f: impl FnMut(&'v mut Val<'a>)) {
    let mut rest = items;
    while let Some((item, tail)) = rest.split_first_mut() {
        if let Some(next) = tail.first() {
            prefetch(next);
        }
        f(item);
        rest = tail;
    }
}

/// Builds into `out` (cleared first, so one object serves many) the
/// representation of `object` for an entity fetch whose representation
/// shape is `requires` (`... on T { ... }` fragments). `false` when the
/// object's type is not fetched or a key field is missing.
pub fn representation_into<'r, 'b: 'r>(
    object: &'r Obj<'_>,
    requires: &'r [Selection],
    rewrites: &'r [(apollo_compiler::Name, apollo_compiler::Name)],
    is_subtype: &impl Fn(&str, &str) -> bool,
    alloc: &mut Alloc<'b>,
    out: &mut Obj<'r>,
) -> bool {
    out.clear();
    let Some(typename) = object.get("__typename").and_then(Val::as_str) else {
        return false;
    };
    let mut matched = false;
    for sel in requires {
        if let Selection::Fragment(fr) = sel {
            let applies = match &fr.type_condition {
                Some(t) => t == typename || is_subtype(t, typename),
                None => true,
            };
            if applies {
                matched = true;
                if select_into(object, &fr.selections, out, alloc, is_subtype).is_none() {
                    return false;
                }
            }
        }
    }
    if !matched {
        return false;
    }
    if let Some((_, to)) = rewrites
        .iter()
        .find(|(from, _)| from == typename || is_subtype(from, typename))
    {
        out.insert(alloc, "__typename", Val::Str(to.as_str()));
    }
    true
}

fn select_into<'r, 'b: 'r>(
    object: &'r Obj<'_>,
    set: &'r [Selection],
    out: &mut Obj<'r>,
    alloc: &mut Alloc<'b>,
    is_subtype: &impl Fn(&str, &str) -> bool,
) -> Option<()> {
    for sel in set {
        match sel {
            Selection::Field(f) => {
                // Read by response key (required fields with arguments are
                // aliased), write by field name, as subgraphs expect.
                let v = object.get(f.response_key().as_str())?;
                let selected = if f.selections.is_empty() {
                    v.clone_in(alloc)
                } else {
                    select_value(v, &f.selections, alloc, is_subtype)?
                };
                out.insert(alloc, f.name.as_str(), selected);
            }
            Selection::Fragment(fr) => {
                let applies = match (
                    &fr.type_condition,
                    object.get("__typename").and_then(Val::as_str),
                ) {
                    (None, _) => true,
                    (Some(t), Some(actual)) => t == actual || is_subtype(t, actual),
                    (Some(_), None) => true,
                };
                if applies {
                    select_into(object, &fr.selections, out, alloc, is_subtype)?;
                }
            }
        }
    }
    Some(())
}

fn select_value<'r, 'b: 'r>(
    v: &'r Val<'_>,
    set: &'r [Selection],
    alloc: &mut Alloc<'b>,
    is_subtype: &impl Fn(&str, &str) -> bool,
) -> Option<Val<'r>> {
    match v {
        Val::List(items) => {
            let mut out = AVec::with_capacity(alloc, items.len());
            for item in items.iter() {
                let selected = select_value(item, set, alloc, is_subtype)?;
                out.push(alloc, selected);
            }
            Some(Val::List(out))
        }
        Val::Obj(o) => {
            let mut out = Obj::new();
            select_into(o, set, &mut out, alloc, is_subtype)?;
            Some(Val::Obj(out))
        }
        other => Some(other.clone_in(alloc)),
    }
}

/// Deep-merges the fields of `src` into the object `target`.
pub fn merge_object<'a, 'b: 'a>(alloc: &mut Alloc<'b>, target: &mut Obj<'a>, src: Obj<'a>) {
    target.reserve(alloc, src.len());
    for (k, v) in src {
        match target.get_mut(k) {
            Some(existing) => deep_merge(alloc, existing, v),
            None => target.push(alloc, k, v),
        }
    }
}

/// Deep-merges copies of the fields of `src` into the object `target`.
pub fn merge_object_ref<'a, 'b: 'a>(alloc: &mut Alloc<'b>, target: &mut Obj<'a>, src: &Obj<'a>) {
    target.reserve(alloc, src.len());
    for (k, v) in src.iter() {
        let copy = v.clone_in(alloc);
        match target.get_mut(k) {
            Some(existing) => deep_merge(alloc, existing, copy),
            None => target.push(alloc, k, copy),
        }
    }
}

/// Deep-merges `src` into `target`. Objects merge key by key, lists
/// element by element; a `null` never replaces a value.
pub fn deep_merge<'a, 'b: 'a>(alloc: &mut Alloc<'b>, target: &mut Val<'a>, src: Val<'a>) {
    match (target, src) {
        (Val::Obj(t), Val::Obj(s)) => merge_object(alloc, t, s),
        (Val::List(t), Val::List(s)) if t.len() == s.len() => {
            for (a, b) in t.iter_mut().zip(s) {
                deep_merge(alloc, a, b);
            }
        }
        (_, Val::Null) => {}
        (t, s) => *t = s,
    }
}

/// Restores response keys the planner aliased (`_goliath_alias_N_key` → `key`).
pub fn unalias<'a, 'b: 'a>(alloc: &mut Alloc<'b>, value: &mut Val<'a>) {
    use goliath_planner::build::ALIAS_PREFIX;
    match value {
        Val::Obj(obj) => {
            if obj.iter().any(|(k, _)| k.starts_with(ALIAS_PREFIX)) {
                let (aliased, plain): (Vec<_>, Vec<_>) = obj
                    .take_fields()
                    .partition(|(k, _)| k.starts_with(ALIAS_PREFIX));
                for (k, v) in plain {
                    obj.push(alloc, k, v);
                }
                for (k, v) in aliased {
                    let original = original_key(k);
                    match obj.get_mut(original) {
                        Some(existing) => deep_merge(alloc, existing, v),
                        None => obj.push(alloc, original, v),
                    }
                }
            }
            for v in obj.values_mut() {
                unalias(alloc, v);
            }
        }
        Val::List(items) => {
            for item in items.iter_mut() {
                unalias(alloc, item);
            }
        }
        _ => {}
    }
}

/// `_goliath_alias_N_key` → `key`.
fn original_key(aliased: &str) -> &str {
    let rest = &aliased[goliath_planner::build::ALIAS_PREFIX.len()..];
    rest.split_once('_').map(|(_, key)| key).unwrap_or(rest)
}
