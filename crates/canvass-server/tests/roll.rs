//! Voter file imports through the real import path on a real SQLite store: a generated file
//! and the real-layout sample import, a re-import changes nothing, a changed row becomes an
//! update with its history, bad rows go to the report whole and without their values, a file
//! for another jurisdiction is refused, and an interrupted import resumes where it stopped.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{path::Path, sync::Arc};

use canvass_core::{
    audit::Actor,
    id::JurisdictionId,
    jurisdiction::{Jurisdiction, JurisdictionKind},
    name::Name,
    voter_policy::FieldPolicy,
};
use canvass_crypto::SecretString;
use canvass_server::{
    keys::{self, UnsealedRing},
    ledger::{Audit, Ledger},
    roll,
    roll_import::{self, ImportProgress, ImportSettings, ImportSummary},
};
use canvass_store::{ImportCounts, Store, StoredImport};
use canvass_store_sqlite::{OpenMode, SqliteStore};

const STATE: &str = "ocd-division/country:us/state:nc";

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

async fn roll(jurisdiction: &str, kind: JurisdictionKind) -> Roll {
    let directory = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&directory.path().join("canvass.db"), OpenMode::Create).await.unwrap());
    let id = JurisdictionId::parse(jurisdiction).unwrap();
    store
        .insert_jurisdiction(&Jurisdiction {
            id: id.clone(),
            name: Name::parse("North Carolina").unwrap(),
            kind,
            parent: None,
        })
        .await
        .unwrap();
    let audit = Audit { ledger: Ledger::direct(store.clone()), actor: Actor::Operator, request_id: None };
    let ring = keys::create_key_ring(
        store.as_ref(),
        &audit,
        &id,
        SecretString::from("a long test passphrase".to_owned()),
        10_000,
    )
    .await
    .unwrap();
    let path = directory.path().to_owned();
    Roll { _directory: directory, store, audit, ring, directory: path }
}

impl Roll {
    async fn import(&self, file: &Path, add_places: bool, batch_rows: usize) -> (ImportSummary, String) {
        let settings = ImportSettings {
            jurisdiction: JurisdictionId::parse(self.ring.jurisdiction()).unwrap(),
            add_places,
            batch_rows,
            actor: "clerk".into(),
        };
        let mut report = Vec::new();
        let summary =
            roll_import::import_ncvoter(&self.store, &self.audit, &self.ring, file, &settings, &mut report, &mut Quiet)
                .await
                .unwrap();
        (summary, String::from_utf8(report).unwrap())
    }

    fn generated(&self, name: &str, rows: u64, seed: u64) -> std::path::PathBuf {
        let path = self.directory.join(name);
        let mut file = std::fs::File::create(&path).unwrap();
        canvass_formats::ncvoter::generate(seed, rows, true, &mut file).unwrap();
        path
    }

    async fn all_voters(&self) -> Vec<canvass_store::SealedVoter> {
        let id = JurisdictionId::parse(self.ring.jurisdiction()).unwrap();
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.store.voters_after(&id, after.as_deref(), 500).await.unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.registration_number.clone());
            all.extend(page);
        }
        all
    }
}

fn counts(summary: &ImportSummary) -> (u64, u64, u64, u64) {
    let counts = summary.import.counts;
    (counts.inserted, counts.updated, counts.unchanged, counts.rejected)
}

#[tokio::test]
async fn a_generated_file_imports_and_a_reimport_changes_nothing() {
    let roll = roll(STATE, JurisdictionKind::State).await;
    let file = roll.generated("voters.tsv", 1_200, 11);
    let (first, report) = roll.import(&file, true, 250).await;
    assert_eq!(counts(&first), (1_200, 0, 0, 0));
    assert_eq!(report, "", "nothing rejected");
    assert!(first.added_counties > 50 && first.added_precincts > 100, "{first:?}");
    assert!(first.import.finished_at.is_some());
    let stored = roll.all_voters().await;
    assert_eq!(stored.len(), 1_200);
    let ledger_before = roll.store.ledger_size().await.unwrap();

    let (second, _) = roll.import(&file, true, 250).await;
    assert_eq!(counts(&second), (0, 0, 1_200, 0), "a re-import of the same file changes nothing");
    assert_eq!(roll.all_voters().await, stored, "every row byte for byte as it was");
    assert_eq!((second.added_counties, second.added_precincts), (0, 0));
    assert!(roll.store.ledger_size().await.unwrap() > ledger_before, "the re-import itself is on the record");

    // What went in comes out: open a row and compare with the file.
    let policy = FieldPolicy::north_carolina();
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let row: Vec<&str> = lines.nth(41).unwrap().split('\t').collect();
    let value = |column: &str| row[header.iter().position(|name| *name == column).unwrap()];
    let sealed = roll.store.voter(value("ncid")).await.unwrap().unwrap();
    let open = roll::open_row(&roll.ring, &sealed, &policy, true).unwrap();
    assert_eq!((open.last_name.as_str(), open.first_name.as_str()), (value("last_name"), value("first_name")));
    assert_eq!(open.detail("res_street_address"), value("res_street_address"));
    assert_eq!(open.ssn_last_four.as_deref(), Some(value("ssn4")));
    assert_eq!(open.drivers_license.as_deref(), Some(value("drivers_lic_num")));
    let public = roll::open_row(&roll.ring, &sealed, &policy, false).unwrap();
    assert_eq!(
        (public.ssn_last_four, public.drivers_license, public.email, public.birth_date),
        (None, None, None, None)
    );
}

