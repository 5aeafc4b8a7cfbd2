//! The one error type of the storage layer, shared by every backend so callers map each case
//! to one message and status whatever the database.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} `{id}` already exists")]
    AlreadyExists { what: &'static str, id: String },
    #[error("{what} is still used by {rows} row(s)")]
    InUse { what: String, rows: u64 },
    #[error("{what} `{id}` does not exist")]
    Missing { what: &'static str, id: String },
    #[error(
        "the database schema is at version {found}, newer than this canvass binary understands (up to {supported}); \
         run the canvass release that last wrote to it, or a newer one"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("the database schema was changed outside canvass (migration {version} differs); restore it from a backup")]
    SchemaTampered { version: i64 },
    #[error("cannot open the database {location}: {reason}")]
    Unavailable { location: String, reason: String },
    #[error("a stored value is invalid: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("database error: {0}")]
    Backend(String),
}
