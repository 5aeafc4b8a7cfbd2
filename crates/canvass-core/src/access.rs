//! Who may do what, where: staff roles, their grants on jurisdictions, and the one policy
//! table (role x operation -> allowed, needs a justification, needs a second approver). Deny by
//! default: an operation or role missing from the table is refused. The server enforces it,
//! the docs render it (`canvass policy`), and the authorization matrix test reads it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{CoreError, credential::Username, id::JurisdictionId};

/// A staff role. Granted on a jurisdiction, it covers that jurisdiction and every one below it
/// (a state's counties); granted on the node, it covers every jurisdiction the node hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    StateAdministrator,
    CountyAdministrator,
    RegistrationClerk,
    ResultsReporter,
    Auditor,
    Observer,
}

impl StaffRole {
    /// In the policy table's column order.
    pub const ALL: [Self; 6] = [
        Self::StateAdministrator,
        Self::CountyAdministrator,
        Self::RegistrationClerk,
        Self::ResultsReporter,
        Self::Auditor,
        Self::Observer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::StateAdministrator => "state_administrator",
            Self::CountyAdministrator => "county_administrator",
            Self::RegistrationClerk => "registration_clerk",
            Self::ResultsReporter => "results_reporter",
            Self::Auditor => "auditor",
            Self::Observer => "observer",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::StateAdministrator => "State administrator",
            Self::CountyAdministrator => "County administrator",
            Self::RegistrationClerk => "Registration clerk",
            Self::ResultsReporter => "Results reporter",
            Self::Auditor => "Auditor",
            Self::Observer => "Observer",
        }
    }

    pub fn parse(value: &str) -> Result<Self, CoreError> {
        Self::ALL.into_iter().find(|role| role.as_str() == value).ok_or_else(|| CoreError::UnknownVariant {
            what: "staff role",
            value: value.to_owned(),
            expected: "state_administrator, county_administrator, registration_clerk, results_reporter, auditor, observer",
        })
    }

    /// Administrator roles: granting one needs a second administrator's approval.
    pub fn is_administrator(self) -> bool {
        matches!(self, Self::StateAdministrator | Self::CountyAdministrator)
    }

    /// A second factor is required of every role that can read PII or change results; derived
    /// from the table so a new permission cannot forget it.
    pub fn requires_second_factor(self) -> bool {
        Operation::ALL
            .iter()
            .filter(|operation| operation.touches_pii_or_results())
            .any(|operation| rule(*operation, self).allowed)
    }

    fn column(self) -> usize {
        self as usize
    }
}

impl fmt::Display for StaffRole {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

macro_rules! operations {
    ($($variant:ident => $code:literal, $pii:literal, $description:literal;)+) => {
        /// Everything staff can ask the node to do, as the policy table names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Operation { $($variant,)+ }

        impl Operation {
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $code,)+ }
            }

            pub fn description(self) -> &'static str {
                match self { $(Self::$variant => $description,)+ }
            }

            /// Reads voter PII or changes results: the roles allowed it need a second factor.
            pub fn touches_pii_or_results(self) -> bool {
                match self { $(Self::$variant => $pii,)+ }
            }

            pub fn parse(value: &str) -> Result<Self, CoreError> {
                Self::ALL.iter().copied().find(|operation| operation.as_str() == value).ok_or_else(|| {
                    CoreError::UnknownVariant { what: "operation", value: value.to_owned(), expected: concat!($($code, " "),+) }
                })
            }
        }
    };
}

