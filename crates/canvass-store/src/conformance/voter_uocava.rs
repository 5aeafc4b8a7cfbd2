//! Conformance scenario of one voter's UOCAVA tracking as the public ballot lookup reads it:
//! only that voter's requests and deliveries, oldest first, with a used link's time, and
//! nothing for a number no voter has.

use canvass_core::{
    id::ElectionId,
    uocava::{Classification, Delivery},
    voter::VoterStatus,
};

use super::{Scenario, ScenarioFuture, id, places, sample_election, voter};
use crate::{DeliveryMethod, Store, StoredUocavaDelivery, StoredUocavaRequest};

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![Scenario {
        name: "a_voters_uocava_requests_and_deliveries_are_read_by_number",
        run: a_voters_uocava_requests_and_deliveries_are_read_by_number,
    }]
}

fn request(number: &str, year: i32, delivery: Delivery, received_at: i64) -> StoredUocavaRequest {
    StoredUocavaRequest {
        id: 0,
        registration_number: number.into(),
        jurisdiction: id("wake"),
        year,
        delivery,
        classification: Classification::Military,
        received_at,
    }
}

fn delivery(number: &str, method: DeliveryMethod, sent_at: i64) -> StoredUocavaDelivery {
    StoredUocavaDelivery {
        id: 0,
        registration_number: number.into(),
        election: ElectionId::parse("general-2027").unwrap(),
        style: "style-2".into(),
        method,
        sent_at,
        downloaded_at: None,
    }
}

fn a_voters_uocava_requests_and_deliveries_are_read_by_number(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        places(store).await;
        let (election, contests) = sample_election("nc");
        store.insert_election(&election, &contests).await.unwrap();
        let voters = [
            voter("V1", "wake", "wake-01", VoterStatus::Active),
            voter("V2", "wake", "wake-02", VoterStatus::Temporary),
        ];
        store.insert_voters(&voters).await.unwrap();
        assert!(store.voter_uocava_requests("V1").await.unwrap().is_empty());
        assert!(store.voter_uocava_deliveries("V1").await.unwrap().is_empty());

        // Interleaved with another voter's, across years: only V1's come back, oldest first.
        let first = request("V1", 2026, Delivery::Mail, 100);
        let first_id = store.insert_uocava_request(&first).await.unwrap();
        store.insert_uocava_request(&request("V2", 2027, Delivery::Email, 150)).await.unwrap();
        let later = request("V1", 2027, Delivery::Online, 200);
        let later_id = store.insert_uocava_request(&later).await.unwrap();
        assert_eq!(
            store.voter_uocava_requests("V1").await.unwrap(),
            vec![StoredUocavaRequest { id: first_id, ..first }, StoredUocavaRequest { id: later_id, ..later }]
        );

        let mailed = delivery("V1", DeliveryMethod::Mail, 1_000);
        let mailed_id = store.insert_uocava_delivery(&mailed).await.unwrap();
        let other = DeliveryMethod::Link { token_hash: "other".into(), expires_at: 9_000 };
        store.insert_uocava_delivery(&delivery("V2", other, 1_500)).await.unwrap();
        let link = DeliveryMethod::Link { token_hash: "mine".into(), expires_at: 9_000 };
        let linked = delivery("V1", link, 2_000);
        let linked_id = store.insert_uocava_delivery(&linked).await.unwrap();
        assert!(store.use_uocava_link(linked_id, 3_000).await.unwrap());
        assert_eq!(
            store.voter_uocava_deliveries("V1").await.unwrap(),
            vec![
                StoredUocavaDelivery { id: mailed_id, ..mailed },
                StoredUocavaDelivery { id: linked_id, downloaded_at: Some(3_000), ..linked }
            ]
        );
        let theirs = store.voter_uocava_deliveries("V2").await.unwrap();
        assert_eq!((theirs.len(), theirs[0].sent_at, theirs[0].downloaded_at), (1, 1_500, None));

        // The lookup's miss reads a number no voter has: nothing, and no error.
        assert!(store.voter_uocava_requests("").await.unwrap().is_empty());
        assert!(store.voter_uocava_deliveries("").await.unwrap().is_empty());
    })
}
