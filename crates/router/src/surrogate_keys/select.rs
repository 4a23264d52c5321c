//! What the walk reads the client operation and the data by: the fields
//! grouped under a response key, `@skip`/`@include`, and where a key
//! field's value is in the merged data.

use apollo_compiler::executable::{DirectiveList, SelectionSet};
use apollo_compiler::schema::ExtendedType;
use goliath_executor::value::{Obj, Val};
use goliath_planner::build::KEY_ALIAS_PREFIX;
use serde_json::{Map, Value};

/// The fields under one response key for one runtime type.
pub(super) struct Group<'a> {
    /// The response key (alias or field name).
    pub(super) key: &'a str,
    /// The field's name.
    pub(super) name: &'a str,
    /// The sub-selections of every field merged under `key`.
    pub(super) sets: Vec<&'a SelectionSet>,
    /// The field's named type on the runtime type, and what kind it is.
    pub(super) ty: &'a str,
    pub(super) kind: Option<&'a ExtendedType>,
}

/// `@skip`/`@include` with the request's variables (a missing variable
/// reads as false), as projection decides.
pub(super) fn included(directives: &DirectiveList, variables: &Map<String, Value>) -> bool {
    goliath_executor::project::included(directives, variables)
}

/// A key field `name`'s value in `obj`, and the client's group for it if
/// the client selected it. The planner's `_goliath_key_<name>` wins; a
/// client field answering under `name` counts only if it is that field;
/// else the field under its name, or the client's alias for it.
pub(super) fn lookup<'g, 'a, 'o, 'v>(
    obj: &'o Obj<'v>,
    name: &str,
    groups: &'g [Group<'a>],
) -> Option<(&'o Val<'v>, Option<&'g Group<'a>>)> {
    let selected = groups.iter().find(|g| g.name == name);
    let planner = obj
        .iter()
        .find(|(k, _)| k.strip_prefix(KEY_ALIAS_PREFIX) == Some(name));
    if let Some((_, v)) = planner {
        return Some((v, selected));
    }
    match groups.iter().find(|g| g.key == name) {
        // Another field answers under `name`: only an alias of ours can help.
        Some(g) if g.name != name => selected.and_then(|s| obj.get(s.key)).map(|v| (v, selected)),
        _ => match obj.get(name) {
            Some(v) => Some((v, selected)),
            None => selected.and_then(|s| obj.get(s.key)).map(|v| (v, selected)),
        },
    }
}
