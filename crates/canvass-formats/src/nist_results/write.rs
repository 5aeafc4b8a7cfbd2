//! Writing: the model into one tree of elements in the schema's order, which both encoders walk,
//! so the XML and the JSON of a report cannot disagree.

use std::io::Write;

use quick_xml::{
    Writer,
    escape::partial_escape,
    events::{BytesDecl, BytesStart, BytesText, Event},
};
use serde_json::{Map, Value};

use super::{
    BallotCounts, Candidate, Choice, Contest, ContestKind, ContestSelection, Election, ElectionReport,
    ExternalIdentifier, GpUnit, InternationalizedText, OtherCounts, Party, VoteCounts, XML_NAMESPACE, is_language_tag,
    is_object_id, read::is_date_time_with_zone,
};
use crate::{
    FormatsError,
    nist_document::{Vocabulary, check_text, format_date},
};

const INSTANCE_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// The prefix of the JSON schema's type names.
const JSON_TYPE_PREFIX: &str = "ElectionResults.";

pub(super) fn xml(report: &ElectionReport, out: impl Write) -> Result<(), FormatsError> {
    let root = report_element(report)?;
    let mut writer = Writer::new_with_indent(out, b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    write_xml_element(&mut writer, &root, true)?;
    let mut out = writer.into_inner();
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

pub(super) fn json(report: &ElectionReport, mut out: impl Write) -> Result<(), FormatsError> {
    let root = report_element(report)?;
    serde_json::to_writer_pretty(&mut out, &json_value(&root))?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// One element to write.
struct Element {
    name: &'static str,
    content: Content,
    /// Repeatable in the schema: an array in JSON, even of one.
    repeated: bool,
}

enum Content {
    Text(String),
    Integer(u64),
    Boolean(bool),
    /// An `IDREFS`: space-separated in XML, an array in JSON.
    Ids(Vec<String>),
    /// A `LanguageString`: the text with a `Language` attribute in XML, an object in JSON.
    Language {
        language: String,
        content: String,
    },
    Object(Object),
}

/// An element with children: its schema type (`@type` in JSON, and `xsi:type` in XML when the
/// element's declared type is an abstract base), its `ObjectId`, and its children in order.
struct Object {
    type_name: &'static str,
    derived: bool,
    object_id: Option<String>,
    children: Vec<Element>,
}

impl Object {
    fn new(type_name: &'static str) -> Self {
        Self { type_name, derived: false, object_id: None, children: Vec::new() }
    }

    /// An object with an `ObjectId`; `derived` when its element's declared type is abstract.
    fn identified(type_name: &'static str, object_id: &str, derived: bool) -> Result<Self, FormatsError> {
        check_id("ObjectId", object_id)?;
        Ok(Self { type_name, derived, object_id: Some(object_id.to_owned()), children: Vec::new() })
    }

    fn push(&mut self, name: &'static str, content: Content) {
        self.children.push(Element { name, content, repeated: false });
    }

    fn push_repeated(&mut self, name: &'static str, content: Content) {
        self.children.push(Element { name, content, repeated: true });
    }

    fn text(&mut self, name: &'static str, value: &str) -> Result<(), FormatsError> {
        check_text(name, value)?;
        self.push(name, Content::Text(value.to_owned()));
        Ok(())
    }

    fn optional_text(&mut self, name: &'static str, value: Option<&str>) -> Result<(), FormatsError> {
        value.map_or(Ok(()), |value| self.text(name, value))
    }

    fn id(&mut self, name: &'static str, value: &str) -> Result<(), FormatsError> {
        check_id(name, value)?;
        self.push(name, Content::Text(value.to_owned()));
        Ok(())
    }

    /// An `IDREFS`, left out when empty: the schema's list type needs at least one.
    fn ids(&mut self, name: &'static str, values: &[String]) -> Result<(), FormatsError> {
        for value in values {
            check_id(name, value)?;
        }
        if !values.is_empty() {
            self.push(name, Content::Ids(values.to_vec()));
        }
        Ok(())
    }

    fn vocabulary<T: Vocabulary>(&mut self, name: &'static str, value: T) {
        self.push(name, Content::Text(value.as_str().to_owned()));
    }

    fn optional_count(&mut self, name: &'static str, value: Option<u64>) {
        if let Some(value) = value {
            self.push(name, Content::Integer(value));
        }
    }

    fn international(&mut self, name: &'static str, text: &InternationalizedText) -> Result<(), FormatsError> {
        let element = international_element(name, text)?;
        self.push(name, element);
        Ok(())
    }

    fn optional_international(
        &mut self,
        name: &'static str,
        text: Option<&InternationalizedText>,
    ) -> Result<(), FormatsError> {
        text.map_or(Ok(()), |text| self.international(name, text))
    }

    fn objects(&mut self, name: &'static str, objects: Vec<Object>) {
        for object in objects {
            self.push_repeated(name, Content::Object(object));
        }
    }
}

/// An `ObjectId` or reference must be an XML name without a colon (`xsd:ID`, `xsd:IDREF`).
fn check_id(field: &'static str, value: &str) -> Result<(), FormatsError> {
    if is_object_id(value) {
        Ok(())
    } else {
        Err(FormatsError::InvalidText {
            field,
            reason: "is not an XML identifier (a letter or _ then letters, digits, _ - or .)",
        })
    }
}

fn international_element(name: &'static str, text: &InternationalizedText) -> Result<Content, FormatsError> {
    if text.texts.is_empty() {
        return Err(FormatsError::InvalidText { field: name, reason: "needs a text in at least one language" });
    }
    let mut object = Object::new("InternationalizedText");
    for entry in &text.texts {
        check_text(name, &entry.content)?;
        if !is_language_tag(&entry.language) {
            return Err(FormatsError::InvalidText {
                field: "Language",
                reason: "is not a language tag (en, en-US...)",
            });
        }
        object.push_repeated(
            "Text",
            Content::Language { language: entry.language.clone(), content: entry.content.clone() },
        );
    }
    Ok(Content::Object(object))
}

fn report_element(report: &ElectionReport) -> Result<Element, FormatsError> {
    if !is_date_time_with_zone(&report.generated_date) {
        return Err(FormatsError::InvalidText {
            field: "GeneratedDate",
            reason: "is not a date and time with a time zone (YYYY-MM-DDTHH:MM:SS+HH:MM)",
        });
    }
    let mut root = Object::new("ElectionReport");
    let elections = report.elections.iter().map(election_object).collect::<Result<_, _>>()?;
    root.objects("Election", elections);
    root.vocabulary("Format", report.format);
    root.text("GeneratedDate", &report.generated_date)?;
    let units = report.gp_units.iter().map(gp_unit_object).collect::<Result<_, _>>()?;
    root.objects("GpUnit", units);
    root.text("Issuer", &report.issuer)?;
    root.text("IssuerAbbreviation", &report.issuer_abbreviation)?;
    let parties = report.parties.iter().map(party_object).collect::<Result<_, _>>()?;
    root.objects("Party", parties);
    root.push("SequenceStart", Content::Integer(report.sequence_start));
    root.push("SequenceEnd", Content::Integer(report.sequence_end));
    root.vocabulary("Status", report.status);
    root.text("VendorApplicationId", &report.vendor_application_id)?;
    Ok(Element { name: "ElectionReport", content: Content::Object(root), repeated: false })
}

fn external_identifier_object(identifier: &ExternalIdentifier) -> Result<Object, FormatsError> {
    let mut object = Object::new("ExternalIdentifier");
    object.vocabulary("Type", identifier.kind);
    object.optional_text("OtherType", identifier.other_type.as_deref())?;
    object.text("Value", &identifier.value)?;
    Ok(object)
}

fn gp_unit_object(unit: &GpUnit) -> Result<Object, FormatsError> {
    let mut object = Object::identified("ReportingUnit", &unit.object_id, true)?;
    object.ids("ComposingGpUnitIds", &unit.composing_gp_unit_ids)?;
    let identifiers = unit.external_identifiers.iter().map(external_identifier_object).collect::<Result<_, _>>()?;
    object.objects("ExternalIdentifier", identifiers);
    object.optional_international("Name", unit.name.as_ref())?;
    object.vocabulary("Type", unit.kind);
    object.optional_text("OtherType", unit.other_type.as_deref())?;
    object.optional_count("VotersRegistered", unit.voters_registered);
    Ok(object)
}

fn party_object(party: &Party) -> Result<Object, FormatsError> {
    let mut object = Object::identified("Party", &party.object_id, false)?;
    object.optional_international("Abbreviation", party.abbreviation.as_ref())?;
    object.international("Name", &party.name)?;
    Ok(object)
}

fn election_object(election: &Election) -> Result<Object, FormatsError> {
    let mut object = Object::new("Election");
    let ballot_counts = election.ballot_counts.iter().map(ballot_counts_object).collect::<Result<_, _>>()?;
    object.objects("BallotCounts", ballot_counts);
    let candidates = election.candidates.iter().map(candidate_object).collect::<Result<_, _>>()?;
    object.objects("Candidate", candidates);
    let contests = election.contests.iter().map(contest_object).collect::<Result<_, _>>()?;
    object.objects("Contest", contests);
    object.id("ElectionScopeId", &election.election_scope_id)?;
    object.international("Name", &election.name)?;
    object.push("StartDate", Content::Text(format_date("StartDate", election.start_date)?));
    object.push("EndDate", Content::Text(format_date("EndDate", election.end_date)?));
    object.vocabulary("Type", election.kind);
    object.optional_text("OtherType", election.other_type.as_deref())?;
    Ok(object)
}

fn ballot_counts_object(counts: &BallotCounts) -> Result<Object, FormatsError> {
    let mut object = Object::new("BallotCounts");
    object.id("GpUnitId", &counts.gp_unit_id)?;
    object.vocabulary("Type", counts.kind);
    object.optional_text("OtherType", counts.other_type.as_deref())?;
    object.optional_count("BallotsCast", counts.ballots_cast);
    object.optional_count("BallotsOutstanding", counts.ballots_outstanding);
    object.optional_count("BallotsRejected", counts.ballots_rejected);
    Ok(object)
}

fn candidate_object(candidate: &Candidate) -> Result<Object, FormatsError> {
    let mut object = Object::identified("Candidate", &candidate.object_id, false)?;
    object.international("BallotName", &candidate.ballot_name)?;
    if let Some(party) = &candidate.party_id {
        object.id("PartyId", party)?;
    }
    Ok(object)
}

/// A contest's elements: the base `Contest`'s sequence, then the derived type's.
fn contest_object(contest: &Contest) -> Result<Object, FormatsError> {
    let mut object = Object::identified(contest.kind.type_name(), &contest.object_id, true)?;
    let selections = contest.selections.iter().map(selection_object).collect::<Result<_, _>>()?;
    object.objects("ContestSelection", selections);
    object.id("ElectionDistrictId", &contest.election_district_id)?;
    object.text("Name", &contest.name)?;
    let other_counts = contest.other_counts.iter().map(other_counts_object).collect::<Result<_, _>>()?;
    object.objects("OtherCounts", other_counts);
    match &contest.kind {
        ContestKind::Candidate { votes_allowed, primary_party_ids } => {
            object.ids("PrimaryPartyIds", primary_party_ids)?;
            object.push("VotesAllowed", Content::Integer(*votes_allowed));
        }
        ContestKind::BallotMeasure { full_text } => object.optional_international("FullText", full_text.as_ref())?,
        ContestKind::Retention { candidate_id, full_text } => {
            object.optional_international("FullText", full_text.as_ref())?;
            object.id("CandidateId", candidate_id)?;
        }
        ContestKind::Party => {}
    }
    Ok(object)
}

fn selection_object(selection: &ContestSelection) -> Result<Object, FormatsError> {
    let mut object = Object::identified(selection.choice.type_name(), &selection.object_id, true)?;
    let counts = selection.vote_counts.iter().map(vote_counts_object).collect::<Result<_, _>>()?;
    object.objects("VoteCounts", counts);
    match &selection.choice {
        Choice::Candidates { candidate_ids, is_write_in } => {
            object.ids("CandidateIds", candidate_ids)?;
            if let Some(is_write_in) = is_write_in {
                object.push("IsWriteIn", Content::Boolean(*is_write_in));
            }
        }
        Choice::BallotMeasure { selection } => object.international("Selection", selection)?,
        Choice::Parties { party_ids } => {
            if party_ids.is_empty() {
                return Err(FormatsError::InvalidText { field: "PartyIds", reason: "needs at least one party" });
            }
            object.ids("PartyIds", party_ids)?;
        }
    }
    Ok(object)
}

fn vote_counts_object(counts: &VoteCounts) -> Result<Object, FormatsError> {
    let mut object = Object::new("VoteCounts");
    object.id("GpUnitId", &counts.gp_unit_id)?;
    object.vocabulary("Type", counts.kind);
    object.optional_text("OtherType", counts.other_type.as_deref())?;
    object.push("Count", Content::Integer(counts.count));
    Ok(object)
}

fn other_counts_object(counts: &OtherCounts) -> Result<Object, FormatsError> {
    let mut object = Object::new("OtherCounts");
    object.id("GpUnitId", &counts.gp_unit_id)?;
    object.optional_count("Overvotes", counts.overvotes);
    object.optional_count("Undervotes", counts.undervotes);
    object.optional_count("WriteIns", counts.write_ins);
    Ok(object)
}

// ---------------------------------------------------------------------------------------------
// The two encoders

fn write_xml_element<W: Write>(writer: &mut Writer<W>, element: &Element, root: bool) -> Result<(), FormatsError> {
    let mut start = BytesStart::new(element.name);
    if root {
        start.push_attribute(("xmlns", XML_NAMESPACE));
        start.push_attribute(("xmlns:xsi", INSTANCE_NAMESPACE));
    }
    let text = match &element.content {
        Content::Text(text) => text.clone(),
        Content::Integer(number) => number.to_string(),
        Content::Boolean(boolean) => boolean.to_string(),
        Content::Ids(ids) => ids.join(" "),
        Content::Language { language, content } => {
            // The tuple form escapes the value.
            start.push_attribute(("Language", language.as_str()));
            content.clone()
        }
        Content::Object(object) => {
            if let Some(id) = &object.object_id {
                start.push_attribute(("ObjectId", id.as_str()));
            }
            if object.derived {
                start.push_attribute(("xsi:type", object.type_name));
            }
            if object.children.is_empty() {
                writer.write_event(Event::Empty(start))?;
                return Ok(());
            }
            writer.write_event(Event::Start(start.borrow()))?;
            for child in &object.children {
                write_xml_element(writer, child, false)?;
            }
            writer.write_event(Event::End(start.to_end()))?;
            return Ok(());
        }
    };
    writer.write_event(Event::Start(start.borrow()))?;
    writer.write_event(Event::Text(BytesText::from_escaped(partial_escape(text.as_str()))))?;
    writer.write_event(Event::End(start.to_end()))?;
    Ok(())
}

fn json_value(element: &Element) -> Value {
    match &element.content {
        Content::Text(text) => Value::String(text.clone()),
        Content::Integer(number) => Value::from(*number),
        Content::Boolean(boolean) => Value::Bool(*boolean),
        Content::Ids(ids) => Value::Array(ids.iter().cloned().map(Value::String).collect()),
        Content::Language { language, content } => {
            let mut object = Map::new();
            object.insert("@type".to_owned(), Value::String(format!("{JSON_TYPE_PREFIX}LanguageString")));
            object.insert("Content".to_owned(), Value::String(content.clone()));
            object.insert("Language".to_owned(), Value::String(language.clone()));
            Value::Object(object)
        }
        Content::Object(object) => {
            let mut members = Map::new();
            members.insert("@type".to_owned(), Value::String(format!("{JSON_TYPE_PREFIX}{}", object.type_name)));
            if let Some(id) = &object.object_id {
                members.insert("@id".to_owned(), Value::String(id.clone()));
            }
            for child in &object.children {
                let value = json_value(child);
                if child.repeated {
                    match members.entry(child.name).or_insert_with(|| Value::Array(Vec::new())) {
                        Value::Array(items) => items.push(value),
                        // A repeated element never shares its name with a single one.
                        other => *other = value,
                    }
                } else {
                    members.insert(child.name.to_owned(), value);
                }
            }
            Value::Object(members)
        }
    }
}
