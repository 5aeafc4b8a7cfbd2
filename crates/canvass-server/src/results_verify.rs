//! Checking published results from the outside, and writing them out for any web server.
//!
//! [`verify_site`] walks a published site (a directory written by [`write_site`], or a node's
//! `/results/` through the CLI's HTTP source): the node key (`node_key.txt`, or pinned), every
//! snapshot of every election in `index.json`, each manifest's signature, each file's size and
//! SHA-256, the pointer, and that each published total (summary, contest and county JSON, the
//! NIST files) equals the sum of its precinct counts (the counties' `results.csv`), and each
//! snapshot's `ledger.json` (see [`crate::results_ledger`]). Every failure is listed, naming the
//! file.

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
};

use canvass_core::{id::ElectionId, results::ElectionResults};
use canvass_crypto::PublicKey;
use canvass_store::Store;
use serde_json::Value;

use crate::{
    ServerError,
    results_ledger::{self, LEDGER},
    results_publish::{MANIFEST, Manifest, SIGNATURE, check_path, sha256_hex},
    results_routes::{archive_html, archive_json, encodings, landing_html, node_key_text, pointer_json},
};

/// Counts as published: total, then the four vote types in `VoteType::ALL` order.
type Counts = [u64; 5];

const VOTE_FIELDS: [&str; 5] = ["total", "election_day", "early", "absentee_by_mail", "provisional"];

fn add(sum: &mut Counts, counts: &Counts) {
    for (mine, theirs) in sum.iter_mut().zip(counts) {
        *mine = mine.saturating_add(*theirs);
    }
}

/// The precinct rows of every county CSV a manifest lists.
#[derive(Default)]
struct PrecinctSums {
    /// (contest id, choice name) -> statewide sums.
    state: BTreeMap<(String, String), Counts>,
    /// (county id, contest id, choice name) -> county sums.
    county: BTreeMap<(String, String, String), Counts>,
    /// (precinct id, contest id, choice name) -> the precinct's counts.
    precinct: BTreeMap<(String, String, String), Counts>,
    /// Per county CSV path: (precinct name, contest name, choice name) -> counts, for the NIST files.
    by_name: HashMap<String, BTreeMap<(String, String, String), Counts>>,
}

fn read_sums(manifest: &Manifest, read: &dyn Fn(&str) -> Option<Vec<u8>>, problems: &mut Vec<String>) -> PrecinctSums {
    let mut sums = PrecinctSums::default();
    for file in
        manifest.files.iter().filter(|file| file.path.starts_with("counties/") && file.path.ends_with("/results.csv"))
    {
        let Some(body) = read(&file.path) else { continue };
        let mut reader = csv::Reader::from_reader(body.as_slice());
        let by_name = sums.by_name.entry(file.path.clone()).or_default();
        for (line, record) in reader.records().enumerate() {
            let line = line + 2;
            let Ok(record) = record else {
                problems.push(format!("{}: line {line} is not valid CSV", file.path));
                continue;
            };
            let field = |index: usize| record.get(index).unwrap_or("").to_owned();
            let mut counts = [0u64; 5];
            let mut valid = true;
            for (slot, index) in counts.iter_mut().zip(8..13) {
                match record.get(index).and_then(|value| value.parse().ok()) {
                    Some(number) => *slot = number,
                    None => valid = false,
                }
            }
            if !valid {
                problems.push(format!("{}: line {line} has a count that is not a whole number", file.path));
                continue;
            }
            let (county, precinct, contest, choice) = (field(0), field(2), field(4), field(6));
            add(sums.state.entry((contest.clone(), choice.clone())).or_default(), &counts);
            add(sums.county.entry((county, contest.clone(), choice.clone())).or_default(), &counts);
            sums.precinct.insert((precinct, contest, choice.clone()), counts);
            add(by_name.entry((field(3), field(5), choice)).or_default(), &counts);
        }
    }
    sums
}

fn parse_json(path: &str, read: &dyn Fn(&str) -> Option<Vec<u8>>, problems: &mut Vec<String>) -> Option<Value> {
    let body = read(path)?;
    match serde_json::from_slice(&body) {
        Ok(value) => Some(value),
        Err(_) => {
            problems.push(format!("{path}: not valid JSON"));
            None
        }
    }
}

