//! An absentee ballot request as received (a VRI `BallotRequest` matched to a voter on the
//! roll): which voter, which elections, how the ballot should reach them. It names the voter by
//! registration number only, so it carries no personal value; recording and tracking the ballot
//! it asks for is the ballot store's work.

use time::Date;

use crate::id::JurisdictionId;

/// Which ballots the request covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AbsenteePeriod {
    /// The ballot of one election, named by its day (and its name when the request gives one).
    Election { date: Date, name: Option<String> },
    /// Every election from now on.
    Permanent,
    /// Every election between two days, both included (Virginia's annual request).
    Between { start: Date, end: Date },
    /// The request names no election (a `ballot-request` without its `BallotRequest`): the
    /// next one after it was made.
    NextElection,
}

/// How the voter wants the ballot delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReceiptPreference {
    Mail,
    Email,
    EmailOrOnline,
    Fax,
    Online,
}

impl ReceiptPreference {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mail => "mail",
            Self::Email => "email",
            Self::EmailOrOnline => "email-or-online",
            Self::Fax => "fax",
            Self::Online => "online",
        }
    }
}

/// A recognized absentee request: the voter it was matched to and what it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbsenteeRequest {
    /// The roll the voter is on.
    pub jurisdiction: JurisdictionId,
    pub registration_number: String,
    pub period: AbsenteePeriod,
    /// In the voter's order of preference; empty when the request states none (mail, then).
    pub receipt: Vec<ReceiptPreference>,
    /// The day the request was made (the document's `GeneratedDate`).
    pub requested_on: Date,
}

impl AbsenteeRequest {
    /// Whether the request covers an election held on `day`.
    pub fn covers(&self, day: Date) -> bool {
        match &self.period {
            AbsenteePeriod::Election { date, .. } => *date == day,
            AbsenteePeriod::Permanent => day >= self.requested_on,
            AbsenteePeriod::Between { start, end } => *start <= day && day <= *end,
            // Which election is next is the election calendar's to say; any after the request.
            AbsenteePeriod::NextElection => day >= self.requested_on,
        }
    }

    /// The delivery the office should use: the first preference, mail when none is stated.
    pub fn delivery(&self) -> ReceiptPreference {
        self.receipt.first().copied().unwrap_or(ReceiptPreference::Mail)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::date;

    fn request(period: AbsenteePeriod) -> AbsenteeRequest {
        AbsenteeRequest {
            jurisdiction: JurisdictionId::parse("ocd-division/country:us/state:va").unwrap(),
            registration_number: "VA1".into(),
            period,
            receipt: Vec::new(),
            requested_on: date!(2018 - 03 - 12),
        }
    }

    #[test]
    fn periods_cover_the_elections_they_name() {
        let one = request(AbsenteePeriod::Election { date: date!(2018 - 11 - 06), name: None });
        assert!(one.covers(date!(2018 - 11 - 06)));
        assert!(!one.covers(date!(2018 - 06 - 12)));
        let year = request(AbsenteePeriod::Between { start: date!(2018 - 01 - 01), end: date!(2018 - 12 - 31) });
        assert!(year.covers(date!(2018 - 06 - 12)));
        assert!(!year.covers(date!(2019 - 01 - 01)));
        let permanent = request(AbsenteePeriod::Permanent);
        assert!(permanent.covers(date!(2030 - 11 - 05)));
        assert!(!permanent.covers(date!(2018 - 01 - 01)), "not elections before the request");
        assert_eq!(permanent.delivery(), ReceiptPreference::Mail);
    }
}
