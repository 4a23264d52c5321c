//! Demand control: `@cost` and `@listSize` (the cost spec,
//! `https://specs.apollo.dev/cost/v0.1`, which Federation 2.9 also exports).
//!
//! Subgraphs import them from the federation link or from a cost link, under
//! any name. Composition, as Apollo's:
//!
//! - reads each application ([`parse_cost`], [`parse_list_size`]) and checks
//!   it against the subgraph ([`check`]);
//! - merges the applications of one element across subgraphs: when they
//!   agree (defaults included) the first is kept as written, otherwise
//!   `@cost(weight:)` is the largest weight, and `@listSize` takes the
//!   largest `assumedSize`, the union of `slicingArguments` and
//!   `sizedFields` and the AND of `requireOneSlicingArgument`
//!   ([`merge_cost`], [`merge_list_size`]);
//! - names each directive in the supergraph as the subgraphs that use it
//!   name it (they must agree: `LINK_IMPORT_NAME_MISMATCH`) and writes the
//!   cost link with the imports those names need ([`supergraph_use`]).

use apollo_compiler::ast;

use crate::emit::quote;
use crate::errors::{CompositionError, ErrorCode};
use crate::link::Fed;
use crate::subgraph::{print_directive, Kind, Subgraph};

/// The cost spec the supergraph links.
pub(crate) const COST_SPEC_URL: &str = "https://specs.apollo.dev/cost/v0.1";

/// The `@cost` definition, for directive name `name`.
pub(crate) fn cost_definition(name: &str) -> String {
    format!("directive @{name}(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR")
}

/// The `@listSize` definition, for directive name `name`.
pub(crate) fn list_size_definition(name: &str) -> String {
    format!("directive @{name}(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION")
}

/// A `@cost` application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CostApp {
    /// The directive's name where it was written (for messages).
    pub name: String,
    /// `weight:`.
    pub weight: i32,
    /// The arguments as printed: `(weight: 5)`.
    pub args: String,
}

/// A `@listSize` application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListSizeApp {
    /// The directive's name where it was written (for messages).
    pub name: String,
    /// `assumedSize:`.
    pub assumed_size: Option<i32>,
    /// `slicingArguments:`.
    pub slicing_arguments: Option<Vec<String>>,
    /// `sizedFields:`.
    pub sized_fields: Option<Vec<String>>,
    /// `requireOneSlicingArgument:` as written (the default is true).
    pub require_one: Option<bool>,
    /// The arguments as printed, in the order written.
    pub args: String,
}

impl ListSizeApp {
    /// True when both say the same once the default is filled in (as
    /// Apollo compares applications).
    fn same_as(&self, other: &ListSizeApp) -> bool {
        self.assumed_size == other.assumed_size
            && self.slicing_arguments == other.slicing_arguments
            && self.sized_fields == other.sized_fields
            && self.require_one.unwrap_or(true) == other.require_one.unwrap_or(true)
    }
}

/// The arguments of `d` as printed (`(a: 1, b: [\"x\"])`, or nothing).
fn printed_args(d: &ast::Directive) -> String {
    let printed = print_directive(d);
    printed[1 + d.name.len()..].to_owned()
}

fn int(v: &ast::Value) -> Option<i32> {
    match v {
        ast::Value::Int(i) => i.try_to_i32().ok(),
        _ => None,
    }
}

