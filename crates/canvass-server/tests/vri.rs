//! The VRI export route through the real admin router: a voter imported from NIST's Ohio
//! example comes back as a VRI registration request (XML or JSON) for a clerk who gives a
//! reason, as a `voter.read` entry carrying it; no reason, an unknown voter, a bad format and a
//! role without `voters.read` are refused without a personal value in the answer.
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
use canvass_server::{
    access, admin_app, keys, service, staff,
    vri_import::{self, RegistrationChange, VriEncoding, VriOutcome, VriSettings},
};
use support::{PASSWORD, Reply, TestNode, send, test_node};

const STATE: &str = "st-vri";
const COUNTY: &str = "co-summit";

fn id(value: &str) -> JurisdictionId {
    JurisdictionId::parse(value).unwrap()
}

struct World {
    test: TestNode,
    app: Router,
    number: String,
}

impl World {
    async fn new() -> Self {
        let test = test_node("", false).await;
        let store = test.node.store();
        let audit = test.node.system_audit();
        for (place, name, kind, parent) in [
            (STATE, "Ohio", JurisdictionKind::State, None),
            (COUNTY, "Summit County", JurisdictionKind::County, Some(STATE)),
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
        let ring =
            keys::create_key_ring(store, &audit, &id(STATE), generate_password(4).unwrap(), 10_000).await.unwrap();
        test.node.keys().insert(id(STATE), ring).unwrap();
        let ring = test.node.keys().current(store, &id(STATE)).await.unwrap();
        let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/nist/1500-102/NVRA-examples/ohio_registration_in_state_mailing.xml");
        let read = vri_import::read_file(&example, VriEncoding::Xml).unwrap();
        let settings = VriSettings { jurisdiction: id(STATE), actor: "admin".into(), precinct: None };
        let outcome =
            vri_import::import_request(store, &audit, &ring, &read, VriEncoding::Xml, &settings).await.unwrap();
        let VriOutcome::Registration { registration_number, change: RegistrationChange::Added } = outcome else {
            panic!("{outcome:?}")
        };
        let again = vri_import::import_request(store, &audit, &ring, &read, VriEncoding::Xml, &settings).await.unwrap();
        assert_eq!(
            again,
            VriOutcome::Registration {
                registration_number: registration_number.clone(),
                change: RegistrationChange::Unchanged
            }
        );
        let app = admin_app(test.node.clone());
        Self { test, app, number: registration_number }
    }

    async fn member(&self, name: &str, role: StaffRole) -> String {
        let audit = self.test.node.system_audit();
        let store = self.test.node.store();
        let username = Username::parse(name).unwrap();
        staff::add_account(store, &audit, &username, None, SecretString::from(PASSWORD)).await.unwrap();
        let grant = Grant::permanent(role, Some(id(STATE)));
        staff::grant(store, &audit, &username, &grant).await.unwrap();
        access::issue_token(store, &audit, &username, &grant, "test", 1).await.unwrap().1
    }

    async fn get(&self, token: &str, path: &str) -> Reply {
        send(&self.app, support::with_token(token, Method::GET, path, None)).await
    }

    async fn reads(&self) -> Vec<serde_json::Value> {
        let reply = self.get(&self.test.admin_token, "/api/audit?limit=1000&action=voter.read").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json()["entries"].as_array().unwrap().clone()
    }
}

fn path(number: &str, query: &str) -> String {
    format!("/api/jurisdictions/{STATE}/voters/{number}/vri?{query}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_exports_a_voter_as_vri_with_a_reason_and_the_read_is_recorded() {
    let world = World::new().await;
    let clerk = world.member("clerk", StaffRole::RegistrationClerk).await;

    let xml = world.get(&clerk, &path(&world.number, "format=xml&reason=Transfer%20to%20county")).await;
    assert_eq!(xml.status, StatusCode::OK, "{}", xml.body);
    assert_eq!(xml.headers["content-type"], "application/xml");
    for expected in
        ["<VoterRecordsRequest", "1985-11-05", "AB321345", "2222", "JDAVIS@GMAIL.COM", world.number.as_str()]
    {
        assert!(xml.body.contains(expected), "{expected} missing: {}", xml.body);
    }
    let reread = canvass_formats::vri::read_xml(xml.body.as_bytes()).unwrap();
    assert!(reread.signature_image().is_none());
    let json = world.get(&clerk, &path(&world.number, "format=json&reason=Transfer%20to%20county")).await;
    assert_eq!(json.status, StatusCode::OK, "{}", json.body);
    assert_eq!(canvass_formats::vri::read_json(json.body.as_bytes()).unwrap(), reread);

    let reads = world.reads().await;
    assert_eq!(reads.len(), 2, "{reads:?}");
    assert_eq!(reads[0]["justification"], "Transfer to county");
    let target = format!("voter:{}", world.number);
    assert!(reads.iter().all(|read| read["targets"].as_array().unwrap().iter().any(|item| *item == *target)));
    assert!(!serde_json::to_string(&reads).unwrap().contains("AB321345"), "no PII in the ledger");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_without_a_reason_or_permission_are_refused_and_read_nothing() {
    let world = World::new().await;
    let clerk = world.member("clerk", StaffRole::RegistrationClerk).await;
    for (query, status) in [
        ("format=xml".to_owned(), StatusCode::BAD_REQUEST),
        ("format=xml&reason=%20".to_owned(), StatusCode::BAD_REQUEST),
        ("format=yaml&reason=Checking".to_owned(), StatusCode::BAD_REQUEST),
    ] {
        let reply = world.get(&clerk, &path(&world.number, &query)).await;
        assert_eq!(reply.status, status, "{query}: {}", reply.body);
    }
    let missing = world.get(&clerk, &path("NOSUCH", "reason=Checking")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    for (name, role) in [("observer", StaffRole::Observer), ("reporter", StaffRole::ResultsReporter)] {
        let token = world.member(name, role).await;
        let reply = world.get(&token, &path(&world.number, "reason=Checking")).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{name}: {}", reply.body);
        assert!(!reply.body.contains("DAVIS") && !reply.body.contains("1985"), "{}", reply.body);
    }
    assert!(world.reads().await.is_empty(), "refusals are not reads");
}
