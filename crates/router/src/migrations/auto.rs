//! Automatic steps, as progressive-delivery tools do for deployments: a
//! field with `auto:` advances side-by-side → canary `steps[0]` → … →
//! the last step → migrated, one step after `interval_s` and
//! `min_compared` comparisons with no mismatch, the new side's error share
//! at most `max_error_rate` and its p99 at most `max_p99_ratio` times the
//! old side's. A mismatch or too many new-side errors at a canary step
//! roll it back to side-by-side at once and pause the steps until an
//! operator sets the field again. Every step is an event in the report.

use std::sync::Arc;

use goliath_supergraph::MigrationState;

use super::record::{self, percentiles};
use super::Migrations;
use crate::store::Store;

/// Runs after each flush (every router sharing a store runs it; they read
/// the same counters and write the same decision).
pub(super) async fn step(m: &Migrations, store: &Arc<dyn Store>) {
    let table = m.table();
    for a in &table.fields {
        let Some(auto) = &a.auto else { continue };
        if !matches!(a.state, MigrationState::SideBySide | MigrationState::Canary) {
            continue;
        }
        let over = m.override_of(&a.coordinate);
        if over.as_ref().is_some_and(|o| o.paused) {
            continue;
        }
        let Ok(counts) = store.counters(&record::key(&a.coordinate, "counts")).await else {
            continue;
        };
        let since = |k: &str| {
            let now = counts.get(k).copied().unwrap_or(0);
            let base = over
                .as_ref()
                .and_then(|o| o.baseline.get(k).copied())
                .unwrap_or(0);
            (now - base).max(0) as u64
        };
        let (compared, mismatched, errors_new) =
            (since("compared"), since("mismatched"), since("errors_new"));
        let error_rate = if compared == 0 {
            0.0
        } else {
            errors_new as f64 / compared as f64
        };
        let at_canary = a.state == MigrationState::Canary;
        if at_canary && (mismatched > 0 || error_rate > auto.max_error_rate) {
            let reason = if mismatched > 0 {
                format!("rollback: {mismatched} mismatches at canary")
            } else {
                format!("rollback: new side error rate {:.1}%", error_rate * 100.0)
            };
            let _ = m
                .set(
                    &a.coordinate,
                    MigrationState::SideBySide,
                    None,
                    "auto",
                    &reason,
                )
                .await;
            continue;
        }
        let elapsed_ok = over
            .as_ref()
            .and_then(|o| parse_rfc3339(&o.at))
            .is_none_or(|t| now_secs().saturating_sub(t) >= auto.interval_s);
        if !elapsed_ok || compared < auto.min_compared || mismatched > 0 {
            continue;
        }
        if error_rate > auto.max_error_rate {
            continue;
        }
        let (old, new) = (percentiles(&counts, "old"), percentiles(&counts, "new"));
        if old.p99 > 0.0 && new.p99 > old.p99 * auto.max_p99_ratio {
            continue;
        }
        let current = if at_canary { a.percent } else { None };
        let next = match current {
            None => Some(auto.steps[0]),
            Some(p) => auto.steps.iter().copied().find(|s| *s > p),
        };
        let (state, percent) = match next {
            Some(p) => (MigrationState::Canary, Some(p)),
            None => (MigrationState::Migrated, None),
        };
        let reason = format!(
            "step: {compared} compared, no mismatch, new errors {:.1}%, p99 new {} ms / old {} ms",
            error_rate * 100.0,
            new.p99,
            old.p99
        );
        let _ = m.set(&a.coordinate, state, percent, "auto", &reason).await;
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Seconds since the epoch of a `YYYY-MM-DDTHH:MM:SSZ` time.
fn parse_rfc3339(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (h, mi, se) = (n(11..13)?, n(14..16)?, n(17..19)?);
    // Days from civil (Howard Hinnant).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + h * 3600 + mi * 60 + se).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_round_trip() {
        for t in [0u64, 1_796_300_000, 951_782_400] {
            assert_eq!(super::parse_rfc3339(&super::record::rfc3339(t)), Some(t));
        }
    }
}
