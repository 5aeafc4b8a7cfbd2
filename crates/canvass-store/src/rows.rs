//! Turning stored columns back into domain values. Both backends share this, so a value that
//! no longer parses (a hand-edited row) is reported the same way by each.

use canvass_core::{
    CoreError,
    access::{Grant, RequestKind, RequestStatus, StaffRole},
    credential::{EmailAddress, StaffAccount, Username},
    election::{Choice, Contest, ContestKind, Election, ElectionKind, VoteFor},
    id::{ContestId, ElectionId, JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct},
    name::Name,
    voter::VoterStatus,
};
use time::Date;

use crate::{
    BlindIndexes, ImportCounts, KeyState, KeyVersionUsage, LedgerRow, OutboxMessage, PrecinctVoterCount, SealedFields,
    SealedVoter, StoreError, StoredCheckpoint, StoredCosignature, StoredDataKey, StoredImport, StoredIncident,
    StoredKeyRing, StoredRequest, StoredSession, StoredToken,
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

pub fn username(value: &str) -> Result<Username, StoreError> {
    Username::parse(value).map_err(corrupt)
}

fn optional_jurisdiction(value: Option<&str>) -> Result<Option<JurisdictionId>, StoreError> {
    value.map(JurisdictionId::parse).transpose().map_err(corrupt)
}

pub fn staff_account(
    username: &str,
    password_hash: &str,
    email: Option<&str>,
    suspended: bool,
    totp_secret: Option<Vec<u8>>,
    totp_last_step: i64,
) -> Result<StaffAccount, StoreError> {
    Ok(StaffAccount {
        username: Username::parse(username).map_err(corrupt)?,
        password_hash: password_hash.to_owned(),
        email: email.map(EmailAddress::parse).transpose().map_err(corrupt)?,
        suspended,
        totp_secret,
        totp_last_step,
    })
}

pub fn grant(
    role: &str,
    jurisdiction: Option<&str>,
    expires_at: Option<i64>,
    emergency: bool,
) -> Result<Grant, StoreError> {
    Ok(Grant {
        role: StaffRole::parse(role).map_err(corrupt)?,
        jurisdiction: optional_jurisdiction(jurisdiction)?,
        expires_at,
        emergency,
    })
}

/// The order the trait promises for grants: by role (in [`StaffRole::ALL`]'s order, not the
/// codes' alphabetical one), then scope (the node before any jurisdiction, then by id), then
/// the permanent grant before the emergency one. Both backends sort here so they cannot differ.
fn grant_order(grant: &Grant) -> (StaffRole, Option<&JurisdictionId>, bool, Option<i64>) {
    (grant.role, grant.jurisdiction.as_ref(), grant.emergency, grant.expires_at)
}

pub fn sort_grants(grants: &mut [Grant]) {
    grants.sort_by(|left, right| grant_order(left).cmp(&grant_order(right)));
}

/// By username, then as [`sort_grants`].
pub fn sort_user_grants(grants: &mut [(Username, Grant)]) {
    grants.sort_by(|(left_user, left), (right_user, right)| {
        (left_user, grant_order(left)).cmp(&(right_user, grant_order(right)))
    });
}

/// How a grant is named in errors: `username role on scope`.
pub fn grant_name(username: &Username, role: StaffRole, jurisdiction: Option<&JurisdictionId>) -> String {
    format!("{username} {role} on {}", jurisdiction.map_or("node", JurisdictionId::as_str))
}

pub fn session(
    id_hash: Vec<u8>,
    username: &str,
    csrf_token: String,
    created_at: i64,
    last_seen_at: i64,
    second_factor: bool,
) -> Result<StoredSession, StoreError> {
    Ok(StoredSession {
        id_hash,
        username: Username::parse(username).map_err(corrupt)?,
        csrf_token,
        created_at,
        last_seen_at,
        second_factor,
    })
}

/// The columns of an API token row, as read.
#[derive(Debug)]
pub struct TokenColumns {
    pub id: String,
    pub secret_hash: Vec<u8>,
    pub label: String,
    pub owner: String,
    pub role: String,
    pub jurisdiction: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked: bool,
}

pub fn token(columns: TokenColumns) -> Result<StoredToken, StoreError> {
    Ok(StoredToken {
        id: columns.id,
        secret_hash: columns.secret_hash,
        label: columns.label,
        owner: Username::parse(&columns.owner).map_err(corrupt)?,
        role: StaffRole::parse(&columns.role).map_err(corrupt)?,
        jurisdiction: optional_jurisdiction(columns.jurisdiction.as_deref())?,
        created_at: columns.created_at,
        expires_at: columns.expires_at,
        revoked: columns.revoked,
    })
}

/// The columns of a two-person request row, as read.
#[derive(Debug)]
pub struct RequestColumns {
    pub id: String,
    pub kind: String,
    pub requester: String,
    pub jurisdiction: String,
    pub subject: String,
    pub justification: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub status: String,
    pub approver: Option<String>,
    pub decided_at: Option<i64>,
}

pub fn request(columns: RequestColumns) -> Result<StoredRequest, StoreError> {
    Ok(StoredRequest {
        id: columns.id,
        kind: RequestKind::parse(&columns.kind).map_err(corrupt)?,
        requester: Username::parse(&columns.requester).map_err(corrupt)?,
        jurisdiction: JurisdictionId::parse(&columns.jurisdiction).map_err(corrupt)?,
        subject: columns.subject,
        justification: columns.justification,
        created_at: columns.created_at,
        expires_at: columns.expires_at,
        status: RequestStatus::parse(&columns.status).map_err(corrupt)?,
        approver: columns.approver.as_deref().map(Username::parse).transpose().map_err(corrupt)?,
        decided_at: columns.decided_at,
    })
}

/// The columns of an incident row, as read.
#[derive(Debug)]
pub struct IncidentColumns {
    pub id: String,
    pub jurisdiction: Option<String>,
    pub opened_at: i64,
    pub kind: String,
    pub severity: String,
    pub summary: String,
    pub subject: Option<String>,
    pub records_affected: i64,
    pub status: String,
    pub detected_at: i64,
    pub data_classes: String,
    pub actions_taken: String,
    pub detector_key: Option<String>,
    pub revision: i64,
}

pub fn incident(columns: IncidentColumns) -> Result<StoredIncident, StoreError> {
    Ok(StoredIncident {
        id: columns.id,
        jurisdiction: optional_jurisdiction(columns.jurisdiction.as_deref())?,
        opened_at: columns.opened_at,
        kind: columns.kind,
        severity: columns.severity,
        summary: columns.summary,
        subject: columns.subject.as_deref().map(Username::parse).transpose().map_err(corrupt)?,
        records_affected: count(columns.records_affected)?,
        status: columns.status,
        detected_at: columns.detected_at,
        data_classes: crate::incidents::split_classes(&columns.data_classes),
        actions_taken: columns.actions_taken,
        detector_key: columns.detector_key,
        revision: small(columns.revision, "incident revision")?,
    })
}

/// The columns of an outbox row, as read.
#[derive(Debug)]
pub struct OutboxColumns {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub attempts: i64,
    pub last_error: Option<String>,
}

pub fn outbox_message(columns: OutboxColumns) -> Result<OutboxMessage, StoreError> {
    Ok(OutboxMessage {
        id: columns.id,
        recipient: columns.recipient,
        subject: columns.subject,
        body: columns.body,
        created_at: columns.created_at,
        sent_at: columns.sent_at,
        attempts: small(columns.attempts, "delivery attempts")?,
        last_error: columns.last_error,
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
    pub details: Option<Vec<u8>>,
    pub lookup_index: Option<i64>,
    pub row_digest: Option<i64>,
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
            details: columns.details,
        },
        indexes: BlindIndexes {
            name: columns.name_index,
            identity: columns.identity_index,
            drivers_license: columns.drivers_license_index,
            lookup: columns.lookup_index,
        },
        row_digest: columns.row_digest,
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

/// The columns of a voter import, as read.
#[derive(Debug)]
pub struct ImportColumns {
    pub id: String,
    pub jurisdiction: String,
    pub format: String,
    pub file_digest: String,
    pub actor: String,
    pub started_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
    pub position: i64,
    pub line: i64,
    pub inserted: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
}

pub fn stored_import(columns: ImportColumns) -> Result<StoredImport, StoreError> {
    let count = |value: i64, what: &str| {
        u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative import {what} {value}")))
    };
    Ok(StoredImport {
        id: columns.id,
        jurisdiction: JurisdictionId::parse(&columns.jurisdiction).map_err(corrupt)?,
        format: columns.format,
        file_digest: columns.file_digest,
        actor: columns.actor,
        started_at: columns.started_at,
        updated_at: columns.updated_at,
        finished_at: columns.finished_at,
        position: count(columns.position, "position")?,
        line: count(columns.line, "line")?,
        counts: ImportCounts {
            inserted: count(columns.inserted, "count")?,
            updated: count(columns.updated, "count")?,
            unchanged: count(columns.unchanged, "count")?,
            rejected: count(columns.rejected, "count")?,
        },
    })
}

/// A stored revision number.
pub fn revision(value: i64) -> Result<u32, StoreError> {
    small(value, "revision")
}

/// A status change row as both backends read it.
#[derive(Debug)]
pub struct StatusChangeColumns {
    pub id: i64,
    pub registration_number: String,
    pub jurisdiction: String,
    pub from: String,
    pub to: String,
    pub reason: String,
    pub effective_on: Date,
    pub confirmation_notice_sent: Option<Date>,
    pub last_contact: Option<Date>,
    pub actor: String,
    pub recorded_at: i64,
}

pub fn status_change(columns: StatusChangeColumns) -> Result<crate::StoredStatusChange, StoreError> {
    Ok(crate::StoredStatusChange {
        id: columns.id,
        registration_number: columns.registration_number,
        jurisdiction: JurisdictionId::parse(&columns.jurisdiction).map_err(corrupt)?,
        from: VoterStatus::parse(&columns.from).map_err(corrupt)?,
        to: VoterStatus::parse(&columns.to).map_err(corrupt)?,
        reason: canvass_core::lifecycle::StatusReason::parse(&columns.reason).map_err(corrupt)?,
        effective_on: columns.effective_on,
        confirmation_notice_sent: columns.confirmation_notice_sent,
        last_contact: columns.last_contact,
        actor: columns.actor,
        recorded_at: columns.recorded_at,
    })
}
