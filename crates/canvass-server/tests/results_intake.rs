//! Election-night results intake through the admin API (issue 7): real county files (Clarity
//! ENR XML, Clarke County GA's OpenElections CSV) import against definitions built from their
//! own names; every kind of bad file is refused with the line or element and rule, as a denied
//! ledger entry, and changes nothing; a county's reporter cannot send another county's
//! precincts; corrections need a reason; certification needs a second person.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use canvass_core::{
    access::{Grant, StaffRole},
    credential::Username,
    id::{ElectionId, JurisdictionId},
    jurisdiction::{Jurisdiction, JurisdictionKind},
    name::Name,
    results::ElectionDefinition,
};
use canvass_crypto::SecretString;
use canvass_formats::{clarity, openelections, reported::ReportedResults};
use canvass_server::{access, admin_app, staff};
use canvass_store::{LedgerQuery, Store};
use support::{
    PASSWORD, TestNode,
    results_definition::{definition_from_file, file_total, state_of},
    send, test_node, with_token,
};
use time::macros::date;

const CLARKE: &str = "../../../shared/data/results/openelections-ga/20181106__ga__general__clarke__precinct.csv";
const CLARITY: &str = "../../../shared/data/results/clarity/precinct.xml";
const GEORGIA: &str = "ocd-division/country:us/state:ga";
const KENTUCKY: &str = "ocd-division/country:us/state:ky";

fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|_| panic!("{path} is missing: these tests read it from shared/data"))
}

fn clarke_definition() -> (ElectionDefinition, ReportedResults) {
    let reported = openelections::read(read(CLARKE).as_slice()).unwrap();
    assert!(reported.problems.is_empty(), "{:?}", reported.problems);
    let definition = definition_from_file(
        &reported,
        "ga-2018-general",
        "2018 General",
        date!(2018 - 11 - 06),
        GEORGIA,
        "clarke",
        "Clarke",
    );
    (definition, reported)
}

fn clarity_definition() -> (ElectionDefinition, ReportedResults) {
    let reported = clarity::read(read(CLARITY).as_slice()).unwrap();
    assert!(reported.problems.is_empty(), "{:?}", reported.problems);
    let definition = definition_from_file(
        &reported,
        "ky-2014-primary",
        "2014 Primary Election",
        date!(2014 - 05 - 20),
        KENTUCKY,
        "greenup",
        "Greenup",
    );
    (definition, reported)
}

async fn store_definition(test: &TestNode, definition: &ElectionDefinition, state_name: &str) {
    let store = test.node.store();
    store.insert_jurisdiction(&state_of(definition, state_name)).await.unwrap();
    store.insert_election_definition(definition).await.unwrap();
}

