//! Response schemas.

use serde_json::{json, Value};

use super::{config, generated, operation, route, schema, shaped};
use crate::rest::config::{OpenApiConfig, Source};
use crate::rest::openapi::document;
use crate::rest::openapi::types::nullable;

/// The success schema of the operation at `path` and `method`.
fn success(doc: &Value, path: &str, method: &str, status: &str) -> Value {
    operation(doc, path, method)["responses"][status]["content"]["application/json"]["schema"]
        .clone()
}

/// The 200 schema of one `GET /x` route running `text` with `data_path`.
fn one(text: &str, data_path: &str) -> Value {
    let schema = schema();
    let config = shaped(config("GET", "/x", &[]), data_path, false);
    let routes = [route(&schema, &config, text)];
    let doc = document(&schema, &routes, &OpenApiConfig::default(), &[]);
    success(&doc, "/x", "get", "200")
}

#[test]
fn object_at_data_path_is_non_null() {
    let doc = generated();
    let user = success(&doc, "/users/{id}", "get", "200");
    // `user` is nullable in the schema; `null` there is a 404.
    assert_eq!(user["type"], "object");
    assert_eq!(user["additionalProperties"], false);
    assert_eq!(user["description"], "A user by id.");
    assert_eq!(user["required"], json!(["id", "name", "role", "friends"]));
    let props = &user["properties"];
    assert_eq!(props["id"], json!({"type": "string"}));
    assert_eq!(
        props["name"],
        json!({"type": ["string", "null"], "description": "The display name."})
    );
    assert_eq!(props["role"], json!({"$ref": "#/components/schemas/Role"}));
    assert_eq!(props["friends"]["type"], json!(["array", "null"]));
    assert_eq!(
        props["friends"]["items"],
        json!({
            "type": "object",
            "properties": {"id": {"type": "string"}},
            "required": ["id"],
            "additionalProperties": false,
        })
    );
}

#[test]
fn whole_data_with_aliases_fragments_and_merged_fields() {
    let doc = generated();
    let data = success(&doc, "/users", "get", "200");
    assert_eq!(data["required"], json!(["users", "token"]));
    // An aliased custom scalar, nullable: anything.
    assert_eq!(
        data["properties"]["token"],
        json!({"description": "GraphQL scalar `DateTime`: A point in time."})
    );
    let users = &data["properties"]["users"];
    assert_eq!(users["type"], "array");
    let user = &users["items"];
    // `uid` (an alias), `name` twice (directly and in `...F`), `role` from
    // `...F`, `friends` twice merged; `createdAt` under `@include` may be
    // absent.
    assert_eq!(user["required"], json!(["uid", "name", "role", "friends"]));
    let props = user["properties"].as_object().unwrap();
    let keys: Vec<&String> = props.keys().collect();
    assert_eq!(keys, ["createdAt", "friends", "name", "role", "uid"]);
    assert_eq!(
        props["createdAt"],
        json!({
            "description": "GraphQL scalar `DateTime`: A point in time.",
            "not": {"type": "null"},
        })
    );
    assert_eq!(props["friends"]["items"]["required"], json!(["id", "name"]));
}

#[test]
fn interface_with_typename_is_one_of() {
    let doc = generated();
    let node = success(&doc, "/nodes/{id}", "get", "200");
    let branches = node["oneOf"].as_array().expect("oneOf");
    assert_eq!(branches.len(), 2);
    // Possible types in name order: Course, then User.
    assert_eq!(
        branches[0]["properties"]["kind"],
        json!({"type": "string", "const": "Course"})
    );
    assert_eq!(
        branches[0]["required"],
        json!(["kind", "id", "title", "tags"])
    );
    assert_eq!(
        branches[0]["properties"]["tags"],
        json!({"type": "array", "items": {"type": ["string", "null"]}})
    );
    assert_eq!(
        branches[1]["properties"]["kind"],
        json!({"type": "string", "const": "User"})
    );
    assert_eq!(branches[1]["required"], json!(["kind", "id", "name"]));
}

