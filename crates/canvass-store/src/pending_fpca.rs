//! FPCAs from the public form held for a clerk (migration 0021): an anonymous request that
//! matches a voter already on the roll is not applied; it is kept sealed under the roll's key
//! ring until a clerk confirms or rejects it. Append-only: a request row never changes, and its
//! one decision is a row of its own.

use canvass_core::{CoreError, id::JurisdictionId};

use crate::StoreError;

/// A held FPCA: the request (sealed) and the voter it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPendingFpca {
    /// Chosen by the caller (`fpca-` and random hexadecimal digits): the sealed request is bound
    /// to it.
    pub id: String,
    /// The voter on the roll the request matched.
    pub registration_number: String,
    /// The roll (and key ring) the request is for.
    pub jurisdiction: JurisdictionId,
    /// The request as sealed by the server; no plaintext personal value is stored.
    pub sealed_request: Vec<u8>,
    /// Unix milliseconds.
    pub received_at: i64,
    /// The clerk's decision, once made (ignored by `insert_pending_fpca`).
    pub decision: Option<FpcaDecision>,
}

/// What a clerk decided about a held FPCA; made once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FpcaDecision {
    pub confirmed: bool,
    /// Why (required for a rejection; may be empty for a confirmation).
    pub reason: String,
    /// Who decided, as the ledger names them.
    pub actor: String,
    /// Unix milliseconds.
    pub decided_at: i64,
}

impl FpcaDecision {
    pub fn as_str(&self) -> &'static str {
        if self.confirmed { "confirmed" } else { "rejected" }
    }
}

/// A held FPCA's columns as read (the decision's columns null while undecided), for [`pending`].
#[derive(Debug)]
pub struct PendingColumns {
    pub id: String,
    pub registration_number: String,
    pub jurisdiction: String,
    pub sealed_request: Vec<u8>,
    pub received_at: i64,
    pub decision: Option<String>,
    pub reason: Option<String>,
    pub actor: Option<String>,
    pub decided_at: Option<i64>,
}

/// The columns every backend selects, in this order, from the two tables joined.
pub const PENDING_SELECT: &str = "SELECT p.id, p.registration_number, p.jurisdiction_id, p.sealed_request, p.received_at, \
     d.decision, d.reason, d.actor, d.decided_at FROM uocava_pending_fpcas p \
     LEFT JOIN uocava_pending_decisions d ON d.pending_id = p.id";

pub fn pending(columns: PendingColumns) -> Result<StoredPendingFpca, StoreError> {
    let decision = match (columns.decision, columns.reason, columns.actor, columns.decided_at) {
        (None, None, None, None) => None,
        (Some(decision), Some(reason), Some(actor), Some(decided_at)) => Some(FpcaDecision {
            confirmed: match decision.as_str() {
                "confirmed" => true,
                "rejected" => false,
                _ => return Err(StoreError::Corrupt(format!("held FPCA {}: unknown decision", columns.id))),
            },
            reason,
            actor,
            decided_at,
        }),
        _ => return Err(StoreError::Corrupt(format!("held FPCA {}: an incomplete decision", columns.id))),
    };
    Ok(StoredPendingFpca {
        jurisdiction: JurisdictionId::parse(&columns.jurisdiction)
            .map_err(|error: CoreError| StoreError::Corrupt(error.to_string()))?,
        id: columns.id,
        registration_number: columns.registration_number,
        sealed_request: columns.sealed_request,
        received_at: columns.received_at,
        decision,
    })
}
