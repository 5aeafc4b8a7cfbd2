//! Absentee and provisional ballot tracking: the states a ballot passes through, the rules for
//! moving between them (cures and their deadline), and the one line the public "Did my ballot
//! count?" page may show (HAVA section 302(a)(5)(B), 52 U.S.C. 21082(a)(5)(B)).

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use crate::{CoreError, lifecycle::written_date};

/// Why a returned absentee ballot was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionReason {
    MissingSignature,
    SignatureMismatch,
    MissingWitness,
    LateArrival,
    VoterNotRegistered,
    BallotAlreadyCast,
    Other,
}

impl RejectionReason {
    pub const ALL: [Self; 7] = [
        Self::MissingSignature,
        Self::SignatureMismatch,
        Self::MissingWitness,
        Self::LateArrival,
        Self::VoterNotRegistered,
        Self::BallotAlreadyCast,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingSignature => "missing_signature",
            Self::SignatureMismatch => "signature_mismatch",
            Self::MissingWitness => "missing_witness",
            Self::LateArrival => "late_arrival",
            Self::VoterNotRegistered => "voter_not_registered",
            Self::BallotAlreadyCast => "ballot_already_cast",
            Self::Other => "other",
        }
    }

    pub fn parse(value: &str) -> Result<Self, CoreError> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == value).ok_or_else(|| CoreError::UnknownVariant {
            what: "rejection reason",
            value: value.to_owned(),
            expected: "missing_signature, signature_mismatch, missing_witness, late_arrival, voter_not_registered, \
                       ballot_already_cast, other",
        })
    }

    /// Whether the voter can fix the envelope (a cure affidavit or the missing details) so this
    /// ballot counts. Lateness, eligibility and a ballot already counted are facts no paper
    /// changes; an unnamed reason promises nothing.
    pub fn is_curable(self) -> bool {
        matches!(self, Self::MissingSignature | Self::SignatureMismatch | Self::MissingWitness)
    }

    /// The reason in words a voter reads, completing "Your ballot was rejected: ...".
    fn public_explanation(self) -> Option<&'static str> {
        match self {
            Self::MissingSignature => Some("the envelope was not signed"),
            Self::SignatureMismatch => Some("the signature on the envelope did not match the one on file"),
            Self::MissingWitness => Some("the witness section of the envelope was not complete"),
            Self::LateArrival => Some("it arrived after the deadline"),
            Self::VoterNotRegistered => Some("our records do not show you registered to vote in this election"),
            Self::BallotAlreadyCast => Some("a ballot from you had already been counted in this election"),
            Self::Other => None,
        }
    }
}

/// Where an absentee (mail or early by mail) ballot stands. Stored as its `as_str` code; a
/// rejection carries its reason in the code (`rejected:missing_signature`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum AbsenteeStatus {
    Requested,
    Sent,
    Returned,
    Accepted,
    Rejected { reason: RejectionReason },
    Cured,
    Cancelled,
}

impl AbsenteeStatus {
    pub const ALL: [Self; 13] = [
        Self::Requested,
        Self::Sent,
        Self::Returned,
        Self::Accepted,
        Self::Rejected { reason: RejectionReason::MissingSignature },
        Self::Rejected { reason: RejectionReason::SignatureMismatch },
        Self::Rejected { reason: RejectionReason::MissingWitness },
        Self::Rejected { reason: RejectionReason::LateArrival },
        Self::Rejected { reason: RejectionReason::VoterNotRegistered },
        Self::Rejected { reason: RejectionReason::BallotAlreadyCast },
        Self::Rejected { reason: RejectionReason::Other },
        Self::Cured,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Sent => "sent",
            Self::Returned => "returned",
            Self::Accepted => "accepted",
            Self::Rejected { reason } => match reason {
                RejectionReason::MissingSignature => "rejected:missing_signature",
                RejectionReason::SignatureMismatch => "rejected:signature_mismatch",
                RejectionReason::MissingWitness => "rejected:missing_witness",
                RejectionReason::LateArrival => "rejected:late_arrival",
                RejectionReason::VoterNotRegistered => "rejected:voter_not_registered",
                RejectionReason::BallotAlreadyCast => "rejected:ballot_already_cast",
                RejectionReason::Other => "rejected:other",
            },
            Self::Cured => "cured",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(value: &str) -> Result<Self, CoreError> {
        Self::ALL.into_iter().find(|status| status.as_str() == value).ok_or_else(|| CoreError::UnknownVariant {
            what: "absentee ballot status",
            value: value.to_owned(),
            expected: "requested, sent, returned, accepted, rejected:missing_signature, rejected:signature_mismatch, \
                       rejected:missing_witness, rejected:late_arrival, rejected:voter_not_registered, \
                       rejected:ballot_already_cast, rejected:other, cured, cancelled",
        })
    }

    /// The status in a few words, for staff messages.
    fn label(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Sent => "sent",
            Self::Returned => "returned",
            Self::Accepted => "accepted",
            Self::Rejected { .. } => "rejected",
            Self::Cured => "cured",
            Self::Cancelled => "cancelled",
        }
    }

