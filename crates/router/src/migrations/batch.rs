//! Batching the direct comparisons' `_entities` requests across client
//! requests: under load many comparisons ask the same subgraph for the same
//! field within a few milliseconds, often of the same entities. Each ask
//! joins the batch for its (subgraph, type, selection); the first one
//! starts a short window (`batch_window_ms`), after which one request
//! carries every distinct representation and each ask gets its answers.
//! The client never waits for this: comparisons run in the background.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use goliath_executor::Executor;
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// Per-entity answers: the entity's object, or why it failed.
pub type Answers = Vec<Result<Value, String>>;

/// What one ask gets: its answers and how long the request took, or why
/// the whole request failed.
pub type Reply = Result<(Answers, Duration), String>;

/// The most representations one batch carries before it is sent at once.
const MAX_BATCH: usize = 1000;

/// (subgraph, type, selection, the request's headers as text): asks
/// with different headers (another user's `authorization`) go in
/// different batches.
type Key = (String, String, String, String);

struct Waiter {
    reps: Vec<Value>,
    reply: oneshot::Sender<Reply>,
}

/// The batches being gathered.
#[derive(Default)]
pub struct Batcher {
    pending: Mutex<HashMap<Key, (Vec<Waiter>, usize)>>,
}

impl Batcher {
    /// Asks `subgraph` for `selection` on the `type_name` entities `reps`,
    /// in the next batch.
    #[allow(clippy::too_many_arguments)]
    pub async fn ask(
        self: &Arc<Self>,
        executor: &Arc<Executor>,
        subgraph: &str,
        headers: &http::HeaderMap,
        type_name: &str,
        selection: &str,
        reps: Vec<Value>,
        window: Duration,
        timeout: Duration,
    ) -> Reply {
        let mut text = String::new();
        for (name, value) in headers {
            text.push_str(name.as_str());
            text.push(':');
            text.push_str(&String::from_utf8_lossy(value.as_bytes()));
            text.push('\n');
        }
        let key: Key = (
            subgraph.to_owned(),
            type_name.to_owned(),
            selection.to_owned(),
            text,
        );
        let headers = headers.clone();
        let (tx, rx) = oneshot::channel();
        let (first, full) = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let (waiters, count) = pending.entry(key.clone()).or_default();
            *count += reps.len();
            waiters.push(Waiter { reps, reply: tx });
            (waiters.len() == 1, *count >= MAX_BATCH)
        };
        if full {
            let (me, executor, key) = (self.clone(), executor.clone(), key.clone());
            tokio::spawn(async move { me.send(key, &headers, &executor, timeout).await });
        } else if first {
            let (me, executor) = (self.clone(), executor.clone());
            tokio::spawn(async move {
                tokio::time::sleep(window).await;
                me.send(key, &headers, &executor, timeout).await
            });
        }
        rx.await
            .unwrap_or_else(|_| Err("the comparison's batch was dropped".to_owned()))
    }

    /// Sends the batch gathered under `key` (if it was not sent already).
    async fn send(
        &self,
        key: Key,
        headers: &http::HeaderMap,
        executor: &Executor,
        timeout: Duration,
    ) {
        let waiters = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            match pending.remove(&key) {
                Some((waiters, _)) => waiters,
                None => return,
            }
        };
        let mut all: Vec<Value> = vec![];
        let mut index: HashMap<String, usize> = HashMap::new();
        let maps: Vec<Vec<usize>> = waiters
            .iter()
            .map(|w| {
                w.reps
                    .iter()
                    .map(|r| {
                        *index.entry(r.to_string()).or_insert_with(|| {
                            all.push(r.clone());
                            all.len() - 1
                        })
                    })
                    .collect()
            })
            .collect();
        let (subgraph, type_name, selection, _) = &key;
        let started = Instant::now();
        let result = entities(
            executor, subgraph, headers, type_name, selection, &all, timeout,
        )
        .await;
        let took = started.elapsed();
        for (w, map) in waiters.into_iter().zip(maps) {
            let reply = match &result {
                Ok(answers) => Ok((map.iter().map(|&i| answers[i].clone()).collect(), took)),
                Err(e) => Err(e.clone()),
            };
            let _ = w.reply.send(reply);
        }
    }
}

/// One `_entities` request: `selection` on each of `reps` (of `type_name`).
async fn entities(
    executor: &Executor,
    subgraph: &str,
    headers: &http::HeaderMap,
    type_name: &str,
    selection: &str,
    reps: &[Value],
    timeout: Duration,
) -> Result<Answers, String> {
    let body = json!({
        "query": format!("query($representations:[_Any!]!){{_entities(representations:$representations){{... on {type_name} {{{selection}}}}}}}"),
        "variables": {"representations": reps},
    });
    let bytes = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
    let answer = tokio::time::timeout(timeout, executor.post(subgraph, headers, bytes))
        .await
        .map_err(|_| format!("timed out after {} ms", timeout.as_millis()))?
        .map_err(|e| e.to_string())?;
    let answer: Value = serde_json::from_slice(&answer).map_err(|e| e.to_string())?;
    let entities = answer
        .pointer("/data/_entities")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut failed: Vec<Option<String>> = vec![None; reps.len()];
    for e in answer
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let message = e
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("error")
            .to_owned();
        match e.pointer("/path/1").and_then(Value::as_u64) {
            Some(i) if (i as usize) < failed.len() => failed[i as usize] = Some(message),
            _ => failed.iter_mut().for_each(|f| *f = Some(message.clone())),
        }
    }
    Ok((0..reps.len())
        .map(|i| match (&failed[i], entities.get(i)) {
            (Some(m), _) => Err(m.clone()),
            (None, Some(v)) if !v.is_null() => Ok(v.clone()),
            _ => Err("no entity in the answer".to_owned()),
        })
        .collect())
}
