//! `canvass keys` and `jurisdiction shred` through the real binary, against a running node:
//! officials unseal one share at a time, sealing refuses PII writes, wrong secrets are clear
//! one-line errors, and shredding takes effect on the running node.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fs;

use support::{PASSWORD, Served, assert_refused, basic, init_node, request, run, run_with, stderr, stdout};

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
    let auth = [("Authorization", basic("admin", PASSWORD))];
    let auth: Vec<(&str, &str)> = auth.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let sealed = request(served.admin, "POST", "/api/voters", &auth, Some(&voter("K1")));
    assert_eq!(sealed.status, 423, "a node starts with every jurisdiction sealed: {}", sealed.body);

    let on_node = |command: &str, extra: &[&str], password: &str| {
        let mut arguments =
            vec!["keys", command, "--data", data_text, "--jurisdiction", COUNTY, "--admin-address", &admin];
        arguments.extend_from_slice(extra);
        run_with(&arguments, "CANVASS_ADMIN_PASSWORD", password)
    };
    let unseal = |share: &str| on_node("unseal", &["--share-file", shares_dir.join(share).to_str().unwrap()], PASSWORD);
    let first = unseal("share-2-of-3.txt");
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("1 of 2 needed"), "{}", stdout(&first));
    assert_eq!(request(served.admin, "POST", "/api/voters", &auth, Some(&voter("K1"))).status, 423);
    let second = unseal("share-3-of-3.txt");
    assert!(stdout(&second).contains("is unsealed"), "{}", stderr(&second));
    assert_eq!(request(served.admin, "POST", "/api/voters", &auth, Some(&voter("K1"))).status, 201);

    assert_refused(&on_node("seal", &[], "not the password"), "sign in");
    let seal = on_node("seal", &[], PASSWORD);
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
        .env("CANVASS_ADMIN_PASSWORD", PASSWORD)
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
        .env("CANVASS_ADMIN_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(request(served.admin, "POST", "/api/voters", &auth, Some(&voter("K2"))).status, 201);

    // Shredding from the command line: the running node drops the keys at their next use.
    assert_refused(
        &run(&["jurisdiction", "shred", "--data", data_text, COUNTY, "--confirm", "other"]),
        "does not match",
    );
    let shred = run(&["jurisdiction", "shred", "--data", data_text, COUNTY, "--confirm", COUNTY]);
    assert!(shred.status.success(), "{}", stderr(&shred));
    let after = request(served.admin, "POST", "/api/voters", &auth, Some(&voter("K3")));
    assert_eq!((after.status, after.json()["error"]["code"].as_str()), (409, Some("no_key_ring")));
    let output =
        run(&["keys", "rotate", "--data", data_text, "--jurisdiction", COUNTY, "--passphrase-file", passphrase_text]);
    assert_refused(&output, "has no key ring");
}
