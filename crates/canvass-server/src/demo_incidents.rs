//! The demo's incident: a lost laptop in the first county, opened by hand and followed through
//! investigation to containment, so the register, its timeline and the notifications are
//! there to see from the first page. Everything goes through the real service (ledger entries,
//! mail queued to the administrators).

use canvass_core::{
    demo::DemoContent,
    incidents::{DataClass, IncidentStatus, Severity},
    jurisdiction::JurisdictionKind,
};
use canvass_store::StoredIncident;

use crate::{
    ServerError,
    incidents::{self, IncidentChange, NewIncident, Register},
    ledger::Audit,
};

/// Opens the demo's incident and adds its two updates.
pub async fn load(
    register: &Register<'_>,
    audit: &Audit,
    content: &DemoContent,
) -> Result<StoredIncident, ServerError> {
    let county = content.jurisdictions.iter().find(|jurisdiction| jurisdiction.kind == JurisdictionKind::County);
    let new = NewIncident {
        jurisdiction: county.map(|county| county.id.clone()),
        severity: Severity::Medium,
        summary: "A registration clerk's laptop was reported lost after an outreach event.".into(),
        detected_at: None,
        data_classes: vec![DataClass::Credentials],
        records_affected: 0,
        actions_taken: "The clerk's sessions and API tokens were revoked.".into(),
    };
    let incident = incidents::open_by_hand(register, audit, new).await?;
    incidents::update(
        register,
        audit,
        &incident.id,
        IncidentChange {
            status: Some(IncidentStatus::Investigating),
            public_text: "We are investigating a lost staff laptop. No voter data is stored on staff laptops.".into(),
            internal_text: "Asked the clerk for the last sign-in time; checking the ledger for reads since.".into(),
            ..IncidentChange::default()
        },
    )
    .await?;
    incidents::update(
        register,
        audit,
        &incident.id,
        IncidentChange {
            status: Some(IncidentStatus::Contained),
            actions_taken: Some(
                "The clerk's sessions and API tokens were revoked; the password and second factor were reset.".into(),
            ),
            public_text: "The ledger shows no access from the laptop after it was lost. No voter records were read."
                .into(),
            ..IncidentChange::default()
        },
    )
    .await
}
