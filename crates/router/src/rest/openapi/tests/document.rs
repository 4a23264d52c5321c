//! The document's frame: header, determinism, structure, operation ids,
//! summaries, descriptions and error responses.

use serde_json::json;

use super::{check, generated, operation};

#[test]
fn document_header_and_determinism() {
    let doc = generated();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Test API");
    assert_eq!(doc["info"]["version"], "1");
    let again = generated();
    assert_eq!(
        serde_json::to_string(&doc).unwrap(),
        serde_json::to_string(&again).unwrap()
    );
    check::structure(&doc).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn operation_ids_are_unique_and_summaries_set() {
    let doc = generated();
    assert_eq!(
        operation(&doc, "/users/{id}", "get")["operationId"],
        "GetUser"
    );
    assert_eq!(
        operation(&doc, "/v2/users/{id}", "get")["operationId"],
        "GetUser_2"
    );
    assert_eq!(
        operation(&doc, "/nodes/{id}", "get")["operationId"],
        "get_nodes_id"
    );
    assert_eq!(operation(&doc, "/users", "get")["summary"], "List users");
    assert_eq!(operation(&doc, "/users/{id}", "get")["summary"], "GetUser");
    assert!(operation(&doc, "/nodes/{id}", "get")
        .get("summary")
        .is_none());
    assert_eq!(
        operation(&doc, "/users/{id}", "get")["description"],
        "A user by id."
    );
    assert_eq!(
        operation(&doc, "/users", "post")["description"],
        "Creates a user."
    );
}

#[test]
fn error_responses() {
    let doc = generated();
    let responses = operation(&doc, "/users/{id}", "get")["responses"].clone();
    let keys: Vec<&String> = responses.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["200", "400", "401", "403", "404", "500", "502"]);
    for status in ["400", "401", "403", "404", "500", "502"] {
        assert_eq!(
            responses[status]["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem"
        );
        assert!(responses[status]["description"].is_string());
    }
    let problem = &doc["components"]["schemas"]["Problem"];
    assert_eq!(problem["required"], json!(["title", "status"]));
    assert_eq!(problem["properties"]["type"]["format"], "uri-reference");
    assert_eq!(
        problem["properties"]["errors"]["items"]["$ref"],
        "#/components/schemas/GraphQLError"
    );
    let error = &doc["components"]["schemas"]["GraphQLError"];
    assert_eq!(error["required"], json!(["message"]));
    assert_eq!(
        error["properties"]["path"]["items"]["type"],
        json!(["string", "integer"])
    );
    let created = operation(&doc, "/users", "post")["responses"].clone();
    assert_eq!(created["201"]["description"], "Created");
    assert!(created.get("200").is_none());
}

/// Writes the document to `$GOLIATH_OPENAPI_DUMP` when set, for
/// `crates/router/tests/openapi/validate.py` (openapi-spec-validator).
#[test]
fn dump_for_validator() {
    if let Ok(path) = std::env::var("GOLIATH_OPENAPI_DUMP") {
        let text = serde_json::to_string_pretty(&generated()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
}
