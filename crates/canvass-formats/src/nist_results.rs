//! NIST SP 1500-100 version 2 Election Results Reporting (ERR): an election's definition and its
//! results ([`ElectionReport`]) read from and written to XML ([`read_xml`], [`write_xml`]) and
//! JSON ([`read_json`], [`write_json`]); what is written is valid against NIST's XSD and JSON
//! schema. [`ElectionReport::reported`] turns the results into the [`crate::reported`] counts
//! every county results format is checked as.
//!
//! Kept (every element of NIST's synthetic GEN-01 and PRIM-01 examples that says what was on
//! the ballot or how many votes it got):
//!
//! | 1500-100 v2 | model |
//! |---|---|
//! | `ElectionReport`: `Format`, `GeneratedDate`, `Issuer`, `IssuerAbbreviation`, `SequenceStart`, `SequenceEnd`, `Status`, `VendorApplicationId` | [`ElectionReport`] |
//! | `GpUnit` of type `ReportingUnit`: `ObjectId`, `Type` (+ `OtherType`), `Name`, `ComposingGpUnitIds`, `ExternalIdentifier`, `VotersRegistered` | [`GpUnit`], [`ExternalIdentifier`] |
//! | `Party`: `ObjectId`, `Name`, `Abbreviation` | [`Party`] |
//! | `Election`: `Name`, `Type` (+ `OtherType`), `StartDate`, `EndDate`, `ElectionScopeId`, `BallotCounts`, `Candidate`, `Contest` | [`Election`], [`BallotCounts`], [`Candidate`] |
//! | `CandidateContest` (`VotesAllowed`, `PrimaryPartyIds`), `BallotMeasureContest` (`FullText`), `RetentionContest` (`CandidateId`, `FullText`), `PartyContest`: `ObjectId`, `Name`, `ElectionDistrictId`, `ContestSelection`, `OtherCounts` | [`Contest`], [`ContestKind`], [`OtherCounts`] |
//! | `CandidateSelection` (`CandidateIds`, `IsWriteIn`), `BallotMeasureSelection` (`Selection`), `PartySelection` (`PartyIds`), each with its `VoteCounts` (`GpUnitId`, `Type` + `OtherType`, `Count`) | [`ContestSelection`], [`Choice`], [`VoteCounts`] |
//!
//! Left out without failing: ballot styles, headers, offices, people, contact information,
//! vote variations, `DeviceClass` and `Round` of counts, `Label`s, and every element the model
//! has no place for. Refused, with every problem listed by element (a path through the
//! `ObjectId`s, e.g. `ElectionReport/Election[1]/Contest[cc-president]/ContestSelection[cs-1]/VoteCounts[2]`)
//! and the rule broken: a missing required element, a value outside the schema's enumeration, a
//! count that is negative or not a whole number, an `ObjectId` defined twice or that is not an
//! XML identifier, a `Language` that is not a language tag, more than 1,000 problems (the rest
//! are counted, not listed), and every
//! reference (`GpUnitId`, `PartyId`, `CandidateId`, `ElectionDistrictId`...) to an object the
//! document does not define. A document that is not well-formed, is truncated, or whose root is
//! not `ElectionReport` is refused whole before anything else.
//!
//! Reading follows what senders write rather than the letter of the schema: elements are matched
//! by local name whatever their namespace, in any order; text is trimmed; booleans may be `1`/`0`;
//! counts may be written as doubles (`12.0`) as long as they are whole. Results are public
//! records, so refusals may quote the identifiers at fault.

mod from_results;
mod read;
mod reported;
mod write;

use std::io::{BufRead, Read, Write};

use time::Date;

use crate::{FormatsError, nist_document::vocabulary};

pub use crate::nist_document::Vocabulary;
pub use from_results::{ReportHeader, count_item_type, report_of_results};
pub use reported::ReportedByLevel;

/// The XML namespace of 1500-100 version 2.
pub const XML_NAMESPACE: &str = "http://itl.nist.gov/ns/voting/1500-100/v2";

/// The largest document read (NIST's schemas set none). A county's precinct-level results are a
/// few megabytes; the limit bounds the memory a hostile upload can take, since reading holds the
/// whole document as a tree: a 10 MB file (100 precincts, 30 contests of 5 candidates, 5 vote
/// types) reads in about 0.5 s on a shared 2-core machine, in under 150 MB
/// (`examples/nist_results_size.rs`).
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// The schema's enumerations

vocabulary! {
    /// `ReportDetailLevel`: how fine the report's counts are.
    ReportDetailLevel {
        PrecinctLevel => "precinct-level",
        SummaryContest => "summary-contest",
    }
}

vocabulary! {
    /// `ResultsStatus`: how final the report's numbers are.
    ResultsStatus {
        Certified => "certified",
        Correction => "correction",
        PreElection => "pre-election",
        Recount => "recount",
        UnofficialComplete => "unofficial-complete",
        UnofficialPartial => "unofficial-partial",
    }
}

