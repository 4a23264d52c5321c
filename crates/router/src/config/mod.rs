//! Router configuration, read from a YAML file (conventionally `goliath.yaml`).
//!
//! Every key is optional (see [`Config::default`]) and unknown keys are
//! rejected. Before the YAML is parsed, `${env.NAME}` and
//! `${env.NAME:-default}` references in the text are replaced by the value of
//! the environment variable `NAME`, and `${file.PATH}` in a string value by
//! the contents of the file `PATH` (see [`Config::from_yaml_str`]).
//!
//! ```yaml
//! listen: 0.0.0.0:${env.PORT:-4000}
//! supergraph: supergraph.graphql
//! limits:
//!   max_body_bytes: 1000000
//!   request_timeout_ms: 10000
//! include_subgraph_errors:
//!   all: false
//!   subgraphs:
//!     products: true
//! subgraphs:
//!   products:
//!     url: http://localhost:4001/graphql
//!     timeout_ms: 5000
//! override_labels: [percent-migration]
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

pub mod apollo;
pub mod duration;
mod expand;
pub mod yaml;

pub use crate::admin::AdminConfig;
pub use crate::auth::{AuthenticationConfig, AuthorizationConfig};
pub use crate::cache_control::CacheControlConfig;
pub use crate::cors::CorsConfig;
pub use crate::csrf::CsrfConfig;
pub use crate::demand_control::DemandControlConfig;
pub use crate::headers::HeadersConfig;
pub use crate::migrations::MigrationsConfig;
pub use crate::persisted::{ApqConfig, PersistedQueriesConfig};
pub use crate::response_cache::ResponseCacheConfig;
pub use crate::rest::RestConfig;
pub use crate::store::StoreConfig;
pub use crate::telemetry::TelemetryConfig;
pub use crate::tls::TlsConfig;
pub use crate::usage::UsageConfig;
pub use apollo::SupergraphSection;

