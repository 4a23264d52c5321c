//! `migrations:` in the router config: the comparison settings, and per
//! field (keys `Type.field`) a state that overrides the supergraph's.
//!
//! ```yaml
//! migrations:
//!   sample: 100            # % of eligible requests compared (default 100)
//!   noise_sample: 10       # % of compared requests asking the old side twice
//!   User.progress:
//!     state: canary
//!     percent: 5
//!     ignore: ["*.computedAt"]
//!     unordered: [""]      # the field's own list, compared as a multiset
//!     float_tolerance: 0.001
//!     auto: { steps: [1, 5, 25, 50, 100], interval_s: 60 }
//! ```

use std::collections::BTreeMap;

use goliath_supergraph::MigrationState;
use serde::Deserialize;

/// `migrations:`: settings, and the fields by `Type.field`.
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationsConfig {
    /// A `redis://` URL for the migrations' counters and samples,
    /// overriding `store:` (several routers then add up into one report).
    pub store: Option<String>,
    /// The share of eligible requests compared side by side, 0–100
    /// (default 100).
    pub sample: f64,
    /// The share of compared requests for which the old side is asked twice
    /// to find nondeterministic paths, 0–100 (default 10).
    pub noise_sample: f64,
    /// Comparisons running at once, per router (default 16).
    pub max_concurrency: usize,
    /// Comparisons waiting for a place (default 256); past it they are
    /// dropped and counted.
    pub queue: usize,
    /// Sample differences kept per field (default 20).
    pub samples_kept: usize,
    /// Comparisons with no mismatch a field needs to be ready (default 1000).
    pub ready_after: u64,
    /// The header with which a request opts in to the new subgraphs: field
    /// coordinates separated by commas, or `all` (default
    /// `x-goliath-migrate`).
    pub opt_in_header: String,
    /// How long a comparison's requests may take, in ms (default 10,000).
    pub shadow_timeout_ms: u64,
    /// How often counters are written to the store, in ms (default 1000).
    pub flush_interval_ms: u64,
    /// How long the direct comparisons' `_entities` requests to one
    /// subgraph are gathered into one, in ms (default 10; 0 sends each at
    /// once).
    pub batch_window_ms: u64,
    /// Per field, by `Type.field`.
    pub fields: BTreeMap<String, FieldConfig>,
}

impl Default for MigrationsConfig {
    fn default() -> Self {
        MigrationsConfig {
            store: None,
            sample: 100.0,
            noise_sample: 10.0,
            max_concurrency: 16,
            queue: 256,
            samples_kept: 20,
            ready_after: 1000,
            opt_in_header: "x-goliath-migrate".to_owned(),
            shadow_timeout_ms: 10_000,
            flush_interval_ms: 1000,
            batch_window_ms: 10,
            fields: BTreeMap::new(),
        }
    }
}

/// One field's settings (`migrations.Type.field:`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FieldConfig {
    /// The state, overriding the supergraph's.
    #[serde(deserialize_with = "state_opt")]
    pub state: Option<MigrationState>,
    /// The canary share, 0–100.
    pub percent: Option<f64>,
    /// The old subgraph: needed when the supergraph has no `@migrate` on
    /// the field (both subgraphs must resolve it).
    pub from: Option<String>,
    /// The new subgraph (as `from`).
    pub to: Option<String>,
    /// This field's share of requests compared, overriding `sample`.
    pub sample: Option<f64>,
    /// Paths under the field never compared (`*` matches any key or list
    /// index; `a.*.b`).
    pub ignore: Vec<String>,
    /// Paths under the field of lists compared as unordered (`""` is the
    /// field itself).
    pub unordered: Vec<String>,
    /// Numbers closer than this are equal (default 0).
    pub float_tolerance: f64,
    /// Overrides `ready_after`.
    pub ready_after: Option<u64>,
    /// Automatic canary steps.
    pub auto: Option<AutoConfig>,
}

/// Automatic steps (`auto:`): canary advances through `steps` while the
/// comparison stays clean, and falls back to side-by-side at once on a
/// mismatch or an error spike.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AutoConfig {
    /// The canary shares in order (default 1, 5, 25, 50, 100); after the
    /// last the field is migrated.
    pub steps: Vec<f64>,
    /// The least time at one step, in seconds (default 60).
    pub interval_s: u64,
    /// The least comparisons at one step before advancing (default 100).
    pub min_compared: u64,
    /// The new side's highest error share, 0–1 (default 0.01).
    pub max_error_rate: f64,
    /// The new side's p99 may be at most this times the old side's
    /// (default 1.5).
    pub max_p99_ratio: f64,
}

impl Default for AutoConfig {
    fn default() -> Self {
        AutoConfig {
            steps: vec![1.0, 5.0, 25.0, 50.0, 100.0],
            interval_s: 60,
            min_compared: 100,
            max_error_rate: 0.01,
            max_p99_ratio: 1.5,
        }
    }
}

