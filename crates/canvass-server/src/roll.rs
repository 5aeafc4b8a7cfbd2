//! The voter roll as imported from a state's voter file: each row mapped to its county and
//! precinct, sealed under the importing jurisdiction's key ring (names, the public-record
//! columns together, each confidential column on its own), blind-indexed, and written in
//! batches that also record where the import stands, so an interrupted import resumes and a
//! re-import of an unchanged row changes nothing.

use std::collections::{BTreeSet, HashMap, HashSet};

use canvass_core::{
    audit::{Action, now_millis},
    id::{JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct},
    name::Name,
    normalize,
    voter::VoterStatus,
    voter_policy::{FieldPolicy, VoterField},
};
use canvass_formats::ncvoter::{self, NcVoterRecord, RowError};
use canvass_store::{BlindIndexes, ImportCounts, SealedFields, SealedVoter, Store, VoterBatch, VoterDigest};
use time::{Date, format_description::well_known::Iso8601};

use crate::{
    ServerError,
    keys::{IndexKind, UnsealedRing},
    ledger::{Audit, target},
    voters::Sealer,
};

/// A voter file row ready to seal: where it belongs and every value, in the clear. Exists
/// only in memory, between the file and the key ring.
#[derive(Clone, PartialEq, Eq)]
pub struct RollRow {
    /// The 1-based line of the file it came from.
    pub line: u64,
    /// The statewide voter id (North Carolina's NCID).
    pub registration_number: String,
    pub county: JurisdictionId,
    pub precinct: PrecinctId,
    pub party: String,
    pub status: VoterStatus,
    pub registered_on: Date,
    pub first_name: String,
    pub last_name: String,
    pub birth_date: Option<Date>,
    pub ssn_last_four: Option<String>,
    pub drivers_license: Option<String>,
    pub email: Option<String>,
    /// The public-record columns in the layout's order.
    pub details: Vec<String>,
}

impl std::fmt::Debug for RollRow {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RollRow")
            .field("line", &self.line)
            .field("registration_number", &self.registration_number)
            .finish_non_exhaustive()
    }
}

/// A sealed row's values opened, only those the reader may see.
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct RollRecord {
    pub registration_number: String,
    pub county: String,
    pub precinct: String,
    pub party: String,
    pub status: VoterStatus,
    pub registered_on: String,
    pub first_name: String,
    pub last_name: String,
    /// Public-record columns by name (the layout's names), empty ones left out; for an
    /// address-confidential voter, shown only to readers of confidential fields.
    pub details: Vec<(String, String)>,
    pub address_confidential: bool,
    /// Present only when the reader may see confidential fields.
    pub birth_date: Option<String>,
    pub ssn_last_four: Option<String>,
    pub drivers_license: Option<String>,
    pub email: Option<String>,
}

impl std::fmt::Debug for RollRecord {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RollRecord")
            .field("registration_number", &self.registration_number)
            .finish_non_exhaustive()
    }
}

impl RollRecord {
    /// A public-record column's value, or "".
    pub fn detail(&self, column: &str) -> &str {
        self.details.iter().find(|(name, _)| name == column).map_or("", |(_, value)| value.as_str())
    }
}

/// Keys `county_desc` values and jurisdiction names alike: "Wake County", "WAKE" and "wake"
/// are one county.
pub fn county_key(text: &str) -> String {
    let upper: String = text.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_uppercase();
    upper.strip_suffix("COUNTY").filter(|rest| !rest.is_empty()).map_or(upper.clone(), str::to_owned)
}

/// An id segment from a name: lower case, runs of other characters as one underscore (the
/// Open Civic Data identifier style).
pub fn slug(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for character in text.trim().chars() {
        if character.is_ascii_alphanumeric() || character == '-' || character == '.' {
            slug.push(character.to_ascii_lowercase());
        } else if !slug.ends_with('_') {
            slug.push('_');
        }
    }
    slug.trim_matches('_').to_owned()
}

