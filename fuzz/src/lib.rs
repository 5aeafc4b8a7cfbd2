//! The checks behind canvass-ledger's fuzz targets, shared with the crate's
//! `tests/fuzz_corpus.rs` (which includes this file as a module) so CI exercises the same
//! properties without cargo-fuzz. Every check takes arbitrary bytes, must never panic on them,
//! and asserts what must hold for whatever parses or verifies.
//!
//! Each check runs twice per input: on the raw bytes, and on a valid sample (a signed note, a
//! tile path, a published log's file, ...) edited as the input says ([`splice`]), so the fuzzer
//! reaches the paths behind signatures and hashes it could never forge.

use std::sync::OnceLock;

use canvass_crypto::NodeSigningKey;
use canvass_ledger::{
    AddCheckpoint, Checkpoint, FileMap, Hash, HashReader, LedgerError, LogVerifier, MemoryLog, MemoryTree, NodeIndex,
    Note, NoteSignature, NoteSigner, NoteVerifier, TilePath, TileReader, TileSource, TrustedState, VerifierKey,
    Witness, WitnessState, consistency_plan, consistency_proof, cosign_checkpoint, decode_entry_bundle,
    encode_entry_bundle, inclusion_plan, inclusion_proof, leaf_hash, range_hash, verify_consistency, verify_inclusion,
};

/// A fixed Ed25519 key (PKCS#8 v2), so every run signs the same notes: failures reproduce.
const KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----
MFMCAQEwBQYDK2VwBCIEIA/fUSo9H0STY+ckCCNO+kyZdnbgO2UKoOCbEOKLfh+V
oSMDIQCRtxmy5n9jB2YtnZBVgSUwkTNj9xWUHztRZ/FQJPHFbg==
-----END PRIVATE KEY-----
";
const ORIGIN: &str = "fuzz.example/canvass";
const WITNESS: &str = "witness.example";
const COSIGNED_AT: u64 = 1_700_000_000;
/// The published logs the verifier check tampers with: empty, one entry, a partial tile, a
/// full tile, and two full tiles plus one entry (so a level-1 tile exists).
const LOG_SIZES: [u64; 5] = [0, 1, 7, 256, 513];
/// Leaves of the in-memory tree the proof check draws sizes and indices from.
const TREE_SIZE: u64 = 1_100;
/// The witness in the parser check has cosigned the log at this size.
const WITNESS_SIZE: u64 = 7;

/// An audit entry as the node writes them, about 200 bytes of JSON.
pub fn entry(number: u64) -> Vec<u8> {
    format!(
        r#"{{"seq":{number},"at":"2026-11-03T20:{:02}:{:02}Z","actor":"clerk-{}@wake.example.gov","action":"voter.read","jurisdiction":"ocd-division/country:us/state:nc/county:wake","record":"NC{:09}"}}"#,
        number / 60 % 60,
        number % 60,
        number % 17,
        number * 7_919 % 1_000_000_000,
    )
    .into_bytes()
}

/// One published log and what verifying it honestly gives.
#[derive(Debug)]
pub struct Published {
    pub checkpoint: Checkpoint,
    pub files: FileMap,
    pub state: TrustedState,
}

/// Everything the checks share, built once per process.
#[derive(Debug)]
pub struct Fixture {
    key: NodeSigningKey,
    pub log_key: VerifierKey,
    pub cosigner: VerifierKey,
    pub logs: Vec<Published>,
    pub tree: MemoryTree,
    pub witness_state: WitnessState,
    /// Valid inputs for the parser check to edit.
    pub parser_samples: Vec<Vec<u8>>,
}

impl Fixture {
    fn signer(&self, name: &str) -> NoteSigner<'_> {
        NoteSigner::new(name, &self.key).expect("a valid key name")
    }

    pub fn verifier(&self) -> LogVerifier {
        LogVerifier { log_key: self.log_key.clone(), witnesses: vec![self.cosigner.clone()] }
    }
}

pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build_fixture)
}