/// The router configuration. Keys are snake_case; all have defaults.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The socket address to listen on (default `127.0.0.1:4000`).
    pub listen: String,
    /// The supergraph SDL file (`supergraph: FILE`), or Apollo Router's
    /// `supergraph: {listen, path, introspection}` (read into `listen`,
    /// `graphql_path` and `introspection`).
    pub supergraph: SupergraphSection,
    /// The HTTP path GraphQL requests are served on (default `/graphql`).
    pub graphql_path: String,
    /// The HTTP path of the health check (default `/health`; `?ready` for
    /// readiness).
    pub health_path: String,
    /// Watch the supergraph file and this config file, and swap in new
    /// versions as they change (default false; `--hot-reload` too).
    pub hot_reload: bool,
    /// How long requests in flight may take to finish after SIGTERM or
    /// SIGINT (default 30 000 ms).
    pub shutdown_timeout_ms: u64,
    /// The log's format: `text` (default) or `json` lines.
    pub log_format: LogFormat,
    /// Request size, shape and time limits.
    pub limits: Limits,
    /// Whether introspection queries are allowed (default true).
    pub introspection: bool,
    /// Which subgraphs' errors are passed on to clients.
    pub include_subgraph_errors: IncludeSubgraphErrors,
    /// Per-subgraph settings, by subgraph name.
    pub subgraphs: BTreeMap<String, SubgraphConfig>,
    /// Settings for subgraphs that `subgraphs` does not override.
    pub subgraph_defaults: SubgraphDefaults,
    /// Which headers go to the subgraphs (Apollo Router's `headers:`).
    pub headers: HeadersConfig,
    /// The progressive-override labels (`@override(label: ...)`) switched on.
    pub override_labels: Vec<String>,
    /// CSRF prevention (on by default).
    pub csrf: CsrfConfig,
    /// CORS (`cors:`, Apollo Router's keys): which browser origins may
    /// call the router.
    pub cors: CorsConfig,
    /// The GraphiQL page for browsers on the GraphQL path: unset follows
    /// `introspection`, `false` turns it off, `true` on.
    pub graphiql: Option<bool>,
    /// Demand control: operation costs from `@cost`/`@listSize` (off by default).
    pub demand_control: DemandControlConfig,
    /// Persisted query manifests and the safelist (`persisted_queries:`,
    /// Apollo Router's keys; off by default).
    pub persisted_queries: PersistedQueriesConfig,
    /// Automatic persisted queries (`apq:`, Apollo Router's keys; on by
    /// default).
    pub apq: ApqConfig,
    /// `Cache-Control` and `ETag` on GraphQL answers (`cache_control:`;
    /// off by default).
    pub cache_control: CacheControlConfig,
    /// Whole answers kept by the router (`response_cache:`; off by
    /// default).
    pub response_cache: ResponseCacheConfig,
    /// REST routes backed by GraphQL operations (`rest:`; none by
    /// default).
    pub rest: RestConfig,
    /// The state store (`store:`): embedded redb by default, or Redis.
    pub store: StoreConfig,
    /// Field migrations (`migrations:`): comparison settings and per-field
    /// states overriding the supergraph's (see `docs/migrations.md`).
    pub migrations: MigrationsConfig,
    /// Field usage (`usage:`): counting the fields operations select, by
    /// client, into the state store (off by default; see `docs/usage.md`).
    pub usage: UsageConfig,
    /// The admin listener (`admin:`): operator pages and APIs on an
    /// address of their own, behind a token; none by default.
    pub admin: AdminConfig,
    /// Telemetry (`telemetry:`, Apollo Router's shape): Prometheus metrics
    /// on the admin listener (`exporters.metrics.prometheus`), off by
    /// default.
    pub telemetry: TelemetryConfig,
    /// TLS (`tls:`, Apollo Router's keys): CA certificates and client
    /// certificates for `https://` subgraphs.
    pub tls: TlsConfig,
    /// Authentication (`authentication:`): JWTs checked against JSON Web
    /// Key Sets (off by default; see `docs/auth.md`).
    pub authentication: AuthenticationConfig,
    /// Authorization (`authorization:`): what `@authenticated`,
    /// `@requiresScopes` and `@policy` do to a request.
    pub authorization: AuthorizationConfig,
    /// Apollo Router's `health_check:` (read into `health_path`).
    pub health_check: Option<apollo::HealthCheck>,
    /// Apollo Router's `sandbox:` (read into `graphiql`).
    pub sandbox: Option<apollo::Enabled>,
    /// Apollo Router's `homepage:` (read, no effect: no landing page).
    pub homepage: Option<apollo::Enabled>,
    /// Apollo Router's `override_subgraph_url:` (read into
    /// `subgraphs.NAME.url`).
    pub override_subgraph_url: BTreeMap<String, String>,
    /// Apollo Router's `traffic_shaping:` timeouts (read into
    /// `limits.request_timeout_ms` and the subgraph timeouts).
    pub traffic_shaping: Option<apollo::TrafficShaping>,
}

/// The log's format (`log_format:`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (colours only on a terminal).
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("`{other}` is not a log format: `text` or `json`")),
        }
    }
}

/// The largest `limits.max_depth` accepted: deeper documents would risk the
/// stack of the recursive parser, planner and projection.
pub const MAX_DEPTH_LIMIT: usize = 256;

