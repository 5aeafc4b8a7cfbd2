//! The admin page of affected-voter identification: `/incidents/{id}/affected` asks for the
//! reason, then lists the voter records the incident's subject read in its window (the same
//! service, checks and ledger entry as the API). The export is a two-person request made on the
//! Approvals page (kind "Export an incident's affected voters", subject the incident id).

use axum::{
    Router,
    extract::{Query, State},
    routing::get,
};
use maud::{Markup, html};
use serde::Deserialize;

use crate::{
    Node,
    access::Principal,
    admin_pages::{admin_layout, time_text},
    affected_voters,
    api::ApiPath,
    ledger::Audit,
    pages::PageError,
};

/// The route, merged into the admin pages by one line.
pub fn router() -> Router<Node> {
    Router::new().route("/incidents/{id}/affected", get(affected_page))
}

#[derive(Debug, Deserialize)]
struct AffectedForm {
    reason: Option<String>,
}

fn reason_form(id: &str) -> Markup {
    html! {
        form method="get" action={ "/incidents/" (id) "/affected" } {
            p {
                label for="reason" { "Why you need the list (kept in the audit ledger)" } br;
                input id="reason" name="reason" required maxlength="500";
            }
            p { button type="submit" { "Show the affected voters" } }
        }
    }
}

async fn affected_page(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    Query(form): Query<AffectedForm>,
) -> Result<Markup, PageError> {
    let title = format!("Affected voters of incident {id}");
    let Some(reason) = form.reason.as_deref().map(str::trim).filter(|text| !text.is_empty()) else {
        let body = html! {
            h1 { (title) }
            p { "The voter records the incident's staff account read from 24 hours before the incident was opened
                until it was opened, for breach notification. The list is confidential: reading it is recorded." }
            (reason_form(&id))
        };
        return Ok(admin_layout(&node, &title, Some(&principal), body));
    };
    let (incident, window, voters) =
        affected_voters::list_as(&node, &audit, &principal, &id, None, None, Some(reason)).await?;
    let body = html! {
        h1 { (title) }
        p { "Read between " (time_text(window.since)) " and " (time_text(window.until)) " (UTC): "
            strong { (voters.len()) } " records. This reading is in the audit ledger." }
        @if !voters.is_empty() {
            table {
                thead { tr { th scope="col" { "Registration number" } th scope="col" { "Last name" } th scope="col" { "First name" } } }
                tbody { @for voter in &voters {
                    tr { td { code { (voter.registration_number) } } td { (voter.last_name) } td { (voter.first_name) } }
                } }
            }
        }
        p { "To export this list as CSV, make a two-person request on the " a href="/approvals" { "Approvals" } " page: kind
            “Export an incident's affected voters”, subject " code { (incident.id) } "; once another administrator
            approves it, run it there." }
    };
    Ok(admin_layout(&node, &title, Some(&principal), body))
}
