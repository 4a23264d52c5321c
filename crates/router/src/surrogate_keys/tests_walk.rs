//! Tests of `collect` over merged execution data.

use apollo_compiler::ExecutableDocument;
use goliath_executor::value::{Buffers, Val};
use serde_json::json;

use super::tests::supergraph;
use super::*;

/// The tags of `query` (its only operation) over the merged `data`.
fn run_with(query: &str, variables: serde_json::Value, data: &str) -> Tags {
    let sg = supergraph();
    let doc = ExecutableDocument::parse_and_validate(&sg.api_schema, query, "q.graphql")
        .unwrap_or_else(|e| panic!("{}", e.errors));
    let op = doc.operations.get(None).expect("one operation");
    let buffers = Buffers::new();
    let mut alloc = buffers.alloc();
    let data = Val::parse(data.as_bytes(), &mut alloc).expect("data JSON");
    collect(
        sg,
        &doc,
        op,
        variables.as_object().expect("variables"),
        &data,
    )
}

fn run(query: &str, data: &str) -> Tags {
    run_with(query, json!({}), data)
}

/// Sorted tags, types first: what `Tags::iter` gives.
fn all(tags: &Tags) -> Vec<&str> {
    tags.iter().collect()
}

#[test]
fn single_key() {
    let t = run("{ me { name } }", r#"{"me":{"id":"42","name":"Ada"}}"#);
    assert_eq!(all(&t), ["User", "User:42"]);
    // A number key is its JSON text.
    let t = run("{ me { id } }", r#"{"me":{"id":42}}"#);
    assert_eq!(all(&t), ["User", "User:42"]);
    let t = run(
        "{ counter { n } flag { on } }",
        r#"{"counter":{"n":-7},"flag":{"on":true}}"#,
    );
    assert_eq!(all(&t), ["Counter", "Flag", "Counter:-7", "Flag:true"]);
}

#[test]
fn composite_key_in_key_order() {
    let t = run(
        "{ product { name } }",
        r#"{"product":{"sku":"a","name":"Hat","upc":"1"}}"#,
    );
    assert_eq!(all(&t), ["Product", "Product:1:a"]);
}

#[test]
fn nested_key_flattens_depth_first() {
    let q = "{ membership { role } }";
    let t = run(q, r#"{"membership":{"id":2,"role":"x","org":{"id":1}}}"#);
    // Org is not walked: the client did not select it.
    assert_eq!(all(&t), ["Membership", "Membership:1:2"]);
    let q = "{ membership { o: org { name } role } }";
    let data = r#"{"membership":{"o":{"name":"Acme"},"id":2,"org":{"id":1}}}"#;
    assert_eq!(all(&run(q, data)), ["Membership", "Org", "Membership:1:2"]);
    // The client's alias of the nested key.
    let q = "{ membership { o: org { oid: id } mid: id } }";
    let data = r#"{"membership":{"o":{"oid":1},"mid":2}}"#;
    assert_eq!(all(&run(q, data)), ["Membership", "Org", "Membership:1:2"]);
    // A nested key field that is not a scalar, or missing: no entity tag.
    let t = run(
        "{ membership { role } }",
        r#"{"membership":{"id":2,"org":{}}}"#,
    );
    assert_eq!(all(&t), ["Membership"]);
}

#[test]
fn entity_without_its_key_fields_gets_the_type_tag_only() {
    let t = run("{ me { name } }", r#"{"me":{"name":"Ada"}}"#);
    assert_eq!(all(&t), ["User"]);
    // Marked: a purge of any User must take this answer too.
    assert_eq!(t.unkeyed.iter().collect::<Vec<_>>(), ["User"]);
    let keyed = run("{ me { id } }", r#"{"me":{"id":"1"}}"#);
    assert!(keyed.unkeyed.is_empty());
    let t = run(
        "{ product { name } }",
        r#"{"product":{"upc":"1","name":"Hat"}}"#,
    );
    assert_eq!(all(&t), ["Product"]);
    // A key value that is null, a list or an object: no entity tag.
    for id in ["null", "[1]", "{\"a\":1}"] {
        let t = run("{ me { name } }", &format!(r#"{{"me":{{"id":{id}}}}}"#));
        assert_eq!(all(&t), ["User"], "{id}");
    }
}

#[test]
fn abstract_fields_use_typename() {
    let q = "{ node(id: \"1\") { id ... on User { name } } }";
    let t = run(q, r#"{"node":{"__typename":"User","id":"1","name":"Ada"}}"#);
    assert_eq!(all(&t), ["User", "User:1"]);
    // No __typename: no tag for the object, but what is under it is walked.
    let q = "{ node(id: \"1\") { id } search { ... on User { friends { id } } } }";
    let data = r#"{"node":{"id":"1"},"search":[{"friends":[{"id":"2"}]}]}"#;
    assert_eq!(all(&run(q, data)), Vec::<&str>::new());
    let q = "{ search { __typename ... on User { friends { id } } } }";
    let data = r#"{"search":[{"__typename":"User","id":"1","friends":[{"id":"2"}]}]}"#;
    assert_eq!(all(&run(q, data)), ["User", "User:1", "User:2"]);
    // An unknown __typename: no tag.
    let data = r#"{"search":[{"__typename":"Ghost","id":"1"}]}"#;
    assert!(run(q, data).is_empty());
    // The client's own __typename, aliased, when the planner's is absent.
    let q = "{ search { t: __typename ... on Product { name } } }";
    let data = r#"{"search":[{"t":"Product","upc":"1","sku":"a","name":"Hat"}]}"#;
    assert_eq!(all(&run(q, data)), ["Product", "Product:1:a"]);
}

#[test]
fn union_members_in_a_list() {
    let q = "{ search { ... on User { name } ... on Product { name } } }";
    let data = r#"{"search":[
        {"__typename":"User","id":"1","name":"Ada"},
        {"__typename":"Product","upc":"1","sku":"a","name":"Hat"},
        null,
        {"__typename":"User","id":"1","name":"Ada"}]}"#;
    assert_eq!(
        all(&run(q, data)),
        ["Product", "User", "Product:1:a", "User:1"]
    );
}

#[test]
fn aliases_are_followed() {
    let q = "{ a: me { n: name } b: me { id } }";
    let data = r#"{"a":{"id":"1","n":"Ada"},"b":{"id":"2"}}"#;
    assert_eq!(all(&run(q, data)), ["User", "User:1", "User:2"]);
    // The key only under the client's alias.
    let t = run("{ me { uid: id } }", r#"{"me":{"uid":"7"}}"#);
    assert_eq!(all(&t), ["User", "User:7"]);
    // A client alias takes the key's name: the planner's `_goliath_key_id` holds the key.
    let q = "{ me { id: name } }";
    let t = run(q, r#"{"me":{"id":"Ada","_goliath_key_id":"9"}}"#);
    assert_eq!(all(&t), ["User", "User:9"]);
    // ... and without it, the other field is not mistaken for the key.
    let t = run(q, r#"{"me":{"id":"Ada"}}"#);
    assert_eq!(all(&t), ["User"]);
    let t = run(
        "{ me { id: name uid: id } }",
        r#"{"me":{"id":"Ada","uid":"3"}}"#,
    );
    assert_eq!(all(&t), ["User", "User:3"]);
}

#[test]
fn fragments_with_type_conditions() {
    let q = "query { me { ...U } thing { ... on Thing { owner { ...U } } } }
        fragment U on User { name friends { id } }";
    let data = r#"{"me":{"id":"1","friends":[{"id":"2"}]},
        "thing":{"name":"t","owner":{"id":"3","friends":null}}}"#;
    assert_eq!(
        all(&run(q, data)),
        ["Thing", "User", "User:1", "User:2", "User:3"]
    );
    // A fragment on another type does not apply: its fields are not walked.
    let q = "{ search { ... on User { id } ... on Product { best: related { name } } } }";
    let data = r#"{"search":[{"__typename":"User","id":"1","best":[{"upc":"9","sku":"z"}]}]}"#;
    assert_eq!(all(&run(q, data)), ["User", "User:1"]);
}

#[test]
fn skip_and_include_follow_the_variables() {
    let q = "query($s: Boolean!, $i: Boolean!) {
        me @skip(if: $s) { id }
        thing { owner @include(if: $i) { id } }
        ... @include(if: $i) { product { name } }
    }";
    let data = r#"{"me":{"id":"1"},"thing":{"owner":{"id":"2"}},"product":{"upc":"1","sku":"a"}}"#;
    let t = run_with(q, json!({"s": true, "i": false}), data);
    assert_eq!(all(&t), ["Thing"]);
    let t = run_with(q, json!({"s": false, "i": true}), data);
    assert_eq!(
        all(&t),
        [
            "Product",
            "Thing",
            "User",
            "Product:1:a",
            "User:1",
            "User:2"
        ]
    );
    let t = run(
        "{ me @skip(if: false) @include(if: true) { id } }",
        r#"{"me":{"id":"1"}}"#,
    );
    assert_eq!(all(&t), ["User", "User:1"]);
}

#[test]
fn lists_of_lists_and_nulls() {
    let q = "{ userGrid { id } users { friends { id } } }";
    let data = r#"{"userGrid":[[{"id":"1"},null],null,[],[{"id":"2"}]],
        "users":[null,{"id":"3","friends":null},{"id":"4","friends":[null,{"id":"5"}]}]}"#;
    let t = run(q, data);
    assert_eq!(
        all(&t),
        ["User", "User:1", "User:2", "User:3", "User:4", "User:5"]
    );
    assert!(run("{ me { id } }", r#"{"me":null}"#).is_empty());
    assert!(run("{ me { id } }", "null").is_empty());
    assert!(run("{ me { id } }", "{}").is_empty());
}

#[test]
fn values_are_percent_encoded() {
    let t = run("{ me { id } }", r#"{"me":{"id":"a b,c:d/é"}}"#);
    assert_eq!(all(&t), ["User", "User:a%20b%2Cc%3Ad%2F%C3%A9"]);
    // An escaped string in the JSON: its text is encoded, not its escapes.
    let t = run("{ me { id } }", r#"{"me":{"id":"q\"\u00e9"}}"#);
    assert_eq!(all(&t), ["User", "User:q%22%C3%A9"]);
    let sg = supergraph();
    let key = json!({"id": "a b,c:d/é"});
    let tag = entity_tag(sg, "User", key.as_object().unwrap()).unwrap();
    let t = run("{ me { id } }", r#"{"me":{"id":"a b,c:d/é"}}"#);
    assert!(t.entities.contains(&tag), "{t:?} {tag}");
}

#[test]
fn non_entity_types_and_roots() {
    let t = run(
        "{ thing { name owner { name } } }",
        r#"{"thing":{"name":"x","owner":null}}"#,
    );
    assert_eq!(all(&t), ["Thing"]);
    let t = run(
        "{ __typename thing { __typename } }",
        r#"{"__typename":"Query","thing":{}}"#,
    );
    assert_eq!(all(&t), ["Thing"]);
    let q = "mutation { rename(id: \"1\", name: \"B\") { name } }";
    let t = run(q, r#"{"rename":{"id":"1","name":"B"}}"#);
    assert_eq!(all(&t), ["User", "User:1"]);
}

#[test]
fn matches_entity_tag() {
    let sg = supergraph();
    let t = run(
        "{ membership { id } }",
        r#"{"membership":{"id":2,"org":{"id":1}}}"#,
    );
    let key = json!({"org": {"id": 1}, "id": 2});
    let tag = entity_tag(sg, "Membership", key.as_object().unwrap()).unwrap();
    assert!(t.entities.contains(&tag), "{t:?} {tag}");
}

#[test]
fn entity_tags_are_capped() {
    let items: Vec<String> = (0..MAX_ENTITY_TAGS + 5)
        .map(|i| format!(r#"{{"id":"{i}"}}"#))
        .collect();
    let data = format!(
        r#"{{"users":[{}],"thing":{{"name":"x"}}}}"#,
        items.join(",")
    );
    let t = run("{ users { id } thing { name } }", &data);
    assert_eq!(t.entities.len(), MAX_ENTITY_TAGS);
    assert_eq!(all(&t)[..2], ["Thing", "User"]);
    // The users past the cap have no tag: the type is marked.
    assert!(t.unkeyed.contains("User"));
}
