//! Conformance scenarios of absentee and provisional ballots: a ballot and its first history row
//! are stored together, a status moves compare-and-set with its history row, one live ballot of
//! each kind per voter and election, and unknown voters, elections and ballots are refused.

use canvass_core::{
    ballots::{AbsenteeStatus, BallotStatus, ProvisionalReason, ProvisionalStatus, RejectionReason},
    id::ElectionId,
    voter::VoterStatus,
};
use time::macros::date;

use super::{Scenario, ScenarioFuture, county, id, places, sample_election, voter};
use crate::{Store, StoreError, StoredBallot, StoredBallotChange};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario { name: "ballots_move_compare_and_set_with_history", run: ballots_move_compare_and_set_with_history },
        Scenario { name: "ballots_refuse_unknown_references", run: ballots_refuse_unknown_references },
    ]
}

fn absentee(status: AbsenteeStatus) -> BallotStatus {
    BallotStatus::Absentee(status)
}

fn ballot(number: &str, status: BallotStatus) -> StoredBallot {
    StoredBallot {
        id: 0,
        registration_number: number.to_owned(),
        jurisdiction: id("wake"),
        election: ElectionId::parse("general-2027").unwrap(),
        status,
        cure_deadline: None,
        opened_on: date!(2027 - 09 - 20),
        status_on: date!(2027 - 09 - 20),
        updated_at: 1_800_000_000_000,
    }
}

fn change(ballot: i64, from: BallotStatus, to: BallotStatus, on: time::Date) -> StoredBallotChange {
    StoredBallotChange {
        id: 0,
        ballot,
        registration_number: "A1".into(),
        from: Some(from),
        to,
        cure_deadline: None,
        on,
        actor: "user:clerk".into(),
        recorded_at: 1_800_000_000_100,
    }
}

async fn set_up(store: &dyn Store) {
    places(store).await;
    let (election, contests) = sample_election("nc");
    store.insert_election(&election, &contests).await.unwrap();
    store.insert_voters(&[voter("A1", "wake", "wake-01", VoterStatus::Active)]).await.unwrap();
}

