//! The incident register's admin pages, server-rendered and usable without JavaScript or on a
//! phone: `/incidents` lists the incidents the caller may see with a form to open one by hand,
//! `/incidents/{id}` shows one with its timeline and a form to add an update. Forms carry the
//! anti-forgery token; the handlers check the incident's jurisdiction.

use axum::{
    Router,
    extract::State,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use canvass_core::{
    access::Operation,
    incidents::{DataClass, IncidentStatus, Severity},
};
use canvass_store::StoredIncident;
use maud::{Markup, html};
use serde::Deserialize;

use crate::{
    Node, ServerError,
    access::Principal,
    admin_pages::{admin_layout, csrf, time_text},
    api::{ApiForm, ApiPath},
    api_incidents::{NewIncidentBody, UpdateRequestBody, authorize_on, parse_change, parse_new, visible_detail},
    api_staff::visible_incidents,
    incidents::{self, Register},
    ledger::Audit,
    pages::PageError,
};

pub fn router() -> Router<Node> {
    Router::new()
        .route("/incidents", get(incidents_page).post(open_submit))
        .route("/incidents/{id}", get(incident_page))
        .route("/incidents/{id}/updates", post(update_submit))
}

pub(crate) fn incident_path(id: &str) -> String {
    format!("/incidents/{}", form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>())
}

fn place(incident: &StoredIncident) -> String {
    incident.jurisdiction.as_ref().map_or_else(|| "whole node".to_owned(), ToString::to_string)
}

fn severity_options(selected: &str) -> Markup {
    html! { @for severity in Severity::ALL {
        option value=(severity.as_str()) selected[severity.as_str() == selected] { (severity.as_str()) }
    } }
}

fn class_boxes(checked: &[String]) -> Markup {
    html! { @for class in DataClass::ALL {
        label.choice {
            input type="checkbox" name={ "class_" (class.as_str()) } value="on" checked[checked.iter().any(|name| name == class.as_str())];
            " " (class.as_str())
        } " "
    } }
}

async fn incidents_page(State(node): State<Node>, principal: Principal) -> Result<Markup, PageError> {
    let incidents = visible_incidents(&node, &principal, 200).await?;
    let may_open =
        principal.grants.iter().any(|grant| canvass_core::access::rule(Operation::ManageIncidents, grant.role).allowed);
    let body = html! {
        h1 { "Incidents" }
        p.muted { "Every security incident, opened by a detector or by hand. Incidents are never edited or deleted: each change is an update on its timeline and an entry in the ledger." }
        @if incidents.is_empty() { p { "No incidents recorded." } }
        @else {
            table.entries {
                thead { tr { th { "Opened" } th { "Severity" } th { "Status" } th { "Where" } th { "What" } th { "Records" } } }
                tbody { @for incident in &incidents {
                    tr {
                        td { (time_text(incident.opened_at)) }
                        td { (incident.severity) }
                        td { (incident.status) }
                        td { (place(incident)) }
                        td { a href=(incident_path(&incident.id)) { (incident.summary) } }
                        td { (incident.records_affected) }
                    }
                } }
            }
        }
        @if may_open {
            h2 { "Open an incident" }
            form method="post" action="/incidents" {
                (csrf(&principal))
                p { label for="jurisdiction" { "Jurisdiction id" } br;
                    input id="jurisdiction" name="jurisdiction" autocomplete="off";
                    br; small.muted { "Leave empty for the whole node (node-wide administrators only)." } }
                p { label for="severity" { "Severity" } br; select id="severity" name="severity" { (severity_options("medium")) } }
                p { label for="summary" { "What happened" } br;
                    textarea id="summary" name="summary" rows="3" required maxlength="4000" {}
                    br; small.muted { "No personal values: name records by count, people by staff account." } }
                fieldset { legend { "Data affected" } (class_boxes(&[])) }
                p { label for="records_affected" { "Records affected (count)" } br;
                    input id="records_affected" name="records_affected" inputmode="numeric" pattern="[0-9]*" value="0"; }
                p { label for="actions_taken" { "Actions taken" } br; textarea id="actions_taken" name="actions_taken" rows="2" maxlength="4000" {} }
                p { button type="submit" { "Open incident" } }
            }
        }
    };
    Ok(admin_layout(&node, "Incidents", Some(&principal), body))
}

async fn incident_page(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Markup, PageError> {
    let (incident, updates) = visible_detail(&node, &audit, &principal, &id).await?;
    let may_update = principal.may(&node, Operation::ManageIncidents, incident.jurisdiction.as_ref()).await?;
    let statuses: Vec<IncidentStatus> = match IncidentStatus::parse(&incident.status) {
        Ok(current) => IncidentStatus::ALL.into_iter().filter(|next| current.may_become(*next)).collect(),
        Err(_) => Vec::new(),
    };
    let body = html! {
        h1 { "Incident " code { (incident.id) } }
        dl {
            dt { "What happened" } dd { (incident.summary) }
            dt { "Where" } dd { (place(&incident)) }
            dt { "Kind" } dd { (incident.kind) }
            dt { "Severity" } dd { (incident.severity) }
            dt { "Status" } dd { (incident.status) }
            dt { "Detected" } dd { (time_text(incident.detected_at)) }
            dt { "Opened" } dd { (time_text(incident.opened_at)) }
            dt { "Records affected" } dd { (incident.records_affected) }
            dt { "Data affected" } dd { (incident.data_classes.join(", ")) }
            dt { "Actions taken" } dd { (incident.actions_taken) }
            @if let Some(subject) = &incident.subject { dt { "Staff account" } dd { (subject) } }
        }
        h2 { "Timeline" }
        @if updates.is_empty() { p.muted { "No updates yet." } }
        ol.timeline {
            @for update in &updates {
                li {
                    strong { (time_text(update.at)) } " · " (update.author) " · " (update.status) " · " (update.severity)
                    " · " (update.records_affected) " records"
                    @if !update.public_text.is_empty() { p { "Public: " (update.public_text) } }
                    @if !update.internal_text.is_empty() { p.muted { "Internal: " (update.internal_text) } }
                }
            }
        }
        @if may_update {
            h2 { "Add an update" }
            form method="post" action={ (incident_path(&incident.id)) "/updates" } {
                (csrf(&principal))
                p { label for="status" { "Status" } br;
                    select id="status" name="status" { @for status in &statuses {
                        option value=(status.as_str()) selected[status.as_str() == incident.status] { (status.as_str()) }
                    } } }
                p { label for="severity" { "Severity" } br; select id="severity" name="severity" { (severity_options(&incident.severity)) } }
                fieldset { legend { "Data affected" } (class_boxes(&incident.data_classes)) }
                p { label for="records_affected" { "Records affected (count)" } br;
                    input id="records_affected" name="records_affected" inputmode="numeric" pattern="[0-9]*" value=(incident.records_affected); }
                p { label for="actions_taken" { "Actions taken" } br;
                    textarea id="actions_taken" name="actions_taken" rows="2" maxlength="4000" { (incident.actions_taken) } }
                p { label for="public_text" { "Public note" } br; textarea id="public_text" name="public_text" rows="2" maxlength="4000" {}
                    br; small.muted { "Shown in the public transparency report: no personal values, nothing that helps an attacker." } }
                p { label for="internal_text" { "Internal note" } br; textarea id="internal_text" name="internal_text" rows="2" maxlength="4000" {} }
                p { button type="submit" { "Add update" } }
            }
        }
        p { a href="/incidents" { "All incidents" } }
    };
    Ok(admin_layout(&node, "Incident", Some(&principal), body))
}

/// A form's fields: text, and one `class_NAME` box per data class (a urlencoded form has no
/// lists), collected from the fields left over.
#[derive(Debug, Deserialize)]
struct IncidentForm {
    #[serde(default)]
    jurisdiction: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    records_affected: String,
    #[serde(default)]
    actions_taken: String,
    #[serde(default)]
    public_text: String,
    #[serde(default)]
    internal_text: String,
    #[serde(flatten)]
    boxes: std::collections::BTreeMap<String, String>,
}

impl IncidentForm {
    fn data_classes(&self) -> Vec<String> {
        self.boxes.keys().filter_map(|name| name.strip_prefix("class_")).map(str::to_owned).collect()
    }
}

fn count(text: &str) -> Result<u64, ServerError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(0);
    }
    text.parse().map_err(|_| ServerError::Invalid("records_affected: a whole number".into()))
}

