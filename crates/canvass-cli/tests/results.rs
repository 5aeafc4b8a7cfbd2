//! `canvass results` through the real binary (issue 7): the real Clarke County, GA precinct file
//! imports against a definition built from its own names; `results show` prints the file's
//! own totals; re-importing it is no change; an edited copy is refused as already reported with
//! different numbers and accepted with --correction; a CSV sent as Clarity is refused with
//! every problem and nothing written; certification without an approved request is refused.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

#[path = "../../canvass-server/tests/support/results_definition.rs"]
mod results_definition;

use std::{fs, path::Path};

use canvass_store::Store;
use results_definition::{definition_from_file, file_total, state_of};
use support::{Served, admin_bearer, enrol_second_factor, init_node, mint_token, request, run, stderr, stdout};

const CLARKE: &str = "../../../shared/data/results/openelections-ga/20181106__ga__general__clarke__precinct.csv";
const GEORGIA: &str = "ocd-division/country:us/state:ga";
const ELECTION: &str = "ga-2018-general";
const STAFF_PASSWORD: &str = "a sound staff password";

fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// Stores the definition built from the Clarke file straight into the node's database (the
/// election importers are another command's job).
fn add_definition(data: &Path) -> (canvass_formats::reported::ReportedResults, usize) {
    let reported = canvass_formats::openelections::read(fs::read(CLARKE).unwrap().as_slice()).unwrap();
    let definition = definition_from_file(
        &reported,
        ELECTION,
        "2018 General",
        time::Date::from_calendar_date(2018, time::Month::November, 6).unwrap(),
        GEORGIA,
        "clarke",
        "Clarke",
    );
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store =
            canvass_store_sqlite::SqliteStore::open(&data.join("canvass.db"), canvass_store_sqlite::OpenMode::Existing)
                .await
                .unwrap();
        store.insert_jurisdiction(&state_of(&definition, "Georgia")).await.unwrap();
        store.insert_election_definition(&definition).await.unwrap();
        store.close().await;
    });
    (reported, definition.precincts.len())
}

fn changes(data: &Path) -> usize {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store =
            canvass_store_sqlite::SqliteStore::open(&data.join("canvass.db"), canvass_store_sqlite::OpenMode::Existing)
                .await
                .unwrap();
        let election = canvass_core::id::ElectionId::parse(ELECTION).unwrap();
        let count = store.results_changes(&election).await.unwrap().len();
        store.close().await;
        count
    })
}

