//! `goliath migrate`: field migrations through a running router's admin
//! listener (`admin.listen`).
//!
//! - `goliath migrate status --router URL [--token T] [--json]`: the report
//!   as a table, then the latest difference per field (`--json`: the raw
//!   JSON);
//! - `goliath migrate set Type.field STATE [PERCENT] --router URL [--reason TEXT]`;
//! - `goliath migrate clear Type.field --router URL`.
//!
//! The token is `--token`, else the environment variable
//! `GOLIATH_ADMIN_TOKEN`.

use std::time::Duration;

use bytes::Bytes;
use clap::{Args, Subcommand};
use goliath_router::admin::page::{join_path, state_with_percent};
use goliath_router::migrations::report::{FieldReport, Report};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

/// The environment variable the token is read from without `--token`.
pub const TOKEN_ENV: &str = "GOLIATH_ADMIN_TOKEN";

/// How long one admin request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// `goliath migrate …`.
#[derive(Subcommand)]
pub enum MigrateCommand {
    /// Print every migrating field's state and comparison figures.
    Status {
        #[command(flatten)]
        admin: AdminArgs,
        /// Print the report's JSON as the router sends it.
        #[arg(long)]
        json: bool,
    },
    /// Set a field's state (manual, side-by-side, canary PERCENT, migrated).
    Set {
        /// The field, as `Type.field`.
        field: String,
        /// manual, side-by-side, canary or migrated.
        state: String,
        /// The share of requests the new subgraph serves (canary only), 0–100.
        percent: Option<f64>,
        #[command(flatten)]
        admin: AdminArgs,
        /// Why (recorded in the field's events; default `admin`).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Drop a field's run-time state: the config's (or supergraph's) applies again.
    Clear {
        /// The field, as `Type.field`.
        field: String,
        #[command(flatten)]
        admin: AdminArgs,
    },
}

/// Where the admin listener is and how to get in.
#[derive(Args)]
pub struct AdminArgs {
    /// The admin listener's base URL, e.g. http://127.0.0.1:9090.
    #[arg(long = "router", value_name = "URL")]
    pub(crate) router: String,
    /// The admin token (default: the environment variable GOLIATH_ADMIN_TOKEN).
    #[arg(long)]
    pub(crate) token: Option<String>,
}

/// Runs one `goliath migrate` command.
pub fn run(command: MigrateCommand) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    runtime.block_on(async move {
        match command {
            MigrateCommand::Status { admin, json } => status(&admin, json).await,
            MigrateCommand::Set {
                field,
                state,
                percent,
                admin,
                reason,
            } => set(&admin, &field, &state, percent, reason).await,
            MigrateCommand::Clear { field, admin } => clear(&admin, &field).await,
        }
    })
}

async fn status(admin: &AdminArgs, raw: bool) -> Result<(), String> {
    let body = request(admin, "GET", "/admin/migrations", None).await?;
    if raw {
        println!("{}", String::from_utf8_lossy(&body));
        return Ok(());
    }
    let report: Report = serde_json::from_slice(&body)
        .map_err(|e| format!("the router's report is not what this goliath reads: {e}"))?;
    print!("{}", table(&report));
    Ok(())
}

async fn set(
    admin: &AdminArgs,
    field: &str,
    state: &str,
    percent: Option<f64>,
    reason: Option<String>,
) -> Result<(), String> {
    check_field(field)?;
    let mut body = json!({ "state": state });
    if let Some(p) = percent {
        body["percent"] = json!(p);
    }
    if let Some(r) = reason {
        body["reason"] = json!(r);
    }
    let path = format!("/admin/migrations/{field}");
    let answer = request(admin, "PUT", &path, Some(body.to_string())).await?;
    let entry: FieldReport = serde_json::from_slice(&answer)
        .map_err(|e| format!("unexpected answer from the router: {e}"))?;
    println!(
        "{}: {} (source {})",
        entry.field,
        state_with_percent(&entry.state, entry.percent),
        entry.source
    );
    Ok(())
}

