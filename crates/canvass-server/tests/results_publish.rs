//! Signed results snapshots (issue 7), published from a generated election through the real
//! code path and served by the real public router: caching headers, ETag and 304, encodings,
//! immutability of old snapshots, path traversal, the manifest's signature and ledger entry,
//! that a snapshot failing its checks never becomes current, the NIST export against NIST's
//! schemas and read back, and a written site that `verify_dir` passes and that catches an
//! edited number (hash) or an edited number with its hash fixed (signature).
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

#[path = "../../canvass-formats/tests/support/nist_schemas.rs"]
mod nist_schemas;

use std::{
    collections::BTreeMap,
    io::Read,
    path::{Path, PathBuf},
};

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use canvass_core::{
    results::{ElectionResults, Tally},
    results_sample::{SampleShape, sample_election},
};
use canvass_server::{
    public_app, results_ledger,
    results_publish::{self, PageRenderer},
    results_site::PageMemo,
    results_verify::{self, verify_dir},
    site_file::{HTML, SiteContext, SiteFile, slug},
};
use canvass_store::LedgerQuery;
use support::{TestNode, get, send, test_node};
use time::macros::date;

const NIST: &str = "../../../shared/data/nist";

fn results(seed: u64) -> ElectionResults {
    let sample = sample_election(SampleShape::SMALL, date!(2026 - 11 - 03), seed).unwrap();
    ElectionResults {
        definition: sample.definition,
        returns: sample
            .returns
            .into_iter()
            .map(|precinct_return| (precinct_return.precinct.clone(), precinct_return))
            .collect(),
        registered: sample.registered,
        changes: Vec::new(),
    }
}

/// A stand-in for the pages: one summary page naming the snapshot.
fn pages(_: &ElectionResults, tally: &Tally, context: &SiteContext, _: &PageMemo) -> Vec<SiteFile> {
    let body = format!(
        "<!doctype html><title>Results</title><p>Update {} with {} of {} precincts</p>",
        context.sequence, tally.state.precincts_reporting, tally.state.precincts
    );
    vec![SiteFile::new("index.html", HTML, body)]
}

/// The ledger's origin is fixed so another process (another key) can open the same store.
const CONFIG: &str = "[ledger]\norigin = \"results.test/log\"\n";

async fn node() -> TestNode {
    test_node(CONFIG, false).await
}

async fn publish(node: &TestNode, results: &ElectionResults, renderer: &PageRenderer) -> results_publish::SnapshotInfo {
    results_publish::publish(&node.node, &node.node.system_audit(), results, renderer).await.unwrap()
}

fn request(path: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::get(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::empty()).unwrap()
}

fn election_path(results: &ElectionResults) -> String {
    format!("/results/{}", results.definition.election.id.as_str())
}

#[tokio::test]
async fn snapshots_are_served_with_caching_etags_and_encodings() {
    let node = node().await;
    let results = results(1);
    let info = publish(&node, &results, &pages).await;
    assert_eq!(info.sequence, 1);
    let app = public_app(node.node.clone());
    let base = election_path(&results);

    let pointer = send(&app, get(&format!("{base}/current.json"))).await;
    assert_eq!(pointer.status, StatusCode::OK);
    assert_eq!(pointer.header(header::CACHE_CONTROL), Some("public, max-age=5"));
    assert_eq!(pointer.json()["sequence"], 1);
    assert_eq!(pointer.json()["manifest_sha256"], info.manifest_sha256);
    let landing = send(&app, get(&format!("{base}/"))).await;
    assert!(landing.body.contains("s/1/"), "{}", landing.body);
    let archive = send(&app, get("/results/")).await;
    assert!(archive.body.contains(results.definition.election.name.as_str()));

    let summary_path = format!("{base}/s/1/summary.json");
    let plain = send(&app, get(&summary_path)).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(plain.header(header::CACHE_CONTROL), Some("public, max-age=31536000, immutable"));
    assert_eq!(plain.header(header::CONTENT_TYPE), Some("application/json"));
    assert_eq!(plain.header(header::VARY), Some("Accept-Encoding"));
    assert_eq!(plain.header(header::CONTENT_ENCODING), None);
    let etag = plain.header(header::ETAG).unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", results_publish::sha256_hex(&plain.bytes)));
    assert_eq!(plain.json()["precincts_reporting"], 12);

    let not_modified = send(&app, request(&summary_path, &[("if-none-match", &etag)])).await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    assert!(not_modified.bytes.is_empty());
    let other = send(&app, request(&summary_path, &[("if-none-match", "\"0000\"")])).await;
    assert_eq!(other.status, StatusCode::OK);

    let brotli = send(&app, request(&summary_path, &[("accept-encoding", "gzip, deflate, br")])).await;
    assert_eq!(brotli.header(header::CONTENT_ENCODING), Some("br"));
    let mut decoded = Vec::new();
    brotli::Decompressor::new(brotli.bytes.as_slice(), 4096).read_to_end(&mut decoded).unwrap();
    assert_eq!(decoded, plain.bytes);
    let gzip = send(&app, request(&summary_path, &[("accept-encoding", "gzip;q=1.0, br;q=0")])).await;
    assert_eq!(gzip.header(header::CONTENT_ENCODING), Some("gzip"));
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(gzip.bytes.as_slice()).read_to_end(&mut decoded).unwrap();
    assert_eq!(decoded, plain.bytes);
    assert_ne!(gzip.header(header::ETAG), Some(etag.as_str()), "each encoding has its own strong ETag");
    let identity = send(&app, request(&summary_path, &[("accept-encoding", "identity")])).await;
    assert_eq!(identity.bytes, plain.bytes);

    let head =
        send(&app, Request::builder().method(Method::HEAD).uri(&summary_path).body(Body::empty()).unwrap()).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.bytes.is_empty());
    assert_eq!(head.header(header::CONTENT_LENGTH), Some(plain.bytes.len().to_string().as_str()));

    let page = send(&app, get(&format!("{base}/s/1/"))).await;
    assert_eq!(page.header(header::CONTENT_TYPE), Some(HTML));
    assert!(page.body.contains("Update 1"));
}

