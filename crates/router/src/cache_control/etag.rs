//! Strong entity tags for cacheable answers, and `If-None-Match`.

use http::header::HeaderValue;

/// The strong `ETag` of a body: its 128-bit XXH3 hash in hex, quoted.
pub fn etag(body: &[u8]) -> HeaderValue {
    let hash = xxhash_rust::xxh3::xxh3_128(body);
    let text = format!("\"{hash:032x}\"");
    // Hex digits and quotes are always a valid header value.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

/// Whether the request's `If-None-Match` field values list `etag` (or
/// `*`), compared weakly as RFC 9110 (section 13.1.2) says: a `W/` prefix
/// is ignored. Values that are not entity tags match nothing.
pub fn none_match(if_none_match: &[HeaderValue], etag: &HeaderValue) -> bool {
    let etag = etag.as_bytes();
    if_none_match.iter().any(|value| {
        value.as_bytes().split(|&b| b == b',').any(|tag| {
            let tag = tag.trim_ascii();
            tag == b"*" || tag.strip_prefix(b"W/").unwrap_or(tag) == etag
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&'static str]) -> Vec<HeaderValue> {
        values.iter().map(|v| HeaderValue::from_static(v)).collect()
    }

    #[test]
    fn tags_are_quoted_hashes_of_the_body() {
        let a = etag(b"{\"data\":{}}");
        assert_eq!(a.len(), 34);
        assert!(a.to_str().unwrap().starts_with('"') && a.to_str().unwrap().ends_with('"'));
        assert_eq!(a, etag(b"{\"data\":{}}"));
        assert_ne!(a, etag(b"{\"data\":null}"));
    }

    #[test]
    fn if_none_match_lists_are_read() {
        let tag = etag(b"x");
        let t = tag.to_str().unwrap().to_owned();
        let listed = format!("\"other\", W/{t}");
        let listed = HeaderValue::from_str(&listed).unwrap();
        assert!(none_match(&[listed], &tag));
        assert!(none_match(&headers(&["*"]), &tag));
        assert!(!none_match(&headers(&["\"other\"", "junk, ,"]), &tag));
        assert!(!none_match(&[], &tag));
    }
}
