//! The admin web pages, server-rendered and usable without JavaScript: sign-in with password
//! and TOTP, second-factor enrolment with a QR code, the dashboard (pending approvals,
//! suspended accounts, incidents, recent ledger entries, read volumes), staff and roles,
//! approvals and break-glass. Every form carries the session's anti-forgery token, which the
//! access layer checks before the handler runs.

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use base64::Engine;
use canvass_core::{
    access::{Operation, RequestKind, RequestStatus, StaffRole},
    audit::{Action, now_millis},
    id::JurisdictionId,
};
use canvass_crypto::{SecretString, TotpSecret};
use canvass_store::LedgerQuery;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use crate::{
    Node, ServerError,
    access::{self, Principal, Via},
    api::{ApiForm, ApiPath},
    api_staff::{self, AccountChange, NewUserBody},
    ledger::{Audit, target},
    pages::{PageError, entries_table, layout, ledger_summary},
    requests::{self, NewRequest},
    staff,
};

pub fn router() -> Router<Node> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/account", get(account_page))
        .route("/account/second-factor", post(enrol_submit))
        .route("/", get(dashboard))
        .route("/users", get(users_page).post(users_submit))
        .route("/users/{username}/suspend", post(suspend_submit))
        .route("/users/{username}/reinstate", post(reinstate_submit))
        .route("/users/{username}/reset-mfa", post(reset_submit))
        .route("/approvals", get(approvals_page).post(approvals_submit))
        .route("/approvals/{id}/approve", post(approve_submit))
        .route("/approvals/{id}/reject", post(reject_submit))
        .route("/break-glass", post(break_glass_submit))
        .merge(crate::admin_voters::router())
        .merge(crate::admin_ballots::router())
        .merge(crate::voter_records_pages::router())
        .merge(crate::admin_duplicates::router())
        .merge(crate::admin_elections::router())
        .merge(crate::admin_results::router())
        .merge(crate::admin_incidents::router())
        .merge(crate::admin_affected::router())
        .merge(crate::admin_uocava::router())
        .merge(crate::admin_uocava_pending::router())
}

pub(crate) fn admin_layout(node: &Node, title: &str, principal: Option<&Principal>, body: Markup) -> Markup {
    let navigation = html! {
        @if let Some(principal) = principal {
            nav.admin {
                a href="/" { "Dashboard" } " · "
                a href="/users" { "Staff" } " · "
                a href="/approvals" { "Approvals" } " · "
                a href="/voters" { "Search voters" } " · "
                a href="/elections" { "Elections" } " · "
                a href="/incidents" { "Incidents" } " · "
                a href="/account" { "My account (" (principal.username) ")" } " · "
                form.inline method="post" action="/logout" {
                    (csrf(principal))
                    button type="submit" { "Sign out" }
                }
            }
        }
        (body)
    };
    layout(title, node.is_demo(), navigation)
}

pub(crate) fn csrf(principal: &Principal) -> Markup {
    html! { input type="hidden" name="csrf" value=(principal.csrf_token()); }
}

pub(crate) fn time_text(millis: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(millis / 1000)
        .ok()
        .and_then(|time| time.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| millis.to_string())
}

fn login_form(message: Option<&str>) -> Markup {
    html! {
        h1 { "Sign in" }
        @if let Some(message) = message { p.error role="alert" { (message) } }
        form method="post" action="/login" {
            p { label for="username" { "Username" } br; input id="username" name="username" autocomplete="username" required; }
            p { label for="password" { "Password" } br; input id="password" name="password" type="password" autocomplete="current-password" required; }
            p {
                label for="code" { "Authenticator code" } br;
                input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="8";
                br; small.muted { "The 6 digits from your authenticator app. Leave empty if you have not set one up yet." }
            }
            p { button type="submit" { "Sign in" } }
        }
    }
}

async fn login_page(State(node): State<Node>) -> Markup {
    admin_layout(&node, "Sign in", None, login_form(None))
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    code: String,
}

async fn login_submit(
    State(node): State<Node>,
    parts: axum::http::request::Parts,
    ApiForm(form): ApiForm<LoginForm>,
) -> Response {
    let request_id = parts.headers.get("x-request-id").and_then(|value| value.to_str().ok()).map(str::to_owned);
    let address = access::peer_address(&parts.extensions);
    let password = SecretString::from(form.password);
    match access::sign_in(&node, request_id, form.username.trim(), password, &form.code, address).await {
        Ok(cookie) => {
            ([(header::SET_COOKIE, access::session_cookie(&node, &cookie))], Redirect::to("/")).into_response()
        }
        Err(error @ (ServerError::Unauthorized | ServerError::Throttled)) => {
            let message = match error {
                ServerError::Throttled => "Too many failed sign-ins. Wait a few minutes and try again.",
                _ => "Sign-in failed: check the username, password and authenticator code.",
            };
            (error.status(), admin_layout(&node, "Sign in", None, login_form(Some(message)))).into_response()
        }
        Err(error) => PageError(error).into_response(),
    }
}

