//! FPCAs held for a clerk (`Store::insert_pending_fpca` and the rest; migration 0021).

use canvass_store::{
    FpcaDecision, StoreError, StoredPendingFpca,
    pending_fpca::{self as rows, PENDING_SELECT},
};
use sqlx::{PgPool, Row, postgres::PgRow};

use crate::{backend, insert_error};

pub(crate) async fn insert(pool: &PgPool, pending: &StoredPendingFpca) -> Result<(), StoreError> {
    let number = pending.registration_number.as_str();
    let inserted = sqlx::query(
        "INSERT INTO uocava_pending_fpcas (id, registration_number, jurisdiction_id, sealed_request, received_at) \
         SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM voters WHERE registration_number = $6 AND jurisdiction_id = $7) \
         RETURNING id",
    )
    .bind(&pending.id)
    .bind(number)
    .bind(pending.jurisdiction.as_str())
    .bind(&pending.sealed_request)
    .bind(pending.received_at)
    .bind(number)
    .bind(pending.jurisdiction.as_str())
    .fetch_optional(pool)
    .await
    .map_err(|error| insert_error(error, "held FPCA", &pending.id, ("voter", number)))?;
    match inserted {
        Some(_) => Ok(()),
        None => Err(StoreError::Missing { what: "voter", id: number.to_owned() }),
    }
}

fn row(row: &PgRow) -> Result<StoredPendingFpca, StoreError> {
    rows::pending(rows::PendingColumns {
        id: row.try_get("id").map_err(backend)?,
        registration_number: row.try_get("registration_number").map_err(backend)?,
        jurisdiction: row.try_get("jurisdiction_id").map_err(backend)?,
        sealed_request: row.try_get("sealed_request").map_err(backend)?,
        received_at: row.try_get("received_at").map_err(backend)?,
        decision: row.try_get("decision").map_err(backend)?,
        reason: row.try_get("reason").map_err(backend)?,
        actor: row.try_get("actor").map_err(backend)?,
        decided_at: row.try_get("decided_at").map_err(backend)?,
    })
}

pub(crate) async fn list(pool: &PgPool, undecided_only: bool) -> Result<Vec<StoredPendingFpca>, StoreError> {
    let filter = if undecided_only { " WHERE d.pending_id IS NULL" } else { "" };
    let rows = sqlx::query(&format!("{PENDING_SELECT}{filter} ORDER BY p.received_at, p.id"))
        .fetch_all(pool)
        .await
        .map_err(backend)?;
    rows.iter().map(row).collect()
}

pub(crate) async fn one(pool: &PgPool, id: &str) -> Result<Option<StoredPendingFpca>, StoreError> {
    let found = sqlx::query(&format!("{PENDING_SELECT} WHERE p.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(backend)?;
    found.as_ref().map(row).transpose()
}

pub(crate) async fn decide(pool: &PgPool, id: &str, decision: &FpcaDecision) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO uocava_pending_decisions (pending_id, decision, reason, actor, decided_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (pending_id) DO NOTHING RETURNING pending_id",
    )
    .bind(id)
    .bind(decision.as_str())
    .bind(&decision.reason)
    .bind(&decision.actor)
    .bind(decision.decided_at)
    .fetch_optional(pool)
    .await
    .map_err(|error| insert_error(error, "decision of held FPCA", id, ("held FPCA", id)))?;
    Ok(inserted.is_some())
}
