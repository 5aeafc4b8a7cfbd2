//! RFC 6962 hashing: a leaf is SHA-256(0x00 || entry), an interior node SHA-256(0x01 || left ||
//! right); the distinct prefixes stop a leaf from being passed off as a node.

use std::fmt;

use base64::{Engine, engine::general_purpose::STANDARD};

use crate::LedgerError;

/// A 32-byte SHA-256 tree hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; 32]);

/// The root of the empty tree: SHA-256 of nothing.
pub const EMPTY_ROOT: Hash = Hash([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41,
    0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

impl Hash {
    pub fn from_slice(bytes: &[u8]) -> Result<Self, LedgerError> {
        <[u8; 32]>::try_from(bytes)
            .map(Self)
            .map_err(|_| LedgerError::malformed("hash", format!("{} bytes instead of 32", bytes.len())))
    }

    /// Standard base64 with padding, as checkpoints and proofs write hashes.
    pub fn from_base64(text: &str) -> Result<Self, LedgerError> {
        let bytes = STANDARD.decode(text).map_err(|error| LedgerError::malformed("hash", error.to_string()))?;
        Self::from_slice(&bytes)
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.to_base64())
    }
}

pub fn leaf_hash(entry: &[u8]) -> Hash {
    Hash(canvass_crypto::sha256(&[&[0x00], entry]))
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Hash(canvass_crypto::sha256(&[&[0x01], &left.0, &right.0]))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn empty_root_is_the_hash_of_nothing() {
        assert_eq!(EMPTY_ROOT.0, canvass_crypto::sha256(&[]));
    }

    #[test]
    fn base64_round_trips_and_refuses_wrong_lengths() {
        let hash = leaf_hash(b"");
        assert_eq!(Hash::from_base64(&hash.to_base64()).unwrap(), hash);
        // RFC 6962's leaf hash of the empty entry, as transparency-dev/merkle's vectors give it.
        assert_eq!(hash.to_base64(), "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=");
        assert!(Hash::from_base64("AAAA").is_err());
        assert!(Hash::from_base64("not base64!").is_err());
    }
}
