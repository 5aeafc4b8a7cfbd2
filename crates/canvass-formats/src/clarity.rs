//! Clarity Elections (Scytl) ENR "detail" XML, the precinct-level export many counties' results
//! pages offer (`detail.xml`; see `shared/data/results/clarity`):
//!
//! ```text
//! ElectionResult
//!   ElectionName, ElectionDate (M/D/YYYY), Region (the county)
//!   VoterTurnout
//!     Precincts / Precinct @name @totalVoters @ballotsCast
//!   Contest @key @text @voteFor @isQuestion
//!     VoteType @name (Undervotes, Overvotes)    -- not choices: skipped
//!     Choice @key @text @party @totalVotes
//!       VoteType @name @votes                   -- Election, Absentee, Early Voting...
//!         Precinct @name @votes
//! ```
//!
//! The document is streamed; a choice's counts are gathered per precinct across its vote types
//! and checked: each vote type's `votes` must equal the sum of its precincts, and the choice's
//! `totalVotes` the sum of its vote types. A vote type whose name Canvass does not know is a
//! problem (guessing would put votes in the wrong column). A document that is not well-formed or
//! whose root is not `ElectionResult` is refused whole.

use std::{collections::BTreeMap, io::BufRead};

use quick_xml::{
    Reader, XmlVersion,
    escape::resolve_xml_entity,
    events::{BytesStart, Event},
};
use time::{Date, Month};

use crate::{
    FormatsError,
    reported::{Location, ReportedContest, ReportedCount, ReportedPrecinct, ReportedResults, VoteType, parse_count},
};

/// The deepest nesting a detail file needs is five; anything far deeper is hostile.
const MAX_DEPTH: usize = 16;

/// An element's local name and attributes, decoded.
struct Element {
    name: String,
    attributes: Vec<(String, String)>,
}

impl Element {
    fn read(start: &BytesStart<'_>) -> Result<Self, FormatsError> {
        let name = start.local_name().as_ref().to_owned();
        let mut attributes = Vec::new();
        for attribute in start.attributes() {
            let attribute =
                attribute.map_err(|error| FormatsError::Refused(format!("<{name}>: bad attribute: {error}")))?;
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|error| FormatsError::Refused(format!("<{name}>: bad attribute: {error}")))?;
            let key = attribute.key.local_name().as_ref().to_owned();
            attributes.push((key, value.trim().to_owned()));
        }
        Ok(Self { name, attributes })
    }

    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

/// The contest being read.
struct OpenContest {
    name: String,
    key: String,
}

/// The choice being read, with its counts gathered per precinct.
struct OpenChoice {
    name: String,
    key: String,
    party: Option<String>,
    total: Option<Result<u64, String>>,
    by_precinct: BTreeMap<String, Vec<(VoteType, u64)>>,
    /// Sum of the vote types' own `votes`, to check `totalVotes` against.
    vote_types_total: u64,
    faulty: bool,
}

/// The vote type being read under a choice (`None` for a contest-level one, which is skipped).
struct OpenVoteType {
    kind: Option<VoteType>,
    name: String,
    votes: Option<u64>,
    precincts_total: u64,
}

/// Where the reader is.
#[derive(Default)]
struct State {
    path: Vec<String>,
    text: String,
    contest: Option<OpenContest>,
    choice: Option<OpenChoice>,
    vote_type: Option<OpenVoteType>,
    county: Option<String>,
}

impl State {
    fn location(&self, leaf: Option<String>) -> Location {
        let mut parts = Vec::new();
        if let Some(contest) = &self.contest {
            parts.push(format!("Contest[key={}]", contest.key));
        }
        if let Some(choice) = &self.choice {
            parts.push(format!("Choice[key={}]", choice.key));
        }
        if let Some(vote_type) = &self.vote_type {
            parts.push(format!("VoteType[name={}]", vote_type.name));
        }
        parts.extend(leaf);
        Location::Element(parts.join("/"))
    }
}

