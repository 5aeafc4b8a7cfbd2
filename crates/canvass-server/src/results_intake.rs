//! Election-night results intake (issue 7): a county's results file checked and stored as one
//! accepted change, or refused whole with every problem listed; corrections with their reason;
//! the certification a two-person request records; and [`load_results`], what the tally and
//! the publication read.
//!
//! The order of the checks is the issue's: a file that is not the declared format, truncated,
//! or for another election is refused before anything else; then the names that match nothing
//! in the definition; then the rules of `canvass_core::results::check_returns`. Every refusal
//! is a denied ledger entry and writes nothing. Access is checked per county the file touches,
//! so a county's results reporter cannot send another county's precincts.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, LazyLock},
};

use canvass_core::{
    access::{Decision, Grant, Operation, decide},
    audit::{Action, AuditEntry, now, now_millis},
    id::{ElectionId, JurisdictionId, PrecinctId},
    results::{ChangeKind, ElectionDefinition, ElectionResults, PrecinctReturn, check_returns},
};
use canvass_formats::{
    clarity, nist_results, openelections,
    reported::{Problem, ReportedResults},
    results_match::{MatchedReturns, election_problems, match_returns},
};
use canvass_store::{ResultsWrite, Store, StoredResultsChange};

use crate::{
    ServerError, access,
    ledger::{Audit, did_not_happen, target},
};

/// The largest results file accepted: a state's precinct file is a few megabytes.
pub const MAX_UPLOAD_BYTES: usize = 16 * 1024 * 1024;

/// The layouts a results file may be sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultsFormat {
    NistXml,
    NistJson,
    OpenElections,
    Clarity,
}

impl ResultsFormat {
    pub const ALL: [Self; 4] = [Self::NistXml, Self::NistJson, Self::OpenElections, Self::Clarity];

    pub fn parse(value: &str) -> Result<Self, ServerError> {
        Self::ALL.into_iter().find(|format| format.as_str() == value.trim()).ok_or_else(|| {
            ServerError::Invalid(format!("format: {value:?} is not one of nist-xml, nist-json, openelections, clarity"))
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NistXml => "nist-xml",
            Self::NistJson => "nist-json",
            Self::OpenElections => "openelections",
            Self::Clarity => "clarity",
        }
    }

    /// Reads the file as this format. A file that cannot be one (wrong format, truncated) is
    /// refused here, before any name is looked at.
    fn read(self, bytes: &[u8]) -> Result<ReportedResults, ServerError> {
        let refused = |error: canvass_formats::FormatsError| {
            ServerError::ResultsRefused(vec![format!("the file is not a {} results file: {error}", self.as_str())])
        };
        match self {
            Self::OpenElections => openelections::read(bytes).map_err(refused),
            Self::Clarity => clarity::read(bytes).map_err(refused),
            Self::NistXml => nist_results::read_xml(bytes).map(|report| report.reported().precincts).map_err(refused),
            Self::NistJson => nist_results::read_json(bytes).map(|report| report.reported().precincts).map_err(refused),
        }
    }
}

/// What a results upload asks.
#[derive(Debug, Clone)]
pub struct ResultsUpload<'a> {
    pub election: &'a ElectionId,
    pub format: ResultsFormat,
    pub bytes: &'a [u8],
    /// Sent as a correction, with the reason the public change history shows.
    pub correction: Option<String>,
}

/// What an accepted upload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultsOutcome {
    /// A new change was stored.
    Accepted { sequence: u64, county: Option<JurisdictionId>, precincts: usize, kind: ChangeKind },
    /// Every number equals those on file: nothing was written and no sequence was taken.
    Unchanged { precincts: usize },
}

