//! Round trips: configuration → composition → supergraph model → planner →
//! router, against small subgraphs served over HTTP by the test itself.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

use common::*;
use goliath_compose::{compose, SupergraphConfig};
use serde_json::{json, Value};

const PRODUCTS: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])
type Query { topProducts: [Product] }
type Product @key(fields: "upc") { upc: String! name: String price: Int }
"#;

const INVENTORY: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@external", "@requires"])
type Product @key(fields: "upc") {
  upc: String!
  price: Int @external
  inStock: Boolean
  shippingEstimate: Int @requires(fields: "price")
}
"#;

const REVIEWS: &str = r#"
extend type Product @key(fields: "upc") { upc: String! @external reviews: [Review] }
type Review { body: String }
"#;

/// Serves HTTP POSTs on a local port, answering each JSON body with `answer`.
fn serve(answer: impl Fn(Value) -> Value + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let answer = answer.clone();
            std::thread::spawn(move || loop {
                let mut reader = BufReader::new(&mut stream);
                let mut length = 0usize;
                let mut line = String::new();
                let mut first = true;
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if first {
                        first = false;
                    }
                    if line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let response = answer(request).to_string();
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    response.len()
                );
                if stream.write_all(head.as_bytes()).is_err()
                    || stream.write_all(response.as_bytes()).is_err()
                {
                    return;
                }
            });
        }
    });
    format!("http://{addr}/graphql")
}

#[test]
fn composed_supergraph_plans_across_subgraphs() {
    let sdl = compose_ok(&[
        ("products", PRODUCTS),
        ("inventory", INVENTORY),
        ("reviews", REVIEWS),
    ]);
    let sg = goliath_supergraph::Supergraph::parse(&sdl).unwrap();
    assert_eq!(sg.graphs.len(), 3);
    let plan = plan(
        &sdl,
        "{ topProducts { name shippingEstimate reviews { body } } }",
    );
    for subgraph in ["\"products\"", "\"inventory\"", "\"reviews\""] {
        assert!(plan.contains(subgraph), "{plan}");
    }
    assert!(plan.contains("price"), "the requirement is fetched: {plan}");
}

/// Asks a subgraph for its SDL with the router's client.
fn fetch(name: &str, url: &str) -> Result<String, String> {
    goliath_router::subgraph_sdl::fetch_blocking(&goliath_router::Config::default(), name, url)
}

#[test]
fn config_with_file_sdl_and_subgraph_url_sources() {
    let dir = std::env::temp_dir().join(format!("goliath-compose-test-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("schemas")).unwrap();
    std::fs::write(dir.join("schemas/products.graphql"), PRODUCTS).unwrap();
    let reviews_url = serve(|req| {
        assert!(req["query"].as_str().unwrap().contains("_service"));
        json!({"data": {"_service": {"sdl": REVIEWS}}})
    });
    let yaml = format!(
        r#"federation_version: =2.3.0
subgraphs:
  products:
    routing_url: http://products:4001/graphql
    schema:
      file: ./schemas/products.graphql
  inventory:
    routing_url: http://inventory:4002/graphql
    schema:
      sdl: {}
  reviews:
    schema:
      subgraph_url: {reviews_url}
"#,
        serde_json::to_string(INVENTORY).unwrap()
    );
    std::fs::write(dir.join("supergraph.yaml"), yaml).unwrap();
    let config = SupergraphConfig::load(&dir.join("supergraph.yaml")).unwrap();
    let inputs = config.resolve(&fetch).unwrap();
    assert_eq!(
        inputs[2].url, reviews_url,
        "routing_url defaults to subgraph_url"
    );
    let sdl = compose(&inputs).unwrap();
    assert!(sdl.contains(&format!(
        "REVIEWS @join__graph(name: \"reviews\", url: \"{reviews_url}\")"
    )));
    assert!(sdl.contains("url: \"http://products:4001/graphql\""));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn missing_schema_file_names_the_subgraph() {
    let dir = std::env::temp_dir().join(format!("goliath-compose-missing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("supergraph.yaml"),
        "subgraphs:\n  ghost:\n    routing_url: http://x\n    schema:\n      file: nope.graphql\n",
    )
    .unwrap();
    let config = SupergraphConfig::load(&dir.join("supergraph.yaml")).unwrap();
    let err = config.resolve(&fetch).unwrap_err().to_string();
    assert!(
        err.contains("ghost") && err.contains("nope.graphql"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn compose_then_route_a_query() {
    let products = serve(|req| {
        assert!(!req["query"]
            .as_str()
            .unwrap_or_default()
            .contains("_entities"));
        json!({"data": {"topProducts": [
            {"__typename": "Product", "upc": "1", "name": "Table", "price": 10},
            {"__typename": "Product", "upc": "2", "name": "Chair", "price": 20}
        ]}})
    });
    let inventory = serve(|req| {
        let reps = req["variables"]["representations"]
            .as_array()
            .unwrap()
            .clone();
        let out: Vec<Value> = reps
            .iter()
            .map(|r| {
                let price = r["price"].as_i64().unwrap_or(0);
                json!({"__typename": "Product", "shippingEstimate": price / 2})
            })
            .collect();
        json!({"data": {"_entities": out}})
    });
    let inputs = vec![
        goliath_compose::SubgraphInput {
            name: "products".into(),
            url: products,
            sdl: PRODUCTS.into(),
        },
        goliath_compose::SubgraphInput {
            name: "inventory".into(),
            url: inventory,
            sdl: INVENTORY.into(),
        },
    ];
    let sdl = compose(&inputs).unwrap();
    let pipeline = goliath_router::Pipeline::new(&sdl, &goliath_router::Config::default()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let response = runtime.block_on(pipeline.execute(goliath_router::Request {
        query: Some("{ topProducts { name shippingEstimate } }".into()),
        ..Default::default()
    }));
    assert_eq!(
        response.body,
        json!({"data": {"topProducts": [
            {"name": "Table", "shippingEstimate": 5},
            {"name": "Chair", "shippingEstimate": 10}
        ]}})
    );
}
