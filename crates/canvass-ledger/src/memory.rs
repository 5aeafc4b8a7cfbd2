//! A whole log in memory, published as the files a static host would serve: for tests,
//! fuzzing and benchmarks, and as the reference the node's store-backed log must match.

use std::collections::{BTreeMap, HashMap};

use crate::{
    Checkpoint, Hash, LedgerError, Note, NoteSigner, TILE_WIDTH, TilePath, TileSource, TreeBuilder,
    encode_entry_bundle, leaf_hash, sign_checkpoint,
};

#[derive(Debug, Clone, Default)]
pub struct MemoryLog {
    origin: String,
    entries: Vec<Vec<u8>>,
    builder: TreeBuilder,
    tiles: HashMap<(u8, u64), Vec<Hash>>,
}

impl MemoryLog {
    pub fn new(origin: &str) -> Self {
        Self { origin: origin.to_owned(), ..Self::default() }
    }

    pub fn size(&self) -> u64 {
        self.builder.size()
    }

    pub fn root(&self) -> Hash {
        self.builder.root()
    }

    pub fn append(&mut self, entry: &[u8]) {
        let mut completed = Vec::new();
        self.builder.append(leaf_hash(entry), &mut completed);
        self.entries.push(entry.to_vec());
        for tile in completed {
            self.tiles.insert((tile.level, tile.index), tile.hashes);
        }
    }

    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint { origin: self.origin.clone(), size: self.size(), root: self.root(), extensions: Vec::new() }
    }

    /// Every file of the log at its current size, by path.
    pub fn files(&self, signer: &NoteSigner<'_>) -> Result<FileMap, LedgerError> {
        let mut files = BTreeMap::new();
        files.insert("checkpoint".to_owned(), sign_checkpoint(&self.checkpoint(), signer).to_text().into_bytes());
        let mut tiles = self.tiles.clone();
        for tile in self.builder.partial_tiles() {
            tiles.insert((tile.level, tile.index), tile.hashes);
        }
        for ((level, index), hashes) in tiles {
            let path = TilePath::hashes(level, index, hashes.len() as u64).to_path();
            files.insert(path, hashes.iter().flat_map(|hash| hash.0).collect());
        }
        for (group, chunk) in self.entries.chunks(TILE_WIDTH).enumerate() {
            let path = TilePath::entries(group as u64, chunk.len() as u64).to_path();
            files.insert(path, encode_entry_bundle(chunk.iter().map(Vec::as_slice))?);
        }
        Ok(FileMap(files))
    }

    /// The signed checkpoint note alone.
    pub fn signed_checkpoint(&self, signer: &NoteSigner<'_>) -> Note {
        sign_checkpoint(&self.checkpoint(), signer)
    }
}

/// Files by path: a [`TileSource`] that tests can tamper with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileMap(pub BTreeMap<String, Vec<u8>>);

impl TileSource for FileMap {
    fn fetch(&mut self, path: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        Ok(self.0.get(path).cloned())
    }
}
