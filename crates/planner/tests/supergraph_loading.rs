//! `Supergraph::parse`: what it refuses, and the model and API schema it
//! builds for the planner.

mod common;

use common::*;
use goliath_supergraph::{Supergraph, SupergraphError, TypeKind};

const SMALL: &str = r#"
type Query @join__type(graph: A) @join__type(graph: B) {
  products: [Product] @join__field(graph: A)
}
type Product @join__type(graph: A, key: "id") @join__type(graph: B, key: "id", resolvable: false) {
  id: ID!
  name: String @join__field(graph: A)
}
"#;

#[test]
fn loads_graphs_types_and_keys() {
    let sg = supergraph(&["a", "b-svc"], &SMALL.replace("graph: B", "graph: B_SVC"));
    let names: Vec<&str> = sg.graphs.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["a", "b-svc"]);
    assert_eq!(sg.graphs[1].url, "http://b-svc");
    assert_eq!(sg.graphs[1].enum_value, "B_SVC");
    assert_eq!(sg.graph_by_name("b-svc"), Some(1));
    assert_eq!(sg.graph_by_name("B_SVC"), None);

    let product = sg.type_info("Product").expect("Product is in the model");
    assert_eq!(product.kind, TypeKind::Object);
    assert!(product.is_entity());
    let in_a = product.in_graph(0).unwrap();
    let in_b = product.in_graph(1).unwrap();
    assert_eq!(in_a.keys.len(), 1);
    assert_eq!(in_a.keys[0].fields, "id");
    assert!(in_a.keys[0].resolvable);
    assert!(!in_b.keys[0].resolvable, "resolvable: false is kept");
    // A field without @join__field belongs to every subgraph of its type.
    let id_graphs: Vec<usize> = product.fields["id"]
        .graphs
        .iter()
        .map(|f| f.graph)
        .collect();
    assert_eq!(id_graphs, [0, 1]);
    assert!(sg.field_in_graph("Product", "name", 0).is_some());
    assert!(sg.field_in_graph("Product", "name", 1).is_none());
    // The machinery is not part of the model or the API schema.
    assert!(sg.type_info("join__Graph").is_none());
    assert!(sg.type_info("link__Purpose").is_none());
    assert!(sg.api_schema.types.get("join__Graph").is_none());
    assert!(sg
        .api_schema
        .directive_definitions
        .get("join__field")
        .is_none());
    assert!(sg.schema.types.get("join__Graph").is_some());
}

#[test]
fn a_schema_without_the_join_link_is_not_a_supergraph() {
    let err = Supergraph::parse("type Query { a: String }").unwrap_err();
    assert!(
        matches!(err, SupergraphError::Unsupported(_)),
        "expected Unsupported, got {err:?}"
    );
    assert!(err.to_string().contains("join"), "{err}");

    // All the join machinery, but no @link to the join spec.
    let text = sdl(&["a"], "type Query @join__type(graph: A) { a: String }").replace(
        "@link(url: \"https://specs.apollo.dev/join/v0.3\", for: EXECUTION)",
        "",
    );
    let err = Supergraph::parse(&text).unwrap_err();
    assert!(matches!(err, SupergraphError::Unsupported(_)), "{err:?}");
    assert!(err.to_string().contains("join"), "{err}");
}

#[test]
fn invalid_sdl_is_an_invalid_schema() {
    let err = Supergraph::parse("type Query { a: String").unwrap_err();
    assert!(matches!(err, SupergraphError::InvalidSchema(_)), "{err:?}");

    // Parses, but does not validate: an unknown type.
    let err = try_supergraph(&["a"], "type Query @join__type(graph: A) { a: Strin }").unwrap_err();
    assert!(matches!(err, SupergraphError::InvalidSchema(_)), "{err:?}");
    assert!(err.to_string().contains("Strin"), "{err}");
}

#[test]
fn unknown_features_for_execution_or_security_are_unsupported() {
    let body = "type Query @join__type(graph: A) { a: String }";
    for purpose in ["EXECUTION", "SECURITY"] {
        let text = sdl(&["a"], body).replace(
            "@link(url: \"https://specs.apollo.dev/link/v1.0\")",
            &format!(
                "@link(url: \"https://specs.apollo.dev/link/v1.0\")\n  @link(url: \"https://specs.example.com/magic/v1.0\", for: {purpose})"
            ),
        );
        let err = Supergraph::parse(&text).unwrap_err();
        assert!(
            matches!(err, SupergraphError::Unsupported(_)),
            "{purpose}: expected Unsupported, got {err:?}"
        );
        assert!(err.to_string().contains("magic"), "{err}");
    }
    // Without a purpose, an unknown feature is metadata goliath may ignore.
    let text = sdl(&["a"], body).replace(
        "@link(url: \"https://specs.apollo.dev/link/v1.0\")",
        "@link(url: \"https://specs.apollo.dev/link/v1.0\")\n  @link(url: \"https://specs.example.com/magic/v1.0\")",
    );
    assert!(Supergraph::parse(&text).is_ok());
    // Known features linked for a purpose are fine (the header links
    // inaccessible for SECURITY).
    assert!(try_supergraph(&["a"], body).is_ok());
}

