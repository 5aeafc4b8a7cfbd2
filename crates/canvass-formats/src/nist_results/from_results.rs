//! An election's accepted results ([`canvass_core::results::ElectionResults`]) as a 1500-100 v2
//! precinct-level report: the state, its counties and their precincts as reporting units (with
//! registered voters), parties and candidates from the contests' choices, each contest with its
//! selections' counts per precinct (`total` and, when the precinct split them, one count per
//! vote type), and each precinct's ballots cast. A report may be limited to some counties, so a
//! county's file changes only when its numbers do.
//!
//! `ObjectId`s are made from positions (`ru-county-3`, `cc-12`...), since the model's ids
//! (OCD-IDs) are not XML identifiers; the OCD-ID is kept as the unit's external identifier.

use std::collections::{BTreeMap, BTreeSet};

use canvass_core::{
    election::ContestKind as CoreContestKind,
    id::JurisdictionId,
    results::{ElectionResults, VoteType, Votes},
};

use super::{
    BallotCounts, Candidate, Choice, Contest, ContestKind, ContestSelection, CountItemType, Election, ElectionReport,
    ElectionType, ExternalIdentifier, GpUnit, IdentifierType, InternationalizedText, Party, ReportDetailLevel,
    ReportingUnitType, ResultsStatus, VoteCounts,
};

/// What a report says about itself besides the results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportHeader {
    /// An `xsd:dateTime` with its offset.
    pub generated_date: String,
    pub issuer: String,
    pub issuer_abbreviation: String,
    /// The snapshot's sequence (`SequenceStart` and `SequenceEnd`).
    pub sequence: u64,
    pub vendor_application_id: String,
}

const LANGUAGE: &str = "en";

/// The count type a vote type is reported as.
pub fn count_item_type(kind: VoteType) -> CountItemType {
    match kind {
        VoteType::ElectionDay => CountItemType::ElectionDay,
        VoteType::Early => CountItemType::Early,
        VoteType::AbsenteeByMail => CountItemType::AbsenteeMail,
        VoteType::Provisional => CountItemType::Provisional,
    }
}

