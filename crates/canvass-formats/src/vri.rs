//! NIST SP 1500-102 Voter Records Interchange (VRI): a voter's registration or absentee-ballot
//! request ([`VoterRecordsRequest`]) read from and written to XML ([`read_xml`], [`write_xml`])
//! and JSON ([`read_json`], [`write_json`]); what is written is valid against NIST's XSD (with the
//! FGDC address schemas it imports) and NIST's JSON schema.
//!
//! Kept (every element NIST's Ohio and Virginia examples use, and the few optional ones beside
//! them a registration needs):
//!
//! | 1500-102 | model |
//! |---|---|
//! | `VoterRecordsRequest`: `Type` (+ `OtherType`), `Form` (+ `OtherForm`), `RequestMethod` (+ `OtherRequestMethod`), `GeneratedDate`, `Issuer`, `TransactionId`, `VendorApplicationId`, `AdditionalInfo` | [`VoterRecordsRequest`], [`AdditionalInfo`] |
//! | `BallotRequest` (election-based, permanent or temporal): `Election`, `StartDate`/`EndDate`, `BallotReceiptPreference`, `MailForwardingAddress` | [`BallotRequest`], [`BallotPeriod`], [`Election`] |
//! | `RequestHelper`: `Type`, `Name`, `Address`, `Phone`, `Signature` | [`RequestHelper`] |
//! | `Subject` (a `Voter`): `Name`, `PreviousName`, `DateOfBirth`, `Gender`, `Ethnicity`, `ContactMethod` (+ `Capability`), `VoterId`, `VoterClassification`, `Party`, `ResidenceAddress`, `MailingAddress`, `PreviousResidenceAddress`, `ResidenceAddressIsMailingAddress`, `Signature`, `PreviousSignature` | [`Voter`] and what it holds |
//! | addresses of the classes `GeneralAddressClass_type`, `NumberedThoroughfareAddress_type` and `USPSPostalDeliveryRoute_type` | [`Address`], [`Place`] |
//!
//! Left out without failing: `RequestProxy`, `SelectedLanguage`, `ExternalIdentifier`s, the FGDC
//! address attributes (coordinates, parcel ids...) and any element the schema does not define.
//! Refused, because guessing would import a wrong voter: a `VoterRecordsResponse` (an answer, not
//! a request), an address of another FGDC class, a `Subject` without `Name/LastName` or
//! `ResidenceAddress`, an unparsable date, boolean or enumeration value, and a document that is
//! not well-formed. Refusals name the element, never its value: values are personal data, and
//! error messages end up in logs.
//!
//! Reading follows what senders write rather than the letter of the schema: elements are matched
//! by local name whatever their namespace (one of NIST's own examples uses a wrong one), in any
//! order; text is trimmed and empty text counts as absent; dates may lack zero padding or carry a
//! time or time zone (NIST's JSON example has both), which are dropped.
//!
//! Nothing here prints personal values: the `Debug` of every type holding them shows the type's
//! name and at most an identifier or a code.

use std::{
    borrow::Cow,
    fmt,
    io::{BufRead, Read, Write},
};

use quick_xml::{
    Writer,
    escape::{escape, partial_escape},
    events::{BytesDecl, BytesStart, BytesText, Event, attributes::Attribute},
    name::QName,
};
use serde_json::{Map, Value};
use time::Date;

pub use crate::nist_document::Vocabulary;
use crate::{
    FormatsError,
    nist_document::{
        self, Node, check_text, format_date, json_document, json_node, parse_date, read_limited, vocabulary,
        xml_document,
    },
};

/// The XML namespace of 1500-102 version 1.
pub const XML_NAMESPACE: &str = "http://itl.nist.gov/ns/voting/1500-102/v1";
/// The FGDC address standard's namespace of address classes (`addr:`).
pub const ADDRESS_NAMESPACE: &str = "http://www.fgdc.gov/schemas/address/addr";
/// The FGDC address standard's namespace of address elements (`addr_type:`).
pub const ADDRESS_TYPE_NAMESPACE: &str = "http://www.fgdc.gov/schemas/address/addr_type";
const INSTANCE_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// The largest document read. A request is a few kilobytes; an embedded signature image makes it
/// a few hundred; anything past this is not a voter's request.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// The schema's enumerations

vocabulary! {
    /// `VoterRequestType`: what the request asks for.
    RequestType {
        BallotRequest => "ballot-request",
        Lookup => "lookup",
        Registration => "registration",
        Other => "other",
    }
}

vocabulary! {
    /// `RequestForm`: the form the voter filled in.
    RequestForm {
        /// The Federal Post Card Application (`fpca`).
        FederalPostCardApplication => "fpca",
        /// The National Voter Registration Act's national form (`nvra`).
        NationalVoterRegistrationForm => "nvra",
        Other => "other",
    }
}

vocabulary! {
    /// `RequestMethod`: how the request reached the election office.
    RequestMethod {
        ArmedForcesRecruitmentOffice => "armed-forces-recruitment-office",
        MotorVehicleOffice => "motor-vehicle-office",
        OtherAgencyDesignatedByState => "other-agency-designated-by-state",
        PublicAssistanceOffice => "public-assistance-office",
        RegistrationDriveFromAdvocacyGroupOrPoliticalParty => "registration-drive-from-advocacy-group-or-political-party",
        StateFundedAgencyServingPersonsWithDisabilities => "state-funded-agency-serving-persons-with-disabilities",
        VoterViaElectionRegistrarsOffice => "voter-via-election-registrars-office",
        VoterViaEmail => "voter-via-email",
        VoterViaFax => "voter-via-fax",
        VoterViaInternet => "voter-via-internet",
        VoterViaMail => "voter-via-mail",
        Unknown => "unknown",
        Other => "other",
    }
}

vocabulary! {
    /// `ContactMethodType`.
    ContactMethodType {
        Email => "email",
        Phone => "phone",
        Other => "other",
    }
}

vocabulary! {
    /// `PhoneCapability`.
    PhoneCapability {
        Fax => "fax",
        /// `mms`.
        MultimediaMessaging => "mms",
        /// `sms`.
        ShortMessaging => "sms",
        Voice => "voice",
    }
}

vocabulary! {
    /// `VoterIdType`.
    VoterIdType {
        DriversLicense => "drivers-license",
        LocalVoterRegistrationId => "local-voter-registration-id",
        /// All nine digits (`ssn`).
        SocialSecurityNumber => "ssn",
        /// The last four digits (`ssn4`).
        SocialSecurityNumberLastFour => "ssn4",
        StateId => "state-id",
        StateVoterRegistrationId => "state-voter-registration-id",
        UnspecifiedDocument => "unspecified-document",
        UnspecifiedDocumentWithNameAndAddress => "unspecified-document-with-name-and-address",
        UnspecifiedDocumentWithPhotoIdentification => "unspecified-document-with-photo-identification",
        Unknown => "unknown",
        Other => "other",
    }
}

vocabulary! {
    /// `VoterClassificationType`: what the voter (or a third party) asserts about them.
    VoterClassificationType {
        ActivatedNationalGuard => "activated-national-guard",
        ActiveDuty => "active-duty",
        ActiveDutySpouseOrDependent => "active-duty-spouse-or-dependent",
        CitizenAbroadIntentToReturn => "citizen-abroad-intent-to-return",
        CitizenAbroadReturnUncertain => "citizen-abroad-return-uncertain",
        CitizenAbroadNeverResided => "citizen-abroad-never-resided",
        Deceased => "deceased",
        DeclaredIncompetent => "declared-incompetent",
        EighteenOnElectionDay => "eighteen-on-election-day",
        Felon => "felon",
        PermanentlyDenied => "permanently-denied",
        ProtectedVoter => "protected-voter",
        RestoredFelon => "restored-felon",
        UnitedStatesCitizen => "united-states-citizen",
        Other => "other",
    }
}

vocabulary! {
    /// `AssertionValue`.
    Assertion {
        No => "no",
        Yes => "yes",
        Unknown => "unknown",
        Other => "other",
    }
}

vocabulary! {
    /// `BallotReceiptMethod`: how the voter wants the ballot delivered.
    BallotReceiptMethod {
        Email => "email",
        EmailOrOnline => "email-or-online",
        Fax => "fax",
        Mail => "mail",
        Online => "online",
    }
}

vocabulary! {
    /// `SignatureSource`: where a signature on file came from.
    SignatureSource {
        /// `dmv`.
        MotorVehicleDepartment => "dmv",
        Local => "local",
        State => "state",
        Voter => "voter",
        Other => "other",
    }
}

vocabulary! {
    /// `SignatureType`.
    SignatureType {
        Dynamic => "dynamic",
        Electronic => "electronic",
        Other => "other",
    }
}

vocabulary! {
    /// `VoterHelperType`: the role of someone who helped the voter.
    HelperType {
        Assistant => "assistant",
        Witness => "witness",
    }
}

