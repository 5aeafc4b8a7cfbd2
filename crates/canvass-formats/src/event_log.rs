//! The audit ledger as NIST SP 1500-101 Election Event Logging: the node is one Device and each
//! ledger entry one Event, written as XML or JSON while the entries stream past, so a ledger of
//! millions of entries is exported in constant memory.
//!
//! Mapping (the same in both formats):
//!
//! | 1500-101 | from |
//! |---|---|
//! | `ElectionEventLog/Details`, `ElectionId`, `GeneratedTime` | [`EventLogSource`] |
//! | `Device/Id`, `Manufacturer`, `Model`, `Type` (+ `OtherType`), `Version` | [`EventLogSource`] |
//! | `Event/Id` | the action's stable code, e.g. `keys.unseal` |
//! | `Event/Sequence` | the entry's index in the ledger, in decimal |
//! | `Event/TimeStamp` | the entry's time, in UTC (see [`timestamp`]) |
//! | `Event/Type` | the action's [`EventType`] (1500-101 leaves event types to the vendor) |
//! | `Event/Description` | the action's one-sentence description |
//! | `Event/Disposition` | allowed → `success`; denied and failed → `failure` |
//! | `Event/UserId` | the actor: `user:NAME`, `token:ID`, `operator`, `system` or `anonymous` |
//! | `Event/Details` | compact JSON of the rest: outcome (keeps denied apart from failed), jurisdiction, targets, reason, request id, justification |
//!
//! `Event/Hash` and `Severity` are left out: the ledger's leaf hashes live in its Merkle tree, and
//! Canvass ranks no event above another.
//!
//! [`nist_event_documentation_xml`] and [`nist_event_documentation_json`] write the companion
//! ElectionEventLogDocumentation, which describes every event id and event type used here.

mod json;
mod xml;

use std::{borrow::Borrow, fmt, io::Write};

use canvass_core::audit::{Action, AuditEntry, Outcome};
use serde::Serialize;
use time::{OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339, macros::format_description};

use crate::FormatsError;

/// The XML namespace of 1500-101 version 1.
pub const XML_NAMESPACE: &str = "http://itl.nist.gov/ns/voting/1500-101/v1";

/// Which of the two encodings 1500-101 defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventLogFormat {
    Xml,
    Json,
}

/// `Device/Type`: the schema's DeviceType enumeration.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DeviceType {
    Adjudication,
    BallotActivation,
    BallotPrinting,
    BlankBallotPrinting,
    Bmd,
    Dre,
    DreController,
    ElectronicCast,
    ElectronicCastPaper,
    ElectronicPollBook,
    /// Election management systems, including pre- and post-election administration and
    /// reporting: what a Canvass node is.
    Ems,
    ScanBatch,
    ScanSingle,
    TransmissionReceiving,
    TransmissionSending,
    /// None of the above: written as `other`, with this text as `OtherType`.
    Other(String),
}

impl DeviceType {
    /// The enumeration value written in `Type`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Adjudication => "adjudication",
            Self::BallotActivation => "ballot-activation",
            Self::BallotPrinting => "ballot-printing",
            Self::BlankBallotPrinting => "blank-ballot-printing",
            Self::Bmd => "bmd",
            Self::Dre => "dre",
            Self::DreController => "dre-controller",
            Self::ElectronicCast => "electronic-cast",
            Self::ElectronicCastPaper => "electronic-cast-paper",
            Self::ElectronicPollBook => "electronic-poll-book",
            Self::Ems => "ems",
            Self::ScanBatch => "scan-batch",
            Self::ScanSingle => "scan-single",
            Self::TransmissionReceiving => "transmission-receiving",
            Self::TransmissionSending => "transmission-sending",
            Self::Other(_) => "other",
        }
    }

    /// The text written in `OtherType`, present exactly when `Type` is `other`.
    pub fn other_type(&self) -> Option<&str> {
        match self {
            Self::Other(text) => Some(text),
            _ => None,
        }
    }
}

/// `Event/Type`. 1500-101 leaves event types to the vendor; these are Canvass's, grouped the
/// way VVSG 2.0 groups the events a system must log, and described in the documentation
/// document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    System,
    Authentication,
    Account,
    Configuration,
    Cryptographic,
    VoterRecords,
    Backup,
    Ledger,
    Authorization,
    Incident,
    Results,
}

