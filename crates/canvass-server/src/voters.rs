//! Voter records through the key ring: every personal field sealed on its own, blind indexes
//! computed from normalised values, and rows moved to a new key version after rotation.

use canvass_core::{
    audit::{Action, MAX_TARGETS},
    id::JurisdictionId,
    name::Name,
    normalize,
    voter::VoterRecord,
};
use canvass_crypto::FieldContext;
use canvass_store::{BlindIndexes, IndexLookup, SealedFields, SealedVoter, Store};
use time::{Date, format_description::well_known::Iso8601};

use crate::{
    ServerError,
    keys::{IndexKind, KeyRings, UnsealedRing},
    ledger::{Audit, target},
};

const TABLE: &str = "voters";

/// Seals and opens one voter record's fields under one key version: every voter field's
/// ciphertext is bound to (jurisdiction, `voters`, record, field, version) here and only here.
pub(crate) struct Sealer<'a> {
    pub ring: &'a UnsealedRing,
    pub record: &'a str,
    pub version: u32,
}

impl Sealer<'_> {
    fn context<'b>(&'b self, field: &'b str) -> FieldContext<'b> {
        FieldContext {
            jurisdiction: self.ring.jurisdiction(),
            table: TABLE,
            record: self.record,
            field,
            key_version: self.version,
        }
    }

    pub(crate) fn seal(&self, field: &str, value: &str) -> Result<Vec<u8>, ServerError> {
        self.ring.cipher(self.version)?.seal(&self.context(field), value.as_bytes()).map_err(ServerError::from)
    }

    pub(crate) fn seal_optional(&self, field: &str, value: Option<&str>) -> Result<Option<Vec<u8>>, ServerError> {
        value.map(|value| self.seal(field, value)).transpose()
    }

    pub(crate) fn open(&self, field: &str, sealed: &[u8]) -> Result<String, ServerError> {
        let plaintext = self
            .ring
            .cipher(self.version)?
            .open(&self.context(field), sealed)
            .map_err(|error| ServerError::Internal(format!("voter {} field {field}: {error}", self.record)))?;
        String::from_utf8(plaintext.to_vec())
            .map_err(|_| ServerError::Internal(format!("voter {} field {field} is not text", self.record)))
    }

    pub(crate) fn open_optional(&self, field: &str, sealed: Option<&Vec<u8>>) -> Result<Option<String>, ServerError> {
        sealed.map(|sealed| self.open(field, sealed)).transpose()
    }
}

fn sealed_fields(sealer: &Sealer<'_>, voter: &VoterRecord) -> Result<SealedFields, ServerError> {
    let birth_date = voter.birth_date.map(|date| date.to_string());
    Ok(SealedFields {
        first_name: sealer.seal("first_name", voter.first_name.as_str())?,
        last_name: sealer.seal("last_name", voter.last_name.as_str())?,
        birth_date: sealer.seal_optional("birth_date", birth_date.as_deref())?,
        ssn_last_four: sealer.seal_optional("ssn_last_four", voter.ssn_last_four.as_deref())?,
        drivers_license: sealer.seal_optional("drivers_license", voter.drivers_license.as_deref())?,
        email: sealer.seal_optional("email", voter.email.as_deref())?,
        details: None,
    })
}

/// The index value of the name index for a search or a row.
pub fn name_index(ring: &UnsealedRing, last_name: &str, first_name: &str) -> Result<i64, ServerError> {
    let (key, bits) = ring.index(IndexKind::Name)?;
    key.compute(&[normalize::name(last_name).as_bytes(), normalize::name(first_name).as_bytes()], bits)
        .map_err(ServerError::from)
}

pub fn identity_index(
    ring: &UnsealedRing,
    last_name: &str,
    birth_date: Date,
    ssn_last_four: &str,
) -> Result<i64, ServerError> {
    let (key, bits) = ring.index(IndexKind::Identity)?;
    let parts = [normalize::name(last_name), normalize::date(birth_date), normalize::identifier(ssn_last_four)];
    key.compute(&[parts[0].as_bytes(), parts[1].as_bytes(), parts[2].as_bytes()], bits).map_err(ServerError::from)
}

pub fn drivers_license_index(ring: &UnsealedRing, number: &str) -> Result<i64, ServerError> {
    let (key, bits) = ring.index(IndexKind::DriversLicense)?;
    key.compute(&[normalize::identifier(number).as_bytes()], bits).map_err(ServerError::from)
}

