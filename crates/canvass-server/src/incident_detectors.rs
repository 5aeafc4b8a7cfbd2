//! The detectors that open incidents, each called where its failure already happens: the
//! read-volume limit (`monitor::admit_reads`), repeated failed sign-ins for one account or from
//! one address (`access::sign_in`), repeated failed key-ring unseals (`keys`), a ledger that
//! fails verification (the node's start-up check, `canvass audit verify`), a witness refusing
//! a checkpoint, and a backup that fails verification (`canvass backup verify`). Each names its
//! detector and subject in the incident's key, so a detector firing again adds an update to
//! its unfinished incident instead of opening another. Summaries hold counts and staff account
//! names, never a voter's value or a secret.

use std::net::IpAddr;

use canvass_core::{
    audit::{Action, AuditEntry, Outcome, now_millis},
    credential::Username,
    id::JurisdictionId,
    incidents::{DataClass, Severity},
};
use canvass_store::{LedgerQuery, Store};

use crate::{
    Node, ServerError,
    incidents::{Detection, Register, detect},
};

/// Failed unseals of one key ring within this window...
const UNSEAL_WINDOW_MILLIS: i64 = 3_600_000;
/// ...from this many on open an incident: a passphrase typed wrong twice is a person, three
/// times in an hour is worth a look.
pub const FAILED_UNSEALS: usize = 3;

/// A user crossed their hourly read limit and was suspended.
pub async fn bulk_read(
    node: &Node,
    username: &Username,
    jurisdiction: &JurisdictionId,
    read: u64,
    asked: u64,
    limit: u64,
) -> Result<(), ServerError> {
    let detection = Detection {
        kind: "bulk_read",
        key: format!("bulk_read:account:{username}"),
        jurisdiction: Some(jurisdiction.clone()),
        severity: Severity::High,
        summary: format!(
            "Staff account {username} tried to read {} confidential voter records within an hour (limit {limit}); \
             the account was suspended.",
            read + asked
        ),
        subject: Some(username.clone()),
        data_classes: vec![DataClass::VoterConfidential],
        records_affected: read,
        mail_subject: Some(format!(
            "Canvass: account {username} suspended after reading {} voter records",
            read + asked
        )),
    };
    detect(&Register::of_node(node), detection).await.map(|_| ())
}

/// Which of a sign-in's keys reached the throttle's limit with this failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleHit {
    pub account: bool,
    pub address: bool,
}

/// Sign-ins failed often enough for the throttle to lock the account, or the address, out.
/// `account` is a known account's name, or `None` for names that match no account (never
/// recorded: people type passwords into name fields).
pub async fn failed_sign_ins(
    node: &Node,
    account: Option<&Username>,
    address: Option<IpAddr>,
    hit: ThrottleHit,
) -> Result<(), ServerError> {
    let register = Register::of_node(node);
    if hit.account {
        let name = account.map_or_else(|| "unknown".to_owned(), ToString::to_string);
        let jurisdiction = match account {
            Some(username) => home_jurisdiction(node.store(), username).await?,
            None => None,
        };
        let who = account
            .map_or_else(|| "names that match no account".to_owned(), |username| format!("staff account {username}"));
        detect(
            &register,
            Detection {
                kind: "failed_sign_in",
                key: format!("failed_sign_in:account:{name}"),
                jurisdiction,
                severity: Severity::Medium,
                summary: format!("Repeated failed sign-ins for {who}; further attempts are refused for a while."),
                subject: account.cloned(),
                data_classes: vec![DataClass::Credentials],
                records_affected: 0,
                mail_subject: None,
            },
        )
        .await?;
    }
    if let (true, Some(ip)) = (hit.address, address) {
        // The address is in the key (for de-duplication, staff-only), not in the summary.
        detect(
            &register,
            Detection {
                kind: "failed_sign_in",
                key: format!("failed_sign_in:address:{ip}"),
                jurisdiction: None,
                severity: Severity::Medium,
                summary: "Repeated failed sign-ins from one client address, against one or more accounts; further \
                      attempts from it are refused for a while."
                    .into(),
                subject: None,
                data_classes: vec![DataClass::Credentials],
                records_affected: 0,
                mail_subject: None,
            },
        )
        .await?;
    }
    Ok(())
}

/// The jurisdiction an account works in, when its grants name exactly one.
async fn home_jurisdiction(store: &dyn Store, username: &Username) -> Result<Option<JurisdictionId>, ServerError> {
    let mut places: Vec<JurisdictionId> =
        store.grants(username).await?.into_iter().filter_map(|grant| grant.jurisdiction).collect();
    places.sort();
    places.dedup();
    Ok(if places.len() == 1 { places.pop() } else { None })
}

