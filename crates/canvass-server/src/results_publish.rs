//! Publication of an election's results as an immutable, signed snapshot: every file (the
//! data files of [`crate::results_data`] and the pages of a caller-supplied renderer) hashed
//! into `manifest.json`, the manifest signed by the node key (`manifest.sig`), checked before
//! anything is kept (every file present with its hash, every published total equal to the sum
//! of the precincts' counts, the signature good), recorded in the ledger (`results.publish`,
//! naming the election, sequence and manifest hash), stored with each new body compressed once
//! (gzip and brotli), and swapped in as the election's current snapshot in memory.
//!
//! A snapshot that fails its checks is neither stored nor served: the current one stays.

use std::{collections::BTreeMap, io::Write, sync::Arc};

use canvass_core::{
    audit::Action,
    id::ElectionId,
    results::{ElectionResults, Tally, tally},
};
use canvass_store::{SnapshotHeader, StoredBody, StoredSnapshot, StoredSnapshotFile};
use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    Node, ServerError,
    ledger::{Audit, target},
    results_data, results_site,
    site_file::{SiteContext, SiteFile},
};

/// Renders the pages of a snapshot (`results_site::pages`); the data files are added here.
pub type PageRenderer =
    dyn Fn(&ElectionResults, &Tally, &SiteContext, &results_site::PageMemo) -> Vec<SiteFile> + Send + Sync;

/// What publication keeps between snapshots so that an upload renders only what it changed:
/// the counties' precinct-level files and the precinct pages, each with what it was made from.
#[derive(Debug, Default)]
pub struct RenderMemo {
    pub county_files: results_data::CountyFiles,
    pub pages: results_site::PageMemo,
    /// The county CSVs the checks read before.
    pub totals: crate::results_verify::TotalsMemo,
}

/// Files every snapshot has beside those it lists.
pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.sig";

/// What was published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub election: ElectionId,
    pub sequence: u64,
    pub published_at: OffsetDateTime,
    pub manifest_sha256: String,
    pub files: usize,
    /// Bodies not stored before (the rest are shared with earlier snapshots).
    pub new_bodies: usize,
}

/// The signed list of a snapshot's files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub election: ManifestElection,
    pub sequence: u64,
    /// RFC 3339, whole seconds.
    pub published_at: String,
    /// SHA-256 of the results the snapshot was made from (their canonical JSON).
    pub results_sha256: String,
    /// In path order.
    pub files: Vec<ManifestFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestElection {
    pub id: String,
    pub name: String,
    pub date: String,
    pub jurisdiction: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub path: String,
    pub size: u64,
    pub sha256: String,
    pub content_type: String,
}

/// The SHA-256 of the results a snapshot is made from (their canonical JSON: every map in
/// them is ordered), which its manifest names.
pub fn results_sha256(results: &ElectionResults) -> Result<String, ServerError> {
    let json = serde_json::to_vec(results).map_err(|error| ServerError::Internal(error.to_string()))?;
    Ok(sha256_hex(&json))
}

/// The SHA-256 of an election's definition (its canonical JSON): what the files kept between
/// publications note they were made from, so a changed definition renders them again.
pub fn definition_sha256(definition: &canvass_core::results::ElectionDefinition) -> Result<String, ServerError> {
    let json = serde_json::to_vec(definition).map_err(|error| ServerError::Internal(error.to_string()))?;
    Ok(sha256_hex(&json))
}

/// Lowercase hex SHA-256, through the crypto crate.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&canvass_crypto::sha256(&[bytes]))
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 15)]));
    }
    text
}