fn upload(token: &str, election: &str, query: &str, body: Vec<u8>) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(format!("/api/elections/{election}/results?{query}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from(body))
        .unwrap()
}

async fn results(app: &Router, token: &str, election: &str) -> serde_json::Value {
    let reply = send(app, with_token(token, Method::GET, &format!("/api/elections/{election}/results"), None)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()
}

/// What the store holds for the election: changes and precinct returns.
async fn stored(store: &dyn Store, election: &str) -> (usize, usize) {
    let election = ElectionId::parse(election).unwrap();
    (store.results_changes(&election).await.unwrap().len(), store.precinct_returns(&election).await.unwrap().len())
}

/// A staff member with one role and an API token for it.
async fn member(test: &TestNode, name: &str, role: StaffRole, jurisdiction: Option<&str>) -> String {
    let store = test.node.store();
    let audit = test.node.system_audit();
    let username = Username::parse(name).unwrap();
    staff::add_account(store, &audit, &username, None, SecretString::from(PASSWORD)).await.unwrap();
    let grant = Grant::permanent(role, jurisdiction.map(|id| JurisdictionId::parse(id).unwrap()));
    staff::grant(store, &audit, &username, &grant).await.unwrap();
    access::issue_token(store, &audit, &username, &grant, "test", 1).await.unwrap().1
}

/// The Clarke file with the first data row's numbers changed by one vote (still summing).
fn clarke_edited() -> Vec<u8> {
    let text = String::from_utf8(read(CLARKE)).unwrap();
    let edited = text.replacen(
        "Clarke,1A W'ville Train Depot,Governor,,REP,BRIAN KEMP,604,35,169,400,0",
        "Clarke,1A W'ville Train Depot,Governor,,REP,BRIAN KEMP,605,35,169,401,0",
        1,
    );
    assert_ne!(edited, text, "the first row of the Clarke file changed");
    edited.into_bytes()
}

#[tokio::test]
async fn clarity_file_imports_by_names_and_re_import_is_no_change() {
    let test = test_node("", false).await;
    let app = admin_app(test.node.clone());
    let (definition, reported) = clarity_definition();
    store_definition(&test, &definition, "Kentucky").await;
    let election = "ky-2014-primary";

    let reply = send(&app, upload(&test.admin_token, election, "format=clarity", read(CLARITY))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["outcome"], "reported");
    assert_eq!(reply.json()["sequence"], 1);
    assert_eq!(reply.json()["precincts"], definition.precincts.len());

    let view = results(&app, &test.admin_token, election).await;
    let contest = &definition.contests[0];
    let first_choice = contest.choices[0].name.as_str();
    let expected = file_total(&reported, &reported.counts[0].contest, first_choice);
    assert!(expected > 0);
    assert_eq!(view["tally"]["state"]["contests"][contest.id.as_str()]["choices"][0]["total"], expected);
    assert_eq!(view["tally"]["state"]["precincts_reporting"], definition.precincts.len());
    let ballots: u64 = reported.precincts.iter().filter_map(|precinct| precinct.ballots_cast).sum();
    assert_eq!(view["tally"]["state"]["ballots_cast"]["total"], ballots);
    assert_eq!(view["changes"][0]["kind"], "report");

    let again = send(&app, upload(&test.admin_token, election, "format=clarity", read(CLARITY))).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.json()["outcome"], "unchanged");
    assert_eq!(stored(test.node.store(), election).await.0, 1, "no new sequence for the same numbers");

    // The same file cut off half-way is refused before any name is looked at.
    let whole = read(CLARITY);
    let truncated = whole[..whole.len() / 2].to_vec();
    let reply = send(&app, upload(&test.admin_token, election, "format=clarity", truncated)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert_eq!(reply.error_code(), "results_refused");
    assert_eq!(stored(test.node.store(), election).await.0, 1);
}

#[tokio::test]
async fn corrections_need_a_reason_and_certification_a_second_person() {
    let test = test_node("", false).await;
    let app = admin_app(test.node.clone());
    let (definition, _) = clarke_definition();
    store_definition(&test, &definition, "Georgia").await;
    let election = "ga-2018-general";
    let admin = test.admin_token.clone();

    let reply = send(&app, upload(&admin, election, "format=openelections", read(CLARKE))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = send(&app, upload(&admin, election, "format=openelections", clarke_edited())).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert!(
        reply.body.contains("line 2") && reply.body.contains("already reported with different numbers"),
        "{}",
        reply.body
    );
    assert_eq!(stored(test.node.store(), election).await, (1, definition.precincts.len()));
    let reply = send(&app, upload(&admin, election, "format=openelections&correction=", clarke_edited())).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "a correction needs its reason: {}", reply.body);
    let reply =
        send(&app, upload(&admin, election, "format=openelections&correction=hand%20count", clarke_edited())).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["outcome"], "corrected");
    assert_eq!(reply.json()["precincts"], 1, "only the precinct whose numbers changed");
    let view = results(&app, &admin, election).await;
    assert_eq!(view["changes"][1]["kind"], "correction");
    assert_eq!(view["changes"][1]["reason"], "hand count");

    // Certification: a request, approved by someone else, run by the requester.
    let second = member(&test, "second", StaffRole::StateAdministrator, Some(GEORGIA)).await;
    let body = serde_json::json!({ "justification": "canvass complete" }).to_string();
    let made =
        send(&app, with_token(&admin, Method::POST, &format!("/api/elections/{election}/certify"), Some(&body))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let id = made.json()["id"].as_str().unwrap().to_owned();
    let early = send(&app, with_token(&admin, Method::POST, &format!("/api/requests/{id}/run"), None)).await;
    assert!(!early.status.is_success(), "not yet approved: {}", early.body);
    let own = send(&app, with_token(&admin, Method::POST, &format!("/api/requests/{id}/approve"), None)).await;
    assert!(!own.status.is_success(), "the requester cannot approve: {}", own.body);
    assert_eq!(results(&app, &admin, election).await["certified"], false);
    let approved = send(&app, with_token(&second, Method::POST, &format!("/api/requests/{id}/approve"), None)).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    let ran = send(&app, with_token(&admin, Method::POST, &format!("/api/requests/{id}/run"), None)).await;
    assert_eq!(ran.status, StatusCode::OK, "{}", ran.body);
    let view = results(&app, &admin, election).await;
    assert_eq!(view["certified"], true);
    assert_eq!(view["changes"][2]["kind"], "certification");

    // After certification, new numbers need a correction with a reason.
    let reverted = send(&app, upload(&admin, election, "format=openelections", read(CLARKE))).await;
    assert_eq!(reverted.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reverted.body);
    assert!(reverted.body.contains("certified"), "{}", reverted.body);
    let corrected =
        send(&app, upload(&admin, election, "format=openelections&correction=audit%20found%20error", read(CLARKE)))
            .await;
    assert_eq!(corrected.status, StatusCode::OK, "{}", corrected.body);
    assert_eq!(stored(test.node.store(), election).await.0, 4);
}

#[tokio::test]
async fn bad_files_are_refused_with_their_line_or_element_and_change_nothing() {
    let test = test_node("", false).await;
    let app = admin_app(test.node.clone());
    let (definition, _) = clarke_definition();
    store_definition(&test, &definition, "Georgia").await;
    let election = "ga-2018-general";
    let admin = test.admin_token.clone();
    let text = String::from_utf8(read(CLARKE)).unwrap();
    let first_row = "Clarke,1A W'ville Train Depot,Governor,,REP,BRIAN KEMP,604,35,169,400,0";
    let edit = |with: &str| text.replacen(first_row, with, 1).into_bytes();
    // One precinct's Governor rows alone, with a ballots-cast row far below their votes.
    let governor_rows: Vec<&str> =
        text.lines().filter(|line| line.starts_with("Clarke,1A W'ville Train Depot,Governor,")).collect();
    let header_and_first = format!("{}\n{}\n", text.lines().next().unwrap(), governor_rows.join("\n"));
    let cut = text.len() / 2;

    let cases: Vec<(&str, &str, Vec<u8>, Vec<&str>)> = vec![
        (
            "unknown contest",
            "openelections",
            edit(&first_row.replace("Governor", "Dogcatcher")),
            vec!["line 2: unknown contest"],
        ),
        (
            "unknown candidate",
            "openelections",
            edit(&first_row.replace("BRIAN KEMP", "NOBODY")),
            vec!["line 2: unknown candidate"],
        ),
        (
            "unknown precinct",
            "openelections",
            edit(&first_row.replace("1A W'ville", "9Z Nowhere")),
            vec!["line 2: unknown precinct"],
        ),
        (
            "parts that do not sum",
            "openelections",
            edit(&first_row.replace(",604,", ",700,")),
            vec!["line 2: the vote types sum to 604"],
        ),
        (
            "more votes than ballots cast",
            "openelections",
            format!("{header_and_first}Clarke,1A W'ville Train Depot,Ballots Cast,,,,10,,,,\n").into_bytes(),
            vec!["line 2 (contest contest-1): 1531 votes is more than 10 ballots cast times vote-for 1"],
        ),
        (
            "a file for another election",
            "clarity",
            read(CLARITY),
            vec![
                "element ElectionName: the file is for the election \"2014 Primary Election\"",
                "element ElectionDate: the file is for an election on 2014-05-20",
            ],
        ),
        ("a truncated file", "openelections", text.as_bytes()[..cut].to_vec(), vec!["fields; the header has 11"]),
        ("a CSV sent as Clarity", "clarity", read(CLARKE), vec!["the file is not a clarity results file"]),
        ("an empty file", "openelections", Vec::new(), vec!["the file is not a openelections results file"]),
    ];
    for (what, format, body, expected) in cases {
        let reply = send(&app, upload(&admin, election, &format!("format={format}"), body)).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {}", reply.body);
        assert_eq!(reply.error_code(), "results_refused", "{what}");
        let message = reply.json()["error"]["message"].as_str().unwrap().to_owned();
        for fragment in expected {
            assert!(message.contains(fragment), "{what}: {fragment:?} not in {message}");
        }
        assert_eq!(stored(test.node.store(), election).await, (0, 0), "{what}: nothing written");
    }
    let reply = send(&app, upload(&admin, election, "format=pdf", read(CLARKE))).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let reply = send(&app, upload(&admin, "no-such-election", "format=openelections", read(CLARKE))).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);

    // Every refusal is a denied entry in the ledger.
    let query = LedgerQuery {
        action: Some("results.report".into()),
        outcome: Some("denied".into()),
        limit: 100,
        ..LedgerQuery::default()
    };
    let entries = test.node.store().search_ledger(&query).await.unwrap();
    assert_eq!(entries.len(), 9, "one denied entry per refused file");
    assert!(entries.iter().all(|entry| String::from_utf8_lossy(&entry.body).contains("results_refused")));
}

#[tokio::test]
async fn a_county_reporter_cannot_upload_another_countys_precincts() {
    let test = test_node("", false).await;
    let app = admin_app(test.node.clone());
    let (definition, _) = clarke_definition();
    store_definition(&test, &definition, "Georgia").await;
    let oconee = Jurisdiction {
        id: JurisdictionId::parse(&format!("{GEORGIA}/county:oconee")).unwrap(),
        name: Name::parse("Oconee").unwrap(),
        kind: JurisdictionKind::County,
        parent: Some(JurisdictionId::parse(GEORGIA).unwrap()),
    };
    test.node.store().insert_jurisdiction(&oconee).await.unwrap();
    let election = "ga-2018-general";
    let clarke = definition.counties[0].id.to_string();

    let neighbour = member(&test, "oconee-reporter", StaffRole::ResultsReporter, Some(oconee.id.as_str())).await;
    let reply = send(&app, upload(&neighbour, election, "format=openelections", read(CLARKE))).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(stored(test.node.store(), election).await, (0, 0));
    let observer = member(&test, "clarke-observer", StaffRole::Observer, Some(&clarke)).await;
    let reply = send(&app, upload(&observer, election, "format=openelections", read(CLARKE))).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);

    let own = member(&test, "clarke-reporter", StaffRole::ResultsReporter, Some(&clarke)).await;
    let reply = send(&app, upload(&own, election, "format=openelections", read(CLARKE))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["county"], clarke);
    assert_eq!(stored(test.node.store(), election).await, (1, definition.precincts.len()));
}

