//! `canvass ballots` through the real binary: a roll is imported and an election stored; clerks
//! record an absentee ballot's steps and a provisional ballot's casting and decision; an illegal
//! step is refused with the rule's sentence; bad flags are refused before anyone signs in; an
//! auditor may `show` but not record; every step is in the ledger without personal values.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{fs, path::Path};

use serde_json::Value;
use support::{Served, assert_refused, enrol_second_factor, init_node, post_form, run, stderr, stdout};

const STATE: &str = "ocd-division/country:us/state:nc";
const ELECTION: &str = "nc-general-2027";
const PASSPHRASE: &str = "the ballots test key ring passphrase";
const STAFF_PASSWORD: &str = "a sound staff password";

fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

fn call(arguments: &[String]) -> std::process::Output {
    run(&arguments.iter().map(String::as_str).collect::<Vec<_>>())
}

fn succeed(arguments: &[String]) -> String {
    let output = call(arguments);
    assert!(output.status.success(), "{arguments:?}: {}", stderr(&output));
    stdout(&output)
}

/// The November 2, 2027 general election of the state, stored directly (no command adds
/// elections yet).
fn add_election(data: &Path) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        use canvass_store::Store;
        let store =
            canvass_store_sqlite::SqliteStore::open(&data.join("canvass.db"), canvass_store_sqlite::OpenMode::Existing)
                .await
                .unwrap();
        let election = canvass_core::election::Election {
            id: canvass_core::id::ElectionId::parse(ELECTION).unwrap(),
            jurisdiction: canvass_core::id::JurisdictionId::parse(STATE).unwrap(),
            name: canvass_core::name::Name::parse("2027 General Election").unwrap(),
            kind: canvass_core::election::ElectionKind::General,
            date: time::Date::from_calendar_date(2027, time::Month::November, 2).unwrap(),
        };
        store.insert_election(&election, &[]).await.unwrap();
        store.close().await;
    });
}

