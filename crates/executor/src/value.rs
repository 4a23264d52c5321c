//! The response tree while a plan runs.
//!
//! Subgraph answers are parsed into [`Val`]s that borrow their strings
//! (object keys and string values) from the answer's bytes instead of
//! copying each into its own allocation. The bytes are kept alive by
//! [`Buffers`], which lives as long as the request: the merged tree, built
//! from several answers, borrows from all of them. Objects are small
//! vectors of `(key, value)` pairs, looked up by a linear scan, which for
//! the handful of fields a GraphQL object has is faster than a tree or a
//! hash map and keeps the keys in the order the subgraph sent them.
//!
//! Lists, objects and the strings that had escapes live in the request's
//! arena (see [`crate::arena`]): a tree has no drop glue, and building or
//! changing one takes an [`Alloc`].

use std::sync::Mutex;

use bytes::Bytes;

pub use crate::arena::{AVec, Alloc};
pub use crate::parse::ParseError;

/// Holds what a request's response tree borrows from: the subgraph
/// answers, and the arena its lists, objects and decoded strings live in.
pub struct Buffers {
    kept: Mutex<Vec<Bytes>>,
    arena: Mutex<crate::arena::Arena>,
}

impl Default for Buffers {
    fn default() -> Self {
        Buffers {
            kept: Mutex::new(Vec::new()),
            arena: Mutex::new(crate::arena::take_arena()),
        }
    }
}

impl Drop for Buffers {
    fn drop(&mut self) {
        let arena = std::mem::take(self.arena.get_mut().unwrap_or_else(|e| e.into_inner()));
        crate::arena::return_arena(arena);
    }
}

impl Buffers {
    /// An empty set of buffers, with an arena from this thread's pool.
    pub fn new() -> Self {
        Self::default()
    }

    /// The right to allocate in the arena, until it is dropped. Take it
    /// for one synchronous piece of work (never across an `.await`); a
    /// second `alloc` on the same thread while one is held deadlocks.
    pub fn alloc(&self) -> Alloc<'_> {
        Alloc::new(self.arena.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// How many bytes the arena has taken from the allocator, and how many
    /// of them are in use.
    pub fn arena_bytes(&self) -> (usize, usize) {
        self.arena.lock().unwrap_or_else(|e| e.into_inner()).bytes()
    }

    /// How many bytes are kept.
    pub fn total_len(&self) -> usize {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.iter().map(Bytes::len).sum()
    }

    /// Keeps `bytes` for as long as `self` lives and lends them out.
    pub fn keep(&self, bytes: Bytes) -> &[u8] {
        let (ptr, len) = (bytes.as_ptr(), bytes.len());
        self.kept
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(bytes);
        // SAFETY: the memory a `Bytes` handle points to does not move or
        // change while any handle to it lives (moving the handle into the
        // vector moves only the handle). The handle stays in `kept`, which
        // only grows, until `self` is dropped, and the returned slice cannot
        // outlive `&self`.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}

/// A JSON value whose strings borrow from the bytes it was parsed from (or
/// from the arena, for strings that had escapes).
#[derive(Debug, PartialEq, Default)]
pub enum Val<'a> {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as the JSON text it was written as (checked against
    /// JSON's grammar when parsed).
    Num(&'a str),
    /// A string.
    Str(&'a str),
    /// A list.
    List(AVec<'a, Val<'a>>),
    /// An object.
    Obj(Obj<'a>),
}

/// A JSON object: its fields in the order they were added, each key once
/// (when parsed JSON repeats a key, the last value counts, as with
/// `serde_json`).
#[derive(Debug, PartialEq, Default)]
pub struct Obj<'a> {
    fields: AVec<'a, Field<'a>>,
}

/// One field of an object (see [`Obj`]). `tag` holds the key's first 8 bytes, so a
/// lookup compares most keys without reading them from the (likely cold)
/// answer bytes they borrow from.
#[derive(Debug, PartialEq)]
pub struct Field<'a> {
    tag: u64,
    key: &'a str,
    val: Val<'a>,
}

/// The first 8 bytes of a key, zero-padded, as one number.
#[inline]
fn tag(key: &[u8]) -> u64 {
    if let Some(head) = key.first_chunk::<8>() {
        return u64::from_le_bytes(*head);
    }
    // Shorter keys: byte by byte (a variable-length copy would call memcpy).
    key.iter().rev().fold(0u64, |t, &b| (t << 8) | u64::from(b))
}

/// The `null` that missing fields read as.
pub static NULL: Val<'static> = Val::Null;

impl<'a> Val<'a> {
    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The object, if this is one.
    pub fn as_obj(&self) -> Option<&Obj<'a>> {
        match self {
            Val::Obj(o) => Some(o),
            _ => None,
        }
    }

    /// Parses JSON text, borrowing strings from it where they have no
    /// escapes (see [`crate::parse`]).
    pub fn parse<'b: 'a>(text: &'a [u8], alloc: &mut Alloc<'b>) -> Result<Self, ParseError> {
        crate::parse::parse(text, alloc)
    }

    /// A deep copy, allocated with `alloc` (strings are shared).
    pub fn clone_in<'b: 'a>(&self, alloc: &mut Alloc<'b>) -> Val<'a> {
        match self {
            Val::Null => Val::Null,
            Val::Bool(b) => Val::Bool(*b),
            Val::Num(n) => Val::Num(n),
            Val::Str(s) => Val::Str(s),
            Val::List(items) => {
                let mut out = AVec::with_capacity(alloc, items.len());
                for item in items.iter() {
                    let copy = item.clone_in(alloc);
                    out.push(alloc, copy);
                }
                Val::List(out)
            }
            Val::Obj(o) => Val::Obj(o.clone_in(alloc)),
        }
    }

    /// Appends this value as JSON text.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Val::Null => out.extend_from_slice(b"null"),
            Val::Bool(true) => out.extend_from_slice(b"true"),
            Val::Bool(false) => out.extend_from_slice(b"false"),
            Val::Num(n) => out.extend_from_slice(n.as_bytes()),
            Val::Str(s) => write_str(out, s),
            Val::List(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write(out);
                }
                out.push(b']');
            }
            Val::Obj(o) => o.write(out),
        }
    }

