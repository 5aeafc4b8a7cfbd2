//! FPCAs from the anonymous public form that match a voter already on the roll: held, not
//! applied. Anyone who knows a voter's name and date of birth can fill in the form, so a request
//! that would touch an existing record (address, email, delivery) waits for a clerk:
//!
//! - [`receive_public_fpca`]: a request matching no one registers the new voter as
//!   `uocava::receive_fpca` always did; one matching a voter is sealed whole under the roll's
//!   key ring (the voters' [`Sealer`], record = the held request's id, field `pending_fpca`),
//!   stored (migration 0021) with a `uocava.hold` entry, and a notice is queued to the voter's
//!   address on file (`voter:NUMBER`, body sealed: `outbox_seal`) saying a change was asked for.
//!   The public page says the same either way (`uocava_pages`).
//! - [`open_pending`]: a clerk's view of the held values, a `voter.read` entry first.
//! - [`confirm`]: applies the request exactly as `receive_fpca` does, as the clerk, then records
//!   the decision (`uocava.confirm`); [`reject`]: records the decision and its reason
//!   (`uocava.reject`), the voter unchanged.
//!
//! Authorization is the caller's (admin pages, CLI): `voters.write` and `ballots.record` on the
//! roll's jurisdiction, as a VRI import of an FPCA needs.

use canvass_core::{
    audit::{Action, AuditEntry, now_millis},
    id::JurisdictionId,
};
use canvass_formats::vri::{BallotReceiptMethod, VoterClassificationType, VoterRecordsRequest};
use canvass_store::{FpcaDecision, SealedVoter, Store, StoredPendingFpca};

use crate::{
    ServerError,
    keys::UnsealedRing,
    ledger::{Audit, target},
    uocava::{self, FpcaReceipt},
    voters::Sealer,
    vri_import::{self, PRECINCT_INFO, ReadRequest, VriEncoding, VriSettings},
};

/// The sealed field of a held request.
const FIELD: &str = "pending_fpca";
/// The longest rejection reason.
pub const MAX_REASON_CHARS: usize = 500;
/// Why a clerk's view of a held request is a confidential read.
const REVIEW_READ: &str = "Reviewing an FPCA held for confirmation (the values it asks for)";

/// What became of a public-form FPCA. The public page answers the same for both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicFpca {
    /// A new voter: registered and the request recorded, as before.
    Applied(FpcaReceipt),
    /// A voter already on the roll: held for a clerk, nothing changed. The held request's id.
    Held(String),
}

/// Receives an FPCA from the anonymous form: applied for a person not on the roll, held for
/// a clerk when it matches a voter of the ring's roll.
pub async fn receive_public_fpca(
    store: &dyn Store,
    audit: &Audit,
    ring: &UnsealedRing,
    read: &ReadRequest,
    settings: &VriSettings,
) -> Result<PublicFpca, ServerError> {
    match vri_import::matching_voter(store, ring, &read.request).await? {
        Some(voter) if voter.jurisdiction.as_str() == ring.jurisdiction() => {
            hold(store, audit, ring, read, &voter).await.map(PublicFpca::Held)
        }
        // No one (a new registration), or a voter of another roll (the registration path
        // refuses that, as before).
        _ => uocava::receive_fpca(store, audit, ring, read, VriEncoding::Json, settings).await.map(PublicFpca::Applied),
    }
}

fn seal_request(ring: &UnsealedRing, id: &str, request: &VoterRecordsRequest) -> Result<Vec<u8>, ServerError> {
    let json = crate::vri_export::encode(request, VriEncoding::Json)?;
    let json = String::from_utf8(json).map_err(|_| ServerError::Internal("a VRI request is not UTF-8".into()))?;
    Sealer { ring, record: id, version: ring.active_version() }.seal(FIELD, &json)
}

fn open_request(ring: &UnsealedRing, pending: &StoredPendingFpca) -> Result<ReadRequest, ServerError> {
    if pending.jurisdiction.as_str() != ring.jurisdiction() {
        return Err(ServerError::Internal(format!(
            "held FPCA {} is for {}, not {}",
            pending.id,
            pending.jurisdiction,
            ring.jurisdiction()
        )));
    }
    let version = canvass_crypto::sealed_key_version(&pending.sealed_request)
        .ok_or_else(|| ServerError::Internal(format!("held FPCA {} is not sealed", pending.id)))?;
    let json = Sealer { ring, record: &pending.id, version }.open(FIELD, &pending.sealed_request)?;
    vri_import::read_bytes(json.as_bytes(), VriEncoding::Json)
}

