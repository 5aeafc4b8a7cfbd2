//! What the voter-roll benches share: a seeded NC-layout file and the real import of it into
//! a state's roll.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use canvass_core::{
    audit::Actor,
    id::JurisdictionId,
    jurisdiction::{Jurisdiction, JurisdictionKind},
    name::Name,
};
use canvass_crypto::SecretString;
use canvass_server::{
    keys::{self, UnsealedRing},
    ledger::{Audit, Ledger},
    roll_import::{self, ImportProgress, ImportSettings},
};
use canvass_store::{ImportCounts, Store};

pub const STATE: &str = "ocd-division/country:us/state:nc";

struct Quiet;

impl ImportProgress for Quiet {
    fn started(&mut self, _: u64, _: u64, _: &ImportCounts) {}
    fn advanced(&mut self, _: u64, _: &ImportCounts) {}
}

/// A numeric setting from the environment, or its default.
pub fn variable(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

/// Writes the seeded file of `rows` voters with the confidential columns.
pub fn generate_file(file: &Path, rows: u64) {
    let mut output = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(file).unwrap());
    canvass_formats::ncvoter::generate(20_261_122, rows, true, &mut output).unwrap();
}

/// The state's roll imported from `file` through the real path (`--add-places`, default
/// batches), its key ring created first; the import's time and counts, the state and its ring.
pub async fn import_state_roll(
    store: &Arc<dyn Store>,
    file: &Path,
    rows: u64,
) -> (Duration, ImportCounts, JurisdictionId, UnsealedRing) {
    let id = JurisdictionId::parse(STATE).unwrap();
    let state = Jurisdiction {
        id: id.clone(),
        name: Name::parse("North Carolina").unwrap(),
        kind: JurisdictionKind::State,
        parent: None,
    };
    store.insert_jurisdiction(&state).await.unwrap();
    let audit = Audit { ledger: Ledger::direct(store.clone()), actor: Actor::Operator, request_id: None };
    let passphrase = SecretString::from("benchmark key ring passphrase".to_owned());
    let ring = keys::create_key_ring(store.as_ref(), &audit, &id, passphrase, rows).await.unwrap();
    let settings = ImportSettings {
        jurisdiction: id.clone(),
        add_places: true,
        batch_rows: roll_import::DEFAULT_BATCH_ROWS,
        actor: "benchmark".into(),
    };
    let started = Instant::now();
    let summary = roll_import::import_ncvoter(store, &audit, &ring, file, &settings, &mut std::io::sink(), &mut Quiet)
        .await
        .unwrap();
    (started.elapsed(), summary.import.counts, id, ring)
}
