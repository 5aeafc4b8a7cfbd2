//! The canary test: voters whose names, date of birth, SSN digits, driver's licence and email
//! are unique markers go in through the real node; then every byte at rest is scanned (the
//! SQLite file, its WAL and shared memory, a pg_dump of the PostgreSQL store, an encrypted
//! backup) and everything the server logged. No marker may appear anywhere.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{fs, path::Path};

use canvass_store_postgres::test_cluster::TestCluster;
use support::{Served, admin_bearer, init_node, request, run, stderr};

const STATE: &str = "ocd-division/country:us/state:qz";
const COUNTY: &str = "ocd-division/country:us/state:qz/county:canary";
const PASSPHRASE: &str = "canary key ring passphrase";

/// The strings that must never be found at rest or in a log.
const MARKERS: [&str; 8] = [
    "Qzxcanaryfirst",
    "Qzxcanarylast",
    "QZXCANARYLAST",
    "1911-11-11",
    "19111111",
    "8264",
    "QZXDL90817",
    "qzx.canary@example.invalid",
];

fn setup(directory: &Path, extra_init: &[&str]) -> std::path::PathBuf {
    let data = init_node(directory, extra_init);
    let data_text = data.to_str().unwrap();
    let passphrase_file = directory.join("key-passphrase");
    fs::write(&passphrase_file, PASSPHRASE).unwrap();
    let precinct = format!("{COUNTY}/precinct:01");
    let steps: [Vec<&str>; 4] = [
        vec!["jurisdiction", "add", "--data", data_text, "--id", STATE, "--name", "Canary State", "--kind", "state"],
        vec![
            "jurisdiction",
            "add",
            "--data",
            data_text,
            "--id",
            COUNTY,
            "--name",
            "Canary County",
            "--kind",
            "county",
            "--parent",
            STATE,
        ],
        vec![
            "precinct",
            "add",
            "--data",
            data_text,
            "--id",
            &precinct,
            "--jurisdiction",
            COUNTY,
            "--name",
            "Canary 01",
        ],
        vec![
            "keys",
            "init",
            "--data",
            data_text,
            "--jurisdiction",
            COUNTY,
            "--passphrase-file",
            passphrase_file.to_str().unwrap(),
            "--projected-voters",
            "10000",
        ],
    ];
    for step in steps {
        let output = run(&step);
        assert!(output.status.success(), "{step:?}: {}", stderr(&output));
    }
    data
}

fn register_canaries(served: &Served, data: &Path) {
    let bearer = admin_bearer(data);
    let unseal = serde_json::json!({ "passphrase": PASSPHRASE }).to_string();
    let path = format!("/api/jurisdictions/{}/unseal", COUNTY.replace('/', "%2F"));
    let unsealed = request(served.admin, "POST", &path, &[("Authorization", &bearer)], Some(&unseal));
    assert_eq!(unsealed.status, 200, "{}", unsealed.body);
    for number in 0..3 {
        let voter = serde_json::json!({
            "jurisdiction": COUNTY, "registration_number": format!("QZ{number}"), "county": COUNTY,
            "precinct": format!("{COUNTY}/precinct:01"), "first_name": "Qzxcanaryfirst", "last_name": "Qzxcanarylast",
            "party": "UNA", "status": "active", "registered_on": "2020-01-01", "birth_date": "1911-11-11",
            "ssn_last_four": "8264", "drivers_license": "QZXDL90817", "email": "qzx.canary@example.invalid"
        })
        .to_string();
        let added = request(served.admin, "POST", "/api/voters", &[("Authorization", &bearer)], Some(&voter));
        assert_eq!(added.status, 201, "{}", added.body);
    }
}

/// Where a marker is looked for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// Raw bytes (database files, backups): any occurrence counts. A chance match of a
    /// 4-byte marker in random bytes is about one in 4 billion per position.
    Binary,
    /// Text that also holds hex and numbers (pg_dump renders sealed bytes as hex; logs hold
    /// request ids and timestamps): a digits-only marker counts only as a whole value, not
    /// flanked by hex digits, which is how a leaked value would appear (`\t8264\t`, `"8264"`).
    Text,
}

fn occurs(bytes: &[u8], marker: &str, scan: Scan) -> bool {
    let digits_only = marker.bytes().all(|byte| byte.is_ascii_digit());
    let length = marker.len();
    (0..bytes.len().saturating_sub(length - 1)).any(|start| {
        if &bytes[start..start + length] != marker.as_bytes() {
            return false;
        }
        if scan == Scan::Binary || !digits_only {
            return true;
        }
        let flanked =
            |index: Option<usize>| index.and_then(|index| bytes.get(index)).is_some_and(u8::is_ascii_hexdigit);
        !flanked(start.checked_sub(1)) && !flanked(Some(start + length))
    })
}

fn assert_no_marker_in(what: &str, bytes: &[u8], scan: Scan) {
    assert!(!bytes.is_empty(), "{what} is empty: the scan would prove nothing");
    for marker in MARKERS {
        assert!(!occurs(bytes, marker, scan), "`{marker}` found in {what}");
    }
}

fn assert_no_marker(what: &str, bytes: &[u8]) {
    assert_no_marker_in(what, bytes, Scan::Binary);
}

