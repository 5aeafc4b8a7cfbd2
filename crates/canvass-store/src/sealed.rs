//! Rows that hold secrets, as the store sees them: bytes it cannot read. Key rings (sealed
//! roots, wrapped keys) and voters (sealed personal fields, blind index values).

use canvass_core::{
    id::{JurisdictionId, PrecinctId},
    voter::VoterStatus,
};
use time::Date;

/// The lifecycle of a data key version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// New writes use it.
    Active,
    /// Rows may still use it; re-encryption moves them forward.
    Previous,
    /// No row uses it; kept wrapped for the record, never used again.
    Retired,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Previous => "previous",
            Self::Retired => "retired",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "active" => Some(Self::Active),
            "previous" => Some(Self::Previous),
            "retired" => Some(Self::Retired),
            _ => None,
        }
    }
}

/// A data or index key wrapped by the jurisdiction's root key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDataKey {
    /// `field` for the voter-field key; `index:<name>` for blind index keys.
    pub purpose: String,
    pub version: u32,
    pub wrapped: Vec<u8>,
    /// Blind index length in bits (index keys only).
    pub index_bits: Option<u8>,
    pub state: KeyState,
}

/// A jurisdiction's key ring as stored: nothing in it opens without the root key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKeyRing {
    pub jurisdiction: JurisdictionId,
    /// Proves a reconstructed root is the right one.
    pub root_check: Vec<u8>,
    /// `(k, n)` once the root has been split into shares.
    pub shares: Option<(u8, u8)>,
    /// The row count the blind index lengths were chosen for.
    pub projected_rows: u64,
    /// `(method, sealed root)`: one per sealer (passphrase, ...).
    pub seals: Vec<(String, Vec<u8>)>,
    pub keys: Vec<StoredDataKey>,
}

/// The personal fields of a voter, each sealed on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedFields {
    pub first_name: Vec<u8>,
    pub last_name: Vec<u8>,
    pub birth_date: Option<Vec<u8>>,
    pub ssn_last_four: Option<Vec<u8>>,
    pub drivers_license: Option<Vec<u8>>,
    pub email: Option<Vec<u8>>,
}

/// Blind index values of a voter (absent when the inputs are).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlindIndexes {
    /// Last name + first name.
    pub name: Option<i64>,
    /// Last name + date of birth + SSN last four.
    pub identity: Option<i64>,
    pub drivers_license: Option<i64>,
}

/// A voter row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedVoter {
    pub registration_number: String,
    /// Whose key ring sealed the fields.
    pub jurisdiction: JurisdictionId,
    pub county: JurisdictionId,
    pub precinct: PrecinctId,
    pub party: String,
    pub status: VoterStatus,
    pub registered_on: Date,
    pub key_version: u32,
    pub fields: SealedFields,
    pub indexes: BlindIndexes,
}

/// An exact-match search on one blind index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexLookup {
    Name(i64),
    Identity(i64),
    DriversLicense(i64),
}

impl IndexLookup {
    /// The column holding this index.
    pub fn column(self) -> &'static str {
        match self {
            Self::Name(_) => "name_index",
            Self::Identity(_) => "identity_index",
            Self::DriversLicense(_) => "drivers_license_index",
        }
    }

    pub fn value(self) -> i64 {
        match self {
            Self::Name(value) | Self::Identity(value) | Self::DriversLicense(value) => value,
        }
    }
}

/// Rows per key version of one jurisdiction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyVersionUsage {
    pub version: u32,
    pub rows: u64,
}
