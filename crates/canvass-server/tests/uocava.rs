//! Overseas and military voters (issue 9) through the real public router and services: an FPCA
//! sent through the public form registers a `temporary` voter (sealed, in the right precinct)
//! and records the year's request; a ballot link asks for the date of birth, refuses a wrong
//! one, works once and then answers "used"; an expired link is refused; the 45-day report lists
//! a request not served in time. No personal value appears in an answer, the outbox or the
//! ledger.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::{Router, http::StatusCode};
use canvass_core::{
    audit::{now, now_millis},
    ballots::{AbsenteeStatus, BallotStatus},
    election::{Election, ElectionKind},
    id::ElectionId,
    jurisdiction::JurisdictionKind,
    name::Name,
    uocava::{Classification, DeadlineStanding, Delivery},
    voter::VoterStatus,
};
use canvass_server::{demo_uocava, keys, outbox_seal, public_app, uocava, voters};
use canvass_store::{DeliveryMethod, StoredUocavaDelivery, StoredUocavaRequest};
use support::{Reply, TestNode, form, get, send, test_node};
use time::Duration;

async fn demo() -> (TestNode, Router) {
    let test = test_node("", true).await;
    let app = public_app(test.node.clone());
    (test, app)
}

/// Every ledger entry's body, as text.
async fn ledger_text(test: &TestNode) -> String {
    let store = test.node.store();
    let size = store.ledger_size().await.unwrap();
    let rows = store.ledger_entries(0, u32::try_from(size).unwrap()).await.unwrap();
    rows.iter().map(|row| String::from_utf8_lossy(&row.body).into_owned()).collect::<Vec<_>>().join("\n")
}

const FIRST: &str = "Quennell";
const LAST: &str = "Farawayson";
const EMAIL: &str = "quennell.farawayson@examplia.invalid";
const STREET: &str = "77 Lighthouse Road";

fn fpca_fields<'a>(county: &'a str, precinct: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("first_name", FIRST),
        ("last_name", LAST),
        ("birth_date", "1988-02-29"),
        ("county", county),
        ("precinct", precinct),
        ("street", STREET),
        ("city", "Examplia City"),
        ("zip", "99501"),
        ("mailing_address", "PSC 1234 Box 5678\nAPO AE 09204"),
        ("email", EMAIL),
        ("classification", "military"),
        ("delivery", "email"),
    ]
}

fn assert_no_personal_value(text: &str, what: &str) {
    for value in [FIRST, LAST, EMAIL, STREET, "1988-02-29", "Lighthouse"] {
        assert!(!text.contains(value), "{what} holds `{value}`");
    }
}

