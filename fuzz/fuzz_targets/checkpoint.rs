//! Fuzz target `checkpoint`: signed notes, checkpoints, verifier keys, signature lines,
//! witness requests, tile paths and entry bundles (see `check_parsers`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| canvass_ledger_fuzz::check_parsers(data));
