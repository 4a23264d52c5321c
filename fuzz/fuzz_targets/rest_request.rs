//! The REST gateway's request side (crates/router/src/rest/): matching a
//! path against route templates and reading a route's variables from the
//! path, the query string, a header and a JSON body.
//!
//! Input: four parts separated by `\n`: the path, the query string, the
//! value of the header `x-id`, and the body (the rest). Nothing may panic;
//! whatever is read is an object holding only the route's variables, and
//! a variable typed `Int` is read as a 32-bit integer.

#![no_main]

use std::sync::OnceLock;

use apollo_compiler::validation::Valid;
use apollo_compiler::Schema;
use goliath_router::rest::config::{RouteConfig, Source, VariableSource};
use goliath_router::rest::extract::{variables, Parts};
use goliath_router::rest::route::{compile, Route};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const SCHEMA: &str = "
enum Color { RED GREEN }
input Filter { name: String, min: Int, colors: [Color!] }
scalar JSON
type Query {
  item(id: ID!, n: Int, f: Float, b: Boolean, ids: [ID!], c: Color, filter: Filter, j: JSON, tags: [[String]]): String
}
type Mutation { save(id: ID!, filter: Filter, all: Filter): String }
";

fn setup() -> &'static (Valid<Schema>, Vec<Route>) {
    static SETUP: OnceLock<(Valid<Schema>, Vec<Route>)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let schema = Schema::parse_and_validate(SCHEMA, "fuzz.graphql").unwrap();
        let var = |from: Source, name: Option<&str>| VariableSource {
            from,
            name: name.map(str::to_owned),
            default: None,
        };
        let route = |method: &str, path: &str, text: &str, vars: Vec<(&str, VariableSource)>| {
            let config = RouteConfig {
                method: method.into(),
                path: path.into(),
                operation: Some(text.into()),
                file: None,
                persisted_id: None,
                operation_name: None,
                variables: vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                response: Default::default(),
                status: None,
                summary: None,
            };
            compile(&schema, &config, text).unwrap()
        };
        let routes = vec![
            route(
                "GET",
                "/items/:id/{n}",
                "query($id: ID!, $n: Int, $f: Float, $b: Boolean, $ids: [ID!], $c: Color, $j: JSON, $tags: [[String]]) { item(id: $id, n: $n, f: $f, b: $b, ids: $ids, c: $c, j: $j, tags: $tags) }",
                vec![
                    ("id", var(Source::Path, None)),
                    ("n", var(Source::Path, None)),
                    ("f", var(Source::Query, None)),
                    ("b", var(Source::Query, None)),
                    ("ids", var(Source::Query, None)),
                    ("c", var(Source::Header, Some("x-id"))),
                    ("j", var(Source::Query, None)),
                    ("tags", var(Source::Query, None)),
                ],
            ),
            route(
                "POST",
                "/items",
                "mutation($id: ID!, $filter: Filter, $all: Filter) { save(id: $id, filter: $filter, all: $all) }",
                vec![
                    ("id", var(Source::Header, Some("x-id"))),
                    ("filter", var(Source::Body, None)),
                    ("all", var(Source::Query, None)),
                ],
            ),
            route(
                "PUT",
                "/whole",
                "mutation($id: ID!, $filter: Filter) { save(id: $id, filter: $filter) }",
                vec![
                    ("id", var(Source::Query, None)),
                    ("filter", var(Source::Body, Some("."))),
                ],
            ),
        ];
        (schema, routes)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(4, '\n');
    let (path, query, header, body) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let mut headers = http::HeaderMap::new();
    if let Ok(value) = http::HeaderValue::from_str(header) {
        headers.insert("x-id", value);
    }
    let body: Option<Value> = serde_json::from_str(body).ok();
    let (schema, routes) = setup();
    for route in routes {
        // Any path: matched or not, never a panic.
        let params = route.matches(path).unwrap_or_default();
        let parts = Parts {
            path: params,
            query,
            headers: &headers,
            body: body.as_ref(),
        };
        if let Ok(read) = variables(schema, route, &parts) {
            for (name, value) in &read {
                let variable = route
                    .variables
                    .iter()
                    .find(|v| &v.name == name)
                    .expect("only the route's variables are read");
                if variable.ty.inner_named_type() == "Int" && !variable.ty.is_list() {
                    let n = value.as_i64().expect("an Int is a number");
                    assert!(i32::try_from(n).is_ok(), "an Int is 32-bit: {n}");
                }
            }
        }
    }
});