#[tokio::test]
async fn an_fpca_through_the_form_registers_a_temporary_voter_and_records_the_request() {
    let (test, app) = demo().await;
    let store = test.node.store();
    let content = &test.demo.as_ref().unwrap().content;
    let county = content.jurisdictions.iter().find(|j| j.kind == JurisdictionKind::County).unwrap();
    let precinct = content.precincts.iter().find(|p| p.jurisdiction == county.id).unwrap();
    let (county_id, precinct_id) = (county.id.to_string(), precinct.id.to_string());

    let page = send(&app, get("/uocava/fpca")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("action=\"/uocava/fpca\"") && page.body.contains(&precinct_id));
    assert!(send(&app, get("/")).await.body.contains("href=\"/uocava/fpca\""), "linked from the front page");

    // Refusals name the field and write nothing.
    let ledger_before = store.ledger_size().await.unwrap();
    let mut fields = fpca_fields(&county_id, &precinct_id);
    fields.retain(|(name, _)| *name != "email");
    let refused = send(&app, form("/uocava/fpca", &fields, &[])).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("email address"), "{}", refused.body);
    assert_no_personal_value(&refused.body, "a refusal page");
    let mut fields = fpca_fields(&county_id, &precinct_id);
    fields.retain(|(name, _)| *name != "precinct");
    fields.push(("precinct", "ocd-division/country:us/nowhere/precinct:1"));
    assert_eq!(send(&app, form("/uocava/fpca", &fields, &[])).await.status, StatusCode::BAD_REQUEST);
    let year = now().date().year();
    assert!(store.uocava_requests(year).await.unwrap().is_empty());
    assert_eq!(store.ledger_size().await.unwrap(), ledger_before, "a refused form is not even a ledger entry");

    let accepted = send(&app, form("/uocava/fpca", &fpca_fields(&county_id, &precinct_id), &[])).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert!(accepted.body.contains("Request received"));
    assert_no_personal_value(&accepted.body, "the answer");

    let requests = store.uocava_requests(year).await.unwrap();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!((request.delivery, request.classification), (Delivery::Email, Classification::Military));
    let voter = store.voter(&request.registration_number).await.unwrap().unwrap();
    assert_eq!(voter.status, VoterStatus::Temporary, "a new UOCAVA registration is temporary");
    assert_eq!(voter.precinct, precinct.id);
    assert_eq!(voter.county, county.id);
    let ring = test.node.keys().current(store, &voter.jurisdiction).await.unwrap();
    let opened = voters::open_voter(&ring, &voter).unwrap();
    assert_eq!(opened.first_name.as_str(), FIRST);
    assert_eq!(opened.last_name.as_str(), LAST);
    assert_eq!(opened.email.as_deref(), Some(EMAIL));
    assert_eq!(opened.birth_date, Some(time::macros::date!(1988 - 02 - 29)));

    let ledger = ledger_text(&test).await;
    assert!(ledger.contains("uocava.request") && ledger.contains(&format!("voter:{}", request.registration_number)));
    assert_no_personal_value(&ledger, "the ledger");

    // The same FPCA again matches a voter on the roll: the anonymous form does not change them,
    // it is held for a clerk (tests/uocava_pending.rs), with the same answer.
    let again = send(&app, form("/uocava/fpca", &fpca_fields(&county_id, &precinct_id), &[])).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.body.contains("Request received"));
    assert_eq!(store.uocava_requests(year).await.unwrap().len(), 1);
    assert_eq!(store.pending_fpcas(true).await.unwrap().len(), 1);
    assert_eq!(store.voter(&request.registration_number).await.unwrap().unwrap().status, VoterStatus::Temporary);
}

async fn post_birth_date(app: &Router, path: &str, birth_date: &str) -> Reply {
    send(app, form(path, &[("birth_date", birth_date)], &[])).await
}

