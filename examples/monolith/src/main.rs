//! The legacy monolith: it serves all of the learning platform, as the old
//! Python service did. The new services (`content`, `progress`) take its
//! fields over one by one, with `@override(from: "monolith")` or, step by
//! step with the router comparing both answers, goliath's
//! `@migrate(from: "monolith", ...)`; the monolith itself does not change,
//! except that the value types it shares with them (`ExerciseProgress`) are
//! marked `@shareable`. `User.lastSeen` is nondeterministic on purpose
//! (see [`model::last_seen`]).

use async_graphql::{Context, EmptyMutation, EmptySubscription, Enum, Object, Schema, ID};
use learning::model::{self, *};
use learning::serve::{run, Service};
use learning::Store;

fn store<'a>(ctx: &Context<'a>) -> &'a Store {
    ctx.data_unchecked::<Store>()
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
enum Role {
    Student,
    Teacher,
}

struct Query;

#[Object]
impl Query {
    /// A user by id.
    async fn user(&self, ctx: &Context<'_>, id: ID) -> Result<Option<User>> {
        Ok(get(store(ctx), USER, &id).await?.map(User))
    }

    /// Every user.
    async fn users(&self, ctx: &Context<'_>) -> Result<Vec<User>> {
        Ok(all(store(ctx), USER).await?.into_iter().map(User).collect())
    }

