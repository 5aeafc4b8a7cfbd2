//! Mounts the store conformance suite on SQLite: every scenario on a fresh database file.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::ExitCode;

use canvass_store::{Store, conformance};
use canvass_store_sqlite::{OpenMode, SqliteStore};
use libtest_mimic::{Arguments, Failed, Trial};

fn run_scenario(scenario: conformance::Scenario) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let directory = tempfile::tempdir()?;
        let store = SqliteStore::open(&directory.path().join("canvass.db"), OpenMode::Create).await?;
        (scenario.run)(&store).await;
        store.close().await;
        Ok(())
    })
}

fn main() -> ExitCode {
    let arguments = Arguments::from_args();
    let trials = conformance::scenarios()
        .into_iter()
        .map(|scenario| Trial::test(format!("conformance::sqlite::{}", scenario.name), move || run_scenario(scenario)))
        .collect();
    libtest_mimic::run(&arguments, trials).exit_code()
}
