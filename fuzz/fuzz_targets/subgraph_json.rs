//! The executor's JSON parser (crates/executor/src/parse.rs), with
//! `serde_json` as the oracle.
//!
//! For any input: when `serde_json` accepts it, the executor's parser must
//! accept it and build the same value (compared as `serde_json::Value`s:
//! numbers are kept as their text by the executor and read with
//! `serde_json`, repeated keys keep the last value in both); what it
//! builds must write back out (`Val::write`) as JSON that `serde_json`
//! reads as the same value, and a deep copy (`clone_in`) must equal it.
//! When `serde_json` rejects it, the executor must reject it too, except
//! where it is deliberately more lenient:
//!
//! - numbers out of `f64`'s range (`1e400`): `serde_json` refuses them, the
//!   executor keeps numbers as text that follows JSON's grammar and passes
//!   them on unread;
//! - nesting: `serde_json` refuses a 128th level, the executor allows 128
//!   levels and refuses the 129th (`parse::MAX_DEPTH`).
//!
//! In those two cases what the executor built must still write out as
//! text it would parse again to the same value.

#![no_main]

use goliath_executor::value::Buffers;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let buffers = Buffers::new();
    let mut alloc = buffers.alloc();
    let ours = goliath_executor::parse::parse(data, &mut alloc);
    let theirs = serde_json::from_slice::<Value>(data);
    match (ours, theirs) {
        (Ok(v), Ok(expected)) => {
            assert_eq!(v.to_json(), expected, "parsed value");
            let mut out = Vec::new();
            v.write(&mut out);
            let back: Value = serde_json::from_slice(&out).unwrap_or_else(|e| {
                panic!(
                    "written back as invalid JSON ({e}): {:?}",
                    String::from_utf8_lossy(&out)
                )
            });
            assert_eq!(back, expected, "written back");
            let copy = v.clone_in(&mut alloc);
            assert_eq!(copy, v, "deep copy");
        }
        (Err(_), Err(_)) => {}
        (Err(e), Ok(expected)) => panic!("executor refused valid JSON ({e}): {expected:?}"),
        (Ok(v), Err(e)) => {
            let why = e.to_string();
            assert!(
                why.starts_with("number out of range")
                    || why.starts_with("recursion limit exceeded"),
                "executor accepted what serde_json refuses ({why}): {v:?}"
            );
            let mut out = Vec::new();
            v.write(&mut out);
            let again = goliath_executor::parse::parse(&out, &mut alloc)
                .unwrap_or_else(|e| panic!("written back as text it refuses ({e})"));
            assert_eq!(again, v, "written back");
        }
    }
});
