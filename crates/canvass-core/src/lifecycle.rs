//! The voter record lifecycle: every status change carries a reason, and the National Voter
//! Registration Act's list-maintenance rules (NVRA, 52 U.S.C. 20507) decide whether it may
//! happen. Pure rules: the caller supplies the voter's history and the federal election calendar.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month};

use crate::{
    CoreError,
    election::general_election_day,
    voter::VoterStatus::{self, Active, Denied, Inactive, Removed, Temporary},
};

/// NVRA section 8(c)(2)(A): systematic programs must be finished "not later than 90 days prior
/// to the date of a primary or general election for Federal office".
pub const QUIET_PERIOD_DAYS: i64 = 90;

/// Why a voter's status changed. Stored as its `as_str` code, so the codes never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusReason {
    /// An application was approved.
    NewRegistration,
    /// The applicant is not eligible (age, citizenship, residence).
    DeniedIneligible,
    /// The application lacks required information and was not completed in time.
    DeniedIncomplete,
    /// The applicant's identifying number could not be verified (HAVA 303(a)(5)).
    DeniedNotVerified,
    /// The voter moved within the jurisdiction; the record is updated, never removed.
    MovedWithinJurisdiction,
    /// The voter asked to be removed.
    VoterRequest,
    /// Notice of death from vital records.
    Death,
    /// A disqualifying felony conviction, as state law provides.
    FelonyConviction,
    /// The voter confirmed in writing a move out of the jurisdiction.
    MovedConfirmedInWriting,
    /// Removed for a change of address after a confirmation notice went unanswered through two
    /// federal general elections.
    ChangeOfAddressAfterNotice,
    /// Made inactive after mail came back undeliverable or went unanswered and a confirmation
    /// notice was sent.
    InactiveAfterConfirmationNotice,
    /// The voter voted, updated the registration or answered the notice.
    ReactivatedByContact,
    /// A military or overseas voter registered through the federal post card application.
    UocavaTemporary,
    /// A duplicate record merged into the voter's surviving record.
    DuplicateMerged,
    /// A clerical error corrected; it only ever restores a registration.
    AdministrativeCorrection,
}

/// A transition a reason allows; `None` as the origin is an application with no record yet.
pub type Transition = (Option<VoterStatus>, VoterStatus);

