//! Interfaces and unions across subgraphs, `@interfaceObject`, and fields
//! whose types conflict in one subgraph operation.

mod common;

use common::*;

const MEDIA: &str = r#"
type Query @join__type(graph: A) @join__type(graph: B) {
  search: [SearchResult] @join__field(graph: A)
  nodes: [Node] @join__field(graph: A)
  feed: [SearchResult] @join__field(graph: B)
  shelves: [[Book]] @join__field(graph: A)
}
union SearchResult
  @join__type(graph: A) @join__type(graph: B)
  @join__unionMember(graph: A, member: "Book") @join__unionMember(graph: A, member: "Movie")
  @join__unionMember(graph: B, member: "Book")
  = Book | Movie
interface Node @join__type(graph: A) {
  id: ID!
}
type Book implements Node
  @join__implements(graph: A, interface: "Node")
  @join__type(graph: A, key: "id") @join__type(graph: B, key: "id")
{
  id: ID!
  title: String @join__field(graph: A)
  reviewCount: Int @join__field(graph: B)
  size: Int @join__field(graph: A, type: "Int!")
  related: [SearchResult] @join__field(graph: B)
}
type Movie implements Node
  @join__implements(graph: A, interface: "Node")
  @join__type(graph: A, key: "id")
{
  id: ID!
  title: String
  size: Int @join__field(graph: A, type: "Int")
}
"#;

#[test]
fn a_union_selection_is_split_by_member() {
    let sg = supergraph(&["a", "b"], MEDIA);
    let plan = plan(
        &sg,
        "{ search { ... on Book { title reviewCount } ... on Movie { title } } }",
    );
    assert_eq!(
        plan.to_string(),
        r#"QueryPlan {
  Sequence {
    Fetch(service: "a") {
      query {search {__typename ... on Book {title __typename id} ... on Movie {title}}}
    }
    Flatten(path: "search.@") {
      Fetch(service: "b") {
        {... on Book {__typename id}} =>
        query($representations: [_Any!]!) {_entities(representations: $representations) {... on Book {reviewCount}}}
      }
    }
  }
}
"#
    );
    assert!(fetches(&plan).iter().all(|f| !f.has_aliases));
}

#[test]
fn only_typename_on_a_union_is_one_fetch() {
    let sg = supergraph(&["a", "b"], MEDIA);
    let plan = plan(&sg, "{ search { __typename } }");
    assert_fetches(&plan, &[("a", "query {search {__typename}}")]);
}

#[test]
fn an_interface_field_is_asked_of_each_implementation() {
    let sg = supergraph(&["a", "b"], MEDIA);
    let plan = plan(&sg, "{ nodes { id ... on Book { reviewCount } } }");
    assert_eq!(shape(&plan), "Seq[Fetch(a), Flatten(nodes.@, Fetch(b))]");
    assert_fetches(
        &plan,
        &[
            (
                "a",
                "query {nodes {__typename ... on Book {id __typename} ... on Movie {id}}}",
            ),
            ("b", &entities("{... on Book {reviewCount}}")),
        ],
    );
    assert_eq!(
        requires_text(only_fetch_to(&plan, "b")),
        "{... on Book {__typename id}}"
    );
    // Fragments on the interface itself apply to every implementation.
    let plan = plan_with(&sg, "{ nodes { ... on Node { id } } }", &[]);
    assert_fetches(
        &plan,
        &[(
            "a",
            "query {nodes {__typename ... on Book {id} ... on Movie {id}}}",
        )],
    );
}

#[test]
fn a_fragment_on_an_interface_applies_to_the_union_members_implementing_it() {
    let sg = supergraph(&["a", "b"], MEDIA);
    let plan = plan(&sg, "{ search { ... on Node { id } } }");
    assert_fetches(
        &plan,
        &[(
            "a",
            "query {search {__typename ... on Book {id} ... on Movie {id}}}",
        )],
    );
}

#[test]
fn entities_in_lists_of_lists_are_flattened_at_every_level() {
    let sg = supergraph(&["a", "b"], MEDIA);
    let plan = plan(&sg, "{ shelves { title reviewCount } }");
    assert_eq!(
        shape(&plan),
        "Seq[Fetch(a), Flatten(shelves.@.@, Fetch(b))]"
    );
    assert_fetches(
        &plan,
        &[
            ("a", "query {shelves {title __typename id}}"),
            ("b", &entities("{... on Book {reviewCount}}")),
        ],
    );
}

#[test]
fn an_abstract_selection_inside_an_entity_fetch_is_split_there() {
    let sg = supergraph(&["a", "b"], MEDIA);
    let plan = plan(
        &sg,
        "{ nodes { ... on Book { related { ... on Movie { title } ... on Book { reviewCount title } } } } }",
    );
    assert_eq!(
        shape(&plan),
        "Seq[Fetch(a), Flatten(nodes.@, Fetch(b)), Flatten(nodes.@.related.@, Fetch(a))]"
    );
    assert_fetches(
        &plan,
        &[
            (
                "a",
                "query {nodes {__typename ... on Book {__typename id}}}",
            ),
            (
                "b",
                &entities(
                    "{... on Book {related {__typename ... on Book {reviewCount __typename id}}}}",
                ),
            ),
            ("a", &entities("{... on Book {title}}")),
        ],
    );
}

