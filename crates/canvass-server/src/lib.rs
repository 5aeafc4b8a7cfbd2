//! The node's HTTP side and its application services. Two listeners: public (pages, later the
//! published results and the audit log) and admin (the admin API, metrics). Only this crate
//! knows HTTP; it holds no SQL and calls no crypto primitive directly.
//!
//! [`public_app`] and [`admin_app`] return plain routers so tests can drive them without a
//! socket; [`listen`] binds and serves them.

pub mod access;
mod admin_ballots;
mod admin_duplicates;
mod admin_elections;
mod admin_pages;
mod admin_results;
mod admin_uocava;
mod admin_voters;
mod api;
pub mod api_audit;
mod api_ballots;
mod api_duplicates;
mod api_elections;
mod api_keys;
mod api_results;
mod api_staff;
mod api_voters;
pub mod audit_log;
pub mod backup;
mod ballot_lookup;
pub mod ballots;
pub mod demo_ballots;
pub mod demo_results;
pub mod demo_roll;
pub mod demo_uocava;
pub mod duplicates;
pub mod election_import;
mod error;
pub mod keys;
mod layers;
pub mod ledger;
pub mod listen;
mod log_routes;
mod lookup;
mod lookup_cache;
pub mod mail;
mod metrics;
pub mod monitor;
mod node;
mod pages;
pub mod places_import;
pub mod qr;
pub mod requests;
pub mod results_data;
pub mod results_intake;
pub mod results_ledger;
pub mod results_publish;
pub mod results_publisher;
mod results_routes;
pub mod results_site;
pub mod results_verify;
pub mod roll;
pub mod roll_import;
pub mod roll_search;
pub mod service;
pub mod signatures;
pub mod site_file;
pub mod staff;
pub mod uocava;
mod uocava_check;
mod uocava_pages;
pub mod vote_history;
mod voter_records_pages;
pub mod voter_status;
pub mod voters;
pub mod vri_export;
pub mod vri_import;

pub use api::openapi_document;
pub use error::ServerError;
pub use layers::{admin_app, public_app};
pub use node::{Node, NodeInfo};
