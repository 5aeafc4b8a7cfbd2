//! The incident register's service: opening an incident (by hand or by a detector, one
//! unfinished incident per detector and subject), adding updates under the rules of
//! `canvass_core::incidents`, and telling the administrators of the jurisdiction and its state
//! about each new or escalated incident. Every change is a ledger entry written first; the
//! store's triggers refuse any other change to an incident or its timeline.
//!
//! The functions take a [`Register`] (store, ledger, outbox wake-up) rather than a `Node`, so
//! the CLI records incidents with the same code as the server.

use canvass_core::{
    audit::{Action, Actor, now_millis},
    credential::Username,
    id::JurisdictionId,
    incidents::{DataClass, IncidentState, IncidentStatus, Severity, UpdateProblem, check_update, is_escalation},
};
use canvass_store::{IncidentQuery, Store, StoreError, StoredIncident, StoredIncidentUpdate};
use tokio::sync::Notify;

use crate::{
    Node, ServerError,
    access::lineage,
    ledger::{Audit, target},
    monitor::queue_for_administrators,
};

/// Summaries, actions and notes are sentences, not documents.
const MAX_TEXT: usize = 4_000;
/// How often an update is retried when another writer got in first.
const RETRIES: usize = 3;

/// Where incidents are recorded and who is told.
#[derive(Clone)]
pub struct Register<'a> {
    pub store: &'a dyn Store,
    /// The node itself, for detectors' entries.
    pub system: Audit,
    /// Wakes the outbox sender when it runs in this process.
    pub outbox: Option<&'a Notify>,
}

impl std::fmt::Debug for Register<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Register").field("system", &self.system).finish_non_exhaustive()
    }
}

impl<'a> Register<'a> {
    pub fn of_node(node: &'a Node) -> Self {
        Self { store: node.store(), system: node.system_audit(), outbox: Some(node.outbox_signal()) }
    }

    /// For a service given only a store and an audit (the CLI, key-ring code): mail is queued
    /// for the node's sender, which checks its queue every 30 seconds.
    pub fn beside(store: &'a dyn Store, audit: &Audit) -> Self {
        Self {
            store,
            system: Audit { ledger: audit.ledger.clone(), actor: Actor::System, request_id: audit.request_id.clone() },
            outbox: None,
        }
    }

    fn store(&self) -> &'a dyn Store {
        self.store
    }
}

/// An incident opened by hand.
#[derive(Debug, Clone)]
pub struct NewIncident {
    pub jurisdiction: Option<JurisdictionId>,
    pub severity: Severity,
    pub summary: String,
    /// When the problem was detected; now if absent.
    pub detected_at: Option<i64>,
    pub data_classes: Vec<DataClass>,
    pub records_affected: u64,
    pub actions_taken: String,
}

/// What a detector saw. `key` names the detector and its subject
/// (`failed_sign_in:account:alice`): while an incident with that key is unfinished, a new
/// detection is added to it as an update instead of opening another.
#[derive(Debug, Clone)]
pub struct Detection {
    pub kind: &'static str,
    pub key: String,
    pub jurisdiction: Option<JurisdictionId>,
    pub severity: Severity,
    pub summary: String,
    pub subject: Option<Username>,
    pub data_classes: Vec<DataClass>,
    pub records_affected: u64,
    /// The notification's subject, when the detector says it better than the default.
    pub mail_subject: Option<String>,
}

/// A change asked for; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct IncidentChange {
    pub status: Option<IncidentStatus>,
    pub severity: Option<Severity>,
    pub records_affected: Option<u64>,
    pub data_classes: Option<Vec<DataClass>>,
    pub actions_taken: Option<String>,
    pub public_text: String,
    pub internal_text: String,
}

/// Checks a free text field: not too long, no control characters but newlines.
pub fn check_text(field: &str, value: &str, required: bool) -> Result<String, ServerError> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(ServerError::Invalid(format!("{field}: required")));
    }
    if value.chars().count() > MAX_TEXT {
        return Err(ServerError::Invalid(format!("{field}: at most {MAX_TEXT} characters")));
    }
    if value.chars().any(|character| character.is_control() && character != '\n' && character != '\r') {
        return Err(ServerError::Invalid(format!("{field}: control characters are not allowed")));
    }
    Ok(value.to_owned())
}

fn new_id(now: i64) -> Result<String, ServerError> {
    Ok(format!("inc-{now}-{}", canvass_crypto::random_hex(6)?))
}

fn class_names(classes: &[DataClass]) -> Vec<String> {
    classes.iter().map(|class| class.as_str().to_owned()).collect()
}

fn corrupt(error: canvass_core::CoreError) -> ServerError {
    ServerError::Internal(format!("a stored incident is invalid: {error}"))
}

/// The incident's current state, parsed.
pub fn state_of(incident: &StoredIncident) -> Result<IncidentState, ServerError> {
    Ok(IncidentState {
        status: IncidentStatus::parse(&incident.status).map_err(corrupt)?,
        severity: Severity::parse(&incident.severity).map_err(corrupt)?,
        records_affected: incident.records_affected,
        data_classes: incident
            .data_classes
            .iter()
            .map(|class| DataClass::parse(class))
            .collect::<Result<Vec<_>, _>>()
            .map_err(corrupt)?,
        actions_taken: incident.actions_taken.clone(),
    })
}

