//! The incident tables' triggers on SQLite: an incident cannot be deleted, its updates cannot be
//! changed or deleted, and the incident row itself changes only together with a new update
//! carrying its new values, even with raw SQL.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use canvass_store::{Store, StoredIncident, StoredIncidentUpdate};
use canvass_store_sqlite::{OpenMode, SqliteStore};

#[tokio::test]
async fn incidents_and_their_timeline_cannot_be_rewritten_with_raw_sql() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("canvass.db");
    let store = SqliteStore::open(&path, OpenMode::Create).await.unwrap();
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

    let url = format!("sqlite://{}", path.display());
    let mut connection = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await.unwrap();
    for (statement, message) in [
        ("DELETE FROM incidents", "never removed"),
        ("UPDATE incidents SET status = 'closed'", "only through a new update"),
        ("UPDATE incidents SET summary = 'nothing happened'", "only through a new update"),
        // The next revision without its update row is refused too.
        ("UPDATE incidents SET status = 'closed', revision = revision + 1", "only through a new update"),
        ("UPDATE incident_updates SET public_text = 'nothing happened'", "append-only"),
        ("DELETE FROM incident_updates", "append-only"),
    ] {
        let error = sqlx::query(statement).execute(&mut connection).await.unwrap_err().to_string();
        assert!(error.contains(message), "{statement}: {error}");
    }
    let stored = store.incident("inc-1").await.unwrap().unwrap();
    assert_eq!(
        (stored.status.as_str(), stored.summary.as_str(), stored.revision),
        ("investigating", "A laptop was lost", 1)
    );
    assert_eq!(store.incident_updates("inc-1").await.unwrap(), vec![update]);
    store.close().await;
}
