//! Polling places from a VIP 5 feed through the real import path (issue 6): the public sample
//! feed imports into a county whose precincts it names, and the public lookup then tells a
//! registered voter where to vote; a re-import replaces the places instead of adding to them;
//! a file that is not a feed for this jurisdiction is refused and changes nothing; and the demo
//! loads a roll and polling places a newcomer can look up.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use canvass_core::{
    id::{JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct},
    name::Name,
    voter::VoterStatus,
};
use canvass_crypto::SecretString;
use canvass_formats::ncvoter::PUBLIC_COLUMNS;
use canvass_server::{
    ServerError, demo_roll, keys,
    places_import::{self, PlacesSettings, PlacesSummary},
    public_app, roll,
};
use canvass_store::LedgerQuery;
use support::{TestNode, send, test_node};

const SAMPLE: &str = "../../../shared/data/vip5/sample_feed_v5.xml";
const STATE: &str = "ocd-division/country:us/state:va";
const COUNTY: &str = "ocd-division/country:us/state:va/county:albemarle";

fn sample() -> PathBuf {
    let path = PathBuf::from(SAMPLE);
    assert!(
        path.exists(),
        "{SAMPLE} is missing: these tests read the VIP sample from shared/data beside the repository"
    );
    path
}

fn county() -> JurisdictionId {
    JurisdictionId::parse(COUNTY).unwrap()
}

fn precinct_id(code: &str) -> PrecinctId {
    PrecinctId::parse(&format!("{COUNTY}/precinct:{code}")).unwrap()
}

/// Virginia's Albemarle County with four of the sample feed's precincts (one of them split in
/// two by the feed) and one it does not have, its key ring unsealed on the node.
async fn albemarle() -> TestNode {
    let test = test_node("", false).await;
    let store = test.node.store();
    let state = JurisdictionId::parse(STATE).unwrap();
    let jurisdiction = |id: &JurisdictionId, name: &str, kind, parent| Jurisdiction {
        id: id.clone(),
        name: Name::parse(name).unwrap(),
        kind,
        parent,
    };
    store.insert_jurisdiction(&jurisdiction(&state, "Virginia", JurisdictionKind::State, None)).await.unwrap();
    store
        .insert_jurisdiction(&jurisdiction(&county(), "Albemarle County", JurisdictionKind::County, Some(state)))
        .await
        .unwrap();
    let precincts: Vec<Precinct> = [
        ("0203", "Georgetown"),
        ("0103", "Branchlands"),
        ("0201", "Jack Jouett"),
        ("0602", "Free Union"),
        ("0999", "Nowhere"),
    ]
    .iter()
    .map(|(code, name)| Precinct { id: precinct_id(code), jurisdiction: county(), name: Name::parse(name).unwrap() })
    .collect();
    store.insert_precincts(&precincts).await.unwrap();
    let ring = keys::create_key_ring(
        store,
        &test.node.system_audit(),
        &county(),
        SecretString::from("a long test passphrase".to_owned()),
        10_000,
    )
    .await
    .unwrap();
    test.node.keys().insert(county(), ring).unwrap();
    test
}

/// A voter as a voter-file import stores one, in the given precinct.
async fn add_voter(test: &TestNode, number: &str, first: &str, precinct: &str) -> serde_json::Value {
    add_voter_with(test, number, first, precinct, false).await
}

async fn add_voter_with(
    test: &TestNode,
    number: &str,
    first: &str,
    precinct: &str,
    address_confidential: bool,
) -> serde_json::Value {
    let details = PUBLIC_COLUMNS
        .iter()
        .map(|column| if *column == "confidential_ind" && address_confidential { "Y".into() } else { String::new() })
        .collect();
    let ring = test.node.keys().current(test.node.store(), &county()).await.unwrap();
    let row = roll::RollRow {
        line: 2,
        registration_number: number.to_owned(),
        county: county(),
        precinct: precinct_id(precinct),
        party: "UNA".to_owned(),
        status: VoterStatus::Active,
        registered_on: time::macros::date!(2001 - 05 - 06),
        first_name: first.to_owned(),
        last_name: "Testvoter".to_owned(),
        birth_date: Some(time::macros::date!(1970 - 01 - 02)),
        ssn_last_four: None,
        drivers_license: None,
        email: None,
        details,
    };
    let sealed = roll::seal_row(&ring, &row, roll::row_digest(&ring, &row).unwrap()).unwrap();
    test.node.store().insert_voters(&[sealed]).await.unwrap();
    serde_json::json!({ "first_name": first, "last_name": "Testvoter", "birth_date": "1970-01-02", "county": COUNTY })
}

