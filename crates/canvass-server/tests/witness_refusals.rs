//! `POST /log/refusal` through the real public app: a refusal signed by a witness in
//! `ledger.witnesses` opens one `witness_refusal` incident (seen by an administrator through
//! `GET /api/incidents`) and a `witness.refusal` ledger entry, and a later refusal is an update;
//! one signed by an unknown key, a forged one, one for another log, an oversized body, a stale
//! one and a replay each answer with a clear error and change nothing. The public report
//! keeps the kind's fixed text, never the witness's reason.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode},
};
use canvass_crypto::NodeSigningKey;
use canvass_ledger::{Checkpoint, EMPTY_ROOT, Note, NoteSigner, Refusal, cosign_checkpoint, leaf_hash, sign_refusal};
use canvass_server::{admin_app, public_app};
use canvass_store::{LedgerQuery, Store};
use serde_json::Value;
use support::{Reply, TestNode, authorised, get, send, test_node};

const ORIGIN: &str = "refusals.test/log";
const WITNESS: &str = "witness.other-county.gov";
const REASON: &str = "the log shrank from 90 to 12 entries (truncation); not cosigning";

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn refusal(origin: &str, time: u64, reason: &str) -> Refusal {
    Refusal::new(origin, time, (12, leaf_hash(b"refused root")), 90, reason)
}

async fn post_refusal(app: &Router, body: impl Into<Body>) -> Reply {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/log/refusal")
        .header("content-type", "text/plain; charset=utf-8")
        .body(body.into())
        .unwrap();
    send(app, request).await
}

/// What a refusal may change: the register, the ledger, the updates of the one incident.
#[derive(Debug, PartialEq, Eq)]
struct Traces {
    incidents: usize,
    updates: usize,
    refusal_entries: usize,
    ledger_size: u64,
}

async fn traces(test: &TestNode) -> Traces {
    let admin = admin_app(test.node.clone());
    let listed = send(&admin, authorised(Method::GET, "/api/incidents", None)).await.json();
    let refusals: Vec<&Value> =
        listed.as_array().unwrap().iter().filter(|incident| incident["kind"] == "witness_refusal").collect();
    let updates = match refusals.first() {
        Some(incident) => {
            let path = format!("/api/incidents/{}", incident["id"].as_str().unwrap());
            let detail = send(&admin, authorised(Method::GET, &path, None)).await.json();
            detail["updates"].as_array().unwrap().len()
        }
        None => 0,
    };
    let query = LedgerQuery { action: Some("witness.refusal".into()), limit: 100, ..LedgerQuery::default() };
    let store: &dyn Store = test.node.store();
    Traces {
        incidents: refusals.len(),
        updates,
        refusal_entries: store.search_ledger(&query).await.unwrap().len(),
        ledger_size: store.ledger_size().await.unwrap(),
    }
}

