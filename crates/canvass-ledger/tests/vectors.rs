//! Known-answer tests: the transparency-dev/merkle test vectors (RFC 6962 inclusion and
//! consistency proofs and the Merkle Tree Certificates subtree variants, each with its happy
//! path and every way it must fail), read from
//! `../shared/data/merkle-testdata`, plus the classic reference tree's roots copied in.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use canvass_ledger::{
    Hash, LedgerError, MemoryTree, consistency_proof, inclusion_proof, leaf_hash, verify_consistency, verify_inclusion,
    verify_subtree_consistency, verify_subtree_inclusion,
};
use serde_json::Value;

fn vector_files(kind: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/merkle-testdata").join(kind);
    let mut files = Vec::new();
    let mut folders = vec![root.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap_or_else(|error| panic!("{}: {error}", folder.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|extension| extension == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() > 20, "too few vectors under {}", root.display());
    files
}

/// Some consistency vectors use the placeholders "don't care 1" and "don't care 2" as roots,
/// which the Go library compares as bytes; roots here are 32-byte hashes, so each placeholder
/// stands for a fixed hash of itself: equal placeholders stay equal, different ones differ.
fn hash(value: &Value) -> Result<Hash, LedgerError> {
    let text = value.as_str().unwrap_or_default();
    if let Ok(bytes) = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text)
        && bytes.starts_with(b"don't care")
    {
        return Ok(leaf_hash(&bytes));
    }
    Hash::from_base64(text)
}

fn proof(value: &Value) -> Result<Vec<Hash>, LedgerError> {
    value.as_array().map(|items| items.iter().map(hash).collect()).unwrap_or(Ok(Vec::new()))
}

fn number(value: &Value) -> u64 {
    value.as_u64().expect("a size or index")
}

/// Runs every vector file of a kind through `check`, which must fail exactly when `wantErr`.
fn run(kind: &str, check: impl Fn(&Value) -> Result<(), LedgerError>) {
    let mut mismatches = Vec::new();
    let files = vector_files(kind);
    for file in &files {
        let vector: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let want_error = vector["wantErr"].as_bool().unwrap();
        let result = check(&vector);
        if result.is_err() != want_error {
            mismatches.push(format!("{}: wanted error {want_error}, got {result:?}", file.display()));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} vectors disagree:\n{}",
        mismatches.len(),
        files.len(),
        mismatches.join("\n")
    );
}

#[test]
fn inclusion_vectors() {
    run("inclusion", |vector| {
        verify_inclusion(
            number(&vector["leafIdx"]),
            number(&vector["treeSize"]),
            &hash(&vector["leafHash"])?,
            &proof(&vector["proof"])?,
            &hash(&vector["root"])?,
        )
    });
}

#[test]
fn consistency_vectors() {
    run("consistency", |vector| {
        verify_consistency(
            number(&vector["size1"]),
            number(&vector["size2"]),
            &proof(&vector["proof"])?,
            &hash(&vector["root1"])?,
            &hash(&vector["root2"])?,
        )
    });
}

/// Subtree proofs (the Merkle Tree Certificates draft): inclusion in a subtree, and that a
/// subtree sits inside a bigger tree.
#[test]
fn subtree_inclusion_vectors() {
    run("subtreeinclusion", |vector| {
        verify_subtree_inclusion(
            number(&vector["start"]),
            number(&vector["end"]),
            number(&vector["leafIdx"]),
            &hash(&vector["leafHash"])?,
            &proof(&vector["proof"])?,
            &hash(&vector["root"])?,
        )
    });
}

#[test]
fn subtree_consistency_vectors() {
    run("subtreeconsistency", |vector| {
        verify_subtree_consistency(
            number(&vector["start"]),
            number(&vector["end"]),
            number(&vector["size"]),
            &proof(&vector["proof"])?,
            &hash(&vector["root1"])?,
            &hash(&vector["root2"])?,
        )
    });
}

/// The reference tree of RFC 6962's test suite (certificate-transparency, transparency-dev):
/// eight leaves and the root after each, copied from transparency-dev/merkle's testonly data.
const REFERENCE_LEAVES: [&str; 8] =
    ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];
const REFERENCE_ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn decode_hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap()).collect()
}

#[test]
fn the_reference_tree_has_the_published_roots_and_its_proofs_verify() {
    let mut tree = MemoryTree::new();
    for (leaf, root) in REFERENCE_LEAVES.iter().zip(REFERENCE_ROOTS) {
        tree.append(leaf_hash(&decode_hex(leaf)));
        assert_eq!(tree.root().to_hex(), root, "root at size {}", tree.size());
    }
    let leaves: Vec<Hash> = REFERENCE_LEAVES.iter().map(|leaf| leaf_hash(&decode_hex(leaf))).collect();
    let mut roots = vec![canvass_ledger::EMPTY_ROOT];
    roots.extend(REFERENCE_ROOTS.iter().map(|root| Hash::from_slice(&decode_hex(root)).unwrap()));
    let mut reader = tree.reader();
    for size in 1..=8u64 {
        for index in 0..size {
            // A proof within the tree of `size` reads only nodes of that prefix.
            let proof = inclusion_proof(index, size, &mut reader).unwrap();
            verify_inclusion(index, size, &leaves[index as usize], &proof, &roots[size as usize]).unwrap();
        }
        for old in 1..=size {
            let proof = consistency_proof(old, size, &mut reader).unwrap();
            verify_consistency(old, size, &proof, &roots[old as usize], &roots[size as usize]).unwrap();
        }
    }
}