/// A `[String!]` argument (a single string is coerced to a list).
pub(crate) fn strings(v: &ast::Value) -> Option<Vec<String>> {
    match v {
        ast::Value::String(s) => Some(vec![s.clone()]),
        ast::Value::List(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

/// Reads a `@cost` application; the error says what is wrong with it.
pub(crate) fn parse_cost(d: &ast::Directive) -> Result<CostApp, String> {
    let mut weight = None;
    for arg in &d.arguments {
        match arg.name.as_str() {
            "weight" => weight = int(&arg.value),
            other => {
                return Err(format!(
                    "Unknown argument \"{other}\" found on \"@{}\"",
                    d.name
                ))
            }
        }
    }
    let weight = weight.ok_or_else(|| {
        format!(
            "Directive \"@{}\" requires an Int \"weight\" argument",
            d.name
        )
    })?;
    Ok(CostApp {
        name: d.name.to_string(),
        weight,
        args: printed_args(d),
    })
}

/// Reads a `@listSize` application; the error says what is wrong with it.
pub(crate) fn parse_list_size(d: &ast::Directive) -> Result<ListSizeApp, String> {
    let mut app = ListSizeApp {
        name: d.name.to_string(),
        assumed_size: None,
        slicing_arguments: None,
        sized_fields: None,
        require_one: None,
        args: printed_args(d),
    };
    let invalid = |arg: &str, ty: &str| {
        format!(
            "Argument \"{arg}\" of \"@{}\" must be of type \"{ty}\"",
            d.name
        )
    };
    for arg in &d.arguments {
        let value = &*arg.value;
        let null = matches!(value, ast::Value::Null);
        match arg.name.as_str() {
            "assumedSize" if null => {}
            "assumedSize" => {
                app.assumed_size = Some(int(value).ok_or_else(|| invalid("assumedSize", "Int"))?)
            }
            "slicingArguments" if null => {}
            "slicingArguments" => {
                app.slicing_arguments =
                    Some(strings(value).ok_or_else(|| invalid("slicingArguments", "[String!]"))?)
            }
            "sizedFields" if null => {}
            "sizedFields" => {
                app.sized_fields =
                    Some(strings(value).ok_or_else(|| invalid("sizedFields", "[String!]"))?)
            }
            "requireOneSlicingArgument" if null => {}
            "requireOneSlicingArgument" => {
                app.require_one = Some(
                    value
                        .to_bool()
                        .ok_or_else(|| invalid("requireOneSlicingArgument", "Boolean"))?,
                )
            }
            other => {
                return Err(format!(
                    "Unknown argument \"{other}\" found on \"@{}\"",
                    d.name
                ))
            }
        }
    }
    Ok(app)
}

/// One `@cost` for an element from its applications in several subgraphs:
/// the first when they agree, else the largest weight.
pub(crate) fn merge_cost<'a>(apps: impl Iterator<Item = &'a CostApp>) -> Option<CostApp> {
    let apps: Vec<&CostApp> = apps.collect();
    let first = *apps.first()?;
    if apps.iter().all(|a| a.weight == first.weight) {
        return Some(first.clone());
    }
    let weight = apps.iter().map(|a| a.weight).max().unwrap_or(first.weight);
    Some(CostApp {
        name: first.name.clone(),
        weight,
        args: format!("(weight: {weight})"),
    })
}

/// The union of string lists, in order of first appearance; `None` when no
/// application sets the argument.
fn union<'a>(lists: impl Iterator<Item = &'a Option<Vec<String>>>) -> Option<Vec<String>> {
    let mut out: Option<Vec<String>> = None;
    for list in lists.flatten() {
        let out = out.get_or_insert_with(Vec::new);
        for s in list {
            if !out.contains(s) {
                out.push(s.clone());
            }
        }
    }
    out
}

/// One `@listSize` for a field from its applications in several subgraphs:
/// the first when they agree (defaults included), else the merge of each
/// argument, printed in the definition's order.
pub(crate) fn merge_list_size<'a>(
    apps: impl Iterator<Item = &'a ListSizeApp>,
) -> Option<ListSizeApp> {
    let apps: Vec<&ListSizeApp> = apps.collect();
    let first = *apps.first()?;
    if apps.iter().all(|a| a.same_as(first)) {
        return Some(first.clone());
    }
    let assumed_size = apps.iter().filter_map(|a| a.assumed_size).max();
    let slicing_arguments = union(apps.iter().map(|a| &a.slicing_arguments));
    let sized_fields = union(apps.iter().map(|a| &a.sized_fields));
    let require_one = apps.iter().all(|a| a.require_one.unwrap_or(true));
    let list = |l: &Vec<String>| {
        let items: Vec<String> = l.iter().map(|s| quote(s)).collect();
        format!("[{}]", items.join(", "))
    };
    let mut parts = Vec::new();
    if let Some(n) = assumed_size {
        parts.push(format!("assumedSize: {n}"));
    }
    if let Some(l) = &slicing_arguments {
        parts.push(format!("slicingArguments: {}", list(l)));
    }
    if let Some(l) = &sized_fields {
        parts.push(format!("sizedFields: {}", list(l)));
    }
    parts.push(format!("requireOneSlicingArgument: {require_one}"));
    Some(ListSizeApp {
        name: first.name.clone(),
        assumed_size,
        slicing_arguments,
        sized_fields,
        require_one: Some(require_one),
        args: format!("({})", parts.join(", ")),
    })
}