#[tokio::test]
async fn the_demo_reports_two_counties_through_the_intake_and_shows_the_third_as_not_reported() {
    let test = test_node("", true).await;
    let app = admin_app(test.node.clone());
    let content = &test.demo.as_ref().unwrap().content;
    let election = content.election.id.to_string();
    let view = results(&app, &test.admin_token, &election).await;
    let counties: Vec<&Jurisdiction> =
        content.jurisdictions.iter().filter(|it| it.kind == JurisdictionKind::County).collect();
    assert_eq!(counties.len(), 3);
    for (index, county) in counties.iter().enumerate() {
        let area = &view["tally"]["counties"][county.id.as_str()];
        let precincts = content.precincts.iter().filter(|it| it.jurisdiction == county.id).count();
        assert_eq!(area["precincts"], precincts);
        let reporting = if index < 2 { precincts } else { 0 };
        assert_eq!(area["precincts_reporting"], reporting, "{}", county.name);
        // Turnout: ballots cast against the roll, which the demo loaded.
        let registered = area["registered"].as_u64().unwrap();
        let ballots = area["ballots_cast"]["total"].as_u64().unwrap();
        assert!(registered > 0 && ballots <= registered, "{ballots} of {registered}");
        assert_eq!(ballots > 0, index < 2);
    }
    assert_eq!(view["changes"].as_array().unwrap().len(), 1);
    assert_eq!(view["changes"][0]["kind"], "report");
    assert_eq!(view["certified"], false);
    let governor = &view["tally"]["state"]["contests"]["governor"];
    assert_eq!(governor["precincts_reporting"], 8);

    let page =
        send(&app, with_token(&test.admin_token, Method::GET, &format!("/elections/{election}/results"), None)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("not reported") && page.body.contains(counties[2].name.as_str()), "{}", page.body);
    assert!(page.body.contains("enctype=\"multipart/form-data\"") && page.body.contains("name=\"csrf\""));

    // The page shows a refused upload's every problem.
    let boundary = "page-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\nopenelections\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r.csv\"\r\nContent-Type: text/csv\r\n\r\n\
         county,precinct,office,candidate,votes\nAlder County,01 Nowhere,Governor,Rowan Examplewood,3\n\
         Alder County,01 Riverside,Dogcatcher,Rex,3\n\r\n--{boundary}--\r\n"
    );
    let request = Request::post(format!("/elections/{election}/results"))
        .header(header::AUTHORIZATION, format!("Bearer {}", test.admin_token))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .unwrap();
    let refused = send(&app, request).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains("line 2: unknown precinct"), "{}", refused.body);
    assert!(refused.body.contains("line 3: unknown contest"), "{}", refused.body);
    assert_eq!(stored(test.node.store(), &election).await.0, 1);
}

