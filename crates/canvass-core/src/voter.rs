//! The public-record part of a voter registration. Confidential fields (date of birth, SSN
//! digits, driver's licence, email) are deliberately absent: they arrive only with per-field
//! encryption under the jurisdiction's keys, so nothing here can store them in plaintext.

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

    /// Whether the voter counts as registered for turnout.
    pub fn is_registered(self) -> bool {
        matches!(self, Self::Active | Self::Inactive | Self::Temporary)
    }
}

/// A voter registration's public-record fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
}
