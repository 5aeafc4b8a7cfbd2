//! Canvass's import and export formats: standard documents in and out of domain values. This
//! crate never touches the database; callers read the store and hand values over.
//!
//! Now: the audit ledger as NIST SP 1500-101 Election Event Logging ([`event_log`]), in XML and
//! in JSON, both valid against NIST's schemas; North Carolina's voter file ([`ncvoter`]): a
//! streaming reader that rejects bad rows one by one, and a seeded generator of synthetic files;
//! its voter history file ([`ncvhis`]), read and generated the same way; the Voting Information
//! Project's VIP 5 feed ([`vip5`]): precincts and their polling places, streamed; NIST SP
//! 1500-102 Voter Records Interchange requests ([`vri`]): registrations and absentee-ballot
//! requests in and out of XML and JSON, valid against NIST's schemas; county results files as
//! [`reported`] counts, every problem listed by line or element: OpenElections' precinct CSV
//! ([`openelections`]) and Clarity's ENR detail XML ([`clarity`]); NIST SP 1500-100 v2 Election
//! Results Reporting ([`nist_results`]): an election's definition and results in and out of XML
//! and JSON, valid against NIST's schemas, and its results as [`reported`] counts.

pub mod clarity;
pub mod election_definition;
mod error;
pub mod event_log;
pub mod ncvhis;
pub mod ncvoter;
mod nist_document;
pub mod nist_results;
pub mod openelections;
pub mod reported;
pub mod results_match;
mod tab_lines;
pub mod vip5;
pub mod vri;

pub use error::FormatsError;
pub use event_log::{
    DeviceType, EventLogFormat, EventLogSource, EventLogWriter, EventType, nist_event_documentation_json,
    nist_event_documentation_xml, nist_event_log_json, nist_event_log_xml, write_nist_event_log,
    write_nist_event_log_json, write_nist_event_log_xml,
};
