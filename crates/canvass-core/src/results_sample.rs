//! A seeded, generated election of any size with plausible returns: the benchmark's state-size
//! election (100 counties, 2,700 precincts, 60 contests), the demo's election night, and test
//! fixtures. The same shape and seed give the same election on every machine.

use std::collections::{BTreeMap, BTreeSet};

use time::Date;

use crate::{
    CoreError,
    demo::SplitMix64,
    election::{Choice, Contest, ContestKind, Election, ElectionKind, VoteFor},
    id::{ContestId, ElectionId, JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct},
    name::Name,
    results::{ContestReturn, ElectionDefinition, PrecinctReturn, VoteType, Votes},
};

/// How big a generated election is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleShape {
    pub counties: u32,
    pub precincts: u32,
    pub contests: u32,
}

impl SampleShape {
    /// The state-size election.
    pub const STATE: SampleShape = SampleShape { counties: 100, precincts: 2_700, contests: 60 };
    /// Small enough to read every page of.
    pub const SMALL: SampleShape = SampleShape { counties: 3, precincts: 12, contests: 6 };
}

/// A generated election, its registered voters per precinct and a full set of returns.
#[derive(Debug, Clone)]
pub struct SampleElection {
    pub state: Jurisdiction,
    pub definition: ElectionDefinition,
    pub registered: BTreeMap<PrecinctId, u64>,
    pub returns: Vec<PrecinctReturn>,
}

const STATE_ID: &str = "ocd-division/country:us/state:zz";
const SURNAMES: [&str; 12] = [
    "Alvarez", "Brooks", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ibrahim", "Jensen", "Kowalski",
    "Lee",
];
const PARTIES: [&str; 4] = ["DEM", "REP", "LIB", "GRE"];
const OFFICES: [&str; 6] = ["Governor", "Attorney General", "State Treasurer", "Auditor", "Commissioner", "Judge"];

/// Generates an election of `shape` held on `date`. Precincts are spread evenly over counties;
/// a third of the contests are statewide, the rest belong to one county each; every fifth
/// contest is a ballot measure and every seventh elects two.
pub fn sample_election(shape: SampleShape, date: Date, seed: u64) -> Result<SampleElection, CoreError> {
    let mut random = SplitMix64::new(seed);
    let state = Jurisdiction {
        id: JurisdictionId::parse(STATE_ID)?,
        name: Name::parse("State of Examplia")?,
        kind: JurisdictionKind::State,
        parent: None,
    };
    let election = Election {
        id: ElectionId::parse(&format!("zz-sample-{}", date.year()))?,
        jurisdiction: state.id.clone(),
        name: Name::parse(&format!("{} Sample General Election", date.year()))?,
        kind: ElectionKind::General,
        date,
    };
    let counties = counties(&state, shape.counties.max(1))?;
    let precincts = precincts(&counties, shape.precincts.max(1))?;
    let (contests, coverage) = contests(&election, &state, &counties, &precincts, shape.contests, &mut random)?;
    let definition = ElectionDefinition { election, contests, counties, precincts, coverage };
    let registered: BTreeMap<PrecinctId, u64> =
        definition.precincts.iter().map(|precinct| (precinct.id.clone(), 400 + random.below(2_600))).collect();
    let returns = definition
        .precincts
        .iter()
        .map(|precinct| precinct_return(&definition, precinct, registered[&precinct.id], &mut random))
        .collect();
    Ok(SampleElection { state, definition, registered, returns })
}

fn counties(state: &Jurisdiction, count: u32) -> Result<Vec<Jurisdiction>, CoreError> {
    (1..=count)
        .map(|number| {
            Ok(Jurisdiction {
                id: JurisdictionId::parse(&format!("{STATE_ID}/county:c{number:03}"))?,
                name: Name::parse(&format!("County {number:03}"))?,
                kind: JurisdictionKind::County,
                parent: Some(state.id.clone()),
            })
        })
        .collect()
}

fn precincts(counties: &[Jurisdiction], count: u32) -> Result<Vec<Precinct>, CoreError> {
    (0..count)
        .map(|index| {
            let county = &counties[index as usize % counties.len()];
            let number = index as usize / counties.len() + 1;
            Ok(Precinct {
                id: PrecinctId::parse(&format!("{}/precinct:p{number:03}", county.id))?,
                jurisdiction: county.id.clone(),
                name: Name::parse(&format!("Precinct {number:03}"))?,
            })
        })
        .collect()
}

type Coverage = BTreeMap<ContestId, BTreeSet<PrecinctId>>;

