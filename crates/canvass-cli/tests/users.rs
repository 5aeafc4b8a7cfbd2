//! Staff accounts, API tokens and the policy from the shell (issue 5), through the real binary:
//! `canvass user add|list|suspend|reset-mfa`, `canvass token add` against a served node,
//! `canvass policy`, and the sign-in that commands decrypting voter data demand (password, a
//! fresh authenticator code, the policy, an approved two-person request), each refusal a
//! ledger entry.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{fs, path::Path};

use canvass_core::access::{Operation, StaffRole};
use serde_json::Value;
use support::{
    Served, assert_refused, enrol_second_factor, init_node, request, run, run_with, stderr, stdout, totp_code,
};

const SOUND_PASSWORD: &str = "a sound staff password";

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn succeed(arguments: &[&str]) -> String {
    let output = run(arguments);
    assert!(output.status.success(), "{arguments:?}: {}", stderr(&output));
    stdout(&output)
}

fn add_jurisdiction(data: &Path, id: &str, kind: &str, parent: Option<&str>) {
    let mut arguments =
        vec!["jurisdiction", "add", "--data", text(data), "--id", id, "--name", "Somewhere", "--kind", kind];
    if let Some(parent) = parent {
        arguments.extend(["--parent", parent]);
    }
    succeed(&arguments);
}

/// `canvass user add` with the password in a file; `extra` adds --jurisdiction, --email.
fn add_user(data: &Path, username: &str, role: &str, extra: &[&str]) -> std::process::Output {
    let file = data.parent().unwrap().join(format!("{username}-password"));
    fs::write(&file, format!("{SOUND_PASSWORD}\n")).unwrap();
    let mut arguments = vec![
        "user",
        "add",
        "--data",
        text(data),
        "--username",
        username,
        "--role",
        role,
        "--password-file",
        text(&file),
    ];
    arguments.extend_from_slice(extra);
    run(&arguments)
}

fn users(data: &Path) -> Vec<Value> {
    let listed = succeed(&["user", "list", "--data", text(data), "--json"]);
    serde_json::from_str::<Value>(&listed).unwrap().as_array().unwrap().clone()
}

fn user(data: &Path, username: &str) -> Value {
    users(data).into_iter().find(|user| user["username"] == username).unwrap_or_else(|| panic!("no {username}"))
}

/// `canvass audit search --json` with the filters given.
fn search(data: &Path, filters: &[&str]) -> Vec<Value> {
    let mut arguments = vec!["audit", "search", "--data", text(data), "--json", "--limit", "1000"];
    arguments.extend_from_slice(filters);
    serde_json::from_str::<Value>(&succeed(&arguments)).unwrap().as_array().unwrap().clone()
}

