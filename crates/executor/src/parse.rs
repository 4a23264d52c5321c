//! JSON text into a [`Val`], borrowing from the text.
//!
//! A small recursive-descent parser made for subgraph answers: strings
//! without escapes (nearly all of them) and numbers are slices of the input,
//! objects are built field by field with their key tags, and the string
//! scan, where most of the time goes on long texts, looks at 16 bytes per
//! step. It accepts exactly RFC 8259 JSON (one value, surrounded by
//! whitespace), so whatever it hands on can be written back out as valid
//! JSON: strings are valid UTF-8 with no raw control characters, numbers
//! follow the JSON grammar.

use std::fmt;

use crate::arena::{AVec, Alloc};
use crate::value::{Obj, Val};

/// How deeply lists and objects may nest in a subgraph answer. The parser
/// recurses once per level; the limit turns a hostile answer into an error
/// instead of a stack overflow (`serde_json` has the same default).
pub const MAX_DEPTH: u32 = 128;

/// Why a text is not the JSON it should be, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong.
    pub reason: &'static str,
    /// The byte offset where it went wrong.
    pub offset: usize,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.reason, self.offset)
    }
}

impl std::error::Error for ParseError {}

/// Parses one JSON value filling the whole of `text` (whitespace aside).
/// Lists, objects and strings that had escapes are allocated with `alloc`.
pub fn parse<'a, 'b: 'a>(text: &'a [u8], alloc: &mut Alloc<'b>) -> Result<Val<'a>, ParseError> {
    let mut p = Parser {
        s: text,
        i: 0,
        err: None,
        alloc,
        unescaped: Vec::new(),
        hints: [Hint::default(); MAX_DEPTH as usize + 1],
    };
    let mut v = Val::Null;
    if p.value(MAX_DEPTH, &mut v).is_some() {
        p.skip_ws();
        if p.i == text.len() {
            return Ok(v);
        }
        p.fail::<()>("trailing characters");
    }
    Err(p.err.take().unwrap_or(ParseError {
        reason: "invalid JSON",
        offset: p.i,
    }))
}

/// The parser's state. Its functions return `None` on an error, which they
/// record in `err` first: an `Option<Val>` is returned in registers or
/// written whole, where a `Result` with a large error stalled the CPU on
/// partly overlapping stores and loads.
struct Parser<'a, 'p, 'b> {
    s: &'a [u8],
    i: usize,
    err: Option<ParseError>,
    alloc: &'p mut Alloc<'b>,
    /// Where a string with escapes is decoded before it is copied into
    /// the arena.
    unescaped: Vec<u8>,
    /// Per nesting level, the sizes of the last object and list parsed
    /// there: siblings in a list usually have the same shape, so vectors
    /// are allocated at their final size and the arena wastes little.
    hints: [Hint; MAX_DEPTH as usize + 1],
}

/// The sizes of the last object and list parsed at one nesting level.
#[derive(Clone, Copy, Default)]
struct Hint {
    fields: u32,
    items: u32,
}

impl<'a, 'b: 'a> Parser<'a, '_, 'b> {
    /// Records an error at the cursor.
    #[cold]
    fn fail<T>(&mut self, reason: &'static str) -> Option<T> {
        self.fail_at(reason, self.i)
    }

