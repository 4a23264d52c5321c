//! Decoding GraphQL-over-HTTP requests: the POST body or the GET query
//! string into a [`Request`], and the response media type from `Accept`.

use http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use serde_json::{Map, Value};

use crate::pipeline::Request;

/// The two response media types of GraphQL over HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MediaType {
    /// `application/json`, the legacy type: request errors are 200.
    Json,
    /// `application/graphql-response+json`: request errors are 400.
    GraphqlResponse,
}

impl MediaType {
    /// The `Content-Type` value for this type.
    pub(super) fn content_type(self) -> &'static str {
        match self {
            MediaType::Json => "application/json; charset=utf-8",
            MediaType::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        }
    }
}

/// An HTTP-level failure to decode a GraphQL request.
#[derive(Debug)]
pub(super) struct DecodeError {
    pub(super) status: StatusCode,
    pub(super) message: String,
    pub(super) code: &'static str,
}

impl DecodeError {
    /// A 400 `BAD_REQUEST`.
    fn bad_request(message: impl Into<String>) -> Self {
        DecodeError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            code: "BAD_REQUEST",
        }
    }
}

/// Checks the content type and reads a POST body into a [`Request`].
pub(super) async fn read_post(
    req: http::Request<Incoming>,
    max_body_bytes: usize,
) -> Result<Request, DecodeError> {
    if !is_json_content_type(req.headers()) {
        return Err(DecodeError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            message: "Content-Type must be application/json".into(),
            code: "UNSUPPORTED_MEDIA_TYPE",
        });
    }
    let too_large = || DecodeError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        message: format!("request body is larger than {max_body_bytes} bytes"),
        code: "PAYLOAD_TOO_LARGE",
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max_body_bytes as u64) {
        return Err(too_large());
    }
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, max_body_bytes).collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => return Err(too_large()),
        Err(e) => {
            return Err(DecodeError::bad_request(format!(
                "cannot read the request body: {e}"
            )))
        }
    };
    let mut request = decode_post_body(&body)?;
    request.headers = parts.headers;
    Ok(request)
}

/// Decodes a POST body, read whole, into a [`Request`].
pub(super) fn decode_post_body(body: &[u8]) -> Result<Request, DecodeError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        DecodeError::bad_request(format!("the request body is not valid JSON: {e}"))
    })?;
    let Value::Object(mut params) = value else {
        return Err(DecodeError::bad_request(
            "the request body must be a JSON object",
        ));
    };
    let mut param = |name: &str| params.remove(name).unwrap_or(Value::Null);
    build_request(
        string_param("query", param("query"))?,
        string_param("operationName", param("operationName"))?,
        object_param("variables", param("variables"))?,
        object_param("extensions", param("extensions"))?,
        false,
    )
}

/// Decodes the GET parameters from a URL query string.
pub(super) fn decode_get(query: &str) -> Result<Request, DecodeError> {
    let mut params = get_params(
        query,
        &["query", "operationName", "variables", "extensions"],
    )?;
    let mut param = |name: &str| params.remove(name).unwrap_or(Value::Null);
    let variables = json_param("variables", param("variables"))?;
    let extensions = json_param("extensions", param("extensions"))?;
    build_request(
        string_param("query", param("query"))?,
        string_param("operationName", param("operationName"))?,
        object_param("variables", variables)?,
        object_param("extensions", extensions)?,
        true,
    )
}

/// Decodes `GET {graphql_path}/{operation_name}?id=ID&variables=...`, a
/// persisted query by id (a manifest id or an APQ hash) in a URL a CDN can
/// cache: the request `extensions.persistedQuery {version: 1, sha256Hash:
/// ID}` with that operation name. Other parameters are ignored.
pub(super) fn decode_get_by_id(operation_name: &str, query: &str) -> Result<Request, DecodeError> {
    let mut params = get_params(query, &["id", "variables"])?;
    let Some(Value::String(id)) = params.remove("id") else {
        return Err(DecodeError::bad_request(format!(
            "`GET .../{operation_name}` needs the persisted query's id: `?id=`"
        )));
    };
    let variables = json_param("variables", params.remove("variables").unwrap_or_default())?;
    let mut extensions = Map::new();
    extensions.insert(
        "persistedQuery".to_owned(),
        serde_json::json!({"version": 1, "sha256Hash": id}),
    );
    build_request(
        None,
        Some(operation_name.to_owned()),
        object_param("variables", variables)?,
        extensions,
        true,
    )
}

