//! Reading: the document into the shared tree, the tree into the model with every problem
//! gathered, then every reference checked against the objects the document defines.

use std::{
    collections::HashSet,
    io::{BufRead, Read},
};

use serde_json::Value;
use time::Date;

use super::{
    BallotCounts, Candidate, Choice, Contest, ContestKind, ContestSelection, Election, ElectionReport,
    ExternalIdentifier, GpUnit, InternationalizedText, LanguageString, MAX_DOCUMENT_BYTES, OtherCounts, Party,
    ReportingUnitType, VoteCounts, is_language_tag, is_object_id,
};
use crate::{
    FormatsError,
    nist_document::{Node, Vocabulary, json_document, json_node, parse_date, read_limited, refused, xml_document},
    reported::{Location, Problem},
};

/// The prefix of every whole-document refusal.
pub(super) const LABEL: &str = "NIST 1500-100";

const ROOT: &str = "ElectionReport";

pub(super) fn xml(reader: impl BufRead) -> Result<ElectionReport, FormatsError> {
    let bytes = read_limited(reader, MAX_DOCUMENT_BYTES, LABEL)?;
    let root = xml_document(&bytes, LABEL)?;
    if root.name != ROOT {
        return Err(refused(LABEL, format!("the root element is {}, not {ROOT}", root.name)));
    }
    report(&root)
}

pub(super) fn json(reader: impl Read) -> Result<ElectionReport, FormatsError> {
    let bytes = read_limited(reader, MAX_DOCUMENT_BYTES, LABEL)?;
    let value = json_document(&bytes, LABEL)?;
    let Value::Object(object) = &value else {
        return Err(refused(LABEL, "the JSON document is not an object"));
    };
    match object.get("@type").map(Value::as_str) {
        Some(Some("ElectionResults.ElectionReport")) => {}
        None => return Err(refused(LABEL, "the root object has no @type (ElectionResults.ElectionReport)")),
        Some(_) => return Err(refused(LABEL, "the root object's @type is not ElectionResults.ElectionReport")),
    }
    let root = json_node(ROOT, &value, ROOT, 0, LABEL)?.ok_or_else(|| refused(LABEL, "the JSON document is empty"))?;
    report(&root)
}

fn report(root: &Node) -> Result<ElectionReport, FormatsError> {
    let mut reader = TreeReader::default();
    let report = reader.report(root);
    References::check(&report, &mut reader.problems);
    if reader.problems.is_empty() { Ok(report) } else { Err(FormatsError::Problems(reader.problems.into_list())) }
}

/// The most problems listed: enough to mend a document by, and a bound on what a hostile one
/// (millions of bad counts) can make us hold.
const MAX_LISTED_PROBLEMS: usize = 1000;

/// The problems found, the first [`MAX_LISTED_PROBLEMS`] listed and the rest counted.
#[derive(Default)]
struct Problems {
    listed: Vec<Problem>,
    unlisted: usize,
}

impl Problems {
    fn push(&mut self, path: &str, message: impl Into<String>) {
        if self.listed.len() < MAX_LISTED_PROBLEMS {
            self.listed.push(Problem { location: Location::Element(path.to_owned()), message: message.into() });
        } else {
            self.unlisted += 1;
        }
    }

    fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }

    fn into_list(mut self) -> Vec<Problem> {
        if self.unlisted > 0 {
            let message = format!("{} more problems are not listed", self.unlisted);
            self.listed.push(Problem { location: Location::Element(ROOT.to_owned()), message });
        }
        self.listed
    }
}

/// Reads the tree into the model, noting each problem and carrying on with a stand-in value so
/// that one pass finds them all; a report read with problems is never handed out.
#[derive(Default)]
struct TreeReader {
    problems: Problems,
}

impl TreeReader {
    fn problem(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(path, message);
    }

    fn optional_text(node: &Node, name: &str) -> Option<String> {
        node.child(name).map(Node::value).filter(|value| !value.is_empty()).map(str::to_owned)
    }

    fn text(&mut self, node: &Node, name: &str, path: &str) -> String {
        Self::optional_text(node, name).unwrap_or_else(|| {
            self.problem(path, format!("{name} is missing"));
            String::new()
        })
    }

