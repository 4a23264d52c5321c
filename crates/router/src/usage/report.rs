//! The field usage report: over the last N days (UTC), the API schema's
//! fields nobody requested (with their `@deprecated` marks), the fields
//! with the most traffic, and for one field who still uses it.
//!
//! Built from the counters the flushes write (see the module's key layout
//! in `crate::usage`), summed over every router sharing the store.

use std::collections::BTreeMap;

use apollo_compiler::schema::ExtendedType;
use apollo_compiler::Schema;
use serde::{Deserialize, Serialize};

/// Days the report covers when the request does not say (`?days=`).
pub const DEFAULT_DAYS: u32 = 30;

/// The most days a report may cover.
pub const MAX_DAYS: u32 = 366;

/// Fields listed by traffic when the request does not say (`?top=`).
pub const DEFAULT_TOP: usize = 20;

/// What a report is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    /// The last `days` days, today included (1 to [`MAX_DAYS`]).
    pub days: u32,
    /// The field (`Type.field`) whose users are listed, if any.
    pub field: Option<String>,
    /// How many fields the traffic list has.
    pub top: usize,
}

impl Default for ReportQuery {
    fn default() -> Self {
        ReportQuery {
            days: DEFAULT_DAYS,
            field: None,
            top: DEFAULT_TOP,
        }
    }
}

/// The field usage report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageReport {
    /// The days covered.
    pub days: u32,
    /// The first day covered (`YYYY-MM-DD`, UTC).
    pub from: String,
    /// The last day covered (today, UTC).
    pub to: String,
    /// The API schema's fields (of object and interface types).
    pub schema_fields: usize,
    /// The period's field requests: each operation counts once for every
    /// field it selects.
    pub field_requests: u64,
    /// The API schema's fields no operation selected over the period,
    /// sorted.
    pub never_requested: Vec<UnusedField>,
    /// The fields with the most requests, most first.
    pub top: Vec<FieldTraffic>,
    /// Who used the field asked for (`?field=`).
    pub field: Option<FieldUsage>,
}

/// A field nobody requested.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnusedField {
    /// `Type.field`.
    pub field: String,
    /// Whether it is `@deprecated`.
    pub deprecated: bool,
    /// The deprecation's reason, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecation_reason: Option<String>,
}

/// A field's traffic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldTraffic {
    /// `Type.field`.
    pub field: String,
    /// Operations that selected it.
    pub requests: u64,
    /// Whether the API schema still has it.
    pub in_schema: bool,
    /// Whether it is `@deprecated`.
    pub deprecated: bool,
}

/// Who used one field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldUsage {
    /// `Type.field`.
    pub field: String,
    /// Operations that selected it.
    pub requests: u64,
    /// Whether the API schema has it.
    pub in_schema: bool,
    /// Whether it is `@deprecated`.
    pub deprecated: bool,
    /// By client, version and operation, most requests first.
    pub users: Vec<FieldUser>,
}

/// One client, version and operation that selected a field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldUser {
    /// `apollographql-client-name` (`unknown` when not sent).
    pub client: String,
    /// `apollographql-client-version` (empty when not sent).
    pub version: String,
    /// The operation's name (empty when anonymous).
    pub operation: String,
    /// Its requests.
    pub requests: u64,
}

/// A schema field: `Type.field`, and its deprecation (`Some(reason)`,
/// the reason possibly empty).
pub type SchemaField = (String, Option<String>);

/// Every field of the object and interface types of `schema` (no
/// introspection types), sorted.
pub fn schema_fields(schema: &Schema) -> Vec<SchemaField> {
    let mut fields = vec![];
    for (name, ty) in &schema.types {
        if name.starts_with("__") || ty.is_built_in() {
            continue;
        }
        let defs = match ty {
            ExtendedType::Object(o) => &o.fields,
            ExtendedType::Interface(i) => &i.fields,
            _ => continue,
        };
        for (field, def) in defs {
            let deprecated = def.directives.get("deprecated").map(|d| {
                d.specified_argument_by_name("reason")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_owned()
            });
            fields.push((format!("{name}.{field}"), deprecated));
        }
    }
    fields.sort();
    fields
}

/// What the store holds for the period: requests by field, and by counter
/// name (`client␟version␟operation`) for the field asked for.
#[derive(Debug, Default)]
pub struct Counts {
    /// Requests by `Type.field`.
    pub by_field: BTreeMap<String, u64>,
    /// The asked-for field's requests by counter name.
    pub users: BTreeMap<String, u64>,
}