#[tokio::test]
async fn the_manifest_is_signed_and_the_publication_is_in_the_ledger() {
    let node = node().await;
    let results = results(2);
    let info = publish(&node, &results, &pages).await;
    let app = public_app(node.node.clone());
    let base = election_path(&results);
    let manifest = send(&app, get(&format!("{base}/s/1/manifest.json"))).await;
    let signature = send(&app, get(&format!("{base}/s/1/manifest.sig"))).await;
    let signature: Vec<u8> = (0..128)
        .step_by(2)
        .map(|start| u8::from_str_radix(&signature.body.trim()[start..start + 2], 16).unwrap())
        .collect();
    assert!(node.node.public_key().verify(&manifest.bytes, &signature));
    assert!(!node.node.public_key().verify(&[manifest.bytes.as_slice(), b" "].concat(), &signature));
    assert_eq!(results_publish::sha256_hex(&manifest.bytes), info.manifest_sha256);
    let listed = manifest.json()["files"].as_array().unwrap().len();
    assert_eq!(listed, info.files);
    // Every file the manifest lists is served with the hash it lists.
    for file in manifest.json()["files"].as_array().unwrap() {
        let served = send(&app, get(&format!("{base}/s/1/{}", file["path"].as_str().unwrap()))).await;
        assert_eq!(served.status, StatusCode::OK, "{}", file["path"]);
        assert_eq!(results_publish::sha256_hex(&served.bytes), file["sha256"].as_str().unwrap());
    }
    let key = send(&app, get("/results/node_key.txt")).await;
    assert_eq!(key.body.trim(), node.node.public_key().to_hex());

    let entries = node
        .node
        .store()
        .search_ledger(&LedgerQuery { action: Some("results.publish".into()), limit: 10, ..LedgerQuery::default() })
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    let entry = String::from_utf8(entries[0].body.clone()).unwrap();
    assert!(entry.contains(&format!("manifest:{}", info.manifest_sha256)), "{entry}");
    assert!(entry.contains("snapshot:1"), "{entry}");
}

#[tokio::test]
async fn publishing_again_makes_a_new_snapshot_and_old_urls_keep_their_bytes() {
    let node = node().await;
    let mut results = results(3);
    publish(&node, &results, &pages).await;
    let app = public_app(node.node.clone());
    let base = election_path(&results);
    let first = send(&app, get(&format!("{base}/s/1/summary.json"))).await;

    // One precinct's count changes (a correction): a new sequence, the old one unchanged.
    let precinct = results.returns.values_mut().next().unwrap();
    precinct.contests[0].choices[0].total += 5;
    precinct.contests[0].choices[0].by_type[0] += 5;
    let info = publish(&node, &results, &pages).await;
    assert_eq!(info.sequence, 2);
    assert!(info.new_bodies < info.files, "unchanged files share their stored bodies");
    let again = send(&app, get(&format!("{base}/s/1/summary.json"))).await;
    assert_eq!(again.bytes, first.bytes);
    assert_eq!(again.header(header::ETAG), first.header(header::ETAG));
    let second = send(&app, get(&format!("{base}/s/2/summary.json"))).await;
    assert_ne!(second.bytes, first.bytes);
    assert_eq!(send(&app, get(&format!("{base}/current.json"))).await.json()["sequence"], 2);

    // A fresh node process on the same store serves both from the store.
    let restarted = canvass_server::Node::start(
        node.node.shared_store(),
        canvass_crypto::NodeSigningKey::generate().unwrap(),
        canvass_core::config::NodeConfig::parse(CONFIG).unwrap(),
        false,
    )
    .await
    .unwrap();
    let app = public_app(restarted);
    assert_eq!(send(&app, get(&format!("{base}/s/1/summary.json"))).await.bytes, first.bytes);
    assert_eq!(send(&app, get(&format!("{base}/current.json"))).await.json()["sequence"], 2);
}