fn votes_of(value: &Value) -> Option<Counts> {
    let mut counts = [0u64; 5];
    for (slot, field) in counts.iter_mut().zip(VOTE_FIELDS) {
        *slot = value.get(field)?.as_u64()?;
    }
    Some(counts)
}

/// Compares a contest object's choices (`{"id", "choices": [{"name", "votes"}]}`) with sums.
fn check_contest(
    path: &str,
    where_: &str,
    contest: &Value,
    expected: &dyn Fn(&str, &str) -> Counts,
    problems: &mut Vec<String>,
) {
    let id = contest.get("id").and_then(Value::as_str).unwrap_or("?");
    for choice in contest.get("choices").and_then(Value::as_array).map_or(&[][..], Vec::as_slice) {
        let name = choice.get("name").and_then(Value::as_str).unwrap_or("?");
        let published = choice.get("votes").and_then(votes_of);
        let sum = expected(id, name);
        match published {
            Some(published) if published == sum => {}
            Some(published) => {
                let differing: Vec<String> = VOTE_FIELDS
                    .iter()
                    .zip(published.iter().zip(sum.iter()))
                    .filter(|(_, (left, right))| left != right)
                    .map(|(field, (left, right))| format!("{field} {left} published, precincts sum to {right}"))
                    .collect();
                problems.push(format!("{path}: {where_}contest {id}, {name}: {}", differing.join(", ")));
            }
            None => problems.push(format!("{path}: {where_}contest {id}, {name}: the votes are missing")),
        }
    }
}

/// Every published total against the sum of the precinct counts in the counties' CSV files.
/// A county's NIST files are not read again when `unchanged` says they and the county's CSV
/// hold the bytes of a snapshot already checked.
/// With `results` (publication's check), the CSV files' precinct counts are also compared with
/// the accepted results themselves, from the same reading of the files.
pub fn check_totals(
    manifest: &Manifest,
    read: &dyn Fn(&str) -> Option<Vec<u8>>,
    unchanged: &dyn Fn(&str) -> bool,
    results: Option<&ElectionResults>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let sums = read_sums(manifest, read, &mut problems);
    if let Some(results) = results {
        problems.extend(check_against_results(results, &sums));
    }
    let state = |contest: &str, choice: &str| {
        sums.state.get(&(contest.to_owned(), choice.to_owned())).copied().unwrap_or_default()
    };
    if let Some(summary) = parse_json("summary.json", read, &mut problems) {
        for contest in summary.get("contests").and_then(Value::as_array).map_or(&[][..], Vec::as_slice) {
            check_contest("summary.json", "", contest, &state, &mut problems);
        }
    } else {
        problems.push("summary.json: missing".into());
    }
    for file in &manifest.files {
        let path = file.path.as_str();
        if path.starts_with("contests/") && path.ends_with(".json") {
            let Some(contest) = parse_json(path, read, &mut problems) else { continue };
            check_contest(path, "", &contest, &state, &mut problems);
            for county in contest.get("counties").and_then(Value::as_array).map_or(&[][..], Vec::as_slice) {
                let county_id = county.pointer("/county/id").and_then(Value::as_str).unwrap_or("?").to_owned();
                let expected = |contest: &str, choice: &str| {
                    sums.county
                        .get(&(county_id.clone(), contest.to_owned(), choice.to_owned()))
                        .copied()
                        .unwrap_or_default()
                };
                check_contest(path, &format!("county {county_id}, "), county, &expected, &mut problems);
            }
        } else if path.starts_with("counties/") && path.ends_with(".json") && !path.contains("/results") {
            let Some(county) = parse_json(path, read, &mut problems) else { continue };
            check_county(path, &county, &sums, &mut problems);
        } else if path.starts_with("counties/") && (path.ends_with("/results.xml") || path.ends_with("/results.json")) {
            let csv_path = format!("{}/results.csv", path.rsplit_once('/').map_or("", |(directory, _)| directory));
            if unchanged(path) && unchanged(&csv_path) {
                continue;
            }
            let expected = sums.by_name.get(&csv_path).cloned().unwrap_or_default();
            check_nist(path, read, &expected, &mut problems);
        }
    }
    problems
}