#[test]
fn clerks_record_ballot_steps_auditors_read_them_and_the_rules_refuse_what_they_must() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data_text = data.to_str().unwrap().to_owned();
    let passphrase = directory.path().join("key-passphrase");
    fs::write(&passphrase, PASSPHRASE).unwrap();
    let passphrase_text = passphrase.to_str().unwrap().to_owned();
    succeed(&owned(&[
        "jurisdiction",
        "add",
        "--data",
        &data_text,
        "--id",
        STATE,
        "--name",
        "North Carolina",
        "--kind",
        "state",
    ]));
    succeed(&owned(&[
        "keys",
        "init",
        "--data",
        &data_text,
        "--jurisdiction",
        STATE,
        "--passphrase-file",
        &passphrase_text,
    ]));
    let generated = directory.path().join("generated.tsv");
    succeed(&owned(&["voters", "generate", "--out", generated.to_str().unwrap(), "--rows", "5"]));
    let text = fs::read_to_string(&generated).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split('\t').collect();
    let first: Vec<&str> = text.lines().nth(1).unwrap().split('\t').collect();
    let column = |name: &str| header.iter().position(|column| *column == name).unwrap();
    let ncid = first[column("ncid")].to_owned();
    let last_name = first[column("last_name")].to_owned();
    add_election(&data);

    let password = directory.path().join("staff-password");
    fs::write(&password, format!("{STAFF_PASSWORD}\n")).unwrap();
    let password_text = password.to_str().unwrap().to_owned();
    let admin_password = directory.path().join("admin-password");
    let admin = enrol_second_factor(&data, "admin");
    let mut import = owned(&["voters", "import", "--jurisdiction", STATE, "--format", "ncvoter", "--add-places"]);
    import.push(generated.to_str().unwrap().to_owned());
    import.extend(owned(&[
        "--data",
        &data_text,
        "--user",
        "admin",
        "--password-file",
        admin_password.to_str().unwrap(),
    ]));
    import.extend(owned(&["--totp-code", &admin.code_at(unix_seconds()), "--passphrase-file", &passphrase_text]));
    succeed(&import);
    for (user, role) in [
        ("clerk1", "registration_clerk"),
        ("clerk2", "registration_clerk"),
        ("clerk3", "registration_clerk"),
        ("auditor", "auditor"),
    ] {
        succeed(&owned(&[
            "user",
            "add",
            "--data",
            &data_text,
            "--username",
            user,
            "--role",
            role,
            "--jurisdiction",
            STATE,
            "--password-file",
            &password_text,
        ]));
    }
    // Each code works once and enrolment used the previous step: two commands per clerk.
    let now = unix_seconds();
    let mut codes: Vec<(String, String)> = Vec::new();
    for clerk in ["clerk1", "clerk2", "clerk3"] {
        let secret = enrol_second_factor(&data, clerk);
        codes.push((clerk.to_owned(), secret.code_at(now)));
        codes.push((clerk.to_owned(), secret.code_at(now + 30)));
    }
    let mut codes = codes.into_iter();
    let mut as_clerk = |arguments: &[&str]| {
        let (user, code) = codes.next().unwrap();
        let mut command = owned(arguments);
        command.extend(owned(&["--jurisdiction", STATE, "--registration-number", &ncid, "--data", &data_text]));
        command.extend(owned(&["--user", &user, "--password-file", &password_text, "--totp-code", &code]));
        command
    };
    let election = ["--election", ELECTION];

    // The help lists the reason codes; a bad flag is refused before anyone signs in.
    let help = succeed(&owned(&["ballots", "absentee", "--help"]));
    assert!(help.contains("missing_signature") && help.contains("late_arrival"), "{help}");
    let help = succeed(&owned(&["ballots", "provisional", "--help"]));
    assert!(help.contains("wrong_precinct"), "{help}");
    let before_sign_in = |arguments: &[&str]| {
        let mut command = owned(arguments);
        command.extend(owned(&["--election", ELECTION, "--jurisdiction", STATE, "--registration-number", &ncid]));
        command.extend(owned(&["--data", &data_text, "--user", "clerk1"]));
        call(&command)
    };
    assert_refused(&before_sign_in(&["ballots", "absentee", "reject", "--reason", "smudged"]), "--reason");
    assert_refused(&before_sign_in(&["ballots", "absentee", "reject"]), "--reason");
    assert_refused(&before_sign_in(&["ballots", "absentee", "send", "--on", "someday"]), "--on");
    assert_refused(&before_sign_in(&["ballots", "provisional", "adjudicate", "--decision", "not-counted"]), "--reason");

    let [first_step, second_step, third_step, fourth_step] = [
        ["ballots", "absentee", "request", election[0], election[1], "--on", "2026-09-01"],
        ["ballots", "absentee", "send", election[0], election[1], "--on", "2026-09-05"],
        ["ballots", "absentee", "return", election[0], election[1], "--on", "2026-10-01"],
        ["ballots", "absentee", "reject", election[0], election[1], "--reason", "missing_signature"],
    ];
    assert!(succeed(&as_clerk(&first_step)).contains("absentee ballot in nc-general-2027 is requested on 2026-09-01"));
    succeed(&as_clerk(&second_step));
    succeed(&as_clerk(&third_step));
    let rejected = succeed(&as_clerk(&fourth_step));
    assert!(
        rejected.contains("rejected:missing_signature") && rejected.contains("cure deadline 2027-11-11"),
        "{rejected}"
    );
    let illegal = call(&as_clerk(&["ballots", "absentee", "accept", election[0], election[1]]));
    assert_refused(&illegal, "From rejected it can be cured");
    let cast = succeed(&as_clerk(&["ballots", "provisional", "cast", election[0], election[1]]));
    assert!(cast.contains("provisional ballot in nc-general-2027 is cast"), "{cast}");

    // The auditor reads without a second factor, and may not record.
    let as_auditor = |arguments: &[&str]| {
        let mut command = owned(arguments);
        command.extend(owned(&["--jurisdiction", STATE, "--registration-number", &ncid, "--data", &data_text]));
        command.extend(owned(&["--user", "auditor", "--password-file", &password_text]));
        command
    };
    let shown = succeed(&as_auditor(&["ballots", "show"]));
    for fragment in [
        "absentee ballot in nc-general-2027: rejected:missing_signature",
        "cure deadline 2027-11-11",
        "requested -> sent",
        "by user:clerk1",
        "The voter sees: Your ballot was rejected: the envelope was not signed.",
        "provisional ballot in nc-general-2027: cast",
    ] {
        assert!(shown.contains(fragment), "{fragment} missing from: {shown}");
    }
    let json: Value = serde_json::from_str(&succeed(&as_auditor(&["ballots", "show", "--json"]))).unwrap();
    let ballots = json.as_array().unwrap();
    assert_eq!(ballots.len(), 2);
    assert_eq!(ballots[0]["history"].as_array().unwrap().len(), 4);
    assert_eq!(ballots[1]["status"], "cast");
    let refused = call(&as_auditor(&["ballots", "absentee", "cure", election[0], election[1]]));
    assert_refused(&refused, "do not allow ballots.record");

    // The ledger holds each step and refusal by registration number and codes only.
    let ledger = succeed(&owned(&[
        "audit",
        "search",
        "--data",
        &data_text,
        "--json",
        "--limit",
        "100",
        "--action",
        "ballot.record",
    ]));
    let entries: Vec<Value> = serde_json::from_str::<Value>(&ledger).unwrap().as_array().unwrap().clone();
    let outcomes: Vec<&str> = entries.iter().map(|entry| entry["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["allowed", "denied", "allowed", "allowed", "allowed", "allowed"], "{ledger}");
    assert!(ledger.contains(&format!("voter:{ncid}")) && ledger.contains("absentee:rejected:missing_signature"));
    assert!(!ledger.contains(&last_name), "no personal value in the ledger");
    // The ballot state after a refused command is what it was.
    let after: Value = serde_json::from_str(&succeed(&as_auditor(&["ballots", "show", "--json"]))).unwrap();
    assert_eq!(after[0]["status"], "rejected:missing_signature");
}

#[test]
fn the_demo_prints_voters_whose_ballot_lookup_tells_what_happened() {
    let served = Served::start(&["--demo"], &[]).unwrap();
    let lines: Vec<&str> = served.printed.lines().filter(|line| line.contains("Did my ballot count?")).collect();
    assert_eq!(lines.len(), 5, "one line per demo ballot: {}", served.printed);
    let expected = [
        ("absentee ballot accepted", "Your absentee ballot was accepted and will be counted."),
        ("missing signature", "Your ballot was rejected: the envelope was not signed. You can fix this until"),
        ("provisional ballot counted", "Your provisional ballot was counted."),
        ("not yet downloaded", "Not yet downloaded."),
        ("downloaded", "you downloaded it"),
    ];
    for (line, (story, sentence)) in lines.iter().zip(expected) {
        assert!(line.contains("/lookup/ballot") && line.contains(story), "{line}");
        let after = |label: &str| {
            let rest = line.split(label).nth(1).unwrap_or_else(|| panic!("no `{label}` in {line}"));
            rest.split(',').next().unwrap().trim().to_owned()
        };
        let fields = [
            ("first_name", after("first name ")),
            ("last_name", after("last name ")),
            ("birth_date", after("date of birth ")),
            ("county", "ocd-division/country:us/state:zz/county:alder".to_owned()),
        ];
        let fields: Vec<(&str, &str)> = fields.iter().map(|(name, value)| (*name, value.as_str())).collect();
        let page = post_form(served.public, "/lookup/ballot", &fields);
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains(sentence), "{sentence} missing from {}", page.body);
    }
    assert!(served.stop().success());
}
