//! What the comparisons found, tallied in memory per field and written to
//! the state store on each flush (counters add up across routers sharing
//! the store; samples are capped; noisy paths are a set).
//!
//! Store keys, per field `T.f`: `migrations:T.f:counts` (counters,
//! latency buckets as `lat_old_N`/`lat_new_N`), `migrations:T.f:samples`
//! (capped list of JSON samples), `migrations:T.f:noise` (set of path
//! patterns), `migrations:T.f:events` (capped list of JSON events); and
//! `migrations:overrides` (JSON: run-time states by field).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::compare::{self, Rules};
use super::report::{Event, Percentiles, Sample};

/// Samples one comparison records per field at most.
pub const SAMPLES_PER_COMPARISON: usize = 5;

/// What a comparison's samples name: the operation and the time, and how
/// many samples it may still record for the field.
pub struct Witness<'a> {
    /// The operation's name.
    pub operation: Option<&'a str>,
    /// When (RFC 3339).
    pub at: &'a str,
    /// Samples left for this comparison and field.
    pub left: usize,
}

impl Witness<'_> {
    fn sample(&mut self, path: Vec<Value>, old: Value, new: Value, kind: &str) -> Option<Sample> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        Some(Sample {
            path,
            old,
            new,
            kind: kind.to_owned(),
            operation: self.operation.map(str::to_owned),
            at: self.at.to_owned(),
        })
    }
}

/// The counters of one field.
pub const COUNTERS: [&str; 9] = [
    "compared",
    "matched",
    "mismatched",
    "noise",
    "errors_old",
    "errors_new",
    "dropped",
    "served_new",
    "served_old",
];

/// Latency buckets: bucket `b` starts at `0.01 ms × 2^(b/4)`.
const BUCKETS: usize = 128;

/// What one field gathered since the last flush.
#[derive(Debug, Default)]
pub struct Tally {
    /// Counter increments by name.
    pub counts: BTreeMap<String, i64>,
    /// New samples, oldest first.
    pub samples: Vec<Sample>,
    /// New noisy path patterns.
    pub noise: BTreeSet<String>,
    /// New events.
    pub events: Vec<Event>,
}

impl Tally {
    /// Adds `by` to counter `name`.
    pub fn count(&mut self, name: &str, by: i64) {
        match self.counts.get_mut(name) {
            Some(n) => *n += by,
            None => {
                self.counts.insert(name.to_owned(), by);
            }
        }
    }

    /// An entity-field pair (at `places` places) that failed on one side
    /// only (`errors_old` or `errors_new`): a mismatch of kind `error`.
    pub fn failed(
        &mut self,
        places: i64,
        side: &str,
        path: Vec<Value>,
        old: Value,
        new: Value,
        witness: &mut Witness<'_>,
    ) {
        self.count("compared", places);
        self.count("mismatched", places);
        self.count(side, places);
        self.samples.extend(witness.sample(path, old, new, "error"));
    }

    /// Compares an entity-field pair (at `places` places, the first at
    /// `path`): matched, noise (every difference at a `noisy` path) or
    /// mismatched, with its differences as samples.
    #[allow(clippy::too_many_arguments)]
    pub fn judge(
        &mut self,
        places: i64,
        path: &[Value],
        old: &Value,
        new: &Value,
        rules: &Rules,
        noisy: &BTreeSet<String>,
        witness: &mut Witness<'_>,
    ) {
        self.count("compared", places);
        let diffs = compare::diff(old, new, rules);
        if diffs.is_empty() {
            self.count("matched", places);
            return;
        }
        let real: Vec<_> = diffs
            .into_iter()
            .filter(|d| !noisy.iter().any(|n| compare::matches(n, &d.path)))
            .collect();
        if real.is_empty() {
            self.count("noise", places);
            return;
        }
        self.count("mismatched", places);
        for d in real {
            let mut at = path.to_vec();
            at.extend(d.path);
            match witness.sample(at, d.old, d.new, "value") {
                Some(sample) => self.samples.push(sample),
                None => break,
            }
        }
    }

    /// Records one latency of `side` (`old` or `new`), in milliseconds.
    pub fn latency(&mut self, side: &str, ms: f64) {
        self.count(&format!("lat_{side}_{}", bucket(ms)), 1);
    }
}

/// The tallies of every field since the last flush.
#[derive(Debug, Default)]
pub struct Pending {
    /// By `Type.field`.
    pub fields: HashMap<String, Tally>,
}

/// The store key of `kind` (`counts`, `samples`, `noise`, `events`) for
/// field `coordinate`.
pub fn key(coordinate: &str, kind: &str) -> String {
    format!("migrations:{coordinate}:{kind}")
}

/// The store key of the run-time overrides.
pub const OVERRIDES_KEY: &str = "migrations:overrides";

fn bucket(ms: f64) -> usize {
    if !ms.is_finite() || ms <= 0.01 {
        return 0;
    }
    ((ms / 0.01).log2() * 4.0)
        .floor()
        .clamp(0.0, (BUCKETS - 1) as f64) as usize
}

/// The upper bound of bucket `b`, in ms.
fn bucket_upper(b: usize) -> f64 {
    0.01 * 2f64.powf((b + 1) as f64 / 4.0)
}

/// p50 and p99 of `side` from the counters' latency buckets (bucket upper
/// bounds, so within 19% above the true value).
pub fn percentiles(counts: &BTreeMap<String, i64>, side: &str) -> Percentiles {
    let prefix = format!("lat_{side}_");
    let mut hist = vec![0i64; BUCKETS];
    for (k, v) in counts {
        if let Some(b) = k
            .strip_prefix(&prefix)
            .and_then(|b| b.parse::<usize>().ok())
        {
            if b < BUCKETS {
                hist[b] += v.max(&0);
            }
        }
    }
    let total: i64 = hist.iter().sum();
    let at = |q: f64| -> f64 {
        if total == 0 {
            return 0.0;
        }
        let want = (q * total as f64).ceil().max(1.0) as i64;
        let mut seen = 0;
        for (b, n) in hist.iter().enumerate() {
            seen += n;
            if seen >= want {
                return (bucket_upper(b) * 100.0).round() / 100.0;
            }
        }
        0.0
    };
    Percentiles {
        p50: at(0.5),
        p99: at(0.99),
    }
}

/// Now, as an RFC 3339 time in UTC (seconds).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
}

/// `secs` since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_796_300_000), "2026-12-03T12:13:20Z");
    }

    #[test]
    fn percentiles_from_buckets() {
        let mut t = Tally::default();
        for _ in 0..98 {
            t.latency("old", 1.0);
        }
        t.latency("old", 100.0);
        t.latency("old", 100.0);
        let p = percentiles(&t.counts, "old");
        assert!(p.p50 >= 1.0 && p.p50 < 1.2, "{p:?}");
        assert!(p.p99 >= 100.0 && p.p99 < 120.0, "{p:?}");
        assert_eq!(percentiles(&t.counts, "new").p99, 0.0);
    }
}
