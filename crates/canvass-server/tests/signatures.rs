//! Signature images and voting history through the real admin router: a clerk uploads a PNG
//! (multipart; a signed-in browser also needs the anti-forgery field) and views it with
//! `Cache-Control: no-store`, each view a `voter.read` ledger entry naming the field; a
//! non-image and an oversized file are refused and store nothing; roles without `voters.read`
//! get 403 and no bytes; an administrator needs a reason; the image is not in the database
//! file in the clear; the voter page shows the sections; the API lists voting history.
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
    credential::Username,
    id::{JurisdictionId, PrecinctId},
    jurisdiction::{Jurisdiction, JurisdictionKind, Precinct},
    name::Name,
};
use canvass_crypto::{SecretString, generate_password};
use canvass_server::{access, admin_app, keys, roll_import, service, staff, vote_history};
use support::{PASSWORD, Reply, TestNode, send, test_node};

const STATE: &str = "st-sign";
const COUNTY: &str = "co-sign";
/// A marker no sealed byte string can be expected to contain.
const MARKER: &[u8] = b"QZXSIGNATUREIMAGEMARKER";

fn id(value: &str) -> JurisdictionId {
    JurisdictionId::parse(value).unwrap()
}

/// A PNG's first bytes followed by the marker: the server checks magic bytes, not the rest.
fn png() -> Vec<u8> {
    let mut image = b"\x89PNG\r\n\x1a\n".to_vec();
    image.extend_from_slice(MARKER);
    image.extend(std::iter::repeat_n(7u8, 2_000));
    image
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
        for number in ["SG1001", "SG1002"] {
            let body = serde_json::json!({
                "jurisdiction": COUNTY, "registration_number": number, "county": COUNTY,
                "precinct": format!("{COUNTY}-p1"), "first_name": "Grace", "last_name": "Hopper",
                "party": "una", "status": "active", "registered_on": "2010-01-04"
            });
            let reply = world.call(&world.test.admin_token, Method::POST, "/api/voters", Some(&body.to_string())).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        }
        world
    }

    async fn call(&self, token: &str, method: Method, path: &str, body: Option<&str>) -> Reply {
        send(&self.app, support::with_token(token, method, path, body)).await
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
        let reply =
            self.call(&self.test.admin_token, Method::GET, &format!("/api/audit?limit=1000&{query}"), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json()["entries"].as_array().unwrap().clone()
    }
}

fn signature_path(number: &str) -> String {
    format!("/jurisdictions/{COUNTY}/voters/{number}/signature")
}

const BOUNDARY: &str = "canvass-test-boundary";

/// A multipart form body: text fields, then the file in field `signature`.
fn multipart(fields: &[(&str, &str)], file: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"signature\"; filename=\"sig.png\"\r\n\
             Content-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn upload(path: &str, credential: (&str, &str), fields: &[(&str, &str)], file: &[u8]) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .header(credential.0, credential.1)
        .body(Body::from(multipart(fields, file)))
        .unwrap()
}

fn bearer(token: &str) -> (&'static str, String) {
    ("authorization", support::bearer(token))
}

