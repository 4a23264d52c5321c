//! `goliath cache purge`: purges a running router's response cache
//! through its admin listener (`POST /admin/cache/invalidation`), and
//! prints how many kept answers were removed.
//!
//! ```text
//! goliath cache purge --router http://127.0.0.1:9090 all
//! goliath cache purge --router URL subgraph accounts
//! goliath cache purge --router URL type User [--subgraph accounts]
//! goliath cache purge --router URL entity User '{"id": "42"}'
//! goliath cache purge --router URL tag User:42
//! ```
//!
//! The token is `--token`, else `GOLIATH_ADMIN_TOKEN`.

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::migrate::{request, AdminArgs};

/// `goliath cache …`.
#[derive(Subcommand)]
pub enum CacheCommand {
    /// Remove kept answers from the router's response cache.
    Purge(PurgeArgs),
}

/// `goliath cache purge …`.
#[derive(Args)]
pub struct PurgeArgs {
    #[command(flatten)]
    admin: AdminArgs,
    #[command(subcommand)]
    what: What,
}

/// Which answers to remove.
#[derive(Subcommand)]
enum What {
    /// Every kept answer.
    All,
    /// The answers a subgraph took part in.
    Subgraph {
        /// The subgraph's name.
        name: String,
    },
    /// The answers holding an object of a type.
    Type {
        /// The type's name.
        name: String,
        /// Only those this subgraph took part in.
        #[arg(long)]
        subgraph: Option<String>,
    },
    /// The answers holding one entity, by its key fields.
    Entity {
        /// The entity's type.
        type_name: String,
        /// Its key as JSON, e.g. '{"id": "42"}'.
        key: String,
        /// Only those this subgraph took part in.
        #[arg(long)]
        subgraph: Option<String>,
    },
    /// The answers carrying a surrogate key (as in the Surrogate-Key header).
    Tag {
        /// The key, e.g. User:42.
        tag: String,
    },
}

/// Runs `goliath cache …`.
pub fn run(command: CacheCommand) -> Result<(), String> {
    let CacheCommand::Purge(args) = command;
    let body = json!([invalidation(&args.what)?]).to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    let answer = runtime.block_on(request(
        &args.admin,
        "POST",
        "/admin/cache/invalidation",
        Some(body),
    ))?;
    let count = serde_json::from_slice::<Value>(&answer)
        .ok()
        .and_then(|v| v["count"].as_u64())
        .ok_or_else(|| {
            format!(
                "the router's answer is not {{\"count\": N}}: {}",
                String::from_utf8_lossy(&answer)
            )
        })?;
    println!(
        "purged {count} kept answer{}",
        if count == 1 { "" } else { "s" }
    );
    Ok(())
}

/// The invalidation request (Apollo Router's shape) for `what`.
fn invalidation(what: &What) -> Result<Value, String> {
    Ok(match what {
        What::All => json!({"kind": "all"}),
        What::Subgraph { name } => json!({"kind": "subgraph", "subgraph": name}),
        What::Type { name, subgraph } => {
            let mut v = json!({"kind": "type", "type": name});
            if let Some(s) = subgraph {
                v["subgraph"] = json!(s);
            }
            v
        }
        What::Entity {
            type_name,
            key,
            subgraph,
        } => {
            let key: Value = serde_json::from_str(key)
                .map_err(|e| format!("the key `{key}` is not JSON: {e}"))?;
            if !key.is_object() {
                return Err("the key must be a JSON object such as '{\"id\": \"42\"}'".into());
            }
            let mut v = json!({"kind": "entity", "type": type_name, "key": key});
            if let Some(s) = subgraph {
                v["subgraph"] = json!(s);
            }
            v
        }
        What::Tag { tag } => json!({"kind": "cache_tag", "cache_tag": tag}),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_in_apollo_shape() {
        let entity = What::Entity {
            type_name: "User".into(),
            key: r#"{"id":"1"}"#.into(),
            subgraph: Some("a".into()),
        };
        assert_eq!(
            invalidation(&entity).unwrap(),
            json!({"kind": "entity", "type": "User", "key": {"id": "1"}, "subgraph": "a"})
        );
        let bad = What::Entity {
            type_name: "User".into(),
            key: "[1]".into(),
            subgraph: None,
        };
        assert!(invalidation(&bad).is_err());
        assert_eq!(
            invalidation(&What::Tag {
                tag: "User:1".into()
            })
            .unwrap(),
            json!({"kind": "cache_tag", "cache_tag": "User:1"})
        );
    }
}
