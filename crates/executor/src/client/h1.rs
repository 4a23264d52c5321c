//! Reading one HTTP/1.1 answer off a connection: the head (parsed by
//! `httparse`), then the body, framed by `content-length`, by chunks or by
//! the connection closing. The body ends up in the buffer the head was
//! read into, so it is never copied (chunks are joined in place).
//!
//! Nothing the subgraph says is trusted with memory: the buffer never
//! grows past the subgraph's `max_response_bytes`, a `content-length` or
//! chunk size that would take the answer past it is refused before
//! anything is reserved for it, and a body that only ends when the
//! connection closes is refused as soon as it passes the cap. Answers
//! that are compressed, or framed by anything but `content-length`, plain
//! `chunked` or the connection closing, are refused too: they are never
//! passed on as if they were plain JSON.

use std::ops::Range;

use bytes::Bytes;
use httparse::Status;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::cache_control::CacheControl;

/// The largest response head (interim answers included) and trailer
/// section accepted.
const MAX_HEAD: usize = 64 * 1024;
/// The most header fields accepted in a head.
const MAX_HEADERS: usize = 100;
/// Free room made in the buffer before a read whose size is not known.
const READ_ROOM: usize = 8 * 1024;

/// A complete answer.
pub(crate) struct Answer {
    /// The status code.
    pub status: u16,
    /// The body, without framing.
    pub body: Bytes,
    /// How many bytes the answer took on the wire (head and body).
    pub size: usize,
    /// Whether the connection may carry another request.
    pub reusable: bool,
    /// The answer's `Cache-Control`, when it was asked for.
    pub cache_control: Option<CacheControl>,
}

/// Why no answer came back.
#[derive(Debug)]
pub(crate) enum ExchangeError {
    /// Writing the request failed: the subgraph did not receive all of
    /// it, so it cannot have acted on it.
    Unsent(String),
    /// The request was sent, and the connection was closed or failed
    /// before any byte of an answer arrived.
    Closed(String),
    /// The connection failed or was closed in the middle of an answer.
    Failed(String),
    /// The answer is not acceptable: larger than the cap, badly framed,
    /// compressed.
    Malformed(String),
}

use ExchangeError::{Closed, Failed, Malformed};

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
    /// Its `Cache-Control`, when asked for.
    cache_control: Option<CacheControl>,
}

/// Why an answer larger than `max` bytes is refused (the https:// path
/// says it the same way).
pub(crate) fn too_large_message(max: usize) -> String {
    format!("the answer is larger than {max} bytes (subgraph max_response_bytes)")
}

/// Why a compressed answer is refused; `coding` as [`quoted`] quotes it.
pub(crate) fn compressed_message(coding: &str) -> String {
    format!("compressed answers (content-encoding: {coding}) are not accepted")
}

/// Why an answer with a transfer coding other than one plain `chunked`
/// is refused; `value` as [`quoted`] quotes it.
pub(crate) fn transfer_encoding_message(value: &str) -> String {
    format!("unsupported transfer-encoding {value:?} (only chunked is accepted)")
}

/// The refusal of an answer larger than `max` bytes.
fn too_large(max: usize) -> ExchangeError {
    Malformed(too_large_message(max))
}

/// Reads one answer of at most `max` bytes (head and body as they come
/// on the wire) from `conn`, into a buffer of `capacity` bytes (grown if
/// the answer is larger, never past `max`). With `cache_control`, the
/// answer's `Cache-Control` is read too.
pub(crate) async fn read_answer<R: AsyncRead + Unpin>(
    conn: &mut R,
    capacity: usize,
    max: usize,
    cache_control: bool,
) -> Result<Answer, ExchangeError> {
    let mut buf = Vec::with_capacity(capacity.max(1024).min(max));
    let head = read_head(conn, &mut buf, max, cache_control).await?;
    let (body, reusable): (Range<usize>, bool) = match head.framing {
        Framing::Length(n) => {
            // Refused from the head alone: nothing is reserved for a
            // length past the cap.
            let end = head
                .len
                .checked_add(n)
                .filter(|&end| end <= max)
                .ok_or_else(|| too_large(max))?;
            if buf.len() < end {
                buf.reserve_exact(end - buf.len());
            }
            while buf.len() < end {
                let missing = end - buf.len();
                if read_more(conn, &mut buf, missing, max).await? == 0 {
                    return Err(Failed(format!(
                        "connection closed after {} of {n} body bytes",
                        buf.len() - head.len
                    )));
                }
            }
            (head.len..end, head.keep_alive && buf.len() == end)
        }
        Framing::Chunked => {
            let (end, whole) = dechunk(conn, &mut buf, head.len, max).await?;
            (head.len..end, head.keep_alive && whole)
        }
        Framing::UntilClose => {
            loop {
                if buf.len() >= max {
                    // The answer fills the cap: it fits only if the
                    // subgraph closes the connection now.
                    let mut probe = [0u8; 1];
                    match conn.read(&mut probe).await {
                        Ok(0) => break,
                        Ok(_) => return Err(too_large(max)),
                        Err(e) => return Err(Failed(e.to_string())),
                    }
                }
                if read_more(conn, &mut buf, READ_ROOM, max).await? == 0 {
                    break;
                }
            }
            (head.len..buf.len(), false)
        }
    };
    let size = buf.len();
    Ok(Answer {
        status: head.status,
        body: Bytes::from(buf).slice(body),
        size,
        reusable,
        cache_control: head.cache_control,
    })
}

