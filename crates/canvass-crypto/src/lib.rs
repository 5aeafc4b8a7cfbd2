//! The one place Canvass calls its crypto provider (ring, RustCrypto's argon2, rustls's ring
//! provider). Everything else asks this crate for signing, password hashing and TLS, so the
//! provider can be reviewed, audited or swapped in one crate.

mod blind;
mod error;
mod field;
mod keyring;
mod password;
mod signing;
mod tls;

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
