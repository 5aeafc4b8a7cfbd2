//! A report's results as [`crate::reported`] counts, the shape every county results format is
//! checked in: the counts at precinct-level units apart from those at the units that aggregate
//! them (a county, a district), which are checked against the precincts' sums later.

use std::collections::{HashMap, HashSet};

use super::{
    BallotCounts, Choice, Contest, ContestKind, ContestSelection, CountItemType, Election, ElectionReport, GpUnit,
    ReportingUnitType, VoteCounts,
};
use crate::{
    nist_document::Vocabulary,
    reported::{Location, ReportedContest, ReportedCount, ReportedPrecinct, ReportedResults, VoteType, check_parts},
};

/// A report's results split by level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportedByLevel {
    /// The counts at precinct-level units (precincts, split and combined precincts) and what is
    /// reported about those units; every problem found, at any level, is in its `problems`.
    pub precincts: ReportedResults,
    /// The counts at every other unit (a county, the state, a district): aggregates of the
    /// precincts' counts. Their `precinct` is the unit's name.
    pub aggregates: ReportedResults,
}

impl ElectionReport {
    /// The report's results as reported counts, by level. A results upload is for one election:
    /// a report holding none or several has that problem and no counts. Problems also: a unit's
    /// vote types that do not sum to its `total`, a type counted twice for one unit, and
    /// counts at both a precinct-level unit and one it is made of (the same ballots twice).
    ///
    /// Vote types: `election-day` is election day; `early` and `absentee-in-person` early;
    /// `absentee-mail`, `absentee`, `absentee-fwab` and `uocava` absentee by mail;
    /// `provisional` provisional; `write-in` and `other` count in the total but leave the
    /// breakdown out; `seats` is not votes and is ignored.
    pub fn reported(&self) -> ReportedByLevel {
        let mut by_level = ReportedByLevel::default();
        let [election] = self.elections.as_slice() else {
            by_level.precincts.problem(
                Location::Element("ElectionReport".into()),
                format!("the document holds {} elections: a results file is for exactly one", self.elections.len()),
            );
            return by_level;
        };
        Converter::new(self, election).convert(&mut by_level);
        by_level
    }
}

/// What converting needs to look up: the report's units, parties and candidates by id.
struct Converter<'a> {
    election: &'a Election,
    units: HashMap<&'a str, &'a GpUnit>,
    party_names: HashMap<&'a str, &'a str>,
    candidates: HashMap<&'a str, &'a super::Candidate>,
    /// Each unit's county, found once: counts look it up for every selection.
    counties: HashMap<&'a str, Option<String>>,
}

const ELECTION_PATH: &str = "ElectionReport/Election[1]";

impl<'a> Converter<'a> {
    fn new(report: &'a ElectionReport, election: &'a Election) -> Self {
        let mut parents: HashMap<&str, Vec<&GpUnit>> = HashMap::new();
        for unit in &report.gp_units {
            for child in &unit.composing_gp_unit_ids {
                parents.entry(child.as_str()).or_default().push(unit);
            }
        }
        let counties = report.gp_units.iter().map(|unit| (unit.object_id.as_str(), county(&parents, unit))).collect();
        Self {
            election,
            units: report.gp_units.iter().map(|unit| (unit.object_id.as_str(), unit)).collect(),
            counties,
            party_names: report.parties.iter().map(|party| (party.object_id.as_str(), party.name.text())).collect(),
            candidates: election.candidates.iter().map(|candidate| (candidate.object_id.as_str(), candidate)).collect(),
        }
    }

    fn convert(&self, by_level: &mut ReportedByLevel) {
        let name = Some(self.election.name.text().to_owned()).filter(|name| !name.is_empty());
        // A one-day election's day; for a longer one, its last (election) day.
        for results in [&mut by_level.precincts, &mut by_level.aggregates] {
            results.election_name.clone_from(&name);
            results.election_date = Some(self.election.end_date);
            results.contests = self.election.contests.iter().map(reported_contest).collect();
        }
        // Precinct-level units with counts, in the order they first appear.
        let mut reported_units: Vec<&str> = Vec::new();
        let mut seen_units: HashSet<&str> = HashSet::new();
        for contest in &self.election.contests {
            let mut write_ins = 0;
            for selection in &contest.selections {
                if matches!(selection.choice, Choice::Candidates { is_write_in: Some(true), .. }) {
                    write_ins += 1;
                }
                let choice = self.choice(selection, write_ins);
                for (unit_id, counts) in by_unit(&selection.vote_counts) {
                    let Some(unit) = self.units.get(unit_id) else { continue };
                    let location = Location::Element(format!(
                        "{ELECTION_PATH}/Contest[{}]/ContestSelection[{}]/VoteCounts[GpUnitId={unit_id}]",
                        contest.object_id, selection.object_id
                    ));
                    let results = if unit.kind.is_precinct_level() {
                        if seen_units.insert(unit_id) {
                            reported_units.push(unit_id);
                        }
                        &mut by_level.precincts
                    } else {
                        &mut by_level.aggregates
                    };
                    match split(&counts) {
                        Ok((total, parts)) => {
                            results.counts.push(self.count(contest, &choice, unit, location, total, parts));
                        }
                        Err(message) => by_level.precincts.problem(location, message),
                    }
                }
            }
        }
        self.check_overlaps(&reported_units, &seen_units, &mut by_level.precincts);
        let mut ballot_counts: HashMap<&str, Vec<&BallotCounts>> = HashMap::new();
        for counts in &self.election.ballot_counts {
            let unit_id = counts.gp_unit_id.as_str();
            if self.units.get(unit_id).is_some_and(|unit| unit.kind.is_precinct_level()) && seen_units.insert(unit_id) {
                reported_units.push(unit_id);
            }
            ballot_counts.entry(unit_id).or_default().push(counts);
        }
        for unit_id in reported_units {
            if let Some(unit) = self.units.get(unit_id) {
                let counts = ballot_counts.get(unit_id).map_or(&[][..], Vec::as_slice);
                by_level.precincts.precincts.push(self.precinct(unit, counts));
            }
        }
    }

