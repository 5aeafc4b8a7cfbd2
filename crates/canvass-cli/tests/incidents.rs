//! `canvass incidents` through the real binary: an administrator opens an incident and adds an
//! update; an auditor lists and shows it with its timeline but may not update it; a bad status
//! change is refused with the rule; a backup that fails verification opens an incident on the
//! node whose data dir is named, and a wrong passphrase does not.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fs;

use serde_json::Value;
use support::{assert_refused, enrol_second_factor, init_node, run, stderr, stdout};

fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn succeed(arguments: &[&str]) -> String {
    let output = run(arguments);
    assert!(output.status.success(), "{arguments:?}: {}", stderr(&output));
    stdout(&output)
}

#[test]
fn administrators_open_and_update_incidents_and_a_failed_backup_verification_opens_one() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data_text = data.to_str().unwrap();
    succeed(&["jurisdiction", "add", "--data", data_text, "--id", "nc", "--name", "North Carolina", "--kind", "state"]);
    let password = directory.path().join("admin-password");
    let password_text = password.to_str().unwrap();
    succeed(&[
        "user",
        "add",
        "--data",
        data_text,
        "--username",
        "auditor",
        "--role",
        "auditor",
        "--jurisdiction",
        "nc",
        "--password-file",
        password_text,
    ]);
    succeed(&[
        "user",
        "add",
        "--data",
        data_text,
        "--username",
        "node-auditor",
        "--role",
        "auditor",
        "--password-file",
        password_text,
    ]);
    // Each code works once and enrolment used the previous step: two commands.
    let admin = enrol_second_factor(&data, "admin");
    let now = unix_seconds();
    let (first_code, second_code) = (admin.code_at(now), admin.code_at(now + 30));
    let as_admin = |code: &str| {
        vec!["--data", data_text, "--user", "admin", "--password-file", password_text, "--totp-code", code]
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let as_auditor = ["--data", data_text, "--user", "auditor", "--password-file", password_text];

    let help = succeed(&["incidents", "update", "--help"]);
    assert!(help.contains("closed -> investigating"), "{help}");
    assert_refused(
        &run(&[&["incidents", "open", "--severity", "dire", "--summary", "x"][..], &as_auditor[..]].concat()),
        "--severity",
    );

    let mut open: Vec<String> = [
        "incidents",
        "open",
        "--jurisdiction",
        "nc",
        "--severity",
        "medium",
        "--summary",
        "A staff laptop was lost.",
        "--data-classes",
        "credentials",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    open.extend(as_admin(&first_code));
    let opened = succeed(&open.iter().map(String::as_str).collect::<Vec<_>>());
    let id = opened.split_whitespace().nth(2).unwrap().to_owned();
    assert!(id.starts_with("inc-"), "{opened}");

    let mut update: Vec<String> =
        ["incidents", "update", &id, "--status", "investigating", "--public", "We are looking into it."]
            .into_iter()
            .map(str::to_owned)
            .collect();
    update.extend(as_admin(&second_code));
    let updated = succeed(&update.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(updated.contains("investigating") && updated.contains("#1"), "{updated}");

    // The auditor reads; it may not write.
    let listed: Value =
        serde_json::from_str(&succeed(&[&["incidents", "list", "--json"][..], &as_auditor[..]].concat())).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["status"], "investigating");
    let shown: Value =
        serde_json::from_str(&succeed(&[&["incidents", "show", &id, "--json"][..], &as_auditor[..]].concat())).unwrap();
    assert_eq!(shown["updates"].as_array().unwrap().len(), 1, "{shown}");
    assert_eq!(shown["updates"][0]["public_text"], "We are looking into it.");
    assert_eq!(shown["updates"][0]["author"], "user:admin");
    assert_refused(
        &run(&[&["incidents", "update", &id, "--status", "closed"][..], &as_auditor[..]].concat()),
        "do not allow incidents.manage",
    );
    let text = succeed(&[&["incidents", "show", &id][..], &as_auditor[..]].concat());
    assert!(text.contains("public:   We are looking into it."), "{text}");

    // A backup that exists but does not verify is an incident; a wrong passphrase is a typo.
    let backup_passphrase = directory.path().join("backup-passphrase");
    fs::write(&backup_passphrase, "backup passphrase for the test").unwrap();
    let backup_passphrase_text = backup_passphrase.to_str().unwrap();
    let file = directory.path().join("node.backup");
    succeed(&[
        "backup",
        "create",
        "--data",
        data_text,
        "--to",
        file.to_str().unwrap(),
        "--passphrase-file",
        backup_passphrase_text,
    ]);
    let wrong = directory.path().join("wrong");
    fs::write(&wrong, "not the backup passphrase").unwrap();
    assert_refused(
        &run(&[
            "backup",
            "verify",
            "--data",
            data_text,
            file.to_str().unwrap(),
            "--passphrase-file",
            wrong.to_str().unwrap(),
        ]),
        "passphrase is wrong",
    );
    let bytes = fs::read(&file).unwrap();
    let truncated = directory.path().join("truncated.backup");
    fs::write(&truncated, &bytes[..bytes.len() - 500]).unwrap();
    let refused = run(&[
        "backup",
        "verify",
        "--data",
        data_text,
        truncated.to_str().unwrap(),
        "--passphrase-file",
        backup_passphrase_text,
    ]);
    assert_refused(&refused, "damaged or truncated");
    assert!(stdout(&refused).contains("An incident was opened"), "{}", stdout(&refused));
    let listed: Value =
        serde_json::from_str(&succeed(&[&["incidents", "list", "--json"][..], &as_auditor[..]].concat())).unwrap();
    // The auditor's grant is on nc; the backup incident is node-wide: not theirs to see.
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let as_node_auditor = ["--data", data_text, "--user", "node-auditor", "--password-file", password_text];
    let all: Value = serde_json::from_str(&succeed(
        &[&["incidents", "list", "--json", "--status", "open"][..], &as_node_auditor[..]].concat(),
    ))
    .unwrap();
    let backups: Vec<&Value> =
        all.as_array().unwrap().iter().filter(|incident| incident["kind"] == "backup_verification").collect();
    assert_eq!(backups.len(), 1, "{all}");
    assert_eq!(backups[0]["data_classes"], serde_json::json!(["backup"]));
    assert!(backups[0]["summary"].as_str().unwrap().contains("truncated.backup"), "{all}");
}

/// The file named `name` anywhere under `directory`, two levels deep at most.
fn find_file(directory: &std::path::Path, name: &str) -> Option<std::path::PathBuf> {
    for entry in fs::read_dir(directory).ok()?.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|file| file == name) {
            return Some(path);
        }
        if path.is_dir()
            && let Some(found) = find_file(&path, name)
        {
            return Some(found);
        }
    }
    None
}

