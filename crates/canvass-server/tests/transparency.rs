//! The transparency report and affected-voter identification through the real routers: a clerk
//! reads three records, then trips the read-volume limit; the public report, its signed JSON
//! feed and its Atom feed show the incident with counts and no PII or account name; the
//! affected-voter list names exactly the records read; exporting it needs a second person.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::{
    Router,
    http::{Method, StatusCode, header},
};
use canvass_core::{
    access::{Grant, StaffRole},
    credential::Username,
    id::{JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct},
    name::Name,
};
use canvass_crypto::{NodeSigningKey, PublicKey, SecretString, generate_password};
use canvass_server::{access, admin_app, keys, public_app, service, staff, transparency};
use support::{PASSWORD, Reply, TestNode, get, send, test_node, with_token};

const STATE: &str = "st-tr";
const COUNTY: &str = "co-tr";
const CLERK: &str = "clerk-mallory";
/// The records the clerk reads before the limit stops them.
const READ: [&str; 3] = ["TR001", "TR002", "TR003"];
const REASON: &str = "Breach notification for the incident";

fn id(value: &str) -> JurisdictionId {
    JurisdictionId::parse(value).unwrap()
}

struct Scenario {
    test: TestNode,
    admin: Router,
    public: Router,
    clerk_token: String,
    /// Two county administrators for the two-person export.
    first_admin: String,
    second_admin: String,
    incident: String,
}

async fn token(test: &TestNode, name: &str, role: StaffRole, jurisdiction: Option<&str>) -> String {
    let store = test.node.store();
    let audit = test.node.system_audit();
    let username = Username::parse(name).unwrap();
    staff::add_account(store, &audit, &username, None, SecretString::from(PASSWORD)).await.unwrap();
    let grant = Grant::permanent(role, jurisdiction.map(id));
    staff::grant(store, &audit, &username, &grant).await.unwrap();
    access::issue_token(store, &audit, &username, &grant, "test", 1).await.unwrap().1
}

async fn call(app: &Router, token: &str, method: Method, path: &str, body: Option<&str>) -> Reply {
    send(app, with_token(token, method, path, body)).await
}

