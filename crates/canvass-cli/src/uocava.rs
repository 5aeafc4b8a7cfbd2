//! `canvass uocava`: overseas and military voters. `send` sends the blank ballot to every
//! request due (links through the outbox, or recorded as mailed), `deadlines` is the daily
//! 45-day check, `fwab` records a Federal Write-In Absentee Ballot received. The work is the
//! server crate's `uocava` module; this parses flags and prints.

use std::{path::Path, process::ExitCode};

use canvass_core::{
    access::Operation,
    audit::now,
    id::{ElectionId, JurisdictionId},
};
use canvass_server::{
    keys::KeyRings,
    uocava::{self, DEFAULT_LINK_DAYS, SendSettings},
};
use clap::{Args, Subcommand};

use crate::{
    data_dir,
    keys::{Unlock, unseal_here},
    sign_in::{self, StaffSignIn},
};

#[derive(Debug, Subcommand)]
pub enum UocavaCommand {
    /// Send the blank ballot to every UOCAVA request of the election's year not yet served
    /// (or to one voter): email and online requests get a one-time download link through the
    /// outbox (the link is stored only as its hash), mail requests are recorded as mailed.
    /// Needs `ballots.record`; each send is in the ledger.
    Send(SendArguments),
    /// The daily check: every request whose ballot was not sent by the 45-day deadline
    /// (election day minus 45 days), with the days left or overdue. Exits 1 when any is
    /// listed, so a scheduler can alert. Needs `ballots.read`.
    Deadlines(DeadlineArguments),
    /// Record a Federal Write-In Absentee Ballot received for a voter. Needs
    /// `ballots.record`; in the ledger.
    Fwab(FwabArguments),
    /// FPCAs from the public form that matched a voter already on the roll, held until a
    /// clerk confirms or rejects them (`list`, `show`, `confirm`, `reject`). Needs
    /// `voters.write` and `ballots.record`.
    #[command(subcommand)]
    Pending(crate::uocava_pending::PendingCommand),
}

#[derive(Debug, Args)]
pub struct SendArguments {
    /// The election's id.
    #[arg(long, value_name = "ID")]
    pub election: String,
    /// Only this voter (registration number).
    #[arg(long, value_name = "NCID")]
    pub voter: Option<String>,
    /// The address voters reach the public listener at, for the links (default: the
    /// configured public listener).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// How many days a link works.
    #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_LINK_DAYS)]
    pub link_days: i64,
    /// The jurisdiction whose key ring seals the link messages until the outbox sends them
    /// (the voters' roll; default: the election's jurisdiction). Needed when any email or
    /// online voter is due: unseal it with --passphrase-file, CANVASS_KEY_PASSPHRASE or
    /// --share-file.
    #[arg(long, value_name = "ID")]
    pub roll: Option<String>,
    #[command(flatten)]
    pub unlock: Unlock,
    #[command(flatten)]
    pub staff: StaffSignIn,
}

#[derive(Debug, Args)]
pub struct DeadlineArguments {
    /// The election's id.
    #[arg(long, value_name = "ID")]
    pub election: String,
    /// List every request, sent in time or not.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub staff: StaffSignIn,
}

#[derive(Debug, Args)]
pub struct FwabArguments {
    /// The jurisdiction whose roll holds the voter.
    #[arg(long, value_name = "ID")]
    pub jurisdiction: String,
    #[arg(long, value_name = "NCID")]
    pub registration_number: String,
    /// The election's id.
    #[arg(long, value_name = "ID")]
    pub election: String,
    /// The day it arrived (YYYY-MM-DD; today if not given).
    #[arg(long, value_name = "DATE")]
    pub on: Option<String>,
    #[command(flatten)]
    pub staff: StaffSignIn,
}

pub async fn run(data: &Path, command: UocavaCommand) -> anyhow::Result<ExitCode> {
    match command {
        UocavaCommand::Send(arguments) => send(data, &arguments).await,
        UocavaCommand::Deadlines(arguments) => deadlines(data, &arguments).await,
        UocavaCommand::Fwab(arguments) => fwab(data, &arguments).await,
        UocavaCommand::Pending(command) => crate::uocava_pending::run(data, command).await,
    }
}

fn election_id(text: &str) -> anyhow::Result<ElectionId> {
    ElectionId::parse(text.trim()).map_err(|error| anyhow::anyhow!("--election: {error}"))
}

