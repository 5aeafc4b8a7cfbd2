//! The admin results page of an election: precincts reporting per county ("not reported" until
//! a county's first file), the change history with each correction's reason, and the upload
//! form (multipart with the anti-forgery token; no JavaScript). A refused upload shows the page
//! again with every problem listed.

use axum::{
    Router,
    extract::{DefaultBodyLimit, Multipart, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use canvass_core::{
    access::Operation,
    id::ElectionId,
    results::{ChangeKind, ElectionResults, tally},
};
use maud::{Markup, html};

use crate::{
    Node, ServerError,
    access::Principal,
    admin_pages::{admin_layout, csrf},
    api::ApiPath,
    ledger::Audit,
    pages::PageError,
    results_intake::{self, MAX_UPLOAD_BYTES, ResultsFormat, ResultsOutcome, ResultsUpload},
};

pub fn router() -> Router<Node> {
    Router::new().route(
        "/elections/{id}/results",
        get(results_page).post(results_upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
    )
}

/// A path segment for an id.
fn encoded(id: &str) -> String {
    form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

fn results_path(election: &ElectionId) -> String {
    format!("/elections/{}/results", encoded(election.as_str()))
}

fn counties_table(results: &ElectionResults) -> Markup {
    let sums = tally(results);
    html! {
        h2 { "Precincts reporting" }
        p { (sums.state.precincts_reporting) " of " (sums.state.precincts) " precincts statewide." }
        table {
            thead { tr { th { "County" } th { "Reporting" } } }
            tbody { @for county in &results.definition.counties {
                @let area = sums.counties.get(&county.id).cloned().unwrap_or_default();
                tr {
                    td { (county.name) }
                    td { @if area.precincts_reporting == 0 { "not reported" }
                         @else { (area.precincts_reporting) " of " (area.precincts) } }
                }
            } }
        }
    }
}

fn history_table(results: &ElectionResults) -> Markup {
    html! {
        h2 { "Change history" }
        @if results.changes.is_empty() { p.muted { "No results accepted yet." } }
        @else {
            table {
                thead { tr { th { "#" } th { "Accepted" } th { "Kind" } th { "County" } th { "Precincts" } } }
                tbody { @for change in &results.changes {
                    tr {
                        td { (change.sequence) }
                        td { (change.at.date()) " " (change.at.time()) " UTC" }
                        td { @match &change.kind {
                            ChangeKind::Report => "report",
                            ChangeKind::Correction { reason } => { "correction: " (reason) },
                            ChangeKind::Certification => "certification",
                        } }
                        td { (change.county.as_ref().map(ToString::to_string).unwrap_or_default()) }
                        td { (change.precincts.len()) }
                    }
                } }
            }
        }
    }
}

fn upload_form(election: &ElectionId, principal: &Principal) -> Markup {
    html! {
        h2 { "Upload a county's results" }
        form method="post" action=(results_path(election)) enctype="multipart/form-data" {
            (csrf(principal))
            p {
                label for="format" { "Format" } br;
                select id="format" name="format" {
                    @for format in ResultsFormat::ALL { option value=(format.as_str()) { (format.as_str()) } }
                }
            }
            p {
                label for="file" { "Results file" } br;
                input id="file" name="file" type="file" required;
            }
            p {
                label for="correction" { "Correction reason" } br;
                input id="correction" name="correction" autocomplete="off";
                br; small.muted { "Only to change numbers already accepted; shown in the public change history." }
            }
            p { button type="submit" { "Upload" } }
        }
    }
}

async fn page(
    node: &Node,
    principal: &Principal,
    election: &ElectionId,
    notice: Option<Markup>,
) -> Result<Markup, ServerError> {
    let results = results_intake::load_results(node.store(), election).await?;
    let mut may_upload = false;
    for county in &results.definition.counties {
        may_upload |= principal.may(node, Operation::UploadResults, Some(&county.id)).await?;
    }
    let definition = &results.definition;
    let body = html! {
        h1 { "Results: " (definition.election.name) }
        p.muted { (definition.election.date) @if results.is_certified() { " · certified" } }
        @if let Some(notice) = notice { (notice) }
        (counties_table(&results))
        (history_table(&results))
        @if may_upload { (upload_form(election, principal)) }
    };
    Ok(admin_layout(node, "Results", Some(principal), body))
}

async fn results_page(
    State(node): State<Node>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Markup, PageError> {
    let election = ElectionId::parse(&id).map_err(ServerError::from)?;
    Ok(page(&node, &principal, &election, None).await?)
}

/// The fields of the upload form (the `csrf` field was checked by the access layer).
#[derive(Default)]
struct UploadForm {
    format: Option<String>,
    correction: Option<String>,
    file: Option<axum::body::Bytes>,
}

async fn read_form(mut multipart: Multipart) -> Result<UploadForm, ServerError> {
    let unreadable = |_| ServerError::Invalid("the upload is not a readable multipart form".into());
    let mut form = UploadForm::default();
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("format") => form.format = Some(field.text().await.map_err(unreadable)?),
            Some("correction") => {
                form.correction = Some(field.text().await.map_err(unreadable)?).filter(|text| !text.trim().is_empty())
            }
            Some("file") => form.file = Some(field.bytes().await.map_err(unreadable)?),
            _ => {}
        }
    }
    Ok(form)
}

async fn results_upload(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let election = ElectionId::parse(&id).map_err(ServerError::from)?;
    let form = read_form(multipart).await?;
    let format = ResultsFormat::parse(form.format.as_deref().unwrap_or_default())?;
    let Some(file) = form.file else {
        return Err(ServerError::Invalid("file: choose a results file to upload".into()).into());
    };
    let upload = ResultsUpload { election: &election, format, bytes: &file, correction: form.correction };
    match results_intake::import_results(node.store(), &audit, &principal.grants, &upload).await {
        Ok(outcome) => {
            if let ResultsOutcome::Accepted { .. } = outcome {
                crate::results_publisher::publish_after_upload(&node, &election).await;
            }
            let message = match outcome {
                ResultsOutcome::Accepted { sequence, precincts, .. } => {
                    format!("Accepted as change {sequence}: {precincts} precincts.")
                }
                ResultsOutcome::Unchanged { precincts } => {
                    format!("No change: the {precincts} precincts in the file already have these numbers.")
                }
            };
            let notice = html! { p.notice role="status" { (message) } };
            Ok(page(&node, &principal, &election, Some(notice)).await?.into_response())
        }
        Err(ServerError::ResultsRefused(problems)) => {
            let notice = html! {
                div.error role="alert" {
                    p { "The upload was refused and nothing was written. Fix every problem and upload the file again:" }
                    ul { @for problem in &problems { li { (problem) } } }
                }
            };
            let markup = page(&node, &principal, &election, Some(notice)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, [(header::CACHE_CONTROL, "no-store")], markup).into_response())
        }
        Err(error) => Err(error.into()),
    }
}
