//! Authentication and authorization on the admin listener. Every route is listed once in
//! [`ADMIN_ROUTES`] with the operation it performs and where its jurisdiction comes from; the
//! [`authenticate`] layer resolves the caller (session cookie or API token), refuses a route
//! with no entry (deny by default), checks the anti-forgery token of cookie-authenticated
//! posts, and asks the policy table (`canvass_core::access`). Refusals are ledger entries.

use std::{
    collections::{HashMap, VecDeque},
    net::IpAddr,
    sync::{Arc, Mutex},
};

use axum::{
    body::{Body, to_bytes},
    extract::{ConnectInfo, MatchedPath, RawPathParams, Request, State},
    http::{HeaderMap, Method, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use canvass_core::{
    access::{Decision, Grant, Operation, Rule, decide, requires_second_factor},
    audit::{Action, Actor, now_millis},
    credential::Username,
    id::JurisdictionId,
};
use canvass_crypto::{constant_time_equal, random_token, sha256};
use canvass_store::{Store, StoredSession, StoredToken};

use crate::{
    Node, ServerError,
    ledger::{Audit, target},
};

pub const SESSION_COOKIE: &str = "canvass_session";
/// Cookie-authenticated API calls carry the session's anti-forgery token in this header; forms
/// carry it in a `csrf` field.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The written reason for operations the policy asks one for.
pub const JUSTIFICATION_HEADER: &str = "x-canvass-justification";
/// API tokens read `canvass.<id>.<secret>`: the id names the token in the ledger, the secret is
/// stored only as its SHA-256.
const TOKEN_PREFIX: &str = "canvass.";

/// Where a route's jurisdiction comes from, for the scope check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeFrom {
    /// Node-wide (listings): any grant allowing the operation suffices.
    Node,
    /// A path parameter holding a jurisdiction id.
    Path(&'static str),
    /// An optional query parameter; absent means node-wide.
    Query(&'static str),
    /// The body or the stored record names it: the layer checks the role, the handler the scope.
    Handler,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteAccess {
    /// No sign-in: health probes, the sign-in page, the stylesheet.
    Open,
    /// Any signed-in staff member, whatever their roles (their own account page, sign-out).
    SignedIn,
    Staff(Operation, ScopeFrom),
}

#[derive(Debug, Clone, Copy)]
pub struct RoutePolicy {
    pub method: &'static str,
    pub path: &'static str,
    pub access: RouteAccess,
}

const fn route(method: &'static str, path: &'static str, access: RouteAccess) -> RoutePolicy {
    RoutePolicy { method, path, access }
}

use RouteAccess::{Open, SignedIn, Staff};
use ScopeFrom::{Handler, Node as NodeWide, Path, Query};

/// Every route of the admin listener and what it needs. A route registered without an entry
/// here is refused to everyone, and the authorization matrix test fails on it.
pub const ADMIN_ROUTES: &[RoutePolicy] = &[
    route("GET", "/healthz", Open),
    route("GET", "/readyz", Open),
    route("GET", "/api/openapi.json", Open),
    route("GET", "/assets/canvass.css", Open),
    route("GET", "/login", Open),
    route("POST", "/login", Open),
    route("POST", "/logout", SignedIn),
    route("GET", "/account", SignedIn),
    route("POST", "/account/second-factor", SignedIn),
    route("GET", "/metrics", Staff(Operation::SearchLedger, NodeWide)),
    route("GET", "/", Staff(Operation::ViewNode, NodeWide)),
    route("GET", "/users", Staff(Operation::ManageStaff, NodeWide)),
    route("POST", "/users", Staff(Operation::ManageStaff, Handler)),
    route("POST", "/users/{username}/suspend", Staff(Operation::ManageStaff, Handler)),
    route("POST", "/users/{username}/reinstate", Staff(Operation::ManageStaff, Handler)),
    route("POST", "/users/{username}/reset-mfa", Staff(Operation::ManageStaff, Handler)),
    route("GET", "/approvals", Staff(Operation::ViewNode, NodeWide)),
    route("POST", "/approvals", Staff(Operation::ViewNode, Handler)),
    route("POST", "/approvals/{id}/approve", Staff(Operation::ViewNode, Handler)),
    route("POST", "/approvals/{id}/reject", Staff(Operation::ViewNode, Handler)),
    route("POST", "/break-glass", Staff(Operation::BreakGlass, Handler)),
    route("GET", "/voters", Staff(Operation::SearchVoters, NodeWide)),
    route("GET", "/jurisdictions/{id}/voters", Staff(Operation::SearchVoters, Path("id"))),
    // Confidential fields ask for voters.read in the handler.
    route("POST", "/jurisdictions/{id}/voters", Staff(Operation::SearchVoters, Path("id"))),
    route("GET", "/jurisdictions/{id}/voters/{voter}", Staff(Operation::SearchVoters, Path("id"))),
    route("POST", "/jurisdictions/{id}/voters/{voter}/status", Staff(Operation::ChangeVoterStatus, Path("id"))),
    route("POST", "/jurisdictions/{id}/voters/{voter}/ballots", Staff(Operation::RecordBallots, Path("id"))),
    // The image asks for voters.read (with an administrator's reason) in the handler.
    route("GET", "/jurisdictions/{id}/voters/{voter}/signature", Staff(Operation::SearchVoters, Path("id"))),
    route("POST", "/jurisdictions/{id}/voters/{voter}/signature", Staff(Operation::SetVoterSignature, Path("id"))),
    route("GET", "/jurisdictions/{id}/duplicates", Staff(Operation::FindDuplicates, Path("id"))),
    // Merging also asks for voters.change_status in the handler.
    route("POST", "/jurisdictions/{id}/duplicates/merge", Staff(Operation::DecideDuplicates, Path("id"))),
    route("POST", "/jurisdictions/{id}/duplicates/dismiss", Staff(Operation::DecideDuplicates, Path("id"))),
    route("GET", "/api/node", Staff(Operation::ViewNode, NodeWide)),
    route("GET", "/api/jurisdictions", Staff(Operation::ViewNode, NodeWide)),
    route("POST", "/api/jurisdictions", Staff(Operation::ManageJurisdictions, Handler)),
    route("GET", "/api/jurisdictions/{id}", Staff(Operation::ViewNode, NodeWide)),
    route("GET", "/api/precincts", Staff(Operation::ViewNode, NodeWide)),
    route("POST", "/api/precincts", Staff(Operation::ManageJurisdictions, Handler)),
    route("GET", "/api/elections", Staff(Operation::ViewNode, NodeWide)),
    route("GET", "/api/elections/{id}", Staff(Operation::ViewNode, NodeWide)),
    route("GET", "/api/elections/{id}/definition", Staff(Operation::ViewNode, NodeWide)),
    route("POST", "/api/jurisdictions/{id}/elections", Staff(Operation::DefineElections, Path("id"))),
    route("GET", "/elections", Staff(Operation::ViewNode, NodeWide)),
    // The form names the jurisdiction: the handler checks elections.define on it.
    route("POST", "/elections", Staff(Operation::DefineElections, Handler)),
    route("GET", "/elections/{id}", Staff(Operation::ViewNode, NodeWide)),
    route("GET", "/incidents", Staff(Operation::SearchLedger, NodeWide)),
    route("POST", "/incidents", Staff(Operation::ManageIncidents, Handler)),
    route("GET", "/incidents/{id}", Staff(Operation::SearchLedger, Handler)),
    route("POST", "/incidents/{id}/updates", Staff(Operation::ManageIncidents, Handler)),
    route("GET", "/api/keys", Staff(Operation::ViewKeys, NodeWide)),
    route("POST", "/api/jurisdictions/{id}/unseal", Staff(Operation::OperateKeys, Path("id"))),
    route("POST", "/api/jurisdictions/{id}/seal", Staff(Operation::OperateKeys, Path("id"))),
    route("POST", "/api/voters", Staff(Operation::WriteVoters, Handler)),
    // Public-record fields; a confidential search asks for voters.read in the handler.
    route("GET", "/api/jurisdictions/{id}/voters", Staff(Operation::SearchVoters, Path("id"))),
    route("GET", "/api/jurisdictions/{id}/voters/{voter}/status", Staff(Operation::SearchVoters, Path("id"))),
    route("POST", "/api/jurisdictions/{id}/voters/{voter}/status", Staff(Operation::ChangeVoterStatus, Path("id"))),
    route("GET", "/api/jurisdictions/{id}/voters/{voter}/ballots", Staff(Operation::ReadBallots, Path("id"))),
    route("POST", "/api/jurisdictions/{id}/voters/{voter}/ballots", Staff(Operation::RecordBallots, Path("id"))),
    // A VRI export carries confidential fields: the handler asks for voters.read with the reason.
    route("GET", "/api/jurisdictions/{id}/voters/{voter}/vri", Staff(Operation::SearchVoters, Path("id"))),
    route("GET", "/api/jurisdictions/{id}/voters/{voter}/vote-history", Staff(Operation::SearchVoters, Path("id"))),
    route("GET", "/api/jurisdictions/{id}/duplicates", Staff(Operation::FindDuplicates, Path("id"))),
    route("POST", "/api/jurisdictions/{id}/duplicates/merge", Staff(Operation::DecideDuplicates, Path("id"))),
    route("POST", "/api/jurisdictions/{id}/duplicates/dismiss", Staff(Operation::DecideDuplicates, Path("id"))),
    route("GET", "/api/audit", Staff(Operation::SearchLedger, Query("jurisdiction"))),
    route("GET", "/api/users", Staff(Operation::ManageStaff, NodeWide)),
    route("POST", "/api/users", Staff(Operation::ManageStaff, Handler)),
    route("POST", "/api/users/{username}/suspend", Staff(Operation::ManageStaff, Handler)),
    route("POST", "/api/users/{username}/reinstate", Staff(Operation::ManageStaff, Handler)),
    route("POST", "/api/users/{username}/reset-mfa", Staff(Operation::ManageStaff, Handler)),
    route("GET", "/api/tokens", Staff(Operation::ManageTokens, NodeWide)),
    route("POST", "/api/tokens", Staff(Operation::ManageTokens, Handler)),
    route("POST", "/api/tokens/{id}/revoke", Staff(Operation::ManageTokens, Handler)),
    route("GET", "/api/requests", Staff(Operation::ViewNode, NodeWide)),
    route("POST", "/api/requests", Staff(Operation::ViewNode, Handler)),
    route("POST", "/api/requests/{id}/approve", Staff(Operation::ViewNode, Handler)),
    route("POST", "/api/requests/{id}/reject", Staff(Operation::ViewNode, Handler)),
    route("POST", "/api/requests/{id}/run", Staff(Operation::ViewNode, Handler)),
    route("POST", "/api/break-glass", Staff(Operation::BreakGlass, Handler)),
    route("GET", "/api/incidents", Staff(Operation::SearchLedger, NodeWide)),
    // The incident's own jurisdiction is checked in the handler.
    route("POST", "/api/incidents", Staff(Operation::ManageIncidents, Handler)),
    route("GET", "/api/incidents/{id}", Staff(Operation::SearchLedger, Handler)),
    route("POST", "/api/incidents/{id}/updates", Staff(Operation::ManageIncidents, Handler)),
    // Never allowed: the handlers answer 405 and record the attempt, whoever asks.
    route("PUT", "/api/incidents/{id}", SignedIn),
    route("DELETE", "/api/incidents/{id}", SignedIn),
    // The handler asks for voters.read (with an administrator's reason) on the incident's jurisdiction.
    route("GET", "/api/incidents/{id}/affected", Staff(Operation::ReadVoters, Handler)),
    route("GET", "/incidents/{id}/affected", Staff(Operation::ReadVoters, Handler)),
    // Results: the handler checks results.upload on every county the file names.
    route("POST", "/api/elections/{id}/results", Staff(Operation::UploadResults, Handler)),
    route("GET", "/api/elections/{id}/results", Staff(Operation::ViewNode, NodeWide)),
    route("POST", "/api/elections/{id}/certify", Staff(Operation::ViewNode, Handler)),
    route("GET", "/elections/{id}/results", Staff(Operation::ViewNode, NodeWide)),
    route("POST", "/elections/{id}/results", Staff(Operation::UploadResults, Handler)),
    // UOCAVA: the handler checks ballots.read on the election's jurisdiction, ballots.record
    // on the roll the form names.
    route("GET", "/elections/{id}/uocava", Staff(Operation::ReadBallots, Handler)),
    route("POST", "/elections/{id}/uocava/fwab", Staff(Operation::RecordBallots, Handler)),
    // Held FPCAs: the handler checks voters.write and ballots.record on the request's roll (the
    // list shows the rolls where both are allowed).
    route("GET", "/uocava/pending", Staff(Operation::WriteVoters, Handler)),
    route("GET", "/uocava/pending/{id}", Staff(Operation::WriteVoters, Handler)),
    route("POST", "/uocava/pending/{id}/confirm", Staff(Operation::WriteVoters, Handler)),
    route("POST", "/uocava/pending/{id}/reject", Staff(Operation::WriteVoters, Handler)),
];

/// The entry for a route, if it has one.
pub fn route_policy(method: &Method, path: &str) -> Option<RouteAccess> {
    ADMIN_ROUTES.iter().find(|route| route.method == method.as_str() && route.path == path).map(|route| route.access)
}

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Via {
    Session { id_hash: Vec<u8>, csrf_token: String, second_factor: bool },
    Token { id: String },
}

/// The signed-in caller, put in the request's extensions by [`authenticate`].
#[derive(Debug, Clone)]
pub struct Principal {
    pub username: Username,
    /// Current grants; for a token, only the token's own role and scope, and only while its
    /// owner still holds that role there.
    pub grants: Vec<Grant>,
    pub via: Via,
    /// The account has not yet checked (or enrolled) the second factor its roles require.
    pub second_factor_pending: bool,
}

impl Principal {
    pub fn actor(&self) -> Actor {
        match &self.via {
            Via::Session { .. } => Actor::User(self.username.clone()),
            Via::Token { id } => Actor::Token(id.clone()),
        }
    }

    pub fn csrf_token(&self) -> &str {
        match &self.via {
            Via::Session { csrf_token, .. } => csrf_token,
            Via::Token { .. } => "",
        }
    }

    /// Asks the policy about `operation` on `jurisdiction` (None: node-wide) and records a
    /// refusal in the ledger. Returns the rule that allowed it, for its justification and
    /// second-approver columns.
    pub async fn authorize(
        &self,
        node: &Node,
        audit: &Audit,
        operation: Operation,
        jurisdiction: Option<&JurisdictionId>,
    ) -> Result<Rule, ServerError> {
        let lineage = scope_lineage(node.store(), jurisdiction).await?;
        match decide(&self.grants, operation, &lineage, now_millis()) {
            Decision::Allowed { rule, .. } => Ok(rule),
            Decision::Denied => Err(refuse(audit, operation, jurisdiction).await),
        }
    }

    /// Whether the policy allows `operation` on `jurisdiction` (None: over the whole node), with
    /// no ledger entry: listings use it to show each caller only their own jurisdictions' rows.
    pub async fn may(
        &self,
        node: &Node,
        operation: Operation,
        jurisdiction: Option<&JurisdictionId>,
    ) -> Result<bool, ServerError> {
        let decision = match jurisdiction {
            Some(jurisdiction) => {
                decide(&self.grants, operation, &lineage(node.store(), jurisdiction).await?, now_millis())
            }
            None => self.decide_node_wide(operation),
        };
        Ok(matches!(decision, Decision::Allowed { .. }))
    }

    /// Asks for `operation` over the whole node: only a node-wide grant allows it (adding a
    /// state, managing a node-wide account).
    pub async fn authorize_node_wide(&self, audit: &Audit, operation: Operation) -> Result<Rule, ServerError> {
        match self.decide_node_wide(operation) {
            Decision::Allowed { rule, .. } => Ok(rule),
            Decision::Denied => Err(refuse(audit, operation, None).await),
        }
    }

    /// The policy's answer from the caller's current node-wide grants alone.
    fn decide_node_wide(&self, operation: Operation) -> Decision {
        let now = now_millis();
        let node_wide: Vec<Grant> =
            self.grants.iter().filter(|grant| grant.jurisdiction.is_none() && grant.is_current(now)).cloned().collect();
        decide(&node_wide, operation, &[], now)
    }

    /// Like [`Principal::authorize`], and also requires the written reason and refuses
    /// operations that only run through a two-person request.
    pub async fn authorize_now(
        &self,
        node: &Node,
        audit: &Audit,
        operation: Operation,
        jurisdiction: Option<&JurisdictionId>,
        justification: Option<&str>,
    ) -> Result<(), ServerError> {
        let rule = self.authorize(node, audit, operation, jurisdiction).await?;
        if rule.second_approver {
            let error = ServerError::ApprovalRequired(operation.as_str().to_owned());
            return Err(record_refusal(audit, operation, jurisdiction, error).await);
        }
        if rule.justification && justification.is_none_or(|text| text.trim().is_empty()) {
            return Err(record_refusal(audit, operation, jurisdiction, ServerError::JustificationRequired).await);
        }
        Ok(())
    }
}

/// Records a policy refusal and returns the error to send.
async fn refuse(audit: &Audit, operation: Operation, jurisdiction: Option<&JurisdictionId>) -> ServerError {
    record_refusal(audit, operation, jurisdiction, ServerError::Forbidden).await
}

async fn record_refusal(
    audit: &Audit,
    operation: Operation,
    jurisdiction: Option<&JurisdictionId>,
    error: ServerError,
) -> ServerError {
    let mut entry = audit.entry(Action::AccessDenied);
    if let Some(jurisdiction) = jurisdiction {
        entry = entry.with_jurisdiction(jurisdiction);
    }
    match target(entry, format!("operation:{operation}")) {
        Ok(entry) => audit.refuse(entry, error).await,
        Err(error) => error,
    }
}

/// The jurisdiction followed by its parents up to its state: a grant on any of them covers
/// it. An unknown jurisdiction has no lineage, so nothing but a node-wide grant covers it.
pub async fn lineage(store: &dyn Store, jurisdiction: &JurisdictionId) -> Result<Vec<JurisdictionId>, ServerError> {
    let mut chain = vec![jurisdiction.clone()];
    let mut current = store.jurisdiction(jurisdiction).await?;
    // The tree is state > county > municipality; the bound stops a corrupt cycle.
    while let Some(parent) = current.and_then(|found| found.parent) {
        if chain.len() >= 8 || chain.contains(&parent) {
            break;
        }
        chain.push(parent.clone());
        current = store.jurisdiction(&parent).await?;
    }
    Ok(chain)
}

/// The lineage of a scope: a jurisdiction's, or none for the whole node.
pub async fn scope_lineage(
    store: &dyn Store,
    jurisdiction: Option<&JurisdictionId>,
) -> Result<Vec<JurisdictionId>, ServerError> {
    match jurisdiction {
        Some(jurisdiction) => lineage(store, jurisdiction).await,
        None => Ok(Vec::new()),
    }
}

/// Whether `grants` hold `role` permanently over the scope (the node, or a jurisdiction through
/// a grant on it or above it): what an API token may carry. The API and `canvass token add`
/// both ask this; a token never carries an emergency grant.
pub async fn holds_for_token(
    store: &dyn Store,
    grants: &[Grant],
    role: canvass_core::access::StaffRole,
    jurisdiction: Option<&JurisdictionId>,
) -> Result<bool, ServerError> {
    let lineage = scope_lineage(store, jurisdiction).await?;
    let now = now_millis();
    Ok(grants.iter().any(|grant| {
        grant.role == role
            && !grant.emergency
            && grant.is_current(now)
            && (grant.jurisdiction.is_none() || (!lineage.is_empty() && grant.covers(&lineage)))
    }))
}

/// The admin listener's authentication and policy layer.
#[axum::debug_middleware]
pub async fn authenticate(State(node): State<Node>, request: Request, next: Next) -> Response {
    match admit(&node, request).await {
        Ok(request) => next.run(request).await,
        Err(refusal) => refusal,
    }
}

async fn admit(node: &Node, mut request: Request) -> Result<Request, Response> {
    let Some(path) = request.extensions().get::<MatchedPath>().map(|matched| matched.as_str().to_owned()) else {
        // Unmatched: the fallback answers 404 and serves nothing.
        return Ok(request);
    };
    let is_page = !path.starts_with("/api/");
    let request_id = request.headers().get("x-request-id").and_then(|value| value.to_str().ok()).map(str::to_owned);
    let anonymous = Audit { ledger: node.ledger().clone(), actor: Actor::Anonymous, request_id: request_id.clone() };
    let Some(access) = route_policy(request.method(), &path) else {
        tracing::error!(route = %path, "a route without an access policy entry was refused");
        return Err(ServerError::Forbidden.into_response());
    };
    if access == Open {
        // A stale cookie must not lock anyone out of the sign-in page: open routes ignore it.
        if let Ok(Some(principal)) = resolve(node, request.headers(), None).await {
            request.extensions_mut().insert(principal);
        }
        return Ok(request);
    }
    let principal = match resolve(node, request.headers(), Some(&anonymous)).await {
        Ok(principal) => principal,
        Err(ServerError::Unauthorized) if is_page => {
            return Err(([(header::SET_COOKIE, cleared_cookie())], Redirect::to("/login")).into_response());
        }
        Err(error) => return Err(error.into_response()),
    };
    if let Some(principal) = &principal {
        request.extensions_mut().insert(principal.clone());
    }
    let required = match access {
        Open | SignedIn => None,
        Staff(operation, scope) => Some((operation, scope)),
    };
    let Some(principal) = principal else {
        return Err(if is_page {
            Redirect::to("/login").into_response()
        } else {
            ServerError::Unauthorized.into_response()
        });
    };
    let audit = Audit { ledger: node.ledger().clone(), actor: principal.actor(), request_id };
    let request = check_forgery(&principal, &audit, request).await?;
    let Some((operation, scope)) = required else {
        return Ok(request);
    };
    if principal.second_factor_pending {
        return Err(if is_page {
            Redirect::to("/account").into_response()
        } else {
            ServerError::Unauthorized.into_response()
        });
    }
    let (jurisdiction, request) = scope_jurisdiction(request, scope).await.map_err(IntoResponse::into_response)?;
    principal.authorize(node, &audit, operation, jurisdiction.as_ref()).await.map_err(IntoResponse::into_response)?;
    Ok(request)
}

/// The jurisdiction a route acts on, for the layer's scope check.
async fn scope_jurisdiction(
    request: Request,
    scope: ScopeFrom,
) -> Result<(Option<JurisdictionId>, Request), ServerError> {
    let (mut parts, body) = request.into_parts();
    let value = match scope {
        NodeWide | Handler => None,
        Path(name) => {
            use axum::extract::FromRequestParts;
            let parameters = RawPathParams::from_request_parts(&mut parts, &()).await.ok();
            parameters.and_then(|parameters| {
                parameters.iter().find(|(key, _)| *key == name).map(|(_, value)| value.to_owned())
            })
        }
        Query(name) => parts.uri.query().and_then(|query| {
            form_urlencoded::parse(query.as_bytes()).find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
        }),
    };
    let jurisdiction = value.map(|value| JurisdictionId::parse(&value)).transpose()?;
    Ok((jurisdiction, Request::from_parts(parts, body)))
}

/// Cookie-authenticated requests that change something must carry the session's anti-forgery
/// token (header or form field); token-authenticated machines have no cookie to abuse.
async fn check_forgery(principal: &Principal, audit: &Audit, request: Request) -> Result<Request, Response> {
    let Via::Session { csrf_token, .. } = &principal.via else {
        return Ok(request);
    };
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return Ok(request);
    }
    let presented = request.headers().get(CSRF_HEADER).and_then(|value| value.to_str().ok()).map(str::to_owned);
    let (presented, request) = match presented {
        Some(value) => (Some(value), request),
        None => form_field(request, "csrf").await?,
    };
    if presented.is_some_and(|value| constant_time_equal(value.as_bytes(), csrf_token.as_bytes())) {
        return Ok(request);
    }
    Err(audit.refuse(audit.entry(Action::AccessDenied), ServerError::Csrf).await.into_response())
}

/// Reads one field of a form body and puts the body back for the handler.
async fn form_field(request: Request, name: &str) -> Result<(Option<String>, Request), Response> {
    let content_type =
        request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("").to_owned();
    if content_type.starts_with("multipart/form-data") {
        return multipart_field(request, &content_type, name).await;
    }
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    if !is_form {
        return Ok((None, request));
    }
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, 64 * 1024).await.map_err(|_| ServerError::BodyTooLarge.into_response())?;
    let value = form_urlencoded::parse(&bytes).find(|(key, _)| key == name).map(|(_, value)| value.into_owned());
    Ok((value, Request::from_parts(parts, Body::from(bytes))))
}

/// Reads one text field of a multipart form (a file upload's anti-forgery token) and puts the
/// body back; the body may be as large as the largest upload a route accepts.
async fn multipart_field(
    request: Request,
    content_type: &str,
    name: &str,
) -> Result<(Option<String>, Request), Response> {
    use axum::extract::FromRequest;
    let (parts, body) = request.into_parts();
    // Upload forms take different sizes: an election definition or a results file is larger
    // than a signature image, which every other form takes.
    let path = parts.uri.path();
    let limit = if path == "/elections" {
        crate::admin_elections::MAX_UPLOAD_BYTES
    } else if path.starts_with("/elections/") && path.ends_with("/results") {
        crate::results_intake::MAX_UPLOAD_BYTES
    } else {
        crate::voter_records_pages::MAX_UPLOAD_BYTES
    };
    let bytes = to_bytes(body, limit).await.map_err(|_| ServerError::BodyTooLarge.into_response())?;
    let copy = Request::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(bytes.clone()))
        .map_err(|_| ServerError::Invalid("the form's content type is not valid".into()).into_response())?;
    let mut value = None;
    if let Ok(mut multipart) = axum::extract::Multipart::from_request(copy, &()).await {
        while let Ok(Some(field)) = multipart.next_field().await {
            if field.name() == Some(name) {
                value = field.text().await.ok();
                break;
            }
        }
    }
    Ok((value, Request::from_parts(parts, Body::from(bytes))))
}

/// Who the request comes from. A presented credential that does not hold (forged, expired,
/// revoked, a suspended owner) is refused and recorded, never ignored.
async fn resolve(node: &Node, headers: &HeaderMap, audit: Option<&Audit>) -> Result<Option<Principal>, ServerError> {
    if let Some(token) = bearer(headers) {
        return match token_principal(node, &token).await? {
            Some(principal) => Ok(Some(principal)),
            None => Err(refuse_credential(audit, "token").await),
        };
    }
    let Some(cookie) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    match session_principal(node, &cookie).await? {
        Some(principal) => Ok(Some(principal)),
        None => Err(refuse_credential(audit, "session").await),
    }
}

/// Records a refused credential (when an audit context is given) and returns `Unauthorized`.
async fn refuse_credential(audit: Option<&Audit>, what: &str) -> ServerError {
    let Some(audit) = audit else {
        return ServerError::Unauthorized;
    };
    match target(audit.entry(Action::AdministratorLogin), format!("credential:{what}")) {
        Ok(entry) => audit.refuse(entry, ServerError::Unauthorized).await,
        Err(error) => error,
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(|token| token.trim().to_owned())
}

/// One cookie's value from the `Cookie` header.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

async fn token_principal(node: &Node, token: &str) -> Result<Option<Principal>, ServerError> {
    let Some((id, secret)) = token.strip_prefix(TOKEN_PREFIX).and_then(|rest| rest.split_once('.')) else {
        return Ok(None);
    };
    let Some(stored) = node.store().api_token(id).await? else {
        return Ok(None);
    };
    let now = now_millis();
    let genuine = constant_time_equal(&sha256(&[secret.as_bytes()]), &stored.secret_hash);
    if !genuine || stored.revoked || now >= stored.expires_at {
        return Ok(None);
    }
    let Some(owner) = node.store().staff_account(&stored.owner).await? else {
        return Ok(None);
    };
    if owner.suspended {
        return Ok(None);
    }
    let token_grant = Grant::permanent(stored.role, stored.jurisdiction.clone());
    // The token acts only within its owner's current grants: a role taken from the owner is
    // taken from the token too.
    let owner_grants = crate::staff::current_grants(node.store(), &stored.owner).await?;
    let lineage = scope_lineage(node.store(), stored.jurisdiction.as_ref()).await?;
    let still_held = owner_grants.iter().any(|grant| {
        grant.role == stored.role && (grant.jurisdiction.is_none() || (!lineage.is_empty() && grant.covers(&lineage)))
    });
    let grants = if still_held { vec![token_grant] } else { Vec::new() };
    Ok(Some(Principal {
        username: stored.owner,
        grants,
        via: Via::Token { id: stored.id },
        second_factor_pending: false,
    }))
}

async fn session_principal(node: &Node, cookie: &str) -> Result<Option<Principal>, ServerError> {
    let id_hash = sha256(&[cookie.as_bytes()]).to_vec();
    let store = node.store();
    let Some(session) = store.session(&id_hash).await? else {
        return Ok(None);
    };
    let now = now_millis();
    let access = &node.config().access;
    let idle = now - session.last_seen_at > millis(access.session_idle);
    let too_old = now - session.created_at > millis(access.session_absolute);
    let account = store.staff_account(&session.username).await?;
    let Some(account) = account.filter(|account| !account.suspended && !idle && !too_old) else {
        store.delete_session(&id_hash).await?;
        return Ok(None);
    };
    // Activity is written at most once a minute: enough for a 15-minute idle timeout.
    if now - session.last_seen_at > 60_000 {
        store.touch_session(&id_hash, now, session.second_factor).await?;
    }
    let grants = crate::staff::current_grants(store, &account.username).await?;
    let pending = !session.second_factor && (account.totp_secret.is_some() || requires_second_factor(&grants, now));
    Ok(Some(Principal {
        username: account.username,
        grants,
        via: Via::Session { id_hash, csrf_token: session.csrf_token, second_factor: session.second_factor },
        second_factor_pending: pending,
    }))
}

pub(crate) fn millis(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// A new session for a checked password; `second_factor` says whether a TOTP code was checked
/// too. Returns the cookie value, shown to the browser once.
pub async fn open_session(store: &dyn Store, username: &Username, second_factor: bool) -> Result<String, ServerError> {
    let value = random_token(32)?;
    let now = now_millis();
    let session = StoredSession {
        id_hash: sha256(&[value.as_bytes()]).to_vec(),
        username: username.clone(),
        csrf_token: random_token(24)?,
        created_at: now,
        last_seen_at: now,
        second_factor,
    };
    store.insert_session(&session).await?;
    Ok(value)
}

/// The `Set-Cookie` value for a session: HttpOnly, SameSite=Strict, Secure when the node is
/// reached over TLS (here or at its proxy).
pub fn session_cookie(node: &Node, value: &str) -> String {
    let config = node.config();
    let secure = config.tls.is_some() || config.admin.behind_proxy.is_some();
    format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict{}", if secure { "; Secure" } else { "" })
}

pub fn cleared_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// Issues an API token; returns the stored row and the token text, shown once.
pub async fn issue_token(
    store: &dyn Store,
    audit: &Audit,
    owner: &Username,
    grant: &Grant,
    label: &str,
    lifetime_days: u32,
) -> Result<(StoredToken, String), ServerError> {
    let id = canvass_crypto::random_hex(8)?;
    let secret = random_token(32)?;
    let now = now_millis();
    let token = StoredToken {
        id: id.clone(),
        secret_hash: sha256(&[secret.as_bytes()]).to_vec(),
        label: label.to_owned(),
        owner: owner.clone(),
        role: grant.role,
        jurisdiction: grant.jurisdiction.clone(),
        created_at: now,
        expires_at: now + i64::from(lifetime_days) * 86_400_000,
        revoked: false,
    };
    let mut entry = target(audit.entry(Action::TokenIssue), format!("token:{id}"))?;
    entry = target(entry, format!("role:{}", grant.role))?;
    if let Some(jurisdiction) = &grant.jurisdiction {
        entry = entry.with_jurisdiction(jurisdiction);
    }
    audit.run(entry, async { Ok(store.insert_api_token(&token).await?) }).await?;
    Ok((token, format!("{TOKEN_PREFIX}{id}.{secret}")))
}

/// Failed sign-ins per account and per address in a sliding window, in memory: a burst of
/// guesses against one account, or from one address against many, is refused for a while.
#[derive(Debug, Default, Clone)]
pub struct LoginThrottle(Arc<Mutex<HashMap<String, VecDeque<i64>>>>);

impl LoginThrottle {
    /// Whether either key has reached its limit of failures within the window.
    pub fn is_blocked(&self, account: &str, address: Option<IpAddr>, node: &Node) -> bool {
        let access = &node.config().access;
        let since = now_millis() - millis(access.login_window);
        let Ok(failures) = self.0.lock() else { return true };
        let count =
            |key: &str| failures.get(key).map_or(0, |times| times.iter().filter(|time| **time >= since).count());
        let by_account = count(&format!("account:{account}")) >= access.failed_logins_per_account as usize;
        let by_address =
            address.is_some_and(|ip| count(&format!("address:{ip}")) >= access.failed_logins_per_address as usize);
        by_account || by_address
    }

    /// Which keys have exactly reached their limit: true once, on the failure that locks the
    /// account or address out, so a detector fires once per lock-out.
    pub fn limits_reached(
        &self,
        account: &str,
        address: Option<IpAddr>,
        node: &Node,
    ) -> crate::incident_detectors::ThrottleHit {
        let access = &node.config().access;
        let since = now_millis() - millis(access.login_window);
        let Ok(failures) = self.0.lock() else {
            return crate::incident_detectors::ThrottleHit { account: false, address: false };
        };
        let count =
            |key: &str| failures.get(key).map_or(0, |times| times.iter().filter(|time| **time >= since).count());
        crate::incident_detectors::ThrottleHit {
            account: count(&format!("account:{account}")) == access.failed_logins_per_account as usize,
            address: address
                .is_some_and(|ip| count(&format!("address:{ip}")) == access.failed_logins_per_address as usize),
        }
    }

    pub fn record_failure(&self, account: &str, address: Option<IpAddr>) {
        let now = now_millis();
        let Ok(mut failures) = self.0.lock() else { return };
        // Bounded: past 10,000 keys the oldest activity is forgotten first.
        if failures.len() > 10_000 {
            let horizon = now - 3_600_000;
            failures.retain(|_, times| times.back().is_some_and(|time| *time > horizon));
        }
        let mut push = |key: String| {
            let times = failures.entry(key).or_default();
            times.push_back(now);
            while times.len() > 64 {
                times.pop_front();
            }
        };
        push(format!("account:{account}"));
        if let Some(ip) = address {
            push(format!("address:{ip}"));
        }
    }

    pub fn clear_account(&self, account: &str) {
        if let Ok(mut failures) = self.0.lock() {
            failures.remove(&format!("account:{account}"));
        }
    }
}

/// The caller's address, for the per-address throttle.
pub fn peer_address(request_extensions: &axum::http::Extensions) -> Option<IpAddr> {
    request_extensions.get::<ConnectInfo<std::net::SocketAddr>>().map(|info| info.0.ip())
}

/// Signs a staff member in with password and, where enrolled or required, a TOTP code.
/// Returns the new session's cookie value. Every failure looks the same to the caller
/// (`Unauthorized`, or `Throttled` once too many failed), and every attempt is in the ledger:
/// under the account when it exists, anonymously otherwise (a typed name matching no account
/// may be a password typed in the wrong field).
pub async fn sign_in(
    node: &Node,
    request_id: Option<String>,
    username: &str,
    password: canvass_crypto::SecretString,
    code: &str,
    address: Option<IpAddr>,
) -> Result<String, ServerError> {
    let store = node.store();
    let known = match Username::parse(username) {
        Ok(name) => store.staff_account(&name).await?.map(|account| account.username),
        Err(_) => None,
    };
    let actor = known.clone().map_or(Actor::Anonymous, Actor::User);
    let audit = Audit { ledger: node.ledger().clone(), actor, request_id };
    let attempt = match &known {
        Some(name) => target(audit.entry(Action::AdministratorLogin), format!("staff:{name}"))?,
        None => audit.entry(Action::AdministratorLogin),
    };
    let throttle = node.throttle();
    let throttle_key = known.as_ref().map_or("unknown", Username::as_str);
    if throttle.is_blocked(throttle_key, address, node) {
        return Err(audit.refuse(attempt, ServerError::Throttled).await);
    }
    match check_credentials(node, username, password, code).await {
        Ok((account, second_factor)) => {
            throttle.clear_account(throttle_key);
            let cookie = open_session(store, &account, second_factor).await?;
            audit.record(&attempt).await?;
            Ok(cookie)
        }
        Err(error) => {
            throttle.record_failure(throttle_key, address);
            let refused = audit.refuse(attempt, error).await;
            let hit = throttle.limits_reached(throttle_key, address, node);
            if hit.account || hit.address {
                let detected = crate::incident_detectors::failed_sign_ins(node, known.as_ref(), address, hit).await;
                crate::incident_detectors::report_failure(detected, "failed_sign_in").await;
            }
            Err(refused)
        }
    }
}

/// Password, then the second factor: required when enrolled; when the roles require one and
/// none is enrolled yet, the session opens for enrolment only.
async fn check_credentials(
    node: &Node,
    username: &str,
    password: canvass_crypto::SecretString,
    code: &str,
) -> Result<(Username, bool), ServerError> {
    let account = crate::staff::check_password(node.store(), username, password).await?;
    if account.totp_secret.is_none() {
        return Ok((account.username, false));
    }
    crate::staff::check_second_factor(node.store(), node.totp_key(), &account, code).await?;
    Ok((account.username, true))
}
