//! A voter written as a NIST SP 1500-102 (VRI) registration request, for another system or a
//! transfer: names, residence and mailing address, phone, party, gender, the registration
//! number, and the confidential fields (date of birth, driver's licence, SSN last four, email),
//! so reading it is a confidential read: the caller needs `voters.read` and a reason, and the
//! read is a `voter.read` ledger entry. A signature image is never exported. The precinct rides
//! in `AdditionalInfo` ([`PRECINCT_INFO`]), so the document re-imports as a no-op.

use axum::{
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use canvass_core::{access::Operation, id::JurisdictionId, voter_policy::FieldPolicy};
use canvass_formats::vri::{
    self, AdditionalInfo, Address, ContactMethod, ContactMethodType, Name, Party, Place, PlaceName, PlaceNameType,
    RequestMethod, RequestType, Voter, VoterId, VoterIdType, VoterRecordsRequest,
};
use canvass_store::Store;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    Node, ServerError,
    access::Principal,
    api::{ApiPath, ApiQuery},
    error::ErrorBody,
    keys::UnsealedRing,
    ledger::Audit,
    monitor,
    roll::{self, RollRecord},
    voters,
    vri_import::{PRECINCT_INFO, VriEncoding},
};

fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|text| !text.is_empty())
}

/// `27601`, `27601-1234` or `276011234` as ZIP and ZIP+4; anything else is left out.
fn zip_parts(text: &str) -> (Option<String>, Option<String>) {
    let digits: String = text.chars().filter(|character| *character != '-').collect();
    let all_digits = digits.bytes().all(|byte| byte.is_ascii_digit());
    match digits.len() {
        5 if all_digits => (Some(digits), None),
        9 if all_digits => (Some(digits[..5].to_owned()), Some(digits[5..].to_owned())),
        _ => (None, None),
    }
}

/// A street line with its city, state and ZIP code (and county, for the residence).
fn address(street: &str, city: &str, state: &str, zip: &str, county: Option<&str>) -> Option<Address> {
    let mut names = Vec::new();
    if let Some(city) = optional(city) {
        names.push(PlaceName { name: city, kind: Some(PlaceNameType::PostalCommunity), sequence_number: None });
    }
    if let Some(county) = county.and_then(optional) {
        names.push(PlaceName { name: county, kind: Some(PlaceNameType::County), sequence_number: None });
    }
    let (zip_code, zip_plus_four) = zip_parts(zip);
    let state = optional(state);
    let street = optional(street);
    if names.is_empty() && state.is_none() && zip_code.is_none() {
        return street.map(Address::Line);
    }
    let place = Place::Parts { names, state, zip_code, zip_plus_four, country: None };
    Some(Address::DeliveryPoint { delivery_point: street.unwrap_or_default(), place })
}

fn voter_id(kind: VoterIdType, value: Option<&str>) -> Option<VoterId> {
    Some(VoterId {
        kind,
        other_type: None,
        value: Some(optional(value?)?),
        attest_no_such_id: None,
        date_of_issuance: None,
        file: None,
    })
}

