//! Voter history (ncvhis) imports through the real import path on a real SQLite store, after the
//! voter file they belong to: a generated file and one in the real file's shape import, a
//! re-import changes nothing, a corrected row becomes an update, bad rows and rows of voters not
//! on the roll (or on another roll) go to the report without their values while good rows still
//! import, and an interrupted import resumes after its last committed batch.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{path::Path, sync::Arc};

use canvass_core::{
    audit::Actor,
    id::JurisdictionId,
    jurisdiction::{Jurisdiction, JurisdictionKind},
    name::Name,
};
use canvass_crypto::SecretString;
use canvass_server::{
    keys::{self, UnsealedRing},
    ledger::{Audit, Ledger},
    roll_import::{self, ImportProgress, ImportSettings, ImportSummary},
    vote_history,
};
use canvass_store::{ImportCounts, Store, StoredImport};
use canvass_store_sqlite::{OpenMode, SqliteStore};

const STATE: &str = "ocd-division/country:us/state:nc";
const OTHER_STATE: &str = "ocd-division/country:us/state:sc";

struct Quiet;

impl ImportProgress for Quiet {
    fn started(&mut self, _: u64, _: u64, _: &ImportCounts) {}
    fn advanced(&mut self, _: u64, _: &ImportCounts) {}
}

struct Roll {
    _directory: tempfile::TempDir,
    store: Arc<dyn Store>,
    audit: Audit,
    ring: UnsealedRing,
    directory: std::path::PathBuf,
}

async fn jurisdiction(store: &dyn Store, audit: &Audit, id: &str) -> UnsealedRing {
    let id = JurisdictionId::parse(id).unwrap();
    let jurisdiction = Jurisdiction {
        id: id.clone(),
        name: Name::parse("A State").unwrap(),
        kind: JurisdictionKind::State,
        parent: None,
    };
    store.insert_jurisdiction(&jurisdiction).await.unwrap();
    keys::create_key_ring(store, audit, &id, SecretString::from("a long test passphrase".to_owned()), 10_000)
        .await
        .unwrap()
}

/// A state whose roll holds the first `voters` rows of the generated voter file.
async fn roll(voters: u64) -> Roll {
    let directory = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&directory.path().join("canvass.db"), OpenMode::Create).await.unwrap());
    let audit = Audit { ledger: Ledger::direct(store.clone()), actor: Actor::Operator, request_id: None };
    let ring = jurisdiction(store.as_ref(), &audit, STATE).await;
    let path = directory.path().to_owned();
    let roll = Roll { _directory: directory, store, audit, ring, directory: path };
    let file = roll.directory.join("voters.tsv");
    canvass_formats::ncvoter::generate(3, voters, false, &mut std::fs::File::create(&file).unwrap()).unwrap();
    let settings = roll.settings(STATE, 1_000);
    let mut report = Vec::new();
    let summary =
        roll_import::import_ncvoter(&roll.store, &roll.audit, &roll.ring, &file, &settings, &mut report, &mut Quiet)
            .await
            .unwrap();
    assert_eq!(summary.import.counts.inserted, voters, "{}", String::from_utf8_lossy(&report));
    roll
}

impl Roll {
    fn settings(&self, jurisdiction: &str, batch_rows: usize) -> ImportSettings {
        ImportSettings {
            jurisdiction: JurisdictionId::parse(jurisdiction).unwrap(),
            add_places: true,
            batch_rows,
            actor: "clerk".into(),
        }
    }

    fn history_file(&self, name: &str, rows: u64) -> std::path::PathBuf {
        let path = self.directory.join(name);
        canvass_formats::ncvhis::generate(9, rows, &mut std::fs::File::create(&path).unwrap()).unwrap();
        path
    }

    async fn import(&self, file: &Path, jurisdiction: &str, batch_rows: usize) -> (ImportSummary, String) {
        let mut report = Vec::new();
        let settings = self.settings(jurisdiction, batch_rows);
        let summary = vote_history::import_ncvhis(&self.store, &self.audit, file, &settings, &mut report, &mut Quiet)
            .await
            .unwrap();
        (summary, String::from_utf8(report).unwrap())
    }