#[test]
fn staff_are_added_listed_suspended_and_reset_from_the_shell() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    add_jurisdiction(&data, "nc", "state", None);
    add_jurisdiction(&data, "nc-wake", "county", Some("nc"));
    add_jurisdiction(&data, "nc-durham", "county", Some("nc"));

    // Refusals write nothing: no account, no ledger entry.
    let weak = directory.path().join("weak");
    fs::write(&weak, "short\n").unwrap();
    let refused = run(&[
        "user",
        "add",
        "--data",
        text(&data),
        "--username",
        "clerk",
        "--role",
        "registration_clerk",
        "--jurisdiction",
        "nc-wake",
        "--password-file",
        text(&weak),
    ]);
    assert_refused(&refused, "at least 12 characters");
    assert_refused(&refused, "nothing was written");
    assert_refused(
        &add_user(&data, "clerk", "administrator", &["--jurisdiction", "nc-wake"]),
        "unknown role `administrator`",
    );
    assert_refused(&add_user(&data, "clerk", "auditor", &["--jurisdiction", "nc-nowhere"]), "does not exist");
    assert_refused(&add_user(&data, "Clerk", "auditor", &[]), "username");
    assert_refused(&add_user(&data, "clerk", "auditor", &["--email", "not an address"]), "email address");
    assert_refused(
        &add_user(&data, "boss", "state_administrator", &[]),
        "node-wide administrators come from `canvass init`",
    );
    let missing = run(&["user", "add", "--data", text(&data), "--username", "clerk", "--role", "auditor"]);
    assert_refused(&missing, "CANVASS_USER_PASSWORD");
    assert_eq!(users(&data).len(), 1, "only the administrator");
    assert!(search(&data, &["--action", "staff.add"]).is_empty(), "no ledger entry for a refusal");

    let added = add_user(
        &data,
        "clerk",
        "registration_clerk",
        &["--jurisdiction", "nc-wake", "--email", "clerk@wake.example.gov"],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(stdout(&added).contains("Added clerk as registration_clerk on nc-wake"), "{}", stdout(&added));
    assert!(stdout(&added).contains("second factor"), "the clerk is told about the second factor");
    assert_refused(&add_user(&data, "clerk", "auditor", &[]), "already exists");
    // The password also comes from the environment, for scripts.
    let from_environment = run_with(
        &["user", "add", "--data", text(&data), "--username", "observer", "--role", "observer"],
        "CANVASS_USER_PASSWORD",
        SOUND_PASSWORD,
    );
    assert!(from_environment.status.success(), "{}", stderr(&from_environment));

    // The first administrator of a county comes from the shell; a second one needs two people,
    // and so does any county below a state that has its own administrator.
    assert!(add_user(&data, "wakeadmin", "county_administrator", &["--jurisdiction", "nc-wake"]).status.success());
    let second = add_user(&data, "wakeadmin2", "county_administrator", &["--jurisdiction", "nc-wake"]);
    assert_refused(&second, "nc-wake already has an administrator (wakeadmin)");
    assert_refused(&second, "second administrator's approval");
    assert!(add_user(&data, "ncadmin", "state_administrator", &["--jurisdiction", "nc"]).status.success());
    assert_refused(
        &add_user(&data, "durhamadmin", "county_administrator", &["--jurisdiction", "nc-durham"]),
        "nc-durham already has an administrator (ncadmin)",
    );
    assert!(users(&data).iter().all(|user| user["username"] != "wakeadmin2" && user["username"] != "durhamadmin"));

    let table = succeed(&["user", "list", "--data", text(&data)]);
    let header = table.lines().next().unwrap();
    for column in ["USERNAME", "EMAIL", "ROLES", "SECOND FACTOR", "SUSPENDED"] {
        assert!(header.contains(column), "{table}");
    }
    let row = |name: &str| table.lines().find(|line| line.starts_with(&format!("{name} "))).unwrap().to_owned();
    assert!(row("admin").contains("state_administrator on node"), "{table}");
    let clerk_row = row("clerk");
    for expected in ["clerk@wake.example.gov", "registration_clerk on nc-wake", "no"] {
        assert!(clerk_row.contains(expected), "{clerk_row}");
    }
    let clerk = user(&data, "clerk");
    assert_eq!(clerk["email"], "clerk@wake.example.gov");
    assert_eq!(
        clerk["grants"],
        serde_json::json!([{ "role": "registration_clerk", "jurisdiction": "nc-wake", "expires_at": null, "emergency": false }])
    );
    assert_eq!((clerk["second_factor"].as_bool(), clerk["suspended"].as_bool()), (Some(false), Some(false)));

    let suspended = succeed(&["user", "suspend", "--data", text(&data), "--username", "clerk"]);
    assert!(suspended.contains("Suspended clerk"), "{suspended}");
    assert_eq!(user(&data, "clerk")["suspended"], true);
    assert!(row_of(&data, "clerk").trim_end().ends_with("yes"), "the table says so too");
    succeed(&["user", "suspend", "--data", text(&data), "--username", "clerk", "--reinstate"]);
    assert_eq!(user(&data, "clerk")["suspended"], false);
    assert_refused(
        &run(&["user", "suspend", "--data", text(&data), "--username", "nobody"]),
        "no staff account nobody",
    );

    enrol_second_factor(&data, "clerk");
    assert_eq!(user(&data, "clerk")["second_factor"], true);
    let reset = succeed(&["user", "reset-mfa", "--data", text(&data), "--username", "clerk"]);
    assert!(reset.contains("Reset the second factor of clerk"), "{reset}");
    assert_eq!(user(&data, "clerk")["second_factor"], false);

    // Every change is in the ledger under the operator at the shell.
    for (action, record) in [
        ("staff.add", "staff:clerk"),
        ("staff.grant", "staff:clerk"),
        ("staff.suspend", "staff:clerk"),
        ("staff.reinstate", "staff:clerk"),
        ("staff.reset_mfa", "staff:clerk"),
    ] {
        let found = search(&data, &["--action", action, "--record", record]);
        assert_eq!(found.len(), 1, "{action}: {found:?}");
        assert_eq!((&found[0]["actor"], &found[0]["outcome"]), (&Value::from("operator"), &Value::from("allowed")));
    }
    let granted = search(&data, &["--action", "staff.grant", "--record", "staff:wakeadmin"]);
    assert_eq!(granted[0]["jurisdiction"], "nc-wake");
}

fn row_of(data: &Path, username: &str) -> String {
    let table = succeed(&["user", "list", "--data", text(data)]);
    table.lines().find(|line| line.starts_with(&format!("{username} "))).unwrap().to_owned()
}

