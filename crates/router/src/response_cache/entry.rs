//! A kept answer, and its bytes in Redis.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

/// A kept answer: its body and the headers it was first sent with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The answer's JSON.
    pub body: Bytes,
    /// Its `max-age`, in seconds (how long it is kept).
    pub max_age: u32,
    /// Whether it is one user's own (`private`).
    pub private: bool,
    /// Its `Surrogate-Key` (or `Cache-Tag`) value, if it had one.
    pub surrogate_keys: Option<String>,
    /// When it was kept, in milliseconds since the Unix epoch.
    pub stored_at_ms: u64,
}

/// Bytes in front of an encoded entry's variable parts.
const HEADER: usize = 1 + 8 + 4 + 1 + 4;
/// The encoding's version, first byte.
const VERSION: u8 = 1;

impl Entry {
    /// An entry kept now.
    pub fn new(body: Bytes, max_age: u32, private: bool, surrogate_keys: Option<String>) -> Entry {
        Entry {
            body,
            max_age,
            private,
            surrogate_keys,
            stored_at_ms: now_ms(),
        }
    }

    /// How long it is kept.
    pub fn ttl(&self) -> Duration {
        Duration::from_secs(u64::from(self.max_age))
    }

    /// Its age now, in whole seconds (for the `Age` header); `None` once it
    /// is older than its max-age (another router's clock may differ).
    pub fn age(&self) -> Option<u32> {
        let age = now_ms().saturating_sub(self.stored_at_ms) / 1000;
        u32::try_from(age).ok().filter(|age| *age < self.max_age)
    }

    /// Roughly how many bytes it holds (the in-memory cache's weight).
    pub fn weight(&self) -> u32 {
        let n = HEADER + self.body.len() + self.surrogate_keys.as_ref().map_or(0, String::len);
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// The bytes kept in Redis.
    pub fn encode(&self) -> Vec<u8> {
        let keys = self.surrogate_keys.as_deref().unwrap_or("").as_bytes();
        let mut out = Vec::with_capacity(HEADER + keys.len() + self.body.len());
        out.push(VERSION);
        out.extend_from_slice(&self.stored_at_ms.to_le_bytes());
        out.extend_from_slice(&self.max_age.to_le_bytes());
        out.push(u8::from(self.private) | (u8::from(self.surrogate_keys.is_some()) << 1));
        out.extend_from_slice(&(keys.len() as u32).to_le_bytes());
        out.extend_from_slice(keys);
        out.extend_from_slice(&self.body);
        out
    }

    /// An entry from [`Entry::encode`]'s bytes; `None` when they are not
    /// one (another version, or damaged).
    pub fn decode(bytes: &[u8]) -> Option<Entry> {
        if bytes.len() < HEADER || bytes[0] != VERSION {
            return None;
        }
        let stored_at_ms = u64::from_le_bytes(bytes[1..9].try_into().ok()?);
        let max_age = u32::from_le_bytes(bytes[9..13].try_into().ok()?);
        let flags = bytes[13];
        let keys_len = u32::from_le_bytes(bytes[14..18].try_into().ok()?) as usize;
        let rest = &bytes[HEADER..];
        if keys_len > rest.len() {
            return None;
        }
        let (keys, body) = rest.split_at(keys_len);
        let surrogate_keys = if flags & 2 != 0 {
            Some(String::from_utf8(keys.to_vec()).ok()?)
        } else {
            None
        };
        Some(Entry {
            body: Bytes::copy_from_slice(body),
            max_age,
            private: flags & 1 != 0,
            surrogate_keys,
            stored_at_ms,
        })
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for keys in [None, Some("User User:1".to_owned()), Some(String::new())] {
            let entry = Entry::new(Bytes::from_static(b"{\"data\":{}}"), 60, true, keys);
            assert_eq!(Entry::decode(&entry.encode()), Some(entry.clone()));
            assert_eq!(entry.age(), Some(0));
        }
    }

    #[test]
    fn damaged_bytes_are_not_an_entry() {
        let entry = Entry::new(Bytes::from_static(b"{}"), 5, false, Some("A".into()));
        let bytes = entry.encode();
        assert_eq!(Entry::decode(&bytes[..10]), None);
        assert_eq!(Entry::decode(b""), None);
        let mut other = bytes.clone();
        other[0] = 9;
        assert_eq!(Entry::decode(&other), None);
        let mut long = bytes;
        long[14] = 200;
        assert_eq!(Entry::decode(&long), None);
    }

    #[test]
    fn old_entries_have_no_age() {
        let mut entry = Entry::new(Bytes::new(), 10, false, None);
        entry.stored_at_ms -= 11_000;
        assert_eq!(entry.age(), None);
        entry.stored_at_ms += 5_000;
        assert_eq!(entry.age(), Some(6));
    }
}
