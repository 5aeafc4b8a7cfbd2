//! The storage boundary. Every backend (SQLite, PostgreSQL) implements [`Store`]; the rest of
//! Canvass holds an `Arc<dyn Store>` chosen once at start-up from `database_url`, and never sees
//! SQL. [`conformance`] is the one behaviour suite every backend must pass.

pub mod ballots;
pub mod conformance;
pub mod duplicates;
mod error;
pub mod incidents;
pub mod ledger;
pub mod pending_fpca;
pub mod places;
pub mod results;
pub mod results_snapshots;
pub mod rows;
mod sealed;
pub mod staff;
pub mod uocava;
pub mod voter_records;

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use canvass_core::{
    access::{Grant, RequestStatus, StaffRole},
    credential::{StaffAccount, Username},
    election::{Contest, Election},
    id::{ContestId, ElectionId, JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, Precinct},
    lifecycle::StatusReason,
    results::ElectionDefinition,
    voter::VoterStatus,
};
use time::Date;

pub use ballots::{StoredBallot, StoredBallotChange};
pub use duplicates::{DuplicateCandidate, DuplicateDecision, DuplicateQuery, DuplicateRule, DuplicateVerdict};
pub use error::StoreError;
pub use incidents::{IncidentQuery, StoredIncidentUpdate};
pub use ledger::{
    LEDGER_SEARCH_LIMIT, LedgerAppend, LedgerQuery, LedgerRow, LedgerTile, StoredCheckpoint, StoredCosignature,
};
pub use pending_fpca::{FpcaDecision, StoredPendingFpca};
pub use places::{StoredPlacesImport, StoredPollingPlace};
pub use results::{ResultsWrite, StoredPrecinctReturn, StoredResultsChange};
pub use results_snapshots::{SnapshotHeader, StoredBody, StoredSnapshot, StoredSnapshotFile};
pub use sealed::{
    BlindIndexes, ImportCounts, IndexLookup, KeyState, KeyVersionUsage, SealedFields, SealedVoter, StoredDataKey,
    StoredImport, StoredKeyRing, VoterBatch, VoterDigest, VoterRevision,
};
pub use staff::{OutboxMessage, StoredIncident, StoredRequest, StoredSession, StoredToken};
pub use uocava::{DeliveryMethod, StoredFwab, StoredUocavaDelivery, StoredUocavaRequest};
pub use voter_records::{StoredSignature, StoredVote, VoteHistoryBatch, VoteHistoryWritten};

/// Registered voters in one precinct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrecinctVoterCount {
    pub precinct: PrecinctId,
    pub registered: u64,
}

/// One change of a voter record's status and the evidence the NVRA rules were checked against.
/// Ids, codes and dates only: it never holds a personal value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStatusChange {
    /// Assigned by the store, increasing; 0 in a change not yet stored.
    pub id: i64,
    pub registration_number: String,
    pub jurisdiction: JurisdictionId,
    pub from: VoterStatus,
    pub to: VoterStatus,
    pub reason: StatusReason,
    /// The day the change takes effect (the rules' date).
    pub effective_on: Date,
    /// The NVRA 8(d)(2) confirmation notice the change relied on, if any.
    pub confirmation_notice_sent: Option<Date>,
    /// The voter's latest contact known when the change was made, if any.
    pub last_contact: Option<Date>,
    /// Who made it, as the ledger names them (`user:NAME`).
    pub actor: String,
    /// Unix milliseconds.
    pub recorded_at: i64,
}

