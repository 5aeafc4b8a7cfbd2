//! `canvass uocava pending` through the real binary, on a node serving the public FPCA form: a
//! new person's form is applied, the same person's second form (another email) is held; the
//! command lists it for a clerk and refuses an auditor; `show` opens its values; `confirm`
//! applies it once; a second form rejected stays rejected. Unattended: passwords, codes and the
//! passphrase from files and flags.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{fs, path::Path};

use support::{
    Served, admin_bearer, assert_refused, enrol_second_factor, init_node, post_form, request, run, stderr, stdout,
};

const STATE: &str = "ocd-division/country:us/state:qz";
const COUNTY: &str = "ocd-division/country:us/state:qz/county:harbor";
const PASSPHRASE: &str = "the held fpca test key ring passphrase";
const STAFF_PASSWORD: &str = "a sound staff password";

fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn succeed(arguments: &[&str]) -> String {
    let output = run(arguments);
    assert!(output.status.success(), "{arguments:?}: {}", stderr(&output));
    stdout(&output)
}

fn setup(directory: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let data = init_node(directory, &[]);
    let data_text = data.to_str().unwrap();
    let passphrase = directory.join("key-passphrase");
    fs::write(&passphrase, PASSPHRASE).unwrap();
    let precinct = format!("{COUNTY}/precinct:01");
    succeed(&["jurisdiction", "add", "--data", data_text, "--id", STATE, "--name", "Qz State", "--kind", "state"]);
    succeed(&[
        "jurisdiction",
        "add",
        "--data",
        data_text,
        "--id",
        COUNTY,
        "--name",
        "Harbor County",
        "--kind",
        "county",
        "--parent",
        STATE,
    ]);
    succeed(&[
        "precinct",
        "add",
        "--data",
        data_text,
        "--id",
        &precinct,
        "--jurisdiction",
        COUNTY,
        "--name",
        "Harbor 01",
    ]);
    succeed(&[
        "keys",
        "init",
        "--data",
        data_text,
        "--jurisdiction",
        COUNTY,
        "--passphrase-file",
        passphrase.to_str().unwrap(),
        "--projected-voters",
        "10000",
    ]);
    (data, passphrase)
}

fn fpca(email: &str) -> Vec<(&'static str, String)> {
    vec![
        ("first_name", "Wilhelmina".into()),
        ("last_name", "Seaward".into()),
        ("birth_date", "1982-03-04".into()),
        ("county", COUNTY.into()),
        ("precinct", format!("{COUNTY}/precinct:01")),
        ("street", "3 Quay Road".into()),
        ("city", "Harbor".into()),
        ("zip", "99501".into()),
        ("email", email.into()),
        ("classification", "overseas".into()),
        ("delivery", "email".into()),
    ]
}

fn submit(served: &Served, email: &str) -> String {
    let fields = fpca(email);
    let fields: Vec<(&str, &str)> = fields.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let reply = post_form(served.public, "/uocava/fpca", &fields);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("Request received"));
    reply.body
}

