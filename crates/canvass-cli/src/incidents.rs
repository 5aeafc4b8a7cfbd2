//! `canvass incidents`: the incident register at the node's shell. `list` and `show` need
//! `ledger.search` where the incident is, `open` and `update` need `incidents.manage`; each
//! signs the staff member in and goes through the server crate's `incidents` service, so every
//! change is a ledger entry and new or escalated incidents are mailed to the administrators.

use std::{path::Path, process::ExitCode, sync::Arc};

use anyhow::bail;
use canvass_core::{
    access::{Decision, Operation, decide},
    audit::{Action, now_millis},
    id::JurisdictionId,
    incidents::{DataClass, IncidentStatus, Severity},
};
use canvass_server::{
    ServerError, access,
    incidents::{self, IncidentChange, NewIncident, Register},
    ledger::{did_not_happen, target},
};
use canvass_store::{IncidentQuery, Store, StoredIncident};
use clap::{Args, Subcommand};

use crate::{
    data_dir,
    sign_in::{self, SignedIn, StaffSignIn},
};

#[derive(Debug, Subcommand)]
pub enum IncidentsCommand {
    /// List incidents, newest first, in the jurisdictions where you may search the ledger.
    List(ListArguments),
    /// Show one incident with its timeline.
    Show(ShowArguments),
    /// Open an incident by hand (needs `incidents.manage`). The administrators of the
    /// jurisdiction and of its state are mailed.
    Open(OpenArguments),
    /// Add an update: a new status, severity, counts, data classes or actions, with public and
    /// internal notes (needs `incidents.manage`). Incidents are never edited or deleted; a
    /// raised severity or a reopening mails the administrators again.
    #[command(after_help = "Statuses: open -> investigating | contained | closed; investigating -> contained | \
                            closed; contained -> investigating | closed; closed -> investigating (reopen).")]
    Update(UpdateArguments),
    /// List the voter records an incident's subject (the staff account involved) read in a
    /// window, from the audit ledger: by default from 24 hours before the incident was opened
    /// until it was opened. Confidential: needs `voters.read` on the incident's jurisdiction and
    /// a --reason; recorded in the ledger. With --export FILE, writes them as CSV instead: a
    /// two-person operation (an export_affected_voters request whose subject is the incident id,
    /// approved by a second administrator; give its id with --request).
    Affected(crate::incidents_affected::AffectedArguments),
}

#[derive(Debug, Args)]
pub struct ListArguments {
    /// Only incidents recorded for this jurisdiction.
    #[arg(long)]
    pub jurisdiction: Option<String>,
    /// Only incidents in this status: open, investigating, contained, closed.
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub staff: StaffSignIn,
}

#[derive(Debug, Args)]
pub struct ShowArguments {
    pub id: String,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub staff: StaffSignIn,
}

#[derive(Debug, Args)]
pub struct OpenArguments {
    /// The jurisdiction it concerns; leave out for the whole node (node-wide administrators).
    #[arg(long)]
    pub jurisdiction: Option<String>,
    /// low, medium, high or critical.
    #[arg(long)]
    pub severity: String,
    /// What happened, without personal values.
    #[arg(long)]
    pub summary: String,
    /// Data classes affected, comma-separated: voter_confidential, voter_public, results,
    /// ledger, credentials, backup.
    #[arg(long, default_value = "")]
    pub data_classes: String,
    /// How many records were affected (a count).
    #[arg(long, default_value_t = 0)]
    pub records: u64,
    /// What has been done so far.
    #[arg(long, default_value = "")]
    pub actions: String,
    #[command(flatten)]
    pub staff: StaffSignIn,
}

#[derive(Debug, Args)]
pub struct UpdateArguments {
    pub id: String,
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long)]
    pub severity: Option<String>,
    #[arg(long)]
    pub records: Option<u64>,
    /// Replaces the list (comma-separated).
    #[arg(long)]
    pub data_classes: Option<String>,
    /// Replaces the actions taken.
    #[arg(long)]
    pub actions: Option<String>,
    /// A note for the public transparency report (no personal values).
    #[arg(long = "public", default_value = "")]
    pub public_text: String,
    /// A note for the office only.
    #[arg(long = "internal", default_value = "")]
    pub internal_text: String,
    #[command(flatten)]
    pub staff: StaffSignIn,
}

pub async fn run(data: &Path, command: IncidentsCommand) -> anyhow::Result<ExitCode> {
    if let IncidentsCommand::Affected(arguments) = command {
        return crate::incidents_affected::run(data, arguments).await;
    }
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = match command {
        IncidentsCommand::List(arguments) => list(data, &store, &arguments).await,
        IncidentsCommand::Show(arguments) => show(data, &store, &arguments).await,
        IncidentsCommand::Open(arguments) => open(data, &store, arguments).await,
        IncidentsCommand::Update(arguments) => update(data, &store, arguments).await,
        IncidentsCommand::Affected(_) => unreachable_affected(),
    };
    store.close().await;
    outcome
}

