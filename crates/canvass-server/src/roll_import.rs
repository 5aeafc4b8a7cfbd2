//! Running an import of a voter file: a reader thread parses the file into batches while this
//! task maps, seals and writes the previous one; every batch commits its rows together with
//! the import's position, so an interrupted import resumes after the last committed row, and
//! each rejected row goes to the report (line, column, reason: never a value).

use std::{
    collections::HashMap,
    io::{BufReader, Write},
    path::Path,
    sync::Arc,
};

use canvass_core::{
    audit::{Action, now_millis},
    id::JurisdictionId,
};
use canvass_formats::{
    FormatsError,
    ncvhis::{NcVhisReader, NcVhisRecord},
    ncvoter::{NcVoterReader, NcVoterRecord, RowError},
};
use canvass_store::{ImportCounts, Store, StoredImport};

use crate::{
    ServerError,
    keys::UnsealedRing,
    ledger::{Audit, target},
    roll::{self, Places, RollRow},
};

/// Rows per committed batch: large enough that per-batch costs (a ledger entry, a fsync)
/// vanish, small enough that memory stays flat and an interruption loses little.
pub const DEFAULT_BATCH_ROWS: usize = 5_000;

/// The format name recorded for North Carolina voter files.
pub const NCVOTER: &str = "ncvoter";

#[derive(Debug, Clone)]
pub struct ImportSettings {
    pub jurisdiction: JurisdictionId,
    /// Create counties and precincts the file names that do not exist yet.
    pub add_places: bool,
    pub batch_rows: usize,
    /// Who runs it (a username), recorded with the import.
    pub actor: String,
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct ImportSummary {
    pub import: StoredImport,
    /// The line an interrupted import of the same file had reached, when this one resumed it.
    pub resumed_after_line: Option<u64>,
    /// The counts the import had when this run began (zero unless it resumed).
    pub counts_before: ImportCounts,
    pub added_counties: u64,
    pub added_precincts: u64,
    pub file_bytes: u64,
}

/// How far an import is, for a progress bar.
pub trait ImportProgress {
    /// `counts` are the import's so far: zero, or a resumed import's earlier ones.
    fn started(&mut self, file_bytes: u64, position: u64, counts: &ImportCounts);
    fn advanced(&mut self, position: u64, counts: &ImportCounts);
}

/// One batch as the reader thread hands it over.
pub struct ReadBatch<Record> {
    pub rows: Vec<Result<Record, RowError>>,
    /// Bytes of the file read through the batch's last row.
    pub position: u64,
}

impl<Record> std::fmt::Debug for ReadBatch<Record> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("ReadBatch").field("rows", &self.rows.len()).field("position", &self.position).finish()
    }
}

impl<Record: Numbered> ReadBatch<Record> {
    /// The batch's last line, or `line` for an empty batch.
    pub fn last_line(&self, line: u64) -> u64 {
        self.rows
            .iter()
            .map(|row| match row {
                Ok(record) => record.line(),
                Err(error) => error.line,
            })
            .max()
            .unwrap_or(line)
    }
}

/// A parsed row that knows the line it came from.
pub trait Numbered {
    fn line(&self) -> u64;
}

impl Numbered for NcVoterRecord {
    fn line(&self) -> u64 {
        self.line
    }
}

impl Numbered for NcVhisRecord {
    fn line(&self) -> u64 {
        self.line
    }
}

/// A file reader the import drives: one parsed row (or its rejection) at a time, and how far
/// into the file it is. Every format's streaming reader is one.
pub trait RowSource: Send + 'static {
    type Record: Numbered + Send + 'static;
    fn next_row(&mut self) -> Result<Option<Result<Self::Record, RowError>>, FormatsError>;
    fn position(&self) -> u64;
}

impl<R: std::io::BufRead + Send + 'static> RowSource for NcVoterReader<R> {
    type Record = NcVoterRecord;
    fn next_row(&mut self) -> Result<Option<Result<NcVoterRecord, RowError>>, FormatsError> {
        NcVoterReader::next_row(self)
    }
    fn position(&self) -> u64 {
        NcVoterReader::position(self)
    }
}

impl<R: std::io::BufRead + Send + 'static> RowSource for NcVhisReader<R> {
    type Record = NcVhisRecord;
    fn next_row(&mut self) -> Result<Option<Result<NcVhisRecord, RowError>>, FormatsError> {
        NcVhisReader::next_row(self)
    }
    fn position(&self) -> u64 {
        NcVhisReader::position(self)
    }
}

pub fn formats_error(error: FormatsError) -> ServerError {
    ServerError::Invalid(error.to_string())
}