operations! {
    ViewNode => "node.view", false, "See the node, its jurisdictions, precincts and elections.";
    ManageJurisdictions => "jurisdictions.manage", false, "Add jurisdictions and precincts.";
    ViewKeys => "keys.view", false, "See key rings' state (never key material).";
    OperateKeys => "keys.operate", false, "Unseal and seal a jurisdiction's key ring.";
    RotateKeys => "keys.rotate", true, "Rotate a jurisdiction's data keys and re-encrypt its records.";
    ShredKeys => "keys.shred", true, "Destroy a jurisdiction's key ring, making its data unreadable.";
    WriteVoters => "voters.write", true, "Add or change voter records.";
    SearchVoters => "voters.search", true, "Find voter records and see their public-record fields (name, address, status, precinct).";
    ReadVoters => "voters.read", true, "Open a voter record, confidential fields included.";
    ChangeVoterStatus => "voters.change_status", true, "Change a voter record's status (active, inactive, removed, denied, temporary) with an NVRA reason code, under the list-maintenance rules.";
    SetVoterSignature => "voters.set_signature", true, "Add or replace a voter's signature image (stored sealed; confidential, never exported).";
    FindDuplicates => "voters.duplicates", true, "List candidate duplicate voter records across the jurisdiction tree (public-record fields).";
    DecideDuplicates => "voters.decide_duplicates", true, "Merge a duplicate voter record into its twin (the other is removed as duplicate_merged, under the list-maintenance rules) or dismiss the pair.";
    ExportVoters => "voters.export", true, "Export a jurisdiction's whole voter file.";
    ExportPublicVoters => "voters.export_public", true, "Write the public voter file extract: public-record fields only, address-confidential voters left out.";
    ReadBallots => "ballots.read", false, "See a voter's absentee and provisional ballots and their history (statuses, reason codes, dates).";
    RecordBallots => "ballots.record", false, "Record an absentee ballot's request, mailing, return, acceptance or rejection and cure, and a provisional ballot's casting and decision.";
    ImportPlaces => "places.import", false, "Import polling places from a Voting Information Project feed (public data: where and when to vote).";
    DefineElections => "elections.define", false, "Import an election's definition (contests, choices, counties, precincts and which precincts vote on which contest) from a NIST 1500-100 or CSV file.";
    UploadResults => "results.upload", true, "Upload precinct results.";
    CertifyResults => "results.certify", true, "Certify an election's results.";
    SearchLedger => "ledger.search", false, "Search the audit ledger and see read-volume statistics.";
    ManageStaff => "staff.manage", false, "Add staff, grant non-administrator roles, suspend, reset a second factor.";
    GrantAdministrator => "staff.grant_administrator", false, "Grant an administrator role.";
    ManageTokens => "tokens.manage", false, "Issue and revoke API tokens for machines.";
    BreakGlass => "access.break_glass", false, "Open time-limited emergency administrator access.";
    ManageIncidents => "incidents.manage", false, "Open a security incident by hand and add updates to incidents (status, severity, counts, actions, public and internal notes); incidents are never deleted.";
}

impl fmt::Display for Operation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// One cell of the policy table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub allowed: bool,
    /// The request must carry a written reason, kept in the ledger entry.
    pub justification: bool,
    /// The request only runs once another user allowed the same operation approves it.
    pub second_approver: bool,
}

const NO: Rule = Rule { allowed: false, justification: false, second_approver: false };
const YES: Rule = Rule { allowed: true, justification: false, second_approver: false };
/// Allowed with a written reason.
const WHY: Rule = Rule { allowed: true, justification: true, second_approver: false };
/// Allowed with a written reason and a second person's approval.
const TWO: Rule = Rule { allowed: true, justification: true, second_approver: true };

/// The policy. Columns follow [`StaffRole::ALL`]: state administrator, county administrator,
/// registration clerk, results reporter, auditor, observer.
const POLICY: &[(Operation, [Rule; 6])] = &[
    (Operation::ViewNode, [YES, YES, YES, YES, YES, YES]),
    (Operation::ManageJurisdictions, [YES, NO, NO, NO, NO, NO]),
    (Operation::ViewKeys, [YES, YES, NO, NO, YES, NO]),
    (Operation::OperateKeys, [YES, YES, NO, NO, NO, NO]),
    (Operation::RotateKeys, [TWO, TWO, NO, NO, NO, NO]),
    (Operation::ShredKeys, [TWO, TWO, NO, NO, NO, NO]),
    (Operation::WriteVoters, [YES, YES, YES, NO, NO, NO]),
    (Operation::SearchVoters, [YES, YES, YES, NO, NO, NO]),
    (Operation::ReadVoters, [WHY, WHY, YES, NO, NO, NO]),
    (Operation::ChangeVoterStatus, [YES, YES, YES, NO, NO, NO]),
    (Operation::SetVoterSignature, [YES, YES, YES, NO, NO, NO]),
    (Operation::FindDuplicates, [YES, YES, YES, NO, NO, NO]),
    (Operation::DecideDuplicates, [YES, YES, YES, NO, NO, NO]),
    (Operation::ExportVoters, [TWO, TWO, NO, NO, NO, NO]),
    (Operation::ExportPublicVoters, [YES, YES, NO, NO, NO, NO]),
    (Operation::ReadBallots, [YES, YES, YES, NO, YES, NO]),
    (Operation::RecordBallots, [YES, YES, YES, NO, NO, NO]),
    (Operation::ImportPlaces, [YES, YES, NO, NO, NO, NO]),
    (Operation::DefineElections, [YES, YES, NO, NO, NO, NO]),
    (Operation::UploadResults, [YES, YES, NO, YES, NO, NO]),
    (Operation::CertifyResults, [TWO, TWO, NO, NO, NO, NO]),
    (Operation::SearchLedger, [YES, YES, NO, NO, YES, NO]),
    (Operation::ManageStaff, [YES, YES, NO, NO, NO, NO]),
    (Operation::GrantAdministrator, [TWO, TWO, NO, NO, NO, NO]),
    (Operation::ManageTokens, [YES, YES, NO, NO, NO, NO]),
    (Operation::BreakGlass, [WHY, WHY, NO, NO, NO, NO]),
    (Operation::ManageIncidents, [YES, YES, NO, NO, NO, NO]),
];