/// Reads a Clarity detail XML document whole.
pub fn read(input: impl BufRead) -> Result<ReportedResults, FormatsError> {
    let mut reader = Reader::from_reader(input);
    let mut buffer = Vec::new();
    let mut state = State::default();
    let mut results = ReportedResults::default();
    let mut seen_root = false;
    loop {
        let event = reader.read_event_into(&mut buffer).map_err(|error| {
            FormatsError::Refused(format!(
                "the document is not well-formed XML (near byte {}): {error}",
                reader.buffer_position()
            ))
        })?;
        match event {
            Event::Start(start) => {
                let element = Element::read(&start)?;
                check_root(&mut seen_root, &state, &element)?;
                if state.path.len() >= MAX_DEPTH {
                    return Err(FormatsError::Refused(format!("elements nest deeper than {MAX_DEPTH}")));
                }
                state.text.clear();
                open(&mut state, &element, &mut results);
                state.path.push(element.name);
            }
            Event::Empty(start) => {
                let element = Element::read(&start)?;
                check_root(&mut seen_root, &state, &element)?;
                open(&mut state, &element, &mut results);
                close(&mut state, &element.name, &mut results);
            }
            Event::End(_) => {
                let Some(name) = state.path.pop() else {
                    return Err(FormatsError::Refused("the document closes an element it never opened".into()));
                };
                close(&mut state, &name, &mut results);
            }
            Event::Text(text) => state.text.push_str(&text.xml10_content()),
            Event::CData(data) => state.text.push_str(&data.xml10_content()),
            Event::GeneralRef(reference) => {
                let character = reference.resolve_char_ref().map_err(|error| {
                    FormatsError::Refused(format!("the document has a bad character reference: {error}"))
                })?;
                match (character, resolve_xml_entity(&reference)) {
                    (Some(character), _) => state.text.push(character),
                    (None, Some(text)) => state.text.push_str(text),
                    (None, None) => {
                        return Err(FormatsError::Refused(format!(
                            "the document uses an unknown entity &{};",
                            &*reference
                        )));
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    if !seen_root {
        return Err(FormatsError::Refused("the document is empty: no ElectionResult".into()));
    }
    if !state.path.is_empty() {
        return Err(FormatsError::Refused(format!(
            "the document is cut short: <{}> is never closed",
            state.path.last().map_or("", String::as_str)
        )));
    }
    for count in &mut results.counts {
        count.county.clone_from(&state.county);
    }
    for precinct in &mut results.precincts {
        precinct.county.clone_from(&state.county);
    }
    Ok(results)
}

fn check_root(seen_root: &mut bool, state: &State, element: &Element) -> Result<(), FormatsError> {
    if state.path.is_empty() {
        if *seen_root || element.name != "ElectionResult" {
            return Err(FormatsError::Refused(format!(
                "this is not a Clarity detail file: its root element is <{}>, not <ElectionResult>",
                element.name
            )));
        }
        *seen_root = true;
    }
    Ok(())
}

/// Whether the element's parent is `parent` (the element itself is not on the path yet).
fn under(state: &State, parent: &str) -> bool {
    state.path.last().is_some_and(|name| name == parent)
}

fn open(state: &mut State, element: &Element, results: &mut ReportedResults) {
    match element.name.as_str() {
        "Contest" if under(state, "ElectionResult") => open_contest(state, element, results),
        "Choice" if under(state, "Contest") => {
            state.choice = Some(OpenChoice {
                name: element.attribute("text").unwrap_or_default().to_owned(),
                key: element.attribute("key").unwrap_or("?").to_owned(),
                party: element.attribute("party").filter(|party| !party.is_empty()).map(str::to_owned),
                total: element.attribute("totalVotes").map(|text| parse_count("totalVotes", text)),
                by_precinct: BTreeMap::new(),
                vote_types_total: 0,
                faulty: false,
            });
        }
        "VoteType" if under(state, "Choice") => open_vote_type(state, element, results),
        "Precinct" if under(state, "VoteType") && state.vote_type.is_some() => {
            precinct_votes(state, element, results);
        }
        "Precinct" if under(state, "Precincts") => turnout(state, element, results),
        _ => {}
    }
}

fn open_contest(state: &mut State, element: &Element, results: &mut ReportedResults) {
    let key = element.attribute("key").unwrap_or("?").to_owned();
    let name = element.attribute("text").unwrap_or_default().to_owned();
    state.contest = Some(OpenContest { name: name.clone(), key });
    let location = state.location(None);
    if name.is_empty() {
        results.problem(location.clone(), "the contest has no text (its name)");
    }
    let vote_for = match element.attribute("voteFor").map(|text| parse_count("voteFor", text)) {
        None => None,
        Some(Ok(0)) => {
            results.problem(location.clone(), "voteFor is 0");
            None
        }
        Some(Ok(count)) => u32::try_from(count).ok(),
        Some(Err(message)) => {
            results.problem(location.clone(), message);
            None
        }
    };
    let is_question = element.attribute("isQuestion").is_some_and(|text| text.eq_ignore_ascii_case("true"));
    results.contests.push(ReportedContest { location, name, vote_for, is_question });
}

fn open_vote_type(state: &mut State, element: &Element, results: &mut ReportedResults) {
    let name = element.attribute("name").unwrap_or_default().to_owned();
    let kind = VoteType::from_label(&name);
    state.vote_type = Some(OpenVoteType { kind, name: name.clone(), votes: None, precincts_total: 0 });
    let location = state.location(None);
    if kind.is_none() {
        results.problem(
            location.clone(),
            format!(
                "the vote type {name:?} is not one Canvass knows (election day, early, absentee by mail, provisional)"
            ),
        );
    }
    match element.attribute("votes").map(|text| parse_count("votes", text)) {
        Some(Ok(votes)) => {
            if let Some(vote_type) = &mut state.vote_type {
                vote_type.votes = Some(votes);
            }
        }
        Some(Err(message)) => results.problem(location, message),
        None => {}
    }
    if kind.is_none()
        && let Some(choice) = &mut state.choice
    {
        choice.faulty = true;
    }
}

fn precinct_votes(state: &mut State, element: &Element, results: &mut ReportedResults) {
    let precinct = element.attribute("name").unwrap_or_default().to_owned();
    let location = state.location(Some(format!("Precinct[name={precinct}]")));
    if precinct.is_empty() {
        results.problem(location.clone(), "the precinct has no name");
    }
    let votes = match parse_count("votes", element.attribute("votes").unwrap_or_default()) {
        Ok(votes) => votes,
        Err(message) => {
            results.problem(location, message);
            if let Some(choice) = &mut state.choice {
                choice.faulty = true;
            }
            return;
        }
    };
    let (Some(vote_type), Some(choice)) = (&mut state.vote_type, &mut state.choice) else { return };
    vote_type.precincts_total = vote_type.precincts_total.saturating_add(votes);
    let Some(kind) = vote_type.kind else { return };
    let parts = choice.by_precinct.entry(precinct).or_default();
    if parts.iter().any(|(seen, _)| *seen == kind) {
        results.problem(location, format!("the precinct appears twice under the vote type {}", kind.as_str()));
        choice.faulty = true;
        return;
    }
    parts.push((kind, votes));
}

fn turnout(state: &State, element: &Element, results: &mut ReportedResults) {
    let precinct = element.attribute("name").unwrap_or_default().to_owned();
    let location = Location::Element(format!("VoterTurnout/Precincts/Precinct[name={precinct}]"));
    if precinct.is_empty() {
        return results.problem(location, "the precinct has no name");
    }
    let mut read = |field: &str| match element.attribute(field).map(|text| parse_count(field, text)) {
        Some(Ok(count)) => Some(count),
        Some(Err(message)) => {
            results.problem(location.clone(), message);
            None
        }
        None => None,
    };
    let ballots_cast = read("ballotsCast");
    // Clarity writes totalVoters="0" when the county did not load registration counts.
    let registered_voters = read("totalVoters").filter(|count| *count > 0);
    results.precincts.push(ReportedPrecinct {
        location,
        county: state.county.clone(),
        precinct,
        ballots_cast,
        registered_voters,
    });
}

fn close(state: &mut State, name: &str, results: &mut ReportedResults) {
    match name {
        "ElectionName" if state.path.len() == 1 => {
            results.election_name = Some(state.text.trim().to_owned()).filter(|text| !text.is_empty());
        }
        "ElectionDate" if state.path.len() == 1 => election_date(state, results),
        "Region" if state.path.len() == 1 => {
            state.county = Some(state.text.trim().to_owned()).filter(|text| !text.is_empty());
        }
        "VoteType" if state.choice.is_some() => close_vote_type(state, results),
        "Choice" if state.contest.is_some() => close_choice(state, results),
        "Contest" => state.contest = None,
        _ => {}
    }
}

fn election_date(state: &State, results: &mut ReportedResults) {
    let text = state.text.trim();
    match parse_us_date(text) {
        Some(date) => results.election_date = Some(date),
        None => results
            .problem(Location::Element("ElectionDate".into()), format!("{text:?} is not a date written M/D/YYYY")),
    }
}

/// A date as Clarity writes it: `5/20/2014`.
fn parse_us_date(text: &str) -> Option<Date> {
    let mut parts = text.split('/');
    let month: u8 = parts.next()?.trim().parse().ok()?;
    let day: u8 = parts.next()?.trim().parse().ok()?;
    let year: i32 = parts.next()?.trim().parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

fn close_vote_type(state: &mut State, results: &mut ReportedResults) {
    let Some(vote_type) = state.vote_type.take() else { return };
    let Some(choice) = &mut state.choice else { return };
    let Some(votes) = vote_type.votes else {
        choice.vote_types_total = choice.vote_types_total.saturating_add(vote_type.precincts_total);
        return;
    };
    choice.vote_types_total = choice.vote_types_total.saturating_add(votes);
    if votes != vote_type.precincts_total {
        let location = Location::Element(format!(
            "Contest[key={}]/Choice[key={}]/VoteType[name={}]",
            state.contest.as_ref().map_or("?", |contest| contest.key.as_str()),
            choice.key,
            vote_type.name
        ));
        results.problem(location, format!("votes is {votes} but its precincts sum to {}", vote_type.precincts_total));
        choice.faulty = true;
    }
}

fn close_choice(state: &mut State, results: &mut ReportedResults) {
    let location = state.location(None);
    let Some(choice) = state.choice.take() else { return };
    let Some(contest) = &state.contest else { return };
    let mut faulty = choice.faulty;
    if choice.name.is_empty() {
        results.problem(location.clone(), "the choice has no text (its name)");
        faulty = true;
    }
    match choice.total {
        Some(Ok(total)) if total != choice.vote_types_total => {
            results.problem(
                location.clone(),
                format!("totalVotes is {total} but its vote types sum to {}", choice.vote_types_total),
            );
            faulty = true;
        }
        Some(Err(message)) => {
            results.problem(location.clone(), message);
            faulty = true;
        }
        _ => {}
    }
    if faulty {
        return;
    }
    for (precinct, mut parts) in choice.by_precinct {
        parts.sort_unstable();
        let total = parts.iter().map(|(_, votes)| votes).sum();
        results.counts.push(ReportedCount {
            location: Location::Element(format!(
                "Contest[key={}]/Choice[key={}]/Precinct[name={precinct}]",
                contest.key, choice.key
            )),
            county: None,
            precinct,
            contest: contest.name.clone(),
            district: None,
            party: choice.party.clone(),
            choice: choice.name.clone(),
            total,
            parts,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GREENUP: &str = "../../../shared/data/results/clarity/precinct.xml";

    fn check(text: &str) -> Result<ReportedResults, FormatsError> {
        read(text.as_bytes())
    }

    #[test]
    fn the_real_greenup_county_file_reads_without_a_problem() {
        let file = std::io::BufReader::new(std::fs::File::open(GREENUP).expect("the shared Clarity file"));
        let results = read(file).expect("the file reads");
        assert_eq!(results.problems, Vec::new());
        assert_eq!(results.election_name.as_deref(), Some("2014 Primary Election"));
        assert_eq!(results.election_date, Date::from_calendar_date(2014, Month::May, 20).ok());
        assert_eq!(results.precincts.len(), 33);
        let cast: u64 = results.precincts.iter().filter_map(|precinct| precinct.ballots_cast).sum();
        // The file's own VoterTurnout says ballotsCast="5926" for the county.
        assert_eq!(cast, 5_926);
        assert!(results.counts.iter().all(|count| count.county.as_deref() == Some("Greenup")));
        let senate = &results.contests[0];
        assert_eq!(
            (senate.name.as_str(), senate.vote_for, senate.is_question),
            ("US Senator - REPUBLICAN", Some(1), false)
        );
        // Each choice's totalVotes in the file equals what its precinct counts add up to.
        let bevin: u64 =
            results.counts.iter().filter(|count| count.choice == "Matt BEVIN").map(|count| count.total).sum();
        assert_eq!(bevin, 820);
    }

    const SMALL: &str = r#"<?xml version="1.0"?>
<ElectionResult>
  <ElectionName>Test</ElectionName><ElectionDate>11/3/2026</ElectionDate><Region>Alder</Region>
  <VoterTurnout totalVoters="100" ballotsCast="30"><Precincts>
    <Precinct name="P1" totalVoters="60" ballotsCast="20"/><Precinct name="P2" totalVoters="40" ballotsCast="10"/>
  </Precincts></VoterTurnout>
  <Contest key="1" text="Mayor" voteFor="1" isQuestion="false">
    <VoteType name="Undervotes" votes="1"><Precinct name="P1" votes="1"/></VoteType>
    <Choice key="1" text="Ada" party="DEM" totalVotes="15">
      <VoteType name="Election Day" votes="10"><Precinct name="P1" votes="7"/><Precinct name="P2" votes="3"/></VoteType>
      <VoteType name="Absentee by Mail" votes="5"><Precinct name="P1" votes="5"/><Precinct name="P2" votes="0"/></VoteType>
    </Choice>
    CHOICE2
  </Contest>
</ElectionResult>"#;

    #[test]
    fn a_choice_is_split_by_precinct_with_its_vote_types() {
        let results = check(&SMALL.replace("CHOICE2", "")).expect("reads");
        assert_eq!(results.problems, Vec::new());
        type Summary = (String, u64, Vec<(VoteType, u64)>);
        let summary: Vec<Summary> =
            results.counts.iter().map(|count| (count.precinct.clone(), count.total, count.parts.clone())).collect();
        assert_eq!(
            summary,
            [
                ("P1".to_owned(), 12, vec![(VoteType::ElectionDay, 7), (VoteType::AbsenteeByMail, 5)]),
                ("P2".to_owned(), 3, vec![(VoteType::ElectionDay, 3), (VoteType::AbsenteeByMail, 0)]),
            ]
        );
        assert_eq!(results.counts[0].party.as_deref(), Some("DEM"));
        assert_eq!(results.counts[0].county.as_deref(), Some("Alder"));
    }

    #[test]
    fn every_problem_is_listed_with_its_element() {
        let bad = r#"<Choice key="2" text="Bo" totalVotes="9">
      <VoteType name="Election Day" votes="4"><Precinct name="P1" votes="-1"/><Precinct name="P2" votes="3"/></VoteType>
      <VoteType name="Curbside" votes="2"><Precinct name="P1" votes="2"/></VoteType>
    </Choice>
    <Choice key="3" text="Cy" totalVotes="9">
      <VoteType name="Election Day" votes="4"><Precinct name="P1" votes="1"/><Precinct name="P2" votes="1"/></VoteType>
    </Choice>"#;
        let results = check(&SMALL.replace("CHOICE2", bad)).expect("reads");
        let listed: Vec<String> = results.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            listed,
            [
                "element Contest[key=1]/Choice[key=2]/VoteType[name=Election Day]/Precinct[name=P1]: votes is negative (-1)",
                "element Contest[key=1]/Choice[key=2]/VoteType[name=Election Day]: votes is 4 but its precincts sum to 3",
                "element Contest[key=1]/Choice[key=2]/VoteType[name=Curbside]: the vote type \"Curbside\" is not one Canvass knows (election day, early, absentee by mail, provisional)",
                "element Contest[key=1]/Choice[key=2]: totalVotes is 9 but its vote types sum to 6",
                "element Contest[key=1]/Choice[key=3]/VoteType[name=Election Day]: votes is 4 but its precincts sum to 2",
                "element Contest[key=1]/Choice[key=3]: totalVotes is 9 but its vote types sum to 4",
            ]
        );
        // Only the good choice's counts are kept.
        assert!(results.counts.iter().all(|count| count.choice == "Ada"));
    }

    #[test]
    fn documents_that_are_not_clarity_detail_files_are_refused() {
        let refusal = |text: &str| check(text).unwrap_err().to_string();
        assert!(refusal("<VipObject/>").contains("root element is <VipObject>"));
        assert!(refusal("").contains("empty"));
        assert!(refusal("<ElectionResult><Contest key=\"1\">").contains("cut short"));
        assert!(refusal("<ElectionResult><a></b></ElectionResult>").contains("not well-formed"));
        assert!(refusal(&format!("<ElectionResult>{}", "<x>".repeat(40))).contains("nest deeper"));
    }
}
