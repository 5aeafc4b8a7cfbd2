//! The fuzz targets' checks (`fuzz/src/lib.rs`, included here as a module) over a fixed,
//! seeded corpus of 20,000 random and mutated inputs, so CI holds the parsers, proofs and
//! verifier to the same properties without cargo-fuzz or a nightly toolchain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../../fuzz/src/lib.rs"]
mod checks;

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use canvass_ledger::{Hash, inclusion_proof, leaf_hash, range_hash};

/// Bytes the formats give meaning to, for mutations to insert.
const TOKENS: &[&[u8]] = &[
    b"\n",
    b"\n\n",
    "\u{2014} ".as_bytes(),
    b"+",
    b"/",
    b".p/",
    b"x",
    b"0",
    b"9",
    b"=",
    b" ",
    b"old ",
    b"\r",
    b"\xff",
];

/// SplitMix64: small, seeded, the same on every machine.
struct Generator(u64);

impl Generator {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }

    fn bytes(&mut self, length: usize) -> Vec<u8> {
        (0..length).map(|_| self.next() as u8).collect()
    }

    /// One to four random edits: bit flips, tokens, deletions, duplications, cuts.
    fn mutate(&mut self, sample: &[u8]) -> Vec<u8> {
        let mut bytes = sample.to_vec();
        for _ in 0..1 + self.below(4) {
            let at = self.below(bytes.len() + 1);
            match self.below(6) {
                0 if at < bytes.len() => bytes[at] ^= 1 << self.below(8),
                1 => {
                    let token = TOKENS[self.below(TOKENS.len())];
                    bytes.splice(at..at, token.iter().copied());
                }
                2 => {
                    let end = (at + 1 + self.below(8)).min(bytes.len());
                    bytes.drain(at..end);
                }
                3 => {
                    let end = (at + self.below(16)).min(bytes.len());
                    let copy = bytes[at..end].to_vec();
                    bytes.splice(at..at, copy);
                }
                4 => bytes.truncate(at),
                _ if at < bytes.len() => bytes[at] = self.next() as u8,
                _ => bytes.push(self.next() as u8),
            }
        }
        bytes
    }

    /// Random bytes, a mutated sample, or a sample as is.
    fn input(&mut self, samples: &[Vec<u8>]) -> Vec<u8> {
        let sample = &samples[self.below(samples.len())];
        match self.below(8) {
            0 | 1 => {
                let length = self.below(80);
                self.bytes(length)
            }
            2 => sample.clone(),
            _ => self.mutate(sample),
        }
    }
}

/// Runs `check` on `count` inputs; a failure names the input that caused it.
fn run(seed: u64, count: usize, mut input: impl FnMut(&mut Generator) -> Vec<u8>, check: fn(&[u8])) {
    let mut generator = Generator(seed);
    for number in 0..count {
        let data = input(&mut generator);
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&data))) {
            eprintln!("input {number} of seed {seed}: {:?}", String::from_utf8_lossy(&data));
            eprintln!("bytes: {data:?}");
            resume_unwind(panic);
        }
    }
}

#[test]
fn parsers_round_trip_what_they_accept() {
    let samples = &checks::fixture().parser_samples;
    run(0x0c4e_c4b0_1417, 12_000, |generator| generator.input(samples), checks::check_parsers);
}

fn proof_samples() -> Vec<Vec<u8>> {
    let tree = &checks::fixture().tree;
    let mut samples = Vec::new();
    for (index, size) in [(0u64, 1u64), (3, 7), (6, 7), (255, 256), (256, 513), (1_000, 1_099)] {
        let mut bytes = index.to_be_bytes().to_vec();
        bytes.extend_from_slice(&size.to_be_bytes());
        let leaf = leaf_hash(&checks::entry(index));
        let root = range_hash(0, size, &mut tree.reader()).unwrap();
        let proof = inclusion_proof(index, size, &mut tree.reader()).unwrap();
        for hash in [leaf, root].iter().chain(&proof) {
            bytes.extend_from_slice(hash.as_bytes());
        }
        samples.push(bytes);
    }
    samples.push([u64::MAX.to_be_bytes(), (u64::MAX - 1).to_be_bytes()].concat());
    samples.push([(1u64 << 63).to_be_bytes(), u64::MAX.to_be_bytes(), [0; 8]].concat());
    samples.push(Hash::default().as_bytes().repeat(3));
    samples
}

#[test]
fn proofs_verify_only_unaltered() {
    let samples = proof_samples();
    run(0x9f00_f5ee_d001, 6_000, |generator| generator.input(&samples), checks::check_proofs);
}

#[test]
fn the_verifier_refuses_every_altered_file() {
    let fixture = checks::fixture();
    run(
        0x7e41_f1e5_0b5e,
        2_000,
        |generator| {
            let mut head = generator.bytes(3);
            let log = &fixture.logs[usize::from(head[0]) % fixture.logs.len()];
            let original = log.files.0.values().nth(usize::from(head[1]) % log.files.0.len()).unwrap();
            match generator.below(4) {
                // The file as it was, or replaced by a mutated copy.
                0 => head.push(0),
                1 => head.extend([0].iter().chain(&generator.mutate(original))),
                // One small edit by the check's own splice, or random bytes.
                2 => {
                    let length = 3 + generator.below(6);
                    head.extend([1].into_iter().chain(generator.bytes(length)));
                }
                _ => {
                    let length = generator.below(40);
                    head.extend(generator.bytes(1 + length));
                }
            }
            if head[3] == 0 && head.len() == 4 {
                head.extend_from_slice(original);
            }
            head
        },
        checks::check_verifier,
    );
}

#[test]
fn splice_edits_as_documented() {
    assert_eq!(checks::splice(b"abcdef", &[0, 0, 2, b'X', b'Y']), b"abXYef");
    assert_eq!(checks::splice(b"abcdef", &[1, 0, 2, b'X']), b"abXcdef");
    assert_eq!(checks::splice(b"abcdef", &[2, 0, 2, 3]), b"abf");
    assert_eq!(checks::splice(b"abcdef", &[3, 0, 2, b'X']), b"abX");
    assert_eq!(checks::splice(b"abc", &[0, 0]), b"abc");
}
