//! The admin API of the access layer: staff accounts and grants, API tokens, two-person
//! requests, break-glass access and incidents (voter search and status changes are in
//! `api_voters`).

use axum::{
    Json,
    extract::{FromRequestParts, State},
    http::{StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use canvass_core::{
    access::{Grant, Operation, RequestKind, RequestStatus, StaffRole},
    credential::{EmailAddress, Username},
    id::JurisdictionId,
};
use canvass_crypto::SecretString;
use canvass_store::{StoredIncident, StoredRequest, StoredToken};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    Node, ServerError,
    access::Principal,
    api::{ApiJson, ApiPath, ApiQuery},
    error::ErrorBody,
    ledger::Audit,
    requests::{self, Completed, NewRequest},
    staff,
};

impl FromRequestParts<Node> for Principal {
    type Rejection = ServerError;

    /// The caller the authentication layer resolved; routes that take one are never open.
    async fn from_request_parts(parts: &mut Parts, _node: &Node) -> Result<Self, ServerError> {
        parts.extensions.get::<Principal>().cloned().ok_or(ServerError::Unauthorized)
    }
}

fn optional_jurisdiction(value: Option<&str>) -> Result<Option<JurisdictionId>, ServerError> {
    Ok(value.filter(|text| !text.is_empty()).map(JurisdictionId::parse).transpose()?)
}

/// A role held on a jurisdiction (or the node).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GrantBody {
    pub role: String,
    /// Absent: the whole node.
    pub jurisdiction: Option<String>,
    /// Unix milliseconds, for emergency grants.
    pub expires_at: Option<i64>,
    pub emergency: bool,
}

