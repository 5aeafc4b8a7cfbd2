//! Voter status changes under NVRA list maintenance. A change is checked by
//! `canvass_core::lifecycle` against the voter's registration, the evidence on record (the
//! confirmation notice, the voter's last contact) and the federal election calendar; recorded in
//! the ledger before it is stored; and stored with its reason code in the same transaction as the
//! new status (`Store::change_voter_status`). A refusal is a ledger entry too, and changes nothing.

use canvass_core::{
    audit::{Action, AuditEntry, now, now_millis},
    id::JurisdictionId,
    lifecycle::{StatusChange, StatusReason, VoterHistoryFacts, check_status_change},
    voter::VoterStatus,
};
use canvass_store::{SealedVoter, Store, StoredStatusChange};
use time::Date;

use crate::{
    ServerError,
    ledger::{Audit, target},
};

/// What an official asks for: ids, codes and dates only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChangeRequest {
    pub jurisdiction: JurisdictionId,
    pub registration_number: String,
    pub to: VoterStatus,
    pub reason: StatusReason,
    /// The day the change takes effect; today when the official gives none.
    pub effective_on: Option<Date>,
    /// When the NVRA 8(d)(2) confirmation notice was mailed, if the official records one now.
    pub confirmation_notice_sent: Option<Date>,
    /// The voter's latest contact, if the official records one now.
    pub last_contact: Option<Date>,
}

/// The ledger entry of a change: the voter by registration number, the reason code and the new
/// status; never a personal value.
fn entry(audit: &Audit, request: &StatusChangeRequest) -> Result<AuditEntry, ServerError> {
    let entry = audit.entry(Action::VoterStatusChange).with_jurisdiction(&request.jurisdiction);
    let entry = target(entry, format!("voter:{}", request.registration_number))?;
    let entry = target(entry, format!("reason:{}", request.reason.as_str()))?;
    target(entry, format!("status:{}", request.to.as_str()))
}

/// The latest of two optional dates.
fn latest(first: Option<Date>, second: Option<Date>) -> Option<Date> {
    first.max(second)
}

/// What the rules know of the voter: the registration date, and the latest notice and contact
/// from the changes on record and the request (evidence once recorded keeps counting, so an
/// inactivation's notice supports the later removal for change of address).
fn facts(voter: &SealedVoter, history: &[StoredStatusChange], request: &StatusChangeRequest) -> VoterHistoryFacts {
    let recorded_notice = history.iter().filter_map(|change| change.confirmation_notice_sent).max();
    let recorded_contact = history.iter().filter_map(|change| change.last_contact).max();
    VoterHistoryFacts {
        registered_on: voter.registered_on,
        confirmation_notice_sent: latest(recorded_notice, request.confirmation_notice_sent),
        last_contact: latest(recorded_contact, request.last_contact),
    }
}

/// Applies the NVRA rules on the effective date and, for a systematic change dated earlier, on
/// today as well: backdating a removal must not carry it out of the 90-day quiet period.
fn check(change: &StatusChange, facts: &VoterHistoryFacts, today: Date) -> Result<(), ServerError> {
    let refused =
        |refusal: canvass_core::lifecycle::LifecycleRefusal| ServerError::ListMaintenance(refusal.to_string());
    // The node does not yet know which of its elections are federal primaries; the rule adds
    // the regular federal general elections itself, so the quiet period before them holds.
    let federal_elections: &[Date] = &[];
    check_status_change(change, facts, federal_elections).map_err(refused)?;
    if change.reason.is_systematic() && change.on < today {
        check_status_change(&StatusChange { on: today, ..*change }, facts, federal_elections).map_err(refused)?;
    }
    Ok(())
}

/// Checks and applies one status change; returns it as stored. Refusals (no such voter here,
/// a date in the future, an NVRA rule) are recorded in the ledger and change nothing.
pub async fn change_status(
    store: &dyn Store,
    audit: &Audit,
    request: &StatusChangeRequest,
) -> Result<StoredStatusChange, ServerError> {
    let entry = entry(audit, request)?;
    let today = now().date();
    let effective_on = request.effective_on.unwrap_or(today);
    if effective_on > today {
        let error = ServerError::Invalid(format!(
            "effective: {effective_on} is in the future; record a status change on or after the day it takes effect"
        ));
        return Err(audit.refuse(entry, error).await);
    }
    let voter =
        store.voter(&request.registration_number).await?.filter(|voter| voter.jurisdiction == request.jurisdiction);
    let Some(voter) = voter else {
        let error = ServerError::NotFound(format!(
            "no voter with registration number {} in {}",
            request.registration_number, request.jurisdiction
        ));
        return Err(audit.refuse(entry, error).await);
    };
    let history = store.voter_status_changes(&request.registration_number).await?;
    let facts = facts(&voter, &history, request);
    let change = StatusChange { from: Some(voter.status), to: request.to, reason: request.reason, on: effective_on };
    if let Err(error) = check(&change, &facts, today) {
        return Err(audit.refuse(entry, error).await);
    }
    let stored = StoredStatusChange {
        id: 0,
        registration_number: request.registration_number.clone(),
        jurisdiction: request.jurisdiction.clone(),
        from: voter.status,
        to: request.to,
        reason: request.reason,
        effective_on,
        confirmation_notice_sent: request.confirmation_notice_sent,
        last_contact: request.last_contact,
        actor: audit.actor.to_string(),
        recorded_at: now_millis(),
    };
    audit
        .run(entry, async {
            if store.change_voter_status(&stored).await? {
                Ok(stored.clone())
            } else {
                Err(ServerError::Conflict(
                    "the voter's status changed while this change was being checked; look again and retry".into(),
                ))
            }
        })
        .await
}

/// The voter's status changes, oldest first; `NotFound` if the jurisdiction has no such voter.
pub async fn history(
    store: &dyn Store,
    jurisdiction: &JurisdictionId,
    registration_number: &str,
) -> Result<Vec<StoredStatusChange>, ServerError> {
    let voter = store.voter(registration_number).await?.filter(|voter| voter.jurisdiction == *jurisdiction);
    if voter.is_none() {
        return Err(ServerError::NotFound(format!(
            "no voter with registration number {registration_number} in {jurisdiction}"
        )));
    }
    Ok(store.voter_status_changes(registration_number).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn change(on: Date, reason: StatusReason) -> StatusChange {
        StatusChange { from: Some(VoterStatus::Inactive), to: VoterStatus::Removed, reason, on }
    }

    fn silent_since_2021() -> VoterHistoryFacts {
        VoterHistoryFacts {
            registered_on: date!(2010 - 01 - 04),
            confirmation_notice_sent: Some(date!(2021 - 03 - 01)),
            last_contact: None,
        }
    }

    #[test]
    fn a_backdated_systematic_change_is_checked_on_the_day_it_is_made_too() {
        let removal = change(date!(2026 - 07 - 01), StatusReason::ChangeOfAddressAfterNotice);
        assert!(check(&removal, &silent_since_2021(), date!(2026 - 07 - 02)).is_ok());
        let refused = check(&removal, &silent_since_2021(), date!(2026 - 09 - 01));
        assert!(
            matches!(&refused, Err(ServerError::ListMaintenance(reason)) if reason.contains("November 3, 2026")),
            "{refused:?}"
        );
        // An individual removal is not held by the quiet period, whenever it is recorded.
        assert!(
            check(&change(date!(2026 - 07 - 01), StatusReason::Death), &silent_since_2021(), date!(2026 - 09 - 01))
                .is_ok()
        );
    }
}
