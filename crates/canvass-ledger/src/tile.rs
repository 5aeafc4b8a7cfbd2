//! C2SP tlog-tiles: the log as static files. Hash tiles hold 256 hashes of one tree level
//! (level L holds the nodes 8L levels above the leaves); entry bundles hold 256 entries, each
//! prefixed with its 16-bit big-endian length. Paths encode the tile index in 3-digit groups,
//! `x001/x234/067`, with `.p/W` for a partial tile of width W.

use std::collections::HashMap;

use crate::{Hash, HashReader, LedgerError, NodeIndex, tree::perfect_root};

/// Tree levels per tile level.
pub const TILE_HEIGHT: u8 = 8;
/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: usize = 256;
/// The deepest tile level a 64-bit tree size can need.
pub const MAX_TILE_LEVEL: u8 = 7;

/// One file of a tlog-tiles log, apart from the checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TilePath {
    /// `tile/<level>/<index>[.p/<width>]`
    Hashes { level: u8, index: u64, width: u16 },
    /// `tile/entries/<index>[.p/<width>]`
    Entries { index: u64, width: u16 },
}

impl TilePath {
    /// The path of the tile holding `count` items from `index * 256`; `count` is clamped to a
    /// full tile, and a full tile's path has no `.p/` part.
    pub fn hashes(level: u8, index: u64, count: u64) -> Self {
        Self::Hashes { level, index, width: count.min(TILE_WIDTH as u64) as u16 }
    }

    pub fn entries(index: u64, count: u64) -> Self {
        Self::Entries { index, width: count.min(TILE_WIDTH as u64) as u16 }
    }

    pub fn width(&self) -> usize {
        match self {
            Self::Hashes { width, .. } | Self::Entries { width, .. } => usize::from(*width),
        }
    }

    /// The path relative to the log's prefix, e.g. `tile/0/x001/234.p/7`.
    pub fn to_path(&self) -> String {
        let (head, index, width) = match self {
            Self::Hashes { level, index, width } => (level.to_string(), *index, *width),
            Self::Entries { index, width } => ("entries".to_owned(), *index, *width),
        };
        let mut path = format!("tile/{head}/{}", encode_index(index));
        if usize::from(width) < TILE_WIDTH {
            path.push_str(&format!(".p/{width}"));
        }
        path
    }

    /// Parses a path in canonical form only: another spelling of the same tile is refused, so
    /// caches and static hosts never hold two copies.
    pub fn parse(path: &str) -> Result<Self, LedgerError> {
        let bad = |reason: &str| LedgerError::malformed("tile path", format!("`{}`: {reason}", printable(path)));
        let rest = path.strip_prefix("tile/").ok_or_else(|| bad("does not start with tile/"))?;
        let (head, rest) = rest.split_once('/').ok_or_else(|| bad("no index"))?;
        let (index_part, width) = match rest.split_once(".p/") {
            Some((index_part, width_text)) => {
                let width: u16 = width_text.parse().map_err(|_| bad("the partial width is not a number"))?;
                if width == 0 || usize::from(width) >= TILE_WIDTH || width_text != width.to_string() {
                    return Err(bad("a partial width must be 1-255 without leading zeros"));
                }
                (index_part, width)
            }
            None => (rest, TILE_WIDTH as u16),
        };
        let index = decode_index(index_part).ok_or_else(|| bad("the index is not in 3-digit groups like x001/234"))?;
        let tile = if head == "entries" {
            Self::Entries { index, width }
        } else {
            let level: u8 = head.parse().map_err(|_| bad("the level is not a number"))?;
            if level > MAX_TILE_LEVEL || head != level.to_string() {
                return Err(bad("the level must be 0-7 without leading zeros"));
            }
            Self::Hashes { level, index, width }
        };
        if tile.to_path() != path {
            return Err(bad("not the canonical spelling"));
        }
        Ok(tile)
    }
}

fn printable(text: &str) -> String {
    text.chars().take(80).map(|c| if c.is_control() { '?' } else { c }).collect()
}

