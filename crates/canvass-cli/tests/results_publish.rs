//! Election night end to end through the real binary (issue 7): NIST's GEN-01 definition is
//! imported with `canvass election import`, its results with `canvass results import` by a
//! results reporter, a running `canvass serve` publishes the accepted change as a signed
//! snapshot on `/results/`, `canvass results publish --to DIR` writes the same site as static
//! files, and `canvass results verify` passes on both the directory and the live URL, and fails
//! naming the file once a published number is edited.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    fs,
    path::Path,
    time::{Duration, Instant},
};

use support::{Served, enrol_second_factor, get, init_node, run, stderr, stdout};

const DEFINITION: &str =
    "../../../shared/data/nist/cdf-test-method/test_data/synthetic/gen-01/err_v2/pe-err-gen-01.xml";
const RESULTS: &str = "../../../shared/data/nist/cdf-test-method/test_data/synthetic/gen-01/err_v2/err-gen-01.xml";
const STATE: &str = "ocd-division/country:us/state:ex";
const ELECTION: &str = "gen-01";
const STAFF_PASSWORD: &str = "a sound staff password";

fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn signed(arguments: &[&str], user: &str, password: &Path, code: &str) -> std::process::Output {
    let mut all: Vec<&str> = arguments.to_vec();
    all.extend(["--user", user, "--password-file", password.to_str().unwrap(), "--totp-code", code]);
    run(&all)
}

/// Waits until the node serves the snapshot's ledger proof (its entry is integrated into a
/// signed checkpoint about a second after publication).
fn wait_for_ledger_proof(served: &Served, sequence: u64) {
    let started = Instant::now();
    while get(served.public, &format!("/results/{ELECTION}/s/{sequence}/ledger.json")).status != 200 {
        assert!(started.elapsed() < Duration::from_secs(60), "no ledger proof: {}", served.logged());
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Waits until the node serves the election's pointer (the background publisher looks every
/// two seconds); returns its JSON.
fn wait_for_pointer(served: &Served) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let response = get(served.public, &format!("/results/{ELECTION}/current.json"));
        if response.status == 200 {
            return response.json();
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no snapshot published: {}", served.logged());
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn imported_results_are_published_signed_written_out_and_verified() {
    assert!(Path::new(RESULTS).exists(), "{RESULTS} is missing: NIST's examples are read from shared/data");
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data_text = data.to_str().unwrap().to_owned();
    let added = run(&[
        "jurisdiction",
        "add",
        "--data",
        &data_text,
        "--id",
        STATE,
        "--name",
        "Example State",
        "--kind",
        "state",
    ]);
    assert!(added.status.success(), "{}", stderr(&added));
    let password = directory.path().join("staff-password");
    fs::write(&password, STAFF_PASSWORD).unwrap();
    let admin_password = directory.path().join("admin-password");
    let added = run(&[
        "user",
        "add",
        "--data",
        &data_text,
        "--username",
        "reporter",
        "--role",
        "results_reporter",
        "--jurisdiction",
        STATE,
        "--password-file",
        password.to_str().unwrap(),
    ]);
    assert!(added.status.success(), "{}", stderr(&added));
    let admin = enrol_second_factor(&data, "admin");
    let reporter = enrol_second_factor(&data, "reporter");
    let now = unix_seconds();

    let defined = signed(
        &[
            "election",
            "import",
            "--data",
            &data_text,
            "--jurisdiction",
            STATE,
            "--format",
            "nist-xml",
            "--election",
            ELECTION,
            DEFINITION,
        ],
        "admin",
        &admin_password,
        &admin.code_at(now),
    );
    assert!(defined.status.success(), "{}", stderr(&defined));

    let imported = signed(
        &["results", "import", "--data", &data_text, "--election", ELECTION, "--format", "nist-xml", RESULTS],
        "reporter",
        &password,
        &reporter.code_at(now),
    );
    assert!(imported.status.success(), "{}", stderr(&imported));

    // A running node publishes what the command accepted.
    let served = Served::start(&["--data", &data_text], &[]).unwrap();
    let pointer = wait_for_pointer(&served);
    assert_eq!(pointer["election"], ELECTION);
    let sequence = pointer["sequence"].as_u64().unwrap();
    let summary = get(served.public, &format!("/results/{ELECTION}/s/{sequence}/summary.json"));
    assert_eq!(summary.status, 200);
    assert!(summary.header("cache-control").unwrap().contains("immutable"));
    let page = get(served.public, &format!("/results/{ELECTION}/s/{sequence}/index.html"));
    assert_eq!(page.status, 200);

    for earlier in 1..=sequence {
        wait_for_ledger_proof(&served, earlier);
    }
    let live = run(&["results", "verify", &format!("http://{}/results/", served.public)]);
    assert!(live.status.success(), "{}{}", stdout(&live), stderr(&live));

    let site = directory.path().join("site");
    let written =
        run(&["results", "publish", "--data", &data_text, "--election", ELECTION, "--to", site.to_str().unwrap()]);
    assert!(written.status.success(), "{}", stderr(&written));
    let verified = run(&["results", "verify", site.to_str().unwrap()]);
    assert!(verified.status.success(), "{}{}", stdout(&verified), stderr(&verified));

    // An edited number in a published file is caught, naming the file.
    let summary_path = site.join(ELECTION).join("s").join(sequence.to_string()).join("summary.json");
    let text = fs::read_to_string(&summary_path).unwrap();
    let edited = edit_first_count(&text);
    assert_ne!(edited, text);
    fs::write(&summary_path, edited).unwrap();
    let caught = run(&["results", "verify", site.to_str().unwrap()]);
    assert!(!caught.status.success(), "an edited number passed verification");
    let report = format!("{}{}", stdout(&caught), stderr(&caught));
    assert!(report.contains("summary.json"), "{report}");
    served.stop();
}

/// Adds one to the first `"votes": N` (or `"total": N`) in the JSON text.
fn edit_first_count(text: &str) -> String {
    for key in ["\"votes\":", "\"total\":"] {
        if let Some(start) = text.find(key) {
            let digits_start =
                start + key.len() + text[start + key.len()..].find(|c: char| c.is_ascii_digit()).unwrap();
            let digits_end = digits_start
                + text[digits_start..].find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len() - digits_start);
            let number: u64 = text[digits_start..digits_end].parse().unwrap();
            return format!("{}{}{}", &text[..digits_start], number + 1, &text[digits_end..]);
        }
    }
    text.to_owned()
}