#[tokio::test]
async fn unknown_paths_and_traversal_get_the_error_page() {
    let node = node().await;
    let results = results(4);
    publish(&node, &results, &pages).await;
    let app = public_app(node.node.clone());
    let base = election_path(&results);
    for path in [
        format!("{base}/s/1/../../../../etc/passwd"),
        format!("{base}/s/1/%2e%2e/%2e%2e/current.json"),
        format!("{base}/s/1/contests/..%2Fsummary.json"),
        format!("{base}/s/1//summary.json"),
        format!("{base}/s/1/no-such-file.json"),
        format!("{base}/s/9/summary.json"),
        format!("{base}/s/one/summary.json"),
        "/results/zz-no-such-election/current.json".to_owned(),
        "/results/..%2F..%2Fetc/current.json".to_owned(),
    ] {
        let reply = send(&app, get(&path)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(reply.body.contains("<html"), "{path}: not the site's error page: {}", reply.body);
        assert!(!reply.body.contains("root:"), "{path}");
    }
}

#[tokio::test]
async fn a_snapshot_failing_its_checks_never_becomes_current() {
    let node = node().await;
    let results = results(5);
    publish(&node, &results, &pages).await;
    let app = public_app(node.node.clone());
    let base = election_path(&results);

    // A renderer whose page would overwrite a data file, and one that escapes the snapshot.
    let clashing =
        |_: &ElectionResults, _: &Tally, _: &SiteContext, _: &PageMemo| vec![SiteFile::new("summary.json", HTML, "x")];
    let escaping =
        |_: &ElectionResults, _: &Tally, _: &SiteContext, _: &PageMemo| vec![SiteFile::new("../index.html", HTML, "x")];
    for renderer in [&clashing as &PageRenderer, &escaping] {
        let refused = results_publish::publish(&node.node, &node.node.system_audit(), &results, renderer).await;
        assert!(refused.is_err());
    }
    // A built snapshot whose summary was altered fails the totals check, whether or not its
    // manifest entry is fixed (then the signature fails as well).
    let key = node.node.public_key();
    let signer = canvass_crypto::NodeSigningKey::generate().unwrap();
    let published_at = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let memo = results_publish::RenderMemo::default();
    let mut built =
        results_publish::build(&results, &pages, &memo, 2, published_at, |bytes| signer.sign(bytes)).unwrap();
    let original = built.files["summary.json"].to_vec();
    let altered = bump_first_total(&original);
    built.files.insert("summary.json".into(), altered.into());
    let error = results_publish::check(&results, &built, &key, &|_| false, None).unwrap_err().to_string();
    assert!(error.contains("summary.json"), "{error}");
    assert!(error.contains("signature"), "{error}");

    assert_eq!(node.node.store().results_snapshots(&results.definition.election.id).await.unwrap().len(), 1);
    assert_eq!(send(&app, get(&format!("{base}/current.json"))).await.json()["sequence"], 1);
    assert_eq!(send(&app, get(&format!("{base}/s/2/summary.json"))).await.status, StatusCode::NOT_FOUND);
}

/// The summary with its first contest's first choice's total one higher.
fn bump_first_total(summary: &[u8]) -> Vec<u8> {
    let mut value: serde_json::Value = serde_json::from_slice(summary).unwrap();
    let total = &mut value["contests"][0]["choices"][0]["votes"]["total"];
    *total = (total.as_u64().unwrap() + 1).into();
    serde_json::to_vec(&value).unwrap()
}

fn temporary(name: &str) -> PathBuf {
    let directory =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("results_publish").join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).unwrap();
    directory
}

