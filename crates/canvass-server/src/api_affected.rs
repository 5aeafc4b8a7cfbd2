//! The admin API of affected-voter identification: the voter records an incident's subject
//! read in a window, listed for breach notification (confidential: `voters.read` with a reason,
//! an `incident.affected_voters` entry). Exporting the list is a two-person request of kind
//! `export_affected_voters` whose subject is the incident id (`/api/requests`).

use axum::{Json, extract::State, http::HeaderMap};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    Node, ServerError,
    access::{JUSTIFICATION_HEADER, Principal},
    affected_voters::{self, AffectedVoter},
    api::{ApiPath, ApiQuery},
    error::ErrorBody,
    ledger::Audit,
};

/// The routes, merged into the admin API by one line.
pub fn router() -> OpenApiRouter<Node> {
    OpenApiRouter::new().routes(routes!(list_affected))
}

/// The window and the reason.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AffectedQuery {
    /// Start of the window, Unix milliseconds (default: 24 hours before the incident opened).
    pub since: Option<i64>,
    /// End of the window, exclusive, Unix milliseconds (default: the incident's opening, included).
    pub until: Option<i64>,
    /// Why the list is read (or the `x-canvass-justification` header); administrators must give one.
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AffectedVoterBody {
    pub registration_number: String,
    pub last_name: String,
    pub first_name: String,
    /// The roll (key ring) holding the record.
    pub roll: String,
}

impl From<AffectedVoter> for AffectedVoterBody {
    fn from(voter: AffectedVoter) -> Self {
        Self {
            registration_number: voter.registration_number,
            last_name: voter.last_name,
            first_name: voter.first_name,
            roll: voter.roll,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AffectedBody {
    pub incident: String,
    pub since: i64,
    pub until: i64,
    pub voters: Vec<AffectedVoterBody>,
}

/// The voter records an incident's subject read in the window.
#[utoipa::path(get, path = "/api/incidents/{id}/affected", tag = "audit", params(("id" = String, Path), AffectedQuery),
    responses((status = 200, body = AffectedBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_affected(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<AffectedQuery>,
) -> Result<Json<AffectedBody>, ServerError> {
    let header = headers.get(JUSTIFICATION_HEADER).and_then(|value| value.to_str().ok());
    let reason = query.reason.as_deref().or(header).map(str::trim).filter(|text| !text.is_empty());
    if reason.is_some_and(|text| text.chars().count() > 500) {
        return Err(ServerError::Invalid("reason: at most 500 characters".into()));
    }
    let (incident, window, voters) =
        affected_voters::list_as(&node, &audit, &principal, &id, query.since, query.until, reason).await?;
    Ok(Json(AffectedBody {
        incident: incident.id,
        since: window.since,
        until: window.until,
        voters: voters.into_iter().map(Into::into).collect(),
    }))
}
