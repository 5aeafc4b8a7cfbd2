//! Building the tree as entries arrive. [`TreeBuilder`] keeps only the right edge (the
//! incomplete tile of each level, at most 255 hashes a level), hands out tiles as they grow,
//! and computes the root: memory stays small whatever the log's size. [`MemoryTree`] keeps
//! every node, for tests and benchmarks.

use crate::{
    EMPTY_ROOT, Hash, HashReader, LedgerError, NodeIndex, TILE_HEIGHT, TILE_WIDTH, node_hash,
    proof::fold_subtree_hashes,
};

/// A tile to store: `hashes` is its whole content so far (a tile only grows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileWrite {
    pub level: u8,
    pub index: u64,
    pub hashes: Vec<Hash>,
}

impl TileWrite {
    pub fn bytes(&self) -> Vec<u8> {
        self.hashes.iter().flat_map(|hash| hash.0).collect()
    }
}

/// The Merkle root of a power-of-two run of sibling hashes.
pub(crate) fn perfect_root(hashes: &[Hash]) -> Hash {
    let mut level: Vec<Hash> = hashes.to_vec();
    while level.len() > 1 {
        level =
            level.chunks(2).map(|pair| if pair.len() == 2 { node_hash(&pair[0], &pair[1]) } else { pair[0] }).collect();
    }
    level.first().copied().unwrap_or(EMPTY_ROOT)
}

/// The right edge of a growing tree, tile by tile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeBuilder {
    size: u64,
    /// `edges[level]`: the hashes of the rightmost, incomplete tile of that tile level.
    edges: Vec<Vec<Hash>>,
}

fn tile_shift(level: usize) -> u32 {
    (level as u32) * u32::from(TILE_HEIGHT)
}

impl TreeBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds one leaf; every tile it completes is pushed onto `completed`.
    pub fn append(&mut self, leaf: Hash, completed: &mut Vec<TileWrite>) {
        self.size += 1;
        let mut hash = leaf;
        let mut level = 0;
        loop {
            if self.edges.len() == level {
                self.edges.push(Vec::with_capacity(TILE_WIDTH));
            }
            self.edges[level].push(hash);
            if self.edges[level].len() < TILE_WIDTH {
                return;
            }
            let full = std::mem::replace(&mut self.edges[level], Vec::with_capacity(TILE_WIDTH));
            hash = perfect_root(&full);
            let index = (self.size >> tile_shift(level + 1)) - 1;
            completed.push(TileWrite { level: level as u8, index, hashes: full });
            level += 1;
        }
    }

    /// The incomplete tiles of the right edge, lowest level first (none when a level is empty).
    pub fn partial_tiles(&self) -> Vec<TileWrite> {
        self.edges
            .iter()
            .enumerate()
            .filter(|(_, hashes)| !hashes.is_empty())
            .map(|(level, hashes)| TileWrite {
                level: level as u8,
                index: self.size >> tile_shift(level + 1),
                hashes: hashes.clone(),
            })
            .collect()
    }

    /// The tree's root hash now.
    pub fn root(&self) -> Hash {
        let mut subtrees = Vec::new();
        for hashes in self.edges.iter().rev() {
            let mut position = 0;
            for bit in (0..TILE_HEIGHT).rev() {
                let width = 1usize << bit;
                if hashes.len() & width != 0 {
                    subtrees.push(perfect_root(&hashes[position..position + width]));
                    position += width;
                }
            }
        }
        fold_subtree_hashes(&subtrees)
    }

    /// The tiles a tree of `size` leaves has on its right edge that are not full, as (level,
    /// index): what [`TreeBuilder::from_tiles`] reads.
    pub fn edge_tiles(size: u64) -> Vec<(u8, u64)> {
        edge_levels(size).filter(|(_, _, count)| *count > 0).map(|(level, index, _)| (level, index)).collect()
    }

    /// Rebuilds the right edge of a tree of `size` leaves from stored tiles; `read_tile` gives
    /// a tile's hashes (it may hold more than the tree needs, never fewer).
    pub fn from_tiles(
        size: u64,
        mut read_tile: impl FnMut(u8, u64) -> Result<Option<Vec<Hash>>, LedgerError>,
    ) -> Result<Self, LedgerError> {
        let mut edges = Vec::new();
        for (level, index, count) in edge_levels(size) {
            let mut hashes = Vec::with_capacity(TILE_WIDTH);
            if count > 0 {
                let stored = read_tile(level, index)?.unwrap_or_default();
                if stored.len() < count {
                    return Err(LedgerError::Range(format!(
                        "tile {level}/{index} holds {} hashes; a tree of {size} needs {count}",
                        stored.len()
                    )));
                }
                hashes.extend_from_slice(&stored[..count]);
            }
            edges.push(hashes);
        }
        Ok(Self { size, edges })
    }
}