async fn clear(admin: &AdminArgs, field: &str) -> Result<(), String> {
    check_field(field)?;
    let path = format!("/admin/migrations/{field}");
    let answer = request(admin, "DELETE", &path, None).await?;
    let entry: FieldReport = serde_json::from_slice(&answer)
        .map_err(|e| format!("unexpected answer from the router: {e}"))?;
    println!(
        "{}: run-time state cleared, now {} (source {})",
        entry.field,
        state_with_percent(&entry.state, entry.percent),
        entry.source
    );
    Ok(())
}

/// Refuses anything but `Type.field` (it goes into the URL's path).
fn check_field(field: &str) -> Result<(), String> {
    let name = |s: &str| {
        !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !s.starts_with(|c: char| c.is_ascii_digit())
    };
    match field.split_once('.') {
        Some((t, f)) if name(t) && name(f) => Ok(()),
        _ => Err(format!(
            "`{field}` is not a field coordinate such as User.progress"
        )),
    }
}

/// Sends one request to the admin listener; the body of a 2xx answer, or
/// an error saying what went wrong in the operator's terms.
pub(crate) async fn request(
    admin: &AdminArgs,
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<Bytes, String> {
    let base = admin.router.trim_end_matches('/');
    if base.starts_with("https://") {
        return Err(format!(
            "{base}: https is not supported here; give the admin listener's http:// URL"
        ));
    }
    if !base.starts_with("http://") {
        return Err(format!(
            "{base}: expected the admin listener's URL, such as http://127.0.0.1:9090"
        ));
    }
    let url = format!("{base}{path}");
    let uri: http::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let token = admin
        .token
        .clone()
        .or_else(|| std::env::var(TOKEN_ENV).ok().filter(|t| !t.is_empty()));
    let mut builder = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("accept", "application/json");
    if let Some(token) = &token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    let request = builder
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .map_err(|e| format!("{url}: {e}"))?;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let response = match tokio::time::timeout(TIMEOUT, client.request(request)).await {
        Err(_) => return Err(format!("{url}: no answer within {TIMEOUT:?}")),
        Ok(Err(e)) => return Err(connect_error(base, &e)),
        Ok(Ok(response)) => response,
    };
    let status = response.status();
    let bytes = match tokio::time::timeout(TIMEOUT, response.into_body().collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) => return Err(format!("{url}: the answer broke off: {e}")),
        Err(_) => {
            return Err(format!(
                "{url}: the answer did not finish within {TIMEOUT:?}"
            ))
        }
    };
    if status.is_success() {
        return Ok(bytes);
    }
    let message = server_message(&bytes);
    Err(match status.as_u16() {
        401 if token.is_none() => format!(
            "the router wants the admin token (401: {message}): pass --token TOKEN or set {TOKEN_ENV}"
        ),
        401 => format!("the router refused the admin token (401: {message})"),
        400 => format!("the router refused the request (400): {message}"),
        404 => format!("not found (404): {message}"),
        code => format!("{method} {url}: HTTP {code}: {message}"),
    })
}

/// The message of a GraphQL-style error body, else the body's text.
fn server_message(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["errors"][0]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                "(no message)".to_owned()
            } else {
                text.chars().take(500).collect()
            }
        })
}

/// The client's error in plain words: connection refused, unknown host, …
fn connect_error(base: &str, e: &hyper_util::client::legacy::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return format!(
                    "cannot reach the admin listener at {base}: connection refused \
                     (is the router running with admin.listen set to that address?)"
                );
            }
            return format!("cannot reach the admin listener at {base}: {io}");
        }
        source = s.source();
    }
    format!("cannot reach the admin listener at {base}: {e}")
}

