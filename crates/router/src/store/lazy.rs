//! A Redis store opened on first use, for a feature that names its own
//! server (APQ's registrations, the response cache): opening fails fast,
//! is logged, and is not tried again for [`REOPEN_AFTER`], so that a
//! server that is down costs requests a lookup's miss, not a wait.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use super::Store;

/// How long Redis is left alone after it could not be opened.
pub const REOPEN_AFTER: Duration = Duration::from_secs(10);

/// A Redis store opened on first use.
pub struct LazyRedis {
    /// What uses it, for log lines ("APQ", "response cache").
    what: &'static str,
    url: String,
    key_prefix: String,
    store: OnceCell<Arc<dyn Store>>,
    /// When opening last failed.
    failed: Mutex<Option<Instant>>,
}

impl LazyRedis {
    /// The server at `url`, every key prefixed with `key_prefix`, for the
    /// feature `what`.
    pub fn new(what: &'static str, url: &str, key_prefix: &str) -> LazyRedis {
        LazyRedis {
            what,
            url: url.to_owned(),
            key_prefix: key_prefix.to_owned(),
            store: OnceCell::new(),
            failed: Mutex::new(None),
        }
    }

    /// The store, opened on first use; `None` (logged) when it cannot be
    /// opened, and without trying again for [`REOPEN_AFTER`].
    pub async fn get(&self) -> Option<Arc<dyn Store>> {
        if let Some(store) = self.store.get() {
            return Some(store.clone());
        }
        let recently = |at: &Option<Instant>| at.is_some_and(|at| at.elapsed() < REOPEN_AFTER);
        if recently(&self.failed.lock().unwrap_or_else(|p| p.into_inner())) {
            return None;
        }
        let opened = self
            .store
            .get_or_try_init(|| super::open_redis(&self.url, &self.key_prefix))
            .await;
        match opened {
            Ok(store) => Some(store.clone()),
            Err(e) => {
                tracing::warn!("{}: cannot open Redis: {e}", self.what);
                *self.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
                None
            }
        }
    }
}
