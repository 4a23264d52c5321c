//! A REST request's variables, from where the route says each comes from:
//! the path, the query string, the JSON body or a header. Text (path,
//! query, header) is typed by the variable's GraphQL type: `Int`,
//! `Float` and `Boolean` become JSON numbers and booleans, lists come from
//! repeated parameters or comma-separated values, input objects and custom
//! scalars from JSON text. What cannot be read is a [`BadInput`] (400).
//! The pipeline then coerces the variables as it does for any request, so
//! an enum value that does not exist is its `BAD_USER_INPUT`.

use apollo_compiler::ast::Type;
use apollo_compiler::Schema;
use serde_json::{Map, Number, Value};

use super::config::Source;
use super::route::{Route, Variable};

/// Input that cannot be read: what and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadInput(pub String);

/// The parts of a request variables come from.
pub struct Parts<'r> {
    /// The path parameters' values (still percent-encoded).
    pub path: Vec<(&'r str, &'r str)>,
    /// The URL's query string.
    pub query: &'r str,
    /// The request's headers.
    pub headers: &'r http::HeaderMap,
    /// The JSON body (`None`: none).
    pub body: Option<&'r Value>,
}

/// The variables of `route` for a request with these `parts`.
pub fn variables(
    schema: &Schema,
    route: &Route,
    parts: &Parts<'_>,
) -> Result<Map<String, Value>, BadInput> {
    let query: Vec<(String, String)> = url::form_urlencoded::parse(parts.query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    check_body_members(route, parts.body)?;
    let mut out = Map::new();
    for v in &route.variables {
        let Some(source) = v.source else {
            continue;
        };
        let value = match source {
            Source::Path => match parts.path.iter().find(|(name, _)| *name == v.param) {
                Some((_, raw)) => {
                    let text = percent_decode(raw)
                        .ok_or_else(|| bad(v, "is not valid percent-encoded UTF-8"))?;
                    Some(typed(schema, v, &v.ty, &[text])?)
                }
                None => None,
            },
            Source::Query => {
                let given: Vec<String> = query
                    .iter()
                    .filter(|(k, _)| *k == v.param)
                    .map(|(_, value)| value.clone())
                    .collect();
                match given.is_empty() {
                    true => None,
                    false => Some(typed(schema, v, &v.ty, &given)?),
                }
            }
            Source::Header => {
                let given: Vec<String> = parts
                    .headers
                    .get_all(v.param.as_str())
                    .iter()
                    .map(|h| {
                        h.to_str()
                            .map(str::to_owned)
                            .map_err(|_| bad(v, "is not visible ASCII"))
                    })
                    .collect::<Result<_, _>>()?;
                match given.is_empty() {
                    true => None,
                    false => Some(typed(schema, v, &v.ty, &given)?),
                }
            }
            Source::Body => match (parts.body, v.param.as_str()) {
                (None, _) => None,
                (Some(body), ".") => Some(body.clone()),
                (Some(Value::Object(body)), member) => body.get(member).cloned(),
                (Some(_), _) => return Err(BadInput("the body must be a JSON object".to_owned())),
            },
        };
        match value.or_else(|| v.default.clone()) {
            Some(value) => {
                out.insert(v.name.clone(), value);
            }
            None if v.is_required() => return Err(bad(v, "is required")),
            None => {}
        }
    }
    Ok(out)
}

/// A JSON object body has only the members the route reads (when it
/// reads members, not the whole body): the OpenAPI document says so.
fn check_body_members(route: &Route, body: Option<&Value>) -> Result<(), BadInput> {
    let Some(Value::Object(body)) = body else {
        return Ok(());
    };
    let members: Vec<&str> = route
        .variables
        .iter()
        .filter(|v| v.source == Some(Source::Body))
        .map(|v| v.param.as_str())
        .collect();
    if members.contains(&".") {
        return Ok(());
    }
    match body.keys().find(|k| !members.contains(&k.as_str())) {
        Some(unknown) => Err(BadInput(format!(
            "the body has an unknown member `{unknown}`"
        ))),
        None => Ok(()),
    }
}

/// What a variable's source is called in messages.
fn what(v: &Variable) -> String {
    match v.source {
        Some(Source::Path) => format!("path parameter `{}`", v.param),
        Some(Source::Query) => format!("query parameter `{}`", v.param),
        Some(Source::Header) => format!("header `{}`", v.param),
        Some(Source::Body) if v.param == "." => "the body".to_owned(),
        Some(Source::Body) => format!("body member `{}`", v.param),
        None => format!("variable `${}`", v.name),
    }
}

fn bad(v: &Variable, why: &str) -> BadInput {
    BadInput(format!("{} {why}", what(v)))
}

/// The JSON value of `texts` (one, or several for a list) as type `ty`.
fn typed(schema: &Schema, v: &Variable, ty: &Type, texts: &[String]) -> Result<Value, BadInput> {
    match ty {
        Type::List(item) | Type::NonNullList(item) => {
            let items: Vec<&str> = texts
                .iter()
                .flat_map(|t| t.split(','))
                .filter(|t| !t.is_empty())
                .collect();
            items
                .iter()
                .map(|t| typed(schema, v, item, &[(*t).to_owned()]))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        Type::Named(name) | Type::NonNullNamed(name) => {
            let [text] = texts else {
                return Err(bad(v, "is given more than once"));
            };
            scalar(schema, v, name.as_str(), text)
        }
    }
}

/// One text as the named type `name`.
fn scalar(schema: &Schema, v: &Variable, name: &str, text: &str) -> Result<Value, BadInput> {
    let not = |what: &str| bad(v, &format!("`{text}` is not {what}"));
    match name {
        "Int" => text
            .parse::<i32>()
            .map(|n| Value::Number(n.into()))
            .map_err(|_| not("an Int (a 32-bit integer)")),
        "Float" => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| not("a Float")),
        "Boolean" => match text {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(not("a Boolean (true or false)")),
        },
        "String" | "ID" => Ok(Value::String(text.to_owned())),
        _ => match schema.types.get(name) {
            Some(t) if t.is_enum() => Ok(Value::String(text.to_owned())),
            Some(t) if t.is_input_object() => {
                serde_json::from_str(text).map_err(|_| not("a JSON object"))
            }
            // A custom scalar: JSON when it reads as JSON, else the text.
            _ => Ok(serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))),
        },
    }
}