fn build_fixture() -> Fixture {
    let key = NodeSigningKey::from_pem(KEY_PEM).expect("the fixture key");
    let signer = NoteSigner::new(ORIGIN, &key).expect("a valid key name");
    let witness = NoteSigner::new(WITNESS, &key).expect("a valid key name");
    let log_key = signer.verifier_key();
    let cosigner = witness.cosignature_key().0;
    let verifier = LogVerifier { log_key: log_key.clone(), witnesses: vec![cosigner.clone()] };

    let mut tree = MemoryTree::new();
    let mut log = MemoryLog::new(ORIGIN);
    let mut logs = Vec::new();
    let mut parser_samples = Vec::new();
    for number in 0..TREE_SIZE {
        if LOG_SIZES.contains(&number) {
            logs.push(publish(&log, &signer, &witness, &verifier));
        }
        tree.append(leaf_hash(&entry(number)));
        log.append(&entry(number));
    }
    if LOG_SIZES.contains(&TREE_SIZE) {
        logs.push(publish(&log, &signer, &witness, &verifier));
    }

    let small = &logs[LOG_SIZES.iter().position(|size| *size == WITNESS_SIZE).expect("the witness's log")];
    let large = logs.last().expect("published logs");
    let mut first = Witness::new(NoteSigner::new(WITNESS, &key).expect("name"), log_key.clone(), ORIGIN);
    let note = |published: &Published| Note::parse(&published.files.0["checkpoint"]).expect("a published note");
    first
        .add_checkpoint(&AddCheckpoint { old_size: 0, proof: Vec::new(), checkpoint: note(small) }, COSIGNED_AT)
        .expect("the witness's first checkpoint");
    let witness_state = first.state();
    let proof = consistency_proof(WITNESS_SIZE, large.checkpoint.size, &mut tree.reader()).expect("a proof");
    let request = AddCheckpoint { old_size: WITNESS_SIZE, proof, checkpoint: note(large) };

    parser_samples.push(large.files.0["checkpoint"].clone());
    parser_samples.push(request.to_text().into_bytes());
    parser_samples.push(large.checkpoint.to_text().into_bytes());
    parser_samples.push(log_key.to_string().into_bytes());
    parser_samples.push(cosigner.to_string().into_bytes());
    parser_samples.push(note(small).signatures[0].to_line().into_bytes());
    for path in large.files.0.keys().filter(|path| path.starts_with("tile/")) {
        parser_samples.push(path.clone().into_bytes());
    }
    parser_samples.push(b"tile/0/x001/x234/067".to_vec());
    parser_samples.push(small.files.0["tile/entries/000.p/7"].clone());

    Fixture { key, log_key, cosigner, logs, tree, witness_state, parser_samples }
}

fn publish(log: &MemoryLog, signer: &NoteSigner<'_>, witness: &NoteSigner<'_>, verifier: &LogVerifier) -> Published {
    let mut files = log.files(signer).expect("a publishable log");
    let mut note = log.signed_checkpoint(signer);
    note.add_signature(cosign_checkpoint(&note.text, witness, COSIGNED_AT));
    files.0.insert("checkpoint".to_owned(), note.to_text().into_bytes());
    let report = verifier.verify(&mut files.clone(), None, &mut |_: u64, _: u64| {}).expect("an honest log verifies");
    assert_eq!(report.cosigned_by, [WITNESS]);
    Published { checkpoint: log.checkpoint(), files, state: report.state }
}

/// `sample` edited as `data` says: byte 0 picks the edit, bytes 1-2 the offset, the rest is
/// written over, inserted, or (its first byte) a count of bytes to delete, or appended after a
/// cut.
pub fn splice(sample: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = sample.to_vec();
    let [mode, high, low, rest @ ..] = data else {
        return out;
    };
    let at = usize::from(u16::from_be_bytes([*high, *low])) % (out.len() + 1);
    match mode % 4 {
        0 => {
            let end = (at + rest.len()).min(out.len());
            out.splice(at..end, rest.iter().copied());
        }
        1 => {
            out.splice(at..at, rest.iter().copied());
        }
        2 => {
            let count = usize::from(rest.first().copied().unwrap_or(1));
            out.drain(at..(at + count).min(out.len()));
        }
        _ => {
            out.truncate(at);
            out.extend_from_slice(rest);
        }
    }
    out
}

/// Byte 0 picks a sample, the rest edits it.
fn edited_sample(samples: &[Vec<u8>], data: &[u8]) -> Option<Vec<u8>> {
    let (choice, edit) = data.split_first()?;
    let sample = samples.get(usize::from(*choice) % samples.len())?;
    Some(splice(sample, edit))
}