fn title_case(text: &str) -> String {
    text.split_whitespace()
        .map(|word| {
            let mut characters = word.chars();
            characters.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(characters.flat_map(char::to_lowercase)).collect()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The counties and precincts of the importing jurisdiction, for mapping rows to them.
#[derive(Debug)]
pub struct Places {
    jurisdiction: Jurisdiction,
    counties: HashMap<String, JurisdictionId>,
    precincts: HashSet<PrecinctId>,
    /// Create counties and precincts the file names that do not exist yet.
    add_missing: bool,
    /// Precincts named by the batch being prepared, stored together by [`Places::flush`].
    pending: Vec<Precinct>,
    pub added_counties: u64,
    pub added_precincts: u64,
}

impl Places {
    /// Loads the jurisdiction's counties (itself if it is one) and their precincts.
    pub async fn load(
        store: &dyn Store,
        jurisdiction: &JurisdictionId,
        add_missing: bool,
    ) -> Result<Self, ServerError> {
        let Some(root) = store.jurisdiction(jurisdiction).await? else {
            return Err(ServerError::NotFound(format!("there is no jurisdiction {jurisdiction}")));
        };
        let all = store.jurisdictions().await?;
        let mut counties = HashMap::new();
        for candidate in &all {
            let inside = candidate.id == root.id || candidate.parent.as_ref() == Some(&root.id);
            if inside && candidate.kind == JurisdictionKind::County {
                counties.insert(county_key(candidate.name.as_str()), candidate.id.clone());
                if let Some(segment) = candidate.id.as_str().rsplit('/').next() {
                    let segment = segment.strip_prefix("county:").unwrap_or(segment);
                    counties.entry(county_key(segment)).or_insert_with(|| candidate.id.clone());
                }
            }
        }
        let mut precincts = HashSet::new();
        for county in counties.values().collect::<BTreeSet<_>>() {
            precincts.extend(store.precincts(Some(county)).await?.into_iter().map(|precinct| precinct.id));
        }
        Ok(Self {
            jurisdiction: root,
            counties,
            precincts,
            add_missing,
            pending: Vec::new(),
            added_counties: 0,
            added_precincts: 0,
        })
    }

    /// The jurisdiction whose places these are.
    pub fn jurisdiction(&self) -> &Jurisdiction {
        &self.jurisdiction
    }

    /// The county a name (or the last segment of a county's id) stands for, however written.
    pub fn county(&self, name: &str) -> Option<&JurisdictionId> {
        self.counties.get(&county_key(name))
    }

    /// Whether the precinct is one of the jurisdiction's.
    pub fn has_precinct(&self, precinct: &PrecinctId) -> bool {
        self.precincts.contains(precinct)
    }

    /// The county and precinct of a row, created when allowed; the error is the row's reason.
    async fn resolve(
        &mut self,
        store: &dyn Store,
        audit: &Audit,
        record: &NcVoterRecord,
    ) -> Result<Result<(JurisdictionId, PrecinctId), RowError>, ServerError> {
        let refuse = |column: &'static str, reason: String| {
            Ok(Err(RowError { line: record.line, column: Some(column), reason }))
        };
        let county_name = match record.optional("county_desc") {
            Some(name) => name.to_owned(),
            None => format!("county {}", record.county_id),
        };
        let county = match self.counties.get(&county_key(&county_name)) {
            Some(county) => county.clone(),
            None if self.add_missing && self.jurisdiction.kind == JurisdictionKind::State => {
                self.add_county(store, audit, &county_name).await?
            }
            None => {
                return refuse(
                    "county_desc",
                    format!(
                        "county `{county_name}` is not {} or one of its counties (add it, or import with --add-places)",
                        self.jurisdiction.id
                    ),
                );
            }
        };
        let abbreviation = record.get("precinct_abbrv");
        let precinct_slug = slug(abbreviation);
        if precinct_slug.is_empty() {
            return refuse("precinct_abbrv", "has no letters or digits".into());
        }
        let precinct = PrecinctId::parse(&format!("{county}/precinct:{precinct_slug}"))?;
        if !self.precincts.contains(&precinct) {
            if !self.add_missing {
                return refuse(
                    "precinct_abbrv",
                    format!(
                        "precinct `{abbreviation}` of {county} does not exist (add it, or import with --add-places)"
                    ),
                );
            }
            let name = record.optional("precinct_desc").unwrap_or(abbreviation);
            self.pending.push(Precinct {
                id: precinct.clone(),
                jurisdiction: county.clone(),
                name: Name::parse(name)?,
            });
            self.precincts.insert(precinct.clone());
        }
        Ok(Ok((county, precinct)))
    }

    async fn add_county(
        &mut self,
        store: &dyn Store,
        audit: &Audit,
        name: &str,
    ) -> Result<JurisdictionId, ServerError> {
        let id = JurisdictionId::parse(&format!("{}/county:{}", self.jurisdiction.id, slug(name)))?;
        let county = Jurisdiction {
            id: id.clone(),
            name: Name::parse(&format!("{} County", title_case(name)))?,
            kind: JurisdictionKind::County,
            parent: Some(self.jurisdiction.id.clone()),
        };
        let entry = target(audit.entry(Action::JurisdictionAdd).with_jurisdiction(&id), format!("jurisdiction:{id}"))?;
        audit.run(entry, async { Ok(store.insert_jurisdiction(&county).await?) }).await?;
        crate::lookup_cache::note_change();
        self.counties.insert(county_key(name), id.clone());
        self.added_counties += 1;
        Ok(id)
    }

    /// Stores the precincts the batch named, before its rows: one transaction, and one ledger
    /// entry per 200 of them.
    pub async fn flush(&mut self, store: &dyn Store, audit: &Audit) -> Result<(), ServerError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let mut entries = Vec::new();
        for chunk in pending.chunks(canvass_core::audit::MAX_TARGETS) {
            let mut entry = audit.entry(Action::PrecinctAdd).with_jurisdiction(&self.jurisdiction.id);
            for precinct in chunk {
                entry = target(entry, format!("precinct:{}", precinct.id))?;
            }
            entries.push(entry);
        }
        if let Some((last, first)) = entries.split_last() {
            for entry in first {
                audit.record(entry).await?;
            }
            audit.run(last.clone(), async { Ok(store.insert_precincts(&pending).await?) }).await?;
            crate::lookup_cache::note_change();
        }
        self.added_precincts += pending.len() as u64;
        Ok(())
    }
}

/// The statewide id of a row: NCID, or for an older file without one the county's own
/// registration number prefixed with the county.
fn registration_number(record: &NcVoterRecord) -> String {
    match record.optional("ncid") {
        Some(ncid) => ncid.to_owned(),
        None => format!("NC{:03}-{}", record.county_id, record.get("voter_reg_num")),
    }
}

/// Turns a parsed record into a row for its county and precinct.
fn roll_row(record: NcVoterRecord, county: JurisdictionId, precinct: PrecinctId) -> Result<RollRow, RowError> {
    let status = VoterStatus::from_nc_code(record.get("status_cd")).map_err(|_| RowError {
        line: record.line,
        column: Some("status_cd"),
        reason: "is not A, I, R, D or S".into(),
    })?;
    Ok(RollRow {
        line: record.line,
        registration_number: registration_number(&record),
        county,
        precinct,
        party: record.get("party_cd").to_owned(),
        status,
        registered_on: record.registered_on,
        first_name: record.get("first_name").to_owned(),
        last_name: record.get("last_name").to_owned(),
        birth_date: record.birth_date,
        ssn_last_four: record.optional("ssn4").map(str::to_owned),
        drivers_license: record.optional("drivers_lic_num").map(str::to_owned),
        email: record.optional("email").map(str::to_owned),
        details: record.into_public_values(),
    })
}

/// The keyed digest of a row's every value: equal digests mean an unchanged row. It uses the
/// identity index key with its own label, so it can be checked only by a holder of the ring.
pub fn row_digest(ring: &UnsealedRing, row: &RollRow) -> Result<i64, ServerError> {
    let (key, _) = ring.index(IndexKind::Identity)?;
    let birth_date = row.birth_date.map(normalize::date).unwrap_or_default();
    let mut parts: Vec<&[u8]> = vec![
        b"canvass row digest v1",
        row.registration_number.as_bytes(),
        row.county.as_str().as_bytes(),
        row.precinct.as_str().as_bytes(),
        birth_date.as_bytes(),
        row.ssn_last_four.as_deref().unwrap_or("").as_bytes(),
        row.drivers_license.as_deref().unwrap_or("").as_bytes(),
        row.email.as_deref().unwrap_or("").as_bytes(),
    ];
    parts.extend(row.details.iter().map(String::as_bytes));
    Ok(key.compute(&parts, 63)?)
}

/// The lookup index: last name + first name + date of birth (public lookup, duplicates).
pub fn lookup_index(
    ring: &UnsealedRing,
    last_name: &str,
    first_name: &str,
    birth_date: Date,
) -> Result<i64, ServerError> {
    let (key, bits) = ring.index(IndexKind::Name)?;
    let parts = [normalize::name(last_name), normalize::name(first_name), normalize::date(birth_date)];
    Ok(key.compute(&[parts[0].as_bytes(), parts[1].as_bytes(), parts[2].as_bytes()], bits)?)
}

/// Seals a row under the ring's active key version, with its blind indexes and digest.
pub fn seal_row(ring: &UnsealedRing, row: &RollRow, digest: i64) -> Result<SealedVoter, ServerError> {
    let sealer = Sealer { ring, record: &row.registration_number, version: ring.active_version() };
    let birth_date = row.birth_date.map(|date| date.to_string());
    let identity = match (row.birth_date, row.ssn_last_four.as_deref()) {
        (Some(date), Some(ssn)) => Some(crate::voters::identity_index(ring, &row.last_name, date, ssn)?),
        _ => None,
    };
    Ok(SealedVoter {
        registration_number: row.registration_number.clone(),
        jurisdiction: JurisdictionId::parse(ring.jurisdiction())?,
        county: row.county.clone(),
        precinct: row.precinct.clone(),
        party: row.party.clone(),
        status: row.status,
        registered_on: row.registered_on,
        key_version: sealer.version,
        fields: SealedFields {
            first_name: sealer.seal("first_name", &row.first_name)?,
            last_name: sealer.seal("last_name", &row.last_name)?,
            birth_date: sealer.seal_optional("birth_date", birth_date.as_deref())?,
            ssn_last_four: sealer.seal_optional("ssn_last_four", row.ssn_last_four.as_deref())?,
            drivers_license: sealer.seal_optional("drivers_license", row.drivers_license.as_deref())?,
            email: sealer.seal_optional("email", row.email.as_deref())?,
            details: Some(sealer.seal("details", &row.details.join("\t"))?),
        },
        indexes: BlindIndexes {
            name: Some(crate::voters::name_index(ring, &row.last_name, &row.first_name)?),
            identity,
            drivers_license: row
                .drivers_license
                .as_deref()
                .map(|number| crate::voters::drivers_license_index(ring, number))
                .transpose()?,
            lookup: row.birth_date.map(|date| lookup_index(ring, &row.last_name, &row.first_name, date)).transpose()?,
        },
        row_digest: Some(digest),
    })
}

/// Opens a row: public-record fields always, confidential ones only with `confidential`
/// (the caller has checked the reader's role and recorded the read). Fields the policy makes
/// confidential are left out otherwise, an address-confidential voter's address included.
pub fn open_row(
    ring: &UnsealedRing,
    sealed: &SealedVoter,
    policy: &FieldPolicy,
    confidential: bool,
) -> Result<RollRecord, ServerError> {
    let sealer = Sealer { ring, record: &sealed.registration_number, version: sealed.key_version };
    let values: Vec<String> = match &sealed.fields.details {
        Some(details) => sealer.open("details", details)?.split('\t').map(str::to_owned).collect(),
        None => Vec::new(),
    };
    let address_confidential = ncvoter::PUBLIC_COLUMNS
        .iter()
        .zip(&values)
        .any(|(column, value)| *column == "confidential_ind" && value.eq_ignore_ascii_case("y"));
    let details = ncvoter::PUBLIC_COLUMNS
        .iter()
        .zip(values)
        .filter(|(_, value)| !value.is_empty())
        // The policy hides an address-confidential voter's address, mailing address and phone.
        .filter(|(column, _)| {
            confidential || !policy.is_confidential(VoterField::of_ncvoter_column(column), address_confidential)
        })
        .map(|(column, value)| ((*column).to_owned(), value))
        .collect();
    let hidden = |field: &str, value: Option<&Vec<u8>>| -> Result<Option<String>, ServerError> {
        if confidential { sealer.open_optional(field, value) } else { Ok(None) }
    };
    Ok(RollRecord {
        registration_number: sealed.registration_number.clone(),
        county: sealed.county.to_string(),
        precinct: sealed.precinct.to_string(),
        party: sealed.party.clone(),
        status: sealed.status,
        registered_on: sealed.registered_on.format(&Iso8601::DATE).unwrap_or_default(),
        first_name: sealer.open("first_name", &sealed.fields.first_name)?,
        last_name: sealer.open("last_name", &sealed.fields.last_name)?,
        details,
        address_confidential,
        birth_date: hidden("birth_date", sealed.fields.birth_date.as_ref())?,
        ssn_last_four: hidden("ssn_last_four", sealed.fields.ssn_last_four.as_ref())?,
        drivers_license: hidden("drivers_license", sealed.fields.drivers_license.as_ref())?,
        email: hidden("email", sealed.fields.email.as_ref())?,
    })
}

/// A row's values for the public extract, in the layout's public columns; `None` for an
/// address-confidential voter, who is left out of it. A row that did not come from a voter
/// file (the demo roll) fills the columns it has.
pub fn public_extract_values(ring: &UnsealedRing, sealed: &SealedVoter) -> Result<Option<Vec<String>>, ServerError> {
    let policy = FieldPolicy::north_carolina();
    let record = open_row(ring, sealed, &policy, false)?;
    if record.address_confidential {
        return Ok(None);
    }
    let stored: HashMap<&str, &str> =
        record.details.iter().map(|(column, value)| (column.as_str(), value.as_str())).collect();
    let registered = sealed.registered_on;
    let fallback = |column: &str| -> String {
        match column {
            "ncid" => record.registration_number.clone(),
            "last_name" => record.last_name.clone(),
            "first_name" => record.first_name.clone(),
            "status_cd" => record.status.nc_code().to_owned(),
            "party_cd" => record.party.clone(),
            "registr_dt" => {
                format!("{:02}/{:02}/{}", u8::from(registered.month()), registered.day(), registered.year())
            }
            "precinct_abbrv" => record.precinct.rsplit(':').next().unwrap_or_default().to_owned(),
            _ => String::new(),
        }
    };
    Ok(Some(
        ncvoter::PUBLIC_COLUMNS
            .iter()
            .map(|column| {
                let confidential = policy.is_confidential(VoterField::of_ncvoter_column(column), false);
                match stored.get(column) {
                    _ if confidential => String::new(),
                    Some(value) => (*value).to_owned(),
                    None if record.details.is_empty() => fallback(column),
                    None => String::new(),
                }
            })
            .collect(),
    ))
}

/// The rows of one batch that need writing, and what became of the others.
#[derive(Debug, Default)]
pub struct Sorted {
    pub write: Vec<SealedVoter>,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Rows refused because another jurisdiction's roll holds their registration number.
    pub rejected: Vec<RowError>,
}

/// A row's keyed digest and, when it was sealed before the store said whether it needs
/// writing, its sealed form.
#[derive(Debug)]
pub struct Prepared {
    pub digest: i64,
    pub sealed: Option<SealedVoter>,
}

fn prepare_part(ring: &UnsealedRing, rows: &[RollRow], seal: bool) -> Result<Vec<Prepared>, ServerError> {
    rows.iter()
        .map(|row| {
            let digest = row_digest(ring, row)?;
            let sealed = if seal { Some(seal_row(ring, row, digest)?) } else { None };
            Ok(Prepared { digest, sealed })
        })
        .collect()
}

/// Each row's digest, and with `seal` its sealed form, computed on every core: sealing and
/// blind-indexing are most of an import's own work, and they need nothing from the store.
pub fn prepare_seals(ring: &UnsealedRing, rows: &[RollRow], seal: bool) -> Result<Vec<Prepared>, ServerError> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get).clamp(1, 8);
    // Below a few hundred rows a thread costs more than it saves.
    let part = rows.len().div_ceil(threads).max(512);
    if rows.len() <= part {
        return prepare_part(ring, rows, seal);
    }
    std::thread::scope(|scope| {
        let mut parts = rows.chunks(part);
        let first = parts.next().unwrap_or_default();
        let others: Vec<_> = parts.map(|rows| scope.spawn(move || prepare_part(ring, rows, seal))).collect();
        let mut prepared = prepare_part(ring, first, seal)?;
        prepared.reserve(rows.len() - first.len());
        for other in others {
            let part = other.join().map_err(|_| ServerError::Internal("a sealing thread panicked".into()))?;
            prepared.extend(part?);
        }
        Ok(prepared)
    })
}