/// `affected` runs before the store is opened here (it opens its own).
fn unreachable_affected() -> anyhow::Result<ExitCode> {
    Err(anyhow::anyhow!("internal: `incidents affected` is handled before the store is opened"))
}

/// Whether the signed-in member may do `operation` where the incident is (None: the whole
/// node, which needs a node-wide grant).
async fn may(
    signed_in: &SignedIn,
    store: &dyn Store,
    operation: Operation,
    jurisdiction: Option<&JurisdictionId>,
) -> anyhow::Result<bool> {
    let now = now_millis();
    let decision = match jurisdiction {
        Some(jurisdiction) => decide(&signed_in.grants, operation, &access::lineage(store, jurisdiction).await?, now),
        None => {
            let node_wide: Vec<_> =
                signed_in.grants.iter().filter(|grant| grant.jurisdiction.is_none()).cloned().collect();
            decide(&node_wide, operation, &[], now)
        }
    };
    Ok(matches!(decision, Decision::Allowed { .. }))
}

/// As [`may`], recording a refusal as an `access.denied` entry.
async fn authorize(
    signed_in: &SignedIn,
    store: &dyn Store,
    operation: Operation,
    jurisdiction: Option<&JurisdictionId>,
) -> anyhow::Result<()> {
    if may(signed_in, store, operation, jurisdiction).await? {
        return Ok(());
    }
    let mut entry = target(signed_in.audit.entry(Action::AccessDenied), format!("operation:{operation}"))?;
    if let Some(jurisdiction) = jurisdiction {
        entry = entry.with_jurisdiction(jurisdiction);
    }
    signed_in.audit.record(&did_not_happen(entry, &ServerError::Forbidden)).await?;
    let place = jurisdiction.map_or_else(|| "the whole node".to_owned(), ToString::to_string);
    bail!("the roles of {} do not allow {operation} on {place}", signed_in.username)
}

fn time_text(millis: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|time| time.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| millis.to_string())
}

fn place(incident: &StoredIncident) -> String {
    incident.jurisdiction.as_ref().map_or_else(|| "node".to_owned(), ToString::to_string)
}

fn incident_json(incident: &StoredIncident) -> serde_json::Value {
    serde_json::json!({
        "id": incident.id,
        "jurisdiction": incident.jurisdiction.as_ref().map(ToString::to_string),
        "opened_at": incident.opened_at,
        "detected_at": incident.detected_at,
        "kind": incident.kind,
        "severity": incident.severity,
        "status": incident.status,
        "summary": incident.summary,
        "subject": incident.subject.as_ref().map(ToString::to_string),
        "records_affected": incident.records_affected,
        "data_classes": incident.data_classes,
        "actions_taken": incident.actions_taken,
        "revision": incident.revision,
    })
}

