//! Staff search of a roll: by name (optionally with date of birth and county), by registration
//! number, by driver's licence number, or by SSN last four with last name and date of birth.
//! Blind indexes narrow the rows; opening them removes the indexes' deliberate false
//! positives. What the caller may see of the results is decided by [`crate::roll::open_row`].

use canvass_core::{access::Operation, id::JurisdictionId, normalize, voter_policy::FieldPolicy};
use canvass_store::{IndexLookup, SealedVoter, Store};
use time::Date;

use crate::{
    Node, ServerError,
    access::Principal,
    keys::UnsealedRing,
    ledger::Audit,
    monitor,
    roll::{self, RollRecord},
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

/// A search as a form or query string gives it: every field optional, blanks meaning absent.
#[derive(Default, Clone, Copy)]
pub struct SearchFields<'a> {
    pub last_name: Option<&'a str>,
    pub first_name: Option<&'a str>,
    pub birth_date: Option<&'a str>,
    pub county: Option<&'a str>,
    pub registration_number: Option<&'a str>,
    pub drivers_license: Option<&'a str>,
    pub ssn4: Option<&'a str>,
}

// Fields carry personal values: Debug says which are given, never what.
impl std::fmt::Debug for SearchFields<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let given = [
            ("last_name", self.last_name),
            ("first_name", self.first_name),
            ("birth_date", self.birth_date),
            ("county", self.county),
            ("registration_number", self.registration_number),
            ("drivers_license", self.drivers_license),
            ("ssn4", self.ssn4),
        ];
        let names: Vec<&str> = given.iter().filter(|(_, value)| value.is_some()).map(|(name, _)| *name).collect();
        write!(formatter, "SearchFields({})", names.join(", "))
    }
}

/// A field's trimmed text, `None` when absent or blank (a form sends its empty inputs).
fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|text| !text.is_empty())
}

fn invalid(field: &str, reason: impl std::fmt::Display) -> ServerError {
    ServerError::Invalid(format!("{field}: {reason}"))
}

impl SearchQuery {
    /// The search the fields describe, or a message naming the field that is wrong or missing
    /// (never its value).
    pub fn from_fields(fields: SearchFields<'_>) -> Result<Self, ServerError> {
        let birth_date = given(fields.birth_date)
            .map(|text| canvass_formats::ncvoter::parse_date(text).map_err(|reason| invalid("birth_date", reason)))
            .transpose()?;
        let county = given(fields.county)
            .map(|text| JurisdictionId::parse(text).map_err(|error| invalid("county", error)))
            .transpose()?;
        let (last, first) = (given(fields.last_name), given(fields.first_name));
        let by_name = || last.is_some() || first.is_some() || birth_date.is_some() || county.is_some();
        let checked = |field: &str, text: &str, longest: usize| -> Result<String, ServerError> {
            if text.len() > longest || text.chars().any(char::is_control) {
                return Err(invalid(field, format!("expected at most {longest} printable characters")));
            }
            Ok(text.to_owned())
        };
        match (given(fields.registration_number), given(fields.drivers_license), given(fields.ssn4)) {
            (Some(number), None, None) if !by_name() => {
                Ok(Self::RegistrationNumber(checked("registration_number", number, 32)?))
            }
            (None, Some(number), None) if !by_name() => {
                Ok(Self::DriversLicense(checked("drivers_license", number, 32)?))
            }
            (None, None, Some(ssn)) => {
                if ssn.len() != 4 || !ssn.chars().all(|digit| digit.is_ascii_digit()) {
                    return Err(invalid("ssn4", "expected the last four digits of the SSN"));
                }
                let last = last.ok_or_else(|| {
                    invalid("last_name", "a search by SSN last four needs the last name and birth date too")
                })?;
                let birth_date = birth_date.ok_or_else(|| {
                    invalid("birth_date", "a search by SSN last four needs the last name and birth date too")
                })?;
                if first.is_some() || county.is_some() {
                    return Err(invalid("ssn4", "search by SSN last four with last name and birth date only"));
                }
                Ok(Self::Ssn4 { last: checked("last_name", last, 200)?, birth_date, ssn_last_four: ssn.to_owned() })
            }
            (None, None, None) => match (last, first) {
                (Some(last), Some(first)) => Ok(Self::Name {
                    last: checked("last_name", last, 200)?,
                    first: checked("first_name", first, 200)?,
                    birth_date,
                    county,
                }),
                (None, _) => Err(invalid(
                    "last_name",
                    "say what to search by: last_name and first_name (with birth_date, county), \
                     registration_number, drivers_license, or ssn4 with last_name and birth_date",
                )),
                (Some(_), None) => Err(invalid("first_name", "a search by name needs the first name too")),
            },
            (Some(_), None, None) => {
                Err(invalid("registration_number", "search by registration number alone, without other fields"))
            }
            (None, Some(_), None) => {
                Err(invalid("drivers_license", "search by driver's licence number alone, without other fields"))
            }
            _ => Err(invalid(
                "registration_number",
                "search by one of registration_number, drivers_license or ssn4 at a time",
            )),
        }
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

/// A staff member's search through the node (admin API and pages): the caller's route already
/// allowed `voters.search` here. With `confidential` (the written reason) it also needs
/// `voters.read`, counts the records against the caller's hourly limit (crossing it suspends
/// the account before anything is shown) and records the read with its reason; without it,
/// only public-record fields are opened.
pub async fn search_as(
    node: &Node,
    audit: &Audit,
    principal: &Principal,
    jurisdiction: &JurisdictionId,
    query: &SearchQuery,
    confidential: Option<&str>,
) -> Result<Vec<RollRecord>, ServerError> {
    if let Some(reason) = confidential {
        principal.authorize_now(node, audit, Operation::ReadVoters, Some(jurisdiction), Some(reason)).await?;
    }
    let ring = node.keys().current(node.store(), jurisdiction).await?;
    let found = search(node.store(), &ring, query).await?;
    if let Some(reason) = confidential {
        monitor::admit_reads(node, principal, jurisdiction, found.len() as u64).await?;
        let numbers = found.iter().map(|voter| voter.registration_number.as_str());
        voters::record_reads(audit, jurisdiction, Some(reason), numbers).await?;
    }
    let policy = FieldPolicy::north_carolina();
    found.iter().map(|sealed| roll::open_row(&ring, sealed, &policy, confidential.is_some())).collect()
}