fn blind_indexes(ring: &UnsealedRing, voter: &VoterRecord) -> Result<BlindIndexes, ServerError> {
    let identity = match (voter.birth_date, voter.ssn_last_four.as_deref()) {
        (Some(birth_date), Some(ssn)) => Some(identity_index(ring, voter.last_name.as_str(), birth_date, ssn)?),
        _ => None,
    };
    Ok(BlindIndexes {
        name: Some(name_index(ring, voter.last_name.as_str(), voter.first_name.as_str())?),
        identity,
        drivers_license: voter
            .drivers_license
            .as_deref()
            .map(|number| drivers_license_index(ring, number))
            .transpose()?,
        lookup: voter
            .birth_date
            .map(|date| crate::roll::lookup_index(ring, voter.last_name.as_str(), voter.first_name.as_str(), date))
            .transpose()?,
    })
}

/// Seals a voter under the ring's active key version.
pub fn seal_voter(ring: &UnsealedRing, voter: &VoterRecord) -> Result<SealedVoter, ServerError> {
    let sealer = Sealer { ring, record: &voter.registration_number, version: ring.active_version() };
    Ok(SealedVoter {
        registration_number: voter.registration_number.clone(),
        jurisdiction: JurisdictionId::parse(ring.jurisdiction())?,
        county: voter.county.clone(),
        precinct: voter.precinct.clone(),
        party: voter.party.clone(),
        status: voter.status,
        registered_on: voter.registered_on,
        key_version: sealer.version,
        fields: sealed_fields(&sealer, voter)?,
        indexes: blind_indexes(ring, voter)?,
        row_digest: None,
    })
}

/// Opens a sealed voter (fails if any field was tampered with or moved).
pub fn open_voter(ring: &UnsealedRing, sealed: &SealedVoter) -> Result<VoterRecord, ServerError> {
    let sealer = Sealer { ring, record: &sealed.registration_number, version: sealed.key_version };
    let name =
        |field: &str, value: &[u8]| -> Result<Name, ServerError> { Ok(Name::parse(&sealer.open(field, value)?)?) };
    let birth_date = sealer
        .open_optional("birth_date", sealed.fields.birth_date.as_ref())?
        .map(|text| {
            Date::parse(&text, &Iso8601::DATE)
                .map_err(|_| ServerError::Internal("stored birth date is not a date".into()))
        })
        .transpose()?;
    Ok(VoterRecord {
        registration_number: sealed.registration_number.clone(),
        county: sealed.county.clone(),
        precinct: sealed.precinct.clone(),
        first_name: name("first_name", &sealed.fields.first_name)?,
        last_name: name("last_name", &sealed.fields.last_name)?,
        party: sealed.party.clone(),
        status: sealed.status,
        registered_on: sealed.registered_on,
        birth_date,
        ssn_last_four: sealer.open_optional("ssn_last_four", sealed.fields.ssn_last_four.as_ref())?,
        drivers_license: sealer.open_optional("drivers_license", sealed.fields.drivers_license.as_ref())?,
        email: sealer.open_optional("email", sealed.fields.email.as_ref())?,
    })
}

/// Seals and stores voters of a jurisdiction; refused while it is sealed.
pub async fn add_voters(
    store: &dyn Store,
    audit: &Audit,
    rings: &KeyRings,
    jurisdiction: &JurisdictionId,
    voters: &[VoterRecord],
) -> Result<(), ServerError> {
    let ring = rings.current(store, jurisdiction).await?;
    let sealed = voters.iter().map(|voter| seal_voter(&ring, voter)).collect::<Result<Vec<_>, _>>()?;
    // One entry per 200 records, naming them by registration number (never by name): all are
    // recorded before the rows are written.
    let mut entries = Vec::new();
    for chunk in voters.chunks(MAX_TARGETS) {
        let mut entry = audit.entry(Action::VoterAdd).with_jurisdiction(jurisdiction);
        for voter in chunk {
            entry = target(entry, format!("voter:{}", voter.registration_number))?;
        }
        entries.push(entry);
    }
    let Some((last, first)) = entries.split_last() else {
        return Ok(());
    };
    for entry in first {
        audit.record(entry).await?;
    }
    audit.run(last.clone(), async { Ok(store.insert_voters(&sealed).await?) }).await
}