/// For each tile level a tree of `size` reaches, lowest first: the level, the index of its
/// last tile, and how many hashes of that tile the tree uses (0 when the last tile is full).
/// Eight levels of eight tree levels cover any 64-bit size.
fn edge_levels(size: u64) -> impl Iterator<Item = (u8, u64, usize)> {
    (0..8u32).map_while(move |level| {
        let items = size.checked_shr(level * u32::from(TILE_HEIGHT)).filter(|items| *items > 0)?;
        Some((level as u8, items / TILE_WIDTH as u64, (items % TILE_WIDTH as u64) as usize))
    })
}

/// Every node of a tree, in memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryTree {
    /// `levels[level][index]`: the complete perfect subtrees.
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    pub fn append(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(hash);
            let count = self.levels[level].len();
            if count % 2 == 1 {
                return;
            }
            hash = node_hash(&self.levels[level][count - 2], &self.levels[level][count - 1]);
            level += 1;
        }
    }

    pub fn root(&self) -> Hash {
        let size = self.size();
        // Every subtree of 0..size is present, so the read cannot fail.
        crate::range_hash(0, size, &mut MemoryReader(self)).unwrap_or(EMPTY_ROOT)
    }

    /// A reader over this tree's nodes.
    pub fn reader(&self) -> impl HashReader + '_ {
        MemoryReader(self)
    }
}

struct MemoryReader<'a>(&'a MemoryTree);

impl HashReader for MemoryReader<'_> {
    fn read_hashes(&mut self, nodes: &[NodeIndex]) -> Result<Vec<Hash>, LedgerError> {
        nodes
            .iter()
            .map(|node| {
                self.0
                    .levels
                    .get(usize::from(node.level))
                    .and_then(|level| level.get(node.index as usize))
                    .copied()
                    .ok_or_else(|| LedgerError::Range(format!("no node at level {} index {}", node.level, node.index)))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::leaf_hash;

    fn leaves(count: u64) -> Vec<Hash> {
        (0..count).map(|number| leaf_hash(&number.to_be_bytes())).collect()
    }

    #[test]
    fn builder_and_memory_tree_agree_at_every_size_across_tile_boundaries() {
        let mut builder = TreeBuilder::new();
        let mut memory = MemoryTree::new();
        let mut completed = Vec::new();
        for (number, leaf) in leaves(70_000).into_iter().enumerate() {
            builder.append(leaf, &mut completed);
            memory.append(leaf);
            let size = number + 1;
            if size < 600 || size % 4_099 == 0 || size == 65_536 || size == 65_537 {
                assert_eq!(builder.root(), memory.root(), "size {size}");
            }
        }
        // 70,000 leaves: 273 full level-0 tiles and one full level-1 tile.
        assert_eq!(completed.iter().filter(|tile| tile.level == 0).count(), 273);
        assert_eq!(completed.iter().filter(|tile| tile.level == 1).count(), 1);
        assert!(completed.iter().all(|tile| tile.hashes.len() == TILE_WIDTH));
    }

    #[test]
    fn builder_rebuilds_from_its_own_tiles() {
        let mut builder = TreeBuilder::new();
        let mut tiles = std::collections::HashMap::new();
        let mut completed = Vec::new();
        for leaf in leaves(66_000) {
            builder.append(leaf, &mut completed);
        }
        for tile in completed.into_iter().chain(builder.partial_tiles()) {
            tiles.insert((tile.level, tile.index), tile.hashes);
        }
        let rebuilt = TreeBuilder::from_tiles(66_000, |level, index| Ok(tiles.get(&(level, index)).cloned())).unwrap();
        assert_eq!(rebuilt, builder);
        assert!(TreeBuilder::from_tiles(66_001, |level, index| Ok(tiles.get(&(level, index)).cloned())).is_err());
        assert_eq!(TreeBuilder::edge_tiles(66_000), [(0, 257), (1, 1), (2, 0)]);
        // The largest tree a 64-bit size allows needs a tile at all eight levels.
        assert_eq!(TreeBuilder::edge_tiles(u64::MAX).len(), 8);
    }
}