/// `checkpoint` target: the parsers of everything a log, a witness or a verifier reads from
/// outside. Whatever parses must serialize back to the same bytes.
pub fn check_parsers(data: &[u8]) {
    let fixture = fixture();
    check_parser_input(fixture, data);
    if let Some(edited) = edited_sample(&fixture.parser_samples, data) {
        check_parser_input(fixture, &edited);
    }
}

fn check_parser_input(fixture: &Fixture, data: &[u8]) {
    if let Ok(note) = Note::parse(data) {
        assert_eq!(note.to_text().as_bytes(), data, "a note reads back as the bytes it came from");
        assert_eq!(Note::parse(note.to_text().as_bytes()).as_ref(), Ok(&note));
        let _ = fixture.cosigner.verify_cosignature(&note);
        if let Ok(checkpoint) = Checkpoint::parse(&note.text) {
            assert_eq!(checkpoint.to_text(), note.text);
            if fixture.log_key.verify(&note).is_ok() {
                // Only what the fixture signed carries the log's signature.
                assert!(fixture.logs.iter().any(|log| log.checkpoint == checkpoint), "{checkpoint:?}");
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(checkpoint) = Checkpoint::parse(text) {
            assert_eq!(checkpoint.to_text(), text);
        }
        if let Ok(key) = VerifierKey::parse(text) {
            assert_eq!(key.to_string(), text.trim());
            assert_eq!(VerifierKey::parse(&key.to_string()).as_ref(), Ok(&key));
        }
        if let Ok(path) = TilePath::parse(text) {
            assert_eq!(path.to_path(), text);
            assert_eq!(TilePath::parse(&path.to_path()), Ok(path));
            assert!((1..=256).contains(&path.width()));
        }
        if let Ok(signature) = NoteSignature::parse_line(text) {
            assert_eq!(NoteSignature::parse_line(&signature.to_line()).as_ref(), Ok(&signature));
        }
        if let Ok(hash) = Hash::from_base64(text) {
            assert_eq!(hash.to_base64(), text);
        }
    }
    if let Ok(request) = AddCheckpoint::parse(data) {
        assert_eq!(request.to_text().as_bytes(), data, "a request reads back as the bytes it came from");
        check_witness(fixture, &request);
    }
    if let Ok(entries) = decode_entry_bundle(data) {
        assert!(entries.len() <= 256);
        assert_eq!(encode_entry_bundle(entries.iter().copied()).as_deref(), Ok(data));
    }
}

/// A witness that has cosigned the log at [`WITNESS_SIZE`] cosigns only what the log signed
/// and what extends that checkpoint.
fn check_witness(fixture: &Fixture, request: &AddCheckpoint) {
    let mut witness = Witness::resume(fixture.signer(WITNESS), &fixture.witness_state).expect("the saved state");
    let Ok(line) = witness.add_checkpoint(request, COSIGNED_AT + 1) else {
        return;
    };
    fixture.log_key.verify(&request.checkpoint).expect("cosigned only if signed");
    let checkpoint = Checkpoint::parse(&request.checkpoint.text).expect("cosigned only if it parses");
    let old = &fixture.logs[LOG_SIZES.iter().position(|size| *size == WITNESS_SIZE).expect("the witness's log")];
    if checkpoint.size == WITNESS_SIZE {
        assert_eq!(checkpoint.root, old.checkpoint.root);
    } else {
        verify_consistency(WITNESS_SIZE, checkpoint.size, &request.proof, &old.checkpoint.root, &checkpoint.root)
            .expect("cosigned only if consistent");
    }
    let mut cosigned = request.checkpoint.clone();
    cosigned.add_signature(line);
    assert_eq!(fixture.cosigner.verify_cosignature(&cosigned), Ok(COSIGNED_AT + 1));
}

fn u64_at(data: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    for (position, byte) in bytes.iter_mut().enumerate() {
        *byte = data.get(at + position).copied().unwrap_or(0);
    }
    u64::from_be_bytes(bytes)
}

/// `proof` target: bytes 0-7 are an index (or old size), 8-15 a size, the rest 32-byte hashes
/// (leaf or old root, root, then the proof). Verification must refuse or accept without
/// panicking; plans must stay inside the tree; and real proofs from a tree of a size the same
/// numbers pick must verify, and stop verifying when the bytes flip one bit of them.
pub fn check_proofs(data: &[u8]) {
    let first = u64_at(data, 0);
    let second = u64_at(data, 8);
    let hashes: Vec<Hash> = data
        .get(16..)
        .unwrap_or_default()
        .chunks_exact(32)
        .map(|chunk| Hash::from_slice(chunk).expect("32 bytes"))
        .collect();
    let leaf = hashes.first().copied().unwrap_or_default();
    let root = hashes.get(1).copied().unwrap_or_default();
    let proof = hashes.get(2..).unwrap_or_default();
    let _ = verify_inclusion(first, second, &leaf, proof, &root);
    let _ = verify_consistency(first, second, proof, &leaf, &root);
    check_plans(first, second);

    let fixture = fixture();
    let size = 1 + second % TREE_SIZE;
    let flip = u64_at(data, 16);
    check_real_inclusion(&fixture.tree, first % size, size, flip);
    check_real_consistency(&fixture.tree, 1 + first % size, size, flip);
    // Reading proofs from tiles rehashes up to 255 nodes a tile: one input in eight (not
    // zeros, which short inputs are padded with).
    if (first ^ second ^ flip) % 8 == 1 {
        check_tile_proofs(fixture, first, flip / 8);
    }
}

fn check_plans(first: u64, second: u64) {
    let inside = |node: &NodeIndex, size: u64| {
        node.level < 64
            && node.index.checked_shl(u32::from(node.level)).is_some_and(|start| start >> node.level == node.index)
            && node.first_leaf().checked_add(node.leaf_count()).is_some_and(|end| end <= size)
    };
    if let Ok(plan) = inclusion_plan(first, second) {
        assert!(first < second);
        assert!(plan.nodes.len() <= 64 * 64);
        for node in &plan.nodes {
            assert!(inside(node, second), "{node:?} outside a tree of {second}");
            let covers_leaf = (node.first_leaf()..node.first_leaf() + node.leaf_count()).contains(&first);
            assert!(!covers_leaf, "{node:?} holds leaf {first} itself");
        }
        let proof = plan.assemble(&vec![Hash::default(); plan.nodes.len()]).expect("as many hashes as nodes");
        assert!(proof.len() <= 64);
        assert!(plan.assemble(&[]).is_err() || plan.nodes.is_empty());
    } else {
        assert!(first >= second);
    }
    if let Ok(plan) = consistency_plan(first, second) {
        assert!(first <= second);
        assert!(plan.nodes.iter().all(|node| inside(node, second)));
        assert_eq!(plan.nodes.is_empty(), first == 0 || first == second);
    } else {
        assert!(first > second);
    }
}

fn flip_bit(hash: &mut Hash, bit: u64) {
    hash.0[(bit / 8 % 32) as usize] ^= 1 << (bit % 8);
}

/// Flips bit `bit` of the proof's bits, all hashes end to end.
fn flipped(proof: &[Hash], bit: u64) -> Vec<Hash> {
    let mut proof = proof.to_vec();
    let bits = proof.len() as u64 * 256;
    if bits > 0 {
        let bit = bit % bits;
        flip_bit(&mut proof[(bit / 256) as usize], bit % 256);
    }
    proof
}

fn root_of(tree: &MemoryTree, size: u64) -> Hash {
    range_hash(0, size, &mut tree.reader()).expect("a root of a prefix")
}

fn check_real_inclusion(tree: &MemoryTree, index: u64, size: u64, flip: u64) {
    let root = root_of(tree, size);
    let leaf = tree.reader().read_hashes(&[NodeIndex { level: 0, index }]).expect("a leaf")[0];
    let proof = inclusion_proof(index, size, &mut tree.reader()).expect("a proof");
    verify_inclusion(index, size, &leaf, &proof, &root).expect("a real proof verifies");
    if !proof.is_empty() {
        let bad = flipped(&proof, flip);
        assert!(verify_inclusion(index, size, &leaf, &bad, &root).is_err(), "flipped bit {flip}");
        assert!(verify_inclusion(index, size, &leaf, &proof[..proof.len() - 1], &root).is_err());
    }
    let mut longer = proof.clone();
    longer.push(leaf);
    assert!(verify_inclusion(index, size, &leaf, &longer, &root).is_err());
    let (mut bad_leaf, mut bad_root) = (leaf, root);
    flip_bit(&mut bad_leaf, flip);
    flip_bit(&mut bad_root, flip);
    assert!(verify_inclusion(index, size, &bad_leaf, &proof, &root).is_err());
    assert!(verify_inclusion(index, size, &leaf, &proof, &bad_root).is_err());
}

fn check_real_consistency(tree: &MemoryTree, old_size: u64, size: u64, flip: u64) {
    let (old_root, root) = (root_of(tree, old_size), root_of(tree, size));
    let proof = consistency_proof(old_size, size, &mut tree.reader()).expect("a proof");
    verify_consistency(old_size, size, &proof, &old_root, &root).expect("a real proof verifies");
    if !proof.is_empty() {
        assert!(verify_consistency(old_size, size, &flipped(&proof, flip), &old_root, &root).is_err());
        assert!(verify_consistency(old_size, size, &proof[..proof.len() - 1], &old_root, &root).is_err());
    }
    let (mut bad_old, mut bad_new) = (old_root, root);
    flip_bit(&mut bad_old, flip);
    flip_bit(&mut bad_new, flip);
    assert!(verify_consistency(old_size, size, &proof, &bad_old, &root).is_err());
    assert!(verify_consistency(old_size, size, &proof, &old_root, &bad_new).is_err());
    if old_size < size {
        assert!(verify_consistency(size, old_size, &proof, &root, &old_root).is_err());
    }
}

/// A [`TileSource`] over borrowed files, so each check does not copy a whole log.
#[derive(Debug)]
pub struct Files<'a>(pub &'a FileMap);

impl TileSource for Files<'_> {
    fn fetch(&mut self, path: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        Ok(self.0.0.get(path).cloned())
    }
}