impl StatusReason {
    pub const ALL: [Self; 15] = [
        Self::NewRegistration,
        Self::DeniedIneligible,
        Self::DeniedIncomplete,
        Self::DeniedNotVerified,
        Self::MovedWithinJurisdiction,
        Self::VoterRequest,
        Self::Death,
        Self::FelonyConviction,
        Self::MovedConfirmedInWriting,
        Self::ChangeOfAddressAfterNotice,
        Self::InactiveAfterConfirmationNotice,
        Self::ReactivatedByContact,
        Self::UocavaTemporary,
        Self::DuplicateMerged,
        Self::AdministrativeCorrection,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewRegistration => "new_registration",
            Self::DeniedIneligible => "denied_ineligible",
            Self::DeniedIncomplete => "denied_incomplete",
            Self::DeniedNotVerified => "denied_not_verified",
            Self::MovedWithinJurisdiction => "moved_within_jurisdiction",
            Self::VoterRequest => "voter_request",
            Self::Death => "death",
            Self::FelonyConviction => "felony_conviction",
            Self::MovedConfirmedInWriting => "moved_confirmed_in_writing",
            Self::ChangeOfAddressAfterNotice => "change_of_address_after_notice",
            Self::InactiveAfterConfirmationNotice => "inactive_after_confirmation_notice",
            Self::ReactivatedByContact => "reactivated_by_contact",
            Self::UocavaTemporary => "uocava_temporary",
            Self::DuplicateMerged => "duplicate_merged",
            Self::AdministrativeCorrection => "administrative_correction",
        }
    }

    pub fn parse(value: &str) -> Result<Self, CoreError> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == value).ok_or_else(|| CoreError::UnknownVariant {
            what: "status reason",
            value: value.to_owned(),
            expected: "new_registration, denied_ineligible, denied_incomplete, denied_not_verified, \
                       moved_within_jurisdiction, voter_request, death, felony_conviction, \
                       moved_confirmed_in_writing, change_of_address_after_notice, \
                       inactive_after_confirmation_notice, reactivated_by_contact, uocava_temporary, \
                       duplicate_merged, administrative_correction",
        })
    }

    /// A sentence for staff screens and reports.
    pub fn description(self) -> &'static str {
        match self {
            Self::NewRegistration => "application approved: new registration",
            Self::DeniedIneligible => "application denied: the applicant is not eligible",
            Self::DeniedIncomplete => "application denied: the application was incomplete",
            Self::DeniedNotVerified => "application denied: the applicant's identity could not be verified",
            Self::MovedWithinJurisdiction => "moved within the jurisdiction: registration updated",
            Self::VoterRequest => "removed at the voter's request",
            Self::Death => "removed on notice of death from vital records",
            Self::FelonyConviction => "removed for a disqualifying felony conviction",
            Self::MovedConfirmedInWriting => "removed: the voter confirmed in writing a move out of the jurisdiction",
            Self::ChangeOfAddressAfterNotice => {
                "removed for change of address: no response to the confirmation notice and no contact \
                 through two federal general elections"
            }
            Self::InactiveAfterConfirmationNotice => {
                "made inactive: mail returned undeliverable or unanswered, confirmation notice sent"
            }
            Self::ReactivatedByContact => "reactivated: the voter voted, updated the registration or answered",
            Self::UocavaTemporary => "temporary registration of a military or overseas voter (UOCAVA)",
            Self::DuplicateMerged => "duplicate record merged into the voter's surviving record",
            Self::AdministrativeCorrection => "administrative correction of a clerical error",
        }
    }

    /// The provision that authorises the change, for the record and for auditors.
    pub fn statute(self) -> &'static str {
        match self {
            Self::NewRegistration => "52 U.S.C. 20507(a)(1)",
            Self::DeniedIneligible | Self::DeniedIncomplete => "52 U.S.C. 20507(a)(2)",
            Self::DeniedNotVerified => "52 U.S.C. 21083(a)(5)",
            Self::MovedWithinJurisdiction => "52 U.S.C. 20507(f)",
            Self::VoterRequest => "52 U.S.C. 20507(a)(3)(A)",
            Self::Death => "52 U.S.C. 20507(a)(4)(A)",
            Self::FelonyConviction => "52 U.S.C. 20507(a)(3)(B)",
            Self::MovedConfirmedInWriting => "52 U.S.C. 20507(d)(1)(A)",
            Self::ChangeOfAddressAfterNotice => "52 U.S.C. 20507(d)(1)(B)",
            Self::InactiveAfterConfirmationNotice => "52 U.S.C. 20507(d)(2)",
            Self::ReactivatedByContact => "52 U.S.C. 20507(d)(2)(A)",
            Self::UocavaTemporary => "52 U.S.C. 20302(a)(4)",
            Self::DuplicateMerged | Self::AdministrativeCorrection => "52 U.S.C. 20507(c)(2)(B)(ii)",
        }
    }

    /// Whether the change comes from a program that reaches voters in bulk rather than from
    /// information about one voter. NVRA 8(c)(2)(A) stops such programs 90 days before a federal
    /// election; removals on an individual basis (8(c)(2)(B)(i): request, conviction, death, and
    /// the voter's own written confirmation of a move, as Arcia v. Florida Secretary of State,
    /// 772 F.3d 1335 (11th Cir. 2014) reads it) may go on. Duplicate merges come from matching
    /// programs, so they wait too: the voter stays registered under the surviving record, so
    /// waiting costs nobody a vote, while a wrong merge inside the quiet period could.
    pub fn is_systematic(self) -> bool {
        matches!(self, Self::ChangeOfAddressAfterNotice | Self::InactiveAfterConfirmationNotice | Self::DuplicateMerged)
    }

    /// The (from, to) pairs this reason may explain.
    pub fn allowed_transitions(self) -> &'static [Transition] {
        match self {
            // A new application, or a person once removed or denied applying again.
            Self::NewRegistration => &[(None, Active), (Some(Removed), Active), (Some(Denied), Active)],
            Self::DeniedIneligible | Self::DeniedIncomplete | Self::DeniedNotVerified => {
                &[(None, Denied), (Some(Removed), Denied), (Some(Denied), Denied)]
            }
            // NVRA 8(f): a move inside the jurisdiction updates the record, and the update is
            // contact that ends inactivity (8(d)(2)(A)).
            Self::MovedWithinJurisdiction => &[(Some(Active), Active), (Some(Inactive), Active)],
            Self::VoterRequest
            | Self::Death
            | Self::FelonyConviction
            | Self::MovedConfirmedInWriting
            | Self::DuplicateMerged => {
                &[(Some(Active), Removed), (Some(Inactive), Removed), (Some(Temporary), Removed)]
            }
            Self::ChangeOfAddressAfterNotice => &[(Some(Active), Removed), (Some(Inactive), Removed)],
            Self::InactiveAfterConfirmationNotice => &[(Some(Active), Inactive)],
            Self::ReactivatedByContact => &[(Some(Inactive), Active)],
            Self::UocavaTemporary => &[(None, Temporary), (Some(Removed), Temporary), (Some(Denied), Temporary)],
            // A correction never takes anyone off the rolls: a removal must give its real reason so
            // its rules apply (NVRA 8(b)(1): uniform and nondiscriminatory).
            Self::AdministrativeCorrection => &[
                (Some(Inactive), Active),
                (Some(Temporary), Active),
                (Some(Removed), Active),
                (Some(Removed), Inactive),
                (Some(Denied), Active),
            ],
        }
    }
}

