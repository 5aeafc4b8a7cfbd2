//! The node's HTTP side and its application services. Two listeners: public (pages, later the
//! published results and the audit log) and admin (the admin API, metrics). Only this crate
//! knows HTTP; it holds no SQL and calls no crypto primitive directly.
//!
//! [`public_app`] and [`admin_app`] return plain routers so tests can drive them without a
//! socket; [`listen`] binds and serves them.

pub mod access;
mod api;
mod api_staff;
pub mod api_audit;
mod api_keys;
pub mod audit_log;
pub mod backup;
mod error;
pub mod keys;
mod layers;
pub mod ledger;
pub mod listen;
pub mod mail;
mod log_routes;
mod metrics;
mod node;
pub mod monitor;
mod pages;
mod admin_pages;
pub mod requests;
pub mod qr;
pub mod service;
pub mod staff;
pub mod voters;

pub use api::openapi_document;
pub use error::ServerError;
pub use layers::{admin_app, public_app};
pub use node::{Node, NodeInfo};
