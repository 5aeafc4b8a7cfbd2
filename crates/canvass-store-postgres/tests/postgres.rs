//! PostgreSQL-only behaviour: refusing a newer schema, and an unreachable server reported
//! without the password.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use canvass_store::{Store, StoreError};
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
