//! The one place Canvass calls its crypto provider (ring, RustCrypto's argon2, rustls's ring
//! provider). Everything else asks this crate for signing, password hashing and TLS, so the
//! provider can be reviewed, audited or swapped in one crate.

mod error;
mod password;
mod signing;
mod tls;

pub use error::CryptoError;
pub use password::{PasswordHash, generate_password, hash_password, verify_password};
pub use secrecy::{ExposeSecret, SecretString};
pub use signing::{NodeSigningKey, PublicKey};
pub use tls::{server_tls_config, tls_provider};
