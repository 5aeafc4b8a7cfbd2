//! Election-night results: what an election asks ([`ElectionDefinition`]: its contests, the
//! counties and precincts that report, and which precincts vote on which contest), what each
//! precinct reported ([`PrecinctReturn`]), the rules an upload must pass before it is accepted
//! ([`check_returns`]), and the sums the public site shows ([`tally`]: precinct -> county ->
//! state, precincts reporting, turnout).
//!
//! Everything here is pure: the store loads the pieces, the server maps a county's file onto a
//! definition, and the publication code renders what [`tally`] returns. Results are public
//! records, so problems may quote the numbers at fault.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    election::{Contest, Election},
    id::{ContestId, JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, Precinct},
};

/// How a ballot was cast, as results are broken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoteType {
    ElectionDay,
    /// Early in-person voting (Georgia's "advance in person", North Carolina's "one-stop").
    Early,
    AbsenteeByMail,
    Provisional,
}

impl VoteType {
    pub const ALL: [Self; 4] = [Self::ElectionDay, Self::Early, Self::AbsenteeByMail, Self::Provisional];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ElectionDay => "election_day",
            Self::Early => "early",
            Self::AbsenteeByMail => "absentee_by_mail",
            Self::Provisional => "provisional",
        }
    }

    /// The words a results page shows for the vote type.
    pub fn label(self) -> &'static str {
        match self {
            Self::ElectionDay => "Election day",
            Self::Early => "Early in person",
            Self::AbsenteeByMail => "Absentee by mail",
            Self::Provisional => "Provisional",
        }
    }

    /// The vote type a results file means by a column or vote-type name, across the spellings
    /// OpenElections layouts and Clarity exports use; `None` for a name that is not one.
    pub fn from_label(label: &str) -> Option<Self> {
        let folded: String =
            label.trim().chars().filter(|character| character.is_ascii_alphanumeric()).collect::<String>();
        match folded.to_ascii_lowercase().as_str() {
            "electionday" | "election" | "electiondayvotes" | "inperson" | "pollingplace" => Some(Self::ElectionDay),
            "early" | "earlyvoting" | "earlyvote" | "advance" | "advanceinperson" | "advancedvoting"
            | "advancedvotes" | "onestop" | "absenteeinperson" => Some(Self::Early),
            "absenteebymail" | "absentee" | "mail" | "bymail" | "absenteemail" | "mailin" | "mailballots" => {
                Some(Self::AbsenteeByMail)
            }
            "provisional" | "provisionalvotes" | "provisionals" => Some(Self::Provisional),
            _ => None,
        }
    }

    fn index(self) -> usize {
        match self {
            Self::ElectionDay => 0,
            Self::Early => 1,
            Self::AbsenteeByMail => 2,
            Self::Provisional => 3,
        }
    }
}

/// Votes split by vote type, in [`VoteType::ALL`] order. A file that does not split its counts
/// leaves every part zero and only the total set, so `total` is kept apart from the parts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Votes {
    pub total: u64,
    /// Zero everywhere when the count was reported as a total only.
    pub by_type: [u64; 4],
}

impl Votes {
    pub fn total_only(total: u64) -> Self {
        Self { total, by_type: [0; 4] }
    }

    /// A count given by its parts; `None` when they overflow.
    pub fn from_parts(parts: &[(VoteType, u64)]) -> Option<Self> {
        let mut votes = Self::default();
        for (kind, count) in parts {
            let slot = &mut votes.by_type[kind.index()];
            *slot = slot.checked_add(*count)?;
            votes.total = votes.total.checked_add(*count)?;
        }
        Some(votes)
    }

    pub fn of(&self, kind: VoteType) -> u64 {
        self.by_type[kind.index()]
    }

    /// Whether the count carries a split by vote type.
    pub fn is_split(&self) -> bool {
        self.by_type.iter().any(|part| *part > 0)
    }

    /// Whether the parts, when given, sum to the total.
    pub fn parts_agree(&self) -> bool {
        !self.is_split() || self.by_type.iter().try_fold(0u64, |sum, part| sum.checked_add(*part)) == Some(self.total)
    }

