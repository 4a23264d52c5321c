//! `demand_control:` in `goliath.yaml`, shaped as Apollo Router's:
//!
//! ```yaml
//! demand_control:
//!   enabled: true
//!   mode: enforce            # or measure
//!   strategy:
//!     static_estimated:
//!       list_size: 10        # assumed length of lists @listSize says nothing about
//!       max: 1000            # the most an operation may be estimated to cost
//!   include_in_response: true  # goliath's own: extensions.cost in responses
//! ```

use serde::Deserialize;

/// Demand control (`demand_control:`); off by default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DemandControlConfig {
    /// Estimate (and measure) operation costs (default false).
    pub enabled: bool,
    /// What to do with an operation over `max`; required when enabled.
    pub mode: Option<Mode>,
    /// How costs are estimated; required when enabled.
    pub strategy: Option<StrategyConfig>,
    /// Add `extensions.cost` (`estimated`, `actual`, `max`, `mode`,
    /// `result`) to every response (default false).
    pub include_in_response: bool,
}

// `max` is a finite number once validated, so equality is total.
impl Eq for DemandControlConfig {}

/// What demand control does with an operation estimated over `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Run it, and log it.
    Measure,
    /// Refuse it (`COST_ESTIMATED_TOO_EXPENSIVE`) before any subgraph is asked.
    Enforce,
}

impl Mode {
    /// The mode as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Measure => "measure",
            Mode::Enforce => "enforce",
        }
    }
}

/// How costs are estimated (Apollo Router's `strategy:`; the one strategy
/// is `static_estimated`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyConfig {
    /// The IBM cost spec's static estimate from `@cost` and `@listSize`.
    pub static_estimated: StaticEstimated,
}

/// `strategy.static_estimated:`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticEstimated {
    /// The length assumed for lists without `@listSize` information.
    pub list_size: u32,
    /// The largest estimated cost an operation may have.
    pub max: f64,
}

impl DemandControlConfig {
    /// Checks what serde cannot; the error names the key and the problem.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if !self.enabled {
            return Ok(());
        }
        if self.mode.is_none() {
            return Err((
                "demand_control.mode".into(),
                "required when demand control is enabled (measure or enforce)".into(),
            ));
        }
        match &self.strategy {
            None => Err((
                "demand_control.strategy".into(),
                "required when demand control is enabled (static_estimated: {list_size, max})"
                    .into(),
            )),
            Some(strategy) => {
                let max = strategy.static_estimated.max;
                if max.is_finite() && max >= 0.0 {
                    Ok(())
                } else {
                    Err((
                        "demand_control.strategy.static_estimated.max".into(),
                        format!("{max} is not a cost (a number from 0 up)"),
                    ))
                }
            }
        }
    }
}