async fn open_submit(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiForm(form): ApiForm<IncidentForm>,
) -> Result<Response, PageError> {
    let data_classes = form.data_classes();
    let new = parse_new(NewIncidentBody {
        jurisdiction: Some(form.jurisdiction),
        severity: form.severity,
        summary: form.summary,
        detected_at: None,
        data_classes,
        records_affected: count(&form.records_affected)?,
        actions_taken: form.actions_taken,
    })?;
    authorize_on(&node, &audit, &principal, Operation::ManageIncidents, new.jurisdiction.as_ref()).await?;
    let incident = incidents::open_by_hand(&Register::of_node(&node), &audit, new).await?;
    Ok(Redirect::to(&incident_path(&incident.id)).into_response())
}

async fn update_submit(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiForm(form): ApiForm<IncidentForm>,
) -> Result<Response, PageError> {
    let incident = incidents::find(node.store(), &id).await?;
    authorize_on(&node, &audit, &principal, Operation::ManageIncidents, incident.jurisdiction.as_ref()).await?;
    let data_classes = form.data_classes();
    let optional = |text: String| Some(text.trim().to_owned()).filter(|text| !text.is_empty());
    let change = parse_change(UpdateRequestBody {
        status: optional(form.status),
        severity: optional(form.severity),
        records_affected: Some(count(&form.records_affected)?),
        data_classes: Some(data_classes),
        actions_taken: Some(form.actions_taken),
        public_text: form.public_text,
        internal_text: form.internal_text,
    })?;
    incidents::update(&Register::of_node(&node), &audit, &id, change).await?;
    Ok(Redirect::to(&incident_path(&id)).into_response())
}
