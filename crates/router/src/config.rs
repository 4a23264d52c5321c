//! Configuration (placeholder).

/// Router configuration (placeholder).
#[derive(Debug, Default, Clone)]
pub struct Config {}
