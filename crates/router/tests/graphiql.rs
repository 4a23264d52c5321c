//! GraphiQL (`graphiql:`), end to end on loopback: the page and its
//! assets, when it is on and off, and a query run through its UI in
//! headless Chromium (driven over the DevTools protocol) against a router
//! in front of real subgraphs.

#[allow(dead_code)]
mod support;

#[path = "graphiql/browser.rs"]
mod browser;

use goliath_router::Config;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{json, Value};
use support::{error_codes, TestGraph};

/// What a browser sends when it opens a page.
const BROWSER_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

/// The files the page loads, with their content types.
const ASSETS: [(&str, &str); 5] = [
    ("graphiql.min.css", "text/css; charset=utf-8"),
    ("react.production.min.js", "text/javascript; charset=utf-8"),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
    ),
    ("graphiql.min.js", "text/javascript; charset=utf-8"),
    ("init.js", "text/javascript; charset=utf-8"),
];

/// The router and subgraphs, with the router's config read from `yaml`.
async fn start(yaml: &str) -> TestGraph {
    let config = Config::from_yaml_str(yaml).expect("the config loads");
    TestGraph::start_with(move |c| *c = config).await
}

/// The value of `name` in `headers`, "" when absent.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

/// A GET of `path` as a browser opens it.
async fn browse(graph: &TestGraph, path: &str) -> (StatusCode, HeaderMap, Value) {
    graph
        .send(Method::GET, path, &[("accept", BROWSER_ACCEPT)], "")
        .await
}

/// The values of every `src="..."` and `href="..."` in `html`.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for piece in html.split(attribute).skip(1) {
            found.push(piece.split('"').next().unwrap().to_string());
        }
    }
    found
}

/// A vendored (or our own) asset's text, from the source tree.
fn source_text(name: &str) -> String {
    let folder = if name == "init.js" { "" } else { "assets/" };
    let path = format!("{}/src/graphiql/{folder}{name}", env!("CARGO_MANIFEST_DIR"));
    String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned()
}

