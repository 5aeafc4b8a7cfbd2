//! `canvass incidents affected` and `canvass transparency publish` through the real binary: a
//! staff account's reads are in the ledger and an incident names it; the affected list names
//! exactly those records, its export is refused without a second person's approval, and the
//! static report carries the incident without the account or any voter, its feed signed by
//! the node key.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{fs, path::Path, sync::Arc};

use support::{assert_refused, enrol_second_factor, init_node, run, stderr, stdout};

const STATE: &str = "ocd-division/country:us/state:nc";
const PASSPHRASE: &str = "the transparency test key ring passphrase";
const SUBJECT: &str = "night-shift";
const INCIDENT: &str = "inc-cli-1";

fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn succeed(arguments: &[&str]) -> String {
    let output = run(arguments);
    assert!(output.status.success(), "{arguments:?}: {}", stderr(&output));
    stdout(&output)
}

/// The subject's reads of `numbers` (ledger entries under their name) and the incident, written
/// the way the node's monitor writes them.
fn record_reads_and_incident(data: &Path, numbers: &[String]) {
    use canvass_server::{
        ledger::{Audit, Ledger},
        voters,
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store: Arc<dyn canvass_store::Store> = Arc::new(
            canvass_store_sqlite::SqliteStore::open(&data.join("canvass.db"), canvass_store_sqlite::OpenMode::Existing)
                .await
                .unwrap(),
        );
        let subject = canvass_core::credential::Username::parse(SUBJECT).unwrap();
        let jurisdiction = canvass_core::id::JurisdictionId::parse(STATE).unwrap();
        let audit = Audit {
            ledger: Ledger::direct(store.clone()),
            actor: canvass_core::audit::Actor::User(subject.clone()),
            request_id: None,
        };
        voters::record_reads(&audit, &jurisdiction, Some("Checking"), numbers.iter().map(String::as_str))
            .await
            .unwrap();
        let incident = canvass_store::StoredIncident {
            id: INCIDENT.to_owned(),
            jurisdiction: Some(jurisdiction),
            opened_at: canvass_core::audit::now_millis(),
            kind: "bulk_read".to_owned(),
            severity: "high".to_owned(),
            summary: format!("Staff account {SUBJECT} read too many records."),
            subject: Some(subject),
            records_affected: numbers.len() as u64,
            status: "open".to_owned(),
            ..Default::default()
        };
        store.insert_incident(&incident).await.unwrap();
        store.close().await;
    });
}