    async fn votes_of(&self, number: &str) -> Vec<vote_history::VoteView> {
        vote_history::history_of(self.store.as_ref(), &JurisdictionId::parse(STATE).unwrap(), number).await.unwrap()
    }
}

fn counts(summary: &ImportSummary) -> (u64, u64, u64, u64) {
    let counts = summary.import.counts;
    (counts.inserted, counts.updated, counts.unchanged, counts.rejected)
}

#[tokio::test]
async fn a_generated_history_imports_after_its_roll_and_a_reimport_changes_nothing() {
    let roll = roll(400).await;
    let file = roll.history_file("history.tsv", 600);
    let (first, report) = roll.import(&file, STATE, 128).await;
    assert_eq!(counts(&first), (600, 0, 0, 0), "{report}");
    assert_eq!(first.import.format, "ncvhis");
    assert!(first.import.finished_at.is_some());
    let votes = roll.votes_of("GN0000000001").await;
    assert!(!votes.is_empty());
    assert!(votes.windows(2).all(|pair| pair[0].election_date >= pair[1].election_date), "newest first");

    let (again, report) = roll.import(&file, STATE, 128).await;
    assert_ne!(again.import.id, first.import.id, "a finished import is not resumed");
    assert_eq!(counts(&again), (0, 0, 600, 0), "{report}");
    assert_eq!(roll.votes_of("GN0000000001").await, votes);

    // A corrected row (another voting method) is an update; the rest are unchanged.
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut fields: Vec<String> = lines[1].split('\t').map(str::to_owned).collect();
    fields[5] = if fields[5] == "PROVISIONAL" { "IN-PERSON".into() } else { "PROVISIONAL".into() };
    lines[1] = fields.join("\t");
    let corrected = roll.directory.join("corrected.tsv");
    std::fs::write(&corrected, lines.join("\n") + "\n").unwrap();
    let (third, _) = roll.import(&corrected, STATE, 128).await;
    assert_eq!(counts(&third), (0, 1, 599, 0));
    let stored = roll.votes_of(&fields[10]).await;
    assert!(stored.iter().any(|vote| vote.voting_method == fields[5]), "{stored:?}");
}

#[tokio::test]
async fn bad_rows_and_voters_not_on_the_roll_go_to_the_report_without_their_values() {
    let roll = roll(50).await;
    let file = roll.history_file("history.tsv", 30);
    let mut text = std::fs::read_to_string(&file).unwrap();
    let good: Vec<String> = text.lines().nth(1).unwrap().split('\t').map(str::to_owned).collect();
    let with = |column: usize, value: &str| {
        let mut fields = good.clone();
        fields[column] = value.to_owned();
        fields.join("\t") + "\n"
    };
    text.push_str(&with(3, "13/45/2020")); // line 32: a bad election date
    text.push_str("1\tALAMANCE\t3\n"); // line 33: too few columns
    text.push_str(&with(10, "ZZ99999")); // line 34: a voter not on the roll
    text.push_str(&with(0, "0")); // line 35: county 0
    text.push_str(&good.join("\t")); // line 36: the same vote as line 2
    text.push('\n');
    let damaged = roll.directory.join("damaged.tsv");
    std::fs::write(&damaged, &text).unwrap();
    let (summary, report) = roll.import(&damaged, STATE, 1_000).await;
    assert_eq!(counts(&summary), (30, 0, 0, 5), "{report}");
    let lines: Vec<&str> = report.lines().collect();
    let rejected: Vec<(&str, &str)> = lines
        .iter()
        .map(|line| {
            let mut parts = line.split('\t');
            (parts.next().unwrap(), parts.next().unwrap())
        })
        .collect();
    assert_eq!(
        rejected,
        [("32", "election_lbl"), ("33", ""), ("34", "ncid"), ("35", "county_id"), ("36", "election_lbl")],
        "{report}"
    );
    assert!(report.contains("no voter with this ncid is on the roll"), "{report}");
    assert!(report.contains("line 2"), "the duplicate names the first line: {report}");
    for value in ["13/45/2020", "ZZ99999", "ALAMANCE"] {
        assert!(!report.contains(value), "{value} in the report: {report}");
    }
    assert!(roll.votes_of("GN0000000001").await.len() <= 4);
}