    /// Where a ballot may go next, in words, for a refusal's second sentence.
    fn next_steps(self) -> &'static str {
        match self {
            Self::Requested => "From requested it can be sent or cancelled.",
            Self::Sent => "From sent it can be returned or cancelled.",
            Self::Returned => "From returned it must be accepted or rejected.",
            Self::Rejected { .. } => "From rejected it can be cured (when the reason allows) or cancelled.",
            Self::Cured => "From cured it must be accepted or rejected.",
            Self::Accepted => "An accepted ballot is final and will be counted.",
            Self::Cancelled => "A cancelled ballot is final; issue a new ballot instead.",
        }
    }
}

impl TryFrom<String> for AbsenteeStatus {
    type Error = CoreError;
    fn try_from(value: String) -> Result<Self, CoreError> {
        Self::parse(&value)
    }
}

impl From<AbsenteeStatus> for &'static str {
    fn from(status: AbsenteeStatus) -> &'static str {
        status.as_str()
    }
}

/// How long after election day a voter may cure a rejected envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurePolicy {
    pub days_after_election: u16,
}

impl Default for CurePolicy {
    /// North Carolina: the county canvass meets on the tenth day after the election
    /// (G.S. 163-182.5(b)) and cure documents must arrive by the day before it.
    fn default() -> Self {
        Self { days_after_election: 9 }
    }
}

impl CurePolicy {
    /// The last day a cure is accepted.
    pub fn cure_deadline(self, election_date: Date) -> Date {
        election_date.saturating_add(Duration::days(i64::from(self.days_after_election)))
    }
}

/// Why an absentee or provisional ballot's status may not change. `Display` is a sentence for
/// the staff member making the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BallotRefusal {
    AbsenteeNotAllowed {
        from: AbsenteeStatus,
        to: AbsenteeStatus,
    },
    NotCurable {
        reason: RejectionReason,
    },
    CureDeadlinePassed {
        deadline: Date,
        today: Date,
    },
    ProvisionalNotAllowed {
        from: ProvisionalStatus,
        to: ProvisionalStatus,
    },
    /// An absentee step asked of a provisional ballot, or the reverse.
    KindMismatch {
        kind: BallotKind,
    },
}

/// Checks one absentee ballot status change made on `today` for the election on `election_date`.
pub fn check_transition(
    from: AbsenteeStatus,
    to: AbsenteeStatus,
    today: Date,
    policy: CurePolicy,
    election_date: Date,
) -> Result<(), BallotRefusal> {
    use AbsenteeStatus::{Accepted, Cancelled, Cured, Rejected, Requested, Returned, Sent};
    let allowed = matches!(
        (from, to),
        (Requested, Sent | Cancelled)
            | (Sent, Returned | Cancelled)
            | (Returned, Accepted | Rejected { .. })
            | (Rejected { .. }, Cured | Cancelled)
            // A cure that fails (an unsigned affidavit) rejects the ballot again.
            | (Cured, Accepted | Rejected { .. })
    );
    if !allowed {
        return Err(BallotRefusal::AbsenteeNotAllowed { from, to });
    }
    if let (Rejected { reason }, Cured) = (from, to) {
        if !reason.is_curable() {
            return Err(BallotRefusal::NotCurable { reason });
        }
        let deadline = policy.cure_deadline(election_date);
        if today > deadline {
            return Err(BallotRefusal::CureDeadlinePassed { deadline, today });
        }
    }
    Ok(())
}

