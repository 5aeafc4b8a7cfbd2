//! The log as outsiders see it: the verifier recomputes a published log and names the entry
//! that was altered; forks, truncations and rewrites against a saved state are reported; a
//! witness cosigns only consistent checkpoints; proofs read from tiles verify.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use canvass_crypto::NodeSigningKey;
use canvass_ledger::{
    AddCheckpoint, Discrepancy, FileMap, LedgerError, LogVerifier, MemoryLog, MemoryTree, NoteSigner, TileReader,
    TrustedState, VerifierKey, Witness, WitnessRefusal, consistency_proof, inclusion_proof, leaf_hash,
    verify_consistency, verify_inclusion,
};
use proptest::prelude::*;

const ORIGIN: &str = "examplia.gov/canvass";

fn entry(number: u64) -> Vec<u8> {
    format!(r#"{{"number":{number},"action":"test.entry"}}"#).into_bytes()
}

fn log_of(size: u64) -> MemoryLog {
    let mut log = MemoryLog::new(ORIGIN);
    for number in 0..size {
        log.append(&entry(number));
    }
    log
}

struct Keys {
    log: NodeSigningKey,
}

impl Keys {
    fn new() -> Self {
        Self { log: NodeSigningKey::generate().unwrap() }
    }

    fn signer(&self) -> NoteSigner<'_> {
        NoteSigner::new(ORIGIN, &self.log).unwrap()
    }

    fn verifier(&self) -> LogVerifier {
        LogVerifier { log_key: self.signer().verifier_key(), witnesses: Vec::new() }
    }
}

fn verify(keys: &Keys, files: &FileMap, previous: Option<&TrustedState>) -> Result<TrustedState, LedgerError> {
    let mut source = files.clone();
    keys.verifier().verify(&mut source, previous, &mut |_: u64, _: u64| {}).map(|report| report.state)
}

fn discrepancy(result: Result<TrustedState, LedgerError>) -> Discrepancy {
    match result {
        Err(LedgerError::Discrepancy(found)) => found,
        other => panic!("expected a discrepancy, got {other:?}"),
    }
}

#[test]
fn an_honest_log_verifies_at_many_sizes() {
    let keys = Keys::new();
    for size in [0, 1, 2, 255, 256, 257, 1000, 65_536, 65_537] {
        let state = verify(&keys, &log_of(size).files(&keys.signer()).unwrap(), None).unwrap();
        assert_eq!(state.size, size);
    }
}

#[test]
fn an_altered_entry_is_named_by_its_index() {
    let keys = Keys::new();
    let mut files = log_of(1000).files(&keys.signer()).unwrap();
    // Entry 700 is the 188th of bundle 2; change one byte of it in place.
    let bundle = files.0.get_mut("tile/entries/002").unwrap();
    let entries = canvass_ledger::decode_entry_bundle(bundle).unwrap();
    let offset = entries[..188].iter().map(|entry| entry.len() + 2).sum::<usize>() + 2 + 10;
    bundle[offset] ^= 1;
    assert_eq!(
        discrepancy(verify(&keys, &files, None)),
        Discrepancy::Entry { index: 700, tile: "tile/0/002".to_owned() }
    );
}

#[test]
fn an_altered_leaf_hash_is_named_by_its_index() {
    let keys = Keys::new();
    let mut files = log_of(600).files(&keys.signer()).unwrap();
    files.0.get_mut("tile/0/002.p/88").unwrap()[32 * 5] ^= 0x80;
    assert_eq!(
        discrepancy(verify(&keys, &files, None)),
        Discrepancy::Entry { index: 517, tile: "tile/0/002.p/88".to_owned() }
    );
}

#[test]
fn an_altered_higher_tile_hash_names_its_entries() {
    let keys = Keys::new();
    let mut files = log_of(70_000).files(&keys.signer()).unwrap();
    files.0.get_mut("tile/1/000").unwrap()[32 * 3 + 7] ^= 1;
    assert_eq!(
        discrepancy(verify(&keys, &files, None)),
        Discrepancy::Tile { path: "tile/1/000".to_owned(), position: 3, first_entry: 768, last_entry: 1023 }
    );
}