impl EventType {
    pub const ALL: &'static [EventType] = &[
        Self::System,
        Self::Authentication,
        Self::Account,
        Self::Configuration,
        Self::Cryptographic,
        Self::VoterRecords,
        Self::Backup,
        Self::Ledger,
        Self::Authorization,
        Self::Incident,
        Self::Results,
    ];

    /// The type of an action. The match is exhaustive on purpose: a new action does not
    /// compile until someone decides how auditors will see it.
    pub fn of(action: Action) -> Self {
        match action {
            Action::NodeStart => Self::System,
            Action::AdministratorLogin | Action::SignOut | Action::SecondFactorEnrol => Self::Authentication,
            Action::AdministratorPassword
            | Action::StaffAdd
            | Action::StaffGrant
            | Action::StaffRevoke
            | Action::StaffSuspend
            | Action::StaffReinstate
            | Action::StaffResetSecondFactor
            | Action::TokenIssue
            | Action::TokenRevoke => Self::Account,
            Action::RequestCreate
            | Action::RequestApprove
            | Action::RequestReject
            | Action::RequestExecute
            | Action::BreakGlass
            | Action::AccessDenied => Self::Authorization,
            Action::IncidentOpen | Action::IncidentUpdate | Action::IncidentAffectedVoters => Self::Incident,
            Action::ResultsCertify | Action::ResultsReport | Action::ResultsCorrect | Action::ResultsPublish => {
                Self::Results
            }
            Action::JurisdictionAdd
            | Action::PrecinctAdd
            | Action::ElectionAdd
            | Action::DemoLoad
            | Action::PlacesImport
            | Action::ElectionDefine => Self::Configuration,
            Action::KeysInit
            | Action::KeysSplit
            | Action::KeysUnseal
            | Action::KeysSeal
            | Action::KeysRotate
            | Action::KeysReseal
            | Action::KeysShred => Self::Cryptographic,
            Action::VoterAdd
            | Action::VoterRead
            | Action::VoterExport
            | Action::VoterImport
            | Action::VoterExportPublic
            | Action::VoterStatusChange
            | Action::BallotRecord
            | Action::VoterSignatureSet
            | Action::VoterDuplicateMerge
            | Action::VoterDuplicateDismiss
            | Action::UocavaRequest
            | Action::UocavaSend
            | Action::UocavaDownload
            | Action::UocavaFwab
            | Action::UocavaHold
            | Action::UocavaConfirm
            | Action::UocavaReject => Self::VoterRecords,
            Action::BackupCreate | Action::BackupRestore => Self::Backup,
            Action::LedgerStart | Action::WitnessRefusal => Self::Ledger,
        }
    }

    /// The code written in `Event/Type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Authentication => "authentication",
            Self::Account => "account",
            Self::Configuration => "configuration",
            Self::Cryptographic => "cryptographic",
            Self::VoterRecords => "voter-records",
            Self::Backup => "backup",
            Self::Ledger => "ledger",
            Self::Authorization => "authorization",
            Self::Incident => "incident",
            Self::Results => "results",
        }
    }

    /// One sentence for the documentation document.
    pub fn description(self) -> &'static str {
        match self {
            Self::System => "The node itself: start-up and other events of the running system.",
            Self::Authentication => "Staff and machines signing in, successfully or not.",
            Self::Account => "Changes to staff accounts and their credentials.",
            Self::Configuration => "Jurisdictions, precincts, elections and other content defined on the node.",
            Self::Cryptographic => "Changes to a jurisdiction's key ring: creation, unsealing, rotation, destruction.",
            Self::VoterRecords => "Voter records added, and every read of a confidential voter field.",
            Self::Backup => "Encrypted backups written and restored.",
            Self::Ledger => "The audit ledger itself: its creation and witnesses' cosignatures.",
            Self::Authorization => "Access decisions: refusals, two-person requests and approvals, break-glass access.",
            Self::Incident => "Security incidents opened by detectors or by hand.",
            Self::Results => "Results certified.",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Who produced the log: the node, described as a 1500-101 Device, and the log's own header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLogSource<'a> {
    /// `Device/Id`: the node's log origin, e.g. `canvass/node-1a2b3c4d`.
    pub device_id: &'a str,
    /// `Device/Type`.
    pub device_type: DeviceType,
    /// `Device/Manufacturer` (and `DeviceManufacturer` in the documentation document).
    pub manufacturer: &'a str,
    /// `Device/Model` (and `DeviceModel`).
    pub model: &'a str,
    /// `Device/Version` (and `DeviceVersion`).
    pub version: Option<&'a str>,
    /// `ElectionEventLog/ElectionId`, when the export is about one election.
    pub election_id: Option<&'a str>,
    /// `ElectionEventLog/Details`: for instance which entries and which checkpoint the export
    /// covers.
    pub details: Option<&'a str>,
    /// `GeneratedTime` (and the documentation's `GeneratedDate`).
    pub generated: OffsetDateTime,
}

impl<'a> EventLogSource<'a> {
    /// A Canvass node: an election management system ("ems") made by Canvass, at this build's
    /// version.
    pub fn canvass_node(device_id: &'a str, generated: OffsetDateTime) -> Self {
        Self {
            device_id,
            device_type: DeviceType::Ems,
            manufacturer: "Canvass",
            model: "Canvass node",
            version: Some(env!("CARGO_PKG_VERSION")),
            election_id: None,
            details: None,
            generated,
        }
    }

    /// Refuses values that would make an invalid document in either format.
    fn check(&self) -> Result<(), FormatsError> {
        check_text("device id", self.device_id)?;
        check_text("manufacturer", self.manufacturer)?;
        check_text("model", self.model)?;
        if let Some(other) = self.device_type.other_type() {
            check_text("other device type", other)?;
        }
        for (field, value) in [("version", self.version), ("election id", self.election_id), ("details", self.details)]
        {
            if let Some(value) = value {
                check_text(field, value)?;
            }
        }
        Ok(())
    }
}

/// Exported text must be non-empty and made of characters XML 1.0 can carry: no control
/// characters other than tab, line feed and carriage return, and not U+FFFE or U+FFFF. No
/// escape can write the others in XML, so they are refused rather than silently dropped.
fn check_text(field: &'static str, value: &str) -> Result<(), FormatsError> {
    if value.trim().is_empty() {
        return Err(FormatsError::InvalidText { field, reason: "is blank" });
    }
    if !value.chars().all(is_xml_char) {
        return Err(FormatsError::InvalidText {
            field,
            reason: "holds a character XML cannot carry (a control character, U+FFFE or U+FFFF)",
        });
    }
    Ok(())
}

/// The XML 1.0 `Char` production (surrogates cannot occur in a Rust string).
fn is_xml_char(character: char) -> bool {
    matches!(character, '\t' | '\n' | '\r' | ' '..='\u{FFFD}' | '\u{10000}'..)
}

/// One Event, in the field order of the XSD's sequence (JSON keeps the same order).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Event {
    #[serde(rename = "@type")]
    kind: &'static str,
    description: &'static str,
    details: String,
    disposition: &'static str,
    id: &'static str,
    sequence: String,
    time_stamp: String,
    #[serde(rename = "Type")]
    event_type: &'static str,
    user_id: String,
}