    /// Adds another count in; sums saturate, which no real election reaches.
    pub fn add(&mut self, other: &Votes) {
        self.total = self.total.saturating_add(other.total);
        for (mine, theirs) in self.by_type.iter_mut().zip(other.by_type) {
            *mine = mine.saturating_add(theirs);
        }
    }
}

/// What an election asks and where: the election, its contests (choices in ballot order; a
/// choice is named by its index in `Contest::choices`), the counties and precincts that report,
/// and which precincts vote on each contest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElectionDefinition {
    pub election: Election,
    pub contests: Vec<Contest>,
    /// The counties whose precincts report, each a jurisdiction of the node's tree.
    pub counties: Vec<Jurisdiction>,
    /// Every precinct that reports; `Precinct::jurisdiction` is its county.
    pub precincts: Vec<Precinct>,
    /// The precincts whose voters vote on each contest. Every contest has an entry.
    pub coverage: BTreeMap<ContestId, BTreeSet<PrecinctId>>,
}

impl ElectionDefinition {
    pub fn contest(&self, id: &ContestId) -> Option<&Contest> {
        self.contests.iter().find(|contest| &contest.id == id)
    }

    pub fn precinct(&self, id: &PrecinctId) -> Option<&Precinct> {
        self.precincts.iter().find(|precinct| &precinct.id == id)
    }

    /// Whether the voters of `precinct` vote on `contest`.
    pub fn covers(&self, contest: &ContestId, precinct: &PrecinctId) -> bool {
        self.coverage.get(contest).is_some_and(|precincts| precincts.contains(precinct))
    }
}

/// One contest's counts in one precinct: `choices[i]` is the votes for the contest's `i`-th
/// choice. Write-ins, over- and undervotes are not choices and are not kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContestReturn {
    pub contest: ContestId,
    pub choices: Vec<Votes>,
}

/// Everything accepted for one precinct: its ballots cast (when reported) and its counts for
/// the contests it votes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrecinctReturn {
    pub precinct: PrecinctId,
    pub ballots_cast: Option<Votes>,
    pub contests: Vec<ContestReturn>,
}

/// Why a set of results changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeKind {
    /// A county's first numbers for these precincts (or numbers equal to those on file).
    Report,
    /// Numbers replacing accepted ones, with the reason the public change history shows.
    Correction { reason: String },
    /// The final results certified under the two-person rule.
    Certification,
}

/// One accepted change to an election's results, as the public change history lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultsChange {
    /// 1, 2, 3... in the order changes were accepted.
    pub sequence: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub county: Option<JurisdictionId>,
    pub precincts: Vec<PrecinctId>,
    #[serde(flatten)]
    pub kind: ChangeKind,
}

/// An election's results as accepted so far: what [`tally`] sums and the site publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElectionResults {
    pub definition: ElectionDefinition,
    /// The latest accepted return of each precinct that has reported.
    pub returns: BTreeMap<PrecinctId, PrecinctReturn>,
    /// Registered voters per precinct, from the roll when the node holds one (or from the
    /// definition file); turnout is shown only where this is known.
    pub registered: BTreeMap<PrecinctId, u64>,
    /// Every accepted change, oldest first.
    pub changes: Vec<ResultsChange>,
}

impl ElectionResults {
    pub fn is_certified(&self) -> bool {
        self.changes.iter().any(|change| change.kind == ChangeKind::Certification)
    }
}

// ---------------------------------------------------------------------------------------------
// Rules an upload must pass

/// One rule an upload breaks, naming the precinct and contest it is at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnProblem {
    pub precinct: PrecinctId,
    pub contest: Option<ContestId>,
    pub message: String,
}

