//! The admin API of election-night results: upload a county's file (the body, in the format the
//! query names; API tokens of results reporters work), read the tally, and ask for the
//! two-person certification.

use axum::{
    Json,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::StatusCode,
};
use canvass_core::{
    access::RequestKind,
    id::ElectionId,
    results::{ChangeKind, ResultsChange, Tally, tally},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    Node, ServerError,
    access::Principal,
    api::{ApiJson, ApiPath, ApiQuery},
    api_staff::RequestBody,
    error::ErrorBody,
    ledger::Audit,
    requests::{self, NewRequest},
    results_intake::{self, MAX_UPLOAD_BYTES, ResultsFormat, ResultsOutcome, ResultsUpload},
};

/// The routes, merged into the admin API by one line. Uploads may be larger than other bodies.
pub fn router() -> OpenApiRouter<Node> {
    OpenApiRouter::new()
        .routes(routes!(upload_results, election_results))
        .routes(routes!(request_certification))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct UploadQuery {
    /// nist-xml, nist-json, openelections or clarity.
    pub format: String,
    /// Send as a correction of accepted numbers, with this reason.
    pub correction: Option<String>,
}

/// What an upload did.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadView {
    /// `reported`, `corrected` or `unchanged`.
    pub outcome: String,
    /// The change's sequence; absent when nothing changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub county: Option<String>,
    pub precincts: usize,
}

impl From<ResultsOutcome> for UploadView {
    fn from(outcome: ResultsOutcome) -> Self {
        match outcome {
            ResultsOutcome::Accepted { sequence, county, precincts, kind } => Self {
                outcome: if matches!(kind, ChangeKind::Correction { .. }) { "corrected" } else { "reported" }.into(),
                sequence: Some(sequence),
                county: county.map(Into::into),
                precincts,
            },
            ResultsOutcome::Unchanged { precincts } => {
                Self { outcome: "unchanged".into(), sequence: None, county: None, precincts }
            }
        }
    }
}

/// Uploads a county's results file (the body). Refused whole (422, `results_refused`, every
/// problem with its line or element in the message) or stored as one change; numbers equal to
/// those on file are `unchanged`. 403 when the file names a county the caller may not upload for.
#[utoipa::path(post, path = "/api/elections/{id}/results", tag = "results",
    params(("id" = String, Path), UploadQuery),
    request_body(content = String, content_type = "application/octet-stream"),
    responses((status = 200, body = UploadView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
    (status = 422, body = ErrorBody)))]
pub async fn upload_results(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<UploadQuery>,
    body: Bytes,
) -> Result<Json<UploadView>, ServerError> {
    let election = ElectionId::parse(&id)?;
    let upload = ResultsUpload {
        election: &election,
        format: ResultsFormat::parse(&query.format)?,
        bytes: &body,
        correction: query.correction,
    };
    let outcome = results_intake::import_results(node.store(), &audit, &principal.grants, &upload).await?;
    if let ResultsOutcome::Accepted { .. } = outcome {
        crate::results_publisher::publish_after_upload(&node, &election).await;
    }
    Ok(Json(outcome.into()))
}

/// An election's results as accepted: the sums of the state, each county and each precinct
/// (precincts reporting, ballots cast, votes per choice by vote type, turnout where the roll is
/// known), and the change history.
#[derive(Debug, Serialize)]
pub struct ResultsView {
    pub election: String,
    pub certified: bool,
    pub tally: Tally,
    pub changes: Vec<ResultsChange>,
}

#[utoipa::path(get, path = "/api/elections/{id}/results", tag = "results", params(("id" = String, Path)),
    responses((status = 200, description = "the tally and the change history", content_type = "application/json"),
    (status = 404, body = ErrorBody)))]
pub async fn election_results(
    State(node): State<Node>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ResultsView>, ServerError> {
    let election = ElectionId::parse(&id)?;
    let results = results_intake::load_results(node.store(), &election).await?;
    Ok(Json(ResultsView {
        election: election.to_string(),
        certified: results.is_certified(),
        tally: tally(&results),
        changes: results.changes,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CertifyBody {
    pub justification: String,
}

/// Asks for the certification of an election's results: a two-person request in the election's
/// jurisdiction, which another administrator approves (`/api/requests/{id}/approve`) before the
/// requester runs it (`/api/requests/{id}/run`).
#[utoipa::path(post, path = "/api/elections/{id}/certify", tag = "results", params(("id" = String, Path)),
    request_body = CertifyBody, responses((status = 201, body = RequestBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
pub async fn request_certification(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<CertifyBody>,
) -> Result<(StatusCode, Json<RequestBody>), ServerError> {
    let election = ElectionId::parse(&id)?;
    let Some(found) = node.store().election(&election).await? else {
        return Err(ServerError::NotFound(format!("no election {election}")));
    };
    let request = NewRequest {
        kind: RequestKind::CertifyResults,
        jurisdiction: found.jurisdiction,
        subject: election.to_string(),
        justification: body.justification,
    };
    let stored = requests::create(&node, &audit, &principal, request).await?;
    Ok((StatusCode::CREATED, Json(stored.into())))
}