    /// Precinct-level counts are summed into every total: a unit reported alongside a unit it
    /// is made of (a precinct and its split, a combined precinct and a member) would count the
    /// same ballots twice.
    fn check_overlaps(&self, reported_units: &[&str], reported: &HashSet<&str>, results: &mut ReportedResults) {
        for &unit_id in reported_units {
            let mut seen: HashSet<&str> = HashSet::new();
            let mut frontier: Vec<&str> = vec![unit_id];
            while let Some(id) = frontier.pop() {
                let Some(unit) = self.units.get(id) else { continue };
                for part in &unit.composing_gp_unit_ids {
                    let part = part.as_str();
                    if !seen.insert(part) {
                        continue;
                    }
                    if reported.contains(part) {
                        results.problem(
                            Location::Element(format!("ElectionReport/GpUnit[{unit_id}]")),
                            format!(
                                "counts are reported for {unit_id} and for {part}, which is part of it: its votes would count twice"
                            ),
                        );
                    }
                    frontier.push(part);
                }
            }
        }
    }

    fn count(
        &self,
        contest: &Contest,
        (choice, party): &(String, Option<String>),
        unit: &GpUnit,
        location: Location,
        total: u64,
        parts: Vec<(VoteType, u64)>,
    ) -> ReportedCount {
        ReportedCount {
            location,
            county: self.county(unit),
            precinct: unit.label().to_owned(),
            contest: contest.name.clone(),
            district: self.units.get(contest.election_district_id.as_str()).map(|unit| unit.label().to_owned()),
            party: party.clone(),
            choice: choice.clone(),
            total,
            parts,
        }
    }

    /// The selection as a name (a ticket's names joined by ` / `) and its party. A vote-for-N
    /// contest has N write-in lines: `Write-in`, `Write-in 2`... (`write_ins` counts them so
    /// far).
    fn choice(&self, selection: &ContestSelection, write_ins: usize) -> (String, Option<String>) {
        match &selection.choice {
            Choice::Candidates { candidate_ids, is_write_in } => {
                let candidates: Vec<&super::Candidate> =
                    candidate_ids.iter().filter_map(|id| self.candidates.get(id.as_str()).copied()).collect();
                let names: Vec<&str> = candidates.iter().map(|candidate| candidate.ballot_name.text()).collect();
                let party = candidates
                    .iter()
                    .find_map(|candidate| candidate.party_id.as_deref())
                    .and_then(|id| self.party_names.get(id))
                    .map(|name| (*name).to_owned());
                let choice = match (names.is_empty(), is_write_in) {
                    (false, _) => names.join(" / "),
                    (true, Some(true)) if write_ins > 1 => format!("Write-in {write_ins}"),
                    (true, Some(true)) => "Write-in".to_owned(),
                    (true, _) => selection.object_id.clone(),
                };
                (choice, party)
            }
            Choice::BallotMeasure { selection } => (selection.text().to_owned(), None),
            Choice::Parties { party_ids } => {
                let names: Vec<&str> =
                    party_ids.iter().filter_map(|id| self.party_names.get(id.as_str()).copied()).collect();
                let names = names.join(" / ");
                (names.clone(), Some(names))
            }
        }
    }

    fn county(&self, unit: &GpUnit) -> Option<String> {
        self.counties.get(unit.object_id.as_str()).cloned().flatten()
    }

    fn precinct(&self, unit: &GpUnit, counts: &[&BallotCounts]) -> ReportedPrecinct {
        let total = counts.iter().find(|counts| counts.kind == CountItemType::Total);
        let ballots_cast = match total {
            Some(total) => total.ballots_cast,
            None => counts.iter().filter_map(|counts| counts.ballots_cast).reduce(u64::saturating_add),
        };
        ReportedPrecinct {
            location: Location::Element(format!("ElectionReport/GpUnit[{}]", unit.object_id)),
            county: self.county(unit),
            precinct: unit.label().to_owned(),
            ballots_cast,
            registered_voters: unit.voters_registered,
        }
    }
}