vocabulary! {
    /// The FGDC address standard's `PlaceNameType`.
    PlaceNameType {
        County => "County",
        MunicipalJurisdiction => "MunicipalJurisdiction",
        /// `USPSCommunity`: the city or town name the Postal Service delivers under.
        PostalCommunity => "USPSCommunity",
    }
}

// ---------------------------------------------------------------------------------------------
// The model

/// A VRI request: the document's root element.
#[derive(Clone, PartialEq, Eq)]
pub struct VoterRecordsRequest {
    /// `Type`: at least one.
    pub request_types: Vec<RequestType>,
    /// `OtherType`: what an `other` request type means.
    pub other_request_type: Option<String>,
    pub form: Option<RequestForm>,
    /// `OtherForm`: the form's name when `form` is `other` (Ohio's `4010`, Virginia's `SBE-701`).
    pub other_form: Option<String>,
    pub request_method: RequestMethod,
    pub other_request_method: Option<String>,
    pub generated_date: Date,
    pub issuer: Option<String>,
    pub transaction_id: Option<String>,
    pub vendor_application_id: Option<String>,
    pub additional_info: Vec<AdditionalInfo>,
    /// `BallotRequest`: present in absentee requests.
    pub ballot_request: Option<BallotRequest>,
    /// `RequestHelper`: whoever assisted or witnessed.
    pub request_helpers: Vec<RequestHelper>,
    /// `Subject`: the voter the request is about.
    pub subject: Voter,
}

/// What Canvass does with a request, from its `Type`s and whether it asks for a ballot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RequestKind {
    Registration,
    /// A ballot by mail: `ballot-request`, or any request carrying a `BallotRequest`.
    Absentee,
    /// A lookup or an `other` request.
    Other,
}

/// `AdditionalInfo`: a named value the schema has no element for (Ohio sends `Language`).
#[derive(Clone, PartialEq, Eq)]
pub struct AdditionalInfo {
    pub name: String,
    /// `StringValue`.
    pub value: Option<String>,
    /// `FileValue`.
    pub file: Option<File>,
}

/// `File` (and `Image`): an embedded file, base64 in both encodings.
#[derive(Clone, PartialEq, Eq)]
pub struct File {
    pub data: Vec<u8>,
    pub file_name: Option<String>,
    pub mime_type: Option<String>,
}

/// `BallotRequest`: a request for a ballot by mail.
#[derive(Clone, PartialEq, Eq)]
pub struct BallotRequest {
    pub period: BallotPeriod,
    /// `BallotReceiptPreference`: how the voter wants the ballot delivered.
    pub receipt_preferences: Vec<BallotReceiptMethod>,
    pub mail_forwarding_address: Option<Address>,
}

/// Which ballots a `BallotRequest` asks for: the schema's three derived types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BallotPeriod {
    /// `ElectionBasedBallotRequest`: the ballot of one election.
    ElectionBased(Election),
    /// `PermanentBallotRequest`: every election from now on.
    Permanent,
    /// `TemporalBallotRequest`: every election between two dates (Virginia's annual request).
    Temporal { start_date: Date, end_date: Date },
}

/// `Election`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Election {
    pub name: Option<String>,
    pub start_date: Date,
    pub end_date: Option<Date>,
}

/// `RequestHelper`: someone who assisted the voter or witnessed the request.
#[derive(Clone, PartialEq, Eq)]
pub struct RequestHelper {
    pub kind: HelperType,
    pub name: Option<Name>,
    pub address: Option<Address>,
    /// `Phone`: a `PhoneContactMethod`.
    pub phone: Option<ContactMethod>,
    pub signature: Option<Signature>,
}

/// `Voter`: the person a request is about.
#[derive(Clone, PartialEq, Eq)]
pub struct Voter {
    pub name: Name,
    pub previous_name: Option<Name>,
    pub date_of_birth: Option<Date>,
    pub gender: Option<String>,
    pub ethnicity: Option<String>,
    pub contact_methods: Vec<ContactMethod>,
    pub voter_ids: Vec<VoterId>,
    pub classifications: Vec<VoterClassification>,
    pub party: Option<Party>,
    pub residence_address: Address,
    pub mailing_address: Option<Address>,
    pub previous_residence_address: Option<Address>,
    pub residence_address_is_mailing_address: Option<bool>,
    pub signature: Option<Signature>,
    pub previous_signature: Option<Signature>,
}

/// `Name`: every part optional in the schema; a request's `Subject` always has `last`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Name {
    pub prefix: Option<String>,
    pub first: Option<String>,
    pub middle: Vec<String>,
    pub last: Option<String>,
    pub suffix: Option<String>,
    /// `FullName`: the name as one string, when the sender did not split it.
    pub full: Option<String>,
}

/// `ContactMethod` (or `PhoneContactMethod`, when it has capabilities).
#[derive(Clone, PartialEq, Eq)]
pub struct ContactMethod {
    pub kind: ContactMethodType,
    pub other_type: Option<String>,
    pub value: String,
    pub capabilities: Vec<PhoneCapability>,
}

/// `VoterId`: an identity document's number, or the voter's word that they have none.
#[derive(Clone, PartialEq, Eq)]
pub struct VoterId {
    pub kind: VoterIdType,
    pub other_type: Option<String>,
    /// `StringValue`.
    pub value: Option<String>,
    /// `AttestNoSuchId`: `Some(true)` when the voter says they have no such id.
    pub attest_no_such_id: Option<bool>,
    pub date_of_issuance: Option<Date>,
    /// `FileValue`: a scan of the document.
    pub file: Option<File>,
}

/// `VoterClassification`: an assertion about the voter (citizen, eighteen by election day,
/// military, ...).
#[derive(Clone, PartialEq, Eq)]
pub struct VoterClassification {
    pub kind: VoterClassificationType,
    pub other_type: Option<String>,
    pub assertion: Assertion,
    pub other_assertion: Option<String>,
}

/// `Party`: the party the voter chose.
#[derive(Clone, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    pub abbreviation: Option<String>,
}

/// `Signature`: whether and how the request was signed, and the image when one is embedded.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Signature {
    pub date: Option<Date>,
    pub source: Option<SignatureSource>,
    pub other_source: Option<String>,
    pub kind: Option<SignatureType>,
    pub other_type: Option<String>,
    /// `FileValue`: the signature's image.
    pub image: Option<File>,
}

/// An address: the FGDC address classes Canvass reads.
#[derive(Clone, PartialEq, Eq)]
pub enum Address {
    /// `GeneralAddressClass_type` holding the whole address as one line (`GeneralAddress`).
    Line(String),
    /// `GeneralAddressClass_type` with a delivery line (`USPSGeneralDeliveryPoint`, e.g.
    /// `2219 STORER AVE`) and its place.
    DeliveryPoint { delivery_point: String, place: Place },
    /// `NumberedThoroughfareAddress_type`: a number on a named street.
    NumberedThoroughfare(NumberedThoroughfareAddress),
    /// `USPSPostalDeliveryRoute_type`: military and rural routes (`PSC 127 BOX 931`).
    PostalDeliveryRoute(PostalDeliveryRouteAddress),
}

/// `NumberedThoroughfareAddress_type`.
#[derive(Clone, PartialEq, Eq)]
pub struct NumberedThoroughfareAddress {
    pub number_prefix: Option<String>,
    /// `AddressNumber`: digits only, as the address schema requires.
    pub number: String,
    pub number_suffix: Option<String>,
    pub street: StreetName,
    /// `CompleteSubaddress`: apartment, suite, room...
    pub subaddresses: Vec<Subaddress>,
    pub place: Option<Place>,
}

/// `CompleteStreetName`: `N` `Madison` `Rd`, each part as sent.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StreetName {
    pub pre_modifier: Option<String>,
    pub pre_directional: Option<String>,
    pub pre_type: Option<String>,
    pub name: String,
    pub post_type: Option<String>,
    pub post_directional: Option<String>,
    pub post_modifier: Option<String>,
}

/// `SubaddressElement`: `ROOM` `999`.
#[derive(Clone, PartialEq, Eq)]
pub struct Subaddress {
    pub kind: Option<String>,
    pub identifier: String,
}

/// `USPSPostalDeliveryRoute_type`: `USPSRoute` (`PSC 127`) and `USPSBox` (`BOX 931`).
#[derive(Clone, PartialEq, Eq)]
pub struct PostalDeliveryRouteAddress {
    pub route_type: String,
    pub route_id: String,
    pub box_type: String,
    pub box_id: String,
    pub place: Place,
}

/// The address schema's place, state and ZIP code group.
#[derive(Clone, PartialEq, Eq)]
pub enum Place {
    /// `CompletePlaceName` (one or more `PlaceName`), `StateName`, `ZipCode`, `ZipPlus4`,
    /// `CountryName`.
    Parts {
        names: Vec<PlaceName>,
        state: Option<String>,
        /// Five digits.
        zip_code: Option<String>,
        /// Four digits, only with a ZIP code.
        zip_plus_four: Option<String>,
        country: Option<String>,
    },
    /// `PlaceStateZip`: place, state and ZIP code as unparsed lines.
    Lines(Vec<String>),
}

