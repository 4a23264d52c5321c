//! The subgraph client against real sockets on loopback: servers that
//! answer with scripted bytes, so each way of framing an HTTP/1.1 answer
//! (and each way of breaking one) is exercised on the wire, and so are
//! subgraphs that cannot be trusted: lying lengths, endless bodies,
//! compressed answers, connections closed under a mutation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use apollo_compiler::ast::OperationType;
use apollo_compiler::Name;
use goliath_executor::client::{FetchError, Resend, SubgraphClient};
use goliath_executor::value::Buffers;
use goliath_executor::{Executor, SubgraphEndpoint};
use goliath_planner::{FetchNode, PlanNode, QueryPlan};
use serde_json::{json, Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// The system allocator, noting the largest allocation made on each
/// thread: each test's runtime (client and scripted servers) runs on the
/// test's thread, so a test can tell how much the client asked for.
struct Noting;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
}

unsafe impl GlobalAlloc for Noting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Noting = Noting;

/// The largest allocation on this thread since the last call.
fn largest_allocation() -> usize {
    LARGEST.with(|l| l.replace(0))
}

const TIMEOUT: Duration = Duration::from_secs(5);
/// The answer-size cap of most tests.
const MAX: usize = 1 << 20;

/// What a scripted server does with one request on one connection.
enum Step {
    /// Write these pieces (pausing between them), keep the connection.
    Answer(Vec<&'static [u8]>),
    /// Write these pieces, then close the connection.
    AnswerAndClose(Vec<&'static [u8]>),
    /// Close without answering (after reading the whole request).
    Close,
    /// Never answer.
    Hang,
    /// Write this head, then a body that never ends (chunks if `chunked`,
    /// plain bytes if not) until writing fails because the client closed
    /// the connection.
    Endless { head: &'static [u8], chunked: bool },
    /// Read the start of the request (its head), then close the
    /// connection with the rest unread (the kernel resets it), so that
    /// writing the request fails on the client's side. The request is
    /// not counted: the server never had all of it.
    ResetMidRequest,
}

/// A server on loopback that reads requests and follows `script(connection
/// number, request number on that connection)`. Counts connections,
/// complete requests, complete requests that are mutations, and endless
/// bodies cut off by the client.
struct Server {
    url: String,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    mutations: Arc<AtomicUsize>,
    cut_off: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct Counters {
    requests: Arc<AtomicUsize>,
    mutations: Arc<AtomicUsize>,
    cut_off: Arc<AtomicUsize>,
}

async fn server(script: fn(usize, usize) -> Step) -> Server {
    let socket = TcpSocket::new_v4().unwrap();
    // A small receive buffer (inherited by accepted connections), so a
    // large request cannot sit whole in the kernel's buffers.
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(128).unwrap();
    let url = format!("http://{}/graphql", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counters = Counters {
        requests: Arc::new(AtomicUsize::new(0)),
        mutations: Arc::new(AtomicUsize::new(0)),
        cut_off: Arc::new(AtomicUsize::new(0)),
    };
    let (c, k) = (connections.clone(), counters.clone());
    tokio::spawn(async move {
        loop {
            let Ok((conn, _)) = listener.accept().await else {
                return;
            };
            let n = c.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve(conn, n, script, k.clone()));
        }
    });
    Server {
        url,
        connections,
        requests: counters.requests,
        mutations: counters.mutations,
        cut_off: counters.cut_off,
    }
}

async fn serve(mut conn: TcpStream, n: usize, script: fn(usize, usize) -> Step, k: Counters) {
    for i in 0.. {
        let step = script(n, i);
        if let Step::ResetMidRequest = step {
            let mut buf = vec![];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                let mut chunk = [0u8; 4096];
                match conn.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(got) => buf.extend_from_slice(&chunk[..got]),
                }
            }
            return;
        }
        let Some(body) = read_request(&mut conn).await else {
            return;
        };
        k.requests.fetch_add(1, Ordering::SeqCst);
        if body.starts_with(br#"{"query":"mutation"#) {
            k.mutations.fetch_add(1, Ordering::SeqCst);
        }
        let (pieces, close) = match step {
            Step::Answer(p) => (p, false),
            Step::AnswerAndClose(p) => (p, true),
            Step::Close | Step::ResetMidRequest => return,
            Step::Hang => {
                tokio::time::sleep(Duration::from_secs(60)).await;
                return;
            }
            Step::Endless { head, chunked } => {
                if conn.write_all(head).await.is_err() {
                    return;
                }
                let mut piece = vec![];
                if chunked {
                    piece.extend_from_slice(b"4000\r\n");
                }
                piece.extend_from_slice(&[b'x'; 0x4000]);
                if chunked {
                    piece.extend_from_slice(b"\r\n");
                }
                while conn.write_all(&piece).await.is_ok() {}
                k.cut_off.fetch_add(1, Ordering::SeqCst);
                return;
            }
        };
        for p in pieces {
            if conn.write_all(p).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if close {
            return;
        }
    }
}

/// Reads one request (head and `content-length` body) and returns its
/// body; `None` at EOF.
async fn read_request(conn: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = vec![];
    let mut body_at = None;
    loop {
        let mut chunk = [0u8; 16 * 1024];
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if body_at.is_none() {
            let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            assert!(head.starts_with("post /graphql http/1.1\r\n"), "{head}");
            assert!(
                head.contains("\r\ncontent-type: application/json"),
                "{head}"
            );
            assert!(head.contains("\r\naccept-encoding: identity"), "{head}");
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|v| v.trim().parse().ok())
                .expect("a content-length");
            body_at = Some((end + 4, len));
        }
        if let Some((at, len)) = body_at {
            if buf.len() >= at + len {
                return Some(buf[at..at + len].to_vec());
            }
        }
    }
}

const OK: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"data\":{}}";

const QUERY: &[u8] = br#"{"query":"{ a }","variables":{}}"#;
const MUTATION: &[u8] = br#"{"query":"mutation { a }","variables":{}}"#;

fn endpoint(url: &str, max_response_bytes: usize, timeout: Duration) -> SubgraphEndpoint {
    SubgraphEndpoint {
        name: "s".into(),
        url: url.into(),
        timeout,
        include_errors: true,
        max_response_bytes,
        tls: None,
        foreign_types: None,
    }
}

/// POSTs `body` with a cap of `max` bytes.
async fn send(url: &str, body: &[u8], max: usize, resend: Resend) -> Result<String, FetchError> {
    SubgraphClient::new()
        .post(
            &endpoint(url, max, TIMEOUT),
            &http::HeaderMap::new(),
            body.to_vec(),
            resend,
        )
        .await
        .map(|b| String::from_utf8(b.to_vec()).unwrap())
}

/// POSTs a query with the usual cap.
async fn post(url: &str) -> Result<String, FetchError> {
    send(url, QUERY, MAX, Resend::IfUnsent).await
}

/// Waits (a little) until `counter` reaches `n`.
async fn reaches(counter: &AtomicUsize, n: usize) -> bool {
    for _ in 0..200 {
        if counter.load(Ordering::SeqCst) >= n {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

fn too_large(max: usize) -> String {
    format!("the answer is larger than {max} bytes (subgraph max_response_bytes)")
}

#[tokio::test]
async fn keep_alive_connections_are_reused() {
    let s = server(|_, _| Step::Answer(vec![OK])).await;
    for _ in 0..3 {
        assert_eq!(post(&s.url).await.unwrap(), r#"{"data":{}}"#);
    }
    assert_eq!(s.connections.load(Ordering::SeqCst), 1);
    assert_eq!(s.requests.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn content_length_bodies_may_arrive_in_pieces() {
    let s = server(|_, _| {
        Step::Answer(vec![
            b"HTTP/1.1 200 OK\r\ncontent-le",
            b"ngth: 23\r\n\r\n{\"data\":",
            b"{\"a\":\"pieces\"}}",
        ])
    })
    .await;
    assert_eq!(post(&s.url).await.unwrap(), r#"{"data":{"a":"pieces"}}"#);
    assert_eq!(post(&s.url).await.unwrap(), r#"{"data":{"a":"pieces"}}"#);
    assert_eq!(s.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn chunked_bodies_are_joined() {
    let s = server(|_, _| {
        Step::Answer(vec![
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n8\r\n{\"data\":",
            b"\r\n",
            b"A;ext=1\r\n{\"a\":\"chun\r\n4\r\nked\"\r\n2",
            b"\r\n}}\r\n0\r\nx-trailer: 1\r\n",
            b"\r\n",
        ])
    })
    .await;
    assert_eq!(post(&s.url).await.unwrap(), r#"{"data":{"a":"chunked"}}"#);
    assert_eq!(post(&s.url).await.unwrap(), r#"{"data":{"a":"chunked"}}"#);
    assert_eq!(
        s.connections.load(Ordering::SeqCst),
        1,
        "a chunked answer leaves the connection usable"
    );
}

#[tokio::test]
async fn a_body_without_length_ends_when_the_connection_closes() {
    let s = server(|_, _| Step::AnswerAndClose(vec![b"HTTP/1.1 200 OK\r\n\r\n{\"data\":", b"{}}"]))
        .await;
    assert_eq!(post(&s.url).await.unwrap(), r#"{"data":{}}"#);
    assert_eq!(post(&s.url).await.unwrap(), r#"{"data":{}}"#);
    assert_eq!(s.connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn interim_answers_are_skipped() {
    let s = server(|_, _| {
        Step::Answer(vec![
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: x\r\n\r\n",
            OK,
        ])
    })
    .await;
    assert_eq!(post(&s.url).await.unwrap(), r#"{"data":{}}"#);
}

#[tokio::test]
async fn connection_close_is_honoured() {
    let s = server(|_, _| {
        Step::Answer(vec![
            b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 11\r\n\r\n{\"data\":{}}",
        ])
    })
    .await;
    assert_eq!(post(&s.url).await.unwrap(), r#"{"data":{}}"#);
    assert_eq!(post(&s.url).await.unwrap(), r#"{"data":{}}"#);
    assert_eq!(s.connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_idle_connection_the_subgraph_closed_is_not_used() {
    // The first connection answers once and then closes while idle.
    let s = server(|conn, _| match conn {
        0 => Step::AnswerAndClose(vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n{\"data\":{}}",
        ]),
        _ => Step::Answer(vec![OK]),
    })
    .await;
    assert_eq!(post(&s.url).await.unwrap(), r#"{"data":{}}"#);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(post(&s.url).await.unwrap(), r#"{"data":{}}"#);
    assert_eq!(s.connections.load(Ordering::SeqCst), 2);
    assert_eq!(s.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_query_that_reached_the_subgraph_is_not_sent_again() {
    // The first connection answers its first request, reads the second
    // whole and closes without a byte: the subgraph may have run it, so
    // it is an error, not a second request.
    let s = server(|conn, req| match (conn, req) {
        (0, 0) => Step::Answer(vec![OK]),
        (0, _) => Step::Close,
        _ => Step::Answer(vec![OK]),
    })
    .await;
    assert_eq!(post(&s.url).await.unwrap(), r#"{"data":{}}"#);
    let e = post(&s.url).await.unwrap_err();
    assert!(
        matches!(&e, FetchError::Transport(m) if m.contains("closed before an answer")),
        "{e:?}"
    );
    assert_eq!(s.connections.load(Ordering::SeqCst), 1);
    assert_eq!(s.requests.load(Ordering::SeqCst), 2, "not sent again");
    // The failed connection was dropped: the next request goes on a new one.
    assert_eq!(post(&s.url).await.unwrap(), r#"{"data":{}}"#);
    assert_eq!(s.connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_new_connection_closed_before_answering_is_an_error() {
    let s = server(|_, _| Step::Close).await;
    let e = post(&s.url).await.unwrap_err();
    assert!(
        matches!(&e, FetchError::Transport(m) if m.contains("closed before an answer")),
        "{e:?}"
    );
    assert_eq!(s.requests.load(Ordering::SeqCst), 1, "not retried");
}

#[tokio::test]
async fn error_statuses_keep_a_graphql_body() {
    let s = server(|_, _| {
        Step::Answer(vec![
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 32\r\n\r\n{\"errors\":[{\"message\":\"down\"}]}\n",
        ])
    })
    .await;
    match post(&s.url).await.unwrap_err() {
        FetchError::Status { status, body } => {
            assert_eq!(status, "503: Service Unavailable");
            assert_eq!(body.unwrap()["errors"][0]["message"], "down");
        }
        e => panic!("{e:?}"),
    }
}

#[tokio::test]
async fn truncated_and_garbled_answers_are_errors() {
    let s = server(|_, _| {
        Step::AnswerAndClose(vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"data\"",
        ])
    })
    .await;
    let e = post(&s.url).await.unwrap_err();
    assert!(
        matches!(&e, FetchError::Transport(m) if m.contains("closed after 7 of 100 body bytes")),
        "{e:?}"
    );
    let s = server(|_, _| {
        Step::AnswerAndClose(vec![
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{\"da",
        ])
    })
    .await;
    let e = post(&s.url).await.unwrap_err();
    assert!(
        matches!(&e, FetchError::Transport(m) if m.contains("chunked body")),
        "{e:?}"
    );
    let s = server(|_, _| Step::AnswerAndClose(vec![b"SSH-2.0-OpenSSH\r\n\r\n"])).await;
    let e = post(&s.url).await.unwrap_err();
    assert!(
        matches!(&e, FetchError::Malformed(m) if m.contains("invalid HTTP response head")),
        "{e:?}"
    );
    let s = server(|_, _| {
        Step::AnswerAndClose(vec![
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{\"data\":{}}\r\n0\r\n\r\n",
        ])
    })
    .await;
    let e = post(&s.url).await.unwrap_err();
    assert!(
        matches!(&e, FetchError::Malformed(m) if m.contains("no CRLF after its data")),
        "{e:?}"
    );
}

#[tokio::test]
async fn slow_subgraphs_time_out() {
    let s = server(|_, _| Step::Hang).await;
    let body = b"{}".to_vec();
    let e = SubgraphClient::new()
        .post(
            &endpoint(&s.url, MAX, Duration::from_millis(100)),
            &http::HeaderMap::new(),
            body,
            Resend::IfUnsent,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, FetchError::Timeout), "{e:?}");
}

#[tokio::test]
async fn unreachable_and_unusable_urls_are_errors() {
    // A port nobody listens on: bind one, then free it.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let e = post(&format!("http://{addr}/graphql")).await.unwrap_err();
    assert!(
        matches!(&e, FetchError::Transport(m) if m.contains("error trying to connect")),
        "{e:?}"
    );
    let e = post("https://127.0.0.1:1/graphql").await.unwrap_err();
    assert!(matches!(e, FetchError::BadUrl(_)), "{e:?}");
}

// ------------------------------------------------ subgraphs not to be trusted

#[tokio::test]
async fn a_content_length_past_the_cap_is_refused_from_the_head() {
    // A tiny body, a huge claim, and the connection left open: the answer
    // is refused at once, without waiting for the body or reserving it.
    let s = server(|_, _| {
        Step::Answer(vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 99999999999\r\n\r\n{\"data\":",
        ])
    })
    .await;
    let start = Instant::now();
    largest_allocation();
    let e = post(&s.url).await.unwrap_err();
    assert!(
        matches!(&e, FetchError::Malformed(m) if *m == too_large(MAX)),
        "{e:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    let largest = largest_allocation();
    assert!(largest <= 64 * 1024, "allocated {largest} bytes at once");
    // The connection was not pooled.
    let _ = post(&s.url).await;
    assert_eq!(s.connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn the_cap_counts_head_and_body() {
    let s = server(|_, _| Step::Answer(vec![OK])).await;
    let e = send(&s.url, QUERY, OK.len() - 1, Resend::IfUnsent)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, FetchError::Malformed(m) if *m == too_large(OK.len() - 1)),
        "{e:?}"
    );
    let answer = send(&s.url, QUERY, OK.len(), Resend::IfUnsent).await;
    assert_eq!(answer.unwrap(), r#"{"data":{}}"#);
    // A cap smaller than the head.
    let e = send(&s.url, QUERY, 10, Resend::IfUnsent).await.unwrap_err();
    assert!(
        matches!(&e, FetchError::Malformed(m) if *m == too_large(10)),
        "{e:?}"
    );
}

#[tokio::test]
async fn an_endless_chunked_body_is_cut_off_at_the_cap() {
    let s = server(|_, _| Step::Endless {
        head: b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
        chunked: true,
    })
    .await;
    largest_allocation();
    let e = post(&s.url).await.unwrap_err();
    assert!(
        matches!(&e, FetchError::Malformed(m) if *m == too_large(MAX)),
        "{e:?}"
    );
    let largest = largest_allocation();
    assert!(largest <= MAX, "allocated {largest} bytes at once");
    assert!(
        reaches(&s.cut_off, 1).await,
        "the subgraph sees the connection closed"
    );
}

#[tokio::test]
async fn an_endless_body_until_close_is_cut_off_at_the_cap() {
    let s = server(|_, _| Step::Endless {
        head: b"HTTP/1.1 200 OK\r\n\r\n",
        chunked: false,
    })
    .await;
    largest_allocation();
    let e = post(&s.url).await.unwrap_err();
    assert!(
        matches!(&e, FetchError::Malformed(m) if *m == too_large(MAX)),
        "{e:?}"
    );
    let largest = largest_allocation();
    assert!(largest <= MAX, "allocated {largest} bytes at once");
    assert!(
        reaches(&s.cut_off, 1).await,
        "the subgraph sees the connection closed"
    );
}

#[tokio::test]
async fn a_body_until_close_may_fill_the_cap_exactly() {
    const ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\n\r\n{\"data\":{}}";
    let s = server(|_, _| Step::AnswerAndClose(vec![ANSWER])).await;
    let answer = send(&s.url, QUERY, ANSWER.len(), Resend::IfUnsent).await;
    assert_eq!(answer.unwrap(), r#"{"data":{}}"#);
    let e = send(&s.url, QUERY, ANSWER.len() - 1, Resend::IfUnsent)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, FetchError::Malformed(m) if *m == too_large(ANSWER.len() - 1)),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_huge_chunk_is_refused_from_its_size_line() {
    // 17.6 TB announced, one byte sent, the connection left open.
    let s = server(|_, _| {
        Step::Answer(vec![
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nfffffffffff\r\n{",
        ])
    })
    .await;
    let start = Instant::now();
    largest_allocation();
    let e = post(&s.url).await.unwrap_err();
    assert!(
        matches!(&e, FetchError::Malformed(m) if *m == too_large(MAX)),
        "{e:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    let largest = largest_allocation();
    assert!(largest <= 64 * 1024, "allocated {largest} bytes at once");
    // Chunks that fit one by one, but not together.
    let s = server(|_, _| {
        Step::Answer(vec![
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
            b"a\r\n0123456789\r\n",
            b"a\r\n0123456789\r\n",
            b"a\r\n0123456789\r\n",
            b"0\r\n\r\n",
        ])
    })
    .await;
    let e = send(&s.url, QUERY, 80, Resend::IfUnsent).await.unwrap_err();
    assert!(
        matches!(&e, FetchError::Malformed(m) if *m == too_large(80)),
        "{e:?}"
    );
    // A size that does not fit in 64 bits.
    let s = server(|_, _| {
        Step::Answer(vec![
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nfffffffffffffffffffff\r\n{",
        ])
    })
    .await;
    let e = post(&s.url).await.unwrap_err();
    assert!(
        matches!(&e, FetchError::Malformed(m) if m.contains("invalid chunk size")),
        "{e:?}"
    );
}

#[tokio::test]
async fn compressed_answers_are_refused() {
    // The gzip of `{"data":{}}`.
    let s = server(|_, _| {
        Step::Answer(vec![
            b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: 31\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xabVJI,IT\xb2\xaa\xae\x05\x00\xa6\xa4\xd9T\x0b\x00\x00\x00",
        ])
    })
    .await;
    let e = post(&s.url).await.unwrap_err();
    assert!(
        matches!(&e, FetchError::Malformed(m)
            if m == "compressed answers (content-encoding: gzip) are not accepted"),
        "{e:?}"
    );
    let s = server(|_, _| {
        Step::Answer(vec![
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        ])
    })
    .await;
    let e = post(&s.url).await.unwrap_err();
    assert!(
        matches!(&e, FetchError::Malformed(m) if m.contains("unsupported transfer-encoding \"gzip, chunked\"")),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_mutation_is_sent_once_when_the_connection_closes_after_it() {
    // A query leaves a pooled connection; the subgraph reads the mutation
    // sent on it whole, then closes without answering.
    let s = server(|conn, req| match (conn, req) {
        (0, 0) => Step::Answer(vec![OK]),
        (0, _) => Step::Close,
        _ => Step::Answer(vec![OK]),
    })
    .await;
    assert_eq!(post(&s.url).await.unwrap(), r#"{"data":{}}"#);
    let e = send(&s.url, MUTATION, MAX, Resend::Never)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, FetchError::Transport(m) if m.contains("closed before an answer")),
        "{e:?}"
    );
    assert_eq!(s.mutations.load(Ordering::SeqCst), 1, "exactly once");
    assert_eq!(s.requests.load(Ordering::SeqCst), 2);
    assert_eq!(s.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_mutation_is_sent_once_when_the_connection_closes_mid_answer() {
    let s = server(|conn, req| match (conn, req) {
        (0, 0) => Step::Answer(vec![OK]),
        (0, _) => Step::AnswerAndClose(vec![b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n{\"da"]),
        _ => Step::Answer(vec![OK]),
    })
    .await;
    assert_eq!(post(&s.url).await.unwrap(), r#"{"data":{}}"#);
    let e = send(&s.url, MUTATION, MAX, Resend::Never)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, FetchError::Transport(m) if m.contains("closed after 4 of 11 body bytes")),
        "{e:?}"
    );
    assert_eq!(s.mutations.load(Ordering::SeqCst), 1, "exactly once");
    assert_eq!(s.connections.load(Ordering::SeqCst), 1);
}

/// A request too large to sit whole in the kernel's buffers, so writing
/// it fails when the subgraph resets the connection mid-request.
fn large(query: &str) -> Vec<u8> {
    let padding = "x".repeat(16 << 20);
    format!(r#"{{"query":"{query}","variables":{{"padding":"{padding}"}}}}"#).into_bytes()
}

/// The first connection answers a first request, then resets the
/// connection in the middle of the second; later connections answer.
fn resets_the_second_request(conn: usize, req: usize) -> Step {
    match (conn, req) {
        (0, 0) => Step::Answer(vec![OK]),
        (0, _) => Step::ResetMidRequest,
        _ => Step::Answer(vec![OK]),
    }
}

#[tokio::test]
async fn a_query_whose_write_failed_goes_again_on_a_new_connection() {
    let s = server(resets_the_second_request).await;
    assert_eq!(post(&s.url).await.unwrap(), r#"{"data":{}}"#);
    let answer = send(&s.url, &large("{ a }"), MAX, Resend::IfUnsent).await;
    assert_eq!(answer.unwrap(), r#"{"data":{}}"#);
    assert_eq!(s.connections.load(Ordering::SeqCst), 2);
    assert_eq!(s.requests.load(Ordering::SeqCst), 2, "received whole once");
}

#[tokio::test]
async fn a_mutation_whose_write_failed_is_not_sent_again() {
    let s = server(resets_the_second_request).await;
    assert_eq!(post(&s.url).await.unwrap(), r#"{"data":{}}"#);
    let e = send(&s.url, &large("mutation { a }"), MAX, Resend::Never)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, FetchError::Transport(m) if m.contains("error sending the request")),
        "{e:?}"
    );
    assert_eq!(s.connections.load(Ordering::SeqCst), 1, "no new connection");
    assert_eq!(s.mutations.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_write_that_fails_on_a_new_connection_is_not_sent_again() {
    let s = server(|_, _| Step::ResetMidRequest).await;
    let e = send(&s.url, &large("{ a }"), MAX, Resend::IfUnsent)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, FetchError::Transport(m) if m.contains("error sending the request")),
        "{e:?}"
    );
    assert_eq!(s.connections.load(Ordering::SeqCst), 1);
}

// ------------------------------------------------------- through the executor

/// A plan of one root fetch of `operation` to subgraph 0.
fn plan(kind: OperationType, operation: &str, variables: &[&str]) -> QueryPlan {
    QueryPlan {
        root: Some(PlanNode::Fetch(Box::new(FetchNode {
            service: "s".into(),
            graph: 0,
            kind,
            operation: operation.into(),
            variable_usages: variables.iter().map(|v| Name::new(v).unwrap()).collect(),
            requires: vec![],
            typename_rewrites: vec![],
            has_aliases: false,
            has_type_conditions: false,
        }))),
    }
}

/// Runs `plan` against one subgraph and returns the data and errors.
async fn execute(
    executor: &Executor,
    plan: &QueryPlan,
    variables: &Map<String, Value>,
) -> (Value, Vec<Value>) {
    let buffers = Buffers::new();
    let st = executor
        .execute(&buffers, plan, variables, &|_, _| false, &[], None, None)
        .await;
    (st.data.to_json(), st.errors)
}

#[tokio::test]
async fn refused_answers_are_malformed_responses_to_clients() {
    let s = server(|conn, _| match conn {
        0 => Step::Answer(vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"data\":{\"a\":\"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234\"}}",
        ]),
        1 => Step::Answer(vec![
            b"HTTP/1.1 200 OK\r\ncontent-encoding: br\r\ncontent-length: 11\r\n\r\n{\"data\":{}}",
        ]),
        _ => Step::Close,
    })
    .await;
    let executor = Executor::new(SubgraphClient::new(), vec![endpoint(&s.url, 64, TIMEOUT)]);
    let query = plan(OperationType::Query, "{ a }", &[]);
    let (_, errors) = execute(&executor, &query, &Map::new()).await;
    assert_eq!(
        errors,
        [json!({
            "message": "Subgraph 's' returned an invalid response: the answer is larger than 64 bytes (subgraph max_response_bytes)",
            "extensions": {"code": "SUBREQUEST_MALFORMED_RESPONSE", "service": "s"}
        })]
    );
    let (_, errors) = execute(&executor, &query, &Map::new()).await;
    assert_eq!(
        errors,
        [json!({
            "message": "Subgraph 's' returned an invalid response: compressed answers (content-encoding: br) are not accepted",
            "extensions": {"code": "SUBREQUEST_MALFORMED_RESPONSE", "service": "s"}
        })]
    );
    // A transport failure stays an HTTP error.
    let (_, errors) = execute(&executor, &query, &Map::new()).await;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["extensions"]["code"], "SUBREQUEST_HTTP_ERROR");
    assert_eq!(s.connections.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn the_executor_resends_queries_but_never_mutations() {
    let variables: Map<String, Value> = [("big".to_owned(), Value::String("x".repeat(16 << 20)))]
        .into_iter()
        .collect();
    let first = plan(OperationType::Query, "{ a }", &[]);
    for (kind, operation) in [
        (OperationType::Mutation, "mutation($big:String){a(s:$big)}"),
        (OperationType::Query, "query($big:String){a(s:$big)}"),
    ] {
        let s = server(resets_the_second_request).await;
        let executor = Executor::new(SubgraphClient::new(), vec![endpoint(&s.url, MAX, TIMEOUT)]);
        let (_, errors) = execute(&executor, &first, &Map::new()).await;
        assert!(errors.is_empty(), "{errors:?}");
        let (data, errors) = execute(&executor, &plan(kind, operation, &["big"]), &variables).await;
        if kind == OperationType::Mutation {
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0]["extensions"]["code"], "SUBREQUEST_HTTP_ERROR");
            assert_eq!(s.connections.load(Ordering::SeqCst), 1, "not sent again");
            assert_eq!(s.mutations.load(Ordering::SeqCst), 0);
        } else {
            assert!(errors.is_empty(), "{errors:?}");
            assert_eq!(data, json!({}));
            assert_eq!(s.connections.load(Ordering::SeqCst), 2, "sent again");
            assert_eq!(s.requests.load(Ordering::SeqCst), 2);
        }
    }
}
