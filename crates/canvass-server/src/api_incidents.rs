//! The incident register's admin API: one incident with its timeline, opening one by hand,
//! adding an update; and the refusal of every attempt to replace or delete one (405, recorded
//! as a denied `incident.update` entry). The listing is `GET /api/incidents` in `api_staff`.

use axum::{
    Json,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use canvass_core::{
    access::Operation,
    audit::Action,
    id::JurisdictionId,
    incidents::{DataClass, IncidentStatus, Severity},
};
use canvass_store::{StoredIncident, StoredIncidentUpdate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    Node, ServerError,
    access::Principal,
    api::{ApiJson, ApiPath},
    api_staff::IncidentBody,
    error::ErrorBody,
    incidents::{self, IncidentChange, NewIncident, Register},
    ledger::{Audit, target},
};

pub fn router() -> OpenApiRouter<Node> {
    OpenApiRouter::new()
        .routes(routes!(open_incident))
        .routes(routes!(show_incident, replace_incident, delete_incident))
        .routes(routes!(add_update))
}

/// One entry of an incident's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct UpdateBody {
    pub sequence: u32,
    pub at: i64,
    /// `user:NAME`, `token:ID`, `operator` or `system` (a detector).
    pub author: String,
    pub status: String,
    pub severity: String,
    pub records_affected: u64,
    pub data_classes: Vec<String>,
    pub actions_taken: String,
    pub public_text: String,
    pub internal_text: String,
}

impl From<StoredIncidentUpdate> for UpdateBody {
    fn from(update: StoredIncidentUpdate) -> Self {
        Self {
            sequence: update.sequence,
            at: update.at,
            author: update.author,
            status: update.status,
            severity: update.severity,
            records_affected: update.records_affected,
            data_classes: update.data_classes,
            actions_taken: update.actions_taken,
            public_text: update.public_text,
            internal_text: update.internal_text,
        }
    }
}

/// An incident and its timeline, oldest update first.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentDetail {
    pub incident: IncidentBody,
    pub updates: Vec<UpdateBody>,
}

/// An incident opened by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIncidentBody {
    /// The jurisdiction it concerns; absent for the whole node (node-wide administrators only).
    pub jurisdiction: Option<String>,
    /// low, medium, high or critical.
    pub severity: String,
    /// What happened, without personal values.
    pub summary: String,
    /// When it was detected, Unix milliseconds; now if absent.
    pub detected_at: Option<i64>,
    /// voter_confidential, voter_public, results, ledger, credentials, backup.
    #[serde(default)]
    pub data_classes: Vec<String>,
    /// How many records were affected (a count, never the records).
    #[serde(default)]
    pub records_affected: u64,
    #[serde(default)]
    pub actions_taken: String,
}

/// An update: any of the incident's values, and notes. An update must change something or say
/// something.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequestBody {
    /// investigating, contained or closed (a closed incident is reopened as investigating).
    pub status: Option<String>,
    pub severity: Option<String>,
    pub records_affected: Option<u64>,
    /// Replaces the list.
    pub data_classes: Option<Vec<String>>,
    /// Replaces the text.
    pub actions_taken: Option<String>,
    /// For the public transparency report: no personal values, no detail that helps an attacker.
    #[serde(default)]
    pub public_text: String,
    /// For the office only.
    #[serde(default)]
    pub internal_text: String,
}

fn classes(names: &[String]) -> Result<Vec<DataClass>, ServerError> {
    let mut parsed = names
        .iter()
        .map(|name| DataClass::parse(name).map_err(|error| ServerError::Invalid(format!("data_classes: {error}"))))
        .collect::<Result<Vec<_>, _>>()?;
    parsed.sort();
    parsed.dedup();
    Ok(parsed)
}

/// The request's fields parsed, naming the one that is wrong.
pub fn parse_change(body: UpdateRequestBody) -> Result<IncidentChange, ServerError> {
    Ok(IncidentChange {
        status: body
            .status
            .as_deref()
            .map(|status| {
                IncidentStatus::parse(status).map_err(|error| ServerError::Invalid(format!("status: {error}")))
            })
            .transpose()?,
        severity: body
            .severity
            .as_deref()
            .map(|severity| {
                Severity::parse(severity).map_err(|error| ServerError::Invalid(format!("severity: {error}")))
            })
            .transpose()?,
        records_affected: body.records_affected,
        data_classes: body.data_classes.as_deref().map(classes).transpose()?,
        actions_taken: body.actions_taken,
        public_text: body.public_text,
        internal_text: body.internal_text,
    })
}

/// The body parsed, naming the field that is wrong.
pub fn parse_new(body: NewIncidentBody) -> Result<NewIncident, ServerError> {
    Ok(NewIncident {
        jurisdiction: body
            .jurisdiction
            .as_deref()
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(|text| {
                JurisdictionId::parse(text).map_err(|error| ServerError::Invalid(format!("jurisdiction: {error}")))
            })
            .transpose()?,
        severity: Severity::parse(&body.severity)
            .map_err(|error| ServerError::Invalid(format!("severity: {error}")))?,
        summary: body.summary,
        detected_at: body.detected_at,
        data_classes: classes(&body.data_classes)?,
        records_affected: body.records_affected,
        actions_taken: body.actions_taken,
    })
}

