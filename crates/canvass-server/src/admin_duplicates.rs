//! The admin page of duplicate detection, server-rendered and usable without JavaScript: a
//! jurisdiction tree's candidate pairs side by side (public-record fields only), each with a
//! merge form (keep one, remove the other as `duplicate_merged`) and a dismiss form, both posted
//! with the anti-forgery token.

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use canvass_core::{access::Operation, id::JurisdictionId};
use maud::{Markup, html};
use serde::Deserialize;

use crate::{
    Node, ServerError,
    access::Principal,
    admin_pages::{admin_layout, csrf},
    api::{ApiForm, ApiPath, ApiQuery},
    api_duplicates::{dismiss_as, merge_as, parse_after},
    duplicates::{self, DecisionRequest, DuplicatePair},
    ledger::Audit,
    pages::PageError,
    roll::RollRecord,
};

/// Pairs per page.
const PAGE_SIZE: u32 = 25;

pub fn router() -> Router<Node> {
    Router::new()
        .route("/jurisdictions/{id}/duplicates", get(duplicates_page))
        .route("/jurisdictions/{id}/duplicates/merge", post(merge_submit))
        .route("/jurisdictions/{id}/duplicates/dismiss", post(dismiss_submit))
}

/// A path segment for a jurisdiction id (OCD-IDs contain `/`).
fn encoded(id: &str) -> String {
    form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

/// The page's path, for links from elsewhere (the voters page).
pub(crate) fn duplicates_path(jurisdiction: &JurisdictionId) -> String {
    format!("/jurisdictions/{}/duplicates", encoded(jurisdiction.as_str()))
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    after: Option<String>,
}

fn record_cells(record: &RollRecord) -> Markup {
    let street = record.detail("res_street_address");
    html! {
        p { strong { (record.last_name) ", " (record.first_name) } br; code { (record.registration_number) } }
        p {
            "Status " strong { (record.status.as_str()) } br;
            "County " (record.county) br;
            "Precinct " (record.precinct) br;
            "Party " (record.party) br;
            "Registered " (record.registered_on) br;
            @if !street.is_empty() { (street) ", " (record.detail("res_city_desc")) " " (record.detail("zip_code")) }
            @else if record.address_confidential { em { "address confidential" } }
        }
    }
}

fn merge_form(jurisdiction: &JurisdictionId, principal: &Principal, keep: &str, remove: &str) -> Markup {
    html! {
        form method="post" action=(format!("{}/merge", duplicates_path(jurisdiction))) {
            (csrf(principal))
            input type="hidden" name="keep" value=(keep);
            input type="hidden" name="remove" value=(remove);
            p {
                label { "Reason " input name="reason" required maxlength="500" autocomplete="off"; }
                " " button type="submit" { "Keep " (keep) ", remove " (remove) }
            }
        }
    }
}

fn pair_section(
    jurisdiction: &JurisdictionId,
    principal: &Principal,
    pair: &DuplicatePair,
    may_decide: bool,
) -> Markup {
    let (first, second) = (&pair.first.registration_number, &pair.second.registration_number);
    html! {
        section.pair {
            h2 { (first) " and " (second) " " small.muted { "matched on " (pair.rules.join(" and ")) } }
            table { tbody { tr { td { (record_cells(&pair.first)) } td { (record_cells(&pair.second)) } } } }
            @if may_decide {
                (merge_form(jurisdiction, principal, first, second))
                (merge_form(jurisdiction, principal, second, first))
                form method="post" action=(format!("{}/dismiss", duplicates_path(jurisdiction))) {
                    (csrf(principal))
                    input type="hidden" name="first" value=(first);
                    input type="hidden" name="second" value=(second);
                    p {
                        label { "Reason " input name="reason" required maxlength="500" autocomplete="off"; }
                        " " button type="submit" { "Not duplicates: dismiss" }
                    }
                }
            }
        }
    }
}

async fn duplicates_page(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Markup, PageError> {
    let jurisdiction = JurisdictionId::parse(&id).map_err(ServerError::from)?;
    let after = parse_after(query.after.as_deref())?;
    let after = after.as_ref().map(|(first, second)| (first.as_str(), second.as_str()));
    let page = duplicates::find_as(&node, &audit, &principal, &jurisdiction, after, PAGE_SIZE, None).await?;
    let may_decide = principal.may(&node, Operation::DecideDuplicates, Some(&jurisdiction)).await?
        && principal.may(&node, Operation::ChangeVoterStatus, Some(&jurisdiction)).await?;
    let body = html! {
        h1 { "Candidate duplicates in " code { (jurisdiction) } }
        p.muted {
            "Records of one roll, in this jurisdiction or under it, whose name and date of birth or driver's licence number agree. "
            "Merging keeps one record and removes the other with reason duplicate_merged, under the NVRA list-maintenance rules. "
            "Decisions are recorded in the audit ledger; write no personal values in the reason."
        }
        @if page.pairs.is_empty() { p { "No undecided candidate pairs." } }
        @for pair in &page.pairs { (pair_section(&jurisdiction, &principal, pair, may_decide)) }
        @if let Some((first, second)) = &page.next {
            p { a href=(format!("{}?after={}", duplicates_path(&jurisdiction), encoded(&format!("{first},{second}")))) { "Next pairs" } }
        }
    };
    Ok(admin_layout(&node, "Candidate duplicates", Some(&principal), body))
}

#[derive(Debug, Deserialize)]
struct MergeForm {
    keep: String,
    remove: String,
    #[serde(default)]
    reason: String,
}

#[derive(Debug, Deserialize)]
struct DismissForm {
    first: String,
    second: String,
    #[serde(default)]
    reason: String,
}

fn back_to(jurisdiction: &JurisdictionId) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, duplicates_path(jurisdiction))]).into_response()
}

async fn merge_submit(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiForm(form): ApiForm<MergeForm>,
) -> Result<Response, PageError> {
    let jurisdiction = JurisdictionId::parse(&id).map_err(ServerError::from)?;
    let request =
        DecisionRequest::parse(jurisdiction.clone(), ("keep", &form.keep), ("remove", &form.remove), &form.reason)?;
    merge_as(&node, &audit, &principal, &request).await?;
    Ok(back_to(&jurisdiction))
}

async fn dismiss_submit(
    State(node): State<Node>,
    audit: Audit,
    ApiPath(id): ApiPath<String>,
    ApiForm(form): ApiForm<DismissForm>,
) -> Result<Response, PageError> {
    let jurisdiction = JurisdictionId::parse(&id).map_err(ServerError::from)?;
    let request =
        DecisionRequest::parse(jurisdiction.clone(), ("first", &form.first), ("second", &form.second), &form.reason)?;
    dismiss_as(&node, &audit, &request).await?;
    Ok(back_to(&jurisdiction))
}
