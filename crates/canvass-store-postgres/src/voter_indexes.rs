//! Deferring the voters' secondary indexes during a first load of the roll (as the SQLite
//! store does): random blind-index values make every row a random insert into each index,
//! where building each index once afterwards is one sorted pass.

use sqlx::{PgConnection, PgPool, Row};

use canvass_store::StoreError;

use crate::backend;

/// The secondary indexes on `voters` as the migrations create them (0002 and 0005): name and
/// columns. Only an index with exactly these columns is dropped, so one a later migration
/// redefines is left alone rather than rebuilt to an older definition.
const VOTER_INDEXES: [(&str, &str); 6] = [
    ("voters_by_precinct", "precinct_id, status"),
    ("voters_by_key_version", "jurisdiction_id, key_version"),
    ("voters_by_name_index", "jurisdiction_id, name_index"),
    ("voters_by_identity_index", "jurisdiction_id, identity_index"),
    ("voters_by_drivers_license_index", "jurisdiction_id, drivers_license_index"),
    ("voters_by_lookup_index", "jurisdiction_id, lookup_index"),
];

/// PostgreSQL's own rendering of the index (`pg_indexes.indexdef`), if it exists.
async fn stored_definition(connection: &mut PgConnection, name: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'voters' \
         AND indexname = $1",
    )
    .bind(name)
    .fetch_optional(&mut *connection)
    .await
    .map_err(backend)?;
    row.map(|row| row.try_get::<String, _>(0).map_err(backend)).transpose()
}

fn is_definition(stored: &str, name: &str, columns: &str) -> bool {
    stored.starts_with(&format!("CREATE INDEX {name} ON ")) && stored.ends_with(&format!(" USING btree ({columns})"))
}

/// See [`canvass_store::Store::defer_voter_indexes`]. The table is locked first, so no insert
/// can come between the emptiness check and the drops.
pub(crate) async fn defer(pool: &PgPool) -> Result<bool, StoreError> {
    let mut transaction = pool.begin().await.map_err(backend)?;
    sqlx::query("LOCK TABLE voters IN ACCESS EXCLUSIVE MODE").execute(&mut *transaction).await.map_err(backend)?;
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
        if stored.is_some_and(|stored| is_definition(&stored, name, columns)) {
            sqlx::query(&format!("DROP INDEX {name}")).execute(&mut *transaction).await.map_err(backend)?;
        }
    }
    transaction.commit().await.map_err(backend)?;
    Ok(true)
}

/// See [`canvass_store::Store::build_voter_indexes`].
pub(crate) async fn build(pool: &PgPool) -> Result<(), StoreError> {
    let mut transaction = pool.begin().await.map_err(backend)?;
    for (name, columns) in VOTER_INDEXES {
        if stored_definition(&mut transaction, name).await?.is_none() {
            sqlx::query(&format!("CREATE INDEX IF NOT EXISTS {name} ON voters ({columns})"))
                .execute(&mut *transaction)
                .await
                .map_err(backend)?;
        }
    }
    transaction.commit().await.map_err(backend)
}
