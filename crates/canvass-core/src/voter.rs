//! A voter registration. Every personal field (names and the confidential fields) is sealed
//! under the jurisdiction's key ring before it reaches a store; `Debug` prints only the
//! registration number so a stray log line cannot leak a person.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::{
    CoreError,
    id::{JurisdictionId, PrecinctId},
    name::Name,
};

/// Registration status (North Carolina's codes, which follow NVRA list maintenance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VoterStatus {
    Active,
    Inactive,
    Removed,
    Denied,
    Temporary,
}

impl VoterStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Removed => "removed",
            Self::Denied => "denied",
            Self::Temporary => "temporary",
        }
    }

    pub fn parse(value: &str) -> Result<Self, CoreError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "active" => Ok(Self::Active),
            "inactive" => Ok(Self::Inactive),
            "removed" => Ok(Self::Removed),
            "denied" => Ok(Self::Denied),
            "temporary" => Ok(Self::Temporary),
            _ => Err(CoreError::UnknownVariant {
                what: "voter status",
                value: value.to_owned(),
                expected: "active, inactive, removed, denied, temporary",
            }),
        }
    }

    /// North Carolina's `status_cd`: A active, I inactive, R removed, D denied, S temporary
    /// (military and overseas).
    pub fn from_nc_code(code: &str) -> Result<Self, CoreError> {
        match code.trim() {
            "A" => Ok(Self::Active),
            "I" => Ok(Self::Inactive),
            "R" => Ok(Self::Removed),
            "D" => Ok(Self::Denied),
            "S" => Ok(Self::Temporary),
            other => Err(CoreError::UnknownVariant {
                what: "NC status code",
                value: other.to_owned(),
                expected: "A, I, R, D, S",
            }),
        }
    }

    /// The `status_cd` North Carolina writes for the status ([`VoterStatus::from_nc_code`]'s
    /// inverse).
    pub fn nc_code(self) -> &'static str {
        match self {
            Self::Active => "A",
            Self::Inactive => "I",
            Self::Removed => "R",
            Self::Denied => "D",
            Self::Temporary => "S",
        }
    }

    /// Whether the voter counts as registered for turnout.
    pub fn is_registered(self) -> bool {
        matches!(self, Self::Active | Self::Inactive | Self::Temporary)
    }
}

/// A voter registration, in the clear: only ever in memory of an unsealed node.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoterRecord {
    /// The statewide registration number (North Carolina's NCID).
    pub registration_number: String,
    pub county: JurisdictionId,
    pub precinct: PrecinctId,
    pub first_name: Name,
    pub last_name: Name,
    /// Party affiliation code: DEM, REP, LIB, GRE, UNA ...
    pub party: String,
    pub status: VoterStatus,
    pub registered_on: Date,
    /// Confidential under North Carolina law (G.S. 163-82.10), as are the next three.
    pub birth_date: Option<Date>,
    pub ssn_last_four: Option<String>,
    pub drivers_license: Option<String>,
    pub email: Option<String>,
}

impl std::fmt::Debug for VoterRecord {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("VoterRecord")
            .field("registration_number", &self.registration_number)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nc_codes_round_trip() {
        for status in [
            VoterStatus::Active,
            VoterStatus::Inactive,
            VoterStatus::Removed,
            VoterStatus::Denied,
            VoterStatus::Temporary,
        ] {
            assert_eq!(VoterStatus::from_nc_code(status.nc_code()).unwrap(), status);
        }
    }

    #[test]
    fn debug_shows_no_personal_field() {
        let voter = VoterRecord {
            registration_number: "ZZ1".into(),
            county: JurisdictionId::parse("c").unwrap(),
            precinct: PrecinctId::parse("p").unwrap(),
            first_name: Name::parse("MarkerFirst").unwrap(),
            last_name: Name::parse("MarkerLast").unwrap(),
            party: "UNA".into(),
            status: VoterStatus::Active,
            registered_on: time::macros::date!(2020 - 01 - 01),
            birth_date: Some(time::macros::date!(1970 - 01 - 01)),
            ssn_last_four: Some("9876".into()),
            drivers_license: Some("MARKERDL".into()),
            email: Some("marker@example.invalid".into()),
        };
        let debug = format!("{voter:?}");
        for secret in ["MarkerFirst", "MarkerLast", "9876", "MARKERDL", "marker@", "1970"] {
            assert!(!debug.contains(secret), "{debug}");
        }
    }
}
