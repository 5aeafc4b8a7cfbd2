//! SQLite-only behaviour: the durability settings, refusing a missing file, refusing a
//! database whose schema is newer than this binary, the audit ledger's append-only triggers
//! and appends from two handles (as from two processes) on one file.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use canvass_store::{LedgerAppend, LedgerTile, Store, StoreError, StoredCheckpoint};
use canvass_store_sqlite::{OpenMode, SqliteStore};

#[tokio::test]
async fn opens_with_wal_full_sync_and_foreign_keys() {
    let directory = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&directory.path().join("canvass.db"), OpenMode::Create).await.unwrap();
    assert_eq!(store.pragma("journal_mode").await.unwrap(), "wal");
    assert_eq!(store.pragma("synchronous").await.unwrap(), "2", "2 is FULL");
    assert_eq!(store.pragma("foreign_keys").await.unwrap(), "1");
    assert!(store.pragma("key").await.is_err());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(directory.path().join("canvass.db")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "only the owner may read the database file");
}

#[tokio::test]
async fn a_missing_file_is_not_silently_created() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("canvass.db");
    let error = SqliteStore::open(&path, OpenMode::Existing).await.unwrap_err();
    assert!(matches!(error, StoreError::Unavailable { .. }), "{error:?}");
    assert!(error.to_string().contains("does not exist"), "{error}");
    assert!(!path.exists());
}

#[tokio::test]
async fn a_newer_schema_is_refused_with_both_versions() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("canvass.db");
    let store = SqliteStore::open(&path, OpenMode::Create).await.unwrap();
    let current = store.schema_version().await.unwrap();
    store.close().await;

    // A later canvass release applied migration 9999.
    let url = format!("sqlite://{}", path.display());
    let mut connection = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', TRUE, X'00', 0)",
    )
    .execute(&mut connection)
    .await
    .unwrap();
    drop(connection);

    let error = SqliteStore::open(&path, OpenMode::Existing).await.unwrap_err();
    match error {
        StoreError::SchemaTooNew { found, supported } => {
            assert_eq!(found, 9999);
            assert_eq!(supported, current);
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
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

async fn raw_connection(path: &std::path::Path) -> sqlx::SqliteConnection {
    let url = format!("sqlite://{}", path.display());
    <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await.unwrap()
}

#[tokio::test]
async fn ledger_rows_cannot_be_updated_or_deleted_even_with_raw_sql() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("canvass.db");
    let store = SqliteStore::open(&path, OpenMode::Create).await.unwrap();
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

    let mut connection = raw_connection(&path).await;
    let refused = [
        ("UPDATE ledger_entries SET body = X'00' WHERE idx = 0", "the audit ledger is append-only"),
        ("UPDATE ledger_entries SET actor = 'user:mallory'", "the audit ledger is append-only"),
        ("DELETE FROM ledger_entries WHERE idx = 1", "the audit ledger is append-only"),
        ("DELETE FROM ledger_entries", "the audit ledger is append-only"),
        ("UPDATE ledger_targets SET target = 'voter:NC9'", "the audit ledger is append-only"),
        ("UPDATE ledger_target_queue SET target = 'voter:NC9'", "the audit ledger is append-only"),
        ("DELETE FROM ledger_targets", "the audit ledger is append-only"),
        ("UPDATE ledger_checkpoints SET note = 'forged' WHERE size = 3", "the audit ledger is append-only"),
        ("DELETE FROM ledger_checkpoints", "the audit ledger is append-only"),
        ("DELETE FROM ledger_tiles", "the audit ledger is append-only"),
        ("UPDATE ledger_tiles SET hashes = X'00'", "a ledger tile only grows"),
        ("UPDATE ledger_tiles SET hashes = zeroblob(96)", "a ledger tile only grows"),
        ("UPDATE ledger_tiles SET level = 1", "a ledger tile only grows"),
    ];
    for (statement, message) in refused {
        let error = sqlx::query(statement).execute(&mut connection).await.unwrap_err();
        assert!(error.to_string().contains(message), "{statement}: {error}");
    }
    // Growing a tile is what integration does; the trigger lets it through.
    sqlx::query("UPDATE ledger_tiles SET hashes = unhex(hex(hashes) || hex(zeroblob(32)))")
        .execute(&mut connection)
        .await
        .unwrap();
    drop(connection);

    let after = (store.ledger_entries(0, 10).await.unwrap(), store.latest_checkpoint().await.unwrap());
    assert_eq!(before, after, "every refused statement left the rows as they were");
    assert_eq!(store.ledger_tile(0, 0).await.unwrap().map(|hashes| hashes.len()), Some(96));
    let search = canvass_store::LedgerQuery { target: Some("voter:NC1".into()), limit: 10, ..Default::default() };
    assert_eq!(store.search_ledger(&search).await.unwrap().len(), 1, "targets are intact");
    let queued = canvass_store::LedgerQuery { target: Some("voter:NC3".into()), ..search };
    assert_eq!(store.search_ledger(&queued).await.unwrap().len(), 1, "queued targets are intact");
}

#[tokio::test]
async fn two_handles_on_one_file_append_without_gaps_or_repeats() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("canvass.db");
    // Two pools, as two processes would open the file: they share only SQLite's file locks.
    let first = SqliteStore::open(&path, OpenMode::Create).await.unwrap();
    let second = SqliteStore::open(&path, OpenMode::Existing).await.unwrap();
    const CALLS: usize = 60;
    let append = |store: SqliteStore, name: &'static str| async move {
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
