//! Retention: the days older than `usage.retention_days` are deleted from
//! the store (their `usage:{date}:*` keys). A router does it on its first
//! flush and then at most once per UTC day; routers sharing a store may
//! all do it, which is harmless (deleting a deleted key does nothing).

use crate::store::{Store, StoreError};

/// What every usage key starts with.
pub const PREFIX: &str = "usage:";

/// The oldest UTC date (`YYYY-MM-DD`) kept at `now_secs` when `days` days
/// are kept, today included.
pub fn oldest_kept(now_secs: u64, days: u32) -> String {
    let back = u64::from(days.max(1) - 1) * 86_400;
    super::report::date(now_secs.saturating_sub(back))
}

/// The date of a usage key (`usage:{YYYY-MM-DD}:{field}`), when `key` is
/// one.
pub fn key_date(key: &str) -> Option<&str> {
    let date = key.strip_prefix(PREFIX)?.get(..10)?;
    let b = date.as_bytes();
    let shaped = b.iter().enumerate().all(|(i, c)| match i {
        4 | 7 => *c == b'-',
        _ => c.is_ascii_digit(),
    });
    (shaped && key.as_bytes().get(PREFIX.len() + 10) == Some(&b':')).then_some(date)
}

/// Deletes the usage keys of the days before the `days` last ones (at
/// `now_secs`); returns how many were deleted.
pub async fn purge(store: &dyn Store, now_secs: u64, days: u32) -> Result<usize, StoreError> {
    let oldest = oldest_kept(now_secs, days);
    let mut deleted = 0;
    for key in store.keys(PREFIX).await? {
        if key_date(&key).is_some_and(|d| d < oldest.as_str()) {
            store.delete(&key).await?;
            deleted += 1;
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2024-03-01T12:00:00Z
    const NOW: u64 = 1_709_294_400;

    #[test]
    fn the_oldest_day_kept_counts_today() {
        assert_eq!(oldest_kept(NOW, 1), "2024-03-01");
        assert_eq!(oldest_kept(NOW, 3), "2024-02-28");
        assert_eq!(oldest_kept(NOW, 0), "2024-03-01");
        assert_eq!(oldest_kept(10, 90), "1970-01-01");
    }

    #[test]
    fn only_usage_keys_have_a_date() {
        assert_eq!(key_date("usage:2024-03-01:Query.me"), Some("2024-03-01"));
        assert_eq!(key_date("usage:2024-03-01:"), Some("2024-03-01"));
        assert_eq!(key_date("usage:2024-03-01"), None);
        assert_eq!(key_date("usage:2024-3-01x:Query.me"), None);
        assert_eq!(key_date("usage:20240301xx:Query.me"), None);
        assert_eq!(key_date("migrations:2024-03-01:x"), None);
        assert_eq!(key_date("usage:é"), None);
    }
}
