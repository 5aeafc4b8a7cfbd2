//! The public "Am I registered?" lookup on the demo node: a registered voter sees status and
//! precinct; a miss, a removed voter and an address-confidential voter get byte-identical
//! answers after the same store queries and row openings; a polling-place import and a roll
//! change show in the very next lookup; bad input is a 400 naming the field; both rate limits
//! answer 429 with Retry-After.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    net::{IpAddr, SocketAddr},
    time::{Duration, Instant},
};

use axum::http::Method;
use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode, header},
};
use canvass_core::{voter::VoterRecord, voter::VoterStatus};
use canvass_formats::ncvoter::PUBLIC_COLUMNS;
use canvass_server::{admin_app, demo_roll, places_import, public_app, roll, voters};
use support::{Reply, TestNode, authorised, get, send, test_node};

/// A request from `address` (as the listener's connection info would say), or from no
/// known address.
fn from(address: Option<u8>, mut request: Request<Body>) -> Request<Body> {
    if let Some(last) = address {
        let peer = SocketAddr::new(IpAddr::from([192, 0, 2, last]), 40_000);
        request.extensions_mut().insert(ConnectInfo(peer));
    }
    request
}

fn json_request(body: &serde_json::Value) -> Request<Body> {
    Request::post("/api/public/registration")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn form_request(fields: &[(&str, &str)]) -> Request<Body> {
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    Request::post("/lookup/registration")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

struct Person {
    first: String,
    last: String,
    birth_date: String,
    county: String,
}

impl Person {
    fn of(voter: &VoterRecord) -> Self {
        Self {
            first: voter.first_name.to_string(),
            last: voter.last_name.to_string(),
            birth_date: voter.birth_date.unwrap().to_string(),
            county: voter.county.to_string(),
        }
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "first_name": self.first, "last_name": self.last, "birth_date": self.birth_date, "county": self.county,
        })
    }

    fn form(&self) -> Request<Body> {
        form_request(&[
            ("first_name", &self.first),
            ("last_name", &self.last),
            ("birth_date", &self.birth_date),
            ("county", &self.county),
        ])
    }
}

/// A voter added to the demo roll under its county's ring, with the given status.
async fn add_voter(test: &TestNode, number: &str, first: &str, last: &str, status: VoterStatus) -> Person {
    let demo = test.demo.as_ref().unwrap();
    let mut voter = demo.content.voters[0].clone();
    voter.registration_number = number.to_owned();
    voter.first_name = canvass_core::name::Name::parse(first).unwrap();
    voter.last_name = canvass_core::name::Name::parse(last).unwrap();
    voter.status = status;
    voter.birth_date = Some(time::macros::date!(1961 - 03 - 14));
    let county = voter.county.clone();
    voters::add_voters(test.node.store(), &test.node.system_audit(), test.node.keys(), &county, &[voter.clone()])
        .await
        .unwrap();
    Person::of(&voter)
}

/// A voter as a voter-file import would store one, address-confidential or not.
async fn add_imported_voter(test: &TestNode, number: &str, first: &str, confidential: bool) -> Person {
    let demo = test.demo.as_ref().unwrap();
    let template = &demo.content.voters[1];
    let ring = test.node.keys().current(test.node.store(), &template.county).await.unwrap();
    let details: Vec<String> = PUBLIC_COLUMNS
        .iter()
        .map(|column| if *column == "confidential_ind" && confidential { "Y".to_owned() } else { String::new() })
        .collect();
    let row = roll::RollRow {
        line: 2,
        registration_number: number.to_owned(),
        county: template.county.clone(),
        precinct: template.precinct.clone(),
        party: "UNA".to_owned(),
        status: VoterStatus::Active,
        registered_on: template.registered_on,
        first_name: first.to_owned(),
        last_name: "Sheltered".to_owned(),
        birth_date: Some(time::macros::date!(1975 - 07 - 01)),
        ssn_last_four: None,
        drivers_license: None,
        email: None,
        details,
    };
    let digest = roll::row_digest(&ring, &row).unwrap();
    let sealed = roll::seal_row(&ring, &row, digest).unwrap();
    test.node.store().insert_voters(&[sealed]).await.unwrap();
    Person {
        first: row.first_name,
        last: row.last_name,
        birth_date: "1975-07-01".to_owned(),
        county: template.county.to_string(),
    }
}

