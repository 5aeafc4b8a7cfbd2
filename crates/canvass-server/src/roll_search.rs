//! Staff search of a roll: by name (optionally with date of birth and county), by registration
//! number, by driver's licence number, or by SSN last four with last name and date of birth.
//! Blind indexes narrow the rows; opening them removes the indexes' deliberate false
//! positives. What the caller may see of the results is decided by [`crate::roll::open_row`].

use canvass_core::{id::JurisdictionId, normalize};
use canvass_store::{IndexLookup, SealedVoter, Store};
use time::Date;

use crate::{
    ServerError,
    keys::UnsealedRing,
    roll,
    voters::{self, Sealer},
};

/// What to look for.
#[derive(Clone, PartialEq, Eq)]
pub enum SearchQuery {
    Name {
        last: String,
        first: String,
        birth_date: Option<Date>,
        county: Option<JurisdictionId>,
    },
    RegistrationNumber(String),
    DriversLicense(String),
    /// SSN last four alone singles out no one; with last name and date of birth it does.
    Ssn4 {
        last: String,
        birth_date: Date,
        ssn_last_four: String,
    },
}

// Queries carry personal values: Debug names the kind only.
impl std::fmt::Debug for SearchQuery {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Self::Name { .. } => "SearchQuery::Name",
            Self::RegistrationNumber(_) => "SearchQuery::RegistrationNumber",
            Self::DriversLicense(_) => "SearchQuery::DriversLicense",
            Self::Ssn4 { .. } => "SearchQuery::Ssn4",
        })
    }
}

/// A date as stored birth dates are written (`Date`'s Display: `YYYY-MM-DD`).
fn iso(date: Date) -> String {
    date.to_string()
}

/// Whether a candidate really matches (the blind index only narrowed).
fn matches(ring: &UnsealedRing, sealed: &SealedVoter, query: &SearchQuery) -> Result<bool, ServerError> {
    let sealer = Sealer { ring, record: &sealed.registration_number, version: sealed.key_version };
    let name = |field: &str, value: &Vec<u8>| -> Result<String, ServerError> {
        Ok(normalize::name(&sealer.open(field, value)?))
    };
    let birth = || sealer.open_optional("birth_date", sealed.fields.birth_date.as_ref());
    Ok(match query {
        SearchQuery::Name { last, first, birth_date, county } => {
            name("last_name", &sealed.fields.last_name)? == normalize::name(last)
                && name("first_name", &sealed.fields.first_name)? == normalize::name(first)
                && county.as_ref().is_none_or(|county| *county == sealed.county)
                && match birth_date {
                    Some(date) => birth()?.as_deref() == Some(iso(*date).as_str()),
                    None => true,
                }
        }
        SearchQuery::RegistrationNumber(number) => sealed.registration_number == *number,
        SearchQuery::DriversLicense(number) => sealer
            .open_optional("drivers_license", sealed.fields.drivers_license.as_ref())?
            .is_some_and(|stored| normalize::identifier(&stored) == normalize::identifier(number)),
        SearchQuery::Ssn4 { last, birth_date, ssn_last_four } => {
            name("last_name", &sealed.fields.last_name)? == normalize::name(last)
                && birth()?.as_deref() == Some(iso(*birth_date).as_str())
                && sealer
                    .open_optional("ssn_last_four", sealed.fields.ssn_last_four.as_ref())?
                    .map(|stored| normalize::identifier(&stored))
                    == Some(normalize::identifier(ssn_last_four))
        }
    })
}

/// The sealed rows of the ring's roll that match, by registration number.
pub async fn search(
    store: &dyn Store,
    ring: &UnsealedRing,
    query: &SearchQuery,
) -> Result<Vec<SealedVoter>, ServerError> {
    let jurisdiction = JurisdictionId::parse(ring.jurisdiction())?;
    let candidates = match query {
        SearchQuery::Name { last, first, birth_date: Some(date), .. } => {
            store
                .voters_by_index(&jurisdiction, IndexLookup::Lookup(roll::lookup_index(ring, last, first, *date)?))
                .await?
        }
        SearchQuery::Name { last, first, birth_date: None, .. } => {
            store.voters_by_index(&jurisdiction, IndexLookup::Name(voters::name_index(ring, last, first)?)).await?
        }
        SearchQuery::RegistrationNumber(number) => {
            store.voter(number).await?.into_iter().filter(|voter| voter.jurisdiction == jurisdiction).collect()
        }
        SearchQuery::DriversLicense(number) => {
            store
                .voters_by_index(
                    &jurisdiction,
                    IndexLookup::DriversLicense(voters::drivers_license_index(ring, number)?),
                )
                .await?
        }
        SearchQuery::Ssn4 { last, birth_date, ssn_last_four } => {
            let value = voters::identity_index(ring, last, *birth_date, ssn_last_four)?;
            store.voters_by_index(&jurisdiction, IndexLookup::Identity(value)).await?
        }
    };
    let mut found = Vec::new();
    for candidate in candidates {
        if matches(ring, &candidate, query)? {
            found.push(candidate);
        }
    }
    Ok(found)
}
