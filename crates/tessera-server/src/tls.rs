//! Native TLS (`tls.cert` + `tls.key`) with rustls on aws-lc-rs. The certificate is held
//! behind a resolver so that a reload (SIGHUP) swaps it for new handshakes without a
//! restart; a reload that fails keeps the certificate in use and says why.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::ServerConfig;
use rustls::crypto::aws_lc_rs;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::config::TlsConfig;

/// Why a certificate could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Only one of the two files is configured.
    #[error("{0}: missing ({1} is set; native TLS needs both)")]
    Incomplete(&'static str, &'static str),
    /// A file could not be read or holds no usable PEM.
    #[error("{key} {path}: {message}")]
    File {
        /// The configuration key naming the file.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// rustls refused the key or the configuration.
    #[error("tls: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The certificate in use and the files it is read from.
#[derive(Debug)]
pub struct TlsCertificate {
    cert_path: PathBuf,
    key_path: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
}

impl TlsCertificate {
    /// Loads `tls.cert` and `tls.key`; `None` when neither is set.
    pub fn from_config(config: &TlsConfig) -> Result<Option<Arc<TlsCertificate>>, TlsError> {
        match (&config.cert, &config.key) {
            (None, None) => Ok(None),
            (Some(_), None) => Err(TlsError::Incomplete("tls.key", "tls.cert")),
            (None, Some(_)) => Err(TlsError::Incomplete("tls.cert", "tls.key")),
            (Some(cert), Some(key)) => {
                let current = RwLock::new(Arc::new(load(cert, key)?));
                Ok(Some(Arc::new(TlsCertificate { cert_path: cert.clone(), key_path: key.clone(), current })))
            }
        }
    }

    /// Reads both files again and, if they hold a matching certificate and key, uses them for
    /// every new connection. On failure the old certificate stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = Arc::new(load(&self.cert_path, &self.key_path)?);
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }

    /// A TLS acceptor that resolves to whatever certificate is current.
    pub fn acceptor(self: &Arc<Self>) -> Result<TlsAcceptor, TlsError> {
        let mut config = ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(self) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

impl ResolvesServerCert for TlsCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner())))
    }
}

fn load(cert_path: &Path, key_path: &Path) -> Result<CertifiedKey, TlsError> {
    let file_error = |key, path: &Path, message: String| TlsError::File { key, path: path.to_owned(), message };
    let certs = CertificateDer::pem_file_iter(cert_path)
        .and_then(|items| items.collect::<Result<Vec<_>, _>>())
        .map_err(|e| file_error("tls.cert", cert_path, e.to_string()))?;
    if certs.is_empty() {
        return Err(file_error("tls.cert", cert_path, "no CERTIFICATE block".into()));
    }
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| file_error("tls.key", key_path, e.to_string()))?;
    let signing_key = aws_lc_rs::sign::any_supported_type(&key)
        .map_err(|e| file_error("tls.key", key_path, format!("unusable private key: {e}")))?;
    let certified = CertifiedKey::new(certs, signing_key);
    certified.keys_match().map_err(|e| file_error("tls.key", key_path, format!("does not match tls.cert: {e}")))?;
    Ok(certified)
}
