//! Reading one HTTP/1.1 answer off a connection: the head (parsed by
//! `httparse`), then the body, framed by `content-length`, by chunks or by
//! the connection closing. The body ends up in the buffer the head was
//! read into, so it is never copied (chunks are joined in place).

use std::ops::Range;

use bytes::Bytes;
use httparse::Status;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// The largest response head (and trailer section) accepted.
const MAX_HEAD: usize = 64 * 1024;
/// The most header fields accepted in a head.
const MAX_HEADERS: usize = 100;
/// Free room made in the buffer before a read whose size is not known.
const READ_ROOM: usize = 8 * 1024;

/// A complete answer.
pub(super) struct Answer {
    /// The status code.
    pub status: u16,
    /// The body, without framing.
    pub body: Bytes,
    /// How many bytes the answer took on the wire (head and body).
    pub size: usize,
    /// Whether the connection may carry another request.
    pub reusable: bool,
}

/// Why no answer came back.
#[derive(Debug)]
pub(super) enum ExchangeError {
    /// The connection was closed or failed before any byte of an answer
    /// arrived: a pooled connection the subgraph had closed.
    Closed(String),
    /// Anything else: a broken answer, or the connection failing during one.
    Failed(String),
}

use ExchangeError::{Closed, Failed};

/// How the body's end is known.
enum Framing {
    /// `content-length` bytes (none for 204, 304).
    Length(usize),
    /// `transfer-encoding: chunked`.
    Chunked,
    /// Neither: the body ends when the subgraph closes the connection.
    UntilClose,
}

/// What the head says.
struct Head {
    /// Its length in bytes, with the blank line.
    len: usize,
    status: u16,
    framing: Framing,
    /// Neither side asked to close the connection after this answer.
    keep_alive: bool,
}

/// Reads one answer from `conn` into a buffer of `capacity` bytes (grown
/// if the answer is larger).
pub(super) async fn read_answer(
    conn: &mut TcpStream,
    capacity: usize,
) -> Result<Answer, ExchangeError> {
    let mut buf = Vec::with_capacity(capacity.max(1024));
    let head = read_head(conn, &mut buf).await?;
    let (body, reusable): (Range<usize>, bool) = match head.framing {
        Framing::Length(n) => {
            let end = head
                .len
                .checked_add(n)
                .ok_or_else(|| Failed("invalid content-length".into()))?;
            if buf.len() < end {
                buf.reserve_exact(end - buf.len());
            }
            while buf.len() < end {
                let missing = end - buf.len();
                if read_more(conn, &mut buf, missing).await? == 0 {
                    return Err(Failed(format!(
                        "connection closed after {} of {n} body bytes",
                        buf.len() - head.len
                    )));
                }
            }
            (head.len..end, head.keep_alive && buf.len() == end)
        }
        Framing::Chunked => {
            let (end, whole) = dechunk(conn, &mut buf, head.len).await?;
            (head.len..end, head.keep_alive && whole)
        }
        Framing::UntilClose => {
            while read_more(conn, &mut buf, READ_ROOM).await? > 0 {}
            (head.len..buf.len(), false)
        }
    };
    let size = buf.len();
    Ok(Answer {
        status: head.status,
        body: Bytes::from(buf).slice(body),
        size,
        reusable,
    })
}

/// Reads until a final (non-1xx) head is complete; interim answers are
/// skipped.
async fn read_head(conn: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Head, ExchangeError> {
    let mut received = false;
    loop {
        let n = match read_more(conn, buf, READ_ROOM).await {
            Ok(n) => n,
            Err(Failed(why)) if !received => return Err(Closed(why)),
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Err(if received {
                Failed("connection closed in the middle of the response head".into())
            } else {
                Closed("the subgraph closed the connection".into())
            });
        }
        received = true;
        while let Some(head) = parse_head(buf)? {
            match head.status {
                101 => return Err(Failed("unexpected 101 Switching Protocols".into())),
                100..=199 => {
                    buf.drain(..head.len);
                }
                _ => return Ok(head),
            }
        }
        if buf.len() > MAX_HEAD {
            return Err(Failed("response head larger than 64 KB".into()));
        }
    }
}

/// The head at the start of `buf`, if it is complete.
fn parse_head(buf: &[u8]) -> Result<Option<Head>, ExchangeError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut headers);
    let len = match res.parse(buf) {
        Ok(Status::Complete(len)) => len,
        Ok(Status::Partial) => return Ok(None),
        Err(e) => return Err(Failed(format!("invalid HTTP response head: {e}"))),
    };
    let status = res.code.unwrap_or(0);
    let http10 = res.version == Some(0);
    let mut close = http10;
    let mut length = None;
    let mut chunked = false;
    for h in res.headers.iter() {
        let value = std::str::from_utf8(h.value).unwrap_or("");
        if h.name.eq_ignore_ascii_case("content-length") {
            let n: usize = value
                .trim()
                .parse()
                .map_err(|_| Failed(format!("invalid content-length {value:?}")))?;
            if length.is_some_and(|l| l != n) {
                return Err(Failed("conflicting content-length headers".into()));
            }
            length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            let last = value.rsplit(',').next().unwrap_or("").trim();
            if !last.eq_ignore_ascii_case("chunked") {
                return Err(Failed(format!("unsupported transfer-encoding {value:?}")));
            }
            chunked = true;
        } else if h.name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                if token.eq_ignore_ascii_case("close") {
                    close = true;
                } else if token.eq_ignore_ascii_case("keep-alive") && http10 {
                    close = false;
                }
            }
        }
    }
    let framing = if matches!(status, 100..=199 | 204 | 304) {
        Framing::Length(0)
    } else if chunked {
        // Both framings at once: the chunks win, and the connection is
        // not trusted with another request.
        close |= length.is_some();
        Framing::Chunked
    } else if let Some(n) = length {
        Framing::Length(n)
    } else {
        Framing::UntilClose
    };
    Ok(Some(Head {
        len,
        status,
        framing,
        keep_alive: !close,
    }))
}

