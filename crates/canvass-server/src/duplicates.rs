//! Duplicate detection across a jurisdiction tree: the store pairs records of one roll whose
//! blind indexes agree (last name + first name + date of birth, or driver's licence number);
//! the records are opened here to drop the indexes' deliberate false positives; a clerk merges
//! a pair (the other record is removed with reason `duplicate_merged` through
//! [`voter_status::change_status`], so the NVRA rules hold) or dismisses it, with a reason.
//!
//! Blind indexes are keyed per key ring, so only records sealed under one ring (one roll) can
//! be compared: a state's roll covers all its counties, a county that keeps its own roll is
//! compared within it. Each decision is a ledger entry naming the records by id, never a value.

use std::{collections::BTreeMap, sync::Arc};

use canvass_core::{
    access::Operation,
    audit::{Action, AuditEntry, now_millis},
    id::JurisdictionId,
    lifecycle::StatusReason,
    normalize,
    voter::VoterStatus,
    voter_policy::FieldPolicy,
};
use canvass_store::{
    DuplicateCandidate, DuplicateDecision, DuplicateQuery, DuplicateRule, DuplicateVerdict, SealedVoter, Store,
    StoredStatusChange,
};

use crate::{
    Node, ServerError,
    access::Principal,
    keys::UnsealedRing,
    ledger::{Audit, target},
    monitor,
    roll::{self, RollRecord},
    voter_status::{self, StatusChangeRequest},
    voters::{self, Sealer},
};

/// Candidates read from the store per query while filling a page. Large, because each query
/// pairs the whole roll before it sorts (the cost is per query, not per row) and most index
/// candidates are the truncated indexes' false positives: at 100,000 voters a batch of 500 made
/// the first page of 50 pairs take 95 s (40 queries of 2.5 s).
const SCAN_BATCH: u32 = 20_000;
/// The most pairs one page lists.
pub const MAX_PAGE: u32 = 200;
/// The longest written reason.
const MAX_REASON_CHARS: usize = 500;

/// The unsealed rings of the rolls a listing may meet, by roll.
#[derive(Debug, Default)]
pub struct Rings(BTreeMap<JurisdictionId, Arc<UnsealedRing>>);

impl Rings {
    /// One roll's ring (the CLI unseals the jurisdiction it is asked about).
    pub fn one(ring: Arc<UnsealedRing>) -> Result<Self, ServerError> {
        let roll = JurisdictionId::parse(ring.jurisdiction())?;
        Ok(Self(BTreeMap::from([(roll, ring)])))
    }

    /// The node's unsealed rings of `scope` and every jurisdiction under it.
    pub async fn of_tree(node: &Node, scope: &JurisdictionId) -> Result<Self, ServerError> {
        let mut rings = BTreeMap::new();
        for jurisdiction in tree(node.store(), scope).await? {
            if node.keys().is_unsealed(&jurisdiction) {
                let ring = node.keys().current(node.store(), &jurisdiction).await?;
                rings.insert(jurisdiction, ring);
            }
        }
        Ok(Self(rings))
    }

    fn get(&self, roll: &JurisdictionId) -> Result<&UnsealedRing, ServerError> {
        self.0.get(roll).map(Arc::as_ref).ok_or_else(|| ServerError::Sealed(roll.to_string()))
    }
}

/// `scope` and its descendants; `NotFound` if it does not exist.
async fn tree(store: &dyn Store, scope: &JurisdictionId) -> Result<Vec<JurisdictionId>, ServerError> {
    let all = store.jurisdictions().await?;
    if !all.iter().any(|jurisdiction| jurisdiction.id == *scope) {
        return Err(ServerError::NotFound(format!("there is no jurisdiction {scope}")));
    }
    let mut inside = vec![scope.clone()];
    let mut index = 0;
    while let Some(parent) = inside.get(index).cloned() {
        inside.extend(all.iter().filter(|child| child.parent.as_ref() == Some(&parent)).map(|child| child.id.clone()));
        index += 1;
    }
    Ok(inside)
}

/// A confirmed pair, still sealed.
#[derive(Debug, Clone)]
pub struct SealedPair {
    pub first: SealedVoter,
    pub second: SealedVoter,
    /// The rules it matched (confirmed on the opened values), in code order.
    pub rules: Vec<DuplicateRule>,
    pub roll: JurisdictionId,
}

/// A pair as the reader may see it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DuplicatePair {
    pub first: RollRecord,
    pub second: RollRecord,
    pub rules: Vec<&'static str>,
    pub roll: String,
}

