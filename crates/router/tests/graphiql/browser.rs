//! Headless Chromium driven over the DevTools protocol (a WebSocket, with
//! `tungstenite`): open a page, click, read the DOM.
//!
//! Chromium is `$CHROMIUM`, else `/usr/bin/chromium` (`.ci/run` installs
//! it); without it the test fails and says so.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::{Message, WebSocket};

/// Chromium: `$CHROMIUM`, else `/usr/bin/chromium`; a clear failure when
/// missing.
pub fn chromium() -> PathBuf {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.is_file(),
        "Chromium is missing at {}: the GraphiQL browser test needs it \
         (`apt-get install -y chromium`; .ci/run installs it), or set CHROMIUM to its path",
        path.display()
    );
    path
}

/// What a GraphiQL session saw.
pub struct Outcome {
    /// The text of GraphiQL's response pane after the query ran.
    pub response: String,
    /// The URL of every request the page made.
    pub requests: Vec<String>,
    /// The page's console messages, log entries and exceptions.
    pub console: Vec<String>,
}

/// Opens GraphiQL at `page` (whose URL carries the query), waits for it to
/// load, clicks the execute button and returns the response pane's text
/// once it shows an answer.
pub fn run_query_in_graphiql(chromium: &Path, page: &str) -> Outcome {
    let mut browser = Browser::start(chromium);
    let session = browser.open(page);
    browser.wait_for(
        &session,
        "!!document.querySelector('.graphiql-execute-button') \
         && !!document.querySelector('.graphiql-query-editor .CodeMirror')",
        "GraphiQL's execute button and query editor",
    );
    browser.evaluate(
        &session,
        "document.querySelector('.graphiql-execute-button').click(); true",
    );
    let pane = "(document.querySelector('.graphiql-response') || {}).innerText || ''";
    browser.wait_for(
        &session,
        &format!("(({pane}).includes('\"data\"') || ({pane}).includes('\"errors\"'))"),
        "an answer in GraphiQL's response pane",
    );
    let response = browser.evaluate(&session, pane);
    let (requests, console) = (browser.requests.clone(), browser.console.clone());
    browser.close();
    Outcome {
        response: response.as_str().unwrap_or_default().to_string(),
        requests,
        console,
    }
}

/// A running headless Chromium and a DevTools connection to it.
struct Browser {
    child: Child,
    socket: WebSocket<TcpStream>,
    next_id: u64,
    /// Every request URL seen (`Network.requestWillBeSent`).
    requests: Vec<String>,
    /// Console messages, log entries and exceptions, for failure messages.
    console: Vec<String>,
    /// Chromium's standard error so far.
    stderr: Arc<Mutex<String>>,
    /// Removed when the browser is gone.
    _profile: tempfile::TempDir,
}

/// How long the page may take to load, and the query to answer.
const WAIT: Duration = Duration::from_secs(60);