/// The operation name in a persisted query's path form,
/// `{graphql_path}/{name}`, where `name` is a GraphQL name; `None` for any
/// other path.
pub(super) fn path_operation<'p>(path: &'p str, graphql_path: &str) -> Option<&'p str> {
    let name = path
        .strip_prefix(graphql_path.trim_end_matches('/'))?
        .strip_prefix('/')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    let is_name = (first == '_' || first.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric());
    is_name.then_some(name)
}

/// The parameters of a URL query string among `names` (others ignored;
/// empty values count as absent), as strings; each at most once.
fn get_params(query: &str, names: &[&str]) -> Result<Map<String, Value>, DecodeError> {
    let mut params: Map<String, Value> = Map::new();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if !names.contains(&&*name) {
            continue;
        }
        if params.contains_key(&*name) {
            return Err(DecodeError::bad_request(format!(
                "parameter `{name}` is given more than once"
            )));
        }
        if !value.is_empty() {
            params.insert(name.into_owned(), Value::String(value.into_owned()));
        }
    }
    Ok(params)
}

/// A GET parameter holding JSON text, parsed (absent stays null).
fn json_param(name: &str, value: Value) -> Result<Value, DecodeError> {
    match value {
        Value::String(text) => serde_json::from_str(&text).map_err(|e| {
            DecodeError::bad_request(format!("parameter `{name}` is not valid JSON: {e}"))
        }),
        other => Ok(other),
    }
}

/// Assembles a [`Request`], insisting on a query or a persisted query.
fn build_request(
    query: Option<String>,
    operation_name: Option<String>,
    variables: Map<String, Value>,
    extensions: Map<String, Value>,
    is_get: bool,
) -> Result<Request, DecodeError> {
    if query.is_none() && !extensions.contains_key("persistedQuery") {
        return Err(DecodeError {
            status: StatusCode::BAD_REQUEST,
            message: "Must provide query string.".into(),
            code: "MISSING_QUERY_STRING",
        });
    }
    Ok(Request {
        query,
        operation_name,
        variables,
        extensions,
        is_get,
        headers: http::HeaderMap::new(),
        deadline: None,
        content_version: None,
        configured: false,
    })
}

/// A string-or-null request parameter.
fn string_param(name: &str, value: Value) -> Result<Option<String>, DecodeError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(DecodeError::bad_request(format!(
            "`{name}` must be a string"
        ))),
    }
}

/// An object-or-null request parameter (null gives an empty map).
fn object_param(name: &str, value: Value) -> Result<Map<String, Value>, DecodeError> {
    match value {
        Value::Null => Ok(Map::new()),
        Value::Object(map) => Ok(map),
        _ => Err(DecodeError::bad_request(format!(
            "`{name}` must be an object"
        ))),
    }
}

/// Whether the request's `Content-Type` is `application/json`, with no
/// charset or UTF-8.
pub(super) fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        && parts.all(|param| match param.split_once('=') {
            Some((key, value)) if key.trim().eq_ignore_ascii_case("charset") => {
                let value = value.trim().trim_matches('"');
                value.eq_ignore_ascii_case("utf-8") || value.eq_ignore_ascii_case("utf8")
            }
            _ => true,
        })
}

/// Chooses the response media type from the `Accept` headers, or `None`
/// when neither type is acceptable.
pub(super) fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
    let values = headers.get_all(ACCEPT);
    if values.iter().all(|v| v.as_bytes().trim_ascii().is_empty()) {
        return Some(MediaType::Json);
    }
    let ranges: Vec<(String, f32)> = values
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(parse_media_range)
        .collect();
    // The quality of the most specific range that matches `wanted`.
    let quality = |wanted: &str, wildcards: &[&str]| {
        std::iter::once(wanted)
            .chain(wildcards.iter().copied())
            .find_map(|pattern| {
                ranges
                    .iter()
                    .find(|(range, _)| range == pattern)
                    .map(|(_, q)| *q)
            })
            .unwrap_or(0.0)
    };
    let graphql = quality("application/graphql-response+json", &[]);
    let json = quality("application/json", &["application/*", "*/*"]);
    if graphql > 0.0 && graphql >= json {
        Some(MediaType::GraphqlResponse)
    } else if json > 0.0 {
        Some(MediaType::Json)
    } else {
        None
    }
}

