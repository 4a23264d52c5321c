//! Closing a client connection without losing the last answer.
//!
//! When the router answers before it has read the whole request (a body
//! over `max_body_bytes` gets its 413 from the declared length alone, a
//! head over `http1_max_request_buf_size` its 431), the connection is then
//! closed with the client's bytes still arriving. Closing a socket with
//! unread data (or receiving data after the close) makes the kernel send a
//! reset, and a reset can destroy the answer in the client's receive
//! buffer before the client reads it: the client sees "connection reset"
//! instead of the 413. So a connection the router closes before the client
//! did lingers: the router shuts its sending side (the client gets the
//! answer, then end-of-stream) and reads and discards what comes, until
//! the client closes or for a bounded time and amount. The connection
//! keeps its place in `max_connections` meanwhile. Connections the client
//! closed first (the usual end of keep-alive) close at once.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;

/// How long a closing connection is read from at most.
const LINGER_TIME: Duration = Duration::from_secs(5);
/// How many bytes a closing connection reads at most.
const LINGER_BYTES: usize = 64 * 1024 * 1024;

/// A client connection that lingers when dropped with unread bytes, and
/// holds its `max_connections` place until it is closed.
pub(super) struct Lingering {
    stream: Option<TcpStream>,
    permit: Option<OwnedSemaphorePermit>,
    /// A read saw the end of the client's stream.
    client_closed: bool,
}

impl Lingering {
    /// Wraps an accepted connection and its place among the connections.
    pub(super) fn new(stream: TcpStream, permit: OwnedSemaphorePermit) -> Self {
        Lingering {
            stream: Some(stream),
            permit: Some(permit),
            client_closed: false,
        }
    }

    fn stream(&mut self) -> io::Result<&mut TcpStream> {
        self.stream
            .as_mut()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }
}

impl AsyncRead for Lingering {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = match self.stream() {
            Ok(stream) => Pin::new(stream).poll_read(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        };
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() == before {
            self.client_closed = true;
        }
        polled
    }
}

impl tokio::io::AsyncWrite for Lingering {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.stream() {
            Ok(stream) => Pin::new(stream).poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.stream() {
            Ok(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.stream() {
            Ok(stream) => Pin::new(stream).poll_flush(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.stream() {
            Ok(stream) => Pin::new(stream).poll_shutdown(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl Drop for Lingering {
    fn drop(&mut self) {
        let (Some(stream), permit) = (self.stream.take(), self.permit.take()) else {
            return;
        };
        if self.client_closed {
            return;
        }
        // The client closed (or the connection failed) since: a plain
        // close loses nothing. Otherwise it may still be sending.
        let mut probe = [0u8; 1];
        match stream.try_read(&mut probe) {
            Ok(0) => return,
            Err(e) if e.kind() != std::io::ErrorKind::WouldBlock => return,
            _ => {}
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(linger(stream, permit));
        }
    }
}

/// Shuts the sending side, then reads and discards until the client
/// closes, [`LINGER_BYTES`] were read or [`LINGER_TIME`] passed.
async fn linger(mut stream: TcpStream, _permit: Option<OwnedSemaphorePermit>) {
    let _ = stream.shutdown().await;
    let deadline = tokio::time::Instant::now() + LINGER_TIME;
    let mut buf = [0u8; 8 * 1024];
    let mut read = 0usize;
    while read < LINGER_BYTES {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => read += n,
            _ => return,
        }
    }
}