/// Request limits (`limits:`), named as in Apollo Router where it has the
/// same limit. See `docs/security.md` for each limit's error code.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// The largest request body accepted, in bytes (default 2,000,000);
    /// also accepted as Apollo Router's `http_max_request_bytes`.
    #[serde(alias = "http_max_request_bytes")]
    pub max_body_bytes: usize,
    /// The largest request head (request line and headers), in bytes
    /// (default 32 KiB, at least 8 KiB); a larger one is answered 431.
    pub http1_max_request_buf_size: usize,
    /// The most header fields in a request (default 100); more is 431.
    pub http1_max_request_headers: usize,
    /// How long a client may take to send a request head, in milliseconds
    /// (default 10,000); a slower one is disconnected.
    pub http_header_read_timeout_ms: u64,
    /// The most client connections open at once (default 10,000). Past it
    /// the router stops accepting until one closes (the kernel queues new
    /// connections).
    pub max_connections: usize,
    /// The deepest field nesting, fragments expanded (default 64, at most
    /// 256): `MAX_DEPTH_LIMIT`.
    pub max_depth: usize,
    /// The most fields, counted as Apollo Router counts height (no default):
    /// `MAX_HEIGHT_LIMIT`.
    pub max_height: Option<u32>,
    /// The most aliases, fragments expanded (no default): `MAX_ALIASES_LIMIT`.
    pub max_aliases: Option<u32>,
    /// The most root fields (no default): `MAX_ROOT_FIELDS_LIMIT`.
    pub max_root_fields: Option<u32>,
    /// Log operations over `max_depth`, `max_height`, `max_aliases` or
    /// `max_root_fields` instead of refusing them (default false).
    pub warn_only: bool,
    /// The most selections an operation has with its fragments expanded
    /// (counted, never built; default 100,000): `MAX_RECURSIVE_SELECTIONS_LIMIT`,
    /// whatever `warn_only` says.
    pub max_recursive_selections: u64,
    /// The most lexical tokens in a document (default 15,000):
    /// `PARSER_MAX_TOKENS_LIMIT`.
    pub parser_max_tokens: usize,
    /// The deepest syntactic nesting the parser follows (default 500, at
    /// most [`MAX_PARSER_RECURSION`]): `PARSER_MAX_RECURSION_LIMIT`.
    pub parser_max_recursion: usize,
    /// How long one request may take, in milliseconds (default 30,000).
    pub request_timeout_ms: u64,
}

/// The largest `limits.parser_max_recursion` accepted: the parser recurses
/// once per level, on a worker's stack.
pub const MAX_PARSER_RECURSION: usize = 2_000;

/// Which subgraph errors reach the client (`include_subgraph_errors:`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IncludeSubgraphErrors {
    /// The default for subgraphs not named in `subgraphs` (default true).
    pub all: bool,
    /// Per-subgraph choices, overriding `all`.
    pub subgraphs: BTreeMap<String, bool>,
}

/// Settings for one subgraph (`subgraphs.<name>:`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubgraphConfig {
    /// Overrides the subgraph URL given in the supergraph.
    pub url: Option<String>,
    /// Overrides `subgraph_defaults.timeout_ms` for this subgraph.
    pub timeout_ms: Option<u64>,
    /// Overrides `subgraph_defaults.max_response_bytes` for this subgraph.
    pub max_response_bytes: Option<usize>,
}

/// Defaults for all subgraphs (`subgraph_defaults:`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubgraphDefaults {
    /// The timeout of one subgraph request, in milliseconds (default 30,000).
    pub timeout_ms: u64,
    /// The largest subgraph answer read, in bytes (default 32 MiB): a larger
    /// one (whatever its `Content-Length` or chunks claim) is refused with
    /// `SUBREQUEST_MALFORMED_RESPONSE` before it is buffered.
    pub max_response_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:4000".to_string(),
            supergraph: SupergraphSection::default(),
            graphql_path: "/graphql".to_string(),
            health_path: "/health".to_string(),
            hot_reload: false,
            shutdown_timeout_ms: 30_000,
            log_format: LogFormat::Text,
            limits: Limits::default(),
            introspection: true,
            include_subgraph_errors: IncludeSubgraphErrors::default(),
            subgraphs: BTreeMap::new(),
            subgraph_defaults: SubgraphDefaults::default(),
            headers: HeadersConfig::default(),
            override_labels: Vec::new(),
            csrf: CsrfConfig::default(),
            cors: CorsConfig::default(),
            graphiql: None,
            demand_control: DemandControlConfig::default(),
            persisted_queries: PersistedQueriesConfig::default(),
            apq: ApqConfig::default(),
            cache_control: CacheControlConfig::default(),
            response_cache: ResponseCacheConfig::default(),
            rest: RestConfig::default(),
            store: StoreConfig::default(),
            migrations: MigrationsConfig::default(),
            usage: UsageConfig::default(),
            admin: AdminConfig::default(),
            telemetry: TelemetryConfig::default(),
            tls: TlsConfig::default(),
            authentication: AuthenticationConfig::default(),
            authorization: AuthorizationConfig::default(),
            health_check: None,
            sandbox: None,
            homepage: None,
            override_subgraph_url: BTreeMap::new(),
            traffic_shaping: None,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 2_000_000,
            http1_max_request_buf_size: 32 * 1024,
            http1_max_request_headers: 100,
            http_header_read_timeout_ms: 10_000,
            max_connections: 10_000,
            max_depth: 64,
            max_height: None,
            max_aliases: None,
            max_root_fields: None,
            warn_only: false,
            max_recursive_selections: 100_000,
            parser_max_tokens: 15_000,
            parser_max_recursion: 500,
            request_timeout_ms: 30_000,
        }
    }
}

