//! CPU-heavy work off the workers' event loops.
//!
//! Each worker serves many connections on one thread, so a request that
//! parses, validates and plans a large new document would hold up every
//! other request on that thread. Such work (only on a cache miss: known
//! documents and plans are looked up in place) runs here instead: on a
//! pool of threads of its own (one per core, with a large stack: parsing
//! and planning recurse with the document's depth), the requests waiting
//! their turn without blocking anything. A job is told when the request
//! that asked for it has given up (its timeout passed), so it can stop
//! early.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::{oneshot, Semaphore};

/// Tells a running job whether the request that asked for it still waits.
#[derive(Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// True once the request gave up: the job's result will not be used.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Sets the flag when the waiting request is dropped (finished or timed
/// out), whichever comes first.
struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        (self.0).0.store(true, Ordering::Relaxed);
    }
}

/// Why a job gave no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// The job panicked.
    Panicked,
}

/// The stack of a pool thread.
const STACK_SIZE: usize = 16 * 1024 * 1024;

/// A job as the pool threads see it.
type Job = Box<dyn FnOnce() + Send>;

/// The pool: a queue its threads take jobs from, and one permit per
/// thread, so that a job is queued only when a thread is free for it.
struct Pool {
    queue: Mutex<mpsc::Sender<Job>>,
    permits: Semaphore,
}

/// The process's pool, started on first use.
fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (queue, jobs) = mpsc::channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        let mut started = 0;
        for i in 0..threads {
            let jobs = jobs.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("goliath-compute-{i}"))
                .stack_size(STACK_SIZE)
                .spawn(move || loop {
                    let job = match jobs.lock() {
                        Ok(jobs) => jobs.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    match job {
                        // A panicking job drops its reply: the request
                        // sees `JobError::Panicked`, the thread goes on.
                        Ok(job) => {
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        }
                        Err(_) => return,
                    }
                });
            if spawned.is_ok() {
                started += 1;
            }
        }
        let permits = Semaphore::new(started);
        if started == 0 {
            // No thread could be started: every job fails at once instead
            // of waiting forever.
            permits.close();
        }
        Pool {
            queue: Mutex::new(queue),
            permits,
        }
    })
}

/// Runs `job` on a pool thread once one is free and returns its result.
/// Dropping the returned future (the request timed out) cancels the job:
/// it sees [`Cancel::is_cancelled`] and should stop.
pub async fn run<T, F>(job: F) -> Result<T, JobError>
where
    T: Send + 'static,
    F: FnOnce(&Cancel) -> T + Send + 'static,
{
    let pool = pool();
    let cancel = Cancel::default();
    let _guard = CancelOnDrop(cancel.clone());
    // Closed only when no thread could be started.
    let Ok(permit) = pool.permits.acquire().await else {
        return Err(JobError::Panicked);
    };
    let (reply, result) = oneshot::channel();
    let wrapped: Job = Box::new(move || {
        let _permit = permit;
        let _ = reply.send(job(&cancel));
    });
    let sent = match pool.queue.lock() {
        Ok(queue) => queue.send(wrapped),
        Err(poisoned) => poisoned.into_inner().send(wrapped),
    };
    if sent.is_err() {
        return Err(JobError::Panicked);
    }
    result.await.map_err(|_| JobError::Panicked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[tokio::test]
    async fn jobs_run_and_return() {
        assert_eq!(run(|_| 6 * 7).await, Ok(42));
        assert_eq!(
            run(|_| -> u8 { panic!("boom") }).await,
            Err(JobError::Panicked)
        );
    }

    #[tokio::test]
    async fn dropping_the_request_cancels_the_job() {
        let (tx, rx) = std::sync::mpsc::channel();
        let job = run(move |cancel| {
            let start = Instant::now();
            while !cancel.is_cancelled() && start.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(1));
            }
            let _ = tx.send(cancel.is_cancelled());
        });
        let timed_out = tokio::time::timeout(Duration::from_millis(50), job).await;
        assert!(timed_out.is_err());
        let seen = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(5)))
            .await
            .unwrap();
        assert_eq!(seen, Ok(true), "the job saw the cancellation");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_running_job_does_not_block_the_event_loop() {
        let job = tokio::spawn(run(|_| std::thread::sleep(Duration::from_millis(300))));
        let start = Instant::now();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(start.elapsed() < Duration::from_millis(200));
        job.await.unwrap().unwrap();
    }
}
