//! What the roll keeps about a voter beside the voter row: the elections they voted in (the
//! state's voter history file, a public record stored in the clear: ids, dates and codes) and
//! their signature image (sealed like every confidential field: the store sees only bytes).

use canvass_core::id::JurisdictionId;
use time::Date;

use crate::{ImportCounts, StoreError};

/// One ballot cast (or one recorded non-vote) by a voter in one election, as the history file
/// gives it. A voter has at most one per (election day, election description).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVote {
    /// The voter's statewide registration number (North Carolina's NCID): a voter on the roll.
    pub registration_number: String,
    /// The roll (and importing jurisdiction) the voter belongs to.
    pub jurisdiction: JurisdictionId,
    pub election_date: Date,
    /// e.g. `11/03/2020 GENERAL`; may be empty.
    pub election_description: String,
    /// e.g. `IN-PERSON`, `ABSENTEE ONESTOP`, `ABSENTEE BY MAIL`, `PROVISIONAL`.
    pub voting_method: String,
    /// The party code of the ballot (in a primary, the party's ballot chosen).
    pub voted_party: Option<String>,
    /// The state's number of the county the voter was registered in.
    pub county_number: u16,
    /// The county's own registration number (unique within the county only).
    pub county_registration_number: String,
    /// The precinct the voter voted in.
    pub precinct_label: Option<String>,
    /// The state's number of the county the ballot was cast in, when the file says.
    pub voted_county_number: Option<u16>,
}

/// One committed step of a history import: votes to insert or update, and where the import
/// stands after them. Written in one transaction, so an interruption loses a whole batch or
/// nothing. Within one batch a (voter, election day, description) appears at most once.
#[derive(Debug, Clone, Copy)]
pub struct VoteHistoryBatch<'a> {
    pub import_id: &'a str,
    pub votes: &'a [StoredVote],
    pub position: u64,
    pub line: u64,
    /// Rows of this batch the import rejected (they add to the import's count).
    pub rejected: u64,
    pub at: i64,
}

/// What a history batch did, and the import's counts after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VoteHistoryWritten {
    /// This batch's votes: new, changed (an existing vote's values replaced), unchanged.
    pub batch: ImportCounts,
    /// The import's counts after this batch.
    pub import: ImportCounts,
}

/// A voter's signature image, sealed under the jurisdiction's field key.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSignature {
    pub jurisdiction: JurisdictionId,
    pub registration_number: String,
    pub key_version: u32,
    /// The sealed image: opens only with this (jurisdiction, record, field, key version).
    pub sealed_image: Vec<u8>,
    /// `image/png` or `image/jpeg`.
    pub media_type: String,
    /// The image's size in bytes before sealing.
    pub size: u64,
    /// Unix milliseconds.
    pub added_at: i64,
    /// Who added it, as the ledger names them (`user:NAME`).
    pub added_by: String,
}

impl std::fmt::Debug for StoredSignature {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("StoredSignature")
            .field("jurisdiction", &self.jurisdiction)
            .field("registration_number", &self.registration_number)
            .field("key_version", &self.key_version)
            .field("media_type", &self.media_type)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// A history row's columns as a backend reads them, before checking.
#[derive(Debug)]
pub struct VoteColumns {
    pub registration_number: String,
    pub jurisdiction: String,
    pub election_date: Date,
    pub election_description: String,
    pub voting_method: String,
    pub voted_party: Option<String>,
    pub county_number: i64,
    pub county_registration_number: String,
    pub precinct_label: Option<String>,
    pub voted_county_number: Option<i64>,
}

fn county_number(value: i64) -> Result<u16, StoreError> {
    u16::try_from(value).map_err(|_| StoreError::Corrupt(format!("county number {value} is out of range")))
}

fn jurisdiction(value: &str) -> Result<JurisdictionId, StoreError> {
    JurisdictionId::parse(value).map_err(|error| StoreError::Corrupt(error.to_string()))
}

/// Checks a stored history row.
pub fn vote(columns: VoteColumns) -> Result<StoredVote, StoreError> {
    Ok(StoredVote {
        registration_number: columns.registration_number,
        jurisdiction: jurisdiction(&columns.jurisdiction)?,
        election_date: columns.election_date,
        election_description: columns.election_description,
        voting_method: columns.voting_method,
        voted_party: columns.voted_party,
        county_number: county_number(columns.county_number)?,
        county_registration_number: columns.county_registration_number,
        precinct_label: columns.precinct_label,
        voted_county_number: columns.voted_county_number.map(county_number).transpose()?,
    })
}

/// A signature row's columns as a backend reads them, before checking.
#[derive(Debug)]
pub struct SignatureColumns {
    pub jurisdiction: String,
    pub registration_number: String,
    pub key_version: i64,
    pub sealed_image: Vec<u8>,
    pub media_type: String,
    pub size: i64,
    pub added_at: i64,
    pub added_by: String,
}

/// Checks a stored signature row.
pub fn signature(columns: SignatureColumns) -> Result<StoredSignature, StoreError> {
    Ok(StoredSignature {
        jurisdiction: jurisdiction(&columns.jurisdiction)?,
        registration_number: columns.registration_number,
        key_version: u32::try_from(columns.key_version)
            .map_err(|_| StoreError::Corrupt(format!("key version {} is out of range", columns.key_version)))?,
        sealed_image: columns.sealed_image,
        media_type: columns.media_type,
        size: crate::rows::count(columns.size)?,
        added_at: columns.added_at,
        added_by: columns.added_by,
    })
}
