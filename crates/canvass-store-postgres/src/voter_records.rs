//! Voter history and signature images on PostgreSQL (the `Store` methods delegate here).

use canvass_core::id::JurisdictionId;
use canvass_store::{
    ImportCounts, StoreError, StoredSignature, StoredVote, VoteHistoryBatch, VoteHistoryWritten, rows, voter_records,
};
use sqlx::{PgPool, Postgres, QueryBuilder, Row, error::ErrorKind, postgres::PgRow};

use crate::backend;

const VOTE_COLUMNS: &str = "registration_number, jurisdiction_id, election_date, election_description, \
     voting_method, voted_party, county_number, county_registration_number, precinct_label, voted_county_number";

/// 13 parameters a row stays far under the protocol's 65,535 per statement.
const VOTES_PER_STATEMENT: usize = 1_000;

/// A stored vote whose values all equal the new ones is left alone (its revision stays, and
/// RETURNING does not name it); one that differs takes them and counts its revision up.
const VOTE_UPSERT: &str = " ON CONFLICT (registration_number, election_date, election_description) DO UPDATE SET \
     jurisdiction_id = excluded.jurisdiction_id, voting_method = excluded.voting_method, \
     voted_party = excluded.voted_party, county_number = excluded.county_number, \
     county_registration_number = excluded.county_registration_number, precinct_label = excluded.precinct_label, \
     voted_county_number = excluded.voted_county_number, import_id = excluded.import_id, \
     revision = vote_history.revision + 1, updated_at = excluded.updated_at \
     WHERE vote_history.jurisdiction_id IS DISTINCT FROM excluded.jurisdiction_id \
     OR vote_history.voting_method IS DISTINCT FROM excluded.voting_method \
     OR vote_history.voted_party IS DISTINCT FROM excluded.voted_party \
     OR vote_history.county_number IS DISTINCT FROM excluded.county_number \
     OR vote_history.county_registration_number IS DISTINCT FROM excluded.county_registration_number \
     OR vote_history.precinct_label IS DISTINCT FROM excluded.precinct_label \
     OR vote_history.voted_county_number IS DISTINCT FROM excluded.voted_county_number \
     RETURNING revision";

fn vote_error(error: sqlx::Error, votes: &[StoredVote]) -> StoreError {
    match error.as_database_error().map(|database| database.kind()) {
        Some(ErrorKind::ForeignKeyViolation) => StoreError::Missing {
            what: "voter (or jurisdiction)",
            id: votes
                .first()
                .map_or_else(String::new, |vote| format!("{} (or another of this batch)", vote.registration_number)),
        },
        _ => backend(error),
    }
}

fn counts(row: &PgRow) -> Result<ImportCounts, StoreError> {
    let number = |column: &str| -> Result<u64, StoreError> { rows::count(row.try_get(column).map_err(backend)?) };
    Ok(ImportCounts {
        inserted: number("inserted")?,
        updated: number("updated")?,
        unchanged: number("unchanged")?,
        rejected: number("rejected")?,
    })
}

pub(crate) async fn write_vote_history_batch(
    pool: &PgPool,
    batch: &VoteHistoryBatch<'_>,
) -> Result<VoteHistoryWritten, StoreError> {
    let mut transaction = pool.begin().await.map_err(backend)?;
    let mut done = ImportCounts::default();
    for chunk in batch.votes.chunks(VOTES_PER_STATEMENT) {
        let mut upsert = QueryBuilder::<Postgres>::new(format!(
            "INSERT INTO vote_history ({VOTE_COLUMNS}, import_id, added_at, updated_at) "
        ));
        upsert.push_values(chunk, |mut values, vote| {
            values
                .push_bind(&vote.registration_number)
                .push_bind(vote.jurisdiction.as_str())
                .push_bind(vote.election_date)
                .push_bind(&vote.election_description)
                .push_bind(&vote.voting_method)
                .push_bind(&vote.voted_party)
                .push_bind(i64::from(vote.county_number))
                .push_bind(&vote.county_registration_number)
                .push_bind(&vote.precinct_label)
                .push_bind(vote.voted_county_number.map(i64::from))
                .push_bind(batch.import_id)
                .push_bind(batch.at)
                .push_bind(batch.at);
        });
        upsert.push(VOTE_UPSERT);
        let written = upsert.build().fetch_all(&mut *transaction).await.map_err(|error| vote_error(error, chunk))?;
        for row in &written {
            let revision: i64 = row.try_get("revision").map_err(backend)?;
            if revision == 1 {
                done.inserted += 1;
            } else {
                done.updated += 1;
            }
        }
        done.unchanged += chunk.len() as u64 - written.len() as u64;
    }
    done.rejected = batch.rejected;
    let row = sqlx::query(
        "UPDATE voter_imports SET position = $1, line = $2, inserted = inserted + $3, updated = updated + $4, \
         unchanged = unchanged + $5, rejected = rejected + $6, updated_at = $7 WHERE id = $8 AND finished_at IS NULL \
         RETURNING inserted, updated, unchanged, rejected",
    )
    .bind(rows::integer(batch.position, "import position")?)
    .bind(rows::integer(batch.line, "import line")?)
    .bind(rows::integer(done.inserted, "import count")?)
    .bind(rows::integer(done.updated, "import count")?)
    .bind(rows::integer(done.unchanged, "import count")?)
    .bind(rows::integer(done.rejected, "import count")?)
    .bind(batch.at)
    .bind(batch.import_id)
    .fetch_optional(&mut *transaction)
    .await
    .map_err(backend)?;
    let Some(row) = row else {
        return Err(StoreError::Missing { what: "unfinished import", id: batch.import_id.to_owned() });
    };
    let import = counts(&row)?;
    transaction.commit().await.map_err(backend)?;
    Ok(VoteHistoryWritten { batch: done, import })
}