    /// The same value as a `serde_json::Value` (for errors and tests).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Num(n) => serde_json::from_str(n).unwrap_or(Value::Null),
            Val::Str(s) => Value::String(s.to_string()),
            Val::List(items) => Value::Array(items.iter().map(Val::to_json).collect()),
            Val::Obj(o) => {
                Value::Object(o.iter().map(|(k, v)| (k.to_owned(), v.to_json())).collect())
            }
        }
    }
}

impl<'a> Obj<'a> {
    /// An empty object (allocates nothing).
    pub const fn new() -> Self {
        Obj {
            fields: AVec::new(),
        }
    }

    /// An empty object with room for `n` fields.
    pub fn with_capacity<'b: 'a>(alloc: &mut Alloc<'b>, n: usize) -> Self {
        Obj {
            fields: AVec::with_capacity(alloc, n),
        }
    }

    /// A deep copy, allocated with `alloc`.
    pub fn clone_in<'b: 'a>(&self, alloc: &mut Alloc<'b>) -> Obj<'a> {
        let mut out = Obj::with_capacity(alloc, self.len());
        for f in self.fields.iter() {
            let copy = f.val.clone_in(alloc);
            *out.push_slot(alloc, f.key) = copy;
        }
        out
    }

    /// Makes room for exactly `extra` more fields.
    pub fn reserve<'b: 'a>(&mut self, alloc: &mut Alloc<'b>, extra: usize) {
        self.fields.reserve_exact(alloc, extra);
    }

    /// How many fields it has.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether it has no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Where `key` is. Scanning from the front finds the fields a subgraph
    /// sent first (`__typename`, keys, the fields a path goes through)
    /// before those later fetches merged in.
    fn position(&self, key: &str) -> Option<usize> {
        let key = key.as_bytes();
        let t = tag(key);
        self.fields.iter().position(|f| {
            f.tag == t
                && f.key.len() == key.len()
                && (key.len() <= 8 || f.key.as_bytes()[8..] == key[8..])
        })
    }

    /// Keeps each key once, with its last value (in the first one's place).
    pub(crate) fn dedupe<'b: 'a>(&mut self, alloc: &mut Alloc<'b>) {
        let n = self.fields.len();
        let has_duplicates = if n <= 16 {
            (1..n).any(|j| {
                let (before, after) = self.fields.split_at(j);
                let f = &after[0];
                before.iter().any(|g| g.tag == f.tag && g.key == f.key)
            })
        } else {
            let mut seen = rustc_hash::FxHashSet::default();
            !self.fields.iter().all(|f| seen.insert(f.key))
        };
        if has_duplicates {
            let fields = std::mem::take(&mut self.fields);
            for f in fields {
                self.insert(alloc, f.key, f.val);
            }
        }
    }

    /// Removes every field.
    pub fn clear(&mut self) {
        self.fields.clear();
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Val<'a>> {
        self.position(key).map(|i| &self.fields[i].val)
    }

    /// The value under `key`, for writing.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Val<'a>> {
        self.position(key).map(move |i| &mut self.fields[i].val)
    }