    /// Records an error at `offset`.
    #[cold]
    fn fail_at<T>(&mut self, reason: &'static str, offset: usize) -> Option<T> {
        self.err.get_or_insert(ParseError { reason, offset });
        None
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.i += 1;
        }
    }

    /// The next non-whitespace byte, not consumed.
    #[inline]
    fn next_token(&mut self) -> Option<u8> {
        self.skip_ws();
        match self.peek() {
            Some(b) => Some(b),
            None => self.fail("unexpected end of JSON"),
        }
    }

    /// Consumes the next token if it is `b`.
    #[inline]
    fn eat(&mut self, b: u8) -> Option<bool> {
        let found = self.next_token()? == b;
        if found {
            self.i += 1;
        }
        Some(found)
    }

    /// After an item of a list or object: `true` on a `,` (another item
    /// follows), `false` on the closing `close`, else an error.
    #[inline]
    fn more(&mut self, close: u8, expected: &'static str) -> Option<bool> {
        if self.eat(b',')? {
            Some(true)
        } else if self.eat(close)? {
            Some(false)
        } else {
            self.fail(expected)
        }
    }

    /// Parses the value at the cursor into `slot`. Values are written
    /// where they will stay (a list's item, an object's field) instead of
    /// being returned: moving a returned value into place stalled the CPU
    /// on partly overlapping stores and loads.
    fn value(&mut self, depth: u32, slot: &mut Val<'a>) -> Option<()> {
        *slot = match self.next_token()? {
            b'"' => Val::Str(self.string()?),
            b'{' => return self.object(depth, slot),
            b'[' => return self.list(depth, slot),
            b't' => self.literal(b"true", Val::Bool(true))?,
            b'f' => self.literal(b"false", Val::Bool(false))?,
            b'n' => self.literal(b"null", Val::Null)?,
            b'-' | b'0'..=b'9' => self.number()?,
            _ => return self.fail("expected a JSON value"),
        };
        Some(())
    }

    fn literal(&mut self, word: &'static [u8], v: Val<'a>) -> Option<Val<'a>> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Some(v)
        } else {
            self.fail("expected a JSON value")
        }
    }

    fn object(&mut self, depth: u32, slot: &mut Val<'a>) -> Option<()> {
        let depth = self.deeper(depth)?;
        self.i += 1; // `{`
        let hint = self.hints[depth as usize].fields.max(1) as usize;
        *slot = Val::Obj(Obj::with_capacity(self.alloc, hint));
        let Val::Obj(obj) = slot else { unreachable!() };
        if self.eat(b'}')? {
            return Some(());
        }
        loop {
            if self.next_token()? != b'"' {
                return self.fail("expected an object key");
            }
            let key = self.string()?;
            if !self.eat(b':')? {
                return self.fail("expected `:`");
            }
            let slot = obj.push_slot(self.alloc, key);
            self.value(depth, slot)?;
            if !self.more(b'}', "expected `,` or `}`")? {
                break;
            }
        }
        obj.dedupe(self.alloc);
        self.hints[depth as usize].fields = obj.len() as u32;
        Some(())
    }

    fn list(&mut self, depth: u32, slot: &mut Val<'a>) -> Option<()> {
        let depth = self.deeper(depth)?;
        self.i += 1; // `[`
        let hint = self.hints[depth as usize].items.max(1) as usize;
        *slot = Val::List(AVec::with_capacity(self.alloc, hint));
        let Val::List(items) = slot else {
            unreachable!()
        };
        if self.eat(b']')? {
            return Some(());
        }
        loop {
            let slot = items.push(self.alloc, Val::Null);
            self.value(depth, slot)?;
            if !self.more(b']', "expected `,` or `]`")? {
                break;
            }
        }
        self.hints[depth as usize].items = items.len() as u32;
        Some(())
    }

    fn deeper(&mut self, depth: u32) -> Option<u32> {
        match depth.checked_sub(1) {
            Some(d) => Some(d),
            None => self.fail("JSON nested more than 128 levels deep"),
        }
    }

    /// A number, kept as its text once checked against JSON's grammar:
    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Option<Val<'a>> {
        let start = self.i;
        let s = self.s;
        let digits = |i: &mut usize| {
            let from = *i;
            while s.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i > from
        };
        let mut i = self.i;
        if s[i] == b'-' {
            i += 1;
        }
        match s.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                digits(&mut i);
            }
            _ => return self.fail_at("invalid number", i),
        }
        if s.get(i) == Some(&b'.') {
            i += 1;
            if !digits(&mut i) {
                return self.fail_at("invalid number", i);
            }
        }
        if let Some(b'e' | b'E') = s.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = s.get(i) {
                i += 1;
            }
            if !digits(&mut i) {
                return self.fail_at("invalid number", i);
            }
        }
        self.i = i;
        // SAFETY: the bytes checked above are all ASCII.
        Some(Val::Num(unsafe {
            std::str::from_utf8_unchecked(&s[start..i])
        }))
    }

    /// A string (the cursor is on its opening quote): borrowed when it has
    /// no escapes, else decoded into an owned one.
    #[inline(always)]
    fn string(&mut self) -> Option<&'a str> {
        self.i += 1;
        let start = self.i;
        let mut ascii = true;
        let mut escaped = false;
        let mut seg = start; // start of the run not yet copied into `unescaped`
        loop {
            self.i = find_special(self.s, self.i);
            let Some(b) = self.peek() else {
                return self.fail("unterminated string");
            };
            match b {
                b'"' => break,
                b'\\' => {
                    let mut buf = std::mem::take(&mut self.unescaped);
                    if !escaped {
                        buf.clear();
                        escaped = true;
                    }
                    buf.extend_from_slice(&self.s[seg..self.i]);
                    let decoded = self.escape(&mut buf);
                    self.unescaped = buf;
                    decoded?;
                    seg = self.i;
                }
                0x80.. => {
                    ascii = false;
                    self.i += 1;
                }
                _ => return self.fail("control character in string"),
            }
        }
        let end = self.i;
        self.i += 1; // closing quote
        if !escaped {
            let bytes = &self.s[start..end];
            if ascii {
                // SAFETY: every byte was checked to be below 0x80.
                return Some(unsafe { std::str::from_utf8_unchecked(bytes) });
            }
            return match std::str::from_utf8(bytes) {
                Ok(s) => Some(s),
                Err(e) => self.fail_at("invalid UTF-8 in string", start + e.valid_up_to()),
            };
        }
        self.unescaped.extend_from_slice(&self.s[seg..end]);
        match std::str::from_utf8(&self.unescaped) {
            Ok(s) => Some(self.alloc.str(s)),
            Err(_) => self.fail_at("invalid UTF-8 in string", start),
        }
    }

    /// Decodes the escape at the cursor (on its backslash) into `buf`.
    fn escape(&mut self, buf: &mut Vec<u8>) -> Option<()> {
        let c = self.s.get(self.i + 1).copied();
        self.i += 2;
        let byte = match c {
            Some(b'"') => b'"',
            Some(b'\\') => b'\\',
            Some(b'/') => b'/',
            Some(b'b') => 0x08,
            Some(b'f') => 0x0c,
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b't') => b'\t',
            Some(b'u') => {
                let ch = self.unicode_escape()?;
                let mut utf8 = [0u8; 4];
                buf.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
                return Some(());
            }
            _ => {
                self.i -= 1;
                return self.fail("invalid escape");
            }
        };
        buf.push(byte);
        Some(())
    }

    /// The character of a `\uXXXX` escape (the cursor just after the `u`),
    /// joining a surrogate pair written as two escapes.
    fn unicode_escape(&mut self) -> Option<char> {
        let hi = self.hex4()?;
        let code = match hi {
            0xD800..=0xDBFF => {
                if !self.s[self.i..].starts_with(b"\\u") {
                    return self.fail("lone surrogate in \\u escape");
                }
                self.i += 2;
                let lo = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return self.fail("lone surrogate in \\u escape");
                }
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            0xDC00..=0xDFFF => return self.fail("lone surrogate in \\u escape"),
            _ => hi,
        };
        match char::from_u32(code) {
            Some(c) => Some(c),
            None => self.fail("invalid \\u escape"),
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.s.get(self.i..self.i + 4).and_then(|hex| {
            hex.iter()
                .try_fold(0, |n, &h| Some(n * 16 + (h as char).to_digit(16)?))
        });
        match digits {
            Some(n) => {
                self.i += 4;
                Some(n)
            }
            None => self.fail("invalid \\u escape"),
        }
    }
}