#[tokio::test]
async fn the_nist_export_is_valid_and_reads_back_to_the_same_numbers() {
    let node = node().await;
    let results = results(6);
    publish(&node, &results, &pages).await;
    let dir = temporary("nist");
    results_verify::write_site(node.node.store(), &results.definition.election.id, &node.node.public_key(), &dir)
        .await
        .unwrap();
    let nist = Path::new(NIST);
    let validators = nist_schemas::json_validators(nist);
    let tally = canvass_core::results::tally(&results);
    for county in &results.definition.counties {
        let folder =
            dir.join(results.definition.election.id.as_str()).join("s/1/counties").join(slug(county.id.as_str()));
        let xml_path = folder.join("results.xml");
        assert_eq!(nist_schemas::xmllint_errors(nist, &xml_path), None);
        let json = std::fs::read(folder.join("results.json")).unwrap();
        assert_eq!(nist_schemas::json_schema_errors(&validators, &json), Vec::<String>::new());

        // Read back: the county's sums per contest and choice are the tally's.
        for report in [
            canvass_formats::nist_results::read_xml(std::fs::read(&xml_path).unwrap().as_slice()).unwrap(),
            canvass_formats::nist_results::read_json(json.as_slice()).unwrap(),
        ] {
            let reported = report.reported();
            assert!(reported.precincts.problems.is_empty(), "{:?}", reported.precincts.problems);
            let mut sums: BTreeMap<(String, String), u64> = BTreeMap::new();
            for count in &reported.precincts.counts {
                *sums.entry((count.contest.clone(), count.choice.clone())).or_default() += count.total;
            }
            let mut expected = BTreeMap::new();
            for (contest_id, contest_tally) in &tally.counties[&county.id].contests {
                let contest = results.definition.contest(contest_id).unwrap();
                for (choice, votes) in contest.choices.iter().zip(&contest_tally.choices) {
                    expected.insert((contest.name.as_str().to_owned(), choice.name.as_str().to_owned()), votes.total);
                }
            }
            assert_eq!(sums, expected, "county {}", county.id.as_str());
        }
    }
}