fn encode_index(index: u64) -> String {
    let mut groups = vec![format!("{:03}", index % 1000)];
    let mut rest = index / 1000;
    while rest > 0 {
        groups.push(format!("x{:03}", rest % 1000));
        rest /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

fn decode_index(text: &str) -> Option<u64> {
    let groups: Vec<&str> = text.split('/').collect();
    let (last, leading) = groups.split_last()?;
    let mut index: u64 = 0;
    for group in leading {
        index = index.checked_mul(1000)?.checked_add(three_digits(group.strip_prefix('x')?)?)?;
    }
    index.checked_mul(1000)?.checked_add(three_digits(last)?)
}

fn three_digits(text: &str) -> Option<u64> {
    (text.len() == 3 && text.bytes().all(|byte| byte.is_ascii_digit())).then(|| text.parse().ok())?
}

/// Concatenates entries, each after its 16-bit big-endian length.
pub fn encode_entry_bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<u8>, LedgerError> {
    let mut bundle = Vec::new();
    for entry in entries {
        let length = u16::try_from(entry.len())
            .map_err(|_| LedgerError::Range(format!("an entry of {} bytes does not fit a bundle", entry.len())))?;
        bundle.extend_from_slice(&length.to_be_bytes());
        bundle.extend_from_slice(entry);
    }
    Ok(bundle)
}

/// Splits a bundle into its entries, refusing truncated lengths and trailing bytes.
pub fn decode_entry_bundle(bundle: &[u8]) -> Result<Vec<&[u8]>, LedgerError> {
    let mut entries = Vec::new();
    let mut rest = bundle;
    while !rest.is_empty() {
        let Some((length, tail)) = rest.split_first_chunk::<2>() else {
            return Err(LedgerError::malformed(
                "entry bundle",
                format!("a length is cut off after entry {}", entries.len()),
            ));
        };
        let length = usize::from(u16::from_be_bytes(*length));
        if tail.len() < length {
            return Err(LedgerError::malformed(
                "entry bundle",
                format!("entry {} says {length} bytes but {} remain", entries.len(), tail.len()),
            ));
        }
        let (entry, after) = tail.split_at(length);
        entries.push(entry);
        rest = after;
        if entries.len() > TILE_WIDTH {
            return Err(LedgerError::malformed("entry bundle", "more than 256 entries"));
        }
    }
    Ok(entries)
}

/// Splits a hash tile into hashes, refusing a length that is not a whole number of hashes.
pub(crate) fn decode_hash_tile(bytes: &[u8]) -> Result<Vec<Hash>, LedgerError> {
    if !bytes.len().is_multiple_of(32) || bytes.len() > 32 * TILE_WIDTH {
        return Err(LedgerError::malformed(
            "hash tile",
            format!("{} bytes is not 1-256 hashes of 32 bytes", bytes.len()),
        ));
    }
    bytes.chunks_exact(32).map(Hash::from_slice).collect()
}

/// The hash of `node` from the hashes of the tile containing it. Returns `None` when the tile
/// is too short to hold the node.
pub fn tile_node_hash(tile: &[Hash], node: NodeIndex) -> Option<Hash> {
    let within = node.level % TILE_HEIGHT;
    let width = 1usize << within;
    let start = ((node.index << within) % TILE_WIDTH as u64) as usize;
    tile.get(start..start + width).map(perfect_root)
}

/// The tile (level, index) holding `node`, and how many hashes of it a tree of `size` has.
fn tile_of(node: NodeIndex, size: u64) -> (u8, u64, u64) {
    let level = node.level / TILE_HEIGHT;
    let first = node.index << (node.level % TILE_HEIGHT);
    let index = first / TILE_WIDTH as u64;
    let shift = u32::from(level) * u32::from(TILE_HEIGHT);
    let available = (size >> shift).saturating_sub(index * TILE_WIDTH as u64);
    (level, index, available.min(TILE_WIDTH as u64))
}

/// Where a log's files come from: an HTTP server, a directory, a store.
pub trait TileSource {
    /// The bytes at `path` (`checkpoint`, `tile/0/000`, ...), or `None` when there is no such file.
    fn fetch(&mut self, path: &str) -> Result<Option<Vec<u8>>, LedgerError>;
}

impl<T: TileSource + ?Sized> TileSource for &mut T {
    fn fetch(&mut self, path: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        (**self).fetch(path)
    }
}

/// Reads node hashes of the tree of `size` from a tile source, fetching each tile once.
#[derive(Debug)]
pub struct TileReader<S> {
    source: S,
    size: u64,
    cache: HashMap<(u8, u64), Vec<Hash>>,
}

impl<S: TileSource> TileReader<S> {
    pub fn new(source: S, size: u64) -> Self {
        Self { source, size, cache: HashMap::new() }
    }

    pub fn into_source(self) -> S {
        self.source
    }

    fn tile(&mut self, level: u8, index: u64, count: u64) -> Result<&Vec<Hash>, LedgerError> {
        if !self.cache.contains_key(&(level, index)) {
            let path = TilePath::hashes(level, index, count).to_path();
            let bytes = self
                .source
                .fetch(&path)?
                .ok_or_else(|| LedgerError::Fetch { path: path.clone(), reason: "not found".to_owned() })?;
            let hashes = decode_hash_tile(&bytes)?;
            if hashes.len() as u64 != count {
                return Err(LedgerError::malformed("hash tile", format!("{path} holds {} hashes", hashes.len())));
            }
            self.cache.insert((level, index), hashes);
        }
        self.cache.get(&(level, index)).ok_or_else(|| LedgerError::Range("tile cache".to_owned()))
    }
}

impl<S: TileSource> HashReader for TileReader<S> {
    fn read_hashes(&mut self, nodes: &[NodeIndex]) -> Result<Vec<Hash>, LedgerError> {
        let size = self.size;
        nodes
            .iter()
            .map(|node| {
                if node.first_leaf() + node.leaf_count() > size {
                    return Err(LedgerError::Range(format!("node {node:?} is past a tree of {size}")));
                }
                let (level, index, count) = tile_of(*node, size);
                let tile = self.tile(level, index, count)?;
                tile_node_hash(tile, *node)
                    .ok_or_else(|| LedgerError::Range(format!("tile {level}/{index} does not hold node {node:?}")))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn paths_follow_the_specification_examples() {
        assert_eq!(TilePath::hashes(0, 1_234_067, 256).to_path(), "tile/0/x001/x234/067");
        assert_eq!(TilePath::hashes(1, 0, 7).to_path(), "tile/1/000.p/7");
        assert_eq!(TilePath::entries(1000, 256).to_path(), "tile/entries/x001/000");
        for path in ["tile/0/x001/x234/067", "tile/1/000.p/7", "tile/entries/x001/000", "tile/entries/999.p/255"] {
            assert_eq!(TilePath::parse(path).unwrap().to_path(), path);
        }
    }

    #[test]
    fn non_canonical_or_hostile_paths_are_refused() {
        for path in [
            "tile/0/1",
            "tile/0/x000/001",
            "tile/0/001.p/0",
            "tile/0/001.p/256",
            "tile/0/001.p/07",
            "tile/00/001",
            "tile/8/001",
            "tile/0/../001",
            "tile/0/x18446744073709551615/000",
            "tile/entries/abc",
            "checkpoint",
            "tile/0/x999/x999/x999/x999/x999/x999/x999/999",
        ] {
            assert!(TilePath::parse(path).is_err(), "{path}");
        }
    }

    #[test]
    fn bundles_round_trip_and_refuse_damage() {
        let entries: Vec<&[u8]> = vec![b"one", b"", b"three"];
        let bundle = encode_entry_bundle(entries.clone()).unwrap();
        assert_eq!(decode_entry_bundle(&bundle).unwrap(), entries);
        assert!(decode_entry_bundle(&bundle[..bundle.len() - 1]).is_err());
        assert!(decode_entry_bundle(&[0]).is_err());
        assert!(encode_entry_bundle([vec![0u8; 70_000].as_slice()]).is_err());
    }
}