#[test]
fn clarke_county_imports_shows_its_totals_and_takes_corrections_only_with_a_reason() {
    assert!(Path::new(CLARKE).exists(), "{CLARKE} is missing: the test reads it from shared/data");
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data_text = data.to_str().unwrap().to_owned();
    let (reported, precincts) = add_definition(&data);
    let county = format!("{GEORGIA}/county:clarke");
    let password = directory.path().join("staff-password");
    fs::write(&password, STAFF_PASSWORD).unwrap();
    let password_text = password.to_str().unwrap().to_owned();
    for user in ["reporter1", "reporter2"] {
        let output = run(&[
            "user",
            "add",
            "--data",
            &data_text,
            "--username",
            user,
            "--role",
            "results_reporter",
            "--jurisdiction",
            &county,
            "--password-file",
            &password_text,
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
    }
    // Each code works once and enrolment used the previous step: two commands per reporter.
    let now = unix_seconds();
    let mut codes = Vec::new();
    for user in ["reporter1", "reporter2"] {
        let secret = enrol_second_factor(&data, user);
        codes.push((user, secret.code_at(now)));
        codes.push((user, secret.code_at(now + 30)));
    }
    let mut codes = codes.into_iter();
    let mut import = |format: &str, file: &Path, correction: Option<&str>| {
        let (user, code) = codes.next().unwrap();
        let file = file.to_str().unwrap();
        let mut arguments = vec![
            "results",
            "import",
            "--data",
            &data_text,
            "--election",
            ELECTION,
            "--format",
            format,
            file,
            "--user",
            user,
            "--password-file",
            &password_text,
            "--totp-code",
            &code,
        ];
        if let Some(reason) = correction {
            arguments.extend(["--correction", reason]);
        }
        run(&arguments)
    };
    let clarke = Path::new(CLARKE);

    let output = import("openelections", clarke, None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("as change 1"), "{}", stdout(&output));

    let show = run(&["results", "show", "--data", &data_text, "--election", ELECTION]);
    assert!(show.status.success(), "{}", stderr(&show));
    let shown = stdout(&show);
    for (contest, choice) in [("Governor", "BRIAN KEMP"), ("Governor", "STACEY ABRAMS")] {
        let total = file_total(&reported, contest, choice);
        assert!(total > 1000, "{choice}: {total}");
        assert!(shown.contains(&format!("  {choice}: {total}\n")), "{choice} {total} not in:\n{shown}");
    }
    assert!(precincts > 20, "{precincts}");
    assert!(shown.contains(&format!("Precincts reporting: {precincts} of {precincts}\n")), "{shown}");
    assert!(shown.contains(&format!("  Clarke: {precincts} of {precincts}\n")), "{shown}");

    let output = import("openelections", clarke, None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("No change"), "{}", stdout(&output));
    assert_eq!(changes(&data), 1, "re-importing the same numbers takes no sequence");

    let text = fs::read_to_string(CLARKE).unwrap();
    let edited = directory.path().join("edited.csv");
    fs::write(
        &edited,
        text.replacen(
            "Clarke,1A W'ville Train Depot,Governor,,REP,BRIAN KEMP,604,35,169,400,0",
            "Clarke,1A W'ville Train Depot,Governor,,REP,BRIAN KEMP,605,35,169,401,0",
            1,
        ),
    )
    .unwrap();
    let output = import("openelections", &edited, None);
    assert!(!output.status.success());
    let error = stderr(&output);
    assert!(error.contains("line 2") && error.contains("already reported with different numbers"), "{error}");
    assert_eq!(changes(&data), 1, "a refusal writes nothing");

    let output = import("openelections", &edited, Some("hand count of precinct 1A"));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("Corrected 1 precincts"), "{}", stdout(&output));
    let show = run(&["results", "show", "--data", &data_text, "--election", ELECTION]);
    let shown = stdout(&show);
    let kemp = file_total(&reported, "Governor", "BRIAN KEMP") + 1;
    assert!(shown.contains(&format!("  BRIAN KEMP: {kemp}\n")), "{shown}");
    assert!(shown.contains("correction (hand count of precinct 1A)"), "{shown}");
}

#[test]
fn refusals_list_every_problem_and_certification_needs_an_approved_request() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data_text = data.to_str().unwrap().to_owned();
    add_definition(&data);
    let password = directory.path().join("staff-password");
    fs::write(&password, STAFF_PASSWORD).unwrap();
    let county = format!("{GEORGIA}/county:clarke");
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
        &county,
        "--password-file",
        password.to_str().unwrap(),
    ]);
    assert!(added.status.success(), "{}", stderr(&added));
    let reporter = enrol_second_factor(&data, "reporter");
    let admin = enrol_second_factor(&data, "admin");
    let admin_password = directory.path().join("admin-password");
    let now = unix_seconds();
    let command = |words: &[&str], user: &str, password: &Path, code: String| {
        let mut arguments: Vec<String> = words.iter().map(|word| (*word).to_owned()).collect();
        arguments.extend([
            "--data".to_owned(),
            data_text.clone(),
            "--user".into(),
            user.into(),
            "--password-file".into(),
            password.to_str().unwrap().into(),
            "--totp-code".into(),
            code,
        ]);
        run(&arguments.iter().map(String::as_str).collect::<Vec<_>>())
    };

    // A CSV declared as Clarity: refused with the reason, nothing written.
    let output = command(
        &["results", "import", "--election", ELECTION, "--format", "clarity", CLARKE],
        "reporter",
        &password,
        reporter.code_at(now),
    );
    assert!(!output.status.success());
    let error = stderr(&output);
    assert!(error.contains("refused") && error.contains("not a clarity results file"), "{error}");
    assert!(!error.contains("panicked"), "{error}");
    assert_eq!(changes(&data), 0);

    // Certification without an approved request is refused and says how to get one.
    let output = command(&["results", "certify", "--election", ELECTION], "admin", &admin_password, admin.code_at(now));
    assert!(!output.status.success());
    assert!(stderr(&output).contains("needs a second administrator's approval"), "{}", stderr(&output));
    assert_eq!(changes(&data), 0);

    // The request is made through the API and approved by a second administrator.
    let approver_password = directory.path().join("approver-password");
    fs::write(&approver_password, "the approver's own long password").unwrap();
    let set = run(&[
        "admin",
        "set-password",
        "--data",
        &data_text,
        "--user",
        "approver",
        "--password-file",
        approver_password.to_str().unwrap(),
    ]);
    assert!(set.status.success(), "{}", stderr(&set));
    let approver = format!("Bearer {}", mint_token(&data, "approver", "state_administrator", None));
    let served = Served::start(&["--data", &data_text], &[]).unwrap();
    let bearer = admin_bearer(&data);
    let body = serde_json::json!({ "justification": "the state canvass is complete" }).to_string();
    let path = format!("/api/elections/{ELECTION}/certify");
    let made = request(served.admin, "POST", &path, &[("Authorization", bearer.as_str())], Some(&body));
    assert_eq!(made.status, 201, "{}", made.body);
    let id = made.json()["id"].as_str().unwrap().to_owned();
    let approve = format!("/api/requests/{id}/approve");
    let approved = request(served.admin, "POST", &approve, &[("Authorization", approver.as_str())], None);
    assert_eq!(approved.status, 200, "{}", approved.body);
    served.stop();

    let output = command(
        &["results", "certify", "--election", ELECTION, "--request", &id],
        "admin",
        &admin_password,
        admin.code_at(now + 30),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("Certified the results"), "{}", stdout(&output));
    assert_eq!(changes(&data), 1);
    let show = run(&["results", "show", "--data", &data_text, "--election", ELECTION]);
    assert!(stdout(&show).contains(", certified") && stdout(&show).contains("certification"), "{}", stdout(&show));

    let help = run(&["results", "import", "--help"]);
    assert!(stdout(&help).contains("--correction"), "{}", stdout(&help));
    let unknown = run(&["results", "show", "--data", &data_text, "--election", "no-such-election"]);
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("no election no-such-election"), "{}", stderr(&unknown));
}