/// `PlaceName`: a city, town or county name.
#[derive(Clone, PartialEq, Eq)]
pub struct PlaceName {
    pub name: String,
    pub kind: Option<PlaceNameType>,
    /// `ElementSequenceNumber`.
    pub sequence_number: Option<i64>,
}

// Personal data: these print their type's name and at most a code, never a value.
macro_rules! redacted_debug {
    ($($name:ident),+ $(,)?) => {
        $(impl fmt::Debug for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        })+
    };
}

redacted_debug!(
    AdditionalInfo,
    File,
    BallotRequest,
    RequestHelper,
    Voter,
    Name,
    VoterClassification,
    Party,
    Signature,
    Address,
    NumberedThoroughfareAddress,
    StreetName,
    Subaddress,
    PostalDeliveryRouteAddress,
    Place,
    PlaceName,
);

impl fmt::Debug for VoterRecordsRequest {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("VoterRecordsRequest")
            .field("transaction_id", &self.transaction_id)
            .field("request_types", &self.request_types)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ContactMethod {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("ContactMethod").field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl fmt::Debug for VoterId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("VoterId").field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl VoterRecordsRequest {
    pub fn first_name(&self) -> Option<&str> {
        self.subject.name.first.as_deref()
    }

    /// Always present in a request read by [`read_xml`] or [`read_json`].
    pub fn last_name(&self) -> Option<&str> {
        self.subject.name.last.as_deref()
    }

    pub fn birth_date(&self) -> Option<Date> {
        self.subject.date_of_birth
    }

    /// The first driver's licence number, unless the voter attested to having none.
    pub fn drivers_license(&self) -> Option<&str> {
        self.voter_id(VoterIdType::DriversLicense)
    }

    /// The last four digits of the social security number: an `ssn4` id as sent, or else the
    /// last four characters of a full `ssn` when they are digits.
    pub fn ssn_last_four(&self) -> Option<&str> {
        self.voter_id(VoterIdType::SocialSecurityNumberLastFour).or_else(|| {
            let full = self.voter_id(VoterIdType::SocialSecurityNumber)?;
            let last_four = full.get(full.len().checked_sub(4)?..)?;
            last_four.bytes().all(|byte| byte.is_ascii_digit()).then_some(last_four)
        })
    }

    pub fn email(&self) -> Option<&str> {
        self.contact(ContactMethodType::Email)
    }

    pub fn phone(&self) -> Option<&str> {
        self.contact(ContactMethodType::Phone)
    }

    /// The residence address as it would be written on an envelope (see [`Address::lines`]).
    pub fn residence_address_lines(&self) -> Vec<String> {
        self.subject.residence_address.lines()
    }

    /// What the request asks for, each kind once, in [`RequestKind`]'s order.
    pub fn request_kinds(&self) -> Vec<RequestKind> {
        let mut kinds: Vec<RequestKind> = self
            .request_types
            .iter()
            .map(|request_type| match request_type {
                RequestType::Registration => RequestKind::Registration,
                RequestType::BallotRequest => RequestKind::Absentee,
                RequestType::Lookup | RequestType::Other => RequestKind::Other,
            })
            .collect();
        if self.ballot_request.is_some() {
            kinds.push(RequestKind::Absentee);
        }
        kinds.sort_unstable();
        kinds.dedup();
        kinds
    }

    /// The image of the voter's signature, when the request embeds one.
    pub fn signature_image(&self) -> Option<&[u8]> {
        self.subject.signature.as_ref()?.image.as_ref().map(|image| image.data.as_slice())
    }

    fn voter_id(&self, kind: VoterIdType) -> Option<&str> {
        self.subject
            .voter_ids
            .iter()
            .filter(|id| id.kind == kind && id.attest_no_such_id != Some(true))
            .find_map(|id| id.value.as_deref())
    }

    fn contact(&self, kind: ContactMethodType) -> Option<&str> {
        self.subject.contact_methods.iter().find(|contact| contact.kind == kind).map(|contact| contact.value.as_str())
    }
}

impl Address {
    /// The address as envelope lines: the street (or route, or delivery) line with any
    /// subaddress, then `City, ST 12345-6789`, then the country when there is one. The city is
    /// the postal community, else the municipality, else a name of no stated type; counties are
    /// left out.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Self::Line(line) => vec![line.clone()],
            Self::DeliveryPoint { delivery_point, place } => {
                let mut lines = vec![delivery_point.clone()];
                lines.extend(place.lines());
                lines
            }
            Self::NumberedThoroughfare(address) => {
                let street = &address.street;
                let mut words = vec![
                    address.number_prefix.as_deref(),
                    Some(address.number.as_str()),
                    address.number_suffix.as_deref(),
                    street.pre_modifier.as_deref(),
                    street.pre_directional.as_deref(),
                    street.pre_type.as_deref(),
                    Some(street.name.as_str()),
                    street.post_type.as_deref(),
                    street.post_directional.as_deref(),
                    street.post_modifier.as_deref(),
                ];
                for subaddress in &address.subaddresses {
                    words.push(subaddress.kind.as_deref());
                    words.push(Some(subaddress.identifier.as_str()));
                }
                let mut lines = vec![join_words(words)];
                lines.extend(address.place.iter().flat_map(Place::lines));
                lines
            }
            Self::PostalDeliveryRoute(address) => {
                let route = [&address.route_type, &address.route_id, &address.box_type, &address.box_id];
                let mut lines = vec![join_words(route.map(|word| Some(word.as_str())))];
                lines.extend(address.place.lines());
                lines
            }
        }
    }
}

impl Place {
    /// `City, ST 12345-6789` and the country, or the `PlaceStateZip` lines as sent.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Self::Lines(lines) => lines.clone(),
            Self::Parts { names, state, zip_code, zip_plus_four, country } => {
                let of_kind = |kind: Option<PlaceNameType>| names.iter().find(|name| name.kind == kind);
                let city = of_kind(Some(PlaceNameType::PostalCommunity))
                    .or_else(|| of_kind(Some(PlaceNameType::MunicipalJurisdiction)))
                    .or_else(|| of_kind(None))
                    .map(|name| name.name.as_str());
                let zip = match (zip_code, zip_plus_four) {
                    (Some(zip), Some(plus_four)) => Some(format!("{zip}-{plus_four}")),
                    (zip, _) => zip.clone(),
                };
                let state_and_zip = join_words([state.as_deref(), zip.as_deref()]);
                let line = match (city, state_and_zip.is_empty()) {
                    (Some(city), false) => format!("{city}, {state_and_zip}"),
                    (Some(city), true) => city.to_owned(),
                    (None, _) => state_and_zip,
                };
                let mut lines = Vec::new();
                if !line.is_empty() {
                    lines.push(line);
                }
                lines.extend(country.clone());
                lines
            }
        }
    }
}

fn join_words<'a>(words: impl IntoIterator<Item = Option<&'a str>>) -> String {
    words.into_iter().flatten().filter(|word| !word.is_empty()).collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Reads a request from its XML encoding.
pub fn read_xml(reader: impl BufRead) -> Result<VoterRecordsRequest, FormatsError> {
    let bytes = read_limited(reader, MAX_DOCUMENT_BYTES, LABEL)?;
    let root = xml_document(&bytes, LABEL)?;
    match root.name.as_str() {
        "VoterRecordsRequest" => read_request(&root),
        "VoterRecordsResponse" => Err(refused(
            "the document is a VoterRecordsResponse (an election office's answer), not a VoterRecordsRequest",
        )),
        other => Err(refused(format!("the root element is {other}, not VoterRecordsRequest"))),
    }
}

/// Reads a request from its JSON encoding (NIST's JSON schema: objects tagged with `@type`).
pub fn read_json(reader: impl Read) -> Result<VoterRecordsRequest, FormatsError> {
    let bytes = read_limited(reader, MAX_DOCUMENT_BYTES, LABEL)?;
    let value = json_document(&bytes, LABEL)?;
    let Value::Object(object) = &value else {
        return Err(refused("the JSON document is not an object"));
    };
    match object.get("@type").map(|kind| kind.as_str()) {
        None | Some(Some("VRI.VoterRecordsRequest")) => {}
        Some(Some(
            "VRI.RequestAcknowledgement" | "VRI.RequestRejection" | "VRI.RequestSuccess" | "VRI.VoterRecordResults",
        )) => {
            return Err(refused(
                "the document is a VoterRecordsResponse (an election office's answer), not a VoterRecordsRequest",
            ));
        }
        Some(_) => return Err(refused("the root object's @type is not VRI.VoterRecordsRequest")),
    }
    let root = json_node("VoterRecordsRequest", &value, "VoterRecordsRequest", 0, LABEL)?
        .ok_or_else(|| refused("the JSON document is empty"))?;
    read_request(&root)
}

/// The prefix of every refusal: which format refused.
const LABEL: &str = "VRI";

fn refused(message: impl fmt::Display) -> FormatsError {
    nist_document::refused(LABEL, message)
}

fn join(path: &str, name: &str) -> String {
    format!("{path}/{name}")
}

fn missing(path: &str, name: &str) -> FormatsError {
    refused(format!("{path}/{name} is missing"))
}

/// An optional element's text: `None` when absent or empty.
fn text(node: &Node, name: &str) -> Option<String> {
    node.child(name).map(Node::value).filter(|value| !value.is_empty()).map(str::to_owned)
}

fn required_text(node: &Node, name: &str, path: &str) -> Result<String, FormatsError> {
    node.child(name).map(|child| child.value().to_owned()).ok_or_else(|| missing(path, name))
}

fn texts(node: &Node, name: &str) -> Vec<String> {
    node.all(name).map(Node::value).filter(|value| !value.is_empty()).map(str::to_owned).collect()
}

fn child<'a>(node: &'a Node, name: &str, path: &str) -> Result<&'a Node, FormatsError> {
    node.child(name).ok_or_else(|| missing(path, name))
}

