//! Tests of the tags' encoding, `entity_tag`, the header and the config;
//! `tests_walk.rs` tests `collect`. Both use the supergraph here.

use std::sync::OnceLock;

use goliath_supergraph::Supergraph;
use serde_json::json;

use super::*;

const SDL: &str = r#"
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
{
  query: Query
  mutation: Mutation
}

directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

scalar join__FieldSet
scalar link__Import
enum link__Purpose { SECURITY EXECUTION }

enum join__Graph {
  A @join__graph(name: "a", url: "http://a")
  B @join__graph(name: "b", url: "http://b")
}

type Query @join__type(graph: A) @join__type(graph: B) {
  me: User @join__field(graph: A)
  users: [User] @join__field(graph: A)
  userGrid: [[User]] @join__field(graph: A)
  node(id: ID!): Node @join__field(graph: A)
  search: [SearchResult] @join__field(graph: A)
  product: Product @join__field(graph: B)
  membership: Membership @join__field(graph: B)
  counter: Counter @join__field(graph: B)
  flag: Flag @join__field(graph: B)
  thing: Thing @join__field(graph: B)
}

type Mutation @join__type(graph: A) {
  rename(id: ID!, name: String!): User @join__field(graph: A)
}

interface Node @join__type(graph: A) {
  id: ID!
}

union SearchResult @join__type(graph: A) @join__unionMember(graph: A, member: "User") @join__unionMember(graph: A, member: "Product") = User | Product

type User implements Node @join__type(graph: A, key: "id") @join__type(graph: B, key: "id") @join__implements(graph: A, interface: "Node") {
  id: ID!
  name: String @join__field(graph: A)
  friends: [User] @join__field(graph: B)
}

type Product @join__type(graph: A, key: "upc sku") @join__type(graph: B, key: "upc sku") {
  upc: String!
  sku: String!
  name: String @join__field(graph: B)
  related: [Product] @join__field(graph: B)
}

type Membership @join__type(graph: B, key: "org { id } id") {
  org: Org!
  id: Int!
  role: String
}

type Org @join__type(graph: B) {
  id: Int!
  name: String
}

type Counter @join__type(graph: B, key: "n") {
  n: Int!
}

type Flag @join__type(graph: B, key: "on") {
  on: Boolean!
}

type Thing @join__type(graph: B) {
  name: String
  owner: User
}
"#;

/// The test supergraph, loaded once.
pub(super) fn supergraph() -> &'static Supergraph {
    static SUPERGRAPH: OnceLock<Supergraph> = OnceLock::new();
    SUPERGRAPH.get_or_init(|| Supergraph::parse(SDL).expect("test supergraph"))
}

fn key(v: serde_json::Value) -> Map<String, Value> {
    v.as_object().cloned().expect("an object")
}

fn tags(types: &[&str], entities: &[&str]) -> Tags {
    Tags {
        types: types.iter().map(|t| t.to_string()).collect(),
        entities: entities.iter().map(|t| t.to_string()).collect(),
        unkeyed: Default::default(),
    }
}

fn config(header: &str, max_bytes: usize) -> SurrogateKeysConfig {
    SurrogateKeysConfig {
        header: header.to_owned(),
        max_bytes,
        ..SurrogateKeysConfig::default()
    }
}

#[test]
fn entity_tags_for_good_keys() {
    let sg = supergraph();
    assert_eq!(
        entity_tag(sg, "User", &key(json!({"id": "42"}))).unwrap(),
        "User:42"
    );
    assert_eq!(
        entity_tag(sg, "User", &key(json!({"id": 42}))).unwrap(),
        "User:42"
    );
    // Values in the key's field order, whatever the JSON order.
    let composite = key(json!({"sku": "a", "upc": "1"}));
    assert_eq!(
        entity_tag(sg, "Product", &composite).unwrap(),
        "Product:1:a"
    );
    let nested = key(json!({"id": 2, "org": {"id": 1}}));
    assert_eq!(
        entity_tag(sg, "Membership", &nested).unwrap(),
        "Membership:1:2"
    );
    assert_eq!(
        entity_tag(sg, "Flag", &key(json!({"on": false}))).unwrap(),
        "Flag:false"
    );
    assert_eq!(
        entity_tag(sg, "Counter", &key(json!({"n": 1.5}))).unwrap(),
        "Counter:1.5"
    );
    let odd = key(json!({"id": "a b,c:d/é%"}));
    assert_eq!(
        entity_tag(sg, "User", &odd).unwrap(),
        "User:a%20b%2Cc%3Ad%2F%C3%A9%25"
    );
}