/// Publishes the results as the election's next snapshot and makes it current.
pub async fn publish(
    node: &Node,
    audit: &Audit,
    results: &ElectionResults,
    pages: &PageRenderer,
) -> Result<SnapshotInfo, ServerError> {
    let election = &results.definition.election;
    check_election_id(&election.id)?;
    let previous = node.store().results_snapshots(&election.id).await?;
    let sequence = previous.last().map_or(1, |header| header.sequence + 1);
    let published_at = now_in_seconds();
    let built = off_the_executor(|| {
        build(results, pages, node.results().memo(), sequence, published_at, |manifest| node.sign(manifest))
    })?;
    // Files the previous snapshot published with the same bytes passed these checks then.
    let previous_files: std::collections::HashMap<String, String> = match previous.last() {
        Some(header) => node
            .store()
            .results_snapshot(&election.id, header.sequence)
            .await?
            .map(|snapshot| snapshot.files.into_iter().map(|file| (file.path, file.sha256)).collect())
            .unwrap_or_default(),
        None => std::collections::HashMap::new(),
    };
    // Asked once for each of thousands of files: a map, not a scan of the manifest each time.
    let current: std::collections::HashMap<&str, &str> =
        built.manifest.files.iter().map(|file| (file.path.as_str(), file.sha256.as_str())).collect();
    let unchanged = |path: &str| previous_files.get(path).is_some_and(|hash| current.get(path) == Some(&hash.as_str()));
    // The previous snapshot's bodies are stored; only the rest are asked about.
    let published: std::collections::HashSet<&String> = previous_files.values().collect();
    let hashes: Vec<String> = built.bodies.keys().filter(|hash| !published.contains(hash)).cloned().collect();
    let mut known: std::collections::HashSet<String> =
        node.store().known_results_bodies(&hashes).await?.into_iter().collect();
    known.extend(published.into_iter().cloned());
    let fresh: Vec<(&String, &Arc<[u8]>)> = built.bodies.iter().filter(|(hash, _)| !known.contains(*hash)).collect();
    // The checks and the compression of the new bodies need nothing from each other: they run
    // side by side, and a snapshot that fails its checks is dropped with its compressed bodies.
    let key = node.public_key();
    let (checked, compressed) = off_the_executor(|| {
        std::thread::scope(|scope| {
            let checking =
                scope.spawn(|| check(results, &built, &key, &unchanged, Some(&node.results().memo().totals)));
            let compressed = compress_all(&fresh);
            let checked = checking.join().unwrap_or_else(|_| Err(ServerError::Internal("the checks panicked".into())));
            (checked, compressed)
        })
    });
    checked?;

    let entry = audit.entry(Action::ResultsPublish).with_jurisdiction(&election.jurisdiction);
    let entry = target(entry, format!("election:{}", election.id.as_str()))?;
    let entry = target(entry, format!("snapshot:{sequence}"))?;
    let entry = target(entry, format!("manifest:{}", built.snapshot.header.manifest_sha256))?;
    let bodies = match compressed {
        Ok(bodies) => bodies,
        Err(error) => return Err(audit.refuse(entry, error).await),
    };
    let new_bodies = bodies.len();
    audit.run(entry, async { Ok(node.store().put_results_snapshot(&built.snapshot, &bodies).await?) }).await?;
    node.results().install(node, &built.snapshot, bodies).await?;
    Ok(SnapshotInfo {
        election: election.id.clone(),
        sequence,
        published_at,
        manifest_sha256: built.snapshot.header.manifest_sha256.clone(),
        files: built.snapshot.files.len(),
        new_bodies,
    })
}

/// Runs seconds of rendering, hashing or compression without holding up the requests that
/// share the executor's worker: on a multi-threaded runtime (the node's) the worker hands its
/// other tasks on first; a single-threaded one (a test's) has no other worker to hand them to.
fn off_the_executor<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|handle| handle.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

/// An election's id is one URL segment and one directory name of the published site: an
/// OCD-ID (with `/`) is refused rather than nested.
pub fn check_election_id(id: &ElectionId) -> Result<(), ServerError> {
    if id.as_str().contains('/') || id.is_ocd_id() {
        return Err(ServerError::Invalid(format!(
            "results are published only for an election whose id is a slug; {} is an OCD-ID",
            id.as_str()
        )));
    }
    Ok(())
}

fn now_in_seconds() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

/// A snapshot made but not yet checked or stored: its row, and each body by hash.
#[derive(Debug)]
pub struct Built {
    pub snapshot: StoredSnapshot,
    pub manifest: Manifest,
    pub bodies: BTreeMap<String, Arc<[u8]>>,
    /// Each path's body, for the checks.
    pub files: BTreeMap<String, Arc<[u8]>>,
}

