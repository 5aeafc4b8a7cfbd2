//! Rotation under load: `canvass keys rotate` runs while the serving node keeps registering
//! voters; afterwards every row decrypts and none is sealed under a retired version. The
//! rotation is a two-person operation: the administrator asks through the API, the county's
//! first administrator (added from the shell, the bootstrap case) approves, and the requester
//! carries it out from the command line with password and authenticator code.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    fs,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU32, Ordering},
    },
};

use canvass_core::id::JurisdictionId;
use canvass_server::{keys, voters};
use canvass_store::{KeyState, Store};
use canvass_store_sqlite::{OpenMode, SqliteStore};
use support::{
    Served, admin_bearer, approved_request, enrol_second_factor, init_node, mint_token, request, run, stderr, stdout,
    totp_code,
};

const COUNTY: &str = "rotation-county";
const PASSPHRASE: &str = "rotation key ring passphrase";

fn register(served: &Served, bearer: &str, number: u32) -> u16 {
    let voter = serde_json::json!({
        "jurisdiction": COUNTY, "registration_number": format!("RT{number}"), "county": COUNTY,
        "precinct": "rotation-01", "first_name": "Ada", "last_name": format!("Rotation{}", (b'a' + (number % 26) as u8) as char),
        "party": "UNA", "status": "active", "registered_on": "2020-01-01", "birth_date": "1970-01-01",
        "ssn_last_four": "1111", "drivers_license": format!("RTDL{number}")
    })
    .to_string();
    request(served.admin, "POST", "/api/voters", &[("Authorization", bearer)], Some(&voter)).status
}