#[test]
fn entity_tags_for_bad_keys() {
    let sg = supergraph();
    let err = |ty: &str, k: serde_json::Value| entity_tag(sg, ty, &key(k)).unwrap_err();
    let e = err("Nope", json!({"id": 1}));
    assert!(e.contains("unknown type \"Nope\""), "{e}");
    let e = err("Thing", json!({"name": "x"}));
    assert!(e.contains("not an entity"), "{e}");
    let e = err("User", json!({"uid": 1}));
    assert!(
        e.contains("does not match a @key of User") && e.contains("{id}"),
        "{e}"
    );
    let e = err("User", json!({"id": 1, "name": "extra"}));
    assert!(e.contains("does not match"), "{e}");
    let e = err("Product", json!({"upc": "1"}));
    assert!(e.contains("{upc sku}"), "{e}");
    let e = err("Membership", json!({"org": 1, "id": 2}));
    assert!(e.contains("{org { id } id}"), "{e}");
    let e = err("Membership", json!({"org": {"id": 1, "x": 0}, "id": 2}));
    assert!(e.contains("does not match"), "{e}");
    let e = err("User", json!({"id": null}));
    assert!(
        e.contains("\"id\" of User must be a string, number or boolean"),
        "{e}"
    );
    let e = err("User", json!({"id": [1]}));
    assert!(e.contains("must be a string"), "{e}");
    let e = err("User", json!({"id": {"x": 1}}));
    assert!(e.contains("does not match"), "{e}");
}

#[test]
fn type_tags_and_encoding() {
    assert_eq!(type_tag("User"), "User");
    let mut out = String::new();
    encode_into(&mut out, "AZaz09_.~- :,/%\u{7f}");
    assert_eq!(out, "AZaz09_.~-%20%3A%2C%2F%25%7F");
}

#[test]
fn tags_iterate_types_first() {
    let t = tags(&["User", "Product"], &["Product:1:a", "User:1"]);
    let all: Vec<&str> = t.iter().collect();
    assert_eq!(all, ["Product", "User", "Product:1:a", "User:1"]);
    assert!(!t.is_empty());
    assert!(Tags::default().is_empty());
    assert!(!tags(&[], &["User:1"]).is_empty());
}

#[test]
fn header_values_use_the_header_separator() {
    let t = tags(&["User"], &["User:1", "User:2"]);
    let v = t.header_value(&SurrogateKeysConfig::default()).unwrap();
    assert_eq!(v, "User User:1 User:2");
    assert_eq!(
        t.header_value(&config("Cache-Tag", 100)).unwrap(),
        "User,User:1,User:2"
    );
    assert_eq!(
        t.header_value(&config("cache-tag", 100)).unwrap(),
        "User,User:1,User:2"
    );
    assert_eq!(
        t.header_value(&config("X-Tags", 100)).unwrap(),
        "User User:1 User:2"
    );
    assert_eq!(
        Tags::default().header_value(&SurrogateKeysConfig::default()),
        None
    );
}

#[test]
fn header_cap_keeps_types_first() {
    // Entities sort before some types ("A:1" < "Zed"), yet types go in first.
    let t = tags(&["User", "Zed"], &["A:1", "User:1", "User:2"]);
    // Everything takes 26 bytes.
    let all = "User Zed A:1 User:1 User:2";
    assert_eq!(t.header_value(&config("Surrogate-Key", 26)).unwrap(), all);
    assert_eq!(
        t.header_value(&config("Surrogate-Key", 25)).unwrap(),
        "User Zed A:1 User:1"
    );
    assert_eq!(
        t.header_value(&config("Cache-Tag", 19)).unwrap(),
        "User,Zed,A:1,User:1"
    );
    assert_eq!(
        t.header_value(&config("Cache-Tag", 18)).unwrap(),
        "User,Zed,A:1"
    );
    assert_eq!(
        t.header_value(&config("Cache-Tag", 11)).unwrap(),
        "User,Zed"
    );
    assert_eq!(t.header_value(&config("Cache-Tag", 7)).unwrap(), "User");
    // A type too long for what is left is skipped, a shorter tag still fits.
    assert_eq!(t.header_value(&config("Cache-Tag", 4)).unwrap(), "User");
    assert_eq!(t.header_value(&config("Cache-Tag", 3)).unwrap(), "Zed");
    assert_eq!(t.header_value(&config("Cache-Tag", 2)), None);
    assert_eq!(t.header_value(&config("Cache-Tag", 0)), None);
    for cap in 0..30 {
        let v = t.header_value(&config("Surrogate-Key", cap));
        assert!(v.is_none_or(|v| v.len() <= cap), "cap {cap}");
    }
}

#[test]
fn config_defaults_and_header_names() {
    let c: SurrogateKeysConfig = serde_json::from_value(json!({})).unwrap();
    assert_eq!(c, SurrogateKeysConfig::default());
    assert!(c.enabled);
    assert_eq!(c.header, "Surrogate-Key");
    assert_eq!(c.max_bytes, 16384);
    assert_eq!(c.header_name().unwrap(), "surrogate-key");
    let c: SurrogateKeysConfig =
        serde_json::from_value(json!({"header": "Cache-Tag", "max_bytes": 100})).unwrap();
    assert_eq!(c.header_name().unwrap(), "cache-tag");
    assert!(c.enabled);
    let unknown = serde_json::from_value::<SurrogateKeysConfig>(json!({"heder": "x"}));
    assert!(unknown.is_err());
    let e = config("bad header", 1).header_name().unwrap_err();
    assert_eq!(e, "`bad header` is not a valid HTTP header name");
    assert!(config("", 1)
        .header_name()
        .unwrap_err()
        .contains("must not be empty"));
}