/// Decides for each row whether it is new, changed or unchanged, and seals the ones to write.
pub fn sort_batch(ring: &UnsealedRing, rows: &[RollRow], stored: &[VoterDigest]) -> Result<Sorted, ServerError> {
    sort_prepared(ring, rows, prepare_seals(ring, rows, false)?, stored)
}

/// [`sort_batch`] for rows whose digests (and perhaps seals) [`prepare_seals`] computed: a
/// row to write that was not sealed yet is sealed here, a sealed one not needed is dropped.
pub fn sort_prepared(
    ring: &UnsealedRing,
    rows: &[RollRow],
    prepared: Vec<Prepared>,
    stored: &[VoterDigest],
) -> Result<Sorted, ServerError> {
    if prepared.len() != rows.len() {
        return Err(ServerError::Internal("a batch's prepared rows do not match its rows".into()));
    }
    let jurisdiction = ring.jurisdiction();
    let stored: HashMap<&str, &VoterDigest> =
        stored.iter().map(|digest| (digest.registration_number.as_str(), digest)).collect();
    let mut sorted = Sorted::default();
    for (row, Prepared { digest, sealed }) in rows.iter().zip(prepared) {
        let write = match stored.get(row.registration_number.as_str()) {
            Some(existing) if existing.jurisdiction.as_str() != jurisdiction => {
                sorted.rejected.push(RowError {
                    line: row.line,
                    column: Some("ncid"),
                    reason: format!(
                        "this voter is on the roll of {}; a move between rolls is made there, not by this import",
                        existing.jurisdiction
                    ),
                });
                false
            }
            Some(existing) if existing.row_digest == Some(digest) => {
                sorted.unchanged += 1;
                false
            }
            Some(_) => {
                sorted.updated += 1;
                true
            }
            None => {
                sorted.inserted += 1;
                true
            }
        };
        if write {
            let sealed = match sealed {
                Some(sealed) => sealed,
                None => seal_row(ring, row, digest)?,
            };
            sorted.write.push(sealed);
        }
    }
    Ok(sorted)
}

