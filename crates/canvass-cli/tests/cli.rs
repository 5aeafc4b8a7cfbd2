//! `canvass init`, the catalogue commands and every way a data dir can be wrong, through the
//! real binary.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fs;

use support::{PASSWORD, assert_refused, chmod, file_mode, init_node, run, stderr, stdout};

#[test]
fn init_creates_a_private_data_dir() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    assert_eq!(file_mode(&data), 0o700);
    for (file, mode) in [("canvass.toml", 0o600), ("node-signing.key", 0o600), ("canvass.db", 0o600)] {
        assert_eq!(file_mode(&data.join(file)), mode, "{file}");
    }
    let key = fs::read_to_string(data.join("node-signing.key")).unwrap();
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
    let leftovers: Vec<_> = fs::read_dir(directory.path()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 3, "only the data dir and the test's password and token files: {leftovers:?}");
}

#[test]
fn init_without_a_password_generates_one_and_shows_it_once() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("data");
    let output = run(&["init", "--data", data.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    let password = printed.lines().find_map(|line| line.split("safely): ").nth(1)).unwrap();
    assert_eq!(password.len(), 23);
    let stored = fs::read(data.join("canvass.db")).unwrap();
    assert!(!String::from_utf8_lossy(&stored).contains(password), "only the hash is stored");
}

#[test]
fn init_reads_the_password_from_the_environment() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("data");
    let output = support::canvass()
        .args(["init", "--data", data.to_str().unwrap()])
        .env("CANVASS_ADMIN_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stdout(&output).contains("shown once"), "no password is generated when one is given");
}

#[test]
fn init_refuses_a_non_empty_dir_and_changes_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("data");
    fs::create_dir(&data).unwrap();
    fs::write(data.join("precious.txt"), "keep me").unwrap();
    let output = run(&["init", "--data", data.to_str().unwrap()]);
    assert_refused(&output, "is not empty");
    assert_eq!(fs::read_dir(&data).unwrap().count(), 1);
    assert_eq!(fs::read_to_string(data.join("precious.txt")).unwrap(), "keep me");
}

#[test]
fn init_into_an_existing_empty_dir_works() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("data");
    fs::create_dir(&data).unwrap();
    chmod(&data, 0o755);
    let created = init_node(directory.path(), &[]);
    assert_eq!(created, data);
    assert_eq!(file_mode(&data), 0o700);
}

#[test]
fn init_refuses_weak_passwords_and_leaves_no_half_made_dir() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("data");
    for weak in ["short", "password", "aaaaaaaaaaaaaaaa"] {
        let file = directory.path().join("weak");
        fs::write(&file, weak).unwrap();
        let output = run(&["init", "--data", data.to_str().unwrap(), "--admin-password-file", file.to_str().unwrap()]);
        assert_refused(&output, "too weak");
        assert!(!data.exists());
        let entries: Vec<_> = fs::read_dir(directory.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(entries.len(), 1, "no staging dir left behind: {entries:?}");
    }
    let missing = run(&["init", "--data", data.to_str().unwrap(), "--admin-password-file", "/nonexistent/file"]);
    assert_refused(&missing, "cannot read the administrator password file");
}

#[test]
fn jurisdictions_and_precincts_from_the_command_line() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data = data.to_str().unwrap();
    let state = "ocd-division/country:us/state:nc";
    let wake = "ocd-division/country:us/state:nc/county:wake";
    let steps: [&[&str]; 4] = [
        &["jurisdiction", "add", "--data", data, "--id", state, "--name", "North Carolina", "--kind", "state"],
        &[
            "jurisdiction",
            "add",
            "--data",
            data,
            "--id",
            wake,
            "--name",
            "Wake County",
            "--kind",
            "county",
            "--parent",
            state,
        ],
        &[
            "jurisdiction",
            "add",
            "--data",
            data,
            "--id",
            "cary",
            "--name",
            "Town of Cary",
            "--kind",
            "municipality",
            "--parent",
            wake,
        ],
        &["precinct", "add", "--data", data, "--id", "wake-01-01", "--jurisdiction", wake, "--name", "Precinct 01-01"],
    ];
    for step in steps {
        let output = run(step);
        assert!(output.status.success(), "{step:?}: {}", stderr(&output));
    }
    let listed = stdout(&run(&["jurisdiction", "list", "--data", data]));
    assert_eq!(
        listed.lines().collect::<Vec<_>>(),
        [
            "North Carolina [state] ocd-division/country:us/state:nc",
            "  Wake County [county] ocd-division/country:us/state:nc/county:wake",
            "    Town of Cary [municipality] cary",
        ]
    );
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&run(&["precinct", "list", "--data", data, "--json"]))).unwrap();
    assert_eq!(json[0]["jurisdiction"], wake);

    let refusals: [(&[&str], &str); 6] = [
        (
            &["jurisdiction", "add", "--data", data, "--id", state, "--name", "Again", "--kind", "state"],
            "already exists",
        ),
        (
            &["jurisdiction", "add", "--data", data, "--id", "durham", "--name", "Durham", "--kind", "county"],
            "needs a parent",
        ),
        (
            &[
                "jurisdiction",
                "add",
                "--data",
                data,
                "--id",
                "x",
                "--name",
                "X",
                "--kind",
                "county",
                "--parent",
                "nope",
            ],
            "does not exist",
        ),
        (
            &["jurisdiction", "add", "--data", data, "--id", "y", "--name", "Y", "--kind", "county", "--parent", wake],
            "cannot sit under a county",
        ),
        (
            &["jurisdiction", "add", "--data", data, "--id", "Bad Id", "--name", "Z", "--kind", "state"],
            "invalid jurisdiction id",
        ),
        (&["precinct", "add", "--data", data, "--id", "p", "--jurisdiction", "nope", "--name", "P"], "does not exist"),
    ];
    for (arguments, fragment) in refusals {
        assert_refused(&run(arguments), fragment);
    }
    let after = stdout(&run(&["jurisdiction", "list", "--data", data]));
    assert_eq!(after, listed, "refused commands changed nothing");
}

