//! The incident tables' triggers on PostgreSQL: an incident cannot be deleted or truncated, its
//! updates cannot be changed, deleted or truncated, and the incident row itself changes only
//! together with a new update carrying its new values, even with raw SQL.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use canvass_store::{Store, StoredIncident, StoredIncidentUpdate};
use canvass_store_postgres::{PostgresStore, test_cluster::TestCluster};
use sqlx::Connection;

#[tokio::test]
async fn incidents_and_their_timeline_cannot_be_rewritten_with_raw_sql() {
    let cluster = TestCluster::start().unwrap();
    let url = cluster.create_database().unwrap();
    let store = PostgresStore::open(&url).await.unwrap();
    let incident = StoredIncident {
        id: "inc-1".into(),
        opened_at: 1_000,
        detected_at: 900,
        kind: "manual".into(),
        severity: "medium".into(),
        summary: "A laptop was lost".into(),
        status: "open".into(),
        ..StoredIncident::default()
    };
    store.insert_incident(&incident).await.unwrap();
    let update = StoredIncidentUpdate {
        incident_id: "inc-1".into(),
        sequence: 1,
        at: 2_000,
        author: "carol".into(),
        status: "investigating".into(),
        severity: "medium".into(),
        public_text: "We are looking into it.".into(),
        ..StoredIncidentUpdate::default()
    };
    assert!(store.add_incident_update(&update).await.unwrap());

    let mut raw = sqlx::PgConnection::connect(&url).await.unwrap();
    for (statement, message) in [
        ("DELETE FROM incidents", "never removed"),
        // Either table's statement trigger may fire first.
        ("TRUNCATE incidents CASCADE", "never removed|append-only"),
        ("UPDATE incidents SET status = 'closed'", "only through a new update"),
        ("UPDATE incidents SET summary = 'nothing happened'", "only through a new update"),
        // The next revision without its update row is refused too.
        ("UPDATE incidents SET status = 'closed', revision = revision + 1", "only through a new update"),
        ("UPDATE incident_updates SET public_text = 'nothing happened'", "append-only"),
        ("DELETE FROM incident_updates", "append-only"),
        ("TRUNCATE incident_updates", "append-only"),
    ] {
        let error = sqlx::query(statement).execute(&mut raw).await.unwrap_err().to_string();
        assert!(message.split('|').any(|part| error.contains(part)), "{statement}: {error}");
    }
    raw.close().await.unwrap();
    let stored = store.incident("inc-1").await.unwrap().unwrap();
    assert_eq!(
        (stored.status.as_str(), stored.summary.as_str(), stored.revision),
        ("investigating", "A laptop was lost", 1)
    );
    assert_eq!(store.incident_updates("inc-1").await.unwrap(), vec![update]);
    store.close().await;
}
