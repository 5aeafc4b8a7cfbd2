//! The admin API of a jurisdiction's roll: staff search (by name, registration number, driver's
//! licence number, or SSN last four with last name and birth date; confidential fields only with
//! a written reason) and voter status changes under the NVRA rules, with their history.

use std::collections::BTreeMap;

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use canvass_core::{id::JurisdictionId, lifecycle::StatusReason, voter::VoterStatus};
use canvass_store::StoredStatusChange;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::{IntoParams, ToSchema};

use crate::{
    Node, ServerError,
    access::{JUSTIFICATION_HEADER, Principal},
    api::{ApiJson, ApiPath, ApiQuery},
    error::ErrorBody,
    ledger::Audit,
    roll::RollRecord,
    roll_search::{self, SearchFields, SearchQuery},
    voter_status::{self, StatusChangeRequest},
};

/// What to search for. Give one of: `last_name` and `first_name` (optionally `birth_date`,
/// `county`); `registration_number`; `drivers_license`; or `ssn4` with `last_name` and
/// `birth_date`.
#[derive(Deserialize, IntoParams)]
pub struct VoterSearch {
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    /// YYYY-MM-DD or MM/DD/YYYY.
    pub birth_date: Option<String>,
    /// Only voters of this county (a jurisdiction id).
    pub county: Option<String>,
    pub registration_number: Option<String>,
    pub drivers_license: Option<String>,
    /// The SSN's last four digits, with `last_name` and `birth_date`.
    pub ssn4: Option<String>,
    /// Also show confidential fields: needs `voters.read` and a `reason`, and every record
    /// returned is a confidential read (in the ledger, counted against the hourly limit).
    #[serde(default)]
    pub confidential: bool,
    /// Why confidential fields are opened, kept in the ledger entry. The
    /// `x-canvass-justification` header is accepted instead.
    pub reason: Option<String>,
}

// The query holds personal values: Debug names none of them.
impl std::fmt::Debug for VoterSearch {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("VoterSearch").field("confidential", &self.confidential).finish_non_exhaustive()
    }
}

impl VoterSearch {
    pub fn fields(&self) -> SearchFields<'_> {
        SearchFields {
            last_name: self.last_name.as_deref(),
            first_name: self.first_name.as_deref(),
            birth_date: self.birth_date.as_deref(),
            county: self.county.as_deref(),
            registration_number: self.registration_number.as_deref(),
            drivers_license: self.drivers_license.as_deref(),
            ssn4: self.ssn4.as_deref(),
        }
    }
}

/// A voter as the caller may see it: public-record fields always; the confidential ones only
/// in a confidential search (absent otherwise).
#[derive(Serialize, ToSchema)]
pub struct VoterBody {
    pub registration_number: String,
    pub county: String,
    pub precinct: String,
    pub first_name: String,
    pub last_name: String,
    pub party: String,
    pub status: String,
    pub registered_on: String,
    /// The voter is in the address confidentiality program: the address is shown only in a
    /// confidential search.
    pub address_confidential: bool,
    /// Public-record columns of the voter file by name (empty ones left out).
    pub details: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssn_last_four: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drivers_license: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl std::fmt::Debug for VoterBody {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("VoterBody")
            .field("registration_number", &self.registration_number)
            .finish_non_exhaustive()
    }
}

impl From<RollRecord> for VoterBody {
    fn from(record: RollRecord) -> Self {
        Self {
            registration_number: record.registration_number,
            county: record.county,
            precinct: record.precinct,
            first_name: record.first_name,
            last_name: record.last_name,
            party: record.party,
            status: record.status.as_str().to_owned(),
            registered_on: record.registered_on,
            address_confidential: record.address_confidential,
            details: record.details.into_iter().collect(),
            birth_date: record.birth_date,
            ssn_last_four: record.ssn_last_four,
            drivers_license: record.drivers_license,
            email: record.email,
        }
    }
}