async fn import(test: &TestNode, jurisdiction: &str, file: &Path) -> Result<PlacesSummary, ServerError> {
    let settings = PlacesSettings { jurisdiction: JurisdictionId::parse(jurisdiction).unwrap(), actor: "clerk".into() };
    places_import::import_vip5(test.node.store(), &test.node.system_audit(), file, &settings).await
}

async fn lookup(app: &Router, person: &serde_json::Value) -> serde_json::Value {
    let request = Request::post("/api/public/registration")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(person.to_string()))
        .unwrap();
    let reply = send(app, request).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()
}

fn ids(precincts: &[PrecinctId]) -> Vec<&str> {
    precincts.iter().map(|id| id.as_str().rsplit(':').next().unwrap()).collect()
}

#[tokio::test]
async fn the_sample_feed_imports_and_the_lookup_shows_the_voters_polling_place() {
    let test = albemarle().await;
    let georgetown = add_voter(&test, "VA1", "Ada", "0203").await;
    let nowhere = add_voter(&test, "VA2", "Ben", "0999").await;

    let summary = import(&test, STATE, &sample()).await.unwrap();
    assert_eq!(ids(&summary.matched), ["0103", "0201", "0203", "0602"], "by number, inside the feed's locality");
    assert_eq!(ids(&summary.without_place), ["0999"]);
    let unmatched: Vec<&str> = summary.unmatched.iter().map(|u| u.feed_id.as_str()).collect();
    assert!(unmatched.contains(&"pre00000") && unmatched.contains(&"pre99999"), "{unmatched:?}");
    assert!(!unmatched.contains(&"pre90348sp0000"), "both halves of a split precinct match it");
    assert!(summary.unmatched.iter().all(|u| !u.reason.is_empty() && !u.name.is_empty()), "{:?}", summary.unmatched);
    // Each precinct's own place, the county-wide early-voting site and the drop box.
    assert_eq!(summary.import.places, 6);
    assert_eq!(summary.import.precincts_matched, 4);
    assert_eq!(summary.import.precincts_unmatched, unmatched.len() as u64);
    assert_eq!(summary.replaced, 0);

    let state = JurisdictionId::parse(STATE).unwrap();
    let stored = test.node.store().polling_places(&state).await.unwrap();
    assert_eq!(stored.len(), 6);
    let school = stored.iter().find(|place| place.id == "pl81274").unwrap();
    assert_eq!(school.name.as_deref(), Some("ALBEMARLE HIGH SCHOOL"));
    assert_eq!(school.precincts, vec![precinct_id("0203")]);
    assert!(school.is_election_day());
    let entries = test
        .node
        .store()
        .search_ledger(&LedgerQuery { action: Some("places.import".into()), limit: 10, ..LedgerQuery::default() })
        .await
        .unwrap();
    assert_eq!(entries.len(), 1, "the import is in the ledger");

    let app = public_app(test.node.clone());
    let answer = lookup(&app, &georgetown).await;
    assert_eq!(answer["registered"], true, "{answer}");
    let place = &answer["polling_place"];
    assert_eq!(place["name"], "ALBEMARLE HIGH SCHOOL", "the election-day place, not the early-voting site: {answer}");
    assert_eq!(place["address"], "2775 Hydraulic Rd, Charlottesville, VA 229018917");
    assert_eq!(place["hours"], "2013-11-05 06:00-19:00");
    let answer = lookup(&app, &nowhere).await;
    assert_eq!(answer["registered"], true);
    assert!(answer["polling_place"].is_null(), "a precinct the feed does not cover has no place: {answer}");

    // A protected voter of a precinct with a place answers exactly as someone not on the roll.
    let sheltered = add_voter_with(&test, "VA3", "Cleo", "0203", true).await;
    let mut miss = georgetown.clone();
    miss["birth_date"] = "1970-01-03".into();
    let (sheltered, miss) = (lookup(&app, &sheltered).await, lookup(&app, &miss).await);
    assert_eq!(sheltered, miss);
    assert!(sheltered["polling_place"].is_null() && sheltered["registered"] == false, "{sheltered}");

    let form = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("first_name", "Ada"),
            ("last_name", "Testvoter"),
            ("birth_date", "1970-01-02"),
            ("county", COUNTY),
        ])
        .finish();
    let request = Request::post("/lookup/registration")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    let page = send(&app, request).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("ALBEMARLE HIGH SCHOOL") && page.body.contains("2775 Hydraulic Rd"), "{}", page.body);
}

#[tokio::test]
async fn a_reimport_replaces_the_places_instead_of_adding_to_them() {
    let test = albemarle().await;
    let first = import(&test, COUNTY, &sample()).await.unwrap();
    let second = import(&test, COUNTY, &sample()).await.unwrap();
    assert_eq!(second.replaced, first.import.places);
    assert_ne!(second.import.id, first.import.id);
    assert_eq!(second.import.file_digest, first.import.file_digest);
    let stored = test.node.store().polling_places(&county()).await.unwrap();
    assert_eq!(stored.len() as u64, first.import.places, "replaced, not duplicated");
    let imports = test.node.store().polling_place_imports(Some(&county()), 10).await.unwrap();
    assert_eq!(imports.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), [&second.import.id, &first.import.id]);
}

