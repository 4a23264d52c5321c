//! Entry points for the fuzz targets in `fuzz/` (see `docs/fuzzing.md`):
//! the request decoder, the pipeline's synchronous stages and the JWT
//! verifier. Not a stable API.

pub use crate::http::fuzzing::{
    decode_get, decode_post_body, is_json_content_type, negotiate, DecodeError,
};
pub use crate::pipeline::fuzzing::{OperationOutcome, Prepared, Stages};

/// A JWT verifier for the `auth_token` target: the key set in the JWKS
/// file at `jwks`, the algorithms `algorithms`, the token from the
/// `Authorization` header (`Bearer`) or the `session` cookie.
pub fn jwt_verifier(
    jwks: &std::path::Path,
    algorithms: &[&str],
) -> Result<crate::auth::jwt::Jwt, String> {
    use crate::auth::config::{JwksSource, JwtConfig, TokenSource};
    let config = JwtConfig {
        jwks: vec![JwksSource {
            file: Some(jwks.to_path_buf()),
            ..Default::default()
        }],
        algorithms: algorithms.iter().map(|a| a.to_string()).collect(),
        from: vec![
            TokenSource {
                header: Some("authorization".into()),
                prefix: Some("Bearer".into()),
                cookie: None,
            },
            TokenSource {
                cookie: Some("session".into()),
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let tls = crate::tls::TlsConfig::default()
        .subgraph
        .client_config("")?;
    crate::auth::jwt::Jwt::new(&config, tls)
}
