//! TLS to subgraphs: the `tls:` config section ([`TlsConfig`], Apollo
//! Router's keys) and the rustls client settings made from it for each
//! `https://` subgraph.
//!
//! A subgraph's certificate is checked against the web PKI roots (Mozilla's,
//! compiled in from `webpki-roots`; not the operating system's store) plus
//! the CA certificates of `certificate_authorities`. rustls runs on the
//! `ring` provider. The HTTP side (ALPN, pools) is the executor's
//! (`goliath_executor::client::TlsOrigin`).

mod config;

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

pub use config::{ClientAuthentication, SubgraphTlsConfig, TlsClientConfig, TlsConfig};

/// A bad setting: its dotted key (`tls.subgraph.all.certificate_authorities`)
/// and what is wrong with it.
pub type SettingError = (String, String);

impl TlsConfig {
    /// Checks that every configured setting makes a client config (PEM
    /// text that holds certificates, a key that fits the certificate).
    pub fn validate(&self) -> Result<(), SettingError> {
        self.subgraph.client_config_for(None)?;
        for name in self.subgraph.subgraphs.keys() {
            self.subgraph.client_config_for(Some(name))?;
        }
        Ok(())
    }
}

impl SubgraphTlsConfig {
    /// The rustls client settings for the `https://` subgraph `subgraph`:
    /// the web PKI roots plus the CA certificates configured for it (its
    /// own, else `all`'s), and its client certificate (its own, else
    /// `all`'s), if any. An error names the subgraph and the key.
    pub fn client_config(&self, subgraph: &str) -> Result<Arc<ClientConfig>, String> {
        let name = self.subgraphs.contains_key(subgraph).then_some(subgraph);
        self.client_config_for(name)
            .map(Arc::new)
            .map_err(|(key, message)| format!("subgraph `{subgraph}`: {key}: {message}"))
    }

    /// The client settings for the subgraph `name` has settings for, or
    /// for `all` (`None`).
    fn client_config_for(&self, name: Option<&str>) -> Result<ClientConfig, SettingError> {
        let own = name.and_then(|n| self.subgraphs.get(n));
        let key = |setting: &str, from_own: bool| match name {
            Some(n) if from_own => format!("tls.subgraph.subgraphs.{n}.{setting}"),
            _ => format!("tls.subgraph.all.{setting}"),
        };
        let (cas, cas_own) = match own.and_then(|o| o.certificate_authorities.as_deref()) {
            Some(pem) => (Some(pem), true),
            None => (self.all.certificate_authorities.as_deref(), false),
        };
        let (auth, auth_own) = match own.and_then(|o| o.client_authentication.as_ref()) {
            Some(auth) => (Some(auth), true),
            None => (self.all.client_authentication.as_ref(), false),
        };
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        if let Some(pem) = cas {
            let key = key("certificate_authorities", cas_own);
            for (i, cert) in certificates(pem)
                .map_err(|m| (key.clone(), m))?
                .into_iter()
                .enumerate()
            {
                roots.add(cert).map_err(|e| {
                    (
                        key.clone(),
                        format!("certificate {} is not a usable CA certificate: {e}", i + 1),
                    )
                })?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ("tls.subgraph".to_string(), e.to_string()))?
            .with_root_certificates(roots);
        let Some(auth) = auth else {
            return Ok(builder.with_no_client_auth());
        };
        let chain_key = key("client_authentication.certificate_chain", auth_own);
        let chain = certificates(&auth.certificate_chain).map_err(|m| (chain_key, m))?;
        let private_key =
            private_key(&auth.key).map_err(|m| (key("client_authentication.key", auth_own), m))?;
        builder
            .with_client_auth_cert(chain, private_key)
            .map_err(|e| (key("client_authentication", auth_own), e.to_string()))
    }
}

/// The certificates in PEM text: at least one, and nothing unreadable.
fn certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("invalid PEM: {e}"))?;
    if certs.is_empty() {
        return Err("no certificate in the PEM text (expected -----BEGIN CERTIFICATE-----)".into());
    }
    Ok(certs)
}

/// The private key in PEM text (the first one).
fn private_key(pem: &str) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => {
            "no private key in the PEM text (expected -----BEGIN PRIVATE KEY-----, \
             -----BEGIN RSA PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----)"
                .to_string()
        }
        e => format!("invalid PEM: {e}"),
    })
}