#[tokio::test]
async fn a_ballot_link_asks_for_the_birth_date_and_works_once() {
    let (test, app) = demo().await;
    let store = test.node.store();
    let content = &test.demo.as_ref().unwrap().content;
    let audit = test.node.system_audit();
    let demo = demo_uocava::load(store, &audit, test.node.keys(), content, "").await.unwrap();
    let path = demo.link.clone();
    assert!(path.starts_with("/uocava/ballot/"), "{path}");
    let token = path.trim_start_matches("/uocava/ballot/");

    // The token is stored only as its hash; the message is addressed by number.
    let deliveries = store.uocava_deliveries(&content.election.id).await.unwrap();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].method.token_hash(), Some(uocava::token_hash(token).unwrap().as_str()));
    // The message with the link is sealed under the voter's ring until the outbox sends it.
    let mail = store.recent_mail(10).await.unwrap();
    let recipient = format!("voter:{}", demo.registration_number);
    let message = mail.iter().find(|message| message.recipient == recipient).expect("the link message is queued");
    assert!(!message.body.contains(token) && outbox_seal::is_sealed(&message.body), "{}", message.body);
    let voter = store.voter(&demo.registration_number).await.unwrap().unwrap();
    let ring = test.node.keys().current(store, &voter.jurisdiction).await.unwrap();
    let opened = outbox_seal::open_body(&ring, &recipient, &message.body).unwrap();
    assert!(opened.contains(&path), "the sender opens the link");
    assert!(outbox_seal::open_body(&ring, "voter:SOMEONE-ELSE", &message.body).is_err(), "bound to its recipient");
    assert!(!opened.contains("examplia.invalid") && !message.recipient.contains('@'));
    let ballots = store.voter_ballots(&demo.registration_number).await.unwrap();
    assert_eq!(ballots[0].status, BallotStatus::Absentee(AbsenteeStatus::Sent), "the ballot is tracked as sent");

    let page = send(&app, get(&path)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Date of birth"));

    let wrong = post_birth_date(&app, &path, "1991-07-15").await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.body.contains("does not match"));
    assert!(!wrong.body.contains("1991-07-14"));
    let malformed = post_birth_date(&app, &path, "14/07/1991").await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(store.uocava_deliveries(&content.election.id).await.unwrap()[0].downloaded_at.is_none());

    let download = post_birth_date(&app, &path, &demo.birth_date).await;
    assert_eq!(download.status, StatusCode::OK, "{}", download.body);
    assert_eq!(download.header(axum::http::header::CONTENT_TYPE), Some("application/pdf"));
    assert_eq!(download.header(axum::http::header::CACHE_CONTROL), Some("no-store"));
    assert!(download.bytes.starts_with(b"%PDF-"));
    assert!(store.uocava_deliveries(&content.election.id).await.unwrap()[0].downloaded_at.is_some());

    for reused in [send(&app, get(&path)).await, post_birth_date(&app, &path, &demo.birth_date).await] {
        assert_eq!(reused.status, StatusCode::GONE);
        assert!(reused.body.contains("already used"));
    }
    // The marking page of the link's style still opens after the download (its contests are
    // public), under the marking page's policy; an unknown link's does not.
    let marking = send(&app, get(&format!("/uocava/mark/{token}"))).await;
    assert_eq!(marking.status, StatusCode::OK, "{}", marking.body);
    let policy = marking.header(axum::http::header::CONTENT_SECURITY_POLICY).unwrap();
    assert!(policy.contains("connect-src 'none'") && policy.contains("form-action 'none'"), "{policy}");
    assert!(page.body.contains(&format!("/uocava/mark/{token}")), "the link page offers the marking page");
    assert_eq!(send(&app, get(&format!("/uocava/mark/{}", "0".repeat(64)))).await.status, StatusCode::NOT_FOUND);
    let unknown = send(&app, get(&format!("/uocava/ballot/{}", "0".repeat(64)))).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(send(&app, get("/uocava/ballot/not-a-token")).await.status, StatusCode::NOT_FOUND);

    let ledger = ledger_text(&test).await;
    let downloads: Vec<&str> = ledger.lines().filter(|line| line.contains("uocava.download")).collect();
    assert!(downloads.iter().any(|line| line.contains("denied")), "the wrong date is on the record");
    assert!(downloads.iter().any(|line| line.contains("allowed")), "the download is on the record");
    assert!(!ledger.contains(token), "the link never reaches the ledger");
    assert!(!ledger.contains("Abroadwell") && !ledger.contains("1991-07-14"));
}

#[tokio::test]
async fn an_expired_link_is_refused() {
    let (test, app) = demo().await;
    let store = test.node.store();
    let content = &test.demo.as_ref().unwrap().content;
    let audit = test.node.system_audit();
    let demo = demo_uocava::load(store, &audit, test.node.keys(), content, "").await.unwrap();
    let token = "ab".repeat(32);
    let expired = StoredUocavaDelivery {
        id: 0,
        registration_number: demo.registration_number.clone(),
        election: content.election.id.clone(),
        style: "style-1".into(),
        method: DeliveryMethod::Link { token_hash: uocava::token_hash(&token).unwrap(), expires_at: now_millis() - 1 },
        sent_at: now_millis() - 8 * 86_400_000,
        downloaded_at: None,
    };
    store.insert_uocava_delivery(&expired).await.unwrap();
    let path = format!("/uocava/ballot/{token}");
    let page = send(&app, get(&path)).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.body.contains("expired"));
    let refused = post_birth_date(&app, &path, &demo.birth_date).await;
    assert_eq!(refused.status, StatusCode::GONE);
    assert!(!refused.bytes.starts_with(b"%PDF"));
}

