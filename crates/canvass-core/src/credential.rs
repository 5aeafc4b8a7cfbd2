//! The minimum a new staff password must meet. Issue-5 account management builds on this; the
//! first administrator set by `canvass init` already has to pass it.

use crate::{CoreError, doctor::WELL_KNOWN_PASSWORDS};

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
