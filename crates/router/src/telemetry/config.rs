//! `telemetry:` in the router config, in Apollo Router's shape so that a
//! `router.yaml` section can be copied as it is:
//!
//! ```yaml
//! telemetry:
//!   exporters:
//!     metrics:
//!       prometheus:
//!         enabled: true
//!         path: /metrics
//! admin:
//!   listen: 127.0.0.1:9090
//!   token: ${env.GOLIATH_ADMIN_TOKEN}
//! ```
//!
//! goliath serves its operator endpoints on the admin listener, so the
//! metrics are served there too: `enabled: true` needs `admin.listen`, and
//! a `listen` given here must be that same address. Scraping needs no
//! token. Traces are `exporters.tracing` (see `super::traces::config`).
//! Other `telemetry` keys of Apollo Router (`instrumentation`,
//! `exporters.logging`, `apollo`, …) are refused by name.

use std::net::SocketAddr;

use serde::Deserialize;

use super::traces::TracingExporters;
use crate::admin::AdminConfig;

/// `telemetry:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// `telemetry.exporters`.
    pub exporters: Exporters,
}

/// `telemetry.exporters`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Exporters {
    /// `telemetry.exporters.metrics`.
    pub metrics: MetricsExporters,
    /// `telemetry.exporters.tracing`: OpenTelemetry traces over OTLP
    /// (`super::traces::config`).
    pub tracing: TracingExporters,
}

/// `telemetry.exporters.metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsExporters {
    /// `telemetry.exporters.metrics.prometheus`.
    pub prometheus: PrometheusConfig,
}

/// `telemetry.exporters.metrics.prometheus`: the Prometheus text format on
/// the admin listener.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrometheusConfig {
    /// Collect metrics and serve them (default false, as in Apollo Router).
    pub enabled: bool,
    /// The path on the admin listener (default `/metrics`).
    pub path: String,
    /// Apollo Router's listener for the metrics: in goliath, if given, the
    /// admin listener's address (`admin.listen`).
    pub listen: Option<String>,
}

impl Default for PrometheusConfig {
    fn default() -> Self {
        PrometheusConfig {
            enabled: false,
            path: "/metrics".to_owned(),
            listen: None,
        }
    }
}

/// The key path of the Prometheus section, for messages.
const KEY: &str = "telemetry.exporters.metrics.prometheus";

impl TelemetryConfig {
    /// The Prometheus settings.
    pub fn prometheus(&self) -> &PrometheusConfig {
        &self.exporters.metrics.prometheus
    }

    /// Checks the section against the admin listener it is served on; the
    /// error is `(key, message)`.
    pub fn validate(&self, admin: &AdminConfig) -> Result<(), (String, String)> {
        self.exporters.tracing.validate()?;
        let prometheus = self.prometheus();
        let path = &prometheus.path;
        if !path.starts_with('/') {
            return Err((
                format!("{KEY}.path"),
                format!("`{path}` must start with `/`"),
            ));
        }
        if path == "/admin" || path.starts_with("/admin/") {
            return Err((
                format!("{KEY}.path"),
                format!("`{path}` is under `/admin`, where the admin pages are"),
            ));
        }
        if !prometheus.enabled {
            return Ok(());
        }
        let Some(admin_listen) = &admin.listen else {
            return Err((
                format!("{KEY}.enabled"),
                "goliath serves the metrics on the admin listener: set `admin.listen` (and \
                 `admin.token`) too; scraping needs no token"
                    .to_owned(),
            ));
        };
        if let Some(listen) = &prometheus.listen {
            let same = match (
                listen.parse::<SocketAddr>(),
                admin_listen.parse::<SocketAddr>(),
            ) {
                (Ok(a), Ok(b)) => a == b,
                _ => listen == admin_listen,
            };
            if !same {
                return Err((
                    format!("{KEY}.listen"),
                    format!(
                        "`{listen}`: goliath serves the metrics on the admin listener \
                         (`admin.listen`: {admin_listen}), at `{path}`; set `listen` to \
                         {admin_listen} or remove it"
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> TelemetryConfig {
        crate::config::yaml::from_str(yaml).unwrap()
    }

    fn admin(listen: Option<&str>) -> AdminConfig {
        AdminConfig {
            listen: listen.map(str::to_owned),
            token: Some("t".into()),
        }
    }

    #[test]
    fn metrics_are_off_by_default_and_served_at_metrics() {
        let config = TelemetryConfig::default();
        assert!(!config.prometheus().enabled);
        assert_eq!(config.prometheus().path, "/metrics");
        assert!(config.validate(&admin(None)).is_ok());
    }

    #[test]
    fn metrics_need_the_admin_listener() {
        let on = parse("exporters:\n  metrics:\n    prometheus:\n      enabled: true\n");
        let (key, message) = on.validate(&admin(None)).unwrap_err();
        assert_eq!(key, "telemetry.exporters.metrics.prometheus.enabled");
        assert!(message.contains("admin.listen"), "{message}");
        assert!(on.validate(&admin(Some("127.0.0.1:9090"))).is_ok());
    }

    #[test]
    fn a_listen_of_its_own_is_refused() {
        let yaml = "exporters:\n  metrics:\n    prometheus:\n      enabled: true\n      listen: 0.0.0.0:9090\n";
        let config = parse(yaml);
        let (key, message) = config.validate(&admin(Some("127.0.0.1:9090"))).unwrap_err();
        assert_eq!(key, "telemetry.exporters.metrics.prometheus.listen");
        assert!(message.contains("127.0.0.1:9090"), "{message}");
        assert!(config.validate(&admin(Some("0.0.0.0:9090"))).is_ok());
    }

    #[test]
    fn the_path_is_checked() {
        for (path, problem) in [("metrics", "start with"), ("/admin/metrics", "/admin")] {
            let config = parse(&format!(
                "exporters:\n  metrics:\n    prometheus:\n      path: {path}\n"
            ));
            let (key, message) = config.validate(&admin(Some("127.0.0.1:9090"))).unwrap_err();
            assert_eq!(key, "telemetry.exporters.metrics.prometheus.path");
            assert!(message.contains(problem), "{message}");
        }
    }

    #[test]
    fn the_router_config_checks_the_section() {
        use crate::config::Config;
        let on =
            "telemetry:\n  exporters:\n    metrics:\n      prometheus:\n        enabled: true\n";
        let err = Config::from_yaml_str(on).unwrap_err().to_string();
        assert!(
            err.contains("telemetry.exporters.metrics.prometheus.enabled"),
            "{err}"
        );
        let with_admin = format!("{on}admin:\n  listen: 127.0.0.1:9090\n  token: t\n");
        let config = Config::from_yaml_str(&with_admin).unwrap();
        assert!(config.telemetry.prometheus().enabled);
        assert_eq!(config.telemetry.prometheus().path, "/metrics");
    }

    #[test]
    fn other_apollo_telemetry_keys_are_refused() {
        for yaml in [
            "instrumentation: {}\n",
            "exporters:\n  logging: {}\n",
            "exporters:\n  tracing:\n    zipkin: {}\n",
            "exporters:\n  metrics:\n    common: {}\n",
        ] {
            assert!(
                crate::config::yaml::from_str::<TelemetryConfig>(yaml).is_err(),
                "{yaml}"
            );
        }
    }
}
