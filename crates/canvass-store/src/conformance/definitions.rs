//! Conformance scenarios of election definitions (issue 7): a whole definition round-trips with
//! its coverage, its counties and precincts join the tree, a taken election id is refused, and a
//! definition that cannot be stored whole leaves nothing behind.

use canvass_core::{
    jurisdiction::Precinct,
    results_sample::{SampleShape, sample_election},
};
use time::macros::date;

use super::{Scenario, ScenarioFuture};
use crate::{Store, StoreError};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario { name: "election_definitions_round_trip_with_coverage", run: round_trip },
        Scenario { name: "election_definitions_are_stored_whole_or_not_at_all", run: whole_or_nothing },
    ]
}

fn round_trip(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let sample = sample_election(SampleShape::SMALL, date!(2026 - 11 - 03), 3).unwrap();
        store.insert_jurisdiction(&sample.state).await.unwrap();
        store.insert_election_definition(&sample.definition).await.unwrap();

        let mut expected = sample.definition.clone();
        expected.precincts.sort_by(|left, right| left.id.cmp(&right.id));
        expected.counties.sort_by(|left, right| left.id.cmp(&right.id));
        let stored = store.election_definition(&expected.election.id).await.unwrap().unwrap();
        assert_eq!(stored, expected);
        assert_eq!(store.precincts(None).await.unwrap().len(), 12);

        let again = store.insert_election_definition(&sample.definition).await.unwrap_err();
        assert!(matches!(again, StoreError::AlreadyExists { what: "election", .. }), "{again:?}");
        let unknown = canvass_core::id::ElectionId::parse("no-such-election").unwrap();
        assert_eq!(store.election_definition(&unknown).await.unwrap(), None);
    })
}

fn whole_or_nothing(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let sample = sample_election(SampleShape::SMALL, date!(2026 - 11 - 03), 3).unwrap();
        store.insert_jurisdiction(&sample.state).await.unwrap();
        let mut broken = sample.definition.clone();
        // A contest covering a precinct that is neither in the definition nor in the tree.
        let stray =
            canvass_core::id::PrecinctId::parse("ocd-division/country:us/state:zz/county:c001/precinct:nowhere")
                .unwrap();
        broken.coverage.values_mut().next().unwrap().insert(stray);
        let error = store.insert_election_definition(&broken).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { .. }), "{error:?}");
        assert_eq!(store.election(&broken.election.id).await.unwrap(), None);
        let precincts: Vec<Precinct> = store.precincts(None).await.unwrap();
        assert!(precincts.is_empty(), "no precinct of a refused definition is kept: {precincts:?}");
        assert_eq!(store.jurisdictions().await.unwrap().len(), 1, "only the state");
    })
}
