//! Reading the audit ledger back: the public tlog-tiles files (`/log/checkpoint`, `/log/tile/...`)
//! served from the store, the same files written to a directory for any static host, witnesses'
//! cosignatures coming in, and admin search of entries.

use std::path::Path;

use canvass_core::{
    audit::{Action, Actor, AuditEntry, Outcome, unix_millis},
    id::JurisdictionId,
};
use canvass_ledger::{Note, TILE_WIDTH, TilePath, encode_entry_bundle};
use canvass_store::{LedgerQuery, Store, StoredCheckpoint, StoredCosignature};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{ServerError, ledger::LogIdentity};

/// The latest checkpoint with every stored cosignature appended, as `/log/checkpoint` serves
/// it; `None` before the first checkpoint.
pub async fn checkpoint_text(store: &dyn Store) -> Result<Option<String>, ServerError> {
    match store.latest_checkpoint().await? {
        Some(latest) => Ok(Some(with_cosignatures(store, latest).await?)),
        None => Ok(None),
    }
}

async fn with_cosignatures(store: &dyn Store, checkpoint: StoredCheckpoint) -> Result<String, ServerError> {
    let mut text = checkpoint.note;
    for cosignature in store.cosignatures(checkpoint.size).await? {
        text.push_str(&cosignature.line);
        if !cosignature.line.ends_with('\n') {
            text.push('\n');
        }
    }
    Ok(text)
}

/// The bytes of one tile file (`tile/...`), or `None` if the path is not a file of the
/// signed tree.
pub async fn tile(store: &dyn Store, path: &str) -> Result<Option<Vec<u8>>, ServerError> {
    let Ok(tile) = TilePath::parse(path) else {
        return Ok(None);
    };
    let size = store.latest_checkpoint().await?.map_or(0, |checkpoint| checkpoint.size);
    tile_of_tree(store, tile, size).await
}

/// The bytes of `tile` in the tree of `size` entries, or `None` if that tree has no such file.
pub(crate) async fn tile_of_tree(store: &dyn Store, tile: TilePath, size: u64) -> Result<Option<Vec<u8>>, ServerError> {
    let width = tile.width() as u64;
    let (items, index) = match tile {
        TilePath::Hashes { level, index, .. } => (size >> (u32::from(level) * 8), index),
        TilePath::Entries { index, .. } => (size, index),
    };
    // A partial tile of an older, smaller tree is a prefix of today's: served too, so clients
    // holding an old checkpoint can still read it.
    if items.saturating_sub(index * TILE_WIDTH as u64) < width {
        return Ok(None);
    }
    match tile {
        TilePath::Hashes { level, index, .. } => {
            let Some(hashes) = store.ledger_tile(level, index).await? else {
                return Ok(None);
            };
            Ok(hashes.get(..(width as usize) * 32).map(<[u8]>::to_vec))
        }
        TilePath::Entries { index, .. } => {
            let rows = store.ledger_entries(index * TILE_WIDTH as u64, width as u32).await?;
            if rows.len() as u64 != width {
                return Ok(None);
            }
            let bundle = encode_entry_bundle(rows.iter().map(|row| row.body.as_slice()))
                .map_err(|error| ServerError::Internal(error.to_string()))?;
            Ok(Some(bundle))
        }
    }
}

/// Every file of the signed log, by path: each hash tile and entry bundle, then the
/// checkpoint they belong to (read once, so a checkpoint signed meanwhile cannot mix in).
/// `visit` is called once per file, in order, so a large log streams to disk.
pub async fn for_each_file(
    store: &dyn Store,
    mut visit: impl FnMut(&str, &[u8]) -> Result<(), ServerError>,
) -> Result<u64, ServerError> {
    let Some(latest) = store.latest_checkpoint().await? else {
        return Ok(0);
    };
    let size = latest.size;
    let checkpoint = with_cosignatures(store, latest).await?;
    let width = TILE_WIDTH as u64;
    let mut tiles = Vec::new();
    for level in 0..8u32 {
        let nodes = size >> (level * 8);
        if nodes == 0 {
            break;
        }
        tiles.extend(
            (0..nodes.div_ceil(width))
                .map(|index| TilePath::hashes(level as u8, index, (nodes - index * width).min(width))),
        );
    }
    tiles.extend((0..size.div_ceil(width)).map(|index| TilePath::entries(index, (size - index * width).min(width))));
    for tile in tiles {
        let path = tile.to_path();
        let bytes = tile_of_tree(store, tile, size).await?.ok_or_else(|| missing(&path))?;
        visit(&path, &bytes)?;
    }
    visit("checkpoint", checkpoint.as_bytes())?;
    Ok(size)
}

fn missing(path: &str) -> ServerError {
    ServerError::Internal(format!("the store lacks {path} of the signed tree"))
}

