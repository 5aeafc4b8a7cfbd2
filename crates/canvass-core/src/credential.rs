//! The minimum a new staff password must meet. Issue-5 account management builds on this; the
//! first administrator set by `canvass init` already has to pass it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{CoreError, doctor::WELL_KNOWN_PASSWORDS};

/// A staff login name: 1-64 lowercase letters, digits, `.`, `_`, `-`, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub fn parse(value: &str) -> Result<Self, CoreError> {
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-');
        let valid = (1..=64).contains(&value.len())
            && value.starts_with(|c: char| c.is_ascii_lowercase())
            && value.chars().all(allowed);
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(CoreError::InvalidName {
                what: "username",
                reason: "use 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter",
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = CoreError;
    fn try_from(value: String) -> Result<Self, CoreError> {
        Self::parse(&value)
    }
}

impl From<Username> for String {
    fn from(username: Username) -> String {
        username.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// A staff role. Only the node administrator exists until scoped roles arrive (issue 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    Administrator,
}

impl StaffRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Administrator => "administrator",
        }
    }

    pub fn parse(value: &str) -> Result<Self, CoreError> {
        match value {
            "administrator" => Ok(Self::Administrator),
            _ => Err(CoreError::UnknownVariant {
                what: "staff role",
                value: value.to_owned(),
                expected: "administrator",
            }),
        }
    }
}

/// A staff account as stored: the password only as an Argon2id PHC hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAccount {
    pub username: Username,
    pub password_hash: String,
    pub role: StaffRole,
}

pub const MINIMUM_PASSWORD_CHARACTERS: usize = 12;

/// Refuses passwords that are short, on the well-known list, or a single repeated character.
pub fn check_new_password(password: &str) -> Result<(), CoreError> {
    let refuse = |reason: &str| Err(CoreError::InvalidValue { what: "password", reason: reason.to_owned() });
    if password.chars().count() < MINIMUM_PASSWORD_CHARACTERS {
        return refuse("it must be at least 12 characters long");
    }
    if WELL_KNOWN_PASSWORDS.iter().any(|known| password.eq_ignore_ascii_case(known)) {
        return refuse("it is on the list of well-known passwords");
    }
    let mut characters = password.chars();
    let first = characters.next();
    if characters.all(|c| Some(c) == first) {
        return refuse("it repeats one character");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_checked() {
        assert!(Username::parse("admin").is_ok());
        assert!(Username::parse("j.doe-2").is_ok());
        assert!(Username::parse("").is_err());
        assert!(Username::parse("Admin").is_err());
        assert!(Username::parse("2admin").is_err());
        assert!(Username::parse("a b").is_err());
        assert!(Username::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn weak_passwords_are_refused_with_the_reason() {
        let cases = [
            ("short", Some("at least 12")),
            ("aaaaaaaaaaaaaaaa", Some("repeats")),
            ("correct horse battery staple", None),
            ("Tr0ub4dor&3xyz", None),
        ];
        for (password, expected) in cases {
            match (check_new_password(password), expected) {
                (Ok(()), None) => {}
                (Err(error), Some(fragment)) => assert!(error.to_string().contains(fragment), "{error}"),
                (actual, expected) => panic!("{password}: {actual:?} vs {expected:?}"),
            }
        }
    }
}