/// One status change of one voter record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// `None` while the record is only an application.
    pub from: Option<VoterStatus>,
    pub to: VoterStatus,
    pub reason: StatusReason,
    pub on: Date,
}

/// What the rules need to know about the voter's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoterHistoryFacts {
    /// When the registration (or, while undecided, the application) was received.
    pub registered_on: Date,
    /// When the latest NVRA 8(d)(2) confirmation notice was mailed.
    pub confirmation_notice_sent: Option<Date>,
    /// The latest day the voter voted, updated the registration or answered a notice.
    pub last_contact: Option<Date>,
}

/// Why a status change was refused. `Display` is a sentence for the official making it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleRefusal {
    /// The reason does not explain a change between these two statuses.
    TransitionNotAllowed { from: Option<VoterStatus>, to: VoterStatus, reason: StatusReason },
    /// The change is dated before the registration exists.
    DatedBeforeRegistration { on: Date, registered_on: Date },
    /// No confirmation notice was mailed before the change.
    NoConfirmationNotice { reason: StatusReason },
    /// The voter made contact on or after the notice, so the notice no longer supports the change.
    ContactSinceNotice { reason: StatusReason, notice: Date, contact: Date },
    /// NVRA 8(d)(1)(B)(ii): the period without contact has not yet run to its end.
    SecondGeneralElectionNotPassed { notice: Date, second_general_election: Date, earliest: Date },
    /// Reactivation with no contact from the voter on record.
    NoVoterContact { since_notice: Option<Date> },
    /// NVRA 8(c)(2)(A): a systematic change inside the 90 days before a federal election.
    QuietPeriod { reason: StatusReason, on: Date, election: Date, resumes_on: Date },
    /// The date is too far out for the election calendar to be computed.
    CalendarOutOfRange { on: Date },
}

/// Checks one status change against NVRA list maintenance. `federal_elections` lists the dates of
/// every primary, runoff and special election for federal office the voter could vote in; the
/// regular federal general elections (2 U.S.C. 7) are added whether or not the caller lists them,
/// so forgetting one cannot open the quiet period.
pub fn check_status_change(
    change: &StatusChange,
    facts: &VoterHistoryFacts,
    federal_elections: &[Date],
) -> Result<(), LifecycleRefusal> {
    let reason = change.reason;
    if !reason.allowed_transitions().contains(&(change.from, change.to)) {
        return Err(LifecycleRefusal::TransitionNotAllowed { from: change.from, to: change.to, reason });
    }
    if change.on < facts.registered_on {
        return Err(LifecycleRefusal::DatedBeforeRegistration { on: change.on, registered_on: facts.registered_on });
    }
    match reason {
        StatusReason::ChangeOfAddressAfterNotice => check_change_of_address(change.on, facts)?,
        StatusReason::InactiveAfterConfirmationNotice => {
            check_notice_unanswered(reason, change.on, facts)?;
        }
        StatusReason::ReactivatedByContact => check_contact(change.on, facts)?,
        _ => {}
    }
    if reason.is_systematic() {
        check_quiet_period(reason, change.on, federal_elections)?;
    }
    Ok(())
}

/// NVRA 8(d)(1)(B): removal for a change of address only when the voter (i) failed to answer the
/// confirmation notice and (ii) did not vote or appear to vote "during the period beginning on
/// the date of the notice and ending on the day after the date of the second general election for
/// Federal office that occurs after the date of the notice". The period includes that day after,
/// so the earliest removal is the day after it.
fn check_change_of_address(on: Date, facts: &VoterHistoryFacts) -> Result<(), LifecycleRefusal> {
    let reason = StatusReason::ChangeOfAddressAfterNotice;
    let notice = check_notice_unanswered(reason, on, facts)?;
    let second_general_election =
        second_federal_general_election_after(notice).ok_or(LifecycleRefusal::CalendarOutOfRange { on })?;
    let earliest =
        second_general_election.checked_add(Duration::days(2)).ok_or(LifecycleRefusal::CalendarOutOfRange { on })?;
    if on < earliest {
        return Err(LifecycleRefusal::SecondGeneralElectionNotPassed { notice, second_general_election, earliest });
    }
    Ok(())
}

/// A confirmation notice was mailed on or before `on` and the voter has not been heard from
/// since the day it was mailed; returns the notice's date.
fn check_notice_unanswered(
    reason: StatusReason,
    on: Date,
    facts: &VoterHistoryFacts,
) -> Result<Date, LifecycleRefusal> {
    let notice = facts
        .confirmation_notice_sent
        .filter(|notice| *notice <= on)
        .ok_or(LifecycleRefusal::NoConfirmationNotice { reason })?;
    // The statute's period begins "on the date of the notice", so contact that day counts.
    if let Some(contact) = facts.last_contact.filter(|contact| *contact >= notice) {
        return Err(LifecycleRefusal::ContactSinceNotice { reason, notice, contact });
    }
    Ok(notice)
}