#[tokio::test]
async fn a_written_site_verifies_and_an_edited_number_is_caught() {
    let node = node().await;
    let mut results = results(7);
    publish(&node, &results, &pages).await;
    results.returns.values_mut().next().unwrap().contests[0].choices[0].total += 0;
    publish(&node, &results, &pages).await;
    node.node.ledger().integrate_now().await.unwrap();
    let dir = temporary("verify");
    let key = node.node.public_key();
    let written =
        results_verify::write_site(node.node.store(), &results.definition.election.id, &key, &dir).await.unwrap();
    assert_eq!(written.snapshots, 2);
    let report = verify_dir(&dir, Some(&key));
    assert_eq!(report.failures, Vec::<String>::new());
    assert_eq!((report.elections, report.snapshots), (1, 2));
    assert!(dir.join(results.definition.election.id.as_str()).join("s/2/summary.json.gz").is_file());
    assert!(dir.join(results.definition.election.id.as_str()).join("s/2/summary.json.br").is_file());

    // Another key pinned: every signature fails.
    let stranger = canvass_crypto::NodeSigningKey::generate().unwrap().public_key();
    assert!(verify_dir(&dir, Some(&stranger)).failures.iter().any(|failure| failure.contains("manifest.sig")));

    // A number edited in a county's JSON, the manifest left alone: the hash fails, and the
    // total no longer equals its precincts' sum.
    let snapshot = dir.join(results.definition.election.id.as_str()).join("s/2");
    let county = slug(results.definition.counties[0].id.as_str());
    let county_path = snapshot.join(format!("counties/{county}.json"));
    let original = std::fs::read(&county_path).unwrap();
    let mut value: serde_json::Value = serde_json::from_slice(&original).unwrap();
    let total = &mut value["contests"][0]["choices"][0]["votes"]["total"];
    *total = (total.as_u64().unwrap() + 100).into();
    let edited = serde_json::to_vec(&value).unwrap();
    std::fs::write(&county_path, &edited).unwrap();
    let failures = verify_dir(&dir, Some(&key)).failures;
    let named = format!("counties/{county}.json");
    assert!(failures.iter().any(|failure| failure.contains(&named) && failure.contains("SHA-256")), "{failures:#?}");
    assert!(
        failures.iter().any(|failure| failure.contains(&named) && failure.contains("precincts sum to")),
        "{failures:#?}"
    );
    assert!(!failures.iter().any(|failure| failure.contains("signature")), "{failures:#?}");

    // The same edit with the manifest's hash and size fixed: now the signature fails.
    let manifest_path = snapshot.join("manifest.json");
    let mut manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    for file in manifest["files"].as_array_mut().unwrap() {
        if file["path"] == format!("counties/{county}.json") {
            file["sha256"] = results_publish::sha256_hex(&edited).into();
            file["size"] = edited.len().into();
        }
    }
    std::fs::write(&manifest_path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    let failures = verify_dir(&dir, Some(&key)).failures;
    assert!(
        failures.iter().any(|failure| failure.contains("s/2/manifest.sig") && failure.contains("does not verify")),
        "{failures:#?}"
    );
    assert!(!failures.iter().any(|failure| failure.contains("SHA-256")), "{failures:#?}");
    assert!(
        failures.iter().any(|failure| failure.contains(&named) && failure.contains("precincts sum to")),
        "{failures:#?}"
    );
    // And the ledger recorded another manifest.
    assert!(
        failures.iter().any(|failure| failure.contains("s/2/ledger.json: entry:") && failure.contains("hash differs")),
        "{failures:#?}"
    );
}

#[tokio::test]
async fn each_snapshot_proves_its_ledger_entry_and_a_wrong_or_missing_proof_is_caught() {
    let node = node().await;
    let results = results(8);
    let first = publish(&node, &results, &pages).await;
    // The same results again: another sequence, so another manifest.
    let second = publish(&node, &results, &pages).await;
    assert_ne!(first.manifest_sha256, second.manifest_sha256);
    node.node.ledger().integrate_now().await.unwrap();
    let key = node.node.public_key();
    let id = results.definition.election.id.as_str();

    // Served: made on request, and it proves the entry against the node key.
    let app = public_app(node.node.clone());
    let served = send(&app, get(&format!("/results/{id}/s/1/ledger.json"))).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.header(header::CONTENT_TYPE), Some("application/json"));
    assert_eq!(results_ledger::check_proof(&served.bytes, &key, id, 1, &first.manifest_sha256), Ok(()));
    let wrong = results_ledger::check_proof(&served.bytes, &key, id, 2, &second.manifest_sha256).unwrap_err();
    assert!(wrong.contains("entry: not an allowed results.publish"), "{wrong}");
    assert_eq!(send(&app, get(&format!("/results/{id}/s/3/ledger.json"))).await.status, StatusCode::NOT_FOUND);
    assert_eq!(send(&app, get(&format!("/results/{id}/s/x/ledger.json"))).await.status, StatusCode::NOT_FOUND);
    assert_eq!(send(&app, get("/results/no-such/s/1/ledger.json")).await.status, StatusCode::NOT_FOUND);

    // Written: every snapshot has one, and the site verifies.
    let dir = temporary("ledger");
    let written =
        results_verify::write_site(node.node.store(), &results.definition.election.id, &key, &dir).await.unwrap();
    assert_eq!((written.snapshots, written.without_ledger_proof), (2, 0));
    assert_eq!(verify_dir(&dir, Some(&key)).failures, Vec::<String>::new());
    let snapshots = dir.join(id).join("s");
    let proof_of = |sequence: u64| snapshots.join(format!("{sequence}/{}", results_ledger::LEDGER));
    let originals = [std::fs::read(proof_of(1)).unwrap(), std::fs::read(proof_of(2)).unwrap()];

    // Another key pinned: the checkpoint's signature fails too.
    let stranger = canvass_crypto::NodeSigningKey::generate().unwrap().public_key();
    let failures = verify_dir(&dir, Some(&stranger)).failures;
    assert!(
        failures
            .iter()
            .any(|failure| failure.contains("s/1/ledger.json") && failure.contains("checkpoint's signature")),
        "{failures:#?}"
    );

    // Snapshot 2's proof put in snapshot 1: a good proof of an entry naming another manifest.
    std::fs::write(proof_of(1), &originals[1]).unwrap();
    let failures = verify_dir(&dir, Some(&key)).failures;
    assert_eq!(failures.len(), 1, "{failures:#?}");
    assert!(failures[0].contains(&format!("{id}/s/1/ledger.json: entry:")), "{failures:#?}");
    std::fs::write(proof_of(1), &originals[0]).unwrap();

    // A proof hash changed: the inclusion proof fails.
    let mut proof: serde_json::Value = serde_json::from_slice(&originals[1]).unwrap();
    let hashes = proof["inclusion_proof"].as_array_mut().unwrap();
    assert!(!hashes.is_empty(), "two snapshots and their entries make a tree of more than one leaf");
    hashes[0] = canvass_ledger::Hash([7; 32]).to_base64().into();
    std::fs::write(proof_of(2), serde_json::to_vec(&proof).unwrap()).unwrap();
    let failures = verify_dir(&dir, Some(&key)).failures;
    assert_eq!(failures.len(), 1, "{failures:#?}");
    assert!(failures[0].contains(&format!("{id}/s/2/ledger.json")) && failures[0].contains("the proof fails"));

    // The entry edited (another sequence named): its leaf hash changes, so the proof fails.
    let mut proof: serde_json::Value = serde_json::from_slice(&originals[1]).unwrap();
    let entry = proof["entry"].as_str().unwrap().replace("snapshot:2", "snapshot:1");
    proof["entry"] = entry.into();
    std::fs::write(proof_of(2), serde_json::to_vec(&proof).unwrap()).unwrap();
    let failures = verify_dir(&dir, Some(&key)).failures;
    assert!(failures.iter().any(|failure| failure.contains("s/2/ledger.json") && failure.contains("the proof fails")));
    std::fs::write(proof_of(2), &originals[1]).unwrap();

    // Missing: named, and nothing else fails.
    std::fs::remove_file(proof_of(1)).unwrap();
    let failures = verify_dir(&dir, Some(&key)).failures;
    assert_eq!(failures, vec![format!("{id}/s/1/ledger.json: missing: the snapshot's ledger entry is not proven")]);
}

