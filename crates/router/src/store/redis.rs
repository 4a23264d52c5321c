//! The shared state store: a Redis server, so that several routers add up
//! into one view.
//!
//! Every key is the configured `key_prefix` followed by the store key. Each
//! value kind maps to one Redis type:
//!
//! | kind | Redis | operations |
//! |---|---|---|
//! | counters | hash | `HINCRBY` per count, all in one `MULTI`/`EXEC`; `HGETALL` |
//! | capped list | list | `RPUSH` + `LTRIM key -keep -1` in one `MULTI`/`EXEC`; `LRANGE` |
//! | set | set | `SADD`; `SMEMBERS` |
//! | value | string | `SET` (with `PX` for a time to live); `GET` |
//!
//! `delete` is `DEL`, and `keys` is `SCAN MATCH` over the prefix (glob
//! characters escaped). A key holds one kind at a time: using a key of one
//! kind as another is Redis's `WRONGTYPE` error.
//!
//! The connection is a [`ConnectionManager`] (one multiplexed connection,
//! reconnected when it breaks) driven by a runtime of its own on a thread
//! of its own, so that a store opened on one tokio runtime keeps working
//! from any other (the router's workers each run a current-thread runtime)
//! and after the runtime that opened it is gone. The thread ends when the
//! last clone of the store is dropped. Connecting gives up after
//! [`CONNECT_TIMEOUT`]; each command after [`RESPONSE_TIMEOUT`].

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{Client, RedisError, RedisResult};
use async_trait::async_trait;

use super::{Store, StoreError};

/// How long opening the store waits for the server (every connection
/// attempt and its retries together).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long one command waits for its answer.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// How many keys one `SCAN` step asks for.
const SCAN_COUNT: usize = 1000;

/// The state store in Redis. Cheap to clone; clones share the connection.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    conn: ConnectionManager,
    /// The runtime that drives the connection.
    io: tokio::runtime::Handle,
    /// The URL without its password, for messages.
    name: String,
    key_prefix: String,
    /// Dropped with the store: stops the runtime's thread.
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.inner.name)
            .field("key_prefix", &self.inner.key_prefix)
            .finish()
    }
}

impl RedisStore {
    /// Connects to the Redis server at `url` (`redis://[user:password@]host[:port][/db]`)
    /// and prefixes every key with `key_prefix`. Fails, rather than waits,
    /// when the server cannot be reached within [`CONNECT_TIMEOUT`].
    pub async fn open(url: &str, key_prefix: &str) -> Result<RedisStore, StoreError> {
        let name = redact(url);
        if url.starts_with("rediss://") {
            return Err(StoreError(format!(
                "redis {name}: TLS (rediss://) is not supported by this build of goliath"
            )));
        }
        let client = Client::open(url).map_err(|e| StoreError(format!("redis {name}: {e}")))?;
        let (io, stop) = start_io_thread().map_err(|e| {
            StoreError(format!(
                "redis {name}: cannot start the connection's thread: {e}"
            ))
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(3)
            .set_max_delay(Duration::from_secs(1));
        let connect = io.spawn(async move {
            tokio::time::timeout(
                CONNECT_TIMEOUT,
                ConnectionManager::new_with_config(client, config),
            )
            .await
        });
        let conn = match connect.await {
            Ok(Ok(Ok(conn))) => conn,
            Ok(Ok(Err(e))) => return Err(StoreError(format!("redis {name}: {e}"))),
            Ok(Err(_)) => {
                return Err(StoreError(format!(
                    "redis {name}: no connection within {CONNECT_TIMEOUT:?}"
                )))
            }
            Err(e) => return Err(StoreError(format!("redis {name}: connecting failed: {e}"))),
        };
        Ok(RedisStore {
            inner: Arc::new(Inner {
                conn,
                io,
                name,
                key_prefix: key_prefix.to_owned(),
                _stop: stop,
            }),
        })
    }

    /// The Redis key of the store key `key`.
    fn key(&self, key: &str) -> String {
        let mut full = String::with_capacity(self.inner.key_prefix.len() + key.len());
        full.push_str(&self.inner.key_prefix);
        full.push_str(key);
        full
    }

    /// Runs `op` with the connection on the connection's runtime.
    async fn run<T, F, Fut>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>> + Send + 'static,
    {
        let task = self.inner.io.spawn(op(self.inner.conn.clone()));
        match task.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(self.error(e)),
            Err(e) => Err(StoreError(format!(
                "redis {}: the command's task failed: {e}",
                self.inner.name
            ))),
        }
    }

    fn error(&self, e: RedisError) -> StoreError {
        StoreError(format!("redis {}: {e}", self.inner.name))
    }
}

/// Starts a thread running a current-thread runtime until the returned
/// sender is dropped.
fn start_io_thread() -> std::io::Result<(tokio::runtime::Handle, tokio::sync::oneshot::Sender<()>)>
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let handle = runtime.handle().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("goliath-redis".to_owned())
        .spawn(move || {
            // Ends when the sender is dropped (or sends); dropping the
            // runtime then cancels the connection's tasks.
            let _ = runtime.block_on(stopped);
        })?;
    Ok((handle, stop))
}