const NIST_RESULTS: &str = "../../../shared/data/nist/cdf-test-method/test_data/synthetic/gen-01/err_v2/err-gen-01";

#[tokio::test]
async fn nist_results_import_as_xml_and_the_same_numbers_as_json_are_no_change() {
    let test = test_node("", false).await;
    let app = admin_app(test.node.clone());
    let xml = read(&format!("{NIST_RESULTS}.xml"));
    let reported = canvass_formats::nist_results::read_xml(xml.as_slice()).unwrap().reported().precincts;
    assert!(reported.problems.is_empty(), "{:?}", reported.problems);
    let county = reported.counts[0].county.clone().unwrap_or_else(|| "Test County".into());
    let definition = definition_from_file(
        &reported,
        "nist-gen-01",
        reported.election_name.as_deref().unwrap(),
        reported.election_date.unwrap(),
        "ocd-division/country:us/state:zz",
        "test",
        &county,
    );
    store_definition(&test, &definition, "Test State").await;

    let reply = send(&app, upload(&test.admin_token, "nist-gen-01", "format=nist-xml", xml)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["outcome"], "reported");
    assert_eq!(reply.json()["precincts"], definition.precincts.len());
    let view = results(&app, &test.admin_token, "nist-gen-01").await;
    for contest in &definition.contests {
        for (index, choice) in contest.choices.iter().enumerate() {
            let expected: u64 = reported
                .counts
                .iter()
                .filter(|count| {
                    let name = match &count.district {
                        Some(district) => format!("{} {district}", count.contest),
                        None => count.contest.clone(),
                    };
                    name == contest.name.as_str() && count.choice == choice.name.as_str()
                })
                .map(|count| count.total)
                .sum();
            assert_eq!(view["tally"]["state"]["contests"][contest.id.as_str()]["choices"][index]["total"], expected);
        }
    }

    let json = read(&format!("{NIST_RESULTS}.json"));
    let reply = send(&app, upload(&test.admin_token, "nist-gen-01", "format=nist-json", json.clone())).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["outcome"], "unchanged", "the JSON example carries the XML's numbers");
    // JSON sent as XML is refused before anything else.
    let reply = send(&app, upload(&test.admin_token, "nist-gen-01", "format=nist-xml", json)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert!(reply.body.contains("not a nist-xml results file"), "{}", reply.body);
}

