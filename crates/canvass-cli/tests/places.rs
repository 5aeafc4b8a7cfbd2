//! `canvass places import` through the real binary (issue 6): a staff member signs in
//! (password and TOTP, no key ring: polling places are public), the public VIP 5 sample imports
//! into a county whose precincts it names, with a summary of places and matched and unmatched
//! precincts; bad input is refused with one clear line and changes nothing; a re-import
//! replaces the places. The demo prints a voter of its imported roll whose lookup names a
//! polling place.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fs;

use support::{Served, assert_refused, enrol_second_factor, init_node, post_form, run, stderr, stdout};

const SAMPLE: &str = "../../../shared/data/vip5/sample_feed_v5.xml";
const STATE: &str = "ocd-division/country:us/state:va";
const COUNTY: &str = "ocd-division/country:us/state:va/county:albemarle";

fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[test]
fn places_import_reports_matches_refuses_bad_input_and_replaces_on_reimport() {
    assert!(std::path::Path::new(SAMPLE).exists(), "{SAMPLE} is missing: the VIP sample is read from shared/data");
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data_text = data.to_str().unwrap();
    let mut steps = vec![
        vec!["jurisdiction", "add", "--data", data_text, "--id", STATE, "--name", "Virginia", "--kind", "state"],
        vec![
            "jurisdiction",
            "add",
            "--data",
            data_text,
            "--id",
            COUNTY,
            "--name",
            "Albemarle County",
            "--kind",
            "county",
            "--parent",
            STATE,
        ],
    ];
    let precincts = [("0203", "Georgetown"), ("0103", "Branchlands"), ("0999", "Nowhere")];
    let ids: Vec<String> = precincts.iter().map(|(code, _)| format!("{COUNTY}/precinct:{code}")).collect();
    for ((_, name), id) in precincts.iter().zip(&ids) {
        steps.push(vec!["precinct", "add", "--data", data_text, "--id", id, "--jurisdiction", COUNTY, "--name", name]);
    }
    for step in &steps {
        let output = run(step);
        assert!(output.status.success(), "{step:?}: {}", stderr(&output));
    }
    let password = directory.path().join("admin-password");
    let authenticator = enrol_second_factor(&data, "admin");
    let import = |jurisdiction: &str, file: &str, code: Option<String>| {
        let mut arguments = vec![
            "places".to_owned(),
            "import".into(),
            "--data".into(),
            data_text.to_owned(),
            "--jurisdiction".into(),
            jurisdiction.to_owned(),
            "--format".into(),
            "vip5".into(),
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

    let output = import(COUNTY, SAMPLE, Some(authenticator.code_at(unix_seconds())));
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    assert!(printed.contains("Imported 4 polling places"), "{printed}");
    assert!(printed.contains("2 precincts matched"), "{printed}");
    assert!(printed.contains("Unmatched feed precincts") && printed.contains("pre99999"), "{printed}");
    assert!(printed.contains(&format!("1 precincts of {COUNTY} have no polling place: {}", ids[2])), "{printed}");

    // Refused before anyone signs in (no code is spent), each with one clear line.
    let not_xml = directory.path().join("voters.tsv");
    fs::write(&not_xml, "county_id\tcounty_desc\n1\tALAMANCE\n").unwrap();
    let not_vip = directory.path().join("results.xml");
    fs::write(&not_vip, "<ElectionReport><Election/></ElectionReport>").unwrap();
    let missing = directory.path().join("missing.xml");
    let cases = [
        (COUNTY, missing.to_str().unwrap(), "is not a file"),
        (COUNTY, not_xml.to_str().unwrap(), "is not a VIP 5 feed"),
        (COUNTY, not_vip.to_str().unwrap(), "not <VipObject>"),
        ("ocd-division/country:us/state:va/county:nowhere", SAMPLE, "does not exist"),
        ("not a jurisdiction id", SAMPLE, "jurisdiction"),
    ];
    for (jurisdiction, file, expected) in cases {
        assert_refused(&import(jurisdiction, file, None), expected);
    }
    let wrong_format =
        run(&["places", "import", "--data", data_text, "--jurisdiction", COUNTY, "--format", "csv", SAMPLE]);
    assert!(!wrong_format.status.success() && !stderr(&wrong_format).contains("panicked"));

    // The re-import replaces the four places the first left, which the refusals did not touch.
    let output = import(COUNTY, SAMPLE, Some(authenticator.code_at(unix_seconds() + 30)));
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    assert!(printed.contains("Imported 4 polling places"), "{printed}");
    assert!(printed.contains(&format!("They replace the 4 polling places {COUNTY} had.")), "{printed}");
}

#[test]
fn the_demo_prints_a_voter_whose_lookup_names_a_polling_place() {
    let served = Served::start(&["--demo"], &[]).unwrap();
    let line = served.printed.lines().find(|line| line.contains("Am I registered?")).unwrap_or_else(|| {
        panic!("the demo prints no voter to look up: {}", served.printed);
    });
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
    let page = post_form(served.public, "/lookup/registration", &fields);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("You are registered to vote."), "{}", page.body);
    assert!(page.body.contains("Your polling place on election day"), "{}", page.body);
    assert!(page.body.contains("Elementary School"), "{}", page.body);
    assert!(served.stop().success());
}
