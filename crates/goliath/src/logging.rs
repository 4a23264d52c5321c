//! The process's log: `tracing` events on standard error, filtered by
//! `RUST_LOG` (default `info`), as text or as JSON lines.
//!
//! The format comes from `--log-format`, else `GOLIATH_LOG_FORMAT`, else
//! the router config's `log_format` (`text` or `json`), else text. Text
//! has colours only when standard error is a terminal and `NO_COLOR` is
//! unset, so a log written to a file or a pipe (`goliath demo`'s children,
//! a container's log) has no escape codes. JSON lines carry the time, the
//! level, the target, the message and the event's fields. An event logged
//! while a traced request runs carries the request's trace id (text:
//! `request{trace_id=…}:`; JSON: `"span":{"name":"request","trace_id":…}`).

use std::io::IsTerminal;
use std::path::Path;

use goliath_router::config::LogFormat;
use tracing_subscriber::EnvFilter;

/// The format to log in: `flag`, else the environment, else the config
/// file's `log_format` (read only for that; an unreadable config is
/// reported later by the command that loads it).
pub fn format(flag: Option<LogFormat>, config: Option<&Path>) -> LogFormat {
    if let Some(format) = flag {
        return format;
    }
    if let Some(format) = std::env::var("GOLIATH_LOG_FORMAT")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return format;
    }
    config
        .and_then(|path| goliath_router::Config::load(path).ok())
        .map_or(LogFormat::Text, |c| c.log_format)
}

/// Installs the process's subscriber.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        // A request's events carry its span: `{"span": {"name":
        // "request", "trace_id": …}}` when the request is traced.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        LogFormat::Text => {
            let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            builder.with_ansi(colour).init()
        }
    }
}
