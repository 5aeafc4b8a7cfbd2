//! The incident register through the real admin app: opening by hand and updating through the
//! API, the mail to the jurisdiction's and its state's administrators for new and escalated
//! incidents (read from the outbox), refused transitions, PUT/DELETE refused with 405 and
//! recorded, and the detectors (failed sign-ins per account and per address, failed unseals)
//! opening one incident per subject in scripted scenarios.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;

use axum::{
    Router,
    extract::ConnectInfo,
    http::{Method, StatusCode},
};
use canvass_core::{
    access::{Grant, StaffRole},
    credential::{EmailAddress, Username},
    id::JurisdictionId,
    jurisdiction::{Jurisdiction, JurisdictionKind},
    name::Name,
};
use canvass_crypto::{SecretString, generate_password};
use canvass_server::{access, admin_app, keys, service, staff};
use canvass_store::{IncidentQuery, Store};
use support::{PASSWORD, Reply, TestNode, send, test_node};

const STATE: &str = "st-inc";
const COUNTY: &str = "co-inc";
const OTHER_COUNTY: &str = "co-far";

fn id(value: &str) -> JurisdictionId {
    JurisdictionId::parse(value).unwrap()
}

struct World {
    test: TestNode,
    app: Router,
}

impl World {
    async fn new(config: &str) -> Self {
        let test = test_node(config, false).await;
        let store = test.node.store();
        let audit = test.node.system_audit();
        for (place, kind, parent) in [
            (STATE, JurisdictionKind::State, None),
            (COUNTY, JurisdictionKind::County, Some(STATE)),
            (OTHER_COUNTY, JurisdictionKind::County, Some(STATE)),
        ] {
            let jurisdiction =
                Jurisdiction { id: id(place), name: Name::parse(place).unwrap(), kind, parent: parent.map(id) };
            service::add_jurisdiction(store, &audit, &jurisdiction).await.unwrap();
        }
        let app = admin_app(test.node.clone());
        Self { test, app }
    }

    fn store(&self) -> &dyn Store {
        self.test.node.store()
    }

    /// A staff account with password [`PASSWORD`], an email address and one grant; its token.
    async fn staff(&self, name: &str, role: StaffRole, jurisdiction: Option<&str>) -> String {
        let audit = self.test.node.system_audit();
        let username = Username::parse(name).unwrap();
        let email = EmailAddress::parse(&format!("{name}@example.gov")).unwrap();
        staff::add_account(self.store(), &audit, &username, Some(email), SecretString::from(PASSWORD)).await.unwrap();
        let grant = Grant::permanent(role, jurisdiction.map(id));
        staff::grant(self.store(), &audit, &username, &grant).await.unwrap();
        access::issue_token(self.store(), &audit, &username, &grant, "test", 1).await.unwrap().1
    }

    async fn call(&self, token: &str, method: Method, path: &str, body: Option<serde_json::Value>) -> Reply {
        let body = body.map(|body| body.to_string());
        send(&self.app, support::with_token(token, method, path, body.as_deref())).await
    }

    /// Recipients of every queued message whose subject contains `subject`, sorted.
    async fn mailed(&self, subject: &str) -> Vec<String> {
        let mut recipients: Vec<String> = self
            .store()
            .pending_mail(1_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|message| message.subject.contains(subject))
            .map(|message| message.recipient)
            .collect();
        recipients.sort();
        recipients
    }

    async fn ledger(&self, query: &str) -> Vec<serde_json::Value> {
        let reply = send(
            &self.app,
            support::with_token(&self.test.admin_token, Method::GET, &format!("/api/audit?limit=1000&{query}"), None),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json()["entries"].as_array().unwrap().clone()
    }

    async fn incidents_of(&self, kind: &str) -> Vec<canvass_store::StoredIncident> {
        let all = self.store().incidents_matching(&IncidentQuery { limit: 100, ..IncidentQuery::default() }).await;
        all.unwrap().into_iter().filter(|incident| incident.kind == kind).collect()
    }
}

#[tokio::test]
async fn new_and_escalated_incidents_are_mailed_to_the_county_and_state_administrators() {
    let world = World::new("").await;
    let county_admin = world.staff("county-boss", StaffRole::CountyAdministrator, Some(COUNTY)).await;
    world.staff("state-boss", StaffRole::StateAdministrator, Some(STATE)).await;
    world.staff("far-boss", StaffRole::CountyAdministrator, Some(OTHER_COUNTY)).await;
    let clerk = world.staff("clerk", StaffRole::RegistrationClerk, Some(COUNTY)).await;

    let new = serde_json::json!({
        "jurisdiction": COUNTY, "severity": "medium", "summary": "A staff laptop was lost.",
        "data_classes": ["credentials"], "records_affected": 0
    });
    let refused = world.call(&clerk, Method::POST, "/api/incidents", Some(new.clone())).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let opened = world.call(&county_admin, Method::POST, "/api/incidents", Some(new)).await;
    assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.body);
    let id = opened.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/api/incidents/{id}");
    assert_eq!(opened.json()["status"], "open");
    assert_eq!(opened.json()["data_classes"], serde_json::json!(["credentials"]));
    assert_eq!(world.mailed("New medium incident").await, ["county-boss@example.gov", "state-boss@example.gov"]);

