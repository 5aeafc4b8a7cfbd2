//! The node's Ed25519 signing key: signs checkpoints and published snapshots. Stored as a
//! PKCS#8 PEM file that only the service user can read.

use std::fmt;

use ring::{
    hkdf::{HKDF_SHA256, Salt},
    rand::SystemRandom,
    signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey},
};
use zeroize::Zeroizing;

use crate::{CryptoError, SecretKey, field::KEY_LEN};

const PEM_LABEL: &str = "PRIVATE KEY";

/// The HKDF salt of [`NodeSigningKey::derive_secret`]. Changing it changes every derived key.
const DERIVATION_SALT: &[u8] = b"canvass node key derivation v1";

/// What precedes the 32-byte seed in a PKCS#8 Ed25519 document: version 1 (v2 document,
/// which `from_pkcs8` requires), the Ed25519 algorithm identifier (OID 1.3.101.112), then the
/// private key as an OCTET STRING holding an OCTET STRING of 32 bytes (RFC 8410 section 7).
const SEED_MARKER: &[u8] = &[0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
const SEED_LEN: usize = 32;

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

    /// A 256-bit symmetric key for `purpose`, derived with HKDF-SHA256 from this key's Ed25519
    /// seed (salt "canvass node key derivation v1", info `purpose`). Every process that loads
    /// the same key file derives the same key; different purposes give unrelated keys, and the
    /// derived key reveals nothing about the signing key.
    pub fn derive_secret(&self, purpose: &str) -> Result<SecretKey, CryptoError> {
        let seed = self.seed()?;
        let pseudorandom_key = Salt::new(HKDF_SHA256, DERIVATION_SALT).extract(seed.as_ref());
        let info = [purpose.as_bytes()];
        // HKDF_SHA256 as the output type asks for exactly its digest length, 32 bytes.
        let okm = pseudorandom_key.expand(&info, HKDF_SHA256).map_err(|_| CryptoError::InvalidSigningKey)?;
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        okm.fill(bytes.as_mut()).map_err(|_| CryptoError::InvalidSigningKey)?;
        SecretKey::from_slice(bytes.as_ref())
    }

    /// The 32-byte Ed25519 seed inside the PKCS#8 document. The seed, not the whole document,
    /// is the input key material, so attributes or a re-encoding of the file do not change
    /// derived keys. The extracted bytes are checked against the public key, so a document laid
    /// out otherwise is refused instead of yielding a key from the wrong bytes.
    fn seed(&self) -> Result<Zeroizing<[u8; SEED_LEN]>, CryptoError> {
        let start = self
            .pkcs8
            .windows(SEED_MARKER.len())
            .position(|window| window == SEED_MARKER)
            .map(|position| position + SEED_MARKER.len())
            .ok_or(CryptoError::InvalidSigningKey)?;
        let slice = self.pkcs8.get(start..start + SEED_LEN).ok_or(CryptoError::InvalidSigningKey)?;
        let mut seed = Zeroizing::new([0u8; SEED_LEN]);
        seed.copy_from_slice(slice);
        Ed25519KeyPair::from_seed_and_public_key(seed.as_ref(), self.pair.public_key().as_ref())
            .map_err(|_| CryptoError::InvalidSigningKey)?;
        Ok(seed)
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
    use crate::{FieldCipher, FieldContext};

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
    fn the_same_key_file_derives_the_same_secret_in_any_process() {
        let pem = NodeSigningKey::generate().unwrap().to_pem().unwrap();
        // Two loads of the same PEM stand for the CLI and the server loading the key file.
        let first = NodeSigningKey::from_pem(&pem).unwrap();
        let second = NodeSigningKey::from_pem(&pem).unwrap();
        let context = FieldContext {
            jurisdiction: "node",
            table: "staff_accounts",
            record: "alice",
            field: "totp_secret",
            key_version: 1,
        };
        let sealing = FieldCipher::new(&first.derive_secret("totp").unwrap(), 1).unwrap();
        let sealed = sealing.seal(&context, b"secret").unwrap();

        let opening = FieldCipher::new(&second.derive_secret("totp").unwrap(), 1).unwrap();
        assert_eq!(opening.open(&context, &sealed).unwrap().as_slice(), b"secret");

        let other_purpose = FieldCipher::new(&second.derive_secret("sessions").unwrap(), 1).unwrap();
        assert!(other_purpose.open(&context, &sealed).is_err(), "another purpose derives another key");
        let other_node =
            FieldCipher::new(&NodeSigningKey::generate().unwrap().derive_secret("totp").unwrap(), 1).unwrap();
        assert!(other_node.open(&context, &sealed).is_err(), "another node's key derives another key");
    }

    #[test]
    fn derived_secrets_are_stable_and_separated_by_purpose() {
        let key = NodeSigningKey::generate().unwrap();
        let reloaded = NodeSigningKey::from_pem(&key.to_pem().unwrap()).unwrap();
        assert_eq!(key.derive_secret("totp").unwrap().expose(), reloaded.derive_secret("totp").unwrap().expose());
        assert_ne!(key.derive_secret("totp").unwrap().expose(), key.derive_secret("totp2").unwrap().expose());
        assert_ne!(key.derive_secret("").unwrap().expose(), key.derive_secret("totp").unwrap().expose());
        assert_eq!(&key.seed().unwrap()[..], &key.pkcs8[16..48], "ring's v2 layout puts the seed at 16..48");
    }

    /// A PKCS#8 v2 document as ring writes it, for RFC 8032 section 7.1 test 1's key pair.
    fn rfc_8032_test_1_key() -> NodeSigningKey {
        let hex = |text: &str| -> Vec<u8> {
            (0..text.len()).step_by(2).map(|start| u8::from_str_radix(&text[start..start + 2], 16).unwrap()).collect()
        };
        let mut der = hex("3051020101300506032b657004220420");
        der.extend(hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
        der.extend(hex("812100"));
        der.extend(hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
        NodeSigningKey::from_pkcs8(&der).unwrap()
    }

    /// The expected value was computed independently (Python's hmac: HKDF-Extract with the
    /// salt, then one HKDF-Expand block with info "totp").
    #[test]
    fn derivation_is_pinned_so_sealed_secrets_survive_upgrades() {
        let key = rfc_8032_test_1_key();
        let hex = |bytes: &[u8]| bytes.iter().map(|byte| format!("{byte:02x}")).collect::<String>();
        assert_eq!(
            hex(&key.derive_secret("totp").unwrap().expose()[..]),
            "1278b01c6293e5c98c3b95b95558da477443f2b078abb9397eee7df0434f3dcc"
        );
    }

    #[test]
    fn debug_does_not_show_the_private_key() {
        let key = NodeSigningKey::generate().unwrap();
        let debug = format!("{key:?}");
        assert!(debug.contains(&key.public_key().to_hex()));
        assert!(!debug.contains("pkcs8"));
    }
}
