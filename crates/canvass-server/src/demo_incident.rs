//! The demo's incident: a night-shift clerk account reads a run of voter records, the read
//! monitor's response (suspension, a `bulk_read` incident with its ledger entries) follows, so
//! the admin dashboard, the public transparency report and the affected-voter list all have a
//! real incident to show. The reads are real ledger entries under the clerk's name, so
//! `canvass incidents affected` lists exactly them.

use canvass_core::{
    access::{Grant, StaffRole},
    audit::{Actor, now_millis},
    credential::Username,
    demo::DemoContent,
    jurisdiction::JurisdictionKind,
};
use canvass_store::StoredIncident;

use crate::{Node, ServerError, ledger::Audit, monitor, staff, voters};

/// The demo's over-reading account; its password is random and never shown.
pub const DEMO_SUBJECT: &str = "night-clerk";
/// Records the demo clerk read.
const DEMO_READS: u32 = 30;

/// Reads, suspension and the incident; returns the incident's id.
pub async fn load(node: &Node, content: &DemoContent) -> Result<String, ServerError> {
    let store = node.store();
    let county = content
        .jurisdictions
        .iter()
        .find(|jurisdiction| jurisdiction.kind == JurisdictionKind::County)
        .ok_or_else(|| ServerError::Internal("the demo has no county".into()))?;
    let system = node.system_audit();
    let username = Username::parse(DEMO_SUBJECT)?;
    staff::add_account(store, &system, &username, None, canvass_crypto::generate_password(6)?).await?;
    let grant = Grant::permanent(StaffRole::RegistrationClerk, Some(county.id.clone()));
    staff::grant(store, &system, &username, &grant).await?;
    let rows = store.voters_after(&county.id, None, DEMO_READS).await?;
    let clerk = Audit { ledger: node.ledger().clone(), actor: Actor::User(username.clone()), request_id: None };
    let numbers: Vec<&str> = rows.iter().map(|row| row.registration_number.as_str()).collect();
    voters::record_reads(&clerk, &county.id, Some("Address check"), numbers.iter().copied()).await?;
    staff::suspend(store, &system, &username, "read_volume_limit").await?;
    let now = now_millis();
    let incident = StoredIncident {
        id: format!("inc-{now}-{}", canvass_crypto::random_hex(6)?),
        jurisdiction: Some(county.id.clone()),
        opened_at: now,
        kind: "bulk_read".to_owned(),
        severity: "high".to_owned(),
        summary: format!(
            "Staff account {username} tried to read {} confidential voter records within an hour (demo); the account was suspended.",
            numbers.len() + 20
        ),
        subject: Some(username),
        records_affected: numbers.len() as u64,
        status: "open".to_owned(),
        detected_at: now,
        data_classes: vec!["voter_confidential".to_owned()],
        ..StoredIncident::default()
    };
    monitor::open_incident(node, &system, &incident).await?;
    Ok(incident.id)
}