/// The report as text: one row per field, then each field's newest
/// difference.
pub fn table(report: &Report) -> String {
    if report.fields.is_empty() {
        return "no migrating fields\n".to_owned();
    }
    let header = [
        "FIELD",
        "FROM→TO",
        "STATE",
        "COMPARED",
        "MATCHED",
        "MISMATCHED",
        "NOISE",
        "ERRORS OLD/NEW",
        "DROPPED",
        "P99 OLD/NEW MS",
        "READY",
    ];
    let rows: Vec<Vec<String>> = report
        .fields
        .iter()
        .map(|f| {
            vec![
                f.field.clone(),
                format!("{}→{}", f.from, f.to),
                state_with_percent(&f.state, f.percent),
                f.compared.to_string(),
                f.matched.to_string(),
                f.mismatched.to_string(),
                f.noise.to_string(),
                format!("{}/{}", f.errors_old, f.errors_new),
                f.dropped.to_string(),
                format!("{:.1}/{:.1}", f.latency_ms.old.p99, f.latency_ms.new.p99),
                if f.ready { "yes" } else { "no" }.to_owned(),
            ]
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let numeric = |i: usize| (3..=9).contains(&i);
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            let pad = w - cell.chars().count();
            if numeric(i) {
                text.push_str(&" ".repeat(pad));
                text.push_str(cell);
            } else {
                text.push_str(cell);
                text.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    line(&header, &mut out);
    for row in &rows {
        line(row, &mut out);
    }
    let mut samples = String::new();
    for f in &report.fields {
        if let Some(s) = f.samples.last() {
            samples.push_str(&format!(
                "  {}: {}  old {}  new {}  ({}, {}, {})\n",
                f.field,
                join_path(&s.path),
                short(&s.old),
                short(&s.new),
                s.kind,
                s.operation.as_deref().unwrap_or("anonymous"),
                s.at
            ));
        }
    }
    if !samples.is_empty() {
        out.push_str("\nlatest differences:\n");
        out.push_str(&samples);
    }
    out
}

/// A value as one line of JSON, cut at 80 characters.
fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() <= 80 {
        return text;
    }
    let mut cut: String = text.chars().take(80).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use goliath_router::migrations::report::Sample;

    #[test]
    fn the_table_lines_up_and_lists_the_latest_sample() {
        let report = Report {
            fields: vec![
                FieldReport {
                    field: "User.progress".into(),
                    from: "monolith".into(),
                    to: "progress".into(),
                    state: "canary".into(),
                    percent: Some(5.0),
                    compared: 1200,
                    matched: 1198,
                    mismatched: 2,
                    samples: vec![Sample {
                        path: vec![json!("user"), json!("progress"), json!(0), json!("correct")],
                        old: json!(3),
                        new: json!(4),
                        kind: "value".into(),
                        operation: Some("Progress".into()),
                        at: "2025-01-01T00:00:00Z".into(),
                    }],
                    ..FieldReport::default()
                },
                FieldReport {
                    field: "User.name".into(),
                    from: "a".into(),
                    to: "b".into(),
                    state: "side-by-side".into(),
                    ready: true,
                    ..FieldReport::default()
                },
            ],
        };
        let text = table(&report);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("FIELD"), "{text}");
        assert!(
            lines[1].starts_with("User.progress  monolith→progress  canary 5%"),
            "{text}"
        );
        assert!(lines[1].ends_with("no"), "{text}");
        assert!(lines[2].ends_with("yes"), "{text}");
        assert!(text.contains("User.progress: user.progress.0.correct  old 3  new 4  (value, Progress, 2025-01-01T00:00:00Z)"), "{text}");
        assert_eq!(table(&Report::default()), "no migrating fields\n");
    }

    #[test]
    fn coordinates_are_checked() {
        assert!(check_field("User.score").is_ok());
        assert!(check_field("User").is_err());
        assert!(check_field("User.score/../x").is_err());
        assert!(check_field("User.").is_err());
    }
}
