//! What one audit-ledger entry says: who did what to which records, when, and whether it was
//! allowed. The ledger stores the entry's canonical JSON as a Merkle leaf, so an entry is parsed
//! here and nowhere else, and none of its fields can hold a voter's personal data: targets are
//! record ids, reasons are codes, and free text is limited to a staff justification.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{CoreError, credential::Username, id::JurisdictionId};

/// The largest encoded entry: tlog-tiles entry bundles prefix each entry with a 16-bit length.
pub const MAX_ENTRY_BYTES: usize = 65_535;
/// The most record ids one entry names; a bulk action is split into several entries.
pub const MAX_TARGETS: usize = 200;
const MAX_TARGET_CHARS: usize = 160;
const MAX_JUSTIFICATION_CHARS: usize = 2_000;
const MAX_CODE_CHARS: usize = 64;
const MAX_REQUEST_ID_CHARS: usize = 64;

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A staff account, authenticated.
    User(Username),
    /// A machine's API token, by its public id (never the secret).
    Token(String),
    /// Someone with shell access to the node's data directory, running `canvass` directly.
    Operator,
    /// The node itself (start-up, scheduled work, detectors).
    System,
    /// A caller who did not authenticate; a mistyped user name is never recorded, because
    /// people type passwords into user-name fields.
    Anonymous,
}

impl Actor {
    pub fn parse(value: &str) -> Result<Self, CoreError> {
        match value {
            "operator" => return Ok(Self::Operator),
            "system" => return Ok(Self::System),
            "anonymous" => return Ok(Self::Anonymous),
            _ => {}
        }
        if let Some(name) = value.strip_prefix("user:") {
            return Username::parse(name).map(Self::User);
        }
        if let Some(token) = value.strip_prefix("token:") {
            return check_code("API token id", token).map(|()| Self::Token(token.to_owned()));
        }
        Err(CoreError::InvalidValue {
            what: "actor",
            reason: "expected user:NAME, token:ID, operator, system or anonymous".to_owned(),
        })
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(name) => write!(formatter, "user:{}", name.as_str()),
            Self::Token(id) => write!(formatter, "token:{id}"),
            Self::Operator => formatter.write_str("operator"),
            Self::System => formatter.write_str("system"),
            Self::Anonymous => formatter.write_str("anonymous"),
        }
    }
}

impl Serialize for Actor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Actor {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

macro_rules! actions {
    ($($variant:ident => $code:literal, $description:literal;)+) => {
        /// What was done. Codes are stable: auditors search and export by them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum Action {
            $(#[serde(rename = $code)] #[doc = $description] $variant,)+
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Self::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $code,)+ }
            }

            /// One sentence for people reading the ledger.
            pub fn description(self) -> &'static str {
                match self { $(Self::$variant => $description,)+ }
            }

            pub fn parse(value: &str) -> Result<Self, CoreError> {
                match value {
                    $($code => Ok(Self::$variant),)+
                    _ => Err(CoreError::UnknownVariant {
                        what: "audit action",
                        value: value.to_owned(),
                        expected: concat!($($code, " "),+),
                    }),
                }
            }
        }
    };
}

