//! Turning stored columns back into domain values. Both backends share this, so a value that
//! no longer parses (a hand-edited row) is reported the same way by each.

use canvass_core::{
    CoreError,
    credential::{StaffAccount, StaffRole, Username},
    election::{Choice, Contest, ContestKind, Election, ElectionKind, VoteFor},
    id::{ContestId, ElectionId, JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct},
    name::Name,
    voter::VoterStatus,
};
use time::Date;

use crate::{
    BlindIndexes, KeyState, KeyVersionUsage, LedgerRow, PrecinctVoterCount, SealedFields, SealedVoter, StoreError,
    StoredCheckpoint, StoredCosignature, StoredDataKey, StoredKeyRing,
};

fn corrupt(error: CoreError) -> StoreError {
    StoreError::Corrupt(error.to_string())
}

pub fn jurisdiction(id: &str, name: &str, kind: &str, parent: Option<&str>) -> Result<Jurisdiction, StoreError> {
    Ok(Jurisdiction {
        id: JurisdictionId::parse(id).map_err(corrupt)?,
        name: Name::parse(name).map_err(corrupt)?,
        kind: JurisdictionKind::parse(kind).map_err(corrupt)?,
        parent: parent.map(JurisdictionId::parse).transpose().map_err(corrupt)?,
    })
}

pub fn precinct(id: &str, jurisdiction: &str, name: &str) -> Result<Precinct, StoreError> {
    Ok(Precinct {
        id: PrecinctId::parse(id).map_err(corrupt)?,
        jurisdiction: JurisdictionId::parse(jurisdiction).map_err(corrupt)?,
        name: Name::parse(name).map_err(corrupt)?,
    })
}

pub fn election(id: &str, jurisdiction: &str, name: &str, kind: &str, date: Date) -> Result<Election, StoreError> {
    Ok(Election {
        id: ElectionId::parse(id).map_err(corrupt)?,
        jurisdiction: JurisdictionId::parse(jurisdiction).map_err(corrupt)?,
        name: Name::parse(name).map_err(corrupt)?,
        kind: ElectionKind::parse(kind).map_err(corrupt)?,
        date,
    })
}

/// A contest row; its choices are attached afterwards with [`choice`].
pub fn contest(
    election: &str,
    id: &str,
    district: &str,
    name: &str,
    kind: &str,
    vote_for: i64,
) -> Result<Contest, StoreError> {
    let vote_for = u32::try_from(vote_for).map_err(|_| StoreError::Corrupt(format!("vote_for {vote_for}")))?;
    Ok(Contest {
        id: ContestId::parse(id).map_err(corrupt)?,
        election: ElectionId::parse(election).map_err(corrupt)?,
        district: JurisdictionId::parse(district).map_err(corrupt)?,
        name: Name::parse(name).map_err(corrupt)?,
        kind: ContestKind::parse(kind).map_err(corrupt)?,
        vote_for: VoteFor::parse(vote_for).map_err(corrupt)?,
        choices: Vec::new(),
    })
}

pub fn choice(name: &str, party: Option<&str>) -> Result<Choice, StoreError> {
    Ok(Choice { name: Name::parse(name).map_err(corrupt)?, party: party.map(str::to_owned) })
}

/// Attaches choice rows `(contest id, choice)` in stored order to their contests.
pub fn attach_choices(contests: &mut [Contest], choices: Vec<(String, Choice)>) {
    for (contest_id, choice) in choices {
        if let Some(contest) = contests.iter_mut().find(|contest| contest.id.as_str() == contest_id) {
            contest.choices.push(choice);
        }
    }
}

pub fn staff_account(username: &str, password_hash: &str, role: &str) -> Result<StaffAccount, StoreError> {
    Ok(StaffAccount {
        username: Username::parse(username).map_err(corrupt)?,
        password_hash: password_hash.to_owned(),
        role: StaffRole::parse(role).map_err(corrupt)?,
    })
}

/// A per-precinct count row; counts are never negative unless the row was tampered with.
pub fn precinct_count(precinct: &str, registered: i64) -> Result<PrecinctVoterCount, StoreError> {
    Ok(PrecinctVoterCount {
        precinct: PrecinctId::parse(precinct).map_err(corrupt)?,
        registered: u64::try_from(registered)
            .map_err(|_| StoreError::Corrupt(format!("negative count {registered}")))?,
    })
}

/// A stored count as `u64`; counts are never negative unless the row was tampered with.
pub fn count(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative count {value}")))
}

fn small(value: i64, what: &str) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value} is out of range")))
}

fn byte(value: i64, what: &str) -> Result<u8, StoreError> {
    u8::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value} is out of range")))
}