/// Checks returns mapped from a county's upload against the definition and the returns already
/// accepted. Every problem is listed; an upload with any is refused whole. `correcting` says the
/// upload was sent as a correction (with a reason), which alone may change accepted numbers.
pub fn check_returns(
    definition: &ElectionDefinition,
    accepted: &BTreeMap<PrecinctId, PrecinctReturn>,
    returns: &[PrecinctReturn],
    correcting: bool,
) -> Vec<ReturnProblem> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for precinct_return in returns {
        let precinct = &precinct_return.precinct;
        let mut problem = |contest: Option<&ContestId>, message: String| {
            problems.push(ReturnProblem { precinct: precinct.clone(), contest: contest.cloned(), message });
        };
        if !seen.insert(precinct) {
            problem(None, "the precinct is reported twice in one upload".into());
        }
        if definition.precinct(precinct).is_none() {
            problem(None, "the precinct is not in this election".into());
            continue;
        }
        if let Some(ballots) = &precinct_return.ballots_cast
            && !ballots.parts_agree()
        {
            problem(None, format!("ballots cast by vote type do not sum to the total {}", ballots.total));
        }
        for contest_return in &precinct_return.contests {
            for message in contest_problems(definition, precinct_return, contest_return) {
                problem(Some(&contest_return.contest), message);
            }
        }
        if let Some(earlier) = accepted.get(precinct)
            && earlier != precinct_return
            && !correcting
        {
            problem(
                None,
                "the precinct was already reported with different numbers; send a correction with a reason".into(),
            );
        }
    }
    problems
}

fn contest_problems(
    definition: &ElectionDefinition,
    precinct_return: &PrecinctReturn,
    contest_return: &ContestReturn,
) -> Vec<String> {
    let Some(contest) = definition.contest(&contest_return.contest) else {
        return vec!["the contest is not in this election".into()];
    };
    let mut problems = Vec::new();
    if !definition.covers(&contest.id, &precinct_return.precinct) {
        problems.push("the precinct does not vote on this contest".into());
    }
    if contest_return.choices.len() != contest.choices.len() {
        problems.push(format!(
            "{} choices reported, the contest has {}",
            contest_return.choices.len(),
            contest.choices.len()
        ));
    }
    for (index, votes) in contest_return.choices.iter().enumerate() {
        if !votes.parts_agree() {
            let name = contest.choices.get(index).map_or("?", |choice| choice.name.as_str());
            problems.push(format!("the vote types for {name} do not sum to its total {}", votes.total));
        }
    }
    if let Some(ballots) = &precinct_return.ballots_cast {
        let allowed = ballots.total.saturating_mul(u64::from(contest.vote_for.get()));
        let cast: u64 = contest_return.choices.iter().map(|votes| votes.total).fold(0, u64::saturating_add);
        if cast > allowed {
            problems.push(format!(
                "{cast} votes is more than {} ballots cast times vote-for {} ({allowed})",
                ballots.total,
                contest.vote_for.get()
            ));
        }
    }
    problems
}

// ---------------------------------------------------------------------------------------------
// Sums

/// One contest's sums over an area.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContestTally {
    /// Votes per choice, in the contest's ballot order.
    pub choices: Vec<Votes>,
    /// Precincts in the area that vote on the contest, and how many of them have reported.
    pub precincts: u32,
    pub precincts_reporting: u32,
}

impl ContestTally {
    pub fn total_votes(&self) -> u64 {
        self.choices.iter().map(|votes| votes.total).fold(0, u64::saturating_add)
    }

    /// Each choice's share of the votes cast, in per cent (0 when nothing is counted yet).
    pub fn shares(&self) -> Vec<f64> {
        let total = self.total_votes();
        self.choices
            .iter()
            .map(|votes| if total == 0 { 0.0 } else { votes.total as f64 * 100.0 / total as f64 })
            .collect()
    }
}

/// An area's sums: the state, one county or one precinct.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaTally {
    pub precincts: u32,
    pub precincts_reporting: u32,
    /// Ballots cast in the precincts that reported them.
    pub ballots_cast: Votes,
    /// Registered voters where known (in every precinct of the area, reported or not).
    pub registered: Option<u64>,
    pub contests: BTreeMap<ContestId, ContestTally>,
}

impl AreaTally {
    /// Ballots cast over registered voters, in per cent, when the roll is known.
    pub fn turnout(&self) -> Option<f64> {
        self.registered
            .filter(|registered| *registered > 0)
            .map(|registered| self.ballots_cast.total as f64 * 100.0 / registered as f64)
    }
}

