//! Absentee and provisional ballots through the real admin router: legal steps stored with
//! their history and cure deadline, illegal ones refused with 422 `ballot_step_refused` and the
//! rule's sentence (changing nothing), bad fields 400s naming them, the roles without
//! `ballots.read` / `ballots.record` refused, every step and refusal a ledger entry without
//! personal values, and the voter page's form recording a step without JavaScript.
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
    election::{Election, ElectionKind},
    id::{ElectionId, JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct},
    name::Name,
};
use canvass_crypto::{SecretString, generate_password};
use canvass_server::{access, admin_app, keys, service, staff};
use serde_json::json;
use support::{PASSWORD, Reply, Session, TestNode, send, test_node};
use time::macros::date;

const STATE: &str = "st-ballots";
const COUNTY: &str = "co-ballots";
/// Past: its cure deadline (November 12, 2026) has passed.
const PAST: &str = "general-2026";
/// Ahead: its cure deadline is November 11, 2027.
const AHEAD: &str = "general-2027";

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
        for (election, date) in [(PAST, date!(2026 - 11 - 03)), (AHEAD, date!(2027 - 11 - 02))] {
            let election = Election {
                id: ElectionId::parse(election).unwrap(),
                jurisdiction: id(STATE),
                name: Name::parse(&format!("{} General Election", date.year())).unwrap(),
                kind: ElectionKind::General,
                date,
            };
            store.insert_election(&election, &[]).await.unwrap();
        }
        let ring =
            keys::create_key_ring(store, &audit, &id(COUNTY), generate_password(4).unwrap(), 10_000).await.unwrap();
        test.node.keys().insert(id(COUNTY), ring).unwrap();
        let app = admin_app(test.node.clone());
        let world = Self { test, app };
        world.add_voter("BV1001", "Grace", "Hopper").await;
        world.add_voter("BV1002", "Ada", "Lovelace").await;
        world
    }

    async fn add_voter(&self, number: &str, first: &str, last: &str) {
        let body = serde_json::json!({
            "jurisdiction": COUNTY, "registration_number": number, "county": COUNTY,
            "precinct": format!("{COUNTY}-p1"), "first_name": first, "last_name": last,
            "party": "una", "status": "active", "registered_on": "2010-01-04", "birth_date": "1950-01-01",
        });
        let reply = send(
            &self.app,
            support::with_token(&self.test.admin_token, Method::POST, "/api/voters", Some(&body.to_string())),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
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
        let path = format!("/api/audit?limit=1000&{query}");
        let reply = send(&self.app, support::with_token(&self.test.admin_token, Method::GET, &path, None)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json()["entries"].as_array().unwrap().clone()
    }
}

fn ballots_path(number: &str) -> String {
    format!("/api/jurisdictions/{COUNTY}/voters/{number}/ballots")
}

async fn step(world: &World, token: &str, number: &str, body: serde_json::Value) -> Reply {
    send(&world.app, support::with_token(token, Method::POST, &ballots_path(number), Some(&body.to_string()))).await
}

async fn list(world: &World, token: &str, number: &str) -> Reply {
    send(&world.app, support::with_token(token, Method::GET, &ballots_path(number), None)).await
}

/// Records a step that must be allowed; returns the ballot as answered.
async fn allowed(world: &World, token: &str, number: &str, body: serde_json::Value) -> serde_json::Value {
    let reply = step(world, token, number, body.clone()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{body}: {}", reply.body);
    reply.json()
}

/// Records a step that must be refused with `status` and `code`, its message holding `fragment`.
async fn refused(
    world: &World,
    token: &str,
    number: &str,
    body: serde_json::Value,
    expected: (StatusCode, &str, &str),
) {
    let (status, code, fragment) = expected;
    let reply = step(world, token, number, body.clone()).await;
    assert_eq!(reply.status, status, "{body}: {}", reply.body);
    assert_eq!(reply.error_code(), code, "{body}: {}", reply.body);
    let message = reply.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains(fragment), "{body}: `{message}` lacks `{fragment}`");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absentee_ballot_moves_only_as_the_rules_allow_and_keeps_its_history() {
    let world = World::new().await;
    let clerk = world.member("clerk", StaffRole::RegistrationClerk).await;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;

    // Steps out of order are refused with the rule's sentence.
    refused(
        &world,
        &clerk,
        "BV1001",
        json!({ "election": AHEAD, "step": "send" }),
        (StatusCode::NOT_FOUND, "not_found", "record `request` first"),
    )
    .await;
    allowed(&world, &clerk, "BV1001", json!({ "election": AHEAD, "step": "request", "on": "2026-09-01" })).await;
    refused(
        &world,
        &clerk,
        "BV1001",
        json!({ "election": AHEAD, "step": "request" }),
        (StatusCode::CONFLICT, "already_exists", "cancel it"),
    )
    .await;
    refused(
        &world,
        &clerk,
        "BV1001",
        json!({ "election": AHEAD, "step": "accept" }),
        (unprocessable, "ballot_step_refused", "cannot go from requested to accepted"),
    )
    .await;
    refused(
        &world,
        &clerk,
        "BV1001",
        json!({ "election": AHEAD, "step": "adjudicate", "decision": "counted" }),
        (StatusCode::NOT_FOUND, "not_found", "no provisional ballot"),
    )
    .await;
    allowed(&world, &clerk, "BV1001", json!({ "election": AHEAD, "step": "send", "on": "2026-09-05" })).await;
    refused(
        &world,
        &clerk,
        "BV1001",
        json!({ "election": AHEAD, "step": "return", "on": "2026-09-04" }),
        (StatusCode::BAD_REQUEST, "invalid_input", "before the ballot's last step"),
    )
    .await;
    allowed(&world, &clerk, "BV1001", json!({ "election": AHEAD, "step": "return", "on": "2026-10-01" })).await;
    let rejected = allowed(
        &world,
        &clerk,
        "BV1001",
        json!({ "election": AHEAD, "step": "reject", "reason": "missing_witness", "on": "2026-10-02" }),
    )
    .await;
    assert_eq!(rejected["status"], "rejected:missing_witness");
    assert_eq!(rejected["cure_deadline"], "2027-11-11");
    assert!(
        rejected["public_line"].as_str().unwrap().contains("You can fix this until November 11, 2027"),
        "{rejected}"
    );
    allowed(&world, &clerk, "BV1001", json!({ "election": AHEAD, "step": "cure" })).await;
    let accepted = allowed(&world, &clerk, "BV1001", json!({ "election": AHEAD, "step": "accept" })).await;
    assert_eq!(accepted["status"], "accepted");
    refused(
        &world,
        &clerk,
        "BV1001",
        json!({ "election": AHEAD, "step": "cancel" }),
        (unprocessable, "ballot_step_refused", "accepted ballot is final"),
    )
    .await;

    // A rejection that no paper fixes, and one whose cure deadline has passed.
    for step in [
        json!({ "step": "request", "on": "2026-09-01" }),
        json!({ "step": "send", "on": "2026-09-02" }),
        json!({ "step": "return", "on": "2026-11-10" }),
    ] {
        let mut body = step.clone();
        body["election"] = PAST.into();
        allowed(&world, &clerk, "BV1002", body).await;
    }
    allowed(
        &world,
        &clerk,
        "BV1002",
        json!({ "election": PAST, "step": "reject", "reason": "signature_mismatch", "on": "2026-11-10" }),
    )
    .await;
    refused(
        &world,
        &clerk,
        "BV1002",
        json!({ "election": PAST, "step": "cure" }),
        (unprocessable, "ballot_step_refused", "The cure deadline was November 12, 2026"),
    )
    .await;
    // Recorded late but dated inside the deadline, the cure is accepted.
    allowed(&world, &clerk, "BV1002", json!({ "election": PAST, "step": "cure", "on": "2026-11-12" })).await;

    let ballots = list(&world, &clerk, "BV1001").await;
    assert_eq!(ballots.status, StatusCode::OK, "{}", ballots.body);
    let ballots = ballots.json();
    let ballot = &ballots.as_array().unwrap()[0];
    assert_eq!(ballot["kind"], "absentee");
    assert_eq!(ballot["status"], "accepted");
    assert_eq!(ballot["cure_deadline"], "2027-11-11", "the deadline stays on record after the cure");
    let history: Vec<(String, String)> = ballot["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| (change["from"].as_str().unwrap_or("").to_owned(), change["to"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [
        ("", "requested"),
        ("requested", "sent"),
        ("sent", "returned"),
        ("returned", "rejected:missing_witness"),
        ("rejected:missing_witness", "cured"),
        ("cured", "accepted"),
    ];
    assert_eq!(history, expected.map(|(from, to)| (from.to_owned(), to.to_owned())));
    assert_eq!(ballot["history"][0]["actor"], "token:".to_owned() + support::token_id(&clerk));

    // Every step and every refusal is in the ledger, without personal values.
    let entries = world.ledger("action=ballot.record").await;
    let (granted, denied): (Vec<_>, Vec<_>) = entries.iter().partition(|entry| entry["outcome"] == "allowed");
    assert_eq!(granted.len(), 11, "{entries:?}");
    assert_eq!(denied.len(), 7, "{entries:?}");
    let reject = granted
        .iter()
        .find(|entry| {
            let targets = entry["targets"].as_array().unwrap();
            targets.iter().any(|target| target == "step:reject")
                && targets.iter().any(|target| target == "voter:BV1001")
        })
        .unwrap();
    for expected in ["voter:BV1001", &format!("election:{AHEAD}"), "absentee:rejected:missing_witness"] {
        assert!(
            reject["targets"].as_array().unwrap().iter().any(|target| target == expected),
            "{expected} in {reject}"
        );
    }
    let text = serde_json::to_string(&entries).unwrap();
    assert!(
        !text.contains("Hopper") && !text.contains("Lovelace") && !text.contains("1950-01-01"),
        "no PII in the ledger"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provisional_ballot_is_decided_once_and_bad_input_changes_nothing() {
    let world = World::new().await;
    let clerk = world.member("clerk", StaffRole::RegistrationClerk).await;
    allowed(&world, &clerk, "BV1001", json!({ "election": PAST, "step": "cast", "on": "2026-11-03" })).await;
    let decided = allowed(
        &world,
        &clerk,
        "BV1001",
        json!({ "election": PAST, "step": "adjudicate", "decision": "not_counted", "reason": "wrong_precinct" }),
    )
    .await;
    assert_eq!(decided["status"], "not_counted:wrong_precinct");
    assert!(
        decided["public_line"].as_str().unwrap().contains("was not counted because it was cast outside your precinct")
    );
    refused(
        &world,
        &clerk,
        "BV1001",
        json!({ "election": PAST, "step": "adjudicate", "decision": "counted" }),
        (StatusCode::UNPROCESSABLE_ENTITY, "ballot_step_refused", "decided once"),
    )
    .await;
    refused(
        &world,
        &clerk,
        "BV1001",
        json!({ "election": PAST, "step": "send" }),
        (StatusCode::NOT_FOUND, "not_found", "no absentee ballot"),
    )
    .await;

    let bad: [(serde_json::Value, &str); 8] = [
        (json!({ "election": PAST, "step": "mail" }), "step:"),
        (json!({ "election": PAST, "step": "request", "reason": "other" }), "reason:"),
        (json!({ "election": PAST, "step": "adjudicate" }), "decision:"),
        (json!({ "election": PAST, "step": "adjudicate", "decision": "not_counted" }), "reason:"),
        (json!({ "election": "", "step": "request" }), "election:"),
        (json!({ "election": PAST, "step": "request", "on": "someday" }), "on:"),
        (json!({ "election": PAST, "step": "request", "on": "2999-01-01" }), "on:"),
        (json!({ "election": PAST, "step": "request", "colour": "blue" }), "colour"),
    ];
    for (body, field) in bad {
        let reply = step(&world, &clerk, "BV1002", body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}: {}", reply.body);
        assert!(reply.body.contains(field), "{body}: {}", reply.body);
    }
    refused(
        &world,
        &clerk,
        "NOBODY",
        json!({ "election": PAST, "step": "request" }),
        (StatusCode::NOT_FOUND, "not_found", "no voter with registration number NOBODY"),
    )
    .await;
    refused(
        &world,
        &clerk,
        "BV1002",
        json!({ "election": "no-such-election", "step": "request" }),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_reference", "does not exist"),
    )
    .await;
    let ballots = list(&world, &clerk, "BV1002").await;
    assert_eq!(ballots.json().as_array().unwrap().len(), 0, "the refusals stored nothing");
    assert_eq!(list(&world, &clerk, "NOBODY").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auditors_read_ballots_clerks_record_them_and_others_are_refused() {
    let world = World::new().await;
    let clerk = world.member("clerk", StaffRole::RegistrationClerk).await;
    let auditor = world.member("auditor", StaffRole::Auditor).await;
    let observer = world.member("observer", StaffRole::Observer).await;
    let reporter = world.member("reporter", StaffRole::ResultsReporter).await;
    let request = serde_json::json!({ "election": AHEAD, "step": "request" });
    for token in [&auditor, &observer, &reporter] {
        let reply = step(&world, token, "BV1001", request.clone()).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    }
    assert_eq!(list(&world, &clerk, "BV1001").await.json().as_array().unwrap().len(), 0);
    allowed(&world, &clerk, "BV1001", request).await;
    let read = list(&world, &auditor, "BV1001").await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.json()[0]["status"], "requested");
    for token in [&observer, &reporter] {
        assert_eq!(list(&world, token, "BV1001").await.status, StatusCode::FORBIDDEN);
    }
    let denied = world.ledger("action=access.denied").await;
    assert!(denied.len() >= 5, "{denied:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_voter_page_shows_ballots_and_records_a_step_through_its_form() {
    let world = World::new().await;
    world.member("clerk", StaffRole::RegistrationClerk).await;
    let session = Session::open(&world.test.node, &world.app, "clerk").await;
    let voter_page = format!("/jurisdictions/{COUNTY}/voters/BV1001");
    let page = session.get(&voter_page).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("No absentee or provisional ballot recorded") && page.body.contains("name=\"step\""));
    assert!(!page.body.contains("<script"));
    let action = format!("{voter_page}/ballots");
    let fields = [("election", AHEAD), ("step", "request"), ("decision", ""), ("reason", ""), ("on", "2026-10-01")];
    let forged = session.post(&action, &fields, false).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "a post without its anti-forgery token is refused");
    let recorded = session.post(&action, &fields, true).await;
    assert_eq!(recorded.status, StatusCode::SEE_OTHER, "{}", recorded.body);
    let page = session.get(&voter_page).await;
    assert!(page.body.contains("requested") && page.body.contains("2026-10-01"), "{}", page.body);
    let illegal = [("election", AHEAD), ("step", "accept"), ("decision", ""), ("reason", ""), ("on", "")];
    let refused = session.post(&action, &illegal, true).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains("From requested it can be sent or cancelled."), "{}", refused.body);
}
