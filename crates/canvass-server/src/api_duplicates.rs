//! The admin API of duplicate detection: list a jurisdiction tree's candidate pairs (public-record
//! fields; confidential ones with a written reason, as a search), merge one (the other record
//! removed as `duplicate_merged` under the NVRA rules) or dismiss one.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use canvass_core::{access::Operation, id::JurisdictionId};
use canvass_store::DuplicateDecision;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    Node, ServerError,
    access::{JUSTIFICATION_HEADER, Principal},
    api::{ApiJson, ApiPath, ApiQuery},
    api_voters::{StatusChangeView, VoterBody, confidential_reason},
    duplicates::{self, DecisionRequest, DuplicatePair, Rings},
    error::ErrorBody,
    ledger::Audit,
};

/// The routes, merged into the admin API by one line.
pub fn router() -> OpenApiRouter<Node> {
    OpenApiRouter::new()
        .routes(routes!(list_duplicates))
        .routes(routes!(merge_duplicates))
        .routes(routes!(dismiss_duplicates))
}

/// Which page of pairs, and what to show of them.
#[derive(Debug, Deserialize, IntoParams)]
pub struct DuplicateListing {
    /// Start after this pair: `FIRST,SECOND` (the `next` of the previous page).
    pub after: Option<String>,
    /// Pairs per page, 1-200 (50 if absent).
    pub limit: Option<u32>,
    /// Also show confidential fields: needs `voters.read` and a `reason`; every record shown is
    /// then a confidential read (in the ledger, counted against the hourly limit).
    #[serde(default)]
    pub confidential: bool,
    /// Why confidential fields are opened (or the `x-canvass-justification` header).
    pub reason: Option<String>,
}

/// One candidate pair.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicatePairBody {
    pub first: VoterBody,
    pub second: VoterBody,
    /// `name_and_birth_date`, `drivers_licence`, or both.
    pub rules: Vec<String>,
    /// The roll (key ring) both records belong to.
    pub roll: String,
}

impl From<DuplicatePair> for DuplicatePairBody {
    fn from(pair: DuplicatePair) -> Self {
        Self {
            first: pair.first.into(),
            second: pair.second.into(),
            rules: pair.rules.into_iter().map(str::to_owned).collect(),
            roll: pair.roll,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicatePageBody {
    pub pairs: Vec<DuplicatePairBody>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `FIRST,SECOND` as a cursor.
pub(crate) fn parse_after(text: Option<&str>) -> Result<Option<(String, String)>, ServerError> {
    let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    let (first, second) =
        text.split_once(',').ok_or_else(|| ServerError::Invalid("after: expected FIRST,SECOND".into()))?;
    Ok(Some((duplicates::registration_number("after", first)?, duplicates::registration_number("after", second)?)))
}

/// Candidate duplicate records in the jurisdiction and every jurisdiction under it: pairs of one
/// roll whose name and date of birth, or driver's licence number, agree; pairs already merged or
/// dismissed, and removed records, are left out. Needs the rolls' key rings unsealed (423).
#[utoipa::path(get, path = "/api/jurisdictions/{id}/duplicates", tag = "voters",
    params(("id" = String, Path), DuplicateListing), responses(
    (status = 200, body = DuplicatePageBody), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody), (status = 423, body = ErrorBody)))]
pub async fn list_duplicates(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiQuery(listing): ApiQuery<DuplicateListing>,
) -> Result<Json<DuplicatePageBody>, ServerError> {
    let scope = JurisdictionId::parse(&id)?;
    let after = parse_after(listing.after.as_deref())?;
    let header = headers.get(JUSTIFICATION_HEADER).and_then(|value| value.to_str().ok());
    let reason = confidential_reason(listing.confidential, listing.reason.as_deref(), header)?;
    let after = after.as_ref().map(|(first, second)| (first.as_str(), second.as_str()));
    let limit = listing.limit.unwrap_or(50);
    if !(1..=duplicates::MAX_PAGE).contains(&limit) {
        return Err(ServerError::Invalid(format!("limit: expected 1-{}", duplicates::MAX_PAGE)));
    }
    let page = duplicates::find_as(&node, &audit, &principal, &scope, after, limit, reason).await?;
    Ok(Json(DuplicatePageBody {
        pairs: page.pairs.into_iter().map(Into::into).collect(),
        next: page.next.map(|(first, second)| format!("{first},{second}")),
    }))
}

/// A merge: keep one record, remove the other.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The registration number kept.
    pub keep: String,
    /// The registration number removed with reason `duplicate_merged`.
    pub remove: String,
    /// Why (kept with the decision; write no personal values).
    pub reason: String,
    /// The day the removal takes effect (YYYY-MM-DD; today if absent; not in the future).
    #[serde(default)]
    pub effective: Option<String>,
}

