//! The admin pages (issue 5) in Debian's headless Chromium, used the way a person would: a
//! second state administrator signs in with a password, is sent to enrol an authenticator,
//! enrols with a code computed from the key the page shows, signs out, signs in again with
//! password and a fresh code, and on the dashboard approves a two-person request that the
//! first administrator made through the API. The API and the ledger then name the browser's
//! user as the approver. The pages have no JavaScript, so the test drives the browser itself
//! over the DevTools protocol: real key input and real mouse clicks on the server's forms.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../canvass-server/tests/support/devtools.rs"]
mod devtools;
mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use canvass_crypto::TotpSecret;
use data_encoding::BASE32_NOPAD;
use devtools::Chromium;
use serde_json::json;
use support::{PASSWORD, Served, admin_bearer, init_node, request, run, run_with, stderr};

/// The second state administrator, who signs in through the browser.
const APPROVER: &str = "approver";
const APPROVER_PASSWORD: &str = "the approver's own long password";
const STATE: &str = "browser-state";
const TOTP_STEP_SECONDS: u64 = 30;

fn unix_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// The code an authenticator app would show for `step`.
fn code_for_step(secret: &TotpSecret, step: u64) -> String {
    secret.code_at(step * TOTP_STEP_SECONDS)
}

#[test]
fn a_second_administrator_signs_in_with_password_and_totp_in_chromium_and_approves_a_request() {
    let directory = tempfile::tempdir().unwrap();
    let data = init_node(directory.path(), &[]);
    let data_text = data.to_str().unwrap().to_owned();
    // `canvass init` made `admin`; `canvass admin set-password` adds a second node-wide
    // state administrator, the bootstrap path that needs no two-person request.
    let added = run_with(
        &["admin", "set-password", "--data", &data_text, "--user", APPROVER],
        "CANVASS_ADMIN_PASSWORD",
        APPROVER_PASSWORD,
    );
    assert!(added.status.success(), "adding the second administrator failed: {}", stderr(&added));
    let state = run(&[
        "jurisdiction",
        "add",
        "--data",
        &data_text,
        "--id",
        STATE,
        "--name",
        "Browser State",
        "--kind",
        "state",
    ]);
    assert!(state.status.success(), "{}", stderr(&state));
    // `init_node` also issued the first administrator an API token (`canvass token add`).
    let bearer = admin_bearer(&data);

    let served = Served::start(&["--data", &data_text], &[]).unwrap();
    let asked = json!({
        "kind": "export_voters", "jurisdiction": STATE, "subject": "",
        "justification": "The list-maintenance vendor needs this month's file"
    });
    let created =
        request(served.admin, "POST", "/api/requests", &[("Authorization", &bearer)], Some(&asked.to_string()));
    assert_eq!(created.status, 201, "the first administrator's request: {}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let base = format!("http://{}", served.admin);

    let mut browser = Chromium::launch("admin-browser", 1200, 1400);

    // 1. Password only: the role reads PII, so the session may only enrol a second factor.
    browser.open(&format!("{base}/login"), "/login");
    browser.type_into("#username", APPROVER);
    browser.type_into("#password", APPROVER_PASSWORD);
    browser.submit("form[action='/login'] button[type=submit]", "/account", "signing in without a second factor");

    // 2. Enrolment: the key the page shows, typed into an "app" (computed here), its code sent back.
    let key = browser.text("#totp-key");
    let secret = TotpSecret::from_bytes(&BASE32_NOPAD.decode(key.trim().as_bytes()).unwrap()).unwrap();
    let qr = browser.evaluate("document.querySelector('figure.qr svg') !== null");
    assert_eq!(qr, json!(true), "the enrolment page shows no QR code: {}", browser.describe());
    let enrolled_step = unix_seconds() / TOTP_STEP_SECONDS;
    browser.type_into("form[action='/account/second-factor'] #code", &code_for_step(&secret, enrolled_step));
    browser.screenshot("admin-enrolment.png");
    browser.submit("form[action='/account/second-factor'] button[type=submit]", "/", "enrolling the authenticator");
    let dashboard = browser.text("main");
    assert!(dashboard.contains(&format!("Signed in as {APPROVER}")), "dashboard: {dashboard}");

    // 3. Sign out, and in again with password and code. Enrolment used its step; the next
    // code is for the following 30-s step, which the node accepts a step early for drift.
    browser.submit("form[action='/logout'] button[type=submit]", "/login", "signing out");
    let step = (enrolled_step + 1).max(unix_seconds() / TOTP_STEP_SECONDS);
    browser.type_into("#username", APPROVER);
    browser.type_into("#password", APPROVER_PASSWORD);
    browser.type_into("#code", &code_for_step(&secret, step));
    browser.submit("form[action='/login'] button[type=submit]", "/", "signing in with password and code");

    // 4. The dashboard lists the first administrator's request; approve it with the mouse.
    let row = format!("#request-{id}");
    let pending = browser.text(&row);
    assert!(pending.contains("Export the voter file") && pending.contains("admin"), "request row: {pending}");
    assert!(pending.contains("pending"), "request row: {pending}");
    browser.screenshot("admin-dashboard.png");
    browser.submit(&format!("{row} form[action='/approvals/{id}/approve'] button"), "/approvals", "approving");
    let decided = browser.text(&row);
    assert!(decided.contains(&format!("approved by {APPROVER}")), "request row after approval: {decided}");
    browser.screenshot("admin-approved.png");
    drop(browser);

    // 5. The API and the ledger agree: approved, by the browser's user.
    let listed = request(served.admin, "GET", "/api/requests", &[("Authorization", &bearer)], None);
    assert_eq!(listed.status, 200, "{}", listed.body);
    let requests = listed.json();
    let approved = requests.as_array().unwrap().iter().find(|request| request["id"] == json!(id)).unwrap();
    assert_eq!(approved["status"], "approved", "{approved}");
    assert_eq!(approved["approver"], APPROVER, "{approved}");
    assert_eq!(approved["requester"], "admin", "{approved}");

    let search = format!("/api/audit?action=request.approve&actor=user:{APPROVER}");
    let ledger = request(served.admin, "GET", &search, &[("Authorization", &bearer)], None);
    assert_eq!(ledger.status, 200, "{}", ledger.body);
    let entries = ledger.json()["entries"].as_array().unwrap().clone();
    let entry = entries
        .iter()
        .find(|entry| entry["targets"].as_array().unwrap().contains(&json!(format!("request:{id}"))))
        .unwrap_or_else(|| panic!("no request.approve entry for {id} under user:{APPROVER}: {entries:?}"));
    assert_eq!(entry["outcome"], "allowed", "{entry}");
    assert_eq!(entry["jurisdiction"], STATE, "{entry}");

    let enrolment = request(
        served.admin,
        "GET",
        &format!("/api/audit?action=auth.second_factor&actor=user:{APPROVER}"),
        &[("Authorization", &bearer)],
        None,
    );
    assert_eq!(enrolment.json()["entries"].as_array().map(Vec::len), Some(1), "{}", enrolment.body);
    let (_, logged) = served.stop_and_collect();
    assert!(!logged.contains("panicked"), "{logged}");
    assert!(!logged.contains(PASSWORD) && !logged.contains(APPROVER_PASSWORD), "a password reached the log");
}
