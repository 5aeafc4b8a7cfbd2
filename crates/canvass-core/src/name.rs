//! Human-readable names: non-empty, bounded, with no control characters, so a name can be put
//! in a page, a log line or a file without surprises.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::CoreError;

const MAXIMUM_CHARACTERS: usize = 200;

/// A display name for a jurisdiction, precinct, election, contest or choice.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

impl Name {
    /// Trims surrounding whitespace and checks the rest.
    pub fn parse(value: &str) -> Result<Self, CoreError> {
        let trimmed = value.trim();
        let invalid = |reason| Err(CoreError::InvalidName { what: "name", reason });
        if trimmed.is_empty() {
            return invalid("it is empty");
        }
        if trimmed.chars().count() > MAXIMUM_CHARACTERS {
            return invalid("it is longer than 200 characters");
        }
        if trimmed.chars().any(char::is_control) {
            return invalid("it contains control characters");
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Name {
    type Error = CoreError;
    fn try_from(value: String) -> Result<Self, CoreError> {
        Self::parse(&value)
    }
}

impl From<Name> for String {
    fn from(name: Name) -> String {
        name.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_checks() {
        assert_eq!(Name::parse("  Wake County ").unwrap().as_str(), "Wake County");
        assert!(Name::parse("   ").is_err());
        assert!(Name::parse("Wake\nCounty").is_err());
        assert!(Name::parse(&"x".repeat(201)).is_err());
        assert!(Name::parse(&"é".repeat(200)).is_ok());
    }
}