fn date(node: &Node, name: &str, path: &str) -> Result<Option<Date>, FormatsError> {
    match text(node, name) {
        None => Ok(None),
        Some(value) => {
            parse_date(&value).map(Some).ok_or_else(|| refused(format!("{path}/{name} is not a date (YYYY-MM-DD)")))
        }
    }
}

fn required_date(node: &Node, name: &str, path: &str) -> Result<Date, FormatsError> {
    date(node, name, path)?.ok_or_else(|| missing(path, name))
}

fn boolean(node: &Node, name: &str, path: &str) -> Result<Option<bool>, FormatsError> {
    match text(node, name).as_deref() {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(_) => Err(refused(format!("{path}/{name} is not true or false"))),
    }
}

fn vocabulary<T: Vocabulary>(node: &Node, name: &str, path: &str) -> Result<Option<T>, FormatsError> {
    text(node, name).map(|value| parse_vocabulary(&value, name, path)).transpose()
}

fn required_vocabulary<T: Vocabulary>(node: &Node, name: &str, path: &str) -> Result<T, FormatsError> {
    vocabulary(node, name, path)?.ok_or_else(|| missing(path, name))
}

fn vocabularies<T: Vocabulary>(node: &Node, name: &str, path: &str) -> Result<Vec<T>, FormatsError> {
    texts(node, name).iter().map(|value| parse_vocabulary(value, name, path)).collect()
}

fn parse_vocabulary<T: Vocabulary>(value: &str, name: &str, path: &str) -> Result<T, FormatsError> {
    T::parse(value).ok_or_else(|| {
        let expected: Vec<&str> = T::ALL.iter().map(|value| value.as_str()).collect();
        refused(format!("{path}/{name} is not one of the schema's values ({})", expected.join(", ")))
    })
}

fn read_request(root: &Node) -> Result<VoterRecordsRequest, FormatsError> {
    let path = "VoterRecordsRequest";
    let request_types = vocabularies(root, "Type", path)?;
    if request_types.is_empty() {
        return Err(missing(path, "Type"));
    }
    Ok(VoterRecordsRequest {
        request_types,
        other_request_type: text(root, "OtherType"),
        form: vocabulary(root, "Form", path)?,
        other_form: text(root, "OtherForm"),
        request_method: required_vocabulary(root, "RequestMethod", path)?,
        other_request_method: text(root, "OtherRequestMethod"),
        generated_date: required_date(root, "GeneratedDate", path)?,
        issuer: text(root, "Issuer"),
        transaction_id: text(root, "TransactionId"),
        vendor_application_id: text(root, "VendorApplicationId"),
        additional_info: root
            .all("AdditionalInfo")
            .map(|info| read_additional_info(info, &join(path, "AdditionalInfo")))
            .collect::<Result<_, _>>()?,
        ballot_request: root
            .child("BallotRequest")
            .map(|request| read_ballot_request(request, &join(path, "BallotRequest")))
            .transpose()?,
        request_helpers: root
            .all("RequestHelper")
            .map(|helper| read_helper(helper, &join(path, "RequestHelper")))
            .collect::<Result<_, _>>()?,
        subject: read_voter(child(root, "Subject", path)?, &join(path, "Subject"))?,
    })
}

fn read_additional_info(node: &Node, path: &str) -> Result<AdditionalInfo, FormatsError> {
    Ok(AdditionalInfo {
        name: required_text(node, "Name", path)?,
        value: text(node, "StringValue"),
        file: node.child("FileValue").map(|file| read_file(file, &join(path, "FileValue"))).transpose()?,
    })
}

fn read_file(node: &Node, path: &str) -> Result<File, FormatsError> {
    // XML carries the data as the element's text, JSON as its `Data` member.
    let encoded = match node.text.trim() {
        "" => node.child("Data").map_or("", Node::value),
        own => own,
    };
    Ok(File {
        data: base64_decode(encoded).ok_or_else(|| refused(format!("{path} is not base64")))?,
        file_name: text(node, "FileName"),
        mime_type: text(node, "MimeType"),
    })
}

fn read_ballot_request(node: &Node, path: &str) -> Result<BallotRequest, FormatsError> {
    let election = |node: &Node| -> Result<BallotPeriod, FormatsError> {
        let path = join(path, "Election");
        let election = child(node, "Election", &path)?;
        Ok(BallotPeriod::ElectionBased(Election {
            name: text(election, "Name"),
            start_date: required_date(election, "StartDate", &path)?,
            end_date: date(election, "EndDate", &path)?,
        }))
    };
    let temporal = |node: &Node| -> Result<BallotPeriod, FormatsError> {
        Ok(BallotPeriod::Temporal {
            start_date: required_date(node, "StartDate", path)?,
            end_date: required_date(node, "EndDate", path)?,
        })
    };
    let period = match node.type_name.as_deref() {
        Some("ElectionBasedBallotRequest") => election(node)?,
        Some("PermanentBallotRequest") => BallotPeriod::Permanent,
        Some("TemporalBallotRequest") => temporal(node)?,
        Some(_) => {
            return Err(refused(format!(
                "{path} has a type other than ElectionBasedBallotRequest, PermanentBallotRequest and TemporalBallotRequest"
            )));
        }
        // The type is required (BallotRequest is abstract), but what the request holds says it.
        None if node.child("Election").is_some() => election(node)?,
        None if node.child("StartDate").is_some() || node.child("EndDate").is_some() => temporal(node)?,
        None => BallotPeriod::Permanent,
    };
    Ok(BallotRequest {
        period,
        receipt_preferences: vocabularies(node, "BallotReceiptPreference", path)?,
        mail_forwarding_address: optional_address(node, "MailForwardingAddress", path)?,
    })
}

fn read_helper(node: &Node, path: &str) -> Result<RequestHelper, FormatsError> {
    Ok(RequestHelper {
        kind: required_vocabulary(node, "Type", path)?,
        name: node.child("Name").map(read_name),
        address: optional_address(node, "Address", path)?,
        phone: node.child("Phone").map(|phone| read_contact(phone, &join(path, "Phone"))).transpose()?,
        signature: optional_signature(node, "Signature", path)?,
    })
}

fn read_voter(node: &Node, path: &str) -> Result<Voter, FormatsError> {
    let name = read_name(child(node, "Name", path)?);
    if name.last.is_none() {
        return Err(refused(format!("{path}/Name/LastName is missing or empty")));
    }
    let residence_address =
        optional_address(node, "ResidenceAddress", path)?.ok_or_else(|| missing(path, "ResidenceAddress"))?;
    Ok(Voter {
        name,
        previous_name: node.child("PreviousName").map(read_name),
        date_of_birth: date(node, "DateOfBirth", path)?,
        gender: text(node, "Gender"),
        ethnicity: text(node, "Ethnicity"),
        contact_methods: node
            .all("ContactMethod")
            .map(|contact| read_contact(contact, &join(path, "ContactMethod")))
            .collect::<Result<_, _>>()?,
        voter_ids: node.all("VoterId").map(|id| read_voter_id(id, &join(path, "VoterId"))).collect::<Result<_, _>>()?,
        classifications: node
            .all("VoterClassification")
            .map(|classification| read_classification(classification, &join(path, "VoterClassification")))
            .collect::<Result<_, _>>()?,
        party: node
            .child("Party")
            .map(|party| -> Result<Party, FormatsError> {
                Ok(Party {
                    name: required_text(party, "Name", &join(path, "Party"))?,
                    abbreviation: text(party, "Abbreviation"),
                })
            })
            .transpose()?,
        residence_address,
        mailing_address: optional_address(node, "MailingAddress", path)?,
        previous_residence_address: optional_address(node, "PreviousResidenceAddress", path)?,
        residence_address_is_mailing_address: boolean(node, "ResidenceAddressIsMailingAddress", path)?,
        signature: optional_signature(node, "Signature", path)?,
        previous_signature: optional_signature(node, "PreviousSignature", path)?,
    })
}