/// A page of pairs and where the next page starts (the last pair listed), if there may be more.
#[derive(Debug)]
pub struct Page<T> {
    pub pairs: Vec<T>,
    pub next: Option<(String, String)>,
}

/// Whether the two records really agree on the rule's values (the index only narrowed).
fn agree(
    ring: &UnsealedRing,
    first: &SealedVoter,
    second: &SealedVoter,
    rule: DuplicateRule,
) -> Result<bool, ServerError> {
    let open = |voter: &SealedVoter, field: &str, sealed: Option<&Vec<u8>>| -> Result<Option<String>, ServerError> {
        Sealer { ring, record: &voter.registration_number, version: voter.key_version }.open_optional(field, sealed)
    };
    Ok(match rule {
        DuplicateRule::DriversLicence => {
            let licence = |voter: &SealedVoter| -> Result<Option<String>, ServerError> {
                Ok(open(voter, "drivers_license", voter.fields.drivers_license.as_ref())?
                    .map(|number| normalize::identifier(&number)))
            };
            let left = licence(first)?;
            left.is_some() && left == licence(second)?
        }
        DuplicateRule::NameAndBirthDate => {
            let identity = |voter: &SealedVoter| -> Result<Option<(String, String, String)>, ServerError> {
                let Some(birth_date) = open(voter, "birth_date", voter.fields.birth_date.as_ref())? else {
                    return Ok(None);
                };
                let last = open(voter, "last_name", Some(&voter.fields.last_name))?.unwrap_or_default();
                let first = open(voter, "first_name", Some(&voter.fields.first_name))?.unwrap_or_default();
                Ok(Some((normalize::name(&last), normalize::name(&first), birth_date)))
            };
            let left = identity(first)?;
            left.is_some() && left == identity(second)?
        }
    })
}

/// The candidate's records if their values agree, else `None`.
async fn confirm(
    store: &dyn Store,
    rings: &Rings,
    candidate: &DuplicateCandidate,
) -> Result<Option<(SealedVoter, SealedVoter)>, ServerError> {
    let ring = rings.get(&candidate.roll)?;
    let (Some(first), Some(second)) = (store.voter(&candidate.first).await?, store.voter(&candidate.second).await?)
    else {
        return Ok(None);
    };
    Ok(agree(ring, &first, &second, candidate.rule)?.then_some((first, second)))
}

/// Up to `limit` confirmed, undecided pairs of `scope`'s tree after the pair `after`, in
/// registration-number order. Reads candidates until the page is full or none are left.
pub async fn find(
    store: &dyn Store,
    rings: &Rings,
    scope: &JurisdictionId,
    after: Option<(&str, &str)>,
    limit: u32,
) -> Result<Page<SealedPair>, ServerError> {
    let limit = limit.clamp(1, MAX_PAGE) as usize;
    // The last rule in code order: a cursor on it skips every rule of that pair.
    let last_rule = DuplicateRule::NameAndBirthDate;
    let mut cursor: Option<(String, String, DuplicateRule)> =
        after.map(|(first, second)| (first.to_owned(), second.to_owned(), last_rule));
    let mut pairs: Vec<SealedPair> = Vec::new();
    loop {
        let query = DuplicateQuery {
            scope,
            after: cursor.as_ref().map(|(first, second, rule)| (first.as_str(), second.as_str(), *rule)),
            limit: SCAN_BATCH,
        };
        let batch = store.duplicate_candidates(&query).await?;
        let exhausted = batch.len() < SCAN_BATCH as usize;
        for candidate in batch {
            let same_pair = pairs.last().is_some_and(|last| {
                last.first.registration_number == candidate.first && last.second.registration_number == candidate.second
            });
            if !same_pair && pairs.len() == limit {
                let next = pairs
                    .last()
                    .map(|last| (last.first.registration_number.clone(), last.second.registration_number.clone()));
                return Ok(Page { pairs, next });
            }
            if let Some((first, second)) = confirm(store, rings, &candidate).await? {
                match pairs.last_mut() {
                    Some(last) if same_pair => last.rules.push(candidate.rule),
                    _ => pairs.push(SealedPair {
                        first,
                        second,
                        rules: vec![candidate.rule],
                        roll: candidate.roll.clone(),
                    }),
                }
            }
            cursor = Some((candidate.first, candidate.second, candidate.rule));
        }
        if exhausted {
            return Ok(Page { pairs, next: None });
        }
    }
}

