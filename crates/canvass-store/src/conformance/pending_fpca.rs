//! Conformance scenario of FPCAs held for a clerk: stored sealed bytes come back byte-exact,
//! the voter must be on the jurisdiction's roll, an id is used once, the undecided filter, and a
//! decision is made once (a second is refused without writing, an unknown id is `Missing`).

use canvass_core::voter::VoterStatus;

use super::{Scenario, ScenarioFuture, id, places, voter};
use crate::{FpcaDecision, Store, StoreError, StoredPendingFpca};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![Scenario {
        name: "held_fpcas_are_stored_sealed_and_decided_once",
        run: held_fpcas_are_stored_sealed_and_decided_once,
    }]
}

fn held(id_text: &str, number: &str, received_at: i64) -> StoredPendingFpca {
    StoredPendingFpca {
        id: id_text.into(),
        registration_number: number.into(),
        jurisdiction: id("wake"),
        // Every byte value, as a sealed value may hold any.
        sealed_request: (0..=255u8).rev().collect(),
        received_at,
        decision: None,
    }
}

fn decision(confirmed: bool, reason: &str, decided_at: i64) -> FpcaDecision {
    FpcaDecision { confirmed, reason: reason.into(), actor: "clerk".into(), decided_at }
}

fn held_fpcas_are_stored_sealed_and_decided_once(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        places(store).await;
        store.insert_voters(&[voter("V1", "wake", "wake-01", VoterStatus::Active)]).await.unwrap();
        assert!(store.pending_fpcas(false).await.unwrap().is_empty());
        assert_eq!(store.pending_fpca("fpca-1").await.unwrap(), None);

        let first = held("fpca-1", "V1", 200);
        store.insert_pending_fpca(&first).await.unwrap();
        // A decision given with the row is not stored with it.
        let second = StoredPendingFpca { decision: Some(decision(true, "", 1)), ..held("fpca-2", "V1", 100) };
        store.insert_pending_fpca(&second).await.unwrap();
        let second = StoredPendingFpca { decision: None, ..second };
        assert_eq!(store.pending_fpca("fpca-1").await.unwrap(), Some(first.clone()));
        assert_eq!(store.pending_fpcas(false).await.unwrap(), vec![second.clone(), first.clone()], "oldest first");

        // The id is used once; the voter must be on that jurisdiction's roll.
        let taken = store.insert_pending_fpca(&held("fpca-1", "V1", 300)).await.unwrap_err();
        assert!(matches!(taken, StoreError::AlreadyExists { .. }), "{taken:?}");
        let nobody = store.insert_pending_fpca(&held("fpca-3", "NOBODY", 300)).await.unwrap_err();
        assert!(matches!(nobody, StoreError::Missing { .. }), "{nobody:?}");
        let elsewhere = StoredPendingFpca { jurisdiction: id("nc"), ..held("fpca-4", "V1", 300) };
        assert!(matches!(store.insert_pending_fpca(&elsewhere).await, Err(StoreError::Missing { .. })));
        assert_eq!(store.pending_fpcas(false).await.unwrap().len(), 2);

        // Decided once: the second decision is refused and changes nothing.
        let rejected = decision(false, "the voter did not send it", 500);
        assert!(store.decide_pending_fpca("fpca-1", &rejected).await.unwrap());
        assert!(!store.decide_pending_fpca("fpca-1", &decision(true, "", 600)).await.unwrap());
        let decided = store.pending_fpca("fpca-1").await.unwrap().unwrap();
        assert_eq!(decided, StoredPendingFpca { decision: Some(rejected), ..first });
        assert_eq!(store.pending_fpcas(true).await.unwrap(), vec![second.clone()], "only the undecided");
        assert_eq!(store.pending_fpcas(false).await.unwrap().len(), 2);
        let confirmed = decision(true, "", 700);
        assert!(store.decide_pending_fpca("fpca-2", &confirmed).await.unwrap());
        assert!(store.pending_fpcas(true).await.unwrap().is_empty());
        assert_eq!(store.pending_fpca("fpca-2").await.unwrap().unwrap().decision, Some(confirmed));

        let unknown = store.decide_pending_fpca("fpca-404", &decision(true, "", 800)).await.unwrap_err();
        assert!(matches!(unknown, StoreError::Missing { .. }), "{unknown:?}");
    })
}
