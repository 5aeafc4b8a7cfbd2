//! The voter page's ballots section: the voter's absentee and provisional ballots with their
//! history (for roles allowed `ballots.read`), and a form to record the next step (for roles
//! allowed `ballots.record`), posted with the anti-forgery token and usable without JavaScript.

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use canvass_core::{
    access::Operation,
    ballots::{ProvisionalReason, RejectionReason},
    id::JurisdictionId,
};
use maud::{Markup, html};
use serde::Deserialize;

use crate::{
    Node, ServerError,
    access::Principal,
    admin_pages::{csrf, time_text},
    api::{ApiForm, ApiPath},
    api_ballots::ballot_request,
    ballots::{self, ABSENTEE_STEPS, PROVISIONAL_STEPS, VoterBallot},
    ledger::Audit,
    pages::PageError,
};

pub fn router() -> Router<Node> {
    Router::new().route("/jurisdictions/{id}/voters/{voter}/ballots", post(step_submit))
}

fn voter_path(jurisdiction: &JurisdictionId, number: &str) -> String {
    let encoded = |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    format!("/jurisdictions/{}/voters/{}", encoded(jurisdiction.as_str()), encoded(number))
}

/// The section of the voter page: empty for roles that may not read ballots.
pub(crate) async fn section(
    node: &Node,
    principal: &Principal,
    jurisdiction: &JurisdictionId,
    number: &str,
) -> Result<Markup, ServerError> {
    if !principal.may(node, Operation::ReadBallots, Some(jurisdiction)).await? {
        return Ok(html! {});
    }
    let found = ballots::voter_ballots(node.store(), jurisdiction, number).await?;
    let may_record = principal.may(node, Operation::RecordBallots, Some(jurisdiction)).await?;
    let elections = node.store().elections(None).await?;
    let action = format!("{}/ballots", voter_path(jurisdiction, number));
    Ok(html! {
        h2 { "Ballots" }
        @if found.is_empty() { p.muted { "No absentee or provisional ballot recorded." } }
        @for ballot in &found { (ballot_table(ballot)) }
        @if may_record {
            h3 { "Record a ballot step" }
            p.muted { "Absentee: " (ABSENTEE_STEPS) ". Provisional: " (PROVISIONAL_STEPS) ". A rejection needs its reason; a provisional decision needs a decision, and a reason when not counted. The rules are checked: steps go in order, and a cure is accepted only for a missing signature, a signature mismatch or a missing witness, until the cure deadline." }
            form method="post" action=(action) {
                (csrf(principal))
                p { label for="election" { "Election" } br;
                    select id="election" name="election" required {
                        @for election in &elections { option value=(election.id) { (election.name) " (" (election.date) ")" } }
                    }
                }
                p { label for="step" { "Step" } br;
                    select id="step" name="step" {
                        optgroup label="Absentee" { @for step in ["request", "send", "return", "accept", "reject", "cure", "cancel"] { option value=(step) { (step) } } }
                        optgroup label="Provisional" { option value="cast" { "cast" } option value="adjudicate" { "adjudicate" } }
                    }
                }
                p { label for="decision" { "Decision (adjudicate)" } br;
                    select id="decision" name="decision" {
                        option value="" { "—" }
                        @for decision in ["counted", "partially_counted", "not_counted"] { option value=(decision) { (decision) } }
                    }
                }
                p { label for="reason" { "Reason (reject, or not counted)" } br;
                    select id="reason" name="reason" {
                        option value="" { "—" }
                        optgroup label="Rejection" { @for reason in RejectionReason::ALL { option value=(reason.as_str()) { (reason.as_str()) } } }
                        optgroup label="Not counted" { @for reason in ProvisionalReason::ALL { option value=(reason.as_str()) { (reason.as_str()) } } }
                    }
                }
                p { label for="on" { "Date" } br; input id="on" name="on" type="date"; " " small.muted { "today if empty" } }
                p { button type="submit" { "Record the step" } }
            }
        }
    })
}

fn ballot_table(found: &VoterBallot) -> Markup {
    let ballot = &found.ballot;
    let election = found.election.as_ref().map_or_else(|| ballot.election.to_string(), |e| e.name.to_string());
    html! {
        h3 { (ballot.kind().as_str()) " ballot, " (election) }
        p { "Status: " strong { code { (ballot.status.as_str()) } } " since " (ballot.status_on)
            @if let Some(deadline) = ballot.cure_deadline { " — cure deadline " strong { (deadline) } } }
        table {
            thead { tr { th { "Date" } th { "From" } th { "To" } th { "Cure deadline" } th { "By" } th { "Recorded" } } }
            tbody { @for change in &found.history {
                tr {
                    td { (change.on) }
                    td { (change.from.map(|status| status.as_str()).unwrap_or("—")) }
                    td { code { (change.to.as_str()) } }
                    td { (change.cure_deadline.map(|date| date.to_string()).unwrap_or_default()) }
                    td { (change.actor) } td { (time_text(change.recorded_at)) }
                }
            } }
        }
    }
}

#[derive(Debug, Deserialize)]
struct StepForm {
    #[serde(default)]
    election: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    on: String,
}

async fn step_submit(
    State(node): State<Node>,
    audit: Audit,
    ApiPath((id, number)): ApiPath<(String, String)>,
    ApiForm(form): ApiForm<StepForm>,
) -> Result<Response, PageError> {
    let jurisdiction = JurisdictionId::parse(&id).map_err(ServerError::from)?;
    let request = ballot_request(
        jurisdiction.clone(),
        &number,
        &form.election,
        &form.step,
        Some(&form.decision),
        Some(&form.reason),
        Some(&form.on),
    )?;
    ballots::record(node.store(), &audit, &request).await?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, voter_path(&jurisdiction, &number))]).into_response())
}