/// Reads until a final (non-1xx) head is complete; interim answers are
/// skipped (and count towards [`MAX_HEAD`]).
async fn read_head<R: AsyncRead + Unpin>(
    conn: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
    cache_control: bool,
) -> Result<Head, ExchangeError> {
    let mut received = false;
    let mut skipped = 0;
    loop {
        let n = match read_more(conn, buf, READ_ROOM, max).await {
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
        while let Some(head) = parse_head(buf, cache_control)? {
            match head.status {
                101 => return Err(Malformed("unexpected 101 Switching Protocols".into())),
                100..=199 => {
                    skipped += head.len;
                    buf.drain(..head.len);
                }
                _ => return Ok(head),
            }
        }
        if skipped + buf.len() > MAX_HEAD {
            return Err(Malformed("response head larger than 64 KB".into()));
        }
    }
}

/// The head at the start of `buf`, if it is complete (with its
/// `Cache-Control` read when `cache_control` is set).
fn parse_head(buf: &[u8], cache_control: bool) -> Result<Option<Head>, ExchangeError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut headers);
    let len = match res.parse(buf) {
        Ok(Status::Complete(len)) => len,
        Ok(Status::Partial) => return Ok(None),
        Err(e) => return Err(Malformed(format!("invalid HTTP response head: {e}"))),
    };
    let status = res.code.unwrap_or(0);
    let http10 = res.version == Some(0);
    let mut close = http10;
    let mut length = None;
    let mut transfer_encoding = false;
    let mut chunked = false;
    let mut content_encoding = None;
    let mut cc = cache_control.then(CacheControl::default);
    for h in res.headers.iter() {
        let text = || quoted(h.value);
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = content_length(h.value)
                .ok_or_else(|| Malformed(format!("invalid content-length {:?}", text())))?;
            if length.is_some_and(|l| l != n) {
                return Err(Malformed("conflicting content-length headers".into()));
            }
            length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            // Only plain `chunked`, once: any other coding (gzip, ...)
            // would leave the body encoded.
            transfer_encoding = true;
            for coding in h.value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                if coding.is_empty() {
                    continue;
                }
                if chunked || !coding.eq_ignore_ascii_case(b"chunked") {
                    return Err(Malformed(transfer_encoding_message(&text())));
                }
                chunked = true;
            }
        } else if h.name.eq_ignore_ascii_case("content-encoding") {
            let identity = h
                .value
                .split(|&b| b == b',')
                .map(<[u8]>::trim_ascii)
                .all(|c| c.is_empty() || c.eq_ignore_ascii_case(b"identity"));
            if !identity {
                content_encoding = Some(text());
            }
        } else if h.name.eq_ignore_ascii_case("connection") {
            for token in h.value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                if token.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") && http10 {
                    close = false;
                }
            }
        } else if let Some(cc) = cc
            .as_mut()
            .filter(|_| h.name.eq_ignore_ascii_case("cache-control"))
        {
            cc.read(h.value);
        }
    }
    if transfer_encoding && !chunked {
        return Err(Malformed("empty transfer-encoding".into()));
    }
    let bodiless = matches!(status, 100..=199 | 204 | 304);
    if let Some(coding) = content_encoding.filter(|_| !bodiless) {
        return Err(Malformed(compressed_message(&coding)));
    }
    let framing = if bodiless {
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
        cache_control: cc.map(CacheControl::finish),
    }))
}

/// How many bytes of a header value an error message quotes.
const QUOTED: usize = 64;

/// A header value as error messages quote it: as text, and no more than
/// [`QUOTED`] bytes of it (a value can be as large as the head, and
/// nothing the subgraph sends is copied whole into a message).
pub(crate) fn quoted(value: &[u8]) -> String {
    match value.get(..QUOTED) {
        Some(head) if value.len() > QUOTED => format!("{}...", String::from_utf8_lossy(head)),
        _ => String::from_utf8_lossy(value).into_owned(),
    }
}