/// The written reason of a confidential search: the `reason` field or, as older clients send
/// it, the justification header. `None` when the search is not confidential.
pub(crate) fn confidential_reason<'a>(
    confidential: bool,
    reason: Option<&'a str>,
    header: Option<&'a str>,
) -> Result<Option<&'a str>, ServerError> {
    if !confidential {
        return Ok(None);
    }
    let reason = reason.or(header).map(str::trim).filter(|text| !text.is_empty());
    match reason {
        Some(text) if text.chars().count() > 500 => Err(ServerError::Invalid("reason: at most 500 characters".into())),
        Some(text) => Ok(Some(text)),
        None => Err(ServerError::Invalid(
            "reason: a confidential search needs a written reason; it is kept in the ledger".into(),
        )),
    }
}

/// Finds voters of a jurisdiction. Results carry public-record fields; with `confidential=true`
/// and a `reason`, confidential fields too, for roles allowed `voters.read`: each record is then
/// a `voter.read` ledger entry carrying the reason, counted against the caller's hourly limit
/// (crossing it suspends the account).
#[utoipa::path(get, path = "/api/jurisdictions/{id}/voters", tag = "voters",
    params(("id" = String, Path), VoterSearch), responses(
    (status = 200, body = [VoterBody]), (status = 400, description = "a field is missing or invalid; the message names it", body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 423, body = ErrorBody)))]
pub async fn search_voters(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiQuery(search): ApiQuery<VoterSearch>,
) -> Result<Json<Vec<VoterBody>>, ServerError> {
    let jurisdiction = JurisdictionId::parse(&id)?;
    let query = SearchQuery::from_fields(search.fields())?;
    let header = headers.get(JUSTIFICATION_HEADER).and_then(|value| value.to_str().ok());
    let reason = confidential_reason(search.confidential, search.reason.as_deref(), header)?;
    let found = roll_search::search_as(&node, &audit, &principal, &jurisdiction, &query, reason).await?;
    Ok(Json(found.into_iter().map(VoterBody::from).collect()))
}

/// A status change asked for: codes and dates, no personal value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChangeBody {
    /// active, inactive, removed, denied or temporary.
    pub status: String,
    /// The NVRA reason code (e.g. `death`, `change_of_address_after_notice`).
    pub reason: String,
    /// The day it takes effect, YYYY-MM-DD; today if absent. Not in the future.
    pub effective: Option<String>,
    /// When the confirmation notice was mailed, YYYY-MM-DD.
    pub notice_sent: Option<String>,
    /// The voter's latest contact (voted, updated the registration, answered), YYYY-MM-DD.
    pub last_contact: Option<String>,
}

/// A stored status change.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusChangeView {
    pub id: i64,
    pub registration_number: String,
    pub jurisdiction: String,
    pub from: String,
    pub to: String,
    pub reason: String,
    pub reason_description: String,
    pub statute: String,
    pub effective_on: String,
    pub notice_sent: Option<String>,
    pub last_contact: Option<String>,
    pub actor: String,
    /// Unix milliseconds.
    pub recorded_at: i64,
}

impl From<StoredStatusChange> for StatusChangeView {
    fn from(change: StoredStatusChange) -> Self {
        Self {
            id: change.id,
            registration_number: change.registration_number,
            jurisdiction: change.jurisdiction.into(),
            from: change.from.as_str().to_owned(),
            to: change.to.as_str().to_owned(),
            reason: change.reason.as_str().to_owned(),
            reason_description: change.reason.description().to_owned(),
            statute: change.reason.statute().to_owned(),
            effective_on: change.effective_on.to_string(),
            notice_sent: change.confirmation_notice_sent.map(|date| date.to_string()),
            last_contact: change.last_contact.map(|date| date.to_string()),
            actor: change.actor,
            recorded_at: change.recorded_at,
        }
    }
}

pub(crate) fn date(field: &str, text: Option<&str>) -> Result<Option<Date>, ServerError> {
    text.map(str::trim)
        .filter(|text| !text.is_empty())
        .map(|text| {
            canvass_formats::ncvoter::parse_date(text)
                .map_err(|reason| ServerError::Invalid(format!("{field}: {reason}")))
        })
        .transpose()
}