#[test]
fn a_consistently_rewritten_log_fails_the_signed_root_and_the_saved_state() {
    let keys = Keys::new();
    let honest = log_of(1000);
    let signed = honest.files(&keys.signer()).unwrap();
    let state = verify(&keys, &signed, None).unwrap();
    // Rewrite entry 300 and recompute every tile, but keep the old signed checkpoint.
    let mut forged = MemoryLog::new(ORIGIN);
    for number in 0..1000 {
        forged.append(&if number == 300 { b"rewritten".to_vec() } else { entry(number) });
    }
    let mut files = forged.files(&keys.signer()).unwrap();
    files.0.insert("checkpoint".to_owned(), signed.0["checkpoint"].clone());
    assert!(matches!(discrepancy(verify(&keys, &files, None)), Discrepancy::Root { size: 1000, .. }));
    // A rewrite re-signed with the log key (a stolen key, or the operator) and grown: the
    // saved state locates the change.
    forged.append(&entry(1000));
    let files = forged.files(&keys.signer()).unwrap();
    assert_eq!(
        discrepancy(verify(&keys, &files, Some(&state))),
        Discrepancy::Rewrite { size: 1000, first_entry: 256, last_entry: 511 }
    );
}

#[test]
fn forks_and_truncations_against_the_saved_state_are_reported() {
    let keys = Keys::new();
    let state = verify(&keys, &log_of(500).files(&keys.signer()).unwrap(), None).unwrap();
    let mut fork = log_of(499);
    fork.append(b"another last entry");
    assert!(matches!(
        discrepancy(verify(&keys, &fork.files(&keys.signer()).unwrap(), Some(&state))),
        Discrepancy::Fork { size: 500, .. }
    ));
    assert_eq!(
        discrepancy(verify(&keys, &log_of(400).files(&keys.signer()).unwrap(), Some(&state))),
        Discrepancy::Truncation { previous: 500, now: 400 }
    );
    let grown = verify(&keys, &log_of(900).files(&keys.signer()).unwrap(), Some(&state)).unwrap();
    assert_eq!(grown.size, 900);
}

#[test]
fn a_checkpoint_signed_by_another_key_or_malformed_files_fail_with_what_failed() {
    let keys = Keys::new();
    let other = Keys::new();
    let files = log_of(10).files(&other.signer()).unwrap();
    assert!(matches!(verify(&keys, &files, None), Err(LedgerError::Signature(_))));
    let mut files = log_of(10).files(&keys.signer()).unwrap();
    files.0.insert("tile/entries/000.p/10".to_owned(), vec![0, 5, 1]);
    assert!(matches!(verify(&keys, &files, None), Err(LedgerError::Malformed { what: "entry bundle", .. })));
    let mut files = log_of(10).files(&keys.signer()).unwrap();
    files.0.remove("tile/0/000.p/10");
    assert!(matches!(verify(&keys, &files, None), Err(LedgerError::Fetch { .. })));
    let mut files = log_of(10).files(&keys.signer()).unwrap();
    files.0.insert("checkpoint".to_owned(), b"garbage".to_vec());
    assert!(matches!(verify(&keys, &files, None), Err(LedgerError::Malformed { what: "note", .. })));
}

fn add_request(log: &MemoryLog, keys: &Keys, old_size: u64) -> AddCheckpoint {
    let mut tree = MemoryTree::new();
    for number in 0..log.size() {
        tree.append(leaf_hash(&entry(number)));
    }
    let proof =
        if old_size == 0 { Vec::new() } else { consistency_proof(old_size, log.size(), &mut tree.reader()).unwrap() };
    AddCheckpoint { old_size, proof, checkpoint: log.signed_checkpoint(&keys.signer()) }
}

