//! Running a demo service: its command line, its store (seeded on first
//! start) and GraphQL over HTTP (`POST /graphql` with a JSON body,
//! `GET /health`).

use std::convert::Infallible;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use async_graphql::{ObjectType, Schema, SubscriptionType};
use bytes::Bytes;
use clap::Parser;
use goliath_store::Store;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

use crate::sdl::{rewrite, CacheHint, Label, Migrate};

/// The command line every demo service takes.
#[derive(Parser, Debug)]
pub struct Args {
    /// The address to listen on (port 0: any free port; the address taken is
    /// printed as `listening on http://ADDR/graphql`).
    #[arg(long)]
    pub listen: Option<String>,
    /// The folder of the service's redb file (`SERVICE.redb`), created if
    /// missing and seeded with the demo data on first start.
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// Use this PostgreSQL database (`postgres://user@host:port/db`) instead
    /// of a redb file; several instances can share it.
    #[arg(long)]
    pub database_url: Option<String>,
}

/// What a service is.
pub struct Service {
    /// Its subgraph name (`monolith`, `content`, `progress`).
    pub name: &'static str,
    pub default_port: u16,
    /// The kinds of records it seeds.
    pub kinds: &'static [&'static str],
    /// Fields it takes over progressively (`@override` labels).
    pub labels: &'static [Label],
    /// Fields it takes over with goliath's `@migrate`.
    pub migrations: &'static [Migrate],
    /// Its `@cacheControl` hints, on types and fields.
    pub cache_hints: &'static [CacheHint],
}

/// Parses the command line, opens and seeds the store, builds the schema
/// with `build` and serves it until the process is stopped.
pub fn run<Q, M, S>(service: Service, build: impl FnOnce(Store) -> Schema<Q, M, S>) -> ExitCode
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{}: cannot start the runtime: {e}", service.name);
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(service.name, &service, args, build)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{}: {message}", service.name);
            ExitCode::FAILURE
        }
    }
}

async fn serve<Q, M, S>(
    name: &str,
    service: &Service,
    args: Args,
    build: impl FnOnce(Store) -> Schema<Q, M, S>,
) -> Result<(), String>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let store = match &args.database_url {
        Some(url) => Store::connect_postgres(url)
            .await
            .map_err(|e| e.to_string())?,
        None => {
            std::fs::create_dir_all(&args.data_dir)
                .map_err(|e| format!("cannot create {}: {e}", args.data_dir.display()))?;
            Store::open_redb(args.data_dir.join(format!("{name}.redb")))
                .await
                .map_err(|e| e.to_string())?
        }
    };
    if crate::seed::seed(&store, name, service.kinds)
        .await
        .map_err(|e| format!("cannot seed the demo data: {e}"))?
    {
        eprintln!("{name}: seeded the demo data into {store}");
    }
    let store_name = store.to_string();
    let schema = build(store);
    // Check the labels, migrations and hints apply before serving anything.
    let sdl = schema.sdl_with_options(
        async_graphql::SDLExportOptions::new()
            .federation()
            .compose_directive(),
    );
    rewrite(
        &sdl,
        service.labels,
        service.migrations,
        service.cache_hints,
    )?;

    let listen = args
        .listen
        .clone()
        .unwrap_or_else(|| format!("127.0.0.1:{}", service.default_port));
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("{name}: listening on http://{addr}/graphql (store {store_name})");
    let _ = std::io::stdout().flush();

    let rewrites = Rewrites {
        labels: service.labels,
        migrations: service.migrations,
        hints: service.cache_hints,
    };
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                eprintln!("{name}: accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let schema = schema.clone();
        let svc = service_fn(move |req: http::Request<Incoming>| {
            let schema = schema.clone();
            async move { Ok::<_, Infallible>(answer(req, &schema, rewrites).await) }
        });
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

/// `LEARNING_LOG_REQUESTS=1`: log each request's query to standard error
/// (the demo's end-to-end test counts who served what).
fn log_requests() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("LEARNING_LOG_REQUESTS").is_ok_and(|v| v == "1"))
}

fn respond(status: u16, content_type: &str, body: impl Into<Bytes>) -> http::Response<Full<Bytes>> {
    http::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(body.into()))
        .expect("a valid response")
}

/// What a service adds to the SDL it reports (`crate::sdl::rewrite`).
#[derive(Clone, Copy)]
struct Rewrites {
    labels: &'static [Label],
    migrations: &'static [Migrate],
    hints: &'static [CacheHint],
}

impl Rewrites {
    fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.migrations.is_empty() && self.hints.is_empty()
    }
}

async fn answer<Q, M, S>(
    req: http::Request<Incoming>,
    schema: &Schema<Q, M, S>,
    rewrites: Rewrites,
) -> http::Response<Full<Bytes>>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    match (req.method().as_str(), req.uri().path()) {
        ("GET", "/health") => return respond(200, "application/json", r#"{"status":"UP"}"#),
        ("POST", "/graphql" | "/") => {}
        ("GET", "/graphql" | "/") => {
            return respond(
                405,
                "text/plain",
                "POST a GraphQL request as JSON; the router (goliath) serves GET\n",
            )
        }
        _ => return respond(404, "text/plain", "not found\n"),
    }
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return respond(400, "text/plain", format!("cannot read the body: {e}\n")),
    };
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return respond(400, "text/plain", format!("not a GraphQL request: {e}\n")),
    };
    if log_requests() {
        let query: String = request
            .query
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        eprintln!("request: {}", query.chars().take(300).collect::<String>());
    }
    let asks_sdl = request.query.contains("_service");
    let response = schema.execute(request).await;
    if !asks_sdl || rewrites.is_empty() {
        return match serde_json::to_vec(&response) {
            Ok(body) => respond(200, "application/json", body),
            Err(e) => respond(
                500,
                "text/plain",
                format!("cannot encode the answer: {e}\n"),
            ),
        };
    }
    let mut json = match serde_json::to_value(&response) {
        Ok(v) => v,
        Err(e) => {
            return respond(
                500,
                "text/plain",
                format!("cannot encode the answer: {e}\n"),
            )
        }
    };
    if let Some(sdl) = json
        .pointer_mut("/data/_service/sdl")
        .and_then(|v| v.as_str().map(str::to_owned))
    {
        match rewrite(&sdl, rewrites.labels, rewrites.migrations, rewrites.hints) {
            Ok(patched) => json["data"]["_service"]["sdl"] = patched.into(),
            Err(e) => return respond(500, "text/plain", format!("{e}\n")),
        }
    }
    respond(
        200,
        "application/json",
        serde_json::to_vec(&json).unwrap_or_default(),
    )
}
