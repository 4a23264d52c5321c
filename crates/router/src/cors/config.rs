//! The `cors:` section of the configuration, with Apollo Router's keys and
//! defaults, and the checks made when it is loaded.

use std::time::Duration;

use serde::Deserialize;

/// The `cors:` section: which browser origins may call the router, as
/// Apollo Router's `cors:` (same keys, defaults and refusals).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CorsConfig {
    /// Every origin is allowed (`Access-Control-Allow-Origin: *`); default
    /// false. Cannot be combined with `allow_credentials`.
    pub allow_any_origin: bool,
    /// The origins allowed, compared exactly (scheme, host and port, no
    /// path); default `https://studio.apollographql.com`.
    pub origins: Vec<String>,
    /// Regular expressions (the `regex` crate's syntax, unanchored unless
    /// they say `^...$`); an origin matching one is allowed.
    pub match_origins: Vec<String>,
    /// Sends `Access-Control-Allow-Credentials: true` (default false).
    pub allow_credentials: bool,
    /// The request headers a preflight allows; empty (the default) mirrors
    /// the preflight's `Access-Control-Request-Headers`.
    pub allow_headers: Vec<String>,
    /// The response headers a page may read (`Access-Control-Expose-Headers`).
    pub expose_headers: Vec<String>,
    /// The methods a preflight allows (default GET, POST, OPTIONS).
    pub methods: Vec<String>,
    /// How long a browser may cache a preflight's answer
    /// (`Access-Control-Max-Age`): `30s`, `10m`, `24h`, `1h 30m` or a
    /// number of seconds; unset sends none.
    #[serde(deserialize_with = "crate::config::duration::optional")]
    pub max_age: Option<Duration>,
}

impl Default for CorsConfig {
    fn default() -> Self {
        CorsConfig {
            allow_any_origin: false,
            origins: vec!["https://studio.apollographql.com".to_string()],
            match_origins: Vec::new(),
            allow_credentials: false,
            allow_headers: Vec::new(),
            expose_headers: Vec::new(),
            methods: ["GET", "POST", "OPTIONS"].map(String::from).to_vec(),
            max_age: None,
        }
    }
}

impl CorsConfig {
    /// The checks serde cannot make: `Err((key, message))` naming the key
    /// (e.g. `cors.match_origins[0]`). The combinations a browser would
    /// refuse are refused with Apollo Router's messages.
    pub fn validate(&self) -> Result<(), (String, String)> {
        super::Cors::new(self).map(drop)
    }

    /// Apollo Router's rules for combinations browsers refuse (`*` cannot
    /// be combined with credentials, and `origins` takes no `*`).
    pub(super) fn check_combinations(&self) -> Result<(), (String, String)> {
        let refuse = |key: &str, message: &str| {
            Err((
                format!("cors.{key}"),
                format!("Invalid CORS configuration: {message}"),
            ))
        };
        if self.origins.iter().any(|o| o == "*") {
            return refuse(
                "origins",
                "use `allow_any_origin: true` to set `Access-Control-Allow-Origin: *`",
            );
        }
        if !self.allow_credentials {
            return Ok(());
        }
        let star = |list: &[String]| list.iter().any(|x| x == "*");
        if self.allow_any_origin {
            return refuse(
                "allow_any_origin",
                "Cannot combine `Access-Control-Allow-Credentials: true` with `allow_any_origin: true`",
            );
        }
        if star(&self.allow_headers) {
            return refuse(
                "allow_headers",
                "Cannot combine `Access-Control-Allow-Credentials: true` with `Access-Control-Allow-Headers: *`",
            );
        }
        if star(&self.methods) {
            return refuse(
                "methods",
                "Cannot combine `Access-Control-Allow-Credentials: true` with `Access-Control-Allow-Methods: *`",
            );
        }
        if star(&self.expose_headers) {
            return refuse(
                "expose_headers",
                "Cannot combine `Access-Control-Allow-Credentials: true` with `Access-Control-Expose-Headers: *`",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_apollos() {
        let config = CorsConfig::default();
        assert!(!config.allow_any_origin && !config.allow_credentials);
        assert_eq!(config.origins, ["https://studio.apollographql.com"]);
        assert_eq!(config.methods, ["GET", "POST", "OPTIONS"]);
        assert!(config.allow_headers.is_empty() && config.max_age.is_none());
    }
}
