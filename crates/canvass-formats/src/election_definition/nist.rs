//! A NIST SP 1500-100 v2 report's definition part as an [`ElectionDefinition`].
//!
//! The precincts are the precinct-level units results are reported for: a precinct split into
//! split-precincts is replaced by its splits, and precincts joined into a combined-precinct by
//! the combination (NIST's GEN-01 reports Combined Precincts 1,4,5,6 and 3,7,8,9 and Precinct 2's
//! splits 2a and 2b: its four "precincts"). A contest covers the precincts inside its
//! `ElectionDistrictId` (its `ComposingGpUnitIds` followed down; a combination when any of its
//! parts is inside), or, when that holds none (results files often leave composition out), the
//! precincts with counts for it; precincts no contest covers are left out. A precinct's county is the county unit it (or, for a combination, one of
//! its parts) is part of; a file without any county unit puts every precinct in one county
//! named after the state. Write-in selections are not choices; a retention contest without
//! selections gets `Yes` and `No`; a straight-party contest is a candidate contest whose choices
//! are the parties.

use std::collections::{BTreeSet, HashMap, HashSet};

use canvass_core::{
    election::{Choice, ContestKind, Election, ElectionKind, VoteFor},
    id::{ElectionId, JurisdictionId, PrecinctId},
    name::Name,
    results::ElectionDefinition,
};

use super::{Builder, DefinitionScope};
use crate::{
    FormatsError,
    nist_results::{self, ElectionReport, ElectionType, GpUnit, IdentifierType, ReportingUnitType},
    reported::Location,
};

const ELECTION_PATH: &str = "ElectionReport/Election[1]";

/// The definition a report gives: its one election, its contests and their precincts.
pub fn from_nist(report: &ElectionReport, scope: &DefinitionScope) -> Result<ElectionDefinition, FormatsError> {
    let mut builder = Builder::new(scope);
    let [election] = report.elections.as_slice() else {
        let message =
            format!("the document holds {} elections: a definition is for exactly one", report.elections.len());
        builder.problem(Location::Element("ElectionReport".into()), message);
        return builder.finish(None);
    };
    let units = Units::new(report);
    let election_id = the_election(&mut builder, election);
    let precincts = units.precincts(&mut builder);
    if let Some(id) = &election_id {
        for contest in &election.contests {
            add_contest(&mut builder, &units, &precincts, report, election, id, contest);
        }
    }
    if election.contests.is_empty() {
        builder.problem(Location::Element(ELECTION_PATH.into()), "the election has no contests");
    }
    let election = election_id.and_then(|id| election_row(&mut builder, election, id));
    builder.keep_covered();
    builder.finish(election)
}

/// The election's id (made or given), with a problem when none can be.
fn the_election(builder: &mut Builder, election: &nist_results::Election) -> Option<ElectionId> {
    let location = Location::Element(ELECTION_PATH.into());
    builder.election_id(&location, election.name.text(), election.end_date)
}

fn election_row(builder: &mut Builder, election: &nist_results::Election, id: ElectionId) -> Option<Election> {
    let location = Location::Element(format!("{ELECTION_PATH}/Type"));
    let kind = match election.kind {
        ElectionType::General => Some(ElectionKind::General),
        ElectionType::Primary | ElectionType::PartisanPrimaryClosed | ElectionType::PartisanPrimaryOpen => {
            Some(ElectionKind::Primary)
        }
        ElectionType::Special | ElectionType::Runoff => Some(ElectionKind::Special),
        ElectionType::Other => election.other_type.as_deref().and_then(super::election_kind),
    };
    let Some(kind) = kind else {
        builder.problem(location, "the election type must be general, primary (any kind), special or runoff");
        return None;
    };
    let name = builder.name(&Location::Element(format!("{ELECTION_PATH}/Name")), "election", election.name.text())?;
    Some(Election { id, jurisdiction: builder.scope.jurisdiction.id.clone(), name, kind, date: election.end_date })
}

/// The document's reporting units with the links between them.
struct Units<'a> {
    all: Vec<&'a GpUnit>,
    by_id: HashMap<&'a str, &'a GpUnit>,
    parents: HashMap<&'a str, Vec<&'a GpUnit>>,
}