/// The results as a precinct-level report. `counties`, when given, limits the precincts (and
/// the contests) to those counties'; the state and every county stay defined as units.
pub fn report_of_results(
    results: &ElectionResults,
    counties: Option<&BTreeSet<JurisdictionId>>,
    header: &ReportHeader,
) -> ElectionReport {
    let definition = &results.definition;
    let included = |county: &JurisdictionId| counties.is_none_or(|set| set.contains(county));
    let precincts: Vec<_> = definition.precincts.iter().filter(|precinct| included(&precinct.jurisdiction)).collect();
    let precinct_ids: BTreeMap<_, String> = precincts
        .iter()
        .enumerate()
        .map(|(index, precinct)| (&precinct.id, format!("ru-precinct-{}", index + 1)))
        .collect();
    let county_ids: BTreeMap<_, String> = definition
        .counties
        .iter()
        .enumerate()
        .map(|(index, county)| (&county.id, format!("ru-county-{}", index + 1)))
        .collect();
    let state_id = "ru-state".to_owned();

    let mut gp_units = vec![GpUnit {
        object_id: state_id.clone(),
        kind: ReportingUnitType::State,
        other_type: None,
        name: None,
        composing_gp_unit_ids: county_ids.values().cloned().collect(),
        external_identifiers: vec![identifier(definition.election.jurisdiction.as_str())],
        voters_registered: None,
    }];
    for county in &definition.counties {
        let composing = precincts
            .iter()
            .filter(|precinct| precinct.jurisdiction == county.id)
            .filter_map(|precinct| precinct_ids.get(&precinct.id).cloned())
            .collect();
        gp_units.push(GpUnit {
            object_id: county_ids[&county.id].clone(),
            kind: ReportingUnitType::County,
            other_type: None,
            name: Some(InternationalizedText::new(LANGUAGE, county.name.as_str())),
            composing_gp_unit_ids: composing,
            external_identifiers: vec![identifier(county.id.as_str())],
            voters_registered: None,
        });
    }
    for precinct in &precincts {
        gp_units.push(GpUnit {
            object_id: precinct_ids[&precinct.id].clone(),
            kind: ReportingUnitType::Precinct,
            other_type: None,
            name: Some(InternationalizedText::new(LANGUAGE, precinct.name.as_str())),
            composing_gp_unit_ids: Vec::new(),
            external_identifiers: vec![identifier(precinct.id.as_str())],
            voters_registered: results.registered.get(&precinct.id).copied(),
        });
    }

    // Parties in order of first appearance on the ballot.
    let mut parties: Vec<Party> = Vec::new();
    let mut party_ids: BTreeMap<&str, String> = BTreeMap::new();
    for choice in definition.contests.iter().flat_map(|contest| &contest.choices) {
        if let Some(party) = choice.party.as_deref().filter(|party| !party.is_empty())
            && !party_ids.contains_key(party)
        {
            let object_id = format!("party-{}", parties.len() + 1);
            party_ids.insert(party, object_id.clone());
            parties.push(Party {
                object_id,
                name: InternationalizedText::new(LANGUAGE, party),
                abbreviation: Some(InternationalizedText::new(LANGUAGE, party)),
            });
        }
    }

    let mut candidates = Vec::new();
    let mut contests = Vec::new();
    let mut extra_units = Vec::new();
    for (contest_index, contest) in definition.contests.iter().enumerate() {
        let covered: Vec<_> =
            precincts.iter().filter(|precinct| definition.covers(&contest.id, &precinct.id)).collect();
        if counties.is_some() && covered.is_empty() {
            continue;
        }
        let contest_id = format!("cc-{}", contest_index + 1);
        let district = if contest.district == definition.election.jurisdiction {
            state_id.clone()
        } else if let Some(county) = county_ids.get(&contest.district) {
            county.clone()
        } else {
            // A district that is neither the state nor a county: a unit of its own, made of
            // the precincts that vote on the contest.
            let object_id = format!("ru-district-{}", contest_index + 1);
            extra_units.push(GpUnit {
                object_id: object_id.clone(),
                kind: ReportingUnitType::Other,
                other_type: Some("district".into()),
                name: None,
                composing_gp_unit_ids: covered
                    .iter()
                    .filter_map(|precinct| precinct_ids.get(&precinct.id).cloned())
                    .collect(),
                external_identifiers: vec![identifier(contest.district.as_str())],
                voters_registered: None,
            });
            object_id
        };
        let mut selections = Vec::new();
        for (choice_index, choice) in contest.choices.iter().enumerate() {
            let selection_id = format!("{contest_id}-cs-{}", choice_index + 1);
            let choice_model = match contest.kind {
                CoreContestKind::Candidate => {
                    let candidate_id = format!("{contest_id}-cand-{}", choice_index + 1);
                    candidates.push(Candidate {
                        object_id: candidate_id.clone(),
                        ballot_name: InternationalizedText::new(LANGUAGE, choice.name.as_str()),
                        party_id: choice.party.as_deref().and_then(|party| party_ids.get(party)).cloned(),
                    });
                    Choice::Candidates { candidate_ids: vec![candidate_id], is_write_in: None }
                }
                // A retention question's judge is not in the model: its answers are written
                // as a ballot measure's.
                CoreContestKind::BallotMeasure | CoreContestKind::Retention => {
                    Choice::BallotMeasure { selection: InternationalizedText::new(LANGUAGE, choice.name.as_str()) }
                }
            };
            let mut vote_counts = Vec::new();
            for precinct in &covered {
                let votes = results
                    .returns
                    .get(&precinct.id)
                    .and_then(|precinct_return| {
                        precinct_return.contests.iter().find(|contest_return| contest_return.contest == contest.id)
                    })
                    .and_then(|contest_return| contest_return.choices.get(choice_index));
                if let Some(votes) = votes {
                    push_counts(&mut vote_counts, &precinct_ids[&precinct.id], votes);
                }
            }
            selections.push(ContestSelection { object_id: selection_id, choice: choice_model, vote_counts });
        }
        let kind = match contest.kind {
            CoreContestKind::Candidate => ContestKind::Candidate {
                votes_allowed: u64::from(contest.vote_for.get()),
                primary_party_ids: Vec::new(),
            },
            CoreContestKind::BallotMeasure | CoreContestKind::Retention => {
                ContestKind::BallotMeasure { full_text: None }
            }
        };
        contests.push(Contest {
            object_id: contest_id,
            name: contest.name.as_str().to_owned(),
            election_district_id: district,
            kind,
            selections,
            other_counts: Vec::new(),
        });
    }
    gp_units.extend(extra_units);

    let mut ballot_counts = Vec::new();
    for precinct in &precincts {
        let Some(ballots) = results.returns.get(&precinct.id).and_then(|precinct_return| precinct_return.ballots_cast)
        else {
            continue;
        };
        for (kind, count) in counts_of(&ballots) {
            ballot_counts.push(BallotCounts {
                gp_unit_id: precinct_ids[&precinct.id].clone(),
                kind,
                other_type: None,
                ballots_cast: Some(count),
                ballots_outstanding: None,
                ballots_rejected: None,
            });
        }
    }

    let election = &definition.election;
    ElectionReport {
        format: ReportDetailLevel::PrecinctLevel,
        generated_date: header.generated_date.clone(),
        issuer: header.issuer.clone(),
        issuer_abbreviation: header.issuer_abbreviation.clone(),
        status: status(results),
        sequence_start: header.sequence,
        sequence_end: header.sequence,
        vendor_application_id: header.vendor_application_id.clone(),
        gp_units,
        parties,
        elections: vec![Election {
            name: InternationalizedText::new(LANGUAGE, election.name.as_str()),
            kind: election_type(election.kind),
            other_type: None,
            start_date: election.date,
            end_date: election.date,
            election_scope_id: state_id,
            ballot_counts,
            candidates,
            contests,
        }],
    }
}

fn identifier(id: &str) -> ExternalIdentifier {
    let kind = if id.starts_with("ocd-division/") { IdentifierType::OcdId } else { IdentifierType::LocalLevel };
    ExternalIdentifier { kind, other_type: None, value: id.to_owned() }
}

/// `total`, then each vote type when the count is split.
fn counts_of(votes: &Votes) -> Vec<(CountItemType, u64)> {
    let mut counts = vec![(CountItemType::Total, votes.total)];
    if votes.is_split() {
        counts.extend(VoteType::ALL.into_iter().map(|kind| (count_item_type(kind), votes.of(kind))));
    }
    counts
}

fn push_counts(out: &mut Vec<VoteCounts>, unit: &str, votes: &Votes) {
    for (kind, count) in counts_of(votes) {
        out.push(VoteCounts { gp_unit_id: unit.to_owned(), kind, other_type: None, count });
    }
}

fn status(results: &ElectionResults) -> ResultsStatus {
    if results.is_certified() {
        ResultsStatus::Certified
    } else if results.returns.len() >= results.definition.precincts.len() {
        ResultsStatus::UnofficialComplete
    } else {
        ResultsStatus::UnofficialPartial
    }
}

fn election_type(kind: canvass_core::election::ElectionKind) -> ElectionType {
    use canvass_core::election::ElectionKind;
    match kind {
        ElectionKind::General => ElectionType::General,
        ElectionKind::Primary => ElectionType::Primary,
        ElectionKind::Special => ElectionType::Special,
    }
}
