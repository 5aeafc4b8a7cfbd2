//! Absentee and provisional ballot tracking for staff. A step (request, send, return, accept,
//! reject, cure, cancel; cast, adjudicate) is checked by `canvass_core::ballots` against the
//! ballot's current status, the cure deadline and the election's date; recorded in the ledger
//! before it is stored; and stored with its history row in one transaction, compare-and-set on
//! the status it was checked against. A refusal is a ledger entry too, and changes nothing.

use canvass_core::{
    absentee_request::{AbsenteePeriod, AbsenteeRequest},
    audit::{Action, AuditEntry, now, now_millis},
    ballots::{
        AbsenteeStatus, BallotKind, BallotStatus, CurePolicy, ProvisionalReason, ProvisionalStatus, RejectionReason,
    },
    election::Election,
    id::{ElectionId, JurisdictionId},
};
use canvass_store::{Store, StoredBallot, StoredBallotChange};
use serde::Serialize;
use time::Date;
use utoipa::ToSchema;

use crate::{
    ServerError, access,
    ledger::{Audit, target},
};

/// One step of a ballot's life, as an official records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BallotStep {
    /// A new absentee ballot, requested.
    Request,
    Send,
    Return,
    Accept,
    Reject(RejectionReason),
    Cure,
    Cancel,
    /// A new provisional ballot, cast.
    Cast,
    /// The county board's decision on a provisional ballot: counted, partially counted or
    /// not counted with its reason.
    Adjudicate(ProvisionalStatus),
}

/// The absentee steps, for messages and help.
pub const ABSENTEE_STEPS: &str = "request, send, return, accept, reject, cure, cancel";
/// The provisional steps.
pub const PROVISIONAL_STEPS: &str = "cast, adjudicate";

impl BallotStep {
    pub fn kind(self) -> BallotKind {
        match self {
            Self::Cast | Self::Adjudicate(_) => BallotKind::Provisional,
            _ => BallotKind::Absentee,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::Send => "send",
            Self::Return => "return",
            Self::Accept => "accept",
            Self::Reject(_) => "reject",
            Self::Cure => "cure",
            Self::Cancel => "cancel",
            Self::Cast => "cast",
            Self::Adjudicate(_) => "adjudicate",
        }
    }

    /// The status the step leads to.
    pub fn status(self) -> BallotStatus {
        use AbsenteeStatus::{Accepted, Cancelled, Cured, Rejected, Requested, Returned, Sent};
        match self {
            Self::Request => BallotStatus::Absentee(Requested),
            Self::Send => BallotStatus::Absentee(Sent),
            Self::Return => BallotStatus::Absentee(Returned),
            Self::Accept => BallotStatus::Absentee(Accepted),
            Self::Reject(reason) => BallotStatus::Absentee(Rejected { reason }),
            Self::Cure => BallotStatus::Absentee(Cured),
            Self::Cancel => BallotStatus::Absentee(Cancelled),
            Self::Cast => BallotStatus::Provisional(ProvisionalStatus::Cast),
            Self::Adjudicate(decision) => BallotStatus::Provisional(decision),
        }
    }

    /// Whether the step starts a new ballot rather than moving one.
    fn opens(self) -> bool {
        matches!(self, Self::Request | Self::Cast)
    }