#[tokio::test]
async fn a_changed_row_becomes_an_update_and_keeps_its_history() {
    let roll = roll(STATE, JurisdictionKind::State).await;
    let file = roll.generated("voters.tsv", 300, 5);
    roll.import(&file, true, 100).await;
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let header: Vec<String> = lines[0].split('\t').map(str::to_owned).collect();
    let street = header.iter().position(|name| name == "res_street_address").unwrap();
    let ncid = header.iter().position(|name| name == "ncid").unwrap();
    let mut fields: Vec<String> = lines[10].split('\t').map(str::to_owned).collect();
    fields[street] = "1 NEW ADDRESS WAY".into();
    lines[10] = fields.join("\t");
    let changed = roll.directory.join("changed.tsv");
    std::fs::write(&changed, lines.join("\n") + "\n").unwrap();

    let (summary, _) = roll.import(&changed, false, 100).await;
    assert_eq!(counts(&summary), (0, 1, 299, 0));
    let history = roll.store.voter_history(&fields[ncid]).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].import_id.as_deref(), Some(summary.import.id.as_str()));
    let policy = FieldPolicy::north_carolina();
    let before = roll::open_row(&roll.ring, &history[0].voter, &policy, false).unwrap();
    let now =
        roll::open_row(&roll.ring, &roll.store.voter(&fields[ncid]).await.unwrap().unwrap(), &policy, false).unwrap();
    assert_ne!(before.detail("res_street_address"), "1 NEW ADDRESS WAY");
    assert_eq!(now.detail("res_street_address"), "1 NEW ADDRESS WAY");
}

#[tokio::test]
async fn bad_rows_go_to_the_report_without_their_values_and_good_rows_still_import() {
    let roll = roll(STATE, JurisdictionKind::State).await;
    let file = roll.generated("voters.tsv", 50, 9);
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let header: Vec<String> = lines[0].split('\t').map(str::to_owned).collect();
    let column = |name: &str| header.iter().position(|column| column == name).unwrap();
    let edit = |line: &str, name: &str, value: &str| {
        let mut fields: Vec<String> = line.split('\t').map(str::to_owned).collect();
        fields[column(name)] = value.to_owned();
        fields.join("\t")
    };
    lines[3] = edit(&lines[3], "birth_date", "02/31/1961");
    lines[5] = edit(&lines[5], "ssn4", "98X7");
    lines[7] = edit(&lines[7], "county_id", "417");
    lines[9] = lines[9].split('\t').take(40).collect::<Vec<_>>().join("\t");
    lines[11] = edit(&lines[11], "status_cd", "Q");
    let bad = roll.directory.join("bad.tsv");
    // A truncated last line, as a cut-off download leaves it.
    let truncated = lines[20][..lines[20].len() / 2].to_owned();
    std::fs::write(&bad, lines.join("\n") + "\n" + &truncated).unwrap();

    let (summary, report) = roll.import(&bad, true, 20).await;
    // 50 rows and a truncated 51st: six rejected.
    assert_eq!(counts(&summary), (45, 0, 0, 6), "{report}");
    let reported: Vec<(&str, &str)> = report
        .lines()
        .map(|line| {
            let mut parts = line.split('\t');
            (parts.next().unwrap(), parts.next().unwrap())
        })
        .collect();
    assert_eq!(
        reported,
        [("4", "birth_date"), ("6", "ssn4"), ("8", "county_id"), ("10", ""), ("12", "status_cd"), ("52", "")],
        "{report}"
    );
    // Personal values stay out of the report (a county number is not one).
    for value in ["02/31/1961", "1961", "98X7"] {
        assert!(!report.contains(value), "the report names no personal value: {report}");
    }
    assert_eq!(roll.all_voters().await.len(), 45, "no part of a bad row is stored");
}

#[tokio::test]
async fn a_file_for_another_jurisdiction_is_refused_and_unknown_places_are_rejected_per_row() {
    let roll = roll("ocd-division/country:us/state:nc/county:wake", JurisdictionKind::County).await;
    let file = roll.generated("voters.tsv", 40, 2);
    let settings = ImportSettings {
        jurisdiction: JurisdictionId::parse(roll.ring.jurisdiction()).unwrap(),
        add_places: false,
        batch_rows: 100,
        actor: "clerk".into(),
    };
    let error = roll_import::import_ncvoter(
        &roll.store,
        &roll.audit,
        &roll.ring,
        &file,
        &settings,
        &mut Vec::new(),
        &mut Quiet,
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("counties outside"), "{error}");
    assert!(roll.all_voters().await.is_empty());
}