fn ballots_move_compare_and_set_with_history(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        use AbsenteeStatus::{Cancelled, Cured, Rejected, Requested, Returned, Sent};
        set_up(store).await;
        assert!(store.voter_ballots("A1").await.unwrap().is_empty());
        let requested = ballot("A1", absentee(Requested));
        let id = store.insert_ballot(&requested, "user:clerk").await.unwrap();
        let again = store.insert_ballot(&requested, "user:clerk").await;
        assert!(matches!(again, Err(StoreError::AlreadyExists { .. })), "one live absentee ballot: {again:?}");

        let send = change(id, absentee(Requested), absentee(Sent), date!(2027 - 09 - 25));
        assert!(store.change_ballot_status(&send).await.unwrap());
        // Stale: the ballot is no longer requested.
        let stale = change(id, absentee(Requested), absentee(Cancelled), date!(2027 - 09 - 26));
        assert!(!store.change_ballot_status(&stale).await.unwrap());
        let returned = change(id, absentee(Sent), absentee(Returned), date!(2027 - 10 - 10));
        assert!(store.change_ballot_status(&returned).await.unwrap());
        let rejected = absentee(Rejected { reason: RejectionReason::MissingWitness });
        let reject = StoredBallotChange {
            cure_deadline: Some(date!(2027 - 11 - 11)),
            ..change(id, absentee(Returned), rejected, date!(2027 - 10 - 12))
        };
        assert!(store.change_ballot_status(&reject).await.unwrap());

        let stored = store.voter_ballots("A1").await.unwrap();
        assert_eq!(
            stored,
            vec![StoredBallot {
                id,
                status: rejected,
                cure_deadline: Some(date!(2027 - 11 - 11)),
                status_on: date!(2027 - 10 - 12),
                updated_at: 1_800_000_000_100,
                ..requested.clone()
            }]
        );
        let history = store.voter_ballot_changes("A1").await.unwrap();
        assert_eq!(history.len(), 4, "the first status and three changes; the stale one left nothing");
        assert!(history.windows(2).all(|pair| pair[0].id < pair[1].id), "oldest first");
        assert_eq!(history[0].from, None);
        assert_eq!(history[0].to, absentee(Requested));
        assert_eq!(history[0].on, date!(2027 - 09 - 20));
        assert_eq!(history[0].actor, "user:clerk");
        assert_eq!(StoredBallotChange { id: 0, ..history[1].clone() }, send);
        assert_eq!(StoredBallotChange { id: 0, ..history[3].clone() }, reject);

        // A provisional ballot is another kind: it lives beside the absentee one, and an
        // absentee change cannot move it.
        let cast = BallotStatus::Provisional(ProvisionalStatus::Cast);
        let provisional = store.insert_ballot(&ballot("A1", cast), "user:clerk").await.unwrap();
        assert!(provisional > id);
        let wrong_kind = change(provisional, absentee(Requested), absentee(Sent), date!(2027 - 11 - 03));
        assert!(matches!(store.change_ballot_status(&wrong_kind).await, Err(StoreError::Missing { .. })));
        let not_counted =
            BallotStatus::Provisional(ProvisionalStatus::NotCounted { reason: ProvisionalReason::WrongPrecinct });
        assert!(
            store.change_ballot_status(&change(provisional, cast, not_counted, date!(2027 - 11 - 10))).await.unwrap()
        );

        // Once cancelled, a new absentee ballot may be issued.
        let cure = change(id, rejected, absentee(Cured), date!(2027 - 10 - 20));
        assert!(store.change_ballot_status(&cure).await.unwrap());
        let cancel = change(id, absentee(Cured), absentee(Cancelled), date!(2027 - 10 - 21));
        assert!(store.change_ballot_status(&cancel).await.unwrap());
        let reissued = store.insert_ballot(&requested, "user:clerk").await.unwrap();
        let stored = store.voter_ballots("A1").await.unwrap();
        assert_eq!(stored.iter().map(|ballot| ballot.id).collect::<Vec<_>>(), [id, provisional, reissued]);
        assert_eq!(stored[1].status, not_counted);
        assert_eq!(store.voter_ballot_changes("A1").await.unwrap().len(), 9);
        assert!(store.voter_ballots("nobody").await.unwrap().is_empty());
        assert!(store.voter_ballot_changes("nobody").await.unwrap().is_empty());
    })
}

fn ballots_refuse_unknown_references(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        set_up(store).await;
        let requested = absentee(AbsenteeStatus::Requested);
        let nobody = store.insert_ballot(&ballot("nobody", requested), "user:clerk").await;
        assert!(matches!(nobody, Err(StoreError::Missing { what: "voter", .. })), "{nobody:?}");
        store.insert_jurisdiction(&county("durham", "nc")).await.unwrap();
        let elsewhere = StoredBallot { jurisdiction: id("durham"), ..ballot("A1", requested) };
        let refused = store.insert_ballot(&elsewhere, "user:clerk").await;
        assert!(matches!(refused, Err(StoreError::Missing { what: "voter", .. })), "{refused:?}");
        let unknown_election =
            StoredBallot { election: ElectionId::parse("no-such-election").unwrap(), ..ballot("A1", requested) };
        let refused = store.insert_ballot(&unknown_election, "user:clerk").await;
        assert!(matches!(refused, Err(StoreError::Missing { what: "election", .. })), "{refused:?}");
        let missing = change(42, requested, absentee(AbsenteeStatus::Sent), date!(2027 - 09 - 25));
        assert!(matches!(store.change_ballot_status(&missing).await, Err(StoreError::Missing { .. })));
        assert!(store.voter_ballots("A1").await.unwrap().is_empty());
        assert!(store.voter_ballot_changes("A1").await.unwrap().is_empty());
    })
}
