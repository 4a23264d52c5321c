//! `GET /admin/usage` and `GET /admin/usage.html`: the field usage report
//! (`crate::usage::report`) as JSON and as a page. Parameters: `days`
//! (1–366, default 30), `field` (`Type.field`: who uses it), `top` (how
//! many fields by traffic, default 20, at most 1000).

use std::future::Future;
use std::pin::Pin;

use http::StatusCode;

use super::{bad_request, error, html_page, json_response, Admin, Call, HttpResponse};
use crate::usage::report::{self, ReportQuery, UsageReport};

/// The most fields the traffic list may ask for.
const MAX_TOP: usize = 1000;

/// `GET /admin/usage`: the report as JSON.
pub(super) fn json(
    admin: &Admin,
    call: Call,
) -> Pin<Box<dyn Future<Output = HttpResponse> + Send + '_>> {
    Box::pin(async move {
        match usage_report(admin, &call.query).await {
            Ok(report) => json_response(StatusCode::OK, &report),
            Err(response) => response,
        }
    })
}

/// `GET /admin/usage.html`: the report as a page.
pub(super) fn html(
    admin: &Admin,
    call: Call,
) -> Pin<Box<dyn Future<Output = HttpResponse> + Send + '_>> {
    Box::pin(async move {
        let report = match usage_report(admin, &call.query).await {
            Ok(report) => report,
            Err(response) => return response,
        };
        html_page(crate::usage::page::render(
            &report,
            &crate::migrations::record::now_rfc3339(),
        ))
    })
}

/// Reads `days`, `field` and `top` from a query string.
fn parse_query(query: &str) -> Result<ReportQuery, String> {
    let mut q = ReportQuery::default();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match &*k {
            "days" => {
                q.days = v
                    .parse()
                    .ok()
                    .filter(|d| (1..=report::MAX_DAYS).contains(d))
                    .ok_or_else(|| {
                        format!(
                            "days: `{v}` is not a number of days from 1 to {}",
                            report::MAX_DAYS
                        )
                    })?;
            }
            "top" => {
                q.top = v
                    .parse()
                    .ok()
                    .filter(|t| *t <= MAX_TOP)
                    .ok_or_else(|| format!("top: `{v}` is not a number from 0 to {MAX_TOP}"))?;
            }
            "field" if !v.is_empty() => {
                if v.len() > 256 || !v.contains('.') {
                    return Err(format!(
                        "field: `{v}` is not a coordinate such as User.name"
                    ));
                }
                q.field = Some(v.into_owned());
            }
            _ => {}
        }
    }
    Ok(q)
}

/// The report the query string asks for, or the response saying why not.
async fn usage_report(admin: &Admin, query: &str) -> Result<UsageReport, HttpResponse> {
    let Some(usage) = &admin.usage else {
        return Err(error(
            StatusCode::NOT_FOUND,
            "field usage is not served by this admin listener",
            "NOT_FOUND",
        ));
    };
    let query = parse_query(query).map_err(|e| bad_request(&e))?;
    usage.report(&query).await.map_err(|e| {
        tracing::error!("admin: cannot read the field usage report: {e}");
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("cannot read the field usage report: {e}"),
            "INTERNAL_SERVER_ERROR",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_read_and_checked() {
        assert_eq!(parse_query("").unwrap(), ReportQuery::default());
        let q = parse_query("days=7&field=User.name&top=3&token=x").unwrap();
        assert_eq!(
            q,
            ReportQuery {
                days: 7,
                field: Some("User.name".into()),
                top: 3
            }
        );
        assert!(parse_query("days=0").is_err());
        assert!(parse_query("days=abc").is_err());
        assert!(parse_query("top=5000").is_err());
        assert!(parse_query("field=User").is_err());
    }
}