#[test]
fn a_token_from_the_shell_works_against_the_node_until_its_user_is_suspended() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    add_jurisdiction(&data, "tk-state", "state", None);
    assert!(add_user(&data, "watcher", "auditor", &["--jurisdiction", "tk-state"]).status.success());

    let token_add = |extra: &[&str]| {
        let mut arguments =
            vec!["token", "add", "--data", text(&data), "--user", "watcher", "--label", "ledger export"];
        arguments.extend_from_slice(extra);
        run(&arguments)
    };
    assert_refused(
        &token_add(&["--role", "registration_clerk", "--jurisdiction", "tk-state"]),
        "does not hold registration_clerk on tk-state",
    );
    assert_refused(&token_add(&["--role", "auditor"]), "does not hold auditor on the whole node");
    assert_refused(&token_add(&["--role", "chief", "--jurisdiction", "tk-state"]), "unknown role `chief`");
    assert_refused(&token_add(&["--role", "auditor", "--jurisdiction", "tk-state", "--days", "0"]), "1 to 366 days");
    let missing_user =
        run(&["token", "add", "--data", text(&data), "--user", "nobody", "--role", "auditor", "--label", "x"]);
    assert_refused(&missing_user, "no staff account nobody");

    let issued = token_add(&["--role", "auditor", "--jurisdiction", "tk-state", "--days", "7"]);
    assert!(issued.status.success(), "{}", stderr(&issued));
    let printed = stdout(&issued);
    assert_eq!(printed.lines().count(), 1, "only the token on stdout: {printed}");
    let token = printed.trim().to_owned();
    assert!(token.starts_with("canvass."), "{token}");
    let explained = stderr(&issued);
    assert!(explained.contains("printed once") && explained.contains("Bearer"), "{explained}");
    let issued_entries = search(&data, &["--action", "token.issue", "--actor", "operator"]);
    assert!(issued_entries.iter().any(|entry| entry["jurisdiction"] == "tk-state"), "{issued_entries:?}");
    assert!(
        !fs::read(data.join("canvass.db")).unwrap().windows(token.len()).any(|window| window == token.as_bytes()),
        "only the token's hash is stored"
    );

    let served = Served::start(&["--data", text(&data)], &[]).unwrap();
    let bearer = format!("Bearer {token}");
    let listed = request(served.admin, "GET", "/api/jurisdictions", &[("Authorization", &bearer)], None);
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert!(listed.body.contains("tk-state"), "{}", listed.body);
    // The token carries its user's role, no more: an auditor adds no jurisdictions.
    let body = serde_json::json!({ "id": "tk-other", "name": "Other", "kind": "state" }).to_string();
    let forbidden = request(served.admin, "POST", "/api/jurisdictions", &[("Authorization", &bearer)], Some(&body));
    assert_eq!(forbidden.status, 403, "{}", forbidden.body);

    // Suspended from the shell while the node runs: the token stops at once.
    succeed(&["user", "suspend", "--data", text(&data), "--username", "watcher"]);
    let refused = request(served.admin, "GET", "/api/jurisdictions", &[("Authorization", &bearer)], None);
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(!refused.body.contains("tk-state"), "{}", refused.body);
    assert_refused(&token_add(&["--role", "auditor", "--jurisdiction", "tk-state"]), "watcher is suspended");
    succeed(&["user", "suspend", "--data", text(&data), "--username", "watcher", "--reinstate"]);
    let again = request(served.admin, "GET", "/api/jurisdictions", &[("Authorization", &bearer)], None);
    assert_eq!(again.status, 200, "reinstated, the token works again: {}", again.body);
}

#[test]
fn policy_prints_every_operation_and_role() {
    let printed = succeed(&["policy"]);
    for operation in Operation::ALL {
        assert!(printed.contains(&format!("`{}`", operation.as_str())), "{operation} missing from:\n{printed}");
    }
    for role in StaffRole::ALL {
        assert!(printed.contains(role.title()), "{role} missing");
    }
    assert!(printed.contains("two-person") && printed.contains("Second factor (TOTP) required"), "{printed}");
}

/// A six-digit code that is none of the codes valid around now.
fn wrong_code(authenticator: &canvass_crypto::TotpSecret) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let valid: Vec<String> =
        [now - 60, now - 30, now, now + 30, now + 60].iter().map(|at| authenticator.code_at(*at)).collect();
    (0..10)
        .map(|digit| format!("{digit}{digit}{digit}{digit}{digit}{digit}"))
        .find(|code| !valid.contains(code))
        .unwrap()
}

