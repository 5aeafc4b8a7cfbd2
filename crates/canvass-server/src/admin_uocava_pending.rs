//! The admin pages of FPCAs held for a clerk (`uocava_pending`): `/uocava/pending` lists them
//! (ids, voters, dates, decisions: no personal value), `/uocava/pending/{id}` shows the values
//! one asks for (a `voter.read` entry each time) with the confirm and reject forms (CSRF like
//! every admin form). Each needs `voters.write` and `ballots.record` on the request's roll, as
//! importing an FPCA does; the list shows the rolls the staff member may decide for.

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use canvass_core::{access::Operation, id::JurisdictionId};
use canvass_store::StoredPendingFpca;
use maud::{Markup, html};
use serde::Deserialize;

use crate::{
    Node, ServerError,
    access::Principal,
    admin_pages::{admin_layout, csrf, time_text},
    api::{ApiForm, ApiPath},
    ledger::Audit,
    pages::PageError,
    uocava_pending::{self, MAX_REASON_CHARS},
};

pub fn router() -> Router<Node> {
    Router::new()
        .route("/uocava/pending", get(list_page))
        .route("/uocava/pending/{id}", get(detail_page))
        .route("/uocava/pending/{id}/confirm", post(confirm_submit))
        .route("/uocava/pending/{id}/reject", post(reject_submit))
}

const LIST_PATH: &str = "/uocava/pending";

fn detail_path(id: &str) -> String {
    format!("{LIST_PATH}/{}", form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>())
}

/// Both operations a decision needs, on the request's roll; a refusal is on the record.
async fn authorize(
    node: &Node,
    audit: &Audit,
    principal: &Principal,
    jurisdiction: &JurisdictionId,
) -> Result<(), ServerError> {
    principal.authorize(node, audit, Operation::WriteVoters, Some(jurisdiction)).await?;
    principal.authorize(node, audit, Operation::RecordBallots, Some(jurisdiction)).await?;
    Ok(())
}

async fn may_decide(node: &Node, principal: &Principal, jurisdiction: &JurisdictionId) -> Result<bool, ServerError> {
    Ok(principal.may(node, Operation::WriteVoters, Some(jurisdiction)).await?
        && principal.may(node, Operation::RecordBallots, Some(jurisdiction)).await?)
}

/// `GET /uocava/pending`: the held requests the staff member may decide, waiting ones first.
async fn list_page(State(node): State<Node>, principal: Principal) -> Result<Markup, PageError> {
    let mut shown = Vec::new();
    for pending in uocava_pending::list(node.store(), false, |_| true).await? {
        if may_decide(&node, &principal, &pending.jurisdiction).await? {
            shown.push(pending);
        }
    }
    shown.sort_by_key(|pending| pending.decision.is_some());
    let body = html! {
        h1 { "FPCAs held for confirmation" }
        p { "A ballot request from the public form that matches a voter already on the roll is not applied until a clerk
            confirms it: anyone who knows a voter's name and date of birth can fill in the form. The voter was sent a
            notice at the address on file. Confirm only after checking with the voter." }
        @if shown.is_empty() { p.muted { "No held request." } }
        @else {
            table.entries {
                thead { tr { th { "Request" } th { "Voter" } th { "Roll" } th { "Received" } th { "Decision" } } }
                tbody { @for pending in &shown { (row(pending)) } }
            }
        }
    };
    Ok(admin_layout(&node, "Held FPCAs", Some(&principal), body))
}

fn row(pending: &StoredPendingFpca) -> Markup {
    html! {
        tr {
            td { a href=(detail_path(&pending.id)) { code { (pending.id) } } }
            td { code { (pending.registration_number) } }
            td { (pending.jurisdiction) }
            td { (time_text(pending.received_at)) }
            td { @match &pending.decision {
                None => strong { "waiting" },
                Some(decision) => { (decision.as_str()) " by " (decision.actor) " " (time_text(decision.decided_at))
                    @if !decision.reason.is_empty() { ": " (decision.reason) } },
            } }
        }
    }
}

/// `GET /uocava/pending/{id}`: the values the request asks for (a confidential read, on the
/// record), and the decision forms while it waits.
async fn detail_page(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Markup, PageError> {
    let pending = uocava_pending::find(node.store(), &id).await?;
    authorize(&node, &audit, &principal, &pending.jurisdiction).await?;
    let ring = node.keys().current(node.store(), &pending.jurisdiction).await?;
    // A decided request's key version may be retired since (a rotation keeps it only while
    // the request waits): its values are then no longer readable, which is said, not an error.
    let values = match uocava_pending::open_pending(&audit, &ring, &pending).await {
        Ok(values) => Some(values),
        Err(_) if pending.decision.is_some() => None,
        Err(error) => return Err(error.into()),
    };
    let path = detail_path(&pending.id);
    let body = html! {
        p { a href=(LIST_PATH) { "All held FPCAs" } }
        h1 { "Held FPCA " code { (pending.id) } }
        p { "For voter " code { (pending.registration_number) } " of " (pending.jurisdiction) ", received "
            (time_text(pending.received_at)) ". Opening this page is recorded as a read of the voter's record." }
        @match &values {
            Some(values) => table.entries { tbody { @for (label, value) in values { tr { th { (label) } td { (value) } } } } },
            None => p.muted { "The values of this decided request can no longer be opened: the key they were sealed under was retired by a rotation." },
        }
        @match &pending.decision {
            Some(decision) => p role="status" { "This request was " strong { (decision.as_str()) } " by " (decision.actor) " "
                (time_text(decision.decided_at)) @if !decision.reason.is_empty() { ": " (decision.reason) } "." },
            None => {
                h2 { "Confirm" }
                p { "Confirming applies the request as an FPCA is applied: the voter's record takes these values and the
                    year's ballot request is recorded." }
                form method="post" action={ (path) "/confirm" } {
                    (csrf(&principal))
                    p { button type="submit" { "Confirm and apply" } }
                }
                h2 { "Reject" }
                form method="post" action={ (path) "/reject" } {
                    (csrf(&principal))
                    p { label for="reason" { "Why (recorded with the decision)" } br;
                        input id="reason" name="reason" required maxlength=(MAX_REASON_CHARS) size="40"; }
                    p { button type="submit" { "Reject" } }
                }
            }
        }
    };
    Ok(admin_layout(&node, "Held FPCA", Some(&principal), body))
}

fn back_to_list() -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, LIST_PATH)]).into_response()
}

/// `POST /uocava/pending/{id}/confirm`.
async fn confirm_submit(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, PageError> {
    let pending = uocava_pending::find(node.store(), &id).await?;
    authorize(&node, &audit, &principal, &pending.jurisdiction).await?;
    let ring = node.keys().current(node.store(), &pending.jurisdiction).await?;
    uocava_pending::confirm(node.store(), &audit, &ring, &pending.id).await?;
    Ok(back_to_list())
}

#[derive(Debug, Deserialize)]
struct RejectForm {
    #[serde(default)]
    reason: String,
}

/// `POST /uocava/pending/{id}/reject`.
async fn reject_submit(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiForm(form): ApiForm<RejectForm>,
) -> Result<Response, PageError> {
    let pending = uocava_pending::find(node.store(), &id).await?;
    authorize(&node, &audit, &principal, &pending.jurisdiction).await?;
    uocava_pending::reject(node.store(), &audit, &pending.id, &form.reason).await?;
    Ok(back_to_list())
}
