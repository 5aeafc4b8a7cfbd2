//! One voter's UOCAVA requests and deliveries, by registration number
//! (`Store::voter_uocava_requests`, `Store::voter_uocava_deliveries`): the public ballot
//! lookup's reads, on the by-voter indexes of migration 0020.

use canvass_store::{StoreError, StoredUocavaDelivery, StoredUocavaRequest};
use sqlx::SqlitePool;

use crate::{
    backend,
    uocava::{DELIVERY_COLUMNS, delivery_row, request_row},
};

pub(crate) async fn requests(
    pool: &SqlitePool,
    registration_number: &str,
) -> Result<Vec<StoredUocavaRequest>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, registration_number, jurisdiction_id, year, delivery, classification, received_at \
         FROM uocava_requests WHERE registration_number = ? ORDER BY id",
    )
    .bind(registration_number)
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    rows.iter().map(request_row).collect()
}

pub(crate) async fn deliveries(
    pool: &SqlitePool,
    registration_number: &str,
) -> Result<Vec<StoredUocavaDelivery>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM uocava_deliveries WHERE registration_number = ? ORDER BY id"
    ))
    .bind(registration_number)
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    rows.iter().map(delivery_row).collect()
}
