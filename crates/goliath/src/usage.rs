//! `goliath usage`: the field usage report of a running router, through
//! its admin listener (`GET /admin/usage`).
//!
//! `goliath usage --router URL [--token T] [--days N] [--field Type.field]
//! [--top N] [--json]` prints the fields nobody requested over the last N
//! days (deprecated ones marked), the top fields by traffic, and with
//! `--field` the clients, versions and operations still selecting it. The
//! token is `--token`, else `GOLIATH_ADMIN_TOKEN`.

use clap::Args;
use goliath_router::usage::report::UsageReport;

use crate::migrate::{request, AdminArgs};

/// `goliath usage …`.
#[derive(Args)]
pub struct UsageArgs {
    #[command(flatten)]
    admin: AdminArgs,
    /// The last N days (UTC, today included; default 30).
    #[arg(long)]
    days: Option<u32>,
    /// List who still uses this field (`Type.field`).
    #[arg(long)]
    field: Option<String>,
    /// How many fields the traffic list shows (default 20).
    #[arg(long)]
    top: Option<usize>,
    /// Print the report's JSON as the router sends it.
    #[arg(long)]
    json: bool,
}

/// Runs `goliath usage`.
pub fn run(args: UsageArgs) -> Result<(), String> {
    let mut query = url_query(&args);
    if !query.is_empty() {
        query.insert(0, '?');
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    let body = runtime.block_on(request(
        &args.admin,
        "GET",
        &format!("/admin/usage{query}"),
        None,
    ))?;
    if args.json {
        println!("{}", String::from_utf8_lossy(&body));
        return Ok(());
    }
    let report: UsageReport = serde_json::from_slice(&body)
        .map_err(|e| format!("the router's report is not what this goliath reads: {e}"))?;
    print!("{}", text(&report));
    Ok(())
}

/// The query string for the report's parameters (no `?`).
fn url_query(args: &UsageArgs) -> String {
    let mut q = url_encoded::Serializer::default();
    if let Some(days) = args.days {
        q.pair("days", &days.to_string());
    }
    if let Some(field) = &args.field {
        q.pair("field", field);
    }
    if let Some(top) = args.top {
        q.pair("top", &top.to_string());
    }
    q.0
}

/// A tiny `application/x-www-form-urlencoded` writer (no extra dependency).
mod url_encoded {
    /// The query string so far.
    #[derive(Default)]
    pub struct Serializer(pub String);

    impl Serializer {
        /// Appends `key=value`, percent-encoding the value.
        pub fn pair(&mut self, key: &str, value: &str) {
            if !self.0.is_empty() {
                self.0.push('&');
            }
            self.0.push_str(key);
            self.0.push('=');
            for b in value.bytes() {
                if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'~') {
                    self.0.push(b as char);
                } else {
                    self.0.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
}

/// The report as text.
pub fn text(report: &UsageReport) -> String {
    let mut out = format!(
        "field usage {} to {} ({} day{}, UTC): {} schema fields, {} field requests\n",
        report.from,
        report.to,
        report.days,
        if report.days == 1 { "" } else { "s" },
        report.schema_fields,
        report.field_requests
    );
    if let Some(f) = &report.field {
        out.push_str(&format!(
            "\n{}: {} request{}{}{}\n",
            f.field,
            f.requests,
            if f.requests == 1 { "" } else { "s" },
            if f.deprecated { " (deprecated)" } else { "" },
            if f.in_schema {
                ""
            } else {
                " (not in the API schema)"
            }
        ));
        if f.users.is_empty() {
            out.push_str("  nobody selected it in this period\n");
        } else {
            let rows: Vec<[String; 4]> = f
                .users
                .iter()
                .map(|u| {
                    [
                        u.client.clone(),
                        if u.version.is_empty() {
                            "-".to_owned()
                        } else {
                            u.version.clone()
                        },
                        if u.operation.is_empty() {
                            "(anonymous)".to_owned()
                        } else {
                            u.operation.clone()
                        },
                        u.requests.to_string(),
                    ]
                })
                .collect();
            out.push_str(&columns(
                &["CLIENT", "VERSION", "OPERATION", "REQUESTS"],
                &rows,
            ));
        }
    }
    out.push_str(&format!(
        "\nnever requested ({}):\n",
        report.never_requested.len()
    ));
    if report.never_requested.is_empty() {
        out.push_str("  every field was requested\n");
    }
    for u in &report.never_requested {
        out.push_str(&format!("  {}", u.field));
        if u.deprecated {
            out.push_str("  (deprecated");
            if let Some(reason) = &u.deprecation_reason {
                out.push_str(&format!(": {reason}"));
            }
            out.push(')');
        }
        out.push('\n');
    }
    out.push_str(&format!("\ntop fields ({}):\n", report.top.len()));
    if report.top.is_empty() {
        out.push_str("  no traffic counted (is usage.enabled on?)\n");
    } else {
        let rows: Vec<[String; 4]> = report
            .top
            .iter()
            .map(|t| {
                let note = match (t.in_schema, t.deprecated) {
                    (false, _) => "not in the API schema",
                    (true, true) => "deprecated",
                    (true, false) => "",
                };
                [
                    t.field.clone(),
                    t.requests.to_string(),
                    note.to_owned(),
                    String::new(),
                ]
            })
            .collect();
        out.push_str(&columns(&["FIELD", "REQUESTS", "", ""], &rows));
    }
    out
}

/// Rows lined up under `header`, indented by two spaces.
fn columns(header: &[&str; 4], rows: &[[String; 4]]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(header.as_slice()).chain(rows.iter().map(|r| r.as_slice())) {
        let mut line = String::from(" ");
        for (cell, w) in row.iter().zip(&widths) {
            line.push(' ');
            line.push_str(cell);
            line.push_str(&" ".repeat(w - cell.chars().count()));
            line.push(' ');
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use goliath_router::usage::report::{FieldUsage, FieldUser, UnusedField};

    #[test]
    fn the_report_reads_as_text() {
        let report = UsageReport {
            days: 30,
            from: "2024-01-01".into(),
            to: "2024-01-30".into(),
            never_requested: vec![UnusedField {
                field: "User.legacy".into(),
                deprecated: true,
                deprecation_reason: Some("use name".into()),
            }],
            field: Some(FieldUsage {
                field: "User.name".into(),
                requests: 3,
                in_schema: true,
                users: vec![FieldUser {
                    client: "web".into(),
                    version: "1.2".into(),
                    operation: "Me".into(),
                    requests: 3,
                }],
                ..FieldUsage::default()
            }),
            ..UsageReport::default()
        };
        let text = text(&report);
        assert!(
            text.contains("User.legacy  (deprecated: use name)"),
            "{text}"
        );
        assert!(text.contains("  web     1.2      Me         3"), "{text}");
        assert!(text.contains("User.name: 3 requests"), "{text}");
    }
}