/// Opens a pair's records: public-record fields, confidential ones only with `confidential`
/// (the caller checked the role and recorded the read).
pub fn open_pair(rings: &Rings, pair: &SealedPair, confidential: bool) -> Result<DuplicatePair, ServerError> {
    let ring = rings.get(&pair.roll)?;
    let policy = FieldPolicy::north_carolina();
    Ok(DuplicatePair {
        first: roll::open_row(ring, &pair.first, &policy, confidential)?,
        second: roll::open_row(ring, &pair.second, &policy, confidential)?,
        rules: pair.rules.iter().map(|rule| rule.as_str()).collect(),
        roll: pair.roll.to_string(),
    })
}

/// A staff member's listing through the node (admin API and pages): the route allowed
/// `voters.duplicates` on `scope`. With `confidential` (the written reason) it also needs
/// `voters.read`, counts the records against the hourly limit and records the read, as a
/// confidential search does.
pub async fn find_as(
    node: &Node,
    audit: &Audit,
    principal: &Principal,
    scope: &JurisdictionId,
    after: Option<(&str, &str)>,
    limit: u32,
    confidential: Option<&str>,
) -> Result<Page<DuplicatePair>, ServerError> {
    if let Some(reason) = confidential {
        principal.authorize_now(node, audit, Operation::ReadVoters, Some(scope), Some(reason)).await?;
    }
    let rings = Rings::of_tree(node, scope).await?;
    let page = find(node.store(), &rings, scope, after, limit).await?;
    if let Some(reason) = confidential {
        let numbers: Vec<&str> = page
            .pairs
            .iter()
            .flat_map(|pair| [pair.first.registration_number.as_str(), pair.second.registration_number.as_str()])
            .collect();
        monitor::admit_reads(node, principal, scope, numbers.len() as u64).await?;
        voters::record_reads(audit, scope, Some(reason), numbers.into_iter()).await?;
    }
    let pairs =
        page.pairs.iter().map(|pair| open_pair(&rings, pair, confidential.is_some())).collect::<Result<_, _>>()?;
    Ok(Page { pairs, next: page.next })
}

/// A registration number as typed: an id (letters, digits, hyphens), or the field is named.
pub fn registration_number(field: &str, text: &str) -> Result<String, ServerError> {
    let number = text.trim();
    let plausible = (1..=40).contains(&number.len())
        && number.chars().all(|character| character.is_ascii_alphanumeric() || character == '-');
    if !plausible {
        return Err(ServerError::Invalid(format!("{field}: expected 1-40 letters, digits or hyphens")));
    }
    Ok(number.to_owned())
}

/// A decision's written reason: 1-500 printable characters. It is stored with the decision
/// (not in the ledger), so the forms ask for no personal value in it.
pub fn reason(text: &str) -> Result<String, ServerError> {
    let reason = text.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS || reason.chars().any(char::is_control) {
        return Err(ServerError::Invalid(format!(
            "reason: write 1-{MAX_REASON_CHARS} characters saying why (no personal values)"
        )));
    }
    Ok(reason.to_owned())
}

/// A decision asked for: two registration numbers (for a merge, `keep` then `remove`) and why.
#[derive(Debug, Clone)]
pub struct DecisionRequest {
    pub scope: JurisdictionId,
    pub first: String,
    pub second: String,
    pub reason: String,
    /// For a merge, the day the removal takes effect (today when not given; not in the
    /// future). The NVRA quiet period is judged on this day, as for any status change.
    pub effective_on: Option<time::Date>,
}

impl DecisionRequest {
    /// Checks the fields, naming the wrong one (`first_field`, `second_field` as the caller
    /// calls them).
    pub fn parse(
        scope: JurisdictionId,
        (first_field, first): (&str, &str),
        (second_field, second): (&str, &str),
        reason_text: &str,
    ) -> Result<Self, ServerError> {
        let first = registration_number(first_field, first)?;
        let second = registration_number(second_field, second)?;
        if first == second {
            return Err(ServerError::Invalid(format!("{second_field}: name two different records")));
        }
        Ok(Self { scope, first, second, reason: reason(reason_text)?, effective_on: None })
    }

    /// The pair in store order.
    fn ordered(&self) -> (&str, &str) {
        if self.first < self.second { (&self.first, &self.second) } else { (&self.second, &self.first) }
    }
}

