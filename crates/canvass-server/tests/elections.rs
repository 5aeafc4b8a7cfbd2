//! Election definitions through the real admin API (issue 7): NIST's GEN-01 imports for a
//! state and reads back whole; importing it again changes nothing; a different definition under
//! the same id, a file of another format, a file with problems and an unknown jurisdiction are
//! refused and change nothing; roles other than the administrators get 403; the import is an
//! `election.define` ledger entry; the admin pages list and show it.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use canvass_core::{
    access::{Grant, StaffRole},
    audit::now_millis,
    credential::Username,
    id::JurisdictionId,
    jurisdiction::{Jurisdiction, JurisdictionKind},
    name::Name,
};
use canvass_crypto::{SecretString, TotpSecret};
use canvass_server::{access, admin_app, staff};
use support::{PASSWORD, Reply, TestNode, send, test_node};

const STATE: &str = "ocd-division/country:us/state:ex";
const OTHER_STATE: &str = "ocd-division/country:us/state:zz";
const GEN_01_XML: &str =
    "../../../shared/data/nist/cdf-test-method/test_data/synthetic/gen-01/err_v2/pe-err-gen-01.xml";
const GEN_01_JSON: &str =
    "../../../shared/data/nist/cdf-test-method/test_data/synthetic/gen-01/err_v2/pe-err-gen-01.json";