/// The sums at every level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub state: AreaTally,
    pub counties: BTreeMap<JurisdictionId, AreaTally>,
    pub precincts: BTreeMap<PrecinctId, AreaTally>,
}

/// Sums accepted returns precinct -> county -> state. Every contest a precinct votes on appears
/// in its area's tally, with zero votes until the precinct reports.
pub fn tally(results: &ElectionResults) -> Tally {
    let definition = &results.definition;
    let mut tally = Tally::default();
    for precinct in &definition.precincts {
        let area = precinct_tally(results, precinct);
        add_area(tally.counties.entry(precinct.jurisdiction.clone()).or_default(), &area);
        add_area(&mut tally.state, &area);
        tally.precincts.insert(precinct.id.clone(), area);
    }
    tally
}

fn precinct_tally(results: &ElectionResults, precinct: &Precinct) -> AreaTally {
    let definition = &results.definition;
    let reported = results.returns.get(&precinct.id);
    let mut area = AreaTally {
        precincts: 1,
        precincts_reporting: u32::from(reported.is_some()),
        ballots_cast: reported.and_then(|it| it.ballots_cast).unwrap_or_default(),
        registered: results.registered.get(&precinct.id).copied(),
        contests: BTreeMap::new(),
    };
    for contest in definition.contests.iter().filter(|contest| definition.covers(&contest.id, &precinct.id)) {
        let mut contest_tally = ContestTally {
            choices: vec![Votes::default(); contest.choices.len()],
            precincts: 1,
            precincts_reporting: u32::from(reported.is_some()),
        };
        let counted = reported.and_then(|it| it.contests.iter().find(|counts| counts.contest == contest.id));
        for (slot, votes) in
            contest_tally.choices.iter_mut().zip(counted.map(|it| it.choices.as_slice()).unwrap_or(&[]))
        {
            slot.add(votes);
        }
        area.contests.insert(contest.id.clone(), contest_tally);
    }
    area
}

