//! `canvass voters duplicates`, `merge` and `dismiss-duplicate` through the real binary: a roll
//! imported from a generated file with one person planted twice in two counties and one licence
//! planted on two people lists exactly those pairs; a clerk's merge removes one record with
//! reason `duplicate_merged`, a dismissal keeps both, and both pairs leave the list.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fs;

use serde_json::Value;
use support::{enrol_second_factor, init_node, run, stderr, stdout};

const STATE: &str = "ocd-division/country:us/state:nc";
const PASSPHRASE: &str = "the duplicates test key ring passphrase";
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

/// The (first, second, rules) of `voters duplicates --json` output.
fn pairs(json: &str) -> Vec<(String, String, Vec<String>)> {
    let listed: Value = serde_json::from_str(json).unwrap();
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            let rules = pair["rules"].as_array().unwrap().iter().map(|rule| rule.as_str().unwrap().to_owned());
            (
                pair["first"]["registration_number"].as_str().unwrap().to_owned(),
                pair["second"]["registration_number"].as_str().unwrap().to_owned(),
                rules.collect(),
            )
        })
        .collect()
}

#[test]
fn planted_duplicates_are_listed_merged_and_dismissed() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data_text = data.to_str().unwrap().to_owned();
    let passphrase = directory.path().join("key-passphrase");
    fs::write(&passphrase, PASSPHRASE).unwrap();
    let passphrase_text = passphrase.to_str().unwrap().to_owned();
    let add =
        ["jurisdiction", "add", "--data", &data_text, "--id", STATE, "--name", "North Carolina", "--kind", "state"];
    succeed(&strings(&add));
    let init = ["keys", "init", "--data", &data_text, "--jurisdiction", STATE, "--passphrase-file", &passphrase_text];
    succeed(&strings(&init));

    // A generated roll with two planted copies.
    let generated = directory.path().join("generated.tsv");
    succeed(&strings(&["voters", "generate", "--out", generated.to_str().unwrap(), "--rows", "40", "--confidential"]));
    let text = fs::read_to_string(&generated).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let header: Vec<String> = lines[0].split('\t').map(str::to_owned).collect();
    let column = |name: &str| header.iter().position(|column| column == name).unwrap();
    let row = |index: usize| -> Vec<String> { lines[index].split('\t').map(str::to_owned).collect() };
    let (first, other) = (
        row(1),
        (2..lines.len()).map(row).find(|values| values[column("county_id")] != row(1)[column("county_id")]).unwrap(),
    );
    let mut twin = first.clone();
    twin[column("ncid")] = "DUP0000001".into();
    for name in ["county_id", "county_desc", "precinct_abbrv", "precinct_desc"] {
        twin[column(name)] = other[column(name)].clone();
    }
    twin[column("drivers_lic_num")] = String::new();
    twin[column("status_cd")] = "A".into();
    let mut licence = row(3);
    licence[column("ncid")] = "DUP0000002".into();
    licence[column("last_name")] = "PLANTED".into();
    licence[column("birth_date")] = "1960-01-02".into();
    let (first_ncid, licence_ncid) = (first[column("ncid")].clone(), row(3)[column("ncid")].clone());
    lines.push(twin.join("\t"));
    lines.push(licence.join("\t"));
    let file = directory.path().join("voters.tsv");
    fs::write(&file, lines.join("\n") + "\n").unwrap();

    let admin_password = directory.path().join("admin-password");
    let signed = |user: &str, password: &std::path::Path, code: String| {
        let password = password.to_str().unwrap();
        strings(&["--data", &data_text, "--user", user, "--password-file", password, "--totp-code", &code])
    };
    let unlock = strings(&["--passphrase-file", &passphrase_text]);
    let admin = enrol_second_factor(&data, "admin");
    let mut import = strings(&["voters", "import", "--jurisdiction", STATE, "--format", "ncvoter", "--add-places"]);
    import.push(file.to_str().unwrap().to_owned());
    import.extend(signed("admin", &admin_password, admin.code_at(unix_seconds())));
    import.extend(unlock.clone());
    succeed(&import);

    let mut list = strings(&["voters", "duplicates", "--jurisdiction", STATE, "--json"]);
    list.extend(signed("admin", &admin_password, admin.code_at(unix_seconds() + 30)));
    list.extend(unlock.clone());
    let listed = pairs(&succeed(&list));
    assert_eq!(
        listed,
        [
            ("DUP0000001".to_owned(), first_ncid.clone(), vec!["name_and_birth_date".to_owned()]),
            ("DUP0000002".to_owned(), licence_ncid.clone(), vec!["drivers_licence".to_owned()]),
        ]
    );

    // A registration clerk merges one pair and dismisses the other.
    let clerk_password = directory.path().join("clerk-password");
    fs::write(&clerk_password, format!("{CLERK_PASSWORD}\n")).unwrap();
    let clerk_password_text = clerk_password.to_str().unwrap().to_owned();
    let user = ["user", "add", "--data", &data_text, "--username", "clerk", "--role", "registration_clerk"];
    let mut user = strings(&user);
    user.extend(strings(&["--jurisdiction", STATE, "--password-file", &clerk_password_text]));
    succeed(&user);
    let clerk = enrol_second_factor(&data, "clerk");
    let mut merge =
        strings(&["voters", "merge", "--jurisdiction", STATE, "--keep", &first_ncid, "--remove", "DUP0000001"]);
    // A day outside every federal election's quiet period, so the test does not depend on today.
    merge.extend(strings(&["--reason", "registered twice", "--effective", "2026-01-15"]));
    merge.extend(signed("clerk", &clerk_password, clerk.code_at(unix_seconds())));
    merge.extend(unlock.clone());
    let merged = succeed(&merge);
    assert!(merged.contains("DUP0000001 is now removed (duplicate_merged)"), "{merged}");
    let mut dismiss = strings(&["voters", "dismiss-duplicate", "--jurisdiction", STATE, "--first", "DUP0000002"]);
    dismiss.extend(strings(&["--second", &licence_ncid, "--reason", "different people"]));
    dismiss.extend(signed("clerk", &clerk_password, clerk.code_at(unix_seconds() + 30)));
    dismiss.extend(unlock.clone());
    succeed(&dismiss);

    // Both pairs have left the list (a second clerk: each account's codes are used up).
    let mut user =
        strings(&["user", "add", "--data", &data_text, "--username", "clerk2", "--role", "registration_clerk"]);
    user.extend(strings(&["--jurisdiction", STATE, "--password-file", &clerk_password_text]));
    succeed(&user);
    let second_clerk = enrol_second_factor(&data, "clerk2");
    let mut list = strings(&["voters", "duplicates", "--jurisdiction", STATE, "--json"]);
    list.extend(signed("clerk2", &clerk_password, second_clerk.code_at(unix_seconds())));
    list.extend(unlock);
    assert!(pairs(&succeed(&list)).is_empty());
    let help = succeed(&strings(&["voters", "merge", "--help"]));
    assert!(help.contains("duplicate_merged"), "{help}");
}
