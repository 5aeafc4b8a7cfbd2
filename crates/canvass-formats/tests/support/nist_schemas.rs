//! Validating NIST SP 1500-100 v2 documents against NIST's own schemas, for every crate's tests
//! (included by path): the XML with xmllint against the XSD, the JSON with jsonschema against
//! both published copies of the JSON schema, formats (date-time, date) checked too. `nist` is
//! the path of `shared/data/nist` from the test's crate directory.
// Test helpers: a failed unwrap is a failed test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{path::Path, process::Command};

use serde_json::Value;

/// The XSD's errors for the XML file at `file`; a missing xmllint fails the test (the package
/// is libxml2-utils, which scripts/test installs).
pub fn xmllint_errors(nist: &Path, file: &Path) -> Option<String> {
    let output = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(nist.join("1500-100/NIST_V2_election_results_reporting.xsd"))
        .arg(file)
        .output()
        .unwrap_or_else(|error| panic!("cannot run xmllint ({error}): install libxml2-utils, as scripts/test does"));
    (!output.status.success()).then(|| format!("{}: {}", file.display(), String::from_utf8_lossy(&output.stderr)))
}

/// Both published JSON schemas of 1500-100 v2, compiled.
pub fn json_validators(nist: &Path) -> Vec<(&'static str, jsonschema::Validator)> {
    [
        "1500-100/NIST_V2_election_results_reporting.json",
        "cdf-test-method/catalog_documents/NIST_V2_election_results_reporting.json",
    ]
    .into_iter()
    .map(|path| {
        let schema: Value = serde_json::from_slice(&std::fs::read(nist.join(path)).unwrap()).unwrap();
        (path, jsonschema::options().should_validate_formats(true).build(&schema).unwrap())
    })
    .collect()
}

/// Every schema error of a JSON document, naming the schema and the place.
pub fn json_schema_errors(validators: &[(&'static str, jsonschema::Validator)], json: &[u8]) -> Vec<String> {
    let value: Value = serde_json::from_slice(json).unwrap();
    validators
        .iter()
        .flat_map(|(path, validator)| {
            validator.iter_errors(&value).map(move |error| format!("{path}: {error} at {}", error.instance_path()))
        })
        .collect()
}