    /// Parses a step with its reason (`reject`: a rejection reason; `adjudicate`: `decision`
    /// and, when not counted, a provisional reason), naming the field that is wrong.
    pub fn parse(step: &str, decision: Option<&str>, reason: Option<&str>) -> Result<Self, ServerError> {
        let (decision, reason) = (present(decision), present(reason));
        let invalid = |message: String| ServerError::Invalid(message);
        let step = match step.trim() {
            "request" => Self::Request,
            "send" => Self::Send,
            "return" => Self::Return,
            "accept" => Self::Accept,
            "reject" => {
                let reason = reason.ok_or_else(|| invalid("reason: a rejection needs its reason code".into()))?;
                Self::Reject(RejectionReason::parse(reason).map_err(|error| invalid(format!("reason: {error}")))?)
            }
            "cure" => Self::Cure,
            "cancel" => Self::Cancel,
            "cast" => Self::Cast,
            "adjudicate" => Self::Adjudicate(decision_status(decision, reason)?),
            other => {
                return Err(invalid(format!(
                    "step: `{other}` is not a ballot step; expected one of {ABSENTEE_STEPS} (absentee) or \
                     {PROVISIONAL_STEPS} (provisional)"
                )));
            }
        };
        let takes_reason = matches!(step, Self::Reject(_) | Self::Adjudicate(ProvisionalStatus::NotCounted { .. }));
        if reason.is_some() && !takes_reason {
            return Err(invalid(format!("reason: the step `{}` takes no reason", step.as_str())));
        }
        if decision.is_some() && !matches!(step, Self::Adjudicate(_)) {
            return Err(invalid(format!("decision: only `adjudicate` takes a decision, not `{}`", step.as_str())));
        }
        Ok(step)
    }
}

/// A field's text, trimmed; `None` when absent or blank (a form's empty select).
fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|text| !text.is_empty())
}

fn decision_status(decision: Option<&str>, reason: Option<&str>) -> Result<ProvisionalStatus, ServerError> {
    let invalid = |message: String| ServerError::Invalid(message);
    match decision {
        Some("counted") => Ok(ProvisionalStatus::Counted),
        Some("partially_counted") => Ok(ProvisionalStatus::PartiallyCounted),
        Some("not_counted") => {
            let reason = reason.ok_or_else(|| invalid("reason: a ballot not counted needs its reason code".into()))?;
            let reason = ProvisionalReason::parse(reason).map_err(|error| invalid(format!("reason: {error}")))?;
            Ok(ProvisionalStatus::NotCounted { reason })
        }
        Some(other) => Err(invalid(format!(
            "decision: `{other}` is not a decision; expected counted, partially_counted or not_counted"
        ))),
        None => Err(invalid("decision: adjudicate needs a decision (counted, partially_counted, not_counted)".into())),
    }
}

/// What an official asks for: ids, codes and dates only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BallotRequest {
    pub jurisdiction: JurisdictionId,
    pub registration_number: String,
    pub election: ElectionId,
    pub step: BallotStep,
    /// The day it happened; today when the official gives none. Not in the future.
    pub on: Option<Date>,
}

/// The ledger entry of a step: the voter by registration number, the election, the step and
/// the status it leads to (whose code carries the reason); never a personal value.
fn entry(audit: &Audit, request: &BallotRequest) -> Result<AuditEntry, ServerError> {
    let entry = audit.entry(Action::BallotRecord).with_jurisdiction(&request.jurisdiction);
    let entry = target(entry, format!("voter:{}", request.registration_number))?;
    let entry = target(entry, format!("election:{}", request.election))?;
    let entry = target(entry, format!("step:{}", request.step.as_str()))?;
    target(entry, format!("{}:{}", request.step.kind().as_str(), request.step.status().as_str()))
}

fn no_voter(jurisdiction: &JurisdictionId, number: &str) -> ServerError {
    ServerError::NotFound(format!("no voter with registration number {number} in {jurisdiction}"))
}

/// The election, if it exists and is held where the voter votes (the voter's jurisdiction or
/// one above it).
async fn election_for(
    store: &dyn Store,
    jurisdiction: &JurisdictionId,
    election: &ElectionId,
) -> Result<Election, ServerError> {
    let Some(found) = store.election(election).await? else {
        return Err(ServerError::UnknownReference(format!("election {election} does not exist")));
    };
    if !access::lineage(store, jurisdiction).await?.contains(&found.jurisdiction) {
        return Err(ServerError::UnknownReference(format!(
            "election {election} is held in {}, not in {jurisdiction} or above it",
            found.jurisdiction
        )));
    }
    Ok(found)
}