impl Event {
    fn new(index: u64, entry: &AuditEntry) -> Result<Self, FormatsError> {
        let event = Self {
            kind: "EventLogging.Event",
            description: entry.action.description(),
            details: details(entry)?,
            disposition: disposition(entry.outcome),
            id: entry.action.as_str(),
            sequence: index.to_string(),
            time_stamp: timestamp(entry.time)?,
            event_type: EventType::of(entry.action).as_str(),
            user_id: entry.actor.to_string(),
        };
        // Actors are parsed values (lowercase codes and user names); checked all the same, so a
        // future actor kind cannot slip a bad character into the XML.
        check_text("actor", &event.user_id)?;
        Ok(event)
    }
}

/// Times are written in UTC, as RFC 3339 with `Z`, which is also an xsd:dateTime. Keeping an
/// entry's own offset is not always possible: xsd:dateTime allows offsets up to ±14:00, while a
/// time value may carry up to ±25:59. Fractional seconds are kept (without trailing zeros).
/// Fails for instants outside the years 0001-9999 (XML Schema 1.0 has no year zero).
pub fn timestamp(time: OffsetDateTime) -> Result<String, FormatsError> {
    let utc =
        time.checked_to_offset(UtcOffset::UTC).filter(|utc| utc.year() >= 1).ok_or(FormatsError::TimeOutOfRange)?;
    Ok(utc.format(&Rfc3339)?)
}

