//! A county's results file, as read ([`ReportedResults`]), matched to an election's definition
//! by names: county, precinct, contest and choice, compared without regard to case or runs of
//! white space. The outcome is the precinct returns the rules in `canvass_core::results` check,
//! or every problem with the line or element it is at.
//!
//! Files name things, definitions hold ids: a results reporter exports what the tabulator
//! prints, so names are the one key both sides share. A precinct may be named with or without
//! its county ("Clarke 1A" or "1A" in Clarke), and a contest with or without its district
//! ("State Representative 117" or "State Representative" in district 117).

use std::collections::{BTreeMap, HashMap};

use canvass_core::{
    election::Contest,
    id::{ContestId, PrecinctId},
    jurisdiction::Precinct,
    results::{ContestReturn, ElectionDefinition, PrecinctReturn, Votes},
};

use crate::reported::{Location, Problem, ReportedCount, ReportedResults};

/// The returns a file gives, with where each precinct and each of its contests first appear, so
/// the rules checked later can name a line or element too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchedReturns {
    pub returns: Vec<PrecinctReturn>,
    pub precinct_locations: BTreeMap<PrecinctId, Location>,
    pub contest_locations: BTreeMap<(PrecinctId, ContestId), Location>,
}

impl MatchedReturns {
    /// Where a rule broken at this precinct (and contest) shows in the file.
    pub fn location(&self, precinct: &PrecinctId, contest: Option<&ContestId>) -> Option<&Location> {
        contest
            .and_then(|contest| self.contest_locations.get(&(precinct.clone(), contest.clone())))
            .or_else(|| self.precinct_locations.get(precinct))
    }
}

/// Compares names as people type them: case, surrounding and repeated white space ignored.
pub fn fold(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// A county's name without the word "county", folded: "Clarke County" and "clarke" agree.
fn fold_county(name: &str) -> String {
    let folded = fold(name);
    folded.strip_suffix(" county").map(str::to_owned).unwrap_or(folded)
}

/// The problems that say the file is for another election: its name or day disagreeing with
/// the definition. A file that gives neither is taken at its word.
pub fn election_problems(reported: &ReportedResults, definition: &ElectionDefinition) -> Vec<Problem> {
    let election = &definition.election;
    let other_day = reported.election_date.filter(|date| *date != election.date);
    let other_name = reported.election_name.as_ref().filter(|name| fold(name) != fold(election.name.as_str()));
    let mut problems = Vec::new();
    // The day decides: senders name one election differently (NIST's own GEN-01 files call it
    // "GEN-01 General Election" before and "Unnamed Election" after), so a different name on
    // the right day is not another election; only a file giving no day is judged by its name.
    if let Some(name) = other_name
        && (other_day.is_some() || reported.election_date.is_none())
    {
        problems.push(Problem {
            location: Location::Element("ElectionName".into()),
            message: format!("the file is for the election {name:?}, not {:?}", election.name.as_str()),
        });
    }
    if let Some(date) = other_day {
        problems.push(Problem {
            location: Location::Element("ElectionDate".into()),
            message: format!("the file is for an election on {date}, not on {}", election.date),
        });
    }
    problems
}

/// The definition's names, folded, for lookups.
struct Names<'a> {
    definition: &'a ElectionDefinition,
    counties: HashMap<String, &'a canvass_core::id::JurisdictionId>,
    /// Precincts by folded name; a name two counties share maps to both.
    precincts: HashMap<String, Vec<&'a Precinct>>,
    contests: HashMap<String, Vec<&'a Contest>>,
}

impl<'a> Names<'a> {
    fn of(definition: &'a ElectionDefinition) -> Self {
        let counties: HashMap<String, &canvass_core::id::JurisdictionId> =
            definition.counties.iter().map(|county| (fold_county(county.name.as_str()), &county.id)).collect();
        let mut precincts: HashMap<String, Vec<&Precinct>> = HashMap::new();
        for precinct in &definition.precincts {
            precincts.entry(fold(precinct.name.as_str())).or_default().push(precinct);
        }
        let mut contests: HashMap<String, Vec<&Contest>> = HashMap::new();
        for contest in &definition.contests {
            contests.entry(fold(contest.name.as_str())).or_default().push(contest);
        }
        Self { definition, counties, precincts, contests }
    }

