//! Rows of the access layer: sessions, API tokens, two-person requests, incidents and the mail
//! outbox. Secrets never reach the store in the clear: sessions and tokens are kept as SHA-256
//! hashes of what the browser or machine holds.

use canvass_core::{
    access::{RequestKind, RequestStatus, StaffRole},
    credential::Username,
    id::JurisdictionId,
};

/// A signed-in browser. `id_hash` is SHA-256 of the cookie's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub id_hash: Vec<u8>,
    pub username: Username,
    /// The anti-CSRF token the session's forms must echo.
    pub csrf_token: String,
    /// Unix milliseconds.
    pub created_at: i64,
    pub last_seen_at: i64,
    /// False until the second factor was checked (or enrolled) in this session.
    pub second_factor: bool,
}

/// An API token for a machine (a county's results upload), scoped to one role on one
/// jurisdiction (or the node) and to its owner's own grants. `secret_hash` is SHA-256 of the
/// secret part; the token itself is shown once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    /// Public identifier, the part before the secret; it names the token in the ledger.
    pub id: String,
    pub secret_hash: Vec<u8>,
    pub label: String,
    pub owner: Username,
    pub role: StaffRole,
    pub jurisdiction: Option<JurisdictionId>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked: bool,
}

/// A two-person request: it runs only after another allowed user approves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRequest {
    pub id: String,
    pub kind: RequestKind,
    pub requester: Username,
    pub jurisdiction: JurisdictionId,
    /// What the request acts on beyond the jurisdiction: a `username:role` for a grant, an
    /// election id for certification; empty otherwise.
    pub subject: String,
    pub justification: String,
    pub created_at: i64,
    /// Approval (and, once approved, execution) must happen before this.
    pub expires_at: i64,
    pub status: RequestStatus,
    pub approver: Option<Username>,
    pub decided_at: Option<i64>,
}

/// A security incident, opened by a detector or by hand. Counts only, never PII. Its current
/// values; the history of how they came to be is its updates (`Store::incident_updates`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredIncident {
    pub id: String,
    pub jurisdiction: Option<JurisdictionId>,
    pub opened_at: i64,
    /// What opened it: `bulk_read`, `manual`, ...
    pub kind: String,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
    pub summary: String,
    /// The staff account involved, if any.
    pub subject: Option<Username>,
    pub records_affected: u64,
    /// `open`, `investigating`, `contained` or `closed` (`canvass_core::incidents::IncidentStatus`).
    pub status: String,
    /// When the problem was detected (Unix milliseconds); may precede `opened_at` for an
    /// incident opened by hand after the fact.
    pub detected_at: i64,
    /// Data class names (`canvass_core::incidents::DataClass`), sorted, no repeats.
    pub data_classes: Vec<String>,
    pub actions_taken: String,
    /// The detector and its subject that opened it (`failed_sign_in:account:alice`): at most one
    /// unfinished incident per key. `None` for an incident opened by hand.
    pub detector_key: Option<String>,
    /// Updates so far; assigned by the store (ignored on insert, where it is 0).
    pub revision: u32,
}

/// A notification waiting to be sent (or sent) by the outbox worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Assigned by the store, increasing.
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub attempts: u32,
    pub last_error: Option<String>,
}
