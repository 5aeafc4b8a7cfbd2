//! The admin API of election definitions: import one for a jurisdiction (the body is the file,
//! `?format=nist-xml|nist-json|csv`), and read one back whole (contests with choices, counties,
//! precincts and which precincts vote on each contest). Listing elections is `GET /api/elections`.

use axum::{
    Json,
    body::Bytes,
    extract::{DefaultBodyLimit, State, rejection::BytesRejection},
    http::StatusCode,
};
use canvass_core::{
    access::Operation,
    id::{ElectionId, JurisdictionId},
    results::ElectionDefinition,
};
use canvass_formats::election_definition::DefinitionFormat;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    Node, ServerError,
    access::Principal,
    api::{ApiPath, ApiQuery, ContestBody, ElectionBody},
    election_import::{self, ImportedDefinition},
    error::ErrorBody,
    ledger::Audit,
};

/// The largest definition file accepted: a state's thousands of precincts and hundreds of
/// contests in NIST XML stay well under it.
pub const MAX_DEFINITION_BYTES: usize = 16 * 1024 * 1024;

/// The routes, merged into the admin API by one line.
pub fn router() -> OpenApiRouter<Node> {
    OpenApiRouter::new()
        .routes(routes!(import_election))
        .layer(DefaultBodyLimit::max(MAX_DEFINITION_BYTES))
        .routes(routes!(election_definition))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ImportQuery {
    /// nist-xml, nist-json or csv.
    pub format: String,
    /// The election's id; made from its name and date when absent.
    pub election: Option<String>,
}

impl ImportQuery {
    pub(crate) fn parsed(&self) -> Result<(DefinitionFormat, Option<ElectionId>), ServerError> {
        let format = DefinitionFormat::parse(&self.format)
            .ok_or_else(|| ServerError::Invalid("format must be nist-xml, nist-json or csv".into()))?;
        let election =
            self.election.as_deref().map(str::trim).filter(|id| !id.is_empty()).map(ElectionId::parse).transpose()?;
        Ok((format, election))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountyBody {
    pub id: String,
    pub name: String,
    /// How many of the election's precincts are in it.
    pub precincts: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DefinitionPrecinctBody {
    pub id: String,
    pub name: String,
    pub county: String,
    /// The ids of the contests its voters vote on.
    pub contests: Vec<String>,
}

/// An election's definition.
#[derive(Debug, Serialize, ToSchema)]
pub struct DefinitionBody {
    pub election: ElectionBody,
    /// In ballot order; a choice is named by its index in `choices`.
    pub contests: Vec<DefinitionContestBody>,
    pub counties: Vec<CountyBody>,
    pub precincts: Vec<DefinitionPrecinctBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DefinitionContestBody {
    #[serde(flatten)]
    pub contest: ContestBody,
    /// The ids of the precincts whose voters vote on it.
    pub precincts: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportedBody {
    /// True when the identical definition was already stored and nothing changed.
    pub unchanged: bool,
    pub message: String,
    pub definition: DefinitionBody,
}

impl DefinitionBody {
    pub(crate) fn of(definition: &ElectionDefinition) -> Self {
        let contests = definition
            .contests
            .iter()
            .map(|contest| DefinitionContestBody {
                contest: ContestBody::from(contest.clone()),
                precincts: definition
                    .coverage
                    .get(&contest.id)
                    .into_iter()
                    .flatten()
                    .map(|id| id.as_str().to_owned())
                    .collect(),
            })
            .collect();
        let counties = definition
            .counties
            .iter()
            .map(|county| CountyBody {
                id: county.id.as_str().to_owned(),
                name: county.name.as_str().to_owned(),
                precincts: definition.precincts.iter().filter(|precinct| precinct.jurisdiction == county.id).count(),
            })
            .collect();
        let precincts = definition
            .precincts
            .iter()
            .map(|precinct| DefinitionPrecinctBody {
                id: precinct.id.as_str().to_owned(),
                name: precinct.name.as_str().to_owned(),
                county: precinct.jurisdiction.as_str().to_owned(),
                contests: definition
                    .contests
                    .iter()
                    .filter(|contest| definition.covers(&contest.id, &precinct.id))
                    .map(|contest| contest.id.as_str().to_owned())
                    .collect(),
            })
            .collect();
        Self { election: ElectionBody::new(definition.election.clone(), None), contests, counties, precincts }
    }
}

/// The sentence an import answers with.
pub(crate) fn import_message(imported: &ImportedDefinition) -> String {
    let definition = &imported.definition;
    if imported.unchanged {
        format!("election {} is already defined exactly so: nothing changed", definition.election.id)
    } else {
        format!(
            "election {} defined: {} contests, {} precincts in {} counties",
            definition.election.id,
            definition.contests.len(),
            definition.precincts.len(),
            definition.counties.len()
        )
    }
}

/// Imports an election's definition for a state or county: the body is the file. Refused
/// whole, with every problem listed, when anything in it is wrong.
#[utoipa::path(post, path = "/api/jurisdictions/{id}/elections", tag = "elections",
    params(("id" = String, Path, description = "the state or county, percent-encoded"), ImportQuery),
    request_body(content = String, description = "the definition file", content_type = "application/octet-stream"),
    responses((status = 201, body = ImportedBody), (status = 200, body = ImportedBody, description = "already defined, unchanged"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn import_election(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<ImportQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<ImportedBody>), ServerError> {
    let jurisdiction = JurisdictionId::parse(&id)?;
    principal.authorize(&node, &audit, Operation::DefineElections, Some(&jurisdiction)).await?;
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ServerError::BodyTooLarge,
        _ => ServerError::Invalid(rejection.body_text()),
    })?;
    let (format, election) = query.parsed()?;
    let imported =
        election_import::import_definition(node.store(), &audit, &jurisdiction, format, &body, election).await?;
    let status = if imported.unchanged { StatusCode::OK } else { StatusCode::CREATED };
    let message = import_message(&imported);
    Ok((
        status,
        Json(ImportedBody {
            unchanged: imported.unchanged,
            message,
            definition: DefinitionBody::of(&imported.definition),
        }),
    ))
}

/// An election's definition: contests with their choices, counties, precincts and coverage.
#[utoipa::path(get, path = "/api/elections/{id}/definition", tag = "elections",
    params(("id" = String, Path, description = "the election id, percent-encoded")),
    responses((status = 200, body = DefinitionBody), (status = 404, body = ErrorBody)))]
async fn election_definition(
    State(node): State<Node>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DefinitionBody>, ServerError> {
    let id = ElectionId::parse(&id)?;
    let definition = node
        .store()
        .election_definition(&id)
        .await?
        .ok_or_else(|| ServerError::NotFound(format!("no election `{id}`")))?;
    Ok(Json(DefinitionBody::of(&definition)))
}
