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