fn add_area(sum: &mut AreaTally, area: &AreaTally) {
    // Turnout over an area is shown only when every precinct's roll is known.
    sum.registered = match (sum.precincts, sum.registered, area.registered) {
        (0, _, registered) => registered,
        (_, Some(sofar), Some(more)) => Some(sofar.saturating_add(more)),
        _ => None,
    };
    sum.precincts += area.precincts;
    sum.precincts_reporting += area.precincts_reporting;
    sum.ballots_cast.add(&area.ballots_cast);
    for (contest, counted) in &area.contests {
        let slot = sum.contests.entry(contest.clone()).or_default();
        if slot.choices.len() < counted.choices.len() {
            slot.choices.resize(counted.choices.len(), Votes::default());
        }
        for (mine, theirs) in slot.choices.iter_mut().zip(&counted.choices) {
            mine.add(theirs);
        }
        slot.precincts += counted.precincts;
        slot.precincts_reporting += counted.precincts_reporting;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results_sample::{SampleShape, sample_election};
    use time::macros::date;

    fn sample() -> ElectionResults {
        let sample = sample_election(SampleShape::SMALL, date!(2026 - 11 - 03), 7).unwrap();
        ElectionResults {
            definition: sample.definition,
            returns: sample.returns.into_iter().map(|it| (it.precinct.clone(), it)).collect(),
            registered: sample.registered,
            changes: Vec::new(),
        }
    }

    #[test]
    fn generated_returns_pass_every_rule() {
        let results = sample();
        let returns: Vec<PrecinctReturn> = results.returns.values().cloned().collect();
        assert_eq!(check_returns(&results.definition, &BTreeMap::new(), &returns, false), vec![]);
        // Sending the same numbers again is not a change.
        assert_eq!(check_returns(&results.definition, &results.returns, &returns, false), vec![]);
    }

    #[test]
    fn state_totals_are_the_sum_of_precincts() {
        let results = sample();
        let tally = tally(&results);
        assert_eq!(tally.state.precincts, 12);
        assert_eq!(tally.state.precincts_reporting, 12);
        assert_eq!(tally.counties.len(), 3);
        for contest in &results.definition.contests {
            let from_precincts: u64 = tally
                .precincts
                .values()
                .filter_map(|area| area.contests.get(&contest.id))
                .map(ContestTally::total_votes)
                .sum();
            let from_counties: u64 = tally
                .counties
                .values()
                .filter_map(|area| area.contests.get(&contest.id))
                .map(ContestTally::total_votes)
                .sum();
            assert_eq!(tally.state.contests[&contest.id].total_votes(), from_precincts);
            assert_eq!(from_counties, from_precincts);
            assert!(from_precincts > 0);
        }
        let registered: u64 = results.registered.values().sum();
        assert_eq!(tally.state.registered, Some(registered));
        assert!(tally.state.turnout().unwrap() > 30.0);
    }

    #[test]
    fn unreported_precincts_count_as_not_reporting() {
        let mut results = sample();
        let first = results.definition.precincts[0].id.clone();
        results.returns.remove(&first);
        let tally = tally(&results);
        assert_eq!(tally.state.precincts_reporting, 11);
        assert_eq!(tally.precincts[&first].precincts_reporting, 0);
        assert!(tally.precincts[&first].contests.values().all(|contest| contest.total_votes() == 0));
    }

    #[test]
    fn changed_numbers_need_a_correction() {
        let results = sample();
        let mut changed = results.returns.values().next().unwrap().clone();
        // One vote fewer: still within ballots cast, so only the change itself is at fault.
        changed.contests[0].choices[0].total -= 1;
        changed.contests[0].choices[0].by_type[0] -= 1;
        let problems = check_returns(&results.definition, &results.returns, std::slice::from_ref(&changed), false);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("correction"));
        assert_eq!(check_returns(&results.definition, &results.returns, &[changed], true), vec![]);
    }

    #[test]
    fn over_votes_and_disagreeing_parts_are_refused() {
        let results = sample();
        let mut bad = results.returns.values().next().unwrap().clone();
        let ballots = bad.ballots_cast.unwrap().total;
        bad.contests[0].choices[0] = Votes::total_only(ballots * 99);
        bad.contests[0].choices[1].total += 3;
        let problems = check_returns(&results.definition, &BTreeMap::new(), &[bad], false);
        let messages: Vec<&str> = problems.iter().map(|problem| problem.message.as_str()).collect();
        assert!(messages.iter().any(|message| message.contains("ballots cast times vote-for")), "{messages:?}");
        assert!(messages.iter().any(|message| message.contains("do not sum")), "{messages:?}");
    }

    #[test]
    fn unknown_precincts_and_uncovered_contests_are_refused() {
        let results = sample();
        let mut stranger = results.returns.values().next().unwrap().clone();
        stranger.precinct = PrecinctId::parse("ocd-division/country:us/state:zz/county:c999/precinct:p1").unwrap();
        let mut wrong_contest = results.returns.values().next().unwrap().clone();
        let uncovered = results
            .definition
            .contests
            .iter()
            .find(|contest| !results.definition.covers(&contest.id, &wrong_contest.precinct))
            .unwrap();
        wrong_contest.contests.push(ContestReturn {
            contest: uncovered.id.clone(),
            choices: vec![Votes::default(); uncovered.choices.len()],
        });
        let problems = check_returns(&results.definition, &BTreeMap::new(), &[stranger, wrong_contest], false);
        assert!(problems.iter().any(|problem| problem.message.contains("not in this election")));
        assert!(problems.iter().any(|problem| problem.message.contains("does not vote on this contest")));
    }

    #[test]
    fn the_state_size_election_has_the_issue_shape() {
        let sample = sample_election(SampleShape::STATE, date!(2026 - 11 - 03), 1).unwrap();
        assert_eq!(sample.definition.counties.len(), 100);
        assert_eq!(sample.definition.precincts.len(), 2_700);
        assert_eq!(sample.definition.contests.len(), 60);
        assert_eq!(sample.returns.len(), 2_700);
    }
}
