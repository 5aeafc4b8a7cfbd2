//! The public "Did my ballot count?" page and API on the demo node: a voter with a ballot sees
//! only its public status (a rejection's reason and cure deadline, a provisional decision); not
//! on the roll, address-confidential with a ballot, and registered without a ballot all get
//! byte-identical answers; bad input is a 400 naming the field; the registration lookup's rate
//! limits apply (shared with it) and answer 429 with Retry-After.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    net::{IpAddr, SocketAddr},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode, header},
};
use canvass_core::{
    ballots::{ProvisionalReason, ProvisionalStatus, RejectionReason},
    voter::VoterStatus,
};
use canvass_formats::ncvoter::PUBLIC_COLUMNS;
use canvass_server::{
    ballots::{self, BallotRequest, BallotStep},
    public_app, roll, voters,
};
use canvass_store::{DeliveryMethod, StoredUocavaDelivery, StoredUocavaRequest};
use support::{Reply, TestNode, get, send, test_node};

fn from(address: u8, mut request: Request<Body>) -> Request<Body> {
    let peer = SocketAddr::new(IpAddr::from([198, 51, 100, address]), 40_000);
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

fn json_request(path: &str, body: &serde_json::Value) -> Request<Body> {
    Request::post(path).header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())).unwrap()
}

fn form_request(fields: &[(&str, &str)]) -> Request<Body> {
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    Request::post("/lookup/ballot")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

#[derive(Clone)]
struct Person {
    number: String,
    first: String,
    last: String,
    birth_date: String,
    county: String,
}

impl Person {
    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "first_name": self.first, "last_name": self.last, "birth_date": self.birth_date, "county": self.county,
        })
    }

    fn ballot(&self) -> Request<Body> {
        json_request("/api/public/ballot", &self.json())
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

async fn demo() -> (TestNode, Router) {
    let test = test_node("", true).await;
    let app = public_app(test.node.clone());
    (test, app)
}

/// An active voter added to the demo roll under its county's ring.
async fn add_voter(test: &TestNode, number: &str, first: &str, last: &str) -> Person {
    let demo = test.demo.as_ref().unwrap();
    let mut voter = demo.content.voters[0].clone();
    voter.registration_number = number.to_owned();
    voter.first_name = canvass_core::name::Name::parse(first).unwrap();
    voter.last_name = canvass_core::name::Name::parse(last).unwrap();
    voter.status = VoterStatus::Active;
    voter.birth_date = Some(time::macros::date!(1961 - 03 - 14));
    let county = voter.county.clone();
    voters::add_voters(test.node.store(), &test.node.system_audit(), test.node.keys(), &county, &[voter.clone()])
        .await
        .unwrap();
    Person {
        number: number.to_owned(),
        first: first.to_owned(),
        last: last.to_owned(),
        birth_date: "1961-03-14".to_owned(),
        county: county.to_string(),
    }
}

/// An address-confidential voter, stored as a voter-file import stores one.
async fn add_confidential_voter(test: &TestNode, number: &str, first: &str) -> Person {
    let demo = test.demo.as_ref().unwrap();
    let template = &demo.content.voters[1];
    let ring = test.node.keys().current(test.node.store(), &template.county).await.unwrap();
    let details: Vec<String> = PUBLIC_COLUMNS
        .iter()
        .map(|column| if *column == "confidential_ind" { "Y".to_owned() } else { String::new() })
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
        number: number.to_owned(),
        first: first.to_owned(),
        last: "Sheltered".to_owned(),
        birth_date: "1975-07-01".to_owned(),
        county: template.county.to_string(),
    }
}

/// Records the steps for `person` in the demo's election, dated the given days ago.
async fn record(test: &TestNode, person: &Person, steps: &[(BallotStep, i64)]) {
    let demo = test.demo.as_ref().unwrap();
    let today = time::OffsetDateTime::now_utc().date();
    for (step, days_ago) in steps {
        let request = BallotRequest {
            jurisdiction: canvass_core::id::JurisdictionId::parse(&person.county).unwrap(),
            registration_number: person.number.clone(),
            election: demo.content.election.id.clone(),
            step: *step,
            on: Some(today - time::Duration::days(*days_ago)),
        };
        ballots::record(test.node.store(), &test.node.system_audit(), &request).await.unwrap();
    }
}

