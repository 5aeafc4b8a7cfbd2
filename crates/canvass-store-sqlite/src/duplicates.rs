//! Duplicate detection on SQLite: candidate pairs by equal blind indexes within one roll, and
//! the append-only decisions table (migration 0012).

use canvass_store::{
    DuplicateCandidate, DuplicateDecision, DuplicateQuery, DuplicateRule, DuplicateVerdict, StoreError,
    duplicates::{check_decision, cursor},
    rows,
};
use sqlx::{Row, SqlitePool, error::ErrorKind, sqlite::SqliteRow};

use crate::backend;

/// Rows of the rolls in the scope's tree, not removed; pairs of one roll agreeing
/// on an index; those already decided left out. Both rules' pairs are merged in cursor order.
const CANDIDATES: &str = "WITH RECURSIVE tree (id) AS ( \
         SELECT id FROM jurisdictions WHERE id = ?1 \
         UNION SELECT jurisdictions.id FROM jurisdictions JOIN tree ON jurisdictions.parent_id = tree.id), \
     scope AS ( \
         SELECT registration_number, jurisdiction_id, lookup_index, drivers_license_index FROM voters \
         WHERE status <> 'removed' \
           AND jurisdiction_id IN (SELECT id FROM tree)), \
     pairs AS ( \
         SELECT a.registration_number AS first, b.registration_number AS second, \
                'name_and_birth_date' AS rule, a.jurisdiction_id AS roll \
         FROM scope a JOIN scope b ON b.jurisdiction_id = a.jurisdiction_id AND b.lookup_index = a.lookup_index \
              AND b.registration_number > a.registration_number \
         WHERE a.lookup_index IS NOT NULL \
         UNION ALL \
         SELECT a.registration_number, b.registration_number, 'drivers_licence', a.jurisdiction_id \
         FROM scope a JOIN scope b ON b.jurisdiction_id = a.jurisdiction_id \
              AND b.drivers_license_index = a.drivers_license_index \
              AND b.registration_number > a.registration_number \
         WHERE a.drivers_license_index IS NOT NULL) \
     SELECT first, second, rule, roll FROM pairs \
     WHERE (first, second, rule) > (?2, ?3, ?4) \
       AND NOT EXISTS (SELECT 1 FROM voter_duplicate_decisions decided \
                       WHERE decided.first_registration_number = pairs.first \
                         AND decided.second_registration_number = pairs.second) \
     ORDER BY first, second, rule LIMIT ?5";

pub async fn candidates(pool: &SqlitePool, query: &DuplicateQuery<'_>) -> Result<Vec<DuplicateCandidate>, StoreError> {
    let (first, second, rule) = cursor(query.after);
    let rows = sqlx::query(CANDIDATES)
        .bind(query.scope.as_str())
        .bind(first)
        .bind(second)
        .bind(rule)
        .bind(i64::from(query.limit))
        .fetch_all(pool)
        .await
        .map_err(backend)?;
    rows.iter().map(candidate_row).collect()
}

fn candidate_row(row: &SqliteRow) -> Result<DuplicateCandidate, StoreError> {
    let text = |column: &str| -> Result<String, StoreError> { row.try_get(column).map_err(backend) };
    Ok(DuplicateCandidate {
        first: text("first")?,
        second: text("second")?,
        rule: DuplicateRule::parse(&text("rule")?)?,
        roll: rows::jurisdiction_id(&text("roll")?)?,
    })
}

pub async fn record(pool: &SqlitePool, decision: &DuplicateDecision) -> Result<i64, StoreError> {
    check_decision(decision)?;
    let row = sqlx::query(
        "INSERT INTO voter_duplicate_decisions (jurisdiction_id, first_registration_number, \
         second_registration_number, decision, kept_registration_number, reason, actor, decided_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(decision.jurisdiction.as_str())
    .bind(&decision.first)
    .bind(&decision.second)
    .bind(decision.verdict.as_str())
    .bind(decision.kept.as_deref())
    .bind(&decision.reason)
    .bind(&decision.actor)
    .bind(decision.decided_at)
    .fetch_one(pool)
    .await
    .map_err(|error| match error.as_database_error().map(|database| database.kind()) {
        Some(ErrorKind::ForeignKeyViolation) => StoreError::Missing {
            what: "voter or jurisdiction",
            id: format!("{}, {}, {}", decision.first, decision.second, decision.jurisdiction),
        },
        _ => backend(error),
    })?;
    row.try_get("id").map_err(backend)
}

pub async fn decisions(pool: &SqlitePool, registration_number: &str) -> Result<Vec<DuplicateDecision>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, jurisdiction_id, first_registration_number, second_registration_number, decision, \
         kept_registration_number, reason, actor, decided_at FROM voter_duplicate_decisions \
         WHERE first_registration_number = ?1 OR second_registration_number = ?1 ORDER BY id",
    )
    .bind(registration_number)
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    rows.iter().map(decision_row).collect()
}

fn decision_row(row: &SqliteRow) -> Result<DuplicateDecision, StoreError> {
    let text = |column: &str| -> Result<String, StoreError> { row.try_get(column).map_err(backend) };
    Ok(DuplicateDecision {
        id: row.try_get("id").map_err(backend)?,
        jurisdiction: rows::jurisdiction_id(&text("jurisdiction_id")?)?,
        first: text("first_registration_number")?,
        second: text("second_registration_number")?,
        verdict: DuplicateVerdict::parse(&text("decision")?)?,
        kept: row.try_get("kept_registration_number").map_err(backend)?,
        reason: text("reason")?,
        actor: text("actor")?,
        decided_at: row.try_get("decided_at").map_err(backend)?,
    })
}
