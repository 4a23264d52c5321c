//! The HTTP layer's per-request settings that a config reload may replace
//! while the server runs ([`super::ServerState::set_settings`]): CORS,
//! GraphiQL and the content version's URL parameter.

use crate::config::Config;
use crate::cors::Cors;
use crate::graphiql::Graphiql;

/// CORS and GraphiQL, built from a [`Config`].
#[derive(Debug)]
pub struct Settings {
    /// The compiled `cors:` section.
    pub cors: Cors,
    /// The GraphiQL page, when `graphiql` (or `introspection`) turns it on.
    pub graphiql: Option<Graphiql>,
    /// The URL parameter naming the content version
    /// (`cache_control.version_parameter`).
    pub version_parameter: Option<String>,
}

impl Settings {
    /// The settings of `config`. A `cors:` section that does not compile
    /// (a config built in code, never validated) allows no origin, and
    /// the error is logged.
    pub fn new(config: &Config) -> Settings {
        let cors = Cors::new(&config.cors).unwrap_or_else(|(key, message)| {
            tracing::error!("{key}: {message}; no origin is allowed");
            Cors::deny_all()
        });
        Settings {
            cors,
            graphiql: Graphiql::new(config),
            version_parameter: config.cache_control.version_parameter.clone(),
        }
    }
}
