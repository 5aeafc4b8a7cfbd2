//! What the store keeps for the audit ledger: the entries (append-only, never updated or
//! deleted), the Merkle tree's hash tiles, the signed checkpoints and witnesses' cosignatures.
//! The store knows nothing of Merkle trees: the ledger service hands it finished tiles and
//! signed notes, and reads them back for the `/log/` routes.

use crate::StoreError;

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

/// The most entries one `Store::search_ledger` call returns, whatever the query asks for: a
/// search is a page for a person to read, and the cursor fetches the next one.
pub const LEDGER_SEARCH_LIMIT: u32 = 1000;

impl LedgerAppend {
    /// Its targets without repeats, in first-seen order. The store keeps each (entry, target)
    /// pair once; the body still holds the targets exactly as given.
    pub fn distinct_targets(&self) -> Vec<&str> {
        let mut seen = std::collections::HashSet::with_capacity(self.targets.len());
        self.targets.iter().map(String::as_str).filter(|target| seen.insert(*target)).collect()
    }
}

impl LedgerQuery {
    /// The limit a backend applies: the query's, but at most [`LEDGER_SEARCH_LIMIT`].
    pub fn capped_limit(&self) -> u32 {
        self.limit.min(LEDGER_SEARCH_LIMIT)
    }
}

/// Not `AlreadyExists`: a caller may take that as "another process integrated this first",
/// while hashes that contradict the stored tile mean the tree no longer matches its entries.
fn conflicting_tile(tile: &LedgerTile) -> StoreError {
    StoreError::Corrupt(format!(
        "ledger tile {}/{} holds hashes that the new ones do not extend: the tree no longer matches its entries",
        tile.level, tile.index
    ))
}

/// One tile per (level, index) from an integrate call, the longest when the call names a tile
/// twice. Both backends share this so they agree on which writes a tile refuses.
pub fn distinct_tiles(tiles: &[LedgerTile]) -> Result<Vec<&LedgerTile>, StoreError> {
    let mut distinct: std::collections::BTreeMap<(u8, u64), &LedgerTile> = std::collections::BTreeMap::new();
    for tile in tiles {
        match distinct.entry((tile.level, tile.index)) {
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(tile);
            }
            std::collections::btree_map::Entry::Occupied(mut slot) => {
                let kept = *slot.get();
                if tile.hashes.starts_with(&kept.hashes) {
                    slot.insert(tile);
                } else if !kept.hashes.starts_with(&tile.hashes) {
                    return Err(StoreError::Backend(format!(
                        "ledger tile {}/{} is given twice with different hashes",
                        tile.level, tile.index
                    )));
                }
            }
        }
    }
    Ok(distinct.into_values().collect())
}

/// Which of `tiles` to write, given the hashes already stored for them (by level and index).
/// A tile only grows, so: a new tile or a longer one that extends the stored hashes is
/// written; one that is a prefix of the stored hashes (a late writer's older, shorter view)
/// leaves the stored tile as it is; anything else contradicts history and is refused.
pub fn tiles_to_write<'a>(
    tiles: &[&'a LedgerTile],
    stored: &std::collections::HashMap<(u8, u64), Vec<u8>>,
) -> Result<Vec<&'a LedgerTile>, StoreError> {
    let mut writes = Vec::with_capacity(tiles.len());
    for tile in tiles {
        match stored.get(&(tile.level, tile.index)) {
            None => writes.push(*tile),
            Some(hashes) if tile.hashes.len() > hashes.len() && tile.hashes.starts_with(hashes) => writes.push(*tile),
            Some(hashes) if hashes.starts_with(&tile.hashes) => {}
            Some(_) => return Err(conflicting_tile(tile)),
        }
    }
    Ok(writes)
}