fn state_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<MigrationState>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    s.map(|s| s.parse().map_err(serde::de::Error::custom))
        .transpose()
}

/// The settings keys of `migrations:` (any other key must be `Type.field`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    store: Option<String>,
    sample: Option<f64>,
    noise_sample: Option<f64>,
    max_concurrency: Option<usize>,
    queue: Option<usize>,
    samples_kept: Option<usize>,
    ready_after: Option<u64>,
    opt_in_header: Option<String>,
    shadow_timeout_ms: Option<u64>,
    flush_interval_ms: Option<u64>,
    batch_window_ms: Option<u64>,
}

impl<'de> Deserialize<'de> for MigrationsConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let map: BTreeMap<String, serde_json::Value> = BTreeMap::deserialize(d)?;
        let mut settings = serde_json::Map::new();
        let mut fields = BTreeMap::new();
        for (key, value) in map {
            if key.contains('.') {
                let field: FieldConfig = serde_json::from_value(value)
                    .map_err(|e| D::Error::custom(format!("{key}: {e}")))?;
                fields.insert(key, field);
            } else {
                settings.insert(key, value);
            }
        }
        let s: Settings = serde_json::from_value(serde_json::Value::Object(settings))
            .map_err(|e| D::Error::custom(format!("{e} (a field's key is `Type.field`)")))?;
        let d = MigrationsConfig::default();
        Ok(MigrationsConfig {
            store: s.store,
            sample: s.sample.unwrap_or(d.sample),
            noise_sample: s.noise_sample.unwrap_or(d.noise_sample),
            max_concurrency: s.max_concurrency.unwrap_or(d.max_concurrency),
            queue: s.queue.unwrap_or(d.queue),
            samples_kept: s.samples_kept.unwrap_or(d.samples_kept),
            ready_after: s.ready_after.unwrap_or(d.ready_after),
            opt_in_header: s.opt_in_header.unwrap_or(d.opt_in_header),
            shadow_timeout_ms: s.shadow_timeout_ms.unwrap_or(d.shadow_timeout_ms),
            flush_interval_ms: s.flush_interval_ms.unwrap_or(d.flush_interval_ms),
            batch_window_ms: s.batch_window_ms.unwrap_or(d.batch_window_ms),
            fields,
        })
    }
}

impl MigrationsConfig {
    /// Checks ranges and names; the error is `(key, message)`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let pct = |key: &str, v: f64| {
            if (0.0..=100.0).contains(&v) {
                Ok(())
            } else {
                Err((
                    key.to_owned(),
                    format!("{v} is not a share between 0 and 100"),
                ))
            }
        };
        pct("migrations.sample", self.sample)?;
        pct("migrations.noise_sample", self.noise_sample)?;
        if self.max_concurrency == 0 {
            return Err((
                "migrations.max_concurrency".into(),
                "must be greater than 0".into(),
            ));
        }
        if self.flush_interval_ms == 0 {
            return Err((
                "migrations.flush_interval_ms".into(),
                "must be greater than 0".into(),
            ));
        }
        if http::HeaderName::from_bytes(self.opt_in_header.as_bytes()).is_err() {
            return Err((
                "migrations.opt_in_header".into(),
                format!("`{}` is not an HTTP header name", self.opt_in_header),
            ));
        }
        if let Some(url) = &self.store {
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err((
                    "migrations.store".into(),
                    format!("`{url}` is not a redis:// URL"),
                ));
            }
        }
        for (name, f) in &self.fields {
            let key = format!("migrations.{name}");
            let mut parts = name.split('.');
            let (Some(t), Some(n), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err((key, "a field's key is `Type.field`".into()));
            };
            if t.is_empty() || n.is_empty() {
                return Err((key, "a field's key is `Type.field`".into()));
            }
            if let Some(p) = f.percent {
                pct(&format!("{key}.percent"), p)?;
            }
            if let Some(p) = f.sample {
                pct(&format!("{key}.sample"), p)?;
            }
            if f.float_tolerance < 0.0 || !f.float_tolerance.is_finite() {
                return Err((format!("{key}.float_tolerance"), "must be 0 or more".into()));
            }
            if f.from.is_some() != f.to.is_some() {
                return Err((key, "`from` and `to` go together".into()));
            }
            if let Some(auto) = &f.auto {
                if auto.steps.is_empty() {
                    return Err((
                        format!("{key}.auto.steps"),
                        "needs at least one step".into(),
                    ));
                }
                for s in &auto.steps {
                    pct(&format!("{key}.auto.steps"), *s)?;
                }
                if auto.steps.windows(2).any(|w| w[0] >= w[1]) {
                    return Err((format!("{key}.auto.steps"), "steps must increase".into()));
                }
            }
        }
        Ok(())
    }
}
