//! Entry points for the fuzz targets in `fuzz/` (see `docs/fuzzing.md`):
//! the subgraph answer reader. The JSON parser is public already
//! ([`crate::parse::parse`]). Not a stable API.

use bytes::Bytes;
use tokio::io::AsyncRead;

use crate::client::h1::{self, ExchangeError};

/// A complete subgraph answer, as the client reads it.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The body, without framing.
    pub body: Bytes,
    /// How many bytes the answer took (head and body).
    pub size: usize,
    /// Whether the connection may carry another request.
    pub reusable: bool,
}

/// Why no answer was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Nothing was sent back before the connection closed.
    Closed,
    /// The connection failed or closed in the middle of an answer.
    Failed,
    /// The answer is not acceptable (too large, badly framed, compressed).
    Malformed,
}

/// Reads one answer of at most `max` bytes from `conn` into a buffer of
/// `capacity` bytes, as the subgraph client does.
pub async fn read_answer<R: AsyncRead + Unpin>(
    conn: &mut R,
    capacity: usize,
    max: usize,
) -> Result<Answer, (ErrorKind, String)> {
    match h1::read_answer(conn, capacity, max, true).await {
        Ok(a) => Ok(Answer {
            status: a.status,
            body: a.body,
            size: a.size,
            reusable: a.reusable,
        }),
        Err(ExchangeError::Closed(e)) => Err((ErrorKind::Closed, e)),
        Err(ExchangeError::Failed(e) | ExchangeError::Unsent(e)) => Err((ErrorKind::Failed, e)),
        Err(ExchangeError::Malformed(e)) => Err((ErrorKind::Malformed, e)),
    }
}