/// The report for `query` from the schema's fields and the stored counts.
pub fn build(
    query: &ReportQuery,
    days: &[String],
    fields: &[SchemaField],
    counts: &Counts,
) -> UsageReport {
    let deprecation: BTreeMap<&str, &Option<String>> =
        fields.iter().map(|(f, d)| (f.as_str(), d)).collect();
    let never_requested = fields
        .iter()
        .filter(|(f, _)| counts.by_field.get(f).copied().unwrap_or(0) == 0)
        .map(|(f, d)| UnusedField {
            field: f.clone(),
            deprecated: d.is_some(),
            deprecation_reason: d.clone().filter(|r| !r.is_empty()),
        })
        .collect();
    let mut top: Vec<FieldTraffic> = counts
        .by_field
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(f, n)| FieldTraffic {
            field: f.clone(),
            requests: *n,
            in_schema: deprecation.contains_key(f.as_str()),
            deprecated: deprecation.get(f.as_str()).is_some_and(|d| d.is_some()),
        })
        .collect();
    top.sort_by(|a, b| b.requests.cmp(&a.requests).then(a.field.cmp(&b.field)));
    top.truncate(query.top);
    let field = query.field.as_ref().map(|f| {
        let mut users: Vec<FieldUser> = counts
            .users
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(name, n)| {
                let mut parts = name.splitn(3, super::SEPARATOR);
                FieldUser {
                    client: parts.next().unwrap_or_default().to_owned(),
                    version: parts.next().unwrap_or_default().to_owned(),
                    operation: parts.next().unwrap_or_default().to_owned(),
                    requests: *n,
                }
            })
            .collect();
        users.sort_by(|a, b| {
            b.requests.cmp(&a.requests).then_with(|| {
                (&a.client, &a.version, &a.operation).cmp(&(&b.client, &b.version, &b.operation))
            })
        });
        FieldUsage {
            field: f.clone(),
            requests: counts.by_field.get(f).copied().unwrap_or(0),
            in_schema: deprecation.contains_key(f.as_str()),
            deprecated: deprecation.get(f.as_str()).is_some_and(|d| d.is_some()),
            users,
        }
    });
    UsageReport {
        days: query.days,
        from: days.last().cloned().unwrap_or_default(),
        to: days.first().cloned().unwrap_or_default(),
        schema_fields: fields.len(),
        field_requests: counts.by_field.values().sum(),
        never_requested,
        top,
        field,
    }
}

/// The `days` dates (`YYYY-MM-DD`, UTC) ending with the one of `now_secs`,
/// newest first.
pub fn dates(now_secs: u64, days: u32) -> Vec<String> {
    (0..u64::from(days.max(1)))
        .filter_map(|i| now_secs.checked_sub(i * 86_400))
        .map(date)
        .collect()
}

/// The UTC date of `secs` since the epoch, `YYYY-MM-DD`.
pub fn date(secs: u64) -> String {
    crate::migrations::record::rfc3339(secs)[..10].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_back_from_today() {
        // 2024-03-01T12:00:00Z
        let now = 1_709_294_400;
        assert_eq!(dates(now, 3), ["2024-03-01", "2024-02-29", "2024-02-28"]);
        assert_eq!(dates(now, 0), ["2024-03-01"]);
    }

    #[test]
    fn the_report_lists_unused_fields_traffic_and_users() {
        let fields = vec![
            ("Query.a".to_owned(), None),
            ("Query.b".to_owned(), Some("use a".to_owned())),
            ("Query.c".to_owned(), Some(String::new())),
        ];
        let mut counts = Counts::default();
        counts.by_field.insert("Query.a".into(), 5);
        counts.by_field.insert("Query.gone".into(), 7);
        counts.users.insert("web\u{1f}1.0\u{1f}A".into(), 2);
        counts.users.insert("ios\u{1f}\u{1f}".into(), 3);
        let query = ReportQuery {
            field: Some("Query.a".into()),
            ..ReportQuery::default()
        };
        let days = dates(1_709_294_400, 2);
        let r = build(&query, &days, &fields, &counts);
        assert_eq!(
            (r.from.as_str(), r.to.as_str()),
            ("2024-02-29", "2024-03-01")
        );
        let unused: Vec<(&str, bool)> = r
            .never_requested
            .iter()
            .map(|u| (u.field.as_str(), u.deprecated))
            .collect();
        assert_eq!(unused, [("Query.b", true), ("Query.c", true)]);
        assert_eq!(
            r.never_requested[0].deprecation_reason.as_deref(),
            Some("use a")
        );
        assert_eq!(r.top[0].field, "Query.gone");
        assert!(!r.top[0].in_schema);
        let f = r.field.unwrap();
        assert_eq!(f.requests, 5);
        assert_eq!(
            (
                f.users[0].client.as_str(),
                f.users[0].version.as_str(),
                f.users[0].operation.as_str(),
                f.users[0].requests
            ),
            ("ios", "", "", 3)
        );
        assert_eq!(f.users[1].operation, "A");
    }
}