async fn logout(State(node): State<Node>, audit: Audit, principal: Principal) -> Result<Response, PageError> {
    if let Via::Session { id_hash, .. } = &principal.via {
        node.store().delete_session(id_hash).await?;
    }
    audit.record(&target(audit.entry(Action::SignOut), format!("staff:{}", principal.username))?).await?;
    Ok(([(header::SET_COOKIE, access::cleared_cookie())], Redirect::to("/login")).into_response())
}

/// The enrolment offer: a fresh secret, sealed for this user into the form, so the server
/// keeps nothing until the user proves their app holds it.
async fn account_page(State(node): State<Node>, principal: Principal) -> Result<Markup, PageError> {
    let account = node
        .store()
        .staff_account(&principal.username)
        .await?
        .ok_or_else(|| ServerError::NotFound("no such account".into()))?;
    let enrolment = if account.totp_secret.is_none() { Some(enrolment_offer(&node, &principal)?) } else { None };
    let body = html! {
        h1 { "My account: " (principal.username) }
        @if principal.second_factor_pending {
            p.error role="alert" { "Your roles require a second factor. Set up an authenticator app to continue." }
        }
        h2 { "Roles" }
        (grants_list(&principal.grants))
        h2 { "Second factor" }
        @match enrolment {
            None => p { "An authenticator app is set up for this account. If you lose it, an administrator can reset it." },
            Some(offer) => (offer),
        }
    };
    Ok(admin_layout(&node, "My account", Some(&principal), body))
}

fn enrolment_offer(node: &Node, principal: &Principal) -> Result<Markup, ServerError> {
    let secret = staff::new_second_factor()?;
    let issuer = if node.is_demo() { "Canvass demo" } else { "Canvass" };
    let uri = secret.provisioning_uri(issuer, principal.username.as_str());
    let svg = crate::qr::qr_svg(&uri)?;
    let sealed = secret.seal(node.totp_key(), principal.username.as_str())?;
    let pending = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed);
    Ok(html! {
        ol {
            li { "Open your authenticator app (any TOTP app) and scan this code:" }
        }
        figure.qr { (PreEscaped(svg)) }
        p { "Or type this key by hand: " code id="totp-key" { (secret.to_base32().as_str()) } }
        form method="post" action="/account/second-factor" {
            (csrf(principal))
            input type="hidden" name="pending" value=(pending);
            p { label for="code" { "Then enter the 6-digit code it shows" } br;
                input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="8"; }
            p { button type="submit" { "Turn on the second factor" } }
        }
    })
}

