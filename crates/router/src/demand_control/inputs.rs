//! What estimates and actual costs share: argument values (literals and
//! variables) as JSON, the cost of arguments, and `@skip`/`@include`.

use apollo_compiler::ast::{DirectiveList, Value as Literal};
use apollo_compiler::executable::Field;
use goliath_supergraph::Supergraph;
use serde_json::{Map, Value};

/// A literal with its variables replaced by their (coerced) values; an
/// unknown variable is `null`.
pub(crate) fn to_json(value: &Literal, variables: &Map<String, Value>) -> Value {
    match value {
        Literal::Null => Value::Null,
        Literal::Variable(name) => variables.get(name.as_str()).cloned().unwrap_or(Value::Null),
        Literal::Boolean(b) => Value::Bool(*b),
        Literal::Int(i) => i
            .try_to_i32()
            .map(Value::from)
            .or_else(|_| i.try_to_f64().map(Value::from))
            .unwrap_or(Value::Null),
        Literal::Float(f) => f.try_to_f64().map(Value::from).unwrap_or(Value::Null),
        Literal::String(s) => Value::String(s.clone()),
        Literal::Enum(e) => Value::String(e.to_string()),
        Literal::List(items) => Value::Array(items.iter().map(|i| to_json(i, variables)).collect()),
        Literal::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), to_json(v, variables)))
                .collect(),
        ),
    }
}

/// False when `@skip(if: true)` or `@include(if: false)` removes the
/// selection (literal or variable conditions).
pub(crate) fn included(directives: &DirectiveList, variables: &Map<String, Value>) -> bool {
    let condition = |name: &str| {
        directives
            .get(name)
            .and_then(|d| d.specified_argument_by_name("if"))
            .and_then(|v| to_json(v, variables).as_bool())
    };
    condition("skip") != Some(true) && condition("include") != Some(false)
}

/// The cost of the arguments a field is given (Apollo Router's rules):
/// each argument or input field with `@cost` (its own, or its enum or
/// scalar type's) adds its weight, an input object adds 1 (or its
/// weight) plus its fields, a list its weight plus its items, `null` nothing.
pub(crate) fn arguments_cost(
    supergraph: &Supergraph,
    parent: &str,
    field: &Field,
    variables: &Map<String, Value>,
) -> f64 {
    if field.arguments.is_empty() {
        return 0.0;
    }
    let costs = &supergraph.costs;
    let own = costs.field(parent, &field.name);
    let mut total = 0.0;
    for arg in &field.arguments {
        let Some(def) = field.definition.argument_by_name(&arg.name) else {
            continue;
        };
        let ty = def.ty.inner_named_type().as_str();
        let weight = own
            .and_then(|f| f.arguments.get(&arg.name).copied())
            .or_else(|| costs.type_weight(ty));
        total += input_cost(supergraph, &to_json(&arg.value, variables), ty, weight);
    }
    total
}

/// The cost of one input value of named type `ty` whose position weighs `weight`.
fn input_cost(supergraph: &Supergraph, value: &Value, ty: &str, weight: Option<f64>) -> f64 {
    match value {
        Value::Null => 0.0,
        Value::Array(items) => {
            weight.unwrap_or(0.0)
                + items
                    .iter()
                    .map(|i| input_cost(supergraph, i, ty, weight))
                    .sum::<f64>()
        }
        Value::Object(fields) => {
            let Some(input) = supergraph.api_schema.get_input_object(ty) else {
                return weight.unwrap_or(0.0);
            };
            let mut cost = weight.unwrap_or(1.0);
            for (name, v) in fields {
                let Some(def) = input.fields.get(name.as_str()) else {
                    continue;
                };
                let field_ty = def.ty.inner_named_type().as_str();
                let w = supergraph
                    .costs
                    .input_field_weight(ty, name)
                    .or_else(|| supergraph.costs.type_weight(field_ty));
                cost += input_cost(supergraph, v, field_ty, w);
            }
            cost
        }
        _ => weight.unwrap_or(0.0),
    }
}