/// `Event/Disposition`: the schema's EventDispositionType.
fn disposition(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Allowed => "success",
        Outcome::Denied | Outcome::Failed => "failure",
    }
}

/// What `Event/Details` holds: the entry's fields that have no 1500-101 element, with the names
/// they have in the ledger's own JSON.
#[derive(Serialize)]
struct Details<'e> {
    outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    jurisdiction: Option<&'e str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    targets: &'e [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'e str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'e str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<&'e str>,
}

/// Compact JSON, so targets and justifications keep every character unambiguously. JSON already
/// escapes control characters; U+FFFE and U+FFFF, which JSON allows raw but XML cannot carry at
/// all, are written as `\uFFFE` and `\uFFFF` escapes too, so the text means the same in both
/// formats and parses back to exactly what the ledger holds.
fn details(entry: &AuditEntry) -> Result<String, FormatsError> {
    let json = serde_json::to_string(&Details {
        outcome: entry.outcome,
        jurisdiction: entry.jurisdiction.as_ref().map(|id| id.as_str()),
        targets: &entry.targets,
        reason: entry.reason.as_deref(),
        request_id: entry.request_id.as_deref(),
        justification: entry.justification.as_deref(),
    })?;
    if json.contains(['\u{FFFE}', '\u{FFFF}']) {
        Ok(json.replace('\u{FFFE}', "\\ufffe").replace('\u{FFFF}', "\\uffff"))
    } else {
        Ok(json)
    }
}

/// The parts of the source written after the events (the XSD puts `Device/Id` and
/// `GeneratedTime` last), owned so the writer does not borrow the caller's source.
#[derive(Debug)]
struct Trailer {
    device_id: String,
    device_type: DeviceType,
    manufacturer: String,
    model: String,
    version: Option<String>,
    election_id: Option<String>,
    generated: String,
}

impl Trailer {
    fn new(source: &EventLogSource<'_>) -> Result<Self, FormatsError> {
        Ok(Self {
            device_id: source.device_id.to_owned(),
            device_type: source.device_type.clone(),
            manufacturer: source.manufacturer.to_owned(),
            model: source.model.to_owned(),
            version: source.version.map(str::to_owned),
            election_id: source.election_id.map(str::to_owned),
            generated: timestamp(source.generated)?,
        })
    }
}

enum Sink<W: Write> {
    Xml(xml::XmlLog<W>),
    Json(json::JsonLog<W>),
}

/// Writes one 1500-101 ElectionEventLog as entries arrive: [`EventLogWriter::start`] writes the
/// header, [`EventLogWriter::event`] one Event per ledger entry, in increasing index order, and
/// [`EventLogWriter::finish`] the rest and flushes. Until `finish` returns `Ok` the output is
/// an incomplete document; after an error, discard it.
///
/// Hand it a buffered writer (`std::io::BufWriter`) when writing to a file or socket.
pub struct EventLogWriter<W: Write> {
    sink: Sink<W>,
    trailer: Trailer,
    previous: Option<u64>,
    events: u64,
}

impl<W: Write> fmt::Debug for EventLogWriter<W> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("EventLogWriter")
            .field("format", &self.format())
            .field("device_id", &self.trailer.device_id)
            .field("previous", &self.previous)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

impl<W: Write> EventLogWriter<W> {
    /// Checks the source and writes everything that comes before the first event.
    pub fn start(format: EventLogFormat, source: &EventLogSource<'_>, out: W) -> Result<Self, FormatsError> {
        source.check()?;
        let trailer = Trailer::new(source)?;
        let sink = match format {
            EventLogFormat::Xml => Sink::Xml(xml::XmlLog::start(source, out)?),
            EventLogFormat::Json => Sink::Json(json::JsonLog::start(source, out)?),
        };
        Ok(Self { sink, trailer, previous: None, events: 0 })
    }

    pub fn format(&self) -> EventLogFormat {
        match self.sink {
            Sink::Xml(_) => EventLogFormat::Xml,
            Sink::Json(_) => EventLogFormat::Json,
        }
    }