    /// An `IDREFS`: space-separated in XML, an array in JSON (one child per item).
    fn ids(node: &Node, name: &str) -> Vec<String> {
        node.all(name).flat_map(|child| child.value().split_whitespace()).map(str::to_owned).collect()
    }

    fn vocabulary<T: Vocabulary>(&mut self, node: &Node, name: &str, path: &str) -> Option<T> {
        let Some(text) = Self::optional_text(node, name) else {
            self.problem(path, format!("{name} is missing"));
            return None;
        };
        let value = T::parse(&text);
        if value.is_none() {
            let expected: Vec<&str> = T::ALL.iter().map(|value| value.as_str()).collect();
            self.problem(path, format!("{name} {text:?} is not one of the schema's values ({})", expected.join(", ")));
        }
        value
    }

    /// A count: the schema's types are integers, doubles or floats, but a count of votes or
    /// ballots is a whole number and never negative.
    fn optional_count(&mut self, node: &Node, name: &str, path: &str) -> Option<u64> {
        let text = Self::optional_text(node, name)?;
        match parse_count(&text) {
            Ok(count) => Some(count),
            Err(rule) => {
                self.problem(path, format!("{name} {text:?} {rule}"));
                None
            }
        }
    }

    fn count(&mut self, node: &Node, name: &str, path: &str) -> u64 {
        if node.child(name).is_none() {
            self.problem(path, format!("{name} is missing"));
            return 0;
        }
        self.optional_count(node, name, path).unwrap_or(0)
    }

