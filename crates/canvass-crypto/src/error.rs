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
    #[error("the data is damaged or was moved from where it belongs; it cannot be decrypted")]
    Tampered,
    #[error("sealing with key version {found}, but this cipher holds version {expected}")]
    WrongKeyVersion { expected: u32, found: u32 },
    #[error("the passphrase is wrong")]
    WrongPassphrase,
    #[error("the passphrase is too short: use at least 16 characters (a few random words)")]
    WeakPassphrase,
    #[error("this share cannot be used: {0}")]
    MalformedShare(&'static str),
    #[error("{have} distinct share(s) given, {need} needed")]
    NotEnoughShares { have: usize, need: usize },
    #[error("the shares do not rebuild this jurisdiction's key: one of them is wrong or forged")]
    SharesDoNotMatch,
    #[error("cannot split into {count} shares with threshold {threshold}: need 2 <= threshold <= count <= 255")]
    InvalidSharing { threshold: u8, count: u8 },
    #[error("{0}")]
    Backup(String),
    #[error("a blind index must be 1 to 63 bits long, not {0}")]
    InvalidIndexLength(u8),
    #[error("a TOTP secret must be 16 to 64 bytes long, not {0}")]
    InvalidTotpSecret(usize),
}