async fn upload_as(world: &World, token: &str, number: &str, file: &[u8]) -> Reply {
    let (name, value) = bearer(token);
    send(&world.app, upload(&signature_path(number), (name, &value), &[], file)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_sets_and_views_a_signature_and_every_view_is_in_the_ledger() {
    let world = World::new().await;
    let clerk = world.member("clerk", StaffRole::RegistrationClerk).await;
    let image = png();
    let stored = upload_as(&world, &clerk, "SG1001", &image).await;
    assert_eq!(stored.status, StatusCode::SEE_OTHER, "{}", stored.body);
    let set = world.ledger("action=voter.set_signature").await;
    assert_eq!(set.len(), 1);
    assert!(set[0]["targets"].as_array().unwrap().iter().any(|target| target == "voter:SG1001"), "{:?}", set[0]);

    for view in 1..=2 {
        let reply = world.call(&clerk, Method::GET, &signature_path("SG1001"), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.bytes, image, "the image as uploaded");
        assert_eq!(reply.header(header::CONTENT_TYPE), Some("image/png"));
        assert_eq!(reply.header(header::CACHE_CONTROL), Some("no-store"));
        let reads = world.ledger("action=voter.read").await;
        assert_eq!(reads.len(), view, "one voter.read entry per view");
        let targets = reads[0]["targets"].as_array().unwrap();
        assert!(targets.iter().any(|target| target == "voter:SG1001"), "{targets:?}");
        assert!(targets.iter().any(|target| target == "field:signature"), "{targets:?}");
    }
    // Nothing in the ledger carries the image.
    let everything = world.call(&world.test.admin_token, Method::GET, "/api/audit?limit=1000", None).await;
    assert!(!everything.body.contains("QZXSIGNATURE"), "the image is not in the ledger");

    let none = world.call(&clerk, Method::GET, &signature_path("SG1002"), None).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND, "{}", none.body);
    let unknown = upload_as(&world, &clerk, "SG9999", &image).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);

    // The sealed image is not readable in the database's files.
    world.test.node.store().close().await;
    let directory = world.test.database_path().parent().unwrap().to_owned();
    for entry in std::fs::read_dir(directory).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(!bytes.windows(MARKER.len()).any(|window| window == MARKER), "image bytes in {}", path.display());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_image_and_an_oversized_image_are_refused_and_store_nothing() {
    let world = World::new().await;
    let clerk = world.member("clerk", StaffRole::RegistrationClerk).await;
    let text = upload_as(&world, &clerk, "SG1001", b"%PDF-1.7 not an image at all").await;
    assert_eq!(text.status, StatusCode::BAD_REQUEST, "{}", text.body);
    assert!(text.body.contains("PNG or JPEG"), "{}", text.body);
    let mut large = png();
    large.resize(1024 * 1024 + 1, 0);
    let oversized = upload_as(&world, &clerk, "SG1001", &large).await;
    assert_eq!(oversized.status, StatusCode::BAD_REQUEST, "{}", oversized.body);
    assert!(oversized.body.contains("1 MiB"), "{}", oversized.body);
    let mut huge = png();
    huge.resize(3 * 1024 * 1024, 0);
    let refused = upload_as(&world, &clerk, "SG1001", &huge).await;
    assert!(refused.status.is_client_error(), "{}: {}", refused.status, refused.body);
    let view = world.call(&clerk, Method::GET, &signature_path("SG1001"), None).await;
    assert_eq!(view.status, StatusCode::NOT_FOUND, "nothing stored: {}", view.body);
    assert!(world.ledger("action=voter.set_signature").await.is_empty(), "a refused file is not recorded as set");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_voters_read_there_is_no_signature_and_an_administrator_needs_a_reason() {
    let world = World::new().await;
    let clerk = world.member("clerk", StaffRole::RegistrationClerk).await;
    assert_eq!(upload_as(&world, &clerk, "SG1001", &png()).await.status, StatusCode::SEE_OTHER);
    for role in [StaffRole::Observer, StaffRole::Auditor, StaffRole::ResultsReporter] {
        let token = world.member(role.as_str(), role).await;
        let view = world.call(&token, Method::GET, &signature_path("SG1001"), None).await;
        assert_eq!(view.status, StatusCode::FORBIDDEN, "{role:?}: {}", view.body);
        assert!(!view.bytes.windows(MARKER.len()).any(|window| window == MARKER));
        let set = upload_as(&world, &token, "SG1002", &png()).await;
        assert_eq!(set.status, StatusCode::FORBIDDEN, "{role:?}: {}", set.body);
    }
    assert!(world.ledger("action=voter.read").await.is_empty(), "nothing was read");

    let admin = world.member("county_admin", StaffRole::CountyAdministrator).await;
    let refused = world.call(&admin, Method::GET, &signature_path("SG1001"), None).await;
    assert!(refused.status.is_client_error(), "{}: {}", refused.status, refused.body);
    assert!(!refused.bytes.windows(MARKER.len()).any(|window| window == MARKER));
    let path = format!("{}?reason=Signature%20check%20of%20a%20petition", signature_path("SG1001"));
    let allowed = world.call(&admin, Method::GET, &path, None).await;
    assert_eq!(allowed.status, StatusCode::OK, "{}", allowed.body);
    let reads = world.ledger("action=voter.read").await;
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0]["justification"], "Signature check of a petition");
}

/// A browser's signed-in session: its cookie and the anti-forgery token its pages carry.
struct Session {
    cookie: String,
    csrf: String,
}

impl Session {
    async fn open(world: &World, name: &str) -> Self {
        let store = world.test.node.store();
        let username = Username::parse(name).unwrap();
        let secret = canvass_crypto::TotpSecret::generate().unwrap();
        let sealed = secret.seal(world.test.node.totp_key(), name).unwrap();
        let account = store.staff_account(&username).await.unwrap().unwrap();
        let account =
            canvass_core::credential::StaffAccount { totp_secret: Some(sealed), totp_last_step: 0, ..account };
        store.upsert_staff_account(&account).await.unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let reply = support::sign_in(&world.app, name, PASSWORD, &secret.code_at(now)).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let mut session = Self { cookie: support::session_cookie(&reply).unwrap(), csrf: String::new() };
        let page = session.get(world, "/voters").await;
        let marker = "name=\"csrf\" value=\"";
        let start = page.body.find(marker).unwrap() + marker.len();
        let length = page.body[start..].find('"').unwrap();
        session.csrf = page.body[start..start + length].to_owned();
        session
    }

    fn cookie(&self) -> String {
        format!("{}={}", access::SESSION_COOKIE, self.cookie)
    }

