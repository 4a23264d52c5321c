//! `goliath-store`: a small entity store, as Cloud Datastore served Khan's
//! services. A record is a JSON value stored under a *kind* (`"User"`,
//! `"Exercise"`) and a *key* (`"u1"`); `list(kind)` returns a kind's records
//! ordered by key (byte order).
//!
//! Two backends behind one async API:
//!
//! - **redb** (`Store::open_redb(path)`), the default: one file embedded in
//!   the service. A write is durable once `put` returns (its write
//!   transaction is committed with redb's immediate durability, an fsync).
//! - **PostgreSQL** (`Store::connect_postgres(url)`): one table
//!   `entities(kind text, key text, value jsonb, primary key (kind, key))`,
//!   created if missing, so several instances of a service can share one
//!   database. `put` is an upsert.
//!
//! Errors are values, never panics: a missing folder, a file that is not a
//! redb database or a database that cannot be reached all come back as a
//! [`StoreError`] that names the path or address.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{ReadableDatabase, TableDefinition};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The redb file could not be opened or created.
    #[error("cannot open store at {}: {message}", path.display())]
    Open { path: PathBuf, message: String },
    /// The PostgreSQL database could not be reached or prepared.
    #[error("cannot connect to the store at {url}: {message}")]
    Connect { url: String, message: String },
    /// A read or write failed in the backend.
    #[error("store {store}: {message}")]
    Backend { store: String, message: String },
    /// A stored record is not what the caller asked for.
    #[error("store {store}: record {kind}/{key} cannot be read: {message}")]
    Decode {
        store: String,
        kind: String,
        key: String,
        message: String,
    },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An entity store. Cheap to clone; clones share the same database.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    name: Arc<str>,
}

#[derive(Clone)]
enum Backend {
    Redb(Arc<redb::Database>),
    Postgres(Arc<Postgres>),
}

struct Postgres {
    client: tokio_postgres::Client,
    get: tokio_postgres::Statement,
    put: tokio_postgres::Statement,
    put_many: tokio_postgres::Statement,
    delete: tokio_postgres::Statement,
    list: tokio_postgres::Statement,
}

/// One table: (kind, key) -> the record's JSON text.
const ENTITIES: TableDefinition<(&str, &str), &str> = TableDefinition::new("entities");

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Store({})", self.name)
    }
}