#[test]
fn a_witness_cosigns_consistent_checkpoints_and_refuses_the_rest() {
    let keys = Keys::new();
    let witness_key = NodeSigningKey::generate().unwrap();
    let witness_signer = NoteSigner::new("witness.alder.examplia.gov", &witness_key).unwrap();
    let cosignature_key = witness_signer.cosignature_key().0;
    let mut witness = Witness::new(witness_signer, keys.signer().verifier_key(), ORIGIN);

    let first = add_request(&log_of(100), &keys, 0);
    let line = witness.add_checkpoint(&first, 1_800_000_000).unwrap();
    let mut cosigned = first.checkpoint.clone();
    cosigned.add_signature(line);
    assert_eq!(cosignature_key.verify_cosignature(&cosigned).unwrap(), 1_800_000_000);

    // Through the wire format, as `add-checkpoint` carries it.
    let second = AddCheckpoint::parse(add_request(&log_of(300), &keys, 100).to_text().as_bytes()).unwrap();
    witness.add_checkpoint(&second, 1_800_000_001).unwrap();
    assert_eq!(witness.state().size, 300);

    // A fork at the same size.
    let mut fork = log_of(299);
    fork.append(b"forked");
    let forked = AddCheckpoint { old_size: 300, proof: Vec::new(), checkpoint: fork.signed_checkpoint(&keys.signer()) };
    assert!(matches!(witness.add_checkpoint(&forked, 0), Err(WitnessRefusal::Conflict { known_size: 300, .. })));

    // A stale old size, a bad proof, a shrunken log, a foreign signature.
    let stale = add_request(&log_of(400), &keys, 100);
    assert_eq!(witness.add_checkpoint(&stale, 0).unwrap_err().status(), 409);
    let mut bad_proof = add_request(&log_of(400), &keys, 300);
    bad_proof.proof[0] = leaf_hash(b"not a node");
    assert_eq!(witness.add_checkpoint(&bad_proof, 0).unwrap_err().status(), 422);
    let shrunk =
        AddCheckpoint { old_size: 300, proof: Vec::new(), checkpoint: log_of(200).signed_checkpoint(&keys.signer()) };
    assert_eq!(witness.add_checkpoint(&shrunk, 0).unwrap_err().status(), 400);
    let other = Keys::new();
    let foreign = add_request(&log_of(400), &other, 300);
    assert_eq!(witness.add_checkpoint(&foreign, 0).unwrap_err().status(), 403);
    // None of the refusals moved the witness.
    assert_eq!(witness.state().size, 300);
    let next = add_request(&log_of(400), &keys, 300);
    witness.add_checkpoint(&next, 0).unwrap();
    let resumed = VerifierKey::parse(&witness.state().log_key).unwrap();
    assert_eq!(resumed, keys.signer().verifier_key());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Proofs read through published tiles verify against the published root, and agree with
    /// proofs from the all-nodes tree.
    #[test]
    fn tile_proofs_verify(size in 1u64..3000, index_seed in any::<u64>(), old_seed in any::<u64>()) {
        let keys = Keys::new();
        let log = log_of(size);
        let files = log.files(&keys.signer()).unwrap();
        let mut tiles = TileReader::new(files, size);
        let mut tree = MemoryTree::new();
        for number in 0..size {
            tree.append(leaf_hash(&entry(number)));
        }
        let index = index_seed % size;
        let proof = inclusion_proof(index, size, &mut tiles).unwrap();
        prop_assert_eq!(&proof, &inclusion_proof(index, size, &mut tree.reader()).unwrap());
        verify_inclusion(index, size, &leaf_hash(&entry(index)), &proof, &log.root()).unwrap();
        let old = 1 + old_seed % size;
        let old_root = canvass_ledger::range_hash(0, old, &mut tiles).unwrap();
        let proof = consistency_proof(old, size, &mut tiles).unwrap();
        verify_consistency(old, size, &proof, &old_root, &log.root()).unwrap();
        prop_assert!(verify_consistency(old, size, &proof, &leaf_hash(b"x"), &log.root()).is_err());
    }
}
