//! Staff password hashing with Argon2id (RFC 9106) in the PHC string format, and generation of
//! one-time passwords for the demo and for scripted set-up.

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretString};

use crate::CryptoError;

/// A PHC-format Argon2id hash, as stored. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a stored PHC string after checking that it parses.
    pub fn parse(phc: &str) -> Result<Self, CryptoError> {
        argon2::PasswordHash::new(phc).map_err(|_| CryptoError::MalformedPasswordHash)?;
        Ok(Self(phc.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Hashes with Argon2id at the RustCrypto defaults (19 MiB, 2 passes, 1 lane: OWASP's
/// recommended minimum), under a fresh random salt.
pub fn hash_password(password: &SecretString) -> Result<PasswordHash, CryptoError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map(|hash| PasswordHash(hash.to_string()))
        .map_err(|error| CryptoError::PasswordHashing(error.to_string()))
}

/// Checks a password against a stored hash in constant time.
pub fn verify_password(hash: &PasswordHash, password: &SecretString) -> bool {
    match argon2::PasswordHash::new(&hash.0) {
        Ok(parsed) => Argon2::default().verify_password(password.expose_secret().as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// An unambiguous alphabet (no 0/O, 1/l/I) so a password read off a screen is typed right.
const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A random password of `groups` groups of five characters joined by `-` (about 29 bits each).
pub fn generate_password(groups: usize) -> Result<SecretString, CryptoError> {
    let random = SystemRandom::new();
    let mut words = Vec::with_capacity(groups);
    for _ in 0..groups {
        let mut bytes = [0u8; 5];
        random.fill(&mut bytes).map_err(|_| CryptoError::Random)?;
        // 256 is not a multiple of 56, but the bias (under 1%) costs far less than a bit.
        words.push(
            bytes.iter().map(|byte| char::from(ALPHABET[usize::from(*byte) % ALPHABET.len()])).collect::<String>(),
        );
    }
    Ok(SecretString::from(words.join("-")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_the_right_password() {
        let password = SecretString::from("correct horse battery staple");
        let hash = hash_password(&password).unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"));
        assert!(verify_password(&hash, &password));
        assert!(!verify_password(&hash, &SecretString::from("correct horse battery stapler")));
        let again = hash_password(&password).unwrap();
        assert_ne!(hash, again, "each hash has its own salt");
        assert_eq!(PasswordHash::parse(hash.as_str()).unwrap(), hash);
        assert!(PasswordHash::parse("plaintext").is_err());
    }

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let first = generate_password(4).unwrap();
        let second = generate_password(4).unwrap();
        assert_eq!(first.expose_secret().len(), 23);
        assert_ne!(first.expose_secret(), second.expose_secret());
        assert!(!format!("{first:?}").contains(first.expose_secret()));
    }
}
