//! Shared helpers for the planner tests: a supergraph SDL builder with the
//! federation boilerplate, planning shortcuts, and structural views of plans.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet};

use apollo_compiler::{ast, ExecutableDocument, Node};
use goliath_planner::build::ALIAS_PREFIX;
use goliath_planner::selection::write_selections;
use goliath_planner::{FetchNode, PlanError, QueryPlan};
use goliath_supergraph::{Supergraph, SupergraphError};

/// The `schema` definition and every `join`/`link`/`inaccessible`
/// definition a Federation v2 (join v0.3) supergraph carries.
pub const HEADER: &str = r#"
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
  @link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)
{
  query: Query
  MUTATION_PLACEHOLDER
}

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE
directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean, overrideLabel: String) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION
directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

scalar join__FieldSet
scalar link__Import

enum link__Purpose {
  """`SECURITY` features provide metadata necessary to securely resolve fields."""
  SECURITY
  """`EXECUTION` features provide metadata necessary for operation execution."""
  EXECUTION
}
"#;

/// A complete supergraph SDL: the header, a `join__Graph` enum with one
/// value per subgraph name (the value is [`enum_value`], the URL
/// `http://<name>`), and `body`. A `type Mutation` in `body` is wired into
/// the schema definition.
pub fn sdl(graphs: &[&str], body: &str) -> String {
    let mutation = if body.contains("type Mutation") {
        "mutation: Mutation"
    } else {
        ""
    };
    let mut out = HEADER.replace("MUTATION_PLACEHOLDER", mutation);
    out.push_str("\nenum join__Graph {\n");
    for g in graphs {
        out.push_str(&format!(
            "  {} @join__graph(name: \"{g}\", url: \"http://{g}\")\n",
            enum_value(g)
        ));
    }
    out.push_str("}\n");
    out.push_str(body);
    out
}

/// The `join__Graph` value [`sdl`] gives subgraph `name`: upper-cased, `-` as `_`.
pub fn enum_value(name: &str) -> String {
    name.to_uppercase().replace('-', "_")
}

/// Parses a supergraph built by [`sdl`], panicking with the error.
pub fn supergraph(graphs: &[&str], body: &str) -> Supergraph {
    let text = sdl(graphs, body);
    match Supergraph::parse(&text) {
        Ok(sg) => sg,
        Err(e) => panic!("supergraph does not load: {e}\n{text}"),
    }
}

/// Loads a supergraph built by [`sdl`], returning the error.
pub fn try_supergraph(graphs: &[&str], body: &str) -> Result<Supergraph, SupergraphError> {
    Supergraph::parse(&sdl(graphs, body))
}

/// Parses and validates `query` against the API schema.
pub fn document(sg: &Supergraph, query: &str) -> ExecutableDocument {
    match ExecutableDocument::parse_and_validate(&sg.api_schema, query, "query.graphql") {
        Ok(doc) => doc.into_inner(),
        Err(e) => panic!("query does not validate: {}\n{query}", e.errors),
    }
}

/// Plans the only (or first) operation of `query` with `labels` switched on.
pub fn try_plan_with(
    sg: &Supergraph,
    query: &str,
    labels: &[&str],
) -> Result<QueryPlan, PlanError> {
    let doc = document(sg, query);
    let op = doc
        .operations
        .iter()
        .next()
        .expect("the document has an operation");
    let labels: HashSet<String> = labels.iter().map(|l| l.to_string()).collect();
    goliath_planner::plan(sg, &doc, op, &labels)
}

/// Plans `query` without override labels.
pub fn try_plan(sg: &Supergraph, query: &str) -> Result<QueryPlan, PlanError> {
    try_plan_with(sg, query, &[])
}

/// Plans `query`, panicking on a planning error.
pub fn plan(sg: &Supergraph, query: &str) -> QueryPlan {
    plan_with(sg, query, &[])
}

/// Plans `query` with `labels`, panicking on a planning error. Every
/// subgraph operation of the plan must parse as a GraphQL document.
pub fn plan_with(sg: &Supergraph, query: &str, labels: &[&str]) -> QueryPlan {
    let plan = match try_plan_with(sg, query, labels) {
        Ok(p) => p,
        Err(e) => panic!("planning failed: {e}\n{query}"),
    };
    assert_operations_parse(&plan);
    plan
}

