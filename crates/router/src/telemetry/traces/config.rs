//! `telemetry.exporters.tracing:` in Apollo Router's shape, so that a
//! `router.yaml` section can be copied as it is:
//!
//! ```yaml
//! telemetry:
//!   exporters:
//!     tracing:
//!       common:
//!         service_name: goliath        # default "goliath"
//!         service_namespace: learning  # optional
//!         sampler: 0.01                # a ratio, always_on (default) or always_off
//!         parent_based_sampler: true   # default: a client's sampled flag decides
//!         resource:
//!           deployment.environment: production
//!       otlp:
//!         enabled: true
//!         endpoint: http://127.0.0.1:4317  # default: localhost, 4317 (grpc) or 4318 (http)
//!         protocol: grpc               # or http (protobuf over HTTP, `/v1/traces`)
//!         batch_processor:
//!           scheduled_delay: 5s
//!           max_queue_size: 2048
//!           max_export_batch_size: 512
//!           max_export_timeout: 30s
//!       propagation:
//!         trace_context: true          # W3C traceparent in and out (default true)
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// `telemetry.exporters.tracing`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TracingExporters {
    /// `common`: service name, resource, sampling.
    pub common: TracingCommon,
    /// `otlp`: the OTLP exporter.
    pub otlp: OtlpConfig,
    /// `propagation`: which trace context headers are read and sent.
    pub propagation: Propagation,
}

/// `telemetry.exporters.tracing.common`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TracingCommon {
    /// The `service.name` resource attribute (default `goliath`).
    pub service_name: String,
    /// The `service.namespace` resource attribute, if any.
    pub service_namespace: Option<String>,
    /// Which share of the traces the router starts are recorded.
    pub sampler: SamplerConfig,
    /// Whether a client's `traceparent` sampled flag decides instead of
    /// the ratio, when the client sends one (default true, as in Apollo
    /// Router).
    pub parent_based_sampler: bool,
    /// More resource attributes.
    pub resource: BTreeMap<String, String>,
}

impl Default for TracingCommon {
    fn default() -> Self {
        TracingCommon {
            service_name: "goliath".to_owned(),
            service_namespace: None,
            sampler: SamplerConfig(1.0),
            parent_based_sampler: true,
            resource: BTreeMap::new(),
        }
    }
}

/// `sampler:`: the share of traces recorded, from 0 to 1; written as a
/// number, `always_on` (1) or `always_off` (0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplerConfig(f64);

impl SamplerConfig {
    /// The share of traces recorded, 0 to 1.
    pub fn ratio(self) -> f64 {
        self.0
    }
}

impl<'de> Deserialize<'de> for SamplerConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SamplerVisitor)
    }
}

/// Reads a [`SamplerConfig`].
struct SamplerVisitor;

impl Visitor<'_> for SamplerVisitor {
    type Value = SamplerConfig;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a ratio from 0 to 1, `always_on` or `always_off`")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<SamplerConfig, E> {
        if (0.0..=1.0).contains(&v) {
            Ok(SamplerConfig(v))
        } else {
            Err(E::custom(format!("{v} is not a ratio from 0 to 1")))
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<SamplerConfig, E> {
        self.visit_f64(v as f64)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<SamplerConfig, E> {
        self.visit_f64(v as f64)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<SamplerConfig, E> {
        match v {
            "always_on" => Ok(SamplerConfig(1.0)),
            "always_off" => Ok(SamplerConfig(0.0)),
            _ => match v.trim().parse::<f64>() {
                Ok(r) => self.visit_f64(r),
                Err(_) => Err(E::custom(format!(
                    "`{v}`: expected a ratio from 0 to 1, `always_on` or `always_off`"
                ))),
            },
        }
    }
}

/// `otlp.protocol`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// OTLP over gRPC (default port 4317).
    #[default]
    Grpc,
    /// OTLP, protobuf over HTTP (default port 4318, path `/v1/traces`).
    Http,
}

/// `telemetry.exporters.tracing.otlp`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpConfig {
    /// Export traces (default false).
    pub enabled: bool,
    /// The collector's URL; `default` or absent: `http://localhost:4317`
    /// (grpc) or `http://localhost:4318/v1/traces` (http). Over HTTP, a URL
    /// without a path gets `/v1/traces`. Plain `http://` only.
    pub endpoint: Option<String>,
    /// `grpc` (default) or `http`.
    pub protocol: Protocol,
    /// How spans are batched on their way out.
    pub batch_processor: BatchProcessor,
}

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig {
            enabled: false,
            endpoint: None,
            protocol: Protocol::Grpc,
            batch_processor: BatchProcessor::default(),
        }
    }
}