async fn hold(
    store: &dyn Store,
    audit: &Audit,
    ring: &UnsealedRing,
    read: &ReadRequest,
    voter: &SealedVoter,
) -> Result<String, ServerError> {
    let id = format!("fpca-{}", canvass_crypto::random_hex(16)?);
    let number = voter.registration_number.as_str();
    let received_at = now_millis();
    let pending = StoredPendingFpca {
        id: id.clone(),
        registration_number: number.to_owned(),
        jurisdiction: voter.jurisdiction.clone(),
        sealed_request: seal_request(ring, &id, &read.request)?,
        received_at,
        decision: None,
    };
    let entry = audit.entry(Action::UocavaHold).with_jurisdiction(&voter.jurisdiction);
    let entry = target(entry, format!("voter:{number}"))?;
    let entry = target(entry, format!("fpca:{id}"))?;
    audit.run(entry, async { Ok(store.insert_pending_fpca(&pending).await?) }).await?;
    // The notice goes to the address on file (opened by the outbox only to send), never to
    // the one in the request: that is the one that may not be the voter's.
    if voter.fields.email.is_some() {
        crate::outbox_seal::queue_voter_message(store, ring, number, NOTICE_SUBJECT, NOTICE_BODY, received_at).await?;
    }
    Ok(id)
}

const NOTICE_SUBJECT: &str = "A change to your voter record was requested";
const NOTICE_BODY: &str = "Someone asked, through the overseas and military voters' ballot request form (FPCA), \
to change how your election office reaches you or sends you your ballot.\n\nNothing has changed yet: your election \
office will confirm the request before it takes effect, and may contact you.\n\nIf you did not make this request, \
contact your election office.\n";

/// The held requests, oldest first (all, or only the undecided), in the jurisdictions `shown`
/// accepts. Ids, numbers, times and decisions: no personal value.
pub async fn list(
    store: &dyn Store,
    undecided_only: bool,
    shown: impl Fn(&JurisdictionId) -> bool,
) -> Result<Vec<StoredPendingFpca>, ServerError> {
    let mut held = store.pending_fpcas(undecided_only).await?;
    held.retain(|pending| shown(&pending.jurisdiction));
    Ok(held)
}

/// A held request, or `NotFound`.
pub async fn find(store: &dyn Store, id: &str) -> Result<StoredPendingFpca, ServerError> {
    store.pending_fpca(id.trim()).await?.ok_or_else(|| ServerError::NotFound(format!("no held FPCA `{}`", id.trim())))
}

/// The values a held request asks for, labelled, for a clerk: a `voter.read` entry of the
/// voter first.
pub async fn open_pending(
    audit: &Audit,
    ring: &UnsealedRing,
    pending: &StoredPendingFpca,
) -> Result<Vec<(&'static str, String)>, ServerError> {
    let read = open_request(ring, pending)?;
    crate::voters::record_reads(
        audit,
        &pending.jurisdiction,
        Some(REVIEW_READ),
        std::iter::once(pending.registration_number.as_str()),
    )
    .await?;
    Ok(describe(&read.request))
}

fn describe(request: &VoterRecordsRequest) -> Vec<(&'static str, String)> {
    let subject = &request.subject;
    let name = [subject.name.first.clone(), Some(subject.name.middle.join(" ")), subject.name.last.clone()]
        .into_iter()
        .flatten()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let mut rows = vec![("Name", name)];
    if let Some(date) = request.birth_date() {
        rows.push(("Date of birth", date.to_string()));
    }
    rows.push(("Voting residence", subject.residence_address.lines().join(", ")));
    if let Some(precinct) = request.additional_info.iter().find(|info| info.name == PRECINCT_INFO) {
        rows.push(("Precinct", precinct.value.clone().unwrap_or_default()));
    }
    if let Some(mailing) = &subject.mailing_address {
        rows.push(("Mailing address", mailing.lines().join(", ")));
    }
    rows.push(("Email", request.email().unwrap_or("(none)").to_owned()));
    let delivery = request.ballot_request.as_ref().and_then(|ballot| ballot.receipt_preferences.first()).map(
        |method| match method {
            BallotReceiptMethod::Email => "email",
            BallotReceiptMethod::EmailOrOnline | BallotReceiptMethod::Online => "online",
            BallotReceiptMethod::Mail | BallotReceiptMethod::Fax => "mail",
        },
    );
    rows.push(("Ballot by", delivery.unwrap_or("mail").to_owned()));
    let military = subject.classifications.iter().any(|class| {
        matches!(
            class.kind,
            VoterClassificationType::ActiveDuty
                | VoterClassificationType::ActiveDutySpouseOrDependent
                | VoterClassificationType::ActivatedNationalGuard
        )
    });
    rows.push(("Voter", if military { "military" } else { "overseas" }.to_owned()));
    if let Some(party) = &subject.party {
        rows.push(("Party", party.name.clone()));
    }
    rows
}

