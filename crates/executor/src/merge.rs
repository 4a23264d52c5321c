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

/// One step of a walk a level at a time (see [`visit_objects`]): what the
/// value `$v` at position `$i` of `$path` leads to is pushed to `$next`, and
/// the CPU is asked to load it. Evaluates to whether the walk moved on.
/// `$get` and `$iter` are `get` and `iter` for reading, `get_mut` and
/// `iter_mut` for writing.
macro_rules! step_down {
    ($path:expr, $v:expr, $i:expr, $next:expr, $get:ident, $iter:ident) => {
        match ($path.get($i), $v) {
            (None, v @ Val::Obj(_)) => {
                $next.push((v, $i));
                false
            }
            (Some(PathElement::Key(k)), Val::Obj(o)) => match o.$get(k.as_str()) {
                Some(child) => {
                    prefetch(child);
                    $next.push((child, $i + 1));
                    true
                }
                None => false,
            },
            // A list: `@` steps into its items; any other step (a list
            // where an object was expected, e.g. a list field whose path
            // ended early) applies to each item.
            (step, Val::List(items)) => {
                let j = if matches!(step, Some(PathElement::List)) {
                    $i + 1
                } else {
                    $i
                };
                for item in items.$iter() {
                    prefetch(item);
                    $next.push((item, j));
                }
                true
            }
            _ => false,
        }
    };
}

