//! The one error type of canvass-crypto. Messages never include key material or passwords.

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the system random number generator failed")]
    Random,
    #[error("the signing key file is not a valid Ed25519 private key in PKCS#8 PEM")]
    InvalidSigningKey,
    #[error("password hashing failed: {0}")]
    PasswordHashing(String),
    #[error("the stored password hash is malformed")]
    MalformedPasswordHash,
    #[error("TLS: {0}")]
    Tls(String),
}