const CLARKE: &str = "../../../shared/data/results/openelections-ga/20181106__ga__general__clarke__precinct.csv";

/// The real Clarke County, GA file: read, matched to a definition made from its own names,
/// published, exported as NIST 1500-100 (valid against the XSD and the JSON schema), and read
/// back to the same numbers: per contest and choice, and in all, the file's own sum.
#[tokio::test]
async fn the_clarke_county_file_round_trips_through_our_nist_export() {
    let reported = canvass_formats::openelections::read(std::fs::read(CLARKE).unwrap().as_slice()).unwrap();
    assert!(reported.problems.is_empty(), "{:?}", reported.problems);
    let definition = support::results_definition::definition_from_file(
        &reported,
        "ga-2018-general",
        "2018 General",
        date!(2018 - 11 - 06),
        "ocd-division/country:us/state:ga",
        "clarke",
        "Clarke",
    );
    let file_total: u64 = reported.counts.iter().map(|count| count.total).sum();
    round_trip("clarke", &reported, definition, file_total).await;
}

const GEN_01: &str = "../../../shared/data/nist/cdf-test-method/test_data/synthetic/gen-01/err_v2";

/// NIST's GEN-01: the definition from its pre-election file, the counts from its results file;
/// our export reads back to the file's every precinct-level vote except the write-ins (which are
/// not choices).
#[tokio::test]
async fn nists_gen_01_round_trips_through_our_nist_export() {
    use canvass_formats::election_definition::{DefinitionFormat, DefinitionScope, read};
    let scope = DefinitionScope {
        jurisdiction: canvass_core::jurisdiction::Jurisdiction {
            id: canvass_core::id::JurisdictionId::parse("ocd-division/country:us/state:ex").unwrap(),
            name: canvass_core::name::Name::parse("Example State").unwrap(),
            kind: canvass_core::jurisdiction::JurisdictionKind::State,
            parent: None,
        },
        election_id: Some(canvass_core::id::ElectionId::parse("gen-01").unwrap()),
    };
    let pre_election = std::fs::read(format!("{GEN_01}/pe-err-gen-01.xml")).unwrap();
    let definition = read(DefinitionFormat::NistXml, &pre_election, &scope).unwrap();
    let report =
        canvass_formats::nist_results::read_xml(std::fs::read(format!("{GEN_01}/err-gen-01.xml")).unwrap().as_slice())
            .unwrap();
    let reported = report.reported().precincts;
    let file_total: u64 = reported
        .counts
        .iter()
        .filter(|count| !count.choice.to_ascii_lowercase().starts_with("write-in"))
        .map(|count| count.total)
        .sum();
    assert!(file_total > 0);
    round_trip("gen-01", &reported, definition, file_total).await;
}