/// How the supergraph names and links the cost spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CostSpecUse {
    /// `@cost`'s name in the supergraph.
    pub cost: String,
    /// `@listSize`'s name in the supergraph.
    pub list_size: String,
    /// The link's `import:` list, printed, when a name needs importing.
    pub import: Option<String>,
}

impl CostSpecUse {
    /// The `@link` on the schema, printed.
    pub fn link(&self) -> String {
        match &self.import {
            Some(i) => format!("@link(url: \"{COST_SPEC_URL}\", import: {i})"),
            None => format!("@link(url: \"{COST_SPEC_URL}\")"),
        }
    }
}

/// The names the supergraph gives `@cost` and `@listSize`: those of the
/// subgraphs that apply them, which must agree. `None` when no subgraph
/// applies either.
pub(crate) fn supergraph_use(
    subgraphs: &[Subgraph],
    errors: &mut Vec<CompositionError>,
) -> Option<CostSpecUse> {
    // (directive, name in the supergraph), in order of first use.
    let mut names: Vec<(Fed, String)> = Vec::new();
    for (fed, spec_name) in [(Fed::Cost, "cost"), (Fed::ListSize, "listSize")] {
        let users: Vec<(&Subgraph, &str)> = subgraphs
            .iter()
            .filter_map(|s| s.demand_name(fed).map(|n| (s, n)))
            .collect();
        let Some((_, first)) = users.first() else {
            continue;
        };
        if let Some((s, other)) = users.iter().find(|(_, n)| n != first) {
            let same: Vec<String> = users
                .iter()
                .filter(|(_, n)| n == first)
                .map(|(s, _)| format!("\"{}\"", s.name))
                .collect();
            let plural = if same.len() > 1 { "s" } else { "" };
            errors.push(CompositionError::new(
                ErrorCode::LinkImportNameMismatch,
                format!(
                    "The \"@{spec_name}\" directive (from {}) is imported with mismatched name between subgraphs: it is imported as \"@{other}\" in subgraph \"{}\" but \"@{first}\" in subgraph{plural} {}",
                    s.spec.demand_url(other),
                    s.name,
                    same.join(", ")
                ),
            ));
            return None;
        }
        names.push((fed, (*first).to_owned()));
    }
    if names.is_empty() {
        return None;
    }
    // First use across subgraphs (sorted by name), cost before listSize
    // within one subgraph: the order Apollo lists imports in.
    names.sort_by_key(|(fed, _)| {
        subgraphs
            .iter()
            .position(|s| s.demand_name(*fed).is_some())
            .unwrap_or(usize::MAX)
    });
    let mut imports = Vec::new();
    let mut cost = "cost".to_owned();
    let mut list_size = "cost__listSize".to_owned();
    for (fed, name) in names {
        let (spec_name, default) = match fed {
            Fed::Cost => ("cost", "cost"),
            _ => ("listSize", "cost__listSize"),
        };
        if name != default {
            imports.push(if name == spec_name {
                format!("\"@{spec_name}\"")
            } else {
                format!("{{name: \"@{spec_name}\", as: \"@{name}\"}}")
            });
        }
        match fed {
            Fed::Cost => cost = name,
            _ => list_size = name,
        }
    }
    Some(CostSpecUse {
        cost,
        list_size,
        import: (!imports.is_empty()).then(|| format!("[{}]", imports.join(", "))),
    })
}