#[tokio::test]
async fn history_for_voters_of_another_roll_is_rejected_per_row() {
    let roll = roll(50).await;
    jurisdiction(roll.store.as_ref(), &roll.audit, OTHER_STATE).await;
    let file = roll.history_file("history.tsv", 20);
    let (summary, report) = roll.import(&file, OTHER_STATE, 1_000).await;
    assert_eq!(counts(&summary), (0, 0, 0, 20));
    assert!(report.lines().all(|line| line.contains("on the roll of ocd-division/country:us/state:nc")), "{report}");
    assert!(roll.votes_of("GN0000000001").await.is_empty(), "nothing stored");
}

#[tokio::test]
async fn an_interrupted_history_import_resumes_after_its_last_committed_batch() {
    let roll = roll(400).await;
    let file = roll.history_file("history.tsv", 300);
    // A first run that committed the rows through line 151 and then stopped: its record says so.
    let text = std::fs::read_to_string(&file).unwrap();
    let position: usize = text.lines().take(151).map(|line| line.len() + 1).sum();
    let digest = canvass_crypto::sha256_hex(&mut std::fs::File::open(&file).unwrap()).unwrap();
    let interrupted = StoredImport {
        id: "import-interrupted".into(),
        jurisdiction: JurisdictionId::parse(STATE).unwrap(),
        format: vote_history::NCVHIS.into(),
        file_digest: digest,
        actor: "clerk".into(),
        started_at: 1,
        updated_at: 1,
        finished_at: None,
        position: position as u64,
        line: 151,
        counts: ImportCounts { inserted: 150, ..ImportCounts::default() },
    };
    roll.store.insert_voter_import(&interrupted).await.unwrap();
    let (summary, _) = roll.import(&file, STATE, 64).await;
    assert_eq!(summary.import.id, "import-interrupted");
    assert_eq!(summary.resumed_after_line, Some(151));
    assert_eq!(counts(&summary), (300, 0, 0, 0), "counts carry on from the interrupted run");
    // Only rows after line 151 were read: the first voter's votes (on the first lines) are absent.
    assert!(roll.votes_of("GN0000000001").await.is_empty());
    let last: Vec<&str> = text.lines().last().unwrap().split('\t').collect();
    assert!(!roll.votes_of(last[10]).await.is_empty());
}

/// Rows as NCSBE publishes them: every value quoted, padded, a header, CRLF line ends.
#[tokio::test]
async fn a_history_in_the_real_files_shape_imports() {
    let roll = roll(10).await;
    let sample = concat!(
        "\"county_id\"\t\"county_desc\"\t\"voter_reg_num\"\t\"election_lbl\"\t\"election_desc\"\t\"voting_method\"\t",
        "\"voted_party_cd\"\t\"voted_party_desc\"\t\"pct_label\"\t\"pct_description\"\t\"ncid\"\t\"voted_county_id\"\t",
        "\"voted_county_desc\"\t\"vtd_label\"\t\"vtd_description\"\r\n",
        "\"1\"\t\"ALAMANCE\"\t\"000000000001\"\t\"11/03/2020\"\t\"11/03/2020 GENERAL\"\t\"ABSENTEE ONESTOP\"\t",
        "\"DEM\"\t\"DEMOCRATIC\"\t\"03N\"\t\"NORTH BOONE\"\t\"GN0000000001\"\t\"1\"\t\"ALAMANCE\"\t\"03N\"\t\"03N\"\r\n",
        "\"92\"\t\"WAKE\"\t\"000000000002\"\t\"03/05/2024\"\t\"03/05/2024 PRIMARY\"\t\"IN-PERSON\"\t",
        "\"REP\"\t\"REPUBLICAN\"\t\"01-07\"\t\"PRECINCT 01-07      \"\t\"GN0000000002\"\t\"92\"\t\"WAKE\"\t\"01-07\"\t\"01-07\"\r\n",
    );
    let file = roll.directory.join("ncvhis_sample.txt");
    std::fs::write(&file, sample).unwrap();
    let (summary, report) = roll.import(&file, STATE, 1_000).await;
    assert_eq!(counts(&summary), (2, 0, 0, 0), "{report}");
    let votes = roll.votes_of("GN0000000002").await;
    assert_eq!(votes.len(), 1);
    assert_eq!(
        (votes[0].election_date.as_str(), votes[0].voting_method.as_str(), votes[0].voted_party.as_deref()),
        ("2024-03-05", "IN-PERSON", Some("REP"))
    );
}

