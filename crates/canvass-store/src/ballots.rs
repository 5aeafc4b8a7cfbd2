//! Absentee and provisional ballots as stored: one row per ballot (its current status) and an
//! append-only history of its status changes. Ids, codes and dates only: no personal value.

use canvass_core::{
    CoreError,
    ballots::{BallotKind, BallotStatus},
    id::{ElectionId, JurisdictionId},
};
use time::Date;

use crate::StoreError;

/// One ballot of one voter in one election. A voter has at most one ballot of each kind per
/// election that is not cancelled (a cancelled absentee ballot may be replaced by a new one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBallot {
    /// Assigned by the store, increasing; 0 in a ballot not yet stored.
    pub id: i64,
    pub registration_number: String,
    pub jurisdiction: JurisdictionId,
    pub election: ElectionId,
    pub status: BallotStatus,
    /// A curable rejection's last day to cure, if the ballot has (had) one.
    pub cure_deadline: Option<Date>,
    /// The day the ballot was requested (absentee) or cast (provisional).
    pub opened_on: Date,
    /// The day of the latest status.
    pub status_on: Date,
    /// Unix milliseconds of the latest change.
    pub updated_at: i64,
}

impl StoredBallot {
    pub fn kind(&self) -> BallotKind {
        self.status.kind()
    }
}

/// One status change of a ballot: its first status (`from` is `None`) or a later one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBallotChange {
    /// Assigned by the store, increasing; 0 in a change not yet stored.
    pub id: i64,
    pub ballot: i64,
    pub registration_number: String,
    pub from: Option<BallotStatus>,
    pub to: BallotStatus,
    /// The ballot's cure deadline after this change.
    pub cure_deadline: Option<Date>,
    /// The day it happened.
    pub on: Date,
    /// Who recorded it, as the ledger names them (`user:NAME`).
    pub actor: String,
    /// Unix milliseconds.
    pub recorded_at: i64,
}

fn corrupt(error: CoreError) -> StoreError {
    StoreError::Corrupt(error.to_string())
}

/// A ballot row's columns as text and dates, for [`ballot`].
#[derive(Debug)]
pub struct BallotColumns {
    pub id: i64,
    pub registration_number: String,
    pub jurisdiction: String,
    pub election: String,
    pub kind: String,
    pub status: String,
    pub cure_deadline: Option<Date>,
    pub opened_on: Date,
    pub status_on: Date,
    pub updated_at: i64,
}

pub fn ballot(columns: BallotColumns) -> Result<StoredBallot, StoreError> {
    let kind = BallotKind::parse(&columns.kind).map_err(corrupt)?;
    Ok(StoredBallot {
        id: columns.id,
        registration_number: columns.registration_number,
        jurisdiction: JurisdictionId::parse(&columns.jurisdiction).map_err(corrupt)?,
        election: ElectionId::parse(&columns.election).map_err(corrupt)?,
        status: BallotStatus::parse(kind, &columns.status).map_err(corrupt)?,
        cure_deadline: columns.cure_deadline,
        opened_on: columns.opened_on,
        status_on: columns.status_on,
        updated_at: columns.updated_at,
    })
}

/// A history row's columns (with its ballot's kind), for [`ballot_change`].
#[derive(Debug)]
pub struct BallotChangeColumns {
    pub id: i64,
    pub ballot: i64,
    pub registration_number: String,
    pub kind: String,
    pub from: Option<String>,
    pub to: String,
    pub cure_deadline: Option<Date>,
    pub on: Date,
    pub actor: String,
    pub recorded_at: i64,
}

pub fn ballot_change(columns: BallotChangeColumns) -> Result<StoredBallotChange, StoreError> {
    let kind = BallotKind::parse(&columns.kind).map_err(corrupt)?;
    Ok(StoredBallotChange {
        id: columns.id,
        ballot: columns.ballot,
        registration_number: columns.registration_number,
        from: columns.from.map(|code| BallotStatus::parse(kind, &code)).transpose().map_err(corrupt)?,
        to: BallotStatus::parse(kind, &columns.to).map_err(corrupt)?,
        cure_deadline: columns.cure_deadline,
        on: columns.on,
        actor: columns.actor,
        recorded_at: columns.recorded_at,
    })
}