    /// Sets `key` to `value`, replacing what was there.
    pub fn insert<'b: 'a>(&mut self, alloc: &mut Alloc<'b>, key: &'a str, value: Val<'a>) {
        match self.position(key) {
            Some(i) => self.fields[i].val = value,
            None => *self.push_slot(alloc, key) = value,
        }
    }

    /// Adds a field without looking for an existing one with its key: the
    /// caller knows there is none.
    #[inline]
    pub fn push<'b: 'a>(&mut self, alloc: &mut Alloc<'b>, key: &'a str, value: Val<'a>) {
        *self.push_slot(alloc, key) = value;
    }

    /// Adds a field whose value is `null` for now, without looking for an
    /// existing one with its key, and returns its value to fill in.
    #[inline]
    pub fn push_slot<'b: 'a>(&mut self, alloc: &mut Alloc<'b>, key: &'a str) -> &mut Val<'a> {
        let t = tag(key.as_bytes());
        let dst = self.fields.spare(alloc);
        // SAFETY: `spare` made room for one more field at the end; its three
        // parts are written one by one (building the field on the stack and
        // copying it in stalled the CPU on overlapping stores and loads),
        // and only then is the length raised to include it.
        unsafe {
            std::ptr::addr_of_mut!((*dst).tag).write(t);
            std::ptr::addr_of_mut!((*dst).key).write(key);
            std::ptr::addr_of_mut!((*dst).val).write(Val::Null);
            self.fields.set_len(self.fields.len() + 1);
            &mut (*dst).val
        }
    }

    /// Removes `key` and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<Val<'a>> {
        let i = self.position(key)?;
        Some(self.fields.remove(i).val)
    }

    /// The fields, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &Val<'a>)> {
        self.fields.iter().map(|f| (f.key, &f.val))
    }

    /// The fields, with their values for writing.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&'a str, &mut Val<'a>)> {
        self.fields.iter_mut().map(|f| (f.key, &mut f.val))
    }

    /// The values, for writing.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Val<'a>> {
        self.fields.iter_mut().map(|f| &mut f.val)
    }

    /// Takes the fields out, leaving the object empty.
    pub fn take_fields(&mut self) -> impl Iterator<Item = (&'a str, Val<'a>)> {
        std::mem::take(&mut self.fields)
            .into_iter()
            .map(|f| (f.key, f.val))
    }

    /// Appends this object as JSON text.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(b'{');
        for (i, Field { key: k, val: v, .. }) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(out, k);
            out.push(b':');
            v.write(out);
        }
        out.push(b'}');
    }
}

impl<'a> IntoIterator for Obj<'a> {
    type Item = (&'a str, Val<'a>);
    type IntoIter =
        std::iter::Map<crate::arena::IntoIter<'a, Field<'a>>, fn(Field<'a>) -> Self::Item>;
    fn into_iter(self) -> Self::IntoIter {
        self.fields.into_iter().map(|f| (f.key, f.val))
    }
}

/// Asks the CPU to start loading the fields of `v`, if it is an object.
/// Walks over the response tree go from list item to list item and are
/// bound by memory latency: fetching the next item's fields while this
/// one is handled hides much of it.
#[inline(always)]
pub fn prefetch(v: &Val<'_>) {
    #[cfg(target_arch = "x86_64")]
    if let Val::Obj(o) = v {
        // SAFETY: a prefetch is only a hint; it never faults or reads
        // memory into the program, whatever the address.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(o.fields.as_ptr().cast::<i8>());
        }
    }
}

