//! The gateway benchmark's four subgraphs on one port:
//! `POST /accounts`, `/inventory`, `/products`, `/reviews` (GraphQL over
//! HTTP, JSON bodies, batches accepted) and `GET /health`.
//!
//! Environment: `HOST` (default 127.0.0.1), `PORT` (default 4200),
//! `SUBGRAPH_DELAY_MS` (optional latency added to every request).

mod accounts;
mod cache;
mod data;
mod inventory;
mod products;
mod reviews;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::{
    BatchRequest, BatchResponse, ObjectType, ParseRequestError, Schema, SubscriptionType,
};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The allocator: glibc's malloc cost the subgraphs about 15 % of their
/// CPU under the benchmark's load (async-graphql allocates for every value
/// it resolves).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Request bodies above this are refused.
const MAX_BODY: usize = 16 * 1024 * 1024;

struct Subgraphs {
    accounts: accounts::AccountsSchema,
    inventory: inventory::InventorySchema,
    products: products::ProductsSchema,
    reviews: reviews::ReviewsSchema,
    /// Parsed operations, per subgraph.
    documents: [cache::Documents; 4],
    delay: Option<Duration>,
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    let mut res = bare(status, body);
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

/// A reply without a content type (as the upstream server sends errors).
fn bare(status: StatusCode, body: impl Into<Bytes>) -> Reply {
    let mut res = Response::new(Full::new(body.into()));
    *res.status_mut() = status;
    res
}

/// Reads a GraphQL request (or batch) from a JSON body, runs it, answers JSON.
async fn graphql<Q, M, S>(
    schema: &Schema<Q, M, S>,
    documents: &cache::Documents,
    req: Request<Incoming>,
) -> Reply
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return bare(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let mut batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            // The same text as async-graphql's own HTTP integrations.
            let e = ParseRequestError::InvalidRequest(Box::new(e));
            return bare(StatusCode::BAD_REQUEST, format!("{e:?}"));
        }
    };
    documents.prepare(&mut batch);
    let response: BatchResponse = schema.execute_batch(batch).await;
    match serde_json::to_vec(&response) {
        Ok(json) => reply(StatusCode::OK, "application/graphql-response+json", json),
        Err(e) => bare(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn route(subgraphs: Arc<Subgraphs>, req: Request<Incoming>) -> Result<Reply, Infallible> {
    if let Some(delay) = subgraphs.delay {
        tokio::time::sleep(delay).await;
    }
    let path = req.uri().path();
    let known = matches!(path, "/accounts" | "/inventory" | "/products" | "/reviews");
    if path == "/health" {
        return Ok(
            if req.method() == Method::GET || req.method() == Method::HEAD {
                reply(StatusCode::OK, "text/plain; charset=utf-8", "OK")
            } else {
                method_not_allowed("GET,HEAD")
            },
        );
    }
    if !known {
        return Ok(bare(StatusCode::NOT_FOUND, Bytes::new()));
    }
    if req.method() != Method::POST {
        return Ok(method_not_allowed("POST"));
    }
    let res = match path {
        "/accounts" => graphql(&subgraphs.accounts, &subgraphs.documents[0], req).await,
        "/inventory" => graphql(&subgraphs.inventory, &subgraphs.documents[1], req).await,
        "/products" => graphql(&subgraphs.products, &subgraphs.documents[2], req).await,
        _ => graphql(&subgraphs.reviews, &subgraphs.documents[3], req).await,
    };
    Ok(res)
}

fn method_not_allowed(allow: &'static str) -> Reply {
    let mut res = bare(StatusCode::METHOD_NOT_ALLOWED, Bytes::new());
    res.headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    res
}

const USAGE: &str = "usage: bench-subgraphs (no arguments)
Serves the gateway benchmark's subgraphs: POST /accounts, /inventory, /products,
/reviews (GraphQL over HTTP) and GET /health.
env: HOST (default 127.0.0.1), PORT (default 4200), SUBGRAPH_DELAY_MS (optional)";

#[tokio::main]
async fn main() {
    if let Some(arg) = std::env::args().nth(1) {
        if arg == "-h" || arg == "--help" {
            println!("{USAGE}");
            return;
        }
        eprintln!("bench-subgraphs: unexpected argument {arg}\n{USAGE}");
        std::process::exit(2);
    }
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port = std::env::var("PORT").unwrap_or_else(|_| "4200".into());
    let addr: SocketAddr = match format!("{host}:{port}").parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench-subgraphs: bad HOST/PORT {host}:{port}: {e}");
            std::process::exit(2);
        }
    };
    let delay = std::env::var("SUBGRAPH_DELAY_MS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|&ms| ms > 0)
        .map(Duration::from_millis);
    let subgraphs = Arc::new(Subgraphs {
        accounts: accounts::schema(),
        inventory: inventory::schema(),
        products: products::schema(),
        reviews: reviews::schema(),
        documents: Default::default(),
        delay,
    });
    let listener = match TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("bench-subgraphs: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    eprintln!("bench-subgraphs: http://{addr}/{{accounts,inventory,products,reviews,health}}");
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                // Out of file descriptors and the like: back off, keep serving.
                eprintln!("bench-subgraphs: accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let subgraphs = subgraphs.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| route(subgraphs.clone(), req));
            // Connection errors (a client hanging up) end that connection only.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