impl fmt::Display for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl Store {
    /// Opens the redb file at `path`, creating it if it does not exist (its
    /// folder must exist). A file that is not a redb database, or one that
    /// another process holds open, is an error naming the path.
    pub async fn open_redb(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        let open_error = {
            let path = path.clone();
            move |message: String| StoreError::Open { path, message }
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.is_dir() {
                return Err(open_error(format!(
                    "the folder {} does not exist",
                    parent.display()
                )));
            }
        }
        if path.is_dir() {
            return Err(open_error("it is a folder, not a file".into()));
        }
        let opened = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || -> Result<redb::Database, String> {
                let db = redb::Database::create(&path).map_err(describe_open_error)?;
                // Create the table up front so that reads of a new store find it.
                let txn = db.begin_write().map_err(|e| e.to_string())?;
                txn.open_table(ENTITIES).map_err(|e| e.to_string())?;
                txn.commit().map_err(|e| e.to_string())?;
                Ok(db)
            })
            .await
        };
        let db = match opened {
            Ok(Ok(db)) => db,
            Ok(Err(message)) => return Err(open_error(message)),
            Err(e) => return Err(open_error(format!("the open task failed: {e}"))),
        };
        Ok(Store {
            backend: Backend::Redb(Arc::new(db)),
            name: format!("redb:{}", path.display()).into(),
        })
    }

    /// Connects to PostgreSQL (`postgres://user:password@host:port/db`) and
    /// creates the `entities` table if it is missing.
    pub async fn connect_postgres(url: &str) -> Result<Store> {
        let shown = redact(url);
        let connect_error = |message: String| StoreError::Connect {
            url: shown.clone(),
            message,
        };
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .map_err(|e| connect_error(pg_message(&e)))?;
        let name: Arc<str> = format!("postgres:{shown}").into();
        {
            let name = name.clone();
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    eprintln!("store {name}: connection closed: {}", pg_message(&e));
                }
            });
        }
        // Serialise the creation: concurrent `CREATE TABLE IF NOT EXISTS`
        // from several connections can otherwise collide.
        client
            .batch_execute(
                "BEGIN;
                 SELECT pg_advisory_xact_lock(7243015);
                 CREATE TABLE IF NOT EXISTS entities (
                     kind text NOT NULL,
                     key text NOT NULL,
                     value jsonb NOT NULL,
                     PRIMARY KEY (kind, key)
                 );
                 COMMIT;",
            )
            .await
            .map_err(|e| {
                connect_error(format!(
                    "cannot create the entities table: {}",
                    pg_message(&e)
                ))
            })?;
        let prepare = |sql: &'static str| {
            let client = &client;
            async move { client.prepare(sql).await }
        };
        let prepared = async {
            Ok::<_, tokio_postgres::Error>((
                prepare("SELECT value FROM entities WHERE kind = $1 AND key = $2").await?,
                prepare(
                    "INSERT INTO entities (kind, key, value) VALUES ($1, $2, $3)
                     ON CONFLICT (kind, key) DO UPDATE SET value = EXCLUDED.value",
                )
                .await?,
                prepare(
                    "INSERT INTO entities (kind, key, value)
                     SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])
                     ON CONFLICT (kind, key) DO UPDATE SET value = EXCLUDED.value",
                )
                .await?,
                prepare("DELETE FROM entities WHERE kind = $1 AND key = $2").await?,
                prepare(
                    "SELECT key, value FROM entities WHERE kind = $1 ORDER BY key COLLATE \"C\"",
                )
                .await?,
            ))
        }
        .await
        .map_err(|e| connect_error(pg_message(&e)))?;
        let (get, put, put_many, delete, list) = prepared;
        Ok(Store {
            backend: Backend::Postgres(Arc::new(Postgres {
                client,
                get,
                put,
                put_many,
                delete,
                list,
            })),
            name,
        })
    }

    /// Opens `--database-url` when given, else the redb file `path`.
    pub async fn open(database_url: Option<&str>, path: impl AsRef<Path>) -> Result<Store> {
        match database_url {
            Some(url) => Store::connect_postgres(url).await,
            None => Store::open_redb(path).await,
        }
    }

    /// The record of `kind` under `key`, if there is one.
    pub async fn get(&self, kind: &str, key: &str) -> Result<Option<Value>> {
        let text = match &self.backend {
            Backend::Redb(db) => {
                let (db, k, key_) = (db.clone(), kind.to_owned(), key.to_owned());
                self.blocking(move || -> Result<Option<String>, String> {
                    let txn = db.begin_read().map_err(|e| e.to_string())?;
                    let table = txn.open_table(ENTITIES).map_err(|e| e.to_string())?;
                    let found = table
                        .get((k.as_str(), key_.as_str()))
                        .map_err(|e| e.to_string())?;
                    Ok(found.map(|v| v.value().to_owned()))
                })
                .await?
            }
            Backend::Postgres(pg) => {
                let row = pg
                    .client
                    .query_opt(&pg.get, &[&kind, &key])
                    .await
                    .map_err(|e| self.pg_error(e))?;
                return match row {
                    None => Ok(None),
                    Some(row) => row
                        .try_get::<_, Value>(0)
                        .map(Some)
                        .map_err(|e| self.decode_error(kind, key, pg_message(&e))),
                };
            }
        };
        match text {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| self.decode_error(kind, key, e.to_string())),
        }
    }

    /// Stores `value` as the record of `kind` under `key`, replacing any
    /// record there. Durable when it returns.
    pub async fn put(&self, kind: &str, key: &str, value: &Value) -> Result<()> {
        match &self.backend {
            Backend::Redb(_) => {
                self.put_many(vec![(kind.to_owned(), key.to_owned(), value.clone())])
                    .await
            }
            Backend::Postgres(pg) => {
                pg.client
                    .execute(&pg.put, &[&kind, &key, value])
                    .await
                    .map_err(|e| self.pg_error(e))?;
                Ok(())
            }
        }
    }

    /// Stores several records in one transaction: all of them or none. When
    /// a (kind, key) appears more than once, the last value wins.
    pub async fn put_many(&self, records: Vec<(String, String, Value)>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        match &self.backend {
            Backend::Redb(db) => {
                let db = db.clone();
                self.blocking(move || -> Result<(), String> {
                    let texts: Vec<(String, String, String)> = records
                        .into_iter()
                        .map(|(kind, key, value)| (kind, key, value.to_string()))
                        .collect();
                    let txn = db.begin_write().map_err(|e| e.to_string())?;
                    {
                        let mut table = txn.open_table(ENTITIES).map_err(|e| e.to_string())?;
                        for (kind, key, text) in &texts {
                            table
                                .insert((kind.as_str(), key.as_str()), text.as_str())
                                .map_err(|e| e.to_string())?;
                        }
                    }
                    txn.commit().map_err(|e| e.to_string())
                })
                .await
            }
            Backend::Postgres(pg) => {
                // One statement is one transaction; a row may be upserted
                // only once per statement, so keep the last value of each.
                let mut last: indexmap_lite::LastWins = Default::default();
                for (kind, key, value) in records {
                    last.insert(kind, key, value);
                }
                let (kinds, keys, values) = last.into_columns();
                pg.client
                    .execute(&pg.put_many, &[&kinds, &keys, &values])
                    .await
                    .map_err(|e| self.pg_error(e))?;
                Ok(())
            }
        }
    }

    /// Removes the record of `kind` under `key`; whether there was one.
    pub async fn delete(&self, kind: &str, key: &str) -> Result<bool> {
        match &self.backend {
            Backend::Redb(db) => {
                let (db, kind, key) = (db.clone(), kind.to_owned(), key.to_owned());
                self.blocking(move || -> Result<bool, String> {
                    let txn = db.begin_write().map_err(|e| e.to_string())?;
                    let removed = {
                        let mut table = txn.open_table(ENTITIES).map_err(|e| e.to_string())?;
                        let removed = table
                            .remove((kind.as_str(), key.as_str()))
                            .map_err(|e| e.to_string())?;
                        removed.is_some()
                    };
                    txn.commit().map_err(|e| e.to_string())?;
                    Ok(removed)
                })
                .await
            }
            Backend::Postgres(pg) => {
                let n = pg
                    .client
                    .execute(&pg.delete, &[&kind, &key])
                    .await
                    .map_err(|e| self.pg_error(e))?;
                Ok(n > 0)
            }
        }
    }

    /// Every record of `kind` as (key, value), ordered by key (byte order).
    pub async fn list(&self, kind: &str) -> Result<Vec<(String, Value)>> {
        let texts = match &self.backend {
            Backend::Redb(db) => {
                let (db, k) = (db.clone(), kind.to_owned());
                self.blocking(move || -> Result<Vec<(String, String)>, String> {
                    let txn = db.begin_read().map_err(|e| e.to_string())?;
                    let table = txn.open_table(ENTITIES).map_err(|e| e.to_string())?;
                    let mut out = Vec::new();
                    for entry in table.range((k.as_str(), "")..).map_err(|e| e.to_string())? {
                        let (key, value) = entry.map_err(|e| e.to_string())?;
                        let (entry_kind, entry_key) = key.value();
                        if entry_kind != k {
                            break;
                        }
                        out.push((entry_key.to_owned(), value.value().to_owned()));
                    }
                    Ok(out)
                })
                .await?
            }
            Backend::Postgres(pg) => {
                let rows = pg
                    .client
                    .query(&pg.list, &[&kind])
                    .await
                    .map_err(|e| self.pg_error(e))?;
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    let key: String = row.get(0);
                    let value = row
                        .try_get::<_, Value>(1)
                        .map_err(|e| self.decode_error(kind, &key, pg_message(&e)))?;
                    out.push((key, value));
                }
                return Ok(out);
            }
        };
        texts
            .into_iter()
            .map(|(key, text)| match serde_json::from_str(&text) {
                Ok(value) => Ok((key, value)),
                Err(e) => Err(self.decode_error(kind, &key, e.to_string())),
            })
            .collect()
    }

    /// [`Store::get`], decoded into `T`.
    pub async fn get_as<T: DeserializeOwned>(&self, kind: &str, key: &str) -> Result<Option<T>> {
        match self.get(kind, key).await? {
            None => Ok(None),
            Some(value) => serde_json::from_value(value)
                .map(Some)
                .map_err(|e| self.decode_error(kind, key, e.to_string())),
        }
    }

    /// [`Store::list`], each record decoded into `T`.
    pub async fn list_as<T: DeserializeOwned>(&self, kind: &str) -> Result<Vec<T>> {
        self.list(kind)
            .await?
            .into_iter()
            .map(|(key, value)| {
                serde_json::from_value(value)
                    .map_err(|e| self.decode_error(kind, &key, e.to_string()))
            })
            .collect()
    }

    /// [`Store::put`] of a serializable value.
    pub async fn put_as<T: Serialize>(&self, kind: &str, key: &str, value: &T) -> Result<()> {
        let value =
            serde_json::to_value(value).map_err(|e| self.decode_error(kind, key, e.to_string()))?;
        self.put(kind, key, &value).await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, String> + Send + 'static,
    ) -> Result<T> {
        match tokio::task::spawn_blocking(work).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(message)) => Err(self.backend_error(message)),
            Err(e) => Err(self.backend_error(format!("the store task failed: {e}"))),
        }
    }

    fn backend_error(&self, message: String) -> StoreError {
        StoreError::Backend {
            store: self.name.to_string(),
            message,
        }
    }

    fn pg_error(&self, e: tokio_postgres::Error) -> StoreError {
        self.backend_error(pg_message(&e))
    }

    fn decode_error(&self, kind: &str, key: &str, message: String) -> StoreError {
        StoreError::Decode {
            store: self.name.to_string(),
            kind: kind.to_owned(),
            key: key.to_owned(),
            message,
        }
    }
}

