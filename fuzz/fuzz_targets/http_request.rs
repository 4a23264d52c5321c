//! The GraphQL-over-HTTP request decoder (crates/router/src/http/decode.rs).
//!
//! Input: byte 0 picks what the rest is:
//! - `0`: a POST body. The decoder must agree with a model built on
//!   `serde_json` (not JSON or not an object: 400 `BAD_REQUEST`;
//!   `query`/`operationName` strings or null, `variables`/`extensions`
//!   objects or null; no query and no persisted query:
//!   `MISSING_QUERY_STRING`), and a decoded request must come back the
//!   same when encoded as a POST body and as a GET query string.
//! - `1`: a GET query string (UTF-8, as hyper hands it over): no panic,
//!   and a decoded request must come back the same when encoded again.
//! - `2`: header values, one per line: the first is `Content-Type`, the
//!   others `Accept`. Content negotiation must not panic, must pick JSON
//!   when there is no `Accept`, and accept only `application/json`
//!   content types.

#![no_main]

use goliath_router::fuzzing::{
    decode_get, decode_post_body, is_json_content_type, negotiate, DecodeError,
};
use goliath_router::Request;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => post(rest),
        1 => {
            if let Ok(query) = std::str::from_utf8(rest) {
                get(query)
            }
        }
        _ => headers(rest),
    }
});

/// What the decoder should make of a POST body: the request, or the
/// error code.
fn model(body: &[u8]) -> Result<Request, &'static str> {
    let Ok(Value::Object(mut params)) = serde_json::from_slice::<Value>(body) else {
        return Err("BAD_REQUEST");
    };
    let mut take = |name: &str| params.remove(name).unwrap_or(Value::Null);
    let string = |v: Value| match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err("BAD_REQUEST"),
    };
    let object = |v: Value| match v {
        Value::Null => Ok(Map::new()),
        Value::Object(m) => Ok(m),
        _ => Err("BAD_REQUEST"),
    };
    let query = string(take("query"))?;
    let operation_name = string(take("operationName"))?;
    let variables = object(take("variables"))?;
    let extensions = object(take("extensions"))?;
    if query.is_none() && !extensions.contains_key("persistedQuery") {
        return Err("MISSING_QUERY_STRING");
    }
    Ok(Request {
        query,
        operation_name,
        variables,
        extensions,
        is_get: false,
        ..Request::default()
    })
}

fn post(body: &[u8]) {
    let decoded = decode_post_body(body);
    match (&decoded, model(body)) {
        (Ok(ours), Ok(expected)) => assert_same(ours, &expected),
        (Err(e), Err(code)) => {
            assert_eq!(e.code, code, "{e:?}");
            assert_eq!(e.status, 400, "{e:?}");
        }
        (ours, expected) => panic!("decoder {ours:?}, model {expected:?}"),
    }
    if let Ok(req) = decoded {
        // Encoded again as a POST body: the same request.
        let again = decode_post_body(&post_body(&req)).expect("a re-encoded body decodes");
        assert_same(&again, &req);
        // As a GET query string: the same request, except that empty
        // strings count as absent there.
        let mut expected = req.clone();
        expected.is_get = true;
        expected.query = expected.query.filter(|q| !q.is_empty());
        expected.operation_name = expected.operation_name.filter(|n| !n.is_empty());
        match decode_get(&query_string(&req)) {
            Ok(again) => assert_same(&again, &expected),
            Err(e) => {
                assert!(
                    expected.query.is_none() && e.code == "MISSING_QUERY_STRING",
                    "{e:?} for {expected:?}"
                );
            }
        }
    }
}

fn get(query: &str) {
    let decoded = decode_get(query);
    if let Err(DecodeError { status, .. }) = &decoded {
        assert_eq!(*status, 400, "{decoded:?}");
    }
    if let Ok(req) = decoded {
        assert!(req.is_get);
        assert!(req.query.as_ref().is_none_or(|q| !q.is_empty()));
        let again = decode_get(&query_string(&req)).expect("a re-encoded query string decodes");
        assert_same(&again, &req);
    }
}

fn headers(rest: &[u8]) {
    let mut lines = rest.split(|&b| b == b'\n');
    let mut headers = HeaderMap::new();
    let content_type = lines.next().and_then(|v| HeaderValue::from_bytes(v).ok());
    if let Some(v) = &content_type {
        headers.insert(CONTENT_TYPE, v.clone());
    }
    for line in lines {
        if let Ok(v) = HeaderValue::from_bytes(line) {
            headers.append(ACCEPT, v);
        }
    }
    let media = negotiate(&headers);
    if headers
        .get_all(ACCEPT)
        .iter()
        .all(|v| v.as_bytes().trim_ascii().is_empty())
    {
        assert_eq!(media, Some("application/json; charset=utf-8"));
    }
    if is_json_content_type(&headers) {
        let v = content_type.expect("a content type");
        let essence = v.to_str().expect("text").split(';').next().unwrap().trim();
        assert!(essence.eq_ignore_ascii_case("application/json"), "{v:?}");
    }
}

fn assert_same(a: &Request, b: &Request) {
    assert_eq!(a.query, b.query);
    assert_eq!(a.operation_name, b.operation_name);
    assert!(same_map(&a.variables, &b.variables), "{a:?} != {b:?}");
    assert!(same_map(&a.extensions, &b.extensions), "{a:?} != {b:?}");
    assert_eq!(a.is_get, b.is_get);
}

/// JSON equality, floats within a few units in the last place:
/// `serde_json` parses floats on a best-effort basis (without its
/// `float_roundtrip` feature), so printing and parsing one again may move
/// its last bit.
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            x == y || (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => same_map(x, y),
        _ => a == b,
    }
}

fn same_map(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| same_json(v, w)))
}

/// `req` as a POST body.
fn post_body(req: &Request) -> Vec<u8> {
    let mut params = Map::new();
    if let Some(q) = &req.query {
        params.insert("query".into(), q.clone().into());
    }
    if let Some(n) = &req.operation_name {
        params.insert("operationName".into(), n.clone().into());
    }
    params.insert("variables".into(), Value::Object(req.variables.clone()));
    params.insert("extensions".into(), Value::Object(req.extensions.clone()));
    serde_json::to_vec(&Value::Object(params)).unwrap()
}

/// `req` as a GET query string (every byte but letters and digits
/// percent-encoded).
fn query_string(req: &Request) -> String {
    let mut pairs = vec![];
    if let Some(q) = &req.query {
        pairs.push(("query", q.clone()));
    }
    if let Some(n) = &req.operation_name {
        pairs.push(("operationName", n.clone()));
    }
    if !req.variables.is_empty() {
        pairs.push(("variables", serde_json::to_string(&req.variables).unwrap()));
    }
    if !req.extensions.is_empty() {
        pairs.push((
            "extensions",
            serde_json::to_string(&req.extensions).unwrap(),
        ));
    }
    pairs
        .iter()
        .map(|(k, v)| {
            let mut s = format!("{k}=");
            for b in v.bytes() {
                if b.is_ascii_alphanumeric() {
                    s.push(b as char);
                } else {
                    s.push_str(&format!("%{b:02X}"));
                }
            }
            s
        })
        .collect::<Vec<_>>()
        .join("&")
}
