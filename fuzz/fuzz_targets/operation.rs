//! The operation pipeline's synchronous stages (parse, measure and the
//! safety limits, validate, operation limits, introspection, plan) on the
//! bench's, the demo's and the 36 audit suites' supergraphs.
//!
//! Input: byte 0 picks the supergraph, byte 1 the mode: bit 0 clear, the
//! rest is the query text (lossy UTF-8, as any text a client can send);
//! bit 0 set, the rest drives `apollo-smith` to generate an operation that
//! follows the supergraph's API schema. Bit 1 switches on every override
//! label of the supergraph.
//!
//! Checks: no panic, no stack overflow on a stack as large as the
//! router's compute threads (16 MB), no hang (libFuzzer's `-timeout`).

#![no_main]

use std::collections::HashSet;
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

use apollo_compiler::collections::IndexMap;
use apollo_compiler::schema::{Component, ExtendedType, FieldDefinition, Type};
use apollo_compiler::{Name, Node, Schema};
use arbitrary::Unstructured;
use goliath_router::fuzzing::{OperationOutcome, Prepared, Stages};
use libfuzzer_sys::fuzz_target;

const SUPERGRAPHS: &[(&str, &str)] = &include!(concat!(env!("OUT_DIR"), "/supergraphs.rs"));

/// The router's compute threads' stack (crates/router/src/compute).
const STACK_SIZE: usize = 16 * 1024 * 1024;

struct Target {
    stages: Stages,
    /// The API schema as apollo-smith sees it (see [`smith_document`]),
    /// unless it has nothing apollo-smith can select.
    smith: Option<apollo_smith::Document>,
    labels: HashSet<String>,
}

fn targets() -> &'static [Target] {
    static TARGETS: OnceLock<Vec<Target>> = OnceLock::new();
    TARGETS.get_or_init(|| {
        SUPERGRAPHS
            .iter()
            .map(|(name, sdl)| {
                let stages = Stages::new(sdl).unwrap_or_else(|e| panic!("{name}: {e}"));
                let smith = smith_document(&stages.supergraph().api_schema)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                let labels = override_labels(sdl);
                Target {
                    stages,
                    smith,
                    labels,
                }
            })
            .collect()
    })
}

