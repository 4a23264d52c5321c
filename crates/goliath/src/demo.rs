//! `goliath demo`: the demo learning platform (`examples/`) on loopback — a
//! legacy monolith and two new services taking fields over from it, each a
//! child process on a free port, composed from the live subgraphs and
//! served by `goliath router --compose`.
//!
//! Three fields are moving with goliath's `@migrate`: `User.progress` and
//! `User.lastSeen` side by side, `Course.description` as a 25% canary. The
//! demo writes the router a config (`router.yaml` in the data folder) with
//! an admin listener on a free loopback port, a random token, and
//! `migrations:` settings for a demo; once everything is up it sends the
//! example queries [`ROUNDS`] times, and again every [`EVERY`] while it
//! runs, so that the migration report has figures, and prints the report's
//! URLs and the `goliath migrate status` command.
//!
//! The edge features are on too: the services give `@cacheControl` hints
//! (the catalog's types and fields), the router sets `Cache-Control` and
//! surrogate keys from them and keeps cacheable answers (`cache_control`,
//! `response_cache`), and it runs the example queries by id from a
//! persisted query manifest the demo writes (`queries/manifest.json`, each
//! id the SHA-256 of the query's text). The banner prints the course
//! catalog's GET by id, which a CDN could cache, and the purge command. The
//! demo's own traffic names a new content version each round
//! (`POST /graphql?v=demo-N`), so that the response cache never answers it
//! and the canary's comparisons go on.
//!
//! The REST gateway is on too: the demo writes its routes ([`REST_ROUTES`],
//! `.graphql` files with a header comment, from `examples/learning/rest/`)
//! to the `rest` folder of its data folder, the router serves them and
//! their OpenAPI document (`/openapi.json`), and the banner prints a
//! `curl` line for one of them.
//!
//! Access control is on too: the monolith's `User.email` is for teachers
//! only (`@requiresScopes(scopes: [["teacher"]])`). The demo makes a random
//! HS256 key, writes it as a JWKS (`jwks.json` in the data folder) that the
//! router's `authentication.jwt` reads, signs a teacher's token with it,
//! and prints two `curl` lines: without the token (`email` is `null`, with
//! an `UNAUTHORIZED_FIELD_OR_TYPE` error) and with it.
//!
//! Every child runs in its own process group (a terminal's Ctrl-C reaches
//! only the demo, which then stops them all) and gets SIGTERM if the demo
//! itself dies. A child that exits on its own is reported (which one, its
//! exit status) and the demo stops the others and exits non-zero.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The demo's example queries: (file name, what it shows, text).
pub const QUERIES: [(&str, &str, &str); 3] = [
    (
        "classroom.graphql",
        "a classroom: monolith -> content -> progress (mastery @requires difficulty) -> monolith",
        include_str!("../../../examples/learning/queries/classroom.graphql"),
    ),
    (
        "student-progress.graphql",
        "a classroom's students and their progress: User.progress and User.lastSeen are moving\n   \
         side by side (the monolith answers; the router asks the progress service too and compares)",
        include_str!("../../../examples/learning/queries/student-progress.graphql"),
    ),
    (
        "course-catalog.graphql",
        "the course catalog: content -> monolith or content (Course.description, a 25% canary) -> progress",
        include_str!("../../../examples/learning/queries/course-catalog.graphql"),
    ),
];

/// The demo's REST routes (`rest.dir`): (file name, what it shows, text).
/// Each file is one route, described by its header comment (method and
/// path, where each variable comes from, the data path); the demo writes
/// them to the `rest` folder of its data folder.
pub const REST_ROUTES: [(&str, &str, &str); 4] = [
    (
        "courses.graphql",
        "the catalog: content -> monolith or content (the canary) -> progress",
        include_str!("../../../examples/learning/rest/courses.graphql"),
    ),
    (
        "course.graphql",
        "one course and its units (?units=false: without); 404 if unknown",
        include_str!("../../../examples/learning/rest/course.graphql"),
    ),
    (
        "student-progress.graphql",
        "User.progress, moving side by side (the monolith answers)",
        include_str!("../../../examples/learning/rest/student-progress.graphql"),
    ),
    (
        "me.graphql",
        "the student the header x-student-id names",
        include_str!("../../../examples/learning/rest/me.graphql"),
    ),
];

