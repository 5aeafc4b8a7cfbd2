//! Scenarios for what the roll keeps beside the voter row: voter history (batched like voter
//! imports, idempotent) and sealed signature images (replaced, resealed, counted per key version).

use canvass_core::voter::VoterStatus;
use time::macros::date;

use super::{Scenario, ScenarioFuture, id, import, key, places, ring, sealed_voter, voter};
use crate::{
    ImportCounts, KeyState, KeyVersionUsage, Store, StoreError, StoredImport, StoredSignature, StoredVote,
    VoteHistoryBatch,
};

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "vote_history_batches_insert_update_and_leave_unchanged",
            run: vote_history_batches_insert_update_and_leave_unchanged,
        },
        Scenario { name: "vote_history_batch_is_all_or_nothing", run: vote_history_batch_is_all_or_nothing },
        Scenario {
            name: "signatures_are_replaced_resealed_and_hold_their_key_version",
            run: signatures_are_replaced_resealed_and_hold_their_key_version,
        },
    ]
}

fn vote(number: &str, day: time::Date, description: &str, method: &str) -> StoredVote {
    StoredVote {
        registration_number: number.to_owned(),
        jurisdiction: id("wake"),
        election_date: day,
        election_description: description.to_owned(),
        voting_method: method.to_owned(),
        voted_party: Some("UNA".into()),
        county_number: 92,
        county_registration_number: format!("0000{number}"),
        precinct_label: None,
        voted_county_number: Some(92),
    }
}

fn history_import(id_text: &str) -> StoredImport {
    StoredImport { format: "ncvhis".into(), ..import(id_text, "wake") }
}

async fn roll(store: &dyn Store) {
    places(store).await;
    store
        .insert_voters(&[
            voter("NC1", "wake", "wake-01", VoterStatus::Active),
            voter("NC2", "wake", "wake-01", VoterStatus::Active),
        ])
        .await
        .unwrap();
}

fn vote_history_batches_insert_update_and_leave_unchanged(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        roll(store).await;
        store.insert_voter_import(&history_import("import-1")).await.unwrap();
        let votes = [
            vote("NC1", date!(2020 - 11 - 03), "11/03/2020 GENERAL", "IN-PERSON"),
            vote("NC1", date!(2024 - 03 - 05), "03/05/2024 PRIMARY", "ABSENTEE BY MAIL"),
            vote("NC2", date!(2020 - 11 - 03), "11/03/2020 GENERAL", "PROVISIONAL"),
        ];
        let batch =
            VoteHistoryBatch { import_id: "import-1", votes: &votes, position: 100, line: 4, rejected: 1, at: 2_000 };
        let written = store.write_vote_history_batch(&batch).await.unwrap();
        assert_eq!(written.batch, ImportCounts { inserted: 3, updated: 0, unchanged: 0, rejected: 1 });
        assert_eq!(written.import, written.batch, "the import's counts start at zero");

        // The same votes again change nothing; one corrected vote is an update.
        let corrected = [votes[0].clone(), StoredVote { voting_method: "ABSENTEE ONESTOP".into(), ..votes[2].clone() }];
        let batch = VoteHistoryBatch {
            import_id: "import-1",
            votes: &corrected,
            position: 200,
            line: 6,
            rejected: 0,
            at: 3_000,
        };
        let written = store.write_vote_history_batch(&batch).await.unwrap();
        assert_eq!(written.batch, ImportCounts { inserted: 0, updated: 1, unchanged: 1, rejected: 0 });
        assert_eq!(written.import, ImportCounts { inserted: 3, updated: 1, unchanged: 1, rejected: 1 });
        let stored = store.voter_import("import-1").await.unwrap().unwrap();
        assert_eq!((stored.position, stored.line, stored.counts, stored.updated_at), (200, 6, written.import, 3_000));

        assert_eq!(store.vote_history("NC1").await.unwrap(), vec![votes[1].clone(), votes[0].clone()], "newest first");
        assert_eq!(store.vote_history("NC2").await.unwrap(), vec![corrected[1].clone()]);
        assert!(store.vote_history("NC9").await.unwrap().is_empty());

        store.finish_voter_import("import-1", 4_000).await.unwrap();
        let batch =
            VoteHistoryBatch { import_id: "import-1", votes: &votes, position: 300, line: 7, rejected: 0, at: 5_000 };
        assert!(
            matches!(store.write_vote_history_batch(&batch).await, Err(StoreError::Missing { .. })),
            "a finished import takes no more rows"
        );
    })
}