actions! {
    NodeStart => "node.start", "The node started and opened its database.";
    LedgerStart => "ledger.start", "The ledger was created: the first entry of every log.";
    AdministratorLogin => "auth.login", "A staff member authenticated (or failed to).";
    AdministratorPassword => "admin.set_password", "An administrator's password was set.";
    JurisdictionAdd => "jurisdiction.add", "A jurisdiction was added to the node.";
    PrecinctAdd => "precinct.add", "A precinct was added to a jurisdiction.";
    ElectionAdd => "election.add", "An election and its contests were defined.";
    DemoLoad => "demo.load", "The demonstration content was loaded.";
    KeysInit => "keys.init", "A jurisdiction's key ring was created.";
    KeysSplit => "keys.split", "A jurisdiction's root key was split into officials' shares.";
    KeysUnseal => "keys.unseal", "A jurisdiction's key ring was unsealed (or an attempt failed).";
    KeysSeal => "keys.seal", "A jurisdiction's key ring was sealed again.";
    KeysRotate => "keys.rotate", "A jurisdiction's data keys were rotated.";
    KeysReseal => "keys.reseal", "Voter records were re-encrypted under the newest key.";
    KeysShred => "keys.shred", "A jurisdiction's key ring was destroyed, making its data unreadable.";
    VoterAdd => "voter.add", "Voter records were added (their confidential fields sealed).";
    VoterRead => "voter.read", "A confidential voter field was read.";
    BackupCreate => "backup.create", "An encrypted backup of the node was written.";
    BackupRestore => "backup.restore", "The node's data was restored from a backup.";
    SignOut => "auth.logout", "A staff member signed out.";
    SecondFactorEnrol => "auth.second_factor", "A staff member enrolled a TOTP second factor.";
    StaffAdd => "staff.add", "A staff account was created.";
    StaffGrant => "staff.grant", "A role was granted to a staff account on a jurisdiction.";
    StaffRevoke => "staff.revoke", "A role was taken from a staff account.";
    StaffSuspend => "staff.suspend", "A staff account was suspended: it can no longer sign in.";
    StaffReinstate => "staff.reinstate", "A suspended staff account was reinstated.";
    StaffResetSecondFactor => "staff.reset_mfa", "A staff account's second factor was reset.";
    TokenIssue => "token.issue", "An API token was issued for a machine.";
    TokenRevoke => "token.revoke", "An API token was revoked.";
    RequestCreate => "request.create", "A two-person request was made.";
    RequestApprove => "request.approve", "A second person approved a two-person request.";
    RequestReject => "request.reject", "A two-person request was rejected.";
    RequestExecute => "request.execute", "An approved two-person request ran.";
    BreakGlass => "access.break_glass", "Emergency access was opened, with its justification.";
    AccessDenied => "access.denied", "A request was refused by the access policy.";
    IncidentOpen => "incident.open", "A security incident was opened.";
    VoterExport => "voter.export", "A jurisdiction's voter file was exported.";
    ResultsCertify => "results.certify", "An election's results were certified.";
    VoterImport => "voter.import", "Part of a voter file was imported into a roll: rows added, changed, unchanged and rejected.";
    VoterExportPublic => "voter.export_public", "A public voter file extract (public-record fields only) was written.";
    PlacesImport => "places.import", "Polling places were imported from a Voting Information Project feed.";
    VoterStatusChange => "voter.status_change", "A voter record's status changed, with its NVRA reason code (or a refused attempt).";
    BallotRecord => "ballot.record", "An absentee or provisional ballot was recorded or moved to its next status, with the reason code (or a refused attempt).";
    VoterSignatureSet => "voter.set_signature", "A voter's signature image was added or replaced (sealed; the entry holds no image).";
    VoterDuplicateMerge => "voter.duplicate_merge", "A duplicate pair was merged: one record kept, the other removed as duplicate_merged (or a refused attempt).";
    VoterDuplicateDismiss => "voter.duplicate_dismiss", "A candidate duplicate pair was dismissed as two different voters.";
    ElectionDefine => "election.define", "An election's definition (contests, choices, precincts and their coverage) was imported.";
    ResultsReport => "results.report", "A county's precinct results were accepted (or a refused upload): election, county, precincts, file hash.";
    ResultsCorrect => "results.correct", "Accepted precinct results were corrected, with the reason (or a refused correction).";
    ResultsPublish => "results.publish", "A signed results snapshot was published: the election, its sequence and the SHA-256 of its manifest.";
    IncidentUpdate => "incident.update", "A security incident was updated: its status, severity, counts or actions, with public and internal notes (or a refused change).";
    IncidentAffectedVoters => "incident.affected_voters", "The voter records an incident's subject read were listed (or exported) for breach notification: the incident, the window and the count.";
    UocavaRequest => "uocava.request", "An overseas or military voter's ballot request (FPCA) was received: the voter by number, the year, the delivery and classification codes.";
    UocavaSend => "uocava.send", "A blank ballot was sent to an overseas or military voter: by mail, or as a one-time download link (never the link itself).";
    UocavaDownload => "uocava.download", "A blank ballot was downloaded through a one-time link after the voter's date of birth was checked (or a refused attempt).";
    UocavaFwab => "uocava.fwab", "A Federal Write-In Absentee Ballot was recorded as received.";
    UocavaHold => "uocava.hold", "An FPCA from the public form that matches a voter already on the roll was held, sealed, for a clerk to confirm (nothing on the roll changed).";
    UocavaConfirm => "uocava.confirm", "A clerk confirmed a held FPCA: it was applied as an FPCA is.";
    UocavaReject => "uocava.reject", "A clerk rejected a held FPCA, with a reason: the voter's record is unchanged.";
    WitnessRefusal => "witness.refusal", "A trusted witness's signed refusal to cosign a checkpoint was received: the witness, the refused checkpoint's size, the statement's SHA-256 (its reason is in the incident).";
}