/// The REST call the banner prints: Grace's progress.
pub const REST_EXAMPLE: &str = "/api/v1/students/s2/progress";

/// Where the router serves the REST routes' OpenAPI document (as
/// [`ROUTER_CONFIG`] says).
pub const OPENAPI_PATH: &str = "/openapi.json";

/// Rounds of the example queries the demo sends once everything is up.
pub const ROUNDS: usize = 30;

/// How often the demo sends one more round while it runs.
pub const EVERY: Duration = Duration::from_secs(5);

/// The router config the demo writes: `ADMIN`, `TOKEN`, `DIR`, `MANIFEST`,
/// `ROUTES` and `JWKS` are filled in. The migrations' counters live in the data
/// folder (`goliath.redb`), so a demo's report starts from zero unless
/// `--data-dir` keeps it. Every compared request asks the monolith twice
/// (`noise_sample: 100`), so that `User.lastSeen`'s differences are known
/// as noise from the first comparison on; counters reach the store twice a
/// second; a field is `ready` after 50 clean comparisons. Field usage is
/// counted (`goliath usage`), flushed every second. `Cache-Control` comes
/// from the services' `@cacheControl` hints alone (they send no header of
/// their own), the URL parameter `v` names the content version, cacheable
/// answers are kept in memory, and the example queries run by id from the
/// manifest the demo writes. The REST gateway serves the routes of
/// [`REST_ROUTES`] (`ROUTES`, the folder the demo writes them to) and
/// their OpenAPI document. Tokens are checked against the JWKS the demo
/// writes (`JWKS`: one HS256 key, made for the run); a request without one
/// runs as anonymous.
const ROUTER_CONFIG: &str = "# Written by `goliath demo`: the router's settings.
admin:
  listen: ADMIN
  token: TOKEN
store:
  dir: DIR
migrations:
  noise_sample: 100
  flush_interval_ms: 500
  ready_after: 50
usage:
  enabled: true
  flush_interval_ms: 1000
cache_control:
  enabled: true
  subgraph_headers: false
  version_parameter: v
response_cache:
  enabled: true
persisted_queries:
  enabled: true
  local_manifests:
    - MANIFEST
rest:
  openapi: {path: /openapi.json, title: Learning platform (goliath demo), version: \"1\"}
  dir: ROUTES
authentication:
  jwt:
    jwks:
      - file: JWKS
    algorithms: [HS256]
    issuers: [goliath-demo]
";

/// The issuer of the demo's tokens.
const DEMO_ISSUER: &str = "goliath-demo";

/// The query the banner's access-control lines send.
pub const TEACHER_QUERY: &str = "{ classroom(id: \"k1\") { teacher { name email } } }";

/// The persisted query manifest's file name, in the demo's `queries`
/// folder.
const MANIFEST: &str = "manifest.json";

/// The content version the banner's GET names (`&v=1`).
const CONTENT_VERSION: &str = "1";

/// The services, in start order: (subgraph and binary name, what it is).
const SERVICES: [(&str, &str); 3] = [
    ("monolith", "the legacy service: all of the domain"),
    (
        "content",
        "courses, units, exercises (@override); Course.description moving, @migrate canary 25%",
    ),
    (
        "progress",
        "User.progress, User.lastSeen moving side by side (@migrate); Exercise.mastery",
    ),
];

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// The router's address (default 127.0.0.1:4000, or a free port if that
    /// one is taken).
    #[arg(long)]
    pub listen: Option<String>,
    /// Where the services keep their redb files (and the demo its
    /// supergraph and router config, the router its migration counters);
    /// kept after the demo. Default: a temporary folder, removed at the end.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Keep the services' data in this PostgreSQL database instead of redb
    /// files (`postgres://user@host:port/db`; the three services share it).
    #[arg(long)]
    pub database_url: Option<String>,
    /// Do not run `cargo build` for the services when started by cargo.
    #[arg(long)]
    pub no_build: bool,
}

/// Set by SIGINT or SIGTERM.
static STOP_SIGNAL: AtomicI32 = AtomicI32::new(0);

/// Set when the demo stops: the traffic thread ends.
static STOP_TRAFFIC: AtomicBool = AtomicBool::new(false);

