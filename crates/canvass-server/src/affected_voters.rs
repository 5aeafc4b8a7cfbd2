//! Affected-voter identification, for an office's breach-notification duty: from the ledger,
//! the voter records an incident's subject (the staff account involved) read in a time window,
//! by default the 24 hours before the incident was opened. The list is confidential: reading
//! it needs `voters.read` on the incident's jurisdiction (an administrator gives a reason) and
//! is an `incident.affected_voters` entry; exporting it as CSV is a two-person request
//! (`export_affected_voters`, approved by a second person allowed `voters.export`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use canvass_core::{
    access::Operation,
    audit::{Action, Actor},
    id::JurisdictionId,
    voter_policy::FieldPolicy,
};
use canvass_store::{LEDGER_SEARCH_LIMIT, LedgerQuery, Store, StoredIncident};
use serde::Serialize;

use crate::{
    Node, ServerError,
    access::Principal,
    keys::UnsealedRing,
    ledger::{Audit, target},
};

const DAY_MILLIS: i64 = 86_400_000;
const INCIDENT_LIMIT: u32 = 100_000;

/// The reads looked at: `since` inclusive, `until` exclusive, Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub since: i64,
    pub until: i64,
}

impl Window {
    /// From 24 hours before the incident was opened until it was opened (that millisecond
    /// included: the reads that tripped a detector are recorded before it opens the incident).
    pub fn default_for(incident: &StoredIncident) -> Self {
        Self { since: incident.opened_at - DAY_MILLIS, until: incident.opened_at + 1 }
    }

    /// The default, with either end replaced.
    pub fn for_incident(
        incident: &StoredIncident,
        since: Option<i64>,
        until: Option<i64>,
    ) -> Result<Self, ServerError> {
        let default = Self::default_for(incident);
        let window = Self { since: since.unwrap_or(default.since), until: until.unwrap_or(default.until) };
        if window.since >= window.until {
            return Err(ServerError::Invalid("the window's start must come before its end".into()));
        }
        Ok(window)
    }

    /// `incident` or `incident/since/until`: the subject of an export request.
    pub fn subject(self, incident: &str) -> String {
        format!("{incident}/{}/{}", self.since, self.until)
    }
}

/// Reads an export request's subject: the incident id and, if given, the window.
pub fn parse_subject(subject: &str) -> Result<(String, Option<(i64, i64)>), ServerError> {
    let invalid = || ServerError::Invalid("the subject is `INCIDENT` or `INCIDENT/SINCE_MS/UNTIL_MS`".into());
    let mut parts = subject.trim().split('/');
    let id = parts.next().filter(|id| !id.is_empty()).ok_or_else(invalid)?.to_owned();
    match (parts.next(), parts.next(), parts.next()) {
        (None, _, _) => Ok((id, None)),
        (Some(since), Some(until), None) => {
            Ok((id, Some((since.parse().map_err(|_| invalid())?, until.parse().map_err(|_| invalid())?))))
        }
        _ => Err(invalid()),
    }
}

/// The incident of this id.
pub async fn incident(store: &dyn Store, id: &str) -> Result<StoredIncident, ServerError> {
    store
        .incidents(INCIDENT_LIMIT)
        .await?
        .into_iter()
        .find(|incident| incident.id == id)
        .ok_or_else(|| ServerError::NotFound(format!("no incident {id}")))
}

/// The registration numbers the incident's subject read in the window, in order, each once:
/// reads signed in as the account and through any API token it owns. Nothing for an incident
/// without a subject.
pub async fn registration_numbers_read(
    store: &dyn Store,
    incident: &StoredIncident,
    window: Window,
) -> Result<Vec<String>, ServerError> {
    let Some(subject) = &incident.subject else { return Ok(Vec::new()) };
    let mut actors = vec![Actor::User(subject.clone())];
    for token in store.api_tokens().await? {
        if token.owner == *subject {
            actors.push(Actor::Token(token.id));
        }
    }
    let mut numbers = BTreeSet::new();
    for actor in actors {
        read_by(store, &actor, window, &mut numbers).await?;
    }
    Ok(numbers.into_iter().collect())
}

async fn read_by(
    store: &dyn Store,
    actor: &Actor,
    window: Window,
    numbers: &mut BTreeSet<String>,
) -> Result<(), ServerError> {
    let mut before_index = None;
    loop {
        let query = LedgerQuery {
            actor: Some(actor.to_string()),
            action: Some(Action::VoterRead.as_str().to_owned()),
            outcome: Some("allowed".to_owned()),
            since_millis: Some(window.since),
            until_millis: Some(window.until),
            before_index,
            limit: LEDGER_SEARCH_LIMIT,
            ..LedgerQuery::default()
        };
        let rows = store.search_ledger(&query).await?;
        for row in &rows {
            let Ok(entry) = canvass_core::audit::AuditEntry::decode(&row.body) else { continue };
            numbers.extend(entry.targets.iter().filter_map(|target| target.strip_prefix("voter:")).map(str::to_owned));
        }
        before_index = rows.last().map(|row| row.index);
        if (rows.len() as u32) < LEDGER_SEARCH_LIMIT || before_index.is_none() {
            return Ok(());
        }
    }
}

/// One affected voter: registration number and name (public-record fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AffectedVoter {
    pub registration_number: String,
    pub last_name: String,
    pub first_name: String,
    /// The roll holding the record (whose key ring opens it).
    pub roll: String,
}

