//! CSRF prevention (`csrf:`), as Apollo Router does it.
//!
//! A browser sends some cross-origin requests without asking the server
//! first (a CORS preflight): "simple" requests, whose `Content-Type` is
//! absent or one of `text/plain`, `application/x-www-form-urlencoded` and
//! `multipart/form-data`, and which carry no custom header. A page on any
//! site can make a visitor's browser send one, with the visitor's cookies.
//! Such a request is refused here unless it carries one of
//! `csrf.required_headers`, which no browser adds without a preflight. A
//! JSON POST (`Content-Type: application/json`) is never simple, so
//! ordinary clients are not affected; a GET must send one of the headers.

use http::header::CONTENT_TYPE;
use http::HeaderMap;
use serde::Deserialize;

/// The `csrf:` section of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CsrfConfig {
    /// Turns the check off (default false). Only for routers that no
    /// browser can reach with credentials.
    pub unsafe_disabled: bool,
    /// Any of these headers marks a request as one a browser preflighted
    /// (default `x-apollo-operation-name` and `apollo-require-preflight`).
    pub required_headers: Vec<String>,
}

impl Default for CsrfConfig {
    fn default() -> Self {
        CsrfConfig {
            unsafe_disabled: false,
            required_headers: vec![
                "x-apollo-operation-name".to_string(),
                "apollo-require-preflight".to_string(),
            ],
        }
    }
}

/// The content types a browser sends without a preflight.
const SIMPLE_CONTENT_TYPES: [&str; 3] = [
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
];

/// The error code of a refused request (Apollo Router's).
pub const CODE: &str = "CSRF_ERROR";

impl CsrfConfig {
    /// `Err` with the refusal message when `headers` are those of a
    /// request a browser could send cross-origin without a preflight.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), String> {
        if self.unsafe_disabled
            || content_type_needs_preflight(headers)
            || self
                .required_headers
                .iter()
                .any(|name| headers.contains_key(name.as_str()))
        {
            return Ok(());
        }
        Err(format!(
            "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). \
             Please either specify a 'content-type' header (with a mime-type that is not one of \
             {}) or provide one of the following headers: {}",
            SIMPLE_CONTENT_TYPES.join(", "),
            self.required_headers.join(", ")
        ))
    }
}

/// True when the request's `Content-Type` is one a browser only sends
/// after a preflight: present, readable, and not one of the simple types.
fn content_type_needs_preflight(headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(CONTENT_TYPE).iter().peekable();
    if values.peek().is_none() {
        return false;
    }
    values.all(|value| {
        let Ok(text) = value.to_str() else {
            return false;
        };
        let essence = text.split(';').next().unwrap_or("").trim();
        // A type/subtype is needed: anything else a browser may send as
        // it likes.
        let well_formed =
            matches!(essence.split_once('/'), Some((t, s)) if !t.is_empty() && !s.is_empty());
        well_formed
            && !SIMPLE_CONTENT_TYPES
                .iter()
                .any(|simple| essence.eq_ignore_ascii_case(simple))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_str(value).unwrap());
        }
        h
    }

    #[test]
    fn simple_requests_are_refused() {
        let csrf = CsrfConfig::default();
        for simple in [
            headers(&[]),
            headers(&[("content-type", "text/plain")]),
            headers(&[("content-type", "Text/Plain; charset=utf-8")]),
            headers(&[("content-type", "application/x-www-form-urlencoded")]),
            headers(&[("content-type", "multipart/form-data; boundary=x")]),
            headers(&[("content-type", "nonsense")]),
            headers(&[
                ("content-type", "application/json"),
                ("content-type", "text/plain"),
            ]),
        ] {
            let err = csrf.check(&simple).unwrap_err();
            assert!(err.contains("Cross-Site Request Forgery"), "{err}");
            assert!(err.contains("apollo-require-preflight"), "{err}");
        }
    }

    #[test]
    fn preflighted_requests_pass() {
        let csrf = CsrfConfig::default();
        for ok in [
            headers(&[("content-type", "application/json")]),
            headers(&[("content-type", "application/graphql-response+json")]),
            headers(&[("apollo-require-preflight", "true")]),
            headers(&[("x-apollo-operation-name", "Q")]),
            headers(&[
                ("content-type", "text/plain"),
                ("apollo-require-preflight", ""),
            ]),
        ] {
            assert_eq!(csrf.check(&ok), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn configured_headers_and_switch() {
        let csrf = CsrfConfig {
            unsafe_disabled: false,
            required_headers: vec!["x-my-client".into()],
        };
        assert!(csrf.check(&headers(&[("x-my-client", "1")])).is_ok());
        assert!(csrf
            .check(&headers(&[("apollo-require-preflight", "1")]))
            .is_err());
        let off = CsrfConfig {
            unsafe_disabled: true,
            ..CsrfConfig::default()
        };
        assert!(off.check(&headers(&[])).is_ok());
    }
}