/// Checks the caller may do `operation` where the incident is (node-wide incidents need a
/// node-wide grant); a refusal is an `access.denied` entry.
pub async fn authorize_on(
    node: &Node,
    audit: &Audit,
    principal: &Principal,
    operation: Operation,
    jurisdiction: Option<&JurisdictionId>,
) -> Result<(), ServerError> {
    match jurisdiction {
        Some(jurisdiction) => principal.authorize(node, audit, operation, Some(jurisdiction)).await.map(|_| ()),
        None => principal.authorize_node_wide(audit, operation).await.map(|_| ()),
    }
}

/// An incident the caller may see (`ledger.search` where it is), with its timeline.
pub async fn visible_detail(
    node: &Node,
    audit: &Audit,
    principal: &Principal,
    id: &str,
) -> Result<(StoredIncident, Vec<StoredIncidentUpdate>), ServerError> {
    let incident = incidents::find(node.store(), id).await?;
    authorize_on(node, audit, principal, Operation::SearchLedger, incident.jurisdiction.as_ref()).await?;
    let updates = node.store().incident_updates(id).await?;
    Ok((incident, updates))
}

/// One incident with its timeline (`ledger.search` on its jurisdiction).
#[utoipa::path(get, path = "/api/incidents/{id}", tag = "audit", params(("id" = String, Path)), responses(
    (status = 200, body = IncidentDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn show_incident(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<IncidentDetail>, ServerError> {
    let (incident, updates) = visible_detail(&node, &audit, &principal, &id).await?;
    Ok(Json(IncidentDetail { incident: incident.into(), updates: updates.into_iter().map(Into::into).collect() }))
}

/// Opens an incident by hand (`incidents.manage` on its jurisdiction). The administrators of
/// the jurisdiction and of its state are told by email.
#[utoipa::path(post, path = "/api/incidents", tag = "audit", request_body = NewIncidentBody, responses(
    (status = 201, body = IncidentBody), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 422, body = ErrorBody)))]
pub async fn open_incident(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiJson(body): ApiJson<NewIncidentBody>,
) -> Result<(StatusCode, Json<IncidentBody>), ServerError> {
    let new = parse_new(body)?;
    authorize_on(&node, &audit, &principal, Operation::ManageIncidents, new.jurisdiction.as_ref()).await?;
    let incident = incidents::open_by_hand(&Register::of_node(&node), &audit, new).await?;
    Ok((StatusCode::CREATED, Json(incident.into())))
}

/// Adds an update (`incidents.manage` on the incident's jurisdiction). A raised severity or a
/// reopening notifies the administrators again. Refused transitions answer 403 `refused`.
#[utoipa::path(post, path = "/api/incidents/{id}/updates", tag = "audit", params(("id" = String, Path)),
    request_body = UpdateRequestBody, responses(
    (status = 201, body = IncidentDetail), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn add_update(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateRequestBody>,
) -> Result<(StatusCode, Json<IncidentDetail>), ServerError> {
    let change = parse_change(body)?;
    let incident = incidents::find(node.store(), &id).await?;
    authorize_on(&node, &audit, &principal, Operation::ManageIncidents, incident.jurisdiction.as_ref()).await?;
    let updated = incidents::update(&Register::of_node(&node), &audit, &id, change).await?;
    let updates = node.store().incident_updates(&id).await?;
    Ok((
        StatusCode::CREATED,
        Json(IncidentDetail { incident: updated.into(), updates: updates.into_iter().map(Into::into).collect() }),
    ))
}

/// Replacing an incident is not possible: 405, and the attempt is a denied `incident.update`.
#[utoipa::path(put, path = "/api/incidents/{id}", tag = "audit", params(("id" = String, Path)), responses(
    (status = 405, description = "incidents change only through updates", body = ErrorBody)))]
pub async fn replace_incident(audit: Audit, ApiPath(id): ApiPath<String>) -> Response {
    refuse_rewrite(&audit, &id, "replace").await
}

/// Deleting an incident is not possible: 405, and the attempt is a denied `incident.update`.
#[utoipa::path(delete, path = "/api/incidents/{id}", tag = "audit", params(("id" = String, Path)), responses(
    (status = 405, description = "incidents are never deleted", body = ErrorBody)))]
pub async fn delete_incident(audit: Audit, ApiPath(id): ApiPath<String>) -> Response {
    refuse_rewrite(&audit, &id, "delete").await
}

/// Records the attempt (the id only if it is a plausible one) and answers 405 with `Allow`.
pub async fn refuse_rewrite(audit: &Audit, id: &str, what: &str) -> Response {
    let message = format!("an incident cannot be {what}d: it changes only through updates, and is never removed");
    let entry = audit.entry(Action::IncidentUpdate);
    let plausible = id.len() <= 64 && id.chars().all(|character| character.is_ascii_alphanumeric() || character == '-');
    let entry = if plausible { target(entry, format!("incident:{id}")) } else { Ok(entry) };
    let recorded = match entry {
        Ok(entry) => audit.refuse(entry, ServerError::Refused(message.clone())).await,
        Err(error) => error,
    };
    if !matches!(recorded, ServerError::Refused(_)) {
        // The refusal could not be recorded: say so rather than refuse silently.
        return recorded.into_response();
    }
    let body = ErrorBody { error: crate::error::ErrorDetail { code: "method_not_allowed".into(), message } };
    let mut response = (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response();
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET"));
    response
}