/// A dismissal: the two records are different voters.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DismissBody {
    pub first: String,
    pub second: String,
    /// Why (kept with the decision; write no personal values).
    pub reason: String,
}

/// A stored decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    pub id: i64,
    pub jurisdiction: String,
    pub first: String,
    pub second: String,
    /// `merged` or `dismissed`.
    pub decision: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept: Option<String>,
    pub reason: String,
    pub actor: String,
    /// Unix milliseconds.
    pub decided_at: i64,
    /// For a merge, the removed record's status change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_change: Option<StatusChangeView>,
}

impl From<DuplicateDecision> for DecisionView {
    fn from(decision: DuplicateDecision) -> Self {
        Self {
            id: decision.id,
            jurisdiction: decision.jurisdiction.into(),
            first: decision.first,
            second: decision.second,
            decision: decision.verdict.as_str().to_owned(),
            kept: decision.kept,
            reason: decision.reason,
            actor: decision.actor,
            decided_at: decision.decided_at,
            status_change: None,
        }
    }
}

/// Merges a candidate pair: `keep` stays, `remove` becomes `removed` with reason
/// `duplicate_merged` through the NVRA list-maintenance rules (422 with the rule's sentence when
/// they refuse, and nothing changes). Needs `voters.change_status` as well.
#[utoipa::path(post, path = "/api/jurisdictions/{id}/duplicates/merge", tag = "voters",
    params(("id" = String, Path)), request_body = MergeBody, responses(
    (status = 201, body = DecisionView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, description = "not an undecided candidate pair here", body = ErrorBody),
    (status = 422, description = "refused by an NVRA list-maintenance rule", body = ErrorBody),
    (status = 423, body = ErrorBody)))]
pub async fn merge_duplicates(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<MergeBody>,
) -> Result<(StatusCode, Json<DecisionView>), ServerError> {
    let scope = JurisdictionId::parse(&id)?;
    let mut request = DecisionRequest::parse(scope, ("keep", &body.keep), ("remove", &body.remove), &body.reason)?;
    request.effective_on = crate::api_voters::date("effective", body.effective.as_deref())?;
    let view = merge_as(&node, &audit, &principal, &request).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A merge by a staff member through the node (API and pages).
pub(crate) async fn merge_as(
    node: &Node,
    audit: &Audit,
    principal: &Principal,
    request: &DecisionRequest,
) -> Result<DecisionView, ServerError> {
    principal.authorize_now(node, audit, Operation::ChangeVoterStatus, Some(&request.scope), None).await?;
    let rings = Rings::of_tree(node, &request.scope).await?;
    let (decision, change) = duplicates::merge(node.store(), &rings, audit, request).await?;
    tracing::info!(jurisdiction = %decision.jurisdiction, "duplicate pair merged");
    Ok(DecisionView { status_change: Some(change.into()), ..decision.into() })
}

/// Dismisses a candidate pair as two different voters; it leaves the list.
#[utoipa::path(post, path = "/api/jurisdictions/{id}/duplicates/dismiss", tag = "voters",
    params(("id" = String, Path)), request_body = DismissBody, responses(
    (status = 201, body = DecisionView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, description = "not an undecided candidate pair here", body = ErrorBody),
    (status = 423, body = ErrorBody)))]
pub async fn dismiss_duplicates(
    State(node): State<Node>,
    audit: Audit,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<DismissBody>,
) -> Result<(StatusCode, Json<DecisionView>), ServerError> {
    let scope = JurisdictionId::parse(&id)?;
    let request = DecisionRequest::parse(scope, ("first", &body.first), ("second", &body.second), &body.reason)?;
    let view = dismiss_as(&node, &audit, &request).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A dismissal through the node (API and pages).
pub(crate) async fn dismiss_as(
    node: &Node,
    audit: &Audit,
    request: &DecisionRequest,
) -> Result<DecisionView, ServerError> {
    let rings = Rings::of_tree(node, &request.scope).await?;
    let decision = duplicates::dismiss(node.store(), &rings, audit, request).await?;
    tracing::info!(jurisdiction = %decision.jurisdiction, "duplicate pair dismissed");
    Ok(decision.into())
}