/// Checks and stores one upload as the staff member `grants` and `audit` stand for (a session,
/// an API token, or the CLI's signed-in account).
pub async fn import_results(
    store: &dyn Store,
    audit: &Audit,
    grants: &[Grant],
    upload: &ResultsUpload<'_>,
) -> Result<ResultsOutcome, ServerError> {
    let correction = upload.correction.as_deref().map(str::trim);
    let action = if correction.is_some() { Action::ResultsCorrect } else { Action::ResultsReport };
    let file_sha256 = crate::results_publish::sha256_hex(upload.bytes);
    let entry = upload_entry(audit, action, upload.election, &file_sha256)?;
    // The reason goes into the ledger as the entry's justification: checked (not empty, not
    // too long) before anything else.
    if let Some(reason) = correction
        && let Err(error) = entry.clone().with_justification(reason)
    {
        let error = ServerError::Invalid(format!("correction: a correction needs its reason ({error})"));
        return Err(audit.refuse(entry, error).await);
    }
    if upload.bytes.len() > MAX_UPLOAD_BYTES {
        return Err(audit.refuse(entry, ServerError::BodyTooLarge).await);
    }
    let Some(definition) = store.election_definition(upload.election).await? else {
        let error = ServerError::NotFound(format!("no election {}", upload.election));
        return Err(audit.refuse(entry, error).await);
    };
    let entry = entry.with_jurisdiction(&definition.election.jurisdiction);
    let matched = match read_and_match(&definition, upload) {
        Ok(matched) => matched,
        Err(error) => return Err(audit.refuse(entry, error).await),
    };
    // Uploads of one election take turns in this process, so two counties sending at once are
    // both checked against the state the other left, instead of one being bounced by the
    // store's compare-and-set (which still guards against other processes).
    let turn = election_turn(upload.election);
    let _turn = turn.lock().await;
    let counties: BTreeSet<JurisdictionId> = matched
        .returns
        .iter()
        .filter_map(|it| definition.precinct(&it.precinct))
        .map(|precinct| precinct.jurisdiction.clone())
        .collect();
    authorize_counties(store, audit, grants, &counties).await?;

    let accepted = results_for(store, definition.clone()).await?;
    let correcting = correction.is_some();
    let mut problems = rule_problems(&definition, &accepted.returns, &matched, correcting);
    if accepted.is_certified() && !correcting {
        problems.push("the results are certified: any change needs a correction with a reason".into());
    }
    if !problems.is_empty() {
        return Err(audit.refuse(entry, ServerError::ResultsRefused(problems)).await);
    }
    let changed: Vec<PrecinctReturn> =
        matched.returns.iter().filter(|it| accepted.returns.get(&it.precinct) != Some(*it)).cloned().collect();
    if changed.is_empty() {
        return Ok(ResultsOutcome::Unchanged { precincts: matched.returns.len() });
    }
    let revises = changed.iter().any(|it| accepted.returns.contains_key(&it.precinct));
    let kind = match correction {
        Some(reason) if revises || accepted.is_certified() => ChangeKind::Correction { reason: reason.to_owned() },
        _ => ChangeKind::Report,
    };
    let changed_counties: BTreeSet<&JurisdictionId> = changed
        .iter()
        .filter_map(|it| definition.precinct(&it.precinct))
        .map(|precinct| &precinct.jurisdiction)
        .collect();
    let county = match changed_counties.into_iter().collect::<Vec<_>>().as_slice() {
        [one] => Some((*one).clone()),
        _ => None,
    };
    let change = StoredResultsChange {
        election: upload.election.clone(),
        sequence: next_sequence(&accepted),
        at: now().unix_timestamp(),
        county: county.clone(),
        kind: kind.clone(),
        actor: audit.actor.to_string(),
        file_sha256: Some(file_sha256),
    };
    let entry = accepted_entry(entry, &change, changed.len(), correction)?;
    let sequence = change.sequence;
    audit.run(entry, async { write_change(store, &change, &changed).await }).await?;
    Ok(ResultsOutcome::Accepted { sequence, county, precincts: changed.len(), kind })
}

/// The lock one election's uploads take turns on in this process.
fn election_turn(election: &ElectionId) -> Arc<tokio::sync::Mutex<()>> {
    static TURNS: LazyLock<std::sync::Mutex<BTreeMap<ElectionId, Arc<tokio::sync::Mutex<()>>>>> =
        LazyLock::new(Default::default);
    // A poisoned map only means another upload panicked while inserting; the map is still whole.
    let mut turns = TURNS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    turns.entry(election.clone()).or_default().clone()
}

fn upload_entry(
    audit: &Audit,
    action: Action,
    election: &ElectionId,
    file_sha256: &str,
) -> Result<AuditEntry, ServerError> {
    let entry = target(audit.entry(action), format!("election:{election}"))?;
    target(entry, format!("file:sha256:{file_sha256}"))
}

fn accepted_entry(
    entry: AuditEntry,
    change: &StoredResultsChange,
    precincts: usize,
    correction: Option<&str>,
) -> Result<AuditEntry, ServerError> {
    let mut entry = target(entry, format!("sequence:{}", change.sequence))?;
    entry = target(entry, format!("precincts:{precincts}"))?;
    if let Some(county) = &change.county {
        entry = target(entry, format!("county:{county}"))?;
    }
    match correction {
        Some(reason) => entry.with_justification(reason).map_err(|error| ServerError::Invalid(error.to_string())),
        None => Ok(entry),
    }
}

async fn write_change(
    store: &dyn Store,
    change: &StoredResultsChange,
    returns: &[PrecinctReturn],
) -> Result<(), ServerError> {
    match store.accept_results_change(change, returns).await? {
        ResultsWrite::Written => Ok(()),
        ResultsWrite::SequenceTaken => Err(ServerError::Conflict(
            "another results change was accepted while this one was being checked; send the file again".into(),
        )),
    }
}

fn next_sequence(results: &ElectionResults) -> u64 {
    results.changes.last().map_or(1, |change| change.sequence + 1)
}