/// `url` with its password, if any, replaced by `***`.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) => "(invalid URL)".to_owned(),
    }
}

/// `text` with Redis's glob characters escaped, to match itself literally
/// in `SCAN MATCH`.
fn escape_glob(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[async_trait]
impl Store for RedisStore {
    async fn add(&self, key: &str, counts: &[(String, i64)]) -> Result<(), StoreError> {
        if counts.is_empty() {
            return Ok(());
        }
        let mut pipe = ::redis::pipe();
        pipe.atomic();
        let key = self.key(key);
        for (name, by) in counts {
            pipe.cmd("HINCRBY").arg(&key).arg(name).arg(*by).ignore();
        }
        self.run(|mut conn| async move { pipe.query_async::<()>(&mut conn).await })
            .await
    }

    async fn counters(&self, key: &str) -> Result<BTreeMap<String, i64>, StoreError> {
        let mut cmd = ::redis::cmd("HGETALL");
        cmd.arg(self.key(key));
        self.run(|mut conn| async move { cmd.query_async(&mut conn).await })
            .await
    }

    async fn push_capped(
        &self,
        key: &str,
        items: &[Vec<u8>],
        keep: usize,
    ) -> Result<(), StoreError> {
        let key = self.key(key);
        let mut pipe = ::redis::pipe();
        pipe.atomic();
        if !items.is_empty() {
            let rpush = pipe.cmd("RPUSH").arg(&key);
            for item in items {
                rpush.arg(item.as_slice());
            }
            rpush.ignore();
        }
        if keep == 0 {
            // `LTRIM key -0 -1` would keep everything.
            pipe.cmd("DEL").arg(&key).ignore();
        } else if let Ok(keep) = i64::try_from(keep) {
            pipe.cmd("LTRIM").arg(&key).arg(-keep).arg(-1).ignore();
        }
        self.run(|mut conn| async move { pipe.query_async::<()>(&mut conn).await })
            .await
    }

    async fn list(&self, key: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut cmd = ::redis::cmd("LRANGE");
        cmd.arg(self.key(key)).arg(0).arg(-1);
        self.run(|mut conn| async move { cmd.query_async(&mut conn).await })
            .await
    }

    async fn set_add(&self, key: &str, members: &[String]) -> Result<(), StoreError> {
        if members.is_empty() {
            return Ok(());
        }
        let mut cmd = ::redis::cmd("SADD");
        cmd.arg(self.key(key));
        for member in members {
            cmd.arg(member);
        }
        self.run(|mut conn| async move { cmd.query_async::<()>(&mut conn).await })
            .await
    }

    async fn set_members(&self, key: &str) -> Result<BTreeSet<String>, StoreError> {
        let mut cmd = ::redis::cmd("SMEMBERS");
        cmd.arg(self.key(key));
        self.run(|mut conn| async move { cmd.query_async(&mut conn).await })
            .await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut cmd = ::redis::cmd("GET");
        cmd.arg(self.key(key));
        self.run(|mut conn| async move { cmd.query_async(&mut conn).await })
            .await
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StoreError> {
        let key = self.key(key);
        let cmd = match ttl {
            // Expired at once: as if never set (`PX 0` is an error).
            Some(ttl) if ttl.is_zero() => {
                let mut del = ::redis::cmd("DEL");
                del.arg(&key);
                del
            }
            _ => {
                let mut set = ::redis::cmd("SET");
                set.arg(&key).arg(value);
                if let Some(ttl) = ttl {
                    // At least 1 ms: a shorter time to live rounds up.
                    let ms = ttl.as_millis().clamp(1, i64::MAX as u128) as i64;
                    set.arg("PX").arg(ms);
                }
                set
            }
        };
        self.run(|mut conn| async move { cmd.query_async::<()>(&mut conn).await })
            .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let mut cmd = ::redis::cmd("DEL");
        cmd.arg(self.key(key));
        self.run(|mut conn| async move { cmd.query_async::<()>(&mut conn).await })
            .await
    }

    async fn set_add_expiring(
        &self,
        key: &str,
        members: &[String],
        ttl: Duration,
    ) -> Result<(), StoreError> {
        if members.is_empty() {
            return Ok(());
        }
        let key = self.key(key);
        let ms = ttl.as_millis().clamp(1, i64::MAX as u128) as i64;
        let mut pipe = ::redis::pipe();
        pipe.atomic();
        let sadd = pipe.cmd("SADD").arg(&key);
        for member in members {
            sadd.arg(member);
        }
        sadd.ignore();
        // A new set gets the time to live; a set with a shorter one is
        // extended (`GT` alone would leave a new set without expiry).
        pipe.cmd("PEXPIRE").arg(&key).arg(ms).arg("NX").ignore();
        pipe.cmd("PEXPIRE").arg(&key).arg(ms).arg("GT").ignore();
        self.run(|mut conn| async move { pipe.query_async::<()>(&mut conn).await })
            .await
    }

    async fn delete_counting(&self, keys: &[String]) -> Result<u64, StoreError> {
        let mut count = 0;
        // `DEL` answers how many existed; in bounded steps.
        for chunk in keys.chunks(1000) {
            let mut cmd = ::redis::cmd("DEL");
            for key in chunk {
                cmd.arg(self.key(key));
            }
            let n: u64 = self
                .run(|mut conn| async move { cmd.query_async(&mut conn).await })
                .await?;
            count += n;
        }
        Ok(count)
    }

    async fn keys(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let strip = self.inner.key_prefix.len();
        let pattern = format!("{}*", escape_glob(&self.key(prefix)));
        let found = self
            .run(|mut conn| async move {
                let mut found = BTreeSet::new();
                let mut cursor = 0u64;
                loop {
                    let (next, keys): (u64, Vec<Vec<u8>>) = ::redis::cmd("SCAN")
                        .cursor_arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(SCAN_COUNT)
                        .query_async(&mut conn)
                        .await?;
                    found.extend(keys);
                    if next == 0 {
                        return Ok(found);
                    }
                    cursor = next;
                }
            })
            .await?;
        // SCAN may return a key more than once; the set keeps it once. Keys
        // that are not UTF-8 were not written by a store.
        let keys: BTreeSet<String> = found
            .into_iter()
            .filter_map(|key| String::from_utf8(key).ok())
            .filter_map(|key| key.get(strip..).map(str::to_owned))
            .collect();
        Ok(keys.into_iter().collect())
    }
}
