//! `usage:` in the router config: whether field usage is counted, and how
//! often the counts go to the state store.
//!
//! ```yaml
//! usage:
//!   enabled: true
//!   flush_interval_ms: 10000
//! ```

use serde::Deserialize;

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
}

impl Default for UsageConfig {
    fn default() -> Self {
        UsageConfig {
            enabled: false,
            flush_interval_ms: 10_000,
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
        assert!(crate::config::yaml::from_str::<UsageConfig>("flush: 1").is_err());
        let zero = UsageConfig {
            flush_interval_ms: 0,
            ..UsageConfig::default()
        };
        assert_eq!(zero.validate().unwrap_err().0, "usage.flush_interval_ms");
        assert!(UsageConfig::default().validate().is_ok());
    }
}