/// The answer's keys, sorted.
fn keys(reply: &Reply) -> Vec<String> {
    let mut keys: Vec<String> = reply.json().as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

async fn demo() -> (TestNode, Router) {
    let test = test_node("", true).await;
    let app = public_app(test.node.clone());
    (test, app)
}

fn first_active_voter(test: &TestNode) -> &VoterRecord {
    let demo = test.demo.as_ref().unwrap();
    demo.content.voters.iter().find(|voter| voter.status == VoterStatus::Active).unwrap()
}

#[tokio::test]
async fn a_registered_demo_voter_sees_status_county_and_precinct_and_nothing_else() {
    let (test, app) = demo().await;
    let voter = first_active_voter(&test);
    let demo = test.demo.as_ref().unwrap();
    let precinct = demo.content.precincts.iter().find(|p| p.id == voter.precinct).unwrap().name.to_string();
    let county = demo.content.jurisdictions.iter().find(|j| j.id == voter.county).unwrap().name.to_string();
    let person = Person::of(voter);

    let started = Instant::now();
    let reply = send(&app, from(Some(1), json_request(&person.json()))).await;
    assert!(started.elapsed() >= Duration::from_millis(5), "answers are padded to the minimum time");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let answer = reply.json();
    assert_eq!(answer["registered"], true);
    assert_eq!(answer["status"], "active");
    assert_eq!(answer["county"], county.as_str());
    assert_eq!(answer["precinct"], precinct.as_str());
    assert!(answer["polling_place"].is_null());
    assert_eq!(keys(&reply), ["county", "message", "polling_place", "precinct", "registered", "status"]);
    for secret in [&voter.registration_number, &voter.party, voter.email.as_ref().unwrap()] {
        assert!(!reply.body.contains(secret.as_str()), "the answer must not carry {secret}");
    }

    // Names typed in another case and with stray spaces still match.
    let mut shouted = Person::of(voter);
    shouted.first = format!("  {}  ", shouted.first.to_uppercase());
    let page = send(&app, from(Some(1), shouted.form())).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("You are registered to vote."), "{}", page.body);
    assert!(page.body.contains(&precinct) && page.body.contains("see your county board"));
    assert!(!page.body.contains(&voter.registration_number));
}

#[tokio::test]
async fn misses_removed_and_confidential_voters_get_byte_identical_answers() {
    let (test, app) = demo().await;
    let removed = add_voter(&test, "ZZ900001", "Gonia", "Struckoff", VoterStatus::Removed).await;
    let denied = add_voter(&test, "ZZ900002", "Denya", "Refusedon", VoterStatus::Denied).await;
    let confidential = add_imported_voter(&test, "ZZ800001", "Hiddenia", true).await;
    // The same kinds of rows without the reason to hide them are found, so the misses below
    // are the rule at work and not rows the lookup cannot see.
    let imported = add_imported_voter(&test, "ZZ800002", "Openia", false).await;
    let active = add_voter(&test, "ZZ900003", "Presentia", "Herewith", VoterStatus::Active).await;
    for (address, person) in [(1, &imported), (2, &active)] {
        let reply = send(&app, from(Some(address), json_request(&person.json()))).await;
        assert_eq!(reply.json()["registered"], true, "{}", reply.body);
    }
    let county = first_active_voter(&test).county.to_string();
    let nobody = Person {
        first: "Nobody".into(),
        last: "Atallia".into(),
        birth_date: "1990-01-02".into(),
        county: county.clone(),
    };
    let nobody_else =
        Person { first: "Another".into(), last: "Strangerton".into(), birth_date: "1950-12-31".into(), county };
    // A registered voter of the demo, looked up with the wrong date of birth.
    let mut wrong_date = Person::of(first_active_voter(&test));
    wrong_date.birth_date = "1901-01-01".into();

    let people = [&nobody, &nobody_else, &removed, &denied, &confidential, &wrong_date];
    let mut json: Vec<Reply> = Vec::new();
    let mut pages: Vec<Reply> = Vec::new();
    for (index, person) in people.iter().enumerate() {
        let address = Some(u8::try_from(10 + index).unwrap());
        json.push(send(&app, from(address, json_request(&person.json()))).await);
        pages.push(send(&app, from(address, person.form())).await);
    }
    for (reply, page) in json.iter().zip(&pages) {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(reply.json()["registered"], false);
        assert_eq!(reply.bytes, json[0].bytes, "JSON: {} vs {}", reply.body, json[0].body);
        assert_eq!(page.bytes, pages[0].bytes, "the result pages differ");
    }
    assert!(pages[0].body.contains("We could not confirm a registration with these details."));
    assert!(!pages[0].body.contains("Nobody"), "the page does not echo what was typed");
    assert_eq!(keys(&json[0]), ["county", "message", "polling_place", "precinct", "registered", "status"]);
}

