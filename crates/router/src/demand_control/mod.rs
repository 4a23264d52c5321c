//! Demand control (`demand_control:`): the cost of an operation, from the
//! supergraph's `@cost` and `@listSize` (the IBM cost spec, as Apollo
//! Router reads it).
//!
//! Before planning, the operation's cost is estimated ([`estimate`]) with
//! the request's variables. In `enforce` mode an estimate over
//! `static_estimated.max` is refused (HTTP 400,
//! `COST_ESTIMATED_TOO_EXPENSIVE`) and no subgraph is asked; in `measure`
//! mode it runs and is logged. Once the operation has run, its actual cost
//! is worked out from the merged data ([`actual`]). With
//! `include_in_response: true` both are reported in the response's
//! `extensions.cost`. When demand control is off none of this runs.

mod actual;
pub mod config;
mod estimate;
mod inputs;

use apollo_compiler::executable::{ExecutableDocument, Operation};
use goliath_executor::value::Val;
use goliath_supergraph::Supergraph;
use serde_json::{json, Map, Value};

pub use actual::actual;
pub use config::{DemandControlConfig, Mode, StaticEstimated, StrategyConfig};
pub use estimate::{estimate, Estimated};

/// The result code of an operation within its budget (Apollo's name).
pub const COST_OK: &str = "COST_OK";
/// The code of an operation estimated over `max`.
pub const COST_ESTIMATED_TOO_EXPENSIVE: &str = "COST_ESTIMATED_TOO_EXPENSIVE";
/// The code of an operation whose `@listSize` slicing arguments are wrong.
pub const COST_QUERY_PARSE_FAILURE: &str = "COST_QUERY_PARSE_FAILURE";

/// Demand control as configured, for one pipeline (only when enabled).
#[derive(Debug, Clone)]
pub struct DemandControl {
    /// `measure` or `enforce`.
    pub mode: Mode,
    /// The list size assumed without `@listSize` information.
    pub list_size: f64,
    /// The largest estimated cost allowed.
    pub max: f64,
    /// Whether responses carry `extensions.cost`.
    pub include_in_response: bool,
}

/// One operation's costs, as they are known.
#[derive(Debug, Clone, PartialEq)]
pub struct Cost {
    /// The estimate made before planning.
    pub estimated: f64,
    /// The cost of what came back, once the operation has run.
    pub actual: Option<f64>,
    /// [`COST_OK`], or the code of what is wrong.
    pub result: &'static str,
}

/// Why an operation is refused: an error code and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// `COST_ESTIMATED_TOO_EXPENSIVE` or `COST_QUERY_PARSE_FAILURE`.
    pub code: &'static str,
    /// What was estimated against what maximum.
    pub message: String,
    /// The estimate.
    pub cost: Cost,
}

impl DemandControl {
    /// Demand control for `config`, or `None` when it is off.
    pub fn new(config: &DemandControlConfig) -> Option<DemandControl> {
        if !config.enabled {
            return None;
        }
        let strategy = &config.strategy.as_ref()?.static_estimated;
        Some(DemandControl {
            mode: config.mode.unwrap_or(Mode::Measure),
            list_size: f64::from(strategy.list_size),
            max: strategy.max,
            include_in_response: config.include_in_response,
        })
    }

    /// The estimate stage: the operation's estimated cost, or why it is
    /// refused (`enforce` mode only; `measure` logs instead).
    pub fn check(
        &self,
        supergraph: &Supergraph,
        doc: &ExecutableDocument,
        operation: &Operation,
        variables: &Map<String, Value>,
    ) -> Result<Cost, Refusal> {
        let Estimated { cost, violations } =
            estimate(supergraph, doc, operation, variables, self.list_size);
        let mut refusal = None;
        if let Some(first) = violations.first() {
            refusal = Some((
                COST_QUERY_PARSE_FAILURE,
                format!("Query could not be parsed: {first}"),
            ));
        } else if cost > self.max {
            refusal = Some((
                COST_ESTIMATED_TOO_EXPENSIVE,
                format!(
                    "query estimated cost {cost} exceeded configured maximum {}",
                    self.max
                ),
            ));
        }
        let Some((code, message)) = refusal else {
            tracing::debug!(estimated = cost, max = self.max, "operation cost estimated");
            return Ok(Cost {
                estimated: cost,
                actual: None,
                result: COST_OK,
            });
        };
        let estimate = Cost {
            estimated: cost,
            actual: None,
            result: code,
        };
        match self.mode {
            Mode::Enforce => Err(Refusal {
                code,
                message,
                cost: estimate,
            }),
            Mode::Measure => {
                tracing::warn!(
                    "demand control (measure mode) would refuse an operation: {message}"
                );
                Ok(estimate)
            }
        }
    }

    /// The actual cost, once the operation has run over `data`; logged.
    pub fn measure(
        &self,
        supergraph: &Supergraph,
        doc: &ExecutableDocument,
        operation: &Operation,
        variables: &Map<String, Value>,
        data: &Val<'_>,
        cost: &mut Cost,
    ) {
        let measured = actual(supergraph, doc, operation, variables, data);
        tracing::debug!(
            estimated = cost.estimated,
            actual = measured,
            "operation cost measured"
        );
        cost.actual = Some(measured);
    }

    /// `extensions.cost` for a response.
    pub fn report(&self, cost: &Cost) -> Value {
        json!({
            "estimated": number(cost.estimated),
            "actual": cost.actual.map(number),
            "max": number(self.max),
            "mode": self.mode.as_str(),
            "result": cost.result,
        })
    }

    /// The response refusing an operation: one error with Apollo's code and
    /// extensions (`cost.estimated`, `cost.max`), and the report when asked.
    pub fn refusal_body(&self, refusal: &Refusal) -> Value {
        let mut body = json!({"errors": [{
            "message": refusal.message,
            "extensions": {
                "code": refusal.code,
                "cost.estimated": number(refusal.cost.estimated),
                "cost.max": number(self.max),
            }
        }]});
        if self.include_in_response {
            body["extensions"] = json!({"cost": self.report(&refusal.cost)});
        }
        body
    }
}

/// A cost as JSON: an integer when it is one.
fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        Value::from(x)
    }
}
