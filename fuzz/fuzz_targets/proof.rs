//! Fuzz target `proof`: inclusion and consistency proof verification on arbitrary sizes,
//! indices and hashes, and real proofs with one bit flipped (see `check_proofs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| canvass_ledger_fuzz::check_proofs(data));
