//! A small, owned selection-set tree that the planner builds subgraph
//! operations with, and that the executor walks.
//!
//! Named fragments are inlined; `@skip`/`@include` stay on the selections
//! they were written on.

use std::fmt::Write;

use apollo_compiler::ast::{Argument, DirectiveList};
use apollo_compiler::executable;
use apollo_compiler::{Name, Node};

/// One selection: a field or an inline fragment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Selection {
    /// A field, with its sub-selections.
    Field(Field),
    /// An inline fragment (fragment spreads are inlined into these).
    Fragment(Fragment),
}

/// A field selection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Field {
    /// The alias, when the field has one.
    pub alias: Option<Name>,
    /// The field's name.
    pub name: Name,
    /// Arguments, as written (they may use variables).
    pub arguments: Vec<Node<Argument>>,
    /// `@skip`/`@include` (and other executable directives).
    pub directives: DirectiveList,
    /// Sub-selections; empty for leaf fields.
    pub selections: Vec<Selection>,
}

/// An inline fragment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fragment {
    /// The type condition, if any.
    pub type_condition: Option<Name>,
    /// Directives on the fragment.
    pub directives: DirectiveList,
    /// The fragment's selections.
    pub selections: Vec<Selection>,
}

impl Field {
    /// A field with no alias, arguments or sub-selections.
    pub fn leaf(name: Name) -> Self {
        Field {
            alias: None,
            name,
            arguments: vec![],
            directives: DirectiveList::new(),
            selections: vec![],
        }
    }

    /// The key this field has in a response: its alias, or its name.
    pub fn response_key(&self) -> &Name {
        self.alias.as_ref().unwrap_or(&self.name)
    }

    /// True when `other` selects the same thing (its sub-selections aside).
    pub fn same_head(&self, other: &Field) -> bool {
        self.response_key() == other.response_key()
            && self.name == other.name
            && self.arguments == other.arguments
            && self.directives == other.directives
    }

    /// A copy of this field without its sub-selections.
    pub fn head(&self) -> Field {
        Field {
            selections: vec![],
            ..self.clone()
        }
    }
}

impl Fragment {
    /// A copy of this fragment without its selections.
    pub fn head(&self) -> Fragment {
        Fragment {
            selections: vec![],
            ..self.clone()
        }
    }
}

/// Converts an apollo-compiler selection set, inlining named fragments.
pub fn from_executable(
    set: &executable::SelectionSet,
    doc: &executable::ExecutableDocument,
) -> Vec<Selection> {
    let mut out = Vec::with_capacity(set.selections.len());
    for sel in &set.selections {
        if never_included(sel.directives()) {
            continue;
        }
        match sel {
            executable::Selection::Field(f) => {
                let mut selections = from_executable(&f.selection_set, doc);
                if !f.selection_set.selections.is_empty() {
                    guard_empty(&mut selections);
                }
                out.push(Selection::Field(Field {
                    alias: f.alias.clone(),
                    name: f.name.clone(),
                    arguments: f.arguments.clone(),
                    directives: f.directives.clone(),
                    selections,
                }))
            }
            executable::Selection::InlineFragment(i) => out.push(Selection::Fragment(Fragment {
                type_condition: i.type_condition.clone(),
                directives: i.directives.clone(),
                selections: from_executable(&i.selection_set, doc),
            })),
            executable::Selection::FragmentSpread(s) => {
                if let Some(def) = doc.fragments.get(&s.fragment_name) {
                    out.push(Selection::Fragment(Fragment {
                        type_condition: Some(def.type_condition().clone()),
                        directives: s.directives.clone(),
                        selections: from_executable(&def.selection_set, doc),
                    }))
                }
            }
        }
    }
    out
}

/// Whether a field's selections may select nothing at run time: none is
/// left (all were `@skip(if: true)`), or each depends on a variable's
/// `@skip`/`@include`. (Type conditions need no help: at an abstract
/// position the planner asks for `__typename` anyway.) Such a field gets a
/// `__typename` in subgraph operations: a selection set is never empty, and
/// a subgraph never sees an object with nothing selected (some servers,
/// async-graphql's dynamic schemas among them, answer `null` for one where
/// GraphQL says `{}`). The client's answer is projected from its own
/// operation, so the extra field never reaches it.
pub(crate) fn may_be_empty(set: &[Selection]) -> bool {
    set.iter().all(|s| match s {
        Selection::Field(f) => conditional(&f.directives),
        Selection::Fragment(fr) => conditional(&fr.directives) || may_be_empty(&fr.selections),
    })
}

/// Adds `__typename` to `set` when it may select nothing at run time (see
/// [`may_be_empty`]).
pub(crate) fn guard_empty(set: &mut Vec<Selection>) {
    if may_be_empty(set) {
        set.push(Selection::Field(Field::leaf(apollo_compiler::name!(
            "__typename"
        ))));
    }
}

/// Whether `directives` hold a `@skip` or `@include` on a variable.
fn conditional(directives: &DirectiveList) -> bool {
    directives.iter().any(|d| {
        matches!(d.name.as_str(), "skip" | "include")
            && d.specified_argument_by_name("if")
                .is_some_and(|v| v.as_variable().is_some())
    })
}

