//! The subgraph client's HTTP/1.1 answer reader
//! (crates/executor/src/client/h1.rs), fed from memory.
//!
//! Input: byte 0 sets the answer cap (`max_response_bytes`, 1 to 16,321
//! bytes), byte 1 the buffer's first capacity, byte 2 how the bytes
//! arrive (read sizes, and whether reads are sometimes pending first),
//! byte 3 the mode; the rest is the payload:
//! - mode 0: the payload is the whole answer as it comes off the wire;
//! - mode 1, 2, 3: the payload is a body, sent with `content-length`,
//!   `transfer-encoding: chunked` (in chunks sized from byte 2) or framed
//!   by the connection closing. The reader must return exactly that body
//!   with status 200 when the answer fits the cap, and refuse it as
//!   malformed when it does not.
//!
//! Always: no panic; no hang (the stream ends where the input does); an
//! answer is at most the cap and never more than what was sent; a 1xx is
//! never the final answer; and the reader never holds more than the cap
//! plus a small constant in memory (a counting global allocator).

#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::task::{Context, Poll};

use goliath_executor::fuzzing::{read_answer, ErrorKind};
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncRead, ReadBuf};

/// Counts the bytes live on the heap, and their peak since it was last
/// reset.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(live, Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // What is held: the new block instead of the old one (a copy
            // holds both for a moment, as growing any buffer does).
            let live = LIVE.fetch_add(new_size, Relaxed) + new_size - layout.size();
            LIVE.fetch_sub(layout.size(), Relaxed);
            PEAK.fetch_max(live, Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What the reader may hold beyond the cap: error messages, the future's
/// state, the runtime's bookkeeping.
const SLACK: usize = 8 * 1024;

/// A stream over `data`, handing out at most `step` bytes per read (all
/// when 0), and returning `Pending` before every other read when asked.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
    pending: bool,
    flip: bool,
}

impl AsyncRead for Trickle<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.pending {
            self.flip = !self.flip;
            if self.flip {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
        let mut n = buf.remaining().min(self.data.len());
        if self.step > 0 {
            n = n.min(self.step);
        }
        let (now, later) = self.data.split_at(n);
        buf.put_slice(now);
        self.data = later;
        Poll::Ready(Ok(()))
    }
}

/// `body` in chunks of sizes taken from `seed`.
fn chunked(body: &[u8], seed: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = body;
    let mut size = usize::from(seed % 17) + 1;
    while !rest.is_empty() {
        let (chunk, later) = rest.split_at(size.min(rest.len()));
        // Upper and lower case hex, and an extension now and then.
        if size % 3 == 0 {
            out.extend_from_slice(format!("{:X};ext=1\r\n", chunk.len()).as_bytes());
        } else {
            out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        }
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
        rest = later;
        size = size * 5 % 23 + 1;
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

fuzz_target!(|data: &[u8]| {
    let [cap, capacity, arrival, mode, payload @ ..] = data else {
        return;
    };
    let max = usize::from(*cap) * 64 + 1;
    let capacity = usize::from(*capacity) * 64;
    let mode = mode % 4;
    let wire = match mode {
        0 => payload.to_vec(),
        1 => {
            let mut w = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                payload.len()
            )
            .into_bytes();
            w.extend_from_slice(payload);
            w
        }
        2 => {
            let mut w = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
            w.extend_from_slice(&chunked(payload, *arrival));
            w
        }
        _ => {
            let mut w = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_vec();
            w.extend_from_slice(payload);
            w
        }
    };
    let mut conn = Trickle {
        data: &wire,
        step: usize::from(arrival & 0x3f),
        pending: arrival & 0x40 != 0,
        flip: false,
    };
    thread_local! {
        static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
    }
    let result = RUNTIME.with(|runtime| {
        let base = LIVE.load(Relaxed);
        PEAK.store(base, Relaxed);
        let result = runtime.block_on(read_answer(&mut conn, capacity, max));
        let peak = PEAK.load(Relaxed) - base;
        assert!(
            peak <= max + SLACK,
            "the reader held {peak} bytes with a cap of {max}: {result:?}"
        );
        result
    });
    if let Ok(a) = &result {
        assert!(a.size <= max, "{} bytes over a cap of {max}", a.size);
        assert!(a.size <= wire.len(), "more bytes than were sent");
        assert!(a.body.len() <= a.size);
        assert!(!(100..200).contains(&a.status), "a 1xx as the answer");
    }
    if mode != 0 {
        if wire.len() <= max {
            let a = result.unwrap_or_else(|e| panic!("a well-formed answer refused: {e:?}"));
            assert_eq!(a.status, 200);
            assert_eq!(&a.body[..], payload, "the body");
            assert_eq!(a.size, wire.len());
            assert_eq!(a.reusable, mode != 3);
        } else {
            match result {
                Err((ErrorKind::Malformed, e)) => assert!(e.contains("larger than"), "{e}"),
                other => panic!("{} bytes over a cap of {max}: {other:?}", wire.len()),
            }
        }
    }
});