/// Appends `s` as a JSON string. Most strings need no escaping: they are
/// checked in one pass and copied as they are.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let clean = s
        .bytes()
        .fold(true, |ok, b| ok & (b >= 0x20 && b != b'"' && b != b'\\'));
    if clean {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_borrowing_and_writes_back() {
        let buffers = Buffers::new();
        let mut alloc = buffers.alloc();
        let text = br#"{"a":[1,-2,3.5,true,null],"b":"x\"y","c":{"d":"plain"},"a":"last"}"#;
        let v = Val::parse(text, &mut alloc).unwrap();
        let o = v.as_obj().unwrap();
        assert_eq!(o.get("a").and_then(Val::as_str), Some("last"));
        assert_eq!(o.len(), 3, "a repeated key is kept once");
        let plain = o.get("c").and_then(|c| c.as_obj()).and_then(|c| c.get("d"));
        let Some(Val::Str(plain)) = plain else {
            panic!("{plain:?}")
        };
        assert!(
            text.as_ptr_range().contains(&plain.as_ptr()),
            "a string without escapes borrows from the text"
        );
        let mut out = vec![];
        v.write(&mut out);
        let back: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, v.to_json());
        assert_eq!(back["b"], "x\"y");
        let copy = v.clone_in(&mut alloc);
        assert_eq!(copy, v);
    }

    #[test]
    fn keys_sharing_a_prefix_are_told_apart() {
        let buffers = Buffers::new();
        let text = br#"{"shippingEstimate":1,"shippingEstimatX":2,"a":3,"a\u0000":4,"ab":5}"#;
        let v = Val::parse(text, &mut buffers.alloc()).unwrap();
        let o = v.as_obj().unwrap();
        let num = |k: &str| o.get(k).map(Val::to_json);
        assert_eq!(num("shippingEstimate"), Some(1.into()));
        assert_eq!(num("shippingEstimatX"), Some(2.into()));
        assert_eq!(num("a"), Some(3.into()));
        assert_eq!(num("a\0"), Some(4.into()));
        assert_eq!(num("ab"), Some(5.into()));
        assert_eq!(num("shipping"), None);
        assert_eq!(num("b"), None);
    }

    #[test]
    fn escapes_what_json_needs() {
        let mut out = vec![];
        write_str(&mut out, "tab\there \u{1} \\ \"q\" é");
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, "tab\there \u{1} \\ \"q\" é");
    }

    #[test]
    fn bad_json_is_an_error() {
        let buffers = Buffers::new();
        let mut alloc = buffers.alloc();
        assert!(Val::parse(b"{\"a\":", &mut alloc).is_err());
        assert!(Val::parse(b"nope", &mut alloc).is_err());
        let deep = "[".repeat(10_000);
        let err = Val::parse(deep.as_bytes(), &mut alloc)
            .unwrap_err()
            .to_string();
        assert!(err.contains("nested more than 128 levels"), "{err}");
        let deep = format!("{}{}", "{\"a\":".repeat(5_000), "}".repeat(5_000));
        assert!(Val::parse(deep.as_bytes(), &mut alloc).is_err());
        let fine = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(Val::parse(fine.as_bytes(), &mut alloc).is_ok());
    }

    #[test]
    fn buffers_keep_bytes_alive() {
        let buffers = Buffers::new();
        let a = buffers.keep(Bytes::from(b"{\"k\":\"v\"}".to_vec()));
        let b = buffers.keep(Bytes::from_static(b"[1]"));
        let mut alloc = buffers.alloc();
        let va = Val::parse(a, &mut alloc).unwrap();
        let vb = Val::parse(b, &mut alloc).unwrap();
        assert_eq!(va.to_json(), serde_json::json!({"k": "v"}));
        assert_eq!(vb.to_json(), serde_json::json!([1]));
    }

    #[test]
    fn objects_grow_and_shrink_in_the_arena() {
        let buffers = Buffers::new();
        let mut alloc = buffers.alloc();
        let mut o = Obj::new();
        let keys: Vec<String> = (0..40).map(|i| format!("key{i}")).collect();
        for (i, k) in keys.iter().enumerate() {
            let k = alloc.str(k);
            o.insert(&mut alloc, k, Val::Num(if i % 2 == 0 { "0" } else { "1" }));
        }
        assert_eq!(o.len(), 40);
        assert_eq!(o.get("key39"), Some(&Val::Num("1")));
        assert_eq!(o.remove("key0"), Some(Val::Num("0")));
        assert_eq!(o.get("key0"), None);
        assert_eq!(o.iter().next().map(|(k, _)| k), Some("key1"));
        let taken: Vec<_> = o.take_fields().collect();
        assert_eq!(taken.len(), 39);
        assert!(o.is_empty());
    }
}
