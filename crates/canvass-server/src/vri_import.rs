//! NIST SP 1500-102 (VRI) requests into the roll. A registration request (new, change of
//! address, name or party) becomes a roll row and takes the voter-file import's path: mapped to
//! a county and precinct ([`Places`]), sealed and blind-indexed ([`roll::seal_row`]), compared by
//! its keyed digest ([`roll::sort_batch`]) and written as one batch of one import
//! ([`roll::write_batch`]), so an update keeps the earlier revision and every write is in the
//! ledger. An absentee request is matched to its voter and described ([`AbsenteeRequest`]);
//! recording it is the ballot store's work (`ballots::record_absentee_request`, one requested
//! absentee ballot per election on file that it covers), so this module writes nothing for it (a
//! request that is both a registration and a ballot request is taken as the ballot request: its
//! registration part is not applied).
//!
//! How a request finds its voter: a `VoterId` of type `state-voter-registration-id` names the
//! registration number; without one, the blind name + date of birth index; an absentee request
//! without a date of birth, the blind name index narrowed by county and SSN last four. A request
//! matching no one is a new registration, numbered `VRI` + ten random hexadecimal digits
//! (checked unused): VRI carries no number for a voter the office has not registered yet.
//!
//! A field the request carries replaces the stored one; names, the residence address and the
//! mailing address are replaced as a whole (a request without a mailing address clears it);
//! phone, email, date of birth, driver's licence, SSN last four, gender and party are kept when
//! the request leaves them out. Refusals name the element, never its value.

use std::{collections::HashMap, io::Read, path::Path};

use canvass_core::{
    absentee_request::{AbsenteePeriod, AbsenteeRequest, ReceiptPreference},
    audit::{Action, now_millis},
    id::{JurisdictionId, PrecinctId},
    jurisdiction::JurisdictionKind,
    voter::VoterStatus,
    voter_policy::FieldPolicy,
};
use canvass_formats::{
    ncvoter::{self, PUBLIC_COLUMNS},
    vri::{
        self, Address, BallotPeriod, BallotReceiptMethod, Place, PlaceNameType, RequestKind, VoterIdType,
        VoterRecordsRequest,
    },
};
use canvass_store::{ImportCounts, SealedVoter, Store, StoredImport};
use time::Date;

use crate::{
    ServerError,
    keys::UnsealedRing,
    ledger::{Audit, target},
    roll::{self, Places, RollRow},
    roll_search::{self, SearchQuery},
    voters::Sealer,
};

/// The two encodings of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VriEncoding {
    Xml,
    Json,
}

impl VriEncoding {
    /// The format name recorded with the import.
    pub fn format_name(self) -> &'static str {
        match self {
            Self::Xml => "vri-xml",
            Self::Json => "vri-json",
        }
    }

    /// The file name extension of the encoding.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Xml => "xml",
            Self::Json => "json",
        }
    }
}

/// The `AdditionalInfo` name under which Canvass carries a voter's precinct (VRI has no element
/// for it): a precinct id, or its last segment within the voter's county.
pub const PRECINCT_INFO: &str = "precinct";

/// How to import.
#[derive(Debug, Clone)]
pub struct VriSettings {
    /// The roll (and key ring) receiving the request.
    pub jurisdiction: JurisdictionId,
    /// Who runs it (a username), recorded with the import.
    pub actor: String,
    /// The precinct of a new registration whose request names none (a clerk's assignment).
    pub precinct: Option<PrecinctId>,
}

/// What became of a registration request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationChange {
    Added,
    Updated,
    Unchanged,
}

/// What an imported request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VriOutcome {
    Registration {
        registration_number: String,
        change: RegistrationChange,
    },
    /// Recognized and matched; `ballots::record_absentee_request` records it.
    Absentee(AbsenteeRequest),
}

