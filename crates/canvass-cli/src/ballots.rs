//! `canvass ballots`: a voter's absentee and provisional ballots. Each step (`absentee
//! request|send|return|accept|reject|cure|cancel`, `provisional cast|adjudicate`) is signed in
//! as a staff member, checked by the ballot rules and recorded in the ledger by the server
//! crate's `ballots::record`; `show` lists a voter's ballots with their history.

use std::{path::Path, process::ExitCode};

use canvass_core::{
    access::Operation,
    ballots::{ProvisionalReason, RejectionReason},
    id::JurisdictionId,
};
use canvass_server::ballots::{self, BallotRequest, BallotStep, BallotView};
use clap::{Args, Subcommand, ValueEnum};

use crate::{
    data_dir,
    sign_in::{self, StaffSignIn},
};

#[derive(Debug, Subcommand)]
pub enum BallotsCommand {
    /// Record a step of a voter's absentee (mail) ballot. Steps go in order: request, send,
    /// return, then accept or reject (with a reason); a rejected ballot may be cured (missing
    /// signature, signature mismatch or missing witness only, until the cure deadline) or
    /// cancelled. Needs `ballots.record`; recorded in the ledger.
    #[command(after_help = rejection_codes_help())]
    Absentee(AbsenteeArguments),
    /// Record a voter's provisional ballot: `cast`, then `adjudicate` once with a decision
    /// (counted, partially_counted, or not_counted with a reason). Needs `ballots.record`;
    /// recorded in the ledger.
    #[command(after_help = provisional_codes_help())]
    Provisional(ProvisionalArguments),
    /// Blank ballots as PDF, one per ballot style of an election: `--style S --out FILE` or
    /// `--all --out DIR`. The same bytes every run; `--sample` marks them as sample ballots.
    Pdf(crate::ballot_pdfs::PdfArguments),
    /// List a voter's ballots with their history and the line the voter sees on "Did my
    /// ballot count?". Needs `ballots.read`.
    Show(ShowArguments),
}

fn rejection_codes_help() -> String {
    let codes: Vec<&str> = RejectionReason::ALL.into_iter().map(RejectionReason::as_str).collect();
    format!("Rejection reasons (--reason with reject): {}", codes.join(", "))
}

