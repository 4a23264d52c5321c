//! `goliath demo` end to end: the built goliath starts the example services
//! (`examples/`) and the router; the test sends the demo's three queries
//! through the router and checks the data (the migrating fields answer as
//! the monolith does, whichever service serves them), reads the migration
//! report with the token the banner prints until the comparisons are in,
//! and checks its figures: the progress service's planted bug shows as
//! mismatches at Grace's `correct` paths while Ada and Alan match,
//! `User.lastSeen` is noise only, `Course.description` is a 25% canary
//! served by both sides. It checks the edge features the banner shows
//! (`edge_caching`): the services' `@cacheControl` hints in the supergraph,
//! the manifest, the course catalog by id over GET (`Cache-Control`,
//! surrogate keys, a MISS then a HIT), a students' progress answer that is
//! `no-store`, and a purge. It checks the REST gateway (`rest_gateway`):
//! the demo's routes answer (200 with the data for known ids, a 404 problem
//! for unknown ones), `/openapi.json` is served, and schemathesis (from
//! PyPI; skipped when missing unless `GOLIATH_REQUIRE_SCHEMATHESIS` is set)
//! finds no failure against it; its summary is printed (`--nocapture`).
//! Then it stops the demo with SIGINT and checks
//! that no child is left. A second run on the same data folder finds the data
//! kept, and a service killed under it is reported.
//!
//! `demo_report_in_chromium` opens the report page in headless Chromium
//! (`/usr/bin/chromium`, or `$CHROMIUM`; `.ci/run` installs it) and finds
//! the planted bug's mismatch on it; it takes a screenshot too (to a
//! temporary file, copied to `$GOLIATH_DEMO_SCREENSHOT` when set: that is
//! how `docs/migrations-report.png` was made). The two tests run one after
//! the other (each starts a demo).
//!
//! The services' binaries: `goliath demo` runs `cargo build -p monolith -p
//! content -p progress` itself when cargo is known (the test passes
//! `CARGO`); `.ci/run` builds the workspace first anyway.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const GOLIATH: &str = env!("CARGO_BIN_EXE_goliath");

const CLASSROOM: &str = include_str!("../../../examples/learning/queries/classroom.graphql");
const STUDENT_PROGRESS: &str =
    include_str!("../../../examples/learning/queries/student-progress.graphql");
const COURSE_CATALOG: &str =
    include_str!("../../../examples/learning/queries/course-catalog.graphql");

/// One demo at a time: the two tests each start one.
static ONE_DEMO: Mutex<()> = Mutex::new(());

fn one_demo() -> MutexGuard<'static, ()> {
    ONE_DEMO.lock().unwrap_or_else(|e| e.into_inner())
}

/// Grace (`s2`) is the second student of classroom `k1`; the progress
/// service counts her `correct` one too high (its planted bug): these are
/// the differences the report must show, as (path, monolith, progress).
fn planted_mismatches() -> Vec<(Value, Value, Value)> {
    vec![
        (
            json!(["classroom", "students", 1, "progress", 0, "correct"]),
            json!(2),
            json!(3),
        ),
        (
            json!(["classroom", "students", 1, "progress", 1, "correct"]),
            json!(6),
            json!(7),
        ),
    ]
}

/// The fields the demo's three queries select (written from the query
/// files, not computed by the code under test).
const SELECTED: &[&str] = &[
    // Classroom
    "Query.classroom",
    "Classroom.name",
    "Classroom.teacher",
    "Classroom.students",
    "Classroom.assignments",
    "User.name",
    "Assignment.dueDate",
    "Assignment.exercise",
    "Exercise.title",
    "Exercise.difficulty",
    "Exercise.mastery",
    "Mastery.correctNeeded",
    "Mastery.studentsAttempted",
    "Mastery.masteredBy",
    // CourseCatalog
    "Query.courses",
    "Course.id",
    "Course.title",
    "Course.description",
    "Course.units",
    "Unit.title",
    "Unit.exercises",
    "Mastery.studentsMastered",
    // StudentProgress
    "User.lastSeen",
    "User.progress",
    "ExerciseProgress.attempts",
    "ExerciseProgress.correct",
    "ExerciseProgress.exercise",
    "Exercise.unit",
    "Unit.course",
];

/// The API schema's object and interface fields in the supergraph at
/// `path`, minus [`SELECTED`] (each of which must be one of them).
fn expected_never_requested(path: &Path) -> Vec<String> {
    use apollo_compiler::schema::ExtendedType;
    let sdl = std::fs::read_to_string(path).unwrap();
    let supergraph = goliath_supergraph::Supergraph::parse(&sdl).unwrap();
    let mut all = std::collections::BTreeSet::new();
    for (name, ty) in &supergraph.api_schema.types {
        let fields: Vec<_> = match ty {
            _ if ty.is_built_in() => continue,
            ExtendedType::Object(o) => o.fields.keys().collect(),
            ExtendedType::Interface(i) => i.fields.keys().collect(),
            _ => continue,
        };
        for f in fields {
            all.insert(format!("{name}.{f}"));
        }
    }
    for field in SELECTED {
        assert!(all.remove(*field), "{field} is not in the API schema");
    }
    assert!(!all.is_empty());
    all.into_iter().collect()
}