#[tokio::test]
async fn a_voter_file_given_as_history_is_refused_and_records_no_import() {
    let roll = roll(10).await;
    let voters = roll.directory.join("voters.tsv");
    let before = roll.store.voter_imports(None, 100).await.unwrap().len();
    let settings = roll.settings(STATE, 100);
    let refused =
        vote_history::import_ncvhis(&roll.store, &roll.audit, &voters, &settings, &mut Vec::new(), &mut Quiet).await;
    let error = refused.unwrap_err().to_string();
    assert!(error.contains("ncvhis"), "{error}");
    assert_eq!(roll.store.voter_imports(None, 100).await.unwrap().len(), before, "no import recorded");
}

/// The figure for docs: `CANVASS_BENCH_ROWS=1000000 cargo test --release -p canvass-server --test
/// vote_history -- --ignored --nocapture`. The roll is stored directly (placeholder sealed
/// bytes): the history import only looks voters up, so sealing a real roll first would measure
/// nothing of it.
#[tokio::test]
#[ignore = "a benchmark: run it by name with --release"]
async fn benchmark_history_import_rows_per_second() {
    use canvass_core::{id::PrecinctId, jurisdiction::Precinct, voter::VoterStatus};
    use canvass_store::{BlindIndexes, SealedFields, SealedVoter};
    let rows: u64 = std::env::var("CANVASS_BENCH_ROWS").ok().and_then(|text| text.parse().ok()).unwrap_or(100_000);
    let roll = roll(1).await;
    let file = roll.history_file("bench.tsv", rows);
    let text = std::fs::read_to_string(&file).unwrap();
    let voters: u64 = text.lines().last().unwrap().split('\t').nth(10).unwrap()[2..].parse().unwrap();
    drop(text);
    let state = JurisdictionId::parse(STATE).unwrap();
    let precinct = Precinct {
        id: PrecinctId::parse("bench-p1").unwrap(),
        jurisdiction: state.clone(),
        name: Name::parse("Bench").unwrap(),
    };
    roll.store.insert_precinct(&precinct).await.unwrap();
    let mut batch = Vec::with_capacity(10_000);
    for number in 2..=voters {
        batch.push(SealedVoter {
            registration_number: format!("GN{number:010}"),
            jurisdiction: state.clone(),
            county: state.clone(),
            precinct: precinct.id.clone(),
            party: "UNA".into(),
            status: VoterStatus::Active,
            registered_on: time::macros::date!(2020 - 01 - 01),
            key_version: 1,
            fields: SealedFields {
                first_name: vec![1; 40],
                last_name: vec![2; 40],
                birth_date: None,
                ssn_last_four: None,
                drivers_license: None,
                email: None,
                details: None,
            },
            indexes: BlindIndexes::default(),
            row_digest: None,
        });
        if batch.len() == 10_000 {
            roll.store.insert_voters(&batch).await.unwrap();
            batch.clear();
        }
    }
    roll.store.insert_voters(&batch).await.unwrap();
    let started = std::time::Instant::now();
    let (summary, _) = roll.import(&file, STATE, roll_import::DEFAULT_BATCH_ROWS).await;
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(summary.import.counts.inserted, rows);
    println!("ncvhis import: {rows} rows for {voters} voters in {seconds:.1} s = {:.0} rows/s", rows as f64 / seconds);
    let started = std::time::Instant::now();
    let (again, _) = roll.import(&file, STATE, roll_import::DEFAULT_BATCH_ROWS).await;
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(again.import.counts.unchanged, rows);
    println!("re-import (all unchanged): {seconds:.1} s = {:.0} rows/s", rows as f64 / seconds);
}