/// The election's jurisdiction, the scope staff are checked against.
async fn election_jurisdiction(
    store: &dyn canvass_store::Store,
    election: &ElectionId,
) -> anyhow::Result<JurisdictionId> {
    match store.election(election).await? {
        Some(found) => Ok(found.jurisdiction),
        None => anyhow::bail!("--election: election {election} does not exist"),
    }
}

async fn send(data: &Path, arguments: &SendArguments) -> anyhow::Result<ExitCode> {
    let election = election_id(&arguments.election)?;
    let (config, store) = data_dir::open_existing(data).await?;
    let outcome = async {
        let signed_in = sign_in::sign_in(data, &store, &arguments.staff).await?;
        let jurisdiction = election_jurisdiction(store.as_ref(), &election).await?;
        signed_in.authorize(store.as_ref(), Operation::RecordBallots, &jurisdiction).await?;
        let settings = SendSettings {
            public_url: arguments.public_url.clone().unwrap_or_else(|| uocava::default_public_url(&config)),
            link_days: arguments.link_days,
        };
        let rings = KeyRings::default();
        if arguments.unlock.is_given() {
            let roll = match arguments.roll.as_deref() {
                Some(text) => JurisdictionId::parse(text.trim()).map_err(|error| anyhow::anyhow!("--roll: {error}"))?,
                None => jurisdiction.clone(),
            };
            let ring = unseal_here(store.as_ref(), &signed_in.audit, &roll, &arguments.unlock).await?;
            rings.insert(roll, ring)?;
        }
        let voter = arguments.voter.as_deref().map(str::trim);
        let sent = uocava::send_due(store.as_ref(), &signed_in.audit, &rings, &election, voter, &settings).await?;
        for ballot in &sent {
            let how = if ballot.link.is_some() { "link queued in the outbox" } else { "recorded as mailed" };
            println!("{}: {} ballot, {how} ({}).", ballot.registration_number, ballot.style, ballot.delivery.as_str());
        }
        println!("{} ballot(s) sent for {election}.", sent.len());
        Ok(ExitCode::SUCCESS)
    }
    .await;
    store.close().await;
    outcome
}

async fn deadlines(data: &Path, arguments: &DeadlineArguments) -> anyhow::Result<ExitCode> {
    let election = election_id(&arguments.election)?;
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = async {
        let signed_in = sign_in::sign_in(data, &store, &arguments.staff).await?;
        let jurisdiction = election_jurisdiction(store.as_ref(), &election).await?;
        signed_in.authorize(store.as_ref(), Operation::ReadBallots, &jurisdiction).await?;
        let report = uocava::deadline_report(store.as_ref(), &election, now().date()).await?;
        println!(
            "{} ({}): UOCAVA ballots must be sent by {}; {} request(s).",
            report.election.id,
            report.election.date,
            report.deadline,
            report.rows.len()
        );
        let mut listed = 0;
        for row in report.rows.iter().filter(|row| arguments.all || row.standing.needs_action()) {
            println!(
                "{}\t{}\t{}\trequested {}\t{}\t{}",
                row.registration_number,
                row.classification.as_str(),
                row.delivery.as_str(),
                row.requested_on,
                row.standing.describe(),
                row.tracking
            );
            listed += usize::from(row.standing.needs_action());
        }
        if listed == 0 {
            println!("Every request's ballot was sent by the deadline.");
            Ok(ExitCode::SUCCESS)
        } else {
            println!("{listed} request(s) not served by the deadline.");
            Ok(ExitCode::from(1))
        }
    }
    .await;
    store.close().await;
    outcome
}

async fn fwab(data: &Path, arguments: &FwabArguments) -> anyhow::Result<ExitCode> {
    let jurisdiction = JurisdictionId::parse(arguments.jurisdiction.trim())?;
    let election = election_id(&arguments.election)?;
    let on = arguments
        .on
        .as_deref()
        .map(|text| {
            canvass_formats::ncvoter::parse_date(text.trim()).map_err(|reason| anyhow::anyhow!("--on {reason}"))
        })
        .transpose()?;
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = async {
        let signed_in = sign_in::sign_in(data, &store, &arguments.staff).await?;
        signed_in.authorize(store.as_ref(), Operation::RecordBallots, &jurisdiction).await?;
        let number = arguments.registration_number.trim();
        let fwab = uocava::record_fwab(store.as_ref(), &signed_in.audit, &jurisdiction, number, &election, on).await?;
        println!(
            "{}: FWAB for {} recorded as received on {}.",
            fwab.registration_number, fwab.election, fwab.received_on
        );
        Ok(ExitCode::SUCCESS)
    }
    .await;
    store.close().await;
    outcome
}