pub fn jurisdiction_id(value: &str) -> Result<JurisdictionId, StoreError> {
    JurisdictionId::parse(value).map_err(corrupt)
}

pub fn key_version_usage(version: i64, rows: i64) -> Result<KeyVersionUsage, StoreError> {
    Ok(KeyVersionUsage { version: small(version, "key version")?, rows: count(rows)? })
}

pub fn data_key(
    purpose: &str,
    version: i64,
    wrapped: Vec<u8>,
    index_bits: Option<i64>,
    state: &str,
) -> Result<StoredDataKey, StoreError> {
    Ok(StoredDataKey {
        purpose: purpose.to_owned(),
        version: small(version, "key version")?,
        wrapped,
        index_bits: index_bits.map(|bits| byte(bits, "index length")).transpose()?,
        state: KeyState::parse(state).ok_or_else(|| StoreError::Corrupt(format!("key state {state}")))?,
    })
}

pub fn key_ring(
    jurisdiction: &JurisdictionId,
    root_check: Vec<u8>,
    share_threshold: Option<i64>,
    share_count: Option<i64>,
    projected_rows: i64,
    seals: Vec<(String, Vec<u8>)>,
    keys: Vec<StoredDataKey>,
) -> Result<Option<StoredKeyRing>, StoreError> {
    let shares = match (share_threshold, share_count) {
        (Some(threshold), Some(count)) => Some((byte(threshold, "share threshold")?, byte(count, "share count")?)),
        _ => None,
    };
    Ok(Some(StoredKeyRing {
        jurisdiction: jurisdiction.clone(),
        root_check,
        shares,
        projected_rows: count(projected_rows)?,
        seals,
        keys,
    }))
}

/// The columns of a voter row, as read.
#[derive(Debug)]
pub struct VoterColumns {
    pub registration_number: String,
    pub jurisdiction: String,
    pub county: String,
    pub precinct: String,
    pub party: String,
    pub status: String,
    pub registered_on: Date,
    pub key_version: i64,
    pub first_name: Vec<u8>,
    pub last_name: Vec<u8>,
    pub birth_date: Option<Vec<u8>>,
    pub ssn_last_four: Option<Vec<u8>>,
    pub drivers_license: Option<Vec<u8>>,
    pub email: Option<Vec<u8>>,
    pub name_index: Option<i64>,
    pub identity_index: Option<i64>,
    pub drivers_license_index: Option<i64>,
}

pub fn sealed_voter(columns: VoterColumns) -> Result<SealedVoter, StoreError> {
    Ok(SealedVoter {
        registration_number: columns.registration_number,
        jurisdiction: JurisdictionId::parse(&columns.jurisdiction).map_err(corrupt)?,
        county: JurisdictionId::parse(&columns.county).map_err(corrupt)?,
        precinct: PrecinctId::parse(&columns.precinct).map_err(corrupt)?,
        party: columns.party,
        status: VoterStatus::parse(&columns.status).map_err(corrupt)?,
        registered_on: columns.registered_on,
        key_version: small(columns.key_version, "key version")?,
        fields: SealedFields {
            first_name: columns.first_name,
            last_name: columns.last_name,
            birth_date: columns.birth_date,
            ssn_last_four: columns.ssn_last_four,
            drivers_license: columns.drivers_license,
            email: columns.email,
        },
        indexes: BlindIndexes {
            name: columns.name_index,
            identity: columns.identity_index,
            drivers_license: columns.drivers_license_index,
        },
    })
}

/// A ledger index, size or tile number as the databases' signed 64-bit integer. Nothing real
/// reaches 2^63, so a larger value is a caller's mistake, refused rather than wrapped.
pub fn integer(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value)
        .map_err(|_| StoreError::Backend(format!("{what} {value} is beyond the database's integer range")))
}

/// A stored ledger index or size; negative only if the row was tampered with.
fn position(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative ledger {what} {value}")))
}

pub fn ledger_row(index: i64, body: Vec<u8>) -> Result<LedgerRow, StoreError> {
    Ok(LedgerRow { index: position(index, "index")?, body })
}

pub fn checkpoint(size: i64, note: String, time_millis: i64) -> Result<StoredCheckpoint, StoreError> {
    Ok(StoredCheckpoint { size: position(size, "checkpoint size")?, note, time_millis })
}

pub fn cosignature(
    size: i64,
    witness: String,
    line: String,
    time_millis: i64,
) -> Result<StoredCosignature, StoreError> {
    Ok(StoredCosignature { size: position(size, "checkpoint size")?, witness, line, time_millis })
}

/// A stored tile key; out of range only if the row was tampered with.
pub fn tile_key(level: i64, index: i64) -> Result<(u8, u64), StoreError> {
    Ok((byte(level, "tile level")?, position(index, "tile index")?))
}