#[tokio::test]
async fn missing_or_invalid_fields_are_a_400_naming_the_field() {
    let (test, app) = demo().await;
    let good = Person::of(first_active_voter(&test)).json();
    let cases: [(&str, serde_json::Value); 6] = [
        ("first_name", {
            let mut v = good.clone();
            v.as_object_mut().unwrap().remove("first_name");
            v
        }),
        ("last_name", {
            let mut v = good.clone();
            v["last_name"] = "   ".into();
            v
        }),
        ("birth_date", {
            let mut v = good.clone();
            v.as_object_mut().unwrap().remove("birth_date");
            v
        }),
        ("birth_date", {
            let mut v = good.clone();
            v["birth_date"] = "31/12/1980".into();
            v
        }),
        ("county", {
            let mut v = good.clone();
            v["county"] = "ocd-division/country:us/state:zz/county:nowhere".into();
            v
        }),
        ("county", {
            let mut v = good.clone();
            v.as_object_mut().unwrap().remove("county");
            v
        }),
    ];
    for (index, (field, body)) in cases.iter().enumerate() {
        let address = Some(u8::try_from(20 + index).unwrap());
        let reply = send(&app, from(address, json_request(body))).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{field}: {}", reply.body);
        assert_eq!(reply.error_code(), "invalid_input");
        assert!(reply.json()["error"]["message"].as_str().unwrap().starts_with(field), "{}", reply.body);
    }
    let not_json = Request::post("/api/public/registration")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    assert_eq!(send(&app, from(Some(30), not_json)).await.status, StatusCode::BAD_REQUEST);

    // The form shows itself again with the message and what was typed.
    let page = send(&app, from(Some(31), form_request(&[("first_name", "Ann"), ("last_name", "Example")]))).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("Enter your date of birth"), "{}", page.body);
    assert!(page.body.contains("value=\"Example\""));
    assert!(page.body.contains("<form"));
}

#[tokio::test]
async fn the_form_lists_the_demo_counties_and_the_home_page_links_to_it() {
    let (test, app) = demo().await;
    let page = send(&app, get("/lookup/registration")).await;
    assert_eq!(page.status, StatusCode::OK);
    let demo = test.demo.as_ref().unwrap();
    for county in
        demo.content.jurisdictions.iter().filter(|j| j.kind == canvass_core::jurisdiction::JurisdictionKind::County)
    {
        assert!(page.body.contains(county.id.as_str()) && page.body.contains(county.name.as_str()));
    }
    assert!(send(&app, get("/")).await.body.contains("href=\"/lookup/registration\""));
}