fn describe_open_error(e: redb::DatabaseError) -> String {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => {
            "another process has it open (one service instance per redb file; \
             use --database-url to share a PostgreSQL database between instances)"
                .to_owned()
        }
        redb::DatabaseError::Storage(redb::StorageError::Corrupted(m)) => {
            format!("the file is corrupt or is not a redb database ({m})")
        }
        other => {
            let text = other.to_string();
            if text.contains("magic number") || text.contains("corrupt") {
                format!("the file is corrupt or is not a redb database ({text})")
            } else {
                text
            }
        }
    }
}

/// tokio-postgres's `Display` hides the server's message behind "db error";
/// show it.
fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            text
        }
    }
}

/// The URL without its password.
fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((userinfo, host)) = rest.split_once('@') {
            if let Some((user, _)) = userinfo.split_once(':') {
                return format!("{scheme}://{user}:***@{host}");
            }
        }
    }
    url.to_owned()
}

mod indexmap_lite {
    use std::collections::HashMap;

    use serde_json::Value;

    /// Records in first-seen order, each (kind, key) keeping its last value.
    #[derive(Default)]
    pub struct LastWins {
        index: HashMap<(String, String), usize>,
        rows: Vec<(String, String, Value)>,
    }

    impl LastWins {
        pub fn insert(&mut self, kind: String, key: String, value: Value) {
            match self.index.get(&(kind.clone(), key.clone())) {
                Some(&i) => self.rows[i].2 = value,
                None => {
                    self.index
                        .insert((kind.clone(), key.clone()), self.rows.len());
                    self.rows.push((kind, key, value));
                }
            }
        }

        pub fn into_columns(self) -> (Vec<String>, Vec<String>, Vec<Value>) {
            let mut kinds = Vec::with_capacity(self.rows.len());
            let mut keys = Vec::with_capacity(self.rows.len());
            let mut values = Vec::with_capacity(self.rows.len());
            for (kind, key, value) in self.rows {
                kinds.push(kind);
                keys.push(key);
                values.push(value);
            }
            (kinds, keys, values)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redact("postgres://me:secret@db:5432/x"),
            "postgres://me:***@db:5432/x"
        );
        assert_eq!(redact("postgres://me@db/x"), "postgres://me@db/x");
    }
}