fn check_county(path: &str, county: &Value, sums: &PrecinctSums, problems: &mut Vec<String>) {
    let county_id = county.get("id").and_then(Value::as_str).unwrap_or("?").to_owned();
    let expected = |contest: &str, choice: &str| {
        sums.county.get(&(county_id.clone(), contest.to_owned(), choice.to_owned())).copied().unwrap_or_default()
    };
    for contest in county.get("contests").and_then(Value::as_array).map_or(&[][..], Vec::as_slice) {
        check_contest(path, "", contest, &expected, problems);
    }
    // Each precinct's counts name choices by position; the county's contest list names them.
    let names: HashMap<&str, Vec<&str>> = county
        .get("contests")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .filter_map(|contest| {
            let choices =
                contest.get("choices")?.as_array()?.iter().filter_map(|choice| choice.get("name")?.as_str()).collect();
            Some((contest.get("id")?.as_str()?, choices))
        })
        .collect();
    for precinct in county.get("precinct_results").and_then(Value::as_array).map_or(&[][..], Vec::as_slice) {
        let precinct_id = precinct.get("id").and_then(Value::as_str).unwrap_or("?");
        for contest in precinct.get("contests").and_then(Value::as_array).map_or(&[][..], Vec::as_slice) {
            let contest_id = contest.get("id").and_then(Value::as_str).unwrap_or("?");
            let choices = contest.get("choices").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
            for (index, votes) in choices.iter().enumerate() {
                let name = names.get(contest_id).and_then(|names| names.get(index)).copied().unwrap_or("?");
                let key = (precinct_id.to_owned(), contest_id.to_owned(), name.to_owned());
                if votes_of(votes) != sums.precinct.get(&key).copied() {
                    problems.push(format!(
                        "{path}: precinct {precinct_id}, contest {contest_id}, {name}: differs from results.csv"
                    ));
                }
            }
        }
    }
}

fn check_nist(
    path: &str,
    read: &dyn Fn(&str) -> Option<Vec<u8>>,
    expected: &BTreeMap<(String, String, String), Counts>,
    problems: &mut Vec<String>,
) {
    let Some(body) = read(path) else { return };
    let report = if path.ends_with(".xml") {
        canvass_formats::nist_results::read_xml(body.as_slice())
    } else {
        canvass_formats::nist_results::read_json(body.as_slice())
    };
    let report = match report {
        Ok(report) => report,
        Err(error) => {
            problems.push(format!("{path}: not a readable NIST 1500-100 report: {error}"));
            return;
        }
    };
    let reported = report.reported();
    if let Some(problem) = reported.precincts.problems.first() {
        problems.push(format!("{path}: {} ({} problems)", problem.message, reported.precincts.problems.len()));
        return;
    }
    let mut found: BTreeMap<(String, String, String), Counts> = BTreeMap::new();
    for count in &reported.precincts.counts {
        let mut counts = [count.total, 0, 0, 0, 0];
        for (kind, number) in &count.parts {
            if let Some(index) = canvass_core::results::VoteType::ALL.iter().position(|each| each == kind) {
                counts[index + 1] = counts[index + 1].saturating_add(*number);
            }
        }
        add(found.entry((count.precinct.clone(), count.contest.clone(), count.choice.clone())).or_default(), &counts);
    }
    // A precinct that reported zero everywhere has rows in the CSV; compare what either holds.
    for (key, counts) in expected {
        if found.get(key).copied().unwrap_or_default() != *counts {
            problems
                .push(format!("{path}: precinct {}, contest {}, {}: differs from results.csv", key.0, key.1, key.2));
        }
    }
    for key in found.keys().filter(|key| !expected.contains_key(*key)) {
        problems.push(format!("{path}: precinct {}, contest {}, {}: not in results.csv", key.0, key.1, key.2));
    }
}