/// `goliath usage --json` against the demo's router: the fields never
/// requested today.
fn usage_never_requested(demo: &Demo) -> Vec<String> {
    let output = Command::new(GOLIATH)
        .args(["usage", "--router", &format!("http://{}", demo.admin)])
        .args(["--token", &demo.token, "--days", "1", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    report["never_requested"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_owned())
        .collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("goliath-demo-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `goliath demo`, its output lines arriving on channels.
struct Demo {
    child: Child,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    /// Every line seen so far (stdout and stderr), for failure messages.
    seen: Vec<String>,
    router: String,
    /// name -> pid, from the banner.
    pids: Vec<(String, u32)>,
    /// The admin listener's address and token, from the banner's report
    /// URL, and that URL.
    admin: String,
    token: String,
    report_page: String,
}

impl Demo {
    fn start(data_dir: &Path) -> Demo {
        let port = free_port();
        let mut child = Command::new(GOLIATH)
            .args([
                "demo",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(data_dir)
            .env("CARGO", env!("CARGO"))
            .env("LEARNING_LOG_REQUESTS", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        let mut demo = Demo {
            child,
            stdout,
            stderr,
            seen: Vec::new(),
            router: format!("127.0.0.1:{port}"),
            pids: Vec::new(),
            admin: String::new(),
            token: String::new(),
            report_page: String::new(),
        };
        // The first start may build the services: allow for it.
        let deadline = Instant::now() + Duration::from_secs(900);
        loop {
            demo.drain_stderr();
            match demo.stdout.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => {
                    let words: Vec<&str> = line.split_whitespace().collect();
                    if let Some(i) = words.iter().position(|w| *w == "pid") {
                        if let (Some(name), Some(pid)) = (words.first(), words.get(i + 1)) {
                            demo.pids.push((name.to_string(), pid.parse().unwrap()));
                        }
                    }
                    if let Some(url) = line
                        .split_whitespace()
                        .find(|w| w.contains("/admin/migrations.html?token="))
                    {
                        let rest = url.strip_prefix("http://").unwrap();
                        let (admin, token) =
                            rest.split_once("/admin/migrations.html?token=").unwrap();
                        demo.admin = admin.to_owned();
                        demo.token = token.to_owned();
                        demo.report_page = url.to_owned();
                    }
                    let ready = line.starts_with("goliath demo: ready on");
                    demo.seen.push(line);
                    if ready {
                        break;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = demo.child.try_wait() {
                        demo.drain_stderr();
                        panic!(
                            "the demo exited ({status}) before it was ready:\n{}",
                            demo.seen.join("\n")
                        );
                    }
                    assert!(
                        Instant::now() < deadline,
                        "the demo is not ready:\n{}",
                        demo.seen.join("\n")
                    );
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = demo.child.wait().unwrap();
                    demo.drain_stderr();
                    panic!(
                        "the demo exited ({status}) before it was ready:\n{}",
                        demo.seen.join("\n")
                    );
                }
            }
        }
        let names: Vec<&str> = demo.pids.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["monolith", "content", "progress", "router"],
            "{}",
            demo.seen.join("\n")
        );
        assert!(
            !demo.token.is_empty(),
            "no report URL in the banner:\n{}",
            demo.seen.join("\n")
        );
        let banner = demo.seen.join("\n");
        assert!(
            banner.contains(&format!(
                "curl -s http://{}/admin/migrations -H 'authorization: Bearer {}'",
                demo.admin, demo.token
            )) && banner.contains(&format!(
                "goliath migrate status --router http://{} --token {}",
                demo.admin, demo.token
            )),
            "{banner}"
        );
        demo
    }

    /// `GET /admin/migrations` with the token: the report.
    fn report(&self) -> Value {
        let (status, body) = get(
            &self.admin,
            "/admin/migrations",
            &[("authorization", &format!("Bearer {}", self.token))],
        );
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
    }

    /// Reads the report until `done` holds for it (the comparisons run in
    /// the background and reach the report at each flush), or fails after
    /// three minutes with the last report.
    fn report_when(&mut self, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let report = self.report();
            if done(&report) {
                return report;
            }
            if Instant::now() > deadline {
                self.drain_stderr();
                panic!(
                    "the report did not get there in time:\n{report:#}\n{}",
                    self.seen.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn drain_stderr(&mut self) {
        while let Ok(line) = self.stderr.try_recv() {
            self.seen.push(line);
        }
    }

    /// Lines of standard error so far that start with `[name]`.
    fn log_of(&mut self, name: &str) -> Vec<String> {
        std::thread::sleep(Duration::from_millis(200));
        self.drain_stderr();
        let prefix = format!("[{name}] ");
        self.seen
            .iter()
            .filter_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
            .collect()
    }

    fn query(&self, query: &str) -> Value {
        self.query_with(query, "")
    }

    /// [`Demo::query`] with `extra` header lines (each ending in `\r\n`).
    fn query_with(&self, query: &str, extra: &str) -> Value {
        let body = json!({ "query": query }).to_string();
        let mut stream = TcpStream::connect(&self.router).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            stream,
            "POST /graphql HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nAccept: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.router,
            body.len()
        )
        .unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let raw = String::from_utf8(raw).unwrap();
        assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_owned()
        };
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
    }

    fn pid(&self, name: &str) -> u32 {
        self.pids.iter().find(|(n, _)| n == name).unwrap().1
    }

    fn signal(&self, pid: u32, signal: libc::c_int) {
        // SAFETY: sends a signal to a process this test started (or its child).
        assert_eq!(unsafe { libc::kill(pid as libc::pid_t, signal) }, 0);
    }

    /// Waits for the demo to exit; its status and everything it printed.
    fn wait(mut self) -> (std::process::ExitStatus, String, Vec<(String, u32)>) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the demo did not stop:\n{}", self.seen.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        std::thread::sleep(Duration::from_millis(200));
        self.drain_stderr();
        while let Ok(line) = self.stdout.try_recv() {
            self.seen.push(line);
        }
        (status, self.seen.join("\n"), self.pids.clone())
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SAFETY: our own child.
            unsafe {
                libc::kill(self.child.id() as libc::pid_t, libc::SIGINT);
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn lines(from: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// `GET path` on `addr` with `headers`: the status and the body.
fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let (status, _, body) = request(addr, "GET", path, headers, None);
    (status, body)
}

/// `method path` on `addr` with `headers` and `body`: the status, the
/// answer's headers (names in lower case) and its body.
fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, Vec<(String, String)>, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body.unwrap_or_default());
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    let fields: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let chunked = fields
        .iter()
        .any(|(name, value)| name == "transfer-encoding" && value.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, fields, body)
}

/// The value of header `name` (lower case) in `fields`, or "" when missing.
fn header<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The report's entry for `field`.
fn field<'a>(report: &'a Value, field: &str) -> &'a Value {
    report["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == field)
        .unwrap_or_else(|| panic!("no {field} in the report:\n{report:#}"))
}

fn count(report: &Value, name: &str, figure: &str) -> u64 {
    field(report, name)[figure].as_u64().unwrap_or(0)
}

/// The report has what the demo's figures need: comparisons of the three
/// fields, the planted mismatches among the samples, and the canary served
/// by both sides.
fn report_is_in(report: &Value) -> bool {
    let samples = &field(report, "User.progress")["samples"];
    let seen = |path: &Value| {
        samples
            .as_array()
            .is_some_and(|s| s.iter().any(|s| &s["path"] == path))
    };
    count(report, "User.progress", "compared") >= 30
        && count(report, "User.progress", "mismatched") > 0
        && planted_mismatches().iter().all(|(path, _, _)| seen(path))
        && count(report, "User.lastSeen", "compared") >= 30
        && count(report, "Course.description", "compared") > 0
        && count(report, "Course.description", "served_new") > 0
        && count(report, "Course.description", "served_old") > 0
}

/// `User.lastSeen` is an RFC 3339 time to the nanosecond; the answer
/// without it.
fn without_last_seen(mut answer: Value) -> Value {
    for student in answer["data"]["classroom"]["students"]
        .as_array_mut()
        .unwrap()
    {
        let seen = student.as_object_mut().unwrap().remove("lastSeen").unwrap();
        let seen = seen.as_str().unwrap();
        assert!(
            seen.len() == 30 && seen.ends_with('Z') && seen.as_bytes()[10] == b'T',
            "lastSeen {seen:?}"
        );
    }
    answer
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

/// Whether the process is gone (or a zombie no one will run again).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
    }
}

fn expected_classroom() -> Value {
    json!({"data": {"classroom": {
        "name": "Period 1 Algebra",
        "teacher": {"name": "Ms. Rivera"},
        "students": [{"name": "Ada"}, {"name": "Grace"}, {"name": "Alan"}],
        "assignments": [
            {"dueDate": "2026-09-14", "exercise": {"title": "One-step equations", "difficulty": 1,
                "mastery": {"correctNeeded": 2, "studentsAttempted": 3,
                            "masteredBy": [{"name": "Ada"}, {"name": "Grace"}]}}},
            {"dueDate": "2026-09-21", "exercise": {"title": "Slope", "difficulty": 2,
                "mastery": {"correctNeeded": 4, "studentsAttempted": 2,
                            "masteredBy": [{"name": "Ada"}]}}}
        ]
    }}})
}

/// As the monolith answers (side by side, it serves), `lastSeen` removed.
fn expected_student_progress() -> Value {
    let algebra = |unit: &str| json!({"title": unit, "course": {"title": "Algebra basics"}});
    let cs = |unit: &str| json!({"title": unit, "course": {"title": "Intro to computer science"}});
    json!({"data": {"classroom": {
        "name": "Period 1 Algebra",
        "students": [
            {"name": "Ada", "progress": [
                {"attempts": 5, "correct": 5, "exercise": {"title": "One-step equations", "unit": algebra("Linear equations")}},
                {"attempts": 4, "correct": 2, "exercise": {"title": "Two-step equations", "unit": algebra("Linear equations")}},
                {"attempts": 6, "correct": 4, "exercise": {"title": "Slope", "unit": algebra("Graphing lines")}}
            ]},
            {"name": "Grace", "progress": [
                {"attempts": 3, "correct": 2, "exercise": {"title": "One-step equations", "unit": algebra("Linear equations")}},
                {"attempts": 9, "correct": 6, "exercise": {"title": "Binary search", "unit": cs("Algorithms")}}
            ]},
            {"name": "Alan", "progress": [
                {"attempts": 2, "correct": 1, "exercise": {"title": "One-step equations", "unit": algebra("Linear equations")}},
                {"attempts": 3, "correct": 1, "exercise": {"title": "Slope", "unit": algebra("Graphing lines")}}
            ]}
        ]
    }}})
}

fn expected_course_catalog() -> Value {
    let ex = |title: &str, difficulty: i32, attempted: i32, mastered: i32| {
        json!({"title": title, "difficulty": difficulty,
               "mastery": {"studentsAttempted": attempted, "studentsMastered": mastered}})
    };
    json!({"data": {"courses": [
        {"id": "c1",
         "title": "Algebra basics",
         "description": "Equations, inequalities and lines, step by step.",
         "units": [
            {"title": "Linear equations", "exercises": [
                ex("One-step equations", 1, 3, 2), ex("Two-step equations", 2, 1, 0)]},
            {"title": "Graphing lines", "exercises": [
                ex("Slope", 2, 2, 1), ex("Slope-intercept form", 3, 0, 0)]}
         ]},
        {"id": "c2",
         "title": "Intro to computer science",
         "description": "Algorithms and how to reason about them.",
         "units": [
            {"title": "Algorithms", "exercises": [
                ex("Binary search", 3, 2, 2), ex("Sorting", 4, 1, 0)]}
         ]}
    ]}})
}

/// The demo's edge features, as the banner tells them: the services'
/// `@cacheControl` hints reach the supergraph; the course catalog, by its
/// manifest id over GET (the banner's `curl` line), answers with
/// `Cache-Control: max-age=30, public`, surrogate keys naming its type and
/// courses, and `x-goliath-cache: MISS`, then a `HIT` with an `Age` (within
/// a few requests: the canary and the control group are kept apart, so a
/// request rolled into the other group misses once); a students' progress
/// answer is `no-store`; a purge by type on the admin listener removes the
/// kept answers, and the catalog misses again.
fn edge_caching(demo: &Demo, data: &Path) {
    let sdl = std::fs::read_to_string(data.join("supergraph.graphql")).unwrap();
    let supergraph = goliath_supergraph::Supergraph::parse(&sdl).unwrap();
    let hints = &supergraph.cache_hints;
    for ty in ["Course", "Unit", "Exercise"] {
        assert_eq!(hints.of_type(ty).and_then(|h| h.max_age), Some(300), "{ty}");
    }
    let max_age = |ty: &str, field: &str| hints.of_field(ty, field).and_then(|h| h.max_age);
    assert_eq!(max_age("Query", "courses"), Some(60));
    assert_eq!(max_age("Exercise", "mastery"), Some(30));
    assert!(hints
        .of_field("User", "progress")
        .is_some_and(|h| h.private));
    assert!(hints.of_field("Query", "classroom").is_none());

    // The manifest: each query by the SHA-256 of its text.
    let manifest = std::fs::read_to_string(data.join("queries/manifest.json")).unwrap();
    let manifest: Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(manifest["format"], "apollo-persisted-query-manifest");
    assert_eq!(manifest["version"], 1);
    let id = |text: &str| goliath_router::persisted::sha256_hex(text);
    for (name, text) in [
        ("Classroom", CLASSROOM),
        ("StudentProgress", STUDENT_PROGRESS),
        ("CourseCatalog", COURSE_CATALOG),
    ] {
        assert!(
            manifest["operations"].as_array().unwrap().iter().any(|op| {
                op["id"] == id(text)
                    && op["name"] == name
                    && op["type"] == "query"
                    && op["body"] == text
            }),
            "{name}: {manifest:#}"
        );
    }

    // The banner's GET and purge lines.
    let path = format!("/graphql/CourseCatalog?id={}&v=1", id(COURSE_CATALOG));
    let banner = demo.seen.join("\n");
    assert!(
        banner.contains(&format!(
            "curl -i -H 'apollo-require-preflight: true' 'http://{}{path}'",
            demo.router
        )),
        "{banner}"
    );
    let purge = format!(
        "goliath cache purge --router http://{} --token {} type Course",
        demo.admin, demo.token
    );
    assert!(banner.contains(&purge), "{banner}");

    let preflight = [("apollo-require-preflight", "true")];
    let catalog = || {
        let (status, fields, body) = request(&demo.router, "GET", &path, &preflight, None);
        assert_eq!(status, 200, "{fields:?}\n{body}");
        let answer: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(answer, expected_course_catalog());
        let cache_control = header(&fields, "cache-control");
        assert!(
            cache_control.contains("max-age=") && cache_control.contains("public"),
            "{fields:?}"
        );
        let keys: Vec<&str> = header(&fields, "surrogate-key").split(' ').collect();
        for key in ["Course", "Course:c1", "Course:c2"] {
            assert!(keys.contains(&key), "no surrogate key {key}: {fields:?}");
        }
        fields
    };
    let mut seen = Vec::new();
    for _ in 0..8 {
        let fields = catalog();
        let status = header(&fields, "x-goliath-cache").to_owned();
        if status == "HIT" {
            let age: u64 = header(&fields, "age")
                .parse()
                .unwrap_or_else(|e| panic!("age: {e}: {fields:?}"));
            assert!(age <= 30, "{fields:?}");
            seen.push(status);
            break;
        }
        assert_eq!(status, "MISS", "{fields:?}");
        assert_eq!(header(&fields, "cache-control"), "max-age=30, public");
        seen.push(status);
    }
    assert_eq!(seen.first().map(String::as_str), Some("MISS"), "{seen:?}");
    assert_eq!(seen.last().map(String::as_str), Some("HIT"), "{seen:?}");

    // A students' progress is not cacheable.
    let progress = format!("/graphql/StudentProgress?id={}&v=1", id(STUDENT_PROGRESS));
    let (status, fields, body) = request(&demo.router, "GET", &progress, &preflight, None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(header(&fields, "cache-control"), "no-store", "{fields:?}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(without_last_seen(answer), expected_student_progress());

    // A purge by type on the admin listener; then the catalog runs again.
    let bearer = format!("Bearer {}", demo.token);
    let (status, _, body) = request(
        &demo.admin,
        "POST",
        "/admin/cache/invalidation",
        &[
            ("authorization", &bearer),
            ("content-type", "application/json"),
        ],
        Some(r#"[{"kind": "type", "type": "Course"}]"#),
    );
    assert_eq!(status, 200, "{body}");
    let purged: Value = serde_json::from_str(&body).unwrap();
    assert!(purged["count"].as_u64().is_some_and(|n| n >= 1), "{body}");
    let fields = catalog();
    assert_eq!(header(&fields, "x-goliath-cache"), "MISS", "{fields:?}");
}

/// Grace's progress as the REST route answers it: the monolith's (side by
/// side, it serves; the progress service's planted bug never shows).
fn expected_rest_progress() -> Value {
    json!([
        {"attempts": 3, "correct": 2, "exercise": {"id": "e1", "title": "One-step equations",
            "unit": {"title": "Linear equations", "course": {"id": "c1", "title": "Algebra basics"}}}},
        {"attempts": 9, "correct": 6, "exercise": {"id": "e5", "title": "Binary search",
            "unit": {"title": "Algorithms", "course": {"id": "c2", "title": "Intro to computer science"}}}}
    ])
}

/// The REST catalog without the units' and exercises' ids (the GraphQL
/// catalog query does not select them).
fn without_unit_ids(mut catalog: Value) -> Value {
    for course in catalog.as_array_mut().unwrap() {
        course["units"] = without_ids(course["units"].take());
    }
    catalog
}

/// `value` without the `id` members of its objects, at every depth.
fn without_ids(mut value: Value) -> Value {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.remove("id");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut value);
    value
}

/// `GET path` with `headers` on the demo's router: checks that the answer
/// is `status` with the media type of a success (`application/json`) or a
/// problem (`application/problem+json`), and gives its JSON body.
fn rest_get(demo: &Demo, path: &str, headers: &[(&str, &str)], status: u16) -> Value {
    let (got, fields, body) = request(&demo.router, "GET", path, headers, None);
    assert_eq!(got, status, "GET {path}: {body}");
    let media = match status {
        200..=299 => "application/json",
        _ => "application/problem+json",
    };
    assert_eq!(
        header(&fields, "content-type"),
        media,
        "GET {path}: {fields:?}"
    );
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

/// `User.email` is for teachers: the banner's two `curl` lines, without a
/// token (null and `UNAUTHORIZED_FIELD_OR_TYPE`) and with its teacher token.
fn access_control(demo: &Demo) {
    let banner = demo.seen.join("\n");
    // The last `-H 'authorization: Bearer …'` (the ones before are the
    // admin token's).
    let words: Vec<&str> = banner.split_whitespace().collect();
    let at = words
        .iter()
        .rposition(|w| *w == "'authorization:")
        .unwrap_or_else(|| panic!("no teacher token in the banner:\n{banner}"));
    let token = words[at + 2].trim_end_matches('\'');
    let query = goliath_demo_teacher_query();
    let anonymous = demo.query(query);
    assert_eq!(
        anonymous["data"]["classroom"]["teacher"],
        json!({"name": "Ms. Rivera", "email": null}),
        "{anonymous:#}"
    );
    assert_eq!(
        anonymous["errors"][0]["extensions"]["code"], "UNAUTHORIZED_FIELD_OR_TYPE",
        "{anonymous:#}"
    );
    let teacher = demo.query_with(query, &format!("Authorization: Bearer {token}\r\n"));
    assert!(teacher.get("errors").is_none(), "{teacher:#}");
    assert_eq!(
        teacher["data"]["classroom"]["teacher"]["email"],
        json!("t1@school.example"),
        "{teacher:#}"
    );
    // A forged token is refused.
    let forged = format!("{}x", &token[..token.len() - 1]);
    let (status, body) = post_raw(demo, query, &format!("Authorization: Bearer {forged}\r\n"));
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("UNAUTHENTICATED"), "{body}");
}

/// The query of the banner's access-control lines.
fn goliath_demo_teacher_query() -> &'static str {
    "{ classroom(id: \"k1\") { teacher { name email } } }"
}

/// POSTs `query` with `extra` header lines; the status and the body.
fn post_raw(demo: &Demo, query: &str, extra: &str) -> (u16, String) {
    let body = json!({ "query": query }).to_string();
    let mut stream = TcpStream::connect(&demo.router).unwrap();
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        demo.router,
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let status = raw[9..12].parse().unwrap();
    (status, raw)
}

/// The demo's REST routes, as the banner shows them: the known ids answer
/// 200 with the data (crossing services, the migrating fields as the
/// monolith serves them), unknown ids a 404 problem, a missing header a
/// 400, another method a 405 with `Allow`; the OpenAPI document is served;
/// then schemathesis runs against it ([`schemathesis`]).
fn rest_gateway(demo: &Demo, data: &Path) {
    let banner = demo.seen.join("\n");
    let base = format!("http://{}", demo.router);
    for line in [
        format!("curl -s {base}/api/v1/students/s2/progress"),
        format!("{base}/openapi.json"),
    ] {
        assert!(
            banner.contains(&line),
            "no `{line}` in the banner:\n{banner}"
        );
    }
    for file in [
        "courses.graphql",
        "course.graphql",
        "student-progress.graphql",
        "me.graphql",
    ] {
        assert!(data.join("rest").join(file).is_file(), "rest/{file}");
    }

    // User.progress, the side-by-side field, at the route's data path.
    let progress = rest_get(demo, "/api/v1/students/s2/progress", &[], 200);
    assert_eq!(progress, expected_rest_progress());
    let missing = rest_get(demo, "/api/v1/students/nobody/progress", &[], 404);
    assert_eq!(missing["status"], 404, "{missing}");
    assert_eq!(missing["title"], "Not Found", "{missing}");
    assert_eq!(missing["instance"], "/api/v1/students/nobody/progress");

    // The catalog: content, monolith or content (the canary), progress.
    let catalog = rest_get(demo, "/api/v1/courses", &[], 200);
    assert_eq!(
        json!({ "courses": without_unit_ids(catalog.clone()) }),
        expected_course_catalog()["data"],
    );
    // Cacheable as the GraphQL catalog is; a student's progress is not.
    let (_, fields, _) = request(&demo.router, "GET", "/api/v1/courses", &[], None);
    assert_eq!(header(&fields, "cache-control"), "max-age=30, public");
    let (_, fields, _) = request(
        &demo.router,
        "GET",
        "/api/v1/students/s2/progress",
        &[],
        None,
    );
    assert_eq!(header(&fields, "cache-control"), "no-store");
    let units = catalog[0]["units"].as_array().unwrap();
    assert_eq!(units[0]["id"], "u1", "{catalog}");
    assert_eq!(units[0]["exercises"][0]["id"], "e1", "{catalog}");

    // One course, with or without its units (a typed query parameter).
    let course = rest_get(demo, "/api/v1/courses/c2", &[], 200);
    assert_eq!(course["id"], "c2");
    assert_eq!(course["title"], "Intro to computer science");
    assert_eq!(course["units"][0]["exercises"][1]["title"], "Sorting");
    let bare = rest_get(demo, "/api/v1/courses/c2?units=false", &[], 200);
    assert_eq!(
        bare,
        json!({"id": "c2", "title": "Intro to computer science",
               "description": "Algorithms and how to reason about them."})
    );
    let bad = rest_get(demo, "/api/v1/courses/c2?units=maybe", &[], 400);
    assert_eq!(bad["status"], 400, "{bad}");
    let unknown = rest_get(demo, "/api/v1/courses/c9", &[], 404);
    assert_eq!(unknown["detail"], "nothing at `course`", "{unknown}");

    // A header as a variable.
    let me = rest_get(demo, "/api/v1/me", &[("x-student-id", "s1")], 200);
    assert_eq!(me["name"], "Ada", "{me}");
    assert_eq!(me["role"], "STUDENT", "{me}");
    assert_eq!(me["progress"].as_array().map(Vec::len), Some(3), "{me}");
    let anonymous = rest_get(demo, "/api/v1/me", &[], 400);
    assert!(
        anonymous["detail"]
            .as_str()
            .unwrap()
            .contains("x-student-id"),
        "{anonymous}"
    );

    // Another method on a route's path.
    let (status, fields, body) = request(&demo.router, "DELETE", "/api/v1/courses/c1", &[], None);
    assert_eq!(status, 405, "{body}");
    assert_eq!(header(&fields, "allow"), "GET", "{fields:?}");

    // The OpenAPI document of the four routes.
    let (status, fields, body) = request(&demo.router, "GET", "/openapi.json", &[], None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(header(&fields, "content-type"), "application/json");
    let openapi: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(openapi["openapi"], "3.1.0");
    let paths: Vec<&str> = openapi["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        paths,
        [
            "/api/v1/courses",
            "/api/v1/courses/{id}",
            "/api/v1/me",
            "/api/v1/students/{id}/progress"
        ],
        "{openapi:#}"
    );

    schemathesis(demo);
}

/// schemathesis's settings for the demo: the seeded ids, which it uses for
/// half of the generated ids (the others are its own, mostly unknown: 404),
/// so that the successes' schemas are checked too.
const SCHEMATHESIS_CONFIG: &str = r#"[dictionaries]
students = { values = ["s1", "s2", "s3", "s4", "t1"] }
courses = { values = ["c1", "c2"] }

[[operations]]
include-path = "/api/v1/students/{id}/progress"
parameters = { "path.id" = { dictionary = "students", probability = 0.5 } }

[[operations]]
include-path = "/api/v1/courses/{id}"
parameters = { "path.id" = { dictionary = "courses", probability = 0.5 } }

[[operations]]
include-path = "/api/v1/me"
parameters = { "header.x-student-id" = { dictionary = "students", probability = 0.5 } }
"#;

/// The `schemathesis` command, or its module run by `python3` (pip may put
/// the command where `PATH` does not look); `None` when neither runs.
fn schemathesis_command() -> Option<Command> {
    let module = "import sys; from schemathesis.cli import schemathesis; \
                  sys.argv[0] = 'schemathesis'; sys.exit(schemathesis())";
    let candidates = [("schemathesis", vec![]), ("python3", vec!["-c", module])];
    candidates.into_iter().find_map(|(program, args)| {
        let works = Command::new(program)
            .args(&args)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .is_ok_and(|o| o.status.success());
        works.then(|| {
            let mut command = Command::new(program);
            command.args(&args);
            command
        })
    })
}

/// schemathesis (from PyPI; `.ci/run` installs it) against the demo's
/// `/openapi.json`, with its default checks and at most 50 cases an
/// operation and phase: it must find no failure. Prints its summary. Without
/// schemathesis the check is skipped, unless `GOLIATH_REQUIRE_SCHEMATHESIS`
/// is set.
fn schemathesis(demo: &Demo) {
    let Some(mut command) = schemathesis_command() else {
        assert!(
            std::env::var_os("GOLIATH_REQUIRE_SCHEMATHESIS").is_none(),
            "GOLIATH_REQUIRE_SCHEMATHESIS is set and schemathesis is not installed \
             (`pip install schemathesis`)"
        );
        println!("SKIPPED: no schemathesis");
        return;
    };
    let dir = temp_dir("schemathesis");
    std::fs::write(dir.join("schemathesis.toml"), SCHEMATHESIS_CONFIG).unwrap();
    let child = command
        .arg("--config-file")
        .arg(dir.join("schemathesis.toml"))
        .arg("run")
        .arg(format!("http://{}/openapi.json", demo.router))
        .args([
            "--max-examples",
            "50",
            "--request-timeout",
            "10",
            "--no-color",
        ])
        .args(["--generation-database", "none"])
        .current_dir(&dir)
        // The demo is on loopback: never through a proxy.
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let (status, out, err) = wait_with_deadline(child, Duration::from_secs(180), "schemathesis");
    let _ = std::fs::remove_dir_all(&dir);
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    let cases = lines
        .iter()
        .position(|l| *l == "Test cases:")
        .and_then(|i| lines.get(i + 1))
        .copied()
        .unwrap_or_default();
    let summary = lines
        .iter()
        .rev()
        .find(|l| l.starts_with('=') && l.ends_with('='))
        .copied()
        .unwrap_or_default();
    println!("schemathesis: {cases}");
    println!("schemathesis: {summary}");
    assert!(
        status.success()
            && cases.contains(" generated, ")
            && !cases.contains("failed")
            && !cases.contains("errored")
            && !summary.contains("failure")
            && !summary.contains("error"),
        "schemathesis found failures ({status}):\n{out}\n{err}"
    );
}

#[test]
fn demo_end_to_end() {
    let _one = one_demo();
    let data = temp_dir("data");

    // First run: the services seed the data folder.
    let mut demo = Demo::start(&data);
    for name in ["monolith", "content", "progress"] {
        assert!(
            demo.log_of(name)
                .iter()
                .any(|l| l.contains("seeded the demo data")),
            "{name} did not seed:\n{}",
            demo.seen.join("\n")
        );
    }
    assert_eq!(demo.query(CLASSROOM), expected_classroom());

    // The migrating fields answer as the monolith does, over many requests:
    // side by side, the monolith serves User.progress (the progress
    // service's bug never reaches clients); Course.description, whichever
    // side serves it, is the same.
    for _ in 0..20 {
        assert_eq!(demo.query(COURSE_CATALOG), expected_course_catalog());
        assert_eq!(
            without_last_seen(demo.query(STUDENT_PROGRESS)),
            expected_student_progress()
        );
    }
    // The progress service is asked too, for the comparison; the content
    // service serves or is compared for Course.description.
    assert!(
        demo.log_of("progress")
            .iter()
            .any(|l| l.contains("StudentProgress") && l.contains("progress {")),
        "{}",
        demo.seen.join("\n")
    );
    assert!(
        demo.log_of("content")
            .iter()
            .any(|l| l.contains("CourseCatalog") && l.contains("description")),
        "{}",
        demo.seen.join("\n")
    );

    // Field usage after the demo's traffic: exactly the API's fields that
    // the three queries do not select were never requested.
    assert_eq!(
        usage_never_requested(&demo),
        expected_never_requested(&data.join("supergraph.graphql")),
    );

    // The report: only with the token.
    let (status, body) = get(&demo.admin, "/admin/migrations", &[]);
    assert_eq!(status, 401, "{body}");
    let report = demo.report_when(report_is_in);
    let names: Vec<&str> = report["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert_eq!(
        names,
        ["Course.description", "User.lastSeen", "User.progress"],
        "{report:#}"
    );

    // User.progress: the planted bug, Grace's `correct` one too high; Ada
    // and Alan match. Each request compares the three students.
    let progress = field(&report, "User.progress");
    let compared = progress["compared"].as_u64().unwrap();
    assert_eq!(progress["state"], "side-by-side", "{progress:#}");
    assert_eq!(progress["from"], "monolith");
    assert_eq!(progress["to"], "progress");
    assert_eq!(progress["served_new"], 0, "{progress:#}");
    assert_eq!(progress["noise"], 0, "{progress:#}");
    assert_eq!(progress["ready"], false, "{progress:#}");
    let (matched, mismatched) = (
        progress["matched"].as_u64().unwrap(),
        progress["mismatched"].as_u64().unwrap(),
    );
    assert!(matched > 0 && mismatched > 0, "{progress:#}");
    if progress["errors_old"] == 0 && progress["errors_new"] == 0 {
        assert_eq!(matched, 2 * mismatched, "{progress:#}");
    }
    let samples = progress["samples"].as_array().unwrap();
    for (path, old, new) in planted_mismatches() {
        assert!(
            samples
                .iter()
                .any(|s| s["path"] == path && s["old"] == old && s["new"] == new),
            "no sample {path} {old} -> {new}:\n{progress:#}"
        );
    }
    for s in samples.iter().filter(|s| s["kind"] == "value") {
        assert!(
            planted_mismatches()
                .iter()
                .any(|(path, old, new)| s["path"] == *path && s["old"] == *old && s["new"] == *new),
            "a difference the planted bug does not explain: {s}"
        );
        assert_eq!(s["operation"], "StudentProgress", "{s}");
    }

    // User.lastSeen: different on every call, on the monolith too: noise,
    // never a mismatch.
    let last_seen = field(&report, "User.lastSeen");
    assert_eq!(last_seen["state"], "side-by-side", "{last_seen:#}");
    assert!(last_seen["noise"].as_u64().unwrap() > 0, "{last_seen:#}");
    assert_eq!(last_seen["mismatched"], 0, "{last_seen:#}");
    assert_eq!(last_seen["noisy_paths"], json!([""]), "{last_seen:#}");
    assert_eq!(last_seen["samples"], json!([]), "{last_seen:#}");

    // Course.description: a 25% canary, served by both sides, the rest
    // compared and the same.
    let description = field(&report, "Course.description");
    assert_eq!(description["state"], "canary", "{description:#}");
    assert_eq!(
        description["percent"].as_f64(),
        Some(25.0),
        "{description:#}"
    );
    assert_eq!(description["to"], "content");
    assert!(description["served_new"].as_u64().unwrap() > 0);
    assert!(description["served_old"].as_u64().unwrap() > 0);
    assert!(
        description["matched"].as_u64().unwrap() > 0,
        "{description:#}"
    );
    assert_eq!(description["mismatched"], 0, "{description:#}");

    // The edge features: hints, Cache-Control, surrogate keys, the response
    // cache, persisted queries by id over GET, and a purge.
    edge_caching(&demo, &data);

    // The REST gateway: the demo's routes, their OpenAPI document, and
    // schemathesis against it. Last: its requests (unknown ids, a student's
    // progress compared side by side) would change the figures above.
    rest_gateway(&demo, &data);

    // Access control: the teacher-only field, with and without the
    // banner's token.
    access_control(&demo);

    // Ctrl-C stops everything.
    demo.signal(demo.child.id(), libc::SIGINT);
    let (status, output, pids) = demo.wait();
    assert!(status.success(), "{status}\n{output}");
    for (name, pid) in &pids {
        assert!(
            gone(*pid),
            "{name} (pid {pid}) is still running after the demo stopped"
        );
    }
    for file in [
        "monolith.redb",
        "content.redb",
        "progress.redb",
        "supergraph.graphql",
        "router.yaml",
        "goliath.redb",
    ] {
        assert!(
            data.join(file).is_file(),
            "{file} is missing from {}",
            data.display()
        );
    }

    // Second run on the same data: nothing reseeded, same answers. Then a
    // service dies: the demo says which, and exits non-zero.
    let mut demo = Demo::start(&data);
    for name in ["monolith", "content", "progress"] {
        assert!(
            !demo
                .log_of(name)
                .iter()
                .any(|l| l.contains("seeded the demo data")),
            "{name} seeded again:\n{}",
            demo.seen.join("\n")
        );
    }
    assert_eq!(demo.query(CLASSROOM), expected_classroom());
    // The migration counters are kept in the data folder too.
    let kept = count(&demo.report(), "User.progress", "compared");
    assert!(kept >= compared, "{kept} comparisons kept of {compared}");
    let progress = demo.pid("progress");
    demo.signal(progress, libc::SIGKILL);
    let (status, output, pids) = demo.wait();
    assert!(!status.success(), "{output}");
    assert!(
        output.contains(&format!("progress (pid {progress}) exited unexpectedly")),
        "{output}"
    );
    for (name, pid) in &pids {
        assert!(
            gone(*pid),
            "{name} (pid {pid}) is still running after the demo stopped"
        );
    }
    let _ = std::fs::remove_dir_all(&data);
}

/// Chromium: `$CHROMIUM`, else `/usr/bin/chromium`; a clear failure when
/// missing.
fn chromium() -> PathBuf {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.is_file(),
        "Chromium is missing at {}: the report test needs it (`apt-get install -y chromium`; \
         .ci/run installs it), or set CHROMIUM to its path",
        path.display()
    );
    path
}

/// Runs headless Chromium on `url` with `args`; its standard output.
fn run_chromium(chromium: &Path, url: &str, args: &[String]) -> String {
    let profile = temp_dir("chromium-profile");
    let child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", chromium.display()));
    let (status, out, err) = wait_with_deadline(child, Duration::from_secs(120), "Chromium");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(status.success(), "Chromium failed ({status}):\n{err}");
    out
}

/// The texts of the cells of the report page's table row showing `path`.
fn row_cells(dom: &str, path: &str) -> Option<Vec<String>> {
    let code = format!("<code>{path}</code>");
    let at = dom.find(&code)?;
    let start = dom[..at].rfind("<tr")?;
    let end = at + dom[at..].find("</tr>")?;
    let row = &dom[start..end];
    Some(
        row.split("<td")
            .skip(1)
            .map(|cell| {
                let inner = &cell[cell.find('>').map_or(0, |i| i + 1)..];
                let inner = inner.split("</td>").next().unwrap_or("");
                let mut text = String::new();
                let mut in_tag = false;
                for c in inner.chars() {
                    match c {
                        '<' => in_tag = true,
                        '>' => in_tag = false,
                        c if !in_tag => text.push(c),
                        _ => {}
                    }
                }
                text.trim().to_owned()
            })
            .collect(),
    )
}

#[test]
fn demo_report_in_chromium() {
    let chromium = chromium();
    let _one = one_demo();
    let data = temp_dir("report");
    let mut demo = Demo::start(&data);
    demo.report_when(report_is_in);

    // The page, as a browser renders it from the banner's URL.
    let dom = run_chromium(&chromium, &demo.report_page, &["--dump-dom".to_owned()]);
    for name in ["User.progress", "User.lastSeen", "Course.description"] {
        assert!(dom.contains(name), "{name} is not on the page:\n{dom}");
    }
    for (path, old, new) in planted_mismatches() {
        let dotted: Vec<String> = path
            .as_array()
            .unwrap()
            .iter()
            .map(|p| match p {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        let dotted = dotted.join(".");
        let cells = row_cells(&dom, &dotted)
            .unwrap_or_else(|| panic!("the mismatch at {dotted} is not on the page:\n{dom}"));
        assert_eq!(
            cells.get(1..3),
            Some(&[old.to_string(), new.to_string()][..]),
            "the row of {dotted}: {cells:?}"
        );
    }

    // A screenshot of it, to a temporary file (and to
    // $GOLIATH_DEMO_SCREENSHOT when set).
    let shot = std::env::temp_dir().join(format!("goliath-demo-report-{}.png", std::process::id()));
    let _ = std::fs::remove_file(&shot);
    run_chromium(
        &chromium,
        &demo.report_page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1400,1000".to_owned(),
            "--hide-scrollbars".to_owned(),
        ],
    );
    let png =
        std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", shot.display()));
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    if let Some(to) = std::env::var_os("GOLIATH_DEMO_SCREENSHOT") {
        std::fs::copy(&shot, &to).unwrap();
    }
    let _ = std::fs::remove_file(&shot);

    drop(demo);
    let _ = std::fs::remove_dir_all(&data);
}

/// Waits for `child` (in a process group of its own) and reads its output;
/// past `limit`, kills the group and fails naming `what`.
fn wait_with_deadline(
    mut child: std::process::Child,
    limit: Duration,
    what: &str,
) -> (std::process::ExitStatus, String, String) {
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let read = |mut from: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = from.read_to_string(&mut text);
            text
        })
    };
    let (out, err) = (
        read(Box::new(BufReader::new(stdout))),
        read(Box::new(BufReader::new(stderr))),
    );
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            // SAFETY: the child's own process group, which the test started.
            unsafe {
                libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
            }
            let _ = child.wait();
            panic!(
                "{what} did not finish in {limit:?}: {}",
                err.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (status, out.join().unwrap(), err.join().unwrap())
}
