//! Conformance scenarios of UOCAVA requests, deliveries and FWAB receipts: rows round-trip, a
//! link is found by its hash and used once and only before it expires, and unknown voters and
//! elections are refused.

use canvass_core::{
    id::ElectionId,
    uocava::{Classification, Delivery},
    voter::VoterStatus,
};
use time::macros::date;

use super::{Scenario, ScenarioFuture, id, places, sample_election, voter};
use crate::{DeliveryMethod, Store, StoreError, StoredFwab, StoredUocavaDelivery, StoredUocavaRequest};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario { name: "uocava_requests_and_deliveries_round_trip", run: uocava_requests_and_deliveries_round_trip },
        Scenario { name: "uocava_links_are_used_once_before_expiry", run: uocava_links_are_used_once_before_expiry },
    ]
}

async fn set_up(store: &dyn Store) {
    places(store).await;
    let (election, contests) = sample_election("nc");
    store.insert_election(&election, &contests).await.unwrap();
    store.insert_voters(&[voter("U1", "wake", "wake-01", VoterStatus::Temporary)]).await.unwrap();
}

fn election() -> ElectionId {
    ElectionId::parse("general-2027").unwrap()
}

fn link(hash: &str, expires_at: i64) -> StoredUocavaDelivery {
    StoredUocavaDelivery {
        id: 0,
        registration_number: "U1".into(),
        election: election(),
        style: "style-1".into(),
        method: DeliveryMethod::Link { token_hash: hash.into(), expires_at },
        sent_at: 1_000,
        downloaded_at: None,
    }
}

fn uocava_requests_and_deliveries_round_trip(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        set_up(store).await;
        let request = StoredUocavaRequest {
            id: 0,
            registration_number: "U1".into(),
            jurisdiction: id("wake"),
            year: 2027,
            delivery: Delivery::Email,
            classification: Classification::Overseas,
            received_at: 1_800_000_000_000,
        };
        let first = store.insert_uocava_request(&request).await.unwrap();
        let later = StoredUocavaRequest { delivery: Delivery::Mail, received_at: 1_800_000_000_500, ..request.clone() };
        let second = store.insert_uocava_request(&later).await.unwrap();
        assert!(second > first);
        assert_eq!(
            store.uocava_requests(2027).await.unwrap(),
            vec![StoredUocavaRequest { id: first, ..request.clone() }, StoredUocavaRequest { id: second, ..later }]
        );
        assert!(store.uocava_requests(2026).await.unwrap().is_empty());
        let nobody = StoredUocavaRequest { registration_number: "nobody".into(), ..request.clone() };
        assert!(matches!(store.insert_uocava_request(&nobody).await, Err(StoreError::Missing { what: "voter", .. })));
        let elsewhere = StoredUocavaRequest { jurisdiction: id("nc"), ..request };
        assert!(matches!(store.insert_uocava_request(&elsewhere).await, Err(StoreError::Missing { .. })));
        assert_eq!(store.uocava_requests(2027).await.unwrap().len(), 2, "refusals wrote nothing");

        let mail = StoredUocavaDelivery { method: DeliveryMethod::Mail, ..link("unused", 0) };
        let mailed = store.insert_uocava_delivery(&mail).await.unwrap();
        let linked = store.insert_uocava_delivery(&link("ab12", 9_000)).await.unwrap();
        let stored = store.uocava_deliveries(&election()).await.unwrap();
        assert_eq!(
            stored,
            vec![
                StoredUocavaDelivery { id: mailed, ..mail },
                StoredUocavaDelivery { id: linked, ..link("ab12", 9_000) }
            ]
        );
        let taken = store.insert_uocava_delivery(&link("ab12", 9_000)).await;
        assert!(matches!(taken, Err(StoreError::AlreadyExists { .. })), "{taken:?}");
        let unknown = StoredUocavaDelivery { election: ElectionId::parse("nowhere-2027").unwrap(), ..link("cd34", 1) };
        assert!(matches!(store.insert_uocava_delivery(&unknown).await, Err(StoreError::Missing { .. })));

        let fwab = StoredFwab {
            id: 0,
            registration_number: "U1".into(),
            election: election(),
            received_on: date!(2027 - 10 - 02),
            actor: "user:clerk".into(),
            recorded_at: 5,
        };
        let fwab_id = store.insert_uocava_fwab(&fwab).await.unwrap();
        assert!(matches!(store.insert_uocava_fwab(&fwab).await, Err(StoreError::AlreadyExists { .. })));
        assert_eq!(store.uocava_fwabs(&election()).await.unwrap(), vec![StoredFwab { id: fwab_id, ..fwab }]);
    })
}

fn uocava_links_are_used_once_before_expiry(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        set_up(store).await;
        let fresh = store.insert_uocava_delivery(&link("fresh", 9_000)).await.unwrap();
        let stale = store.insert_uocava_delivery(&link("stale", 2_000)).await.unwrap();
        let found = store.uocava_delivery_by_token("fresh").await.unwrap().unwrap();
        assert_eq!(found.id, fresh);
        assert!(store.uocava_delivery_by_token("missing").await.unwrap().is_none());

        assert!(!store.use_uocava_link(stale, 2_000).await.unwrap(), "expired at its expiry time");
        assert!(store.use_uocava_link(fresh, 3_000).await.unwrap());
        assert!(!store.use_uocava_link(fresh, 3_001).await.unwrap(), "a link is used once");
        assert!(!store.use_uocava_link(999_999, 3_001).await.unwrap());
        let used = store.uocava_delivery_by_token("fresh").await.unwrap().unwrap();
        assert_eq!(used.downloaded_at, Some(3_000));
        assert_eq!(store.uocava_delivery_by_token("stale").await.unwrap().unwrap().downloaded_at, None);
    })
}