    /// How many events have been written.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Writes the ledger entry at `index` as one Event. Indices must increase (gaps are fine, for
    /// an export of a filtered range), so each Sequence is unique in the log.
    pub fn event(&mut self, index: u64, entry: &AuditEntry) -> Result<(), FormatsError> {
        if let Some(previous) = self.previous
            && index <= previous
        {
            return Err(FormatsError::OutOfOrder { previous, index });
        }
        let event = Event::new(index, entry)?;
        match &mut self.sink {
            Sink::Xml(log) => log.event(&event)?,
            Sink::Json(log) => log.event(&event)?,
        }
        self.previous = Some(index);
        self.events += 1;
        Ok(())
    }

    /// Writes the end of the document, flushes, and hands the writer back.
    pub fn finish(self) -> Result<W, FormatsError> {
        let mut out = match self.sink {
            Sink::Xml(log) => log.finish(&self.trailer)?,
            Sink::Json(log) => log.finish(&self.trailer)?,
        };
        out.flush()?;
        Ok(out)
    }
}

/// Writes a whole log, entries as `(index, entry)` pairs (owned or borrowed), and returns the
/// writer, flushed.
pub fn write_nist_event_log<W, I>(
    format: EventLogFormat,
    source: &EventLogSource<'_>,
    entries: I,
    out: W,
) -> Result<W, FormatsError>
where
    W: Write,
    I: IntoIterator,
    I::Item: Borrow<(u64, AuditEntry)>,
{
    let mut writer = EventLogWriter::start(format, source, out)?;
    for item in entries {
        let (index, entry) = item.borrow();
        writer.event(*index, entry)?;
    }
    writer.finish()
}

/// Writes a whole log as 1500-101 XML.
pub fn write_nist_event_log_xml<W, I>(source: &EventLogSource<'_>, entries: I, out: W) -> Result<W, FormatsError>
where
    W: Write,
    I: IntoIterator,
    I::Item: Borrow<(u64, AuditEntry)>,
{
    write_nist_event_log(EventLogFormat::Xml, source, entries, out)
}

/// Writes a whole log as 1500-101 JSON.
pub fn write_nist_event_log_json<W, I>(source: &EventLogSource<'_>, entries: I, out: W) -> Result<W, FormatsError>
where
    W: Write,
    I: IntoIterator,
    I::Item: Borrow<(u64, AuditEntry)>,
{
    write_nist_event_log(EventLogFormat::Json, source, entries, out)
}

/// A whole log as a 1500-101 XML string.
pub fn nist_event_log_xml(source: &EventLogSource<'_>, entries: &[(u64, AuditEntry)]) -> Result<String, FormatsError> {
    write_nist_event_log_xml(source, entries, Vec::new()).map(into_string)
}

/// A whole log as a 1500-101 JSON string.
pub fn nist_event_log_json(source: &EventLogSource<'_>, entries: &[(u64, AuditEntry)]) -> Result<String, FormatsError> {
    write_nist_event_log_json(source, entries, Vec::new()).map(into_string)
}

/// The ElectionEventLogDocumentation for the device in `source`, as XML: every action code as
/// an EventIdDescription and every [`EventType`] as an EventTypeDescription.
pub fn nist_event_documentation_xml(source: &EventLogSource<'_>) -> Result<String, FormatsError> {
    source.check()?;
    xml::documentation(source, &generated_date(source)?).map(into_string)
}

/// The ElectionEventLogDocumentation for the device in `source`, as JSON.
pub fn nist_event_documentation_json(source: &EventLogSource<'_>) -> Result<String, FormatsError> {
    source.check()?;
    json::documentation(source, &generated_date(source)?).map(into_string)
}

/// `GeneratedDate` is an xsd:date: the UTC calendar date of the source's generated time.
fn generated_date(source: &EventLogSource<'_>) -> Result<String, FormatsError> {
    // Through `timestamp` first, which refuses what xsd:dateTime cannot write.
    timestamp(source.generated)?;
    let utc = source.generated.checked_to_offset(UtcOffset::UTC).ok_or(FormatsError::TimeOutOfRange)?;
    Ok(utc.format(format_description!("[year]-[month]-[day]"))?)
}

/// Both writers only ever write `&str` text, so the bytes are UTF-8; the lossy path never runs.
fn into_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}