/// The request describing an opened record (confidential fields included). `county_name` is the
/// county's name as the roll knows it, so the county reads back as the same one.
pub fn request_for(
    record: &RollRecord,
    county_name: &str,
    generated_date: time::Date,
    issuer: &str,
) -> Result<VoterRecordsRequest, ServerError> {
    let detail = |column: &str| record.detail(column);
    let residence = if detail("res_street_address").is_empty() {
        // A record entered without its address (the admin API's single voter): VRI requires
        // one, so what the roll knows of where the voter lives goes on one line.
        let known = [detail("res_city_desc"), detail("state_cd"), detail("zip_code"), county_name];
        let line = known.iter().filter(|part| !part.trim().is_empty()).copied().collect::<Vec<_>>().join(", ");
        optional(&line)
            .map(Address::Line)
            .ok_or_else(|| ServerError::Invalid("the record has no residence address to export".into()))?
    } else {
        address(
            detail("res_street_address"),
            detail("res_city_desc"),
            detail("state_cd"),
            detail("zip_code"),
            Some(county_name),
        )
        .ok_or_else(|| ServerError::Invalid("the record has no residence address to export".into()))?
    };
    let mailing =
        address(detail("mail_addr1"), detail("mail_city"), detail("mail_state"), detail("mail_zipcode"), None)
            .filter(|_| !detail("mail_addr1").is_empty());
    let birth_date = record
        .birth_date
        .as_deref()
        .map(|text| {
            canvass_formats::ncvoter::parse_date(text)
                .map_err(|_| ServerError::Internal("a stored birth date does not parse".into()))
        })
        .transpose()?;
    let mut contact_methods = Vec::new();
    if let Some(phone) = optional(detail("full_phone_number")) {
        contact_methods.push(ContactMethod {
            kind: ContactMethodType::Phone,
            other_type: None,
            value: phone,
            capabilities: Vec::new(),
        });
    }
    if let Some(email) = record.email.as_deref().and_then(optional) {
        contact_methods.push(ContactMethod {
            kind: ContactMethodType::Email,
            other_type: None,
            value: email,
            capabilities: Vec::new(),
        });
    }
    let voter_ids = [
        voter_id(VoterIdType::StateVoterRegistrationId, Some(&record.registration_number)),
        voter_id(VoterIdType::DriversLicense, record.drivers_license.as_deref()),
        voter_id(VoterIdType::SocialSecurityNumberLastFour, record.ssn_last_four.as_deref()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let middle = optional(detail("middle_name")).into_iter().collect();
    let subject = Voter {
        name: Name {
            prefix: None,
            first: optional(&record.first_name),
            middle,
            last: Some(record.last_name.clone()),
            suffix: optional(detail("name_suffix_lbl")),
            full: None,
        },
        previous_name: None,
        date_of_birth: birth_date,
        gender: optional(detail("gender_code")),
        ethnicity: None,
        contact_methods,
        voter_ids,
        classifications: Vec::new(),
        party: optional(&record.party).map(|name| Party { name, abbreviation: None }),
        residence_address: residence,
        mailing_address: mailing,
        previous_residence_address: None,
        residence_address_is_mailing_address: None,
        // Signature images are never exported.
        signature: None,
        previous_signature: None,
    };
    Ok(VoterRecordsRequest {
        request_types: vec![RequestType::Registration],
        other_request_type: None,
        form: None,
        other_form: None,
        request_method: RequestMethod::Other,
        other_request_method: Some("election-office-record".into()),
        generated_date,
        issuer: optional(issuer),
        transaction_id: None,
        vendor_application_id: Some(format!("Canvass {}", env!("CARGO_PKG_VERSION"))),
        additional_info: vec![AdditionalInfo {
            name: PRECINCT_INFO.into(),
            value: Some(record.precinct.clone()),
            file: None,
        }],
        ballot_request: None,
        request_helpers: Vec::new(),
        subject,
    })
}

/// The voter of the ring's roll as a request, every field opened. The caller has checked
/// `voters.read` and records the read.
pub async fn export_request(
    store: &dyn Store,
    ring: &UnsealedRing,
    registration_number: &str,
) -> Result<VoterRecordsRequest, ServerError> {
    let jurisdiction = JurisdictionId::parse(ring.jurisdiction())?;
    let sealed =
        store.voter(registration_number).await?.filter(|voter| voter.jurisdiction == jurisdiction).ok_or_else(
            || ServerError::NotFound(format!("{jurisdiction} has no voter with this registration number")),
        )?;
    let record = roll::open_row(ring, &sealed, &FieldPolicy::north_carolina(), true)?;
    let county_name =
        store.jurisdiction(&sealed.county).await?.map(|county| county.name.to_string()).unwrap_or_default();
    let today = time::OffsetDateTime::now_utc().date();
    request_for(&record, &county_name, today, jurisdiction.as_str())
}

/// The request in the chosen encoding.
pub fn encode(request: &VoterRecordsRequest, encoding: VriEncoding) -> Result<Vec<u8>, ServerError> {
    let mut out = Vec::new();
    match encoding {
        VriEncoding::Xml => vri::write_xml(request, &mut out),
        VriEncoding::Json => vri::write_json(request, &mut out),
    }
    .map_err(|error| ServerError::Internal(format!("cannot write the request: {error}")))?;
    Ok(out)
}

/// The written reason of an export, checked: present, at most 500 characters.
pub fn export_reason(reason: Option<&str>) -> Result<&str, ServerError> {
    match reason.map(str::trim).filter(|text| !text.is_empty()) {
        Some(text) if text.chars().count() > 500 => Err(ServerError::Invalid("reason: at most 500 characters".into())),
        Some(text) => Ok(text),
        None => Err(ServerError::Invalid(
            "reason: a VRI export opens confidential fields and needs a written reason; it is kept in the ledger"
                .into(),
        )),
    }
}

#[derive(Deserialize, IntoParams)]
pub struct VriExportQuery {
    /// `xml` (the default) or `json`.
    pub format: Option<String>,
    /// Why the record is exported: kept in the `voter.read` ledger entry.
    pub reason: Option<String>,
}

impl std::fmt::Debug for VriExportQuery {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("VriExportQuery").field("format", &self.format).finish_non_exhaustive()
    }
}

/// A voter as a VRI registration request (XML or JSON). It carries confidential fields: needs
/// `voters.read` and a `reason`, counts against the caller's hourly read limit, and is a
/// `voter.read` ledger entry. Never carries a signature image.
#[utoipa::path(get, path = "/api/jurisdictions/{id}/voters/{voter}/vri", tag = "voters",
    params(("id" = String, Path), ("voter" = String, Path, description = "registration number"), VriExportQuery),
    responses((status = 200, description = "the VRI document", body = String, content_type = "application/xml"),
    (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn export_vri(
    State(node): State<Node>,
    audit: Audit,
    principal: Principal,
    ApiPath((id, voter)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<VriExportQuery>,
) -> Result<Response, ServerError> {
    let jurisdiction = JurisdictionId::parse(&id)?;
    let encoding = match query.format.as_deref().map(str::trim) {
        None | Some("" | "xml") => VriEncoding::Xml,
        Some("json") => VriEncoding::Json,
        Some(_) => return Err(ServerError::Invalid("format: expected xml or json".into())),
    };
    let reason = export_reason(query.reason.as_deref())?;
    principal.authorize_now(&node, &audit, Operation::ReadVoters, Some(&jurisdiction), Some(reason)).await?;
    let ring = node.keys().current(node.store(), &jurisdiction).await?;
    let request = export_request(node.store(), &ring, voter.trim()).await?;
    monitor::admit_reads(&node, &principal, &jurisdiction, 1).await?;
    voters::record_reads(&audit, &jurisdiction, Some(reason), std::iter::once(voter.trim())).await?;
    let body = encode(&request, encoding)?;
    let content_type = match encoding {
        VriEncoding::Xml => "application/xml",
        VriEncoding::Json => "application/json",
    };
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], body).into_response())
}
