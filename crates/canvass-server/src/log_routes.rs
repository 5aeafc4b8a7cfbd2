//! The audit ledger on the public listener: the C2SP tlog-tiles files under `/log/`, the log's
//! public key, witnesses' cosignatures coming in, and a page explaining how to check it all.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{Node, ServerError, audit_log};

/// Tiles never change once served (a partial tile has its own path), so caches may keep them.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The checkpoint moves every second or so while entries arrive.
const SHORT: &str = "public, max-age=1";

fn text(body: String, cache: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

pub async fn checkpoint(State(node): State<Node>) -> Result<Response, ServerError> {
    let note = audit_log::checkpoint_text(node.store())
        .await?
        .ok_or_else(|| ServerError::NotFound("the ledger has no signed checkpoint yet".into()))?;
    Ok(text(note, SHORT))
}

pub async fn tile(State(node): State<Node>, Path(path): Path<String>) -> Result<Response, ServerError> {
    let bytes = audit_log::tile(node.store(), &format!("tile/{path}"))
        .await?
        .ok_or_else(|| ServerError::NotFound("no such tile in the signed tree".into()))?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    Ok(response)
}

/// The log's verifier key, for `canvass audit verify --log-key` and witnesses.
pub async fn key(State(node): State<Node>) -> Response {
    text(format!("{}\n", node.log_identity().verifier_key), SHORT)
}

/// A witness hands back a checkpoint it cosigned (C2SP tlog-cosignature lines added to the
/// note). Only cosignatures by witness keys in `ledger.witnesses` are kept.
pub async fn add_cosignature(State(node): State<Node>, body: Bytes) -> Result<Response, ServerError> {
    let accepted = audit_log::add_cosignatures(node.store(), node.log_identity(), &body).await?;
    Ok((StatusCode::OK, text(format!("cosigned by {}\n", accepted.join(", ")), "no-store")).into_response())
}
