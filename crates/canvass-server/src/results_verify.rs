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
    collections::HashMap,
    path::{Path, PathBuf},
};

use canvass_core::{id::ElectionId, results::ElectionResults};
use canvass_crypto::PublicKey;
use canvass_store::Store;
use serde_json::Value;

use crate::{
    ServerError,
    results_ledger::{self, LEDGER},
    results_publish::{MANIFEST, Manifest, ManifestFile, SIGNATURE, check_path, sha256_hex},
    results_routes::{archive_html, archive_json, encodings, landing_html, node_key_text, pointer_json},
};

/// A snapshot's file by its path, borrowed from wherever the checks found it.
pub type Reader<'a> = dyn Fn(&str) -> Option<&'a [u8]> + 'a;

/// Counts as published: total, then the four vote types in `VoteType::ALL` order.
type Counts = [u64; 5];

const VOTE_FIELDS: [&str; 5] = ["total", "election_day", "early", "absentee_by_mail", "provisional"];

fn add(sum: &mut Counts, counts: &Counts) {
    for (mine, theirs) in sum.iter_mut().zip(counts) {
        *mine = mine.saturating_add(*theirs);
    }
}

/// Every id and name the counties' CSV files hold, each kept once and known by its number:
/// the sums are keyed by numbers, so the hundreds of thousands of precinct rows of a state-size
/// election are summed and compared without a string allocated per row.
#[derive(Default)]
struct Names {
    numbers: HashMap<String, u32>,
    texts: Vec<String>,
}

impl Names {
    fn number(&mut self, text: &str) -> u32 {
        if let Some(&number) = self.numbers.get(text) {
            return number;
        }
        let number = u32::try_from(self.texts.len()).unwrap_or(u32::MAX);
        self.numbers.insert(text.to_owned(), number);
        self.texts.push(text.to_owned());
        number
    }

    fn text(&self, number: u32) -> &str {
        usize::try_from(number).ok().and_then(|index| self.texts.get(index)).map_or("?", String::as_str)
    }

    /// The number of a name the files hold; `None` for one they never name.
    fn get(&self, text: &str) -> Option<u32> {
        self.numbers.get(text).copied()
    }

    fn key(&self, first: &str, second: &str, third: &str) -> Option<(u32, u32, u32)> {
        Some((self.get(first)?, self.get(second)?, self.get(third)?))
    }
}

/// The precinct rows of every county CSV a manifest lists, keyed by [`Names`] numbers.
#[derive(Default)]
struct PrecinctSums {
    names: Names,
    /// (contest id, choice name) -> statewide sums.
    state: HashMap<(u32, u32), Counts>,
    /// (county id, contest id, choice name) -> county sums.
    county: HashMap<(u32, u32, u32), Counts>,
    /// (precinct id, contest id, choice name) -> the precinct's counts.
    precinct: HashMap<(u32, u32, u32), Counts>,
    /// Per county CSV path: (precinct name, contest name, choice name) -> counts, for the NIST files.
    by_name: HashMap<String, HashMap<(u32, u32, u32), Counts>>,
    /// The memo's rows for the next check (its names are `names`, handed back at the end).
    kept: Option<KeptRows>,
}

impl PrecinctSums {
    fn state(&self, contest: &str, choice: &str) -> Counts {
        let key = self.names.get(contest).zip(self.names.get(choice));
        key.and_then(|key| self.state.get(&key)).copied().unwrap_or_default()
    }

    fn county(&self, county: &str, contest: &str, choice: &str) -> Counts {
        self.names.key(county, contest, choice).and_then(|key| self.county.get(&key)).copied().unwrap_or_default()
    }

    fn precinct(&self, precinct: &str, contest: &str, choice: &str) -> Option<Counts> {
        self.names.key(precinct, contest, choice).and_then(|key| self.precinct.get(&key)).copied()
    }
}

/// One row of a county CSV, its names numbered.
#[derive(Debug, Clone, Copy)]
struct CsvRow {
    county: u32,
    precinct: u32,
    precinct_name: u32,
    contest: u32,
    contest_name: u32,
    choice: u32,
    counts: Counts,
}

