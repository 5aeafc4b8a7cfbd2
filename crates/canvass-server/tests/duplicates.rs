//! Duplicate detection through the real import and the real admin router: a generated ncvoter
//! file with planted duplicates (one person in two counties by name and date of birth, one
//! driver's licence on two records, one denied twin) yields exactly those pairs; a merge removes
//! one record with reason `duplicate_merged` and the pair leaves the list; a dismissal removes
//! the pair; a merge the NVRA rules refuse changes nothing; roles without the operations, and
//! anonymous callers, are refused.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};

use axum::{
    Router,
    http::{Method, StatusCode},
};
use canvass_core::{
    access::{Grant, StaffRole},
    credential::Username,
    id::JurisdictionId,
    jurisdiction::{Jurisdiction, JurisdictionKind},
    name::Name,
};
use canvass_crypto::SecretString;
use canvass_server::{
    access, admin_app, demo_roll, keys,
    roll_import::{self, ImportProgress, ImportSettings},
    service, staff,
};
use canvass_store::ImportCounts;
use support::{PASSWORD, Reply, TestNode, send, test_node};

const STATE: &str = "ocd-division/country:us/state:nc";

struct Quiet;

impl ImportProgress for Quiet {
    fn started(&mut self, _: u64, _: u64, _: &ImportCounts) {}
    fn advanced(&mut self, _: u64, _: &ImportCounts) {}
}

fn id(value: &str) -> JurisdictionId {
    JurisdictionId::parse(value).unwrap()
}