async fn list(data: &Path, store: &Arc<dyn Store>, arguments: &ListArguments) -> anyhow::Result<ExitCode> {
    let signed_in = sign_in::sign_in(data, store, &arguments.staff).await?;
    let jurisdiction = arguments
        .jurisdiction
        .as_deref()
        .map(|text| JurisdictionId::parse(text).map_err(|error| anyhow::anyhow!("--jurisdiction: {error}")))
        .transpose()?;
    let status = arguments
        .status
        .as_deref()
        .map(|text| IncidentStatus::parse(text).map_err(|error| anyhow::anyhow!("--status: {error}")))
        .transpose()?;
    let query = IncidentQuery {
        jurisdiction,
        statuses: status.map(|status| vec![status.as_str().to_owned()]).unwrap_or_default(),
        detector_key: None,
        limit: arguments.limit.min(1_000),
    };
    let mut visible = Vec::new();
    for incident in store.incidents_matching(&query).await? {
        if may(&signed_in, store.as_ref(), Operation::SearchLedger, incident.jurisdiction.as_ref()).await? {
            visible.push(incident);
        }
    }
    if arguments.json {
        println!("{}", serde_json::to_string_pretty(&visible.iter().map(incident_json).collect::<Vec<_>>())?);
        return Ok(ExitCode::SUCCESS);
    }
    if visible.is_empty() {
        println!("No incidents.");
    }
    for incident in &visible {
        println!(
            "{}  {}  {:<8} {:<13} {:<12} {} records  {}",
            incident.id,
            time_text(incident.opened_at),
            incident.severity,
            incident.status,
            place(incident),
            incident.records_affected,
            incident.summary
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn show(data: &Path, store: &Arc<dyn Store>, arguments: &ShowArguments) -> anyhow::Result<ExitCode> {
    let signed_in = sign_in::sign_in(data, store, &arguments.staff).await?;
    let incident = incidents::find(store.as_ref(), arguments.id.trim()).await?;
    authorize(&signed_in, store.as_ref(), Operation::SearchLedger, incident.jurisdiction.as_ref()).await?;
    let updates = store.incident_updates(&incident.id).await?;
    if arguments.json {
        let timeline: Vec<serde_json::Value> = updates
            .iter()
            .map(|update| {
                serde_json::json!({
                    "sequence": update.sequence, "at": update.at, "author": update.author,
                    "status": update.status, "severity": update.severity,
                    "records_affected": update.records_affected, "data_classes": update.data_classes,
                    "actions_taken": update.actions_taken, "public_text": update.public_text,
                    "internal_text": update.internal_text,
                })
            })
            .collect();
        let body = serde_json::json!({ "incident": incident_json(&incident), "updates": timeline });
        println!("{}", serde_json::to_string_pretty(&body)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("Incident {} ({})", incident.id, incident.kind);
    println!("  Jurisdiction:     {}", place(&incident));
    println!("  Severity:         {}", incident.severity);
    println!("  Status:           {}", incident.status);
    println!("  Detected:         {}", time_text(incident.detected_at));
    println!("  Opened:           {}", time_text(incident.opened_at));
    println!("  Records affected: {}", incident.records_affected);
    println!("  Data classes:     {}", incident.data_classes.join(", "));
    println!("  Actions taken:    {}", incident.actions_taken);
    println!("  Summary:          {}", incident.summary);
    if updates.is_empty() {
        println!("No updates yet.");
    }
    for update in &updates {
        println!(
            "#{} {} by {}: {} / {}, {} records",
            update.sequence,
            time_text(update.at),
            update.author,
            update.status,
            update.severity,
            update.records_affected
        );
        if !update.public_text.is_empty() {
            println!("    public:   {}", update.public_text);
        }
        if !update.internal_text.is_empty() {
            println!("    internal: {}", update.internal_text);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn data_classes(text: &str) -> anyhow::Result<Vec<DataClass>> {
    DataClass::parse_list(text).map_err(|error| anyhow::anyhow!("--data-classes: {error}"))
}

async fn open(data: &Path, store: &Arc<dyn Store>, arguments: OpenArguments) -> anyhow::Result<ExitCode> {
    let jurisdiction = arguments
        .jurisdiction
        .as_deref()
        .map(|text| JurisdictionId::parse(text).map_err(|error| anyhow::anyhow!("--jurisdiction: {error}")))
        .transpose()?;
    let new = NewIncident {
        jurisdiction,
        severity: Severity::parse(&arguments.severity).map_err(|error| anyhow::anyhow!("--severity: {error}"))?,
        summary: arguments.summary,
        detected_at: None,
        data_classes: data_classes(&arguments.data_classes)?,
        records_affected: arguments.records,
        actions_taken: arguments.actions,
    };
    let signed_in = sign_in::sign_in(data, store, &arguments.staff).await?;
    authorize(&signed_in, store.as_ref(), Operation::ManageIncidents, new.jurisdiction.as_ref()).await?;
    let register = Register::beside(store.as_ref(), &signed_in.audit);
    let incident = incidents::open_by_hand(&register, &signed_in.audit, new).await?;
    println!("Opened incident {} ({}, {}).", incident.id, incident.severity, place(&incident));
    Ok(ExitCode::SUCCESS)
}

async fn update(data: &Path, store: &Arc<dyn Store>, arguments: UpdateArguments) -> anyhow::Result<ExitCode> {
    let change = IncidentChange {
        status: arguments
            .status
            .as_deref()
            .map(|text| IncidentStatus::parse(text).map_err(|error| anyhow::anyhow!("--status: {error}")))
            .transpose()?,
        severity: arguments
            .severity
            .as_deref()
            .map(|text| Severity::parse(text).map_err(|error| anyhow::anyhow!("--severity: {error}")))
            .transpose()?,
        records_affected: arguments.records,
        data_classes: arguments.data_classes.as_deref().map(data_classes).transpose()?,
        actions_taken: arguments.actions,
        public_text: arguments.public_text,
        internal_text: arguments.internal_text,
    };
    let signed_in = sign_in::sign_in(data, store, &arguments.staff).await?;
    let incident = incidents::find(store.as_ref(), arguments.id.trim()).await?;
    authorize(&signed_in, store.as_ref(), Operation::ManageIncidents, incident.jurisdiction.as_ref()).await?;
    let register = Register::beside(store.as_ref(), &signed_in.audit);
    let updated = incidents::update(&register, &signed_in.audit, &incident.id, change).await?;
    println!(
        "Incident {} is {} ({}), update #{} recorded.",
        updated.id, updated.status, updated.severity, updated.revision
    );
    Ok(ExitCode::SUCCESS)
}
