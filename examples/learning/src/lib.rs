//! The demo learning platform's shared parts (see `examples/README.md`):
//!
//! - [`model`]: the records (users, courses, units, exercises, classrooms,
//!   assignments, progress) and the reads the services share;
//! - [`seed`]: the demo data, written on a service's first start;
//! - [`sdl`]: progressive `@override` labels, goliath's `@migrate` and
//!   Apollo Server's `@cacheControl` hints, which async-graphql cannot
//!   write itself;
//! - [`serve`]: a service's command line (`--listen`, `--data-dir`,
//!   `--database-url`), its store, and GraphQL over HTTP.

pub mod model;
pub mod sdl;
pub mod seed;
pub mod serve;

pub use goliath_store::Store;