/// A state-size election (100 counties, 2,700 precincts, 60 contests): every county's file
/// goes through the intake one after the other, as on election night; the state tally then
/// equals the generated returns' sums. Prints the time of the first and last county's upload.
/// A measurement (minutes in a debug build): `cargo test -p canvass-server --release --test
/// results_intake state_size -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a measurement: run with --ignored, preferably --release"]
async fn a_state_size_election_reports_county_by_county() {
    use canvass_core::results_sample::{SampleShape, sample_election};
    let test = test_node("", false).await;
    let app = admin_app(test.node.clone());
    let mut sample = sample_election(SampleShape::STATE, date!(2026 - 11 - 03), 11).unwrap();
    // The sample repeats office names across contests; a file names contests, so each gets
    // its own name here.
    for contest in &mut sample.definition.contests {
        contest.name = Name::parse(&format!("{} {}", contest.name, contest.id)).unwrap();
    }
    test.node.store().insert_jurisdiction(&sample.state).await.unwrap();
    test.node.store().insert_election_definition(&sample.definition).await.unwrap();
    let election = sample.definition.election.id.to_string();
    let mut timings = Vec::new();
    for county in &sample.definition.counties {
        let returns: Vec<_> = sample
            .returns
            .iter()
            .filter(|it| sample.definition.precinct(&it.precinct).unwrap().jurisdiction == county.id)
            .cloned()
            .collect();
        let csv = canvass_server::demo_results::returns_csv(&sample.definition, &returns);
        let started = std::time::Instant::now();
        let reply = send(&app, upload(&test.admin_token, &election, "format=openelections", csv.into_bytes())).await;
        timings.push(started.elapsed());
        assert_eq!(reply.status, StatusCode::OK, "{}: {}", county.name, reply.body);
        assert_eq!(reply.json()["precincts"], returns.len());
    }
    println!(
        "state-size intake: first county {:?}, last county {:?}, all {} counties {:?}",
        timings[0],
        timings[timings.len() - 1],
        timings.len(),
        timings.iter().sum::<std::time::Duration>()
    );
    let view = results(&app, &test.admin_token, &election).await;
    assert_eq!(view["tally"]["state"]["precincts_reporting"], 2_700);
    let contest = &sample.definition.contests[0];
    let expected: u64 = sample
        .returns
        .iter()
        .flat_map(|it| it.contests.iter().filter(|counted| counted.contest == contest.id))
        .map(|counted| counted.choices[0].total)
        .sum();
    assert_eq!(view["tally"]["state"]["contests"][contest.id.as_str()]["choices"][0]["total"], expected);
}

