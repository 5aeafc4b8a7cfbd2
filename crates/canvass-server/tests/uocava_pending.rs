//! FPCAs from the anonymous form for a voter already on the roll (issue 9's hardening), through
//! the real public and admin routers: a new person is registered as before; the same person
//! again, asking for another email and address, changes nothing (held, sealed: the values are
//! not in the database file), gets the same answer page, and the voter is sent a notice at the
//! address on file; a staff member without `voters.write` is refused; a clerk sees the values
//! (a `voter.read` entry), and confirming (with the anti-forgery token) applies them exactly as
//! an FPCA is applied, once; rejecting records the reason and leaves the voter unchanged.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::{
    Router,
    http::{Method, StatusCode},
};
use canvass_core::{
    access::{Grant, StaffRole},
    audit::now,
    credential::Username,
    id::JurisdictionId,
    jurisdiction::JurisdictionKind,
};
use canvass_crypto::SecretString;
use canvass_server::{access, admin_app, outbox_seal, public_app, staff, voters};
use support::{PASSWORD, Reply, Session, TestNode, form, send, test_node};

const FIRST: &str = "Ottilie";
const LAST: &str = "Farshore";
const EMAIL: &str = "ottilie.farshore@examplia.invalid";
const OTHER_EMAIL: &str = "not-ottilie@attacker.invalid";
const OTHER_STREET: &str = "13 Hijack Lane";

struct World {
    test: TestNode,
    public: Router,
    admin: Router,
    county: JurisdictionId,
    precinct: String,
}

impl World {
    async fn new() -> Self {
        let test = test_node("", true).await;
        let content = &test.demo.as_ref().unwrap().content;
        let county = content.jurisdictions.iter().find(|j| j.kind == JurisdictionKind::County).unwrap();
        let precinct = content.precincts.iter().find(|p| p.jurisdiction == county.id).unwrap();
        let (county, precinct) = (county.id.clone(), precinct.id.to_string());
        let public = public_app(test.node.clone());
        let admin = admin_app(test.node.clone());
        Self { test, public, admin, county, precinct }
    }

    fn fields<'a>(&'a self, email: &'a str, street: &'a str) -> Vec<(&'static str, &'a str)> {
        vec![
            ("first_name", FIRST),
            ("last_name", LAST),
            ("birth_date", "1979-06-30"),
            ("county", self.county.as_str()),
            ("precinct", &self.precinct),
            ("street", street),
            ("city", "Examplia City"),
            ("zip", "99501"),
            ("mailing_address", "Rue Exemple 9\n75000 Paris\nFrance"),
            ("email", email),
            ("classification", "overseas"),
            ("delivery", "email"),
        ]
    }

    /// Sends the public form; whether it is applied or held, the answer comes no sooner than
    /// the form's fixed answer time, so timing does not tell who is on the roll either.
    async fn submit(&self, email: &str, street: &str) -> Reply {
        let started = std::time::Instant::now();
        let reply = send(&self.public, form("/uocava/fpca", &self.fields(email, street), &[])).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(started.elapsed() >= std::time::Duration::from_millis(400), "answered in {:?}", started.elapsed());
        reply
    }

    /// A staff member holding `role` on the roll (the jurisdiction whose ring holds the county's
    /// voters), and an API token acting as them.
    async fn member(&self, name: &str, role: StaffRole) -> String {
        let roll = self.test.node.store().pending_fpcas(false).await.unwrap()[0].jurisdiction.clone();
        let audit = self.test.node.system_audit();
        let store = self.test.node.store();
        let username = Username::parse(name).unwrap();
        staff::add_account(store, &audit, &username, None, SecretString::from(PASSWORD)).await.unwrap();
        let grant = Grant::permanent(role, Some(roll));
        staff::grant(store, &audit, &username, &grant).await.unwrap();
        access::issue_token(store, &audit, &username, &grant, "test", 1).await.unwrap().1
    }

    async fn with_token(&self, token: &str, method: Method, path: &str, fields: &[(&str, &str)]) -> Reply {
        let request = if method == Method::GET {
            support::with_token(token, Method::GET, path, None)
        } else {
            form(path, fields, &[("authorization", &support::bearer(token))])
        };
        send(&self.admin, request).await
    }

    /// The ledger's bodies, as text.
    async fn ledger(&self) -> String {
        let store = self.test.node.store();
        let size = store.ledger_size().await.unwrap();
        let rows = store.ledger_entries(0, u32::try_from(size).unwrap()).await.unwrap();
        rows.iter().map(|row| String::from_utf8_lossy(&row.body).into_owned()).collect::<Vec<_>>().join("\n")
    }

    async fn email_of(&self, number: &str) -> Option<String> {
        let store = self.test.node.store();
        let voter = store.voter(number).await.unwrap().unwrap();
        let ring = self.test.node.keys().current(store, &voter.jurisdiction).await.unwrap();
        voters::open_voter(&ring, &voter).unwrap().email
    }

    /// Registers the new person, then sends the hijacking form; returns the voter's number,
    /// the held request's id and both answer pages.
    async fn held(&self) -> (String, String, Reply, Reply) {
        let store = self.test.node.store();
        let first = self.submit(EMAIL, "5 Harbour Street").await;
        let year = now().date().year();
        let requests = store.uocava_requests(year).await.unwrap();
        assert_eq!(requests.len(), 1, "a new person is registered and their request recorded, as before");
        let number = requests[0].registration_number.clone();
        assert_eq!(self.email_of(&number).await.as_deref(), Some(EMAIL));
        let second = self.submit(OTHER_EMAIL, OTHER_STREET).await;
        let held = store.pending_fpcas(true).await.unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].registration_number, number);
        (number, held[0].id.clone(), first, second)
    }
}