fn vote_history_batch_is_all_or_nothing(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        roll(store).await;
        store.insert_voter_import(&history_import("import-1")).await.unwrap();
        let votes = [
            vote("NC1", date!(2020 - 11 - 03), "11/03/2020 GENERAL", "IN-PERSON"),
            vote("NC9", date!(2020 - 11 - 03), "11/03/2020 GENERAL", "IN-PERSON"),
        ];
        let batch =
            VoteHistoryBatch { import_id: "import-1", votes: &votes, position: 100, line: 3, rejected: 0, at: 2_000 };
        assert!(
            matches!(store.write_vote_history_batch(&batch).await, Err(StoreError::Missing { .. })),
            "a vote of a voter not on the roll"
        );
        assert!(store.vote_history("NC1").await.unwrap().is_empty(), "no part of a failed batch is written");
        let stored = store.voter_import("import-1").await.unwrap().unwrap();
        assert_eq!((stored.position, stored.counts), (0, ImportCounts::default()), "progress unchanged");

        let batch = VoteHistoryBatch {
            import_id: "no-such-import",
            votes: &votes[..1],
            position: 1,
            line: 1,
            rejected: 0,
            at: 1,
        };
        assert!(matches!(store.write_vote_history_batch(&batch).await, Err(StoreError::Missing { .. })));
        assert!(store.vote_history("NC1").await.unwrap().is_empty());
    })
}

fn signature(number: &str, key_version: u32, image: &[u8]) -> StoredSignature {
    StoredSignature {
        jurisdiction: id("wake"),
        registration_number: number.to_owned(),
        key_version,
        sealed_image: image.to_vec(),
        media_type: "image/png".into(),
        size: image.len() as u64,
        added_at: 1_000,
        added_by: "user:clerk".into(),
    }
}

fn signatures_are_replaced_resealed_and_hold_their_key_version(store: &dyn Store) -> ScenarioFuture<'_> {
    Box::pin(async move {
        places(store).await;
        store.create_key_ring(&ring("wake")).await.unwrap();
        // The voter row is already on version 2: only the signature holds version 1.
        store.add_data_key(&id("wake"), &key("field", 2, KeyState::Active)).await.unwrap();
        store.insert_voters(&[sealed_voter("NC1", "wake", "wake", "wake-01", VoterStatus::Active, 2)]).await.unwrap();
        assert!(matches!(
            store.put_voter_signature(&signature("NC9", 1, b"sealed")).await,
            Err(StoreError::Missing { .. })
        ));
        assert!(
            matches!(
                store
                    .put_voter_signature(&StoredSignature { jurisdiction: id("nc"), ..signature("NC1", 1, b"x") })
                    .await,
                Err(StoreError::Missing { .. })
            ),
            "the voter is on wake's roll, not the state's"
        );
        store.put_voter_signature(&signature("NC1", 1, b"first sealed image")).await.unwrap();
        let replacement = StoredSignature { added_at: 2_000, ..signature("NC1", 1, b"second sealed image") };
        store.put_voter_signature(&replacement).await.unwrap();
        assert_eq!(store.voter_signature(&id("wake"), "NC1").await.unwrap(), Some(replacement.clone()));
        assert_eq!(store.voter_signature(&id("nc"), "NC1").await.unwrap(), None, "read per jurisdiction");
        assert_eq!(
            store.key_version_usage(&id("wake")).await.unwrap(),
            vec![KeyVersionUsage { version: 1, rows: 1 }, KeyVersionUsage { version: 2, rows: 1 }],
            "signatures count as rows of their key version"
        );
        assert!(
            matches!(store.retire_data_key(&id("wake"), "field", 1).await, Err(StoreError::InUse { .. })),
            "a version a signature uses is not retired"
        );
        assert_eq!(store.signatures_sealed_with(&id("wake"), 1, 10).await.unwrap(), vec![replacement.clone()]);
        let moved = StoredSignature { key_version: 2, ..signature("NC1", 2, b"resealed image") };
        assert_eq!(store.reseal_signatures(std::slice::from_ref(&moved), 1).await.unwrap(), 1);
        assert_eq!(
            store.reseal_signatures(std::slice::from_ref(&moved), 1).await.unwrap(),
            0,
            "only from the old version"
        );
        assert!(store.signatures_sealed_with(&id("wake"), 1, 10).await.unwrap().is_empty());
        let stored = store.voter_signature(&id("wake"), "NC1").await.unwrap().unwrap();
        assert_eq!((stored.key_version, stored.sealed_image.as_slice()), (2, b"resealed image".as_slice()));
        store.retire_data_key(&id("wake"), "field", 1).await.unwrap();
    })
}
