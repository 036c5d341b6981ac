//! Fetching a JWK Set over HTTP(S) for `tessera token verify --jwks URL`.

use std::sync::Arc;
use std::time::Duration;

use ureq::tls::{TlsConfig, TlsProvider};

use super::Failure;

/// The whole exchange (connect, TLS, headers, body) must finish within this time.
const TIMEOUT: Duration = Duration::from_secs(5);
/// A JWK Set larger than this is refused: real ones are a few KiB.
const MAX_BODY: u64 = 1024 * 1024;

/// Whether `source` is an `http://` or `https://` URL rather than a file name.
pub fn is_url(source: &str) -> bool {
    let scheme = |prefix: &str| source.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix));
    scheme("http://") || scheme("https://")
}

/// GETs `url` and returns the body, with the timeout and size cap above.
pub fn fetch(url: &str) -> Result<Vec<u8>, Failure> {
    let failed = |error: ureq::Error| Failure::usage(format!("cannot fetch the JWK Set from {url}: {error}"));
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        // aws-lc-rs, which tessera-jose uses too; with this, ureq never needs `ring`.
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .build();
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .tls_config(tls)
        .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent();
    let mut response =
        agent.get(url).header("Accept", "application/jwk-set+json, application/json").call().map_err(failed)?;
    response.body_mut().with_config().limit(MAX_BODY).read_to_vec().map_err(|error| match error {
        ureq::Error::BodyExceedsLimit(_) => {
            Failure::usage(format!("the JWK Set at {url} is larger than {} KiB", MAX_BODY / 1024))
        }
        other => failed(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_file_names() {
        assert!(is_url("https://id.example/.well-known/jwks.json"));
        assert!(is_url("HTTP://127.0.0.1:8080/jwks"));
        assert!(!is_url("jwks.json"));
        assert!(!is_url("./http:/x"));
        assert!(!is_url("ftp://x"));
    }
}