/// The page's main content (the layout around it is the same for every page).
fn main_of(reply: &Reply) -> &str {
    let start = reply.body.find("<h1>").unwrap();
    &reply.body[start..]
}

#[tokio::test]
async fn an_fpca_for_a_voter_on_the_roll_is_held_until_a_clerk_confirms() {
    let world = World::new().await;
    let store = world.test.node.store();
    let year = now().date().year();
    let ledger_reads_before = world.ledger().await.matches("voter.read").count();
    let (number, id, first, second) = world.held().await;
    let before = store.voter(&number).await.unwrap().unwrap();

    // The same answer whether applied or held: the form does not tell who is on the roll.
    assert_eq!(main_of(&first), main_of(&second));
    assert!(second.body.contains("Request received") && second.body.contains("may contact you to confirm"));
    assert!(!second.body.contains(OTHER_EMAIL) && !second.body.contains(&number));

    // Nothing changed: the record, the requests.
    assert_eq!(store.voter(&number).await.unwrap().unwrap(), before);
    assert_eq!(world.email_of(&number).await.as_deref(), Some(EMAIL));
    assert_eq!(store.uocava_requests(year).await.unwrap().len(), 1);
    // Held sealed: the new values are nowhere in the database or the ledger.
    let held = store.pending_fpca(&id).await.unwrap().unwrap();
    for value in [OTHER_EMAIL, OTHER_STREET, FIRST, LAST] {
        assert!(!held.sealed_request.windows(value.len()).any(|window| window == value.as_bytes()), "{value}");
    }
    let database = world.test.database_path();
    let stored: Vec<u8> = [database.clone(), database.with_extension("db-wal")]
        .iter()
        .filter_map(|path| std::fs::read(path).ok())
        .flatten()
        .collect();
    assert!(stored.windows(id.len()).any(|window| window == id.as_bytes()), "the scan sees the held row");
    for value in [OTHER_EMAIL, OTHER_STREET] {
        assert!(!stored.windows(value.len()).any(|window| window == value.as_bytes()), "{value} at rest");
    }
    let ledger = world.ledger().await;
    assert!(ledger.contains("uocava.hold") && ledger.contains(&format!("fpca:{id}")));
    assert!(!ledger.contains(OTHER_EMAIL) && !ledger.contains("Hijack"));

    // The voter is told, at the address on file, through a sealed outbox message.
    let recipient = format!("voter:{number}");
    let mail = store.recent_mail(20).await.unwrap();
    let notice = mail.iter().find(|message| message.subject.contains("change to your voter record")).unwrap();
    assert_eq!(notice.recipient, recipient);
    assert!(outbox_seal::is_sealed(&notice.body));
    let ring = world.test.node.keys().current(store, &before.jurisdiction).await.unwrap();
    let text = outbox_seal::open_body(&ring, &recipient, &notice.body).unwrap();
    assert!(text.contains("If you did not make this request") && !text.contains(OTHER_EMAIL), "{text}");

    // Staff without `voters.write` are refused, and nothing changes.
    let auditor = world.member("fpca-auditor", StaffRole::Auditor).await;
    let path = format!("/uocava/pending/{id}");
    assert_eq!(world.with_token(&auditor, Method::GET, &path, &[]).await.status, StatusCode::FORBIDDEN);
    let refused = world.with_token(&auditor, Method::POST, &format!("{path}/confirm"), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(!world.with_token(&auditor, Method::GET, "/uocava/pending", &[]).await.body.contains(&id));
    assert_eq!(store.voter(&number).await.unwrap().unwrap(), before);

    // A clerk of the county: the list, the values (a confidential read on the record), and the
    // confirmation (the anti-forgery token required).
    world.member("fpca-clerk", StaffRole::RegistrationClerk).await;
    let session = Session::open(&world.test.node, &world.admin, "fpca-clerk").await;
    let list = session.get("/uocava/pending").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains(&id) && list.body.contains(&number) && !list.body.contains(OTHER_EMAIL));
    let detail = session.get(&path).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.body);
    assert!(detail.body.contains(OTHER_EMAIL) && detail.body.contains(OTHER_STREET), "{}", detail.body);
    assert!(world.ledger().await.matches("voter.read").count() > ledger_reads_before, "the view is a read");
    let forged = session.post(&format!("{path}/confirm"), &[], false).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    assert_eq!(world.email_of(&number).await.as_deref(), Some(EMAIL));

    let confirmed = session.post(&format!("{path}/confirm"), &[], true).await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER, "{}", confirmed.body);
    assert_eq!(world.email_of(&number).await.as_deref(), Some(OTHER_EMAIL), "applied as an FPCA is");
    let requests = store.uocava_requests(year).await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].registration_number, number);
    let decision = store.pending_fpca(&id).await.unwrap().unwrap().decision.unwrap();
    assert!(decision.confirmed && decision.actor.contains("fpca-clerk"), "{decision:?}");
    assert!(store.pending_fpcas(true).await.unwrap().is_empty());
    let again = session.post(&format!("{path}/confirm"), &[], true).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "decided once: {}", again.body);
    let ledger = world.ledger().await;
    assert!(ledger.contains("uocava.confirm"));
}

