//! Loading and checking configs.
use super::*;

/// Parses `text` with a fixed environment.
fn parse_with(text: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let env = |name: &str| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    };
    Config::parse(text, "goliath.yaml", &env)
}

/// The error message for `text`, which must fail.
fn error(text: &str) -> String {
    parse_with(text, &[]).unwrap_err().to_string()
}

#[test]
fn defaults() {
    let config = Config::from_yaml_str("").unwrap();
    assert_eq!(config, Config::default());
    assert_eq!(config.listen, "127.0.0.1:4000");
    assert_eq!(config.supergraph.file, None);
    assert_eq!(config.graphql_path, "/graphql");
    assert_eq!(config.health_path, "/health");
    assert_eq!(config.limits.max_body_bytes, 2_000_000);
    assert_eq!(config.limits.max_depth, 64);
    assert_eq!(config.limits.request_timeout(), Duration::from_secs(30));
    assert!(config.introspection);
    assert!(config.include_subgraph_errors.includes("any"));
    assert_eq!(config.subgraph_defaults.timeout_ms, 30_000);
    assert!(config.override_labels.is_empty());
    assert_eq!(Config::from_yaml_str("# nothing\n").unwrap(), config);
    assert_eq!(Config::from_yaml_str("{}").unwrap(), config);
    assert_eq!(
        config.listen_addr().unwrap(),
        "127.0.0.1:4000".parse().unwrap()
    );
}

#[test]
fn full_config() {
    let config = Config::from_yaml_str(
        r#"
listen: 0.0.0.0:8080
supergraph: ./supergraph.graphql
graphql_path: /
health_path: /healthz
limits:
  max_body_bytes: 100
  max_depth: 10
  request_timeout_ms: 500
introspection: false
include_subgraph_errors:
  all: false
  subgraphs:
    products: true
subgraphs:
  products:
    url: http://localhost:4001/graphql
    timeout_ms: 1000
  reviews:
    url: https://reviews.example/graphql
subgraph_defaults:
  timeout_ms: 2000
override_labels: [a, b]
"#,
    )
    .unwrap();
    assert_eq!(config.listen_addr().unwrap().port(), 8080);
    assert_eq!(config.supergraph.file, Some("./supergraph.graphql".into()));
    assert_eq!(config.graphql_path, "/");
    assert_eq!(config.limits.max_body_bytes, 100);
    assert_eq!(config.limits.max_depth, 10);
    assert_eq!(config.limits.request_timeout_ms, 500);
    assert!(!config.introspection);
    assert!(config.include_subgraph_errors.includes("products"));
    assert!(!config.include_subgraph_errors.includes("reviews"));
    assert_eq!(
        config.subgraph_url("products"),
        Some("http://localhost:4001/graphql")
    );
    assert_eq!(config.subgraph_url("inventory"), None);
    assert_eq!(config.subgraph_timeout("products"), Duration::from_secs(1));
    assert_eq!(config.subgraph_timeout("reviews"), Duration::from_secs(2));
    assert_eq!(config.override_labels, ["a", "b"]);
}

#[test]
fn env_expansion() {
    let vars = [
        ("PORT", "5000"),
        ("EMPTY", ""),
        ("HOST", "0.0.0.0"),
        ("DEPTH", "200"),
    ];
    let config = parse_with("listen: ${env.HOST}:${env.PORT}", &vars).unwrap();
    assert_eq!(config.listen, "0.0.0.0:5000");
    let config = parse_with("listen: 127.0.0.1:${env.NOPE:-4100}", &vars).unwrap();
    assert_eq!(config.listen, "127.0.0.1:4100");
    let config = parse_with("listen: 127.0.0.1:${env.EMPTY:-4200}", &vars).unwrap();
    assert_eq!(config.listen, "127.0.0.1:4200");
    let config = parse_with("graphql_path: /${env.EMPTY:-}q", &vars).unwrap();
    assert_eq!(config.graphql_path, "/q");
    let config = parse_with("limits: {max_depth: ${env.DEPTH}}", &vars).unwrap();
    assert_eq!(config.limits.max_depth, 200);
    let err = parse_with("limits: {max_depth: ${env.PORT}}", &vars).unwrap_err();
    assert!(err.to_string().contains("limits.max_depth"), "{err}");
}

#[test]
fn env_expansion_reads_the_process_environment() {
    std::env::set_var("GOLIATH_CONFIG_TEST_PATH", "/from-env");
    let config = Config::from_yaml_str("graphql_path: ${env.GOLIATH_CONFIG_TEST_PATH}").unwrap();
    assert_eq!(config.graphql_path, "/from-env");
}

#[test]
fn missing_env_var_is_named() {
    let err = parse_with("listen: ${env.GOLIATH_LISTEN}", &[]).unwrap_err();
    assert_eq!(
        err.kind,
        ConfigErrorKind::MissingEnv {
            name: "GOLIATH_LISTEN".into()
        }
    );
    assert!(err.to_string().starts_with("goliath.yaml: "), "{err}");
    assert!(err.to_string().contains("`GOLIATH_LISTEN`"), "{err}");
}

