//! Audit-ledger costs on this machine: inclusion and consistency proofs read from the tiles of a
//! published log of one million entries and from an in-memory tree, proof verification, leaf
//! hashing and append throughput, and verifying the whole million-entry log from scratch as
//! `canvass audit verify` does. `cargo bench -p canvass-ledger --bench ledger`
//!
//! Entries are about 200 bytes of JSON shaped like the node's audit entries. The log is built
//! and published once, in memory, before anything is timed; "from tiles" starts each proof
//! with an empty tile cache, as a request that reads its tiles from the store would.
// A benchmark: a failed setup should stop the run loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{hint::black_box, time::Duration, time::Instant};

use canvass_crypto::NodeSigningKey;
use canvass_ledger::{
    FileMap, Hash, LedgerError, LogVerifier, MemoryLog, MemoryTree, NoteSigner, TileReader, TileSource, TreeBuilder,
    consistency_proof, inclusion_proof, leaf_hash, range_hash, verify_consistency, verify_inclusion,
};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

const ORIGIN: &str = "wake.example.gov/canvass";
const LOG_SIZE: u64 = 1_000_000;

/// An audit entry as `canvass-core` encodes them: about 200 bytes.
fn entry(number: u64) -> Vec<u8> {
    let (seconds, millis) = (number / 1_000, number % 1_000);
    format!(
        r#"{{"time":"2026-11-03T{:02}:{:02}:{:02}.{millis:03}Z","actor":"user:clerk{:02}","jurisdiction":"ocd-division/country:us/state:nc/county:wake","action":"voter.read","targets":["voter:NC{:09}"],"outcome":"allowed","request_id":"{:016x}"}}"#,
        seconds / 3_600 % 24,
        seconds / 60 % 60,
        seconds % 60,
        number % 40,
        number.wrapping_mul(7_919) % 1_000_000_000,
        number.wrapping_mul(0x9e37_79b9_7f4a_7c15),
    )
    .into_bytes()
}

/// Reads files in place: [`FileMap`]'s own source would copy the whole map into each reader.
struct Files<'a>(&'a FileMap);

impl TileSource for Files<'_> {
    fn fetch(&mut self, path: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        Ok(self.0.0.get(path).cloned())
    }
}

/// Evenly spread pseudo-random numbers below `bound`, the same on every run.
fn numbers(count: usize, bound: u64) -> Vec<u64> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % bound
        })
        .collect()
}

/// Cycles through `items`, one per call.
fn cycle<'a, T>(items: &'a [T]) -> impl FnMut() -> &'a T {
    let mut position = 0;
    move || {
        position = (position + 1) % items.len();
        &items[position]
    }
}

struct Published {
    files: FileMap,
    tree: MemoryTree,
    root: Hash,
    verifier: LogVerifier,
}

fn publish() -> Published {
    let started = Instant::now();
    let key = NodeSigningKey::generate().unwrap();
    let signer = NoteSigner::new(ORIGIN, &key).unwrap();
    let mut log = MemoryLog::new(ORIGIN);
    let mut tree = MemoryTree::new();
    let mut bytes = 0;
    for number in 0..LOG_SIZE {
        let entry = entry(number);
        bytes += entry.len();
        tree.append(leaf_hash(&entry));
        log.append(&entry);
    }
    let files = log.files(&signer).unwrap();
    eprintln!(
        "setup: {LOG_SIZE} entries (mean {} bytes) built and published in {:.1?}: {} files",
        bytes as u64 / LOG_SIZE,
        started.elapsed(),
        files.0.len()
    );
    Published {
        files,
        root: log.root(),
        tree,
        verifier: LogVerifier { log_key: signer.verifier_key(), witnesses: vec![] },
    }
}