/// Checks one provisional ballot decision: the county board decides a cast ballot once.
pub fn check_provisional_transition(from: ProvisionalStatus, to: ProvisionalStatus) -> Result<(), BallotRefusal> {
    match (from, to) {
        (ProvisionalStatus::Cast, decided) if decided != ProvisionalStatus::Cast => Ok(()),
        _ => Err(BallotRefusal::ProvisionalNotAllowed { from, to }),
    }
}

impl fmt::Display for BallotRefusal {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::AbsenteeNotAllowed { from, to } => write!(
                formatter,
                "An absentee ballot cannot go from {} to {}. {}",
                from.label(),
                to.label(),
                from.next_steps()
            ),
            Self::NotCurable { reason } => write!(
                formatter,
                "A ballot rejected for \"{}\" cannot be cured; only a missing signature, a signature mismatch \
                 or an incomplete witness section can.",
                reason.as_str()
            ),
            Self::CureDeadlinePassed { deadline, today } => write!(
                formatter,
                "The cure deadline was {}; a cure cannot be recorded on {}.",
                written_date(deadline),
                written_date(today)
            ),
            Self::ProvisionalNotAllowed { from, to } => write!(
                formatter,
                "A provisional ballot cannot go from {} to {}: a cast ballot is decided once, as counted, \
                 partially counted or not counted.",
                from.as_str(),
                to.as_str()
            ),
            Self::KindMismatch { kind } => {
                write!(
                    formatter,
                    "This is {} ballot: that step belongs to the other kind.",
                    match kind {
                        BallotKind::Absentee => "an absentee",
                        BallotKind::Provisional => "a provisional",
                    }
                )
            }
        }
    }
}

impl std::error::Error for BallotRefusal {}

/// Why a provisional ballot was not (fully) counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProvisionalReason {
    NotRegistered,
    WrongPrecinct,
    IdNotProvided,
    AlreadyVoted,
    Other,
}

impl ProvisionalReason {
    pub const ALL: [Self; 5] =
        [Self::NotRegistered, Self::WrongPrecinct, Self::IdNotProvided, Self::AlreadyVoted, Self::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotRegistered => "not_registered",
            Self::WrongPrecinct => "wrong_precinct",
            Self::IdNotProvided => "id_not_provided",
            Self::AlreadyVoted => "already_voted",
            Self::Other => "other",
        }
    }

    pub fn parse(value: &str) -> Result<Self, CoreError> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == value).ok_or_else(|| CoreError::UnknownVariant {
            what: "provisional ballot reason",
            value: value.to_owned(),
            expected: "not_registered, wrong_precinct, id_not_provided, already_voted, other",
        })
    }

    /// Completes "Your provisional ballot was not counted because ...".
    fn public_explanation(self) -> Option<&'static str> {
        match self {
            Self::NotRegistered => Some("our records do not show you registered to vote in this county"),
            Self::WrongPrecinct => Some("it was cast outside your precinct and held no contest you could vote in"),
            Self::IdNotProvided => Some("the required ID was not shown by the deadline"),
            Self::AlreadyVoted => Some("a ballot from you had already been counted in this election"),
            Self::Other => None,
        }
    }
}

/// Where a provisional ballot stands. Stored as its `as_str` code (`not_counted:wrong_precinct`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum ProvisionalStatus {
    Cast,
    Counted,
    /// Cast outside the voter's precinct: only the contests the voter was eligible for count.
    PartiallyCounted,
    NotCounted {
        reason: ProvisionalReason,
    },
}