#[test]
fn affected_lists_exactly_the_records_read_and_publish_writes_a_signed_report() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data_text = data.to_str().unwrap();
    let passphrase = directory.path().join("key-passphrase");
    fs::write(&passphrase, PASSPHRASE).unwrap();
    let passphrase_text = passphrase.to_str().unwrap();
    succeed(&[
        "jurisdiction",
        "add",
        "--data",
        data_text,
        "--id",
        STATE,
        "--name",
        "North Carolina",
        "--kind",
        "state",
    ]);
    succeed(&["keys", "init", "--data", data_text, "--jurisdiction", STATE, "--passphrase-file", passphrase_text]);
    let file = directory.path().join("voters.tsv");
    succeed(&["voters", "generate", "--out", file.to_str().unwrap(), "--rows", "20"]);
    let text = fs::read_to_string(&file).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split('\t').collect();
    let column = header.iter().position(|column| *column == "ncid").unwrap();
    let numbers: Vec<String> =
        text.lines().skip(1).map(|line| line.split('\t').nth(column).unwrap().to_owned()).collect();
    let admin_password = directory.path().join("admin-password");
    let admin = enrol_second_factor(&data, "admin");
    let code = admin.code_at(unix_seconds());
    succeed(&[
        "voters",
        "import",
        "--jurisdiction",
        STATE,
        "--format",
        "ncvoter",
        "--add-places",
        file.to_str().unwrap(),
        "--data",
        data_text,
        "--user",
        "admin",
        "--password-file",
        admin_password.to_str().unwrap(),
        "--totp-code",
        &code,
        "--passphrase-file",
        passphrase_text,
    ]);
    // The subject read five records; the other fifteen are not affected.
    let read: Vec<String> = numbers[..5].to_vec();
    record_reads_and_incident(&data, &read);

    // A second administrator reads the list (the first's code of this step is used up).
    let boss_password = directory.path().join("boss-password");
    fs::write(&boss_password, "a long enough boss password\n").unwrap();
    succeed(&[
        "user",
        "add",
        "--data",
        data_text,
        "--username",
        "boss",
        "--role",
        "state_administrator",
        "--jurisdiction",
        STATE,
        "--password-file",
        boss_password.to_str().unwrap(),
    ]);
    let boss = enrol_second_factor(&data, "boss");
    let listed = succeed(&[
        "incidents",
        "affected",
        INCIDENT,
        "--reason",
        "Breach notification",
        "--data",
        data_text,
        "--user",
        "boss",
        "--password-file",
        boss_password.to_str().unwrap(),
        "--totp-code",
        &boss.code_at(unix_seconds()),
        "--passphrase-file",
        passphrase_text,
    ]);
    let mut shown: Vec<&str> = listed.lines().skip(1).map(|line| line.split('\t').next().unwrap()).collect();
    shown.sort_unstable();
    let mut expected: Vec<&str> = read.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(shown, expected, "{listed}");
    assert!(listed.starts_with("5 voter records"), "{listed}");

    // The export is a two-person operation: without an approved request it is refused, no file.
    let export = directory.path().join("affected.csv");
    let refused = run(&[
        "incidents",
        "affected",
        INCIDENT,
        "--reason",
        "Breach notification",
        "--export",
        export.to_str().unwrap(),
        "--data",
        data_text,
        "--user",
        "admin",
        "--password-file",
        admin_password.to_str().unwrap(),
        "--totp-code",
        &admin.code_at(unix_seconds() + 30),
        "--passphrase-file",
        passphrase_text,
    ]);
    assert_refused(&refused, "second administrator's approval");
    assert!(!export.exists(), "nothing is written without the approval");
    let unknown = run(&[
        "incidents",
        "affected",
        "inc-nope",
        "--reason",
        "x",
        "--data",
        data_text,
        "--user",
        "boss",
        "--password-file",
        boss_password.to_str().unwrap(),
        "--totp-code",
        &boss.code_at(unix_seconds() + 30),
    ]);
    assert_refused(&unknown, "no incident inc-nope");

    // The static report.
    let site = directory.path().join("site");
    let published = succeed(&["transparency", "publish", "--data", data_text, "--to", site.to_str().unwrap()]);
    assert!(published.contains("1 incidents"), "{published}");
    let feed = fs::read(site.join("feed.json")).unwrap();
    let feed_text = String::from_utf8(feed.clone()).unwrap();
    assert!(feed_text.contains(INCIDENT));
    assert!(!feed_text.contains(SUBJECT), "the report never names the account: {feed_text}");
    for number in &numbers {
        assert!(!feed_text.contains(number.as_str()));
    }
    let signature = fs::read_to_string(site.join("feed.json.sig")).unwrap();
    let signature: Vec<u8> = (0..signature.trim().len())
        .step_by(2)
        .map(|index| u8::from_str_radix(&signature.trim()[index..index + 2], 16).unwrap())
        .collect();
    let pem = fs::read_to_string(data.join("node-signing.key")).unwrap();
    let key = canvass_crypto::NodeSigningKey::from_pem(&pem).unwrap().public_key();
    assert!(key.verify(&feed, &signature), "the feed verifies under the node's key");
    assert_eq!(fs::read_to_string(site.join("node_key.txt")).unwrap().trim(), key.to_hex());
    let index = fs::read_to_string(site.join("index.html")).unwrap();
    assert!(index.contains(INCIDENT) && !index.contains(SUBJECT));
    assert!(
        fs::read_to_string(site.join("feed.atom")).unwrap().contains("<feed xmlns=\"http://www.w3.org/2005/Atom\"")
    );
}