/// Reactivation needs the voter's own contact, after the notice that made them inactive.
fn check_contact(on: Date, facts: &VoterHistoryFacts) -> Result<(), LifecycleRefusal> {
    let since_notice = facts.confirmation_notice_sent;
    let contacted =
        facts.last_contact.is_some_and(|contact| contact <= on && since_notice.is_none_or(|notice| contact >= notice));
    if contacted { Ok(()) } else { Err(LifecycleRefusal::NoVoterContact { since_notice }) }
}

fn check_quiet_period(reason: StatusReason, on: Date, federal_elections: &[Date]) -> Result<(), LifecycleRefusal> {
    let horizon = federal_elections.iter().copied().chain([on]).max().unwrap_or(on).saturating_add(Duration::days(366));
    let mut elections = federal_general_elections_between(on, horizon);
    elections.extend_from_slice(federal_elections);
    let Some(election) = elections.iter().copied().filter(|election| in_quiet_period(on, *election)).min() else {
        return Ok(());
    };
    // The quiet period ends after election day, unless that day is already inside the quiet
    // period of a later federal election (a runoff, or a general soon after a primary).
    let mut resumes_on = election.next_day().ok_or(LifecycleRefusal::CalendarOutOfRange { on })?;
    while let Some(later) = elections.iter().copied().filter(|later| in_quiet_period(resumes_on, *later)).max() {
        match later.next_day() {
            Some(next) if next > resumes_on => resumes_on = next,
            _ => return Err(LifecycleRefusal::CalendarOutOfRange { on }),
        }
    }
    Err(LifecycleRefusal::QuietPeriod { reason, on, election, resumes_on })
}

/// Whether `day` is inside the 90 days before `election`: the program must be complete on the
/// 90th day before, so that day itself is still allowed.
fn in_quiet_period(day: Date, election: Date) -> bool {
    day <= election && day > election.saturating_sub(Duration::days(QUIET_PERIOD_DAYS))
}

/// The regular federal general elections (2 U.S.C. 7: the Tuesday after the first Monday in
/// November of even years) from `start` to `end`, both included.
pub fn federal_general_elections_between(start: Date, end: Date) -> Vec<Date> {
    (start.year()..=end.year())
        .filter(|year| year.rem_euclid(2) == 0)
        .filter_map(general_election_day)
        .filter(|day| (start..=end).contains(day))
        .collect()
}

/// The second federal general election strictly after `day`.
fn second_federal_general_election_after(day: Date) -> Option<Date> {
    // Any five calendar years hold at least two even-year Novembers after `day`.
    let end = Date::from_calendar_date(day.year().checked_add(5)?, Month::January, 1).ok()?;
    federal_general_elections_between(day.next_day()?, end).get(1).copied()
}

/// "November 3, 2026": the form officials and voters read without thinking about it.
pub(crate) fn written_date(date: Date) -> String {
    format!("{} {}, {}", date.month(), date.day(), date.year())
}

fn status_name(status: Option<VoterStatus>) -> &'static str {
    status.map_or("no registration yet (an application)", VoterStatus::as_str)
}

fn is_regular_general_election(day: Date) -> bool {
    day.year().rem_euclid(2) == 0 && general_election_day(day.year()) == Some(day)
}

fn change_name(reason: StatusReason) -> &'static str {
    match reason {
        StatusReason::InactiveAfterConfirmationNotice => "Inactivation",
        StatusReason::DuplicateMerged => "Duplicate merge",
        StatusReason::ChangeOfAddressAfterNotice => "Removal for change of address",
        _ => "Status change",
    }
}

