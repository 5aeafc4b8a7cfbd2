//! The admin API (`/api/...` on the admin listener). Each route is registered together with
//! its OpenAPI description (utoipa-axum's `routes!`), so `/api/openapi.json` cannot miss one.
//! Ids that are OCD-IDs contain `/`: clients percent-encode them in paths (`%2F`).

use axum::{
    Json,
    extract::{FromRequest, FromRequestParts, State},
    http::StatusCode,
};
use canvass_core::{
    election::{Contest, Election},
    id::{ElectionId, JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct},
    name::Name,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use canvass_core::access::Operation;

use crate::{Node, ServerError, access::Principal, error::ErrorBody, ledger::Audit, service};

#[derive(OpenApi)]
#[openapi(
    info(title = "Canvass admin API", description = "Administration of a Canvass node. Machines authenticate with an API token (`Authorization: Bearer canvass.ID.SECRET`); browsers with the session cookie of the admin pages, sending its anti-forgery token in `x-csrf-token` on changes. What each role may do is the policy table (`canvass policy`)."),
    modifiers(&BearerAuthentication),
    security(("token" = [])),
    tags((name = "node"), (name = "jurisdictions"), (name = "precincts"), (name = "elections"), (name = "keys"), (name = "voters"), (name = "audit"), (name = "staff"), (name = "approvals"))
)]
struct ApiDocument;

struct BearerAuthentication;

impl utoipa::Modify for BearerAuthentication {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// JSON body extractor whose failures are the API's JSON errors.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ServerError))]
pub struct ApiJson<T>(pub T);

/// Form body extractor for the admin pages, whose failures are plain errors.
#[derive(FromRequest)]
#[from_request(via(axum::Form), rejection(ServerError))]
pub struct ApiForm<T>(pub T);

/// Query extractor whose failures are the API's JSON errors.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ServerError))]
pub struct ApiQuery<T>(pub T);

/// Path extractor whose failures are the API's JSON errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ServerError))]
pub struct ApiPath<T>(pub T);

impl From<axum::extract::rejection::QueryRejection> for ServerError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        Self::Invalid(rejection.body_text())
    }
}

impl From<axum::extract::rejection::FormRejection> for ServerError {
    fn from(rejection: axum::extract::rejection::FormRejection) -> Self {
        Self::Invalid(rejection.body_text())
    }
}

impl From<axum::extract::rejection::PathRejection> for ServerError {
    fn from(rejection: axum::extract::rejection::PathRejection) -> Self {
        Self::Invalid(rejection.body_text())
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KindBody {
    State,
    County,
    Municipality,
}

impl From<KindBody> for JurisdictionKind {
    fn from(kind: KindBody) -> Self {
        match kind {
            KindBody::State => Self::State,
            KindBody::County => Self::County,
            KindBody::Municipality => Self::Municipality,
        }
    }
}

impl From<JurisdictionKind> for KindBody {
    fn from(kind: JurisdictionKind) -> Self {
        match kind {
            JurisdictionKind::State => Self::State,
            JurisdictionKind::County => Self::County,
            JurisdictionKind::Municipality => Self::Municipality,
        }
    }
}

/// A state, county or municipality.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JurisdictionBody {
    /// An OCD-ID (`ocd-division/country:us/state:nc/county:wake`) or a lowercase slug.
    pub id: String,
    pub name: String,
    pub kind: KindBody,
    /// The parent's id: a county's state, a municipality's county or state.
    pub parent: Option<String>,
}

impl From<Jurisdiction> for JurisdictionBody {
    fn from(jurisdiction: Jurisdiction) -> Self {
        Self {
            id: jurisdiction.id.into(),
            name: jurisdiction.name.into(),
            kind: jurisdiction.kind.into(),
            parent: jurisdiction.parent.map(Into::into),
        }
    }
}

impl TryFrom<JurisdictionBody> for Jurisdiction {
    type Error = ServerError;
    fn try_from(body: JurisdictionBody) -> Result<Self, ServerError> {
        Ok(Self {
            id: JurisdictionId::parse(&body.id)?,
            name: Name::parse(&body.name)?,
            kind: body.kind.into(),
            parent: body.parent.as_deref().map(JurisdictionId::parse).transpose()?,
        })
    }
}

/// A precinct (reporting unit) inside a jurisdiction.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PrecinctBody {
    pub id: String,
    pub jurisdiction: String,
    pub name: String,
}

