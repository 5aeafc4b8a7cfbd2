//! Duplicate detection as stored: candidate pairs of one roll whose blind indexes agree (name
//! and date of birth, or driver's licence number), and the clerks' decisions on them. Ids and
//! codes only; the indexes are compared inside the database and never leave it.

use canvass_core::id::JurisdictionId;

use crate::StoreError;

/// Which blind index two records share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DuplicateRule {
    /// Equal driver's licence number index.
    DriversLicence,
    /// Equal last name + first name + date of birth index.
    NameAndBirthDate,
}

impl DuplicateRule {
    /// In the order of their codes, which is the order candidates are listed in.
    pub const ALL: [Self; 2] = [Self::DriversLicence, Self::NameAndBirthDate];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DriversLicence => "drivers_licence",
            Self::NameAndBirthDate => "name_and_birth_date",
        }
    }

    pub fn parse(value: &str) -> Result<Self, StoreError> {
        Self::ALL
            .into_iter()
            .find(|rule| rule.as_str() == value)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown duplicate rule `{value}`")))
    }
}

/// What a clerk decided about a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateVerdict {
    /// One record kept, the other removed with reason `duplicate_merged`.
    Merged,
    /// Two different voters.
    Dismissed,
}

impl DuplicateVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Merged => "merged",
            Self::Dismissed => "dismissed",
        }
    }

    pub fn parse(value: &str) -> Result<Self, StoreError> {
        match value {
            "merged" => Ok(Self::Merged),
            "dismissed" => Ok(Self::Dismissed),
            other => Err(StoreError::Corrupt(format!("unknown duplicate decision `{other}`"))),
        }
    }
}

/// Two records of one roll whose `rule` index agrees; `first` sorts before `second` (byte
/// order). An index is truncated, so a candidate may be two different people: the caller opens
/// both records to confirm.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DuplicateCandidate {
    pub first: String,
    pub second: String,
    pub rule: DuplicateRule,
    /// The roll (key ring) both records are sealed under.
    pub roll: JurisdictionId,
}

/// A page of candidates: records of the rolls in `scope`'s tree (the jurisdiction and every
/// descendant: a roll is reached through its own jurisdiction or an ancestor, as for search and
/// status changes), not removed, pairs with no decision yet, after `after` in (first, second,
/// rule) order.
#[derive(Debug, Clone)]
pub struct DuplicateQuery<'a> {
    pub scope: &'a JurisdictionId,
    pub after: Option<(&'a str, &'a str, DuplicateRule)>,
    pub limit: u32,
}

/// A clerk's decision on a pair; never changed or deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateDecision {
    /// Assigned by the store, increasing; 0 in a decision not yet stored.
    pub id: i64,
    /// The jurisdiction the decision was made in (the tree it was listed from).
    pub jurisdiction: JurisdictionId,
    /// The pair, `first` sorting before `second`.
    pub first: String,
    pub second: String,
    pub verdict: DuplicateVerdict,
    /// For a merge, the record kept (one of the pair).
    pub kept: Option<String>,
    /// The clerk's written reason.
    pub reason: String,
    /// Who decided, as the ledger names them (`user:NAME`).
    pub actor: String,
    /// Unix milliseconds.
    pub decided_at: i64,
}

/// Checks a decision before it is written: an ordered pair of two records, a kept record that
/// is one of them exactly when merged. Both backends call it, so they refuse alike.
pub fn check_decision(decision: &DuplicateDecision) -> Result<(), StoreError> {
    let invalid = |reason: &str| Err(StoreError::Unsupported(format!("duplicate decision: {reason}")));
    if decision.first >= decision.second {
        return invalid("the pair's first registration number must sort before the second");
    }
    match (decision.verdict, decision.kept.as_deref()) {
        (DuplicateVerdict::Merged, Some(kept)) if kept == decision.first || kept == decision.second => Ok(()),
        (DuplicateVerdict::Merged, _) => invalid("a merge keeps one record of the pair"),
        (DuplicateVerdict::Dismissed, None) => Ok(()),
        (DuplicateVerdict::Dismissed, Some(_)) => invalid("a dismissal keeps no record"),
    }
}

/// The cursor as bound to the query: empty strings sort before every registration number.
pub fn cursor(after: Option<(&str, &str, DuplicateRule)>) -> (String, String, &'static str) {
    match after {
        Some((first, second, rule)) => (first.to_owned(), second.to_owned(), rule.as_str()),
        None => (String::new(), String::new(), ""),
    }
}
