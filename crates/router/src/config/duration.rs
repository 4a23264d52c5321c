//! Durations in a config as Apollo Router writes them: `30s`, `10m`,
//! `24h`, `1h 30m`, `1500ms` (parsed by `humantime`), or a bare number of
//! seconds.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};

/// Parses a duration: `humantime`'s syntax, or a number of seconds.
pub fn parse(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if let Ok(secs) = trimmed.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(trimmed)
        .map_err(|e| format!("`{text}` is not a duration such as `30s`, `10m` or `24h`: {e}"))
}

/// Reads an optional duration (`null` or absent: none); for
/// `#[serde(deserialize_with = "…")]`.
pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    d.deserialize_any(Reader)
}

/// The visitor behind [`optional`].
struct Reader;

impl<'de> Visitor<'de> for Reader {
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
        parse(text).map(Some).map_err(E::custom)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(Reader)
    }
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
            ("2days", 172_800),
            ("1w", 604_800),
            ("45", 45),
            (" 7s ", 7),
        ] {
            assert_eq!(parse(text), Ok(Duration::from_secs(secs)), "{text}");
        }
        assert_eq!(parse("1500ms"), Ok(Duration::from_millis(1500)));
        for bad in ["", "s", "10 parsecs", "ten minutes", "-5s", "1h x"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse("99999999999999999999h").is_err());
    }
}
