//! The background task that writes a feature's in-memory state to the
//! store every so often (the migrations' tallies, the field-usage counts):
//! one loop, shared, that ends when the feature is dropped.

use std::future::Future;
use std::pin::Pin;
use std::sync::Weak;
use std::time::Duration;

/// A feature that keeps state in memory and writes it to the store.
pub trait Flushes: Send + Sync + 'static {
    /// The feature's name in log lines.
    const NAME: &'static str;

    /// How long to wait before the next flush (read before each wait, so a
    /// reloaded setting applies).
    fn flush_interval(&self) -> Duration;

    /// Writes what is held to the store.
    fn flush_to_store(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>>;
}

/// Spawns the loop that flushes `feature` every interval until the
/// feature is dropped; a failed flush is logged and the loop goes on.
pub fn spawn<T: Flushes>(feature: Weak<T>) {
    tokio::spawn(async move {
        loop {
            let every = match feature.upgrade() {
                Some(f) => f.flush_interval().max(Duration::from_millis(1)),
                None => return,
            };
            tokio::time::sleep(every).await;
            let Some(f) = feature.upgrade() else { return };
            if let Err(e) = f.flush_to_store().await {
                tracing::warn!("{}: cannot write to the state store: {e}", T::NAME);
            }
        }
    });
}