/// The table's cell; an operation without a row is denied to everyone.
pub fn rule(operation: Operation, role: StaffRole) -> Rule {
    POLICY.iter().find(|(row, _)| *row == operation).map_or(NO, |(_, rules)| rules[role.column()])
}

/// Whether the table has a row for the operation (the matrix test requires one for each).
pub fn has_rule(operation: Operation) -> bool {
    POLICY.iter().any(|(row, _)| *row == operation)
}

/// A role held on a jurisdiction (or, with `jurisdiction` None, on the whole node). Emergency
/// (break-glass) grants expire by themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub role: StaffRole,
    pub jurisdiction: Option<JurisdictionId>,
    /// Unix milliseconds after which the grant no longer counts.
    pub expires_at: Option<i64>,
    pub emergency: bool,
}

impl Grant {
    pub fn permanent(role: StaffRole, jurisdiction: Option<JurisdictionId>) -> Self {
        Self { role, jurisdiction, expires_at: None, emergency: false }
    }

    pub fn is_current(&self, now_millis: i64) -> bool {
        self.expires_at.is_none_or(|expires| now_millis < expires)
    }

    /// `lineage` is the target jurisdiction followed by its parents up to the state.
    pub fn covers(&self, lineage: &[JurisdictionId]) -> bool {
        match &self.jurisdiction {
            None => true,
            Some(granted) => lineage.contains(granted),
        }
    }

    /// "node" or the jurisdiction's id, for pages and listings.
    pub fn scope_text(&self) -> &str {
        self.jurisdiction.as_ref().map_or("node", JurisdictionId::as_str)
    }
}

/// What the policy says about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allowed { rule: Rule, role: StaffRole, emergency: bool },
    Denied,
}

/// Decides from the user's grants. `lineage` is empty for node-wide operations (listings),
/// where any current grant allowing the operation suffices. Among several grants that allow,
/// the least demanding wins, and a permanent grant beats an emergency one.
pub fn decide(grants: &[Grant], operation: Operation, lineage: &[JurisdictionId], now_millis: i64) -> Decision {
    let cost = |rule: Rule, emergency: bool| (rule.second_approver, rule.justification, emergency);
    grants
        .iter()
        .filter(|grant| grant.is_current(now_millis))
        .filter(|grant| lineage.is_empty() || grant.covers(lineage))
        .map(|grant| (rule(operation, grant.role), grant))
        .filter(|(rule, _)| rule.allowed)
        .min_by_key(|(rule, grant)| cost(*rule, grant.emergency))
        .map_or(Decision::Denied, |(rule, grant)| Decision::Allowed {
            rule,
            role: grant.role,
            emergency: grant.emergency,
        })
}

/// Whether the account's current grants make a second factor mandatory.
pub fn requires_second_factor(grants: &[Grant], now_millis: i64) -> bool {
    grants.iter().filter(|grant| grant.is_current(now_millis)).any(|grant| grant.role.requires_second_factor())
}

