//! One comparison, run in the background after the client has its
//! answer: ask the new side (and, on a sampled share, the old side again),
//! pair the migrating fields entity by entity, and tally what differs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use goliath_supergraph::Supergraph;
use serde_json::{Map, Value};

use super::compare;
use super::record::{now_rfc3339, Tally, Witness, SAMPLES_PER_COMPARISON};
use super::{Migrations, Route, Runner};

/// What a comparison needs from the request it shadows.
pub struct Job {
    /// Runs the shadow operation.
    pub runner: Arc<dyn Runner>,
    /// The supergraph the request ran on.
    pub supergraph: Arc<Supergraph>,
    /// The request's routing (pins, fields to compare, shadow operation).
    pub route: Route,
    /// The primary's planner labels (override labels and pins).
    pub labels: Vec<String>,
    /// The operation's name.
    pub operation_name: Option<String>,
    /// The request's variables.
    pub variables: Map<String, Value>,
    /// The response the client got.
    pub served: Bytes,
    /// The direct comparison's occurrences, read from the merged answer of
    /// the augmented operation (`None`: compare with the shadow operation).
    pub direct: Option<super::entities::Extracted>,
    /// The executor, for the direct comparison's requests.
    pub executor: Arc<goliath_executor::Executor>,
    /// The client request's headers (the shadow operation is run with
    /// them).
    pub client_headers: http::HeaderMap,
    /// What `crate::headers` made of them for each subgraph, by graph
    /// index (the direct comparison's requests carry them).
    pub subgraph_headers: Vec<http::HeaderMap>,
    /// The paths of the client response's errors.
    pub served_errors: Vec<Vec<Value>>,
    /// How long the client's request took to execute.
    pub served_in: Duration,
}

