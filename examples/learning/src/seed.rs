//! The demo data. Every service seeds the kinds it serves from this one list
//! on its first start, so the monolith and the new services hold the same
//! records and answer a migrating field alike.

use goliath_store::{Store, StoreError};
use serde::Serialize;
use serde_json::Value;

use crate::model::*;

fn user(id: &str, name: &str, role: &str) -> UserRecord {
    UserRecord {
        id: id.into(),
        name: name.into(),
        role: role.into(),
    }
}

fn course(id: &str, title: &str, description: &str) -> CourseRecord {
    CourseRecord {
        id: id.into(),
        title: title.into(),
        description: description.into(),
    }
}

fn unit(id: &str, course_id: &str, position: u32, title: &str) -> UnitRecord {
    UnitRecord {
        id: id.into(),
        course_id: course_id.into(),
        title: title.into(),
        position,
    }
}

fn exercise(
    id: &str,
    unit_id: &str,
    position: u32,
    title: &str,
    difficulty: i32,
) -> ExerciseRecord {
    ExerciseRecord {
        id: id.into(),
        unit_id: unit_id.into(),
        title: title.into(),
        difficulty,
        position,
    }
}

fn classroom(id: &str, name: &str, teacher_id: &str, student_ids: &[&str]) -> ClassroomRecord {
    ClassroomRecord {
        id: id.into(),
        name: name.into(),
        teacher_id: teacher_id.into(),
        student_ids: student_ids.iter().map(|s| s.to_string()).collect(),
    }
}

fn assignment(id: &str, classroom_id: &str, exercise_id: &str, due: &str) -> AssignmentRecord {
    AssignmentRecord {
        id: id.into(),
        classroom_id: classroom_id.into(),
        exercise_id: exercise_id.into(),
        due: due.into(),
    }
}

fn progress(student_id: &str, exercise_id: &str, attempts: i32, correct: i32) -> ProgressRecord {
    ProgressRecord {
        student_id: student_id.into(),
        exercise_id: exercise_id.into(),
        attempts,
        correct,
    }
}

fn rows<T: Serialize>(
    kind: &str,
    items: Vec<T>,
    key: impl Fn(&T) -> String,
) -> Vec<(String, String, Value)> {
    items
        .into_iter()
        .map(|item| {
            let k = key(&item);
            (
                kind.to_owned(),
                k,
                serde_json::to_value(item).expect("demo records serialize"),
            )
        })
        .collect()
}

/// Every demo record as (kind, key, value).
pub fn records() -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    out.extend(rows(
        USER,
        vec![
            user("t1", "Ms. Rivera", "TEACHER"),
            user("t2", "Mr. Okafor", "TEACHER"),
            user("s1", "Ada", "STUDENT"),
            user("s2", "Grace", "STUDENT"),
            user("s3", "Alan", "STUDENT"),
            user("s4", "Katherine", "STUDENT"),
        ],
        |u| u.id.clone(),
    ));
    out.extend(rows(
        COURSE,
        vec![
            course(
                "c1",
                "Algebra basics",
                "Equations, inequalities and lines, step by step.",
            ),
            course(
                "c2",
                "Intro to computer science",
                "Algorithms and how to reason about them.",
            ),
        ],
        |c| c.id.clone(),
    ));
    out.extend(rows(
        UNIT,
        vec![
            unit("u1", "c1", 1, "Linear equations"),
            unit("u2", "c1", 2, "Graphing lines"),
            unit("u3", "c2", 1, "Algorithms"),
        ],
        |u| u.id.clone(),
    ));
    out.extend(rows(
        EXERCISE,
        vec![
            exercise("e1", "u1", 1, "One-step equations", 1),
            exercise("e2", "u1", 2, "Two-step equations", 2),
            exercise("e3", "u2", 1, "Slope", 2),
            exercise("e4", "u2", 2, "Slope-intercept form", 3),
            exercise("e5", "u3", 1, "Binary search", 3),
            exercise("e6", "u3", 2, "Sorting", 4),
        ],
        |e| e.id.clone(),
    ));
    out.extend(rows(
        CLASSROOM,
        vec![
            classroom("k1", "Period 1 Algebra", "t1", &["s1", "s2", "s3"]),
            classroom("k2", "CS club", "t2", &["s2", "s4"]),
        ],
        |c| c.id.clone(),
    ));
    out.extend(rows(
        ASSIGNMENT,
        vec![
            assignment("a1", "k1", "e1", "2026-09-14"),
            assignment("a2", "k1", "e3", "2026-09-21"),
            assignment("a3", "k2", "e5", "2026-09-18"),
        ],
        |a| a.id.clone(),
    ));
    out.extend(rows(
        PROGRESS,
        vec![
            progress("s1", "e1", 5, 5),
            progress("s1", "e2", 4, 2),
            progress("s1", "e3", 6, 4),
            progress("s2", "e1", 3, 2),
            progress("s2", "e5", 9, 6),
            progress("s3", "e1", 2, 1),
            progress("s3", "e3", 3, 1),
            progress("s4", "e5", 8, 7),
            progress("s4", "e6", 4, 1),
        ],
        |p| p.key(),
    ));
    out
}

/// Writes the demo records of `kinds` into `store` in one transaction, the
/// first time `service` starts on it; later starts keep what is there.
/// Returns whether it seeded.
pub async fn seed(
    store: &Store,
    service: &str,
    kinds: &[&str],
) -> std::result::Result<bool, StoreError> {
    let marker = format!("seeded:{service}");
    if store.get("_meta", &marker).await?.is_some() {
        return Ok(false);
    }
    let mut batch: Vec<_> = records()
        .into_iter()
        .filter(|(kind, _, _)| kinds.contains(&kind.as_str()))
        .collect();
    batch.push(("_meta".into(), marker, Value::Bool(true)));
    store.put_many(batch).await?;
    Ok(true)
}
