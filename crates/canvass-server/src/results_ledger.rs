//! Proof that a results snapshot was recorded in the audit ledger: each snapshot's
//! `ledger.json` holds its `results.publish` entry, the entry's index, an RFC 6962 inclusion
//! proof and the signed checkpoint the proof leads to, so anyone holding the node key can check
//! the record without reading the whole log.
//!
//! The file is not listed in the manifest: the entry is integrated after the manifest is
//! signed, and the checkpoint keeps moving. It is made when asked for (served, or written by
//! `write_site`) from the store's latest checkpoint; until the entry is integrated there is
//! none (404 when served).

use std::collections::HashMap;

use canvass_core::audit::{Action, AuditEntry, Outcome};
use canvass_crypto::PublicKey;
use canvass_ledger::{
    Checkpoint, Hash, LedgerError, Note, NoteVerifier, TilePath, TileReader, TileSource, VerifierKey, inclusion_proof,
    leaf_hash, verify_inclusion,
};
use canvass_store::{LEDGER_SEARCH_LIMIT, LedgerQuery, Store};
use serde::{Deserialize, Serialize};

use crate::ServerError;

/// Beside each snapshot's `manifest.json`.
pub const LEDGER: &str = "ledger.json";

/// What `ledger.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotLedgerProof {
    /// The entry's index in the log, from 0.
    pub index: u64,
    /// The entry exactly as the ledger holds it (canonical JSON): its leaf hash is recomputed
    /// from these bytes.
    pub entry: String,
    /// The RFC 6962 inclusion proof from the entry's leaf to the checkpoint's root, base64.
    pub inclusion_proof: Vec<String>,
    /// The signed checkpoint (C2SP signed note, signed by the node key under the log's origin).
    pub checkpoint: String,
}

/// The targets a snapshot's `results.publish` entry names.
fn targets(election: &str, sequence: u64, manifest_sha256: &str) -> [String; 3] {
    [format!("election:{election}"), format!("snapshot:{sequence}"), format!("manifest:{manifest_sha256}")]
}

fn names_snapshot(entry: &AuditEntry, election: &str, sequence: u64, manifest_sha256: &str) -> bool {
    entry.action == Action::ResultsPublish
        && entry.outcome == Outcome::Allowed
        && targets(election, sequence, manifest_sha256).iter().all(|target| entry.targets.contains(target))
}

fn internal(error: impl std::fmt::Display) -> ServerError {
    ServerError::Internal(format!("ledger proof: {error}"))
}

/// The snapshot's ledger proof against the latest checkpoint, or `None` when the store holds
/// no such entry or the entry is not integrated yet.
pub async fn snapshot_proof(
    store: &dyn Store,
    election: &str,
    sequence: u64,
    manifest_sha256: &str,
) -> Result<Option<SnapshotLedgerProof>, ServerError> {
    let query = LedgerQuery {
        action: Some(Action::ResultsPublish.as_str().to_owned()),
        target: Some(format!("manifest:{manifest_sha256}")),
        outcome: Some(Outcome::Allowed.as_str().to_owned()),
        limit: LEDGER_SEARCH_LIMIT,
        ..LedgerQuery::default()
    };
    // Newest first: the earliest entry is the publication itself.
    let rows = store.search_ledger(&query).await?;
    let Some(row) = rows.into_iter().rev().find(|row| {
        AuditEntry::decode(&row.body).is_ok_and(|entry| names_snapshot(&entry, election, sequence, manifest_sha256))
    }) else {
        return Ok(None);
    };
    let Some(checkpoint) = store.latest_checkpoint().await? else { return Ok(None) };
    if row.index >= checkpoint.size {
        return Ok(None);
    }
    let proof = proof_from_store(store, row.index, checkpoint.size).await?;
    Ok(Some(SnapshotLedgerProof {
        index: row.index,
        entry: String::from_utf8(row.body).map_err(internal)?,
        inclusion_proof: proof.iter().map(Hash::to_base64).collect(),
        checkpoint: checkpoint.note,
    }))
}

/// Tiles read so far; a missing one is reported as a fetch error naming its path.
struct Fetched(HashMap<String, Vec<u8>>);

impl TileSource for Fetched {
    fn fetch(&mut self, path: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        Ok(self.0.get(path).cloned())
    }
}

