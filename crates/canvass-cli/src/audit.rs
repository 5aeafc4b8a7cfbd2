//! `canvass audit`: verify any Canvass log from outside (URL or directory), search this node's
//! ledger, export it as NIST SP 1500-101, publish it as static files.

use std::{
    io::{BufWriter, IsTerminal, Write},
    path::{Path, PathBuf},
    process::ExitCode,
    time::Duration,
};

use anyhow::Context;
use canvass_core::audit::AuditEntry;
use canvass_formats::{EventLogFormat, EventLogSource, EventLogWriter};
use canvass_ledger::{LedgerError, LogVerifier, TrustedState, VerifierKey, VerifyReport};
use canvass_server::{audit_log, ledger};
use clap::{Args, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};

use crate::{
    data_dir,
    log_source::{LogSource, read_state, trusted_log_key, write_state},
};

/// Exit status when the log contradicts itself or an earlier checkpoint (tampering, fork,
/// truncation), as opposed to 1 for anything else that went wrong.
pub const DISCREPANCY_EXIT: u8 = 2;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check a Canvass audit log independently: signatures, every entry, and (with --state)
    /// that it only grew since the last check.
    Verify(VerifyArguments),
    /// Search this node's ledger by actor, record, action, outcome and time.
    Search(SearchArguments),
    /// Export this node's ledger as a NIST SP 1500-101 election event log.
    Export(ExportArguments),
    /// Write this node's log as static tlog-tiles files any web server can serve.
    Publish {
        /// The directory to write (created if missing; files are replaced).
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct VerifyArguments {
    /// The log: a node's `http(s)://HOST/log` or a directory from `canvass audit publish`.
    #[arg(long, value_name = "URL|DIR")]
    pub log: String,
    /// Remembers the last verified checkpoint here; later runs prove the log only grew.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// The log's public key (`name+id+base64`, shown on its /audit page). Without it the key
    /// is taken from the state file, else from the log itself on first use.
    #[arg(long, value_name = "KEY", env = "CANVASS_LOG_KEY")]
    pub log_key: Option<String>,
    /// A witness's cosignature key; the report says which witnesses cosigned (repeatable).
    #[arg(long = "witness-key", value_name = "KEY")]
    pub witness_keys: Vec<String>,
    /// Keep checking every --interval seconds until a discrepancy is found or interrupted.
    #[arg(long)]
    pub watch: bool,
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub interval: u64,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SearchArguments {
    /// `user:NAME`, `token:ID`, `operator`, `system` or `anonymous`.
    #[arg(long)]
    pub actor: Option<String>,
    /// An action code, e.g. `keys.unseal` (see `canvass audit search --help`).
    #[arg(long)]
    pub action: Option<String>,
    /// A record id, e.g. `precinct:zz-alder-001`.
    #[arg(long)]
    pub record: Option<String>,
    #[arg(long)]
    pub jurisdiction: Option<String>,
    /// allowed, denied or failed.
    #[arg(long)]
    pub outcome: Option<String>,
    /// From this date (YYYY-MM-DD) or RFC 3339 time.
    #[arg(long)]
    pub since: Option<String>,
    /// Before this date or time.
    #[arg(long)]
    pub until: Option<String>,
    /// Only entries older than this index (paging).
    #[arg(long)]
    pub before: Option<u64>,
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    NistXml,
    NistJson,
}

#[derive(Debug, Args)]
pub struct ExportArguments {
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub async fn run(data: &Path, command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify(arguments) => {
            match tokio::task::spawn_blocking(move || verify_command(&arguments)).await.context("verifier task")? {
                Ok(code) if code == ExitCode::from(DISCREPANCY_EXIT) => {
                    record_discrepancy(data).await;
                    Ok(code)
                }
                Ok(code) => Ok(code),
                // Exit 2 means the log contradicts itself; anything else that stops the check
                // (no log key, an unreadable state file, a malformed key) is the ordinary failure, 1.
                Err(error) => {
                    eprintln!("audit verify: FAILED: {error:#}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        AuditCommand::Search(arguments) => search(data, arguments).await,
        AuditCommand::Export(arguments) => export(data, arguments).await,
        AuditCommand::Publish { to } => {
            let (config, store) = data_dir::open_existing(data).await?;
            let key = std::sync::Arc::new(data_dir::load_signing_key(data)?);
            let identity = ledger::LogIdentity::new(config.ledger.origin.as_deref(), &key, &config.ledger.witnesses)?;
            let public_key = identity.verifier_key.to_string();
            // A damaged ledger still publishes what was signed, so `audit verify` can name the
            // altered entry; only the new entries are left out.
            if let Err(error) = ledger::Ledger::integrate_once(store.clone(), key, identity).await {
                let detail = crate::operator_message(&anyhow::Error::from(error));
                eprintln!(
                    "warning: could not sign the newest entries ({detail}); publishing the last signed checkpoint"
                );
            }
            let written = audit_log::publish(store.as_ref(), &to).await;
            store.close().await;
            let size = written?;
            std::fs::write(to.join("key"), format!("{public_key}\n")).context("cannot write the log key")?;
            println!("Wrote the signed log of {size} entries to {}", to.display());
            println!("Serve that directory as /log/ on any web server; `canvass audit verify --log DIR` checks it.");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// What `--state` holds: the pinned log key and the last verified checkpoint.
#[derive(Debug, Serialize, Deserialize)]
struct StateFile {
    log_key: String,
    trusted: TrustedState,
}

fn verify_command(arguments: &VerifyArguments) -> anyhow::Result<ExitCode> {
    let mut source = LogSource::open(&arguments.log);
    loop {
        match verify_round(arguments, &mut source) {
            Ok(Some(code)) => return Ok(code),
            Ok(None) => {}
            // A monitor keeps going through an unreachable log or a passing error; only a
            // discrepancy ends it.
            Err(error) if arguments.watch => eprintln!("audit verify: could not check the log this time: {error:#}"),
            Err(error) => return Err(error),
        }
        if !arguments.watch {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_secs(arguments.interval.max(1)));
    }
}

/// One check. `Some(code)` ends the command (a discrepancy, or any failure without --watch).
fn verify_round(arguments: &VerifyArguments, source: &mut LogSource) -> anyhow::Result<Option<ExitCode>> {
    let state: Option<StateFile> =
        arguments.state.as_deref().map(|path| read_state(path, "a verifier state file")).transpose()?.flatten();
    let pinned = state.as_ref().map(|state| state.log_key.as_str());
    let key = trusted_log_key(arguments.log_key.as_deref(), pinned, source)?;
    let witnesses = arguments
        .witness_keys
        .iter()
        .map(|text| VerifierKey::parse(text))
        .collect::<Result<Vec<_>, _>>()
        .context("--witness-key")?;
    let verifier = LogVerifier { log_key: key.clone(), witnesses };
    let previous = state.as_ref().map(|state| &state.trusted);
    let unchanged = match (previous, verifier.checkpoint(source)) {
        (Some(previous), Ok((_, checkpoint))) => {
            checkpoint.size == previous.size && checkpoint.root.to_base64() == previous.root
        }
        _ => false,
    };
    if arguments.watch && unchanged {
        return Ok(None);
    }
    match verify_once(&verifier, source, previous, arguments.json) {
        Ok(report) => {
            if let Some(path) = &arguments.state {
                write_state(path, &StateFile { log_key: key.to_string(), trusted: report.state })?;
            }
            Ok(None)
        }
        Err(LedgerError::Discrepancy(found)) => {
            eprintln!("audit verify: FAILED: {found}");
            Ok(Some(ExitCode::from(DISCREPANCY_EXIT)))
        }
        Err(error) if arguments.watch => {
            eprintln!("audit verify: could not check the log this time: {error}");
            Ok(None)
        }
        Err(error) => {
            eprintln!("audit verify: FAILED: {error}");
            Ok(Some(ExitCode::FAILURE))
        }
    }
}

fn verify_once(
    verifier: &LogVerifier,
    source: &mut LogSource,
    previous: Option<&TrustedState>,
    json: bool,
) -> Result<VerifyReport, LedgerError> {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} entries {per_sec} eta {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut progress = |done: u64, total: u64| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    };
    let report = verifier.verify(source, previous, &mut progress);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = report?;
    let checkpoint = &report.checkpoint;
    if json {
        let value = serde_json::json!({
            "verified": true,
            "origin": checkpoint.origin,
            "size": checkpoint.size,
            "root": checkpoint.root.to_base64(),
            "cosigned_by": report.cosigned_by,
            "grew_from": previous.map(|previous| previous.size),
        });
        println!("{value}");
    } else {
        let growth = previous.map_or_else(String::new, |previous| {
            format!(", consistent with the {} entries seen before", previous.size)
        });
        println!(
            "Verified {} entries of {}: root {}, signed by {}{growth}.",
            checkpoint.size, checkpoint.origin, checkpoint.root, verifier.log_key.name
        );
        if !report.cosigned_by.is_empty() {
            println!("Cosigned by: {}", report.cosigned_by.join(", "));
        }
    }
    Ok(report)
}

async fn search(data: &Path, arguments: SearchArguments) -> anyhow::Result<ExitCode> {
    let query = canvass_server::api_audit::AuditQuery {
        actor: arguments.actor,
        action: arguments.action,
        record: arguments.record,
        jurisdiction: arguments.jurisdiction,
        outcome: arguments.outcome,
        since: arguments.since,
        until: arguments.until,
        before: arguments.before,
        limit: Some(arguments.limit),
    };
    let search = query.parse()?;
    let (_, store) = data_dir::open_existing(data).await?;
    let found = audit_log::search(store.as_ref(), &search).await;
    store.close().await;
    let found = found?;
    if arguments.json {
        let entries: Vec<_> = found
            .into_iter()
            .map(|(index, entry)| canvass_server::api_audit::AuditEntryBody::new(index, entry))
            .collect();
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(ExitCode::SUCCESS);
    }
    if found.is_empty() {
        println!("No entries match.");
    }
    for (index, entry) in &found {
        println!("{}", describe(*index, entry));
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per entry: index, time, actor, action, outcome, where, what.
fn describe(index: u64, entry: &AuditEntry) -> String {
    let time = entry.time.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let mut line = format!("{index:>8}  {time}  {:<18} {:<20} {}", entry.actor, entry.action, entry.outcome.as_str());
    if let Some(reason) = &entry.reason {
        line.push_str(&format!(" ({reason})"));
    }
    if let Some(jurisdiction) = &entry.jurisdiction {
        line.push_str(&format!("  {jurisdiction}"));
    }
    match entry.targets.len() {
        0 => {}
        1 => line.push_str(&format!("  {}", entry.targets[0])),
        count => line.push_str(&format!("  {} and {} more", entry.targets[0], count - 1)),
    }
    if let Some(justification) = &entry.justification {
        line.push_str(&format!("  \"{justification}\""));
    }
    line
}

async fn export(data: &Path, arguments: ExportArguments) -> anyhow::Result<ExitCode> {
    let (_, store) = data_dir::open_existing(data).await?;
    let result = write_export(data, store.as_ref(), &arguments).await;
    store.close().await;
    let count = result?;
    if let Some(out) = &arguments.out {
        eprintln!("Exported {count} ledger entries to {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

async fn write_export(
    data: &Path,
    store: &dyn canvass_store::Store,
    arguments: &ExportArguments,
) -> anyhow::Result<u64> {
    let config = data_dir::load_config(data)?;
    let key = data_dir::load_signing_key(data)?;
    let origin = config.ledger.origin.clone().unwrap_or_else(|| ledger::default_origin(&key));
    let source = EventLogSource::canvass_node(&origin, time::OffsetDateTime::now_utc());
    let format = match arguments.format {
        ExportFormat::NistXml => EventLogFormat::Xml,
        ExportFormat::NistJson => EventLogFormat::Json,
    };
    let output: Box<dyn Write> = match &arguments.out {
        Some(path) => {
            Box::new(std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut writer = EventLogWriter::start(format, &source, BufWriter::new(output))?;
    let mut next = 0;
    loop {
        let page = audit_log::entries_from(store, next, 10_000).await?;
        let Some((last, _)) = page.last() else { break };
        next = last + 1;
        for (index, entry) in &page {
            writer.event(*index, entry)?;
        }
    }
    let count = writer.events();
    writer.finish()?.flush()?;
    Ok(count)
}

/// A discrepancy found while `--data` names this node's data dir (an office checking its own
/// published log) opens a ledger incident there; an outside verifier without the data dir
/// just reports it. A detector failure is reported, never fatal.
async fn record_discrepancy(data: &Path) {
    if !data_dir::config_path(data).exists() {
        return;
    }
    let recorded = async {
        let (_, store) = data_dir::open_existing(data).await?;
        let audit = canvass_server::ledger::Audit::operator(store.clone());
        let register = canvass_server::incidents::Register::beside(store.as_ref(), &audit);
        let detected = canvass_server::incident_detectors::ledger_verification_failed(
            &register,
            "`canvass audit verify` found the published log inconsistent with its signed checkpoints.",
        )
        .await;
        store.close().await;
        detected.map_err(anyhow::Error::from)
    }
    .await;
    match recorded {
        Ok(()) => println!("An incident was opened on this node for the failed verification."),
        Err(error) => eprintln!("warning: could not open an incident for this failure: {error:#}"),
    }
}
