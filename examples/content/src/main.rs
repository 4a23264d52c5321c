//! The content service: courses, units and exercises, taken over from the
//! monolith. Most fields it serves carry `@override(from: "monolith")`, so
//! the router sends those fields here and no longer to the monolith.
//! `Course.description` moves step by step instead, with goliath's
//! `@migrate(from: "monolith", state: "canary", percent: 25)`: the router
//! sends a quarter of the requests for it here, and for the rest asks the
//! monolith (whose answer the client gets) and this service, and compares
//! them. async-graphql cannot write `@migrate`: the field is listed in the
//! service's `migrations` and `learning::sdl` adds the directive.
//!
//! The catalog changes seldom: its types carry Apollo Server's
//! `@cacheControl(maxAge: 300)` and its root fields `maxAge: 60`, listed in
//! the service's `cache_hints` (async-graphql cannot write those either), so
//! the router may keep answers built from them (`cache_control` and
//! `response_cache` in the demo's router config).

use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, Schema, ID};
use learning::model::*;
use learning::sdl::{CacheHint, Migrate};
use learning::serve::{run, Service};
use learning::Store;

fn store<'a>(ctx: &Context<'a>) -> &'a Store {
    ctx.data_unchecked::<Store>()
}

struct Query;

#[Object]
impl Query {
    /// A course by id.
    #[graphql(override_from = "monolith")]
    async fn course(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Course>> {
        Ok(get(store(ctx), COURSE, &id).await?.map(Course))
    }

    /// Every course.
    #[graphql(override_from = "monolith")]
    async fn courses(&self, ctx: &Context<'_>) -> Result<Vec<Course>> {
        Ok(all(store(ctx), COURSE)
            .await?
            .into_iter()
            .map(Course)
            .collect())
    }

    /// An exercise by id.
    #[graphql(override_from = "monolith")]
    async fn exercise(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Exercise>> {
        Ok(get(store(ctx), EXERCISE, &id).await?.map(Exercise))
    }

    #[graphql(entity)]
    async fn find_course_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Course>> {
        Ok(get(store(ctx), COURSE, &id).await?.map(Course))
    }

    #[graphql(entity)]
    async fn find_unit_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Unit>> {
        Ok(get(store(ctx), UNIT, &id).await?.map(Unit))
    }

    #[graphql(entity)]
    async fn find_exercise_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Exercise>> {
        Ok(get(store(ctx), EXERCISE, &id).await?.map(Exercise))
    }
}

struct Course(CourseRecord);

#[Object]
impl Course {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    #[graphql(override_from = "monolith")]
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// What the course is about.
    // Moving here from the monolith (`@migrate`, canary 25%).
    async fn description(&self) -> &str {
        &self.0.description
    }

    #[graphql(override_from = "monolith")]
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

    #[graphql(override_from = "monolith")]
    async fn title(&self) -> &str {
        &self.0.title
    }

    #[graphql(override_from = "monolith")]
    async fn course(&self, ctx: &Context<'_>) -> Result<Course> {
        get(store(ctx), COURSE, &self.0.course_id)
            .await?
            .map(Course)
            .ok_or_else(|| format!("no course {}", self.0.course_id).into())
    }

    #[graphql(override_from = "monolith")]
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

    #[graphql(override_from = "monolith")]
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// 1 (easy) to 5 (hard).
    #[graphql(override_from = "monolith")]
    async fn difficulty(&self) -> i32 {
        self.0.difficulty
    }

    #[graphql(override_from = "monolith")]
    async fn unit(&self, ctx: &Context<'_>) -> Result<Unit> {
        get(store(ctx), UNIT, &self.0.unit_id)
            .await?
            .map(Unit)
            .ok_or_else(|| format!("no unit {}", self.0.unit_id).into())
    }
}

/// The catalog's `@cacheControl` hints: its types may be kept five minutes,
/// its root fields a minute.
const CACHE_HINTS: &[CacheHint] = &[
    CacheHint::on_type("Course", 300),
    CacheHint::on_type("Unit", 300),
    CacheHint::on_type("Exercise", 300),
    CacheHint::on_field("Query", "courses", 60),
    CacheHint::on_field("Query", "course", 60),
    CacheHint::on_field("Query", "exercise", 60),
];

fn main() -> std::process::ExitCode {
    run(
        Service {
            name: "content",
            default_port: 4002,
            kinds: &[COURSE, UNIT, EXERCISE],
            labels: &[],
            migrations: &[Migrate {
                type_name: "Course",
                field: "description",
                from: "monolith",
                state: "canary",
                percent: Some(25.0),
            }],
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