/// Checks the `@cost` and `@listSize` applications of one subgraph, with
/// Apollo's codes: `@cost` on interface fields, and `@listSize`'s sizes,
/// slicing arguments and sized fields.
pub(crate) fn check(sg: &Subgraph) -> Vec<CompositionError> {
    let mut errors = Vec::new();
    let mut error = |code: ErrorCode, message: String| {
        errors.push(CompositionError::in_subgraph(code, &sg.name, message));
    };
    for t in sg.types.values() {
        for f in t.fields.values() {
            let coordinate = format!("{}.{}", t.name, f.name);
            if let Some(c) = &f.cost {
                if t.kind == Kind::Interface {
                    error(
                        ErrorCode::CostAppliedToInterfaceField,
                        format!(
                            "@{} cannot be applied to interface \"{coordinate}\"",
                            c.name
                        ),
                    );
                }
            }
            let Some(ls) = &f.list_size else { continue };
            if ls.assumed_size.is_some_and(|n| n < 0) {
                error(
                    ErrorCode::ListSizeInvalidAssumedSize,
                    format!("Assumed size of \"{coordinate}\" cannot be negative"),
                );
            }
            let sized = ls.sized_fields.as_deref().unwrap_or_default();
            if sized.is_empty() && !f.ty.is_list() {
                error(
                    ErrorCode::ListSizeAppliedToNonList,
                    format!("\"{coordinate}\" is not a list"),
                );
            }
            for name in ls.slicing_arguments.iter().flatten() {
                // `input.pagination.first` names a field of an input argument.
                let arg_name = name.split('.').next().unwrap_or_default();
                match f.args.get(arg_name) {
                    None => error(
                        ErrorCode::ListSizeInvalidSlicingArgument,
                        format!(
                            "Slicing argument \"{name}\" is not an argument of \"{coordinate}\""
                        ),
                    ),
                    Some(a) if arg_name == name && !a.ty.is_list() && a.ty.base() != "Int" => {
                        error(
                            ErrorCode::ListSizeInvalidSlicingArgument,
                            format!(
                                "Slicing argument \"{coordinate}({name}:)\" must be Int or Int!"
                            ),
                        )
                    }
                    Some(_) => {}
                }
            }
            if sized.is_empty() {
                continue;
            }
            let target = sg.types.get(f.ty.base());
            let Some(target) = target.filter(|t| matches!(t.kind, Kind::Object | Kind::Interface))
            else {
                error(
                    ErrorCode::ListSizeInvalidSizedField,
                    format!(
                        "Sized fields cannot be used because \"{}\" is not a composite type",
                        f.ty
                    ),
                );
                continue;
            };
            // Paths into nested selections (`results { page }`) are not checked.
            for name in sized.iter().filter(|n| !n.contains([' ', '{'])) {
                match target.fields.get(name.as_str()) {
                    None => error(
                        ErrorCode::ListSizeInvalidSizedField,
                        format!(
                            "Sized field \"{name}\" is not a field on type \"{}\"",
                            target.name
                        ),
                    ),
                    Some(sf) if !sf.ty.is_list() => error(
                        ErrorCode::ListSizeAppliedToNonList,
                        format!("Sized field \"{}.{name}\" is not a list", target.name),
                    ),
                    Some(_) => {}
                }
            }
        }
    }
    errors
}
