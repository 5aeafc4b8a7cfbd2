//! Voter history: importing the state's history file (ncvhis) into the roll and reading a
//! voter's history back. The import runs on `roll_import`'s machinery (the reader thread, the
//! imports table and its position, resume, the rejection report); each batch's votes and the
//! import's position commit together. A vote is stored only for a voter on the importing
//! jurisdiction's roll; any other row is rejected with its reason. Voter history is a public
//! record in North Carolina, stored as ids, dates and codes: nothing here is sealed.

use std::{collections::HashMap, io::Write, path::Path, sync::Arc};

use canvass_core::{audit::Action, audit::now_millis, id::JurisdictionId};
use canvass_formats::{
    ncvhis::{NcVhisReader, NcVhisRecord},
    ncvoter::RowError,
};
use canvass_store::{Store, StoredVote, VoteHistoryBatch};

use crate::{
    ServerError,
    ledger::{Audit, target},
    roll_import::{
        ImportProgress, ImportSettings, ImportSummary, begin_import, file_facts, finish_import, formats_error,
        open_file, report_line, spawn_reader,
    },
};

/// The format name recorded for North Carolina voter history files.
pub const NCVHIS: &str = "ncvhis";

/// Imports (or resumes importing) an ncvhis file into the jurisdiction's voter history.
/// `settings.add_places` does not apply: history names voters, not places.
pub async fn import_ncvhis(
    store: &Arc<dyn Store>,
    audit: &Audit,
    path: &Path,
    settings: &ImportSettings,
    report: &mut dyn Write,
    progress: &mut dyn ImportProgress,
) -> Result<ImportSummary, ServerError> {
    let jurisdiction = &settings.jurisdiction;
    if store.jurisdiction(jurisdiction).await?.is_none() {
        return Err(ServerError::NotFound(format!("there is no jurisdiction {jurisdiction}")));
    }
    let (file_bytes, digest) = file_facts(path)?;
    // The header is read first: a file that is not a history file records no import.
    let mut reader = NcVhisReader::new(open_file(path)?).map_err(formats_error)?;
    let (import, resumed_after_line) =
        begin_import(store.as_ref(), audit, jurisdiction, NCVHIS, &digest, &settings.actor).await?;
    reader.skip_to(import.position).map_err(formats_error)?;
    let mut receiver = spawn_reader(reader, settings.batch_rows.max(1));
    progress.started(file_bytes, import.position, &import.counts);
    let counts_before = import.counts;
    let mut line = import.line;
    while let Some(batch) = receiver.recv().await {
        let batch = batch.map_err(formats_error)?;
        let (votes, rejected) = prepare_votes(store.as_ref(), jurisdiction, &batch.rows).await?;
        for error in &rejected {
            report_line(report, error)?;
        }
        line = batch.last_line(line);
        let entry = audit.entry(Action::VoterImport).with_jurisdiction(jurisdiction);
        let entry = target(entry, format!("import:{}", import.id))?;
        let entry = target(entry, format!("through_line:{line}"))?;
        let entry = target(entry, format!("votes:{}", votes.len()))?;
        let write = VoteHistoryBatch {
            import_id: &import.id,
            votes: &votes,
            position: batch.position,
            line,
            rejected: rejected.len() as u64,
            at: now_millis(),
        };
        let written = audit.run(entry, async { Ok(store.write_vote_history_batch(&write).await?) }).await?;
        progress.advanced(batch.position, &written.import);
    }
    let import = finish_import(store.as_ref(), audit, &import).await?;
    Ok(ImportSummary { import, resumed_after_line, counts_before, added_counties: 0, added_precincts: 0, file_bytes })
}

/// Turns a batch's records into votes of voters on `jurisdiction`'s roll; every other row
/// becomes its rejection (malformed, a voter not on the roll or on another roll, or a vote the
/// batch already holds).
async fn prepare_votes(
    store: &dyn Store,
    jurisdiction: &JurisdictionId,
    records: &[Result<NcVhisRecord, RowError>],
) -> Result<(Vec<StoredVote>, Vec<RowError>), ServerError> {
    let mut numbers: Vec<String> = records.iter().flatten().map(|record| record.ncid.clone()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    let rolls: HashMap<String, JurisdictionId> = store
        .voter_digests(&numbers)
        .await?
        .into_iter()
        .map(|digest| (digest.registration_number, digest.jurisdiction))
        .collect();
    let mut votes = Vec::with_capacity(records.len());
    let mut rejected = Vec::new();
    let mut seen: HashMap<(String, time::Date, String), u64> = HashMap::with_capacity(records.len());
    for record in records {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                rejected.push(error.clone());
                continue;
            }
        };
        let refuse = |reason: String| RowError { line: record.line, column: Some("ncid"), reason };
        match rolls.get(&record.ncid) {
            None => {
                rejected.push(refuse(format!("no voter with this ncid is on the roll of {jurisdiction}")));
                continue;
            }
            Some(roll) if roll != jurisdiction => {
                rejected.push(refuse(format!(
                    "this voter is on the roll of {roll}, not {jurisdiction}: import their history there"
                )));
                continue;
            }
            Some(_) => {}
        }
        let key = (record.ncid.clone(), record.election_date, record.election_description.clone());
        if let Some(first) = seen.get(&key) {
            rejected.push(RowError {
                line: record.line,
                column: Some("election_lbl"),
                reason: format!("the same voter's vote in this election is on line {first} of this file"),
            });
            continue;
        }
        seen.insert(key, record.line);
        votes.push(stored_vote(jurisdiction, record));
    }
    Ok((votes, rejected))
}

fn stored_vote(jurisdiction: &JurisdictionId, record: &NcVhisRecord) -> StoredVote {
    StoredVote {
        registration_number: record.ncid.clone(),
        jurisdiction: jurisdiction.clone(),
        election_date: record.election_date,
        election_description: record.election_description.clone(),
        voting_method: record.voting_method.clone(),
        voted_party: record.voted_party.clone(),
        county_number: record.county_id,
        county_registration_number: record.registration_number.clone(),
        precinct_label: record.precinct_label.clone(),
        voted_county_number: record.voted_county_id,
    }
}

/// One vote as staff see it (pages, API, CLI).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct VoteView {
    /// YYYY-MM-DD.
    pub election_date: String,
    pub election: String,
    pub voting_method: String,
    pub voted_party: Option<String>,
    pub precinct: Option<String>,
    /// The state's county number where the ballot was cast, when the file says.
    pub voted_county: Option<u16>,
}

impl From<&StoredVote> for VoteView {
    fn from(vote: &StoredVote) -> Self {
        Self {
            election_date: vote.election_date.to_string(),
            election: vote.election_description.clone(),
            voting_method: vote.voting_method.clone(),
            voted_party: vote.voted_party.clone(),
            precinct: vote.precinct_label.clone(),
            voted_county: vote.voted_county_number,
        }
    }
}

/// A voter's history, newest election first; `NotFound` unless the voter is on
/// `jurisdiction`'s roll.
pub async fn history_of(
    store: &dyn Store,
    jurisdiction: &JurisdictionId,
    registration_number: &str,
) -> Result<Vec<VoteView>, ServerError> {
    let voter = store.voter(registration_number).await?.filter(|voter| voter.jurisdiction == *jurisdiction);
    if voter.is_none() {
        return Err(ServerError::NotFound(format!(
            "no voter with registration number {registration_number} in {jurisdiction}"
        )));
    }
    Ok(store.vote_history(registration_number).await?.iter().map(VoteView::from).collect())
}