fn encoded(id: &str) -> String {
    form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

fn file(path: &str) -> Vec<u8> {
    std::fs::read(path)
        .unwrap_or_else(|_| panic!("{path} is missing: these tests read shared/data beside the repository"))
}

struct World {
    test: TestNode,
    app: Router,
}

impl World {
    async fn new() -> Self {
        let test = test_node("", false).await;
        let store = test.node.store();
        for (id, name) in [(STATE, "Example State"), (OTHER_STATE, "Other State")] {
            let state = Jurisdiction {
                id: JurisdictionId::parse(id).unwrap(),
                name: Name::parse(name).unwrap(),
                kind: JurisdictionKind::State,
                parent: None,
            };
            store.insert_jurisdiction(&state).await.unwrap();
        }
        let app = admin_app(test.node.clone());
        Self { test, app }
    }

    /// A staff member holding `role` on `jurisdiction`, and an API token acting as them.
    async fn member(&self, name: &str, role: StaffRole, jurisdiction: &str) -> String {
        let audit = self.test.node.system_audit();
        let store = self.test.node.store();
        let username = Username::parse(name).unwrap();
        staff::add_account(store, &audit, &username, None, SecretString::from(PASSWORD)).await.unwrap();
        let grant = Grant::permanent(role, Some(JurisdictionId::parse(jurisdiction).unwrap()));
        staff::grant(store, &audit, &username, &grant).await.unwrap();
        access::issue_token(store, &audit, &username, &grant, "test", 1).await.unwrap().1
    }

    async fn import(&self, token: &str, jurisdiction: &str, query: &str, body: Vec<u8>) -> Reply {
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/jurisdictions/{}/elections?{query}", encoded(jurisdiction)))
            .header(header::AUTHORIZATION, support::bearer(token))
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from(body))
            .unwrap();
        send(&self.app, request).await
    }

    async fn get(&self, path: &str) -> Reply {
        send(&self.app, support::with_token(&self.test.admin_token, Method::GET, path, None)).await
    }

    async fn elections(&self) -> Vec<serde_json::Value> {
        let reply = self.get("/api/elections").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json().as_array().unwrap().clone()
    }

    async fn ledger(&self, action: &str) -> Vec<serde_json::Value> {
        let reply = self.get(&format!("/api/audit?limit=1000&action={action}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json()["entries"].as_array().unwrap().clone()
    }

    async fn precinct_count(&self) -> usize {
        self.test.node.store().precincts(None).await.unwrap().len()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gen_01_imports_through_the_api_and_reads_back_whole() {
    let world = World::new().await;
    let admin = world.test.admin_token.clone();
    let reply = world.import(&admin, STATE, "format=nist-xml&election=gen-01", file(GEN_01_XML)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["unchanged"], false);
    assert_eq!(body["definition"]["contests"].as_array().unwrap().len(), 19);

    let listed = world.elections().await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], "gen-01");
    assert_eq!(listed[0]["kind"], "general");

    let reply = world.get("/api/elections/gen-01/definition").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let definition = reply.json();
    assert_eq!(definition["contests"].as_array().unwrap().len(), 19);
    assert_eq!(definition["precincts"].as_array().unwrap().len(), 4);
    assert_eq!(definition["counties"][0]["name"], "Test County");
    assert_eq!(definition["counties"][0]["precincts"], 4);
    let everywhere = definition["contests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|contest| contest["precincts"].as_array().unwrap().len() == 4)
        .count();
    assert_eq!(everywhere, 5, "five contests are on every ballot");
    let president = definition["contests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|contest| contest["name"] == "President and Vice President of the United States")
        .unwrap();
    assert_eq!(president["choices"].as_array().unwrap().len(), 3);

    // The JSON encoding of the same definition is the identical definition: nothing changes.
    let again = world.import(&admin, STATE, "format=nist-json&election=gen-01", file(GEN_01_JSON)).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.json()["unchanged"], true);
    assert!(again.json()["message"].as_str().unwrap().contains("nothing changed"));

    let entries = world.ledger("election.define").await;
    assert_eq!(entries.len(), 1, "one definition, one entry: {entries:?}");
    let targets: Vec<&str> =
        entries[0]["targets"].as_array().unwrap().iter().map(|target| target.as_str().unwrap()).collect();
    for expected in ["election:gen-01", "format:nist-xml", "contests:19", "precincts:4"] {
        assert!(targets.contains(&expected), "{expected} not in {targets:?}");
    }
    assert_eq!(entries[0]["jurisdiction"], STATE);

    // The file's county joined the tree under the state.
    let county = world
        .test
        .node
        .store()
        .jurisdiction(&JurisdictionId::parse("ocd-division/country:us/state:ex/county:test-county").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(county.kind, JurisdictionKind::County);
    assert_eq!(county.parent.as_ref().map(JurisdictionId::as_str), Some(STATE));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_file_is_refused_with_413() {
    let world = World::new().await;
    let admin = world.test.admin_token.clone();
    let mut huge = b"election,date,kind\n".to_vec();
    huge.resize(17 * 1024 * 1024, b'x');
    let reply = world.import(&admin, STATE, "format=csv", huge).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", reply.body);
    assert!(world.elections().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_change_nothing() {
    let world = World::new().await;
    let admin = world.test.admin_token.clone();
    let xml = file(GEN_01_XML);

    // Another format than declared, and a truncated file.
    let reply = world.import(&admin, STATE, "format=nist-json", xml.clone()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("not a nist-json election definition"), "{}", reply.body);
    let reply = world.import(&admin, STATE, "format=nist-xml", xml[..xml.len() / 2].to_vec()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let reply = world.import(&admin, STATE, "format=docx", xml.clone()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);

    // A CSV with problems: every one listed by line.
    let csv = "election,date,kind\nBad,2026-02-30,general\ncounty,precinct,contest,kind,vote_for,choice,party\n\
               A County,P1,Mayor,candidate,100,Ann,\nA County,,Mayor,,,Bob,\n";
    let reply = world.import(&admin, STATE, "format=csv", csv.as_bytes().to_vec()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    for line in ["line 2", "line 4", "line 5"] {
        assert!(reply.body.contains(line), "{line} not named: {}", reply.body);
    }

    // An unknown jurisdiction.
    let reply = world.import(&admin, "ocd-division/country:us/state:nowhere", "format=nist-xml", xml.clone()).await;
    assert_eq!(reply.status.as_u16() / 100, 4, "{}", reply.body);
    assert_ne!(reply.status, StatusCode::CREATED);

    assert!(world.elections().await.is_empty());
    assert_eq!(world.precinct_count().await, 0);
    assert!(world.ledger("election.define").await.is_empty());

    // A different definition under a taken id is refused; the first stays.
    let reply = world.import(&admin, STATE, "format=nist-xml&election=gen-01", xml.clone()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let precincts = world.precinct_count().await;
    let csv = "election,date,kind\nGEN-01,2000-11-07,general\ncounty,precinct,contest,kind,vote_for,choice,party\n\
               Test County,Precinct 9,Dog Catcher,,,Rex,\n";
    let reply = world.import(&admin, STATE, "format=csv&election=gen-01", csv.as_bytes().to_vec()).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert!(reply.body.contains("new election id"), "{}", reply.body);
    assert_eq!(world.precinct_count().await, precincts);
    let definition = world.get("/api/elections/gen-01/definition").await.json();
    assert_eq!(definition["contests"].as_array().unwrap().len(), 19);
    assert_eq!(world.ledger("election.define").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_administrators_of_the_jurisdiction_define_elections() {
    let world = World::new().await;
    let xml = file(GEN_01_XML);
    for (name, role) in [
        ("clerk", StaffRole::RegistrationClerk),
        ("reporter", StaffRole::ResultsReporter),
        ("auditor", StaffRole::Auditor),
        ("observer", StaffRole::Observer),
    ] {
        let token = world.member(name, role, STATE).await;
        let reply = world.import(&token, STATE, "format=nist-xml", xml.clone()).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{name}: {}", reply.body);
    }
    let elsewhere = world.member("other-admin", StaffRole::StateAdministrator, OTHER_STATE).await;
    let reply = world.import(&elsewhere, STATE, "format=nist-xml", xml.clone()).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert!(world.elections().await.is_empty());
    assert!(!world.ledger("access.denied").await.is_empty());

    let administrator = world.member("state-admin", StaffRole::StateAdministrator, STATE).await;
    let reply = world.import(&administrator, STATE, "format=nist-xml", xml).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.json()["definition"]["election"]["id"], "gen-01-general-election-2000-11-07");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_pages_list_and_show_the_election() {
    let world = World::new().await;
    let admin = world.test.admin_token.clone();
    let reply = world.import(&admin, STATE, "format=nist-xml&election=gen-01", file(GEN_01_XML)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let list = world.get("/elections").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("/elections/gen-01"), "{}", list.body);
    assert!(list.body.contains("enctype=\"multipart/form-data\""), "the upload form is shown to an administrator");
    let page = world.get("/elections/gen-01").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Dog Catcher"));
    assert!(page.body.contains("Test County"));
    assert_eq!(world.get("/elections/nothing-here").await.status, StatusCode::NOT_FOUND);
}

const BOUNDARY: &str = "definition-boundary";

fn multipart(fields: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}\"\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_administrator_uploads_a_large_definition_through_the_page() {
    let world = World::new().await;
    let store = world.test.node.store();
    let audit = world.test.node.system_audit();
    let username = Username::parse("boss").unwrap();
    staff::add_account(store, &audit, &username, None, SecretString::from(PASSWORD)).await.unwrap();
    let grant = Grant::permanent(StaffRole::StateAdministrator, Some(JurisdictionId::parse(STATE).unwrap()));
    staff::grant(store, &audit, &username, &grant).await.unwrap();
    let secret = TotpSecret::generate().unwrap();
    let sealed = secret.seal(world.test.node.totp_key(), username.as_str()).unwrap();
    let account = store.staff_account(&username).await.unwrap().unwrap();
    store
        .upsert_staff_account(&canvass_core::credential::StaffAccount {
            totp_secret: Some(sealed),
            totp_last_step: 0,
            ..account
        })
        .await
        .unwrap();
    let code = secret.code_at(u64::try_from(now_millis() / 1000).unwrap());
    let signed_in = support::sign_in(&world.app, "boss", PASSWORD, &code).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{}", signed_in.body);
    let cookie = format!("{}={}", access::SESSION_COOKIE, support::session_cookie(&signed_in).unwrap());
    let page =
        send(&world.app, Request::get("/elections").header(header::COOKIE, &cookie).body(Body::empty()).unwrap()).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let marker = "name=\"csrf\" value=\"";
    let start = page.body.find(marker).unwrap() + marker.len();
    let csrf = page.body[start..start + page.body[start..].find('"').unwrap()].to_owned();

    // Larger than a signature upload (1 MiB): blank rows pad a small definition.
    let mut file = b"election,date,kind\nPage Election,2026-11-03,general\n\
                     county,precinct,contest,kind,vote_for,choice,party\n\
                     North County,Precinct 1,Mayor,candidate,1,Ann Smith,\n"
        .to_vec();
    while file.len() < 1_500_000 {
        file.extend_from_slice(b",,,,,,\n");
    }
    let upload = |csrf: &str| {
        let body = multipart(&[
            ("csrf", csrf.as_bytes()),
            ("jurisdiction", STATE.as_bytes()),
            ("format", b"csv"),
            ("election", b"page-election"),
            ("file", &file),
        ]);
        Request::post("/elections")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
            .body(Body::from(body))
            .unwrap()
    };
    let forged = send(&world.app, upload("not-the-token")).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    assert!(world.elections().await.is_empty());
    let reply = send(&world.app, upload(&csrf)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.header(header::LOCATION), Some("/elections/page-election"));
    let shown = send(
        &world.app,
        Request::get("/elections/page-election").header(header::COOKIE, &cookie).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert!(shown.body.contains("Ann Smith") && shown.body.contains("North County"), "{}", shown.body);
}
