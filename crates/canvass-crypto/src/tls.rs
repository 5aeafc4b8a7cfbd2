//! TLS for the listeners: rustls with the ring provider, from PEM certificate chain and key.

use std::sync::Arc;

use rustls::{ServerConfig, crypto::CryptoProvider};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

use crate::CryptoError;

/// The provider every rustls configuration in Canvass uses.
pub fn tls_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server configuration from the PEM bytes of a certificate chain and its private key,
/// offering HTTP/2 and HTTP/1.1 and only TLS 1.2 and 1.3.
pub fn server_tls_config(certificate_pem: &[u8], private_key_pem: &[u8]) -> Result<ServerConfig, CryptoError> {
    let chain = CertificateDer::pem_slice_iter(certificate_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| CryptoError::Tls(format!("the certificate file is not PEM: {error}")))?;
    if chain.is_empty() {
        return Err(CryptoError::Tls("the certificate file holds no certificate".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(private_key_pem)
        .map_err(|error| CryptoError::Tls(format!("the private key file is not a PEM private key: {error}")))?;
    let mut config = ServerConfig::builder_with_provider(tls_provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| CryptoError::Tls(error.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|error| CryptoError::Tls(format!("the certificate and key do not form a usable pair: {error}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused_with_a_reason() {
        let error = server_tls_config(b"", b"").unwrap_err().to_string();
        assert!(error.contains("no certificate"), "{error}");
        let error = server_tls_config(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", b"junk")
            .unwrap_err()
            .to_string();
        assert!(error.contains("private key"), "{error}");
    }
}