#[test]
fn a_join_directive_naming_an_unknown_graph_is_rejected() {
    // `graph:` is a join__Graph enum value, so GraphQL validation already
    // refuses a value the enum does not have.
    for body in [
        "type Query @join__type(graph: A) @join__type(graph: NOPE) { a: String }",
        "type Query @join__type(graph: A) { a: String @join__field(graph: NOPE) }",
    ] {
        let err = try_supergraph(&["a"], body).unwrap_err();
        assert!(
            matches!(
                err,
                SupergraphError::InvalidSchema(_) | SupergraphError::Invalid(_)
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("NOPE"), "{err}");
    }
}

#[test]
fn malformed_join_directives_are_invalid() {
    // A join__Graph value without @join__graph.
    let text = sdl(&["a"], "type Query @join__type(graph: A) { a: String }")
        .replace("enum join__Graph {\n", "enum join__Graph {\n  GHOST\n");
    let err = Supergraph::parse(&text).unwrap_err();
    assert!(matches!(err, SupergraphError::Invalid(_)), "{err:?}");
    assert!(err.to_string().contains("GHOST"), "{err}");

    // A key that names a field the type does not have.
    let err = try_supergraph(
        &["a"],
        r#"
type Query @join__type(graph: A) { t: T }
type T @join__type(graph: A, key: "nope") { id: ID! }
"#,
    )
    .unwrap_err();
    assert!(matches!(err, SupergraphError::Invalid(_)), "{err:?}");
    assert!(err.to_string().contains("nope"), "{err}");
}

const HIDDEN: &str = r#"
type Query @join__type(graph: A) @join__type(graph: B) {
  products: [Product] @join__field(graph: A)
  secrets: [Secret] @inaccessible @join__field(graph: A)
}
type Product @join__type(graph: A, key: "sku") @join__type(graph: B, key: "sku") {
  sku: String! @inaccessible
  name: String @join__field(graph: A)
  cost(currency: String @inaccessible): Int @join__field(graph: A)
  stock: Int @join__field(graph: B)
}
type Secret @inaccessible @join__type(graph: A) { code: String }
"#;

#[test]
fn inaccessible_elements_are_not_in_the_api_schema() {
    let sg = supergraph(&["a", "b"], HIDDEN);
    let api_product = sg.api_schema.get_object("Product").unwrap();
    assert!(api_product.fields.contains_key("name"));
    assert!(!api_product.fields.contains_key("sku"));
    let cost = &api_product.fields["cost"];
    assert!(
        cost.arguments.is_empty(),
        "the inaccessible argument is gone"
    );
    assert!(sg.api_schema.types.get("Secret").is_none());
    assert!(!sg
        .api_schema
        .get_object("Query")
        .unwrap()
        .fields
        .contains_key("secrets"));
    assert!(sg
        .api_schema
        .directive_definitions
        .get("inaccessible")
        .is_none());
    // The supergraph schema and the model keep them: the planner needs the key.
    assert!(sg
        .schema
        .get_object("Product")
        .unwrap()
        .fields
        .contains_key("sku"));
    assert!(sg.type_info("Product").unwrap().fields.contains_key("sku"));
    assert!(sg.type_info("Secret").is_some());

    // Operations using them do not validate against the API schema.
    for query in [
        "{ products { sku } }",
        "{ secrets { code } }",
        "{ products { cost(currency: \"EUR\") } }",
    ] {
        let result = apollo_compiler::ExecutableDocument::parse_and_validate(
            &sg.api_schema,
            query,
            "q.graphql",
        );
        assert!(result.is_err(), "{query} should not validate");
    }
}

#[test]
fn an_inaccessible_key_field_still_carries_entity_jumps() {
    let sg = supergraph(&["a", "b"], HIDDEN);
    let plan = plan(&sg, "{ products { name stock } }");
    assert_fetches(
        &plan,
        &[
            ("a", "query {products {name __typename sku}}"),
            (
                "b",
                "query($representations: [_Any!]!) {_entities(representations: $representations) {... on Product {stock}}}",
            ),
        ],
    );
    assert_eq!(
        requires_text(only_fetch_to(&plan, "b")),
        "{... on Product {__typename sku}}"
    );
}