fn proofs(criterion: &mut Criterion, log: &Published) {
    let size = LOG_SIZE;
    let indices = numbers(4_096, size);
    let old_sizes: Vec<u64> = indices.iter().map(|index| index + 1).collect();
    let mut group = criterion.benchmark_group("proof");

    let mut next = cycle(&indices);
    group.bench_function("inclusion_from_tiles", |bench| {
        bench.iter(|| inclusion_proof(*next(), size, &mut TileReader::new(Files(&log.files), size)).unwrap())
    });
    let mut cached = TileReader::new(Files(&log.files), size);
    group.bench_function("inclusion_from_tiles_cached", |bench| {
        bench.iter(|| inclusion_proof(*next(), size, &mut cached).unwrap())
    });
    group.bench_function("inclusion_from_memory_tree", |bench| {
        bench.iter(|| inclusion_proof(*next(), size, &mut log.tree.reader()).unwrap())
    });

    let inclusions: Vec<(u64, Hash, Vec<Hash>)> = indices
        .iter()
        .map(|&index| (index, leaf_hash(&entry(index)), inclusion_proof(index, size, &mut log.tree.reader()).unwrap()))
        .collect();
    let mut next_inclusion = cycle(&inclusions);
    group.bench_function("verify_inclusion", |bench| {
        bench.iter(|| {
            let (index, leaf, proof) = next_inclusion();
            verify_inclusion(*index, size, leaf, proof, &log.root).unwrap()
        })
    });

    let mut next_old = cycle(&old_sizes);
    group.bench_function("consistency_from_tiles", |bench| {
        bench.iter(|| consistency_proof(*next_old(), size, &mut TileReader::new(Files(&log.files), size)).unwrap())
    });
    group.bench_function("consistency_from_memory_tree", |bench| {
        bench.iter(|| consistency_proof(*next_old(), size, &mut log.tree.reader()).unwrap())
    });

    let consistencies: Vec<(u64, Hash, Vec<Hash>)> = old_sizes
        .iter()
        .take(512)
        .map(|&old| {
            let old_root = range_hash(0, old, &mut log.tree.reader()).unwrap();
            (old, old_root, consistency_proof(old, size, &mut log.tree.reader()).unwrap())
        })
        .collect();
    let mut next_consistency = cycle(&consistencies);
    group.bench_function("verify_consistency", |bench| {
        bench.iter(|| {
            let (old, old_root, proof) = next_consistency();
            verify_consistency(*old, size, proof, old_root, &log.root).unwrap()
        })
    });
    group.finish();
}

fn appends(criterion: &mut Criterion) {
    const BATCH: u64 = 10_000;
    let entries: Vec<Vec<u8>> = (0..BATCH).map(entry).collect();
    let mut group = criterion.benchmark_group("append");
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function("leaf_hash", |bench| {
        bench.iter(|| entries.iter().map(|entry| leaf_hash(entry)).fold(0u8, |acc, hash| acc ^ hash.0[0]))
    });
    group.bench_function("leaf_hash_and_tree_builder_append", |bench| {
        bench.iter(|| {
            let mut builder = TreeBuilder::new();
            let mut completed = Vec::new();
            for entry in &entries {
                builder.append(leaf_hash(entry), &mut completed);
            }
            (builder.root(), completed.len())
        })
    });
    group.finish();
}

fn verify_whole_log(criterion: &mut Criterion, log: &Published) {
    let mut group = criterion.benchmark_group("verify");
    // About a second an iteration: ten samples of one iteration each.
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(LOG_SIZE));
    group.bench_function("log_of_1m_entries_from_scratch", |bench| {
        bench.iter(|| {
            let report = log.verifier.verify(&mut Files(&log.files), None, &mut |_: u64, _: u64| {}).unwrap();
            assert_eq!(report.checkpoint.size, LOG_SIZE);
        })
    });
    group.finish();
}

fn benchmarks(criterion: &mut Criterion) {
    appends(criterion);
    let log = publish();
    proofs(criterion, &log);
    verify_whole_log(criterion, &log);
    black_box(log);
}

criterion_group!(ledger, benchmarks);
criterion_main!(ledger);