impl ProvisionalStatus {
    pub const ALL: [Self; 8] = [
        Self::Cast,
        Self::Counted,
        Self::PartiallyCounted,
        Self::NotCounted { reason: ProvisionalReason::NotRegistered },
        Self::NotCounted { reason: ProvisionalReason::WrongPrecinct },
        Self::NotCounted { reason: ProvisionalReason::IdNotProvided },
        Self::NotCounted { reason: ProvisionalReason::AlreadyVoted },
        Self::NotCounted { reason: ProvisionalReason::Other },
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cast => "cast",
            Self::Counted => "counted",
            Self::PartiallyCounted => "partially_counted",
            Self::NotCounted { reason } => match reason {
                ProvisionalReason::NotRegistered => "not_counted:not_registered",
                ProvisionalReason::WrongPrecinct => "not_counted:wrong_precinct",
                ProvisionalReason::IdNotProvided => "not_counted:id_not_provided",
                ProvisionalReason::AlreadyVoted => "not_counted:already_voted",
                ProvisionalReason::Other => "not_counted:other",
            },
        }
    }

    pub fn parse(value: &str) -> Result<Self, CoreError> {
        Self::ALL.into_iter().find(|status| status.as_str() == value).ok_or_else(|| CoreError::UnknownVariant {
            what: "provisional ballot status",
            value: value.to_owned(),
            expected: "cast, counted, partially_counted, not_counted:not_registered, not_counted:wrong_precinct, \
                       not_counted:id_not_provided, not_counted:already_voted, not_counted:other",
        })
    }
}

impl TryFrom<String> for ProvisionalStatus {
    type Error = CoreError;
    fn try_from(value: String) -> Result<Self, CoreError> {
        Self::parse(&value)
    }
}

impl From<ProvisionalStatus> for &'static str {
    fn from(status: ProvisionalStatus) -> &'static str {
        status.as_str()
    }
}

/// The two kinds of ballot tracked one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BallotKind {
    /// By mail (North Carolina's absentee by mail, early by mail elsewhere).
    Absentee,
    Provisional,
}

impl BallotKind {
    pub const ALL: [Self; 2] = [Self::Absentee, Self::Provisional];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Absentee => "absentee",
            Self::Provisional => "provisional",
        }
    }

    pub fn parse(value: &str) -> Result<Self, CoreError> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value).ok_or_else(|| CoreError::UnknownVariant {
            what: "ballot kind",
            value: value.to_owned(),
            expected: "absentee, provisional",
        })
    }
}

/// A ballot's status, whichever its kind: what a store row and a history row hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BallotStatus {
    Absentee(AbsenteeStatus),
    Provisional(ProvisionalStatus),
}

impl BallotStatus {
    pub fn kind(self) -> BallotKind {
        match self {
            Self::Absentee(_) => BallotKind::Absentee,
            Self::Provisional(_) => BallotKind::Provisional,
        }
    }

    /// The stored code (`rejected:missing_signature`, `not_counted:wrong_precinct`); the kind is
    /// stored beside it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Absentee(status) => status.as_str(),
            Self::Provisional(status) => status.as_str(),
        }
    }

    pub fn parse(kind: BallotKind, code: &str) -> Result<Self, CoreError> {
        match kind {
            BallotKind::Absentee => AbsenteeStatus::parse(code).map(Self::Absentee),
            BallotKind::Provisional => ProvisionalStatus::parse(code).map(Self::Provisional),
        }
    }

    /// A ballot no later step changes: accepted, cancelled, or a provisional ballot decided.
    /// (A rejected absentee ballot is not final: it may be cured or cancelled.)
    pub fn is_final(self) -> bool {
        match self {
            Self::Absentee(status) => matches!(status, AbsenteeStatus::Accepted | AbsenteeStatus::Cancelled),
            Self::Provisional(status) => status != ProvisionalStatus::Cast,
        }
    }

    /// The cure deadline this status carries: a curable rejection's, under `policy`.
    pub fn cure_deadline(self, policy: CurePolicy, election_date: Date) -> Option<Date> {
        match self {
            Self::Absentee(AbsenteeStatus::Rejected { reason }) if reason.is_curable() => {
                Some(policy.cure_deadline(election_date))
            }
            _ => None,
        }
    }

    /// The public page's line for this status on `today`.
    pub fn public(self, today: Date, policy: CurePolicy, election_date: Date) -> PublicBallotStatus {
        match self {
            Self::Absentee(status) => PublicBallotStatus::absentee(status, today, policy, election_date),
            Self::Provisional(status) => PublicBallotStatus::provisional(status),
        }
    }

    /// Checks one change of status made on `today`: the kind cannot change, and each kind's
    /// rules apply.
    pub fn check_change(
        self,
        to: Self,
        today: Date,
        policy: CurePolicy,
        election_date: Date,
    ) -> Result<(), BallotRefusal> {
        match (self, to) {
            (Self::Absentee(from), Self::Absentee(to)) => check_transition(from, to, today, policy, election_date),
            (Self::Provisional(from), Self::Provisional(to)) => check_provisional_transition(from, to),
            _ => Err(BallotRefusal::KindMismatch { kind: self.kind() }),
        }
    }
}

