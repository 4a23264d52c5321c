//! Authorization (issue 18): `@authenticated`, `@requiresScopes` and
//! `@policy` over a federated query. Three async-graphql subgraphs on
//! loopback (`school`, `grades`, `stats`), composed in
//! `tests/authorization/supergraph.graphql`:
//!
//! ```graphql
//! # school
//! type Query { courses: [Course!]! me: Person @authenticated
//!              people: [Person!]! search: [Result]! }
//! type Course @key(fields: "id") { id: ID! title: String! }
//! interface Person { id: ID! name: String! }
//! type Student implements Person @key(fields: "id") { id: ID! name: String! }
//! type Teacher implements Person @key(fields: "id") {
//!   id: ID! name: String! salary: Int @requiresScopes(scopes: [["hr"]]) }
//! union Result = Course | Student
//! # grades
//! type Course @key(fields: "id") {
//!   id: ID! average: Float @requiresScopes(scopes: [["teacher"]])
//!   notes: String! @authenticated }
//! type Student @key(fields: "id") {
//!   id: ID! grade: Int @requiresScopes(scopes: [["grades:read"], ["teacher"]])
//!   nickname: String @policy(policies: [["self"]]) }
//! # stats
//! type Course @key(fields: "id") {
//!   id: ID! average: Float @external summary: String @requires(fields: "average") }
//! ```
//!
//! The supergraph is `goliath compose`'s output for these subgraphs but
//! for one line: `summary` carries no `@requiresScopes` of its own, as a
//! composer without the transitive `@requires` check
//! (`MISSING_TRANSITIVE_AUTH_REQUIREMENTS`) writes it, so that the router's
//! own rule (a field needing a denied field is denied) is what is tested.
//!
//! Every subgraph request is logged, to show that no denied field is
//! fetched. Requests carry real tokens (ES256, a JWKS file).

#[allow(dead_code)]
mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use async_graphql::{
    EmptyMutation, EmptySubscription, Interface, Object, Schema, SimpleObject, Union, ID,
};
use goliath_router::auth::config::{AuthorizationMode, JwksSource, JwtConfig};
use goliath_router::Config;
use http::{Method, StatusCode};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use support::{serve_subgraph, RequestLog};

const EC1: &str = include_str!("auth/ec1.key.pem");

// ------------------------------------------------------------ subgraphs

#[derive(SimpleObject, Clone)]
#[graphql(shareable)]
struct Course {
    id: ID,
    title: String,
}

#[derive(SimpleObject, Clone)]
struct Student {
    id: ID,
    name: String,
}

#[derive(SimpleObject, Clone)]
struct Teacher {
    id: ID,
    name: String,
    salary: Option<i32>,
}

#[derive(Interface, Clone)]
#[graphql(field(name = "id", ty = "&ID"), field(name = "name", ty = "&String"))]
enum Person {
    Student(Student),
    Teacher(Teacher),
}

#[derive(Union, Clone)]
#[graphql(name = "Result")]
enum SearchResult {
    Course(Course),
    Student(Student),
}

fn course(id: &str) -> Course {
    let title = if id == "c1" { "Algebra" } else { "Biology" };
    Course {
        id: ID::from(id),
        title: title.into(),
    }
}

fn sam() -> Student {
    Student {
        id: ID::from("s1"),
        name: "Sam".into(),
    }
}

fn tess() -> Teacher {
    Teacher {
        id: ID::from("t1"),
        name: "Tess".into(),
        salary: Some(5000),
    }
}

struct SchoolQuery;

#[Object(name = "Query")]
impl SchoolQuery {
    async fn courses(&self) -> Vec<Course> {
        vec![course("c1"), course("c2")]
    }
    async fn me(&self) -> Option<Person> {
        Some(Person::Student(sam()))
    }
    async fn people(&self) -> Vec<Person> {
        vec![Person::Student(sam()), Person::Teacher(tess())]
    }
    async fn search(&self) -> Vec<Option<SearchResult>> {
        vec![
            Some(SearchResult::Course(course("c1"))),
            Some(SearchResult::Student(sam())),
        ]
    }
    #[graphql(entity)]
    async fn find_course(&self, id: ID) -> Course {
        course(&id)
    }
    #[graphql(entity)]
    async fn find_student(&self, id: ID) -> Student {
        Student { id, ..sam() }
    }
    #[graphql(entity)]
    async fn find_teacher(&self, id: ID) -> Teacher {
        Teacher { id, ..tess() }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "Course")]
struct GradedCourse {
    id: ID,
    average: Option<f64>,
    notes: String,
}

#[derive(SimpleObject)]
#[graphql(name = "Student")]
struct GradedStudent {
    id: ID,
    grade: Option<i32>,
    nickname: Option<String>,
}

struct GradesQuery;