impl Default for IncludeSubgraphErrors {
    fn default() -> Self {
        IncludeSubgraphErrors {
            all: true,
            subgraphs: BTreeMap::new(),
        }
    }
}

impl Default for SubgraphDefaults {
    fn default() -> Self {
        SubgraphDefaults {
            timeout_ms: 30_000,
            max_response_bytes: 32 * 1024 * 1024,
        }
    }
}

impl IncludeSubgraphErrors {
    /// Whether errors from `subgraph` are passed on to the client.
    pub fn includes(&self, subgraph: &str) -> bool {
        self.subgraphs.get(subgraph).copied().unwrap_or(self.all)
    }
}

impl Limits {
    /// `request_timeout_ms` as a [`Duration`].
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// `http_header_read_timeout_ms` as a [`Duration`].
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.http_header_read_timeout_ms)
    }
}

/// The name errors from [`Config::from_yaml_str`] are reported under.
const STRING_ORIGIN: &str = "config";

impl Config {
    /// Reads and parses the YAML file at `path` (see [`Config::from_yaml_str`]).
    /// Errors are reported under the file's path.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            origin: origin.clone(),
            kind: ConfigErrorKind::Read(e.to_string()),
        })?;
        Self::parse(&text, &origin, &|name| std::env::var(name).ok())
    }

    /// Parses a YAML configuration and validates it.
    ///
    /// First `${env.NAME}` is replaced by the environment variable `NAME`
    /// (an error if it is unset) and `${env.NAME:-default}` by `NAME`, or by
    /// `default` when `NAME` is unset or empty. The substitution is textual,
    /// so it also applies inside YAML comments and quoted strings. Then
    /// `${file.PATH}` in a string value is replaced by the contents of the
    /// file `PATH` (relative to the current directory), as in Apollo
    /// Router (see `expand`). An empty document gives the defaults.
    /// Errors are reported under the name `config`.
    pub fn from_yaml_str(text: &str) -> Result<Config, ConfigError> {
        Self::parse(text, STRING_ORIGIN, &|name| std::env::var(name).ok())
    }

    /// Expands, parses and validates `text`, looking variables up with `env`.
    fn parse(
        text: &str,
        origin: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let error = |kind| ConfigError {
            origin: origin.to_string(),
            kind,
        };
        let text = expand::env(text, env).map_err(error)?;
        let config = if text.trim().is_empty() {
            Config::default()
        } else {
            let text = expand::files(&text).map_err(error)?;
            let mut config: Config =
                yaml::from_str(&text).map_err(|e| error(ConfigErrorKind::Parse(e)))?;
            apollo::fold(&mut config).map_err(error)?;
            config
        };
        config.validate().map_err(error)?;
        Ok(config)
    }

    /// Checks the values serde cannot: addresses, URLs, paths, positive numbers.
    fn validate(&self) -> Result<(), ConfigErrorKind> {
        let invalid = |key: &str, message: String| ConfigErrorKind::Invalid {
            key: key.to_string(),
            message,
        };
        self.listen.parse::<SocketAddr>().map_err(|_| {
            invalid(
                "listen",
                format!(
                    "`{}` is not a socket address such as 127.0.0.1:4000",
                    self.listen
                ),
            )
        })?;
        for (key, path) in [
            ("graphql_path", &self.graphql_path),
            ("health_path", &self.health_path),
        ] {
            if !path.starts_with('/') {
                return Err(invalid(key, format!("`{path}` must start with `/`")));
            }
        }
        if self.graphql_path == self.health_path {
            return Err(invalid(
                "health_path",
                format!("`{}` is also graphql_path", self.health_path),
            ));
        }
        positive("limits.max_body_bytes", self.limits.max_body_bytes as u64)?;
        positive("limits.max_depth", self.limits.max_depth as u64)?;
        if self.limits.max_depth > MAX_DEPTH_LIMIT {
            return Err(invalid(
                "limits.max_depth",
                format!(
                    "{} is above {MAX_DEPTH_LIMIT}, the deepest nesting goliath can plan safely",
                    self.limits.max_depth
                ),
            ));
        }
        positive("limits.request_timeout_ms", self.limits.request_timeout_ms)?;
        positive(
            "limits.http_header_read_timeout_ms",
            self.limits.http_header_read_timeout_ms,
        )?;
        positive("limits.max_connections", self.limits.max_connections as u64)?;
        positive(
            "limits.http1_max_request_headers",
            self.limits.http1_max_request_headers as u64,
        )?;
        positive(
            "limits.max_recursive_selections",
            self.limits.max_recursive_selections,
        )?;
        positive(
            "limits.parser_max_tokens",
            self.limits.parser_max_tokens as u64,
        )?;
        positive(
            "limits.parser_max_recursion",
            self.limits.parser_max_recursion as u64,
        )?;
        if self.limits.parser_max_recursion > MAX_PARSER_RECURSION {
            return Err(invalid(
                "limits.parser_max_recursion",
                format!(
                    "{} is above {MAX_PARSER_RECURSION}, the deepest nesting goliath parses safely",
                    self.limits.parser_max_recursion
                ),
            ));
        }
        if self.limits.http1_max_request_buf_size < 8192 {
            return Err(invalid(
                "limits.http1_max_request_buf_size",
                format!(
                    "{} is below 8192, the smallest request buffer the HTTP server takes",
                    self.limits.http1_max_request_buf_size
                ),
            ));
        }
        positive(
            "subgraph_defaults.timeout_ms",
            self.subgraph_defaults.timeout_ms,
        )?;
        positive(
            "subgraph_defaults.max_response_bytes",
            self.subgraph_defaults.max_response_bytes as u64,
        )?;
        for (name, subgraph) in &self.subgraphs {
            if let Some(timeout) = subgraph.timeout_ms {
                positive(&format!("subgraphs.{name}.timeout_ms"), timeout)?;
            }
            if let Some(max) = subgraph.max_response_bytes {
                positive(&format!("subgraphs.{name}.max_response_bytes"), max as u64)?;
            }
            if let Some(raw) = &subgraph.url {
                let key = format!("subgraphs.{name}.url");
                let url = url::Url::parse(raw)
                    .map_err(|e| invalid(&key, format!("`{raw}` is not a valid URL: {e}")))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(invalid(&key, format!("`{raw}` is not an http(s) URL")));
                }
            }
        }
        for (i, name) in self.csrf.required_headers.iter().enumerate() {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(invalid(
                    &format!("csrf.required_headers[{i}]"),
                    format!("`{name}` is not an HTTP header name"),
                ));
            }
        }
        self.headers
            .validate()
            .map_err(|(key, message)| invalid(&key, message))?;
        self.cors
            .validate()
            .map_err(|(key, message)| invalid(&key, message))?;
        self.demand_control
            .validate()
            .map_err(|(key, message)| invalid(&key, message))?;
        self.cache_control
            .validate()
            .map_err(|(key, message)| invalid(&key, message))?;
        self.response_cache
            .validate()
            .map_err(|(key, message)| invalid(&key, message))?;
        self.rest
            .validate()
            .map_err(|(key, message)| invalid(&key, message))?;
        self.persisted_queries
            .validate(&self.apq)
            .map_err(|(key, message)| invalid(&key, message))?;
        self.migrations
            .validate()
            .map_err(|(key, message)| invalid(&key, message))?;
        self.usage
            .validate()
            .map_err(|(key, message)| invalid(&key, message))?;
        self.admin
            .validate(&self.listen)
            .map_err(|(key, message)| invalid(&key, message))?;
        self.telemetry
            .validate(&self.admin)
            .map_err(|(key, message)| invalid(&key, message))?;
        self.tls
            .validate()
            .map_err(|(key, message)| invalid(&key, message))?;
        if let Some(url) = &self.store.redis {
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(invalid(
                    "store.redis",
                    format!("`{url}` is not a redis:// URL"),
                ));
            }
        }
        if let Some(i) = self.override_labels.iter().position(|l| l.is_empty()) {
            return Err(invalid(
                &format!("override_labels[{i}]"),
                "a label must not be empty".to_string(),
            ));
        }
        Ok(())
    }

    /// The socket address to listen on (`listen`, checked when loading).
    pub fn listen_addr(&self) -> Result<SocketAddr, std::net::AddrParseError> {
        self.listen.parse()
    }

    /// The URL configured for `subgraph`, overriding the supergraph's.
    pub fn subgraph_url(&self, subgraph: &str) -> Option<&str> {
        self.subgraphs.get(subgraph)?.url.as_deref()
    }

    /// The answer size cap for `subgraph`: its own, else the default.
    pub fn subgraph_max_response_bytes(&self, subgraph: &str) -> usize {
        self.subgraphs
            .get(subgraph)
            .and_then(|s| s.max_response_bytes)
            .unwrap_or(self.subgraph_defaults.max_response_bytes)
    }

    /// The request timeout for `subgraph`: its own, else the default.
    pub fn subgraph_timeout(&self, subgraph: &str) -> Duration {
        let ms = self
            .subgraphs
            .get(subgraph)
            .and_then(|s| s.timeout_ms)
            .unwrap_or(self.subgraph_defaults.timeout_ms);
        Duration::from_millis(ms)
    }
}

