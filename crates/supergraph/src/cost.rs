//! Demand control directives in a supergraph: `@cost(weight:)` on fields,
//! arguments, objects, enums, scalars and input fields, and `@listSize` on
//! fields, read once when the supergraph loads.
//!
//! They are found by the names the cost link gives them
//! (`@link(url: "https://specs.apollo.dev/cost/v0.1", import: [...])`):
//! imports, renamed or not, and otherwise `@cost` (or the link's `as:`) and
//! `@cost__listSize`. A supergraph without a cost link has no weights.

use std::collections::HashMap;

use apollo_compiler::ast::Value;
use apollo_compiler::schema::{DirectiveList, ExtendedType};
use apollo_compiler::{Name, Schema};

/// `@listSize` on a field.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListSize {
    /// `assumedSize:`, the size to assume without slicing arguments.
    pub assumed_size: Option<i64>,
    /// `slicingArguments:`: the arguments whose value sizes the list.
    pub slicing_arguments: Option<Vec<String>>,
    /// `sizedFields:`: child fields whose lists the slicing arguments size.
    pub sized_fields: Option<Vec<String>>,
    /// `requireOneSlicingArgument:` (default true): exactly one slicing
    /// argument must have a value.
    pub require_one_slicing_argument: bool,
}

/// The demand control directives of one field.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldCost {
    /// The field's own `@cost(weight:)`.
    pub weight: Option<f64>,
    /// `@cost(weight:)` of its arguments, by argument name.
    pub arguments: HashMap<Name, f64>,
    /// Its `@listSize`.
    pub list_size: Option<ListSize>,
}

/// Every `@cost` and `@listSize` of a supergraph, by type and field.
#[derive(Debug, Clone, Default)]
pub struct Costs {
    /// `@cost`'s name in this supergraph, when it links the cost spec.
    pub cost_name: Option<String>,
    /// `@listSize`'s name in this supergraph, when it links the cost spec.
    pub list_size_name: Option<String>,
    types: HashMap<Name, f64>,
    fields: HashMap<Name, HashMap<Name, FieldCost>>,
    input_fields: HashMap<Name, HashMap<Name, f64>>,
}

impl Costs {
    /// Reads the directives of `schema`.
    pub fn read(schema: &Schema) -> Costs {
        let (cost_name, list_size_name) = directive_names(schema);
        let mut costs = Costs {
            cost_name,
            list_size_name,
            ..Default::default()
        };
        let (Some(cost), Some(list_size)) = (costs.cost_name.clone(), costs.list_size_name.clone())
        else {
            return costs;
        };
        for (name, ty) in &schema.types {
            if let Some(w) = weight(ty.directives(), &cost) {
                costs.types.insert(name.clone(), w);
            }
            let fields = match ty {
                ExtendedType::Object(o) => &o.fields,
                ExtendedType::Interface(i) => &i.fields,
                ExtendedType::InputObject(io) => {
                    for (f, def) in &io.fields {
                        if let Some(w) = ast_weight(&def.directives, &cost) {
                            let by_field = costs.input_fields.entry(name.clone()).or_default();
                            by_field.insert(f.clone(), w);
                        }
                    }
                    continue;
                }
                _ => continue,
            };
            for (f, def) in fields {
                let field = FieldCost {
                    weight: ast_weight(&def.directives, &cost),
                    arguments: def
                        .arguments
                        .iter()
                        .filter_map(|a| Some((a.name.clone(), ast_weight(&a.directives, &cost)?)))
                        .collect(),
                    list_size: def.directives.get(&list_size).map(|d| read_list_size(d)),
                };
                if field != FieldCost::default() {
                    let by_field = costs.fields.entry(name.clone()).or_default();
                    by_field.insert(f.clone(), field);
                }
            }
        }
        costs
    }

    /// True when the supergraph has no `@cost` or `@listSize` at all.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty() && self.fields.is_empty() && self.input_fields.is_empty()
    }

    /// The `@cost(weight:)` of object, enum or scalar type `ty`.
    pub fn type_weight(&self, ty: &str) -> Option<f64> {
        self.types.get(ty).copied()
    }

    /// The directives of field `field` of `ty`, when it has any.
    pub fn field(&self, ty: &str, field: &str) -> Option<&FieldCost> {
        self.fields.get(ty)?.get(field)
    }

    /// The `@cost(weight:)` of input field `field` of input object `ty`.
    pub fn input_field_weight(&self, ty: &str, field: &str) -> Option<f64> {
        self.input_fields.get(ty)?.get(field).copied()
    }
}

/// The names `@cost` and `@listSize` have in `schema`, from its cost link.
pub(crate) fn directive_names(schema: &Schema) -> (Option<String>, Option<String>) {
    for link in schema.schema_definition.directives.get_all("link") {
        let url = link
            .specified_argument_by_name("url")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        if !url.contains("specs.apollo.dev/cost/") {
            continue;
        }
        let prefix = link
            .specified_argument_by_name("as")
            .and_then(|v| v.as_str())
            .unwrap_or("cost");
        let mut cost = prefix.to_owned();
        let mut list_size = format!("{prefix}__listSize");
        for (element, alias) in link_imports(link) {
            let local = alias.trim_start_matches('@').to_owned();
            match element {
                "@cost" => cost = local,
                "@listSize" => list_size = local,
                _ => {}
            }
        }
        return (Some(cost), Some(list_size));
    }
    (None, None)
}

/// The `import:` list of a `@link`: `(element, local name)` for each entry,
/// `"@x"` or `{name: "@x", as: "@y"}`.
pub(crate) fn link_imports(link: &apollo_compiler::ast::Directive) -> Vec<(&str, &str)> {
    let Some(Value::List(items)) = link.specified_argument_by_name("import").map(|v| &**v) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|import| match &**import {
            Value::String(s) => Some((s.as_str(), s.as_str())),
            Value::Object(fields) => {
                let get = |k: &str| {
                    fields
                        .iter()
                        .find(|(n, _)| n == k)
                        .and_then(|(_, v)| v.as_str())
                };
                let name = get("name")?;
                Some((name, get("as").unwrap_or(name)))
            }
            _ => None,
        })
        .collect()
}

/// A weight: an Int (cost v0.1), or a Float or a numeric string (as newer
/// Apollo Router versions accept).
fn value_weight(v: &Value) -> Option<f64> {
    let w = match v {
        Value::Int(i) => i.try_to_f64().ok(),
        Value::Float(f) => f.try_to_f64().ok(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    w.filter(|w: &f64| w.is_finite())
}

fn weight(directives: &DirectiveList, cost: &str) -> Option<f64> {
    value_weight(directives.get(cost)?.specified_argument_by_name("weight")?)
}

fn ast_weight(directives: &apollo_compiler::ast::DirectiveList, cost: &str) -> Option<f64> {
    value_weight(directives.get(cost)?.specified_argument_by_name("weight")?)
}

fn read_list_size(d: &apollo_compiler::ast::Directive) -> ListSize {
    let strings = |name: &str| {
        d.specified_argument_by_name(name).map(|v| match &**v {
            Value::List(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            Value::String(s) => vec![s.clone()],
            _ => Vec::new(),
        })
    };
    ListSize {
        assumed_size: d
            .specified_argument_by_name("assumedSize")
            .and_then(|v| v.to_i32())
            .map(i64::from),
        slicing_arguments: strings("slicingArguments"),
        sized_fields: strings("sizedFields"),
        require_one_slicing_argument: d
            .specified_argument_by_name("requireOneSlicingArgument")
            .and_then(|v| v.to_bool())
            .unwrap_or(true),
    }
}
