//! The independent verifier: from nothing but a log's public files it checks the checkpoint's
//! signature, re-hashes every entry, compares each hash tile the log serves with the tree it
//! recomputes, and compares the root with the signed one. Given the state it saved last time,
//! it also proves the log only grew: a smaller log is a truncation, another root at the same
//! size a fork, a different prefix a rewrite, each reported with the entries concerned.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{
    Checkpoint, Hash, LedgerError, Note, NoteVerifier, TILE_WIDTH, TilePath, TileSource, TreeBuilder, VerifierKey,
    decode_entry_bundle, leaf_hash,
    tile::decode_hash_tile,
    tree::{TileWrite, perfect_root},
};

/// What the verifier remembers between runs (the `--state` file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedState {
    pub origin: String,
    pub size: u64,
    /// Base64 root hash of the checkpoint last verified.
    pub root: String,
    /// That checkpoint, signatures included, as evidence.
    pub checkpoint: String,
    /// Base64 root of each complete group of 256 entries, so a rewrite can be located.
    pub group_roots: Vec<String>,
}

/// A contradiction in the log: the reason `audit verify` exits non-zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discrepancy {
    /// The entry's bytes do not hash to the hash the log serves for it.
    Entry { index: u64, tile: String },
    /// A served tile of a higher level disagrees with the tree recomputed from the entries.
    Tile { path: String, position: usize, first_entry: u64, last_entry: u64 },
    /// The entries and tiles agree with each other but not with the signed root.
    Root { size: u64, signed: Hash, computed: Hash },
    /// The log is smaller than a checkpoint seen before.
    Truncation { previous: u64, now: u64 },
    /// Two signed checkpoints of the same size with different roots.
    Fork { size: u64, previous: Hash, now: Hash },
    /// The first `size` entries no longer hash to the root seen before.
    Rewrite { size: u64, first_entry: u64, last_entry: u64 },
}

impl fmt::Display for Discrepancy {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Entry { index, tile } => write!(
                formatter,
                "entry {index} does not match its hash in {tile}: the entry or its stored hash was altered"
            ),
            Self::Tile { path, position, first_entry, last_entry } => write!(
                formatter,
                "hash {position} of {path} (entries {first_entry}-{last_entry}) does not match the entries: a stored hash was altered"
            ),
            Self::Root { size, signed, computed } => write!(
                formatter,
                "the {size} entries hash to root {computed}, but the signed checkpoint says {signed}: the log was rewritten"
            ),
            Self::Truncation { previous, now } => write!(
                formatter,
                "truncation: the log had {previous} entries and now has {now}; entries {now}-{} are gone",
                previous - 1
            ),
            Self::Fork { size, previous, now } => write!(
                formatter,
                "fork: two signed checkpoints of size {size} with different roots ({previous} seen before, {now} now)"
            ),
            Self::Rewrite { size, first_entry, last_entry } => write!(
                formatter,
                "rewrite: the first {size} entries no longer match the checkpoint seen before; the change is in entries {first_entry}-{last_entry}"
            ),
        }
    }
}

/// What a successful verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub checkpoint: Checkpoint,
    /// Witnesses whose valid cosignatures the checkpoint carries.
    pub cosigned_by: Vec<String>,
    /// The state to save for the next run.
    pub state: TrustedState,
}

/// Told how far verification has got: entries checked so far, out of the total.
pub trait VerifyProgress {
    fn advance(&mut self, done: u64, total: u64);
}

impl<F: FnMut(u64, u64)> VerifyProgress for F {
    fn advance(&mut self, done: u64, total: u64) {
        self(done, total)
    }
}

/// Verifies a log signed by one key, noting cosignatures by known witnesses.
#[derive(Debug, Clone)]
pub struct LogVerifier {
    pub log_key: VerifierKey,
    pub witnesses: Vec<VerifierKey>,
}

