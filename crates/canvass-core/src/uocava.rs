//! Overseas and military voters (UOCAVA, 52 U.S.C. 20301 ff.): how a voter asked to receive the
//! blank ballot, whether they are military or an overseas civilian, and the 45-day rule (a
//! ballot requested in time is sent no later than 45 days before a federal election,
//! 52 U.S.C. 20302(a)(8)).

use time::{Date, Duration};

use crate::CoreError;

/// How many days before the election a requested ballot must be on its way.
pub const SEND_DEADLINE_DAYS: i64 = 45;

/// How the blank ballot reaches the voter. `Email` and `Online` both get a one-time download
/// link (by email); `Mail` a printed ballot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Delivery {
    Mail,
    Email,
    Online,
}

impl Delivery {
    pub const ALL: [Self; 3] = [Self::Mail, Self::Email, Self::Online];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mail => "mail",
            Self::Email => "email",
            Self::Online => "online",
        }
    }

    pub fn parse(value: &str) -> Result<Self, CoreError> {
        Self::ALL.into_iter().find(|delivery| delivery.as_str() == value).ok_or_else(|| CoreError::UnknownVariant {
            what: "ballot delivery",
            value: value.to_owned(),
            expected: "mail, email, online",
        })
    }

    /// Whether the ballot goes out as a download link rather than on paper.
    pub fn is_electronic(self) -> bool {
        !matches!(self, Self::Mail)
    }
}

/// Who the voter is under UOCAVA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Classification {
    /// A member of the uniformed services or merchant marine, or their spouse or dependant.
    Military,
    /// A U.S. citizen living outside the country.
    Overseas,
}

impl Classification {
    pub const ALL: [Self; 2] = [Self::Military, Self::Overseas];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Military => "military",
            Self::Overseas => "overseas",
        }
    }

    pub fn parse(value: &str) -> Result<Self, CoreError> {
        Self::ALL.into_iter().find(|class| class.as_str() == value).ok_or_else(|| CoreError::UnknownVariant {
            what: "UOCAVA classification",
            value: value.to_owned(),
            expected: "military, overseas",
        })
    }
}

/// The last day a ballot may be sent for an election held on `election_day`.
pub fn send_deadline(election_day: Date) -> Date {
    election_day - Duration::days(SEND_DEADLINE_DAYS)
}

/// Where one request stands against the 45-day deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineStanding {
    /// Sent on this day, on or before the deadline.
    SentInTime(Date),
    /// Sent on this day, after the deadline (a late request can only be served late).
    SentLate(Date),
    /// Not sent; this many days remain until the deadline (0: the deadline is today).
    DaysLeft(i64),
    /// Not sent, and the deadline passed this many days ago.
    Overdue(i64),
}

impl DeadlineStanding {
    /// The standing of a request for an election on `election_day`, seen on `today`.
    pub fn of(election_day: Date, sent_on: Option<Date>, today: Date) -> Self {
        let deadline = send_deadline(election_day);
        match sent_on {
            Some(day) if day <= deadline => Self::SentInTime(day),
            Some(day) => Self::SentLate(day),
            None if today <= deadline => Self::DaysLeft((deadline - today).whole_days()),
            None => Self::Overdue((today - deadline).whole_days()),
        }
    }

    /// Whether the daily check lists it: a ballot not sent by the deadline (not sent yet, or
    /// sent after it).
    pub fn needs_action(self) -> bool {
        !matches!(self, Self::SentInTime(_))
    }

    /// A few words for the dashboard and the daily check.
    pub fn describe(self) -> String {
        match self {
            Self::SentInTime(day) => format!("sent {day}"),
            Self::SentLate(day) => format!("sent {day}, after the deadline"),
            Self::DaysLeft(0) => "not sent; the deadline is today".to_owned(),
            Self::DaysLeft(days) => format!("not sent; {days} days left"),
            Self::Overdue(days) => format!("not sent; {days} days overdue"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use time::macros::date;

    use super::*;

    fn check(sent: Option<Date>, today: Date, expected: DeadlineStanding) {
        assert_eq!(DeadlineStanding::of(date!(2026 - 11 - 03), sent, today), expected);
    }

    #[test]
    fn the_deadline_is_45_days_before_the_election() {
        assert_eq!(send_deadline(date!(2026 - 11 - 03)), date!(2026 - 09 - 19));
        check(None, date!(2026 - 09 - 09), DeadlineStanding::DaysLeft(10));
        check(None, date!(2026 - 09 - 19), DeadlineStanding::DaysLeft(0));
        check(None, date!(2026 - 09 - 22), DeadlineStanding::Overdue(3));
        check(Some(date!(2026 - 09 - 19)), date!(2026 - 10 - 01), DeadlineStanding::SentInTime(date!(2026 - 09 - 19)));
        check(Some(date!(2026 - 09 - 20)), date!(2026 - 10 - 01), DeadlineStanding::SentLate(date!(2026 - 09 - 20)));
        assert!(DeadlineStanding::Overdue(1).needs_action());
        assert!(DeadlineStanding::SentLate(date!(2026 - 09 - 20)).needs_action());
        assert!(!DeadlineStanding::SentInTime(date!(2026 - 09 - 19)).needs_action());
    }

    #[test]
    fn codes_round_trip_and_unknown_ones_are_named() {
        for delivery in Delivery::ALL {
            assert_eq!(Delivery::parse(delivery.as_str()).unwrap(), delivery);
        }
        for class in Classification::ALL {
            assert_eq!(Classification::parse(class.as_str()).unwrap(), class);
        }
        assert!(Delivery::parse("fax").unwrap_err().to_string().contains("mail, email, online"));
    }
}