/// Makes `person` an overseas voter of the demo election: a request by email and its link sent.
async fn add_uocava_delivery(test: &TestNode, person: &Person, token_hash: &str) {
    let demo = test.demo.as_ref().unwrap();
    let store = test.node.store();
    let now = canvass_core::audit::now_millis();
    let request = StoredUocavaRequest {
        id: 0,
        registration_number: person.number.clone(),
        jurisdiction: canvass_core::id::JurisdictionId::parse(&person.county).unwrap(),
        year: demo.content.election.date.year(),
        delivery: canvass_core::uocava::Delivery::Email,
        classification: canvass_core::uocava::Classification::Overseas,
        received_at: now,
    };
    store.insert_uocava_request(&request).await.unwrap();
    let delivery = StoredUocavaDelivery {
        id: 0,
        registration_number: person.number.clone(),
        election: demo.content.election.id.clone(),
        style: "style-1".into(),
        method: DeliveryMethod::Link { token_hash: token_hash.into(), expires_at: now + 86_400_000 },
        sent_at: now,
        downloaded_at: None,
    };
    store.insert_uocava_delivery(&delivery).await.unwrap();
}

fn rejected_for_a_missing_signature() -> Vec<(BallotStep, i64)> {
    use BallotStep::{Reject, Request, Return, Send};
    vec![(Request, 20), (Send, 15), (Return, 5), (Reject(RejectionReason::MissingSignature), 2)]
}

fn keys(value: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn a_voter_sees_only_their_ballots_public_status() {
    let (test, app) = demo().await;
    let voter = add_voter(&test, "BL900001", "Absentia", "Mailwell").await;
    record(&test, &voter, &rejected_for_a_missing_signature()).await;
    let not_counted = ProvisionalStatus::NotCounted { reason: ProvisionalReason::WrongPrecinct };
    record(&test, &voter, &[(BallotStep::Cast, 1), (BallotStep::Adjudicate(not_counted), 0)]).await;

    let started = Instant::now();
    let reply = send(&app, from(1, voter.ballot())).await;
    assert!(started.elapsed() >= Duration::from_millis(5), "answers are padded like the registration lookup's");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let answer = reply.json();
    assert_eq!(answer["found"], true);
    assert_eq!(keys(&answer), ["ballots", "found", "message"]);
    let ballots = answer["ballots"].as_array().unwrap();
    assert_eq!(ballots.len(), 2);
    for ballot in ballots {
        assert_eq!(keys(ballot), ["election", "election_date", "kind", "line", "status", "steps"]);
        assert_eq!(ballot["steps"], serde_json::json!([]), "a voter with no UOCAVA request has no steps");
    }
    let absentee = ballots.iter().find(|ballot| ballot["kind"] == "absentee").unwrap();
    assert_eq!(absentee["status"], "rejected:missing_signature");
    let line = absentee["line"].as_str().unwrap();
    assert!(line.contains("the envelope was not signed") && line.contains("You can fix this until November 11, 2027"));
    let provisional = ballots.iter().find(|ballot| ballot["kind"] == "provisional").unwrap();
    assert!(
        provisional["line"].as_str().unwrap().contains("was not counted because it was cast outside your precinct")
    );
    for private in [&voter.number, "system", "1961-03-14", "Mailwell"] {
        assert!(!reply.body.contains(private), "the answer must not carry {private}");
    }

    let page = send(&app, from(2, voter.form())).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("You can fix this until November 11, 2027"), "{}", page.body);
    assert!(page.body.contains("href=\"/lookup/registration\"") && !page.body.contains("<script"));
    assert!(!page.body.contains("class=\"tracking\""), "no step list for a ballot that is not UOCAVA");
    assert!(!page.body.contains(&voter.number) && !page.body.contains("Mailwell"));
}

