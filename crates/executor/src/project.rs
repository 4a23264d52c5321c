//! Writes the client's response from the merged subgraph data.
//!
//! The merged data holds everything the subgraphs returned, including key
//! and `@requires` fields the client never asked for. Projection walks the
//! client operation (with `@skip`/`@include` applied and fragments matched
//! on each object's runtime type) and writes exactly the selected fields,
//! in order, straight to JSON bytes, completing values as the GraphQL spec
//! says: a missing or null value for a non-null field nulls its parent, up
//! to the nearest nullable position, and is reported as an error. Nulling a
//! parent truncates what was written for it, so the common, error-free case
//! builds no intermediate tree.

use apollo_compiler::executable::{ExecutableDocument, Field, Selection, SelectionSet};
use apollo_compiler::schema::{ExtendedType, Type};
use apollo_compiler::validation::Valid;
use apollo_compiler::Schema;
use rustc_hash::FxHashMap;
use std::rc::Rc;

use serde_json::{json, Map, Value};

use crate::value::{prefetch, write_str, Obj, Val, NULL};

/// The inputs a projection needs.
pub struct Projection<'a, 'e> {
    /// The API schema.
    pub schema: &'a Valid<Schema>,
    /// The client's document.
    pub doc: &'a ExecutableDocument,
    /// Coerced variable values.
    pub variables: &'a Map<String, Value>,
    /// Errors so far; non-null violations are added here.
    pub errors: &'e mut Vec<Value>,
    /// Fields of `doc` (by the address of their node) the request may not
    /// see: each is answered `null` with an `UNAUTHORIZED_FIELD_OR_TYPE`
    /// error at its path, nulling its parent when it is non-null.
    pub denied: Option<&'a std::collections::HashSet<usize>>,
}

/// Field groupings already computed in this projection, by where the
/// selection sets come from (the address of the parent's [`Slot`], or of the
/// root selection set; both live as long as the walk) and the runtime type
/// (the address of its name: the same slot always names a type through the
/// same string, so hashing two numbers is enough).
type GroupCache<'a> = FxHashMap<(usize, usize), Grouped<'a>>;

/// Marker: this position became null and its parent must absorb it.
struct Null;

/// One field of an object's projection: response key, the field
/// selections merged under it, and the field's type on the object's type.
struct Slot<'a> {
    key: &'a str,
    /// What is written before the value: `"key":`, after a comma unless
    /// this is the first slot.
    prefix: Box<[u8]>,
    fields: Vec<&'a Field>,
    ty: &'a Type,
    /// The definition of the field's named type (looked up once).
    kind: Option<&'a ExtendedType>,
    /// Whether the field is `__typename`.
    is_typename: bool,
    /// Whether the request may not see the field.
    denied: bool,
}

/// The fields to write for one (selection sets, runtime type) pair; the
/// same for every object of that type at that position, so computed once.
type Grouped<'a> = Rc<Vec<Slot<'a>>>;

/// One step of the response path, borrowed: turned into JSON only when an
/// error needs it.
#[derive(Clone, Copy)]
enum PathSeg<'a> {
    Key(&'a str),
    Index(usize),
}

