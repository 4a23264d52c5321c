//! The manifests in force, read again when their files change
//! (`persisted_queries.hot_reload`).
//!
//! There is no background task: the request path looks at the files'
//! modification times and sizes at most once a second (one `stat` per
//! file, by whichever request finds the second has passed), and when one
//! changed the files are read again on tokio's blocking pool while
//! requests go on with the manifest they have. A version that does not
//! read or check is logged and the last good one kept; it is read again
//! when the files change again.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Instant, SystemTime};

use super::manifest::Manifest;

/// How often, at most, the files are looked at.
const CHECK_EVERY_MS: u64 = 1000;

/// What a file looked like at the last check: modification time and size
/// (`None`: it could not be looked at).
type Stamp = Option<(SystemTime, u64)>;

/// The manifests in force, and what is needed to read them again.
pub(super) struct Manifests {
    paths: Vec<PathBuf>,
    hot_reload: bool,
    current: RwLock<Arc<Manifest>>,
    /// The files' stamps when they were last read (or tried).
    stamps: Mutex<Vec<Stamp>>,
    /// When the files are looked at next, in milliseconds since `epoch`.
    next_check: AtomicU64,
    epoch: Instant,
    /// A reading is under way.
    reading: Arc<AtomicBool>,
}

impl Manifests {
    /// Reads `paths` (an error names the file and entry).
    pub(super) fn load(paths: &[PathBuf], hot_reload: bool) -> Result<Arc<Manifests>, String> {
        let stamps = stamps(paths);
        let manifest = Manifest::read(paths)?;
        tracing::debug!(
            operations = manifest.len(),
            "persisted queries: manifests read"
        );
        Ok(Arc::new(Manifests {
            paths: paths.to_vec(),
            hot_reload,
            current: RwLock::new(Arc::new(manifest)),
            stamps: Mutex::new(stamps),
            next_check: AtomicU64::new(CHECK_EVERY_MS),
            epoch: Instant::now(),
            reading: Arc::new(AtomicBool::new(false)),
        }))
    }

    /// The manifest in force (with hot reload, after looking at the files
    /// if a second has passed).
    pub(super) fn current(self: &Arc<Self>) -> Arc<Manifest> {
        if self.hot_reload {
            self.check();
        }
        read(&self.current).clone()
    }

    /// Starts a reading when the files changed since the last one.
    fn check(self: &Arc<Self>) {
        let now = self.epoch.elapsed().as_millis() as u64;
        let due = self.next_check.load(Ordering::Relaxed);
        if now < due
            || self
                .next_check
                .compare_exchange(
                    due,
                    now + CHECK_EVERY_MS,
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_err()
            || self.reading.load(Ordering::Acquire)
        {
            return;
        }
        let stamps = stamps(&self.paths);
        {
            let mut last = lock(&self.stamps);
            if *last == stamps {
                return;
            }
            *last = stamps;
        }
        self.reading.store(true, Ordering::Release);
        let me = self.clone();
        let reread = move || {
            me.reread();
            me.reading.store(false, Ordering::Release);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(reread)),
            Err(_) => reread(),
        }
    }

    /// Reads the files and swaps the result in, or logs why not.
    fn reread(&self) {
        match Manifest::read(&self.paths) {
            Ok(manifest) => {
                tracing::info!(
                    operations = manifest.len(),
                    "persisted queries: manifests reloaded"
                );
                *self
                    .current
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(manifest);
            }
            Err(e) => {
                tracing::warn!("{e}; keeping the last good persisted query manifests")
            }
        }
    }
}

/// Every file's stamp.
fn stamps(paths: &[PathBuf]) -> Vec<Stamp> {
    paths
        .iter()
        .map(|path| {
            let meta = std::fs::metadata(path).ok()?;
            Some((meta.modified().ok()?, meta.len()))
        })
        .collect()
}

fn read<T: Clone>(lock: &RwLock<T>) -> T {
    lock.read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