    fn county_name(&self, precinct: &Precinct) -> Option<&str> {
        self.definition
            .counties
            .iter()
            .find(|county| county.id == precinct.jurisdiction)
            .map(|county| county.name.as_str())
    }

    /// The precinct a file names, given with or without its county.
    fn precinct(&self, county: Option<&str>, name: &str) -> Result<&'a Precinct, String> {
        let county_id = match county {
            Some(county) => match self.counties.get(&fold_county(county)) {
                Some(id) => Some(*id),
                None => return Err(format!("unknown county {county:?}: it is not in this election")),
            },
            None => None,
        };
        let folded = fold(name);
        let mut found: Vec<&Precinct> = self.precincts.get(&folded).cloned().unwrap_or_default();
        if found.is_empty() {
            // "Clarke 1A": the county's name first, then the precinct's.
            found = self
                .definition
                .precincts
                .iter()
                .filter(|precinct| {
                    self.county_name(precinct).is_some_and(|county| {
                        folded == format!("{} {}", fold(county), fold(precinct.name.as_str()))
                            || folded == format!("{} {}", fold_county(county), fold(precinct.name.as_str()))
                    })
                })
                .collect();
        }
        if let Some(county_id) = county_id {
            found.retain(|precinct| &precinct.jurisdiction == county_id);
        }
        match found.as_slice() {
            [precinct] => Ok(precinct),
            [] => Err(format!("unknown precinct {name:?}: it is not in this election")),
            _ => Err(format!("the precinct name {name:?} is in several counties: give its county")),
        }
    }

    /// The contest a file names, with its district either in the name or apart.
    fn contest(&self, name: &str, district: Option<&str>) -> Result<&'a Contest, String> {
        let with_district = district.map(|district| fold(&format!("{name} {district}")));
        let found = with_district
            .and_then(|key| self.contests.get(&key))
            .or_else(|| self.contests.get(&fold(name)))
            .map(Vec::as_slice)
            .unwrap_or_default();
        match found {
            [contest] => Ok(contest),
            [] => Err(format!("unknown contest {name:?}: it is not in this election")),
            _ => Err(format!("the contest name {name:?} is used by several contests: give its district")),
        }
    }
}

/// Whether a choice name is a write-in line as results files name them (`Write-in`,
/// `Write-in 2`, Clarity's `Write-In Totals`).
fn is_write_in(name: &str) -> bool {
    let folded: String = name.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
    folded.starts_with("writein")
}

/// The index of the choice a count names in its contest; a party tells same-named choices apart.
fn choice_index(contest: &Contest, count: &ReportedCount) -> Result<usize, String> {
    let folded = fold(&count.choice);
    let named: Vec<usize> =
        (0..contest.choices.len()).filter(|index| fold(contest.choices[*index].name.as_str()) == folded).collect();
    let chosen: Vec<usize> = if named.len() > 1 {
        let party = count.party.as_deref().map(fold);
        named.iter().copied().filter(|index| contest.choices[*index].party.as_deref().map(fold) == party).collect()
    } else {
        named
    };
    match chosen.as_slice() {
        [index] => Ok(*index),
        [] => Err(format!("unknown candidate {:?} in the contest {:?}", count.choice, contest.name.as_str())),
        _ => {
            Err(format!("the candidate {:?} is listed twice in the contest {:?}", count.choice, contest.name.as_str()))
        }
    }
}

fn votes_of(count: &ReportedCount) -> Votes {
    if count.parts.is_empty() {
        return Votes::total_only(count.total);
    }
    let mut votes = Votes::from_parts(&count.parts).unwrap_or_default();
    // Kept as given: a file whose parts leave some votes out shows as parts that do not sum.
    votes.total = count.total;
    votes
}