/// Stores an incident, with its `incident.open` ledger entry first.
pub async fn record_opening(store: &dyn Store, audit: &Audit, incident: &StoredIncident) -> Result<(), ServerError> {
    let mut entry = target(audit.entry(Action::IncidentOpen), format!("incident:{}", incident.id))?;
    if let Some(subject) = &incident.subject {
        entry = target(entry, format!("staff:{subject}"))?;
    }
    if let Some(jurisdiction) = &incident.jurisdiction {
        entry = entry.with_jurisdiction(jurisdiction);
    }
    entry.reason = Some(incident.kind.clone());
    audit.run(entry, async { Ok(store.insert_incident(incident).await?) }).await
}

/// Opens an incident by hand. The caller has checked `incidents.manage` on its jurisdiction.
pub async fn open_by_hand(
    register: &Register<'_>,
    audit: &Audit,
    new: NewIncident,
) -> Result<StoredIncident, ServerError> {
    let now = now_millis();
    let summary = check_text("summary", &new.summary, true)?;
    let actions_taken = check_text("actions_taken", &new.actions_taken, false)?;
    let detected_at = new.detected_at.unwrap_or(now);
    if detected_at > now {
        return Err(ServerError::Invalid("detected_at: not in the future".into()));
    }
    if let Some(jurisdiction) = &new.jurisdiction
        && register.store().jurisdiction(jurisdiction).await?.is_none()
    {
        return Err(ServerError::UnknownReference(format!("jurisdiction: {jurisdiction} is not on this node")));
    }
    let incident = StoredIncident {
        id: new_id(now)?,
        jurisdiction: new.jurisdiction,
        opened_at: now,
        kind: "manual".into(),
        severity: new.severity.as_str().into(),
        summary,
        subject: None,
        records_affected: new.records_affected,
        status: IncidentStatus::Open.as_str().into(),
        detected_at,
        data_classes: class_names(&new.data_classes),
        actions_taken,
        detector_key: None,
        revision: 0,
    };
    record_opening(register.store(), audit, &incident).await?;
    announce(register, &incident, "New", None).await?;
    Ok(incident)
}

/// Records a detection: a new incident, or an update to the unfinished one with the same key
/// (its severity and counts raised to the new detection's if higher).
pub async fn detect(register: &Register<'_>, detection: Detection) -> Result<StoredIncident, ServerError> {
    for _ in 0..RETRIES {
        if let Some(open) = unfinished(register.store(), &detection.key).await? {
            if let Some(updated) = add_detection(register, &open, &detection).await? {
                return Ok(updated);
            }
            continue;
        }
        let now = now_millis();
        let incident = StoredIncident {
            id: new_id(now)?,
            jurisdiction: detection.jurisdiction.clone(),
            opened_at: now,
            kind: detection.kind.into(),
            severity: detection.severity.as_str().into(),
            summary: detection.summary.clone(),
            subject: detection.subject.clone(),
            records_affected: detection.records_affected,
            status: IncidentStatus::Open.as_str().into(),
            detected_at: now,
            data_classes: class_names(&detection.data_classes),
            actions_taken: String::new(),
            detector_key: Some(detection.key.clone()),
            revision: 0,
        };
        match record_opening(register.store(), &register.system, &incident).await {
            Ok(()) => {
                tracing::warn!(incident = %incident.id, kind = detection.kind, "incident opened by a detector");
                announce(register, &incident, "New", detection.mail_subject.as_deref()).await?;
                return Ok(incident);
            }
            // Another process opened it first: add to theirs.
            Err(ServerError::Conflict(_)) => continue,
            Err(error) => return Err(error),
        }
    }
    Err(ServerError::Conflict("the incident kept changing; the detection was not recorded".into()))
}

async fn unfinished(store: &dyn Store, key: &str) -> Result<Option<StoredIncident>, ServerError> {
    let query = IncidentQuery {
        detector_key: Some(key.to_owned()),
        statuses: ["open", "investigating", "contained"].map(str::to_owned).to_vec(),
        limit: 1,
        ..IncidentQuery::default()
    };
    Ok(store.incidents_matching(&query).await?.into_iter().next())
}

/// `None` when another writer updated the incident first.
async fn add_detection(
    register: &Register<'_>,
    open: &StoredIncident,
    detection: &Detection,
) -> Result<Option<StoredIncident>, ServerError> {
    let before = state_of(open)?;
    let mut classes = before.data_classes.clone();
    classes.extend(detection.data_classes.iter().copied());
    classes.sort();
    classes.dedup();
    let change = IncidentChange {
        severity: Some(before.severity.max(detection.severity)),
        records_affected: Some(before.records_affected.max(detection.records_affected)),
        data_classes: Some(classes),
        internal_text: format!("Detected again: {}", detection.summary),
        ..IncidentChange::default()
    };
    apply(register, &register.system, open, change).await
}

