//! The subgraph client against real sockets on loopback: servers that
//! answer with scripted bytes, so each way of framing an HTTP/1.1 answer
//! (and each way of breaking one) is exercised on the wire.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goliath_executor::client::{FetchError, SubgraphClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TIMEOUT: Duration = Duration::from_secs(5);

/// What a scripted server does with one request on one connection.
enum Step {
    /// Write these pieces (pausing between them), keep the connection.
    Answer(Vec<&'static [u8]>),
    /// Write these pieces, then close the connection.
    AnswerAndClose(Vec<&'static [u8]>),
    /// Close without answering.
    Close,
    /// Never answer.
    Hang,
}

/// A server on loopback that reads requests and follows `script(connection
/// number, request number on that connection)`. Counts connections and
/// requests.
struct Server {
    url: String,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

async fn server(script: fn(usize, usize) -> Step) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/graphql", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let (c, r) = (connections.clone(), requests.clone());
    tokio::spawn(async move {
        loop {
            let Ok((conn, _)) = listener.accept().await else {
                return;
            };
            let n = c.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve(conn, n, script, r.clone()));
        }
    });
    Server {
        url,
        connections,
        requests,
    }
}

async fn serve(
    mut conn: TcpStream,
    n: usize,
    script: fn(usize, usize) -> Step,
    requests: Arc<AtomicUsize>,
) {
    for i in 0.. {
        if !read_request(&mut conn).await {
            return;
        }
        requests.fetch_add(1, Ordering::SeqCst);
        let (pieces, close) = match script(n, i) {
            Step::Answer(p) => (p, false),
            Step::AnswerAndClose(p) => (p, true),
            Step::Close => return,
            Step::Hang => {
                tokio::time::sleep(Duration::from_secs(60)).await;
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

/// Reads one request (head and `content-length` body); false at EOF.
async fn read_request(conn: &mut TcpStream) -> bool {
    let mut buf = vec![];
    loop {
        let mut chunk = [0u8; 4096];
        let Ok(n) = conn.read(&mut chunk).await else {
            return false;
        };
        if n == 0 {
            return false;
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
        assert!(head.starts_with("post /graphql http/1.1\r\n"), "{head}");
        assert!(
            head.contains("\r\ncontent-type: application/json"),
            "{head}"
        );
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .and_then(|v| v.trim().parse().ok())
            .expect("a content-length");
        if buf.len() >= end + 4 + len {
            return true;
        }
    }
}

const OK: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"data\":{}}";

async fn post(url: &str) -> Result<String, FetchError> {
    let body = br#"{"query":"{ a }","variables":{}}"#.to_vec();
    SubgraphClient::new()
        .post(url, body, TIMEOUT)
        .await
        .map(|b| String::from_utf8(b.to_vec()).unwrap())
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
async fn a_pooled_connection_closed_before_answering_is_retried_on_another() {
    // The first connection answers its first request and closes on the
    // second without a byte: the request goes again on a new connection.
    let s = server(|conn, req| match (conn, req) {
        (0, 0) => Step::Answer(vec![OK]),
        (0, _) => Step::Close,
        _ => Step::Answer(vec![OK]),
    })
    .await;
    assert_eq!(post(&s.url).await.unwrap(), r#"{"data":{}}"#);
    assert_eq!(post(&s.url).await.unwrap(), r#"{"data":{}}"#);
    assert_eq!(s.connections.load(Ordering::SeqCst), 2);
    assert_eq!(s.requests.load(Ordering::SeqCst), 3);
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
        matches!(&e, FetchError::Transport(m) if m.contains("invalid HTTP response head")),
        "{e:?}"
    );
}

#[tokio::test]
async fn slow_subgraphs_time_out() {
    let s = server(|_, _| Step::Hang).await;
    let body = b"{}".to_vec();
    let e = SubgraphClient::new()
        .post(&s.url, body, Duration::from_millis(100))
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