/// The name of the nearest county holding the unit, through `ComposingGpUnitIds` (`parents`
/// maps a unit to those it is part of).
fn county(parents: &HashMap<&str, Vec<&GpUnit>>, unit: &GpUnit) -> Option<String> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut frontier: Vec<&str> = vec![unit.object_id.as_str()];
    while let Some(id) = frontier.pop() {
        for parent in parents.get(id).into_iter().flatten() {
            if parent.kind == ReportingUnitType::County {
                return Some(parent.label().to_owned());
            }
            if seen.insert(parent.object_id.as_str()) {
                frontier.push(parent.object_id.as_str());
            }
        }
    }
    None
}

fn reported_contest(contest: &Contest) -> ReportedContest {
    let (vote_for, is_question) = match &contest.kind {
        ContestKind::Candidate { votes_allowed, .. } => (u32::try_from(*votes_allowed).ok(), false),
        ContestKind::BallotMeasure { .. } | ContestKind::Retention { .. } => (Some(1), true),
        ContestKind::Party => (Some(1), false),
    };
    ReportedContest {
        location: Location::Element(format!("{ELECTION_PATH}/Contest[{}]", contest.object_id)),
        name: contest.name.clone(),
        vote_for,
        is_question,
    }
}

/// A selection's counts grouped by unit, units in the order they first appear.
fn by_unit(counts: &[VoteCounts]) -> Vec<(&str, Vec<&VoteCounts>)> {
    let mut groups: Vec<(&str, Vec<&VoteCounts>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for count in counts {
        let unit = count.gp_unit_id.as_str();
        match index.get(unit).and_then(|&position| groups.get_mut(position)) {
            Some((_, group)) => group.push(count),
            None => {
                index.insert(unit, groups.len());
                groups.push((unit, vec![count]));
            }
        }
    }
    groups
}

/// Where a count of a `CountItemType` goes.
enum Slot {
    Total,
    Part(VoteType),
    /// Votes with no vote type of ours (`write-in`, `other`): they count in the total, and the
    /// breakdown cannot be given.
    Unsplit,
    /// Not votes (`seats`).
    Ignored,
}

fn slot(kind: CountItemType) -> Slot {
    match kind {
        CountItemType::Total => Slot::Total,
        CountItemType::ElectionDay => Slot::Part(VoteType::ElectionDay),
        CountItemType::Early | CountItemType::AbsenteeInPerson => Slot::Part(VoteType::Early),
        // Overseas and military ballots (UOCAVA, the federal write-in absentee ballot) are
        // absentee ballots returned from afar.
        CountItemType::AbsenteeMail | CountItemType::Absentee | CountItemType::AbsenteeFwab | CountItemType::Uocava => {
            Slot::Part(VoteType::AbsenteeByMail)
        }
        CountItemType::Provisional => Slot::Part(VoteType::Provisional),
        CountItemType::WriteIn | CountItemType::Other => Slot::Unsplit,
        CountItemType::Seats => Slot::Ignored,
    }
}

/// One selection's counts in one unit as a total and its parts by vote type: the `total`
/// count, or the sum of the others when there is none; the parts must sum to it.
fn split(counts: &[&VoteCounts]) -> Result<(u64, Vec<(VoteType, u64)>), String> {
    let mut seen: HashSet<(CountItemType, Option<&str>)> = HashSet::new();
    let mut total = None;
    let mut parts: Vec<(VoteType, u64)> = Vec::new();
    let mut unsplit: Option<u64> = None;
    for count in counts {
        if !seen.insert((count.kind, count.other_type.as_deref())) {
            return Err(format!("the unit has two counts of type {}", count.kind.as_str()));
        }
        let overflow = || "the counts sum past the largest count".to_owned();
        match slot(count.kind) {
            Slot::Total => total = Some(count.count),
            Slot::Part(kind) => match parts.iter_mut().find(|(part, _)| *part == kind) {
                Some((_, votes)) => *votes = votes.checked_add(count.count).ok_or_else(overflow)?,
                None => parts.push((kind, count.count)),
            },
            Slot::Unsplit => unsplit = Some(unsplit.unwrap_or(0).checked_add(count.count).ok_or_else(overflow)?),
            Slot::Ignored => {}
        }
    }
    parts.sort();
    let parts_sum = parts
        .iter()
        .try_fold(unsplit.unwrap_or(0), |sum, (_, votes)| sum.checked_add(*votes))
        .ok_or("the counts sum past the largest count")?;
    let total = total.unwrap_or(parts_sum);
    if unsplit.is_some() {
        if parts_sum != total {
            return Err(format!("the vote types sum to {parts_sum}, not the total {total}"));
        }
        return Ok((total, Vec::new()));
    }
    check_parts(total, &parts)?;
    Ok((total, parts))
}