fn fetch(source: &mut dyn TileSource, path: &str) -> Result<Vec<u8>, LedgerError> {
    source.fetch(path)?.ok_or_else(|| LedgerError::Fetch { path: path.to_owned(), reason: "not found".to_owned() })
}

impl LogVerifier {
    /// Fetches and checks the checkpoint alone.
    pub fn checkpoint(&self, source: &mut dyn TileSource) -> Result<(Note, Checkpoint), LedgerError> {
        let note = Note::parse(&fetch(source, "checkpoint")?)?;
        self.log_key.verify(&note)?;
        let checkpoint = Checkpoint::parse(&note.text)?;
        Ok((note, checkpoint))
    }

    pub fn verify(
        &self,
        source: &mut dyn TileSource,
        previous: Option<&TrustedState>,
        progress: &mut dyn VerifyProgress,
    ) -> Result<VerifyReport, LedgerError> {
        let (note, checkpoint) = self.checkpoint(source)?;
        let previous = previous.map(Previous::from_state).transpose()?;
        if let Some(previous) = &previous {
            compare_with_previous(previous, &checkpoint)?;
        }
        let mut walk = Walk { builder: TreeBuilder::new(), group_roots: Vec::new(), completed: Vec::new() };
        let size = checkpoint.size;
        let mut start = 0;
        while start < size {
            let group = start / TILE_WIDTH as u64;
            let count = (size - start).min(TILE_WIDTH as u64);
            walk.add_group(source, group, count, previous.as_ref())?;
            start += count;
            walk.check_completed_tiles(source)?;
            progress.advance(start, size);
        }
        walk.check_partial_tiles(source)?;
        let computed = walk.builder.root();
        if computed != checkpoint.root {
            return Err(LedgerError::Discrepancy(Discrepancy::Root { size, signed: checkpoint.root, computed }));
        }
        let cosigned_by = self
            .witnesses
            .iter()
            .filter(|witness| witness.verify_cosignature(&note).is_ok())
            .map(|witness| witness.name.clone())
            .collect();
        let state = TrustedState {
            origin: checkpoint.origin.clone(),
            size,
            root: checkpoint.root.to_base64(),
            checkpoint: note.to_text(),
            group_roots: walk.group_roots.iter().map(Hash::to_base64).collect(),
        };
        Ok(VerifyReport { checkpoint, cosigned_by, state })
    }
}

struct Previous {
    origin: String,
    size: u64,
    root: Hash,
    group_roots: Vec<Hash>,
}

impl Previous {
    fn from_state(state: &TrustedState) -> Result<Self, LedgerError> {
        Ok(Self {
            origin: state.origin.clone(),
            size: state.size,
            root: Hash::from_base64(&state.root)?,
            group_roots: state.group_roots.iter().map(|root| Hash::from_base64(root)).collect::<Result<_, _>>()?,
        })
    }
}

fn compare_with_previous(previous: &Previous, checkpoint: &Checkpoint) -> Result<(), LedgerError> {
    if previous.origin != checkpoint.origin {
        return Err(LedgerError::Signature(format!(
            "the state file is for log `{}`, this checkpoint is for `{}`",
            previous.origin, checkpoint.origin
        )));
    }
    if checkpoint.size < previous.size {
        return Err(LedgerError::Discrepancy(Discrepancy::Truncation {
            previous: previous.size,
            now: checkpoint.size,
        }));
    }
    if checkpoint.size == previous.size && checkpoint.root != previous.root {
        return Err(LedgerError::Discrepancy(Discrepancy::Fork {
            size: checkpoint.size,
            previous: previous.root,
            now: checkpoint.root,
        }));
    }
    Ok(())
}

struct Walk {
    builder: TreeBuilder,
    /// Roots of each complete group of 256 entries: the level-1 hashes.
    group_roots: Vec<Hash>,
    completed: Vec<TileWrite>,
}

