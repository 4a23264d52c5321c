//! The progress service: students' work on exercises and their mastery.
//!
//! - `User.progress` is being moved here from the monolith with goliath's
//!   `@migrate(from: "monolith", state: "side-by-side")`: the monolith still
//!   answers clients, and the router asks this service too, in the
//!   background, and compares the two answers student by student (the
//!   migration report, `GET /admin/migrations` on the router's admin
//!   listener). This service has a **planted bug** (deliberate, for the
//!   demo; see [`planted_bug`]): for a student whose id ends in an even
//!   digit (`s2` Grace, `s4` Katherine) it counts `correct` one too high, so
//!   the report shows mismatches at `progress.*.correct` for those students
//!   and matches for the others.
//! - `User.lastSeen` moves the same way. It is nondeterministic on purpose
//!   (the time of the request, to the nanosecond, here as in the monolith):
//!   the report counts its differences as noise, not mismatches.
//! - `Exercise.mastery` is new. It needs the exercise's `difficulty`, which
//!   the content service owns: `@requires(fields: "difficulty")` makes the
//!   router fetch it there first and hand it over in the `_entities`
//!   representation.
//!
//! async-graphql cannot write `@migrate`: the fields are listed in the
//! service's `migrations` and `learning::sdl` adds the directive (and the
//! link to its spec) to the SDL the service reports. The same goes for the
//! `@cacheControl` hints in `cache_hints`: `Exercise.mastery`, a class-wide
//! figure, may be kept 30 seconds; `User.progress` is one student's, never
//! shared (`scope: PRIVATE`).

use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, Schema, ID};
use learning::model::{self, *};
use learning::sdl::{CacheHint, Migrate};
use learning::serve::{run, Service};
use learning::Store;

fn store<'a>(ctx: &Context<'a>) -> &'a Store {
    ctx.data_unchecked::<Store>()
}

/// Correct answers a student needs to master an exercise of this difficulty.
fn correct_needed(difficulty: i32) -> i32 {
    2 * difficulty
}

struct Query;

#[Object]
impl Query {
    /// Students by correct answers, most first (then by id).
    async fn leaderboard(&self, ctx: &Context<'_>) -> Result<Vec<LeaderboardEntry>> {
        let records: Vec<ProgressRecord> = all(store(ctx), PROGRESS).await?;
        let mut by_student: std::collections::BTreeMap<String, i32> = Default::default();
        for p in records {
            *by_student.entry(p.student_id).or_default() += p.correct;
        }
        let mut entries: Vec<LeaderboardEntry> = by_student
            .into_iter()
            .map(|(student_id, correct)| LeaderboardEntry {
                student_id,
                correct,
            })
            .collect();
        entries.sort_by(|a, b| {
            b.correct
                .cmp(&a.correct)
                .then(a.student_id.cmp(&b.student_id))
        });
        Ok(entries)
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> User {
        User { id: id.0 }
    }

    #[graphql(entity)]
    async fn find_exercise_by_id(
        &self,
        #[graphql(key)] id: ID,
        difficulty: Option<i32>,
    ) -> Exercise {
        Exercise {
            id: id.0,
            difficulty,
        }
    }
}

struct LeaderboardEntry {
    student_id: String,
    correct: i32,
}

#[Object]
impl LeaderboardEntry {
    async fn student(&self) -> User {
        User {
            id: self.student_id.clone(),
        }
    }

    /// Correct answers, all exercises together.
    async fn correct(&self) -> i32 {
        self.correct
    }
}

struct User {
    id: String,
}

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }

    /// The student's work on each exercise they tried, by exercise id.
    // Moving here from the monolith (`@migrate`, side by side).
    async fn progress(&self, ctx: &Context<'_>) -> Result<Vec<ExerciseProgress>> {
        Ok(model::progress_of(store(ctx), &self.id)
            .await?
            .into_iter()
            .map(planted_bug)
            .map(ExerciseProgress)
            .collect())
    }

    /// When the user was last active (RFC 3339).
    // Now, to the nanosecond, as the monolith answers. Moving here from the
    // monolith (`@migrate`, side by side).
    async fn last_seen(&self) -> String {
        model::last_seen()
    }
}