/// The `overrideLabel:` values of a supergraph.
fn override_labels(sdl: &str) -> HashSet<String> {
    sdl.split("overrideLabel: \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// The API schema as apollo-smith 0.15 can generate operations for it.
/// It has no support for selecting union-typed fields, custom scalars
/// (as output or argument types), input object arguments or types without
/// fields (it panics on them), and it selects the first field of a type
/// once its input is used up. So, in this view only: unions are dropped
/// with the fields of their type, custom scalars become `String` (a
/// string literal is a valid value for them), input object arguments are
/// dropped (the field too when one is required), types left without
/// fields are dropped with the fields of their type (until none is
/// left), and leaf fields (`__typename` added to each) come first in
/// every object and interface, so that generation always ends. An explicit schema definition and the
/// `@skip`/`@include` directives are added for it to use.
fn smith_document(api: &Schema) -> Result<Option<apollo_smith::Document>, String> {
    let kind = |name: &str| api.types.get(name);
    let leaf = |name: &str| {
        matches!(
            kind(name),
            Some(ExtendedType::Scalar(_) | ExtendedType::Enum(_))
        )
    };
    let custom_scalar = |name: &str| kind(name).is_some_and(|t| t.is_scalar() && !t.is_built_in());
    let input_object = |name: &str| matches!(kind(name), Some(ExtendedType::InputObject(_)));
    let string = Name::new("String").unwrap();
    // `ty` with its named type replaced by `String` when that is a custom
    // scalar.
    let plain = |ty: &Type| -> Type {
        fn rename(ty: &Type, to: &Name) -> Type {
            match ty {
                Type::Named(_) => Type::Named(to.clone()),
                Type::NonNullNamed(_) => Type::NonNullNamed(to.clone()),
                Type::List(inner) => Type::List(Box::new(rename(inner, to))),
                Type::NonNullList(inner) => Type::NonNullList(Box::new(rename(inner, to))),
            }
        }
        if custom_scalar(ty.inner_named_type()) {
            rename(ty, &string)
        } else {
            ty.clone()
        }
    };
    let fix_fields = |fields: &mut IndexMap<Name, Component<FieldDefinition>>,
                      gone: &HashSet<Name>| {
        fields.retain(|_, f| {
            if gone.contains(f.ty.inner_named_type()) {
                return false;
            }
            let required_input_object = f.arguments.iter().any(|a| {
                input_object(a.ty.inner_named_type())
                    && a.ty.is_non_null()
                    && a.default_value.is_none()
            });
            if required_input_object {
                return false;
            }
            let f = f.make_mut();
            f.ty = plain(&f.ty);
            f.arguments
                .retain(|a| !input_object(a.ty.inner_named_type()));
            for a in &mut f.arguments {
                let a = a.make_mut();
                a.ty = Node::new(plain(&a.ty));
            }
            true
        });
        // `__typename`, which any composite type has: a leaf to end on in
        // types whose fields all nest further.
        let typename = Name::new("__typename").unwrap();
        fields.insert(
            typename.clone(),
            Component::new(FieldDefinition {
                description: None,
                name: typename,
                arguments: vec![],
                ty: Type::NonNullNamed(string.clone()),
                directives: Default::default(),
            }),
        );
        fields.sort_by_cached_key(|_, f| !leaf(f.ty.inner_named_type()));
    };
    let mut schema = api.clone();
    let mut gone: HashSet<Name> = schema
        .types
        .iter()
        .filter(|(_, t)| t.is_union())
        .map(|(n, _)| n.clone())
        .collect();
    loop {
        schema.types.retain(|n, _| !gone.contains(n));
        let mut empty = vec![];
        for (name, ty) in schema.types.iter_mut() {
            let fields = match ty {
                ExtendedType::Object(o) => {
                    let o = o.make_mut();
                    o.implements_interfaces.retain(|i| !gone.contains(&i.name));
                    &mut o.fields
                }
                ExtendedType::Interface(i) => {
                    let i = i.make_mut();
                    i.implements_interfaces.retain(|i| !gone.contains(&i.name));
                    &mut i.fields
                }
                _ => continue,
            };
            fix_fields(fields, &gone);
            if fields.is_empty() {
                empty.push(name.clone());
            }
        }
        if empty.is_empty() {
            break;
        }
        gone.extend(empty);
    }
    let roots = schema.schema_definition.make_mut();
    for root in [
        &mut roots.query,
        &mut roots.mutation,
        &mut roots.subscription,
    ] {
        if root.as_ref().is_some_and(|r| gone.contains(&r.name)) {
            *root = None;
        }
    }
    let roots = roots.clone();
    if roots.query.is_none() && roots.mutation.is_none() {
        // Nothing apollo-smith can select from.
        return Ok(None);
    }
    let mut text = schema.to_string();
    let mut def = String::from("schema {");
    for (kind, root) in [
        ("query", &roots.query),
        ("mutation", &roots.mutation),
        ("subscription", &roots.subscription),
    ] {
        if let Some(root) = root {
            def.push_str(&format!(" {kind}: {}", root.name));
        }
    }
    def.push_str(" }\n");
    let has_schema_def = apollo_parser::Parser::new(&text)
        .parse()
        .document()
        .definitions()
        .any(|d| matches!(d, apollo_parser::cst::Definition::SchemaDefinition(_)));
    if !has_schema_def {
        text = def + &text;
    }
    text.push_str(
        "\ndirective @skip(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT\n\
         directive @include(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT\n",
    );
    if debug() {
        eprintln!("{text}");
    }
    let tree = apollo_parser::Parser::new(&text).parse();
    if tree.errors().len() > 0 {
        return Err(format!(
            "the API schema does not parse: {:?}",
            tree.errors()
        ));
    }
    apollo_smith::Document::try_from(tree.document())
        .map(Some)
        .map_err(|e| format!("{e:?}"))
}

/// An operation generated from `bytes` for `target`'s API schema.
fn generate(target: &Target, bytes: &[u8]) -> Option<String> {
    let mut u = Unstructured::new(bytes);
    let mut builder =
        apollo_smith::DocumentBuilder::with_document(&mut u, target.smith.clone()?).ok()?;
    let op = builder.operation_definition().ok()??;
    Some(op.into())
}

/// Runs `job` on a thread with the router's compute stack and waits for it.
fn on_compute_stack(job: Box<dyn FnOnce() + Send>) {
    type Job = (Box<dyn FnOnce() + Send>, mpsc::Sender<()>);
    static WORKER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let worker = WORKER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("compute".into())
            .stack_size(STACK_SIZE)
            .spawn(move || {
                for (job, done) in rx {
                    job();
                    let _ = done.send(());
                }
            })
            .expect("spawn the compute thread");
        Mutex::new(tx)
    });
    let (done_tx, done_rx) = mpsc::channel();
    worker
        .lock()
        .unwrap()
        .send((job, done_tx))
        .expect("the compute thread runs");
    // A panic on the worker aborts the process (libFuzzer's panic hook),
    // so `done` always arrives otherwise.
    done_rx.recv().expect("the job finished");
}

fuzz_target!(|data: &[u8]| {
    let [pick, mode, rest @ ..] = data else {
        return;
    };
    let targets = targets();
    let target = &targets[*pick as usize % targets.len()];
    let query = if mode & 1 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        match generate(target, rest) {
            Some(q) => q,
            None => return,
        }
    };
    let labels = if mode & 2 != 0 {
        target.labels.clone()
    } else {
        HashSet::new()
    };
    let stages: &'static Stages = &target.stages;
    let generated = mode & 1;
    on_compute_stack(Box::new(move || {
        let prepared = stages.prepare(&query, &labels);
        if let Prepared::Operations(ops) = &prepared {
            // Every operation of a valid document is accounted for.
            assert!(!ops.is_empty(), "a valid document has an operation");
        }
        if debug() {
            eprintln!("outcome: {generated} {}", summary(&prepared));
            if generated == 1 {
                eprintln!("query: {query}");
            }
        }
        std::hint::black_box(prepared);
    }));
});

/// Whether `FUZZ_DEBUG_SMITH` is set: the API schemas as apollo-smith
/// sees them and each input's outcome are printed (to see how many
/// generated operations are valid).
fn debug() -> bool {
    static DEBUG: OnceLock<bool> = OnceLock::new();
    *DEBUG.get_or_init(|| std::env::var_os("FUZZ_DEBUG_SMITH").is_some())
}

/// One word for how far a document went.
fn summary(prepared: &Prepared) -> String {
    match prepared {
        Prepared::Rejected(r) => {
            let body = r.body.to_value();
            let code = &body["errors"][0]["extensions"]["code"];
            format!("rejected {}", code.as_str().unwrap_or("?"))
        }
        Prepared::Operations(ops) => ops
            .iter()
            .map(|o| match o {
                OperationOutcome::Refused(codes) => format!("refused {}", codes.join(",")),
                OperationOutcome::RequestError(_) => "request-error".to_owned(),
                OperationOutcome::Planned(Ok(_)) => "planned".to_owned(),
                OperationOutcome::Planned(Err(e)) => format!("plan-failed: {e}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
    }
}
