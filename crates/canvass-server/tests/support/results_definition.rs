//! An election definition built from a county results file's own names (its contests with
//! their choices in the order the file lists them, its precincts, which precincts report which
//! contest), so a real file can be imported without a separate definition file. Vote-for is
//! what the file says (Clarity) or 1. Also included by path from the CLI's tests.
// Test helpers: a failed unwrap is a failed test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use canvass_core::{
    election::{Choice, Contest, ContestKind, Election, ElectionKind, VoteFor},
    id::{ContestId, ElectionId, JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct},
    name::Name,
    results::ElectionDefinition,
};
use canvass_formats::{reported::ReportedResults, results_match::fold};

/// The file's contest key: its name with its district, as the matcher looks it up.
fn contest_name(contest: &str, district: Option<&str>) -> String {
    match district {
        Some(district) => format!("{contest} {district}"),
        None => contest.to_owned(),
    }
}

/// `state` (an OCD-ID) gets one county named `county_name` (slug `county_slug`).
pub fn definition_from_file(
    reported: &ReportedResults,
    election: &str,
    election_name: &str,
    date: time::Date,
    state: &str,
    county_slug: &str,
    county_name: &str,
) -> ElectionDefinition {
    let state = JurisdictionId::parse(state).unwrap();
    let county = JurisdictionId::parse(&format!("{state}/county:{county_slug}")).unwrap();
    let election_id = ElectionId::parse(election).unwrap();
    let mut precinct_ids: BTreeMap<String, PrecinctId> = BTreeMap::new();
    let mut precincts = Vec::new();
    let mut precinct = |name: &str| -> PrecinctId {
        let key = fold(name);
        let next = precinct_ids.len() + 1;
        precinct_ids
            .entry(key)
            .or_insert_with(|| {
                let id = PrecinctId::parse(&format!("{county}/precinct:p{next}")).unwrap();
                precincts.push(Precinct {
                    id: id.clone(),
                    jurisdiction: county.clone(),
                    name: Name::parse(name).unwrap(),
                });
                id
            })
            .clone()
    };
    for reported_precinct in &reported.precincts {
        precinct(&reported_precinct.precinct);
    }
    let mut contests: Vec<Contest> = Vec::new();
    let mut keys: BTreeMap<String, usize> = BTreeMap::new();
    let mut coverage: BTreeMap<ContestId, BTreeSet<PrecinctId>> = BTreeMap::new();
    for count in &reported.counts {
        let name = contest_name(&count.contest, count.district.as_deref());
        let index = *keys.entry(fold(&name)).or_insert_with(|| {
            let vote_for = reported
                .contests
                .iter()
                .find(|contest| fold(&contest.name) == fold(&count.contest))
                .and_then(|contest| contest.vote_for)
                .unwrap_or(1);
            contests.push(Contest {
                id: ContestId::parse(&format!("contest-{}", contests.len() + 1)).unwrap(),
                election: election_id.clone(),
                district: state.clone(),
                name: Name::parse(&name).unwrap(),
                kind: ContestKind::Candidate,
                vote_for: VoteFor::parse(vote_for).unwrap(),
                choices: Vec::new(),
            });
            contests.len() - 1
        });
        let contest = &mut contests[index];
        if !contest.choices.iter().any(|choice| fold(choice.name.as_str()) == fold(&count.choice)) {
            contest.choices.push(Choice { name: Name::parse(&count.choice).unwrap(), party: count.party.clone() });
        }
        let precinct_id = precinct(&count.precinct);
        coverage.entry(contest.id.clone()).or_default().insert(precinct_id);
    }
    for contest in &contests {
        coverage.entry(contest.id.clone()).or_default();
    }
    ElectionDefinition {
        election: Election {
            id: election_id,
            jurisdiction: state.clone(),
            name: Name::parse(election_name).unwrap(),
            kind: ElectionKind::General,
            date,
        },
        contests,
        counties: vec![Jurisdiction {
            id: county,
            name: Name::parse(county_name).unwrap(),
            kind: JurisdictionKind::County,
            parent: Some(state),
        }],
        precincts,
        coverage,
    }
}

/// The state jurisdiction the definition's county hangs under.
pub fn state_of(definition: &ElectionDefinition, name: &str) -> Jurisdiction {
    Jurisdiction {
        id: definition.election.jurisdiction.clone(),
        name: Name::parse(name).unwrap(),
        kind: JurisdictionKind::State,
        parent: None,
    }
}

/// The file's total for one choice of one contest, summed over its rows.
pub fn file_total(reported: &ReportedResults, contest: &str, choice: &str) -> u64 {
    reported
        .counts
        .iter()
        .filter(|count| fold(&count.contest) == fold(contest) && fold(&count.choice) == fold(choice))
        .map(|count| count.total)
        .sum()
}
