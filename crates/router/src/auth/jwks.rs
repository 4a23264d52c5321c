//! The verification keys: JSON Web Key Sets from files and URLs.
//!
//! Files are read when the pipeline is built (an unreadable one fails the
//! config). URLs are fetched by a background task at once and then every
//! `poll_interval`, and again when a token names a `kid` no set holds (at
//! most once a second, so tokens with made-up `kid`s cannot flood the
//! identity provider). A fetch that fails keeps the set's last keys.

use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};

use super::config::JwksSource;
use super::fetch;

/// How often a URL is fetched when config does not say.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(60);

/// The shortest time between two fetches for an unknown `kid`.
const UNKNOWN_KID_REFETCH: Duration = Duration::from_secs(1);

/// One usable key.
pub struct Key {
    /// Its `kid`, if the set gives one.
    pub kid: Option<String>,
    /// Its `alg`, if the set gives one: then only that algorithm may use it.
    pub alg: Option<Algorithm>,
    /// The key.
    pub key: DecodingKey,
}

impl Key {
    /// Whether a token signed with `alg` may be checked with this key: the
    /// key's own `alg` if it has one, else its type's family.
    pub fn fits(&self, alg: Algorithm) -> bool {
        match self.alg {
            Some(own) => own == alg,
            None => self.key.family() == alg.family(),
        }
    }
}

/// One source's keys.
struct Source {
    config: JwksSource,
    keys: RwLock<Arc<Vec<Key>>>,
}

/// Every configured key set.
pub struct KeySets {
    sources: Vec<Source>,
    tls: Arc<rustls::ClientConfig>,
    /// When a fetch for an unknown `kid` last ran (a lock, so that
    /// concurrent requests wait for one fetch instead of each starting one).
    last_refetch: tokio::sync::Mutex<Option<Instant>>,
}

impl KeySets {
    /// Reads the files now; URLs are fetched by [`KeySets::start`] or on
    /// the first token.
    pub fn new(
        sources: &[JwksSource],
        tls: Arc<rustls::ClientConfig>,
    ) -> Result<Arc<KeySets>, String> {
        let mut out = Vec::new();
        for (i, s) in sources.iter().enumerate() {
            let keys = match (&s.url, &s.file) {
                (Some(url), None) => {
                    fetch::check_url(url)
                        .map_err(|e| format!("authentication.jwt.jwks[{i}].url: {e}"))?;
                    Vec::new()
                }
                (None, Some(path)) => {
                    let text = std::fs::read_to_string(path).map_err(|e| {
                        format!(
                            "authentication.jwt.jwks[{i}].file: cannot read {}: {e}",
                            path.display()
                        )
                    })?;
                    parse(&text).map_err(|e| {
                        format!("authentication.jwt.jwks[{i}].file {}: {e}", path.display())
                    })?
                }
                _ => {
                    return Err(format!(
                        "authentication.jwt.jwks[{i}]: give exactly one of `url` and `file`"
                    ))
                }
            };
            out.push(Source {
                config: s.clone(),
                keys: RwLock::new(Arc::new(keys)),
            });
        }
        Ok(Arc::new(KeySets {
            sources: out,
            tls,
            last_refetch: tokio::sync::Mutex::new(None),
        }))
    }

    /// Starts polling each URL on the current tokio runtime (none: the
    /// keys are fetched on the first token instead). The tasks end when
    /// the key sets are dropped (a reload built new ones).
    pub fn start(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        for i in 0..self.sources.len() {
            if self.sources[i].config.url.is_none() {
                continue;
            }
            let every = self.sources[i]
                .config
                .poll_interval
                .unwrap_or(DEFAULT_POLL_INTERVAL)
                .max(Duration::from_secs(1));
            let weak: Weak<KeySets> = Arc::downgrade(self);
            runtime.spawn(async move {
                loop {
                    let Some(sets) = weak.upgrade() else { return };
                    sets.fetch(i).await;
                    drop(sets);
                    tokio::time::sleep(every).await;
                }
            });
        }
    }

