//! A search over the planner's choices: the greedy plan first, then, one
//! change at a time, each other subgraph for each root field and each
//! entity jump that had several subgraphs to go to (the greedy plan records
//! them), keeping a plan that takes fewer waves of subgraph requests or,
//! with as many waves, fewer requests. Bounded: at most [`MAX_TRIALS`] more
//! plans per operation.

use std::collections::HashMap;

use super::*;

/// How many alternative plans one operation may cost.
const MAX_TRIALS: usize = 8;

/// What a plan costs: waves of requests first, then requests.
fn cost(plan: &QueryPlan) -> (usize, usize) {
    match &plan.root {
        Some(node) => (assemble::waves(node), fetches(node)),
        None => (0, 0),
    }
}

/// How many subgraph requests `node` holds.
fn fetches(node: &PlanNode) -> usize {
    match node {
        PlanNode::Fetch(_) => 1,
        PlanNode::Flatten(f) => fetches(&f.node),
        PlanNode::Condition(c) => fetches(&c.node),
        PlanNode::Sequence(nodes) | PlanNode::Parallel(nodes) => nodes.iter().map(fetches).sum(),
    }
}

/// The choices made so far.
#[derive(Clone, Default)]
struct Choices {
    root: HashMap<Name, GraphId>,
    jump: HashMap<String, GraphId>,
}

impl Choices {
    fn with(&self, choice: &Choice, graph: GraphId) -> Choices {
        let mut out = self.clone();
        match choice {
            Choice::Root(key) => {
                out.root.insert(key.clone(), graph);
            }
            Choice::Jump(decision) => {
                out.jump.insert(decision.clone(), graph);
            }
        }
        out
    }
}

/// Plans `operation` with the search described above.
pub(crate) fn plan(
    sg: &Supergraph,
    doc: &ExecutableDocument,
    operation: &Operation,
    labels: &HashSet<String>,
    cancelled: &dyn Fn() -> bool,
) -> Result<QueryPlan, PlanError> {
    let greedy = Builder::new(sg, labels, cancelled);
    let decisions = greedy.decisions.clone();
    let first = greedy.plan(doc, operation);
    // Mutations run their root fields in order, each where it is.
    let mut alternatives: Vec<(Choice, Vec<GraphId>)> = Vec::new();
    if operation.operation_type == OperationType::Query {
        let mut seen = std::collections::HashSet::new();
        for (choice, taken, targets) in decisions.borrow().iter() {
            if seen.insert(choice.clone()) {
                let others: Vec<GraphId> = targets.iter().copied().filter(|g| g != taken).collect();
                alternatives.push((choice.clone(), others));
            }
        }
    }
    // A greedy plan that fails may have an alternative that does not.
    let failed = first.as_ref().err().cloned();
    let mut best = first.unwrap_or(QueryPlan { root: None });
    let mut best_cost = match failed {
        Some(_) => (usize::MAX, usize::MAX),
        None => cost(&best),
    };
    let mut choices = Choices::default();
    let mut trials = 0;
    'search: for (choice, graphs) in &alternatives {
        for &graph in graphs {
            if trials == MAX_TRIALS || (best_cost.0 <= 1 && best_cost.1 <= 1) {
                break 'search;
            }
            trials += 1;
            let trial = choices.with(choice, graph);
            let mut builder = Builder::new(sg, labels, cancelled);
            builder.root_choices = trial.root.clone();
            builder.jump_choices = trial.jump.clone();
            // A choice that cannot be planned is just not taken.
            if let Ok(plan) = builder.plan(doc, operation) {
                let c = cost(&plan);
                if c < best_cost {
                    best = plan;
                    best_cost = c;
                    choices = trial;
                }
            }
        }
    }
    match failed {
        Some(e) if best_cost.0 == usize::MAX => Err(e),
        _ => Ok(best),
    }
}
