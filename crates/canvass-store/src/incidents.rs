//! The incident register's timeline as stored (migration 0016): each update carries the
//! incident's values after it and the texts written with it; updates are append-only and an
//! incident row changes only together with its next update.

use canvass_core::id::JurisdictionId;

use crate::StoreError;

/// One entry of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredIncidentUpdate {
    pub incident_id: String,
    /// 1 for the first update; must be the incident's revision + 1 when added.
    pub sequence: u32,
    pub at: i64,
    /// A staff user name, or `system` for a detector.
    pub author: String,
    /// The incident's values after this update.
    pub status: String,
    pub severity: String,
    pub records_affected: u64,
    pub data_classes: Vec<String>,
    pub actions_taken: String,
    /// Shown in the public transparency report.
    pub public_text: String,
    /// Kept with the office.
    pub internal_text: String,
}

/// Which incidents to list, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IncidentQuery {
    /// Incidents recorded for exactly this jurisdiction.
    pub jurisdiction: Option<JurisdictionId>,
    /// Any of these statuses; empty for all.
    pub statuses: Vec<String>,
    pub detector_key: Option<String>,
    pub limit: u32,
}

/// Data class names as one column: sorted, comma-separated.
pub fn join_classes(classes: &[String]) -> Result<String, StoreError> {
    if let Some(bad) = classes.iter().find(|class| class.is_empty() || class.contains(',')) {
        return Err(StoreError::Unsupported(format!("data class name `{bad}` is empty or has a comma")));
    }
    let mut sorted = classes.to_vec();
    sorted.sort();
    sorted.dedup();
    Ok(sorted.join(","))
}

/// The column back as names.
pub fn split_classes(column: &str) -> Vec<String> {
    column.split(',').filter(|class| !class.is_empty()).map(str::to_owned).collect()
}

/// The columns of an incident update row, as read.
#[derive(Debug)]
pub struct UpdateColumns {
    pub incident_id: String,
    pub sequence: i64,
    pub at: i64,
    pub author: String,
    pub status: String,
    pub severity: String,
    pub records_affected: i64,
    pub data_classes: String,
    pub actions_taken: String,
    pub public_text: String,
    pub internal_text: String,
}

pub fn update(columns: UpdateColumns) -> Result<StoredIncidentUpdate, StoreError> {
    Ok(StoredIncidentUpdate {
        incident_id: columns.incident_id,
        sequence: u32::try_from(columns.sequence)
            .map_err(|_| StoreError::Corrupt(format!("incident update sequence {}", columns.sequence)))?,
        at: columns.at,
        author: columns.author,
        status: columns.status,
        severity: columns.severity,
        records_affected: crate::rows::count(columns.records_affected)?,
        data_classes: split_classes(&columns.data_classes),
        actions_taken: columns.actions_taken,
        public_text: columns.public_text,
        internal_text: columns.internal_text,
    })
}