#[test]
fn admin_set_password_replaces_the_password_and_refuses_weak_ones() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let file = directory.path().join("new");
    fs::write(&file, "Administrator").unwrap();
    let output =
        run(&["admin", "set-password", "--data", data.to_str().unwrap(), "--password-file", file.to_str().unwrap()]);
    assert_refused(&output, "well-known");
    fs::write(&file, "another sound password").unwrap();
    let output =
        run(&["admin", "set-password", "--data", data.to_str().unwrap(), "--password-file", file.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = run(&["admin", "set-password", "--data", data.to_str().unwrap()]);
    assert_refused(&output, "--password-file");
}

#[test]
fn a_missing_or_broken_data_dir_is_one_clear_line() {
    let directory = tempfile::tempdir().unwrap();
    let nowhere = directory.path().join("nowhere");
    for command in ["serve", "doctor"] {
        assert_refused(&run(&[command, "--data", nowhere.to_str().unwrap()]), "there is no data dir");
    }
    assert_refused(&run(&["jurisdiction", "list", "--data", nowhere.to_str().unwrap()]), "canvass init");

    let data = init_node(directory.path(), &[]);
    let config = data.join("canvass.toml");
    let original = fs::read_to_string(&config).unwrap();
    let data_text = data.to_str().unwrap();

    fs::write(&config, "[public]\nlisten = \"not an address\"\n").unwrap();
    assert_refused(&run(&["serve", "--data", data_text]), "[public] listen `not an address`");
    fs::write(&config, "tls = { certificate = 1 ").unwrap();
    assert_refused(&run(&["doctor", "--data", data_text]), "canvass.toml");
    fs::write(&config, "unknown_setting = true\n").unwrap();
    assert_refused(&run(&["jurisdiction", "list", "--data", data_text]), "unknown field `unknown_setting`");
    fs::remove_file(&config).unwrap();
    assert_refused(&run(&["serve", "--data", data_text]), "canvass.toml is missing");
    fs::write(&config, &original).unwrap();

    fs::remove_file(data.join("canvass.db")).unwrap();
    assert_refused(&run(&["jurisdiction", "list", "--data", data_text]), "does not exist");
    assert!(!data.join("canvass.db").exists(), "a missing database is not silently recreated");
}

#[test]
fn a_database_from_a_newer_canvass_is_refused() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let database = data.join("canvass.db");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        use sqlx::Connection;
        let mut connection = sqlx::SqliteConnection::connect(&format!("sqlite://{}", database.display())).await.unwrap();
        sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9999, 'future', TRUE, X'00', 0)")
            .execute(&mut connection)
            .await
            .unwrap();
    });
    assert_refused(&run(&["jurisdiction", "list", "--data", data.to_str().unwrap()]), "newer than this canvass binary");
}

#[test]
fn an_unreachable_database_is_one_clear_line_without_its_password() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let output = support::canvass()
        .args(["jurisdiction", "list", "--data", data.to_str().unwrap()])
        .env("CANVASS_DATABASE_URL", "postgres://canvass:Sup3rSecretPw@127.0.0.1:1/canvass")
        .output()
        .unwrap();
    assert_refused(&output, "cannot open the database postgres://canvass:***@127.0.0.1:1/canvass");
    assert!(!stderr(&output).contains("Sup3rSecretPw"));
}

#[test]
fn serve_refuses_a_data_dir_other_users_can_open() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    chmod(&data, 0o755);
    assert_refused(&run(&["serve", "--data", data.to_str().unwrap()]), "chmod 700");
}
