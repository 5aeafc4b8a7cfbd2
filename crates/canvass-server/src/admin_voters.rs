//! The admin pages of a jurisdiction's roll, server-rendered and usable without JavaScript: the
//! staff search (a form posted with its anti-forgery token, so names and identifiers never sit
//! in a URL or the browser's history; confidential fields only with a written reason), a voter's
//! page with its status history, and the status-change form under the NVRA rules.

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use canvass_core::{access::Operation, id::JurisdictionId, lifecycle::StatusReason, voter::VoterStatus};
use maud::{Markup, html};
use serde::Deserialize;

use crate::{
    Node, ServerError,
    access::Principal,
    admin_pages::{admin_layout, csrf, time_text},
    api::{ApiForm, ApiPath},
    api_voters::{confidential_reason, status_request},
    ledger::Audit,
    pages::PageError,
    roll::RollRecord,
    roll_search::{self, SearchFields, SearchQuery},
    voter_status,
};

pub fn router() -> Router<Node> {
    Router::new()
        .route("/voters", get(jurisdictions_page))
        .route("/jurisdictions/{id}/voters", get(search_page).post(search_submit))
        .route("/jurisdictions/{id}/voters/{voter}", get(voter_page))
        .route("/jurisdictions/{id}/voters/{voter}/status", post(status_submit))
}

/// A path segment for a jurisdiction id (OCD-IDs contain `/`).
fn encoded(id: &str) -> String {
    form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

fn search_path(jurisdiction: &JurisdictionId) -> String {
    format!("/jurisdictions/{}/voters", encoded(jurisdiction.as_str()))
}

fn voter_path(jurisdiction: &JurisdictionId, number: &str) -> String {
    format!("{}/{}", search_path(jurisdiction), encoded(number))
}

/// The jurisdictions whose roll the caller may search.
async fn jurisdictions_page(State(node): State<Node>, principal: Principal) -> Result<Markup, PageError> {
    let mut searchable = Vec::new();
    for jurisdiction in node.store().jurisdictions().await? {
        if principal.may(&node, Operation::SearchVoters, Some(&jurisdiction.id)).await? {
            searchable.push(jurisdiction);
        }
    }
    let body = html! {
        h1 { "Search voters" }
        @if searchable.is_empty() { p.muted { "Your roles do not allow searching any roll on this node." } }
        ul { @for jurisdiction in &searchable {
            li { a href=(search_path(&jurisdiction.id)) { (jurisdiction.name) } " " code { (jurisdiction.id) } }
        } }
    };
    Ok(admin_layout(&node, "Search voters", Some(&principal), body))
}

/// The search form's fields; also what the page shows back after a search.
#[derive(Default, Deserialize)]
struct SearchForm {
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    county: String,
    #[serde(default)]
    registration_number: String,
    #[serde(default)]
    drivers_license: String,
    #[serde(default)]
    ssn4: String,
    /// A checkbox: present ("on") when ticked.
    confidential: Option<String>,
    #[serde(default)]
    reason: String,
}

// The form holds personal values: Debug names none.
impl std::fmt::Debug for SearchForm {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("SearchForm").finish_non_exhaustive()
    }
}

impl SearchForm {
    fn fields(&self) -> SearchFields<'_> {
        SearchFields {
            last_name: Some(&self.last_name),
            first_name: Some(&self.first_name),
            birth_date: Some(&self.birth_date),
            county: Some(&self.county),
            registration_number: Some(&self.registration_number),
            drivers_license: Some(&self.drivers_license),
            ssn4: Some(&self.ssn4),
        }
    }
}

fn text_input(id: &str, label: &str, value: &str, hint: &str) -> Markup {
    html! {
        p {
            label for=(id) { (label) } br;
            input id=(id) name=(id) value=(value) autocomplete="off";
            @if !hint.is_empty() { " " small.muted { (hint) } }
        }
    }
}

/// The form, filled with what was searched (the SSN digits are never echoed back).
fn search_form(jurisdiction: &JurisdictionId, principal: &Principal, form: &SearchForm) -> Markup {
    html! {
        form method="post" action=(search_path(jurisdiction)) {
            (csrf(principal))
            fieldset {
                legend { "By name" }
                (text_input("last_name", "Last name", &form.last_name, ""))
                (text_input("first_name", "First name", &form.first_name, ""))
                (text_input("birth_date", "Date of birth", &form.birth_date, "optional; YYYY-MM-DD or MM/DD/YYYY"))
                (text_input("county", "County", &form.county, "optional; a jurisdiction id"))
            }
            fieldset {
                legend { "Or by one identifier" }
                (text_input("registration_number", "Registration number (NCID)", &form.registration_number, ""))
                (text_input("drivers_license", "Driver's licence number", &form.drivers_license, ""))
                (text_input("ssn4", "SSN last four", "", "with last name and date of birth"))
            }
            fieldset {
                legend { "Confidential fields" }
                p {
                    label {
                        input type="checkbox" name="confidential" checked[form.confidential.is_some()];
                        " Show confidential fields (date of birth, SSN last four, driver's licence, email, a protected address)"
                    }
                }
                (text_input("reason", "Reason", &form.reason, "required to show confidential fields; kept in the audit ledger"))
            }
            p { button type="submit" { "Search" } }
        }
    }
}