vocabulary! {
    /// `ReportingUnitType`: what kind of place or district a reporting unit is.
    ReportingUnitType {
        BallotBatch => "ballot-batch",
        BallotStyleArea => "ballot-style-area",
        Borough => "borough",
        City => "city",
        CityCouncil => "city-council",
        CombinedPrecinct => "combined-precinct",
        Congressional => "congressional",
        Country => "country",
        County => "county",
        CountyCouncil => "county-council",
        DropBox => "drop-box",
        Judicial => "judicial",
        Municipality => "municipality",
        PollingPlace => "polling-place",
        Precinct => "precinct",
        School => "school",
        Special => "special",
        SplitPrecinct => "split-precinct",
        State => "state",
        StateHouse => "state-house",
        StateSenate => "state-senate",
        Town => "town",
        Township => "township",
        Utility => "utility",
        Village => "village",
        VoteCenter => "vote-center",
        Ward => "ward",
        Water => "water",
        Other => "other",
    }
}

impl ReportingUnitType {
    /// Whether counts at a unit of this type are precinct-level (where results are reported
    /// from), rather than aggregates of such units (a county, a district).
    pub fn is_precinct_level(self) -> bool {
        matches!(self, Self::Precinct | Self::SplitPrecinct | Self::CombinedPrecinct)
    }
}

vocabulary! {
    /// `ElectionType`.
    ElectionType {
        General => "general",
        PartisanPrimaryClosed => "partisan-primary-closed",
        PartisanPrimaryOpen => "partisan-primary-open",
        Primary => "primary",
        Runoff => "runoff",
        Special => "special",
        Other => "other",
    }
}

vocabulary! {
    /// `CountItemType`: which ballots a count counts.
    CountItemType {
        Absentee => "absentee",
        AbsenteeFwab => "absentee-fwab",
        AbsenteeInPerson => "absentee-in-person",
        AbsenteeMail => "absentee-mail",
        Early => "early",
        ElectionDay => "election-day",
        Provisional => "provisional",
        Seats => "seats",
        Total => "total",
        Uocava => "uocava",
        WriteIn => "write-in",
        Other => "other",
    }
}

vocabulary! {
    /// `IdentifierType`: whose scheme an external identifier belongs to.
    IdentifierType {
        Fips => "fips",
        LocalLevel => "local-level",
        NationalLevel => "national-level",
        OcdId => "ocd-id",
        StateLevel => "state-level",
        Other => "other",
    }
}

// ---------------------------------------------------------------------------------------------
// The model

/// A 1500-100 document: an election's definition (a pre-election report) or its results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectionReport {
    pub format: ReportDetailLevel,
    /// An `xsd:dateTime` with its time zone, as written (`2023-07-14T13:32:09-04:00`).
    pub generated_date: String,
    pub issuer: String,
    pub issuer_abbreviation: String,
    pub status: ResultsStatus,
    pub sequence_start: u64,
    pub sequence_end: u64,
    pub vendor_application_id: String,
    pub gp_units: Vec<GpUnit>,
    pub parties: Vec<Party>,
    pub elections: Vec<Election>,
}

/// Text in one or more languages (`InternationalizedText`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InternationalizedText {
    pub texts: Vec<LanguageString>,
}

/// One language's text (`LanguageString`): `language` is a language tag such as `en-US`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageString {
    pub language: String,
    pub content: String,
}

impl InternationalizedText {
    /// Text in one language.
    pub fn new(language: impl Into<String>, content: impl Into<String>) -> Self {
        Self { texts: vec![LanguageString { language: language.into(), content: content.into() }] }
    }

    /// The English text, or the first text when none is English.
    pub fn text(&self) -> &str {
        let english = self.texts.iter().find(|text| text.language.to_ascii_lowercase().starts_with("en"));
        english.or(self.texts.first()).map_or("", |text| text.content.as_str())
    }
}

/// An identifier of an object in another scheme (a FIPS code, an OCD id...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIdentifier {
    pub kind: IdentifierType,
    /// What `other` means, when `kind` is `other`.
    pub other_type: Option<String>,
    pub value: String,
}

/// A reporting unit (`GpUnit` of type `ReportingUnit`): a precinct, a county, a district...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpUnit {
    pub object_id: String,
    pub kind: ReportingUnitType,
    pub other_type: Option<String>,
    pub name: Option<InternationalizedText>,
    /// The units this one is made of (a county's precincts, a district's precincts).
    pub composing_gp_unit_ids: Vec<String>,
    pub external_identifiers: Vec<ExternalIdentifier>,
    pub voters_registered: Option<u64>,
}