impl fmt::Display for LifecycleRefusal {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TransitionNotAllowed { from, to, reason } => {
                let allowed: Vec<String> = reason
                    .allowed_transitions()
                    .iter()
                    .map(|(from, to)| format!("from {} to {}", status_name(*from), to.as_str()))
                    .collect();
                write!(
                    formatter,
                    "The reason \"{}\" ({}) cannot move a record from {} to {}; it only explains: {}.",
                    reason.description(),
                    reason.as_str(),
                    status_name(from),
                    to.as_str(),
                    allowed.join("; ")
                )
            }
            Self::DatedBeforeRegistration { on, registered_on } => write!(
                formatter,
                "The change is dated {}, before the registration was received on {}.",
                written_date(on),
                written_date(registered_on)
            ),
            Self::NoConfirmationNotice { reason } => write!(
                formatter,
                "{} refused: no confirmation notice was mailed to the voter before this date. NVRA section \
                 8(d) (52 U.S.C. 20507(d)) allows it only after a confirmation notice has been sent and \
                 gone unanswered.",
                change_name(reason)
            ),
            Self::ContactSinceNotice { reason, notice, contact } => write!(
                formatter,
                "{} refused: the voter made contact on {}, on or after the confirmation notice of {}, so \
                 under NVRA section 8(d) (52 U.S.C. 20507(d)) that notice no longer supports it; keep the \
                 registration and update it from the voter's contact.",
                change_name(reason),
                written_date(contact),
                written_date(notice)
            ),
            Self::SecondGeneralElectionNotPassed { notice, second_general_election, earliest } => write!(
                formatter,
                "Removal for change of address refused: the confirmation notice was mailed on {}, and NVRA \
                 section 8(d)(1)(B) (52 U.S.C. 20507(d)(1)(B)) requires no contact from the voter through \
                 the day after the second federal general election after the notice, which is on {}. The \
                 earliest removal date is {}.",
                written_date(notice),
                written_date(second_general_election),
                written_date(earliest)
            ),
            Self::NoVoterContact { since_notice: Some(notice) } => write!(
                formatter,
                "Reactivation refused: no contact from the voter (voting, updating the registration or \
                 answering) is on record since the confirmation notice of {}.",
                written_date(notice)
            ),
            Self::NoVoterContact { since_notice: None } => formatter.write_str(
                "Reactivation refused: no contact from the voter (voting, updating the registration or \
                 answering) is on record.",
            ),
            Self::QuietPeriod { reason, on, election, resumes_on } => {
                let kind =
                    if is_regular_general_election(election) { "federal general election" } else { "federal election" };
                let days = (election - on).whole_days();
                write!(
                    formatter,
                    "{} ({}) refused on {}: NVRA section 8(c)(2)(A) (52 U.S.C. 20507(c)(2)(A)) requires \
                     systematic list maintenance to be finished 90 days before a federal election, and the \
                     {kind} on {} is {days} days away. The quiet period ends on {}. Removals on \
                     individual information (death, the voter's request, a conviction, the voter's \
                     written confirmation of a move) are still allowed.",
                    change_name(reason),
                    reason.as_str(),
                    written_date(on),
                    written_date(election),
                    written_date(resumes_on)
                )
            }
            Self::CalendarOutOfRange { on } => {
                write!(formatter, "The date {on} is outside the calendar for which federal elections can be computed.")
            }
        }
    }
}

impl std::error::Error for LifecycleRefusal {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    /// North Carolina's federal primaries and generals around the test dates.
    const FEDERAL_ELECTIONS: [Date; 6] = [
        date!(2022 - 05 - 17),
        date!(2022 - 11 - 08),
        date!(2024 - 03 - 05),
        date!(2024 - 11 - 05),
        date!(2026 - 03 - 03),
        date!(2026 - 11 - 03),
    ];

    fn change(from: Option<VoterStatus>, to: VoterStatus, reason: StatusReason, on: Date) -> StatusChange {
        StatusChange { from, to, reason, on }
    }

    fn facts(notice: Option<Date>, contact: Option<Date>) -> VoterHistoryFacts {
        VoterHistoryFacts {
            registered_on: date!(2010 - 01 - 04),
            confirmation_notice_sent: notice,
            last_contact: contact,
        }
    }

    /// A voter mailed a confirmation notice on 2021-03-01 and not heard from since.
    fn silent_since_2021() -> VoterHistoryFacts {
        facts(Some(date!(2021 - 03 - 01)), Some(date!(2020 - 11 - 03)))
    }

