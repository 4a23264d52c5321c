//! Two subgraphs for the migration tests, on loopback: `old` (a monolith:
//! users with `name`, `score`, `seen`, and `Mutation.bump`) and `new` (a
//! service taking `User.score`, `User.seen` and `Mutation.bump` over).
//! Both count what they receive. The new one can be told to get user 2's
//! score wrong, to fail, or to hang until released; the old one's `seen`
//! is different on every call (nondeterministic on purpose).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::{Context, EmptySubscription, Error, Object, Result, Schema, ID};
use tokio::sync::Semaphore;

use crate::support::{serve_subgraph, serve_subgraph_seeing_headers, RequestLog, SeenHeaders};

/// How the new subgraph behaves.
#[derive(Default)]
pub struct Mode {
    /// User 2's score is one too high.
    pub bug: bool,
    /// `score` fails.
    pub fail: bool,
    /// Each entity request waits for a permit first.
    pub hang: Option<Arc<Semaphore>>,
}

/// What the tests watch and steer.
#[derive(Clone, Default)]
pub struct World {
    /// Every subgraph request: (`old` or `new`, query).
    pub log: RequestLog,
    /// `bump` calls received by the old subgraph.
    pub old_bumps: Arc<AtomicUsize>,
    /// `bump` calls received by the new subgraph.
    pub new_bumps: Arc<AtomicUsize>,
    /// Entity requests the new subgraph is in the middle of.
    pub new_in_flight: Arc<AtomicUsize>,
    /// The new subgraph's behaviour.
    pub mode: Arc<Mutex<Mode>>,
    /// Calls to the old `seen`.
    pub seen_calls: Arc<AtomicUsize>,
    /// The headers of each request the new subgraph received.
    pub new_headers: SeenHeaders,
}

fn score_of(id: &str) -> i32 {
    id.parse::<i32>().unwrap_or(0) * 10
}

const USERS: [&str; 3] = ["1", "2", "3"];

struct OldUser {
    id: String,
}

#[Object(name = "User")]
impl OldUser {
    async fn id(&self) -> ID {
        ID::from(self.id.clone())
    }
    async fn name(&self) -> String {
        format!("user {}", self.id)
    }
    async fn score(&self) -> i32 {
        score_of(&self.id)
    }
    async fn seen(&self, ctx: &Context<'_>) -> String {
        let n = ctx
            .data_unchecked::<World>()
            .seen_calls
            .fetch_add(1, Ordering::SeqCst);
        format!("seen #{n}")
    }
}

struct OldQuery;

#[Object(name = "Query")]
impl OldQuery {
    async fn users(&self) -> Vec<OldUser> {
        USERS
            .iter()
            .map(|id| OldUser { id: id.to_string() })
            .collect()
    }
    async fn user(&self, id: ID) -> Option<OldUser> {
        USERS
            .contains(&id.as_str())
            .then(|| OldUser { id: id.to_string() })
    }
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> OldUser {
        OldUser { id: id.to_string() }
    }
}

struct OldMutation;

#[Object(name = "Mutation")]
impl OldMutation {
    async fn bump(&self, ctx: &Context<'_>, id: ID) -> i32 {
        ctx.data_unchecked::<World>()
            .old_bumps
            .fetch_add(1, Ordering::SeqCst);
        score_of(&id) + 1
    }
}

struct NewUser {
    id: String,
}

#[Object(name = "User")]
impl NewUser {
    async fn id(&self) -> ID {
        ID::from(self.id.clone())
    }
    async fn score(&self, ctx: &Context<'_>) -> Result<i32> {
        let mode = ctx.data_unchecked::<World>().mode.lock().unwrap();
        if mode.fail {
            return Err(Error::new("the new score service is down"));
        }
        let bug = mode.bug && self.id == "2";
        Ok(score_of(&self.id) + i32::from(bug))
    }
    async fn seen(&self) -> String {
        format!("new {}", fastrand_like())
    }
}

fn fastrand_like() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

struct NewQuery;

#[Object(name = "Query")]
impl NewQuery {
    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> NewUser {
        let world = ctx.data_unchecked::<World>();
        let hang = world.mode.lock().unwrap().hang.clone();
        if let Some(gate) = hang {
            world.new_in_flight.fetch_add(1, Ordering::SeqCst);
            let _permit = gate.acquire().await;
            world.new_in_flight.fetch_sub(1, Ordering::SeqCst);
        }
        NewUser { id: id.to_string() }
    }
}

struct NewMutation;

#[Object(name = "Mutation")]
impl NewMutation {
    async fn bump(&self, ctx: &Context<'_>, id: ID) -> i32 {
        ctx.data_unchecked::<World>()
            .new_bumps
            .fetch_add(1, Ordering::SeqCst);
        score_of(&id) + 1
    }
}

impl World {
    /// Starts both subgraphs; returns the supergraph SDL naming them.
    pub async fn start(&self) -> String {
        let old = Schema::build(OldQuery, OldMutation, EmptySubscription)
            .data(self.clone())
            .enable_federation()
            .finish();
        let new = Schema::build(NewQuery, NewMutation, EmptySubscription)
            .data(self.clone())
            .enable_federation()
            .finish();
        let old_url = serve_subgraph("old", old, self.log.clone()).await;
        let new_url =
            serve_subgraph_seeing_headers("new", new, self.log.clone(), self.new_headers.clone())
                .await;
        supergraph(&old_url, &new_url)
    }

    /// The requests `subgraph` received whose query mentions `needle`.
    pub fn calls(&self, subgraph: &str, needle: &str) -> usize {
        self.log
            .entries()
            .iter()
            .filter(|(s, q)| s == subgraph && q.contains(needle))
            .count()
    }
}

/// The supergraph: `User.score`, `User.seen` and `Mutation.bump` in both
/// subgraphs (declared as migrations in the router's config).
pub fn supergraph(old: &str, new: &str) -> String {
    format!(
        r#"
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
{{
  query: Query
  mutation: Mutation
}}

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE
directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

scalar join__FieldSet
scalar link__Import
enum link__Purpose {{ SECURITY EXECUTION }}

enum join__Graph {{
  NEW @join__graph(name: "new", url: "{new}")
  OLD @join__graph(name: "old", url: "{old}")
}}

type Mutation @join__type(graph: NEW) @join__type(graph: OLD) {{
  bump(id: ID!): Int @join__field(graph: NEW) @join__field(graph: OLD)
}}

type Query @join__type(graph: NEW) @join__type(graph: OLD) {{
  users: [User] @join__field(graph: OLD)
  user(id: ID!): User @join__field(graph: OLD)
}}

type User @join__type(graph: NEW, key: "id") @join__type(graph: OLD, key: "id") {{
  id: ID!
  name: String @join__field(graph: OLD)
  score: Int @join__field(graph: NEW) @join__field(graph: OLD)
  seen: String @join__field(graph: NEW) @join__field(graph: OLD)
}}
"#
    )
}
