//! Parameters and request bodies.

use serde_json::json;

use super::{generated, operation};

#[test]
fn path_parameter_is_required_string_with_argument_description() {
    let doc = generated();
    let params = operation(&doc, "/users/{id}", "get")["parameters"].clone();
    assert_eq!(
        params,
        json!([{
            "name": "id",
            "in": "path",
            "required": true,
            "schema": {"type": "string"},
            "description": "The user's id.",
        }])
    );
}

#[test]
fn query_and_header_parameters() {
    let doc = generated();
    let params = operation(&doc, "/users", "get")["parameters"].clone();
    let names: Vec<&str> = params
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    // Path, then query, then header; each in the variables' order.
    assert_eq!(names, ["limit", "role", "ids", "withDate", "X-Since"]);
    // Renamed, Int, the operation's default.
    assert_eq!(
        params[0],
        json!({
            "name": "limit",
            "in": "query",
            "required": false,
            "schema": {
                "type": "integer",
                "format": "int32",
                "minimum": i32::MIN,
                "maximum": i32::MAX,
                "default": 10,
            },
        })
    );
    // An enum (a component), the route's default.
    assert_eq!(
        params[1]["schema"],
        json!({"$ref": "#/components/schemas/Role", "default": "GUEST"})
    );
    // A list: repeated parameters.
    assert_eq!(params[2]["style"], "form");
    assert_eq!(params[2]["explode"], true);
    assert_eq!(
        params[2]["schema"],
        json!({"type": "array", "items": {"type": "string"}})
    );
    assert_eq!(
        params[3]["schema"],
        json!({"type": "boolean", "default": false})
    );
    // A header; a custom scalar is text there.
    assert_eq!(params[4]["in"], "header");
    assert_eq!(params[4]["required"], false);
    assert_eq!(params[4]["schema"]["type"], "string");
    assert_eq!(
        params[4]["schema"]["description"],
        "GraphQL scalar `DateTime`: A point in time."
    );
    let enum_ = &doc["components"]["schemas"]["Role"];
    assert_eq!(
        *enum_,
        json!({
            "type": "string",
            "enum": ["ADMIN", "MEMBER", "GUEST"],
            "description": "What a user may do.",
        })
    );
}

#[test]
fn required_query_parameter_and_json_input_object() {
    let doc = generated();
    let params = operation(&doc, "/search", "get")["parameters"].clone();
    assert_eq!(params[0]["name"], "q");
    assert_eq!(params[0]["required"], true);
    assert_eq!(params[1]["name"], "filter");
    assert_eq!(params[1]["required"], false);
    assert_eq!(
        params[1]["schema"],
        json!({
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"$ref": "#/components/schemas/SearchFilter"},
            "description": "`SearchFilter` as JSON text",
        })
    );
    let filter = &doc["components"]["schemas"]["SearchFilter"];
    assert_eq!(filter["properties"]["limit"]["default"], 5);
    assert!(filter.get("required").is_none());
}

#[test]
fn whole_body_is_the_input_object() {
    let doc = generated();
    let op = operation(&doc, "/users", "post");
    assert!(op.get("parameters").is_none());
    assert_eq!(
        op["requestBody"],
        json!({
            "required": true,
            "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/NewUser"},
            }},
        })
    );
    let schemas = &doc["components"]["schemas"];
    let new_user = &schemas["NewUser"];
    assert_eq!(new_user["type"], "object");
    assert_eq!(new_user["additionalProperties"], false);
    assert_eq!(new_user["description"], "A user to create.");
    assert_eq!(new_user["required"], json!(["name"]));
    let props = &new_user["properties"];
    assert_eq!(props["name"], json!({"type": "string"}));
    // A nullable enum with a default.
    assert_eq!(
        props["role"],
        json!({
            "oneOf": [{"$ref": "#/components/schemas/Role"}, {"type": "null"}],
            "default": "MEMBER",
        })
    );
    assert_eq!(
        props["tags"],
        json!({"type": ["array", "null"], "items": {"type": "string"}})
    );
    // Nested and recursive input objects: refs end the recursion.
    assert_eq!(
        props["address"]["oneOf"][0]["$ref"],
        "#/components/schemas/Address"
    );
    assert_eq!(
        props["invitedBy"],
        json!({
            "oneOf": [{"$ref": "#/components/schemas/NewUser"}, {"type": "null"}],
            "description": "Who invited them.",
        })
    );
    let address = &schemas["Address"];
    assert_eq!(address["required"], json!(["street"]));
    assert_eq!(address["properties"]["city"]["default"], "Paris");
}

#[test]
fn body_members() {
    let doc = generated();
    let op = operation(&doc, "/users/{id}", "patch");
    assert_eq!(op["parameters"][0]["name"], "id");
    assert_eq!(op["parameters"][0]["in"], "path");
    assert_eq!(op["requestBody"]["required"], true);
    let schema = &op["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["required"], json!(["name"]));
    assert_eq!(schema["properties"]["name"], json!({"type": "string"}));
    // Renamed, nullable.
    assert_eq!(
        schema["properties"]["comment"],
        json!({"type": ["string", "null"]})
    );
    // The operation's default.
    assert_eq!(schema["properties"]["limit"]["default"], 3);
    assert_eq!(
        schema["properties"]["limit"]["type"],
        json!(["integer", "null"])
    );
}

#[test]
fn body_id_is_a_string_or_an_integer() {
    // GraphQL's input coercion takes a string or a (64-bit) integer for an
    // `ID` variable: the body's schema says so, or a client (and
    // schemathesis's negative tests) would count `{"id": 4}` as invalid
    // input the gateway accepts. Path, query and header values stay
    // strings; responses too.
    use super::super::document;
    use super::{config, route, schema};
    use crate::rest::config::{OpenApiConfig, Source};
    let schema = schema();
    let routes = vec![
        route(
            &schema,
            &config(
                "POST",
                "/users/:id/rename",
                &[
                    ("id", Source::Path, None, None),
                    ("name", Source::Body, None, None),
                ],
            ),
            "mutation ($id: ID!, $name: String!) { rename(id: $id, name: $name) { id } }",
        ),
        route(
            &schema,
            &config(
                "POST",
                "/rename",
                &[
                    ("id", Source::Body, None, None),
                    ("ids", Source::Body, None, None),
                ],
            ),
            "query ($id: ID!, $ids: [ID!]) {
               users(ids: $ids) { id } rename: user(id: $id) { name }
             }",
        ),
    ];
    let doc = document(&schema, &routes, &OpenApiConfig::default(), &[]);
    let by_path = operation(&doc, "/users/{id}/rename", "post");
    assert_eq!(
        by_path["parameters"][0]["schema"],
        json!({"type": "string"})
    );
    let success = &by_path["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(
        success["properties"]["rename"]["properties"]["id"],
        json!({"type": "string"}),
        "{success:#}"
    );
    let body = operation(&doc, "/rename", "post");
    let members = &body["requestBody"]["content"]["application/json"]["schema"]["properties"];
    let id = json!({"type": ["string", "integer"], "minimum": i64::MIN, "maximum": i64::MAX});
    let mut described = id.clone();
    described["description"] = json!("The user's id.");
    assert_eq!(members["id"], described, "{members:#}");
    assert_eq!(
        members["ids"],
        json!({"type": ["array", "null"], "items": id}),
        "{members:#}"
    );
}
