//! Two-person requests and break-glass access. A bulk voter export, a key rotation or
//! shredding, an administrator grant and a results certification start as a request with a
//! written reason; another user allowed the same operation on the same jurisdiction approves
//! it before it expires; the requester then runs it, once. Every step is a ledger entry.

use canvass_core::{
    access::{Grant, RequestKind, RequestStatus, StaffRole, check_approval, rule},
    audit::{Action, now_millis},
    credential::Username,
    id::{ElectionId, JurisdictionId},
    voter::VoterRecord,
};
use canvass_store::StoredRequest;

use crate::{
    Node, ServerError,
    access::Principal,
    keys,
    ledger::{Audit, target},
    monitor, staff, voters,
};

/// What a request asks, before it is stored.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub kind: RequestKind,
    pub jurisdiction: JurisdictionId,
    /// `username:role` for an administrator grant, an election id for a certification.
    pub subject: String,
    pub justification: String,
}

/// What running an approved request produced.
#[derive(Debug)]
pub enum Completed {
    /// The exported voter file as CSV (confidential: only ever sent to the requester).
    Export {
        records: usize,
        csv: String,
    },
    Rotated {
        version: u32,
        retired: Vec<u32>,
    },
    Shredded,
    Granted {
        username: Username,
        role: StaffRole,
    },
    Certified {
        election: ElectionId,
    },
    /// An incident's affected voters as CSV (confidential: only ever sent to the requester).
    AffectedExport {
        records: usize,
        csv: String,
    },
}

fn request_entry(
    audit: &Audit,
    action: Action,
    request: &StoredRequest,
) -> Result<canvass_core::audit::AuditEntry, ServerError> {
    let entry = target(audit.entry(action), format!("request:{}", request.id))?;
    Ok(entry.with_jurisdiction(&request.jurisdiction))
}

/// Checks the subject a kind needs, so a request cannot be approved for something that cannot run.
async fn check_subject(node: &Node, request: &NewRequest) -> Result<(), ServerError> {
    match request.kind {
        RequestKind::GrantAdministrator => {
            let (username, role) = grant_subject(&request.subject)?;
            if !role.is_administrator() {
                return Err(ServerError::Invalid("only administrator roles need a two-person request".into()));
            }
            if node.store().staff_account(&username).await?.is_none() {
                return Err(ServerError::UnknownReference(format!("no staff account {username}")));
            }
        }
        RequestKind::CertifyResults => {
            let election = ElectionId::parse(&request.subject)?;
            match node.store().election(&election).await? {
                None => return Err(ServerError::UnknownReference(format!("no election {election}"))),
                // Certified by the officials of the election's own jurisdiction, not a county's.
                Some(found) if found.jurisdiction != request.jurisdiction => {
                    return Err(ServerError::Invalid(format!(
                        "election {election} is {}'s: make the request in that jurisdiction",
                        found.jurisdiction
                    )));
                }
                Some(_) => {}
            }
        }
        RequestKind::ExportAffectedVoters => {
            crate::affected_voters::check_request_subject(node.store(), &request.jurisdiction, &request.subject)
                .await?;
        }
        RequestKind::ExportVoters | RequestKind::RotateKeys | RequestKind::ShredKeys => {}
    }
    Ok(())
}

fn grant_subject(subject: &str) -> Result<(Username, StaffRole), ServerError> {
    let (username, role) = subject
        .split_once(':')
        .ok_or_else(|| ServerError::Invalid("the subject of a grant request is `username:role`".into()))?;
    Ok((Username::parse(username)?, StaffRole::parse(role)?))
}

