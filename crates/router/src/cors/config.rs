//! The `cors:` section of the configuration, with Apollo Router's keys and
//! defaults, and the checks made when it is loaded.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
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
    #[serde(deserialize_with = "max_age")]
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

/// Reads `max_age`: a number of seconds, or a duration such as `30s`,
/// `10m`, `24h`, `1h 30m` (humantime's units: ms, s, m, h, d, w and their
/// long names).
fn max_age<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    struct MaxAge;

    impl<'de> Visitor<'de> for MaxAge {
        type Value = Option<Duration>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a duration such as `30s`, `10m`, `24h` or a number of seconds")
        }

        fn visit_u64<E: de::Error>(self, secs: u64) -> Result<Self::Value, E> {
            Ok(Some(Duration::from_secs(secs)))
        }

        fn visit_i64<E: de::Error>(self, secs: i64) -> Result<Self::Value, E> {
            u64::try_from(secs)
                .map(|secs| Some(Duration::from_secs(secs)))
                .map_err(|_| E::custom(format!("{secs} is not a duration: it is negative")))
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
            parse_duration(text).map(Some).map_err(E::custom)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(MaxAge)
        }
    }

    deserializer.deserialize_any(MaxAge)
}

/// Parses a humantime-like duration: one or more `<number><unit>` parts,
/// spaces allowed between them, or a bare number of seconds.
pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad =
        |why: &str| format!("`{text}` is not a duration such as `30s`, `10m` or `24h`: {why}");
    let trimmed = text.trim();
    if let Ok(secs) = trimmed.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut rest = trimmed;
    let mut total = Duration::ZERO;
    if rest.is_empty() {
        return Err(bad("it is empty"));
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad("expected a number"));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| bad("number too large"))?;
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let millis_per: u64 = match unit {
            "ms" | "msec" | "millis" => 1,
            "s" | "sec" | "secs" | "second" | "seconds" => 1_000,
            "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3_600_000,
            "d" | "day" | "days" => 86_400_000,
            "w" | "week" | "weeks" => 604_800_000,
            "" => return Err(bad("a unit (ms, s, m, h, d, w) is missing")),
            other => return Err(bad(&format!("unknown unit `{other}`"))),
        };
        let part = number
            .checked_mul(millis_per)
            .ok_or_else(|| bad("too long"))?;
        total = total
            .checked_add(Duration::from_millis(part))
            .ok_or_else(|| bad("too long"))?;
        rest = rest[unit_len..].trim_start();
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for (text, secs) in [
            ("30s", 30),
            ("10m", 600),
            ("24h", 86_400),
            ("1h 30m", 5_400),
            ("1h30m", 5_400),
            ("2 days", 172_800),
            ("1w", 604_800),
            ("45", 45),
            (" 7s ", 7),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_secs(secs)),
                "{text}"
            );
        }
        assert_eq!(parse_duration("1500ms"), Ok(Duration::from_millis(1500)));
        for bad in ["", "s", "10 parsecs", "ten minutes", "-5s", "1h x"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_duration("99999999999999999999h").is_err());
    }

    #[test]
    fn defaults_are_apollos() {
        let config = CorsConfig::default();
        assert!(!config.allow_any_origin && !config.allow_credentials);
        assert_eq!(config.origins, ["https://studio.apollographql.com"]);
        assert_eq!(config.methods, ["GET", "POST", "OPTIONS"]);
        assert!(config.allow_headers.is_empty() && config.max_age.is_none());
    }
}
