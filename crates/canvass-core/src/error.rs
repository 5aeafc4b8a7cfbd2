//! The one error type of canvass-core: every way a value from outside can fail to parse.

/// Why a value could not be turned into a domain type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    #[error("invalid {what} `{value}`: {reason}")]
    InvalidId { what: &'static str, value: String, reason: &'static str },
    #[error("invalid {what}: {reason}")]
    InvalidName { what: &'static str, reason: &'static str },
    #[error("unknown {what} `{value}`; expected one of: {expected}")]
    UnknownVariant { what: &'static str, value: String, expected: &'static str },
    #[error("{problem}: {rule}")]
    InvalidParent { problem: String, rule: &'static str },
    #[error("configuration: {0}")]
    Config(String),
    #[error("invalid {what}: {reason}")]
    InvalidValue { what: &'static str, reason: String },
}