#[test]
fn file_expansion() {
    let dir = tempfile::tempdir().unwrap();
    let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, pem).unwrap();
    std::fs::write(dir.path().join("path.txt"), "/from-file").unwrap();
    // The contents, several lines and all, become the string value,
    // quoted or not, alone or with text around it.
    let expanded = |yaml: &str| match expand::files(yaml).unwrap() {
        std::borrow::Cow::Owned(text) => yaml::from_str::<serde_json::Value>(&text).unwrap(),
        std::borrow::Cow::Borrowed(_) => panic!("not expanded: {yaml}"),
    };
    let p = path.display();
    let v = expanded(&format!(
        "a:\n  b: \"${{file.{p}}}\"\n  c:\n  - x${{file.{p}}}y\n"
    ));
    assert_eq!(v["a"]["b"].as_str(), Some(pem));
    assert_eq!(v["a"]["c"][0].as_str(), Some(format!("x{pem}y").as_str()));
    let v = expanded(&format!("a: ${{file.{p}}}\n"));
    assert_eq!(v["a"].as_str(), Some(pem));
    // Through the whole parse, with ${env...} expanded first.
    let vars = [("DIR", dir.path().to_str().unwrap())];
    let config = parse_with("graphql_path: ${file.${env.DIR}/path.txt}", &vars).unwrap();
    assert_eq!(config.graphql_path, "/from-file");
    // Relative paths are relative to the current directory.
    let cwd = std::env::current_dir().unwrap();
    let up = "../".repeat(cwd.components().count() - 1);
    let relative = format!("{up}{}", path.display().to_string().trim_start_matches('/'));
    let v = expanded(&format!("a: '${{file.{relative}}}'\n"));
    assert_eq!(v["a"].as_str(), Some(pem));
    // Comments are not expanded; text without references is as it was.
    let text = "listen: 127.0.0.1:4000 # ${file./nowhere}\n";
    assert!(matches!(expand::files(text), Ok(std::borrow::Cow::Borrowed(t)) if t == text));
    assert!(parse_with(text, &[]).is_ok());
    // A missing file is named; so are malformed references.
    let err = error("graphql_path: ${file./nowhere/goliath.pem}");
    assert!(
        err.starts_with("goliath.yaml: cannot read the file `/nowhere/goliath.pem`"),
        "{err}"
    );
    assert!(error("graphql_path: '${file./x'").contains("missing closing"));
    assert!(error("graphql_path: '${file.}'").contains("expected a file path"));
}

#[test]
fn malformed_env_references() {
    assert!(error("listen: ${env.PORT").contains("missing closing"));
    assert!(error("listen: ${env.}").contains("expected a variable name"));
}

#[test]
fn unknown_keys_are_named() {
    let err = error("listen: 127.0.0.1:4000\nfoo: 1\n");
    assert!(
        err.starts_with("goliath.yaml: foo: unknown field `foo`"),
        "{err}"
    );
    assert!(err.contains("expected one of"), "{err}");
    let err = error("limits:\n  max_tokens: 5\n");
    assert!(
        err.contains("limits.max_tokens: unknown field `max_tokens`"),
        "{err}"
    );
    let err = error("subgraphs:\n  products:\n    uri: http://x\n");
    assert!(
        err.contains("subgraphs.products.uri: unknown field `uri`"),
        "{err}"
    );
}

#[test]
fn wrong_types_are_named() {
    let err = error("limits:\n  max_depth: deep\n");
    assert!(err.contains("limits.max_depth: invalid"), "{err}");
    assert!(err.contains("line 2"), "{err}");
    let err = error("introspection: maybe\n");
    assert!(err.contains("introspection"), "{err}");
    assert!(error("listen: [").contains("goliath.yaml: "));
}

#[test]
fn bad_listen_address() {
    let err = error("listen: localhost");
    assert_eq!(
        err,
        "goliath.yaml: listen: `localhost` is not a socket address such as 127.0.0.1:4000"
    );
    assert!(error("listen: 127.0.0.1:99999").contains("listen: "));
}

#[test]
fn bad_subgraph_url() {
    let err = error("subgraphs:\n  products:\n    url: not a url\n");
    assert!(
        err.starts_with("goliath.yaml: subgraphs.products.url: `not a url` is not a valid URL"),
        "{err}"
    );
    let err = error("subgraphs:\n  products:\n    url: ftp://host/graphql\n");
    assert!(err.contains("subgraphs.products.url: `ftp://host/graphql` is not an http(s) URL"));
}