/// Reads the file and matches it to the definition: format, election, then names.
fn read_and_match(definition: &ElectionDefinition, upload: &ResultsUpload<'_>) -> Result<MatchedReturns, ServerError> {
    let reported = upload.format.read(upload.bytes)?;
    let wrong_election = election_problems(&reported, definition);
    if !wrong_election.is_empty() {
        return Err(refused(&wrong_election));
    }
    let matched = match_returns(&reported, definition).map_err(|problems| refused(&problems))?;
    if matched.returns.is_empty() {
        return Err(ServerError::ResultsRefused(vec!["the file holds no precinct results".into()]));
    }
    Ok(matched)
}

fn refused(problems: &[Problem]) -> ServerError {
    ServerError::ResultsRefused(problems.iter().map(ToString::to_string).collect())
}

/// The upload rules' problems, each at the line or element of its precinct and contest.
fn rule_problems(
    definition: &ElectionDefinition,
    accepted: &BTreeMap<PrecinctId, PrecinctReturn>,
    matched: &MatchedReturns,
    correcting: bool,
) -> Vec<String> {
    check_returns(definition, accepted, &matched.returns, correcting)
        .into_iter()
        .map(|problem| {
            let place = matched
                .location(&problem.precinct, problem.contest.as_ref())
                .map_or_else(|| format!("precinct {}", problem.precinct), ToString::to_string);
            let contest = problem.contest.as_ref().map(|contest| format!(" (contest {contest})")).unwrap_or_default();
            format!("{place}{contest}: {}", problem.message)
        })
        .collect()
}

/// Every county the file touches must be one the staff member may upload for.
async fn authorize_counties(
    store: &dyn Store,
    audit: &Audit,
    grants: &[Grant],
    counties: &BTreeSet<JurisdictionId>,
) -> Result<(), ServerError> {
    for county in counties {
        let lineage = access::lineage(store, county).await?;
        if let Decision::Denied = decide(grants, Operation::UploadResults, &lineage, now_millis()) {
            let entry = audit.entry(Action::AccessDenied).with_jurisdiction(county);
            let entry = target(entry, format!("operation:{}", Operation::UploadResults))?;
            audit.record(&did_not_happen(entry, &ServerError::Forbidden)).await?;
            return Err(ServerError::Forbidden);
        }
    }
    Ok(())
}

/// An election's results as accepted: the definition, each precinct's latest return, the
/// registered voters per precinct from the roll, and the change history.
pub async fn load_results(store: &dyn Store, election: &ElectionId) -> Result<ElectionResults, ServerError> {
    let Some(definition) = store.election_definition(election).await? else {
        return Err(ServerError::NotFound(format!("no election {election}")));
    };
    results_for(store, definition).await
}

/// The results of a definition already loaded.
async fn results_for(store: &dyn Store, definition: ElectionDefinition) -> Result<ElectionResults, ServerError> {
    let election = &definition.election.id;
    let stored = store.precinct_returns(election).await?;
    let mut precincts_of: BTreeMap<u64, Vec<PrecinctId>> = BTreeMap::new();
    let mut returns = BTreeMap::new();
    // Rows come by precinct, then sequence: the last of each precinct is its latest.
    for row in stored {
        precincts_of.entry(row.sequence).or_default().push(row.precinct_return.precinct.clone());
        returns.insert(row.precinct_return.precinct.clone(), row.precinct_return);
    }
    let covered: BTreeSet<&PrecinctId> = definition.precincts.iter().map(|precinct| &precinct.id).collect();
    let registered = store
        .registered_voter_counts()
        .await?
        .into_iter()
        .filter(|count| covered.contains(&count.precinct))
        .map(|count| (count.precinct, count.registered))
        .collect();
    let changes = store
        .results_changes(election)
        .await?
        .into_iter()
        .map(|change| {
            let precincts = precincts_of.remove(&change.sequence).unwrap_or_default();
            change.public(precincts)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ElectionResults { definition, returns, registered, changes })
}

/// Records the `results.certify` entry, then the certification: what running an approved
/// two-person request does (`requests`, `canvass results certify`). Returns its sequence.
pub async fn record_certification(
    store: &dyn Store,
    audit: &Audit,
    jurisdiction: &JurisdictionId,
    election: &ElectionId,
) -> Result<u64, ServerError> {
    let entry = target(audit.entry(Action::ResultsCertify), format!("election:{election}"))?;
    audit.run(entry.with_jurisdiction(jurisdiction), certify(store, audit, election)).await
}

/// The certification itself: a new change that names no precinct. Certifying twice is refused.
async fn certify(store: &dyn Store, audit: &Audit, election: &ElectionId) -> Result<u64, ServerError> {
    let results = load_results(store, election).await?;
    if results.is_certified() {
        return Err(ServerError::Refused(format!("the results of {election} are already certified")));
    }
    let change = StoredResultsChange {
        election: election.clone(),
        sequence: next_sequence(&results),
        at: now().unix_timestamp(),
        county: None,
        kind: ChangeKind::Certification,
        actor: audit.actor.to_string(),
        file_sha256: None,
    };
    write_change(store, &change, &[]).await?;
    Ok(change.sequence)
}