/// Asserts that every fetch's operation is one syntactically valid
/// GraphQL operation of the fetch's kind.
#[track_caller]
pub fn assert_operations_parse(plan: &QueryPlan) {
    for f in fetches(plan) {
        let doc = match ast::Document::parse(&f.operation, "fetch.graphql") {
            Ok(doc) => doc,
            Err(e) => panic!(
                "fetch to {} does not parse: {}\n{plan}",
                f.service, e.errors
            ),
        };
        let ops: Vec<&Node<ast::OperationDefinition>> = doc
            .definitions
            .iter()
            .filter_map(|d| match d {
                ast::Definition::OperationDefinition(op) => Some(op),
                _ => None,
            })
            .collect();
        assert_eq!(
            ops.len(),
            1,
            "fetch to {} is not one operation\n{plan}",
            f.service
        );
        assert_eq!(ops[0].operation_type, f.kind, "{plan}");
    }
}

/// Asserts that, in every fetch, response keys stay unambiguous once the
/// executor removes the planner's `_goliath_alias_N_` prefixes: one
/// response key never stands for two different fields (name or
/// arguments) in one selection set (type-less inline fragments merged in).
#[track_caller]
pub fn assert_response_keys_unambiguous(plan: &QueryPlan) {
    fn unaliased(key: &str) -> &str {
        match key.strip_prefix(ALIAS_PREFIX) {
            Some(rest) => rest.split_once('_').map(|(_, k)| k).unwrap_or(rest),
            None => key,
        }
    }
    fn scope<'a>(set: &'a [ast::Selection], out: &mut Vec<&'a Node<ast::Field>>) {
        for s in set {
            match s {
                ast::Selection::Field(f) => out.push(f),
                ast::Selection::InlineFragment(i) if i.type_condition.is_none() => {
                    scope(&i.selection_set, out)
                }
                _ => {}
            }
        }
    }
    fn check(set: &[ast::Selection], service: &str, plan: &QueryPlan) {
        let mut fields = vec![];
        scope(set, &mut fields);
        let mut seen: HashMap<&str, (String, String)> = HashMap::new();
        for f in &fields {
            let key = unaliased(f.alias.as_ref().unwrap_or(&f.name).as_str());
            let args: Vec<String> = f
                .arguments
                .iter()
                .map(|a| format!("{}:{}", a.name, a.value))
                .collect();
            let this = (f.name.to_string(), args.join(","));
            if let Some(prev) = seen.get(key) {
                assert_eq!(
                    prev, &this,
                    "in the fetch to {service}, response key {key:?} holds two different fields\n{plan}"
                );
            }
            seen.insert(key, this);
        }
        for s in set {
            match s {
                ast::Selection::Field(f) => check(&f.selection_set, service, plan),
                ast::Selection::InlineFragment(i) => check(&i.selection_set, service, plan),
                ast::Selection::FragmentSpread(_) => {}
            }
        }
    }
    for f in fetches(plan) {
        let doc = ast::Document::parse(&f.operation, "fetch.graphql").expect("fetch parses");
        for d in &doc.definitions {
            if let ast::Definition::OperationDefinition(op) = d {
                check(&op.selection_set, &f.service, plan);
            }
        }
    }
}

/// Every fetch of the plan, in plan order.
pub fn fetches(plan: &QueryPlan) -> Vec<&FetchNode> {
    plan.root.as_ref().map(|r| r.fetches()).unwrap_or_default()
}

/// `(service, operation)` of every fetch, in plan order.
pub fn fetch_list(plan: &QueryPlan) -> Vec<(String, String)> {
    fetches(plan)
        .into_iter()
        .map(|f| (f.service.clone(), f.operation.clone()))
        .collect()
}

/// The services fetched from, in plan order.
pub fn services(plan: &QueryPlan) -> Vec<String> {
    fetches(plan).iter().map(|f| f.service.clone()).collect()
}

/// The representation shape of an entity fetch, as GraphQL text.
pub fn requires_text(fetch: &FetchNode) -> String {
    let mut s = String::new();
    write_selections(&mut s, &fetch.requires);
    s
}

/// A compact view of a plan's structure, read from its text form so that
/// it covers every kind of node: `Seq[Fetch(a), Par[Flatten(x.@, Fetch(b)),
/// Fetch(c)]]`. Other nodes keep their heading: `Skip(if: $v)[Fetch(a)]`.
pub fn shape(plan: &QueryPlan) -> String {
    let text = plan.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.first(), Some(&"QueryPlan {"), "{text}");
    assert_eq!(lines.last(), Some(&"}"), "{text}");
    let body = &lines[1..lines.len() - 1];
    let mut i = 0;
    let mut nodes = vec![];
    while i < body.len() {
        nodes.push(shape_node(body, &mut i));
    }
    nodes.join(", ")
}

