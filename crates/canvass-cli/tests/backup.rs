//! `canvass backup` through the binary: a round trip, and every bad backup refused with one
//! clear line and nothing written.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fs;

use support::{assert_refused, init_node, run, stderr, stdout};

#[test]
fn backups_round_trip_and_bad_ones_are_refused_naming_the_problem() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data_text = data.to_str().unwrap();
    run(&["jurisdiction", "add", "--data", data_text, "--id", "nc", "--name", "North Carolina", "--kind", "state"]);
    let passphrase = directory.path().join("backup-passphrase");
    fs::write(&passphrase, "backup passphrase for the test").unwrap();
    let passphrase_text = passphrase.to_str().unwrap();
    let file = directory.path().join("node.backup");
    let file_text = file.to_str().unwrap();

    let short = directory.path().join("short");
    fs::write(&short, "short").unwrap();
    assert_refused(
        &run(&[
            "backup",
            "create",
            "--data",
            data_text,
            "--to",
            file_text,
            "--passphrase-file",
            short.to_str().unwrap(),
        ]),
        "too short",
    );
    assert!(!file.exists());

    let created =
        run(&["backup", "create", "--data", data_text, "--to", file_text, "--passphrase-file", passphrase_text]);
    assert!(created.status.success(), "{}", stderr(&created));
    assert_eq!(support::file_mode(&file), 0o600);
    assert_refused(
        &run(&["backup", "create", "--data", data_text, "--to", file_text, "--passphrase-file", passphrase_text]),
        "already exists",
    );
    let verified = run(&["backup", "verify", "--data", data_text, file_text, "--passphrase-file", passphrase_text]);
    assert!(stdout(&verified).contains("intact and was made by this node"), "{}", stderr(&verified));

    let wrong = directory.path().join("wrong");
    fs::write(&wrong, "not the backup passphrase").unwrap();
    assert_refused(
        &run(&["backup", "verify", "--data", data_text, file_text, "--passphrase-file", wrong.to_str().unwrap()]),
        "passphrase is wrong",
    );
    let bytes = fs::read(&file).unwrap();
    let truncated = directory.path().join("truncated.backup");
    fs::write(&truncated, &bytes[..bytes.len() - 500]).unwrap();
    assert_refused(
        &run(&[
            "backup",
            "verify",
            "--data",
            data_text,
            truncated.to_str().unwrap(),
            "--passphrase-file",
            passphrase_text,
        ]),
        "damaged or truncated",
    );
    let other_directory = directory.path().join("other");
    fs::create_dir(&other_directory).unwrap();
    let other_node = init_node(&other_directory, &[]);
    assert_refused(
        &run(&[
            "backup",
            "verify",
            "--data",
            other_node.to_str().unwrap(),
            file_text,
            "--passphrase-file",
            passphrase_text,
        ]),
        "made by another node",
    );
    let not_a_backup = directory.path().join("notes.txt");
    fs::write(&not_a_backup, "hello").unwrap();
    assert_refused(
        &run(&["backup", "verify", not_a_backup.to_str().unwrap(), "--passphrase-file", passphrase_text]),
        "not a canvass backup",
    );

    let restored = directory.path().join("restored");
    assert_refused(
        &run(&[
            "backup",
            "restore",
            "--data",
            restored.to_str().unwrap(),
            truncated.to_str().unwrap(),
            "--passphrase-file",
            passphrase_text,
        ]),
        "truncated",
    );
    assert!(!restored.exists(), "a refused restore writes nothing");
    assert_refused(
        &run(&["backup", "restore", "--data", data_text, file_text, "--passphrase-file", passphrase_text]),
        "not empty",
    );
    let output = run(&[
        "backup",
        "restore",
        "--data",
        restored.to_str().unwrap(),
        file_text,
        "--passphrase-file",
        passphrase_text,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(support::file_mode(&restored), 0o700);
    assert!(stdout(&run(&["jurisdiction", "list", "--data", restored.to_str().unwrap()])).contains("North Carolina"));
}