fn encoded(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A generated file's rows as column maps, with its header, so rows can be copied and changed.
struct VoterFile {
    header: Vec<String>,
    rows: Vec<BTreeMap<String, String>>,
}

impl VoterFile {
    fn generated(rows: u64, seed: u64) -> Self {
        let mut bytes = Vec::new();
        canvass_formats::ncvoter::generate(seed, rows, true, &mut bytes).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let mut lines = text.lines();
        let header: Vec<String> = lines.next().unwrap().split('\t').map(str::to_owned).collect();
        let rows =
            lines.map(|line| header.iter().cloned().zip(line.split('\t').map(str::to_owned)).collect()).collect();
        Self { header, rows }
    }

    /// A copy of row `index` under a new NCID with `changes` applied.
    fn plant(&mut self, index: usize, ncid: &str, changes: &[(&str, &str)]) {
        let mut row = self.rows[index].clone();
        row.insert("ncid".into(), ncid.into());
        row.insert("voter_reg_num".into(), format!("9{}", &ncid[3..]));
        for (column, value) in changes {
            assert!(row.contains_key(*column), "{column}");
            row.insert((*column).into(), (*value).into());
        }
        self.rows.push(row);
    }

    fn write(&self, path: &std::path::Path) {
        let mut text = self.header.join("\t");
        text.push('\n');
        for row in &self.rows {
            let values: Vec<&str> = self.header.iter().map(|column| row[column].as_str()).collect();
            text.push_str(&values.join("\t"));
            text.push('\n');
        }
        std::fs::write(path, text).unwrap();
    }
}

struct World {
    test: TestNode,
    app: Router,
    directory: tempfile::TempDir,
}

/// The planted pairs: (first, second) in registration-number order, with the rule.
fn planted() -> BTreeSet<(String, String, String)> {
    [
        ("DUP0000001", "GN0000000001", "name_and_birth_date"),
        ("DUP0000002", "GN0000000003", "drivers_licence"),
        ("DUP0000003", "GN0000000004", "name_and_birth_date"),
    ]
    .into_iter()
    .map(|(first, second, rule)| (first.to_owned(), second.to_owned(), rule.to_owned()))
    .collect()
}

impl World {
    /// A state with its roll imported from a generated file with planted duplicates.
    async fn new() -> Self {
        let test = test_node("", false).await;
        let store = test.node.store();
        let audit = test.node.system_audit();
        let state = Jurisdiction {
            id: id(STATE),
            name: Name::parse("North Carolina").unwrap(),
            kind: JurisdictionKind::State,
            parent: None,
        };
        service::add_jurisdiction(store, &audit, &state).await.unwrap();
        let ring =
            keys::create_key_ring(store, &audit, &id(STATE), SecretString::from("a long test passphrase"), 10_000)
                .await
                .unwrap();

        let mut file = VoterFile::generated(300, 42);
        let other_county =
            (1..file.rows.len()).find(|&index| file.rows[index]["county_id"] != file.rows[0]["county_id"]);
        let other = file.rows[other_county.unwrap()].clone();
        // Row 1's voter registered again in another county, licence not given the second time.
        file.plant(
            0,
            "DUP0000001",
            &[
                ("county_id", &other["county_id"]),
                ("county_desc", &other["county_desc"]),
                ("precinct_abbrv", &other["precinct_abbrv"]),
                ("precinct_desc", &other["precinct_desc"]),
                ("drivers_lic_num", ""),
            ],
        );
        // Row 3's licence on someone of another name and birth date.
        file.plant(2, "DUP0000002", &[("last_name", "PLANTED"), ("birth_date", "1960-01-02")]);
        // Row 4's voter again, denied this time (a removal from denied is not a merge).
        file.plant(3, "DUP0000003", &[("status_cd", "D"), ("voter_status_desc", "DENIED"), ("drivers_lic_num", "")]);
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("ncvoter.txt");
        file.write(&path);

        let settings =
            ImportSettings { jurisdiction: id(STATE), add_places: true, batch_rows: 100, actor: "clerk".into() };
        let store_arc = test.node.shared_store();
        let mut report = Vec::new();
        let summary = roll_import::import_ncvoter(&store_arc, &audit, &ring, &path, &settings, &mut report, &mut Quiet)
            .await
            .unwrap();
        assert_eq!(summary.import.counts.inserted, 303, "{}", String::from_utf8_lossy(&report));
        test.node.keys().insert(id(STATE), ring).unwrap();
        let app = admin_app(test.node.clone());
        Self { test, app, directory }
    }

    async fn admin(&self, method: Method, path: &str, body: Option<&str>) -> Reply {
        send(&self.app, support::with_token(&self.test.admin_token, method, path, body)).await
    }

    async fn call(&self, token: &str, method: Method, path: &str, body: Option<&str>) -> Reply {
        send(&self.app, support::with_token(token, method, path, body)).await
    }

    /// A staff member holding `role` on the state, and an API token acting as them.
    async fn member(&self, name: &str, role: StaffRole) -> String {
        let audit = self.test.node.system_audit();
        let store = self.test.node.store();
        let username = Username::parse(name).unwrap();
        staff::add_account(store, &audit, &username, None, SecretString::from(PASSWORD)).await.unwrap();
        let grant = Grant::permanent(role, Some(id(STATE)));
        staff::grant(store, &audit, &username, &grant).await.unwrap();
        access::issue_token(store, &audit, &username, &grant, "test", 1).await.unwrap().1
    }

    /// Every listed pair as (first, second, rule), walking pages of `limit`.
    async fn pairs(&self, token: &str, limit: u32) -> BTreeSet<(String, String, String)> {
        let mut found = BTreeSet::new();
        let mut after = String::new();
        loop {
            let path = format!("/api/jurisdictions/{}/duplicates?limit={limit}&after={after}", encoded(STATE));
            let reply = self.call(token, Method::GET, &path, None).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            let page = reply.json();
            for pair in page["pairs"].as_array().unwrap() {
                assert!(pair["first"].get("birth_date").is_none(), "public-record fields only: {pair}");
                assert!(pair["first"].get("drivers_license").is_none(), "public-record fields only: {pair}");
                for rule in pair["rules"].as_array().unwrap() {
                    found.insert((
                        pair["first"]["registration_number"].as_str().unwrap().to_owned(),
                        pair["second"]["registration_number"].as_str().unwrap().to_owned(),
                        rule.as_str().unwrap().to_owned(),
                    ));
                }
            }
            match page["next"].as_str() {
                Some(next) => after = encoded(next),
                None => return found,
            }
        }
    }

    async fn status(&self, number: &str) -> String {
        self.test.node.store().voter(number).await.unwrap().unwrap().status.as_str().to_owned()
    }

    async fn ledger(&self, query: &str) -> Vec<serde_json::Value> {
        let reply = self.admin(Method::GET, &format!("/api/audit?limit=1000&{query}"), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json()["entries"].as_array().unwrap().clone()
    }
}

/// A day outside every federal election's 90-day quiet period and in the past, so the merges do
/// not depend on where today falls in the federal calendar.
const OUTSIDE_QUIET_PERIOD: &str = "2026-01-15";

fn merge_path() -> String {
    format!("/api/jurisdictions/{}/duplicates/merge", encoded(STATE))
}

fn dismiss_path() -> String {
    format!("/api/jurisdictions/{}/duplicates/dismiss", encoded(STATE))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_duplicates_are_found_merged_and_dismissed() {
    let world = World::new().await;
    let clerk = world.member("clerk", StaffRole::RegistrationClerk).await;
    assert_eq!(world.pairs(&clerk, 50).await, planted(), "exactly the planted pairs");
    assert_eq!(world.pairs(&clerk, 1).await, planted(), "the same, one pair per page");

    // The NVRA rules refuse removing a denied record; nothing changes.
    let before = world.ledger("action=voter.duplicate_merge").await.len();
    let refused = serde_json::json!({
        "keep": "GN0000000004", "remove": "DUP0000003", "reason": "same person", "effective": OUTSIDE_QUIET_PERIOD
    });
    let reply = world.call(&clerk, Method::POST, &merge_path(), Some(&refused.to_string())).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert_eq!(reply.error_code(), "list_maintenance_refused");
    assert_eq!(world.status("DUP0000003").await, "denied");
    assert_eq!(world.pairs(&clerk, 50).await, planted());
    let merges = world.ledger("action=voter.duplicate_merge").await;
    assert_eq!(merges.len(), before + 2, "the attempt and its refusal are recorded");
    assert!(world.test.node.store().duplicate_decisions("DUP0000003").await.unwrap().is_empty());

    // Inside the 90 days before a federal general election (September 15, 2026 is 49 days before
    // November 3, 2026) a merge is a systematic removal the NVRA stops: refused, nothing changes.
    let quiet = serde_json::json!({
        "keep": "GN0000000001", "remove": "DUP0000001", "reason": "same person, moved", "effective": "2026-09-15"
    });
    let reply = world.call(&clerk, Method::POST, &merge_path(), Some(&quiet.to_string())).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert_eq!(reply.error_code(), "list_maintenance_refused");
    assert!(reply.body.contains("November 3, 2026 is 49 days away"), "{}", reply.body);
    assert_ne!(world.status("DUP0000001").await, "removed");
    assert_eq!(world.pairs(&clerk, 50).await, planted());

    // A merge across counties: the duplicate is removed as duplicate_merged, the pair leaves.
    let merge = serde_json::json!({
        "keep": "GN0000000001", "remove": "DUP0000001", "reason": "same person, moved", "effective": OUTSIDE_QUIET_PERIOD
    });
    let reply = world.call(&clerk, Method::POST, &merge_path(), Some(&merge.to_string())).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.json()["status_change"]["reason"], "duplicate_merged");
    assert_eq!(world.status("DUP0000001").await, "removed");
    assert_ne!(world.status("GN0000000001").await, "removed");
    let changes = world.test.node.store().voter_status_changes("DUP0000001").await.unwrap();
    assert_eq!(changes.last().unwrap().reason.as_str(), "duplicate_merged");
    let mut expected = planted();
    expected.retain(|(first, _, _)| first != "DUP0000001");
    assert_eq!(world.pairs(&clerk, 50).await, expected);
    let entries = world.ledger("action=voter.duplicate_merge").await;
    let text = serde_json::to_string(&entries).unwrap();
    assert!(text.contains("voter:DUP0000001") && text.contains("voter:GN0000000001"), "{text}");
    assert!(!text.contains("same person"), "the reason stays out of the ledger");

    // Merging again, or a pair that is not a candidate, is refused.
    let reply = world.call(&clerk, Method::POST, &merge_path(), Some(&merge.to_string())).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    let stranger = serde_json::json!({"first": "GN0000000010", "second": "GN0000000011", "reason": "no"});
    let reply = world.call(&clerk, Method::POST, &dismiss_path(), Some(&stranger.to_string())).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);

    // A dismissal: the pair leaves the list, both records stay as they were.
    let dismiss = serde_json::json!({"first": "GN0000000003", "second": "DUP0000002", "reason": "different people"});
    let reply = world.call(&clerk, Method::POST, &dismiss_path(), Some(&dismiss.to_string())).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.json()["decision"], "dismissed");
    expected.retain(|(first, _, _)| first != "DUP0000002");
    assert_eq!(world.pairs(&clerk, 50).await, expected);
    assert_ne!(world.status("DUP0000002").await, "removed");
    let outcomes: Vec<String> = world
        .ledger("action=voter.duplicate_dismiss")
        .await
        .iter()
        .map(|entry| entry["outcome"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(outcomes, ["allowed", "failed"], "this dismissal, and the not-a-candidate one before it (newest first)");

    // Bad input is refused with the field named.
    for (body, field) in [
        (serde_json::json!({"keep": "GN0000000004", "remove": "GN0000000004", "reason": "x"}), "remove"),
        (serde_json::json!({"keep": "GN 4", "remove": "DUP0000003", "reason": "x"}), "keep"),
        (serde_json::json!({"keep": "GN0000000004", "remove": "DUP0000003", "reason": " "}), "reason"),
    ] {
        let reply = world.call(&clerk, Method::POST, &merge_path(), Some(&body.to_string())).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert!(reply.body.contains(field), "{}", reply.body);
    }
    assert_eq!(world.pairs(&clerk, 50).await, expected);
    drop(world.directory);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_without_the_operations_and_anonymous_callers_are_refused() {
    let world = World::new().await;
    let list = format!("/api/jurisdictions/{}/duplicates", encoded(STATE));
    let merge = serde_json::json!({"keep": "GN0000000001", "remove": "DUP0000001", "reason": "same"});
    for role in [StaffRole::ResultsReporter, StaffRole::Auditor, StaffRole::Observer] {
        let token = world.member(&format!("user-{}", role.as_str().replace('_', "-")), role).await;
        let reply = world.call(&token, Method::GET, &list, None).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{role}: {}", reply.body);
        let reply = world.call(&token, Method::POST, &merge_path(), Some(&merge.to_string())).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{role}: {}", reply.body);
    }
    let anonymous = send(&world.app, support::get(&list)).await;
    assert!(anonymous.status == StatusCode::UNAUTHORIZED || anonymous.is_redirect_to_login(), "{}", anonymous.status);
    assert_ne!(world.status("DUP0000001").await, "removed");
    assert_eq!(world.pairs(&world.test.admin_token, 50).await, planted());

    // The page shows the pairs side by side with the forms, to a signed-in administrator.
    let page = world.admin(Method::GET, &format!("/jurisdictions/{}/duplicates", encoded(STATE)), None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("DUP0000001") && page.body.contains("Not duplicates: dismiss"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_roll_shows_a_pair_across_two_counties_and_a_pair_by_licence() {
    let test = test_node("", true).await;
    let content = &test.demo.as_ref().unwrap().content;
    let directory = tempfile::tempdir().unwrap();
    let store = test.node.shared_store();
    demo_roll::load(&store, &test.node.system_audit(), test.node.keys(), content, 2026, directory.path())
        .await
        .unwrap();
    let app = admin_app(test.node.clone());
    let jurisdictions = test.node.store().jurisdictions().await.unwrap();
    let state = jurisdictions.iter().find(|jurisdiction| jurisdiction.kind == JurisdictionKind::State).unwrap();
    let path = format!("/api/jurisdictions/{}/duplicates", encoded(state.id.as_str()));
    let reply = send(&app, support::with_token(&test.admin_token, Method::GET, &path, None)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let pairs: Vec<(String, String, Vec<String>, bool)> = reply.json()["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            let rules =
                pair["rules"].as_array().unwrap().iter().map(|rule| rule.as_str().unwrap().to_owned()).collect();
            (
                pair["first"]["registration_number"].as_str().unwrap().to_owned(),
                pair["second"]["registration_number"].as_str().unwrap().to_owned(),
                rules,
                pair["first"]["county"] != pair["second"]["county"],
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            ("EXDUP0001".to_owned(), "EXDUP0002".to_owned(), vec!["name_and_birth_date".to_owned()], true),
            ("EXDUP0002".to_owned(), "EXDUP0004".to_owned(), vec!["drivers_licence".to_owned()], false),
        ]
    );
}