impl<'a> Units<'a> {
    fn new(report: &'a ElectionReport) -> Self {
        let mut parents: HashMap<&str, Vec<&GpUnit>> = HashMap::new();
        for unit in &report.gp_units {
            for part in &unit.composing_gp_unit_ids {
                parents.entry(part.as_str()).or_default().push(unit);
            }
        }
        Self {
            all: report.gp_units.iter().collect(),
            by_id: report.gp_units.iter().map(|unit| (unit.object_id.as_str(), unit)).collect(),
            parents,
        }
    }

    fn parts(&self, unit: &'a GpUnit) -> impl Iterator<Item = &'a GpUnit> + '_ {
        unit.composing_gp_unit_ids.iter().filter_map(|id| self.by_id.get(id.as_str()).copied())
    }

    /// Whether results are reported for the unit: a precinct-level unit that is neither split
    /// into precinct-level parts nor joined into a combined-precinct.
    fn is_reporting(&self, unit: &'a GpUnit) -> bool {
        let combined = unit.kind == ReportingUnitType::CombinedPrecinct;
        let split = !combined && self.parts(unit).any(|part| part.kind.is_precinct_level());
        let joined = self
            .parents
            .get(unit.object_id.as_str())
            .is_some_and(|parents| parents.iter().any(|parent| parent.kind == ReportingUnitType::CombinedPrecinct));
        unit.kind.is_precinct_level() && !split && !joined
    }

