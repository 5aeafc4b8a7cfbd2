//! Staff accounts: login names, email addresses, the stored account, and the minimum a new
//! password must meet.

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

/// A staff account as stored: the password only as an Argon2id PHC hash, the TOTP secret only
/// sealed under a key derived from the node's key. Roles live in grants (`access::Grant`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAccount {
    pub username: Username,
    pub password_hash: String,
    /// Where notifications (insider alerts, break-glass notices) are sent.
    pub email: Option<EmailAddress>,
    /// A suspended account cannot sign in and its sessions and tokens stop working.
    pub suspended: bool,
    /// The sealed TOTP secret; None until the second factor is enrolled.
    pub totp_secret: Option<Vec<u8>>,
    /// The last TOTP time step accepted, so a code cannot be used twice.
    pub totp_last_step: i64,
}

impl StaffAccount {
    pub fn new(username: Username, password_hash: String, email: Option<EmailAddress>) -> Self {
        Self { username, password_hash, email, suspended: false, totp_secret: None, totp_last_step: 0 }
    }
}

/// An email address as far as Canvass checks it: one `@`, no spaces or control characters,
/// at most 254 bytes. Delivery is the mail server's business.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(value: &str) -> Result<Self, CoreError> {
        let valid = value.len() <= 254
            && value.split('@').count() == 2
            && value.split('@').all(|part| !part.is_empty())
            && value.rsplit('@').next().is_some_and(|domain| domain.contains('.') || domain == "localhost")
            && !value.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'));
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(CoreError::InvalidValue {
                what: "email address",
                reason: "use a single address like clerk@county.gov".into(),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = CoreError;
    fn try_from(value: String) -> Result<Self, CoreError> {
        Self::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(address: EmailAddress) -> String {
        address.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
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
    fn email_addresses_are_checked() {
        assert!(EmailAddress::parse("clerk@wake.example.gov").is_ok());
        assert!(EmailAddress::parse("admin@localhost").is_ok());
        for bad in ["", "clerk", "a@b@c.gov", "@x.gov", "a@", "a b@x.gov", "a@x.gov\r\nBcc: y@z.gov", "a@nodot"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
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
