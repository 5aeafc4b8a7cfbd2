//! Published results snapshots as stored (migration 0015): each snapshot's signed manifest and
//! the list of its files, and the files' bodies kept once per SHA-256 with their gzip and brotli
//! encodings, since consecutive snapshots share almost every file. Rows are never changed or
//! deleted: a snapshot, once made, is what the public was shown.

use canvass_core::id::ElectionId;

use crate::StoreError;

/// One snapshot's identity, as the archive and the `current` pointer name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotHeader {
    pub election: ElectionId,
    pub election_name: String,
    /// The election's day, `YYYY-MM-DD`.
    pub election_date: String,
    /// 1 for the election's first snapshot, one more for each after it.
    pub sequence: u64,
    /// Unix seconds.
    pub published_at: i64,
    /// Lowercase hex SHA-256 of `manifest`.
    pub manifest_sha256: String,
}

/// One file of a snapshot: its body is stored once under `sha256`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSnapshotFile {
    pub path: String,
    pub sha256: String,
    pub content_type: String,
}

/// A snapshot with its manifest bytes, the node key's signature over them, and its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSnapshot {
    pub header: SnapshotHeader,
    pub manifest: Vec<u8>,
    pub signature: Vec<u8>,
    /// In path order.
    pub files: Vec<StoredSnapshotFile>,
}

/// A file body in the three encodings it is served in, made once at publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBody {
    /// Lowercase hex SHA-256 of `identity`.
    pub sha256: String,
    pub identity: Vec<u8>,
    pub gzip: Vec<u8>,
    pub brotli: Vec<u8>,
}

/// Checks what the database cannot: sequences start at 1, hashes are lowercase hex of 32
/// bytes, paths are relative and unique. A backend calls this before writing anything.
pub fn check_snapshot(snapshot: &StoredSnapshot, bodies: &[StoredBody]) -> Result<(), StoreError> {
    let invalid = |reason: String| Err(StoreError::Corrupt(reason));
    if snapshot.header.sequence == 0 || i64::try_from(snapshot.header.sequence).is_err() {
        return invalid("a snapshot's sequence starts at 1".into());
    }
    let hashes = std::iter::once(&snapshot.header.manifest_sha256)
        .chain(snapshot.files.iter().map(|file| &file.sha256))
        .chain(bodies.iter().map(|body| &body.sha256));
    if let Some(bad) = hashes.into_iter().find(|hash| !is_sha256_hex(hash)) {
        return invalid(format!("`{bad}` is not a lowercase hex SHA-256"));
    }
    let mut paths: Vec<&str> = snapshot.files.iter().map(|file| file.path.as_str()).collect();
    paths.sort_unstable();
    if let Some(pair) = paths.windows(2).find(|pair| pair[0] == pair[1]) {
        return invalid(format!("the snapshot lists `{}` twice", pair[0]));
    }
    if let Some(bad) = paths.iter().find(|path| path.is_empty() || path.starts_with('/')) {
        return invalid(format!("`{bad}` is not a relative path"));
    }
    Ok(())
}

pub fn is_sha256_hex(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
}