/// What the public "Did my ballot count?" page shows for one ballot: its status code and one
/// plain-language line. Built only from a status and dates, so it cannot carry a name, an
/// address or any other personal data; HAVA 302(a)(5)(B) restricts a ballot's status to the
/// voter who cast it, and the page shows nothing more than that status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicBallotStatus {
    status: &'static str,
    line: String,
}

const CONTACT: &str = "contact your county board of elections";

impl PublicBallotStatus {
    /// The line for an absentee ballot, as of `today`, for the election on `election_date`.
    pub fn absentee(status: AbsenteeStatus, today: Date, policy: CurePolicy, election_date: Date) -> Self {
        let line = match status {
            AbsenteeStatus::Requested => {
                "Your absentee ballot request was received. Your ballot has not been mailed yet.".to_owned()
            }
            AbsenteeStatus::Sent => "Your absentee ballot has been mailed to you.".to_owned(),
            AbsenteeStatus::Returned => {
                "Your absentee ballot was received and is waiting for review by your county board.".to_owned()
            }
            AbsenteeStatus::Accepted => "Your absentee ballot was accepted and will be counted.".to_owned(),
            AbsenteeStatus::Rejected { reason } => {
                let deadline = policy.cure_deadline(election_date);
                match (reason.public_explanation(), reason.is_curable()) {
                    (Some(why), true) if today <= deadline => format!(
                        "Your ballot was rejected: {why}. You can fix this until {}: {CONTACT}.",
                        written_date(deadline)
                    ),
                    (Some(why), true) => format!(
                        "Your ballot was rejected: {why}. The deadline to fix this was {}, so it will not be counted.",
                        written_date(deadline)
                    ),
                    (Some(why), false) => {
                        format!("Your ballot was rejected: {why}. It will not be counted. For questions, {CONTACT}.")
                    }
                    (None, _) => format!("Your ballot was rejected. To find out why and what you can do, {CONTACT}."),
                }
            }
            AbsenteeStatus::Cured => {
                "Your correction was received. Your absentee ballot is waiting for final review by your county board."
                    .to_owned()
            }
            AbsenteeStatus::Cancelled => {
                format!(
                    "Your absentee ballot was cancelled and will not be counted. If you did not expect this, {CONTACT}."
                )
            }
        };
        Self { status: status.as_str(), line }
    }

    /// The line for a provisional ballot (HAVA 302(a)(5)(B): whether it counted and, if not, why).
    pub fn provisional(status: ProvisionalStatus) -> Self {
        let line = match status {
            ProvisionalStatus::Cast => {
                "Your provisional ballot was received and is being reviewed by your county board.".to_owned()
            }
            ProvisionalStatus::Counted => "Your provisional ballot was counted.".to_owned(),
            ProvisionalStatus::PartiallyCounted => {
                "Your provisional ballot was partly counted: the contests you were eligible to vote in were counted."
                    .to_owned()
            }
            ProvisionalStatus::NotCounted { reason } => match reason.public_explanation() {
                Some(why) => format!("Your provisional ballot was not counted because {why}."),
                None => format!("Your provisional ballot was not counted. To find out why, {CONTACT}."),
            },
        };
        Self { status: status.as_str(), line }
    }