impl Browser {
    /// Starts Chromium with a fresh profile and connects to it.
    fn start(chromium: &Path) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--window-size=1280,900",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", chromium.display()));
        // Chromium prints where DevTools listen on standard error; the
        // rest of it is kept for failure messages.
        let stderr = Arc::new(Mutex::new(String::new()));
        let (found, listening) = mpsc::channel();
        let reader = BufReader::new(child.stderr.take().unwrap());
        let log = stderr.clone();
        std::thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = found.send(url.trim().to_string());
                }
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let Ok(url) = listening.recv_timeout(WAIT) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "Chromium did not say where DevTools listen:\n{}",
                stderr.lock().unwrap()
            );
        };
        let address = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("not a DevTools URL: {url}"));
        let stream = TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let (socket, _) = tungstenite::client(url.as_str(), stream)
            .unwrap_or_else(|e| panic!("cannot connect to DevTools at {url}: {e}"));
        Browser {
            child,
            socket,
            next_id: 0,
            requests: Vec::new(),
            console: Vec::new(),
            stderr,
            _profile: profile,
        }
    }

    /// Opens a tab, starts watching its network and console, navigates
    /// it to `url`; the tab's session id.
    fn open(&mut self, url: &str) -> String {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let target = target["targetId"].as_str().unwrap().to_string();
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        );
        let session = attached["sessionId"].as_str().unwrap().to_string();
        for domain in ["Network.enable", "Runtime.enable", "Log.enable"] {
            self.call(Some(&session), domain, json!({}));
        }
        let navigated = self.call(Some(&session), "Page.navigate", json!({"url": url}));
        assert!(
            navigated.get("errorText").is_none(),
            "cannot open {url}: {navigated}"
        );
        session
    }

    /// Evaluates `expression` in the page; its value.
    fn evaluate(&mut self, session: &str, expression: &str) -> Value {
        let result = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        if let Some(exception) = result.get("exceptionDetails") {
            panic!(
                "`{expression}` threw: {exception}\n{}",
                self.diagnostics(session)
            );
        }
        result["result"]["value"].clone()
    }

    /// Waits until `condition` (a JavaScript expression) is true in the
    /// page; fails, saying what the page shows, after [`WAIT`].
    fn wait_for(&mut self, session: &str, condition: &str, what: &str) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if self.evaluate(session, condition) == json!(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("no {what} after {WAIT:?}\n{}", self.diagnostics(session));
    }

    /// What the page shows and said, and what Chromium printed.
    fn diagnostics(&mut self, session: &str) -> String {
        let text = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({"expression": "document.body ? document.body.innerText : ''", "returnByValue": true}),
        );
        let text = text["result"]["value"].as_str().unwrap_or_default();
        format!(
            "page text: {}\nconsole: {:#?}\nrequests: {:#?}\nchromium: {}",
            text.chars().take(2000).collect::<String>(),
            self.console,
            self.requests,
            self.stderr.lock().unwrap()
        )
    }

    /// Sends a DevTools command (to the browser, or to a tab's `session`)
    /// and returns its result, recording the events that arrive meanwhile.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            command["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::text(command.to_string()))
            .unwrap_or_else(|e| panic!("DevTools {method}: {e}"));
        loop {
            let message = self
                .socket
                .read()
                .unwrap_or_else(|e| panic!("DevTools {method}: no answer: {e}"));
            let Message::Text(text) = message else {
                continue;
            };
            let message: Value = serde_json::from_str(text.as_str()).unwrap();
            if message["id"] == json!(id) {
                if let Some(error) = message.get("error") {
                    panic!("DevTools {method} failed: {error}");
                }
                return message["result"].clone();
            }
            self.record(&message);
        }
    }

    /// Keeps what an event says about requests and the console.
    fn record(&mut self, event: &Value) {
        let params = &event["params"];
        match event["method"].as_str().unwrap_or_default() {
            "Network.requestWillBeSent" => {
                if let Some(url) = params["request"]["url"].as_str() {
                    // `data:` URLs (the fonts) are long: their start will do.
                    self.requests.push(url.chars().take(200).collect());
                }
            }
            "Runtime.consoleAPICalled" => {
                let args: Vec<String> = params["args"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| a.get("value").unwrap_or(&a["description"]).to_string())
                    .collect();
                self.console
                    .push(format!("console.{}: {}", params["type"], args.join(" ")));
            }
            "Runtime.exceptionThrown" => {
                self.console
                    .push(format!("exception: {}", params["exceptionDetails"]));
            }
            "Log.entryAdded" => {
                self.console.push(format!(
                    "log {}: {}",
                    params["entry"]["level"], params["entry"]["text"]
                ));
            }
            _ => {}
        }
    }

    /// Asks Chromium to quit, and waits for it (a few seconds at most).
    fn close(mut self) {
        let _ = self.socket.send(Message::text(
            json!({"id": 0, "method": "Browser.close"}).to_string(),
        ));
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // Drop kills it.
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