/// Finds the unfinished import of this file in this format into this jurisdiction, if any.
async fn unfinished(
    store: &dyn Store,
    jurisdiction: &JurisdictionId,
    format: &str,
    digest: &str,
) -> Result<Option<StoredImport>, ServerError> {
    Ok(store
        .voter_imports(Some(jurisdiction), 100)
        .await?
        .into_iter()
        .find(|import| import.finished_at.is_none() && import.file_digest == digest && import.format == format))
}

/// Opens a file for a format's reader, buffered for streaming.
pub fn open_file(path: &Path) -> Result<BufReader<std::fs::File>, ServerError> {
    let file = std::fs::File::open(path)
        .map_err(|error| ServerError::Invalid(format!("cannot open {}: {error}", path.display())))?;
    Ok(BufReader::with_capacity(1 << 20, file))
}

/// The file's size and SHA-256 (hex): an import resumes only the same file.
pub fn file_facts(path: &Path) -> Result<(u64, String), ServerError> {
    let file_bytes = std::fs::metadata(path)
        .map_err(|error| ServerError::Invalid(format!("cannot read {}: {error}", path.display())))?
        .len();
    let mut file = std::fs::File::open(path)
        .map_err(|error| ServerError::Invalid(format!("cannot open {}: {error}", path.display())))?;
    let digest = canvass_crypto::sha256_hex(&mut file)
        .map_err(|error| ServerError::Invalid(format!("cannot read {}: {error}", path.display())))?;
    Ok((file_bytes, digest))
}

/// Resumes the unfinished import of this file, or records a new one (with its ledger entry).
/// Returns the import and, when resumed, the line it had reached.
pub async fn begin_import(
    store: &dyn Store,
    audit: &Audit,
    jurisdiction: &JurisdictionId,
    format: &str,
    digest: &str,
    actor: &str,
) -> Result<(StoredImport, Option<u64>), ServerError> {
    if let Some(import) = unfinished(store, jurisdiction, format, digest).await? {
        let line = import.line;
        return Ok((import, Some(line)));
    }
    let now = now_millis();
    let import = StoredImport {
        id: format!("import-{}", canvass_crypto::random_hex(8)?),
        jurisdiction: jurisdiction.clone(),
        format: format.into(),
        file_digest: digest.to_owned(),
        actor: actor.to_owned(),
        started_at: now,
        updated_at: now,
        finished_at: None,
        position: 0,
        line: 0,
        counts: ImportCounts::default(),
    };
    let entry =
        target(audit.entry(Action::VoterImport).with_jurisdiction(jurisdiction), format!("import:{}", import.id))?;
    let entry = target(entry, "started")?;
    audit.run(entry, async { Ok(store.insert_voter_import(&import).await?) }).await?;
    Ok((import, None))
}

/// Marks the import finished (with its ledger entry) and reads it back.
pub async fn finish_import(
    store: &dyn Store,
    audit: &Audit,
    import: &StoredImport,
) -> Result<StoredImport, ServerError> {
    let finished_at = now_millis();
    let entry = target(
        audit.entry(Action::VoterImport).with_jurisdiction(&import.jurisdiction),
        format!("import:{}", import.id),
    )?;
    let entry = target(entry, "finished")?;
    audit.run(entry, async { Ok(store.finish_voter_import(&import.id, finished_at).await?) }).await?;
    store.voter_import(&import.id).await?.ok_or_else(|| ServerError::Internal(format!("import {} vanished", import.id)))
}

/// Reads the file in batches on a thread of its own (parsing is half the work), from the
/// reader's current position.
#[allow(clippy::type_complexity)] // the channel's item is spelled out once, here
pub fn spawn_reader<S: RowSource>(
    mut reader: S,
    batch_rows: usize,
) -> tokio::sync::mpsc::Receiver<Result<ReadBatch<S::Record>, FormatsError>> {
    let (sender, receiver) = tokio::sync::mpsc::channel(2);
    std::thread::spawn(move || {
        loop {
            let mut rows = Vec::with_capacity(batch_rows);
            let outcome = loop {
                match reader.next_row() {
                    Ok(Some(row)) => {
                        rows.push(row);
                        if rows.len() >= batch_rows {
                            break Ok(false);
                        }
                    }
                    Ok(None) => break Ok(true),
                    Err(error) => break Err(error),
                }
            };
            let position = reader.position();
            let (batch, finished) = match outcome {
                Ok(finished) => (Ok(ReadBatch { rows, position }), finished),
                Err(error) => (Err(error), true),
            };
            let empty_end = finished && batch.as_ref().is_ok_and(|batch| batch.rows.is_empty());
            if !empty_end && sender.blocking_send(batch).is_err() {
                return;
            }
            if finished {
                return;
            }
        }
    });
    receiver
}

