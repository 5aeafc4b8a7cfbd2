//! `canvass voters duplicates`, `merge` and `dismiss-duplicate`: duplicate detection on the
//! roll of the jurisdiction whose key ring is unsealed here (its own records and those of its
//! counties on that roll). The rules live in `canvass_server::duplicates`; this is flags and
//! printing.

use std::{path::Path, process::ExitCode, sync::Arc};

use canvass_core::{access::Operation, id::JurisdictionId};
use canvass_server::duplicates::{self, DecisionRequest, Rings};
use clap::Args;

use crate::{
    data_dir,
    keys::{Unlock, unseal_here},
    sign_in::{self, StaffSignIn},
};

#[derive(Debug, Args)]
pub struct ListArguments {
    /// The jurisdiction whose roll (and key ring) to check, with every jurisdiction under it.
    #[arg(long, value_name = "ID")]
    pub jurisdiction: String,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub staff: StaffSignIn,
    #[command(flatten)]
    pub unlock: Unlock,
}

#[derive(Debug, Args)]
pub struct MergeArguments {
    #[arg(long, value_name = "ID")]
    pub jurisdiction: String,
    /// The registration number kept.
    #[arg(long, value_name = "NCID")]
    pub keep: String,
    /// The registration number removed (status `removed`, reason `duplicate_merged`).
    #[arg(long, value_name = "NCID")]
    pub remove: String,
    /// Why: kept with the decision (write no personal values).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// The day the removal takes effect (YYYY-MM-DD; today if not given; not in the future).
    /// The 90-day quiet period before a federal election is judged on this day.
    #[arg(long, value_name = "DATE")]
    pub effective: Option<String>,
    #[command(flatten)]
    pub staff: StaffSignIn,
    #[command(flatten)]
    pub unlock: Unlock,
}

#[derive(Debug, Args)]
pub struct DismissArguments {
    #[arg(long, value_name = "ID")]
    pub jurisdiction: String,
    #[arg(long, value_name = "NCID")]
    pub first: String,
    #[arg(long, value_name = "NCID")]
    pub second: String,
    /// Why they are different voters: kept with the decision (write no personal values).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    #[command(flatten)]
    pub staff: StaffSignIn,
    #[command(flatten)]
    pub unlock: Unlock,
}

/// Signs in, checks the operations, unseals the roll's ring and runs `action`; closes the store.
async fn with_roll<T>(
    data: &Path,
    jurisdiction: &JurisdictionId,
    staff: &StaffSignIn,
    unlock: &Unlock,
    operations: &[Operation],
    action: impl AsyncFnOnce(&dyn canvass_store::Store, &sign_in::SignedIn, &Rings) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let (_, store) = data_dir::open_existing(data).await?;
    let outcome = async {
        let signed_in = sign_in::sign_in(data, &store, staff).await?;
        for operation in operations {
            signed_in.authorize(store.as_ref(), *operation, jurisdiction).await?;
        }
        let ring = unseal_here(store.as_ref(), &signed_in.audit, jurisdiction, unlock).await?;
        let rings = Rings::one(Arc::new(ring))?;
        action(store.as_ref(), &signed_in, &rings).await
    }
    .await;
    store.close().await;
    outcome
}

pub async fn list(data: &Path, arguments: &ListArguments) -> anyhow::Result<ExitCode> {
    let jurisdiction = JurisdictionId::parse(&arguments.jurisdiction)?;
    let operations = [Operation::FindDuplicates];
    let pairs =
        with_roll(data, &jurisdiction, &arguments.staff, &arguments.unlock, &operations, async |store, _, rings| {
            let mut pairs = Vec::new();
            let mut after: Option<(String, String)> = None;
            loop {
                let cursor = after.as_ref().map(|(first, second)| (first.as_str(), second.as_str()));
                let page = duplicates::find(store, rings, &jurisdiction, cursor, duplicates::MAX_PAGE).await?;
                for pair in &page.pairs {
                    pairs.push(duplicates::open_pair(rings, pair, false)?);
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => return Ok(pairs),
                }
            }
        })
        .await?;
    if arguments.json {
        println!("{}", serde_json::to_string_pretty(&pairs)?);
        return Ok(ExitCode::SUCCESS);
    }
    for pair in &pairs {
        println!(
            "{} and {}  ({})",
            pair.first.registration_number,
            pair.second.registration_number,
            pair.rules.join(", ")
        );
        for record in [&pair.first, &pair.second] {
            println!(
                "  {}  {}, {}  {}  county {}  precinct {}",
                record.registration_number,
                record.last_name,
                record.first_name,
                record.status.as_str(),
                record.county,
                record.precinct
            );
        }
    }
    println!("{} candidate pair(s).", pairs.len());
    Ok(ExitCode::SUCCESS)
}

pub async fn merge(data: &Path, arguments: &MergeArguments) -> anyhow::Result<ExitCode> {
    let jurisdiction = JurisdictionId::parse(&arguments.jurisdiction)?;
    let mut request = DecisionRequest::parse(
        jurisdiction.clone(),
        ("--keep", &arguments.keep),
        ("--remove", &arguments.remove),
        &arguments.reason,
    )?;
    request.effective_on = arguments
        .effective
        .as_deref()
        .map(|text| {
            canvass_formats::ncvoter::parse_date(text.trim()).map_err(|reason| anyhow::anyhow!("--effective {reason}"))
        })
        .transpose()?;
    let operations = [Operation::DecideDuplicates, Operation::ChangeVoterStatus];
    let (decision, change) = with_roll(
        data,
        &jurisdiction,
        &arguments.staff,
        &arguments.unlock,
        &operations,
        async |store, signed_in, rings| Ok(duplicates::merge(store, rings, &signed_in.audit, &request).await?),
    )
    .await?;
    println!(
        "Merged: kept {}, {} is now {} ({}); decision {}.",
        request.first,
        change.registration_number,
        change.to.as_str(),
        change.reason.as_str(),
        decision.id
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn dismiss(data: &Path, arguments: &DismissArguments) -> anyhow::Result<ExitCode> {
    let jurisdiction = JurisdictionId::parse(&arguments.jurisdiction)?;
    let request = DecisionRequest::parse(
        jurisdiction.clone(),
        ("--first", &arguments.first),
        ("--second", &arguments.second),
        &arguments.reason,
    )?;
    let operations = [Operation::DecideDuplicates];
    let decision = with_roll(
        data,
        &jurisdiction,
        &arguments.staff,
        &arguments.unlock,
        &operations,
        async |store, signed_in, rings| Ok(duplicates::dismiss(store, rings, &signed_in.audit, &request).await?),
    )
    .await?;
    println!("Dismissed: {} and {} are different voters; decision {}.", decision.first, decision.second, decision.id);
    Ok(ExitCode::SUCCESS)
}
