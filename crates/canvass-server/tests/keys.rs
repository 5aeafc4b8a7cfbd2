//! Key rings through the admin API and the services: sealing refuses PII operations, the
//! passphrase and k-of-n shares unseal, forged shares and wrong passphrases do not, rotation
//! moves every row forward, and search finds voters through the blind index.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::http::{Method, StatusCode};
use canvass_core::id::JurisdictionId;
use canvass_crypto::{ExposeSecret, split_root};
use canvass_server::{keys, voters};
use support::{authorised, send, test_node};

const ALDER: &str = "ocd-division/country:us/state:zz/county:alder";
const ALDER_PATH: &str = "ocd-division%2Fcountry:us%2Fstate:zz%2Fcounty:alder";

fn new_voter(number: &str, last_name: &str) -> String {
    serde_json::json!({
        "jurisdiction": ALDER, "registration_number": number, "county": ALDER,
        "precinct": format!("{ALDER}/precinct:01"), "first_name": "Zoë", "last_name": last_name,
        "party": "una", "status": "active", "registered_on": "2024-05-01",
        "birth_date": "1980-02-09", "ssn_last_four": "1234", "drivers_license": "ZZ-998877", "email": "zoe@example.invalid"
    })
    .to_string()
}

#[tokio::test]
async fn a_sealed_jurisdiction_refuses_pii_until_its_passphrase_unseals_it() {
    let test = test_node("", true).await;
    let app = canvass_server::admin_app(test.node.clone());
    let listed = send(&app, authorised(Method::GET, "/api/keys", None)).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 4);
    let alder = listed.as_array().unwrap().iter().find(|ring| ring["jurisdiction"] == ALDER).unwrap();
    assert_eq!(
        (alder["unsealed"].as_bool(), alder["share_threshold"].as_u64(), alder["share_count"].as_u64()),
        (Some(true), Some(2), Some(3))
    );
    assert!(!listed.to_string().contains("wrapped"), "no key material in the status");
    let landing = send(&app, authorised(Method::GET, "/", None)).await;
    assert!(landing.body.contains("Key rings") && landing.body.contains("any 2 of 3"), "{}", landing.body);

    let added = send(&app, authorised(Method::POST, "/api/voters", Some(&new_voter("ZZT1", "O'Brien-Núñez")))).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);

    let sealed = send(&app, authorised(Method::POST, &format!("/api/jurisdictions/{ALDER_PATH}/seal"), None)).await;
    assert_eq!(sealed.status, StatusCode::OK);
    let refused = send(&app, authorised(Method::POST, "/api/voters", Some(&new_voter("ZZT2", "Smith")))).await;
    assert_eq!((refused.status, refused.error_code().as_str()), (StatusCode::LOCKED, "jurisdiction_sealed"));
    // A sealed jurisdiction still serves its public pages.
    let public = canvass_server::public_app(test.node.clone());
    let page = send(&public, support::get(&format!("/jurisdictions/{ALDER_PATH}"))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Alder County"));
    assert!(refused.body.contains("is sealed"), "{}", refused.body);

    let wrong = send(
        &app,
        authorised(
            Method::POST,
            &format!("/api/jurisdictions/{ALDER_PATH}/unseal"),
            Some(r#"{"passphrase":"not the passphrase at all"}"#),
        ),
    )
    .await;
    assert_eq!((wrong.status, wrong.error_code().as_str()), (StatusCode::FORBIDDEN, "wrong_secret"));
    assert!(!test.node.keys().is_unsealed(&JurisdictionId::parse(ALDER).unwrap()));

    let passphrase = test
        .demo
        .as_ref()
        .unwrap()
        .passphrases
        .iter()
        .find(|(id, _)| id.as_str() == ALDER)
        .unwrap()
        .1
        .expose_secret()
        .to_owned();
    let body = serde_json::json!({ "passphrase": passphrase }).to_string();
    let unsealed =
        send(&app, authorised(Method::POST, &format!("/api/jurisdictions/{ALDER_PATH}/unseal"), Some(&body))).await;
    assert_eq!(unsealed.status, StatusCode::OK, "{}", unsealed.body);
    let again = send(&app, authorised(Method::POST, "/api/voters", Some(&new_voter("ZZT2", "Smith")))).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);

    // The other counties were never affected.
    let birch = JurisdictionId::parse("ocd-division/country:us/state:zz/county:birch").unwrap();
    assert!(test.node.keys().is_unsealed(&birch));
}