/// Makes a request; the requester must be allowed the operation on the jurisdiction.
pub async fn create(
    node: &Node,
    audit: &Audit,
    principal: &Principal,
    request: NewRequest,
) -> Result<StoredRequest, ServerError> {
    principal.authorize(node, audit, request.kind.operation(), Some(&request.jurisdiction)).await?;
    let justification = request.justification.trim();
    if justification.is_empty() {
        return Err(ServerError::JustificationRequired);
    }
    crate::service::require_jurisdiction(node.store(), &request.jurisdiction).await?;
    check_subject(node, &request).await?;
    let now = now_millis();
    let id = format!("req-{}", canvass_crypto::random_hex(6)?);
    let lifetime = crate::access::millis(node.config().access.approval_lifetime);
    let stored = StoredRequest {
        id,
        kind: request.kind,
        requester: principal.username.clone(),
        jurisdiction: request.jurisdiction.clone(),
        subject: request.subject.clone(),
        justification: justification.to_owned(),
        created_at: now,
        expires_at: now.saturating_add(lifetime),
        status: RequestStatus::Pending,
        approver: None,
        decided_at: None,
    };
    let entry = request_entry(audit, Action::RequestCreate, &stored)?;
    let entry = target(entry, format!("kind:{}", stored.kind.as_str()))?;
    let entry = entry.with_justification(justification)?;
    audit.run(entry, async { Ok(node.store().insert_request(&stored).await?) }).await?;
    let subject = format!("Canvass: {} awaits a second approval", stored.kind.title());
    let body = format!(
        "{} asked to {} in {} ({}).\nReason given: {}\nApprove or reject it in the admin pages before it expires.\n",
        stored.requester,
        stored.kind.title().to_lowercase(),
        stored.jurisdiction,
        stored.id,
        stored.justification
    );
    monitor::notify_administrators(node, &stored.jurisdiction, &subject, &body).await?;
    Ok(stored)
}

async fn load(node: &Node, id: &str) -> Result<StoredRequest, ServerError> {
    node.store().request(id).await?.ok_or_else(|| ServerError::NotFound(format!("no request {id}")))
}

/// Approves (or rejects) a request as a second person.
pub async fn decide(
    node: &Node,
    audit: &Audit,
    principal: &Principal,
    id: &str,
    approve: bool,
) -> Result<StoredRequest, ServerError> {
    let request = load(node, id).await?;
    let action = if approve { Action::RequestApprove } else { Action::RequestReject };
    let entry = request_entry(audit, action, &request)?;
    principal.authorize(node, audit, request.kind.operation(), Some(&request.jurisdiction)).await?;
    let now = now_millis();
    if let Err(reason) =
        check_approval(&request.requester, &principal.username, request.status, request.expires_at, now)
    {
        let error = if request.requester == principal.username {
            ServerError::Refused(reason.to_owned())
        } else {
            ServerError::Conflict(reason.to_owned())
        };
        return Err(audit.refuse(entry, error).await);
    }
    let to = if approve { RequestStatus::Approved } else { RequestStatus::Rejected };
    let moved = audit
        .run(entry, async {
            Ok(node.store().transition_request(id, RequestStatus::Pending, to, Some(&principal.username), now).await?)
        })
        .await?;
    if !moved {
        return Err(ServerError::Conflict("the request was decided meanwhile".into()));
    }
    load(node, id).await
}

/// Why `request` may not run now for `runner`, if it may not: only its requester runs it, once
/// approved and before its approval expires. The admin API and `canvass keys rotate` /
/// `jurisdiction shred` both ask this.
pub fn run_refusal(request: &StoredRequest, runner: &Username, now: i64) -> Option<ServerError> {
    if request.requester != *runner {
        Some(ServerError::Refused(format!(
            "request {} was made by {}: only the requester runs an approved request",
            request.id, request.requester
        )))
    } else if request.status != RequestStatus::Approved {
        Some(ServerError::Conflict(format!("request {} is {}, not approved", request.id, request.status.as_str())))
    } else if now >= request.expires_at {
        Some(ServerError::Conflict(format!("the approval of request {} expired; make a new request", request.id)))
    } else {
        None
    }
}

