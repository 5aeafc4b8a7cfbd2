//! What a county's results file says, before it is checked against an election: the counts it
//! reports for each choice in each precinct (split by vote type where the file splits them), the
//! ballots cast it reports per precinct, and every problem found while reading, each with the
//! line or element it is at.
//!
//! Results files are read whole and their problems gathered rather than stopping at the first:
//! an upload is refused as a whole, and the county's results reporter needs the full list to fix
//! the file in one go. Results are public records, so problems may quote the values at fault.

use std::fmt;

/// Where in a file something is: a line of a CSV file, or an element of an XML document given
/// as a short path with the attributes that identify it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Line(u64),
    Element(String),
}

impl fmt::Display for Location {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Line(line) => write!(formatter, "line {line}"),
            Self::Element(path) => write!(formatter, "element {path}"),
        }
    }
}

/// One thing wrong with a file, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub location: Location,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}: {}", self.location, self.message)
    }
}

/// How a ballot was cast; defined with the rules in `canvass_core::results`.
pub use canvass_core::results::VoteType;

/// The votes one choice got in one precinct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedCount {
    pub location: Location,
    /// The county as the file names it (`None` when the file is one county's and does not say).
    pub county: Option<String>,
    pub precinct: String,
    /// The contest as the file names it (an office, or a ballot measure's title).
    pub contest: String,
    pub district: Option<String>,
    pub party: Option<String>,
    /// A candidate's name, or a ballot measure's answer (`Yes`, `No`).
    pub choice: String,
    pub total: u64,
    /// The total split by vote type, when the file splits it; the parts sum to `total` (a row
    /// whose parts do not is a [`Problem`], not a count).
    pub parts: Vec<(VoteType, u64)>,
}

/// What a file says about one precinct as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedPrecinct {
    pub location: Location,
    pub county: Option<String>,
    pub precinct: String,
    pub ballots_cast: Option<u64>,
    pub registered_voters: Option<u64>,
}

/// What a file says about a contest as a whole (Clarity carries these; CSV files do not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedContest {
    pub location: Location,
    pub name: String,
    pub vote_for: Option<u32>,
    pub is_question: bool,
}

/// Everything read from one results file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportedResults {
    /// The election as the file names it, when it does.
    pub election_name: Option<String>,
    /// The election day as the file gives it, when it does.
    pub election_date: Option<time::Date>,
    pub contests: Vec<ReportedContest>,
    pub precincts: Vec<ReportedPrecinct>,
    pub counts: Vec<ReportedCount>,
    /// Every problem found; a file with any is refused whole.
    pub problems: Vec<Problem>,
}

impl ReportedResults {
    pub(crate) fn problem(&mut self, location: Location, message: impl Into<String>) {
        self.problems.push(Problem { location, message: message.into() });
    }
}

/// Reads a vote count: a whole number, not negative; the message names the field.
pub(crate) fn parse_count(field: &str, text: &str) -> Result<u64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("{field} is empty"));
    }
    if let Some(rest) = text.strip_prefix('-')
        && !rest.is_empty()
        && rest.chars().all(|character| character.is_ascii_digit())
    {
        return Err(format!("{field} is negative ({text})"));
    }
    text.parse::<u64>().map_err(|_| format!("{field} is not a whole number ({text:?})"))
}

/// Checks that the parts of a count sum to its total, with the message the refusal shows.
pub(crate) fn check_parts(total: u64, parts: &[(VoteType, u64)]) -> Result<(), String> {
    if parts.is_empty() {
        return Ok(());
    }
    let sum = parts.iter().try_fold(0u64, |sum, (_, votes)| sum.checked_add(*votes));
    match sum {
        Some(sum) if sum == total => Ok(()),
        Some(sum) => {
            let listed: Vec<String> = parts.iter().map(|(kind, votes)| format!("{} {votes}", kind.as_str())).collect();
            Err(format!("the vote types sum to {sum} ({}), not the total {total}", listed.join(" + ")))
        }
        None => Err("the vote types sum past the largest count".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_whole_numbers_and_never_negative() {
        assert_eq!(parse_count("votes", " 42 "), Ok(42));
        assert_eq!(parse_count("votes", "-3"), Err("votes is negative (-3)".into()));
        assert!(parse_count("votes", "4.5").unwrap_err().contains("not a whole number"));
        assert_eq!(parse_count("votes", ""), Err("votes is empty".into()));
    }

    #[test]
    fn parts_must_sum_to_the_total() {
        assert_eq!(check_parts(10, &[]), Ok(()));
        assert_eq!(check_parts(10, &[(VoteType::ElectionDay, 6), (VoteType::Early, 4)]), Ok(()));
        assert_eq!(
            check_parts(10, &[(VoteType::ElectionDay, 6), (VoteType::Early, 5)]),
            Err("the vote types sum to 11 (election_day 6 + early 5), not the total 10".into())
        );
        assert!(check_parts(1, &[(VoteType::ElectionDay, u64::MAX), (VoteType::Early, 1)]).is_err());
    }

    #[test]
    fn vote_type_labels_of_both_layouts_are_understood() {
        assert_eq!(VoteType::from_label("advance_in_person"), Some(VoteType::Early));
        assert_eq!(VoteType::from_label("Absentee by Mail"), Some(VoteType::AbsenteeByMail));
        assert_eq!(VoteType::from_label("Election"), Some(VoteType::ElectionDay));
        assert_eq!(VoteType::from_label("Provisional"), Some(VoteType::Provisional));
        assert_eq!(VoteType::from_label("Undervotes"), None);
    }
}
