//! Duplicate detection: candidate pairs by equal blind indexes within one roll across the
//! jurisdiction tree, paged, without decided pairs; decisions checked and kept.

use canvass_core::voter::VoterStatus;

use super::{ScenarioFuture, county, id, places, precinct, sealed_voter};
use crate::{
    DuplicateCandidate, DuplicateDecision, DuplicateQuery, DuplicateRule, DuplicateVerdict, Store, StoreError,
};

/// A voter of `roll` in `county` with the given lookup (name + birth date) and licence indexes.
fn indexed(
    number: &str,
    roll: &str,
    county: &str,
    status: VoterStatus,
    lookup: Option<i64>,
    licence: Option<i64>,
) -> crate::SealedVoter {
    let precinct = if county == "wake" { "wake-01" } else { "durham-01" };
    let mut voter = sealed_voter(number, roll, county, precinct, status, 1);
    voter.indexes.lookup = lookup;
    voter.indexes.drivers_license = licence;
    voter
}

fn pair(first: &str, second: &str, rule: DuplicateRule, roll: &str) -> DuplicateCandidate {
    DuplicateCandidate { first: first.into(), second: second.into(), rule, roll: id(roll) }
}

async fn all(store: &dyn Store, scope: &str) -> Vec<DuplicateCandidate> {
    let scope = id(scope);
    store.duplicate_candidates(&DuplicateQuery { scope: &scope, after: None, limit: 1000 }).await.unwrap()
}

fn decision(first: &str, second: &str, verdict: DuplicateVerdict, kept: Option<&str>) -> DuplicateDecision {
    DuplicateDecision {
        id: 0,
        jurisdiction: id("nc"),
        first: first.into(),
        second: second.into(),
        verdict,
        kept: kept.map(str::to_owned),
        reason: "checked the signatures".into(),
        actor: "user:clerk".into(),
        decided_at: 1_700_000_000_000,
    }
}

pub fn duplicate_candidates_pair_within_a_roll_across_the_tree(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        use DuplicateRule::{DriversLicence, NameAndBirthDate};
        use VoterStatus::{Active, Denied, Removed};
        places(store).await;
        store.insert_jurisdiction(&county("durham", "nc")).await.unwrap();
        store.insert_precinct(&precinct("durham-01", "durham")).await.unwrap();
        store
            .insert_voters(&[
                // The state's roll: one person in two counties, by name and birth date.
                indexed("NC10", "nc", "wake", Active, Some(100), None),
                indexed("NC20", "nc", "durham", Denied, Some(100), Some(1)),
                // A removed record is no candidate.
                indexed("NC50", "nc", "durham", Removed, Some(100), None),
                // One licence.
                indexed("NC30", "nc", "wake", Active, None, Some(500)),
                indexed("NC40", "nc", "durham", Active, Some(300), Some(500)),
                // Both indexes agree: listed once per rule.
                indexed("NC80", "nc", "wake", Active, Some(200), Some(600)),
                indexed("NC90", "nc", "wake", Active, Some(200), Some(600)),
                // The county's own roll, under its own keys: its values pair only with each other.
                indexed("NC60", "wake", "wake", Active, Some(100), Some(500)),
                indexed("NC70", "wake", "wake", Active, Some(100), None),
            ])
            .await
            .unwrap();

        let expected = vec![
            pair("NC10", "NC20", NameAndBirthDate, "nc"),
            pair("NC30", "NC40", DriversLicence, "nc"),
            pair("NC60", "NC70", NameAndBirthDate, "wake"),
            pair("NC80", "NC90", DriversLicence, "nc"),
            pair("NC80", "NC90", NameAndBirthDate, "nc"),
        ];
        assert_eq!(all(store, "nc").await, expected, "the whole tree, in cursor order");
        assert_eq!(
            all(store, "wake").await,
            vec![pair("NC60", "NC70", NameAndBirthDate, "wake")],
            "a county: its own roll; the state's roll is reached through the state"
        );
        assert!(all(store, "durham").await.is_empty(), "durham keeps no roll of its own");
        assert!(all(store, "nowhere").await.is_empty());

        // Pages of two walk the same list.
        let scope = id("nc");
        let mut walked = Vec::new();
        let mut after: Option<DuplicateCandidate> = None;
        loop {
            let query = DuplicateQuery {
                scope: &scope,
                after: after.as_ref().map(|last| (last.first.as_str(), last.second.as_str(), last.rule)),
                limit: 2,
            };
            let page = store.duplicate_candidates(&query).await.unwrap();
            assert!(page.len() <= 2);
            let Some(last) = page.last().cloned() else { break };
            walked.extend(page);
            after = Some(last);
        }
        assert_eq!(walked, expected);

        // Decided pairs leave the list, whichever rule found them.
        let dismissed = decision("NC10", "NC20", DuplicateVerdict::Dismissed, None);
        let first_id = store.record_duplicate_decision(&dismissed).await.unwrap();
        let merged = decision("NC80", "NC90", DuplicateVerdict::Merged, Some("NC80"));
        let second_id = store.record_duplicate_decision(&merged).await.unwrap();
        assert!(second_id > first_id);
        assert_eq!(all(store, "nc").await, vec![expected[1].clone(), expected[2].clone()]);
        let stored = store.duplicate_decisions("NC90").await.unwrap();
        assert_eq!(stored, vec![DuplicateDecision { id: second_id, ..merged.clone() }]);
        assert_eq!(store.duplicate_decisions("NC10").await.unwrap().len(), 1);
        assert!(store.duplicate_decisions("NC30").await.unwrap().is_empty());

        // Malformed decisions are refused and change nothing.
        let refused = [
            decision("NC40", "NC30", DuplicateVerdict::Dismissed, None),
            decision("NC30", "NC30", DuplicateVerdict::Dismissed, None),
            decision("NC30", "NC40", DuplicateVerdict::Merged, None),
            decision("NC30", "NC40", DuplicateVerdict::Merged, Some("NC10")),
            decision("NC30", "NC40", DuplicateVerdict::Dismissed, Some("NC30")),
        ];
        for bad in refused {
            assert!(store.record_duplicate_decision(&bad).await.is_err(), "{bad:?}");
        }
        let unknown = decision("NC30", "NC99", DuplicateVerdict::Dismissed, None);
        assert!(matches!(store.record_duplicate_decision(&unknown).await, Err(StoreError::Missing { .. })));
        assert!(store.duplicate_decisions("NC30").await.unwrap().is_empty());
        assert_eq!(all(store, "nc").await, vec![expected[1].clone(), expected[2].clone()]);
    })
}