#[test]
fn zero_values_are_rejected() {
    for (text, key) in [
        ("limits: {max_body_bytes: 0}", "limits.max_body_bytes"),
        (
            "limits: {request_timeout_ms: 0}",
            "limits.request_timeout_ms",
        ),
        (
            "subgraph_defaults: {timeout_ms: 0}",
            "subgraph_defaults.timeout_ms",
        ),
        ("subgraphs: {a: {timeout_ms: 0}}", "subgraphs.a.timeout_ms"),
    ] {
        let err = error(text);
        assert_eq!(err, format!("goliath.yaml: {key}: must be greater than 0"));
    }
}

#[test]
fn bad_paths_and_labels() {
    assert!(error("graphql_path: graphql").contains("graphql_path: `graphql` must start with `/`"));
    assert!(error("health_path: /graphql").contains("health_path: "));
    assert!(error("override_labels: ['']").contains("override_labels[0]"));
}

#[test]
fn demand_control() {
    use crate::demand_control::{Mode, StaticEstimated, StrategyConfig};
    let config = Config::from_yaml_str("").unwrap();
    assert!(!config.demand_control.enabled);
    let config = Config::from_yaml_str(
            "demand_control:\n  enabled: true\n  mode: enforce\n  strategy:\n    static_estimated:\n      list_size: 10\n      max: 1000\n  include_in_response: true\n",
        )
        .unwrap();
    let dc = &config.demand_control;
    assert!(dc.enabled && dc.include_in_response);
    assert_eq!(dc.mode, Some(Mode::Enforce));
    assert_eq!(
        dc.strategy,
        Some(StrategyConfig {
            static_estimated: StaticEstimated {
                list_size: 10,
                max: 1000.0
            }
        })
    );
    let err = error(
        "demand_control: {enabled: true, strategy: {static_estimated: {list_size: 1, max: 5}}}",
    );
    assert!(err.contains("demand_control.mode: required"), "{err}");
    let err = error("demand_control: {enabled: true, mode: measure}");
    assert!(err.contains("demand_control.strategy: required"), "{err}");
    let err = error(
            "demand_control: {enabled: true, mode: measure, strategy: {static_estimated: {list_size: 1, max: -1}}}",
        );
    assert!(
        err.contains("demand_control.strategy.static_estimated.max: -1 is not a cost"),
        "{err}"
    );
    let err = error("demand_control: {mode: sometimes}");
    assert!(err.contains("unknown variant `sometimes`"), "{err}");
    let err = error("demand_control: {strategy: {dynamic: {}}}");
    assert!(err.contains("unknown field `dynamic`"), "{err}");
    let err = error(
        "demand_control: {strategy: {static_estimated: {list_size: 1, max: 5, subgraph: {}}}}",
    );
    assert!(err.contains("unknown field `subgraph`"), "{err}");
    assert!(error("demand_control: {enable: true}").contains("unknown field `enable`"));
    // Off: nothing else is required.
    assert!(Config::from_yaml_str("demand_control: {enabled: false}").is_ok());
}

#[test]
fn admin_listener() {
    let config = Config::from_yaml_str("").unwrap();
    assert_eq!(config.admin.listen, None);
    let vars = [("GOLIATH_ADMIN_TOKEN", "s3cret")];
    let config = parse_with(
        "admin:\n  listen: 127.0.0.1:9090\n  token: ${env.GOLIATH_ADMIN_TOKEN}\n",
        &vars,
    )
    .unwrap();
    assert_eq!(config.admin.listen.as_deref(), Some("127.0.0.1:9090"));
    assert_eq!(config.admin.token.as_deref(), Some("s3cret"));
    assert!(
        !format!("{config:?}").contains("s3cret"),
        "Debug hides the token"
    );
    let err = error("admin: {listen: 127.0.0.1:9090}");
    assert!(
        err.contains("admin.token: required when admin.listen is set"),
        "{err}"
    );
    let err = error("admin: {listen: nowhere, token: t}");
    assert!(
        err.contains("admin.listen: `nowhere` is not a socket address"),
        "{err}"
    );
    let err = error("listen: 127.0.0.1:4000\nadmin: {listen: 127.0.0.1:4000, token: t}");
    assert!(err.contains("admin.listen: "), "{err}");
    assert!(error("admin: {lisen: x}").contains("unknown field `lisen`"));
    // A token alone, without a listener, is fine (and unused).
    assert!(Config::from_yaml_str("admin: {token: t}").is_ok());
}

#[test]
fn load_reads_a_file_and_names_it() {
    let dir = std::env::temp_dir().join(format!("goliath-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("goliath.yaml");
    std::fs::write(&path, "introspection: false\n").unwrap();
    assert!(!Config::load(&path).unwrap().introspection);
    std::fs::write(&path, "bogus: 1\n").unwrap();
    let err = Config::load(&path).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}: bogus: unknown field `bogus`", path.display())),
        "{err}"
    );
    let missing = dir.join("missing.yaml");
    let err = Config::load(&missing).unwrap_err();
    assert!(matches!(err.kind, ConfigErrorKind::Read(_)));
    std::fs::remove_dir_all(&dir).unwrap();
}