    // Investigating: no escalation, no mail. A note alone is an update too.
    let investigating = serde_json::json!({ "status": "investigating", "public_text": "We are looking into it." });
    let reply = world.call(&county_admin, Method::POST, &format!("{path}/updates"), Some(investigating)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert!(world.mailed("Escalated").await.is_empty());

    // Raised severity: mailed again to both.
    let worse = serde_json::json!({
        "severity": "high", "records_affected": 12, "data_classes": ["voter_public", "credentials"],
        "internal_text": "The laptop had a cached export."
    });
    let reply = world.call(&county_admin, Method::POST, &format!("{path}/updates"), Some(worse)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(world.mailed("Escalated high incident").await, ["county-boss@example.gov", "state-boss@example.gov"]);

    let detail = world.call(&clerk, Method::GET, &path, None).await;
    assert_eq!(detail.status, StatusCode::FORBIDDEN, "a clerk may not search the ledger");
    let detail = world.call(&county_admin, Method::GET, &path, None).await.json();
    assert_eq!(detail["incident"]["severity"], "high");
    assert_eq!(detail["incident"]["status"], "investigating");
    assert_eq!(detail["incident"]["records_affected"], 12);
    assert_eq!(detail["incident"]["data_classes"], serde_json::json!(["credentials", "voter_public"]));
    let updates = detail["updates"].as_array().unwrap();
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[0]["public_text"], "We are looking into it.");
    assert_eq!(updates[1]["author"], format!("token:{}", support::token_id(&county_admin)));

    // Closed, then reopened: a reopening is an escalation.
    let closed = serde_json::json!({ "status": "closed", "public_text": "Resolved." });
    assert_eq!(
        world.call(&county_admin, Method::POST, &format!("{path}/updates"), Some(closed)).await.status,
        StatusCode::CREATED
    );
    let back_to_contained = serde_json::json!({ "status": "contained" });
    let refused = world.call(&county_admin, Method::POST, &format!("{path}/updates"), Some(back_to_contained)).await;
    assert_eq!((refused.status, refused.error_code().as_str()), (StatusCode::FORBIDDEN, "refused"), "{}", refused.body);
    let empty = world.call(&county_admin, Method::POST, &format!("{path}/updates"), Some(serde_json::json!({}))).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST, "{}", empty.body);
    let reopened = serde_json::json!({ "status": "investigating", "internal_text": "It was found, then lost again." });
    let reply = world.call(&county_admin, Method::POST, &format!("{path}/updates"), Some(reopened)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(world.mailed("Escalated").await.len(), 4, "the reopening is mailed to both too");
    assert_eq!(world.store().incident(&id).await.unwrap().unwrap().revision, 4);

    let entries = world.ledger(&format!("action=incident.update&record=incident:{id}")).await;
    let outcomes: Vec<&str> = entries.iter().map(|entry| entry["outcome"].as_str().unwrap()).collect();
    // Newest first: the reopening, the empty update (failed: bad input), the refused step, the
    // closing, the raised severity, the investigation.
    assert_eq!(outcomes, ["allowed", "failed", "denied", "allowed", "allowed", "allowed"], "{entries:?}");
    assert_eq!(world.ledger(&format!("action=incident.open&record=incident:{id}")).await.len(), 1);

    // The listing filters by jurisdiction and status, and refuses an unknown status.
    for (query, expected) in [
        (format!("jurisdiction={COUNTY}&status=investigating"), 1),
        (format!("jurisdiction={OTHER_COUNTY}"), 0),
        ("status=closed".to_owned(), 0),
    ] {
        let listed = world.call(&county_admin, Method::GET, &format!("/api/incidents?{query}"), None).await.json();
        assert_eq!(listed.as_array().map(Vec::len), Some(expected), "{query}: {listed}");
    }
    let bad = world.call(&county_admin, Method::GET, "/api/incidents?status=resolved", None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
}

#[tokio::test]
async fn deleting_or_replacing_an_incident_is_refused_and_recorded() {
    let world = World::new("").await;
    let county_admin = world.staff("county-boss", StaffRole::CountyAdministrator, Some(COUNTY)).await;
    let new = serde_json::json!({ "jurisdiction": COUNTY, "severity": "low", "summary": "A test incident." });
    let opened = world.call(&county_admin, Method::POST, "/api/incidents", Some(new)).await;
    let id = opened.json()["id"].as_str().unwrap().to_owned();
    let before = world.store().incident(&id).await.unwrap().unwrap();
    let replacement = serde_json::json!({ "severity": "low", "summary": "Nothing happened." });
    for (method, body) in [(Method::DELETE, None), (Method::PUT, Some(replacement))] {
        for token in [&county_admin, &world.test.admin_token] {
            let reply = world.call(token, method.clone(), &format!("/api/incidents/{id}"), body.clone()).await;
            assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {}", reply.body);
            assert_eq!(reply.error_code(), "method_not_allowed");
            assert_eq!(reply.header(axum::http::header::ALLOW), Some("GET"));
        }
    }
    let refusals = world.ledger(&format!("action=incident.update&record=incident:{id}&outcome=denied")).await;
    assert_eq!(refusals.len(), 4, "{refusals:?}");
    assert_eq!(world.store().incident(&id).await.unwrap().unwrap(), before);
    assert!(world.store().incident_updates(&id).await.unwrap().is_empty());
}

fn from_address(
    mut request: axum::http::Request<axum::body::Body>,
    address: &str,
) -> axum::http::Request<axum::body::Body> {
    let socket: SocketAddr = format!("{address}:40000").parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(socket));
    request
}

async fn failed_sign_in(world: &World, username: &str, address: &str) -> Reply {
    let fields = [("username", username), ("password", "not the password at all"), ("code", "")];
    send(&world.app, from_address(support::form("/login", &fields, &[]), address)).await
}

#[tokio::test]
async fn repeated_failed_sign_ins_open_one_incident_per_account_and_per_address() {
    let world = World::new("[access]\nfailed_logins_per_account = 3\nfailed_logins_per_address = 5\n").await;
    world.staff("county-boss", StaffRole::CountyAdministrator, Some(COUNTY)).await;
    world.staff("clerk", StaffRole::RegistrationClerk, Some(COUNTY)).await;
    for _ in 0..2 {
        failed_sign_in(&world, "clerk", "192.0.2.10").await;
    }
    assert!(world.incidents_of("failed_sign_in").await.is_empty(), "two failures are a typo");
    failed_sign_in(&world, "clerk", "192.0.2.10").await;
    let opened = world.incidents_of("failed_sign_in").await;
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!(opened[0].subject.as_ref().map(Username::as_str), Some("clerk"));
    assert_eq!(opened[0].jurisdiction, Some(id(COUNTY)), "the account's county");
    assert_eq!(opened[0].data_classes, ["credentials"]);
    assert!(!opened[0].summary.contains("192.0.2"), "{}", opened[0].summary);
    assert_eq!(world.mailed("failed_sign_in").await, ["county-boss@example.gov"]);
    // Locked out: more attempts are refused before they are checked, and open nothing new.
    assert_eq!(failed_sign_in(&world, "clerk", "192.0.2.10").await.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(world.incidents_of("failed_sign_in").await.len(), 1);

    // One address guessing across accounts: its own incident, node-wide, once.
    for number in 1..=6 {
        world.staff(&format!("observer-{number}"), StaffRole::Observer, Some(COUNTY)).await;
    }
    for number in 1..=6 {
        failed_sign_in(&world, &format!("observer-{number}"), "198.51.100.7").await;
    }
    let by_address: Vec<_> = world
        .incidents_of("failed_sign_in")
        .await
        .into_iter()
        .filter(|incident| incident.detector_key.as_deref() == Some("failed_sign_in:address:198.51.100.7"))
        .collect();
    assert_eq!(by_address.len(), 1, "{by_address:?}");
    assert_eq!(by_address[0].jurisdiction, None);
    let opened = world.ledger("action=incident.open&actor=system").await;
    assert!(opened.len() >= 2, "{opened:?}");
}

#[tokio::test]
async fn repeated_wrong_unseal_passphrases_open_an_incident_and_later_ones_add_updates() {
    let world = World::new("").await;
    world.staff("county-boss", StaffRole::CountyAdministrator, Some(COUNTY)).await;
    let store = world.store();
    let audit = world.test.node.system_audit();
    let passphrase = generate_password(4).unwrap();
    keys::create_key_ring(store, &audit, &id(COUNTY), passphrase, 1_000).await.unwrap();
    let wrong = || SecretString::from("correct horse battery wrong".to_owned());
    for attempt in 1..=4 {
        let refused = keys::unseal_with_passphrase(store, &audit, &id(COUNTY), wrong()).await;
        assert!(matches!(refused, Err(canvass_server::ServerError::WrongSecret(_))), "{refused:?}");
        let opened = world.incidents_of("failed_unseal").await;
        match attempt {
            1 | 2 => assert!(opened.is_empty(), "attempt {attempt}: {opened:?}"),
            _ => {
                assert_eq!(opened.len(), 1, "attempt {attempt}: one incident per ring: {opened:?}");
                assert_eq!(opened[0].jurisdiction, Some(id(COUNTY)));
                assert_eq!(opened[0].severity, "high");
                assert_eq!(opened[0].revision, attempt - 3, "later failures are updates");
            }
        }
    }
    let timeline = store.incident_updates(&world.incidents_of("failed_unseal").await[0].id).await.unwrap();
    assert_eq!(timeline[0].author, "system");
    assert!(timeline[0].internal_text.starts_with("Detected again"), "{timeline:?}");
    assert_eq!(world.mailed("failed_unseal").await, ["county-boss@example.gov"], "mailed once: no escalation");
}

#[tokio::test]
async fn the_admin_pages_list_show_and_update_an_incident() {
    let world = World::new("").await;
    let county_admin = world.staff("county-boss", StaffRole::CountyAdministrator, Some(COUNTY)).await;
    let page_form = |path: &str, fields: &[(&str, &str)]| {
        let mut request = support::form(path, fields, &[]);
        request
            .headers_mut()
            .insert(axum::http::header::AUTHORIZATION, support::bearer(&county_admin).parse().unwrap());
        request
    };
    let fields = [
        ("jurisdiction", COUNTY),
        ("severity", "high"),
        ("summary", "Phishing mail reached the county's clerks."),
        ("class_credentials", "on"),
        ("records_affected", "0"),
    ];
    let opened = send(&world.app, page_form("/incidents", &fields)).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let location = opened.header(axum::http::header::LOCATION).unwrap().to_owned();
    assert!(location.starts_with("/incidents/inc-"), "{location}");

    let listed = world.call(&county_admin, Method::GET, "/incidents", None).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(
        listed.body.contains("Phishing mail reached the county") && listed.body.contains(&location),
        "{}",
        listed.body
    );
    let dashboard = world.call(&county_admin, Method::GET, "/", None).await;
    assert!(dashboard.body.contains(&location), "the dashboard links the incident");

    let update = [
        ("status", "contained"),
        ("severity", "high"),
        ("class_credentials", "on"),
        ("class_voter_public", "on"),
        ("records_affected", "3"),
        ("actions_taken", "Passwords reset."),
        ("public_text", "Three accounts were reset."),
        ("internal_text", "Sender blocked at the gateway."),
    ];
    let updated = send(&world.app, page_form(&format!("{location}/updates"), &update)).await;
    assert_eq!(updated.status, StatusCode::SEE_OTHER, "{}", updated.body);
    let shown = world.call(&county_admin, Method::GET, &location, None).await;
    for expected in
        ["contained", "Three accounts were reset.", "Sender blocked at the gateway.", "credentials, voter_public"]
    {
        assert!(shown.body.contains(expected), "{expected}: {}", shown.body);
    }
    let bad =
        send(&world.app, page_form(&format!("{location}/updates"), &[("status", "open"), ("public_text", "x")])).await;
    assert_eq!(bad.status, StatusCode::FORBIDDEN, "contained cannot go back to open: {}", bad.body);
    let id = location.trim_start_matches("/incidents/");
    assert_eq!(world.store().incident_updates(id).await.unwrap().len(), 1);
}
