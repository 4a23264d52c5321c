//! The migrations page (`GET /admin/migrations.html`): the report rendered
//! on the server, no JavaScript, refreshed by the browser every 5 seconds.
//!
//! Every value that comes from the report (field names, subgraph names,
//! paths, the subgraphs' values, operation names, reasons) goes through
//! [`escape`]; the page is also served with a content security policy that
//! allows nothing but its inline style.

use std::fmt::Write;

use serde_json::Value;

use crate::migrations::report::{Event, FieldReport, Report, Sample};

/// The longest value shown in a sample, in characters; longer ones are cut.
const MAX_VALUE_CHARS: usize = 300;

/// Samples shown per field, newest first.
const SAMPLES_SHOWN: usize = 10;

/// Events shown per field, newest first.
const EVENTS_SHOWN: usize = 20;

const STYLE: &str = "
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #1d1f21; background: #fafafa; margin: 2em; }
h1 { font-size: 1.5em; margin: 0 0 .2em; }
h2 { font-size: 1.2em; margin: 0 0 .5em; }
h3 { font-size: 1em; margin: 1em 0 .3em; }
.muted { color: #666; }
table { border-collapse: collapse; background: #fff; margin: .3em 0 1em; }
th, td { border: 1px solid #ddd; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
code, .v { font-family: ui-monospace, 'SFMono-Regular', Menlo, monospace; font-size: .92em; }
.v { white-space: pre-wrap; word-break: break-all; max-width: 32em; }
section { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 1em 1.2em; margin: 1.2em 0; }
.state { display: inline-block; padding: .05em .5em; border-radius: 4px; background: #e8eaf6; }
.ready { color: #fff; background: #2e7d32; padding: .1em .5em; border-radius: 4px; font-weight: 600; }
.notready { color: #8a4b00; background: #fff3e0; padding: .1em .5em; border-radius: 4px; }
.bad { color: #b71c1c; font-weight: 600; }
";

/// The page for `report`, generated at `now` (an RFC 3339 time).
pub fn render(report: &Report, now: &str) -> String {
    let mut html = String::with_capacity(8 * 1024);
    html.push_str(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"refresh\" content=\"5\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>goliath · field migrations</title>\n<style>",
    );
    html.push_str(STYLE);
    html.push_str("</style>\n</head>\n<body>\n<h1>Field migrations</h1>\n");
    let _ = writeln!(
        html,
        "<p class=\"muted\">{} migrating field{} · {} · refreshes every 5 s · JSON: <code>GET /admin/migrations</code></p>",
        report.fields.len(),
        if report.fields.len() == 1 { "" } else { "s" },
        escape(now)
    );
    if report.fields.is_empty() {
        html.push_str(
            "<p>No migrating fields: give a field a state under <code>migrations:</code> \
             in the config, or mark it with <code>@migrate</code> in its new subgraph.</p>\n",
        );
    } else {
        summary(&mut html, &report.fields);
        for f in &report.fields {
            field_section(&mut html, f);
        }
    }
    html.push_str("</body>\n</html>\n");
    html
}

/// The table with one row per field.
fn summary(html: &mut String, fields: &[FieldReport]) {
    html.push_str(
        "<table>\n<tr><th>field</th><th>from → to</th><th>state</th><th>traffic on new</th>\
         <th>compared</th><th>matched</th><th>mismatched</th><th>noise</th>\
         <th>errors old</th><th>errors new</th><th>dropped</th>\
         <th>old p50 / p99</th><th>new p50 / p99</th><th>ready</th></tr>\n",
    );
    for f in fields {
        let _ = writeln!(
            html,
            "<tr><td><a href=\"#{id}\"><code>{field}</code></a></td><td>{from} → {to}</td>\
             <td><span class=\"state\">{state}</span></td><td>{traffic}</td>\
             <td class=\"n\">{compared}</td><td class=\"n\">{matched}</td>\
             <td class=\"n{mis_class}\">{mismatched}</td><td class=\"n\">{noise}</td>\
             <td class=\"n\">{errors_old}</td><td class=\"n\">{errors_new}</td><td class=\"n\">{dropped}</td>\
             <td class=\"n\">{old_lat}</td><td class=\"n\">{new_lat}</td><td>{ready}</td></tr>",
            id = escape(&anchor(&f.field)),
            field = escape(&f.field),
            from = escape(&f.from),
            to = escape(&f.to),
            state = escape(&state_text(f)),
            traffic = escape(&traffic(f)),
            compared = f.compared,
            matched = f.matched,
            mis_class = if f.mismatched > 0 { " bad" } else { "" },
            mismatched = f.mismatched,
            noise = f.noise,
            errors_old = f.errors_old,
            errors_new = f.errors_new,
            dropped = f.dropped,
            old_lat = escape(&latency(f.latency_ms.old.p50, f.latency_ms.old.p99)),
            new_lat = escape(&latency(f.latency_ms.new.p50, f.latency_ms.new.p99)),
            ready = if f.ready {
                "<span class=\"ready\">ready</span>"
            } else {
                "<span class=\"notready\">not yet</span>"
            },
        );
    }
    html.push_str("</table>\n");
}

/// One field's details: readiness, noise, samples, events.
fn field_section(html: &mut String, f: &FieldReport) {
    let _ = writeln!(
        html,
        "<section id=\"{}\">\n<h2><code>{}</code> <span class=\"state\">{}</span></h2>",
        escape(&anchor(&f.field)),
        escape(&f.field),
        escape(&state_text(f)),
    );
    let source = if f.source.is_empty() {
        String::new()
    } else {
        format!(" (state set by {})", escape(&f.source))
    };
    let _ = writeln!(
        html,
        "<p>{} → {}{source} · traffic on the new side: {} (served new {}, served old {})</p>",
        escape(&f.from),
        escape(&f.to),
        escape(&traffic(f)),
        f.served_new,
        f.served_old,
    );
    if f.ready {
        let _ = writeln!(
            html,
            "<p><span class=\"ready\">✔ ready to advance</span> {} comparisons (needs {}), no mismatch</p>",
            f.compared, f.ready_after
        );
    } else {
        let why = if f.mismatched > 0 {
            format!(
                "{} mismatch{}",
                f.mismatched,
                if f.mismatched == 1 { "" } else { "es" }
            )
        } else {
            format!("{} of {} comparisons", f.compared, f.ready_after)
        };
        let _ = writeln!(
            html,
            "<p><span class=\"notready\">not ready to advance</span> {} (ready after {} comparisons with no mismatch)</p>",
            escape(&why),
            f.ready_after
        );
    }
    if !f.noisy_paths.is_empty() {
        html.push_str("<h3>Noisy paths (nondeterministic on the old side, not counted as mismatches)</h3>\n<p>");
        for (i, p) in f.noisy_paths.iter().enumerate() {
            if i > 0 {
                html.push_str(", ");
            }
            let shown = if p.is_empty() {
                "(the field itself)"
            } else {
                p
            };
            let _ = write!(html, "<code>{}</code>", escape(shown));
        }
        html.push_str("</p>\n");
    }
    samples(html, &f.samples);
    events(html, &f.events);
    html.push_str("</section>\n");
}

/// The latest sample differences, newest first.
fn samples(html: &mut String, samples: &[Sample]) {
    if samples.is_empty() {
        html.push_str("<h3>Latest differences</h3>\n<p class=\"muted\">none recorded</p>\n");
        return;
    }
    let _ = writeln!(
        html,
        "<h3>Latest differences ({} of {} kept, newest first)</h3>",
        samples.len().min(SAMPLES_SHOWN),
        samples.len()
    );
    html.push_str(
        "<table>\n<tr><th>path</th><th>old</th><th>new</th><th>kind</th><th>operation</th><th>at</th></tr>\n",
    );
    for s in samples.iter().rev().take(SAMPLES_SHOWN) {
        let _ = writeln!(
            html,
            "<tr><td><code>{}</code></td><td class=\"v\">{}</td><td class=\"v\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&join_path(&s.path)),
            escape(&value_text(&s.old)),
            escape(&value_text(&s.new)),
            escape(&s.kind),
            escape(s.operation.as_deref().unwrap_or("(anonymous)")),
            escape(&s.at),
        );
    }
    html.push_str("</table>\n");
}

/// Steps, rollbacks and operator changes, newest first.
fn events(html: &mut String, events: &[Event]) {
    if events.is_empty() {
        return;
    }
    html.push_str(
        "<h3>Events (newest first)</h3>\n<table>\n<tr><th>at</th><th>from</th><th>to</th><th>reason</th></tr>\n",
    );
    for e in events.iter().rev().take(EVENTS_SHOWN) {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&e.at),
            escape(&state_with_percent(&e.from_state, e.from_percent)),
            escape(&state_with_percent(&e.to_state, e.to_percent)),
            escape(&e.reason),
        );
    }
    html.push_str("</table>\n");
}

/// A response path as text: keys and list indices joined with dots
/// (`user.progress.0.correct`).
pub fn join_path(path: &[Value]) -> String {
    let parts: Vec<String> = path
        .iter()
        .map(|p| match p {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    parts.join(".")
}

/// `canary 5%`, `side-by-side`, …
pub fn state_with_percent(state: &str, percent: Option<f64>) -> String {
    match percent {
        Some(p) if state == "canary" => format!("canary {p}%"),
        _ => state.to_owned(),
    }
}

fn state_text(f: &FieldReport) -> String {
    state_with_percent(&f.state, f.percent)
}

/// The share of requests the new side served, with the counts.
fn traffic(f: &FieldReport) -> String {
    let total = f.served_new + f.served_old;
    if total == 0 {
        return "no requests yet".to_owned();
    }
    let share = f.served_new as f64 * 100.0 / total as f64;
    format!("{share:.1}% ({} of {total})", f.served_new)
}

fn latency(p50: f64, p99: f64) -> String {
    format!("{p50:.1} / {p99:.1} ms")
}

/// A value as JSON text, cut at [`MAX_VALUE_CHARS`].
fn value_text(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() <= MAX_VALUE_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(MAX_VALUE_CHARS).collect();
    cut.push('…');
    cut
}

/// An element id for a field (`Type.field` is already safe; anything else
/// is replaced).
fn anchor(field: &str) -> String {
    field
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// `text` with the characters HTML gives a meaning to escaped, for element
/// content and quoted attribute values alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrations::report::{Latencies, Percentiles};
    use serde_json::json;

    const EVIL: &str = "<script>alert('x')</script>";

    fn report() -> Report {
        Report {
            fields: vec![FieldReport {
                field: "User.progress".into(),
                from: "monolith".into(),
                to: "progress<b>".into(),
                state: "canary".into(),
                percent: Some(5.0),
                source: "admin".into(),
                compared: 120,
                matched: 117,
                mismatched: 2,
                noise: 1,
                errors_old: 0,
                errors_new: 1,
                dropped: 3,
                served_new: 6,
                served_old: 114,
                latency_ms: Latencies {
                    old: Percentiles { p50: 1.3, p99: 9.5 },
                    new: Percentiles {
                        p50: 2.0,
                        p99: 12.0,
                    },
                },
                ready: false,
                ready_after: 1000,
                noisy_paths: vec!["*.computedAt".into(), EVIL.into()],
                samples: vec![
                    Sample {
                        path: vec![json!("user"), json!("progress"), json!(0), json!("correct")],
                        old: json!(3),
                        new: json!(4),
                        kind: "value".into(),
                        operation: Some("Progress".into()),
                        at: "2025-01-01T00:00:00Z".into(),
                    },
                    Sample {
                        path: vec![json!("user"), json!(EVIL)],
                        old: json!(EVIL),
                        new: json!({ "k": EVIL }),
                        kind: "value".into(),
                        operation: Some(EVIL.into()),
                        at: "2025-01-01T00:00:01Z".into(),
                    },
                ],
                events: vec![Event {
                    at: "2025-01-01T00:00:02Z".into(),
                    from_state: "side-by-side".into(),
                    from_percent: None,
                    to_state: "canary".into(),
                    to_percent: Some(5.0),
                    reason: EVIL.into(),
                }],
            }],
        }
    }

    #[test]
    fn the_page_shows_the_figures_samples_and_events() {
        let html = render(&report(), "2025-01-01T00:00:03Z");
        for needle in [
            "User.progress",
            "monolith → progress&lt;b&gt;",
            "canary 5%",
            "5.0% (6 of 120)",
            "<td class=\"n bad\">2</td>",
            "1.3 / 9.5 ms",
            "2.0 / 12.0 ms",
            "not ready to advance",
            "ready after 1000 comparisons",
            "<code>*.computedAt</code>",
            "<code>user.progress.0.correct</code>",
            "<td class=\"v\">3</td><td class=\"v\">4</td>",
            "Progress",
            "side-by-side",
            "<meta http-equiv=\"refresh\" content=\"5\">",
        ] {
            assert!(html.contains(needle), "{needle} missing from:\n{html}");
        }
        // Newest sample first.
        assert!(html.find("user.&lt;script&gt;").unwrap() < html.find("user.progress.0").unwrap());
    }

    #[test]
    fn every_value_is_escaped() {
        let html = render(&report(), EVIL);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        // A JSON string value keeps its quotes, escaped.
        assert!(html.contains("&quot;&lt;script&gt;"));
    }

    #[test]
    fn a_ready_field_says_so() {
        let mut r = report();
        r.fields[0].ready = true;
        let html = render(&r, "now");
        assert!(html.contains("✔ ready to advance"));
        assert!(render(&Report::default(), "now").contains("No migrating fields"));
    }

    #[test]
    fn long_values_are_cut() {
        let long = "x".repeat(1000);
        let text = value_text(&json!(long));
        assert_eq!(text.chars().count(), MAX_VALUE_CHARS + 1);
        assert!(text.ends_with('…'));
    }

    #[test]
    fn paths_join_with_dots() {
        assert_eq!(join_path(&[json!("a"), json!(2), json!("b")]), "a.2.b");
        assert_eq!(join_path(&[]), "");
    }
}
