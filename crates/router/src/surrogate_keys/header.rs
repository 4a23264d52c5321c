//! The tags as one header value, under the configured byte cap.

use super::{SurrogateKeysConfig, Tags};

impl Tags {
    /// The header value under `config.max_bytes`, tags joined by the
    /// header's separator (`,` for `Cache-Tag`, a space otherwise). When not
    /// all fit, the coarse keys (types) are kept first, then as many entity
    /// keys as fit, in sorted order (a tag too long for the room left is
    /// skipped, a shorter one after it may still go in). `None` when there
    /// is no tag, or none fits.
    pub fn header_value(&self, config: &SurrogateKeysConfig) -> Option<http::HeaderValue> {
        let sep = config.separator();
        let cap = config.max_bytes;
        let mut out: Vec<u8> = Vec::with_capacity(cap.min(self.len_hint()));
        for tag in self.iter() {
            let extra = tag.len() + usize::from(!out.is_empty());
            if out.len() + extra > cap {
                continue;
            }
            if !out.is_empty() {
                out.push(sep);
            }
            out.extend_from_slice(tag.as_bytes());
        }
        if out.is_empty() {
            return None;
        }
        // Tags are percent-encoded type names and values: visible ASCII only.
        http::HeaderValue::from_bytes(&out).ok()
    }

    /// The length of every tag joined, to size the buffer.
    fn len_hint(&self) -> usize {
        self.iter().map(|t| t.len() + 1).sum()
    }
}