/// True for `@skip(if: true)` or `@include(if: false)` with a literal:
/// such selections are left out of plans altogether.
fn never_included(directives: &DirectiveList) -> bool {
    directives.iter().any(|d| {
        let literal = d.specified_argument_by_name("if").and_then(|v| v.to_bool());
        matches!(
            (d.name.as_str(), literal),
            ("skip", Some(true)) | ("include", Some(false))
        )
    })
}

/// Adds `field` (head only) to `set` unless an identical head is there;
/// returns the index of the field in `set`.
pub fn field_index(set: &mut Vec<Selection>, field: &Field) -> usize {
    if let Some(i) = set
        .iter()
        .position(|s| matches!(s, Selection::Field(f) if f.same_head(field)))
    {
        return i;
    }
    set.push(Selection::Field(field.head()));
    set.len() - 1
}

/// Adds `frag` (head only) to `set` unless an identical head is there;
/// returns its index.
pub fn fragment_index(set: &mut Vec<Selection>, frag: &Fragment) -> usize {
    if let Some(i) = set.iter().position(|s| {
        matches!(s, Selection::Fragment(f)
            if f.type_condition == frag.type_condition && f.directives == frag.directives)
    }) {
        return i;
    }
    set.push(Selection::Fragment(frag.head()));
    set.len() - 1
}

/// Merges `add` into `set`, combining fields and fragments with equal heads.
pub fn merge_into(set: &mut Vec<Selection>, add: &[Selection]) {
    for s in add {
        match s {
            Selection::Field(f) => {
                let i = field_index(set, f);
                if let Selection::Field(target) = &mut set[i] {
                    merge_into(&mut target.selections, &f.selections);
                }
            }
            Selection::Fragment(fr) => {
                let i = fragment_index(set, fr);
                if let Selection::Fragment(target) = &mut set[i] {
                    merge_into(&mut target.selections, &fr.selections);
                }
            }
        }
    }
}

/// The sub-selections of `set`, one element of a path at a time.
pub fn children_mut<'a>(set: &'a mut Vec<Selection>, step: &Step) -> &'a mut Vec<Selection> {
    match step {
        Step::Field(f) => {
            let i = field_index(set, f);
            match &mut set[i] {
                Selection::Field(f) => &mut f.selections,
                Selection::Fragment(_) => unreachable!("field_index returns a field"),
            }
        }
        Step::Fragment(fr) => {
            let i = fragment_index(set, fr);
            match &mut set[i] {
                Selection::Fragment(f) => &mut f.selections,
                Selection::Field(_) => unreachable!("fragment_index returns a fragment"),
            }
        }
    }
}

/// One step down a selection tree: into a field or a fragment.
#[derive(Debug, Clone)]
pub enum Step {
    /// Into a field (its head: alias, name, arguments, directives).
    Field(Field),
    /// Into an inline fragment.
    Fragment(Fragment),
}

/// The selections at `path` under `set`, created as needed.
pub fn at_path<'a>(mut set: &'a mut Vec<Selection>, path: &[Step]) -> &'a mut Vec<Selection> {
    for step in path {
        set = children_mut(set, step);
    }
    set
}

/// Writes a selection set in GraphQL syntax (compact, one line).
pub fn write_selections(out: &mut String, set: &[Selection]) {
    out.push('{');
    for (i, s) in set.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        match s {
            Selection::Field(f) => {
                if let Some(a) = &f.alias {
                    let _ = write!(out, "{a}:");
                }
                out.push_str(&f.name);
                if !f.arguments.is_empty() {
                    out.push('(');
                    for (j, a) in f.arguments.iter().enumerate() {
                        if j > 0 {
                            out.push_str(", ");
                        }
                        let _ = write!(out, "{}: {}", a.name, a.value.serialize().no_indent());
                    }
                    out.push(')');
                }
                for d in f.directives.iter() {
                    let _ = write!(out, " {}", d.serialize().no_indent());
                }
                if !f.selections.is_empty() {
                    out.push(' ');
                    write_selections(out, &f.selections);
                }
            }
            Selection::Fragment(fr) => {
                out.push_str("...");
                if let Some(t) = &fr.type_condition {
                    let _ = write!(out, " on {t}");
                }
                for d in fr.directives.iter() {
                    let _ = write!(out, " {}", d.serialize().no_indent());
                }
                out.push(' ');
                write_selections(out, &fr.selections);
            }
        }
    }
    out.push('}');
}

/// Calls `f` on the name of every variable used in `set`.
pub fn visit_variables(set: &[Selection], f: &mut impl FnMut(&Name)) {
    fn in_value(v: &apollo_compiler::ast::Value, f: &mut impl FnMut(&Name)) {
        use apollo_compiler::ast::Value;
        match v {
            Value::Variable(n) => f(n),
            Value::List(l) => l.iter().for_each(|v| in_value(v, f)),
            Value::Object(o) => o.iter().for_each(|(_, v)| in_value(v, f)),
            _ => {}
        }
    }
    fn in_directives(ds: &DirectiveList, f: &mut impl FnMut(&Name)) {
        for d in ds.iter() {
            for a in &d.arguments {
                in_value(&a.value, f);
            }
        }
    }
    for s in set {
        match s {
            Selection::Field(fl) => {
                for a in &fl.arguments {
                    in_value(&a.value, f);
                }
                in_directives(&fl.directives, f);
                visit_variables(&fl.selections, f);
            }
            Selection::Fragment(fr) => {
                in_directives(&fr.directives, f);
                visit_variables(&fr.selections, f);
            }
        }
    }
}
