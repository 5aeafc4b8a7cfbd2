//! The ballot tables' triggers on SQLite: a ballot's history cannot be updated or deleted, and a
//! ballot cannot be deleted, even with raw SQL (a correction is a new step).
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use canvass_core::{
    ballots::{AbsenteeStatus, BallotStatus},
    election::{Election, ElectionKind},
    id::{ElectionId, JurisdictionId},
    jurisdiction::{Jurisdiction, JurisdictionKind},
    name::Name,
};
use canvass_store::{Store, StoredBallot};
use canvass_store_sqlite::{OpenMode, SqliteStore};

fn day(month: u8, day: u8) -> time::Date {
    time::Date::from_calendar_date(2027, time::Month::try_from(month).unwrap(), day).unwrap()
}

#[tokio::test]
async fn ballot_history_and_ballots_cannot_be_rewritten_with_raw_sql() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("canvass.db");
    let store = SqliteStore::open(&path, OpenMode::Create).await.unwrap();
    let state = JurisdictionId::parse("nc").unwrap();
    store
        .insert_jurisdiction(&Jurisdiction {
            id: state.clone(),
            name: Name::parse("State").unwrap(),
            kind: JurisdictionKind::State,
            parent: None,
        })
        .await
        .unwrap();
    let election = Election {
        id: ElectionId::parse("general-2027").unwrap(),
        jurisdiction: state.clone(),
        name: Name::parse("General").unwrap(),
        kind: ElectionKind::General,
        date: day(11, 2),
    };
    store.insert_election(&election, &[]).await.unwrap();
    let url = format!("sqlite://{}", path.display());
    let mut connection = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await.unwrap();
    // A voter row written directly: the triggers are what is tested here, not sealing.
    sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut connection).await.unwrap();
    let ballot = StoredBallot {
        id: 0,
        registration_number: "A1".into(),
        jurisdiction: state,
        election: election.id.clone(),
        status: BallotStatus::Absentee(AbsenteeStatus::Requested),
        cure_deadline: None,
        opened_on: day(9, 1),
        status_on: day(9, 1),
        updated_at: 1,
    };
    sqlx::query(
        "INSERT INTO ballots (registration_number, jurisdiction_id, election_id, kind, status, opened_on, status_on, \
         updated_at) VALUES ('A1', 'nc', 'general-2027', 'absentee', 'requested', '2027-09-01', '2027-09-01', 1)",
    )
    .execute(&mut connection)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO ballot_status_changes (ballot_id, registration_number, to_status, changed_on, actor, recorded_at) \
         VALUES (1, 'A1', 'requested', '2027-09-01', 'user:clerk', 1)",
    )
    .execute(&mut connection)
    .await
    .unwrap();
    for (statement, message) in [
        ("UPDATE ballot_status_changes SET to_status = 'accepted'", "append-only"),
        ("DELETE FROM ballot_status_changes", "append-only"),
        ("DELETE FROM ballots", "never deleted"),
    ] {
        let error = sqlx::query(statement).execute(&mut connection).await.unwrap_err().to_string();
        assert!(error.contains(message), "{statement}: {error}");
    }
    let stored = store.voter_ballots("A1").await.unwrap();
    assert_eq!(stored, vec![StoredBallot { id: 1, ..ballot }]);
    assert_eq!(store.voter_ballot_changes("A1").await.unwrap().len(), 1);
}