#[Object(name = "Query")]
impl GradesQuery {
    #[graphql(entity)]
    async fn find_course(&self, id: ID) -> GradedCourse {
        let average = if id.as_str() == "c1" { 3.5 } else { 2.5 };
        GradedCourse {
            notes: format!("notes on {}", id.as_str()),
            id,
            average: Some(average),
        }
    }
    #[graphql(entity)]
    async fn find_student(&self, id: ID) -> GradedStudent {
        GradedStudent {
            id,
            grade: Some(90),
            nickname: Some("sammy".into()),
        }
    }
}

struct StatsCourse {
    id: ID,
    average: Option<f64>,
}

#[Object(name = "Course", extends)]
impl StatsCourse {
    async fn id(&self) -> &ID {
        &self.id
    }
    #[graphql(external)]
    async fn average(&self) -> Option<f64> {
        self.average
    }
    #[graphql(requires = "average")]
    async fn summary(&self) -> async_graphql::Result<String> {
        match self.average {
            Some(a) => Ok(format!("average {a}")),
            None => Err("summary requires average".into()),
        }
    }
}

struct StatsQuery;

#[Object(name = "Query")]
impl StatsQuery {
    #[graphql(entity)]
    async fn find_course(&self, #[graphql(key)] id: ID, average: Option<f64>) -> StatsCourse {
        StatsCourse { id, average }
    }
}

