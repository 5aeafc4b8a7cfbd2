//! Ballot styles: the distinct sets of contests on a precinct's ballot. Every precinct whose
//! voters vote on the same contests gets the same ballot, so a style is printed (and its PDF
//! made) once however many precincts and voters share it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    id::{ContestId, PrecinctId},
    results::ElectionDefinition,
};

/// One ballot: its contests in the definition's ballot order and the precincts that vote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BallotStyle {
    /// `style-1`, `style-2`, ... numbered in the order the definition lists each style's first
    /// precinct, so the numbering is the same every time a stored definition is read.
    pub id: String,
    pub contests: Vec<ContestId>,
    /// In the definition's precinct order.
    pub precincts: Vec<PrecinctId>,
}

/// The ballot styles of an election. A precinct that votes on no contest has no ballot and no
/// style.
pub fn ballot_styles(definition: &ElectionDefinition) -> Vec<BallotStyle> {
    let mut styles: Vec<BallotStyle> = Vec::new();
    let mut by_contests: BTreeMap<Vec<ContestId>, usize> = BTreeMap::new();
    for precinct in &definition.precincts {
        let contests = contests_of(definition, &precinct.id);
        if contests.is_empty() {
            continue;
        }
        let index = *by_contests.entry(contests.clone()).or_insert_with(|| {
            styles.push(BallotStyle { id: format!("style-{}", styles.len() + 1), contests, precincts: Vec::new() });
            styles.len() - 1
        });
        styles[index].precincts.push(precinct.id.clone());
    }
    styles
}

/// The style whose ballot the voters of `precinct` receive.
pub fn style_of<'a>(styles: &'a [BallotStyle], precinct: &PrecinctId) -> Option<&'a BallotStyle> {
    styles.iter().find(|style| style.precincts.contains(precinct))
}

/// The contests on `precinct`'s ballot, in ballot order.
fn contests_of(definition: &ElectionDefinition, precinct: &PrecinctId) -> Vec<ContestId> {
    definition
        .contests
        .iter()
        .filter(|contest| definition.covers(&contest.id, precinct))
        .map(|contest| contest.id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::results_sample::{SampleShape, sample_election};

    fn sample(shape: SampleShape) -> ElectionDefinition {
        let date = time::Date::from_calendar_date(2026, time::Month::November, 3).unwrap();
        sample_election(shape, date, 7).unwrap().definition
    }

    #[test]
    fn precincts_with_the_same_contests_share_a_style() {
        let definition = sample(SampleShape::SMALL);
        let styles = ballot_styles(&definition);
        // The sample's contests are statewide or belong to one county, so each county's
        // precincts vote the same ballot and no two counties do.
        assert_eq!(styles.len(), definition.counties.len());
        for style in &styles {
            let counties: std::collections::BTreeSet<_> = style
                .precincts
                .iter()
                .map(|precinct| definition.precinct(precinct).unwrap().jurisdiction.clone())
                .collect();
            assert_eq!(counties.len(), 1, "{} spans counties", style.id);
            for precinct in &style.precincts {
                assert_eq!(contests_of(&definition, precinct), style.contests);
            }
        }
        let covered: usize = styles.iter().map(|style| style.precincts.len()).sum();
        assert_eq!(covered, definition.precincts.len());
    }

    #[test]
    fn every_contest_is_on_the_ballots_of_exactly_its_precincts() {
        let definition = sample(SampleShape::SMALL);
        let styles = ballot_styles(&definition);
        for contest in &definition.contests {
            for precinct in &definition.precincts {
                let style = style_of(&styles, &precinct.id).unwrap();
                assert_eq!(style.contests.contains(&contest.id), definition.covers(&contest.id, &precinct.id));
            }
        }
    }

    #[test]
    fn a_precinct_without_contests_has_no_style_and_numbering_is_stable() {
        let mut definition = sample(SampleShape::SMALL);
        let lonely = definition.precincts[0].id.clone();
        for precincts in definition.coverage.values_mut() {
            precincts.remove(&lonely);
        }
        let styles = ballot_styles(&definition);
        assert!(style_of(&styles, &lonely).is_none());
        assert_eq!(styles, ballot_styles(&definition));
        assert!(styles.iter().enumerate().all(|(index, style)| style.id == format!("style-{}", index + 1)));
    }
}
