//! The binary on PostgreSQL: `init --database-url`, the catalogue commands, `serve` and
//! `doctor`, against a throwaway cluster started by this test.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use canvass_store_postgres::test_cluster::TestCluster;
use support::{Served, get, init_node, run, stderr, stdout};

#[test]
fn a_node_on_postgresql_end_to_end() {
    let cluster = TestCluster::start().unwrap();
    let url = cluster.create_database().unwrap();
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &["--database-url", &url]);
    let data_text = data.to_str().unwrap();
    assert!(!data.join("canvass.db").exists(), "no SQLite file when PostgreSQL is configured");
    assert!(std::fs::read_to_string(data.join("canvass.toml")).unwrap().contains(&url));

    let added =
        run(&["jurisdiction", "add", "--data", data_text, "--id", "nc", "--name", "North Carolina", "--kind", "state"]);
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(stdout(&run(&["jurisdiction", "list", "--data", data_text])).contains("North Carolina [state] nc"));

    let served = Served::start(&["--data", data_text], &[]).unwrap();
    assert_eq!(get(served.public, "/readyz").json()["database"], "postgres");
    assert!(get(served.public, "/").body.contains("North Carolina"));
    drop(served);

    // CANVASS_DATABASE_URL overrides the config: an empty database has no administrator.
    let empty = cluster.create_database().unwrap();
    let report = support::canvass()
        .args(["doctor", "--json", "--data", data_text])
        .env("CANVASS_DATABASE_URL", &empty)
        .output()
        .unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&stdout(&report)).unwrap();
    let codes: Vec<&str> = parsed["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"no-administrator"), "{codes:?}");
    assert_eq!(report.status.code(), Some(1));
}
