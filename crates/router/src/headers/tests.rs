//! The rules, one by one, on header maps.

use super::*;

/// Compiles `yaml` (a `headers:` section) for subgraphs `a` and `b`.
fn headers(yaml: &str) -> Headers {
    let config: HeadersConfig = crate::config::yaml::from_str(yaml).unwrap();
    config.validate().unwrap();
    Headers::new(&config, &["a", "b"]).unwrap()
}

/// The client headers `pairs`.
fn client(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    map
}

/// `map` as sorted `name: value` lines.
fn lines(map: &HeaderMap) -> Vec<String> {
    let mut out: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap()))
        .collect();
    out.sort();
    out
}

/// The `(key, message)` validation error of `yaml`.
fn invalid(yaml: &str) -> (String, String) {
    let config: HeadersConfig = crate::config::yaml::from_str(yaml).unwrap();
    config.validate().unwrap_err()
}

#[test]
fn no_rules_no_work() {
    let h = headers("{}");
    assert!(h.is_empty());
    assert!(h.for_request(&client(&[("authorization", "x")])).is_empty());
}

#[test]
fn propagate_named_with_rename_and_default() {
    let h = headers(
        "all:\n  request:\n    - propagate: {named: authorization}\n    - propagate: {named: x-user, rename: account-id, default: anonymous}\n",
    );
    let out = h.for_request(&client(&[("authorization", "Bearer t"), ("x-other", "1")]));
    assert_eq!(out.len(), 2);
    assert_eq!(
        lines(&out[0]),
        ["account-id: anonymous", "authorization: Bearer t"]
    );
    assert_eq!(lines(&out[1]), lines(&out[0]));
    let out = h.for_request(&client(&[("x-user", "42")]));
    assert_eq!(lines(&out[0]), ["account-id: 42"]);
}

#[test]
fn propagate_keeps_every_value_of_a_repeated_header() {
    let h = headers("all:\n  request:\n    - propagate: {named: x-tag}\n");
    let out = h.for_request(&client(&[("x-tag", "1"), ("x-tag", "2")]));
    assert_eq!(lines(&out[0]), ["x-tag: 1", "x-tag: 2"]);
}

#[test]
fn propagate_matching_skips_hop_by_hop_and_router_set_headers() {
    let h = headers("all:\n  request:\n    - propagate: {matching: '.*'}\n");
    let out = h.for_request(&client(&[
        ("x-a", "1"),
        ("connection", "keep-alive, x-secret"),
        ("x-secret", "s"),
        ("keep-alive", "timeout=5"),
        ("te", "trailers"),
        ("upgrade", "h2c"),
        ("host", "example.com"),
        ("content-length", "10"),
        ("content-type", "application/json"),
        ("accept", "*/*"),
        ("accept-encoding", "gzip"),
        ("proxy-authorization", "p"),
        ("transfer-encoding", "chunked"),
    ]));
    assert_eq!(lines(&out[0]), ["x-a: 1"]);
}

#[test]
fn propagate_named_never_forwards_a_header_connection_names() {
    let h = headers("all:\n  request:\n    - propagate: {named: x-secret, default: d}\n");
    let out = h.for_request(&client(&[("connection", "x-secret"), ("x-secret", "s")]));
    assert_eq!(lines(&out[0]), ["x-secret: d"]);
}

#[test]
fn insert_and_remove() {
    let h = headers(
        "all:\n  request:\n    - propagate: {matching: '^x-'}\n    - insert: {name: x-gateway, value: goliath}\n    - remove: {named: x-drop}\n    - remove: {matching: '^x-trace-'}\n",
    );
    let out = h.for_request(&client(&[
        ("x-keep", "k"),
        ("x-drop", "d"),
        ("x-trace-id", "t"),
        ("y-not", "n"),
    ]));
    assert_eq!(lines(&out[0]), ["x-gateway: goliath", "x-keep: k"]);
}

#[test]
fn subgraph_rules_follow_the_rules_for_all() {
    let h = headers(
        "all:\n  request:\n    - propagate: {named: authorization}\nsubgraphs:\n  b:\n    request:\n      - remove: {named: authorization}\n      - insert: {name: x-b, value: only-b}\n",
    );
    let out = h.for_request(&client(&[("authorization", "t")]));
    assert_eq!(lines(&out[0]), ["authorization: t"]);
    assert_eq!(lines(&out[1]), ["x-b: only-b"]);
}

#[test]
fn a_subgraph_alone_has_rules() {
    let h = headers("subgraphs:\n  a:\n    request:\n      - propagate: {named: authorization}\n");
    let out = h.for_request(&client(&[("authorization", "t")]));
    assert_eq!(lines(&out[0]), ["authorization: t"]);
    assert!(out[1].is_empty());
}

#[test]
fn unknown_subgraphs_are_refused() {
    let config: HeadersConfig =
        crate::config::yaml::from_str("subgraphs:\n  c:\n    request: []\n").unwrap();
    let err = Headers::new(&config, &["a", "b"]).unwrap_err();
    assert!(err.contains("headers.subgraphs.c"), "{err}");
}

#[test]
fn bad_rules_name_their_key() {
    let (key, message) = invalid("all:\n  request:\n    - propagate: {named: 'bad name'}\n");
    assert_eq!(key, "headers.all.request[0].propagate.named");
    assert!(message.contains("not an HTTP header name"), "{message}");
    let (key, message) = invalid("all:\n  request:\n    - insert: {name: host, value: x}\n");
    assert_eq!(key, "headers.all.request[0].insert.name");
    assert!(message.contains("never sent"), "{message}");
    let (key, _) = invalid("subgraphs:\n  a:\n    request:\n      - propagate: {matching: '('}\n");
    assert_eq!(key, "headers.subgraphs.a.request[0].propagate.matching");
    let (key, message) = invalid("all:\n  request:\n    - propagate: {named: a, matching: b}\n");
    assert_eq!(key, "headers.all.request[0].propagate");
    assert!(message.contains("exactly one"), "{message}");
    let (_, message) = invalid("all:\n  request:\n    - propagate: {matching: a, rename: b}\n");
    assert!(message.contains("`rename`"), "{message}");
    let (key, _) = invalid("all:\n  request:\n    - insert: {name: x-a, value: \"a\\nb\"}\n");
    assert_eq!(key, "headers.all.request[0].insert.value");
    let (key, _) = invalid("all:\n  request:\n    - remove: {}\n");
    assert_eq!(key, "headers.all.request[0].remove");
}

#[test]
fn unknown_rule_kinds_are_refused_by_name() {
    let err = crate::config::yaml::from_str::<HeadersConfig>(
        "all:\n  request:\n    - copy: {named: a}\n",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("copy"), "{err}");
}

#[test]
fn a_rule_is_one_kind() {
    let (key, message) = invalid(
        "all:\n  request:\n    - insert: {name: x-a, value: a}\n      remove: {named: x-a}\n",
    );
    assert_eq!(key, "headers.all.request[0]");
    assert!(message.contains("one of"), "{message}");
    let (key, _) = invalid("all:\n  request:\n    - {}\n");
    assert_eq!(key, "headers.all.request[0]");
}