#[tokio::test]
async fn a_trusted_witness_refusal_opens_one_incident_and_anything_else_changes_nothing() {
    let witness_key = NodeSigningKey::generate().unwrap();
    let witness = NoteSigner::new(WITNESS, &witness_key).unwrap();
    let config = format!("[ledger]\norigin = \"{ORIGIN}\"\nwitnesses = [\"{}\"]\n", witness.cosignature_key().0);
    let test = test_node(&config, false).await;
    let public = public_app(test.node.clone());
    let before = traces(&test).await;
    assert_eq!((before.incidents, before.refusal_entries), (0, 0));

    let signed = sign_refusal(&refusal(ORIGIN, now(), REASON), &witness).to_text();
    let accepted = post_refusal(&public, signed.clone()).await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.body);
    assert_eq!(accepted.json()["witness"], WITNESS);
    assert_eq!(accepted.json()["refused_size"], 12);

    let admin = admin_app(test.node.clone());
    let listed = send(&admin, authorised(Method::GET, "/api/incidents", None)).await.json();
    let incident = listed.as_array().unwrap().iter().find(|incident| incident["kind"] == "witness_refusal").unwrap();
    assert_eq!(incident["severity"], "critical");
    let summary = incident["summary"].as_str().unwrap();
    assert!(summary.contains(WITNESS) && summary.contains(REASON), "{summary}");
    assert!(summary.contains("refused size 12") && summary.contains("last cosigned size 90"), "{summary}");
    let store: &dyn Store = test.node.store();
    let query = LedgerQuery { action: Some("witness.refusal".into()), limit: 10, ..LedgerQuery::default() };
    let entries = store.search_ledger(&query).await.unwrap();
    assert_eq!(entries.len(), 1);
    let entry = canvass_core::audit::AuditEntry::decode(&entries[0].body).unwrap();
    assert!(entry.targets.contains(&format!("witness:{WITNESS}")), "{:?}", entry.targets);
    assert!(entry.targets.contains(&"checkpoint:12".to_owned()), "{:?}", entry.targets);
    let recorded = String::from_utf8_lossy(&entries[0].body).into_owned();
    assert!(!recorded.contains("shrank"), "the reason is the incident's, not the ledger's: {recorded}");
    let after_first = traces(&test).await;
    assert_eq!((after_first.incidents, after_first.refusal_entries), (1, 1));

    // The public report shows the kind's fixed text until the incident is closed.
    for path in ["/transparency", "/transparency/feed.json", "/transparency/feed.atom"] {
        let page = send(&public, get(path)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(page.body.contains("witness"), "{path} lists the incident");
        assert!(!page.body.contains("shrank") && !page.body.contains("refused size"), "{path}: {}", page.body);
    }

    // Refused, each changing nothing.
    let stranger_key = NodeSigningKey::generate().unwrap();
    let stranger = NoteSigner::new(WITNESS, &stranger_key).unwrap();
    let forged = signed.replace("reason the log shrank", "reason the log grew");
    let mut cosigned = Note {
        text: Checkpoint { origin: ORIGIN.into(), size: 12, root: EMPTY_ROOT, extensions: vec![] }.to_text(),
        signatures: vec![],
    };
    cosigned.add_signature(cosign_checkpoint(&cosigned.text, &witness, now()));
    let refused: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        ("a replay", signed.clone().into_bytes(), StatusCode::CONFLICT, "already_exists"),
        (
            "an unknown witness key of the same name",
            sign_refusal(&refusal(ORIGIN, now(), REASON), &stranger).to_text().into_bytes(),
            StatusCode::FORBIDDEN,
            "refused",
        ),
        ("a forged reason", forged.into_bytes(), StatusCode::FORBIDDEN, "refused"),
        (
            "another log's origin",
            sign_refusal(&refusal("elsewhere.test/log", now(), REASON), &witness).to_text().into_bytes(),
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "a stale refusal",
            sign_refusal(&refusal(ORIGIN, now() - 11 * 60, REASON), &witness).to_text().into_bytes(),
            StatusCode::FORBIDDEN,
            "refused",
        ),
        (
            "a refusal from the future",
            sign_refusal(&refusal(ORIGIN, now() + 3600, REASON), &witness).to_text().into_bytes(),
            StatusCode::FORBIDDEN,
            "refused",
        ),
        ("a cosignature", cosigned.to_text().into_bytes(), StatusCode::BAD_REQUEST, "invalid_input"),
        ("not a note", b"refuse everything".to_vec(), StatusCode::BAD_REQUEST, "invalid_input"),
        ("an oversized body", vec![b'a'; 9 * 1024], StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
    ];
    for (what, body, status, code) in refused {
        let reply = post_refusal(&public, body).await;
        assert_eq!(reply.status, status, "{what}: {}", reply.body);
        assert_eq!(reply.error_code(), code, "{what}: {}", reply.body);
        assert!(!reply.json()["error"]["message"].as_str().unwrap().is_empty(), "{what}");
        assert_eq!(traces(&test).await, after_first, "{what} changed something");
    }

    // A later refusal by the same witness is an update of the same incident.
    let again = sign_refusal(&refusal(ORIGIN, now() + 1, REASON), &witness).to_text();
    assert_eq!(post_refusal(&public, again).await.status, StatusCode::ACCEPTED);
    let after_second = traces(&test).await;
    assert_eq!(after_second.incidents, 1);
    assert_eq!(after_second.updates, after_first.updates + 1);
    assert_eq!(after_second.refusal_entries, 2);
}
