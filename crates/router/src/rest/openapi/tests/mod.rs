//! Tests of the OpenAPI generator: a small API schema, routes compiled
//! with `route::compile`, and assertions on the generated document.

mod check;
mod document;
mod params;
mod response;

use std::collections::BTreeMap;

use apollo_compiler::validation::Valid;
use apollo_compiler::Schema;
use serde_json::Value;

use super::document;
use crate::rest::config::{OpenApiConfig, ResponseConfig, RouteConfig, Source, VariableSource};
use crate::rest::route::{compile, Route};

const SDL: &str = r#"
type Query {
  "A user by id."
  user("The user's id." id: ID!): User
  users(first: Int = 10, role: Role, ids: [ID!], since: DateTime): [User!]!
  node(id: ID!): Node
  search(text: String!, filter: SearchFilter): [SearchResult!]!
  now: DateTime
}

type Mutation {
  "Creates a user."
  createUser(input: NewUser!): User!
  rename(id: ID!, name: String!, note: String, limit: Int): User
}

"A point in time."
scalar DateTime

"What a user may do."
enum Role { ADMIN MEMBER GUEST }

interface Node { id: ID! }

"Someone."
type User implements Node {
  id: ID!
  "The display name."
  name: String
  role: Role!
  friends: [User!]
  createdAt: DateTime!
  old: String @deprecated(reason: "no")
}

type Course implements Node {
  id: ID!
  title: String!
  tags: [String]!
}

union SearchResult = User | Course

"A user to create."
input NewUser {
  name: String!
  role: Role = MEMBER
  tags: [String!]
  address: Address
  "Who invited them."
  invitedBy: NewUser
}

input Address {
  street: String!
  city: String = "Paris"
}

input SearchFilter {
  kinds: [String!]
  limit: Int = 5
}
"#;

/// The test API schema.
fn schema() -> Valid<Schema> {
    Schema::parse_and_validate(SDL, "api.graphql").expect("valid schema")
}

/// One variable mapping: `(variable, source, name, default)`.
type Mapping<'a> = (&'a str, Source, Option<&'a str>, Option<Value>);

/// A route config with the usual fields.
fn config(method: &str, path: &str, vars: &[Mapping]) -> RouteConfig {
    RouteConfig {
        method: method.to_owned(),
        path: path.to_owned(),
        operation: None,
        file: None,
        persisted_id: None,
        operation_name: None,
        variables: vars
            .iter()
            .map(|(v, from, name, default)| {
                let source = VariableSource {
                    from: *from,
                    name: name.map(str::to_owned),
                    default: default.clone(),
                };
                (v.to_string(), source)
            })
            .collect::<BTreeMap<_, _>>(),
        response: ResponseConfig::default(),
        status: None,
        summary: None,
    }
}

/// Compiles `config` with operation `text`.
fn route(schema: &Valid<Schema>, config: &RouteConfig, text: &str) -> Route {
    compile(schema, config, text).unwrap_or_else(|e| panic!("{e}"))
}

/// `config` with a data path (and `include_errors`).
fn shaped(mut config: RouteConfig, data_path: &str, include_errors: bool) -> RouteConfig {
    config.response = ResponseConfig {
        data_path: Some(data_path.to_owned()),
        include_errors,
    };
    config
}

/// The routes of the tests, in this order:
/// 0. `GET /users/:id` (`GetUser`, data path `user`);
/// 1. `GET /users` (`ListUsers`: query parameters, a header, fragments);
/// 2. `POST /users` (`CreateUser`: the whole body, 201);
/// 3. `PATCH /users/:id` (`Rename`: body members, `include_errors`);
/// 4. `GET /nodes/:id` (anonymous: an interface with `__typename`);
/// 5. `GET /search` (`Search`: a union without `__typename`, a JSON
///    query parameter);
/// 6. `GET /v2/users/:id` (`GetUser` again: a colliding `operationId`);
/// 7. `GET /now` (`Now`: a custom scalar at the data path).
fn routes(schema: &Valid<Schema>) -> Vec<Route> {
    use Source::{Body, Header, Path, Query};
    let get_user = "query GetUser($id: ID!) { user(id: $id) { id name role friends { id } } }";
    let mut list = config(
        "GET",
        "/users",
        &[
            ("first", Query, Some("limit"), None),
            ("role", Query, None, Some(serde_json::json!("GUEST"))),
            ("ids", Query, None, None),
            ("since", Header, Some("X-Since"), None),
            ("withDate", Query, None, None),
        ],
    );
    list.summary = Some("List users".to_owned());
    let mut create = config("POST", "/users", &[("input", Body, Some("."), None)]);
    create.status = Some(201);
    vec![
        route(
            schema,
            &shaped(
                config("GET", "/users/:id", &[("id", Path, None, None)]),
                "user",
                false,
            ),
            get_user,
        ),
        route(
            schema,
            &list,
            "query ListUsers($first: Int = 10, $role: Role, $ids: [ID!], $since: DateTime, \
             $withDate: Boolean = false) {
               users(first: $first, role: $role, ids: $ids, since: $since) {
                 uid: id name ...F createdAt @include(if: $withDate) friends { id } friends { name }
               }
               token: now
             }
             fragment F on User { name role }",
        ),
        route(
            schema,
            &create,
            "mutation CreateUser($input: NewUser!) { createUser(input: $input) { id role } }",
        ),
        route(
            schema,
            &shaped(
                config(
                    "PATCH",
                    "/users/{id}",
                    &[
                        ("id", Path, None, None),
                        ("name", Body, None, None),
                        ("note", Body, Some("comment"), None),
                        ("limit", Body, None, None),
                    ],
                ),
                "rename",
                true,
            ),
            "mutation Rename($id: ID!, $name: String!, $note: String, $limit: Int = 3) {
               rename(id: $id, name: $name, note: $note, limit: $limit) { id name }
             }",
        ),
        route(
            schema,
            &shaped(
                config("GET", "/nodes/:id", &[("id", Path, None, None)]),
                "node",
                false,
            ),
            "query ($id: ID!) {
               node(id: $id) { kind: __typename id ... on User { name } ...C }
             }
             fragment C on Course { title tags }",
        ),
        route(
            schema,
            &config(
                "GET",
                "/search",
                &[
                    ("text", Query, Some("q"), None),
                    ("filter", Query, None, None),
                ],
            ),
            "query Search($text: String!, $filter: SearchFilter) {
               search(text: $text, filter: $filter) { ... on User { id name } ... on Course { id } }
             }",
        ),
        route(
            schema,
            &shaped(
                config("GET", "/v2/users/:id", &[("id", Path, None, None)]),
                "user",
                false,
            ),
            get_user,
        ),
        route(
            schema,
            &shaped(config("GET", "/now", &[]), "now", false),
            "query Now { now }",
        ),
    ]
}

/// The document of `routes` with error statuses 401, 403 and 404.
fn generated() -> Value {
    let schema = schema();
    let routes = routes(&schema);
    let info = OpenApiConfig {
        title: "Test API".to_owned(),
        ..OpenApiConfig::default()
    };
    document(&schema, &routes, &info, &[401, 403, 404])
}

/// The operation at `path` and `method`.
fn operation(doc: &Value, path: &str, method: &str) -> Value {
    doc["paths"][path][method].clone()
}
