//! Published results snapshots on SQLite (migration 0015): manifests, file lists, and bodies
//! kept once per SHA-256.

use canvass_core::id::ElectionId;
use canvass_store::{
    SnapshotHeader, StoreError, StoredBody, StoredSnapshot, StoredSnapshotFile, results_snapshots::check_snapshot,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool, error::ErrorKind, sqlite::SqliteRow};

use crate::{backend, begin_write};

/// Bound parameters per `IN (...)` query: well under SQLite's limit.
const CHUNK: usize = 500;
/// Snapshot file rows per `INSERT`: five parameters each, well under SQLite's limit.
const FILE_ROWS_PER_STATEMENT: usize = 500;

const HEADER_COLUMNS: &str = "election_id, election_name, election_date, sequence, published_at, manifest_sha256";

pub async fn put(pool: &SqlitePool, snapshot: &StoredSnapshot, bodies: &[StoredBody]) -> Result<(), StoreError> {
    check_snapshot(snapshot, bodies)?;
    let header = &snapshot.header;
    let sequence = sequence_value(header.sequence)?;
    let mut transaction = begin_write(pool).await?;
    for body in bodies {
        sqlx::query(
            "INSERT INTO results_bodies (sha256, body, gzip, brotli) VALUES (?, ?, ?, ?) \
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
         manifest, signature, manifest_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
    // Thousands of rows per snapshot: many to a statement, not one round trip each.
    for chunk in snapshot.files.chunks(FILE_ROWS_PER_STATEMENT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO results_snapshot_files (election_id, sequence, path, sha256, content_type) ",
        );
        insert.push_values(chunk, |mut row, file| {
            row.push_bind(header.election.as_str())
                .push_bind(sequence)
                .push_bind(&file.path)
                .push_bind(&file.sha256)
                .push_bind(&file.content_type);
        });
        let inserted = insert.build().execute(&mut *transaction).await;
        if let Err(error) = inserted {
            if error.as_database_error().map(|database| database.kind()) == Some(ErrorKind::ForeignKeyViolation) {
                let hashes: Vec<String> = chunk.iter().map(|file| file.sha256.clone()).collect();
                let known: std::collections::HashSet<String> =
                    known_bodies_in(&mut transaction, &hashes).await?.into_iter().collect();
                let missing = hashes.into_iter().find(|hash| !known.contains(hash)).unwrap_or_default();
                return Err(StoreError::Missing { what: "results body", id: missing });
            }
            return Err(backend(error));
        }
    }
    transaction.commit().await.map_err(backend)
}

pub async fn known_bodies(pool: &SqlitePool, hashes: &[String]) -> Result<Vec<String>, StoreError> {
    let mut connection = pool.acquire().await.map_err(backend)?;
    known_bodies_in(&mut connection, hashes).await
}

async fn known_bodies_in(connection: &mut SqliteConnection, hashes: &[String]) -> Result<Vec<String>, StoreError> {
    let mut known = Vec::new();
    for chunk in hashes.chunks(CHUNK) {
        let placeholders = vec!["?"; chunk.len()].join(", ");
        // The lean table of hashes (migration 0019), not the bodies themselves.
        let sql = format!("SELECT sha256 FROM results_body_hashes WHERE sha256 IN ({placeholders})");
        let mut query = sqlx::query(&sql);
        for hash in chunk {
            query = query.bind(hash);
        }
        for row in query.fetch_all(&mut *connection).await.map_err(backend)? {
            known.push(row.try_get("sha256").map_err(backend)?);
        }
    }
    Ok(known)
}

pub async fn body(pool: &SqlitePool, sha256: &str) -> Result<Option<StoredBody>, StoreError> {
    let row = sqlx::query("SELECT sha256, body, gzip, brotli FROM results_bodies WHERE sha256 = ?")
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
    pool: &SqlitePool,
    election: &ElectionId,
    sequence: u64,
) -> Result<Option<StoredSnapshot>, StoreError> {
    let Ok(sequence_value) = i64::try_from(sequence) else { return Ok(None) };
    let row = sqlx::query(&format!(
        "SELECT {HEADER_COLUMNS}, manifest, signature FROM results_snapshots WHERE election_id = ? AND sequence = ?"
    ))
    .bind(election.as_str())
    .bind(sequence_value)
    .fetch_optional(pool)
    .await
    .map_err(backend)?;
    let Some(row) = row else { return Ok(None) };
    let files = sqlx::query(
        "SELECT path, sha256, content_type FROM results_snapshot_files WHERE election_id = ? AND sequence = ? \
         ORDER BY path",
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

pub async fn snapshots(pool: &SqlitePool, election: &ElectionId) -> Result<Vec<SnapshotHeader>, StoreError> {
    let rows =
        sqlx::query(&format!("SELECT {HEADER_COLUMNS} FROM results_snapshots WHERE election_id = ? ORDER BY sequence"))
            .bind(election.as_str())
            .fetch_all(pool)
            .await
            .map_err(backend)?;
    rows.iter().map(header_row).collect()
}

pub async fn latest(pool: &SqlitePool) -> Result<Vec<SnapshotHeader>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {HEADER_COLUMNS} FROM results_snapshots latest \
         WHERE sequence = (SELECT MAX(sequence) FROM results_snapshots other \
                           WHERE other.election_id = latest.election_id) \
         ORDER BY election_date DESC, election_id"
    ))
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    rows.iter().map(header_row).collect()
}

fn sequence_value(sequence: u64) -> Result<i64, StoreError> {
    i64::try_from(sequence).map_err(|_| StoreError::Corrupt("a snapshot's sequence is out of range".into()))
}

fn header_row(row: &SqliteRow) -> Result<SnapshotHeader, StoreError> {
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