/// What publication's checks keep between snapshots: the rows of each county CSV read before,
/// by the file's SHA-256, with the numbering of their names, and the contest and county JSON
/// files parsed. An upload changes one county's CSV and JSON and the contests it votes on; the
/// other files are the same bytes, and reading them again was most of the checks' time. Only
/// files whose bytes were seen to hash to their key are kept, and only those of the last check.
#[derive(Default)]
pub struct TotalsMemo {
    kept: std::sync::Mutex<KeptRows>,
}

impl std::fmt::Debug for TotalsMemo {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("TotalsMemo").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct KeptRows {
    names: Names,
    rows: HashMap<String, std::sync::Arc<Vec<CsvRow>>>,
    /// The contest and county JSON files read, parsed, by hash.
    json: HashMap<String, std::sync::Arc<Value>>,
}

/// The JSON files of one check: those parsed for an earlier one, and those parsed now (kept
/// for the next, when `keep`).
#[derive(Default)]
struct ParsedJson {
    earlier: HashMap<String, std::sync::Arc<Value>>,
    now: HashMap<String, std::sync::Arc<Value>>,
    keep: bool,
}

impl ParsedJson {
    fn parse(
        &mut self,
        file: &ManifestFile,
        read: &Reader<'_>,
        problems: &mut Vec<String>,
    ) -> Option<std::sync::Arc<Value>> {
        let value = match self.earlier.remove(&file.sha256) {
            Some(value) => value,
            None => {
                let body = read(&file.path)?;
                let value = std::sync::Arc::new(parse_body(&file.path, body, problems)?);
                // Kept only under the hash its bytes really have.
                if !self.keep || sha256_hex(body) != file.sha256 {
                    return Some(value);
                }
                value
            }
        };
        if self.keep {
            self.now.insert(file.sha256.clone(), value.clone());
        }
        Some(value)
    }
}

/// Past this many names the numbering starts again, so a node publishing many elections does
/// not keep every name it ever saw.
const MAX_KEPT_NAMES: usize = 1_000_000;

/// One CSV's valid rows, numbering new names in `names`, and whether every row was valid (a
/// file with a bad row is listed in `problems` and not kept).
fn read_rows(path: &str, body: &[u8], names: &mut Names, problems: &mut Vec<String>) -> (Vec<CsvRow>, bool) {
    let mut reader = csv::Reader::from_reader(body);
    let mut record = csv::StringRecord::new();
    let mut rows = Vec::new();
    let mut all_valid = true;
    let mut line = 1;
    loop {
        line += 1;
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(_) => {
                problems.push(format!("{path}: line {line} is not valid CSV"));
                all_valid = false;
                continue;
            }
        }
        let mut counts = [0u64; 5];
        let mut valid = true;
        for (slot, index) in counts.iter_mut().zip(8..13) {
            match record.get(index).and_then(|value| value.parse().ok()) {
                Some(number) => *slot = number,
                None => valid = false,
            }
        }
        if !valid {
            problems.push(format!("{path}: line {line} has a count that is not a whole number"));
            all_valid = false;
            continue;
        }
        let mut field = |index: usize| names.number(record.get(index).unwrap_or(""));
        rows.push(CsvRow {
            county: field(0),
            precinct: field(2),
            precinct_name: field(3),
            contest: field(4),
            contest_name: field(5),
            choice: field(6),
            counts,
        });
    }
    (rows, all_valid)
}