/// `otlp.batch_processor` (the OpenTelemetry SDK's batch span processor).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BatchProcessor {
    /// How long spans wait to be sent together (default 5s).
    #[serde(deserialize_with = "required_duration")]
    pub scheduled_delay: Duration,
    /// The most spans waiting; past it new ones are dropped (default 2048).
    pub max_queue_size: usize,
    /// The most spans in one export (default 512).
    pub max_export_batch_size: usize,
    /// How long one export may take (default 30s).
    #[serde(deserialize_with = "required_duration")]
    pub max_export_timeout: Duration,
}

impl Default for BatchProcessor {
    fn default() -> Self {
        BatchProcessor {
            scheduled_delay: Duration::from_secs(5),
            max_queue_size: 2048,
            max_export_batch_size: 512,
            max_export_timeout: Duration::from_secs(30),
        }
    }
}

/// A duration that must be given when its key is.
fn required_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    crate::config::duration::optional(d)?
        .ok_or_else(|| de::Error::custom("expected a duration such as `5s`"))
}

/// `telemetry.exporters.tracing.propagation`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Propagation {
    /// Read W3C `traceparent`/`tracestate` from clients and send them to
    /// subgraphs (default true).
    pub trace_context: bool,
}

impl Default for Propagation {
    fn default() -> Self {
        Propagation {
            trace_context: true,
        }
    }
}

/// The key path of the section, for messages.
const KEY: &str = "telemetry.exporters.tracing";

impl TracingExporters {
    /// Whether traces are recorded and exported.
    pub fn enabled(&self) -> bool {
        self.otlp.enabled
    }

    /// The collector's URL, defaults applied.
    pub fn endpoint(&self) -> String {
        let given = self
            .otlp
            .endpoint
            .as_deref()
            .filter(|e| *e != "default" && !e.trim().is_empty());
        match (self.otlp.protocol, given) {
            (Protocol::Grpc, None) => "http://localhost:4317".to_owned(),
            (Protocol::Http, None) => "http://localhost:4318/v1/traces".to_owned(),
            (Protocol::Grpc, Some(url)) => url.to_owned(),
            (Protocol::Http, Some(url)) => match url.parse::<http::Uri>() {
                Ok(uri) if uri.path() == "/" && !url.ends_with('/') => {
                    format!("{url}/v1/traces")
                }
                Ok(uri) if uri.path() == "/" => format!("{url}v1/traces"),
                _ => url.to_owned(),
            },
        }
    }