/// The counties' CSV files against the accepted results themselves: what publication checks
/// before a snapshot is kept, so the precinct counts every total is checked against are right.
fn check_against_results(results: &ElectionResults, sums: &PrecinctSums) -> Vec<String> {
    let mut problems = Vec::new();
    let mut expected: BTreeMap<(String, String, String), Counts> = BTreeMap::new();
    for precinct_return in results.returns.values() {
        for contest_return in &precinct_return.contests {
            let Some(contest) = results.definition.contest(&contest_return.contest) else { continue };
            for (choice, votes) in contest.choices.iter().zip(&contest_return.choices) {
                let mut counts = [votes.total, 0, 0, 0, 0];
                for (index, kind) in canvass_core::results::VoteType::ALL.into_iter().enumerate() {
                    counts[index + 1] = votes.of(kind);
                }
                let key = (
                    precinct_return.precinct.as_str().to_owned(),
                    contest.id.as_str().to_owned(),
                    choice.name.as_str().to_owned(),
                );
                expected.insert(key, counts);
            }
        }
    }
    if expected != sums.precinct {
        problems.push("the counties' results.csv files do not hold the accepted precinct counts".into());
    }
    problems
}

// ---------------------------------------------------------------------------------------------
// Walking a published site

/// Where a published site is read from: a directory, or a node's `/results/` over HTTP (the
/// CLI's source). `path` is relative to the site's root.
pub trait SiteSource {
    /// The file's bytes, `None` when it does not exist; `Err` names why it could not be read.
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, String>;
    /// How failures name the site.
    fn describe(&self) -> String;
}

/// A site written by `canvass results publish --to DIR`.
#[derive(Debug, Clone)]
pub struct DirSource(pub PathBuf);

impl SiteSource for DirSource {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        // Paths come from the site being checked: only plain relative names are read.
        if path.split('/').any(|segment| segment.is_empty() || segment == "." || segment == "..") {
            return Err(format!("{path}: not a plain relative path"));
        }
        match std::fs::read(self.0.join(path)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(format!("{path}: {error}")),
        }
    }

    fn describe(&self) -> String {
        self.0.display().to_string()
    }
}

/// What [`verify_site`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub elections: usize,
    pub snapshots: usize,
    pub files: usize,
    /// Every failure, naming its file; empty when everything holds.
    pub failures: Vec<String>,
}

/// Checks everything a site publishes (see the module's documentation). `pinned` is the node
/// key the caller trusts; without it the site's own `node_key.txt` is used.
pub fn verify_site(source: &dyn SiteSource, pinned: Option<&PublicKey>) -> VerifyReport {
    let mut report = VerifyReport::default();
    let failures = &mut report.failures;
    let read = |path: &str, failures: &mut Vec<String>| match source.read(path) {
        Ok(body) => body,
        Err(error) => {
            failures.push(error);
            None
        }
    };
    let site_key = read("node_key.txt", failures)
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| PublicKey::from_hex(text.trim()));
    let key = match (pinned, site_key) {
        (Some(pinned), Some(site)) if pinned != &site => {
            failures.push("node_key.txt: the site names another key than the one pinned with --key".into());
            *pinned
        }
        (Some(pinned), _) => *pinned,
        (None, Some(site)) => site,
        (None, None) => {
            failures.push("node_key.txt: missing or not a hex Ed25519 key, and no --key given".into());
            return report;
        }
    };
    let Some(index) = read("index.json", failures).and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
    else {
        report.failures.push(format!("index.json: missing or not JSON at {}", source.describe()));
        return report;
    };
    for election in index.get("elections").and_then(Value::as_array).map_or(&[][..], Vec::as_slice) {
        let Some(id) =
            election.get("id").and_then(Value::as_str).filter(|id| ElectionId::parse(id).is_ok() && !id.contains('/'))
        else {
            report.failures.push("index.json: an election without a valid id".into());
            continue;
        };
        let latest = election.get("sequence").and_then(Value::as_u64).unwrap_or(0);
        report.elections += 1;
        let mut latest_manifest_hash = None;
        for sequence in 1..=latest {
            let prefix = format!("{id}/s/{sequence}");
            let hash = verify_snapshot(source, &key, id, sequence, &prefix, &mut report);
            if sequence == latest {
                latest_manifest_hash = hash;
            }
        }
        let pointer_path = format!("{id}/current.json");
        match read(&pointer_path, &mut report.failures).and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok()) {
            Some(pointer) => {
                if pointer.get("sequence").and_then(Value::as_u64) != Some(latest) {
                    report.failures.push(format!("{pointer_path}: does not name the latest snapshot {latest}"));
                }
                if latest_manifest_hash.is_some()
                    && pointer.get("manifest_sha256").and_then(Value::as_str) != latest_manifest_hash.as_deref()
                {
                    report.failures.push(format!("{pointer_path}: its manifest_sha256 is not the latest manifest's"));
                }
            }
            None => report.failures.push(format!("{pointer_path}: missing or not JSON")),
        }
    }
    report
}