fn read_sums(
    manifest: &Manifest,
    read: &Reader<'_>,
    memo: Option<&TotalsMemo>,
    problems: &mut Vec<String>,
) -> PrecinctSums {
    let mut kept = memo.map(|memo| match memo.kept.lock() {
        Ok(mut kept) => std::mem::take(&mut *kept),
        Err(_) => KeptRows::default(),
    });
    if kept.as_ref().is_some_and(|kept| kept.names.texts.len() > MAX_KEPT_NAMES) {
        kept = Some(KeptRows::default());
    }
    let mut earlier = kept.as_mut().map(|kept| std::mem::take(&mut kept.rows)).unwrap_or_default();
    let names = kept.as_mut().map(|kept| std::mem::take(&mut kept.names)).unwrap_or_default();
    let mut sums = PrecinctSums { names, ..PrecinctSums::default() };
    let mut now_kept = HashMap::new();
    for file in
        manifest.files.iter().filter(|file| file.path.starts_with("counties/") && file.path.ends_with("/results.csv"))
    {
        // Rows kept from an earlier check, or read now and kept only under the hash their bytes
        // really have (a body that does not match its manifest entry is read, never kept).
        let (rows, keep) = match earlier.remove(&file.sha256) {
            Some(rows) => (rows, true),
            None => {
                let Some(body) = read(&file.path) else { continue };
                let (rows, all_valid) = read_rows(&file.path, body, &mut sums.names, problems);
                let keep = memo.is_some() && all_valid && sha256_hex(body) == file.sha256;
                (std::sync::Arc::new(rows), keep)
            }
        };
        let mut by_name = HashMap::new();
        for row in rows.iter() {
            add(sums.state.entry((row.contest, row.choice)).or_default(), &row.counts);
            add(sums.county.entry((row.county, row.contest, row.choice)).or_default(), &row.counts);
            sums.precinct.insert((row.precinct, row.contest, row.choice), row.counts);
            add(by_name.entry((row.precinct_name, row.contest_name, row.choice)).or_default(), &row.counts);
        }
        sums.by_name.insert(file.path.clone(), by_name);
        if keep {
            now_kept.insert(file.sha256.clone(), rows);
        }
    }
    sums.kept = kept.map(|kept| KeptRows { rows: now_kept, ..kept });
    sums
}

fn parse_json(path: &str, read: &Reader<'_>, problems: &mut Vec<String>) -> Option<Value> {
    parse_body(path, read(path)?, problems)
}

fn parse_body(path: &str, body: &[u8], problems: &mut Vec<String>) -> Option<Value> {
    match serde_json::from_slice(body) {
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
    read: &Reader<'_>,
    unchanged: &dyn Fn(&str) -> bool,
    results: Option<&ElectionResults>,
    memo: Option<&TotalsMemo>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut sums = read_sums(manifest, read, memo, &mut problems);
    if let Some(results) = results {
        problems.extend(check_against_results(results, &sums));
    }
    let mut parsed = ParsedJson {
        earlier: sums.kept.as_mut().map(|kept| std::mem::take(&mut kept.json)).unwrap_or_default(),
        now: HashMap::new(),
        keep: memo.is_some(),
    };
    let state = |contest: &str, choice: &str| sums.state(contest, choice);
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
            let Some(contest) = parsed.parse(file, read, &mut problems) else { continue };
            check_contest(path, "", &contest, &state, &mut problems);
            for county in contest.get("counties").and_then(Value::as_array).map_or(&[][..], Vec::as_slice) {
                let county_id = county.pointer("/county/id").and_then(Value::as_str).unwrap_or("?");
                let expected = |contest: &str, choice: &str| sums.county(county_id, contest, choice);
                check_contest(path, &format!("county {county_id}, "), county, &expected, &mut problems);
            }
        } else if path.starts_with("counties/") && path.ends_with(".json") && !path.contains("/results") {
            let Some(county) = parsed.parse(file, read, &mut problems) else { continue };
            check_county(path, &county, &sums, &mut problems);
        } else if path.starts_with("counties/") && (path.ends_with("/results.xml") || path.ends_with("/results.json")) {
            let csv_path = format!("{}/results.csv", path.rsplit_once('/').map_or("", |(directory, _)| directory));
            if unchanged(path) && unchanged(&csv_path) {
                continue;
            }
            let empty = HashMap::new();
            let expected = sums.by_name.get(&csv_path).unwrap_or(&empty);
            check_nist(path, read, expected, &sums.names, &mut problems);
        }
    }
    if let (Some(memo), Some(mut kept)) = (memo, sums.kept.take()) {
        kept.names = std::mem::take(&mut sums.names);
        kept.json = parsed.now;
        if let Ok(mut slot) = memo.kept.lock() {
            *slot = kept;
        }
    }
    problems
}