/// A registration number as typed, trimmed. Registration numbers are ids (NCIDs such as
/// `AA123456`, or an older file's county-prefixed `NC092-123`): anything else cannot name a
/// voter and is not written into the ledger.
pub(crate) fn parse_registration_number(text: &str) -> Result<String, ServerError> {
    let registration_number = text.trim().to_owned();
    let plausible = (1..=40).contains(&registration_number.len())
        && registration_number.chars().all(|character| character.is_ascii_alphanumeric() || character == '-');
    if !plausible {
        return Err(ServerError::Invalid("registration_number: expected 1-40 letters, digits or hyphens".into()));
    }
    Ok(registration_number)
}

/// Turns the fields of a form or JSON body into a request, naming the field that is wrong.
pub(crate) fn status_request(
    jurisdiction: JurisdictionId,
    registration_number: String,
    status: &str,
    reason: &str,
    dates: [Option<&str>; 3],
) -> Result<StatusChangeRequest, ServerError> {
    let [effective, notice_sent, last_contact] = dates;
    let registration_number = parse_registration_number(&registration_number)?;
    Ok(StatusChangeRequest {
        jurisdiction,
        registration_number,
        to: VoterStatus::parse(status.trim()).map_err(|error| ServerError::Invalid(format!("status: {error}")))?,
        reason: StatusReason::parse(reason.trim()).map_err(|error| ServerError::Invalid(format!("reason: {error}")))?,
        effective_on: date("effective", effective)?,
        confirmation_notice_sent: date("notice_sent", notice_sent)?,
        last_contact: date("last_contact", last_contact)?,
    })
}

/// Changes a voter's status with an NVRA reason code. The rules refuse with 422 and the rule's
/// sentence (e.g. a systematic removal inside the 90 days before a federal election, with the
/// day removals may resume); the change and any refusal are ledger entries.
#[utoipa::path(post, path = "/api/jurisdictions/{id}/voters/{voter}/status", tag = "voters",
    params(("id" = String, Path), ("voter" = String, Path, description = "the registration number")),
    request_body = StatusChangeBody, responses(
    (status = 201, body = StatusChangeView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody), (status = 409, description = "the status changed meanwhile", body = ErrorBody),
    (status = 422, description = "refused by an NVRA list-maintenance rule", body = ErrorBody)))]
pub async fn change_voter_status(
    State(node): State<Node>,
    audit: Audit,
    ApiPath((id, voter)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<StatusChangeBody>,
) -> Result<(StatusCode, Json<StatusChangeView>), ServerError> {
    let jurisdiction = JurisdictionId::parse(&id)?;
    let dates = [body.effective.as_deref(), body.notice_sent.as_deref(), body.last_contact.as_deref()];
    let request = status_request(jurisdiction, voter, &body.status, &body.reason, dates)?;
    let stored = voter_status::change_status(node.store(), &audit, &request).await?;
    tracing::info!(jurisdiction = %stored.jurisdiction, reason = stored.reason.as_str(), "voter status changed");
    Ok((StatusCode::CREATED, Json(stored.into())))
}

/// A voter's status changes, oldest first: reason codes, dates and who made them.
#[utoipa::path(get, path = "/api/jurisdictions/{id}/voters/{voter}/status", tag = "voters",
    params(("id" = String, Path), ("voter" = String, Path, description = "the registration number")),
    responses((status = 200, body = [StatusChangeView]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn voter_status_history(
    State(node): State<Node>,
    ApiPath((id, voter)): ApiPath<(String, String)>,
) -> Result<Json<Vec<StatusChangeView>>, ServerError> {
    let jurisdiction = JurisdictionId::parse(&id)?;
    let changes = voter_status::history(node.store(), &jurisdiction, &voter).await?;
    Ok(Json(changes.into_iter().map(Into::into).collect()))
}
