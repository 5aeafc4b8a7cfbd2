//! Polling places as the store keeps them: public data (where and when to vote), imported from a
//! feed for one jurisdiction and replaced whole by its next import, with the import itself kept
//! as provenance.

use canvass_core::id::{JurisdictionId, PrecinctId};

use crate::StoreError;

/// A place to vote, as imported for a jurisdiction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPollingPlace {
    /// The jurisdiction whose import brought it (ids are unique within it).
    pub jurisdiction: JurisdictionId,
    /// The feed's id of the place (`PollingLocation id`).
    pub id: String,
    pub name: Option<String>,
    /// The address on one line, for people.
    pub address: String,
    /// Opening hours as text, when the feed gives them.
    pub hours: Option<String>,
    /// How to find the entrance, when the feed says.
    pub directions: Option<String>,
    pub early_voting: bool,
    pub drop_box: bool,
    /// The precincts whose voters it serves, by id.
    pub precincts: Vec<PrecinctId>,
}

impl StoredPollingPlace {
    /// Whether it is where a precinct votes on election day (not only an early-voting site or a
    /// ballot drop box).
    pub fn is_election_day(&self) -> bool {
        !self.early_voting && !self.drop_box
    }
}

/// One import of polling places: where they came from and what it gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPlacesImport {
    pub id: String,
    pub jurisdiction: JurisdictionId,
    /// `vip5`.
    pub format: String,
    /// SHA-256 of the whole file, hex.
    pub file_digest: String,
    /// Who ran it (a username).
    pub actor: String,
    pub imported_at: i64,
    pub places: u64,
    /// The jurisdiction's precincts the feed gave a polling place.
    pub precincts_matched: u64,
    /// The feed's precincts that matched none of the jurisdiction's.
    pub precincts_unmatched: u64,
}

/// One row of a polling place joined with one precinct it serves (none for a place that serves
/// no precinct), as both backends read them.
#[derive(Debug)]
pub struct PlaceRow {
    pub jurisdiction: String,
    pub id: String,
    pub name: Option<String>,
    pub address: String,
    pub hours: Option<String>,
    pub directions: Option<String>,
    pub early_voting: bool,
    pub drop_box: bool,
    pub precinct: Option<String>,
}

/// Folds joined rows, ordered by place, into places with their precincts.
pub fn collect_places(rows: impl IntoIterator<Item = PlaceRow>) -> Result<Vec<StoredPollingPlace>, StoreError> {
    let corrupt = |error: canvass_core::CoreError| StoreError::Corrupt(error.to_string());
    let mut places: Vec<StoredPollingPlace> = Vec::new();
    for row in rows {
        let precinct = row.precinct.as_deref().map(PrecinctId::parse).transpose().map_err(corrupt)?;
        let same = places
            .last()
            .is_some_and(|last| last.id == row.id && last.jurisdiction.as_str() == row.jurisdiction.as_str());
        if !same {
            places.push(StoredPollingPlace {
                jurisdiction: JurisdictionId::parse(&row.jurisdiction).map_err(corrupt)?,
                id: row.id,
                name: row.name,
                address: row.address,
                hours: row.hours,
                directions: row.directions,
                early_voting: row.early_voting,
                drop_box: row.drop_box,
                precincts: Vec::new(),
            });
        }
        if let (Some(precinct), Some(place)) = (precinct, places.last_mut()) {
            place.precincts.push(precinct);
        }
    }
    Ok(places)
}

/// The columns of a polling-place import, as read.
#[derive(Debug)]
pub struct PlacesImportColumns {
    pub id: String,
    pub jurisdiction: String,
    pub format: String,
    pub file_digest: String,
    pub actor: String,
    pub imported_at: i64,
    pub places: i64,
    pub precincts_matched: i64,
    pub precincts_unmatched: i64,
}

pub fn places_import(columns: PlacesImportColumns) -> Result<StoredPlacesImport, StoreError> {
    Ok(StoredPlacesImport {
        id: columns.id,
        jurisdiction: crate::rows::jurisdiction_id(&columns.jurisdiction)?,
        format: columns.format,
        file_digest: columns.file_digest,
        actor: columns.actor,
        imported_at: columns.imported_at,
        places: crate::rows::count(columns.places)?,
        precincts_matched: crate::rows::count(columns.precincts_matched)?,
        precincts_unmatched: crate::rows::count(columns.precincts_unmatched)?,
    })
}