/// What recording an absentee request (a VRI `BallotRequest`) did for one election it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AbsenteeRequestOutcome {
    /// A new absentee ballot, `requested`, was recorded.
    Recorded(ElectionId),
    /// The voter already had a live absentee ballot for that election: nothing written, so
    /// importing the same request again changes nothing.
    AlreadyRequested(ElectionId),
}

/// The elections on file that an absentee request covers: those held where the voter votes,
/// on or after the day of the request, that its period includes; for a request naming no
/// election, only the first of them.
async fn covered_elections(store: &dyn Store, request: &AbsenteeRequest) -> Result<Vec<Election>, ServerError> {
    let lineage = access::lineage(store, &request.jurisdiction).await?;
    let mut elections: Vec<Election> = store
        .elections(None)
        .await?
        .into_iter()
        .filter(|election| lineage.contains(&election.jurisdiction))
        .filter(|election| election.date >= request.requested_on && request.covers(election.date))
        .collect();
    elections.sort_by_key(|election| election.date);
    if request.period == AbsenteePeriod::NextElection {
        elections.truncate(1);
    }
    Ok(elections)
}

/// Records the absentee ballots a request asks for, one `request` step per election it covers
/// (each checked, ledgered and stored as if an official had entered it). An election the voter
/// already has a live absentee ballot for is left alone. An empty answer means no election on
/// file is covered yet: nothing was written.
pub async fn record_absentee_request(
    store: &dyn Store,
    audit: &Audit,
    request: &AbsenteeRequest,
) -> Result<Vec<AbsenteeRequestOutcome>, ServerError> {
    let existing = store.voter_ballots(&request.registration_number).await?;
    let mut outcomes = Vec::new();
    for election in covered_elections(store, request).await? {
        let live = existing.iter().any(|ballot| {
            ballot.election == election.id
                && ballot.kind() == BallotKind::Absentee
                && ballot.status != BallotStatus::Absentee(AbsenteeStatus::Cancelled)
        });
        if live {
            outcomes.push(AbsenteeRequestOutcome::AlreadyRequested(election.id));
            continue;
        }
        let step = BallotRequest {
            jurisdiction: request.jurisdiction.clone(),
            registration_number: request.registration_number.clone(),
            election: election.id.clone(),
            step: BallotStep::Request,
            on: Some(request.requested_on.min(now().date())),
        };
        record(store, audit, &step).await?;
        outcomes.push(AbsenteeRequestOutcome::Recorded(election.id));
    }
    Ok(outcomes)
}

/// Checks and records one step; returns the ballot as stored. Refusals (no such voter or
/// election, a date in the future, a step the rules do not allow) are recorded in the ledger
/// and change nothing.
pub async fn record(store: &dyn Store, audit: &Audit, request: &BallotRequest) -> Result<StoredBallot, ServerError> {
    let entry = entry(audit, request)?;
    match plan(store, audit, request).await {
        Ok(planned) => audit.run(entry, apply(store, audit, planned)).await,
        Err(error) => Err(audit.refuse(entry, error).await),
    }
}

/// What a checked step will write.
enum Planned {
    Open(StoredBallot),
    Move(StoredBallot, StoredBallotChange),
}

