//! The persisted-query errors, with Apollo Router's messages, codes and
//! HTTP statuses. None may be kept by a CDN: a miss must not outlive the
//! registration or the manifest that fixes it.

use crate::pipeline::Response;

/// `Cache-Control` of every persisted-query error, `PERSISTED_QUERY_NOT_FOUND`
/// too (Apollo Router sends `private, no-cache, must-revalidate` with that
/// one; `no-store` keeps every cache from pinning the miss just as well:
/// the client registers the operation next, and the same URL must then
/// work).
const NO_STORE: &str = "no-store";

/// A persisted-query error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Error<'a> {
    /// An APQ hash nobody registered: 200, so that the client registers
    /// it.
    NotFound,
    /// A hash sent while APQ is off (and no manifest has the id).
    NotSupported,
    /// `extensions.persistedQuery.version` other than 1.
    Version(u64),
    /// An APQ registration whose text does not have the hash.
    HashMismatch,
    /// A manifest id the manifests do not have, with APQ off.
    NotInList(&'a str),
    /// An id and a body together, with APQ off.
    IdAndBody,
    /// An operation sent as text that the safelist does not have.
    NotInSafelist,
    /// An operation sent as text where only ids are taken.
    IdRequired,
}

impl Error<'_> {
    /// The pipeline's answer: the error with its status and
    /// `Cache-Control`.
    pub(super) fn response(self) -> Response {
        let (status, code, message): (u16, &str, String) = match self {
            Error::NotFound => (
                200,
                "PERSISTED_QUERY_NOT_FOUND",
                "PersistedQueryNotFound".into(),
            ),
            Error::NotSupported => (
                400,
                "PERSISTED_QUERY_NOT_SUPPORTED",
                "PersistedQueryNotSupported".into(),
            ),
            Error::Version(version) => (
                400,
                "PERSISTED_QUERY_NOT_SUPPORTED",
                format!("unsupported persisted query version {version} (only 1 is)"),
            ),
            Error::HashMismatch => (
                400,
                "PERSISTED_QUERY_HASH_MISMATCH",
                "provided sha does not match query".into(),
            ),
            Error::NotInList(id) => (
                404,
                "PERSISTED_QUERY_NOT_IN_LIST",
                format!("Persisted query '{id}' not found in the persisted query list"),
            ),
            Error::IdAndBody => (
                400,
                "CANNOT_SEND_PQ_ID_AND_BODY",
                "Sending a persisted query ID and a body in the same request is disallowed".into(),
            ),
            Error::NotInSafelist => (
                403,
                "QUERY_NOT_IN_SAFELIST",
                "The operation body was not found in the persisted query safelist".into(),
            ),
            Error::IdRequired => (
                400,
                "PERSISTED_QUERY_ID_REQUIRED",
                "This endpoint does not allow freeform GraphQL requests; operations must be \
                 sent by ID in the persisted queries GraphQL extension."
                    .into(),
            ),
        };
        Response::rejected(message, code, status, NO_STORE)
    }
}
