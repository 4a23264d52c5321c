//! `goliath demo` end to end: the built goliath starts the example services
//! (`examples/`) and the router; the test sends the demo's three queries
//! through the router and checks the data, checks that the migrating field
//! (`User.progress`, percent(25)) answers the same whichever service serves
//! it, stops the demo with SIGINT and checks that no child is left. A second
//! run on the same data folder finds the data kept, and a service killed
//! under it is reported.
//!
//! The services' binaries: `goliath demo` runs `cargo build -p monolith -p
//! content -p progress` itself when cargo is known (the test passes
//! `CARGO`); `.ci/run` builds the workspace first anyway.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const GOLIATH: &str = env!("CARGO_BIN_EXE_goliath");

const CLASSROOM: &str = include_str!("../../../examples/learning/queries/classroom.graphql");
const STUDENT_PROGRESS: &str =
    include_str!("../../../examples/learning/queries/student-progress.graphql");
const COURSE_CATALOG: &str =
    include_str!("../../../examples/learning/queries/course-catalog.graphql");

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
        demo
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
        let body = json!({ "query": query }).to_string();
        let mut stream = TcpStream::connect(&self.router).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            stream,
            "POST /graphql HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
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

fn expected_student_progress() -> Value {
    let algebra = |unit: &str| json!({"title": unit, "course": {"title": "Algebra basics"}});
    json!({"data": {"user": {
        "name": "Ada",
        "progress": [
            {"attempts": 5, "correct": 5, "exercise": {"title": "One-step equations", "unit": algebra("Linear equations")}},
            {"attempts": 4, "correct": 2, "exercise": {"title": "Two-step equations", "unit": algebra("Linear equations")}},
            {"attempts": 6, "correct": 4, "exercise": {"title": "Slope", "unit": algebra("Graphing lines")}}
        ]
    }}})
}

fn expected_course_catalog() -> Value {
    let ex = |title: &str, difficulty: i32, attempted: i32, mastered: i32| {
        json!({"title": title, "difficulty": difficulty,
               "mastery": {"studentsAttempted": attempted, "studentsMastered": mastered}})
    };
    json!({"data": {"courses": [
        {"title": "Algebra basics",
         "description": "Equations, inequalities and lines, step by step.",
         "units": [
            {"title": "Linear equations", "exercises": [
                ex("One-step equations", 1, 3, 2), ex("Two-step equations", 2, 1, 0)]},
            {"title": "Graphing lines", "exercises": [
                ex("Slope", 2, 2, 1), ex("Slope-intercept form", 3, 0, 0)]}
         ]},
        {"title": "Intro to computer science",
         "description": "Algorithms and how to reason about them.",
         "units": [
            {"title": "Algorithms", "exercises": [
                ex("Binary search", 3, 2, 2), ex("Sorting", 4, 1, 0)]}
         ]}
    ]}})
}

#[test]
fn demo_end_to_end() {
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
    assert_eq!(demo.query(COURSE_CATALOG), expected_course_catalog());

    // The migrating field: the same answer over many requests, served by
    // both the monolith and the progress service.
    for _ in 0..60 {
        assert_eq!(demo.query(STUDENT_PROGRESS), expected_student_progress());
    }
    let by_progress = demo
        .log_of("progress")
        .iter()
        .filter(|l| l.contains("StudentProgress") && l.contains("progress {"))
        .count();
    let by_monolith = demo
        .log_of("monolith")
        .iter()
        .filter(|l| l.contains("StudentProgress") && l.contains("progress {"))
        .count();
    assert_eq!(by_progress + by_monolith, 60, "{}", demo.seen.join("\n"));
    assert!(
        by_progress > 0 && by_monolith > 0,
        "User.progress served {by_progress} times by progress, {by_monolith} by the monolith"
    );

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
