//! The admin pages of election definitions, server-rendered and usable without JavaScript or
//! on a phone: `/elections` lists the node's elections with an upload form (a NIST 1500-100 or
//! CSV definition for a state or county, posted as a multipart form with the anti-forgery
//! token), and `/elections/{id}` shows one: its contests with their choices, its counties and
//! how many precincts each has.

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Multipart, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use canvass_core::{
    access::Operation,
    id::{ElectionId, JurisdictionId},
    jurisdiction::{JurisdictionKind, tree_order},
    results::ElectionDefinition,
};
use canvass_formats::election_definition::DefinitionFormat;
use maud::{Markup, html};

use crate::{
    Node, ServerError,
    access::Principal,
    admin_pages::{admin_layout, csrf},
    api::ApiPath,
    api_elections::{ImportQuery, MAX_DEFINITION_BYTES},
    election_import,
    ledger::Audit,
    pages::PageError,
};

/// The upload form's body: the file, the other fields and multipart framing.
pub const MAX_UPLOAD_BYTES: usize = MAX_DEFINITION_BYTES + 64 * 1024;

pub fn router() -> Router<Node> {
    Router::new()
        .route("/elections", get(elections_page).post(upload_submit).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)))
        .route("/elections/{id}", get(election_page))
}

/// A path segment for an id.
fn encoded(id: &str) -> String {
    form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

fn election_path(id: &ElectionId) -> String {
    format!("/elections/{}", encoded(id.as_str()))
}

async fn elections_page(State(node): State<Node>, principal: Principal) -> Result<Markup, PageError> {
    let elections = node.store().elections(None).await.map_err(ServerError::from)?;
    let jurisdictions = node.store().jurisdictions().await.map_err(ServerError::from)?;
    let mut definable = Vec::new();
    for (depth, jurisdiction) in tree_order(&jurisdictions) {
        if jurisdiction.kind != JurisdictionKind::Municipality
            && principal.may(&node, Operation::DefineElections, Some(&jurisdiction.id)).await?
        {
            definable.push((depth, jurisdiction));
        }
    }
    let body = html! {
        h1 { "Elections" }
        @if elections.is_empty() { p { "No election is defined yet." } }
        @else {
            table.entries {
                thead { tr { th { "Day" } th { "Election" } th { "Kind" } th { "Jurisdiction" } } }
                tbody { @for election in &elections {
                    tr {
                        td { (election.date) }
                        td { a href=(election_path(&election.id)) { (election.name.as_str()) } br; code { (election.id) } }
                        td { (election.kind.as_str()) }
                        td { code { (election.jurisdiction) } }
                    }
                } }
            }
        }
        @if !definable.is_empty() {
            h2 { "Import a definition" }
            p.muted {
                "A NIST SP 1500-100 v2 document (pre-election or results, XML or JSON) or the simple CSV layout "
                "(see the README). A file with any problem is refused whole, with every problem listed; "
                "importing the same definition again changes nothing."
            }
            form method="post" action="/elections" enctype="multipart/form-data" {
                (csrf(&principal))
                p {
                    label for="jurisdiction" { "For" } br;
                    select id="jurisdiction" name="jurisdiction" required {
                        @for (depth, jurisdiction) in &definable {
                            option value=(jurisdiction.id) { ("\u{a0}\u{a0}".repeat(*depth)) (jurisdiction.name.as_str()) " (" (jurisdiction.kind) ")" }
                        }
                    }
                }
                p {
                    label for="format" { "Format" } br;
                    select id="format" name="format" required {
                        @for format in DefinitionFormat::ALL { option value=(format.as_str()) { (format.as_str()) } }
                    }
                }
                p {
                    label for="election" { "Election id" } br;
                    input id="election" name="election" autocomplete="off" pattern="[a-z0-9][a-z0-9._-]*";
                    br; small.muted { "Optional: made from the election's name and day when left empty." }
                }
                p { label for="file" { "File" } br; input id="file" name="file" type="file" required; }
                p { button type="submit" { "Import" } }
            }
        }
    };
    Ok(admin_layout(&node, "Elections", Some(&principal), body))
}

/// The upload: `jurisdiction`, `format`, `election` and `file` fields (the `csrf` field was
/// checked by the access layer); the import is authorized on the named jurisdiction here.
async fn upload_submit(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let mut fields = UploadFields::default();
    while let Some(field) = multipart.next_field().await.map_err(|error| upload_error(&error))? {
        let name = field.name().unwrap_or_default().to_owned();
        let value = field.bytes().await.map_err(|error| upload_error(&error))?;
        fields.set(&name, value);
    }
    let jurisdiction = JurisdictionId::parse(fields.jurisdiction.trim()).map_err(ServerError::from)?;
    principal.authorize(&node, &audit, Operation::DefineElections, Some(&jurisdiction)).await?;
    let query = ImportQuery { format: fields.format, election: Some(fields.election) };
    let (format, election) = query.parsed()?;
    let Some(file) = fields.file.filter(|file| !file.is_empty()) else {
        return Err(ServerError::Invalid("file: choose the definition file to import".into()).into());
    };
    let imported =
        election_import::import_definition(node.store(), &audit, &jurisdiction, format, &file, election).await?;
    let location = election_path(&imported.definition.election.id);
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
}

#[derive(Default)]
struct UploadFields {
    jurisdiction: String,
    format: String,
    election: String,
    file: Option<Bytes>,
}

impl UploadFields {
    fn set(&mut self, name: &str, value: Bytes) {
        let text = || String::from_utf8_lossy(&value).into_owned();
        match name {
            "jurisdiction" => self.jurisdiction = text(),
            "format" => self.format = text(),
            "election" => self.election = text(),
            "file" => self.file = Some(value),
            _ => {}
        }
    }
}

fn upload_error(error: &axum::extract::multipart::MultipartError) -> ServerError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ServerError::BodyTooLarge
    } else {
        ServerError::Invalid("the upload is not a readable multipart form".into())
    }
}