/// Matches a file to its definition, publishes it, and checks every county's NIST export: valid
/// against the schemas, and read back to the same sums per contest and choice as the accepted
/// counts, and to `file_total` in all.
async fn round_trip(
    name: &str,
    reported: &canvass_formats::reported::ReportedResults,
    definition: canvass_core::results::ElectionDefinition,
    file_total: u64,
) {
    let matched = canvass_formats::results_match::match_returns(reported, &definition).unwrap();
    let results = ElectionResults {
        definition,
        returns: matched.returns.into_iter().map(|it| (it.precinct.clone(), it)).collect(),
        registered: BTreeMap::new(),
        changes: Vec::new(),
    };
    let node = node().await;
    publish(&node, &results, &pages).await;
    let dir = temporary(name);
    let election = &results.definition.election.id;
    results_verify::write_site(node.node.store(), election, &node.node.public_key(), &dir).await.unwrap();
    let nist = Path::new(NIST);
    let validators = nist_schemas::json_validators(nist);
    let tally = canvass_core::results::tally(&results);
    let mut read_back_total = 0;
    for county in &results.definition.counties {
        let folder = dir.join(election.as_str()).join("s/1/counties").join(slug(county.id.as_str()));
        assert_eq!(nist_schemas::xmllint_errors(nist, &folder.join("results.xml")), None);
        let json = std::fs::read(folder.join("results.json")).unwrap();
        assert_eq!(nist_schemas::json_schema_errors(&validators, &json), Vec::<String>::new());
        let xml = std::fs::read(folder.join("results.xml")).unwrap();
        let mut county_totals = Vec::new();
        for report in [
            canvass_formats::nist_results::read_xml(xml.as_slice()).unwrap(),
            canvass_formats::nist_results::read_json(json.as_slice()).unwrap(),
        ] {
            let read_back = report.reported();
            assert!(read_back.precincts.problems.is_empty(), "{:?}", read_back.precincts.problems);
            let mut sums: BTreeMap<(String, String), u64> = BTreeMap::new();
            for count in &read_back.precincts.counts {
                *sums.entry((count.contest.clone(), count.choice.clone())).or_default() += count.total;
            }
            let mut expected = BTreeMap::new();
            for (contest_id, contest_tally) in &tally.counties[&county.id].contests {
                let contest = results.definition.contest(contest_id).unwrap();
                for (choice, votes) in contest.choices.iter().zip(&contest_tally.choices) {
                    expected.insert((contest.name.as_str().to_owned(), choice.name.as_str().to_owned()), votes.total);
                }
            }
            assert_eq!(sums, expected, "county {}", county.id);
            county_totals.push(sums.values().sum::<u64>());
        }
        assert_eq!(county_totals[0], county_totals[1], "XML and JSON agree");
        read_back_total += county_totals[0];
    }
    assert_eq!(read_back_total, file_total, "every vote of the file, and no other");
}

/// The real listeners answer a results file in memory on the hot path, before the router: the
/// answer must be the router's, byte for byte and header for header (a request id aside), and
/// be counted in the same metrics series.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listeners_hot_path_answers_as_the_router_does() {
    let node = node().await;
    let results = results(1);
    publish(&node, &results, &pages).await;
    let app = public_app(node.node.clone());
    let loopback: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    let listeners = canvass_server::listen::start(node.node.clone(), loopback, loopback).unwrap();
    let base = election_path(&results);
    let summary = format!("{base}/s/1/summary.json");
    let summary_etag = send(&app, get(&summary)).await.header(header::ETAG).unwrap().to_owned();
    type Case<'a> = (Method, String, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (Method::GET, format!("{base}/current.json"), vec![]),
        (Method::GET, format!("{base}/"), vec![("accept-encoding", "br")]),
        (Method::GET, format!("{base}/s/1/"), vec![("accept-encoding", "gzip")]),
        (Method::GET, summary.clone(), vec![]),
        (Method::GET, summary.clone(), vec![("accept-encoding", "gzip, br;q=0")]),
        (Method::GET, summary.clone(), vec![("if-none-match", summary_etag.as_str())]),
        (Method::HEAD, summary.clone(), vec![("accept-encoding", "br")]),
        (Method::GET, format!("{base}/s/1/manifest.json"), vec![]),
        // Not in memory or not there: the router's answers, through the router.
        (Method::GET, format!("{base}/s/1/no-such-file.json"), vec![]),
        (Method::GET, format!("{base}/s/9/summary.json"), vec![]),
        (Method::GET, "/results/no-such-election/current.json".to_owned(), vec![]),
        (Method::GET, format!("{base}/s/1/%73ummary.json"), vec![]),
        (Method::POST, summary.clone(), vec![]),
    ];
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    for (method, path, headers) in &cases {
        let mut routed = Request::builder().method(method.clone()).uri(path.as_str());
        let url = format!("http://{}{path}", listeners.public);
        let mut over_the_wire = ureq::http::Request::builder().method(method.as_str()).uri(&url);
        for (name, value) in headers {
            routed = routed.header(*name, *value);
            over_the_wire = over_the_wire.header(*name, *value);
        }
        let expected = send(&app, routed.body(Body::empty()).unwrap()).await;
        let request = over_the_wire.body(()).unwrap();
        let agent = agent.clone();
        let mut answer = tokio::task::spawn_blocking(move || agent.run(request).unwrap()).await.unwrap();
        assert_eq!(answer.status().as_u16(), expected.status.as_u16(), "{method} {path}");
        let bytes = answer.body_mut().with_config().limit(u64::MAX).read_to_vec().unwrap();
        assert_eq!(bytes, expected.bytes, "{method} {path}");
        for name in [
            header::CONTENT_TYPE,
            header::CONTENT_ENCODING,
            header::CONTENT_SECURITY_POLICY,
            header::CACHE_CONTROL,
            header::ETAG,
            header::VARY,
            header::X_CONTENT_TYPE_OPTIONS,
            header::X_FRAME_OPTIONS,
            header::REFERRER_POLICY,
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
        ] {
            let over_the_wire = answer.headers().get(name.as_str()).map(|value| value.to_str().unwrap().to_owned());
            assert_eq!(over_the_wire.as_deref(), expected.header(name.clone()), "{method} {path}: {name}");
        }
    }

    // The hot answers are counted in the series the router's answers are counted in.
    let admin = canvass_server::admin_app(node.node.clone());
    let metrics = send(&admin, support::authorised(Method::GET, "/metrics", None)).await.body;
    let series = metrics
        .lines()
        .find(|line| {
            line.starts_with("canvass_http_requests_total{")
                && line.contains("route=\"/results/{election}/s/{sequence}/{*path}\"")
                && line.contains("method=\"HEAD\"")
                && line.contains("status=\"200\"")
        })
        .unwrap_or_else(|| panic!("no series for the HEAD of a snapshot file:\n{metrics}"));
    // One HEAD through the router (`send`) and one through the listener's hot path.
    assert!(series.ends_with(" 2"), "{series}");
    listeners.shutdown().await;
}