/// `%XX`-decodes a path segment (a `+` stays a `+`).
fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::config::{RouteConfig, VariableSource};
    use apollo_compiler::validation::Valid;
    use serde_json::json;

    fn schema() -> Valid<Schema> {
        Schema::parse_and_validate(
            "enum Color { RED GREEN }
             input Filter { name: String, min: Int }
             scalar JSON
             type Query { items(id: ID!, n: Int, f: Float, b: Boolean, ids: [ID!], c: Color,
                                filter: Filter, j: JSON, tag: String): [String] }",
            "s.graphql",
        )
        .unwrap()
    }

    fn route(variables: &[(&str, Source, Option<&str>)]) -> Route {
        let config = RouteConfig {
            method: "GET".into(),
            path: "/items/:id".into(),
            operation: None,
            file: None,
            persisted_id: None,
            operation_name: None,
            variables: variables
                .iter()
                .map(|(n, from, name)| {
                    let source = VariableSource {
                        from: *from,
                        name: name.map(str::to_owned),
                        default: (*n == "tag").then(|| json!("dflt")),
                    };
                    (n.to_string(), source)
                })
                .collect(),
            response: Default::default(),
            status: None,
            summary: None,
        };
        let text = "query Q($id: ID!, $n: Int, $f: Float, $b: Boolean, $ids: [ID!], $c: Color,
                            $filter: Filter, $j: JSON, $tag: String) {
            items(id: $id, n: $n, f: $f, b: $b, ids: $ids, c: $c, filter: $filter, j: $j, tag: $tag) }";
        crate::rest::route::compile(&schema(), &config, text).unwrap()
    }

    fn all() -> Route {
        route(&[
            ("id", Source::Path, None),
            ("n", Source::Query, Some("limit")),
            ("f", Source::Query, None),
            ("b", Source::Query, None),
            ("ids", Source::Query, None),
            ("c", Source::Header, Some("x-color")),
            ("filter", Source::Body, None),
            ("j", Source::Query, None),
            ("tag", Source::Query, None),
        ])
    }

    fn run(
        route: &Route,
        query: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<Value, BadInput> {
        let mut map = http::HeaderMap::new();
        for (k, v) in headers {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let parts = Parts {
            path: vec![("id", "a%20b")],
            query,
            headers: &map,
            body: body.as_ref(),
        };
        variables(&schema(), route, &parts).map(Value::Object)
    }

    #[test]
    fn each_source_typed() {
        let got = run(
            &all(),
            "limit=5&f=1.5&b=true&ids=1,2&ids=3&j=%7B%22a%22%3A1%7D",
            &[("x-color", "RED")],
            Some(json!({"filter": {"name": "x"}})),
        )
        .unwrap();
        assert_eq!(
            got,
            json!({"id": "a b", "n": 5, "f": 1.5, "b": true, "ids": ["1", "2", "3"],
                   "c": "RED", "filter": {"name": "x"}, "j": {"a": 1}, "tag": "dflt"})
        );
        // Absent optional values are left out (the operation's default or null).
        assert_eq!(
            run(&all(), "", &[], None).unwrap(),
            json!({"id": "a b", "tag": "dflt"})
        );
    }

    #[test]
    fn bad_input_names_the_parameter() {
        let e = |q: &str| run(&all(), q, &[], None).unwrap_err().0;
        assert_eq!(
            e("limit=x"),
            "query parameter `limit` `x` is not an Int (a 32-bit integer)"
        );
        assert!(e("limit=99999999999").contains("32-bit"));
        assert!(e("b=yes").contains("Boolean"));
        assert!(e("f=abc").contains("Float"));
        assert!(e("limit=1&limit=2").contains("more than once"));
        let unknown = run(&all(), "", &[], Some(json!({"filter": {}, "x": 1})))
            .unwrap_err()
            .0;
        assert_eq!(unknown, "the body has an unknown member `x`");
        let body = run(&all(), "", &[], Some(json!([1]))).unwrap_err().0;
        assert!(body.contains("JSON object"), "{body}");
        let whole = route(&[
            ("id", Source::Path, None),
            ("filter", Source::Body, Some(".")),
        ]);
        let got = run(&whole, "", &[], Some(json!({"min": 1}))).unwrap();
        assert_eq!(got["filter"], json!({"min": 1}));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Fb%C3%A9").as_deref(), Some("a/bé"));
        assert_eq!(percent_decode("a+b").as_deref(), Some("a+b"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%"), None);
        assert_eq!(percent_decode("%ff"), None);
    }
}
