//! Mounts the store conformance suite on PostgreSQL: one throwaway cluster for the run, a fresh
//! database for every scenario.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::ExitCode;

use canvass_store::{Store, conformance};
use canvass_store_postgres::{PostgresStore, test_cluster::TestCluster};
use libtest_mimic::{Arguments, Failed, Trial};

fn run_scenario(url: &str, scenario: conformance::Scenario) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let store = PostgresStore::open(url).await?;
        (scenario.run)(&store).await;
        store.close().await;
        Ok(())
    })
}

fn main() -> ExitCode {
    let arguments = Arguments::from_args();
    let scenarios = conformance::scenarios();
    if arguments.list {
        let trials = scenarios
            .into_iter()
            .map(|scenario| Trial::test(format!("conformance::postgres::{}", scenario.name), || Ok(())))
            .collect();
        return libtest_mimic::run(&arguments, trials).exit_code();
    }
    let cluster = match TestCluster::start() {
        Ok(cluster) => cluster,
        Err(reason) => {
            eprintln!("cannot start the PostgreSQL test cluster: {reason}");
            return ExitCode::FAILURE;
        }
    };
    let mut trials = Vec::new();
    for scenario in scenarios {
        let database = cluster.create_database();
        trials.push(Trial::test(format!("conformance::postgres::{}", scenario.name), move || {
            let url = database.map_err(Failed::from)?;
            run_scenario(&url, scenario)
        }));
    }
    let conclusion = libtest_mimic::run(&arguments, trials);
    drop(cluster);
    conclusion.exit_code()
}
