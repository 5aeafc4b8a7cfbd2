//! Request logs never carry request bodies, query strings or passwords. In a test binary of
//! its own: tracing caches per-callsite interest, and tests running beside it without a
//! subscriber would make it miss events.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use canvass_server::admin_app;
use support::{PASSWORD, authorised, send, test_node};

/// Collects everything the tracing subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn request_logs_never_contain_bodies_query_strings_or_passwords() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let test = test_node("", false).await;
    let app = admin_app(test.node.clone());
    let body = r#"{"id":"nc","name":"BODY-MARKER-7731","kind":"state"}"#;
    assert_eq!(
        send(&app, authorised(Method::POST, "/api/jurisdictions", Some(body))).await.status,
        StatusCode::CREATED
    );
    send(&app, authorised(Method::GET, "/api/precincts?jurisdiction=QUERY-MARKER-1234", None)).await;
    let wrong = support::sign_in(&app, "admin", "PASSWORD-MARKER-99", "").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let right = support::sign_in(&app, "admin", PASSWORD, "").await;
    assert!(right.status.is_redirection(), "{}", right.status);
    let forged = Request::get("/api/node")
        .header(header::AUTHORIZATION, support::bearer("canvass.0123456789abcdef.TOKEN-MARKER-42"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, forged).await.status, StatusCode::UNAUTHORIZED);
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("/api/jurisdictions"), "the request was logged: {logs}");
    let cookie = support::session_cookie(&right).unwrap();
    let secrets = [test.admin_token.as_str(), cookie.as_str()];
    for marker in ["BODY-MARKER-7731", "QUERY-MARKER-1234", "PASSWORD-MARKER-99", "TOKEN-MARKER-42", PASSWORD]
        .iter()
        .chain(&secrets)
    {
        assert!(!logs.contains(marker), "{marker} leaked into the logs");
    }
}