async fn search_page(
    State(node): State<Node>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Markup, PageError> {
    let jurisdiction = JurisdictionId::parse(&id).map_err(ServerError::from)?;
    let body = html! {
        h1 { "Search voters of " code { (jurisdiction) } }
        p { a href=(crate::admin_duplicates::duplicates_path(&jurisdiction)) { "Candidate duplicates" } }
        (search_form(&jurisdiction, &principal, &SearchForm::default()))
    };
    Ok(admin_layout(&node, "Search voters", Some(&principal), body))
}

fn results_table(jurisdiction: &JurisdictionId, records: &[RollRecord], confidential: bool) -> Markup {
    html! {
        table {
            thead { tr {
                th { "Registration number" } th { "Name" } th { "Status" } th { "County" } th { "Precinct" }
                th { "Party" } th { "Registered" } th { "Address" }
                @if confidential { th { "Date of birth" } th { "SSN last four" } th { "Driver's licence" } th { "Email" } }
            } }
            tbody { @for record in records {
                tr {
                    td { a href=(voter_path(jurisdiction, &record.registration_number)) { (record.registration_number) } }
                    td { (record.last_name) ", " (record.first_name) }
                    td { (record.status.as_str()) }
                    td { (record.county) } td { (record.precinct) } td { (record.party) } td { (record.registered_on) }
                    td { (address(record)) }
                    @if confidential {
                        td { (record.birth_date.as_deref().unwrap_or("")) }
                        td { (record.ssn_last_four.as_deref().unwrap_or("")) }
                        td { (record.drivers_license.as_deref().unwrap_or("")) }
                        td { (record.email.as_deref().unwrap_or("")) }
                    }
                }
            } }
        }
    }
}

fn address(record: &RollRecord) -> Markup {
    let street = record.detail("res_street_address");
    html! {
        @if !street.is_empty() { (street) ", " (record.detail("res_city_desc")) " " (record.detail("zip_code")) }
        @else if record.address_confidential { em { "confidential (address confidentiality program)" } }
    }
}

async fn search_submit(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiForm(form): ApiForm<SearchForm>,
) -> Result<Response, PageError> {
    let jurisdiction = JurisdictionId::parse(&id).map_err(ServerError::from)?;
    // A mistake in the form is shown above the form, kept filled, with a 400.
    let parsed = SearchQuery::from_fields(form.fields())
        .and_then(|query| Ok((query, confidential_reason(form.confidential.is_some(), Some(&form.reason), None)?)));
    let (query, reason) = match parsed {
        Ok(parsed) => parsed,
        Err(error @ ServerError::Invalid(_)) => {
            let body = html! {
                h1 { "Search voters of " code { (jurisdiction) } }
                p.error role="alert" { (error.public_message()) }
                (search_form(&jurisdiction, &principal, &form))
            };
            return Ok(
                (StatusCode::BAD_REQUEST, admin_layout(&node, "Search voters", Some(&principal), body)).into_response()
            );
        }
        Err(error) => return Err(error.into()),
    };
    let found = roll_search::search_as(&node, &audit, &principal, &jurisdiction, &query, reason).await?;
    let body = html! {
        h1 { "Search voters of " code { (jurisdiction) } }
        @if reason.is_some() {
            p.notice { "Confidential fields are shown; this read is recorded in the audit ledger with your reason." }
        }
        h2 { (found.len()) " voter(s) found" }
        @if !found.is_empty() { (results_table(&jurisdiction, &found, reason.is_some())) }
        h2 { "Search again" }
        (search_form(&jurisdiction, &principal, &form))
    };
    Ok(admin_layout(&node, "Search voters", Some(&principal), body).into_response())
}

fn status_options() -> Markup {
    let statuses =
        [VoterStatus::Active, VoterStatus::Inactive, VoterStatus::Removed, VoterStatus::Denied, VoterStatus::Temporary];
    html! { @for status in statuses { option value=(status.as_str()) { (status.as_str()) } } }
}

fn reason_options() -> Markup {
    html! { @for reason in StatusReason::ALL {
        option value=(reason.as_str()) { (reason.as_str()) " — " (reason.description()) }
    } }
}

/// A voter's public-record fields, status history and the status-change form.
async fn voter_page(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath((id, number)): ApiPath<(String, String)>,
) -> Result<Markup, PageError> {
    let jurisdiction = JurisdictionId::parse(&id).map_err(ServerError::from)?;
    let query = SearchQuery::RegistrationNumber(number.clone());
    let found = roll_search::search_as(&node, &audit, &principal, &jurisdiction, &query, None).await?;
    let Some(record) = found.first() else {
        return Err(
            ServerError::NotFound(format!("no voter with registration number {number} in {jurisdiction}")).into()
        );
    };
    let history = voter_status::history(node.store(), &jurisdiction, &number).await?;
    let may_change = principal.may(&node, Operation::ChangeVoterStatus, Some(&jurisdiction)).await?;
    let ballots = crate::admin_ballots::section(&node, &principal, &jurisdiction, &number).await?;
    let records = crate::voter_records_pages::voter_sections(&node, &principal, &jurisdiction, &number).await?;
    let action = format!("{}/status", voter_path(&jurisdiction, &number));
    let body = html! {
        h1 { (record.last_name) ", " (record.first_name) " " small { code { (record.registration_number) } } }
        p { a href=(search_path(&jurisdiction)) { "Back to the search" } }
        table { tbody {
            tr { th { "Status" } td { strong { (record.status.as_str()) } } }
            tr { th { "County" } td { (record.county) } }
            tr { th { "Precinct" } td { (record.precinct) } }
            tr { th { "Party" } td { (record.party) } }
            tr { th { "Registered" } td { (record.registered_on) } }
            tr { th { "Address" } td { (address(record)) } }
        } }
        h2 { "Status history" }
        @if history.is_empty() { p.muted { "No status change recorded." } }
        @else {
            table {
                thead { tr { th { "Effective" } th { "From" } th { "To" } th { "Reason" } th { "Notice sent" } th { "Last contact" } th { "By" } th { "Recorded" } } }
                tbody { @for change in &history {
                    tr {
                        td { (change.effective_on) } td { (change.from.as_str()) } td { (change.to.as_str()) }
                        td { code { (change.reason.as_str()) } br; small { (change.reason.description()) " (" (change.reason.statute()) ")" } }
                        td { (change.confirmation_notice_sent.map(|date| date.to_string()).unwrap_or_default()) }
                        td { (change.last_contact.map(|date| date.to_string()).unwrap_or_default()) }
                        td { (change.actor) } td { (time_text(change.recorded_at)) }
                    }
                } }
            }
        }
        (ballots)
        (records)
        @if may_change {
            h2 { "Change the status" }
            p.muted { "The NVRA list-maintenance rules are checked: a removal for change of address needs a confirmation notice and no contact through two federal general elections; systematic changes stop 90 days before a federal election." }
            form method="post" action=(action) {
                (csrf(&principal))
                p { label for="status" { "New status" } br; select id="status" name="status" { (status_options()) } }
                p { label for="reason" { "Reason" } br; select id="reason" name="reason" { (reason_options()) } }
                p { label for="effective" { "Effective date" } br; input id="effective" name="effective" type="date"; " " small.muted { "today if empty" } }
                p { label for="notice_sent" { "Confirmation notice sent" } br; input id="notice_sent" name="notice_sent" type="date"; }
                p { label for="last_contact" { "Voter's last contact" } br; input id="last_contact" name="last_contact" type="date"; }
                p { button type="submit" { "Change the status" } }
            }
        }
    };
    Ok(admin_layout(&node, "Voter", Some(&principal), body))
}

#[derive(Debug, Deserialize)]
struct StatusForm {
    status: String,
    reason: String,
    #[serde(default)]
    effective: String,
    #[serde(default)]
    notice_sent: String,
    #[serde(default)]
    last_contact: String,
}

async fn status_submit(
    State(node): State<Node>,
    audit: Audit,
    ApiPath((id, number)): ApiPath<(String, String)>,
    ApiForm(form): ApiForm<StatusForm>,
) -> Result<Response, PageError> {
    let jurisdiction = JurisdictionId::parse(&id).map_err(ServerError::from)?;
    let dates = [Some(form.effective.as_str()), Some(form.notice_sent.as_str()), Some(form.last_contact.as_str())];
    let request = status_request(jurisdiction.clone(), number.clone(), &form.status, &form.reason, dates)?;
    voter_status::change_status(node.store(), &audit, &request).await?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, voter_path(&jurisdiction, &number))]).into_response())
}