/// The `request.execute` entry of a request.
pub fn execute_entry(audit: &Audit, request: &StoredRequest) -> Result<canvass_core::audit::AuditEntry, ServerError> {
    request_entry(audit, Action::RequestExecute, request)
}

/// Marks an approved request executed with its entry first: a compare-and-set, so it runs
/// once however many runs race for it.
pub async fn mark_executed(
    store: &dyn canvass_store::Store,
    audit: &Audit,
    entry: canvass_core::audit::AuditEntry,
    id: &str,
) -> Result<(), ServerError> {
    let now = now_millis();
    let claimed = audit
        .run(entry, async {
            Ok(store.transition_request(id, RequestStatus::Approved, RequestStatus::Executed, None, now).await?)
        })
        .await?;
    if claimed { Ok(()) } else { Err(ServerError::Conflict(format!("request {id} already ran: it runs once"))) }
}

/// Runs an approved request, once, as its requester.
pub async fn run(node: &Node, audit: &Audit, principal: &Principal, id: &str) -> Result<Completed, ServerError> {
    let request = load(node, id).await?;
    let entry = execute_entry(audit, &request)?;
    if let Some(error) = run_refusal(&request, &principal.username, now_millis()) {
        return Err(audit.refuse(entry, error).await);
    }
    principal.authorize(node, audit, request.kind.operation(), Some(&request.jurisdiction)).await?;
    // What the run needs is checked before the request is used up: a sealed jurisdiction
    // refuses the run and leaves the approval for when its officials unseal it.
    if matches!(request.kind, RequestKind::ExportVoters | RequestKind::RotateKeys) {
        node.keys().current(node.store(), &request.jurisdiction).await?;
    }
    if request.kind == RequestKind::ExportAffectedVoters {
        affected_rings_unsealed(node, &request.subject).await?;
    }
    mark_executed(node.store(), audit, entry, id).await?;
    execute(node, audit, &request).await
}

async fn execute(node: &Node, audit: &Audit, request: &StoredRequest) -> Result<Completed, ServerError> {
    let store = node.store();
    let jurisdiction = &request.jurisdiction;
    match request.kind {
        RequestKind::ExportVoters => export(node, audit, jurisdiction, &request.justification).await,
        RequestKind::RotateKeys => {
            let ring = node.keys().current(store, jurisdiction).await?;
            let version = keys::rotate(store, audit, &ring).await?;
            let ring = keys::reload(store, &ring).await?;
            for usage in store.key_version_usage(jurisdiction).await? {
                if usage.version != version {
                    while voters::reseal_batch(store, audit, &ring, usage.version, 500).await? > 0 {}
                }
            }
            let retired = keys::retire_unused(store, audit, jurisdiction).await?;
            node.keys().insert(jurisdiction.clone(), ring)?;
            Ok(Completed::Rotated { version, retired })
        }
        RequestKind::ShredKeys => {
            keys::shred(store, audit, node.keys(), jurisdiction).await?;
            Ok(Completed::Shredded)
        }
        RequestKind::GrantAdministrator => {
            let (username, role) = grant_subject(&request.subject)?;
            staff::grant(store, audit, &username, &Grant::permanent(role, Some(jurisdiction.clone()))).await?;
            Ok(Completed::Granted { username, role })
        }
        RequestKind::CertifyResults => {
            let election = ElectionId::parse(&request.subject)?;
            crate::results_intake::record_certification(store, audit, jurisdiction, &election).await?;
            Ok(Completed::Certified { election })
        }
        RequestKind::ExportAffectedVoters => {
            let (records, csv) =
                crate::affected_voters::export(node, audit, &request.subject, &request.justification).await?;
            Ok(Completed::AffectedExport { records, csv })
        }
    }
}