// -------------------------------------------------------------- harness

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A token (ES256, kid `ec1`) with `scope` and `groups`.
fn token(scope: &str, groups: &[&str]) -> String {
    let key = EncodingKey::from_ec_pem(EC1.as_bytes()).unwrap();
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("ec1".into());
    let claims = json!({"sub": "s1", "exp": now() + 3600, "scope": scope, "groups": groups});
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

struct School {
    addr: std::net::SocketAddr,
    log: RequestLog,
    client: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        http_body_util::Full<bytes::Bytes>,
    >,
    _dir: tempfile::TempDir,
}

impl School {
    async fn start(configure: impl FnOnce(&mut Config)) -> School {
        let log = RequestLog::default();
        let school = Schema::build(SchoolQuery, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish();
        let grades = Schema::build(GradesQuery, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish();
        let stats = Schema::build(StatsQuery, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish();
        let supergraph = include_str!("authorization/supergraph.graphql")
            .replace(
                "{school}",
                &serve_subgraph("school", school, log.clone()).await,
            )
            .replace(
                "{grades}",
                &serve_subgraph("grades", grades, log.clone()).await,
            )
            .replace(
                "{stats}",
                &serve_subgraph("stats", stats, log.clone()).await,
            );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwks.json");
        let key = EncodingKey::from_ec_pem(EC1.as_bytes()).unwrap();
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).unwrap();
        jwk.common.key_id = Some("ec1".into());
        let set = JwkSet { keys: vec![jwk] };
        std::fs::write(&path, serde_json::to_string(&set).unwrap()).unwrap();
        let mut config = Config::default();
        config.authentication.jwt = Some(JwtConfig {
            jwks: vec![JwksSource {
                file: Some(path),
                ..Default::default()
            }],
            ..Default::default()
        });
        config
            .authorization
            .policies
            .insert("self".into(), r#""students" in claims.groups"#.into());
        configure(&mut config);
        let addr = support::start_router(&supergraph, &config).await;
        School {
            addr,
            log,
            client: hyper_util::client::legacy::Client::builder(
                hyper_util::rt::TokioExecutor::new(),
            )
            .build_http(),
            _dir: dir,
        }
    }

    /// Runs `query` with `token` (none: anonymous): the status and body.
    async fn run(&self, query: &str, token: Option<&str>) -> (StatusCode, Value) {
        use http_body_util::BodyExt;
        let mut request = http::Request::builder()
            .method(Method::POST)
            .uri(format!("http://{}/graphql", self.addr))
            .header("content-type", "application/json");
        if let Some(t) = token {
            request = request.header("authorization", format!("Bearer {t}"));
        }
        let body = serde_json::to_vec(&json!({ "query": query })).unwrap();
        let response = self
            .client
            .request(
                request
                    .body(http_body_util::Full::new(body.into()))
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    /// The subgraph requests since the last call: (subgraph, query).
    fn asked(&self) -> Vec<(String, String)> {
        self.log.take()
    }
}

/// The paths of the `UNAUTHORIZED_FIELD_OR_TYPE` errors, as dotted text.
fn denied_paths(body: &Value) -> Vec<String> {
    let mut paths: Vec<String> = body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE")
        .map(|e| {
            e["path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| match p {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(".")
        })
        .collect();
    paths.sort();
    paths
}

fn never_asked_for(asked: &[(String, String)], fields: &[&str]) {
    for (subgraph, query) in asked {
        for field in fields {
            assert!(
                !query.contains(field),
                "{subgraph} was asked for {field}: {query}"
            );
        }
    }
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn anonymous_requests_get_nulls_and_errors_and_no_fetch() {
    let s = School::start(|_| {}).await;
    let (status, body) = s
        .run("{ courses { title average summary } me { name } }", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"],
        json!({
            "courses": [
                {"title": "Algebra", "average": null, "summary": null},
                {"title": "Biology", "average": null, "summary": null},
            ],
            "me": null,
        }),
        "{body:#}"
    );
    assert_eq!(
        denied_paths(&body),
        [
            "courses.0.average",
            "courses.0.summary",
            "courses.1.average",
            "courses.1.summary",
            "me"
        ]
    );
    let asked = s.asked();
    assert_eq!(asked.len(), 1, "only school is asked: {asked:?}");
    assert_eq!(asked[0].0, "school");
    never_asked_for(&asked, &["average", "summary", "me"]);
    // Every root field denied: no subgraph is asked at all.
    let (_, body) = s.run("{ me { name } }", None).await;
    assert_eq!(body["data"], json!({"me": null}), "{body:#}");
    assert_eq!(denied_paths(&body), ["me"]);
    assert_eq!(s.asked(), vec![]);
}

#[tokio::test]
async fn a_teacher_sees_everything_from_every_subgraph() {
    let s = School::start(|_| {}).await;
    let teacher = token("teacher", &[]);
    let (_, body) = s
        .run(
            "{ courses { title average summary notes } }",
            Some(&teacher),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(
        body["data"]["courses"][0],
        json!({"title": "Algebra", "average": 3.5, "summary": "average 3.5", "notes": "notes on c1"})
    );
    let subgraphs: std::collections::BTreeSet<String> =
        s.asked().into_iter().map(|(s, _)| s).collect();
    assert_eq!(subgraphs.len(), 3, "{subgraphs:?}");
}

#[tokio::test]
async fn non_null_denied_fields_null_their_parent() {
    let s = School::start(|_| {}).await;
    // `notes: String!` nulls its Course; `search` items are nullable.
    let (_, body) = s
        .run(
            "{ search { ... on Course { title notes } ... on Student { name } } }",
            None,
        )
        .await;
    assert_eq!(
        body["data"],
        json!({"search": [null, {"name": "Sam"}]}),
        "{body:#}"
    );
    assert_eq!(denied_paths(&body), ["search.0.notes"]);
    never_asked_for(&s.asked(), &["notes"]);
}

#[tokio::test]
async fn scopes_and_policies_on_interfaces_and_fragments() {
    let s = School::start(|_| {}).await;
    let query = "query People { people { name ...Details } }
        fragment Details on Person {
          ... on Student { grade nickname }
          ... on Teacher { salary }
        }";
    // grades:read: the grade, not the nickname (policy) or the salary (hr).
    let (_, body) = s.run(query, Some(&token("grades:read", &[]))).await;
    assert_eq!(
        body["data"]["people"],
        json!([
            {"name": "Sam", "grade": 90, "nickname": null},
            {"name": "Tess", "salary": null},
        ]),
        "{body:#}"
    );
    assert_eq!(
        denied_paths(&body),
        ["people.0.nickname", "people.1.salary"]
    );
    never_asked_for(&s.asked(), &["nickname", "salary"]);
    // In the `students` group, with `hr` as a list claim too: all of it.
    let claims_token = {
        let key = EncodingKey::from_ec_pem(EC1.as_bytes()).unwrap();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("ec1".into());
        let claims = json!({"exp": now() + 60, "scope": ["hr", "teacher"], "groups": ["students"]});
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    };
    let (_, body) = s.run(query, Some(&claims_token)).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(
        body["data"]["people"],
        json!([
            {"name": "Sam", "grade": 90, "nickname": "sammy"},
            {"name": "Tess", "salary": 5000},
        ])
    );
}

#[tokio::test]
async fn a_field_that_requires_a_denied_field_is_denied() {
    let s = School::start(|_| {}).await;
    // `summary` @requires `average`, which needs the teacher scope.
    let (_, body) = s
        .run(
            "{ courses { id summary } }",
            Some(&token("grades:read", &[])),
        )
        .await;
    assert_eq!(
        body["data"]["courses"][1],
        json!({"id": "c2", "summary": null}),
        "{body:#}"
    );
    assert_eq!(
        denied_paths(&body),
        ["courses.0.summary", "courses.1.summary"]
    );
    let asked = s.asked();
    assert!(asked.iter().all(|(s, _)| s == "school"), "{asked:?}");
}

#[tokio::test]
async fn plans_are_not_shared_between_rights() {
    let s = School::start(|_| {}).await;
    let query = "{ courses { title average } }";
    let teacher = token("teacher", &[]);
    for _ in 0..2 {
        let (_, body) = s.run(query, Some(&teacher)).await;
        assert_eq!(body["data"]["courses"][0]["average"], 3.5, "{body:#}");
        let (_, body) = s.run(query, None).await;
        assert_eq!(
            body["data"]["courses"][0]["average"],
            Value::Null,
            "{body:#}"
        );
        assert_eq!(denied_paths(&body).len(), 2);
    }
}

#[tokio::test]
async fn reject_mode_refuses_the_whole_request() {
    let s = School::start(|c| c.authorization.mode = AuthorizationMode::Reject).await;
    let (status, body) = s.run("{ courses { title average } }", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body:#}");
    assert!(body.get("data").is_none(), "{body:#}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "UNAUTHORIZED_FIELD_OR_TYPE"
    );
    assert_eq!(body["errors"][0]["path"], json!(["courses", "average"]));
    assert!(s.asked().is_empty());
    // Nothing denied: the request runs.
    let (status, body) = s.run("{ courses { title } }", None).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
}

#[tokio::test]
async fn dry_run_filters_nothing() {
    let s = School::start(|c| c.authorization.dry_run = true).await;
    let (_, body) = s.run("{ courses { title average } }", None).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(body["data"]["courses"][1]["average"], 2.5);
}

#[tokio::test]
async fn the_api_schema_has_no_access_directives() {
    let s = School::start(|_| {}).await;
    let (_, body) = s
        .run(
            r#"{ __schema { directives { name } types { name } } }"#,
            None,
        )
        .await;
    let text = body.to_string();
    for hidden in [
        "requiresScopes",
        "authenticated",
        "policy",
        "policy__Policy",
    ] {
        assert!(
            !text.contains(&format!("\"{hidden}\"")),
            "{hidden} in {text}"
        );
    }
}

#[tokio::test]
async fn the_response_cache_never_serves_one_right_to_another() {
    let s = School::start(|c| {
        let yaml = "{cache_control: {enabled: true, default_max_age: 60}, response_cache: {enabled: true}}";
        let edge = Config::from_yaml_str(yaml).unwrap();
        c.cache_control = edge.cache_control;
        c.response_cache = edge.response_cache;
    })
    .await;
    let query = "{ courses { title average } }";
    let teacher = token("teacher", &[]);
    for round in 0..2 {
        let (_, body) = s.run(query, Some(&teacher)).await;
        assert_eq!(body["data"]["courses"][0]["average"], 3.5, "{body:#}");
        let (_, body) = s.run(query, None).await;
        assert_eq!(
            body["data"]["courses"][0]["average"],
            Value::Null,
            "{body:#}"
        );
        assert_eq!(denied_paths(&body).len(), 2, "{body:#}");
        let asked = s.asked();
        if round == 1 {
            // The teacher's answer came from the cache; the anonymous one
            // (with errors, so never kept) ran again, without `average`.
            assert_eq!(asked.len(), 1, "{asked:?}");
            never_asked_for(&asked, &["average"]);
        }
    }
}

/// Type-level requirements, decided without servers: `Teacher
/// @requiresScopes(scopes: [["staff"]])` denies its own fields, any field
/// returning it, and any field returning an abstract type it belongs to.
#[test]
fn type_level_requirements() {
    use goliath_router::auth::filter::{Checker, Rights};
    use std::collections::HashSet;
    let sdl = include_str!("authorization/supergraph.graphql").replace(
        "type Teacher implements Person\n",
        "type Teacher implements Person @requiresScopes(scopes: [[\"staff\"]])\n",
    );
    let supergraph = goliath_supergraph::Supergraph::parse(&sdl).unwrap();
    let decide = |scopes: &[&str], parent: &str, field: &str| {
        let scopes: HashSet<String> = scopes.iter().map(|s| s.to_string()).collect();
        let no_policy = |_: &str| false;
        let rights = Rights {
            authenticated: true,
            scopes: &scopes,
            policy: &no_policy,
        };
        let name = |s: &str| apollo_compiler::Name::new(s).unwrap();
        Checker::new(&supergraph, rights).field_allowed(&name(parent), &name(field))
    };
    assert!(!decide(&[], "Teacher", "name"));
    assert!(
        !decide(&[], "Query", "people"),
        "[Person!]! may hold a Teacher"
    );
    assert!(decide(&[], "Query", "courses"));
    assert!(decide(&[], "Student", "name"));
    assert!(decide(&["staff"], "Teacher", "name"));
    assert!(decide(&["staff"], "Query", "people"));
    // `salary` needs `hr` on top of the type's `staff`.
    assert!(!decide(&["staff"], "Teacher", "salary"));
    assert!(decide(&["staff", "hr"], "Teacher", "salary"));
}