fn check_county(path: &str, county: &Value, sums: &PrecinctSums, problems: &mut Vec<String>) {
    let county_id = county.get("id").and_then(Value::as_str).unwrap_or("?");
    let expected = |contest: &str, choice: &str| sums.county(county_id, contest, choice);
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
                if votes_of(votes) != sums.precinct(precinct_id, contest_id, name) {
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
    read: &Reader<'_>,
    expected: &HashMap<(u32, u32, u32), Counts>,
    names: &Names,
    problems: &mut Vec<String>,
) {
    let Some(body) = read(path) else { return };
    let report = if path.ends_with(".xml") {
        canvass_formats::nist_results::read_xml(body)
    } else {
        canvass_formats::nist_results::read_json(body)
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
    let mut found: HashMap<(u32, u32, u32), Counts> = HashMap::new();
    // Rows naming something no CSV row names cannot be in results.csv.
    let mut unknown = std::collections::BTreeSet::new();
    for count in &reported.precincts.counts {
        let mut counts = [count.total, 0, 0, 0, 0];
        for (kind, number) in &count.parts {
            if let Some(index) = canvass_core::results::VoteType::ALL.iter().position(|each| each == kind) {
                counts[index + 1] = counts[index + 1].saturating_add(*number);
            }
        }
        match names.key(&count.precinct, &count.contest, &count.choice) {
            Some(key) => add(found.entry(key).or_default(), &counts),
            None => {
                unknown.insert((count.precinct.as_str(), count.contest.as_str(), count.choice.as_str()));
            }
        }
    }
    let named = |key: &(u32, u32, u32)| (names.text(key.0), names.text(key.1), names.text(key.2));
    // A precinct that reported zero everywhere has rows in the CSV; compare what either holds.
    let differing: std::collections::BTreeSet<_> = expected
        .iter()
        .filter(|(key, counts)| found.get(*key).copied().unwrap_or_default() != **counts)
        .map(|(key, _)| named(key))
        .collect();
    for (precinct, contest, choice) in differing {
        problems.push(format!("{path}: precinct {precinct}, contest {contest}, {choice}: differs from results.csv"));
    }
    let extra: std::collections::BTreeSet<_> =
        found.keys().filter(|key| !expected.contains_key(*key)).map(named).chain(unknown).collect();
    for (precinct, contest, choice) in extra {
        problems.push(format!("{path}: precinct {precinct}, contest {contest}, {choice}: not in results.csv"));
    }
}

/// The counties' CSV files against the accepted results themselves: what publication checks
/// before a snapshot is kept, so the precinct counts every total is checked against are right.
fn check_against_results(results: &ElectionResults, sums: &PrecinctSums) -> Vec<String> {
    let mut expected: HashMap<(u32, u32, u32), Counts> = HashMap::with_capacity(sums.precinct.len());
    for precinct_return in results.returns.values() {
        for contest_return in &precinct_return.contests {
            let Some(contest) = results.definition.contest(&contest_return.contest) else { continue };
            for (choice, votes) in contest.choices.iter().zip(&contest_return.choices) {
                let mut counts = [votes.total, 0, 0, 0, 0];
                for (index, kind) in canvass_core::results::VoteType::ALL.into_iter().enumerate() {
                    counts[index + 1] = votes.of(kind);
                }
                // A count the files never name cannot be in them.
                let Some(key) =
                    sums.names.key(precinct_return.precinct.as_str(), contest.id.as_str(), choice.name.as_str())
                else {
                    return vec![MISSING_COUNTS.into()];
                };
                expected.insert(key, counts);
            }
        }
    }
    if expected == sums.precinct { Vec::new() } else { vec![MISSING_COUNTS.into()] }
}

const MISSING_COUNTS: &str = "the counties' results.csv files do not hold the accepted precinct counts";

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
    let read = |path: &str| bodies.get(path).map(Vec::as_slice);
    report.failures.extend(
        check_totals(&manifest, &read, &|_| false, None, None).into_iter().map(|problem| format!("{prefix}/{problem}")),
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