/// Refuses (before the approval is used up) while a roll holding an affected record is sealed.
async fn affected_rings_unsealed(node: &Node, subject: &str) -> Result<(), ServerError> {
    use crate::affected_voters::{Window, incident, parse_subject, registration_numbers_read, rolls_of};
    let (id, window) = parse_subject(subject)?;
    let found = incident(node.store(), &id).await?;
    let window = Window::for_incident(&found, window.map(|(since, _)| since), window.map(|(_, until)| until))?;
    let numbers = registration_numbers_read(node.store(), &found, window).await?;
    for roll in rolls_of(node.store(), &numbers).await? {
        node.keys().current(node.store(), &roll).await?;
    }
    Ok(())
}

/// Every voter of the jurisdiction as CSV; each record read is a ledger entry first.
async fn export(
    node: &Node,
    audit: &Audit,
    jurisdiction: &JurisdictionId,
    justification: &str,
) -> Result<Completed, ServerError> {
    let store = node.store();
    let ring = node.keys().current(store, jurisdiction).await?;
    let mut records: Vec<VoterRecord> = Vec::new();
    for usage in store.key_version_usage(jurisdiction).await? {
        for row in store.voters_sealed_with(jurisdiction, usage.version, u32::MAX).await? {
            records.push(voters::open_voter(&ring, &row)?);
        }
    }
    records.sort_by(|left, right| left.registration_number.cmp(&right.registration_number));
    let entry = target(audit.entry(Action::VoterExport), format!("records:{}", records.len()))?;
    audit.record(&entry.with_jurisdiction(jurisdiction).with_justification(justification)?).await?;
    voters::record_reads(
        audit,
        jurisdiction,
        Some(justification),
        records.iter().map(|record| record.registration_number.as_str()),
    )
    .await?;
    Ok(Completed::Export { records: records.len(), csv: voters::to_csv(&records) })
}

/// Opens emergency access to a jurisdiction for a limited time: the caller's administrator
/// role, granted there, expiring by itself. The jurisdiction's administrators are told.
pub async fn break_glass(
    node: &Node,
    audit: &Audit,
    principal: &Principal,
    jurisdiction: &JurisdictionId,
    justification: &str,
    minutes: u32,
) -> Result<Grant, ServerError> {
    principal
        .authorize_now(node, audit, canvass_core::access::Operation::BreakGlass, None, Some(justification))
        .await?;
    crate::service::require_jurisdiction(node.store(), jurisdiction).await?;
    let maximum = node.config().access.break_glass_max.as_secs() / 60;
    if minutes == 0 || u64::from(minutes) > maximum {
        return Err(ServerError::Invalid(format!("emergency access lasts 1 to {maximum} minutes")));
    }
    let role = principal
        .grants
        .iter()
        .map(|grant| grant.role)
        .filter(|role| rule(canvass_core::access::Operation::BreakGlass, *role).allowed)
        .min()
        .ok_or(ServerError::Forbidden)?;
    let grant = Grant {
        role,
        jurisdiction: Some(jurisdiction.clone()),
        expires_at: Some(now_millis() + i64::from(minutes) * 60_000),
        emergency: true,
    };
    let entry = target(audit.entry(Action::BreakGlass), format!("staff:{}", principal.username))?;
    let mut entry = target(entry, format!("minutes:{minutes}"))?.with_jurisdiction(jurisdiction);
    entry = entry.with_justification(justification.trim())?;
    entry.reason = Some("emergency".to_owned());
    audit.run(entry, async { Ok(node.store().add_grant(&principal.username, &grant).await?) }).await?;
    let subject = format!("Canvass: emergency access to {jurisdiction} opened by {}", principal.username);
    let body = format!(
        "{} opened emergency ({}) access to {jurisdiction} for {minutes} minutes.\nReason given: {}\nIt expires by itself; every action is in the audit ledger.\n",
        principal.username,
        role.title(),
        justification.trim()
    );
    monitor::notify_administrators(node, jurisdiction, &subject, &body).await?;
    Ok(grant)
}
