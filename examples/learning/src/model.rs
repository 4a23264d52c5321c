//! The records the services keep in their stores (one kind each), and the
//! reads every service shares, so that the monolith and a new service
//! answer a migrating field from the same code and the same data.

use goliath_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

pub const USER: &str = "User";
pub const COURSE: &str = "Course";
pub const UNIT: &str = "Unit";
pub const EXERCISE: &str = "Exercise";
pub const CLASSROOM: &str = "Classroom";
pub const ASSIGNMENT: &str = "Assignment";
pub const PROGRESS: &str = "Progress";

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct UserRecord {
    pub id: String,
    pub name: String,
    /// `"STUDENT"` or `"TEACHER"`.
    pub role: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CourseRecord {
    pub id: String,
    pub title: String,
    pub description: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct UnitRecord {
    pub id: String,
    pub course_id: String,
    pub title: String,
    pub position: u32,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ExerciseRecord {
    pub id: String,
    pub unit_id: String,
    pub title: String,
    /// 1 (easy) to 5 (hard).
    pub difficulty: i32,
    pub position: u32,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ClassroomRecord {
    pub id: String,
    pub name: String,
    pub teacher_id: String,
    pub student_ids: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AssignmentRecord {
    pub id: String,
    pub classroom_id: String,
    pub exercise_id: String,
    /// An ISO date, `2026-09-14`.
    pub due: String,
}

/// A student's work on one exercise; keyed `"{student_id}:{exercise_id}"`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ProgressRecord {
    pub student_id: String,
    pub exercise_id: String,
    pub attempts: i32,
    pub correct: i32,
}

impl ProgressRecord {
    pub fn key(&self) -> String {
        format!("{}:{}", self.student_id, self.exercise_id)
    }
}

/// A store error as a GraphQL error.
pub fn gql(e: StoreError) -> async_graphql::Error {
    async_graphql::Error::new(e.to_string())
}

pub type Result<T> = std::result::Result<T, async_graphql::Error>;

pub async fn get<T: serde::de::DeserializeOwned>(
    store: &Store,
    kind: &str,
    id: &str,
) -> Result<Option<T>> {
    store.get_as(kind, id).await.map_err(gql)
}

pub async fn all<T: serde::de::DeserializeOwned>(store: &Store, kind: &str) -> Result<Vec<T>> {
    store.list_as(kind).await.map_err(gql)
}

/// The units of a course, in order.
pub async fn units_of(store: &Store, course_id: &str) -> Result<Vec<UnitRecord>> {
    let mut units: Vec<UnitRecord> = all(store, UNIT).await?;
    units.retain(|u| u.course_id == course_id);
    units.sort_by_key(|u| u.position);
    Ok(units)
}

/// The exercises of a unit, in order.
pub async fn exercises_of(store: &Store, unit_id: &str) -> Result<Vec<ExerciseRecord>> {
    let mut exercises: Vec<ExerciseRecord> = all(store, EXERCISE).await?;
    exercises.retain(|e| e.unit_id == unit_id);
    exercises.sort_by_key(|e| e.position);
    Ok(exercises)
}

/// A student's progress records, ordered by exercise id. The monolith and
/// the progress service both answer `User.progress` with this.
pub async fn progress_of(store: &Store, student_id: &str) -> Result<Vec<ProgressRecord>> {
    let mut records: Vec<ProgressRecord> = all(store, PROGRESS).await?;
    records.retain(|p| p.student_id == student_id);
    records.sort_by(|a, b| a.exercise_id.cmp(&b.exercise_id));
    Ok(records)
}

/// Every student's progress on one exercise, ordered by student id.
pub async fn progress_on(store: &Store, exercise_id: &str) -> Result<Vec<ProgressRecord>> {
    let mut records: Vec<ProgressRecord> = all(store, PROGRESS).await?;
    records.retain(|p| p.exercise_id == exercise_id);
    records.sort_by(|a, b| a.student_id.cmp(&b.student_id));
    Ok(records)
}

/// `User.lastSeen` as the monolith has always answered it, and the progress
/// service copies: the demo keeps no activity log, so a user is "last seen"
/// now, the moment the field is asked for (RFC 3339, UTC, to the
/// nanosecond). Two requests never get the same answer: the demo's field
/// that is nondeterministic on purpose, which the router's migration report
/// counts as noise.
pub fn last_seen() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(now.as_secs() as i64, now.subsec_nanos())
}

/// `secs` after 1970-01-01T00:00:00Z, plus `nanos`, as
/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
fn rfc3339(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    // Days to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(rfc3339(1_796_311_062, 5), "2026-12-03T15:17:42.000000005Z");
        assert_eq!(rfc3339(951_782_400, 0), "2000-02-29T00:00:00.000000000Z");
    }
}