#[tokio::test]
async fn not_found_confidential_and_no_ballot_get_byte_identical_answers() {
    let (test, app) = demo().await;
    let confidential = add_confidential_voter(&test, "BL800001", "Hiddenia").await;
    record(&test, &confidential, &rejected_for_a_missing_signature()).await;
    add_uocava_delivery(&test, &confidential, &"c".repeat(64)).await;
    let without_ballot = add_voter(&test, "BL900002", "Nomailia", "Stayhome").await;
    // The same kind of voter with a ballot is found, so the misses below are the rule at work.
    let with_ballot = add_voter(&test, "BL900003", "Presentia", "Herewith").await;
    record(&test, &with_ballot, &rejected_for_a_missing_signature()).await;
    add_uocava_delivery(&test, &with_ballot, &"d".repeat(64)).await;
    let found = send(&app, from(1, with_ballot.ballot())).await.json();
    assert_eq!(found["found"], true);
    let steps = &found["ballots"][0]["steps"];
    assert_eq!(steps[1]["step"], "sent", "a UOCAVA voter's ballot shows its steps: {found}");
    // Returned and rejected without the link ever used: where the ballot is, is the decision.
    assert_eq!(
        (&steps[2]["step"], &steps[2]["done"], &steps[2]["current"]),
        (&"downloaded".into(), &false.into(), &false.into())
    );
    assert_eq!((&steps[4]["step"], &steps[4]["current"]), (&"rejected".into(), &true.into()));
    let nobody = Person {
        number: String::new(),
        first: "Nobody".into(),
        last: "Atallia".into(),
        birth_date: "1990-01-02".into(),
        county: with_ballot.county.clone(),
    };

    let people = [&nobody, &confidential, &without_ballot];
    let mut json: Vec<Reply> = Vec::new();
    let mut pages: Vec<Reply> = Vec::new();
    for (index, person) in people.iter().enumerate() {
        let address = u8::try_from(10 + index).unwrap();
        json.push(send(&app, from(address, person.ballot())).await);
        pages.push(send(&app, from(address, person.form())).await);
    }
    for (reply, page) in json.iter().zip(&pages) {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(reply.json()["found"], false);
        assert_eq!(reply.bytes, json[0].bytes, "JSON: {} vs {}", reply.body, json[0].body);
        assert_eq!(page.bytes, pages[0].bytes, "the result pages differ");
    }
    assert!(pages[0].body.contains("We could not find an absentee or provisional ballot with these details."));
    assert!(!pages[0].body.contains("Nobody"), "the page does not echo what was typed");
    // Found or not, the answer has the same keys.
    assert_eq!(keys(&json[0].json()), keys(&found));
}

#[tokio::test]
async fn missing_fields_are_a_400_naming_the_field_not_a_500() {
    let (test, app) = demo().await;
    let good = add_voter(&test, "BL900004", "Fieldia", "Checkwell").await.json();
    for (index, field) in ["first_name", "last_name", "birth_date", "county"].into_iter().enumerate() {
        let mut body = good.clone();
        body.as_object_mut().unwrap().remove(field);
        let reply =
            send(&app, from(u8::try_from(20 + index).unwrap(), json_request("/api/public/ballot", &body))).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{field}: {}", reply.body);
        assert_eq!(reply.error_code(), "invalid_input");
        assert!(reply.json()["error"]["message"].as_str().unwrap().starts_with(field), "{}", reply.body);
    }
    let not_json = Request::post("/api/public/ballot")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{"))
        .unwrap();
    assert_eq!(send(&app, from(30, not_json)).await.status, StatusCode::BAD_REQUEST);
    let page = send(&app, from(31, form_request(&[("first_name", "Ann"), ("last_name", "Example")]))).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("Enter your date of birth") && page.body.contains("value=\"Example\""));
}

fn retry_after(reply: &Reply) -> u64 {
    reply.header(header::RETRY_AFTER).expect("a 429 says when to retry").parse().unwrap()
}

#[tokio::test]
async fn the_two_lookups_share_one_rate_limit_with_retry_after() {
    let (test, app) = demo().await;
    let voter = add_voter(&test, "BL900005", "Limitia", "Countwell").await;
    // Ten lookups a minute per address, whichever page: five of each, different identities.
    for attempt in 0..10 {
        let mut person = voter.clone();
        person.birth_date = format!("1970-01-{:02}", attempt + 1);
        let request = match attempt % 2 {
            0 => json_request("/api/public/registration", &person.json()),
            _ => person.ballot(),
        };
        assert_eq!(send(&app, from(40, request)).await.status, StatusCode::OK);
    }
    let refused = send(&app, from(40, voter.ballot())).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    assert_eq!(refused.error_code(), "too_many_attempts");
    assert!((1..=60).contains(&retry_after(&refused)));
    let page = send(&app, from(40, voter.form())).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!((1..=60).contains(&retry_after(&page)));

    // One identity: five an hour from anywhere.
    for address in 50..55 {
        assert_eq!(send(&app, from(address, voter.ballot())).await.status, StatusCode::OK);
    }
    let refused = send(&app, from(60, voter.ballot())).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&refused) > 60);
}

#[tokio::test]
async fn the_pages_link_to_each_other_and_from_the_home_page() {
    let (_test, app) = demo().await;
    let ballot = send(&app, get("/lookup/ballot")).await;
    assert_eq!(ballot.status, StatusCode::OK);
    assert!(ballot.body.contains("href=\"/lookup/registration\"") && ballot.body.contains("name=\"county\""));
    assert!(send(&app, get("/lookup/registration")).await.body.contains("href=\"/lookup/ballot\""));
    assert!(send(&app, get("/")).await.body.contains("href=\"/lookup/ballot\""));
}