/// Writes one rejected row to the report.
pub fn report_line(report: &mut dyn Write, error: &RowError) -> Result<(), ServerError> {
    let reason = error.reason.replace(['\t', '\n', '\r'], " ");
    writeln!(report, "{}\t{}\t{reason}", error.line, error.column.unwrap_or(""))
        .map_err(|error| ServerError::Internal(format!("cannot write the report: {error}")))
}

/// The header of a rejection report.
pub const REPORT_HEADER: &str = "line\tcolumn\treason";

/// Imports (or resumes importing) an ncvoter file into the jurisdiction's roll.
pub async fn import_ncvoter(
    store: &Arc<dyn Store>,
    audit: &Audit,
    ring: &UnsealedRing,
    path: &Path,
    settings: &ImportSettings,
    report: &mut dyn Write,
    progress: &mut dyn ImportProgress,
) -> Result<ImportSummary, ServerError> {
    let jurisdiction = &settings.jurisdiction;
    if ring.jurisdiction() != jurisdiction.as_str() {
        return Err(ServerError::Internal(format!(
            "the ring of {} cannot seal {jurisdiction}'s roll",
            ring.jurisdiction()
        )));
    }
    let (file_bytes, digest) = file_facts(path)?;
    let mut places = Places::load(store.as_ref(), jurisdiction, settings.add_places).await?;
    let (import, resumed_after_line) =
        begin_import(store.as_ref(), audit, jurisdiction, NCVOTER, &digest, &settings.actor).await?;
    let mut reader = NcVoterReader::new(open_file(path)?).map_err(formats_error)?;
    reader.skip_to(import.position).map_err(formats_error)?;
    let receiver = spawn_reader(reader, settings.batch_rows.max(1));
    progress.started(file_bytes, import.position, &import.counts);
    let counts_before = import.counts;
    // A first load into an empty store writes the table alone and builds the secondary
    // indexes once at the end, whether the batches succeeded or not.
    let deferred = store.defer_voter_indexes().await?;
    let run = Run { store, audit, ring, jurisdiction, import: &import, first_batch: resumed_after_line.is_none() };
    let written = run.batches(receiver, &mut places, report, progress).await;
    if deferred {
        store.build_voter_indexes().await?;
    }
    written?;
    let import = finish_import(store.as_ref(), audit, &import).await?;
    Ok(ImportSummary {
        import,
        resumed_after_line,
        counts_before,
        added_counties: places.added_counties,
        added_precincts: places.added_precincts,
        file_bytes,
    })
}

/// One run of an import over its batches.
struct Run<'a> {
    store: &'a Arc<dyn Store>,
    audit: &'a Audit,
    ring: &'a UnsealedRing,
    jurisdiction: &'a JurisdictionId,
    import: &'a StoredImport,
    /// A new import's first batch, whose rows all being for other counties is refused whole.
    first_batch: bool,
}

/// A batch being written while the next is sealed: its position and the counts through it,
/// reported once it has committed.
struct Writing {
    task: tokio::task::JoinHandle<Result<(), ServerError>>,
    position: u64,
    counts: ImportCounts,
}

impl Writing {
    async fn committed(self, progress: &mut dyn ImportProgress) -> Result<(), ServerError> {
        self.task.await.map_err(|error| ServerError::Internal(format!("a batch's write stopped: {error}")))??;
        progress.advanced(self.position, &self.counts);
        Ok(())
    }
}

