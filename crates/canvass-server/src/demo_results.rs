//! The demo's election-night results: the demo election stored with its coverage (a contest's
//! precincts are those of its district), and an OpenElections CSV generated for two of the
//! three counties sent through the real intake, so the third shows "not reported".

use std::collections::{BTreeMap, BTreeSet};

use canvass_core::{
    access::{Grant, StaffRole},
    demo::{DemoContent, SplitMix64},
    id::{ContestId, PrecinctId},
    jurisdiction::JurisdictionKind,
    results::{ElectionDefinition, PrecinctReturn, VoteType, Votes},
    voter::VoterStatus,
};
use canvass_store::Store;

use crate::{
    ServerError,
    ledger::Audit,
    results_intake::{self, ResultsFormat, ResultsUpload},
};

/// The demo election as a definition: every precinct of a contest's district votes on it.
pub fn definition(content: &DemoContent) -> ElectionDefinition {
    let mut coverage: BTreeMap<ContestId, BTreeSet<PrecinctId>> = BTreeMap::new();
    for contest in &content.contests {
        let covered = content
            .precincts
            .iter()
            .filter(|precinct| {
                precinct.jurisdiction == contest.district || contest.district == content.election.jurisdiction
            })
            .map(|precinct| precinct.id.clone())
            .collect();
        coverage.insert(contest.id.clone(), covered);
    }
    ElectionDefinition {
        election: content.election.clone(),
        contests: content.contests.clone(),
        counties: content.jurisdictions.iter().filter(|j| j.kind == JurisdictionKind::County).cloned().collect(),
        precincts: content.precincts.clone(),
        coverage,
    }
}

const HEADER: &str =
    "county,precinct,office,district,party,candidate,votes,election_day,early,absentee_by_mail,provisional\n";

/// A CSV field, quoted (names hold commas and colons).
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Splits `total` into election day, early, absentee by mail and provisional parts.
fn parts(total: u64, random: &mut SplitMix64) -> [u64; 4] {
    let early = total * (20 + random.below(20)) / 100;
    let mail = total * (10 + random.below(15)) / 100;
    let provisional = u64::from(total > 20 && random.below(3) == 0);
    [total - early - mail - provisional, early, mail, provisional]
}

fn row(county: &str, precinct: &str, office: &str, party: &str, candidate: &str, votes: [u64; 4]) -> String {
    let total: u64 = votes.iter().sum();
    let [day, early, mail, provisional] = votes;
    format!(
        "{},{},{},,{},{},{total},{day},{early},{mail},{provisional}\n",
        quoted(county),
        quoted(precinct),
        quoted(office),
        quoted(party),
        quoted(candidate)
    )
}

/// The OpenElections CSV of the demo's first `counties` counties: ballots cast per precinct
/// (about two in three registered voters) and every contest's votes per choice, split by
/// vote type, a few ballots left blank in each contest.
pub fn openelections_csv(content: &DemoContent, counties: usize, seed: u64) -> String {
    let definition = definition(content);
    let mut random = SplitMix64::new(seed ^ 0x7e5u64);
    let mut csv = String::from(HEADER);
    for county in definition.counties.iter().take(counties) {
        for precinct in definition.precincts.iter().filter(|precinct| precinct.jurisdiction == county.id) {
            let registered = content
                .voters
                .iter()
                .filter(|voter| voter.precinct == precinct.id)
                .filter(|voter| matches!(voter.status, VoterStatus::Active | VoterStatus::Inactive))
                .count() as u64;
            let ballots = registered * (55 + random.below(20)) / 100;
            let ballot_parts = parts(ballots, &mut random);
            let names = (county.name.as_str(), precinct.name.as_str());
            csv.push_str(&row(names.0, names.1, "Ballots Cast", "", "", ballot_parts));
            for contest in definition.contests.iter().filter(|contest| definition.covers(&contest.id, &precinct.id)) {
                let mut left = ballots.saturating_sub(random.below(3));
                for (index, choice) in contest.choices.iter().enumerate() {
                    let votes = if index + 1 == contest.choices.len() { left } else { random.below(left + 1) };
                    left -= votes;
                    let party = choice.party.as_deref().unwrap_or("");
                    let split = parts(votes, &mut random);
                    csv.push_str(&row(names.0, names.1, contest.name.as_str(), party, choice.name.as_str(), split));
                }
            }
        }
    }
    csv
}

/// Accepted returns written back as an OpenElections CSV, by the definition's names: a
/// precinct's ballots cast (when known) and each choice's votes split by vote type. What a
/// county's tabulator export looks like, for the demo, tests and measurements.
pub fn returns_csv(definition: &ElectionDefinition, returns: &[PrecinctReturn]) -> String {
    let mut csv = String::from(HEADER);
    for precinct_return in returns {
        let Some(precinct) = definition.precinct(&precinct_return.precinct) else { continue };
        let county = definition.counties.iter().find(|county| county.id == precinct.jurisdiction);
        let names = (county.map_or("", |county| county.name.as_str()), precinct.name.as_str());
        if let Some(ballots) = &precinct_return.ballots_cast {
            csv.push_str(&row(names.0, names.1, "Ballots Cast", "", "", split(ballots)));
        }
        for counted in &precinct_return.contests {
            let Some(contest) = definition.contest(&counted.contest) else { continue };
            for (choice, votes) in contest.choices.iter().zip(&counted.choices) {
                let party = choice.party.as_deref().unwrap_or("");
                csv.push_str(&row(names.0, names.1, contest.name.as_str(), party, choice.name.as_str(), split(votes)));
            }
        }
    }
    csv
}

/// A count's parts in the CSV's column order; a total-only count as election day.
fn split(votes: &Votes) -> [u64; 4] {
    if votes.is_split() {
        [VoteType::ElectionDay, VoteType::Early, VoteType::AbsenteeByMail, VoteType::Provisional]
            .map(|kind| votes.of(kind))
    } else {
        [votes.total, 0, 0, 0]
    }
}

/// Stores the demo's definition and sends two counties' results through the intake as the
/// operator (a node-wide state administrator).
pub async fn load(store: &dyn Store, audit: &Audit, content: &DemoContent, seed: u64) -> Result<(), ServerError> {
    let csv = openelections_csv(content, 2, seed);
    let upload = ResultsUpload {
        election: &content.election.id,
        format: ResultsFormat::OpenElections,
        bytes: csv.as_bytes(),
        correction: None,
    };
    let operator = [Grant::permanent(StaffRole::StateAdministrator, None)];
    results_intake::import_results(store, audit, &operator, &upload).await?;
    Ok(())
}