/// Runs one comparison; returns the tallies by field.
pub(super) async fn run(
    migrations: &Migrations,
    job: Job,
    noise_roll: bool,
    timeout: Duration,
    samples_kept: usize,
) -> Vec<(String, Tally)> {
    let table = &job.route.table;
    let mut tallies: Vec<(String, Tally)> = job
        .route
        .compare
        .iter()
        .map(|&i| (table.fields[i].coordinate.clone(), Tally::default()))
        .collect();
    let now = now_rfc3339();
    if let Some(direct) = job.direct.as_ref().filter(|d| !d.fallback) {
        // Places whose old side failed are errors there; the rest of each
        // occurrence is compared.
        let mut healthy: Vec<super::entities::Occurrence> = vec![];
        for o in &direct.occurrences {
            let failed = o
                .paths
                .iter()
                .filter(|p| failed_at(&job.served_errors, p))
                .count() as u64;
            let failed = if o.paths.len() as u64 == o.count {
                failed
            } else {
                failed.min(o.count)
            };
            if failed > 0 {
                let mut witness = Witness {
                    operation: job.operation_name.as_deref(),
                    at: &now,
                    left: 1,
                };
                let (path, old) = (o.path.clone(), o.old.clone());
                tallies[o.slot].1.failed(
                    failed as i64,
                    "errors_old",
                    path,
                    old,
                    Value::Null,
                    &mut witness,
                );
            }
            if failed < o.count {
                let mut o = o.clone();
                o.count -= failed;
                healthy.push(o);
            }
        }
        let ctx = super::entities::Direct {
            executor: &job.executor,
            batcher: &migrations.batcher,
            window: Duration::from_millis(migrations.settings().batch_window_ms),
            timeout,
            graphs: &job.supergraph.graphs,
            headers: &job.subgraph_headers,
        };
        super::entities::run(
            &ctx,
            table,
            &job.route.compare,
            &healthy,
            &|c| migrations.noisy(c),
            noise_roll,
            samples_kept,
            job.served_in,
            job.operation_name.as_deref(),
            &mut tallies,
        )
        .await;
        return tallies;
    }
    let Some(query) = job.route.shadow_query.clone() else {
        return tallies;
    };
    // The new side: the compared fields pinned to their new subgraph.
    let new_labels: Vec<String> = job
        .labels
        .iter()
        .map(|l| {
            job.route
                .compare
                .iter()
                .map(|&i| &table.fields[i])
                .find(|a| *l == a.pin_old)
                .map_or_else(|| l.clone(), |a| a.pin_new.clone())
        })
        .collect();
    let started = Instant::now();
    let new = tokio::time::timeout(
        timeout,
        job.runner.run(
            query.clone(),
            job.operation_name.clone(),
            job.variables.clone(),
            new_labels,
            job.client_headers.clone(),
        ),
    )
    .await;
    let new_in = started.elapsed();
    let new: Result<Value, String> = match new {
        Err(_) => Err(format!("timed out after {} ms", timeout.as_millis())),
        Ok(Err(e)) => Err(e),
        Ok(Ok(body)) => serde_json::from_slice(&body).map_err(|e| e.to_string()),
    };
    let old: Value = serde_json::from_slice(&job.served).unwrap_or(Value::Null);
    // The old side again, for noise.
    let mut old_in = job.served_in;
    let old_again: Option<Value> = if noise_roll {
        let started = Instant::now();
        let again = tokio::time::timeout(
            timeout,
            job.runner.run(
                query.clone(),
                job.operation_name.clone(),
                job.variables.clone(),
                job.labels.clone(),
                job.client_headers.clone(),
            ),
        )
        .await;
        match again {
            Ok(Ok(body)) => {
                // Timed on the same operation as the new side.
                old_in = started.elapsed();
                serde_json::from_slice(&body).ok()
            }
            _ => None,
        }
    } else {
        None
    };
    for (_, t) in &mut tallies {
        t.latency("old", old_in.as_secs_f64() * 1000.0);
        if new.is_ok() {
            t.latency("new", new_in.as_secs_f64() * 1000.0);
        }
    }
    let new = match new {
        Ok(new) => new,
        Err(message) => {
            // The whole new side failed: one error per field.
            for (_, t) in &mut tallies {
                let mut witness = Witness {
                    operation: job.operation_name.as_deref(),
                    at: &now,
                    left: samples_kept.min(SAMPLES_PER_COMPARISON),
                };
                let new = Value::String(message.clone());
                t.failed(1, "errors_new", vec![], Value::Null, new, &mut witness);
            }
            return tallies;
        }
    };
    let schema = &job.supergraph.api_schema;
    let Some(doc) = job.route.shadow_doc.clone() else {
        return tallies;
    };
    let slot_of = |t: &str, f: &str| -> Option<usize> {
        job.route
            .compare
            .iter()
            .position(|&i| table.fields[i].type_name == t && table.fields[i].field == f)
    };
    let empty = Value::Null;
    let old_data = old.get("data").unwrap_or(&empty);
    let new_data = new.get("data").unwrap_or(&empty);
    // Noise first: what differs between two old answers.
    if let Some(again) = &old_again {
        let again_data = again.get("data").unwrap_or(&empty);
        let pairs = compare::occurrences(
            schema,
            &doc,
            job.operation_name.as_deref(),
            old_data,
            again_data,
            &slot_of,
        );
        for p in pairs {
            let a = &table.fields[job.route.compare[p.field]];
            let (Some(o), Some(n)) = (p.old, p.new) else {
                continue;
            };
            for d in compare::diff(o, n, &a.rules) {
                tallies[p.field].1.noise.insert(compare::pattern(&d.path));
            }
        }
    }
    let old_errors = error_paths(&old);
    let new_errors = error_paths(&new);
    let pairs = compare::occurrences(
        schema,
        &doc,
        job.operation_name.as_deref(),
        old_data,
        new_data,
        &slot_of,
    );
    let mut witnesses: Vec<Witness> = (0..tallies.len())
        .map(|_| Witness {
            operation: job.operation_name.as_deref(),
            at: &now,
            left: samples_kept.min(SAMPLES_PER_COMPARISON),
        })
        .collect();
    // Each field's noisy paths: learned before, and in this comparison.
    let noisy: Vec<_> = tallies
        .iter()
        .map(|(coordinate, t)| {
            let mut noisy = migrations.noisy(coordinate);
            noisy.extend(t.noise.iter().cloned());
            noisy
        })
        .collect();
    for p in pairs {
        let a = &table.fields[job.route.compare[p.field]];
        let (t, witness) = (&mut tallies[p.field].1, &mut witnesses[p.field]);
        let old_failed = failed_at(&old_errors, &p.path);
        let new_failed = failed_at(&new_errors, &p.path);
        let (old, new) = (
            p.old.cloned().unwrap_or(Value::Null),
            p.new.cloned().unwrap_or(Value::Null),
        );
        if old_failed != new_failed {
            let side = if old_failed {
                "errors_old"
            } else {
                "errors_new"
            };
            t.failed(1, side, p.path, old, new, witness);
            continue;
        }
        t.judge(1, &p.path, &old, &new, &a.rules, &noisy[p.field], witness);
    }
    tallies
}

/// The `path`s of an answer's errors.
fn error_paths(answer: &Value) -> Vec<Vec<Value>> {
    answer
        .get("errors")
        .and_then(Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    e.get("path")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Did an error hit `path` (at it, below it, or at an ancestor that took
/// it down; an error without a path hits everything)?
fn failed_at(errors: &[Vec<Value>], path: &[Value]) -> bool {
    errors.iter().any(|e| {
        let n = e.len().min(path.len());
        e[..n] == path[..n]
    })
}
