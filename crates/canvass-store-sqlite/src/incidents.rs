//! The incident register on SQLite (migrations 0004 and 0016): incidents and their append-only
//! timeline of updates. An incident row changes only in the transaction that adds its next
//! update, and the schema's trigger refuses any other change.

use canvass_core::{credential::Username, id::JurisdictionId};
use canvass_store::{
    IncidentQuery, StoreError, StoredIncident, StoredIncidentUpdate,
    incidents::{UpdateColumns, join_classes, update},
    rows,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool, error::ErrorKind, sqlite::SqliteRow};

use crate::{backend, begin_write, insert_error, optional_text, text};

const COLUMNS: &str = "id, jurisdiction_id, opened_at, kind, severity, summary, subject, records_affected, status, \
     detected_at, data_classes, actions_taken, detector_key, revision";

const UPDATE_COLUMNS: &str = "incident_id, sequence, at, author, status, severity, records_affected, data_classes, \
     actions_taken, public_text, internal_text";

fn incident_row(row: &SqliteRow) -> Result<StoredIncident, StoreError> {
    rows::incident(rows::IncidentColumns {
        id: text(row, "id")?,
        jurisdiction: optional_text(row, "jurisdiction_id")?,
        opened_at: row.try_get("opened_at").map_err(backend)?,
        kind: text(row, "kind")?,
        severity: text(row, "severity")?,
        summary: text(row, "summary")?,
        subject: optional_text(row, "subject")?,
        records_affected: row.try_get("records_affected").map_err(backend)?,
        status: text(row, "status")?,
        detected_at: row.try_get("detected_at").map_err(backend)?,
        data_classes: text(row, "data_classes")?,
        actions_taken: text(row, "actions_taken")?,
        detector_key: optional_text(row, "detector_key")?,
        revision: row.try_get("revision").map_err(backend)?,
    })
}

fn update_row(row: &SqliteRow) -> Result<StoredIncidentUpdate, StoreError> {
    update(UpdateColumns {
        incident_id: text(row, "incident_id")?,
        sequence: row.try_get("sequence").map_err(backend)?,
        at: row.try_get("at").map_err(backend)?,
        author: text(row, "author")?,
        status: text(row, "status")?,
        severity: text(row, "severity")?,
        records_affected: row.try_get("records_affected").map_err(backend)?,
        data_classes: text(row, "data_classes")?,
        actions_taken: text(row, "actions_taken")?,
        public_text: text(row, "public_text")?,
        internal_text: text(row, "internal_text")?,
    })
}

pub async fn insert(pool: &SqlitePool, incident: &StoredIncident) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO incidents (id, jurisdiction_id, opened_at, kind, severity, summary, subject, records_affected, \
         status, detected_at, data_classes, actions_taken, detector_key) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&incident.id)
    .bind(incident.jurisdiction.as_ref().map(JurisdictionId::as_str))
    .bind(incident.opened_at)
    .bind(&incident.kind)
    .bind(&incident.severity)
    .bind(&incident.summary)
    .bind(incident.subject.as_ref().map(Username::as_str))
    .bind(rows::integer(incident.records_affected, "records affected")?)
    .bind(&incident.status)
    .bind(incident.detected_at)
    .bind(join_classes(&incident.data_classes)?)
    .bind(&incident.actions_taken)
    .bind(incident.detector_key.as_deref())
    .execute(pool)
    .await
    .map_err(|error| insert_error(error, "incident", &incident.id, ("incident", "")))?;
    Ok(())
}

pub async fn one(pool: &SqlitePool, id: &str) -> Result<Option<StoredIncident>, StoreError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM incidents WHERE id = ?"))
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(backend)?;
    row.as_ref().map(incident_row).transpose()
}

pub async fn matching(pool: &SqlitePool, query: &IncidentQuery) -> Result<Vec<StoredIncident>, StoreError> {
    let mut builder = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM incidents WHERE 1 = 1"));
    if let Some(jurisdiction) = &query.jurisdiction {
        builder.push(" AND jurisdiction_id = ").push_bind(jurisdiction.as_str().to_owned());
    }
    if let Some(key) = &query.detector_key {
        builder.push(" AND detector_key = ").push_bind(key.clone());
    }
    if !query.statuses.is_empty() {
        builder.push(" AND status IN (");
        let mut list = builder.separated(", ");
        for status in &query.statuses {
            list.push_bind(status.clone());
        }
        builder.push(")");
    }
    builder.push(" ORDER BY opened_at DESC, id DESC LIMIT ").push_bind(i64::from(query.limit));
    let rows = builder.build().fetch_all(pool).await.map_err(backend)?;
    rows.iter().map(incident_row).collect()
}

pub async fn add_update(pool: &SqlitePool, entry: &StoredIncidentUpdate) -> Result<bool, StoreError> {
    let classes = join_classes(&entry.data_classes)?;
    let records = rows::integer(entry.records_affected, "records affected")?;
    let mut transaction = begin_write(pool).await?;
    let revision: Option<i64> = sqlx::query_scalar("SELECT revision FROM incidents WHERE id = ?")
        .bind(&entry.incident_id)
        .fetch_optional(&mut *transaction)
        .await
        .map_err(backend)?;
    let Some(revision) = revision else {
        return Err(StoreError::Missing { what: "incident", id: entry.incident_id.clone() });
    };
    if i64::from(entry.sequence) != revision + 1 {
        return Ok(false);
    }
    sqlx::query(&format!("INSERT INTO incident_updates ({UPDATE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"))
        .bind(&entry.incident_id)
        .bind(i64::from(entry.sequence))
        .bind(entry.at)
        .bind(&entry.author)
        .bind(&entry.status)
        .bind(&entry.severity)
        .bind(records)
        .bind(&classes)
        .bind(&entry.actions_taken)
        .bind(&entry.public_text)
        .bind(&entry.internal_text)
        .execute(&mut *transaction)
        .await
        .map_err(backend)?;
    sqlx::query(
        "UPDATE incidents SET status = ?, severity = ?, records_affected = ?, data_classes = ?, actions_taken = ?, \
         revision = revision + 1 WHERE id = ?",
    )
    .bind(&entry.status)
    .bind(&entry.severity)
    .bind(records)
    .bind(&classes)
    .bind(&entry.actions_taken)
    .bind(&entry.incident_id)
    .execute(&mut *transaction)
    .await
    .map_err(|error| match error.as_database_error().map(|database| database.kind()) {
        Some(ErrorKind::UniqueViolation) => {
            StoreError::AlreadyExists { what: "unfinished incident of this detector", id: entry.incident_id.clone() }
        }
        _ => backend(error),
    })?;
    transaction.commit().await.map_err(backend)?;
    Ok(true)
}

pub async fn updates(pool: &SqlitePool, id: &str) -> Result<Vec<StoredIncidentUpdate>, StoreError> {
    let rows =
        sqlx::query(&format!("SELECT {UPDATE_COLUMNS} FROM incident_updates WHERE incident_id = ? ORDER BY sequence"))
            .bind(id)
            .fetch_all(pool)
            .await
            .map_err(backend)?;
    rows.iter().map(update_row).collect()
}