async fn election_page(
    State(node): State<Node>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Markup, PageError> {
    let id = ElectionId::parse(&id).map_err(ServerError::from)?;
    let definition = node
        .store()
        .election_definition(&id)
        .await
        .map_err(ServerError::from)?
        .ok_or_else(|| ServerError::NotFound(format!("no election `{id}`")))?;
    let title = definition.election.name.as_str().to_owned();
    Ok(admin_layout(&node, &title, Some(&principal), definition_view(&definition)))
}

fn definition_view(definition: &ElectionDefinition) -> Markup {
    let election = &definition.election;
    html! {
        p { a href="/elections" { "All elections" } }
        h1 { (election.name.as_str()) }
        p { (election.kind.as_str()) " election on " (election.date) " for " code { (election.jurisdiction) } " · id " code { (election.id) } }
        h2 { "Contests (" (definition.contests.len()) ")" }
        table.entries {
            thead { tr { th { "Contest" } th { "Vote for" } th { "Choices" } th { "Precincts" } } }
            tbody { @for contest in &definition.contests {
                tr {
                    td { (contest.name.as_str()) br; small.muted { (contest.kind.as_str()) " · " code { (contest.id) } } }
                    td { (contest.vote_for.get()) }
                    td { ol { @for choice in &contest.choices {
                        li { (choice.name.as_str()) @if let Some(party) = &choice.party { " (" (party) ")" } }
                    } } }
                    td { (definition.coverage.get(&contest.id).map_or(0, |precincts| precincts.len())) }
                }
            } }
        }
        h2 { "Counties (" (definition.counties.len()) ")" }
        table.entries {
            thead { tr { th { "County" } th { "Precincts" } } }
            tbody { @for county in &definition.counties {
                tr {
                    td { (county.name.as_str()) br; code { (county.id) } }
                    td { (definition.precincts.iter().filter(|precinct| precinct.jurisdiction == county.id).count()) }
                }
            } }
        }
    }
}