#[tokio::test]
async fn rejecting_a_held_fpca_leaves_the_voter_unchanged() {
    let world = World::new().await;
    let store = world.test.node.store();
    let (number, id, _, _) = world.held().await;
    let before = store.voter(&number).await.unwrap().unwrap();
    let clerk = world.member("fpca-clerk", StaffRole::RegistrationClerk).await;
    let path = format!("/uocava/pending/{id}/reject");

    let no_reason = world.with_token(&clerk, Method::POST, &path, &[("reason", " ")]).await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST, "{}", no_reason.body);
    assert!(store.pending_fpca(&id).await.unwrap().unwrap().decision.is_none());

    let reason = "the voter says they did not send it";
    let rejected = world.with_token(&clerk, Method::POST, &path, &[("reason", reason)]).await;
    assert_eq!(rejected.status, StatusCode::SEE_OTHER, "{}", rejected.body);
    let decision = store.pending_fpca(&id).await.unwrap().unwrap().decision.unwrap();
    assert!(!decision.confirmed);
    assert_eq!(decision.reason, reason);
    assert_eq!(store.voter(&number).await.unwrap().unwrap(), before);
    assert_eq!(world.email_of(&number).await.as_deref(), Some(EMAIL));
    assert_eq!(store.uocava_requests(now().date().year()).await.unwrap().len(), 1);

    let confirm = world.with_token(&clerk, Method::POST, &format!("/uocava/pending/{id}/confirm"), &[]).await;
    assert_eq!(confirm.status, StatusCode::CONFLICT, "{}", confirm.body);
    assert_eq!(world.email_of(&number).await.as_deref(), Some(EMAIL));
    let unknown =
        world.with_token(&clerk, Method::POST, "/uocava/pending/fpca-nothing/reject", &[("reason", "x")]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(world.ledger().await.contains("uocava.reject"));
}

/// The demo holds one FPCA (a second form for its overseas voter), shown to its administrator
/// at `/uocava/pending`.
#[tokio::test]
async fn the_demo_holds_one_fpca_for_the_administrator() {
    let world = World::new().await;
    let store = world.test.node.store();
    let content = &world.test.demo.as_ref().unwrap().content;
    let audit = world.test.node.system_audit();
    let keys = world.test.node.keys();
    let overseas = canvass_server::demo_uocava::load(store, &audit, keys, content, "").await.unwrap();
    let before = store.voter(&overseas.registration_number).await.unwrap().unwrap();
    let id = canvass_server::demo_uocava::load_held(store, &audit, keys, content).await.unwrap();
    let held = store.pending_fpcas(true).await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(
        (held[0].id.as_str(), held[0].registration_number.as_str()),
        (id.as_str(), overseas.registration_number.as_str())
    );
    assert_eq!(store.voter(&overseas.registration_number).await.unwrap().unwrap(), before, "held, not applied");
    let list = world.with_token(&world.test.admin_token, Method::GET, "/uocava/pending", &[]).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains(&id) && list.body.contains("waiting"), "{}", list.body);

    // A rotation keeps the key version the held request is sealed under until it is decided
    // (its rows are append-only, so they are not resealed).
    let roll = held[0].jurisdiction.clone();
    let ring = keys.current(store, &roll).await.unwrap();
    let old = ring.active_version();
    canvass_server::keys::rotate(store, &audit, &ring).await.unwrap();
    let ring = canvass_server::keys::reload(store, &ring).await.unwrap();
    while voters::reseal_batch(store, &audit, &ring, old, 500).await.unwrap() > 0 {}
    for message in store.pending_mail(100).await.unwrap() {
        store.mark_mail_sent(message.id, canvass_core::audit::now_millis()).await.unwrap();
    }
    assert!(canvass_server::keys::retire_unused(store, &audit, &roll).await.unwrap().is_empty(), "still held");
    let opened = canvass_server::uocava_pending::open_pending(&audit, &ring, &held[0]).await.unwrap();
    assert!(opened.iter().any(|(_, value)| value == "someone.else@examplia.invalid"), "{opened:?}");
    canvass_server::uocava_pending::reject(store, &audit, &id, "demo test").await.unwrap();
    assert_eq!(canvass_server::keys::retire_unused(store, &audit, &roll).await.unwrap(), vec![old]);
}