impl GpUnit {
    /// The unit's name, or its `ObjectId` when it has none.
    pub fn label(&self) -> &str {
        self.name.as_ref().map(InternationalizedText::text).filter(|name| !name.is_empty()).unwrap_or(&self.object_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub object_id: String,
    pub name: InternationalizedText,
    pub abbreviation: Option<InternationalizedText>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub object_id: String,
    pub ballot_name: InternationalizedText,
    pub party_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Election {
    pub name: InternationalizedText,
    pub kind: ElectionType,
    pub other_type: Option<String>,
    pub start_date: Date,
    pub end_date: Date,
    /// The reporting unit the election covers (a state, a county).
    pub election_scope_id: String,
    pub ballot_counts: Vec<BallotCounts>,
    pub candidates: Vec<Candidate>,
    pub contests: Vec<Contest>,
}

/// Ballots counted in one reporting unit, of one kind (`BallotCounts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BallotCounts {
    pub gp_unit_id: String,
    pub kind: CountItemType,
    pub other_type: Option<String>,
    pub ballots_cast: Option<u64>,
    pub ballots_outstanding: Option<u64>,
    pub ballots_rejected: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contest {
    pub object_id: String,
    pub name: String,
    /// The reporting unit whose voters vote in the contest.
    pub election_district_id: String,
    pub kind: ContestKind,
    pub selections: Vec<ContestSelection>,
    pub other_counts: Vec<OtherCounts>,
}

/// What kind of contest, with what only that kind has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContestKind {
    Candidate {
        /// Vote for N.
        votes_allowed: u64,
        /// In a partisan primary, the parties whose primary it is.
        primary_party_ids: Vec<String>,
    },
    BallotMeasure {
        full_text: Option<InternationalizedText>,
    },
    /// Whether a judge (or another office holder) is retained: a yes/no question on a candidate.
    Retention {
        candidate_id: String,
        full_text: Option<InternationalizedText>,
    },
    /// A straight-party contest.
    Party,
}

impl ContestKind {
    /// The schema's type name (`xsi:type`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Candidate { .. } => "CandidateContest",
            Self::BallotMeasure { .. } => "BallotMeasureContest",
            Self::Retention { .. } => "RetentionContest",
            Self::Party => "PartyContest",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContestSelection {
    pub object_id: String,
    pub choice: Choice,
    pub vote_counts: Vec<VoteCounts>,
}

/// What a selection is a vote for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// A candidate or a ticket (president and vice president); a write-in has no candidates.
    Candidates { candidate_ids: Vec<String>, is_write_in: Option<bool> },
    /// A ballot measure's (or retention question's) answer, such as `Yes`.
    BallotMeasure { selection: InternationalizedText },
    /// A straight-party vote.
    Parties { party_ids: Vec<String> },
}

impl Choice {
    /// The schema's type name (`xsi:type`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Candidates { .. } => "CandidateSelection",
            Self::BallotMeasure { .. } => "BallotMeasureSelection",
            Self::Parties { .. } => "PartySelection",
        }
    }
}

/// Votes for one selection in one reporting unit, of one kind of ballot (`VoteCounts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteCounts {
    pub gp_unit_id: String,
    pub kind: CountItemType,
    pub other_type: Option<String>,
    pub count: u64,
}

/// Votes in a contest that went to no selection, in one reporting unit (`OtherCounts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherCounts {
    pub gp_unit_id: String,
    pub overvotes: Option<u64>,
    pub undervotes: Option<u64>,
    pub write_ins: Option<u64>,
}

// ---------------------------------------------------------------------------------------------
// Reading and writing

/// An `ObjectId` (`xsd:ID`): an XML name without a colon. Checked on reading as on writing, so
/// that whatever is read can be written.
fn is_object_id(value: &str) -> bool {
    let mut characters = value.chars();
    let starts_well = characters.next().is_some_and(|first| first.is_alphabetic() || first == '_');
    starts_well
        && characters.all(|character| character.is_alphanumeric() || matches!(character, '_' | '-' | '.' | '\u{B7}'))
}

/// A language tag (`xsd:language`): `en`, `en-US`, `es-419`...
fn is_language_tag(value: &str) -> bool {
    let mut parts = value.split('-');
    let first_ok = parts
        .next()
        .is_some_and(|first| (1..=8).contains(&first.len()) && first.bytes().all(|byte| byte.is_ascii_alphabetic()));
    first_ok && parts.all(|part| (1..=8).contains(&part.len()) && part.bytes().all(|byte| byte.is_ascii_alphanumeric()))
}

/// Reads a report from its XML encoding.
pub fn read_xml(reader: impl BufRead) -> Result<ElectionReport, FormatsError> {
    read::xml(reader)
}

/// Reads a report from its JSON encoding (NIST's JSON schema: objects tagged with `@type`,
/// identifiers in `@id`).
pub fn read_json(reader: impl Read) -> Result<ElectionReport, FormatsError> {
    read::json(reader)
}

/// Writes a report as an XML document valid against the 1500-100 v2 XSD.
pub fn write_xml(report: &ElectionReport, out: impl Write) -> Result<(), FormatsError> {
    write::xml(report, out)
}

/// Writes a report as a JSON document valid against NIST's 1500-100 v2 JSON schema.
pub fn write_json(report: &ElectionReport, out: impl Write) -> Result<(), FormatsError> {
    write::json(report, out)
}
