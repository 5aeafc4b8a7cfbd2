//! The UOCAVA dashboard of an election (`/elections/{id}/uocava`): the 45-day deadline, every
//! request with where it stands (days left or overdue, sent, downloaded, returned, accepted or
//! rejected), and a form to record a Federal Write-In Absentee Ballot received. Registration
//! numbers and codes only; no personal value. Needs `ballots.read` on the election's
//! jurisdiction; the form, `ballots.record` on the voter's.

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use canvass_core::{
    access::Operation,
    audit::now,
    id::{ElectionId, JurisdictionId},
};
use maud::{Markup, html};
use serde::Deserialize;

use crate::{
    Node, ServerError,
    access::Principal,
    admin_pages::{admin_layout, csrf},
    api::{ApiForm, ApiPath},
    ledger::Audit,
    pages::PageError,
    uocava::{self, DeadlineReport},
};

pub fn router() -> Router<Node> {
    Router::new()
        .route("/elections/{id}/uocava", get(dashboard))
        .route("/elections/{id}/uocava/fwab", post(fwab_submit))
}

fn dashboard_path(election: &ElectionId) -> String {
    format!("/elections/{}/uocava", form_urlencoded::byte_serialize(election.as_str().as_bytes()).collect::<String>())
}

async fn election_jurisdiction(node: &Node, election: &ElectionId) -> Result<JurisdictionId, ServerError> {
    Ok(node
        .store()
        .election(election)
        .await?
        .ok_or_else(|| ServerError::NotFound(format!("no election `{election}`")))?
        .jurisdiction)
}

/// `GET /elections/{id}/uocava`.
async fn dashboard(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Markup, PageError> {
    let election = ElectionId::parse(&id).map_err(ServerError::from)?;
    let jurisdiction = election_jurisdiction(&node, &election).await?;
    principal.authorize(&node, &audit, Operation::ReadBallots, Some(&jurisdiction)).await?;
    let report = uocava::deadline_report(node.store(), &election, now().date()).await?;
    let may_record = principal.may(&node, Operation::RecordBallots, Some(&jurisdiction)).await?;
    let title = format!("UOCAVA ballots: {}", report.election.name);
    Ok(admin_layout(&node, &title, Some(&principal), view(&report, may_record.then_some(&principal))))
}

fn view(report: &DeadlineReport, recorder: Option<&Principal>) -> Markup {
    let late = report.needing_action().count();
    html! {
        p { a href={ "/elections/" (report.election.id) } { "The election" } }
        h1 { "Overseas and military ballots" }
        p { a href="/uocava/pending" { "FPCAs held for confirmation" } " (requests from the public form for voters already on the roll)" }
        p { (report.election.name) " on " (report.election.date) ". Ballots must be sent by "
            strong { (report.deadline) } " (45 days before). Today is " (report.today) "." }
        @if late == 0 {
            p role="status" { "Every request's ballot was sent by the deadline." }
        } @else {
            p.error role="alert" { (late) " request(s) not sent by the deadline: send them with "
                code { "canvass uocava send --election " (report.election.id) } "." }
        }
        table.entries {
            thead { tr { th { "Voter" } th { "Category" } th { "Delivery" } th { "Requested" } th { "Deadline" } th { "Ballot" } } }
            tbody { @for row in &report.rows {
                tr {
                    td { code { (row.registration_number) } }
                    td { (row.classification.as_str()) }
                    td { (row.delivery.as_str()) @if row.downloaded { " (downloaded)" } }
                    td { (row.requested_on) }
                    td { @if row.standing.needs_action() { strong { (row.standing.describe()) } } @else { (row.standing.describe()) } }
                    td { code { (row.tracking) } }
                }
            } }
        }
        @if let Some(principal) = recorder {
            h2 { "Record a Federal Write-In Absentee Ballot (FWAB) received" }
            form method="post" action={ (dashboard_path(&report.election.id)) "/fwab" } {
                (csrf(principal))
                p { label for="jurisdiction" { "Roll (jurisdiction id)" } br; input id="jurisdiction" name="jurisdiction" required value=(report.election.jurisdiction); }
                p { label for="registration_number" { "Registration number" } br; input id="registration_number" name="registration_number" required; }
                p { label for="on" { "Received on" } br; input id="on" name="on" type="date"; " " small.muted { "today if empty" } }
                p { button type="submit" { "Record the FWAB" } }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
struct FwabForm {
    #[serde(default)]
    jurisdiction: String,
    #[serde(default)]
    registration_number: String,
    #[serde(default)]
    on: String,
}

/// `POST /elections/{id}/uocava/fwab`.
async fn fwab_submit(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiForm(form): ApiForm<FwabForm>,
) -> Result<Response, PageError> {
    let election = ElectionId::parse(&id).map_err(ServerError::from)?;
    let jurisdiction = JurisdictionId::parse(form.jurisdiction.trim())
        .map_err(|error| ServerError::Invalid(format!("jurisdiction: {error}")))?;
    principal.authorize(&node, &audit, Operation::RecordBallots, Some(&jurisdiction)).await?;
    let on = match form.on.trim() {
        "" => None,
        text => Some(
            canvass_formats::ncvoter::parse_date(text)
                .map_err(|reason| ServerError::Invalid(format!("on: {reason}")))?,
        ),
    };
    uocava::record_fwab(node.store(), &audit, &jurisdiction, form.registration_number.trim(), &election, on).await?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, dashboard_path(&election))]).into_response())
}