#[tokio::test]
async fn page_and_assets_are_served() {
    let graph = start("").await;
    let (status, headers, body) = browse(&graph, "/graphql").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&headers, "cache-control"), "no-cache");
    let policy = header(&headers, "content-security-policy");
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(policy.contains("script-src 'self';"), "{policy}");
    assert!(policy.contains("connect-src 'self';"), "{policy}");
    let html = body.as_str().expect("an HTML page");
    assert!(html.contains("<div id=\"graphiql\">"), "{html}");
    // Nothing from another host: no absolute URL at all.
    assert!(
        !html.contains("http://") && !html.contains("https://") && !html.contains("//cdn"),
        "{html}"
    );

    // Every reference is relative, into the router's own asset folder
    // (but the empty favicon, inline), and every asset is referenced.
    let mut refs = references(html);
    refs.retain(|r| r != "data:,");
    assert_eq!(refs.len(), ASSETS.len(), "{refs:?}");
    for (name, content_type) in ASSETS {
        let reference = refs
            .iter()
            .find(|r| r.starts_with(&format!("./graphql/graphiql/{name}?v=")))
            .unwrap_or_else(|| panic!("{name} is not referenced: {refs:?}"));
        let path = &reference[1..];
        let (status, headers, body) = browse(&graph, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(header(&headers, "content-type"), content_type, "{path}");
        assert!(
            header(&headers, "cache-control").contains("immutable"),
            "{path}"
        );
        assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
        assert!(
            body == Value::String(source_text(name)),
            "{path}: not the file"
        );
    }
    // The query string is for caches; the file is the same without it.
    let (status, _, _) = browse(&graph, "/graphql/graphiql/graphiql.min.js").await;
    assert_eq!(status, StatusCode::OK);
    // Nothing else is served there.
    for path in [
        "/graphql/graphiql/",
        "/graphql/graphiql/nope.js",
        "/graphql/graphiql/../graphiql.min.js",
        "/graphiql/graphiql.min.js",
    ] {
        let (status, _, _) = browse(&graph, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _, _) = graph
        .send(Method::POST, "/graphql/graphiql/init.js", &[], "")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn json_clients_still_get_json() {
    let graph = start("").await;
    let me = json!({"data": {"me": {"name": "Ada Lovelace"}}});
    // The page with a query in its URL is still the page for a browser...
    let (status, headers, _) = browse(&graph, "/graphql?query=%7Bme%7Bname%7D%7D").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
    // ...and JSON for everyone else.
    for accept in [
        "application/json",
        "application/graphql-response+json",
        "*/*",
    ] {
        let (status, headers, body) = graph
            .send(
                Method::GET,
                "/graphql?query=%7Bme%7Bname%7D%7D",
                &[("accept", accept), ("apollo-require-preflight", "true")],
                "",
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{accept}");
        assert!(
            header(&headers, "content-type").contains("json"),
            "{accept}"
        );
        assert_eq!(body, me, "{accept}");
    }
    let (status, body) = graph
        .post_json(&json!({"query": "{ me { name } }"}), "application/json")
        .await;
    assert_eq!((status, body), (StatusCode::OK, me));
    // A POST never gets the page.
    let (status, body) = graph
        .post_json(&json!({"query": "{ me { name } }"}), "text/html")
        .await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(error_codes(&body), ["NOT_ACCEPTABLE"]);
}

/// Checks GraphiQL is off: the browser's GET is answered as without it.
async fn assert_off(graph: &TestGraph) {
    let (status, _, body) = graph
        .send(Method::GET, "/graphql", &[("accept", "text/html")], "")
        .await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(error_codes(&body), ["NOT_ACCEPTABLE"]);
    // A browser's Accept also allows JSON (*/*): CSRF prevention refuses
    // its GET, as before.
    let (status, headers, body) = browse(graph, "/graphql").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(header(&headers, "content-type").contains("json"));
    assert_eq!(error_codes(&body), ["CSRF_ERROR"]);
    let (status, _, _) = browse(graph, "/graphql/graphiql/graphiql.min.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn on_and_off() {
    assert_off(&start("graphiql: false\n").await).await;
    assert_off(&start("introspection: false\n").await).await;
    for yaml in ["graphiql: true\nintrospection: false\n", "graphiql: true\n"] {
        let graph = start(yaml).await;
        let (status, headers, _) = browse(&graph, "/graphql").await;
        assert_eq!(status, StatusCode::OK, "{yaml}");
        assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
    }
    // On another GraphQL path, the assets follow it.
    let graph = start("graphql_path: /api/gql\n").await;
    let (status, _, body) = browse(&graph, "/api/gql").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.as_str().unwrap().contains("./gql/graphiql/init.js?v="));
    let (status, _, _) = browse(&graph, "/api/gql/graphiql/init.js").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_query_runs_through_the_ui_in_chromium() {
    let chromium = browser::chromium();
    let graph = start("").await;
    let query = "query Reviews { me { name reviews { body product { name } } } }";
    let encoded: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
    let origin = format!("http://{}", graph.addr);
    let page = format!("{origin}/graphql?query={encoded}");
    let run = tokio::task::spawn_blocking(move || browser::run_query_in_graphiql(&chromium, &page));
    let outcome = run.await.expect("the browser session does not panic");

    for expected in ["Ada Lovelace", "Love it!", "Table"] {
        assert!(
            outcome.response.contains(expected),
            "{expected} is not in GraphiQL's response pane:\n{}",
            outcome.response
        );
    }
    // The page loaded nothing from anywhere but the router.
    let foreign: Vec<&String> = outcome
        .requests
        .iter()
        .filter(|url| !url.starts_with(&format!("{origin}/")) && !url.starts_with("data:"))
        .collect();
    assert!(foreign.is_empty(), "requests elsewhere: {foreign:?}");
    assert!(
        outcome
            .requests
            .iter()
            .any(|url| url.contains("/graphql/graphiql/graphiql.min.js")),
        "{:?}",
        outcome.requests
    );
    // No error on the page: nothing refused by its Content-Security-Policy,
    // no request that failed (not even for a favicon), no exception.
    let errors: Vec<&String> = outcome
        .console
        .iter()
        .filter(|line| {
            line.starts_with("exception")
                || line.contains("\"error\"")
                || line.contains("Content Security Policy")
        })
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // The query went through the router to the subgraphs.
    let asked = graph.log.subgraphs();
    for subgraph in ["accounts", "reviews", "products"] {
        assert!(asked.iter().any(|s| s == subgraph), "{asked:?}");
    }
}
