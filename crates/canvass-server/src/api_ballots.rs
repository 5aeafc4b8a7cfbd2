//! The admin API of a voter's absentee and provisional ballots: list them with their history
//! (`ballots.read`), and record the next step (`ballots.record`) under the ballot rules.

use axum::{Json, extract::State, http::StatusCode};
use canvass_core::id::{ElectionId, JurisdictionId};
use serde::Deserialize;
use time::Date;
use utoipa::ToSchema;

use crate::{
    Node, ServerError,
    api::{ApiJson, ApiPath},
    ballots::{self, BallotRequest, BallotStep, BallotView},
    error::ErrorBody,
    ledger::Audit,
};

/// A step asked for: codes and dates, no personal value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BallotStepBody {
    /// The election's id.
    pub election: String,
    /// Absentee: request, send, return, accept, reject, cure, cancel. Provisional: cast,
    /// adjudicate.
    pub step: String,
    /// For `adjudicate`: counted, partially_counted or not_counted.
    pub decision: Option<String>,
    /// For `reject`, the rejection reason code (missing_signature, signature_mismatch,
    /// missing_witness, late_arrival, voter_not_registered, ballot_already_cast, other); for
    /// `adjudicate` with not_counted, the provisional reason code (not_registered,
    /// wrong_precinct, id_not_provided, already_voted, other).
    pub reason: Option<String>,
    /// The day it happened, YYYY-MM-DD; today if absent. Not in the future.
    pub on: Option<String>,
}

fn date(field: &str, text: Option<&str>) -> Result<Option<Date>, ServerError> {
    text.map(str::trim)
        .filter(|text| !text.is_empty())
        .map(|text| {
            canvass_formats::ncvoter::parse_date(text)
                .map_err(|reason| ServerError::Invalid(format!("{field}: {reason}")))
        })
        .transpose()
}

/// Turns a form's or JSON body's fields into a request, naming the field that is wrong.
pub(crate) fn ballot_request(
    jurisdiction: JurisdictionId,
    registration_number: &str,
    election: &str,
    step: &str,
    decision: Option<&str>,
    reason: Option<&str>,
    on: Option<&str>,
) -> Result<BallotRequest, ServerError> {
    let registration_number = crate::api_voters::parse_registration_number(registration_number)?;
    let election = election.trim();
    if election.is_empty() {
        return Err(ServerError::Invalid("election: give the election's id".into()));
    }
    let election = ElectionId::parse(election).map_err(|error| ServerError::Invalid(format!("election: {error}")))?;
    Ok(BallotRequest {
        jurisdiction,
        registration_number,
        election,
        step: BallotStep::parse(step, decision, reason)?,
        on: date("on", on)?,
    })
}

/// Records the next step of a voter's absentee or provisional ballot. The ballot rules refuse
/// with 422 `ballot_step_refused` and a sentence saying what the ballot may do next (e.g. a
/// cure after the cure deadline, or a ballot accepted before it was returned); the step and any
/// refusal are ledger entries.
#[utoipa::path(post, path = "/api/jurisdictions/{id}/voters/{voter}/ballots", tag = "voters",
    params(("id" = String, Path), ("voter" = String, Path, description = "the registration number")),
    request_body = BallotStepBody, responses(
    (status = 201, body = BallotView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, description = "no such voter, or no ballot to move", body = ErrorBody),
    (status = 409, description = "a live ballot of this kind exists, or the status changed meanwhile", body = ErrorBody),
    (status = 422, description = "refused by the ballot rules, or an unknown election", body = ErrorBody)))]
pub async fn record_ballot_step(
    State(node): State<Node>,
    audit: Audit,
    ApiPath((id, voter)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<BallotStepBody>,
) -> Result<(StatusCode, Json<BallotView>), ServerError> {
    let jurisdiction = JurisdictionId::parse(&id)?;
    let request = ballot_request(
        jurisdiction.clone(),
        &voter,
        &body.election,
        &body.step,
        body.decision.as_deref(),
        body.reason.as_deref(),
        body.on.as_deref(),
    )?;
    let stored = ballots::record(node.store(), &audit, &request).await?;
    tracing::info!(%jurisdiction, step = request.step.as_str(), "ballot step recorded");
    let found = ballots::voter_ballots(node.store(), &jurisdiction, &request.registration_number).await?;
    let view = found
        .iter()
        .find(|ballot| ballot.ballot.id == stored.id)
        .map(BallotView::from)
        .ok_or_else(|| ServerError::Internal("a ballot just recorded could not be read back".into()))?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A voter's absentee and provisional ballots, oldest first, each with its history: status
/// codes, dates, cure deadline, who recorded each step, and the line the voter sees on the
/// public "Did my ballot count?" page.
#[utoipa::path(get, path = "/api/jurisdictions/{id}/voters/{voter}/ballots", tag = "voters",
    params(("id" = String, Path), ("voter" = String, Path, description = "the registration number")),
    responses((status = 200, body = [BallotView]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn voter_ballots(
    State(node): State<Node>,
    ApiPath((id, voter)): ApiPath<(String, String)>,
) -> Result<Json<Vec<BallotView>>, ServerError> {
    let jurisdiction = JurisdictionId::parse(&id)?;
    let found = ballots::voter_ballots(node.store(), &jurisdiction, &voter).await?;
    Ok(Json(found.iter().map(BallotView::from).collect()))
}
