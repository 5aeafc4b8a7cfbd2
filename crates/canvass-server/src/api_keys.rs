//! Admin API for key rings and sealed voter data: status, unsealing (passphrase, or one
//! official's share at a time), sealing, and registering a voter (write-only: no route here
//! returns a personal field; reads arrive with the audit ledger).

use axum::{Json, extract::State, http::StatusCode};
use canvass_core::{
    audit::Action,
    id::{JurisdictionId, PrecinctId},
    name::Name,
    voter::{VoterRecord, VoterStatus},
};
use canvass_crypto::{SecretString, Share};
use serde::{Deserialize, Serialize};
use time::{Date, format_description::well_known::Iso8601};
use utoipa::ToSchema;

use crate::{
    Node, ServerError,
    api::{ApiJson, ApiPath},
    error::ErrorBody,
    keys::{self, UnsealProgress},
    ledger::Audit,
    voters,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyVersionBody {
    pub version: u32,
    /// active, previous or retired.
    pub state: String,
    /// Voter rows sealed under this version.
    pub rows: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyRingBody {
    pub jurisdiction: String,
    /// Whether this node holds the jurisdiction's keys in memory right now.
    pub unsealed: bool,
    /// How the root is sealed at rest (passphrase, ...).
    pub seal_methods: Vec<String>,
    /// k of n, when the root was split into shares.
    pub share_threshold: Option<u8>,
    pub share_count: Option<u8>,
    pub projected_rows: u64,
    pub index_bits: Option<u8>,
    pub field_key_versions: Vec<KeyVersionBody>,
}

/// Every key ring on this node, with no secret in it.
#[utoipa::path(get, path = "/api/keys", tag = "keys", responses((status = 200, body = [KeyRingBody]), (status = 401, body = ErrorBody)))]
pub async fn list_key_rings(State(node): State<Node>) -> Result<Json<Vec<KeyRingBody>>, ServerError> {
    let statuses = keys::ring_statuses(node.store(), node.keys()).await?;
    Ok(Json(
        statuses
            .into_iter()
            .map(|status| KeyRingBody {
                jurisdiction: status.jurisdiction.into(),
                unsealed: status.unsealed,
                seal_methods: status.seal_methods,
                share_threshold: status.shares.map(|(k, _)| k),
                share_count: status.shares.map(|(_, n)| n),
                projected_rows: status.projected_rows,
                index_bits: status.index_bits,
                field_key_versions: status
                    .field_key_versions
                    .into_iter()
                    .map(|key| KeyVersionBody {
                        version: key.version,
                        state: key.state.as_str().into(),
                        rows: key.rows,
                    })
                    .collect(),
            })
            .collect(),
    ))
}

/// One of: the passphrase, or one official's share.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UnsealBody {
    pub passphrase: Option<String>,
    pub share: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnsealReply {
    pub unsealed: bool,
    /// With shares: how many distinct shares this node holds and how many it needs.
    pub shares_received: Option<usize>,
    pub shares_needed: Option<usize>,
}

/// Unseals a jurisdiction with its passphrase, or adds one official's share (the jurisdiction
/// unseals when enough distinct shares are in).
#[utoipa::path(post, path = "/api/jurisdictions/{id}/unseal", tag = "keys", request_body = UnsealBody,
    params(("id" = String, Path, description = "the jurisdiction id, percent-encoded")),
    responses((status = 200, body = UnsealReply), (status = 202, description = "share accepted, more needed", body = UnsealReply),
        (status = 400, body = ErrorBody), (status = 403, description = "wrong passphrase or shares", body = ErrorBody),
        (status = 409, description = "no key ring", body = ErrorBody)))]
pub async fn unseal(
    State(node): State<Node>,
    audit: Audit,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<UnsealBody>,
) -> Result<(StatusCode, Json<UnsealReply>), ServerError> {
    let jurisdiction = JurisdictionId::parse(&id)?;
    let outcome = match (body.passphrase, body.share) {
        (Some(passphrase), None) => {
            let passphrase = SecretString::from(passphrase);
            let ring = keys::unseal_with_passphrase(node.store(), &audit, &jurisdiction, passphrase).await;
            ring.and_then(|ring| node.keys().insert(jurisdiction.clone(), ring)).map(|()| UnsealProgress::Unsealed)
        }
        (None, Some(share)) => match Share::parse(&share) {
            Ok(share) => add_share(&node, &audit, &jurisdiction, share).await,
            Err(error) => Err(ServerError::Invalid(error.to_string())),
        },
        _ => Err(ServerError::Invalid("give exactly one of passphrase or share".into())),
    };
    match outcome {
        Ok(UnsealProgress::Unsealed) => {
            tracing::info!(%jurisdiction, "jurisdiction unsealed");
            Ok((StatusCode::OK, Json(UnsealReply { unsealed: true, shares_received: None, shares_needed: None })))
        }
        Ok(UnsealProgress::NeedMoreShares { have, need }) => {
            tracing::info!(%jurisdiction, have, need, "share accepted");
            Ok((
                StatusCode::ACCEPTED,
                Json(UnsealReply { unsealed: false, shares_received: Some(have), shares_needed: Some(need) }),
            ))
        }
        Err(error) => {
            tracing::warn!(%jurisdiction, code = error.code(), "unseal refused");
            Err(error)
        }
    }
}

