//! Witnesses' refusals coming in: `POST /log/refusal` on the public listener, beside
//! `/log/cosignature`. A witness run by another office that will not cosign this node's
//! checkpoint (the log shrank, forked, or did not prove it extends what the witness cosigned)
//! sends a signed refusal (`canvass_ledger::Refusal`); one signed by a witness in
//! `ledger.witnesses` for this log's origin becomes a `witness.refusal` ledger entry and the
//! `witness_refusal` incident (one per witness; later refusals are its updates). Anything
//! else is refused and changes nothing: the route is public, so an unsigned post must not be
//! able to grow the ledger or the register.

use axum::{
    Json, Router,
    body::{Body, to_bytes},
    extract::State,
    http::StatusCode,
    response::IntoResponse,
    routing::post,
};
use canvass_core::audit::{Action, AuditEntry, now_millis};
use canvass_ledger::{Note, Refusal, VerifierKey};
use canvass_store::LedgerQuery;
use serde::Serialize;

use crate::{
    Node, ServerError,
    incident_detectors::witness_refused,
    incidents::Register,
    ledger::{LogIdentity, target},
};

/// A refusal is a few hundred bytes; anything much bigger is not one.
pub const MAX_REFUSAL_BYTES: usize = 8 * 1024;
/// A refusal is taken only while it is fresh: at most this old...
pub const MAX_AGE_SECONDS: u64 = 600;
/// ...and at most this far ahead of the node's clock (the witness's clock may run fast).
const MAX_AHEAD_SECONDS: u64 = 60;
/// How far back the ledger is searched for the same statement: any earlier receipt of a
/// statement still fresh now happened within its freshness window, which is this long.
const REPLAY_WINDOW_MILLIS: i64 = ((MAX_AGE_SECONDS + MAX_AHEAD_SECONDS) * 1000) as i64 + 60_000;

/// One refusal checked, recorded and turned into an incident at a time in this process, so
/// two copies of the same statement posted together cannot both pass the replay check.
static RECEIVING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn router() -> Router<Node> {
    Router::new().route("/log/refusal", post(add_refusal))
}

/// What an accepted refusal's sender is told.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RefusalReceipt {
    /// The configured witness whose signature was checked.
    pub witness: String,
    /// The refused checkpoint's size.
    pub refused_size: u64,
}

/// A witness in `ledger.witnesses` refuses to cosign this log's checkpoint: a signed note
/// (`canvass witness refusal v1`, origin, time, refused size and root, last cosigned size,
/// reason) sent by `canvass witness` when it refuses. On the public listener.
#[utoipa::path(post, path = "/log/refusal", tag = "audit", security(()),
    request_body(content = String, description = "the signed refusal note", content_type = "text/plain"),
    responses(
        (status = 202, description = "recorded; the witness_refusal incident was opened or updated", body = RefusalReceipt),
        (status = 400, description = "not a refusal, or not for this log's origin", body = crate::error::ErrorBody),
        (status = 403, description = "not signed by a witness this node trusts, or no longer fresh", body = crate::error::ErrorBody),
        (status = 409, description = "this refusal was already received", body = crate::error::ErrorBody),
        (status = 413, description = "larger than 8 KiB", body = crate::error::ErrorBody)))]
pub async fn add_refusal(State(node): State<Node>, body: Body) -> Result<impl IntoResponse, ServerError> {
    let bytes = to_bytes(body, MAX_REFUSAL_BYTES).await.map_err(|_| ServerError::BodyTooLarge)?;
    let receipt = receive(&node, &bytes, unix_seconds()).await?;
    Ok((StatusCode::ACCEPTED, Json(receipt)))
}

fn unix_seconds() -> u64 {
    u64::try_from(now_millis() / 1000).unwrap_or(0)
}

