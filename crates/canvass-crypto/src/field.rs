//! Field encryption: AES-256-GCM under a jurisdiction's data key, with associated data that
//! binds each ciphertext to (jurisdiction, table, record id, field, key version). A ciphertext
//! copied to another row, field or jurisdiction, or relabelled with another key version, fails
//! to open.
//!
//! Sealed layout: `0x01 | key version (u32 BE) | nonce (12) | ciphertext | tag (16)`.
//! Nonces are a random 8-byte prefix per cipher instance and a 4-byte counter (NIST SP 800-38D
//! section 8.2.1, deterministic construction): unique without a system call per field.

use std::{
    fmt,
    sync::{
        Mutex,
        atomic::{AtomicU32, Ordering},
    },
};

use ring::{
    aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey},
    rand::{SecureRandom, SystemRandom},
};
use zeroize::Zeroizing;

use crate::CryptoError;

const FORMAT: u8 = 1;
const HEADER_LEN: usize = 1 + 4 + NONCE_LEN;
pub const KEY_LEN: usize = 32;

/// A 256-bit symmetric key (data key, index key or root key material). Never printed.
pub struct SecretKey(Zeroizing<[u8; KEY_LEN]>);

impl SecretKey {
    pub fn generate() -> Result<Self, CryptoError> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        SystemRandom::new().fill(bytes.as_mut()).map_err(|_| CryptoError::Random)?;
        Ok(Self(bytes))
    }

    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let array: [u8; KEY_LEN] = bytes.try_into().map_err(|_| CryptoError::Tampered)?;
        Ok(Self(Zeroizing::new(array)))
    }

    pub(crate) fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("SecretKey(..)")
    }
}

/// Where a field's ciphertext belongs. Every part is bound into the associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldContext<'a> {
    pub jurisdiction: &'a str,
    pub table: &'a str,
    pub record: &'a str,
    pub field: &'a str,
    pub key_version: u32,
}

impl FieldContext<'_> {
    /// Length-prefixed parts, so ("ab", "c") and ("a", "bc") differ.
    fn associated_data(&self) -> Vec<u8> {
        let mut data = Vec::with_capacity(64);
        data.extend_from_slice(b"canvass-field-v1");
        for part in [self.jurisdiction, self.table, self.record, self.field] {
            data.extend_from_slice(&(part.len() as u32).to_be_bytes());
            data.extend_from_slice(part.as_bytes());
        }
        data.extend_from_slice(&self.key_version.to_be_bytes());
        data
    }
}

/// The key version a sealed field names, read without opening it.
pub fn sealed_key_version(sealed: &[u8]) -> Option<u32> {
    if sealed.len() < HEADER_LEN || sealed[0] != FORMAT {
        return None;
    }
    Some(u32::from_be_bytes([sealed[1], sealed[2], sealed[3], sealed[4]]))
}

/// An AES-256-GCM key prepared once (key schedule done) for sealing and opening many fields.
pub struct FieldCipher {
    key: LessSafeKey,
    version: u32,
    nonce_prefix: Mutex<[u8; 8]>,
    counter: AtomicU32,
}

impl fmt::Debug for FieldCipher {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("FieldCipher").field("version", &self.version).finish_non_exhaustive()
    }
}

fn random_prefix() -> Result<[u8; 8], CryptoError> {
    let mut prefix = [0u8; 8];
    SystemRandom::new().fill(&mut prefix).map_err(|_| CryptoError::Random)?;
    Ok(prefix)
}

