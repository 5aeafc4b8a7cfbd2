//! The ledger in the running node: actions are recorded before they happen and refused when
//! their entry cannot be stored; entries are signed into checkpoints within a second; the
//! public `/log/` files verify; admin search finds entries; denied attempts are recorded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use canvass_ledger::{LedgerError, LogVerifier, TileSource};
use support::{authorised, get, send, test_node};

const STATE: &str = r#"{"id":"ocd-division/country:us/state:zz","name":"Examplia","kind":"state"}"#;

/// Waits until the node has signed a checkpoint covering every stored entry.
async fn settled(test: &support::TestNode) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let size = test.node.store().ledger_size().await.unwrap();
        let signed = test.node.store().latest_checkpoint().await.unwrap().map_or(0, |checkpoint| checkpoint.size);
        if signed == size && size > 0 {
            return size;
        }
        assert!(Instant::now() < deadline, "no checkpoint of size {size} within 10 s (signed {signed})");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_action_whose_entry_cannot_be_stored_does_not_happen() {
    let test = test_node("", false).await;
    let app = canvass_server::admin_app(test.node.clone());
    // Another connection makes every ledger insert fail, as a full or failing disk would.
    let url = format!("sqlite://{}", test.database_path().display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query(
        "CREATE TRIGGER refuse_ledger BEFORE INSERT ON ledger_entries BEGIN SELECT RAISE(ABORT, 'disk failed'); END",
    )
    .execute(&pool)
    .await
    .unwrap();
    let refused = send(&app, authorised(Method::POST, "/api/jurisdictions", Some(STATE))).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{}", refused.body);
    assert_eq!(refused.error_code(), "unavailable");
    assert!(
        test.node.store().jurisdictions().await.unwrap().is_empty(),
        "the jurisdiction was added without its entry"
    );

    sqlx::query("DROP TRIGGER refuse_ledger").execute(&pool).await.unwrap();
    let created = send(&app, authorised(Method::POST, "/api/jurisdictions", Some(STATE))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let found =
        send(&app, authorised(Method::GET, "/api/audit?record=jurisdiction:ocd-division/country:us/state:zz", None))
            .await;
    let entries = found.json()["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 1, "{}", found.body);
    assert_eq!(
        entries[0]["actor"],
        format!("token:{}", support::token_id(&test.admin_token)),
        "the token names the actor"
    );
    assert_eq!(entries[0]["action"], "jurisdiction.add");
    assert_eq!(entries[0]["outcome"], "allowed");
    assert!(entries[0]["request_id"].as_str().is_some_and(|id| !id.is_empty()));
}

#[tokio::test]
async fn failures_and_refusals_are_recorded_without_the_typed_name() {
    let test = test_node("", false).await;
    let app = canvass_server::admin_app(test.node.clone());
    // A password typed into the username field, a wrong password, and a made-up token.
    let typed = support::sign_in(&app, "typed-secret-123", "nope", "").await;
    assert_eq!(typed.status, StatusCode::UNAUTHORIZED);
    let wrong_password = support::sign_in(&app, "admin", "nope", "").await;
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    let forged = support::with_token("canvass.typed-secret-456.nope", Method::GET, "/api/jurisdictions", None);
    assert_eq!(send(&app, forged).await.status, StatusCode::UNAUTHORIZED);
    // A county whose parent does not exist: recorded as attempted, then failed.
    let orphan = r#"{"id":"zz-orphan","name":"Orphan","kind":"county","parent":"ocd-division/country:us/state:zz"}"#;
    assert_eq!(send(&app, authorised(Method::POST, "/api/jurisdictions", Some(orphan))).await.status.as_u16(), 422);

    let denied = send(&app, authorised(Method::GET, "/api/audit?outcome=denied", None)).await.json();
    let actors: Vec<&str> =
        denied["entries"].as_array().unwrap().iter().map(|e| e["actor"].as_str().unwrap()).collect();
    assert_eq!(actors, ["anonymous", "user:admin", "anonymous"], "newest first: {denied}");
    let failed = send(&app, authorised(Method::GET, "/api/audit?outcome=failed&record=jurisdiction:zz-orphan", None))
        .await
        .json();
    assert_eq!(failed["entries"][0]["reason"], "unknown_reference", "{failed}");
    let size = settled(&test).await;
    let everything = test.node.store().ledger_entries(0, size as u32).await.unwrap();
    for typed in ["typed-secret-123", "typed-secret-456", "nope"] {
        assert!(everything.iter().all(|row| !String::from_utf8_lossy(&row.body).contains(typed)), "{typed}");
    }
    let bad_query = send(&app, authorised(Method::GET, "/api/audit?outcome=maybe", None)).await;
    assert_eq!(bad_query.status, StatusCode::BAD_REQUEST);
}

/// A tile source over the public router, as an outside verifier sees it.
struct Public {
    app: axum::Router,
    runtime: tokio::runtime::Handle,
}

impl TileSource for Public {
    fn fetch(&mut self, path: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        let reply =
            tokio::task::block_in_place(|| self.runtime.block_on(send(&self.app, get(&format!("/log/{path}")))));
        match reply.status {
            StatusCode::OK => Ok(Some(reply.bytes)),
            StatusCode::NOT_FOUND => Ok(None),
            status => Err(LedgerError::Fetch { path: path.to_owned(), reason: status.to_string() }),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_log_verifies_and_its_checkpoint_follows_new_entries() {
    let test = test_node("", true).await;
    let size = settled(&test).await;
    let public = canvass_server::public_app(test.node.clone());
    let checkpoint = send(&public, get("/log/checkpoint")).await;
    assert_eq!(checkpoint.status, StatusCode::OK);
    assert!(
        checkpoint.body.starts_with(&format!("{}\n{size}\n", test.node.log_identity().origin)),
        "{}",
        checkpoint.body
    );
    let tile = send(&public, get("/log/tile/0/000.p/1")).await;
    assert_eq!(tile.status, StatusCode::OK);
    assert!(tile.headers["cache-control"].to_str().unwrap().contains("immutable"));
    assert_eq!(send(&public, get("/log/tile/0/001")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(send(&public, get("/log/tile/0/../../etc/passwd")).await.status, StatusCode::NOT_FOUND);

    let verifier = LogVerifier { log_key: test.node.log_identity().verifier_key.clone(), witnesses: Vec::new() };
    let mut source = Public { app: public.clone(), runtime: tokio::runtime::Handle::current() };
    let report = tokio::task::spawn_blocking(move || verifier.verify(&mut source, None, &mut |_: u64, _: u64| {}))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.checkpoint.size, size);

    // Appends are signed into a checkpoint within a second.
    let admin = canvass_server::admin_app(test.node.clone());
    let precinct = r#"{"id":"zz-new-001","jurisdiction":"ocd-division/country:us/state:zz/county:alder","name":"New"}"#;
    let started = Instant::now();
    assert_eq!(
        send(&admin, authorised(Method::POST, "/api/precincts", Some(precinct))).await.status,
        StatusCode::CREATED
    );
    let grown = settled(&test).await;
    assert!(grown > size);
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    let page = send(&public, get("/audit")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("precinct.add"), "{}", page.body);
}
