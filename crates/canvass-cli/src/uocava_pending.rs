//! `canvass uocava pending`: FPCAs from the public form that matched a voter already on the
//! roll, held for a clerk. `list` shows ids, voters and dates (no personal value, no ring);
//! `show` opens the values a request asks for (a `voter.read` entry); `confirm` applies it as an
//! FPCA is applied; `reject` records why, the voter unchanged. Each needs `voters.write` and
//! `ballots.record` on the jurisdiction, as importing an FPCA does. The work is the server
//! crate's `uocava_pending` module.

use std::{path::Path, process::ExitCode, sync::Arc};

use anyhow::bail;
use canvass_core::{access::Operation, id::JurisdictionId};
use canvass_server::uocava_pending;
use canvass_store::Store;
use clap::{Args, Subcommand};

use crate::{
    data_dir,
    keys::{Unlock, unseal_here},
    sign_in::{self, SignedIn, StaffSignIn},
};

#[derive(Debug, Subcommand)]
pub enum PendingCommand {
    /// List the held FPCAs of the jurisdiction (undecided only unless --all): id, voter,
    /// when received, decision. No personal value is shown and no key ring is opened.
    List(ListArguments),
    /// Show the values a held FPCA asks for (name, addresses, email, delivery). Opens the key
    /// ring; recorded as a read of the voter's record.
    Show(OneArguments),
    /// Confirm a held FPCA: it is applied as an FPCA is (the voter's record updated, the
    /// year's request and absentee ballots recorded). Opens the key ring.
    Confirm(OneArguments),
    /// Reject a held FPCA with a reason; the voter's record is unchanged.
    Reject(RejectArguments),
}

#[derive(Debug, Args)]
pub struct ListArguments {
    /// The jurisdiction whose roll the requests are for.
    #[arg(long, value_name = "ID")]
    pub jurisdiction: String,
    /// Decided requests too.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub staff: StaffSignIn,
}

#[derive(Debug, Args)]
pub struct OneArguments {
    /// The jurisdiction whose roll the request is for.
    #[arg(long, value_name = "ID")]
    pub jurisdiction: String,
    /// The held request's id (`fpca-...`, from `list`).
    #[arg(long, value_name = "ID")]
    pub id: String,
    #[command(flatten)]
    pub unlock: Unlock,
    #[command(flatten)]
    pub staff: StaffSignIn,
}

#[derive(Debug, Args)]
pub struct RejectArguments {
    /// The jurisdiction whose roll the request is for.
    #[arg(long, value_name = "ID")]
    pub jurisdiction: String,
    /// The held request's id (`fpca-...`, from `list`).
    #[arg(long, value_name = "ID")]
    pub id: String,
    /// Why it is rejected (one line, recorded with the decision).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    #[command(flatten)]
    pub staff: StaffSignIn,
}

pub async fn run(data: &Path, command: PendingCommand) -> anyhow::Result<ExitCode> {
    let jurisdiction = match &command {
        PendingCommand::List(arguments) => &arguments.jurisdiction,
        PendingCommand::Show(arguments) | PendingCommand::Confirm(arguments) => &arguments.jurisdiction,
        PendingCommand::Reject(arguments) => &arguments.jurisdiction,
    };
    let jurisdiction =
        JurisdictionId::parse(jurisdiction.trim()).map_err(|error| anyhow::anyhow!("--jurisdiction: {error}"))?;
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = async {
        match &command {
            PendingCommand::List(arguments) => {
                clerk(data, &store, &jurisdiction, &arguments.staff).await?;
                list(store.as_ref(), &jurisdiction, arguments.all).await
            }
            PendingCommand::Show(arguments) => {
                let signed_in = clerk(data, &store, &jurisdiction, &arguments.staff).await?;
                let pending = held_in(store.as_ref(), &jurisdiction, &arguments.id).await?;
                let ring = unseal_here(store.as_ref(), &signed_in.audit, &jurisdiction, &arguments.unlock).await?;
                let values = uocava_pending::open_pending(&signed_in.audit, &ring, &pending).await?;
                println!("Held FPCA {} for voter {}:", pending.id, pending.registration_number);
                for (label, value) in values {
                    println!("{label}: {value}");
                }
                Ok(ExitCode::SUCCESS)
            }
            PendingCommand::Confirm(arguments) => {
                let signed_in = clerk(data, &store, &jurisdiction, &arguments.staff).await?;
                let pending = held_in(store.as_ref(), &jurisdiction, &arguments.id).await?;
                let ring = unseal_here(store.as_ref(), &signed_in.audit, &jurisdiction, &arguments.unlock).await?;
                let receipt = uocava_pending::confirm(store.as_ref(), &signed_in.audit, &ring, &pending.id).await?;
                println!(
                    "{}: confirmed and applied to voter {} ({} UOCAVA voter, ballots for {} by {}; {} election(s) on file).",
                    pending.id,
                    receipt.registration_number,
                    receipt.classification.as_str(),
                    receipt.year,
                    receipt.delivery.as_str(),
                    receipt.ballots.len()
                );
                Ok(ExitCode::SUCCESS)
            }
            PendingCommand::Reject(arguments) => {
                let signed_in = clerk(data, &store, &jurisdiction, &arguments.staff).await?;
                let pending = held_in(store.as_ref(), &jurisdiction, &arguments.id).await?;
                uocava_pending::reject(store.as_ref(), &signed_in.audit, &pending.id, &arguments.reason).await?;
                println!("{}: rejected; voter {}'s record is unchanged.", pending.id, pending.registration_number);
                Ok(ExitCode::SUCCESS)
            }
        }
    }
    .await;
    store.close().await;
    outcome
}

async fn list(store: &dyn Store, jurisdiction: &JurisdictionId, all: bool) -> anyhow::Result<ExitCode> {
    let held = uocava_pending::list(store, !all, |of| of == jurisdiction).await?;
    for pending in &held {
        let decision = match &pending.decision {
            None => "waiting".to_owned(),
            Some(decision) if decision.confirmed => format!("confirmed by {}", decision.actor),
            Some(decision) => format!("rejected by {}: {}", decision.actor, decision.reason),
        };
        println!(
            "{}\tvoter {}\treceived {}\t{decision}",
            pending.id,
            pending.registration_number,
            canvass_server::uocava::day_of(pending.received_at)
        );
    }
    println!("{} held FPCA(s) in {jurisdiction}{}.", held.len(), if all { "" } else { " waiting for a decision" });
    Ok(ExitCode::SUCCESS)
}

/// Signs in and checks both operations a held FPCA's decision needs.
async fn clerk(
    data: &Path,
    store: &Arc<dyn Store>,
    jurisdiction: &JurisdictionId,
    staff: &StaffSignIn,
) -> anyhow::Result<SignedIn> {
    let signed_in = sign_in::sign_in(data, store, staff).await?;
    signed_in.authorize(store.as_ref(), Operation::WriteVoters, jurisdiction).await?;
    signed_in.authorize(store.as_ref(), Operation::RecordBallots, jurisdiction).await?;
    Ok(signed_in)
}

/// The held request, which must be for the jurisdiction the clerk was authorized on.
async fn held_in(
    store: &dyn Store,
    jurisdiction: &JurisdictionId,
    id: &str,
) -> anyhow::Result<canvass_store::StoredPendingFpca> {
    let pending = uocava_pending::find(store, id).await?;
    if pending.jurisdiction != *jurisdiction {
        bail!("--id: held FPCA {} is not for {jurisdiction}", pending.id);
    }
    Ok(pending)
}