fn path_json(path: &[PathSeg<'_>]) -> Vec<Value> {
    path.iter()
        .map(|p| match p {
            PathSeg::Key(k) => Value::String((*k).to_owned()),
            PathSeg::Index(i) => Value::from(*i),
        })
        .collect()
}

impl<'a> Projection<'a, '_> {
    /// Appends to `out` the `data` value for the root selection set of
    /// type `root_type` over `data`. Root fields in `verbatim` (response key
    /// → JSON text) are copied as they are: introspection answers.
    pub fn write_root(
        &mut self,
        root_type: &str,
        selection_set: &'a SelectionSet,
        data: &Val<'_>,
        verbatim: &[(String, Vec<u8>)],
        out: &mut Vec<u8>,
    ) {
        let empty = Obj::new();
        let obj = data.as_obj().unwrap_or(&empty);
        let mut w = Walk {
            path: Vec::with_capacity(16),
            cache: FxHashMap::default(),
            verbatim,
        };
        let start = out.len();
        let root = match self.schema.types.get_key_value(root_type) {
            Some((name, _)) => name.as_str(),
            None => return out.extend_from_slice(b"null"),
        };
        if self
            .object(
                root,
                &[selection_set],
                set_id(selection_set),
                obj,
                &mut w,
                true,
                out,
            )
            .is_err()
        {
            out.truncate(start);
            out.extend_from_slice(b"null");
        }
    }

    /// Projects into a `Value` (tests and callers that want a tree).
    pub fn project_root(
        &mut self,
        root_type: &str,
        selection_set: &'a SelectionSet,
        data: &Val<'_>,
    ) -> Value {
        let mut bytes = vec![];
        self.write_root(root_type, selection_set, data, &[], &mut bytes);
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    }

    /// The fields to write for objects of `type_name` under `sets` (cached).
    fn grouped(
        &self,
        type_name: &'a str,
        sets: &[&'a SelectionSet],
        id: usize,
        w: &mut Walk<'a, '_>,
    ) -> Grouped<'a> {
        let key = (id, type_name.as_ptr() as usize);
        if let Some(g) = w.cache.get(&key) {
            return g.clone();
        }
        let mut fields: Vec<(&'a str, Vec<&'a Field>)> = Vec::new();
        for set in sets {
            self.collect(type_name, set, &mut fields);
        }
        let slots: Vec<Slot<'a>> = fields
            .into_iter()
            .enumerate()
            .map(|(i, (key, fields))| {
                // The field's type on the runtime object type: it may be more
                // precise than on the interface the client selected it through.
                let ty = match self.schema.type_field(type_name, &fields[0].name) {
                    Ok(def) => &def.ty,
                    Err(_) => &fields[0].definition.ty,
                };
                let kind = self.schema.types.get(ty.inner_named_type());
                let is_typename = fields[0].name == "__typename";
                let denied = self.denied.is_some_and(|d| {
                    fields
                        .iter()
                        .any(|f| d.contains(&(*f as *const Field as usize)))
                });
                // Response keys are GraphQL names (letters, digits, `_`),
                // which never need escaping.
                let prefix = format!("{}\"{key}\":", if i > 0 { "," } else { "" });
                Slot {
                    key,
                    prefix: prefix.into_bytes().into(),
                    fields,
                    ty,
                    kind,
                    is_typename,
                    denied,
                }
            })
            .collect();
        let g = Rc::new(slots);
        w.cache.insert(key, g.clone());
        g
    }

    #[allow(clippy::too_many_arguments)]
    fn object(
        &mut self,
        type_name: &'a str,
        sets: &[&'a SelectionSet],
        id: usize,
        obj: &Obj<'_>,
        w: &mut Walk<'a, '_>,
        root: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), Null> {
        let slots = self.grouped(type_name, sets, id, w);
        out.push(b'{');
        for slot in slots.iter() {
            out.extend_from_slice(&slot.prefix);
            let field = slot.fields[0];
            if slot.is_typename {
                write_str(out, type_name);
                continue;
            }
            if root {
                if let Some((_, v)) = w.verbatim.iter().find(|(k, _)| k == slot.key) {
                    out.extend_from_slice(v);
                    continue;
                }
            }
            if slot.denied {
                w.path.push(PathSeg::Key(slot.key));
                self.errors.push(json!({
                    "message": format!("Unauthorized field or type: {type_name}.{}", field.name),
                    "path": path_json(&w.path),
                    "extensions": {"code": "UNAUTHORIZED_FIELD_OR_TYPE"},
                }));
                w.path.pop();
                if slot.ty.is_non_null() {
                    return Err(Null);
                }
                out.extend_from_slice(b"null");
                continue;
            }
            let value = obj.get(slot.key).unwrap_or(&NULL);
            w.path.push(PathSeg::Key(slot.key));
            let mark = out.len();
            let id = slot as *const Slot as usize;
            let completed = if slot.fields.len() == 1 {
                self.complete(
                    slot.ty,
                    slot.kind,
                    value,
                    &[&field.selection_set],
                    id,
                    w,
                    type_name,
                    &field.name,
                    out,
                )
            } else {
                let sub: Vec<&'a SelectionSet> =
                    slot.fields.iter().map(|f| &f.selection_set).collect();
                self.complete(
                    slot.ty,
                    slot.kind,
                    value,
                    &sub,
                    id,
                    w,
                    type_name,
                    &field.name,
                    out,
                )
            };
            w.path.pop();
            if completed.is_err() {
                if slot.ty.is_non_null() {
                    return Err(Null);
                }
                out.truncate(mark);
                out.extend_from_slice(b"null");
            }
        }
        out.push(b'}');
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn complete(
        &mut self,
        ty: &'a Type,
        kind: Option<&'a ExtendedType>,
        value: &Val<'_>,
        sets: &[&'a SelectionSet],
        id: usize,
        w: &mut Walk<'a, '_>,
        parent: &str,
        field: &str,
        out: &mut Vec<u8>,
    ) -> Result<(), Null> {
        if value.is_null() {
            if ty.is_non_null() {
                self.non_null_error(&w.path, parent, field);
                return Err(Null);
            }
            out.extend_from_slice(b"null");
            return Ok(());
        }
        if ty.is_list() {
            let Val::List(items) = value else {
                self.add_error(
                    &w.path,
                    format!("Invalid value for {parent}.{field}: expected a list"),
                );
                return self.null_for(ty, out);
            };
            let item_ty = ty.item_type();
            let start = out.len();
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if let Some(next) = items.get(i + 1) {
                    prefetch(next);
                }
                w.path.push(PathSeg::Index(i));
                let mark = out.len();
                let r = self.complete(item_ty, kind, item, sets, id, w, parent, field, out);
                w.path.pop();
                if r.is_err() {
                    if item_ty.is_non_null() {
                        out.truncate(start);
                        return self.null_for(ty, out);
                    }
                    out.truncate(mark);
                    out.extend_from_slice(b"null");
                }
            }
            out.push(b']');
            return Ok(());
        }
        let named = ty.inner_named_type();
        match kind {
            Some(ExtendedType::Object(_)) => {
                let Val::Obj(obj) = value else {
                    self.add_error(
                        &w.path,
                        format!("Invalid value for {parent}.{field}: expected an object"),
                    );
                    return self.null_for(ty, out);
                };
                let start = out.len();
                match self.object(named.as_str(), sets, id, obj, w, false, out) {
                    Ok(()) => Ok(()),
                    Err(Null) => {
                        out.truncate(start);
                        self.null_for(ty, out)
                    }
                }
            }
            Some(ExtendedType::Interface(_) | ExtendedType::Union(_)) => {
                let Val::Obj(obj) = value else {
                    self.add_error(
                        &w.path,
                        format!("Invalid value for {parent}.{field}: expected an object"),
                    );
                    return self.null_for(ty, out);
                };
                let runtime: &'a str = match obj.get("__typename").and_then(Val::as_str) {
                    Some(t) => match self.schema.types.get_key_value(t) {
                        Some((name, ExtendedType::Object(_))) => name.as_str(),
                        // An @interfaceObject answered and no subgraph told
                        // the real type: the interface's own fields still apply.
                        _ if t == named.as_str() => named.as_str(),
                        // A type the API schema does not show (@inaccessible).
                        _ => return self.null_for(ty, out),
                    },
                    None => named.as_str(),
                };
                let start = out.len();
                match self.object(runtime, sets, id, obj, w, false, out) {
                    Ok(()) => Ok(()),
                    Err(Null) => {
                        out.truncate(start);
                        self.null_for(ty, out)
                    }
                }
            }
            Some(ExtendedType::Enum(e)) => match value.as_str() {
                Some(s) if e.values.contains_key(s) => {
                    write_str(out, s);
                    Ok(())
                }
                _ => {
                    self.add_error(&w.path, format!("Invalid value for enum {named}"));
                    self.null_for(ty, out)
                }
            },
            _ => {
                value.write(out);
                Ok(())
            }
        }
    }

    /// `null` where the type allows it; otherwise the parent must absorb it.
    fn null_for(&mut self, ty: &Type, out: &mut Vec<u8>) -> Result<(), Null> {
        if ty.is_non_null() {
            Err(Null)
        } else {
            out.extend_from_slice(b"null");
            Ok(())
        }
    }

    fn non_null_error(&mut self, path: &[PathSeg<'_>], parent: &str, field: &str) {
        let path = path_json(path);
        // A subgraph error already explains this null: don't add another.
        let explained = self
            .errors
            .iter()
            .any(|e| match e.get("path").and_then(Value::as_array) {
                Some(p) => p.len() <= path.len() && p.iter().zip(&path).all(|(a, b)| a == b),
                None => true,
            });
        if !explained {
            self.errors.push(json!({
                "message": format!("Cannot return null for non-nullable field {parent}.{field}."),
                "path": path
            }));
        }
    }

    fn add_error(&mut self, path: &[PathSeg<'_>], message: String) {
        self.errors
            .push(json!({"message": message, "path": path_json(path)}));
    }

    fn collect(
        &self,
        type_name: &str,
        set: &'a SelectionSet,
        fields: &mut Vec<(&'a str, Vec<&'a Field>)>,
    ) {
        for sel in &set.selections {
            if !self.included(sel.directives()) {
                continue;
            }
            match sel {
                Selection::Field(f) => {
                    let key = f.response_key().as_str();
                    match fields.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, group)) => group.push(f),
                        None => fields.push((key, vec![f])),
                    }
                }
                Selection::InlineFragment(i) => {
                    if i.type_condition
                        .as_ref()
                        .is_none_or(|t| self.applies(t, type_name))
                    {
                        self.collect(type_name, &i.selection_set, fields);
                    }
                }
                Selection::FragmentSpread(s) => {
                    if let Some(def) = self.doc.fragments.get(&s.fragment_name) {
                        if self.applies(def.type_condition(), type_name) {
                            self.collect(type_name, &def.selection_set, fields);
                        }
                    }
                }
            }
        }
    }

    fn applies(&self, condition: &str, type_name: &str) -> bool {
        condition == type_name || self.schema.is_subtype(condition, type_name)
    }

    fn included(&self, directives: &apollo_compiler::executable::DirectiveList) -> bool {
        included(directives, self.variables)
    }
}

/// The walk's state: where it is, and what it has worked out already.
struct Walk<'a, 'v> {
    path: Vec<PathSeg<'a>>,
    cache: GroupCache<'a>,
    verbatim: &'v [(String, Vec<u8>)],
}

/// Identifies the root selection set in the grouping cache.
fn set_id(set: &SelectionSet) -> usize {
    set as *const SelectionSet as usize
}

/// Whether `@skip`/`@include` in `directives` let a selection through with
/// these `variables` (a missing variable reads as false).
pub fn included(
    directives: &apollo_compiler::executable::DirectiveList,
    variables: &serde_json::Map<String, Value>,
) -> bool {
    for d in directives.iter() {
        let want = match d.name.as_str() {
            "skip" => false,
            "include" => true,
            _ => continue,
        };
        let Some(arg) = d.specified_argument_by_name("if") else {
            continue;
        };
        let value = match &**arg {
            apollo_compiler::ast::Value::Boolean(b) => *b,
            apollo_compiler::ast::Value::Variable(v) => variables
                .get(v.as_str())
                .and_then(Value::as_bool)
                .unwrap_or(false),
            _ => continue,
        };
        if value != want {
            return false;
        }
    }
    true
}