/// Calls `f` with every object found at `path` (with `@` expanding lists),
/// in document order. [`visit_paths`] and [`objects_mut`] visit the same
/// objects in the same order.
///
/// The walk goes down the path one step at a time for all values found so
/// far (keeping their order), and asks the CPU to load each value of the
/// next step as soon as it is found. A depth-first walk waits for each
/// object's fields in turn; this one has many loads in flight at once.
pub fn visit_objects<'v, 'a>(
    value: &'v Val<'a>,
    path: &[PathElement],
    f: &mut impl FnMut(&'v Obj<'a>),
) {
    let mut now: Vec<(&'v Val<'a>, usize)> = vec![(value, 0)];
    let mut next = Vec::new();
    loop {
        let mut moved = false;
        for &(v, i) in &now {
            moved |= step_down!(path, v, i, next, get, iter);
        }
        std::mem::swap(&mut now, &mut next);
        next.clear();
        if !moved {
            break;
        }
    }
    for (v, _) in now {
        if let Val::Obj(o) = v {
            f(o);
        }
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
/// visits them (and found the same way, a step at a time).
pub fn objects_mut<'v, 'a>(
    value: &'v mut Val<'a>,
    path: &[PathElement],
    out: &mut Vec<&'v mut Obj<'a>>,
) {
    let mut now: Vec<(&'v mut Val<'a>, usize)> = vec![(value, 0)];
    let mut next = Vec::new();
    loop {
        let mut moved = false;
        for (v, i) in now.drain(..) {
            moved |= step_down!(path, v, i, next, get_mut, iter_mut);
        }
        std::mem::swap(&mut now, &mut next);
        if !moved {
            break;
        }
    }
    out.extend(now.into_iter().filter_map(|(v, _)| match v {
        Val::Obj(o) => Some(o),
        _ => None,
    }));
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

/// `a` is `b` or an abstract type `b` belongs to: the executor's
/// `is_subtype`.
pub type IsSubtype<'f> = &'f (dyn Fn(&str, &str) -> bool + Sync);

/// Whether merging `new` over `old` as a `__typename` would replace an
/// object's runtime type by an abstract type it belongs to (the interface
/// name an `@interfaceObject` subgraph answers with). The runtime type
/// stays, whichever fetch answered first (issue 17's differential tester
/// found two fetches of one object racing).
fn keeps_runtime_type(old: &Val<'_>, new: &Val<'_>, is_subtype: IsSubtype<'_>) -> bool {
    match (old, new) {
        (Val::Str(old), Val::Str(new)) => old != new && is_subtype(new, old),
        _ => false,
    }
}

/// Deep-merges the fields of `src` into the object `target`.
pub fn merge_object<'a, 'b: 'a>(
    alloc: &mut Alloc<'b>,
    target: &mut Obj<'a>,
    src: Obj<'a>,
    is_subtype: IsSubtype<'_>,
) {
    target.reserve(alloc, src.len());
    for (k, v) in src {
        match target.get_mut(k) {
            Some(existing) if k == "__typename" && keeps_runtime_type(existing, &v, is_subtype) => {
            }
            Some(existing) => deep_merge(alloc, existing, v, is_subtype),
            None => target.push(alloc, k, v),
        }
    }
}

/// Deep-merges copies of the fields of `src` into the object `target`.
pub fn merge_object_ref<'a, 'b: 'a>(
    alloc: &mut Alloc<'b>,
    target: &mut Obj<'a>,
    src: &Obj<'a>,
    is_subtype: IsSubtype<'_>,
) {
    target.reserve(alloc, src.len());
    for (k, v) in src.iter() {
        let copy = v.clone_in(alloc);
        match target.get_mut(k) {
            Some(existing)
                if k == "__typename" && keeps_runtime_type(existing, &copy, is_subtype) => {}
            Some(existing) => deep_merge(alloc, existing, copy, is_subtype),
            None => target.push(alloc, k, copy),
        }
    }
}

/// Deep-merges `src` into `target`. Objects merge key by key, lists
/// element by element; a `null` never replaces a value, nor an abstract
/// `__typename` a runtime type.
pub fn deep_merge<'a, 'b: 'a>(
    alloc: &mut Alloc<'b>,
    target: &mut Val<'a>,
    src: Val<'a>,
    is_subtype: IsSubtype<'_>,
) {
    match (target, src) {
        (Val::Obj(t), Val::Obj(s)) => merge_object(alloc, t, s, is_subtype),
        (Val::List(t), Val::List(s)) if t.len() == s.len() => {
            for (a, b) in t.iter_mut().zip(s) {
                deep_merge(alloc, a, b, is_subtype);
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
                        Some(existing) => deep_merge(alloc, existing, v, &|_, _| false),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Buffers;
    use apollo_compiler::Name;

    #[test]
    fn the_three_walks_visit_the_same_objects_in_document_order() {
        let buffers = Buffers::new();
        // Nested lists where the path expects objects, nulls, scalars and
        // missing keys on the way.
        let text = br#"{"a":[
            [{"b":{"n":1}},{"b":null},{"x":0}],
            {"b":{"n":2}},
            [[{"b":[{"n":3},{"n":4}]}],7],
            null,
            {"b":{"n":5}}
        ]}"#;
        let mut data = Val::parse(text, &mut buffers.alloc()).unwrap();
        let path = [
            PathElement::Key(Name::new("a").unwrap()),
            PathElement::List,
            PathElement::Key(Name::new("b").unwrap()),
        ];
        let n = |o: &Obj<'_>| o.get("n").map(Val::to_json);
        let mut seen = vec![];
        visit_objects(&data, &path, &mut |o| seen.push(n(o)));
        let mut with_paths = vec![];
        visit_paths(&data, &path, &mut vec![], &mut |o, at| {
            with_paths.push((n(o), at.iter().map(Seg::to_json).collect::<Vec<_>>()))
        });
        let mut objects = vec![];
        objects_mut(&mut data, &path, &mut objects);
        let written: Vec<_> = objects.iter().map(|o| n(o)).collect();
        let expected: Vec<_> = (1..=5).map(|i| Some(i.into())).collect();
        assert_eq!(seen, expected);
        assert_eq!(written, expected);
        assert_eq!(
            with_paths
                .iter()
                .map(|(v, _)| v.clone())
                .collect::<Vec<_>>(),
            expected
        );
        assert_eq!(
            serde_json::to_value(&with_paths[2].1).unwrap(),
            serde_json::json!(["a", 2, 0, 0, "b", 0])
        );
    }
}