async fn plan(store: &dyn Store, audit: &Audit, request: &BallotRequest) -> Result<Planned, ServerError> {
    let today = now().date();
    let on = request.on.unwrap_or(today);
    if on > today {
        return Err(ServerError::Invalid(format!(
            "on: {on} is in the future; record a ballot step on or after the day it happened"
        )));
    }
    let (jurisdiction, number) = (&request.jurisdiction, request.registration_number.as_str());
    if store.voter(number).await?.filter(|voter| voter.jurisdiction == *jurisdiction).is_none() {
        return Err(no_voter(jurisdiction, number));
    }
    let election = election_for(store, jurisdiction, &request.election).await?;
    let kind = request.step.kind();
    let live = store.voter_ballots(number).await?.into_iter().find(|ballot| {
        ballot.election == request.election
            && ballot.kind() == kind
            && ballot.status != BallotStatus::Absentee(AbsenteeStatus::Cancelled)
    });
    let recorded_at = now_millis();
    let policy = CurePolicy::default();
    let to = request.step.status();
    if request.step.opens() {
        if let Some(ballot) = live {
            return Err(ServerError::Conflict(format!(
                "voter {number} already has a {} ballot in {} ({}); cancel it before issuing another",
                kind.as_str(),
                request.election,
                ballot.status.as_str()
            )));
        }
        return Ok(Planned::Open(StoredBallot {
            id: 0,
            registration_number: number.to_owned(),
            jurisdiction: jurisdiction.clone(),
            election: request.election.clone(),
            status: to,
            cure_deadline: None,
            opened_on: on,
            status_on: on,
            updated_at: recorded_at,
        }));
    }
    let Some(ballot) = live else {
        let first = if kind == BallotKind::Absentee { "request" } else { "cast" };
        return Err(ServerError::NotFound(format!(
            "voter {number} has no {} ballot in {}; record `{first}` first",
            kind.as_str(),
            request.election
        )));
    };
    if on < ballot.status_on {
        return Err(ServerError::Invalid(format!(
            "on: {on} is before the ballot's last step ({}); steps are recorded in order",
            ballot.status_on
        )));
    }
    ballot
        .status
        .check_change(to, on, policy, election.date)
        .map_err(|refusal| ServerError::Ballot(refusal.to_string()))?;
    // A rejection sets (or, when no cure is possible, clears) the deadline; later steps keep it.
    let cure_deadline = match to {
        BallotStatus::Absentee(AbsenteeStatus::Rejected { .. }) => to.cure_deadline(policy, election.date),
        _ => ballot.cure_deadline,
    };
    let change = StoredBallotChange {
        id: 0,
        ballot: ballot.id,
        registration_number: number.to_owned(),
        from: Some(ballot.status),
        to,
        cure_deadline,
        on,
        actor: audit.actor.to_string(),
        recorded_at,
    };
    Ok(Planned::Move(ballot, change))
}

async fn apply(store: &dyn Store, audit: &Audit, planned: Planned) -> Result<StoredBallot, ServerError> {
    match planned {
        Planned::Open(ballot) => {
            let id = store.insert_ballot(&ballot, &audit.actor.to_string()).await?;
            Ok(StoredBallot { id, ..ballot })
        }
        Planned::Move(ballot, change) => {
            if !store.change_ballot_status(&change).await? {
                return Err(ServerError::Conflict(
                    "the ballot's status changed while this step was being checked; look again and retry".into(),
                ));
            }
            Ok(StoredBallot {
                status: change.to,
                cure_deadline: change.cure_deadline,
                status_on: change.on,
                updated_at: change.recorded_at,
                ..ballot
            })
        }
    }
}

/// A voter's ballot with its election (if still known) and history, oldest change first.
#[derive(Debug, Clone)]
pub struct VoterBallot {
    pub ballot: StoredBallot,
    pub election: Option<Election>,
    pub history: Vec<StoredBallotChange>,
}

/// The voter's ballots, oldest first, each with its history; `NotFound` if the jurisdiction has
/// no such voter.
pub async fn voter_ballots(
    store: &dyn Store,
    jurisdiction: &JurisdictionId,
    registration_number: &str,
) -> Result<Vec<VoterBallot>, ServerError> {
    let voter = store.voter(registration_number).await?.filter(|voter| voter.jurisdiction == *jurisdiction);
    if voter.is_none() {
        return Err(no_voter(jurisdiction, registration_number));
    }
    let changes = store.voter_ballot_changes(registration_number).await?;
    let mut ballots = Vec::new();
    for ballot in store.voter_ballots(registration_number).await? {
        let election = store.election(&ballot.election).await?;
        let history = changes.iter().filter(|change| change.ballot == ballot.id).cloned().collect();
        ballots.push(VoterBallot { ballot, election, history });
    }
    Ok(ballots)
}

