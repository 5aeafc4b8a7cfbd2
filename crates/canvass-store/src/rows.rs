//! Turning stored columns back into domain values. Both backends share this, so a value that
//! no longer parses (a hand-edited row) is reported the same way by each.

use canvass_core::{
    CoreError,
    credential::{StaffAccount, StaffRole, Username},
    election::{Choice, Contest, ContestKind, Election, ElectionKind, VoteFor},
    id::{ContestId, ElectionId, JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct},
    name::Name,
};
use time::Date;

use crate::{PrecinctVoterCount, StoreError};

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
