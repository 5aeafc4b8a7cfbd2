//! Stable identifiers: an Open Civic Data division id (OCD-ID) when the user gives one, or a
//! short lowercase slug. Both survive renames, so they are what other records point at.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::CoreError;

const MAXIMUM_LENGTH: usize = 200;
const OCD_PREFIX: &str = "ocd-division/";

/// Checks an id and returns the reason it is invalid, if it is.
fn invalid_reason(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        return Some("it is empty");
    }
    if value.len() > MAXIMUM_LENGTH {
        return Some("it is longer than 200 characters");
    }
    match value.strip_prefix(OCD_PREFIX) {
        Some(rest) => ocd_invalid_reason(rest),
        None => slug_invalid_reason(value),
    }
}

/// A slug: lowercase letters, digits, `-`, `_` and `.`, starting with a letter or digit.
fn slug_invalid_reason(value: &str) -> Option<&'static str> {
    let starts_well = value.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !starts_well {
        return Some("it must start with a lowercase letter or a digit");
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.');
    if !value.chars().all(allowed) {
        return Some("use only lowercase letters, digits, '-', '_' and '.' (or a full OCD-ID)");
    }
    None
}

/// The part of an OCD-ID after `ocd-division/`: `type:value` segments joined by `/`, the first
/// being `country:xx`. Types are lowercase letters and `_`; values are lowercase letters,
/// digits and `-._~%` (the OCD-ID specification).
fn ocd_invalid_reason(rest: &str) -> Option<&'static str> {
    let mut segments = rest.split('/');
    let first = segments.next().unwrap_or_default();
    if !first.starts_with("country:") {
        return Some("an OCD-ID starts with ocd-division/country:xx");
    }
    for segment in rest.split('/') {
        let Some((kind, value)) = segment.split_once(':') else {
            return Some("each OCD-ID segment is type:value");
        };
        let kind_ok = !kind.is_empty() && kind.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        let value_ok = !value.is_empty()
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | '_' | '~' | '%'));
        if !kind_ok || !value_ok {
            return Some("OCD-ID segments use lowercase letters, digits and -._~% only");
        }
    }
    None
}

macro_rules! stable_id {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses an OCD-ID or slug; the only way to make one.
            pub fn parse(value: &str) -> Result<Self, CoreError> {
                match invalid_reason(value) {
                    Some(reason) => Err(CoreError::InvalidId { what: $what, value: value.to_owned(), reason }),
                    None => Ok(Self(value.to_owned())),
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// True when the id is an Open Civic Data division id.
            pub fn is_ocd_id(&self) -> bool {
                self.0.starts_with(OCD_PREFIX)
            }
        }

        impl TryFrom<String> for $name {
            type Error = CoreError;
            fn try_from(value: String) -> Result<Self, CoreError> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = CoreError;
            fn from_str(value: &str) -> Result<Self, CoreError> {
                Self::parse(value)
            }
        }
    };
}

stable_id!(
    /// Identifies a state, county or municipality.
    JurisdictionId, "jurisdiction id");
stable_id!(
    /// Identifies a precinct (a reporting unit).
    PrecinctId, "precinct id");
stable_id!(
    /// Identifies an election.
    ElectionId, "election id");
stable_id!(
    /// Identifies a contest within an election.
    ContestId, "contest id");

#[cfg(test)]
mod tests {
    use super::*;

    fn check(value: &str, expected: Result<(), &str>) {
        let actual = JurisdictionId::parse(value).map(|_| ()).map_err(|error| error.to_string());
        match (actual, expected) {
            (Ok(()), Ok(())) => {}
            (Err(message), Err(fragment)) => assert!(message.contains(fragment), "{value}: {message}"),
            (actual, expected) => panic!("{value}: got {actual:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn accepts_ocd_ids_and_slugs() {
        check("ocd-division/country:us/state:nc", Ok(()));
        check("ocd-division/country:us/state:nc/county:wake", Ok(()));
        check("ocd-division/country:us/state:ga/county:clarke/precinct:1a", Ok(()));
        check("ocd-division/country:us/state:nc/place:chapel_hill", Ok(()));
        check("wake", Ok(()));
        check("precinct-01.a", Ok(()));
    }

    #[test]
    fn refuses_malformed_ids() {
        check("", Err("empty"));
        check("Wake", Err("lowercase"));
        check("wake county", Err("use only"));
        check("-wake", Err("must start"));
        check("ocd-division/state:nc", Err("country"));
        check("ocd-division/country:us/state", Err("type:value"));
        check("ocd-division/country:us/State:NC", Err("lowercase"));
        check("ocd-division/country:us/state:", Err("lowercase"));
        check(&"a".repeat(201), Err("200"));
        check("wake\u{0}", Err("use only"));
    }

    #[test]
    fn ocd_ids_are_recognised() {
        let ocd = JurisdictionId::parse("ocd-division/country:us/state:nc").unwrap();
        let slug = JurisdictionId::parse("nc").unwrap();
        assert!(ocd.is_ocd_id());
        assert!(!slug.is_ocd_id());
    }

    #[test]
    fn deserialising_validates() {
        let parsed: Result<JurisdictionId, _> = serde_json::from_str("\"Not An Id\"");
        assert!(parsed.is_err());
        let parsed: JurisdictionId = serde_json::from_str("\"wake\"").unwrap();
        assert_eq!(parsed.as_str(), "wake");
    }
}