#[tokio::test]
async fn the_45_day_report_lists_a_request_not_served_in_time() {
    let (test, _app) = demo().await;
    let store = test.node.store();
    let content = &test.demo.as_ref().unwrap().content;
    let today = now().date();
    // A special election 30 days out: its 45-day deadline passed 15 days ago.
    let soon = Election {
        id: ElectionId::parse("uocava-special").unwrap(),
        jurisdiction: content.election.jurisdiction.clone(),
        name: Name::parse("Special election").unwrap(),
        date: today + Duration::days(30),
        kind: ElectionKind::Special,
    };
    store.insert_election(&soon, &[]).await.unwrap();
    let voter = &content.voters[0];
    let request = StoredUocavaRequest {
        id: 0,
        registration_number: voter.registration_number.clone(),
        jurisdiction: voter.county.clone(),
        year: soon.date.year(),
        delivery: Delivery::Mail,
        classification: Classification::Overseas,
        received_at: now_millis(),
    };
    store.insert_uocava_request(&request).await.unwrap();

    let report = uocava::deadline_report(store, &soon.id, today).await.unwrap();
    assert_eq!(report.deadline, soon.date - Duration::days(45));
    let listed: Vec<_> = report.needing_action().collect();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].registration_number, voter.registration_number);
    assert_eq!(listed[0].standing, DeadlineStanding::Overdue(15));
    assert_eq!(listed[0].tracking, "requested");

    // Seen before the deadline, the same request has days left; unknown elections are refused.
    let earlier = uocava::deadline_report(store, &soon.id, today - Duration::days(25)).await.unwrap();
    assert_eq!(earlier.rows[0].standing, DeadlineStanding::DaysLeft(10));
    assert!(uocava::deadline_report(store, &ElectionId::parse("nowhere").unwrap(), today).await.is_err());
}

#[tokio::test]
async fn an_fpca_in_a_vri_file_takes_the_same_path() {
    use canvass_formats::vri::{
        BallotPeriod, BallotReceiptMethod, BallotRequest, Election as VriElection, RequestForm, RequestType,
    };
    use canvass_server::{
        ballots::AbsenteeRequestOutcome,
        vri_export,
        vri_import::{self, VriEncoding, VriSettings},
    };
    let (test, _app) = demo().await;
    let store = test.node.store();
    let content = &test.demo.as_ref().unwrap().content;
    let voter = &content.voters[0];
    let ring = test.node.keys().current(store, &voter.county).await.unwrap();
    // A voter already on the roll, written out as VRI and sent back as an FPCA asking for
    // the demo election's ballot by mail.
    let mut request = vri_export::export_request(store, &ring, &voter.registration_number).await.unwrap();
    request.form = Some(RequestForm::FederalPostCardApplication);
    request.request_types = vec![RequestType::Registration, RequestType::BallotRequest];
    request.ballot_request = Some(BallotRequest {
        period: BallotPeriod::ElectionBased(VriElection {
            name: None,
            start_date: content.election.date,
            end_date: None,
        }),
        receipt_preferences: vec![BallotReceiptMethod::Mail],
        mail_forwarding_address: None,
    });
    let bytes = vri_export::encode(&request, VriEncoding::Json).unwrap();
    let read = vri_import::read_bytes(&bytes, VriEncoding::Json).unwrap();
    assert!(uocava::is_fpca(&read));
    let settings = VriSettings { jurisdiction: voter.county.clone(), actor: "admin".into(), precinct: None };
    let audit = test.node.system_audit();
    let receipt = uocava::receive_fpca(store, &audit, &ring, &read, VriEncoding::Json, &settings).await.unwrap();
    assert_eq!(receipt.registration_number, voter.registration_number);
    assert_eq!((receipt.delivery, receipt.year), (Delivery::Mail, content.election.date.year()));
    assert_eq!(receipt.ballots, vec![AbsenteeRequestOutcome::Recorded(content.election.id.clone())]);
    let stored = store.voter(&voter.registration_number).await.unwrap().unwrap();
    assert_eq!(stored.status, voter.status, "a voter already on the roll keeps their status");
    let requests = store.uocava_requests(content.election.date.year()).await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].registration_number, voter.registration_number);
}