/// Reads a chunked body that starts at `start`, joining the chunks' data
/// in place from `start`. Returns where the data ends, and whether the
/// buffer ended exactly with the body (no bytes of anything after it).
async fn dechunk(
    conn: &mut TcpStream,
    buf: &mut Vec<u8>,
    start: usize,
) -> Result<(usize, bool), ExchangeError> {
    let truncated = || Failed("connection closed in the middle of a chunked body".into());
    let (mut write, mut read) = (start, start);
    loop {
        match httparse::parse_chunk_size(&buf[read..]) {
            Ok(Status::Complete((line, 0))) => {
                read += line;
                // Trailer fields, if any, then a blank line.
                loop {
                    if let Some(end) = trailers_end(&buf[read..]) {
                        return Ok((write, read + end == buf.len()));
                    }
                    if buf.len() - read > MAX_HEAD {
                        return Err(Failed("trailers larger than 64 KB".into()));
                    }
                    if read_more(conn, buf, READ_ROOM).await? == 0 {
                        return Err(truncated());
                    }
                }
            }
            Ok(Status::Complete((line, size))) => {
                let data = read + line;
                let end = usize::try_from(size)
                    .ok()
                    .and_then(|s| data.checked_add(s)?.checked_add(2))
                    .ok_or_else(|| Failed("chunk too large".into()))?;
                if buf.len() < end {
                    buf.reserve(end - buf.len());
                }
                while buf.len() < end {
                    let missing = end - buf.len();
                    if read_more(conn, buf, missing).await? == 0 {
                        return Err(truncated());
                    }
                }
                if &buf[end - 2..end] != b"\r\n" {
                    return Err(Failed("invalid chunk: no CRLF after its data".into()));
                }
                buf.copy_within(data..end - 2, write);
                write += end - 2 - data;
                read = end;
            }
            Ok(Status::Partial) => {
                if buf.len() - read > 1024 {
                    return Err(Failed("invalid chunk size line".into()));
                }
                if read_more(conn, buf, READ_ROOM).await? == 0 {
                    return Err(truncated());
                }
            }
            Err(_) => return Err(Failed("invalid chunk size".into())),
        }
    }
}

/// Where the trailer section at the start of `s` ends, if it is complete.
fn trailers_end(s: &[u8]) -> Option<usize> {
    if s.starts_with(b"\r\n") {
        return Some(2);
    }
    s.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// One read, with at least `room` bytes (at least one) free in `buf`
/// first. `Ok(0)`: the connection was closed.
async fn read_more(
    conn: &mut TcpStream,
    buf: &mut Vec<u8>,
    room: usize,
) -> Result<usize, ExchangeError> {
    let room = room.max(1);
    if buf.capacity() - buf.len() < room {
        buf.reserve(room);
    }
    conn.read_buf(buf).await.map_err(|e| Failed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Head {
        match parse_head(text.as_bytes()) {
            Ok(Some(h)) => h,
            Ok(None) => panic!("incomplete: {text:?}"),
            Err(Closed(e) | Failed(e)) => panic!("{e}"),
        }
    }

    fn error(text: &str) -> String {
        match parse_head(text.as_bytes()) {
            Err(Closed(e) | Failed(e)) => e,
            _ => panic!("accepted: {text:?}"),
        }
    }

    #[test]
    fn heads_say_how_the_body_is_framed() {
        let h = head("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"data\":{}}");
        assert_eq!((h.status, h.len, h.keep_alive), (200, 39, true));
        assert!(matches!(h.framing, Framing::Length(11)));
        let h = head("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n");
        assert!(matches!(h.framing, Framing::Chunked));
        assert!(h.keep_alive);
        let h = head("HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n");
        assert!(matches!(h.framing, Framing::Chunked));
        assert!(!h.keep_alive, "both framings: the connection is not reused");
        let h = head("HTTP/1.1 500 Oops\r\nConnection: keep-alive, Close\r\n\r\n");
        assert!(matches!(h.framing, Framing::UntilClose));
        assert!(!h.keep_alive);
        let h = head("HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n");
        assert!(!h.keep_alive, "HTTP/1.0 closes unless asked not to");
        let h = head("HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n");
        assert!(h.keep_alive);
        let h = head("HTTP/1.1 204 No Content\r\ncontent-length: 10\r\n\r\n");
        assert!(matches!(h.framing, Framing::Length(0)));
        assert!(parse_head(b"HTTP/1.1 200 OK\r\ncontent-le")
            .unwrap()
            .is_none());
    }

    #[test]
    fn bad_heads_are_errors() {
        assert!(error("HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n").contains("content-length"));
        assert!(
            error("HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n")
                .contains("conflicting")
        );
        assert!(error("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n").contains("gzip"));
        assert!(error("SMTP 220 hello\r\n\r\n").contains("invalid HTTP response head"));
    }

    #[test]
    fn trailer_sections_end_at_a_blank_line() {
        assert_eq!(trailers_end(b"\r\n"), Some(2));
        assert_eq!(trailers_end(b"x-t: 1\r\n\r\nrest"), Some(10));
        assert_eq!(trailers_end(b"x-t: 1\r\n"), None);
        assert_eq!(trailers_end(b""), None);
    }
}
