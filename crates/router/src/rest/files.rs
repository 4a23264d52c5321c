//! Routes from a folder of `.graphql` files (`rest.dir`): each file is one
//! route, described by the comment lines at its top:
//!
//! ```graphql
//! # GET /api/v1/courses/:id/units
//! # summary: A course's units
//! # id: path
//! # first: query limit = 10
//! # response: course.units
//! # status: 200
//! # include_errors
//! query CourseUnits($id: ID!, $first: Int) { course(id: $id) { units(first: $first) { title } } }
//! ```
//!
//! The first comment line is the method and path. Each other one is
//! `VARIABLE: SOURCE [NAME] [= DEFAULT]` (source `path`, `query`, `body`
//! or `header`, the parameter's name when it differs, a JSON default),
//! `summary:`, `response:` (the data path), `status:`, `operation:` (the
//! operation's name) or `include_errors`. Anything else stops start-up with
//! the file and line named.

use std::path::Path;

use super::config::{ResponseConfig, RouteConfig, Source, VariableSource};

/// The routes of every `.graphql` file in `dir` (sorted by file name),
/// each with its operation's text.
pub fn read_dir(dir: &Path) -> Result<Vec<(RouteConfig, String)>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("rest.dir `{}`: {e}", dir.display()))?;
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "graphql"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let route = parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok((route, text))
        })
        .collect()
}

/// The route a file's header comment describes.
pub fn parse(text: &str) -> Result<RouteConfig, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .map_while(|(i, l)| l.trim_start().strip_prefix('#').map(|c| (i + 1, c.trim())))
        .filter(|(_, c)| !c.is_empty());
    let Some((n, first)) = lines.next() else {
        return Err("line 1: expected a comment `# METHOD /path` naming the route".to_owned());
    };
    let Some((method, path)) = first.split_once(char::is_whitespace) else {
        return Err(format!(
            "line {n}: expected `# METHOD /path`, found `# {first}`"
        ));
    };
    let mut route = RouteConfig {
        method: method.to_owned(),
        path: path.trim().to_owned(),
        operation: None,
        file: None,
        persisted_id: None,
        operation_name: None,
        variables: Default::default(),
        response: ResponseConfig::default(),
        status: None,
        summary: None,
    };
    for (n, line) in lines {
        if line == "include_errors" {
            route.response.include_errors = true;
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(format!(
                "line {n}: expected `KEY: VALUE` or `include_errors`, found `# {line}`"
            ));
        };
        let value = value.trim();
        match key.trim() {
            "summary" => route.summary = Some(value.to_owned()),
            "response" => route.response.data_path = Some(value.to_owned()),
            "operation" => route.operation_name = Some(value.to_owned()),
            "status" => {
                route.status = Some(
                    value
                        .parse()
                        .map_err(|_| format!("line {n}: `{value}` is not a status"))?,
                )
            }
            variable => {
                let source = variable_source(value).map_err(|e| format!("line {n}: {e}"))?;
                route
                    .variables
                    .insert(variable.trim_start_matches('$').to_owned(), source);
            }
        }
    }
    Ok(route)
}

/// `SOURCE [NAME] [= DEFAULT]`.
fn variable_source(text: &str) -> Result<VariableSource, String> {
    let (head, default) = match text.split_once('=') {
        Some((head, default)) => {
            let default = serde_json::from_str(default.trim())
                .map_err(|e| format!("the default `{}` is not JSON: {e}", default.trim()))?;
            (head.trim(), Some(default))
        }
        None => (text, None),
    };
    let mut words = head.split_whitespace();
    let from = match words.next() {
        Some("path") => Source::Path,
        Some("query") => Source::Query,
        Some("body") => Source::Body,
        Some("header") => Source::Header,
        other => {
            return Err(format!(
                "`{}` is not a source (path, query, body or header)",
                other.unwrap_or("")
            ))
        }
    };
    let name = words.next().map(str::to_owned);
    if let Some(extra) = words.next() {
        return Err(format!("unexpected `{extra}`"));
    }
    Ok(VariableSource {
        from,
        name,
        default,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_comment_describes_the_route() {
        let route = parse(
            "# GET /api/courses/:id\n# summary: A course\n#\n# id: path\n# first: query limit = 10\n\
             # lang: header accept-language\n# response: course.units\n# status: 200\n# include_errors\n\
             query Q($id: ID!, $first: Int, $lang: String) { x }\n# not read\n",
        )
        .unwrap();
        assert_eq!(
            (route.method.as_str(), route.path.as_str()),
            ("GET", "/api/courses/:id")
        );
        assert_eq!(route.summary.as_deref(), Some("A course"));
        assert_eq!(route.variables["id"].from, Source::Path);
        let first = &route.variables["first"];
        assert_eq!(
            (first.from, first.name.as_deref()),
            (Source::Query, Some("limit"))
        );
        assert_eq!(first.default, Some(serde_json::json!(10)));
        assert_eq!(
            route.variables["lang"].name.as_deref(),
            Some("accept-language")
        );
        assert_eq!(route.response.data_path.as_deref(), Some("course.units"));
        assert!(route.response.include_errors);
        assert_eq!(route.status, Some(200));
    }

    #[test]
    fn mistakes_name_the_line() {
        assert!(parse("query { x }").unwrap_err().contains("line 1"));
        assert!(parse("# GET\n").unwrap_err().contains("line 1"));
        let e = parse("# GET /a\n# id: pathh\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("pathh"), "{e}");
        let e = parse("# GET /a\n# x: query y = nope\n").unwrap_err();
        assert!(e.contains("not JSON"), "{e}");
        let e = parse("# GET /a\n# status: two\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        assert!(parse("# GET /a\n# whatever\n")
            .unwrap_err()
            .contains("KEY: VALUE"));
    }
}