    /// A classroom by id.
    async fn classroom(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Classroom>> {
        Ok(get(store(ctx), CLASSROOM, &id).await?.map(Classroom))
    }

    /// Every classroom.
    async fn classrooms(&self, ctx: &Context<'_>) -> Result<Vec<Classroom>> {
        Ok(all(store(ctx), CLASSROOM)
            .await?
            .into_iter()
            .map(Classroom)
            .collect())
    }

    /// A course by id.
    async fn course(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Course>> {
        Ok(get(store(ctx), COURSE, &id).await?.map(Course))
    }

    /// Every course.
    async fn courses(&self, ctx: &Context<'_>) -> Result<Vec<Course>> {
        Ok(all(store(ctx), COURSE)
            .await?
            .into_iter()
            .map(Course)
            .collect())
    }

    /// An exercise by id.
    async fn exercise(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Exercise>> {
        Ok(get(store(ctx), EXERCISE, &id).await?.map(Exercise))
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<User>> {
        self.user(ctx, id).await
    }

    #[graphql(entity)]
    async fn find_classroom_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Classroom>> {
        self.classroom(ctx, id).await
    }

    #[graphql(entity)]
    async fn find_course_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Course>> {
        self.course(ctx, id).await
    }

    #[graphql(entity)]
    async fn find_unit_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Unit>> {
        Ok(get(store(ctx), UNIT, &id).await?.map(Unit))
    }

    #[graphql(entity)]
    async fn find_exercise_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Exercise>> {
        self.exercise(ctx, id).await
    }
}

/// A student or a teacher.
struct User(UserRecord);

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The user's school email: for teachers only (the supergraph's
    /// `@requiresScopes(scopes: [["teacher"]])`; the router answers `null`
    /// and an `UNAUTHORIZED_FIELD_OR_TYPE` error to a request without a
    /// teacher's token, and never asks this service for it).
    #[graphql(requires_scopes = "teacher")]
    async fn email(&self) -> Option<String> {
        Some(format!("{}@school.example", self.0.id))
    }

    async fn role(&self) -> Role {
        if self.0.role == "TEACHER" {
            Role::Teacher
        } else {
            Role::Student
        }
    }

    /// The classrooms a teacher teaches, or a student is enrolled in.
    async fn classrooms(&self, ctx: &Context<'_>) -> Result<Vec<Classroom>> {
        let id = &self.0.id;
        let mut rooms: Vec<ClassroomRecord> = all(store(ctx), CLASSROOM).await?;
        rooms.retain(|c| &c.teacher_id == id || c.student_ids.contains(id));
        Ok(rooms.into_iter().map(Classroom).collect())
    }

    /// The student's work on each exercise they tried, by exercise id.
    // Moving to the `progress` service, side by side: this answer is the
    // one clients get, the router compares the progress service's with it.
    async fn progress(&self, ctx: &Context<'_>) -> Result<Vec<ExerciseProgress>> {
        Ok(model::progress_of(store(ctx), &self.0.id)
            .await?
            .into_iter()
            .map(ExerciseProgress)
            .collect())
    }

    /// When the user was last active (RFC 3339).
    // Now, to the nanosecond (there is no activity log), so no two answers
    // are the same. Moving to the `progress` service side by side; the
    // router's comparison counts its differences as noise.
    async fn last_seen(&self) -> String {
        model::last_seen()
    }
}

/// A student's work on one exercise.
struct ExerciseProgress(ProgressRecord);

#[Object(shareable)]
impl ExerciseProgress {
    async fn exercise(&self, ctx: &Context<'_>) -> Result<Exercise> {
        get(store(ctx), EXERCISE, &self.0.exercise_id)
            .await?
            .map(Exercise)
            .ok_or_else(|| format!("no exercise {}", self.0.exercise_id).into())
    }

    async fn attempts(&self) -> i32 {
        self.0.attempts
    }

    async fn correct(&self) -> i32 {
        self.0.correct
    }
}

struct Classroom(ClassroomRecord);

#[Object]
impl Classroom {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn teacher(&self, ctx: &Context<'_>) -> Result<User> {
        get(store(ctx), USER, &self.0.teacher_id)
            .await?
            .map(User)
            .ok_or_else(|| format!("no user {}", self.0.teacher_id).into())
    }

    async fn students(&self, ctx: &Context<'_>) -> Result<Vec<User>> {
        let mut out = Vec::new();
        for id in &self.0.student_ids {
            if let Some(u) = get(store(ctx), USER, id).await? {
                out.push(User(u));
            }
        }
        Ok(out)
    }

    /// The exercises assigned to the class, by due date.
    async fn assignments(&self, ctx: &Context<'_>) -> Result<Vec<Assignment>> {
        let mut list: Vec<AssignmentRecord> = all(store(ctx), ASSIGNMENT).await?;
        list.retain(|a| a.classroom_id == self.0.id);
        list.sort_by(|a, b| a.due.cmp(&b.due).then(a.id.cmp(&b.id)));
        Ok(list.into_iter().map(Assignment).collect())
    }
}

struct Assignment(AssignmentRecord);

#[Object]
impl Assignment {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// `YYYY-MM-DD`.
    async fn due_date(&self) -> &str {
        &self.0.due
    }

    async fn exercise(&self, ctx: &Context<'_>) -> Result<Exercise> {
        get(store(ctx), EXERCISE, &self.0.exercise_id)
            .await?
            .map(Exercise)
            .ok_or_else(|| format!("no exercise {}", self.0.exercise_id).into())
    }

    async fn classroom(&self, ctx: &Context<'_>) -> Result<Classroom> {
        get(store(ctx), CLASSROOM, &self.0.classroom_id)
            .await?
            .map(Classroom)
            .ok_or_else(|| format!("no classroom {}", self.0.classroom_id).into())
    }
}

struct Course(CourseRecord);

#[Object]
impl Course {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    /// What the course is about.
    // Moving to the `content` service as a canary: the router sends a
    // quarter of the requests there and compares the rest.
    async fn description(&self) -> &str {
        &self.0.description
    }

    async fn units(&self, ctx: &Context<'_>) -> Result<Vec<Unit>> {
        Ok(units_of(store(ctx), &self.0.id)
            .await?
            .into_iter()
            .map(Unit)
            .collect())
    }
}

struct Unit(UnitRecord);

#[Object]
impl Unit {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn course(&self, ctx: &Context<'_>) -> Result<Course> {
        get(store(ctx), COURSE, &self.0.course_id)
            .await?
            .map(Course)
            .ok_or_else(|| format!("no course {}", self.0.course_id).into())
    }

    async fn exercises(&self, ctx: &Context<'_>) -> Result<Vec<Exercise>> {
        Ok(exercises_of(store(ctx), &self.0.id)
            .await?
            .into_iter()
            .map(Exercise)
            .collect())
    }
}

struct Exercise(ExerciseRecord);

#[Object]
impl Exercise {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    /// 1 (easy) to 5 (hard).
    async fn difficulty(&self) -> i32 {
        self.0.difficulty
    }

    async fn unit(&self, ctx: &Context<'_>) -> Result<Unit> {
        get(store(ctx), UNIT, &self.0.unit_id)
            .await?
            .map(Unit)
            .ok_or_else(|| format!("no unit {}", self.0.unit_id).into())
    }
}

fn main() -> std::process::ExitCode {
    run(
        Service {
            name: "monolith",
            default_port: 4001,
            kinds: &[
                USER, COURSE, UNIT, EXERCISE, CLASSROOM, ASSIGNMENT, PROGRESS,
            ],
            labels: &[],
            migrations: &[],
            // The catalog's hints come from the content service, which
            // serves it; the monolith gives none.
            cache_hints: &[],
        },
        |store| {
            Schema::build(Query, EmptyMutation, EmptySubscription)
                .enable_federation()
                .data(store)
                .finish()
        },
    )
}
