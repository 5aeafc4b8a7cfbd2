//! The one error type of canvass-ledger. Each variant says exactly what failed, because its
//! message is what `canvass audit verify` and the witness print before exiting non-zero.

use crate::verify::Discrepancy;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// Bytes from outside that are not what the format says: a checkpoint, note, tile path,
    /// tile, entry bundle, key or witness request.
    #[error("malformed {what}: {reason}")]
    Malformed { what: &'static str, reason: String },
    /// A signature that does not verify, or no signature from a trusted key.
    #[error("signature check failed: {0}")]
    Signature(String),
    /// An inclusion or consistency proof that does not prove what it claims.
    #[error("proof check failed: {0}")]
    Proof(String),
    /// A request for something the tree cannot have (an index past its size, say).
    #[error("out of range: {0}")]
    Range(String),
    /// The tile source could not provide something the tree says exists.
    #[error("could not fetch {path}: {reason}")]
    Fetch { path: String, reason: String },
    /// The log contradicts itself or what was seen before: tampering, a fork, a truncation.
    #[error("{0}")]
    Discrepancy(Discrepancy),
}

impl LedgerError {
    pub(crate) fn malformed(what: &'static str, reason: impl Into<String>) -> Self {
        Self::Malformed { what, reason: reason.into() }
    }
}