#[tokio::test]
async fn a_file_that_is_not_a_feed_for_this_jurisdiction_is_refused_and_changes_nothing() {
    let test = albemarle().await;
    let before = import(&test, COUNTY, &sample()).await.unwrap();
    let store = test.node.store();
    let stored = store.polling_places(&county()).await.unwrap();
    let ledger = store.ledger_size().await.unwrap();
    let directory = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = directory.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let other_place = "<VipObject schemaVersion=\"5.2\"><State id=\"s\"><Name>Elsewhere</Name></State>\
        <Locality id=\"l\"><Name>Far County</Name><StateId>s</StateId></Locality>\
        <PollingLocation id=\"p\"><AddressLine>1 Far Rd</AddressLine></PollingLocation>\
        <Precinct id=\"x\"><LocalityId>l</LocalityId><Name>Faraway</Name><Number>7777</Number>\
        <PollingLocationIds>p</PollingLocationIds></Precinct></VipObject>";
    let cases = [
        (directory.path().join("missing.xml"), COUNTY, "cannot read"),
        (file("voters.tsv", "county_id\tcounty_desc\n1\tALAMANCE\n"), COUNTY, "not a VIP 5 feed"),
        (file("results.xml", "<ElectionReport><Election/></ElectionReport>"), COUNTY, "not <VipObject>"),
        (file("cut.xml", "<VipObject><Precinct id=\"a\"><Name>A"), COUNTY, "not a VIP 5 feed"),
        (file("empty.xml", "<VipObject schemaVersion=\"5.2\"/>"), COUNTY, "without precincts"),
        (file("elsewhere.xml", other_place), COUNTY, "none of the feed's 1 precincts"),
        (sample(), "ocd-division/country:us/state:va/county:nowhere", "does not exist"),
    ];
    for (path, jurisdiction, expected) in &cases {
        let error = import(&test, jurisdiction, path).await.unwrap_err();
        assert!(matches!(error, ServerError::Invalid(_) | ServerError::UnknownReference(_)), "{error:?}");
        assert!(error.to_string().contains(expected), "{}: {error}", path.display());
        assert_eq!(store.polling_places(&county()).await.unwrap(), stored, "{} changed nothing", path.display());
    }
    let imports = store.polling_place_imports(None, 10).await.unwrap();
    assert_eq!(imports, vec![before.import], "no refused import is recorded");
    assert_eq!(store.ledger_size().await.unwrap(), ledger, "a refused file is refused before anything is recorded");
}

#[tokio::test]
async fn the_demo_imports_a_roll_and_polling_places_a_newcomer_can_look_up() {
    let test = test_node("", true).await;
    let content = &test.demo.as_ref().unwrap().content;
    let directory = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let loaded = demo_roll::load(
        &test.node.shared_store(),
        &test.node.system_audit(),
        test.node.keys(),
        content,
        2026,
        directory.path(),
    )
    .await
    .unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "the demo starts fast: {:?}", started.elapsed());
    assert_eq!((loaded.counts.inserted, loaded.counts.rejected), (300, 0));
    assert_eq!(loaded.places, content.precincts.len() as u64 + 3, "a school per precinct, an early site per county");
    let example = loaded.example.unwrap();
    let person = serde_json::json!({
        "first_name": example.first_name, "last_name": example.last_name,
        "birth_date": example.birth_date, "county": example.county.id.as_str(),
    });
    let answer = lookup(&public_app(test.node.clone()), &person).await;
    assert_eq!(answer["registered"], true, "{answer}");
    let name = answer["polling_place"]["name"].as_str().unwrap_or_default();
    assert!(name.ends_with("Elementary School"), "{answer}");

    // The demo's statewide feed imported into one county: the other counties' precincts share
    // its precinct numbers but not its locality, so they are reported, not matched.
    let birch = content.jurisdictions.iter().find(|j| j.name.as_str() == "Birch County").unwrap();
    let feed = directory.path().join("demo-places.vip5.xml");
    let summary = import(&test, birch.id.as_str(), &feed).await.unwrap();
    assert_eq!(summary.matched.len(), 4);
    assert!(summary.matched.iter().all(|id| id.as_str().starts_with(birch.id.as_str())), "{:?}", summary.matched);
    assert_eq!(summary.unmatched.len(), 8);
    assert!(summary.unmatched.iter().all(|u| u.reason.contains("locality")), "{:?}", summary.unmatched);
    assert_eq!(summary.import.places, 5, "Birch's four schools and its early-voting site");
}
