//! Elections and their contests. Issue-7 results intake builds on these; here they carry what
//! the public pages and the demo need: what is on the ballot, where and when.

use serde::{Deserialize, Serialize};
use time::{Date, Month, Weekday};

use crate::{
    CoreError,
    id::{ContestId, ElectionId, JurisdictionId},
    name::Name,
};

/// The kind of an election.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElectionKind {
    General,
    Primary,
    Special,
}

impl ElectionKind {
    pub fn parse(value: &str) -> Result<Self, CoreError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "general" => Ok(Self::General),
            "primary" => Ok(Self::Primary),
            "special" => Ok(Self::Special),
            _ => Err(CoreError::UnknownVariant {
                what: "election kind",
                value: value.to_owned(),
                expected: "general, primary, special",
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::General => "general",
            Self::Primary => "primary",
            Self::Special => "special",
        }
    }
}

/// An election run by one jurisdiction on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Election {
    pub id: ElectionId,
    pub jurisdiction: JurisdictionId,
    pub name: Name,
    pub kind: ElectionKind,
    pub date: Date,
}

/// What a contest asks the voter to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContestKind {
    Candidate,
    BallotMeasure,
    Retention,
}

impl ContestKind {
    pub fn parse(value: &str) -> Result<Self, CoreError> {
        match value.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "candidate" => Ok(Self::Candidate),
            "ballot_measure" => Ok(Self::BallotMeasure),
            "retention" => Ok(Self::Retention),
            _ => Err(CoreError::UnknownVariant {
                what: "contest kind",
                value: value.to_owned(),
                expected: "candidate, ballot_measure, retention",
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Candidate => "candidate",
            Self::BallotMeasure => "ballot_measure",
            Self::Retention => "retention",
        }
    }
}

/// One line a voter can mark: a candidate or a measure's yes/no.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub name: Name,
    /// The party label for partisan contests, as printed on the ballot.
    pub party: Option<String>,
}

/// A contest on the ballot of an election, voted on by the voters of `district`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contest {
    pub id: ContestId,
    pub election: ElectionId,
    pub district: JurisdictionId,
    pub name: Name,
    pub kind: ContestKind,
    pub vote_for: VoteFor,
    pub choices: Vec<Choice>,
}

/// How many choices a voter may mark in a contest: at least one, at most 99.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct VoteFor(u8);

impl VoteFor {
    pub const ONE: VoteFor = VoteFor(1);

    pub fn parse(value: u32) -> Result<Self, CoreError> {
        match u8::try_from(value) {
            Ok(count @ 1..=99) => Ok(Self(count)),
            _ => Err(CoreError::InvalidValue { what: "vote-for", reason: format!("{value} is not between 1 and 99") }),
        }
    }

    pub fn get(self) -> u32 {
        u32::from(self.0)
    }
}

impl TryFrom<u32> for VoteFor {
    type Error = CoreError;
    fn try_from(value: u32) -> Result<Self, CoreError> {
        Self::parse(value)
    }
}

impl From<VoteFor> for u32 {
    fn from(vote_for: VoteFor) -> u32 {
        vote_for.get()
    }
}

/// The United States general election day of `year`: the Tuesday after the first Monday in
/// November (2 U.S.C. 7).
pub fn general_election_day(year: i32) -> Option<Date> {
    let first_of_november = Date::from_calendar_date(year, Month::November, 1).ok()?;
    let first_monday = (0..7)
        .filter_map(|offset| first_of_november.checked_add(time::Duration::days(offset)))
        .find(|day| day.weekday() == Weekday::Monday)?;
    first_monday.next_day()
}

/// The first general election day strictly after `today`.
pub fn next_general_election_day(today: Date) -> Option<Date> {
    (today.year()..today.year() + 2).filter_map(general_election_day).find(|day| *day > today)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn general_election_days_match_the_calendar() {
        assert_eq!(general_election_day(2024), Some(date!(2024 - 11 - 05)));
        assert_eq!(general_election_day(2026), Some(date!(2026 - 11 - 03)));
        assert_eq!(general_election_day(2027), Some(date!(2027 - 11 - 02)));
        // When November 1st is a Monday the election is Tuesday the 2nd.
        assert_eq!(general_election_day(2021), Some(date!(2021 - 11 - 02)));
        // When November 1st is a Tuesday the election is the 8th, never the 1st.
        assert_eq!(general_election_day(2022), Some(date!(2022 - 11 - 08)));
    }

    #[test]
    fn next_general_election_is_after_today() {
        assert_eq!(next_general_election_day(date!(2026 - 11 - 21)), Some(date!(2027 - 11 - 02)));
        assert_eq!(next_general_election_day(date!(2026 - 01 - 01)), Some(date!(2026 - 11 - 03)));
        assert_eq!(next_general_election_day(date!(2026 - 11 - 03)), Some(date!(2027 - 11 - 02)));
    }

    #[test]
    fn vote_for_is_bounded() {
        assert!(VoteFor::parse(0).is_err());
        assert!(VoteFor::parse(100).is_err());
        assert_eq!(VoteFor::parse(3).unwrap().get(), 3);
    }
}
