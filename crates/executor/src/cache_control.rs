//! The `Cache-Control` of subgraph answers, read into [`CacheControl`] and
//! merged across the answers of one client request (the strictest wins).
//!
//! The executor only reads the header; what the router answers with (the
//! default for an answer that says nothing, queries only, no errors) is
//! the router's policy.

/// What one or more subgraph answers' `Cache-Control` allow. The
/// [`Default`] is what no answer at all allows: nothing said, the
/// identity of [`CacheControl::merge`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheControl {
    /// The lowest `max-age` (or `s-maxage`, when lower) the answers gave,
    /// in seconds; `None` when none gave one.
    pub max_age: Option<u32>,
    /// Some answer gave no usable `max-age` or `s-maxage` (no header, or
    /// one without them): the router applies its default to it.
    pub missing_max_age: bool,
    /// Some answer said `private`.
    pub private: bool,
    /// Some answer said `no-store`.
    pub no_store: bool,
    /// Some answer said `no-cache`.
    pub no_cache: bool,
}

/// The largest delta-seconds kept: RFC 9111, section 1.2.2 (2^31).
const MAX_SECONDS: u32 = 1 << 31;

impl CacheControl {
    /// One answer's `Cache-Control`, from the values of its
    /// `Cache-Control` header fields (none: no header). Directive names are
    /// case-insensitive; unknown directives and values that are not
    /// decimal seconds are ignored (an ignored `max-age` counts as
    /// missing); the lower of `max-age` and `s-maxage` is kept.
    pub fn parse<'v>(values: impl IntoIterator<Item = &'v [u8]>) -> CacheControl {
        let mut cc = CacheControl::default();
        for value in values {
            cc.read(value);
        }
        cc.finish()
    }

    /// Reads one `Cache-Control` field value of an answer into this.
    pub(crate) fn read(&mut self, value: &[u8]) {
        for directive in value.split(|&b| b == b',') {
            self.directive(directive.trim_ascii());
        }
    }

    /// One answer's, once all its values are read.
    pub(crate) fn finish(mut self) -> CacheControl {
        self.missing_max_age = self.max_age.is_none();
        self
    }

    /// Reads one directive (`name` or `name=value`).
    fn directive(&mut self, directive: &[u8]) {
        let (name, value) = match directive.iter().position(|&b| b == b'=') {
            Some(i) => (directive[..i].trim_ascii(), Some(&directive[i + 1..])),
            None => (directive, None),
        };
        let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
        if is("max-age") || is("s-maxage") {
            if let Some(seconds) = value.and_then(seconds) {
                self.max_age = Some(self.max_age.map_or(seconds, |m| m.min(seconds)));
            }
        } else if is("private") {
            self.private = true;
        } else if is("no-store") {
            self.no_store = true;
        } else if is("no-cache") {
            self.no_cache = true;
        }
    }

    /// Merges `other` (another answer's) into this: the lowest `max-age`
    /// wins, and every other constraint of either holds.
    pub fn merge(&mut self, other: &CacheControl) {
        self.max_age = match (self.max_age, other.max_age) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.missing_max_age |= other.missing_max_age;
        self.private |= other.private;
        self.no_store |= other.no_store;
        self.no_cache |= other.no_cache;
    }
}

/// Delta-seconds: decimal digits (optionally quoted), capped at 2^31.
fn seconds(value: &[u8]) -> Option<u32> {
    let value = value.trim_ascii();
    let value = match value {
        [b'"', inner @ .., b'"'] => inner,
        _ => value,
    };
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut n: u64 = 0;
    for &d in value {
        n = (n * 10 + u64::from(d - b'0')).min(u64::from(MAX_SECONDS));
    }
    u32::try_from(n).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(values: &[&str]) -> CacheControl {
        CacheControl::parse(values.iter().map(|v| v.as_bytes()))
    }

    #[test]
    fn directives_are_read() {
        let cc = parse(&["public, max-age=60"]);
        assert_eq!(cc.max_age, Some(60));
        assert!(!cc.missing_max_age && !cc.private && !cc.no_store && !cc.no_cache);
        let cc = parse(&["Max-Age=60, S-MAXAGE=30", "PRIVATE"]);
        assert_eq!((cc.max_age, cc.private), (Some(30), true));
        let cc = parse(&["max-age=\"10\", no-store, no-cache"]);
        assert_eq!(
            (cc.max_age, cc.no_store, cc.no_cache),
            (Some(10), true, true)
        );
        assert_eq!(parse(&["max-age = 5"]).max_age, Some(5));
        assert_eq!(
            parse(&["max-age=99999999999999999999"]).max_age,
            Some(1 << 31)
        );
    }

    #[test]
    fn no_header_or_no_max_age_is_missing() {
        assert!(parse(&[]).missing_max_age);
        assert!(parse(&["public"]).missing_max_age);
        assert_eq!(parse(&[]).max_age, None);
    }

    #[test]
    fn bad_values_are_ignored() {
        for bad in [
            "max-age=-1",
            "max-age=abc",
            "max-age=",
            "max-age",
            "max-age=1.5",
            "max-age=\"",
            "max-age=0x10",
            ",,,",
            "=",
            "=60",
            "\u{ff}\u{fe}",
        ] {
            let cc = parse(&[bad]);
            assert_eq!(cc.max_age, None, "{bad:?}");
            assert!(cc.missing_max_age, "{bad:?}");
            assert!(!cc.private && !cc.no_store, "{bad:?}");
        }
        // A bad directive does not hide the good ones next to it.
        let cc = parse(&["max-age=x, private, s-maxage=7, no-storex"]);
        assert_eq!(
            (cc.max_age, cc.private, cc.no_store),
            (Some(7), true, false)
        );
        // Arbitrary bytes never panic.
        let junk: Vec<u8> = (0..=255u8).collect();
        CacheControl::parse([junk.as_slice(), &b"max-age=\xff1"[..], &b"\"\"=\""[..]]);
    }

    #[test]
    fn merging_keeps_the_strictest() {
        let mut all = CacheControl::default();
        all.merge(&parse(&["max-age=60"]));
        assert_eq!(all, parse(&["max-age=60"]), "the default is the identity");
        all.merge(&parse(&["max-age=30, private"]));
        assert_eq!((all.max_age, all.private), (Some(30), true));
        all.merge(&parse(&["max-age=90, public"]));
        assert_eq!((all.max_age, all.private), (Some(30), true));
        assert!(!all.missing_max_age);
        all.merge(&parse(&[]));
        assert!(all.missing_max_age);
        assert_eq!(all.max_age, Some(30));
        all.merge(&parse(&["no-store"]));
        assert!(all.no_store);
    }
}
