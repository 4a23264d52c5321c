//! Random operations over the unsplit schema: fields with and without
//! arguments (literals and variables), aliases, inline fragments on
//! implementations and members, fragments without a type condition, named
//! fragments, `@skip` / `@include` (literal and variable), `__typename`.
//!
//! A field given arguments always gets an alias of its own, so two
//! selections under one response key never differ (the operation stays
//! valid however its selections merge).

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::{json, Value};

use crate::model::{Kind, Schema};
use crate::rng::Rng;

/// A generated operation.
#[derive(Clone, Debug, Default)]
pub struct Operation {
    /// The root selections.
    pub selections: Vec<Sel>,
    /// Named fragments.
    pub fragments: Vec<Fragment>,
    /// Variable values (`b*`: `Boolean!`, `i*`: `Int!`).
    pub variables: BTreeMap<String, Value>,
}

/// A selection.
#[derive(Clone, Debug)]
pub enum Sel {
    /// A field.
    Field {
        alias: Option<String>,
        name: String,
        args: Vec<(String, ArgValue)>,
        cond: Option<Cond>,
        sub: Vec<Sel>,
    },
    /// An inline fragment.
    Inline {
        on: Option<String>,
        cond: Option<Cond>,
        sub: Vec<Sel>,
    },
    /// A named fragment's spread.
    Spread { name: String, cond: Option<Cond> },
}

impl Sel {
    /// `__typename`.
    fn typename() -> Sel {
        Sel::Field {
            alias: None,
            name: "__typename".into(),
            args: Vec::new(),
            cond: None,
            sub: Vec::new(),
        }
    }
}

/// A named fragment.
#[derive(Clone, Debug)]
pub struct Fragment {
    /// Its name.
    pub name: String,
    /// Its type condition.
    pub on: String,
    /// Its selections.
    pub sub: Vec<Sel>,
}

/// An argument: a literal or a variable.
#[derive(Clone, Debug)]
pub enum ArgValue {
    /// `3`.
    Literal(i64),
    /// `$i1`.
    Variable(String),
}

/// `@include(if: …)` (`include`) or `@skip(if: …)`.
#[derive(Clone, Debug)]
pub struct Cond {
    /// `@include` rather than `@skip`.
    pub include: bool,
    /// The literal, or the variable's name.
    pub value: Result<bool, String>,
}

struct Gen<'a> {
    schema: &'a Schema,
    rng: Rng,
    op: Operation,
    counter: usize,
}

/// A random operation over `schema`.
pub fn generate(schema: &Schema, seed: u64) -> Operation {
    let mut gen = Gen {
        schema,
        rng: Rng::new(seed),
        op: Operation::default(),
        counter: 0,
    };
    let selections = gen.selection_set("Query", 0);
    gen.op.selections = selections;
    gen.op
}

const MAX_DEPTH: usize = 4;

impl Gen<'_> {
    fn next(&mut self) -> usize {
        self.counter += 1;
        self.counter
    }

    fn cond(&mut self) -> Option<Cond> {
        if !self.rng.chance(12) {
            return None;
        }
        let include = self.rng.chance(50);
        let value = if self.rng.chance(50) {
            Ok(self.rng.chance(50))
        } else {
            let name = format!("b{}", self.next());
            let v = self.rng.chance(50);
            self.op.variables.insert(name.clone(), json!(v));
            Err(name)
        };
        Some(Cond { include, value })
    }

    /// The selections on `type_name` (an object, interface or union).
    fn selection_set(&mut self, type_name: &str, depth: usize) -> Vec<Sel> {
        let schema = self.schema;
        let kind = schema.ty(type_name).map(|t| t.kind).unwrap_or(Kind::Object);
        let mut out = Vec::new();
        let fields = schema.fields_of(type_name);
        if kind != Kind::Union && !fields.is_empty() {
            for _ in 0..self.rng.range(1, 3) {
                let f = self.rng.pick(fields);
                if depth >= MAX_DEPTH && !f.ty.is_scalar() {
                    continue;
                }
                let sel = self.field(f.name.clone(), depth);
                out.push(sel);
            }
        }
        if type_name != "Query" && self.rng.chance(25) {
            out.push(Sel::typename());
        }
        if kind != Kind::Object && depth < MAX_DEPTH {
            let possible = schema.possible(type_name);
            for p in possible {
                if self.rng.chance(50) {
                    let sub = self.selection_set(&p, depth + 1);
                    let cond = self.cond();
                    out.push(Sel::Inline {
                        on: Some(p),
                        cond,
                        sub,
                    });
                }
            }
        }
        if depth < MAX_DEPTH && self.rng.chance(10) {
            let sub = self.selection_set(type_name, depth + 1);
            let cond = self.cond();
            out.push(Sel::Inline {
                on: None,
                cond,
                sub,
            });
        }
        // Named fragments on unions are left out: async-graphql (the
        // oracle) does not match `... on SomeUnion` to a member object.
        if type_name != "Query" && kind != Kind::Union && depth < MAX_DEPTH && self.rng.chance(10) {
            let name = format!("F{}", self.next());
            let sub = self.selection_set(type_name, depth + 1);
            self.op.fragments.push(Fragment {
                name: name.clone(),
                on: type_name.to_owned(),
                sub,
            });
            let cond = self.cond();
            out.push(Sel::Spread { name, cond });
        }
        if out.is_empty() {
            // Every selection set needs a field.
            if type_name == "Query" {
                let f = schema.query[0].name.clone();
                out.push(self.field(f, MAX_DEPTH));
            } else {
                out.push(Sel::typename());
            }
        }
        out
    }

    fn field(&mut self, name: String, depth: usize) -> Sel {
        let schema = self.schema;
        let def = schema
            .types
            .iter()
            .flat_map(|t| t.fields.iter())
            .chain(schema.query.iter())
            .find(|f| f.name == name)
            .expect("a field of the schema")
            .clone();
        let mut args = Vec::new();
        for a in &def.args {
            if self.rng.chance(60) {
                let value = if self.rng.chance(50) {
                    ArgValue::Literal(self.rng.below(5) as i64)
                } else {
                    let var = format!("i{}", self.next());
                    let v = self.rng.below(5);
                    self.op.variables.insert(var.clone(), json!(v));
                    ArgValue::Variable(var)
                };
                args.push((a.name.clone(), value));
            }
        }
        let alias = if !args.is_empty() || self.rng.chance(10) {
            Some(format!("a{}", self.next()))
        } else {
            None
        };
        let sub = if def.ty.is_scalar() {
            Vec::new()
        } else {
            self.selection_set(&def.ty.name, depth + 1)
        };
        let cond = self.cond();
        Sel::Field {
            alias,
            name,
            args,
            cond,
            sub,
        }
    }
}