    fn optional_boolean(&mut self, node: &Node, name: &str, path: &str) -> Option<bool> {
        match Self::optional_text(node, name)?.as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            other => {
                self.problem(path, format!("{name} {other:?} is not true or false"));
                None
            }
        }
    }

    fn date(&mut self, node: &Node, name: &str, path: &str) -> Date {
        let Some(text) = Self::optional_text(node, name) else {
            self.problem(path, format!("{name} is missing"));
            return Date::MIN;
        };
        parse_date(&text).unwrap_or_else(|| {
            self.problem(path, format!("{name} {text:?} is not a date (YYYY-MM-DD)"));
            Date::MIN
        })
    }

    fn object_id(&mut self, node: &Node, path: &str) -> String {
        let id = self.text(node, "ObjectId", path);
        if !id.is_empty() && !is_object_id(&id) {
            self.problem(
                path,
                format!("ObjectId {id:?} is not an XML identifier (a letter or _ then letters, digits, _ - or .)"),
            );
        }
        id
    }

    fn international(&mut self, node: &Node, name: &str, path: &str) -> InternationalizedText {
        let Some(child) = node.child(name) else {
            self.problem(path, format!("{name} is missing"));
            return InternationalizedText::default();
        };
        self.international_text(child, &format!("{path}/{name}"))
    }

    fn optional_international(&mut self, node: &Node, name: &str, path: &str) -> Option<InternationalizedText> {
        let child = node.child(name)?;
        Some(self.international_text(child, &format!("{path}/{name}")))
    }

    /// `Text` elements in XML (the content is the text, the language an attribute), `Text`
    /// objects with `Content` and `Language` in JSON.
    fn international_text(&mut self, node: &Node, path: &str) -> InternationalizedText {
        let mut texts = Vec::new();
        for (index, text) in node.all("Text").enumerate() {
            let text_path = format!("{path}/Text[{}]", index + 1);
            let own = text.text.trim();
            let content =
                if own.is_empty() { Self::optional_text(text, "Content").unwrap_or_default() } else { own.to_owned() };
            let language = self.text(text, "Language", &text_path);
            if !language.is_empty() && !is_language_tag(&language) {
                self.problem(&text_path, format!("Language {language:?} is not a language tag (en, en-US...)"));
            }
            texts.push(LanguageString { language, content });
        }
        if texts.is_empty() {
            self.problem(path, "Text is missing");
        }
        InternationalizedText { texts }
    }

    fn report(&mut self, root: &Node) -> ElectionReport {
        let path = ROOT;
        let format = self.vocabulary(root, "Format", path);
        let status = self.vocabulary(root, "Status", path);
        let generated_date = self.text(root, "GeneratedDate", path);
        if !generated_date.is_empty() && !is_date_time_with_zone(&generated_date) {
            self.problem(path, format!("GeneratedDate {generated_date:?} is not a date and time with a time zone"));
        }
        ElectionReport {
            format: format.unwrap_or(super::ReportDetailLevel::PrecinctLevel),
            generated_date,
            issuer: self.text(root, "Issuer", path),
            issuer_abbreviation: self.text(root, "IssuerAbbreviation", path),
            status: status.unwrap_or(super::ResultsStatus::UnofficialPartial),
            sequence_start: self.count(root, "SequenceStart", path),
            sequence_end: self.count(root, "SequenceEnd", path),
            vendor_application_id: self.text(root, "VendorApplicationId", path),
            gp_units: root.all("GpUnit").enumerate().filter_map(|(index, node)| self.gp_unit(node, index)).collect(),
            parties: root.all("Party").enumerate().map(|(index, node)| self.party(node, index)).collect(),
            elections: root.all("Election").enumerate().map(|(index, node)| self.election(node, index)).collect(),
        }
    }

    fn gp_unit(&mut self, node: &Node, index: usize) -> Option<GpUnit> {
        let path = object_path(ROOT, "GpUnit", node, index);
        match node.type_name.as_deref() {
            Some("ReportingUnit") => {}
            Some(other) => {
                self.problem(&path, format!("a GpUnit of type {other} is not read: only ReportingUnit"));
                return None;
            }
            None => {
                self.problem(&path, "the GpUnit's type (xsi:type or @type ReportingUnit) is missing");
                return None;
            }
        }
        Some(GpUnit {
            object_id: self.object_id(node, &path),
            kind: self.vocabulary(node, "Type", &path).unwrap_or(ReportingUnitType::Other),
            other_type: Self::optional_text(node, "OtherType"),
            name: self.optional_international(node, "Name", &path),
            composing_gp_unit_ids: Self::ids(node, "ComposingGpUnitIds"),
            external_identifiers: node
                .all("ExternalIdentifier")
                .enumerate()
                .filter_map(|(index, child)| {
                    self.external_identifier(child, &format!("{path}/ExternalIdentifier[{}]", index + 1))
                })
                .collect(),
            voters_registered: self.optional_count(node, "VotersRegistered", &path),
        })
    }

    fn external_identifier(&mut self, node: &Node, path: &str) -> Option<ExternalIdentifier> {
        Some(ExternalIdentifier {
            kind: self.vocabulary(node, "Type", path)?,
            other_type: Self::optional_text(node, "OtherType"),
            value: self.text(node, "Value", path),
        })
    }

    fn party(&mut self, node: &Node, index: usize) -> Party {
        let path = object_path(ROOT, "Party", node, index);
        Party {
            object_id: self.object_id(node, &path),
            name: self.international(node, "Name", &path),
            abbreviation: self.optional_international(node, "Abbreviation", &path),
        }
    }

    fn election(&mut self, node: &Node, index: usize) -> Election {
        let path = format!("{ROOT}/Election[{}]", index + 1);
        Election {
            name: self.international(node, "Name", &path),
            kind: self.vocabulary(node, "Type", &path).unwrap_or(super::ElectionType::Other),
            other_type: Self::optional_text(node, "OtherType"),
            start_date: self.date(node, "StartDate", &path),
            end_date: self.date(node, "EndDate", &path),
            election_scope_id: self.text(node, "ElectionScopeId", &path),
            ballot_counts: node
                .all("BallotCounts")
                .enumerate()
                .map(|(index, child)| self.ballot_counts(child, &format!("{path}/BallotCounts[{}]", index + 1)))
                .collect(),
            candidates: node
                .all("Candidate")
                .enumerate()
                .map(|(index, child)| self.candidate(child, &object_path(&path, "Candidate", child, index)))
                .collect(),
            contests: node
                .all("Contest")
                .enumerate()
                .filter_map(|(index, child)| self.contest(child, &object_path(&path, "Contest", child, index)))
                .collect(),
        }
    }

    fn ballot_counts(&mut self, node: &Node, path: &str) -> BallotCounts {
        BallotCounts {
            gp_unit_id: self.text(node, "GpUnitId", path),
            kind: self.vocabulary(node, "Type", path).unwrap_or(super::CountItemType::Other),
            other_type: Self::optional_text(node, "OtherType"),
            ballots_cast: self.optional_count(node, "BallotsCast", path),
            ballots_outstanding: self.optional_count(node, "BallotsOutstanding", path),
            ballots_rejected: self.optional_count(node, "BallotsRejected", path),
        }
    }

    fn candidate(&mut self, node: &Node, path: &str) -> Candidate {
        Candidate {
            object_id: self.object_id(node, path),
            ballot_name: self.international(node, "BallotName", path),
            party_id: Self::optional_text(node, "PartyId"),
        }
    }

    fn contest(&mut self, node: &Node, path: &str) -> Option<Contest> {
        let kind = match node.type_name.as_deref() {
            Some("CandidateContest") => {
                let votes_allowed = self.count(node, "VotesAllowed", path);
                if votes_allowed == 0 && node.child("VotesAllowed").is_some() {
                    self.problem(path, "VotesAllowed is 0: a contest allows at least one vote");
                }
                ContestKind::Candidate { votes_allowed, primary_party_ids: Self::ids(node, "PrimaryPartyIds") }
            }
            Some("BallotMeasureContest") => {
                ContestKind::BallotMeasure { full_text: self.optional_international(node, "FullText", path) }
            }
            Some("RetentionContest") => ContestKind::Retention {
                candidate_id: self.text(node, "CandidateId", path),
                full_text: self.optional_international(node, "FullText", path),
            },
            Some("PartyContest") => ContestKind::Party,
            Some(other) => {
                self.problem(path, format!("{other} is not a contest type of the schema"));
                return None;
            }
            None => {
                self.problem(path, "the contest's type (xsi:type or @type) is missing");
                return None;
            }
        };
        Some(Contest {
            object_id: self.object_id(node, path),
            name: self.text(node, "Name", path),
            election_district_id: self.text(node, "ElectionDistrictId", path),
            kind,
            selections: node
                .all("ContestSelection")
                .enumerate()
                .filter_map(|(index, child)| {
                    self.selection(child, &object_path(path, "ContestSelection", child, index))
                })
                .collect(),
            other_counts: node
                .all("OtherCounts")
                .enumerate()
                .map(|(index, child)| self.other_counts(child, &format!("{path}/OtherCounts[{}]", index + 1)))
                .collect(),
        })
    }

    fn selection(&mut self, node: &Node, path: &str) -> Option<ContestSelection> {
        let choice = match node.type_name.as_deref() {
            Some("CandidateSelection") => Choice::Candidates {
                candidate_ids: Self::ids(node, "CandidateIds"),
                is_write_in: self.optional_boolean(node, "IsWriteIn", path),
            },
            Some("BallotMeasureSelection") => {
                Choice::BallotMeasure { selection: self.international(node, "Selection", path) }
            }
            Some("PartySelection") => {
                let party_ids = Self::ids(node, "PartyIds");
                if party_ids.is_empty() {
                    self.problem(path, "PartyIds is missing");
                }
                Choice::Parties { party_ids }
            }
            Some(other) => {
                self.problem(path, format!("{other} is not a selection type of the schema"));
                return None;
            }
            None => {
                self.problem(path, "the selection's type (xsi:type or @type) is missing");
                return None;
            }
        };
        Some(ContestSelection {
            object_id: self.object_id(node, path),
            choice,
            vote_counts: node
                .all("VoteCounts")
                .enumerate()
                .map(|(index, child)| self.vote_counts(child, &format!("{path}/VoteCounts[{}]", index + 1)))
                .collect(),
        })
    }

    fn vote_counts(&mut self, node: &Node, path: &str) -> VoteCounts {
        VoteCounts {
            gp_unit_id: self.text(node, "GpUnitId", path),
            kind: self.vocabulary(node, "Type", path).unwrap_or(super::CountItemType::Other),
            other_type: Self::optional_text(node, "OtherType"),
            count: self.count(node, "Count", path),
        }
    }

    fn other_counts(&mut self, node: &Node, path: &str) -> OtherCounts {
        OtherCounts {
            gp_unit_id: self.text(node, "GpUnitId", path),
            overvotes: self.optional_count(node, "Overvotes", path),
            undervotes: self.optional_count(node, "Undervotes", path),
            write_ins: self.optional_count(node, "WriteIns", path),
        }
    }
}

