//! Entry points for the fuzz targets in `fuzz/` (see `docs/fuzzing.md`):
//! the request decoder and the pipeline's synchronous stages. Not a stable
//! API.

pub use crate::http::fuzzing::{
    decode_get, decode_post_body, is_json_content_type, negotiate, DecodeError,
};
pub use crate::pipeline::fuzzing::{OperationOutcome, Prepared, Stages};