    /// Checks the section; the error is `(key, message)`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.common.service_name.trim().is_empty() {
            return Err((
                format!("{KEY}.common.service_name"),
                "must not be empty".to_owned(),
            ));
        }
        let endpoint = self.endpoint();
        match endpoint.parse::<http::Uri>() {
            Ok(uri) if uri.scheme_str() == Some("http") && uri.authority().is_some() => {}
            Ok(uri) if uri.scheme_str() == Some("https") => {
                return Err((
                    format!("{KEY}.otlp.endpoint"),
                    format!(
                        "`{endpoint}`: goliath sends traces over plain http:// only (no TLS to \
                         the collector yet); run a collector beside the router"
                    ),
                ))
            }
            _ => {
                return Err((
                    format!("{KEY}.otlp.endpoint"),
                    format!("`{endpoint}` is not an http:// URL"),
                ))
            }
        }
        let batch = &self.otlp.batch_processor;
        let key = format!("{KEY}.otlp.batch_processor");
        if batch.max_queue_size == 0 || batch.max_export_batch_size == 0 {
            return Err((key, "sizes must be greater than 0".to_owned()));
        }
        if batch.max_export_batch_size > batch.max_queue_size {
            return Err((
                format!("{key}.max_export_batch_size"),
                format!(
                    "{} is over max_queue_size ({})",
                    batch.max_export_batch_size, batch.max_queue_size
                ),
            ));
        }
        if batch.scheduled_delay.is_zero() || batch.max_export_timeout.is_zero() {
            return Err((key, "durations must be greater than 0".to_owned()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> TracingExporters {
        crate::config::yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn defaults_are_apollo_routers() {
        let config = TracingExporters::default();
        assert!(!config.enabled());
        assert_eq!(config.common.service_name, "goliath");
        assert_eq!(config.common.sampler.ratio(), 1.0);
        assert!(config.common.parent_based_sampler);
        assert!(config.propagation.trace_context);
        assert_eq!(config.endpoint(), "http://localhost:4317");
        assert!(config.validate().is_ok());
    }

    #[test]
    fn the_sampler_takes_a_ratio_or_a_name() {
        for (text, ratio) in [
            ("0.25", 0.25),
            ("1", 1.0),
            ("0", 0.0),
            ("always_on", 1.0),
            ("always_off", 0.0),
        ] {
            let config = parse(&format!("common:\n  sampler: {text}\n"));
            assert_eq!(config.common.sampler.ratio(), ratio, "{text}");
        }
        for bad in ["1.5", "-0.1", "sometimes"] {
            let yaml = format!("common:\n  sampler: {bad}\n");
            let err = crate::config::yaml::from_str::<TracingExporters>(&yaml).unwrap_err();
            assert!(err.to_string().contains("sampler"), "{bad}: {err}");
        }
    }

    #[test]
    fn http_endpoints_get_the_traces_path() {
        let config = parse("otlp:\n  enabled: true\n  protocol: http\n");
        assert_eq!(config.endpoint(), "http://localhost:4318/v1/traces");
        let config = parse("otlp:\n  enabled: true\n  protocol: http\n  endpoint: http://c:4318\n");
        assert_eq!(config.endpoint(), "http://c:4318/v1/traces");
        let config = parse("otlp:\n  protocol: http\n  endpoint: http://c:4318/custom\n");
        assert_eq!(config.endpoint(), "http://c:4318/custom");
        let config = parse("otlp:\n  endpoint: http://c:4317\n");
        assert_eq!(config.endpoint(), "http://c:4317");
    }

    #[test]
    fn bad_values_are_refused_by_key() {
        let cases = [
            ("otlp:\n  endpoint: c:4317\n", "otlp.endpoint"),
            ("otlp:\n  endpoint: ftp://c\n", "otlp.endpoint"),
            ("otlp:\n  endpoint: https://c:4317\n", "otlp.endpoint"),
            ("common:\n  service_name: ''\n", "common.service_name"),
            (
                "otlp:\n  batch_processor:\n    max_queue_size: 10\n    max_export_batch_size: 20\n",
                "batch_processor.max_export_batch_size",
            ),
            (
                "otlp:\n  batch_processor:\n    max_queue_size: 0\n",
                "batch_processor",
            ),
        ];
        for (yaml, key) in cases {
            let (k, message) = parse(yaml).validate().unwrap_err();
            assert!(k.ends_with(key), "{yaml}: {k}: {message}");
        }
        let config = parse("otlp:\n  batch_processor:\n    scheduled_delay: 100ms\n");
        assert_eq!(
            config.otlp.batch_processor.scheduled_delay,
            Duration::from_millis(100)
        );
        assert!(crate::config::yaml::from_str::<TracingExporters>("zipkin: {}\n").is_err());
    }
}