impl Run<'_> {
    /// Reads, seals and writes every batch: batch N+1 is sealed (on every core) while batch N
    /// is written, and its rows are compared with the store only once batch N has committed,
    /// so a voter twice in the file is seen as stored the second time, as without the overlap.
    async fn batches(
        mut self,
        mut receiver: tokio::sync::mpsc::Receiver<Result<ReadBatch<NcVoterRecord>, FormatsError>>,
        places: &mut Places,
        report: &mut dyn Write,
        progress: &mut dyn ImportProgress,
    ) -> Result<(), ServerError> {
        let mut writing: Option<Writing> = None;
        let mut counts = self.import.counts;
        let mut line = self.import.line;
        // Seal ahead only while batches are mostly written: a re-import of an unchanged file
        // would seal every row for nothing.
        let mut seal_ahead = true;
        while let Some(batch) = receiver.recv().await {
            let (sorted, position, batch_line) =
                self.batch(batch, places, seal_ahead, writing.take(), progress).await?;
            for error in sorted.rejected_here.iter().chain(&sorted.sorted.rejected) {
                report_line(report, error)?;
            }
            let sorted_rows = sorted.sorted;
            counts.inserted += sorted_rows.inserted;
            counts.updated += sorted_rows.updated;
            counts.unchanged += sorted_rows.unchanged;
            counts.rejected += (sorted.rejected_here.len() + sorted_rows.rejected.len()) as u64;
            line = batch_line.unwrap_or(line);
            seal_ahead = sorted_rows.write.len() * 2 >= sorted.rows;
            writing = Some(self.spawn_write(sorted_rows, (position, line), counts));
        }
        match writing {
            Some(writing) => writing.committed(progress).await,
            None => Ok(()),
        }
    }

    /// Maps and seals one batch, waits for the previous one to commit, then sorts it against
    /// the store. On failure the previous write is still waited for, so nothing runs on after
    /// the import has returned.
    async fn batch(
        &mut self,
        batch: Result<ReadBatch<NcVoterRecord>, FormatsError>,
        places: &mut Places,
        seal_ahead: bool,
        previous: Option<Writing>,
        progress: &mut dyn ImportProgress,
    ) -> Result<(SortedBatch, u64, Option<u64>), ServerError> {
        let prepared = self.prepare(batch, places, seal_ahead).await;
        let committed = match previous {
            Some(writing) => writing.committed(progress).await,
            None => Ok(()),
        };
        let PreparedBatch { position, line, rows, rejected, prepared } = prepared?;
        committed?;
        let numbers: Vec<String> = rows.iter().map(|row| row.registration_number.clone()).collect();
        let stored = self.store.voter_digests(&numbers).await?;
        let sorted = roll::sort_prepared(self.ring, &rows, prepared, &stored)?;
        Ok((SortedBatch { rows: rows.len(), rejected_here: rejected, sorted }, position, line))
    }

    async fn prepare(
        &mut self,
        batch: Result<ReadBatch<NcVoterRecord>, FormatsError>,
        places: &mut Places,
        seal_ahead: bool,
    ) -> Result<PreparedBatch, ServerError> {
        let batch = batch.map_err(formats_error)?;
        let line = batch
            .rows
            .iter()
            .map(|row| match row {
                Ok(record) => record.line,
                Err(error) => error.line,
            })
            .max();
        let (rows, rejected) = prepare_batch(self.store.as_ref(), self.audit, places, batch.rows).await?;
        if self.first_batch
            && rows.is_empty()
            && !rejected.is_empty()
            && rejected.iter().all(|error| error.column == Some("county_desc"))
        {
            return Err(ServerError::Invalid(format!(
                "this file is for counties outside {} ({}): import it into the jurisdiction it is for",
                self.jurisdiction, rejected[0].reason
            )));
        }
        self.first_batch = false;
        let prepared = roll::prepare_seals(self.ring, &rows, seal_ahead)?;
        Ok(PreparedBatch { position: batch.position, line, rows, rejected, prepared })
    }

    fn spawn_write(&self, sorted: roll::Sorted, position: (u64, u64), counts: ImportCounts) -> Writing {
        let store = self.store.clone();
        let audit = self.audit.clone();
        let jurisdiction = self.jurisdiction.clone();
        let import_id = self.import.id.clone();
        let task = tokio::spawn(async move {
            roll::write_batch(store.as_ref(), &audit, &jurisdiction, &import_id, &sorted, position, counts).await
        });
        Writing { task, position: position.0, counts }
    }
}

/// A batch mapped and sealed, not yet compared with the store.
struct PreparedBatch {
    position: u64,
    /// The batch's last line, if it has any row.
    line: Option<u64>,
    rows: Vec<RollRow>,
    rejected: Vec<RowError>,
    prepared: Vec<roll::Prepared>,
}

/// A batch sorted against the store, with the rows refused before sealing.
struct SortedBatch {
    /// Rows that were mapped (written or not).
    rows: usize,
    rejected_here: Vec<RowError>,
    sorted: roll::Sorted,
}

/// Maps a batch's records to rows; a registration number seen earlier in the batch is
/// rejected (two rows for one voter in one file are a mistake to look at, not to merge).
async fn prepare_batch(
    store: &dyn Store,
    audit: &Audit,
    places: &mut Places,
    records: Vec<Result<NcVoterRecord, RowError>>,
) -> Result<(Vec<RollRow>, Vec<RowError>), ServerError> {
    let mut rows: Vec<RollRow> = Vec::with_capacity(records.len());
    let mut rejected = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::with_capacity(records.len());
    for record in records {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                rejected.push(error);
                continue;
            }
        };
        match roll::prepare(store, audit, places, record).await? {
            Ok(row) => {
                if let Some(first) = seen.get(&row.registration_number) {
                    rejected.push(RowError {
                        line: row.line,
                        column: Some("ncid"),
                        reason: format!("the same voter is on line {first} of this file"),
                    });
                } else {
                    seen.insert(row.registration_number.clone(), row.line);
                    rows.push(row);
                }
            }
            Err(error) => rejected.push(error),
        }
    }
    places.flush(store, audit).await?;
    Ok((rows, rejected))
}