fn provisional_codes_help() -> String {
    let codes: Vec<&str> = ProvisionalReason::ALL.into_iter().map(ProvisionalReason::as_str).collect();
    format!("Reasons a ballot is not counted (--reason with --decision not-counted): {}", codes.join(", "))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AbsenteeStep {
    Request,
    Send,
    Return,
    Accept,
    Reject,
    Cure,
    Cancel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProvisionalStep {
    Cast,
    Adjudicate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Decision {
    Counted,
    PartiallyCounted,
    NotCounted,
}

/// The voter, the election and the day: what every step names.
#[derive(Debug, Args)]
pub struct BallotTarget {
    /// The jurisdiction whose roll holds the voter.
    #[arg(long, value_name = "ID")]
    pub jurisdiction: String,
    #[arg(long, value_name = "NCID")]
    pub registration_number: String,
    /// The election's id.
    #[arg(long, value_name = "ID")]
    pub election: String,
    /// The day it happened (YYYY-MM-DD; today if not given; not in the future).
    #[arg(long, value_name = "DATE")]
    pub on: Option<String>,
}

#[derive(Debug, Args)]
pub struct AbsenteeArguments {
    #[arg(value_enum)]
    pub step: AbsenteeStep,
    #[command(flatten)]
    pub target: BallotTarget,
    /// With `reject`: the rejection reason code (listed below).
    #[arg(long, value_name = "CODE")]
    pub reason: Option<String>,
    #[command(flatten)]
    pub staff: StaffSignIn,
}

#[derive(Debug, Args)]
pub struct ProvisionalArguments {
    #[arg(value_enum)]
    pub step: ProvisionalStep,
    #[command(flatten)]
    pub target: BallotTarget,
    /// With `adjudicate`: the county board's decision.
    #[arg(long, value_enum)]
    pub decision: Option<Decision>,
    /// With `--decision not-counted`: the reason code (listed below).
    #[arg(long, value_name = "CODE")]
    pub reason: Option<String>,
    #[command(flatten)]
    pub staff: StaffSignIn,
}

#[derive(Debug, Args)]
pub struct ShowArguments {
    #[arg(long, value_name = "ID")]
    pub jurisdiction: String,
    #[arg(long, value_name = "NCID")]
    pub registration_number: String,
    /// Print JSON (the admin API's shape) instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub staff: StaffSignIn,
}

pub async fn run(data: &Path, command: BallotsCommand) -> anyhow::Result<ExitCode> {
    match command {
        BallotsCommand::Absentee(arguments) => {
            let step = match arguments.step {
                AbsenteeStep::Request => "request",
                AbsenteeStep::Send => "send",
                AbsenteeStep::Return => "return",
                AbsenteeStep::Accept => "accept",
                AbsenteeStep::Reject => "reject",
                AbsenteeStep::Cure => "cure",
                AbsenteeStep::Cancel => "cancel",
            };
            let step = BallotStep::parse(step, None, arguments.reason.as_deref()).map_err(flag_error)?;
            record(data, &arguments.target, step, &arguments.staff).await
        }
        BallotsCommand::Provisional(arguments) => {
            let step = match arguments.step {
                ProvisionalStep::Cast => "cast",
                ProvisionalStep::Adjudicate => "adjudicate",
            };
            let decision = arguments.decision.map(|decision| match decision {
                Decision::Counted => "counted",
                Decision::PartiallyCounted => "partially_counted",
                Decision::NotCounted => "not_counted",
            });
            let step = BallotStep::parse(step, decision, arguments.reason.as_deref()).map_err(flag_error)?;
            record(data, &arguments.target, step, &arguments.staff).await
        }
        BallotsCommand::Show(arguments) => show(data, &arguments).await,
        BallotsCommand::Pdf(arguments) => crate::ballot_pdfs::run(data, &arguments).await,
    }
}

/// The server names form fields (`reason: ...`); here they are flags.
fn flag_error(error: canvass_server::ServerError) -> anyhow::Error {
    let message = error.to_string();
    match message.split_once(": ") {
        Some((field @ ("reason" | "decision" | "on" | "election"), rest)) => anyhow::anyhow!("--{field}: {rest}"),
        _ => anyhow::anyhow!(message),
    }
}

async fn record(data: &Path, target: &BallotTarget, step: BallotStep, staff: &StaffSignIn) -> anyhow::Result<ExitCode> {
    let jurisdiction = JurisdictionId::parse(&target.jurisdiction)?;
    let on = target
        .on
        .as_deref()
        .map(|text| {
            canvass_formats::ncvoter::parse_date(text.trim()).map_err(|reason| anyhow::anyhow!("--on {reason}"))
        })
        .transpose()?;
    let election = canvass_core::id::ElectionId::parse(target.election.trim())
        .map_err(|error| anyhow::anyhow!("--election: {error}"))?;
    let request = BallotRequest {
        jurisdiction,
        registration_number: target.registration_number.trim().to_owned(),
        election,
        step,
        on,
    };
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = async {
        let signed_in = sign_in::sign_in(data, &store, staff).await?;
        signed_in.authorize(store.as_ref(), Operation::RecordBallots, &request.jurisdiction).await?;
        let ballot = ballots::record(store.as_ref(), &signed_in.audit, &request).await?;
        let deadline = ballot.cure_deadline.map(|date| format!("; cure deadline {date}")).unwrap_or_default();
        println!(
            "{}: {} ballot in {} is {} on {}{deadline}.",
            ballot.registration_number,
            ballot.kind().as_str(),
            ballot.election,
            ballot.status.as_str(),
            ballot.status_on
        );
        Ok(ExitCode::SUCCESS)
    }
    .await;
    store.close().await;
    outcome
}

async fn show(data: &Path, arguments: &ShowArguments) -> anyhow::Result<ExitCode> {
    let jurisdiction = JurisdictionId::parse(&arguments.jurisdiction)?;
    let number = arguments.registration_number.trim();
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = async {
        let signed_in = sign_in::sign_in(data, &store, &arguments.staff).await?;
        signed_in.authorize(store.as_ref(), Operation::ReadBallots, &jurisdiction).await?;
        let found = ballots::voter_ballots(store.as_ref(), &jurisdiction, number).await?;
        let views: Vec<BallotView> = found.iter().map(BallotView::from).collect();
        if arguments.json {
            println!("{}", serde_json::to_string_pretty(&views)?);
            return Ok(ExitCode::SUCCESS);
        }
        if views.is_empty() {
            println!("No absentee or provisional ballot recorded for {number}.");
        }
        for view in &views {
            let deadline =
                view.cure_deadline.as_ref().map(|date| format!(", cure deadline {date}")).unwrap_or_default();
            println!("{} ballot in {}: {} since {}{deadline}", view.kind, view.election, view.status, view.status_on);
            for change in &view.history {
                println!(
                    "  {}  {} -> {}  by {}",
                    change.on,
                    change.from.as_deref().unwrap_or("(new)"),
                    change.to,
                    change.actor
                );
            }
            if !view.public_line.is_empty() {
                println!("  The voter sees: {}", view.public_line);
            }
        }
        Ok(ExitCode::SUCCESS)
    }
    .await;
    store.close().await;
    outcome
}