impl fmt::Display for Action {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Whether the action went ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Authorised and done.
    Allowed,
    /// Refused: not authorised, wrong secret, bad input.
    Denied,
    /// Authorised and recorded, but the change itself then failed; the entry before it with the
    /// same request id says what was attempted.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Denied => "denied",
            Self::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Result<Self, CoreError> {
        match value {
            "allowed" => Ok(Self::Allowed),
            "denied" => Ok(Self::Denied),
            "failed" => Ok(Self::Failed),
            _ => Err(CoreError::UnknownVariant {
                what: "outcome",
                value: value.to_owned(),
                expected: "allowed denied failed",
            }),
        }
    }
}

/// One ledger entry. Build it with [`AuditEntry::new`] and the `with_*` methods, which check
/// every limit, so an entry that exists always fits in a tlog-tiles entry bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    pub actor: Actor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jurisdiction: Option<JurisdictionId>,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    pub outcome: Outcome,
    /// Why it was denied or failed, as a stable code such as `wrong_secret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The staff member's stated reason, where the action requires one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
}

impl AuditEntry {
    /// An entry stamped now (UTC, millisecond precision so it round-trips through JSON).
    pub fn new(actor: Actor, action: Action, outcome: Outcome) -> Self {
        Self {
            time: now(),
            actor,
            jurisdiction: None,
            action,
            targets: Vec::new(),
            outcome,
            reason: None,
            request_id: None,
            justification: None,
        }
    }

    pub fn with_jurisdiction(mut self, jurisdiction: &JurisdictionId) -> Self {
        self.jurisdiction = Some(jurisdiction.clone());
        self
    }

    /// Adds a record id such as `precinct:zz-alder-001`. Ids are not personal data: a voter is
    /// named by registration number, never by name or date of birth.
    pub fn with_target(mut self, target: impl Into<String>) -> Result<Self, CoreError> {
        let target = target.into();
        let valid = !target.is_empty()
            && target.chars().count() <= MAX_TARGET_CHARS
            && !target.chars().any(char::is_control)
            && self.targets.len() < MAX_TARGETS;
        if !valid {
            return Err(CoreError::InvalidValue {
                what: "audit target",
                reason: format!("at most {MAX_TARGETS} targets of 1-{MAX_TARGET_CHARS} printable characters"),
            });
        }
        self.targets.push(target);
        Ok(self)
    }

    pub fn with_reason(mut self, code: &str) -> Result<Self, CoreError> {
        check_code("reason code", code)?;
        self.reason = Some(code.to_owned());
        Ok(self)
    }

    pub fn with_request_id(mut self, request_id: &str) -> Result<Self, CoreError> {
        let valid = !request_id.is_empty()
            && request_id.len() <= MAX_REQUEST_ID_CHARS
            && request_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid {
            return Err(CoreError::InvalidValue {
                what: "request id",
                reason: format!("1-{MAX_REQUEST_ID_CHARS} letters, digits or '-'"),
            });
        }
        self.request_id = Some(request_id.to_owned());
        Ok(self)
    }