/// A state and county with an unsealed ring and eight voters; the clerk reads three records one
/// by one, then asks for four more at once, past their limit of five: suspended, incident opened.
async fn scenario() -> Scenario {
    let test = test_node("[access.read_limits]\nregistration_clerk = 5\n", false).await;
    let store = test.node.store();
    let audit = test.node.system_audit();
    for (place, name, kind, parent) in [
        (STATE, "Transparency State", JurisdictionKind::State, None),
        (COUNTY, "Transparency County", JurisdictionKind::County, Some(STATE)),
    ] {
        let jurisdiction =
            Jurisdiction { id: id(place), name: Name::parse(name).unwrap(), kind, parent: parent.map(id) };
        service::add_jurisdiction(store, &audit, &jurisdiction).await.unwrap();
    }
    let precinct = Precinct {
        id: PrecinctId::parse(&format!("{COUNTY}-p1")).unwrap(),
        jurisdiction: id(COUNTY),
        name: Name::parse("Precinct 1").unwrap(),
    };
    service::add_precinct(store, &audit, &precinct).await.unwrap();
    let ring = keys::create_key_ring(store, &audit, &id(COUNTY), generate_password(4).unwrap(), 1_000).await.unwrap();
    test.node.keys().insert(id(COUNTY), ring).unwrap();
    let admin = admin_app(test.node.clone());
    let public = public_app(test.node.clone());
    let voters = [
        ("TR001", "Ottoline", "Quarrington"),
        ("TR002", "Barnabas", "Quarrington"),
        ("TR003", "Winifred", "Ellsworth"),
        ("TR004", "Group", "Zebediah"),
        ("TR005", "Group", "Zebediah"),
        ("TR006", "Group", "Zebediah"),
        ("TR007", "Group", "Zebediah"),
        ("TR008", "Untouched", "Pemberton"),
    ];
    for (number, first_name, last_name) in voters {
        let body = serde_json::json!({
            "jurisdiction": COUNTY, "registration_number": number, "county": COUNTY,
            "precinct": format!("{COUNTY}-p1"), "first_name": first_name, "last_name": last_name,
            "party": "una", "status": "active", "registered_on": "2024-05-01",
            "birth_date": "1980-02-09", "ssn_last_four": "1234", "email": "voter@example.invalid"
        });
        let reply = call(&admin, &test.admin_token, Method::POST, "/api/voters", Some(&body.to_string())).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    let clerk_token = token(&test, CLERK, StaffRole::RegistrationClerk, Some(COUNTY)).await;
    let first_admin = token(&test, "first-admin", StaffRole::CountyAdministrator, Some(COUNTY)).await;
    let second_admin = token(&test, "second-admin", StaffRole::CountyAdministrator, Some(COUNTY)).await;
    // The node's administrator reads one record too: not the incident's subject, not affected.
    let search = |query: &str| format!("/api/jurisdictions/{COUNTY}/voters?{query}&confidential=true&reason=Checking");
    let admin_read = call(&admin, &test.admin_token, Method::GET, &search("registration_number=TR008"), None).await;
    assert_eq!(admin_read.status, StatusCode::OK, "{}", admin_read.body);
    for number in READ {
        let reply =
            call(&admin, &clerk_token, Method::GET, &search(&format!("registration_number={number}")), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.json().as_array().unwrap().len(), 1);
    }
    let crossing = call(&admin, &clerk_token, Method::GET, &search("last_name=Zebediah&first_name=Group"), None).await;
    assert_eq!(crossing.status, StatusCode::FORBIDDEN, "{}", crossing.body);
    let incidents = call(&admin, &test.admin_token, Method::GET, "/api/incidents", None).await.json();
    let incidents = incidents.as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(incidents[0]["subject"], CLERK);
    assert_eq!(incidents[0]["records_affected"], 3);
    let incident = incidents[0]["id"].as_str().unwrap().to_owned();
    Scenario { test, admin, public, clerk_token, first_admin, second_admin, incident }
}

/// Nothing a reader could use to find a person or the account: names, numbers, the username.
fn assert_no_pii(what: &str, text: &str) {
    for secret in [
        CLERK,
        "Quarrington",
        "Ottoline",
        "Ellsworth",
        "Zebediah",
        "Pemberton",
        "TR00",
        "1980-02-09",
        "example.invalid",
    ] {
        assert!(!text.contains(secret), "{what} holds {secret}: {text}");
    }
}

#[tokio::test]
async fn the_public_feed_shows_the_incident_without_pii_and_verifies_against_the_node_key() {
    let world = scenario().await;
    let feed = send(&world.public, get("/transparency/feed.json")).await;
    assert_eq!(feed.status, StatusCode::OK, "{}", feed.body);
    assert_eq!(feed.header(header::CONTENT_TYPE), Some("application/json"));
    assert_no_pii("the JSON feed", &feed.body);
    let parsed = feed.json();
    assert_eq!(parsed["node_key"], world.test.node.public_key().to_hex());
    let incidents = parsed["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1);
    let incident = &incidents[0];
    assert_eq!(incident["id"], world.incident.as_str());
    assert_eq!(incident["jurisdiction"], COUNTY);
    assert_eq!(incident["kind"], "bulk_read");
    assert_eq!(incident["severity"], "high");
    assert_eq!(incident["status"], "open");
    assert_eq!(incident["records_affected"], 3);
    assert_eq!(incident["data_classes"], serde_json::json!(["voter_confidential"]));
    assert_eq!(incident["details_withheld"], true);
    // Open: the register's summary (with its threshold) is withheld.
    assert!(!incident["summary"].as_str().unwrap().contains("limit 5"), "{incident}");
    assert!(incident.get("subject").is_none(), "{incident}");

    let signature = send(&world.public, get("/transparency/feed.json.sig")).await;
    assert_eq!(signature.status, StatusCode::OK);
    let bytes = hex(signature.body.trim());
    let key = PublicKey::from_hex(send(&world.public, get("/transparency/node_key.txt")).await.body.trim()).unwrap();
    assert_eq!(key.to_hex(), world.test.node.public_key().to_hex());
    assert!(key.verify(feed.body.as_bytes(), &bytes), "the feed's signature verifies under the node key");
    let mut altered = feed.body.clone().into_bytes();
    let position = altered.iter().position(|byte| *byte == b'3').unwrap();
    altered[position] = b'4';
    assert!(!key.verify(&altered, &bytes), "an altered feed does not verify");
    // Another node's key does not verify it either.
    let stranger = NodeSigningKey::generate().unwrap().public_key();
    assert!(!stranger.verify(feed.body.as_bytes(), &bytes));

    // The pages: the report lists it, the county's page too, without PII; unknown ids are 404.
    let page = send(&world.public, get("/transparency")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&world.incident), "{}", page.body);
    assert!(page.body.contains("Exports approved") || page.body.contains("exports approved"));
    assert_no_pii("the report page", &page.body);
    let county = send(&world.public, get(&format!("/transparency/{COUNTY}"))).await;
    assert_eq!(county.status, StatusCode::OK, "{}", county.body);
    assert!(county.body.contains(&world.incident));
    assert!(county.body.contains("Registration clerk"), "the clerk's reads are counted by role: {}", county.body);
    assert_no_pii("the county page", &county.body);
    let missing = send(&world.public, get("/transparency/no-such-place")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_no_pii("the 404", &missing.body);
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|index| u8::from_str_radix(&text[index..index + 2], 16).unwrap()).collect()
}

#[tokio::test]
async fn the_atom_feed_parses_with_every_required_element() {
    let world = scenario().await;
    let reply = send(&world.public, get("/transparency/feed.atom")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.header(header::CONTENT_TYPE).unwrap().starts_with("application/atom+xml"));
    assert_no_pii("the Atom feed", &reply.body);
    assert!(reply.body.contains("xmlns=\"http://www.w3.org/2005/Atom\""), "{}", reply.body);
    let feed: atom_syndication::Feed = reply.body.parse().unwrap();
    // RFC 4287 4.1.1: a feed has id, title and updated, and an author (or every entry has one).
    assert!(feed.id.starts_with("urn:canvass:"), "{}", feed.id);
    assert!(!feed.title.value.is_empty());
    assert!(!feed.authors.is_empty());
    assert_eq!(feed.entries.len(), 1);
    let entry = &feed.entries[0];
    // 4.1.2: an entry has id, title, updated, and content or an alternate link.
    assert!(entry.id.ends_with(&format!(":incident:{}", world.incident)), "{}", entry.id);
    assert!(!entry.title.value.is_empty());
    assert_eq!(entry.updated, feed.updated, "the feed is as new as its newest entry");
    let content = entry.content.as_ref().unwrap().value.as_deref().unwrap();
    assert!(content.contains("Records affected: 3"), "{content}");
}

#[tokio::test]
async fn the_affected_voter_list_names_exactly_the_records_the_subject_read() {
    let world = scenario().await;
    let path = format!("/api/incidents/{}/affected", world.incident);
    // Administrators give a reason; the clerk's own token is suspended.
    let without = call(&world.admin, &world.first_admin, Method::GET, &path, None).await;
    assert_eq!((without.status, without.error_code().as_str()), (StatusCode::FORBIDDEN, "justification_required"));
    let suspended = call(&world.admin, &world.clerk_token, Method::GET, &path, None).await;
    assert_eq!(suspended.status, StatusCode::UNAUTHORIZED);
    let reply = call(&world.admin, &world.first_admin, Method::GET, &format!("{path}?reason=Notification"), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let listed = reply.json();
    let numbers: Vec<&str> = listed["voters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|voter| voter["registration_number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, READ, "the three records read, not the refused four nor the administrator's read");
    assert_eq!(listed["voters"][0]["last_name"], "Quarrington");
    assert_eq!(listed["voters"][0]["first_name"], "Ottoline");
    let recorded = world
        .test
        .node
        .store()
        .search_ledger(&canvass_store::LedgerQuery {
            action: Some("incident.affected_voters".to_owned()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(recorded.len(), 1, "the list's read is in the ledger");
    let entry = canvass_core::audit::AuditEntry::decode(&recorded[0].body).unwrap();
    assert!(entry.targets.contains(&format!("incident:{}", world.incident)));
    assert!(entry.targets.contains(&"records:3".to_owned()));
    assert_no_pii("the ledger entry", &String::from_utf8(recorded[0].body.clone()).unwrap());

    // A window that ends before the reads lists nobody; an unknown incident is 404.
    let early =
        call(&world.admin, &world.first_admin, Method::GET, &format!("{path}?reason=x&until=1000&since=0"), None).await;
    assert_eq!(early.status, StatusCode::OK, "{}", early.body);
    assert!(early.json()["voters"].as_array().unwrap().is_empty());
    let unknown =
        call(&world.admin, &world.first_admin, Method::GET, "/api/incidents/inc-nope/affected?reason=x", None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn exporting_the_affected_voters_needs_a_second_person() {
    let world = scenario().await;
    let body = serde_json::json!({
        "kind": "export_affected_voters", "jurisdiction": COUNTY, "subject": world.incident, "justification": REASON
    });
    let created = call(&world.admin, &world.first_admin, Method::POST, "/api/requests", Some(&body.to_string())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let request = created.json()["id"].as_str().unwrap().to_owned();
    let run = format!("/api/requests/{request}/run");
    let too_early = call(&world.admin, &world.first_admin, Method::POST, &run, None).await;
    assert_eq!(too_early.status, StatusCode::CONFLICT, "{}", too_early.body);
    let own =
        call(&world.admin, &world.first_admin, Method::POST, &format!("/api/requests/{request}/approve"), None).await;
    assert_eq!((own.status, own.error_code().as_str()), (StatusCode::FORBIDDEN, "refused"));
    let approved =
        call(&world.admin, &world.second_admin, Method::POST, &format!("/api/requests/{request}/approve"), None).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    let export = call(&world.admin, &world.first_admin, Method::POST, &run, None).await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.body);
    assert!(export.header(header::CONTENT_TYPE).unwrap().starts_with("text/csv"));
    assert_eq!(export.header(header::CACHE_CONTROL), Some("no-store"));
    assert_eq!(
        export.body,
        "registration_number,last_name,first_name\nTR001,Quarrington,Ottoline\nTR002,Quarrington,Barnabas\nTR003,Ellsworth,Winifred\n"
    );
    let again = call(&world.admin, &world.first_admin, Method::POST, &run, None).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "a request runs once");

    // A request naming no incident of the county is refused when made.
    let bad = serde_json::json!({
        "kind": "export_affected_voters", "jurisdiction": COUNTY, "subject": "inc-nope", "justification": REASON
    });
    let refused = call(&world.admin, &world.first_admin, Method::POST, "/api/requests", Some(&bad.to_string())).await;
    assert_eq!(refused.status.as_u16() / 100, 4, "{}", refused.body);

    // The approved export shows in the public statistics.
    let county = send(&world.public, get(&format!("/transparency/{COUNTY}"))).await;
    let report = transparency::statistics(world.test.node.store(), &id(COUNTY)).await.unwrap();
    assert_eq!(report.exports_approved, 1);
    assert!(county.body.contains("Exports approved"));
}

#[tokio::test]
async fn the_static_publication_writes_the_same_report_and_a_verifiable_feed() {
    let world = scenario().await;
    let directory = tempfile::tempdir().unwrap();
    let key = NodeSigningKey::generate().unwrap();
    let written = transparency::write_report(
        world.test.node.store(),
        &key.public_key(),
        |bytes| key.sign(bytes),
        directory.path(),
    )
    .await
    .unwrap();
    assert_eq!((written.incidents, written.jurisdictions), (1, 2));
    let read = |name: &str| std::fs::read_to_string(directory.path().join(name)).unwrap();
    let feed = read("feed.json");
    let signature = hex(read("feed.json.sig").trim());
    assert!(key.public_key().verify(feed.as_bytes(), &signature));
    assert_eq!(read("node_key.txt").trim(), key.public_key().to_hex());
    let index = read("index.html");
    assert!(index.contains(&world.incident));
    assert!(index.contains("href=\"canvass.css\""), "links are relative in a static publication");
    let county_page = canvass_server::transparency_site::jurisdiction_file(COUNTY);
    assert!(index.contains(&county_page), "{index}");
    assert!(read(&county_page).contains(&world.incident));
    let _: atom_syndication::Feed = read("feed.atom").parse().unwrap();
    for name in ["index.html", "feed.json", "feed.atom", county_page.as_str()] {
        assert_no_pii(name, &read(name));
    }
}
