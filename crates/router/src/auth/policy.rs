//! `@policy` decisions: each policy name is a CEL expression in config
//! (`authorization.policies`), compiled once and evaluated per request
//! over the request's claims and headers. CEL (the Common Expression
//! Language, as in Kubernetes and Envoy) has no loops or side effects, so
//! a policy always ends quickly. Evaluated by the `cel` crate.
//!
//! An expression sees `claims` (the token's claims; `{}` when the request
//! has no token), `authenticated` (bool) and `headers` (a map of lower-case
//! header names to their first value). A policy passes when its expression
//! is `true`; an error (a missing claim, a wrong type) or any other value
//! fails it, and so does a policy the config does not define.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

/// The compiled policies.
pub struct Policies {
    programs: HashMap<String, cel::Program>,
}

impl Policies {
    /// Compiles `config` (name → expression); an expression that does not
    /// parse fails the config, naming the policy.
    pub fn new(config: &BTreeMap<String, String>) -> Result<Policies, String> {
        let mut programs = HashMap::new();
        for (name, expression) in config {
            let program = cel::Program::compile(expression)
                .map_err(|e| format!("authorization.policies.{name}: {e}"))?;
            programs.insert(name.clone(), program);
        }
        Ok(Policies { programs })
    }

    /// Whether `name` is defined.
    pub fn defines(&self, name: &str) -> bool {
        self.programs.contains_key(name)
    }

    /// Evaluates each of `names` for a request; the decisions by name.
    pub fn decide(
        &self,
        names: &[String],
        claims: Option<&Map<String, Value>>,
        headers: &http::HeaderMap,
    ) -> HashMap<String, bool> {
        if names.is_empty() {
            return HashMap::new();
        }
        let mut context = cel::Context::default();
        let claims_value =
            claims.map_or_else(|| Value::Object(Map::new()), |c| Value::Object(c.clone()));
        context.add_variable_from_value("claims", to_cel(&claims_value));
        context.add_variable_from_value("authenticated", cel::Value::Bool(claims.is_some()));
        let mut header_map = Map::new();
        for name in headers.keys() {
            if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
                header_map.insert(name.as_str().to_owned(), Value::String(v.to_owned()));
            }
        }
        context.add_variable_from_value("headers", to_cel(&Value::Object(header_map)));
        names
            .iter()
            .map(|name| {
                let passed = match self.programs.get(name) {
                    Some(program) => {
                        matches!(program.execute(&context), Ok(cel::Value::Bool(true)))
                    }
                    None => false,
                };
                (name.clone(), passed)
            })
            .collect()
    }
}

/// A JSON value as a CEL value (numbers without a fraction as ints).
fn to_cel(v: &Value) -> cel::Value {
    cel::to_value(v).unwrap_or(cel::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policies() -> Policies {
        let mut config = BTreeMap::new();
        config.insert("teacher".into(), r#"claims.role == "teacher""#.into());
        config.insert(
            "school".into(),
            r#"authenticated && headers["x-school"] == claims.school"#.into(),
        );
        config.insert("member".into(), r#""staff" in claims.groups"#.into());
        Policies::new(&config).unwrap()
    }

    #[test]
    fn policies_read_claims_and_headers() {
        let p = policies();
        let claims: Map<String, Value> = serde_json::from_str(
            r#"{"role": "teacher", "school": "north", "groups": ["staff", "x"]}"#,
        )
        .unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert("x-school", "north".parse().unwrap());
        let names: Vec<String> = ["teacher", "school", "member", "undefined"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let d = p.decide(&names, Some(&claims), &headers);
        assert!(d["teacher"] && d["school"] && d["member"]);
        assert!(!d["undefined"]);
        let anonymous = p.decide(&names, None, &headers);
        assert!(!anonymous["teacher"] && !anonymous["school"] && !anonymous["member"]);
    }

    #[test]
    fn a_bad_expression_names_its_policy() {
        let mut config = BTreeMap::new();
        config.insert("broken".into(), "claims.role ==".into());
        let e = Policies::new(&config).err().unwrap();
        assert!(e.starts_with("authorization.policies.broken:"), "{e}");
    }
}
