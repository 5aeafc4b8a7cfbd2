//! PostgreSQL-only behaviour: refusing a newer schema, an unreachable server reported without
//! the password, the audit ledger's append-only triggers, and appends from two pools (as from
//! two nodes) on one database.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use canvass_store::{LedgerAppend, LedgerQuery, LedgerTile, Store, StoreError, StoredCheckpoint};
use canvass_store_postgres::{PostgresStore, test_cluster::TestCluster};

#[tokio::test]
async fn a_newer_schema_is_refused_and_an_unreachable_server_hides_the_password() {
    let cluster = TestCluster::start().unwrap();
    let url = cluster.create_database().unwrap();
    let store = PostgresStore::open(&url).await.unwrap();
    let current = store.schema_version().await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', TRUE, '\\x00', 0)",
    )
    .execute(&sqlx::PgPool::connect(&url).await.unwrap())
    .await
    .unwrap();
    store.close().await;
    match PostgresStore::open(&url).await.unwrap_err() {
        StoreError::SchemaTooNew { found, supported } => assert_eq!((found, supported), (9999, current)),
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }

    // Nothing listens on the port of a stopped cluster.
    let port = cluster.port();
    drop(cluster);
    let error =
        PostgresStore::open(&format!("postgres://canvass:hunter22@127.0.0.1:{port}/canvass")).await.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, StoreError::Unavailable { .. }), "{error:?}");
    assert!(message.contains("canvass:***@127.0.0.1"), "{message}");
    assert!(!message.contains("hunter22"), "{message}");
}

fn entry(body: &str, target: &str) -> LedgerAppend {
    LedgerAppend {
        body: body.as_bytes().to_vec(),
        time_millis: 1_767_225_600_000,
        actor: "user:alice".into(),
        action: "voter.read".into(),
        jurisdiction: Some("wake".into()),
        outcome: "allowed".into(),
        targets: vec![target.into()],
    }
}

// One cluster for the ledger checks: starting one takes seconds.
#[tokio::test]
async fn ledger_is_append_only_and_two_pools_append_without_gaps() {
    let cluster = TestCluster::start().unwrap();

    let url = cluster.create_database().unwrap();
    let store = PostgresStore::open(&url).await.unwrap();
    store
        .append_ledger(&[entry("first", "voter:NC1"), entry("second", "voter:NC2"), entry("third", "voter:NC3")])
        .await
        .unwrap();
    // The first two entries' targets move to the index; the third's stay queued.
    assert_eq!(store.index_ledger_targets(2).await.unwrap(), 2);
    let tile = LedgerTile { level: 0, index: 0, hashes: vec![7; 64] };
    let checkpoint = StoredCheckpoint { size: 3, note: "note".into(), time_millis: 1 };
    store.integrate_ledger(&[tile], &checkpoint).await.unwrap();
    let before = (store.ledger_entries(0, 10).await.unwrap(), store.latest_checkpoint().await.unwrap());

    let raw = sqlx::PgPool::connect(&url).await.unwrap();
    let refused = [
        ("UPDATE ledger_entries SET body = '\\x00' WHERE idx = 0", "the audit ledger is append-only"),
        ("UPDATE ledger_entries SET actor = 'user:mallory'", "the audit ledger is append-only"),
        ("DELETE FROM ledger_entries WHERE idx = 1", "the audit ledger is append-only"),
        ("DELETE FROM ledger_entries", "the audit ledger is append-only"),
        ("TRUNCATE ledger_entries CASCADE", "the audit ledger is append-only"),
        ("UPDATE ledger_targets SET target = 'voter:NC9'", "the audit ledger is append-only"),
        ("UPDATE ledger_target_queue SET target = 'voter:NC9'", "the audit ledger is append-only"),
        ("DELETE FROM ledger_targets", "the audit ledger is append-only"),
        ("TRUNCATE ledger_targets", "the audit ledger is append-only"),
        ("UPDATE ledger_checkpoints SET note = 'forged' WHERE size = 3", "the audit ledger is append-only"),
        ("DELETE FROM ledger_checkpoints", "the audit ledger is append-only"),
        ("TRUNCATE ledger_checkpoints CASCADE", "the audit ledger is append-only"),
        ("DELETE FROM ledger_tiles", "the audit ledger is append-only"),
        ("TRUNCATE ledger_tiles", "the audit ledger is append-only"),
        ("UPDATE ledger_tiles SET hashes = '\\x00'", "a ledger tile only grows"),
        ("UPDATE ledger_tiles SET hashes = decode(repeat('00', 96), 'hex')", "a ledger tile only grows"),
        ("UPDATE ledger_tiles SET level = 1", "a ledger tile only grows"),
    ];
    for (statement, message) in refused {
        let error = sqlx::query(statement).execute(&raw).await.unwrap_err();
        assert!(error.to_string().contains(message), "{statement}: {error}");
    }
    // Growing a tile is what integration does; the trigger lets it through.
    sqlx::query("UPDATE ledger_tiles SET hashes = hashes || decode(repeat('00', 32), 'hex')")
        .execute(&raw)
        .await
        .unwrap();
    raw.close().await;
    let after = (store.ledger_entries(0, 10).await.unwrap(), store.latest_checkpoint().await.unwrap());
    assert_eq!(before, after, "every refused statement left the rows as they were");
    assert_eq!(store.ledger_tile(0, 0).await.unwrap().map(|hashes| hashes.len()), Some(96));
    let search = LedgerQuery { target: Some("voter:NC1".into()), limit: 10, ..Default::default() };
    assert_eq!(store.search_ledger(&search).await.unwrap().len(), 1, "targets are intact");
    let queued = LedgerQuery { target: Some("voter:NC3".into()), ..search };
    assert_eq!(store.search_ledger(&queued).await.unwrap().len(), 1, "queued targets are intact");
    store.close().await;

    // Two pools on one database, as two nodes sharing it would have.
    let url = cluster.create_database().unwrap();
    let first = PostgresStore::open(&url).await.unwrap();
    let second = PostgresStore::open(&url).await.unwrap();
    const CALLS: usize = 60;
    let append = |store: PostgresStore, name: &'static str| async move {
        let mut placed = Vec::new();
        for call in 0..CALLS {
            let batch: Vec<LedgerAppend> =
                (0..call % 5 + 1).map(|item| entry(&format!("{name} {call} {item}"), name)).collect();
            let index = store.append_ledger(&batch).await.unwrap();
            placed.push((index, batch));
        }
        placed
    };
    let (from_first, from_second) = tokio::join!(append(first.clone(), "first"), append(second.clone(), "second"));
    let stored = first.ledger_entries(0, 10_000).await.unwrap();
    let total: usize = from_first.iter().chain(&from_second).map(|(_, batch)| batch.len()).sum();
    assert_eq!(stored.iter().map(|row| row.index).collect::<Vec<_>>(), (0..total as u64).collect::<Vec<_>>());
    assert_eq!(second.ledger_size().await.unwrap(), total as u64);
    for (index, batch) in from_first.iter().chain(&from_second) {
        let start = *index as usize;
        for (offset, sent) in batch.iter().enumerate() {
            assert_eq!(stored[start + offset].body, sent.body, "each batch lands whole where it was told");
        }
    }
    first.close().await;
    second.close().await;
}