impl From<Precinct> for PrecinctBody {
    fn from(precinct: Precinct) -> Self {
        Self { id: precinct.id.into(), jurisdiction: precinct.jurisdiction.into(), name: precinct.name.into() }
    }
}

impl TryFrom<PrecinctBody> for Precinct {
    type Error = ServerError;
    fn try_from(body: PrecinctBody) -> Result<Self, ServerError> {
        Ok(Self {
            id: PrecinctId::parse(&body.id)?,
            jurisdiction: JurisdictionId::parse(&body.jurisdiction)?,
            name: Name::parse(&body.name)?,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChoiceBody {
    pub name: String,
    pub party: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContestBody {
    pub id: String,
    /// The jurisdiction whose voters vote in this contest.
    pub district: String,
    pub name: String,
    /// candidate, ballot_measure or retention.
    pub kind: String,
    pub vote_for: u32,
    pub choices: Vec<ChoiceBody>,
}

impl From<Contest> for ContestBody {
    fn from(contest: Contest) -> Self {
        Self {
            id: contest.id.into(),
            district: contest.district.into(),
            name: contest.name.into(),
            kind: contest.kind.as_str().to_owned(),
            vote_for: contest.vote_for.get(),
            choices: contest
                .choices
                .into_iter()
                .map(|choice| ChoiceBody { name: choice.name.into(), party: choice.party })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ElectionBody {
    pub id: String,
    pub jurisdiction: String,
    pub name: String,
    /// general, primary or special.
    pub kind: String,
    /// The election day, YYYY-MM-DD.
    pub date: String,
    /// The contests in ballot order (only on the single-election route).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contests: Option<Vec<ContestBody>>,
}

impl ElectionBody {
    pub(crate) fn new(election: Election, contests: Option<Vec<Contest>>) -> Self {
        Self {
            id: election.id.into(),
            jurisdiction: election.jurisdiction.into(),
            name: election.name.into(),
            kind: election.kind.as_str().to_owned(),
            date: election.date.to_string(),
            contests: contests.map(|contests| contests.into_iter().map(Into::into).collect()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NodeBody {
    pub version: String,
    /// sqlite or postgres.
    pub database_backend: String,
    pub schema_version: i64,
    /// The node's Ed25519 public key, hex: it signs checkpoints and published results.
    pub public_key: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthBody {
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyBody {
    pub status: String,
    pub database: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct JurisdictionFilter {
    /// Only items of this jurisdiction.
    pub jurisdiction: Option<String>,
}

impl JurisdictionFilter {
    fn parsed(&self) -> Result<Option<JurisdictionId>, ServerError> {
        Ok(self.jurisdiction.as_deref().map(JurisdictionId::parse).transpose()?)
    }
}

/// The authenticated admin API, each route with its documentation.
pub fn router() -> OpenApiRouter<Node> {
    OpenApiRouter::with_openapi(ApiDocument::openapi())
        .routes(routes!(node_info))
        .routes(routes!(list_jurisdictions, add_jurisdiction))
        .routes(routes!(get_jurisdiction))
        .routes(routes!(list_precincts, add_precinct))
        .routes(routes!(list_elections))
        .routes(routes!(get_election))
        .routes(routes!(crate::api_keys::list_key_rings))
        .routes(routes!(crate::api_keys::unseal))
        .routes(routes!(crate::api_keys::seal))
        .routes(routes!(crate::api_keys::add_voter))
        .routes(routes!(crate::api_audit::search_audit))
        .routes(routes!(crate::api_voters::search_voters))
        .routes(routes!(crate::api_voters::voter_status_history, crate::api_voters::change_voter_status))
        .routes(routes!(crate::api_ballots::voter_ballots, crate::api_ballots::record_ballot_step))
        .routes(routes!(crate::vri_export::export_vri))
        .routes(routes!(crate::voter_records_pages::voter_vote_history))
        .routes(routes!(crate::api_staff::list_users, crate::api_staff::create_user))
        .routes(routes!(crate::api_staff::suspend_user))
        .routes(routes!(crate::api_staff::reinstate_user))
        .routes(routes!(crate::api_staff::reset_user_mfa))
        .routes(routes!(crate::api_staff::list_tokens, crate::api_staff::create_token))
        .routes(routes!(crate::api_staff::revoke_token))
        .routes(routes!(crate::api_staff::list_requests, crate::api_staff::create_request))
        .routes(routes!(crate::api_staff::approve_request))
        .routes(routes!(crate::api_staff::reject_request))
        .routes(routes!(crate::api_staff::run_request))
        .routes(routes!(crate::api_staff::open_break_glass))
        .routes(routes!(crate::api_staff::list_incidents))
        .merge(crate::api_duplicates::router())
        .merge(crate::api_affected::router())
        .merge(crate::api_elections::router())
        .merge(crate::api_results::router())
        .merge(crate::api_incidents::router())
}

/// Routes that need no authentication: health checks and this document.
pub fn open_router() -> OpenApiRouter<Node> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(readyz))
}

/// The whole admin API description, as served at `/api/openapi.json`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, mut document) = router().split_for_parts();
    let (_, open) = open_router().split_for_parts();
    document.merge(open);
    // Described here, served on the public listener: witnesses post to the log's URL.
    document.merge(crate::witness_refusals::openapi());
    document
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "node", security(()), responses((status = 200, body = HealthBody)))]
pub async fn healthz() -> Json<HealthBody> {
    Json(HealthBody { status: "ok".into() })
}

/// The node can serve: its database answers.
#[utoipa::path(get, path = "/readyz", tag = "node", security(()), responses(
    (status = 200, body = ReadyBody), (status = 503, body = ErrorBody)))]
pub async fn readyz(State(node): State<Node>) -> Result<Json<ReadyBody>, ServerError> {
    node.store().ping().await.map_err(|error| ServerError::Unavailable(error.to_string()))?;
    Ok(Json(ReadyBody { status: "ready".into(), database: node.store().backend().into() }))
}

/// Version, database and signing key of this node.
#[utoipa::path(get, path = "/api/node", tag = "node", responses((status = 200, body = NodeBody), (status = 401, body = ErrorBody)))]
async fn node_info(State(node): State<Node>) -> Result<Json<NodeBody>, ServerError> {
    let info = node.info().await?;
    Ok(Json(NodeBody {
        version: info.version.into(),
        database_backend: info.database_backend.into(),
        schema_version: info.schema_version,
        public_key: info.public_key,
    }))
}

/// Every jurisdiction on this node, by id.
#[utoipa::path(get, path = "/api/jurisdictions", tag = "jurisdictions", responses(
    (status = 200, body = [JurisdictionBody]), (status = 401, body = ErrorBody)))]
async fn list_jurisdictions(State(node): State<Node>) -> Result<Json<Vec<JurisdictionBody>>, ServerError> {
    let all = node.store().jurisdictions().await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// Adds a jurisdiction. A county's parent must be a state; a municipality's a county or state.
#[utoipa::path(post, path = "/api/jurisdictions", tag = "jurisdictions", request_body = JurisdictionBody, responses(
    (status = 201, body = JurisdictionBody),
    (status = 400, description = "invalid id, name or parent kind", body = ErrorBody),
    (status = 409, description = "the id is taken", body = ErrorBody),
    (status = 422, description = "the parent does not exist", body = ErrorBody)))]
async fn add_jurisdiction(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiJson(body): ApiJson<JurisdictionBody>,
) -> Result<(StatusCode, Json<JurisdictionBody>), ServerError> {
    let jurisdiction = Jurisdiction::try_from(body)?;
    // A new state needs node-wide rights; a county or municipality, rights over its parent.
    match &jurisdiction.parent {
        Some(parent) => principal.authorize(&node, &audit, Operation::ManageJurisdictions, Some(parent)).await?,
        None => principal.authorize_node_wide(&audit, Operation::ManageJurisdictions).await?,
    };
    service::add_jurisdiction(node.store(), &audit, &jurisdiction).await?;
    tracing::info!(jurisdiction = %jurisdiction.id, kind = %jurisdiction.kind, "jurisdiction added");
    Ok((StatusCode::CREATED, Json(jurisdiction.into())))
}

/// One jurisdiction.
#[utoipa::path(get, path = "/api/jurisdictions/{id}", tag = "jurisdictions",
    params(("id" = String, Path, description = "the jurisdiction id, percent-encoded")),
    responses((status = 200, body = JurisdictionBody), (status = 404, body = ErrorBody)))]
async fn get_jurisdiction(
    State(node): State<Node>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<JurisdictionBody>, ServerError> {
    let id = JurisdictionId::parse(&id)?;
    let jurisdiction = node
        .store()
        .jurisdiction(&id)
        .await?
        .ok_or_else(|| ServerError::NotFound(format!("no jurisdiction `{id}`")))?;
    Ok(Json(jurisdiction.into()))
}

/// Precincts, by id; all of them or one jurisdiction's.
#[utoipa::path(get, path = "/api/precincts", tag = "precincts", params(JurisdictionFilter), responses(
    (status = 200, body = [PrecinctBody]), (status = 401, body = ErrorBody)))]
