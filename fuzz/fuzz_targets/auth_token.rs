//! JWT authentication (crates/router/src/auth/): the token's lookup, its
//! verification, and the scope and policy decisions over its claims.
//!
//! Input: byte 0 picks what the rest is:
//! - `0`: a token (UTF-8), verified against a key set of one RSA key
//!   (`kid` `rsa1`) and one HMAC key (`kid` `hs`), with RS256 and HS256
//!   accepted. No input may panic, and none may be accepted: the fuzzer
//!   holds no private key, and the HMAC secret is not in the corpus.
//! - `1`: request headers, one `name: value` a line: the token's lookup
//!   (the `Authorization` header, then the `session` cookie) must not
//!   panic, and a token it finds must be refused.
//! - `2`: claims (JSON): the scopes and the policies read from them
//!   (`crate::auth::policy`), which must not panic.

#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use goliath_router::auth::jwt::Jwt;
use goliath_router::auth::policy::Policies;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

/// The public half of `crates/router/tests/auth/rsa1.pub.pem`, and an HMAC
/// key whose secret never appears in the corpus.
const JWKS: &str = r#"{"keys": [
  {"kty": "RSA", "kid": "rsa1", "alg": "RS256", "use": "sig", "e": "AQAB",
   "n": "RSA_N"},
  {"kty": "oct", "kid": "hs", "alg": "HS256", "k": "c2VjcmV0LW5vdC1pbi10aGUtY29ycHVzLTAxMjM0NTY3ODk"}
]}"#;

struct State {
    runtime: tokio::runtime::Runtime,
    jwt: Jwt,
    policies: Policies,
}

fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("goliath-fuzz-jwks-{}.json", std::process::id()));
        std::fs::write(&path, JWKS.replace("RSA_N", RSA_N)).expect("write the JWKS");
        let jwt = goliath_router::fuzzing::jwt_verifier(&path, &["RS256", "HS256"])
            .expect("the verifier");
        let mut policies = BTreeMap::new();
        policies.insert("teacher".to_string(), r#"claims.role == "teacher""#.to_string());
        policies.insert(
            "member".to_string(),
            r#"authenticated && "staff" in claims.groups && headers["x-school"] == claims.school"#
                .to_string(),
        );
        policies.insert("size".to_string(), "size(claims.name) > 3".to_string());
        State {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime"),
            jwt,
            policies: Policies::new(&policies).expect("the policies compile"),
        }
    })
}

const RSA_N: &str = "yH9F26x9SQgns7SULsHNxVPmVYXEXAw2zAeT7B3_nZlY6mOMah3PRLOUTfgrsT2lwN8xEPOWfm6s-E8YaiaL2vwRV3rxHhve0TVk9v8b4gqYxRib64_mWn589p-F9pIRy-N1xkOT8C7YTvjxQGhXMC1AkkdrB6tYSa2F4HZO99dlcL_dMRIwMhkk-c-KdNQ7NRVt_iFJ1zyJXryTqlypF5te7tnCxd1Fhf7Mo2sTmGq0b3b04vJ1VZfmr824n7Wh6I9z-sk3_zrMn-eFkyL8RfgoCqhwuN4n_nYqEOz0p5UpfcTL3QpRAlGr8K9dsanfEdIq3-y4oLUHCHm5upqK9w";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let s = state();
    match mode % 3 {
        0 => {
            if let Ok(token) = std::str::from_utf8(rest) {
                let verdict = s.runtime.block_on(s.jwt.verify(token));
                assert!(verdict.is_err(), "a fuzzed token was accepted: {token:?}");
            }
        }
        1 => {
            let mut headers = http::HeaderMap::new();
            for line in rest.split(|b| *b == b'\n') {
                let Some(colon) = line.iter().position(|b| *b == b':') else {
                    continue;
                };
                let (Ok(name), Ok(value)) = (
                    http::HeaderName::from_bytes(&line[..colon]),
                    http::HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
                ) else {
                    continue;
                };
                headers.append(name, value);
            }
            if let Ok(Some(token)) = s.jwt.token(&headers) {
                let verdict = s.runtime.block_on(s.jwt.verify(token));
                assert!(verdict.is_err(), "a fuzzed token was accepted: {token:?}");
            }
        }
        _ => {
            let Ok(Value::Object(claims)) = serde_json::from_slice::<Value>(rest) else {
                return;
            };
            let claims: Map<String, Value> = claims;
            let _ = goliath_router::auth::scopes_of(claims.get("scope"));
            let mut headers = http::HeaderMap::new();
            headers.insert("x-school", http::HeaderValue::from_static("north"));
            let names: Vec<String> = ["teacher", "member", "size", "undefined"]
                .iter()
                .map(|n| n.to_string())
                .collect();
            let decided = s.policies.decide(&names, Some(&claims), &headers);
            assert!(!decided["undefined"]);
        }
    }
});
