//! SQLite-only behaviour: the durability settings, refusing a missing file, and refusing a
//! database whose schema is newer than this binary.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use canvass_store::{Store, StoreError};
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