fn grants_list(grants: &[canvass_core::access::Grant]) -> Markup {
    html! {
        @if grants.is_empty() { p.muted { "No roles yet." } }
        ul {
            @for grant in grants {
                li {
                    (grant.role.title()) " on " code { (grant.scope_text()) }
                    @if let Some(expires) = grant.expires_at { " — emergency access until " (time_text(expires)) }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
struct EnrolForm {
    pending: String,
    code: String,
}

async fn enrol_submit(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiForm(form): ApiForm<EnrolForm>,
) -> Result<Response, PageError> {
    let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(form.pending.as_bytes())
        .map_err(|_| ServerError::Invalid("the enrolment form was damaged; reload the page".into()))?;
    let secret = TotpSecret::open(&sealed, node.totp_key(), principal.username.as_str())
        .map_err(|_| ServerError::Invalid("the enrolment form was damaged; reload the page".into()))?;
    let enrolled =
        staff::enrol_second_factor(node.store(), &audit, node.totp_key(), &principal.username, &secret, &form.code)
            .await;
    if let Err(ServerError::Unauthorized) = enrolled {
        return Err(ServerError::Invalid(
            "that code did not match; check the app's clock and try the next code".into(),
        )
        .into());
    }
    enrolled?;
    if let Via::Session { id_hash, .. } = &principal.via {
        node.store().touch_session(id_hash, now_millis(), true).await?;
    }
    Ok(Redirect::to("/").into_response())
}

async fn dashboard(State(node): State<Node>, principal: Principal) -> Result<Markup, PageError> {
    let store = node.store();
    let info = node.info().await?;
    let pending = api_staff::visible_requests(&node, &principal, Some(RequestStatus::Pending), 50).await?;
    let manages_staff =
        principal.grants.iter().any(|grant| canvass_core::access::rule(Operation::ManageStaff, grant.role).allowed);
    let suspended: Vec<_> = if manages_staff {
        api_staff::users(&node, &principal).await?.into_iter().filter(|user| user.suspended).collect()
    } else {
        Vec::new()
    };
    let incidents = api_staff::visible_incidents(&node, &principal, 10).await?;
    let mail = store.recent_mail(5).await?;
    let recent = crate::audit_log::search(store, &crate::audit_log::Search { limit: 15, ..Default::default() }).await?;
    let volumes = read_volumes(&node).await?;
    let baselines = jurisdiction_baselines(&node, &principal).await?;
    let body = html! {
        h1 { "Canvass administration" }
        p { "Signed in as " strong { (principal.username) } "." }
        (grants_list(&principal.grants))
        h2 { "Pending approvals (" (pending.len()) ")" }
        @if pending.is_empty() { p.muted { "Nothing waits for a second person." } }
        @else { (requests_table(&principal, &pending)) }
        h2 { "Suspended accounts (" (suspended.len()) ")" }
        @if suspended.is_empty() { p.muted { "No account is suspended." } }
        ul { @for account in &suspended { li { code { (account.username) } " — " a href="/users" { "review" } } } }
        h2 { "Incidents" }
        @if incidents.is_empty() { p.muted { "No incidents recorded." } }
        @else {
            table {
                thead { tr { th { "Opened" } th { "Severity" } th { "What happened" } th { "Records" } th { "Status" } } }
                tbody { @for incident in &incidents {
                    tr { td { (time_text(incident.opened_at)) } td { (incident.severity) }
                         td { a href=(crate::admin_incidents::incident_path(&incident.id)) { (incident.summary) } }
                         td { (incident.records_affected) } td { (incident.status)
                            @if incident.subject.is_some() { br; a href={ "/incidents/" (incident.id) "/affected" } { "affected voters" } } } }
                } }
            }
        }
        p { a href="/incidents" { "All incidents" } }
        h2 { "Confidential reads, last hour" }
        (read_volume_chart(&volumes))
        (baseline_table(&baselines))
        h2 { "Notifications" }
        @if node.config().mail.smtp.is_none() { p.muted { "No mail server is configured ([mail] smtp_host): notifications stay queued." } }
        ul { @for message in &mail {
            li { (time_text(message.created_at)) " to " (message.recipient) ": " (message.subject) " — "
                 @if message.sent_at.is_some() { "sent" } @else { "queued (" (message.attempts) " attempts)" } }
        } }
        (key_rings(&node, &principal).await?)
        h2 { "Node" }
        table { tbody {
            tr { th { "Version" } td { (info.version) } }
            tr { th { "Database" } td { (info.database_backend) " (schema " (info.schema_version) ")" } }
            tr { th { "Signing key" } td { code { (info.public_key) } } }
        } }
        h2 { "Audit ledger" }
        (ledger_summary(&node).await?)
        (entries_table(&recent))
        p { "The admin API is described at " a href="/api/openapi.json" { "/api/openapi.json" } "; machines use API tokens." }
    };
    Ok(admin_layout(&node, "Administration", Some(&principal), body))
}

/// Records read per user in the last hour against each one's hourly limit, from the ledger.
async fn read_volumes(node: &Node) -> Result<Vec<(String, u64, u64)>, ServerError> {
    let mut volumes = Vec::new();
    for (actor, total) in crate::monitor::reads_last_hour(node.store(), None, now_millis()).await? {
        let limit = match actor.strip_prefix("user:").map(canvass_core::credential::Username::parse) {
            Some(Ok(name)) => {
                crate::monitor::read_limit(&node.config().access, &staff::current_grants(node.store(), &name).await?)
            }
            _ => 0,
        };
        volumes.push((actor, total, limit));
    }
    Ok(volumes)
}

/// Key rings' state (never key material), for those the policy lets see it.
async fn key_rings(node: &Node, principal: &Principal) -> Result<Markup, ServerError> {
    let allowed =
        canvass_core::access::decide(&principal.grants, canvass_core::access::Operation::ViewKeys, &[], now_millis());
    if allowed == canvass_core::access::Decision::Denied {
        return Ok(html! {});
    }
    let store = node.store();
    let mut rings = Vec::new();
    for jurisdiction in store.key_ring_jurisdictions().await? {
        let Some(ring) = store.key_ring(&jurisdiction).await? else { continue };
        let usage = store.key_version_usage(&jurisdiction).await?;
        let versions: Vec<String> = ring
            .keys
            .iter()
            .filter(|key| key.purpose == crate::keys::FIELD_PURPOSE)
            .map(|key| {
                let rows = usage.iter().find(|u| u.version == key.version).map_or(0, |u| u.rows);
                format!("v{} {} ({rows} rows)", key.version, key.state.as_str())
            })
            .collect();
        let shares = ring.shares.map_or_else(|| "not split".to_owned(), |(k, n)| format!("any {k} of {n}"));
        rings.push((jurisdiction.to_string(), node.keys().is_unsealed(&jurisdiction), shares, versions.join(", ")));
    }
    Ok(html! {
        h2 { "Key rings" }
        @if rings.is_empty() {
            p.muted { "No key rings yet: " code { "canvass keys init --jurisdiction ID --passphrase-file FILE" } }
        } @else {
            table {
                thead { tr { th { "Jurisdiction" } th { "State on this node" } th { "Officials' shares" } th { "Field key versions" } } }
                tbody { @for (jurisdiction, unsealed, shares, versions) in &rings {
                    tr {
                        td { code { (jurisdiction) } }
                        td { @if *unsealed { "unsealed" } @else { strong { "sealed" } } }
                        td { (shares) }
                        td { (versions) }
                    }
                } }
            }
        }
    })
}

/// Per jurisdiction the caller may search the ledger of: confidential-read entries in the last
/// hour against the hourly average of the week before, so an unusual hour stands out.
async fn jurisdiction_baselines(node: &Node, principal: &Principal) -> Result<Vec<(String, u64, f64)>, ServerError> {
    let now = now_millis();
    let mut rows = Vec::new();
    for jurisdiction in node.store().jurisdictions().await? {
        if !principal.may(node, Operation::SearchLedger, Some(&jurisdiction.id)).await? {
            continue;
        }
        let query = |since: i64, until: i64| LedgerQuery {
            action: Some(Action::VoterRead.as_str().to_owned()),
            jurisdiction: Some(jurisdiction.id.as_str().to_owned()),
            since_millis: Some(since),
            until_millis: Some(until),
            ..LedgerQuery::default()
        };
        let hour = node.store().count_ledger(&query(now - 3_600_000, now)).await?;
        let week = node.store().count_ledger(&query(now - 168 * 3_600_000, now - 3_600_000)).await?;
        if hour > 0 || week > 0 {
            rows.push((jurisdiction.name.to_string(), hour, week as f64 / 167.0));
        }
    }
    Ok(rows)
}

fn baseline_table(rows: &[(String, u64, f64)]) -> Markup {
    html! {
        @if !rows.is_empty() {
            table {
                caption { "Confidential-read entries per jurisdiction: this hour against the usual hour of the past week" }
                thead { tr { th { "Jurisdiction" } th { "Last hour" } th { "Usual hour" } } }
                tbody { @for (name, hour, usual) in rows {
                    tr { td { (name) } td { (hour) @if (*hour as f64) > 3.0 * usual.max(1.0) { " " strong { "(unusual)" } } } td { (format!("{usual:.1}")) } }
                } }
            }
        }
    }
}

fn read_volume_chart(volumes: &[(String, u64, u64)]) -> Markup {
    html! {
        @if volumes.is_empty() { p.muted { "No confidential reads in the last hour." } }
        table.bars {
            caption { "Records read in the last hour, against each user's hourly limit" }
            tbody { @for (actor, total, limit) in volumes {
                @let percent = if *limit == 0 { 100 } else { (total * 100 / limit).min(100) };
                tr {
                    th scope="row" { (actor) }
                    td { meter min="0" max=(limit.max(&1)) value=(total) { (percent) "%" } " " (total) " / " (limit) }
                }
            } }
        }
    }
}

fn requests_table(principal: &Principal, requests: &[canvass_store::StoredRequest]) -> Markup {
    html! {
        table.requests {
            thead { tr { th { "Request" } th { "Asked by" } th { "Where" } th { "Reason" } th { "Expires" } th { "Status" } th { "Decide" } } }
            tbody { @for request in requests {
                tr id=(format!("request-{}", request.id)) {
                    td { (request.kind.title()) @if !request.subject.is_empty() { " (" (request.subject) ")" } br; small { code { (request.id) } } }
                    td { (request.requester) }
                    td { code { (request.jurisdiction) } }
                    td { (request.justification) }
                    td { (time_text(request.expires_at)) }
                    td { (request.status.as_str()) @if let Some(approver) = &request.approver { " by " (approver) } }
                    td {
                        @if request.status == RequestStatus::Pending && request.requester != principal.username {
                            form.inline method="post" action=(format!("/approvals/{}/approve", request.id)) {
                                (csrf(principal)) button type="submit" name="decision" value="approve" { "Approve" }
                            }
                            " "
                            form.inline method="post" action=(format!("/approvals/{}/reject", request.id)) {
                                (csrf(principal)) button type="submit" name="decision" value="reject" { "Reject" }
                            }
                        } @else if request.status == RequestStatus::Pending {
                            small.muted { "waiting for someone else" }
                        }
                    }
                }
            } }
        }
    }
}

fn role_options() -> Markup {
    html! { @for role in StaffRole::ALL { option value=(role.as_str()) { (role.title()) } } }
}

async fn users_page(State(node): State<Node>, principal: Principal) -> Result<Markup, PageError> {
    let users = api_staff::users(&node, &principal).await?;
    let body: Markup = html! {
        h1 { "Staff and roles" }
        table {
            thead { tr { th { "Username" } th { "Email" } th { "Roles" } th { "Second factor" } th { "State" } th { "Actions" } } }
            tbody { @for user in &users {
                tr {
                    td { code { (user.username) } }
                    td { (user.email.clone().unwrap_or_default()) }
                    td { @for grant in &user.grants {
                        (StaffRole::parse(&grant.role).map_or(grant.role.clone(), |role| role.title().to_owned())) " on "
                        code { (grant.jurisdiction.clone().unwrap_or_else(|| "node".into())) }
                        @if grant.emergency { " (emergency)" } br;
                    } }
                    td { @if user.second_factor { "enrolled" } @else { "not enrolled" } }
                    td { @if user.suspended { strong { "suspended" } } @else { "active" } }
                    td {
                        @let base = format!("/users/{}", user.username);
                        @if user.suspended {
                            form.inline method="post" action=(format!("{base}/reinstate")) { (csrf(&principal)) button { "Reinstate" } }
                        } @else {
                            form.inline method="post" action=(format!("{base}/suspend")) { (csrf(&principal)) button { "Suspend" } }
                        }
                        " "
                        form.inline method="post" action=(format!("{base}/reset-mfa")) { (csrf(&principal)) button { "Reset second factor" } }
                    }
                }
            } }
        }
        h2 { "Add a staff member" }
        p.muted { "Administrator roles wait for a second administrator's approval." }
        form method="post" action="/users" {
            (csrf(&principal))
            p { label for="new-username" { "Username" } br; input id="new-username" name="username" required; }
            p { label for="new-email" { "Email (for notices)" } br; input id="new-email" name="email" type="email"; }
            p { label for="new-password" { "First password (at least 12 characters)" } br; input id="new-password" name="password" type="password" required minlength="12"; }
            p { label for="new-role" { "Role" } br; select id="new-role" name="role" { (role_options()) } }
            p { label for="new-jurisdiction" { "Jurisdiction id (empty: the whole node)" } br; input id="new-jurisdiction" name="jurisdiction"; }
            p { label for="new-justification" { "Reason (required for administrator roles)" } br; input id="new-justification" name="justification"; }
            p { button type="submit" { "Add" } }
        }
    };
    Ok(admin_layout(&node, "Staff", Some(&principal), body))
}

#[derive(Debug, Deserialize)]
struct UserForm {
    username: String,
    #[serde(default)]
    email: String,
    password: String,
    role: String,
    #[serde(default)]
    jurisdiction: String,
    #[serde(default)]
    justification: String,
}

async fn users_submit(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiForm(form): ApiForm<UserForm>,
) -> Result<Redirect, PageError> {
    let body = NewUserBody {
        username: form.username.trim().to_owned(),
        email: Some(form.email.trim().to_owned()).filter(|text| !text.is_empty()),
        password: form.password,
        role: form.role,
        jurisdiction: Some(form.jurisdiction.trim().to_owned()).filter(|text| !text.is_empty()),
        justification: Some(form.justification),
    };
    let added = api_staff::add_user(&node, &audit, &principal, body).await?;
    Ok(Redirect::to(if added.request.is_some() { "/approvals" } else { "/users" }))
}

async fn account_change(
    node: Node,
    audit: Audit,
    principal: Principal,
    username: String,
    change: AccountChange,
) -> Result<Redirect, PageError> {
    api_staff::change_account(&node, &audit, &principal, &username, change).await?;
    Ok(Redirect::to("/users"))
}

async fn suspend_submit(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(username): ApiPath<String>,
) -> Result<Redirect, PageError> {
    account_change(node, audit, principal, username, AccountChange::Suspend).await
}

async fn reinstate_submit(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(username): ApiPath<String>,
) -> Result<Redirect, PageError> {
    account_change(node, audit, principal, username, AccountChange::Reinstate).await
}

async fn reset_submit(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(username): ApiPath<String>,
) -> Result<Redirect, PageError> {
    account_change(node, audit, principal, username, AccountChange::ResetSecondFactor).await
}

async fn approvals_page(State(node): State<Node>, principal: Principal) -> Result<Markup, PageError> {
    let requests = api_staff::visible_requests(&node, &principal, None, 100).await?;
    let body = html! {
        h1 { "Two-person approvals" }
        p { "Bulk voter exports, key rotation and shredding, administrator grants and results certification run only after a second person approves. Approvals expire; nobody approves their own request." }
        @if requests.is_empty() { p.muted { "No requests yet." } } @else { (requests_table(&principal, &requests)) }
        h2 { "Make a request" }
        form method="post" action="/approvals" {
            (csrf(&principal))
            p { label for="kind" { "What" } br; select id="kind" name="kind" {
                @for kind in RequestKind::ALL { option value=(kind.as_str()) { (kind.title()) } }
            } }
            p { label for="request-jurisdiction" { "Jurisdiction id" } br; input id="request-jurisdiction" name="jurisdiction" required; }
            p { label for="subject" { "Subject (username:role for a grant, election id for certification)" } br; input id="subject" name="subject"; }
            p { label for="justification" { "Reason" } br; textarea id="justification" name="justification" required rows="2" {} }
            p { button type="submit" { "Request" } }
        }
        h2 { "Break glass" }
        p { "In an emergency an administrator can open time-limited administrator access to a jurisdiction. It expires by itself, its administrators are told by email, and it is marked in the audit ledger." }
        form method="post" action="/break-glass" {
            (csrf(&principal))
            p { label for="glass-jurisdiction" { "Jurisdiction id" } br; input id="glass-jurisdiction" name="jurisdiction" required; }
            p { label for="minutes" { "Minutes" } br; input id="minutes" name="minutes" type="number" min="1" max="240" value="60" required; }
            p { label for="glass-justification" { "Why" } br; textarea id="glass-justification" name="justification" required rows="2" {} }
            p { button type="submit" { "Open emergency access" } }
        }
    };
    Ok(admin_layout(&node, "Approvals", Some(&principal), body))
}

#[derive(Debug, Deserialize)]
struct RequestForm {
    kind: String,
    jurisdiction: String,
    #[serde(default)]
    subject: String,
    justification: String,
}

async fn approvals_submit(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiForm(form): ApiForm<RequestForm>,
) -> Result<Redirect, PageError> {
    let request = NewRequest {
        kind: RequestKind::parse(&form.kind).map_err(ServerError::from)?,
        jurisdiction: JurisdictionId::parse(form.jurisdiction.trim()).map_err(ServerError::from)?,
        subject: form.subject.trim().to_owned(),
        justification: form.justification,
    };
    requests::create(&node, &audit, &principal, request).await?;
    Ok(Redirect::to("/approvals"))
}

async fn approve_submit(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Redirect, PageError> {
    requests::decide(&node, &audit, &principal, &id, true).await?;
    Ok(Redirect::to("/approvals"))
}

async fn reject_submit(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Redirect, PageError> {
    requests::decide(&node, &audit, &principal, &id, false).await?;
    Ok(Redirect::to("/approvals"))
}

#[derive(Debug, Deserialize)]
struct BreakGlassForm {
    jurisdiction: String,
    minutes: u32,
    justification: String,
}

async fn break_glass_submit(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiForm(form): ApiForm<BreakGlassForm>,
) -> Result<Response, PageError> {
    let jurisdiction = JurisdictionId::parse(form.jurisdiction.trim()).map_err(ServerError::from)?;
    requests::break_glass(&node, &audit, &principal, &jurisdiction, &form.justification, form.minutes).await?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response())
}
