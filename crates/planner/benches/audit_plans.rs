//! Cold planning of every query of the Federation Gateway Audit.
//!
//! The audit (`GOLIATH_FED_AUDIT`, default `../shared/fed-audit` next to the
//! repository) keeps its suites in TypeScript: `src/test-suites/<id>/` has
//! one `*.subgraph.ts` per subgraph (`createSubgraph("name", { typeDefs:
//! /* GraphQL */ `...` })`), an `index.ts` listing them in order (`serve("id",
//! [a, b], test)`) and a `test.ts` of `createTest(/* GraphQL */ `query`,
//! expected)`. The audit server composes each suite's supergraph with Apollo
//! composition; here `goliath_compose::compose` does it (its output is
//! byte-identical on these suites), with the URLs the audit server would
//! write. Template placeholders (`${randomId}` in `mutations`) become `x`.
//!
//! - `audit/<suite>`: criterion, `goliath_planner::plan` from scratch (no
//!   cache) for every query of the suite, one after another, per iteration.
//! - Then a plain table: the mean cold plan time of each query (its own
//!   timing loop, at least 20 ms or 10 plans per query), the number of
//!   fetches in its plan, the maximum and the slowest five. The goal is a cold
//!   plan of any audit query under 1 ms.
//!
//! Without the audit the bench prints a note and measures nothing.
//!
//! Run: `cargo bench -p goliath-planner --bench audit_plans -- --quick`.

use std::collections::HashSet;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use apollo_compiler::ExecutableDocument;
use criterion::Criterion;
use goliath_compose::SubgraphInput;
use goliath_planner::PlanNode;
use goliath_supergraph::Supergraph;

/// One audit query, ready to plan.
struct Query {
    suite: String,
    /// 1-based position in the suite's `test.ts`.
    index: usize,
    doc: ExecutableDocument,
}

struct Suite {
    id: String,
    supergraph: Supergraph,
    queries: Vec<Query>,
}

fn audit_dir() -> PathBuf {
    match std::env::var_os("GOLIATH_FED_AUDIT") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fed-audit"),
    }
}

/// The template literal starting at the first backtick at or after `from`,
/// with `${...}` placeholders replaced by `x`; and the index just past it.
fn template_at(text: &str, from: usize) -> Option<(String, usize)> {
    let start = from + text[from..].find('`')? + 1;
    let len = text[start..].find('`')?;
    let raw = &text[start..start + len];
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        out.push('x');
        rest = match rest[at..].find('}') {
            Some(end) => &rest[at + end + 1..],
            None => "",
        };
    }
    out.push_str(rest);
    Some((out, start + len + 1))
}

/// The first double-quoted string at or after `from`.
fn quoted_at(text: &str, from: usize) -> Option<&str> {
    let start = from + text[from..].find('"')? + 1;
    let len = text[start..].find('"')?;
    Some(&text[start..start + len])
}

/// A subgraph file's name and SDL.
fn read_subgraph(path: &Path) -> Result<(String, String), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name_at = text
        .find("createSubgraph(")
        .ok_or_else(|| format!("{}: no createSubgraph(", path.display()))?;
    let name = quoted_at(&text, name_at).ok_or_else(|| format!("{}: no name", path.display()))?;
    let defs_at = text[name_at..]
        .find("typeDefs:")
        .ok_or_else(|| format!("{}: no typeDefs", path.display()))?;
    let (sdl, _) = template_at(&text, name_at + defs_at)
        .ok_or_else(|| format!("{}: typeDefs is not a template", path.display()))?;
    Ok((name.to_owned(), sdl))
}

/// The suite's subgraph files, in `index.ts` order (`serve("id", [a, b], ...)`
/// with `import a from "./a.subgraph.js"`); by file name when that fails.
fn subgraph_files(dir: &Path) -> Vec<PathBuf> {
    let mut by_name: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".subgraph.ts"))
        })
        .collect();
    by_name.sort();
    let Ok(index) = std::fs::read_to_string(dir.join("index.ts")) else {
        return by_name;
    };
    let mut imports = Vec::new();
    for line in index.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("import ") else {
            continue;
        };
        let Some((var, from)) = rest.split_once(" from ") else {
            continue;
        };
        let Some(file) = quoted_at(from, 0) else {
            continue;
        };
        if let Some(stem) = file.strip_suffix(".subgraph.js") {
            let path = dir.join(format!("{}.subgraph.ts", stem.trim_start_matches("./")));
            imports.push((var.trim().to_owned(), path));
        }
    }
    let ordered: Option<Vec<PathBuf>> = index.find("serve(").and_then(|at| {
        let open = at + index[at..].find('[')? + 1;
        let close = open + index[open..].find(']')?;
        index[open..close]
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| imports.iter().find(|(n, _)| n == v).map(|(_, p)| p.clone()))
            .collect()
    });
    match ordered {
        Some(paths) if paths.len() == by_name.len() => paths,
        _ => by_name,
    }
}

