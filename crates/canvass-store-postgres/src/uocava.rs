//! UOCAVA requests, deliveries and FWAB receipts (`Store::insert_uocava_request` and the rest).

use canvass_core::id::ElectionId;
use canvass_store::{StoreError, StoredFwab, StoredUocavaDelivery, StoredUocavaRequest, uocava as rows};
use sqlx::{PgPool, Row, postgres::PgRow};

use crate::{backend, insert_error, text};

pub(crate) async fn insert_request(pool: &PgPool, request: &StoredUocavaRequest) -> Result<i64, StoreError> {
    let number = request.registration_number.as_str();
    let inserted = sqlx::query(
        "INSERT INTO uocava_requests (registration_number, jurisdiction_id, year, delivery, classification, \
         received_at) SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 AS found FROM voters WHERE registration_number = $7 \
         AND jurisdiction_id = $8) RETURNING id",
    )
    .bind(number)
    .bind(request.jurisdiction.as_str())
    .bind(request.year)
    .bind(request.delivery.as_str())
    .bind(request.classification.as_str())
    .bind(request.received_at)
    .bind(number)
    .bind(request.jurisdiction.as_str())
    .fetch_optional(pool)
    .await
    .map_err(backend)?;
    let Some(row) = inserted else {
        return Err(StoreError::Missing { what: "voter", id: number.to_owned() });
    };
    row.try_get("id").map_err(backend)
}

pub(crate) fn request_row(row: &PgRow) -> Result<StoredUocavaRequest, StoreError> {
    rows::request(rows::RequestColumns {
        id: row.try_get("id").map_err(backend)?,
        registration_number: text(row, "registration_number")?,
        jurisdiction: text(row, "jurisdiction_id")?,
        year: row.try_get("year").map_err(backend)?,
        delivery: text(row, "delivery")?,
        classification: text(row, "classification")?,
        received_at: row.try_get("received_at").map_err(backend)?,
    })
}

pub(crate) async fn requests(pool: &PgPool, year: i32) -> Result<Vec<StoredUocavaRequest>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, registration_number, jurisdiction_id, year, delivery, classification, received_at \
         FROM uocava_requests WHERE year = $1 ORDER BY id",
    )
    .bind(year)
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    rows.iter().map(request_row).collect()
}

pub(crate) async fn insert_delivery(pool: &PgPool, delivery: &StoredUocavaDelivery) -> Result<i64, StoreError> {
    let number = delivery.registration_number.as_str();
    let row = sqlx::query(
        "INSERT INTO uocava_deliveries (registration_number, election_id, style_id, method, token_hash, sent_at, \
         expires_at, downloaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL) RETURNING id",
    )
    .bind(number)
    .bind(delivery.election.as_str())
    .bind(&delivery.style)
    .bind(delivery.method.as_str())
    .bind(delivery.method.token_hash())
    .bind(delivery.sent_at)
    .bind(delivery.method.expires_at())
    .fetch_one(pool)
    .await
    .map_err(|error| insert_error(error, "UOCAVA link", "(token)", ("voter or election", number)))?;
    row.try_get("id").map_err(backend)
}

pub(crate) const DELIVERY_COLUMNS: &str =
    "id, registration_number, election_id, style_id, method, token_hash, sent_at, expires_at, downloaded_at";

pub(crate) fn delivery_row(row: &PgRow) -> Result<StoredUocavaDelivery, StoreError> {
    rows::delivery(rows::DeliveryColumns {
        id: row.try_get("id").map_err(backend)?,
        registration_number: text(row, "registration_number")?,
        election: text(row, "election_id")?,
        style: text(row, "style_id")?,
        method: text(row, "method")?,
        token_hash: row.try_get("token_hash").map_err(backend)?,
        sent_at: row.try_get("sent_at").map_err(backend)?,
        expires_at: row.try_get("expires_at").map_err(backend)?,
        downloaded_at: row.try_get("downloaded_at").map_err(backend)?,
    })
}

pub(crate) async fn deliveries(pool: &PgPool, election: &ElectionId) -> Result<Vec<StoredUocavaDelivery>, StoreError> {
    let rows =
        sqlx::query(&format!("SELECT {DELIVERY_COLUMNS} FROM uocava_deliveries WHERE election_id = $1 ORDER BY id"))
            .bind(election.as_str())
            .fetch_all(pool)
            .await
            .map_err(backend)?;
    rows.iter().map(delivery_row).collect()
}

pub(crate) async fn delivery_by_token(
    pool: &PgPool,
    token_hash: &str,
) -> Result<Option<StoredUocavaDelivery>, StoreError> {
    let row = sqlx::query(&format!("SELECT {DELIVERY_COLUMNS} FROM uocava_deliveries WHERE token_hash = $1"))
        .bind(token_hash)
        .fetch_optional(pool)
        .await
        .map_err(backend)?;
    row.as_ref().map(delivery_row).transpose()
}

pub(crate) async fn use_link(pool: &PgPool, id: i64, at: i64) -> Result<bool, StoreError> {
    let used = sqlx::query(
        "UPDATE uocava_deliveries SET downloaded_at = $1 \
         WHERE id = $2 AND method = 'link' AND downloaded_at IS NULL AND expires_at > $3",
    )
    .bind(at)
    .bind(id)
    .bind(at)
    .execute(pool)
    .await
    .map_err(backend)?;
    Ok(used.rows_affected() == 1)
}

pub(crate) async fn insert_fwab(pool: &PgPool, fwab: &StoredFwab) -> Result<i64, StoreError> {
    let number = fwab.registration_number.as_str();
    let row = sqlx::query(
        "INSERT INTO uocava_fwabs (registration_number, election_id, received_on, actor, recorded_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(number)
    .bind(fwab.election.as_str())
    .bind(fwab.received_on)
    .bind(&fwab.actor)
    .bind(fwab.recorded_at)
    .fetch_one(pool)
    .await
    .map_err(|error| insert_error(error, "FWAB for voter", number, ("voter or election", number)))?;
    row.try_get("id").map_err(backend)
}

pub(crate) async fn fwabs(pool: &PgPool, election: &ElectionId) -> Result<Vec<StoredFwab>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, registration_number, election_id, received_on, actor, recorded_at FROM uocava_fwabs \
         WHERE election_id = $1 ORDER BY id",
    )
    .bind(election.as_str())
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    rows.iter()
        .map(|row| {
            Ok(StoredFwab {
                id: row.try_get("id").map_err(backend)?,
                registration_number: text(row, "registration_number")?,
                election: ElectionId::parse(&text(row, "election_id")?)
                    .map_err(|error| StoreError::Corrupt(error.to_string()))?,
                received_on: row.try_get("received_on").map_err(backend)?,
                actor: text(row, "actor")?,
                recorded_at: row.try_get("recorded_at").map_err(backend)?,
            })
        })
        .collect()
}
