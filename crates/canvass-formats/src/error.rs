//! The crate's one error type: what can go wrong while writing (and later reading) a format.

/// Why an import or export could not be done.
#[derive(Debug, thiserror::Error)]
pub enum FormatsError {
    /// The output could not be written (disk full, closed pipe...); what was written so far is
    /// an incomplete document.
    #[error("could not write the document: {0}")]
    Io(#[from] std::io::Error),
    /// The input could not be read (a closed pipe, a disk error...): nothing was imported.
    #[error("could not read the document: {0}")]
    Read(std::io::Error),
    #[error("could not encode JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("could not format a time: {0}")]
    Time(#[from] time::error::Format),
    #[error("a time outside the years 0001-9999 (UTC) cannot be written")]
    TimeOutOfRange,
    /// A value supplied for the document cannot be written in it.
    #[error("{field} {reason}")]
    InvalidText { field: &'static str, reason: &'static str },
    /// An input file that cannot be read as the format at all (not a row: the whole file).
    #[error("{0}")]
    Refused(String),
    /// A document read whole and refused: every problem found, each with the element it is at.
    #[error("{}", list_problems(.0))]
    Problems(Vec<crate::reported::Problem>),
    /// Ledger indices become the events' sequence numbers, so they must increase.
    #[error("ledger entry {index} comes after entry {previous}: entries must be in increasing index order")]
    OutOfOrder { previous: u64, index: u64 },
}

fn list_problems(problems: &[crate::reported::Problem]) -> String {
    let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
    match listed.as_slice() {
        [only] => only.clone(),
        _ => format!("{} problems: {}", listed.len(), listed.join("; ")),
    }
}
