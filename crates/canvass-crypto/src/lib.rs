//! The one place Canvass calls its crypto provider (ring, RustCrypto's argon2, rustls's ring
//! provider). Everything else asks this crate for signing, password hashing and TLS, so the
//! provider can be reviewed, audited or swapped in one crate.

mod backup;
mod blind;
mod error;
mod field;
mod keyring;
mod password;
mod signing;
mod tls;
mod totp;

pub use backup::{decrypt_backup, encrypt_backup};
pub use blind::{IndexKey, choose_index_bits, expected_matches};
pub use error::CryptoError;
pub use field::{FieldCipher, FieldContext, SecretKey, sealed_key_version};
pub use keyring::{
    KeyLabel, MINIMUM_PASSPHRASE_CHARACTERS, PassphraseSealer, RootKey, RootSealer, Share, combine_shares, split_root,
};
pub use password::{PasswordHash, generate_password, hash_password, verify_password};
pub use secrecy::{ExposeSecret, SecretString};
pub use signing::{NodeSigningKey, PublicKey};
pub use tls::{server_tls_config, tls_provider};
pub use totp::{TOTP_DIGITS, TOTP_STEP_SECONDS, TotpSecret};

/// SHA-256 of the concatenation of `parts`: the Merkle tree's hash (RFC 6962 prefixes a domain
/// byte to each leaf and node, which callers pass as the first part).
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    for part in parts {
        context.update(part);
    }
    let mut hash = [0u8; 32];
    hash.copy_from_slice(context.finish().as_ref());
    hash
}

/// SHA-256 of everything `input` yields, as lowercase hex.
pub fn sha256_hex(input: &mut impl std::io::Read) -> std::io::Result<String> {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = input.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        context.update(&buffer[..read]);
    }
    Ok(context.finish().as_ref().iter().map(|byte| format!("{byte:02x}")).collect())
}

/// `bytes` random bytes from the operating system, as unpadded base64url: session cookies,
/// API token secrets, anti-forgery tokens and request ids that must not be guessable.
pub fn random_token(bytes: usize) -> Result<String, CryptoError> {
    use base64::Engine;
    use ring::rand::SecureRandom;
    let mut buffer = vec![0u8; bytes];
    ring::rand::SystemRandom::new().fill(&mut buffer).map_err(|_| CryptoError::Random)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer))
}

/// `bytes` random bytes as lowercase hex: public identifiers (API token ids, request and
/// incident ids) that must not be guessable or collide.
pub fn random_hex(bytes: usize) -> Result<String, CryptoError> {
    use ring::rand::SecureRandom;
    let mut buffer = vec![0u8; bytes];
    ring::rand::SystemRandom::new().fill(&mut buffer).map_err(|_| CryptoError::Random)?;
    Ok(buffer.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// Compares two byte strings in time that does not depend on where they differ.
pub fn constant_time_equal(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len() && left.iter().zip(right).fold(0u8, |difference, (a, b)| difference | (a ^ b)) == 0
}
