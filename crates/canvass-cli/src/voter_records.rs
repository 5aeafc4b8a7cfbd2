//! `canvass voters vote-history` and `canvass voters set-signature`: a voter's voting history
//! (public record, from an imported ncvhis file) and their signature image (sealed on the way
//! in, under the jurisdiction's key ring opened here). The rules live in the server crate.

use std::{path::Path, process::ExitCode};

use anyhow::Context;
use canvass_core::{access::Operation, id::JurisdictionId};
use canvass_server::{signatures, vote_history};
use clap::Args;

use crate::{
    data_dir,
    keys::{Unlock, unseal_here},
    sign_in::{self, StaffSignIn},
};

#[derive(Debug, Args)]
pub struct VoteHistoryArguments {
    /// The jurisdiction whose roll holds the voter.
    #[arg(long, value_name = "ID")]
    pub jurisdiction: String,
    #[arg(long, value_name = "NCID")]
    pub registration_number: String,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub staff: StaffSignIn,
}

#[derive(Debug, Args)]
pub struct SetSignatureArguments {
    /// The jurisdiction whose roll (and key ring) holds the voter.
    #[arg(long, value_name = "ID")]
    pub jurisdiction: String,
    #[arg(long, value_name = "NCID")]
    pub registration_number: String,
    /// The image: PNG or JPEG, at most 1 MiB.
    pub file: std::path::PathBuf,
    #[command(flatten)]
    pub staff: StaffSignIn,
    #[command(flatten)]
    pub unlock: Unlock,
}

pub async fn vote_history(data: &Path, arguments: &VoteHistoryArguments) -> anyhow::Result<ExitCode> {
    let jurisdiction = JurisdictionId::parse(&arguments.jurisdiction)?;
    let number = arguments.registration_number.trim();
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = async {
        let signed_in = sign_in::sign_in(data, &store, &arguments.staff).await?;
        signed_in.authorize(store.as_ref(), Operation::SearchVoters, &jurisdiction).await?;
        let votes = vote_history::history_of(store.as_ref(), &jurisdiction, number).await?;
        if arguments.json {
            println!("{}", serde_json::to_string_pretty(&votes)?);
            return Ok(ExitCode::SUCCESS);
        }
        if votes.is_empty() {
            println!("No vote recorded for {number}.");
        }
        for vote in &votes {
            println!(
                "{}  {}  {}{}{}",
                vote.election_date,
                if vote.election.is_empty() { "(unnamed election)" } else { vote.election.as_str() },
                vote.voting_method,
                vote.voted_party.as_deref().map(|party| format!("  party ballot {party}")).unwrap_or_default(),
                vote.precinct.as_deref().map(|precinct| format!("  precinct {precinct}")).unwrap_or_default(),
            );
        }
        Ok(ExitCode::SUCCESS)
    }
    .await;
    store.close().await;
    outcome
}

pub async fn set_signature(data: &Path, arguments: &SetSignatureArguments) -> anyhow::Result<ExitCode> {
    let jurisdiction = JurisdictionId::parse(&arguments.jurisdiction)?;
    let number = arguments.registration_number.trim();
    // Checked before reading: a huge file is refused without being loaded.
    let size =
        std::fs::metadata(&arguments.file).with_context(|| format!("cannot read {}", arguments.file.display()))?.len();
    if size > signatures::MAX_SIGNATURE_BYTES as u64 {
        anyhow::bail!(
            "{} is {size} bytes; a signature image may be at most {} bytes (1 MiB)",
            arguments.file.display(),
            signatures::MAX_SIGNATURE_BYTES
        );
    }
    let image = std::fs::read(&arguments.file).with_context(|| format!("cannot read {}", arguments.file.display()))?;
    signatures::media_type_of(&image).map_err(|error| anyhow::anyhow!("{}: {error}", arguments.file.display()))?;
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = async {
        let signed_in = sign_in::sign_in(data, &store, &arguments.staff).await?;
        signed_in.authorize(store.as_ref(), Operation::SetVoterSignature, &jurisdiction).await?;
        let ring = unseal_here(store.as_ref(), &signed_in.audit, &jurisdiction, &arguments.unlock).await?;
        let facts =
            signatures::set_signature(store.as_ref(), &signed_in.audit, &ring, &jurisdiction, number, &image).await?;
        println!("Stored the signature of {number} ({}, {} bytes), sealed.", facts.media_type, facts.size);
        Ok(ExitCode::SUCCESS)
    }
    .await;
    store.close().await;
    outcome
}