    /// Checks `change` with the NC calendar; an error's sentence must contain every fragment.
    fn check(change: StatusChange, facts: VoterHistoryFacts, expected: Result<(), &[&str]>) {
        let actual = check_status_change(&change, &facts, &FEDERAL_ELECTIONS);
        match (&actual, expected) {
            (Ok(()), Ok(())) => {}
            (Err(refusal), Err(fragments)) => {
                let sentence = refusal.to_string();
                for fragment in fragments {
                    assert!(sentence.contains(fragment), "{change:?}: `{sentence}` lacks `{fragment}`");
                }
            }
            _ => panic!("{change:?} with {facts:?}: got {actual:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn each_reason_allows_only_its_transitions() {
        use StatusReason::*;
        let any = facts(None, None);
        let on = date!(2025 - 06 - 02);
        check(change(None, Active, NewRegistration, on), any, Ok(()));
        check(change(Some(Removed), Active, NewRegistration, on), any, Ok(()));
        check(
            change(Some(Active), Active, NewRegistration, on),
            any,
            Err(&["new registration", "from active to active"]),
        );
        check(change(None, Denied, DeniedIncomplete, on), any, Ok(()));
        check(change(None, Denied, DeniedNotVerified, on), any, Ok(()));
        check(change(Some(Active), Denied, DeniedIneligible, on), any, Err(&["denied_ineligible", "an application"]));
        check(change(None, Active, DeniedIneligible, on), any, Err(&["to active"]));
        check(change(Some(Active), Active, MovedWithinJurisdiction, on), any, Ok(()));
        check(change(Some(Inactive), Active, MovedWithinJurisdiction, on), any, Ok(()));
        check(change(Some(Active), Removed, MovedWithinJurisdiction, on), any, Err(&["moved_within_jurisdiction"]));
        check(change(Some(Active), Removed, Death, on), any, Ok(()));
        check(change(Some(Inactive), Removed, FelonyConviction, on), any, Ok(()));
        check(change(Some(Temporary), Removed, VoterRequest, on), any, Ok(()));
        check(change(Some(Active), Removed, MovedConfirmedInWriting, on), any, Ok(()));
        check(change(Some(Removed), Removed, Death, on), any, Err(&["from removed to removed"]));
        check(change(Some(Denied), Removed, Death, on), any, Err(&["from denied to removed"]));
        check(change(None, Removed, VoterRequest, on), any, Err(&["no registration yet"]));
        check(change(Some(Active), Inactive, Death, on), any, Err(&["to inactive"]));
        check(
            change(Some(Temporary), Removed, ChangeOfAddressAfterNotice, on),
            silent_since_2021(),
            Err(&["temporary"]),
        );
        check(change(None, Temporary, UocavaTemporary, on), any, Ok(()));
        check(change(None, Temporary, NewRegistration, on), any, Err(&["to temporary"]));
        check(change(Some(Active), Temporary, UocavaTemporary, on), any, Err(&["from active to temporary"]));
        check(change(Some(Active), Active, ReactivatedByContact, on), facts(None, Some(on)), Err(&["from active"]));
        check(change(Some(Removed), Active, ReactivatedByContact, on), facts(None, Some(on)), Err(&["from removed"]));
        check(change(Some(Temporary), Inactive, InactiveAfterConfirmationNotice, on), any, Err(&["temporary"]));
        check(change(Some(Inactive), Removed, DuplicateMerged, on), any, Ok(()));
        check(change(Some(Removed), Active, AdministrativeCorrection, on), any, Ok(()));
        check(change(Some(Denied), Active, AdministrativeCorrection, on), any, Ok(()));
        check(change(Some(Active), Removed, AdministrativeCorrection, on), any, Err(&["administrative_correction"]));
        check(change(Some(Active), Inactive, AdministrativeCorrection, on), any, Err(&["to inactive"]));
        check(change(Some(Active), Denied, AdministrativeCorrection, on), any, Err(&["to denied"]));
    }

    #[test]
    fn a_change_cannot_predate_the_registration() {
        check(
            change(Some(VoterStatus::Active), VoterStatus::Removed, StatusReason::Death, date!(2009 - 12 - 31)),
            facts(None, None),
            Err(&["December 31, 2009", "January 4, 2010"]),
        );
    }

    #[test]
    fn change_of_address_removal_waits_for_two_federal_general_elections() {
        let remove = |on| change(Some(Inactive), Removed, StatusReason::ChangeOfAddressAfterNotice, on);
        // Notice 2021-03-01: the generals after it are 2022-11-08 and 2024-11-05; the period
        // without contact runs through 2024-11-06, so removal may happen from 2024-11-07.
        let second = ["March 1, 2021", "second federal general election", "November 5, 2024", "November 7, 2024"];
        check(remove(date!(2022 - 11 - 09)), silent_since_2021(), Err(&second));
        check(remove(date!(2023 - 06 - 01)), silent_since_2021(), Err(&second));
        check(remove(date!(2024 - 11 - 05)), silent_since_2021(), Err(&second));
        check(remove(date!(2024 - 11 - 06)), silent_since_2021(), Err(&second));
        check(remove(date!(2024 - 11 - 07)), silent_since_2021(), Ok(()));
        check(remove(date!(2025 - 01 - 10)), silent_since_2021(), Ok(()));
        // From active too, when the state does not mark such voters inactive.
        check(
            change(Some(Active), Removed, StatusReason::ChangeOfAddressAfterNotice, date!(2025 - 01 - 10)),
            silent_since_2021(),
            Ok(()),
        );
        // A notice mailed on a general election day counts the elections strictly after it.
        check(
            remove(date!(2026 - 11 - 04)),
            facts(Some(date!(2022 - 11 - 08)), None),
            Err(&["November 3, 2026", "November 5, 2026"]),
        );
    }

    #[test]
    fn change_of_address_removal_needs_a_notice_and_no_contact_since() {
        let remove = change(Some(Inactive), Removed, StatusReason::ChangeOfAddressAfterNotice, date!(2025 - 01 - 10));
        check(remove, facts(None, None), Err(&["no confirmation notice", "8(d)"]));
        // A notice dated after the change does not count.
        check(remove, facts(Some(date!(2025 - 02 - 01)), None), Err(&["no confirmation notice"]));
        check(
            remove,
            facts(Some(date!(2021 - 03 - 01)), Some(date!(2023 - 05 - 01))),
            Err(&["May 1, 2023", "March 1, 2021"]),
        );
        // The period begins on the date of the notice, so contact that very day counts.
        check(remove, facts(Some(date!(2021 - 03 - 01)), Some(date!(2021 - 03 - 01))), Err(&["made contact"]));
        check(remove, facts(Some(date!(2021 - 03 - 01)), Some(date!(2021 - 02 - 28))), Ok(()));
    }

    #[test]
    fn inactivation_follows_an_unanswered_notice_and_reactivation_needs_contact() {
        use StatusReason::*;
        let inactivate = change(Some(Active), Inactive, InactiveAfterConfirmationNotice, date!(2025 - 06 - 02));
        check(inactivate, facts(Some(date!(2025 - 04 - 01)), None), Ok(()));
        check(inactivate, facts(None, None), Err(&["Inactivation refused", "no confirmation notice"]));
        check(inactivate, facts(Some(date!(2025 - 04 - 01)), Some(date!(2025 - 04 - 20))), Err(&["April 20, 2025"]));
        let reactivate = change(Some(Inactive), Active, ReactivatedByContact, date!(2025 - 06 - 02));
        check(reactivate, facts(Some(date!(2025 - 04 - 01)), Some(date!(2025 - 05 - 20))), Ok(()));
        check(reactivate, facts(None, Some(date!(2019 - 05 - 20))), Ok(()));
        check(
            reactivate,
            facts(Some(date!(2025 - 04 - 01)), Some(date!(2024 - 11 - 05))),
            Err(&["since", "April 1, 2025"]),
        );
        check(reactivate, facts(None, None), Err(&["no contact"]));
        // Contact recorded after the change's date cannot be its cause.
        check(reactivate, facts(None, Some(date!(2025 - 07 - 01))), Err(&["no contact"]));
    }

    #[test]
    fn systematic_changes_stop_ninety_days_before_a_federal_election() {
        use StatusReason::*;
        let remove = |on| change(Some(Inactive), Removed, ChangeOfAddressAfterNotice, on);
        // 2026-11-03 minus 90 days is 2026-08-05, the last day a program may still finish.
        check(remove(date!(2026 - 08 - 04)), silent_since_2021(), Ok(()));
        check(remove(date!(2026 - 08 - 05)), silent_since_2021(), Ok(()));
        let quiet = ["8(c)(2)(A)", "federal general election on November 3, 2026", "ends on November 4, 2026"];
        check(remove(date!(2026 - 08 - 06)), silent_since_2021(), Err(&quiet));
        check(remove(date!(2026 - 08 - 20)), silent_since_2021(), Err(&["August 20, 2026", "75 days away"]));
        check(remove(date!(2026 - 11 - 03)), silent_since_2021(), Err(&quiet));
        check(remove(date!(2026 - 11 - 04)), silent_since_2021(), Ok(()));
        // Before a federal primary too.
        check(
            remove(date!(2026 - 01 - 15)),
            silent_since_2021(),
            Err(&["federal election on March 3, 2026", "ends on March 4, 2026"]),
        );
        // Systematic inactivation and duplicate merges wait as well.
        check(
            change(Some(Active), Inactive, InactiveAfterConfirmationNotice, date!(2026 - 10 - 01)),
            facts(Some(date!(2026 - 06 - 01)), None),
            Err(&["Inactivation", "November 3, 2026"]),
        );
        check(
            change(Some(Active), Inactive, InactiveAfterConfirmationNotice, date!(2026 - 07 - 01)),
            facts(Some(date!(2026 - 06 - 01)), None),
            Ok(()),
        );
        check(
            change(Some(Active), Removed, DuplicateMerged, date!(2026 - 09 - 01)),
            facts(None, None),
            Err(&["duplicate_merged"]),
        );
    }

    #[test]
    fn individual_removals_go_on_inside_the_quiet_period() {
        use StatusReason::*;
        let history = facts(None, Some(date!(2024 - 11 - 05)));
        check(change(Some(Active), Removed, Death, date!(2026 - 10 - 20)), history, Ok(()));
        check(change(Some(Active), Removed, VoterRequest, date!(2026 - 11 - 02)), history, Ok(()));
        check(change(Some(Inactive), Removed, FelonyConviction, date!(2026 - 09 - 15)), history, Ok(()));
        check(change(Some(Active), Removed, MovedConfirmedInWriting, date!(2026 - 10 - 30)), history, Ok(()));
        check(change(Some(Removed), Active, AdministrativeCorrection, date!(2026 - 10 - 30)), history, Ok(()));
    }

    #[test]
    fn the_quiet_period_runs_on_through_a_close_following_election() {
        // A runoff 70 days after the primary: its quiet period began before the primary.
        let calendar = [date!(2026 - 03 - 03), date!(2026 - 05 - 12)];
        let removal = change(Some(Inactive), Removed, StatusReason::ChangeOfAddressAfterNotice, date!(2026 - 02 - 01));
        let refusal = check_status_change(&removal, &silent_since_2021(), &calendar);
        assert_eq!(
            refusal,
            Err(LifecycleRefusal::QuietPeriod {
                reason: StatusReason::ChangeOfAddressAfterNotice,
                on: date!(2026 - 02 - 01),
                election: date!(2026 - 03 - 03),
                resumes_on: date!(2026 - 05 - 13),
            })
        );
    }

    #[test]
    fn the_regular_federal_general_election_counts_even_when_the_caller_omits_it() {
        let removal = change(Some(Inactive), Removed, StatusReason::ChangeOfAddressAfterNotice, date!(2026 - 08 - 20));
        let refusal = check_status_change(&removal, &silent_since_2021(), &[]);
        assert!(
            matches!(refusal, Err(LifecycleRefusal::QuietPeriod { election, .. }) if election == date!(2026 - 11 - 03))
        );
    }

    #[test]
    fn federal_general_elections_are_even_year_novembers() {
        let check = |start, end, expected: &[Date]| assert_eq!(federal_general_elections_between(start, end), expected);
        check(date!(2021 - 03 - 01), date!(2024 - 12 - 31), &[date!(2022 - 11 - 08), date!(2024 - 11 - 05)]);
        check(date!(2024 - 11 - 05), date!(2024 - 11 - 05), &[date!(2024 - 11 - 05)]);
        check(date!(2024 - 11 - 06), date!(2026 - 11 - 02), &[]);
        check(date!(2027 - 01 - 01), date!(2027 - 12 - 31), &[]);
        check(date!(2030 - 01 - 01), date!(2020 - 01 - 01), &[]);
        assert_eq!(second_federal_general_election_after(date!(2021 - 03 - 01)), Some(date!(2024 - 11 - 05)));
        assert_eq!(second_federal_general_election_after(date!(2024 - 11 - 05)), Some(date!(2028 - 11 - 07)));
    }

    #[test]
    fn only_bulk_programs_are_systematic() {
        let systematic: Vec<StatusReason> = StatusReason::ALL.into_iter().filter(|r| r.is_systematic()).collect();
        assert_eq!(
            systematic,
            [
                StatusReason::ChangeOfAddressAfterNotice,
                StatusReason::InactiveAfterConfirmationNotice,
                StatusReason::DuplicateMerged
            ]
        );
        for reason in StatusReason::ALL {
            assert!(!reason.description().is_empty() && reason.statute().starts_with("52 U.S.C."));
            assert!(!reason.allowed_transitions().is_empty());
        }
    }

    #[test]
    fn every_reason_code_round_trips() {
        // The match makes a new variant a compile error here until ALL lists it.
        let position = |reason: StatusReason| match reason {
            StatusReason::NewRegistration => 0,
            StatusReason::DeniedIneligible => 1,
            StatusReason::DeniedIncomplete => 2,
            StatusReason::DeniedNotVerified => 3,
            StatusReason::MovedWithinJurisdiction => 4,
            StatusReason::VoterRequest => 5,
            StatusReason::Death => 6,
            StatusReason::FelonyConviction => 7,
            StatusReason::MovedConfirmedInWriting => 8,
            StatusReason::ChangeOfAddressAfterNotice => 9,
            StatusReason::InactiveAfterConfirmationNotice => 10,
            StatusReason::ReactivatedByContact => 11,
            StatusReason::UocavaTemporary => 12,
            StatusReason::DuplicateMerged => 13,
            StatusReason::AdministrativeCorrection => 14,
        };
        let unknown = StatusReason::parse("nonsense").map(|_| ()).unwrap_err().to_string();
        for (index, reason) in StatusReason::ALL.into_iter().enumerate() {
            assert_eq!(position(reason), index);
            assert_eq!(StatusReason::parse(reason.as_str()), Ok(reason));
            assert_eq!(serde_json::to_string(&reason).unwrap(), format!("\"{}\"", reason.as_str()));
            assert!(unknown.contains(reason.as_str()), "{unknown}");
        }
    }

    proptest! {
        #[test]
        fn parse_accepts_only_canonical_codes(text in "[a-z_]{0,40}|\\PC{0,20}") {
            if let Ok(reason) = StatusReason::parse(&text) {
                prop_assert_eq!(reason.as_str(), text.as_str());
            }
        }
    }
}