fn read_name(node: &Node) -> Name {
    Name {
        prefix: text(node, "Prefix"),
        first: text(node, "FirstName"),
        middle: texts(node, "MiddleName"),
        last: text(node, "LastName"),
        suffix: text(node, "Suffix"),
        full: text(node, "FullName"),
    }
}

fn read_contact(node: &Node, path: &str) -> Result<ContactMethod, FormatsError> {
    Ok(ContactMethod {
        kind: required_vocabulary(node, "Type", path)?,
        other_type: text(node, "OtherType"),
        value: required_text(node, "Value", path)?,
        capabilities: vocabularies(node, "Capability", path)?,
    })
}

fn read_voter_id(node: &Node, path: &str) -> Result<VoterId, FormatsError> {
    Ok(VoterId {
        kind: required_vocabulary(node, "Type", path)?,
        other_type: text(node, "OtherType"),
        value: text(node, "StringValue"),
        attest_no_such_id: boolean(node, "AttestNoSuchId", path)?,
        date_of_issuance: date(node, "DateOfIssuance", path)?,
        file: node.child("FileValue").map(|file| read_file(file, &join(path, "FileValue"))).transpose()?,
    })
}

fn read_classification(node: &Node, path: &str) -> Result<VoterClassification, FormatsError> {
    Ok(VoterClassification {
        kind: required_vocabulary(node, "Type", path)?,
        other_type: text(node, "OtherType"),
        assertion: required_vocabulary(node, "Assertion", path)?,
        other_assertion: text(node, "OtherAssertion"),
    })
}

fn optional_signature(node: &Node, name: &str, path: &str) -> Result<Option<Signature>, FormatsError> {
    let Some(signature) = node.child(name) else { return Ok(None) };
    let path = join(path, name);
    Ok(Some(Signature {
        date: date(signature, "Date", &path)?,
        source: vocabulary(signature, "Source", &path)?,
        other_source: text(signature, "OtherSource"),
        kind: vocabulary(signature, "Type", &path)?,
        other_type: text(signature, "OtherType"),
        image: signature.child("FileValue").map(|file| read_file(file, &join(&path, "FileValue"))).transpose()?,
    }))
}

/// An address element: in XML it holds one element named after the address class; in JSON it is
/// the class's object itself, its `@type` naming the class.
fn optional_address(node: &Node, name: &str, path: &str) -> Result<Option<Address>, FormatsError> {
    let Some(container) = node.child(name) else { return Ok(None) };
    let path = join(path, name);
    let (class, content, path) = match &container.type_name {
        Some(class) => (class.as_str(), container, path),
        None => match container.children.first() {
            Some(class) => (class.name.as_str(), class, join(&path, &class.name)),
            None => return Ok(None),
        },
    };
    let path = path.as_str();
    let address = match class {
        "GeneralAddressClass_type" => match content.child("GeneralAddress") {
            Some(line) => Address::Line(line.value().to_owned()),
            None => Address::DeliveryPoint {
                delivery_point: required_text(content, "USPSGeneralDeliveryPoint", path)?,
                place: read_place(content, path)?.ok_or_else(|| missing(path, "CompletePlaceName"))?,
            },
        },
        "NumberedThoroughfareAddress_type" => {
            let number_path = join(path, "CompleteAddressNumber");
            let number = child(content, "CompleteAddressNumber", path)?;
            let street_path = join(path, "CompleteStreetName");
            let street = child(content, "CompleteStreetName", path)?;
            let subaddress_path = join(path, "CompleteSubaddress/SubaddressElement");
            Address::NumberedThoroughfare(NumberedThoroughfareAddress {
                number_prefix: text(number, "AddressNumberPrefix"),
                number: required_text(number, "AddressNumber", &number_path)?,
                number_suffix: text(number, "AddressNumberSuffix"),
                street: StreetName {
                    pre_modifier: text(street, "StreetNamePreModifier"),
                    pre_directional: text(street, "StreetNamePreDirectional"),
                    pre_type: text(street, "StreetNamePreType"),
                    name: required_text(street, "StreetName", &street_path)?,
                    post_type: text(street, "StreetNamePostType"),
                    post_directional: text(street, "StreetNamePostDirectional"),
                    post_modifier: text(street, "StreetNamePostModifier"),
                },
                subaddresses: content
                    .all("CompleteSubaddress")
                    .flat_map(|complete| complete.all("SubaddressElement"))
                    .map(|element| {
                        Ok(Subaddress {
                            kind: text(element, "SubaddressType"),
                            identifier: required_text(element, "SubaddressIdentifier", &subaddress_path)?,
                        })
                    })
                    .collect::<Result<_, FormatsError>>()?,
                place: read_place(content, path)?,
            })
        }
        "USPSPostalDeliveryRoute_type" => {
            let postal_path = join(path, "USPSAddress");
            let postal = child(content, "USPSAddress", path)?;
            let route_path = join(&postal_path, "USPSRoute");
            let route = child(postal, "USPSRoute", &postal_path)?;
            let box_path = join(&postal_path, "USPSBox");
            let postal_box = child(postal, "USPSBox", &postal_path)?;
            Address::PostalDeliveryRoute(PostalDeliveryRouteAddress {
                route_type: required_text(route, "USPSBoxGroupType", &route_path)?,
                route_id: required_text(route, "USPSBoxGroupId", &route_path)?,
                box_type: required_text(postal_box, "USPSBoxType", &box_path)?,
                box_id: required_text(postal_box, "USPSBoxId", &box_path)?,
                place: read_place(content, path)?.ok_or_else(|| missing(path, "CompletePlaceName"))?,
            })
        }
        _ => {
            return Err(refused(format!(
                "{path} is of an address class Canvass does not read (it reads GeneralAddressClass_type, \
                 NumberedThoroughfareAddress_type and USPSPostalDeliveryRoute_type)"
            )));
        }
    };
    Ok(Some(address))
}

