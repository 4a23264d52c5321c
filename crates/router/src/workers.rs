//! The router's threads: one single-threaded runtime per core.
//!
//! Each worker accepts on its own listening socket. All sockets are bound to
//! the same address with `SO_REUSEPORT`, so the kernel spreads connections
//! across them. A connection is then served start to finish by one thread:
//! its subgraph requests, too, go through that thread's connection pool
//! (see `goliath_executor::client`). There is no work stealing and no
//! wake-up crosses threads. That is the model Hive Router (ntex) and
//! other fast servers use. On this project's 2-core machine it took about a
//! tenth off the router's CPU per request, compared with tokio's
//! multi-threaded runtime.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpSocket};
use tokio::runtime::Runtime;
use tokio::sync::watch;

use crate::http::{serve, ServerState};

/// Parsing, planning and projection recurse with the document's depth.
const STACK_SIZE: usize = 8 * 1024 * 1024;

/// How many workers to run: `GOLIATH_WORKERS` if set to a positive number,
/// else one per available core.
pub fn default_count() -> usize {
    std::env::var("GOLIATH_WORKERS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Bound listening sockets and the first worker's runtime, ready to serve.
pub struct Workers {
    runtime: Runtime,
    first: TcpListener,
    others: Vec<std::net::TcpListener>,
    addr: SocketAddr,
}

impl Workers {
    /// Binds `count` sockets to `addr` (port 0: a free port, the same for
    /// all). Errors come back here, before anything is served.
    pub fn bind(addr: SocketAddr, count: usize) -> io::Result<Workers> {
        // Without SO_REUSEPORT, sockets cannot share an address.
        #[cfg(not(unix))]
        let count = 1;
        let runtime = new_runtime()?;
        let (first, others, addr) = {
            let _entered = runtime.enter();
            let first = listen(addr, count > 1)?;
            let addr = first.local_addr()?;
            let mut others = Vec::with_capacity(count.saturating_sub(1));
            for _ in 1..count {
                others.push(listen(addr, true)?.into_std()?);
            }
            (first, others, addr)
        };
        Ok(Workers {
            runtime,
            first,
            others,
            addr,
        })
    }

    /// The address the workers listen on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves `state` on every worker until `shutdown` completes, then
    /// drains them all (see [`serve`]). `setup` runs first, on the first
    /// worker's runtime: spawn background tasks there.
    pub fn serve<S, F>(self, state: Arc<ServerState>, setup: S, shutdown: F) -> io::Result<()>
    where
        S: FnOnce() + Send + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let (stop, stopped) = watch::channel(false);
        let mut threads = Vec::with_capacity(self.others.len() + 1);
        // Every worker runs on a thread of its own with a known stack size
        // (the main thread's depends on the environment).
        let (runtime, first, first_state) = (self.runtime, self.first, state.clone());
        threads.push(spawn_worker(0, move || {
            runtime.block_on(async move {
                setup();
                let shutdown = async move {
                    shutdown.await;
                    let _ = stop.send(true);
                };
                serve(first, first_state, shutdown).await;
                Ok(())
            })
        })?);
        for (i, listener) in self.others.into_iter().enumerate() {
            let state = state.clone();
            let mut stopped = stopped.clone();
            threads.push(spawn_worker(i + 1, move || {
                new_runtime()?.block_on(async move {
                    let listener = TcpListener::from_std(listener)?;
                    let shutdown = async move {
                        // A dropped sender also means: stop.
                        let _ = stopped.wait_for(|stop| *stop).await;
                    };
                    serve(listener, state, shutdown).await;
                    Ok(())
                })
            })?);
        }
        for thread in threads {
            match thread.join() {
                Ok(result) => result?,
                Err(_) => return Err(io::Error::other("a worker thread panicked")),
            }
        }
        Ok(())
    }
}

fn spawn_worker(
    i: usize,
    work: impl FnOnce() -> io::Result<()> + Send + 'static,
) -> io::Result<std::thread::JoinHandle<io::Result<()>>> {
    std::thread::Builder::new()
        .name(format!("goliath-worker-{i}"))
        .stack_size(STACK_SIZE)
        .spawn(work)
}

fn new_runtime() -> io::Result<Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// A listening socket on `addr`, shared with the other workers' when `share`.
fn listen(addr: SocketAddr, share: bool) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    #[cfg(unix)]
    if share {
        socket.set_reuseport(true)?;
    }
    #[cfg(not(unix))]
    let _ = share;
    socket.bind(addr)?;
    socket.listen(1024)
}