impl Walk {
    fn add_group(
        &mut self,
        source: &mut dyn TileSource,
        group: u64,
        count: u64,
        previous: Option<&Previous>,
    ) -> Result<(), LedgerError> {
        let bundle_path = TilePath::entries(group, count).to_path();
        let bundle = fetch(source, &bundle_path)?;
        let entries = decode_entry_bundle(&bundle)?;
        if entries.len() as u64 != count {
            return Err(LedgerError::malformed(
                "entry bundle",
                format!("{bundle_path} holds {} entries; the checkpoint needs {count}", entries.len()),
            ));
        }
        let tile_path = TilePath::hashes(0, group, count).to_path();
        let hashes = decode_hash_tile(&fetch(source, &tile_path)?)?;
        if hashes.len() as u64 != count {
            return Err(LedgerError::malformed(
                "hash tile",
                format!("{tile_path} holds {} hashes, not {count}", hashes.len()),
            ));
        }
        let first = group * TILE_WIDTH as u64;
        for (offset, (entry, served)) in entries.iter().zip(&hashes).enumerate() {
            let hash = leaf_hash(entry);
            if hash != *served {
                return Err(LedgerError::Discrepancy(Discrepancy::Entry {
                    index: first + offset as u64,
                    tile: tile_path.clone(),
                }));
            }
            self.builder.append(hash, &mut self.completed);
            if count == TILE_WIDTH as u64 && offset + 1 == TILE_WIDTH {
                self.group_roots.push(perfect_root(&hashes));
            }
            if let Some(previous) = previous {
                self.check_prefix(previous)?;
            }
        }
        Ok(())
    }

    /// Once the walk reaches the previously seen size, the prefix must hash to its root.
    fn check_prefix(&self, previous: &Previous) -> Result<(), LedgerError> {
        if self.builder.size() != previous.size || self.builder.root() == previous.root {
            return Ok(());
        }
        let width = TILE_WIDTH as u64;
        let changed_group = self.group_roots.iter().zip(&previous.group_roots).position(|(now, before)| now != before);
        let (first_entry, last_entry) = match changed_group {
            Some(group) => (group as u64 * width, group as u64 * width + width - 1),
            None => ((previous.size / width) * width, previous.size - 1),
        };
        Err(LedgerError::Discrepancy(Discrepancy::Rewrite { size: previous.size, first_entry, last_entry }))
    }

    /// Compares the log's full tiles above level 0 with the recomputed ones.
    fn check_completed_tiles(&mut self, source: &mut dyn TileSource) -> Result<(), LedgerError> {
        let completed = std::mem::take(&mut self.completed);
        for tile in completed.iter().filter(|tile| tile.level > 0) {
            compare_tile(source, tile)?;
        }
        Ok(())
    }

    fn check_partial_tiles(&mut self, source: &mut dyn TileSource) -> Result<(), LedgerError> {
        for tile in self.builder.partial_tiles().iter().filter(|tile| tile.level > 0) {
            compare_tile(source, tile)?;
        }
        Ok(())
    }
}

fn compare_tile(source: &mut dyn TileSource, expected: &TileWrite) -> Result<(), LedgerError> {
    let path = TilePath::hashes(expected.level, expected.index, expected.hashes.len() as u64).to_path();
    let served = decode_hash_tile(&fetch(source, &path)?)?;
    let span = 1u64 << (u32::from(expected.level) * 8);
    for (position, hash) in expected.hashes.iter().enumerate() {
        if served.get(position) != Some(hash) {
            let first_entry = (expected.index * TILE_WIDTH as u64 + position as u64) * span;
            return Err(LedgerError::Discrepancy(Discrepancy::Tile {
                path,
                position,
                first_entry,
                last_entry: first_entry + span - 1,
            }));
        }
    }
    if served.len() != expected.hashes.len() {
        return Err(LedgerError::malformed("hash tile", format!("{path} holds {} hashes", served.len())));
    }
    Ok(())
}