#[test]
fn rotation_while_the_node_keeps_writing_leaves_every_row_readable_and_none_on_a_retired_version() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data_text = data.to_str().unwrap().to_owned();
    let passphrase_file = directory.path().join("passphrase");
    fs::write(&passphrase_file, PASSPHRASE).unwrap();
    let passphrase_text = passphrase_file.to_str().unwrap().to_owned();
    for step in [
        vec![
            "jurisdiction",
            "add",
            "--data",
            &data_text,
            "--id",
            COUNTY,
            "--name",
            "Rotation County",
            "--kind",
            "state",
        ],
        vec!["precinct", "add", "--data", &data_text, "--id", "rotation-01", "--jurisdiction", COUNTY, "--name", "R01"],
        vec!["keys", "init", "--data", &data_text, "--jurisdiction", COUNTY, "--passphrase-file", &passphrase_text],
    ] {
        let output = run(&step);
        assert!(output.status.success(), "{step:?}: {}", stderr(&output));
    }
    // The county's first administrator comes from the shell; they approve the rotation.
    let approver_password = directory.path().join("approver-password");
    fs::write(&approver_password, "the approver's own long password").unwrap();
    let added = run(&[
        "user",
        "add",
        "--data",
        &data_text,
        "--username",
        "approver",
        "--role",
        "county_administrator",
        "--jurisdiction",
        COUNTY,
        "--password-file",
        approver_password.to_str().unwrap(),
    ]);
    assert!(added.status.success(), "{}", stderr(&added));
    let approver = format!("Bearer {}", mint_token(&data, "approver", "county_administrator", Some(COUNTY)));
    let administrator = admin_bearer(&data);
    let authenticator = enrol_second_factor(&data, "admin");

    let served = Arc::new(Served::start(&["--data", &data_text], &[]).unwrap());
    let unseal = serde_json::json!({ "passphrase": PASSPHRASE }).to_string();
    let reply = request(
        served.admin,
        "POST",
        &format!("/api/jurisdictions/{COUNTY}/unseal"),
        &[("Authorization", &administrator)],
        Some(&unseal),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    for number in 0..300 {
        assert_eq!(register(&served, &administrator, number), 201);
    }
    let approved = approved_request(&served, &administrator, &approver, "rotate_keys", COUNTY);

    let stop = Arc::new(AtomicBool::new(false));
    let written_during = Arc::new(AtomicU32::new(0));
    let writer = {
        let (served, stop, written_during) = (served.clone(), stop.clone(), written_during.clone());
        let bearer = administrator.clone();
        std::thread::spawn(move || {
            // Bounded: at most 2,000 writes, and it stops as soon as the rotation is done.
            for number in 300..2_300 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                assert_eq!(register(&served, &bearer, number), 201);
                written_during.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let code = totp_code(&authenticator);
    let password_file = directory.path().join("admin-password");
    let rotated = run(&[
        "keys",
        "rotate",
        "--data",
        &data_text,
        "--jurisdiction",
        COUNTY,
        "--passphrase-file",
        &passphrase_text,
        "--batch",
        "25",
        "--user",
        "admin",
        "--password-file",
        password_file.to_str().unwrap(),
        "--totp-code",
        &code,
        "--request",
        &approved,
    ]);
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    assert!(written_during.load(Ordering::Relaxed) > 0, "the node wrote while the rotation ran");
    // The approval was used up: the node will not run it again.
    let again = request(
        served.admin,
        "POST",
        &format!("/api/requests/{approved}/run"),
        &[("Authorization", &administrator)],
        None,
    );
    assert_eq!(again.status, 409, "{}", again.body);
    // The ledger names the staff member, not the operator, for the request and the rotation.
    let allowed = |action: &str| {
        let found =
            run(&["audit", "search", "--data", &data_text, "--action", action, "--outcome", "allowed", "--json"]);
        let entries: serde_json::Value = serde_json::from_str(&stdout(&found)).unwrap();
        entries.as_array().unwrap().iter().map(|entry| entry["actor"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(allowed("request.execute"), ["user:admin"]);
    let rotation = allowed("keys.rotate");
    assert!(!rotation.is_empty() && rotation.iter().all(|actor| actor == "user:admin"), "{rotation:?}");

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store = SqliteStore::open(&data.join("canvass.db"), OpenMode::Existing).await.unwrap();
        let audit = canvass_server::ledger::Audit::operator(std::sync::Arc::new(
            SqliteStore::open(&data.join("canvass.db"), OpenMode::Existing).await.unwrap(),
        ));
        let jurisdiction = JurisdictionId::parse(COUNTY).unwrap();
        // Rows written after the rotation's last pass may still sit on version 1: a second
        // pass of the same steps moves them, then version 1 retires. When no row was left the
        // rotation has already retired it (which of the two happens depends on timing).
        let retired_already = store
            .key_ring(&jurisdiction)
            .await
            .unwrap()
            .unwrap()
            .keys
            .iter()
            .any(|key| key.purpose == "field" && key.version == 1 && key.state == KeyState::Retired);
        if !retired_already {
            let ring = keys::unseal_with_passphrase(&store, &audit, &jurisdiction, PASSPHRASE.to_owned().into())
                .await
                .unwrap();
            while voters::reseal_batch(&store, &audit, &ring, 1, 100).await.unwrap() > 0 {}
            keys::retire_unused(&store, &audit, &jurisdiction).await.unwrap();
        }

        let stored = store.key_ring(&jurisdiction).await.unwrap().unwrap();
        let retired: Vec<u32> = stored
            .keys
            .iter()
            .filter(|k| k.purpose == "field" && k.state == KeyState::Retired)
            .map(|k| k.version)
            .collect();
        assert_eq!(retired, vec![1]);
        let usage = store.key_version_usage(&jurisdiction).await.unwrap();
        let total: u64 = usage.iter().map(|u| u.rows).sum();
        assert_eq!(total, 300 + u64::from(written_during.load(Ordering::Relaxed)));
        assert!(usage.iter().all(|u| !retired.contains(&u.version)), "{usage:?}");
        let ring =
            keys::unseal_with_passphrase(&store, &audit, &jurisdiction, PASSPHRASE.to_owned().into()).await.unwrap();
        let mut opened = 0;
        for version in usage.iter().map(|u| u.version) {
            for row in store.voters_sealed_with(&jurisdiction, version, 10_000).await.unwrap() {
                voters::open_voter(&ring, &row).unwrap();
                opened += 1;
            }
        }
        assert_eq!(opened, total);
        store.close().await;
    });
}
