//! `canvass voters`: the voter roll's files. `generate` writes a synthetic North Carolina
//! layout file (every person made up) for trying imports and measuring them; `import` loads a
//! voter file into a jurisdiction's roll (a staff member signs in and the jurisdiction's key
//! ring is opened here, since every row is sealed on the way in); `export-public` writes the
//! public extract.

use std::{
    io::{BufWriter, Write},
    path::{Path, PathBuf},
    process::ExitCode,
    time::Instant,
};

use anyhow::{Context, bail};
use canvass_core::voter_policy::FieldPolicy;
use canvass_core::{access::Operation, audit::Action, id::JurisdictionId, lifecycle::StatusReason, voter::VoterStatus};
use canvass_formats::ncvoter::PUBLIC_COLUMNS;
use canvass_server::{
    ledger::target,
    roll,
    roll_import::{self, ImportProgress, ImportSettings, REPORT_HEADER},
    roll_search::{self, SearchFields, SearchQuery},
    voter_status::{self, StatusChangeRequest},
    vri_import::VriEncoding,
};
use canvass_store::ImportCounts;
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::{
    data_dir,
    keys::{Unlock, unseal_here},
    sign_in::{self, StaffSignIn},
};

#[derive(Debug, Subcommand)]
pub enum VotersCommand {
    /// Write a synthetic ncvoter file (tab-delimited NC layout, made-up people): the same seed
    /// gives the same file.
    Generate(GenerateArguments),
    /// Import a voter file into a jurisdiction's roll: new rows added, changed rows updated
    /// (the old revision kept), unchanged rows left alone, bad rows written to a report. An
    /// interrupted import of the same file resumes where it stopped.
    Import(ImportArguments),
    /// Find voters on a roll: by last and first name (optionally with date of birth and
    /// county), by registration number (NCID), by driver's licence number, or by SSN last four
    /// with last name and date of birth. Shows public-record fields; `--confidential` with a
    /// `--reason` also shows the confidential ones, to roles allowed `voters.read`, and records
    /// the read in the ledger.
    Search(SearchArguments),
    /// Write the public voter file extract (NC layout, public-record columns only; voters in
    /// an address confidentiality program are left out).
    ExportPublic(ExportPublicArguments),
    /// Change a voter's status with an NVRA reason code. The list-maintenance rules are
    /// enforced: a removal for change of address needs a confirmation notice and no contact
    /// through two federal general elections; systematic changes (change_of_address_after_notice,
    /// inactive_after_confirmation_notice, duplicate_merged) stop 90 days before a federal
    /// election. Needs `voters.change_status`; recorded in the ledger.
    #[command(after_help = reason_codes_help())]
    SetStatus(SetStatusArguments),
    /// List a voter's status changes: dates, reason codes and who made them.
    History(HistoryArguments),
    /// Write a voter as a NIST SP 1500-102 (VRI) registration request, XML or JSON. It carries
    /// confidential fields (date of birth, driver's licence, SSN last four, email), so it needs
    /// `voters.read` and a `--reason`, and is recorded in the ledger as a read; never a
    /// signature image. The precinct travels in AdditionalInfo, so the file re-imports as a no-op.
    ExportVri(ExportVriArguments),
    /// List the elections a voter voted in (from an imported ncvhis file): day, election, how
    /// the ballot was cast, party ballot, precinct. Needs `voters.search`.
    VoteHistory(crate::voter_records::VoteHistoryArguments),
    /// Store a voter's signature image (PNG or JPEG, at most 1 MiB), sealed under the
    /// jurisdiction's key ring; replaces an earlier one. Needs `voters.set_signature`; recorded
    /// in the ledger (without the image). Signatures are never exported.
    SetSignature(crate::voter_records::SetSignatureArguments),
    /// List candidate duplicate records of the jurisdiction's roll and every jurisdiction
    /// under it: pairs whose name and date of birth, or driver's licence number, agree
    /// (public-record fields shown). Needs `voters.duplicates`.
    Duplicates(crate::duplicates::ListArguments),
    /// Merge a candidate pair: keep one record, remove the other with reason
    /// `duplicate_merged` under the NVRA rules (refused inside the 90 days before a federal
    /// election). Needs `voters.decide_duplicates` and `voters.change_status`; recorded.
    Merge(crate::duplicates::MergeArguments),
    /// Dismiss a candidate pair as two different voters; it leaves the list. Needs
    /// `voters.decide_duplicates`; recorded.
    DismissDuplicate(crate::duplicates::DismissArguments),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VriFormat {
    Xml,
    Json,
}

#[derive(Debug, Args)]
pub struct ExportVriArguments {
    #[arg(long, value_name = "ID")]
    pub jurisdiction: String,
    #[arg(long, value_name = "NUMBER")]
    pub registration_number: String,
    #[arg(long, value_enum, default_value_t = VriFormat::Xml)]
    pub format: VriFormat,
    /// Why you export this record: kept in the ledger entry.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Where to write it (refused if the file exists); standard output if not given.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub staff: StaffSignIn,
    #[command(flatten)]
    pub unlock: Unlock,
}

/// The reason codes with what each means, for `set-status --help`.
fn reason_codes_help() -> String {
    let mut text = String::from("Reason codes:\n");
    for reason in StatusReason::ALL {
        text.push_str(&format!("  {:<36} {}\n", reason.as_str(), reason.description()));
    }
    text
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArgument {
    Active,
    Inactive,
    Removed,
    Denied,
    Temporary,
}

impl From<StatusArgument> for VoterStatus {
    fn from(status: StatusArgument) -> Self {
        match status {
            StatusArgument::Active => Self::Active,
            StatusArgument::Inactive => Self::Inactive,
            StatusArgument::Removed => Self::Removed,
            StatusArgument::Denied => Self::Denied,
            StatusArgument::Temporary => Self::Temporary,
        }
    }
}

#[derive(Debug, Args)]
pub struct SetStatusArguments {
    /// The jurisdiction whose roll holds the voter.
    #[arg(long, value_name = "ID")]
    pub jurisdiction: String,
    #[arg(long, value_name = "NCID")]
    pub registration_number: String,
    #[arg(long, value_enum)]
    pub status: StatusArgument,
    /// The NVRA reason code (listed below).
    #[arg(long, value_name = "CODE")]
    pub reason: String,
    /// The day the change takes effect (YYYY-MM-DD; today if not given; not in the future).
    #[arg(long, value_name = "DATE")]
    pub effective: Option<String>,
    /// When the confirmation notice was mailed (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub notice_sent: Option<String>,
    /// The voter's latest contact: voted, updated the registration or answered (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub last_contact: Option<String>,
    #[command(flatten)]
    pub staff: StaffSignIn,
}

#[derive(Debug, Args)]
pub struct HistoryArguments {
    #[arg(long, value_name = "ID")]
    pub jurisdiction: String,
    #[arg(long, value_name = "NCID")]
    pub registration_number: String,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub staff: StaffSignIn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// North Carolina's voter file (tab-delimited, 67 columns, optionally the confidential four).
    Ncvoter,
    /// North Carolina's voter history file (its voters must be on the roll already; no key
    /// ring is opened: history is public record, stored as ids, dates and codes).
    Ncvhis,
    /// NIST SP 1500-102 Voter Records Interchange requests in XML: a file, or a directory whose
    /// `.xml` files are imported one by one. Registrations add or update voters; absentee
    /// requests are matched and reported, not yet recorded.
    VriXml,
    /// The same in JSON (a file, or a directory's `.json` files).
    VriJson,
}

impl ImportFormat {
    fn vri_encoding(self) -> Option<VriEncoding> {
        match self {
            Self::VriXml => Some(VriEncoding::Xml),
            Self::VriJson => Some(VriEncoding::Json),
            Self::Ncvoter | Self::Ncvhis => None,
        }
    }
}

#[derive(Debug, Args)]
pub struct ImportArguments {
    /// The jurisdiction whose roll (and key ring) receives the file: a state or a county.
    #[arg(long, value_name = "ID")]
    pub jurisdiction: String,
    #[arg(long, value_enum)]
    pub format: ImportFormat,
    /// The voter file (for VRI: a request, or a directory of them).
    pub file: PathBuf,
    /// Where rejected rows are listed (line, column, reason; never a value). Default: the
    /// file's name with `.rejected.tsv` added.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Create the counties and precincts the file names that do not exist yet.
    #[arg(long)]
    pub add_places: bool,
    /// Rows per committed batch.
    #[arg(long, default_value_t = roll_import::DEFAULT_BATCH_ROWS)]
    pub batch_rows: usize,
    /// VRI only: the precinct (an id) of a new registration whose request names none.
    #[arg(long, value_name = "ID")]
    pub precinct: Option<String>,
    #[command(flatten)]
    pub staff: StaffSignIn,
    #[command(flatten)]
    pub unlock: Unlock,
}

#[derive(Debug, Args)]
pub struct SearchArguments {
    /// The jurisdiction whose roll (and key ring) to search.
    #[arg(long, value_name = "ID")]
    pub jurisdiction: String,
    #[arg(long)]
    pub last_name: Option<String>,
    #[arg(long)]
    pub first_name: Option<String>,
    /// YYYY-MM-DD or MM/DD/YYYY.
    #[arg(long, value_name = "DATE")]
    pub birth_date: Option<String>,
    /// Only voters of this county (a jurisdiction id).
    #[arg(long, value_name = "ID")]
    pub county: Option<String>,
    #[arg(long, value_name = "NCID")]
    pub registration_number: Option<String>,
    #[arg(long, value_name = "NUMBER")]
    pub drivers_license: Option<String>,
    /// With --last-name and --birth-date.
    #[arg(long, value_name = "DIGITS")]
    pub ssn4: Option<String>,
    /// Show confidential fields too (needs `voters.read`); give --reason.
    #[arg(long)]
    pub confidential: bool,
    /// Why you open confidential fields: kept in the ledger entry.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub staff: StaffSignIn,
    #[command(flatten)]
    pub unlock: Unlock,
}

#[derive(Debug, Args)]
pub struct ExportPublicArguments {
    #[arg(long, value_name = "ID")]
    pub jurisdiction: String,
    /// Where to write it (refused if the file exists); standard output if not given.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub staff: StaffSignIn,
    #[command(flatten)]
    pub unlock: Unlock,
}

#[derive(Debug, Args)]
pub struct GenerateArguments {
    /// How many voters.
    #[arg(long, default_value_t = 1_000)]
    pub rows: u64,
    /// The generator's seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Add the four confidential columns a county's internal export carries (birth_date, ssn4,
    /// drivers_lic_num, email).
    #[arg(long)]
    pub confidential: bool,
    /// Write a voter history (ncvhis) file of this many rows instead: its voters are those of a
    /// generated voter file of at least as many rows.
    #[arg(long, conflicts_with = "confidential")]
    pub history: bool,
    /// Where to write it (refused if the file exists).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

pub async fn run(data: &Path, command: VotersCommand) -> anyhow::Result<ExitCode> {
    match command {
        VotersCommand::Generate(arguments) => {
            tokio::task::spawn_blocking(move || generate(&arguments)).await.map_err(anyhow::Error::from)?
        }
        VotersCommand::Import(arguments) => import(data, &arguments).await,
        VotersCommand::ExportPublic(arguments) => export_public(data, &arguments).await,
        VotersCommand::Search(arguments) => search(data, &arguments).await,
        VotersCommand::SetStatus(arguments) => set_status(data, &arguments).await,
        VotersCommand::History(arguments) => history(data, &arguments).await,
        VotersCommand::ExportVri(arguments) => crate::vri::export(data, &arguments).await,
        VotersCommand::VoteHistory(arguments) => crate::voter_records::vote_history(data, &arguments).await,
        VotersCommand::SetSignature(arguments) => crate::voter_records::set_signature(data, &arguments).await,
        VotersCommand::Duplicates(arguments) => crate::duplicates::list(data, &arguments).await,
        VotersCommand::Merge(arguments) => crate::duplicates::merge(data, &arguments).await,
        VotersCommand::DismissDuplicate(arguments) => crate::duplicates::dismiss(data, &arguments).await,
    }
}

fn date_flag(flag: &str, text: Option<&str>) -> anyhow::Result<Option<time::Date>> {
    text.map(|text| {
        canvass_formats::ncvoter::parse_date(text.trim()).map_err(|reason| anyhow::anyhow!("{flag} {reason}"))
    })
    .transpose()
}

async fn set_status(data: &Path, arguments: &SetStatusArguments) -> anyhow::Result<ExitCode> {
    let request = StatusChangeRequest {
        jurisdiction: JurisdictionId::parse(&arguments.jurisdiction)?,
        registration_number: arguments.registration_number.trim().to_owned(),
        to: arguments.status.into(),
        reason: StatusReason::parse(arguments.reason.trim()).map_err(|error| anyhow::anyhow!("--reason: {error}"))?,
        effective_on: date_flag("--effective", arguments.effective.as_deref())?,
        confirmation_notice_sent: date_flag("--notice-sent", arguments.notice_sent.as_deref())?,
        last_contact: date_flag("--last-contact", arguments.last_contact.as_deref())?,
    };
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = async {
        let signed_in = sign_in::sign_in(data, &store, &arguments.staff).await?;
        signed_in.authorize(store.as_ref(), Operation::ChangeVoterStatus, &request.jurisdiction).await?;
        let change = voter_status::change_status(store.as_ref(), &signed_in.audit, &request).await?;
        println!(
            "{}: {} -> {} on {} ({}: {}).",
            change.registration_number,
            change.from.as_str(),
            change.to.as_str(),
            change.effective_on,
            change.reason.as_str(),
            change.reason.description()
        );
        Ok(ExitCode::SUCCESS)
    }
    .await;
    store.close().await;
    outcome
}

async fn history(data: &Path, arguments: &HistoryArguments) -> anyhow::Result<ExitCode> {
    let jurisdiction = JurisdictionId::parse(&arguments.jurisdiction)?;
    let number = arguments.registration_number.trim();
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = async {
        let signed_in = sign_in::sign_in(data, &store, &arguments.staff).await?;
        signed_in.authorize(store.as_ref(), Operation::SearchVoters, &jurisdiction).await?;
        let changes = voter_status::history(store.as_ref(), &jurisdiction, number).await?;
        if arguments.json {
            let rows: Vec<serde_json::Value> = changes
                .iter()
                .map(|change| {
                    serde_json::json!({
                        "effective_on": change.effective_on.to_string(),
                        "from": change.from.as_str(),
                        "to": change.to.as_str(),
                        "reason": change.reason.as_str(),
                        "notice_sent": change.confirmation_notice_sent.map(|date| date.to_string()),
                        "last_contact": change.last_contact.map(|date| date.to_string()),
                        "actor": change.actor,
                        "recorded_at": change.recorded_at,
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&rows)?);
            return Ok(ExitCode::SUCCESS);
        }
        if changes.is_empty() {
            println!("No status change recorded for {number}.");
        }
        for change in &changes {
            let evidence = [
                change.confirmation_notice_sent.map(|date| format!("notice sent {date}")),
                change.last_contact.map(|date| format!("last contact {date}")),
            ];
            let evidence: Vec<String> = evidence.into_iter().flatten().collect();
            println!(
                "{}  {} -> {}  {}  by {}{}",
                change.effective_on,
                change.from.as_str(),
                change.to.as_str(),
                change.reason.as_str(),
                change.actor,
                if evidence.is_empty() { String::new() } else { format!("  ({})", evidence.join(", ")) }
            );
        }
        Ok(ExitCode::SUCCESS)
    }
    .await;
    store.close().await;
    outcome
}

/// The search the flags describe, or why they describe none: the server's parser (the one the
/// admin API and pages use), its field names turned into these flags.
fn search_query(arguments: &SearchArguments) -> anyhow::Result<SearchQuery> {
    let fields = SearchFields {
        last_name: arguments.last_name.as_deref(),
        first_name: arguments.first_name.as_deref(),
        birth_date: arguments.birth_date.as_deref(),
        county: arguments.county.as_deref(),
        registration_number: arguments.registration_number.as_deref(),
        drivers_license: arguments.drivers_license.as_deref(),
        ssn4: arguments.ssn4.as_deref(),
    };
    SearchQuery::from_fields(fields).map_err(|error| anyhow::anyhow!(as_flags(&error.to_string())))
}

/// "birth_date: is not a date" -> "--birth-date is not a date".
fn as_flags(message: &str) -> String {
    match message.split_once(": ") {
        Some((field, rest))
            if !field.is_empty() && field.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') =>
        {
            format!("--{} {rest}", field.replace('_', "-"))
        }
        _ => message.to_owned(),
    }
}

async fn search(data: &Path, arguments: &SearchArguments) -> anyhow::Result<ExitCode> {
    let jurisdiction = JurisdictionId::parse(&arguments.jurisdiction)?;
    let query = search_query(arguments)?;
    let reason = arguments.reason.as_deref().map(str::trim).filter(|text| !text.is_empty());
    if arguments.confidential && reason.is_none() {
        bail!("--confidential needs --reason TEXT: why you open confidential fields is kept in the ledger");
    }
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = async {
        let signed_in = sign_in::sign_in(data, &store, &arguments.staff).await?;
        signed_in.authorize(store.as_ref(), Operation::SearchVoters, &jurisdiction).await?;
        if arguments.confidential {
            signed_in.authorize(store.as_ref(), Operation::ReadVoters, &jurisdiction).await?;
        }
        let ring = unseal_here(store.as_ref(), &signed_in.audit, &jurisdiction, &arguments.unlock).await?;
        let found = roll_search::search(store.as_ref(), &ring, &query).await?;
        if arguments.confidential && !found.is_empty() {
            let numbers = found.iter().map(|voter| voter.registration_number.as_str());
            canvass_server::voters::record_reads(&signed_in.audit, &jurisdiction, reason, numbers).await?;
        }
        let policy = FieldPolicy::north_carolina();
        let records = found
            .iter()
            .map(|sealed| roll::open_row(&ring, sealed, &policy, arguments.confidential))
            .collect::<Result<Vec<_>, _>>()?;
        print_records(&records, arguments.json)?;
        Ok(ExitCode::SUCCESS)
    }
    .await;
    store.close().await;
    outcome
}

fn print_records(records: &[roll::RollRecord], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(records)?);
        return Ok(());
    }
    if records.is_empty() {
        println!("No voter matches.");
        return Ok(());
    }
    for record in records {
        println!(
            "{}  {}, {}  {}",
            record.registration_number,
            record.last_name,
            record.first_name,
            record.status.as_str()
        );
        println!(
            "  county {}  precinct {}  party {}  registered {}",
            record.county, record.precinct, record.party, record.registered_on
        );
        let street = record.detail("res_street_address");
        if !street.is_empty() {
            println!("  {street}, {} {}", record.detail("res_city_desc"), record.detail("zip_code"));
        } else if record.address_confidential {
            println!("  address confidential (address confidentiality program)");
        }
        for (label, value) in [
            ("birth date", &record.birth_date),
            ("SSN last four", &record.ssn_last_four),
            ("driver's licence", &record.drivers_license),
            ("email", &record.email),
        ] {
            if let Some(value) = value {
                println!("  {label}: {value}");
            }
        }
    }
    println!("{} voter(s).", records.len());
    Ok(())
}

/// A progress bar over the file's bytes, with rows per second and what became of them.
struct Bar {
    bar: ProgressBar,
    started: Instant,
    /// Rows the import had counted when this run began (a resumed import's earlier ones).
    first_rows: u64,
}

impl ImportProgress for Bar {
    fn started(&mut self, file_bytes: u64, position: u64, counts: &ImportCounts) {
        self.first_rows = counts.rows();
        self.bar.set_length(file_bytes);
        self.bar.set_position(position);
        self.bar.reset_eta();
    }

    fn advanced(&mut self, position: u64, counts: &ImportCounts) {
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        let rate = counts.rows().saturating_sub(self.first_rows) as f64 / seconds;
        self.bar.set_position(position);
        self.bar.set_message(format!(
            "{} rows ({rate:.0} rows/s): {} new, {} changed, {} unchanged, {} rejected",
            counts.rows(),
            counts.inserted,
            counts.updated,
            counts.unchanged,
            counts.rejected
        ));
    }
}

fn report_path(arguments: &ImportArguments) -> PathBuf {
    arguments.report.clone().unwrap_or_else(|| {
        let mut name = arguments.file.clone().into_os_string();
        name.push(".rejected.tsv");
        PathBuf::from(name)
    })
}

async fn import(data: &Path, arguments: &ImportArguments) -> anyhow::Result<ExitCode> {
    if let Some(encoding) = arguments.format.vri_encoding() {
        return crate::vri::import(data, arguments, encoding).await;
    }
    if arguments.precinct.is_some() {
        bail!("--precinct applies to VRI requests (vri-xml, vri-json): a voter file names each row's precinct");
    }
    let jurisdiction = JurisdictionId::parse(&arguments.jurisdiction)?;
    if !arguments.file.is_file() {
        bail!("{} is not a file", arguments.file.display());
    }
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = async {
        let signed_in = sign_in::sign_in(data, &store, &arguments.staff).await?;
        signed_in.authorize(store.as_ref(), Operation::WriteVoters, &jurisdiction).await?;
        let ring = match arguments.format {
            ImportFormat::Ncvoter => {
                Some(unseal_here(store.as_ref(), &signed_in.audit, &jurisdiction, &arguments.unlock).await?)
            }
            // History rows are public record: no ring to open. VRI requests returned above.
            ImportFormat::Ncvhis | ImportFormat::VriXml | ImportFormat::VriJson => None,
        };
        let report_path = report_path(arguments);
        let report_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&report_path)
            .with_context(|| format!("cannot open the report {}", report_path.display()))?;
        let empty = report_file.metadata().map(|metadata| metadata.len() == 0).unwrap_or(true);
        let mut report = BufWriter::new(report_file);
        if empty {
            writeln!(report, "{REPORT_HEADER}")?;
        }
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {percent:>3}% {msg}, eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let mut progress = Bar { bar, started: Instant::now(), first_rows: 0 };
        let settings = ImportSettings {
            jurisdiction: jurisdiction.clone(),
            add_places: arguments.add_places,
            batch_rows: arguments.batch_rows,
            actor: signed_in.username.to_string(),
        };
        let started = Instant::now();
        let summary = match &ring {
            Some(ring) => {
                roll_import::import_ncvoter(
                    &store,
                    &signed_in.audit,
                    ring,
                    &arguments.file,
                    &settings,
                    &mut report,
                    &mut progress,
                )
                .await
            }
            None => {
                canvass_server::vote_history::import_ncvhis(
                    &store,
                    &signed_in.audit,
                    &arguments.file,
                    &settings,
                    &mut report,
                    &mut progress,
                )
                .await
            }
        };
        report.flush()?;
        progress.bar.finish_and_clear();
        let summary = summary?;
        let seconds = started.elapsed().as_secs_f64();
        let counts = summary.import.counts;
        if let Some(line) = summary.resumed_after_line {
            println!("Resumed import {} after line {line}.", summary.import.id);
        }
        let read = counts.rows().saturating_sub(summary.counts_before.rows());
        println!(
            "Imported {} into {jurisdiction} as {} in {seconds:.1} s ({:.0} rows/s): {} new, {} changed, {} unchanged, {} rejected{}.",
            arguments.file.display(),
            summary.import.id,
            read as f64 / seconds.max(0.001),
            counts.inserted,
            counts.updated,
            counts.unchanged,
            counts.rejected,
            if counts.rejected > 0 { format!(" (see {})", report_path.display()) } else { String::new() }
        );
        if summary.added_counties + summary.added_precincts > 0 {
            println!("Added {} counties and {} precincts the file named.", summary.added_counties, summary.added_precincts);
        }
        Ok(ExitCode::SUCCESS)
    }
    .await;
    store.close().await;
    outcome
}

async fn export_public(data: &Path, arguments: &ExportPublicArguments) -> anyhow::Result<ExitCode> {
    let jurisdiction = JurisdictionId::parse(&arguments.jurisdiction)?;
    let output: Box<dyn Write> = match &arguments.out {
        Some(path) => Box::new(
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut output = BufWriter::with_capacity(1 << 20, output);
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = async {
        let signed_in = sign_in::sign_in(data, &store, &arguments.staff).await?;
        signed_in.authorize(store.as_ref(), Operation::ExportPublicVoters, &jurisdiction).await?;
        let ring = unseal_here(store.as_ref(), &signed_in.audit, &jurisdiction, &arguments.unlock).await?;
        let entry = signed_in.audit.entry(Action::VoterExportPublic).with_jurisdiction(&jurisdiction);
        let entry = target(entry, "format:ncvoter-public")?;
        signed_in.audit.record(&entry).await?;
        writeln!(output, "{}", PUBLIC_COLUMNS.join("\t"))?;
        let (mut written, mut suppressed) = (0u64, 0u64);
        let mut after: Option<String> = None;
        loop {
            let page = store.voters_after(&jurisdiction, after.as_deref(), 2_000).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.registration_number.clone());
            for sealed in &page {
                match roll::public_extract_values(&ring, sealed)? {
                    Some(values) => {
                        writeln!(output, "{}", values.join("\t"))?;
                        written += 1;
                    }
                    None => suppressed += 1,
                }
            }
        }
        output.flush()?;
        eprintln!(
            "Wrote {written} voters of {jurisdiction} (public-record columns only); left out {suppressed} in the address confidentiality program."
        );
        Ok(ExitCode::SUCCESS)
    }
    .await;
    store.close().await;
    outcome
}

fn generate(arguments: &GenerateArguments) -> anyhow::Result<ExitCode> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&arguments.out)
        .with_context(|| format!("cannot create {} (it must not exist yet)", arguments.out.display()))?;
    let mut output = BufWriter::with_capacity(1 << 20, file);
    if arguments.history {
        canvass_formats::ncvhis::generate(arguments.seed, arguments.rows, &mut output)
            .with_context(|| format!("writing {}", arguments.out.display()))?;
        eprintln!("Wrote {} synthetic voter history rows to {}.", arguments.rows, arguments.out.display());
        return Ok(ExitCode::SUCCESS);
    }
    canvass_formats::ncvoter::generate(arguments.seed, arguments.rows, arguments.confidential, &mut output)
        .with_context(|| format!("writing {}", arguments.out.display()))?;
    eprintln!(
        "Wrote {} synthetic voters{} to {}.",
        arguments.rows,
        if arguments.confidential { " with the confidential columns" } else { "" },
        arguments.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