    /// Fetches source `i` (a URL) and keeps its keys, or logs why not.
    async fn fetch(&self, i: usize) {
        let Some(url) = self.sources[i].config.url.as_deref() else {
            return;
        };
        let result = fetch::get(url, &self.tls).await.and_then(|body| {
            let text = String::from_utf8(body).map_err(|_| "the JWKS is not UTF-8".to_string())?;
            parse(&text)
        });
        match result {
            Ok(keys) => {
                tracing::debug!(url, keys = keys.len(), "JWKS fetched");
                *self.sources[i]
                    .keys
                    .write()
                    .unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
            }
            Err(e) => tracing::warn!(url, "cannot fetch the JWKS ({e}); keeping its last keys"),
        }
    }

    /// Every key, from every source.
    fn all(&self) -> Vec<Arc<Vec<Key>>> {
        self.sources
            .iter()
            .map(|s| s.keys.read().unwrap_or_else(|e| e.into_inner()).clone())
            .collect()
    }

    /// Calls `check` on each key that may verify a token with `kid` and
    /// `alg`, until it returns `Some`. A `kid` no set holds fetches the
    /// URLs again first (rate-limited).
    pub async fn with_candidates<T>(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
        mut check: impl FnMut(&Key) -> Option<T>,
    ) -> Option<T> {
        let holds = |sets: &[Arc<Vec<Key>>]| match kid {
            Some(kid) => sets
                .iter()
                .any(|s| s.iter().any(|k| k.kid.as_deref() == Some(kid))),
            None => sets.iter().any(|s| !s.is_empty()),
        };
        let mut sets = self.all();
        if !holds(&sets) && self.sources.iter().any(|s| s.config.url.is_some()) {
            let mut last = self.last_refetch.lock().await;
            // Another request may have fetched while this one waited.
            sets = self.all();
            if !holds(&sets) && last.is_none_or(|t| t.elapsed() >= UNKNOWN_KID_REFETCH) {
                *last = Some(Instant::now());
                for i in 0..self.sources.len() {
                    self.fetch(i).await;
                }
                sets = self.all();
            }
        }
        for set in &sets {
            for key in set.iter() {
                let kid_matches = match kid {
                    Some(kid) => key.kid.as_deref() == Some(kid),
                    None => true,
                };
                if kid_matches && key.fits(alg) {
                    if let Some(found) = check(key) {
                        return Some(found);
                    }
                }
            }
        }
        None
    }
}

/// The usable keys of a JWKS text: keys for signing (`use` absent or
/// `sig`) that `jsonwebtoken` can read; others are skipped with a log
/// line. A text that is not a JWKS at all is an error.
pub fn parse(text: &str) -> Result<Vec<Key>, String> {
    let set: JwkSet = match serde_json::from_str(text) {
        Ok(set) => set,
        Err(_) => {
            // Keys jsonwebtoken cannot model are skipped one by one.
            let raw: serde_json::Value =
                serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
            let Some(keys) = raw.get("keys").and_then(|k| k.as_array()) else {
                return Err("not a JWKS: no `keys` list".into());
            };
            JwkSet {
                keys: keys
                    .iter()
                    .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
                    .collect(),
            }
        }
    };
    let mut keys = Vec::new();
    for jwk in &set.keys {
        if matches!(
            jwk.common.public_key_use,
            Some(ref u) if *u != jsonwebtoken::jwk::PublicKeyUse::Signature
        ) {
            continue;
        }
        if matches!(jwk.algorithm, AlgorithmParameters::Other(_)) {
            continue;
        }
        let alg = match jwk.common.key_algorithm {
            Some(ka) => match Algorithm::try_from(ka) {
                Ok(a) => Some(a),
                Err(_) => continue,
            },
            None => None,
        };
        match DecodingKey::from_jwk(jwk) {
            Ok(key) => keys.push(Key {
                kid: jwk.common.key_id.clone(),
                alg,
                key,
            }),
            Err(e) => tracing::warn!(kid = ?jwk.common.key_id, "JWKS key skipped: {e}"),
        }
    }
    Ok(keys)
}