/// An element's path: `parent/Name[ObjectId]`, or `parent/Name[n]` (from 1) when it has no
/// `ObjectId`.
fn object_path(parent: &str, name: &str, node: &Node, index: usize) -> String {
    match node.child("ObjectId").map(Node::value).filter(|id| !id.is_empty()) {
        Some(id) => format!("{parent}/{name}[{id}]"),
        None => format!("{parent}/{name}[{}]", index + 1),
    }
}

/// A count as written: digits, or a double that is a whole number (`12.0`, `1.2E1`).
fn parse_count(text: &str) -> Result<u64, &'static str> {
    if let Ok(count) = text.parse::<u64>() {
        return Ok(count);
    }
    let number: f64 = text.parse().map_err(|_| "is not a number")?;
    if !number.is_finite() {
        return Err("is not a number");
    }
    if number < 0.0 {
        return Err("is negative: a count is never below zero");
    }
    if number.fract() != 0.0 {
        return Err("is not a whole number");
    }
    // Whole and within what a double holds exactly (2^53).
    if number > 9_007_199_254_740_992.0 {
        return Err("is larger than a count can be");
    }
    // The checks above make the conversion exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(number as u64)
}

/// The schema's `DateTimeWithZone`: `YYYY-MM-DDTHH:MM:SS` then `Z` or `+HH:MM`/`-HH:MM`.
pub(super) fn is_date_time_with_zone(text: &str) -> bool {
    date_time_with_zone(text).is_some()
}

