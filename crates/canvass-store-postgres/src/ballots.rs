//! Absentee and provisional ballots (`Store::insert_ballot` and the rest): each ballot's row and
//! its append-only history, written together in one transaction.

use canvass_store::{StoreError, StoredBallot, StoredBallotChange, ballots as rows};
use sqlx::{PgPool, Row, error::ErrorKind, postgres::PgRow};

use crate::{backend, text};

pub(crate) async fn insert_ballot(pool: &PgPool, ballot: &StoredBallot, actor: &str) -> Result<i64, StoreError> {
    let mut transaction = pool.begin().await.map_err(backend)?;
    let voter = sqlx::query("SELECT 1 AS found FROM voters WHERE registration_number = $1 AND jurisdiction_id = $2")
        .bind(&ballot.registration_number)
        .bind(ballot.jurisdiction.as_str())
        .fetch_optional(&mut *transaction)
        .await
        .map_err(backend)?;
    if voter.is_none() {
        return Err(StoreError::Missing { what: "voter", id: ballot.registration_number.clone() });
    }
    let election = sqlx::query("SELECT 1 AS found FROM elections WHERE id = $1")
        .bind(ballot.election.as_str())
        .fetch_optional(&mut *transaction)
        .await
        .map_err(backend)?;
    if election.is_none() {
        return Err(StoreError::Missing { what: "election", id: ballot.election.to_string() });
    }
    let inserted = sqlx::query(
        "INSERT INTO ballots (registration_number, jurisdiction_id, election_id, kind, status, cure_deadline, \
         opened_on, status_on, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(&ballot.registration_number)
    .bind(ballot.jurisdiction.as_str())
    .bind(ballot.election.as_str())
    .bind(ballot.kind().as_str())
    .bind(ballot.status.as_str())
    .bind(ballot.cure_deadline)
    .bind(ballot.opened_on)
    .bind(ballot.status_on)
    .bind(ballot.updated_at)
    .fetch_one(&mut *transaction)
    .await
    .map_err(|error| match error.as_database_error().map(|database| database.kind()) {
        Some(ErrorKind::UniqueViolation) => StoreError::AlreadyExists {
            what: "live ballot of this kind in this election for voter",
            id: ballot.registration_number.clone(),
        },
        _ => backend(error),
    })?;
    let id: i64 = inserted.try_get("id").map_err(backend)?;
    let first = StoredBallotChange {
        id: 0,
        ballot: id,
        registration_number: ballot.registration_number.clone(),
        from: None,
        to: ballot.status,
        cure_deadline: ballot.cure_deadline,
        on: ballot.opened_on,
        actor: actor.to_owned(),
        recorded_at: ballot.updated_at,
    };
    insert_change(&mut transaction, &first).await?;
    transaction.commit().await.map_err(backend)?;
    Ok(id)
}

async fn insert_change(
    transaction: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    change: &StoredBallotChange,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO ballot_status_changes (ballot_id, registration_number, from_status, to_status, cure_deadline, \
         changed_on, actor, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(change.ballot)
    .bind(&change.registration_number)
    .bind(change.from.map(|status| status.as_str()))
    .bind(change.to.as_str())
    .bind(change.cure_deadline)
    .bind(change.on)
    .bind(&change.actor)
    .bind(change.recorded_at)
    .execute(&mut **transaction)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(crate) async fn change_ballot_status(pool: &PgPool, change: &StoredBallotChange) -> Result<bool, StoreError> {
    let missing = || StoreError::Missing { what: "ballot", id: change.ballot.to_string() };
    let Some(from) = change.from else { return Err(missing()) };
    let mut transaction = pool.begin().await.map_err(backend)?;
    let moved = sqlx::query(
        "UPDATE ballots SET status = $1, cure_deadline = $2, status_on = $3, updated_at = $4 \
         WHERE id = $5 AND registration_number = $6 AND kind = $7 AND status = $8",
    )
    .bind(change.to.as_str())
    .bind(change.cure_deadline)
    .bind(change.on)
    .bind(change.recorded_at)
    .bind(change.ballot)
    .bind(&change.registration_number)
    .bind(change.to.kind().as_str())
    .bind(from.as_str())
    .execute(&mut *transaction)
    .await
    .map_err(|error| match error.as_database_error().map(|database| database.kind()) {
        Some(ErrorKind::UniqueViolation) => StoreError::AlreadyExists {
            what: "live ballot of this kind in this election for voter",
            id: change.registration_number.clone(),
        },
        _ => backend(error),
    })?;
    if moved.rows_affected() == 0 {
        let exists =
            sqlx::query("SELECT 1 AS found FROM ballots WHERE id = $1 AND registration_number = $2 AND kind = $3")
                .bind(change.ballot)
                .bind(&change.registration_number)
                .bind(change.to.kind().as_str())
                .fetch_optional(&mut *transaction)
                .await
                .map_err(backend)?;
        return match exists {
            Some(_) => Ok(false),
            None => Err(missing()),
        };
    }
    insert_change(&mut transaction, change).await?;
    transaction.commit().await.map_err(backend)?;
    Ok(true)
}

fn ballot_row(row: &PgRow) -> Result<StoredBallot, StoreError> {
    rows::ballot(rows::BallotColumns {
        id: row.try_get("id").map_err(backend)?,
        registration_number: text(row, "registration_number")?,
        jurisdiction: text(row, "jurisdiction_id")?,
        election: text(row, "election_id")?,
        kind: text(row, "kind")?,
        status: text(row, "status")?,
        cure_deadline: row.try_get("cure_deadline").map_err(backend)?,
        opened_on: row.try_get("opened_on").map_err(backend)?,
        status_on: row.try_get("status_on").map_err(backend)?,
        updated_at: row.try_get("updated_at").map_err(backend)?,
    })
}

pub(crate) async fn voter_ballots(pool: &PgPool, registration_number: &str) -> Result<Vec<StoredBallot>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, registration_number, jurisdiction_id, election_id, kind, status, cure_deadline, opened_on, \
         status_on, updated_at FROM ballots WHERE registration_number = $1 ORDER BY id",
    )
    .bind(registration_number)
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    rows.iter().map(ballot_row).collect()
}

fn change_row(row: &PgRow) -> Result<StoredBallotChange, StoreError> {
    rows::ballot_change(rows::BallotChangeColumns {
        id: row.try_get("id").map_err(backend)?,
        ballot: row.try_get("ballot_id").map_err(backend)?,
        registration_number: text(row, "registration_number")?,
        kind: text(row, "kind")?,
        from: row.try_get("from_status").map_err(backend)?,
        to: text(row, "to_status")?,
        cure_deadline: row.try_get("cure_deadline").map_err(backend)?,
        on: row.try_get("changed_on").map_err(backend)?,
        actor: text(row, "actor")?,
        recorded_at: row.try_get("recorded_at").map_err(backend)?,
    })
}

pub(crate) async fn voter_ballot_changes(
    pool: &PgPool,
    registration_number: &str,
) -> Result<Vec<StoredBallotChange>, StoreError> {
    let rows = sqlx::query(
        "SELECT changes.id, changes.ballot_id, changes.registration_number, ballots.kind, changes.from_status, \
         changes.to_status, changes.cure_deadline, changes.changed_on, changes.actor, changes.recorded_at \
         FROM ballot_status_changes AS changes JOIN ballots ON ballots.id = changes.ballot_id \
         WHERE changes.registration_number = $1 ORDER BY changes.id",
    )
    .bind(registration_number)
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    rows.iter().map(change_row).collect()
}
