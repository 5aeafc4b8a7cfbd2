//! Fuzz target `verifier`: the log verifier over a published log with one file replaced or
//! edited (see `check_verifier`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| canvass_ledger_fuzz::check_verifier(data));