#[test]
fn members_a_subgraph_never_returns_are_not_planned_there() {
    let sg = supergraph(&["a", "b"], MEDIA);
    // b's SearchResult only has Book: the Movie part needs no fetch.
    let plan = plan(
        &sg,
        "{ feed { ... on Book { title reviewCount } ... on Movie { title } } }",
    );
    assert_eq!(shape(&plan), "Seq[Fetch(b), Flatten(feed.@, Fetch(a))]");
    assert_fetches(
        &plan,
        &[
            (
                "b",
                "query {feed {__typename ... on Book {__typename id reviewCount}}}",
            ),
            ("a", &entities("{... on Book {title}}")),
        ],
    );
}

#[test]
fn fields_whose_types_conflict_in_a_subgraph_are_aliased() {
    let sg = supergraph(&["a", "b"], MEDIA);
    // `size` is Int! on Book and Int on Movie in subgraph a.
    let plan = plan(
        &sg,
        "{ nodes { ... on Book { size } ... on Movie { size } } }",
    );
    let a = only_fetch_to(&plan, "a");
    assert_eq!(
        a.operation,
        "query {nodes {__typename ... on Book {size} ... on Movie {_goliath_alias_1_size:size}}}"
    );
    assert!(a.has_aliases);
    assert_response_keys_unambiguous(&plan);
    // Same types: nothing to alias.
    let plan = plan_with(
        &sg,
        "{ search { ... on Book { title } ... on Movie { title } } }",
        &[],
    );
    assert!(!only_fetch_to(&plan, "a").has_aliases);
    assert!(!only_fetch_to(&plan, "a")
        .operation
        .contains("_goliath_alias_"));
}

const ACCOUNTS: &str = r#"
type Query @join__type(graph: A) @join__type(graph: B) {
  accounts: [Account] @join__field(graph: A)
  recent: [Account] @join__field(graph: B)
}
interface Account
  @join__type(graph: A, key: "id")
  @join__type(graph: B, key: "id", isInterfaceObject: true)
{
  id: ID!
  name: String @join__field(graph: A)
  lastLogin: String @join__field(graph: B)
}
type User implements Account
  @join__implements(graph: A, interface: "Account")
  @join__type(graph: A, key: "id")
{
  id: ID!
  name: String @join__field(graph: A)
  lastLogin: String @join__field
  email: String @join__field(graph: A)
}
type Admin implements Account
  @join__implements(graph: A, interface: "Account")
  @join__type(graph: A, key: "id")
{
  id: ID!
  name: String @join__field(graph: A)
  lastLogin: String @join__field
  level: Int @join__field(graph: A)
}
"#;

#[test]
fn an_interface_object_is_entered_under_the_interface_name() {
    let sg = supergraph(&["a", "b"], ACCOUNTS);
    let plan = plan(&sg, "{ accounts { name lastLogin } }");
    assert_eq!(shape(&plan), "Seq[Fetch(a), Flatten(accounts.@, Fetch(b))]");
    assert_fetches(
        &plan,
        &[
            (
                "a",
                "query {accounts {__typename ... on User {name __typename id} ... on Admin {name __typename id}}}",
            ),
            ("b", &entities("{... on Account {lastLogin}}")),
        ],
    );
    let b = only_fetch_to(&plan, "b");
    assert_eq!(
        requires_text(b),
        "{... on User {__typename id} ... on Admin {__typename id}}"
    );
    let mut rewrites: Vec<(String, String)> = b
        .typename_rewrites
        .iter()
        .map(|(from, to)| (from.to_string(), to.to_string()))
        .collect();
    rewrites.sort();
    assert_eq!(
        rewrites,
        [
            ("Admin".to_owned(), "Account".to_owned()),
            ("User".to_owned(), "Account".to_owned())
        ]
    );
    assert!(only_fetch_to(&plan, "a").typename_rewrites.is_empty());
}

#[test]
fn interface_object_fields_need_no_other_subgraph() {
    let sg = supergraph(&["a", "b"], ACCOUNTS);
    let plan = plan(&sg, "{ recent { id lastLogin } }");
    assert_fetches(&plan, &[("b", "query {recent {id lastLogin}}")]);
}

#[test]
fn implementation_fields_behind_an_interface_object_ask_the_real_interface() {
    let sg = supergraph(&["a", "b"], ACCOUNTS);
    let plan = plan(&sg, "{ recent { lastLogin ... on Admin { level } } }");
    assert_eq!(shape(&plan), "Seq[Fetch(b), Flatten(recent.@, Fetch(a))]");
    assert_fetches(
        &plan,
        &[
            ("b", "query {recent {lastLogin __typename id}}"),
            (
                "a",
                &entities("{... on Account {__typename ... on Admin {level}}}"),
            ),
        ],
    );
    assert_eq!(
        requires_text(only_fetch_to(&plan, "a")),
        "{... on Account {__typename id}}"
    );
}

#[test]
fn the_runtime_type_behind_an_interface_object_comes_from_the_real_interface() {
    let sg = supergraph(&["a", "b"], ACCOUNTS);
    // b would answer "Account": the real type name is asked of a.
    let plan = plan(&sg, "{ recent { __typename lastLogin } }");
    assert_eq!(shape(&plan), "Seq[Fetch(b), Flatten(recent.@, Fetch(a))]");
    let a = only_fetch_to(&plan, "a");
    assert!(a.operation.contains("__typename"), "{plan}");
    assert!(!a.operation.contains("lastLogin"), "{plan}");
}
