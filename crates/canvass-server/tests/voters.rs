//! Staff search and voter status changes through the real admin router: each search kind for a
//! clerk, the roles without `voters.search` refused, confidential search only with a reason and
//! then in the ledger, and the NVRA rules refusing what they must while an allowed change is
//! stored with its reason code, listed in the history and recorded in the ledger.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::{
    Router,
    http::{Method, StatusCode},
};
use canvass_core::{
    access::{Grant, StaffRole},
    credential::Username,
    id::{JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct},
    name::Name,
};
use canvass_crypto::{SecretString, generate_password};
use canvass_server::{access, admin_app, keys, service, staff};
use support::{PASSWORD, Reply, Session, TestNode, send, test_node};

const STATE: &str = "st-search";
const COUNTY: &str = "co-search";

fn id(value: &str) -> JurisdictionId {
    JurisdictionId::parse(value).unwrap()
}

struct World {
    test: TestNode,
    app: Router,
}

impl World {
    async fn new() -> Self {
        let test = test_node("", false).await;
        let store = test.node.store();
        let audit = test.node.system_audit();
        for (place, kind, parent) in
            [(STATE, JurisdictionKind::State, None), (COUNTY, JurisdictionKind::County, Some(STATE))]
        {
            let jurisdiction =
                Jurisdiction { id: id(place), name: Name::parse("Place").unwrap(), kind, parent: parent.map(id) };
            service::add_jurisdiction(store, &audit, &jurisdiction).await.unwrap();
        }
        let precinct = Precinct {
            id: PrecinctId::parse(&format!("{COUNTY}-p1")).unwrap(),
            jurisdiction: id(COUNTY),
            name: Name::parse("Precinct 1").unwrap(),
        };
        service::add_precinct(store, &audit, &precinct).await.unwrap();
        let ring =
            keys::create_key_ring(store, &audit, &id(COUNTY), generate_password(4).unwrap(), 10_000).await.unwrap();
        test.node.keys().insert(id(COUNTY), ring).unwrap();
        let app = admin_app(test.node.clone());
        let world = Self { test, app };
        world.add_voter("SR1001", "Grace", "Hopper", "1906-12-09", "1234", "NC-DL-555").await;
        world.add_voter("SR1002", "Grace", "Hopper", "1950-01-01", "9876", "NC-DL-777").await;
        world.add_voter("SR1003", "Ada", "Lovelace", "1815-12-10", "4321", "NC-DL-999").await;
        world
    }

    async fn add_voter(&self, number: &str, first: &str, last: &str, birth: &str, ssn: &str, licence: &str) {
        let body = serde_json::json!({
            "jurisdiction": COUNTY, "registration_number": number, "county": COUNTY,
            "precinct": format!("{COUNTY}-p1"), "first_name": first, "last_name": last,
            "party": "una", "status": "active", "registered_on": "2010-01-04",
            "birth_date": birth, "ssn_last_four": ssn, "drivers_license": licence, "email": "voter@example.invalid"
        });
        let reply = self.admin(Method::POST, "/api/voters", Some(&body.to_string())).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }

    async fn admin(&self, method: Method, path: &str, body: Option<&str>) -> Reply {
        send(&self.app, support::with_token(&self.test.admin_token, method, path, body)).await
    }

    /// A staff member holding `role` on the county, and an API token acting as them.
    async fn member(&self, name: &str, role: StaffRole) -> String {
        let audit = self.test.node.system_audit();
        let store = self.test.node.store();
        let username = Username::parse(name).unwrap();
        staff::add_account(store, &audit, &username, None, SecretString::from(PASSWORD)).await.unwrap();
        let grant = Grant::permanent(role, Some(id(COUNTY)));
        staff::grant(store, &audit, &username, &grant).await.unwrap();
        access::issue_token(store, &audit, &username, &grant, "test", 1).await.unwrap().1
    }

    async fn ledger(&self, query: &str) -> Vec<serde_json::Value> {
        let reply = self.admin(Method::GET, &format!("/api/audit?limit=1000&{query}"), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json()["entries"].as_array().unwrap().clone()
    }
}

async fn call(world: &World, token: &str, method: Method, path: &str, body: Option<&str>) -> Reply {
    send(&world.app, support::with_token(token, method, path, body)).await
}

fn search_path(query: &str) -> String {
    format!("/api/jurisdictions/{COUNTY}/voters?{query}")
}

fn numbers(reply: &Reply) -> Vec<String> {
    reply
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|voter| voter["registration_number"].as_str().unwrap().to_owned())
        .collect()
}