#[tokio::test]
async fn shares_unseal_one_official_at_a_time_and_forged_ones_are_refused() {
    let test = test_node("", true).await;
    let app = canvass_server::admin_app(test.node.clone());
    let shares = &test.demo.as_ref().unwrap().shares.1;
    let unseal_path = format!("/api/jurisdictions/{ALDER_PATH}/unseal");
    let share_body = |text: &str| serde_json::json!({ "share": text }).to_string();
    send(&app, authorised(Method::POST, &format!("/api/jurisdictions/{ALDER_PATH}/seal"), None)).await;

    let first = send(&app, authorised(Method::POST, &unseal_path, Some(&share_body(&shares[0].to_text())))).await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    assert_eq!((first.json()["shares_received"].as_u64(), first.json()["shares_needed"].as_u64()), (Some(1), Some(2)));
    let repeated = send(&app, authorised(Method::POST, &unseal_path, Some(&share_body(&shares[0].to_text())))).await;
    assert_eq!(repeated.json()["shares_received"].as_u64(), Some(1), "the same official twice counts once");

    // A share of another key for the same jurisdiction: well-formed, wrong.
    let impostor_root = canvass_crypto::RootKey::generate(ALDER).unwrap();
    let forged = split_root(&impostor_root, 2, 3).unwrap();
    let refused = send(&app, authorised(Method::POST, &unseal_path, Some(&share_body(&forged[1].to_text())))).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("wrong or forged"), "{}", refused.body);
    assert!(!test.node.keys().is_unsealed(&JurisdictionId::parse(ALDER).unwrap()));

    let garbled =
        send(&app, authorised(Method::POST, &unseal_path, Some(&share_body("canvass-share-v1.2.xx.yy.zz")))).await;
    assert_eq!(garbled.status, StatusCode::BAD_REQUEST);
    let birch_share = send(
        &app,
        authorised(
            Method::POST,
            "/api/jurisdictions/ocd-division%2Fcountry:us%2Fstate:zz%2Fcounty:birch/unseal",
            Some(&share_body(&shares[0].to_text())),
        ),
    )
    .await;
    assert!(birch_share.body.contains("another jurisdiction"), "{}", birch_share.body);

    for share in [&shares[2], &shares[1]] {
        send(&app, authorised(Method::POST, &unseal_path, Some(&share_body(&share.to_text())))).await;
    }
    assert!(test.node.keys().is_unsealed(&JurisdictionId::parse(ALDER).unwrap()));
}

#[tokio::test]
async fn search_by_name_goes_through_the_blind_index_and_rotation_moves_every_row() {
    let test = test_node("", true).await;
    let store = test.node.store();
    let rings = test.node.keys();
    let alder = JurisdictionId::parse(ALDER).unwrap();
    let app = canvass_server::admin_app(test.node.clone());
    send(&app, authorised(Method::POST, "/api/voters", Some(&new_voter("ZZT9", "O'Brien-Núñez")))).await;

    let found = voters::find_by_name(store, rings, &alder, "obrien nunez", "ZOE").await.unwrap();
    assert_eq!(found.iter().map(|v| v.registration_number.as_str()).collect::<Vec<_>>(), ["ZZT9"]);
    assert_eq!(found[0].ssn_last_four.as_deref(), Some("1234"));
    assert!(voters::find_by_name(store, rings, &alder, "O'Brien", "Zoe").await.unwrap().is_empty());

    let before = store.key_version_usage(&alder).await.unwrap();
    assert_eq!(before.len(), 1);
    let ring = rings.current(store, &alder).await.unwrap();
    let new_version = keys::rotate(store, &test.node.system_audit(), &ring).await.unwrap();
    assert_eq!(new_version, 2);
    // A write after rotation uses the new version, even through the ring held in memory.
    send(&app, authorised(Method::POST, "/api/voters", Some(&new_voter("ZZT10", "Later")))).await;
    let ring = keys::reload(store, &ring).await.unwrap();
    while voters::reseal_batch(store, &test.node.system_audit(), &ring, 1, 7).await.unwrap() > 0 {}
    assert_eq!(keys::retire_unused(store, &test.node.system_audit(), &alder).await.unwrap(), vec![1]);
    let after = store.key_version_usage(&alder).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].version, 2);
    assert_eq!(after[0].rows, before[0].rows + 1);
    let again = voters::find_by_name(store, rings, &alder, "O'Brien-Núñez", "Zoë").await.unwrap();
    assert_eq!(again.len(), 1, "rows decrypt under the new version");
    assert_eq!(again[0].email.as_deref(), Some("zoe@example.invalid"));
}