/// Kinds of request that wait for a second person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    ExportVoters,
    RotateKeys,
    ShredKeys,
    GrantAdministrator,
    CertifyResults,
    /// The voters an incident's subject read (registration numbers and names), for breach
    /// notification; the subject names the incident.
    ExportAffectedVoters,
}

impl RequestKind {
    pub const ALL: [Self; 6] = [
        Self::ExportVoters,
        Self::RotateKeys,
        Self::ShredKeys,
        Self::GrantAdministrator,
        Self::CertifyResults,
        Self::ExportAffectedVoters,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ExportVoters => "export_voters",
            Self::RotateKeys => "rotate_keys",
            Self::ShredKeys => "shred_keys",
            Self::GrantAdministrator => "grant_administrator",
            Self::CertifyResults => "certify_results",
            Self::ExportAffectedVoters => "export_affected_voters",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::ExportVoters => "Export the voter file",
            Self::RotateKeys => "Rotate data keys",
            Self::ShredKeys => "Shred the key ring",
            Self::GrantAdministrator => "Grant an administrator role",
            Self::CertifyResults => "Certify results",
            Self::ExportAffectedVoters => "Export an incident's affected voters",
        }
    }

    /// The operation both the requester and the approver must be allowed.
    pub fn operation(self) -> Operation {
        match self {
            Self::ExportVoters => Operation::ExportVoters,
            Self::RotateKeys => Operation::RotateKeys,
            Self::ShredKeys => Operation::ShredKeys,
            Self::GrantAdministrator => Operation::GrantAdministrator,
            Self::CertifyResults => Operation::CertifyResults,
            Self::ExportAffectedVoters => Operation::ExportVoters,
        }
    }

    pub fn parse(value: &str) -> Result<Self, CoreError> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value).ok_or_else(|| CoreError::UnknownVariant {
            what: "request kind",
            value: value.to_owned(),
            expected: "export_voters, rotate_keys, shred_keys, grant_administrator, certify_results, export_affected_voters",
        })
    }
}

/// Where a two-person request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Approved,
    Rejected,
    Executed,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Executed => "executed",
        }
    }

    pub fn parse(value: &str) -> Result<Self, CoreError> {
        [Self::Pending, Self::Approved, Self::Rejected, Self::Executed]
            .into_iter()
            .find(|status| status.as_str() == value)
            .ok_or_else(|| CoreError::UnknownVariant {
                what: "request status",
                value: value.to_owned(),
                expected: "pending, approved, rejected, executed",
            })
    }
}

/// Checks a two-person approval: the approver is someone else, and the request still waits.
pub fn check_approval(
    requester: &Username,
    approver: &Username,
    status: RequestStatus,
    expires_at: i64,
    now_millis: i64,
) -> Result<(), &'static str> {
    if requester == approver {
        return Err("the requester cannot approve their own request");
    }
    if status != RequestStatus::Pending {
        return Err("the request is no longer waiting for approval");
    }
    if now_millis >= expires_at {
        return Err("the request expired before it was approved");
    }
    Ok(())
}

/// The opening of docs/POLICY.md, before the table.
pub const POLICY_DOCUMENT_HEAD: &str = "# Access policy

Canvass denies by default. What each staff role may do is one table in code
(`crates/canvass-core/src/access.rs`, `POLICY`); this page is that table rendered by
`canvass policy`, and a test fails if the two differ.

A role is granted on a jurisdiction and covers it and every jurisdiction below it (a state's
counties); a grant without a jurisdiction covers the whole node. \"with reason\" means the request
must carry a written justification (API header `x-canvass-justification`), kept in the ledger
entry. \"two-person\" means the operation runs only as a request that another user allowed the same
operation on the same jurisdiction approves before it expires; the requester cannot approve it,
and it runs once.

";