/// Searches as `token`; asserts 200 and returns the registration numbers found.
async fn found(world: &World, token: &str, query: &str) -> Vec<String> {
    let reply = call(world, token, Method::GET, &search_path(query), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
    numbers(&reply)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_search_kind_finds_its_voters_for_a_clerk_and_shows_only_public_fields() {
    let world = World::new().await;
    let clerk = world.member("clerk", StaffRole::RegistrationClerk).await;
    let cases: &[(&str, &[&str])] = &[
        ("last_name=Hopper&first_name=Grace", &["SR1001", "SR1002"]),
        ("last_name=hopper&first_name=GRACE&birth_date=1906-12-09", &["SR1001"]),
        ("last_name=Hopper&first_name=Grace&birth_date=12/09/1906", &["SR1001"]),
        (&format!("last_name=Hopper&first_name=Grace&county={COUNTY}"), &["SR1001", "SR1002"]),
        ("last_name=Hopper&first_name=Grace&county=co-elsewhere", &[]),
        ("registration_number=SR1003", &["SR1003"]),
        ("registration_number=SR9999", &[]),
        ("drivers_license=nc-dl-777", &["SR1002"]),
        ("ssn4=1234&last_name=Hopper&birth_date=1906-12-09", &["SR1001"]),
        ("ssn4=1234&last_name=Hopper&birth_date=1950-01-01", &[]),
    ];
    for (query, expected) in cases {
        assert_eq!(found(&world, &clerk, query).await, *expected, "{query}");
    }
    let reply = call(&world, &clerk, Method::GET, &search_path("registration_number=SR1001"), None).await;
    let voter = &reply.json()[0];
    assert_eq!(voter["last_name"], "Hopper");
    for confidential in ["birth_date", "ssn_last_four", "drivers_license", "email"] {
        assert!(voter.get(confidential).is_none(), "{confidential} shown without a confidential search: {voter}");
    }
    assert!(!reply.body.contains("1906-12-09") && !reply.body.contains("NC-DL-555"));
    // A public search is not a confidential read.
    assert!(world.ledger("action=voter.read").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_searches_are_400s_naming_the_field() {
    let world = World::new().await;
    let clerk = world.member("clerk", StaffRole::RegistrationClerk).await;
    let cases = [
        ("", "last_name"),
        ("last_name=Hopper", "first_name"),
        ("last_name=Hopper&first_name=Grace&birth_date=1906-13-45", "birth_date"),
        ("last_name=Hopper&first_name=Grace&county=Not%20An%20Id", "county"),
        ("ssn4=1234", "last_name"),
        ("ssn4=1234&last_name=Hopper", "birth_date"),
        ("ssn4=12a4&last_name=Hopper&birth_date=1906-12-09", "ssn4"),
        ("registration_number=SR1&drivers_license=X", "registration_number"),
        ("registration_number=SR1001&last_name=Hopper", "registration_number"),
        ("registration_number=SR1001&confidential=true", "reason"),
        ("registration_number=SR1001&confidential=true&reason=%20%20", "reason"),
        ("registration_number=SR1001&confidential=maybe", "confidential"),
    ];
    for (query, field) in cases {
        let reply = call(&world, &clerk, Method::GET, &search_path(query), None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}: {}", reply.body);
        assert!(reply.json()["error"]["message"].as_str().unwrap().contains(field), "{query}: {}", reply.body);
        assert!(!reply.body.contains("1906") || !query.contains("1906-13"), "the value is not echoed");
    }
    assert!(world.ledger("action=voter.read").await.is_empty(), "a refused search reads nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_without_voter_search_are_refused_personal_data() {
    let world = World::new().await;
    for (name, role) in
        [("observer", StaffRole::Observer), ("auditor", StaffRole::Auditor), ("reporter", StaffRole::ResultsReporter)]
    {
        let token = world.member(name, role).await;
        for query in [
            "last_name=Hopper&first_name=Grace",
            "registration_number=SR1001",
            "registration_number=SR1001&confidential=true&reason=Checking",
        ] {
            let reply = call(&world, &token, Method::GET, &search_path(query), None).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{name} {query}: {}", reply.body);
            assert!(!reply.body.contains("Hopper") && !reply.body.contains("SR1001"), "{}", reply.body);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confidential_search_needs_a_reason_and_is_recorded_with_it() {
    let world = World::new().await;
    let clerk = world.member("clerk", StaffRole::RegistrationClerk).await;
    let refused =
        call(&world, &clerk, Method::GET, &search_path("drivers_license=NC-DL-555&confidential=true"), None).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(world.ledger("action=voter.read").await.is_empty());

    let query = "drivers_license=NC-DL-555&confidential=true&reason=Voter%20called%20about%20a%20mailing";
    let reply = call(&world, &clerk, Method::GET, &search_path(query), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let voter = &reply.json()[0];
    assert_eq!(voter["birth_date"], "1906-12-09");
    assert_eq!(voter["ssn_last_four"], "1234");
    assert_eq!(voter["drivers_license"], "NC-DL-555");
    let reads = world.ledger("action=voter.read").await;
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_eq!(reads[0]["justification"], "Voter called about a mailing");
    assert!(reads[0]["targets"].as_array().unwrap().iter().any(|target| target == "voter:SR1001"), "{reads:?}");
    assert!(!serde_json::to_string(&reads).unwrap().contains("NC-DL-555"), "no PII in the ledger");

    // The old client's justification header still serves as the reason; an observer is refused.
    let old = support::with_token(
        &clerk,
        Method::GET,
        &search_path("last_name=Lovelace&first_name=Ada&confidential=true"),
        None,
    );
    let (mut parts, body) = old.into_parts();
    parts.headers.insert(access::JUSTIFICATION_HEADER, "Old client".parse().unwrap());
    let reply = send(&world.app, axum::http::Request::from_parts(parts, body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()[0]["ssn_last_four"], "4321");
    assert_eq!(world.ledger("action=voter.read").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_confidential_search_goes_through_the_justification_rule() {
    let world = World::new().await;
    let administrator = world.member("county-admin", StaffRole::CountyAdministrator).await;
    let reply = call(&world, &administrator, Method::GET, &search_path("registration_number=SR1003"), None).await;
    assert_eq!(reply.status, StatusCode::OK, "a public search needs no reason: {}", reply.body);
    let query = "registration_number=SR1003&confidential=true&reason=Audit%20of%20a%20complaint";
    let reply = call(&world, &administrator, Method::GET, &search_path(query), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()[0]["email"], "voter@example.invalid");
}

fn status_path(number: &str) -> String {
    format!("/api/jurisdictions/{COUNTY}/voters/{number}/status")
}

async fn change(world: &World, token: &str, number: &str, body: serde_json::Value) -> Reply {
    call(world, token, Method::POST, &status_path(number), Some(&body.to_string())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nvra_rules_refuse_what_they_must_and_an_allowed_change_is_kept_with_its_reason() {
    let world = World::new().await;
    let clerk = world.member("clerk", StaffRole::RegistrationClerk).await;

    // Removal for change of address with no confirmation notice on record.
    let reply = change(
        &world,
        &clerk,
        "SR1001",
        serde_json::json!({ "status": "removed", "reason": "change_of_address_after_notice", "effective": "2025-01-10" }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert_eq!(reply.error_code(), "list_maintenance_refused");
    assert!(reply.body.contains("no confirmation notice"), "{}", reply.body);

    // A systematic removal inside the 90 days before the 2026 federal general election.
    let reply = change(
        &world,
        &clerk,
        "SR1001",
        serde_json::json!({
            "status": "removed", "reason": "change_of_address_after_notice",
            "effective": "2026-09-01", "notice_sent": "2021-03-01"
        }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    let message = reply.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("8(c)(2)(A)") && message.contains("November 3, 2026"), "{message}");
    assert!(message.contains("ends on November 4, 2026"), "the refusal says when removals resume: {message}");

    // Refusals changed nothing and are in the ledger as denied.
    let voter = call(&world, &clerk, Method::GET, &search_path("registration_number=SR1001"), None).await;
    assert_eq!(voter.json()[0]["status"], "active");
    let history = call(&world, &clerk, Method::GET, &status_path("SR1001"), None).await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.body);
    assert_eq!(history.json().as_array().unwrap().len(), 0);
    let entries = world.ledger("action=voter.status_change").await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(entries.iter().all(|entry| entry["outcome"] == "denied"), "{entries:?}");

    // Bad fields are 400s naming them.
    for (body, field) in [
        (serde_json::json!({ "status": "gone", "reason": "death" }), "status"),
        (serde_json::json!({ "status": "removed", "reason": "moved_away" }), "reason"),
        (serde_json::json!({ "status": "removed", "reason": "death", "effective": "yesterday" }), "effective"),
        (serde_json::json!({ "status": "removed", "reason": "death", "effective": "2999-01-01" }), "effective"),
    ] {
        let reply = change(&world, &clerk, "SR1001", body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert!(reply.body.contains(field), "{}", reply.body);
    }
    let reply = change(&world, &clerk, "NOBODY", serde_json::json!({ "status": "removed", "reason": "death" })).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);

    // An allowed change: inactivation after an unanswered notice, then removal on the voter's
    // written confirmation of a move (an individual removal, not held by the quiet period).
    let reply = change(
        &world,
        &clerk,
        "SR1001",
        serde_json::json!({
            "status": "inactive", "reason": "inactive_after_confirmation_notice",
            "effective": "2025-06-02", "notice_sent": "2025-04-01"
        }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.json()["reason"], "inactive_after_confirmation_notice");
    assert_eq!(reply.json()["actor"], "token:".to_owned() + support::token_id(&clerk));
    let reply = change(
        &world,
        &clerk,
        "SR1001",
        serde_json::json!({ "status": "removed", "reason": "moved_confirmed_in_writing", "effective": "2026-10-20" }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);

    let history = call(&world, &clerk, Method::GET, &status_path("SR1001"), None).await.json();
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!((history[0]["from"].as_str(), history[0]["to"].as_str()), (Some("active"), Some("inactive")));
    assert_eq!(history[0]["notice_sent"], "2025-04-01");
    assert_eq!(history[1]["reason"], "moved_confirmed_in_writing");
    assert_eq!(history[1]["effective_on"], "2026-10-20");
    let voter = call(&world, &clerk, Method::GET, &search_path("registration_number=SR1001"), None).await;
    assert_eq!(voter.json()[0]["status"], "removed");

    let entries = world.ledger("action=voter.status_change").await;
    let allowed: Vec<_> = entries.iter().filter(|entry| entry["outcome"] == "allowed").collect();
    assert_eq!(allowed.len(), 2, "{entries:?}");
    let targets = allowed[0]["targets"].as_array().unwrap();
    for expected in ["voter:SR1001", "reason:moved_confirmed_in_writing", "status:removed"] {
        assert!(targets.iter().any(|target| target == expected), "{expected} in {targets:?}");
    }
    assert!(!serde_json::to_string(&entries).unwrap().contains("Hopper"), "no PII in the ledger");

    // Observers may not change a status.
    let observer = world.member("observer", StaffRole::Observer).await;
    let reply =
        change(&world, &observer, "SR1002", serde_json::json!({ "status": "removed", "reason": "death" })).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_pages_search_without_javascript_and_change_a_status_through_a_form() {
    let world = World::new().await;
    world.member("clerk", StaffRole::RegistrationClerk).await;
    let session = Session::open(&world.test.node, &world.app, "clerk").await;

    let home = session.get("/voters").await;
    assert!(home.body.contains(&format!("/jurisdictions/{COUNTY}/voters")), "{}", home.body);
    let form = session.get(&format!("/jurisdictions/{COUNTY}/voters")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains("name=\"ssn4\"") && form.body.contains("name=\"reason\"") && !form.body.contains("<script")
    );

    let search = format!("/jurisdictions/{COUNTY}/voters");
    let fields = [("last_name", "Hopper"), ("first_name", "Grace")];
    let forged = session.post(&search, &fields, false).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "a post without its anti-forgery token is refused");
    let found = session.post(&search, &fields, true).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert!(found.body.contains("SR1001") && found.body.contains("SR1002") && !found.body.contains("1906-12-09"));

    let confidential =
        [("ssn4", "1234"), ("last_name", "Hopper"), ("birth_date", "1906-12-09"), ("confidential", "on")];
    let refused = session.post(&search, &confidential, true).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("reason"), "{}", refused.body);
    let mut with_reason = confidential.to_vec();
    with_reason.push(("reason", "Voter at the counter"));
    let opened = session.post(&search, &with_reason, true).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.body);
    assert!(opened.body.contains("NC-DL-555") && opened.body.contains("1906-12-09"), "{}", opened.body);
    let reads = world.ledger("action=voter.read").await;
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0]["justification"], "Voter at the counter");

    let voter_page = format!("/jurisdictions/{COUNTY}/voters/SR1003");
    let page = session.get(&voter_page).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("No status change recorded") && page.body.contains("change_of_address_after_notice"));
    let status = format!("{voter_page}/status");
    let change = [("status", "removed"), ("reason", "death"), ("effective", "2025-03-01")];
    let changed = session.post(&status, &change, true).await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    let page = session.get(&voter_page).await;
    assert!(page.body.contains("2025-03-01") && page.body.contains("removed on notice of death"), "{}", page.body);
    let nvra = [("status", "active"), ("reason", "reactivated_by_contact")];
    let refused = session.post(&status, &nvra, true).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains("reactivated_by_contact"), "the rule's sentence is shown: {}", refused.body);
}