#[tokio::test]
async fn an_interrupted_import_resumes_after_its_last_committed_batch() {
    let roll = roll(STATE, JurisdictionKind::State).await;
    let file = roll.generated("voters.tsv", 400, 4);
    // A first run that committed the rows through line 201 and then stopped: its record says so.
    let text = std::fs::read_to_string(&file).unwrap();
    let position: usize = text.lines().take(201).map(|line| line.len() + 1).sum();
    let digest = canvass_crypto::sha256_hex(&mut std::fs::File::open(&file).unwrap()).unwrap();
    let interrupted = StoredImport {
        id: "import-interrupted".into(),
        jurisdiction: JurisdictionId::parse(STATE).unwrap(),
        format: "ncvoter".into(),
        file_digest: digest,
        actor: "clerk".into(),
        started_at: 1,
        updated_at: 1,
        finished_at: None,
        position: position as u64,
        line: 201,
        counts: ImportCounts { inserted: 200, ..ImportCounts::default() },
    };
    roll.store.insert_voter_import(&interrupted).await.unwrap();
    let (summary, _) = roll.import(&file, true, 64).await;
    assert_eq!(summary.import.id, "import-interrupted");
    assert_eq!(summary.resumed_after_line, Some(201));
    assert_eq!(counts(&summary), (400, 0, 0, 0), "counts carry on from the interrupted run");
    let stored = roll.all_voters().await;
    assert_eq!(stored.len(), 200, "only the rows after the committed point were read again");
    assert!(stored.iter().all(|voter| voter.registration_number.as_str() > "GN0000000200"));
}

#[tokio::test]
async fn the_real_layout_sample_imports() {
    let roll = roll(STATE, JurisdictionKind::State).await;
    let sample = Path::new("../../../shared/data/voter/national-voter-file-fake/nc.csv");
    let (summary, report) = roll.import(sample, true, 1_000).await;
    let counts = summary.import.counts;
    assert!(counts.inserted > 0, "{report}");
    assert_eq!(counts.rows(), counts.inserted + counts.rejected);
    assert_eq!(roll.all_voters().await.len() as u64, counts.inserted);
    let (again, _) = roll.import(sample, true, 1_000).await;
    assert_eq!(again.import.counts.unchanged, counts.inserted, "re-import changes nothing");
}

#[tokio::test]
async fn staff_search_finds_by_name_number_licence_and_ssn_and_nothing_else() {
    use canvass_server::roll_search::{SearchQuery, search};
    let roll = roll(STATE, JurisdictionKind::State).await;
    let file = roll.generated("voters.tsv", 800, 21);
    roll.import(&file, true, 200).await;
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let row: Vec<&str> = lines.nth(123).unwrap().split('\t').collect();
    let value = |column: &str| row[header.iter().position(|name| *name == column).unwrap()].to_owned();
    let ncid = value("ncid");
    let birth_date = canvass_formats::ncvoter::parse_date(&value("birth_date")).unwrap();
    let numbers = |found: Vec<canvass_store::SealedVoter>| {
        found.into_iter().map(|voter| voter.registration_number).collect::<Vec<_>>()
    };
    let by_name = SearchQuery::Name {
        last: value("last_name").to_lowercase(),
        first: value("first_name"),
        birth_date: Some(birth_date),
        county: None,
    };
    assert!(numbers(search(roll.store.as_ref(), &roll.ring, &by_name).await.unwrap()).contains(&ncid));
    // Without the date of birth, every voter of that name (the generator reuses 16 x 16 names).
    let name_only =
        SearchQuery::Name { last: value("last_name"), first: value("first_name"), birth_date: None, county: None };
    let namesakes = numbers(search(roll.store.as_ref(), &roll.ring, &name_only).await.unwrap());
    assert!(namesakes.len() > 1 && namesakes.contains(&ncid), "{}", namesakes.len());
    let by_number = SearchQuery::RegistrationNumber(ncid.clone());
    assert_eq!(
        numbers(search(roll.store.as_ref(), &roll.ring, &by_number).await.unwrap()),
        std::slice::from_ref(&ncid)
    );
    let by_licence = SearchQuery::DriversLicense(value("drivers_lic_num"));
    assert_eq!(
        numbers(search(roll.store.as_ref(), &roll.ring, &by_licence).await.unwrap()),
        std::slice::from_ref(&ncid)
    );
    let by_ssn = SearchQuery::Ssn4 { last: value("last_name"), birth_date, ssn_last_four: value("ssn4") };
    assert!(numbers(search(roll.store.as_ref(), &roll.ring, &by_ssn).await.unwrap()).contains(&ncid));
    let wrong_date = SearchQuery::Name {
        last: value("last_name"),
        first: value("first_name"),
        birth_date: Some(birth_date.next_day().unwrap()),
        county: None,
    };
    assert!(!numbers(search(roll.store.as_ref(), &roll.ring, &wrong_date).await.unwrap()).contains(&ncid));
    let nobody = SearchQuery::DriversLicense("NOSUCHLICENCE".into());
    assert!(search(roll.store.as_ref(), &roll.ring, &nobody).await.unwrap().is_empty());
}