/// Maps a parsed file row to a roll row, or to its rejection.
pub async fn prepare(
    store: &dyn Store,
    audit: &Audit,
    places: &mut Places,
    record: NcVoterRecord,
) -> Result<Result<RollRow, RowError>, ServerError> {
    if record.get("first_name").is_empty() && record.get("last_name").is_empty() {
        return Ok(Err(RowError { line: record.line, column: Some("last_name"), reason: "is empty".into() }));
    }
    Ok(match places.resolve(store, audit, &record).await? {
        Ok((county, precinct)) => roll_row(record, county, precinct),
        Err(error) => Err(error),
    })
}

/// Writes one batch of sorted rows with the import's new position, and records it.
pub async fn write_batch(
    store: &dyn Store,
    audit: &Audit,
    jurisdiction: &JurisdictionId,
    import_id: &str,
    sorted: &Sorted,
    position: (u64, u64),
    counts: ImportCounts,
) -> Result<(), ServerError> {
    let entry = audit.entry(Action::VoterImport).with_jurisdiction(jurisdiction);
    let entry = target(entry, format!("import:{import_id}"))?;
    let entry = target(entry, format!("through_line:{}", position.1))?;
    let entry = target(entry, format!("written:{}", sorted.write.len()))?;
    let batch = VoterBatch {
        import_id,
        voters: &sorted.write,
        position: position.0,
        line: position.1,
        counts,
        at: now_millis(),
    };
    audit.run(entry, async { Ok(store.write_voter_batch(&batch).await?) }).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn county_names_match_however_written() {
        for (left, right) in [("Wake County", "WAKE"), ("wake", "WAKE"), ("New Hanover County", "NEW HANOVER")] {
            assert_eq!(county_key(left), county_key(right), "{left} / {right}");
        }
        assert_ne!(county_key("Wake County"), county_key("Wilkes"));
        assert_eq!(county_key("COUNTY"), "COUNTY", "a name that is only the word stays");
    }

    #[test]
    fn slugs_are_id_safe() {
        assert_eq!(slug("NEW HANOVER"), "new_hanover");
        assert_eq!(slug("01-07"), "01-07");
        assert_eq!(slug("1/7"), "1_7");
        assert_eq!(slug("  ##  "), "");
        assert_eq!(title_case("NEW HANOVER"), "New Hanover");
    }
}