pub(crate) async fn vote_history(pool: &PgPool, registration_number: &str) -> Result<Vec<StoredVote>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {VOTE_COLUMNS} FROM vote_history WHERE registration_number = $1 \
         ORDER BY election_date DESC, election_description"
    ))
    .bind(registration_number)
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    rows.iter()
        .map(|row| {
            voter_records::vote(voter_records::VoteColumns {
                registration_number: row.try_get("registration_number").map_err(backend)?,
                jurisdiction: row.try_get("jurisdiction_id").map_err(backend)?,
                election_date: row.try_get("election_date").map_err(backend)?,
                election_description: row.try_get("election_description").map_err(backend)?,
                voting_method: row.try_get("voting_method").map_err(backend)?,
                voted_party: row.try_get("voted_party").map_err(backend)?,
                county_number: row.try_get("county_number").map_err(backend)?,
                county_registration_number: row.try_get("county_registration_number").map_err(backend)?,
                precinct_label: row.try_get("precinct_label").map_err(backend)?,
                voted_county_number: row.try_get("voted_county_number").map_err(backend)?,
            })
        })
        .collect()
}

const SIGNATURE_COLUMNS: &str =
    "jurisdiction_id, registration_number, key_version, sealed_image, media_type, size, added_at, added_by";

fn signature_row(row: &PgRow) -> Result<StoredSignature, StoreError> {
    voter_records::signature(voter_records::SignatureColumns {
        jurisdiction: row.try_get("jurisdiction_id").map_err(backend)?,
        registration_number: row.try_get("registration_number").map_err(backend)?,
        key_version: row.try_get("key_version").map_err(backend)?,
        sealed_image: row.try_get("sealed_image").map_err(backend)?,
        media_type: row.try_get("media_type").map_err(backend)?,
        size: row.try_get("size").map_err(backend)?,
        added_at: row.try_get("added_at").map_err(backend)?,
        added_by: row.try_get("added_by").map_err(backend)?,
    })
}

pub(crate) async fn put_voter_signature(pool: &PgPool, signature: &StoredSignature) -> Result<(), StoreError> {
    let mut transaction = pool.begin().await.map_err(backend)?;
    let voter = sqlx::query("SELECT 1 FROM voters WHERE registration_number = $1 AND jurisdiction_id = $2")
        .bind(&signature.registration_number)
        .bind(signature.jurisdiction.as_str())
        .fetch_optional(&mut *transaction)
        .await
        .map_err(backend)?;
    if voter.is_none() {
        return Err(StoreError::Missing { what: "voter", id: signature.registration_number.clone() });
    }
    sqlx::query(&format!(
        "INSERT INTO voter_signatures ({SIGNATURE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (registration_number) DO UPDATE SET jurisdiction_id = excluded.jurisdiction_id, \
         key_version = excluded.key_version, sealed_image = excluded.sealed_image, media_type = excluded.media_type, \
         size = excluded.size, added_at = excluded.added_at, added_by = excluded.added_by"
    ))
    .bind(signature.jurisdiction.as_str())
    .bind(&signature.registration_number)
    .bind(i64::from(signature.key_version))
    .bind(&signature.sealed_image)
    .bind(&signature.media_type)
    .bind(rows::integer(signature.size, "signature size")?)
    .bind(signature.added_at)
    .bind(&signature.added_by)
    .execute(&mut *transaction)
    .await
    .map_err(backend)?;
    transaction.commit().await.map_err(backend)
}

pub(crate) async fn voter_signature(
    pool: &PgPool,
    jurisdiction: &JurisdictionId,
    registration_number: &str,
) -> Result<Option<StoredSignature>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {SIGNATURE_COLUMNS} FROM voter_signatures WHERE jurisdiction_id = $1 AND registration_number = $2"
    ))
    .bind(jurisdiction.as_str())
    .bind(registration_number)
    .fetch_optional(pool)
    .await
    .map_err(backend)?;
    row.as_ref().map(signature_row).transpose()
}

pub(crate) async fn signatures_sealed_with(
    pool: &PgPool,
    jurisdiction: &JurisdictionId,
    key_version: u32,
    limit: u32,
) -> Result<Vec<StoredSignature>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {SIGNATURE_COLUMNS} FROM voter_signatures WHERE jurisdiction_id = $1 AND key_version = $2 \
         ORDER BY registration_number LIMIT $3"
    ))
    .bind(jurisdiction.as_str())
    .bind(i64::from(key_version))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    rows.iter().map(signature_row).collect()
}

pub(crate) async fn reseal_signatures(
    pool: &PgPool,
    signatures: &[StoredSignature],
    previous_version: u32,
) -> Result<u64, StoreError> {
    let mut transaction = pool.begin().await.map_err(backend)?;
    let mut replaced = 0;
    for signature in signatures {
        let result = sqlx::query(
            "UPDATE voter_signatures SET key_version = $1, sealed_image = $2 \
             WHERE registration_number = $3 AND jurisdiction_id = $4 AND key_version = $5",
        )
        .bind(i64::from(signature.key_version))
        .bind(&signature.sealed_image)
        .bind(&signature.registration_number)
        .bind(signature.jurisdiction.as_str())
        .bind(i64::from(previous_version))
        .execute(&mut *transaction)
        .await
        .map_err(backend)?;
        replaced += result.rows_affected();
    }
    transaction.commit().await.map_err(backend)?;
    Ok(replaced)
}