/// Called after a failed unseal was recorded: counts the failures of this ring in the last
/// hour from the ledger (so attempts through the API, the CLI and other processes all count)
/// and opens an incident from the [`FAILED_UNSEALS`]th on.
pub async fn failed_unseal(register: &Register<'_>, jurisdiction: &JurisdictionId) -> Result<(), ServerError> {
    let query = LedgerQuery {
        action: Some(Action::KeysUnseal.as_str().to_owned()),
        jurisdiction: Some(jurisdiction.to_string()),
        since_millis: Some(now_millis() - UNSEAL_WINDOW_MILLIS),
        limit: 200,
        ..LedgerQuery::default()
    };
    // Denied (wrong secret) or failed (shares that do not combine): every attempt that did
    // not unseal.
    let failures = register
        .store
        .search_ledger(&query)
        .await?
        .iter()
        .filter_map(|row| AuditEntry::decode(&row.body).ok())
        .filter(|entry| entry.outcome != Outcome::Allowed)
        .count();
    if failures < FAILED_UNSEALS {
        return Ok(());
    }
    detect(register, Detection {
        kind: "failed_unseal",
        key: format!("failed_unseal:jurisdiction:{jurisdiction}"),
        jurisdiction: Some(jurisdiction.clone()),
        severity: Severity::High,
        summary: format!(
            "{failures} failed attempts to unseal the key ring of {jurisdiction} within an hour (wrong passphrase or \
             shares)."
        ),
        subject: None,
        data_classes: vec![DataClass::VoterConfidential],
        records_affected: 0,
        mail_subject: None,
    })
    .await
    .map(|_| ())
}

/// The ledger failed verification: its stored tiles do not reproduce its signed checkpoint,
/// or a verifier found an altered entry. `what` says which check and where, without values.
pub async fn ledger_verification_failed(register: &Register<'_>, what: &str) -> Result<(), ServerError> {
    detect_node_wide(
        register,
        "ledger_verification",
        "ledger_verification:node".into(),
        Severity::Critical,
        format!("The audit ledger failed verification: {what}"),
        DataClass::Ledger,
    )
    .await
}

/// A witness refused to cosign a checkpoint (the log shrank, forked or did not prove it
/// extends what the witness saw).
pub async fn witness_refused(register: &Register<'_>, witness: &str, reason: &str) -> Result<(), ServerError> {
    let summary = format!("Witness {witness} refused to cosign the ledger's checkpoint: {reason}");
    detect_node_wide(
        register,
        "witness_refusal",
        format!("witness_refusal:{witness}"),
        Severity::Critical,
        summary,
        DataClass::Ledger,
    )
    .await
}

/// A backup failed verification (unreadable, altered, or not a Canvass backup).
pub async fn backup_verification_failed(
    register: &Register<'_>,
    file_name: &str,
    reason: &str,
) -> Result<(), ServerError> {
    let summary = format!("Backup {file_name} failed verification: {reason}");
    detect_node_wide(
        register,
        "backup_verification",
        format!("backup_verification:{file_name}"),
        Severity::High,
        summary,
        DataClass::Backup,
    )
    .await
}

/// A detection about the node as a whole rather than a jurisdiction or an account: no subject,
/// no record count, the default notification subject.
async fn detect_node_wide(
    register: &Register<'_>,
    kind: &'static str,
    key: String,
    severity: Severity,
    summary: String,
    data_class: DataClass,
) -> Result<(), ServerError> {
    let detection = Detection {
        kind,
        key,
        jurisdiction: None,
        severity,
        summary,
        subject: None,
        data_classes: vec![data_class],
        records_affected: 0,
        mail_subject: None,
    };
    detect(register, detection).await.map(|_| ())
}

/// Runs a detector whose failure must not hide the event it watches: its error is logged
/// for the operator and the caller goes on.
pub async fn report_failure(result: Result<(), ServerError>, detector: &str) {
    if let Err(error) = result {
        tracing::error!(%error, detector, "a detector could not record its incident");
    }
}

/// The node refuses to start when its stored tree does not reproduce its last signed
/// checkpoint (`ledger::rebuild`): that refusal opens a ledger incident, recorded straight in
/// the store since the ledger service is not running. Other start-up failures are not
/// incidents.
pub async fn node_start_refused(store: std::sync::Arc<dyn Store>, error: &ServerError) {
    let ServerError::Internal(detail) = error else { return };
    if !detail.contains(crate::ledger::DAMAGED_TREE) {
        return;
    }
    let audit = crate::ledger::Audit {
        ledger: crate::ledger::Ledger::direct(store.clone()),
        actor: canvass_core::audit::Actor::System,
        request_id: None,
    };
    let register = Register { store: store.as_ref(), system: audit, outbox: None };
    let detected = ledger_verification_failed(
        &register,
        "at start-up, the stored tree did not reproduce the last signed checkpoint; the node refused to start.",
    )
    .await;
    report_failure(detected, "ledger_verification").await;
}
