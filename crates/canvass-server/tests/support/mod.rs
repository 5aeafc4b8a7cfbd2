//! Shared helpers for the router tests: a node on a fresh SQLite store and a way to send it
//! requests without a socket.
// Test helpers: a failed unwrap is a failed test, which is what they are for.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use base64::Engine;
use canvass_core::{config::NodeConfig, credential::Username};
use canvass_crypto::{NodeSigningKey, SecretString};
use canvass_server::ledger::Audit;
use canvass_server::{Node, service};
use canvass_store::Store;
use canvass_store_sqlite::{OpenMode, SqliteStore};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub const PASSWORD: &str = "a long enough password";

pub struct TestNode {
    pub node: Node,
    pub demo: Option<service::DemoLoaded>,
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
    service::set_administrator_password(
        store.as_ref(),
        &Audit::operator(store.clone()),
        &Username::parse("admin").unwrap(),
        SecretString::from(PASSWORD),
    )
    .await
    .unwrap();
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
    TestNode { node, demo: loaded, _directory: directory }
}

pub fn basic(username: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}")))
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
        self.json()["error"]["code"].as_str().unwrap_or_default().to_owned()
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

pub fn authorised(method: Method, path: &str, body: Option<&str>) -> Request<Body> {
    let builder = Request::builder().method(method).uri(path).header(header::AUTHORIZATION, basic("admin", PASSWORD));
    match body {
        Some(body) => {
            builder.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_owned())).unwrap()
        }
        None => builder.body(Body::empty()).unwrap(),
    }
}
