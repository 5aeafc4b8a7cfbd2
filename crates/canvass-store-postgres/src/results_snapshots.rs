//! Published results snapshots on PostgreSQL (migration 0015): manifests, file lists, and bodies
//! kept once per SHA-256.

use canvass_core::id::ElectionId;
use canvass_store::{
    SnapshotHeader, StoreError, StoredBody, StoredSnapshot, StoredSnapshotFile, results_snapshots::check_snapshot,
};
use sqlx::{PgPool, Row, error::ErrorKind, postgres::PgRow};

use crate::backend;

const HEADER_COLUMNS: &str = "election_id, election_name, election_date, sequence, published_at, manifest_sha256";

pub async fn put(pool: &PgPool, snapshot: &StoredSnapshot, bodies: &[StoredBody]) -> Result<(), StoreError> {
    check_snapshot(snapshot, bodies)?;
    let header = &snapshot.header;
    let sequence = sequence_value(header.sequence)?;
    let mut transaction = pool.begin().await.map_err(backend)?;
    for body in bodies {
        sqlx::query(
            "INSERT INTO results_bodies (sha256, body, gzip, brotli) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&body.sha256)
        .bind(&body.identity)
        .bind(&body.gzip)
        .bind(&body.brotli)
        .execute(&mut *transaction)
        .await
        .map_err(backend)?;
    }
    sqlx::query(
        "INSERT INTO results_snapshots (election_id, sequence, election_name, election_date, published_at, \
         manifest, signature, manifest_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(header.election.as_str())
    .bind(sequence)
    .bind(&header.election_name)
    .bind(&header.election_date)
    .bind(header.published_at)
    .bind(&snapshot.manifest)
    .bind(&snapshot.signature)
    .bind(&header.manifest_sha256)
    .execute(&mut *transaction)
    .await
    .map_err(|error| match error.as_database_error().map(|database| database.kind()) {
        Some(ErrorKind::UniqueViolation) => StoreError::AlreadyExists {
            what: "results snapshot",
            id: format!("{} {}", header.election.as_str(), header.sequence),
        },
        _ => backend(error),
    })?;
    // One statement for the whole list: a state-size snapshot has thousands of files.
    let column = |pick: fn(&StoredSnapshotFile) -> &String| -> Vec<String> {
        snapshot.files.iter().map(|file| pick(file).clone()).collect()
    };
    sqlx::query(
        "INSERT INTO results_snapshot_files (election_id, sequence, path, sha256, content_type) \
         SELECT $1, $2, path, sha256, content_type FROM UNNEST($3::text[], $4::text[], $5::text[]) \
         AS files (path, sha256, content_type)",
    )
    .bind(header.election.as_str())
    .bind(sequence)
    .bind(column(|file| &file.path))
    .bind(column(|file| &file.sha256))
    .bind(column(|file| &file.content_type))
    .execute(&mut *transaction)
    .await
    .map_err(|error| match error.as_database_error().map(|database| database.kind()) {
        Some(ErrorKind::ForeignKeyViolation) => {
            StoreError::Missing { what: "results body", id: "a file of the snapshot".into() }
        }
        _ => backend(error),
    })?;
    transaction.commit().await.map_err(backend)
}

pub async fn known_bodies(pool: &PgPool, hashes: &[String]) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query("SELECT sha256 FROM results_bodies WHERE sha256 = ANY($1)")
        .bind(hashes)
        .fetch_all(pool)
        .await
        .map_err(backend)?;
    rows.iter().map(|row| row.try_get("sha256").map_err(backend)).collect()
}

pub async fn body(pool: &PgPool, sha256: &str) -> Result<Option<StoredBody>, StoreError> {
    let row = sqlx::query("SELECT sha256, body, gzip, brotli FROM results_bodies WHERE sha256 = $1")
        .bind(sha256)
        .fetch_optional(pool)
        .await
        .map_err(backend)?;
    row.map(|row| {
        Ok(StoredBody {
            sha256: row.try_get("sha256").map_err(backend)?,
            identity: row.try_get("body").map_err(backend)?,
            gzip: row.try_get("gzip").map_err(backend)?,
            brotli: row.try_get("brotli").map_err(backend)?,
        })
    })
    .transpose()
}

pub async fn snapshot(
    pool: &PgPool,
    election: &ElectionId,
    sequence: u64,
) -> Result<Option<StoredSnapshot>, StoreError> {
    let Ok(sequence_value) = i64::try_from(sequence) else { return Ok(None) };
    let row = sqlx::query(&format!(
        "SELECT {HEADER_COLUMNS}, manifest, signature FROM results_snapshots WHERE election_id = $1 AND sequence = $2"
    ))
    .bind(election.as_str())
    .bind(sequence_value)
    .fetch_optional(pool)
    .await
    .map_err(backend)?;
    let Some(row) = row else { return Ok(None) };
    let files = sqlx::query(
        "SELECT path, sha256, content_type FROM results_snapshot_files WHERE election_id = $1 AND sequence = $2 \
         ORDER BY path COLLATE \"C\"",
    )
    .bind(election.as_str())
    .bind(sequence_value)
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    Ok(Some(StoredSnapshot {
        header: header_row(&row)?,
        manifest: row.try_get("manifest").map_err(backend)?,
        signature: row.try_get("signature").map_err(backend)?,
        files: files
            .iter()
            .map(|file| {
                Ok(StoredSnapshotFile {
                    path: file.try_get("path").map_err(backend)?,
                    sha256: file.try_get("sha256").map_err(backend)?,
                    content_type: file.try_get("content_type").map_err(backend)?,
                })
            })
            .collect::<Result<_, StoreError>>()?,
    }))
}

pub async fn snapshots(pool: &PgPool, election: &ElectionId) -> Result<Vec<SnapshotHeader>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {HEADER_COLUMNS} FROM results_snapshots WHERE election_id = $1 ORDER BY sequence"
    ))
    .bind(election.as_str())
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    rows.iter().map(header_row).collect()
}

pub async fn latest(pool: &PgPool) -> Result<Vec<SnapshotHeader>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {HEADER_COLUMNS} FROM results_snapshots latest \
         WHERE sequence = (SELECT MAX(sequence) FROM results_snapshots other \
                           WHERE other.election_id = latest.election_id) \
         ORDER BY election_date DESC, election_id COLLATE \"C\""
    ))
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    rows.iter().map(header_row).collect()
}

fn sequence_value(sequence: u64) -> Result<i64, StoreError> {
    i64::try_from(sequence).map_err(|_| StoreError::Corrupt("a snapshot's sequence is out of range".into()))
}

fn header_row(row: &PgRow) -> Result<SnapshotHeader, StoreError> {
    let election: String = row.try_get("election_id").map_err(backend)?;
    let sequence: i64 = row.try_get("sequence").map_err(backend)?;
    Ok(SnapshotHeader {
        election: ElectionId::parse(&election)
            .map_err(|_| StoreError::Corrupt(format!("stored election id `{election}` is invalid")))?,
        election_name: row.try_get("election_name").map_err(backend)?,
        election_date: row.try_get("election_date").map_err(backend)?,
        sequence: u64::try_from(sequence).map_err(|_| StoreError::Corrupt("a stored sequence is negative".into()))?,
        published_at: row.try_get("published_at").map_err(backend)?,
        manifest_sha256: row.try_get("manifest_sha256").map_err(backend)?,
    })
}