#[test]
fn union_without_typename_is_any_of() {
    let doc = generated();
    let data = success(&doc, "/search", "get", "200");
    let items = &data["properties"]["search"]["items"];
    let branches = items["anyOf"].as_array().expect("anyOf");
    assert_eq!(branches[0]["required"], json!(["id"]));
    assert_eq!(branches[1]["required"], json!(["id", "name"]));
}

#[test]
fn identical_branches_merge() {
    let node = one("query { node(id: \"1\") { id } }", "node");
    assert_eq!(
        node,
        json!({
            "type": "object",
            "properties": {"id": {"type": "string"}},
            "required": ["id"],
            "additionalProperties": false,
        })
    );
}

#[test]
fn typename_on_a_concrete_type_and_nested_paths() {
    let name = one(
        "query { user(id: \"1\") { __typename friends { name } } }",
        "user.__typename",
    );
    assert_eq!(name, json!({"type": "string"}));
    let friends = one(
        "query { user(id: \"1\") { friends { t: __typename } } }",
        "user",
    );
    assert_eq!(
        friends["properties"]["friends"]["items"]["properties"]["t"],
        json!({"type": "string", "const": "User"})
    );
    // A nullable list at the data path: non-null there.
    let list = one(
        "query { user(id: \"1\") { friends { id } } }",
        "user.friends",
    );
    assert_eq!(list["type"], "array");
    // A non-null custom scalar at the data path.
    let now = success(&generated(), "/now", "get", "200");
    assert_eq!(now["not"], json!({"type": "null"}));
}

#[test]
fn include_errors_wraps_nullable_data() {
    let doc = generated();
    let body = success(&doc, "/users/{id}", "patch", "200");
    assert_eq!(body["type"], "object");
    assert_eq!(body["required"], json!(["data"]));
    assert_eq!(
        body["properties"]["data"]["type"],
        json!(["object", "null"])
    );
    assert_eq!(
        body["properties"]["data"]["required"],
        json!(["id", "name"])
    );
    assert_eq!(
        body["properties"]["errors"],
        json!({"type": "array", "items": {"$ref": "#/components/schemas/GraphQLError"}})
    );
}

#[test]
fn nullable_forms() {
    assert_eq!(
        nullable(json!({"type": "string"})),
        json!({"type": ["string", "null"]})
    );
    assert_eq!(
        nullable(json!({"type": ["string", "null"]})),
        json!({"type": ["string", "null"]})
    );
    assert_eq!(
        nullable(json!({"$ref": "#/components/schemas/Role", "description": "d"})),
        json!({
            "oneOf": [{"$ref": "#/components/schemas/Role"}, {"type": "null"}],
            "description": "d",
        })
    );
    assert_eq!(
        nullable(json!({"description": "d"})),
        json!({"description": "d"})
    );
    assert_eq!(
        nullable(json!({"description": "d", "not": {"type": "null"}})),
        json!({"description": "d"})
    );
}

#[test]
fn duplicate_method_and_path_keeps_the_first() {
    let schema = schema();
    let text = "query A { now }";
    let first = route(&schema, &config("GET", "/x", &[]), text);
    let mut second = route(
        &schema,
        &config("GET", "/x/:id", &[("id", Source::Path, None, None)]),
        "query B($id: ID!) { user(id: $id) { id } }",
    );
    second.segments = first.segments.clone();
    let doc = document(&schema, &[first, second], &OpenApiConfig::default(), &[]);
    assert_eq!(doc["paths"]["/x"]["get"]["operationId"], "A");
    // An out-of-range status is ignored.
    let doc = document(
        &schema,
        &[route(&schema, &config("GET", "/x", &[]), text)],
        &OpenApiConfig::default(),
        &[302, 409],
    );
    let keys: Vec<String> = doc["paths"]["/x"]["get"]["responses"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, ["200", "400", "404", "409", "500", "502"]);
}
