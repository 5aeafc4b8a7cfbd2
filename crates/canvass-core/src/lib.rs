//! Canvass domain types and pure rules: nothing here does I/O, knows HTTP or SQL.
//!
//! Values are parsed at the edge into these types (`parse`, `TryFrom`), so code past the edge
//! never sees an invalid id, name or configuration.

pub mod absentee_request;
pub mod access;
pub mod audit;
pub mod ballot_styles;
pub mod ballots;
pub mod config;
pub mod credential;
pub mod demo;
pub mod doctor;
pub mod election;
mod error;
pub mod id;
pub mod incidents;
pub mod jurisdiction;
pub mod lifecycle;
pub mod name;
pub mod normalize;
pub mod results;
pub mod results_sample;
pub mod uocava;
pub mod voter;
pub mod voter_policy;

pub use error::CoreError;