/// The index of the first byte at or after `i` that a string scan must
/// stop at: `"`, `\`, a control character or a non-ASCII byte; `s.len()`
/// when there is none.
#[inline]
fn find_special(s: &[u8], mut i: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        // SSE2 is part of x86_64's baseline.
        use std::arch::x86_64::*;
        while i + 16 <= s.len() {
            // SAFETY: 16 bytes from `i` are in bounds (checked above), and
            // the load has no alignment requirement.
            let mask = unsafe {
                let chunk = _mm_loadu_si128(s.as_ptr().add(i).cast());
                let quote = _mm_cmpeq_epi8(chunk, _mm_set1_epi8(b'"' as i8));
                let slash = _mm_cmpeq_epi8(chunk, _mm_set1_epi8(b'\\' as i8));
                // As signed bytes, control characters and bytes >= 0x80
                // are exactly those less than 0x20.
                let low = _mm_cmplt_epi8(chunk, _mm_set1_epi8(0x20));
                _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, slash), low))
            };
            if mask != 0 {
                return i + mask.trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    while i < s.len() {
        let b = s[i];
        if b == b'"' || b == b'\\' || !(0x20..0x80).contains(&b) {
            return i;
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Buffers;
    use serde_json::Value;

    /// Parses `text` into a throwaway arena and returns it as JSON.
    fn parse_json(text: &[u8]) -> Result<Value, ParseError> {
        let buffers = Buffers::new();
        let mut alloc = buffers.alloc();
        parse(text, &mut alloc).map(|v| v.to_json())
    }

    /// Parses with both parsers and checks they agree.
    fn same_as_serde(text: &str) {
        let ours = parse_json(text.as_bytes());
        let theirs: Result<Value, _> = serde_json::from_str(text);
        match (ours, theirs) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("{text:?}: ours {a:?}, serde_json {b:?}"),
        }
    }

    #[test]
    fn agrees_with_serde_json() {
        for text in [
            "null",
            " true ",
            "false",
            "0",
            "-0",
            "12",
            "-3.25",
            "1e3",
            "1E-2",
            "2.5e+7",
            "18446744073709551615",
            "\"\"",
            "\"plain text, long enough to take the 16-byte path twice over\"",
            r#""esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 end""#,
            "\"héllo wörld, non-ASCII past the sixteenth byte: ✓\"",
            "[]",
            "[1,[2,[3]],{}]",
            r#"{"a":1,"b":{"c":[true,null]},"d":"x"}"#,
            " { \"a\" : [ 1 , 2 ] } ",
            // malformed
            "",
            "nul",
            "01",
            "1.",
            "-",
            "1e",
            ".5",
            "+1",
            "[1,]",
            "[1 2]",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "{a:1}",
            "\"unterminated",
            "\"bad \\x escape\"",
            "\"lone \\ud800 surrogate\"",
            "\"\\udc00\"",
            "\"raw \t tab\"",
            "[1] x",
            "\u{1}",
        ] {
            same_as_serde(text);
        }
    }

    #[test]
    fn rejects_invalid_utf8() {
        assert!(parse_json(b"\"\xff\"").is_err());
        assert!(parse_json(b"\"abcdefghijklmnopqrstuvwxyz\xc3\x28\"").is_err());
        assert!(parse_json("\"é\"".as_bytes()).is_ok());
    }

    #[test]
    fn borrows_plain_strings_and_numbers() {
        let text = br#"{"k":"plain","e":"a\nb","n":-1.5e3}"#;
        let buffers = Buffers::new();
        let v = parse(text, &mut buffers.alloc()).unwrap();
        let o = v.as_obj().unwrap();
        let borrowed = |v: Option<&Val>| match v {
            Some(Val::Str(s)) => text.as_ptr_range().contains(&s.as_ptr()),
            _ => false,
        };
        assert_eq!(o.get("k"), Some(&Val::Str("plain")));
        assert!(borrowed(o.get("k")));
        assert_eq!(o.get("e"), Some(&Val::Str("a\nb")));
        assert!(!borrowed(o.get("e")), "a string with escapes is decoded");
        assert!(matches!(o.get("n"), Some(Val::Num("-1.5e3"))));
    }

    #[test]
    fn large_answers_cross_arena_blocks() {
        // Many objects (several 16 KB arena blocks), long lists (grown past
        // their size hints) and strings with escapes both small and larger
        // than a block (allocated from the arena directly).
        let long = "x\\\"y".repeat(20_000);
        let items: Vec<String> = (0..5_000)
            .map(|i| {
                format!(
                    r#"{{"id":{i},"name":"n\t{i}","tags":[{}]}}"#,
                    "1,".repeat(i % 7) + "0"
                )
            })
            .collect();
        let text = format!(r#"{{"items":[{}],"long":"{long}"}}"#, items.join(","));
        same_as_serde(&text);
        let buffers = Buffers::new();
        let v = parse(text.as_bytes(), &mut buffers.alloc()).unwrap();
        let o = v.as_obj().unwrap();
        assert_eq!(
            o.get("long").and_then(Val::as_str).map(str::len),
            Some(60_000)
        );
        let mut out = vec![];
        v.write(&mut out);
        let back: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(&text).unwrap());
    }

    #[test]
    fn errors_say_where() {
        let buffers = Buffers::new();
        let e = parse(b"[1, x]", &mut buffers.alloc()).unwrap_err();
        assert_eq!(e.offset, 4);
        assert_eq!(e.to_string(), "expected a JSON value at byte 4");
    }
}