/// The link message is queued to the voter's number; the outbox opens the voter's address only
/// when it sends (a `voter.read` entry with its reason) and the message reaches that address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_message_reaches_the_voters_address_opened_only_to_send_it() {
    let listener = support::smtp::SmtpListener::start();
    let config = format!(
        "[mail]\nsmtp_host = \"localhost\"\nsmtp_port = {}\nsecurity = \"none\"\nfrom = \"ballots@examplia.invalid\"",
        listener.port()
    );
    let test = test_node(&config, true).await;
    let store = test.node.store();
    let content = &test.demo.as_ref().unwrap().content;
    let demo = demo_uocava::load(store, &test.node.system_audit(), test.node.keys(), content, "").await.unwrap();
    let voter = store.voter(&demo.registration_number).await.unwrap().unwrap();
    let ring = test.node.keys().current(store, &voter.jurisdiction).await.unwrap();
    let address = voters::open_voter(&ring, &voter).unwrap().email.unwrap();
    let queued = store.recent_mail(10).await.unwrap();
    assert!(queued.iter().all(|message| !message.recipient.contains(&address)), "the outbox never holds the address");

    test.node.outbox_signal().notify_one();
    let link = demo.link.clone();
    let delivered = tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            // Quoted-printable: soft line breaks (`=` at a line's end) joined again.
            let found =
                listener.messages().into_iter().find(|message| message.body().replace("=\r\n", "").contains(&link));
            if let Some(message) = found {
                return message;
            }
            assert!(std::time::Instant::now() < deadline, "the link message was not sent: {:#?}", listener.messages());
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    })
    .await
    .unwrap();
    assert_eq!(delivered.recipients, vec![address.clone()]);
    let ledger = ledger_text(&test).await;
    let read = ledger
        .lines()
        .find(|line| line.contains("voter.read") && line.contains("message they asked for"))
        .expect("opening the address is a confidential read on the record");
    assert!(read.contains(&demo.registration_number) && !read.contains(&address), "{read}");
}

/// The demo voter's "Did my ballot count?" answer, as JSON and as the page.
async fn ballot_lookup(app: &Router, county: &str, demo: &demo_uocava::DemoUocava) -> (serde_json::Value, Reply) {
    let fields = [("first_name", "Marisol"), ("last_name", "Abroadwell"), ("birth_date", demo.birth_date.as_str())];
    let mut fields = fields.to_vec();
    fields.push(("county", county));
    let body: serde_json::Map<String, serde_json::Value> =
        fields.iter().map(|(name, value)| ((*name).to_owned(), serde_json::Value::from(*value))).collect();
    let request = axum::http::Request::post("/api/public/ballot")
        .header(axum::http::header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from(serde_json::Value::Object(body).to_string()))
        .unwrap();
    let json = send(app, request).await;
    assert_eq!(json.status, StatusCode::OK, "{}", json.body);
    let page = send(app, form("/lookup/ballot", &fields, &[])).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    (json.json(), page)
}