fn contests(
    election: &Election,
    state: &Jurisdiction,
    counties: &[Jurisdiction],
    precincts: &[Precinct],
    count: u32,
    random: &mut SplitMix64,
) -> Result<(Vec<Contest>, Coverage), CoreError> {
    let mut contests = Vec::new();
    let mut coverage = Coverage::new();
    for number in 1..=count {
        let statewide = number % 3 == 1;
        let district = if statewide { state } else { &counties[number as usize % counties.len()] };
        let measure = number % 5 == 0;
        let id = ContestId::parse(&format!("contest-{number:02}"))?;
        let office = OFFICES[number as usize % OFFICES.len()];
        let (name, kind, vote_for, choices) = if measure {
            let yes_no = vec![plain_choice("Yes")?, plain_choice("No")?];
            (format!("Question {number}"), ContestKind::BallotMeasure, VoteFor::ONE, yes_no)
        } else {
            let seats = if number % 7 == 0 { 2 } else { 1 };
            let candidates = 2 + random.below(3) as usize + seats as usize - 1;
            let choices =
                (0..candidates).map(|index| candidate(number as usize + index, index)).collect::<Result<_, _>>()?;
            (format!("{office} ({})", district.name), ContestKind::Candidate, VoteFor::parse(seats)?, choices)
        };
        let covered = precincts
            .iter()
            .filter(|precinct| statewide || precinct.jurisdiction == district.id)
            .map(|precinct| precinct.id.clone())
            .collect();
        coverage.insert(id.clone(), covered);
        contests.push(Contest {
            id,
            election: election.id.clone(),
            district: district.id.clone(),
            name: Name::parse(&name)?,
            kind,
            vote_for,
            choices,
        });
    }
    Ok((contests, coverage))
}

fn plain_choice(name: &str) -> Result<Choice, CoreError> {
    Ok(Choice { name: Name::parse(name)?, party: None })
}

fn candidate(seed: usize, index: usize) -> Result<Choice, CoreError> {
    let surname = SURNAMES[(seed * 5 + index * 7) % SURNAMES.len()];
    let initial = char::from(b'A' + ((seed + index * 3) % 26) as u8);
    Ok(Choice {
        name: Name::parse(&format!("{initial}. {surname}"))?,
        party: Some(PARTIES[index % PARTIES.len()].into()),
    })
}

/// A precinct's return: ballots cast from turnout between 40 and 80 per cent, split over vote
/// types; each contest's votes spread over its choices, never more than ballots times seats.
fn precinct_return(
    definition: &ElectionDefinition,
    precinct: &Precinct,
    registered: u64,
    random: &mut SplitMix64,
) -> PrecinctReturn {
    let ballots = registered * (40 + random.below(41)) / 100;
    let ballots_cast = split(ballots, random);
    let contests = definition
        .contests
        .iter()
        .filter(|contest| definition.covers(&contest.id, &precinct.id))
        .map(|contest| {
            // Some voters skip a contest: between 85 and 100 per cent mark it.
            let marked = ballots * u64::from(contest.vote_for.get()) * (85 + random.below(16)) / 100;
            ContestReturn { contest: contest.id.clone(), choices: spread(marked, contest.choices.len(), random) }
        })
        .collect();
    PrecinctReturn { precinct: precinct.id.clone(), ballots_cast: Some(ballots_cast), contests }
}

fn spread(total: u64, choices: usize, random: &mut SplitMix64) -> Vec<Votes> {
    let weights: Vec<u64> = (0..choices).map(|_| 1 + random.below(100)).collect();
    let weight_sum: u64 = weights.iter().sum();
    let mut left = total;
    let mut spread = Vec::with_capacity(choices);
    for (index, weight) in weights.iter().enumerate() {
        let share = if index + 1 == choices { left } else { (total * weight / weight_sum).min(left) };
        left -= share;
        spread.push(split(share, random));
    }
    spread
}

/// Splits a count over the four vote types (election day the most, provisional the fewest).
fn split(total: u64, random: &mut SplitMix64) -> Votes {
    let early = total * (15 + random.below(20)) / 100;
    let mail = total * (5 + random.below(15)) / 100;
    let provisional = total / 100;
    let election_day = total - early - mail - provisional;
    Votes::from_parts(&[
        (VoteType::ElectionDay, election_day),
        (VoteType::Early, early),
        (VoteType::AbsenteeByMail, mail),
        (VoteType::Provisional, provisional),
    ])
    .unwrap_or(Votes::total_only(total))
}