/// The rolls (key-ring jurisdictions) holding these records, so the caller can open their rings.
pub async fn rolls_of(store: &dyn Store, numbers: &[String]) -> Result<BTreeSet<JurisdictionId>, ServerError> {
    let mut rolls = BTreeSet::new();
    for number in numbers {
        if let Some(sealed) = store.voter(number).await? {
            rolls.insert(sealed.jurisdiction);
        }
    }
    Ok(rolls)
}

/// Opens the records' names with the given rings; a number no longer on any roll keeps an
/// empty name (the ledger still says it was read).
pub async fn open_names(
    store: &dyn Store,
    rings: &BTreeMap<JurisdictionId, Arc<UnsealedRing>>,
    numbers: &[String],
) -> Result<Vec<AffectedVoter>, ServerError> {
    let policy = FieldPolicy::north_carolina();
    let mut voters = Vec::with_capacity(numbers.len());
    for number in numbers {
        let voter = match store.voter(number).await? {
            Some(sealed) => {
                let ring = rings
                    .get(&sealed.jurisdiction)
                    .ok_or_else(|| ServerError::Sealed(sealed.jurisdiction.to_string()))?;
                let record = crate::roll::open_row(ring, &sealed, &policy, false)?;
                AffectedVoter {
                    registration_number: number.clone(),
                    last_name: record.last_name,
                    first_name: record.first_name,
                    roll: sealed.jurisdiction.to_string(),
                }
            }
            None => AffectedVoter {
                registration_number: number.clone(),
                last_name: String::new(),
                first_name: String::new(),
                roll: String::new(),
            },
        };
        voters.push(voter);
    }
    Ok(voters)
}

/// The `incident.affected_voters` entry: the incident, the window, the count, the reason.
pub fn entry(
    audit: &Audit,
    incident: &StoredIncident,
    window: Window,
    count: usize,
    justification: Option<&str>,
    export: bool,
) -> Result<canvass_core::audit::AuditEntry, ServerError> {
    let mut entry = target(audit.entry(Action::IncidentAffectedVoters), format!("incident:{}", incident.id))?;
    entry = target(entry, format!("window:{}..{}", window.since, window.until))?;
    entry = target(entry, format!("records:{count}"))?;
    if let Some(jurisdiction) = &incident.jurisdiction {
        entry = entry.with_jurisdiction(jurisdiction);
    }
    if let Some(text) = justification.map(str::trim).filter(|text| !text.is_empty()) {
        entry = entry.with_justification(text)?;
    }
    entry.reason = Some(if export { "export" } else { "list" }.to_owned());
    Ok(entry)
}

/// The list through the node (API and admin page): `voters.read` on the incident's
/// jurisdiction (with the reason administrators must give), the entry recorded first.
pub async fn list_as(
    node: &Node,
    audit: &Audit,
    principal: &Principal,
    incident_id: &str,
    since: Option<i64>,
    until: Option<i64>,
    justification: Option<&str>,
) -> Result<(StoredIncident, Window, Vec<AffectedVoter>), ServerError> {
    let incident = incident(node.store(), incident_id).await?;
    principal.authorize_now(node, audit, Operation::ReadVoters, incident.jurisdiction.as_ref(), justification).await?;
    let window = Window::for_incident(&incident, since, until)?;
    let voters = collect(node, &incident, window).await?;
    audit.record(&entry(audit, &incident, window, voters.len(), justification, false)?).await?;
    Ok((incident, window, voters))
}

/// The numbers read in the window, opened with the node's unsealed rings.
pub async fn collect(
    node: &Node,
    incident: &StoredIncident,
    window: Window,
) -> Result<Vec<AffectedVoter>, ServerError> {
    let store = node.store();
    let numbers = registration_numbers_read(store, incident, window).await?;
    let mut rings = BTreeMap::new();
    for roll in rolls_of(store, &numbers).await? {
        let ring = node.keys().current(store, &roll).await?;
        rings.insert(roll, ring);
    }
    open_names(store, &rings, &numbers).await
}

/// The list as CSV (RFC 4180 quoting): registration number, last name, first name.
pub fn to_csv(voters: &[AffectedVoter]) -> String {
    fn field(value: &str) -> String {
        if value.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", value.replace('"', "\"\""))
        } else {
            value.to_owned()
        }
    }
    let mut text = String::from("registration_number,last_name,first_name\n");
    for voter in voters {
        text.push_str(&format!(
            "{},{},{}\n",
            field(&voter.registration_number),
            field(&voter.last_name),
            field(&voter.first_name)
        ));
    }
    text
}

/// Checks an export request's subject names an incident of the request's jurisdiction.
pub async fn check_request_subject(
    store: &dyn Store,
    jurisdiction: &JurisdictionId,
    subject: &str,
) -> Result<(), ServerError> {
    let (id, _) = parse_subject(subject)?;
    let found = incident(store, &id).await.map_err(|_| ServerError::UnknownReference(format!("no incident {id}")))?;
    if found.jurisdiction.as_ref() != Some(jurisdiction) {
        return Err(ServerError::Invalid(format!(
            "incident {id} is not {jurisdiction}'s: make the request in its jurisdiction"
        )));
    }
    Ok(())
}

/// Runs an approved export request (already marked executed): the list as CSV, its entry first.
pub async fn export(
    node: &Node,
    audit: &Audit,
    subject: &str,
    justification: &str,
) -> Result<(usize, String), ServerError> {
    let (id, window) = parse_subject(subject)?;
    let incident = incident(node.store(), &id).await?;
    let window = Window::for_incident(&incident, window.map(|(since, _)| since), window.map(|(_, until)| until))?;
    let voters = collect(node, &incident, window).await?;
    audit.record(&entry(audit, &incident, window, voters.len(), Some(justification), true)?).await?;
    Ok((voters.len(), to_csv(&voters)))
}
