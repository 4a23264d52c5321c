//! `@cost` and `@listSize` read from a supergraph, under the names its cost
//! link gives them, and kept out of the API schema.

use goliath_supergraph::{ListSize, Supergraph};

/// A one-subgraph supergraph with `link` (the cost spec's) on the schema,
/// `cost` and `list_size` as the directives' names.
fn supergraph(link: &str, cost: &str, list_size: &str) -> String {
    format!(
        r#"schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)
  {link}
{{
  query: Query
}}

directive @{cost}(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR
directive @{list_size}(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION
directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean, overrideLabel: String) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

scalar join__FieldSet
scalar link__Import
enum link__Purpose {{ SECURITY EXECUTION }}
enum join__Graph {{ A @join__graph(name: "a", url: "http://a") }}

scalar Money @join__type(graph: A) @{cost}(weight: 3)
enum Kind @join__type(graph: A) @{cost}(weight: 4) {{ BIG SMALL }}
input Filter @join__type(graph: A) {{ min: Int @{cost}(weight: 2) max: Int }}

type Query @join__type(graph: A) {{
  items(first: Int, filter: Filter @{cost}(weight: 6)): [Item] @{list_size}(slicingArguments: ["first"], sizedFields: ["x"], requireOneSlicingArgument: false)
  total: Money @{cost}(weight: 5)
  plain: Int
}}

type Item @join__type(graph: A) @{cost}(weight: 7) {{
  kind: Kind
  tags: [String] @{list_size}(assumedSize: 9)
}}
"#
    )
}

fn check(sg: &Supergraph) {
    let costs = &sg.costs;
    assert_eq!(costs.type_weight("Item"), Some(7.0));
    assert_eq!(costs.type_weight("Money"), Some(3.0));
    assert_eq!(costs.type_weight("Kind"), Some(4.0));
    assert_eq!(costs.type_weight("Query"), None);
    assert_eq!(costs.input_field_weight("Filter", "min"), Some(2.0));
    assert_eq!(costs.input_field_weight("Filter", "max"), None);
    assert_eq!(costs.field("Query", "total").unwrap().weight, Some(5.0));
    assert!(costs.field("Query", "plain").is_none());
    let items = costs.field("Query", "items").unwrap();
    assert_eq!(items.weight, None);
    assert_eq!(items.arguments.get("filter"), Some(&6.0));
    assert_eq!(
        items.list_size,
        Some(ListSize {
            assumed_size: None,
            slicing_arguments: Some(vec!["first".into()]),
            sized_fields: Some(vec!["x".into()]),
            require_one_slicing_argument: false,
        })
    );
    let tags = costs
        .field("Item", "tags")
        .unwrap()
        .list_size
        .clone()
        .unwrap();
    assert_eq!(tags.assumed_size, Some(9));
    assert!(tags.require_one_slicing_argument, "the default");
    // Clients see none of it.
    let api = sg.api_schema.to_string();
    for name in [
        costs.cost_name.as_deref().unwrap(),
        costs.list_size_name.as_deref().unwrap(),
    ] {
        assert!(!api.contains(&format!("@{name}")), "@{name} in\n{api}");
    }
}

#[test]
fn default_names_with_list_size_imported() {
    let link = r#"@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])"#;
    let sg = Supergraph::parse(&supergraph(link, "cost", "listSize")).unwrap();
    assert_eq!(sg.costs.cost_name.as_deref(), Some("cost"));
    assert_eq!(sg.costs.list_size_name.as_deref(), Some("listSize"));
    check(&sg);
}

#[test]
fn renamed_imports_and_prefixed_names() {
    let link = r#"@link(url: "https://specs.apollo.dev/cost/v0.1", import: [{name: "@cost", as: "@myCost"}])"#;
    let sg = Supergraph::parse(&supergraph(link, "myCost", "cost__listSize")).unwrap();
    assert_eq!(sg.costs.cost_name.as_deref(), Some("myCost"));
    assert_eq!(sg.costs.list_size_name.as_deref(), Some("cost__listSize"));
    check(&sg);
    let link = r#"@link(url: "https://specs.apollo.dev/cost/v0.1", as: "price", import: [{name: "@listSize", as: "@cartSize"}])"#;
    let sg = Supergraph::parse(&supergraph(link, "price", "cartSize")).unwrap();
    check(&sg);
}

#[test]
fn without_a_cost_link_there_are_no_weights() {
    // Directives that happen to be called @cost are someone else's.
    let sdl = supergraph("", "cost", "listSize");
    let sg = Supergraph::parse(&sdl).unwrap();
    assert!(sg.costs.is_empty());
    assert_eq!(sg.costs.cost_name, None);
    assert!(sg.costs.field("Query", "total").is_none());
}
