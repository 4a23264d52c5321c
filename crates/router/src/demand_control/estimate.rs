//! The static estimate of an operation's cost, before it is planned (the
//! IBM cost spec, as Apollo Router applies it):
//!
//! - a field costs `count × (weight + its selections) + its arguments`;
//! - `weight` is the field's `@cost`, else its type's `@cost` (for an
//!   interface or union: the largest of its possible types', 1 for those
//!   without), else 1 for objects, interfaces and unions and 0 for scalars
//!   and enums;
//! - `count` is 1 for a field that is not a list; for a list, the size its
//!   parent's `@listSize(sizedFields:)` gives it, else its own `@listSize`
//!   (the largest slicing argument given, by literal, variable or default,
//!   else `assumedSize`), else `static_estimated.list_size`;
//! - a selection set costs the sum of its fields; where fragments apply to
//!   some runtime types only, the most expensive runtime type counts;
//! - `@skip`/`@include` remove what they remove; `__typename` and
//!   introspection fields are free; a mutation adds 10.
//!
//! Fragments are walked at each spread: the document stage has already
//! refused operations over `max_recursive_selections`, which bounds the walk.

use apollo_compiler::executable::{ExecutableDocument, Field, Operation, Selection, SelectionSet};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::Name;
use goliath_supergraph::{ListSize, Supergraph};
use serde_json::{Map, Value};

use super::inputs::{arguments_cost, included, to_json};

/// The estimate of one operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimated {
    /// The estimated cost.
    pub cost: f64,
    /// `@listSize(requireOneSlicingArgument: true)` fields given no or
    /// several slicing arguments, one message each.
    pub violations: Vec<String>,
}

/// Estimates `operation`'s cost; `list_size` is the size assumed for lists
/// `@listSize` says nothing about.
pub fn estimate(
    supergraph: &Supergraph,
    doc: &ExecutableDocument,
    operation: &Operation,
    variables: &Map<String, Value>,
    list_size: f64,
) -> Estimated {
    let mut e = Estimator {
        supergraph,
        doc,
        variables,
        list_size,
        violations: Vec::new(),
    };
    let base = if operation.operation_type.is_mutation() {
        10.0
    } else {
        0.0
    };
    let cost = base + e.selection_set(&operation.selection_set, None);
    Estimated {
        cost,
        violations: e.violations,
    }
}

/// The sizes a `@listSize(sizedFields:)` gives the fields of a selection set.
struct Sizing<'s> {
    size: Option<f64>,
    fields: &'s [String],
}

struct Estimator<'a> {
    supergraph: &'a Supergraph,
    doc: &'a ExecutableDocument,
    variables: &'a Map<String, Value>,
    list_size: f64,
    violations: Vec<String>,
}

/// A field of a selection set, with the type conditions of the fragments
/// it sits in.
struct Item<'a> {
    field: &'a Field,
    parent: &'a Name,
    conditions: Vec<&'a Name>,
}