#[test]
fn commands_that_decrypt_voter_data_need_the_password_a_fresh_code_and_an_approval_and_refusals_are_recorded() {
    const STATE: &str = "pii-state";
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    add_jurisdiction(&data, STATE, "state", None);
    let passphrase = directory.path().join("passphrase");
    fs::write(&passphrase, "pii key ring passphrase").unwrap();
    succeed(&["keys", "init", "--data", text(&data), "--jurisdiction", STATE, "--passphrase-file", text(&passphrase)]);
    let right_password = directory.path().join("admin-password");
    let wrong_password = directory.path().join("wrong-password");
    fs::write(&wrong_password, "not the administrator's password").unwrap();
    let rotate = |user: &str, password_file: &Path, code: Option<&str>| {
        let mut arguments = vec![
            "keys",
            "rotate",
            "--data",
            text(&data),
            "--jurisdiction",
            STATE,
            "--passphrase-file",
            text(&passphrase),
            "--user",
            user,
            "--password-file",
            text(password_file),
        ];
        if let Some(code) = code {
            arguments.extend(["--totp-code", code]);
        }
        run(&arguments)
    };

    let without_user = run(&[
        "keys",
        "rotate",
        "--data",
        text(&data),
        "--jurisdiction",
        STATE,
        "--passphrase-file",
        text(&passphrase),
    ]);
    assert!(!without_user.status.success());
    assert!(stderr(&without_user).contains("--user"), "{}", stderr(&without_user));
    assert_refused(&rotate("admin", &wrong_password, Some("123456")), "sign-in refused");
    assert_refused(&rotate("nobody", &wrong_password, Some("123456")), "sign-in refused");
    assert_refused(&rotate("admin", &right_password, None), "none is enrolled");
    let authenticator = enrol_second_factor(&data, "admin");
    assert_refused(&rotate("admin", &right_password, None), "--totp-code");
    assert_refused(&rotate("admin", &right_password, Some(&wrong_code(&authenticator))), "wrong or was already used");
    // The right code signs in; without an approved request nothing is rotated, and the code is
    // used up.
    let code = totp_code(&authenticator);
    let unapproved = rotate("admin", &right_password, Some(&code));
    assert_refused(&unapproved, "needs a second administrator's approval");
    assert_refused(&rotate("admin", &right_password, Some(&code)), "wrong or was already used");
    // A role the policy does not allow to rotate is refused after signing in.
    assert!(add_user(&data, "clerk", "registration_clerk", &["--jurisdiction", STATE]).status.success());
    let clerk = enrol_second_factor(&data, "clerk");
    let clerk_password = directory.path().join("clerk-password");
    assert_refused(
        &rotate("clerk", &clerk_password, Some(&totp_code(&clerk))),
        "do not allow keys.rotate on pii-state",
    );
    // Shredding signs in the same way.
    let bogus = run(&[
        "jurisdiction",
        "shred",
        "--data",
        text(&data),
        STATE,
        "--confirm",
        STATE,
        "--user",
        "admin",
        "--password-file",
        text(&wrong_password),
    ]);
    assert_refused(&bogus, "sign-in refused");

    let status: Value = serde_json::from_str(&succeed(&["keys", "status", "--data", text(&data), "--json"])).unwrap();
    assert_eq!(status[0]["field_key_versions"].as_array().unwrap().len(), 1, "nothing was rotated: {status}");
    assert!(search(&data, &["--action", "keys.rotate"]).is_empty());

    // The ledger holds every refusal: sign-ins under the account's name (an unknown name is
    // never written down), policy refusals with the operation.
    let denied = search(&data, &["--action", "auth.login", "--outcome", "denied"]);
    let mut actors: Vec<&str> = denied.iter().map(|entry| entry["actor"].as_str().unwrap()).collect();
    actors.sort_unstable();
    assert_eq!(
        actors,
        ["anonymous", "user:admin", "user:admin", "user:admin", "user:admin", "user:admin", "user:admin"],
        "wrong password twice, none enrolled, no code, wrong code, replayed code; and `nobody`: {denied:?}"
    );
    assert!(denied.iter().all(|entry| entry["reason"] == "unauthorized"), "{denied:?}");
    assert!(!serde_json::to_string(&denied).unwrap().contains("nobody"), "the unknown name is not recorded");
    let signed_in = search(&data, &["--action", "auth.login", "--outcome", "allowed"]);
    let mut signed_in: Vec<&str> = signed_in.iter().map(|entry| entry["actor"].as_str().unwrap()).collect();
    signed_in.sort_unstable();
    assert_eq!(signed_in, ["user:admin", "user:clerk"]);
    let refused = search(&data, &["--action", "access.denied", "--outcome", "denied"]);
    let refused: Vec<(&str, &str, &str)> = refused
        .iter()
        .map(|entry| {
            (entry["actor"].as_str().unwrap(), entry["reason"].as_str().unwrap(), entry["targets"][0].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        refused,
        [
            ("user:clerk", "forbidden", "operation:keys.rotate"),
            ("user:admin", "approval_required", "operation:keys.rotate")
        ]
    );
}