fn load_suite(dir: &Path, id: &str) -> Result<Suite, String> {
    let mut inputs = Vec::new();
    for path in subgraph_files(dir) {
        let (name, sdl) = read_subgraph(&path)?;
        inputs.push(SubgraphInput {
            url: format!("http://localhost:4200/{id}/{name}"),
            name,
            sdl,
        });
    }
    let sdl = goliath_compose::compose(&inputs).map_err(|errors| {
        let messages: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        format!("composition failed: {}", messages.join("; "))
    })?;
    let supergraph = Supergraph::parse(&sdl).map_err(|e| format!("supergraph: {e}"))?;

    let tests =
        std::fs::read_to_string(dir.join("test.ts")).map_err(|e| format!("test.ts: {e}"))?;
    let mut queries = Vec::new();
    let mut index = 0;
    let mut at = 0;
    while let Some(found) = tests[at..].find("createTest(") {
        let Some((text, end)) = template_at(&tests, at + found) else {
            break;
        };
        at = end;
        index += 1;
        // Some tests expect a validation error: those have nothing to plan.
        match ExecutableDocument::parse_and_validate(
            &supergraph.api_schema,
            text.as_str(),
            format!("{id}-{index}.graphql"),
        ) {
            Ok(doc) => queries.push(Query {
                suite: id.to_owned(),
                index,
                doc: doc.into_inner(),
            }),
            Err(_) => println!("audit_plans: {id} #{index} does not validate (not planned)"),
        }
    }
    Ok(Suite {
        id: id.to_owned(),
        supergraph,
        queries,
    })
}

fn load_suites(audit: &Path) -> Vec<Suite> {
    let mut ids: Vec<String> = std::fs::read_dir(audit.join("src/test-suites"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    ids.sort();
    let mut suites = Vec::new();
    for id in ids {
        match load_suite(&audit.join("src/test-suites").join(&id), &id) {
            Ok(suite) => suites.push(suite),
            Err(e) => println!("audit_plans: suite {id} skipped: {e}"),
        }
    }
    suites
}

fn plan_one(supergraph: &Supergraph, query: &Query, labels: &HashSet<String>) -> usize {
    let operation = query
        .doc
        .operations
        .get(None)
        .expect("an audit query has one operation");
    match goliath_planner::plan(supergraph, &query.doc, operation, labels) {
        Ok(plan) => plan.root.as_ref().map_or(0, count_fetches),
        Err(_) => 0,
    }
}

fn count_fetches(node: &PlanNode) -> usize {
    match node {
        PlanNode::Sequence(nodes) | PlanNode::Parallel(nodes) => {
            nodes.iter().map(count_fetches).sum()
        }
        PlanNode::Fetch(_) => 1,
        PlanNode::Flatten(flatten) => count_fetches(&flatten.node),
        PlanNode::Condition(condition) => count_fetches(&condition.node),
    }
}

/// Mean cold plan time of one query, over at least `budget` and 10 plans.
fn mean_plan_time(
    suite: &Suite,
    query: &Query,
    labels: &HashSet<String>,
    budget: Duration,
) -> Duration {
    for _ in 0..3 {
        black_box(plan_one(&suite.supergraph, query, labels));
    }
    let start = Instant::now();
    let mut n = 0u32;
    while n < 10 || start.elapsed() < budget {
        black_box(plan_one(
            black_box(&suite.supergraph),
            black_box(query),
            labels,
        ));
        n += 1;
    }
    start.elapsed() / n
}

fn main() {
    let audit = audit_dir();
    if !audit.join("src/test-suites").is_dir() {
        println!(
            "audit_plans: no Federation Gateway Audit at {} (set GOLIATH_FED_AUDIT); nothing measured",
            audit.display()
        );
        return;
    }
    let suites = load_suites(&audit);
    let labels = HashSet::new();

    // Plans that fail are reported once, then timed like the others.
    for suite in &suites {
        for query in &suite.queries {
            let operation = query.doc.operations.get(None).expect("one operation");
            if let Err(e) = goliath_planner::plan(&suite.supergraph, &query.doc, operation, &labels)
            {
                println!(
                    "audit_plans: {} #{} does not plan: {e}",
                    query.suite, query.index
                );
            }
        }
    }

    let mut criterion = Criterion::default().configure_from_args();
    {
        let mut group = criterion.benchmark_group("audit");
        for suite in &suites {
            group.bench_function(suite.id.as_str(), |b| {
                b.iter(|| {
                    for query in &suite.queries {
                        black_box(plan_one(black_box(&suite.supergraph), query, &labels));
                    }
                })
            });
        }
        group.finish();
    }
    criterion.final_summary();

    // `cargo test --benches` runs this with `--test`: check it works, no table.
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    let budget = Duration::from_millis(20);
    let mut rows = Vec::new();
    for suite in &suites {
        for query in &suite.queries {
            let mean = mean_plan_time(suite, query, &labels, budget);
            let fetches = plan_one(&suite.supergraph, query, &labels);
            rows.push((format!("{} #{}", query.suite, query.index), mean, fetches));
        }
    }
    if rows.is_empty() {
        println!("audit_plans: no queries found under {}", audit.display());
        return;
    }
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(5).max(5);
    println!("\ncold plan, mean per query ({} queries)", rows.len());
    println!("{:width$}  {:>10}  {:>7}", "query", "mean µs", "fetches");
    for (name, mean, fetches) in &rows {
        println!(
            "{name:width$}  {:>10.1}  {fetches:>7}",
            mean.as_secs_f64() * 1e6
        );
    }
    let mut slowest: Vec<&(String, Duration, usize)> = rows.iter().collect();
    slowest.sort_by_key(|row| std::cmp::Reverse(row.1));
    let max = slowest[0];
    println!(
        "\nmax: {:.1} µs ({}); goal < 1000 µs: {}",
        max.1.as_secs_f64() * 1e6,
        max.0,
        if max.1 < Duration::from_millis(1) {
            "met"
        } else {
            "NOT met"
        }
    );
    println!("slowest 5:");
    for (name, mean, fetches) in slowest.iter().take(5) {
        println!(
            "  {name:width$}  {:>10.1} µs  {fetches} fetches",
            mean.as_secs_f64() * 1e6
        );
    }
}