impl From<&Grant> for GrantBody {
    fn from(grant: &Grant) -> Self {
        Self {
            role: grant.role.as_str().to_owned(),
            jurisdiction: grant.jurisdiction.as_ref().map(|id| id.as_str().to_owned()),
            expires_at: grant.expires_at,
            emergency: grant.emergency,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserBody {
    pub username: String,
    pub email: Option<String>,
    pub suspended: bool,
    pub second_factor: bool,
    pub grants: Vec<GrantBody>,
}

/// Staff accounts with their grants.
#[utoipa::path(get, path = "/api/users", tag = "staff", responses((status = 200, body = [UserBody]), (status = 403, body = ErrorBody)))]
pub async fn list_users(State(node): State<Node>, principal: Principal) -> Result<Json<Vec<UserBody>>, ServerError> {
    Ok(Json(users(&node, &principal).await?))
}

/// The accounts the caller may manage: those holding a role where the caller manages staff
/// (accounts with no role yet only for node-wide managers), and the caller's own.
pub async fn users(node: &Node, principal: &Principal) -> Result<Vec<UserBody>, ServerError> {
    let grants = node.store().all_grants().await?;
    let mut visible = Vec::new();
    for account in node.store().staff_accounts().await? {
        let held: Vec<&Grant> =
            grants.iter().filter(|(name, _)| *name == account.username).map(|(_, grant)| grant).collect();
        let mut shown = account.username == principal.username;
        if held.is_empty() {
            shown |= principal.may(node, Operation::ManageStaff, None).await?;
        }
        for grant in held {
            if !shown {
                shown = principal.may(node, Operation::ManageStaff, grant.jurisdiction.as_ref()).await?;
            }
        }
        if shown {
            visible.push(account);
        }
    }
    Ok(visible
        .into_iter()
        .map(|account| UserBody {
            grants: grants
                .iter()
                .filter(|(name, _)| *name == account.username)
                .map(|(_, grant)| grant.into())
                .collect(),
            username: account.username.to_string(),
            email: account.email.map(String::from),
            suspended: account.suspended,
            second_factor: account.totp_secret.is_some(),
        })
        .collect())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUserBody {
    pub username: String,
    pub email: Option<String>,
    /// At least 12 characters, not a well-known password.
    pub password: String,
    pub role: String,
    /// Absent: the whole node.
    pub jurisdiction: Option<String>,
    /// Required when the role is an administrator role: the grant becomes a two-person request.
    pub justification: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewUserReply {
    pub username: String,
    /// Set when the role waits for a second administrator's approval.
    pub request: Option<String>,
}

/// What adding a user did.
pub struct AddedUser {
    pub request: Option<StoredRequest>,
}

/// Adds a staff account and grants its role: directly for non-administrator roles, through a
/// two-person request for administrator roles.
pub async fn add_user(
    node: &Node,
    audit: &Audit,
    principal: &Principal,
    body: NewUserBody,
) -> Result<AddedUser, ServerError> {
    let username = Username::parse(&body.username)?;
    let email = body.email.as_deref().filter(|text| !text.is_empty()).map(EmailAddress::parse).transpose()?;
    let role = StaffRole::parse(&body.role)?;
    let jurisdiction = optional_jurisdiction(body.jurisdiction.as_deref())?;
    match &jurisdiction {
        Some(jurisdiction) => {
            crate::service::require_jurisdiction(node.store(), jurisdiction).await?;
            principal.authorize(node, audit, Operation::ManageStaff, Some(jurisdiction)).await?;
        }
        None => {
            principal.authorize_node_wide(audit, Operation::ManageStaff).await?;
        }
    }
    if role.is_administrator() && jurisdiction.is_none() {
        return Err(ServerError::Invalid(
            "administrator roles are granted on a jurisdiction; node-wide administrators come from `canvass init`"
                .into(),
        ));
    }
    let justification = body.justification.unwrap_or_default();
    if role.is_administrator() && justification.trim().is_empty() {
        return Err(ServerError::JustificationRequired);
    }
    staff::add_account(node.store(), audit, &username, email, SecretString::from(body.password)).await?;
    match jurisdiction {
        Some(jurisdiction) if role.is_administrator() => {
            let request = NewRequest {
                kind: RequestKind::GrantAdministrator,
                jurisdiction,
                subject: format!("{username}:{role}"),
                justification,
            };
            Ok(AddedUser { request: Some(requests::create(node, audit, principal, request).await?) })
        }
        jurisdiction => {
            staff::grant(node.store(), audit, &username, &Grant::permanent(role, jurisdiction)).await?;
            Ok(AddedUser { request: None })
        }
    }
}

/// Adds a staff account; an administrator role becomes a two-person request (202).
#[utoipa::path(post, path = "/api/users", tag = "staff", request_body = NewUserBody, responses(
    (status = 201, body = NewUserReply), (status = 202, description = "the administrator role awaits approval", body = NewUserReply),
    (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_user(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiJson(body): ApiJson<NewUserBody>,
) -> Result<(StatusCode, Json<NewUserReply>), ServerError> {
    let username = body.username.clone();
    let added = add_user(&node, &audit, &principal, body).await?;
    let status = if added.request.is_some() { StatusCode::ACCEPTED } else { StatusCode::CREATED };
    Ok((status, Json(NewUserReply { username, request: added.request.map(|request| request.id) })))
}

/// The caller may manage the account only if they may manage staff wherever it holds a role.
pub async fn authorize_over_account(
    node: &Node,
    audit: &Audit,
    principal: &Principal,
    username: &Username,
) -> Result<(), ServerError> {
    if node.store().staff_account(username).await?.is_none() {
        return Err(ServerError::NotFound(format!("no staff account {username}")));
    }
    let grants = node.store().grants(username).await?;
    if grants.is_empty() {
        principal.authorize_node_wide(audit, Operation::ManageStaff).await?;
    }
    for grant in grants {
        match &grant.jurisdiction {
            Some(jurisdiction) => principal.authorize(node, audit, Operation::ManageStaff, Some(jurisdiction)).await?,
            None => principal.authorize_node_wide(audit, Operation::ManageStaff).await?,
        };
    }
    Ok(())
}

/// Which change an account route makes.
#[derive(Debug, Clone, Copy)]
pub enum AccountChange {
    Suspend,
    Reinstate,
    ResetSecondFactor,
}

pub async fn change_account(
    node: &Node,
    audit: &Audit,
    principal: &Principal,
    username: &str,
    change: AccountChange,
) -> Result<(), ServerError> {
    let username = Username::parse(username)?;
    authorize_over_account(node, audit, principal, &username).await?;
    let store = node.store();
    match change {
        AccountChange::Suspend => staff::suspend(store, audit, &username, "administrator").await,
        AccountChange::Reinstate => staff::reinstate(store, audit, &username).await,
        AccountChange::ResetSecondFactor => staff::reset_second_factor(store, audit, &username).await,
    }
}

/// Suspends an account: it cannot sign in, and its sessions end at once.
#[utoipa::path(post, path = "/api/users/{username}/suspend", tag = "staff", params(("username" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn suspend_user(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(username): ApiPath<String>,
) -> Result<StatusCode, ServerError> {
    change_account(&node, &audit, &principal, &username, AccountChange::Suspend).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reinstates a suspended account.
#[utoipa::path(post, path = "/api/users/{username}/reinstate", tag = "staff", params(("username" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reinstate_user(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(username): ApiPath<String>,
) -> Result<StatusCode, ServerError> {
    change_account(&node, &audit, &principal, &username, AccountChange::Reinstate).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Forgets an account's second factor; its next sign-in enrols a new one.
#[utoipa::path(post, path = "/api/users/{username}/reset-mfa", tag = "staff", params(("username" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reset_user_mfa(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(username): ApiPath<String>,
) -> Result<StatusCode, ServerError> {
    change_account(&node, &audit, &principal, &username, AccountChange::ResetSecondFactor).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenBody {
    pub id: String,
    pub label: String,
    pub owner: String,
    pub role: String,
    pub jurisdiction: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked: bool,
}

impl From<StoredToken> for TokenBody {
    fn from(token: StoredToken) -> Self {
        Self {
            id: token.id,
            label: token.label,
            owner: token.owner.to_string(),
            role: token.role.as_str().to_owned(),
            jurisdiction: token.jurisdiction.map(String::from),
            created_at: token.created_at,
            expires_at: token.expires_at,
            revoked: token.revoked,
        }
    }
}

/// API tokens (never their secrets), newest first.
#[utoipa::path(get, path = "/api/tokens", tag = "staff", responses((status = 200, body = [TokenBody])))]
pub async fn list_tokens(State(node): State<Node>, principal: Principal) -> Result<Json<Vec<TokenBody>>, ServerError> {
    let mut visible = Vec::new();
    for token in node.store().api_tokens().await? {
        if token.owner == principal.username
            || principal.may(&node, Operation::ManageTokens, token.jurisdiction.as_ref()).await?
        {
            visible.push(token.into());
        }
    }
    Ok(Json(visible))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTokenBody {
    pub label: String,
    /// One of the caller's own roles.
    pub role: String,
    /// Absent: the node (only with a node-wide grant of that role).
    pub jurisdiction: Option<String>,
    /// 1 to 366 days; 30 by default.
    pub days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedTokenBody {
    /// Shown once: only its hash is kept.
    pub token: String,
    pub id: String,
    pub expires_at: i64,
}

/// Issues an API token for a machine, acting as the caller with one of their roles.
#[utoipa::path(post, path = "/api/tokens", tag = "staff", request_body = NewTokenBody, responses(
    (status = 201, body = IssuedTokenBody), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_token(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiJson(body): ApiJson<NewTokenBody>,
) -> Result<(StatusCode, Json<IssuedTokenBody>), ServerError> {
    let role = StaffRole::parse(&body.role)?;
    let jurisdiction = optional_jurisdiction(body.jurisdiction.as_deref())?;
    let days = body.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(ServerError::Invalid("a token lasts 1 to 366 days".into()));
    }
    let label = body.label.trim();
    if label.is_empty() || label.len() > 100 || label.chars().any(char::is_control) {
        return Err(ServerError::Invalid("give the token a label of 1-100 characters".into()));
    }
    principal.authorize(&node, &audit, Operation::ManageTokens, jurisdiction.as_ref()).await?;
    let holds = crate::access::holds_for_token(node.store(), &principal.grants, role, jurisdiction.as_ref()).await?;
    if !holds {
        return Err(ServerError::Refused("a token can only carry a role you hold there yourself".into()));
    }
    let grant = Grant::permanent(role, jurisdiction);
    let (stored, text) =
        crate::access::issue_token(node.store(), &audit, &principal.username, &grant, label, days).await?;
    Ok((StatusCode::CREATED, Json(IssuedTokenBody { token: text, id: stored.id, expires_at: stored.expires_at })))
}

/// Revokes an API token at once. The caller must be allowed to manage tokens where the token
/// acts (its jurisdiction, or the whole node for a node-wide token).
#[utoipa::path(post, path = "/api/tokens/{id}/revoke", tag = "staff", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ServerError> {
    let entry = crate::ledger::target(audit.entry(canvass_core::audit::Action::TokenRevoke), format!("token:{id}"))
        .map_err(|_| ServerError::Invalid("not a token id".into()))?;
    let token = node.store().api_token(&id).await?.ok_or_else(|| ServerError::NotFound(format!("no token {id}")))?;
    match &token.jurisdiction {
        Some(jurisdiction) => principal.authorize(&node, &audit, Operation::ManageTokens, Some(jurisdiction)).await?,
        None => principal.authorize_node_wide(&audit, Operation::ManageTokens).await?,
    };
    audit.run(entry, async { Ok(node.store().revoke_api_token(&id).await?) }).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestBody {
    pub id: String,
    pub kind: String,
    pub requester: String,
    pub jurisdiction: String,
    pub subject: String,
    pub justification: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub status: String,
    pub approver: Option<String>,
}

impl From<StoredRequest> for RequestBody {
    fn from(request: StoredRequest) -> Self {
        Self {
            id: request.id,
            kind: request.kind.as_str().to_owned(),
            requester: request.requester.to_string(),
            jurisdiction: request.jurisdiction.into(),
            subject: request.subject,
            justification: request.justification,
            created_at: request.created_at,
            expires_at: request.expires_at,
            status: request.status.as_str().to_owned(),
            approver: request.approver.map(String::from),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RequestFilter {
    /// pending, approved, rejected or executed.
    pub status: Option<String>,
}

/// Two-person requests, newest first.
#[utoipa::path(get, path = "/api/requests", tag = "approvals", params(RequestFilter), responses((status = 200, body = [RequestBody])))]
pub async fn list_requests(
    State(node): State<Node>,
    principal: Principal,
    ApiQuery(filter): ApiQuery<RequestFilter>,
) -> Result<Json<Vec<RequestBody>>, ServerError> {
    let status = filter.status.as_deref().map(RequestStatus::parse).transpose()?;
    Ok(Json(visible_requests(&node, &principal, status, 200).await?.into_iter().map(Into::into).collect()))
}

/// Requests the caller made or could approve (allowed the same operation there).
pub async fn visible_requests(
    node: &Node,
    principal: &Principal,
    status: Option<RequestStatus>,
    limit: u32,
) -> Result<Vec<StoredRequest>, ServerError> {
    let mut visible = Vec::new();
    for request in node.store().requests(status, limit).await? {
        if request.requester == principal.username
            || principal.may(node, request.kind.operation(), Some(&request.jurisdiction)).await?
        {
            visible.push(request);
        }
    }
    Ok(visible)
}

/// Incidents in the caller's jurisdictions (node-wide ones for node-wide callers).
pub async fn visible_incidents(
    node: &Node,
    principal: &Principal,
    limit: u32,
) -> Result<Vec<StoredIncident>, ServerError> {
    let mut visible = Vec::new();
    for incident in node.store().incidents(limit).await? {
        if principal.may(node, Operation::SearchLedger, incident.jurisdiction.as_ref()).await? {
            visible.push(incident);
        }
    }
    Ok(visible)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewRequestBody {
    /// export_voters, rotate_keys, shred_keys, grant_administrator or certify_results.
    pub kind: String,
    pub jurisdiction: String,
    /// `username:role` for grant_administrator, an election id for certify_results.
    #[serde(default)]
    pub subject: String,
    pub justification: String,
}

/// Makes a two-person request.
#[utoipa::path(post, path = "/api/requests", tag = "approvals", request_body = NewRequestBody, responses(
    (status = 201, body = RequestBody), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_request(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiJson(body): ApiJson<NewRequestBody>,
) -> Result<(StatusCode, Json<RequestBody>), ServerError> {
    let request = NewRequest {
        kind: RequestKind::parse(&body.kind)?,
        jurisdiction: JurisdictionId::parse(&body.jurisdiction)?,
        subject: body.subject,
        justification: body.justification,
    };
    let stored = requests::create(&node, &audit, &principal, request).await?;
    Ok((StatusCode::CREATED, Json(stored.into())))
}

/// Approves a request: someone other than the requester, allowed the same operation there,
/// before it expires.
#[utoipa::path(post, path = "/api/requests/{id}/approve", tag = "approvals", params(("id" = String, Path)), responses(
    (status = 200, body = RequestBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve_request(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RequestBody>, ServerError> {
    Ok(Json(requests::decide(&node, &audit, &principal, &id, true).await?.into()))
}

/// Rejects a request.
#[utoipa::path(post, path = "/api/requests/{id}/reject", tag = "approvals", params(("id" = String, Path)), responses(
    (status = 200, body = RequestBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reject_request(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RequestBody>, ServerError> {
    Ok(Json(requests::decide(&node, &audit, &principal, &id, false).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CompletedBody {
    pub outcome: String,
}

/// Runs an approved request once. An export answers with the CSV file itself.
#[utoipa::path(post, path = "/api/requests/{id}/run", tag = "approvals", params(("id" = String, Path)), responses(
    (status = 200, description = "done; text/csv for an export", body = CompletedBody),
    (status = 403, body = ErrorBody), (status = 409, description = "not approved, expired or already run", body = ErrorBody)))]
pub async fn run_request(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ServerError> {
    let outcome = match requests::run(&node, &audit, &principal, &id).await? {
        Completed::Export { csv, .. } | Completed::AffectedExport { csv, .. } => {
            return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], csv)
                .into_response());
        }
        Completed::Rotated { version, retired } => format!("rotated to key version {version}; retired {retired:?}"),
        Completed::Shredded => "key ring shredded".to_owned(),
        Completed::Granted { username, role } => format!("granted {role} to {username}"),
        Completed::Certified { election } => format!("certified {election}"),
    };
    Ok(Json(CompletedBody { outcome }).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BreakGlassBody {
    pub jurisdiction: String,
    pub justification: String,
    /// How long the access lasts, at most the configured maximum (240 by default).
    pub minutes: u32,
}

/// Opens time-limited emergency administrator access to a jurisdiction.
#[utoipa::path(post, path = "/api/break-glass", tag = "approvals", request_body = BreakGlassBody, responses(
    (status = 201, body = GrantBody), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn open_break_glass(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiJson(body): ApiJson<BreakGlassBody>,
) -> Result<(StatusCode, Json<GrantBody>), ServerError> {
    let jurisdiction = JurisdictionId::parse(&body.jurisdiction)?;
    let grant =
        requests::break_glass(&node, &audit, &principal, &jurisdiction, &body.justification, body.minutes).await?;
    Ok((StatusCode::CREATED, Json((&grant).into())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentBody {
    pub id: String,
    pub jurisdiction: Option<String>,
    pub opened_at: i64,
    pub kind: String,
    pub severity: String,
    pub summary: String,
    pub subject: Option<String>,
    pub records_affected: u64,
    /// open, investigating, contained or closed.
    pub status: String,
    pub detected_at: i64,
    /// voter_confidential, voter_public, results, ledger, credentials, backup.
    pub data_classes: Vec<String>,
    pub actions_taken: String,
    /// Updates so far.
    pub revision: u32,
}

impl From<StoredIncident> for IncidentBody {
    fn from(incident: StoredIncident) -> Self {
        Self {
            id: incident.id,
            jurisdiction: incident.jurisdiction.map(String::from),
            opened_at: incident.opened_at,
            kind: incident.kind,
            severity: incident.severity,
            summary: incident.summary,
            subject: incident.subject.map(String::from),
            records_affected: incident.records_affected,
            status: incident.status,
            detected_at: incident.detected_at,
            data_classes: incident.data_classes,
            actions_taken: incident.actions_taken,
            revision: incident.revision,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct IncidentFilter {
    /// Only incidents recorded for this jurisdiction.
    pub jurisdiction: Option<String>,
    /// Only incidents in this status: open, investigating, contained or closed.
    pub status: Option<String>,
}

/// Security incidents in the caller's jurisdictions, newest first (at most 200).
#[utoipa::path(get, path = "/api/incidents", tag = "audit", params(IncidentFilter),
    responses((status = 200, body = [IncidentBody]), (status = 400, body = ErrorBody)))]
pub async fn list_incidents(
    State(node): State<Node>,
    principal: Principal,
    ApiQuery(filter): ApiQuery<IncidentFilter>,
) -> Result<Json<Vec<IncidentBody>>, ServerError> {
    let status = filter
        .status
        .as_deref()
        .map(|text| {
            canvass_core::incidents::IncidentStatus::parse(text)
                .map_err(|error| ServerError::Invalid(format!("status: {error}")))
        })
        .transpose()?;
    let query = canvass_store::IncidentQuery {
        jurisdiction: optional_jurisdiction(filter.jurisdiction.as_deref())?,
        statuses: status.map(|status| vec![status.as_str().to_owned()]).unwrap_or_default(),
        detector_key: None,
        limit: 200,
    };
    let mut visible = Vec::new();
    for incident in node.store().incidents_matching(&query).await? {
        if principal.may(&node, Operation::SearchLedger, incident.jurisdiction.as_ref()).await? {
            visible.push(IncidentBody::from(incident));
        }
    }
    Ok(Json(visible))
}