fn cond_text(cond: &Option<Cond>) -> String {
    match cond {
        None => String::new(),
        Some(c) => {
            let d = if c.include { "include" } else { "skip" };
            match &c.value {
                Ok(b) => format!(" @{d}(if: {b})"),
                Err(v) => format!(" @{d}(if: ${v})"),
            }
        }
    }
}

fn print_set(sels: &[Sel], out: &mut String) {
    out.push_str(" {");
    for sel in sels {
        out.push(' ');
        match sel {
            Sel::Field {
                alias,
                name,
                args,
                cond,
                sub,
            } => {
                if let Some(a) = alias {
                    let _ = write!(out, "{a}: ");
                }
                out.push_str(name);
                if !args.is_empty() {
                    let args: Vec<String> = args
                        .iter()
                        .map(|(k, v)| match v {
                            ArgValue::Literal(n) => format!("{k}: {n}"),
                            ArgValue::Variable(var) => format!("{k}: ${var}"),
                        })
                        .collect();
                    let _ = write!(out, "({})", args.join(", "));
                }
                out.push_str(&cond_text(cond));
                if !sub.is_empty() {
                    print_set(sub, out);
                }
            }
            Sel::Inline { on, cond, sub } => {
                out.push_str("...");
                if let Some(on) = on {
                    let _ = write!(out, " on {on}");
                }
                out.push_str(&cond_text(cond));
                print_set(sub, out);
            }
            Sel::Spread { name, cond } => {
                let _ = write!(out, "...{name}{}", cond_text(cond));
            }
        }
    }
    out.push_str(" }");
}

impl Operation {
    /// The operation's text, declaring the variables it uses; and the
    /// variables' values.
    pub fn text(&self) -> (String, Value) {
        let mut body = String::new();
        print_set(&self.selections, &mut body);
        // Fragments used by the body or by fragments printed so far, until
        // no more are.
        let mut fragments = String::new();
        let mut printed = vec![false; self.fragments.len()];
        loop {
            let mut more = false;
            for (i, f) in self.fragments.iter().enumerate() {
                let token = format!("...{}", f.name);
                if !printed[i] && (uses(&body, &token) || uses(&fragments, &token)) {
                    let _ = write!(fragments, "\nfragment {} on {}", f.name, f.on);
                    print_set(&f.sub, &mut fragments);
                    printed[i] = true;
                    more = true;
                }
            }
            if !more {
                break;
            }
        }
        let all = format!("{body}{fragments}");
        let mut defs = Vec::new();
        let mut values = serde_json::Map::new();
        for (name, value) in &self.variables {
            let used = uses(&all, &format!("${name}"));
            if !used {
                continue;
            }
            let ty = if name.starts_with('b') {
                "Boolean!"
            } else {
                "Int!"
            };
            defs.push(format!("${name}: {ty}"));
            values.insert(name.clone(), value.clone());
        }
        let head = if defs.is_empty() {
            "query Q".to_owned()
        } else {
            format!("query Q({})", defs.join(", "))
        };
        (format!("{head}{all}"), Value::Object(values))
    }
}

/// Whether `text` holds `token` not followed by a name character.
fn uses(text: &str, token: &str) -> bool {
    text.match_indices(token).any(|(i, m)| {
        !text[i + m.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}
