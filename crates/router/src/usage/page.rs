//! The field usage page (`GET /admin/usage.html`): the report rendered on
//! the server, no JavaScript. Every value from the report (field names,
//! client names and versions, operation names, deprecation reasons) goes
//! through `crate::admin::page::escape`.

use std::fmt::Write;

use crate::admin::page::escape;
use crate::usage::report::UsageReport;

const STYLE: &str = "
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #1d1f21; background: #fafafa; margin: 2em; }
h1 { font-size: 1.5em; margin: 0 0 .2em; }
h2 { font-size: 1.2em; margin: 1.2em 0 .5em; }
.muted { color: #666; }
table { border-collapse: collapse; background: #fff; margin: .3em 0 1em; }
th, td { border: 1px solid #ddd; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
code { font-family: ui-monospace, 'SFMono-Regular', Menlo, monospace; font-size: .92em; }
.deprecated { color: #8a4b00; background: #fff3e0; padding: .05em .4em; border-radius: 4px; }
";

/// The page for `report`, generated at `now` (an RFC 3339 time).
pub fn render(report: &UsageReport, now: &str) -> String {
    let mut html = String::with_capacity(8 * 1024);
    html.push_str(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>goliath · field usage</title>\n<style>",
    );
    html.push_str(STYLE);
    html.push_str("</style>\n</head>\n<body>\n<h1>Field usage</h1>\n");
    let _ = writeln!(
        html,
        "<p class=\"muted\">{} to {} ({} day{}, UTC) · {} schema fields · {} field requests · {} · JSON: <code>GET /admin/usage</code></p>",
        escape(&report.from),
        escape(&report.to),
        report.days,
        if report.days == 1 { "" } else { "s" },
        report.schema_fields,
        report.field_requests,
        escape(now)
    );
    if let Some(f) = &report.field {
        let _ = writeln!(
            html,
            "<h2>Who uses <code>{}</code></h2>\n<p>{} request{}{}{}</p>",
            escape(&f.field),
            f.requests,
            if f.requests == 1 { "" } else { "s" },
            if f.deprecated {
                " · <span class=\"deprecated\">deprecated</span>"
            } else {
                ""
            },
            if f.in_schema {
                ""
            } else {
                " · not in the API schema"
            },
        );
        if f.users.is_empty() {
            html.push_str("<p>Nobody selected it in this period.</p>\n");
        } else {
            html.push_str(
                "<table>\n<tr><th>client</th><th>version</th><th>operation</th><th>requests</th></tr>\n",
            );
            for u in &f.users {
                let _ = writeln!(
                    html,
                    "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td class=\"n\">{}</td></tr>",
                    escape(&u.client),
                    escape(&u.version),
                    escape(if u.operation.is_empty() {
                        "(anonymous)"
                    } else {
                        &u.operation
                    }),
                    u.requests
                );
            }
            html.push_str("</table>\n");
        }
    }
    let _ = writeln!(
        html,
        "<h2>Never requested ({})</h2>",
        report.never_requested.len()
    );
    if report.never_requested.is_empty() {
        html.push_str("<p>Every field was requested in this period.</p>\n");
    } else {
        html.push_str("<table>\n<tr><th>field</th><th>deprecated</th></tr>\n");
        for u in &report.never_requested {
            let mark = match (&u.deprecated, &u.deprecation_reason) {
                (false, _) => String::new(),
                (true, None) => "<span class=\"deprecated\">deprecated</span>".to_owned(),
                (true, Some(reason)) => format!(
                    "<span class=\"deprecated\">deprecated</span> {}",
                    escape(reason)
                ),
            };
            let _ = writeln!(
                html,
                "<tr><td><code>{}</code></td><td>{mark}</td></tr>",
                escape(&u.field)
            );
        }
        html.push_str("</table>\n");
    }
    let _ = writeln!(html, "<h2>Top fields ({})</h2>", report.top.len());
    if report.top.is_empty() {
        html.push_str("<p>No traffic counted yet (is <code>usage.enabled</code> on?).</p>\n");
    } else {
        html.push_str("<table>\n<tr><th>field</th><th>requests</th><th></th></tr>\n");
        for t in &report.top {
            let note = match (t.in_schema, t.deprecated) {
                (false, _) => "not in the API schema",
                (true, true) => "deprecated",
                (true, false) => "",
            };
            let _ = writeln!(
                html,
                "<tr><td><code>{}</code></td><td class=\"n\">{}</td><td>{note}</td></tr>",
                escape(&t.field),
                t.requests
            );
        }
        html.push_str("</table>\n");
    }
    html.push_str("</body>\n</html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::report::{FieldUsage, FieldUser, UnusedField};

    #[test]
    fn values_are_escaped() {
        let report = UsageReport {
            days: 1,
            never_requested: vec![UnusedField {
                field: "Query.old".into(),
                deprecated: true,
                deprecation_reason: Some("<b>gone</b>".into()),
            }],
            field: Some(FieldUsage {
                field: "Query.a".into(),
                requests: 1,
                users: vec![FieldUser {
                    client: "<script>x</script>".into(),
                    requests: 1,
                    ..FieldUser::default()
                }],
                ..FieldUsage::default()
            }),
            ..UsageReport::default()
        };
        let html = render(&report, "now");
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"), "{html}");
        assert!(html.contains("&lt;b&gt;gone&lt;/b&gt;"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("<code>Query.old</code>"), "{html}");
    }
}