/// The pair if it is a confirmed, undecided candidate of `scope`'s tree.
async fn candidate_pair(
    store: &dyn Store,
    rings: &Rings,
    request: &DecisionRequest,
) -> Result<Option<SealedPair>, ServerError> {
    let (first, second) = request.ordered();
    // Start just before the pair: "" sorts before every second registration number.
    let mut cursor = (first.to_owned(), String::new(), DuplicateRule::DriversLicence);
    let mut found: Option<SealedPair> = None;
    loop {
        let query = DuplicateQuery {
            scope: &request.scope,
            after: Some((cursor.0.as_str(), cursor.1.as_str(), cursor.2)),
            limit: SCAN_BATCH,
        };
        let batch = store.duplicate_candidates(&query).await?;
        let exhausted = batch.len() < SCAN_BATCH as usize;
        for candidate in batch {
            if candidate.first != first || candidate.second.as_str() > second {
                return Ok(found);
            }
            if candidate.second == second
                && let Some((first_voter, second_voter)) = confirm(store, rings, &candidate).await?
            {
                match found.as_mut() {
                    Some(pair) => pair.rules.push(candidate.rule),
                    None => {
                        found = Some(SealedPair {
                            first: first_voter,
                            second: second_voter,
                            rules: vec![candidate.rule],
                            roll: candidate.roll.clone(),
                        });
                    }
                }
            }
            cursor = (candidate.first, candidate.second, candidate.rule);
        }
        if exhausted {
            return Ok(found);
        }
    }
}

fn decision_entry(audit: &Audit, action: Action, request: &DecisionRequest) -> Result<AuditEntry, ServerError> {
    let entry = audit.entry(action).with_jurisdiction(&request.scope);
    let entry = target(entry, format!("voter:{}", request.first))?;
    target(entry, format!("voter:{}", request.second))
}

fn not_a_candidate(request: &DecisionRequest) -> ServerError {
    ServerError::NotFound(format!(
        "{} and {} are not an undecided duplicate pair in {} (decided already, removed, or not matching)",
        request.first, request.second, request.scope
    ))
}

fn decision(
    request: &DecisionRequest,
    audit: &Audit,
    verdict: DuplicateVerdict,
    kept: Option<&str>,
) -> DuplicateDecision {
    let (first, second) = request.ordered();
    DuplicateDecision {
        id: 0,
        jurisdiction: request.scope.clone(),
        first: first.to_owned(),
        second: second.to_owned(),
        verdict,
        kept: kept.map(str::to_owned),
        reason: request.reason.clone(),
        actor: audit.actor.to_string(),
        decided_at: now_millis(),
    }
}

/// Dismisses a candidate pair as two different voters. Recorded in the ledger first; a pair
/// that is not an undecided candidate of the tree is refused (and recorded).
pub async fn dismiss(
    store: &dyn Store,
    rings: &Rings,
    audit: &Audit,
    request: &DecisionRequest,
) -> Result<DuplicateDecision, ServerError> {
    let entry = decision_entry(audit, Action::VoterDuplicateDismiss, request)?;
    if candidate_pair(store, rings, request).await?.is_none() {
        return Err(audit.refuse(entry, not_a_candidate(request)).await);
    }
    let stored = decision(request, audit, DuplicateVerdict::Dismissed, None);
    audit
        .run(entry, async {
            let id = store.record_duplicate_decision(&stored).await?;
            Ok(DuplicateDecision { id, ..stored.clone() })
        })
        .await
}

/// Merges a candidate pair: `request.first` is kept, `request.second` removed with reason
/// `duplicate_merged` under the NVRA rules (refused inside the 90 days before a federal
/// election, or from a status the reason does not allow), then the decision is stored.
pub async fn merge(
    store: &dyn Store,
    rings: &Rings,
    audit: &Audit,
    request: &DecisionRequest,
) -> Result<(DuplicateDecision, StoredStatusChange), ServerError> {
    let entry = decision_entry(audit, Action::VoterDuplicateMerge, request)?;
    let Some(pair) = candidate_pair(store, rings, request).await? else {
        return Err(audit.refuse(entry, not_a_candidate(request)).await);
    };
    let kept = if pair.first.registration_number == request.first { &pair.first } else { &pair.second };
    if !kept.status.is_registered() {
        let error = ServerError::ListMaintenance(format!(
            "the record to keep ({}) is {}: merging into it would leave the voter unregistered; keep the registered record",
            request.first,
            kept.status.as_str()
        ));
        return Err(audit.refuse(entry, error).await);
    }
    let removal = StatusChangeRequest {
        jurisdiction: pair.roll.clone(),
        registration_number: request.second.clone(),
        to: VoterStatus::Removed,
        reason: StatusReason::DuplicateMerged,
        effective_on: request.effective_on,
        confirmation_notice_sent: None,
        last_contact: None,
    };
    let stored = decision(request, audit, DuplicateVerdict::Merged, Some(&request.first));
    audit
        .run(entry, async {
            let change = voter_status::change_status(store, audit, &removal).await?;
            let id = store.record_duplicate_decision(&stored).await?;
            Ok((DuplicateDecision { id, ..stored.clone() }, change))
        })
        .await
}