async fn list_precincts(
    State(node): State<Node>,
    ApiQuery(filter): ApiQuery<JurisdictionFilter>,
) -> Result<Json<Vec<PrecinctBody>>, ServerError> {
    let precincts = node.store().precincts(filter.parsed()?.as_ref()).await?;
    Ok(Json(precincts.into_iter().map(Into::into).collect()))
}

/// Adds a precinct to an existing jurisdiction.
#[utoipa::path(post, path = "/api/precincts", tag = "precincts", request_body = PrecinctBody, responses(
    (status = 201, body = PrecinctBody), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody),
    (status = 422, body = ErrorBody)))]
async fn add_precinct(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiJson(body): ApiJson<PrecinctBody>,
) -> Result<(StatusCode, Json<PrecinctBody>), ServerError> {
    let precinct = Precinct::try_from(body)?;
    principal.authorize(&node, &audit, Operation::ManageJurisdictions, Some(&precinct.jurisdiction)).await?;
    service::add_precinct(node.store(), &audit, &precinct).await?;
    tracing::info!(precinct = %precinct.id, jurisdiction = %precinct.jurisdiction, "precinct added");
    Ok((StatusCode::CREATED, Json(precinct.into())))
}

/// Elections by date; all or one jurisdiction's.
#[utoipa::path(get, path = "/api/elections", tag = "elections", params(JurisdictionFilter), responses(
    (status = 200, body = [ElectionBody]), (status = 401, body = ErrorBody)))]
async fn list_elections(
    State(node): State<Node>,
    ApiQuery(filter): ApiQuery<JurisdictionFilter>,
) -> Result<Json<Vec<ElectionBody>>, ServerError> {
    let elections = node.store().elections(filter.parsed()?.as_ref()).await?;
    Ok(Json(elections.into_iter().map(|election| ElectionBody::new(election, None)).collect()))
}

/// One election with its contests in ballot order.
#[utoipa::path(get, path = "/api/elections/{id}", tag = "elections",
    params(("id" = String, Path, description = "the election id, percent-encoded")),
    responses((status = 200, body = ElectionBody), (status = 404, body = ErrorBody)))]
async fn get_election(
    State(node): State<Node>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ElectionBody>, ServerError> {
    let id = ElectionId::parse(&id)?;
    let election =
        node.store().election(&id).await?.ok_or_else(|| ServerError::NotFound(format!("no election `{id}`")))?;
    let contests = node.store().contests(&id).await?;
    Ok(Json(ElectionBody::new(election, Some(contests))))
}