fn retry_after(reply: &Reply) -> u64 {
    reply.header(header::RETRY_AFTER).expect("a 429 says when to retry").parse().unwrap()
}

#[tokio::test]
async fn too_many_lookups_from_one_address_are_refused_with_retry_after() {
    let (test, app) = demo().await;
    let voter = Person::of(first_active_voter(&test));
    for attempt in 0..10 {
        // Different identities so only the address limit is in play.
        let mut person = Person::of(first_active_voter(&test));
        person.birth_date = format!("1970-01-{:02}", attempt + 1);
        assert_eq!(send(&app, from(Some(40), json_request(&person.json()))).await.status, StatusCode::OK);
    }
    let refused = send(&app, from(Some(40), json_request(&voter.json()))).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    assert!((1..=60).contains(&retry_after(&refused)));
    assert_eq!(refused.error_code(), "too_many_attempts");
    let page = send(&app, from(Some(40), voter.form())).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!((1..=60).contains(&retry_after(&page)));
    // Another address is unaffected.
    assert_eq!(send(&app, from(Some(41), json_request(&voter.json()))).await.json()["registered"], true);
}

#[tokio::test]
async fn requests_without_a_known_address_share_one_bucket() {
    let (test, app) = demo().await;
    for attempt in 0..10 {
        let mut person = Person::of(first_active_voter(&test));
        person.birth_date = format!("1971-02-{:02}", attempt + 1);
        assert_eq!(send(&app, from(None, json_request(&person.json()))).await.status, StatusCode::OK);
    }
    let person = Person::of(first_active_voter(&test));
    assert_eq!(send(&app, from(None, json_request(&person.json()))).await.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn one_identity_looked_up_too_often_is_refused_from_any_address() {
    let (test, app) = demo().await;
    let voter = Person::of(first_active_voter(&test));
    for address in 50..55 {
        assert_eq!(send(&app, from(Some(address), json_request(&voter.json()))).await.status, StatusCode::OK);
    }
    let refused = send(&app, from(Some(60), json_request(&voter.json()))).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&refused);
    assert!(wait > 60 && wait <= 3600, "{wait}");
    // The same identity spelled differently is still the same identity.
    let mut shouted = Person::of(first_active_voter(&test));
    shouted.last = shouted.last.to_uppercase();
    assert_eq!(send(&app, from(Some(61), shouted.form())).await.status, StatusCode::TOO_MANY_REQUESTS);
}

/// The node's counters of lookup work: (voter-row store queries, row openings).
async fn lookup_work(test: &TestNode) -> (u64, u64) {
    let metrics = send(&admin_app(test.node.clone()), authorised(Method::GET, "/metrics", None)).await;
    assert_eq!(metrics.status, StatusCode::OK);
    let counter = |name: &str| -> u64 {
        metrics
            .body
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {}", metrics.body))
    };
    (counter("canvass_public_lookup_store_queries_total"), counter("canvass_public_lookup_openings_total"))
}

#[tokio::test]
async fn found_confidential_and_missing_people_cost_the_same_queries_and_openings() {
    let (test, app) = demo().await;
    let confidential = add_imported_voter(&test, "ZZ800011", "Hiddenia", true).await;
    let found = add_imported_voter(&test, "ZZ800012", "Openia", false).await;
    let county = first_active_voter(&test).county.to_string();
    let missing = Person { first: "Nobody".into(), last: "Atallia".into(), birth_date: "1990-01-02".into(), county };
    // The first lookup loads the county's view; the work compared is what each lookup does.
    send(&app, from(Some(70), json_request(&missing.json()))).await;

    let mut work = Vec::new();
    for (address, person, registered) in [(71, &found, true), (72, &confidential, false), (73, &missing, false)] {
        let before = lookup_work(&test).await;
        let reply = send(&app, from(Some(address), json_request(&person.json()))).await;
        assert_eq!(reply.json()["registered"], registered, "{}", reply.body);
        let after = lookup_work(&test).await;
        work.push((after.0 - before.0, after.1 - before.1));
    }
    let (queries, openings) = work[0];
    assert!(queries >= 1, "one blind-index query per unsealed ring: {work:?}");
    assert_eq!(openings % queries, 0, "the same openings under every ring: {work:?}");
    assert!(openings / queries >= 2, "a miss opens decoys, not nothing: {work:?}");
    assert!(work.iter().all(|each| *each == work[0]), "found, confidential and missing differ: {work:?}");
}

/// A VIP 5 feed giving one precinct of `county` a polling place named `place`.
fn one_place_feed(
    county: &canvass_core::jurisdiction::Jurisdiction,
    precinct: &canvass_core::jurisdiction::Precinct,
    place: &str,
) -> String {
    let code = precinct.id.as_str().rsplit("precinct:").next().unwrap();
    let (_, name) = precinct.name.as_str().split_once(' ').unwrap_or(("", precinct.name.as_str()));
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VipObject schemaVersion=\"5.2\">\
         <State id=\"st1\"><Name>Examplia</Name></State>\
         <Locality id=\"loc1\"><Name>{county}</Name><StateId>st1</StateId><Type>county</Type></Locality>\
         <PollingLocation id=\"pl1\"><AddressLine>1 Test Way</AddressLine><Name>{place}</Name></PollingLocation>\
         <Precinct id=\"pre1\"><LocalityId>loc1</LocalityId><Name>{name}</Name><Number>{code}</Number>\
         <PollingLocationIds>pl1</PollingLocationIds></Precinct></VipObject>\n",
        county = county.name
    )
}