/// Voters whose last and first names match exactly (after normalisation). The blind index
/// narrows the rows; opening them removes its deliberate false positives.
pub async fn find_by_name(
    store: &dyn Store,
    rings: &KeyRings,
    jurisdiction: &JurisdictionId,
    last_name: &str,
    first_name: &str,
) -> Result<Vec<VoterRecord>, ServerError> {
    let ring = rings.current(store, jurisdiction).await?;
    let candidates =
        store.voters_by_index(jurisdiction, IndexLookup::Name(name_index(&ring, last_name, first_name)?)).await?;
    let wanted = (normalize::name(last_name), normalize::name(first_name));
    let mut found = Vec::new();
    for candidate in &candidates {
        let voter = open_voter(&ring, candidate)?;
        if (normalize::name(voter.last_name.as_str()), normalize::name(voter.first_name.as_str())) == wanted {
            found.push(voter);
        }
    }
    Ok(found)
}

/// Moves up to `batch` rows (then signature images) sealed under `from_version` to the ring's
/// active version; returns how many moved (0 when none are left).
pub async fn reseal_batch(
    store: &dyn Store,
    audit: &Audit,
    ring: &UnsealedRing,
    from_version: u32,
    batch: u32,
) -> Result<u64, ServerError> {
    let jurisdiction = JurisdictionId::parse(ring.jurisdiction())?;
    let rows = store.voters_sealed_with(&jurisdiction, from_version, batch).await?;
    if rows.is_empty() {
        // Signature images are sealed under the same field key: they move once the rows have.
        return crate::signatures::reseal_batch(store, audit, ring, from_version, batch).await;
    }
    let entry = audit.entry(Action::KeysReseal).with_jurisdiction(&jurisdiction);
    let entry = target(entry, format!("key_version:{from_version}"))?;
    let entry = target(entry, format!("key_version:{}", ring.active_version()))?;
    audit.record(&entry).await?;
    let mut moved = Vec::with_capacity(rows.len());
    for row in &rows {
        let voter = open_voter(ring, row)?;
        let sealer = Sealer { ring, record: &row.registration_number, version: ring.active_version() };
        let mut fields = sealed_fields(&sealer, &voter)?;
        // An imported row's public-record columns move with the rest.
        fields.details = match &row.fields.details {
            Some(details) => {
                let old = Sealer { ring, record: &row.registration_number, version: row.key_version };
                Some(sealer.seal("details", &old.open("details", details)?)?)
            }
            None => None,
        };
        moved.push(SealedVoter { key_version: sealer.version, fields, ..row.clone() });
    }
    Ok(store.reseal_voters(&moved, from_version).await?)
}

/// Records confidential reads of the named records before they are shown: one `voter.read`
/// entry per 200 records, naming them by registration number only.
pub async fn record_reads<'a>(
    audit: &Audit,
    jurisdiction: &JurisdictionId,
    justification: Option<&str>,
    registration_numbers: impl Iterator<Item = &'a str>,
) -> Result<(), ServerError> {
    let numbers: Vec<&str> = registration_numbers.collect();
    for chunk in numbers.chunks(MAX_TARGETS) {
        let mut entry = audit.entry(Action::VoterRead).with_jurisdiction(jurisdiction);
        if let Some(text) = justification.map(str::trim).filter(|text| !text.is_empty()) {
            entry = entry.with_justification(text)?;
        }
        for number in chunk {
            entry = target(entry, format!("voter:{number}"))?;
        }
        audit.record(&entry).await?;
    }
    Ok(())
}

/// Voter records as CSV (RFC 4180 quoting), one header row, confidential columns included:
/// the caller decides who receives it.
pub fn to_csv(records: &[VoterRecord]) -> String {
    fn field(value: &str) -> String {
        if value.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", value.replace('"', "\"\""))
        } else {
            value.to_owned()
        }
    }
    let mut text = String::from(
        "registration_number,county,precinct,last_name,first_name,party,status,registered_on,birth_date,ssn_last_four,drivers_license,email\n",
    );
    for record in records {
        let columns = [
            record.registration_number.clone(),
            record.county.to_string(),
            record.precinct.to_string(),
            record.last_name.to_string(),
            record.first_name.to_string(),
            record.party.clone(),
            record.status.as_str().to_owned(),
            record.registered_on.to_string(),
            record.birth_date.map(|date| date.to_string()).unwrap_or_default(),
            record.ssn_last_four.clone().unwrap_or_default(),
            record.drivers_license.clone().unwrap_or_default(),
            record.email.clone().unwrap_or_default(),
        ];
        let line: Vec<String> = columns.iter().map(|value| field(value)).collect();
        text.push_str(&line.join(","));
        text.push('\n');
    }
    text
}