/// The demo's planted bug, deliberate: the port of `User.progress` counts
/// one correct answer too many for a student whose id ends in an even digit
/// (`s2` Grace, `s4` Katherine); other students' progress is right. The
/// router's side-by-side comparison finds it: in the demo's report,
/// `User.progress` has mismatches at `[..., "progress", N, "correct"]` for
/// those students only (Grace, the second student of classroom `k1`:
/// `["classroom", "students", 1, "progress", 0, "correct"]`, monolith `2`,
/// progress service `3`).
fn planted_bug(mut record: ProgressRecord) -> ProgressRecord {
    let even = record
        .student_id
        .chars()
        .last()
        .and_then(|c| c.to_digit(10))
        .is_some_and(|d| d % 2 == 0);
    if even {
        record.correct += 1;
    }
    record
}

/// A student's work on one exercise.
struct ExerciseProgress(ProgressRecord);

#[Object(shareable)]
impl ExerciseProgress {
    async fn exercise(&self) -> Exercise {
        Exercise {
            id: self.0.exercise_id.clone(),
            difficulty: None,
        }
    }

    async fn attempts(&self) -> i32 {
        self.0.attempts
    }

    async fn correct(&self) -> i32 {
        self.0.correct
    }
}

struct Exercise {
    id: String,
    /// Sent by the router when `mastery` is asked for (`@requires`).
    difficulty: Option<i32>,
}

#[Object]
impl Exercise {
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }

    /// Owned by the content service.
    #[graphql(external)]
    async fn difficulty(&self) -> Result<i32> {
        self.difficulty
            .ok_or_else(|| "difficulty is resolved by the content service".into())
    }

    /// How the students are doing on this exercise.
    #[graphql(requires = "difficulty")]
    async fn mastery(&self, ctx: &Context<'_>) -> Result<Mastery> {
        let difficulty = self.difficulty.ok_or_else(|| {
            async_graphql::Error::new("mastery needs the exercise's difficulty (@requires)")
        })?;
        let needed = correct_needed(difficulty);
        let records = model::progress_on(store(ctx), &self.id).await?;
        Ok(Mastery {
            correct_needed: needed,
            students_attempted: records.len() as i32,
            mastered_by: records
                .into_iter()
                .filter(|p| p.correct >= needed)
                .map(|p| p.student_id)
                .collect(),
        })
    }
}

/// The class-wide mastery of an exercise.
struct Mastery {
    correct_needed: i32,
    students_attempted: i32,
    mastered_by: Vec<String>,
}

#[Object]
impl Mastery {
    /// Correct answers needed to master it (twice its difficulty).
    async fn correct_needed(&self) -> i32 {
        self.correct_needed
    }

    async fn students_attempted(&self) -> i32 {
        self.students_attempted
    }

    async fn students_mastered(&self) -> i32 {
        self.mastered_by.len() as i32
    }

    /// The students who mastered it, by id.
    async fn mastered_by(&self) -> Vec<User> {
        self.mastered_by
            .iter()
            .map(|id| User { id: id.clone() })
            .collect()
    }
}

/// The `@cacheControl` hints: a class-wide mastery figure may be kept 30
/// seconds; a student's progress is never shared.
const CACHE_HINTS: &[CacheHint] = &[
    CacheHint::on_field("Exercise", "mastery", 30),
    CacheHint::private_field("User", "progress"),
];

fn main() -> std::process::ExitCode {
    run(
        Service {
            name: "progress",
            default_port: 4003,
            kinds: &[PROGRESS],
            labels: &[],
            migrations: &[
                Migrate {
                    type_name: "User",
                    field: "progress",
                    from: "monolith",
                    state: "side-by-side",
                    percent: None,
                },
                Migrate {
                    type_name: "User",
                    field: "lastSeen",
                    from: "monolith",
                    state: "side-by-side",
                    percent: None,
                },
            ],
            cache_hints: CACHE_HINTS,
        },
        |store| {
            Schema::build(Query, EmptyMutation, EmptySubscription)
                .enable_federation()
                .data(store)
                .finish()
        },
    )
}