/// One snapshot; returns its manifest's hash when the manifest could be read.
fn verify_snapshot(
    source: &dyn SiteSource,
    key: &PublicKey,
    election: &str,
    sequence: u64,
    prefix: &str,
    report: &mut VerifyReport,
) -> Option<String> {
    report.snapshots += 1;
    let fetch = |path: &str| source.read(&format!("{prefix}/{path}"));
    let manifest_path = format!("{prefix}/{MANIFEST}");
    let manifest_bytes = match fetch(MANIFEST) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            report.failures.push(format!("{manifest_path}: missing"));
            return None;
        }
        Err(error) => {
            report.failures.push(error);
            return None;
        }
    };
    let signature = fetch(SIGNATURE)
        .ok()
        .flatten()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| from_hex(text.trim()));
    match signature {
        Some(signature) if key.verify(&manifest_bytes, &signature) => {}
        Some(_) => report.failures.push(format!("{prefix}/{SIGNATURE}: the signature does not verify: {manifest_path} was changed or not signed by this node")),
        None => report.failures.push(format!("{prefix}/{SIGNATURE}: missing or not hex")),
    }
    check_ledger(source, key, election, sequence, prefix, &sha256_hex(&manifest_bytes), report);
    let Ok(manifest) = serde_json::from_slice::<Manifest>(&manifest_bytes) else {
        report.failures.push(format!("{manifest_path}: not a manifest"));
        return Some(sha256_hex(&manifest_bytes));
    };
    if manifest.election.id != election || manifest.sequence != sequence {
        report
            .failures
            .push(format!("{manifest_path}: names election {} snapshot {}", manifest.election.id, manifest.sequence));
    }
    let mut bodies: HashMap<String, Vec<u8>> = HashMap::new();
    for file in &manifest.files {
        report.files += 1;
        let path = format!("{prefix}/{}", file.path);
        if check_path(&file.path).is_err() {
            report.failures.push(format!("{manifest_path}: lists an unsafe path {:?}", file.path));
            continue;
        }
        match fetch(&file.path) {
            Ok(Some(body)) => {
                if body.len() as u64 != file.size || sha256_hex(&body) != file.sha256 {
                    report.failures.push(format!("{path}: its SHA-256 or size differs from the manifest's"));
                }
                bodies.insert(file.path.clone(), body);
            }
            Ok(None) => report.failures.push(format!("{path}: listed in the manifest but missing")),
            Err(error) => report.failures.push(error),
        }
    }
    let read = |path: &str| bodies.get(path).cloned();
    report.failures.extend(
        check_totals(&manifest, &read, &|_| false, None).into_iter().map(|problem| format!("{prefix}/{problem}")),
    );
    Some(sha256_hex(&manifest_bytes))
}