/// Three counties sending at the same moment are all accepted, one change each, none bounced.
#[tokio::test]
async fn counties_uploading_at_once_are_all_accepted_in_turn() {
    use canvass_core::results_sample::{SampleShape, sample_election};
    let test = test_node("", false).await;
    let app = admin_app(test.node.clone());
    let mut sample = sample_election(SampleShape::SMALL, date!(2026 - 11 - 03), 5).unwrap();
    for contest in &mut sample.definition.contests {
        contest.name = Name::parse(&format!("{} {}", contest.name, contest.id)).unwrap();
    }
    test.node.store().insert_jurisdiction(&sample.state).await.unwrap();
    test.node.store().insert_election_definition(&sample.definition).await.unwrap();
    let election = sample.definition.election.id.to_string();
    let files: Vec<Vec<u8>> = sample
        .definition
        .counties
        .iter()
        .map(|county| {
            let returns: Vec<_> = sample
                .returns
                .iter()
                .filter(|it| sample.definition.precinct(&it.precinct).unwrap().jurisdiction == county.id)
                .cloned()
                .collect();
            canvass_server::demo_results::returns_csv(&sample.definition, &returns).into_bytes()
        })
        .collect();
    assert_eq!(files.len(), 3);
    let token = test.admin_token.clone();
    let [first, second, third] = [0, 1, 2].map(|index| {
        let app = app.clone();
        let request = upload(&token, &election, "format=openelections", files[index].clone());
        tokio::spawn(async move { send(&app, request).await })
    });
    let mut sequences = Vec::new();
    for reply in [first.await.unwrap(), second.await.unwrap(), third.await.unwrap()] {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        sequences.push(reply.json()["sequence"].as_u64().unwrap());
    }
    sequences.sort_unstable();
    assert_eq!(sequences, [1, 2, 3]);
    assert_eq!(stored(test.node.store(), &election).await, (3, 12));
}