/// Writes the log to `directory` as static files (checkpoint last, so a host serving the
/// directory while it is written never names tiles that are not there yet).
pub async fn publish(store: &dyn Store, directory: &Path) -> Result<u64, ServerError> {
    let io = |error: std::io::Error| ServerError::Invalid(format!("cannot write to {}: {error}", directory.display()));
    std::fs::create_dir_all(directory).map_err(io)?;
    for_each_file(store, |path, bytes| {
        let target = directory.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let staging = target.with_extension("partial-write");
        std::fs::write(&staging, bytes).map_err(io)?;
        std::fs::rename(&staging, &target).map_err(io)
    })
    .await
}

/// Accepts a cosigned checkpoint from a witness this node trusts: stores each valid
/// cosignature by a configured witness key of one of this node's checkpoints. Returns the
/// names of the witnesses whose cosignatures were stored.
pub async fn add_cosignatures(
    store: &dyn Store,
    identity: &LogIdentity,
    body: &[u8],
) -> Result<Vec<String>, ServerError> {
    let note = Note::parse(body).map_err(|error| ServerError::Invalid(error.to_string()))?;
    let checkpoint =
        canvass_ledger::Checkpoint::parse(&note.text).map_err(|error| ServerError::Invalid(error.to_string()))?;
    let stored = store
        .checkpoint(checkpoint.size)
        .await?
        .ok_or_else(|| ServerError::NotFound(format!("this log has no checkpoint of size {}", checkpoint.size)))?;
    let ours = Note::parse(stored.note.as_bytes()).map_err(|error| ServerError::Internal(error.to_string()))?;
    if ours.text != note.text {
        return Err(ServerError::Invalid("that checkpoint is not one this log signed".into()));
    }
    let mut accepted = Vec::new();
    for witness in &identity.witnesses {
        if witness.verify_cosignature(&note).is_err() {
            continue;
        }
        let Some(signature) = note
            .signatures
            .iter()
            .find(|signature| signature.name == witness.name && signature.key_id == witness.key_id)
        else {
            continue;
        };
        let cosignature = StoredCosignature {
            size: checkpoint.size,
            witness: witness.name.clone(),
            line: signature.to_line(),
            time_millis: unix_millis(OffsetDateTime::now_utc()),
        };
        // Not a ledger entry: recording it would grow the log past the checkpoint just
        // cosigned. The cosignature is its own signed, public evidence.
        store.add_cosignature(&cosignature).await?;
        accepted.push(witness.name.clone());
    }
    if accepted.is_empty() {
        return Err(ServerError::Unauthorized);
    }
    Ok(accepted)
}

/// Admin search filters, parsed.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub actor: Option<Actor>,
    pub action: Option<Action>,
    pub record: Option<String>,
    pub jurisdiction: Option<JurisdictionId>,
    pub outcome: Option<Outcome>,
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    pub before: Option<u64>,
    pub limit: u32,
}

/// The most entries one search returns.
pub const MAX_SEARCH_RESULTS: u32 = 1000;

/// Reads a time bound: RFC 3339 (`2026-11-03T20:00:00Z`) or a date (`2026-11-03`, midnight UTC).
pub fn parse_time(field: &str, value: &str) -> Result<OffsetDateTime, ServerError> {
    if let Ok(time) = OffsetDateTime::parse(value, &Rfc3339) {
        return Ok(time);
    }
    let date = time::Date::parse(value, &time::format_description::well_known::Iso8601::DATE).map_err(|_| {
        ServerError::Invalid(format!("{field} `{value}` is neither a date (YYYY-MM-DD) nor an RFC 3339 time"))
    })?;
    Ok(date.midnight().assume_utc())
}

/// Entries matching every filter, newest first.
pub async fn search(store: &dyn Store, search: &Search) -> Result<Vec<(u64, AuditEntry)>, ServerError> {
    let query = LedgerQuery {
        actor: search.actor.as_ref().map(ToString::to_string),
        action: search.action.map(|action| action.as_str().to_owned()),
        target: search.record.clone(),
        jurisdiction: search.jurisdiction.as_ref().map(ToString::to_string),
        outcome: search.outcome.map(|outcome| outcome.as_str().to_owned()),
        since_millis: search.since.map(unix_millis),
        until_millis: search.until.map(unix_millis),
        before_index: search.before,
        limit: search.limit.clamp(1, MAX_SEARCH_RESULTS),
    };
    decode_rows(store.search_ledger(&query).await?)
}

fn decode_rows(rows: Vec<canvass_store::LedgerRow>) -> Result<Vec<(u64, AuditEntry)>, ServerError> {
    rows.into_iter()
        .map(|row| {
            AuditEntry::decode(&row.body).map(|entry| (row.index, entry)).map_err(|_| {
                ServerError::Internal(format!(
                    "ledger entry {} cannot be read: run `canvass audit verify` against this node",
                    row.index
                ))
            })
        })
        .collect()
}

/// Entries in index order from `start`, for exports.
pub async fn entries_from(store: &dyn Store, start: u64, limit: u32) -> Result<Vec<(u64, AuditEntry)>, ServerError> {
    decode_rows(store.ledger_entries(start, limit).await?)
}