/// Checks a refusal posted at `now` (seconds since the epoch), records it and raises the
/// incident.
pub async fn receive(node: &Node, body: &[u8], now: u64) -> Result<RefusalReceipt, ServerError> {
    let note = Note::parse(body).map_err(|error| ServerError::Invalid(error.to_string()))?;
    Refusal::parse(&note.text).map_err(|error| ServerError::Invalid(error.to_string()))?;
    let (witness, refusal) = signed_by_trusted_witness(node.log_identity(), &note)?;
    if refusal.origin != node.log_identity().origin {
        return Err(ServerError::Invalid(format!(
            "the refusal is for log `{}`, not this node's log `{}`",
            refusal.origin,
            node.log_identity().origin
        )));
    }
    check_fresh(refusal.time, now)?;
    let statement = crate::results_publish::sha256_hex(note.text.as_bytes());
    let _one_at_a_time = RECEIVING.lock().await;
    if already_received(node, &witness.name, &statement).await? {
        return Err(ServerError::Conflict("this refusal was already received".into()));
    }
    let audit = node.system_audit();
    let entry = target(audit.entry(Action::WitnessRefusal), format!("witness:{}", witness.name))?;
    let entry = target(entry, format!("checkpoint:{}", refusal.refused_size))?;
    let entry = target(entry, format!("refusal:{statement}"))?;
    audit.record(&entry).await?;
    let reason = format!(
        "{} (it refused size {} with root {}; it last cosigned size {})",
        refusal.reason, refusal.refused_size, refusal.refused_root, refusal.cosigned_size
    );
    witness_refused(&Register::of_node(node), &witness.name, &reason).await?;
    tracing::warn!(witness = %witness.name, size = refusal.refused_size, "a witness refused to cosign the checkpoint");
    Ok(RefusalReceipt { witness: witness.name.clone(), refused_size: refusal.refused_size })
}

/// The configured witness whose refusal signature the note carries, and what it states.
fn signed_by_trusted_witness<'a>(
    identity: &'a LogIdentity,
    note: &Note,
) -> Result<(&'a VerifierKey, Refusal), ServerError> {
    identity
        .witnesses
        .iter()
        .find_map(|witness| witness.verify_refusal(note).ok().map(|refusal| (witness, refusal)))
        .ok_or_else(|| {
            ServerError::Refused(
                "the refusal carries no valid signature by a witness this node trusts (ledger.witnesses)".into(),
            )
        })
}

/// Replays: a refusal names its time, signed. One older than [`MAX_AGE_SECONDS`] (or from
/// the future) is refused, and one already received within that window is found in the
/// ledger by its statement's hash, so the same signed refusal posted again adds nothing. A
/// witness that keeps refusing signs a new statement each round, and each is an update.
fn check_fresh(time: u64, now: u64) -> Result<(), ServerError> {
    if time.saturating_add(MAX_AGE_SECONDS) < now {
        return Err(ServerError::Refused(format!(
            "the refusal is more than {} minutes old; the witness sends a new one each round",
            MAX_AGE_SECONDS / 60
        )));
    }
    if time > now.saturating_add(MAX_AHEAD_SECONDS) {
        return Err(ServerError::Refused("the refusal is dated in the future; check the witness's clock".into()));
    }
    Ok(())
}

async fn already_received(node: &Node, witness: &str, statement: &str) -> Result<bool, ServerError> {
    // By action and time, not by target: the target index is filled in the background.
    let query = LedgerQuery {
        action: Some(Action::WitnessRefusal.as_str().to_owned()),
        since_millis: Some(now_millis() - REPLAY_WINDOW_MILLIS),
        limit: 1000,
        ..LedgerQuery::default()
    };
    let (named_witness, named_statement) = (format!("witness:{witness}"), format!("refusal:{statement}"));
    Ok(node
        .store()
        .search_ledger(&query)
        .await?
        .iter()
        .filter_map(|row| AuditEntry::decode(&row.body).ok())
        .any(|entry| entry.targets.contains(&named_witness) && entry.targets.contains(&named_statement)))
}

/// The route's OpenAPI description, merged into the document the admin listener serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(add_refusal), components(schemas(RefusalReceipt)))]
    struct Document;
    <Document as utoipa::OpenApi>::openapi()
}