/// Adds an update to an incident. The caller has checked `incidents.manage` on its
/// jurisdiction. A refused change is a denied `incident.update` entry and changes nothing.
pub async fn update(
    register: &Register<'_>,
    audit: &Audit,
    id: &str,
    change: IncidentChange,
) -> Result<StoredIncident, ServerError> {
    let change = IncidentChange {
        public_text: check_text("public_text", &change.public_text, false)?,
        internal_text: check_text("internal_text", &change.internal_text, false)?,
        actions_taken: change.actions_taken.map(|text| check_text("actions_taken", &text, false)).transpose()?,
        ..change
    };
    let incident = find(register.store(), id).await?;
    apply(register, audit, &incident, change)
        .await?
        .ok_or_else(|| ServerError::Conflict("the incident was updated meanwhile; reload it and try again".into()))
}

/// One incident, or 404.
pub async fn find(store: &dyn Store, id: &str) -> Result<StoredIncident, ServerError> {
    store.incident(id).await?.ok_or_else(|| ServerError::NotFound(format!("no incident {id}")))
}

async fn apply(
    register: &Register<'_>,
    audit: &Audit,
    incident: &StoredIncident,
    change: IncidentChange,
) -> Result<Option<StoredIncident>, ServerError> {
    let before = state_of(incident)?;
    let after = IncidentState {
        status: change.status.unwrap_or(before.status),
        severity: change.severity.unwrap_or(before.severity),
        records_affected: change.records_affected.unwrap_or(before.records_affected),
        data_classes: change.data_classes.clone().unwrap_or_else(|| before.data_classes.clone()),
        actions_taken: change.actions_taken.clone().unwrap_or_else(|| before.actions_taken.clone()),
    };
    let mut entry = target(audit.entry(Action::IncidentUpdate), format!("incident:{}", incident.id))?;
    if let Some(jurisdiction) = &incident.jurisdiction {
        entry = entry.with_jurisdiction(jurisdiction);
    }
    entry.reason = Some(format!("{}:{}", after.status, after.severity));
    let has_note = !change.public_text.is_empty() || !change.internal_text.is_empty();
    if let Err(problem) = check_update(&before, &after, has_note) {
        let error = match problem {
            UpdateProblem::Transition(..) => ServerError::Refused(problem.to_string()),
            UpdateProblem::Empty => ServerError::Invalid(problem.to_string()),
        };
        return Err(audit.refuse(entry, error).await);
    }
    let stored_update = StoredIncidentUpdate {
        incident_id: incident.id.clone(),
        sequence: incident.revision + 1,
        at: now_millis(),
        author: audit.actor.to_string(),
        status: after.status.as_str().into(),
        severity: after.severity.as_str().into(),
        records_affected: after.records_affected,
        data_classes: class_names(&after.data_classes),
        actions_taken: after.actions_taken.clone(),
        public_text: change.public_text,
        internal_text: change.internal_text,
    };
    let store = register.store();
    let written = audit
        .run(entry, async {
            match store.add_incident_update(&stored_update).await {
                Ok(written) => Ok(written),
                Err(StoreError::AlreadyExists { .. }) => Err(ServerError::Conflict(
                    "this detector already has an unfinished incident; update that one instead of reopening".into(),
                )),
                Err(error) => Err(error.into()),
            }
        })
        .await?;
    if !written {
        return Ok(None);
    }
    let updated = find(store, &incident.id).await?;
    if is_escalation(&before, &after) {
        announce(register, &updated, "Escalated", None).await?;
    }
    Ok(Some(updated))
}

/// Mails the administrators of the incident's jurisdiction and every jurisdiction above it
/// (its state, the node); a node-wide incident goes to node-wide administrators.
async fn announce(
    register: &Register<'_>,
    incident: &StoredIncident,
    headline: &str,
    subject: Option<&str>,
) -> Result<usize, ServerError> {
    let store = register.store();
    let chain = match &incident.jurisdiction {
        Some(jurisdiction) => lineage(store, jurisdiction).await?,
        None => Vec::new(),
    };
    let place = incident.jurisdiction.as_ref().map_or_else(|| "the whole node".to_owned(), ToString::to_string);
    let subject = subject.map_or_else(
        || format!("Canvass: {headline} {} incident in {place}: {}", incident.severity, incident.kind),
        str::to_owned,
    );
    let body = format!(
        "{headline} security incident {id}\n\nJurisdiction: {place}\nSeverity: {severity}\nStatus: {status}\n\
         Records affected: {records}\n\n{summary}\n\nSee it on the admin listener at /incidents/{id} or with \
         `canvass incidents show {id}`.\n",
        id = incident.id,
        severity = incident.severity,
        status = incident.status,
        records = incident.records_affected,
        summary = incident.summary,
    );
    let queued = queue_for_administrators(store, &chain, &subject, &body).await?;
    if let Some(outbox) = &register.outbox {
        outbox.notify_one();
    }
    Ok(queued)
}
