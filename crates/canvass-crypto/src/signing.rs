//! The node's Ed25519 signing key: signs checkpoints and published snapshots. Stored as a
//! PKCS#8 PEM file that only the service user can read.

use std::fmt;

use ring::{
    rand::SystemRandom,
    signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey},
};
use zeroize::Zeroizing;

use crate::CryptoError;

const PEM_LABEL: &str = "PRIVATE KEY";

/// The node's Ed25519 private key. Debug shows only the public half.
pub struct NodeSigningKey {
    pair: Ed25519KeyPair,
    pkcs8: Zeroizing<Vec<u8>>,
}

impl NodeSigningKey {
    /// A fresh key from the system's random number generator.
    pub fn generate() -> Result<Self, CryptoError> {
        let random = SystemRandom::new();
        let document = Ed25519KeyPair::generate_pkcs8(&random).map_err(|_| CryptoError::Random)?;
        Self::from_pkcs8(document.as_ref())
    }

    fn from_pkcs8(der: &[u8]) -> Result<Self, CryptoError> {
        let pair = Ed25519KeyPair::from_pkcs8(der).map_err(|_| CryptoError::InvalidSigningKey)?;
        Ok(Self { pair, pkcs8: Zeroizing::new(der.to_vec()) })
    }

    /// Reads the PEM text of a key file.
    pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
        let (label, der) = pem_rfc7468::decode_vec(pem.as_bytes()).map_err(|_| CryptoError::InvalidSigningKey)?;
        let der = Zeroizing::new(der);
        if label != PEM_LABEL {
            return Err(CryptoError::InvalidSigningKey);
        }
        Self::from_pkcs8(&der)
    }

    /// The PEM text to write to the key file (mode 0600).
    pub fn to_pem(&self) -> Result<Zeroizing<String>, CryptoError> {
        pem_rfc7468::encode_string(PEM_LABEL, pem_rfc7468::LineEnding::LF, &self.pkcs8)
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::InvalidSigningKey)
    }

    pub fn public_key(&self) -> PublicKey {
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(self.pair.public_key().as_ref());
        PublicKey(bytes)
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let mut signature = [0u8; 64];
        signature.copy_from_slice(self.pair.sign(message).as_ref());
        signature
    }
}

impl fmt::Debug for NodeSigningKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("NodeSigningKey").field("public_key", &self.public_key()).finish_non_exhaustive()
    }
}

/// An Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, self.0).verify(message, signature).is_ok()
    }

    /// Parses lowercase or uppercase hex of 32 bytes.
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes: Vec<u8> = (0..text.len())
            .step_by(2)
            .map(|start| text.get(start..start + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
            .collect::<Option<_>>()?;
        bytes.try_into().ok().map(Self)
    }

    /// Lowercase hex, for display and config files.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "PublicKey({})", self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_survives_its_pem_file_and_signs() {
        let key = NodeSigningKey::generate().unwrap();
        let pem = key.to_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let reloaded = NodeSigningKey::from_pem(&pem).unwrap();
        assert_eq!(key.public_key(), reloaded.public_key());
        let signature = reloaded.sign(b"checkpoint");
        assert!(key.public_key().verify(b"checkpoint", &signature));
        assert!(!key.public_key().verify(b"checkpoint!", &signature));
    }

    #[test]
    fn damaged_key_files_are_refused() {
        let pem = NodeSigningKey::generate().unwrap().to_pem().unwrap();
        assert!(NodeSigningKey::from_pem("not a key").is_err());
        assert!(NodeSigningKey::from_pem(&pem.replace("PRIVATE KEY", "PUBLIC KEY")).is_err());
        let mut damaged = pem.to_string();
        damaged.replace_range(40..44, "AAAA");
        assert!(NodeSigningKey::from_pem(&damaged).is_err());
    }

    #[test]
    fn debug_does_not_show_the_private_key() {
        let key = NodeSigningKey::generate().unwrap();
        let debug = format!("{key:?}");
        assert!(debug.contains(&key.public_key().to_hex()));
        assert!(!debug.contains("pkcs8"));
    }
}