/// A request read from a file, with the file's SHA-256 (recorded with the import).
pub struct ReadRequest {
    pub request: VoterRecordsRequest,
    pub digest: String,
}

// The request holds personal values; its own Debug shows none of them.
impl std::fmt::Debug for ReadRequest {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("ReadRequest").field("request", &self.request).field("digest", &self.digest).finish()
    }
}

fn refused(element: &str, reason: impl std::fmt::Display) -> ServerError {
    ServerError::Invalid(format!("{element}: {reason}"))
}

/// Reads one request file; a file too large to be a request is refused before it is read.
pub fn read_file(path: &Path, encoding: VriEncoding) -> Result<ReadRequest, ServerError> {
    let cannot = |error: std::io::Error| ServerError::Invalid(format!("cannot read {}: {error}", path.display()));
    let length = std::fs::metadata(path).map_err(cannot)?.len();
    if length > vri::MAX_DOCUMENT_BYTES as u64 {
        return Err(ServerError::Invalid(format!(
            "{} is larger than a request can be ({} bytes at most)",
            path.display(),
            vri::MAX_DOCUMENT_BYTES
        )));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
    std::fs::File::open(path).map_err(cannot)?.read_to_end(&mut bytes).map_err(cannot)?;
    read_bytes(&bytes, encoding)
}

/// Reads one request from its bytes.
pub fn read_bytes(bytes: &[u8], encoding: VriEncoding) -> Result<ReadRequest, ServerError> {
    let digest = canvass_crypto::sha256_hex(&mut &bytes[..])
        .map_err(|error| ServerError::Internal(format!("cannot hash the request: {error}")))?;
    let request = match encoding {
        VriEncoding::Xml => vri::read_xml(bytes),
        VriEncoding::Json => vri::read_json(bytes),
    }
    .map_err(|error| ServerError::Invalid(error.to_string()))?;
    Ok(ReadRequest { request, digest })
}

/// Imports one request into the ring's roll: a registration is written (or found unchanged), an
/// absentee request is matched and described. A refusal writes nothing.
pub async fn import_request(
    store: &dyn Store,
    audit: &Audit,
    ring: &UnsealedRing,
    read: &ReadRequest,
    encoding: VriEncoding,
    settings: &VriSettings,
) -> Result<VriOutcome, ServerError> {
    let jurisdiction = &settings.jurisdiction;
    if ring.jurisdiction() != jurisdiction.as_str() {
        return Err(ServerError::Internal(format!(
            "the ring of {} cannot seal {jurisdiction}'s roll",
            ring.jurisdiction()
        )));
    }
    let request = &read.request;
    let places = Places::load(store, jurisdiction, false).await?;
    check_state(&places, request)?;
    let kinds = request.request_kinds();
    if kinds.contains(&RequestKind::Absentee) {
        return absentee(store, ring, &places, request).await.map(VriOutcome::Absentee);
    }
    if !kinds.contains(&RequestKind::Registration) {
        return Err(refused(
            "Type",
            "only registration and ballot requests are imported (this is a lookup or other request)",
        ));
    }
    register(store, audit, ring, &places, read, encoding, settings, VoterStatus::Active).await
}

/// The registration part of a Federal Post Card Application (form or VRI with `Form` `fpca`),
/// on the same path as any registration: a voter the roll does not have yet is registered
/// `temporary` (UOCAVA, 52 U.S.C. 20302(a)(4)); one it has keeps their status. The ballot
/// request part is the UOCAVA module's.
pub async fn import_fpca_registration(
    store: &dyn Store,
    audit: &Audit,
    ring: &UnsealedRing,
    read: &ReadRequest,
    encoding: VriEncoding,
    settings: &VriSettings,
) -> Result<(String, RegistrationChange), ServerError> {
    let places = Places::load(store, &settings.jurisdiction, false).await?;
    check_state(&places, &read.request)?;
    match register(store, audit, ring, &places, read, encoding, settings, VoterStatus::Temporary).await? {
        VriOutcome::Registration { registration_number, change } => Ok((registration_number, change)),
        VriOutcome::Absentee(_) => Err(ServerError::Internal("a registration came back as a ballot request".into())),
    }
}

/// The voter on the roll a registration request is about, if any (as the registration path
/// finds them: registration number, else name and date of birth). The public FPCA form asks
/// this before applying anything: a match is held for a clerk (`uocava_pending`).
pub async fn matching_voter(
    store: &dyn Store,
    ring: &UnsealedRing,
    request: &VoterRecordsRequest,
) -> Result<Option<SealedVoter>, ServerError> {
    find_voter(store, ring, request, None).await
}

/// The two-letter code in a jurisdiction id's `state:` segment.
fn state_code(jurisdiction: &JurisdictionId) -> Option<String> {
    jurisdiction.as_str().split('/').find_map(|segment| segment.strip_prefix("state:")).map(str::to_ascii_uppercase)
}

/// Refuses a request whose residence address is in another state than the roll's.
fn check_state(places: &Places, request: &VoterRecordsRequest) -> Result<(), ServerError> {
    let Some(state) = residence_place(&request.subject.residence_address).and_then(|place| match place {
        Place::Parts { state, .. } => state.clone(),
        Place::Lines(_) => None,
    }) else {
        return Ok(());
    };
    let root = places.jurisdiction();
    let ours = state.eq_ignore_ascii_case(&state_code(&root.id).unwrap_or_default())
        || roll::county_key(&state) == roll::county_key(root.name.as_str());
    if ours || state_code(&root.id).is_none() {
        return Ok(());
    }
    Err(refused(
        "Subject/ResidenceAddress/StateName",
        format!("the address is not in {}: import the request into the jurisdiction it is for", root.id),
    ))
}

fn residence_place(address: &Address) -> Option<&Place> {
    match address {
        Address::Line(_) => None,
        Address::DeliveryPoint { place, .. } => Some(place),
        Address::NumberedThoroughfare(address) => address.place.as_ref(),
        Address::PostalDeliveryRoute(address) => Some(&address.place),
    }
}

/// The name a place gives its county, if any.
fn county_name(place: Option<&Place>) -> Option<&str> {
    match place? {
        Place::Parts { names, .. } => names
            .iter()
            .find(|name| name.kind == Some(PlaceNameType::County))
            .map(|name| name.name.as_str())
            .filter(|name| !name.trim().is_empty()),
        Place::Lines(_) => None,
    }
}

/// The county the residence address names, resolved among the roll's counties: `Ok(None)` when
/// it names none, refused when it names one the roll does not have.
fn named_county(places: &Places, request: &VoterRecordsRequest) -> Result<Option<JurisdictionId>, ServerError> {
    match county_name(residence_place(&request.subject.residence_address)) {
        None => Ok(None),
        Some(name) => places.county(name).cloned().map(Some).ok_or_else(|| {
            refused(
                "Subject/ResidenceAddress/PlaceName[County]",
                format!("is not {} or one of its counties", places.jurisdiction().id),
            )
        }),
    }
}

fn request_registration_number(request: &VoterRecordsRequest) -> Option<&str> {
    request
        .subject
        .voter_ids
        .iter()
        .filter(|id| id.kind == VoterIdType::StateVoterRegistrationId && id.attest_no_such_id != Some(true))
        .find_map(|id| id.value.as_deref())
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// The voter a request is about, when the roll has them: by registration number, else by name
/// and date of birth, else (for an absentee request, `narrow` set) by name within the county
/// and SSN last four. More than one match is refused rather than guessed.
async fn find_voter(
    store: &dyn Store,
    ring: &UnsealedRing,
    request: &VoterRecordsRequest,
    narrow: Option<Option<&JurisdictionId>>,
) -> Result<Option<SealedVoter>, ServerError> {
    if let Some(number) = request_registration_number(request) {
        let found = roll_search::search(store, ring, &SearchQuery::RegistrationNumber(number.to_owned())).await?;
        return match found.into_iter().next() {
            Some(voter) => Ok(Some(voter)),
            None => Err(refused(
                "Subject/VoterId[state-voter-registration-id]",
                format!("no voter of {} has this registration number", ring.jurisdiction()),
            )),
        };
    }
    let (Some(last), Some(first)) = (request.last_name(), request.first_name()) else {
        return Ok(None);
    };
    let found = match (request.birth_date(), narrow) {
        (Some(date), _) => {
            let query =
                SearchQuery::Name { last: last.into(), first: first.into(), birth_date: Some(date), county: None };
            roll_search::search(store, ring, &query).await?
        }
        (None, Some(county)) => {
            let query =
                SearchQuery::Name { last: last.into(), first: first.into(), birth_date: None, county: county.cloned() };
            let mut found = roll_search::search(store, ring, &query).await?;
            if let Some(ssn) = request.ssn_last_four() {
                found.retain(|voter| same_ssn(ring, voter, ssn).unwrap_or(false));
            }
            found
        }
        (None, None) => return Ok(None),
    };
    if found.len() > 1 {
        return Err(refused(
            "Subject/Name",
            format!("{} voters match; give Subject/VoterId of type state-voter-registration-id", found.len()),
        ));
    }
    Ok(found.into_iter().next())
}

/// Compares a voter's sealed SSN last four with the request's, in memory; nothing is shown.
fn same_ssn(ring: &UnsealedRing, voter: &SealedVoter, ssn: &str) -> Result<bool, ServerError> {
    let sealer = Sealer { ring, record: &voter.registration_number, version: voter.key_version };
    let stored = sealer.open_optional("ssn_last_four", voter.fields.ssn_last_four.as_ref())?;
    Ok(stored.is_some_and(|stored| stored.trim() == ssn.trim()))
}

async fn absentee(
    store: &dyn Store,
    ring: &UnsealedRing,
    places: &Places,
    request: &VoterRecordsRequest,
) -> Result<AbsenteeRequest, ServerError> {
    // An unknown county narrows nothing rather than refusing: the name and SSN still decide.
    let county = named_county(places, request).ok().flatten();
    let Some(voter) = find_voter(store, ring, request, Some(county.as_ref())).await? else {
        return Err(refused(
            "Subject",
            format!("no voter on the roll of {} matches this request", ring.jurisdiction()),
        ));
    };
    let Some(ballot) = &request.ballot_request else {
        // Type ballot-request without its element (one of Virginia's examples): no election
        // named, no delivery stated.
        return Ok(AbsenteeRequest {
            jurisdiction: voter.jurisdiction.clone(),
            registration_number: voter.registration_number.clone(),
            period: AbsenteePeriod::NextElection,
            receipt: Vec::new(),
            requested_on: request.generated_date,
        });
    };
    let period = match &ballot.period {
        BallotPeriod::ElectionBased(election) => {
            AbsenteePeriod::Election { date: election.start_date, name: election.name.clone() }
        }
        BallotPeriod::Permanent => AbsenteePeriod::Permanent,
        BallotPeriod::Temporal { start_date, end_date } => {
            if end_date < start_date {
                return Err(refused("BallotRequest/EndDate", "is before StartDate"));
            }
            AbsenteePeriod::Between { start: *start_date, end: *end_date }
        }
    };
    let receipt = ballot
        .receipt_preferences
        .iter()
        .map(|method| match method {
            BallotReceiptMethod::Email => ReceiptPreference::Email,
            BallotReceiptMethod::EmailOrOnline => ReceiptPreference::EmailOrOnline,
            BallotReceiptMethod::Fax => ReceiptPreference::Fax,
            BallotReceiptMethod::Mail => ReceiptPreference::Mail,
            BallotReceiptMethod::Online => ReceiptPreference::Online,
        })
        .collect();
    Ok(AbsenteeRequest {
        jurisdiction: voter.jurisdiction.clone(),
        registration_number: voter.registration_number.clone(),
        period,
        receipt,
        requested_on: request.generated_date,
    })
}

/// A row's public-record columns by name, for editing one column at a time.
struct Columns(HashMap<&'static str, String>);

impl Columns {
    fn empty() -> Self {
        Self(HashMap::new())
    }

    fn of(values: &[String]) -> Self {
        Self(PUBLIC_COLUMNS.iter().copied().zip(values.iter().cloned()).collect())
    }

    fn get(&self, column: &str) -> &str {
        self.0.get(column).map_or("", String::as_str)
    }

    fn set(&mut self, column: &'static str, value: impl Into<String>) {
        self.0.insert(column, value.into());
    }

    /// Replaces an address (street line, city, state, ZIP code) unless it is the stored one
    /// written differently (case, spacing, the ZIP+4 hyphen): then the stored one stays, with
    /// the extra lines only it has (`extra`, cleared when the address changes).
    fn replace_address(
        &mut self,
        names: [&'static str; 4],
        (street, city, state, zip): (String, String, String, String),
        extra: &[&'static str],
    ) {
        let same = |stored: &str, new: &str| {
            let key = |text: &str| -> String {
                text.chars().filter(|character| character.is_alphanumeric()).collect::<String>().to_uppercase()
            };
            key(stored) == key(new)
        };
        let new = [street, city, state, zip];
        if names.iter().zip(&new).all(|(column, value)| same(self.get(column), value)) {
            return;
        }
        for (column, value) in names.into_iter().zip(new) {
            self.set(column, value);
        }
        for column in extra {
            self.set(column, "");
        }
    }

    fn values(&self) -> Vec<String> {
        PUBLIC_COLUMNS.iter().map(|column| self.get(column).to_owned()).collect()
    }
}

/// The stored voter as a row to edit, every value opened.
fn stored_row(ring: &UnsealedRing, voter: &SealedVoter) -> Result<RollRow, ServerError> {
    let record = roll::open_row(ring, voter, &FieldPolicy::north_carolina(), true)?;
    let birth_date = record
        .birth_date
        .as_deref()
        .map(|text| {
            ncvoter::parse_date(text).map_err(|_| ServerError::Internal("a stored birth date does not parse".into()))
        })
        .transpose()?;
    let details = if record.details.is_empty() {
        Vec::new()
    } else {
        PUBLIC_COLUMNS.iter().map(|column| record.detail(column).to_owned()).collect()
    };
    Ok(RollRow {
        line: 1,
        registration_number: voter.registration_number.clone(),
        county: voter.county.clone(),
        precinct: voter.precinct.clone(),
        party: voter.party.clone(),
        status: voter.status,
        registered_on: voter.registered_on,
        first_name: record.first_name,
        last_name: record.last_name,
        birth_date,
        ssn_last_four: record.ssn_last_four,
        drivers_license: record.drivers_license,
        email: record.email,
        details,
    })
}

/// The `AdditionalInfo` precinct a request names, if any.
fn named_precinct(request: &VoterRecordsRequest) -> Option<&str> {
    request
        .additional_info
        .iter()
        .find(|info| info.name.trim().eq_ignore_ascii_case(PRECINCT_INFO))
        .and_then(|info| info.value.as_deref())
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// The precinct a registration goes to: the request's `AdditionalInfo` (a precinct id, or its
/// segment after `precinct:`), else the voter's present one (same county), else the one given
/// with the import, else the county's only precinct.
async fn choose_precinct(
    store: &dyn Store,
    request: &VoterRecordsRequest,
    county: &JurisdictionId,
    existing: Option<&RollRow>,
    settings: &VriSettings,
) -> Result<PrecinctId, ServerError> {
    const ELEMENT: &str = "AdditionalInfo[precinct]";
    let mut in_county: Vec<PrecinctId> =
        store.precincts(Some(county)).await?.into_iter().map(|precinct| precinct.id).collect();
    if let Some(text) = named_precinct(request) {
        let candidates =
            [PrecinctId::parse(text).ok(), PrecinctId::parse(&format!("{county}/precinct:{}", roll::slug(text))).ok()];
        return candidates
            .into_iter()
            .flatten()
            .find(|candidate| in_county.contains(candidate))
            .ok_or_else(|| refused(ELEMENT, format!("is not a precinct of {county}")));
    }
    if let Some(row) = existing.filter(|row| row.county == *county) {
        return Ok(row.precinct.clone());
    }
    if let Some(precinct) = settings.precinct.as_ref().filter(|precinct| in_county.contains(precinct)) {
        return Ok(precinct.clone());
    }
    match (in_county.pop(), in_county.is_empty()) {
        (Some(only), true) => Ok(only),
        _ => Err(refused(
            ELEMENT,
            format!("a new registration in {county} needs its precinct (name it there, or import with --precinct)"),
        )),
    }
}

/// The county holding the precinct a request names, when it is one of the roll's precincts.
async fn county_of_named_precinct(
    store: &dyn Store,
    places: &Places,
    request: &VoterRecordsRequest,
) -> Result<Option<JurisdictionId>, ServerError> {
    let Some(id) = named_precinct(request).and_then(|text| PrecinctId::parse(text).ok()) else {
        return Ok(None);
    };
    if !places.has_precinct(&id) {
        return Ok(None);
    }
    Ok(store
        .precincts(None)
        .await?
        .into_iter()
        .find(|precinct| precinct.id == id)
        .map(|precinct| precinct.jurisdiction))
}

/// A number for a new registration: `VRI` and ten random hexadecimal digits, not yet used.
async fn new_registration_number(store: &dyn Store) -> Result<String, ServerError> {
    for _ in 0..8 {
        let number = format!("VRI{}", canvass_crypto::random_hex(5)?.to_ascii_uppercase());
        if store.voter(&number).await?.is_none() {
            return Ok(number);
        }
    }
    Err(ServerError::Internal("no unused registration number after eight draws".into()))
}

/// `MM/DD/YYYY`, as the voter file writes dates.
fn voter_file_date(date: Date) -> String {
    format!("{:02}/{:02}/{}", u8::from(date.month()), date.day(), date.year())
}

/// The street line, city, state and ZIP code of an address.
fn address_parts(address: &Address) -> (String, String, String, String) {
    let street = address.lines().into_iter().next().unwrap_or_default();
    let street = match address {
        Address::DeliveryPoint { delivery_point, .. } => delivery_point.clone(),
        _ => street,
    };
    let (city, state, zip) = match residence_place(address) {
        None => (String::new(), String::new(), String::new()),
        Some(Place::Lines(lines)) => (lines.join(" "), String::new(), String::new()),
        Some(Place::Parts { names, state, zip_code, zip_plus_four, .. }) => {
            let of_kind = |kind: Option<PlaceNameType>| names.iter().find(|name| name.kind == kind);
            let city = of_kind(Some(PlaceNameType::PostalCommunity))
                .or_else(|| of_kind(Some(PlaceNameType::MunicipalJurisdiction)))
                .or_else(|| of_kind(None))
                .map(|name| name.name.clone())
                .unwrap_or_default();
            let zip = match (zip_code, zip_plus_four) {
                (Some(zip), Some(plus_four)) => format!("{zip}-{plus_four}"),
                (Some(zip), None) => zip.clone(),
                (None, _) => String::new(),
            };
            (city, state.clone().unwrap_or_default(), zip)
        }
    };
    (street, city, state, zip)
}

/// Writes what the request says over the row (see the module's rules).
fn apply(request: &VoterRecordsRequest, row: &mut RollRow, columns: &mut Columns) {
    let subject = &request.subject;
    let name = &subject.name;
    row.last_name = name.last.clone().unwrap_or_default();
    row.first_name = name.first.clone().unwrap_or_default();
    columns.set("last_name", row.last_name.clone());
    columns.set("first_name", row.first_name.clone());
    columns.set("middle_name", name.middle.join(" "));
    columns.set("name_suffix_lbl", name.suffix.clone().unwrap_or_default());
    let residence = address_parts(&subject.residence_address);
    columns.replace_address(["res_street_address", "res_city_desc", "state_cd", "zip_code"], residence, &[]);
    let mailing = subject.mailing_address.as_ref().map(address_parts).unwrap_or_default();
    columns.replace_address(
        ["mail_addr1", "mail_city", "mail_state", "mail_zipcode"],
        mailing,
        &["mail_addr2", "mail_addr3", "mail_addr4"],
    );
    if let Some(phone) = request.phone() {
        columns.set("full_phone_number", phone);
    }
    if let Some(gender) = subject.gender.as_deref() {
        columns.set("gender_code", gender);
    }
    if let Some(party) = &subject.party {
        row.party = party.abbreviation.clone().unwrap_or_else(|| party.name.clone());
        columns.set("party_cd", row.party.clone());
    }
    if let Some(date) = request.birth_date() {
        row.birth_date = Some(date);
    }
    if let Some(email) = request.email() {
        row.email = Some(email.to_owned());
    }
    if let Some(licence) = request.drivers_license() {
        row.drivers_license = Some(licence.to_owned());
    }
    if let Some(ssn) = request.ssn_last_four() {
        row.ssn_last_four = Some(ssn.to_owned());
    }
}

#[allow(clippy::too_many_arguments)] // the import's context, plus the status a new voter gets
async fn register(
    store: &dyn Store,
    audit: &Audit,
    ring: &UnsealedRing,
    places: &Places,
    read: &ReadRequest,
    encoding: VriEncoding,
    settings: &VriSettings,
    new_status: VoterStatus,
) -> Result<VriOutcome, ServerError> {
    let request = &read.request;
    let existing = match find_voter(store, ring, request, None).await? {
        Some(voter) if voter.jurisdiction.as_str() != ring.jurisdiction() => {
            return Err(refused(
                "Subject",
                format!("this voter is on the roll of {}; a move between rolls is made there", voter.jurisdiction),
            ));
        }
        Some(voter) => Some(stored_row(ring, &voter)?),
        None => None,
    };
    if existing.is_none() {
        if request.first_name().is_none() {
            return Err(refused("Subject/Name/FirstName", "a new registration needs it"));
        }
        if request.birth_date().is_none() {
            return Err(refused("Subject/DateOfBirth", "a new registration needs it"));
        }
    }
    let named_precinct_county = county_of_named_precinct(store, places, request).await?;
    let county = match (named_county(places, request)?, named_precinct_county, &existing) {
        (Some(county), _, _) | (None, Some(county), _) => county,
        (None, None, Some(row)) => row.county.clone(),
        (None, None, None) if places.jurisdiction().kind == JurisdictionKind::County => {
            places.jurisdiction().id.clone()
        }
        (None, None, None) => {
            return Err(refused("Subject/ResidenceAddress/PlaceName[County]", "a new registration needs its county"));
        }
    };
    let precinct = choose_precinct(store, request, &county, existing.as_ref(), settings).await?;
    let (mut row, mut columns) = match existing {
        Some(row) => {
            let columns = if row.details.is_empty() { Columns::empty() } else { Columns::of(&row.details) };
            (row, columns)
        }
        None => {
            let number = new_registration_number(store).await?;
            let mut columns = Columns::empty();
            columns.set("ncid", number.clone());
            columns.set("status_cd", new_status.nc_code());
            columns.set("registr_dt", voter_file_date(request.generated_date));
            columns.set("party_cd", "UNA");
            let row = RollRow {
                line: 1,
                registration_number: number,
                county: county.clone(),
                precinct: precinct.clone(),
                party: "UNA".into(),
                status: new_status,
                registered_on: request.generated_date,
                first_name: String::new(),
                last_name: String::new(),
                birth_date: None,
                ssn_last_four: None,
                drivers_license: None,
                email: None,
                details: Vec::new(),
            };
            (row, columns)
        }
    };
    // The voter file's county and precinct columns follow a move; an unchanged place keeps
    // the names the voter file gave them.
    if row.county != county || columns.get("county_desc").is_empty() {
        let name = store.jurisdiction(&county).await?.map(|county| county.name.to_string()).unwrap_or_default();
        columns.set("county_desc", name);
    }
    if row.precinct != precinct || columns.get("precinct_abbrv").is_empty() {
        let segment = precinct.as_str().rsplit_once("/precinct:").map_or("", |(_, segment)| segment).to_owned();
        let name = store
            .precincts(Some(&county))
            .await?
            .into_iter()
            .find(|known| known.id == precinct)
            .map(|known| known.name.to_string())
            .unwrap_or_default();
        columns.set("precinct_abbrv", segment.to_ascii_uppercase());
        columns.set("precinct_desc", name);
    }
    row.county = county;
    row.precinct = precinct;
    apply(request, &mut row, &mut columns);
    row.details = columns.values();
    write(store, audit, ring, &row, read, encoding, settings).await
}

/// Writes the row through the voter-file import's path: one import of one batch.
async fn write(
    store: &dyn Store,
    audit: &Audit,
    ring: &UnsealedRing,
    row: &RollRow,
    read: &ReadRequest,
    encoding: VriEncoding,
    settings: &VriSettings,
) -> Result<VriOutcome, ServerError> {
    let jurisdiction = &settings.jurisdiction;
    let stored = store.voter_digests(std::slice::from_ref(&row.registration_number)).await?;
    let sorted = roll::sort_batch(ring, std::slice::from_ref(row), &stored)?;
    if let Some(rejected) = sorted.rejected.first() {
        return Err(refused("Subject", &rejected.reason));
    }
    let registration_number = row.registration_number.clone();
    let change = match (sorted.inserted, sorted.updated) {
        (1, _) => RegistrationChange::Added,
        (_, 1) => RegistrationChange::Updated,
        _ => return Ok(VriOutcome::Registration { registration_number, change: RegistrationChange::Unchanged }),
    };
    let now = now_millis();
    let import = StoredImport {
        id: format!("import-{}", canvass_crypto::random_hex(8)?),
        jurisdiction: jurisdiction.clone(),
        format: encoding.format_name().into(),
        file_digest: read.digest.clone(),
        actor: settings.actor.clone(),
        started_at: now,
        updated_at: now,
        finished_at: None,
        position: 0,
        line: 0,
        counts: ImportCounts::default(),
    };
    let entry =
        target(audit.entry(Action::VoterImport).with_jurisdiction(jurisdiction), format!("import:{}", import.id))?;
    let entry = target(entry, "started")?;
    audit.run(entry, async { Ok(store.insert_voter_import(&import).await?) }).await?;
    let counts = ImportCounts { inserted: sorted.inserted, updated: sorted.updated, unchanged: 0, rejected: 0 };
    roll::write_batch(store, audit, jurisdiction, &import.id, &sorted, (1, 1), counts).await?;
    let entry =
        target(audit.entry(Action::VoterImport).with_jurisdiction(jurisdiction), format!("import:{}", import.id))?;
    let entry = target(entry, "finished")?;
    audit.run(entry, async { Ok(store.finish_voter_import(&import.id, now_millis()).await?) }).await?;
    Ok(VriOutcome::Registration { registration_number, change })
}
