//! A real `canvass witness` run by another office refuses a node's checkpoint (its state file
//! claims a longer log than the node serves: a truncation) and tells the node through
//! `POST /log/refusal`: it still exits non-zero with `REFUSED: ...`, and the node, which lists
//! the witness in `ledger.witnesses`, shows the `witness_refusal` incident to its
//! administrator.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    fs,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use support::{Served, admin_bearer, init_node, run, stderr, stdout};

#[test]
fn a_refusing_witness_opens_an_incident_on_the_node_that_trusts_it() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let key_file = directory.path().join("witness.pem");
    let keygen = run(&["witness", "keygen", "--key", key_file.to_str().unwrap()]);
    assert!(keygen.status.success(), "{}", stderr(&keygen));
    let printed = stdout(&keygen);
    let lines: Vec<&str> = printed.lines().collect();
    let position = lines.iter().position(|line| line.contains("ledger.witnesses")).unwrap();
    let witness_key = lines[position + 1].trim().to_owned();
    let witness_name = witness_key.split('+').next().unwrap().to_owned();
    let config = data.join("canvass.toml");
    let original = fs::read_to_string(&config).unwrap();
    fs::write(&config, original.replace("witnesses = []", &format!("witnesses = [\"{witness_key}\"]"))).unwrap();

    let served = Served::start(&["--data", data.to_str().unwrap()], &[]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let checkpoint = loop {
        let response = support::get(served.public, "/log/checkpoint");
        if response.status == 200 {
            break response.body;
        }
        assert!(Instant::now() < deadline, "no checkpoint: {}", response.body);
        std::thread::sleep(Duration::from_millis(100));
    };
    let origin = checkpoint.lines().next().unwrap().to_owned();
    let log_key = support::get(served.public, "/log/key").body.trim().to_owned();
    // The witness remembers cosigning ten million entries of this log: the log shrank.
    let state = directory.path().join("witness-state.json");
    let remembered = json!({ &origin: {
        "origin": origin,
        "log_key": log_key,
        "size": 10_000_000_u64,
        "root": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    }});
    fs::write(&state, remembered.to_string()).unwrap();

    let log = format!("http://{}/log", served.public);
    let refused = run(&[
        "witness",
        "--log",
        &log,
        "--key",
        key_file.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
        "--once",
    ]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let said = stderr(&refused);
    assert!(said.contains("REFUSED: the log shrank from 10000000"), "{said}");
    assert!(said.contains("the node recorded the refusal"), "{said}");
    assert!(!said.contains("panicked"), "{said}");
    assert_eq!(fs::read_to_string(&state).unwrap(), remembered.to_string(), "a refusal changes no state");

    let bearer = admin_bearer(&data);
    let listed = support::request(served.admin, "GET", "/api/incidents", &[("Authorization", &bearer)], None);
    assert_eq!(listed.status, 200, "{}", listed.body);
    let listed: Value = serde_json::from_str(&listed.body).unwrap();
    let refusals: Vec<&Value> =
        listed.as_array().unwrap().iter().filter(|incident| incident["kind"] == "witness_refusal").collect();
    assert_eq!(refusals.len(), 1, "{listed}");
    let summary = refusals[0]["summary"].as_str().unwrap();
    assert!(summary.contains(&witness_name) && summary.contains("shrank"), "{summary}");
    let entries = run(&["audit", "search", "--data", data.to_str().unwrap(), "--action", "witness.refusal", "--json"]);
    assert!(entries.status.success(), "{}", stderr(&entries));
    assert!(stdout(&entries).contains(&format!("witness:{witness_name}")), "{}", stdout(&entries));
    assert!(served.stop().success());
}