fn shape_node(lines: &[&str], i: &mut usize) -> String {
    let line = lines[*i];
    let indent = line.len() - line.trim_start().len();
    let close = format!("{}}}", " ".repeat(indent));
    let head = line
        .trim()
        .strip_suffix(" {")
        .unwrap_or_else(|| panic!("not a plan node heading: {line:?}"));
    *i += 1;
    if let Some(service) = head.strip_prefix("Fetch(service: \"") {
        while lines[*i] != close {
            *i += 1;
        }
        *i += 1;
        return format!("Fetch({})", service.trim_end_matches("\")"));
    }
    let mut children = vec![];
    while lines[*i] != close {
        children.push(shape_node(lines, i));
    }
    *i += 1;
    let children = children.join(", ");
    match head {
        "Sequence" => format!("Seq[{children}]"),
        "Parallel" => format!("Par[{children}]"),
        _ => match head.strip_prefix("Flatten(path: \"") {
            // Several paths (one fetch serving them all) read `a.@|b.@`.
            Some(path) => format!(
                "Flatten({}, {children})",
                path.trim_end_matches("\")").replace("\", \"", "|")
            ),
            None => format!("{head}[{children}]"),
        },
    }
}

/// The fetch to `service`; panics unless there is exactly one.
pub fn only_fetch_to<'a>(plan: &'a QueryPlan, service: &str) -> &'a FetchNode {
    let matching: Vec<&FetchNode> = fetches(plan)
        .into_iter()
        .filter(|f| f.service == service)
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "expected exactly one fetch to {service} in\n{plan}"
    );
    matching[0]
}

/// Asserts that the plan's fetches are exactly `expected` `(service, operation)` pairs, in order.
#[track_caller]
pub fn assert_fetches(plan: &QueryPlan, expected: &[(&str, &str)]) {
    let actual = fetch_list(plan);
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(s, o)| (s.to_string(), o.to_string()))
        .collect();
    assert_eq!(actual, expected, "unexpected fetches in\n{plan}");
}

/// Subgraph names of [`SHOP`].
pub const SHOP_GRAPHS: &[&str] = &["products", "reviews", "inventory"];

/// A small shop: products own products and users, reviews owns reviews and
/// adds `Product.reviews`, inventory adds stock and a shipping estimate
/// that `@requires` the price and weight.
pub const SHOP: &str = r#"
type Query @join__type(graph: PRODUCTS) @join__type(graph: REVIEWS) @join__type(graph: INVENTORY) {
  products: [Product] @join__field(graph: PRODUCTS)
  product(id: ID!): Product @join__field(graph: PRODUCTS)
  topReviews(first: Int = 5): [Review] @join__field(graph: REVIEWS)
  warehouse: [Product] @join__field(graph: INVENTORY)
  me: User @join__field(graph: PRODUCTS) @join__field(graph: REVIEWS)
}
type Mutation @join__type(graph: PRODUCTS) @join__type(graph: REVIEWS) {
  addProduct(name: String!): Product @join__field(graph: PRODUCTS)
  renameProduct(id: ID!, name: String!): Product @join__field(graph: PRODUCTS)
  addReview(productId: ID!, body: String!): Review @join__field(graph: REVIEWS)
}
type User @join__type(graph: PRODUCTS, key: "id") @join__type(graph: REVIEWS, key: "id") {
  id: ID!
  name: String @join__field(graph: PRODUCTS)
  reviews: [Review] @join__field(graph: REVIEWS)
}
type Product
  @join__type(graph: PRODUCTS, key: "id")
  @join__type(graph: REVIEWS, key: "id")
  @join__type(graph: INVENTORY, key: "id")
{
  id: ID!
  name: String @join__field(graph: PRODUCTS)
  price: Int @join__field(graph: PRODUCTS) @join__field(graph: INVENTORY, external: true)
  weight: Int @join__field(graph: PRODUCTS) @join__field(graph: INVENTORY, external: true)
  reviews(first: Int): [Review] @join__field(graph: REVIEWS)
  inStock: Boolean @join__field(graph: INVENTORY)
  shippingEstimate: Int @join__field(graph: INVENTORY, requires: "price weight")
}
type Review @join__type(graph: REVIEWS, key: "id") {
  id: ID!
  body: String
  author: User
  product: Product
}
"#;

/// [`SHOP`], loaded.
pub fn shop() -> Supergraph {
    supergraph(SHOP_GRAPHS, SHOP)
}

/// The `_entities` operation text around `selections` (no operation name,
/// no client variables).
pub fn entities(selections: &str) -> String {
    format!(
        "query($representations: [_Any!]!) {{_entities(representations: $representations) {selections}}}"
    )
}
