//! What the store keeps for the audit ledger: the entries (append-only, never updated or
//! deleted), the Merkle tree's hash tiles, the signed checkpoints and witnesses' cosignatures.
//! The store knows nothing of Merkle trees: the ledger service hands it finished tiles and
//! signed notes, and reads them back for the `/log/` routes.

/// One entry to append: the exact leaf bytes, plus copies of the fields admin search filters on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerAppend {
    /// The canonical JSON of the entry; this is what the Merkle leaf hashes.
    pub body: Vec<u8>,
    pub time_millis: i64,
    pub actor: String,
    pub action: String,
    pub jurisdiction: Option<String>,
    pub outcome: String,
    /// Record ids the entry names; searchable one by one.
    pub targets: Vec<String>,
}

/// A stored entry: its index in the log (from 0) and its leaf bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    pub index: u64,
    pub body: Vec<u8>,
}

/// Admin search: every given filter must match. Results come newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    /// An entry matches when any of its targets equals this.
    pub target: Option<String>,
    pub jurisdiction: Option<String>,
    pub outcome: Option<String>,
    /// Inclusive lower bound on `time_millis`.
    pub since_millis: Option<i64>,
    /// Exclusive upper bound on `time_millis`.
    pub until_millis: Option<i64>,
    /// Only entries with a smaller index: the cursor for the next page.
    pub before_index: Option<u64>,
    pub limit: u32,
}

/// A hash tile: up to 256 concatenated 32-byte hashes of one tree level. A tile only grows: the
/// service writes it again, longer, as the tree grows, and its prefix never changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerTile {
    pub level: u8,
    pub index: u64,
    pub hashes: Vec<u8>,
}

/// A signed checkpoint (C2SP tlog-checkpoint signed note) of the tree at `size` entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub note: String,
    pub time_millis: i64,
}

/// A witness's cosignature line for the checkpoint of `size` entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCosignature {
    pub size: u64,
    /// The witness key's name; one cosignature per witness per checkpoint.
    pub witness: String,
    /// The whole signature line, `— name base64`, as the witness wrote it.
    pub line: String,
    pub time_millis: i64,
}
