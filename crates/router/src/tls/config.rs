//! The `tls:` section, in Apollo Router's shape:
//!
//! ```yaml
//! tls:
//!   subgraph:
//!     all:
//!       certificate_authorities: "${file./path/to/ca.pem}"
//!       client_authentication:
//!         certificate_chain: "${file./path/to/chain.pem}"
//!         key: "${file./path/to/key.pem}"
//!     subgraphs:
//!       products:
//!         certificate_authorities: "..."
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

/// TLS settings (`tls:`). Only the router's side as a client of its
/// subgraphs today (`tls.subgraph`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// TLS to `https://` subgraphs.
    pub subgraph: SubgraphTlsConfig,
}

/// TLS to subgraphs (`tls.subgraph:`): settings for all of them, and per
/// subgraph. A subgraph's own `certificate_authorities` and
/// `client_authentication` each replace `all`'s (as in Apollo Router).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubgraphTlsConfig {
    /// The settings of every subgraph that does not give its own.
    pub all: TlsClientConfig,
    /// Per-subgraph settings, by subgraph name.
    pub subgraphs: BTreeMap<String, TlsClientConfig>,
}

/// One set of client TLS settings (`tls.subgraph.all:` or
/// `tls.subgraph.subgraphs.<name>:`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsClientConfig {
    /// CA certificates to trust (PEM text, one or more certificates), in
    /// addition to the web PKI roots.
    pub certificate_authorities: Option<String>,
    /// A client certificate to present (mutual TLS).
    pub client_authentication: Option<ClientAuthentication>,
}

/// A client certificate and its key (`client_authentication:`). `Debug`
/// leaves the key out.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientAuthentication {
    /// The certificate chain (PEM text): the client certificate first,
    /// then any intermediates.
    pub certificate_chain: String,
    /// The certificate's private key (PEM text: PKCS#8, PKCS#1 or SEC1).
    pub key: String,
}

impl fmt::Debug for ClientAuthentication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientAuthentication")
            .field("certificate_chain", &self.certificate_chain)
            .field("key", &"<redacted>")
            .finish()
    }
}
