//! What a flush writes: counter maps by UTC date and field (one store key
//! each, `usage:{date}:{field}`), counter names
//! `{client}␟{version}␟{operation}`.
//!
//! The same type keeps what a failed write left for the next flush, each
//! count still under the day it was counted, up to a bound on the number
//! of counters ([`MAX_RETRY`]).

use std::collections::BTreeMap;

use super::pending::Taken;
use super::SEPARATOR;

/// The most counters (date, field, counter name) kept for the next flush
/// after failed writes; past it the counts are dropped (and logged).
pub const MAX_RETRY: usize = 100_000;

/// A store key's parts: the UTC date (`YYYY-MM-DD`) and `Type.field`.
pub type DayField = (String, String);

/// Counters by date and field.
#[derive(Debug, Default)]
pub struct Batch {
    by_key: BTreeMap<DayField, BTreeMap<String, i64>>,
    /// The counters held, across keys.
    counters: usize,
}

impl Batch {
    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// The counters held, across keys.
    pub fn counters(&self) -> usize {
        self.counters
    }

    /// Adds the counts a flush took from memory, under `date`: every
    /// operation counts once for each field its selection has.
    pub fn add_taken(&mut self, date: &str, taken: &Taken) {
        for entry in &taken.entries {
            let selected = &entry.selected;
            let names: Vec<(String, i64)> = entry
                .clients
                .iter()
                .map(|(client, version, n)| {
                    let name = format!(
                        "{client}{SEPARATOR}{version}{SEPARATOR}{}",
                        selected.operation
                    );
                    (name, i64::try_from(*n).unwrap_or(i64::MAX))
                })
                .collect();
            for field in &selected.fields {
                let key = (date.to_owned(), field.clone());
                let counters = self.by_key.entry(key).or_default();
                for (name, n) in &names {
                    match counters.get_mut(name) {
                        Some(c) => *c = c.saturating_add(*n),
                        None => {
                            counters.insert(name.clone(), *n);
                            self.counters += 1;
                        }
                    }
                }
            }
        }
    }

    /// Keeps the counters `counts` of `key` for a later write; counters
    /// new to the batch past `cap` are not kept. Returns the counts not
    /// kept (summed).
    pub fn keep(&mut self, key: DayField, counts: Vec<(String, i64)>, cap: usize) -> u64 {
        let mut dropped = 0u64;
        let counters = self.by_key.entry(key.clone()).or_default();
        for (name, n) in counts {
            if let Some(c) = counters.get_mut(&name) {
                *c = c.saturating_add(n);
            } else if self.counters < cap {
                counters.insert(name, n);
                self.counters += 1;
            } else {
                dropped = dropped.saturating_add(u64::try_from(n).unwrap_or(0));
            }
        }
        if counters.is_empty() {
            self.by_key.remove(&key);
        }
        dropped
    }

    /// Keeps all of `other` (see [`Batch::keep`]); returns the counts not
    /// kept.
    pub fn keep_all(&mut self, other: Batch, cap: usize) -> u64 {
        other
            .into_iter()
            .map(|(key, counts)| self.keep(key, counts, cap))
            .fold(0u64, u64::saturating_add)
    }

    /// The counters of `date` and `field` (for tests).
    #[cfg(test)]
    pub fn get(&self, date: &str, field: &str) -> Option<&BTreeMap<String, i64>> {
        self.by_key.get(&(date.to_owned(), field.to_owned()))
    }
}

/// Each key with its counters, oldest date first.
impl IntoIterator for Batch {
    type Item = (DayField, Vec<(String, i64)>);
    type IntoIter = Box<dyn Iterator<Item = Self::Item> + Send>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(
            self.by_key
                .into_iter()
                .map(|(key, counts)| (key, counts.into_iter().collect())),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::usage::pending::Entry;
    use crate::usage::Selected;

    fn taken() -> Taken {
        let selected = Arc::new(Selected {
            operation: "Me".to_owned(),
            fields: vec!["Query.me".to_owned(), "User.id".to_owned()],
        });
        let entry = |clients: Vec<(Box<str>, Box<str>, u64)>| Entry {
            selected: selected.clone(),
            clients,
        };
        Taken {
            // One selection recorded in two shards.
            entries: vec![
                entry(vec![
                    ("web".into(), "1".into(), 2),
                    ("ios".into(), "".into(), 1),
                ]),
                entry(vec![("web".into(), "1".into(), 3)]),
            ],
            dropped: 0,
        }
    }

    #[test]
    fn taken_counts_become_counters_by_day_and_field() {
        let mut batch = Batch::default();
        batch.add_taken("2024-03-01", &taken());
        let expected = BTreeMap::from([
            ("ios\u{1f}\u{1f}Me".to_owned(), 1),
            ("web\u{1f}1\u{1f}Me".to_owned(), 5),
        ]);
        assert_eq!(batch.get("2024-03-01", "Query.me"), Some(&expected));
        assert_eq!(batch.get("2024-03-01", "User.id"), Some(&expected));
        assert_eq!(batch.counters(), 4);
        let keys: Vec<DayField> = batch.into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys.len(), 2);
    }

    #[test]
    fn kept_counts_stay_on_their_day_and_add_up_within_the_cap() {
        let mut retry = Batch::default();
        let key = |d: &str| (d.to_owned(), "Query.me".to_owned());
        let dropped = retry.keep(key("2024-03-01"), vec![("a".into(), 2), ("b".into(), 1)], 3);
        assert_eq!(dropped, 0);
        // Existing counters still add up at the cap; new ones past it go.
        let dropped = retry.keep(key("2024-03-02"), vec![("a".into(), 4), ("c".into(), 7)], 3);
        assert_eq!(dropped, 7);
        let dropped = retry.keep(key("2024-03-01"), vec![("a".into(), 1), ("d".into(), 5)], 3);
        assert_eq!(dropped, 5);
        assert_eq!(retry.counters(), 3);
        assert_eq!(retry.get("2024-03-01", "Query.me").unwrap()["a"], 3);
        assert_eq!(retry.get("2024-03-02", "Query.me").unwrap()["a"], 4);
        // A batch kept whole past the cap.
        let mut other = Batch::default();
        other.add_taken("2024-03-03", &taken());
        assert_eq!(retry.keep_all(other, 3), 12);
        assert!(retry.get("2024-03-03", "Query.me").is_none());
    }
}
