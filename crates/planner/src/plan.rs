//! Query plans: what the executor runs, and their readable text form.

use std::fmt;

use apollo_compiler::ast::OperationType;
use apollo_compiler::Name;

use crate::selection::{write_selections, Selection};

/// A plan for one operation.
#[derive(Debug, Clone)]
pub struct QueryPlan {
    /// The root node; `None` when nothing needs fetching (introspection only).
    pub root: Option<PlanNode>,
}

/// A node of a plan.
#[derive(Debug, Clone)]
pub enum PlanNode {
    /// Children run one after another.
    Sequence(Vec<PlanNode>),
    /// Children run at the same time.
    Parallel(Vec<PlanNode>),
    /// One subgraph request.
    Fetch(Box<FetchNode>),
    /// A fetch whose input and output sit at `path` in the response.
    Flatten(FlattenNode),
    /// A node that runs only when a boolean variable has a given value
    /// (from `@include(if: $v)` / `@skip(if: $v)`).
    Condition(ConditionNode),
}

/// A node guarded by a variable.
#[derive(Debug, Clone)]
pub struct ConditionNode {
    /// The variable (a coerced `Boolean!`).
    pub variable: Name,
    /// `true` for `@include`, `false` for `@skip`.
    pub expected: bool,
    /// What runs when `$variable == expected`.
    pub node: Box<PlanNode>,
}

/// An entity fetch positioned at a response path.
#[derive(Debug, Clone)]
pub struct FlattenNode {
    /// Where the entities are in the response.
    pub path: Vec<PathElement>,
    /// Further paths served by the same fetch (its representations are
    /// collected from every path, and each entity sent once).
    pub also: Vec<Vec<PathElement>>,
    /// The fetch (always a [`PlanNode::Fetch`]).
    pub node: Box<PlanNode>,
}

/// One element of a response path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathElement {
    /// A field, by response key.
    Key(Name),
    /// Every element of a list (`@`).
    List,
}

/// A request to one subgraph.
#[derive(Debug, Clone)]
pub struct FetchNode {
    /// The subgraph's name.
    pub service: String,
    /// The subgraph's index in the supergraph.
    pub graph: usize,
    /// The operation kind sent (entity fetches are queries).
    pub kind: OperationType,
    /// The subgraph operation's text.
    pub operation: String,
    /// The client variables the operation uses.
    pub variable_usages: Vec<Name>,
    /// For entity fetches: what each representation holds, as inline
    /// fragments on the entity types (`... on T { __typename id }`).
    pub requires: Vec<Selection>,
    /// For entity fetches: representations of these types are sent with
    /// `__typename` rewritten (an `@interfaceObject` is entered by its interface name).
    pub typename_rewrites: Vec<(Name, Name)>,
    /// The operation aliases fields with [`crate::build::ALIAS_PREFIX`]
    /// (`_goliath_alias_N_key`): the response needs those keys restored.
    pub has_aliases: bool,
    /// The operation selects under type conditions (`... on T`): an answer
    /// may hold objects of several types (the executor checks that a root
    /// fetch's are the subgraph's own).
    pub has_type_conditions: bool,
}

impl FetchNode {
    /// True for `_entities` fetches.
    pub fn is_entity_fetch(&self) -> bool {
        !self.requires.is_empty()
    }
}

impl fmt::Display for QueryPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "QueryPlan {{")?;
        if let Some(root) = &self.root {
            root.write(f, 1)?;
        }
        writeln!(f, "}}")
    }
}

fn indent(f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
    for _ in 0..depth {
        f.write_str("  ")?;
    }
    Ok(())
}

/// Renders a response path as `a.@.b`.
pub fn path_string(path: &[PathElement]) -> String {
    path.iter()
        .map(|p| match p {
            PathElement::Key(k) => k.as_str(),
            PathElement::List => "@",
        })
        .collect::<Vec<_>>()
        .join(".")
}

impl PlanNode {
    fn write(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        match self {
            PlanNode::Sequence(children) | PlanNode::Parallel(children) => {
                indent(f, depth)?;
                let name = if matches!(self, PlanNode::Sequence(_)) {
                    "Sequence"
                } else {
                    "Parallel"
                };
                writeln!(f, "{name} {{")?;
                for c in children {
                    c.write(f, depth + 1)?;
                }
                indent(f, depth)?;
                writeln!(f, "}}")
            }
            PlanNode::Flatten(fl) => {
                indent(f, depth)?;
                write!(f, "Flatten(path: \"{}\"", path_string(&fl.path))?;
                for p in &fl.also {
                    write!(f, ", \"{}\"", path_string(p))?;
                }
                writeln!(f, ") {{")?;
                fl.node.write(f, depth + 1)?;
                indent(f, depth)?;
                writeln!(f, "}}")
            }
            PlanNode::Condition(c) => {
                indent(f, depth)?;
                let kind = if c.expected { "Include" } else { "Skip" };
                writeln!(f, "{kind}(if: ${}) {{", c.variable)?;
                c.node.write(f, depth + 1)?;
                indent(f, depth)?;
                writeln!(f, "}}")
            }
            PlanNode::Fetch(fetch) => {
                indent(f, depth)?;
                writeln!(f, "Fetch(service: \"{}\") {{", fetch.service)?;
                if !fetch.requires.is_empty() {
                    let mut s = String::new();
                    write_selections(&mut s, &fetch.requires);
                    indent(f, depth + 1)?;
                    writeln!(f, "{s} =>")?;
                }
                indent(f, depth + 1)?;
                writeln!(f, "{}", fetch.operation)?;
                indent(f, depth)?;
                writeln!(f, "}}")
            }
        }
    }

    /// Every fetch in this subtree, in plan order.
    pub fn fetches(&self) -> Vec<&FetchNode> {
        let mut out = vec![];
        self.collect_fetches(&mut out);
        out
    }

    fn collect_fetches<'a>(&'a self, out: &mut Vec<&'a FetchNode>) {
        match self {
            PlanNode::Sequence(c) | PlanNode::Parallel(c) => {
                c.iter().for_each(|n| n.collect_fetches(out))
            }
            PlanNode::Flatten(fl) => fl.node.collect_fetches(out),
            PlanNode::Condition(c) => c.node.collect_fetches(out),
            PlanNode::Fetch(fetch) => out.push(fetch),
        }
    }
}
