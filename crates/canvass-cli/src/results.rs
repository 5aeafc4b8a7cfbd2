//! `canvass results`: election-night results. `import` sends a county's results file through
//! the server crate's intake (checked whole, refused with every problem, or stored as one
//! change); `certify` carries out an approved two-person certification request; `show` prints
//! precincts reporting per county, the statewide totals and the change history.

use std::{path::Path, path::PathBuf, process::ExitCode};

use anyhow::{Context, bail};
use canvass_core::{
    access::RequestKind,
    id::ElectionId,
    results::{ChangeKind, ElectionResults, tally},
};
use canvass_server::results_intake::{self, MAX_UPLOAD_BYTES, ResultsFormat, ResultsOutcome, ResultsUpload};
use clap::{Args, Subcommand, ValueEnum};

use crate::{
    data_dir, results_publish,
    sign_in::{self, StaffSignIn},
};

#[derive(Debug, Subcommand)]
pub enum ResultsCommand {
    /// Import a county's precinct results for an election. The file is matched to the
    /// election's definition by names (county, precinct, contest, candidate) and checked whole:
    /// any problem refuses it, each listed with its line or element, and nothing is written.
    /// Numbers equal to those on file are accepted as no change. Needs `results.upload` on
    /// every county the file names; recorded in the ledger.
    Import(ImportArguments),
    /// Certify an election's results: a two-person operation. Make a certify_results request
    /// (admin pages, Approvals; or POST /api/elections/{election}/certify), have a second
    /// administrator approve it, then run this with --request ID.
    Certify(CertifyArguments),
    /// Print an election's results: precincts reporting per county, statewide totals per
    /// contest, and every accepted change.
    Show(ShowArguments),
    /// Write an election's published results as static files any web server can serve: every
    /// stored snapshot (they never change), the `current.json` pointer, the election's page,
    /// the archive of every election, `index.json` and `node_key.txt`; each file also as `.gz`
    /// and `.br`. Reads only the stored snapshots; needs no running node.
    Publish(results_publish::PublishArguments),
    /// Check a published results site: every snapshot's signature against the node key, every
    /// file's SHA-256, the pointer, and that every published total equals the sum of its
    /// precinct counts. Exit 0 when all hold; otherwise 1, with every failure listed.
    Verify(results_publish::VerifyArguments),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArgument {
    /// NIST SP 1500-100 v2 results, XML.
    NistXml,
    /// NIST SP 1500-100 v2 results, JSON.
    NistJson,
    /// OpenElections precinct CSV.
    Openelections,
    /// Clarity ENR detail XML.
    Clarity,
}

impl FormatArgument {
    fn format(self) -> ResultsFormat {
        match self {
            Self::NistXml => ResultsFormat::NistXml,
            Self::NistJson => ResultsFormat::NistJson,
            Self::Openelections => ResultsFormat::OpenElections,
            Self::Clarity => ResultsFormat::Clarity,
        }
    }
}

#[derive(Debug, Args)]
pub struct ImportArguments {
    #[arg(long, value_name = "ID")]
    pub election: String,
    #[arg(long, value_enum)]
    pub format: FormatArgument,
    /// Send the file as a correction of numbers already accepted, with this reason (shown in
    /// the public change history).
    #[arg(long, value_name = "REASON")]
    pub correction: Option<String>,
    /// The results file.
    pub file: PathBuf,
    #[command(flatten)]
    pub staff: StaffSignIn,
}

#[derive(Debug, Args)]
pub struct CertifyArguments {
    #[arg(long, value_name = "ID")]
    pub election: String,
    /// The approved certify_results request to carry out.
    #[arg(long, value_name = "ID")]
    pub request: Option<String>,
    #[command(flatten)]
    pub staff: StaffSignIn,
}

#[derive(Debug, Args)]
pub struct ShowArguments {
    #[arg(long, value_name = "ID")]
    pub election: String,
}

pub async fn run(data: &Path, command: ResultsCommand) -> anyhow::Result<ExitCode> {
    match command {
        ResultsCommand::Import(arguments) => import(data, &arguments).await,
        ResultsCommand::Certify(arguments) => certify(data, &arguments).await,
        ResultsCommand::Show(arguments) => show(data, &arguments).await,
        ResultsCommand::Publish(arguments) => results_publish::publish(data, &arguments).await,
        ResultsCommand::Verify(arguments) => tokio::task::spawn_blocking(move || results_publish::verify(&arguments))
            .await
            .map_err(anyhow::Error::from)?,
    }
}

async fn import(data: &Path, arguments: &ImportArguments) -> anyhow::Result<ExitCode> {
    let election = ElectionId::parse(&arguments.election)?;
    let size =
        std::fs::metadata(&arguments.file).with_context(|| format!("cannot read {}", arguments.file.display()))?.len();
    if !arguments.file.is_file() || size > MAX_UPLOAD_BYTES as u64 {
        bail!("{} is not a file of at most {MAX_UPLOAD_BYTES} bytes", arguments.file.display());
    }
    let bytes = std::fs::read(&arguments.file).with_context(|| format!("cannot read {}", arguments.file.display()))?;
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = async {
        let signed_in = sign_in::sign_in(data, &store, &arguments.staff).await?;
        let upload = ResultsUpload {
            election: &election,
            format: arguments.format.format(),
            bytes: &bytes,
            correction: arguments.correction.clone(),
        };
        let outcome =
            results_intake::import_results(store.as_ref(), &signed_in.audit, &signed_in.grants, &upload).await?;
        match outcome {
            ResultsOutcome::Accepted { sequence, county, precincts, kind } => {
                let what = match kind {
                    ChangeKind::Correction { .. } => "Corrected",
                    _ => "Reported",
                };
                let county = county.map(|county| format!(" in {county}")).unwrap_or_default();
                println!("{what} {precincts} precincts{county} for {election} as change {sequence}.");
            }
            ResultsOutcome::Unchanged { precincts } => {
                println!("No change: the {precincts} precincts in the file already have these numbers on file.");
            }
        }
        Ok(ExitCode::SUCCESS)
    }
    .await;
    store.close().await;
    outcome
}

async fn certify(data: &Path, arguments: &CertifyArguments) -> anyhow::Result<ExitCode> {
    let election = ElectionId::parse(&arguments.election)?;
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = async {
        let Some(found) = store.election(&election).await? else {
            bail!("there is no election {election}");
        };
        let signed_in = sign_in::sign_in(data, &store, &arguments.staff).await?;
        signed_in
            .carry_out(store.as_ref(), arguments.request.as_deref(), RequestKind::CertifyResults, &found.jurisdiction)
            .await?;
        let sequence =
            results_intake::record_certification(store.as_ref(), &signed_in.audit, &found.jurisdiction, &election)
                .await?;
        println!("Certified the results of {election} as change {sequence}.");
        Ok(ExitCode::SUCCESS)
    }
    .await;
    store.close().await;
    outcome
}

async fn show(data: &Path, arguments: &ShowArguments) -> anyhow::Result<ExitCode> {
    let election = ElectionId::parse(&arguments.election)?;
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = results_intake::load_results(store.as_ref(), &election).await;
    store.close().await;
    print_results(&outcome?);
    Ok(ExitCode::SUCCESS)
}

fn print_results(results: &ElectionResults) {
    let definition = &results.definition;
    let sums = tally(results);
    println!(
        "{} ({}){}",
        definition.election.name,
        definition.election.date,
        if results.is_certified() { ", certified" } else { "" }
    );
    println!("Precincts reporting: {} of {}", sums.state.precincts_reporting, sums.state.precincts);
    for county in &definition.counties {
        let area = sums.counties.get(&county.id).cloned().unwrap_or_default();
        let state = if area.precincts_reporting == 0 { " (not reported)" } else { "" };
        println!("  {}: {} of {}{state}", county.name, area.precincts_reporting, area.precincts);
    }
    for contest in &definition.contests {
        let Some(counted) = sums.state.contests.get(&contest.id) else { continue };
        println!("{}", contest.name);
        for (choice, votes) in contest.choices.iter().zip(&counted.choices) {
            println!("  {}: {}", choice.name, votes.total);
        }
    }
    println!("Changes:");
    for change in &results.changes {
        let kind = match &change.kind {
            ChangeKind::Report => "report".to_owned(),
            ChangeKind::Correction { reason } => format!("correction ({reason})"),
            ChangeKind::Certification => "certification".to_owned(),
        };
        let county = change.county.as_ref().map(|county| format!(" {county}")).unwrap_or_default();
        println!("  {} {} {kind}{county}: {} precincts", change.sequence, change.at, change.precincts.len());
    }
}
