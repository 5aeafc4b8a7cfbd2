//! Shared helpers for the router tests: a node on a fresh SQLite store with an administrator
//! and an API token for it, and ways to send it requests without a socket.
// Test helpers: a failed unwrap is a failed test, which is what they are for.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{cell::RefCell, sync::Arc};

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use canvass_core::{
    access::{Grant, StaffRole},
    config::NodeConfig,
    credential::Username,
};
use canvass_crypto::{NodeSigningKey, SecretString};
use canvass_server::ledger::Audit;
use canvass_server::{Node, access, service, staff};
use canvass_store::Store;
use canvass_store_sqlite::{OpenMode, SqliteStore};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// Election definitions from a results file's own names (also included by path from the CLI's tests).
pub mod results_definition;
/// The test SMTP server (also included by path from other crates' tests).
pub mod smtp;

pub const PASSWORD: &str = "a long enough password";

thread_local! {
    /// The administrator token of the node the current test made last, for [`authorised`].
    /// Every test runs its body on one thread (`block_on`), so this is that test's token.
    static ADMIN_TOKEN: RefCell<String> = const { RefCell::new(String::new()) };
}

pub struct TestNode {
    pub node: Node,
    pub demo: Option<service::DemoLoaded>,
    /// An API token of `admin`, state administrator over the whole node.
    pub admin_token: String,
    _directory: tempfile::TempDir,
}

impl TestNode {
    /// The node's SQLite file, for tests that reach under the store.
    pub fn database_path(&self) -> std::path::PathBuf {
        self._directory.path().join("canvass.db")
    }
}

pub async fn test_node(config_text: &str, demo: bool) -> TestNode {
    let directory = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&directory.path().join("canvass.db"), OpenMode::Create).await.unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let operator = Audit::operator(store.clone());
    let admin = Username::parse("admin").unwrap();
    staff::set_administrator_password(store.as_ref(), &operator, &admin, SecretString::from(PASSWORD)).await.unwrap();
    let node_wide = Grant::permanent(StaffRole::StateAdministrator, None);
    let (_, admin_token) =
        access::issue_token(store.as_ref(), &operator, &admin, &node_wide, "test administrator", 1).await.unwrap();
    ADMIN_TOKEN.with(|token| token.replace(admin_token.clone()));
    let config = NodeConfig::parse(config_text).unwrap();
    let node = Node::start(store.clone(), NodeSigningKey::generate().unwrap(), config, demo).await.unwrap();
    let loaded = if demo {
        Some(
            service::load_demo(
                store.as_ref(),
                &Audit::operator(store.clone()),
                node.keys(),
                time::macros::date!(2026 - 11 - 21),
                7,
            )
            .await
            .unwrap(),
        )
    } else {
        None
    };
    TestNode { node, demo: loaded, admin_token, _directory: directory }
}

/// The `Authorization` header value for an API token.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The public id of a token (`canvass.<id>.<secret>`), which names it in the ledger.
pub fn token_id(token: &str) -> &str {
    token.split('.').nth(1).unwrap()
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
    /// The body exactly as sent (binary routes such as `/log/tile/...`).
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }

    pub fn error_code(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|value| value["error"]["code"].as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    pub fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Whether this is a redirect to the sign-in page.
    pub fn is_redirect_to_login(&self) -> bool {
        self.status.is_redirection() && self.header(header::LOCATION) == Some("/login")
    }
}

pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply { status, headers, body: String::from_utf8_lossy(&bytes).into_owned(), bytes: bytes.to_vec() }
}

pub fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

/// A request with a JSON body (if any) as the holder of `token`.
pub fn with_token(token: &str, method: Method, path: &str, body: Option<&str>) -> Request<Body> {
    let builder = Request::builder().method(method).uri(path).header(header::AUTHORIZATION, bearer(token));
    match body {
        Some(body) => {
            builder.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_owned())).unwrap()
        }
        None => builder.body(Body::empty()).unwrap(),
    }
}

/// A request as the node-wide administrator of the test's node (see [`test_node`]).
pub fn authorised(method: Method, path: &str, body: Option<&str>) -> Request<Body> {
    let token = ADMIN_TOKEN.with(|token| token.borrow().clone());
    assert!(!token.is_empty(), "make the test node first");
    with_token(&token, method, path, body)
}

/// A form post (`application/x-www-form-urlencoded`) with the given fields.
pub fn form(path: &str, fields: &[(&str, &str)], headers: &[(&str, &str)]) -> Request<Body> {
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    let mut builder = Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::from(body)).unwrap()
}

/// Signs in at `POST /login`; returns the reply (a redirect with the session cookie on success).
pub async fn sign_in(app: &Router, username: &str, password: &str, code: &str) -> Reply {
    send(app, form("/login", &[("username", username), ("password", password), ("code", code)], &[])).await
}

/// The session cookie's value from a sign-in reply.
pub fn session_cookie(reply: &Reply) -> Option<String> {
    let set_cookie = reply.header(header::SET_COOKIE)?;
    let pair = set_cookie.split(';').next()?;
    pair.strip_prefix(&format!("{}=", access::SESSION_COOKIE)).filter(|value| !value.is_empty()).map(str::to_owned)
}

/// A browser's signed-in session on the admin pages: its cookie and the anti-forgery token its
/// pages carry.
pub struct Session {
    app: Router,
    cookie: String,
    csrf: String,
}

impl Session {
    /// Signs `name` (whose password is [`PASSWORD`]) in with a TOTP code, enrolling a second
    /// factor first.
    pub async fn open(node: &Node, app: &Router, name: &str) -> Self {
        let store = node.store();
        let username = Username::parse(name).unwrap();
        let secret = canvass_crypto::TotpSecret::generate().unwrap();
        let sealed = secret.seal(node.totp_key(), name).unwrap();
        let account = store.staff_account(&username).await.unwrap().unwrap();
        let account =
            canvass_core::credential::StaffAccount { totp_secret: Some(sealed), totp_last_step: 0, ..account };
        store.upsert_staff_account(&account).await.unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let reply = sign_in(app, name, PASSWORD, &secret.code_at(now)).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let cookie = session_cookie(&reply).unwrap();
        let mut session = Self { app: app.clone(), cookie, csrf: String::new() };
        let page = session.get("/voters").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let marker = "name=\"csrf\" value=\"";
        let start = page.body.find(marker).unwrap() + marker.len();
        let length = page.body[start..].find('"').unwrap();
        session.csrf = page.body[start..start + length].to_owned();
        session
    }

    pub async fn get(&self, path: &str) -> Reply {
        let request = Request::get(path)
            .header(header::COOKIE, format!("{}={}", access::SESSION_COOKIE, self.cookie))
            .body(Body::empty())
            .unwrap();
        send(&self.app, request).await
    }

    /// A form post with the cookie, with or without the anti-forgery field.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)], with_csrf: bool) -> Reply {
        let mut fields = fields.to_vec();
        if with_csrf {
            fields.push(("csrf", &self.csrf));
        }
        let cookie = format!("{}={}", access::SESSION_COOKIE, self.cookie);
        send(&self.app, form(path, &fields, &[("cookie", &cookie)])).await
    }
}