    /// Every unit `id` is made of, followed down, itself included.
    fn inside(&self, id: &'a str) -> HashSet<&'a str> {
        let mut seen: HashSet<&str> = HashSet::from([id]);
        let mut frontier = vec![id];
        while let Some(current) = frontier.pop() {
            let Some(unit) = self.by_id.get(current) else { continue };
            for part in &unit.composing_gp_unit_ids {
                if seen.insert(part.as_str()) {
                    frontier.push(part.as_str());
                }
            }
        }
        seen
    }

    /// The county unit `unit` is part of (followed up), or one of its parts is.
    fn county_of(&self, unit: &'a GpUnit) -> Option<&'a GpUnit> {
        self.county_above(unit).or_else(|| self.parts(unit).find_map(|part| self.county_above(part)))
    }

    fn county_above(&self, unit: &'a GpUnit) -> Option<&'a GpUnit> {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut frontier = vec![unit.object_id.as_str()];
        while let Some(id) = frontier.pop() {
            for parent in self.parents.get(id).into_iter().flatten() {
                if parent.kind == ReportingUnitType::County {
                    return Some(parent);
                }
                if seen.insert(parent.object_id.as_str()) {
                    frontier.push(parent.object_id.as_str());
                }
            }
        }
        None
    }

    /// The reporting units as precincts, by `ObjectId`.
    fn precincts(&self, builder: &mut Builder) -> Vec<(&'a GpUnit, PrecinctId)> {
        let any_county = self.all.iter().any(|unit| unit.kind == ReportingUnitType::County);
        let mut precincts = Vec::new();
        for &unit in self.all.iter().filter(|unit| self.is_reporting(unit)) {
            let location = Location::Element(format!("ElectionReport/GpUnit[{}]", unit.object_id));
            let county = match self.county_of(unit) {
                Some(county) => builder.county(&location, county.label(), ocd_id(county)),
                None if !any_county => {
                    let state = builder.scope.jurisdiction.name.as_str().to_owned();
                    builder.county(&location, &state, None)
                }
                None => {
                    builder.problem(location.clone(), "the precinct is not part of any county unit");
                    None
                }
            };
            let Some(county) = county else { continue };
            if let Some(id) = builder.precinct(&location, &county, unit.label(), ocd_id(unit)) {
                precincts.push((unit, id));
            }
        }
        if precincts.is_empty() {
            builder.problem(Location::Element("ElectionReport".into()), "the document has no precinct-level unit");
        }
        precincts
    }
}

fn ocd_id(unit: &GpUnit) -> Option<&str> {
    let identifier = unit.external_identifiers.iter().find(|identifier| identifier.kind == IdentifierType::OcdId)?;
    JurisdictionId::parse(identifier.value.trim()).ok().map(|_| identifier.value.trim())
}

fn add_contest(
    builder: &mut Builder,
    units: &Units,
    precincts: &[(&GpUnit, PrecinctId)],
    report: &ElectionReport,
    election: &nist_results::Election,
    election_id: &ElectionId,
    contest: &nist_results::Contest,
) {
    let location = Location::Element(format!("{ELECTION_PATH}/Contest[{}]", contest.object_id));
    let inside = units.inside(contest.election_district_id.as_str());
    let mut covered: BTreeSet<PrecinctId> = precincts
        .iter()
        .filter(|(unit, _)| {
            inside.contains(unit.object_id.as_str())
                || (unit.kind == ReportingUnitType::CombinedPrecinct
                    && unit.composing_gp_unit_ids.iter().any(|part| inside.contains(part.as_str())))
        })
        .map(|(_, id)| id.clone())
        .collect();
    if covered.is_empty() {
        // A results file often leaves its districts' composition out (NIST's own err-gen-01
        // does): the precincts with counts for the contest are the ones that vote on it.
        let counted: HashSet<&str> = contest
            .selections
            .iter()
            .flat_map(|selection| selection.vote_counts.iter().map(|counts| counts.gp_unit_id.as_str()))
            .chain(contest.other_counts.iter().map(|counts| counts.gp_unit_id.as_str()))
            .collect();
        covered = precincts
            .iter()
            .filter(|(unit, _)| counted.contains(unit.object_id.as_str()))
            .map(|(_, id)| id.clone())
            .collect();
    }
    let (kind, votes_allowed) = match &contest.kind {
        nist_results::ContestKind::Candidate { votes_allowed, .. } => (ContestKind::Candidate, *votes_allowed),
        nist_results::ContestKind::BallotMeasure { .. } => (ContestKind::BallotMeasure, 1),
        nist_results::ContestKind::Retention { .. } => (ContestKind::Retention, 1),
        nist_results::ContestKind::Party => (ContestKind::Candidate, 1),
    };
    let Some(vote_for) = u32::try_from(votes_allowed).ok().and_then(|count| VoteFor::parse(count).ok()) else {
        builder.problem(location, format!("VotesAllowed is {votes_allowed}: it must be between 1 and 99"));
        return;
    };
    let mut choices = Vec::new();
    for selection in &contest.selections {
        let selection_location = Location::Element(format!(
            "{ELECTION_PATH}/Contest[{}]/ContestSelection[{}]",
            contest.object_id, selection.object_id
        ));
        if let Some((name, party)) = choice(report, election, &selection.choice) {
            let Some(name) = builder.name(&selection_location, "choice", &name) else { continue };
            if choices.iter().any(|known: &Choice| known.name.as_str().eq_ignore_ascii_case(name.as_str())) {
                builder.problem(selection_location, format!("the choice {} is listed twice", name.as_str()));
                continue;
            }
            choices.push(Choice { name, party });
        }
    }
    if choices.is_empty() && kind == ContestKind::Retention {
        choices = ["Yes", "No"]
            .iter()
            .filter_map(|answer| Name::parse(answer).ok())
            .map(|name| Choice { name, party: None })
            .collect();
    }
    builder.contest(&location, election_id, &contest.object_id, &contest.name, kind, vote_for, choices, covered);
}

/// A selection's name and party as results files name it (candidates joined by ` / `, the
/// party's full name); `None` for a write-in.
fn choice(
    report: &ElectionReport,
    election: &nist_results::Election,
    choice: &nist_results::Choice,
) -> Option<(String, Option<String>)> {
    let party_name =
        |id: &str| report.parties.iter().find(|party| party.object_id == id).map(|party| party.name.text().to_owned());
    match choice {
        nist_results::Choice::Candidates { is_write_in: Some(true), .. } => None,
        nist_results::Choice::Candidates { candidate_ids, .. } => {
            let candidates: Vec<&nist_results::Candidate> = candidate_ids
                .iter()
                .filter_map(|id| election.candidates.iter().find(|candidate| &candidate.object_id == id))
                .collect();
            if candidates.is_empty() {
                return None;
            }
            let names: Vec<&str> = candidates.iter().map(|candidate| candidate.ballot_name.text()).collect();
            let party = candidates.iter().find_map(|candidate| candidate.party_id.as_deref()).and_then(party_name);
            Some((names.join(" / "), party))
        }
        nist_results::Choice::BallotMeasure { selection } => Some((selection.text().to_owned(), None)),
        nist_results::Choice::Parties { party_ids } => {
            let names: Vec<String> = party_ids.iter().filter_map(|id| party_name(id)).collect();
            let names = names.join(" / ");
            Some((names.clone(), Some(names)))
        }
    }
}