/// Each step as (step, done, current, date).
fn steps_of(answer: &serde_json::Value) -> Vec<(String, bool, bool, Option<String>)> {
    let ballots = answer["ballots"].as_array().unwrap();
    assert_eq!(ballots.len(), 1, "{answer}");
    ballots[0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| {
            let mut keys: Vec<&String> = step.as_object().unwrap().keys().collect();
            keys.sort();
            assert_eq!(keys, ["current", "date", "detail", "done", "label", "step"], "the same keys for every step");
            (
                step["step"].as_str().unwrap().to_owned(),
                step["done"].as_bool().unwrap(),
                step["current"].as_bool().unwrap(),
                step["date"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// Issue 9: the voter sees their ballot's steps on "Did my ballot count?": requested and sent
/// by email link, not yet downloaded; after a real download through the link, downloaded with
/// its date. Nothing but dates, the method and the status: no link, token or address.
#[tokio::test]
async fn a_uocava_voter_sees_their_ballot_sent_then_downloaded_on_did_my_ballot_count() {
    let (test, app) = demo().await;
    let store = test.node.store();
    let content = &test.demo.as_ref().unwrap().content;
    let county = content.jurisdictions.iter().find(|j| j.kind == JurisdictionKind::County).unwrap().id.to_string();
    let demo = demo_uocava::load(store, &test.node.system_audit(), test.node.keys(), content, "").await.unwrap();
    let token = demo.link.trim_start_matches("/uocava/ballot/").to_owned();
    let today = Some(now().date().to_string());

    let (answer, page) = ballot_lookup(&app, &county, &demo).await;
    assert_eq!(answer["found"], true);
    let ballot = &answer["ballots"][0];
    assert_eq!((ballot["kind"].as_str(), ballot["status"].as_str()), (Some("absentee"), Some("sent")));
    assert_eq!(ballot["line"], "Your blank ballot was sent to you as a one-time download link.");
    let sent = ballot["steps"][1]["detail"].as_str().unwrap();
    assert_eq!(sent, "By email, as a one-time download link.");
    assert_eq!(
        steps_of(&answer),
        [
            ("requested".to_owned(), true, false, today.clone()),
            ("sent".to_owned(), true, false, today.clone()),
            ("downloaded".to_owned(), false, true, None),
            ("returned".to_owned(), false, false, None),
            ("accepted".to_owned(), false, false, None),
        ]
    );
    assert!(page.body.contains("<ol class=\"tracking\""), "{}", page.body);
    assert!(page.body.contains("aria-current=\"step\"") && page.body.contains("Not yet downloaded."));
    assert!(!page.body.contains("style=") && !page.body.contains("<script"), "nothing the public policy forbids");

    let download = post_birth_date(&app, &demo.link, &demo.birth_date).await;
    assert_eq!(download.status, StatusCode::OK, "{}", download.body);
    assert!(download.bytes.starts_with(b"%PDF-"));

    let (answer, page) = ballot_lookup(&app, &county, &demo).await;
    let steps = steps_of(&answer);
    assert_eq!(steps[2], ("downloaded".to_owned(), true, false, today.clone()), "{answer}");
    assert_eq!(steps[3], ("returned".to_owned(), false, true, None), "now the ballot's return is awaited");
    assert!(page.body.contains("Downloaded") && !page.body.contains("Not yet downloaded."));
    assert!(page.body.contains("you downloaded it"));
    for reply in [answer.to_string(), page.body] {
        for private in [token.as_str(), "uocava/ballot", "examplia.invalid", &demo.registration_number, "Abroadwell"] {
            assert!(!reply.contains(private), "the answer must not carry {private}");
        }
    }
}

/// The demo's military voter has downloaded their ballot at start: their lookup shows it.
#[tokio::test]
async fn the_demo_military_voter_shows_a_downloaded_ballot() {
    let (test, app) = demo().await;
    let store = test.node.store();
    let content = &test.demo.as_ref().unwrap().content;
    let audit = test.node.system_audit();
    let downloaded = demo_uocava::load_downloaded(store, &audit, test.node.keys(), content).await.unwrap();
    assert!(downloaded.lookup.contains("Tobias") && downloaded.lookup.contains("downloaded"));
    let deliveries = store.voter_uocava_deliveries(&downloaded.registration_number).await.unwrap();
    assert!(deliveries[0].downloaded_at.is_some(), "the link was used through the real download");
    let county = content.jurisdictions.iter().find(|j| j.kind == JurisdictionKind::County).unwrap().id.to_string();
    let fields = [
        ("first_name", "Tobias"),
        ("last_name", "Farfield"),
        ("birth_date", downloaded.birth_date.as_str()),
        ("county", county.as_str()),
    ];
    let page = send(&app, form("/lookup/ballot", &fields, &[])).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("As a one-time online download link.") && page.body.contains("you downloaded it"));
    let ledger = ledger_text(&test).await;
    assert!(ledger.lines().any(|line| line.contains("uocava.download") && line.contains("allowed")));
}

/// The canary of the link: after a send, the token is nowhere in the SQLite file or its WAL
/// (the delivery keeps its hash, the outbox its sealed message) before the outbox sends it.
#[tokio::test]
async fn the_link_token_is_not_at_rest_before_the_outbox_sends_it() {
    let (test, _app) = demo().await;
    let store = test.node.store();
    let content = &test.demo.as_ref().unwrap().content;
    let demo = demo_uocava::load(store, &test.node.system_audit(), test.node.keys(), content, "").await.unwrap();
    let token = demo.link.trim_start_matches("/uocava/ballot/").to_owned();
    assert_eq!(token.len(), 64);
    assert!(store.recent_mail(20).await.unwrap().iter().any(|message| message.sent_at.is_none()), "not sent yet");
    let database = test.database_path();
    let mut scanned = 0;
    for path in [database.clone(), database.with_extension("db-wal")] {
        let Ok(bytes) = std::fs::read(&path) else { continue };
        scanned += bytes.len();
        assert!(!bytes.windows(token.len()).any(|window| window == token.as_bytes()), "the token is in {path:?}");
    }
    assert!(scanned > 0, "the scan read the database");
    // The scan can see what is there: the token's hash is stored in the clear.
    let hash = uocava::token_hash(&token).unwrap();
    let stored: Vec<u8> = [database.clone(), database.with_extension("db-wal")]
        .iter()
        .filter_map(|path| std::fs::read(path).ok())
        .flatten()
        .collect();
    assert!(stored.windows(hash.len()).any(|window| window == hash.as_bytes()), "the scan sees the delivery row");
    // Nor any link at all: the message's text is sealed.
    let prefix = b"/uocava/ballot/";
    assert!(!stored.windows(prefix.len()).any(|window| window == prefix), "a link is at rest");
}

/// A key rotation does not retire the version a queued link message is sealed under (the
/// outbox could no longer open it); once it is sent, the version retires.
#[tokio::test]
async fn a_rotation_keeps_the_key_of_a_queued_link_until_it_is_sent() {
    let (test, _app) = demo().await;
    let store = test.node.store();
    let content = &test.demo.as_ref().unwrap().content;
    let audit = test.node.system_audit();
    let demo = demo_uocava::load(store, &audit, test.node.keys(), content, "").await.unwrap();
    let recipient = format!("voter:{}", demo.registration_number);
    let voter = store.voter(&demo.registration_number).await.unwrap().unwrap();
    let roll = voter.jurisdiction.clone();
    let ring = test.node.keys().current(store, &roll).await.unwrap();
    let old = ring.active_version();
    keys::rotate(store, &audit, &ring).await.unwrap();
    let ring = keys::reload(store, &ring).await.unwrap();
    while voters::reseal_batch(store, &audit, &ring, old, 500).await.unwrap() > 0 {}
    assert!(store.key_version_usage(&roll).await.unwrap().iter().all(|usage| usage.version != old || usage.rows == 0));
    assert!(keys::retire_unused(store, &audit, &roll).await.unwrap().is_empty(), "the queued link needs it");
    let queued = store.pending_mail(100).await.unwrap();
    let message = queued.iter().find(|message| message.recipient == recipient).unwrap();
    assert!(outbox_seal::open_body(&ring, &recipient, &message.body).unwrap().contains(&demo.link));
    for message in queued.iter().filter(|message| message.recipient.starts_with("voter:")) {
        store.mark_mail_sent(message.id, now_millis()).await.unwrap();
    }
    assert_eq!(keys::retire_unused(store, &audit, &roll).await.unwrap(), vec![old], "sent: the version retires");
}
