//! Conformance scenarios of election-night results (issue 7): changes and returns are written
//! together only at the next sequence, read back in order, and a refused write leaves nothing.

use canvass_core::{
    id::{ElectionId, PrecinctId},
    results::ChangeKind,
    results_sample::{SampleShape, sample_election},
};
use time::macros::date;

use super::{Scenario, ScenarioFuture};
use crate::{ResultsWrite, Store, StoreError, StoredResultsChange};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario { name: "results_changes_take_the_next_sequence_only", run: next_sequence_only },
        Scenario {
            name: "results_change_with_an_unknown_precinct_writes_nothing",
            run: unknown_precinct_writes_nothing,
        },
    ]
}

fn change(election: &ElectionId, sequence: u64, kind: ChangeKind) -> StoredResultsChange {
    StoredResultsChange {
        election: election.clone(),
        sequence,
        at: 1_762_000_000 + sequence as i64,
        county: None,
        kind,
        actor: "reporter".into(),
        file_sha256: Some(format!("{sequence:064x}")),
    }
}

fn next_sequence_only(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let sample = sample_election(SampleShape::SMALL, date!(2026 - 11 - 03), 5).unwrap();
        store.insert_jurisdiction(&sample.state).await.unwrap();
        store.insert_election_definition(&sample.definition).await.unwrap();
        let election = sample.definition.election.id.clone();
        assert!(store.results_changes(&election).await.unwrap().is_empty());
        assert!(store.precinct_returns(&election).await.unwrap().is_empty());

        let mut first = change(&election, 1, ChangeKind::Report);
        first.county = Some(sample.definition.counties[0].id.clone());
        let (some, rest) = sample.returns.split_at(4);
        assert_eq!(store.accept_results_change(&first, some).await.unwrap(), ResultsWrite::Written);
        // A second upload checked against the same state asks for the same sequence: refused.
        assert_eq!(store.accept_results_change(&first, rest).await.unwrap(), ResultsWrite::SequenceTaken);
        let skipping = change(&election, 3, ChangeKind::Report);
        assert_eq!(store.accept_results_change(&skipping, rest).await.unwrap(), ResultsWrite::SequenceTaken);
        assert_eq!(store.precinct_returns(&election).await.unwrap().len(), 4);

        let mut corrected = some[0].clone();
        corrected.contests[0].choices[0].total += 1;
        let correction = change(&election, 2, ChangeKind::Correction { reason: "recount".into() });
        assert_eq!(
            store.accept_results_change(&correction, std::slice::from_ref(&corrected)).await.unwrap(),
            ResultsWrite::Written
        );
        let certification =
            StoredResultsChange { file_sha256: None, ..change(&election, 3, ChangeKind::Certification) };
        assert_eq!(store.accept_results_change(&certification, &[]).await.unwrap(), ResultsWrite::Written);

        let changes = store.results_changes(&election).await.unwrap();
        assert_eq!(changes, vec![first, correction, certification]);
        let returns = store.precinct_returns(&election).await.unwrap();
        assert_eq!(returns.len(), 5);
        let of_first: Vec<_> =
            returns.iter().filter(|stored| stored.precinct_return.precinct == some[0].precinct).collect();
        assert_eq!(of_first.len(), 2);
        assert_eq!(of_first[0].sequence, 1);
        assert_eq!(of_first[0].precinct_return, some[0]);
        assert_eq!(of_first[1].sequence, 2, "the latest comes last");
        assert_eq!(of_first[1].precinct_return, corrected);

        let unknown = ElectionId::parse("no-such-election").unwrap();
        let error = store.accept_results_change(&change(&unknown, 1, ChangeKind::Report), &[]).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { what: "election", .. }), "{error:?}");
    })
}

fn unknown_precinct_writes_nothing(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        let sample = sample_election(SampleShape::SMALL, date!(2026 - 11 - 03), 5).unwrap();
        store.insert_jurisdiction(&sample.state).await.unwrap();
        store.insert_election_definition(&sample.definition).await.unwrap();
        let election = sample.definition.election.id.clone();
        let mut stray = sample.returns[1].clone();
        stray.precinct = PrecinctId::parse("ocd-division/country:us/state:zz/county:c001/precinct:nowhere").unwrap();
        let returns = vec![sample.returns[0].clone(), stray];
        let error = store.accept_results_change(&change(&election, 1, ChangeKind::Report), &returns).await.unwrap_err();
        assert!(matches!(error, StoreError::Missing { .. }), "{error:?}");
        assert!(store.results_changes(&election).await.unwrap().is_empty());
        assert!(store.precinct_returns(&election).await.unwrap().is_empty());
        // The sequence it asked for is still free.
        let change = change(&election, 1, ChangeKind::Report);
        assert_eq!(store.accept_results_change(&change, &returns[..1]).await.unwrap(), ResultsWrite::Written);
    })
}