/// The proof computed from stored tiles: the ledger crate asks for tiles synchronously and the
/// store answers asynchronously, so each tile it asks for is read and the proof tried again
/// (a few tiles per tree level at most).
async fn proof_from_store(store: &dyn Store, index: u64, size: u64) -> Result<Vec<Hash>, ServerError> {
    let mut fetched = Fetched(HashMap::new());
    loop {
        let attempt = inclusion_proof(index, size, &mut TileReader::new(&mut fetched, size));
        match attempt {
            Ok(proof) => return Ok(proof),
            Err(LedgerError::Fetch { path, .. }) if !fetched.0.contains_key(&path) => {
                // The same reading `/log/tile/...` serves: the tile of the tree of `size`.
                let tile = TilePath::parse(&path).map_err(internal)?;
                let Some(bytes) = crate::audit_log::tile_of_tree(store, tile, size).await? else {
                    return Err(internal(format!("tile {path} is not stored")));
                };
                fetched.0.insert(path, bytes);
            }
            Err(error) => return Err(internal(error)),
        }
    }
}

/// The served or written bytes of `ledger.json`.
pub fn to_json(proof: &SnapshotLedgerProof) -> Result<Vec<u8>, ServerError> {
    serde_json::to_vec_pretty(proof).map_err(internal)
}

/// Checks a snapshot's `ledger.json`: the checkpoint signed by `key`, the entry included in
/// it, and the entry a `results.publish` naming this election, sequence and manifest hash.
/// Returns the rule broken, if any.
pub fn check_proof(
    bytes: &[u8],
    key: &PublicKey,
    election: &str,
    sequence: u64,
    manifest_sha256: &str,
) -> Result<(), String> {
    let proof: SnapshotLedgerProof =
        serde_json::from_slice(bytes).map_err(|_| "not a ledger proof (index, entry, inclusion_proof, checkpoint)")?;
    let note = Note::parse(proof.checkpoint.as_bytes()).map_err(|error| format!("checkpoint: {error}"))?;
    let checkpoint = Checkpoint::parse(&note.text).map_err(|error| format!("checkpoint: {error}"))?;
    let verifier = VerifierKey::ed25519(&checkpoint.origin, *key).map_err(|error| format!("checkpoint: {error}"))?;
    verifier.verify(&note).map_err(|_| "the checkpoint's signature does not verify under the node key".to_owned())?;
    let hashes = proof
        .inclusion_proof
        .iter()
        .map(|hash| Hash::from_base64(hash))
        .collect::<Result<Vec<Hash>, _>>()
        .map_err(|_| "inclusion_proof: a hash is not base64 of 32 bytes".to_owned())?;
    verify_inclusion(proof.index, checkpoint.size, &leaf_hash(proof.entry.as_bytes()), &hashes, &checkpoint.root)
        .map_err(|_| format!("the entry is not at index {} of the checkpoint's tree: the proof fails", proof.index))?;
    let entry = AuditEntry::decode(proof.entry.as_bytes()).map_err(|_| "entry: not a ledger entry".to_owned())?;
    if !names_snapshot(&entry, election, sequence, manifest_sha256) {
        return Err(format!(
            "entry: not an allowed results.publish naming election {election}, snapshot {sequence} and this manifest (its hash differs)"
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Serving

/// `ledger.json` beside each served snapshot's manifest (a static segment, so it takes
/// precedence over the snapshot's files).
pub fn router() -> axum::Router<crate::Node> {
    axum::Router::new().route("/results/{election}/s/{sequence}/ledger.json", axum::routing::get(serve))
}

/// Made on request from the latest checkpoint: 404 until the entry is integrated (about a
/// second after publication).
async fn serve(
    axum::extract::State(node): axum::extract::State<crate::Node>,
    axum::extract::Path((election, sequence)): axum::extract::Path<(String, String)>,
) -> Result<axum::response::Response, ServerError> {
    use axum::{
        http::{HeaderValue, header},
        response::IntoResponse,
    };
    let missing = || ServerError::NotFound("There is no ledger proof for this snapshot yet.".into());
    let sequence: u64 = sequence.parse().map_err(|_| missing())?;
    let Ok(id) = canvass_core::id::ElectionId::parse(&election) else { return Err(missing()) };
    let headers = node.store().results_snapshots(&id).await?;
    let header = headers.iter().find(|header| header.sequence == sequence).ok_or_else(missing)?;
    let proof =
        snapshot_proof(node.store(), &election, sequence, &header.manifest_sha256).await?.ok_or_else(missing)?;
    let mut response = to_json(&proof)?.into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(crate::site_file::JSON));
    // The checkpoint it names moves as the ledger grows; any checkpoint proves the entry.
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    response_headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    Ok(response)
}
