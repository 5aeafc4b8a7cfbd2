//! Admin search of the audit ledger: `GET /api/audit` by actor, record, action, outcome and
//! time range, newest first, paged with `before`.

use axum::{Json, extract::State};
use canvass_core::{
    audit::{Action, Actor, AuditEntry, Outcome},
    id::JurisdictionId,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    Node, ServerError,
    api::ApiQuery,
    audit_log::{self, Search},
    error::ErrorBody,
};

/// Every filter given must match.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// `user:NAME`, `token:ID`, `operator`, `system` or `anonymous`.
    pub actor: Option<String>,
    /// An action code such as `keys.unseal`.
    pub action: Option<String>,
    /// A record id such as `precinct:zz-alder-001` or `voter:123456`.
    pub record: Option<String>,
    pub jurisdiction: Option<String>,
    /// `allowed`, `denied` or `failed`.
    pub outcome: Option<String>,
    /// From this time (RFC 3339) or date (YYYY-MM-DD), inclusive.
    pub since: Option<String>,
    /// Before this time or date.
    pub until: Option<String>,
    /// Only entries with a smaller index: pass `next_before` of the previous page.
    pub before: Option<u64>,
    /// At most this many entries (default 100, at most 1000).
    pub limit: Option<u32>,
}

impl AuditQuery {
    /// Turns the raw parameters into a search, refusing any that do not parse.
    pub fn parse(self) -> Result<Search, ServerError> {
        let invalid = |error: canvass_core::CoreError| ServerError::Invalid(error.to_string());
        Ok(Search {
            actor: self.actor.as_deref().map(Actor::parse).transpose().map_err(invalid)?,
            action: self.action.as_deref().map(Action::parse).transpose().map_err(invalid)?,
            record: self.record.filter(|record| !record.is_empty()),
            jurisdiction: self.jurisdiction.as_deref().map(JurisdictionId::parse).transpose().map_err(invalid)?,
            outcome: self.outcome.as_deref().map(Outcome::parse).transpose().map_err(invalid)?,
            since: self.since.as_deref().map(|value| audit_log::parse_time("since", value)).transpose()?,
            until: self.until.as_deref().map(|value| audit_log::parse_time("until", value)).transpose()?,
            before: self.before,
            limit: self.limit.unwrap_or(100),
        })
    }
}

/// One ledger entry with its index.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryBody {
    pub index: u64,
    /// RFC 3339, UTC.
    pub time: String,
    pub actor: String,
    pub jurisdiction: Option<String>,
    pub action: String,
    pub targets: Vec<String>,
    pub outcome: String,
    pub reason: Option<String>,
    pub request_id: Option<String>,
    pub justification: Option<String>,
}

impl AuditEntryBody {
    pub fn new(index: u64, entry: AuditEntry) -> Self {
        Self {
            index,
            time: entry.time.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            actor: entry.actor.to_string(),
            jurisdiction: entry.jurisdiction.map(String::from),
            action: entry.action.as_str().to_owned(),
            targets: entry.targets,
            outcome: entry.outcome.as_str().to_owned(),
            reason: entry.reason,
            request_id: entry.request_id,
            justification: entry.justification,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntryBody>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<u64>,
}

/// Searches the audit ledger, newest first.
#[utoipa::path(get, path = "/api/audit", tag = "audit", params(AuditQuery), responses(
    (status = 200, body = AuditPage), (status = 400, body = ErrorBody)))]
pub async fn search_audit(
    State(node): State<Node>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ServerError> {
    let search = query.parse()?;
    let found = audit_log::search(node.store(), &search).await?;
    let full_page = found.len() as u32 == search.limit.clamp(1, audit_log::MAX_SEARCH_RESULTS);
    let next_before = if full_page { found.last().map(|(index, _)| *index) } else { None };
    let entries = found.into_iter().map(|(index, entry)| AuditEntryBody::new(index, entry)).collect();
    Ok(Json(AuditPage { entries, next_before }))
}
