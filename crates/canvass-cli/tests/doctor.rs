//! `canvass doctor` flags each insecure set-up, created for real in a data dir, with its
//! severity and fix, and exits 1 when any finding is high.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{fs, path::Path};

use canvass_core::credential::{StaffAccount, Username};
use canvass_crypto::{SecretString, hash_password};
use canvass_store::Store;
use canvass_store_sqlite::{OpenMode, SqliteStore};
use support::{chmod, init_node, run, stdout};

struct Report {
    exit: i32,
    codes: Vec<(String, String)>,
    text: String,
}

fn doctor(data: &Path) -> Report {
    let json = run(&["doctor", "--json", "--data", data.to_str().unwrap()]);
    let parsed: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let codes = parsed["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| (finding["severity"].as_str().unwrap().to_owned(), finding["code"].as_str().unwrap().to_owned()))
        .collect();
    let text = run(&["doctor", "--data", data.to_str().unwrap()]);
    assert_eq!(text.status.code(), json.status.code());
    Report { exit: json.status.code().unwrap(), codes, text: stdout(&text) }
}

/// Puts top-level settings before the first table of canvass.toml.
fn prepend_config(data: &Path, lines: &str) {
    let path = data.join("canvass.toml");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, format!("{lines}\n{text}")).unwrap();
}

fn replace_in_config(data: &Path, from: &str, to: &str) {
    let path = data.join("canvass.toml");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from));
    fs::write(&path, text.replace(from, to)).unwrap();
}

fn sound_node(directory: &Path) -> std::path::PathBuf {
    let data = init_node(directory, &[]);
    prepend_config(&data, &format!("backup_destination = \"{}\"", directory.join("backups").display()));
    data
}

fn has(report: &Report, severity: &str, code: &str) -> bool {
    report.codes.iter().any(|(s, c)| s == severity && c == code)
}

#[test]
fn a_fresh_node_only_lacks_a_backup_destination() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let report = doctor(&data);
    assert_eq!(report.codes, [("medium".to_owned(), "no-backup-destination".to_owned())]);
    assert_eq!(report.exit, 0);
    assert!(report.text.contains("fix: set backup_destination"), "{}", report.text);

    let sound_directory = tempfile::tempdir().unwrap();
    let data = sound_node(sound_directory.path());
    let report = doctor(&data);
    assert!(report.codes.is_empty(), "{:?}", report.codes);
    assert!(report.text.contains("No findings"));
}

#[test]
fn readable_data_dir_key_and_database_files_are_high() {
    let cases = [
        ("", 0o755, "data-dir-permissions"),
        ("node-signing.key", 0o644, "secret-file-permissions"),
        ("canvass.db", 0o640, "secret-file-permissions"),
    ];
    for (file, mode, code) in cases {
        let directory = tempfile::tempdir().unwrap();
        let data = sound_node(directory.path());
        chmod(&data.join(file), mode);
        let report = doctor(&data);
        assert!(has(&report, "high", code), "{file} {mode:o}: {:?}", report.codes);
        assert_eq!(report.exit, 1);
        let fix = if file.is_empty() { "chmod 700".to_owned() } else { "chmod 600".to_owned() };
        assert!(report.text.contains(&fix), "{}", report.text);
    }
}

#[test]
fn serve_refuses_readable_secrets_that_doctor_reports() {
    let directory = tempfile::tempdir().unwrap();
    let data = sound_node(directory.path());
    chmod(&data.join("node-signing.key"), 0o644);
    support::assert_refused(&run(&["serve", "--data", data.to_str().unwrap()]), "chmod 600");
}

#[test]
fn a_non_loopback_listener_without_tls_is_high_unless_a_proxy_is_named() {
    let directory = tempfile::tempdir().unwrap();
    let data = sound_node(directory.path());
    replace_in_config(&data, "listen = \"127.0.0.1:8081\"", "listen = \"0.0.0.0:8081\"");
    let report = doctor(&data);
    assert!(has(&report, "high", "listener-without-tls"), "{:?}", report.codes);
    assert!(report.text.contains("the admin listener binds 0.0.0.0:8081"));
    replace_in_config(&data, "listen = \"0.0.0.0:8081\"", "listen = \"0.0.0.0:8081\"\nbehind_proxy = \"10.1.2.3\"");
    assert!(doctor(&data).codes.is_empty());
}

#[test]
fn configured_tls_files_must_exist_and_the_key_must_be_private() {
    let directory = tempfile::tempdir().unwrap();
    let data = sound_node(directory.path());
    let key = directory.path().join("tls-key.pem");
    fs::write(&key, "not really a key").unwrap();
    chmod(&key, 0o644);
    let certificate = directory.path().join("missing-cert.pem");
    fs::write(
        data.join("canvass.toml"),
        format!(
            "{}\n[tls]\ncertificate = \"{}\"\nprivate_key = \"{}\"\n",
            fs::read_to_string(data.join("canvass.toml")).unwrap(),
            certificate.display(),
            key.display()
        ),
    )
    .unwrap();
    let report = doctor(&data);
    assert!(
        has(&report, "high", "file-missing") && has(&report, "high", "secret-file-permissions"),
        "{:?}",
        report.codes
    );
}

#[test]
fn a_database_password_in_a_world_readable_config_is_high_and_never_printed() {
    let directory = tempfile::tempdir().unwrap();
    let data = sound_node(directory.path());
    replace_in_config(
        &data,
        "database_url = \"sqlite://canvass.db\"",
        "database_url = \"postgres://canvass:Hunter2Secret@127.0.0.1:1/canvass\"",
    );
    chmod(&data.join("canvass.toml"), 0o644);
    let report = doctor(&data);
    assert!(has(&report, "high", "database-password-exposed"), "{:?}", report.codes);
    assert!(has(&report, "high", "database-unavailable"), "{:?}", report.codes);
    assert!(!report.text.contains("Hunter2Secret"), "{}", report.text);
    assert!(report.text.contains("CANVASS_DATABASE_URL"));

    chmod(&data.join("canvass.toml"), 0o600);
    let report = doctor(&data);
    assert!(!has(&report, "high", "database-password-exposed"));
    assert!(has(&report, "low", "database-password-in-config"));
}

async fn set_administrator_hash(data: &Path, password: &str) {
    let store = SqliteStore::open(&data.join("canvass.db"), OpenMode::Existing).await.unwrap();
    let hash = hash_password(&SecretString::from(password.to_owned())).unwrap();
    // The account keeps the node-wide administrator grant `init` gave it.
    let account = StaffAccount::new(Username::parse("admin").unwrap(), hash.as_str().to_owned(), None);
    store.upsert_staff_account(&account).await.unwrap();
    store.close().await;
}

#[test]
fn default_or_empty_administrator_passwords_are_high() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for weak in ["admin", "", "changeme"] {
        let directory = tempfile::tempdir().unwrap();
        let data = sound_node(directory.path());
        runtime.block_on(set_administrator_hash(&data, weak));
        let report = doctor(&data);
        assert!(has(&report, "high", "default-admin-credentials"), "{weak:?}: {:?}", report.codes);
        assert_eq!(report.exit, 1);
        assert!(report.text.contains("canvass admin set-password --user admin"));
    }
}