fn date_time_with_zone(text: &str) -> Option<()> {
    let two_digits = |part: &str, limit: u8| part.len() == 2 && part.parse::<u8>().is_ok_and(|value| value < limit);
    let (date, time) = text.split_once('T')?;
    (date.len() == 10 && parse_date(date).is_some()).then_some(())?;
    let clock = match time.strip_suffix('Z') {
        Some(clock) => clock,
        None => {
            let (clock, zone) = time.split_at_checked(time.len().checked_sub(6)?)?;
            let (sign, zone) = zone.split_at_checked(1)?;
            let (hours, minutes) = zone.split_once(':')?;
            (matches!(sign, "+" | "-") && two_digits(hours, 15) && two_digits(minutes, 60)).then_some(())?;
            clock
        }
    };
    let mut parts = clock.split(':');
    let (hour, minute, second) = (parts.next()?, parts.next()?, parts.next()?);
    let valid = parts.next().is_none() && two_digits(hour, 24) && two_digits(minute, 60) && two_digits(second, 60);
    (valid || clock == "24:00:00").then_some(())
}

/// Every object the document defines, by kind, and the check that each reference names one.
struct References {
    gp_units: HashSet<String>,
    parties: HashSet<String>,
}

impl References {
    fn check(report: &ElectionReport, problems: &mut Problems) {
        let mut defined = HashSet::new();
        let mut define = |id: &str, path: String, problems: &mut Problems| {
            if !id.is_empty() && !defined.insert(id.to_owned()) {
                problems.push(&path, format!("the ObjectId {id} is defined more than once"));
            }
        };
        for unit in &report.gp_units {
            define(&unit.object_id, format!("{ROOT}/GpUnit[{}]", unit.object_id), problems);
        }
        for party in &report.parties {
            define(&party.object_id, format!("{ROOT}/Party[{}]", party.object_id), problems);
        }
        for (index, election) in report.elections.iter().enumerate() {
            let path = format!("{ROOT}/Election[{}]", index + 1);
            for candidate in &election.candidates {
                define(&candidate.object_id, format!("{path}/Candidate[{}]", candidate.object_id), problems);
            }
            for contest in &election.contests {
                let contest_path = format!("{path}/Contest[{}]", contest.object_id);
                define(&contest.object_id, contest_path.clone(), problems);
                for selection in &contest.selections {
                    define(
                        &selection.object_id,
                        format!("{contest_path}/ContestSelection[{}]", selection.object_id),
                        problems,
                    );
                }
            }
        }
        let references = Self {
            gp_units: report.gp_units.iter().map(|unit| unit.object_id.clone()).collect(),
            parties: report.parties.iter().map(|party| party.object_id.clone()).collect(),
        };
        for unit in &report.gp_units {
            let path = format!("{ROOT}/GpUnit[{}]", unit.object_id);
            references.gp_units(&unit.composing_gp_unit_ids, &path, "ComposingGpUnitIds", problems);
        }
        for (index, election) in report.elections.iter().enumerate() {
            references.election(election, &format!("{ROOT}/Election[{}]", index + 1), problems);
        }
    }