/// Renders every file, hashes them into the manifest and signs it.
pub fn build(
    results: &ElectionResults,
    pages: &PageRenderer,
    memo: &RenderMemo,
    sequence: u64,
    published_at: OffsetDateTime,
    sign: impl FnOnce(&[u8]) -> [u8; 64],
) -> Result<Built, ServerError> {
    let context = SiteContext { sequence, published_at };
    let sums = tally(results);
    // The data files (with the results' own hash) and the pages are made side by side.
    let (data, pages, results_hash) = std::thread::scope(|scope| {
        let pages = scope.spawn(|| pages(results, &sums, &context, &memo.pages));
        let data = results_data::data_files_with(results, &sums, &context, &memo.county_files);
        let results_hash = results_sha256(results);
        let pages = pages.join().map_err(|_| ServerError::Internal("rendering the pages panicked".into()));
        (data, pages, results_hash)
    });
    let mut rendered = data?;
    rendered.extend(pages?);
    let mut files = BTreeMap::new();
    let mut bodies = BTreeMap::new();
    let mut listed = Vec::new();
    let mut stored_files = Vec::new();
    for file in rendered {
        check_path(&file.path)?;
        let sha256 = file.sha256.clone().unwrap_or_else(|| sha256_hex(&file.body));
        let body = file.body;
        listed.push(ManifestFile {
            path: file.path.clone(),
            size: body.len() as u64,
            sha256: sha256.clone(),
            content_type: file.content_type.to_owned(),
        });
        stored_files.push(StoredSnapshotFile {
            path: file.path.clone(),
            sha256: sha256.clone(),
            content_type: file.content_type.to_owned(),
        });
        if files.insert(file.path.clone(), body.clone()).is_some() {
            return Err(ServerError::Internal(format!("the snapshot renders {} twice", file.path)));
        }
        bodies.insert(sha256, body);
    }
    listed.sort_by(|left, right| left.path.cmp(&right.path));
    stored_files.sort_by(|left, right| left.path.cmp(&right.path));
    let election = &results.definition.election;
    let manifest = Manifest {
        election: ManifestElection {
            id: election.id.as_str().to_owned(),
            name: election.name.as_str().to_owned(),
            date: election.date.to_string(),
            jurisdiction: election.jurisdiction.as_str().to_owned(),
        },
        sequence,
        published_at: published_at.format(&Rfc3339).map_err(|error| ServerError::Internal(error.to_string()))?,
        results_sha256: results_hash?,
        files: listed,
    };
    let manifest_bytes =
        serde_json::to_vec_pretty(&manifest).map_err(|error| ServerError::Internal(error.to_string()))?;
    let signature = sign(&manifest_bytes).to_vec();
    let snapshot = StoredSnapshot {
        header: SnapshotHeader {
            election: election.id.clone(),
            election_name: manifest.election.name.clone(),
            election_date: manifest.election.date.clone(),
            sequence,
            published_at: published_at.unix_timestamp(),
            manifest_sha256: sha256_hex(&manifest_bytes),
        },
        manifest: manifest_bytes,
        signature,
        files: stored_files,
    };
    Ok(Built { snapshot, manifest, bodies, files })
}

/// A snapshot's paths are relative, `/`-separated names of plain segments: nothing a file
/// system or URL could read as a parent, a root or a query.
pub fn check_path(path: &str) -> Result<(), ServerError> {
    let plain = |segment: &str| {
        !segment.is_empty()
            && segment != "."
            && segment != ".."
            && segment.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
    };
    if path.split('/').all(plain) && path != MANIFEST && path != SIGNATURE {
        Ok(())
    } else {
        Err(ServerError::Internal(format!("a snapshot file has an unsafe path: {path:?}")))
    }
}

