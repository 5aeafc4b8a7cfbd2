//! The incident register's rules: severities, statuses and the steps between them, the classes
//! of data an incident can touch, and what counts as an escalation (which notifies the
//! jurisdiction's and its state's administrators again).

use std::fmt;

use crate::CoreError;

/// How bad an incident is, in increasing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Self; 4] = [Self::Low, Self::Medium, Self::High, Self::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    pub fn parse(value: &str) -> Result<Self, CoreError> {
        Self::ALL.into_iter().find(|severity| severity.as_str() == value).ok_or_else(|| CoreError::UnknownVariant {
            what: "incident severity",
            value: value.to_owned(),
            expected: "low, medium, high, critical",
        })
    }
}

/// Where an incident stands. Open: recorded, nobody on it yet; investigating: someone is
/// finding out what happened; contained: the harm is stopped, the follow-up is not finished;
/// closed: done (it can be reopened, which is an escalation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncidentStatus {
    Open,
    Investigating,
    Contained,
    Closed,
}

impl IncidentStatus {
    pub const ALL: [Self; 4] = [Self::Open, Self::Investigating, Self::Contained, Self::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Investigating => "investigating",
            Self::Contained => "contained",
            Self::Closed => "closed",
        }
    }

    pub fn parse(value: &str) -> Result<Self, CoreError> {
        Self::ALL.into_iter().find(|status| status.as_str() == value).ok_or_else(|| CoreError::UnknownVariant {
            what: "incident status",
            value: value.to_owned(),
            expected: "open, investigating, contained, closed",
        })
    }

    /// Whether an update may move an incident from `self` to `next`. Staying put is allowed (an
    /// update that only adds a note or counts). Nothing goes back to `open`: once someone is on
    /// it, it is at least investigating; a closed incident is reopened as investigating.
    pub fn may_become(self, next: Self) -> bool {
        use IncidentStatus::{Closed, Contained, Investigating, Open};
        self == next
            || matches!(
                (self, next),
                (Open, Investigating | Contained | Closed)
                    | (Investigating, Contained | Closed)
                    | (Contained, Investigating | Closed)
                    | (Closed, Investigating)
            )
    }

    pub fn is_finished(self) -> bool {
        self == Self::Closed
    }
}

impl fmt::Display for IncidentStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A class of data an incident may have exposed or endangered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DataClass {
    /// Confidential voter fields (date of birth, SSN digits, licence, email, protected addresses).
    VoterConfidential,
    /// Public-record voter fields.
    VoterPublic,
    Results,
    Ledger,
    Credentials,
    Backup,
}

impl DataClass {
    pub const ALL: [Self; 6] =
        [Self::VoterConfidential, Self::VoterPublic, Self::Results, Self::Ledger, Self::Credentials, Self::Backup];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::VoterConfidential => "voter_confidential",
            Self::VoterPublic => "voter_public",
            Self::Results => "results",
            Self::Ledger => "ledger",
            Self::Credentials => "credentials",
            Self::Backup => "backup",
        }
    }

    pub fn parse(value: &str) -> Result<Self, CoreError> {
        Self::ALL.into_iter().find(|class| class.as_str() == value).ok_or_else(|| CoreError::UnknownVariant {
            what: "data class",
            value: value.to_owned(),
            expected: "voter_confidential, voter_public, results, ledger, credentials, backup",
        })
    }

    /// A comma- or space-separated list, as typed on a form or the command line.
    pub fn parse_list(value: &str) -> Result<Vec<Self>, CoreError> {
        let mut classes = value
            .split([',', ' '])
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(Self::parse)
            .collect::<Result<Vec<_>, _>>()?;
        classes.sort();
        classes.dedup();
        Ok(classes)
    }
}

/// An incident's state at one revision: what an update changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentState {
    pub status: IncidentStatus,
    pub severity: Severity,
    pub records_affected: u64,
    pub data_classes: Vec<DataClass>,
    pub actions_taken: String,
}

/// Why an update is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateProblem {
    /// The status cannot go from the first to the second.
    Transition(IncidentStatus, IncidentStatus),
    /// An update must say something: a change or a note.
    Empty,
}

impl fmt::Display for UpdateProblem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transition(from, to) => write!(formatter, "an incident cannot go from {from} to {to}"),
            Self::Empty => formatter.write_str("an update must change something or add a public or internal note"),
        }
    }
}

/// Checks an update from `before` to `after` with its notes.
pub fn check_update(before: &IncidentState, after: &IncidentState, has_note: bool) -> Result<(), UpdateProblem> {
    if !before.status.may_become(after.status) {
        return Err(UpdateProblem::Transition(before.status, after.status));
    }
    if before == after && !has_note {
        return Err(UpdateProblem::Empty);
    }
    Ok(())
}

/// Whether an update escalates: a higher severity, or a closed incident reopened. Escalations
/// notify the administrators as a new incident does.
pub fn is_escalation(before: &IncidentState, after: &IncidentState) -> bool {
    after.severity > before.severity || (before.status.is_finished() && !after.status.is_finished())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(status: IncidentStatus, severity: Severity) -> IncidentState {
        IncidentState { status, severity, records_affected: 0, data_classes: Vec::new(), actions_taken: String::new() }
    }

    #[test]
    fn transitions_go_forward_and_reopen_only_as_investigating() {
        use IncidentStatus::*;
        let allowed: Vec<(IncidentStatus, IncidentStatus)> = IncidentStatus::ALL
            .into_iter()
            .flat_map(|from| IncidentStatus::ALL.into_iter().map(move |to| (from, to)))
            .filter(|(from, to)| from != to && from.may_become(*to))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Open, Investigating),
                (Open, Contained),
                (Open, Closed),
                (Investigating, Contained),
                (Investigating, Closed),
                (Contained, Investigating),
                (Contained, Closed),
                (Closed, Investigating),
            ]
        );
    }

    #[test]
    fn escalation_is_a_higher_severity_or_a_reopening() {
        use IncidentStatus::*;
        use Severity::*;
        assert!(is_escalation(&state(Open, Medium), &state(Open, High)));
        assert!(!is_escalation(&state(Open, High), &state(Open, Medium)));
        assert!(!is_escalation(&state(Open, High), &state(Contained, High)));
        assert!(is_escalation(&state(Closed, Low), &state(Investigating, Low)));
        assert!(!is_escalation(&state(Investigating, Low), &state(Closed, Low)));
    }

    #[test]
    fn an_update_must_change_or_say_something() {
        use IncidentStatus::*;
        use Severity::Low;
        let before = state(Open, Low);
        assert_eq!(check_update(&before, &before, false), Err(UpdateProblem::Empty));
        assert_eq!(check_update(&before, &before, true), Ok(()));
        assert_eq!(
            check_update(&state(Closed, Low), &state(Contained, Low), true),
            Err(UpdateProblem::Transition(Closed, Contained))
        );
    }

    #[test]
    fn names_round_trip_and_unknown_ones_are_refused() {
        for class in DataClass::ALL {
            assert_eq!(DataClass::parse(class.as_str()), Ok(class));
        }
        assert_eq!(
            DataClass::parse_list("voter_public, ledger voter_public"),
            Ok(vec![DataClass::VoterPublic, DataClass::Ledger])
        );
        assert!(DataClass::parse_list("ledger,passwords").is_err());
        assert!(Severity::parse("severe").is_err());
        assert!(IncidentStatus::parse("OPEN").is_err());
    }
}
