//! `canvass election import|list|show` through the real binary (issue 7): NIST's GEN-01
//! pre-election XML imports for a state (a staff member signs in with password and TOTP),
//! `election show` prints its contests, choices and counties, a second import changes nothing,
//! and bad input is refused with one clear line listing every problem, changing nothing.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fs;

use support::{assert_refused, enrol_second_factor, init_node, run, stderr, stdout};

const GEN_01: &str = "../../../shared/data/nist/cdf-test-method/test_data/synthetic/gen-01/err_v2/pe-err-gen-01.xml";
const STATE: &str = "ocd-division/country:us/state:ex";

fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[test]
fn election_import_list_and_show_through_the_binary() {
    assert!(std::path::Path::new(GEN_01).exists(), "{GEN_01} is missing: NIST's examples are read from shared/data");
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data_text = data.to_str().unwrap();
    let added =
        run(&["jurisdiction", "add", "--data", data_text, "--id", STATE, "--name", "Example State", "--kind", "state"]);
    assert!(added.status.success(), "{}", stderr(&added));
    let password = directory.path().join("admin-password");
    let authenticator = enrol_second_factor(&data, "admin");
    let import = |format: &str, file: &str, code: Option<String>| {
        let mut arguments = vec![
            "election".to_owned(),
            "import".into(),
            "--data".into(),
            data_text.to_owned(),
            "--jurisdiction".into(),
            STATE.to_owned(),
            "--format".into(),
            format.to_owned(),
            "--election".into(),
            "gen-01".into(),
            file.to_owned(),
            "--user".into(),
            "admin".into(),
            "--password-file".into(),
            password.to_str().unwrap().to_owned(),
        ];
        if let Some(code) = code {
            arguments.extend(["--totp-code".to_owned(), code]);
        }
        run(&arguments.iter().map(String::as_str).collect::<Vec<_>>())
    };

    // Refused before anyone signs in (no code given), each with one clear line.
    let bad_csv = directory.path().join("bad.csv");
    fs::write(
        &bad_csv,
        "election,date,kind\nBad,2026-13-01,general\ncounty,precinct,contest,kind,vote_for,choice,party\nA,,Mayor,,,Ann,\n",
    )
    .unwrap();
    assert_refused(&import("nist-json", GEN_01, None), "not a nist-json election definition");
    assert_refused(&import("csv", GEN_01, None), "not a csv election definition");
    let missing = directory.path().join("missing.xml");
    assert_refused(&import("nist-xml", missing.to_str().unwrap(), None), "is not a file");
    let listed = run(&["election", "list", "--data", data_text]);
    assert!(stdout(&listed).contains("No elections yet"), "{}", stdout(&listed));

    // A CSV with problems lists them all, also before sign-in.
    let output = import("csv", bad_csv.to_str().unwrap(), None);
    assert_refused(&output, "line 2");
    assert!(stderr(&output).contains("line 4"), "{}", stderr(&output));

    let output = import("nist-xml", GEN_01, Some(authenticator.code_at(unix_seconds())));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("Defined election gen-01"), "{}", stdout(&output));
    assert!(stdout(&output).contains("19 contests, 4 precincts in 1 counties"), "{}", stdout(&output));

    let listed = run(&["election", "list", "--data", data_text]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert!(stdout(&listed).contains("2000-11-07 gen-01 [general]"), "{}", stdout(&listed));

    let shown = run(&["election", "show", "--data", data_text, "gen-01"]);
    assert!(shown.status.success(), "{}", stderr(&shown));
    let printed = stdout(&shown);
    assert!(printed.contains("19 contests:"), "{printed}");
    assert!(printed.contains("Dog Catcher"), "{printed}");
    assert!(printed.contains("Test County"), "{printed}");
    assert!(printed.contains("Precinct 2a"), "{printed}");
    assert!(printed.contains("(Democrat)"), "{printed}");
    assert_refused(&run(&["election", "show", "--data", data_text, "nothing"]), "no election `nothing`");

    let again = import("nist-xml", GEN_01, Some(authenticator.code_at(unix_seconds() + 30)));
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stdout(&again).contains("nothing changed"), "{}", stdout(&again));
}