/// The checks a snapshot passes before it is kept: the manifest lists exactly the rendered
/// files with their hashes, the signature verifies under the node's key, and every published
/// total equals the sum of the precincts' counts. `unchanged` says which paths hold the same
/// bytes as in a snapshot that passed these checks (their NIST files are not read again);
/// `memo` keeps the county CSVs read, for the next snapshot's checks.
pub fn check(
    results: &ElectionResults,
    built: &Built,
    key: &canvass_crypto::PublicKey,
    unchanged: &dyn Fn(&str) -> bool,
    memo: Option<&crate::results_verify::TotalsMemo>,
) -> Result<(), ServerError> {
    let mut problems = Vec::new();
    if built.manifest.files.len() != built.files.len() {
        problems.push("the manifest does not list every file".to_owned());
    }
    for listed in &built.manifest.files {
        // A body with the hash a checked snapshot published at this path was hashed then.
        let hashed = |body: &[u8]| unchanged(&listed.path) || sha256_hex(body) == listed.sha256;
        match built.files.get(&listed.path) {
            Some(body) if body.len() as u64 == listed.size && hashed(body) => {}
            Some(_) => problems.push(format!("{}: the body does not match its manifest entry", listed.path)),
            None => problems.push(format!("{}: listed in the manifest but not rendered", listed.path)),
        }
    }
    if !key.verify(&built.snapshot.manifest, &built.snapshot.signature) {
        problems.push("the manifest's signature does not verify".to_owned());
    }
    let read = |path: &str| built.files.get(path).map(|body| &body[..]);
    problems.extend(crate::results_verify::check_totals(&built.manifest, &read, unchanged, Some(results), memo));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ServerError::Invalid(format!(
            "the snapshot failed its checks and was not published: {}",
            problems.join("; ")
        )))
    }
}

/// Compresses the new bodies, gzip and brotli, on every core.
fn compress_all(fresh: &[(&String, &Arc<[u8]>)]) -> Result<Vec<StoredBody>, ServerError> {
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get).max(1);
    let chunk = fresh.len().div_ceil(workers).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = fresh
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(hash, body)| {
                            Ok(StoredBody {
                                sha256: (*hash).clone(),
                                identity: body.to_vec(),
                                gzip: gzip(body)?,
                                brotli: brotli(body)?,
                            })
                        })
                        .collect::<Result<Vec<_>, ServerError>>()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(fresh.len());
        for handle in handles {
            let part = handle.join().map_err(|_| ServerError::Internal("a compression thread panicked".into()))??;
            all.extend(part);
        }
        Ok(all)
    })
}

/// Bodies above this are compressed at a faster level: a county's NIST XML is megabytes, and
/// the best levels would take seconds for a few per cent.
const LARGE_BODY: usize = 256 * 1024;

pub fn gzip(body: &[u8]) -> Result<Vec<u8>, ServerError> {
    let level = if body.len() > LARGE_BODY { flate2::Compression::new(6) } else { flate2::Compression::best() };
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4 + 64), level);
    encoder.write_all(body).and_then(|()| encoder.finish()).map_err(|error| ServerError::Internal(error.to_string()))
}

/// Brotli at quality 7 (5 for large bodies), with a window no larger than the body needs:
/// quality 9's hasher alone zeroes 32 MiB for every body, so a 46 kB page took 12-27 ms to
/// compress; quality 7 takes 3-4 ms and comes within 2 per cent of its size, which matters when
/// a county's upload must be served within a second (`docs/PERFORMANCE.md`).
pub fn brotli(body: &[u8]) -> Result<Vec<u8>, ServerError> {
    let mut out = Vec::with_capacity(body.len() / 4 + 64);
    let quality = if body.len() > LARGE_BODY { 5 } else { 7 };
    let params = brotli::enc::BrotliEncoderParams { quality, lgwin: brotli_window(body.len()), ..Default::default() };
    brotli::BrotliCompress(&mut &body[..], &mut out, &params)
        .map_err(|error| ServerError::Internal(error.to_string()))?;
    Ok(out)
}

/// The window in bits: enough to reach back across the whole body, between 18 (smaller windows
/// switch brotli to a slower hasher) and 22 (its default).
fn brotli_window(length: usize) -> i32 {
    let bits = usize::BITS - length.max(1).leading_zeros();
    i32::try_from(bits).unwrap_or(22).clamp(18, 22)
}