/// Parses one `Accept` entry into a lower-cased `type/subtype` and its `q`;
/// `None` for an empty entry or an unreadable `q`.
fn parse_media_range(entry: &str) -> Option<(String, f32)> {
    let mut parts = entry.split(';');
    let range = parts.next()?.trim().to_ascii_lowercase();
    if range.is_empty() {
        return None;
    }
    let mut q = 1.0;
    for param in parts {
        if let Some((key, value)) = param.split_once('=') {
            if key.trim().eq_ignore_ascii_case("q") {
                q = value
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))?;
            }
        }
    }
    Some((range, q))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    /// Headers with the given `Accept` values.
    fn accept(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(ACCEPT, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn negotiation() {
        use MediaType::*;
        let cases: &[(&[&str], Option<MediaType>)] = &[
            (&[], Some(Json)),
            (&["*/*"], Some(Json)),
            (&["application/*"], Some(Json)),
            (&["application/json"], Some(Json)),
            (
                &["application/graphql-response+json"],
                Some(GraphqlResponse),
            ),
            (
                &["application/graphql-response+json, application/json;q=0.9"],
                Some(GraphqlResponse),
            ),
            (
                &["application/json", "application/graphql-response+json"],
                Some(GraphqlResponse),
            ),
            (
                &["application/json, application/graphql-response+json;q=0.5"],
                Some(Json),
            ),
            (&["Application/JSON; charset=utf-8"], Some(Json)),
            (&["text/html"], None),
            (&["application/json;q=0"], None),
            (&["*/*;q=0.5, application/json;q=0"], None),
            (&["application/graphql-response+json;q=0, */*"], Some(Json)),
            (&["application/json;q=bogus"], None),
        ];
        for (values, expected) in cases {
            assert_eq!(negotiate(&accept(values)), *expected, "{values:?}");
        }
    }

    #[test]
    fn content_types() {
        let check = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
            is_json_content_type(&headers)
        };
        assert!(check("application/json"));
        assert!(check("application/json; charset=utf-8"));
        assert!(check("Application/Json;charset=\"UTF-8\""));
        assert!(!check("application/json; charset=latin1"));
        assert!(!check("application/graphql"));
        assert!(!check("text/plain"));
        assert!(!is_json_content_type(&HeaderMap::new()));
    }

    #[test]
    fn get_parameters() {
        let req =
            decode_get("query=%7B+a+%7D&operationName=Op&variables=%7B%22x%22%3A1%7D&other=1")
                .unwrap();
        assert_eq!(req.query.as_deref(), Some("{ a }"));
        assert_eq!(req.operation_name.as_deref(), Some("Op"));
        assert_eq!(req.variables["x"], 1);
        assert!(req.is_get);
        let req = decode_get("query=%7Ba%7D&variables=&operationName=&extensions=null").unwrap();
        assert_eq!(req.operation_name, None);
        assert!(req.variables.is_empty() && req.extensions.is_empty());
        assert_eq!(decode_get("").unwrap_err().code, "MISSING_QUERY_STRING");
        assert_eq!(
            decode_get("query=a&query=b").unwrap_err().code,
            "BAD_REQUEST"
        );
        assert_eq!(
            decode_get("query=a&variables=%5B%5D").unwrap_err().code,
            "BAD_REQUEST"
        );
        assert_eq!(
            decode_get("query=a&variables={").unwrap_err().code,
            "BAD_REQUEST"
        );
        let req = decode_get("extensions=%7B%22persistedQuery%22%3A%7B%7D%7D").unwrap();
        assert_eq!(req.query, None);
    }

    #[test]
    fn get_by_id() {
        let req = decode_get_by_id("GetUser", "id=abc&variables=%7B%22x%22%3A1%7D&v=7").unwrap();
        assert_eq!(req.query, None);
        assert_eq!(req.operation_name.as_deref(), Some("GetUser"));
        assert_eq!(req.variables["x"], 1);
        assert_eq!(
            req.extensions["persistedQuery"],
            serde_json::json!({"version": 1, "sha256Hash": "abc"})
        );
        assert!(req.is_get);
        for bad in [
            "",
            "id=",
            "variables=%7B%7D",
            "id=a&id=b",
            "id=a&variables=%5B%5D",
        ] {
            assert_eq!(
                decode_get_by_id("Op", bad).unwrap_err().code,
                "BAD_REQUEST",
                "{bad}"
            );
        }
    }

    #[test]
    fn path_operations() {
        assert_eq!(
            path_operation("/graphql/GetUser", "/graphql"),
            Some("GetUser")
        );
        assert_eq!(path_operation("/graphql/_a1", "/graphql/"), Some("_a1"));
        assert_eq!(path_operation("/GetUser", "/"), Some("GetUser"));
        for (path, graphql_path) in [
            ("/graphql", "/graphql"),
            ("/graphql/", "/graphql"),
            ("/graphql/1a", "/graphql"),
            ("/graphql/a/b", "/graphql"),
            ("/graphql/a.js", "/graphql"),
            ("/graphqlx/a", "/graphql"),
            ("/other/a", "/graphql"),
            ("/graphql/graphiql/", "/graphql"),
        ] {
            assert_eq!(path_operation(path, graphql_path), None, "{path}");
        }
    }
}