/// Proofs read from the largest published log's tiles equal those from the in-memory tree.
fn check_tile_proofs(fixture: &Fixture, first: u64, flip: u64) {
    let log = fixture.logs.last().expect("published logs");
    let size = log.checkpoint.size;
    let mut tiles = TileReader::new(Files(&log.files), size);
    let index = first % size;
    assert_eq!(inclusion_proof(index, size, &mut tiles), inclusion_proof(index, size, &mut fixture.tree.reader()));
    let old_size = 1 + flip % size;
    assert_eq!(
        consistency_proof(old_size, size, &mut tiles),
        consistency_proof(old_size, size, &mut fixture.tree.reader())
    );
    assert_eq!(range_hash(0, size, &mut tiles), Ok(log.checkpoint.root));
}

/// `verifier` target: byte 0 picks a published log, byte 1 one of its files, byte 2 whether to
/// start from a saved state; the rest replaces the file (even byte 3) or edits it as
/// [`splice`] says. Verification must not panic; it must pass when the file is unchanged, fail
/// when a tile or bundle changed, and never accept a checkpoint the log did not sign.
pub fn check_verifier(data: &[u8]) {
    let fixture = fixture();
    let [log_choice, file_choice, state_choice, mode, rest @ ..] = data else {
        return;
    };
    let log_index = usize::from(*log_choice) % fixture.logs.len();
    let log = &fixture.logs[log_index];
    let Some((path, original)) = log.files.0.iter().nth(usize::from(*file_choice) % log.files.0.len()) else {
        return;
    };
    let replacement = if mode % 2 == 0 { rest.to_vec() } else { splice(original, rest) };
    let mut files = log.files.clone();
    files.0.insert(path.clone(), replacement.clone());
    // For odd choices, the state saved from the same log at this size or a smaller one.
    let previous =
        (state_choice % 2 == 1).then(|| &fixture.logs[usize::from(state_choice / 2) % (log_index + 1)].state);

    let result = fixture.verifier().verify(&mut Files(&files), previous, &mut |_: u64, _: u64| {});
    if replacement == *original {
        let report = result.expect("an unchanged log verifies");
        assert_eq!(report.checkpoint, log.checkpoint);
        assert_eq!(report.cosigned_by, [WITNESS]);
    } else if path != "checkpoint" {
        assert!(result.is_err(), "{path} changed and the log still verified");
    } else if let Ok(report) = result {
        assert_eq!(report.checkpoint, log.checkpoint, "a checkpoint the log did not sign");
    }
}