/// Adds one share; the attempt that completes (or fails to complete) the unseal is recorded,
/// and a ring whose record cannot be written is sealed again at once.
async fn add_share(
    node: &Node,
    audit: &Audit,
    jurisdiction: &JurisdictionId,
    share: Share,
) -> Result<UnsealProgress, ServerError> {
    let progress = node.keys().add_share(node.store(), jurisdiction, share).await;
    if matches!(progress, Ok(UnsealProgress::NeedMoreShares { .. })) {
        return progress;
    }
    if let Err(error) = keys::record_attempt(audit, Action::KeysUnseal, jurisdiction, &progress).await {
        node.keys().seal(jurisdiction)?;
        return Err(error);
    }
    keys::detect_repeated_failures(node.store(), audit, jurisdiction, &progress).await;
    progress
}

/// Drops a jurisdiction's keys from this node's memory: its PII is refused until unsealed.
#[utoipa::path(post, path = "/api/jurisdictions/{id}/seal", tag = "keys",
    params(("id" = String, Path, description = "the jurisdiction id, percent-encoded")),
    responses((status = 200, body = UnsealReply), (status = 404, body = ErrorBody)))]
pub async fn seal(
    State(node): State<Node>,
    audit: Audit,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<UnsealReply>, ServerError> {
    let jurisdiction = JurisdictionId::parse(&id)?;
    crate::service::require_jurisdiction(node.store(), &jurisdiction).await?;
    // Sealing only ever reduces access, so it happens even if it cannot be recorded.
    node.keys().seal(&jurisdiction)?;
    keys::record_attempt(&audit, Action::KeysSeal, &jurisdiction, &Ok(())).await?;
    tracing::info!(%jurisdiction, "jurisdiction sealed");
    Ok(Json(UnsealReply { unsealed: false, shares_received: None, shares_needed: None }))
}

/// A voter registration to add. Personal fields are sealed before they reach the database.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewVoterBody {
    /// The jurisdiction whose key ring seals the record (normally the county).
    pub jurisdiction: String,
    pub registration_number: String,
    pub county: String,
    pub precinct: String,
    pub first_name: String,
    pub last_name: String,
    pub party: String,
    /// active, inactive, removed, denied or temporary.
    pub status: String,
    /// YYYY-MM-DD.
    pub registered_on: String,
    pub birth_date: Option<String>,
    pub ssn_last_four: Option<String>,
    pub drivers_license: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VoterAddedBody {
    pub registration_number: String,
    pub jurisdiction: String,
}

fn date(field: &str, value: &str) -> Result<Date, ServerError> {
    Date::parse(value, &Iso8601::DATE)
        .map_err(|_| ServerError::Invalid(format!("{field} `{value}` is not a YYYY-MM-DD date")))
}

fn bounded(field: &str, value: Option<String>, check: impl Fn(&str) -> bool) -> Result<Option<String>, ServerError> {
    match value {
        Some(value) if !check(&value) => Err(ServerError::Invalid(format!("{field} is not valid"))),
        other => Ok(other),
    }
}

impl NewVoterBody {
    fn parse(self) -> Result<(JurisdictionId, VoterRecord), ServerError> {
        let registration_number = self.registration_number.trim().to_owned();
        if registration_number.is_empty()
            || registration_number.len() > 40
            || !registration_number.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(ServerError::Invalid("registration_number must be 1-40 letters and digits".into()));
        }
        let party = self.party.trim().to_ascii_uppercase();
        if party.is_empty() || party.len() > 10 || !party.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(ServerError::Invalid("party must be a code of 1-10 letters, such as DEM, REP, UNA".into()));
        }
        let voter = VoterRecord {
            registration_number,
            county: JurisdictionId::parse(&self.county)?,
            precinct: PrecinctId::parse(&self.precinct)?,
            first_name: Name::parse(&self.first_name)?,
            last_name: Name::parse(&self.last_name)?,
            party,
            status: VoterStatus::parse(&self.status)?,
            registered_on: date("registered_on", &self.registered_on)?,
            birth_date: self.birth_date.as_deref().map(|value| date("birth_date", value)).transpose()?,
            ssn_last_four: bounded("ssn_last_four", self.ssn_last_four, |v| {
                v.len() == 4 && v.chars().all(|c| c.is_ascii_digit())
            })?,
            drivers_license: bounded("drivers_license", self.drivers_license, |v| {
                (1..=30).contains(&v.len()) && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' ')
            })?,
            email: bounded("email", self.email, |v| {
                v.len() <= 254 && v.contains('@') && !v.chars().any(char::is_control)
            })?,
        };
        Ok((JurisdictionId::parse(&self.jurisdiction)?, voter))
    }
}

/// Registers a voter: refused with 423 while the jurisdiction is sealed.
#[utoipa::path(post, path = "/api/voters", tag = "voters", request_body = NewVoterBody, responses(
    (status = 201, body = VoterAddedBody), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody),
    (status = 422, body = ErrorBody), (status = 423, description = "the jurisdiction is sealed", body = ErrorBody)))]
pub async fn add_voter(
    State(node): State<Node>,
    audit: Audit,
    principal: crate::access::Principal,
    ApiJson(body): ApiJson<NewVoterBody>,
) -> Result<(StatusCode, Json<VoterAddedBody>), ServerError> {
    let (jurisdiction, voter) = body.parse()?;
    principal.authorize(&node, &audit, canvass_core::access::Operation::WriteVoters, Some(&jurisdiction)).await?;
    voters::add_voters(node.store(), &audit, node.keys(), &jurisdiction, std::slice::from_ref(&voter)).await?;
    tracing::info!(%jurisdiction, registration_number = %voter.registration_number, "voter registered");
    Ok((
        StatusCode::CREATED,
        Json(VoterAddedBody { registration_number: voter.registration_number, jurisdiction: jurisdiction.into() }),
    ))
}
