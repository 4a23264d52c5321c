//! The dataset: every value is a hash of the seed, the object (its type and
//! instance number), the field and its arguments. Every subgraph and the
//! oracle compute the same value for the same field of the same object, so
//! no data needs to be stored or shared.
//!
//! Key fields spell their object: `id`, `k1` and `upc` are
//! `"{Type}.{field}.{n}"`, `k2` is `n`. A representation names its object
//! by any of them, an entity interface's representation too.

use serde_json::{json, Value};

use crate::model::{Field, Schema, Ty};
use crate::rng::hash;

/// One object of the dataset.
#[derive(Clone, Debug)]
pub struct Inst {
    /// Its object type (for an entity interface's representation: the
    /// implementation the key spells).
    pub ty: String,
    /// Its number among the type's instances.
    pub n: u32,
    /// Fields a `@provides` vouches for on the path that led here.
    pub provided: Vec<String>,
    /// The representation it was entered by (carries `@requires` fields).
    pub rep: Option<serde_json::Map<String, Value>>,
}

impl Inst {
    /// The root object.
    pub fn root() -> Inst {
        Inst::new("Query", 0)
    }

    /// Object `n` of type `ty`.
    pub fn new(ty: &str, n: u32) -> Inst {
        Inst {
            ty: ty.to_owned(),
            n,
            provided: Vec::new(),
            rep: None,
        }
    }
}

/// The value of an argument list as a hash part: `a=3`.
fn args_part(args: &[(String, i64)]) -> String {
    args.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The hash a field's value on `inst` comes from: the seed, the object,
/// the field, its arguments (and `extra`, to tell objects from scalars).
fn field_hash(
    schema: &Schema,
    inst: &Inst,
    field: &Field,
    args: &[(String, i64)],
    extra: Option<&str>,
) -> u64 {
    let n = inst.n.to_string();
    let a = args_part(args);
    let mut parts = vec![
        inst.ty.as_str(),
        n.as_str(),
        field.name.as_str(),
        a.as_str(),
    ];
    parts.extend(extra);
    hash(schema.seed, &parts)
}

/// The key value of `field` on object `n` of `ty`, if `field` is a key field
/// name.
pub fn key_value(ty: &str, field: &str, n: u32) -> Option<Value> {
    match field {
        "id" | "k1" | "upc" => Some(json!(format!("{ty}.{field}.{n}"))),
        "k2" => Some(json!(n)),
        _ => None,
    }
}

/// The object a representation names: (type, n) from its first string key
/// field.
pub fn parse_key(rep: &serde_json::Map<String, Value>) -> Option<(String, u32)> {
    for field in ["id", "k1", "upc"] {
        if let Some(Value::String(s)) = rep.get(field) {
            let (ty, rest) = s.split_once('.')?;
            let n = rest.rsplit('.').next()?.parse().ok()?;
            return Some((ty.to_owned(), n));
        }
    }
    None
}

fn scalar_item(name: &str, field: &str, h: u64) -> Value {
    let v = (h >> 8) % 1000;
    match name {
        "Int" => json!(v),
        "Boolean" => json!(v.is_multiple_of(2)),
        "Float" => json!(v as f64 / 4.0),
        "ID" => json!(format!("id{v}")),
        _ => json!(format!("{field}:{v}")),
    }
}

/// The value of scalar field `field` (no `@requires`) on `inst`.
pub fn scalar(schema: &Schema, inst: &Inst, field: &Field, args: &[(String, i64)]) -> Value {
    if let Some(v) = key_value(&inst.ty, &field.name, inst.n) {
        return v;
    }
    let h = field_hash(schema, inst, field, args, None);
    let ty = &field.ty;
    if !ty.list {
        if !ty.item_non_null && h.is_multiple_of(5) {
            return Value::Null;
        }
        return scalar_item(&ty.name, &field.name, h);
    }
    if !ty.list_non_null && h.is_multiple_of(7) {
        return Value::Null;
    }
    let len = (h >> 4) % 4;
    let items = (0..len)
        .map(|i| {
            let hi = hash(h, &[&i.to_string()]);
            if !ty.item_non_null && hi.is_multiple_of(5) {
                Value::Null
            } else {
                scalar_item(&ty.name, &field.name, hi)
            }
        })
        .collect();
    Value::Array(items)
}

/// The value of a field with `@requires`, from the required field's value.
pub fn required(schema: &Schema, inst: &Inst, field: &Field, required: &Value) -> Value {
    let n = inst.n.to_string();
    let h = hash(schema.seed, &[&inst.ty, &n, &field.name]);
    json!(format!("{}|{}", h % 100, required))
}

/// A wrong value of the same type: what a subgraph answers for a field it
/// should not have been asked for.
pub fn poison(ty: &Ty, real: &Value) -> Value {
    let item = || match ty.name.as_str() {
        "Int" => json!(-1),
        "Float" => json!(-1.5),
        "Boolean" => json!(false),
        _ => json!("POISON"),
    };
    match real {
        Value::Array(items) if items.is_empty() => json!([item()]),
        Value::Array(items) => Value::Array(items.iter().map(|_| item()).collect()),
        Value::Bool(b) => json!(!b),
        _ => item(),
    }
}

/// What an object field holds: nothing, one object, or a list.
#[derive(Debug)]
pub enum Objects {
    /// `null`.
    Null,
    /// One object.
    One(Inst),
    /// A list (items may be `null`).
    List(Vec<Option<Inst>>),
}

/// The objects field `field` holds on `inst`.
pub fn objects(schema: &Schema, inst: &Inst, field: &Field, args: &[(String, i64)]) -> Objects {
    let h = field_hash(schema, inst, field, args, Some("o"));
    let types: Vec<String> = if field.runtime.is_empty() {
        vec![field.ty.name.clone()]
    } else {
        field.runtime.clone()
    };
    let pick = |h: u64| {
        let ty = &types[(h >> 12) as usize % types.len()];
        Inst::new(ty, ((h >> 24) % u64::from(schema.instances)) as u32)
    };
    let ty = &field.ty;
    if !ty.list {
        if !ty.item_non_null && h.is_multiple_of(6) {
            return Objects::Null;
        }
        return Objects::One(pick(h));
    }
    if !ty.list_non_null && h.is_multiple_of(7) {
        return Objects::Null;
    }
    let len = (h >> 4) % 4;
    Objects::List(
        (0..len)
            .map(|i| {
                // No `null` items: async-graphql's dynamic schemas cannot
                // return one in a list of objects.
                let hi = hash(h, &[&i.to_string()]);
                Some(pick(hi))
            })
            .collect(),
    )
}