/// Fails with a message naming `key` unless `value` is above zero.
fn positive(key: &str, value: u64) -> Result<(), ConfigErrorKind> {
    if value == 0 {
        return Err(ConfigErrorKind::Invalid {
            key: key.to_string(),
            message: "must be greater than 0".to_string(),
        });
    }
    Ok(())
}

/// Why a configuration could not be loaded, and from where.
///
/// Displays as `<origin>: <problem>`, e.g.
/// ``goliath.yaml: limits: unknown field `foo`, expected one of ...``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where the configuration came from: a file path, or `config` for text.
    pub origin: String,
    /// What is wrong.
    pub kind: ConfigErrorKind,
}

/// What is wrong with a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigErrorKind {
    /// The file could not be read.
    Read(String),
    /// `${env.NAME}` names an unset variable and gives no default.
    MissingEnv {
        /// The variable's name.
        name: String,
    },
    /// `${file.PATH}` names a file that cannot be read.
    File {
        /// The path as written.
        path: String,
        /// Why it cannot be read.
        message: String,
    },
    /// A malformed `${env...}` or `${file...}` reference.
    BadReference {
        /// The reference as written.
        reference: String,
        /// What is wrong with it.
        message: String,
    },
    /// Not valid YAML, or not the expected shape (unknown key, wrong type):
    /// The YAML reader's message, after the key path (see [`yaml`]).
    Parse(String),
    /// A value of the right type that is not acceptable.
    Invalid {
        /// The dotted key path, e.g. `subgraphs.products.url`.
        key: String,
        /// What is wrong with the value.
        message: String,
    },
}

impl fmt::Display for ConfigErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigErrorKind::Read(e) => write!(f, "cannot read: {e}"),
            ConfigErrorKind::MissingEnv { name } => write!(
                f,
                "environment variable `{name}` is not set \
                 (use `${{env.{name}:-default}}` to give a default)"
            ),
            ConfigErrorKind::File { path, message } => {
                write!(
                    f,
                    "cannot read the file `{path}` (`${{file.{path}}}`): {message}"
                )
            }
            ConfigErrorKind::BadReference { reference, message } => {
                write!(f, "bad reference `{reference}`: {message}")
            }
            ConfigErrorKind::Parse(e) => f.write_str(e),
            ConfigErrorKind::Invalid { key, message } => write!(f, "{key}: {message}"),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.kind)
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests;
