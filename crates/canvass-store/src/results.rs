//! Election-night results as stored (issue 7): each accepted change (report, correction,
//! certification) with who sent it and the SHA-256 of the file, and the precinct returns it
//! brought. Results are public records; a return is kept as JSON so both backends store the
//! same bytes and read them back through one decoder.

use canvass_core::{
    id::{ElectionId, JurisdictionId, PrecinctId},
    results::{ChangeKind, PrecinctReturn, ResultsChange},
};
use time::OffsetDateTime;

use crate::StoreError;

/// One accepted change to an election's results, with what the public history does not show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResultsChange {
    pub election: ElectionId,
    /// 1, 2, 3... per election; the store refuses any other than the next one.
    pub sequence: u64,
    /// Unix seconds.
    pub at: i64,
    pub county: Option<JurisdictionId>,
    pub kind: ChangeKind,
    /// The staff account that sent the file (or, for a certification, that executed it).
    pub actor: String,
    /// Hex SHA-256 of the uploaded file; `None` for a certification.
    pub file_sha256: Option<String>,
}

impl StoredResultsChange {
    /// The public history's view of the change, naming the precincts it brought.
    pub fn public(&self, precincts: Vec<PrecinctId>) -> Result<ResultsChange, StoreError> {
        let at =
            OffsetDateTime::from_unix_timestamp(self.at).map_err(|error| StoreError::Corrupt(error.to_string()))?;
        Ok(ResultsChange {
            sequence: self.sequence,
            at,
            county: self.county.clone(),
            precincts,
            kind: self.kind.clone(),
        })
    }

    /// The kind's column value and its reason, as both backends store them.
    pub fn kind_columns(&self) -> (&'static str, Option<&str>) {
        kind_columns(&self.kind)
    }
}

/// What the store answers to an accepted change it was asked to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultsWrite {
    Written,
    /// Another change took the sequence first; nothing was written and the caller re-checks.
    SequenceTaken,
}

/// A precinct return as stored with the sequence of the change that brought it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPrecinctReturn {
    pub sequence: u64,
    pub precinct_return: PrecinctReturn,
}

pub fn kind_columns(kind: &ChangeKind) -> (&'static str, Option<&str>) {
    match kind {
        ChangeKind::Report => ("report", None),
        ChangeKind::Correction { reason } => ("correction", Some(reason.as_str())),
        ChangeKind::Certification => ("certification", None),
    }
}

/// Reads a change's row back; every column is checked.
#[allow(clippy::too_many_arguments)]
pub fn change_row(
    election: &str,
    sequence: i64,
    at: i64,
    county: Option<String>,
    kind: &str,
    reason: Option<String>,
    actor: String,
    file_sha256: Option<String>,
) -> Result<StoredResultsChange, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("results change: {what}"));
    let kind = match (kind, reason) {
        ("report", None) => ChangeKind::Report,
        ("correction", Some(reason)) => ChangeKind::Correction { reason },
        ("certification", None) => ChangeKind::Certification,
        _ => return Err(corrupt("kind and reason disagree")),
    };
    Ok(StoredResultsChange {
        election: ElectionId::parse(election).map_err(|_| corrupt("election id"))?,
        sequence: u64::try_from(sequence).map_err(|_| corrupt("sequence"))?,
        at,
        county: county.map(|county| JurisdictionId::parse(&county)).transpose().map_err(|_| corrupt("county id"))?,
        kind,
        actor,
        file_sha256,
    })
}

pub fn encode_return(precinct_return: &PrecinctReturn) -> Result<String, StoreError> {
    serde_json::to_string(precinct_return).map_err(|error| StoreError::Corrupt(error.to_string()))
}

pub fn decode_return(sequence: i64, json: &str) -> Result<StoredPrecinctReturn, StoreError> {
    let precinct_return: PrecinctReturn =
        serde_json::from_str(json).map_err(|error| StoreError::Corrupt(format!("precinct return: {error}")))?;
    let sequence = u64::try_from(sequence).map_err(|_| StoreError::Corrupt("precinct return: sequence".into()))?;
    Ok(StoredPrecinctReturn { sequence, precinct_return })
}

/// Sequence as the databases' signed 64-bit integer.
pub fn sequence_column(sequence: u64) -> Result<i64, StoreError> {
    i64::try_from(sequence).map_err(|_| StoreError::Unsupported("results sequence out of range".into()))
}