fn undecided(pending: &StoredPendingFpca) -> Result<(), ServerError> {
    match &pending.decision {
        None => Ok(()),
        Some(decision) => {
            Err(ServerError::Conflict(format!("held FPCA {} was {} already", pending.id, decision.as_str())))
        }
    }
}

fn decision_entry(audit: &Audit, action: Action, pending: &StoredPendingFpca) -> Result<AuditEntry, ServerError> {
    let entry = audit.entry(action).with_jurisdiction(&pending.jurisdiction);
    let entry = target(entry, format!("voter:{}", pending.registration_number))?;
    target(entry, format!("fpca:{}", pending.id))
}

/// Confirms a held request: applied as an FPCA is (`uocava::receive_fpca`, the clerk as the
/// actor), then the decision recorded once.
pub async fn confirm(
    store: &dyn Store,
    audit: &Audit,
    ring: &UnsealedRing,
    id: &str,
) -> Result<FpcaReceipt, ServerError> {
    let pending = find(store, id).await?;
    let entry = decision_entry(audit, Action::UocavaConfirm, &pending)?;
    if let Err(error) = undecided(&pending) {
        return Err(audit.refuse(entry, error).await);
    }
    let settings =
        VriSettings { jurisdiction: pending.jurisdiction.clone(), actor: audit.actor.to_string(), precinct: None };
    let applied = match open_request(ring, &pending) {
        Ok(read) => uocava::receive_fpca(store, audit, ring, &read, VriEncoding::Json, &settings).await,
        Err(error) => Err(error),
    };
    // A request the registration path refuses now (its precinct gone, say) stays undecided:
    // the clerk rejects it with the reason.
    let receipt = match applied {
        Ok(receipt) => receipt,
        Err(error) => return Err(audit.refuse(entry, error).await),
    };
    let decision = FpcaDecision {
        confirmed: true,
        reason: String::new(),
        actor: audit.actor.to_string(),
        decided_at: now_millis(),
    };
    audit
        .run(entry, async {
            if store.decide_pending_fpca(&pending.id, &decision).await? {
                Ok(())
            } else {
                Err(ServerError::Conflict(format!("held FPCA {} was decided while it was being confirmed", pending.id)))
            }
        })
        .await?;
    Ok(receipt)
}

/// Rejects a held request with a reason (required; plain text, no line breaks): the voter's
/// record is unchanged.
pub async fn reject(
    store: &dyn Store,
    audit: &Audit,
    id: &str,
    reason: &str,
) -> Result<StoredPendingFpca, ServerError> {
    let pending = find(store, id).await?;
    let entry = decision_entry(audit, Action::UocavaReject, &pending)?;
    let reason = reason.trim();
    let checked = undecided(&pending).and_then(|()| {
        if reason.is_empty() {
            return Err(ServerError::Invalid("reason: say why the request is rejected".into()));
        }
        if reason.chars().count() > MAX_REASON_CHARS || reason.chars().any(char::is_control) {
            return Err(ServerError::Invalid(format!("reason: at most {MAX_REASON_CHARS} characters, on one line")));
        }
        Ok(())
    });
    if let Err(error) = checked {
        return Err(audit.refuse(entry, error).await);
    }
    let decision = FpcaDecision {
        confirmed: false,
        reason: reason.to_owned(),
        actor: audit.actor.to_string(),
        decided_at: now_millis(),
    };
    audit
        .run(entry, async {
            if store.decide_pending_fpca(&pending.id, &decision).await? {
                Ok(())
            } else {
                Err(ServerError::Conflict(format!("held FPCA {} was decided already", pending.id)))
            }
        })
        .await?;
    Ok(StoredPendingFpca { decision: Some(decision), ..pending })
}
