//! Election-night results (issue 7): accepted changes and their precinct returns, written in
//! one transaction behind a compare-and-set on the election's next sequence.

use canvass_core::{id::ElectionId, results::PrecinctReturn};
use canvass_store::{
    ResultsWrite, StoreError, StoredPrecinctReturn, StoredResultsChange,
    results::{change_row, decode_return, encode_return, sequence_column},
};
use sqlx::{Row, SqlitePool};

use crate::{backend, begin_write, insert_error};

pub(crate) async fn accept_change(
    pool: &SqlitePool,
    change: &StoredResultsChange,
    returns: &[PrecinctReturn],
) -> Result<ResultsWrite, StoreError> {
    let sequence = sequence_column(change.sequence)?;
    // BEGIN IMMEDIATE takes the write lock first, so the check and the insert see one state.
    let mut transaction = begin_write(pool).await?;
    let known = sqlx::query("SELECT 1 FROM elections WHERE id = ?")
        .bind(change.election.as_str())
        .fetch_optional(&mut *transaction)
        .await
        .map_err(backend)?;
    if known.is_none() {
        return Err(StoreError::Missing { what: "election", id: change.election.as_str().to_owned() });
    }
    let last: i64 = sqlx::query("SELECT COALESCE(MAX(sequence), 0) AS last FROM results_changes WHERE election_id = ?")
        .bind(change.election.as_str())
        .fetch_one(&mut *transaction)
        .await
        .and_then(|row| row.try_get("last"))
        .map_err(backend)?;
    if last + 1 != sequence {
        return Ok(ResultsWrite::SequenceTaken);
    }
    let (kind, reason) = change.kind_columns();
    let county = change.county.as_ref().map(|county| county.as_str());
    sqlx::query(
        "INSERT INTO results_changes (election_id, sequence, recorded_at, county_id, kind, reason, actor, file_sha256) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(change.election.as_str())
    .bind(sequence)
    .bind(change.at)
    .bind(county)
    .bind(kind)
    .bind(reason)
    .bind(&change.actor)
    .bind(change.file_sha256.as_deref())
    .execute(&mut *transaction)
    .await
    .map_err(|error| {
        insert_error(error, "results change", change.election.as_str(), ("county", county.unwrap_or("")))
    })?;
    for precinct_return in returns {
        sqlx::query(
            "INSERT INTO precinct_returns (election_id, precinct_id, sequence, return_json) VALUES (?, ?, ?, ?)",
        )
        .bind(change.election.as_str())
        .bind(precinct_return.precinct.as_str())
        .bind(sequence)
        .bind(encode_return(precinct_return)?)
        .execute(&mut *transaction)
        .await
        .map_err(|error| {
            insert_error(
                error,
                "precinct return",
                precinct_return.precinct.as_str(),
                ("precinct", precinct_return.precinct.as_str()),
            )
        })?;
    }
    transaction.commit().await.map_err(backend)?;
    Ok(ResultsWrite::Written)
}

pub(crate) async fn changes(pool: &SqlitePool, election: &ElectionId) -> Result<Vec<StoredResultsChange>, StoreError> {
    let rows = sqlx::query(
        "SELECT election_id, sequence, recorded_at, county_id, kind, reason, actor, file_sha256 \
         FROM results_changes WHERE election_id = ? ORDER BY sequence",
    )
    .bind(election.as_str())
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    rows.iter()
        .map(|row| {
            change_row(
                &row.try_get::<String, _>("election_id").map_err(backend)?,
                row.try_get("sequence").map_err(backend)?,
                row.try_get("recorded_at").map_err(backend)?,
                row.try_get("county_id").map_err(backend)?,
                &row.try_get::<String, _>("kind").map_err(backend)?,
                row.try_get("reason").map_err(backend)?,
                row.try_get("actor").map_err(backend)?,
                row.try_get("file_sha256").map_err(backend)?,
            )
        })
        .collect()
}

pub(crate) async fn returns(pool: &SqlitePool, election: &ElectionId) -> Result<Vec<StoredPrecinctReturn>, StoreError> {
    let rows = sqlx::query(
        "SELECT sequence, return_json FROM precinct_returns WHERE election_id = ? ORDER BY precinct_id, sequence",
    )
    .bind(election.as_str())
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    rows.iter()
        .map(|row| {
            decode_return(
                row.try_get("sequence").map_err(backend)?,
                &row.try_get::<String, _>("return_json").map_err(backend)?,
            )
        })
        .collect()
}