/// The snapshot's `ledger.json`: its publication recorded in the signed audit ledger.
fn check_ledger(
    source: &dyn SiteSource,
    key: &PublicKey,
    election: &str,
    sequence: u64,
    prefix: &str,
    manifest_sha256: &str,
    report: &mut VerifyReport,
) {
    let path = format!("{prefix}/{LEDGER}");
    match source.read(&path) {
        Ok(Some(bytes)) => {
            if let Err(rule) = results_ledger::check_proof(&bytes, key, election, sequence, manifest_sha256) {
                report.failures.push(format!("{path}: {rule}"));
            }
        }
        Ok(None) => report.failures.push(format!("{path}: missing: the snapshot's ledger entry is not proven")),
        Err(error) => report.failures.push(error),
    }
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|start| text.get(start..start + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect()
}

/// Checks a directory written by `canvass results publish --to DIR`.
pub fn verify_dir(dir: &Path, pinned: Option<&PublicKey>) -> VerifyReport {
    verify_site(&DirSource(dir.to_owned()), pinned)
}

// ---------------------------------------------------------------------------------------------
// Writing a site

/// What [`write_site`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WrittenSite {
    pub snapshots: usize,
    pub files: usize,
    /// Snapshots written without `ledger.json`: their ledger entry is not integrated into a
    /// signed checkpoint yet (the site fails `verify` until it is written again).
    pub without_ledger_proof: usize,
}

/// Writes every stored snapshot of the election under `dir` in the published layout (see
/// `site_file`), with the pointer, the election's page, the archive of every election's latest
/// snapshot, `index.json` and `node_key.txt`; each file also as `.gz` and `.br`, the bodies
/// compressed at publication, for servers that send them (nginx's `gzip_static`). Reads only
/// the stored snapshots.
pub async fn write_site(
    store: &dyn Store,
    election: &ElectionId,
    key: &PublicKey,
    dir: &Path,
) -> Result<WrittenSite, ServerError> {
    crate::results_publish::check_election_id(election)?;
    let headers = store.results_snapshots(election).await?;
    let Some(current) = headers.last() else {
        return Err(ServerError::NotFound(format!("election {} has no published results", election.as_str())));
    };
    let io =
        |path: &Path, error: std::io::Error| ServerError::Invalid(format!("cannot write {}: {error}", path.display()));
    let write = |path: PathBuf, bytes: &[u8]| -> Result<(), ServerError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|error| io(parent, error))?;
        }
        std::fs::write(&path, bytes).map_err(|error| io(&path, error))
    };
    let write_encoded = |path: PathBuf, body: &[u8]| -> Result<(), ServerError> {
        let gzip = crate::results_publish::gzip(body)?;
        let brotli = crate::results_publish::brotli(body)?;
        let stored = canvass_store::StoredBody { sha256: String::new(), identity: body.to_vec(), gzip, brotli };
        for (suffix, bytes) in encodings(&stored) {
            write(PathBuf::from(format!("{}{suffix}", path.display())), bytes)?;
        }
        Ok(())
    };
    let election_dir = dir.join(election.as_str());
    let mut written = WrittenSite::default();
    for header in &headers {
        let Some(snapshot) = store.results_snapshot(election, header.sequence).await? else { continue };
        let snapshot_dir = election_dir.join("s").join(header.sequence.to_string());
        write_encoded(snapshot_dir.join(MANIFEST), &snapshot.manifest)?;
        match results_ledger::snapshot_proof(store, election.as_str(), header.sequence, &header.manifest_sha256).await?
        {
            Some(proof) => write_encoded(snapshot_dir.join(LEDGER), &results_ledger::to_json(&proof)?)?,
            None => written.without_ledger_proof += 1,
        }
        write(
            snapshot_dir.join(SIGNATURE),
            format!("{}\n", crate::results_publish::hex(&snapshot.signature)).as_bytes(),
        )?;
        for file in &snapshot.files {
            check_path(&file.path)?;
            let body = store
                .results_body(&file.sha256)
                .await?
                .ok_or_else(|| ServerError::Internal(format!("snapshot body {} is missing", file.sha256)))?;
            for (suffix, bytes) in encodings(&body) {
                write(snapshot_dir.join(format!("{}{suffix}", file.path)), bytes)?;
            }
            written.files += 1;
        }
        written.snapshots += 1;
    }
    write_encoded(election_dir.join("current.json"), &pointer_json(current))?;
    write_encoded(election_dir.join("index.html"), landing_html(current).into_string().as_bytes())?;
    let latest = store.latest_results_snapshots().await?;
    write_encoded(dir.join("index.html"), archive_html(&latest).into_string().as_bytes())?;
    write_encoded(dir.join("index.json"), &archive_json(&latest))?;
    write(dir.join("node_key.txt"), node_key_text(key).as_bytes())?;
    Ok(written)
}
