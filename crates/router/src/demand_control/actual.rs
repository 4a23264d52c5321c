//! The actual cost of an operation, from the merged data once it has run:
//! the estimate's rules applied to what came back. Each object returned
//! costs its field's weight (`@cost`, else its runtime type's, else 1) plus
//! its selections, each leaf (or `null`) its field's `@cost` or 0, a list
//! the sum of its items, and each field its arguments once; a mutation
//! adds 10. Objects of abstract types count for their `__typename`.

use std::collections::HashMap;
use std::rc::Rc;

use apollo_compiler::executable::{ExecutableDocument, Field, Operation, Selection, SelectionSet};
use goliath_executor::value::{Obj, Val};
use goliath_supergraph::Supergraph;
use serde_json::{Map, Value};

use super::estimate::type_weight;
use super::inputs::{arguments_cost, included};

/// The actual cost of `operation` over `data`, the merged response data.
pub fn actual(
    supergraph: &Supergraph,
    doc: &ExecutableDocument,
    operation: &Operation,
    variables: &Map<String, Value>,
    data: &Val<'_>,
) -> f64 {
    let mut a = Actual {
        supergraph,
        doc,
        variables,
        grouped: HashMap::new(),
    };
    let base = if operation.operation_type.is_mutation() {
        10.0
    } else {
        0.0
    };
    let root = operation.object_type().as_str();
    base + data
        .as_obj()
        .map_or(0.0, |obj| a.object(&[&operation.selection_set], root, obj))
}

/// The fields that apply to one runtime type, by response key.
type Grouped<'a> = Rc<Vec<(&'a str, Vec<&'a Field>)>>;

struct Actual<'a> {
    supergraph: &'a Supergraph,
    doc: &'a ExecutableDocument,
    variables: &'a Map<String, Value>,
    /// The fields of one selection set for one runtime type, by their
    /// addresses (the set's, and the schema's name of the type): every
    /// object at one position shares them.
    grouped: HashMap<(usize, usize), Grouped<'a>>,
}

impl<'a> Actual<'a> {
    /// The cost of the selections `sets` on an object of type `runtime`.
    fn object(&mut self, sets: &[&'a SelectionSet], runtime: &str, obj: &Obj<'_>) -> f64 {
        let fields = self.grouped(sets, runtime);
        fields
            .iter()
            .map(|(key, fields)| {
                let field = fields[0];
                if field.name.starts_with("__") {
                    return 0.0;
                }
                let value = obj.get(key).unwrap_or(&Val::Null);
                let single: [&'a SelectionSet; 1];
                let merged: Vec<&'a SelectionSet>;
                let subsets: &[&'a SelectionSet] = if fields.len() == 1 {
                    single = [&field.selection_set];
                    &single
                } else {
                    merged = fields.iter().map(|f| &f.selection_set).collect();
                    &merged
                };
                self.value(runtime, field, subsets, value)
                    + arguments_cost(self.supergraph, runtime, field, self.variables)
            })
            .sum()
    }

    /// The fields of `sets` that apply to objects of type `runtime`, by
    /// response key; kept for a single set (merged sets are rarer).
    fn grouped(&mut self, sets: &[&'a SelectionSet], runtime: &str) -> Grouped<'a> {
        let type_name = self.supergraph.api_schema.types.get_key_value(runtime);
        let key = match (sets, type_name) {
            ([set], Some((name, _))) => Some((
                *set as *const SelectionSet as usize,
                name.as_str().as_ptr() as usize,
            )),
            _ => None,
        };
        if let Some(g) = key.and_then(|k| self.grouped.get(&k)) {
            return g.clone();
        }
        let mut fields = Vec::new();
        for set in sets {
            self.collect(set, runtime, &mut fields);
        }
        let g = Rc::new(fields);
        if let Some(k) = key {
            self.grouped.insert(k, g.clone());
        }
        g
    }

    /// The fields of `set` that apply to objects of type `runtime`, by
    /// response key.
    fn collect(
        &self,
        set: &'a SelectionSet,
        runtime: &str,
        fields: &mut Vec<(&'a str, Vec<&'a Field>)>,
    ) {
        let applies = |condition: Option<&str>| {
            condition.is_none_or(|c| self.supergraph.is_possible_type(c, runtime))
        };
        for selection in &set.selections {
            match selection {
                Selection::Field(f) if included(&f.directives, self.variables) => {
                    let key = f.response_key().as_str();
                    match fields.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, same)) => same.push(f),
                        None => fields.push((key, vec![f])),
                    }
                }
                Selection::Field(_) => {}
                Selection::InlineFragment(i) => {
                    if included(&i.directives, self.variables)
                        && applies(i.type_condition.as_ref().map(|c| c.as_str()))
                    {
                        self.collect(&i.selection_set, runtime, fields);
                    }
                }
                Selection::FragmentSpread(s) => {
                    let Some(fragment) = self.doc.fragments.get(&s.fragment_name) else {
                        continue;
                    };
                    if included(&s.directives, self.variables)
                        && applies(Some(fragment.type_condition().as_str()))
                    {
                        self.collect(&fragment.selection_set, runtime, fields);
                    }
                }
            }
        }
    }

    /// The cost of one value of `field` (selected with `sets`) on `parent`.
    fn value(
        &mut self,
        parent: &str,
        field: &Field,
        sets: &[&'a SelectionSet],
        value: &Val<'_>,
    ) -> f64 {
        let own = self
            .supergraph
            .costs
            .field(parent, &field.name)
            .and_then(|f| f.weight);
        match value {
            Val::List(items) => items
                .iter()
                .map(|item| self.value(parent, field, sets, item))
                .sum(),
            Val::Obj(obj) => {
                let named = field.definition.ty.inner_named_type().as_str();
                let runtime = if self.supergraph.is_abstract(named) {
                    obj.get("__typename").and_then(Val::as_str).unwrap_or(named)
                } else {
                    named
                };
                let weight = own.unwrap_or_else(|| type_weight(self.supergraph, runtime));
                weight + self.object(sets, runtime, obj)
            }
            // A leaf, or null: only a weight set on the field or its type counts.
            _ => own
                .or_else(|| {
                    let named = field.definition.ty.inner_named_type().as_str();
                    self.supergraph.costs.type_weight(named)
                })
                .unwrap_or(0.0),
        }
    }
}
