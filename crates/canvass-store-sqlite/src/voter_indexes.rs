//! Deferring the voters' secondary indexes during a first load of the roll. Blind index values
//! are random by design, so inserting a million rows into five indexes on them means a million
//! random B-tree inserts each, most of them missing the page cache; building each index once
//! afterwards is one sorted pass.

use sqlx::{Row, SqlitePool};

use canvass_store::StoreError;

use crate::{backend, begin_write};

/// The secondary indexes on `voters` as the migrations create them (0002 and 0005). Only an
/// index whose stored definition is exactly this one is dropped, so an index a later migration
/// redefines is left alone rather than rebuilt to an older definition.
const VOTER_INDEXES: [(&str, &str); 6] = [
    ("voters_by_precinct", "ON voters (precinct_id, status)"),
    ("voters_by_key_version", "ON voters (jurisdiction_id, key_version)"),
    ("voters_by_name_index", "ON voters (jurisdiction_id, name_index)"),
    ("voters_by_identity_index", "ON voters (jurisdiction_id, identity_index)"),
    ("voters_by_drivers_license_index", "ON voters (jurisdiction_id, drivers_license_index)"),
    ("voters_by_lookup_index", "ON voters (jurisdiction_id, lookup_index)"),
];

fn definition(name: &str, columns: &str) -> String {
    format!("CREATE INDEX {name} {columns}")
}

/// Whitespace-insensitive, as SQLite keeps the statement's text as it was written.
fn same_statement(left: &str, right: &str) -> bool {
    left.split_whitespace().eq(right.split_whitespace())
}

async fn stored_definition(connection: &mut sqlx::SqliteConnection, name: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'voters' AND name = ?")
        .bind(name)
        .fetch_optional(&mut *connection)
        .await
        .map_err(backend)?;
    row.map(|row| row.try_get::<Option<String>, _>(0).map_err(backend)).transpose().map(Option::flatten)
}

/// See [`canvass_store::Store::defer_voter_indexes`]. One write transaction: the emptiness
/// check and the drops cannot be split by another writer's insert.
pub(crate) async fn defer(writer: &SqlitePool) -> Result<bool, StoreError> {
    let mut transaction = begin_write(writer).await?;
    let any = sqlx::query("SELECT EXISTS (SELECT 1 FROM voters)")
        .fetch_one(&mut *transaction)
        .await
        .map_err(backend)?
        .try_get::<bool, _>(0)
        .map_err(backend)?;
    if any {
        return Ok(false);
    }
    for (name, columns) in VOTER_INDEXES {
        let stored = stored_definition(&mut transaction, name).await?;
        if stored.is_some_and(|stored| same_statement(&stored, &definition(name, columns))) {
            sqlx::query(&format!("DROP INDEX {name}")).execute(&mut *transaction).await.map_err(backend)?;
        }
    }
    transaction.commit().await.map_err(backend)?;
    Ok(true)
}

/// See [`canvass_store::Store::build_voter_indexes`]. Looks first without the write lock, so
/// opening the store beside a running import does not queue behind its batches.
pub(crate) async fn build(writer: &SqlitePool) -> Result<(), StoreError> {
    let mut connection = writer.acquire().await.map_err(backend)?;
    let mut missing = false;
    for (name, _) in VOTER_INDEXES {
        missing |= stored_definition(&mut connection, name).await?.is_none();
    }
    drop(connection);
    if !missing {
        return Ok(());
    }
    // One transaction per index: each is whole or absent, and the WAL can be checkpointed
    // between them instead of holding every index of a million rows at once.
    for (name, columns) in VOTER_INDEXES {
        let mut transaction = begin_write(writer).await?;
        if stored_definition(&mut transaction, name).await?.is_none() {
            sqlx::query(&definition(name, columns)).execute(&mut *transaction).await.map_err(backend)?;
        }
        transaction.commit().await.map_err(backend)?;
    }
    Ok(())
}