/// The held request ids a `pending list` printed.
fn ids(listed: &str) -> Vec<String> {
    listed
        .lines()
        .filter_map(|line| line.split('\t').next())
        .filter(|id| id.starts_with("fpca-"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_clerk_lists_shows_confirms_and_rejects_held_fpcas_unattended() {
    let directory = tempfile::tempdir().unwrap();
    let (data, passphrase) = setup(directory.path());
    let data_text = data.to_str().unwrap().to_owned();
    let served = Served::start(&["--data", &data_text], &[]).unwrap();
    let unseal = serde_json::json!({ "passphrase": PASSPHRASE }).to_string();
    let path = format!("/api/jurisdictions/{}/unseal", COUNTY.replace('/', "%2F"));
    let unsealed = request(served.admin, "POST", &path, &[("Authorization", &admin_bearer(&data))], Some(&unseal));
    assert_eq!(unsealed.status, 200, "{}", unsealed.body);

    let applied = submit(&served, "wilhelmina@examplia.invalid");
    let held = submit(&served, "someone.else@attacker.invalid");
    let main = |page: &str| page[page.find("<h1>").unwrap()..].to_owned();
    assert_eq!(main(&applied), main(&held), "the same answer, applied or held");
    let _ = submit(&served, "a.third@attacker.invalid");

    let password = directory.path().join("staff-password");
    fs::write(&password, format!("{STAFF_PASSWORD}\n")).unwrap();
    let password_text = password.to_str().unwrap().to_owned();
    for (user, role) in [("clerk", "registration_clerk"), ("clerk2", "registration_clerk"), ("auditor", "auditor")] {
        succeed(&[
            "user",
            "add",
            "--data",
            &data_text,
            "--username",
            user,
            "--role",
            role,
            "--jurisdiction",
            COUNTY,
            "--password-file",
            &password_text,
        ]);
    }
    // Each code works once and enrolment used the previous step: two commands per clerk.
    let now = unix_seconds();
    let mut codes = Vec::new();
    for clerk in ["clerk", "clerk2"] {
        let secret = enrol_second_factor(&data, clerk);
        codes.push((clerk, secret.code_at(now)));
        codes.push((clerk, secret.code_at(now + 30)));
    }
    let mut codes = codes.into_iter();
    let as_clerk = |arguments: &[&str], (user, code): (&str, String)| {
        let mut command: Vec<String> = arguments.iter().map(|text| (*text).to_owned()).collect();
        for flag in ["--data", &data_text, "--jurisdiction", COUNTY, "--user", user, "--password-file", &password_text]
        {
            command.push(flag.to_owned());
        }
        command.extend(["--totp-code".to_owned(), code]);
        command
    };
    let call = |command: Vec<String>| {
        let arguments: Vec<&str> = command.iter().map(String::as_str).collect();
        run(&arguments)
    };

    // An auditor holds neither voters.write nor ballots.record.
    let refused = run(&[
        "uocava",
        "pending",
        "list",
        "--data",
        &data_text,
        "--jurisdiction",
        COUNTY,
        "--user",
        "auditor",
        "--password-file",
        &password_text,
    ]);
    assert_refused(&refused, "do not allow");

    let listed = call(as_clerk(&["uocava", "pending", "list"], codes.next().unwrap()));
    assert!(listed.status.success(), "{}", stderr(&listed));
    let listed = stdout(&listed);
    let held_ids = ids(&listed);
    assert_eq!(held_ids.len(), 2, "{listed}");
    assert!(!listed.contains("attacker.invalid") && !listed.contains("Seaward"), "no personal value: {listed}");

    let passphrase_text = passphrase.to_str().unwrap().to_owned();
    let mut show = as_clerk(&["uocava", "pending", "show", "--id", &held_ids[0]], codes.next().unwrap());
    show.extend(["--passphrase-file".to_owned(), passphrase_text.clone()]);
    let shown = call(show);
    assert!(shown.status.success(), "{}", stderr(&shown));
    assert!(stdout(&shown).contains("someone.else@attacker.invalid"), "{}", stdout(&shown));

    let mut confirm = as_clerk(&["uocava", "pending", "confirm", "--id", &held_ids[0]], codes.next().unwrap());
    confirm.extend(["--passphrase-file".to_owned(), passphrase_text]);
    let confirmed = call(confirm);
    assert!(confirmed.status.success(), "{}", stderr(&confirmed));
    assert!(stdout(&confirmed).contains("confirmed and applied"), "{}", stdout(&confirmed));

    let rejected = call(as_clerk(
        &["uocava", "pending", "reject", "--id", &held_ids[1], "--reason", "the voter did not ask for it"],
        codes.next().unwrap(),
    ));
    assert!(rejected.status.success(), "{}", stderr(&rejected));
    assert!(stdout(&rejected).contains("unchanged"));
    assert!(served.stop().success());
}

#[test]
fn pending_commands_have_help() {
    for command in ["list", "show", "confirm", "reject"] {
        let output = run(&["uocava", "pending", command, "--help"]);
        assert!(output.status.success());
        assert!(stdout(&output).contains("--jurisdiction"), "{command}");
    }
    assert!(stdout(&run(&["uocava", "send", "--help"])).contains("--passphrase-file"));
}