/// The operations Canvass needs from a database. Implementations hold no business rules:
/// they store, constrain (unique ids, existing references) and read back.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// `"sqlite"` or `"postgres"`, for logs and `/readyz`.
    fn backend(&self) -> &'static str;

    /// Succeeds when the database answers a trivial query.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Closes the connections, flushing what the database buffers (SQLite checkpoints its WAL).
    async fn close(&self);

    /// The newest migration applied.
    async fn schema_version(&self) -> Result<i64, StoreError>;

    /// Stores a jurisdiction; its parent, if any, must already exist.
    async fn insert_jurisdiction(&self, jurisdiction: &Jurisdiction) -> Result<(), StoreError>;
    async fn jurisdiction(&self, id: &JurisdictionId) -> Result<Option<Jurisdiction>, StoreError>;
    /// All jurisdictions, ordered by id.
    async fn jurisdictions(&self) -> Result<Vec<Jurisdiction>, StoreError>;

    /// Stores a precinct inside an existing jurisdiction.
    async fn insert_precinct(&self, precinct: &Precinct) -> Result<(), StoreError> {
        self.insert_precincts(std::slice::from_ref(precinct)).await
    }
    /// Stores precincts atomically: all of them or, on any error, none (an import names
    /// thousands at once; one transaction is one disk sync).
    async fn insert_precincts(&self, precincts: &[Precinct]) -> Result<(), StoreError>;
    /// Precincts ordered by id, of one jurisdiction or of all.
    async fn precincts(&self, jurisdiction: Option<&JurisdictionId>) -> Result<Vec<Precinct>, StoreError>;

    /// Replaces every polling place `import.jurisdiction` imported before with `places` (each
    /// with the precincts it serves) and records the import, atomically: a failure (a precinct
    /// or jurisdiction that does not exist, a place id twice) leaves the earlier places as they
    /// were. Polling places are public data, stored in the clear.
    async fn replace_polling_places(
        &self,
        import: &StoredPlacesImport,
        places: &[StoredPollingPlace],
    ) -> Result<(), StoreError>;
    /// The polling places a jurisdiction's last import left, by id, each with its precincts by id.
    async fn polling_places(&self, jurisdiction: &JurisdictionId) -> Result<Vec<StoredPollingPlace>, StoreError>;
    /// The polling places serving any precinct of `jurisdiction`, whichever jurisdiction imported
    /// them (a county's own feed or its state's), by importing jurisdiction then id, each with
    /// all its precincts by id.
    async fn polling_places_serving(
        &self,
        jurisdiction: &JurisdictionId,
    ) -> Result<Vec<StoredPollingPlace>, StoreError>;
    /// Polling-place imports newest first, of one jurisdiction or all, at most `limit`.
    async fn polling_place_imports(
        &self,
        jurisdiction: Option<&JurisdictionId>,
        limit: u32,
    ) -> Result<Vec<StoredPlacesImport>, StoreError>;

    /// Stores an election and its contests (with their choices, in order) atomically.
    async fn insert_election(&self, election: &Election, contests: &[Contest]) -> Result<(), StoreError>;
    async fn election(&self, id: &ElectionId) -> Result<Option<Election>, StoreError>;
    /// Elections ordered by date then id, of one jurisdiction or of all.
    async fn elections(&self, jurisdiction: Option<&JurisdictionId>) -> Result<Vec<Election>, StoreError>;
    /// The contests of an election in ballot order.
    async fn contests(&self, election: &ElectionId) -> Result<Vec<Contest>, StoreError>;

    /// Stores sealed voter rows atomically: all of them or, on any error, none.
    async fn insert_voters(&self, voters: &[SealedVoter]) -> Result<(), StoreError>;
    /// Voters of a jurisdiction whose blind index equals the value, by registration number.
    async fn voters_by_index(
        &self,
        jurisdiction: &JurisdictionId,
        lookup: IndexLookup,
    ) -> Result<Vec<SealedVoter>, StoreError>;
    /// Up to `limit` voters of a jurisdiction still sealed under `key_version`.
    async fn voters_sealed_with(
        &self,
        jurisdiction: &JurisdictionId,
        key_version: u32,
        limit: u32,
    ) -> Result<Vec<SealedVoter>, StoreError>;
    /// Replaces sealed fields and key version of rows still sealed under `previous_version`
    /// (rows changed meanwhile are left for the next pass); returns how many were replaced.
    async fn reseal_voters(&self, voters: &[SealedVoter], previous_version: u32) -> Result<u64, StoreError>;
    /// Rows per key version of a jurisdiction's voters, by version.
    async fn key_version_usage(&self, jurisdiction: &JurisdictionId) -> Result<Vec<KeyVersionUsage>, StoreError>;
    /// One voter by registration number.
    async fn voter(&self, registration_number: &str) -> Result<Option<SealedVoter>, StoreError>;
    /// Up to `limit` voters of a jurisdiction by registration number, after `after` if given
    /// (a cursor: export and scans walk the roll in pages without holding it in memory).
    async fn voters_after(
        &self,
        jurisdiction: &JurisdictionId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<SealedVoter>, StoreError>;
    /// The revisions later ones replaced, newest first.
    async fn voter_history(&self, registration_number: &str) -> Result<Vec<VoterRevision>, StoreError>;
    /// What is stored of these registration numbers (those not stored are left out).
    async fn voter_digests(&self, registration_numbers: &[String]) -> Result<Vec<VoterDigest>, StoreError>;
    /// Records a new import (`AlreadyExists` if the id is taken).
    async fn insert_voter_import(&self, import: &StoredImport) -> Result<(), StoreError>;
    async fn voter_import(&self, id: &str) -> Result<Option<StoredImport>, StoreError>;
    /// Imports newest first, of one jurisdiction or all, at most `limit`.
    async fn voter_imports(
        &self,
        jurisdiction: Option<&JurisdictionId>,
        limit: u32,
    ) -> Result<Vec<StoredImport>, StoreError>;
    /// Writes one batch atomically: each row whose registration number is stored already has
    /// its stored revision copied to the history and is replaced (its revision counts up); the
    /// others are inserted; the import's position and counts are updated. `Missing` if the
    /// import does not exist or is finished. All or nothing.
    async fn write_voter_batch(&self, batch: &VoterBatch<'_>) -> Result<(), StoreError>;
    /// Marks an import finished (`Missing` if there is no such unfinished import).
    async fn finish_voter_import(&self, id: &str, at: i64) -> Result<(), StoreError>;
    /// Voters with a registered status (active, inactive, temporary) per precinct, by precinct id.
    async fn registered_voter_counts(&self) -> Result<Vec<PrecinctVoterCount>, StoreError>;

    // Voter status changes (NVRA list maintenance). The rules live in canvass-core's
    // `lifecycle`; the store keeps the changes and applies them atomically.

    /// Sets the voter's status from `change.from` to `change.to` and stores the change, in one
    /// transaction. The status test is in the UPDATE itself (compare-and-set): if the voter's
    /// stored status is no longer `change.from` nothing is written and this returns `false`, so
    /// two officials racing on one record cannot both act on what they saw. `Missing` if the
    /// jurisdiction has no voter with that registration number. `change.id` is ignored.
    async fn change_voter_status(&self, change: &StoredStatusChange) -> Result<bool, StoreError>;
    /// The voter's status changes, oldest first (empty if there are none or no such voter).
    async fn voter_status_changes(&self, registration_number: &str) -> Result<Vec<StoredStatusChange>, StoreError>;

    /// Stores a new key ring with its seals and keys atomically.
    async fn create_key_ring(&self, ring: &StoredKeyRing) -> Result<(), StoreError>;
    async fn key_ring(&self, jurisdiction: &JurisdictionId) -> Result<Option<StoredKeyRing>, StoreError>;
    /// Jurisdictions that have a key ring, by id.
    async fn key_ring_jurisdictions(&self) -> Result<Vec<JurisdictionId>, StoreError>;
    /// Adds or replaces the root seal of one method.
    async fn put_root_seal(&self, jurisdiction: &JurisdictionId, method: &str, sealed: &[u8])
    -> Result<(), StoreError>;
    /// Records that the root was split into `count` shares, `threshold` of which rebuild it.
    async fn set_share_policy(&self, jurisdiction: &JurisdictionId, threshold: u8, count: u8)
    -> Result<(), StoreError>;
    /// Adds a new active key version; the purpose's former active version becomes previous.
    async fn add_data_key(&self, jurisdiction: &JurisdictionId, key: &StoredDataKey) -> Result<(), StoreError>;
    /// Retires a previous key version, refused while any row still uses it.
    async fn retire_data_key(
        &self,
        jurisdiction: &JurisdictionId,
        purpose: &str,
        version: u32,
    ) -> Result<(), StoreError>;
    /// Deletes the jurisdiction's key ring: its seals, wrapped keys and check value.
    async fn shred_key_ring(&self, jurisdiction: &JurisdictionId) -> Result<(), StoreError>;

    /// Writes a consistent snapshot of the whole database to a new file at `destination`,
    /// while the node keeps serving.
    async fn snapshot_into(&self, destination: &std::path::Path) -> Result<(), StoreError>;

    /// Creates the account, or replaces every stored field of it if it exists.
    async fn upsert_staff_account(&self, account: &StaffAccount) -> Result<(), StoreError>;
    async fn staff_account(&self, username: &Username) -> Result<Option<StaffAccount>, StoreError>;
    /// Every account, by username.
    async fn staff_accounts(&self) -> Result<Vec<StaffAccount>, StoreError>;
    /// Suspends or reinstates an account; `Missing` if there is none.
    async fn set_staff_suspended(&self, username: &Username, suspended: bool) -> Result<(), StoreError>;
    /// Accepts a TOTP time step only if it is later than the last one accepted for the account,
    /// atomically, so one code cannot sign in twice even from two requests at once. Returns
    /// whether it was accepted.
    async fn claim_totp_step(&self, username: &Username, step: i64) -> Result<bool, StoreError>;

    /// Adds a grant (the same role on the same scope twice is `AlreadyExists` unless one is an
    /// emergency grant, which may be opened again); `Missing` if the account does not exist.
    async fn add_grant(&self, username: &Username, grant: &Grant) -> Result<(), StoreError>;
    /// Removes the permanent grant of `role` on `jurisdiction`; `Missing` if there is none.
    async fn remove_grant(
        &self,
        username: &Username,
        role: StaffRole,
        jurisdiction: Option<&JurisdictionId>,
    ) -> Result<(), StoreError>;
    /// The account's grants, expired emergency ones included (callers check `is_current`),
    /// by role then scope.
    async fn grants(&self, username: &Username) -> Result<Vec<Grant>, StoreError>;
    /// Every grant of every account, by username then role then scope.
    async fn all_grants(&self) -> Result<Vec<(Username, Grant)>, StoreError>;

    async fn insert_session(&self, session: &StoredSession) -> Result<(), StoreError>;
    async fn session(&self, id_hash: &[u8]) -> Result<Option<StoredSession>, StoreError>;
    /// Records activity (for the idle timeout) and whether the second factor was checked.
    async fn touch_session(&self, id_hash: &[u8], last_seen_at: i64, second_factor: bool) -> Result<(), StoreError>;
    async fn delete_session(&self, id_hash: &[u8]) -> Result<(), StoreError>;
    /// Ends every session of the account (suspension, password or second-factor reset).
    async fn delete_sessions_of(&self, username: &Username) -> Result<(), StoreError>;

    async fn insert_api_token(&self, token: &StoredToken) -> Result<(), StoreError>;
    async fn api_token(&self, id: &str) -> Result<Option<StoredToken>, StoreError>;
    /// Every token, newest first.
    async fn api_tokens(&self) -> Result<Vec<StoredToken>, StoreError>;
    /// `Missing` if there is no such token.
    async fn revoke_api_token(&self, id: &str) -> Result<(), StoreError>;

    async fn insert_request(&self, request: &StoredRequest) -> Result<(), StoreError>;
    async fn request(&self, id: &str) -> Result<Option<StoredRequest>, StoreError>;
    /// Requests newest first, of one status or all, at most `limit`.
    async fn requests(&self, status: Option<RequestStatus>, limit: u32) -> Result<Vec<StoredRequest>, StoreError>;
    /// Moves a request from `from` to `to` only if it is still in `from` (compare-and-set, so a
    /// request is approved once and runs once); sets approver and decision time when given.
    /// Returns whether it moved.
    async fn transition_request(
        &self,
        id: &str,
        from: RequestStatus,
        to: RequestStatus,
        approver: Option<&Username>,
        at: i64,
    ) -> Result<bool, StoreError>;

    async fn insert_incident(&self, incident: &StoredIncident) -> Result<(), StoreError>;
    /// Incidents newest first.
    async fn incidents(&self, limit: u32) -> Result<Vec<StoredIncident>, StoreError>;

    /// Queues a message; returns its id.
    async fn enqueue_mail(&self, recipient: &str, subject: &str, body: &str, at: i64) -> Result<i64, StoreError>;
    /// Unsent messages, oldest first, at most `limit`.
    async fn pending_mail(&self, limit: u32) -> Result<Vec<OutboxMessage>, StoreError>;
    /// Every message newest first, at most `limit` (the admin view of the outbox).
    async fn recent_mail(&self, limit: u32) -> Result<Vec<OutboxMessage>, StoreError>;
    async fn mark_mail_sent(&self, id: i64, at: i64) -> Result<(), StoreError>;
    /// Counts a failed attempt and keeps its error for the admin view.
    async fn mark_mail_failed(&self, id: i64, error: &str) -> Result<(), StoreError>;

    /// Appends entries atomically and durably (committed and synced before this returns), at
    /// consecutive indexes after the last one; returns the first entry's index. Several
    /// processes may append to one database; indexes never repeat or leave gaps. An empty
    /// slice writes nothing and returns the index the next entry will get (the ledger size).
    /// A target repeated within one entry is stored once.
    async fn append_ledger(&self, entries: &[LedgerAppend]) -> Result<u64, StoreError>;
    /// How many entries the ledger holds.
    async fn ledger_size(&self) -> Result<u64, StoreError>;
    /// Up to `limit` entries from index `start` on, in index order; fewer only when the log
    /// ends first.
    async fn ledger_entries(&self, start: u64, limit: u32) -> Result<Vec<LedgerRow>, StoreError>;
    /// Entries matching every filter of the query, newest (highest index) first: at most
    /// `query.limit`, itself capped at [`LEDGER_SEARCH_LIMIT`] (a limit of 0 finds nothing).
    async fn search_ledger(&self, query: &LedgerQuery) -> Result<Vec<LedgerRow>, StoreError>;
    /// How many entries match every filter of the query (its limit is ignored).
    async fn count_ledger(&self, query: &LedgerQuery) -> Result<u64, StoreError>;
    /// Moves the record ids named by the oldest entries still waiting (up to `max_entries`
    /// consecutive indexes from the oldest) from the append queue into the target index, in
    /// one transaction; returns how many (entry, target) pairs moved, 0 when none wait. Appends
    /// queue their targets so a commit writes only at the end of the log; searches read the
    /// queue and the index alike, so moving changes no search's answer, only its cost.
    async fn index_ledger_targets(&self, max_entries: u64) -> Result<u64, StoreError>;
    /// Writes grown tiles and the checkpoint that covers them in one transaction. A checkpoint
    /// is never replaced: a second one of the same size is refused with `AlreadyExists`, and
    /// one larger than the ledger with `Missing`. A tile only grows: a longer tile extending
    /// the stored hashes replaces them, a prefix of them (a late writer's older view) leaves
    /// them as they are, and any other hashes are refused with `Corrupt` (the stored tree no
    /// longer matches its entries). A refused call writes nothing.
    async fn integrate_ledger(&self, tiles: &[LedgerTile], checkpoint: &StoredCheckpoint) -> Result<(), StoreError>;
    /// The stored hashes of one tile (possibly partial), if any.
    async fn ledger_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError>;
    /// The checkpoint of the largest size.
    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError>;
    async fn checkpoint(&self, size: u64) -> Result<Option<StoredCheckpoint>, StoreError>;
    /// Stores or replaces one witness's cosignature of a stored checkpoint (`Missing` if there
    /// is no checkpoint of that size).
    async fn add_cosignature(&self, cosignature: &StoredCosignature) -> Result<(), StoreError>;
    /// The cosignatures of the checkpoint of `size`, by witness name.
    async fn cosignatures(&self, size: u64) -> Result<Vec<StoredCosignature>, StoreError>;

    // Absentee and provisional ballots. The rules live in canvass-core's `ballots`; the store
    // keeps each ballot's current status and its append-only history.

    /// Stores a new ballot with its first history row (from no status to `ballot.status`, on
    /// `ballot.opened_on`, by `actor`) in one transaction; returns its id (`ballot.id` is
    /// ignored). `Missing` if the jurisdiction has no voter with that registration number or
    /// the election does not exist; `AlreadyExists` if the voter already has a ballot of this
    /// kind in this election that is not cancelled.
    async fn insert_ballot(&self, ballot: &StoredBallot, actor: &str) -> Result<i64, StoreError>;
    /// Moves the ballot from `change.from` to `change.to` (with the change's cure deadline and
    /// day) and appends the change, in one transaction, compare-and-set on the stored status:
    /// `false` and nothing written if the ballot is no longer in `change.from`. `Missing` if
    /// there is no such ballot of that voter. `change.id` is ignored.
    async fn change_ballot_status(&self, change: &StoredBallotChange) -> Result<bool, StoreError>;
    /// The voter's ballots, oldest first (empty if none or no such voter).
    async fn voter_ballots(&self, registration_number: &str) -> Result<Vec<StoredBallot>, StoreError>;
    /// Every status change of the voter's ballots, oldest first.
    async fn voter_ballot_changes(&self, registration_number: &str) -> Result<Vec<StoredBallotChange>, StoreError>;
    // Voter history and signature images (issue 6). History rows are public record (ids, dates,
    // codes) linked to the roll; signature images arrive sealed.

    /// Writes one history batch atomically: each vote is inserted, or replaces the stored vote
    /// of the same (voter, election day, description) when any value differs (left alone when
    /// none does); the import's position moves and its counts grow by what the batch did plus
    /// `batch.rejected`. `Missing` if the import does not exist or is finished, or a vote names
    /// a voter not on the roll. All or nothing.
    async fn write_vote_history_batch(&self, batch: &VoteHistoryBatch<'_>) -> Result<VoteHistoryWritten, StoreError>;
    /// The voter's votes, newest election first (then by description).
    async fn vote_history(&self, registration_number: &str) -> Result<Vec<StoredVote>, StoreError>;
    /// Stores the voter's signature image, replacing an earlier one. `Missing` if the
    /// jurisdiction has no voter with that registration number.
    async fn put_voter_signature(&self, signature: &StoredSignature) -> Result<(), StoreError>;
    /// The voter's signature image in this jurisdiction, if there is one.
    async fn voter_signature(
        &self,
        jurisdiction: &JurisdictionId,
        registration_number: &str,
    ) -> Result<Option<StoredSignature>, StoreError>;
    /// Up to `limit` signature images of a jurisdiction still sealed under `key_version`.
    async fn signatures_sealed_with(
        &self,
        jurisdiction: &JurisdictionId,
        key_version: u32,
        limit: u32,
    ) -> Result<Vec<StoredSignature>, StoreError>;
    /// Replaces the sealed image and key version of signatures still sealed under
    /// `previous_version` (others are left for the next pass); returns how many were replaced.
    async fn reseal_signatures(&self, signatures: &[StoredSignature], previous_version: u32)
    -> Result<u64, StoreError>;
    // The first load of a voter roll (issue 6's import benchmark).
    /// When no voter is stored at all, drops the voters' secondary indexes (precinct, key
    /// version and the four blind indexes) so a first import writes only the table and its
    /// key, and returns true; otherwise changes nothing and returns false. The table and its
    /// queries stay correct without them (only slower); [`Store::build_voter_indexes`] puts
    /// them back, and opening the store does too, so an interrupted load cannot leave them
    /// missing for long.
    async fn defer_voter_indexes(&self) -> Result<bool, StoreError>;
    /// Builds whichever of the voters' secondary indexes is missing (one sorted pass each,
    /// far cheaper than a million random inserts); does nothing when none is.
    async fn build_voter_indexes(&self) -> Result<(), StoreError>;
    // Duplicate detection (`duplicates`): the store compares blind indexes inside one roll;
    // the server opens the records to confirm and decides.

    /// A page of candidate pairs (see [`DuplicateQuery`]), in (first, second, rule) order; a
    /// pair agreeing on both indexes is listed once per rule.
    async fn duplicate_candidates(&self, query: &DuplicateQuery<'_>) -> Result<Vec<DuplicateCandidate>, StoreError>;
    /// Stores a decision (checked by [`duplicates::check_decision`]); returns its id. `Missing`
    /// if either record or the jurisdiction does not exist. Decisions are append-only.
    async fn record_duplicate_decision(&self, decision: &DuplicateDecision) -> Result<i64, StoreError>;
    /// The decisions naming the record (as either of its pair), oldest first.
    async fn duplicate_decisions(&self, registration_number: &str) -> Result<Vec<DuplicateDecision>, StoreError>;

    // Election definitions (issue 7): what an election asks and where.

    /// Stores a whole definition in one transaction: its counties and precincts not yet in the
    /// tree (existing ones are kept unchanged), the election, its contests and choices, and which
    /// precincts vote on each contest. `AlreadyExists` if the election id is taken; `Missing` if
    /// a county's parent or a covered precinct is not there.
    async fn insert_election_definition(&self, definition: &ElectionDefinition) -> Result<(), StoreError>;
    /// Which precincts vote on each contest of an election (empty for an election stored
    /// without coverage).
    async fn contest_coverage(
        &self,
        election: &ElectionId,
    ) -> Result<BTreeMap<ContestId, BTreeSet<PrecinctId>>, StoreError>;
    /// The definition as stored: the election, its contests, their coverage, and the precincts
    /// and counties covered; `None` for an unknown election.
    async fn election_definition(&self, id: &ElectionId) -> Result<Option<ElectionDefinition>, StoreError> {
        let Some(election) = self.election(id).await? else {
            return Ok(None);
        };
        let contests = self.contests(id).await?;
        let coverage = self.contest_coverage(id).await?;
        let covered: BTreeSet<&PrecinctId> = coverage.values().flatten().collect();
        let precincts: Vec<Precinct> =
            self.precincts(None).await?.into_iter().filter(|precinct| covered.contains(&precinct.id)).collect();
        let county_ids: BTreeSet<&JurisdictionId> = precincts.iter().map(|precinct| &precinct.jurisdiction).collect();
        let counties =
            self.jurisdictions().await?.into_iter().filter(|county| county_ids.contains(&county.id)).collect();
        Ok(Some(ElectionDefinition { election, contests, counties, precincts, coverage }))
    }

    // Election-night results (issue 7, `results`): accepted changes and the returns they brought.

    /// Writes an accepted change and its precinct returns in one transaction, if and only if
    /// `change.sequence` is the election's next (one more than the last stored, 1 for the
    /// first); otherwise writes nothing and answers `SequenceTaken`, so two uploads checked
    /// against the same state cannot both be stored. `Missing` for an unknown election or
    /// precinct. Changes and returns are append-only.
    async fn accept_results_change(
        &self,
        change: &StoredResultsChange,
        returns: &[canvass_core::results::PrecinctReturn],
    ) -> Result<ResultsWrite, StoreError>;
    /// Every accepted change of an election, oldest first.
    async fn results_changes(&self, election: &ElectionId) -> Result<Vec<StoredResultsChange>, StoreError>;
    /// Every stored precinct return of an election, by precinct then sequence (the last of each
    /// precinct is its latest).
    async fn precinct_returns(&self, election: &ElectionId) -> Result<Vec<StoredPrecinctReturn>, StoreError>;
    // Published results snapshots (`results_snapshots`): append-only, bodies kept once per hash.

    /// Stores a snapshot, its file list and the bodies not stored yet, in one transaction.
    /// `AlreadyExists` if the election already has a snapshot of that sequence; `Missing` if a
    /// file names a body neither stored nor given. Bodies already stored are left as they are.
    async fn put_results_snapshot(&self, snapshot: &StoredSnapshot, bodies: &[StoredBody]) -> Result<(), StoreError>;
    /// Which of `hashes` have a stored body.
    async fn known_results_bodies(&self, hashes: &[String]) -> Result<Vec<String>, StoreError>;
    /// A stored body by its SHA-256.
    async fn results_body(&self, sha256: &str) -> Result<Option<StoredBody>, StoreError>;
    /// One snapshot with its manifest, signature and files.
    async fn results_snapshot(
        &self,
        election: &ElectionId,
        sequence: u64,
    ) -> Result<Option<StoredSnapshot>, StoreError>;
    /// Every snapshot of the election, oldest first.
    async fn results_snapshots(&self, election: &ElectionId) -> Result<Vec<SnapshotHeader>, StoreError>;
    /// Each election's latest snapshot (its `current`), newest election day first.
    async fn latest_results_snapshots(&self) -> Result<Vec<SnapshotHeader>, StoreError>;

    // The incident register's timeline (issue 8, migration 0016).

    /// One incident by id.
    async fn incident(&self, id: &str) -> Result<Option<StoredIncident>, StoreError>;
    /// Incidents matching the query, newest first.
    async fn incidents_matching(&self, query: &IncidentQuery) -> Result<Vec<StoredIncident>, StoreError>;
    /// Appends an update and sets the incident's values to the update's, in one transaction.
    /// `Ok(false)` when the update's sequence is not the incident's revision + 1 (someone else
    /// updated it first; nothing written); `Missing` for an unknown incident; `AlreadyExists`
    /// when reopening would give a detector key a second unfinished incident.
    async fn add_incident_update(&self, update: &StoredIncidentUpdate) -> Result<bool, StoreError>;
    /// An incident's updates, oldest first.
    async fn incident_updates(&self, id: &str) -> Result<Vec<StoredIncidentUpdate>, StoreError>;

    // Overseas and military voters (UOCAVA). Requests, deliveries and FWAB receipts hold ids,
    // codes and times; a link is kept as its token's hash.

    /// Stores a request; returns its id (`request.id` is ignored). `Missing` if the jurisdiction
    /// has no voter with that registration number.
    async fn insert_uocava_request(&self, request: &StoredUocavaRequest) -> Result<i64, StoreError>;
    /// Every request for `year`, oldest first (a voter's later request supersedes).
    async fn uocava_requests(&self, year: i32) -> Result<Vec<StoredUocavaRequest>, StoreError>;
    /// Stores a delivery; returns its id. `Missing` for an unknown voter or election;
    /// `AlreadyExists` if the token hash is taken.
    async fn insert_uocava_delivery(&self, delivery: &StoredUocavaDelivery) -> Result<i64, StoreError>;
    /// Every delivery for the election, oldest first.
    async fn uocava_deliveries(&self, election: &ElectionId) -> Result<Vec<StoredUocavaDelivery>, StoreError>;
    /// The link delivery whose token hashes to `token_hash`.
    async fn uocava_delivery_by_token(&self, token_hash: &str) -> Result<Option<StoredUocavaDelivery>, StoreError>;
    /// Marks a link used at `at`, compare-and-set: `false` and nothing written if it was used
    /// already or expired at `at`.
    async fn use_uocava_link(&self, id: i64, at: i64) -> Result<bool, StoreError>;
    /// Records an FWAB received; `AlreadyExists` if one is recorded for the voter and election,
    /// `Missing` for an unknown voter or election.
    async fn insert_uocava_fwab(&self, fwab: &StoredFwab) -> Result<i64, StoreError>;
    /// Every FWAB recorded for the election, oldest first.
    async fn uocava_fwabs(&self, election: &ElectionId) -> Result<Vec<StoredFwab>, StoreError>;

    // One voter's UOCAVA tracking, for the public "Did my ballot count?" page: read by
    // registration number (an index, migration 0020), so a lookup costs the same whoever it is for.

    /// The voter's requests, every year, oldest first; empty for a number no voter has.
    async fn voter_uocava_requests(&self, registration_number: &str) -> Result<Vec<StoredUocavaRequest>, StoreError>;
    /// The blank ballots sent to the voter, every election, oldest first; empty for a number no
    /// voter has.
    async fn voter_uocava_deliveries(&self, registration_number: &str)
    -> Result<Vec<StoredUocavaDelivery>, StoreError>;

    // FPCAs from the public form held for a clerk's decision (migration 0021): the request
    // sealed, the voter it matched, one decision each. Append-only.

    /// Stores a held FPCA (`decision` ignored). `AlreadyExists` for a taken id; `Missing` if
    /// the jurisdiction has no voter with that registration number.
    async fn insert_pending_fpca(&self, pending: &StoredPendingFpca) -> Result<(), StoreError>;
    /// Every held FPCA with its decision, if any, oldest first; only the undecided with
    /// `undecided_only`.
    async fn pending_fpcas(&self, undecided_only: bool) -> Result<Vec<StoredPendingFpca>, StoreError>;
    /// One held FPCA with its decision.
    async fn pending_fpca(&self, id: &str) -> Result<Option<StoredPendingFpca>, StoreError>;
    /// Records the decision, once: `false` and nothing written if one is recorded already;
    /// `Missing` for an unknown id.
    async fn decide_pending_fpca(&self, id: &str, decision: &FpcaDecision) -> Result<bool, StoreError>;
}
