//! `canvass keys` and `jurisdiction shred` through the real binary, against a running node:
//! officials unseal one share at a time (signed in to the node with an API token), sealing
//! refuses PII writes, wrong secrets are clear one-line errors, and shredding, a two-person
//! operation carried out from the shell by its requester, takes effect on the running node.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fs;

use support::{
    Served, admin_bearer, admin_token, approved_request, assert_refused, enrol_second_factor, init_node, mint_token,
    request, run, run_with, stderr, stdout, totp_code,
};

const COUNTY: &str = "keys-county";

fn voter(number: &str) -> String {
    serde_json::json!({
        "jurisdiction": COUNTY, "registration_number": number, "county": COUNTY, "precinct": "keys-01",
        "first_name": "Ada", "last_name": "Keyes", "party": "UNA", "status": "active", "registered_on": "2020-01-01"
    })
    .to_string()
}

#[test]
fn officials_unseal_with_their_shares_and_sealing_and_shredding_take_effect() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data_text = data.to_str().unwrap();
    let passphrase = directory.path().join("passphrase");
    fs::write(&passphrase, "keys test passphrase, long").unwrap();
    let passphrase_text = passphrase.to_str().unwrap();
    let shares_dir = directory.path().join("shares");
    let shares_text = shares_dir.to_str().unwrap();
    for step in [
        vec!["jurisdiction", "add", "--data", data_text, "--id", COUNTY, "--name", "Keys County", "--kind", "state"],
        vec!["precinct", "add", "--data", data_text, "--id", "keys-01", "--jurisdiction", COUNTY, "--name", "K01"],
        vec!["keys", "init", "--data", data_text, "--jurisdiction", COUNTY, "--passphrase-file", passphrase_text],
        vec![
            "keys",
            "split",
            "--data",
            data_text,
            "--jurisdiction",
            COUNTY,
            "--threshold",
            "2",
            "--shares",
            "3",
            "--out",
            shares_text,
            "--passphrase-file",
            passphrase_text,
        ],
    ] {
        let output = run(&step);
        assert!(output.status.success(), "{step:?}: {}", stderr(&output));
    }
    assert_eq!(support::file_mode(&shares_dir), 0o700);
    assert_eq!(support::file_mode(&shares_dir.join("share-1-of-3.txt")), 0o600);
    let status: serde_json::Value =
        serde_json::from_str(&stdout(&run(&["keys", "status", "--data", data_text, "--json"]))).unwrap();
    assert_eq!(status[0]["shares"], "2 of 3");

    let weak = directory.path().join("weak");
    fs::write(&weak, "short").unwrap();
    let output = run(&[
        "keys",
        "init",
        "--data",
        data_text,
        "--jurisdiction",
        COUNTY,
        "--passphrase-file",
        weak.to_str().unwrap(),
    ]);
    assert_refused(&output, "already has a key ring");

    let served = Served::start(&["--data", data_text], &[]).unwrap();
    let admin = served.admin.to_string();
    let bearer = admin_bearer(&data);
    let auth = [("Authorization", bearer.as_str())];
    let sealed = request(served.admin, "POST", "/api/voters", &auth, Some(&voter("K1")));
    assert_eq!(sealed.status, 423, "a node starts with every jurisdiction sealed: {}", sealed.body);

    let token = admin_token(&data);
    let on_node = |command: &str, extra: &[&str], token: &str| {
        let mut arguments =
            vec!["keys", command, "--data", data_text, "--jurisdiction", COUNTY, "--admin-address", &admin];
        arguments.extend_from_slice(extra);
        run_with(&arguments, "CANVASS_API_TOKEN", token)
    };
    let unseal = |share: &str| on_node("unseal", &["--share-file", shares_dir.join(share).to_str().unwrap()], &token);
    let first = unseal("share-2-of-3.txt");
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("1 of 2 needed"), "{}", stdout(&first));
    assert_eq!(request(served.admin, "POST", "/api/voters", &auth, Some(&voter("K1"))).status, 423);
    let second = unseal("share-3-of-3.txt");
    assert!(stdout(&second).contains("is unsealed"), "{}", stderr(&second));
    assert_eq!(request(served.admin, "POST", "/api/voters", &auth, Some(&voter("K1"))).status, 201);

    let forged = format!("{}guessed", &token[..token.len() - 7]);
    assert_refused(&on_node("seal", &[], &forged), "refused the API token");
    assert_refused(&on_node("seal", &[], "not a token at all"), "API token");
    let missing = support::canvass()
        .args(["keys", "seal", "--data", data_text, "--jurisdiction", COUNTY, "--admin-address", &admin])
        .output()
        .unwrap();
    assert_refused(&missing, "canvass token add");
    let token_file = directory.path().join("token-file");
    fs::write(&token_file, format!("{token}\n")).unwrap();
    let seal = on_node("seal", &["--token-file", token_file.to_str().unwrap()], "");
    assert!(seal.status.success(), "{}", stderr(&seal));
    assert_eq!(request(served.admin, "POST", "/api/voters", &auth, Some(&voter("K2"))).status, 423);

    let wrong = directory.path().join("wrong");
    fs::write(&wrong, "a wrong passphrase entirely").unwrap();
    let output = support::canvass()
        .args([
            "keys",
            "unseal",
            "--data",
            data_text,
            "--jurisdiction",
            COUNTY,
            "--admin-address",
            &admin,
            "--passphrase-file",
        ])
        .arg(&wrong)
        .env("CANVASS_API_TOKEN", &token)
        .output()
        .unwrap();
    assert_refused(&output, "the passphrase is wrong");
    let output = support::canvass()
        .args([
            "keys",
            "unseal",
            "--data",
            data_text,
            "--jurisdiction",
            COUNTY,
            "--admin-address",
            &admin,
            "--passphrase-file",
            passphrase_text,
        ])
        .env("CANVASS_API_TOKEN", &token)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(request(served.admin, "POST", "/api/voters", &auth, Some(&voter("K2"))).status, 201);

    // Shredding from the command line: a second node-wide administrator (`canvass admin`)
    // approves the first one's request, who carries it out with password and code; the running
    // node drops the keys at their next use.
    let approver_password = directory.path().join("approver-password");
    fs::write(&approver_password, "the approver's own long password").unwrap();
    let approver_password_text = approver_password.to_str().unwrap();
    let added = run(&[
        "admin",
        "set-password",
        "--data",
        data_text,
        "--user",
        "approver",
        "--password-file",
        approver_password_text,
    ]);
    assert!(added.status.success(), "{}", stderr(&added));
    let approver = format!("Bearer {}", mint_token(&data, "approver", "state_administrator", None));
    let requested = approved_request(&served, &bearer, &approver, "shred_keys", COUNTY);
    let administrator = enrol_second_factor(&data, "admin");
    let password_file = directory.path().join("admin-password");
    let shred = |confirm: &str, code: &str| {
        run(&[
            "jurisdiction",
            "shred",
            "--data",
            data_text,
            COUNTY,
            "--confirm",
            confirm,
            "--user",
            "admin",
            "--password-file",
            password_file.to_str().unwrap(),
            "--totp-code",
            code,
            "--request",
            &requested,
        ])
    };
    assert_refused(&shred("other", "000000"), "does not match");
    let shredded = shred(COUNTY, &totp_code(&administrator));
    assert!(shredded.status.success(), "{}", stderr(&shredded));
    let after = request(served.admin, "POST", "/api/voters", &auth, Some(&voter("K3")));
    assert_eq!((after.status, after.json()["error"]["code"].as_str()), (409, Some("no_key_ring")));
    let found = run(&["audit", "search", "--data", data_text, "--action", "keys.shred", "--json"]);
    let entries: serde_json::Value = serde_json::from_str(&stdout(&found)).unwrap();
    assert_eq!(entries[0]["actor"], "user:admin", "{entries}");

    // Rotation decrypts records, so it too is a staff member's; with the ring gone it stops
    // at the key ring, before it would need an approval.
    let authenticator = enrol_second_factor(&data, "approver");
    let output = run(&[
        "keys",
        "rotate",
        "--data",
        data_text,
        "--jurisdiction",
        COUNTY,
        "--passphrase-file",
        passphrase_text,
        "--user",
        "approver",
        "--password-file",
        approver_password_text,
        "--totp-code",
        &totp_code(&authenticator),
    ]);
    assert_refused(&output, "has no key ring");
}