    fn election(&self, election: &Election, path: &str, problems: &mut Problems) {
        let candidates: HashSet<&str> =
            election.candidates.iter().map(|candidate| candidate.object_id.as_str()).collect();
        self.gp_unit(&election.election_scope_id, path, "ElectionScopeId", problems);
        for (index, counts) in election.ballot_counts.iter().enumerate() {
            self.gp_unit(&counts.gp_unit_id, &format!("{path}/BallotCounts[{}]", index + 1), "GpUnitId", problems);
        }
        for candidate in &election.candidates {
            if let Some(party) = &candidate.party_id {
                let candidate_path = format!("{path}/Candidate[{}]", candidate.object_id);
                self.parties(std::slice::from_ref(party), &candidate_path, "PartyId", problems);
            }
        }
        for contest in &election.contests {
            let contest_path = format!("{path}/Contest[{}]", contest.object_id);
            self.gp_unit(&contest.election_district_id, &contest_path, "ElectionDistrictId", problems);
            match &contest.kind {
                ContestKind::Candidate { primary_party_ids, .. } => {
                    self.parties(primary_party_ids, &contest_path, "PrimaryPartyIds", problems);
                }
                ContestKind::Retention { candidate_id, .. } => {
                    dangling(
                        |id| candidates.contains(id),
                        std::slice::from_ref(candidate_id),
                        &contest_path,
                        "CandidateId",
                        "Candidate of the election",
                        problems,
                    );
                }
                ContestKind::BallotMeasure { .. } | ContestKind::Party => {}
            }
            for (index, counts) in contest.other_counts.iter().enumerate() {
                self.gp_unit(
                    &counts.gp_unit_id,
                    &format!("{contest_path}/OtherCounts[{}]", index + 1),
                    "GpUnitId",
                    problems,
                );
            }
            for selection in &contest.selections {
                let selection_path = format!("{contest_path}/ContestSelection[{}]", selection.object_id);
                match &selection.choice {
                    Choice::Candidates { candidate_ids, .. } => {
                        dangling(
                            |id| candidates.contains(id),
                            candidate_ids,
                            &selection_path,
                            "CandidateIds",
                            "Candidate of the election",
                            problems,
                        );
                    }
                    Choice::Parties { party_ids } => self.parties(party_ids, &selection_path, "PartyIds", problems),
                    Choice::BallotMeasure { .. } => {}
                }
                for (index, counts) in selection.vote_counts.iter().enumerate() {
                    let counts_path = format!("{selection_path}/VoteCounts[{}]", index + 1);
                    self.gp_unit(&counts.gp_unit_id, &counts_path, "GpUnitId", problems);
                }
            }
        }
    }

    fn gp_unit(&self, id: &str, path: &str, name: &str, problems: &mut Problems) {
        self.gp_units(std::slice::from_ref(&id.to_owned()), path, name, problems);
    }

    fn gp_units(&self, ids: &[String], path: &str, name: &str, problems: &mut Problems) {
        dangling(|id| self.gp_units.contains(id), ids, path, name, "GpUnit", problems);
    }

    fn parties(&self, ids: &[String], path: &str, name: &str, problems: &mut Problems) {
        dangling(|id| self.parties.contains(id), ids, path, name, "Party", problems);
    }
}

/// A problem for each of `ids` that is not `defined`, naming it: the list of every dangling
/// reference is what the sender needs to mend the document in one go.
fn dangling(
    defined: impl Fn(&str) -> bool,
    ids: &[String],
    path: &str,
    name: &str,
    what: &str,
    problems: &mut Problems,
) {
    for id in ids.iter().filter(|id| !id.is_empty() && !defined(id)) {
        problems.push(path, format!("{name} refers to {id}, but the document defines no {what} with that ObjectId"));
    }
}