    async fn get(&self, world: &World, path: &str) -> Reply {
        let request = Request::get(path).header(header::COOKIE, self.cookie()).body(Body::empty()).unwrap();
        send(&world.app, request).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_voter_page_uploads_through_a_form_with_its_token_and_shows_history_and_signature() {
    let world = World::new().await;
    world.member("clerk", StaffRole::RegistrationClerk).await;
    let session = Session::open(&world, "clerk").await;
    let voter_page = format!("/jurisdictions/{COUNTY}/voters/SG1001");
    let page = session.get(&world, &voter_page).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Voting history") && page.body.contains("No vote recorded"), "{}", page.body);
    assert!(page.body.contains("enctype=\"multipart/form-data\"") && !page.body.contains("<script"), "{}", page.body);

    let cookie = session.cookie();
    let forged = send(&world.app, upload(&signature_path("SG1001"), ("cookie", &cookie), &[], &png())).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "an upload without its anti-forgery token is refused");
    let fields = [("csrf", session.csrf.as_str())];
    let stored = send(&world.app, upload(&signature_path("SG1001"), ("cookie", &cookie), &fields, &png())).await;
    assert_eq!(stored.status, StatusCode::SEE_OTHER, "{}", stored.body);
    let page = session.get(&world, &voter_page).await;
    assert!(page.body.contains("image/png") && page.body.contains("View the signature"), "{}", page.body);
    let image = session.get(&world, &signature_path("SG1001")).await;
    assert_eq!((image.status, image.bytes), (StatusCode::OK, png()));

    // The voting history the state's file gives shows on the page and in the API.
    let file = world.test.database_path().with_file_name("history.tsv");
    let mut text = canvass_formats::ncvhis::COLUMNS.join("\t") + "\n";
    text.push_str("92\tWAKE\t000000001001\t11/05/2024\t11/05/2024 GENERAL\tABSENTEE ONESTOP\tUNA\tUNAFFILIATED\tP1\tP 1\tSG1001\t92\tWAKE\tP1\tP1\n");
    std::fs::write(&file, text).unwrap();
    let settings = roll_import::ImportSettings {
        jurisdiction: id(COUNTY),
        add_places: false,
        batch_rows: 100,
        actor: "clerk".into(),
    };
    struct Quiet;
    impl roll_import::ImportProgress for Quiet {
        fn started(&mut self, _: u64, _: u64, _: &canvass_store::ImportCounts) {}
        fn advanced(&mut self, _: u64, _: &canvass_store::ImportCounts) {}
    }
    let store = world.test.node.shared_store();
    let audit = world.test.node.system_audit();
    let summary =
        vote_history::import_ncvhis(&store, &audit, &file, &settings, &mut Vec::new(), &mut Quiet).await.unwrap();
    assert_eq!(summary.import.counts.inserted, 1);
    let page = session.get(&world, &voter_page).await;
    assert!(page.body.contains("11/05/2024 GENERAL") && page.body.contains("ABSENTEE ONESTOP"), "{}", page.body);
    let clerk_token = world.member("clerk2", StaffRole::RegistrationClerk).await;
    let api = format!("/api/jurisdictions/{COUNTY}/voters/SG1001/vote-history");
    let reply = world.call(&clerk_token, Method::GET, &api, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()[0]["voting_method"], "ABSENTEE ONESTOP");
    assert_eq!(reply.json()[0]["election_date"], "2024-11-05");
    let observer = world.member("observer", StaffRole::Observer).await;
    assert_eq!(world.call(&observer, Method::GET, &api, None).await.status, StatusCode::FORBIDDEN);
    let missing = world
        .call(&clerk_token, Method::GET, &format!("/api/jurisdictions/{COUNTY}/voters/SG9999/vote-history"), None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_reseals_signatures_and_leaves_nothing_under_the_retired_version() {
    let world = World::new().await;
    let clerk = world.member("clerk", StaffRole::RegistrationClerk).await;
    let image = png();
    assert_eq!(upload_as(&world, &clerk, "SG1001", &image).await.status, StatusCode::SEE_OTHER);
    let store = world.test.node.store();
    let audit = world.test.node.system_audit();
    let county = id(COUNTY);
    let ring = world.test.node.keys().current(store, &county).await.unwrap();
    let old = ring.active_version();
    let new = keys::rotate(store, &audit, &ring).await.unwrap();
    let ring = keys::reload(store, &ring).await.unwrap();
    let mut moved = 0;
    loop {
        let step = canvass_server::voters::reseal_batch(store, &audit, &ring, old, 1).await.unwrap();
        if step == 0 {
            break;
        }
        moved += step;
    }
    assert_eq!(moved, 3, "two voter rows, then the signature");
    let usage = store.key_version_usage(&county).await.unwrap();
    assert_eq!(usage.iter().map(|usage| (usage.version, usage.rows)).collect::<Vec<_>>(), [(new, 3)]);
    assert_eq!(keys::retire_unused(store, &audit, &county).await.unwrap(), [old]);
    world.test.node.keys().insert(county.clone(), ring).unwrap();
    let view = world.call(&clerk, Method::GET, &signature_path("SG1001"), None).await;
    assert_eq!((view.status, view.bytes), (StatusCode::OK, image), "the resealed image opens under the new key");
}