/// A `content-length` value: decimal digits only (no sign, no list), and
/// small enough to count in.
fn content_length(value: &[u8]) -> Option<usize> {
    let digits = value.trim_ascii();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Reads a chunked body that starts at `start`, joining the chunks' data
/// in place from `start`. Returns where the data ends, and whether the
/// buffer ended exactly with the body (no bytes of anything after it).
/// The buffer (chunk framing included) never grows past `max` bytes: a
/// chunk that would take it further is refused from its size line.
async fn dechunk<R: AsyncRead + Unpin>(
    conn: &mut R,
    buf: &mut Vec<u8>,
    start: usize,
    max: usize,
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
                        return Err(Malformed("trailers larger than 64 KB".into()));
                    }
                    if read_more(conn, buf, READ_ROOM, max).await? == 0 {
                        return Err(truncated());
                    }
                }
            }
            Ok(Status::Complete((line, size))) => {
                let data = read + line;
                // The chunk's data and its CRLF must fit under the cap.
                let end = usize::try_from(size)
                    .ok()
                    .and_then(|s| data.checked_add(s)?.checked_add(2))
                    .filter(|&end| end <= max)
                    .ok_or_else(|| too_large(max))?;
                if buf.capacity() < end {
                    // Grow as `Vec::reserve` would, but not past the cap.
                    let target = end.max(buf.capacity().saturating_mul(2)).min(max);
                    buf.reserve_exact(target - buf.len());
                }
                while buf.len() < end {
                    let missing = end - buf.len();
                    if read_more(conn, buf, missing, max).await? == 0 {
                        return Err(truncated());
                    }
                }
                if &buf[end - 2..end] != b"\r\n" {
                    return Err(Malformed("invalid chunk: no CRLF after its data".into()));
                }
                buf.copy_within(data..end - 2, write);
                write += end - 2 - data;
                read = end;
            }
            Ok(Status::Partial) => {
                if buf.len() - read > 1024 {
                    return Err(Malformed("invalid chunk size line".into()));
                }
                if read_more(conn, buf, READ_ROOM, max).await? == 0 {
                    return Err(truncated());
                }
            }
            Err(_) => return Err(Malformed("invalid chunk size".into())),
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
/// first, as far as the cap allows: `buf` never grows past `max` bytes,
/// and more bytes are wanted when it holds `max` already, the answer is
/// too large. `Ok(0)`: the connection was closed.
async fn read_more<R: AsyncRead + Unpin>(
    conn: &mut R,
    buf: &mut Vec<u8>,
    room: usize,
    max: usize,
) -> Result<usize, ExchangeError> {
    if buf.len() >= max {
        return Err(too_large(max));
    }
    let room = room.max(1);
    if buf.capacity() - buf.len() < room {
        // Grow as `Vec::reserve` would (at least double), but never past
        // the cap. There is room for at least one byte, so the read never
        // has to grow the buffer itself.
        let target = buf
            .len()
            .saturating_add(room)
            .max(buf.capacity().saturating_mul(2))
            .min(max);
        buf.reserve_exact(target - buf.len());
    }
    conn.read_buf(buf).await.map_err(|e| Failed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Head {
        match parse_head(text.as_bytes(), true) {
            Ok(Some(h)) => h,
            Ok(None) => panic!("incomplete: {text:?}"),
            Err(e) => panic!("{e:?}"),
        }
    }

    /// Why a head is refused (always as malformed).
    fn error(text: &str) -> String {
        match parse_head(text.as_bytes(), true) {
            Err(Malformed(e)) => e,
            Err(e) => panic!("not refused as malformed: {e:?}"),
            _ => panic!("accepted: {text:?}"),
        }
    }

    #[test]
    fn heads_say_how_the_body_is_framed() {
        let h = head("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"data\":{}}");
        assert_eq!((h.status, h.len, h.keep_alive), (200, 39, true));
        assert!(matches!(h.framing, Framing::Length(11)));
        let h = head("HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n");
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
        assert!(parse_head(b"HTTP/1.1 200 OK\r\ncontent-le", false)
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
        assert!(error("SMTP 220 hello\r\n\r\n").contains("invalid HTTP response head"));
    }

    #[test]
    fn content_lengths_are_digits_only() {
        for ok in ["0", "11", " 11 ", "99999999999", "0011"] {
            let text = format!("HTTP/1.1 200 OK\r\ncontent-length: {ok}\r\n\r\n");
            let want: usize = ok.trim().parse().unwrap();
            assert!(
                matches!(head(&text).framing, Framing::Length(n) if n == want),
                "{ok:?}"
            );
        }
        for bad in [
            "+11",
            "-1",
            "1 1",
            "11, 11",
            "0x10",
            "",
            "1e3",
            "99999999999999999999999",
        ] {
            let text = format!("HTTP/1.1 200 OK\r\ncontent-length: {bad}\r\n\r\n");
            assert!(error(&text).contains("invalid content-length"), "{bad:?}");
        }
    }

    #[test]
    fn transfer_codings_other_than_plain_chunked_are_refused() {
        for bad in [
            "gzip",
            "gzip, chunked",
            "deflate,chunked",
            "br, chunked",
            "chunked, gzip",
            "identity",
            "chunked, chunked",
            "chunked;foo=bar",
            "x-custom",
        ] {
            let text = format!("HTTP/1.1 200 OK\r\ntransfer-encoding: {bad}\r\n\r\n");
            let e = error(&text);
            assert!(e.contains("unsupported transfer-encoding"), "{bad:?}: {e}");
            assert!(e.contains(bad), "{bad:?}: {e}");
        }
        let e = error(
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n",
        );
        assert!(e.contains("unsupported transfer-encoding"), "{e}");
        let e = error("HTTP/1.1 200 OK\r\ntransfer-encoding: \r\ncontent-length: 2\r\n\r\n");
        assert!(e.contains("empty transfer-encoding"), "{e}");
    }

    #[test]
    fn compressed_answers_are_refused() {
        for coding in [
            "gzip",
            "br",
            "deflate",
            "zstd",
            "x-gzip",
            "identity, gzip",
            "GZIP",
        ] {
            let text = format!(
                "HTTP/1.1 200 OK\r\ncontent-encoding: {coding}\r\ncontent-length: 2\r\n\r\n"
            );
            assert_eq!(
                error(&text),
                format!("compressed answers (content-encoding: {coding}) are not accepted")
            );
        }
        // Error statuses are refused as well: their bodies are read too.
        let e = error("HTTP/1.1 502 Bad Gateway\r\ncontent-encoding: gzip\r\n\r\n");
        assert!(e.contains("content-encoding: gzip"), "{e}");
        // A value that is not text is not mistaken for identity.
        let text = b"HTTP/1.1 200 OK\r\ncontent-encoding: \xff\r\ncontent-length: 2\r\n\r\n";
        assert!(matches!(parse_head(text, false), Err(Malformed(e)) if e.contains("compressed")));
        // Identity is plain; answers without a body have nothing to decode.
        let h = head("HTTP/1.1 200 OK\r\nContent-Encoding: Identity\r\ncontent-length: 2\r\n\r\n");
        assert!(matches!(h.framing, Framing::Length(2)));
        let h = head("HTTP/1.1 304 Not Modified\r\ncontent-encoding: gzip\r\n\r\n");
        assert!(matches!(h.framing, Framing::Length(0)));
        let h = head("HTTP/1.1 103 Early Hints\r\ncontent-encoding: gzip\r\n\r\n");
        assert_eq!(h.status, 103);
    }

    /// Found by the `subgraph_response` fuzz target: a 6,000-byte
    /// `content-length` of non-UTF-8 bytes was copied into the error
    /// message whole, 3 bytes for each (U+FFFD), so refusing a head held
    /// several times the answer cap.
    #[test]
    fn long_header_values_are_not_copied_into_errors() {
        let long = vec![0xffu8; 6000];
        for name in ["content-length", "transfer-encoding", "content-encoding"] {
            let mut text = format!("HTTP/1.1 200 OK\r\n{name}: ").into_bytes();
            text.extend_from_slice(&long);
            text.extend_from_slice(b"\r\ncontent-length: 2\r\n\r\n");
            let Err(Malformed(e)) = parse_head(&text, true) else {
                panic!("{name}: not refused as malformed");
            };
            assert!(e.len() < 300, "{name}: a {}-byte message", e.len());
            assert!(e.contains("..."), "{name}: {e}");
        }
        assert_eq!(quoted(b"gzip"), "gzip");
        assert_eq!(quoted(&[b'x'; 65]), format!("{}...", "x".repeat(64)));
    }

    #[test]
    fn cache_control_is_read_only_when_asked_for() {
        let text = "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\ncache-control: private\r\ncontent-length: 0\r\n\r\n";
        let cc = head(text).cache_control.expect("read");
        assert_eq!((cc.max_age, cc.private), (Some(60), true));
        let cc = head("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").cache_control;
        assert_eq!(cc.map(|c| c.missing_max_age), Some(true));
        let h = parse_head(text.as_bytes(), false).unwrap().unwrap();
        assert_eq!(h.cache_control, None);
    }

    #[test]
    fn trailer_sections_end_at_a_blank_line() {
        assert_eq!(trailers_end(b"\r\n"), Some(2));
        assert_eq!(trailers_end(b"x-t: 1\r\n\r\nrest"), Some(10));
        assert_eq!(trailers_end(b"x-t: 1\r\n"), None);
        assert_eq!(trailers_end(b""), None);
    }
}
