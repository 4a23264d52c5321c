//! A cache of parsed operations, as production GraphQL servers keep one
//! (Apollo Server's document store, graphql-java's preparsed documents): a
//! gateway sends the same few operation texts over and over, and parsing
//! each again cost the subgraphs about a fifth of their CPU under the
//! benchmark's load. Validation still runs on every request.
//!
//! The parsed document is handed to async-graphql with
//! `Request::set_parsed_query` (an extension's `parse_query` hook would do
//! the same, but any extension puts every field's resolver behind the
//! extension chain, which costs more than parsing).

use std::collections::HashMap;
use std::sync::Mutex;

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{BatchRequest, Request};

/// Documents kept at most; when full, new texts are parsed and not kept.
const CAPACITY: usize = 1024;

/// Parsed operations by their text, for one schema.
#[derive(Default)]
pub struct Documents {
    docs: Mutex<HashMap<String, ExecutableDocument>>,
}

impl Documents {
    /// Gives each request of `batch` its parsed operation from the cache,
    /// parsing (and keeping) the ones not seen before. A text that does not
    /// parse is left for async-graphql to report.
    pub fn prepare(&self, batch: &mut BatchRequest) {
        match batch {
            BatchRequest::Single(r) => self.prepare_one(r),
            BatchRequest::Batch(rs) => rs.iter_mut().for_each(|r| self.prepare_one(r)),
        }
    }

    fn prepare_one(&self, request: &mut Request) {
        let cached = self.lock().get(&request.query).cloned();
        if let Some(doc) = cached {
            request.set_parsed_query(doc);
            return;
        }
        if let Ok(doc) = request.parsed_query() {
            let doc = doc.clone();
            let mut docs = self.lock();
            if docs.len() < CAPACITY {
                docs.insert(request.query.clone(), doc);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, ExecutableDocument>> {
        self.docs.lock().unwrap_or_else(|e| e.into_inner())
    }
}