/// The demo's traffic rounds so far: each names its own content version.
static TRAFFIC_ROUND: AtomicU64 = AtomicU64::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    STOP_SIGNAL.store(signal, Ordering::SeqCst);
}

fn install_signal_handlers() {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores into an atomic.
        unsafe {
            libc::signal(signal, on_signal as *const () as libc::sighandler_t);
        }
    }
}

fn stop_requested() -> bool {
    STOP_SIGNAL.load(Ordering::SeqCst) != 0
}

/// A child process of the demo.
struct Running {
    name: String,
    child: Child,
}

/// The demo's children; stopped when dropped, whatever happened.
#[derive(Default)]
struct Children(Vec<Running>);

impl Children {
    /// The first child that exited, with its status.
    fn exited(&mut self) -> Option<(String, u32, ExitStatus)> {
        for r in &mut self.0 {
            if let Ok(Some(status)) = r.child.try_wait() {
                return Some((r.name.clone(), r.child.id(), status));
            }
        }
        None
    }

    /// SIGTERM to each child's process group, newest first; SIGKILL to those
    /// still there after five seconds. Every child is waited for.
    fn stop(&mut self) {
        for r in self.0.iter_mut().rev() {
            if let Ok(None) = r.child.try_wait() {
                // SAFETY: signals our own child's process group.
                unsafe {
                    libc::kill(-(r.child.id() as libc::pid_t), libc::SIGTERM);
                }
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        for r in self.0.iter_mut().rev() {
            loop {
                match r.child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    Ok(None) => {
                        // SAFETY: as above.
                        unsafe {
                            libc::kill(-(r.child.id() as libc::pid_t), libc::SIGKILL);
                        }
                        let _ = r.child.kill();
                        let _ = r.child.wait();
                        break;
                    }
                }
            }
        }
        self.0.clear();
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs the demo until Ctrl-C (or SIGTERM), or until a child dies.
pub fn run(args: DemoArgs) -> Result<(), String> {
    install_signal_handlers();
    let bin_dir = std::env::current_exe()
        .map_err(|e| format!("cannot find the goliath executable: {e}"))?
        .parent()
        .ok_or("the goliath executable has no folder")?
        .to_path_buf();
    if !args.no_build {
        build_services(&bin_dir)?;
    }
    let binaries = find_services(&bin_dir)?;

    let (data_dir, temporary) = match &args.data_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            (dir.clone(), false)
        }
        None => {
            let dir = std::env::temp_dir().join(format!("goliath-demo-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            (dir, true)
        }
    };
    let data_dir = data_dir.canonicalize().unwrap_or(data_dir);
    let _cleanup = temporary.then(|| RemoveOnDrop(data_dir.clone()));
    run_in(&args, &binaries, &data_dir)
}

/// Removes the demo's temporary folder, however the demo ends (after the
/// children, which are stopped before it).
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run_in(args: &DemoArgs, binaries: &[PathBuf], data_dir: &Path) -> Result<(), String> {
    let mut children = Children::default();

    // The services, each on a port of its own choosing.
    let mut urls = Vec::new();
    for ((name, _), binary) in SERVICES.iter().zip(binaries) {
        let mut command = Command::new(binary);
        command
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir);
        if let Some(url) = &args.database_url {
            command.args(["--database-url", url]);
        }
        let (child, listening) = spawn(name, command)?;
        let pid = child.id();
        children.0.push(Running {
            name: name.to_string(),
            child,
        });
        let url = wait_for(&mut children, name, Duration::from_secs(60), || {
            listening.try_recv().ok()
        })?;
        urls.push((name.to_string(), url, pid));
    }
    for (name, url, _) in &urls {
        wait_for(&mut children, name, Duration::from_secs(30), || {
            goliath_router::subgraph_sdl::fetch_blocking(
                &goliath_router::Config::default(),
                name,
                url,
            )
            .ok()
        })?;
    }

    // Compose once here (clear errors, and a supergraph file for
    // `goliath plan`); the router composes again and keeps polling.
    let config = data_dir.join("supergraph.yaml");
    let mut yaml = String::from(
        "# Written by `goliath demo`: the demo's subgraphs, as they run.\nsubgraphs:\n",
    );
    for (name, url, _) in &urls {
        yaml.push_str(&format!(
            "  {name}:\n    routing_url: {url}\n    schema:\n      subgraph_url: {url}\n"
        ));
    }
    std::fs::write(&config, yaml).map_err(|e| format!("cannot write {}: {e}", config.display()))?;
    let supergraph = data_dir.join("supergraph.graphql");
    let sdl = goliath_compose::SupergraphConfig::load(&config)
        .and_then(|c| {
            c.resolve(&|name: &str, url: &str| {
                goliath_router::subgraph_sdl::fetch_blocking(
                    &goliath_router::Config::default(),
                    name,
                    url,
                )
            })
        })
        .map_err(|e| e.to_string())
        .and_then(|subgraphs| {
            goliath_compose::compose(&subgraphs)
                .map_err(|errors| goliath_compose::ComposeError::Composition(errors).to_string())
        })
        .map_err(|e| format!("the demo's subgraphs do not compose: {e}"))?;
    std::fs::write(&supergraph, sdl)
        .map_err(|e| format!("cannot write {}: {e}", supergraph.display()))?;
    let queries = data_dir.join("queries");
    std::fs::create_dir_all(&queries)
        .map_err(|e| format!("cannot create {}: {e}", queries.display()))?;
    for (file, _, text) in QUERIES {
        std::fs::write(queries.join(file), text)
            .map_err(|e| format!("cannot write {}: {e}", queries.join(file).display()))?;
    }
    let manifest = queries.join(MANIFEST);
    std::fs::write(&manifest, manifest_json())
        .map_err(|e| format!("cannot write {}: {e}", manifest.display()))?;
    let rest = data_dir.join("rest");
    std::fs::create_dir_all(&rest).map_err(|e| format!("cannot create {}: {e}", rest.display()))?;
    for (file, _, text) in REST_ROUTES {
        std::fs::write(rest.join(file), text)
            .map_err(|e| format!("cannot write {}: {e}", rest.join(file).display()))?;
    }

    // The router, with an admin listener for the migration report.
    let listen = match &args.listen {
        Some(listen) => listen.clone(),
        None => default_listen(),
    };
    let addr: SocketAddr = listen
        .parse()
        .map_err(|e| format!("invalid --listen address {listen:?}: {e}"))?;
    let admin = Admin {
        addr: free_loopback_port(addr)?,
        token: random_token()?,
    };
    let jwks = data_dir.join("jwks.json");
    let teacher_token = write_jwks_and_sign(&jwks)?;
    let router_config = data_dir.join("router.yaml");
    std::fs::write(
        &router_config,
        fill(
            ROUTER_CONFIG,
            &[
                ("ADMIN", &admin.addr.to_string()),
                ("TOKEN", &admin.token),
                ("DIR", &json_string(&data_dir.to_string_lossy())),
                ("MANIFEST", &json_string(&manifest.to_string_lossy())),
                ("ROUTES", &json_string(&rest.to_string_lossy())),
                ("JWKS", &json_string(&jwks.to_string_lossy())),
            ],
        ),
    )
    .map_err(|e| format!("cannot write {}: {e}", router_config.display()))?;
    let goliath = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut command = Command::new(goliath);
    command
        .args(["router", "--compose"])
        .arg(&config)
        .arg("--config")
        .arg(&router_config)
        .arg("--hot-reload")
        .args(["--poll-interval", "3", "--listen", &listen]);
    let (router, _) = spawn("router", command)?;
    let router_pid = router.id();
    children.0.push(Running {
        name: "router".into(),
        child: router,
    });
    wait_for(&mut children, "router", Duration::from_secs(30), || {
        health(addr).then_some(())
    })?;

    // Traffic, so that the migration report has figures: the example
    // queries, ROUNDS times now and once every EVERY from now on.
    let mut failed = 0;
    for round in 0..ROUNDS {
        failed += send_round(addr);
        if round == 0 && failed == QUERIES.len() {
            break;
        }
        if stop_requested() {
            break;
        }
        if let Some((name, pid, status)) = children.exited() {
            children.stop();
            return Err(format!(
                "{name} (pid {pid}) exited while the demo was starting ({status}); its output is above"
            ));
        }
    }
    if failed > 0 {
        let _ = writeln!(
            std::io::stderr(),
            "goliath demo: {failed} of the example requests did not answer 200"
        );
    }
    std::thread::spawn(move || {
        let mut next = Instant::now() + EVERY;
        while !STOP_TRAFFIC.load(Ordering::SeqCst) && !stop_requested() {
            if Instant::now() >= next {
                send_round(addr);
                next = Instant::now() + EVERY;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let _stop_traffic = StopTraffic;

    print_banner(
        addr,
        &urls,
        router_pid,
        data_dir,
        &config,
        &router_config,
        &supergraph,
        &queries,
        &rest,
        &admin,
        &teacher_token,
        args,
    );

    // Until Ctrl-C, or a child dies.
    loop {
        if let Some((name, pid, status)) = children.exited() {
            STOP_TRAFFIC.store(true, Ordering::SeqCst);
            children.stop();
            return Err(format!(
                "{name} (pid {pid}) exited unexpectedly ({status}); stopped the others"
            ));
        }
        if stop_requested() {
            STOP_TRAFFIC.store(true, Ordering::SeqCst);
            // Output may be gone (a closed pipe): never panic over it.
            let _ = writeln!(
                std::io::stderr(),
                "\ngoliath demo: stopping the router and the services"
            );
            children.stop();
            let _ = writeln!(std::io::stdout(), "goliath demo: stopped");
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until `ready` gives a value, while checking that no child died and
/// that no stop was asked for.
fn wait_for<T>(
    children: &mut Children,
    what: &str,
    timeout: Duration,
    mut ready: impl FnMut() -> Option<T>,
) -> Result<T, String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = ready() {
            return Ok(value);
        }
        if let Some((name, pid, status)) = children.exited() {
            children.stop();
            return Err(format!(
                "{name} (pid {pid}) exited while the demo was starting ({status}); its output is above"
            ));
        }
        if stop_requested() {
            children.stop();
            return Err("stopped while starting".into());
        }
        if Instant::now() > deadline {
            children.stop();
            return Err(format!("{what} was not ready after {}s", timeout.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `command` as child `name`: in its own process group, sent SIGTERM
/// if the demo dies, its standard error shown with a `[name]` prefix. The
/// receiver gets the URL of its `listening on URL` line, if it prints one.
fn spawn(name: &str, mut command: Command) -> Result<(Child, mpsc::Receiver<String>), String> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // Linux: the child gets SIGTERM if the demo dies without stopping it.
    // SAFETY: prctl is async-signal-safe; it only sets the death signal.
    #[cfg(target_os = "linux")]
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {name} ({:?}): {e}", command.get_program()))?;
    let (tx, rx) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        let name = name.to_owned();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line
                    .split_once("listening on ")
                    .and_then(|(_, rest)| rest.split_whitespace().next())
                {
                    let _ = tx.send(url.to_owned());
                } else {
                    let _ = writeln!(std::io::stderr(), "[{name}] {line}");
                }
            }
        });
    }
    if let Some(err) = child.stderr.take() {
        let name = name.to_owned();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                let _ = writeln!(std::io::stderr(), "[{name}] {line}");
            }
        });
    }
    Ok((child, rx))
}

/// 127.0.0.1:4000 when it is free, else any free port.
fn default_listen() -> String {
    if TcpListener::bind("127.0.0.1:4000").is_ok() {
        return "127.0.0.1:4000".into();
    }
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.to_string())
        .unwrap_or_else(|_| "127.0.0.1:4000".into())
}

/// The router's admin listener, as the demo configures it.
struct Admin {
    addr: SocketAddr,
    token: String,
}

/// Stops the traffic thread when the demo's run ends, however it ends.
struct StopTraffic;

impl Drop for StopTraffic {
    fn drop(&mut self) {
        STOP_TRAFFIC.store(true, Ordering::SeqCst);
    }
}

/// A free port on loopback for the admin listener (not the router's).
fn free_loopback_port(router: SocketAddr) -> Result<SocketAddr, String> {
    for _ in 0..10 {
        let addr = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("cannot find a free port for the admin listener: {e}"))?;
        if addr != router {
            return Ok(addr);
        }
    }
    Err("cannot find a free port for the admin listener".into())
}

/// Makes a random HS256 key, writes it to `path` as a JWKS (kid `demo`),
/// and returns a teacher's token signed with it (scope `teacher`, valid 7
/// days).
fn write_jwks_and_sign(path: &Path) -> Result<String, String> {
    use jsonwebtoken::{jwk::Jwk, jwk::JwkSet, Algorithm, EncodingKey, Header};
    let mut secret = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut secret))
        .map_err(|e| format!("cannot read /dev/urandom for the demo's key: {e}"))?;
    let key = EncodingKey::from_secret(&secret).map_err(|e| e.to_string())?;
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::HS256).map_err(|e| e.to_string())?;
    jwk.common.key_id = Some("demo".into());
    let set = JwkSet { keys: vec![jwk] };
    let text = serde_json::to_string_pretty(&set).map_err(|e| e.to_string())?;
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let claims = serde_json::json!({
        "sub": "t1",
        "iss": DEMO_ISSUER,
        "scope": "teacher",
        "iat": now,
        "exp": now + 7 * 24 * 3600,
    });
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("demo".into());
    jsonwebtoken::encode(&header, &claims, &key).map_err(|e| e.to_string())
}