/// The policy as a Markdown table, for `canvass policy` and docs/POLICY.md.
pub fn policy_markdown() -> String {
    let mut text = String::from("| operation | what it allows |");
    for role in StaffRole::ALL {
        text.push_str(&format!(" {} |", role.title()));
    }
    text.push_str("\n|---|---|");
    text.push_str(&"---|".repeat(StaffRole::ALL.len()));
    text.push('\n');
    for operation in Operation::ALL {
        text.push_str(&format!("| `{}` | {} |", operation.as_str(), operation.description()));
        for role in StaffRole::ALL {
            let cell = rule(*operation, role);
            let mark = match (cell.allowed, cell.justification, cell.second_approver) {
                (false, _, _) => "—",
                (true, _, true) => "two-person",
                (true, true, false) => "with reason",
                (true, false, false) => "yes",
            };
            text.push_str(&format!(" {mark} |"));
        }
        text.push('\n');
    }
    text.push_str("\nSecond factor (TOTP) required: ");
    let required: Vec<&str> =
        StaffRole::ALL.into_iter().filter(|role| role.requires_second_factor()).map(StaffRole::title).collect();
    text.push_str(&required.join(", "));
    text.push_str(".\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(value: &str) -> JurisdictionId {
        JurisdictionId::parse(value).unwrap_or_else(|error| panic!("{value}: {error}"))
    }

    #[test]
    fn every_operation_has_a_row_and_roles_parse_back() {
        for operation in Operation::ALL {
            assert!(has_rule(*operation), "{operation} has no policy row");
            assert_eq!(Operation::parse(operation.as_str()).ok(), Some(*operation));
        }
        for role in StaffRole::ALL {
            assert_eq!(StaffRole::parse(role.as_str()).ok(), Some(role));
        }
        assert!(StaffRole::parse("administrator").is_err());
    }

    #[test]
    fn a_state_grant_covers_its_counties_and_not_another_state() {
        let grants = [Grant::permanent(StaffRole::RegistrationClerk, Some(id("nc")))];
        let county = [id("nc-wake"), id("nc")];
        let other = [id("va-fairfax"), id("va")];
        assert!(matches!(decide(&grants, Operation::ReadVoters, &county, 0), Decision::Allowed { .. }));
        assert_eq!(decide(&grants, Operation::ReadVoters, &other, 0), Decision::Denied);
        assert_eq!(decide(&grants, Operation::ExportVoters, &county, 0), Decision::Denied);
    }

    #[test]
    fn expired_emergency_grants_stop_counting() {
        let grant = Grant {
            role: StaffRole::CountyAdministrator,
            jurisdiction: Some(id("nc-wake")),
            expires_at: Some(1_000),
            emergency: true,
        };
        let lineage = [id("nc-wake")];
        assert!(matches!(
            decide(std::slice::from_ref(&grant), Operation::OperateKeys, &lineage, 999),
            Decision::Allowed { emergency: true, .. }
        ));
        assert_eq!(decide(&[grant], Operation::OperateKeys, &lineage, 1_000), Decision::Denied);
    }

    #[test]
    fn second_factor_follows_pii_and_results_permissions() {
        let required: Vec<StaffRole> =
            StaffRole::ALL.into_iter().filter(|role| role.requires_second_factor()).collect();
        assert_eq!(
            required,
            [
                StaffRole::StateAdministrator,
                StaffRole::CountyAdministrator,
                StaffRole::RegistrationClerk,
                StaffRole::ResultsReporter
            ]
        );
    }

    #[test]
    fn approvals_need_another_person_before_expiry() {
        let alice = Username::parse("alice").unwrap_or_else(|error| panic!("{error}"));
        let bob = Username::parse("bob").unwrap_or_else(|error| panic!("{error}"));
        assert!(check_approval(&alice, &alice, RequestStatus::Pending, 10, 0).is_err());
        assert!(check_approval(&alice, &bob, RequestStatus::Pending, 10, 10).is_err());
        assert!(check_approval(&alice, &bob, RequestStatus::Executed, 10, 0).is_err());
        assert!(check_approval(&alice, &bob, RequestStatus::Pending, 10, 9).is_ok());
    }

    /// docs/POLICY.md is the table rendered; `CANVASS_WRITE_POLICY_DOC=1 cargo test -p
    /// canvass-core policy_document` rewrites it after a change to the table.
    #[test]
    fn policy_document_matches_the_table() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/POLICY.md");
        let expected = format!("{POLICY_DOCUMENT_HEAD}{}", policy_markdown());
        if std::env::var_os("CANVASS_WRITE_POLICY_DOC").is_some() {
            std::fs::write(&path, &expected).unwrap_or_else(|error| panic!("{error}"));
        }
        let actual = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            actual == expected,
            "docs/POLICY.md differs from the policy table; regenerate it (see this test's comment)"
        );
    }
}
