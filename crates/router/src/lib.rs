//! The goliath router: configuration, the GraphQL-over-HTTP server, and the
//! request pipeline (parse → validate → plan → execute) that ties the
//! supergraph model, the planner and the executor together.

pub mod admin;
pub mod auth;
pub mod cache_control;
pub mod compute;
pub mod config;
pub mod cors;
pub mod csrf;
pub mod demand_control;
#[doc(hidden)]
pub mod fuzzing;
pub mod graphiql;
pub mod headers;
pub mod http;
pub mod limits;
pub mod migrations;
pub mod persisted;
pub mod pipeline;
pub mod response_cache;
pub mod rest;
pub mod store;
pub mod subgraph_sdl;
pub mod surrogate_keys;
pub mod telemetry;
pub mod tls;
pub mod usage;

pub use config::Config;
pub use pipeline::{Body, Pipeline, Request, Response};
pub mod workers;