#[tokio::test]
async fn a_places_import_and_a_roll_import_show_in_the_very_next_lookup() {
    let (test, app) = demo().await;
    let demo = test.demo.as_ref().unwrap();
    let voter = first_active_voter(&test);
    let person = Person::of(voter);
    let before = send(&app, from(Some(80), json_request(&person.json()))).await;
    assert_eq!(before.json()["registered"], true, "{}", before.body);
    assert!(before.json()["polling_place"].is_null(), "no feed imported yet: {}", before.body);

    // A places import through the real path while the lookup holds the county in memory: the
    // next lookup names the new place (well inside the second after which a view is reloaded
    // anyway, so this is the import telling the lookup).
    let county = demo.content.jurisdictions.iter().find(|j| j.id == voter.county).unwrap();
    let precinct = demo.content.precincts.iter().find(|p| p.id == voter.precinct).unwrap();
    let directory = tempfile::tempdir().unwrap();
    let feed = directory.path().join("one-place.vip5.xml");
    std::fs::write(&feed, one_place_feed(county, precinct, "Testing Hall")).unwrap();
    let settings = places_import::PlacesSettings { jurisdiction: county.id.clone(), actor: "test".to_owned() };
    let summary =
        places_import::import_vip5(test.node.store(), &test.node.system_audit(), &feed, &settings).await.unwrap();
    assert_eq!(summary.import.precincts_matched, 1);
    let after = send(&app, from(Some(81), json_request(&person.json()))).await;
    assert_eq!(after.json()["polling_place"]["name"], "Testing Hall", "{}", after.body);

    // The demo's roll through the real import: its voters are found at once.
    let store = test.node.shared_store();
    let loaded =
        demo_roll::load(&store, &test.node.system_audit(), test.node.keys(), &demo.content, 7, directory.path())
            .await
            .unwrap();
    let example = loaded.example.expect("the demo roll has a voter to look up");
    let imported = Person {
        first: example.first_name,
        last: example.last_name,
        birth_date: example.birth_date,
        county: example.county.id.to_string(),
    };
    let reply = send(&app, from(Some(82), json_request(&imported.json()))).await;
    assert_eq!(reply.json()["registered"], true, "{}", reply.body);
    let precinct = reply.json()["precinct"].as_str().unwrap().to_owned();
    assert!(precinct.eq_ignore_ascii_case(&example.precinct), "{precinct} vs {}", example.precinct);
}