    /// The ballot's stored status code, for the page's styling.
    pub fn status(&self) -> &'static str {
        self.status
    }

    pub fn line(&self) -> &str {
        &self.line
    }
}

impl fmt::Display for PublicBallotStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AbsenteeStatus::{Accepted, Cancelled, Cured, Rejected, Requested, Returned, Sent};
    use RejectionReason::{LateArrival, MissingSignature, MissingWitness, Other, SignatureMismatch};
    use proptest::prelude::*;
    use time::macros::date;

    const ELECTION_DAY: Date = date!(2026 - 11 - 03);

    fn rejected(reason: RejectionReason) -> AbsenteeStatus {
        Rejected { reason }
    }

    /// Checks one absentee change on `today` under the North Carolina policy; a refusal's
    /// sentence must contain every fragment.
    fn check(from: AbsenteeStatus, to: AbsenteeStatus, today: Date, expected: Result<(), &[&str]>) {
        let actual = check_transition(from, to, today, CurePolicy::default(), ELECTION_DAY);
        match (&actual, expected) {
            (Ok(()), Ok(())) => {}
            (Err(refusal), Err(fragments)) => {
                let sentence = refusal.to_string();
                for fragment in fragments {
                    assert!(sentence.contains(fragment), "{from:?} -> {to:?}: `{sentence}` lacks `{fragment}`");
                }
            }
            _ => panic!("{from:?} -> {to:?} on {today}: got {actual:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn absentee_ballots_move_forward_only() {
        let today = date!(2026 - 10 - 20);
        check(Requested, Sent, today, Ok(()));
        check(Requested, Cancelled, today, Ok(()));
        check(Sent, Returned, today, Ok(()));
        check(Sent, Cancelled, today, Ok(()));
        check(Returned, Accepted, today, Ok(()));
        check(Returned, rejected(MissingSignature), today, Ok(()));
        check(rejected(MissingSignature), Cured, today, Ok(()));
        check(rejected(LateArrival), Cancelled, today, Ok(()));
        check(Cured, Accepted, today, Ok(()));
        check(Cured, rejected(SignatureMismatch), today, Ok(()));
        check(Requested, Returned, today, Err(&["from requested to returned", "sent or cancelled"]));
        check(Sent, Accepted, today, Err(&["from sent to accepted"]));
        check(Returned, Returned, today, Err(&["accepted or rejected"]));
        check(Returned, Cancelled, today, Err(&["from returned to cancelled"]));
        check(rejected(MissingSignature), Accepted, today, Err(&["from rejected to accepted", "cured"]));
        check(Accepted, rejected(Other), today, Err(&["accepted ballot is final"]));
        check(Accepted, Cancelled, today, Err(&["final"]));
        for to in AbsenteeStatus::ALL {
            check(Cancelled, to, today, Err(&["cancelled ballot is final"]));
        }
    }

    #[test]
    fn only_curable_rejections_are_cured_and_only_until_the_deadline() {
        // North Carolina: nine days after the 2026-11-03 election.
        assert_eq!(CurePolicy::default().cure_deadline(ELECTION_DAY), date!(2026 - 11 - 12));
        check(rejected(MissingWitness), Cured, date!(2026 - 11 - 12), Ok(()));
        check(
            rejected(SignatureMismatch),
            Cured,
            date!(2026 - 11 - 13),
            Err(&["November 12, 2026", "November 13, 2026"]),
        );
        check(rejected(LateArrival), Cured, date!(2026 - 10 - 20), Err(&["late_arrival", "cannot be cured"]));
        check(rejected(Other), Cured, date!(2026 - 10 - 20), Err(&["cannot be cured"]));
        let short = CurePolicy { days_after_election: 3 };
        assert_eq!(short.cure_deadline(ELECTION_DAY), date!(2026 - 11 - 06));
        assert!(
            check_transition(rejected(MissingSignature), Cured, date!(2026 - 11 - 07), short, ELECTION_DAY).is_err()
        );
        assert_eq!(CurePolicy { days_after_election: 0 }.cure_deadline(ELECTION_DAY), ELECTION_DAY);
        let curable: Vec<RejectionReason> = RejectionReason::ALL.into_iter().filter(|r| r.is_curable()).collect();
        assert_eq!(curable, [MissingSignature, SignatureMismatch, MissingWitness]);
    }

    #[test]
    fn provisional_ballots_are_decided_once() {
        use ProvisionalStatus::{Cast, Counted, NotCounted, PartiallyCounted};
        let wrong_precinct = NotCounted { reason: ProvisionalReason::WrongPrecinct };
        assert_eq!(check_provisional_transition(Cast, Counted), Ok(()));
        assert_eq!(check_provisional_transition(Cast, PartiallyCounted), Ok(()));
        assert_eq!(check_provisional_transition(Cast, wrong_precinct), Ok(()));
        for from in [Counted, PartiallyCounted, wrong_precinct, Cast] {
            for to in [Cast, Counted, PartiallyCounted, wrong_precinct] {
                if from == Cast && to != Cast {
                    continue;
                }
                let refusal = check_provisional_transition(from, to).map_err(|refusal| refusal.to_string());
                assert!(refusal.is_err_and(|sentence| sentence.contains("decided once")), "{from:?} -> {to:?}");
            }
        }
    }

    fn check_public(status: PublicBallotStatus, expected: &str) {
        assert_eq!(status.line(), expected);
        assert_eq!(status.to_string(), expected);
    }

    #[test]
    fn the_public_page_says_plainly_what_happened() {
        let absentee = |status, today| PublicBallotStatus::absentee(status, today, CurePolicy::default(), ELECTION_DAY);
        let before = date!(2026 - 11 - 05);
        let after = date!(2026 - 11 - 13);
        check_public(absentee(Accepted, before), "Your absentee ballot was accepted and will be counted.");
        check_public(
            absentee(rejected(MissingSignature), before),
            "Your ballot was rejected: the envelope was not signed. You can fix this until November 12, 2026: \
             contact your county board of elections.",
        );
        check_public(
            absentee(rejected(MissingSignature), after),
            "Your ballot was rejected: the envelope was not signed. The deadline to fix this was November 12, 2026, \
             so it will not be counted.",
        );
        check_public(
            absentee(rejected(LateArrival), before),
            "Your ballot was rejected: it arrived after the deadline. It will not be counted. For questions, contact \
             your county board of elections.",
        );
        check_public(
            absentee(rejected(Other), before),
            "Your ballot was rejected. To find out why and what you can do, contact your county board of elections.",
        );
        check_public(
            PublicBallotStatus::provisional(ProvisionalStatus::NotCounted { reason: ProvisionalReason::NotRegistered }),
            "Your provisional ballot was not counted because our records do not show you registered to vote in this \
             county.",
        );
        check_public(
            PublicBallotStatus::provisional(ProvisionalStatus::Counted),
            "Your provisional ballot was counted.",
        );
        for status in AbsenteeStatus::ALL {
            let public = absentee(status, before);
            assert_eq!(public.status(), status.as_str());
            assert!(public.line().starts_with("Your ") && public.line().ends_with('.'), "{public}");
        }
        for status in ProvisionalStatus::ALL {
            let public = PublicBallotStatus::provisional(status);
            assert!(public.line().starts_with("Your provisional ballot") && public.line().ends_with('.'), "{public}");
        }
    }

    #[test]
    fn the_public_status_holds_only_a_code_and_a_line() {
        let public = PublicBallotStatus::absentee(Accepted, ELECTION_DAY, CurePolicy::default(), ELECTION_DAY);
        let json = serde_json::to_value(&public).unwrap();
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["line", "status"]);
    }

    #[test]
    fn every_code_round_trips() {
        // The matches make a new variant a compile error here until ALL lists it.
        let rejection_position = |reason: RejectionReason| match reason {
            MissingSignature => 0,
            SignatureMismatch => 1,
            MissingWitness => 2,
            LateArrival => 3,
            RejectionReason::VoterNotRegistered => 4,
            RejectionReason::BallotAlreadyCast => 5,
            Other => 6,
        };
        let provisional_position = |reason: ProvisionalReason| match reason {
            ProvisionalReason::NotRegistered => 0,
            ProvisionalReason::WrongPrecinct => 1,
            ProvisionalReason::IdNotProvided => 2,
            ProvisionalReason::AlreadyVoted => 3,
            ProvisionalReason::Other => 4,
        };
        // A new plain variant fails to compile here until it is counted and listed in ALL.
        let absentee_plain = |status: AbsenteeStatus| match status {
            Requested | Sent | Returned | Accepted | Cured | Cancelled => true,
            Rejected { .. } => false,
        };
        let provisional_plain = |status: ProvisionalStatus| match status {
            ProvisionalStatus::Cast | ProvisionalStatus::Counted | ProvisionalStatus::PartiallyCounted => true,
            ProvisionalStatus::NotCounted { .. } => false,
        };
        assert_eq!(AbsenteeStatus::ALL.into_iter().filter(|status| absentee_plain(*status)).count(), 6);
        assert_eq!(AbsenteeStatus::ALL.len(), 6 + RejectionReason::ALL.len());
        assert_eq!(ProvisionalStatus::ALL.into_iter().filter(|status| provisional_plain(*status)).count(), 3);
        assert_eq!(ProvisionalStatus::ALL.len(), 3 + ProvisionalReason::ALL.len());
        for reason in RejectionReason::ALL {
            assert!(AbsenteeStatus::ALL.contains(&rejected(reason)));
        }
        for reason in ProvisionalReason::ALL {
            assert!(ProvisionalStatus::ALL.contains(&ProvisionalStatus::NotCounted { reason }));
        }

        fn round_trip<T: Copy + PartialEq + fmt::Debug + Serialize>(
            all: &[T],
            as_str: fn(T) -> &'static str,
            parse: fn(&str) -> Result<T, CoreError>,
        ) {
            let unknown = parse("nonsense").map(|_| ()).unwrap_err().to_string();
            for value in all {
                assert_eq!(parse(as_str(*value)), Ok(*value));
                assert_eq!(serde_json::to_string(value).unwrap(), format!("\"{}\"", as_str(*value)));
                assert!(unknown.contains(as_str(*value)), "{unknown}");
            }
        }
        for (index, reason) in RejectionReason::ALL.into_iter().enumerate() {
            assert_eq!(rejection_position(reason), index);
        }
        for (index, reason) in ProvisionalReason::ALL.into_iter().enumerate() {
            assert_eq!(provisional_position(reason), index);
        }
        round_trip(&RejectionReason::ALL, RejectionReason::as_str, RejectionReason::parse);
        round_trip(&AbsenteeStatus::ALL, AbsenteeStatus::as_str, AbsenteeStatus::parse);
        round_trip(&ProvisionalReason::ALL, ProvisionalReason::as_str, ProvisionalReason::parse);
        round_trip(&ProvisionalStatus::ALL, ProvisionalStatus::as_str, ProvisionalStatus::parse);
        let parsed: AbsenteeStatus = serde_json::from_str("\"rejected:missing_witness\"").unwrap();
        assert_eq!(parsed, rejected(MissingWitness));
        assert!(serde_json::from_str::<AbsenteeStatus>("\"rejected\"").is_err());
    }

    proptest! {
        #[test]
        fn parse_accepts_only_canonical_codes(text in "[a-z_:]{0,40}|\\PC{0,20}") {
            if let Ok(status) = AbsenteeStatus::parse(&text) {
                prop_assert_eq!(status.as_str(), text.as_str());
            }
            if let Ok(status) = ProvisionalStatus::parse(&text) {
                prop_assert_eq!(status.as_str(), text.as_str());
            }
            if let Ok(reason) = RejectionReason::parse(&text) {
                prop_assert_eq!(reason.as_str(), text.as_str());
            }
            if let Ok(reason) = ProvisionalReason::parse(&text) {
                prop_assert_eq!(reason.as_str(), text.as_str());
            }
        }
    }
}
