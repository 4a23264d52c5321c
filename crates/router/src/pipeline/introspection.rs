//! The introspection stage: `__schema` and `__type` root fields are
//! answered here, from the API schema, as JSON text that the projection
//! copies into the response.

use apollo_compiler::executable::Operation;
use apollo_compiler::schema::Implementers;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Name, Schema};
use serde_json::Value;

use super::Response;

/// Introspection answers: root fields as JSON text (by response key), and
/// errors.
#[derive(Default)]
pub struct Answers {
    /// Response key → JSON text.
    pub verbatim: Vec<(String, Vec<u8>)>,
    /// Errors raised while answering.
    pub errors: Vec<Value>,
}

/// The inputs of the introspection stage.
pub struct Introspection<'a> {
    /// The API schema.
    pub schema: &'a Valid<Schema>,
    /// Its implementers map (computed once per supergraph).
    pub implementers: &'a apollo_compiler::collections::HashMap<Name, Implementers>,
    /// Whether introspection is allowed at all.
    pub enabled: bool,
}

impl Introspection<'_> {
    /// Answers the operation's introspection root fields, if it has any;
    /// `Err` is the response that refuses the request.
    #[allow(clippy::result_large_err)]
    pub fn answer(
        &self,
        doc: &Valid<ExecutableDocument>,
        operation: &Operation,
        coerce: impl FnOnce() -> Result<Valid<apollo_compiler::response::JsonMap>, Response>,
    ) -> Result<Answers, Response> {
        let mut answers = Answers::default();
        let has_introspection = operation
            .root_fields(doc)
            .any(|f| f.name == "__schema" || f.name == "__type");
        if !has_introspection {
            return Ok(answers);
        }
        if !self.enabled {
            return Err(Response::request_error(
                "GraphQL introspection is not allowed, but the query contained __schema or __type",
                "INTROSPECTION_DISABLED",
            ));
        }
        if let Err(e) = apollo_compiler::introspection::check_max_depth(doc, operation) {
            return Err(Response::request_error(
                e.message().to_string(),
                "GRAPHQL_VALIDATION_FAILED",
            ));
        }
        let coerced = coerce()?;
        match apollo_compiler::introspection::partial_execute(
            self.schema,
            self.implementers,
            doc,
            operation,
            &coerced,
        ) {
            Ok(resp) => {
                // Kept as JSON text: apollo-compiler's maps keep the
                // order the client asked for.
                for (key, value) in resp.data.iter().flatten() {
                    if let Ok(text) = serde_json::to_vec(value) {
                        answers.verbatim.push((key.as_str().to_owned(), text));
                    }
                }
                for e in resp.errors {
                    if let Ok(v) = serde_json::to_value(&e) {
                        answers.errors.push(v);
                    }
                }
                Ok(answers)
            }
            Err(e) => Err(Response::request_error(
                e.message().to_string(),
                "GRAPHQL_VALIDATION_FAILED",
            )),
        }
    }
}
