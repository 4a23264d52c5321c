//! `usage:` in the router config: whether field usage is counted, how
//! often the counts go to the state store, and how many days the store
//! keeps.
//!
//! ```yaml
//! usage:
//!   enabled: true
//!   flush_interval_ms: 10000
//!   retention_days: 90
//! ```

use serde::Deserialize;

use super::report::MAX_DAYS;

/// The days kept when `usage.retention_days` is not set.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;

/// `usage:`: field usage counting (off by default: when on, every router
/// writes to the state store, by default a file in its working directory).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UsageConfig {
    /// Count the fields every executed operation selects (default false).
    pub enabled: bool,
    /// How often the counts are written to the state store, in ms
    /// (default 10,000).
    pub flush_interval_ms: u64,
    /// How many UTC days of counts the store keeps, today included
    /// (default 90, 1 to [`MAX_DAYS`]): on its first flush and then once a
    /// day, the router deletes the `usage:{date}:*` keys of older days.
    /// Routers sharing a store each do it; keep the same value in all of
    /// them (the smallest one wins).
    pub retention_days: u32,
}

impl Default for UsageConfig {
    fn default() -> Self {
        UsageConfig {
            enabled: false,
            flush_interval_ms: 10_000,
            retention_days: DEFAULT_RETENTION_DAYS,
        }
    }
}

impl UsageConfig {
    /// Checks the section; the error is `(key, message)`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.flush_interval_ms == 0 {
            return Err((
                "usage.flush_interval_ms".to_owned(),
                "must be greater than 0".to_owned(),
            ));
        }
        if !(1..=MAX_DAYS).contains(&self.retention_days) {
            return Err((
                "usage.retention_days".to_owned(),
                format!("must be from 1 to {MAX_DAYS} (days, today included)"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_has_defaults_and_refuses_unknown_keys() {
        let config: UsageConfig = crate::config::yaml::from_str("enabled: true").unwrap();
        assert!(config.enabled);
        assert_eq!(config.flush_interval_ms, 10_000);
        assert_eq!(config.retention_days, 90);
        let config: UsageConfig = crate::config::yaml::from_str("retention_days: 7").unwrap();
        assert_eq!(config.retention_days, 7);
        assert!(crate::config::yaml::from_str::<UsageConfig>("flush: 1").is_err());
        let zero = UsageConfig {
            flush_interval_ms: 0,
            ..UsageConfig::default()
        };
        assert_eq!(zero.validate().unwrap_err().0, "usage.flush_interval_ms");
        for days in [0, MAX_DAYS + 1] {
            let bad = UsageConfig {
                retention_days: days,
                ..UsageConfig::default()
            };
            assert_eq!(bad.validate().unwrap_err().0, "usage.retention_days");
        }
        for days in [1, MAX_DAYS] {
            let good = UsageConfig {
                retention_days: days,
                ..UsageConfig::default()
            };
            assert!(good.validate().is_ok());
        }
        assert!(UsageConfig::default().validate().is_ok());
    }
}
