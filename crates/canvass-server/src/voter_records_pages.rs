//! What the admin voter page shows beside the record, and the routes behind it: the voter's
//! history (elections voted in, a public record), the signature image (served only to a reader
//! allowed `voters.read`, never cached, each view a `voter.read` ledger entry naming the field)
//! and its upload form (multipart with the anti-forgery token, `voters.set_signature`). Also the
//! admin API's vote-history route.

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Multipart, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use canvass_core::{access::Operation, id::JurisdictionId};
use maud::{Markup, html};
use serde::Deserialize;

use crate::{
    Node, ServerError,
    access::Principal,
    admin_pages::{csrf, time_text},
    api::{ApiPath, ApiQuery},
    error::ErrorBody,
    ledger::Audit,
    monitor,
    pages::PageError,
    signatures::{self, MAX_SIGNATURE_BYTES},
    vote_history::{self, VoteView},
};

/// The upload's body may hold the image, the token and multipart framing.
pub const MAX_UPLOAD_BYTES: usize = MAX_SIGNATURE_BYTES + 64 * 1024;

pub fn router() -> Router<Node> {
    Router::new().route(
        "/jurisdictions/{id}/voters/{voter}/signature",
        get(signature_image).post(signature_upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
    )
}

/// A path segment for an id (OCD-IDs contain `/`).
fn encoded(id: &str) -> String {
    form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

fn signature_path(jurisdiction: &JurisdictionId, number: &str) -> String {
    format!("/jurisdictions/{}/voters/{}/signature", encoded(jurisdiction.as_str()), encoded(number))
}

fn voter_path(jurisdiction: &JurisdictionId, number: &str) -> String {
    format!("/jurisdictions/{}/voters/{}", encoded(jurisdiction.as_str()), encoded(number))
}

fn history_table(votes: &[VoteView]) -> Markup {
    html! {
        h2 { "Voting history" }
        @if votes.is_empty() { p.muted { "No vote recorded (import the state's voter history file)." } }
        @else {
            table {
                thead { tr { th { "Election day" } th { "Election" } th { "How" } th { "Party ballot" } th { "Precinct" } } }
                tbody { @for vote in votes {
                    tr {
                        td { (vote.election_date) } td { (vote.election) } td { (vote.voting_method) }
                        td { (vote.voted_party.as_deref().unwrap_or("")) } td { (vote.precinct.as_deref().unwrap_or("")) }
                    }
                } }
            }
        }
    }
}

async fn signature_section(
    node: &Node,
    principal: &Principal,
    jurisdiction: &JurisdictionId,
    number: &str,
) -> Result<Markup, ServerError> {
    let facts = signatures::signature_facts(node.store(), jurisdiction, number).await?;
    let may_read = principal.may(node, Operation::ReadVoters, Some(jurisdiction)).await?;
    let may_set = principal.may(node, Operation::SetVoterSignature, Some(jurisdiction)).await?;
    let path = signature_path(jurisdiction, number);
    Ok(html! {
        h2 { "Signature" }
        @match &facts {
            None => p.muted { "No signature image is stored." },
            Some(facts) => {
                p.muted { (facts.media_type) ", " (facts.size) " bytes, added " (time_text(facts.added_at)) " by " (facts.added_by) "." }
                @if may_read {
                    p { "Confidential: each view is recorded in the audit ledger." }
                    form method="get" action=(path) {
                        p {
                            label for="signature_reason" { "Reason" } br;
                            input id="signature_reason" name="reason" autocomplete="off";
                            " " small.muted { "required for administrators; kept in the audit ledger" }
                        }
                        p { button type="submit" { "View the signature" } }
                    }
                }
            }
        }
        @if may_set {
            form method="post" action=(path) enctype="multipart/form-data" {
                (csrf(principal))
                p {
                    label for="signature" { @if facts.is_some() { "Replace the signature image" } @else { "Add a signature image" } } br;
                    input id="signature" name="signature" type="file" accept="image/png,image/jpeg" required;
                    " " small.muted { "PNG or JPEG, at most 1 MiB" }
                }
                p { button type="submit" { "Upload" } }
            }
        }
    })
}

/// The voting history and signature sections of the admin voter page.
pub async fn voter_sections(
    node: &Node,
    principal: &Principal,
    jurisdiction: &JurisdictionId,
    number: &str,
) -> Result<Markup, ServerError> {
    let votes = vote_history::history_of(node.store(), jurisdiction, number).await?;
    let signature = signature_section(node, principal, jurisdiction, number).await?;
    Ok(html! { (history_table(&votes)) (signature) })
}

#[derive(Deserialize)]
struct ViewQuery {
    reason: Option<String>,
}

/// The signature image, to a reader allowed `voters.read` (administrators with a reason); the
/// read is counted against the hourly limit and recorded before a byte is sent.
async fn signature_image(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath((id, number)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<ViewQuery>,
) -> Result<Response, PageError> {
    let jurisdiction = JurisdictionId::parse(&id).map_err(ServerError::from)?;
    let reason = query.reason.as_deref().map(str::trim).filter(|text| !text.is_empty());
    if reason.is_some_and(|text| text.chars().count() > 500) {
        return Err(ServerError::Invalid("reason: at most 500 characters".into()).into());
    }
    principal.authorize_now(&node, &audit, Operation::ReadVoters, Some(&jurisdiction), reason).await?;
    let ring = node.keys().current(node.store(), &jurisdiction).await?;
    monitor::admit_reads(&node, &principal, &jurisdiction, 1).await?;
    let opened = signatures::open_signature(node.store(), &audit, &ring, &jurisdiction, &number, reason).await?;
    let headers = [
        (header::CONTENT_TYPE, opened.media_type.clone()),
        (header::CACHE_CONTROL, "no-store".to_owned()),
        (header::CONTENT_DISPOSITION, "inline".to_owned()),
    ];
    Ok((headers, Bytes::copy_from_slice(&opened.image)).into_response())
}

/// The upload: the `signature` file field of a multipart form (the `csrf` field was checked
/// by the access layer). Sealed and stored, then back to the voter's page.
async fn signature_upload(
    State(node): State<Node>,
    audit: Audit,
    ApiPath((id, number)): ApiPath<(String, String)>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let jurisdiction = JurisdictionId::parse(&id).map_err(ServerError::from)?;
    let mut image: Option<Bytes> = None;
    while let Some(field) = multipart.next_field().await.map_err(|error| upload_error(&error))? {
        if field.name() == Some("signature") {
            image = Some(field.bytes().await.map_err(|error| upload_error(&error))?);
        }
    }
    let Some(image) = image else {
        return Err(ServerError::Invalid("signature: choose an image file to upload".into()).into());
    };
    let ring = node.keys().current(node.store(), &jurisdiction).await?;
    signatures::set_signature(node.store(), &audit, &ring, &jurisdiction, &number, &image).await?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, voter_path(&jurisdiction, &number))]).into_response())
}

fn upload_error(error: &axum::extract::multipart::MultipartError) -> ServerError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ServerError::Invalid(format!("signature: at most {MAX_SIGNATURE_BYTES} bytes (1 MiB) are accepted"))
    } else {
        ServerError::Invalid("signature: the upload is not a readable multipart form".into())
    }
}

/// A voter's voting history from the state's history file, newest election first: election
/// day and name, how the ballot was cast, the party ballot and precinct. A public record.
#[utoipa::path(get, path = "/api/jurisdictions/{id}/voters/{voter}/vote-history", tag = "voters",
    params(("id" = String, Path), ("voter" = String, Path, description = "the registration number")),
    responses((status = 200, body = [VoteView]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn voter_vote_history(
    State(node): State<Node>,
    ApiPath((id, voter)): ApiPath<(String, String)>,
) -> Result<Json<Vec<VoteView>>, ServerError> {
    let jurisdiction = JurisdictionId::parse(&id)?;
    Ok(Json(vote_history::history_of(node.store(), &jurisdiction, &voter).await?))
}
