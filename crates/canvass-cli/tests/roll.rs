//! `canvass voters import` and `canvass voters export-public` through the real binary: a staff
//! member signs in (password and TOTP), the key ring opens from its passphrase file, the file
//! imports, a re-import changes nothing, no personal marker is readable in the database files,
//! and the public extract carries no confidential column and no address-confidential voter.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{fs, path::Path};

use support::{enrol_second_factor, init_node, run, stderr, stdout};

const STATE: &str = "ocd-division/country:us/state:nc";
const PASSPHRASE: &str = "the roll test key ring passphrase";

/// Markers no generated value can contain, put into chosen rows of a generated file.
const SURNAME: &str = "QZXROLLSURNAME";
const LICENCE: &str = "QZXDL4417";
const EMAIL: &str = "qzx.roll@example.invalid";
const STREET: &str = "77 QZXSTREETMARK RD";

fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// A generated file with markers in row 5 and an address-confidential voter in row 9.
fn voter_file(directory: &Path) -> std::path::PathBuf {
    let generated = directory.join("generated.tsv");
    let output = run(&["voters", "generate", "--out", generated.to_str().unwrap(), "--rows", "120", "--confidential"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = fs::read_to_string(&generated).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let header: Vec<String> = lines[0].split('\t').map(str::to_owned).collect();
    let column = |name: &str| header.iter().position(|column| column == name).unwrap();
    let mut marked: Vec<String> = lines[5].split('\t').map(str::to_owned).collect();
    marked[column("last_name")] = SURNAME.into();
    marked[column("drivers_lic_num")] = LICENCE.into();
    marked[column("email")] = EMAIL.into();
    lines[5] = marked.join("\t");
    let mut hidden: Vec<String> = lines[9].split('\t').map(str::to_owned).collect();
    hidden[column("confidential_ind")] = "Y".into();
    hidden[column("res_street_address")] = STREET.into();
    lines[9] = hidden.join("\t");
    let file = directory.join("voters.tsv");
    fs::write(&file, lines.join("\n") + "\n").unwrap();
    file
}

/// The first name of the row [`voter_file`] marked.
fn marked_first_name(file: &Path) -> String {
    let text = fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let header: Vec<&str> = lines[0].split('\t').collect();
    let row: Vec<&str> = lines[5].split('\t').collect();
    row[header.iter().position(|column| *column == "first_name").unwrap()].to_owned()
}

#[test]
fn import_reimport_scan_and_public_extract() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data_text = data.to_str().unwrap();
    let passphrase = directory.path().join("key-passphrase");
    fs::write(&passphrase, PASSPHRASE).unwrap();
    let passphrase_text = passphrase.to_str().unwrap();
    for step in [
        vec!["jurisdiction", "add", "--data", data_text, "--id", STATE, "--name", "North Carolina", "--kind", "state"],
        vec!["keys", "init", "--data", data_text, "--jurisdiction", STATE, "--passphrase-file", passphrase_text],
    ] {
        let output = run(&step);
        assert!(output.status.success(), "{step:?}: {}", stderr(&output));
    }
    let file = voter_file(directory.path());
    let file_text = file.to_str().unwrap();
    let password = directory.path().join("admin-password");
    let password_text = password.to_str().unwrap();
    // Enrolment used the previous time step; this step and the next give two sign-ins.
    let authenticator = enrol_second_factor(&data, "admin");
    let signed = |code: String| {
        vec![
            "--data".to_owned(),
            data_text.to_owned(),
            "--user".into(),
            "admin".into(),
            "--password-file".into(),
            password_text.to_owned(),
            "--totp-code".into(),
            code,
            "--passphrase-file".into(),
            passphrase_text.to_owned(),
        ]
    };
    let mut import: Vec<String> =
        ["voters", "import", "--jurisdiction", STATE, "--format", "ncvoter", "--add-places", file_text]
            .map(str::to_owned)
            .to_vec();
    import.extend(signed(authenticator.code_at(unix_seconds())));
    let output = run(&import.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("120 new, 0 changed, 0 unchanged, 0 rejected"), "{}", stdout(&output));

    // No marker is readable anywhere in the database's files.
    for entry in fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = fs::read(&path).unwrap();
            for marker in [SURNAME, LICENCE, EMAIL, "QZXSTREETMARK"] {
                assert!(
                    !bytes.windows(marker.len()).any(|window| window == marker.as_bytes()),
                    "{marker} in {}",
                    path.display()
                );
            }
        }
    }

    let mut export: Vec<String> = ["voters", "export-public", "--jurisdiction", STATE].map(str::to_owned).to_vec();
    export.extend(signed(authenticator.code_at(unix_seconds() + 30)));
    let output = run(&export.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(output.status.success(), "{}", stderr(&output));
    let extract = stdout(&output);
    let mut lines = extract.lines();
    let header = lines.next().unwrap();
    assert_eq!(header.split('\t').collect::<Vec<_>>(), canvass_formats::ncvoter::PUBLIC_COLUMNS);
    for confidential in ["birth_date", "ssn4", "drivers_lic_num", "email"] {
        assert!(!header.split('\t').any(|column| column == confidential), "{confidential} in the header");
    }
    assert_eq!(lines.clone().count(), 119, "the address-confidential voter is left out");
    assert!(extract.contains(SURNAME), "public-record names are in the public extract");
    for secret in [LICENCE, EMAIL, "QZXSTREETMARK"] {
        assert!(!extract.contains(secret), "{secret} in the public extract");
    }
    assert!(lines.all(|line| line.split('\t').count() == canvass_formats::ncvoter::PUBLIC_COLUMNS.len()));
    assert!(stderr(&output).contains("left out 1"), "{}", stderr(&output));
}

