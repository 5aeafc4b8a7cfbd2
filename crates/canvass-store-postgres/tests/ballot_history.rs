//! The ballot tables' triggers on PostgreSQL: a ballot's history cannot be updated, deleted or
//! truncated, and a ballot cannot be deleted, even with raw SQL (a correction is a new step).
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use canvass_core::{
    election::{Election, ElectionKind},
    id::{ElectionId, JurisdictionId},
    jurisdiction::{Jurisdiction, JurisdictionKind},
    name::Name,
};
use canvass_store::Store;
use canvass_store_postgres::{PostgresStore, test_cluster::TestCluster};
use sqlx::Connection;

#[tokio::test]
async fn ballot_history_and_ballots_cannot_be_rewritten_with_raw_sql() {
    let cluster = TestCluster::start().unwrap();
    let url = cluster.create_database().unwrap();
    let store = PostgresStore::open(&url).await.unwrap();
    let state = JurisdictionId::parse("nc").unwrap();
    let jurisdiction = Jurisdiction {
        id: state.clone(),
        name: Name::parse("State").unwrap(),
        kind: JurisdictionKind::State,
        parent: None,
    };
    store.insert_jurisdiction(&jurisdiction).await.unwrap();
    let election = Election {
        id: ElectionId::parse("general-2027").unwrap(),
        jurisdiction: state,
        name: Name::parse("General").unwrap(),
        kind: ElectionKind::General,
        date: time::Date::from_calendar_date(2027, time::Month::November, 2).unwrap(),
    };
    store.insert_election(&election, &[]).await.unwrap();

    let mut raw = sqlx::PgConnection::connect(&url).await.unwrap();
    // Rows written without their voter: the triggers are what is tested here, not sealing.
    sqlx::query("SET session_replication_role = replica").execute(&mut raw).await.unwrap();
    sqlx::query(
        "INSERT INTO ballots (registration_number, jurisdiction_id, election_id, kind, status, opened_on, status_on, \
         updated_at) VALUES ('A1', 'nc', 'general-2027', 'absentee', 'requested', '2027-09-01', '2027-09-01', 1)",
    )
    .execute(&mut raw)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO ballot_status_changes (ballot_id, registration_number, to_status, changed_on, actor, recorded_at) \
         SELECT id, 'A1', 'requested', '2027-09-01', 'user:clerk', 1 FROM ballots",
    )
    .execute(&mut raw)
    .await
    .unwrap();
    sqlx::query("SET session_replication_role = DEFAULT").execute(&mut raw).await.unwrap();
    for (statement, message) in [
        ("UPDATE ballot_status_changes SET to_status = 'accepted'", "append-only"),
        ("DELETE FROM ballot_status_changes", "append-only"),
        ("TRUNCATE ballot_status_changes", "append-only"),
        ("DELETE FROM ballots", "never deleted"),
        ("TRUNCATE ballots CASCADE", "never deleted"),
    ] {
        let error = sqlx::query(statement).execute(&mut raw).await.unwrap_err().to_string();
        assert!(error.contains(message), "{statement}: {error}");
    }
    raw.close().await.unwrap();
    assert_eq!(store.voter_ballots("A1").await.unwrap().len(), 1);
    assert_eq!(store.voter_ballot_changes("A1").await.unwrap().len(), 1);
    store.close().await;
}