/// The checks keep the county CSVs and JSON files they read, by hash, for the next snapshot;
/// what they keep never lets a changed file through, whether its manifest entry was left as it
/// was or changed with it.
#[test]
fn what_the_checks_keep_never_hides_a_changed_county_file() {
    let results = results(5);
    let signer = canvass_crypto::NodeSigningKey::generate().unwrap();
    let key = signer.public_key();
    let published_at = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let memo = results_publish::RenderMemo::default();
    let sign = |bytes: &[u8]| signer.sign(bytes);
    let built = results_publish::build(&results, &pages, &memo, 1, published_at, sign).unwrap();
    results_publish::check(&results, &built, &key, &|_| false, Some(&memo.totals)).unwrap();
    // Checked again from what was kept: the same answer.
    results_publish::check(&results, &built, &key, &|_| false, Some(&memo.totals)).unwrap();

    let csv_path = built.files.keys().find(|path| path.ends_with("/results.csv")).unwrap().clone();
    let altered = bump_first_count(&built.files[&csv_path]);

    // The body changed, its manifest entry not: the kept rows under the old hash must not stand in.
    let mut stale_entry = results_publish::build(&results, &pages, &memo, 2, published_at, sign).unwrap();
    stale_entry.files.insert(csv_path.clone(), altered.clone().into());
    let error =
        results_publish::check(&results, &stale_entry, &key, &|_| false, Some(&memo.totals)).unwrap_err().to_string();
    assert!(error.contains(&format!("{csv_path}: the body does not match its manifest entry")), "{error}");
    // Checked first with nothing kept, the changed body is read but not kept under the hash it
    // does not have: the true snapshot still passes afterwards.
    let fresh = results_publish::RenderMemo::default();
    results_publish::check(&results, &stale_entry, &key, &|_| false, Some(&fresh.totals)).unwrap_err();
    results_publish::check(&results, &built, &key, &|_| false, Some(&fresh.totals)).unwrap();

    // The body and its manifest entry changed together: read afresh, and its counts no longer
    // match the accepted results nor the published totals.
    let mut new_entry = results_publish::build(&results, &pages, &memo, 3, published_at, sign).unwrap();
    let hash = results_publish::sha256_hex(&altered);
    for file in &mut new_entry.manifest.files {
        if file.path == csv_path {
            file.sha256 = hash.clone();
            file.size = altered.len() as u64;
        }
    }
    new_entry.files.insert(csv_path.clone(), altered.into());
    let error =
        results_publish::check(&results, &new_entry, &key, &|_| false, Some(&memo.totals)).unwrap_err().to_string();
    assert!(error.contains("do not hold the accepted precinct counts"), "{error}");
    assert!(error.contains("precincts sum to"), "{error}");
}

/// A county CSV with its first row's total one higher.
fn bump_first_count(csv: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(csv.to_vec()).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut fields: Vec<String> = lines[1].split(',').map(str::to_owned).collect();
    let votes: u64 = fields[8].parse().unwrap();
    fields[8] = (votes + 1).to_string();
    lines[1] = fields.join(",");
    let mut out = lines.join("\n");
    out.push('\n');
    out.into_bytes()
}
