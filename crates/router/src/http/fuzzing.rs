//! The request decoder's synchronous parts, for the fuzz targets in
//! `fuzz/` (see `docs/fuzzing.md`). Not a stable API.

use http::HeaderMap;

use super::decode;
use crate::pipeline::Request;

/// Why a request was refused: HTTP status, error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The HTTP status code.
    pub status: u16,
    /// The GraphQL error code (`BAD_REQUEST`, ...).
    pub code: &'static str,
    /// The error message.
    pub message: String,
}

impl From<decode::DecodeError> for DecodeError {
    fn from(e: decode::DecodeError) -> Self {
        DecodeError {
            status: e.status.as_u16(),
            code: e.code,
            message: e.message,
        }
    }
}

/// A POST body, read whole, decoded as the server decodes it.
pub fn decode_post_body(body: &[u8]) -> Result<Request, DecodeError> {
    decode::decode_post_body(body).map_err(Into::into)
}

/// A GET query string decoded as the server decodes it.
pub fn decode_get(query: &str) -> Result<Request, DecodeError> {
    decode::decode_get(query).map_err(Into::into)
}

/// The response `Content-Type` chosen from the request's `Accept`
/// headers, or `None` (406).
pub fn negotiate(headers: &HeaderMap) -> Option<&'static str> {
    decode::negotiate(headers).map(|m| m.content_type())
}

/// Whether the request's `Content-Type` is accepted for a POST.
pub fn is_json_content_type(headers: &HeaderMap) -> bool {
    decode::is_json_content_type(headers)
}
