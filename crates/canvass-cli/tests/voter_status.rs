//! `canvass voters set-status` and `canvass voters history` through the real binary: a roll is
//! imported, a systematic removal inside the 90 days before a federal election is refused with
//! the rule's reason and changes nothing, a clerk's allowed change is stored with its reason code,
//! listed by `history` and recorded in the ledger without any personal value.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fs;

use serde_json::Value;
use support::{assert_refused, enrol_second_factor, init_node, run, stderr, stdout};

const STATE: &str = "ocd-division/country:us/state:nc";
const PASSPHRASE: &str = "the status test key ring passphrase";
const CLERK_PASSWORD: &str = "a sound clerk password";

fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn succeed(arguments: &[String]) -> String {
    let output = run(&arguments.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(output.status.success(), "{arguments:?}: {}", stderr(&output));
    stdout(&output)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

#[test]
fn set_status_enforces_nvra_and_history_lists_the_change() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data_text = data.to_str().unwrap().to_owned();
    let passphrase = directory.path().join("key-passphrase");
    fs::write(&passphrase, PASSPHRASE).unwrap();
    let passphrase_text = passphrase.to_str().unwrap().to_owned();
    succeed(&strings(&[
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
    succeed(&strings(&[
        "keys",
        "init",
        "--data",
        &data_text,
        "--jurisdiction",
        STATE,
        "--passphrase-file",
        &passphrase_text,
    ]));

    // A generated roll whose first voter registered in 2010 and is active.
    let generated = directory.path().join("generated.tsv");
    succeed(&strings(&["voters", "generate", "--out", generated.to_str().unwrap(), "--rows", "20"]));
    let text = fs::read_to_string(&generated).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let header: Vec<String> = lines[0].split('\t').map(str::to_owned).collect();
    let column = |name: &str| header.iter().position(|column| column == name).unwrap();
    let mut first: Vec<String> = lines[1].split('\t').map(str::to_owned).collect();
    first[column("registr_dt")] = "01/04/2010".into();
    first[column("status_cd")] = "A".into();
    let ncid = first[column("ncid")].clone();
    let last_name = first[column("last_name")].clone();
    lines[1] = first.join("\t");
    let file = directory.path().join("voters.tsv");
    fs::write(&file, lines.join("\n") + "\n").unwrap();

    let admin_password = directory.path().join("admin-password");
    let signed = |user: &str, password: &std::path::Path, code: String| {
        strings(&[
            "--data",
            &data_text,
            "--user",
            user,
            "--password-file",
            password.to_str().unwrap(),
            "--totp-code",
            &code,
        ])
    };
    let admin = enrol_second_factor(&data, "admin");
    let mut import = strings(&["voters", "import", "--jurisdiction", STATE, "--format", "ncvoter", "--add-places"]);
    import.push(file.to_str().unwrap().to_owned());
    import.extend(signed("admin", &admin_password, admin.code_at(unix_seconds())));
    import.extend(strings(&["--passphrase-file", &passphrase_text]));
    succeed(&import);

    // The help lists every reason code; a bad code or date is refused before anyone signs in.
    let help = succeed(&strings(&["voters", "set-status", "--help"]));
    for code in ["change_of_address_after_notice", "death", "moved_confirmed_in_writing", "uocava_temporary"] {
        assert!(help.contains(code), "{code} missing from the help: {help}");
    }
    let base = |reason: &str| {
        strings(&["voters", "set-status", "--jurisdiction", STATE, "--registration-number", &ncid, "--reason", reason])
    };
    let mut bad = base("moved_away");
    bad.extend(strings(&["--status", "removed", "--data", &data_text, "--user", "admin"]));
    assert_refused(&run(&bad.iter().map(String::as_str).collect::<Vec<_>>()), "--reason");
    let mut bad = base("death");
    bad.extend(strings(&["--status", "removed", "--effective", "someday", "--data", &data_text, "--user", "admin"]));
    assert_refused(&run(&bad.iter().map(String::as_str).collect::<Vec<_>>()), "--effective");

    // `voters search` shares the admin API's parser; its messages name this command's flags.
    let search = run(&[
        "voters",
        "search",
        "--jurisdiction",
        STATE,
        "--ssn4",
        "1234",
        "--last-name",
        "X",
        "--data",
        &data_text,
        "--user",
        "admin",
    ]);
    assert_refused(&search, "--birth-date");

    // A systematic removal inside the 90 days before the 2026 federal general election.
    let mut quiet = base("change_of_address_after_notice");
    quiet.extend(strings(&["--status", "removed", "--effective", "2026-09-01", "--notice-sent", "2021-03-01"]));
    quiet.extend(signed("admin", &admin_password, admin.code_at(unix_seconds() + 30)));
    let output = run(&quiet.iter().map(String::as_str).collect::<Vec<_>>());
    assert_refused(&output, "November 3, 2026");
    assert!(stderr(&output).contains("8(c)(2)(A)"), "{}", stderr(&output));

    // A registration clerk of the state makes an allowed change.
    let clerk_password = directory.path().join("clerk-password");
    fs::write(&clerk_password, format!("{CLERK_PASSWORD}\n")).unwrap();
    succeed(&strings(&[
        "user",
        "add",
        "--data",
        &data_text,
        "--username",
        "clerk",
        "--role",
        "registration_clerk",
        "--jurisdiction",
        STATE,
        "--password-file",
        clerk_password.to_str().unwrap(),
    ]));
    let clerk = enrol_second_factor(&data, "clerk");
    let mut inactivate = base("inactive_after_confirmation_notice");
    inactivate.extend(strings(&["--status", "inactive", "--effective", "2025-06-02", "--notice-sent", "2025-04-01"]));
    inactivate.extend(signed("clerk", &clerk_password, clerk.code_at(unix_seconds())));
    let changed = succeed(&inactivate);
    assert!(
        changed.contains("active -> inactive") && changed.contains("inactive_after_confirmation_notice"),
        "{changed}"
    );

    let mut history = strings(&["voters", "history", "--jurisdiction", STATE, "--registration-number", &ncid]);
    history.extend(signed("clerk", &clerk_password, clerk.code_at(unix_seconds() + 30)));
    let listed = succeed(&history);
    assert_eq!(listed.lines().count(), 1, "only the allowed change: {listed}");
    for fragment in [
        "2025-06-02",
        "active -> inactive",
        "inactive_after_confirmation_notice",
        "user:clerk",
        "notice sent 2025-04-01",
    ] {
        assert!(listed.contains(fragment), "{fragment} missing from: {listed}");
    }

    // The ledger holds the refusal and the change, by registration number and codes only.
    let ledger = succeed(&strings(&[
        "audit",
        "search",
        "--data",
        &data_text,
        "--json",
        "--limit",
        "100",
        "--action",
        "voter.status_change",
    ]));
    let entries: Vec<Value> = serde_json::from_str::<Value>(&ledger).unwrap().as_array().unwrap().clone();
    let outcomes: Vec<&str> = entries.iter().map(|entry| entry["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["allowed", "denied"], "{ledger}");
    assert!(ledger.contains(&format!("voter:{ncid}")) && ledger.contains("reason:inactive_after_confirmation_notice"));
    assert!(!ledger.contains(&last_name), "no personal value in the ledger");
}