#[test]
fn the_demo_shows_an_incident_with_its_timeline_and_a_refusing_witness_opens_one() {
    let temporary = tempfile::tempdir().unwrap();
    let served = support::Served::start(&["--demo"], &[("TMPDIR", temporary.path().to_str().unwrap())]).unwrap();
    let bearer = format!("Bearer {}", served.token.clone().unwrap());
    let incidents = |served: &support::Served| {
        let listed = support::request(served.admin, "GET", "/api/incidents", &[("Authorization", &bearer)], None);
        assert_eq!(listed.status, 200, "{}", listed.body);
        listed.json().as_array().unwrap().clone()
    };
    let listed = incidents(&served);
    let demo: Vec<&Value> = listed.iter().filter(|incident| incident["kind"] == "manual").collect();
    assert_eq!(demo.len(), 1, "{listed:?}");
    assert_eq!(demo[0]["status"], "contained");
    let path = format!("/api/incidents/{}", demo[0]["id"].as_str().unwrap());
    let detail = support::request(served.admin, "GET", &path, &[("Authorization", &bearer)], None).json();
    assert_eq!(detail["updates"].as_array().unwrap().len(), 2, "{detail}");
    let page = support::get(served.admin, "/incidents");
    assert_eq!(page.status, 303, "the page needs a sign-in");

    // The demo witness cosigns, then finds its state claiming a longer log than the node's:
    // it refuses (truncation), and the refusal is an incident.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let state = loop {
        if let Some(found) = find_file(temporary.path(), "demo-witness.state.json") {
            break found;
        }
        assert!(std::time::Instant::now() < deadline, "the demo witness never cosigned");
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let mut states: Value = serde_json::from_str(&fs::read_to_string(&state).unwrap()).unwrap();
    for (_, witnessed) in states.as_object_mut().unwrap() {
        witnessed["size"] = Value::from(10_000_000_u64);
    }
    fs::write(&state, states.to_string()).unwrap();
    let refusal = loop {
        let found: Vec<Value> =
            incidents(&served).into_iter().filter(|incident| incident["kind"] == "witness_refusal").collect();
        if !found.is_empty() {
            break found;
        }
        assert!(std::time::Instant::now() < deadline, "no incident for the witness's refusal");
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    assert_eq!(refusal.len(), 1, "later refusals are updates: {refusal:?}");
    assert_eq!(refusal[0]["severity"], "critical");
    assert!(refusal[0]["summary"].as_str().unwrap().contains("shrank"), "{refusal:?}");
    assert!(served.stop().success());
}