#[test]
fn a_reimport_of_the_same_file_changes_nothing_and_a_wrong_passphrase_imports_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data_text = data.to_str().unwrap();
    let passphrase = directory.path().join("key-passphrase");
    fs::write(&passphrase, PASSPHRASE).unwrap();
    let wrong = directory.path().join("wrong-passphrase");
    fs::write(&wrong, "not the passphrase at all").unwrap();
    for step in [
        vec!["jurisdiction", "add", "--data", data_text, "--id", STATE, "--name", "North Carolina", "--kind", "state"],
        vec![
            "keys",
            "init",
            "--data",
            data_text,
            "--jurisdiction",
            STATE,
            "--passphrase-file",
            passphrase.to_str().unwrap(),
        ],
    ] {
        let output = run(&step);
        assert!(output.status.success(), "{step:?}: {}", stderr(&output));
    }
    let file = voter_file(directory.path());
    let marked_first = marked_first_name(&file);
    let password = directory.path().join("admin-password");
    let authenticator = enrol_second_factor(&data, "admin");
    let import = |code: String, passphrase: &Path| {
        run(&[
            "voters",
            "import",
            "--jurisdiction",
            STATE,
            "--format",
            "ncvoter",
            "--add-places",
            file.to_str().unwrap(),
            "--data",
            data_text,
            "--user",
            "admin",
            "--password-file",
            password.to_str().unwrap(),
            "--totp-code",
            &code,
            "--passphrase-file",
            passphrase.to_str().unwrap(),
        ])
    };
    let refused = import(authenticator.code_at(unix_seconds()), &wrong);
    assert!(!refused.status.success());
    assert!(!stderr(&refused).contains("panicked"), "{}", stderr(&refused));
    let first = import(authenticator.code_at(unix_seconds() + 30), &passphrase);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("120 new"), "{}", stdout(&first));
    // A third sign-in needs the next time step to have begun.
    let wait = 30 - unix_seconds() % 30 + 1;
    std::thread::sleep(std::time::Duration::from_secs(wait));
    let again = import(authenticator.code_at(unix_seconds() + 30), &passphrase);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stdout(&again).contains("0 new, 0 changed, 120 unchanged, 0 rejected"), "{}", stdout(&again));

    // Staff search: confidential fields only with a reason, which the ledger keeps.
    let search = |code: String, extra: &[&str]| {
        let mut arguments = vec![
            "voters",
            "search",
            "--jurisdiction",
            STATE,
            "--last-name",
            SURNAME,
            "--first-name",
            &marked_first,
            "--data",
            data_text,
            "--user",
            "admin",
            "--password-file",
            password.to_str().unwrap(),
            "--totp-code",
            &code,
            "--passphrase-file",
            passphrase.to_str().unwrap(),
        ];
        arguments.extend_from_slice(extra);
        run(&arguments)
    };
    let without_reason = search("000000".into(), &["--confidential"]);
    assert!(!without_reason.status.success());
    assert!(stderr(&without_reason).contains("--reason"), "{}", stderr(&without_reason));
    let wait = 30 - unix_seconds() % 30 + 1;
    std::thread::sleep(std::time::Duration::from_secs(wait));
    let found = search(
        authenticator.code_at(unix_seconds() + 30),
        &["--confidential", "--reason", "voter called about a renewal"],
    );
    assert!(found.status.success(), "{}", stderr(&found));
    let shown = stdout(&found);
    assert!(shown.contains(SURNAME) && shown.contains(LICENCE) && shown.contains(EMAIL), "{shown}");
    assert!(shown.contains("1 voter(s)."), "{shown}");
    let ledger = run(&["audit", "search", "--data", data_text, "--action", "voter.read", "--json"]);
    assert!(stdout(&ledger).contains("voter called about a renewal"), "{}", stdout(&ledger));
    assert!(!stdout(&ledger).contains(SURNAME), "no personal value in the ledger");
}