    pub fn with_justification(mut self, text: &str) -> Result<Self, CoreError> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > MAX_JUSTIFICATION_CHARS {
            return Err(CoreError::InvalidValue {
                what: "justification",
                reason: format!("write 1-{MAX_JUSTIFICATION_CHARS} characters saying why"),
            });
        }
        self.justification = Some(text.to_owned());
        Ok(self)
    }

    /// The canonical leaf bytes: compact JSON with fields in declaration order.
    pub fn encode(&self) -> Vec<u8> {
        // Serializing a struct of strings, enums and a timestamp into a Vec cannot fail; the
        // limits above keep it under MAX_ENTRY_BYTES.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses leaf bytes back, refusing anything that is not a well-formed entry.
    pub fn decode(bytes: &[u8]) -> Result<Self, CoreError> {
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(CoreError::InvalidValue { what: "audit entry", reason: "longer than 65535 bytes".to_owned() });
        }
        serde_json::from_slice(bytes)
            .map_err(|error| CoreError::InvalidValue { what: "audit entry", reason: error.to_string() })
    }

    /// Milliseconds since the Unix epoch, for the store's time index.
    pub fn unix_millis(&self) -> i64 {
        unix_millis(self.time)
    }
}

/// Now, in UTC, at the millisecond precision entries keep (so it round-trips through JSON).
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.millisecond() as u32 * 1_000_000).unwrap_or(now)
}

/// Milliseconds since the Unix epoch: how the store keeps times for its indexes.
pub fn unix_millis(time: OffsetDateTime) -> i64 {
    (time.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The current time in Unix milliseconds, as the store keeps times.
pub fn now_millis() -> i64 {
    unix_millis(now())
}

fn check_code(what: &'static str, code: &str) -> Result<(), CoreError> {
    let valid = !code.is_empty()
        && code.len() <= MAX_CODE_CHARS
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'));
    if valid {
        Ok(())
    } else {
        Err(CoreError::InvalidValue {
            what,
            reason: format!("1-{MAX_CODE_CHARS} lowercase letters, digits, '_', '-' or '.'"),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn entries_round_trip_through_their_leaf_bytes() {
        let jurisdiction = JurisdictionId::parse("ocd-division/country:us/state:zz").unwrap();
        let entry =
            AuditEntry::new(Actor::User(Username::parse("alice").unwrap()), Action::KeysUnseal, Outcome::Denied)
                .with_jurisdiction(&jurisdiction)
                .with_target("key_ring:ocd-division/country:us/state:zz")
                .unwrap()
                .with_reason("wrong_secret")
                .unwrap()
                .with_request_id("0192-abcd")
                .unwrap();
        let bytes = entry.encode();
        assert_eq!(AuditEntry::decode(&bytes).unwrap(), entry);
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with(r#"{"time":""#), "{text}");
        assert!(text.contains(r#""actor":"user:alice""#), "{text}");
        assert!(text.contains(r#""action":"keys.unseal""#), "{text}");
        assert!(text.contains(r#""outcome":"denied""#), "{text}");
    }

    #[test]
    fn limits_keep_every_entry_inside_a_bundle() {
        let mut entry = AuditEntry::new(Actor::System, Action::VoterAdd, Outcome::Allowed)
            .with_justification(&"x".repeat(MAX_JUSTIFICATION_CHARS))
            .unwrap();
        for number in 0..MAX_TARGETS {
            entry = entry.with_target(format!("voter:{number:0>150}")).unwrap();
        }
        assert!(entry.clone().with_target("voter:1").is_err());
        assert!(entry.encode().len() <= MAX_ENTRY_BYTES);
    }

    #[test]
    fn hostile_values_are_refused() {
        let entry = AuditEntry::new(Actor::Anonymous, Action::AdministratorLogin, Outcome::Denied);
        assert!(entry.clone().with_target("a\nb").is_err());
        assert!(entry.clone().with_reason("Not A Code").is_err());
        assert!(entry.clone().with_request_id("id with spaces").is_err());
        assert!(entry.clone().with_justification("   ").is_err());
        assert!(
            AuditEntry::decode(
                br#"{"time":"2026-11-22T00:00:00Z","actor":"root","action":"node.start","outcome":"allowed"}"#
            )
            .is_err()
        );
        assert!(AuditEntry::decode(b"\xff\xfe").is_err());
        assert!(Actor::parse("user:Bob").is_err());
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()).unwrap(), *action);
        }
    }
}