/// A ballot as staff see it (API, CLI `--json`): codes, dates and who recorded each step.
#[derive(Debug, Serialize, ToSchema)]
pub struct BallotView {
    pub id: i64,
    pub registration_number: String,
    pub jurisdiction: String,
    pub election: String,
    /// The election's date, when the election is known.
    pub election_date: Option<String>,
    /// absentee or provisional.
    pub kind: String,
    /// The status code; a rejection or a provisional decision carries its reason
    /// (`rejected:missing_signature`, `not_counted:wrong_precinct`).
    pub status: String,
    pub cure_deadline: Option<String>,
    /// The day requested (absentee) or cast (provisional).
    pub opened_on: String,
    pub status_on: String,
    /// What the voter reads on "Did my ballot count?" today.
    pub public_line: String,
    pub history: Vec<BallotChangeView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BallotChangeView {
    pub from: Option<String>,
    pub to: String,
    pub on: String,
    pub cure_deadline: Option<String>,
    pub actor: String,
    /// Unix milliseconds.
    pub recorded_at: i64,
}

impl From<&VoterBallot> for BallotView {
    fn from(found: &VoterBallot) -> Self {
        let ballot = &found.ballot;
        let public_line = match &found.election {
            Some(election) => {
                ballot.status.public(now().date(), CurePolicy::default(), election.date).line().to_owned()
            }
            None => String::new(),
        };
        Self {
            id: ballot.id,
            registration_number: ballot.registration_number.clone(),
            jurisdiction: ballot.jurisdiction.to_string(),
            election: ballot.election.to_string(),
            election_date: found.election.as_ref().map(|election| election.date.to_string()),
            kind: ballot.kind().as_str().to_owned(),
            status: ballot.status.as_str().to_owned(),
            cure_deadline: ballot.cure_deadline.map(|date| date.to_string()),
            opened_on: ballot.opened_on.to_string(),
            status_on: ballot.status_on.to_string(),
            public_line,
            history: found
                .history
                .iter()
                .map(|change| BallotChangeView {
                    from: change.from.map(|status| status.as_str().to_owned()),
                    to: change.to.as_str().to_owned(),
                    on: change.on.to_string(),
                    cure_deadline: change.cure_deadline.map(|date| date.to_string()),
                    actor: change.actor.clone(),
                    recorded_at: change.recorded_at,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(step: &str, decision: Option<&str>, reason: Option<&str>, expected: Result<BallotStep, &str>) {
        match (BallotStep::parse(step, decision, reason), expected) {
            (Ok(actual), Ok(expected)) => assert_eq!(actual, expected),
            (Err(error), Err(fragment)) => {
                assert!(error.to_string().contains(fragment), "{step}: `{error}` lacks `{fragment}`")
            }
            (actual, expected) => panic!("{step}: got {actual:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn steps_parse_with_exactly_the_reasons_they_take() {
        check("send", None, None, Ok(BallotStep::Send));
        check(" cure ", None, Some(" "), Ok(BallotStep::Cure));
        check("reject", None, Some("missing_witness"), Ok(BallotStep::Reject(RejectionReason::MissingWitness)));
        check("reject", None, None, Err("reason: a rejection needs"));
        check("reject", None, Some("smudged"), Err("reason: unknown rejection reason"));
        check("accept", None, Some("other"), Err("takes no reason"));
        check("adjudicate", Some("counted"), None, Ok(BallotStep::Adjudicate(ProvisionalStatus::Counted)));
        check(
            "adjudicate",
            Some("not_counted"),
            Some("wrong_precinct"),
            Ok(BallotStep::Adjudicate(ProvisionalStatus::NotCounted { reason: ProvisionalReason::WrongPrecinct })),
        );
        check("adjudicate", Some("not_counted"), None, Err("needs its reason"));
        check("adjudicate", None, None, Err("decision:"));
        check("adjudicate", Some("counted"), Some("other"), Err("takes no reason"));
        check("cast", Some("counted"), None, Err("only `adjudicate`"));
        check("mail", None, None, Err("step: `mail` is not a ballot step"));
    }
}
