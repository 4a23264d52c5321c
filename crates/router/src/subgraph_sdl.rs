//! Asking a running subgraph for its SDL, for composition (`goliath
//! compose`, `goliath router --compose`): `query
//! __ApolloGetServiceDefinition__ { _service { sdl } }`, as rover asks it,
//! sent by the router's own subgraph client. So the SDL is fetched with the
//! same TLS settings (`tls.subgraph`), timeout and answer cap as the
//! subgraph's query traffic, and an `https://` subgraph works the same.

use goliath_executor::client::{Resend, SubgraphClient};
use serde_json::Value;

use crate::config::Config;

/// The request body: rover's operation for a subgraph's SDL.
const QUERY: &str =
    r#"{"query":"query __ApolloGetServiceDefinition__ { _service { sdl } }","variables":{}}"#;

/// Fetches the SDL of the subgraph `name` at `url` with `config`'s
/// settings for it.
pub async fn fetch(config: &Config, name: &str, url: &str) -> Result<String, String> {
    let endpoint = crate::pipeline::endpoint(config, name, url)?;
    let body = SubgraphClient::new()
        .post(
            &endpoint,
            &http::HeaderMap::new(),
            QUERY.as_bytes().to_vec(),
            Resend::IfUnsent,
        )
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    sdl_of(&body).map_err(|e| format!("{url}: {e}"))
}

/// [`fetch`] on a runtime of its own, for callers outside one (`goliath
/// compose`, or a blocking task of the router's).
pub fn fetch_blocking(config: &Config, name: &str, url: &str) -> Result<String, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime to fetch {url}: {e}"))?;
    runtime.block_on(fetch(config, name, url))
}

/// The SDL in a subgraph's answer to [`QUERY`].
fn sdl_of(body: &[u8]) -> Result<String, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("the answer is not JSON: {e}"))?;
    if let Some(sdl) = v.pointer("/data/_service/sdl").and_then(Value::as_str) {
        return Ok(sdl.to_owned());
    }
    let errors = v
        .get("errors")
        .map(|e| e.to_string())
        .unwrap_or_else(|| "no data._service.sdl in the answer".into());
    Err(format!("the subgraph did not return its SDL: {errors}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdl_is_read_from_the_answer() {
        let body = br#"{"data":{"_service":{"sdl":"type Query { a: Int }"}}}"#;
        assert_eq!(sdl_of(body).unwrap(), "type Query { a: Int }");
        let err = sdl_of(br#"{"errors":[{"message":"nope"}]}"#).unwrap_err();
        assert!(err.contains("nope"), "{err}");
        let err = sdl_of(br#"{"data":{}}"#).unwrap_err();
        assert!(err.contains("no data._service.sdl"), "{err}");
        let err = sdl_of(b"<html>").unwrap_err();
        assert!(err.contains("not JSON"), "{err}");
    }
}