/// 32 hex digits from the system's random source.
fn random_token() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("cannot read /dev/urandom for the admin token: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Sends each example query once; returns how many did not answer 200.
/// Each round names a content version of its own (`?v=demo-N`): the
/// response cache never answers the demo's traffic, so every control
/// request of the canary is compared, as the migration report expects.
fn send_round(addr: SocketAddr) -> usize {
    let round = TRAFFIC_ROUND.fetch_add(1, Ordering::Relaxed) + 1;
    let path = format!("/graphql?v=demo-{round}");
    QUERIES
        .iter()
        .filter(|(_, _, text)| !post_query(addr, &path, text))
        .count()
}

/// `POST path` with `query`; whether the router answered 200. The answer
/// is read and dropped.
fn post_query(addr: SocketAddr, path: &str, query: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let body = format!("{{\"query\":{}}}", json_string(query));
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Accept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    let ok = stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200");
    let _ = stream.read_to_end(&mut Vec::new());
    ok
}

/// `template` with each placeholder replaced by its value, in one pass (a
/// value is never searched for placeholders).
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    'next: while let Some(c) = rest.chars().next() {
        for (placeholder, value) in values {
            if let Some(after) = rest.strip_prefix(placeholder) {
                out.push_str(value);
                rest = after;
                continue 'next;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The operation name of an example query (`query CourseCatalog {`).
fn operation_name(text: &str) -> &str {
    text.lines()
        .find_map(|line| line.strip_prefix("query "))
        .and_then(|rest| {
            rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
        })
        .unwrap_or_default()
}

/// A REST route file's method and path, from its first line
/// (`# GET /api/v1/courses/:id`).
fn route_line(text: &str) -> &str {
    text.lines()
        .next()
        .and_then(|line| line.strip_prefix('#'))
        .map(str::trim)
        .unwrap_or_default()
}

/// A persisted query's id: the SHA-256 of its text, in hex (what
/// `sha256sum FILE` prints for the query's file).
pub fn query_id(text: &str) -> String {
    goliath_router::persisted::sha256_hex(text)
}

/// The persisted query manifest of the example queries, in Apollo's format.
fn manifest_json() -> String {
    let operations: Vec<serde_json::Value> = QUERIES
        .iter()
        .map(|(_, _, text)| {
            serde_json::json!({
                "id": query_id(text),
                "name": operation_name(text),
                "type": "query",
                "body": text,
            })
        })
        .collect();
    let manifest = serde_json::json!({
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": operations,
    });
    let mut text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    text.push('\n');
    text
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `GET /health` answers 200.
fn health(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

/// When cargo runs goliath (`cargo run -p goliath -- demo`), builds the
/// services with the same profile, so that one command does it all.
fn build_services(bin_dir: &Path) -> Result<(), String> {
    let Ok(cargo) = std::env::var("CARGO") else {
        return Ok(());
    };
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let Some(profile) = bin_dir.file_name().and_then(|p| p.to_str()) else {
        return Ok(());
    };
    let Some(target_dir) = bin_dir.parent() else {
        return Ok(());
    };
    if !manifest.is_file() {
        return Ok(());
    }
    let mut command = Command::new(cargo);
    command
        .arg("build")
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(target_dir);
    match profile {
        "debug" => {}
        "release" => {
            command.arg("--release");
        }
        other => {
            command.args(["--profile", other]);
        }
    }
    for (name, _) in SERVICES {
        command.args(["-p", name]);
    }
    eprintln!(
        "goliath demo: building the services ({})",
        describe(&command)
    );
    let status = command
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building the demo services failed ({status})"));
    }
    Ok(())
}

fn describe(command: &Command) -> String {
    let mut text = "cargo".to_string();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// The services' binaries, next to goliath's.
fn find_services(bin_dir: &Path) -> Result<Vec<PathBuf>, String> {
    let profile = match bin_dir.file_name().and_then(|p| p.to_str()) {
        Some("release") => " --release",
        _ => "",
    };
    let mut out = Vec::new();
    for (name, _) in SERVICES {
        let path = bin_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        if !path.is_file() {
            return Err(format!(
                "cannot find the demo service `{name}` at {}: build the services with \
                 `cargo build{profile} -p monolith -p content -p progress` (or `cargo build{profile} --workspace`)",
                path.display()
            ));
        }
        out.push(path);
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn print_banner(
    addr: SocketAddr,
    urls: &[(String, String, u32)],
    router_pid: u32,
    data_dir: &Path,
    config: &Path,
    router_config: &Path,
    supergraph: &Path,
    queries: &Path,
    rest: &Path,
    admin: &Admin,
    teacher_token: &str,
    args: &DemoArgs,
) {
    let router = format!("http://{addr}/graphql");
    let mut out = String::new();
    out.push_str("\ngoliath demo: a legacy monolith and two new services, behind one router\n\n");
    for ((name, url, pid), (_, what)) in urls.iter().zip(SERVICES) {
        out.push_str(&format!("  {name:<9} {url:<34} pid {pid:<7} {what}\n"));
    }
    out.push_str(&format!(
        "  {:<9} {router:<34} pid {router_pid:<7} goliath router --compose {} --config {}\n\n",
        "router",
        config.display(),
        router_config.display()
    ));
    let removed = if args.data_dir.is_some() {
        ""
    } else {
        "; removed when the demo stops"
    };
    match &args.database_url {
        Some(_) => out.push_str(&format!(
            "Data: in the PostgreSQL database given by --database-url; the router's migration \
             counters in {}/goliath.redb{removed}\n",
            data_dir.display()
        )),
        None => out.push_str(&format!(
            "Data: {} (one redb file per service, seeded on first start, and the router's \
             migration counters, goliath.redb{removed})\n",
            data_dir.display(),
        )),
    }
    out.push_str(&format!("Supergraph: {}\n\n", supergraph.display()));
    out.push_str("Try these queries; each crosses services:\n");
    for (i, (file, what, text)) in QUERIES.iter().enumerate() {
        out.push_str(&format!("\n{}. {what}\n\n", i + 1));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            out.push_str(&format!("    {line}\n"));
        }
        out.push_str(&format!(
            "\n    curl -sG {router} -H 'apollo-require-preflight: true' --data-urlencode query@{}\n",
            queries.join(file).display()
        ));
    }
    out.push_str(&format!(
        "\nREST: the router also answers these routes, each a GraphQL operation run through the\n\
         same pipeline (one .graphql file each, its header comment says the method, the path and\n\
         where each variable comes from: {}):\n\n",
        rest.display()
    ));
    for (_, what, text) in REST_ROUTES {
        out.push_str(&format!("    {:<36} {what}\n", route_line(text)));
    }
    out.push_str(&format!(
        "\n    curl -s http://{addr}{REST_EXAMPLE}\n\n\
         Their OpenAPI 3.1 document: http://{addr}{OPENAPI_PATH}\n"
    ));
    out.push_str(&format!(
        "\nSee how the router plans one: as clients get it (the monolith serves User.progress),\n\
         and as the comparison asks for it (a pin sends User.progress to the progress service):\n\n    \
         goliath plan --supergraph {sg} --query {q}\n    \
         goliath plan --supergraph {sg} --query {q} --label 'User.progress=progress'\n",
        sg = supergraph.display(),
        q = queries.join(QUERIES[1].0).display()
    ));
    let base = format!("http://{}", admin.addr);
    let catalog = QUERIES[2].2;
    let catalog_url = format!(
        "http://{addr}/graphql/{}?id={}&v={CONTENT_VERSION}",
        operation_name(catalog),
        query_id(catalog)
    );
    out.push_str(&format!(
        "\nEdge caching: the services give @cacheControl hints (content: Course, Unit and\n\
         Exercise 300 s, Query.courses 60 s; progress: Exercise.mastery 30 s, User.progress\n\
         private); the router sets Cache-Control and Surrogate-Key from them, keeps cacheable\n\
         answers itself (response_cache) and runs the queries above by id from the manifest\n\
         {manifest} (each id is the SHA-256 of the query's file).\n\
         The course catalog by id over GET, as a CDN would fetch it (v={CONTENT_VERSION}: the content\n\
         version, part of the cache key):\n\n    \
         curl -i -H 'apollo-require-preflight: true' '{url}'\n\n\
         Run it twice: the first answer has Cache-Control: max-age=30, public (the lowest hint\n\
         it selects, Exercise.mastery's), Surrogate-Key: Course Exercise Mastery Unit Course:c1\n\
         Course:c2 Exercise:e1 ... and x-goliath-cache: MISS; the second x-goliath-cache: HIT\n\
         and an Age.\n\
         Course.description is a 25% canary: canary and control never share a kept answer, so\n\
         the router keeps two, and a request rolled into the other group misses once.\n\
         The other two queries start at Query.classroom, which has no hint: never kept\n\
         (Cache-Control: no-store). Purge the kept answers that hold a course (the count\n\
         includes the demo's own rounds, each kept under a content version of its own):\n\n    \
         goliath cache purge --router {base} --token {token} type Course\n",
        manifest = queries.join(MANIFEST).display(),
        url = catalog_url,
        token = admin.token,
    ));
    out.push_str(&format!(
        "\nMigrations: the router compares the moving fields' answers (User.progress and\n\
         User.lastSeen side by side, Course.description a 25% canary). The demo sent\n\
         the queries above {ROUNDS} times and sends them again every {} s. The report:\n\n    \
         {base}/admin/migrations.html?token={token}\n\n    \
         curl -s {base}/admin/migrations -H 'authorization: Bearer {token}'\n\n    \
         goliath migrate status --router {base} --token {token}\n\n\
         The progress service has a planted bug: it counts `correct` one too high for\n\
         students whose id ends in an even digit. Grace (s2) is the second student of\n\
         classroom k1: mismatches at [\"classroom\", \"students\", 1, \"progress\", 0, \"correct\"]\n\
         (monolith 2, progress 3) and [..., 1, \"correct\"] (6, 7); Ada and Alan match.\n\
         User.lastSeen is the time of the request, different on every call: noise, not\n\
         mismatches.\n\n\
         Field usage: the fields of the API the queries above never select, the\n\
         candidates to retire once nothing calls them:\n\n    \
         goliath usage --router {base} --token {token}\n    \
         {base}/admin/usage.html?token={token}\n\n",
        EVERY.as_secs(),
        token = admin.token,
    ));
    let body = format!("{{\"query\":{}}}", json_string(TEACHER_QUERY));
    out.push_str(&format!(
        "Access control: User.email is for teachers only (@requiresScopes(scopes: [[\"teacher\"]])\n\
         in the monolith). Without a token it is null, with an UNAUTHORIZED_FIELD_OR_TYPE error,\n\
         and the monolith is never asked for it:\n\n    \
         curl -s {router} -H 'content-type: application/json' -d '{body}'\n\n\
         With the demo's teacher token (HS256, signed with the key the demo made for this run,\n\
         {jwks}; scope \"teacher\", valid 7 days):\n\n    \
         curl -s {router} -H 'content-type: application/json' -H 'authorization: Bearer {teacher_token}' -d '{body}'\n\n",
        jwks = data_dir.join("jwks.json").display(),
    ));
    out.push_str(&format!(
        "goliath demo: ready on {router}; Ctrl-C stops everything\n"
    ));
    let mut stdout = std::io::stdout();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
}
