//! `goliath compose` (crates/compose) on generated subgraph SDL.
//!
//! Input: byte 0 is a set of flags, the rest the subgraphs:
//! - bit 0 clear: the rest is text, split on `~` into at most 3 subgraph
//!   SDLs (named `a`, `b`, `c`);
//! - bit 0 set: the rest drives `apollo-smith` to generate 2 or 3 type
//!   system documents (its executable definitions dropped);
//! - bit 1: each SDL is prefixed with a Federation 2 `extend schema
//!   @link(...)` importing the federation directives (bits 2-3 pick the
//!   version: v2.0, v2.3, v2.7 or v2.9), so inputs reach past reading the
//!   subgraphs into merging and the checks.
//!
//! Checks: no panic, no hang (libFuzzer's `-timeout`), and what composes
//! loads as a supergraph (`compose` checks that itself) and composes the
//! same way a second time (composition is deterministic).

#![no_main]

use apollo_compiler::ast;
use arbitrary::Unstructured;
use goliath_compose::{compose, SubgraphInput};
use libfuzzer_sys::fuzz_target;

const VERSIONS: [&str; 4] = ["2.0", "2.3", "2.7", "2.9"];

/// The federation directives imported by the header.
const IMPORTS: &str = r#"["@key", "@shareable", "@external", "@requires", "@provides", "@override", "@inaccessible", "@interfaceObject", "@tag", "@composeDirective"]"#;

/// Up to 3 type system documents generated from `bytes`.
fn generated(bytes: &[u8]) -> Vec<String> {
    let mut u = Unstructured::new(bytes);
    let n = u.int_in_range(2..=3usize).unwrap_or(2);
    let mut docs = Vec::new();
    for _ in 0..n {
        let Ok(len) = u.arbitrary_len::<u8>() else {
            break;
        };
        let Ok(part) = u.bytes(len) else { break };
        let mut part = Unstructured::new(part);
        let Ok(builder) = apollo_smith::DocumentBuilder::new(&mut part) else {
            continue;
        };
        let doc: ast::Document = builder.finish().into();
        let mut types = ast::Document::new();
        types.definitions = doc
            .definitions
            .into_iter()
            .filter(|d| {
                !matches!(
                    d,
                    ast::Definition::OperationDefinition(_)
                        | ast::Definition::FragmentDefinition(_)
                )
            })
            .collect();
        docs.push(types.to_string());
    }
    docs
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let sdls: Vec<String> = if flags & 1 == 0 {
        String::from_utf8_lossy(rest)
            .splitn(3, '~')
            .map(str::to_owned)
            .collect()
    } else {
        generated(rest)
    };
    let header = (flags & 2 != 0).then(|| {
        let version = VERSIONS[usize::from(flags >> 2) & 3];
        format!(
            "extend schema @link(url: \"https://specs.apollo.dev/federation/v{version}\", import: {IMPORTS})\n"
        )
    });
    let inputs: Vec<SubgraphInput> = sdls
        .into_iter()
        .enumerate()
        .map(|(i, sdl)| SubgraphInput {
            name: ["a", "b", "c"][i].to_owned(),
            url: format!("http://127.0.0.1:{}/graphql", 4001 + i),
            sdl: match &header {
                Some(h) => format!("{h}{sdl}"),
                None => sdl,
            },
        })
        .collect();
    let first = compose(&inputs);
    if let Ok(sdl) = &first {
        match compose(&inputs) {
            Ok(again) => assert_eq!(&again, sdl, "composed differently a second time"),
            Err(e) => panic!("composed, then did not: {e:?}"),
        }
    }
});