impl<'a> Estimator<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet, sizing: Option<&Sizing>) -> f64 {
        let mut items = Vec::new();
        self.collect(set, &mut Vec::new(), &mut items);
        let costs: Vec<f64> = items
            .iter()
            .map(|i| {
                let sized = sizing
                    .filter(|s| s.fields.iter().any(|f| *f == i.field.name.as_str()))
                    .and_then(|s| s.size);
                self.field(i.parent, i.field, sized)
            })
            .collect();
        // Fields outside fragments that narrow the type apply to every
        // object; the others are summed per list of type conditions.
        let mut unconditional = 0.0;
        let mut groups: Vec<(&[&Name], f64)> = Vec::new();
        for (item, cost) in items.iter().zip(costs) {
            if item.conditions.is_empty() {
                unconditional += cost;
                continue;
            }
            match groups
                .iter_mut()
                .find(|(c, _)| *c == item.conditions.as_slice())
            {
                Some((_, sum)) => *sum += cost,
                None => groups.push((&item.conditions, cost)),
            }
        }
        if groups.is_empty() {
            return unconditional;
        }
        // The most expensive runtime type of the set's type.
        let runtime = self.supergraph.possible_types(&set.ty);
        let conditional = runtime
            .iter()
            .map(|t| {
                groups
                    .iter()
                    .filter(|(conditions, _)| {
                        conditions
                            .iter()
                            .all(|c| self.supergraph.is_possible_type(c, t))
                    })
                    .map(|(_, sum)| sum)
                    .sum::<f64>()
            })
            .fold(0.0, f64::max);
        unconditional + conditional
    }

    /// The fields of `set`, through its fragments (`conditions` are the
    /// type conditions of the fragments around them).
    fn collect(
        &self,
        set: &'a SelectionSet,
        conditions: &mut Vec<&'a Name>,
        items: &mut Vec<Item<'a>>,
    ) {
        for selection in &set.selections {
            match selection {
                Selection::Field(f) => {
                    if included(&f.directives, self.variables) {
                        items.push(Item {
                            field: f,
                            parent: &set.ty,
                            conditions: conditions.clone(),
                        });
                    }
                }
                Selection::InlineFragment(i) => {
                    if !included(&i.directives, self.variables) {
                        continue;
                    }
                    let narrows = i.type_condition.as_ref().filter(|c| **c != set.ty);
                    conditions.extend(narrows);
                    self.collect(&i.selection_set, conditions, items);
                    if narrows.is_some() {
                        conditions.pop();
                    }
                }
                Selection::FragmentSpread(s) => {
                    let Some(fragment) = self.doc.fragments.get(&s.fragment_name) else {
                        continue;
                    };
                    if !included(&s.directives, self.variables) {
                        continue;
                    }
                    let narrows = fragment.type_condition() != &set.ty;
                    if narrows {
                        conditions.push(fragment.type_condition());
                    }
                    self.collect(&fragment.selection_set, conditions, items);
                    if narrows {
                        conditions.pop();
                    }
                }
            }
        }
    }

    fn field(&mut self, parent: &str, field: &'a Field, sized: Option<f64>) -> f64 {
        if field.name.starts_with("__") {
            return 0.0;
        }
        let costs = &self.supergraph.costs;
        let own = costs.field(parent, &field.name);
        let list_size = own.and_then(|f| f.list_size.as_ref());
        let expected = list_size.and_then(|ls| self.expected_size(parent, field, ls));
        let ty = &field.definition.ty;
        let count = if !ty.is_list() {
            1.0
        } else {
            sized.or(expected).unwrap_or(self.list_size).max(0.0)
        };
        let weight = own
            .and_then(|f| f.weight)
            .unwrap_or_else(|| type_weight(self.supergraph, ty.inner_named_type()));
        let children = if field.selection_set.selections.is_empty() {
            0.0
        } else {
            let sizing = list_size
                .and_then(|ls| ls.sized_fields.as_deref())
                .map(|fields| Sizing {
                    size: expected,
                    fields,
                });
            self.selection_set(&field.selection_set, sizing.as_ref())
        };
        count * (weight + children) + arguments_cost(self.supergraph, parent, field, self.variables)
    }

    /// The size `@listSize` gives `field`: its largest slicing argument
    /// (given, else defaulted), else `assumedSize`.
    fn expected_size(&mut self, parent: &str, field: &Field, ls: &ListSize) -> Option<f64> {
        let mut sizes = Vec::new();
        for path in ls.slicing_arguments.iter().flatten() {
            let mut steps = path.split('.');
            let name = steps.next().unwrap_or_default();
            let value = match field.arguments.iter().find(|a| a.name == name) {
                Some(a) => to_json(&a.value, self.variables),
                None => match field
                    .definition
                    .argument_by_name(name)
                    .and_then(|d| d.default_value.as_ref())
                {
                    Some(default) => to_json(default, self.variables),
                    None => continue,
                },
            };
            let value = steps.try_fold(value, |v, step| v.get(step).cloned());
            match value {
                Some(Value::Number(n)) => sizes.extend(n.as_f64()),
                // A list argument (ids, say) sizes the list by its length.
                Some(Value::Array(items)) => sizes.push(items.len() as f64),
                _ => {}
            }
        }
        if ls.require_one_slicing_argument && ls.slicing_arguments.is_some() && sizes.len() != 1 {
            self.violations.push(format!(
                "Exactly one slicing argument is required, but found {} (on {parent}.{})",
                sizes.len(),
                field.name
            ));
        }
        sizes
            .into_iter()
            .reduce(f64::max)
            .or(ls.assumed_size.map(|n| n as f64))
    }
}

/// The weight of one value of named type `ty`: its `@cost`; for an
/// interface or union the largest of its possible types' (1 for those
/// without); else 1 for composite types and 0 for leaves.
pub(crate) fn type_weight(supergraph: &Supergraph, ty: &str) -> f64 {
    if let Some(w) = supergraph.costs.type_weight(ty) {
        return w;
    }
    match supergraph.api_schema.types.get(ty) {
        Some(ExtendedType::Object(_)) => 1.0,
        Some(ExtendedType::Interface(_) | ExtendedType::Union(_)) => supergraph
            .possible_types(ty)
            .iter()
            .map(|t| supergraph.costs.type_weight(t).unwrap_or(1.0))
            .reduce(f64::max)
            .unwrap_or(1.0),
        _ => 0.0,
    }
}