impl FieldCipher {
    pub fn new(key: &SecretKey, version: u32) -> Result<Self, CryptoError> {
        let unbound = UnboundKey::new(&AES_256_GCM, key.expose()).map_err(|_| CryptoError::Tampered)?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
            version,
            nonce_prefix: Mutex::new(random_prefix()?),
            counter: AtomicU32::new(0),
        })
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    fn next_nonce(&self) -> Result<[u8; NONCE_LEN], CryptoError> {
        let count = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut prefix = self.nonce_prefix.lock().map_err(|_| CryptoError::Random)?;
        if count == u32::MAX {
            // The counter wrapped: a fresh prefix keeps every nonce unique.
            *prefix = random_prefix()?;
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..8].copy_from_slice(&*prefix);
        nonce[8..].copy_from_slice(&count.to_be_bytes());
        Ok(nonce)
    }

    /// Seals `plaintext` for `context`; `context.key_version` must be this cipher's version.
    pub fn seal(&self, context: &FieldContext<'_>, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if context.key_version != self.version {
            return Err(CryptoError::WrongKeyVersion { expected: self.version, found: context.key_version });
        }
        let nonce = self.next_nonce()?;
        let mut sealed = Vec::with_capacity(HEADER_LEN + plaintext.len() + AES_256_GCM.tag_len());
        sealed.push(FORMAT);
        sealed.extend_from_slice(&self.version.to_be_bytes());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(plaintext);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.associated_data()),
                &mut sealed[HEADER_LEN..],
            )
            .map_err(|_| CryptoError::Tampered)?;
        sealed.extend_from_slice(tag.as_ref());
        Ok(sealed)
    }

    /// Opens a sealed field; any change to it, its context or its key version fails.
    pub fn open(&self, context: &FieldContext<'_>, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let version = sealed_key_version(sealed).ok_or(CryptoError::Tampered)?;
        if version != self.version || context.key_version != self.version {
            return Err(CryptoError::Tampered);
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&sealed[5..HEADER_LEN]);
        let mut buffer = Zeroizing::new(sealed[HEADER_LEN..].to_vec());
        let plaintext = self
            .key
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(context.associated_data()), &mut buffer)
            .map_err(|_| CryptoError::Tampered)?;
        Ok(Zeroizing::new(plaintext.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn context<'a>(record: &'a str, version: u32) -> FieldContext<'a> {
        FieldContext { jurisdiction: "wake", table: "voters", record, field: "last_name", key_version: version }
    }

    #[test]
    fn nonces_never_repeat_within_a_cipher() {
        let cipher = FieldCipher::new(&SecretKey::generate().unwrap(), 1).unwrap();
        let nonces: std::collections::HashSet<[u8; NONCE_LEN]> =
            (0..10_000).map(|_| cipher.next_nonce().unwrap()).collect();
        assert_eq!(nonces.len(), 10_000);
    }

    #[test]
    fn the_wrong_version_is_refused_before_sealing() {
        let cipher = FieldCipher::new(&SecretKey::generate().unwrap(), 2).unwrap();
        assert!(matches!(cipher.seal(&context("r", 1), b"x"), Err(CryptoError::WrongKeyVersion { .. })));
    }

    proptest! {
        #[test]
        fn round_trip(plaintext in proptest::collection::vec(any::<u8>(), 0..200), record in "[a-z0-9]{1,12}") {
            let cipher = FieldCipher::new(&SecretKey::generate().unwrap(), 3).unwrap();
            let sealed = cipher.seal(&context(&record, 3), &plaintext).unwrap();
            prop_assert_eq!(sealed_key_version(&sealed), Some(3));
            let opened = cipher.open(&context(&record, 3), &sealed).unwrap();
            prop_assert_eq!(opened.as_slice(), plaintext.as_slice());
        }

        #[test]
        fn any_change_fails(plaintext in proptest::collection::vec(any::<u8>(), 1..64), position in any::<usize>(), flip in 1u8..=255) {
            let cipher = FieldCipher::new(&SecretKey::generate().unwrap(), 1).unwrap();
            let sealed = cipher.seal(&context("r1", 1), &plaintext).unwrap();
            let mut damaged = sealed.clone();
            let index = position % damaged.len();
            damaged[index] ^= flip;
            prop_assert!(cipher.open(&context("r1", 1), &damaged).is_err());
            prop_assert!(cipher.open(&context("r2", 1), &sealed).is_err(), "moved to another record");
            let other_field = FieldContext { field: "first_name", ..context("r1", 1) };
            prop_assert!(cipher.open(&other_field, &sealed).is_err(), "moved to another field");
            let other_jurisdiction = FieldContext { jurisdiction: "durham", ..context("r1", 1) };
            prop_assert!(cipher.open(&other_jurisdiction, &sealed).is_err(), "moved to another jurisdiction");
            let other_table = FieldContext { table: "absentee", ..context("r1", 1) };
            prop_assert!(cipher.open(&other_table, &sealed).is_err(), "moved to another table");
            prop_assert!(cipher.open(&context("r1", 2), &sealed).is_err(), "claimed under another version");
            let truncated = &sealed[..sealed.len() - 1];
            prop_assert!(cipher.open(&context("r1", 1), truncated).is_err());
            let other_key = FieldCipher::new(&SecretKey::generate().unwrap(), 1).unwrap();
            prop_assert!(other_key.open(&context("r1", 1), &sealed).is_err(), "another jurisdiction's key");
        }
    }
}
