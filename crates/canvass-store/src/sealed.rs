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
    /// The rest of the public-record columns of an imported row (addresses, phone, districts),
    /// sealed together: personal data even where the law makes it public record.
    pub details: Option<Vec<u8>>,
}

/// Blind index values of a voter (absent when the inputs are).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlindIndexes {
    /// Last name + first name.
    pub name: Option<i64>,
    /// Last name + date of birth + SSN last four.
    pub identity: Option<i64>,
    pub drivers_license: Option<i64>,
    /// Last name + first name + date of birth: the public lookup and duplicate detection.
    pub lookup: Option<i64>,
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
    /// A keyed digest of the source row: a re-import of an unchanged row is recognised without
    /// opening anything, and the digest reveals nothing without the key.
    pub row_digest: Option<i64>,
}

/// An exact-match search on one blind index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexLookup {
    Name(i64),
    Identity(i64),
    DriversLicense(i64),
    Lookup(i64),
}

impl IndexLookup {
    /// The column holding this index.
    pub fn column(self) -> &'static str {
        match self {
            Self::Name(_) => "name_index",
            Self::Identity(_) => "identity_index",
            Self::DriversLicense(_) => "drivers_license_index",
            Self::Lookup(_) => "lookup_index",
        }
    }

    pub fn value(self) -> i64 {
        match self {
            Self::Name(value) | Self::Identity(value) | Self::DriversLicense(value) | Self::Lookup(value) => value,
        }
    }
}

/// Rows per key version of one jurisdiction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyVersionUsage {
    pub version: u32,
    pub rows: u64,
}

/// What an import has done so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
}

impl ImportCounts {
    /// Rows read, whatever became of them.
    pub fn rows(&self) -> u64 {
        self.inserted + self.updated + self.unchanged + self.rejected
    }
}

/// One import of a voter file, as recorded for resuming it and for the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredImport {
    pub id: String,
    pub jurisdiction: JurisdictionId,
    /// `ncvoter`, `ncvhis`, `vri` ...
    pub format: String,
    /// SHA-256 of the whole file, hex: a resumed import must be of the same file.
    pub file_digest: String,
    /// Who ran it (a username).
    pub actor: String,
    pub started_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
    /// Bytes of the file whose rows are committed: a resumed import starts here.
    pub position: u64,
    /// The last line whose row is committed.
    pub line: u64,
    pub counts: ImportCounts,
}

/// What the store holds of a registration number, for deciding whether a row is new, changed
/// or unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoterDigest {
    pub registration_number: String,
    pub jurisdiction: JurisdictionId,
    pub row_digest: Option<i64>,
}

/// One committed step of an import: rows to insert or replace, and where the import stands
/// after them. Written in one transaction, so an interruption loses a whole batch or nothing.
#[derive(Debug, Clone, Copy)]
pub struct VoterBatch<'a> {
    pub import_id: &'a str,
    /// New rows and changed rows; a changed row's previous revision goes to the history.
    pub voters: &'a [SealedVoter],
    pub position: u64,
    pub line: u64,
    /// The import's counts after this batch.
    pub counts: ImportCounts,
    pub at: i64,
}

/// A revision a later one replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoterRevision {
    pub revision: u32,
    pub replaced_at: i64,
    /// The import that replaced it, if one did.
    pub import_id: Option<String>,
    pub voter: SealedVoter,
}