#[test]
fn the_scanner_finds_leaked_values_in_text_and_ignores_hex_and_timestamps() {
    assert!(occurs(b"NC1\t8264\tUNA", "8264", Scan::Text));
    assert!(occurs(br#"{"ssn_last_four":"8264"}"#, "8264", Scan::Text));
    assert!(!occurs(b"\\x0a18264fe", "8264", Scan::Text));
    assert!(!occurs(b"2026-11-21T23:14:42.082641Z", "8264", Scan::Text));
    assert!(occurs(b"\\x0a18264fe", "8264", Scan::Binary));
    assert!(occurs(b"name Qzxcanarylast here", "Qzxcanarylast", Scan::Text));
}

fn scan_directory(directory: &Path) -> usize {
    let mut scanned = 0;
    for entry in fs::read_dir(directory).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            assert_no_marker(&path.display().to_string(), &fs::read(&path).unwrap());
            scanned += 1;
        }
    }
    scanned
}

#[test]
fn no_marker_reaches_the_sqlite_files_the_backup_or_the_logs() {
    let directory = tempfile::tempdir().unwrap();
    let data = setup(directory.path(), &[]);
    let served = Served::start(&["--data", data.to_str().unwrap()], &[("CANVASS_LOG", "debug")]).unwrap();
    register_canaries(&served, &data);

    // While the node serves: the database, its WAL and shared-memory files.
    assert!(data.join("canvass.db-wal").exists(), "WAL mode keeps recent writes in the -wal file: scan it too");
    let stored: Vec<u8> =
        ["canvass.db", "canvass.db-wal"].iter().flat_map(|name| fs::read(data.join(name)).unwrap()).collect();
    assert!(
        stored.windows(3).any(|window| window == b"QZ0"),
        "the scan sees the rows: their registration number is in the clear"
    );
    assert!(scan_directory(&data) >= 4, "database, WAL, shm, config, key");

    let backup_passphrase = directory.path().join("backup-passphrase");
    fs::write(&backup_passphrase, "canary backup passphrase").unwrap();
    let backup_file = directory.path().join("canary.backup");
    let output = run(&[
        "backup",
        "create",
        "--data",
        data.to_str().unwrap(),
        "--to",
        backup_file.to_str().unwrap(),
        "--passphrase-file",
        backup_passphrase.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_no_marker("the backup file", &fs::read(&backup_file).unwrap());
    // Restored, the database is as sealed as the original.
    let restored = directory.path().join("restored");
    let output = run(&[
        "backup",
        "restore",
        "--data",
        restored.to_str().unwrap(),
        backup_file.to_str().unwrap(),
        "--passphrase-file",
        backup_passphrase.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    scan_directory(&restored);

    let (printed, logged) = served.stop_and_collect();
    assert!(logged.contains("voter registered"), "the server did log the requests: {logged}");
    assert_no_marker_in("the server's stdout", printed.as_bytes(), Scan::Text);
    assert_no_marker_in("the server's log", logged.as_bytes(), Scan::Text);
    // After shutdown the WAL is checkpointed into the main file: scan again.
    scan_directory(&data);
}

#[test]
fn no_marker_reaches_a_pg_dump_of_the_postgresql_store() {
    let cluster = TestCluster::start().unwrap();
    let url = cluster.create_database().unwrap();
    let directory = tempfile::tempdir().unwrap();
    let data = setup(directory.path(), &["--database-url", &url]);
    let served = Served::start(&["--data", data.to_str().unwrap()], &[("CANVASS_LOG", "debug")]).unwrap();
    register_canaries(&served, &data);
    // A backup of a PostgreSQL node, taken while it serves.
    let backup_passphrase = directory.path().join("backup-passphrase");
    fs::write(&backup_passphrase, "canary backup passphrase").unwrap();
    let backup_file = directory.path().join("canary-postgres.backup");
    let output = run(&[
        "backup",
        "create",
        "--data",
        data.to_str().unwrap(),
        "--to",
        backup_file.to_str().unwrap(),
        "--passphrase-file",
        backup_passphrase.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_no_marker("the PostgreSQL node's backup", &fs::read(&backup_file).unwrap());
    let (_, logged) = served.stop_and_collect();
    assert_no_marker_in("the server's log", logged.as_bytes(), Scan::Text);
    let dump = cluster.dump(&url).unwrap();
    assert!(String::from_utf8_lossy(&dump).contains("QZ0"), "the dump holds the voter rows");
    assert_no_marker_in("pg_dump", &dump, Scan::Text);

    // Restored into an empty database, the node is whole and still sealed.
    let target = cluster.create_database().unwrap();
    let restored = directory.path().join("restored");
    let restore = |url: &str| {
        support::canvass()
            .args([
                "backup",
                "restore",
                "--data",
                restored.to_str().unwrap(),
                backup_file.to_str().unwrap(),
                "--passphrase-file",
                backup_passphrase.to_str().unwrap(),
            ])
            .env("CANVASS_DATABASE_URL", url)
            .output()
            .unwrap()
    };
    let output = restore(&target);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!restored.join("database.sql").exists(), "the dump is loaded, then removed");
    let listed = support::canvass()
        .args(["keys", "status", "--json", "--data", restored.to_str().unwrap()])
        .env("CANVASS_DATABASE_URL", &target)
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_str(&support::stdout(&listed)).unwrap();
    assert_eq!(status[0]["field_key_versions"][0]["rows"], 3, "{status}");
    // Restoring over a database that already holds a node is refused and leaves no data dir.
    let again = directory.path().join("again");
    let output = support::canvass()
        .args([
            "backup",
            "restore",
            "--data",
            again.to_str().unwrap(),
            backup_file.to_str().unwrap(),
            "--passphrase-file",
            backup_passphrase.to_str().unwrap(),
        ])
        .env("CANVASS_DATABASE_URL", &target)
        .output()
        .unwrap();
    support::assert_refused(&output, "already exists");
    assert!(!again.exists());
}