/// One precinct's counts while the file is walked: per contest, per choice, the count and
/// where it came from.
#[derive(Default)]
struct Gathered {
    ballots_cast: Option<Votes>,
    contests: BTreeMap<ContestId, Vec<Option<(Votes, Location)>>>,
}

/// Matches a file's counts to the definition. Every problem is listed: unknown county,
/// precinct, contest or candidate; a precinct that does not vote on the contest; a choice
/// counted twice or left out; vote types that do not sum to their total; and any problem the
/// reader found. A file with any problem gives no returns.
pub fn match_returns(
    reported: &ReportedResults,
    definition: &ElectionDefinition,
) -> Result<MatchedReturns, Vec<Problem>> {
    let names = Names::of(definition);
    let mut problems: Vec<Problem> = reported.problems.clone();
    let mut gathered: BTreeMap<PrecinctId, Gathered> = BTreeMap::new();
    let mut matched = MatchedReturns::default();
    for precinct in &reported.precincts {
        match names.precinct(precinct.county.as_deref(), &precinct.precinct) {
            Ok(found) => {
                matched.precinct_locations.entry(found.id.clone()).or_insert_with(|| precinct.location.clone());
                let entry = gathered.entry(found.id.clone()).or_default();
                if let Some(ballots) = precinct.ballots_cast {
                    entry.ballots_cast = Some(Votes::total_only(ballots));
                }
            }
            Err(message) => problems.push(Problem { location: precinct.location.clone(), message }),
        }
    }
    for count in &reported.counts {
        let problem = |message: String| Problem { location: count.location.clone(), message };
        let precinct = names.precinct(count.county.as_deref(), &count.precinct);
        let contest = names.contest(&count.contest, count.district.as_deref());
        let (precinct, contest) = match (precinct, contest) {
            (Ok(precinct), Ok(contest)) => (precinct, contest),
            (precinct, contest) => {
                problems.extend(precinct.err().into_iter().chain(contest.err()).map(problem));
                continue;
            }
        };
        if !definition.covers(&contest.id, &precinct.id) {
            problems.push(problem(format!(
                "the precinct {:?} does not vote on the contest {:?}",
                count.precinct,
                contest.name.as_str()
            )));
            continue;
        }
        let index = match choice_index(contest, count) {
            Ok(index) => index,
            // Write-in lines are not choices (definitions keep none): their counts are left out.
            Err(_) if is_write_in(&count.choice) => continue,
            Err(message) => {
                problems.push(problem(message));
                continue;
            }
        };
        let votes = votes_of(count);
        if !votes.parts_agree() {
            problems
                .push(problem(format!("the vote types of {:?} do not sum to its total {}", count.choice, count.total)));
            continue;
        }
        matched.precinct_locations.entry(precinct.id.clone()).or_insert_with(|| count.location.clone());
        matched
            .contest_locations
            .entry((precinct.id.clone(), contest.id.clone()))
            .or_insert_with(|| count.location.clone());
        let slots = gathered
            .entry(precinct.id.clone())
            .or_default()
            .contests
            .entry(contest.id.clone())
            .or_insert_with(|| vec![None; contest.choices.len()]);
        match &slots[index] {
            Some((_, first)) => problems.push(problem(format!(
                "{:?} in the contest {:?} at the precinct {:?} is counted twice (first at {first})",
                count.choice,
                contest.name.as_str(),
                count.precinct
            ))),
            None => slots[index] = Some((votes, count.location.clone())),
        }
    }
    for (precinct, counts) in gathered {
        let mut contests = Vec::new();
        for (contest_id, slots) in counts.contests {
            let Some(contest) = definition.contest(&contest_id) else { continue };
            let mut choices = Vec::with_capacity(slots.len());
            for (index, slot) in slots.into_iter().enumerate() {
                match slot {
                    Some((votes, _)) => choices.push(votes),
                    None => {
                        let location = matched
                            .location(&precinct, Some(&contest_id))
                            .cloned()
                            .unwrap_or(Location::Element("ElectionResult".into()));
                        problems.push(Problem {
                            location,
                            message: format!(
                                "no count for {:?} in the contest {:?} at this precinct",
                                contest.choices[index].name.as_str(),
                                contest.name.as_str()
                            ),
                        });
                    }
                }
            }
            contests.push(ContestReturn { contest: contest_id, choices });
        }
        matched.returns.push(PrecinctReturn { precinct, ballots_cast: counts.ballots_cast, contests });
    }
    if problems.is_empty() { Ok(matched) } else { Err(problems) }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use canvass_core::{
        election::{Choice, ContestKind, Election, ElectionKind, VoteFor},
        id::{ElectionId, JurisdictionId},
        jurisdiction::{Jurisdiction, JurisdictionKind},
        name::Name,
    };
    use time::macros::date;

    use super::*;
    use crate::openelections;

    fn definition() -> ElectionDefinition {
        let state = JurisdictionId::parse("ocd-division/country:us/state:ga").unwrap();
        let county = JurisdictionId::parse("ocd-division/country:us/state:ga/county:clarke").unwrap();
        let precinct = |slug: &str, name: &str| Precinct {
            id: PrecinctId::parse(&format!("{}/precinct:{slug}", county.as_str())).unwrap(),
            jurisdiction: county.clone(),
            name: Name::parse(name).unwrap(),
        };
        let election = ElectionId::parse("ga-2018-general").unwrap();
        let contest = |slug: &str, name: &str, choices: &[&str]| Contest {
            id: ContestId::parse(slug).unwrap(),
            election: election.clone(),
            district: state.clone(),
            name: Name::parse(name).unwrap(),
            kind: ContestKind::Candidate,
            vote_for: VoteFor::ONE,
            choices: choices.iter().map(|name| Choice { name: Name::parse(name).unwrap(), party: None }).collect(),
        };
        let precincts = vec![precinct("1a", "1A Depot"), precinct("1b", "1B Church")];
        let contests = vec![
            contest("governor", "Governor", &["Kemp", "Abrams"]),
            contest("house-117", "State House 117", &["Ann"]),
        ];
        let mut coverage = BTreeMap::new();
        coverage.insert(contests[0].id.clone(), precincts.iter().map(|it| it.id.clone()).collect::<BTreeSet<_>>());
        coverage.insert(contests[1].id.clone(), BTreeSet::from([precincts[0].id.clone()]));
        ElectionDefinition {
            election: Election {
                id: election,
                jurisdiction: state.clone(),
                name: Name::parse("2018 General").unwrap(),
                kind: ElectionKind::General,
                date: date!(2018 - 11 - 06),
            },
            contests,
            counties: vec![Jurisdiction {
                id: county.clone(),
                name: Name::parse("Clarke County").unwrap(),
                kind: JurisdictionKind::County,
                parent: Some(state),
            }],
            precincts,
            coverage,
        }
    }

    const HEADER: &str = "county,precinct,office,district,party,candidate,votes,election_day,absentee_by_mail\n";

    fn check(rows: &str) -> Result<MatchedReturns, Vec<String>> {
        let reported = openelections::read(format!("{HEADER}{rows}").as_bytes()).unwrap();
        match_returns(&reported, &definition()).map_err(|problems| problems.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn names_match_whatever_their_case_spacing_and_county() {
        let matched = check(
            "clarke,1a  depot,GOVERNOR,,REP,kemp,10,6,4\n\
             Clarke County,1A Depot,Governor,,DEM,Abrams,12,12,0\n\
             CLARKE,Clarke 1B Church,Governor,,,Kemp,3,3,0\n\
             Clarke,1B Church,Governor,,,Abrams,4,0,4\n\
             Clarke,1A Depot,State House,117,,Ann,9,9,0\n",
        )
        .unwrap();
        assert_eq!(matched.returns.len(), 2);
        let first = &matched.returns[0];
        assert_eq!(first.contests.len(), 2);
        assert_eq!(
            first.contests[0].choices[0],
            Votes::from_parts(&[
                (canvass_core::results::VoteType::ElectionDay, 6),
                (canvass_core::results::VoteType::AbsenteeByMail, 4),
            ])
            .unwrap()
        );
        assert_eq!(matched.returns[1].contests[0].choices[1].total, 4);
        assert_eq!(matched.location(&first.precinct, None), Some(&Location::Line(2)));
    }

    #[test]
    fn write_in_lines_are_left_out_not_refused() {
        assert!(is_write_in("Write-in 2") && is_write_in("Write-In Totals") && !is_write_in("Whitney"));
        let file = "county,precinct,office,candidate,votes\nClarke,1B Church,Governor,Kemp,3\nClarke,1B Church,Governor,Abrams,4\nClarke,1B Church,Governor,Write-in,2\n";
        let reported = openelections::read(file.as_bytes()).unwrap();
        let matched = match_returns(&reported, &definition()).unwrap();
        assert_eq!(matched.returns[0].contests[0].choices, vec![Votes::total_only(3), Votes::total_only(4)]);
    }

    #[test]
    fn counts_given_as_totals_only_stay_totals() {
        let file = "county,precinct,office,candidate,votes\nClarke,1B Church,Governor,Kemp,3\nClarke,1B Church,Governor,Abrams,4\n";
        let reported = openelections::read(file.as_bytes()).unwrap();
        let matched = match_returns(&reported, &definition()).unwrap();
        assert_eq!(matched.returns[0].contests[0].choices, vec![Votes::total_only(3), Votes::total_only(4)]);
    }

    #[test]
    fn every_problem_is_listed_with_its_line() {
        let problems = check(
            "Clarke,1A Depot,Dogcatcher,,,Rex,1,1,0\n\
             Clarke,1A Depot,Governor,,,Nobody,1,1,0\n\
             Clarke,9Z Nowhere,Governor,,,Kemp,1,1,0\n\
             Oconee,1A Depot,Governor,,,Kemp,1,1,0\n\
             Clarke,1B Church,State House,117,,Ann,1,1,0\n\
             Clarke,1A Depot,Governor,,,Kemp,5,1,1\n",
        )
        .unwrap_err();
        let expected = [
            "line 2: unknown contest",
            "line 3: unknown candidate",
            "line 4: unknown precinct",
            "line 5: unknown county",
            "line 6: the precinct \"1B Church\" does not vote",
            "line 7: the vote types sum to 2",
        ];
        for wanted in expected {
            assert!(problems.iter().any(|problem| problem.starts_with(wanted)), "{wanted}: {problems:#?}");
        }
    }

    #[test]
    fn a_choice_left_out_or_counted_twice_is_a_problem() {
        let problems = check(
            "Clarke,1A Depot,Governor,,,Kemp,1,1,0\n\
             Clarke,1A Depot,Governor,,,Kemp,1,1,0\n",
        )
        .unwrap_err();
        assert!(problems.iter().any(|problem| problem.contains("counted twice")), "{problems:?}");
        assert!(problems.iter().any(|problem| problem.contains("no count for \"Abrams\"")), "{problems:?}");
    }

    #[test]
    fn another_elections_file_is_named_as_such() {
        let reported = ReportedResults {
            election_name: Some("2014 Primary".into()),
            election_date: Some(date!(2014 - 05 - 20)),
            ..ReportedResults::default()
        };
        let problems = election_problems(&reported, &definition());
        assert_eq!(problems.len(), 2);
        let same = ReportedResults {
            election_name: Some(" 2018  general ".into()),
            election_date: Some(date!(2018 - 11 - 06)),
            ..ReportedResults::default()
        };
        assert!(election_problems(&same, &definition()).is_empty());
        let renamed = ReportedResults {
            election_name: Some("Unnamed Election".into()),
            election_date: Some(date!(2018 - 11 - 06)),
            ..ReportedResults::default()
        };
        assert!(election_problems(&renamed, &definition()).is_empty(), "the right day decides");
        let undated = ReportedResults { election_name: Some("2014 Primary".into()), ..ReportedResults::default() };
        assert_eq!(election_problems(&undated, &definition()).len(), 1, "without a day the name decides");
    }
}