fn read_place(content: &Node, path: &str) -> Result<Option<Place>, FormatsError> {
    // NIST's JSON schema numbers the numbered-thoroughfare class's place name.
    let complete = content.child("CompletePlaceName").or_else(|| content.child("CompletePlaceName1"));
    let Some(complete) = complete else {
        let lines = texts(content, "PlaceStateZip");
        if !lines.is_empty() {
            return Ok(Some(Place::Lines(lines)));
        }
        if ["StateName", "ZipCode", "ZipPlus4", "CountryName"].iter().any(|name| content.child(name).is_some()) {
            return Err(missing(path, "CompletePlaceName"));
        }
        return Ok(None);
    };
    let path = join(path, "CompletePlaceName/PlaceName");
    let names = complete
        .all("PlaceName")
        .map(|name| {
            let sequence_number = text(name, "ElementSequenceNumber")
                .map(|number| {
                    number.parse().map_err(|_| refused(format!("{path}/@ElementSequenceNumber is not an integer")))
                })
                .transpose()?;
            Ok(PlaceName {
                name: name.value().to_owned(),
                kind: vocabulary(name, "PlaceNameType", &path)?,
                sequence_number,
            })
        })
        .collect::<Result<Vec<_>, FormatsError>>()?;
    if names.is_empty() {
        return Err(refused(format!("{path} is missing")));
    }
    Ok(Some(Place::Parts {
        names,
        state: text(content, "StateName"),
        zip_code: text(content, "ZipCode"),
        zip_plus_four: text(content, "ZipPlus4"),
        country: text(content, "CountryName"),
    }))
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Writes a request as an XML document valid against the 1500-102 XSD.
pub fn write_xml(request: &VoterRecordsRequest, out: impl Write) -> Result<(), FormatsError> {
    let root = request_element(request)?;
    let mut writer = Writer::new_with_indent(out, b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    write_xml_element(&mut writer, &root, true)?;
    let mut out = writer.into_inner();
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Writes a request as a JSON document valid against NIST's 1500-102 JSON schema.
pub fn write_json(request: &VoterRecordsRequest, mut out: impl Write) -> Result<(), FormatsError> {
    let root = request_element(request)?;
    serde_json::to_writer_pretty(&mut out, &json_value(&root))?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// The namespace of an element: the request's own, or one of the address standard's two.
#[derive(Clone, Copy)]
enum Namespace {
    Request,
    Address,
    AddressType,
}

impl Namespace {
    fn prefix(self) -> &'static str {
        match self {
            Self::Request => "",
            Self::Address => "addr:",
            Self::AddressType => "addr_type:",
        }
    }
}

/// One element to write, with what each encoding needs beyond the element itself. Both writers
/// walk the same tree, so the two encodings cannot disagree about what a request says.
struct Element {
    name: &'static str,
    namespace: Namespace,
    /// JSON's `@type` for this element's object.
    json_type: Option<&'static str>,
    /// XML's `xsi:type`: which derived type a base-typed element holds.
    xsi_type: Option<&'static str>,
    /// JSON's member name where NIST's JSON schema renames the element.
    json_name: Option<&'static str>,
    /// Repeatable in the schema: an array in JSON, even of one.
    repeated: bool,
    /// An XML wrapper whose JSON form is its only child's object: the address class inside an
    /// address element.
    json_unwrap: bool,
    /// Attributes in XML, members in JSON.
    attributes: Vec<(&'static str, Scalar)>,
    content: Content,
}

enum Scalar {
    Text(String),
    Integer(i64),
}

enum Content {
    Text(String),
    /// Base64: the element's text in XML, its `Data` member in JSON.
    Data(String),
    Boolean(bool),
    Children(Vec<Element>),
}

impl Element {
    fn new(name: &'static str, namespace: Namespace, content: Content) -> Self {
        Self {
            name,
            namespace,
            json_type: None,
            xsi_type: None,
            json_name: None,
            repeated: false,
            json_unwrap: false,
            attributes: Vec::new(),
            content,
        }
    }

    /// An element holding `children`, in their namespace (`in_namespace` moves it): only the
    /// address classes' own elements differ from their children's.
    fn parent(name: &'static str, json_type: &'static str, children: Sequence) -> Self {
        Self { json_type: Some(json_type), ..Self::new(name, children.namespace, Content::Children(children.elements)) }
    }

    fn repeated(self) -> Self {
        Self { repeated: true, ..self }
    }

    fn in_namespace(self, namespace: Namespace) -> Self {
        Self { namespace, ..self }
    }
}

/// The children of one element, added in the order of the schema's sequence.
struct Sequence {
    namespace: Namespace,
    elements: Vec<Element>,
}

impl Sequence {
    fn new(namespace: Namespace) -> Self {
        Self { namespace, elements: Vec::new() }
    }

    fn push(&mut self, element: Element) {
        self.elements.push(element);
    }

    fn text(&mut self, name: &'static str, value: &str) -> Result<(), FormatsError> {
        check_text(name, value)?;
        self.push(Element::new(name, self.namespace, Content::Text(value.to_owned())));
        Ok(())
    }

    fn optional_text(&mut self, name: &'static str, value: Option<&str>) -> Result<(), FormatsError> {
        value.map_or(Ok(()), |value| self.text(name, value))
    }

    /// Simple content that JSON writes as an object: `{"@type": ..., "Value": ...}`.
    fn typed_text(
        &mut self,
        name: &'static str,
        json_type: &'static str,
        value: Option<&str>,
    ) -> Result<(), FormatsError> {
        if let Some(value) = value {
            check_text(name, value)?;
            let element = Element::new(name, self.namespace, Content::Text(value.to_owned()));
            self.push(Element { json_type: Some(json_type), ..element });
        }
        Ok(())
    }

    fn vocabulary<T: Vocabulary>(&mut self, name: &'static str, value: T) {
        self.push(Element::new(name, self.namespace, Content::Text(value.as_str().to_owned())));
    }

    fn optional_vocabulary<T: Vocabulary>(&mut self, name: &'static str, value: Option<T>) {
        if let Some(value) = value {
            self.vocabulary(name, value);
        }
    }

    fn repeated_vocabulary<T: Vocabulary>(&mut self, name: &'static str, values: &[T]) {
        for value in values {
            self.push(Element::new(name, self.namespace, Content::Text(value.as_str().to_owned())).repeated());
        }
    }

    fn date(&mut self, name: &'static str, value: Option<Date>) -> Result<(), FormatsError> {
        if let Some(value) = value {
            self.push(Element::new(name, self.namespace, Content::Text(format_date(name, value)?)));
        }
        Ok(())
    }

    fn boolean(&mut self, name: &'static str, value: Option<bool>) {
        if let Some(value) = value {
            self.push(Element::new(name, self.namespace, Content::Boolean(value)));
        }
    }
}

fn digits(field: &'static str, value: &str, count: Option<usize>, reason: &'static str) -> Result<(), FormatsError> {
    let right_length = count.map_or(!value.is_empty(), |count| value.len() == count);
    if right_length && value.bytes().all(|byte| byte.is_ascii_digit()) {
        Ok(())
    } else {
        Err(FormatsError::InvalidText { field, reason })
    }
}

fn request_element(request: &VoterRecordsRequest) -> Result<Element, FormatsError> {
    if request.request_types.is_empty() {
        return Err(FormatsError::InvalidText { field: "Type", reason: "needs at least one request type" });
    }
    let mut sequence = Sequence::new(Namespace::Request);
    for info in &request.additional_info {
        sequence.push(additional_info_element(info)?.repeated());
    }
    if let Some(ballot_request) = &request.ballot_request {
        sequence.push(ballot_request_element(ballot_request)?);
    }
    sequence.optional_vocabulary("Form", request.form);
    sequence.date("GeneratedDate", Some(request.generated_date))?;
    sequence.optional_text("Issuer", request.issuer.as_deref())?;
    sequence.optional_text("OtherForm", request.other_form.as_deref())?;
    sequence.optional_text("OtherRequestMethod", request.other_request_method.as_deref())?;
    sequence.optional_text("OtherType", request.other_request_type.as_deref())?;
    for helper in &request.request_helpers {
        sequence.push(helper_element(helper)?.repeated());
    }
    sequence.vocabulary("RequestMethod", request.request_method);
    sequence.push(voter_element(&request.subject)?);
    sequence.optional_text("TransactionId", request.transaction_id.as_deref())?;
    sequence.repeated_vocabulary("Type", &request.request_types);
    sequence.optional_text("VendorApplicationId", request.vendor_application_id.as_deref())?;
    Ok(Element::parent("VoterRecordsRequest", "VRI.VoterRecordsRequest", sequence))
}

fn additional_info_element(info: &AdditionalInfo) -> Result<Element, FormatsError> {
    let mut sequence = Sequence::new(Namespace::Request);
    if let Some(file) = &info.file {
        sequence.push(file_element(file, "VRI.File")?);
    }
    sequence.text("Name", &info.name)?;
    sequence.optional_text("StringValue", info.value.as_deref())?;
    Ok(Element::parent("AdditionalInfo", "VRI.AdditionalInfo", sequence))
}

fn file_element(file: &File, json_type: &'static str) -> Result<Element, FormatsError> {
    let mut attributes = Vec::new();
    for (name, value) in [("FileName", &file.file_name), ("MimeType", &file.mime_type)] {
        if let Some(value) = value {
            check_text(name, value)?;
            attributes.push((name, Scalar::Text(value.clone())));
        }
    }
    let element = Element::new("FileValue", Namespace::Request, Content::Data(base64_encode(&file.data)));
    Ok(Element { json_type: Some(json_type), attributes, ..element })
}

fn ballot_request_element(request: &BallotRequest) -> Result<Element, FormatsError> {
    let mut sequence = Sequence::new(Namespace::Request);
    sequence.repeated_vocabulary("BallotReceiptPreference", &request.receipt_preferences);
    if let Some(address) = &request.mail_forwarding_address {
        sequence.push(address_element("MailForwardingAddress", address)?);
    }
    let derived_type = match &request.period {
        BallotPeriod::ElectionBased(election) => {
            let mut fields = Sequence::new(Namespace::Request);
            fields.date("EndDate", election.end_date)?;
            fields.optional_text("Name", election.name.as_deref())?;
            fields.date("StartDate", Some(election.start_date))?;
            sequence.push(Element::parent("Election", "VRI.Election", fields));
            "ElectionBasedBallotRequest"
        }
        BallotPeriod::Permanent => "PermanentBallotRequest",
        BallotPeriod::Temporal { start_date, end_date } => {
            sequence.date("EndDate", Some(*end_date))?;
            sequence.date("StartDate", Some(*start_date))?;
            "TemporalBallotRequest"
        }
    };
    let json_type = match &request.period {
        BallotPeriod::ElectionBased(_) => "VRI.ElectionBasedBallotRequest",
        BallotPeriod::Permanent => "VRI.PermanentBallotRequest",
        BallotPeriod::Temporal { .. } => "VRI.TemporalBallotRequest",
    };
    Ok(Element { xsi_type: Some(derived_type), ..Element::parent("BallotRequest", json_type, sequence) })
}

fn helper_element(helper: &RequestHelper) -> Result<Element, FormatsError> {
    let mut sequence = Sequence::new(Namespace::Request);
    if let Some(address) = &helper.address {
        sequence.push(address_element("Address", address)?);
    }
    if let Some(name) = &helper.name {
        sequence.push(name_element("Name", name)?);
    }
    if let Some(phone) = &helper.phone {
        // `Phone` is declared a PhoneContactMethod: no xsi:type, but JSON names the type.
        let element = contact_element("Phone", phone)?;
        sequence.push(Element { xsi_type: None, json_type: Some("VRI.PhoneContactMethod"), ..element });
    }
    if let Some(signature) = &helper.signature {
        sequence.push(signature_element("Signature", signature)?);
    }
    sequence.vocabulary("Type", helper.kind);
    Ok(Element::parent("RequestHelper", "VRI.RequestHelper", sequence))
}

fn voter_element(voter: &Voter) -> Result<Element, FormatsError> {
    let mut sequence = Sequence::new(Namespace::Request);
    for contact in &voter.contact_methods {
        sequence.push(contact_element("ContactMethod", contact)?.repeated());
    }
    sequence.date("DateOfBirth", voter.date_of_birth)?;
    sequence.optional_text("Ethnicity", voter.ethnicity.as_deref())?;
    sequence.optional_text("Gender", voter.gender.as_deref())?;
    if let Some(address) = &voter.mailing_address {
        sequence.push(address_element("MailingAddress", address)?);
    }
    sequence.push(name_element("Name", &voter.name)?);
    if let Some(party) = &voter.party {
        let mut fields = Sequence::new(Namespace::Request);
        fields.optional_text("Abbreviation", party.abbreviation.as_deref())?;
        fields.text("Name", &party.name)?;
        sequence.push(Element::parent("Party", "VRI.Party", fields));
    }
    if let Some(name) = &voter.previous_name {
        sequence.push(name_element("PreviousName", name)?);
    }
    if let Some(address) = &voter.previous_residence_address {
        sequence.push(address_element("PreviousResidenceAddress", address)?);
    }
    if let Some(signature) = &voter.previous_signature {
        sequence.push(signature_element("PreviousSignature", signature)?);
    }
    sequence.push(address_element("ResidenceAddress", &voter.residence_address)?);
    sequence.boolean("ResidenceAddressIsMailingAddress", voter.residence_address_is_mailing_address);
    if let Some(signature) = &voter.signature {
        sequence.push(signature_element("Signature", signature)?);
    }
    for classification in &voter.classifications {
        let mut fields = Sequence::new(Namespace::Request);
        fields.vocabulary("Assertion", classification.assertion);
        fields.optional_text("OtherAssertion", classification.other_assertion.as_deref())?;
        fields.optional_text("OtherType", classification.other_type.as_deref())?;
        fields.vocabulary("Type", classification.kind);
        sequence.push(Element::parent("VoterClassification", "VRI.VoterClassification", fields).repeated());
    }
    for id in &voter.voter_ids {
        let mut fields = Sequence::new(Namespace::Request);
        fields.boolean("AttestNoSuchId", id.attest_no_such_id);
        fields.date("DateOfIssuance", id.date_of_issuance)?;
        if let Some(file) = &id.file {
            fields.push(file_element(file, "VRI.File")?);
        }
        fields.optional_text("OtherType", id.other_type.as_deref())?;
        fields.optional_text("StringValue", id.value.as_deref())?;
        fields.vocabulary("Type", id.kind);
        sequence.push(Element::parent("VoterId", "VRI.VoterId", fields).repeated());
    }
    Ok(Element::parent("Subject", "VRI.Voter", sequence))
}

fn name_element(element_name: &'static str, name: &Name) -> Result<Element, FormatsError> {
    let mut sequence = Sequence::new(Namespace::Request);
    sequence.optional_text("FirstName", name.first.as_deref())?;
    sequence.optional_text("FullName", name.full.as_deref())?;
    sequence.optional_text("LastName", name.last.as_deref())?;
    for middle in &name.middle {
        check_text("MiddleName", middle)?;
        sequence.push(Element::new("MiddleName", Namespace::Request, Content::Text(middle.clone())).repeated());
    }
    sequence.optional_text("Prefix", name.prefix.as_deref())?;
    sequence.optional_text("Suffix", name.suffix.as_deref())?;
    Ok(Element::parent(element_name, "VRI.Name", sequence))
}

/// A `ContactMethod`; one with capabilities is a `PhoneContactMethod`, the only type that has
/// them.
fn contact_element(element_name: &'static str, contact: &ContactMethod) -> Result<Element, FormatsError> {
    let mut sequence = Sequence::new(Namespace::Request);
    sequence.optional_text("OtherType", contact.other_type.as_deref())?;
    sequence.vocabulary("Type", contact.kind);
    sequence.text("Value", &contact.value)?;
    sequence.repeated_vocabulary("Capability", &contact.capabilities);
    if contact.capabilities.is_empty() {
        Ok(Element::parent(element_name, "VRI.ContactMethod", sequence))
    } else {
        let element = Element::parent(element_name, "VRI.PhoneContactMethod", sequence);
        Ok(Element { xsi_type: Some("PhoneContactMethod"), ..element })
    }
}

fn signature_element(element_name: &'static str, signature: &Signature) -> Result<Element, FormatsError> {
    let mut sequence = Sequence::new(Namespace::Request);
    sequence.date("Date", signature.date)?;
    if let Some(image) = &signature.image {
        sequence.push(file_element(image, "VRI.Image")?);
    }
    sequence.optional_text("OtherSource", signature.other_source.as_deref())?;
    sequence.optional_text("OtherType", signature.other_type.as_deref())?;
    sequence.optional_vocabulary("Source", signature.source);
    sequence.optional_vocabulary("Type", signature.kind);
    Ok(Element::parent(element_name, "VRI.Signature", sequence))
}

/// An address element holding its class's element (XML), or the class's object (JSON).
fn address_element(element_name: &'static str, address: &Address) -> Result<Element, FormatsError> {
    let mut sequence = Sequence::new(Namespace::Address);
    let (class, json_type) = match address {
        Address::Line(line) => {
            sequence.text("GeneralAddress", line)?;
            ("GeneralAddressClass_type", "addr.GeneralAddressClass_type")
        }
        Address::DeliveryPoint { delivery_point, place } => {
            sequence.text("USPSGeneralDeliveryPoint", delivery_point)?;
            place_elements(&mut sequence, place, "CompletePlaceName")?;
            ("GeneralAddressClass_type", "addr.GeneralAddressClass_type")
        }
        Address::NumberedThoroughfare(address) => {
            digits("AddressNumber", &address.number, None, "must be digits (the address schema's pattern)")?;
            let mut number = Sequence::new(Namespace::AddressType);
            number.typed_text(
                "AddressNumberPrefix",
                "addr_type.AddressNumberPrefix_type",
                address.number_prefix.as_deref(),
            )?;
            number.text("AddressNumber", &address.number)?;
            number.typed_text(
                "AddressNumberSuffix",
                "addr_type.AddressNumberSuffix_type",
                address.number_suffix.as_deref(),
            )?;
            sequence.push(
                Element::parent("CompleteAddressNumber", "addr_type.CompleteAddressNumber_type", number)
                    .in_namespace(Namespace::Address),
            );
            let street = &address.street;
            let mut parts = Sequence::new(Namespace::AddressType);
            // NIST's JSON schema types the post- elements with their pre- twins' types.
            let (modifier, directional, street_type) = (
                "addr_type.StreetNamePreModifier_type",
                "addr_type.StreetNamePreDirectional_type",
                "addr_type.StreetNamePreType_type",
            );
            parts.typed_text("StreetNamePreModifier", modifier, street.pre_modifier.as_deref())?;
            parts.typed_text("StreetNamePreDirectional", directional, street.pre_directional.as_deref())?;
            parts.typed_text("StreetNamePreType", street_type, street.pre_type.as_deref())?;
            parts.text("StreetName", &street.name)?;
            parts.typed_text("StreetNamePostType", street_type, street.post_type.as_deref())?;
            parts.typed_text("StreetNamePostDirectional", directional, street.post_directional.as_deref())?;
            parts.typed_text("StreetNamePostModifier", modifier, street.post_modifier.as_deref())?;
            sequence.push(
                Element::parent("CompleteStreetName", "addr_type.CompleteStreetName_type", parts)
                    .in_namespace(Namespace::Address),
            );
            if !address.subaddresses.is_empty() {
                let mut subaddresses = Sequence::new(Namespace::AddressType);
                for subaddress in &address.subaddresses {
                    let mut fields = Sequence::new(Namespace::AddressType);
                    fields.optional_text("SubaddressType", subaddress.kind.as_deref())?;
                    fields.text("SubaddressIdentifier", &subaddress.identifier)?;
                    subaddresses.push(
                        Element::parent("SubaddressElement", "addr_type.SubaddressElement_type", fields).repeated(),
                    );
                }
                sequence.push(
                    Element::parent("CompleteSubaddress", "addr_type.CompleteSubaddress_type", subaddresses)
                        .in_namespace(Namespace::Address),
                );
            }
            if let Some(place) = &address.place {
                place_elements(&mut sequence, place, "CompletePlaceName1")?;
            }
            ("NumberedThoroughfareAddress_type", "addr.NumberedThoroughfareAddress_type")
        }
        Address::PostalDeliveryRoute(address) => {
            let mut route = Sequence::new(Namespace::AddressType);
            route.text("USPSBoxGroupType", &address.route_type)?;
            route.text("USPSBoxGroupId", &address.route_id)?;
            let mut postal_box = Sequence::new(Namespace::AddressType);
            postal_box.text("USPSBoxType", &address.box_type)?;
            postal_box.text("USPSBoxId", &address.box_id)?;
            let mut postal = Sequence::new(Namespace::AddressType);
            postal.push(Element::parent("USPSRoute", "addr_type.USPSRoute_type", route));
            postal.push(Element::parent("USPSBox", "addr_type.USPSBox_type", postal_box));
            sequence.push(
                Element::parent("USPSAddress", "addr_type.USPSAddress_type", postal).in_namespace(Namespace::Address),
            );
            place_elements(&mut sequence, &address.place, "CompletePlaceName")?;
            ("USPSPostalDeliveryRoute_type", "addr.USPSPostalDeliveryRoute_type")
        }
    };
    let class = Element::parent(class, json_type, sequence).in_namespace(Namespace::Request);
    let mut container = Sequence::new(Namespace::Request);
    container.push(class);
    let element = Element::new(element_name, Namespace::Request, Content::Children(container.elements));
    Ok(Element { json_unwrap: true, ..element })
}

/// The address schema's place, state and ZIP code group, in the `addr_type` namespace.
fn place_elements(sequence: &mut Sequence, place: &Place, json_name: &'static str) -> Result<(), FormatsError> {
    let mut group = Sequence::new(Namespace::AddressType);
    match place {
        Place::Lines(lines) => {
            if lines.is_empty() {
                return Err(FormatsError::InvalidText { field: "PlaceStateZip", reason: "needs at least one line" });
            }
            for line in lines {
                check_text("PlaceStateZip", line)?;
                group.push(
                    Element::new("PlaceStateZip", Namespace::AddressType, Content::Text(line.clone())).repeated(),
                );
            }
        }
        Place::Parts { names, state, zip_code, zip_plus_four, country } => {
            if names.is_empty() {
                return Err(FormatsError::InvalidText { field: "CompletePlaceName", reason: "needs a PlaceName" });
            }
            let mut complete = Sequence::new(Namespace::AddressType);
            for name in names {
                check_text("PlaceName", &name.name)?;
                let mut attributes = Vec::new();
                if let Some(kind) = name.kind {
                    attributes.push(("PlaceNameType", Scalar::Text(kind.as_str().to_owned())));
                }
                if let Some(number) = name.sequence_number {
                    attributes.push(("ElementSequenceNumber", Scalar::Integer(number)));
                }
                let element = Element::new("PlaceName", Namespace::AddressType, Content::Text(name.name.clone()));
                complete
                    .push(Element { json_type: Some("addr_type.PlaceName_type"), attributes, ..element }.repeated());
            }
            let complete = Element::parent("CompletePlaceName", "addr_type.CompletePlaceName_type", complete);
            group.push(Element { json_name: Some(json_name), ..complete });
            // StateName is required beside CompletePlaceName; an unknown state is written empty.
            group.text("StateName", state.as_deref().unwrap_or_default())?;
            match (zip_code, zip_plus_four) {
                (Some(zip_code), plus_four) => {
                    digits("ZipCode", zip_code, Some(5), "must be five digits (the address schema's pattern)")?;
                    group.text("ZipCode", zip_code)?;
                    if let Some(plus_four) = plus_four {
                        digits("ZipPlus4", plus_four, Some(4), "must be four digits (the address schema's pattern)")?;
                        group.text("ZipPlus4", plus_four)?;
                    }
                }
                (None, Some(_)) => {
                    return Err(FormatsError::InvalidText { field: "ZipPlus4", reason: "needs a ZipCode" });
                }
                (None, None) => {}
            }
            group.optional_text("CountryName", country.as_deref())?;
        }
    }
    sequence.elements.extend(group.elements);
    Ok(())
}

fn write_xml_element<W: Write>(writer: &mut Writer<W>, element: &Element, root: bool) -> Result<(), FormatsError> {
    let name = format!("{}{}", element.namespace.prefix(), element.name);
    let mut start = BytesStart::new(name.as_str());
    if root {
        start.push_attribute(("xmlns", XML_NAMESPACE));
        start.push_attribute(("xmlns:addr", ADDRESS_NAMESPACE));
        start.push_attribute(("xmlns:addr_type", ADDRESS_TYPE_NAMESPACE));
        start.push_attribute(("xmlns:xsi", INSTANCE_NAMESPACE));
    }
    if let Some(derived_type) = element.xsi_type {
        start.push_attribute(("xsi:type", derived_type));
    }
    for (key, value) in &element.attributes {
        let value = match value {
            Scalar::Text(text) => attribute_escape(text),
            Scalar::Integer(number) => number.to_string(),
        };
        start.push_attribute(Attribute { key: QName(key), value: Cow::Owned(value) });
    }
    let text = match &element.content {
        Content::Text(text) | Content::Data(text) => text.as_str(),
        Content::Boolean(true) => "true",
        Content::Boolean(false) => "false",
        Content::Children(children) => {
            if children.is_empty() {
                writer.write_event(Event::Empty(start))?;
            } else {
                writer.write_event(Event::Start(start.borrow()))?;
                for child in children {
                    write_xml_element(writer, child, false)?;
                }
                writer.write_event(Event::End(start.to_end()))?;
            }
            return Ok(());
        }
    };
    writer.write_event(Event::Start(start.borrow()))?;
    writer.write_event(Event::Text(BytesText::from_escaped(partial_escape(text))))?;
    writer.write_event(Event::End(start.to_end()))?;
    Ok(())
}

/// Escapes an attribute value so that it reads back unchanged: besides markup, line feeds and
/// tabs, which attribute-value normalization would turn into spaces.
fn attribute_escape(value: &str) -> String {
    escape(value).replace('\n', "&#10;").replace('\t', "&#9;")
}

fn json_value(element: &Element) -> Value {
    if element.json_unwrap
        && let Content::Children(children) = &element.content
        && let [only] = children.as_slice()
    {
        return json_value(only);
    }
    let scalar = |scalar: &Scalar| match scalar {
        Scalar::Text(text) => Value::String(text.clone()),
        Scalar::Integer(number) => Value::from(*number),
    };
    let mut object = Map::new();
    if let Some(json_type) = element.json_type {
        object.insert("@type".to_owned(), Value::String(json_type.to_owned()));
    }
    for (key, value) in &element.attributes {
        object.insert((*key).to_owned(), scalar(value));
    }
    match &element.content {
        Content::Boolean(boolean) => return Value::Bool(*boolean),
        Content::Text(text) if object.is_empty() => return Value::String(text.clone()),
        Content::Text(text) => {
            object.insert("Value".to_owned(), Value::String(text.clone()));
        }
        Content::Data(data) => {
            object.insert("Data".to_owned(), Value::String(data.clone()));
        }
        Content::Children(children) => {
            for child in children {
                let key = child.json_name.unwrap_or(child.name).to_owned();
                let value = json_value(child);
                if child.repeated {
                    match object.entry(key).or_insert_with(|| Value::Array(Vec::new())) {
                        Value::Array(items) => items.push(value),
                        // A repeated element never shares its name with a single one.
                        other => *other = value,
                    }
                } else {
                    object.insert(key, value);
                }
            }
        }
    }
    Value::Object(object)
}

// ---------------------------------------------------------------------------------------------
// Dates and base64

const BASE64_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(data: &[u8]) -> String {
    let mut encoded = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let byte = |index: usize| u32::from(chunk.get(index).copied().unwrap_or(0));
        let group = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for index in 0..4 {
            if index <= chunk.len() {
                // Masked to six bits, so always within the 64-symbol alphabet.
                let sextet = (group >> (18 - 6 * index)) & 0x3F;
                encoded.push(char::from(BASE64_ALPHABET[sextet as usize]));
            } else {
                encoded.push('=');
            }
        }
    }
    encoded
}

/// `xsd:base64Binary`: the standard alphabet with padding; whitespace anywhere is ignored.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let symbols: Vec<u8> = text.bytes().filter(|byte| !byte.is_ascii_whitespace()).collect();
    if !symbols.len().is_multiple_of(4) {
        return None;
    }
    let groups = symbols.len() / 4;
    let mut data = Vec::with_capacity(groups * 3);
    for (position, group) in symbols.chunks(4).enumerate() {
        let padding = group.iter().rev().take_while(|&&symbol| symbol == b'=').count();
        if padding > 2 || (padding > 0 && position + 1 != groups) {
            return None;
        }
        let mut value = 0u32;
        for &symbol in group.get(..4 - padding)? {
            value = (value << 6) | u32::from(sextet(symbol)?);
        }
        value <<= 6 * padding;
        data.extend_from_slice(value.to_be_bytes().get(1..4 - padding)?);
    }
    Some(data)
}

fn sextet(symbol: u8) -> Option<u8> {
    match symbol {
        b'A'..=b'Z' => Some(symbol - b'A'),
        b'a'..=b'z' => Some(symbol - b'a' + 26),
        b'0'..=b'9' => Some(symbol - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}
